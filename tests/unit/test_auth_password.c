/*
 * Unit tests for passwords (src/auth/password.c, legacy.c, policy.c):
 * legacy crypt(3) hashes with published vectors (Drepper's SHA-crypt
 * specification, OpenBSD's bcrypt tests) and ones made with mkpasswd,
 * the import parser's refusals, rehash detection and the policy's
 * messages.
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

static const struct {
	const char *hash, *password;
} legacy_cases[] = {
	/* SHA-crypt spec (akkadia.org/drepper/SHA-crypt.txt) */
	{ "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
	  "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!" },
	{ "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
	  "Hello world!" },
	/* OpenBSD bcrypt regression test */
	{ "{BLF-CRYPT}$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U" },
	/* mkpasswd -m sha-512 / sha-256 / bcrypt -R 5 (whois package) */
	{ "{SHA512-CRYPT}$6$saltsaltsalt1234$CV8VEzSOOGhJbCelXhPmuYqkJFqLvez8YDtu9Jv9LI8aNk57Hmo"
	  "tQT99DtDFhpunE.7LP0hCEzhYmtoh5AOpz1", "hunter2-legacy" },
	{ "{SHA256-CRYPT}$5$saltsaltsalt1234$PS0qr.3Ef7xiWUs9.rKR3MOkgoVC5wgMXZsfs22jHA.",
	  "hunter2-legacy" },
	{ "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuXShLvPQCq56fwZ.Pa/kHA9h9Uv2GAxq",
	  "hunter2-legacy" },
};

static void test_legacy_verify_vectors(void **state)
{
	struct password_params p;
	const char *error;
	char *stored;
	size_t i;

	password_params_default(&p);
	for (i = 0; i < N(legacy_cases); i++) {
		const char *pw = legacy_cases[i].password;

		if (password_import_parse(legacy_cases[i].hash, strlen(legacy_cases[i].hash), &p,
					  &stored, &error) < 0)
			fail_msg("case %zu: import refused: %s", i, error);
		assert_string_equal(stored, legacy_cases[i].hash);
		if (!password_verify(stored, pw, strlen(pw)))
			fail_msg("case %zu: right password refused", i);
		if (password_verify(stored, "wrong", 5) ||
		    password_verify(stored, pw, strlen(pw) - 1))
			fail_msg("case %zu: wrong password accepted", i);
		assert_true(password_needs_rehash(stored, &p));
		free(stored);
	}
}

static void test_import_refusals(void **state)
{
	static const char *const bad[] = {
		"{MD5-CRYPT}$1$abc$def", "{CRYPT}abJnggxhB/yWI", "$6$salt$hash",
		"{SHA512-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF4oQCoy1",
		"{SHA512-CRYPT}", "{SHA512-CRYPT}$6$sa lt$x", "{BLF-CRYPT}$2b$99$abc",
		"{ARGON2ID}$argon2i$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", "{PLAIN}",
		"{SHA512-CRYPT}$6$\n$x",
	};
	struct password_params p;
	const char *error;
	char *stored;
	size_t i;

	password_params_default(&p);
	for (i = 0; i < N(bad); i++) {
		error = NULL;
		if (password_import_parse(bad[i], strlen(bad[i]), &p, &stored, &error) == 0)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_non_null(error);
	}
}

static void test_import_plain_and_argon2(void **state)
{
	struct password_params p = { .memory = 8 * 1024 * 1024, .iterations = 1 };
	char hash[PASSWORD_HASH_MAX], *text, *stored;
	const char *error;

	assert_int_equal(password_import_parse("{PLAIN}open sesame!", 19, &p, &stored, &error), 0);
	assert_memory_equal(stored, "$argon2id$", 10);
	assert_true(password_verify(stored, "open sesame!", 12));
	assert_false(password_needs_rehash(stored, &p));
	free(stored);
	/* an Argon2id of other parameters is kept, and rehashed later */
	assert_int_equal(password_hash("pw-argon", 8, hash), 0);
	text = malloc(strlen(hash) + 11);
	sprintf(text, "{ARGON2ID}%s", hash);
	assert_int_equal(password_import_parse(text, strlen(text), &p, &stored, &error), 0);
	assert_string_equal(stored, hash);
	assert_true(password_verify(stored, "pw-argon", 8));
	assert_true(password_needs_rehash(stored, &p));
	free(stored);
	free(text);
}

static void test_policy_messages(void **state)
{
	static const struct {
		const char *password, *want;	/* want NULL: accepted */
	} cases[] = {
		{ "short-1", "too short: at least 12 characters" },
		{ "password1234", "too easy to guess" },
		{ "qwertyuiopasdf", "too easy to guess" },
		{ "alice-is-great-2024", "part of your address (\"alice\")" },
		{ "my-example-mailbox", "part of your address (\"example\")" },
		{ "correct horse battery staple", NULL },
		{ "v8#kLq2!mZ9@wR4t", NULL },
	};
	struct password_policy pol = { .min_length = 12, .min_score = 3 };
	char reason[256];
	size_t i;
	int r;

	for (i = 0; i < N(cases); i++) {
		reason[0] = '\0';
		r = password_policy_check(&pol, cases[i].password, "alice@example.com", reason,
					  sizeof(reason));
		if (cases[i].want == NULL && r != 0)
			fail_msg("case %zu refused: %s", i, reason);
		if (cases[i].want != NULL && (r == 0 || strstr(reason, cases[i].want) == NULL))
			fail_msg("case %zu: got '%s', want '%s'", i, reason, cases[i].want);
	}
	pol.min_score = 0;	/* length only */
	assert_int_equal(password_policy_check(&pol, "alice-secret-1", "alice@example.com", reason,
					       sizeof(reason)), 0);
}

static void test_generated_password_passes_policy(void **state)
{
	struct password_policy pol = { .min_length = 12, .min_score = 4 };
	char pw[PASSWORD_GENERATED_LEN + 1], reason[256];
	int i;

	for (i = 0; i < 20; i++) {
		password_generate(pw);
		assert_int_equal(strlen(pw), PASSWORD_GENERATED_LEN);
		if (password_policy_check(&pol, pw, "alice@example.com", reason, sizeof(reason)))
			fail_msg("generated %s refused: %s", pw, reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_verify_vectors),
		cmocka_unit_test(test_import_refusals),
		cmocka_unit_test(test_import_plain_and_argon2),
		cmocka_unit_test(test_policy_messages),
		cmocka_unit_test(test_generated_password_passes_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
