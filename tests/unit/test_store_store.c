/*
 * Unit tests for the store API (src/store/): the data_dir layout and the
 * versioned schema, domains, accounts and aliases, recipient resolution
 * (aliases, plus-addressing, catch-alls, nesting, loops), and delivery with
 * blob reference counting for inline blobs and blob files. Each test gets
 * a fresh data_dir from mkdtemp().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_sql.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"

struct fixture {
	char dir[64];
	struct store *s;
};

static struct store *open_or_fail(const char *dir, int flags)
{
	char *error = NULL;
	struct store *s = store_open(dir, flags, &error);

	if (s == NULL)
		fail_msg("store_open %s: %s", dir, error);
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tern-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->s = open_or_fail(f->dir, STORE_OPEN_CREATE);
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

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void must(struct store *s, int ret, const char *what)
{
	if (ret != 0)
		fail_msg("%s: %s", what, store_error(s));
}

static int64_t account_id(struct store *s, const char *address)
{
	int64_t id = 0;

	if (store_account_lookup(s, address, &id, NULL) != 1)
		fail_msg("no account %s", address);
	return id;
}

static int user_version(const char *dir)
{
	return (int)sql_int(dir, "PRAGMA user_version");
}

/* ---- layout, schema ----------------------------------------------------- */

static void test_store_open_creates_layout(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/tern.db", f->dir);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/blobs", f->dir);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/tmp", f->dir);
	assert_true(exists(path));
	assert_string_equal(store_data_dir(f->s), f->dir);
	assert_int_equal(user_version(f->dir), STORE_SCHEMA_VERSION);
}

static void test_store_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct store_stats st;
	int64_t id;

	must(f->s, store_domain_add(f->s, "example.com"), "domain add");
	must(f->s, store_account_add(f->s, "alice@example.com", HASH), "account add");
	store_close(&f->s);
	assert_null(f->s);

	/* without STORE_OPEN_CREATE, and with it again: no migration, same data */
	f->s = open_or_fail(f->dir, 0);
	assert_int_equal(user_version(f->dir), STORE_SCHEMA_VERSION);
	assert_true(store_domain_exists(f->s, "example.com"));
	assert_int_equal(store_account_lookup(f->s, "alice@example.com", &id, NULL), 1);
	store_close(&f->s);
	f->s = open_or_fail(f->dir, STORE_OPEN_CREATE);
	must(f->s, store_stats(f->s, &st), "stats");
	assert_int_equal(st.domains, 1);
	assert_int_equal(st.accounts, 1);
	store_close(&f->s);

	/* read-only opens too */
	f->s = open_or_fail(f->dir, STORE_OPEN_READONLY);
	assert_true(store_domain_exists(f->s, "example.com"));
}

static void test_store_open_errors(void **state)
{
	struct fixture *f = *state;
	char path[128], *error = NULL;
	sqlite3 *db;

	/* no such data_dir, and not asked to create it */
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_null(store_open(path, 0, &error));
	assert_non_null(error);
	free(error);
	error = NULL;

	/* a schema newer than this tern is refused, not downgraded */
	store_close(&f->s);
	snprintf(path, sizeof(path), "%s/tern.db", f->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->dir, 0, &error));
	assert_non_null(strstr(error, "newer than this tern"));
	free(error);
	assert_int_equal(user_version(f->dir), 99);
}

/* With foreign keys on, deleting a parent row looks up its children by
 * the referencing column: each such column must lead an index, or a
 * delete scans the whole child table (an expunge scanned every message). */
static void test_store_foreign_keys_indexed(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	int checked = 0;

	snprintf(path, sizeof(path), "%s/tern.db", f->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT m.name, fk.\"from\", (SELECT count(*) FROM pragma_index_list(m.name) il"
		" WHERE (SELECT name FROM pragma_index_info(il.name) WHERE seqno = 0) = fk.\"from\")"
		" FROM sqlite_schema m, pragma_foreign_key_list(m.name) fk WHERE m.type = 'table'",
		-1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 2) == 0)
			fail_msg("%s.%s references another table but leads no index",
				 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
		checked++;
	}
	assert_true(checked >= 8);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- domains, accounts, aliases ---------------------------------------- */

struct list {
	char text[2048];
	size_t len;
};

static void list_domain(void *ctx, const char *domain, int64_t accounts, int64_t aliases)
{
	struct list *l = ctx;

	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %lld %lld;",
				   domain, (long long)accounts, (long long)aliases);
}

static void list_account(void *ctx, const char *address, int64_t messages, int64_t bytes)
{
	struct list *l = ctx;

	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %lld %lld;",
				   address, (long long)messages, (long long)bytes);
}

static void list_alias(void *ctx, const char *source, const char *target)
{
	struct list *l = ctx;

	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s>%s;",
				   source, target);
}

