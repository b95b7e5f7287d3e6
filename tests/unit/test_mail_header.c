/*
 * Unit tests for header blocks and RFC 5322 address-lists
 * (src/mail/header.c). Inputs are copied into buffers of their exact
 * length, so a read past the end shows up under ASan.
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
#include "mail/header.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct list_case {
	const char *in;
	const char *out;	/* addresses joined with " "; NULL: refused */
};

static int collect(void *ctx, const char *addr, size_t len)
{
	struct buf *out = ctx;

	if (out->len > 0)
		buf_append_char(out, ' ');
	buf_append(out, addr, len);
	return 0;
}

static void check_lists(const struct list_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t len = strlen(cases[i].in);
		char *copy = malloc(len ? len : 1);
		const char *error = NULL;
		struct buf out;
		int ret;

		assert_non_null(copy);
		memcpy(copy, cases[i].in, len);
		buf_init(&out, 0);
		ret = header_addresses(copy, len, collect, &out, &error);
		if (cases[i].out == NULL && ret >= 0)
			fail_msg("case %zu \"%s\": accepted as \"%s\"", i, cases[i].in, buf_cstr(&out));
		if (cases[i].out != NULL && ret < 0)
			fail_msg("case %zu \"%s\": refused: %s", i, cases[i].in, error);
		if (cases[i].out != NULL && strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].in,
				 buf_cstr(&out), cases[i].out);
		buf_deinit(&out);
		free(copy);
	}
}

