/*
 * Unit tests for SEARCH programs, ESEARCH RETURN options, SORT criteria and
 * THREAD algorithms (src/imap/imap_search.c): every key of RFC 9051 6.4.4
 * and RFC 3501, MODSEQ with and without an entry (RFC 7162 3.1.5), dates
 * with and without quotes, CHARSET handling (BADCHARSET), nesting and key
 * limits. Commands are tokenized from exact-length copies for ASan.
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
#include "imap/imap_search.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const type_names[] = {
	[IMAP_SK_AND] = "and", [IMAP_SK_OR] = "or", [IMAP_SK_NOT] = "not",
	[IMAP_SK_ALL] = "all", [IMAP_SK_ANSWERED] = "answered", [IMAP_SK_DELETED] = "deleted",
	[IMAP_SK_DRAFT] = "draft", [IMAP_SK_FLAGGED] = "flagged", [IMAP_SK_SEEN] = "seen",
	[IMAP_SK_NEW] = "new", [IMAP_SK_OLD] = "old", [IMAP_SK_RECENT] = "recent",
	[IMAP_SK_UNANSWERED] = "unanswered", [IMAP_SK_UNDELETED] = "undeleted",
	[IMAP_SK_UNDRAFT] = "undraft", [IMAP_SK_UNFLAGGED] = "unflagged",
	[IMAP_SK_UNSEEN] = "unseen", [IMAP_SK_KEYWORD] = "keyword",
	[IMAP_SK_UNKEYWORD] = "unkeyword", [IMAP_SK_BCC] = "bcc", [IMAP_SK_BODY] = "body",
	[IMAP_SK_CC] = "cc", [IMAP_SK_FROM] = "from", [IMAP_SK_SUBJECT] = "subject",
	[IMAP_SK_TEXT] = "text", [IMAP_SK_TO] = "to", [IMAP_SK_HEADER] = "header",
	[IMAP_SK_BEFORE] = "before", [IMAP_SK_ON] = "on", [IMAP_SK_SINCE] = "since",
	[IMAP_SK_SENTBEFORE] = "sentbefore", [IMAP_SK_SENTON] = "senton",
	[IMAP_SK_SENTSINCE] = "sentsince", [IMAP_SK_LARGER] = "larger",
	[IMAP_SK_SMALLER] = "smaller", [IMAP_SK_OLDER] = "older", [IMAP_SK_YOUNGER] = "younger",
	[IMAP_SK_MODSEQ] = "modseq", [IMAP_SK_SEQSET] = "set", [IMAP_SK_UID] = "uid",
};

static void dump_key(const struct imap_search_key *k, struct buf *out)
{
	const struct imap_search_key *c;
	struct buf set;

	buf_printf(out, "(%s", type_names[k->type]);
	if (k->field.data != NULL)
		buf_printf(out, " %.*s", (int)k->field.len, k->field.data);
	if (k->entry_type != IMAP_ENTRY_NONE)
		buf_printf(out, " e%d", (int)k->entry_type);
	if (k->str.data != NULL)
		buf_printf(out, " \"%.*s\"", (int)k->str.len, k->str.data);
	if (k->type >= IMAP_SK_BEFORE && k->type <= IMAP_SK_SENTSINCE)
		buf_printf(out, " %lld", (long long)k->date);
	if (k->type >= IMAP_SK_LARGER && k->type <= IMAP_SK_MODSEQ)
		buf_printf(out, " %llu", (unsigned long long)k->number);
	if (k->type == IMAP_SK_SEQSET || k->type == IMAP_SK_UID) {
		buf_init(&set, 0);
		imap_seqset_format(&k->set, &set);
		buf_printf(out, " %s%s", k->set.saved ? "$" : "", buf_cstr(&set));
		buf_deinit(&set);
	}
	for (c = k->child; c != NULL; c = c->next) {
		buf_append_char(out, ' ');
		dump_key(c, out);
	}
	buf_append_char(out, ')');
}

struct search_case {
	const char *args;
	unsigned flags;
	const char *want;	/* tree, "E:<error>" or "B:<error>" for BADCHARSET */
};

#define R IMAP_SEARCH_ALLOW_RETURN
#define BARE IMAP_SEARCH_BARE_CHARSET

