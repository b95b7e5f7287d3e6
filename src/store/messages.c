/*
 * Message rows: delivery into INBOX, listing, reading and deleting. A
 * message row points at a blob shared by every recipient of the same
 * contents; its prefix holds the recipient's own header lines.
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text != NULL)
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
}

int store_blob_meta_set(struct store *s, int64_t blob_id, const struct store_blob_meta *m)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_META_SET);

	sqlite3_bind_int64(st, 1, blob_id);
	bind_text_or_null(st, 2, m->envelope ? m->envelope : "NIL");
	bind_text_or_null(st, 3, m->bodystructure);
	bind_text_or_null(st, 4, m->body);
	if (m->sent_date >= 0)
		sqlite3_bind_int64(st, 5, m->sent_date);
	bind_text_or_null(st, 6, m->base_subject);
	bind_text_or_null(st, 7, m->sort_from);
	bind_text_or_null(st, 8, m->sort_to);
	bind_text_or_null(st, 9, m->sort_cc);
	bind_text_or_null(st, 10, m->message_id);
	bind_text_or_null(st, 11, m->thread_refs);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "blob metadata");
	return store_text_queue(s, blob_id);
}

/* Inserts the blob or adds refs to an identical one; returns its id. */
static int64_t blob_upsert(struct store *s, struct store_blob *b, int64_t refs)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_UPSERT);
	const char *file;
	bool needs_meta;
	int64_t id;

	sqlite3_bind_blob(st, 1, b->hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)b->size);
	sqlite3_bind_int64(st, 3, refs);
	if (b->data != NULL)
		sqlite3_bind_blob64(st, 4, b->data, b->size, SQLITE_STATIC);
	if (b->file != NULL)
		sqlite3_bind_text(st, 5, b->file, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail_db(s, "blob insert");
	id = sqlite3_column_int64(st, 0);
	file = (const char *)sqlite3_column_text(st, 1);
	b->file_unused_r = b->file != NULL && (file == NULL || strcmp(file, b->file) != 0);
	needs_meta = sqlite3_column_int(st, 2) != 0;
	sqlite3_reset(st);
	if (needs_meta && b->meta != NULL && store_blob_meta_set(s, id, b->meta) < 0)
		return -1;
	return id;
}

int store_mailbox_next_uids(struct store *s, int64_t mailbox_id, uint32_t n, uint32_t *first_r,
			    uint64_t *modseq_r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MAILBOX_NEXT_UID);

	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, n);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail(s, "mailbox %lld does not exist", (long long)mailbox_id);
	*first_r = (uint32_t)sqlite3_column_int64(st, 1);
	*modseq_r = (uint64_t)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	/* RFC 9051 2.3.1.1: UIDs are 32-bit; running out needs a new
	 * UIDVALIDITY, which we refuse to do silently */
	if ((uint64_t)*first_r + n > UINT32_MAX)
		return store_fail(s, "mailbox %lld has run out of UIDs", (long long)mailbox_id);
	return 0;
}

int store_mailbox_bump(struct store *s, int64_t mailbox_id, uint64_t *modseq_r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MAILBOX_BUMP);

	sqlite3_bind_int64(st, 1, mailbox_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail(s, "mailbox %lld does not exist", (long long)mailbox_id);
	*modseq_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int insert_message(struct store *s, struct store_delivery *d, int64_t blob_id,
			  struct store_delivery_rcpt *r, int64_t mailbox_id, uint32_t uid,
			  uint64_t modseq)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MESSAGE_INSERT);

	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, blob_id);
	sqlite3_bind_blob(st, 4, r->prefix ? r->prefix : "", (int)r->prefix_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)(r->prefix_len + d->blob.size));
	sqlite3_bind_int64(st, 6, d->received);
	sqlite3_bind_int64(st, 7, (int64_t)modseq);
	sqlite3_bind_text(st, 8, d->queue_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->flags & STORE_FLAGS_ALL);
	sqlite3_bind_int64(st, 10, (int64_t)r->keywords);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "message insert");
	r->uid_r = uid;
	r->mailbox_id_r = mailbox_id;
	return 0;
}

