/*
 * Unit tests for SASL PLAIN decoding (src/auth/sasl.c, RFC 4616 2):
 * message = [authzid] NUL authcid NUL passwd, base64-encoded (RFC 4954 4,
 * RFC 5034 4). Tern has no proxy logins, so an authzid other than empty or
 * the authcid itself is refused.
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
#include <sodium.h>

#include "auth/auth.h"
#include "core/buf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Base64 (RFC 4648 4, padded) of bin[0..len), allocated, exact size. */
static char *b64(const char *bin, size_t len, size_t *out_len_r)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = malloc(cap), *out;

	assert_non_null(tmp);
	sodium_bin2base64(tmp, cap, (const unsigned char *)bin, len, sodium_base64_VARIANT_ORIGINAL);
	*out_len_r = strlen(tmp);
	out = malloc(*out_len_r ? *out_len_r : 1);
	assert_non_null(out);
	memcpy(out, tmp, *out_len_r);
	free(tmp);
	return out;
}

struct plain_case {
	const char *msg;	/* before base64 */
	size_t msg_len;
	const char *user;	/* NULL: refused */
	const char *pass;
};

#define PLAIN(s, user, pass) { s, sizeof(s) - 1, user, pass }

static const struct plain_case plain_cases[] = {
	/* 0: empty authzid */
	PLAIN("\0alice@example.com\0secret", "alice@example.com", "secret"),
	PLAIN("\0a\0p", "a", "p"),
	PLAIN("\0alice\0pass word with spaces", "alice", "pass word with spaces"),
	PLAIN("\0alice\0p\xc3\xa4ss\xff", "alice", "p\xc3\xa4ss\xff"),
	/* 4: authzid equal to authcid */
	PLAIN("alice@example.com\0alice@example.com\0secret", "alice@example.com", "secret"),
	PLAIN("a\0a\0p", "a", "p"),
	/* 6: another authzid: no proxy logins */
	PLAIN("bob@example.com\0alice@example.com\0secret", NULL, NULL),
	PLAIN("alic\0alice\0secret", NULL, NULL),
	PLAIN("alice\0alic\0secret", NULL, NULL),
	PLAIN("Alice\0alice\0secret", NULL, NULL),
	/* 10: missing NULs */
	PLAIN("alice\0secret", NULL, NULL),
	PLAIN("\0alicesecret", NULL, NULL),
	PLAIN("alicesecret", NULL, NULL),
	PLAIN("", NULL, NULL),
	PLAIN("\0", NULL, NULL),
	/* 15: empty user */
	PLAIN("\0\0secret", NULL, NULL),
	PLAIN("\0\0", NULL, NULL),
	/* 17: a NUL too many */
	PLAIN("\0alice\0sec\0ret", NULL, NULL),
	PLAIN("\0alice\0secret\0", NULL, NULL),
	PLAIN("\0\0alice\0secret", NULL, NULL),
};

static void test_sasl_plain_cases(void **state)
{
	size_t i;

	for (i = 0; i < N(plain_cases); i++) {
		const struct plain_case *c = &plain_cases[i];
		struct buf user, pass;
		const char *error = NULL;
		size_t len;
		char *in = b64(c->msg, c->msg_len, &len);
		int ret;

		buf_init(&user, 0);
		buf_init(&pass, 0);
		ret = sasl_plain_decode(in, len, &user, &pass, &error);
		if (c->user == NULL) {
			if (ret != -1 || error == NULL)
				fail_msg("case %zu: accepted as \"%s\"", i, buf_cstr(&user));
		} else {
			if (ret != 0)
				fail_msg("case %zu: refused: %s", i, error);
			if (user.len != strlen(c->user) || memcmp(user.data, c->user, user.len) != 0 ||
			    pass.len != strlen(c->pass) || memcmp(pass.data, c->pass, pass.len) != 0)
				fail_msg("case %zu: user \"%s\" pass \"%s\"", i, buf_cstr(&user),
					 buf_cstr(&pass));
		}
		buf_deinit(&user);
		buf_wipe(&pass);
		free(in);
	}
}

