/*
 * Unit tests for the DATA/BDAT content scanner (src/smtp/smtp_data.c):
 * dot-unstuffing and the end marker (RFC 5321 4.1.1.4, 4.5.2), bare CR and
 * bare LF rejection (SMTP smuggling), the line and size limits, and BDAT
 * mode (RFC 3030). The scanner sees the input in whatever pieces the
 * network delivers, so every case is also fed split at every position, in
 * three pieces at every pair of positions, and byte by byte, and must give
 * the same result each time.
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
#include "smtp/smtp_data.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct sink {
	struct buf out;
	int calls;
	int fail_at;		/* call number that fails; 0 never */
};

static int sink_write(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	assert_true(len > 0);	/* empty runs are not passed on */
	if (++s->calls == s->fail_at)
		return -1;
	assert_int_equal(buf_append(&s->out, data, len), 0);
	return 0;
}

struct run {
	int done;		/* 1 if the end marker was found */
	size_t consumed;	/* octets of the input the message used */
	enum smtp_data_error error;
	struct sink sink;
};

/* Feeds in[0..len) cut at the n_cuts ascending positions in cuts, each
 * piece in a buffer of its own exact size. In BDAT mode ends the message
 * with smtp_data_finish_chunked(). */
static void run_cuts(const char *in, size_t len, bool dot_stuffed, const struct smtp_data_limits *lim,
		     const size_t *cuts, size_t n_cuts, struct run *r)
{
	struct smtp_data_parser p;
	size_t start = 0, i;

	memset(r, 0, sizeof(*r));
	buf_init(&r->sink.out, 0);
	smtp_data_init(&p, lim, dot_stuffed, sink_write, &r->sink);
	for (i = 0; i <= n_cuts && !r->done; i++) {
		size_t stop = i < n_cuts ? cuts[i] : len, consumed = (size_t)-1;
		char *piece = malloc(stop - start + 1);

		assert_non_null(piece);
		memcpy(piece, in + start, stop - start);
		r->done = smtp_data_feed(&p, piece, stop - start, &consumed);
		free(piece);
		assert_true(r->done == 0 || r->done == 1);
		assert_true(consumed <= stop - start);
		if (!r->done)
			assert_int_equal(consumed, stop - start);
		r->consumed += consumed;
		start = stop;
	}
	if (!dot_stuffed)
		smtp_data_finish_chunked(&p);
	r->error = p.error;
}

static void run_free(struct run *r)
{
	buf_deinit(&r->sink.out);
}

static const struct smtp_data_limits big_limits = { 1 << 20, 1000 };

struct data_case {
	const char *in;
	size_t in_len;		/* 0: strlen(in) */
	const char *out;	/* expected message when error is OK */
	int done;
	size_t consumed;	/* 0: all of in */
	enum smtp_data_error error;
	size_t out_len;		/* 0: strlen(out) */
};

/* Checks one feeding against the case; what names it in messages. */
static void check_run(size_t i, const char *what, const struct data_case *c, size_t len,
		      struct run *r)
{
	size_t consumed = c->consumed ? c->consumed : len;
	size_t out_len = c->out_len ? c->out_len : c->out ? strlen(c->out) : 0;

	if (r->done != c->done || r->consumed != consumed || r->error != c->error)
		fail_msg("case %zu (%s): done %d consumed %zu error %d, want %d %zu %d", i, what,
			 r->done, r->consumed, (int)r->error, c->done, consumed, (int)c->error);
	if (c->error == SMTP_DATA_OK &&
	    (r->sink.out.len != out_len || memcmp(buf_cstr(&r->sink.out), c->out, out_len) != 0))
		fail_msg("case %zu (%s): output \"%s\", want \"%s\"", i, what,
			 buf_cstr(&r->sink.out), c->out);
}

/* Runs a case whole, split in two at every position, in three at every
 * pair of positions, and byte by byte. */
