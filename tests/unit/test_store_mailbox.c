/*
 * Unit tests for the IMAP side of the store (src/store/mailboxes.c,
 * src/store/msgs.c): mailbox create/rename/delete, UIDs and MODSEQs,
 * flags with UNCHANGEDSINCE, keywords, expunge records, copy and move,
 * metadata, full-text search and quota — on a real SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/store.h"
#include "store_sql.h"

#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"

struct fixture {
	char dir[64];
	struct store *s;
	int64_t account;
	int64_t inbox;
};

static void must(struct store *s, int ret, const char *what)
{
	if (ret != 0)
		fail_msg("%s: %s", what, store_error(s));
}

static int64_t mailbox_id(struct store *s, int64_t account, const char *name)
{
	struct store_mailbox mb;
	int64_t id;

	if (store_mailbox_get(s, account, name, &mb) != 1)
		fail_msg("mailbox %s not found", name);
	id = mb.id;
	store_mailbox_deinit(&mb);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *error = NULL;
	char *hash = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-mbox-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->s = store_open(f->dir, STORE_OPEN_CREATE, &error);
	if (f->s == NULL)
		fail_msg("store_open: %s", error);
	must(f->s, store_domain_add(f->s, "a.test"), "domain");
	must(f->s, store_account_add(f->s, "alice@a.test", HASH), "account");
	assert_int_equal(store_account_lookup(f->s, "alice@a.test", &f->account, &hash), 1);
	free(hash);
	f->inbox = mailbox_id(f->s, f->account, "INBOX");
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(&f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Appends a message with the given text into mailbox; returns its UID. */
static uint32_t append(struct fixture *f, int64_t mailbox, const char *text, uint32_t flags)
{
	struct store_blob_meta meta = {
		.envelope = "(NIL \"hi\" NIL NIL NIL NIL NIL NIL NIL NIL)",
		.bodystructure = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL)",
		.body = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1)",
		.sent_date = 1000,
	};
	struct store_delivery_rcpt r = { .account_id = f->account, .mailbox_id = mailbox,
					 .flags = flags };
	struct store_delivery d = { .queue_id = "q1", .sender = "", .received = 5,
				    .rcpts = &r, .n_rcpts = 1 };

	memset(d.blob.hash, 0, sizeof(d.blob.hash));
	memcpy(d.blob.hash, text, strlen(text) < 32 ? strlen(text) : 32);
	d.blob.size = strlen(text);
	d.blob.data = text;
	d.blob.meta = &meta;
	must(f->s, store_begin(f->s), "begin");
	must(f->s, store_deliver(f->s, &d), "deliver");
	must(f->s, store_commit(f->s), "commit");
	assert_int_equal(r.mailbox_id_r, mailbox);
	return r.uid_r;
}

static void count_mailbox(void *ctx, const struct store_mailbox *mb)
{
	(*(int *)ctx)++;
}

static void test_mailbox_special_use_created_for_new_account(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox mb;
	int n = 0;

	must(f->s, store_mailbox_list(f->s, f->account, count_mailbox, &n), "list");
	assert_int_equal(n, 6);
	assert_int_equal(store_mailbox_get(f->s, f->account, "Sent", &mb), 1);
	assert_string_equal(mb.special_use, "\\Sent");
	store_mailbox_deinit(&mb);
	assert_int_equal(store_mailbox_get(f->s, f->account, "inbox", &mb), 1);
	assert_string_equal(mb.name, "INBOX");
	store_mailbox_deinit(&mb);
}

static void test_mailbox_create_makes_parents_and_refuses_twice(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox mb;
	int64_t id;

	must(f->s, store_mailbox_create(f->s, f->account, "a/b/c", NULL, &id), "create");
	assert_int_equal(store_mailbox_get(f->s, f->account, "a/b", &mb), 1);
	store_mailbox_deinit(&mb);
	assert_int_equal(store_mailbox_create(f->s, f->account, "a/b/c", NULL, &id), -1);
	assert_non_null(strstr(store_error(f->s), "already exists"));
}

