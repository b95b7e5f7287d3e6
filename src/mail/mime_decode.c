/*
 * Content-Transfer-Encoding decoders (RFC 2045 6.7 quoted-printable, 6.8
 * base64 through OpenSSL) for FETCH BINARY (RFC 3516) and search, and the
 * text extraction that feeds full-text search: every text leaf decoded
 * to UTF-8, HTML crudely stripped of tags. Decoding is tolerant, as mail
 * in the wild is: bytes outside the base64 alphabet are skipped, a "="
 * that starts no escape in quoted-printable is kept as it is.
 */
#include "mail/mime.h"
#include "mail/address.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
/* Base64 characters decoded per EVP_DecodeBlock call (a multiple of 4). */
#define B64_CHUNK 4096

static bool is_b64(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

/* Decodes in[0..n): whole quads, then a final 2 or 3 characters padded as
 * the encoder should have (one lone character carries no full byte). */
static int b64_flush(const unsigned char *in, size_t n, struct buf *out)
{
	unsigned char dec[B64_CHUNK / 4 * 3 + 3], quad[4];
	size_t full = n - n % 4, rem = n % 4;
	int r, ret = 0;

	if (full > 0) {
		r = EVP_DecodeBlock(dec, in, (int)full);
		if (r < 0)
			return 0;
		ret |= buf_append(out, dec, (size_t)r);
	}
	if (rem >= 2) {
		memcpy(quad, in + full, rem);
		memset(quad + rem, '=', 4 - rem);
		r = EVP_DecodeBlock(dec, quad, 4);
		if (r == 3)
			ret |= buf_append(out, dec, rem - 1);
	}
	return ret;
}

int mime_base64_decode(const char *data, size_t len, struct buf *out)
{
	unsigned char in[B64_CHUNK];
	size_t i, n = 0;
	int ret = 0;

	(void)buf_append(out, "", 0);
	for (i = 0; i < len && ret == 0; i++) {
		if (data[i] == '=') {
			/* padding ends a segment; tolerate concatenated ones */
			ret |= b64_flush(in, n, out);
			n = 0;
			continue;
		}
		if (!is_b64(data[i]))
			continue;
		in[n++] = (unsigned char)data[i];
		if (n == sizeof(in)) {
			ret |= b64_flush(in, n, out);
			n = 0;
		}
	}
	ret |= b64_flush(in, n, out);
	return ret != 0 ? -1 : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At data[i] == '=': returns the index after the escape or soft line
 * break it starts and appends the byte, or 0 if it starts neither. */
static size_t qp_escape(const char *data, size_t len, size_t i, struct buf *out, int *ret)
{
	size_t j;

	/* UNSAFE: i + 2 < len guards both hex digits */
	if (i + 2 < len && hexval(data[i + 1]) >= 0 && hexval(data[i + 2]) >= 0) {
		*ret |= buf_append_char(out, (char)(hexval(data[i + 1]) * 16 + hexval(data[i + 2])));
		return i + 3;
	}
	for (j = i + 1; j < len && IS_WSP(data[j]); j++)
		;
	if (j < len && data[j] == '\r')
		j++;
	if (j < len && data[j] == '\n')
		return j + 1;	/* soft line break */
	if (j == len)
		return len;	/* "=" at the very end */
	return 0;
}

int mime_qp_decode(const char *data, size_t len, bool q_encoding, struct buf *out)
{
	size_t i = 0, j;
	int ret = buf_append(out, "", 0);

	while (i < len) {
		char c = data[i];

		if (c == '=' && (j = qp_escape(data, len, i, out, &ret)) != 0) {
			i = j;
		} else if (c == '_' && q_encoding) {
			ret |= buf_append_char(out, ' ');
			i++;
		} else if (IS_WSP(c) && !q_encoding) {
			for (j = i; j < len && IS_WSP(data[j]); j++)
				;
			/* RFC 2045 6.7 (3): trailing blanks were added in transport */
			if (j < len && data[j] != '\r' && data[j] != '\n')
				ret |= buf_append(out, data + i, j - i);
			i = j;
		} else {
			/* a run of plain bytes; a "=" that escapes nothing is kept */
			for (j = i + 1; j < len && data[j] != '=' && !IS_WSP(data[j]) &&
			     !(q_encoding && data[j] == '_'); j++)
				;
			ret |= buf_append(out, data + i, j - i);
			i = j;
		}
	}
	return ret != 0 ? -1 : 0;
}

int mime_decode_body(const char *encoding, const char *data, size_t len, struct buf *out)
{
	if (encoding == NULL || encoding[0] == '\0' || strcasecmp(encoding, "7bit") == 0 ||
	    strcasecmp(encoding, "8bit") == 0 || strcasecmp(encoding, "binary") == 0)
		return buf_append(out, data, len);
	if (strcasecmp(encoding, "base64") == 0)
		return mime_base64_decode(data, len, out);
	if (strcasecmp(encoding, "quoted-printable") == 0)
		return mime_qp_decode(data, len, false, out);
	return -1;
}

/* ---- text extraction for search ---- */

struct extract_ctx {
	const char *msg;
	size_t max;	/* per output; SIZE_MAX for none */
	struct buf *headers, *body;
};

/* Appends at most what fits under max, cut at a UTF-8 character start. */
static void bounded_append(struct buf *out, size_t max, const char *s, size_t len)
{
	size_t n;

	if (out->len >= max)
		return;
	n = len < max - out->len ? len : max - out->len;
	while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	(void)buf_append(out, s, n);
}

static void header_text(struct extract_ctx *x, const struct mime_part *p, struct buf *out)
{
	struct mime_field f;
	struct buf v, d;
	size_t pos = 0;

	buf_init(&v, 0);
	buf_init(&d, 0);
	while (out->len < x->max &&
	       mime_header_next(x->msg + p->start, p->header_len, &pos, &f)) {
		buf_reset(&v);
		buf_reset(&d);
		(void)mime_unfold(f.value, f.value_len, &v);
		(void)buf_append(&d, f.name, f.name_len);
		(void)buf_append_str(&d, ": ");
		(void)mime_decode_words(v.data, v.len, &d);
		(void)buf_append_char(&d, '\n');
		bounded_append(out, x->max, d.data, d.len);
	}
	buf_deinit(&v);
	buf_deinit(&d);
}

static bool tag_is(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(s, name, n) == 0 &&
	       (IS_WSP(s[n]) || s[n] == '>' || s[n] == '/' || s[n] == '\r' || s[n] == '\n');
}

static size_t html_entity(const char *s, size_t len, struct buf *out)
{
	static const struct { const char *name; const char *text; } ents[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&apos;", "'" }, { "&nbsp;", " " },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ents); i++) {
		size_t n = strlen(ents[i].name);

		if (len >= n && strncasecmp(s, ents[i].name, n) == 0) {
			(void)buf_append_str(out, ents[i].text);
			return n;
		}
	}
	if (len > 3 && s[1] == '#') {
		size_t j = 2;
		unsigned long cp = 0;
		bool hex = s[2] == 'x' || s[2] == 'X';

		for (j += hex; j < len && j < 10 && isxdigit((unsigned char)s[j]) &&
		     (hex || isdigit((unsigned char)s[j])); j++)
			cp = cp * (hex ? 16 : 10) + (unsigned long)hexval(s[j]);
		if (j < len && s[j] == ';' && cp > 0 && cp < 0x110000 &&
		    !(cp >= 0xd800 && cp < 0xe000)) {
			char u[4];
			size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

			if (n == 1) {
				u[0] = (char)cp;
			} else {
				size_t k;

				for (k = n - 1; k > 0; k--, cp >>= 6)
					u[k] = (char)(0x80 | (cp & 0x3f));
				u[0] = (char)((0xf00u >> n) | cp);
			}
			(void)buf_append(out, u, n);
			return j + 1;
		}
	}
	(void)buf_append_char(out, '&');
	return 1;
}

/* Crude, good enough for search: drops tags, comments, script and style
 * content, and decodes the common entities. */
static void html_strip(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *lt = memchr(s + i, '<', len - i);
		size_t stop = lt != NULL ? (size_t)(lt - s) : len, j = i;

		while (j < stop) {
			const char *amp = memchr(s + j, '&', stop - j);
			size_t e = amp != NULL ? (size_t)(amp - s) : stop;

			(void)buf_append(out, s + j, e - j);
			j = e < stop ? e + html_entity(s + e, stop - e, out) : stop;
		}
		if (stop >= len)
			break;
		i = stop;
		{
			const char *skip_to = ">";
			const char *end;

			if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0)
				skip_to = "-->";
			else if (tag_is(s + i + 1, len - i - 1, "script"))
				skip_to = "</script";
			else if (tag_is(s + i + 1, len - i - 1, "style"))
				skip_to = "</style";
			end = memmem(s + i + 1, len - i - 1, skip_to, strlen(skip_to));
			if (end == NULL)
				break;
			i = (size_t)(end - s) + strlen(skip_to);
			if (skip_to[0] == '<') {
				const char *gt = memchr(s + i, '>', len - i);

				i = gt != NULL ? (size_t)(gt - s) + 1 : len;
			}
			(void)buf_append_char(out, ' ');
		}
	}
}

