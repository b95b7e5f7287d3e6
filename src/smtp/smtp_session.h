/*
 * The SMTP session, shared by the files of src/smtp/ only.
 */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
	SMTP_STATE_SASL = 1 << 8,	/* reading a SASL response line */
};

enum smtp_sasl_step {
	SMTP_SASL_NONE,
	SMTP_SASL_PLAIN,		/* waiting for the PLAIN response */
	SMTP_SASL_LOGIN_USER,		/* sent "334 VXNlcm5hbWU6" (Username:) */
	SMTP_SASL_LOGIN_PASS,		/* sent "334 UGFzc3dvcmQ6" (Password:) */
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

	/* submission (587/465, RFC 6409) and local submission (tern sendmail) */
	bool submission;		/* MSA rules: AUTH first, owned senders only */
	bool is_local;		/* SERVICE_LOCAL: a local user, trusted */
	bool trusted;			/* may relay: authenticated, or local */
	uid_t peer_uid;			/* local: the client's uid (SO_PEERCRED) */
	int64_t account_id;		/* authenticated account, 0 if none */
	struct buf auth_user;		/* the authcid given, for logs */
	enum smtp_sasl_step sasl_step;
	unsigned auth_failures;

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
	/* the header block of a submitted message, held back until it ends
	 * so that missing fields can be added in front of it (smtp_submit.c) */
	struct buf header;
	size_t header_scan;		/* header_block_end() resume point */
	bool header_done;		/* later content goes straight to the spool */
	const char *submit_error;	/* static reply to give at the end of data */
};

/* Sends one reply line: "code status text" (status may be NULL). */
void smtp_reply(struct smtp_session *s, int code, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void smtp_enter_state(struct smtp_session *s, enum smtp_state state);
/* Counts a protocol error; closes the session after too many. */
void smtp_count_error(struct smtp_session *s);
/* Ends the session after the queued replies are written. */
void smtp_close(struct smtp_session *s, const char *reason);
/* Ends the transaction (after RSET, HELO, delivery or failure). */
void smtp_transaction_reset(struct smtp_session *s);
/* Resumes command processing after an asynchronous step. */
void smtp_resume(struct smtp_session *s);

/* ---- smtp_auth.c: AUTH PLAIN and LOGIN (RFC 4954) on submission ---- */
/* True if AUTH may be used now: a submission port, over TLS (or loopback
 * when plaintext_auth_loopback allows it). */
bool smtp_auth_offered(struct smtp_session *s);
void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd);
/* A line read in SMTP_STATE_SASL (it may hold a password: wipe it after). */
void smtp_auth_response(struct smtp_session *s, const char *line, size_t len);
/* Forgets the login (after STARTTLS, RFC 3207 4.2). */
void smtp_auth_forget(struct smtp_session *s);

/* ---- smtp_submit.c: the MSA's checks and header fixes (RFC 6409) ---- */
/* MAIL on a submission port: AUTH first. Returns -1 after replying. */
int smtp_submit_check_auth(struct smtp_session *s);
/* The parsed MAIL sender must belong to the account. -1 after replying. */
int smtp_submit_check_sender(struct smtp_session *s);
/* True if content passes through smtp_submit_sink (submission, local). */
bool smtp_submit_active(const struct smtp_session *s);
/* Data sink that holds the header block back, checks From: and adds
 * Message-ID:, Date: (and From:) before it goes to the spool. */
int smtp_submit_sink(void *ctx, const char *data, size_t len);
/* End of content: handles a message that is all header. Returns the
 * reply to refuse the message with, or NULL. */
const char *smtp_submit_finish(struct smtp_session *s);
void smtp_submit_reset(struct smtp_session *s);

/* Starts content reception (after 354 or at the first BDAT). */
void smtp_content_begin(struct smtp_session *s, bool dot_stuffed);
/* Writes the Received trace header (RFC 5321 4.4) into the spool. */
void smtp_write_received(struct smtp_session *s);
/* The content is complete: store it, then reply. */
void smtp_deliver(struct smtp_session *s);

#endif
