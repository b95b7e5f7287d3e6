/*
 * Unit tests for the RFC 5321 Mailbox parser (src/mail/address.c), with
 * the RFC 6531 UTF-8 extension. Each input is copied into a buffer of its
 * exact length, so a read past the end shows up under ASan.
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
#include "mail/address.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct addr_case {
	const char *in;
	const char *out;	/* NULL: must be refused */
};

/* Parses in (as a length-counted buffer with nothing after it). Returns
 * the result, and the normalized address in out when it is 0. */
static int parse(const char *in, size_t len, bool utf8, struct buf *out, const char **error_r)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, in, len);
	*error_r = NULL;
	ret = address_parse(copy, len, utf8, out, error_r);
	free(copy);
	return ret;
}

static void check_cases(const struct addr_case *cases, size_t n, bool utf8)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct buf out;
		const char *error;
		int ret;

		buf_init(&out, 0);
		ret = parse(cases[i].in, strlen(cases[i].in), utf8, &out, &error);
		if (cases[i].out == NULL && ret == 0)
			fail_msg("case %zu \"%s\" (utf8=%d): accepted as \"%s\"", i, cases[i].in, utf8,
				 buf_cstr(&out));
		if (cases[i].out != NULL && ret != 0)
			fail_msg("case %zu \"%s\" (utf8=%d): refused: %s", i, cases[i].in, utf8, error);
		if (cases[i].out != NULL && strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("case %zu \"%s\" (utf8=%d): got \"%s\", want \"%s\"", i, cases[i].in,
				 utf8, buf_cstr(&out), cases[i].out);
		if (ret != 0 && (error == NULL || error[0] == '\0'))
			fail_msg("case %zu \"%s\": no error text", i, cases[i].in);
		buf_deinit(&out);
	}
}

/* Valid in plain SMTP and therefore also with SMTPUTF8. */
static const struct addr_case ascii_cases[] = {
	/* 0: Dot-string */
	{ "user@example.com", "user@example.com" },
	{ "first.last@example.com", "first.last@example.com" },
	{ "a!#$%&'*+-/=?^_`{|}~z@example.com", "a!#$%&'*+-/=?^_`{|}~z@example.com" },
	{ "user+tag@example.com", "user+tag@example.com" },
	{ "1@2.3", "1@2.3" },
	/* 5: the domain is lowercased, the local part kept as sent */
	{ "John.Doe@Example.COM", "John.Doe@example.com" },
	{ "X@A-B.C-D", "X@a-b.c-d" },
	{ "user@a", "user@a" },
	{ "user@xn--bcher-kva.example", "user@xn--bcher-kva.example" },
	/* 9: Quoted-string */
	{ "\"john doe\"@example.com", "\"john doe\"@example.com" },
	{ "\"a\\\"b\"@example.com", "\"a\\\"b\"@example.com" },
	{ "\"a\\\\b\"@example.com", "\"a\\\\b\"@example.com" },
	{ "\"a@b\"@example.com", "\"a@b\"@example.com" },
	{ "\"\"@example.com", "\"\"@example.com" },
	{ "\"..\"@example.com", "\"..\"@example.com" },
	{ "\"!#[]{}\"@example.com", "\"!#[]{}\"@example.com" },
	/* 16: address literals */
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:db8::1]", "user@[ipv6:2001:db8::1]" },
	{ "user@[tag:x-y]", "user@[tag:x-y]" },
	/* 19: refused: no @, empty parts */
	{ "", NULL },
	{ "user", NULL },
	{ "user.example.com", NULL },
	{ "@example.com", NULL },
	{ "user@", NULL },
	{ "\"a@b\"", NULL },
	/* 25: refused: bad dot-strings */
	{ ".user@example.com", NULL },
	{ "user.@example.com", NULL },
	{ "us..er@example.com", NULL },
	{ ".@example.com", NULL },
	{ "us er@example.com", NULL },
	{ "us(er)@example.com", NULL },
	{ "us,er@example.com", NULL },
	{ "us\"er@example.com", NULL },
	{ "us\\er@example.com", NULL },
	{ "us<er@example.com", NULL },
	{ "us[er]@example.com", NULL },
	{ "us:er@example.com", NULL },
	{ "us;er@example.com", NULL },
	{ "us\ter@example.com", NULL },
	{ "us\x7f" "er@example.com", NULL },
	/* 40: refused: bad quoted-strings */
	{ "\"unterminated@example.com", NULL },
	{ "\"a\"b@example.com", NULL },
	{ "a\"b\"@example.com", NULL },
	{ "\"a\\\"@example.com", NULL },
	{ "\"tab\there\"@example.com", NULL },
	{ "\"a\\\tb\"@example.com", NULL },
	{ "\"cr\r\"@example.com", NULL },
	{ "\"", NULL },
	{ "\"@example.com", NULL },
	/* 49: refused: bad domains */
	{ "user@-example.com", NULL },
	{ "user@example-.com", NULL },
	{ "user@ex..com", NULL },
	{ "user@.example.com", NULL },
	{ "user@example.com.", NULL },
	{ "user@exa_mple.com", NULL },
	{ "user@ex ample.com", NULL },
	{ "user@example.com ", NULL },
	{ "user@@example.com", NULL },
	{ "user@a@example.com", NULL },
	{ "user@example.com>", NULL },
	/* 60: refused: bad address literals */
	{ "user@[192.0.2.1", NULL },
	{ "user@192.0.2.1]", NULL },
	{ "user@[]", NULL },
	{ "user@[a b]", NULL },
	{ "user@[a[b]", NULL },
	{ "user@[a\\]]", NULL },
	{ "user@[1.2.3.4]x", NULL },
	/* 67: refused without SMTPUTF8 */
	{ "j\xc3\xb6" "e@example.com", NULL },
	{ "joe@ex\xc3\xa4" "mple.com", NULL },
	{ "\"j\xc3\xb6\"@example.com", NULL },
};

