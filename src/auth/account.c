/*
 * Self-service account operations for the web portal (auth.h, "the web
 * portal's API") and the rehash after login. Reads use the loop thread's
 * store connection like every lookup; Argon2id runs on the workers and
 * every write goes through the committer.
 */
#include "auth/auth_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "store/committer.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* One operation in flight: a worker step and/or a committer step. */
struct op {
	struct auth *auth;
	int64_t account_id;
	char *password;		/* owned; wiped: what to verify or hash */
	size_t password_len;
	char *new_password;	/* owned; wiped */
	char *old_hash;		/* owned */
	char new_hash[PASSWORD_HASH_MAX];
	char *text;		/* owned: name or secret */
	char secret[SECRET_CODE_LEN + 1];
	char codes[RECOVERY_CODES][SECRET_CODE_LEN + 1];
	int64_t step;
	int result;		/* of the worker step */
	const char *error;	/* static text, or NULL */
	auth_op_fn *done;
	auth_totp_confirm_fn *confirm_done;
	auth_app_password_fn *app_done;
	void *ctx;
};

static struct op *op_new(struct auth *auth, int64_t account_id, void *ctx)
{
	struct op *op = xcalloc(1, sizeof(*op));

	op->auth = auth;
	op->account_id = account_id;
	op->ctx = ctx;
	return op;
}

static void op_free(struct op *op)
{
	if (op->password != NULL) {
		OPENSSL_cleanse(op->password, op->password_len);
		free(op->password);
	}
	if (op->new_password != NULL) {
		OPENSSL_cleanse(op->new_password, strlen(op->new_password));
		free(op->new_password);
	}
	free(op->old_hash);
	free(op->text);
	OPENSSL_cleanse(op, sizeof(*op));
	free(op);
}

/* Submits a committer step, or fails the op when shutting down. */
static bool commit(struct op *op, committer_fn *fn, committer_done_fn *done)
{
	if (op->auth->committer == NULL)
		return false;
	committer_submit(op->auth->committer, fn, done, op);
	return true;
}

/* ---- rehash ---------------------------------------------------------------------- */

static int rehash_fn(struct store *s, void *arg)
{
	struct op *op = arg;

	return store_password_rehash(s, op->account_id, op->old_hash, op->new_hash) < 0 ? -1 : 0;
}

static void rehash_committed(void *arg, int result, const char *error)
{
	struct op *op = arg;

	if (result < 0)
		log_warn("auth rehash account=%lld failed: %s", (long long)op->account_id, error);
	else
		log_info("auth rehashed account=%lld to argon2id", (long long)op->account_id);
	op_free(op);
}

static void rehash_work(void *arg)
{
	struct op *op = arg;

	op->result = password_hash_params(&op->auth->params, op->password, op->password_len,
					  op->new_hash);
}

static void rehash_hashed(void *arg)
{
	struct op *op = arg;

	if (op->result < 0 || !commit(op, rehash_fn, rehash_committed))
		op_free(op);
}

void auth_rehash_maybe(struct auth *auth, int64_t account_id, const char *hash,
		       const char *password, size_t len)
{
	struct op *op;

	if (!password_needs_rehash(hash, &auth->params) || auth->workers == NULL)
		return;
	op = op_new(auth, account_id, NULL);
	op->old_hash = xstrdup(hash);
	op->password = xstrndup(password, len);
	op->password_len = len;
	workers_submit(auth->workers, rehash_work, rehash_hashed, op);
}

/* ---- password change --------------------------------------------------------------- */

static void op_finish(void *arg, int result, const char *error)
{
	struct op *op = arg;

	if (result < 0)
		log_error("auth account=%lld update failed: %s", (long long)op->account_id, error);
	op->done(op->ctx, result < 0 ? -1 : 0, result < 0 ? (op->error ? op->error :
		 "the change could not be saved; try again later") : NULL);
	op_free(op);
}

