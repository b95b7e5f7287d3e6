/*
 * libFuzzer target for SASL PLAIN decoding (src/auth/sasl.c). The input is
 * tried twice: as the base64 text a client sends, and as the decoded
 * message itself (base64-encoded here first), so that the fuzzer reaches
 * the NUL-splitting and authzid logic directly. A decoded message that is
 * accepted must split back into exactly what went in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int decode(const char *b64, size_t len, struct buf *user, struct buf *pass)
{
	const char *error = NULL;
	char *copy = xmalloc(len);
	int ret;

	memcpy(copy, b64, len);
	ret = sasl_plain_decode(copy, len, user, pass, &error);
	free(copy);
	CHECK(ret == 0 || (ret == -1 && error != NULL));
	if (ret == 0) {
		CHECK(user->len > 0 && memchr(user->data, '\0', user->len) == NULL);
		CHECK(pass->len == 0 || memchr(pass->data, '\0', pass->len) == NULL);
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf user, pass;
	size_t cap;
	char *b64;

	if (size > 8192)
		return 0;
	buf_init(&user, ADDRESS_MAX);
	buf_init(&pass, PASSWORD_MAX);
	decode((const char *)data, size, &user, &pass);
	buf_deinit(&user);
	buf_wipe(&pass);

	cap = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(cap);
	sodium_bin2base64(b64, cap, data, size, sodium_base64_VARIANT_ORIGINAL);
	buf_init(&user, ADDRESS_MAX);
	buf_init(&pass, PASSWORD_MAX);
	if (decode(b64, strlen(b64), &user, &pass) == 0) {
		/* data = authzid NUL authcid NUL passwd, authzid "" or authcid */
		const uint8_t *nul = memchr(data, '\0', size);
		size_t zlen = (size_t)(nul - data);

		CHECK(nul != NULL);
		CHECK(zlen == 0 || (zlen == user.len && memcmp(data, user.data, zlen) == 0));
		CHECK(size == zlen + 1 + user.len + 1 + pass.len);
		CHECK(memcmp(nul + 1, user.data, user.len) == 0);
		CHECK(nul[1 + user.len] == '\0');
		CHECK(memcmp(nul + 2 + user.len, pass.data, pass.len) == 0);
	}
	buf_deinit(&user);
	buf_wipe(&pass);
	free(b64);
	return 0;
}
