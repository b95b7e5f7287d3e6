/*
 * The message lists of recently selected mailboxes, kept in memory so a
 * SELECT of a large mailbox copies an array instead of reading every row
 * again (bench/RESULTS.md: 100,000 rows took ~120 ms from SQLite). An
 * entry is brought forward by MODSEQ at each use with the same queries a
 * session's sync uses (changes and expunges since), so it never serves a
 * stale list. Bounded in entries and in total messages; least recently
 * used entries go first.
 */
#include "imap/imap_cache.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_ENTRIES_MAX 32

struct cache_entry {
	int64_t mailbox_id;
	uint32_t uidvalidity;
	uint64_t modseq;	/* the list holds every change up to here */
	uint32_t recent_claimed;	/* imap_cache_claim_recent() */
	struct store_msg *msgs;	/* owned, sorted by UID */
	size_t n, cap;
	uint64_t last_used;
};

struct imap_cache {
	struct cache_entry entries[CACHE_ENTRIES_MAX];
	size_t n;
	size_t total;		/* messages over all entries */
	uint64_t clock;
};

/* ---- shared message arrays -------------------------------------------------- */

union msgs_head {
	size_t refs;
	max_align_t align;
};

static union msgs_head *head_of(struct store_msg *msgs)
{
	return (union msgs_head *)(void *)msgs - 1;
}

static struct store_msg *msgs_alloc(size_t cap)
{
	union msgs_head *h = xmalloc(sizeof(*h) + (cap ? cap : 1) * sizeof(struct store_msg));

	h->refs = 1;
	return (struct store_msg *)(void *)(h + 1);
}

struct store_msg *imap_msgs_new(const struct store_msg *src, size_t n)
{
	struct store_msg *msgs = msgs_alloc(n);

	if (n > 0)
		memcpy(msgs, src, n * sizeof(*msgs));
	return msgs;
}

struct store_msg *imap_msgs_ref(struct store_msg *msgs)
{
	head_of(msgs)->refs++;
	return msgs;
}

void imap_msgs_unref(struct store_msg *msgs)
{
	union msgs_head *h;

	if (msgs == NULL)
		return;
	h = head_of(msgs);
	if (--h->refs == 0)
		free(h);
}

void imap_msgs_own(struct store_msg **msgs, size_t n, size_t *cap, size_t need)
{
	union msgs_head *h;
	struct store_msg *copy;
	size_t want = need > n ? need : n;

	if (*msgs == NULL || head_of(*msgs)->refs > 1) {
		want = want > 64 ? want : 64;
		copy = msgs_alloc(want);
		if (n > 0)
			memcpy(copy, *msgs, n * sizeof(*copy));
		imap_msgs_unref(*msgs);
		*msgs = copy;
		*cap = want;
		return;
	}
	if (want <= *cap)
		return;
	want = want > *cap * 2 ? want : *cap * 2;
	h = xrealloc(head_of(*msgs), sizeof(*h) + want * sizeof(**msgs));
	*msgs = (struct store_msg *)(void *)(h + 1);
	*cap = want;
}

/* ---- the cache --------------------------------------------------------------- */

void imap_cache_free(struct imap_cache **cp)
{
	struct imap_cache *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		imap_msgs_unref(c->entries[i].msgs);
	free(c);
	*cp = NULL;
}

static long find_uid(const struct cache_entry *e, uint32_t uid)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->msgs[mid].uid == uid)
			return (long)mid;
		if (e->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;	/* where it would go */
}

static void entry_remove_uid(struct cache_entry *e, uint32_t uid)
{
	long i = find_uid(e, uid);

	if (i < 0)
		return;
	imap_msgs_own(&e->msgs, e->n, &e->cap, e->n);
	memmove(&e->msgs[i], &e->msgs[i + 1], (e->n - (size_t)i - 1) * sizeof(*e->msgs));
	e->n--;
}

