/*
 * Domains, accounts and aliases, and recipient resolution through them.
 * Admin calls run their own transactions; store_resolve() only reads.
 */
#include "store/store_internal.h"
#include "core/limits.h"
#include "core/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct addr_parts {
	char local[ADDRESS_MAX + 1];
	char domain[ADDRESS_MAX + 1];
};

/* Splits at the last '@' and lowercases the domain. "@d" gives local "". */
static int split_address(struct store *s, const char *address, struct addr_parts *p)
{
	const char *at = strrchr(address, '@');
	size_t llen, i;

	if (at == NULL || at[1] == '\0' || strlen(address) > ADDRESS_MAX)
		return store_fail(s, "'%s' is not an address of the form user@domain", address);
	llen = (size_t)(at - address);
	memcpy(p->local, address, llen);
	p->local[llen] = '\0';
	for (i = 0; at[1 + i] != '\0'; i++)
		p->domain[i] = (char)tolower((unsigned char)at[1 + i]);
	p->domain[i] = '\0';
	return 0;
}

/* Returns the domain's id, 0 if it is not ours, -1 on error. */
static int64_t domain_id(struct store *s, const char *domain)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DOMAIN_ID);
	int64_t id;
	int rc;

	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		/* a statement left on a row keeps its read transaction open, and
		 * this connection would not see later commits */
		sqlite3_reset(st);
		return id;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "domain lookup");
}

bool store_domain_exists(struct store *s, const char *domain)
{
	return domain_id(s, domain) > 0;
}

/* Prepares sql, binds the text arguments, runs it to completion. */
static int run_sql(struct store *s, const char *sql, int nargs, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i, rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	va_start(ap, nargs);
	for (i = 1; i <= nargs; i++)
		sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
	va_end(ap);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail_db(s, "update");
	return sqlite3_changes(s->db);
}

int store_domain_add(struct store *s, const char *domain)
{
	char lower[ADDRESS_MAX + 1];
	size_t i;

	if (strlen(domain) > ADDRESS_MAX)
		return store_fail(s, "domain name too long");
	for (i = 0; domain[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)domain[i]);
	lower[i] = '\0';
	if (domain_id(s, lower) > 0)
		return store_fail(s, "domain %s already exists", lower);
	if (run_sql(s, "INSERT INTO domains (name, created) VALUES (?1, unixepoch())", 1, lower) < 0)
		return -1;
	return 0;
}

int store_domain_remove(struct store *s, const char *domain)
{
	sqlite3_stmt *st;
	int64_t id = domain_id(s, domain), users = 0, aliases = 0;

	if (id <= 0)
		return id < 0 ? -1 : store_fail(s, "domain %s does not exist", domain);
	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT count(*) FROM accounts WHERE domain_id = ?1),"
			       " (SELECT count(*) FROM aliases WHERE domain_id = ?1)", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		users = sqlite3_column_int64(st, 0);
		aliases = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (users > 0 || aliases > 0)
		return store_fail(s, "domain %s still has %lld users and %lld aliases; remove them first",
				  domain, (long long)users, (long long)aliases);
	return run_sql(s, "DELETE FROM domains WHERE name = ?1", 1, domain) < 0 ? -1 : 0;
}

int store_domain_list(struct store *s, store_domain_fn *fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT name, (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id),"
			       " (SELECT count(*) FROM aliases l WHERE l.domain_id = d.id)"
			       " FROM domains d ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		   sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "domain list");
}

int store_account_lookup(struct store *s, const char *address, int64_t *id_r, char **hash_r)
{
	struct addr_parts p;
	sqlite3_stmt *st;
	int rc;

	if (split_address(s, address, &p) < 0)
		return 0;
	st = store_stmt(s, STMT_ACCOUNT_LOOKUP);
	sqlite3_bind_text(st, 1, p.domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p.local, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(st, 0);
		if (hash_r != NULL)
			*hash_r = xstrdup((const char *)sqlite3_column_text(st, 1));
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "account lookup");
}

