/*
 * A mailbox's messages as IMAP sees them: loading the list a session keeps
 * in memory, the changes since a MODSEQ (new mail, flag changes, expunges
 * from any session or protocol), flag updates with CONDSTORE's
 * UNCHANGEDSINCE, expunge, copy and move, stored metadata, full-text
 * search and quota.
 *
 * Every change takes a new MODSEQ from its mailbox (RFC 7162 3.1.1); the
 * messages changed by one operation share it.
 */
#include "store/store_internal.h"
#include "core/buf.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define MSG_COLUMNS "id, blob_id, uid, flags, keywords, modseq, size, received"

static void msg_from_row(sqlite3_stmt *st, struct store_msg *m)
{
	m->id = sqlite3_column_int64(st, 0);
	m->blob_id = sqlite3_column_int64(st, 1);
	m->uid = (uint32_t)sqlite3_column_int64(st, 2);
	m->flags = (uint32_t)sqlite3_column_int64(st, 3);
	m->keywords = (uint64_t)sqlite3_column_int64(st, 4);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 5);
	m->size = (uint64_t)sqlite3_column_int64(st, 6);
	m->received = sqlite3_column_int64(st, 7);
}

static int load_msgs(struct store *s, const char *sql, int64_t mailbox_id, uint64_t since,
		     struct store_msg **msgs_r, size_t *n_r)
{
	struct store_msg *msgs = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc;

	*msgs_r = NULL;
	*n_r = 0;
	if ((st = store_prepare(s, sql)) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, (int64_t)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			msgs = xrealloc(msgs, cap * sizeof(*msgs));
		}
		msg_from_row(st, &msgs[n++]);
	}
	store_finish(s, st);
	if (rc != SQLITE_DONE) {
		free(msgs);
		return store_fail_db(s, "message list");
	}
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

int store_msgs_load(struct store *s, int64_t mailbox_id, struct store_msg **msgs_r, size_t *n_r)
{
	return load_msgs(s, "SELECT " MSG_COLUMNS " FROM messages WHERE mailbox_id = ?1"
			 " AND ?2 = 0 ORDER BY uid", mailbox_id, 0, msgs_r, n_r);
}

int store_msgs_changed(struct store *s, int64_t mailbox_id, uint64_t since,
		       struct store_msg **msgs_r, size_t *n_r)
{
	return load_msgs(s, "SELECT " MSG_COLUMNS " FROM messages WHERE mailbox_id = ?1"
			 " AND modseq > ?2 ORDER BY uid", mailbox_id, since, msgs_r, n_r);
}

static void apply_op(enum store_flag_op op, uint32_t flags, uint64_t keywords,
		     struct store_flag_result *r)
{
	switch (op) {
	case STORE_FLAGS_SET:
		r->flags = flags;
		r->keywords = keywords;
		break;
	case STORE_FLAGS_ADD:
		r->flags |= flags;
		r->keywords |= keywords;
		break;
	case STORE_FLAGS_REMOVE:
		r->flags &= ~flags;
		r->keywords &= ~keywords;
		break;
	}
}

/* Reads one message's flags for a STORE; 0 when the uid is gone. */
static int read_flags(struct store *s, sqlite3_stmt *st, int64_t mailbox_id, uint32_t uid,
		      struct store_flag_result *r)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail_db(s, "flags read");
	memset(r, 0, sizeof(*r));
	r->uid = uid;
	r->flags = (uint32_t)sqlite3_column_int64(st, 0);
	r->keywords = (uint64_t)sqlite3_column_int64(st, 1);
	r->modseq = (uint64_t)sqlite3_column_int64(st, 2);
	return 1;
}

static int write_flags(struct store *s, sqlite3_stmt *st, int64_t mailbox_id,
		       const struct store_flag_result *r)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, r->uid);
	sqlite3_bind_int64(st, 3, r->flags);
	sqlite3_bind_int64(st, 4, (int64_t)r->keywords);
	sqlite3_bind_int64(st, 5, (int64_t)r->modseq);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail_db(s, "flags write");
}

