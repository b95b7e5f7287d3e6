/*
 * The MIME parser: splits an RFC 5322 message held in memory into a tree
 * of parts (RFC 2045 headers, RFC 2046 multipart and message/rfc822,
 * RFC 2231 parameters). It works top-down on byte ranges: each part gets
 * its [start, end) from its parent, reads its header, and a multipart
 * splits its body at its own delimiter lines. Nothing here can fail on
 * bad input: a missing boundary leaves a multipart without children, an
 * unterminated one ends at its range's end, a header without a blank line
 * ends at the first line that is no field, and past max_depth a part
 * stays a leaf. Recursion depth is bounded by the limits (clamped to
 * MIME_DEPTH_MAX_HARD), so no input can exhaust the stack.
 */
#include "mail/mime.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
/* Parameters considered per header field; bounds the RFC 2231 joining,
 * which is quadratic in their number. */
#define MIME_PARAMS_MAX 64
/* RFC 2046 5.1.1 says 70; real boundaries are sometimes a bit longer. */
#define MIME_BOUNDARY_MAX 256

struct parse_ctx {
	const char *msg;
	size_t len;
	struct mime_limits lim;
	unsigned parts;
};

/* The Content-* fields of one header, borrowed from the message. */
struct content_fields {
	struct mime_field type, encoding, id, description, md5, disposition, language, location;
	bool have_type, have_encoding, have_id, have_description, have_md5, have_disposition,
		have_language, have_location;
};

static void parse_part(struct parse_ctx *ctx, struct mime_part *p, size_t start, size_t end,
		       bool in_digest, unsigned depth);

/* ---- tokens of structured Content-* values (RFC 2045 5.1) ---- */

static bool is_tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool is_token_char(char c)
{
	return (unsigned char)c > 32 && (unsigned char)c < 127 && !is_tspecial(c);
}

/* Skips blanks and (possibly nested) comments. */
static size_t skip_cfws(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (s[i] == '(') {
			depth++;
		} else if (depth > 0 && s[i] == ')') {
			depth--;
		} else if (depth > 0 && s[i] == '\\' && i + 1 < len) {
			i++;
		} else if (depth == 0 && !IS_WSP(s[i]) && s[i] != '\r' && s[i] != '\n') {
			break;
		}
	}
	return i;
}

static size_t token_end(const char *s, size_t len, size_t i)
{
	while (i < len && is_token_char(s[i]))
		i++;
	return i;
}

