/*
 * Account security: password hashing and policy, legacy hash import,
 * TOTP two-factor (RFC 6238), app passwords, brute-force limits, the login
 * history, and the asynchronous login engine that ties them together for
 * IMAP, POP3, SMTP AUTH and the web portal.
 *
 * Hashes are Argon2id strings from libsodium ("$argon2id$v=19$m=...").
 * Verification costs tens of milliseconds and tens of MiB on purpose, so
 * the daemon never verifies on the loop thread: struct auth looks the
 * account up (a store read on the loop thread, as every session does),
 * verifies on the worker pool, writes through the committer (group
 * commit) and calls back on the loop thread. Failures are answered after
 * a growing delay (a libevent timer, never a sleep).
 *
 * Login rules (every protocol):
 *   - an unknown user costs one Argon2id verification against a dummy hash
 *     and gets the same reply after the same delay as a wrong password;
 *   - with two-factor off, the account password and app passwords work;
 *   - with two-factor on, IMAP, POP3 and SMTP accept app passwords only
 *     (mail clients cannot ask for a code); the web portal takes the
 *     account password plus a TOTP or recovery code, never an app password;
 *   - a blocked client IP or account fails at once, for every protocol;
 *   - every attempt on an existing account is added to its history;
 *     every failure is logged as one fail2ban line:
 *       auth failed protocol=imap ip=203.0.113.5 user="alice@example.com" reason=...
 *   - a successful password login with a hash of other parameters (or a
 *     legacy scheme) rehashes it to the configured Argon2id.
 */
#ifndef TERN_AUTH_AUTH_H
#define TERN_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define PASSWORD_HASH_MAX 256

struct store;
struct workers;
struct committer;
struct event_base;
struct config;

/* ---- passwords (password.c) ------------------------------------------------ */

/* Argon2id cost. Defaults are libsodium's "interactive" limits (64 MiB,
 * 2 passes); [auth] argon2_memory and argon2_iterations override them. */
struct password_params {
	uint64_t memory;	/* bytes */
	uint64_t iterations;	/* passes (libsodium opslimit) */
};
void password_params_default(struct password_params *p);
void password_params_from_config(struct password_params *p, const struct config *cfg);

/* Hashes password with Argon2id and the default (or given) parameters.
 * Returns 0, or -1 if memory for the hash could not be had. */
int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX]);
int password_hash_params(const struct password_params *p, const char *password, size_t len,
			 char out[PASSWORD_HASH_MAX]);
/* Checks password against any stored hash: Argon2id/Argon2i (libsodium) or
 * an imported "{SHA512-CRYPT}...", "{SHA256-CRYPT}...", "{BLF-CRYPT}..."
 * (libcrypt). Constant-time in the password. */
bool password_verify(const char *hash, const char *password, size_t len);
/* True when hash is not Argon2id with exactly these parameters. */
bool password_needs_rehash(const char *hash, const struct password_params *p);

/* ---- legacy hashes (legacy.c) ---------------------------------------------- */

/* Parses a Dovecot-style "{SCHEME}hash" for `tern user import-hash`:
 * {SHA512-CRYPT} ($6$), {SHA256-CRYPT} ($5$), {BLF-CRYPT} ($2a$/$2b$/$2y$),
 * {ARGON2ID}, {ARGON2I}, and {PLAIN} (hashed with Argon2id at once, never
 * stored). Sets *stored_r to the allocated string to store (a legacy
 * scheme keeps its {SCHEME} prefix so login knows how to verify it).
 * Returns 0, or -1 with *error_r. Untrusted input: fuzzed. */
int password_import_parse(const char *text, size_t len, const struct password_params *p,
			  char **stored_r, const char **error_r);
/* Verifies against a stored "{SCHEME}..." legacy hash. */
bool password_legacy_verify(const char *stored, const char *password, size_t len);

/* ---- policy (policy.c) ----------------------------------------------------- */