static int password_set_fn(struct store *s, void *arg)
{
	struct op *op = arg;

	return store_password_set_id(s, op->account_id, op->new_hash);
}

static void change_work(void *arg)
{
	struct op *op = arg;

	op->result = -1;
	if (!password_verify(op->old_hash, op->password, op->password_len))
		op->error = "the current password is wrong";
	else if (password_hash_params(&op->auth->params, op->new_password,
				      strlen(op->new_password), op->new_hash) < 0)
		op->error = "the new password could not be hashed; try again later";
	else
		op->result = 0;
}

static void change_done(void *arg)
{
	struct op *op = arg;

	if (op->result < 0 || !commit(op, password_set_fn, op_finish)) {
		op->done(op->ctx, -1, op->error ? op->error : "the server is shutting down");
		op_free(op);
	}
}

void auth_password_change(struct auth *auth, int64_t account_id, const char *current,
			  const char *new_password, const char *ip, auth_op_fn *done, void *ctx)
{
	struct store_auth_info info;
	struct op *op;
	char reason[256];

	if (store_auth_by_id(auth->store, account_id, &info) != 1) {
		done(ctx, -1, "no such account");
		return;
	}
	if (password_policy_check(&auth->policy, new_password, info.address, reason,
				  sizeof(reason)) < 0) {
		store_auth_info_deinit(&info);
		done(ctx, -1, reason);
		return;
	}
	op = op_new(auth, account_id, ctx);
	op->done = done;
	op->old_hash = info.hash;
	info.hash = NULL;
	store_auth_info_deinit(&info);
	op->password = xstrdup(current);
	op->password_len = strlen(current);
	op->new_password = xstrdup(new_password);
	if (auth->workers == NULL) {
		change_done(op);
		return;
	}
	workers_submit(auth->workers, change_work, change_done, op);
}

/* ---- two-factor ------------------------------------------------------------------- */

int auth_totp_begin(struct auth *auth, int64_t account_id, struct auth_totp_enrolment *e_r)
{
	struct store_auth_info info;

	memset(e_r, 0, sizeof(*e_r));
	if (store_auth_by_id(auth->store, account_id, &info) != 1)
		return -1;
	totp_secret_new(e_r->secret);
	e_r->uri = totp_uri(auth->issuer, info.address, e_r->secret);
	store_auth_info_deinit(&info);
	return 0;
}

void auth_totp_enrolment_deinit(struct auth_totp_enrolment *e)
{
	OPENSSL_cleanse(e->secret, sizeof(e->secret));
	free(e->uri);
	e->uri = NULL;
}

static int totp_enable_fn(struct store *s, void *arg)
{
	struct op *op = arg;
	uint8_t digests[RECOVERY_CODES][SECRET_DIGEST_LEN];
	size_t i;

	for (i = 0; i < RECOVERY_CODES; i++)
		secret_code_digest(op->codes[i], strlen(op->codes[i]), digests[i]);
	if (store_totp_set(s, op->account_id, op->text, op->step) < 0)
		return -1;
	return store_recovery_codes_set(s, op->account_id,
					(const uint8_t (*)[STORE_HASH_LEN])digests, RECOVERY_CODES);
}

static void totp_enabled(void *arg, int result, const char *error)
{
	struct op *op = arg;

	if (result < 0)
		log_error("auth account=%lld enabling two-factor failed: %s",
			  (long long)op->account_id, error);
	op->confirm_done(op->ctx, result < 0 ? -1 : 0,
			 result < 0 ? "two-factor could not be saved; try again" : NULL,
			 result < 0 ? NULL : op->codes);
	op_free(op);
}

