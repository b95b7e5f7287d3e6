/*
 * libFuzzer target for the POP3 parsers (src/pop3/pop3_parse.c): the input
 * is a command line without CRLF, given to pop3_parse_command() and its
 * arguments to pop3_parse_numbers() with every min/max the commands use;
 * then the whole input is byte-stuffed at once and in pieces, which must
 * agree, and removing the stuffing must give the input back.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pop3/pop3_parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_numbers(const char *args, size_t len)
{
	static const unsigned ranges[][2] = { { 0, 1 }, { 1, 1 }, { 2, 2 }, { 1, 2 }, { 0, 0 } };
	size_t r, i;

	for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		uint64_t out[3] = { 0, 0, UINT64_MAX };
		int n = pop3_parse_numbers(args, len, ranges[r][0], ranges[r][1], out);

		CHECK(n == -1 || (n >= (int)ranges[r][0] && n <= (int)ranges[r][1]));
		for (i = 0; n > 0 && i < (size_t)n; i++)
			CHECK(out[i] <= UINT32_MAX);
		CHECK(out[2] == UINT64_MAX);	/* never past max entries */
	}
}

/* Stuffs data in pieces whose sizes come from the data itself. */
static size_t stuff_pieces(const char *d, size_t len, char *out)
{
	size_t off = 0, o = 0;
	int at_line_start = 1;

	while (off < len) {
		size_t n = ((unsigned char)d[off] % 7) + 1;
		char *piece;

		if (n > len - off)
			n = len - off;
		piece = xmalloc(n);
		memcpy(piece, d + off, n);
		o += pop3_stuff(piece, n, out + o, &at_line_start);
		free(piece);
		off += n;
	}
	return o;
}

static void fuzz_stuff(const char *d, size_t len)
{
	char *whole = xmalloc(2 * len + 1), *pieces = xmalloc(2 * len + 1);
	int at_line_start = 1;
	size_t n = pop3_stuff(d, len, whole, &at_line_start), m, i, k;
	bool line_start = true;

	CHECK(n <= 2 * len);
	m = stuff_pieces(d, len, pieces);
	CHECK(m == n && memcmp(whole, pieces, n) == 0);
	/* unstuffing: drop the first of two dots at each line start */
	for (i = 0, k = 0; i < n; i++) {
		if (line_start && whole[i] == '.') {
			CHECK(i + 1 < n && whole[i + 1] == '.');
			i++;
		}
		CHECK(k < len && whole[i] == d[k]);
		k++;
		line_start = whole[i] == '\n';
	}
	CHECK(k == len);
	free(whole);
	free(pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_command cmd;
	const char *error = NULL;
	char *line;

	if (size > 64 * 1024)
		return 0;
	line = xmalloc(size);
	memcpy(line, data, size);
	if (pop3_parse_command(line, size, &cmd, &error) == 0) {
		size_t klen = strlen(cmd.keyword), i;

		CHECK(klen == 3 || klen == 4);
		for (i = 0; i < klen; i++)
			CHECK(isupper((unsigned char)cmd.keyword[i]));
		CHECK(cmd.args >= line && cmd.args + cmd.args_len <= line + size);
		fuzz_numbers(cmd.args, cmd.args_len);
	} else {
		CHECK(error != NULL);
	}
	fuzz_numbers(line, size);
	fuzz_stuff(line, size);
	free(line);
	return 0;
}
