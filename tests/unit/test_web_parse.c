/*
 * Unit tests for the portal's parser layer (src/web/web_parse.c): form
 * bodies (WHATWG application/x-www-form-urlencoded, strict), Cookie
 * headers (RFC 6265 5.4), HTML escaping and the hex check for session ids.
 * Table-driven cases report their index.
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

#include "web/web_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct web_form_limits limits = { 8, 16, 32 };

struct form_case {
	const char *body;
	int ret;
	const char *name1, *value1;	/* a field to look up when ret == 0 */
	unsigned n;
};

static const struct form_case form_cases[] = {
	{ "", 0, NULL, NULL, 0 },
	{ "a=1", 0, "a", "1", 1 },
	{ "user=alice%40example.com&password=p%26ss+w%3Dord", 0, "password", "p&ss w=ord", 2 },
	{ "a=1&&b=2&", 0, "b", "2", 2 },
	{ "a", 0, "a", "", 1 },
	{ "a=", 0, "a", "", 1 },
	{ "a=b=c", 0, "a", "b=c", 1 },
	{ "%41=%7e", 0, "A", "~", 1 },
	{ "a=%e2%82%ac", 0, "a", "\xe2\x82\xac", 1 },
	{ "a=1&a=2", -1, NULL, NULL, 0 },		/* duplicate */
	{ "=1", -1, NULL, NULL, 0 },			/* empty name */
	{ "a=%", -1, NULL, NULL, 0 },
	{ "a=%4", -1, NULL, NULL, 0 },
	{ "a=%zz", -1, NULL, NULL, 0 },
	{ "a=%00", -1, NULL, NULL, 0 },			/* NUL */
	{ "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", -1, NULL, NULL, 0 },	/* 9 fields */
	{ "aaaaaaaaaaaaaaaaa=1", -1, NULL, NULL, 0 },	/* name of 17 */
	{ "a=123456789012345678901234567890123", -1, NULL, NULL, 0 },	/* value of 33 */
	{ "a=12345678901234567890123456789012", 0, "a", "12345678901234567890123456789012", 1 },
	{ "a=%2B+", 0, "a", "+ ", 1 },
};

static void test_form_cases(void **state)
{
	size_t i;

	for (i = 0; i < N(form_cases); i++) {
		const struct form_case *c = &form_cases[i];
		struct web_form form;
		const char *error = NULL;
		int ret = web_form_parse(c->body, strlen(c->body), &limits, &form, &error);

		if (ret != c->ret)
			fail_msg("case %zu (%s): got %d error %s", i, c->body, ret, error);
		if (ret < 0) {
			assert_non_null(error);
			assert_int_equal(form.n, 0);
			assert_null(form.fields);
			continue;
		}
		assert_int_equal(form.n, c->n);
		if (c->name1 != NULL && (web_form_get(&form, c->name1) == NULL ||
		    strcmp(web_form_get(&form, c->name1), c->value1) != 0))
			fail_msg("case %zu: %s is not %s", i, c->name1, c->value1);
		assert_null(web_form_get(&form, "missing"));
		web_form_deinit(&form);
	}
}

static void test_form_not_nul_terminated(void **state)
{
	const char body[] = { 'a', '=', '1', '%', '4' };	/* no NUL after */
	struct web_form form;
	const char *error;

	assert_int_equal(web_form_parse(body, 3, &limits, &form, &error), 0);
	assert_string_equal(web_form_get(&form, "a"), "1");
	web_form_deinit(&form);
	assert_int_equal(web_form_parse(body, sizeof(body), &limits, &form, &error), -1);
}

struct cookie_case {
	const char *header;
	const char *name;
	int ret;
	const char *value;
};

static const struct cookie_case cookie_cases[] = {
	{ "__Host-tern=abc", "__Host-tern", 1, "abc" },
	{ "x=1; __Host-tern=abc; y=2", "__Host-tern", 1, "abc" },
	{ "x=1;__Host-tern=abc", "__Host-tern", 1, "abc" },
	{ "  __Host-tern = abc  ", "__Host-tern", 1, "abc" },
	{ "__Host-tern=\"abc\"", "__Host-tern", 1, "abc" },
	{ "__Host-tern=first; __Host-tern=second", "__Host-tern", 1, "first" },
	{ "__Host-tern-pre=zzz", "__Host-tern", 0, NULL },
	{ "a__Host-tern=zzz", "__Host-tern", 0, NULL },
	{ "", "__Host-tern", 0, NULL },
	{ "noequals; __Host-tern=v", "__Host-tern", 1, "v" },
	{ "__Host-tern=a\"b", "__Host-tern", -1, NULL },
	{ "__Host-tern=a\\b", "__Host-tern", -1, NULL },
	{ "__Host-tern=0123456789abcdef", "__Host-tern", -1, NULL },	/* too long for out */
	{ "a=1;b=2;c=3;d=4;e=5", "__Host-tern", -1, NULL },		/* 5 > 4 pairs */
	{ ";;;", "__Host-tern", 0, NULL },
};

static void test_cookie_cases(void **state)
{
	size_t i;

	for (i = 0; i < N(cookie_cases); i++) {
		const struct cookie_case *c = &cookie_cases[i];
		char out[16];
		int ret = web_cookie_get(c->header, strlen(c->header), c->name, 4, out,
					 sizeof(out));

		if (ret != c->ret)
			fail_msg("case %zu (%s): got %d", i, c->header, ret);
		if (ret == 1 && strcmp(out, c->value) != 0)
			fail_msg("case %zu: got value %s", i, out);
	}
}

static void test_html_escape_all_specials(void **state)
{
	struct buf b;
	const char in[] = "<a href=\"x\" title='y'>&amp;</a>\0tail";

	buf_init(&b, 0);
	assert_int_equal(web_html_escape(&b, in, sizeof(in) - 1), 0);
	assert_int_equal(b.len, strlen("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;"
				       "&lt;/a&gt;") + 5);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;"
			    "&lt;/a&gt;");
	buf_deinit(&b);
	buf_init(&b, 4);
	assert_int_equal(web_html_escape(&b, "<", 1), 0);
	assert_int_equal(web_html_escape(&b, "<", 1), -1);	/* max reached */
	buf_deinit(&b);
}

static void test_hex_valid(void **state)
{
	assert_true(web_hex_valid("00ff", 2));
	assert_false(web_hex_valid("00FF", 2));
	assert_false(web_hex_valid("00f", 2));
	assert_false(web_hex_valid("00ff0", 2));
	assert_false(web_hex_valid("00fg", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_cases),
		cmocka_unit_test(test_form_not_nul_terminated),
		cmocka_unit_test(test_cookie_cases),
		cmocka_unit_test(test_html_escape_all_specials),
		cmocka_unit_test(test_hex_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
