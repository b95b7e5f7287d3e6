/*
 * FETCH attribute and modifier parsing, and the response names of the
 * items. The contract is in imap_fetch.h.
 */
#include "imap/imap_fetch.h"
#include "imap/imap_grammar.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

struct simple_att {
	const char *name;
	enum imap_fetch_att att;
};

static const struct simple_att simple_atts[] = {
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822", IMAP_FETCH_RFC822 },
	{ "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT },
	{ "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
};

/* RFC 9051 6.4.5: the macros, valid only on their own. */
static const enum imap_fetch_att macro_fast[] = {
	IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE, IMAP_FETCH_RFC822_SIZE,
};

static void section_free(struct imap_section *s)
{
	free(s->fields);
	s->fields = NULL;
	s->nfields = 0;
}

void imap_fetch_deinit(struct imap_fetch *f)
{
	unsigned i;

	for (i = 0; i < f->count; i++)
		section_free(&f->items[i].section);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

/* header-fld-name = astring, and a field name (RFC 5322 2.2: printable
 * US-ASCII but ":"). */
static bool is_field_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ':')
			return false;
	return len > 0;
}

static int parse_header_list(struct imap_cursor *cur, struct imap_section *s)
{
	const struct imap_arg *list = imap_arg_peek(cur);
	unsigned i = 0;

	if (list == NULL || list->type != IMAP_ARG_LIST || list->subtree == 0)
		return imap_cursor_fail(cur, "HEADER.FIELDS needs a list of field names");
	/* subtree bounds the names: a nested list inside fails below */
	s->fields = xcalloc(list->subtree, sizeof(*s->fields));
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		struct imap_header_name *h = &s->fields[i];

		if (imap_arg_astring(cur, &h->name, &h->len) < 0)
			return imap_cursor_fail(cur, "Invalid header field name");
		if (!is_field_name(h->name, h->len))
			return imap_cursor_fail(cur, "Invalid header field name");
		s->nfields = ++i;
	}
	return imap_arg_list_leave(cur);
}

/* "1.2.3" then the text part: the part numbers are consumed from *p. */
static int parse_parts(const char **p, const char *end, struct imap_section *s)
{
	while (*p < end && **p >= '0' && **p <= '9') {
		const char *dot = memchr(*p, '.', (size_t)(end - *p));
		const char *stop = dot != NULL ? dot : end;

		if (s->nparts >= IMAP_SECTION_PARTS_MAX ||
		    imap_parse_nz_number(*p, (size_t)(stop - *p), &s->part[s->nparts]) < 0)
			return -1;
		s->nparts++;
		if (dot == NULL) {
			*p = end;
			return 0;
		}
		*p = dot + 1;
		if (*p == end)
			return -1;	/* "1." */
	}
	return 0;
}

static int parse_section_text(const char *t, size_t len, struct imap_section *s)
{
	if (len == 0)
		s->text = IMAP_SECTION_ALL;
	else if (mem_equal_ci(t, len, "HEADER"))
		s->text = IMAP_SECTION_HEADER;
	else if (mem_equal_ci(t, len, "HEADER.FIELDS"))
		s->text = IMAP_SECTION_HEADER_FIELDS;
	else if (mem_equal_ci(t, len, "HEADER.FIELDS.NOT"))
		s->text = IMAP_SECTION_HEADER_FIELDS_NOT;
	else if (mem_equal_ci(t, len, "TEXT"))
		s->text = IMAP_SECTION_TEXT;
	else if (mem_equal_ci(t, len, "MIME") && s->nparts > 0)
		s->text = IMAP_SECTION_MIME;	/* section-text after a part only */
	else
		return -1;
	return 0;
}

static int section_spec(struct imap_cursor *cur, bool binary, struct imap_section *s)
{
	const char *spec, *p, *end;
	size_t len;

	if (imap_arg_at_end(cur))
		return 0;	/* "[]": the whole message */
	if (imap_arg_atom(cur, &spec, &len) < 0)
		return imap_cursor_fail(cur, "Invalid section");
	p = spec;
	end = spec + len;
	if (parse_parts(&p, end, s) < 0)
		return imap_cursor_fail(cur, "Invalid section part number");
	if (binary && p != end)
		return imap_cursor_fail(cur, "BINARY takes only part numbers");
	if (parse_section_text(p, (size_t)(end - p), s) < 0)
		return imap_cursor_fail(cur, "Invalid section");
	if (s->text == IMAP_SECTION_HEADER_FIELDS || s->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
		if (parse_header_list(cur, s) < 0)
			return -1;
	}
	return imap_arg_end(cur);
}