static char *lower_dup(const char *s, size_t len)
{
	char *r = xstrndup(s, len);
	size_t i;

	for (i = 0; i < len; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

/* A quoted-string at s[i] == '"', unescaped into out; returns the index
 * after it (an unterminated one runs to len). */
static size_t quoted_string(const char *s, size_t len, size_t i, struct buf *out)
{
	for (i++; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		if (s[i] != '\r' && s[i] != '\n')
			(void)buf_append_char(out, s[i]);
	}
	return i < len ? i + 1 : len;
}

/* ---- parameters (RFC 2045 5.1, RFC 2231) ---- */

struct raw_param {
	char *name;	/* lowercased, as written, with any "*n*" */
	char *value;
};

/* parameter = attribute "=" value; value = token / quoted-string. An
 * unquoted value is taken up to a blank, ";" or comment, to tolerate
 * unquoted tspecials. Returns the index after the parameter. */
static size_t param_read(const char *s, size_t len, size_t i, struct raw_param *rp)
{
	size_t n_end = token_end(s, len, i), v;
	struct buf val;

	rp->name = NULL;
	if (n_end == i)
		return i;
	v = skip_cfws(s, len, n_end);
	if (v >= len || s[v] != '=')
		return v;
	v = skip_cfws(s, len, v + 1);
	buf_init(&val, 0);
	(void)buf_append(&val, "", 0);
	if (v < len && s[v] == '"') {
		v = quoted_string(s, len, v, &val);
	} else {
		size_t e = v;

		while (e < len && s[e] != ';' && !IS_WSP(s[e]) && s[e] != '(' && s[e] != '\r' &&
		       s[e] != '\n')
			e++;
		(void)buf_append(&val, s + v, e - v);
		v = e;
	}
	rp->name = lower_dup(s + i, n_end - i);
	rp->value = buf_steal(&val, NULL);
	return v;
}

/* Reads every "; parameter" after position i into raw[]. */
static size_t params_read(const char *s, size_t len, size_t i, struct raw_param *raw)
{
	size_t n = 0;

	while (i < len && n < MIME_PARAMS_MAX) {
		i = skip_cfws(s, len, i);
		if (i < len && s[i] != ';') {
			/* junk: resynchronize at the next ";" */
			const char *semi = memchr(s + i, ';', len - i);

			if (semi == NULL)
				break;
			i = (size_t)(semi - s);
		}
		if (i >= len)
			break;
		i = skip_cfws(s, len, i + 1);
		i = param_read(s, len, i, &raw[n]);
		if (raw[n].name != NULL)
			n++;
	}
	return n;
}

/* Splits "name*3*" into base length, section (-1: none) and encoded. */
static size_t param_name_split(const char *name, int *section_r, bool *encoded_r)
{
	const char *star = strchr(name, '*');
	size_t base = star != NULL ? (size_t)(star - name) : strlen(name);
	const char *p;
	int sec = 0;

	*section_r = -1;
	*encoded_r = false;
	if (star == NULL)
		return base;
	p = star + 1;
	if (*p == '\0') {
		*section_r = 0;
		*encoded_r = true;
		return base;
	}
	if (!isdigit((unsigned char)*p) || (*p == '0' && isdigit((unsigned char)p[1])))
		return strlen(name);	/* not RFC 2231 syntax: keep the name whole */
	while (isdigit((unsigned char)*p) && sec < 10000)
		sec = sec * 10 + (*p++ - '0');
	if (*p == '*') {
		*encoded_r = true;
		p++;
	}
	if (*p != '\0')
		return strlen(name);
	*section_r = sec;
	return base;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void percent_decode(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			(void)buf_append_char(out, (char)(hexval(s[1]) * 16 + hexval(s[2])));
			s += 2;
		} else {
			(void)buf_append_char(out, *s);
		}
	}
}

static const struct raw_param *section_find(const struct raw_param *raw, size_t n,
					    const char *base, size_t base_len, int section,
					    bool *encoded_r)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int sec;
		size_t bl = param_name_split(raw[i].name, &sec, encoded_r);

		if (sec == section && bl == base_len && memcmp(raw[i].name, base, bl) == 0)
			return &raw[i];
	}
	return NULL;
}

/* RFC 2231 3-4: joins name*0, name*1*, ... and decodes the charset of the
 * first section. Returns false if there is no section 0. */
static bool param_join(const struct raw_param *raw, size_t n, const char *base, size_t base_len,
		       struct mime_param *out)
{
	struct buf bytes, utf8;
	char *charset = NULL;
	bool encoded, any_encoded = false;
	const struct raw_param *rp;
	int sec;

	buf_init(&bytes, 0);
	for (sec = 0; (rp = section_find(raw, n, base, base_len, sec, &encoded)) != NULL; sec++) {
		const char *v = rp->value;

		if (encoded && sec == 0) {
			const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

			if (q2 != NULL) {
				charset = xstrndup(v, (size_t)(q1 - v));
				v = q2 + 1;
			}
		}
		if (encoded)
			percent_decode(v, &bytes);
		else
			(void)buf_append_str(&bytes, v);
		any_encoded |= encoded;
	}
	if (sec == 0) {
		buf_deinit(&bytes);
		return false;
	}
	buf_init(&utf8, 0);
	(void)buf_append(&utf8, "", 0);
	if (any_encoded)
		(void)mime_charset_to_utf8(charset != NULL && charset[0] != '\0' ? charset : "utf-8",
					   bytes.data, bytes.len, &utf8);
	else
		(void)buf_append(&utf8, bytes.data, bytes.len);
	out->name = xstrndup(base, base_len);
	out->value = buf_steal(&utf8, NULL);
	out->extended = any_encoded;
	free(charset);
	buf_deinit(&bytes);
	return true;
}

static bool param_seen(const struct mime_param *params, size_t n, const char *base, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(params[i].name) == len && memcmp(params[i].name, base, len) == 0)
			return true;
	}
	return false;
}

/* Builds the final list: one entry per base name, in first-seen order,
 * the RFC 2231 form preferred over a plain one (RFC 2231 says so). */