static void test_store_domains(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct list l = { 0 };

	must(s, store_domain_list(s, list_domain, &l), "list");
	assert_string_equal(l.text, "");
	must(s, store_domain_add(s, "Example.COM"), "add");
	must(s, store_domain_add(s, "b.example"), "add");
	assert_true(store_domain_exists(s, "example.com"));
	assert_true(store_domain_exists(s, "EXAMPLE.com"));
	assert_false(store_domain_exists(s, "example.org"));

	/* adding twice is refused, whatever the case */
	assert_int_equal(store_domain_add(s, "example.com"), -1);
	assert_non_null(strstr(store_error(s), "already exists"));
	assert_int_equal(store_domain_add(s, "EXAMPLE.COM"), -1);

	must(s, store_account_add(s, "alice@example.com", HASH), "account");
	must(s, store_alias_add(s, "info@b.example", "alice@example.com"), "alias");
	must(s, store_domain_list(s, list_domain, &l), "list");
	assert_string_equal(l.text, "b.example 0 1;example.com 1 0;");

	/* a domain with users or aliases is not removed */
	assert_int_equal(store_domain_remove(s, "example.com"), -1);
	assert_non_null(strstr(store_error(s), "still has 1 users"));
	assert_int_equal(store_domain_remove(s, "b.example"), -1);
	assert_non_null(strstr(store_error(s), "1 aliases"));
	assert_true(store_domain_exists(s, "example.com"));

	must(s, store_alias_remove(s, "info@b.example", NULL), "alias remove");
	must(s, store_domain_remove(s, "b.example"), "remove");
	assert_false(store_domain_exists(s, "b.example"));
	assert_int_equal(store_domain_remove(s, "b.example"), -1);
	assert_non_null(strstr(store_error(s), "does not exist"));
	must(s, store_account_remove(s, "alice@example.com"), "account remove");
	must(s, store_domain_remove(s, "example.com"), "remove");
	memset(&l, 0, sizeof(l));
	must(s, store_domain_list(s, list_domain, &l), "list");
	assert_string_equal(l.text, "");
}

static void test_store_accounts(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct list l = { 0 };
	int64_t id = 0, id2 = 0;
	char *hash = NULL;

	/* the domain must exist first */
	assert_int_equal(store_account_add(s, "alice@example.com", HASH), -1);
	assert_non_null(strstr(store_error(s), "domain example.com does not exist"));
	must(s, store_domain_add(s, "example.com"), "domain");
	must(s, store_domain_add(s, "example.org"), "domain");

	/* malformed addresses */
	assert_int_equal(store_account_add(s, "alice", HASH), -1);
	assert_int_equal(store_account_add(s, "alice@", HASH), -1);
	assert_int_equal(store_account_add(s, "@example.com", HASH), -1);
	assert_non_null(strstr(store_error(s), "no user part"));

	must(s, store_account_add(s, "alice@Example.COM", HASH), "add");
	must(s, store_account_add(s, "bob@example.com", "h2"), "add");
	must(s, store_account_add(s, "alice@example.org", "h3"), "add");
	assert_int_equal(store_account_add(s, "ALICE@example.com", HASH), -1);
	assert_non_null(strstr(store_error(s), "already exists"));

	/* lookup: local part and domain compare case-insensitively */
	assert_int_equal(store_account_lookup(s, "alice@example.com", &id, &hash), 1);
	assert_true(id > 0);
	assert_string_equal(hash, HASH);
	free(hash);
	assert_int_equal(store_account_lookup(s, "Alice@EXAMPLE.com", &id2, NULL), 1);
	assert_int_equal(id2, id);
	assert_int_equal(store_account_lookup(s, "alice@example.org", &id2, NULL), 1);
	assert_true(id2 != id);
	assert_int_equal(store_account_lookup(s, "carol@example.com", &id2, NULL), 0);
	assert_int_equal(store_account_lookup(s, "alice@example.net", &id2, NULL), 0);
	assert_int_equal(store_account_lookup(s, "no-at-sign", &id2, NULL), 0);

	must(s, store_account_set_password(s, "alice@example.com", "new-hash"), "set_password");
	assert_int_equal(store_account_lookup(s, "alice@example.com", &id2, &hash), 1);
	assert_string_equal(hash, "new-hash");
	free(hash);
	/* the other alice keeps hers */
	assert_int_equal(store_account_lookup(s, "alice@example.org", &id2, &hash), 1);
	assert_string_equal(hash, "h3");
	free(hash);
	assert_int_equal(store_account_set_password(s, "carol@example.com", "x"), -1);
	assert_non_null(strstr(store_error(s), "does not exist"));

	must(s, store_account_list(s, NULL, list_account, &l), "list");
	assert_string_equal(l.text, "alice@example.com 0 0;bob@example.com 0 0;alice@example.org 0 0;");
	memset(&l, 0, sizeof(l));
	must(s, store_account_list(s, "example.org", list_account, &l), "list");
	assert_string_equal(l.text, "alice@example.org 0 0;");

	must(s, store_account_remove(s, "bob@example.com"), "remove");
	assert_int_equal(store_account_lookup(s, "bob@example.com", &id2, NULL), 0);
	assert_int_equal(store_account_remove(s, "bob@example.com"), -1);
	assert_non_null(strstr(store_error(s), "does not exist"));
	memset(&l, 0, sizeof(l));
	must(s, store_account_list(s, "example.com", list_account, &l), "list");
	assert_string_equal(l.text, "alice@example.com 0 0;");
}