static void test_mailbox_rename_moves_children(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox mb;
	int64_t id;

	must(f->s, store_mailbox_create(f->s, f->account, "work/2024", NULL, &id), "create");
	must(f->s, store_mailbox_rename(f->s, f->account, "work", "old/work"), "rename");
	assert_int_equal(store_mailbox_get(f->s, f->account, "old/work/2024", &mb), 1);
	assert_int_equal(mb.id, id);
	store_mailbox_deinit(&mb);
	assert_int_equal(store_mailbox_get(f->s, f->account, "work", &mb), 0);
	assert_int_equal(store_mailbox_get(f->s, f->account, "old", &mb), 1);
	store_mailbox_deinit(&mb);
	assert_int_equal(store_mailbox_rename(f->s, f->account, "old", "old/x"), -1);
	assert_int_equal(store_mailbox_rename(f->s, f->account, "Sent", "Trash"), -1);
}

static void test_mailbox_rename_inbox_moves_messages(void **state)
{
	struct fixture *f = *state;
	struct store_msg *msgs;
	size_t n;
	int64_t old;

	append(f, f->inbox, "one", 0);
	append(f, f->inbox, "two", 0);
	must(f->s, store_mailbox_rename(f->s, f->account, "INBOX", "Old"), "rename");
	old = mailbox_id(f->s, f->account, "Old");
	must(f->s, store_msgs_load(f->s, old, &msgs, &n), "load");
	assert_int_equal(n, 2);
	free(msgs);
	must(f->s, store_msgs_load(f->s, f->inbox, &msgs, &n), "load");
	assert_int_equal(n, 0);
	free(msgs);
	/* new mail to INBOX does not reuse the moved UIDs */
	assert_int_equal(append(f, f->inbox, "three", 0), 3);
}

static void test_mailbox_delete_removes_messages_not_inbox(void **state)
{
	struct fixture *f = *state;
	int64_t id;
	char **unlink_paths = NULL;
	size_t n_unlink = 0;

	must(f->s, store_mailbox_create(f->s, f->account, "tmp", NULL, &id), "create");
	append(f, id, "gone", 0);
	must(f->s, store_mailbox_delete(f->s, f->account, "tmp", &unlink_paths, &n_unlink), "del");
	assert_int_equal(store_mailbox_delete(f->s, f->account, "INBOX", &unlink_paths, &n_unlink),
			 -1);
	assert_int_equal(store_mailbox_delete(f->s, f->account, "nope", &unlink_paths, &n_unlink),
			 -1);
	free(unlink_paths);
}

static void test_flags_update_and_unchangedsince(void **state)
{
	struct fixture *f = *state;
	uint32_t uids[3];
	struct store_flag_result *res;
	struct store_msg *msgs;
	uint64_t modseq;
	size_t n;

	uids[0] = append(f, f->inbox, "a", 0);
	uids[1] = append(f, f->inbox, "b", STORE_FLAG_SEEN);
	uids[2] = 999;	/* does not exist: skipped */
	must(f->s, store_flags_update(f->s, f->inbox, uids, 3, STORE_FLAGS_ADD, STORE_FLAG_SEEN,
				      0, 0, &res, &n), "store");
	assert_int_equal(n, 2);
	assert_true(res[0].changed);
	assert_false(res[1].changed);	/* already \Seen */
	modseq = res[0].modseq;
	free(res);
	/* the message changed after modseq - 1, so UNCHANGEDSINCE refuses it */
	must(f->s, store_flags_update(f->s, f->inbox, uids, 1, STORE_FLAGS_SET, STORE_FLAG_FLAGGED,
				      0, modseq - 1, &res, &n), "store");
	assert_true(res[0].refused);
	free(res);
	must(f->s, store_msgs_changed(f->s, f->inbox, modseq - 1, &msgs, &n), "changed");
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].uid, uids[0]);
	assert_int_equal(msgs[0].flags, STORE_FLAG_SEEN);
	free(msgs);
}

