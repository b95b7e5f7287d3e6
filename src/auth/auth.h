/*
 * Passwords and logins. Hashes are Argon2id strings from libsodium
 * ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"). Verification costs tens of
 * milliseconds and tens of MiB on purpose, so protocol sessions never
 * verify on the loop thread: auth_login() looks the account up, then
 * verifies on the worker pool and calls back on the loop thread.
 */
#ifndef TERN_AUTH_AUTH_H
#define TERN_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define PASSWORD_HASH_MAX 128

struct store;
struct workers;

/* Hashes password with Argon2id (libsodium "interactive" limits). Returns
 * 0, or -1 if memory for the hash could not be had. */
int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX]);
/* Constant-time check of password against an encoded hash. */
bool password_verify(const char *hash, const char *password, size_t len);

/* Called on the loop thread with the account id, or 0 when the address or
 * password is wrong (the two are never told apart). */
typedef void auth_done_fn(void *ctx, int64_t account_id);

/* Prepares the hash used for unknown users, so they cost as much time as
 * a wrong password. Call once at startup. */
void auth_init(void);
/* Starts a login check; done runs later, on the loop thread. The password
 * is copied and wiped after use. */
void auth_login(struct store *store, struct workers *workers, const char *address,
		const char *password, size_t password_len, auth_done_fn *done, void *ctx);

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
