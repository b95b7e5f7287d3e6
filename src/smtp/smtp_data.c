/*
 * DATA/BDAT scanner; see smtp_data.h. States:
 *   LINE_START  at the first octet of a line
 *   DOT         a line started with "." (DATA only)
 *   DOT_CR      the line so far is ".\r" (DATA only)
 *   IN_LINE     inside a line
 *   CR          just after a CR inside a line
 * Message bytes pass to the sink in runs; a leading dot is dropped
 * (RFC 5321 4.5.2) and the terminating ".\r\n" is never passed on.
 */
#include "smtp/smtp_data.h"

#include <string.h>

enum {
	ST_LINE_START,
	ST_DOT,
	ST_DOT_CR,
	ST_IN_LINE,
	ST_CR,
};

void smtp_data_init(struct smtp_data_parser *p, const struct smtp_data_limits *limits,
		    bool dot_stuffed, smtp_data_sink *sink, void *ctx)
{
	p->limits = *limits;
	p->dot_stuffed = dot_stuffed;
	p->state = ST_LINE_START;
	p->line_len = 0;
	p->size = 0;
	p->error = SMTP_DATA_OK;
	p->sink = sink;
	p->sink_ctx = ctx;
}

static void set_error(struct smtp_data_parser *p, enum smtp_data_error e)
{
	if (p->error == SMTP_DATA_OK)
		p->error = e;
}

/* Passes in[start, stop) to the sink, within the size limit. */
static void emit(struct smtp_data_parser *p, const char *in, size_t start, size_t stop)
{
	size_t n = stop - start;

	if (n == 0 || p->error != SMTP_DATA_OK)
		return;
	if (n > p->limits.max_size - p->size) {
		set_error(p, SMTP_DATA_TOO_BIG);
		return;
	}
	p->size += n;
	if (p->sink(p->sink_ctx, in + start, n) < 0)
		set_error(p, SMTP_DATA_TOO_BIG);
}

/* Records an error found at in[i]. The message octets before it, in[run, i),
 * are emitted first: if they pass the size limit, that is the first error.
 * Otherwise which error is reported would depend on where the input was
 * cut, since emit() checks the size only once per run. */
static void content_error(struct smtp_data_parser *p, const char *in, size_t run, size_t i,
			  enum smtp_data_error e)
{
	emit(p, in, run, i);
	set_error(p, e);
}

/* Processes the octet in[i] of a line body; it stays in the current run,
 * which started at in[run]. */
static void in_line(struct smtp_data_parser *p, const char *in, size_t run, size_t i)
{
	char c = in[i];

	if (c == '\r') {
		p->state = ST_CR;
		return;
	}
	if (c == '\n')
		content_error(p, in, run, i, SMTP_DATA_BARE_LF);
	p->state = ST_IN_LINE;
	if (++p->line_len > p->limits.max_line)
		content_error(p, in, run, i, SMTP_DATA_LINE_TOO_LONG);
}

/* Fast path inside a line: passes over the octets before the next CR or LF
 * (two memchr calls instead of a step per octet), with the same line-length
 * check in_line() makes. Returns the index of that CR or LF, or len. */
static size_t skip_plain(struct smtp_data_parser *p, const char *in, size_t run, size_t i,
			 size_t len)
{
	const char *cr = memchr(in + i, '\r', len - i);
	size_t stop = cr ? (size_t)(cr - in) : len;
	const char *lf = memchr(in + i, '\n', stop - i);
	size_t n, max = p->limits.max_line;

	if (lf != NULL)
		stop = (size_t)(lf - in);
	n = stop - i;
	/* UNSAFE: the first octet past max is at i + (max - line_len) */
	if (p->line_len <= max && n > max - p->line_len)
		content_error(p, in, run, i + (max - p->line_len), SMTP_DATA_LINE_TOO_LONG);
	p->line_len += n;
	return stop;
}

int smtp_data_feed(struct smtp_data_parser *p, const char *in, size_t len, size_t *consumed_r)
{
	size_t i, run = 0;	/* run: start of the bytes not yet emitted */

	for (i = 0; i < len; i++) {
		char c = in[i];

		switch (p->state) {
		case ST_LINE_START:
			p->line_len = 0;
			if (c == '.' && p->dot_stuffed) {
				emit(p, in, run, i);
				run = i + 1;	/* drop the dot */
				p->state = ST_DOT;
				break;
			}
			in_line(p, in, run, i);
			break;
		case ST_DOT:
			if (c == '\r') {
				p->state = ST_DOT_CR;
				run = i + 1;	/* keep ".\r" out until we know */
				break;
			}
			in_line(p, in, run, i);
			break;
		case ST_DOT_CR:
			if (c == '\n') {
				/* everything before the dot was emitted when
				 * the dot was seen */
				*consumed_r = i + 1;
				p->state = ST_LINE_START;
				return 1;
			}
			/* ".\r" not followed by LF: a bare CR. The run was
			 * reset, so nothing of this line is emitted; the
			 * message is rejected anyway. */
			content_error(p, in, run, i, SMTP_DATA_BARE_CR);
			in_line(p, in, run, i);
			break;
		case ST_IN_LINE:
			i = skip_plain(p, in, run, i, len);
			if (i < len)
				in_line(p, in, run, i);
			break;
		case ST_CR:
			if (c == '\n') {
				p->state = ST_LINE_START;
				break;
			}
			content_error(p, in, run, i, SMTP_DATA_BARE_CR);
			in_line(p, in, run, i);
			break;
		}
	}
	emit(p, in, run, len);
	*consumed_r = len;
	return 0;
}

void smtp_data_finish_chunked(struct smtp_data_parser *p)
{
	static const char crlf[] = "\r\n";

	if (p->state == ST_CR)
		set_error(p, SMTP_DATA_BARE_CR);
	else if (p->state == ST_IN_LINE)
		emit(p, crlf, 0, 2);
	p->state = ST_LINE_START;
}

const char *smtp_data_error_reply(enum smtp_data_error e)
{
	switch (e) {
	case SMTP_DATA_OK:
		return "250 2.0.0 Ok";
	case SMTP_DATA_BARE_LF:
		return "554 5.6.0 Message rejected: bare LF in message; lines must end with CRLF";
	case SMTP_DATA_BARE_CR:
		return "554 5.6.0 Message rejected: bare CR in message; lines must end with CRLF";
	case SMTP_DATA_LINE_TOO_LONG:
		return "552 5.3.4 Message rejected: a line is longer than the limit";
	case SMTP_DATA_TOO_BIG:
		return "552 5.3.4 Message size exceeds fixed maximum message size";
	}
	return "451 4.3.0 Internal error";
}
