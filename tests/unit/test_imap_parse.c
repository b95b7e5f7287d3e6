/*
 * Unit tests for the IMAP command reader and tokenizer
 * (src/imap/imap_reader.c, src/imap/imap_parse.c): literals of every kind
 * (RFC 9051 4.3, RFC 7888 LITERAL+/-, RFC 3516 literal8) fed whole and
 * byte by byte, the continuation and big-literal hand-offs, every limit and
 * the resynchronization after each error, the token tree and the cursor.
 * Each chunk is copied into a buffer of its exact length so ASan sees any
 * read past it. Cases report their index.
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
#include "core/util.h"
#include "imap/imap_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	return copy;
}

static void small_limits(struct imap_limits *l)
{
	imap_limits_default(l);
	l->max_line = 100;
	l->max_command = 300;
	l->inline_literal_max = 10;
	l->max_literal = 1000;
	l->nonsync_max = 1000;
	l->drain_max = 2000;
	l->max_literals = 3;
	l->max_depth = 4;
	l->max_args = 50;
}

static void dump_args(struct buf *out, const struct imap_arg *a, const struct imap_arg *end);

static void dump_arg(struct buf *out, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		buf_printf(out, "a:%.*s", (int)a->len, a->data);
		break;
	case IMAP_ARG_QUOTED:
		buf_printf(out, "q:%.*s", (int)a->len, a->data);
		break;
	case IMAP_ARG_LITERAL:
		buf_append_str(out, a->binary ? "b:" : "l:");
		buf_append(out, a->data, a->len);
		break;
	case IMAP_ARG_LITERAL_EXT:
		buf_printf(out, "x%u/%llu%s", a->ext_index, (unsigned long long)a->ext_size,
			   a->binary ? "b" : "");
		break;
	case IMAP_ARG_LIST:
		buf_append_str(out, "(");
		dump_args(out, a + 1, a + 1 + a->subtree);
		buf_append_str(out, ")");
		break;
	case IMAP_ARG_SECTION:
		buf_printf(out, "s:%.*s[", (int)a->len, a->data);
		dump_args(out, a + 1, a + 1 + a->subtree);
		buf_printf(out, "]%.*s", (int)a->suffix_len, a->suffix);
		break;
	}
}

static void dump_args(struct buf *out, const struct imap_arg *a, const struct imap_arg *end)
{
	bool first = true;

	while (a < end) {
		if (!first)
			buf_append_str(out, " ");
		first = false;
		dump_arg(out, a);
		a += 1 + (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_SECTION ? a->subtree : 0);
	}
}

static void dump_command(struct buf *out, const struct imap_command *cmd)
{
	buf_printf(out, "[%.*s %s%.*s", (int)cmd->tag_len, cmd->tag, cmd->uid ? "UID " : "",
		   (int)cmd->name_len, cmd->name);
	if (cmd->arg_count > 0)
		buf_append_str(out, " ");
	dump_args(out, cmd->args, cmd->args + cmd->arg_count);
	buf_append_str(out, "]");
}

/* Feeds input in chunks of `chunk` bytes (0: all at once) and logs what
 * the reader reports: "+" continuation, "L<n>" big literal (consumed by
 * the test, like a session), "[...]" a parsed command, "P:<error>" a parse
 * error, "E:<error>" a read error ("!" when the session must close). */
static void run_reader(const struct imap_limits *lim, const char *in, size_t len, size_t chunk,
		       struct buf *log)
{
	struct imap_reader *r = imap_reader_new(lim);
	struct imap_args args;
	size_t pos = 0;
	uint64_t external_left = 0;

	imap_args_init(&args);
	while (pos < len) {
		size_t n = chunk == 0 || chunk > len - pos ? len - pos : chunk, used = 0;
		char *copy;
		enum imap_read_result ret;

		if (external_left > 0) {
			size_t take = n < external_left ? n : (size_t)external_left;

			external_left -= take;
			pos += take;
			if (external_left == 0)
				imap_reader_literal_done(r);
			continue;
		}
		copy = dup_exact(in + pos, n);
		ret = imap_reader_feed(r, copy, n, &used);
		free(copy);
		assert_true(used <= n);
		pos += used;
		if (ret == IMAP_READ_CONTINUE) {
			buf_append_str(log, "+");
		} else if (ret == IMAP_READ_LITERAL) {
			const struct imap_literal_info *li = imap_reader_literal(r);

			buf_printf(log, "L%llu%s", (unsigned long long)li->size, li->sync ? "s" : "");
			external_left = li->size;
			if (external_left == 0)
				imap_reader_literal_done(r);
		} else if (ret == IMAP_READ_DONE) {
			struct imap_command cmd;
			const char *error;

			if (imap_reader_parse(r, &args, &cmd, &error) < 0)
				buf_printf(log, "P:%s", error);
			else
				dump_command(log, &cmd);
		} else if (ret == IMAP_READ_ERROR) {
			const struct imap_read_error *e = imap_reader_error(r);
			const char *tag;
			size_t tag_len;

			buf_printf(log, "E:%s", e->text);
			if (imap_reader_tag(r, &tag, &tag_len))
				buf_printf(log, "@%.*s", (int)tag_len, tag);
			if (e->recover == IMAP_RECOVER_CLOSE) {
				buf_append_str(log, "!");
				break;
			}
		} else {
			assert_int_equal(used, n);
		}
	}
	imap_args_deinit(&args);
	imap_reader_free(&r);
	assert_null(r);
}

