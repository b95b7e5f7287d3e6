/*
 * The SEARCH program parser (a recursive descent over the token tree,
 * bounded by max_depth and max_search_keys), ESEARCH RETURN options, SORT
 * criteria and THREAD algorithms. The contract is in imap_search.h.
 */
#include "imap/imap_search.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

enum value_kind { V_NONE, V_STR, V_HEADER, V_DATE, V_NUMBER, V_MODSEQ, V_SET, V_KEY, V_TWO };

static const struct {
	const char *name;
	enum imap_search_type type;
	enum value_kind value;
} key_table[] = {
	{ "ALL", IMAP_SK_ALL, V_NONE },
	{ "ANSWERED", IMAP_SK_ANSWERED, V_NONE },
	{ "DELETED", IMAP_SK_DELETED, V_NONE },
	{ "DRAFT", IMAP_SK_DRAFT, V_NONE },
	{ "FLAGGED", IMAP_SK_FLAGGED, V_NONE },
	{ "SEEN", IMAP_SK_SEEN, V_NONE },
	{ "NEW", IMAP_SK_NEW, V_NONE },
	{ "OLD", IMAP_SK_OLD, V_NONE },
	{ "RECENT", IMAP_SK_RECENT, V_NONE },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, V_NONE },
	{ "UNDELETED", IMAP_SK_UNDELETED, V_NONE },
	{ "UNDRAFT", IMAP_SK_UNDRAFT, V_NONE },
	{ "UNFLAGGED", IMAP_SK_UNFLAGGED, V_NONE },
	{ "UNSEEN", IMAP_SK_UNSEEN, V_NONE },
	{ "KEYWORD", IMAP_SK_KEYWORD, V_STR },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, V_STR },
	{ "BCC", IMAP_SK_BCC, V_STR },
	{ "BODY", IMAP_SK_BODY, V_STR },
	{ "CC", IMAP_SK_CC, V_STR },
	{ "FROM", IMAP_SK_FROM, V_STR },
	{ "SUBJECT", IMAP_SK_SUBJECT, V_STR },
	{ "TEXT", IMAP_SK_TEXT, V_STR },
	{ "TO", IMAP_SK_TO, V_STR },
	{ "HEADER", IMAP_SK_HEADER, V_HEADER },
	{ "BEFORE", IMAP_SK_BEFORE, V_DATE },
	{ "ON", IMAP_SK_ON, V_DATE },
	{ "SINCE", IMAP_SK_SINCE, V_DATE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, V_DATE },
	{ "SENTON", IMAP_SK_SENTON, V_DATE },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, V_DATE },
	{ "LARGER", IMAP_SK_LARGER, V_NUMBER },
	{ "SMALLER", IMAP_SK_SMALLER, V_NUMBER },
	{ "OLDER", IMAP_SK_OLDER, V_NUMBER },
	{ "YOUNGER", IMAP_SK_YOUNGER, V_NUMBER },
	{ "MODSEQ", IMAP_SK_MODSEQ, V_MODSEQ },
	{ "UID", IMAP_SK_UID, V_SET },
	{ "NOT", IMAP_SK_NOT, V_KEY },
	{ "OR", IMAP_SK_OR, V_TWO },
};

struct sp {
	struct imap_cursor *cur;
	const struct imap_limits *lim;
	struct imap_search *s;
};

static void key_free(struct imap_search_key *k)
{
	while (k != NULL) {
		struct imap_search_key *next = k->next;

		key_free(k->child);
		imap_seqset_deinit(&k->set);
		free(k);
		k = next;
	}
}

void imap_search_deinit(struct imap_search *s)
{
	key_free(s->root);
	memset(s, 0, sizeof(*s));
}

static struct imap_search_key *new_key(struct sp *p, enum imap_search_type type)
{
	struct imap_search_key *k;

	if (p->s->nkeys >= p->lim->max_search_keys) {
		imap_cursor_fail(p->cur, "Too many search keys");
		return NULL;
	}
	p->s->nkeys++;
	k = xcalloc(1, sizeof(*k));
	k->type = type;
	imap_seqset_init(&k->set, p->lim->max_seqset_ranges);
	return k;
}

static struct imap_search_key *parse_key(struct sp *p, unsigned depth);

/* Appends keys to parent->child until the current list ends. */
static int parse_keys(struct sp *p, struct imap_search_key *parent, unsigned depth)
{
	struct imap_search_key **tail = &parent->child;

	if (imap_arg_at_end(p->cur))
		return imap_cursor_fail(p->cur, "Missing search key");
	while (!imap_arg_at_end(p->cur)) {
		struct imap_search_key *k = parse_key(p, depth);

		if (k == NULL)
			return -1;
		*tail = k;
		tail = &k->next;
	}
	return 0;
}