static const struct search_case cases[] = {
	/* 0: RFC 9051 6.4.4 examples */
	{ "FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", 0,
	  "(and (flagged) (since 760060800) (not (from \"Smith\")))" },
	{ "TEXT \"string not in mailbox\"", 0, "(and (text \"string not in mailbox\"))" },
	{ "OR (FROM a TO b) SUBJECT {0}", 0, "E:Literal without data" },
	{ "CHARSET UTF-8 SUBJECT \"caf\xc3\xa9\"", 0, "(and (subject \"caf\xc3\xa9\"))" },
	{ "charset us-ascii ALL", 0, "(and (all))" },
	/* 5 */
	{ "CHARSET ISO-8859-1 ALL", 0, "B:Unsupported charset" },
	{ "CHARSET", 0, "E:Missing argument" },
	{ "UTF-8 ALL", BARE, "(and (all))" },
	{ "ALL", BARE, "B:Unsupported charset" },
	{ "RETURN (MIN MAX COUNT) UNSEEN", R, "R11:(and (unseen))" },
	/* 10 */
	{ "RETURN () 1:*", R, "R4:(and (set 1:*))" },
	{ "RETURN (SAVE ALL) CHARSET UTF-8 UID 1:5", R, "R20:(and (uid 1:5))" },
	{ "RETURN (MIN) ALL", 0, "E:Unknown search key" },
	{ "RETURN (FOO) ALL", R, "E:Unknown RETURN option" },
	{ "ANSWERED DELETED DRAFT FLAGGED SEEN NEW OLD RECENT UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
	  0,
	  "(and (answered) (deleted) (draft) (flagged) (seen) (new) (old) (recent) (unanswered) (undeleted) (undraft) (unflagged) (unseen))" },
	/* 15 */
	{ "KEYWORD $Forwarded UNKEYWORD Junk BCC b CC c BODY d TO e", 0,
	  "(and (keyword \"$Forwarded\") (unkeyword \"Junk\") (bcc \"b\") (cc \"c\") (body \"d\") (to \"e\"))" },
	{ "HEADER Message-ID \"<x@y>\" HEADER X-Empty \"\"", 0,
	  "(and (header Message-ID \"<x@y>\") (header X-Empty \"\"))" },
	{ "BEFORE \"01-Jan-1970\" ON 29-Feb-2024 SENTBEFORE 1-jan-2000 SENTON 31-Dec-9999 SENTSINCE 01-Mar-2023", 0,
	  "(and (before 0) (on 1709164800) (sentbefore 946684800) (senton 253402214400) (sentsince 1677628800))" },
	{ "ON 29-Feb-2023", 0, "E:Invalid date (want d-Mon-yyyy)" },
	{ "ON 32-Jan-2023", 0, "E:Invalid date (want d-Mon-yyyy)" },
	/* 20 */
	{ "ON 1-Foo-2023", 0, "E:Invalid date (want d-Mon-yyyy)" },
	{ "ON 1-Jan-23", 0, "E:Invalid date (want d-Mon-yyyy)" },
	{ "ON {11}", 0, "E:Literal without data" },
	{ "LARGER 1000 SMALLER 9223372036854775807 OLDER 60 YOUNGER 5", 0,
	  "(and (larger 1000) (smaller 9223372036854775807) (older 60) (younger 5))" },
	{ "LARGER 9223372036854775808", 0, "E:Expected a 63-bit number" },
	/* 25 */
	{ "LARGER -1", 0, "E:Expected a 63-bit number" },
	{ "MODSEQ 620162338", 0, "(and (modseq 620162338))" },
	{ "MODSEQ \"/flags/\\\\draft\" all 620162338", 0,
	  "(and (modseq /flags/\\draft e3 620162338))" },
	{ "MODSEQ \"/flags/$x\" priv 5", 0, "(and (modseq /flags/$x e1 5))" },
	{ "MODSEQ \"/nope\" all 5", 0, "E:Invalid MODSEQ entry name" },
	/* 30 */
	{ "MODSEQ \"/flags/x\" mine 5", 0, "E:Invalid MODSEQ entry type" },
	{ "2,4:7,9,12:* UID $", 0, "(and (set 2,4:7,9,12:*) (uid $))" },
	{ "$", 0, "(and (set $))" },
	{ "0", 0, "E:Invalid sequence set: numbers are 1 to 4294967295 or *" },
	{ "1:0x", 0, "E:Invalid sequence set: numbers are 1 to 4294967295 or *" },
	/* 35 */
	{ "OR OR SEEN FLAGGED (DELETED DRAFT) NOT NOT ALL", 0,
	  "(and (or (or (seen) (flagged)) (and (deleted) (draft))) (not (not (all))))" },
	{ "(SEEN", 0, "E:Missing ')'" },
	{ "SEEN)", 0, "E:Unbalanced parentheses or brackets" },
	{ "()", 0, "E:Missing search key" },
	{ "", 0, "E:Missing search key" },
	/* 40 */
	{ "OR SEEN", 0, "E:Missing search key" },
	{ "NOT", 0, "E:Missing search key" },
	{ "FROM", 0, "E:Missing argument" },
	{ "FOO", 0, "E:Unknown search key" },
	{ "\"SEEN\"", 0, "E:Invalid search key" },
	/* 45 */
	{ "NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL",
	  0, "E:Search program nested too deeply" },
	{ "SUBJECT foo% ", 0, "E:Invalid characters in atom" },
	{ "UID 1:5 1:5", 0, "(and (uid 1:5) (set 1:5))" },
	{ "all", 0, "(and (all))" },
};

static int parse_search(const char *args, unsigned flags, struct imap_limits *lim,
			struct buf *out)
{
	struct imap_args targs;
	struct imap_command cmd;
	struct imap_cursor cur;
	struct imap_search s;
	const char *error, *code;
	char *line = NULL;
	size_t len;
	int ret;

