/*
 * libFuzzer target for the RFC 5321 mailbox parser (src/mail/address.c),
 * with and without SMTPUTF8. Whatever is accepted must be accepted in
 * UTF-8 mode too, hold only well-formed UTF-8 (ASCII without it), keep its
 * length, and normalize to itself when parsed again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "mail/address.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *in, size_t len, bool utf8, struct buf *out)
{
	const char *error = NULL;
	int ret;

	buf_init(out, 0);
	ret = address_parse(in, len, utf8, out, &error);
	CHECK(ret == 0 || (ret == -1 && error != NULL));
	if (ret == 0) {
		struct buf again;

		CHECK(out->len == len);
		CHECK(utf8 ? utf8_valid(in, len) : !has_8bit(in, len));
		buf_init(&again, 0);
		CHECK(address_parse(out->data, out->len, utf8, &again, &error) == 0);
		CHECK(again.len == out->len && memcmp(again.data, out->data, out->len) == 0);
		buf_deinit(&again);
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf ascii, utf8;
	char *in;
	int a, u;

	if (size > 1024)
		return 0;
	in = xmalloc(size);
	memcpy(in, data, size);
	a = parse(in, size, false, &ascii);
	u = parse(in, size, true, &utf8);
	if (a == 0)
		CHECK(u == 0 && ascii.len == utf8.len && memcmp(ascii.data, utf8.data, ascii.len) == 0);
	(void)address_domain_valid(in, size, false);
	if (address_domain_valid(in, size, true))
		CHECK(utf8_valid(in, size) && size <= 255);
	(void)utf8_valid(in, size);
	buf_deinit(&ascii);
	buf_deinit(&utf8);
	free(in);
	return 0;
}