static void test_address_ascii(void **state)
{
	check_cases(ascii_cases, N(ascii_cases), false);
}

/* With SMTPUTF8 (RFC 6531 3.3) UTF-8 is allowed in both parts. */
static const struct addr_case utf8_cases[] = {
	/* 0 */
	{ "j\xc3\xb6" "e@example.com", "j\xc3\xb6" "e@example.com" },
	{ "joe@ex\xc3\xa4" "mple.com", "joe@ex\xc3\xa4" "mple.com" },
	{ "\"j\xc3\xb6 e\"@example.com", "\"j\xc3\xb6 e\"@example.com" },
	/* 3: Chinese local part and domain, 3-octet sequences */
	{ "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
	  "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a" },
	/* 4: a 4-octet sequence (U+1F600) */
	{ "\xf0\x9f\x98\x80@example.com", "\xf0\x9f\x98\x80@example.com" },
	/* 5: lowercasing touches ASCII only, never UTF-8 octets */
	{ "J\xc3\x96" "E@EX\xc3\x84" "MPLE.COM", "J\xc3\x96" "E@ex\xc3\x84" "mple.com" },
	/* 6: still refused: malformed UTF-8 */
	{ "\xc3@example.com", NULL },			/* truncated */
	{ "\x80user@example.com", NULL },		/* lone continuation */
	{ "\xc0\xaf@example.com", NULL },		/* overlong '/' */
	{ "\xc1\xbf@example.com", NULL },		/* overlong */
	{ "\xe0\x80\xaf@example.com", NULL },		/* overlong, 3 octets */
	{ "\xf0\x80\x80\xaf@example.com", NULL },	/* overlong, 4 octets */
	{ "\xed\xa0\x80@example.com", NULL },		/* surrogate U+D800 */
	{ "\xed\xbf\xbf@example.com", NULL },		/* surrogate U+DFFF */
	{ "\xf4\x90\x80\x80@example.com", NULL },	/* U+110000 */
	{ "\xf5\x80\x80\x80@example.com", NULL },
	{ "\xff@example.com", NULL },
	{ "joe@ex\xc3.com", NULL },
	{ "joe@\xed\xa0\x80.com", NULL },
	{ "\"\xc3\"@example.com", NULL },
	{ "\"\xc0\xaf\"@example.com", NULL },
	/* 21: still refused: the ASCII rules hold */
	{ "j\xc3\xb6..e@example.com", NULL },
	{ "joe@[\xc3\xa4]", NULL },
};

