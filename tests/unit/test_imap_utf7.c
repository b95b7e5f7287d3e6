/*
 * Unit tests for modified UTF-7 (src/imap/imap_utf7.c, RFC 3501 5.1.3):
 * the RFC's examples, both directions, round trips, and each way a name
 * can be malformed or non-canonical. Inputs are exact-length copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "imap/imap_utf7.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct pair {
	const char *utf8;
	const char *utf7;
};

static const struct pair pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "&", "&-" },
	{ "a&b&&", "a&-b&-&-" },
	/* RFC 3501 5.1.3 */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	/* 5 */
	{ "\xc3\xa4", "&AOQ-" },
	{ "\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },	/* a surrogate pair */
	{ "\x01", "&AAE-" },
	/* 10 */
	{ "\x7f", "&AH8-" },
	{ "\xc3\xa4&", "&AOQ-&-" },
	{ "\xef\xbf\xbf", "&,,8-" },
};

static int run(int (*fn)(const char *, size_t, struct buf *, const char **), const char *in,
	       size_t len, struct buf *out, const char **error)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, in, len);
	ret = fn(copy, len, out, error);
	free(copy);
	return ret;
}

static void test_utf7_pairs(void **state)
{
	size_t i;

	for (i = 0; i < N(pairs); i++) {
		struct buf out;
		const char *error = NULL;

		buf_init(&out, 0);
		if (run(imap_utf8_to_utf7, pairs[i].utf8, strlen(pairs[i].utf8), &out, &error) < 0 ||
		    strcmp(buf_cstr(&out), pairs[i].utf7) != 0)
			fail_msg("case %zu encode: got \"%s\" (%s)", i, buf_cstr(&out),
				 error ? error : "");
		buf_reset(&out);
		if (run(imap_utf7_to_utf8, pairs[i].utf7, strlen(pairs[i].utf7), &out, &error) < 0 ||
		    strcmp(buf_cstr(&out), pairs[i].utf8) != 0)
			fail_msg("case %zu decode: got \"%s\" (%s)", i, buf_cstr(&out),
				 error ? error : "");
		assert_true(imap_utf7_valid(pairs[i].utf7, strlen(pairs[i].utf7)));
		buf_deinit(&out);
	}
}

static void test_utf7_bad(void **state)
{
	static const char *const bad7[] = {
		"&",		/* unterminated */
		"&AOQ",		/* unterminated */
		"&AOQ-&AOQ-",	/* adjacent runs: not canonical */
		"&AGE-",	/* "a" encoded: printable ASCII must be direct */
		"&ACY-",	/* "&" encoded */
		"&AAA-",	/* U+0000 */
		"&AO-",		/* 12 bits: an incomplete unit */
		"&AOR-",	/* nonzero padding bits */
		"&AOQA-",	/* 6 leftover bits */
		"&2D0-",	/* high surrogate alone */
		"&3gA-",	/* low surrogate alone */
		"&2D3YPQ-",	/* high surrogate then another high */
		"&A/Q-",	/* "/" is not modified base64 */
		"&A=Q-",
		"caf\xc3\xa9",	/* 8-bit */
		"tab\there",	/* control */
		"\x7f",
	};
	static const char *const bad8[] = {
		"\xc3",
		"\xc3\x28",
		"\xc0\x80",		/* overlong NUL */
		"\xed\xa0\x80",		/* surrogate */
		"\xf4\x90\x80\x80",
		"\xff",
	};
	size_t i;

	for (i = 0; i < N(bad7); i++) {
		struct buf out;
		const char *error = NULL;

		buf_init(&out, 0);
		if (run(imap_utf7_to_utf8, bad7[i], strlen(bad7[i]), &out, &error) == 0)
			fail_msg("bad7 %zu \"%s\" accepted as \"%s\"", i, bad7[i], buf_cstr(&out));
		assert_non_null(error);
		assert_false(imap_utf7_valid(bad7[i], strlen(bad7[i])));
		buf_deinit(&out);
	}
	for (i = 0; i < N(bad8); i++) {
		struct buf out;
		const char *error = NULL;

		buf_init(&out, 0);
		if (run(imap_utf8_to_utf7, bad8[i], strlen(bad8[i]), &out, &error) == 0)
			fail_msg("bad8 %zu accepted", i);
		buf_deinit(&out);
	}
	{
		struct buf out;
		const char *error;

		buf_init(&out, 0);
		assert_int_equal(imap_utf8_to_utf7("a\0b", 3, &out, &error), -1);
		buf_deinit(&out);
		buf_init(&out, 3);
		assert_int_equal(imap_utf8_to_utf7("\xc3\xa4", 2, &out, &error), -1);
		buf_deinit(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf7_pairs),
		cmocka_unit_test(test_utf7_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
