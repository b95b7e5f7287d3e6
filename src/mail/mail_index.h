/*
 * What the store keeps about a message's contents for IMAP, computed once
 * when it is stored: ENVELOPE, BODY, BODYSTRUCTURE, the sort and thread
 * keys (mime_summarize). Pure CPU work on the message bytes: run it on a
 * worker thread, not on the loop. The text for the full-text index is
 * taken later, by the store's indexer (mail_index_text).
 */
#ifndef TERN_MAIL_MAIL_INDEX_H
#define TERN_MAIL_MAIL_INDEX_H

#include <stddef.h>

#include "core/buf.h"
#include "mail/mime.h"
#include "store/store.h"

/* Decoded text kept per message for search; the rest is not indexed. */
#define MAIL_INDEX_TEXT_MAX (1024 * 1024)

struct mail_index {
	struct mime_summary sum;	/* owned */
	struct store_blob_meta meta;	/* points into the above */
};

/* Fills ix from the message msg[0..len). Never fails on malformed mail. */
void mail_index_build(const char *msg, size_t len, struct mail_index *ix);
void mail_index_free(struct mail_index *ix);
/* Appends the decoded header and body text that search indexes (at most
 * MAIL_INDEX_TEXT_MAX each); a store_text_fn. */
void mail_index_text(const char *msg, size_t len, struct buf *headers, struct buf *body);

#endif