static void test_keywords_get_bits_and_limit(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "$Forwarded", "work", "$forwarded" };
	char word[16];
	const char *one[1] = { word };
	uint64_t mask;
	int i;

	must(f->s, store_mailbox_keywords(f->s, f->inbox, names, 3, &mask), "keywords");
	assert_int_equal(mask, 3);
	for (i = 2; i < 64; i++) {
		snprintf(word, sizeof(word), "k%d", i);
		must(f->s, store_mailbox_keywords(f->s, f->inbox, one, 1, &mask), "keyword");
	}
	snprintf(word, sizeof(word), "toomany");
	assert_int_equal(store_mailbox_keywords(f->s, f->inbox, one, 1, &mask), -1);
}

static void test_expunge_records_vanished_uids(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox mb;
	uint32_t uids[2], *gone, *vanished;
	char **unlink_paths = NULL;
	size_t n, n_unlink = 0;
	uint64_t before;

	uids[0] = append(f, f->inbox, "x1", 0);
	uids[1] = append(f, f->inbox, "x2", 0);
	assert_int_equal(store_mailbox_get(f->s, f->account, "INBOX", &mb), 1);
	before = mb.highestmodseq;
	store_mailbox_deinit(&mb);
	must(f->s, store_msgs_expunge(f->s, f->inbox, uids, 1, &gone, &n, &unlink_paths, &n_unlink),
	     "expunge");
	assert_int_equal(n, 1);
	free(gone);
	must(f->s, store_msgs_expunged(f->s, f->inbox, before, &vanished, &n), "vanished");
	assert_int_equal(n, 1);
	assert_int_equal(vanished[0], uids[0]);
	free(vanished);
	free(unlink_paths);
}

static uint64_t highestmodseq(struct fixture *f)
{
	struct store_mailbox mb;
	uint64_t m;

	assert_int_equal(store_mailbox_get(f->s, f->account, "INBOX", &mb), 1);
	m = mb.highestmodseq;
	store_mailbox_deinit(&mb);
	return m;
}

static void expunge_uids(struct fixture *f, const uint32_t *uids, size_t n)
{
	uint32_t *gone;
	char **unlink_paths = NULL;
	size_t n_gone, n_unlink = 0, i;

	must(f->s, store_msgs_expunge(f->s, f->inbox, uids, n, &gone, &n_gone, &unlink_paths,
				      &n_unlink), "expunge");
	assert_int_equal(n_gone, n);
	for (i = 0; i < n_unlink; i++)
		free(unlink_paths[i]);
	free(unlink_paths);
	free(gone);
}

/* RFC 7162 5.3: the expunge history is bounded; below the floor the store
 * says "unknown" and store_msgs_gone compares UIDs instead. */
static void test_expunged_prune_keeps_newest_and_raises_floor(void **state)
{
	struct fixture *f = *state;
	struct store_msg known[6] = { 0 };
	uint32_t uids[6], *list;
	uint64_t start, batch;
	size_t n, dropped, i;
	char text[8];

	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "p%zu", i);
		uids[i] = known[i].uid = append(f, f->inbox, text, 0);
	}
	start = highestmodseq(f);
	expunge_uids(f, &uids[0], 1);
	expunge_uids(f, &uids[1], 1);
	expunge_uids(f, &uids[2], 2);	/* uids[2] and [3] share a MODSEQ */
	batch = highestmodseq(f);
	expunge_uids(f, &uids[4], 1);

	/* the third newest row has the batch's MODSEQ: the whole batch goes */
	must(f->s, store_expunged_prune(f->s, 2, STORE_EXPUNGED_CHUNK, &dropped), "prune");
	assert_int_equal(dropped, 4);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM expunged"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT max(expunge_floor) FROM mailboxes"), batch);
	must(f->s, store_expunged_prune(f->s, 2, STORE_EXPUNGED_CHUNK, &dropped), "prune again");
	assert_int_equal(dropped, 0);	/* nothing expunged since */

	assert_int_equal(store_msgs_expunged(f->s, f->inbox, batch, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0], uids[4]);
	free(list);
	assert_int_equal(store_msgs_expunged(f->s, f->inbox, batch - 1, &list, &n), 1);
	free(list);

	/* from before the floor: every known UID not present, only those */
	must(f->s, store_msgs_gone(f->s, f->inbox, start, known, 6, &list, &n), "gone");
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(list[i], uids[i]);
	free(list);
	must(f->s, store_msgs_gone(f->s, f->inbox, start, &known[5], 1, &list, &n), "gone");
	assert_int_equal(n, 0);
	free(list);
}

