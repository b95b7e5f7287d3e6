/*
 * IMAP renderings of a parsed message, exactly per the RFC 9051 section 9
 * grammar (which RFC 3501 clients also read): strings as quoted or as
 * literals, ENVELOPE with RFC 5322 address lists (groups, obsolete routes,
 * comments dropped), and BODY / BODYSTRUCTURE. Header values stay raw, as
 * IMAP requires; only folding is removed. Types, subtypes, encodings and
 * parameter names are written in upper case, as the RFC's examples do;
 * the protocol compares them case-insensitively.
 */
#include "mail/mime.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
/* Longer strings go out as literals, which clients read without scanning
 * for quotes; it also keeps a single response line short. */
#define IMAP_QUOTED_MAX 1024

/* An output buffer with a sticky error, so the writers need not check
 * every append. */
struct wr {
	struct buf *out;
	int err;
};

static void w_raw(struct wr *w, const char *s)
{
	w->err |= buf_append_str(w->out, s);
}

static void w_string(struct wr *w, const char *s, size_t len)
{
	w->err |= mime_imap_string(w->out, s, len);
}

static void w_nstring(struct wr *w, const char *s)
{
	w->err |= mime_imap_nstring(w->out, s, s != NULL ? strlen(s) : 0);
}

static void w_upper(struct wr *w, const char *s)
{
	char tmp[128];
	size_t i, n = strlen(s);

	if (n >= sizeof(tmp)) {
		w_string(w, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		tmp[i] = (char)toupper((unsigned char)s[i]);
	w_string(w, tmp, n);
}

static bool quotable(const char *s, size_t len)
{
	size_t i;

	if (len > IMAP_QUOTED_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}

int mime_imap_string(struct buf *out, const char *s, size_t len)
{
	size_t i, n = 0;
	int ret = 0;

	if (quotable(s, len)) {
		ret |= buf_append_char(out, '"');
		for (i = 0; i < len; i++) {
			if (s[i] == '\0')
				continue;
			if (s[i] == '"' || s[i] == '\\')
				ret |= buf_append_char(out, '\\');
			ret |= buf_append_char(out, s[i]);
		}
		return ret | buf_append_char(out, '"');
	}
	for (i = 0; i < len; i++)
		n += s[i] != '\0';
	ret |= buf_printf(out, "{%zu}\r\n", n);
	for (i = 0; i < len; ) {
		size_t run = i;

		while (run < len && s[run] != '\0')
			run++;
		ret |= buf_append(out, s + i, run - i);
		i = run + 1;
	}
	return ret;
}

int mime_imap_nstring(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		return buf_append_str(out, "NIL");
	return mime_imap_string(out, s, len);
}

/* ---- RFC 5322 3.4 address lists ---- */

enum atok_type { ATOK_END, ATOK_WORD, ATOK_QUOTED, ATOK_DLITERAL, ATOK_SPECIAL };

struct atok {
	enum atok_type type;
	const char *s;	/* ATOK_QUOTED: the inside, still escaped */
	size_t len;
	char c;		/* ATOK_SPECIAL */
	bool space_before;	/* blanks or a comment came before it */
};

struct alex {
	const char *s;
	size_t len, i;
};

static void alex_skip_cfws(struct alex *x)
{
	size_t depth = 0;

	for (; x->i < x->len; x->i++) {
		char c = x->s[x->i];

		if (c == '(')
			depth++;
		else if (depth > 0 && c == ')')
			depth--;
		else if (depth > 0 && c == '\\' && x->i + 1 < x->len)
			x->i++;
		else if (depth == 0 && !IS_WSP(c) && c != '\r' && c != '\n')
			break;
	}
}

static void alex_next(struct alex *x, struct atok *t)
{
	size_t st = x->i;
	char c;

	alex_skip_cfws(x);
	memset(t, 0, sizeof(*t));
	t->space_before = x->i > st;
	if (x->i >= x->len)
		return;
	st = x->i;
	c = x->s[st];
	if (c == '"' || c == '[') {
		char close = c == '"' ? '"' : ']';

		for (x->i++; x->i < x->len && x->s[x->i] != close; x->i++) {
			if (x->s[x->i] == '\\' && x->i + 1 < x->len)
				x->i++;
		}
		t->type = c == '"' ? ATOK_QUOTED : ATOK_DLITERAL;
		t->s = x->s + st + (c == '"');
		t->len = x->i - st - (c == '"') + (c == '[' && x->i < x->len);
		if (x->i < x->len)
			x->i++;
		return;
	}
	if (strchr("<>@,;:.", c) != NULL) {
		t->type = ATOK_SPECIAL;
		t->c = c;
		x->i++;
		return;
	}
	while (x->i < x->len && strchr("<>@,;:.\"[( \t\r\n", x->s[x->i]) == NULL)
		x->i++;
	t->type = ATOK_WORD;
	t->s = x->s + st;
	t->len = x->i - st;
}

static void alex_peek(struct alex *x, struct atok *t)
{
	size_t save = x->i;

	alex_next(x, t);
	x->i = save;
}

/* Appends a word's text: quoted strings unescaped. */
static void word_append(const struct atok *t, struct buf *b)
{
	size_t i;

	if (t->type != ATOK_QUOTED) {
		(void)buf_append(b, t->s, t->len);
		return;
	}
	for (i = 0; i < t->len; i++) {
		if (t->s[i] == '\\' && i + 1 < t->len)
			i++;
		(void)buf_append_char(b, t->s[i]);
	}
}

struct addr {
	struct buf name, adl, mailbox, host;
	bool has_host;
};

struct addr_list {
	struct wr *w;
	size_t n;	/* addresses and group markers written */
	struct addr *first;	/* non-NULL: collect the first mailbox, write nothing */
	bool found;
};

static void addr_item(struct addr_list *l, const char *name, const char *adl,
		      const char *mailbox, const char *host)
{
	if (l->first != NULL) {
		if (!l->found && mailbox != NULL && host != NULL) {
			(void)buf_append_str(&l->first->name, name != NULL ? name : "");
			(void)buf_append_str(&l->first->mailbox, mailbox);
			(void)buf_append_str(&l->first->host, host);
			l->found = true;
		}
		return;
	}
	w_raw(l->w, l->n++ == 0 ? "((" : "(");
	w_nstring(l->w, name != NULL && name[0] != '\0' ? name : NULL);
	w_raw(l->w, " ");
	w_nstring(l->w, adl != NULL && adl[0] != '\0' ? adl : NULL);
	w_raw(l->w, " ");
	w_nstring(l->w, mailbox);
	w_raw(l->w, " ");
	w_nstring(l->w, host);
	w_raw(l->w, ")");
}

/* domain = dot-atom / domain-literal / obs-domain, up to a delimiter. */
static void domain_read(struct alex *x, struct buf *host)
{
	struct atok t;

	(void)buf_append(host, "", 0);
	for (;;) {
		alex_peek(x, &t);
		if (t.type == ATOK_WORD || t.type == ATOK_DLITERAL || t.type == ATOK_QUOTED)
			word_append(&t, host);
		else if (t.type == ATOK_SPECIAL && t.c == '.')
			(void)buf_append_char(host, '.');
		else
			return;
		alex_next(x, &t);
	}
}

/* angle-addr after "<": [obs-route] addr-spec ">" */
static void angle_addr_read(struct alex *x, struct addr *a)
{
	struct atok t;

	alex_peek(x, &t);
	while (t.type == ATOK_SPECIAL && (t.c == '@' || t.c == ',')) {
		alex_next(x, &t);
		if (t.c == '@') {
			if (a->adl.len > 0)
				(void)buf_append_char(&a->adl, ',');
			(void)buf_append_char(&a->adl, '@');
			domain_read(x, &a->adl);
		}
		alex_peek(x, &t);
		if (t.type == ATOK_SPECIAL && t.c == ':') {
			alex_next(x, &t);
			alex_peek(x, &t);
			break;
		}
	}
	(void)buf_append(&a->mailbox, "", 0);
	for (;;) {
		alex_peek(x, &t);
		if (t.type == ATOK_WORD || t.type == ATOK_QUOTED)
			word_append(&t, &a->mailbox);
		else if (t.type == ATOK_SPECIAL && t.c == '.')
			(void)buf_append_char(&a->mailbox, '.');
		else
			break;
		alex_next(x, &t);
	}
	if (t.type == ATOK_SPECIAL && t.c == '@') {
		alex_next(x, &t);
		domain_read(x, &a->host);
		a->has_host = true;
	}
	/* skip to the closing ">" (or the end of this address) */
	for (;;) {
		alex_peek(x, &t);
		if (t.type == ATOK_END || (t.type == ATOK_SPECIAL && strchr(",;", t.c) != NULL))
			return;
		alex_next(x, &t);
		if (t.type == ATOK_SPECIAL && t.c == '>')
			return;
	}
}

static void addr_init(struct addr *a)
{
	buf_init(&a->name, 0);
	buf_init(&a->adl, 0);
	buf_init(&a->mailbox, 0);
	buf_init(&a->host, 0);
	a->has_host = false;
}

static void addr_deinit(struct addr *a)
{
	buf_deinit(&a->name);
	buf_deinit(&a->adl);
	buf_deinit(&a->mailbox);
	buf_deinit(&a->host);
}

static void addr_emit(struct addr_list *l, struct addr *a)
{
	addr_item(l, buf_cstr(&a->name), buf_cstr(&a->adl), buf_cstr(&a->mailbox),
		  a->has_host ? buf_cstr(&a->host) : "");
}

/* Reads phrase words; stops at a special other than ".". The phrase
 * (display name: words joined by one space where blanks or comments
 * separated them) and the same words as a local-part (joined as written)
 * are both kept until it is clear which. */
static void phrase_read(struct alex *x, struct addr *a, struct buf *local, struct atok *t)
{
	for (;;) {
		alex_next(x, t);
		if (t->type == ATOK_WORD || t->type == ATOK_QUOTED || t->type == ATOK_DLITERAL) {
			if (a->name.len > 0 && t->space_before)
				(void)buf_append_char(&a->name, ' ');
			word_append(t, &a->name);
			word_append(t, local);
		} else if (t->type == ATOK_SPECIAL && t->c == '.') {
			if (a->name.len > 0 && t->space_before)
				(void)buf_append_char(&a->name, ' ');
			(void)buf_append_char(&a->name, '.');
			(void)buf_append_char(local, '.');
		} else {
			return;
		}
	}
}

/* One mailbox (or, outside a group, a group). Returns the delimiter that
 * ended it: ',', ';' or 0 at the end. */
static char address_read(struct alex *x, struct addr_list *l, bool in_group);

static void group_read(struct alex *x, struct addr_list *l, const char *name)
{
	char end;

	addr_item(l, NULL, NULL, name, NULL);
	do {
		end = address_read(x, l, true);
	} while (end == ',');
	addr_item(l, NULL, NULL, NULL, NULL);
}

static char address_read(struct alex *x, struct addr_list *l, bool in_group)
{
	struct addr a;
	struct buf local;
	struct atok t;
	bool emit = false;

	addr_init(&a);
	buf_init(&local, 0);
	phrase_read(x, &a, &local, &t);
	if (t.type == ATOK_SPECIAL && t.c == ':' && !in_group) {
		group_read(x, l, buf_cstr(&a.name));
		/* the group's ";" is read; go on even if the "," is missing */
		alex_peek(x, &t);
		if (t.type == ATOK_SPECIAL && (t.c == ',' || t.c == ';'))
			alex_next(x, &t);
		addr_deinit(&a);
		buf_deinit(&local);
		return t.type == ATOK_END ? 0 : ',';
	} else if (t.type == ATOK_SPECIAL && t.c == '<') {
		angle_addr_read(x, &a);
		emit = true;
		alex_next(x, &t);
	} else if (t.type == ATOK_SPECIAL && t.c == '@') {
		buf_reset(&a.name);
		buf_reset(&a.mailbox);
		(void)buf_append(&a.mailbox, local.data, local.len);
		domain_read(x, &a.host);
		a.has_host = true;
		emit = true;
		alex_next(x, &t);
	} else if (local.len > 0) {
		buf_reset(&a.name);
		(void)buf_append(&a.mailbox, local.data, local.len);
		emit = true;
	}
	if (emit)
		addr_emit(l, &a);
	/* skip junk up to the delimiter */
	while (t.type != ATOK_END && !(t.type == ATOK_SPECIAL && (t.c == ',' || t.c == ';')))
		alex_next(x, &t);
	addr_deinit(&a);
	buf_deinit(&local);
	return t.type == ATOK_END ? 0 : t.c;
}

/* Writes the parenthesized address list of value, or nothing at all if
 * it has no address. Returns how many items were written. */
static size_t address_list_write(struct wr *w, const char *value, size_t len)
{
	struct alex x = { value, len, 0 };
	struct addr_list l = { w, 0, NULL, false };
	char end;

	do {
		end = address_read(&x, &l, false);
	} while (end != 0);
	if (l.n > 0)
		w_raw(w, ")");
	return l.n;
}

bool mime_address_first(const char *value, size_t len, struct buf *name_r,
			struct buf *mailbox_r, struct buf *host_r)
{
	struct alex x = { value, len, 0 };
	struct addr first;
	struct addr_list l = { NULL, 0, &first, false };

	addr_init(&first);
	while (!l.found && address_read(&x, &l, false) != 0)
		;
	if (l.found) {
		(void)buf_append(name_r, first.name.data, first.name.len);
		(void)buf_append(mailbox_r, first.mailbox.data, first.mailbox.len);
		(void)buf_append(host_r, first.host.data, first.host.len);
	}
	addr_deinit(&first);
	return l.found;
}

/* ---- ENVELOPE ---- */

/* Writes the address list of header field `name` or, if it has none,
 * of `fallback` (RFC 9051 7.5.2: Sender and Reply-To default to From),
 * or NIL. */
static void env_addresses(struct wr *w, const char *hdr, size_t hlen, const char *name,
			  const char *fallback)
{
	struct buf v;

	buf_init(&v, 0);
	if (mime_header_get(hdr, hlen, name, 0, &v) && address_list_write(w, v.data, v.len) > 0) {
		buf_deinit(&v);
		return;
	}
	buf_reset(&v);
	if (fallback != NULL && mime_header_get(hdr, hlen, fallback, 0, &v) &&
	    address_list_write(w, v.data, v.len) > 0) {
		buf_deinit(&v);
		return;
	}
	w_raw(w, "NIL");
	buf_deinit(&v);
}

static void env_nstring(struct wr *w, const char *hdr, size_t hlen, const char *name)
{
	struct buf v;

	buf_init(&v, 0);
	if (mime_header_get(hdr, hlen, name, 0, &v))
		w_string(w, buf_cstr(&v), v.len);
	else
		w_raw(w, "NIL");
	buf_deinit(&v);
}

static void envelope_write(struct wr *w, const char *msg, const struct mime_part *part)
{
	const char *hdr = msg + part->start;
	size_t hlen = part->header_len;

	w_raw(w, "(");
	env_nstring(w, hdr, hlen, "date");
	w_raw(w, " ");
	env_nstring(w, hdr, hlen, "subject");
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "from", NULL);
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "sender", "from");
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "reply-to", "from");
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "to", NULL);
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "cc", NULL);
	w_raw(w, " ");
	env_addresses(w, hdr, hlen, "bcc", NULL);
	w_raw(w, " ");
	env_nstring(w, hdr, hlen, "in-reply-to");
	w_raw(w, " ");
	env_nstring(w, hdr, hlen, "message-id");
	w_raw(w, ")");
}

