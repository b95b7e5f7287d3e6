/*
 * Unit tests for the small IMAP grammars (src/imap/imap_grammar.c): flags
 * and STORE (RFC 9051 6.4.6, RFC 7162 UNCHANGEDSINCE), dates and
 * date-times with their round trip, STATUS items, LIST and LIST-EXTENDED
 * (RFC 5258, RFC 6154, RFC 5819), LIST pattern matching and the string
 * writer's choice of atom, quoted string or literal. Inputs are
 * exact-length copies for ASan.
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
#include "imap/imap_grammar.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Tokenizes "t X <args>" from an exact-length copy kept in *line_r. */
static void tokenize(const char *args, char **line_r, struct imap_args *targs,
		     struct imap_cursor *cur)
{
	struct imap_limits lim;
	struct imap_command cmd;
	const char *error;
	size_t len;

	imap_limits_default(&lim);
	*line_r = NULL;
	len = (size_t)asprintf(line_r, "t X %s", args);
	*line_r = realloc(*line_r, len);
	if (imap_parse_line(&lim, *line_r, len, targs, &cmd, &error) < 0)
		fail_msg("\"%s\" does not tokenize: %s", args, error);
	imap_cursor_init(cur, &cmd);
}

struct store_case {
	const char *args;
	const char *want;	/* mode silent system keywords [U<n>] or E:<error> */
};

static void test_grammar_store(void **state)
{
	static const struct store_case cases[] = {
		{ "FLAGS (\\Seen \\answered)", "= 9" },
		{ "+FLAGS.SILENT (\\Deleted $Junk $junk Work)", "+s 4 $Junk Work" },
		{ "-flags \\Flagged \\Draft foo", "- 18 foo" },
		{ "(UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Seen)", "+s 8 U320162338" },
		{ "FLAGS ()", "= 0" },
		/* 5 */
		{ "FLAGS (\\Recent)", "E:\\Recent cannot be set" },
		{ "FLAGS (\\Foo)", "E:Unknown system flag" },
		{ "FLAGS (a]b)", "E:Invalid flag keyword" },
		{ "FLAGS (\"Seen\")", "E:Expected an atom" },
		{ "*FLAGS (\\Seen)", "E:Expected FLAGS, +FLAGS or -FLAGS" },
		/* 10 */
		{ "FLAGS.LOUD (\\Seen)", "E:Expected FLAGS, +FLAGS or -FLAGS" },
		{ "FLAGS", "E:Missing flags" },
		{ "FLAGS (\\Seen) extra", "E:Unexpected extra arguments" },
		{ "(UNCHANGEDSINCE) FLAGS ()", "E:Missing argument" },
		{ "(FOO 1) FLAGS ()", "E:Unknown or repeated STORE modifier" },
		/* 15 */
		{ "FLAGS ((\\Seen))", "E:Expected an atom" },
		{ "FLAGS (a b c d e)", "E:Too many keywords" },
	};
	struct imap_args targs;
	size_t i;
	unsigned k;

	imap_args_init(&targs);
	for (i = 0; i < N(cases); i++) {
		struct imap_cursor cur;
		struct imap_store st;
		struct buf out;
		char *line;

		tokenize(cases[i].args, &line, &targs, &cur);
		buf_init(&out, 0);
		if (imap_store_parse(&cur, 4, &st) < 0) {
			buf_printf(&out, "E:%s", cur.error);
		} else {
			buf_printf(&out, "%c%s %u", "=+-"[st.mode], st.silent ? "s" : "",
				   st.flags.system);
			for (k = 0; k < st.flags.nkeywords; k++)
				buf_printf(&out, " %.*s", (int)st.flags.keywords[k].len,
					   st.flags.keywords[k].data);
			if (st.unchangedsince)
				buf_printf(&out, " U%llu", (unsigned long long)st.unchangedsince_modseq);
			imap_store_deinit(&st);
		}
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\" want \"%s\"", i, cases[i].args,
				 buf_cstr(&out), cases[i].want);
		buf_deinit(&out);
		free(line);
	}
	imap_args_deinit(&targs);
}

