/*
 * Sequence sets: parsing, resolution of "*", normalization, queries and
 * compact formatting. The contract is in imap_seqset.h.
 */
#include "imap/imap_seqset.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

void imap_seqset_init(struct imap_seqset *set, unsigned max_ranges)
{
	memset(set, 0, sizeof(*set));
	set->max_ranges = max_ranges ? max_ranges : UINT32_MAX;
}

void imap_seqset_deinit(struct imap_seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = set->cap = 0;
}

void imap_seqset_clear(struct imap_seqset *set)
{
	set->count = 0;
	set->saved = false;
	set->star = false;
}

static int add_raw(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (set->count >= set->max_ranges)
		return -1;
	if (set->count == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		if (set->cap > set->max_ranges)
			set->cap = set->max_ranges;
		set->ranges = xrealloc(set->ranges, (size_t)set->cap * sizeof(*set->ranges));
	}
	set->ranges[set->count].lo = lo;
	set->ranges[set->count].hi = hi;
	set->count++;
	return 0;
}

int imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	return lo <= hi ? add_raw(set, lo, hi) : add_raw(set, hi, lo);
}

/* seq-number = nz-number / "*"; "*" is stored as 0. */
static int parse_seq_number(const char *s, size_t len, uint32_t *v_r, bool *star_r)
{
	if (len == 1 && s[0] == '*') {
		*v_r = 0;
		*star_r = true;
		return 0;
	}
	return imap_parse_nz_number(s, len, v_r);
}

static int parse_element(struct imap_seqset *set, const char *s, size_t len,
			 const char **error_r)
{
	const char *colon = memchr(s, ':', len);
	uint32_t lo, hi;

	if (len == 0) {
		*error_r = "Empty element in sequence set";
		return -1;
	}
	if (colon == NULL) {
		if (parse_seq_number(s, len, &lo, &set->star) < 0)
			goto bad;
		hi = lo;
	} else if (parse_seq_number(s, (size_t)(colon - s), &lo, &set->star) < 0 ||
		   parse_seq_number(colon + 1, len - (size_t)(colon - s) - 1, &hi, &set->star) < 0) {
		goto bad;
	}
	if (add_raw(set, lo, hi) < 0) {
		*error_r = "Too many ranges in sequence set";
		return -1;
	}
	return 0;
bad:
	*error_r = "Invalid sequence set: numbers are 1 to 4294967295 or *";
	return -1;
}

int imap_seqset_parse(struct imap_seqset *set, const char *s, size_t len, const char **error_r)
{
	size_t i = 0;

	imap_seqset_clear(set);
	if (len == 1 && s[0] == '$') {
		set->saved = true;
		return 0;
	}
	if (len == 0) {
		*error_r = "Empty sequence set";
		return -1;
	}
	while (i <= len) {
		const char *comma = memchr(s + i, ',', len - i);
		size_t n = comma != NULL ? (size_t)(comma - (s + i)) : len - i;

		if (parse_element(set, s + i, n, error_r) < 0) {
			imap_seqset_clear(set);
			return -1;
		}
		i += n + 1;
	}
	return 0;
}

int imap_arg_seqset(struct imap_cursor *cur, struct imap_seqset *set)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	const char *error;

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing sequence set");
	if (a->type != IMAP_ARG_ATOM)
		return imap_cursor_fail(cur, "Expected a sequence set");
	if (imap_seqset_parse(set, a->data, a->len, &error) < 0)
		return imap_cursor_fail(cur, error);
	return imap_arg_next(cur, &a);
}

static int cmp_range(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	unsigned i, n = 0;

	for (i = 0; i < set->count; i++) {
		struct imap_range r = set->ranges[i];

		if (r.lo == 0)
			r.lo = max;
		if (r.hi == 0)
			r.hi = max;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		if (r.hi == 0)
			continue;	/* "*" in an empty mailbox */
		if (r.lo == 0)
			r.lo = 1;
		set->ranges[n++] = r;
	}
	set->count = n;
	set->star = false;
	if (n > 1)
		qsort(set->ranges, n, sizeof(*set->ranges), cmp_range);
	for (i = 1, n = set->count ? 1 : 0; i < set->count; i++) {
		struct imap_range *last = &set->ranges[n - 1];

		/* adjacent too: 1:3,4:5 is 1:5 (hi + 1 cannot wrap: hi < lo) */
		if (set->ranges[i].lo <= last->hi || set->ranges[i].lo - 1 == last->hi) {
			if (set->ranges[i].hi > last->hi)
				last->hi = set->ranges[i].hi;
		} else {
			set->ranges[n++] = set->ranges[i];
		}
	}
	set->count = n;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t value)
{
	unsigned lo = 0, hi = set->count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (value < set->ranges[mid].lo)
			hi = mid;
		else if (value > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < set->count; i++)
		n += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	return n;
}

uint32_t imap_seqset_min(const struct imap_seqset *set)
{
	return set->count ? set->ranges[0].lo : 0;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
	return set->count ? set->ranges[set->count - 1].hi : 0;
}

void imap_seqset_iter_init(struct imap_seqset_iter *it)
{
	it->range = 0;
	it->next = 0;
}

bool imap_seqset_next(const struct imap_seqset *set, struct imap_seqset_iter *it, uint32_t *value_r)
{
	while (it->range < set->count) {
		const struct imap_range *r = &set->ranges[it->range];

		if (it->next < r->lo)
			it->next = r->lo;
		if (it->next <= r->hi) {
			*value_r = (uint32_t)it->next++;
			return true;
		}
		it->range++;
		it->next = 0;
	}
	return false;
}

static int format_number(struct buf *out, uint32_t v)
{
	return v == 0 ? buf_append_char(out, '*') : buf_printf(out, "%u", v);
}

int imap_seqset_format(const struct imap_seqset *set, struct buf *out)
{
	unsigned i;

	for (i = 0; i < set->count; i++) {
		const struct imap_range *r = &set->ranges[i];

		if ((i > 0 && buf_append_char(out, ',') < 0) || format_number(out, r->lo) < 0)
			return -1;
		if (r->lo != r->hi && (buf_append_char(out, ':') < 0 || format_number(out, r->hi) < 0))
			return -1;
	}
	return 0;
}