int mime_envelope(const char *msg, size_t len, const struct mime_part *part, struct buf *out)
{
	struct wr w = { out, 0 };

	envelope_write(&w, msg, part);
	return w.err != 0 ? -1 : 0;
}

/* ---- BODY / BODYSTRUCTURE ---- */

/* body-fld-param; with_charset puts the RFC 2045 5.2 default charset
 * first, for a text part that names none. */
static void params_write(struct wr *w, const struct mime_param *params, size_t n,
			 bool with_charset)
{
	size_t i;

	if (n == 0 && !with_charset) {
		w_raw(w, "NIL");
		return;
	}
	w_raw(w, with_charset ? "(\"CHARSET\" \"US-ASCII\"" : "(");
	for (i = 0; i < n; i++) {
		char name[128];

		if (i > 0 || with_charset)
			w_raw(w, " ");
		/* RFC 9051 7.5.2: a charset-decoded value is returned as "name*" */
		if (snprintf(name, sizeof(name), "%s%s", params[i].name,
			     params[i].extended ? "*" : "") >= (int)sizeof(name))
			w_string(w, params[i].name, strlen(params[i].name));
		else
			w_upper(w, name);
		w_raw(w, " ");
		w_string(w, params[i].value, strlen(params[i].value));
	}
	w_raw(w, ")");
}

