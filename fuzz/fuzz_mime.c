/*
 * libFuzzer target for the MIME parser and everything built on its tree
 * (src/mail/mime*.c): parse with small limits, then render ENVELOPE, BODY
 * and BODYSTRUCTURE, look up every section of every part, decode every
 * part, extract search text and summarize. Checks that every part's
 * ranges lie inside its parent's and the message's, and that each IMAP
 * rendering is well-formed: balanced parentheses outside strings, quoted
 * strings closed, literals exactly as long as announced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "mail/mime.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks an IMAP rendering: strings, literals, parentheses. */
static void check_imap(const char *s, size_t len)
{
	size_t i = 0, depth = 0;

	while (i < len) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				CHECK(s[i] != '\r' && s[i] != '\n' && (unsigned char)s[i] < 0x80);
				if (s[i] == '\\')
					i++;
			}
			CHECK(i < len);
			i++;
		} else if (c == '{') {
			char *end;
			unsigned long n = strtoul(s + i + 1, &end, 10);

			CHECK(end[0] == '}' && end[1] == '\r' && end[2] == '\n');
			i = (size_t)(end - s) + 3;
			CHECK(n <= len - i && memchr(s + i, '\0', n) == NULL);
			i += n;
		} else {
			if (c == '(')
				depth++;
			if (c == ')') {
				CHECK(depth > 0);
				depth--;
			}
			CHECK(c != '\r' && c != '\n');
			i++;
		}
	}
	CHECK(depth == 0);
}

static void check_sections(const char *msg, size_t len, const struct mime_part *root,
			   const char *number)
{
	static const char *const suffixes[] = { "", "MIME", "HEADER", "TEXT", "HEADER.FIELDS",
						"HEADER.FIELDS.NOT" };
	static const char *const fields[] = { "from", "Subject", "content-type" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		char section[256];
		struct buf filtered;
		size_t off = 0, n = 0;
		bool f;

		snprintf(section, sizeof(section), "%s%s%s", number,
			 number[0] != '\0' && suffixes[i][0] != '\0' ? "." : "", suffixes[i]);
		buf_init(&filtered, 0);
		if (mime_section_find(msg, len, root, section, fields, ARRAY_SIZE(fields),
				      &filtered, &off, &n, &f) == 0) {
			CHECK(off <= len && n <= len - off);
			if (f)
				CHECK(filtered.len >= 2 && memcmp(filtered.data + filtered.len - 2, "\r\n", 2) == 0);
		}
		buf_deinit(&filtered);
	}
}

/* Recursively checks ranges and exercises every part; number is the
 * part's IMAP part number ("" for the root). */
static void check_part(const char *msg, size_t len, const struct mime_part *root,
		       const struct mime_part *p, size_t lo, size_t hi, const char *number,
		       unsigned depth)
{
	struct buf b;
	size_t i;

	CHECK(p->start >= lo && p->start <= hi && p->body_start == p->start + p->header_len);
	CHECK(p->body_start <= hi && p->body_len <= hi - p->body_start);
	CHECK(p->type != NULL && p->subtype != NULL && depth < 64);
	CHECK(mime_part_find(root, number) != NULL);
	check_sections(msg, len, root, number);
	buf_init(&b, 0);
	(void)mime_decode_body(p->encoding, msg + p->body_start, p->body_len, &b);
	buf_deinit(&b);
	for (i = 0; i < p->n_children; i++) {
		char child[256];

		snprintf(child, sizeof(child), "%s%s%zu", number, number[0] ? "." : "", i + 1);
		check_part(msg, len, root, &p->children[i], p->body_start,
			   p->body_start + p->body_len, child, depth + 1);
	}
	if (p->message != NULL) {
		buf_init(&b, 0);
		CHECK(mime_envelope(msg, len, p->message, &b) == 0);
		check_imap(b.data, b.len);
		buf_deinit(&b);
		/* The parts of an encapsulated multipart are <number>.n; an
		 * encapsulated non-multipart is itself <number>.1 (and a
		 * non-multipart root is part 1). */
		char sub[256];
		const char *own = number[0] != '\0' ? number : "1";

		if (mime_part_is_multipart(p->message))
			snprintf(sub, sizeof(sub), "%s", own);
		else
			snprintf(sub, sizeof(sub), "%s.1", own);
		check_part(msg, len, root, p->message, p->body_start, p->body_start + p->body_len,
			   sub, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim = { 8, 200, 200 };
	struct mime_part *root;
	struct mime_summary sum;
	struct buf a, b;
	char *msg;

	if (size > 64 * 1024)
		return 0;
	msg = xmalloc(size ? size : 1);
	memcpy(msg, data, size);
	CHECK(mime_parse(msg, size, &lim, &root) == 0 && root != NULL);
	CHECK(root->start == 0 && root->body_start + root->body_len == size);
	check_part(msg, size, root, root, 0, size, "", 0);
	buf_init(&a, 0);
	CHECK(mime_envelope(msg, size, root, &a) == 0);
	check_imap(a.data, a.len);
	buf_reset(&a);
	CHECK(mime_bodystructure(msg, size, root, true, &a) == 0);
	check_imap(a.data, a.len);
	buf_reset(&a);
	CHECK(mime_bodystructure(msg, size, root, false, &a) == 0);
	check_imap(a.data, a.len);
	buf_reset(&a);
	buf_init(&b, 0);
	CHECK(mime_extract_text(msg, size, root, &a, &b, 4096) == 0);
	CHECK(a.len <= 4096 && b.len <= 4096);
	buf_deinit(&a);
	buf_deinit(&b);
	mime_part_free(&root);
	CHECK(root == NULL);
	CHECK(mime_summarize(msg, size, &lim, &sum) == 0);
	CHECK(sum.envelope != NULL && sum.bodystructure != NULL && sum.base_subject != NULL);
	mime_summary_free(&sum);
	free(msg);
	return 0;
}
