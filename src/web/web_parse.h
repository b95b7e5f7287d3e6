/*
 * The portal's parser layer: pure functions over bytes, no I/O, no
 * globals, fuzzed by fuzz/fuzz_web_form.c. evhttp parses the request line
 * and headers; this parses what evhttp hands over as opaque text: form
 * bodies (application/x-www-form-urlencoded, the only body the portal
 * takes), the Cookie header, and it escapes text for HTML output.
 */
#ifndef TERN_WEB_WEB_PARSE_H
#define TERN_WEB_WEB_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct web_form_limits {
	unsigned max_fields;	/* fields in one body */
	size_t max_name;	/* bytes of a decoded name */
	size_t max_value;	/* bytes of a decoded value */
};

struct web_field {
	char *name;		/* owned; NUL-terminated, no NUL inside */
	char *value;		/* owned; NUL-terminated, no NUL inside */
	size_t value_len;
};

struct web_form {
	struct web_field *fields;	/* owned */
	unsigned n;
};

/* Parses an application/x-www-form-urlencoded body (WHATWG URL "urlencoded
 * parser", strict): fields split on '&', name and value on the first '=',
 * '+' is a space, %XX is a byte. Refused, with a reason in *error_r: a bad
 * %-escape, a decoded NUL, an empty name, a duplicate name (no parameter
 * pollution: the portal never sends one twice), more fields or longer
 * names or values than limits allow. Empty pieces ("a=1&&b=2") are
 * skipped, as browsers produce none. Returns 0 or -1; on -1 form_r is
 * empty. Call web_form_deinit() after 0. */
int web_form_parse(const char *body, size_t len, const struct web_form_limits *limits,
		   struct web_form *form_r, const char **error_r);
/* Wipes (values may be passwords) and frees the fields. */
void web_form_deinit(struct web_form *form);
/* The value of name (borrowed from form), or NULL. */
const char *web_form_get(const struct web_form *form, const char *name);

/* Finds cookie name in a Cookie header value (RFC 6265 5.4: pairs joined
 * by "; "; surrounding whitespace tolerated, DQUOTEd values unquoted).
 * The first pair with that name wins. Returns 1 and copies the value
 * NUL-terminated into out, 0 if absent, -1 if the header is malformed or
 * the value does not fit out_size or has more than max_cookies pairs. */
int web_cookie_get(const char *header, size_t len, const char *name, unsigned max_cookies,
		   char *out, size_t out_size);

/* Appends s (len bytes) to out with & < > " ' escaped, so it is safe in
 * element text and in quoted attribute values. Returns 0 or -1 (out full). */
int web_html_escape(struct buf *out, const char *s, size_t len);

/* True if s is exactly 2*bytes lowercase hex digits. */
bool web_hex_valid(const char *s, size_t bytes);

#endif
