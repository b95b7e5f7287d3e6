/*
 * Flags, STORE, dates, STATUS items, LIST arguments and patterns, and the
 * string writer. Dates are converted with explicit civil-calendar
 * arithmetic instead of timegm()/gmtime(): no locale or TZ, no time_t
 * range surprises, and every field is range-checked before use. The
 * contract is in imap_grammar.h.
 */
#include "imap/imap_grammar.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- flags ---------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned flag;
} system_flags[] = {
	{ "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged", IMAP_FLAG_FLAGGED },
	{ "\\Deleted", IMAP_FLAG_DELETED },
	{ "\\Seen", IMAP_FLAG_SEEN },
	{ "\\Draft", IMAP_FLAG_DRAFT },
	{ "\\Recent", IMAP_FLAG_RECENT },
};

/* ATOM-CHAR: no atom-specials, and "]" (resp-specials) is out too. */
static bool is_atom(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return len > 0;
}

int imap_flag_parse(const char *s, size_t len, unsigned *system_r, const char **error_r)
{
	size_t i;

	*system_r = 0;
	if (len > 0 && s[0] == '\\') {
		for (i = 0; i < ARRAY_SIZE(system_flags); i++) {
			if (mem_equal_ci(s, len, system_flags[i].name)) {
				if (system_flags[i].flag == IMAP_FLAG_RECENT) {
					*error_r = "\\Recent cannot be set";
					return -1;
				}
				*system_r = system_flags[i].flag;
				return 0;
			}
		}
		*error_r = "Unknown system flag";
		return -1;
	}
	if (!is_atom(s, len)) {
		*error_r = "Invalid flag keyword";
		return -1;
	}
	return 0;
}

void imap_flags_deinit(struct imap_flags *f)
{
	free(f->keywords);
	memset(f, 0, sizeof(*f));
}

static bool has_keyword(const struct imap_flags *f, const char *s, size_t len)
{
	unsigned i;

	for (i = 0; i < f->nkeywords; i++)
		if (f->keywords[i].len == len && strncasecmp(f->keywords[i].data, s, len) == 0)
			return true;
	return false;
}

/* Takes one flag atom into f; room for it was allocated by the caller. */
static int take_flag(struct imap_cursor *cur, unsigned max_keywords, struct imap_flags *f)
{
	const char *s, *error;
	size_t len;
	unsigned sys;

	if (imap_arg_atom(cur, &s, &len) < 0)
		return imap_cursor_fail(cur, "Invalid flag");
	if (imap_flag_parse(s, len, &sys, &error) < 0)
		return imap_cursor_fail(cur, error);
	f->system |= sys;
	if (sys != 0 || has_keyword(f, s, len))
		return 0;
	if (f->nkeywords >= max_keywords)
		return imap_cursor_fail(cur, "Too many keywords");
	f->keywords[f->nkeywords].data = s;
	f->keywords[f->nkeywords].len = len;
	f->nkeywords++;
	return 0;
}

int imap_arg_flag_list(struct imap_cursor *cur, unsigned max_keywords, struct imap_flags *f)
{
	const struct imap_arg *list = imap_arg_peek(cur);

	memset(f, 0, sizeof(*f));
	if (list == NULL || list->type != IMAP_ARG_LIST)
		return imap_cursor_fail(cur, "Expected a flag list");
	f->keywords = xcalloc(list->subtree + 1, sizeof(*f->keywords));
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (take_flag(cur, max_keywords, f) < 0) {
			imap_flags_deinit(f);
			return -1;
		}
	}
	return imap_arg_list_leave(cur);
}

int imap_flags_write(struct buf *out, unsigned system, const struct imap_string *keywords,
		     unsigned nkeywords)
{
	bool first = true;
	unsigned i;
	int ret = buf_append_char(out, '(');

	for (i = 0; i < ARRAY_SIZE(system_flags) && ret == 0; i++) {
		if ((system & system_flags[i].flag) == 0)
			continue;
		ret = buf_printf(out, "%s%s", first ? "" : " ", system_flags[i].name);
		first = false;
	}
	for (i = 0; i < nkeywords && ret == 0; i++) {
		ret = buf_append_str(out, first ? "" : " ");
		if (ret == 0)
			ret = buf_append(out, keywords[i].data, keywords[i].len);
		first = false;
	}
	return ret < 0 ? -1 : buf_append_char(out, ')');
}

/* ---- STORE ------------------------------------------------------------------ */

void imap_store_deinit(struct imap_store *st)
{
	imap_flags_deinit(&st->flags);
}

