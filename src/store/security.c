/*
 * Account security rows: what a login needs (hash, two-factor secret, the
 * last TOTP step used), app passwords, recovery codes and the login
 * history. The daemon reads them on its loop-thread connection and writes
 * them through the committer (whose connection runs these same calls), so
 * every compare-and-set here is a single statement: atomic however the
 * callers interleave.
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st_r)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st_r, NULL) != SQLITE_OK)
		return store_fail_db(s, "prepare");
	return 0;
}

/* Steps a statement that returns no rows; returns the rows changed or -1. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail_db(s, what);
	return sqlite3_changes(s->db);
}

void store_auth_info_deinit(struct store_auth_info *info)
{
	free(info->address);
	free(info->hash);
	free(info->totp_secret);
	memset(info, 0, sizeof(*info));
}

#define AUTH_COLUMNS "SELECT a.id, a.localpart || '@' || d.name, a.password, a.totp_secret," \
	" a.totp_last_step FROM accounts a JOIN domains d ON d.id = a.domain_id "

static int auth_row(struct store *s, sqlite3_stmt *st, struct store_auth_info *info_r)
{
	int rc = sqlite3_step(st);

	memset(info_r, 0, sizeof(*info_r));
	if (rc == SQLITE_ROW) {
		info_r->id = sqlite3_column_int64(st, 0);
		info_r->address = store_column_dup(st, 1);
		info_r->hash = store_column_dup(st, 2);
		info_r->totp_secret = store_column_dup(st, 3);
		info_r->totp_last_step = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "account lookup");
}

int store_auth_lookup(struct store *s, const char *address, struct store_auth_info *info_r)
{
	const char *at = strrchr(address, '@');
	sqlite3_stmt *st;

	memset(info_r, 0, sizeof(*info_r));
	if (at == NULL || at == address || at[1] == '\0')
		return 0;
	if (prepare(s, AUTH_COLUMNS "WHERE d.name = lower(?1) AND a.localpart = ?2", &st) < 0)
		return -1;
	sqlite3_bind_text(st, 1, at + 1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, address, (int)(at - address), SQLITE_STATIC);
	return auth_row(s, st, info_r);
}

int store_auth_by_id(struct store *s, int64_t account_id, struct store_auth_info *info_r)
{
	sqlite3_stmt *st;

	memset(info_r, 0, sizeof(*info_r));
	if (prepare(s, AUTH_COLUMNS "WHERE a.id = ?1", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	return auth_row(s, st, info_r);
}

int store_password_rehash(struct store *s, int64_t account_id, const char *old_hash,
			  const char *new_hash)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE accounts SET password = ?3 WHERE id = ?1 AND password = ?2", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, old_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, new_hash, -1, SQLITE_STATIC);
	return step_done(s, st, "password rehash");
}

int store_password_set_id(struct store *s, int64_t account_id, const char *hash)
{
	sqlite3_stmt *st;
	int n;

	if (prepare(s, "UPDATE accounts SET password = ?2 WHERE id = ?1", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	n = step_done(s, st, "password update");
	if (n == 0)
		return store_fail(s, "no account %lld", (long long)account_id);
	return n < 0 ? -1 : 0;
}

/* ---- app passwords ------------------------------------------------------- */

int store_app_password_hashes(struct store *s, int64_t account_id, struct store_app_hash **r,
			      size_t *n_r)
{
	struct store_app_hash *v = NULL;
	size_t n = 0;
	sqlite3_stmt *st;
	int rc;

	*r = NULL;
	*n_r = 0;
	if (prepare(s, "SELECT id, hash FROM app_passwords WHERE account_id = ?1", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != STORE_HASH_LEN)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].id = sqlite3_column_int64(st, 0);
		memcpy(v[n].hash, sqlite3_column_blob(st, 1), STORE_HASH_LEN);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_fail_db(s, "app password lookup");
	}
	*r = v;
	*n_r = n;
	return 0;
}

int store_app_password_add(struct store *s, int64_t account_id, const char *name,
			   const uint8_t hash[STORE_HASH_LEN])
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "INSERT INTO app_passwords (account_id, name, hash, created)"
		    " VALUES (?1, ?2, ?3, unixepoch())", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, STORE_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_fail(s, "there is already an app password named '%s'", name);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "app password insert");
}