static int deliver_local(struct store *s, struct store_delivery *d, int64_t blob_id,
			 struct store_delivery_rcpt *r)
{
	sqlite3_stmt *st;
	int64_t mailbox_id;
	uint32_t uid;
	uint64_t modseq;

	if (r->mailbox_id != 0) {
		if (store_mailbox_next_uids(s, r->mailbox_id, 1, &uid, &modseq) < 0)
			return -1;
		return insert_message(s, d, blob_id, r, r->mailbox_id, uid, modseq);
	}
	st = store_stmt(s, STMT_INBOX_NEXT_UID);
	sqlite3_bind_int64(st, 1, r->account_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail(s, "account %lld has no INBOX", (long long)r->account_id);
	mailbox_id = sqlite3_column_int64(st, 0);
	uid = (uint32_t)sqlite3_column_int64(st, 1);
	modseq = (uint64_t)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return insert_message(s, d, blob_id, r, mailbox_id, uid, modseq);
}

static int deliver_remote(struct store *s, struct store_delivery *d, int64_t blob_id,
			  const char *rcpt)
{
	sqlite3_stmt *st = store_stmt(s, STMT_QUEUE_INSERT);

	sqlite3_bind_text(st, 1, d->queue_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, blob_id);
	sqlite3_bind_text(st, 3, d->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, d->received);
	sqlite3_bind_int(st, 6, d->smtputf8);
	sqlite3_bind_int(st, 7, d->eightbit);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "queue insert");
	return 0;
}

int store_deliver(struct store *s, struct store_delivery *d)
{
	int64_t blob_id;
	size_t i;

	blob_id = blob_upsert(s, &d->blob, (int64_t)(d->n_rcpts + d->n_remote));
	if (blob_id < 0)
		return -1;
	for (i = 0; i < d->n_rcpts; i++) {
		if (deliver_local(s, d, blob_id, &d->rcpts[i]) < 0)
			return -1;
	}
	for (i = 0; i < d->n_remote; i++) {
		if (deliver_remote(s, d, blob_id, d->remote[i]) < 0)
			return -1;
	}
	return 0;
}

int store_inbox_list(struct store *s, int64_t account_id, int64_t *uidvalidity_r,
		     struct store_message **msgs_r, size_t *n_r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_LIST);
	struct store_message *msgs = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*uidvalidity_r = 0;
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			msgs = xrealloc(msgs, cap * sizeof(*msgs));
		}
		msgs[n].id = sqlite3_column_int64(st, 0);
		msgs[n].uid = (uint32_t)sqlite3_column_int64(st, 1);
		msgs[n].size = (uint64_t)sqlite3_column_int64(st, 2);
		*uidvalidity_r = sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(msgs);
		return store_fail_db(s, "inbox list");
	}
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

/* sqlite3_column_blob() gives NULL for an empty value. */
static char *blob_dup(const void *p, size_t len)
{
	return xstrndup(p != NULL ? p : "", len);
}

int store_message_body(struct store *s, int64_t id, struct store_message_body *body)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MESSAGE_BODY);
	const char *file;
	int rc;

	memset(body, 0, sizeof(*body));
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? store_fail(s, "message %lld is gone", (long long)id)
					 : store_fail_db(s, "message read");
	}
	body->prefix_len = (size_t)sqlite3_column_bytes(st, 0);
	body->prefix = blob_dup(sqlite3_column_blob(st, 0), body->prefix_len);
	file = (const char *)sqlite3_column_text(st, 2);
	if (file != NULL) {
		body->path = store_blob_file_path(s->data_dir, file);
	} else {
		body->data_len = (size_t)sqlite3_column_bytes(st, 1);
		body->data = blob_dup(sqlite3_column_blob(st, 1), body->data_len);
	}
	sqlite3_reset(st);
	return 0;
}

void store_message_body_free(struct store_message_body *body)
{
	free(body->prefix);
	free(body->data);
	free(body->path);
	memset(body, 0, sizeof(*body));
}

