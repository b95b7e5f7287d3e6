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

	/* 1 -> 2: IMAP (issue 3) and the outbound queue (issue 4).
	 * IMAP metadata depends only on the contents, so it lives with the
	 * blob and is computed once for every recipient; NULL envelope means
	 * "not computed yet" (blobs of schema 1), filled in on first use. */
	"ALTER TABLE accounts ADD COLUMN quota INTEGER NOT NULL DEFAULT 0;" /* bytes; 0: none */
	"ALTER TABLE mailboxes ADD COLUMN special_use TEXT;"	/* '\\Sent', ... */
	"ALTER TABLE mailboxes ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1;"
	/* keywords ever used in the mailbox, space-separated; a message's
	 * keywords are a bit mask over that list (bit i = i-th word) */
	"ALTER TABLE mailboxes ADD COLUMN keywords TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN keywords INTEGER NOT NULL DEFAULT 0;"
	/* RFC 3501 2.3.2 \\Recent: UIDs above this are recent for the next
	 * session that selects the mailbox, which then raises it */
	"ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;"
	"INSERT INTO mailboxes (account_id, name, uidvalidity, special_use)"
	" SELECT a.id, v.column1, (SELECT coalesce(max(uidvalidity), 0) FROM mailboxes)"
	" + row_number() OVER (),"
	" v.column2 FROM accounts a, (VALUES ('Drafts', '\\Drafts'), ('Sent', '\\Sent'),"
	" ('Trash', '\\Trash'), ('Junk', '\\Junk'), ('Archive', '\\Archive')) v"
	" WHERE NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.account_id = a.id"
	" AND m.name = v.column1);"
	"CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"
	"ALTER TABLE blobs ADD COLUMN envelope TEXT;"
	"ALTER TABLE blobs ADD COLUMN bodystructure TEXT;"
	"ALTER TABLE blobs ADD COLUMN body TEXT;"		/* non-extensible BODY */
	"ALTER TABLE blobs ADD COLUMN sent_date INTEGER;"	/* Date: header, or NULL */
	"ALTER TABLE blobs ADD COLUMN base_subject TEXT;"	/* RFC 5256 2.1 */
	"ALTER TABLE blobs ADD COLUMN sort_from TEXT;"
	"ALTER TABLE blobs ADD COLUMN sort_to TEXT;"
	"ALTER TABLE blobs ADD COLUMN sort_cc TEXT;"
	"ALTER TABLE blobs ADD COLUMN message_id TEXT;"
	"ALTER TABLE blobs ADD COLUMN thread_refs TEXT;"	/* References/In-Reply-To ids */
	/* rowid = blobs.id; trigram gives IMAP's substring semantics */
	"CREATE VIRTUAL TABLE blob_text USING fts5(headers, body, tokenize = 'trigram');"
	/* RFC 7162 3.2.5.2 / QRESYNC VANISHED: UIDs expunged and when */
	"CREATE TABLE expunged ("
	"  mailbox_id INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  modseq INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE queue ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE queue ADD COLUMN last_attempt INTEGER;"
	"ALTER TABLE queue ADD COLUMN smtputf8 INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE queue ADD COLUMN account_id INTEGER;"	/* submitting account */
	"CREATE INDEX queue_qid ON queue(queue_id);",

	/* 2 -> 3: account security (issue 5). A NULL totp_secret means
	 * two-factor is off; totp_last_step is the last RFC 6238 time step
	 * accepted, so each code works once. App passwords and recovery
	 * codes are high-entropy random strings stored as SHA-256 digests
	 * (src/auth/apppass.c says why a fast hash is enough). logins is the
	 * history the portal shows; the committer prunes it per account. */
	"ALTER TABLE accounts ADD COLUMN totp_secret TEXT;"	/* base32 */
	"ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE app_passwords ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER,"
	"  UNIQUE (account_id, name));"
	"CREATE TABLE recovery_codes ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  hash BLOB NOT NULL,"
	"  used INTEGER);"		/* time of use, or NULL */
	"CREATE INDEX recovery_codes_account ON recovery_codes(account_id);"
	"CREATE TABLE logins ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  protocol TEXT NOT NULL,"	/* imap, pop3, smtp, web */
	"  ip TEXT NOT NULL,"
	"  success INTEGER NOT NULL);"
	"CREATE INDEX logins_account ON logins(account_id, id);",

	/* 3 -> 4: the outbound queue needs to know, before DATA, whether the
	 * message has 8-bit content (RFC 6152 BODY=8BITMIME on MAIL FROM). */
	"ALTER TABLE queue ADD COLUMN eightbit INTEGER NOT NULL DEFAULT 0;",

	/* 4 -> 5: with foreign keys on, deleting a blob looks for the rows
	 * that still reference it; without these indexes every expunge
	 * scanned the whole messages table (and the queue). */
	"CREATE INDEX messages_blob ON messages(blob_id);"
	"CREATE INDEX queue_blob ON queue(blob_id);",

	/* 5 -> 6: IMAP metadata moves out of blobs. Columns added after
	 * `data` sat behind the message's overflow pages, so reading an
	 * ENVELOPE walked the whole message, and setting it rewrote it. The
	 * old columns stay, NULL (dropping them rewrites the table once per
	 * column). expunged gets the index QRESYNC and session sync read by. */
	"CREATE TABLE blob_meta ("
	"  blob_id INTEGER PRIMARY KEY,"	/* blobs.id */
	"  envelope TEXT NOT NULL,"
	"  bodystructure TEXT,"
	"  body TEXT,"
	"  sent_date INTEGER,"
	"  base_subject TEXT,"
	"  sort_from TEXT,"
	"  sort_to TEXT,"
	"  sort_cc TEXT,"
	"  message_id TEXT,"
	"  thread_refs TEXT);"
	"INSERT INTO blob_meta SELECT id, envelope, bodystructure, body, sent_date, base_subject,"
	" sort_from, sort_to, sort_cc, message_id, thread_refs FROM blobs"
	" WHERE envelope IS NOT NULL;"
	"UPDATE blobs SET envelope = NULL, bodystructure = NULL, body = NULL, sent_date = NULL,"
	" base_subject = NULL, sort_from = NULL, sort_to = NULL, sort_cc = NULL,"
	" message_id = NULL, thread_refs = NULL WHERE envelope IS NOT NULL;"
	"CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);",

	/* 6 -> 7: the full-text index is brought up to date after the
	 * commit, not in it: a trigram entry costs about 1 ms per message
	 * and held every delivery behind it. A row here means blob_text may
	 * be out of date for that blob (new, or gone); the committer works
	 * the table off when it is idle (text_index.c). */
	"CREATE TABLE text_queue (blob_id INTEGER PRIMARY KEY);"
	/* FTS5 merged segments when a write filled a level, tens of ms at a
	 * time, holding every job queued behind it; the indexer merges in
	 * bounded steps of its own instead ('merge', text_index.c) */
	"INSERT INTO blob_text (blob_text, rank) VALUES ('automerge', 0);",

	/* 7 -> 8: expunged rows are pruned (expunged.c); expunges at or below
	 * a mailbox's floor are no longer listed. */
	"ALTER TABLE mailboxes ADD COLUMN expunge_floor INTEGER NOT NULL DEFAULT 0;",
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