void auth_totp_confirm(struct auth *auth, int64_t account_id, const char *secret,
		       const char *code, auth_totp_confirm_fn *done, void *ctx)
{
	int64_t step = totp_check(secret, code, time_now(), 0);
	struct op *op;
	size_t i;

	if (step <= 0) {
		done(ctx, -1, "that code is not right; check the clock of your device and "
		     "enter the current code", NULL);
		return;
	}
	op = op_new(auth, account_id, ctx);
	op->confirm_done = done;
	op->text = xstrdup(secret);
	op->step = step;	/* the confirming code cannot log in again */
	for (i = 0; i < RECOVERY_CODES; i++)
		secret_code_new(op->codes[i]);
	if (!commit(op, totp_enable_fn, totp_enabled)) {
		done(ctx, -1, "the server is shutting down", NULL);
		op_free(op);
	}
}

static int totp_disable_fn(struct store *s, void *arg)
{
	struct op *op = arg;

	return store_totp_set(s, op->account_id, NULL, 0);
}

void auth_totp_disable(struct auth *auth, int64_t account_id, auth_op_fn *done, void *ctx)
{
	struct op *op = op_new(auth, account_id, ctx);

	op->done = done;
	if (!commit(op, totp_disable_fn, op_finish)) {
		done(ctx, -1, "the server is shutting down");
		op_free(op);
	}
}

int auth_totp_status(struct auth *auth, int64_t account_id, int *codes_left_r)
{
	struct store_auth_info info;
	int on;

	if (store_auth_by_id(auth->store, account_id, &info) != 1)
		return -1;
	on = info.totp_secret != NULL;
	store_auth_info_deinit(&info);
	*codes_left_r = on ? store_recovery_codes_left(auth->store, account_id) : 0;
	return on;
}

/* ---- app passwords ------------------------------------------------------------------ */

static int app_add_fn(struct store *s, void *arg)
{
	struct op *op = arg;
	uint8_t digest[SECRET_DIGEST_LEN];

	secret_code_digest(op->secret, strlen(op->secret), digest);
	if (store_app_password_add(s, op->account_id, op->text, digest) < 0) {
		op->error = strstr(store_error(s), "already") ? "an app password of that name "
			    "exists; revoke it or pick another name" : NULL;
		return -1;
	}
	return 0;
}

static void app_added(void *arg, int result, const char *error)
{
	struct op *op = arg;

	op->app_done(op->ctx, result < 0 ? -1 : 0, result < 0 ? (op->error ? op->error :
		     "the app password could not be saved") : NULL,
		     result < 0 ? NULL : op->secret);
	op_free(op);
}

void auth_app_password_create(struct auth *auth, int64_t account_id, const char *name,
			      auth_app_password_fn *done, void *ctx)
{
	struct op *op;

	if (!app_password_name_valid(name)) {
		done(ctx, -1, "a name has 1 to 64 printable characters", NULL);
		return;
	}
	op = op_new(auth, account_id, ctx);
	op->app_done = done;
	op->text = xstrdup(name);
	secret_code_new(op->secret);
	if (!commit(op, app_add_fn, app_added)) {
		done(ctx, -1, "the server is shutting down", NULL);
		op_free(op);
	}
}

int auth_app_password_list(struct auth *auth, int64_t account_id,
			   auth_app_password_list_fn *fn, void *ctx)
{
	return store_app_password_list(auth->store, account_id, fn, ctx);
}

static int app_revoke_fn(struct store *s, void *arg)
{
	struct op *op = arg;
	int n = store_app_password_revoke(s, op->account_id, op->text);

	if (n == 0)
		op->error = "there is no app password of that name";
	return n == 1 ? 0 : -1;
}

void auth_app_password_revoke(struct auth *auth, int64_t account_id, const char *name,
			      auth_op_fn *done, void *ctx)
{
	struct op *op = op_new(auth, account_id, ctx);

	op->done = done;
	op->text = xstrdup(name);
	if (!commit(op, app_revoke_fn, op_finish)) {
		done(ctx, -1, "the server is shutting down");
		op_free(op);
	}
}

int auth_login_history(struct auth *auth, int64_t account_id, auth_history_fn *fn, void *ctx)
{
	return store_login_history(auth->store, account_id, AUTH_HISTORY_SHOWN, fn, ctx);
}