int store_blob_unref(struct store *s, int64_t blob_id, char ***unlink_r, size_t *n_unlink_r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOB_UNREF);
	const char *file;
	int64_t refs;

	sqlite3_bind_int64(st, 1, blob_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_fail_db(s, "blob unref");
	refs = sqlite3_column_int64(st, 0);
	file = (const char *)sqlite3_column_text(st, 1);
	if (refs <= 0 && file != NULL) {
		*unlink_r = xrealloc(*unlink_r, (*n_unlink_r + 1) * sizeof(**unlink_r));
		(*unlink_r)[(*n_unlink_r)++] = store_blob_file_path(s->data_dir, file);
	}
	sqlite3_reset(st);
	if (refs > 0)
		return 0;
	st = store_stmt(s, STMT_BLOB_DELETE_UNUSED);
	sqlite3_bind_int64(st, 1, blob_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "blob delete");
	st = store_stmt(s, STMT_BLOB_META_DELETE);
	sqlite3_bind_int64(st, 1, blob_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "blob metadata delete");
	return store_text_queue(s, blob_id);
}

int store_messages_delete(struct store *s, int64_t account_id, const int64_t *ids, size_t n,
			  char ***unlink_r, size_t *n_unlink_r)
{
	sqlite3_stmt *st;
	int64_t blob_id, mailbox_id, last_mailbox = 0;
	uint64_t modseq = 0;
	uint32_t uid;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		st = store_stmt(s, STMT_MESSAGE_DELETE);
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, account_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			continue;	/* already gone: deleting twice is fine */
		if (rc != SQLITE_ROW)
			return store_fail_db(s, "message delete");
		blob_id = sqlite3_column_int64(st, 0);
		mailbox_id = sqlite3_column_int64(st, 1);
		uid = (uint32_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (mailbox_id != last_mailbox && store_mailbox_bump(s, mailbox_id, &modseq) < 0)
			return -1;
		last_mailbox = mailbox_id;
		if (store_expunged_add(s, mailbox_id, uid, modseq) < 0 ||
		    store_blob_unref(s, blob_id, unlink_r, n_unlink_r) < 0)
			return -1;
	}
	return 0;
}

/* Deletes every message of account_id (inside the caller's transaction). */
static int delete_all_messages(struct store *s, int64_t account_id, char ***unlink_r,
			       size_t *n_unlink_r)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc, ret;

	if (sqlite3_prepare_v2(s->db, "SELECT m.id FROM messages m JOIN mailboxes mb ON"
			       " mb.id = m.mailbox_id WHERE mb.account_id = ?1", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	ret = rc == SQLITE_DONE ? store_messages_delete(s, account_id, ids, n, unlink_r, n_unlink_r)
				: store_fail_db(s, "message list");
	free(ids);
	return ret;
}

static int delete_account_rows(struct store *s, int64_t id)
{
	static const char *const sql[] = {
		("DELETE FROM expunged WHERE mailbox_id IN"
		 " (SELECT id FROM mailboxes WHERE account_id = ?1)"),
		"DELETE FROM mailboxes WHERE account_id = ?1",
		"DELETE FROM app_passwords WHERE account_id = ?1",
		"DELETE FROM recovery_codes WHERE account_id = ?1",
		"DELETE FROM logins WHERE account_id = ?1",
		"DELETE FROM accounts WHERE id = ?1",
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(sql); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return store_fail_db(s, "prepare");
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return store_fail_db(s, "account delete");
	}
	return 0;
}

int store_account_remove(struct store *s, const char *address)
{
	char **unlink_paths = NULL;
	size_t n_unlink = 0, i;
	int64_t id;
	int found, ret = -1;

	if (store_begin(s) < 0)
		return -1;
	found = store_account_lookup(s, address, &id, NULL);
	if (found == 0)
		store_fail(s, "user %s does not exist", address);
	if (found == 1 && delete_all_messages(s, id, &unlink_paths, &n_unlink) == 0 &&
	    delete_account_rows(s, id) == 0)
		ret = store_commit(s);
	if (ret < 0)
		store_rollback(s);
	for (i = 0; i < n_unlink; i++) {
		if (ret == 0)
			unlink(unlink_paths[i]);
		free(unlink_paths[i]);
	}
	free(unlink_paths);
	return ret;
}
