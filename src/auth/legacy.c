/*
 * Hashes imported from other servers (Dovecot passwd-files and SQL
 * tables) so users can move to Tern without a password reset. The crypt(3)
 * schemes are verified with libxcrypt's crypt_rn() and stay stored with
 * their Dovecot "{SCHEME}" prefix until the first successful login
 * rehashes them to Argon2id (login.c). {PLAIN} is hashed at import and
 * never stored; DES/MD5 crypt and unsalted digests are refused: too weak
 * to keep even for a while.
 */
#include "auth/auth.h"
#include "core/util.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LEGACY_HASH_MAX 200	/* "$2b$" 60, "$6$rounds=...$" ~120 */

struct legacy_scheme {
	const char *name;	/* with braces */
	const char *const prefixes[4];	/* crypt(3) setting prefixes it allows */
};

static const struct legacy_scheme schemes[] = {
	{ "{SHA512-CRYPT}", { "$6$", NULL } },
	{ "{SHA256-CRYPT}", { "$5$", NULL } },
	{ "{BLF-CRYPT}", { "$2b$", "$2y$", "$2a$", NULL } },
};

/* The scheme text starts with (case-insensitive), or NULL. */
static const struct legacy_scheme *scheme_of(const char *text, size_t len, size_t *name_len_r)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		n = strlen(schemes[i].name);
		if (len >= n && strncasecmp(text, schemes[i].name, n) == 0) {
			*name_len_r = n;
			return &schemes[i];
		}
	}
	return NULL;
}

/* crypt(3) output alphabet plus the separators of its settings; argon2
 * strings add ',' and '+' (standard base64). */
static bool crypt_chars_ok(const char *s, size_t len, bool argon2)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '/' || c == '$' || c == '=' ||
		      (argon2 && (c == ',' || c == '+'))))
			return false;
	}
	return true;
}

/* Work factors above these would tie a worker thread up for seconds on
 * every login attempt (a denial of service through an imported hash):
 * Dovecot's defaults are 5000 rounds and bcrypt cost 5-12. */
#define LEGACY_SHA_ROUNDS_MAX 500000
#define LEGACY_BCRYPT_COST_MAX 14

static bool b64_run(const char *s, size_t n)
{
	static const char alphabet[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
			return false;
	}
	return true;
}

/* "$6$[rounds=N$]salt$hash" with the lengths crypt(3) produces. */
static bool sha_crypt_shape(const char *h, size_t len, size_t hash_len)
{
	const char *p = h + 3, *dollar;
	uint64_t rounds;

	if (strncmp(p, "rounds=", 7) == 0) {
		dollar = strchr(p, '$');
		if (dollar == NULL || parse_uint(p + 7, (size_t)(dollar - p - 7),
						 LEGACY_SHA_ROUNDS_MAX, &rounds) < 0)
			return false;
		p = dollar + 1;
	}
	dollar = strchr(p, '$');
	if (dollar == NULL || dollar == p || dollar - p > 16 || !b64_run(p, (size_t)(dollar - p)))
		return false;
	return (size_t)(h + len - dollar - 1) == hash_len && b64_run(dollar + 1, hash_len);
}

/* "$2b$NN$" + 22 salt + 31 hash characters */
static bool bcrypt_shape(const char *h, size_t len)
{
	uint64_t cost;

	return len == 60 && h[6] == '$' && parse_uint(h + 4, 2, LEGACY_BCRYPT_COST_MAX, &cost) == 0 &&
	       cost >= 4 && b64_run(h + 7, 53);
}