/* A backlog goes a chunk per call, oldest first, the floor rising with
 * it; a MODSEQ shared by several rows is never split. */
static void test_expunged_prune_works_in_chunks(void **state)
{
	struct fixture *f = *state;
	uint32_t uids[5];
	uint64_t modseq[4];
	size_t dropped, i;
	char text[8];

	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "c%zu", i);
		uids[i] = append(f, f->inbox, text, 0);
	}
	expunge_uids(f, &uids[0], 1);
	modseq[0] = highestmodseq(f);
	expunge_uids(f, &uids[1], 1);
	modseq[1] = highestmodseq(f);
	expunge_uids(f, &uids[2], 2);	/* uids[2] and [3] share a MODSEQ */
	modseq[2] = highestmodseq(f);
	expunge_uids(f, &uids[4], 1);
	modseq[3] = highestmodseq(f);

	/* keep 1, a chunk of 1: two single rows, then the pair, then done */
	for (i = 0; i < 3; i++) {
		must(f->s, store_expunged_prune(f->s, 1, 1, &dropped), "prune");
		assert_int_equal(dropped, i < 2 ? 1 : 2);
		assert_int_equal(sql_int(f->dir, "SELECT max(expunge_floor) FROM mailboxes"),
				 modseq[i]);
	}
	must(f->s, store_expunged_prune(f->s, 1, 1, &dropped), "prune done");
	assert_int_equal(dropped, 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM expunged"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT max(modseq) FROM expunged"), modseq[3]);
}

static void test_copy_and_move_keep_flags_and_keywords(void **state)
{
	struct fixture *f = *state;
	const char *kw[] = { "$Junk", "project" };
	uint32_t uid, *src, *dst;
	struct store_flag_result *res;
	struct store_msg *msgs;
	char **unlink_paths = NULL;
	size_t n, n_unlink = 0;
	uint64_t mask;
	int64_t arch = mailbox_id(f->s, f->account, "Archive");

	uid = append(f, f->inbox, "keep", STORE_FLAG_FLAGGED);
	must(f->s, store_mailbox_keywords(f->s, f->inbox, kw, 2, &mask), "kw");
	must(f->s, store_flags_update(f->s, f->inbox, &uid, 1, STORE_FLAGS_ADD, 0, 2, 0, &res, &n),
	     "store");
	free(res);
	must(f->s, store_msgs_copy(f->s, f->inbox, arch, &uid, 1, true, &src, &dst, &n,
				   &unlink_paths, &n_unlink), "move");
	assert_int_equal(n, 1);
	assert_int_equal(src[0], uid);
	free(src);
	free(dst);
	must(f->s, store_msgs_load(f->s, arch, &msgs, &n), "load");
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].flags, STORE_FLAG_FLAGGED);
	assert_int_equal(msgs[0].keywords, 1);	/* "project" is Archive's first keyword */
	free(msgs);
	must(f->s, store_msgs_load(f->s, f->inbox, &msgs, &n), "load");
	assert_int_equal(n, 0);
	free(msgs);
	free(unlink_paths);
}

