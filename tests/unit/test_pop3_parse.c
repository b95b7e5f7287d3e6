/*
 * Unit tests for the POP3 command parser and byte-stuffing encoder
 * (src/pop3/pop3_parse.c): keywords and arguments (RFC 1939 3, RFC 2449
 * 3), numeric arguments, and the "." doubling of RFC 1939 3 across chunk
 * boundaries.
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

#include "pop3/pop3_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	return copy;
}

static void test_parse_command_keywords(void **state)
{
	static const struct {
		const char *line;
		const char *keyword;	/* NULL: refused */
		const char *args;
	} cases[] = {
		/* 0: RFC 1939 3: keywords are 3 or 4 characters, any case */
		{ "USER alice", "USER", "alice" },
		{ "user alice", "USER", "alice" },
		{ "uSeR alice", "USER", "alice" },
		{ "STAT", "STAT", "" },
		{ "TOP 1 10", "TOP", "1 10" },
		{ "top", "TOP", "" },
		{ "QUIT", "QUIT", "" },
		/* 7: exactly one space separates; the rest is the argument */
		{ "PASS secret with spaces", "PASS", "secret with spaces" },
		{ "PASS  lead", "PASS", " lead" },
		{ "PASS trail ", "PASS", "trail " },
		{ "NOOP ", "NOOP", "" },
		{ "AUTH PLAIN dXNlcgB1c2VyAHB3", "AUTH", "PLAIN dXNlcgB1c2VyAHB3" },
		/* 12: refused */
		{ "", NULL, NULL },
		{ "US", NULL, NULL },
		{ "US alice", NULL, NULL },
		{ "USERX", NULL, NULL },
		{ "USERX alice", NULL, NULL },
		{ "CAPABILITY", NULL, NULL },
		{ " USER alice", NULL, NULL },
		{ "US3R alice", NULL, NULL },
		{ "LIS1", NULL, NULL },
		{ "RE-T 1", NULL, NULL },
		{ "USER\talice", NULL, NULL },
		{ "STAT\r", NULL, NULL },
		{ "\xc3\x9cSER alice", NULL, NULL },
		{ "    ", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].line);
		char *line = dup_exact(cases[i].line, len);
		struct pop3_command cmd;
		const char *error = NULL;
		int ret;

		memset(&cmd, 0, sizeof(cmd));
		ret = pop3_parse_command(line, len, &cmd, &error);
		if (cases[i].keyword == NULL) {
			if (ret != -1 || error == NULL)
				fail_msg("case %zu \"%s\": accepted as %s", i, cases[i].line, cmd.keyword);
		} else if (ret != 0 || strcmp(cmd.keyword, cases[i].keyword) != 0 ||
			   cmd.args_len != strlen(cases[i].args) ||
			   memcmp(cmd.args, cases[i].args, cmd.args_len) != 0) {
			fail_msg("case %zu \"%s\": ret %d keyword \"%s\" args \"%.*s\"", i, cases[i].line,
				 ret, cmd.keyword, (int)cmd.args_len, ret == 0 ? cmd.args : "");
		}
		free(line);
	}
}

static void test_parse_command_nul_in_keyword(void **state)
{
	struct pop3_command cmd;
	const char *error;

	assert_int_equal(pop3_parse_command("US\0R x", 6, &cmd, &error), -1);
	/* a NUL in the argument is the session's business, kept as is */
	assert_int_equal(pop3_parse_command("USER a\0b", 8, &cmd, &error), 0);
	assert_int_equal(cmd.args_len, 3);
	assert_memory_equal(cmd.args, "a\0b", 3);
}

static void test_parse_numbers(void **state)
{
	static const struct {
		const char *args;
		unsigned min, max;
		int ret;
		uint64_t v[3];
	} cases[] = {
		/* 0 */
		{ "", 0, 1, 0, { 0 } },
		{ "1", 0, 1, 1, { 1 } },
		{ "1", 1, 1, 1, { 1 } },
		{ "0", 1, 1, 1, { 0 } },
		{ "1 10", 2, 2, 2, { 1, 10 } },
		{ "1 10", 1, 2, 2, { 1, 10 } },
		{ "007", 1, 1, 1, { 7 } },
		{ "4294967295", 1, 1, 1, { 4294967295ULL } },		/* UINT32_MAX */
		{ "4294967295 4294967295", 2, 2, 2, { 4294967295ULL, 4294967295ULL } },
		/* 9: too few, too many */
		{ "", 1, 1, -1, { 0 } },
		{ "1", 2, 2, -1, { 0 } },
		{ "1 2", 1, 1, -1, { 0 } },
		{ "1 2 3", 0, 2, -1, { 0 } },
		{ "5", 0, 0, -1, { 0 } },
		/* 14: overflow */
		{ "4294967296", 1, 1, -1, { 0 } },
		{ "99999999999999999999", 1, 1, -1, { 0 } },
		{ "18446744073709551616", 1, 1, -1, { 0 } },
		{ "123456789012345678901234567890", 1, 1, -1, { 0 } },
		{ "1 4294967296", 2, 2, -1, { 0 } },
		/* 19: spaces: exactly one between, none around */
		{ " 1", 1, 1, -1, { 0 } },
		{ "1 ", 1, 1, -1, { 0 } },
		{ "1 ", 1, 2, -1, { 0 } },
		{ "1  2", 2, 2, -1, { 0 } },
		{ " ", 0, 1, -1, { 0 } },
		{ "1\t2", 2, 2, -1, { 0 } },
		/* 25: not numbers */
		{ "a", 1, 1, -1, { 0 } },
		{ "-1", 1, 1, -1, { 0 } },
		{ "+1", 1, 1, -1, { 0 } },
		{ "1a", 1, 1, -1, { 0 } },
		{ "0x1", 1, 1, -1, { 0 } },
		{ "1.5", 1, 1, -1, { 0 } },
		{ "1 b", 2, 2, -1, { 0 } },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].args), k;
		char *args = dup_exact(cases[i].args, len);
		uint64_t out[4] = { 111, 111, 111, 111 };
		int ret = pop3_parse_numbers(args, len, cases[i].min, cases[i].max, out);

		if (ret != cases[i].ret)
			fail_msg("case %zu \"%s\" min %u max %u: got %d, want %d", i, cases[i].args,
				 cases[i].min, cases[i].max, ret, cases[i].ret);
		for (k = 0; ret > 0 && k < (size_t)ret; k++) {
			if (out[k] != cases[i].v[k])
				fail_msg("case %zu \"%s\": value %zu is %llu", i, cases[i].args, k,
					 (unsigned long long)out[k]);
		}
		/* never writes past max entries */
		for (k = cases[i].max; k < N(out); k++) {
			if (out[k] != 111)
				fail_msg("case %zu \"%s\": wrote out[%zu]", i, cases[i].args, k);
		}
		free(args);
	}
}