static void entry_put(struct cache_entry *e, const struct store_msg *m)
{
	long i = find_uid(e, m->uid);
	size_t at;

	imap_msgs_own(&e->msgs, e->n, &e->cap, e->n + (i < 0));
	if (i >= 0) {
		e->msgs[i] = *m;
		return;
	}
	at = (size_t)(-i - 1);
	memmove(&e->msgs[at + 1], &e->msgs[at], (e->n - at) * sizeof(*e->msgs));
	e->msgs[at] = *m;
	e->n++;
}

/* Applies expunges and changes after e->modseq, up to modseq. */
static int entry_forward(struct store *st, struct cache_entry *e, uint64_t modseq)
{
	struct store_msg *changed;
	uint32_t *gone;
	size_t n, i;

	if (e->modseq >= modseq)
		return 0;
	if (store_msgs_gone(st, e->mailbox_id, e->modseq, e->msgs, e->n, &gone, &n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		entry_remove_uid(e, gone[i]);
	free(gone);
	if (store_msgs_changed(st, e->mailbox_id, e->modseq, &changed, &n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		entry_put(e, &changed[i]);
	free(changed);
	e->modseq = modseq;
	return 0;
}

static void entry_drop(struct imap_cache *c, size_t i)
{
	c->total -= c->entries[i].n;
	imap_msgs_unref(c->entries[i].msgs);
	c->entries[i] = c->entries[--c->n];
}

/* Makes room for `need` more messages and one entry. */
static void evict(struct imap_cache *c, size_t need)
{
	size_t i, oldest;

	while (c->n > 0 && (c->n == CACHE_ENTRIES_MAX || c->total + need > IMAP_CACHE_MSGS_MAX)) {
		oldest = 0;
		for (i = 1; i < c->n; i++) {
			if (c->entries[i].last_used < c->entries[oldest].last_used)
				oldest = i;
		}
		entry_drop(c, oldest);
	}
}

static struct cache_entry *entry_find(struct imap_cache *c, const struct store_mailbox *mb)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->entries[i].mailbox_id != mb->id)
			continue;
		if (c->entries[i].uidvalidity == mb->uidvalidity)
			return &c->entries[i];
		entry_drop(c, i);	/* recreated under the same id: start over */
		return NULL;
	}
	return NULL;
}

int imap_cache_load(struct imap_cache **cp, struct store *st, const struct store_mailbox *mb,
		    struct store_msg **msgs_r, size_t *n_r)
{
	struct imap_cache *c = *cp ? *cp : (*cp = xcalloc(1, sizeof(**cp)));
	struct cache_entry *e = entry_find(c, mb);
	struct store_msg *msgs;
	size_t n, before;

	if (e != NULL) {
		before = e->n;
		if (entry_forward(st, e, mb->highestmodseq) < 0) {
			entry_drop(c, (size_t)(e - c->entries));
			return -1;
		}
		c->total = c->total - before + e->n;
		e->last_used = ++c->clock;
		*msgs_r = imap_msgs_ref(e->msgs);
		*n_r = e->n;
		return 0;
	}
	if (store_msgs_load(st, mb->id, &msgs, &n) < 0)
		return -1;
	*msgs_r = imap_msgs_new(msgs, n);
	*n_r = n;
	free(msgs);
	if (n > IMAP_CACHE_MSGS_MAX / 2)
		return 0;	/* too big to keep */
	evict(c, n);
	e = &c->entries[c->n++];
	memset(e, 0, sizeof(*e));
	e->mailbox_id = mb->id;
	e->uidvalidity = mb->uidvalidity;
	e->modseq = mb->highestmodseq;
	e->msgs = imap_msgs_ref(*msgs_r);
	e->n = e->cap = n;
	e->last_used = ++c->clock;
	c->total += n;
	return 0;
}

long imap_cache_claim_recent(struct imap_cache *c, const struct store_mailbox *mb, uint32_t top)
{
	struct cache_entry *e = c != NULL ? entry_find(c, mb) : NULL;
	uint32_t before;

	if (e == NULL)
		return -1;
	before = e->recent_claimed > mb->recent_uid ? e->recent_claimed : mb->recent_uid;
	e->recent_claimed = top > before ? top : before;
	return before;
}
