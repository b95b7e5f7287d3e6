/*
 * RFC 5321 addresses (section 4.1.2 Mailbox) with the RFC 6531 UTF-8
 * extension. Pure functions, no I/O; fuzzed through the SMTP parser.
 */
#ifndef TERN_MAIL_ADDRESS_H
#define TERN_MAIL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Parses a Mailbox (local-part "@" domain) filling all of s[0..len).
 * With utf8 (SMTPUTF8 in effect), UTF-8 is allowed in both parts. Appends
 * the normalized address (domain lowercased) to out. Returns 0, or -1 with
 * *error_r naming the problem. */
int address_parse(const char *s, size_t len, bool utf8, struct buf *out, const char **error_r);

/* True for a syntactically valid domain name (not an address literal). */
bool address_domain_valid(const char *s, size_t len, bool utf8);

/* True if s[0..len) is well-formed UTF-8 without overlongs or surrogates. */
bool utf8_valid(const char *s, size_t len);

/* Length (1-4) of the well-formed UTF-8 character at s[0..len), or 0 if
 * it is malformed, overlong, a surrogate or cut short. len must be > 0. */
size_t utf8_char_len(const char *s, size_t len);

/* True if the buffer holds any byte >= 0x80. */
bool has_8bit(const char *s, size_t len);

#endif
