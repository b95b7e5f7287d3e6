/*
 * SEARCH programs (RFC 9051 6.4.4 with RFC 3501's NEW/OLD/RECENT, RFC
 * 7162 MODSEQ, RFC 5032 OLDER/YOUNGER, RFC 5182 "$"), the ESEARCH RETURN
 * options (RFC 4731, RFC 5182 SAVE), SORT criteria and THREAD algorithms
 * (RFC 5256). The program becomes a tree the session evaluates: the top
 * node is an AND of the keys as given; parentheses make AND nodes, OR and
 * NOT have two and one children. Strings point into the command.
 */
#ifndef TERN_IMAP_SEARCH_H
#define TERN_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_grammar.h"
#include "imap/imap_parse.h"
#include "imap/imap_seqset.h"

enum imap_search_type {
	IMAP_SK_AND,		/* children: all must match */
	IMAP_SK_OR,		/* two children */
	IMAP_SK_NOT,		/* one child */
	/* no value */
	IMAP_SK_ALL,
	IMAP_SK_ANSWERED,
	IMAP_SK_DELETED,
	IMAP_SK_DRAFT,
	IMAP_SK_FLAGGED,
	IMAP_SK_SEEN,
	IMAP_SK_NEW,		/* RFC 3501: RECENT UNSEEN */
	IMAP_SK_OLD,		/* RFC 3501: NOT RECENT */
	IMAP_SK_RECENT,		/* RFC 3501 */
	IMAP_SK_UNANSWERED,
	IMAP_SK_UNDELETED,
	IMAP_SK_UNDRAFT,
	IMAP_SK_UNFLAGGED,
	IMAP_SK_UNSEEN,
	/* str */
	IMAP_SK_KEYWORD,
	IMAP_SK_UNKEYWORD,
	IMAP_SK_BCC,
	IMAP_SK_BODY,
	IMAP_SK_CC,
	IMAP_SK_FROM,
	IMAP_SK_SUBJECT,
	IMAP_SK_TEXT,
	IMAP_SK_TO,
	IMAP_SK_HEADER,		/* field and str */
	/* date: start of the day, UTC seconds */
	IMAP_SK_BEFORE,
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE,
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	/* number */
	IMAP_SK_LARGER,
	IMAP_SK_SMALLER,
	IMAP_SK_OLDER,		/* RFC 5032, seconds */
	IMAP_SK_YOUNGER,	/* RFC 5032, seconds */
	IMAP_SK_MODSEQ,		/* RFC 7162 3.1.5: number, optional entry */
	/* set */
	IMAP_SK_SEQSET,		/* message numbers (set.saved for "$") */
	IMAP_SK_UID,
};

enum imap_entry_type {
	IMAP_ENTRY_NONE,
	IMAP_ENTRY_PRIV,
	IMAP_ENTRY_SHARED,
	IMAP_ENTRY_ALL,
};

struct imap_search_key {
	enum imap_search_type type;
	struct imap_search_key *child;	/* owned: first child */
	struct imap_search_key *next;	/* owned: next sibling */
	struct imap_string str;		/* the string or keyword */
	struct imap_string field;	/* HEADER field, MODSEQ entry name */
	enum imap_entry_type entry_type;
	uint64_t number;
	int64_t date;
	struct imap_seqset set;		/* owned; unresolved ("*" kept) */
};

enum imap_charset {
	IMAP_CHARSET_NONE,	/* not given */
	IMAP_CHARSET_UTF8,
	IMAP_CHARSET_US_ASCII,
};

#define IMAP_SEARCH_RET_MIN	(1u << 0)
#define IMAP_SEARCH_RET_MAX	(1u << 1)
#define IMAP_SEARCH_RET_ALL	(1u << 2)
#define IMAP_SEARCH_RET_COUNT	(1u << 3)
#define IMAP_SEARCH_RET_SAVE	(1u << 4)

struct imap_search {
	struct imap_search_key *root;	/* owned: an AND node */
	enum imap_charset charset;
	bool esearch;			/* RETURN was given: reply ESEARCH */
	unsigned ret;			/* IMAP_SEARCH_RET_*; "RETURN ()" is ALL */
	unsigned nkeys;
};

/* Flags for imap_search_parse(). */
#define IMAP_SEARCH_ALLOW_RETURN	(1u << 0)	/* SEARCH: RETURN (...) first */
#define IMAP_SEARCH_BARE_CHARSET	(1u << 1)	/* SORT/THREAD: a charset
							 * without CHARSET, required */

/* Parses [RETURN (...)] [CHARSET x] search-key *(SP search-key) from cur
 * to the end of the command. Limits: max_search_keys keys, max_depth
 * nesting (NOT, OR, parentheses), max_seqset_ranges per set. Charsets
 * other than UTF-8 and US-ASCII fail with *code_r = "BADCHARSET" (reply
 * NO [BADCHARSET (US-ASCII UTF-8)]); other errors set *code_r = NULL
 * (reply BAD). The text is in cur->error. Release with
 * imap_search_deinit(). */
int imap_search_parse(struct imap_cursor *cur, const struct imap_limits *limits, unsigned flags,
		      struct imap_search *s, const char **code_r);
void imap_search_deinit(struct imap_search *s);

/* "RETURN (opts)" alone, for ESORT's "SORT RETURN (...)". *ret_r is
 * IMAP_SEARCH_RET_*, with "()" meaning ALL. */
int imap_search_return_parse(struct imap_cursor *cur, unsigned *ret_r);

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,	/* RFC 5957 */
	IMAP_SORT_DISPLAYTO,	/* RFC 5957 */
};

#define IMAP_SORT_CRITERIA_MAX 16

struct imap_sort {
	struct {
		enum imap_sort_key key;
		bool reverse;
	} crit[IMAP_SORT_CRITERIA_MAX];
	unsigned count;
};

/* "(" ["REVERSE" SP] sort-key *(SP ...) ")" (RFC 5256 5). */
int imap_sort_parse(struct imap_cursor *cur, struct imap_sort *sort);

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* The THREAD algorithm atom (RFC 5256 3). */
int imap_thread_parse(struct imap_cursor *cur, enum imap_thread_alg *alg_r);

/* The date keys (BEFORE ON SINCE, SENTBEFORE SENTON SENTSINCE): whether
 * time t (UTC seconds) matches the key's day, which starts at day (UTC
 * seconds, as imap_arg_date gives it). RFC 9051 6.4.4 compares days
 * "disregarding time and timezone": t counts by its UTC day. */
bool imap_search_date_match(enum imap_search_type type, int64_t day, int64_t t);

#endif
