/*
 * Internal glue between the command reader (imap_reader.c) and the
 * tokenizer (imap_parse.c): where the literals of an assembled command sit
 * in the reader's buffer. Not part of the IMAP parser API.
 */
#ifndef TERN_IMAP_TOKENIZE_H
#define TERN_IMAP_TOKENIZE_H

#include "imap/imap_parse.h"

struct imap_lit_span {
	size_t offset;		/* where its bytes start: the line before it
				 * ends here, with the "{n}" announcement */
	size_t len;		/* bytes in the buffer (0 when external) */
	uint64_t size;		/* announced size */
	bool binary;
	bool external;
	unsigned ext_index;
};

/* Tokenizes data[0..len), whose line segments are separated by the
 * literals in lits[0..nlits). Rewrites quoted strings in place. */
int imap_tokenize(const struct imap_limits *limits, char *data, size_t len,
		  const struct imap_lit_span *lits, unsigned nlits, struct imap_args *args,
		  struct imap_command *cmd_r, const char **error_r);

/* Recognizes a literal announcement "{n}", "{n+}", "~{n}" or "~{n+}" that
 * ends line[0..len). Returns 1 with its parts and *start_r (where it
 * begins), 0 if the line does not end with one, -1 if it does but n is
 * not a number64 (too many digits, > 2^63 - 1). */
int imap_literal_suffix(const char *line, size_t len, uint64_t *size_r, bool *sync_r,
			bool *binary_r, size_t *start_r);

#endif