static void test_store_aliases(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct list l = { 0 };

	assert_int_equal(store_alias_add(s, "info@example.com", "a@b.example"), -1);
	assert_non_null(strstr(store_error(s), "does not exist"));
	must(s, store_domain_add(s, "example.com"), "domain");
	must(s, store_domain_add(s, "example.org"), "domain");

	must(s, store_alias_add(s, "info@example.com", "alice@example.com"), "add");
	must(s, store_alias_add(s, "info@example.com", "bob@remote.example"), "add");
	must(s, store_alias_add(s, "info@example.com", "bob@remote.example"), "add twice is a no-op");
	must(s, store_alias_add(s, "@example.org", "alice@example.com"), "catch-all");
	must(s, store_alias_add(s, "sales@example.org", "info@example.com"), "add");

	/* refused */
	assert_int_equal(store_alias_add(s, "info@example.com", "no-at-sign"), -1);
	/* a target equal to the source is allowed: it keeps the account's copy */
	must(s, store_alias_add(s, "alice@example.com", "ALICE@example.com"), "self target");
	must(s, store_alias_remove(s, "alice@example.com", "ALICE@example.com"), "remove self");
	assert_int_equal(store_alias_add(s, "no-at-sign", "alice@example.com"), -1);
	assert_int_equal(store_alias_add(s, "x@unknown.example", "alice@example.com"), -1);

	must(s, store_alias_list(s, NULL, list_alias, &l), "list");
	assert_string_equal(l.text, "info@example.com>alice@example.com;info@example.com>bob@remote.example;"
			    "@example.org>alice@example.com;sales@example.org>info@example.com;");
	memset(&l, 0, sizeof(l));
	must(s, store_alias_list(s, "example.org", list_alias, &l), "list");
	assert_string_equal(l.text, "@example.org>alice@example.com;sales@example.org>info@example.com;");

	/* remove one target, then all of a source */
	must(s, store_alias_remove(s, "info@example.com", "bob@remote.example"), "remove");
	assert_int_equal(store_alias_remove(s, "info@example.com", "bob@remote.example"), -1);
	assert_non_null(strstr(store_error(s), "no alias"));
	must(s, store_alias_remove(s, "@example.org", NULL), "remove catch-all");
	must(s, store_alias_remove(s, "sales@example.org", NULL), "remove");
	assert_int_equal(store_alias_remove(s, "sales@example.org", NULL), -1);
	memset(&l, 0, sizeof(l));
	must(s, store_alias_list(s, NULL, list_alias, &l), "list");
	assert_string_equal(l.text, "info@example.com>alice@example.com;");
}

/* ---- resolution --------------------------------------------------------- */

/* Adds an alias row directly: store_alias_add() refuses a target equal to
 * the source, which resolution nevertheless gives a meaning. */