static int entry_type(struct imap_cursor *cur, enum imap_entry_type *t_r)
{
	if (imap_arg_keyword(cur, "priv"))
		*t_r = IMAP_ENTRY_PRIV;
	else if (imap_arg_keyword(cur, "shared"))
		*t_r = IMAP_ENTRY_SHARED;
	else if (imap_arg_keyword(cur, "all"))
		*t_r = IMAP_ENTRY_ALL;
	else
		return imap_cursor_fail(cur, "Invalid MODSEQ entry type");
	return 0;
}

/* MODSEQ ["/flags/..." priv|shared|all] mod-sequence-valzer */
static int parse_modseq(struct sp *p, struct imap_search_key *k)
{
	const struct imap_arg *a = imap_arg_peek(p->cur);

	if (a != NULL && a->type == IMAP_ARG_QUOTED) {
		if (a->len < 8 || strncmp(a->data, "/flags/", 7) != 0)
			return imap_cursor_fail(p->cur, "Invalid MODSEQ entry name");
		k->field.data = a->data;
		k->field.len = a->len;
		if (imap_arg_next(p->cur, &a) < 0 || entry_type(p->cur, &k->entry_type) < 0)
			return -1;
	}
	return imap_arg_number64(p->cur, &k->number);
}

static int parse_value(struct sp *p, struct imap_search_key *k, enum value_kind v, unsigned depth)
{
	struct imap_cursor *cur = p->cur;

	switch (v) {
	case V_NONE:
		return 0;
	case V_STR:
		return imap_arg_astring(cur, &k->str.data, &k->str.len);
	case V_HEADER:
		if (imap_arg_astring(cur, &k->field.data, &k->field.len) < 0)
			return -1;
		return imap_arg_astring(cur, &k->str.data, &k->str.len);
	case V_DATE:
		return imap_arg_date(cur, &k->date);
	case V_NUMBER:
		return imap_arg_number64(cur, &k->number);
	case V_MODSEQ:
		return parse_modseq(p, k);
	case V_SET:
		return imap_arg_seqset(cur, &k->set);
	case V_KEY:
		k->child = parse_key(p, depth);
		return k->child == NULL ? -1 : 0;
	case V_TWO:
		if ((k->child = parse_key(p, depth)) == NULL)
			return -1;
		k->child->next = parse_key(p, depth);
		return k->child->next == NULL ? -1 : 0;
	}
	return -1;
}

static struct imap_search_key *parse_atom_key(struct sp *p, const struct imap_arg *a,
					      unsigned depth)
{
	struct imap_search_key *k;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_table); i++)
		if (mem_equal_ci(a->data, a->len, key_table[i].name))
			break;
	if (i == ARRAY_SIZE(key_table)) {
		/* not a keyword: a sequence set, or an error */
		if ((k = new_key(p, IMAP_SK_SEQSET)) != NULL && imap_arg_seqset(p->cur, &k->set) < 0) {
			if (strchr("0123456789*$", a->data[0]) == NULL)
				p->cur->error = "Unknown search key";
			key_free(k);
			return NULL;
		}
		return k;
	}
	if ((k = new_key(p, key_table[i].type)) == NULL)
		return NULL;
	imap_arg_next(p->cur, &a);
	if (parse_value(p, k, key_table[i].value, depth) < 0) {
		key_free(k);
		return NULL;
	}
	return k;
}

static struct imap_search_key *parse_key(struct sp *p, unsigned depth)
{
	const struct imap_arg *a = imap_arg_peek(p->cur);
	struct imap_search_key *k;

	if (depth >= p->lim->max_depth) {
		imap_cursor_fail(p->cur, "Search program nested too deeply");
		return NULL;
	}
	if (a == NULL) {
		imap_cursor_fail(p->cur, "Missing search key");
		return NULL;
	}
	if (a->type == IMAP_ARG_ATOM)
		return parse_atom_key(p, a, depth + 1);
	if (a->type != IMAP_ARG_LIST) {
		imap_cursor_fail(p->cur, "Invalid search key");
		return NULL;
	}
	if ((k = new_key(p, IMAP_SK_AND)) == NULL)
		return NULL;
	if (imap_arg_list_enter(p->cur) < 0 || parse_keys(p, k, depth + 1) < 0 ||
	    imap_arg_list_leave(p->cur) < 0) {
		key_free(k);
		return NULL;
	}
	return k;
}

int imap_search_return_parse(struct imap_cursor *cur, unsigned *ret_r)
{
	static const struct {
		const char *name;
		unsigned opt;
	} opts[] = {
		{ "MIN", IMAP_SEARCH_RET_MIN },
		{ "MAX", IMAP_SEARCH_RET_MAX },
		{ "ALL", IMAP_SEARCH_RET_ALL },
		{ "COUNT", IMAP_SEARCH_RET_COUNT },
		{ "SAVE", IMAP_SEARCH_RET_SAVE },
	};
	size_t i;

	*ret_r = 0;
	if (!imap_arg_keyword(cur, "RETURN"))
		return imap_cursor_fail(cur, "Expected RETURN");
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		for (i = 0; i < ARRAY_SIZE(opts); i++)
			if (imap_arg_keyword(cur, opts[i].name))
				break;
		if (i == ARRAY_SIZE(opts))
			return imap_cursor_fail(cur, "Unknown RETURN option");
		*ret_r |= opts[i].opt;
	}
	/* RFC 4731 3.1: an empty list means ALL */
	if (*ret_r == 0)
		*ret_r = IMAP_SEARCH_RET_ALL;
	return imap_arg_list_leave(cur);
}

