/*
 * Unit tests for TOTP (src/auth/totp.c): the RFC 6238 Appendix B SHA-1
 * vectors (secret ASCII "12345678901234567890"; the RFC prints 8 digits,
 * Tern uses 6, which are the last 6 of those), base32 (RFC 4648 10
 * vectors), the ±1 step window, replay refusal and the otpauth URI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char rfc_key[] = "12345678901234567890";

static void test_totp_rfc6238_vectors(void **state)
{
	static const struct { int64_t t; uint32_t code; } cases[] = {
		{ 59, 287082 }, { 1111111109, 81804 }, { 1111111111, 50471 },
		{ 1234567890, 5924 }, { 2000000000, 279037 }, { 20000000000, 353130 },
	};
	uint32_t code;
	size_t i;

	for (i = 0; i < N(cases); i++) {
		assert_int_equal(totp_code((const uint8_t *)rfc_key, 20,
					   (uint64_t)(cases[i].t / 30), &code), 0);
		if (code != cases[i].code)
			fail_msg("case %zu: got %06u want %06u", i, code, cases[i].code);
	}
}

static void test_base32_rfc4648_vectors(void **state)
{
	static const char *const cases[][2] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	char out[64];
	uint8_t back[64];
	size_t i;
	int n;

	for (i = 0; i < N(cases); i++) {
		assert_int_equal(base32_encode((const uint8_t *)cases[i][0], strlen(cases[i][0]),
					       out, sizeof(out)), (int)strlen(cases[i][1]));
		assert_string_equal(out, cases[i][1]);
		n = base32_decode(cases[i][1], back, sizeof(back));
		assert_int_equal(n, (int)strlen(cases[i][0]));
		assert_memory_equal(back, cases[i][0], (size_t)n);
	}
	assert_int_equal(base32_decode("mzxw 6ytb-oi==", back, sizeof(back)), 6);
	assert_int_equal(base32_decode("MZ1W", back, sizeof(back)), -1);
}

/* the RFC key in base32, as an app would be given it */
#define RFC_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void test_totp_check_window_and_replay(void **state)
{
	/* t=59 is step 1 (code 287082) */
	assert_int_equal(totp_check(RFC_B32, "287082", 59, 0), 1);
	assert_int_equal(totp_check(RFC_B32, "287082", 59 + 30, 0), 1);	/* one step late */
	assert_int_equal(totp_check(RFC_B32, "287082", 59 - 30, 0), 1);	/* one step early */
	assert_int_equal(totp_check(RFC_B32, "287082", 59 + 60, 0), 0);	/* two: refused */
	assert_int_equal(totp_check(RFC_B32, "287082", 59, 1), 0);		/* replay */
	assert_int_equal(totp_check(RFC_B32, "287083", 59, 0), 0);
	assert_int_equal(totp_check(RFC_B32, "28708", 59, 0), 0);
	assert_int_equal(totp_check(RFC_B32, "28708a", 59, 0), 0);
	assert_int_equal(totp_check("!!", "287082", 59, 0), -1);
}

static void test_totp_secret_and_uri(void **state)
{
	char secret[TOTP_SECRET_B32_MAX];
	uint8_t key[64];
	char *uri, *qr;

	totp_secret_new(secret);
	assert_int_equal(strlen(secret), 32);
	assert_int_equal(base32_decode(secret, key, sizeof(key)), TOTP_KEY_LEN);
	uri = totp_uri("mail.example.com", "al ice@example.com", secret);
	assert_non_null(strstr(uri, "otpauth://totp/mail.example.com:al%20ice@example.com?secret="));
	assert_non_null(strstr(uri, "&digits=6&period=30"));
	qr = totp_qr_terminal(uri);
	assert_non_null(qr);
	assert_non_null(strstr(qr, "\xe2\x96\x88"));	/* U+2588 full block */
	free(qr);
	qr = totp_qr_svg(uri);
	assert_non_null(strstr(qr, "<svg"));
	free(qr);
	free(uri);
}

static void test_secret_code_digest_normalizes(void **state)
{
	char code[SECRET_CODE_LEN + 1];
	uint8_t a[SECRET_DIGEST_LEN], b[SECRET_DIGEST_LEN];

	secret_code_new(code);
	assert_int_equal(strlen(code), SECRET_CODE_LEN);
	assert_int_equal(code[4], '-');
	secret_code_digest(code, strlen(code), a);
	code[0] = (char)(code[0] >= 'a' ? code[0] - 32 : code[0]);
	code[4] = ' ';
	secret_code_digest(code, strlen(code), b);
	assert_memory_equal(a, b, sizeof(a));
	secret_code_digest("abcd", 4, b);
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_base32_rfc4648_vectors),
		cmocka_unit_test(test_totp_check_window_and_replay),
		cmocka_unit_test(test_totp_secret_and_uri),
		cmocka_unit_test(test_secret_code_digest_normalizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