static void test_grammar_flags_write(void **state)
{
	struct imap_string kw[2] = { { "$Junk", 5 }, { "Work", 4 } };
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(imap_flags_write(&out, IMAP_FLAG_SEEN | IMAP_FLAG_RECENT |
					  IMAP_FLAG_ANSWERED, kw, 2), 0);
	assert_string_equal(buf_cstr(&out), "(\\Answered \\Seen \\Recent $Junk Work)");
	buf_reset(&out);
	assert_int_equal(imap_flags_write(&out, 0, NULL, 0), 0);
	assert_string_equal(buf_cstr(&out), "()");
	buf_deinit(&out);
}

struct datetime_case {
	const char *in;
	int64_t t;
	int zone;
	const char *out;	/* NULL: refused */
};

static void test_grammar_datetime(void **state)
{
	static const struct datetime_case cases[] = {
		{ "17-Jul-1996 02:44:25 -0700", 837596665, -420, "\"17-Jul-1996 02:44:25 -0700\"" },
		{ " 1-Jan-1970 00:00:00 +0000", 0, 0, "\"01-Jan-1970 00:00:00 +0000\"" },
		{ "01-jan-1970 05:30:00 +0530", 0, 330, "\"01-Jan-1970 05:30:00 +0530\"" },
		{ "29-Feb-2024 23:59:60 +0000", 1709251200, 0, "\"01-Mar-2024 00:00:00 +0000\"" },
		{ "31-Dec-1969 23:59:59 +0000", -1, 0, "\"31-Dec-1969 23:59:59 +0000\"" },
		/* 5 */
		{ "29-Feb-2023 00:00:00 +0000", 0, 0, NULL },
		{ "17-Jul-1996 24:00:00 +0000", 0, 0, NULL },
		{ "17-Jul-1996 02:60:25 -0700", 0, 0, NULL },
		{ "17-Jul-1996 02:44:25 -0760", 0, 0, NULL },
		{ "17-Jul-1996 02:44:25 0700", 0, 0, NULL },
		/* 10 */
		{ "17-Jul-1996 02:44:25", 0, 0, NULL },
		{ "7-Jul-1996 02:44:25 -0700", 0, 0, NULL },
		{ "17-Jul-1996 02:44:25 -07000", 0, 0, NULL },
		{ "17 Jul 1996 02:44:25 -0700", 0, 0, NULL },
		{ "00-Jul-1996 02:44:25 -0700", 0, 0, NULL },
		/* 15 */
		{ "", 0, 0, NULL },
		{ "1x-Jul-1996 02:44:25 -0700", 0, 0, NULL },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t len = strlen(cases[i].in);
		char *in = malloc(len ? len : 1);
		int64_t t;
		int zone;
		int ret;

		memcpy(in, cases[i].in, len);
		ret = imap_datetime_parse(in, len, &t, &zone);
		if (cases[i].out == NULL) {
			if (ret == 0)
				fail_msg("case %zu \"%s\": accepted", i, cases[i].in);
		} else {
			struct buf out;

			if (ret < 0 || t != cases[i].t || zone != cases[i].zone)
				fail_msg("case %zu \"%s\": ret %d t %lld zone %d", i, cases[i].in, ret,
					 (long long)t, zone);
			buf_init(&out, 0);
			assert_int_equal(imap_datetime_write(&out, t, zone), 0);
			if (strcmp(buf_cstr(&out), cases[i].out) != 0)
				fail_msg("case %zu: wrote %s", i, buf_cstr(&out));
			buf_deinit(&out);
		}
		free(in);
	}
	{
		struct buf out;

		buf_init(&out, 0);
		assert_int_equal(imap_datetime_write(&out, 253402300800LL, 0), -1);
		assert_int_equal(imap_datetime_write(&out, 0, 100 * 60), -1);
		assert_int_equal(imap_datetime_write(&out, 253402300799LL, 0), 0);
		assert_string_equal(buf_cstr(&out), "\"31-Dec-9999 23:59:59 +0000\"");
		buf_deinit(&out);
	}
}

struct list_case {
	const char *args;
	const char *want;	/* "sel ret status|ref|pat,pat|x" or E:<error> */
};