int store_flags_update(struct store *s, int64_t mailbox_id, const uint32_t *uids, size_t n,
		       enum store_flag_op op, uint32_t flags, uint64_t keywords,
		       uint64_t unchangedsince, struct store_flag_result **results_r, size_t *n_r)
{
	struct store_flag_result *res = xcalloc(n ? n : 1, sizeof(*res));
	sqlite3_stmt *rd = NULL, *wr = NULL;
	uint64_t modseq = 0;
	uint32_t old_flags;
	uint64_t old_kw;
	size_t i, k = 0;
	int ret = -1, found;

	if ((rd = store_prepare(s, "SELECT flags, keywords, modseq FROM messages"
			       " WHERE mailbox_id = ?1 AND uid = ?2")) == NULL ||
	    (wr = store_prepare(s, "UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5"
			       " WHERE mailbox_id = ?1 AND uid = ?2")) == NULL) {
		store_fail_db(s, "prepare");
		goto out;
	}
	for (i = 0; i < n; i++) {
		found = read_flags(s, rd, mailbox_id, uids[i], &res[k]);
		if (found < 0)
			goto out;
		if (found == 0)
			continue;
		struct store_flag_result *r = &res[k++];

		if (unchangedsince != 0 && r->modseq > unchangedsince) {
			r->refused = true;	/* RFC 7162 3.1.3 */
			continue;
		}
		old_flags = r->flags;
		old_kw = r->keywords;
		apply_op(op, flags & STORE_FLAGS_ALL, keywords, r);
		if (r->flags == old_flags && r->keywords == old_kw)
			continue;
		if (modseq == 0 && store_mailbox_bump(s, mailbox_id, &modseq) < 0)
			goto out;
		r->modseq = modseq;
		r->changed = true;
		if (write_flags(s, wr, mailbox_id, r) < 0)
			goto out;
	}
	ret = 0;
out:
	store_finish(s, rd);
	store_finish(s, wr);
	if (ret < 0) {
		free(res);
		res = NULL;
		k = 0;
	}
	*results_r = res;
	*n_r = k;
	return ret;
}

/* Removes one message row; 0 if the uid is gone. Fills its blob id. */
static int delete_one(struct store *s, sqlite3_stmt *st, int64_t mailbox_id, uint32_t uid,
		      int64_t *blob_id_r)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail_db(s, "message delete");
	*blob_id_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 1;
}

int store_msgs_expunge(struct store *s, int64_t mailbox_id, const uint32_t *uids, size_t n,
		       uint32_t **expunged_r, size_t *n_expunged_r,
		       char ***unlink_r, size_t *n_unlink_r)
{
	uint32_t *done = xcalloc(n ? n : 1, sizeof(*done));
	sqlite3_stmt *st;
	uint64_t modseq = 0;
	int64_t blob_id = 0;
	size_t i, k = 0;
	int found = 0;

	if ((st = store_prepare(s, "DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2"
			       " RETURNING blob_id")) == NULL) {
		free(done);
		return store_fail_db(s, "prepare");
	}
	for (i = 0; i < n; i++) {
		found = delete_one(s, st, mailbox_id, uids[i], &blob_id);
		if (found < 0)
			break;
		if (found == 0)
			continue;
		if ((modseq == 0 && store_mailbox_bump(s, mailbox_id, &modseq) < 0) ||
		    store_expunged_add(s, mailbox_id, uids[i], modseq) < 0 ||
		    store_blob_unref(s, blob_id, unlink_r, n_unlink_r) < 0) {
			found = -1;
			break;
		}
		done[k++] = uids[i];
	}
	store_finish(s, st);
	if (found < 0) {
		free(done);
		return -1;
	}
	*expunged_r = done;
	*n_expunged_r = k;
	return 0;
}