/* [auth] min_password_length (default 12) and min_password_score (0-4,
 * default 3). The score is zxcvbn's: log10 of the guesses the libzxcvbn
 * entropy estimate implies, bucketed <3, <6, <8, <10, >=10 as in the
 * reference zxcvbn; 3 means "at least 10^8 guesses". Score 0 turns off
 * the strength and name checks, leaving only the length. */
struct password_policy {
	unsigned min_length;
	unsigned min_score;
};
void password_policy_from_config(struct password_policy *p, const struct config *cfg);
/* The zxcvbn score 0-4 of password (NUL-terminated), with user words. */
unsigned password_score(const char *password, const char *const *user_words);
/* Returns 0 if password is acceptable for address, or -1 with a reason
 * a user can act on in reason_r ("too short: at least 12 characters"). */
int password_policy_check(const struct password_policy *p, const char *password,
			  const char *address, char *reason_r, size_t reason_size);
/* A strong random password (about 100 bits): 4 groups of 5 lowercase
 * letters and digits without look-alikes, joined by '-'. */
#define PASSWORD_GENERATED_LEN 23
void password_generate(char out[PASSWORD_GENERATED_LEN + 1]);

/* ---- app passwords and recovery codes (apppass.c) ---------------------------- */

/* "abcd-efgh-jkmn-pqrs": 16 random characters of 31, 79 bits. */
#define SECRET_CODE_LEN 19
#define RECOVERY_CODES 10
#define SECRET_DIGEST_LEN 32
void secret_code_new(char out[SECRET_CODE_LEN + 1]);
/* Digest to store and compare: SHA-256 over the code with '-' and spaces
 * dropped and letters lowercased (users retype them loosely). */
void secret_code_digest(const char *code, size_t len, uint8_t out[SECRET_DIGEST_LEN]);
/* An app password name: 1-64 printable characters. */
bool app_password_name_valid(const char *name);

/* ---- TOTP (totp.c) ---------------------------------------------------------- */

#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS 6
#define TOTP_KEY_LEN 20			/* RFC 4226 4: 160 bits */
#define TOTP_SECRET_B32_MAX 64
/* RFC 4648 base32 without padding. Returns the length written, or -1. */
int base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size);
/* Ignores case, spaces and '='. Returns bytes written, or -1. */
int base32_decode(const char *in, uint8_t *out, size_t out_size);
/* RFC 6238 HOTP value of key at time step (6 digits, HMAC-SHA-1). */
int totp_code(const uint8_t *key, size_t key_len, uint64_t step, uint32_t *code_r);
/* Checks a 6-digit code against the steps around now (±1) that are above
 * last_step. Returns the matching step, 0 if none (wrong or replayed),
 * -1 on a bad secret. Compares in constant time. */
int64_t totp_check(const char *secret_b32, const char *code, int64_t now, int64_t last_step);
/* A new random secret, base32 (32 characters). */
void totp_secret_new(char out[TOTP_SECRET_B32_MAX]);
/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=SHA1&
 * digits=6&period=30 (allocated). */
char *totp_uri(const char *issuer, const char *account, const char *secret_b32);
/* The QR code of text for a terminal, two modules per character with
 * UTF-8 half blocks and a quiet zone (allocated), or NULL. */
char *totp_qr_terminal(const char *text);
/* The QR code as an SVG document (allocated), for the web portal. */
char *totp_qr_svg(const char *text);

/* ---- brute-force limits (ratelimit.c) ----------------------------------------- */

struct ratelimit_limits {
	unsigned max_failures_per_ip;		/* then the IP is blocked */
	unsigned max_failures_per_account;	/* then the account is blocked */
	uint64_t block_seconds;			/* block length and failure memory */
	uint64_t delay_ms;			/* first failure delay; doubles */
	uint64_t delay_max_ms;
};
struct ratelimit;
struct ratelimit *ratelimit_new(const struct ratelimit_limits *limits);
void ratelimit_set_limits(struct ratelimit *rl, const struct ratelimit_limits *limits);
void ratelimit_free(struct ratelimit **rl);
/* True if ip (may be NULL) or account (may be NULL) is blocked at now.
 * An account block spares IPs that logged in to it successfully before
 * (so an attacker cannot lock its owner out). */
