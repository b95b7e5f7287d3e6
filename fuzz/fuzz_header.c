/*
 * libFuzzer target for header blocks and address-lists (src/mail/header.c):
 * the block end found incrementally (octet by octet) must equal the one
 * found at once, walking the fields must stay inside the block and move
 * forward, and every addr-spec reported must hold one "@" outside quotes
 * and fit ADDRESS_MAX.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "mail/header.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_addr(void *ctx, const char *addr, size_t len)
{
	CHECK(len > 0 && len <= ADDRESS_MAX && strlen(addr) <= len);
	CHECK(memchr(addr, '@', len) != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header_field f;
	size_t pos = 0, body = 0, pos2 = 0, body2 = 0, i, end;
	const char *error;
	char *in;
	int found, n;

	if (size > 8192)
		return 0;
	in = xmalloc(size ? size : 1);
	memcpy(in, data, size);
	found = header_block_end(in, size, &pos, &body);
	for (i = 0; i <= size; i++) {
		if (header_block_end(in, i, &pos2, &body2) == 1)
			break;
	}
	CHECK(found == (i <= size));
	if (found)
		CHECK(body == body2 && body <= size);
	end = found ? body : size;
	pos = 0;
	while (header_next(in, end, &pos, &f) == 1) {
		CHECK(f.start < f.end && f.end <= end && pos == f.end);
		CHECK(f.value >= in && f.value + f.value_len <= in + end);
		n = header_addresses(f.value, f.value_len, check_addr, NULL, &error);
		CHECK(n >= -1);
	}
	n = header_addresses(in, size, check_addr, NULL, &error);
	CHECK(n >= -1);
	free(in);
	return 0;
}