/* Maps a keyword mask of src onto dst's keyword list (adding names). */
static int remap_keywords(struct store *s, int64_t src, int64_t dst, uint64_t mask,
			  uint64_t *mask_r)
{
	struct store_mailbox mb = { .id = src };
	sqlite3_stmt *st;
	const char *names[STORE_KEYWORDS_MAX];
	char *list = NULL, *save = NULL, *w;
	size_t n = 0;
	int i = 0, ret;

	*mask_r = 0;
	if (mask == 0)
		return 0;
	if ((st = store_prepare(s, "SELECT keywords FROM mailboxes WHERE id = ?1")) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, mb.id);
	if (sqlite3_step(st) == SQLITE_ROW)
		list = store_column_dup(st, 0);
	store_finish(s, st);
	for (w = list ? strtok_r(list, " ", &save) : NULL; w != NULL && i < STORE_KEYWORDS_MAX;
	     w = strtok_r(NULL, " ", &save), i++) {
		if (mask & (1ULL << i))
			names[n++] = w;
	}
	ret = store_mailbox_keywords(s, dst, names, n, mask_r);
	free(list);
	return ret;
}

static int copy_one(struct store *s, int64_t src, int64_t dst, uint32_t uid, uint32_t new_uid,
		    uint64_t modseq, bool *found_r)
{
	sqlite3_stmt *st;
	uint64_t kw = 0, new_kw;
	int rc;

	*found_r = false;
	if ((st = store_prepare(s, "SELECT keywords FROM messages WHERE mailbox_id = ?1"
			       " AND uid = ?2")) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, src);
	sqlite3_bind_int64(st, 2, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		kw = (uint64_t)sqlite3_column_int64(st, 0);
	store_finish(s, st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : store_fail_db(s, "copy read");
	if (remap_keywords(s, src, dst, kw, &new_kw) < 0)
		return -1;
	if ((st = store_prepare(s, "INSERT INTO messages (mailbox_id, uid, blob_id, prefix,"
			       " size, received, flags, modseq, queue_id, keywords) SELECT ?3, ?4,"
			       " blob_id, prefix, size, received, flags, ?5, queue_id, ?6 FROM"
			       " messages WHERE mailbox_id = ?1 AND uid = ?2")) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, src);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, dst);
	sqlite3_bind_int64(st, 4, new_uid);
	sqlite3_bind_int64(st, 5, (int64_t)modseq);
	sqlite3_bind_int64(st, 6, (int64_t)new_kw);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "copy insert");
	*found_r = true;
	return store_exec_id(s, "UPDATE blobs SET refs = refs + 1 WHERE id ="
			     " (SELECT blob_id FROM messages WHERE rowid = ?1)",
			     sqlite3_last_insert_rowid(s->db));
}

int store_msgs_copy(struct store *s, int64_t src_mailbox, int64_t dst_mailbox,
		    const uint32_t *uids, size_t n, bool move, uint32_t **src_uids_r,
		    uint32_t **dst_uids_r, size_t *n_r, char ***unlink_r, size_t *n_unlink_r)
{
	uint32_t *src = xcalloc(n ? n : 1, sizeof(*src));
	uint32_t *dst = xcalloc(n ? n : 1, sizeof(*dst));
	uint32_t first, *gone = NULL;
	uint64_t modseq;
	size_t i, k = 0, n_gone = 0;
	bool found;

	if (n == 0 || store_mailbox_next_uids(s, dst_mailbox, (uint32_t)n, &first, &modseq) < 0)
		goto fail_or_empty;
	for (i = 0; i < n; i++) {
		if (copy_one(s, src_mailbox, dst_mailbox, uids[i], first + (uint32_t)k, modseq,
			     &found) < 0)
			goto fail;
		if (found) {
			src[k] = uids[i];
			dst[k] = first + (uint32_t)k;
			k++;
		}
	}
	/* unused reserved UIDs are simply skipped: UIDs need only ascend */
	if (move && store_msgs_expunge(s, src_mailbox, src, k, &gone, &n_gone, unlink_r,
				       n_unlink_r) < 0)
		goto fail;
	free(gone);
	*src_uids_r = src;
	*dst_uids_r = dst;
	*n_r = k;
	return 0;
fail_or_empty:
	if (n == 0) {
		*src_uids_r = src;
		*dst_uids_r = dst;
		*n_r = 0;
		return 0;
	}
fail:
	free(src);
	free(dst);
	return -1;
}