static void leaf_text(struct extract_ctx *x, const struct mime_part *p)
{
	struct buf dec, utf8;
	size_t in_len = p->body_len;

	/* No decoding step expands its input more than threefold (QP), so
	 * this much input is enough to fill max. */
	if (x->max != SIZE_MAX && in_len / 4 > x->max)
		in_len = x->max * 4;
	buf_init(&dec, 0);
	buf_init(&utf8, 0);
	if (mime_decode_body(p->encoding, x->msg + p->body_start, in_len, &dec) < 0) {
		buf_deinit(&dec);
		return;
	}
	(void)mime_charset_to_utf8(mime_part_param(p, "charset") != NULL ?
				   mime_part_param(p, "charset") : "us-ascii",
				   dec.data != NULL ? dec.data : "", dec.len, &utf8);
	if (strcmp(p->subtype, "html") == 0) {
		buf_reset(&dec);
		html_strip(buf_cstr(&utf8), utf8.len, &dec);
		bounded_append(x->body, x->max, buf_cstr(&dec), dec.len);
	} else {
		bounded_append(x->body, x->max, buf_cstr(&utf8), utf8.len);
	}
	bounded_append(x->body, x->max, "\n", 1);
	buf_deinit(&dec);
	buf_deinit(&utf8);
}

