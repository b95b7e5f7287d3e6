/*
 * Unit tests for RFC 5256 threading (src/mail/mail_thread_tree.c) and the
 * case folding SORT/THREAD/SEARCH compare with (src/mail/mail_casemap.c):
 * the thread-list shapes of RFC 5256 section 4's example
 * "(2)(3 6 (4 23)(44 7 96))" and "((3)(5))", REFERENCES with missing,
 * duplicate and looping Message-IDs, the subject merging of step 5, and
 * ORDEREDSUBJECT grouping and ordering.
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
#include "mail/mail_casemap.h"
#include "mail/mail_thread.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check(int (*fn)(const struct mail_thread_msg *, size_t, struct buf *),
		  const struct mail_thread_msg *msgs, size_t n, const char *want)
{
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(fn(msgs, n, &out), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_deinit(&out);
}

/* RFC 5256 4: "(2)(3 6 (4 23)(44 7 96))" */
static void test_thread_refs_rfc_example(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 2, 1, "a2", NULL, "two", false },
		{ 3, 2, "a3", NULL, "three", false },
		{ 6, 3, "a6", "a3", "three", true },
		{ 4, 4, "a4", "a3 a6", "three", true },
		{ 23, 5, "a23", "a3 a6 a4", "three", true },
		{ 44, 6, "a44", "a3 a6", "three", true },
		{ 7, 7, "a7", "a3 a6 a44", "three", true },
		{ 96, 8, "a96", "a3 a6 a44 a7", "three", true },
	};

	check(mail_thread_refs, m, N(m), "(2)(3 6 (4 23)(44 7 96))");
}

/* Two replies to a message not in the mailbox: a dummy root, "((3)(5))". */
static void test_thread_refs_dummy_root(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 3, 10, "x3", "gone@x", "a", true },
		{ 5, 11, "x5", "gone@x", "b", true },
	};

	check(mail_thread_refs, m, N(m), "((3)(5))");
}

/* A dummy in the middle of a chain disappears; its child moves up. */
static void test_thread_refs_dummy_spliced(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, "r1", NULL, "s", false },
		{ 2, 2, "r2", "r1 lost@x", "s", true },
	};

	check(mail_thread_refs, m, N(m), "(1 2)");
}

/* Step 5: a reply joins the non-reply of its subject; two non-replies
 * with one subject share a new dummy. */
static void test_thread_refs_subject_merge(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, "s1", NULL, "foo", false },
		{ 2, 2, "s2", NULL, "foo", true },
		{ 3, 3, "s3", NULL, "bar", false },
		{ 4, 4, "s4", NULL, "BAR", false },
		{ 5, 5, "s5", NULL, "", false },
		{ 6, 6, "s6", NULL, "", false },
	};

	check(mail_thread_refs, m, N(m), "(1 2)((3)(4))(5)(6)");
}

/* The subject table prefers the non-reply even when the reply is older. */
static void test_thread_refs_reply_first(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, "p1", NULL, "topic", true },
		{ 2, 2, "p2", NULL, "topic", false },
	};

	check(mail_thread_refs, m, N(m), "(2 1)");
}

/* Duplicate Message-IDs: only the first keeps it. */
static void test_thread_refs_duplicate_id(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, "dup@x", NULL, "a", false },
		{ 2, 2, "dup@x", NULL, "b", false },
		{ 3, 3, "c@x", "dup@x", "c", true },
	};

	check(mail_thread_refs, m, N(m), "(1 3)(2)");
}

/* References that would make a loop are ignored; no message lacks an id. */
static void test_thread_refs_loop(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, "a@x", "b@x", "x", false },
		{ 2, 2, "b@x", "a@x", "y", false },
		{ 3, 3, NULL, "a@x a@x", "z", false },
		{ 4, 4, "d@x", "d@x", "w", false },
	};

	check(mail_thread_refs, m, N(m), "(2 1 3)(4)");
}

/* Siblings are ordered by date, then sequence number. */
static void test_thread_refs_sibling_order(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 5, "o1", NULL, "o", false },
		{ 2, 9, "o2", "o1", "o", true },
		{ 3, 7, "o3", "o1", "o", true },
		{ 4, 7, "o4", "o1", "o", true },
		{ 5, 1, "o5", NULL, "other", false },
	};

	check(mail_thread_refs, m, N(m), "(5)(1 (3)(4)(2))");
}

static void test_thread_empty(void **state)
{
	check(mail_thread_refs, NULL, 0, "");
	check(mail_thread_orderedsubject, NULL, 0, "");
}

static void test_thread_orderedsubject(void **state)
{
	static const struct mail_thread_msg m[] = {
		{ 1, 1, NULL, NULL, "foo", false },
		{ 2, 3, NULL, NULL, "foo", true },
		{ 3, 2, NULL, NULL, "bar", false },
		{ 4, 4, NULL, NULL, "FOO", true },
		{ 5, 5, NULL, NULL, "baz", false },
		{ 6, 0, NULL, NULL, "bar", false },
		{ 7, 6, NULL, NULL, "one", false },
		{ 8, 7, NULL, NULL, "one", true },
	};

	check(mail_thread_orderedsubject, m, N(m), "(6 3)(1 (2)(4))(5)(7 8)");
}

/* A reference chain far deeper than any C stack would allow recursion. */
static void test_thread_refs_deep_chain(void **state)
{
	enum { DEEP = 100000 };
	struct mail_thread_msg *m = calloc(DEEP, sizeof(*m));
	char (*ids)[16] = calloc(DEEP, 16);
	struct buf out;
	size_t i;

	assert_non_null(m);
	assert_non_null(ids);
	for (i = 0; i < DEEP; i++) {
		snprintf(ids[i], 16, "m%zu", i);
		m[i].id = (uint32_t)i + 1;
		m[i].date = (int64_t)i;
		m[i].message_id = ids[i];
		m[i].refs = i > 0 ? ids[i - 1] : NULL;
		m[i].base_subject = "deep";
	}
	buf_init(&out, 0);
	assert_int_equal(mail_thread_refs(m, DEEP, &out), 0);
	assert_true(strncmp(buf_cstr(&out), "(1 2 3 ", 7) == 0);
	assert_true(out.data[out.len - 1] == ')');
	buf_deinit(&out);
	free(ids);
	free(m);
}

static void test_casefold(void **state)
{
	assert_true(mail_casefold_contains("Hello WORLD", 11, "o wor", 5));
	assert_true(mail_casefold_contains("GR\xc3\x9c\xc3\x9f", 6, "gr\xc3\xbc", 4));
	assert_true(mail_casefold_contains("\xd0\x9f\xd0\xa0\xd0\x98", 6, "\xd0\xbf\xd1\x80", 4));
	assert_true(mail_casefold_contains("x", 1, "", 0));
	assert_false(mail_casefold_contains("abc", 3, "abcd", 4));
	assert_false(mail_casefold_contains("\xff\xfe", 2, "a", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_refs_rfc_example),
		cmocka_unit_test(test_thread_refs_dummy_root),
		cmocka_unit_test(test_thread_refs_dummy_spliced),
		cmocka_unit_test(test_thread_refs_subject_merge),
		cmocka_unit_test(test_thread_refs_reply_first),
		cmocka_unit_test(test_thread_refs_duplicate_id),
		cmocka_unit_test(test_thread_refs_loop),
		cmocka_unit_test(test_thread_refs_sibling_order),
		cmocka_unit_test(test_thread_empty),
		cmocka_unit_test(test_thread_orderedsubject),
		cmocka_unit_test(test_thread_refs_deep_chain),
		cmocka_unit_test(test_casefold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