/* No metadata row (the message came before indexing, or its parse
 * failed): 0 with empty fields if the blob itself exists. */
static int meta_missing(struct store *s, int64_t blob_id, int rc)
{
	sqlite3_stmt *st;

	if (rc != SQLITE_DONE)
		return store_fail_db(s, "blob metadata");
	st = store_stmt(s, STMT_BLOB_EXISTS);
	sqlite3_bind_int64(st, 1, blob_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? store_fail(s, "blob %lld is gone", (long long)blob_id)
				 : store_fail_db(s, "blob metadata");
}

int store_blob_meta_get(struct store *s, int64_t blob_id, struct store_blob_meta_row *row)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_META_GET);
	int rc;

	memset(row, 0, sizeof(*row));
	row->sent_date = -1;
	sqlite3_bind_int64(st, 1, blob_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return meta_missing(s, blob_id, rc);
	}
	row->envelope = store_column_dup(st, 0);
	row->bodystructure = store_column_dup(st, 1);
	row->body = store_column_dup(st, 2);
	row->sent_date = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
	row->base_subject = store_column_dup(st, 4);
	row->sort_from = store_column_dup(st, 5);
	row->sort_to = store_column_dup(st, 6);
	row->sort_cc = store_column_dup(st, 7);
	row->message_id = store_column_dup(st, 8);
	row->thread_refs = store_column_dup(st, 9);
	sqlite3_reset(st);
	return 0;
}

int store_blob_imap_get(struct store *s, int64_t blob_id, struct store_blob_meta_row *row)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_IMAP_GET);
	int rc;

	memset(row, 0, sizeof(*row));
	row->sent_date = -1;
	sqlite3_bind_int64(st, 1, blob_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row->envelope = store_column_dup(st, 0);
		row->bodystructure = store_column_dup(st, 1);
		row->body = store_column_dup(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : meta_missing(s, blob_id, rc);
}

void store_blob_meta_row_free(struct store_blob_meta_row *row)
{
	free(row->envelope);
	free(row->bodystructure);
	free(row->body);
	free(row->base_subject);
	free(row->sort_from);
	free(row->sort_to);
	free(row->sort_cc);
	free(row->message_id);
	free(row->thread_refs);
	memset(row, 0, sizeof(*row));
}

/* An FTS5 phrase: the needle in double quotes, quotes doubled. */
static char *fts_phrase(const char *needle)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	buf_append_char(&b, '"');
	for (p = needle; *p != '\0'; p++) {
		if (*p == '"')
			buf_append_char(&b, '"');
		buf_append_char(&b, *p);
	}
	buf_append_char(&b, '"');
	return buf_steal(&b, NULL);
}

/* A queued blob's row in blob_text may be stale (its id reused). */
#define NOT_QUEUED " AND blob_id NOT IN (SELECT blob_id FROM text_queue)"