static void test_grammar_list(void **state)
{
	static const struct list_case cases[] = {
		{ "\"\" *", "0 0 0|||*|" },
		{ "~/Mail/ %", "0 0 0||~/Mail/|%|" },
		{ "\"\" \"foo bar/%\"", "0 0 0|||foo bar/%|" },
		{ "(SUBSCRIBED RECURSIVEMATCH) \"\" %", "5 0 0|||%|x" },
		{ "(RECURSIVEMATCH) \"\" %", "E:RECURSIVEMATCH needs another selection option" },
		/* 5 */
		{ "(REMOTE RECURSIVEMATCH) \"\" %", "E:RECURSIVEMATCH needs another selection option" },
		{ "(SPECIAL-USE) \"\" *", "8 0 0|||*|x" },
		{ "\"\" (INBOX \"Sent\" Drafts/%) RETURN (CHILDREN SUBSCRIBED)", "0 3 0|||INBOX,Sent,Drafts/%|x" },
		{ "\"\" % RETURN (STATUS (MESSAGES UNSEEN HIGHESTMODSEQ) SPECIAL-USE)", "0 12 137|||%|x" },
		{ "() \"\" % RETURN ()", "0 0 0|||%|x" },
		/* 10 */
		{ "\"\" % RETURN (STATUS ())", "E:Empty list of STATUS items" },
		{ "\"\" % RETURN (STATUS (FOO))", "E:Unknown STATUS item" },
		{ "\"\" % RETURN (STATUS)", "E:Expected a list of STATUS items" },
		{ "\"\" % RETURN (FOO)", "E:Unknown LIST return option" },
		{ "(FOO) \"\" %", "E:Unknown LIST selection option" },
		/* 15 */
		{ "\"\" ()", "E:Empty list of mailbox patterns" },
		{ "\"\"", "E:Missing argument" },
		{ "\"\" % EXTRA (X)", "E:Expected RETURN" },
		{ "\"\" % RETURN (CHILDREN) x", "E:Unexpected extra arguments" },
		{ "* %", "E:Invalid characters in atom" },
		/* 20 */
		{ "\"\" a\\b", "E:Invalid characters in mailbox pattern" },
	};
	struct imap_args targs;
	size_t i;
	unsigned k;

	imap_args_init(&targs);
	for (i = 0; i < N(cases); i++) {
		struct imap_cursor cur;
		struct imap_list_cmd l;
		struct buf out;
		char *line;

		tokenize(cases[i].args, &line, &targs, &cur);
		buf_init(&out, 0);
		if (imap_list_parse(&cur, &l) < 0) {
			buf_printf(&out, "E:%s", cur.error);
			assert_null(l.patterns);
		} else {
			buf_printf(&out, "%u %u %u||%.*s|", l.select, l.ret, l.status_items,
				   (int)l.reference.len, l.reference.data);
			for (k = 0; k < l.npatterns; k++)
				buf_printf(&out, "%s%.*s", k ? "," : "", (int)l.patterns[k].len,
					   l.patterns[k].data);
			buf_printf(&out, "|%s", l.extended ? "x" : "");
			imap_list_cmd_deinit(&l);
		}
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\" want \"%s\"", i, cases[i].args,
				 buf_cstr(&out), cases[i].want);
		buf_deinit(&out);
		free(line);
	}
	imap_args_deinit(&targs);
}

struct match_case {
	const char *pattern;
	const char *name;
	bool match;
};

