/*
 * Shared between login.c and account.c; nothing outside src/auth/
 * includes this.
 */
#ifndef TERN_AUTH_INTERNAL_H
#define TERN_AUTH_INTERNAL_H

#include "auth/auth.h"
#include "store/store.h"

struct event;

struct auth {
	struct event_base *base;	/* borrowed */
	struct store *store;		/* borrowed: the loop thread's */
	struct workers *workers;	/* borrowed; NULL once stopping */
	struct committer *committer;	/* borrowed; NULL once stopping */
	struct ratelimit *rl;		/* owned */
	struct password_params params;
	struct password_policy policy;
	uint64_t blocked_delay_ms;	/* reply delay for a blocked client */
	char *issuer;			/* owned: hostname, for otpauth URIs */
	char dummy_hash[PASSWORD_HASH_MAX];
	struct login_job *delayed;	/* failures waiting on their timer */
};

struct login_job {
	struct auth *auth;		/* borrowed */
	char *protocol, *ip, *user;	/* owned; ip may be NULL */
	char *password;			/* owned; wiped */
	size_t password_len;
	char *code;			/* owned, or NULL; wiped */
	struct store_auth_info info;	/* id 0: unknown user */
	bool verified, blocked, code_accepted;
	int64_t totp_step;
	struct auth_result res;
	auth_result_fn *done;
	void *ctx;
	struct event *timer;		/* owned: the failure delay */
	struct login_job *prev, *next;	/* auth->delayed */
};

/* After a successful password login: if hash is not Argon2id with the
 * configured parameters, hashes password again on the workers and
 * replaces it through the committer (only if still the same hash). */
void auth_rehash_maybe(struct auth *auth, int64_t account_id, const char *hash,
		       const char *password, size_t len);

#endif
