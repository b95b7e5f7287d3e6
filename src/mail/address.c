/*
 * RFC 5321 Mailbox parser:
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string        (max 64 octets)
 *   Domain       = sub-domain *("." sub-domain)      (max 255 octets)
 * RFC 6531 3.3 extends atext, qtext and sub-domain with UTF8-non-ascii.
 */
#include "mail/address.h"
#include "core/limits.h"

#include <ctype.h>
#include <string.h>

bool has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

/* Length of the UTF-8 sequence at s (1-4), 0 if malformed. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t utf8_char_len(const char *s, size_t len)
{
	return utf8_seq_len((const unsigned char *)s, len);
}

bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len((const unsigned char *)s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static bool is_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Dot-string = Atom *("." Atom) */
static bool dot_string_valid(const char *s, size_t len, bool utf8)
{
	size_t i = 0, n;
	bool atom_start = true;

	if (len == 0)
		return false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (atom_start)
				return false;
			atom_start = true;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if (!utf8 || (n = utf8_seq_len((const unsigned char *)s + i, len - i)) == 0)
				return false;
			i += n;
		} else if (is_atext(c)) {
			i++;
		} else {
			return false;
		}
		atom_start = false;
	}
	return !atom_start;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE */
static bool quoted_string_valid(const char *s, size_t len, bool utf8)
{
	size_t i, n;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (i = 1; i < len - 1;) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			if (i + 1 >= len - 1 || s[i + 1] < 32 || s[i + 1] > 126)
				return false;
			i += 2;
		} else if (c >= 0x80) {
			if (!utf8 || (n = utf8_seq_len((const unsigned char *)s + i, len - 1 - i)) == 0)
				return false;
			i += n;
		} else if (c == 32 || c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

bool address_domain_valid(const char *s, size_t len, bool utf8)
{
	size_t i = 0, label = 0, n;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			/* sub-domain = Let-dig [Ldh-str]: no empty label, no
			 * label ending in '-' */
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if (!utf8 || (n = utf8_seq_len((const unsigned char *)s + i, len - i)) == 0)
				return false;
			i += n;
			label += n;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			i++;
			label++;
		} else {
			return false;
		}
		if (label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]";
 * checked loosely: printable, no brackets or backslash inside. */
static bool address_literal_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	for (i = 1; i < len - 1; i++) {
		if (s[i] < 33 || s[i] > 126 || s[i] == '[' || s[i] == ']' || s[i] == '\\')
			return false;
	}
	return true;
}

/* Finds the '@' that ends the local part: the last one outside quotes. */
static const char *find_at(const char *s, size_t len)
{
	const char *at = NULL;
	bool quoted = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (quoted && s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			quoted = !quoted;
		} else if (!quoted && s[i] == '@') {
			at = s + i;
		}
	}
	return at;
}

int address_parse(const char *s, size_t len, bool utf8, struct buf *out, const char **error_r)
{
	const char *at = find_at(s, len), *domain;
	size_t llen, dlen, i;

	if (len > SMTP_PATH_MAX) {
		*error_r = "address too long";
		return -1;
	}
	if (at == NULL) {
		*error_r = "address has no @domain";
		return -1;
	}
	llen = (size_t)(at - s);
	domain = at + 1;
	dlen = len - llen - 1;
	if (llen == 0 || llen > SMTP_LOCAL_PART_MAX) {
		*error_r = llen == 0 ? "empty local part" : "local part longer than 64 octets";
		return -1;
	}
	if (!(s[0] == '"' ? quoted_string_valid(s, llen, utf8) : dot_string_valid(s, llen, utf8))) {
		*error_r = "invalid characters in local part";
		return -1;
	}
	/* dlen may be 0: domain then points just past the input */
	if (!(dlen > 0 && domain[0] == '[' ? address_literal_valid(domain, dlen)
			       : address_domain_valid(domain, dlen, utf8))) {
		*error_r = "invalid domain";
		return -1;
	}
	if (buf_append(out, s, llen + 1) < 0)
		goto too_long;
	for (i = 0; i < dlen; i++) {
		if (buf_append_char(out, (char)tolower((unsigned char)domain[i])) < 0)
			goto too_long;
	}
	return 0;
too_long:
	*error_r = "address too long";
	return -1;
}
