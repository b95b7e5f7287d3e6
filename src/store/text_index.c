/*
 * The full-text index (blob_text, FTS5 trigram) is brought up to date
 * after the commits that change blobs, not inside them. A trigram entry
 * costs about 1 ms of CPU and writes per message, which held every
 * delivery, APPEND and EXPUNGE behind it. A change queues the blob's id in
 * text_queue in the same transaction; store_text_index() later looks at
 * what the blob is now (stored with its metadata, or gone) and makes
 * blob_text match. Until then search reads those messages themselves
 * (store_text_pending).
 */
#include "store/store_internal.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pages of segment merging per store_text_index() call: a few ms. */
#define TEXT_MERGE_PAGES 32

int store_text_queue(struct store *s, int64_t blob_id)
{
	return store_exec_id(s, "INSERT OR IGNORE INTO text_queue (blob_id) VALUES (?1)", blob_id);
}

/* Runs extract on the file's contents (mapped). -1 if it cannot be read. */
static int extract_file(const char *path, store_text_fn *extract, struct buf *headers,
			struct buf *body)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		extract("", 0, headers, body);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	extract(map, (size_t)st.st_size, headers, body);
	munmap(map, (size_t)st.st_size);
	return 0;
}

/* Makes blob_text's row for blob_id match the blob: its text when the
 * blob is stored with its metadata (what search treats as indexed), no
 * row when it is gone. */
static int index_one(struct store *s, int64_t blob_id, store_text_fn *extract)
{
	sqlite3_stmt *st;
	struct buf headers, body;
	char *path = NULL;
	int rc, ret = 0;
	bool found;

	st = store_prepare(s, "SELECT b.data, b.file FROM blobs b JOIN blob_meta m"
			   " ON m.blob_id = b.id WHERE b.id = ?1");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, blob_id);
	buf_init(&headers, 0);
	buf_init(&body, 0);
	rc = sqlite3_step(st);
	found = rc == SQLITE_ROW;
	if (found && sqlite3_column_type(st, 1) != SQLITE_NULL)
		path = store_blob_file_path(s->data_dir, (const char *)sqlite3_column_text(st, 1));
	else if (found)
		extract(sqlite3_column_blob(st, 0) ? sqlite3_column_blob(st, 0) : "",
			(size_t)sqlite3_column_bytes(st, 0), &headers, &body);
	store_finish(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail_db(s, "text index read");
	else if (path != NULL && extract_file(path, extract, &headers, &body) < 0)
		log_warn("store: blob %lld (%s) unreadable; not in the search index",
			 (long long)blob_id, path);
	if (ret == 0 && found) {
		st = store_stmt(s, STMT_BLOB_TEXT_INSERT);
		sqlite3_bind_int64(st, 1, blob_id);
		sqlite3_bind_text(st, 2, headers.data ? headers.data : "", (int)headers.len, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, body.data ? body.data : "", (int)body.len, SQLITE_STATIC);
	} else if (ret == 0) {
		st = store_stmt(s, STMT_BLOB_TEXT_DELETE);
		sqlite3_bind_int64(st, 1, blob_id);
	}
	if (ret == 0) {
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = store_fail_db(s, "text index write");
		sqlite3_reset(st);	/* FTS5 keeps cursors of its own open until then */
	}
	free(path);
	buf_deinit(&headers);
	buf_deinit(&body);
	if (ret == 0)
		ret = store_exec_id(s, "DELETE FROM text_queue WHERE blob_id = ?1", blob_id);
	return ret;
}

/* Up to max queued blob ids, in id order. */
static int queued_ids(struct store *s, unsigned max, int64_t *ids, unsigned *n_r)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT blob_id FROM text_queue LIMIT ?1");
	int rc;

	*n_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, (int)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n_r)++] = sqlite3_column_int64(st, 0);
	store_finish(s, st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "text queue");
}

/* One bounded step of merging FTS5 segments (automerge is off, schema 7):
 * about TEXT_MERGE_PAGES pages written, on levels that have filled up (a
 * term with a very long doclist can take longer). *merged_r: it did some
 * work, so more may be left. */
static int merge_step(struct store *s, bool *merged_r)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO blob_text (blob_text, rank)"
					 " VALUES ('merge', ?1)");
	int before = sqlite3_total_changes(s->db), rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, TEXT_MERGE_PAGES);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "text index merge");
	/* the command itself counts as one change; merged pages add more */
	*merged_r = sqlite3_total_changes(s->db) - before > 1;
	return 0;
}

int store_text_index(struct store *s, store_text_fn *extract, unsigned max, uint64_t budget_us,
		     bool *more_r)
{
	int64_t *ids = xmalloc((max ? max : 1) * sizeof(*ids));
	uint64_t t0 = time_mono_us();
	unsigned n = 0, i;
	bool merged;
	int ret;

	*more_r = false;
	ret = store_begin(s);
	if (ret == 0)
		ret = queued_ids(s, max, ids, &n);
	for (i = 0; i < n && ret == 0; i++) {
		if (i > 0 && time_mono_us() - t0 >= budget_us)
			break;
		ret = index_one(s, ids[i], extract);
	}
	/* merging goes on while the budget lasts and there is work */
	do {
		merged = false;
		if (ret == 0)
			ret = merge_step(s, &merged);
		*more_r = *more_r || merged;
	} while (ret == 0 && merged && time_mono_us() - t0 < budget_us);
	if (ret == 0)
		ret = store_commit(s);
	if (ret < 0)
		store_rollback(s);
	free(ids);
	if (ret == 0 && n > 0 && (i < n || n == max))
		*more_r = true;
	if (ret < 0)
		*more_r = false;
	return ret;
}

int store_text_pending(struct store *s, int64_t mailbox_id, int64_t **blob_ids_r, size_t *n_r)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	*blob_ids_r = NULL;
	*n_r = 0;
	st = store_prepare(s, "SELECT q.blob_id FROM text_queue q WHERE EXISTS (SELECT 1 FROM"
			   " messages m WHERE m.blob_id = q.blob_id AND m.mailbox_id = ?1)"
			   " ORDER BY q.blob_id");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((n & (n - 1)) == 0)
			ids = xrealloc(ids, (n ? n * 2 : 16) * sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	store_finish(s, st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return store_fail_db(s, "text queue");
	}
	*blob_ids_r = ids;
	*n_r = n;
	return 0;
}
