/*
 * Mailboxes for IMAP: list, create (with parents), delete, rename (with
 * children; INBOX is special), subscriptions, counts for STATUS, the
 * \Recent marker and the per-mailbox keyword list.
 *
 * UIDVALIDITY is strictly increasing across the whole store, so a mailbox
 * deleted and created again under the same name never repeats one (RFC
 * 9051 2.3.1.1).
 */
#include "store/store_internal.h"
#include "core/buf.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAILBOX_COLUMNS "id, name, special_use, keywords, subscribed, uidvalidity, uidnext, " \
	"highestmodseq, recent_uid"

char *store_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

void store_mailbox_deinit(struct store_mailbox *mb)
{
	free(mb->name);
	free(mb->special_use);
	free(mb->keywords);
	memset(mb, 0, sizeof(*mb));
}

static void mailbox_from_row(sqlite3_stmt *st, struct store_mailbox *mb)
{
	mb->id = sqlite3_column_int64(st, 0);
	mb->name = store_column_dup(st, 1);
	mb->special_use = store_column_dup(st, 2);
	mb->keywords = store_column_dup(st, 3);
	mb->subscribed = sqlite3_column_int(st, 4) != 0;
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 5);
	mb->uidnext = (uint32_t)sqlite3_column_int64(st, 6);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(st, 7);
	mb->recent_uid = (uint32_t)sqlite3_column_int64(st, 8);
}

static sqlite3_stmt *prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st;

	if ((st = store_prepare(s, sql)) == NULL) {
		store_fail_db(s, "prepare");
		return NULL;
	}
	return st;
}

int store_mailbox_list(struct store *s, int64_t account_id, store_mailbox_fn *fn, void *ctx)
{
	sqlite3_stmt *st = prepare(s, "SELECT " MAILBOX_COLUMNS " FROM mailboxes"
				   " WHERE account_id = ?1 ORDER BY name");
	struct store_mailbox mb;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mailbox_from_row(st, &mb);
		fn(ctx, &mb);
		store_mailbox_deinit(&mb);
	}
	store_finish(s, st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "mailbox list");
}

/* RFC 9051 5.1: INBOX is case-insensitive, and so are its children's
 * first component ("inbox/a" is "INBOX/a"). */
static char *canonical_name(const char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/'))
		return xasprintf("INBOX%s", name + 5);
	return xstrdup(name);
}

int store_mailbox_get(struct store *s, int64_t account_id, const char *name,
		      struct store_mailbox *mb_r)
{
	sqlite3_stmt *st = prepare(s, "SELECT " MAILBOX_COLUMNS " FROM mailboxes"
				   " WHERE account_id = ?1 AND name = ?2");
	char *canon = canonical_name(name);
	int rc;

	memset(mb_r, 0, sizeof(*mb_r));
	if (st == NULL) {
		free(canon);
		return -1;
	}
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, canon, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		mailbox_from_row(st, mb_r);
	store_finish(s, st);
	free(canon);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "mailbox lookup");
}

/* Inserts one mailbox row; 0 when it existed already and !must_be_new. */
static int insert_mailbox(struct store *s, int64_t account_id, const char *name,
			  const char *special_use, int64_t *id_r)
{
	sqlite3_stmt *st = prepare(s, "INSERT INTO mailboxes (account_id, name, uidvalidity,"
				   " special_use) SELECT ?1, ?2, (SELECT max(unixepoch(),"
				   " coalesce(max(uidvalidity), 0) + 1) FROM mailboxes), ?3"
				   " ON CONFLICT DO NOTHING");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (special_use != NULL)
		sqlite3_bind_text(st, 3, special_use, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "mailbox insert");
	if (sqlite3_changes(s->db) == 0)
		return 0;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return 1;
}

