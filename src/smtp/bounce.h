/*
 * Delivery status notifications (RFC 3464): the message Tern sends back
 * to an envelope sender when recipients failed for good or are delayed.
 * One DSN covers every recipient of one message that failed in the same
 * run. It is a multipart/report (RFC 6522) of three parts: a text part
 * saying what happened in words, the message/delivery-status fields, and
 * the original message's header section as text/rfc822-headers.
 * bounce_build() is pure (no I/O) so it can be unit tested.
 */
#ifndef TERN_SMTP_BOUNCE_H
#define TERN_SMTP_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The original headers quoted in a DSN are cut at this size. */
#define BOUNCE_HEADERS_MAX (64 * 1024)

struct bounce_rcpt {
	const char *recipient;		/* borrowed: the envelope recipient */
	const char *status;		/* borrowed: RFC 3463 code, "5.1.1" */
	const char *remote_mta;		/* borrowed: host that answered, or NULL */
	const char *diagnostic;		/* borrowed: "550 5.1.1 text", or NULL */
	const char *reason;		/* borrowed: our words, for the text part */
	int64_t last_attempt;		/* 0: never attempted */
};

struct bounce_info {
	const char *reporting_mta;	/* borrowed: our host name */
	const char *queue_id;		/* borrowed */
	const char *sender;		/* borrowed: the DSN goes to this address */
	int64_t arrival, now;
	bool delayed;			/* a delay warning, not a failure */
	int64_t retry_until;		/* delayed only: when we give up */
	const struct bounce_rcpt *rcpts;	/* borrowed */
	size_t n_rcpts;
	const char *headers;		/* borrowed: the original header section */
	size_t headers_len;
	const char *boundary;		/* borrowed, or NULL for a random one */
};

/* Appends the whole DSN message (headers and body, CRLF line ends) to out. */
void bounce_build(const struct bounce_info *b, struct buf *out);
/* Length of the header section at the start of data (up to and including
 * the empty line), at most max. */
size_t bounce_header_len(const char *data, size_t len, size_t max);

#endif
