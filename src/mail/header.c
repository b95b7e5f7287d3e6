/*
 * Header blocks and address-lists (RFC 5322 2.2, 3.4; RFC 6532 allows
 * UTF-8 in atoms and quoted strings). The address-list parser is a lexer
 * (atoms, quoted strings, domain literals and the specials, with comments
 * and folding whitespace skipped) and a small state machine over its
 * tokens. It wants addr-specs only, so display names and group names are
 * read and dropped, leniently: "J. Doe <j@example.com>" (obs-phrase) and
 * an unquoted "@" in a display name before "<" are common and accepted.
 */
#include "mail/header.h"
#include "core/buf.h"
#include "core/limits.h"

#include <string.h>
#include <strings.h>

/* ---- header block --------------------------------------------------------- */

static bool is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* True if the line data[0..len) (without its line end) starts a field:
 * a name of ftext, optional WSP (obs-fields), a colon. */
static bool is_field_line(const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && is_ftext((unsigned char)data[i]))
		i++;
	if (i == 0)
		return false;
	while (i < len && (data[i] == ' ' || data[i] == '\t'))
		i++;
	return i < len && data[i] == ':';
}

int header_block_end(const char *data, size_t len, size_t *pos, size_t *body_r)
{
	const char *nl;
	size_t p = *pos, line_len;

	while (p < len && (nl = memchr(data + p, '\n', len - p)) != NULL) {
		line_len = (size_t)(nl - (data + p));
		if (line_len > 0 && data[p + line_len - 1] == '\r')
			line_len--;
		if (line_len == 0) {
			*body_r = (size_t)(nl - data) + 1;
			return 1;
		}
		if (!is_field_line(data + p, line_len) &&
		    !(p > 0 && (data[p] == ' ' || data[p] == '\t'))) {
			*body_r = p;
			return 1;
		}
		p = (size_t)(nl - data) + 1;
	}
	*pos = p;
	return 0;
}

int header_next(const char *hdr, size_t len, size_t *pos, struct header_field *f)
{
	size_t p = *pos, colon, end, vend;
	const char *nl;

	if (p >= len || hdr[p] == '\n' || hdr[p] == '\r')
		return 0;
	nl = memchr(hdr + p, '\n', len - p);
	end = nl ? (size_t)(nl - hdr) + 1 : len;
	/* continuation lines belong to this field */
	while (end < len && (hdr[end] == ' ' || hdr[end] == '\t')) {
		nl = memchr(hdr + end, '\n', len - end);
		end = nl ? (size_t)(nl - hdr) + 1 : len;
	}
	colon = p;
	while (colon < end && hdr[colon] != ':')
		colon++;
	if (colon == end)
		return 0;	/* not a field: header_block_end ends blocks there */
	f->name = hdr + p;
	f->name_len = colon - p;
	while (f->name_len > 0 && (f->name[f->name_len - 1] == ' ' || f->name[f->name_len - 1] == '\t'))
		f->name_len--;
	vend = end;
	if (vend > colon + 1 && hdr[vend - 1] == '\n')
		vend--;
	if (vend > colon + 1 && hdr[vend - 1] == '\r')
		vend--;
	f->value = hdr + colon + 1;
	f->value_len = vend - colon - 1;
	f->start = p;
	f->end = end;
	*pos = end;
	return 1;
}

bool header_is(const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

/* ---- address-list lexer --------------------------------------------------- */

enum tok_type {
	TOK_END,
	TOK_WORD,	/* atom or quoted-string (text is the content) */
	TOK_LITERAL,	/* domain-literal, brackets included */
	TOK_SPECIAL,	/* one of < > @ , : ; . */
};

struct lexer {
	const char *s;
	size_t len, pos;
	struct buf text;	/* the current token's text */
	const char *error;
};

static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Skips CFWS: whitespace, line ends and (nested) comments. */
static int skip_cfws(struct lexer *lx)
{
	unsigned depth = 0;

	for (; lx->pos < lx->len; lx->pos++) {
		char c = lx->s[lx->pos];

		if (c == '\\' && depth > 0) {
			if (++lx->pos == lx->len)
				break;
		} else if (c == '(') {
			if (++depth > 64)
				return lx->error = "comments nested too deeply", -1;
		} else if (c == ')') {
			if (depth-- == 0)
				return lx->error = "unbalanced parenthesis", -1;
		} else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return 0;
		}
	}
	if (depth > 0)
		return lx->error = "unterminated comment", -1;
	return 0;
}

