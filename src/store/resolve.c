/*
 * Recipient resolution: address -> local accounts and remote addresses.
 * The order follows Postfix's virtual alias lookup: the exact alias, the
 * exact account, then the same two without a "+extension", then the
 * domain's catch-all. Alias targets are resolved again (aliases may nest,
 * STORE_ALIAS_DEPTH deep), except a target equal to the alias itself, which
 * names the account of that address ("user -> user, other" keeps a copy).
 */
#include "store/store_internal.h"
#include "core/limits.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct resolve_state {
	struct store *s;
	struct store_expansion *exp;
	size_t hits;		/* targets found, duplicates included */
	bool too_many;
	bool failed;
};

static enum store_rcpt_status resolve_address(struct resolve_state *rs, const char *address,
					      int depth);

static void add_account(struct resolve_state *rs, int64_t id)
{
	struct store_expansion *exp = rs->exp;
	size_t i;

	rs->hits++;
	for (i = 0; i < exp->n_accounts; i++) {
		if (exp->accounts[i] == id)
			return;
	}
	if (exp->n_accounts + exp->n_remote >= STORE_EXPAND_MAX) {
		rs->too_many = true;
		return;
	}
	exp->accounts = xrealloc(exp->accounts, (exp->n_accounts + 1) * sizeof(*exp->accounts));
	exp->accounts[exp->n_accounts++] = id;
}

static void add_remote(struct resolve_state *rs, const char *address)
{
	struct store_expansion *exp = rs->exp;
	size_t i;

	rs->hits++;
	for (i = 0; i < exp->n_remote; i++) {
		if (strcasecmp(exp->remote[i], address) == 0)
			return;
	}
	if (exp->n_accounts + exp->n_remote >= STORE_EXPAND_MAX) {
		rs->too_many = true;
		return;
	}
	exp->remote = xrealloc(exp->remote, (exp->n_remote + 1) * sizeof(*exp->remote));
	exp->remote[exp->n_remote++] = xstrdup(address);
}

/* Account id for local@domain_id, 0 if none. */
static int64_t find_account(struct resolve_state *rs, int64_t domain_id, const char *local)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(rs->s->db, "SELECT id FROM accounts WHERE domain_id = ?1 AND localpart = ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		rs->failed = true;
		return 0;
	}
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		rs->failed = true;
	sqlite3_finalize(st);
	return id;
}

