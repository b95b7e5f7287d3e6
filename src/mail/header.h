/*
 * RFC 5322 header blocks: finding where the header ends, walking its
 * fields, and extracting the addr-specs of an address-list (From, To, Cc,
 * Bcc). Pure functions, no I/O, fuzzed by fuzz/fuzz_header.c. Lines may
 * end in CRLF or in a bare LF (the sendmail command reads LF text); field
 * values are returned raw, folding included.
 */
#ifndef TERN_MAIL_HEADER_H
#define TERN_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

struct header_field {
	const char *name;	/* borrowed from the block */
	size_t name_len;
	const char *value;	/* after the colon, up to (not incl.) the final line end */
	size_t value_len;
	size_t start, end;	/* the whole field, line end included */
};

/* Incremental search for the end of a header block in data[0..len).
 * *pos is where to resume (start at 0; it stays at the start of the last
 * incomplete line). The block ends at an empty line (the body starts just
 * past it) or at the first line that is neither a field nor a
 * continuation (the body starts at that line, as Postfix's cleanup
 * decides). Returns 1 with *body_r set, or 0 if the end is not in data. */
int header_block_end(const char *data, size_t len, size_t *pos, size_t *body_r);

/* Walks the fields of a header block hdr[0..len) (as delimited by
 * header_block_end). Start with *pos = 0. Returns 1 with the next field,
 * 0 at the end of the block. */
int header_next(const char *hdr, size_t len, size_t *pos, struct header_field *f);

/* True if the field's name is name (ASCII case-insensitive). */
bool header_is(const struct header_field *f, const char *name);

/* Receives one addr-spec "local@domain": the local part without quoting,
 * the domain as written. Return 0 to go on, -1 to stop the parse. */
typedef int header_addr_fn(void *ctx, const char *addr, size_t len);

/* Parses an RFC 5322 address-list (3.4; groups, comments, quoted strings,
 * obsolete routes and empty list elements allowed) and calls fn for each
 * addr-spec. Returns the number of addresses, or -1 with *error_r set when
 * the syntax is wrong or fn stopped the parse. */
int header_addresses(const char *value, size_t len, header_addr_fn *fn, void *ctx,
		     const char **error_r);

#endif
