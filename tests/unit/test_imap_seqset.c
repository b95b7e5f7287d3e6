/*
 * Unit tests for IMAP sequence sets (src/imap/imap_seqset.c): the
 * RFC 9051 9 sequence-set grammar with its malformed cousins, "*"
 * resolution (n:m equals m:n, n:* past the end), normalization,
 * contains/count/iteration and compact formatting. Inputs are copied into
 * buffers of their exact length so ASan sees any read past the end.
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
#include "imap/imap_seqset.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	return copy;
}

struct seqset_case {
	const char *in;
	uint32_t max;		/* what "*" stands for */
	const char *out;	/* normalized; NULL: refused */
	uint64_t count;
};

static const struct seqset_case cases[] = {
	/* 0 */
	{ "1", 10, "1", 1 },
	{ "1:5,7,9:*", 12, "1:5,7,9:12", 10 },
	{ "5:1", 10, "1:5", 5 },
	{ "*", 10, "10", 1 },
	{ "*:3", 10, "3:10", 8 },
	/* 5: n:* past the end is max:n (RFC 9051 6.4.8 example) */
	{ "15:*", 10, "10:15", 6 },
	{ "*", 0, "", 0 },
	{ "1:*", 0, "1", 1 },
	{ "3,1,2", 10, "1:3", 3 },
	{ "1:3,2:6,10:8,7", 0, "1:10", 10 },
	/* 10 */
	{ "4294967295", 0, "4294967295", 1 },
	{ "1:4294967295", 0, "1:4294967295", 4294967295ULL },
	{ "4294967295:4294967294,1", 0, "1,4294967294:4294967295", 3 },
	{ "0", 0, NULL, 0 },
	{ "1:0", 0, NULL, 0 },
	/* 15 */
	{ "1:0x", 0, NULL, 0 },
	{ "", 0, NULL, 0 },
	{ ",", 0, NULL, 0 },
	{ "1,", 0, NULL, 0 },
	{ ",1", 0, NULL, 0 },
	/* 20 */
	{ "1,,2", 0, NULL, 0 },
	{ "1:", 0, NULL, 0 },
	{ ":1", 0, NULL, 0 },
	{ "1:2:3", 0, NULL, 0 },
	{ "01", 0, NULL, 0 },
	/* 25 */
	{ "4294967296", 0, NULL, 0 },
	{ "99999999999999999999999", 0, NULL, 0 },
	{ "-1", 0, NULL, 0 },
	{ "1 2", 0, NULL, 0 },
	{ "**", 0, NULL, 0 },
	/* 30: "$" stands alone (RFC 5182) */
	{ "$", 0, "", 0 },
	{ "1:5,$", 0, NULL, 0 },
	{ "$:3", 0, NULL, 0 },
};

static void test_seqset_cases(void **state)
{
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].in);
		char *in = dup_exact(cases[i].in, len);
		struct imap_seqset set;
		const char *error = NULL;
		struct buf out;
		int ret;

		imap_seqset_init(&set, 100);
		buf_init(&out, 0);
		ret = imap_seqset_parse(&set, in, len, &error);
		if (cases[i].out == NULL) {
			if (ret == 0)
				fail_msg("case %zu \"%s\": accepted", i, cases[i].in);
			assert_non_null(error);
			assert_int_equal(set.count, 0);
		} else {
			if (ret != 0)
				fail_msg("case %zu \"%s\": refused: %s", i, cases[i].in, error);
			imap_seqset_resolve(&set, cases[i].max);
			assert_int_equal(imap_seqset_format(&set, &out), 0);
			if (strcmp(buf_cstr(&out), cases[i].out) != 0 ||
			    imap_seqset_count(&set) != cases[i].count)
				fail_msg("case %zu \"%s\": got \"%s\" count %llu", i, cases[i].in,
					 buf_cstr(&out), (unsigned long long)imap_seqset_count(&set));
			assert_true(set.saved == (strcmp(cases[i].in, "$") == 0));
		}
		buf_deinit(&out);
		imap_seqset_deinit(&set);
		free(in);
	}
}

static void test_seqset_queries(void **state)
{
	struct imap_seqset set;
	struct imap_seqset_iter it;
	const char *error;
	uint32_t v, seen[16];
	unsigned n = 0;

	imap_seqset_init(&set, 0);
	assert_int_equal(imap_seqset_parse(&set, "9:*,2,4:5", 9, &error), 0);
	assert_true(set.star);
	imap_seqset_resolve(&set, 11);
	assert_false(imap_seqset_contains(&set, 1));
	assert_true(imap_seqset_contains(&set, 2));
	assert_false(imap_seqset_contains(&set, 3));
	assert_true(imap_seqset_contains(&set, 5));
	assert_true(imap_seqset_contains(&set, 11));
	assert_false(imap_seqset_contains(&set, 12));
	assert_false(imap_seqset_contains(&set, 0));
	assert_int_equal(imap_seqset_min(&set), 2);
	assert_int_equal(imap_seqset_max(&set), 11);
	imap_seqset_iter_init(&it);
	while (imap_seqset_next(&set, &it, &v) && n < 16)
		seen[n++] = v;
	assert_int_equal(n, 6);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 4);
	assert_int_equal(seen[3], 9);
	assert_int_equal(seen[5], 11);
	/* iteration ends cleanly at the top of the number space */
	assert_int_equal(imap_seqset_parse(&set, "4294967294:4294967295", 21, &error), 0);
	imap_seqset_resolve(&set, 0);
	imap_seqset_iter_init(&it);
	n = 0;
	while (imap_seqset_next(&set, &it, &v) && n < 16)
		n++;
	assert_int_equal(n, 2);
	imap_seqset_deinit(&set);
}

static void test_seqset_build_and_format(void **state)
{
	struct imap_seqset set;
	struct buf out;

	/* COPYUID keeps the order it was built in (RFC 4315 3) */
	imap_seqset_init(&set, 0);
	buf_init(&out, 0);
	assert_int_equal(imap_seqset_add(&set, 7, 7), 0);
	assert_int_equal(imap_seqset_add(&set, 3, 1), 0);
	assert_int_equal(imap_seqset_format(&set, &out), 0);
	assert_string_equal(buf_cstr(&out), "7,1:3");
	imap_seqset_resolve(&set, 0);
	buf_reset(&out);
	assert_int_equal(imap_seqset_format(&set, &out), 0);
	assert_string_equal(buf_cstr(&out), "1:3,7");
	/* a full output buffer fails instead of truncating silently */
	buf_deinit(&out);
	buf_init(&out, 3);
	assert_int_equal(imap_seqset_format(&set, &out), -1);
	buf_deinit(&out);
	imap_seqset_deinit(&set);
}

static void test_seqset_range_limit(void **state)
{
	struct imap_seqset set;
	const char *error;

	imap_seqset_init(&set, 3);
	assert_int_equal(imap_seqset_parse(&set, "1,3,5", 5, &error), 0);
	assert_int_equal(imap_seqset_parse(&set, "1,3,5,7", 7, &error), -1);
	assert_string_equal(error, "Too many ranges in sequence set");
	assert_int_equal(imap_seqset_add(&set, 1, 1), 0);
	imap_seqset_deinit(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seqset_cases),
		cmocka_unit_test(test_seqset_queries),
		cmocka_unit_test(test_seqset_build_and_format),
		cmocka_unit_test(test_seqset_range_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