bool ratelimit_blocked(struct ratelimit *rl, const char *ip, const char *account, int64_t now);
/* Counts a failure; returns the delay in ms before the reply. */
uint64_t ratelimit_failure(struct ratelimit *rl, const char *ip, const char *account,
			   int64_t now);
/* Remembers ip as good for account. Resets no counts: a success from one
 * IP never clears another IP's failures. */
void ratelimit_success(struct ratelimit *rl, const char *ip, const char *account, int64_t now);
typedef void ratelimit_fn(void *ctx, const char *key, bool is_ip, unsigned failures,
			  int64_t until);
/* Calls fn for every blocked IP and account. */
void ratelimit_list(struct ratelimit *rl, int64_t now, ratelimit_fn *fn, void *ctx);
/* Clears the block and failures of an IP or an account. Returns 1 if
 * there was one, else 0. */
int ratelimit_unblock(struct ratelimit *rl, const char *key);

/* ---- the login engine (login.c), loop thread only --------------------------- */

struct auth;

/* Creates the engine; store, workers and committer are borrowed. Computes
 * the dummy hash with the configured parameters. */
struct auth *auth_new(struct event_base *base, struct store *store, struct workers *workers,
		      struct committer *committer, const struct config *cfg);
/* Takes new [auth] settings after a reload (cfg is borrowed for the call). */
void auth_set_config(struct auth *auth, const struct config *cfg);
/* Shutdown, step 1: no new worker or committer jobs; failures answer at
 * once. Call before the worker pool and the committer are freed. */
void auth_stop(struct auth *auth);
/* Shutdown, step 2: answers delayed failures and frees. */
void auth_free(struct auth **auth);
struct ratelimit *auth_ratelimit(struct auth *auth);

enum auth_status {
	AUTH_OK,
	AUTH_FAILED,		/* wrong user, password or code; blocked */
	AUTH_CODE_REQUIRED,	/* web: password right, give a TOTP or recovery code */
	AUTH_TEMPFAIL,		/* store error */
};

struct auth_request {
	const char *protocol;	/* "imap", "pop3", "smtp", "web" */
	const char *ip;		/* client IP as text, or NULL (not counted) */
	const char *user;	/* address as the client sent it */
	const char *password;	/* not NUL-terminated */
	size_t password_len;
	const char *code;	/* web: TOTP or recovery code, or NULL */
};

struct auth_result {
	enum auth_status status;
	int64_t account_id;	/* when AUTH_OK (and AUTH_CODE_REQUIRED) */
	bool app_password;	/* logged in with an app password */
	bool recovery_code;	/* web: a recovery code was used up */
};

typedef void auth_result_fn(void *ctx, const struct auth_result *res);
/* Starts a login; done runs later on the loop thread, exactly once. The
 * request's strings are copied (the password wiped after use). */
void auth_login_start(struct auth *auth, const struct auth_request *req, auth_result_fn *done,
		      void *ctx);

/* Mail protocols: done gets the account id, or 0 for any failure. */
typedef void auth_done_fn(void *ctx, int64_t account_id);
void auth_mail_login(struct auth *auth, const char *protocol, const char *ip, const char *user,
		     const char *password, size_t password_len, auth_done_fn *done, void *ctx);

/* ---- the web portal's API (login.c), loop thread only ---------------------------
 *
 * A portal session keeps account_id after AUTH_OK from auth_login_start()
 * with protocol "web" (which takes password + code, applies the same
 * limits and records the history). Then:
 *
 *   change password   auth_password_change(): current password verified on
 *                     the workers, the policy checked, the new hash made on
 *                     the workers and written through the committer.
 *   enrol two-factor  auth_totp_begin() -> secret + otpauth URI; show
 *                     totp_qr_svg(uri) and the secret; keep the secret in
 *                     the portal session; auth_totp_confirm(secret, code)
 *                     stores it and returns RECOVERY_CODES recovery codes
 *                     to show once.
 *   disable           auth_totp_disable() (ask for the password first).
 *   app passwords     auth_app_password_create() -> password shown once;
 *                     auth_app_password_list(); auth_app_password_revoke().
 *   history           auth_login_history(): the last 20 attempts.
 */

