/*
 * Unit tests for the SMTP command argument parsers (src/smtp/smtp_parse.c):
 * MAIL FROM with its parameters (RFC 5321 4.1.1.2, RFC 1870 SIZE, RFC 6152
 * BODY, RFC 6531 SMTPUTF8), RCPT TO (4.1.1.3), BDAT (RFC 3030 2) and
 * EHLO/HELO. Every refusal is checked for its exact reply code and RFC 3463
 * enhanced status. Inputs are copied into buffers of their exact length so
 * ASan sees any read past the end.
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
#include "smtp/smtp_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	return copy;
}

/* Checks a refusal: code and status, or success when code is 0. */
static void check_result(size_t i, const char *in, int ret, const struct smtp_reply_err *err,
			 int code, const char *status)
{
	if (code == 0 && ret != 0)
		fail_msg("case %zu \"%s\": refused with %d %s %s", i, in, err->code, err->status,
			 err->text);
	if (code != 0 && ret == 0)
		fail_msg("case %zu \"%s\": accepted, want %d %s", i, in, code, status);
	if (code != 0 && (err->code != code || strcmp(err->status, status) != 0))
		fail_msg("case %zu \"%s\": got %d %s (%s), want %d %s", i, in, err->code,
			 err->status, err->text, code, status);
	if (code != 0 && (err->text == NULL || err->text[0] == '\0'))
		fail_msg("case %zu \"%s\": no reply text", i, in);
}

static void test_parse_split_command(void **state)
{
	static const struct {
		const char *line;
		const char *verb;
		const char *args;
	} cases[] = {
		{ "MAIL FROM:<a@b.c>", "MAIL", "FROM:<a@b.c>" },
		{ "QUIT", "QUIT", "" },
		{ "NOOP   ", "NOOP", "" },
		{ "RCPT   TO:<a@b.c>   ", "RCPT", "TO:<a@b.c>" },
		{ "ehlo client.example", "ehlo", "client.example" },
		{ "BDAT 10 LAST", "BDAT", "10 LAST" },
		{ " QUIT", "", "QUIT" },
		{ "", "", "" },
		{ "   ", "", "" },
		{ "X a  b ", "X", "a  b" },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].line);
		char *line = dup_exact(cases[i].line, len);
		struct smtp_command cmd;

		smtp_split_command(line, len, &cmd);
		if (cmd.verb_len != strlen(cases[i].verb) ||
		    memcmp(cmd.verb, cases[i].verb, cmd.verb_len) != 0 ||
		    cmd.args_len != strlen(cases[i].args) ||
		    memcmp(cmd.args, cases[i].args, cmd.args_len) != 0)
			fail_msg("case %zu \"%s\": verb \"%.*s\" args \"%.*s\"", i, cases[i].line,
				 (int)cmd.verb_len, cmd.verb, (int)cmd.args_len, cmd.args);
		assert_true(cmd.args >= line && cmd.args <= line + len);
		free(line);
	}
}

struct mail_case {
	const char *args;
	bool esmtp;
	int code;		/* 0: accepted */
	const char *status;
	const char *addr;	/* when accepted: "" for <> */
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
};