static void params_build(struct raw_param *raw, size_t n, struct mime_param **params_r,
			 size_t *n_r)
{
	struct mime_param *params = n > 0 ? xcalloc(n, sizeof(*params)) : NULL;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int sec;
		bool enc;
		size_t bl = param_name_split(raw[i].name, &sec, &enc);
		const struct raw_param *plain;

		if (param_seen(params, k, raw[i].name, bl))
			continue;
		if (param_join(raw, n, raw[i].name, bl, &params[k])) {
			k++;
			continue;
		}
		plain = section_find(raw, n, raw[i].name, bl, -1, &enc);
		if (plain == NULL)
			continue;	/* only later sections, no *0: dropped */
		params[k].name = xstrndup(raw[i].name, bl);
		params[k].value = xstrdup(plain->value);
		params[k].extended = false;
		k++;
	}
	for (i = 0; i < n; i++) {
		free(raw[i].name);
		free(raw[i].value);
	}
	*params_r = params;
	*n_r = k;
}

/* Unfolds a raw field value into out and returns out's data. */
static const char *unfolded(const struct mime_field *f, struct buf *out)
{
	buf_reset(out);
	(void)mime_unfold(f->value, f->value_len, out);
	return buf_cstr(out);
}

/* Content-Type: type "/" subtype *(";" parameter). Returns false (and
 * leaves p alone) if type or subtype is missing. */
static bool content_type_parse(const struct mime_field *f, struct mime_part *p)
{
	struct raw_param raw[MIME_PARAMS_MAX];
	struct buf v;
	const char *s;
	size_t len, i, t_end, st, st_end, n;

	buf_init(&v, 0);
	s = unfolded(f, &v);
	len = v.len;
	i = skip_cfws(s, len, 0);
	t_end = token_end(s, len, i);
	st = skip_cfws(s, len, t_end);
	if (t_end == i || st >= len || s[st] != '/') {
		buf_deinit(&v);
		return false;
	}
	st = skip_cfws(s, len, st + 1);
	st_end = token_end(s, len, st);
	if (st_end == st) {
		buf_deinit(&v);
		return false;
	}
	p->type = lower_dup(s + i, t_end - i);
	p->subtype = lower_dup(s + st, st_end - st);
	n = params_read(s, len, st_end, raw);
	params_build(raw, n, &p->params, &p->n_params);
	buf_deinit(&v);
	return true;
}

/* Content-Disposition: type *(";" parameter) (RFC 2183). */
static void disposition_parse(const struct mime_field *f, struct mime_part *p)
{
	struct raw_param raw[MIME_PARAMS_MAX];
	struct buf v;
	const char *s;
	size_t i, t_end, n;

	buf_init(&v, 0);
	s = unfolded(f, &v);
	i = skip_cfws(s, v.len, 0);
	t_end = token_end(s, v.len, i);
	if (t_end > i) {
		p->disposition = lower_dup(s + i, t_end - i);
		n = params_read(s, v.len, t_end, raw);
		params_build(raw, n, &p->disp_params, &p->n_disp_params);
	}
	buf_deinit(&v);
}

static char *value_dup(const struct mime_field *f)
{
	struct buf v;

	buf_init(&v, 0);
	(void)mime_unfold(f->value, f->value_len, &v);
	return buf_steal(&v, NULL);
}

/* Content-Transfer-Encoding: a token, lowercased, comments dropped. */
static char *encoding_dup(const struct mime_field *f)
{
	struct buf v;
	const char *s;
	size_t i, e;
	char *r = NULL;

	buf_init(&v, 0);
	s = unfolded(f, &v);
	i = skip_cfws(s, v.len, 0);
	e = token_end(s, v.len, i);
	if (e > i)
		r = lower_dup(s + i, e - i);
	buf_deinit(&v);
	return r;
}