static int store_modifiers(struct imap_cursor *cur, struct imap_store *st)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL || a->type != IMAP_ARG_LIST)
		return 0;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (!imap_arg_keyword(cur, "UNCHANGEDSINCE") || st->unchangedsince)
			return imap_cursor_fail(cur, "Unknown or repeated STORE modifier");
		st->unchangedsince = true;
		if (imap_arg_number64(cur, &st->unchangedsince_modseq) < 0)
			return -1;
	}
	return imap_arg_list_leave(cur);
}

static int store_action(struct imap_cursor *cur, struct imap_store *st)
{
	const char *s;
	size_t len;

	if (imap_arg_atom(cur, &s, &len) < 0)
		return imap_cursor_fail(cur, "Expected FLAGS, +FLAGS or -FLAGS");
	st->mode = IMAP_STORE_REPLACE;
	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		st->mode = s[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		s++;
		len--;
	}
	if (len >= 7 && mem_equal_ci(s + len - 7, 7, ".SILENT")) {
		st->silent = true;
		len -= 7;
	}
	if (!mem_equal_ci(s, len, "FLAGS"))
		return imap_cursor_fail(cur, "Expected FLAGS, +FLAGS or -FLAGS");
	return 0;
}

int imap_store_parse(struct imap_cursor *cur, unsigned max_keywords, struct imap_store *st)
{
	const struct imap_arg *a;

	memset(st, 0, sizeof(*st));
	if (store_modifiers(cur, st) < 0 || store_action(cur, st) < 0)
		return -1;
	a = imap_arg_peek(cur);
	if (a == NULL)
		return imap_cursor_fail(cur, "Missing flags");
	if (a->type == IMAP_ARG_LIST) {
		if (imap_arg_flag_list(cur, max_keywords, &st->flags) < 0)
			return -1;
	} else {
		/* flag *(SP flag): no more than the remaining tokens */
		st->flags.keywords = xcalloc((size_t)(cur->end - cur->pos), sizeof(struct imap_string));
		while (!imap_arg_at_end(cur)) {
			if (take_flag(cur, max_keywords, &st->flags) < 0)
				goto failed;
		}
	}
	if (imap_arg_end(cur) == 0)
		return 0;
failed:
	imap_store_deinit(st);
	return -1;
}

/* ---- dates ------------------------------------------------------------------- */

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* n decimal digits at s (no sign, no space). */
static bool digits(const char *s, size_t n, unsigned *v_r)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*v_r = v;
	return true;
}

/* "Mon-yyyy" at s (8 bytes), with the day already read. */
static int month_year(const char *s, unsigned day, int64_t *days_r)
{
	unsigned m, y;

	for (m = 0; m < 12; m++)
		if (strncasecmp(s, months[m], 3) == 0)
			break;
	if (m == 12 || s[3] != '-' || !digits(s + 4, 4, &y))
		return -1;
	if (day < 1 || day > days_in_month(y, m + 1))
		return -1;
	*days_r = days_from_civil(y, m + 1, day);
	return 0;
}

int imap_date_parse(const char *s, size_t len, int64_t *time_r)
{
	size_t dlen = len == 10 ? 1 : 2;
	unsigned day;
	int64_t days;

	/* date-day = 1*2DIGIT: "1-Feb-1994" or "01-Feb-1994" */
	if ((len != 10 && len != 11) || !digits(s, dlen, &day) || s[dlen] != '-' ||
	    month_year(s + dlen + 1, day, &days) < 0)
		return -1;
	*time_r = days * 86400;
	return 0;
}

int imap_arg_date(struct imap_cursor *cur, int64_t *time_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing date");
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    imap_date_parse(a->data, a->len, time_r) < 0)
		return imap_cursor_fail(cur, "Invalid date (want d-Mon-yyyy)");
	return imap_arg_next(cur, &a);
}

static int parse_zone(const char *s, int *zone_r)
{
	unsigned hh, mm;

	if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &hh) || !digits(s + 3, 2, &mm) ||
	    mm > 59)
		return -1;
	*zone_r = (int)(hh * 60 + mm) * (s[0] == '-' ? -1 : 1);
	return 0;
}

int imap_datetime_parse(const char *s, size_t len, int64_t *time_r, int *zone_r)
{
	unsigned day, hh, mm, ss;
	int64_t days;

	/* "dd-Mon-yyyy hh:mm:ss +zzzz", date-day-fixed = (SP DIGIT) / 2DIGIT */
	if (len != 26)
		return -1;
	if (s[0] == ' ' ? !digits(s + 1, 1, &day) : !digits(s, 2, &day))
		return -1;
	if (s[2] != '-' || month_year(s + 3, day, &days) < 0 || s[11] != ' ')
		return -1;
	if (!digits(s + 12, 2, &hh) || s[14] != ':' || !digits(s + 15, 2, &mm) ||
	    s[17] != ':' || !digits(s + 18, 2, &ss) || s[20] != ' ')
		return -1;
	/* a leap second (60) is taken as the next second */
	if (hh > 23 || mm > 59 || ss > 60 || parse_zone(s + 21, zone_r) < 0)
		return -1;
	*time_r = days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)*zone_r * 60;
	return 0;
}