static void test_address_utf8(void **state)
{
	check_cases(utf8_cases, N(utf8_cases), true);
	/* everything valid in ASCII stays valid (and the same) with UTF-8 */
	{
		size_t i, n = 0;
		struct addr_case ascii_ok[N(ascii_cases)];

		for (i = 0; i < N(ascii_cases); i++) {
			if (ascii_cases[i].out != NULL)
				ascii_ok[n++] = ascii_cases[i];
		}
		check_cases(ascii_ok, n, true);
	}
}

/* "x" repeated n times, then suffix, as an allocated string. */
static char *repeat(char c, size_t n, const char *suffix)
{
	size_t slen = strlen(suffix);
	char *s = malloc(n + slen + 1);

	assert_non_null(s);
	memset(s, c, n);
	memcpy(s + n, suffix, slen + 1);
	return s;
}

/* A domain of exactly len octets in labels of at most 50. */
static char *domain_of(size_t len)
{
	char *d = malloc(len + 1);
	size_t i;

	assert_non_null(d);
	memset(d, 'd', len);
	for (i = 50; i + 1 < len; i += 51)
		d[i] = '.';
	d[len] = '\0';
	return d;
}

static void test_address_length_limits(void **state)
{
	const char *error;
	struct buf out;
	char *s, *d, addr[600];

	buf_init(&out, 0);
	/* RFC 5321 4.5.3.1.1: local part at most 64 octets */
	s = repeat('l', 64, "@example.com");
	assert_int_equal(parse(s, strlen(s), false, &out, &error), 0);
	free(s);
	s = repeat('l', 65, "@example.com");
	assert_int_equal(parse(s, strlen(s), false, &out, &error), -1);
	assert_string_equal(error, "local part longer than 64 octets");
	free(s);
	/* a quoted local part counts its quotes */
	s = repeat('q', 63, "\"@example.com");
	s[0] = '"';
	assert_int_equal(parse(s, strlen(s), false, &out, &error), 0);
	free(s);
	s = repeat('q', 64, "\"@example.com");
	s[0] = '"';
	assert_int_equal(parse(s, strlen(s), false, &out, &error), -1);
	free(s);

	/* RFC 5321 4.5.3.1.2: a label is at most 63 octets, a domain 255 */
	s = repeat('l', 63, "");
	assert_true(address_domain_valid(s, 63, false));
	assert_false(address_domain_valid(s, 0, false));
	free(s);
	s = repeat('l', 64, "");
	assert_false(address_domain_valid(s, 64, false));
	free(s);
	d = domain_of(255);
	assert_true(address_domain_valid(d, 255, false));
	free(d);
	d = domain_of(256);
	assert_false(address_domain_valid(d, 256, false));
	free(d);

	/* the whole address: at most 256 octets (SMTP_PATH_MAX) */
	d = domain_of(191);
	s = repeat('l', 64, "");
	snprintf(addr, sizeof(addr), "%s@%s", s, d);
	assert_int_equal(strlen(addr), 256);
	buf_reset(&out);
	assert_int_equal(parse(addr, strlen(addr), false, &out, &error), 0);
	assert_string_equal(buf_cstr(&out), addr);
	free(d);
	d = domain_of(192);
	snprintf(addr, sizeof(addr), "%s@%s", s, d);
	assert_int_equal(parse(addr, strlen(addr), false, &out, &error), -1);
	assert_string_equal(error, "address too long");
	free(d);
	free(s);

	/* the output buffer's own limit is honoured */
	buf_deinit(&out);
	buf_init(&out, 10);
	assert_int_equal(parse("user@example.com", 16, false, &out, &error), -1);
	assert_string_equal(error, "address too long");
	buf_deinit(&out);
}