static void check_all_splits(size_t i, const struct data_case *c, bool dot_stuffed,
			     const struct smtp_data_limits *lim)
{
	size_t len = c->in_len ? c->in_len : strlen(c->in), a, b;
	size_t *cuts = calloc(len + 2, sizeof(*cuts));
	char what[64];
	struct run r;

	assert_non_null(cuts);
	run_cuts(c->in, len, dot_stuffed, lim, NULL, 0, &r);
	check_run(i, "whole", c, len, &r);
	run_free(&r);
	for (a = 0; a <= len; a++) {
		cuts[0] = a;
		run_cuts(c->in, len, dot_stuffed, lim, cuts, 1, &r);
		snprintf(what, sizeof(what), "split at %zu", a);
		check_run(i, what, c, len, &r);
		run_free(&r);
		for (b = a; b <= len; b++) {
			cuts[1] = b;
			run_cuts(c->in, len, dot_stuffed, lim, cuts, 2, &r);
			snprintf(what, sizeof(what), "split at %zu and %zu", a, b);
			check_run(i, what, c, len, &r);
			run_free(&r);
		}
	}
	for (a = 0; a < len; a++)
		cuts[a] = a + 1;
	run_cuts(c->in, len, dot_stuffed, lim, cuts, len ? len - 1 : 0, &r);
	check_run(i, "byte by byte", c, len, &r);
	run_free(&r);
	free(cuts);
}

