/*
 * Building RFC 3464 DSNs (see bounce.h). Text from remote servers ends up
 * in header fields here, so it is flattened: control characters become
 * spaces and long text is cut, keeping every line under the 998-octet
 * limit of RFC 5322 2.1.1.
 */
#include "smtp/bounce.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define FIELD_TEXT_MAX 900

static void rfc5322_date(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* Appends s with CR, LF and other controls turned into spaces, cut. */
static void append_flat(struct buf *out, const char *s)
{
	size_t i, n = strlen(s);

	if (n > FIELD_TEXT_MAX)
		n = FIELD_TEXT_MAX;
	for (i = 0; i < n; i++)
		buf_append_char(out, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

static bool has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

size_t bounce_header_len(const char *data, size_t len, size_t max)
{
	const char *end;

	if (len > max)
		len = max;
	end = memmem(data, len, "\r\n\r\n", 4);
	if (end != NULL)
		return (size_t)(end - data) + 4;
	if (len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 2;	/* no header at all */
	return len;
}

static void build_headers(const struct bounce_info *b, const char *boundary, struct buf *out)
{
	char date[64], id[13];

	rfc5322_date(b->now, date, sizeof(date));
	random_id(id, 12);
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", b->reporting_mta);
	buf_printf(out, "To: <%s>\r\n", b->sender);
	buf_printf(out, "Subject: %s\r\n", b->delayed ? "Delayed Mail (still being retried)" :
		   "Undelivered Mail Returned to Sender");
	buf_printf(out, "Date: %s\r\n", date);
	buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", b->queue_id, id, b->reporting_mta);
	buf_append_str(out, "Auto-Submitted: auto-replied\r\n");	/* RFC 3834 5 */
	buf_append_str(out, "MIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n", boundary);
	buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");
}

static void build_text(const struct bounce_info *b, const char *boundary, struct buf *out)
{
	char until[64];
	size_t i;

	buf_printf(out, "--%s\r\nContent-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n\r\n", boundary);
	buf_printf(out, "This is the mail system at host %s.\r\n\r\n", b->reporting_mta);
	if (b->delayed) {
		rfc5322_date(b->retry_until, until, sizeof(until));
		buf_printf(out, "Your message (queue id %s) could not be delivered yet to the\r\n"
			   "recipients below. This is only a warning: it stays queued and will\r\n"
			   "be retried until %s.\r\nYou do not need to send it again.\r\n\r\n",
			   b->queue_id, until);
	} else {
		buf_printf(out, "I'm sorry to have to inform you that your message (queue id %s)\r\n"
			   "could not be delivered to one or more recipients. It is attached\r\n"
			   "below (headers only).\r\n\r\n", b->queue_id);
	}
	for (i = 0; i < b->n_rcpts; i++) {
		const struct bounce_rcpt *r = &b->rcpts[i];

		buf_printf(out, "<%s>: ", r->recipient);
		append_flat(out, r->reason ? r->reason : "delivery failed");
		if (r->diagnostic != NULL) {
			buf_append_str(out, "\r\n    ");
			if (r->remote_mta != NULL)
				buf_printf(out, "%s said: ", r->remote_mta);
			append_flat(out, r->diagnostic);
		}
		buf_append_str(out, "\r\n\r\n");
	}
}

static void build_status(const struct bounce_info *b, const char *boundary, struct buf *out)
{
	char date[64];
	size_t i;

	buf_printf(out, "--%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/delivery-status\r\n\r\n", boundary);
	rfc5322_date(b->arrival, date, sizeof(date));
	buf_printf(out, "Reporting-MTA: dns; %s\r\nX-Tern-Queue-ID: %s\r\nArrival-Date: %s\r\n",
		   b->reporting_mta, b->queue_id, date);
	for (i = 0; i < b->n_rcpts; i++) {
		const struct bounce_rcpt *r = &b->rcpts[i];
		bool utf8 = has_8bit(r->recipient, strlen(r->recipient));

		/* RFC 6533 3: an address that is not ASCII is of type utf-8 */
		buf_printf(out, "\r\nFinal-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822",
			   r->recipient);
		buf_printf(out, "Action: %s\r\nStatus: %s\r\n", b->delayed ? "delayed" : "failed",
			   r->status);
		if (r->remote_mta != NULL)
			buf_printf(out, "Remote-MTA: dns; %s\r\n", r->remote_mta);
		if (r->diagnostic != NULL) {
			buf_append_str(out, "Diagnostic-Code: smtp; ");
			append_flat(out, r->diagnostic);
			buf_append_str(out, "\r\n");
		}
		if (r->last_attempt > 0) {
			rfc5322_date(r->last_attempt, date, sizeof(date));
			buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
		}
		if (b->delayed) {
			rfc5322_date(b->retry_until, date, sizeof(date));
			buf_printf(out, "Will-Retry-Until: %s\r\n", date);
		}
	}
	buf_append_str(out, "\r\n");
}

void bounce_build(const struct bounce_info *b, struct buf *out)
{
	char rnd[17], boundary[64];
	size_t hlen = b->headers_len;

	if (b->boundary != NULL) {
		snprintf(boundary, sizeof(boundary), "%s", b->boundary);
	} else {
		random_id(rnd, 16);
		snprintf(boundary, sizeof(boundary), "=_tern_%s", rnd);
	}
	build_headers(b, boundary, out);
	build_text(b, boundary, out);
	build_status(b, boundary, out);
	buf_printf(out, "--%s\r\nContent-Description: Undelivered Message Headers\r\n"
		   "Content-Type: text/rfc822-headers\r\n\r\n", boundary);
	if (hlen > BOUNCE_HEADERS_MAX)
		hlen = BOUNCE_HEADERS_MAX;
	buf_append(out, b->headers, hlen);
	if (hlen < 2 || memcmp(b->headers + hlen - 2, "\r\n", 2) != 0)
		buf_append_str(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}