/* Remembers the first occurrence of each Content-* field. */
static void content_field_note(struct content_fields *cf, const struct mime_field *f)
{
	static const struct {
		const char *name;
		size_t field_off, have_off;
	} map[] = {
#define F(n, m) { n, offsetof(struct content_fields, m), offsetof(struct content_fields, have_##m) }
		F("content-type", type), F("content-transfer-encoding", encoding),
		F("content-id", id), F("content-description", description),
		F("content-md5", md5), F("content-disposition", disposition),
		F("content-language", language), F("content-location", location),
#undef F
	};
	size_t i;

	if (f->name_len < 8 || strncasecmp(f->name, "content-", 8) != 0)
		return;
	for (i = 0; i < ARRAY_SIZE(map); i++) {
		bool *have = (bool *)((char *)cf + map[i].have_off);

		if (!*have && mem_equal_ci(f->name, f->name_len, map[i].name)) {
			*have = true;
			memcpy((char *)cf + map[i].field_off, f, sizeof(*f));
		}
	}
}

/* Reads the header at msg[start..end): the Content-* fields into cf, and
 * returns the header length including the blank line if there is one. */
static size_t header_scan(struct parse_ctx *ctx, size_t start, size_t end,
			  struct content_fields *cf)
{
	const char *hdr = ctx->msg + start;
	size_t len = end - start, pos = 0;
	unsigned lines = 0;
	struct mime_field f;

	memset(cf, 0, sizeof(*cf));
	while (mime_header_next(hdr, len, &pos, &f)) {
		if (lines++ < ctx->lim.max_header_lines)
			content_field_note(cf, &f);
	}
	if (pos < len && hdr[pos] == '\n')
		pos++;
	else if (pos < len && hdr[pos] == '\r' && (pos + 1 == len || hdr[pos + 1] == '\n'))
		pos += pos + 1 == len ? 1 : 2;
	return pos;
}

static void part_fields_set(struct mime_part *p, const struct content_fields *cf,
			    bool in_digest)
{
	if (cf->have_type && content_type_parse(&cf->type, p)) {
		p->content_type_given = true;
	} else {
		p->type = xstrdup(in_digest ? "message" : "text");
		p->subtype = xstrdup(in_digest ? "rfc822" : "plain");
	}
	if (cf->have_encoding)
		p->encoding = encoding_dup(&cf->encoding);
	if (cf->have_id)
		p->id = value_dup(&cf->id);
	if (cf->have_description)
		p->description = value_dup(&cf->description);
	if (cf->have_md5)
		p->md5 = value_dup(&cf->md5);
	if (cf->have_disposition)
		disposition_parse(&cf->disposition, p);
	if (cf->have_language)
		p->language = value_dup(&cf->language);
	if (cf->have_location)
		p->location = value_dup(&cf->location);
}

/* ---- multipart (RFC 2046 5.1.1) ---- */

static size_t next_line(const char *msg, size_t end, size_t p)
{
	const char *lf = memchr(msg + p, '\n', end - p);

	return lf == NULL ? end : (size_t)(lf - msg) + 1;
}

/* Finds the next delimiter line ("--" boundary, then "--" or only blanks)
 * at a line start in [pos, end). Returns its start, or end if none. */
static size_t delimiter_find(const char *msg, size_t pos, size_t end, const char *b, size_t blen,
			     bool *close_r, size_t *after_r)
{
	size_t q, r;

	for (q = pos; q < end; q = next_line(msg, end, q)) {
		/* UNSAFE: q < end, and end - q is checked before any read past q */
		if (end - q < 2 + blen || msg[q] != '-' || msg[q + 1] != '-' ||
		    memcmp(msg + q + 2, b, blen) != 0)
			continue;
		r = q + 2 + blen;
		*close_r = end - r >= 2 && msg[r] == '-' && msg[r + 1] == '-';
		if (!*close_r) {
			while (r < end && (IS_WSP(msg[r]) || msg[r] == '\r'))
				r++;
			if (r < end && msg[r] != '\n')
				continue;
		}
		*after_r = next_line(msg, end, q);
		return q;
	}
	return end;
}

/* The CRLF (or LF) before a delimiter belongs to the delimiter. */
static size_t part_end_before(const char *msg, size_t start, size_t delim)
{
	if (delim > start && msg[delim - 1] == '\n')
		delim--;
	if (delim > start && msg[delim - 1] == '\r')
		delim--;
	return delim;
}

