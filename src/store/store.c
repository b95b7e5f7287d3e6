/*
 * SQLite queries behind the store API (store.h). Statements used on hot
 * paths (delivery, lookups) are prepared once per connection and cached;
 * admin statements are prepared per call.
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_DOMAIN_ID] = "SELECT id FROM domains WHERE name = ?1",
	[STMT_ACCOUNT_LOOKUP] = "SELECT a.id, a.password FROM accounts a "
		"JOIN domains d ON d.id = a.domain_id WHERE d.name = ?1 AND a.localpart = ?2",
	[STMT_ALIAS_TARGETS] = "SELECT target FROM aliases WHERE domain_id = ?1 AND localpart = ?2 "
		"ORDER BY id",
	[STMT_BLOB_UPSERT] = "INSERT INTO blobs (hash, size, refs, data, file) VALUES (?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT (hash) DO UPDATE SET refs = refs + excluded.refs "
		"RETURNING id, file, NOT EXISTS (SELECT 1 FROM blob_meta WHERE blob_id = blobs.id)",
	[STMT_BLOB_META_SET] = "INSERT OR REPLACE INTO blob_meta (blob_id, envelope, bodystructure, "
		"body, sent_date, base_subject, sort_from, sort_to, sort_cc, message_id, thread_refs) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[STMT_BLOB_META_DELETE] = "DELETE FROM blob_meta WHERE blob_id = ?1",
	[STMT_BLOB_TEXT_INSERT] = "INSERT OR REPLACE INTO blob_text (rowid, headers, body) "
		"VALUES (?1, ?2, ?3)",
	[STMT_BLOB_TEXT_DELETE] = "DELETE FROM blob_text WHERE rowid = ?1",
	[STMT_MAILBOX_NEXT_UID] = "UPDATE mailboxes SET uidnext = uidnext + ?2, "
		"highestmodseq = highestmodseq + 1 WHERE id = ?1 "
		"RETURNING id, uidnext - ?2, highestmodseq",
	[STMT_MAILBOX_BUMP] = "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 "
		"WHERE id = ?1 RETURNING highestmodseq",
	[STMT_BLOB_META_GET] = "SELECT envelope, bodystructure, body, sent_date, base_subject, "
		"sort_from, sort_to, sort_cc, message_id, thread_refs FROM blob_meta WHERE blob_id = ?1",
	[STMT_BLOB_IMAP_GET] = "SELECT envelope, bodystructure, body FROM blob_meta WHERE blob_id = ?1",
	[STMT_BLOB_EXISTS] = "SELECT 1 FROM blobs WHERE id = ?1",
	[STMT_EXPUNGED_INSERT] = "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) "
		"VALUES (?1, ?2, ?3)",
	[STMT_INBOX_NEXT_UID] = "UPDATE mailboxes SET uidnext = uidnext + 1, "
		"highestmodseq = highestmodseq + 1 WHERE account_id = ?1 AND name = 'INBOX' "
		"RETURNING id, uidnext - 1, highestmodseq",
	[STMT_MESSAGE_INSERT] = "INSERT INTO messages (mailbox_id, uid, blob_id, prefix, size, "
		"received, modseq, queue_id, flags, keywords) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[STMT_QUEUE_INSERT] = "INSERT INTO queue (queue_id, blob_id, sender, recipient, created, "
		"next_attempt, smtputf8, eightbit) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
	[STMT_INBOX_LIST] = "SELECT m.id, m.uid, m.size, mb.uidvalidity FROM mailboxes mb "
		"JOIN messages m ON m.mailbox_id = mb.id "
		"WHERE mb.account_id = ?1 AND mb.name = 'INBOX' ORDER BY m.uid",
	[STMT_MESSAGE_BODY] = "SELECT m.prefix, b.data, b.file FROM messages m "
		"JOIN blobs b ON b.id = m.blob_id WHERE m.id = ?1",
	[STMT_MESSAGE_DELETE] = "DELETE FROM messages WHERE id = ?1 AND mailbox_id IN "
		"(SELECT id FROM mailboxes WHERE account_id = ?2) RETURNING blob_id, mailbox_id, uid",
	[STMT_BLOB_UNREF] = "UPDATE blobs SET refs = refs - 1 WHERE id = ?1 RETURNING refs, file",
	[STMT_BLOB_DELETE_UNUSED] = "DELETE FROM blobs WHERE id = ?1 AND refs <= 0",
};

int store_fail(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return -1;
}

int store_fail_db(struct store *s, const char *what)
{
	return store_fail(s, "%s: %s", what, sqlite3_errmsg(s->db));
}

const char *store_error(struct store *s)
{
	return s->error;
}

const char *store_data_dir(struct store *s)
{
	return s->data_dir;
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id)
{
	sqlite3_stmt *st = s->stmts[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->stmts[id], NULL) != SQLITE_OK)
			fatal("store: cannot prepare statement %d: %s", (int)id, sqlite3_errmsg(s->db));
		return s->stmts[id];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static unsigned sql_hash(const char *sql)
{
	unsigned h = 2166136261u;	/* FNV-1a */

	for (; *sql != '\0'; sql++)
		h = (h ^ (unsigned char)*sql) * 16777619u;
	return h;
}

