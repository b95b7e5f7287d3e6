/*
 * SMTP reply parser (see smtp_reply.h). A reply line is three digits,
 * then '-' (more lines follow) or ' ' or nothing (last line), then text.
 * Every line of one reply must carry the same code (RFC 5321 4.2.1).
 */
#include "smtp/smtp_reply.h"
#include "core/util.h"

#include <ctype.h>
#include <string.h>

void smtp_reply_parser_init(struct smtp_reply_parser *p, const struct smtp_reply_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->limits = *limits;
	/* UNSAFE: bounded text: every line plus its '\n' separator */
	buf_init(&p->reply.text, limits->line_max * (size_t)limits->lines_max + limits->lines_max);
}

void smtp_reply_parser_deinit(struct smtp_reply_parser *p)
{
	buf_deinit(&p->reply.text);
}

static size_t digits(const char *s, size_t len, size_t max)
{
	size_t n = 0;

	while (n < len && n < max + 1 && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

size_t smtp_enhanced_parse(const char *text, size_t len, char out[16])
{
	size_t pos, n, part;

	out[0] = '\0';
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
		return 0;
	pos = 2;
	for (part = 0; part < 2; part++) {
		n = digits(text + pos, len - pos, 3);
		if (n == 0 || n > 3)
			return 0;
		pos += n;
		if (part == 0) {
			if (pos >= len || text[pos] != '.')
				return 0;
			pos++;
		}
	}
	if (pos < len && text[pos] != ' ')
		return 0;
	/* UNSAFE: pos <= 1 + 1 + 3 + 1 + 3 = 9 < 16 */
	memcpy(out, text, pos);
	out[pos] = '\0';
	return pos;
}

static void reply_reset(struct smtp_reply_parser *p)
{
	p->done = false;
	p->reply.code = 0;
	p->reply.enhanced[0] = '\0';
	p->reply.n_lines = 0;
	buf_reset(&p->reply.text);
}

int smtp_reply_feed(struct smtp_reply_parser *p, const char *line, size_t len,
		    const char **error_r)
{
	struct smtp_reply *r = &p->reply;
	int code;
	bool last;

	if (p->done)
		reply_reset(p);
	if (len > p->limits.line_max) {
		*error_r = "reply line too long";
		return -1;
	}
	if (len < 3 || digits(line, 3, 3) != 3 || line[0] < '2' || line[0] > '5' ||
	    (len > 3 && line[3] != ' ' && line[3] != '-')) {
		*error_r = "malformed reply line";
		return -1;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->n_lines > 0 && code != r->code) {
		*error_r = "reply lines disagree on the code";
		return -1;
	}
	if (r->n_lines >= p->limits.lines_max) {
		*error_r = "too many reply lines";
		return -1;
	}
	last = len == 3 || line[3] == ' ';
	if (r->n_lines == 0) {
		r->code = code;
		if (len > 4 && line[4] == (char)('0' + code / 100))
			smtp_enhanced_parse(line + 4, len - 4, r->enhanced);
	} else if (buf_append_char(&r->text, '\n') < 0) {
		*error_r = "reply too long";
		return -1;
	}
	if (len > 4 && buf_append(&r->text, line + 4, len - 4) < 0) {
		*error_r = "reply too long";
		return -1;
	}
	r->n_lines++;
	p->done = last;
	return last ? 1 : 0;
}

/* One EHLO keyword line: "KEYWORD[ params]". */
static void ehlo_line(const char *s, size_t len, struct smtp_ehlo *e)
{
	size_t kw = 0, pos;
	uint64_t v;

	while (kw < len && s[kw] != ' ' && s[kw] != '=')
		kw++;
	pos = kw < len ? kw + 1 : len;
	if (mem_equal_ci(s, kw, "STARTTLS")) {
		e->starttls = true;
	} else if (mem_equal_ci(s, kw, "PIPELINING")) {
		e->pipelining = true;
	} else if (mem_equal_ci(s, kw, "8BITMIME")) {
		e->eightbitmime = true;
	} else if (mem_equal_ci(s, kw, "SMTPUTF8")) {
		e->smtputf8 = true;
	} else if (mem_equal_ci(s, kw, "CHUNKING")) {
		e->chunking = true;
	} else if (mem_equal_ci(s, kw, "SIZE")) {
		e->size_given = true;
		e->size = 0;
		if (pos < len && parse_uint(s + pos, len - pos, UINT64_MAX / 2, &v) == 0)
			e->size = v;
	} else if (mem_equal_ci(s, kw, "AUTH")) {
		while (pos < len) {
			size_t end = pos;

			while (end < len && s[end] != ' ')
				end++;
			if (mem_equal_ci(s + pos, end - pos, "PLAIN"))
				e->auth |= SMTP_AUTH_PLAIN;
			else if (mem_equal_ci(s + pos, end - pos, "LOGIN"))
				e->auth |= SMTP_AUTH_LOGIN;
			pos = end + 1;
		}
	}
}

void smtp_ehlo_parse(const struct smtp_reply *reply, struct smtp_ehlo *e)
{
	const char *s = reply->text.data ? reply->text.data : "";
	size_t len = reply->text.len, pos, end;

	memset(e, 0, sizeof(*e));
	/* skip the first line: "domain greeting" */
	pos = 0;
	while (pos < len && s[pos] != '\n')
		pos++;
	while (pos < len) {
		pos++;
		end = pos;
		while (end < len && s[end] != '\n')
			end++;
		ehlo_line(s + pos, end - pos, e);
		pos = end;
	}
}
