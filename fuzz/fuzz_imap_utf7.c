/*
 * libFuzzer target for modified UTF-7 (src/imap/imap_utf7.c). The
 * encoding is strict and canonical, so both round trips must be exact:
 * every accepted mUTF-7 name decodes and re-encodes to itself, and every
 * valid UTF-8 name (without NUL) encodes and decodes to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/imap_grammar.h"
#include "imap/imap_utf7.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct buf *b, const char *s, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, s, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xmalloc(size ? size : 1);	/* exact size for ASan */
	struct buf a, b;
	const char *error;

	memcpy(in, data, size);
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (imap_utf7_to_utf8(in, size, &a, &error) == 0) {
		CHECK(imap_utf8_valid(a.data ? a.data : "", a.len));
		CHECK(imap_utf8_to_utf7(a.data ? a.data : "", a.len, &b, &error) == 0);
		CHECK(same(&b, in, size));
		CHECK(imap_utf7_valid(in, size));
	}
	buf_reset(&a);
	buf_reset(&b);
	if (imap_utf8_to_utf7(in, size, &a, &error) == 0) {
		CHECK(imap_utf8_valid(in, size) && memchr(in, '\0', size) == NULL);
		CHECK(imap_utf7_to_utf8(a.data ? a.data : "", a.len, &b, &error) == 0);
		CHECK(same(&b, in, size));
	} else {
		CHECK(!imap_utf8_valid(in, size) || memchr(in, '\0', size) != NULL);
	}
	buf_deinit(&a);
	buf_deinit(&b);
	free(in);
	return 0;
}