static void test_grammar_list_match(void **state)
{
	static const struct match_case cases[] = {
		{ "*", "", true },
		{ "*", "a/b/c", true },
		{ "%", "a", true },
		{ "%", "a/b", false },
		{ "%/%", "a/b", true },
		/* 5 */
		{ "a/%", "a/b/c", false },
		{ "a/*", "a/b/c", true },
		{ "a/*", "a", false },
		{ "a*", "a", true },
		{ "INBOX", "INBOX", true },
		/* 10 */
		{ "INBOX", "INBOXX", false },
		{ "", "", true },
		{ "", "a", false },
		{ "%b%", "abc", true },
		{ "%b%", "a/bc", false },
		/* 15 */
		{ "*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*x",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay", false },
		{ "Sent%", "Sent Items", true },
		{ "%%", "x", true },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		size_t plen = strlen(cases[i].pattern), nlen = strlen(cases[i].name);
		char *p = malloc(plen + 1), *n = malloc(nlen + 1);

		memcpy(p, cases[i].pattern, plen);
		memcpy(n, cases[i].name, nlen);
		if (imap_list_match(p, plen, n, nlen, '/') != cases[i].match)
			fail_msg("case %zu \"%s\" vs \"%s\"", i, cases[i].pattern, cases[i].name);
		free(p);
		free(n);
	}
}

struct write_case {
	const char *in;
	size_t len;
	bool utf8;
	const char *astring;
	size_t alen;
	const char *string;
	size_t slen;
};

#define W(s) s, sizeof(s) - 1

static void test_grammar_write(void **state)
{
	static const struct write_case cases[] = {
		{ W("INBOX"), false, W("INBOX"), W("\"INBOX\"") },
		{ W("a]b"), false, W("a]b"), W("\"a]b\"") },
		{ W(""), false, W("\"\""), W("\"\"") },
		{ W("nil"), false, W("\"nil\""), W("\"nil\"") },
		{ W("two words"), false, W("\"two words\""), W("\"two words\"") },
		/* 5 */
		{ W("q\"b\\s"), false, W("\"q\\\"b\\\\s\""), W("\"q\\\"b\\\\s\"") },
		{ W("a%"), false, W("\"a%\""), W("\"a%\"") },
		{ W("caf\xc3\xa9"), false, W("{5}\r\ncaf\xc3\xa9"), W("{5}\r\ncaf\xc3\xa9") },
		{ W("caf\xc3\xa9"), true, W("\"caf\xc3\xa9\""), W("\"caf\xc3\xa9\"") },
		{ W("bad\xc3"), true, W("{4}\r\nbad\xc3"), W("{4}\r\nbad\xc3") },
		/* 10 */
		{ W("line\r\nbreak"), true, W("{11}\r\nline\r\nbreak"), W("{11}\r\nline\r\nbreak") },
		{ W("a\0b"), false, W("{3}\r\na\0b"), W("{3}\r\na\0b") },
		{ W("(x)"), false, W("\"(x)\""), W("\"(x)\"") },
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct buf a, s;

		buf_init(&a, 0);
		buf_init(&s, 0);
		assert_int_equal(imap_write_astring(&a, cases[i].in, cases[i].len, cases[i].utf8), 0);
		assert_int_equal(imap_write_string(&s, cases[i].in, cases[i].len, cases[i].utf8), 0);
		if (a.len != cases[i].alen || memcmp(a.data, cases[i].astring, a.len) != 0 ||
		    s.len != cases[i].slen || memcmp(s.data, cases[i].string, s.len) != 0)
			fail_msg("case %zu: astring \"%s\" string \"%s\"", i, buf_cstr(&a),
				 buf_cstr(&s));
		buf_deinit(&a);
		buf_deinit(&s);
	}
	{
		struct buf out;

		buf_init(&out, 0);
		assert_int_equal(imap_write_nstring(&out, NULL, 0, false), 0);
		assert_int_equal(imap_write_quoted(&out, "a\nb", 3, true), -1);
		buf_reset(&out);
		assert_int_equal(imap_write_literal(&out, "\0\1", 2, true), 0);
		assert_int_equal(out.len, 8);
		assert_memory_equal(out.data, "~{2}\r\n\0\1", 8);
		buf_deinit(&out);
		buf_init(&out, 4);
		assert_int_equal(imap_write_astring(&out, "toolong", 7, false), -1);
		buf_deinit(&out);
	}
}

static void test_grammar_utf8_valid(void **state)
{
	assert_true(imap_utf8_valid("", 0));
	assert_true(imap_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
	assert_false(imap_utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(imap_utf8_valid("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(imap_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(imap_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(imap_utf8_valid("\xe2\x82", 2));		/* truncated */
	assert_false(imap_utf8_valid("\x80", 1));
	assert_false(imap_utf8_valid("\xff", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_store),
		cmocka_unit_test(test_grammar_flags_write),
		cmocka_unit_test(test_grammar_datetime),
		cmocka_unit_test(test_grammar_list),
		cmocka_unit_test(test_grammar_list_match),
		cmocka_unit_test(test_grammar_write),
		cmocka_unit_test(test_grammar_utf8_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
