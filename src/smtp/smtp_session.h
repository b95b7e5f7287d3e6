/*
 * The SMTP session, shared by the files of src/smtp/ only.
 */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "daemon/server.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"
#include "store/spool.h"

enum smtp_state {
	SMTP_STATE_GREETING = 1 << 0,	/* connected, no EHLO/HELO yet */
	SMTP_STATE_READY = 1 << 1,	/* greeted, no transaction */
	SMTP_STATE_MAIL = 1 << 2,	/* MAIL accepted */
	SMTP_STATE_RCPT = 1 << 3,	/* at least one RCPT accepted */
	SMTP_STATE_DATA = 1 << 4,	/* reading DATA content */
	SMTP_STATE_BDAT = 1 << 5,	/* reading a BDAT chunk */
	SMTP_STATE_BUSY = 1 << 6,	/* waiting for the store or TLS */
	SMTP_STATE_CLOSING = 1 << 7,	/* last reply queued */
};

/* One local account a transaction delivers to. */
struct smtp_local_rcpt {
	int64_t account_id;
	char *address;		/* owned: the RCPT that first reached it */
};

struct smtp_session {
	struct server_session ss;	/* first: the server's handle */
	struct server *srv;		/* borrowed */
	struct conn *conn;		/* owned */
	enum smtp_state state;
	bool esmtp;
	char helo[256];
	unsigned bad_commands;
	bool discarding_line;		/* an overlong command is being skipped */

	/* the transaction */
	char queue_id[16];
	struct buf sender;		/* "" for the null sender */
	struct smtp_mail_params params;
	struct smtp_local_rcpt *local;	/* owned */
	size_t n_local;
	char **remote;			/* owned */
	size_t n_remote;
	unsigned n_rcpt;		/* RCPT commands accepted */
	char *first_rcpt;		/* owned: for the Received "for" clause */

	/* content */
	struct spool spool;
	bool spool_open;
	struct smtp_data_parser data;
	uint64_t bdat_left;		/* octets left in the current chunk */
	bool bdat_last;
	bool bdat_started;		/* a BDAT sequence is under way */
	bool bdat_failed;		/* an earlier chunk failed: discard */
	uint64_t data_started_ms;
};

/* Sends one reply line: "code status text" (status may be NULL). */
void smtp_reply(struct smtp_session *s, int code, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void smtp_enter_state(struct smtp_session *s, enum smtp_state state);
/* Ends the transaction (after RSET, HELO, delivery or failure). */
void smtp_transaction_reset(struct smtp_session *s);
/* Resumes command processing after an asynchronous step. */
void smtp_resume(struct smtp_session *s);

/* Starts content reception (after 354 or at the first BDAT). */
void smtp_content_begin(struct smtp_session *s, bool dot_stuffed);
/* Writes the Received trace header (RFC 5321 4.4) into the spool. */
void smtp_write_received(struct smtp_session *s);
/* The content is complete: store it, then reply. */
void smtp_deliver(struct smtp_session *s);

#endif