int imap_datetime_write(struct buf *out, int64_t t, int zone)
{
	int64_t local, days, year, secs;
	unsigned month, day;
	int az = zone < 0 ? -zone : zone;

	/* years 0..9999 only: date-year is 4DIGIT */
	if (t < -62167219200LL || t > 253402300799LL || az > 99 * 60 + 59)
		return -1;
	local = t + (int64_t)zone * 60;
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	secs = local - days * 86400;
	civil_from_days(days, &year, &month, &day);
	if (year < 0 || year > 9999)
		return -1;
	return buf_printf(out, "\"%02u-%s-%04lld %02lld:%02lld:%02lld %c%02d%02d\"", day,
			  months[month - 1], (long long)year, (long long)(secs / 3600),
			  (long long)(secs / 60 % 60), (long long)(secs % 60), zone < 0 ? '-' : '+',
			  az / 60, az % 60);
}

/* ---- STATUS items ------------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned item;
} status_names[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};

int imap_arg_status_items(struct imap_cursor *cur, unsigned *items_r)
{
	*items_r = 0;
	if (!imap_arg_is_list(imap_arg_peek(cur)))
		return imap_cursor_fail(cur, "Expected a list of STATUS items");
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	if (imap_arg_at_end(cur))
		return imap_cursor_fail(cur, "Empty list of STATUS items");
	while (!imap_arg_at_end(cur)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(status_names); i++)
			if (imap_arg_keyword(cur, status_names[i].name))
				break;
		if (i == ARRAY_SIZE(status_names))
			return imap_cursor_fail(cur, "Unknown STATUS item");
		*items_r |= status_names[i].item;
	}
	return imap_arg_list_leave(cur);
}

/* ---- LIST ------------------------------------------------------------------- */

void imap_list_cmd_deinit(struct imap_list_cmd *l)
{
	free(l->patterns);
	memset(l, 0, sizeof(*l));
}

int imap_arg_list_mailbox(struct imap_cursor *cur, const char **s_r, size_t *len_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	size_t i;

	if (a != NULL && a->type == IMAP_ARG_ATOM) {
		/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
		for (i = 0; i < a->len; i++)
			if (a->data[i] == '\\')
				return imap_cursor_fail(cur, "Invalid characters in mailbox pattern");
		*s_r = a->data;
		*len_r = a->len;
		return imap_arg_next(cur, &a);
	}
	return imap_arg_string(cur, s_r, len_r);
}

static int list_select(struct imap_cursor *cur, struct imap_list_cmd *l)
{
	static const struct {
		const char *name;
		unsigned opt;
	} opts[] = {
		{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED },
		{ "REMOTE", IMAP_LIST_SEL_REMOTE },
		{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
		{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE },
	};
	size_t i;

	l->extended = true;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		for (i = 0; i < ARRAY_SIZE(opts); i++)
			if (imap_arg_keyword(cur, opts[i].name))
				break;
		if (i == ARRAY_SIZE(opts))
			return imap_cursor_fail(cur, "Unknown LIST selection option");
		l->select |= opts[i].opt;
	}
	/* RFC 5258 3.1: RECURSIVEMATCH alone (or with REMOTE only) is BAD */
	if ((l->select & IMAP_LIST_SEL_RECURSIVEMATCH) != 0 &&
	    (l->select & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE)) == 0)
		return imap_cursor_fail(cur, "RECURSIVEMATCH needs another selection option");
	return imap_arg_list_leave(cur);
}

static int list_patterns(struct imap_cursor *cur, struct imap_list_cmd *l)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	bool many = a != NULL && a->type == IMAP_ARG_LIST;

	if (many && a->subtree == 0)
		return imap_cursor_fail(cur, "Empty list of mailbox patterns");
	l->patterns = xcalloc(many ? a->subtree : 1, sizeof(*l->patterns));
	if (!many) {
		l->npatterns = 1;
		return imap_arg_list_mailbox(cur, &l->patterns[0].data, &l->patterns[0].len);
	}
	l->extended = true;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		struct imap_string *p = &l->patterns[l->npatterns++];

		if (imap_arg_list_mailbox(cur, &p->data, &p->len) < 0)
			return -1;
	}
	return imap_arg_list_leave(cur);
}