int imap_section_parse(const struct imap_arg *section_arg, bool binary, struct imap_section *s,
		       const char **error_r)
{
	struct imap_cursor cur;

	memset(s, 0, sizeof(*s));
	imap_cursor_init_children(&cur, section_arg);
	if (section_spec(&cur, binary, s) < 0) {
		section_free(s);
		*error_r = cur.error;
		return -1;
	}
	return 0;
}

/* "<" number64 "." nz-number64 ">" (RFC 9051 9 partial). */
static int parse_partial(const char *s, size_t len, struct imap_fetch_item *item)
{
	const char *dot;

	if (len == 0)
		return 0;
	if (len < 5 || s[0] != '<' || s[len - 1] != '>')
		return -1;
	dot = memchr(s, '.', len);
	if (dot == NULL ||
	    imap_parse_number64(s + 1, (size_t)(dot - s - 1), &item->offset) < 0 ||
	    imap_parse_number64(dot + 1, (size_t)(s + len - 1 - dot - 1), &item->count) < 0 ||
	    item->count == 0 || dot[1] == '0')
		return -1;
	item->partial = true;
	return 0;
}

static int parse_section_att(struct imap_cursor *cur, const struct imap_arg *a,
			     struct imap_fetch_item *item)
{
	const char *error;
	bool binary = true;

	if (mem_equal_ci(a->data, a->len, "BODY") || mem_equal_ci(a->data, a->len, "BODY.PEEK")) {
		item->att = IMAP_FETCH_BODY_SECTION;
		item->peek = a->len == 9;
		binary = false;
	} else if (mem_equal_ci(a->data, a->len, "BINARY.SIZE")) {
		item->att = IMAP_FETCH_BINARY_SIZE;
	} else {
		item->att = IMAP_FETCH_BINARY;
		item->peek = a->len == 11;
	}
	if (imap_section_parse(a, binary, &item->section, &error) < 0)
		return imap_cursor_fail(cur, error);
	if (item->att == IMAP_FETCH_BINARY_SIZE && a->suffix_len > 0)
		return imap_cursor_fail(cur, "BINARY.SIZE takes no partial");
	if (parse_partial(a->suffix, a->suffix_len, item) < 0)
		return imap_cursor_fail(cur, "Invalid partial <offset.count>");
	return 0;
}

static int parse_att(struct imap_cursor *cur, struct imap_fetch_item *item)
{
	const struct imap_arg *a;
	size_t i;

	memset(item, 0, sizeof(*item));
	if (imap_arg_next(cur, &a) < 0)
		return -1;
	if (a->type == IMAP_ARG_SECTION)
		return parse_section_att(cur, a, item);
	if (a->type == IMAP_ARG_ATOM) {
		for (i = 0; i < ARRAY_SIZE(simple_atts); i++) {
			if (mem_equal_ci(a->data, a->len, simple_atts[i].name)) {
				item->att = simple_atts[i].att;
				return 0;
			}
		}
	}
	return imap_cursor_fail(cur, "Unknown FETCH attribute");
}

static int parse_macro(const struct imap_arg *a, struct imap_fetch *f)
{
	size_t i, n = ARRAY_SIZE(macro_fast);
	bool all = mem_equal_ci(a->data, a->len, "ALL");
	bool full = mem_equal_ci(a->data, a->len, "FULL");

	if (!all && !full && !mem_equal_ci(a->data, a->len, "FAST"))
		return 0;
	f->items = xcalloc(n + 2, sizeof(*f->items));
	for (i = 0; i < n; i++)
		f->items[f->count++].att = macro_fast[i];
	if (all || full)
		f->items[f->count++].att = IMAP_FETCH_ENVELOPE;
	if (full)
		f->items[f->count++].att = IMAP_FETCH_BODY;
	return 1;
}