/* The fixture's messages are bare text under one subject. */
static void fixture_text(const char *msg, size_t len, struct buf *headers, struct buf *body)
{
	buf_append_str(headers, "Subject: hi");
	buf_append(body, msg, len);
}

/* Works the text queue off, as the committer does when idle. */
static void index_all(struct fixture *f)
{
	bool more = true;

	while (more)
		must(f->s, store_text_index(f->s, fixture_text, 2, 1000000, &more), "index");
}

static void test_search_text_finds_substrings(void **state)
{
	struct fixture *f = *state;
	uint32_t *uids;
	size_t n;

	append(f, f->inbox, "the quarterly REPORT is late", 0);
	append(f, f->inbox, "lunch on friday", 0);
	index_all(f);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "report", &uids, &n), "s");
	assert_int_equal(n, 1);
	free(uids);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "rter", &uids, &n), "s");
	assert_int_equal(n, 1);
	free(uids);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_ANY, "on", &uids, &n), "short");
	assert_int_equal(n, 1);
	free(uids);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_HEADERS, "hi", &uids, &n), "h");
	assert_int_equal(n, 2);
	free(uids);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "\"quoted\"", &uids, &n), "q");
	assert_int_equal(n, 0);
	free(uids);
}

/* New and deleted blobs wait in text_queue; search leaves them to the
 * caller (store_text_pending) until store_text_index catches up. */
static void test_text_index_catches_up(void **state)
{
	struct fixture *f = *state;
	uint32_t *uids, uid, *gone = NULL;
	char **unlink = NULL;
	size_t n, n_gone = 0, n_unlink = 0;
	int64_t *pending, blob;
	bool more;

	uid = append(f, f->inbox, "minutes of the meeting", 0);
	append(f, f->inbox, "agenda for the meeting", 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM text_queue"), 2);
	must(f->s, store_text_pending(f->s, f->inbox, &pending, &n), "pending");
	assert_int_equal(n, 2);
	assert_true(pending[0] < pending[1]);
	blob = pending[0];
	free(pending);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "meeting", &uids, &n), "s");
	assert_int_equal(n, 0);	/* not indexed yet: the caller reads them */
	free(uids);

	/* one per call with max 1; more says whether any remain */
	must(f->s, store_text_index(f->s, fixture_text, 1, 1000000, &more), "index");
	assert_true(more);
	index_all(f);
	must(f->s, store_text_pending(f->s, f->inbox, &pending, &n), "pending");
	assert_int_equal(n, 0);
	free(pending);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "meeting", &uids, &n), "s");
	assert_int_equal(n, 2);
	free(uids);

	/* expunging queues the blob again; indexing drops its row */
	must(f->s, store_begin(f->s), "begin");
	must(f->s, store_msgs_expunge(f->s, f->inbox, &uid, 1, &gone, &n_gone, &unlink, &n_unlink),
	     "expunge");
	must(f->s, store_commit(f->s), "commit");
	free(gone);
	free(unlink);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM text_queue"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT blob_id FROM text_queue"), blob);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM blob_text"), 2);
	index_all(f);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM blob_text"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM text_queue"), 0);
	must(f->s, store_search_text(f->s, f->inbox, STORE_TEXT_BODY, "meeting", &uids, &n), "s");
	assert_int_equal(n, 1);
	free(uids);
}

static void test_meta_and_quota(void **state)
{
	struct fixture *f = *state;
	struct store_blob_meta_row row;
	struct store_msg *msgs;
	uint64_t limit, used, count;
	size_t n;

	append(f, f->inbox, "12345", 0);
	must(f->s, store_msgs_load(f->s, f->inbox, &msgs, &n), "load");
	must(f->s, store_blob_meta_get(f->s, msgs[0].blob_id, &row), "meta");
	assert_string_equal(row.body, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 2 1)");
	assert_int_equal(row.sent_date, 1000);
	store_blob_meta_row_free(&row);
	free(msgs);
	must(f->s, store_quota_set(f->s, "alice@a.test", 1000), "quota");
	must(f->s, store_quota_get(f->s, f->account, &limit, &used, &count), "quota");
	assert_int_equal(limit, 1000);
	assert_int_equal(used, 5);
	assert_int_equal(count, 1);
	assert_int_equal(store_quota_set(f->s, "nobody@a.test", 1), -1);
}

