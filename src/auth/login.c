/*
 * The login engine (auth.h, "the login engine"): one struct login_job per
 * attempt walks  blocked? -> lookup (loop) -> app password? (loop, a
 * SHA-256) -> Argon2id or legacy verify (worker) -> two-factor rules and,
 * for the portal, a code checked and used up in the committer -> reply,
 * delayed by a timer on failure. History rows, app password use times
 * and rehashes go through the committer; nothing here blocks the loop.
 */
#include "auth/auth_internal.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "store/committer.h"
#include "store/store.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>


static void set_config(struct auth *auth, const struct config *cfg)
{
	struct ratelimit_limits lim = {
		.max_failures_per_ip = (unsigned)cfg->auth_max_failures_per_ip,
		.max_failures_per_account = (unsigned)cfg->auth_max_failures_per_account,
		.block_seconds = cfg->auth_block_time,
		.delay_ms = cfg->auth_failure_delay * 1000,
		.delay_max_ms = cfg->auth_failure_delay_max * 1000,
	};
	struct password_params old = auth->params;
	char random_password[33];

	password_params_from_config(&auth->params, cfg);
	auth->blocked_delay_ms = cfg->auth_failure_delay_max * 1000;
	password_policy_from_config(&auth->policy, cfg);
	free(auth->issuer);
	auth->issuer = xstrdup(cfg->hostname);
	if (auth->rl == NULL)
		auth->rl = ratelimit_new(&lim);
	else
		ratelimit_set_limits(auth->rl, &lim);
	if (auth->dummy_hash[0] != '\0' && old.memory == auth->params.memory &&
	    old.iterations == auth->params.iterations)
		return;
	/* unknown users must cost what a real account's check costs */
	random_id(random_password, 32);
	if (password_hash_params(&auth->params, random_password, 32, auth->dummy_hash) < 0)
		fatal("cannot compute the Argon2id dummy hash (out of memory?)");
}

struct auth *auth_new(struct event_base *base, struct store *store, struct workers *workers,
		      struct committer *committer, const struct config *cfg)
{
	struct auth *auth = xcalloc(1, sizeof(*auth));

	auth->base = base;
	auth->store = store;
	auth->workers = workers;
	auth->committer = committer;
	set_config(auth, cfg);
	return auth;
}

void auth_set_config(struct auth *auth, const struct config *cfg)
{
	set_config(auth, cfg);
}

struct ratelimit *auth_ratelimit(struct auth *auth)
{
	return auth->rl;
}

void auth_stop(struct auth *auth)
{
	auth->workers = NULL;
	auth->committer = NULL;
}

static void job_free(struct login_job *job)
{
	if (job->password != NULL) {
		OPENSSL_cleanse(job->password, job->password_len);
		free(job->password);
	}
	if (job->code != NULL) {
		OPENSSL_cleanse(job->code, strlen(job->code));
		free(job->code);
	}
	free(job->protocol);
	free(job->ip);
	free(job->user);
	store_auth_info_deinit(&job->info);
	if (job->timer != NULL)
		event_free(job->timer);
	free(job);
}

static void deliver(struct login_job *job)
{
	struct auth *auth = job->auth;

	if (job->timer != NULL) {
		if (job->prev != NULL)
			job->prev->next = job->next;
		else
			auth->delayed = job->next;
		if (job->next != NULL)
			job->next->prev = job->prev;
	}
	job->done(job->ctx, &job->res);
	job_free(job);
}

void auth_free(struct auth **authp)
{
	struct auth *auth = *authp;

	if (auth == NULL)
		return;
	auth_stop(auth);
	while (auth->delayed != NULL)
		deliver(auth->delayed);
	ratelimit_free(&auth->rl);
	free(auth->issuer);
	free(auth);
	*authp = NULL;
}

/* ---- committer jobs ------------------------------------------------------------ */

struct history_job {
	int64_t account_id, when;
	char protocol[8];
	char ip[48];
	bool success;
};

static int history_fn(struct store *s, void *arg)
{
	struct history_job *h = arg;

	return store_login_record(s, h->account_id, h->when, h->protocol, h->ip, h->success);
}

static void history_done(void *arg, int result, const char *error)
{
	if (result < 0)
		log_warn("auth history write failed: %s", error);
	free(arg);
}