int store_mailbox_create(struct store *s, int64_t account_id, const char *name,
			 const char *special_use, int64_t *id_r)
{
	char *canon = canonical_name(name), *slash;
	int ret;

	/* RFC 9051 6.3.4: create the superior names the hierarchy needs */
	for (slash = strchr(canon, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		ret = canon[0] != '\0' ? insert_mailbox(s, account_id, canon, NULL, NULL) : 0;
		*slash = '/';
		if (ret < 0)
			goto out;
	}
	ret = insert_mailbox(s, account_id, canon, special_use, id_r);
	if (ret == 0)
		ret = store_fail(s, "mailbox %s already exists", canon);
out:
	free(canon);
	return ret < 0 ? -1 : 0;
}

int store_mailbox_delete(struct store *s, int64_t account_id, const char *name,
			 char ***unlink_r, size_t *n_unlink_r)
{
	struct store_mailbox mb;
	sqlite3_stmt *st;
	int found, rc;

	found = store_mailbox_get(s, account_id, name, &mb);
	if (found <= 0)
		return found < 0 ? -1 : store_fail(s, "mailbox %s does not exist", name);
	if (!strcmp(mb.name, "INBOX")) {
		store_mailbox_deinit(&mb);
		return store_fail(s, "INBOX cannot be deleted");
	}
	st = prepare(s, "DELETE FROM messages WHERE mailbox_id = ?1 RETURNING blob_id");
	rc = st != NULL ? SQLITE_OK : SQLITE_ERROR;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, mb.id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (store_blob_unref(s, sqlite3_column_int64(st, 0), unlink_r, n_unlink_r) < 0)
				break;
		}
		store_finish(s, st);
	}
	if (rc != SQLITE_DONE) {
		store_mailbox_deinit(&mb);
		return rc == SQLITE_ROW ? -1 : store_fail_db(s, "mailbox delete");
	}
	rc = store_exec_id(s, "DELETE FROM expunged WHERE mailbox_id = ?1", mb.id);
	if (rc == 0)
		rc = store_exec_id(s, "DELETE FROM mailboxes WHERE id = ?1", mb.id);
	store_mailbox_deinit(&mb);
	return rc;
}

/* Moves INBOX's messages into the new mailbox `to` (RFC 9051 6.3.6). */
static int rename_inbox(struct store *s, int64_t account_id, int64_t inbox_id, const char *to)
{
	int64_t new_id;
	sqlite3_stmt *st;
	int rc;

	if (store_mailbox_create(s, account_id, to, NULL, &new_id) < 0)
		return -1;
	st = prepare(s, "UPDATE messages SET mailbox_id = ?2 WHERE mailbox_id = ?1");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, inbox_id);
	sqlite3_bind_int64(st, 2, new_id);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "rename INBOX");
	/* the moved messages keep their UIDs; INBOX moves its uidnext past them
	 * and the new mailbox continues from there */
	st = prepare(s, "UPDATE mailboxes SET (uidnext, highestmodseq, keywords) ="
		     " (SELECT uidnext, highestmodseq + 1, keywords FROM mailboxes WHERE id = ?1)"
		     " WHERE id = ?2");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, inbox_id);
	sqlite3_bind_int64(st, 2, new_id);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "rename INBOX");
	return store_exec_id(s, "UPDATE mailboxes SET highestmodseq = highestmodseq + 1"
			     " WHERE id = ?1", inbox_id);
}

/* Renames `from` and every child from/... to to/... */
static int rename_tree(struct store *s, int64_t account_id, const char *from, const char *to)
{
	sqlite3_stmt *st = prepare(s, "UPDATE mailboxes SET name = ?3 || substr(name, ?4)"
				   " WHERE account_id = ?1 AND (name = ?2 OR"
				   " substr(name, 1, ?4) = ?2 || '/')");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)strlen(from) + 1);
	rc = sqlite3_step(st);
	store_finish(s, st);
	if (rc == SQLITE_CONSTRAINT)
		return store_fail(s, "mailbox %s already exists", to);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "mailbox rename");
}

int store_mailbox_rename(struct store *s, int64_t account_id, const char *from, const char *to)
{
	struct store_mailbox src, dst;
	char *canon_to = canonical_name(to), *slash;
	int found, ret = -1;

	found = store_mailbox_get(s, account_id, from, &src);
	if (found <= 0) {
		free(canon_to);
		return found < 0 ? -1 : store_fail(s, "mailbox %s does not exist", from);
	}
	found = store_mailbox_get(s, account_id, canon_to, &dst);
	store_mailbox_deinit(&dst);
	if (found != 0) {
		if (found > 0)
			store_fail(s, "mailbox %s already exists", canon_to);
		goto out;
	}
	if (!strcmp(src.name, "INBOX")) {
		ret = rename_inbox(s, account_id, src.id, canon_to);
		goto out;
	}
	if (!strncmp(canon_to, src.name, strlen(src.name)) && canon_to[strlen(src.name)] == '/') {
		store_fail(s, "cannot move %s into itself", src.name);
		goto out;
	}
	ret = rename_tree(s, account_id, src.name, canon_to);
	/* parents of the new name, as for CREATE */
	for (slash = strchr(canon_to, '/'); ret == 0 && slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (canon_to[0] != '\0' && insert_mailbox(s, account_id, canon_to, NULL, NULL) < 0)
			ret = -1;
		*slash = '/';
	}
out:
	store_mailbox_deinit(&src);
	free(canon_to);
	return ret;
}

