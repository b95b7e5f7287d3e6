/*
 * Argon2id hashing and the asynchronous login check.
 */
#include "auth/auth.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static char dummy_hash[PASSWORD_HASH_MAX];

int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX])
{
	_Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");
	return crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

bool password_verify(const char *hash, const char *password, size_t len)
{
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

void auth_init(void)
{
	char random_password[33];

	random_id(random_password, 32);
	if (password_hash(random_password, 32, dummy_hash) < 0)
		fatal("cannot compute the Argon2id dummy hash (out of memory?)");
}

struct login_job {
	char *hash;		/* owned */
	char *password;		/* owned; wiped before free */
	size_t password_len;
	int64_t account_id;	/* 0 for an unknown user */
	bool ok;
	auth_done_fn *done;
	void *ctx;
};

static void login_work(void *arg)
{
	struct login_job *job = arg;

	job->ok = password_verify(job->hash, job->password, job->password_len);
}

static void login_done(void *arg)
{
	struct login_job *job = arg;

	job->done(job->ctx, job->ok ? job->account_id : 0);
	OPENSSL_cleanse(job->password, job->password_len);
	free(job->password);
	free(job->hash);
	free(job);
}

void auth_login(struct store *store, struct workers *workers, const char *address,
		const char *password, size_t password_len, auth_done_fn *done, void *ctx)
{
	struct login_job *job = xcalloc(1, sizeof(*job));
	int found;

	found = store_account_lookup(store, address, &job->account_id, &job->hash);
	if (found < 0)
		log_error("auth lookup failed: %s", store_error(store));
	if (found != 1) {
		/* Unknown user: verify against the dummy hash so the reply
		 * takes as long as for a wrong password. */
		job->hash = xstrdup(dummy_hash);
		job->account_id = 0;
	}
	job->password = xstrndup(password, password_len);
	job->password_len = password_len;
	job->done = done;
	job->ctx = ctx;
	workers_submit(workers, login_work, login_done, job);
}