static void parse_multipart(struct parse_ctx *ctx, struct mime_part *p, unsigned depth)
{
	const char *b = mime_part_param(p, "boundary");
	size_t blen = b != NULL ? strlen(b) : 0, end = p->body_start + p->body_len;
	size_t d, after, cap = 0;
	bool close, in_digest = strcmp(p->subtype, "digest") == 0;

	if (blen == 0 || blen > MIME_BOUNDARY_MAX)
		return;
	d = delimiter_find(ctx->msg, p->body_start, end, b, blen, &close, &after);
	while (d < end && !close && ctx->parts < ctx->lim.max_parts) {
		size_t child_start = after, child_end;

		d = delimiter_find(ctx->msg, child_start, end, b, blen, &close, &after);
		child_end = d < end ? part_end_before(ctx->msg, child_start, d) : end;
		if (p->n_children == cap) {
			cap = cap ? cap * 2 : 4;
			p->children = xrealloc(p->children, cap * sizeof(*p->children));
		}
		parse_part(ctx, &p->children[p->n_children++], child_start, child_end, in_digest,
			   depth + 1);
	}
}

static bool encoding_is_identity(const char *enc)
{
	return enc == NULL || strcmp(enc, "7bit") == 0 || strcmp(enc, "8bit") == 0 ||
	       strcmp(enc, "binary") == 0;
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	const char *p = s, *lf;

	while ((lf = memchr(p, '\n', len - (size_t)(p - s))) != NULL) {
		n++;
		p = lf + 1;
	}
	return n + (p < s + len ? 1 : 0);
}

static void parse_part(struct parse_ctx *ctx, struct mime_part *p, size_t start, size_t end,
		       bool in_digest, unsigned depth)
{
	struct content_fields cf;

	memset(p, 0, sizeof(*p));
	ctx->parts++;
	p->start = start;
	p->header_len = header_scan(ctx, start, end, &cf);
	p->body_start = start + p->header_len;
	p->body_len = end - p->body_start;
	p->body_lines = count_lines(ctx->msg + p->body_start, p->body_len);
	part_fields_set(p, &cf, in_digest);
	if (depth >= ctx->lim.max_depth)
		return;
	if (mime_part_is_multipart(p)) {
		parse_multipart(ctx, p, depth);
	} else if (mime_part_is_message(p) && encoding_is_identity(p->encoding) &&
		   ctx->parts < ctx->lim.max_parts) {
		p->message = xmalloc(sizeof(*p->message));
		parse_part(ctx, p->message, p->body_start, end, false, depth + 1);
	}
}

int mime_parse(const char *msg, size_t len, const struct mime_limits *lim,
	       struct mime_part **root_r)
{
	static const struct mime_limits defaults = MIME_LIMITS_DEFAULT;
	struct parse_ctx ctx;

	ctx.msg = msg;
	ctx.len = len;
	ctx.lim = lim != NULL ? *lim : defaults;
	if (ctx.lim.max_depth > MIME_DEPTH_MAX_HARD)
		ctx.lim.max_depth = MIME_DEPTH_MAX_HARD;
	if (ctx.lim.max_parts == 0)
		ctx.lim.max_parts = 1;
	ctx.parts = 0;
	*root_r = xmalloc(sizeof(**root_r));
	parse_part(&ctx, *root_r, 0, len, false, 0);
	return 0;
}

static void params_free(struct mime_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

static void part_deinit(struct mime_part *p)
{
	size_t i;

	for (i = 0; i < p->n_children; i++)
		part_deinit(&p->children[i]);
	free(p->children);
	if (p->message != NULL) {
		part_deinit(p->message);
		free(p->message);
	}
	free(p->type);
	free(p->subtype);
	params_free(p->params, p->n_params);
	params_free(p->disp_params, p->n_disp_params);
	free(p->id);
	free(p->description);
	free(p->encoding);
	free(p->md5);
	free(p->disposition);
	free(p->language);
	free(p->location);
}

void mime_part_free(struct mime_part **p)
{
	if (*p == NULL)
		return;
	part_deinit(*p);
	free(*p);
	*p = NULL;
}

const char *mime_part_param(const struct mime_part *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_params; i++) {
		if (strcasecmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	}
	return NULL;
}

bool mime_part_is_multipart(const struct mime_part *p)
{
	return strcmp(p->type, "multipart") == 0;
}

bool mime_part_is_message(const struct mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
	       (strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0);
}
