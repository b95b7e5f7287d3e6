/*
 * The POP3 session, shared by the files of src/pop3/ only.
 */
#ifndef TERN_POP3_SESSION_H
#define TERN_POP3_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "daemon/server.h"
#include "store/store.h"

enum pop3_state {
	POP3_STATE_TLS = 1 << 0,	/* implicit TLS handshake before greeting */
	POP3_STATE_AUTH = 1 << 1,	/* AUTHORIZATION */
	POP3_STATE_SASL = 1 << 2,	/* AUTH PLAIN waiting for its response */
	POP3_STATE_TRANS = 1 << 3,	/* TRANSACTION */
	POP3_STATE_BUSY = 1 << 4,	/* login check, RETR stream, or UPDATE */
	POP3_STATE_CLOSING = 1 << 5,
};

/* A RETR or TOP being written out. */
struct pop3_stream {
	struct store_message_body body;
	int fd;			/* blob file, or -1 */
	size_t pos;		/* offset in prefix, then in data/file */
	bool in_prefix;
	int at_line_start;
	bool top;		/* TOP: stop after the header and body_lines */
	bool in_body;
	uint64_t body_lines;
	size_t line_bytes;	/* octets of the current line so far */
	bool last_cr;
	bool done;
};

struct pop3_session {
	struct server_session ss;	/* first: the server's handle */
	struct server *srv;		/* borrowed */
	struct conn *conn;		/* owned */
	enum pop3_state state;
	unsigned bad_commands;
	unsigned auth_failures;
	bool discarding_line;
	struct buf user;		/* from USER, until PASS */
	int64_t account_id;
	char lock_key[24];		/* set while holding the mailbox */
	struct store_message *msgs;	/* owned: the maildrop snapshot */
	size_t n_msgs;
	bool *deleted;			/* owned */
	int64_t uidvalidity;
	struct pop3_stream stream;
	bool streaming;
};

void pop3_reply(struct pop3_session *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pop3_enter_state(struct pop3_session *s, enum pop3_state state);
void pop3_close(struct pop3_session *s, const char *reason);
void pop3_resume(struct pop3_session *s);

/* Starts writing message n (1-based) in full, or its header and `lines`
 * body lines for TOP. */
void pop3_retr_start(struct pop3_session *s, size_t n, bool top, uint64_t lines);
/* Writes more of the message being streamed (output drained). */
void pop3_retr_continue(struct pop3_session *s);
void pop3_stream_free(struct pop3_stream *st);

#endif