/* Stuffs in[0..len) cut into pieces of the sizes in steps (cycled),
 * starting at a line start. Returns an allocated result. */
static char *stuff_in_pieces(const char *in, size_t len, const size_t *steps, size_t n_steps,
			     size_t *out_len_r)
{
	char *out = malloc(2 * len + 1);
	size_t i = 0, o = 0, k = 0;
	int at_line_start = 1;

	assert_non_null(out);
	while (i < len) {
		size_t n = steps[k++ % n_steps];
		char *piece, *tmp;
		size_t w;

		if (n > len - i)
			n = len - i;
		piece = dup_exact(in + i, n);
		tmp = malloc(2 * n + 1);
		assert_non_null(tmp);
		w = pop3_stuff(piece, n, tmp, &at_line_start);
		assert_true(w <= 2 * n);
		memcpy(out + o, tmp, w);
		o += w;
		i += n;
		free(piece);
		free(tmp);
	}
	out[o] = '\0';
	*out_len_r = o;
	return out;
}

static void test_parse_stuff(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		/* 0 */
		{ "", "" },
		{ "plain\r\n", "plain\r\n" },
		{ ".\r\n", "..\r\n" },
		{ ".leading\r\n", "..leading\r\n" },
		{ "a\r\n.b\r\n..c\r\nd.\r\n", "a\r\n..b\r\n...c\r\nd.\r\n" },
		{ ".", ".." },
		{ "\r\n.\r\n", "\r\n..\r\n" },
		{ ".\r\n.\r\n.\r\n", "..\r\n..\r\n..\r\n" },
		/* 8: the worst case: every line a lone dot (2x the input) */
		{ ".\n.\n.", "..\n..\n.." },
		/* 9: only a dot at a line start is doubled */
		{ "a.b.c\r\n", "a.b.c\r\n" },
		{ " .x\r\n", " .x\r\n" },
	};
	static const size_t steps_list[][3] = {
		{ 1000, 1000, 1000 }, { 1, 1, 1 }, { 2, 2, 2 }, { 3, 3, 3 }, { 1, 2, 3 }, { 3, 1, 2 },
	};
	size_t i, s;

	for (i = 0; i < N(cases); i++) {
		for (s = 0; s < N(steps_list); s++) {
			size_t out_len;
			char *out = stuff_in_pieces(cases[i].in, strlen(cases[i].in), steps_list[s], 3,
						    &out_len);

			if (out_len != strlen(cases[i].out) || memcmp(out, cases[i].out, out_len) != 0)
				fail_msg("case %zu steps %zu: \"%s\", want \"%s\"", i, s, out,
					 cases[i].out);
			free(out);
		}
	}
}

static void test_parse_stuff_state_across_chunks(void **state)
{
	char out[16];
	int at_line_start = 1;

	/* a chunk ending in LF leaves the next chunk at a line start */
	assert_int_equal(pop3_stuff("a\n", 2, out, &at_line_start), 2);
	assert_int_equal(at_line_start, 1);
	assert_int_equal(pop3_stuff(".x", 2, out, &at_line_start), 3);
	assert_memory_equal(out, "..x", 3);
	assert_int_equal(at_line_start, 0);
	/* mid-line: a dot at the start of the next chunk is not doubled */
	assert_int_equal(pop3_stuff(".y\r", 3, out, &at_line_start), 3);
	assert_memory_equal(out, ".y\r", 3);
	assert_int_equal(at_line_start, 0);
	assert_int_equal(pop3_stuff("\n", 1, out, &at_line_start), 1);
	assert_int_equal(at_line_start, 1);
	/* an empty chunk changes nothing */
	assert_int_equal(pop3_stuff("", 0, out, &at_line_start), 0);
	assert_int_equal(at_line_start, 1);
	assert_int_equal(pop3_stuff(".", 1, out, &at_line_start), 2);
	assert_memory_equal(out, "..", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_command_keywords),
		cmocka_unit_test(test_parse_command_nul_in_keyword),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_stuff),
		cmocka_unit_test(test_parse_stuff_state_across_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
