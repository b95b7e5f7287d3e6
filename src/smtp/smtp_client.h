/*
 * The SMTP client (RFC 5321 from the sending side): one connection to
 * one server address, driven on the loop thread. It greets (EHLO, HELO on
 * a 5xx), starts TLS as policy asks (RFC 3207) and greets again,
 * authenticates to a relay (RFC 4954 PLAIN or LOGIN), then runs
 * transactions: MAIL FROM with SIZE/BODY/SMTPUTF8, RCPT TO for each
 * recipient (pipelined when offered, RFC 2920), DATA streamed from the
 * blob with dot-stuffing. Every step has the RFC 5321 4.5.3.2 timeout.
 *
 * The caller (the queue) owns the client. Callbacks come from the loop;
 * smtp_client_free() may be called from inside them (the free is
 * deferred).
 */
#ifndef TERN_SMTP_CLIENT_H
#define TERN_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "smtp/smtp_reply.h"

struct event_base;
struct smtp_client;
typedef struct ssl_ctx_st SSL_CTX;

enum smtp_client_tls {
	SMTP_CLIENT_TLS_NONE,		/* never STARTTLS */
	SMTP_CLIENT_TLS_OPPORTUNISTIC,	/* STARTTLS when offered, no verification */
	SMTP_CLIENT_TLS_VERIFY,		/* STARTTLS required, chain valid for tls_name */
	SMTP_CLIENT_TLS_IMPLICIT,	/* TLS from the first byte (relay on 465) */
};

/* RFC 5321 4.5.3.2 timeouts in seconds. */
struct smtp_client_timeouts {
	unsigned greeting, mail, rcpt, data_init, data_block, data_term;
};

struct smtp_client_config {
	const char *helo;		/* borrowed: our name in EHLO */
	const char *tls_name;		/* borrowed: server name for SNI and checks */
	enum smtp_client_tls tls;
	bool tls_verify;		/* for IMPLICIT: verify too */
	SSL_CTX *ssl_ctx;		/* borrowed; NULL means TLS_NONE */
	const char *auth_user;		/* borrowed, or NULL: no AUTH */
	const char *auth_pass;		/* borrowed */
	struct smtp_client_timeouts timeouts;
	unsigned connect_timeout;
	const char *log_id;		/* borrowed: for log lines */
};

/* A server's answer, or the client's own view of a failure (code 0: the
 * connection failed or broke; enhanced then is 4.4.x). */
struct smtp_client_reply {
	int code;
	char enhanced[16];
	char *text;		/* owned: the reply text, lines joined with "; " */
	const char *stage;	/* static: "connect", "greeting", "MAIL FROM", ... */
};

struct smtp_client_msg {
	const char *sender;		/* borrowed; "" for <> */
	const char *const *rcpts;	/* borrowed */
	size_t n_rcpts;
	const char *data;		/* borrowed: inline contents, or NULL and */
	size_t data_len;
	const char *path;		/* borrowed: ...the blob file */
	uint64_t size;
	bool eightbit, smtputf8;
};

/* err is NULL when the session is ready for smtp_client_send(); else the
 * session failed before any transaction (the client is dead). */
typedef void smtp_client_ready_fn(void *ctx, const struct smtp_client_reply *err);
/* One transaction ended: results[i] decides msg->rcpts[i] (2xx delivered,
 * 4xx or code 0 retry, 5xx bounce). Borrowed for the call. alive says
 * whether another transaction may follow on this connection. */
typedef void smtp_client_done_fn(void *ctx, const struct smtp_client_reply *results, size_t n,
				 bool alive);

/* Connects to sa and sets up the session; ready follows. */
struct smtp_client *smtp_client_new(struct event_base *base, const struct sockaddr *sa,
				    socklen_t len, const struct smtp_client_config *cfg,
				    smtp_client_ready_fn *ready, smtp_client_done_fn *done,
				    void *ctx);
/* What the server offered in its last EHLO (all false after HELO). */
const struct smtp_ehlo *smtp_client_ehlo(struct smtp_client *c);
/* "ip:port" of the server, and whether TLS is on. */
const char *smtp_client_peer(struct smtp_client *c);
bool smtp_client_tls_active(struct smtp_client *c);
/* Runs one transaction (RSET first if one ran before); msg and its
 * strings must stay valid until done is called. */
void smtp_client_send(struct smtp_client *c, const struct smtp_client_msg *msg);
/* Sends QUIT and closes; no more callbacks. Frees c (deferred). */
void smtp_client_quit(struct smtp_client **c);
/* Drops the connection at once; no more callbacks. */
void smtp_client_free(struct smtp_client **c);

/* Default RFC 5321 4.5.3.2 timeouts. */
void smtp_client_default_timeouts(struct smtp_client_timeouts *t);

#endif