static void raw_alias(const char *dir, const char *local, const char *domain, const char *target)
{
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/tern.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO aliases (domain_id, localpart, target)"
					    " SELECT id, ?1, ?2 FROM domains WHERE name = ?3",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, domain, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void resolve_fixture(struct store *s, const char *dir)
{
	static const char *const domains[] = { "example.com", "other.org" };
	static const char *const accounts[] = {
		"alice@example.com", "bob@example.com", "carol@example.com", "info@example.com",
		"erin@example.com", "dave@other.org",
	};
	static const char *const aliases[][2] = {
		/* exact alias wins over the account of the same name */
		{ "info@example.com", "bob@example.com" },
		{ "sales@example.com", "alice@example.com" },
		{ "sales@example.com", "bob@example.com" },
		/* nested */
		{ "team@example.com", "sales@example.com" },
		{ "team@example.com", "carol@example.com" },
		{ "team@example.com", "ALICE@example.com" },
		/* an alias with a "+" of its own wins over plus-addressing */
		{ "alice+special@example.com", "carol@example.com" },
		{ "support@example.com", "carol@example.com" },
		/* targets that are nobody */
		{ "ghost@example.com", "nobody@example.com" },
		{ "ghost2@example.com", "nobody@example.com" },
		{ "ghost2@example.com", "nobody2@example.com" },
		{ "mixed@example.com", "nobody@example.com" },
		{ "mixed@example.com", "alice@example.com" },
		/* remote targets, with duplicates told apart case-insensitively */
		{ "fwd@example.com", "someone@remote.net" },
		{ "fwd@example.com", "SOMEONE@Remote.NET" },
		{ "fwd@example.com", "other@remote.net" },
		/* loops */
		{ "loop1@example.com", "loop2@example.com" },
		{ "loop2@example.com", "loop1@example.com" },
		{ "selfloop@example.com", "selfloop2@example.com" },
		{ "selfloop2@example.com", "selfloop@example.com" },
		{ "selfloop2@example.com", "alice@example.com" },
		/* catch-all of other.org */
		{ "@other.org", "dave@other.org" },
		{ "redirect@other.org", "nobody@other.org" },
	};
	size_t i;

	for (i = 0; i < N(domains); i++)
		must(s, store_domain_add(s, domains[i]), domains[i]);
	for (i = 0; i < N(accounts); i++)
		must(s, store_account_add(s, accounts[i], HASH), accounts[i]);
	for (i = 0; i < N(aliases); i++)
		must(s, store_alias_add(s, aliases[i][0], aliases[i][1]), aliases[i][0]);
	/* "user -> user, other" keeps a copy in user's own mailbox */
	raw_alias(dir, "erin", "example.com", "erin@example.com");
	must(s, store_alias_add(s, "erin@example.com", "erin@remote.net"), "erin");
	/* a self-reference without an account behind it */
	raw_alias(dir, "selfonly", "example.com", "selfonly@example.com");
	/* chains: deep0 -> deep1 -> ... -> deep8 -> alice (9 hops, too deep)
	 * and ok0 -> ... -> ok7 -> alice (8 hops, the most allowed) */
	for (i = 0; i < 9; i++) {
		char src[64], dst[64];

		snprintf(src, sizeof(src), "deep%zu@example.com", i);
		if (i < 8)
			snprintf(dst, sizeof(dst), "deep%zu@example.com", i + 1);
		else
			snprintf(dst, sizeof(dst), "alice@example.com");
		must(s, store_alias_add(s, src, dst), src);
		if (i < 8) {
			snprintf(src, sizeof(src), "ok%zu@example.com", i);
			if (i < 7)
				snprintf(dst, sizeof(dst), "ok%zu@example.com", i + 1);
			else
				snprintf(dst, sizeof(dst), "alice@example.com");
			must(s, store_alias_add(s, src, dst), src);
		}
	}
}

struct resolve_case {
	const char *address;
	enum store_rcpt_status status;
	const char *accounts;	/* space-separated, any order */
	const char *remote;	/* space-separated, any order, compared ignoring case */
};

static const struct resolve_case resolve_cases[] = {
	/* 0: accounts */
	{ "alice@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "Alice@EXAMPLE.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "carol@example.com", STORE_RCPT_OK, "carol@example.com", "" },
	/* 3: the exact alias comes before the account */
	{ "info@example.com", STORE_RCPT_OK, "bob@example.com", "" },
	{ "sales@example.com", STORE_RCPT_OK, "alice@example.com bob@example.com", "" },
	/* 5: plus-addressing: user+tag -> user, alias on the base first */
	{ "alice+news@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "alice+a+b@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "alice+@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "alice+special@example.com", STORE_RCPT_OK, "carol@example.com", "" },
	{ "support+urgent@example.com", STORE_RCPT_OK, "carol@example.com", "" },
	{ "info+x@example.com", STORE_RCPT_OK, "bob@example.com", "" },
	{ "sales+x@example.com", STORE_RCPT_OK, "alice@example.com bob@example.com", "" },
	{ "+tag@example.com", STORE_RCPT_UNKNOWN, "", "" },
	{ "nobody+tag@example.com", STORE_RCPT_UNKNOWN, "", "" },
	/* 14: nested aliases, duplicates once */
	{ "team@example.com", STORE_RCPT_OK, "alice@example.com bob@example.com carol@example.com", "" },
	/* 15: self-reference keeps the account's copy */
	{ "erin@example.com", STORE_RCPT_OK, "erin@example.com", "erin@remote.net" },
	{ "erin+tag@example.com", STORE_RCPT_OK, "erin@example.com", "erin@remote.net" },
	{ "selfonly@example.com", STORE_RCPT_UNKNOWN, "", "" },
	/* 18: aliases whose only targets are unknown local users reach nobody */
	{ "ghost@example.com", STORE_RCPT_UNKNOWN, "", "" },
	{ "ghost2@example.com", STORE_RCPT_UNKNOWN, "", "" },
	{ "mixed@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	/* 21: remote targets */
	{ "fwd@example.com", STORE_RCPT_OK, "", "someone@remote.net other@remote.net" },
	/* 22: unknown users and foreign domains */
	{ "nobody@example.com", STORE_RCPT_UNKNOWN, "", "" },
	{ "alice@remote.net", STORE_RCPT_NOT_LOCAL, "", "" },
	{ "alice@example.com.evil", STORE_RCPT_NOT_LOCAL, "", "" },
	{ "postmaster", STORE_RCPT_UNKNOWN, "", "" },
	{ "@example.com", STORE_RCPT_UNKNOWN, "", "" },
	/* 27: catch-all, after the account and plus-addressing */
	{ "anyone@other.org", STORE_RCPT_OK, "dave@other.org", "" },
	{ "dave@other.org", STORE_RCPT_OK, "dave@other.org", "" },
	{ "dave+tag@other.org", STORE_RCPT_OK, "dave@other.org", "" },
	{ "redirect@other.org", STORE_RCPT_OK, "dave@other.org", "" },
	/* 31: loops and depth */
	{ "loop1@example.com", STORE_RCPT_LOOP, NULL, NULL },
	{ "selfloop@example.com", STORE_RCPT_LOOP, NULL, NULL },
	{ "deep0@example.com", STORE_RCPT_LOOP, NULL, NULL },
	{ "deep1@example.com", STORE_RCPT_OK, "alice@example.com", "" },
	{ "ok0@example.com", STORE_RCPT_OK, "alice@example.com", "" },
};

/* Checks that the space-separated names are exactly the n items got(k). */
static bool same_set(const char *want, size_t n, const char *(*got)(void *, size_t), void *ctx)
{
	char copy[512], *save = NULL, *tok;
	size_t count = 0, k;

	snprintf(copy, sizeof(copy), "%s", want);
	for (tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		bool found = false;

		for (k = 0; k < n && !found; k++)
			found = strcasecmp(got(ctx, k), tok) == 0;
		if (!found)
			return false;
		count++;
	}
	return count == n;
}

struct names_ctx {
	struct store *s;
	const struct store_expansion *exp;
};

/* Address of the k-th account of the expansion. */
static const char *account_name(void *ctx, size_t k)
{
	static const char *const all[] = {
		"alice@example.com", "bob@example.com", "carol@example.com",
		"info@example.com", "erin@example.com", "dave@other.org",
	};
	struct names_ctx *nc = ctx;
	size_t i;

	for (i = 0; i < N(all); i++) {
		int64_t id = 0;

		if (store_account_lookup(nc->s, all[i], &id, NULL) == 1 && id == nc->exp->accounts[k])
			return all[i];
	}
	return "?";
}

static const char *remote_name(void *ctx, size_t k)
{
	struct names_ctx *nc = ctx;

	return nc->exp->remote[k];
}

static void test_store_resolve(void **state)
{
	struct fixture *f = *state;
	size_t i;

	resolve_fixture(f->s, f->dir);
	for (i = 0; i < N(resolve_cases); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		struct store_expansion exp = { 0 };
		struct names_ctx nc = { .s = f->s, .exp = &exp };
		enum store_rcpt_status status = store_resolve(f->s, c->address, &exp);

		if (status != c->status)
			fail_msg("case %zu %s: status %d, want %d", i, c->address, (int)status,
				 (int)c->status);
		if (c->accounts != NULL &&
		    (!same_set(c->accounts, exp.n_accounts, account_name, &nc) ||
		     !same_set(c->remote, exp.n_remote, remote_name, &nc)))
			fail_msg("case %zu %s: %zu accounts (first %s), %zu remote (first %s)", i,
				 c->address, exp.n_accounts,
				 exp.n_accounts ? account_name(&nc, 0) : "-", exp.n_remote,
				 exp.n_remote ? exp.remote[0] : "-");
		store_expansion_free(&exp);
		assert_null(exp.accounts);
		assert_int_equal(exp.n_remote, 0);
	}
}

/* Sender ownership for submission: own address (+tag, any case), an
 * alias reaching the account (nested too), a catch-all that targets it. */
static void test_store_account_owns_address(void **state)
{
	static const struct {
		const char *account, *address;
		int owned;
	} cases[] = {
		{ "alice@example.com", "alice@example.com", 1 },
		{ "alice@example.com", "ALICE@EXAMPLE.COM", 1 },
		{ "alice@example.com", "alice+news@example.com", 1 },
		{ "alice@example.com", "sales@example.com", 1 },	/* alias -> alice, bob */
		{ "bob@example.com", "sales@example.com", 1 },
		{ "carol@example.com", "team@example.com", 1 },		/* team -> carol */
		{ "alice@example.com", "team@example.com", 1 },		/* team -> sales -> alice */
		{ "carol@example.com", "alice+special@example.com", 1 },
		{ "dave@other.org", "anything@other.org", 1 },		/* catch-all -> dave */
		{ "alice@example.com", "bob@example.com", 0 },
		{ "alice@example.com", "anything@other.org", 0 },
		{ "alice@example.com", "fwd@example.com", 0 },		/* remote targets only */
		{ "alice@example.com", "alice@remote.net", 0 },
		{ "alice@example.com", "nosuchuser@example.com", 0 },
		{ "alice@example.com", "no-at-sign", 0 },
		{ "alice@example.com", "@example.com", 0 },
	};
	struct fixture *f = *state;
	size_t i;

	resolve_fixture(f->s, f->dir);
	for (i = 0; i < N(cases); i++) {
		int got = store_account_owns_address(f->s, account_id(f->s, cases[i].account),
						     cases[i].address);

		if (got != cases[i].owned)
			fail_msg("case %zu %s owns %s: got %d", i, cases[i].account, cases[i].address, got);
	}
}

static void test_store_resolve_too_wide(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_expansion exp = { 0 };
	char target[64];
	size_t i;

	must(s, store_domain_add(s, "example.com"), "domain");
	must(s, store_begin(s), "begin");
	for (i = 0; i < STORE_EXPAND_MAX; i++) {
		snprintf(target, sizeof(target), "r%zu@remote.net", i);
		must(s, store_alias_add(s, "wide@example.com", target), target);
	}
	must(s, store_commit(s), "commit");
	/* exactly STORE_EXPAND_MAX targets is fine */
	assert_int_equal(store_resolve(s, "wide@example.com", &exp), STORE_RCPT_OK);
	assert_int_equal(exp.n_remote, STORE_EXPAND_MAX);
	store_expansion_free(&exp);

	must(s, store_alias_add(s, "wider@example.com", "wide@example.com"), "alias");
	must(s, store_alias_add(s, "wider@example.com", "one-more@remote.net"), "alias");
	assert_int_equal(store_resolve(s, "wider@example.com", &exp), STORE_RCPT_LOOP);
	store_expansion_free(&exp);
}

/* ---- delivery ----------------------------------------------------------- */

static void sha256(const void *data, size_t len, uint8_t out[STORE_HASH_LEN])
{
	unsigned n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, STORE_HASH_LEN);
}

static void two_accounts(struct store *s, int64_t *a_r, int64_t *b_r)
{
	must(s, store_domain_add(s, "example.com"), "domain");
	must(s, store_account_add(s, "alice@example.com", HASH), "alice");
	must(s, store_account_add(s, "bob@example.com", HASH), "bob");
	*a_r = account_id(s, "alice@example.com");
	*b_r = account_id(s, "bob@example.com");
}

/* Delivers one message to the accounts (with prefix "To: <id>\r\n") and
 * the remote addresses, in a transaction of its own. */
static void deliver(struct store *s, struct store_blob *blob, const int64_t *ids, size_t n,
		    const char *const *remote, size_t n_remote, uint32_t *uids_r)
{
	struct store_delivery_rcpt rcpts[4];
	char prefixes[4][32];
	struct store_delivery d = {
		.queue_id = "q1", .sender = "sender@remote.net", .received = 1700000000,
		.rcpts = rcpts, .n_rcpts = n, .remote = remote, .n_remote = n_remote,
	};
	size_t i;

	assert_true(n <= 4);
	for (i = 0; i < n; i++) {
		snprintf(prefixes[i], sizeof(prefixes[i]), "To: %lld\r\n", (long long)ids[i]);
		rcpts[i] = (struct store_delivery_rcpt){ .account_id = ids[i], .prefix = prefixes[i],
							 .prefix_len = strlen(prefixes[i]) };
	}
	d.blob = *blob;
	must(s, store_begin(s), "begin");
	must(s, store_deliver(s, &d), "deliver");
	must(s, store_commit(s), "commit");
	blob->file_unused_r = d.blob.file_unused_r;
	for (i = 0; i < n && uids_r != NULL; i++)
		uids_r[i] = rcpts[i].uid_r;
}

/* The one message id in account's INBOX with this uid. */
static int64_t message_id(struct store *s, int64_t account, uint32_t uid)
{
	struct store_message *msgs = NULL;
	int64_t uidvalidity, id = 0;
	size_t n = 0, i;

	must(s, store_inbox_list(s, account, &uidvalidity, &msgs, &n), "inbox list");
	for (i = 0; i < n; i++) {
		if (msgs[i].uid == uid)
			id = msgs[i].id;
	}
	free(msgs);
	if (id == 0)
		fail_msg("account %lld has no uid %u", (long long)account, uid);
	return id;
}

static void delete_messages(struct store *s, int64_t account, const int64_t *ids, size_t n,
			    char ***unlink_r, size_t *n_unlink_r)
{
	*unlink_r = NULL;
	*n_unlink_r = 0;
	must(s, store_begin(s), "begin");
	must(s, store_messages_delete(s, account, ids, n, unlink_r, n_unlink_r), "delete");
	must(s, store_commit(s), "commit");
}

static void free_paths(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static int64_t count_blobs(struct store *s)
{
	struct store_stats st;

	must(s, store_stats(s, &st), "stats");
	return st.blobs;
}

static void test_store_deliver_inline_refcount(void **state)
{
	static const char body[] = "Subject: hi\r\n\r\nbody\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob blob = { .data = body, .size = sizeof(body) - 1 };
	struct store_message *msgs = NULL;
	struct store_message_body mb;
	struct store_stats st;
	int64_t a, b, ids[2], uidvalidity = 0, ma, mbob;
	uint32_t uids[2];
	char **unlink_paths, prefix[32];
	size_t n = 0, n_unlink;

	two_accounts(s, &a, &b);
	snprintf(prefix, sizeof(prefix), "To: %lld\r\n", (long long)a);
	sha256(body, sizeof(body) - 1, blob.hash);
	ids[0] = a;
	ids[1] = b;
	deliver(s, &blob, ids, 2, NULL, 0, uids);
	assert_false(blob.file_unused_r);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 1);

	/* both INBOXes list it, with the prefix counted in the size */
	must(s, store_inbox_list(s, a, &uidvalidity, &msgs, &n), "list");
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].uid, 1);
	assert_int_equal(msgs[0].size, strlen(prefix) + sizeof(body) - 1);
	assert_true(uidvalidity > 0);
	ma = msgs[0].id;
	free(msgs);
	mbob = message_id(s, b, 1);
	assert_true(ma != mbob);

	must(s, store_message_body(s, ma, &mb), "body");
	assert_int_equal(mb.prefix_len, strlen(prefix));
	assert_memory_equal(mb.prefix, prefix, strlen(prefix));
	assert_int_equal(mb.data_len, sizeof(body) - 1);
	assert_memory_equal(mb.data, body, sizeof(body) - 1);
	assert_null(mb.path);
	store_message_body_free(&mb);
	assert_null(mb.prefix);

	/* one blob, shared; UIDs go up */
	assert_int_equal(count_blobs(s), 1);
	deliver(s, &blob, ids, 1, NULL, 0, uids);
	assert_int_equal(uids[0], 2);
	assert_int_equal(count_blobs(s), 1);
	must(s, store_stats(s, &st), "stats");
	assert_int_equal(st.messages, 3);

	/* deleting some references keeps the blob */
	ids[0] = ma;
	ids[1] = message_id(s, a, 2);
	delete_messages(s, a, ids, 2, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 0);
	free_paths(unlink_paths, n_unlink);
	assert_int_equal(count_blobs(s), 1);
	must(s, store_message_body(s, mbob, &mb), "body after the others were deleted");
	assert_memory_equal(mb.data, body, sizeof(body) - 1);
	store_message_body_free(&mb);
	assert_int_equal(store_message_body(s, ma, &mb), -1);
	assert_non_null(strstr(store_error(s), "is gone"));

	/* someone else's message is not deleted */
	delete_messages(s, a, &mbob, 1, &unlink_paths, &n_unlink);
	free_paths(unlink_paths, n_unlink);
	assert_int_equal(count_blobs(s), 1);
	must(s, store_message_body(s, mbob, &mb), "body of another account's message");
	store_message_body_free(&mb);

	/* the last reference removes the blob; inline blobs have no file */
	delete_messages(s, b, &mbob, 1, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 0);
	free_paths(unlink_paths, n_unlink);
	assert_int_equal(count_blobs(s), 0);
	/* deleting again is fine */
	delete_messages(s, b, &mbob, 1, &unlink_paths, &n_unlink);
	free_paths(unlink_paths, n_unlink);
	must(s, store_inbox_list(s, b, &uidvalidity, &msgs, &n), "list");
	assert_int_equal(n, 0);
	free(msgs);
}

