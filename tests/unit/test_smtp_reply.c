/*
 * Unit tests for the SMTP client's reply parser (src/smtp/smtp_reply.c):
 * single and multiline replies, enhanced status codes (RFC 3463), the
 * limits on line length and line count, malformed lines, and the EHLO
 * keywords the client acts on.
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

#include "smtp/smtp_reply.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct smtp_reply_limits limits = { SMTP_REPLY_LINE_MAX, 8 };

/* Feeds '\n'-separated lines; returns the last feed's result. */
static int feed_all(struct smtp_reply_parser *p, const char *text, const char **error_r)
{
	const char *line = text, *nl;
	int ret = 0;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		ret = smtp_reply_feed(p, line, (size_t)(nl - line), error_r);
		if (ret != 0)
			return ret;
		line = *nl ? nl + 1 : nl;
	}
	return ret;
}

static void test_reply_parse_cases(void **state)
{
	static const struct {
		const char *in;
		int ret, code;
		const char *enhanced, *text;
	} cases[] = {
		{ "250 OK", 1, 250, "", "OK" },
		{ "250", 1, 250, "", "" },
		{ "550 5.1.1 No such user", 1, 550, "5.1.1", "5.1.1 No such user" },
		{ "451 4.7.1 try later", 1, 451, "4.7.1", "4.7.1 try later" },
		{ "250 5.1.1 mismatched class", 1, 250, "", "5.1.1 mismatched class" },
		{ "250-first\n250-second\n250 third", 1, 250, "", "first\nsecond\nthird" },
		{ "250-first\n250-second", 0, 0, NULL, NULL },
		{ "250-a\n251 b", -1, 0, NULL, NULL },
		{ "25 short", -1, 0, NULL, NULL },
		{ "abc def", -1, 0, NULL, NULL },
		{ "250xOK", -1, 0, NULL, NULL },
		{ "150 too low", -1, 0, NULL, NULL },
		{ "650 too high", -1, 0, NULL, NULL },
		{ "550 5.1234.1 bad", 1, 550, "", "5.1234.1 bad" },
		{ "550 5.1.1x", 1, 550, "", "5.1.1x" },
		{ "1-\n1-\n1-", -1, 0, NULL, NULL },
		{ "250-1\n250-2\n250-3\n250-4\n250-5\n250-6\n250-7\n250-8\n250 9", -1, 0, NULL, NULL },
	};
	struct smtp_reply_parser p;
	const char *error = NULL;
	size_t i;
	int ret;

	for (i = 0; i < N(cases); i++) {
		smtp_reply_parser_init(&p, &limits);
		ret = feed_all(&p, cases[i].in, &error);
		if (ret != cases[i].ret)
			fail_msg("case %zu: ret %d, want %d", i, ret, cases[i].ret);
		if (ret == 1) {
			if (p.reply.code != cases[i].code ||
			    strcmp(p.reply.enhanced, cases[i].enhanced) != 0 ||
			    strcmp(buf_cstr(&p.reply.text), cases[i].text) != 0)
				fail_msg("case %zu: got %d [%s] \"%s\"", i, p.reply.code,
					 p.reply.enhanced, buf_cstr(&p.reply.text));
		}
		if (ret == -1 && (error == NULL || error[0] == '\0'))
			fail_msg("case %zu: no error text", i);
		smtp_reply_parser_deinit(&p);
	}
}

static void test_reply_overlong_line_fails(void **state)
{
	struct smtp_reply_limits small = { 16, 4 };
	struct smtp_reply_parser p;
	const char *error;

	smtp_reply_parser_init(&p, &small);
	assert_int_equal(smtp_reply_feed(&p, "250 0123456789ab", 16, &error), 1);
	assert_int_equal(smtp_reply_feed(&p, "250 0123456789abc", 17, &error), -1);
	smtp_reply_parser_deinit(&p);
}

static void test_reply_parser_reused_after_complete(void **state)
{
	struct smtp_reply_parser p;
	const char *error;

	smtp_reply_parser_init(&p, &limits);
	assert_int_equal(feed_all(&p, "220-hello\n220 there", &error), 1);
	assert_int_equal(feed_all(&p, "354 go ahead", &error), 1);
	assert_int_equal(p.reply.code, 354);
	assert_string_equal(buf_cstr(&p.reply.text), "go ahead");
	assert_int_equal(p.reply.n_lines, 1);
	smtp_reply_parser_deinit(&p);
}

static void test_reply_ehlo_keywords(void **state)
{
	struct smtp_reply_parser p;
	struct smtp_ehlo e;
	const char *error;

	smtp_reply_parser_init(&p, &limits);
	assert_int_equal(feed_all(&p, "250-mx.example.org hello\n250-SIZE 1000000\n250-pipelining\n"
				  "250-8BITMIME\n250-AUTH LOGIN PLAIN CRAM-MD5\n250-STARTTLS\n"
				  "250 SMTPUTF8", &error), 1);
	smtp_ehlo_parse(&p.reply, &e);
	assert_true(e.size_given);
	assert_int_equal(e.size, 1000000);
	assert_true(e.pipelining && e.eightbitmime && e.starttls && e.smtputf8);
	assert_false(e.chunking);
	assert_int_equal(e.auth, SMTP_AUTH_LOGIN | SMTP_AUTH_PLAIN);
	smtp_reply_parser_deinit(&p);

	smtp_reply_parser_init(&p, &limits);
	assert_int_equal(feed_all(&p, "250-STARTTLS mx.example.org\n250-SIZE\n250 CHUNKING", &error), 1);
	smtp_ehlo_parse(&p.reply, &e);
	assert_false(e.starttls);	/* the greeting line is not a keyword */
	assert_true(e.size_given);
	assert_int_equal(e.size, 0);
	assert_true(e.chunking);
	assert_int_equal(e.auth, 0);
	smtp_reply_parser_deinit(&p);
}

static void test_reply_enhanced_parse(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "5.1.1", "5.1.1" }, { "4.7.123 x", "4.7.123" }, { "2.0.0", "2.0.0" },
		{ "3.1.1", "" }, { "5.1", "" }, { "5..1", "" }, { "5.1.1.1", "" }, { "", "" },
	};
	char out[16];
	size_t i;

	for (i = 0; i < N(cases); i++) {
		smtp_enhanced_parse(cases[i].in, strlen(cases[i].in), out);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i, out, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_parse_cases),
		cmocka_unit_test(test_reply_overlong_line_fails),
		cmocka_unit_test(test_reply_parser_reused_after_complete),
		cmocka_unit_test(test_reply_ehlo_keywords),
		cmocka_unit_test(test_reply_enhanced_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