static int list_return(struct imap_cursor *cur, struct imap_list_cmd *l)
{
	if (!imap_arg_keyword(cur, "RETURN"))
		return imap_cursor_fail(cur, "Expected RETURN");
	l->extended = true;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (imap_arg_keyword(cur, "SUBSCRIBED")) {
			l->ret |= IMAP_LIST_RET_SUBSCRIBED;
		} else if (imap_arg_keyword(cur, "CHILDREN")) {
			l->ret |= IMAP_LIST_RET_CHILDREN;
		} else if (imap_arg_keyword(cur, "SPECIAL-USE")) {
			l->ret |= IMAP_LIST_RET_SPECIAL_USE;
		} else if (imap_arg_keyword(cur, "STATUS") && !(l->ret & IMAP_LIST_RET_STATUS)) {
			l->ret |= IMAP_LIST_RET_STATUS;
			if (imap_arg_status_items(cur, &l->status_items) < 0)
				return -1;
		} else {
			return imap_cursor_fail(cur, "Unknown LIST return option");
		}
	}
	return imap_arg_list_leave(cur);
}

int imap_list_parse(struct imap_cursor *cur, struct imap_list_cmd *l)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	memset(l, 0, sizeof(*l));
	if (a != NULL && a->type == IMAP_ARG_LIST && list_select(cur, l) < 0)
		goto failed;
	if (imap_arg_astring(cur, &l->reference.data, &l->reference.len) < 0 ||
	    list_patterns(cur, l) < 0)
		goto failed;
	if (!imap_arg_at_end(cur) && list_return(cur, l) < 0)
		goto failed;
	if (imap_arg_end(cur) == 0)
		return 0;
failed:
	imap_list_cmd_deinit(l);
	return -1;
}

bool imap_list_match(const char *pattern, size_t plen, const char *name, size_t nlen,
		     char delimiter)
{
	/* row[j]: pattern[0..i) matches name[0..j) */
	bool *row = xcalloc(nlen + 1, 2 * sizeof(bool)), *next = row + nlen + 1, *tmp, result;
	size_t i, j;

	row[0] = true;
	for (i = 0; i < plen; i++) {
		char c = pattern[i];

		for (j = 0; j <= nlen; j++) {
			if (c == '*')
				next[j] = row[j] || (j > 0 && next[j - 1]);
			else if (c == '%')
				next[j] = row[j] || (j > 0 && next[j - 1] && name[j - 1] != delimiter);
			else
				next[j] = j > 0 && row[j - 1] && name[j - 1] == c;
		}
		tmp = row;
		row = next;
		next = tmp;
	}
	result = row[nlen];
	free(row < next ? row : next);
	return result;
}

/* ---- writing strings -------------------------------------------------------------- */

bool imap_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (n > len - i - 1)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool can_quote(const char *s, size_t len, bool utf8)
{
	bool eight = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return false;
		eight |= c >= 0x80;
	}
	/* RFC 9051 4.3 / RFC 6855 3: 8-bit quoted only as UTF-8 */
	return !eight || (utf8 && imap_utf8_valid(s, len));
}

int imap_write_literal(struct buf *out, const char *s, size_t len, bool binary)
{
	if (buf_printf(out, "%s{%zu}\r\n", binary ? "~" : "", len) < 0)
		return -1;
	return buf_append(out, s, len);
}

int imap_write_quoted(struct buf *out, const char *s, size_t len, bool utf8)
{
	size_t i;

	if (!can_quote(s, len, utf8) || buf_append_char(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append_char(out, '\\') < 0)
			return -1;
		if (buf_append_char(out, s[i]) < 0)
			return -1;
	}
	return buf_append_char(out, '"');
}

int imap_write_string(struct buf *out, const char *s, size_t len, bool utf8)
{
	if (can_quote(s, len, utf8))
		return imap_write_quoted(out, s, len, utf8);
	return imap_write_literal(out, s, len, false);
}

int imap_write_astring(struct buf *out, const char *s, size_t len, bool utf8)
{
	size_t i;
	bool atom = len > 0 && !mem_equal_ci(s, len, "NIL");

	for (i = 0; i < len && atom; i++) {
		unsigned char c = (unsigned char)s[i];

		/* ASTRING-CHAR = ATOM-CHAR / "]" */
		atom = c > 0x20 && c < 0x7f && strchr("(){%*\"\\", c) == NULL;
	}
	if (atom)
		return buf_append(out, s, len);
	return imap_write_string(out, s, len, utf8);
}

int imap_write_nstring(struct buf *out, const char *s, size_t len, bool utf8)
{
	if (s == NULL)
		return buf_append_str(out, "NIL");
	return imap_write_string(out, s, len, utf8);
}