/* Result of the portal's write operations; error is a sentence for the
 * user (borrowed for the call), NULL on success. */
typedef void auth_op_fn(void *ctx, int result, const char *error);

void auth_password_change(struct auth *auth, int64_t account_id, const char *current,
			  const char *new_password, const char *ip, auth_op_fn *done, void *ctx);

struct auth_totp_enrolment {
	char secret[TOTP_SECRET_B32_MAX];	/* base32 */
	char *uri;				/* owned: otpauth:// */
};
/* Fills a new secret and its URI for the account's address. */
int auth_totp_begin(struct auth *auth, int64_t account_id, struct auth_totp_enrolment *e_r);
void auth_totp_enrolment_deinit(struct auth_totp_enrolment *e);

/* Verifies code against secret; on success stores both and the recovery
 * codes and calls done(ctx, 0, NULL, codes) with RECOVERY_CODES codes of
 * SECRET_CODE_LEN (borrowed for the call: show them once). */
typedef void auth_totp_confirm_fn(void *ctx, int result, const char *error,
				  char (*codes)[SECRET_CODE_LEN + 1]);
void auth_totp_confirm(struct auth *auth, int64_t account_id, const char *secret,
		       const char *code, auth_totp_confirm_fn *done, void *ctx);
void auth_totp_disable(struct auth *auth, int64_t account_id, auth_op_fn *done, void *ctx);
/* Two-factor state: 1 on, 0 off, -1 error; recovery codes left. */
int auth_totp_status(struct auth *auth, int64_t account_id, int *codes_left_r);

/* Creates an app password named name; done gets it (borrowed for the
 * call: show it once). */
typedef void auth_app_password_fn(void *ctx, int result, const char *error,
				  const char *password);
void auth_app_password_create(struct auth *auth, int64_t account_id, const char *name,
			      auth_app_password_fn *done, void *ctx);
typedef void auth_app_password_list_fn(void *ctx, const char *name, int64_t created,
				       int64_t last_used);
int auth_app_password_list(struct auth *auth, int64_t account_id,
			   auth_app_password_list_fn *fn, void *ctx);
void auth_app_password_revoke(struct auth *auth, int64_t account_id, const char *name,
			      auth_op_fn *done, void *ctx);

#define AUTH_HISTORY_SHOWN 20
typedef void auth_history_fn(void *ctx, int64_t when, const char *protocol, const char *ip,
			     bool success);
int auth_login_history(struct auth *auth, int64_t account_id, auth_history_fn *fn, void *ctx);

/* ---- SASL (sasl.c) ------------------------------------------------------------ */

/* Decodes an RFC 4616 PLAIN response (base64 of authzid NUL authcid NUL
 * passwd). Fills authcid and passwd (wipe passwd after use). An authzid
 * other than empty or authcid is refused: Tern has no proxy logins.
 * Returns 0 or -1 with *error_r. */
int sasl_plain_decode(const char *b64, size_t len, struct buf *authcid, struct buf *passwd,
		      const char **error_r);

/* Decodes one base64 SASL response (RFC 4954 4), e.g. a LOGIN user name
 * or password, appending it to out (at most out->max octets). "" decodes
 * to nothing; a NUL inside is refused (LOGIN strings are text). Returns 0
 * or -1 with *error_r. Wipe out after use when it held a password. */
int sasl_base64_decode(const char *b64, size_t len, struct buf *out, const char **error_r);

/* Wipes and frees a buffer that held a secret. */
void buf_wipe(struct buf *b);

#endif
