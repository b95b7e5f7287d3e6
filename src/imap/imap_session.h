/*
 * The IMAP session, shared by the command files of src/imap/ only.
 *
 * One command runs at a time. A command handler validates its arguments
 * (BAD on error), then either answers at once or starts a job on the
 * committer (or the worker pool) and returns; the job's done callback
 * finishes the command with imap_done(). Input is paused meanwhile, so
 * pipelined commands wait in the input buffer.
 *
 * The selected mailbox is a struct imap_view: the session's own copy of
 * the message list (UIDs, flags, MODSEQs), which gives message sequence
 * numbers their meaning. imap_view_sync() brings it up to date with the
 * store and sends EXISTS/EXPUNGE/FETCH/VANISHED as the protocol allows.
 */
#ifndef TERN_IMAP_SESSION_H
#define TERN_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "daemon/server.h"
#include "imap/imap_parse.h"
#include "imap/imap_seqset.h"
#include "store/store.h"

#define IMAP_TAG_MAX 64
/* Messages in one MULTIAPPEND (RFC 3502) larger than inline literals. */
#define IMAP_EXT_LITERALS_MAX 64

enum imap_state {
	IMAP_STATE_TLS = 1 << 0,	/* implicit TLS handshake before greeting */
	IMAP_STATE_NOAUTH = 1 << 1,	/* not authenticated */
	IMAP_STATE_AUTH = 1 << 2,	/* authenticated, nothing selected */
	IMAP_STATE_SELECTED = 1 << 3,
	IMAP_STATE_LOGOUT = 1 << 4,	/* closing */
};

enum imap_wait {
	IMAP_WAIT_NONE,		/* reading commands */
	IMAP_WAIT_JOB,		/* a job for the current command is running */
	IMAP_WAIT_SASL,		/* AUTHENTICATE waits for the client's response */
	IMAP_WAIT_IDLE,		/* IDLE waits for DONE */
	IMAP_WAIT_LITERAL,	/* APPEND is taking a big literal */
	IMAP_WAIT_TLS,		/* STARTTLS handshake */
	IMAP_WAIT_OUTPUT,	/* a long reply is being streamed */
};

/* The selected mailbox as this session sees it. */
struct imap_view {
	struct store_mailbox mb;	/* owned */
	bool readonly;			/* EXAMINE */
	struct store_msg *msgs;		/* shared (imap_view_own); sorted by UID; seq = index + 1 */
	size_t n;
	size_t cap;
	uint32_t recent_above;		/* UIDs above this are \Recent here */
	uint64_t modseq;		/* changes up to here are in msgs */
	uint64_t expunge_modseq;	/* expunges up to here are applied */
	char **keywords;		/* owned: the mailbox's keyword names */
	size_t n_keywords;
	bool changed;			/* the store told us it changed */
};

struct imap_session;
struct imap_cmd;

typedef void imap_cmd_fn(struct imap_session *s, struct imap_cursor *cur);

/* Command flags: the states it runs in and how it treats sync. */
enum imap_cmd_flags {
	IMAP_CMD_NOAUTH = IMAP_STATE_NOAUTH,
	IMAP_CMD_AUTH = IMAP_STATE_AUTH,
	IMAP_CMD_SELECTED = IMAP_STATE_SELECTED,
	IMAP_CMD_ANY = IMAP_STATE_NOAUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED,
	IMAP_CMD_UID = 1 << 8,		/* also valid after "UID" */
	/* RFC 9051 7.5.1: no EXPUNGE while answering FETCH, STORE, SEARCH */
	IMAP_CMD_NO_EXPUNGE = 1 << 9,
};

struct imap_cmd {
	const char *name;
	imap_cmd_fn *handler;
	unsigned flags;
};

struct imap_session {
	struct server_session ss;	/* first: the server's handle */
	struct server *srv;		/* borrowed */
	struct conn *conn;		/* owned */
	enum imap_state state;
	enum imap_wait wait;
	struct imap_reader *reader;	/* owned */
	struct imap_args args;		/* owned: tokens of the current command */
	struct imap_limits limits;
	char tag[IMAP_TAG_MAX + 1];	/* the current command's tag */
	const struct imap_cmd *cmd;	/* the current command */
	bool uid;			/* current command is "UID ..." */
	unsigned bad_commands;
	unsigned auth_failures;
	int64_t account_id;		/* 0 until logged in */
	char *user;			/* owned: the login address */
	bool rev2;			/* ENABLE IMAP4rev2 */
	bool utf8;			/* ENABLE UTF8=ACCEPT (or rev2) */
	bool condstore;			/* ENABLE CONDSTORE or a CONDSTORE command */
	bool qresync;			/* ENABLE QRESYNC */
	struct imap_view *view;		/* owned: the selected mailbox, or NULL */
	struct buf *ext;		/* owned: APPEND literals taken whole */
	size_t n_ext;
	uint64_t ext_left;		/* bytes of ext[n_ext - 1] still to come */
	void *cmd_ctx;			/* owned by the running command */
	void (*cmd_ctx_free)(void *ctx);
};

/* ---- replies ---------------------------------------------------------- */
/* "* <text>\r\n" */
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Finishes the current command: syncs the view when allowed, writes
 * "<tag> OK|NO|BAD <text>", and reads the next command. */