static const struct mail_case mail_cases[] = {
	/* 0: plain paths */
	{ "FROM:<user@example.com>", false, 0, NULL, "user@example.com", 0, SMTP_BODY_7BIT, false },
	{ "FROM:<user@example.com>", true, 0, NULL, "user@example.com", 0, SMTP_BODY_7BIT, false },
	{ "from:<User@Example.COM>", false, 0, NULL, "User@example.com", 0, SMTP_BODY_7BIT, false },
	{ "FROM:<>", false, 0, NULL, "", 0, SMTP_BODY_7BIT, false },
	{ "FROM:<>", true, 0, NULL, "", 0, SMTP_BODY_7BIT, false },
	/* 5: lenient: a space after the colon, no angle brackets */
	{ "FROM: <user@example.com>", false, 0, NULL, "user@example.com", 0, SMTP_BODY_7BIT, false },
	{ "FROM:user@example.com", false, 0, NULL, "user@example.com", 0, SMTP_BODY_7BIT, false },
	{ "FROM:user@example.com SIZE=10", true, 0, NULL, "user@example.com", 10, SMTP_BODY_7BIT, false },
	/* 8: a source route is accepted and dropped (RFC 5321 C) */
	{ "FROM:<@a.example,@b.example:user@example.com>", false, 0, NULL, "user@example.com", 0,
	  SMTP_BODY_7BIT, false },
	{ "FROM:<@a.example:user@example.com>", false, 0, NULL, "user@example.com", 0,
	  SMTP_BODY_7BIT, false },
	{ "FROM:<@a.example>", false, 501, "5.1.7", NULL, 0, 0, false },
	/* 11: quoted local parts, with '>' and '"' inside */
	{ "FROM:<\"a>b\"@example.com>", false, 0, NULL, "\"a>b\"@example.com", 0, SMTP_BODY_7BIT, false },
	{ "FROM:<\"a\\\"b\"@example.com>", false, 0, NULL, "\"a\\\"b\"@example.com", 0,
	  SMTP_BODY_7BIT, false },
	/* 13: parameters (EHLO only) */
	{ "FROM:<user@example.com> SIZE=1000", true, 0, NULL, "user@example.com", 1000,
	  SMTP_BODY_7BIT, false },
	{ "FROM:<> SIZE=0", true, 0, NULL, "", 0, SMTP_BODY_7BIT, false },
	{ "FROM:<user@example.com> BODY=8BITMIME", true, 0, NULL, "user@example.com", 0,
	  SMTP_BODY_8BITMIME, false },
	{ "FROM:<user@example.com> body=7bit", true, 0, NULL, "user@example.com", 0,
	  SMTP_BODY_7BIT, false },
	{ "FROM:<user@example.com> SMTPUTF8", true, 0, NULL, "user@example.com", 0,
	  SMTP_BODY_7BIT, true },
	{ "FROM:<user@example.com>  size=5   body=8bitmime  smtputf8", true, 0, NULL,
	  "user@example.com", 5, SMTP_BODY_8BITMIME, true },
	{ "FROM:<user@example.com> SIZE=9223372036854775807", true, 0, NULL, "user@example.com",
	  9223372036854775807ULL, SMTP_BODY_7BIT, false },
	/* 20: parameters after HELO are refused (RFC 5321 4.1.1.2, 555) */
	{ "FROM:<user@example.com> SIZE=1000", false, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<> BODY=8BITMIME", false, 555, "5.5.4", NULL, 0, 0, false },
	/* 22: unknown or malformed parameters */
	{ "FROM:<user@example.com> FOO=BAR", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> RET=HDRS", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SMTPUTF8=yes", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> BODY=BINARYMIME", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> BODY=", true, 555, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE=abc", true, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE=", true, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE=-1", true, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE=9223372036854775808", true, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com> SIZE=99999999999999999999999", true, 501, "5.5.4", NULL, 0, 0, false },
	/* 33: non-ASCII needs SMTPUTF8 (RFC 6531 3.5: 553 5.6.7) */
	{ "FROM:<j\xc3\xb6" "e@example.com>", true, 553, "5.6.7", NULL, 0, 0, false },
	{ "FROM:<joe@ex\xc3\xa4" "mple.com>", true, 553, "5.6.7", NULL, 0, 0, false },
	{ "FROM:<j\xc3\xb6" "e@example.com> SMTPUTF8", true, 0, NULL, "j\xc3\xb6" "e@example.com",
	  0, SMTP_BODY_7BIT, true },
	{ "FROM:<j\xc3\xb6" "e@example.com> BODY=8BITMIME SMTPUTF8", true, 0, NULL,
	  "j\xc3\xb6" "e@example.com", 0, SMTP_BODY_8BITMIME, true },
	{ "FROM:<\xc0\xaf@example.com> SMTPUTF8", true, 553, "5.1.7", NULL, 0, 0, false },
	/* 38: syntax errors */
	{ "", false, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM", false, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM <user@example.com>", false, 501, "5.5.4", NULL, 0, 0, false },
	{ "TO:<user@example.com>", false, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:", false, 501, "5.5.4", NULL, 0, 0, false },
	{ "FROM:<user@example.com", false, 501, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<", false, 501, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<\"user>@example.com", false, 501, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<user@example.com>x", true, 501, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<user@example.com><x@y.z>", true, 501, "5.1.7", NULL, 0, 0, false },
	/* 48: bad addresses */
	{ "FROM:<user>", false, 553, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<user@>", false, 553, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<@example.com>", false, 501, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<us..er@example.com>", false, 553, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<user@-example.com>", false, 553, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<user name@example.com>", false, 553, "5.1.7", NULL, 0, 0, false },
	{ "FROM:<postmaster>", false, 553, "5.1.7", NULL, 0, 0, false },
};

static void test_parse_mail_from(void **state)
{
	size_t i;

	for (i = 0; i < N(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];
		size_t len = strlen(c->args);
		char *args = dup_exact(c->args, len);
		struct smtp_mail_params p;
		struct smtp_reply_err err = { 0 };
		struct buf addr;
		int ret;

		buf_init(&addr, 0);
		memset(&p, 0xa5, sizeof(p));	/* the parser must set every field */
		ret = smtp_parse_mail(args, len, c->esmtp, &p, &addr, &err);
		check_result(i, c->args, ret, &err, c->code, c->status);
		if (ret == 0) {
			if (strcmp(buf_cstr(&addr), c->addr) != 0)
				fail_msg("case %zu \"%s\": address \"%s\"", i, c->args, buf_cstr(&addr));
			if (p.null_sender != (c->addr[0] == '\0') || p.size != c->size ||
			    p.body != c->body || p.smtputf8 != c->smtputf8)
				fail_msg("case %zu \"%s\": null=%d size=%llu body=%d utf8=%d", i, c->args,
					 p.null_sender, (unsigned long long)p.size, (int)p.body,
					 p.smtputf8);
		}
		buf_deinit(&addr);
		free(args);
	}
}

struct rcpt_case {
	const char *args;
	bool utf8;
	int code;
	const char *status;
	const char *addr;
};

static const struct rcpt_case rcpt_cases[] = {
	/* 0 */
	{ "TO:<user@example.com>", false, 0, NULL, "user@example.com" },
	{ "to:<User@EXAMPLE.com>", false, 0, NULL, "User@example.com" },
	{ "TO: <user@example.com>", false, 0, NULL, "user@example.com" },
	{ "TO:user@example.com", false, 0, NULL, "user@example.com" },
	{ "TO:<@relay.example:user@example.com>", false, 0, NULL, "user@example.com" },
	{ "TO:<\"john doe\"@example.com>", false, 0, NULL, "\"john doe\"@example.com" },
	/* 6: RFC 5321 4.5.1: <postmaster> without a domain */
	{ "TO:<postmaster>", false, 0, NULL, "postmaster" },
	{ "TO:<PostMaster>", false, 0, NULL, "postmaster" },
	{ "TO:<postmaster@Example.com>", false, 0, NULL, "postmaster@example.com" },
	/* 9: UTF-8 needs SMTPUTF8 on MAIL */
	{ "TO:<j\xc3\xb6" "e@example.com>", false, 553, "5.6.7", NULL },
	{ "TO:<j\xc3\xb6" "e@example.com>", true, 0, NULL, "j\xc3\xb6" "e@example.com" },
	{ "TO:<j\xc3\xb6" "e@\xc3\xa4.example>", true, 0, NULL, "j\xc3\xb6" "e@\xc3\xa4.example" },
	{ "TO:<\xed\xa0\x80@example.com>", true, 501, "5.1.3", NULL },
	/* 13: no RCPT parameters are offered */
	{ "TO:<user@example.com> NOTIFY=NEVER", false, 555, "5.5.4", NULL },
	{ "TO:<user@example.com> ORCPT=rfc822;user@example.com", false, 555, "5.5.4", NULL },
	{ "TO:<user@example.com>  ", false, 0, NULL, "user@example.com" },
	/* 16: syntax */
	{ "", false, 501, "5.5.4", NULL },
	{ "TO", false, 501, "5.5.4", NULL },
	{ "TO <user@example.com>", false, 501, "5.5.4", NULL },
	{ "FROM:<user@example.com>", false, 501, "5.5.4", NULL },
	{ "TO:<user@example.com", false, 501, "5.1.3", NULL },
	{ "TO:<@relay.example>", false, 501, "5.1.3", NULL },
	/* 22: bad or empty addresses */
	{ "TO:<>", false, 501, "5.1.3", NULL },
	{ "TO:", false, 501, "5.1.3", NULL },
	{ "TO:<user>", false, 501, "5.1.3", NULL },
	{ "TO:<user@>", false, 501, "5.1.3", NULL },
	{ "TO:<.user@example.com>", false, 501, "5.1.3", NULL },
	{ "TO:<user@example..com>", false, 501, "5.1.3", NULL },
	{ "TO:<postmaster@>", false, 501, "5.1.3", NULL },
};

static void test_parse_rcpt_to(void **state)
{
	size_t i;

	for (i = 0; i < N(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		size_t len = strlen(c->args);
		char *args = dup_exact(c->args, len);
		struct smtp_reply_err err = { 0 };
		struct buf addr;
		int ret;

		buf_init(&addr, 0);
		ret = smtp_parse_rcpt(args, len, c->utf8, &addr, &err);
		check_result(i, c->args, ret, &err, c->code, c->status);
		if (ret == 0 && strcmp(buf_cstr(&addr), c->addr) != 0)
			fail_msg("case %zu \"%s\": address \"%s\"", i, c->args, buf_cstr(&addr));
		buf_deinit(&addr);
		free(args);
	}
}

static void test_parse_rcpt_address_buffer_full(void **state)
{
	struct smtp_reply_err err = { 0 };
	struct buf addr;

	buf_init(&addr, 5);
	assert_int_equal(smtp_parse_rcpt("TO:<postmaster>", 15, false, &addr, &err), -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.status, "5.1.3");
	buf_deinit(&addr);
}

static void test_parse_bdat(void **state)
{
	static const struct {
		const char *args;
		int code;
		uint64_t size;
		bool last;
	} cases[] = {
		/* 0 */
		{ "0", 0, 0, false },
		{ "1000", 0, 1000, false },
		{ "1000 LAST", 0, 1000, true },
		{ "0 LAST", 0, 0, true },
		{ "7 last", 0, 7, true },
		{ "9223372036854775807 LAST", 0, 9223372036854775807ULL, true },
		/* 6: refused, 501 5.5.4 */
		{ "", 501, 0, false },
		{ "LAST", 501, 0, false },
		{ "abc", 501, 0, false },
		{ "-1", 501, 0, false },
		{ "+1", 501, 0, false },
		{ "1k", 501, 0, false },
		{ "0x10", 501, 0, false },
		{ "10 LASTX", 501, 0, false },
		{ "10 FIRST", 501, 0, false },
		{ "10  LAST", 501, 0, false },
		{ "10 LAST x", 501, 0, false },
		{ "10 ", 501, 0, false },
		{ " 10", 501, 0, false },
		{ "9223372036854775808", 501, 0, false },	/* > UINT64_MAX / 2 */
		{ "18446744073709551616", 501, 0, false },	/* > UINT64_MAX */
		{ "123456789012345678901234567890", 501, 0, false },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].args);
		char *args = dup_exact(cases[i].args, len);
		struct smtp_reply_err err = { 0 };
		uint64_t size = 12345;
		bool last = true;
		int ret;

		ret = smtp_parse_bdat(args, len, &size, &last, &err);
		check_result(i, cases[i].args, ret, &err, cases[i].code, "5.5.4");
		if (ret == 0 && (size != cases[i].size || last != cases[i].last))
			fail_msg("case %zu \"%s\": size %llu last %d", i, cases[i].args,
				 (unsigned long long)size, last);
		free(args);
	}
}

static void test_parse_helo(void **state)
{
	static const struct {
		const char *args;
		int code;
	} cases[] = {
		/* 0 */
		{ "client.example.com", 0 },
		{ "[192.0.2.1]", 0 },
		{ "[IPv6:2001:db8::1]", 0 },
		{ "localhost", 0 },
		{ "x", 0 },
		{ "under_score.example", 0 },	/* lenient: one printable token */
		/* 6: refused */
		{ "", 501 },
		{ "client example", 501 },
		{ "client\texample", 501 },
		{ "client\x7f", 501 },
		{ "cli\xc3\xa9nt.example", 501 },
		{ "client\r", 501 },
	};
	struct smtp_reply_err err = { 0 };
	char name[300];
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].args);
		char *args = dup_exact(cases[i].args, len);

		check_result(i, cases[i].args, smtp_parse_helo(args, len, &err), &err,
			     cases[i].code, "5.5.4");
		free(args);
	}
	/* a NUL is not printable */
	assert_int_equal(smtp_parse_helo("a\0b", 3, &err), -1);
	assert_int_equal(err.code, 501);

	/* at most 255 octets (RFC 5321 4.5.3.1.2) */
	memset(name, 'h', sizeof(name));
	assert_int_equal(smtp_parse_helo(name, 255, &err), 0);
	assert_int_equal(smtp_parse_helo(name, 256, &err), -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.status, "5.5.4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_split_command),
		cmocka_unit_test(test_parse_mail_from),
		cmocka_unit_test(test_parse_rcpt_to),
		cmocka_unit_test(test_parse_rcpt_address_buffer_full),
		cmocka_unit_test(test_parse_bdat),
		cmocka_unit_test(test_parse_helo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