static void test_store_deliver_rollback(void **state)
{
	static const char body[] = "x\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_delivery_rcpt rcpt = { .prefix = "", .prefix_len = 0 };
	struct store_delivery d = { .queue_id = "q", .sender = "", .rcpts = &rcpt, .n_rcpts = 1,
				    .blob = { .data = body, .size = 3 } };
	struct store_stats st;
	int64_t a, b;

	two_accounts(s, &a, &b);
	rcpt.account_id = a;
	must(s, store_begin(s), "begin");
	must(s, store_deliver(s, &d), "deliver");
	store_rollback(s);
	must(s, store_stats(s, &st), "stats");
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.blobs, 0);

	/* an account without an INBOX (no such account) fails the delivery */
	rcpt.account_id = 9999;
	must(s, store_begin(s), "begin");
	assert_int_equal(store_deliver(s, &d), -1);
	store_rollback(s);
	must(s, store_stats(s, &st), "stats");
	assert_int_equal(st.blobs, 0);
}

static void test_store_deliver_remote_holds_a_reference(void **state)
{
	static const char body[] = "Subject: relay\r\n\r\nx\r\n";
	static const char *const remote[] = { "carol@remote.net" };
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob blob = { .data = body, .size = sizeof(body) - 1 };
	struct store_stats st;
	int64_t a, b, m;
	char **unlink_paths;
	size_t n_unlink;

	two_accounts(s, &a, &b);
	sha256(body, sizeof(body) - 1, blob.hash);
	deliver(s, &blob, &a, 1, remote, 1, NULL);
	must(s, store_stats(s, &st), "stats");
	assert_int_equal(st.queued, 1);
	m = message_id(s, a, 1);
	delete_messages(s, a, &m, 1, &unlink_paths, &n_unlink);
	free_paths(unlink_paths, n_unlink);
	/* the queue row still needs the blob */
	assert_int_equal(count_blobs(s), 1);
}