/* Reads a quoted-string or domain-literal body up to the closing char. */
static int lex_quoted(struct lexer *lx, char close, bool keep_brackets)
{
	if (keep_brackets)
		buf_append_char(&lx->text, '[');
	for (lx->pos++; lx->pos < lx->len; lx->pos++) {
		char c = lx->s[lx->pos];

		if (c == close) {
			lx->pos++;
			if (keep_brackets)
				buf_append_char(&lx->text, ']');
			return 0;
		}
		if (c == '\\' && ++lx->pos == lx->len)
			break;
		if (c == '\r' || c == '\n')
			continue;	/* folding inside quotes */
		if (buf_append_char(&lx->text, lx->s[lx->pos]) < 0)
			return lx->error = "address too long", -1;
	}
	return lx->error = close == '"' ? "unterminated quoted string" : "unterminated domain literal", -1;
}

/* Reads the next token; returns its type, or -1 with lx->error. */
static int lex_next(struct lexer *lx)
{
	char c;

	buf_reset(&lx->text);
	if (skip_cfws(lx) < 0)
		return -1;
	if (lx->pos == lx->len)
		return TOK_END;
	c = lx->s[lx->pos];
	if (c == '"')
		return lex_quoted(lx, '"', false) < 0 ? -1 : TOK_WORD;
	if (c == '[')
		return lex_quoted(lx, ']', true) < 0 ? -1 : TOK_LITERAL;
	if (strchr("<>@,:;.", c) != NULL) {
		buf_append_char(&lx->text, c);
		lx->pos++;
		return TOK_SPECIAL;
	}
	if (!is_atext((unsigned char)c))
		return lx->error = "invalid character in address", -1;
	while (lx->pos < lx->len && is_atext((unsigned char)lx->s[lx->pos])) {
		if (buf_append_char(&lx->text, lx->s[lx->pos++]) < 0)
			return lx->error = "address too long", -1;
	}
	return TOK_WORD;
}

static bool is_special(const struct lexer *lx, int tok, char c)
{
	return tok == TOK_SPECIAL && lx->text.data[0] == c;
}

/* ---- address-list parser -------------------------------------------------- */

struct addr_parser {
	struct lexer lx;
	int tok;		/* current token */
	struct buf pending;	/* words seen before a delimiter */
	bool pending_ok;	/* pending is a well-formed addr-spec so far */
	int pending_part;	/* 0: local part, 1: after "@", 2: domain */
	bool pending_dot;	/* last token was "." */
	bool pending_closed;	/* a domain literal ended it */
	header_addr_fn *fn;
	void *ctx;
	int count;
};

static int advance(struct addr_parser *ap)
{
	ap->tok = lex_next(&ap->lx);
	return ap->tok < 0 ? -1 : 0;
}

/* Feeds a token to the addr-spec being collected in pending:
 *   local-part = word *("." word)   "@"   domain = atom *("." atom) / literal
 * Anything else (two words in a row: a phrase) marks it not well-formed,
 * which only matters if no "<" follows to make it a display name. */
static void pending_add(struct addr_parser *ap, int tok)
{
	struct lexer *lx = &ap->lx;
	bool empty = ap->pending.len == 0;

	if (ap->pending_closed)
		ap->pending_ok = false;
	if (tok == TOK_WORD) {
		if (!empty && !ap->pending_dot && ap->pending_part != 1)
			ap->pending_ok = false;
		if (ap->pending_part == 1)
			ap->pending_part = 2;
		ap->pending_dot = false;
	} else if (tok == TOK_LITERAL) {
		if (ap->pending_part != 1)
			ap->pending_ok = false;
		ap->pending_part = 2;
		ap->pending_closed = true;
	} else if (is_special(lx, tok, '.')) {
		if (empty || ap->pending_dot || ap->pending_part == 1)
			ap->pending_ok = false;
		ap->pending_dot = true;
	} else if (is_special(lx, tok, '@')) {
		if (empty || ap->pending_dot || ap->pending_part != 0)
			ap->pending_ok = false;
		ap->pending_part = 1;
	} else {
		ap->pending_ok = false;
	}
	if (buf_append(&ap->pending, lx->text.data ? lx->text.data : "", lx->text.len) < 0)
		ap->pending_ok = false;
}

