/*
 * Argon2id hashing with configurable cost, and verification of every hash
 * Tern may hold: its own Argon2id, Argon2i/Argon2id imported from another
 * server, and the crypt(3) schemes of legacy.c. Pure functions, safe on
 * any thread; the slow ones run on the worker pool (login.c).
 */
#include "auth/auth.h"
#include "core/config.h"

#include <sodium.h>
#include <string.h>

void password_params_default(struct password_params *p)
{
	p->memory = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
	p->iterations = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

void password_params_from_config(struct password_params *p, const struct config *cfg)
{
	p->memory = cfg->auth_argon2_memory;
	p->iterations = cfg->auth_argon2_iterations;
}

int password_hash_params(const struct password_params *p, const char *password, size_t len,
			 char out[PASSWORD_HASH_MAX])
{
	_Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_argon2id_STRBYTES, "hash buffer too small");
	return crypto_pwhash_argon2id_str(out, password, len, (unsigned long long)p->iterations,
					  (size_t)p->memory);
}

int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX])
{
	struct password_params p;

	password_params_default(&p);
	return password_hash_params(&p, password, len, out);
}

bool password_verify(const char *hash, const char *password, size_t len)
{
	if (hash[0] == '{')
		return password_legacy_verify(hash, password, len);
	/* crypto_pwhash_str_verify() takes $argon2id$ and $argon2i$ */
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

bool password_needs_rehash(const char *hash, const struct password_params *p)
{
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return true;
	return crypto_pwhash_argon2id_str_needs_rehash(hash, (unsigned long long)p->iterations,
						       (size_t)p->memory) != 0;
}