/* Spools contents into data_dir/tmp and commits it as a blob file. */
static char *blob_file(const char *dir, const char *contents, uint8_t hash[STORE_HASH_LEN])
{
	char *tmp = store_spool_path(dir, "q1"), *file = NULL, *error = NULL, *path;
	int fd;

	assert_non_null(strstr(tmp, "/tmp/q1."));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, contents, strlen(contents)), (ssize_t)strlen(contents));
	close(fd);
	sha256(contents, strlen(contents), hash);
	if (store_blob_file_commit(dir, tmp, hash, &file, &error) != 0)
		fail_msg("blob file commit: %s", error);
	assert_false(exists(tmp));
	path = store_blob_file_path(dir, file);
	assert_true(exists(path));
	free(path);
	free(tmp);
	return file;
}

static void test_store_deliver_file_blob(void **state)
{
	static const char body[] = "Subject: big\r\n\r\nlarge body\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob blob = { .size = sizeof(body) - 1 };
	struct store_message_body mb;
	char *file, *path, **unlink_paths, hex2[3];
	int64_t a, b, ids[2];
	size_t n_unlink;

	two_accounts(s, &a, &b);
	file = blob_file(f->dir, body, blob.hash);
	/* named blobs/<first two hex digits>/<hex>.<token> */
	snprintf(hex2, sizeof(hex2), "%02x", blob.hash[0]);
	assert_memory_equal(file, hex2, 2);
	assert_int_equal(file[2], '/');
	path = store_blob_file_path(f->dir, file);
	blob.file = file;
	ids[0] = a;
	ids[1] = b;
	deliver(s, &blob, ids, 2, NULL, 0, NULL);
	assert_false(blob.file_unused_r);

	must(s, store_message_body(s, message_id(s, a, 1), &mb), "body");
	assert_null(mb.data);
	assert_string_equal(mb.path, path);
	assert_memory_equal(mb.prefix, "To: ", 4);
	store_message_body_free(&mb);

	ids[0] = message_id(s, a, 1);
	delete_messages(s, a, ids, 1, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 0);
	free_paths(unlink_paths, n_unlink);
	ids[0] = message_id(s, b, 1);
	delete_messages(s, b, ids, 1, &unlink_paths, &n_unlink);
	/* the last reference is gone: the file is for the caller to unlink */
	assert_int_equal(n_unlink, 1);
	assert_string_equal(unlink_paths[0], path);
	free_paths(unlink_paths, n_unlink);
	assert_int_equal(count_blobs(s), 0);
	assert_true(exists(path));	/* the store does not unlink it itself */
	unlink(path);
	free(path);
	free(file);
}

