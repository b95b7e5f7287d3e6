/*
 * IMAP sequence sets (RFC 9051 9 sequence-set, RFC 5182 "$"): parsed into
 * ranges, then resolved against the mailbox ("*" is the largest message
 * number or UID in use) into a sorted list of disjoint ranges that answers
 * contains/count/iterate. The same type builds the sets a server sends back
 * (COPYUID/APPENDUID of RFC 4315, VANISHED of RFC 7162, ESEARCH ALL of RFC
 * 4731), which imap_seqset_format() writes compactly.
 */
#ifndef TERN_IMAP_SEQSET_H
#define TERN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "imap/imap_parse.h"

/* lo <= hi after resolve; before it, 0 stands for "*". */
struct imap_range {
	uint32_t lo;
	uint32_t hi;
};

struct imap_seqset {
	struct imap_range *ranges;	/* owned */
	unsigned count;
	unsigned cap;
	unsigned max_ranges;		/* adding more fails */
	bool saved;			/* "$": the saved search result; no ranges */
	bool star;			/* a "*" was parsed */
};

/* max_ranges bounds what parse and add may store (0: no bound). */
void imap_seqset_init(struct imap_seqset *set, unsigned max_ranges);
void imap_seqset_deinit(struct imap_seqset *set);
void imap_seqset_clear(struct imap_seqset *set);

/* Parses s[0..len) and appends its ranges, unresolved. "$" alone sets
 * saved (RFC 5182 does not combine it with numbers). Rejects 0, leading
 * zeros, numbers above 2^32 - 1, empty elements and more than max_ranges
 * ranges. Returns 0 or -1 with a BAD text in *error_r (set left empty). */
int imap_seqset_parse(struct imap_seqset *set, const char *s, size_t len, const char **error_r);

/* Cursor form: the next argument must be an atom holding a sequence set. */
int imap_arg_seqset(struct imap_cursor *cur, struct imap_seqset *set);

/* Appends lo:hi as given (either order); -1 past max_ranges. */
int imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi);

/* Replaces "*" with max (RFC 9051 9: n:* with n > max is max:n), orders
 * each range, drops what is empty (max 0: "*" alone matches nothing), then
 * sorts and merges overlapping and adjacent ranges. Needed before
 * contains/count/iterate; harmless to repeat. Without "*", max is unused. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t max);

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t value);
uint64_t imap_seqset_count(const struct imap_seqset *set);
uint32_t imap_seqset_min(const struct imap_seqset *set);	/* 0 if empty */
uint32_t imap_seqset_max(const struct imap_seqset *set);	/* 0 if empty */

/* Iterates the values in range order:
 *	imap_seqset_iter_init(&it);
 *	while (imap_seqset_next(set, &it, &v)) ... */
struct imap_seqset_iter {
	unsigned range;
	uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *it);
bool imap_seqset_next(const struct imap_seqset *set, struct imap_seqset_iter *it, uint32_t *value_r);

/* Appends "1:5,7,9:12" for the ranges as stored (resolved or built with
 * imap_seqset_add; "n:n" is written "n", an unresolved "*" as "*").
 * Returns -1 if out is full. An empty set writes nothing. */
int imap_seqset_format(const struct imap_seqset *set, struct buf *out);

#endif