static void test_addresses_valid(void **state)
{
	static const struct list_case cases[] = {
		{ "alice@a.test", "alice@a.test" },
		{ " alice@a.test ", "alice@a.test" },
		{ "Alice <alice@a.test>", "alice@a.test" },
		{ "\"Doe, Jane\" <jane@a.test>", "jane@a.test" },
		{ "J. Doe <j@a.test>", "j@a.test" },
		{ "<alice@a.test>", "alice@a.test" },
		{ "a@a.test, b@b.test", "a@a.test b@b.test" },
		{ "A <a@a.test>, \"B\" <b@b.test>,c@c.test", "a@a.test b@b.test c@c.test" },
		{ "alice@a.test (Alice Example)", "alice@a.test" },
		{ "(c (nested) c) alice(x)@(y)a.test", "alice@a.test" },
		{ "\"quoted local\"@a.test", "quoted local@a.test" },
		{ "\"a\\\"b\"@a.test", "a\"b@a.test" },
		{ "first.last@sub.a.test", "first.last@sub.a.test" },
		{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
		{ "team: a@a.test, B <b@a.test>;", "a@a.test b@a.test" },
		{ "undisclosed-recipients:;", "" },
		{ "team: a@a.test;, c@c.test", "a@a.test c@c.test" },
		{ "Alice\r\n <alice@a.test>", "alice@a.test" },
		{ "<@route.test,@r2.test:alice@a.test>", "alice@a.test" },
		{ "a@a.test,, ,b@a.test", "a@a.test b@a.test" },
		{ "=?utf-8?q?J=C3=B6rg?= <joerg@a.test>", "joerg@a.test" },
		{ "J\xc3\xb6rg <j\xc3\xb6rg@a.test>", "j\xc3\xb6rg@a.test" },
		{ "alice@a.test <alice@a.test>", "alice@a.test" },
		{ "Alice <>", "" },
		{ "", "" },
	};

	check_lists(cases, N(cases));
}

static void test_addresses_invalid(void **state)
{
	static const struct list_case cases[] = {
		{ "alice", NULL },
		{ "Alice Example", NULL },
		{ "alice@", NULL },
		{ "@a.test", NULL },
		{ "alice@@a.test", NULL },
		{ "alice@a..test", NULL },
		{ "alice.@a.test", NULL },
		{ ".alice@a.test", NULL },
		{ "alice@a.test.", NULL },
		{ "Alice <alice@a.test", NULL },
		{ "Alice <alice@a.test> x", NULL },
		{ "<a@a.test> <b@a.test>", NULL },
		{ "\"unterminated@a.test", NULL },
		{ "alice@a.test (open", NULL },
		{ "alice@a.test)", NULL },
		{ "team: a@a.test", NULL },
		{ "a@a.test;", NULL },
		{ "g: h: a@a.test;;", NULL },
		{ "alice@[1.2.3.4].test", NULL },
		{ "ali\\ce@a.test", NULL },
		{ "alice a@a.test", NULL },
	};

	check_lists(cases, N(cases));
}

static void test_addresses_too_long_is_refused(void **state)
{
	char in[1200];
	const char *error;

	memset(in, 'a', sizeof(in));
	memcpy(in + sizeof(in) - 7, "@a.test", 7);
	assert_int_equal(header_addresses(in, sizeof(in), NULL, NULL, &error), -1);
}

static int stop_at_second(void *ctx, const char *addr, size_t len)
{
	return ++*(int *)ctx == 2 ? -1 : 0;
}

static void test_addresses_callback_stops(void **state)
{
	const char *error;
	int n = 0;

	assert_int_equal(header_addresses("a@a.test, b@a.test, c@a.test", 28, stop_at_second, &n,
					  &error), -1);
	assert_int_equal(n, 2);
}

static void test_block_end_blank_line(void **state)
{
	const char *msg = "From: a@a.test\r\nSubject: x\r\n y\r\n\r\nbody\r\n";
	size_t pos = 0, body = 0, i;

	assert_int_equal(header_block_end(msg, strlen(msg), &pos, &body), 1);
	assert_string_equal(msg + body, "body\r\n");
	/* fed one octet more at a time, it finds the same end */
	pos = 0;
	for (i = 1; i <= strlen(msg); i++) {
		if (header_block_end(msg, i, &pos, &body) == 1)
			break;
	}
	assert_int_equal(i, strlen("From: a@a.test\r\nSubject: x\r\n y\r\n\r\n"));
	assert_string_equal(msg + body, "body\r\n");
}

static void test_block_end_non_field_line(void **state)
{
	const char *msg = "From: a@a.test\nthis is body\n";
	const char *empty = "\r\nbody\r\n";
	const char *partial = "From: a@a.test\r\nSubj";
	size_t pos = 0, body = 0;

	assert_int_equal(header_block_end(msg, strlen(msg), &pos, &body), 1);
	assert_string_equal(msg + body, "this is body\n");
	pos = 0;
	assert_int_equal(header_block_end(empty, strlen(empty), &pos, &body), 1);
	assert_int_equal(body, 2);
	pos = 0;
	assert_int_equal(header_block_end(partial, strlen(partial), &pos, &body), 0);
	assert_int_equal(pos, 16);
}

static void test_next_walks_fields(void **state)
{
	const char *hdr = "From: A <a@a.test>\r\nTo: b@a.test,\r\n\tc@a.test\r\nX-Empty:\r\n\r\n";
	struct header_field f;
	size_t pos = 0;

	assert_int_equal(header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(header_is(&f, "from"));
	assert_int_equal(f.value_len, strlen(" A <a@a.test>"));
	assert_int_equal(header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(header_is(&f, "TO"));
	assert_memory_equal(f.value, " b@a.test,\r\n\tc@a.test", f.value_len);
	assert_int_equal(f.start, 20);
	assert_int_equal(header_next(hdr, strlen(hdr), &pos, &f), 1);
	assert_true(header_is(&f, "X-Empty"));
	assert_int_equal(f.value_len, 0);
	assert_int_equal(header_next(hdr, strlen(hdr), &pos, &f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses_valid),
		cmocka_unit_test(test_addresses_invalid),
		cmocka_unit_test(test_addresses_too_long_is_refused),
		cmocka_unit_test(test_addresses_callback_stops),
		cmocka_unit_test(test_block_end_blank_line),
		cmocka_unit_test(test_block_end_non_field_line),
		cmocka_unit_test(test_next_walks_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
