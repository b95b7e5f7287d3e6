/*
 * In-memory message lists of recently selected mailboxes (imap_cache.c),
 * shared by every IMAP session of the daemon. Loop thread only.
 */
#ifndef TERN_IMAP_IMAP_CACHE_H
#define TERN_IMAP_IMAP_CACHE_H

#include <stddef.h>

#include "store/store.h"

struct imap_cache;

/* The messages of mb as of mb->highestmodseq (or newer), as an allocated
 * array sorted by UID. *cp is created on first use. */
int imap_cache_load(struct imap_cache **cp, struct store *st, const struct store_mailbox *mb,
		    struct store_msg **msgs_r, size_t *n_r);
void imap_cache_free(struct imap_cache **cp);

#endif
