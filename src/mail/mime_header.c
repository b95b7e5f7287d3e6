/*
 * RFC 5322 header blocks: iterating fields, unfolding, looking fields up;
 * charset conversion to UTF-8 with iconv; RFC 2047 encoded-words; and the
 * RFC 5322 3.3 / 4.3 date parser. Everything tolerates broken input: a
 * header is read until a blank line or a line that is no field, encoded
 * words that do not parse are left as text, and bytes that no charset
 * explains are dropped rather than passed on as invalid UTF-8.
 */
#include "mail/mime.h"
#include "mail/address.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

/* Index just past the line that starts at p (its LF, or len). */
static size_t line_end(const char *s, size_t len, size_t p)
{
	const char *lf = memchr(s + p, '\n', len - p);

	return lf == NULL ? len : (size_t)(lf - s) + 1;
}

/* A field name is 1*(%d33-57 / %d59-126) (RFC 5322 2.2), optionally
 * followed by blanks before the colon (obs-optional, 4.5.8). */
static bool field_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c >= 127 || c == ':')
			return false;
	}
	return true;
}

bool mime_header_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f)
{
	size_t p = *pos, eol, colon, name_len, next;
	const char *c;

	/* A continuation with no field before it is junk inside the header. */
	while (p < len && IS_WSP(hdr[p]))
		p = line_end(hdr, len, p);
	if (p >= len || hdr[p] == '\n' || (hdr[p] == '\r' && (p + 1 == len || hdr[p + 1] == '\n')))
		return false;
	eol = line_end(hdr, len, p);
	c = memchr(hdr + p, ':', eol - p);
	if (c == NULL)
		return false;
	colon = (size_t)(c - hdr);
	name_len = colon - p;
	while (name_len > 0 && IS_WSP(hdr[p + name_len - 1]))
		name_len--;
	if (!field_name_valid(hdr + p, name_len))
		return false;
	next = eol;
	while (next < len && IS_WSP(hdr[next]))
		next = line_end(hdr, len, next);
	f->name = hdr + p;
	f->name_len = name_len;
	f->line = hdr + p;
	f->line_len = next - p;
	f->value = hdr + colon + 1;
	f->value_len = next - colon - 1;
	/* the value excludes the final line end. UNSAFE: colon + value_len
	 * is next - 1, the field's last byte, inside hdr[0..len) */
	if (f->value_len > 0 && hdr[colon + f->value_len] == '\n')
		f->value_len--;
	if (f->value_len > 0 && hdr[colon + f->value_len] == '\r')
		f->value_len--;
	*pos = next;
	return true;
}

int mime_unfold(const char *value, size_t len, struct buf *out)
{
	size_t i, start = 0, end = len;
	int ret = 0;

	while (start < end && (IS_WSP(value[start]) || value[start] == '\r' || value[start] == '\n'))
		start++;
	while (end > start && (IS_WSP(value[end - 1]) || value[end - 1] == '\r' ||
			       value[end - 1] == '\n'))
		end--;
	/* Ensure an empty value still yields a (NUL-terminated) buffer. */
	ret |= buf_append(out, "", 0);
	for (i = start; i < end; ) {
		size_t run = i;

		while (run < end && value[run] != '\r' && value[run] != '\n')
			run++;
		ret |= buf_append(out, value + i, run - i);
		i = run;
		while (i < end && (value[i] == '\r' || value[i] == '\n'))
			i++;
	}
	return ret;
}

bool mime_header_get(const char *hdr, size_t len, const char *name, size_t idx,
		     struct buf *out)
{
	struct mime_field f;
	size_t pos = 0;

	while (mime_header_next(hdr, len, &pos, &f)) {
		if (!mem_equal_ci(f.name, f.name_len, name))
			continue;
		if (idx-- == 0) {
			(void)mime_unfold(f.value, f.value_len, out);
			return true;
		}
	}
	return false;
}

size_t mime_header_get_all(const char *hdr, size_t len, const char *name, const char *sep,
			   struct buf *out)
{
	struct mime_field f;
	size_t pos = 0, n = 0;