/* string literals that may hold NUL bytes, with their length */
#define IN(s) s, sizeof(s) - 1

struct reader_case {
	const char *in;
	size_t in_len;
	const char *log;
	size_t log_len;
};

static const struct reader_case reader_cases[] = {
	/* 0: plain commands, pipelined, CRLF or bare LF */
	{ IN("a1 NOOP\r\n"), IN("[a1 NOOP]") },
	{ IN("a1 NOOP\r\na2 CAPABILITY\n"), IN("[a1 NOOP][a2 CAPABILITY]") },
	{ IN("A003 uid fetch 1:* (FLAGS)\r\n"), IN("[A003 UID fetch a:1:* (a:FLAGS)]") },
	{ IN("t LOGIN \"us\\\"er\" \"p\\\\w\"\r\n"), IN("[t LOGIN q:us\"er q:p\\w]") },
	{ IN("t SELECT \"\"\r\n"), IN("[t SELECT q:]") },
	/* 5: synchronizing literal, LITERAL+ and literal8 */
	{ IN("t LOGIN {4}\r\nuser {4}\r\npass\r\n"), IN("++[t LOGIN l:user l:pass]") },
	{ IN("t LOGIN {4+}\r\nuser {4+}\r\npass\r\n"), IN("[t LOGIN l:user l:pass]") },
	{ IN("t APPEND box ~{5}\r\na\0b\r\n\r\n"), IN("+[t APPEND a:box b:a\0b\r\n]") },
	{ IN("t APPEND box ~{3+}\r\nabc\r\n"), IN("[t APPEND a:box b:abc]") },
	{ IN("t LOGIN {0}\r\n {0+}\r\n\r\n"), IN("+[t LOGIN l: l:]") },
	/* 10: literal with CRLF and braces inside, then more arguments */
	{ IN("t X {6}\r\n{1}\r\n) (a {2+}\r\nzz)\r\n"), IN("+[t X l:{1}\r\n) (a:a l:zz)]") },
	/* 11: big literals go to the session, which takes them */
	{ IN("t APPEND box (\\Seen) {11}\r\nhello world\r\n"), IN("L11s[t APPEND a:box (a:\\Seen) x0/11]") },
	{ IN("t APPEND box {11+}\r\nhello world {12}\r\nhello world!\r\n"), IN("L11L12s[t APPEND a:box x0/11 x1/12]") },
	{ IN("t APPEND box ~{20+}\r\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\r\n"), IN("L20[t APPEND a:box x0/20b]") },
	/* 14: lines too long: reported at once, the rest skipped, next read */
	{ IN("t1 X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nt2 NOOP\r\n"), IN("E:Command line too long@t1[t2 NOOP]") },
	/* 15: a too long line ending in {n+}: its literal is drained */
	{ IN("t1 X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {5+}\r\nt3 X\r\nt2 NOOP\r\n"), IN("E:Command line too long@t1[t2 NOOP]") },
	/* 16: NUL in a line */
	{ IN("t1 LOGIN a\0b\r\nt2 NOOP\r\n"), IN("E:NUL byte in command line@t1[t2 NOOP]") },
	/* 17: literal too large: {n} is refused without waiting for it */
	{ IN("t1 APPEND box {1001}\r\nt2 NOOP\r\n"), IN("E:Literal too large@t1[t2 NOOP]") },
	/* 18: {n+} too large but drainable: the bytes are skipped */
	{ IN("t1 APPEND box {1001+}\r\n"), IN("E:Literal too large@t1") },
	/* 19: beyond drain_max the connection must close (RFC 7888 4) */
	{ IN("t1 SEARCH TEXT {4294967296+}\r\nabc"), IN("E:Non-synchronizing literal too large@t1!") },
	{ IN("t1 SEARCH TEXT {4294967296}\r\nt2 NOOP\r\n"), IN("E:Literal too large@t1[t2 NOOP]") },
	{ IN("t1 X {99999999999999999999}\r\nt2 NOOP\r\n"), IN("E:Literal size out of range@t1[t2 NOOP]") },
	{ IN("t1 X {99999999999999999999+}\r\nt2 NOOP\r\n"), IN("E:Non-synchronizing literal too large@t1!") },
	/* 23: too many literals; the fourth {n+} is drained with its line */
	{ IN("t1 X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd {1+}\r\ne\r\nt2 NOOP\r\n"), IN("E:Too many literals in one command@t1[t2 NOOP]") },
	{ IN("t1 X {1}\r\na {1}\r\nb {1}\r\nc {1}\r\nt2 NOOP\r\n"), IN("+++E:Too many literals in one command@t1[t2 NOOP]") },
	/* 25: tokenizer errors come back as parse errors, reading goes on */
	{ IN("t1 X (a b\r\nt2 NOOP\r\n"), IN("P:Missing ')'[t2 NOOP]") },
	{ IN("t1 X a b)\r\n"), IN("P:Unbalanced parentheses or brackets") },
	{ IN("t1 X ((((((a))))))\r\n"), IN("P:Too deeply nested parentheses") },
	{ IN("t1 X \"abc\r\n"), IN("P:Unterminated quoted string") },
	{ IN("t1 X \"a\\bc\"\r\n"), IN("P:Invalid escape in quoted string") },
	{ IN("t1 X a{5}\r\nhello\r\n"), IN("+P:Missing space between arguments") },
	{ IN("t1 X \"a {3}\r\nabc\"\r\n"), IN("+P:Unterminated quoted string") },
	{ IN("t1 X \xc3\xa9\r\n"), IN("P:Invalid characters in atom") },
	{ IN("t1 X a\rb\r\n"), IN("P:Invalid characters in command") },
	{ IN("+ X\r\n"), IN("P:Invalid tag") },
	{ IN("t1\r\n"), IN("P:Missing command name") },
	{ IN("\r\n"), IN("P:Missing tag") },
	{ IN("t1 UID\r\n"), IN("P:Missing command name") },
	/* 38: sections */
	{ IN("t FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[] UID)\r\n"), IN("[t FETCH a:1 (s:BODY.PEEK[a:HEADER.FIELDS (a:From q:To)]<0.100> s:BODY[] a:UID)]") },
	{ IN("t FETCH 1 BINARY[1.2]\r\n"), IN("[t FETCH a:1 s:BINARY[a:1.2]]") },
	{ IN("t FETCH 1 body[1.MIME\r\n"), IN("P:Missing ']'") },
	{ IN("t LIST \"\" foo[bar]\r\n"), IN("[t LIST q: a:foo[bar]]") },
	{ IN("t FETCH 1 BODY[HEADER.FIELDS {4}\r\nFrom]\r\n"), IN("+[t FETCH a:1 s:BODY[a:HEADER.FIELDS l:From]]") },
	/* 43: spaces are lenient */
	{ IN("t  X   a  ( b )  \r\n"), IN("P:Missing command name") },
	{ IN("t X   a  ( b )  \r\n"), IN("[t X a:a (a:b)]") },
};

