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
	STMT_COUNT
};

struct store {
	sqlite3 *db;
	char *data_dir;		/* owned */
	sqlite3_stmt *stmts[STMT_COUNT];	/* owned; prepared on first use */
	char error[512];
	bool readonly;
};

/* Records "what: sqlite message" as the store's error; returns -1. */
int store_fail_db(struct store *s, const char *what);
/* Records a formatted error; returns -1. */
int store_fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the cached statement, reset and with bindings cleared. */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id);
/* Runs SQL without results. */
int store_exec(struct store *s, const char *sql);

/* Drops one reference to blob_id (messages.c); a blob file left without
 * references is appended to *unlink_r for removal after the commit. */
int store_blob_unref(struct store *s, int64_t blob_id, char ***unlink_r, size_t *n_unlink_r);

/* Creates or migrates the schema to STORE_SCHEMA_VERSION. */
int store_schema_migrate(struct store *s);

#endif
