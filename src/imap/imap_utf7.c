/*
 * Modified UTF-7 <-> UTF-8. Code points travel as UTF-16 inside the
 * base64 runs. The contract is in imap_utf7.h.
 */
#include "imap/imap_utf7.h"

#include <stdint.h>
#include <string.h>

/* RFC 3501 5.1.3: RFC 2045 base64 with "," in place of "/". */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

static int fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

static int put_utf8(struct buf *out, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

/* One UTF-16 unit of a base64 run; *high holds a pending high surrogate. */
static int take_unit(uint32_t unit, uint32_t *high, struct buf *out, const char **error_r)
{
	uint32_t cp = unit;

	if (*high != 0) {
		if (unit < 0xdc00 || unit > 0xdfff)
			return fail(error_r, "Unpaired surrogate in modified UTF-7");
		cp = 0x10000 + ((*high - 0xd800) << 10) + (unit - 0xdc00);
		*high = 0;
	} else if (unit >= 0xd800 && unit <= 0xdbff) {
		*high = unit;
		return 0;
	} else if (unit >= 0xdc00 && unit <= 0xdfff) {
		return fail(error_r, "Unpaired surrogate in modified UTF-7");
	}
	if (cp == 0 || (cp >= 0x20 && cp <= 0x7e))
		return fail(error_r, "Printable ASCII or NUL encoded in modified UTF-7");
	if (put_utf8(out, cp) < 0)
		return fail(error_r, "Mailbox name too long");
	return 0;
}

/* Decodes the base64 run at s[*i] up to its "-". */
static int decode_run(const char *s, size_t len, size_t *i, struct buf *out, const char **error_r)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	size_t start = *i;
	int v;

	for (; *i < len && s[*i] != '-'; (*i)++) {
		if ((v = b64_value(s[*i])) < 0)
			return fail(error_r, "Invalid base64 in modified UTF-7");
		bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits >= 16) {
			nbits -= 16;
			if (take_unit(bits >> nbits & 0xffff, &high, out, error_r) < 0)
				return -1;
		}
	}
	if (*i == len)
		return fail(error_r, "Unterminated modified UTF-7 run");
	if (*i == start || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return fail(error_r, "Malformed modified UTF-7 run");
	(*i)++;		/* the "-" */
	/* canonical: two runs are never adjacent */
	if (*i < len && s[*i] == '&' && !(*i + 1 < len && s[*i + 1] == '-'))
		return fail(error_r, "Adjacent modified UTF-7 runs");
	return 0;
}

int imap_utf7_to_utf8(const char *s, size_t len, struct buf *out, const char **error_r)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			return fail(error_r, "Invalid character in modified UTF-7");
		if (c != '&') {
			if (buf_append_char(out, (char)c) < 0)
				return fail(error_r, "Mailbox name too long");
			i++;
			continue;
		}
		i++;
		if (i < len && s[i] == '-') {
			if (buf_append_char(out, '&') < 0)
				return fail(error_r, "Mailbox name too long");
			i++;
			continue;
		}
		if (decode_run(s, len, &i, out, error_r) < 0)
			return -1;
	}
	return 0;
}

/* Next code point of valid UTF-8, or -1. */
static int32_t next_cp(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return -1;
	if (n > len - *i - 1)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return (int32_t)cp;
}

struct b64_state {
	uint32_t bits;
	unsigned nbits;
};

static int put_unit(struct buf *out, struct b64_state *st, uint32_t unit)
{
	st->bits = (st->bits << 16 | unit) & 0xffffff;
	st->nbits += 16;
	while (st->nbits >= 6) {
		st->nbits -= 6;
		if (buf_append_char(out, b64[st->bits >> st->nbits & 0x3f]) < 0)
			return -1;
	}
	return 0;
}

static int put_cp(struct buf *out, struct b64_state *st, uint32_t cp)
{
	if (cp < 0x10000)
		return put_unit(out, st, cp);
	cp -= 0x10000;
	if (put_unit(out, st, 0xd800 | cp >> 10) < 0)
		return -1;
	return put_unit(out, st, 0xdc00 | (cp & 0x3ff));
}

static int end_run(struct buf *out, struct b64_state *st)
{
	if (st->nbits > 0 && buf_append_char(out, b64[st->bits << (6 - st->nbits) & 0x3f]) < 0)
		return -1;
	st->nbits = 0;
	return buf_append_char(out, '-');
}

int imap_utf8_to_utf7(const char *str, size_t len, struct buf *out, const char **error_r)
{
	const unsigned char *s = (const unsigned char *)str;
	struct b64_state st = { 0, 0 };
	bool in_run = false;
	size_t i = 0;

	while (i < len) {
		int32_t cp = next_cp(s, len, &i);
		int ret;

		if (cp <= 0)
			return fail(error_r, cp == 0 ? "NUL in mailbox name" : "Invalid UTF-8");
		if (cp >= 0x20 && cp <= 0x7e) {
			ret = in_run ? end_run(out, &st) : 0;
			in_run = false;
			if (ret == 0)
				ret = cp == '&' ? buf_append_str(out, "&-") : buf_append_char(out, (char)cp);
		} else {
			ret = in_run ? 0 : buf_append_char(out, '&');
			in_run = true;
			if (ret == 0)
				ret = put_cp(out, &st, (uint32_t)cp);
		}
		if (ret < 0)
			return fail(error_r, "Mailbox name too long");
	}
	if (in_run && end_run(out, &st) < 0)
		return fail(error_r, "Mailbox name too long");
	return 0;
}

bool imap_utf7_valid(const char *s, size_t len)
{
	struct buf tmp;
	const char *error;
	int ret;

	buf_init(&tmp, 0);
	ret = imap_utf7_to_utf8(s, len, &tmp, &error);
	buf_deinit(&tmp);
	return ret == 0;
}