static void test_imap_reader_cases(void **state)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };
	struct imap_limits lim;
	size_t i, c;

	small_limits(&lim);
	for (i = 0; i < N(reader_cases); i++) {
		const struct reader_case *t = &reader_cases[i];

		for (c = 0; c < N(chunks); c++) {
			struct buf log;

			buf_init(&log, 0);
			run_reader(&lim, t->in, t->in_len, chunks[c], &log);
			if (log.len != t->log_len || memcmp(log.data, t->log, log.len) != 0)
				fail_msg("case %zu chunk %zu: got \"%s\", want \"%s\"", i, chunks[c],
					 buf_cstr(&log), t->log);
			buf_deinit(&log);
		}
	}
}

/* The session refuses big literals: {n} drops the command, {n+} drains. */
static void test_imap_reader_literal_reject(void **state)
{
	struct imap_limits lim;
	struct imap_reader *r;
	struct imap_args args;
	struct imap_command cmd;
	const char *in = "t1 SEARCH TEXT {20}\r\nt2 SEARCH TEXT {20+}\r\n01234567890123456789\r\n"
			 "t3 NOOP\r\nt4 X {600+}\r\n";
	const char *p = in, *error, *data;
	size_t len = strlen(in), used, dlen;

	small_limits(&lim);
	lim.drain_max = 100;
	r = imap_reader_new(&lim);
	imap_args_init(&args);
	assert_int_equal(imap_reader_feed(r, p, len, &used), IMAP_READ_LITERAL);
	assert_true(imap_reader_literal(r)->sync);
	imap_reader_partial(r, &data, &dlen);
	assert_int_equal(dlen, 19);
	assert_memory_equal(data, "t1 SEARCH TEXT {20}", 19);
	assert_int_equal(imap_reader_literal_reject(r), IMAP_RECOVER_BAD);
	assert_int_equal(imap_reader_parse(r, &args, &cmd, &error), -1);
	p += used, len -= used;
	assert_int_equal(imap_reader_feed(r, p, len, &used), IMAP_READ_LITERAL);
	assert_false(imap_reader_literal(r)->sync);
	assert_int_equal(imap_reader_literal_reject(r), IMAP_RECOVER_BAD);
	p += used, len -= used;
	assert_int_equal(imap_reader_feed(r, p, len, &used), IMAP_READ_DONE);
	assert_int_equal(imap_reader_parse(r, &args, &cmd, &error), 0);
	assert_memory_equal(cmd.tag, "t3", 2);
	p += used, len -= used;
	assert_int_equal(imap_reader_feed(r, p, len, &used), IMAP_READ_LITERAL);
	/* 600 > drain_max */
	assert_int_equal(imap_reader_literal_reject(r), IMAP_RECOVER_CLOSE);
	assert_int_equal(imap_reader_feed(r, "x", 1, &used), IMAP_READ_ERROR);
	assert_int_equal(imap_reader_error(r)->recover, IMAP_RECOVER_CLOSE);
	imap_args_deinit(&args);
	imap_reader_free(&r);
}