/* The cache slot holding sql, or the free slot where it would go, or -1. */
static int cache_slot(struct store *s, const char *sql)
{
	unsigned h = sql_hash(sql);
	int i, k;

	for (i = 0; i < STORE_STMT_CACHE; i++) {
		k = (int)((h + (unsigned)i) % STORE_STMT_CACHE);
		if (s->cache[k].sql == NULL || strcmp(s->cache[k].sql, sql) == 0)
			return k;
	}
	return -1;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql)
{
	int k = cache_slot(s, sql);
	sqlite3_stmt *st;

	if (k >= 0 && s->cache[k].sql != NULL && !sqlite3_stmt_busy(s->cache[k].st)) {
		sqlite3_reset(s->cache[k].st);
		sqlite3_clear_bindings(s->cache[k].st);
		return s->cache[k].st;
	}
	/* not cached, cache full, or in use further up the stack: a fresh one */
	if (sqlite3_prepare_v3(s->db, sql, -1, k >= 0 && s->cache[k].sql == NULL ?
			       SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
		store_fail_db(s, "prepare");
		return NULL;
	}
	if (k >= 0 && s->cache[k].sql == NULL) {
		s->cache[k].sql = xstrdup(sql);
		s->cache[k].st = st;
	}
	return st;
}

void store_finish(struct store *s, sqlite3_stmt *st)
{
	int k;

	if (st == NULL)
		return;
	k = cache_slot(s, sqlite3_sql(st));
	if (k >= 0 && s->cache[k].st == st)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
}

/* One statement through the cache, no rows expected. */
static int exec_cached(struct store *s, const char *sql)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_fail_db(s, sql);
	store_finish(s, st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_fail(s, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_exec_id(struct store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prepare(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_fail_db(s, "update");
	store_finish(s, st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_begin(struct store *s) { return exec_cached(s, "BEGIN IMMEDIATE"); }

int store_commit(struct store *s) { return exec_cached(s, "COMMIT"); }

int store_savepoint(struct store *s) { return exec_cached(s, "SAVEPOINT job"); }

int store_release(struct store *s) { return exec_cached(s, "RELEASE job"); }

void store_read_begin(struct store *s)
{
	if (s->read_depth++ > 0 || !sqlite3_get_autocommit(s->db))
		return;
	/* if BEGIN fails, each read simply runs on its own */
	s->read_txn = exec_cached(s, "BEGIN") == 0;
}

void store_read_end(struct store *s)
{
	if (s->read_depth == 0 || --s->read_depth > 0 || !s->read_txn)
		return;
	s->read_txn = false;
	if (store_commit(s) < 0)
		store_rollback(s);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void store_rollback_savepoint(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK TO job; RELEASE job", NULL, NULL, NULL);
}

static int make_layout(const char *data_dir, char **error_r)
{
	static const char *const subdirs[] = { "", "/blobs", "/tmp" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(subdirs); i++) {
		char *path = xasprintf("%s%s", data_dir, subdirs[i]);
		int ret = mkdir(path, 0700);

		if (ret < 0 && errno != EEXIST) {
			*error_r = xasprintf("cannot create %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

static int store_configure(struct store *s)
{
	sqlite3_busy_timeout(s->db, 10000);
	/* WAL with synchronous=FULL: each COMMIT fsyncs the WAL, which is the
	 * durability rule; many deliveries share one COMMIT (committer.c). */
	if (!s->readonly && store_exec(s, "PRAGMA journal_mode = WAL") < 0)
		return -1;
	/* No mmap_size: a reader unmaps the whole map whenever another
	 * connection has committed (pagerBeginReadTransaction), which under
	 * the committer's steady commits cost more than the pread()s saved. */
	return store_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
			  "PRAGMA cache_size = -4096");
}

/* SQLite's memory statistics take a process-wide mutex on every malloc,
 * which the loop, the committer and the workers then fight over. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *store_open(const char *data_dir, int flags, char **error_r)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	struct store *s;
	char *path;
	int oflags;

	pthread_once(&once, sqlite_setup);
	if ((flags & STORE_OPEN_CREATE) && make_layout(data_dir, error_r) < 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->data_dir = xstrdup(data_dir);
	s->readonly = (flags & STORE_OPEN_READONLY) != 0;
	path = xasprintf("%s/tern.db", data_dir);
	oflags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (flags & STORE_OPEN_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*error_r = xasprintf("cannot open %s: %s", path,
				     s->db ? sqlite3_errmsg(s->db) : "out of memory");
		free(path);
		store_close(&s);
		return NULL;
	}
	free(path);
	if (store_configure(s) < 0 ||
	    (!s->readonly && store_schema_migrate(s) < 0)) {
		*error_r = xasprintf("%s/tern.db: %s", data_dir, s->error);
		store_close(&s);
		return NULL;
	}
	return s;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	for (i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->data_dir);
	free(s->expunged_dirty);
	free(s);
	*sp = NULL;
}

int store_stats(struct store *s, struct store_stats *out)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT (SELECT count(*) FROM domains), (SELECT count(*) FROM accounts),"
			       " (SELECT count(*) FROM aliases), (SELECT count(*) FROM messages),"
			       " (SELECT count(*) FROM blobs), (SELECT count(*) FROM queue)",
			       -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "stats");
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->domains = sqlite3_column_int64(st, 0);
		out->accounts = sqlite3_column_int64(st, 1);
		out->aliases = sqlite3_column_int64(st, 2);
		out->messages = sqlite3_column_int64(st, 3);
		out->blobs = sqlite3_column_int64(st, 4);
		out->queued = sqlite3_column_int64(st, 5);
	} else {
		ret = store_fail_db(s, "stats");
	}
	sqlite3_finalize(st);
	return ret;
}