/* Expands the alias local@domain_id if it exists. Returns true if it did. */
static bool expand_alias(struct resolve_state *rs, int64_t domain_id, const char *local,
			 const char *self, int depth)
{
	sqlite3_stmt *st = store_stmt(rs->s, STMT_ALIAS_TARGETS);
	char **targets = NULL;
	size_t n = 0, i;
	int rc;

	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_text(st, 2, local, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < STORE_EXPAND_MAX) {
		targets = xrealloc(targets, (n + 1) * sizeof(*targets));
		targets[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rs->failed = true;
	for (i = 0; i < n; i++) {
		if (strcasecmp(targets[i], self) == 0) {
			int64_t id = find_account(rs, domain_id, local);

			if (id > 0)
				add_account(rs, id);
		} else {
			resolve_address(rs, targets[i], depth + 1);
		}
		free(targets[i]);
	}
	free(targets);
	return n > 0;
}

static enum store_rcpt_status resolve_address(struct resolve_state *rs, const char *address,
					      int depth)
{
	char local[ADDRESS_MAX + 1], domain[ADDRESS_MAX + 1];
	const char *at = strrchr(address, '@');
	size_t llen, i;
	int64_t did, id;
	char *plus;

	if (depth > STORE_ALIAS_DEPTH) {
		rs->too_many = true;
		return STORE_RCPT_LOOP;
	}
	if (at == NULL || strlen(address) > ADDRESS_MAX)
		return STORE_RCPT_UNKNOWN;
	llen = (size_t)(at - address);
	memcpy(local, address, llen);
	local[llen] = '\0';
	for (i = 0; at[1 + i] != '\0'; i++)
		domain[i] = (char)tolower((unsigned char)at[1 + i]);
	domain[i] = '\0';

	sqlite3_stmt *st = store_stmt(rs->s, STMT_DOMAIN_ID);
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	did = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rs->failed = true;
		return STORE_RCPT_ERROR;
	}
	if (did == 0) {
		if (depth == 0)
			return STORE_RCPT_NOT_LOCAL;
		add_remote(rs, address);
		return STORE_RCPT_OK;
	}
	if (llen == 0)
		return STORE_RCPT_UNKNOWN;
	if (expand_alias(rs, did, local, address, depth))
		return STORE_RCPT_OK;
	if ((id = find_account(rs, did, local)) > 0) {
		add_account(rs, id);
		return STORE_RCPT_OK;
	}
	/* plus-addressing: user+tag@domain -> user@domain */
	plus = strchr(local, '+');
	if (plus != NULL && plus != local) {
		char base[ADDRESS_MAX + 1 + ADDRESS_MAX + 1];

		*plus = '\0';
		snprintf(base, sizeof(base), "%s@%s", local, domain);
		if (expand_alias(rs, did, local, base, depth))
			return STORE_RCPT_OK;
		if ((id = find_account(rs, did, local)) > 0) {
			add_account(rs, id);
			return STORE_RCPT_OK;
		}
	}
	if (expand_alias(rs, did, "", address, depth))
		return STORE_RCPT_OK;
	return STORE_RCPT_UNKNOWN;
}

enum store_rcpt_status store_resolve(struct store *s, const char *address,
				     struct store_expansion *exp)
{
	struct resolve_state rs = { .s = s, .exp = exp };
	enum store_rcpt_status status;

	status = resolve_address(&rs, address, 0);
	if (rs.failed)
		return STORE_RCPT_ERROR;
	if (rs.too_many)
		return STORE_RCPT_LOOP;
	/* An alias whose targets are all unknown local users reaches nobody. */
	if (status == STORE_RCPT_OK && rs.hits == 0)
		return STORE_RCPT_UNKNOWN;
	return status;
}

void store_expansion_free(struct store_expansion *exp)
{
	size_t i;

	for (i = 0; i < exp->n_remote; i++)
		free(exp->remote[i]);
	free(exp->remote);
	free(exp->accounts);
	memset(exp, 0, sizeof(*exp));
}

/* The own-address half of store_account_owns_address(): local@domain or
 * its "+tag"-less base names the account itself. */
static int owns_directly(struct resolve_state *rs, int64_t account_id, const char *address)
{
	char local[ADDRESS_MAX + 1];
	const char *at = strrchr(address, '@');
	sqlite3_stmt *st;
	int64_t did;
	char *plus;
	int rc;

	if (at == NULL || at == address || (size_t)(at - address) > ADDRESS_MAX)
		return 0;
	memcpy(local, address, (size_t)(at - address));
	local[at - address] = '\0';
	st = store_stmt(rs->s, STMT_DOMAIN_ID);
	sqlite3_bind_text(st, 1, at + 1, -1, SQLITE_STATIC);	/* the domain compares NOCASE */
	rc = sqlite3_step(st);
	did = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (did == 0)
		return 0;
	if (find_account(rs, did, local) == account_id)
		return 1;
	plus = strchr(local, '+');
	if (plus != NULL && plus != local) {
		*plus = '\0';
		if (find_account(rs, did, local) == account_id)
			return 1;
	}
	return rs->failed ? -1 : 0;
}

int store_account_owns_address(struct store *s, int64_t account_id, const char *address)
{
	struct resolve_state rs = { .s = s };
	struct store_expansion exp = { 0 };
	enum store_rcpt_status st;
	int owned;
	size_t i;

	if (strlen(address) > ADDRESS_MAX)
		return 0;
	owned = owns_directly(&rs, account_id, address);
	if (owned != 0)
		return owned;
	st = store_resolve(s, address, &exp);
	for (i = 0; st == STORE_RCPT_OK && i < exp.n_accounts && !owned; i++)
		owned = exp.accounts[i] == account_id;
	store_expansion_free(&exp);
	return st == STORE_RCPT_ERROR ? -1 : owned;
}