	while (mime_header_next(hdr, len, &pos, &f)) {
		if (!mem_equal_ci(f.name, f.name_len, name))
			continue;
		if (n++ > 0)
			(void)buf_append_str(out, sep);
		(void)mime_unfold(f.value, f.value_len, out);
	}
	return n;
}

/* Appends the well-formed UTF-8 in data and drops every other byte. */
static int utf8_filter(const char *data, size_t len, struct buf *out)
{
	size_t i = 0, run = 0, n;
	int ret = 0;

	while (i < len) {
		n = utf8_char_len(data + i, len - i);
		if (n == 0) {
			ret |= buf_append(out, data + run, i - run);
			run = ++i;
			continue;
		}
		i += n;
	}
	ret |= buf_append(out, data + run, i - run);
	return ret;
}

/* Charset names go to iconv_open(); allow only what real names use. */
static bool charset_name_ok(const char *cs)
{
	size_t i, len = strlen(cs);

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)cs[i]) && strchr("-_.:+", cs[i]) == NULL)
			return false;
	}
	return true;
}

static bool charset_is_utf8(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

static int iconv_convert(iconv_t cd, const char *data, size_t len, struct buf *out)
{
	char chunk[4096];
	char *in = (char *)data;	/* iconv's prototype lacks const */
	size_t in_left = len;
	int ret = 0;

	while (in_left > 0) {
		char *o = chunk;
		size_t o_left = sizeof(chunk);
		size_t r = iconv(cd, &in, &in_left, &o, &o_left);
		int err = errno;

		ret |= buf_append(out, chunk, sizeof(chunk) - o_left);
		if (r != (size_t)-1 || ret != 0)
			break;
		if (err == EILSEQ) {
			in++;
			in_left--;
		} else if (err != E2BIG) {
			break;	/* EINVAL: a sequence cut short at the end */
		}
	}
	{
		char *o = chunk;
		size_t o_left = sizeof(chunk);

		(void)iconv(cd, NULL, NULL, &o, &o_left);
		ret |= buf_append(out, chunk, sizeof(chunk) - o_left);
	}
	return ret;
}

int mime_charset_to_utf8(const char *charset, const char *data, size_t len, struct buf *out)
{
	iconv_t cd;
	int ret;

	if (len == 0)
		return buf_append(out, "", 0);
	if (charset != NULL && charset_is_utf8(charset))
		return utf8_filter(data, len, out);
	if (charset == NULL || !charset_name_ok(charset)) {
		(void)utf8_filter(data, len, out);
		return -1;
	}
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		(void)utf8_filter(data, len, out);
		return -1;
	}
	ret = iconv_convert(cd, data, len, out);
	iconv_close(cd);
	return ret;
}

/* encoded-word = "=?" charset ["*" language] "?" encoding "?" text "?=" */
struct encoded_word {
	char charset[65];
	char enc;		/* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t len;		/* of the whole word */
};

/* Where the next "?=" and the next control byte are, remembered with the
 * position the search started from: encoded-word attempts move forward
 * through the value, so each is found once, and a value full of "=?" that
 * never ends a word costs linear time, not quadratic. */
struct scan_cache {
	size_t from, at;	/* a search from `from` found `at`; from > at: none yet */
};

struct word_scan {
	struct scan_cache term, ctl;
};

static bool is_ctl(char c)
{
	return (unsigned char)c <= 32 && c != ' ';
}

static size_t scan_next(const char *s, size_t len, size_t from, struct scan_cache *c, bool term)
{
	size_t i = from;

	if (c->from <= from && from <= c->at)
		return c->at;
	if (term) {
		const char *p = i < len ? memmem(s + i, len - i, "?=", 2) : NULL;

		i = p != NULL ? (size_t)(p - s) : len;
	} else {
		while (i < len && !is_ctl(s[i]))
			i++;
	}
	c->from = from;
	c->at = i;
	return i;
}

/* Parses an encoded-word at s[pos]; its length is w->len. */
static bool encoded_word_parse(const char *s, size_t len, size_t pos, struct word_scan *scan,
			       struct encoded_word *w)
{
	size_t i = pos + 2, cs_start = pos + 2, cs_len, end;
	const char *star;