static void test_store_deliver_identical_file_twice(void **state)
{
	static const char body[] = "Subject: same\r\n\r\nsame body\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob blob1 = { .size = sizeof(body) - 1 };
	struct store_blob blob2 = { .size = sizeof(body) - 1 };
	struct store_message_body mb;
	char *file1, *file2, *path1, **unlink_paths;
	int64_t a, b, m;
	size_t n_unlink;

	two_accounts(s, &a, &b);
	file1 = blob_file(f->dir, body, blob1.hash);
	file2 = blob_file(f->dir, body, blob2.hash);
	assert_string_not_equal(file1, file2);	/* the token tells them apart */
	path1 = store_blob_file_path(f->dir, file1);
	blob1.file = file1;
	blob2.file = file2;
	deliver(s, &blob1, &a, 1, NULL, 0, NULL);
	assert_false(blob1.file_unused_r);
	deliver(s, &blob2, &b, 1, NULL, 0, NULL);
	/* the second copy is not referenced: the caller unlinks it */
	assert_true(blob2.file_unused_r);
	assert_int_equal(count_blobs(s), 1);
	must(s, store_message_body(s, message_id(s, b, 1), &mb), "body");
	assert_string_equal(mb.path, path1);
	store_message_body_free(&mb);

	/* the same contents inline after a file: also a duplicate */
	{
		struct store_blob inl = { .data = body, .size = sizeof(body) - 1 };

		memcpy(inl.hash, blob1.hash, STORE_HASH_LEN);
		deliver(s, &inl, &a, 1, NULL, 0, NULL);
		assert_false(inl.file_unused_r);	/* no file was offered */
		assert_int_equal(count_blobs(s), 1);
	}

	m = message_id(s, a, 1);
	delete_messages(s, a, &m, 1, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 0);
	free_paths(unlink_paths, n_unlink);
	m = message_id(s, a, 2);
	delete_messages(s, a, &m, 1, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 0);
	free_paths(unlink_paths, n_unlink);
	m = message_id(s, b, 1);
	delete_messages(s, b, &m, 1, &unlink_paths, &n_unlink);
	assert_int_equal(n_unlink, 1);
	assert_string_equal(unlink_paths[0], path1);
	free_paths(unlink_paths, n_unlink);
	free(path1);
	free(file1);
	free(file2);
}

