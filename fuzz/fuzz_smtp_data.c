/*
 * libFuzzer target for the DATA/BDAT scanner (src/smtp/smtp_data.c). The
 * first four input bytes choose the line and size limits and a seed for
 * piece sizes; the rest is the message as sent. In DATA mode and in BDAT
 * mode it is scanned whole, then in pseudo-random pieces, then byte by
 * byte, and the results must agree, error included: the network may cut
 * the input anywhere. An accepted message must hold no bare CR or LF.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "smtp/smtp_data.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	int done;
	size_t consumed;
	enum smtp_data_error error;
	uint64_t size;
	struct buf out;
};

static int sink(void *ctx, const char *d, size_t len)
{
	struct buf *out = ctx;

	CHECK(len > 0);
	CHECK(buf_append(out, d, len) == 0);
	return 0;
}

/* Scans in[0..len) in pieces: all at once when seed is 0, byte by byte
 * when it is 1, else of sizes from a small PRNG. */
static void scan(const char *in, size_t len, bool dot_stuffed, const struct smtp_data_limits *lim,
		 uint32_t seed, struct result *r)
{
	struct smtp_data_parser p;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
	smtp_data_init(&p, lim, dot_stuffed, sink, &r->out);
	do {
		size_t n = len - off, consumed = 0;
		char *piece;

		if (seed == 1) {
			n = n ? 1 : 0;
		} else if (seed > 1) {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % 64 + 1;
			if (n > len - off)
				n = len - off;
		}
		piece = xmalloc(n);
		memcpy(piece, in + off, n);
		r->done = smtp_data_feed(&p, piece, n, &consumed);
		free(piece);
		CHECK(r->done == 0 || r->done == 1);
		CHECK(consumed <= n);
		CHECK(r->done || consumed == n);
		CHECK(!r->done || dot_stuffed);
		r->consumed += consumed;
		off += n;
	} while (!r->done && off < len);
	if (!dot_stuffed)
		smtp_data_finish_chunked(&p);
	r->error = p.error;
	r->size = p.size;
}

static void check_clean(const struct result *r, bool dot_stuffed)
{
	const char *s = r->out.data;
	size_t i;

	CHECK(r->size == r->out.len);
	for (i = 0; i < r->out.len; i++) {
		if (s[i] == '\r')
			CHECK(i + 1 < r->out.len ? s[i + 1] == '\n' : !r->done && dot_stuffed);
		if (s[i] == '\n')
			CHECK(i > 0 && s[i - 1] == '\r');
	}
	/* a finished message ends with CRLF (or is empty) */
	if (r->done || !dot_stuffed)
		CHECK(r->out.len == 0 || (r->out.len >= 2 && s[r->out.len - 2] == '\r' &&
					  s[r->out.len - 1] == '\n'));
}

/* Scans the message whole, in pieces, and byte by byte; all must agree. */
static void fuzz_mode(const char *in, size_t len, bool dot_stuffed,
		      const struct smtp_data_limits *lim, uint32_t seed)
{
	struct result whole, cut;

	scan(in, len, dot_stuffed, lim, 0, &whole);
	if (whole.error == SMTP_DATA_OK)
		check_clean(&whole, dot_stuffed);
	scan(in, len, dot_stuffed, lim, seed, &cut);
	CHECK(cut.done == whole.done && cut.consumed == whole.consumed);
	CHECK(cut.error == whole.error);
	if (whole.error == SMTP_DATA_OK)
		CHECK(cut.out.len == whole.out.len &&
		      memcmp(buf_cstr(&cut.out), buf_cstr(&whole.out), cut.out.len) == 0);
	buf_deinit(&cut.out);
	if (len <= 4096) {
		scan(in, len, dot_stuffed, lim, 1, &cut);
		CHECK(cut.done == whole.done && cut.consumed == whole.consumed);
		CHECK(cut.error == whole.error);
		if (whole.error == SMTP_DATA_OK)
			CHECK(cut.out.len == whole.out.len &&
			      memcmp(buf_cstr(&cut.out), buf_cstr(&whole.out), cut.out.len) == 0);
		buf_deinit(&cut.out);
	}
	buf_deinit(&whole.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_limits lim;
	uint32_t seed;

	if (size < 4 || size > 64 * 1024)
		return 0;
	lim.max_line = data[1] < 128 ? (size_t)data[1] + 1 : 65536;
	lim.max_size = data[2] < 128 ? (uint64_t)data[2] * 16 : 1 << 20;
	seed = (uint32_t)data[3] << 8 | data[0];
	seed = seed < 2 ? 2 : seed;
	fuzz_mode((const char *)data + 4, size - 4, true, &lim, seed);
	fuzz_mode((const char *)data + 4, size - 4, false, &lim, seed);
	return 0;
}