	/* UNSAFE: every index below is checked against len before its read;
	 * i + 3 < len covers s[i + 1] and s[i + 2] */
	if (len - pos < 8 || s[pos] != '=' || s[pos + 1] != '?')
		return false;
	while (i < len && i - cs_start < sizeof(w->charset) && s[i] != '?' &&
	       (unsigned char)s[i] > 32 && (unsigned char)s[i] < 127)
		i++;
	if (i + 3 >= len || s[i] != '?' || s[i + 2] != '?')
		return false;
	cs_len = i - cs_start;
	star = memchr(s + cs_start, '*', cs_len);
	if (star != NULL)
		cs_len = (size_t)(star - (s + cs_start));
	if (cs_len == 0 || cs_len >= sizeof(w->charset))
		return false;
	memcpy(w->charset, s + cs_start, cs_len);
	w->charset[cs_len] = '\0';
	w->enc = (char)toupper((unsigned char)s[i + 1]);
	if (w->enc != 'B' && w->enc != 'Q')
		return false;
	/* the text runs to the next "?="; no CTLs or line ends inside */
	end = scan_next(s, len, i + 3, &scan->term, true);
	if (end >= len || scan_next(s, len, i + 3, &scan->ctl, false) < end)
		return false;
	w->text = s + i + 3;
	w->text_len = end - (i + 3);
	w->len = end + 2 - pos;
	return true;
}

/* Converts the pending bytes of adjacent words (one charset), so a UTF-8
 * character split across two words still comes out whole. */
static void words_flush(struct buf *raw, char *pending_cs, struct buf *out)
{
	if (pending_cs[0] != '\0' && raw->len > 0)
		(void)mime_charset_to_utf8(pending_cs, raw->data, raw->len, out);
	buf_reset(raw);
	pending_cs[0] = '\0';
}

static const char *next_word_start(const char *s, size_t len)
{
	const char *p = s;

	while ((p = memchr(p, '=', len - (size_t)(p - s))) != NULL) {
		if ((size_t)(p - s) + 1 < len && p[1] == '?')
			return p;
		p++;
	}
	return s + len;
}

int mime_decode_words(const char *s, size_t len, struct buf *out)
{
	struct buf raw;
	char pending[65] = "";
	struct word_scan scan = { { 1, 0 }, { 1, 0 } };
	size_t i = 0;
	int ret = 0;

	buf_init(&raw, 0);
	ret |= buf_append(out, "", 0);
	while (i < len) {
		struct encoded_word w;

		if (encoded_word_parse(s, len, i, &scan, &w)) {
			size_t j;

			if (strcasecmp(pending, w.charset) != 0) {
				words_flush(&raw, pending, out);
				memcpy(pending, w.charset, sizeof(pending));
			}
			if (w.enc == 'B')
				(void)mime_base64_decode(w.text, w.text_len, &raw);
			else
				(void)mime_qp_decode(w.text, w.text_len, true, &raw);
			i += w.len;
			/* RFC 2047 6.2: blanks between adjacent encoded-words go */
			for (j = i; j < len && (IS_WSP(s[j]) || s[j] == '\r' || s[j] == '\n'); j++)
				;
			if (j > i && encoded_word_parse(s, len, j, &scan, &w))
				i = j;
			continue;
		}
		words_flush(&raw, pending, out);
		{
			const char *next = next_word_start(s + i + 1, len - i - 1);
			size_t n = (size_t)(next - (s + i));

			ret |= utf8_filter(s + i, n, out);
			i += n;
		}
	}
	words_flush(&raw, pending, out);
	buf_deinit(&raw);
	return ret;
}

/* ---- RFC 5322 3.3 date-time, with the obsolete forms of 4.3 ---- */

struct date_tokens {
	char tok[8][24];
	size_t n;
};

/* Splits the date into words at blanks and commas, dropping comments
 * (which may nest) and words that do not fit. */
