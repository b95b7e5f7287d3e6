/*
 * The outbound queue's rows: one per remote recipient, each holding a
 * reference on its blob. The daemon reads due rows on the loop thread and
 * writes results through the committer; `tern queue` reads and edits rows
 * directly, in transactions of its own, while the daemon may run.
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROW_COLUMNS "q.id, q.queue_id, q.sender, q.recipient, q.last_error, q.blob_id, " \
	"b.size, q.created, q.next_attempt, coalesce(q.last_attempt, 0), q.attempts, " \
	"q.held, q.warned, q.smtputf8, q.eightbit FROM queue q JOIN blobs b ON b.id = q.blob_id "

static char *column_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t != NULL ? xstrdup(t) : NULL;
}

static void row_read(sqlite3_stmt *st, struct store_queue_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->queue_id = column_dup(st, 1);
	r->sender = column_dup(st, 2);
	r->recipient = column_dup(st, 3);
	r->last_error = column_dup(st, 4);
	r->blob_id = sqlite3_column_int64(st, 5);
	r->size = (uint64_t)sqlite3_column_int64(st, 6);
	r->created = sqlite3_column_int64(st, 7);
	r->next_attempt = sqlite3_column_int64(st, 8);
	r->last_attempt = sqlite3_column_int64(st, 9);
	r->attempts = sqlite3_column_int64(st, 10);
	r->held = sqlite3_column_int(st, 11) != 0;
	r->warned = sqlite3_column_int(st, 12) != 0;
	r->smtputf8 = sqlite3_column_int(st, 13) != 0;
	r->eightbit = sqlite3_column_int(st, 14) != 0;
	if (r->sender == NULL)
		r->sender = xstrdup("");
	if (r->queue_id == NULL)
		r->queue_id = xstrdup("");
	if (r->recipient == NULL)
		r->recipient = xstrdup("");
}

void store_queue_rows_free(struct store_queue_row **rowsp, size_t n)
{
	struct store_queue_row *rows = *rowsp;
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(rows[i].queue_id);
		free(rows[i].sender);
		free(rows[i].recipient);
		free(rows[i].last_error);
	}
	free(rows);
	*rowsp = NULL;
}

/* Runs a prepared row query to the end. Finalizes st. */
static int rows_collect(struct store *s, sqlite3_stmt *st, struct store_queue_row **rows_r,
			size_t *n_r)
{
	struct store_queue_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		row_read(st, &rows[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_queue_rows_free(&rows, n);
		return store_fail_db(s, "queue read");
	}
	*rows_r = rows;
	*n_r = n;
	return 0;
}

int store_queue_due(struct store *s, int64_t now, size_t limit, struct store_queue_row **rows_r,
		    size_t *n_r)
{
	sqlite3_stmt *st;

	*rows_r = NULL;
	*n_r = 0;
	/* In next_attempt order through the queue_next index, so a long
	 * queue costs only the rows asked for; rows of one message share
	 * next_attempt and so come together. */
	if (sqlite3_prepare_v2(s->db, "SELECT " ROW_COLUMNS "WHERE q.held = 0 AND "
			       "q.next_attempt <= ?1 ORDER BY q.next_attempt, q.queue_id, q.id "
			       "LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	return rows_collect(s, st, rows_r, n_r);
}

int store_queue_list(struct store *s, const char *queue_id, struct store_queue_row **rows_r,
		     size_t *n_r)
{
	sqlite3_stmt *st;

	*rows_r = NULL;
	*n_r = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT " ROW_COLUMNS "WHERE ?1 IS NULL OR q.queue_id = ?1 "
			       "ORDER BY q.created, q.queue_id, q.id", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	if (queue_id != NULL)
		sqlite3_bind_text(st, 1, queue_id, -1, SQLITE_STATIC);
	return rows_collect(s, st, rows_r, n_r);
}

int store_queue_next_due(struct store *s, int64_t *when_r)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT min(next_attempt) FROM queue WHERE held = 0", -1,
			       &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*when_r = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? found : store_fail_db(s, "queue next");
}

int store_queue_blob(struct store *s, int64_t blob_id, struct store_message_body *body)
{
	sqlite3_stmt *st;
	const char *file;
	const void *data;
	int rc;

	memset(body, 0, sizeof(*body));
	if (sqlite3_prepare_v2(s->db, "SELECT data, file FROM blobs WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, blob_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		file = (const char *)sqlite3_column_text(st, 1);
		if (file != NULL) {
			body->path = store_blob_file_path(s->data_dir, file);
		} else {
			data = sqlite3_column_blob(st, 0);
			body->data_len = (size_t)sqlite3_column_bytes(st, 0);
			body->data = xstrndup(data != NULL ? data : "", body->data_len);
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return store_fail(s, "blob %lld is gone", (long long)blob_id);
	return rc == SQLITE_ROW ? 0 : store_fail_db(s, "blob read");
}

int store_queue_remove(struct store *s, int64_t id, char ***unlink_r, size_t *n_unlink_r)
{
	sqlite3_stmt *st;
	int64_t blob_id;
	int rc;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM queue WHERE id = ?1 RETURNING blob_id", -1,
			       &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	blob_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "queue delete");
	if (blob_id == 0)
		return 0;	/* removed meanwhile (tern queue delete) */
	return store_blob_unref(s, blob_id, unlink_r, n_unlink_r);
}

/* Runs sql with up to three bindings (text, int64, int64); returns the
 * number of rows changed, or -1. */
static int queue_update(struct store *s, const char *sql, const char *text, int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "queue update");
	return sqlite3_changes(s->db);
}

int store_queue_defer(struct store *s, int64_t id, int64_t now, int64_t next_attempt,
		      const char *error)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE queue SET attempts = attempts + 1, last_error = ?1, "
			       "last_attempt = ?2, next_attempt = ?3 WHERE id = ?4", -1, &st,
			       NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_text(st, 1, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, next_attempt);
	sqlite3_bind_int64(st, 4, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "queue defer");
}

int store_queue_set_warned(struct store *s, int64_t id)
{
	return queue_update(s, "UPDATE queue SET warned = 1 WHERE id = ?2", NULL, id, 0) < 0 ? -1 : 0;
}

int store_queue_set_held(struct store *s, const char *queue_id, bool held)
{
	return queue_update(s, "UPDATE queue SET held = ?2 WHERE ?1 IS NULL OR queue_id = ?1",
			    queue_id, held, 0);
}

int store_queue_retry(struct store *s, const char *queue_id, int64_t now)
{
	return queue_update(s, "UPDATE queue SET next_attempt = ?2 WHERE held = 0 AND "
			    "(?1 IS NULL OR queue_id = ?1)", queue_id, now, 0);
}

int store_queue_delete(struct store *s, const char *queue_id)
{
	struct store_queue_row *rows = NULL;
	char **unlink_paths = NULL;
	size_t n = 0, n_unlink = 0, i;
	int ret = -1;

	if (store_begin(s) < 0)
		return -1;
	if (store_queue_list(s, queue_id, &rows, &n) == 0) {
		ret = 0;
		for (i = 0; i < n && ret == 0; i++)
			ret = store_queue_remove(s, rows[i].id, &unlink_paths, &n_unlink);
		if (ret == 0)
			ret = store_commit(s);
	}
	if (ret < 0)
		store_rollback(s);
	for (i = 0; i < n_unlink; i++) {
		if (ret == 0)
			unlink(unlink_paths[i]);
		free(unlink_paths[i]);
	}
	free(unlink_paths);
	store_queue_rows_free(&rows, n);
	return ret < 0 ? -1 : (int)n;
}