static int parse_atts(struct imap_cursor *cur, struct imap_fetch *f)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	int ret;

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing FETCH attributes");
	if (a->type == IMAP_ARG_ATOM && (ret = parse_macro(a, f)) != 0)
		return imap_arg_next(cur, &a);
	if (a->type != IMAP_ARG_LIST) {
		f->items = xcalloc(1, sizeof(*f->items));
		f->count = 1;
		return parse_att(cur, &f->items[0]);
	}
	if (a->subtree == 0)
		return imap_cursor_fail(cur, "Empty FETCH attribute list");
	/* one item per token at most */
	f->items = xcalloc(a->subtree, sizeof(*f->items));
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (parse_att(cur, &f->items[f->count]) < 0) {
			f->count++;	/* free its section fields too */
			return -1;
		}
		f->count++;
	}
	return imap_arg_list_leave(cur);
}

/* fetch-modifier list of RFC 7162 3.1.4.1 / 3.2.6. */
static int parse_modifiers(struct imap_cursor *cur, bool uid, struct imap_fetch *f)
{
	if (imap_arg_at_end(cur))
		return 0;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (imap_arg_keyword(cur, "CHANGEDSINCE") && !f->changedsince) {
			f->changedsince = true;
			if (imap_arg_number64(cur, &f->changedsince_modseq) < 0)
				return -1;
		} else if (imap_arg_keyword(cur, "VANISHED") && !f->vanished) {
			f->vanished = true;
		} else {
			return imap_cursor_fail(cur, "Unknown or repeated FETCH modifier");
		}
	}
	if (imap_arg_list_leave(cur) < 0)
		return -1;
	if (f->vanished && (!uid || !f->changedsince))
		return imap_cursor_fail(cur, "VANISHED needs UID FETCH and CHANGEDSINCE");
	return imap_arg_end(cur);
}

int imap_fetch_parse(struct imap_cursor *cur, bool uid, struct imap_fetch *f)
{
	memset(f, 0, sizeof(*f));
	if (parse_atts(cur, f) < 0 || parse_modifiers(cur, uid, f) < 0) {
		imap_fetch_deinit(f);
		return -1;
	}
	return 0;
}

static const char *section_text_name(enum imap_section_text t)
{
	switch (t) {
	case IMAP_SECTION_HEADER:
		return "HEADER";
	case IMAP_SECTION_HEADER_FIELDS:
		return "HEADER.FIELDS";
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		return "HEADER.FIELDS.NOT";
	case IMAP_SECTION_TEXT:
		return "TEXT";
	case IMAP_SECTION_MIME:
		return "MIME";
	case IMAP_SECTION_ALL:
		break;
	}
	return "";
}

static int section_name(const struct imap_section *s, struct buf *out)
{
	unsigned i;
	int ret = buf_append_char(out, '[');

	for (i = 0; i < s->nparts && ret == 0; i++)
		ret = buf_printf(out, "%s%u", i ? "." : "", s->part[i]);
	if (s->text != IMAP_SECTION_ALL && ret == 0)
		ret = buf_printf(out, "%s%s", s->nparts ? "." : "", section_text_name(s->text));
	if (s->nfields > 0 && ret == 0) {
		ret = buf_append_str(out, " (");
		for (i = 0; i < s->nfields && ret == 0; i++) {
			if (i > 0)
				ret = buf_append_char(out, ' ');
			if (ret == 0)
				ret = imap_write_astring(out, s->fields[i].name, s->fields[i].len, false);
		}
		if (ret == 0)
			ret = buf_append_char(out, ')');
	}
	return ret < 0 ? -1 : buf_append_char(out, ']');
}

int imap_fetch_item_name(const struct imap_fetch_item *item, struct buf *out)
{
	size_t i;
	int ret;

	switch (item->att) {
	case IMAP_FETCH_BODY_SECTION:
		ret = buf_append_str(out, "BODY");
		break;
	case IMAP_FETCH_BINARY:
		ret = buf_append_str(out, "BINARY");
		break;
	case IMAP_FETCH_BINARY_SIZE:
		ret = buf_append_str(out, "BINARY.SIZE");
		break;
	default:
		for (i = 0; i < ARRAY_SIZE(simple_atts); i++)
			if (simple_atts[i].att == item->att)
				return buf_append_str(out, simple_atts[i].name);
		return -1;
	}
	if (ret < 0 || section_name(&item->section, out) < 0)
		return -1;
	if (item->partial)
		return buf_printf(out, "<%llu>", (unsigned long long)item->offset);
	return 0;
}