static void part_text(struct extract_ctx *x, const struct mime_part *p)
{
	size_t i;

	if (x->body->len >= x->max)
		return;
	if (mime_part_is_multipart(p)) {
		const struct mime_part *plain = NULL;

		/* of alternatives, one text is enough: the plain one if any */
		for (i = 0; strcmp(p->subtype, "alternative") == 0 && i < p->n_children; i++) {
			if (strcmp(p->children[i].type, "text") == 0 &&
			    strcmp(p->children[i].subtype, "plain") == 0 && plain == NULL)
				plain = &p->children[i];
		}
		if (plain != NULL) {
			part_text(x, plain);
			return;
		}
		for (i = 0; i < p->n_children; i++)
			part_text(x, &p->children[i]);
	} else if (p->message != NULL) {
		header_text(x, p->message, x->body);
		part_text(x, p->message);
	} else if (strcmp(p->type, "text") == 0) {
		leaf_text(x, p);
	}
}

int mime_extract_text(const char *msg, size_t len, const struct mime_part *root,
		      struct buf *headers_r, struct buf *body_r, size_t max)
{
	struct extract_ctx x = { msg, max != 0 ? max : SIZE_MAX, headers_r, body_r };

	(void)buf_append(headers_r, "", 0);
	(void)buf_append(body_r, "", 0);
	header_text(&x, root, headers_r);
	part_text(&x, root);
	return 0;
}