static void record_history(struct login_job *job, bool success)
{
	struct history_job *h;

	if (job->info.id <= 0 || job->auth->committer == NULL)
		return;
	h = xcalloc(1, sizeof(*h));
	h->account_id = job->info.id;
	h->when = time_now();
	snprintf(h->protocol, sizeof(h->protocol), "%s", job->protocol);
	snprintf(h->ip, sizeof(h->ip), "%s", job->ip != NULL ? job->ip : "");
	h->success = success;
	committer_submit(job->auth->committer, history_fn, history_done, h);
}

static int app_used_fn(struct store *s, void *arg)
{
	int64_t *id = arg;

	return store_app_password_used(s, id[0], id[1]);
}

static void app_used_done(void *arg, int result, const char *error)
{
	free(arg);
}

/* ---- replies ---------------------------------------------------------------- */

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
	deliver(arg);
}

static void fail(struct login_job *job, const char *reason)
{
	struct auth *auth = job->auth;
	char esc[LOG_ESCAPE_MAX];
	uint64_t delay = 0;
	struct timeval tv;

	job->res.status = AUTH_FAILED;
	job->res.account_id = 0;
	if (!job->blocked)
		delay = ratelimit_failure(auth->rl, job->ip, job->user, time_now());
	else
		delay = auth->blocked_delay_ms;
	/* one line per failure, in a fixed form for fail2ban (docs/security.md) */
	log_warn("auth failed protocol=%s ip=%s user=\"%s\" reason=%s", job->protocol,
		 job->ip != NULL ? job->ip : "-", log_escape(esc, job->user, strlen(job->user)),
		 reason);
	record_history(job, false);
	if (delay == 0 || auth->workers == NULL) {
		deliver(job);
		return;
	}
	job->timer = evtimer_new(auth->base, delay_cb, job);
	if (job->timer == NULL) {
		deliver(job);
		return;
	}
	job->next = auth->delayed;
	if (auth->delayed != NULL)
		auth->delayed->prev = job;
	auth->delayed = job;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(job->timer, &tv);
}

static void succeed(struct login_job *job, const char *method)
{
	char esc[LOG_ESCAPE_MAX];

	job->res.status = AUTH_OK;
	job->res.account_id = job->info.id;
	ratelimit_success(job->auth->rl, job->ip, job->user, time_now());
	log_info("auth ok protocol=%s ip=%s user=\"%s\" method=%s", job->protocol,
		 job->ip != NULL ? job->ip : "-", log_escape(esc, job->user, strlen(job->user)),
		 method);
	record_history(job, true);
	if (!strcmp(method, "password"))
		auth_rehash_maybe(job->auth, job->info.id, job->info.hash, job->password,
				  job->password_len);
	deliver(job);
}

/* ---- the steps ------------------------------------------------------------------ */

/* An app password of the account matching the password: its row id, or 0. */
static int64_t app_password_match(struct login_job *job)
{
	uint8_t digest[SECRET_DIGEST_LEN];
	struct store_app_hash *v = NULL;
	size_t n = 0, i;
	int64_t id = 0;

	if (store_app_password_hashes(job->auth->store, job->info.id, &v, &n) < 0) {
		log_error("auth app password lookup failed: %s", store_error(job->auth->store));
		return 0;
	}
	if (n == 0)
		return 0;
	secret_code_digest(job->password, job->password_len, digest);
	for (i = 0; i < n; i++) {
		if (CRYPTO_memcmp(digest, v[i].hash, SECRET_DIGEST_LEN) == 0)
			id = v[i].id;
	}
	free(v);
	return id;
}

static void code_done(void *arg, int result, const char *error)
{
	struct login_job *job = arg;

	if (result < 0) {
		log_error("auth code check failed: %s", error);
		fail(job, "store_error");
	} else if (job->code_accepted) {
		succeed(job, job->res.recovery_code ? "password+recovery_code" : "password+totp");
	} else {
		fail(job, "code_wrong_or_used");
	}
}

static int code_fn(struct store *s, void *arg)
{
	struct login_job *job = arg;
	uint8_t digest[SECRET_DIGEST_LEN];
	int n;

	if (job->totp_step > 0) {
		n = store_totp_use_step(s, job->info.id, job->totp_step);
	} else {
		secret_code_digest(job->code, strlen(job->code), digest);
		n = store_recovery_code_use(s, job->info.id, digest, time_now());
		job->res.recovery_code = n == 1;
	}
	job->code_accepted = n == 1;
	return n < 0 ? -1 : 0;
}

