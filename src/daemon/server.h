/*
 * The running daemon's shared state, handed to every protocol session: the
 * loop, the current config, the store connections, the worker pool, TLS,
 * connection accounting, and the list of live sessions (for graceful
 * shutdown and status). Everything here is used on the loop thread only.
 */
#ifndef TERN_DAEMON_SERVER_H
#define TERN_DAEMON_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

struct event_base;
struct store;
struct committer;
struct workers;
struct loop_inbox;
struct tls_ctx;
struct counter_map;
struct conn;
struct imap_cache;
struct auth;
struct queue;

/* Embedded in every protocol session; links it into the server's list. */
struct server_session {
	struct server_session *prev, *next;
	struct server *server;		/* borrowed */
	struct conn *conn;		/* the session's connection */
	/* Asks the session to finish its current transaction and close. */
	void (*shutdown)(struct server_session *ss);
	/* Optional: a mailbox of account_id changed (mailbox_id 0: any). */
	void (*changed)(struct server_session *ss, int64_t account_id, int64_t mailbox_id);
	/* Frees the session (called from the loop, never from its callbacks). */
	void (*free)(struct server_session *ss);
	unsigned pending_jobs;		/* worker/committer jobs in flight */
	bool released;			/* free once pending_jobs reaches 0 */
	char id[13];			/* session id for logs */
};

struct server_stats {
	uint64_t connections;
	uint64_t messages_accepted;
	uint64_t messages_rejected;
	uint64_t logins_ok;
	uint64_t logins_failed;
};

struct server {
	struct event_base *base;	/* borrowed */
	struct config *cfg;		/* owned; replaced on reload */
	char *data_dir;			/* owned; fixed for the daemon's life,
					   safe to read from worker threads */
	struct store *store;		/* owned; loop-thread connection */
	struct committer *committer;	/* owned */
	struct workers *workers;	/* owned */
	struct auth *auth;		/* owned: logins, brute-force limits */
	struct loop_inbox *inbox;	/* owned */
	struct tls_ctx *tls;		/* counted reference, or NULL */
	struct counter_map *per_ip;	/* owned: live connections per IP */
	struct counter_map *pop3_locks;	/* owned: account ids in a POP3 session */
	struct imap_cache *imap_cache;	/* owned: see imap/imap_cache.h */
	struct queue *queue;		/* owned: the outbound queue runner */
	unsigned n_sessions[SERVICE_COUNT];
	unsigned n_total;
	struct server_session *sessions;	/* list head */
	struct server_stats stats;
	int64_t started;
	bool shutting_down;
};

/* Registers a new session (its conn counts against the limits). */
void server_session_add(struct server *srv, struct server_session *ss, struct conn *conn);
/* Unlinks the session and frees it from the loop once no job is pending.
 * Safe to call from inside the session's own callbacks. */
void server_session_release(struct server_session *ss);
/* Tells every session that watches it that a mailbox changed (call on the
 * loop thread after the change committed). mailbox_id 0: any of the
 * account's mailboxes. */
void server_mailbox_changed(struct server *srv, int64_t account_id, int64_t mailbox_id);
/* A job for ss finished: call from its done callback. Returns false if the
 * session was released meanwhile (it is then freed here: do not touch it). */
bool server_session_job_done(struct server_session *ss);

#endif
