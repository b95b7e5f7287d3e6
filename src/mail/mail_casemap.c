/*
 * Simple Unicode case folding without a locale (see mail_casemap.h):
 * a handful of ranges cover the scripts whose case pairs are regular
 * enough to fold with arithmetic. Anything else is left alone, which
 * errs towards "no match" rather than towards a false match.
 */
#include "mail/mail_casemap.h"

#include <stdint.h>
#include <string.h>

static uint32_t fold_latin(uint32_t c)
{
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177) ||
	    (c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	return c;
}

static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
	if (c < 0x370 || (c >= 0x1e00 && c <= 0x1eff))
		return fold_latin(c);
	if ((c >= 0x391 && c <= 0x3a9 && c != 0x3a2) || (c >= 0x410 && c <= 0x42f))
		return c + 0x20;
	if (c == 0x3c2)		/* final sigma */
		return 0x3c3;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) || (c >= 0x4d0 && c <= 0x52f))
		return c | 1;
	return c;
}

/* Decodes one UTF-8 sequence at s; returns its length (0: invalid). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *c_r)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*c_r = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*c_r = c;
	return n;
}

static int utf8_encode(uint32_t c, struct buf *out)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return buf_append(out, b, n);
}

int mail_casefold(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t c;

	/* worst case the folded text is as long as the input (the ranges
	 * above never change a sequence's length) */
	while (i < len) {
		n = utf8_decode(p + i, len - i, &c);
		if (n == 0) {
			if (buf_append_char(out, (char)p[i]) < 0)
				return -1;
			i++;
			continue;
		}
		if (utf8_encode(fold_cp(c), out) < 0)
			return -1;
		i += n;
	}
	(void)buf_append(out, "", 0);
	return 0;
}

bool mail_casefold_contains(const char *hay, size_t hay_len, const char *needle,
			    size_t needle_len)
{
	struct buf h, nd;
	bool found;

	if (needle_len == 0)
		return true;
	buf_init(&h, 0);
	buf_init(&nd, 0);
	(void)mail_casefold(hay, hay_len, &h);
	(void)mail_casefold(needle, needle_len, &nd);
	found = h.len >= nd.len && memmem(h.data, h.len, nd.data, nd.len) != NULL;
	buf_deinit(&h);
	buf_deinit(&nd);
	return found;
}