	imap_args_init(&targs);
	len = (size_t)asprintf(&line, "t SEARCH %s", args);
	line = realloc(line, len);
	ret = imap_parse_line(lim, line, len, &targs, &cmd, &error);
	if (ret < 0) {
		buf_printf(out, "E:%s", error);
		goto done;
	}
	imap_cursor_init(&cur, &cmd);
	ret = imap_search_parse(&cur, lim, flags, &s, &code);
	if (ret < 0) {
		assert_null(s.root);
		buf_printf(out, "%s:%s", code != NULL ? "B" : "E", cur.error);
		goto done;
	}
	if (s.esearch)
		buf_printf(out, "R%u:", s.ret);
	dump_key(s.root, out);
	imap_search_deinit(&s);
done:
	imap_args_deinit(&targs);
	free(line);
	return ret;
}

static void test_search_cases(void **state)
{
	struct imap_limits lim;
	size_t i;

	imap_limits_default(&lim);
	for (i = 0; i < N(cases); i++) {
		struct buf out;

		buf_init(&out, 0);
		parse_search(cases[i].args, cases[i].flags, &lim, &out);
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("case %zu \"%s\":\n got  %s\n want %s", i, cases[i].args,
				 buf_cstr(&out), cases[i].want);
		buf_deinit(&out);
	}
}

static void test_search_key_limit(void **state)
{
	struct imap_limits lim;
	struct buf out;

	imap_limits_default(&lim);
	lim.max_search_keys = 4;	/* the root AND counts */
	buf_init(&out, 0);
	assert_int_equal(parse_search("SEEN SEEN SEEN", 0, &lim, &out), 0);
	buf_reset(&out);
	assert_int_equal(parse_search("SEEN SEEN SEEN SEEN", 0, &lim, &out), -1);
	assert_string_equal(buf_cstr(&out), "E:Too many search keys");
	buf_deinit(&out);
}

struct sort_case {
	const char *args;
	const char *want;
};

static void test_sort_and_thread(void **state)
{
	static const struct sort_case cases_sort[] = {
		{ "(SUBJECT REVERSE DATE) UTF-8 ALL", "SUBJECT -DATE|all" },
		{ "(reverse arrival cc from size to displayfrom displayto) US-ASCII SEEN",
		  "-ARRIVAL CC FROM SIZE TO DISPLAYFROM DISPLAYTO|seen" },
		{ "() UTF-8 ALL", "E:Empty list of sort criteria" },
		{ "(REVERSE) UTF-8 ALL", "E:Unknown sort criterion" },
		{ "(REVERSE REVERSE DATE) UTF-8 ALL", "E:Unknown sort criterion" },
		{ "SUBJECT UTF-8 ALL", "E:Expected a list of sort criteria" },
		{ "(DATE) ALL", "E:Unsupported charset" },
	};
	static const char *const names[] = { "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT",
					     "TO", "DISPLAYFROM", "DISPLAYTO" };
	struct imap_limits lim;
	struct imap_args args;
	size_t i;
	unsigned k;

	imap_limits_default(&lim);
	imap_args_init(&args);
	for (i = 0; i < N(cases_sort); i++) {
		struct imap_command cmd;
		struct imap_cursor cur;
		struct imap_sort sort;
		struct imap_search s;
		struct buf out;
		const char *error, *code;
		char *line = NULL;
		size_t len = (size_t)asprintf(&line, "t SORT %s", cases_sort[i].args);

		line = realloc(line, len);
		buf_init(&out, 0);
		assert_int_equal(imap_parse_line(&lim, line, len, &args, &cmd, &error), 0);
		imap_cursor_init(&cur, &cmd);
		if (imap_sort_parse(&cur, &sort) < 0 ||
		    imap_search_parse(&cur, &lim, IMAP_SEARCH_BARE_CHARSET, &s, &code) < 0) {
			buf_printf(&out, "E:%s", cur.error);
		} else {
			for (k = 0; k < sort.count; k++)
				buf_printf(&out, "%s%s%s", k ? " " : "", sort.crit[k].reverse ? "-" : "",
					   names[sort.crit[k].key]);
			buf_printf(&out, "|%s", type_names[s.root->child->type]);
			imap_search_deinit(&s);
		}
		if (strcmp(buf_cstr(&out), cases_sort[i].want) != 0)
			fail_msg("sort case %zu: got %s", i, buf_cstr(&out));
		buf_deinit(&out);
		free(line);
	}
	{
		char line[] = "t THREAD references UTF-8 ALL";
		struct imap_command cmd;
		struct imap_cursor cur;
		enum imap_thread_alg alg;
		const char *error;

		assert_int_equal(imap_parse_line(&lim, line, strlen(line), &args, &cmd, &error), 0);
		imap_cursor_init(&cur, &cmd);
		assert_int_equal(imap_thread_parse(&cur, &alg), 0);
		assert_int_equal(alg, IMAP_THREAD_REFERENCES);
		assert_int_equal(imap_thread_parse(&cur, &alg), -1);
	}
	imap_args_deinit(&args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_cases),
		cmocka_unit_test(test_search_key_limit),
		cmocka_unit_test(test_sort_and_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
