/*
 * The schema and its forward migrations. PRAGMA user_version holds the
 * version; migrations[i] takes version i to i+1 and runs in one
 * transaction, so a crash mid-migration leaves the old version intact.
 * Never edit a migration that has shipped: add a new one.
 */
#include "store/store_internal.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>

static const char *const migrations[] = {
	/* 0 -> 1: the foundation */
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  localpart TEXT NOT NULL COLLATE NOCASE,"
	"  password TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (domain_id, localpart));"
	"CREATE TABLE aliases ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  localpart TEXT NOT NULL COLLATE NOCASE," /* '' is the catch-all */
	"  target TEXT NOT NULL COLLATE NOCASE,"
	"  UNIQUE (domain_id, localpart, target));"
	"CREATE TABLE mailboxes ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uidnext INTEGER NOT NULL DEFAULT 1,"
	"  highestmodseq INTEGER NOT NULL DEFAULT 1,"
	"  UNIQUE (account_id, name));"
	"CREATE TABLE blobs ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  size INTEGER NOT NULL,"
	"  refs INTEGER NOT NULL,"
	"  data BLOB,"		/* the contents, or NULL and then: */
	"  file TEXT);"		/* blobs/<file>, e.g. "ab/ab12...ef.k3x9" */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  uid INTEGER NOT NULL,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  prefix BLOB NOT NULL,"	/* Return-Path, Delivered-To */
	"  size INTEGER NOT NULL,"	/* length(prefix) + blobs.size */
	"  received INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  modseq INTEGER NOT NULL,"
	"  queue_id TEXT NOT NULL,"
	"  UNIQUE (mailbox_id, uid));"
	"CREATE TABLE queue ("
	"  id INTEGER PRIMARY KEY,"
	"  queue_id TEXT NOT NULL,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  sender TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  next_attempt INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT);"
	"CREATE INDEX queue_next ON queue(next_attempt);",
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION,
	       "STORE_SCHEMA_VERSION must match the migrations");

static int schema_version(struct store *s, int *version_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "reading schema version");
	rc = sqlite3_step(st);
	*version_r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_fail_db(s, "reading schema version");
}

int store_schema_migrate(struct store *s)
{
	int version, target = (int)ARRAY_SIZE(migrations);
	char sql[64];

	if (store_exec(s, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (schema_version(s, &version) < 0)
		goto fail;
	if (version > target) {
		store_fail(s, "database schema version %d is newer than this tern (%d); "
			   "upgrade tern", version, target);
		goto fail;
	}
	for (; version < target; version++) {
		if (store_exec(s, migrations[version]) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if (store_exec(s, sql) < 0)
			goto fail;
		log_info("store migrated schema to version %d", version + 1);
	}
	return store_exec(s, "COMMIT");
fail:
	store_rollback(s);
	return -1;
}