void imap_done(struct imap_session *s, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A BAD reply that also counts toward max_bad_commands. */
void imap_bad(struct imap_session *s, const char *text);
void imap_enter_state(struct imap_session *s, enum imap_state state);
/* Sends "* BYE <reason>" and closes after writing. */
void imap_close(struct imap_session *s, const char *bye, const char *reason);
/* Starts a committer job for the current command; done runs on the loop
 * thread and must end with imap_done(). Keeps the session alive. */
void imap_submit(struct imap_session *s, int (*fn)(struct store *st, void *ctx),
		 void (*done)(struct imap_session *s, void *ctx, int result, const char *error),
		 void *ctx);
/* The same for flag-only changes (STORE, \Seen, \Recent): see
 * committer_submit_lazy(). */
void imap_submit_flags(struct imap_session *s, int (*fn)(struct store *st, void *ctx),
		       void (*done)(struct imap_session *s, void *ctx, int result,
				    const char *error), void *ctx);
/* Frees the APPEND literals of the current command. */
void imap_ext_literals_clear(struct imap_session *s);

/* ---- the view (imap_view.c) -------------------------------------------- */
int imap_view_open(struct imap_session *s, const struct store_mailbox *mb, bool readonly);
void imap_view_close(struct imap_session *s);
/* Call before changing v->msgs: the array may be shared with the mailbox
 * cache and other sessions (imap_msgs_own() in imap_cache.h). */
void imap_view_own(struct imap_view *v, size_t need);
/* Applies store changes; sends untagged updates. allow_expunge false
 * keeps expunged messages until a later sync. */
void imap_view_sync(struct imap_session *s, bool allow_expunge);
/* Picks up keywords new to the mailbox (sends FLAGS/PERMANENTFLAGS). */
void imap_view_reload_keywords(struct imap_session *s);
/* RFC 7162 3.2.5.1 and 3.2.6: "* VANISHED (EARLIER)" for the UIDs of
 * known (resolved) expunged after MODSEQ since. Where the mailbox's
 * expunge rows no longer reach back that far (store/expunged.c), it lists
 * every UID of known below UIDNEXT and above `above` (what seq-match-data
 * vouched for, 3.2.5.2) that is not in the mailbox: more than vanished,
 * which RFC 7162 5.3 allows. */
void imap_view_send_vanished_earlier(struct imap_session *s, uint64_t since,
				     const struct imap_seqset *known, uint32_t above);
/* Message index for a sequence number or UID; -1 if none. */
long imap_view_find_uid(const struct imap_view *v, uint32_t uid);
/* Resolves a sequence set (uid or seq per s->uid) into view indexes
 * (allocated, ascending). "$" is not supported and yields an error. */
int imap_view_indexes(struct imap_session *s, struct imap_seqset *set, size_t **idx_r,
		      size_t *n_r);
/* Writes "(\Seen \Flagged kw ...)" for message i (with \Recent). */
void imap_view_write_flags(struct imap_session *s, struct buf *out, size_t i);
/* IMAP_FLAG_* of imap_grammar.h -> STORE_FLAG_*. */
unsigned imap_flags_to_store(unsigned wire);
void imap_keywords_free(char **kw, size_t n);
/* The \Recent-free PERMANENTFLAGS/FLAGS untagged lines for SELECT. */
void imap_view_send_flags(struct imap_session *s);

/* ---- mailbox names ------------------------------------------------------ */
/* Decodes a mailbox argument (mUTF-7 unless UTF-8 is on) into UTF-8 in
 * out. Returns 0, or -1 after replying BAD/NO. */
int imap_mailbox_arg(struct imap_session *s, struct imap_cursor *cur, struct buf *out);

/* "CAPABILITY ..." for the current state (imap_auth.c). */
void imap_write_capabilities(struct imap_session *s, struct buf *b);

/* ---- command tables of the other files ------------------------------------ */
void imap_cmd_capability(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_noop(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_logout(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_starttls(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_login(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_authenticate(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_enable(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_id(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_compress(struct imap_session *s, struct imap_cursor *cur);
/* AUTHENTICATE's continuation line arrived. */
void imap_sasl_response(struct imap_session *s, const char *line, size_t len);

void imap_cmd_select(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_examine(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_create(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_delete(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_rename(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_subscribe(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_unsubscribe(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_list(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_lsub(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_namespace(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_status(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_getquota(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_getquotaroot(struct imap_session *s, struct imap_cursor *cur);

void imap_cmd_close(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_unselect(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_expunge(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_store(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_copy(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_move(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_idle(struct imap_session *s, struct imap_cursor *cur);
/* IDLE's DONE (or anything else) arrived. */
void imap_idle_line(struct imap_session *s, const char *line, size_t len);

void imap_cmd_fetch(struct imap_session *s, struct imap_cursor *cur);
/* Output drained while a FETCH waits to write more. */
void imap_fetch_output_drained(struct imap_session *s);
void imap_cmd_search(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_sort(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_thread(struct imap_session *s, struct imap_cursor *cur);
void imap_cmd_append(struct imap_session *s, struct imap_cursor *cur);

#endif