static const char *text_search_sql(enum store_text_field field, bool use_index)
{
	/* The MATCH runs once, as a list subquery; joined per message it ran
	 * the whole FTS query once per message of the mailbox (150x slower
	 * over 10,000 messages). */
	static const char *const indexed[] = {
		[STORE_TEXT_HEADERS] = "SELECT uid FROM messages WHERE mailbox_id = ?1 AND blob_id IN"
			" (SELECT rowid FROM blob_text WHERE headers MATCH ?2)" NOT_QUEUED " ORDER BY uid",
		[STORE_TEXT_BODY] = "SELECT uid FROM messages WHERE mailbox_id = ?1 AND blob_id IN"
			" (SELECT rowid FROM blob_text WHERE body MATCH ?2)" NOT_QUEUED " ORDER BY uid",
		[STORE_TEXT_ANY] = "SELECT uid FROM messages WHERE mailbox_id = ?1 AND blob_id IN"
			" (SELECT rowid FROM blob_text WHERE blob_text MATCH ?2)" NOT_QUEUED
			" ORDER BY uid",
	};
	/* the trigram index cannot match under 3 characters: scan */
	static const char *const scan[] = {
		[STORE_TEXT_HEADERS] = "SELECT m.uid FROM messages m JOIN blob_text t ON t.rowid ="
			" m.blob_id WHERE m.mailbox_id = ?1 AND instr(lower(t.headers), lower(?2))"
			NOT_QUEUED " ORDER BY m.uid",
		[STORE_TEXT_BODY] = "SELECT m.uid FROM messages m JOIN blob_text t ON t.rowid ="
			" m.blob_id WHERE m.mailbox_id = ?1 AND instr(lower(t.body), lower(?2))"
			NOT_QUEUED " ORDER BY m.uid",
		[STORE_TEXT_ANY] = "SELECT m.uid FROM messages m JOIN blob_text t ON t.rowid ="
			" m.blob_id WHERE m.mailbox_id = ?1 AND (instr(lower(t.headers), lower(?2))"
			" OR instr(lower(t.body), lower(?2)))" NOT_QUEUED " ORDER BY m.uid",
	};
	return use_index ? indexed[field] : scan[field];
}

int store_search_text(struct store *s, int64_t mailbox_id, enum store_text_field field,
		      const char *needle, uint32_t **uids_r, size_t *n_r)
{
	bool use_index = strlen(needle) >= 3;
	char *phrase = use_index ? fts_phrase(needle) : xstrdup(needle);
	uint32_t *uids = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	*uids_r = NULL;
	*n_r = 0;
	if ((st = store_prepare(s, text_search_sql(field, use_index))) == NULL) {
		free(phrase);
		return store_fail_db(s, "prepare");
	}
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_text(st, 2, phrase, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((n & (n - 1)) == 0)
			uids = xrealloc(uids, (n ? n * 2 : 16) * sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	store_finish(s, st);
	free(phrase);
	if (rc != SQLITE_DONE) {
		free(uids);
		return store_fail_db(s, "text search");
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int store_quota_limit(struct store *s, int64_t account_id, uint64_t *limit_r)
{
	sqlite3_stmt *st;
	int rc;

	*limit_r = 0;
	if ((st = store_prepare(s, "SELECT quota FROM accounts WHERE id = ?1")) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, account_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*limit_r = (uint64_t)sqlite3_column_int64(st, 0);
	store_finish(s, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail_db(s, "quota");
}

int store_quota_get(struct store *s, int64_t account_id, uint64_t *limit_r, uint64_t *used_r,
		    uint64_t *messages_r)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prepare(s, "SELECT a.quota, coalesce(sum(m.size), 0), count(m.id)"
			       " FROM accounts a LEFT JOIN mailboxes mb ON mb.account_id = a.id"
			       " LEFT JOIN messages m ON m.mailbox_id = mb.id WHERE a.id = ?1"
			       " GROUP BY a.id")) == NULL)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, account_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*limit_r = (uint64_t)sqlite3_column_int64(st, 0);
		*used_r = (uint64_t)sqlite3_column_int64(st, 1);
		*messages_r = (uint64_t)sqlite3_column_int64(st, 2);
	}
	store_finish(s, st);
	if (rc == SQLITE_DONE)
		return store_fail(s, "account %lld does not exist", (long long)account_id);
	return rc == SQLITE_ROW ? 0 : store_fail_db(s, "quota");
}