static void date_tokenize(const char *s, size_t len, struct date_tokens *t)
{
	size_t i = 0, depth = 0, cur = 0;

	t->n = 0;
	for (i = 0; i <= len && t->n < 8; i++) {
		char c = i < len ? s[i] : ' ';

		if (c == '(' || (depth > 0 && c == ')')) {
			depth += c == '(' ? 1 : (size_t)-1;
			c = ' ';
		} else if (depth > 0) {
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
			if (cur > 0) {
				t->tok[t->n][cur] = '\0';
				t->n++;
				cur = 0;
			}
			continue;
		}
		if (cur + 1 < sizeof(t->tok[0]))
			t->tok[t->n][cur++] = c;
	}
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int date_month(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int m;

	if (strlen(s) < 3)
		return -1;
	for (m = 0; m < 12; m++) {
		if (strncasecmp(s, months + 3 * m, 3) == 0)
			return m;
	}
	return -1;
}

/* Zone in minutes east: "+hhmm", or an obsolete name (4.3); military
 * letters and unknown names count as -0000 as 4.3 advises. */
static int date_zone(const char *z, int *tz_r)
{
	static const struct { const char *name; int hours; } names[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	size_t i;

	*tz_r = 0;
	if ((z[0] == '+' || z[0] == '-') && all_digits(z + 1, 4, 4)) {
		int h = (z[1] - '0') * 10 + (z[2] - '0'), m = (z[3] - '0') * 10 + (z[4] - '0');

		if (m > 59)
			return -1;
		*tz_r = (z[0] == '-' ? -1 : 1) * (h * 60 + m);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcasecmp(z, names[i].name) == 0)
			*tz_r = names[i].hours * 60;
	}
	return 0;
}

/* Reads 1-2 digits at *s. */
static int date_num2(const char **s, unsigned *v_r)
{
	const char *p = *s;

	if (!isdigit((unsigned char)p[0]))
		return -1;
	*v_r = (unsigned)(p[0] - '0');
	p++;
	if (isdigit((unsigned char)p[0]))
		*v_r = *v_r * 10 + (unsigned)(*p++ - '0');
	*s = p;
	return 0;
}

/* hh ":" mm [":" ss] */
static int date_time(const char *s, struct tm *tm)
{
	unsigned h, m, sec = 0;

	if (date_num2(&s, &h) < 0 || *s++ != ':' || date_num2(&s, &m) < 0)
		return -1;
	if (*s == ':') {
		s++;
		if (date_num2(&s, &sec) < 0)
			return -1;
	}
	if (*s != '\0' || h > 23 || m > 59 || sec > 60)
		return -1;
	tm->tm_hour = (int)h;
	tm->tm_min = (int)m;
	tm->tm_sec = sec == 60 ? 59 : (int)sec;
	return 0;
}

static int days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

int mail_date_parse(const char *s, size_t len, time_t *time_r, int *tz_r)
{
	struct date_tokens t;
	struct tm tm;
	size_t i = 0;
	int year, tz = 0;
	time_t when;

	date_tokenize(s, len, &t);
	memset(&tm, 0, sizeof(tm));
	if (t.n > 0 && isalpha((unsigned char)t.tok[0][0]))
		i++;	/* day-of-week, not checked */
	if (t.n < i + 4 || !all_digits(t.tok[i], 1, 2) || date_month(t.tok[i + 1]) < 0 ||
	    !all_digits(t.tok[i + 2], 2, 4) || date_time(t.tok[i + 3], &tm) < 0)
		return -1;
	tm.tm_mday = atoi(t.tok[i]);
	tm.tm_mon = date_month(t.tok[i + 1]);
	year = atoi(t.tok[i + 2]);
	if (strlen(t.tok[i + 2]) == 2)
		year += year < 50 ? 2000 : 1900;	/* 4.3 obs-year */
	else if (strlen(t.tok[i + 2]) == 3)
		year += 1900;
	if (year < 1900 || tm.tm_mday < 1 || tm.tm_mday > days_in_month(year, tm.tm_mon))
		return -1;
	tm.tm_year = year - 1900;
	if (t.n > i + 4 && date_zone(t.tok[i + 4], &tz) < 0)
		return -1;
	when = timegm(&tm);
	if (when == (time_t)-1 && year != 1969)
		return -1;
	*time_r = when - (time_t)tz * 60;
	if (tz_r != NULL)
		*tz_r = tz;
	return 0;
}