int store_account_add(struct store *s, const char *address, const char *hash)
{
	struct addr_parts p;
	sqlite3_stmt *st;
	int64_t did, id;
	int rc;

	if (split_address(s, address, &p) < 0)
		return -1;
	if (p.local[0] == '\0')
		return store_fail(s, "'%s' has no user part", address);
	if (store_begin(s) < 0)
		return -1;
	did = domain_id(s, p.domain);
	if (did <= 0) {
		if (did == 0)
			store_fail(s, "domain %s does not exist; add it with 'tern domain add %s'",
				   p.domain, p.domain);
		goto fail;
	}
	if (store_account_lookup(s, address, &id, NULL) != 0) {
		store_fail(s, "user %s@%s already exists", p.local, p.domain);
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO accounts (domain_id, localpart, password, created)"
			       " VALUES (?1, ?2, ?3, unixepoch())", -1, &st, NULL) != SQLITE_OK) {
		store_fail_db(s, "prepare");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, did);
	sqlite3_bind_text(st, 2, p.local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_fail_db(s, "account insert");
		goto fail;
	}
	id = sqlite3_last_insert_rowid(s->db);
	/* UIDVALIDITY (and so POP3 UIDLs) must never repeat, even for a user
	 * removed and added again within one second: strictly increasing.
	 * The special-use mailboxes (RFC 6154) are what clients look for. */
	if (sqlite3_prepare_v2(s->db, "INSERT INTO mailboxes (account_id, name, uidvalidity,"
			       " special_use) SELECT ?1, v.column1, (SELECT max(unixepoch(),"
			       " coalesce(max(uidvalidity), 0) + 1) FROM mailboxes) + v.column3,"
			       " v.column2 FROM (VALUES ('INBOX', NULL, 0), ('Drafts', '\\Drafts', 1),"
			       " ('Sent', '\\Sent', 2), ('Trash', '\\Trash', 3),"
			       " ('Junk', '\\Junk', 4), ('Archive', '\\Archive', 5)) v",
			       -1, &st, NULL) != SQLITE_OK) {
		store_fail_db(s, "prepare");
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_fail_db(s, "mailbox insert");
		goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

int store_account_set_password(struct store *s, const char *address, const char *hash)
{
	struct addr_parts p;
	int n;

	if (split_address(s, address, &p) < 0)
		return -1;
	n = run_sql(s, "UPDATE accounts SET password = ?3 WHERE localpart = ?2 AND domain_id ="
		    " (SELECT id FROM domains WHERE name = ?1)", 3, p.domain, p.local, hash);
	if (n == 0)
		return store_fail(s, "user %s does not exist", address);
	return n < 0 ? -1 : 0;
}

int store_quota_set(struct store *s, const char *address, uint64_t limit)
{
	struct addr_parts p;
	char value[32];
	int n;

	if (split_address(s, address, &p) < 0)
		return -1;
	snprintf(value, sizeof(value), "%llu", (unsigned long long)limit);
	n = run_sql(s, "UPDATE accounts SET quota = CAST(?3 AS INTEGER) WHERE localpart = ?2 AND"
		    " domain_id = (SELECT id FROM domains WHERE name = ?1)", 3, p.domain, p.local,
		    value);
	if (n == 0)
		return store_fail(s, "user %s does not exist", address);
	return n < 0 ? -1 : 0;
}

int store_account_list(struct store *s, const char *domain, store_account_fn *fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT a.localpart || '@' || d.name,"
			       " (SELECT count(*) FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id"
			       "  WHERE mb.account_id = a.id),"
			       " (SELECT coalesce(sum(m.size), 0) FROM messages m JOIN mailboxes mb"
			       "  ON mb.id = m.mailbox_id WHERE mb.account_id = a.id)"
			       " FROM accounts a JOIN domains d ON d.id = a.domain_id"
			       " WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.name, a.localpart",
			       -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	if (domain != NULL)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		   sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "user list");
}

int store_alias_add(struct store *s, const char *source, const char *target)
{
	struct addr_parts p;
	char did_text[32];
	int64_t did;

	if (split_address(s, source, &p) < 0)
		return -1;
	did = domain_id(s, p.domain);
	if (did <= 0)
		return did < 0 ? -1 : store_fail(s, "domain %s does not exist", p.domain);
	if (strchr(target, '@') == NULL || strlen(target) > ADDRESS_MAX)
		return store_fail(s, "target '%s' is not an address of the form user@domain", target);
	/* source == target is allowed: with other targets it keeps a copy in
	 * the account of that address (resolve.c). */
	snprintf(did_text, sizeof(did_text), "%lld", (long long)did);
	if (run_sql(s, "INSERT INTO aliases (domain_id, localpart, target) VALUES (?1, ?2, ?3)"
		    " ON CONFLICT DO NOTHING", 3, did_text, p.local, target) < 0)
		return -1;
	return 0;
}

int store_alias_remove(struct store *s, const char *source, const char *target)
{
	struct addr_parts p;
	int n;

	if (split_address(s, source, &p) < 0)
		return -1;
	if (target == NULL)
		n = run_sql(s, "DELETE FROM aliases WHERE localpart = ?2 AND domain_id ="
			    " (SELECT id FROM domains WHERE name = ?1)", 2, p.domain, p.local);
	else
		n = run_sql(s, "DELETE FROM aliases WHERE localpart = ?2 AND target = ?3 AND domain_id ="
			    " (SELECT id FROM domains WHERE name = ?1)", 3, p.domain, p.local, target);
	if (n == 0)
		return store_fail(s, "no alias %s%s%s", source, target ? " -> " : "", target ? target : "");
	return n < 0 ? -1 : 0;
}

int store_alias_list(struct store *s, const char *domain, store_alias_fn *fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT l.localpart || '@' || d.name, l.target FROM aliases l"
			       " JOIN domains d ON d.id = l.domain_id WHERE ?1 IS NULL OR d.name = ?1"
			       " ORDER BY d.name, l.localpart, l.id", -1, &st, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	if (domain != NULL)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "alias list");
}
