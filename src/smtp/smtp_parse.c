/*
 * SMTP command argument parsers. Lenient where real clients deviate
 * harmlessly (a space after "FROM:", a missing pair of angle brackets, a
 * source route), strict where it matters (address syntax, parameters,
 * numbers).
 */
#include "smtp/smtp_parse.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/address.h"

#include <string.h>
#include <strings.h>

static int fail(struct smtp_reply_err *err, int code, const char *status, const char *text)
{
	err->code = code;
	err->status = status;
	err->text = text;
	return -1;
}

void smtp_split_command(const char *line, size_t len, struct smtp_command *cmd)
{
	size_t i = 0;

	while (i < len && line[i] != ' ')
		i++;
	cmd->verb = line;
	cmd->verb_len = i;
	while (i < len && line[i] == ' ')
		i++;
	cmd->args = line + i;
	cmd->args_len = len - i;
	/* trailing spaces are common and harmless */
	while (cmd->args_len > 0 && cmd->args[cmd->args_len - 1] == ' ')
		cmd->args_len--;
}

/* Matches a case-insensitive keyword such as "FROM:" and skips it plus any
 * spaces after it. */
static bool skip_keyword(const char **p, const char *end, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(end - *p) < n || strncasecmp(*p, kw, n) != 0)
		return false;
	*p += n;
	while (*p < end && **p == ' ')
		(*p)++;
	return true;
}

/* Extracts the path: "<...>" or a bare token. Sets [*start, *stop) to the
 * mailbox inside, without a source route, and *p past the path. */
static int take_path(const char **p, const char *end, const char **start, const char **stop,
		     struct smtp_reply_err *err, const char *bad_status)
{
	const char *s = *p, *e;
	bool quoted = false;

	if (s < end && *s == '<') {
		for (e = s + 1; e < end; e++) {
			if (quoted && *e == '\\' && e + 1 < end)
				e++;
			else if (*e == '"')
				quoted = !quoted;
			else if (*e == '>' && !quoted)
				break;
		}
		if (e >= end)
			return fail(err, 501, bad_status, "Syntax error: missing '>' in address");
		*p = e + 1;
		s++;
	} else {
		for (e = s; e < end && *e != ' '; e++)
			;
		*p = e;
	}
	/* RFC 5321 4.1.1.3 / C: accept and ignore a source route "@a,@b:" */
	if (s < e && *s == '@') {
		const char *colon = memchr(s, ':', (size_t)(e - s));

		if (colon == NULL || colon + 1 == e)
			return fail(err, 501, bad_status, "Syntax error: bad source route");
		s = colon + 1;
	}
	*start = s;
	*stop = e;
	return 0;
}

static int parse_size_param(const char *v, size_t vlen, struct smtp_mail_params *p,
			    struct smtp_reply_err *err)
{
	if (parse_uint(v, vlen, UINT64_MAX / 2, &p->size) < 0)
		return fail(err, 501, "5.5.4", "Syntax error in SIZE parameter");
	return 0;
}

/* One "keyword[=value]" MAIL parameter (RFC 5321 4.1.2 esmtp-param). */
static int parse_mail_param(const char *s, size_t len, struct smtp_mail_params *p,
			    struct smtp_reply_err *err)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	const char *v = eq ? eq + 1 : NULL;
	size_t vlen = eq ? len - klen - 1 : 0;

	if (mem_equal_ci(s, klen, "SIZE") && v != NULL)
		return parse_size_param(v, vlen, p, err);
	if (mem_equal_ci(s, klen, "BODY") && v != NULL) {
		if (mem_equal_ci(v, vlen, "7BIT"))
			p->body = SMTP_BODY_7BIT;
		else if (mem_equal_ci(v, vlen, "8BITMIME"))
			p->body = SMTP_BODY_8BITMIME;
		else
			return fail(err, 555, "5.5.4", "Unsupported BODY type");
		return 0;
	}
	if (mem_equal_ci(s, klen, "SMTPUTF8") && v == NULL) {
		p->smtputf8 = true;
		return 0;
	}
	return fail(err, 555, "5.5.4", "Unsupported MAIL parameter");
}

