/*
 * App passwords and recovery codes: random strings Tern makes and shows
 * once. Both are stored as SHA-256 digests, not Argon2id: a code has 79
 * bits from the CSPRNG, so even a fast hash leaves 2^78 guesses on
 * average per code to anyone holding the database, far beyond reach,
 * while a login with one costs microseconds instead of 64 MiB and tens of
 * milliseconds (mail clients log in often). Salt is pointless for unique
 * random values; the digest is domain-separated from other uses.
 */
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

/* 31 symbols, no 0/o, 1/l/i look-alikes: 4.95 bits each */
static const char code_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

void secret_code_new(char out[SECRET_CODE_LEN + 1])
{
	size_t i, n = 0;

	_Static_assert(sizeof(code_alphabet) - 1 == 31, "alphabet");
	for (i = 0; i < 16; i++) {
		if (i > 0 && i % 4 == 0)
			out[n++] = '-';
		out[n++] = code_alphabet[randombytes_uniform(sizeof(code_alphabet) - 1)];
	}
	out[n] = '\0';
}

void secret_code_digest(const char *code, size_t len, uint8_t out[SECRET_DIGEST_LEN])
{
	static const char domain[] = "tern secret code v1:";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned out_len = 0;
	size_t i;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, domain, sizeof(domain) - 1) != 1)
		goto fail;
	for (i = 0; i < len; i++) {
		char c = code[i];

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (EVP_DigestUpdate(md, &c, 1) != 1)
			goto fail;
	}
	if (EVP_DigestFinal_ex(md, out, &out_len) != 1 || out_len != SECRET_DIGEST_LEN)
		goto fail;
	EVP_MD_CTX_free(md);
	return;
fail:
	/* never matches a stored digest: random */
	randombytes_buf(out, SECRET_DIGEST_LEN);
	EVP_MD_CTX_free(md);
}

bool app_password_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	}
	return true;
}
