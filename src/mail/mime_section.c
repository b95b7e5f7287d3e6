/*
 * FETCH BODY[section] (RFC 9051 6.4.5): maps a section spec onto byte
 * ranges of the message, or onto filtered header lines for HEADER.FIELDS.
 * Part numbers walk the tree as the RFC describes: every part of a
 * multipart has a number, a non-multipart message has exactly part 1 (its
 * body), and numbers after a message/rfc822 part count the parts of the
 * encapsulated message. A section naming no existing part is "not found",
 * for which the server returns an empty string.
 */
#include "mail/mime.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Part number n of message m: a child of a multipart, else only 1. */
static const struct mime_part *message_part(const struct mime_part *m, unsigned long n)
{
	if (mime_part_is_multipart(m))
		return n <= m->n_children ? &m->children[n - 1] : NULL;
	return n == 1 ? m : NULL;
}

/* One step down from part (NULL: the top-level message). */
static const struct mime_part *part_step(const struct mime_part *root,
					 const struct mime_part *part, unsigned long n)
{
	if (part == NULL)
		return message_part(root, n);
	if (part->message != NULL)
		return message_part(part->message, n);
	if (mime_part_is_multipart(part))
		return n <= part->n_children ? &part->children[n - 1] : NULL;
	return NULL;
}

/* Walks the leading part numbers of section. Sets *part_r (NULL: none
 * given) and returns the rest (after the "."), or NULL if a part is
 * missing or the syntax is wrong. */
static const char *numbers_walk(const struct mime_part *root, const char *s,
				const struct mime_part **part_r)
{
	const struct mime_part *part = NULL;

	while (isdigit((unsigned char)*s)) {
		unsigned long n = 0;

		if (*s == '0')
			return NULL;	/* nz-number */
		while (isdigit((unsigned char)*s)) {
			if (n > 1000000)
				return NULL;
			n = n * 10 + (unsigned long)(*s++ - '0');
		}
		part = part_step(root, part, n);
		if (part == NULL)
			return NULL;
		if (*s == '\0')
			break;
		if (*s != '.' || s[1] == '\0')
			return NULL;
		s++;
	}
	*part_r = part;
	return s;
}

const struct mime_part *mime_part_find(const struct mime_part *root, const char *number)
{
	const struct mime_part *part;
	const char *rest = numbers_walk(root, number, &part);

	if (rest == NULL || *rest != '\0')
		return NULL;
	return part != NULL ? part : root;
}

static bool field_listed(const struct mime_field *f, const char *const *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fields[i] != NULL && mem_equal_ci(f->name, f->name_len, fields[i]))
			return true;
	}
	return false;
}

/* RFC 9051 6.4.5 HEADER.FIELDS[.NOT]: the matching header lines as they
 * are, then the blank line that ends a header. */
static int header_filter(const char *hdr, size_t len, const char *const *fields, size_t n,
			 bool not, struct buf *out)
{
	struct mime_field f;
	size_t pos = 0;
	int ret = buf_append(out, "", 0);

	while (mime_header_next(hdr, len, &pos, &f)) {
		if (field_listed(&f, fields, n) == not)
			continue;
		ret |= buf_append(out, f.line, f.line_len);
		if (f.line[f.line_len - 1] != '\n')
			ret |= buf_append(out, "\r\n", 2);
	}
	return ret | buf_append(out, "\r\n", 2);
}

int mime_section_find(const char *msg, size_t len, const struct mime_part *root,
		      const char *section, const char *const *fields, size_t n_fields,
		      struct buf *filtered, size_t *off_r, size_t *len_r, bool *filtered_r)
{
	const struct mime_part *part, *m;
	const char *rest = numbers_walk(root, section, &part);

	*filtered_r = false;
	if (rest == NULL)
		return -1;
	if (*rest == '\0') {
		*off_r = part != NULL ? part->body_start : 0;
		*len_r = part != NULL ? part->body_len : len;
		return 0;
	}
	if (strcasecmp(rest, "MIME") == 0) {
		if (part == NULL)
			return -1;
		*off_r = part->start;
		*len_r = part->header_len;
		return 0;
	}
	/* HEADER and TEXT need the top level or a message/rfc822 part */
	m = part == NULL ? root : part->message;
	if (m == NULL)
		return -1;
	if (strcasecmp(rest, "TEXT") == 0) {
		*off_r = m->body_start;
		*len_r = m->body_len;
		return 0;
	}
	*off_r = m->start;
	*len_r = m->header_len;
	if (strcasecmp(rest, "HEADER") == 0)
		return 0;
	if (strcasecmp(rest, "HEADER.FIELDS") != 0 && strcasecmp(rest, "HEADER.FIELDS.NOT") != 0)
		return -1;
	*filtered_r = true;
	return header_filter(msg + m->start, m->header_len, fields, n_fields,
			     strcasecmp(rest, "HEADER.FIELDS.NOT") == 0, filtered);
}