static void test_store_inline_then_file_is_unused(void **state)
{
	static const char body[] = "Subject: mixed\r\n\r\nx\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob inl = { .data = body, .size = sizeof(body) - 1 };
	struct store_blob fb = { .size = sizeof(body) - 1 };
	struct store_message_body mb;
	int64_t a, b;
	char *file;

	two_accounts(s, &a, &b);
	sha256(body, sizeof(body) - 1, inl.hash);
	deliver(s, &inl, &a, 1, NULL, 0, NULL);
	file = blob_file(f->dir, body, fb.hash);
	fb.file = file;
	deliver(s, &fb, &b, 1, NULL, 0, NULL);
	assert_true(fb.file_unused_r);
	/* bob's copy reads the inline contents */
	must(s, store_message_body(s, message_id(s, b, 1), &mb), "body");
	assert_null(mb.path);
	assert_memory_equal(mb.data, body, sizeof(body) - 1);
	store_message_body_free(&mb);
	free(file);
}

static void test_store_account_remove_deletes_mail(void **state)
{
	static const char body[] = "Subject: bye\r\n\r\nx\r\n";
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_blob blob = { .size = sizeof(body) - 1 };
	struct store_stats st;
	char *file, *path;
	int64_t a, b;

	two_accounts(s, &a, &b);
	file = blob_file(f->dir, body, blob.hash);
	path = store_blob_file_path(f->dir, file);
	blob.file = file;
	deliver(s, &blob, &a, 1, NULL, 0, NULL);
	deliver(s, &blob, &a, 1, NULL, 0, NULL);
	must(s, store_account_remove(s, "alice@example.com"), "remove");
	must(s, store_stats(s, &st), "stats");
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.blobs, 0);
	assert_int_equal(st.accounts, 1);
	/* removal commits and then unlinks the files that lost their last use */
	assert_false(exists(path));
	free(path);
	free(file);
}

static void test_store_uidvalidity_never_repeats(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct store_message *msgs = NULL;
	int64_t a, b, v1 = 0, v2 = 0;
	size_t n;

	two_accounts(s, &a, &b);
	must(s, store_inbox_list(s, a, &v1, &msgs, &n), "list");
	free(msgs);
	/* an empty INBOX reports no uidvalidity: read it from the rows */
	v1 = sql_int(f->dir, "SELECT uidvalidity FROM mailboxes WHERE account_id = 1");
	must(s, store_account_remove(s, "alice@example.com"), "remove");
	must(s, store_account_add(s, "alice@example.com", "$argon2id$x"), "add again");
	v2 = sql_int(f->dir, "SELECT max(uidvalidity) FROM mailboxes");
	/* within the same second, too: a POP3 UIDL must not repeat */
	assert_true(v2 > v1);
	assert_true(sql_int(f->dir, "SELECT count(DISTINCT uidvalidity) = count(*) FROM mailboxes") == 1);
}

static void test_store_spool_paths_are_unique(void **state)
{
	struct fixture *f = *state;
	char *p1 = store_spool_path(f->dir, "q1"), *p2 = store_spool_path(f->dir, "q1");
	char want[128];

	snprintf(want, sizeof(want), "%s/tmp/q1.", f->dir);
	assert_memory_equal(p1, want, strlen(want));
	assert_string_not_equal(p1, p2);
	free(p1);
	free(p2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_open_creates_layout),
		T(test_store_reopen_keeps_data),
		T(test_store_open_errors),
		T(test_store_foreign_keys_indexed),
		T(test_store_domains),
		T(test_store_accounts),
		T(test_store_aliases),
		T(test_store_resolve),
		T(test_store_account_owns_address),
		T(test_store_resolve_too_wide),
		T(test_store_deliver_inline_refcount),
		T(test_store_deliver_rollback),
		T(test_store_deliver_remote_holds_a_reference),
		T(test_store_deliver_file_blob),
		T(test_store_deliver_identical_file_twice),
		T(test_store_inline_then_file_is_unused),
		T(test_store_account_remove_deletes_mail),
		T(test_store_uidvalidity_never_repeats),
		T(test_store_spool_paths_are_unique),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