static void test_address_error_texts(void **state)
{
	static const struct {
		const char *in;
		const char *error;
	} cases[] = {
		{ "nodomain", "address has no @domain" },
		{ "@example.com", "empty local part" },
		{ "a..b@example.com", "invalid characters in local part" },
		{ "a@-b", "invalid domain" },
		{ "a@", "invalid domain" },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct buf out;
		const char *error;

		buf_init(&out, 0);
		if (parse(cases[i].in, strlen(cases[i].in), false, &out, &error) != -1 ||
		    strcmp(error, cases[i].error) != 0)
			fail_msg("case %zu \"%s\": got \"%s\"", i, cases[i].in, error ? error : "(ok)");
		buf_deinit(&out);
	}
}

static void test_address_nul_is_not_an_end(void **state)
{
	static const char in[] = "us\0er@example.com";
	const char *error;
	struct buf out;

	/* wire data is length-counted: a NUL inside is a bad octet */
	buf_init(&out, 0);
	assert_int_equal(parse(in, sizeof(in) - 1, false, &out, &error), -1);
	assert_int_equal(parse(in, sizeof(in) - 1, true, &out, &error), -1);
	assert_int_equal(parse("user@exa\0mple.com", 17, false, &out, &error), -1);
	assert_int_equal(parse("\"a\0b\"@example.com", 17, false, &out, &error), -1);
	buf_deinit(&out);
}

static void test_address_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		bool valid;
	} cases[] = {
		/* 0 */
		{ "", true },
		{ "plain ascii", true },
		{ "\x7f", true },
		{ "\xc2\x80", true },			/* U+0080, smallest 2-octet */
		{ "\xdf\xbf", true },			/* U+07FF */
		{ "\xe0\xa0\x80", true },		/* U+0800, smallest 3-octet */
		{ "\xed\x9f\xbf", true },		/* U+D7FF, below the surrogates */
		{ "\xee\x80\x80", true },		/* U+E000, above them */
		{ "\xef\xbf\xbf", true },		/* U+FFFF */
		{ "\xf0\x90\x80\x80", true },		/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", true },		/* U+10FFFF, the largest */
		/* 11: overlongs */
		{ "\xc0\x80", false },
		{ "\xc1\xbf", false },
		{ "\xe0\x80\x80", false },
		{ "\xe0\x9f\xbf", false },
		{ "\xf0\x80\x80\x80", false },
		{ "\xf0\x8f\xbf\xbf", false },
		/* 17: surrogates */
		{ "\xed\xa0\x80", false },
		{ "\xed\xaf\xbf", false },
		{ "\xed\xb0\x80", false },
		{ "\xed\xbf\xbf", false },
		/* 21: beyond U+10FFFF, bad lead octets */
		{ "\xf4\x90\x80\x80", false },
		{ "\xf5\x80\x80\x80", false },
		{ "\xf8\x88\x80\x80\x80", false },
		{ "\xfe", false },
		{ "\xff", false },
		/* 26: truncated or broken sequences */
		{ "\xc3", false },
		{ "\xe2\x82", false },
		{ "\xf0\x9f\x98", false },
		{ "\x80", false },
		{ "\xbf", false },
		{ "\xc3\x28", false },
		{ "\xe2\x28\xa1", false },
		{ "\xf0\x9f\x28\x80", false },
		{ "ok\xc3", false },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].s);
		char *copy = malloc(len + 1);

		memcpy(copy, cases[i].s, len);
		if (utf8_valid(copy, len) != cases[i].valid)
			fail_msg("case %zu: utf8_valid gave %d", i, !cases[i].valid);
		free(copy);
	}
}

static void test_address_has_8bit(void **state)
{
	assert_false(has_8bit("", 0));
	assert_false(has_8bit("abc\x7f", 4));
	assert_true(has_8bit("abc\x80", 4));
	assert_true(has_8bit("\xff", 1));
	/* only the given length counts */
	assert_false(has_8bit("abc\x80", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_ascii),
		cmocka_unit_test(test_address_utf8),
		cmocka_unit_test(test_address_length_limits),
		cmocka_unit_test(test_address_error_texts),
		cmocka_unit_test(test_address_nul_is_not_an_end),
		cmocka_unit_test(test_address_utf8_valid),
		cmocka_unit_test(test_address_has_8bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
