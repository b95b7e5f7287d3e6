/*
 * In-memory message lists of recently selected mailboxes (imap_cache.c),
 * shared by every IMAP session of the daemon. Loop thread only.
 */
#ifndef TERN_IMAP_IMAP_CACHE_H
#define TERN_IMAP_IMAP_CACHE_H

#include <stddef.h>

#include "store/store.h"

struct imap_cache;

/* The messages of mb as of mb->highestmodseq (or newer), sorted by UID,
 * as a shared array (release it with imap_msgs_unref()). *cp is created
 * on first use. */
int imap_cache_load(struct imap_cache **cp, struct store *st, const struct store_mailbox *mb,
		    struct store_msg **msgs_r, size_t *n_r);
/* Message arrays are shared between the cache and the sessions' views,
 * copy-on-write: a SELECT takes a reference instead of copying the list.
 * Whoever changes an array calls imap_msgs_own() first, which copies it
 * if anyone else holds it and makes room for `need` entries (n in use,
 * *cap allocated; *cap means nothing for an array not yet owned). */
struct store_msg *imap_msgs_new(const struct store_msg *src, size_t n);
struct store_msg *imap_msgs_ref(struct store_msg *msgs);
void imap_msgs_unref(struct store_msg *msgs);
void imap_msgs_own(struct store_msg **msgs, size_t n, size_t *cap, size_t need);

/* Claims the messages of mb up to UID top as \Recent for one session
 * (RFC 3501 2.3.2) and returns the highest UID claimed before it, or -1
 * when mb has no entry here (the caller then claims through the store).
 * The claim is decided here, on the loop thread, at once; the caller
 * records it in the store with a commit nobody needs to wait for, and
 * the entry remembers it until then. */
long imap_cache_claim_recent(struct imap_cache *c, const struct store_mailbox *mb, uint32_t top);
void imap_cache_free(struct imap_cache **cp);

#endif