static void test_sasl_plain_error_texts(void **state)
{
	static const struct {
		struct plain_case c;
		const char *error;
	} cases[] = {
		{ PLAIN("bob\0alice\0pw", NULL, NULL),
		  "authorization identity must be empty or equal the user" },
		{ PLAIN("alice\0pw", NULL, NULL),
		  "malformed PLAIN response (expected authzid NUL authcid NUL password)" },
		{ PLAIN("\0\0pw", NULL, NULL), "malformed PLAIN response" },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct buf user, pass;
		const char *error = NULL;
		size_t len;
		char *in = b64(cases[i].c.msg, cases[i].c.msg_len, &len);

		buf_init(&user, 0);
		buf_init(&pass, 0);
		if (sasl_plain_decode(in, len, &user, &pass, &error) != -1 ||
		    strcmp(error, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\"", i, error ? error : "(accepted)");
		buf_deinit(&user);
		buf_wipe(&pass);
		free(in);
	}
}

static void test_sasl_bad_base64(void **state)
{
	static const char *const cases[] = {
		"!!!!",
		"AGEAcHc",		/* "\0a\0pw" without its padding */
		"AGEAcHc=x",		/* garbage after the padding */
		"AGEA cHc=",		/* a space inside */
		"AGEA\r\ncHc=",
		"AGEAcHc==",
		"A",
		"AG-_cHc=",		/* URL-safe alphabet */
		"=",
		"*",
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct buf user, pass;
		const char *error = NULL;
		size_t len = strlen(cases[i]);
		char *in = malloc(len);

		memcpy(in, cases[i], len);
		buf_init(&user, 0);
		buf_init(&pass, 0);
		if (sasl_plain_decode(in, len, &user, &pass, &error) != -1 ||
		    strcmp(error, "invalid base64") != 0)
			fail_msg("case %zu \"%s\": %s", i, cases[i], error ? error : "accepted");
		assert_int_equal(user.len, 0);
		assert_int_equal(pass.len, 0);
		buf_deinit(&user);
		buf_wipe(&pass);
		free(in);
	}
	/* the right padding decodes */
	{
		struct buf user, pass;
		const char *error = NULL;

		buf_init(&user, 0);
		buf_init(&pass, 0);
		assert_int_equal(sasl_plain_decode("AGEAcHc=", 8, &user, &pass, &error), 0);
		assert_string_equal(buf_cstr(&user), "a");
		assert_string_equal(buf_cstr(&pass), "pw");
		buf_deinit(&user);
		buf_wipe(&pass);
	}
}

/* A PLAIN response whose base64 form is exactly b64_len characters
 * (a multiple of 4). */
static char *plain_of_b64_len(size_t b64_len, size_t *len_r)
{
	size_t bin_len = b64_len / 4 * 3;
	char *bin = malloc(bin_len), *out;

	assert_non_null(bin);
	memcpy(bin, "\0user\0", 6);
	memset(bin + 6, 'p', bin_len - 6);
	out = b64(bin, bin_len, len_r);
	assert_int_equal(*len_r, b64_len);
	free(bin);
	return out;
}

static void test_sasl_oversize(void **state)
{
	struct buf user, pass;
	const char *error = NULL;
	size_t len;
	char *in;

	/* at most PASSWORD_MAX * 4 = 4096 base64 characters */
	in = plain_of_b64_len(4096, &len);
	buf_init(&user, 0);
	buf_init(&pass, 0);
	assert_int_equal(sasl_plain_decode(in, len, &user, &pass, &error), 0);
	assert_string_equal(buf_cstr(&user), "user");
	assert_int_equal(pass.len, 4096 / 4 * 3 - 6);
	buf_deinit(&user);
	buf_wipe(&pass);
	free(in);

	in = plain_of_b64_len(4100, &len);
	buf_init(&user, 0);
	buf_init(&pass, 0);
	assert_int_equal(sasl_plain_decode(in, len, &user, &pass, &error), -1);
	assert_string_equal(error, "response too long");
	buf_deinit(&user);
	buf_wipe(&pass);
	free(in);

	/* the output buffers' limits are honoured */
	in = plain_of_b64_len(64, &len);
	buf_init(&user, 3);
	buf_init(&pass, 0);
	assert_int_equal(sasl_plain_decode(in, len, &user, &pass, &error), -1);
	assert_string_equal(error, "user or password too long");
	buf_deinit(&user);
	buf_wipe(&pass);
	buf_init(&user, 0);
	buf_init(&pass, 10);
	assert_int_equal(sasl_plain_decode(in, len, &user, &pass, &error), -1);
	assert_string_equal(error, "user or password too long");
	buf_deinit(&user);
	buf_wipe(&pass);
	free(in);
}

/* LOGIN strings: the two prompts' answers, and what must be refused. */
static void test_sasl_base64_login_strings(void **state)
{
	static const struct {
		const char *in;
		const char *out;	/* NULL: refused */
	} cases[] = {
		{ "YWxpY2VAYS50ZXN0", "alice@a.test" },
		{ "c2VjcmV0", "secret" },
		{ "", "" },
		{ "c2VjcmV0=", NULL },		/* bad padding */
		{ "c2VjcmV", NULL },		/* truncated */
		{ "c2Vj cmV0", NULL },		/* space inside */
		{ "*", NULL },
		{ "YQBi", NULL },		/* "a\0b" */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out;
		const char *error = NULL;
		int ret;

		buf_init(&out, 1024);
		ret = sasl_base64_decode(cases[i].in, strlen(cases[i].in), &out, &error);
		if (cases[i].out == NULL && ret == 0)
			fail_msg("case %zu \"%s\": accepted", i, cases[i].in);
		if (cases[i].out != NULL && (ret != 0 || strcmp(buf_cstr(&out), cases[i].out) != 0))
			fail_msg("case %zu \"%s\": got %d \"%s\" (%s)", i, cases[i].in, ret,
				 buf_cstr(&out), error ? error : "");
		buf_wipe(&out);
	}
}

static void test_sasl_buf_wipe(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "secret");
	buf_wipe(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_wipe(&b);		/* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_plain_cases),
		cmocka_unit_test(test_sasl_plain_error_texts),
		cmocka_unit_test(test_sasl_bad_base64),
		cmocka_unit_test(test_sasl_oversize),
		cmocka_unit_test(test_sasl_base64_login_strings),
		cmocka_unit_test(test_sasl_buf_wipe),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