/* Schema 5 kept the metadata in blobs; 6 moves it to blob_meta. */
static void test_meta_migrates_out_of_blobs(void **state)
{
	struct fixture *f = *state;
	struct store_blob_meta_row row;
	struct store_msg *msgs;
	char *error = NULL;
	size_t n;

	append(f, f->inbox, "old message", 0);
	store_close(&f->s);
	sql_exec(f->dir, "UPDATE blobs SET envelope = 'E5', body = 'B5', sent_date = 7;"
		 "DROP TABLE blob_meta; DROP INDEX expunged_modseq; DROP TABLE text_queue;"
		 "ALTER TABLE mailboxes DROP COLUMN expunge_floor;"
		 " PRAGMA user_version = 5");
	f->s = store_open(f->dir, 0, &error);
	if (f->s == NULL)
		fail_msg("store_open: %s", error);
	must(f->s, store_msgs_load(f->s, f->inbox, &msgs, &n), "load");
	must(f->s, store_blob_meta_get(f->s, msgs[0].blob_id, &row), "meta");
	assert_string_equal(row.envelope, "E5");
	assert_string_equal(row.body, "B5");
	assert_int_equal(row.sent_date, 7);
	store_blob_meta_row_free(&row);
	free(msgs);
}

/* Expunging the last reference removes the metadata row with the blob. */
static void test_expunge_drops_meta(void **state)
{
	struct fixture *f = *state;
	struct store_blob_meta_row row;
	struct store_msg *msgs;
	uint32_t uid, *gone = NULL;
	char **unlink = NULL;
	size_t n, n_gone = 0, n_unlink = 0;
	int64_t blob;

	uid = append(f, f->inbox, "short lived", 0);
	must(f->s, store_msgs_load(f->s, f->inbox, &msgs, &n), "load");
	blob = msgs[0].blob_id;
	free(msgs);
	must(f->s, store_begin(f->s), "begin");
	must(f->s, store_msgs_expunge(f->s, f->inbox, &uid, 1, &gone, &n_gone, &unlink, &n_unlink),
	     "expunge");
	must(f->s, store_commit(f->s), "commit");
	assert_int_equal(n_gone, 1);
	free(gone);
	free(unlink);
	assert_int_equal(store_blob_meta_get(f->s, blob, &row), -1);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM blob_meta"), 0);
}

static void test_claim_recent(void **state)
{
	struct fixture *f = *state;
	uint32_t old;

	append(f, f->inbox, "r1", 0);
	must(f->s, store_mailbox_claim_recent(f->s, f->inbox, &old), "claim");
	assert_int_equal(old, 0);
	must(f->s, store_mailbox_claim_recent(f->s, f->inbox, &old), "claim");
	assert_int_equal(old, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_mailbox_special_use_created_for_new_account),
		T(test_mailbox_create_makes_parents_and_refuses_twice),
		T(test_mailbox_rename_moves_children),
		T(test_mailbox_rename_inbox_moves_messages),
		T(test_mailbox_delete_removes_messages_not_inbox),
		T(test_flags_update_and_unchangedsince),
		T(test_keywords_get_bits_and_limit),
		T(test_expunge_records_vanished_uids),
		T(test_expunged_prune_keeps_newest_and_raises_floor),
		T(test_expunged_prune_works_in_chunks),
		T(test_copy_and_move_keep_flags_and_keywords),
		T(test_search_text_finds_substrings),
		T(test_text_index_catches_up),
		T(test_meta_and_quota),
		T(test_claim_recent),
		T(test_meta_migrates_out_of_blobs),
		T(test_expunge_drops_meta),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