int store_app_password_revoke(struct store *s, int64_t account_id, const char *name)
{
	sqlite3_stmt *st;

	if (prepare(s, "DELETE FROM app_passwords WHERE account_id = ?1 AND name = ?2", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return step_done(s, st, "app password revoke");
}

int store_app_password_used(struct store *s, int64_t id, int64_t when)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE app_passwords SET last_used = ?2 WHERE id = ?1", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	return step_done(s, st, "app password update") < 0 ? -1 : 0;
}

int store_app_password_list(struct store *s, int64_t account_id, store_app_password_fn *fn,
			    void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT name, created, coalesce(last_used, 0) FROM app_passwords"
		    " WHERE account_id = ?1 ORDER BY name", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		   sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "app password list");
}

/* ---- two-factor ---------------------------------------------------------- */

int store_totp_set(struct store *s, int64_t account_id, const char *secret, int64_t last_step)
{
	sqlite3_stmt *st;
	int n;

	if (secret == NULL && store_exec_id(s, "DELETE FROM recovery_codes WHERE account_id = ?1",
					    account_id) < 0)
		return -1;
	if (prepare(s, "UPDATE accounts SET totp_secret = ?2, totp_last_step = ?3 WHERE id = ?1",
		    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	if (secret != NULL)
		sqlite3_bind_text(st, 2, secret, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, last_step);
	n = step_done(s, st, "two-factor update");
	if (n == 0)
		return store_fail(s, "no account %lld", (long long)account_id);
	return n < 0 ? -1 : 0;
}

int store_totp_use_step(struct store *s, int64_t account_id, int64_t step)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE accounts SET totp_last_step = ?2 WHERE id = ?1"
		    " AND totp_secret IS NOT NULL AND totp_last_step < ?2", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, step);
	return step_done(s, st, "two-factor step");
}

int store_recovery_codes_set(struct store *s, int64_t account_id,
			     const uint8_t (*hashes)[STORE_HASH_LEN], size_t n)
{
	sqlite3_stmt *st;
	size_t i;

	if (store_exec_id(s, "DELETE FROM recovery_codes WHERE account_id = ?1", account_id) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (prepare(s, "INSERT INTO recovery_codes (account_id, hash) VALUES (?1, ?2)",
			    &st) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, account_id);
		sqlite3_bind_blob(st, 2, hashes[i], STORE_HASH_LEN, SQLITE_STATIC);
		if (step_done(s, st, "recovery code insert") < 0)
			return -1;
	}
	return 0;
}

int store_recovery_code_use(struct store *s, int64_t account_id,
			    const uint8_t hash[STORE_HASH_LEN], int64_t when)
{
	sqlite3_stmt *st;

	if (prepare(s, "UPDATE recovery_codes SET used = ?3 WHERE id = (SELECT id FROM"
		    " recovery_codes WHERE account_id = ?1 AND hash = ?2 AND used IS NULL LIMIT 1)",
		    &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_blob(st, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, when);
	return step_done(s, st, "recovery code use");
}

int store_recovery_codes_left(struct store *s, int64_t account_id)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if (prepare(s, "SELECT count(*) FROM recovery_codes WHERE account_id = ?1"
		    " AND used IS NULL", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? n : store_fail_db(s, "recovery code count");
}

/* ---- login history ------------------------------------------------------- */

int store_login_record(struct store *s, int64_t account_id, int64_t when, const char *protocol,
		       const char *ip, bool success)
{
	sqlite3_stmt *st;

	if (prepare(s, "INSERT INTO logins (account_id, time, protocol, ip, success)"
		    " VALUES (?1, ?2, ?3, ?4, ?5)", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, when);
	sqlite3_bind_text(st, 3, protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, success ? 1 : 0);
	if (step_done(s, st, "login record") < 0)
		return -1;
	/* a brute-force run must not grow the table without bound */
	return store_exec_id(s, "DELETE FROM logins WHERE account_id = ?1 AND id <= (SELECT id"
			     " FROM logins WHERE account_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET "
			     STRINGIFY(STORE_LOGINS_KEEP) ")", account_id);
}

int store_login_history(struct store *s, int64_t account_id, unsigned limit, store_login_fn *fn,
			void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT time, protocol, ip, success FROM logins WHERE account_id = ?1"
		    " ORDER BY id DESC LIMIT ?2", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int(st, 2, (int)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3) != 0);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail_db(s, "login history");
}