static int parse_crypt(const struct legacy_scheme *sc, const char *h, size_t len,
		       char **stored_r, const char **error_r)
{
	char copy[LEGACY_HASH_MAX + 1];
	size_t i;
	bool prefix_ok = false;

	if (len == 0 || len > LEGACY_HASH_MAX || !crypt_chars_ok(h, len, false)) {
		*error_r = "the hash has characters or a length crypt(3) never produces";
		return -1;
	}
	for (i = 0; sc->prefixes[i] != NULL; i++)
		prefix_ok |= len > strlen(sc->prefixes[i]) &&
			     !strncmp(h, sc->prefixes[i], strlen(sc->prefixes[i]));
	if (!prefix_ok) {
		*error_r = "the hash does not match its {SCHEME} (e.g. {SHA512-CRYPT} needs $6$)";
		return -1;
	}
	/* the shape checks use string functions: give them a terminated copy */
	memcpy(copy, h, len);
	copy[len] = '\0';
	if (!(copy[1] == '6' ? sha_crypt_shape(copy, len, 86) :
	      copy[1] == '5' ? sha_crypt_shape(copy, len, 43) : bcrypt_shape(copy, len))) {
		*error_r = "the hash is malformed, or its rounds/cost are beyond what Tern accepts";
		return -1;
	}
	/* LEGACY: enabled but not for new hashes, which is what we want */
	if (crypt_checksalt(copy) != CRYPT_SALT_OK && crypt_checksalt(copy) != CRYPT_SALT_METHOD_LEGACY) {
		*error_r = "the hash's salt or parameters are not valid for its scheme";
		return -1;
	}
	*stored_r = xasprintf("%s%s", sc->name, copy);
	return 0;
}

/* {ARGON2ID}/{ARGON2I}: libsodium's own string format. */
static int parse_argon2(const char *h, size_t len, bool id, char **stored_r, const char **error_r)
{
	const char *prefix = id ? "$argon2id$v=19$m=" : "$argon2i$v=19$m=";

	if (len > LEGACY_HASH_MAX || len <= strlen(prefix) || strncmp(h, prefix, strlen(prefix)) ||
	    !crypt_chars_ok(h, len, true) || memchr(h, '\0', len) != NULL) {
		*error_r = id ? "an {ARGON2ID} hash starts with $argon2id$v=19$m="
			      : "an {ARGON2I} hash starts with $argon2i$v=19$m=";
		return -1;
	}
	*stored_r = xstrndup(h, len);
	return 0;
}

static int parse_plain(const char *pw, size_t len, const struct password_params *p,
		       char **stored_r, const char **error_r)
{
	char hash[PASSWORD_HASH_MAX];

	if (len == 0 || len > 1024 || memchr(pw, '\0', len) != NULL) {
		*error_r = "a {PLAIN} password must have 1 to 1024 characters";
		return -1;
	}
	if (password_hash_params(p, pw, len, hash) < 0) {
		*error_r = "cannot hash the password (out of memory)";
		return -1;
	}
	*stored_r = xstrdup(hash);
	return 0;
}

int password_import_parse(const char *text, size_t len, const struct password_params *p,
			  char **stored_r, const char **error_r)
{
	const struct legacy_scheme *sc;
	size_t n = 0;

	*stored_r = NULL;
	sc = scheme_of(text, len, &n);
	if (sc != NULL)
		return parse_crypt(sc, text + n, len - n, stored_r, error_r);
	if (len >= 10 && strncasecmp(text, "{ARGON2ID}", 10) == 0)
		return parse_argon2(text + 10, len - 10, true, stored_r, error_r);
	if (len >= 9 && strncasecmp(text, "{ARGON2I}", 9) == 0)
		return parse_argon2(text + 9, len - 9, false, stored_r, error_r);
	if (len >= 7 && strncasecmp(text, "{PLAIN}", 7) == 0)
		return parse_plain(text + 7, len - 7, p, stored_r, error_r);
	*error_r = "unsupported scheme: use {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, "
		   "{ARGON2ID}, {ARGON2I} or {PLAIN}";
	return -1;
}

bool password_legacy_verify(const char *stored, const char *password, size_t len)
{
	struct crypt_data *data;
	const char *setting, *out;
	char *phrase;
	size_t n = 0;
	bool ok = false;

	if (scheme_of(stored, strlen(stored), &n) == NULL || memchr(password, '\0', len) != NULL)
		return false;
	setting = stored + n;
	data = xcalloc(1, sizeof(*data));
	phrase = xstrndup(password, len);
	out = crypt_rn(phrase, setting, data, (int)sizeof(*data));
	if (out != NULL && out[0] != '*' && strlen(out) == strlen(setting))
		ok = CRYPTO_memcmp(out, setting, strlen(setting)) == 0;
	OPENSSL_cleanse(phrase, len);
	OPENSSL_cleanse(data, sizeof(*data));
	free(phrase);
	free(data);
	return ok;
}