/* LITERAL- (RFC 7888 5): {n+} above 4096 is refused with TOOBIG. */
static void test_imap_reader_literal_minus(void **state)
{
	struct imap_limits lim;
	struct imap_reader *r;
	const char *in = "t1 APPEND box {4097+}\r\n";
	size_t used;

	imap_limits_default(&lim);
	lim.nonsync_max = 4096;
	r = imap_reader_new(&lim);
	assert_int_equal(imap_reader_feed(r, in, strlen(in), &used), IMAP_READ_ERROR);
	assert_string_equal(imap_reader_error(r)->code, "TOOBIG");
	assert_int_equal(imap_reader_error(r)->recover, IMAP_RECOVER_BAD);
	imap_reader_free(&r);
}

/* Raw line mode: no literal processing for AUTHENTICATE and IDLE. */
static void test_imap_reader_line_mode(void **state)
{
	struct imap_limits lim;
	struct imap_reader *r;
	const char *in = "dXNlcg== {5}\r\nt1 NOOP\r\n", *data;
	size_t used, len;

	small_limits(&lim);
	r = imap_reader_new(&lim);
	imap_reader_line_mode(r);
	assert_int_equal(imap_reader_feed(r, in, strlen(in), &used), IMAP_READ_DONE);
	assert_int_equal(used, 14);
	imap_reader_line(r, &data, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(data, "dXNlcg== {5}", 12);
	assert_int_equal(imap_reader_feed(r, in + used, strlen(in) - used, &used), IMAP_READ_DONE);
	imap_reader_line(r, &data, &len);
	assert_int_equal(len, 7);
	imap_reader_free(&r);
}

struct number_case {
	const char *s;
	int ret32, retnz, ret64;
};

static void test_imap_parse_numbers(void **state)
{
	static const struct number_case cases[] = {
		{ "0", 0, -1, 0 },
		{ "1", 0, 0, 0 },
		{ "4294967295", 0, 0, 0 },
		{ "4294967296", -1, -1, 0 },
		{ "9223372036854775807", -1, -1, 0 },
		{ "9223372036854775808", -1, -1, -1 },
		{ "18446744073709551616", -1, -1, -1 },
		{ "99999999999999999999999", -1, -1, -1 },
		{ "01", 0, -1, 0 },
		{ "", -1, -1, -1 },
		{ "-1", -1, -1, -1 },
		{ "+1", -1, -1, -1 },
		{ "1a", -1, -1, -1 },
		{ " 1", -1, -1, -1 },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].s);
		char *s = dup_exact(cases[i].s, len);
		uint32_t v32;
		uint64_t v64;

		if (imap_parse_number(s, len, &v32) != cases[i].ret32 ||
		    imap_parse_nz_number(s, len, &v32) != cases[i].retnz ||
		    imap_parse_number64(s, len, &v64) != cases[i].ret64)
			fail_msg("case %zu \"%s\"", i, cases[i].s);
		free(s);
	}
}