/* body-fld-lang: nstring / "(" string *(SP string) ")"; the header is a
 * comma-separated list of tags (RFC 3282). */
static void language_write(struct wr *w, const char *lang)
{
	const char *p = lang, *tags[16];
	size_t lens[16], n = 0, i;

	while (p != NULL && *p != '\0' && n < ARRAY_SIZE(tags)) {
		size_t l;

		p += strspn(p, " \t,");
		l = strcspn(p, " \t,(");
		if (l > 0) {
			tags[n] = p;
			lens[n++] = l;
		}
		p += l;
		if (*p == '(')
			p += strcspn(p, ")");
		if (*p != '\0')
			p++;
	}
	if (n == 0) {
		w_raw(w, "NIL");
	} else if (n == 1) {
		w_string(w, tags[0], lens[0]);
	} else {
		w_raw(w, "(");
		for (i = 0; i < n; i++) {
			if (i > 0)
				w_raw(w, " ");
			w_string(w, tags[i], lens[i]);
		}
		w_raw(w, ")");
	}
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void ext_common_write(struct wr *w, const struct mime_part *p)
{
	w_raw(w, " ");
	if (p->disposition != NULL) {
		w_raw(w, "(");
		w_upper(w, p->disposition);
		w_raw(w, " ");
		params_write(w, p->disp_params, p->n_disp_params, false);
		w_raw(w, ")");
	} else {
		w_raw(w, "NIL");
	}
	w_raw(w, " ");
	language_write(w, p->language);
	w_raw(w, " ");
	w_nstring(w, p->location);
}

/* A multipart without any part still needs 1*body (RFC 9051 9): write an
 * empty text part, as Dovecot does. */
static void empty_body_write(struct wr *w, bool extended)
{
	w_raw(w, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0");
	w_raw(w, extended ? " NIL NIL NIL NIL)" : ")");
}

static void body_write(struct wr *w, const char *msg, const struct mime_part *p,
		       bool extended);

static void body_mpart_write(struct wr *w, const char *msg, const struct mime_part *p,
			     bool extended)
{
	size_t i;

	w_raw(w, "(");
	for (i = 0; i < p->n_children; i++)
		body_write(w, msg, &p->children[i], extended);
	if (p->n_children == 0)
		empty_body_write(w, extended);
	w_raw(w, " ");
	w_upper(w, p->subtype);
	if (extended) {
		w_raw(w, " ");
		params_write(w, p->params, p->n_params, false);
		ext_common_write(w, p);
	}
	w_raw(w, ")");
}

/* body-fields = param SP id SP desc SP enc SP octets */
static void body_fields_write(struct wr *w, const struct mime_part *p)
{
	bool text = strcmp(p->type, "text") == 0;

	w_upper(w, p->type);
	w_raw(w, " ");
	w_upper(w, p->subtype);
	w_raw(w, " ");
	/* RFC 2045 5.2: text without a charset is us-ascii. Saying so
	 * explicitly is what Dovecot and Cyrus do, and spares clients the
	 * guess. */
	params_write(w, p->params, p->n_params, text && mime_part_param(p, "charset") == NULL);
	w_raw(w, " ");
	w_nstring(w, p->id);
	w_raw(w, " ");
	w_nstring(w, p->description);
	w_raw(w, " ");
	w_upper(w, p->encoding != NULL ? p->encoding : "7bit");
	w->err |= buf_printf(w->out, " %zu", p->body_len);
}

static void body_write(struct wr *w, const char *msg, const struct mime_part *p,
		       bool extended)
{
	if (mime_part_is_multipart(p)) {
		body_mpart_write(w, msg, p, extended);
		return;
	}
	w_raw(w, "(");
	body_fields_write(w, p);
	if (mime_part_is_message(p)) {
		w_raw(w, " ");
		if (p->message != NULL) {
			envelope_write(w, msg, p->message);
			w_raw(w, " ");
			body_write(w, msg, p->message, extended);
		} else {
			/* past max_depth or not parseable: still the grammar's shape */
			w_raw(w, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ");
			empty_body_write(w, extended);
		}
		w->err |= buf_printf(w->out, " %zu", p->body_lines);
	} else if (strcmp(p->type, "text") == 0) {
		w->err |= buf_printf(w->out, " %zu", p->body_lines);
	}
	if (extended) {
		w_raw(w, " ");
		w_nstring(w, p->md5);
		ext_common_write(w, p);
	}
	w_raw(w, ")");
}

int mime_bodystructure(const char *msg, size_t len, const struct mime_part *root,
		       bool extended, struct buf *out)
{
	struct wr w = { out, 0 };

	body_write(&w, msg, root, extended);
	return w.err != 0 ? -1 : 0;
}
