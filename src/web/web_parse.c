/*
 * Form bodies, cookies and HTML escaping for the portal (web_parse.h).
 * Everything here takes length-counted bytes from the network and never
 * trusts a NUL; decoded values are NUL-terminated copies that are refused
 * if the client smuggled a %00 into them, so later C-string use cannot
 * truncate a password or a name silently.
 */
#include "web/web_parse.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one name or value into a new string. Returns NULL with *error_r
 * on a bad escape, a NUL byte, or more than max bytes once decoded. */
static char *form_decode(const char *s, size_t len, size_t max, size_t *len_r,
			 const char **error_r)
{
	char *out = xmalloc(len + 1);	/* decoding never grows */
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			/* UNSAFE: i + 2 < len checked before both reads */
			if (i + 2 >= len || (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0) {
				*error_r = "bad percent-escape";
				goto fail;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			*error_r = "NUL byte in a field";
			goto fail;
		}
		if (n >= max) {
			*error_r = "field too long";
			goto fail;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*len_r = n;
	return out;
fail:
	OPENSSL_cleanse(out, len + 1);
	free(out);
	return NULL;
}

/* Adds one "name=value" piece to form. */
static int form_add(struct web_form *form, const char *piece, size_t len,
		    const struct web_form_limits *limits, const char **error_r)
{
	const char *eq = memchr(piece, '=', len);
	size_t name_len = eq != NULL ? (size_t)(eq - piece) : len, value_len, dummy;
	struct web_field f;
	unsigned i;

	if (form->n >= limits->max_fields) {
		*error_r = "too many fields";
		return -1;
	}
	if (name_len == 0) {
		*error_r = "empty field name";
		return -1;
	}
	f.name = form_decode(piece, name_len, limits->max_name, &dummy, error_r);
	if (f.name == NULL)
		return -1;
	value_len = eq != NULL ? len - name_len - 1 : 0;
	f.value = form_decode(eq != NULL ? eq + 1 : "", value_len, limits->max_value,
			      &f.value_len, error_r);
	if (f.value == NULL) {
		free(f.name);
		return -1;
	}
	for (i = 0; i < form->n; i++) {
		if (strcmp(form->fields[i].name, f.name) == 0) {
			*error_r = "duplicate field";
			free(f.name);
			OPENSSL_cleanse(f.value, f.value_len);
			free(f.value);
			return -1;
		}
	}
	form->fields[form->n++] = f;
	return 0;
}

int web_form_parse(const char *body, size_t len, const struct web_form_limits *limits,
		   struct web_form *form_r, const char **error_r)
{
	size_t start = 0, end;

	form_r->fields = xcalloc(limits->max_fields > 0 ? limits->max_fields : 1,
				 sizeof(*form_r->fields));
	form_r->n = 0;
	while (start < len) {
		const char *amp = memchr(body + start, '&', len - start);

		end = amp != NULL ? (size_t)(amp - body) : len;
		if (end > start &&
		    form_add(form_r, body + start, end - start, limits, error_r) < 0) {
			web_form_deinit(form_r);
			return -1;
		}
		start = end + 1;
	}
	return 0;
}

void web_form_deinit(struct web_form *form)
{
	unsigned i;

	for (i = 0; i < form->n; i++) {
		free(form->fields[i].name);
		OPENSSL_cleanse(form->fields[i].value, form->fields[i].value_len);
		free(form->fields[i].value);
	}
	free(form->fields);
	form->fields = NULL;
	form->n = 0;
}

const char *web_form_get(const struct web_form *form, const char *name)
{
	unsigned i;

	for (i = 0; i < form->n; i++) {
		if (strcmp(form->fields[i].name, name) == 0)
			return form->fields[i].value;
	}
	return NULL;
}

/* ---- cookies --------------------------------------------------------------- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims optional whitespace around [*s, *e). */
static void trim(const char *h, size_t *s, size_t *e)
{
	while (*s < *e && is_ows(h[*s]))
		(*s)++;
	while (*e > *s && is_ows(h[*e - 1]))
		(*e)--;
}

/* RFC 6265 4.1.1 cookie-octet, plus the space some agents send. */
static bool cookie_value_ok(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
			return false;
	}
	return true;
}

static int cookie_copy(const char *v, size_t len, char *out, size_t out_size)
{
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	if (!cookie_value_ok(v, len) || len >= out_size)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	return 1;
}

int web_cookie_get(const char *header, size_t len, const char *name, unsigned max_cookies,
		   char *out, size_t out_size)
{
	size_t start = 0, name_len = strlen(name);
	unsigned pairs = 0;
	int found = 0;

	while (start < len) {
		const char *semi = memchr(header + start, ';', len - start);
		size_t end = semi != NULL ? (size_t)(semi - header) : len, s = start, e = end, ne;
		const char *eq;

		start = end + 1;
		trim(header, &s, &e);
		if (s == e)
			continue;
		if (++pairs > max_cookies)
			return -1;
		eq = memchr(header + s, '=', e - s);
		if (eq == NULL)
			continue;	/* RFC 6265 5.2 step 2: ignored */
		ne = (size_t)(eq - header);
		trim(header, &s, &ne);	/* RFC 6265 5.2: the name is trimmed too */
		if (found == 0 && ne - s == name_len && memcmp(header + s, name, name_len) == 0) {
			size_t vs = (size_t)(eq - header) + 1, ve = e;

			trim(header, &vs, &ve);
			if (cookie_copy(header + vs, ve - vs, out, out_size) < 0)
				return -1;
			found = 1;
		}
	}
	return found;
}

/* ---- output ------------------------------------------------------------------ */

int web_html_escape(struct buf *out, const char *s, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_append(out, s + run, i - run) < 0 || buf_append_str(out, rep) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(out, s + run, len - run);
}

bool web_hex_valid(const char *s, size_t bytes)
{
	size_t i;

	for (i = 0; i < 2 * bytes; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[i] == '\0';
}