/* Parses a literal-free line with default limits; returns the command. */
static int parse(const char *line, char **copy_r, struct imap_args *args,
		 struct imap_command *cmd, const char **error_r)
{
	struct imap_limits lim;
	size_t len = strlen(line);

	imap_limits_default(&lim);
	*copy_r = dup_exact(line, len);
	return imap_parse_line(&lim, *copy_r, len, args, cmd, error_r);
}

static void test_imap_cursor(void **state)
{
	struct imap_args args;
	struct imap_command cmd;
	struct imap_cursor cur;
	const char *error, *s;
	char *copy;
	size_t len;
	uint32_t n32;
	uint64_t n64;

	imap_args_init(&args);
	assert_int_equal(parse("a1 X atom \"q s\" NIL nil 42 9223372036854775807 (x (y)) z% \\Seen",
			       &copy, &args, &cmd, &error), 0);
	imap_cursor_init(&cur, &cmd);
	assert_int_equal(imap_arg_astring(&cur, &s, &len), 0);
	assert_memory_equal(s, "atom", len);
	assert_int_equal(imap_arg_atom(&cur, &s, &len), -1);	/* quoted is no atom */
	assert_string_equal(cur.error, "Expected an atom");
	assert_int_equal(imap_arg_astring(&cur, &s, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(imap_arg_nstring(&cur, &s, &len), 0);
	assert_null(s);
	assert_int_equal(imap_arg_astring(&cur, &s, &len), 0);	/* "nil" is an astring */
	assert_int_equal(imap_arg_nz_number(&cur, &n32), 0);
	assert_int_equal(n32, 42);
	assert_int_equal(imap_arg_number(&cur, &n32), -1);
	assert_int_equal(imap_arg_number64(&cur, &n64), 0);
	assert_true(n64 == 9223372036854775807ULL);
	assert_int_equal(imap_arg_list_enter(&cur), 0);
	assert_true(imap_arg_keyword(&cur, "X"));
	assert_int_equal(imap_arg_list_leave(&cur), -1);	/* (y) left */
	assert_int_equal(imap_arg_list_enter(&cur), 0);
	assert_false(imap_arg_keyword(&cur, "z"));
	assert_true(imap_arg_keyword(&cur, "y"));
	assert_true(imap_arg_at_end(&cur));
	assert_int_equal(imap_arg_list_leave(&cur), 0);
	assert_int_equal(imap_arg_list_leave(&cur), 0);
	assert_int_equal(imap_arg_astring(&cur, &s, &len), -1);	/* wildcard */
	assert_int_equal(imap_arg_atom(&cur, &s, &len), 0);
	assert_int_equal(imap_arg_end(&cur), -1);
	assert_int_equal(imap_arg_atom(&cur, &s, &len), 0);
	assert_memory_equal(s, "\\Seen", len);
	assert_int_equal(imap_arg_end(&cur), 0);
	assert_int_equal(imap_arg_atom(&cur, &s, &len), -1);
	free(copy);

	/* a tag survives a later error, for a tagged BAD */
	assert_int_equal(parse("a2 LOGIN (", &copy, &args, &cmd, &error), -1);
	assert_int_equal(cmd.tag_len, 2);
	assert_string_equal(error, "Missing ')'");
	free(copy);
	/* a NUL passed to imap_parse_line does not end the line early */
	copy = dup_exact("a3 X a\0b", 8);
	{
		struct imap_limits lim;

		imap_limits_default(&lim);
		assert_int_equal(imap_parse_line(&lim, copy, 8, &args, &cmd, &error), -1);
	}
	free(copy);
	imap_args_deinit(&args);
}

static void test_imap_args_limit(void **state)
{
	struct imap_limits lim;
	struct imap_args args;
	struct imap_command cmd;
	const char *error;
	char line[] = "t X a b c d e f";

	imap_limits_default(&lim);
	lim.max_args = 5;
	imap_args_init(&args);
	assert_int_equal(imap_parse_line(&lim, line, strlen(line), &args, &cmd, &error), -1);
	assert_string_equal(error, "Too many arguments");
	imap_args_deinit(&args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_reader_cases),
		cmocka_unit_test(test_imap_reader_literal_reject),
		cmocka_unit_test(test_imap_reader_literal_minus),
		cmocka_unit_test(test_imap_reader_line_mode),
		cmocka_unit_test(test_imap_parse_numbers),
		cmocka_unit_test(test_imap_cursor),
		cmocka_unit_test(test_imap_args_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