/* Portal with two-factor: the password was right; now the code. */
static void check_code(struct login_job *job)
{
	if (job->code == NULL || job->code[0] == '\0') {
		job->res.status = AUTH_CODE_REQUIRED;
		job->res.account_id = job->info.id;
		deliver(job);
		return;
	}
	if (job->auth->committer == NULL) {
		fail(job, "shutting_down");
		return;
	}
	job->totp_step = 0;
	if (strlen(job->code) == TOTP_DIGITS && strspn(job->code, "0123456789") == TOTP_DIGITS) {
		job->totp_step = totp_check(job->info.totp_secret, job->code, time_now(),
					    job->info.totp_last_step);
		if (job->totp_step <= 0) {
			fail(job, "code_wrong_or_used");
			return;
		}
	}
	/* the step (or recovery code) is used up in one conditional UPDATE,
	 * so two logins racing with one code cannot both pass */
	committer_submit(job->auth->committer, code_fn, code_done, job);
}

static void verify_work(void *arg)
{
	struct login_job *job = arg;
	const char *hash = job->info.id > 0 ? job->info.hash : job->auth->dummy_hash;

	job->verified = password_verify(hash, job->password, job->password_len) && job->info.id > 0;
}

static void verify_done(void *arg)
{
	struct login_job *job = arg;
	bool web = !strcmp(job->protocol, "web");

	if (job->info.id <= 0)
		fail(job, "unknown_user");
	else if (!job->verified)
		fail(job, "wrong_password");
	else if (job->info.totp_secret != NULL && !web)
		fail(job, "app_password_required");
	else if (job->info.totp_secret != NULL)
		check_code(job);
	else
		succeed(job, "password");
}

static void start(struct login_job *job)
{
	struct auth *auth = job->auth;
	int64_t app_id;
	int found;

	if (ratelimit_blocked(auth->rl, job->ip, job->user, time_now())) {
		job->blocked = true;
		fail(job, "blocked");
		return;
	}
	found = store_auth_lookup(auth->store, job->user, &job->info);
	if (found < 0) {
		log_error("auth lookup failed: %s", store_error(auth->store));
		job->res.status = AUTH_TEMPFAIL;
		deliver(job);
		return;
	}
	if (found == 1 && strcmp(job->protocol, "web") != 0 &&
	    (app_id = app_password_match(job)) > 0) {
		if (auth->committer != NULL) {
			int64_t *used = xmalloc(2 * sizeof(*used));

			used[0] = app_id;
			used[1] = time_now();
			committer_submit(auth->committer, app_used_fn, app_used_done, used);
		}
		job->res.app_password = true;
		succeed(job, "app_password");
		return;
	}
	if (auth->workers == NULL) {
		fail(job, "shutting_down");
		return;
	}
	workers_submit(auth->workers, verify_work, verify_done, job);
}

void auth_login_start(struct auth *auth, const struct auth_request *req, auth_result_fn *done,
		      void *ctx)
{
	struct login_job *job = xcalloc(1, sizeof(*job));

	job->auth = auth;
	job->protocol = xstrdup(req->protocol);
	job->ip = req->ip != NULL ? xstrdup(req->ip) : NULL;
	job->user = xstrdup(req->user);
	job->password = xstrndup(req->password, req->password_len);
	job->password_len = req->password_len;
	job->code = req->code != NULL ? xstrdup(req->code) : NULL;
	job->done = done;
	job->ctx = ctx;
	start(job);
}

/* ---- mail protocols -------------------------------------------------------------- */

struct mail_login {
	auth_done_fn *done;
	void *ctx;
};

static void mail_done(void *arg, const struct auth_result *res)
{
	struct mail_login *m = arg;

	m->done(m->ctx, res->status == AUTH_OK ? res->account_id : 0);
	free(m);
}

void auth_mail_login(struct auth *auth, const char *protocol, const char *ip, const char *user,
		     const char *password, size_t password_len, auth_done_fn *done, void *ctx)
{
	struct auth_request req = {
		.protocol = protocol, .ip = ip, .user = user,
		.password = password, .password_len = password_len,
	};
	struct mail_login *m = xmalloc(sizeof(*m));

	m->done = done;
	m->ctx = ctx;
	auth_login_start(auth, &req, mail_done, m);
}