int store_mailbox_subscribe(struct store *s, int64_t account_id, const char *name, bool on)
{
	struct store_mailbox mb;
	int found, ret;

	found = store_mailbox_get(s, account_id, name, &mb);
	if (found <= 0)
		return found < 0 ? -1 : store_fail(s, "mailbox %s does not exist", name);
	ret = store_exec_id(s, on ? "UPDATE mailboxes SET subscribed = 1 WHERE id = ?1"
			    : "UPDATE mailboxes SET subscribed = 0 WHERE id = ?1", mb.id);
	store_mailbox_deinit(&mb);
	return ret;
}

int store_mailbox_counts(struct store *s, const struct store_mailbox *mb,
			 struct store_mailbox_counts *c)
{
	sqlite3_stmt *st = prepare(s, "SELECT count(*), coalesce(sum(size), 0),"
				   " count(*) FILTER (WHERE flags & ?2 = 0),"
				   " count(*) FILTER (WHERE flags & ?3 != 0),"
				   " count(*) FILTER (WHERE uid > ?4)"
				   " FROM messages WHERE mailbox_id = ?1");
	int rc;

	memset(c, 0, sizeof(*c));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, STORE_FLAG_SEEN);
	sqlite3_bind_int64(st, 3, STORE_FLAG_DELETED);
	sqlite3_bind_int64(st, 4, mb->recent_uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->messages = (uint32_t)sqlite3_column_int64(st, 0);
		c->size = (uint64_t)sqlite3_column_int64(st, 1);
		c->unseen = (uint32_t)sqlite3_column_int64(st, 2);
		c->deleted = (uint32_t)sqlite3_column_int64(st, 3);
		c->recent = (uint32_t)sqlite3_column_int64(st, 4);
	}
	store_finish(s, st);
	return rc == SQLITE_ROW ? 0 : store_fail_db(s, "mailbox counts");
}

int store_mailbox_claim_recent(struct store *s, int64_t mailbox_id, uint32_t *old_r)
{
	sqlite3_stmt *st = prepare(s, "SELECT recent_uid FROM mailboxes WHERE id = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*old_r = (uint32_t)sqlite3_column_int64(st, 0);
	store_finish(s, st);
	if (rc != SQLITE_ROW)
		return store_fail_db(s, "claim recent");
	return store_exec_id(s, "UPDATE mailboxes SET recent_uid = uidnext - 1 WHERE id = ?1",
			     mailbox_id);
}

int store_mailbox_record_recent(struct store *s, int64_t mailbox_id, uint32_t top)
{
	sqlite3_stmt *st = prepare(s, "UPDATE mailboxes SET recent_uid = max(recent_uid, ?2)"
				   " WHERE id = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, top);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_fail_db(s, "record recent");
	store_finish(s, st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Index of word in the space-separated list, or -1. Keywords compare
 * case-insensitively, as Dovecot does. */
static int keyword_index(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	const char *p = list;
	int i = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (len == wlen && strncasecmp(p, word, len) == 0)
			return i;
		p += len;
		p += *p == ' ';
		i++;
	}
	return -1;
}

int store_mailbox_keywords(struct store *s, int64_t mailbox_id, const char *const *names,
			   size_t n, uint64_t *mask_r)
{
	sqlite3_stmt *st = prepare(s, "SELECT keywords FROM mailboxes WHERE id = ?1");
	struct buf list;
	size_t i, count;
	int rc, idx;

	*mask_r = 0;
	if (st == NULL)
		return -1;
	buf_init(&list, 0);
	sqlite3_bind_int64(st, 1, mailbox_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		buf_append_str(&list, (const char *)sqlite3_column_text(st, 0));
	store_finish(s, st);
	if (rc != SQLITE_ROW) {
		buf_deinit(&list);
		return store_fail(s, "mailbox %lld does not exist", (long long)mailbox_id);
	}
	count = list.len == 0 ? 0 : 1;
	for (i = 0; i < list.len; i++)
		count += list.data[i] == ' ';
	for (i = 0; i < n; i++) {
		idx = keyword_index(buf_cstr(&list), names[i]);
		if (idx < 0) {
			if (count >= STORE_KEYWORDS_MAX) {
				buf_deinit(&list);
				return store_fail(s, "too many keywords in this mailbox (at most %d)",
						  STORE_KEYWORDS_MAX);
			}
			buf_printf(&list, "%s%s", list.len ? " " : "", names[i]);
			idx = (int)count++;
		}
		*mask_r |= 1ULL << idx;
	}
	st = prepare(s, "UPDATE mailboxes SET keywords = ?2 WHERE id = ?1 AND keywords != ?2");
	rc = st != NULL ? SQLITE_OK : SQLITE_ERROR;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlite3_bind_text(st, 2, buf_cstr(&list), -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		store_finish(s, st);
	}
	buf_deinit(&list);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "keywords update");
}
