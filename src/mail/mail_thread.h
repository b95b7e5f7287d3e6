/*
 * The THREAD algorithms of RFC 5256 section 3, ORDEREDSUBJECT and
 * REFERENCES (with the subject merging of its step 5), over summaries
 * the caller prepares (mail/mime.h computes the keys: mail_base_subject,
 * mail_thread_references). Pure: the result is appended as the IMAP
 * thread-list text "(1)(2 3 (4)(5))", ready to follow "* THREAD ".
 */
#ifndef TERN_MAIL_THREAD_H
#define TERN_MAIL_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct mail_thread_msg {
	uint32_t id;			/* what the output shows: seq number or UID */
	int64_t date;			/* RFC 5256 2.2 sent date (else INTERNALDATE) */
	const char *message_id;		/* borrowed; without <>; NULL or "" if none */
	const char *refs;		/* borrowed; space-separated ids, oldest first
					 * (References, else In-Reply-To); NULL if none */
	const char *base_subject;	/* borrowed; RFC 5256 2.1, UTF-8; NULL = "" */
	bool is_reply;			/* the subject had a Re:/Fwd: marker */
};

/* Both take msgs in ascending sequence order, which breaks ties between
 * equal dates (RFC 5256 2.2), and append the thread lists to out (nothing
 * when n is 0). Return 0, or -1 if out is full. Work is O(n log n) plus
 * the reference walk; nothing recurses, so deep threads are safe. */
int mail_thread_orderedsubject(const struct mail_thread_msg *msgs, size_t n, struct buf *out);
int mail_thread_refs(const struct mail_thread_msg *msgs, size_t n, struct buf *out);

#endif
