/*
 * Unit tests for the SEARCH date keys (imap_search_date_match in
 * src/imap/imap_search.c): BEFORE/ON/SINCE and the SENT* keys compare the
 * UTC day of a time with the day a date argument names, at the edges of
 * the day and before 1970.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_search.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct date_case {
	const char *date;	/* the SEARCH argument */
	int64_t t;		/* the message's time, UTC seconds */
	bool before, on, since;
};

/* 1-Feb-2024 starts at 1706745600 UTC. */
static const struct date_case cases[] = {
	{ "1-Feb-2024", 1706745600, false, true, true },	/* first second */
	{ "1-Feb-2024", 1706745600 + 86399, false, true, true },	/* last second */
	{ "1-Feb-2024", 1706745599, true, false, false },	/* the day before */
	{ "1-Feb-2024", 1706745600 + 86400, false, false, true },	/* the day after */
	{ "01-Feb-2024", 1706745600 + 3600, false, true, true },
	{ "31-Jan-2024", 1706745600, false, false, true },
	{ "2-Feb-2024", 1706745600 + 43200, true, false, false },
	{ "1-Jan-1970", 0, false, true, true },
	{ "31-Dec-1969", -1, false, true, true },	/* floor, not truncation */
	{ "31-Dec-1969", -86400, false, true, true },
	{ "31-Dec-1969", -86401, true, false, false },
	{ "1-Jan-1970", -1, true, false, false },
};

static void test_search_date_days(void **state)
{
	size_t i;

	for (i = 0; i < N(cases); i++) {
		int64_t day;

		print_message("case %zu\n", i);
		assert_int_equal(imap_date_parse(cases[i].date, strlen(cases[i].date), &day), 0);
		assert_int_equal(imap_search_date_match(IMAP_SK_BEFORE, day, cases[i].t),
				 cases[i].before);
		assert_int_equal(imap_search_date_match(IMAP_SK_ON, day, cases[i].t), cases[i].on);
		assert_int_equal(imap_search_date_match(IMAP_SK_SINCE, day, cases[i].t),
				 cases[i].since);
		assert_int_equal(imap_search_date_match(IMAP_SK_SENTBEFORE, day, cases[i].t),
				 cases[i].before);
		assert_int_equal(imap_search_date_match(IMAP_SK_SENTON, day, cases[i].t),
				 cases[i].on);
		assert_int_equal(imap_search_date_match(IMAP_SK_SENTSINCE, day, cases[i].t),
				 cases[i].since);
	}
}

static void test_search_date_other_keys(void **state)
{
	assert_false(imap_search_date_match(IMAP_SK_ALL, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_date_days),
		cmocka_unit_test(test_search_date_other_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