static const struct data_case data_cases[] = {
	/* 0: a plain message; the marker is not part of it */
	{ "Subject: x\r\n\r\nbody\r\n.\r\n", 0, "Subject: x\r\n\r\nbody\r\n", 1, 0, SMTP_DATA_OK, 0 },
	/* 1: the empty message */
	{ ".\r\n", 0, "", 1, 0, SMTP_DATA_OK, 0 },
	{ "\r\n.\r\n", 0, "\r\n", 1, 0, SMTP_DATA_OK, 0 },
	/* 3: dot-unstuffing: the first dot of a line goes (RFC 5321 4.5.2) */
	{ "..leading dot\r\n.\r\n", 0, ".leading dot\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "a\r\n..\r\n.\r\n", 0, "a\r\n.\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ ".x\r\n.\r\n", 0, "x\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "...\r\n.\r\n", 0, "..\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "a.\r\nb..c\r\n.\r\n", 0, "a.\r\nb..c\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "a\r\n.. \r\n. .\r\n.\r\n", 0, "a\r\n. \r\n .\r\n", 1, 0, SMTP_DATA_OK, 0 },
	/* 9: what follows the marker is left for the command reader */
	{ "a\r\n.\r\nMAIL FROM:<x@y.z>\r\n", 0, "a\r\n", 1, 6, SMTP_DATA_OK, 0 },
	{ "a\r\n.\r\n.\r\n", 0, "a\r\n", 1, 6, SMTP_DATA_OK, 0 },
	{ ".\r\nQUIT\r\n", 0, "", 1, 3, SMTP_DATA_OK, 0 },
	/* 12: no marker yet: everything is consumed, more is needed */
	{ "a\r\nb\r\n", 0, "a\r\nb\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "a\r\n.", 0, "a\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "a\r\n.\r", 0, "a\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "abc\r", 0, "abc\r", 0, 0, SMTP_DATA_OK, 0 },
	{ "", 0, "", 0, 0, SMTP_DATA_OK, 0 },
	/* 17: "." not alone on its line is no marker */
	{ "a\r\n.b\r\n", 0, "a\r\nb\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "a.\r\n", 0, "a.\r\n", 0, 0, SMTP_DATA_OK, 0 },
	/* 19: octets that are not CR/LF pass as they are, NUL and 8-bit too */
	{ "\x00\xff\x80\t\r\n.\r\n", 9, "\x00\xff\x80\t\r\n", 1, 0, SMTP_DATA_OK, 6 },
	/* 20: bare LF, anywhere: rejected, and no LF-only marker ends the
	 * message (smuggling, RFC 5321 2.3.8) */
	{ "a\nb\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "\n.\r\n", 0, NULL, 0, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\n.\r\nX\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\r\n.\nMAIL FROM:<x@y.z>\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\n.\nb\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\r\n.\n", 0, NULL, 0, 0, SMTP_DATA_BARE_LF, 0 },
	/* 26: bare CR */
	{ "a\rb\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "\r.\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\n.\r.\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\n.\rX\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\n.\r\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\n.\r\r\n", 0, NULL, 0, 0, SMTP_DATA_BARE_CR, 0 },
	/* 33: CR LF CR LF is two line ends, not a bare CR */
	{ "a\r\n\r\n.\r\n", 0, "a\r\n\r\n", 1, 0, SMTP_DATA_OK, 0 },
	/* 34: the first error stays the one reported */
	{ "a\nb\rc\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\rb\nc\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
};

static void test_data_dot_stuffed_all_splits(void **state)
{
	size_t i;

	for (i = 0; i < N(data_cases); i++)
		check_all_splits(i, &data_cases[i], true, &big_limits);
}

static const struct data_case line_cases[] = {
	/* 0: max_line 10 octets, CRLF excluded */
	{ "0123456789\r\n.\r\n", 0, "0123456789\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "01234567890\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_LINE_TOO_LONG, 0 },
	{ "a\r\n0123456789\r\nb\r\n.\r\n", 0, "a\r\n0123456789\r\nb\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "a\r\nb\r\n01234567890\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_LINE_TOO_LONG, 0 },
	/* 4: a stuffed dot does not count, a kept one does */
	{ ".0123456789\r\n.\r\n", 0, "0123456789\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "..123456789\r\n.\r\n", 0, ".123456789\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "..1234567890\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_LINE_TOO_LONG, 0 },
	/* 7: the scanner keeps reading to the marker after the error */
	{ "0123456789012345678901234567890\r\nmore\r\n.\r\nQUIT\r\n", 0, NULL, 1, 42,
	  SMTP_DATA_LINE_TOO_LONG, 0 },
};

static void test_data_line_too_long(void **state)
{
	static const struct smtp_data_limits lim = { 1 << 20, 10 };
	size_t i;

	for (i = 0; i < N(line_cases); i++)
		check_all_splits(i, &line_cases[i], true, &lim);
}

static const struct data_case size_cases[] = {
	/* 0: max_size 20 octets of message, after unstuffing */
	{ "0123456789\r\n012345\r\n.\r\n", 0, "0123456789\r\n012345\r\n", 1, 0, SMTP_DATA_OK, 0 },
	{ "0123456789\r\n0123456\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },
	{ "..23456789\r\n.123456\r\n.\r\n", 0, ".23456789\r\n123456\r\n", 1, 0, SMTP_DATA_OK, 0 },
	/* 3: still finds the marker */
	{ "0123456789\r\n0123456789\r\n0123456789\r\n.\r\nRSET\r\n", 0, NULL, 1, 39,
	  SMTP_DATA_TOO_BIG, 0 },
	/* 4: exactly the limit in one line */
	{ "012345678901234567\r\n.\r\n", 0, "012345678901234567\r\n", 1, 0, SMTP_DATA_OK, 0 },
};

static void test_data_too_big(void **state)
{
	static const struct smtp_data_limits lim = { 20, 1000 };
	size_t i;

	for (i = 0; i < N(size_cases); i++)
		check_all_splits(i, &size_cases[i], true, &lim);
}

/* When a message passes both the size limit and another limit or rule, the
 * error is the one met first in octet order, however the input is cut. */
static const struct data_case first_error_cases[] = {
	/* 0: max_size 3, max_line 5 */
	{ "abcdef\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },	/* 5 octets before 'f' */
	{ "abcdefgh\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },
	{ "ab\nc\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "abc\nx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_LF, 0 },
	{ "abcd\nx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },
	{ "ab\rx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "abc\rx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },	/* the CR counts */
	{ "a\r\n.\rx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_BARE_CR, 0 },
	{ "ab\r\n.\rx\r\n.\r\n", 0, NULL, 1, 0, SMTP_DATA_TOO_BIG, 0 },
};

static void test_data_first_error_wins(void **state)
{
	static const struct smtp_data_limits lim = { 3, 5 };
	size_t i;

	for (i = 0; i < N(first_error_cases); i++)
		check_all_splits(i, &first_error_cases[i], true, &lim);
}

static const struct data_case bdat_cases[] = {
	/* 0: BDAT: no dot handling, no marker, everything is message */
	{ "Subject: x\r\n\r\nbody\r\n", 0, "Subject: x\r\n\r\nbody\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "a\r\n.\r\nb\r\n", 0, "a\r\n.\r\nb\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "..x\r\n.\r\n", 0, "..x\r\n.\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "", 0, "", 0, 0, SMTP_DATA_OK, 0 },
	{ "\r\n", 0, "\r\n", 0, 0, SMTP_DATA_OK, 0 },
	/* 5: finish adds the CRLF a message must end with */
	{ "abc", 0, "abc\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ "a\r\nb", 0, "a\r\nb\r\n", 0, 0, SMTP_DATA_OK, 0 },
	{ ".", 0, ".\r\n", 0, 0, SMTP_DATA_OK, 0 },
	/* 8: a trailing bare CR is an error, not half a CRLF */
	{ "abc\r", 0, NULL, 0, 0, SMTP_DATA_BARE_CR, 0 },
	{ "\r", 0, NULL, 0, 0, SMTP_DATA_BARE_CR, 0 },
	/* 10: bare CR and bare LF are refused in BDAT too */
	{ "a\nb\r\n", 0, NULL, 0, 0, SMTP_DATA_BARE_LF, 0 },
	{ "a\rb\r\n", 0, NULL, 0, 0, SMTP_DATA_BARE_CR, 0 },
	{ "a\r\n.\n", 0, NULL, 0, 0, SMTP_DATA_BARE_LF, 0 },
	/* 13: binary octets pass */
	{ "\x00\xff\r\n", 4, "\x00\xff\r\n", 0, 0, SMTP_DATA_OK, 4 },
};

static void test_data_bdat_all_splits(void **state)
{
	size_t i;

	for (i = 0; i < N(bdat_cases); i++)
		check_all_splits(i, &bdat_cases[i], false, &big_limits);
}

static void test_data_bdat_limits(void **state)
{
	static const struct smtp_data_limits lim = { 10, 5 };
	static const struct data_case cases[] = {
		{ "01234\r\n", 0, "01234\r\n", 0, 0, SMTP_DATA_OK, 0 },
		{ "012345\r\n", 0, NULL, 0, 0, SMTP_DATA_LINE_TOO_LONG, 0 },
		{ "0123\r\n0123", 0, NULL, 0, 0, SMTP_DATA_TOO_BIG, 0 },	/* + CRLF = 12 */
		{ "0123\r\n01", 0, "0123\r\n01\r\n", 0, 0, SMTP_DATA_OK, 0 },	/* + CRLF = 10 */
	};
	size_t i;

	for (i = 0; i < N(cases); i++)
		check_all_splits(i, &cases[i], false, &lim);
}

static void test_data_sink_failure_stops_output(void **state)
{
	static const char in[] = "a\r\nb\r\n.\r\n";
	struct smtp_data_parser p;
	struct sink s = { .fail_at = 2 };
	size_t consumed, i;
	int done = 0;

	buf_init(&s.out, 0);
	smtp_data_init(&p, &big_limits, true, sink_write, &s);
	/* byte by byte: every line octet is a run of its own */
	for (i = 0; i < sizeof(in) - 1 && !done; i++)
		done = smtp_data_feed(&p, in + i, 1, &consumed);
	assert_int_equal(done, 1);
	assert_int_equal(i, sizeof(in) - 1);
	assert_int_equal(p.error, SMTP_DATA_TOO_BIG);
	assert_int_equal(s.calls, 2);		/* nothing more after the failure */
	assert_string_equal(buf_cstr(&s.out), "a");
	buf_deinit(&s.out);
}

static void test_data_parser_reuse_after_marker(void **state)
{
	/* the session re-inits per message; state after the marker is clean */
	static const char in[] = "x\r\n.\r\n";
	struct smtp_data_parser p;
	struct sink s = { 0 };
	size_t consumed;

	buf_init(&s.out, 0);
	smtp_data_init(&p, &big_limits, true, sink_write, &s);
	assert_int_equal(smtp_data_feed(&p, in, 6, &consumed), 1);
	assert_int_equal(consumed, 6);
	assert_int_equal(smtp_data_feed(&p, ".\r\n", 3, &consumed), 1);
	assert_int_equal(consumed, 3);
	assert_string_equal(buf_cstr(&s.out), "x\r\n");
	assert_int_equal(p.size, 3);
	buf_deinit(&s.out);
}

static void test_data_error_replies(void **state)
{
	static const struct {
		enum smtp_data_error e;
		const char *prefix;
	} cases[] = {
		{ SMTP_DATA_OK, "250 2.0.0 " },
		{ SMTP_DATA_BARE_LF, "554 5.6.0 " },
		{ SMTP_DATA_BARE_CR, "554 5.6.0 " },
		{ SMTP_DATA_LINE_TOO_LONG, "552 5.3.4 " },
		{ SMTP_DATA_TOO_BIG, "552 5.3.4 " },
		{ (enum smtp_data_error)99, "451 4.3.0 " },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		const char *reply = smtp_data_error_reply(cases[i].e);

		if (strncmp(reply, cases[i].prefix, strlen(cases[i].prefix)) != 0)
			fail_msg("case %zu: \"%s\"", i, reply);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_dot_stuffed_all_splits),
		cmocka_unit_test(test_data_line_too_long),
		cmocka_unit_test(test_data_too_big),
		cmocka_unit_test(test_data_first_error_wins),
		cmocka_unit_test(test_data_bdat_all_splits),
		cmocka_unit_test(test_data_bdat_limits),
		cmocka_unit_test(test_data_sink_failure_stops_output),
		cmocka_unit_test(test_data_parser_reuse_after_marker),
		cmocka_unit_test(test_data_error_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
