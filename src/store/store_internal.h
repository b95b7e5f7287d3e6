/*
 * Shared between the store's own files; nothing outside src/store/
 * includes this.
 */
#ifndef TERN_STORE_INTERNAL_H
#define TERN_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

enum store_stmt {
	STMT_DOMAIN_ID,
	STMT_ACCOUNT_LOOKUP,
	STMT_ALIAS_TARGETS,
	STMT_BLOB_UPSERT,
	STMT_INBOX_NEXT_UID,
	STMT_MESSAGE_INSERT,
	STMT_QUEUE_INSERT,
	STMT_INBOX_LIST,
	STMT_MESSAGE_BODY,
	STMT_MESSAGE_DELETE,
	STMT_BLOB_UNREF,
	STMT_BLOB_DELETE_UNUSED,
	STMT_BLOB_META_SET,
	STMT_BLOB_META_DELETE,
	STMT_BLOB_TEXT_INSERT,
	STMT_BLOB_TEXT_DELETE,
	STMT_MAILBOX_NEXT_UID,
	STMT_MAILBOX_BUMP,
	STMT_EXPUNGED_INSERT,
	STMT_BLOB_META_GET,
	STMT_BLOB_IMAP_GET,
	STMT_BLOB_EXISTS,
	STMT_COUNT
};

#define STORE_STMT_CACHE 64	/* statements by SQL text (store_prepare) */

struct store {
	sqlite3 *db;
	char *data_dir;		/* owned */
	sqlite3_stmt *stmts[STMT_COUNT];	/* owned; prepared on first use */
	struct {
		char *sql;		/* owned */
		sqlite3_stmt *st;	/* owned */
	} cache[STORE_STMT_CACHE];
	unsigned read_depth;	/* store_read_begin() nesting */
	bool read_txn;		/* the outermost one opened a transaction */
	char error[512];
	bool readonly;
	/* mailboxes with expunges since the last store_expunged_prune() */
	int64_t *expunged_dirty;	/* owned */
	size_t n_expunged_dirty;
};

/* Records "what: sqlite message" as the store's error; returns -1. */
int store_fail_db(struct store *s, const char *what);
/* Records a formatted error; returns -1. */
int store_fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the cached statement, reset and with bindings cleared. */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id);
/* A prepared statement for sql, kept for the connection's life: reset and
 * with bindings cleared. Give it back with store_finish(). NULL (and the
 * store's error set) if sql does not compile. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql);
/* Resets a statement from store_prepare() (ending its read), or finalizes
 * it when it was not cached. */
void store_finish(struct store *s, sqlite3_stmt *st);
/* Queues blob_id for the full-text index (it was stored or deleted). */
int store_text_queue(struct store *s, int64_t blob_id);
/* Runs one statement with ?1 bound to id, expecting no rows. */
int store_exec_id(struct store *s, const char *sql, int64_t id);
/* Runs SQL without results. */
int store_exec(struct store *s, const char *sql);

/* Drops one reference to blob_id; its file (if it loses the last
 * reference) is appended to *unlink_r. */
int store_blob_unref(struct store *s, int64_t blob_id, char ***unlink_r, size_t *n_unlink_r);
/* Reserves n UIDs in mailbox_id and a new MODSEQ for them. */
int store_mailbox_next_uids(struct store *s, int64_t mailbox_id, uint32_t n, uint32_t *first_r,
			    uint64_t *modseq_r);
/* A new MODSEQ for a change in mailbox_id. */
int store_mailbox_bump(struct store *s, int64_t mailbox_id, uint64_t *modseq_r);
/* Records uid as expunged at modseq. */
int store_expunged_add(struct store *s, int64_t mailbox_id, uint32_t uid, uint64_t modseq);
/* sqlite3_column_text() copied (NULL stays NULL). */
char *store_column_dup(sqlite3_stmt *st, int col);

/* Creates or migrates the schema to STORE_SCHEMA_VERSION. */
int store_schema_migrate(struct store *s);

#endif
