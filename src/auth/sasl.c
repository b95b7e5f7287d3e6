/*
 * SASL response decoding, shared by SMTP AUTH and POP3 AUTH: PLAIN
 * (RFC 4616) and the base64 strings of LOGIN (draft-murchison-sasl-login).
 * Base64 is libsodium's strict decoder: no padding errors let through.
 */
#include "auth/auth.h"
#include "core/limits.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_deinit(b);
}

int sasl_plain_decode(const char *b64, size_t len, struct buf *authcid, struct buf *passwd,
		      const char **error_r)
{
	size_t max = len / 4 * 3 + 3, bin_len = 0;
	unsigned char *bin;
	const unsigned char *nul1, *nul2, *end;
	int ret = -1;

	if (len > PASSWORD_MAX * 4) {
		*error_r = "response too long";
		return -1;
	}
	bin = xmalloc(max + 1);
	if (sodium_base642bin(bin, max, b64, len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		*error_r = "invalid base64";
		goto out;
	}
	end = bin + bin_len;
	nul1 = memchr(bin, '\0', bin_len);
	nul2 = nul1 ? memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1)) : NULL;
	if (nul1 == NULL || nul2 == NULL) {
		*error_r = "malformed PLAIN response (expected authzid NUL authcid NUL password)";
		goto out;
	}
	if (nul1 != bin && ((size_t)(nul2 - nul1 - 1) != (size_t)(nul1 - bin) ||
			    memcmp(bin, nul1 + 1, (size_t)(nul1 - bin)) != 0)) {
		*error_r = "authorization identity must be empty or equal the user";
		goto out;
	}
	/* RFC 4616 2: authcid and passwd are 1*SAFE: neither may be empty */
	if (nul2 == nul1 + 1 || nul2 + 1 == end ||
	    memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)) != NULL) {
		*error_r = "malformed PLAIN response";
		goto out;
	}
	if (buf_append(authcid, nul1 + 1, (size_t)(nul2 - nul1 - 1)) < 0 ||
	    buf_append(passwd, nul2 + 1, (size_t)(end - nul2 - 1)) < 0) {
		*error_r = "user or password too long";
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(bin, max + 1);
	free(bin);
	return ret;
}

int sasl_base64_decode(const char *b64, size_t len, struct buf *out, const char **error_r)
{
	size_t max = len / 4 * 3 + 3, bin_len = 0;
	unsigned char *bin;
	int ret = -1;

	if (len > PASSWORD_MAX * 4) {
		*error_r = "response too long";
		return -1;
	}
	bin = xmalloc(max + 1);
	if (sodium_base642bin(bin, max, b64, len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		*error_r = "invalid base64";
		goto out;
	}
	if (memchr(bin, '\0', bin_len) != NULL) {
		*error_r = "NUL in response";
		goto out;
	}
	if (buf_append(out, bin, bin_len) < 0) {
		*error_r = "response too long";
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(bin, max + 1);
	free(bin);
	return ret;
}