static int parse_charset(struct imap_cursor *cur, unsigned flags, struct imap_search *s,
			 const char **code_r)
{
	const char *cs;
	size_t len;

	if ((flags & IMAP_SEARCH_BARE_CHARSET) == 0 && !imap_arg_keyword(cur, "CHARSET"))
		return 0;
	if (imap_arg_astring(cur, &cs, &len) < 0)
		return imap_cursor_fail(cur, "Missing charset");
	if (mem_equal_ci(cs, len, "UTF-8")) {
		s->charset = IMAP_CHARSET_UTF8;
	} else if (mem_equal_ci(cs, len, "US-ASCII")) {
		s->charset = IMAP_CHARSET_US_ASCII;
	} else {
		*code_r = "BADCHARSET";
		return imap_cursor_fail(cur, "Unsupported charset");
	}
	return 0;
}

int imap_search_parse(struct imap_cursor *cur, const struct imap_limits *limits, unsigned flags,
		      struct imap_search *s, const char **code_r)
{
	struct sp p = { cur, limits, s };
	const struct imap_arg *a = imap_arg_peek(cur);

	memset(s, 0, sizeof(*s));
	*code_r = NULL;
	if ((flags & IMAP_SEARCH_ALLOW_RETURN) != 0 && a != NULL && a->type == IMAP_ARG_ATOM &&
	    mem_equal_ci(a->data, a->len, "RETURN")) {
		s->esearch = true;
		if (imap_search_return_parse(cur, &s->ret) < 0)
			return -1;
	}
	if (parse_charset(cur, flags, s, code_r) < 0)
		return -1;
	if ((s->root = new_key(&p, IMAP_SK_AND)) == NULL || parse_keys(&p, s->root, 0) < 0) {
		imap_search_deinit(s);
		return -1;
	}
	return 0;
}

int imap_sort_parse(struct imap_cursor *cur, struct imap_sort *sort)
{
	static const char *const names[] = {
		[IMAP_SORT_ARRIVAL] = "ARRIVAL", [IMAP_SORT_CC] = "CC", [IMAP_SORT_DATE] = "DATE",
		[IMAP_SORT_FROM] = "FROM", [IMAP_SORT_SIZE] = "SIZE",
		[IMAP_SORT_SUBJECT] = "SUBJECT", [IMAP_SORT_TO] = "TO",
		[IMAP_SORT_DISPLAYFROM] = "DISPLAYFROM", [IMAP_SORT_DISPLAYTO] = "DISPLAYTO",
	};
	size_t i;

	memset(sort, 0, sizeof(*sort));
	if (!imap_arg_is_list(imap_arg_peek(cur)))
		return imap_cursor_fail(cur, "Expected a list of sort criteria");
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	if (imap_arg_at_end(cur))
		return imap_cursor_fail(cur, "Empty list of sort criteria");
	while (!imap_arg_at_end(cur)) {
		bool reverse = imap_arg_keyword(cur, "REVERSE");

		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (imap_arg_keyword(cur, names[i]))
				break;
		if (i == ARRAY_SIZE(names))
			return imap_cursor_fail(cur, "Unknown sort criterion");
		if (sort->count >= IMAP_SORT_CRITERIA_MAX)
			return imap_cursor_fail(cur, "Too many sort criteria");
		sort->crit[sort->count].key = (enum imap_sort_key)i;
		sort->crit[sort->count].reverse = reverse;
		sort->count++;
	}
	return imap_arg_list_leave(cur);
}

int imap_thread_parse(struct imap_cursor *cur, enum imap_thread_alg *alg_r)
{
	if (imap_arg_keyword(cur, "ORDEREDSUBJECT"))
		*alg_r = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_keyword(cur, "REFERENCES"))
		*alg_r = IMAP_THREAD_REFERENCES;
	else
		return imap_cursor_fail(cur, "Unsupported THREAD algorithm");
	return 0;
}

bool imap_search_date_match(enum imap_search_type type, int64_t day, int64_t t)
{
	/* floor division: times before 1970 belong to the day they start */
	int64_t t_day = (t >= 0 ? t / 86400 : -((-t + 86399) / 86400)) * 86400;

	switch (type) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return t_day < day;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return t_day == day;
	case IMAP_SK_SINCE:
	case IMAP_SK_SENTSINCE:
		return t_day >= day;
	default:
		return false;
	}
}
