/*
 * The DATA and BDAT content scanner: a byte-level state machine that
 * removes dot-stuffing and finds the end marker (DATA only), enforces the
 * size and line-length limits, and rejects bare CR and bare LF (SMTP
 * smuggling: a message must not end, or hide a second one, anywhere but at
 * CRLF "." CRLF, RFC 5321 2.3.8 and 4.1.1.4). It works on any chunking of
 * the input, does no I/O, and hands message bytes to a callback.
 *
 * After an error the scanner keeps reading (and discarding) up to the real
 * end marker, so the session stays in step with the client.
 */
#ifndef TERN_SMTP_DATA_H
#define TERN_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_data_error {
	SMTP_DATA_OK = 0,
	SMTP_DATA_BARE_LF,
	SMTP_DATA_BARE_CR,
	SMTP_DATA_LINE_TOO_LONG,
	SMTP_DATA_TOO_BIG,
};

struct smtp_data_limits {
	uint64_t max_size;	/* message octets after unstuffing */
	size_t max_line;	/* octets per line, CRLF excluded */
};

/* Receives message bytes in order; returns 0, or -1 to stop (e.g. the
 * spool file could not be written: reported as SMTP_DATA_TOO_BIG is wrong,
 * so the session tracks its own write errors). */
typedef int smtp_data_sink(void *ctx, const char *data, size_t len);

struct smtp_data_parser {
	struct smtp_data_limits limits;
	bool dot_stuffed;	/* DATA (true) or BDAT (false) */
	int state;
	size_t line_len;
	uint64_t size;
	enum smtp_data_error error;
	smtp_data_sink *sink;
	void *sink_ctx;
};

void smtp_data_init(struct smtp_data_parser *p, const struct smtp_data_limits *limits,
		    bool dot_stuffed, smtp_data_sink *sink, void *ctx);

/* Scans len bytes. Returns 1 when the DATA end marker was consumed (then
 * *consumed_r says how many bytes of in were part of the message, marker
 * included), 0 when all of in was consumed and more is needed. */
int smtp_data_feed(struct smtp_data_parser *p, const char *in, size_t len, size_t *consumed_r);

/* For BDAT: ends the message at the end of the LAST chunk. Adds a final
 * CRLF if the message did not end with one; a trailing bare CR is an
 * error. */
void smtp_data_finish_chunked(struct smtp_data_parser *p);

/* Reply text for an error (RFC 3463 code included). */
const char *smtp_data_error_reply(enum smtp_data_error e);

#endif