static int parse_mail_params(const char *s, const char *end, struct smtp_mail_params *p,
			     struct smtp_reply_err *err)
{
	while (s < end) {
		const char *e;

		while (s < end && *s == ' ')
			s++;
		for (e = s; e < end && *e != ' '; e++)
			;
		if (e > s && parse_mail_param(s, (size_t)(e - s), p, err) < 0)
			return -1;
		s = e;
	}
	return 0;
}

int smtp_parse_mail(const char *args, size_t len, bool esmtp, struct smtp_mail_params *p,
		    struct buf *addr, struct smtp_reply_err *err)
{
	const char *s = args, *end = args + len, *a, *b, *error;

	memset(p, 0, sizeof(*p));
	/* "MAIL FROM:" with nothing after it is not the null path "<>" */
	if (!skip_keyword(&s, end, "FROM:") || s == end)
		return fail(err, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
	if (take_path(&s, end, &a, &b, err, "5.1.7") < 0)
		return -1;
	if (s < end && *s != ' ')
		return fail(err, 501, "5.1.7", "Syntax error after the address");
	if (s < end) {
		if (!esmtp)
			return fail(err, 555, "5.5.4", "MAIL parameters need EHLO");
		if (parse_mail_params(s, end, p, err) < 0)
			return -1;
	}
	if (a == b) {
		p->null_sender = true;
		return 0;
	}
	if (has_8bit(a, (size_t)(b - a)) && !p->smtputf8)
		return fail(err, 553, "5.6.7", "Non-ASCII sender address needs SMTPUTF8");
	if (address_parse(a, (size_t)(b - a), p->smtputf8, addr, &error) < 0)
		return fail(err, 553, "5.1.7", "Bad sender address syntax");
	return 0;
}

int smtp_parse_rcpt(const char *args, size_t len, bool utf8, struct buf *addr,
		    struct smtp_reply_err *err)
{
	const char *s = args, *end = args + len, *a, *b, *error;

	if (!skip_keyword(&s, end, "TO:"))
		return fail(err, 501, "5.5.4", "Syntax: RCPT TO:<address>");
	if (take_path(&s, end, &a, &b, err, "5.1.3") < 0)
		return -1;
	while (s < end && *s == ' ')
		s++;
	if (s < end)
		return fail(err, 555, "5.5.4", "Unsupported RCPT parameter");
	/* RFC 5321 4.5.1: <postmaster> without a domain must be accepted */
	if (mem_equal_ci(a, (size_t)(b - a), "postmaster"))
		return buf_append_str(addr, "postmaster") < 0 ? fail(err, 501, "5.1.3", "Address too long") : 0;
	if (a == b)
		return fail(err, 501, "5.1.3", "Empty recipient address");
	if (has_8bit(a, (size_t)(b - a)) && !utf8)
		return fail(err, 553, "5.6.7", "Non-ASCII recipient address needs SMTPUTF8");
	if (address_parse(a, (size_t)(b - a), utf8, addr, &error) < 0)
		return fail(err, 501, "5.1.3", "Bad recipient address syntax");
	return 0;
}

int smtp_parse_bdat(const char *args, size_t len, uint64_t *size_r, bool *last_r,
		    struct smtp_reply_err *err)
{
	const char *sp = memchr(args, ' ', len);
	size_t nlen = sp ? (size_t)(sp - args) : len;

	*last_r = false;
	if (parse_uint(args, nlen, UINT64_MAX / 2, size_r) < 0)
		return fail(err, 501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
	if (sp != NULL) {
		const char *kw = sp + 1;
		size_t klen = len - nlen - 1;

		if (!mem_equal_ci(kw, klen, "LAST"))
			return fail(err, 501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
		*last_r = true;
	}
	return 0;
}

int smtp_parse_helo(const char *args, size_t len, struct smtp_reply_err *err)
{
	size_t i;

	if (len == 0)
		return fail(err, 501, "5.5.4", "Syntax: EHLO hostname");
	if (len > SMTP_DOMAIN_MAX)
		return fail(err, 501, "5.5.4", "Hostname too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)args[i];

		if (c <= ' ' || c >= 0x7f)
			return fail(err, 501, "5.5.4", "Invalid hostname");
	}
	return 0;
}