static void pending_reset(struct addr_parser *ap)
{
	buf_reset(&ap->pending);
	ap->pending_ok = true;
	ap->pending_part = 0;
	ap->pending_dot = false;
	ap->pending_closed = false;
}

static int emit(struct addr_parser *ap, struct buf *addr)
{
	ap->count++;
	if (ap->fn != NULL && ap->fn(ap->ctx, buf_cstr(addr), addr->len) < 0) {
		ap->lx.error = "stopped";
		return -1;
	}
	return 0;
}

/* Ends a bare addr-spec at "," ";" or the end of the list. */
static int pending_end(struct addr_parser *ap)
{
	int ret = 0;

	if (ap->pending.len == 0)
		return 0;
	if (!ap->pending_ok || ap->pending_part != 2 || ap->pending_dot)
		ap->lx.error = "not an address (expected local@domain or Name <local@domain>)", ret = -1;
	else
		ret = emit(ap, &ap->pending);
	pending_reset(ap);
	return ret;
}

/* After "<": [obs-route ":"] addr-spec ">" */
static int angle_addr(struct addr_parser *ap)
{
	pending_reset(ap);
	if (advance(ap) < 0)
		return -1;
	if (is_special(&ap->lx, ap->tok, '@')) {
		/* obs-route "@a,@b:" is skipped */
		while (ap->tok != TOK_END && !is_special(&ap->lx, ap->tok, ':') &&
		       !is_special(&ap->lx, ap->tok, '>')) {
			if (advance(ap) < 0)
				return -1;
		}
		if (!is_special(&ap->lx, ap->tok, ':'))
			return ap->lx.error = "bad route in angle address", -1;
		if (advance(ap) < 0)
			return -1;
	}
	while (ap->tok != TOK_END && !is_special(&ap->lx, ap->tok, '>')) {
		pending_add(ap, ap->tok);
		if (advance(ap) < 0)
			return -1;
	}
	if (ap->tok == TOK_END)
		return ap->lx.error = "missing '>'", -1;
	/* "<>" is the null address: nothing to report */
	if (ap->pending.len > 0 && pending_end(ap) < 0)
		return -1;
	return advance(ap);
}

static int parse_list(struct addr_parser *ap)
{
	bool in_group = false, after_angle = false;

	if (advance(ap) < 0)
		return -1;
	while (ap->tok != TOK_END) {
		struct lexer *lx = &ap->lx;

		if (is_special(lx, ap->tok, '<')) {
			if (after_angle)
				return lx->error = "two angle addresses in one mailbox", -1;
			if (angle_addr(ap) < 0)
				return -1;
			after_angle = true;
			continue;
		}
		if (is_special(lx, ap->tok, ',') || is_special(lx, ap->tok, ';')) {
			if (is_special(lx, ap->tok, ';')) {
				if (!in_group)
					return lx->error = "';' outside a group", -1;
				in_group = false;
			}
			if (!after_angle && pending_end(ap) < 0)
				return -1;
			after_angle = false;
		} else if (is_special(lx, ap->tok, ':') && !after_angle) {
			if (in_group)
				return lx->error = "nested group", -1;
			in_group = true;
			pending_reset(ap);	/* the group's display name */
		} else if (after_angle) {
			return lx->error = "unexpected text after '>'", -1;
		} else {
			pending_add(ap, ap->tok);
		}
		if (advance(ap) < 0)
			return -1;
	}
	if (in_group)
		return ap->lx.error = "group without ';'", -1;
	if (!after_angle && pending_end(ap) < 0)
		return -1;
	return 0;
}

int header_addresses(const char *value, size_t len, header_addr_fn *fn, void *ctx,
		     const char **error_r)
{
	struct addr_parser ap = { .lx = { .s = value, .len = len }, .fn = fn, .ctx = ctx };
	int ret;

	buf_init(&ap.lx.text, ADDRESS_MAX);
	buf_init(&ap.pending, ADDRESS_MAX);
	pending_reset(&ap);
	ret = parse_list(&ap);
	if (ret < 0)
		*error_r = ap.lx.error ? ap.lx.error : "syntax error";
	buf_deinit(&ap.lx.text);
	buf_deinit(&ap.pending);
	return ret < 0 ? -1 : ap.count;
}
