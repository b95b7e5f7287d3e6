/*
 * libFuzzer target for the SMTP client's reply parser
 * (src/smtp/smtp_reply.c): the input is what a hostile server sends, cut
 * into lines at LF (CR before LF dropped, as the client does). Each
 * complete reply is also read as an EHLO reply. Besides memory errors it
 * checks the invariants the client relies on: a valid code, the text
 * within its bound, and an enhanced code of the reply's class.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "smtp/smtp_reply.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct smtp_reply_parser *p)
{
	const struct smtp_reply *r = &p->reply;
	struct smtp_ehlo e;

	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->n_lines >= 1 && r->n_lines <= p->limits.lines_max);
	CHECK(r->text.len <= (p->limits.line_max + 1) * p->limits.lines_max);
	CHECK(r->enhanced[0] == '\0' || r->enhanced[0] == (char)('0' + r->code / 100));
	CHECK(strlen(r->enhanced) < 16);
	smtp_ehlo_parse(r, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smtp_reply_limits limits = { 512, 16 };
	struct smtp_reply_parser p;
	const char *error;
	size_t pos = 0, end, len;
	char *line;
	int ret;

	smtp_reply_parser_init(&p, &limits);
	while (pos < size) {
		end = pos;
		while (end < size && data[end] != '\n')
			end++;
		len = end - pos;
		if (len > 0 && end < size && data[end - 1] == '\r')
			len--;
		line = xmalloc(len ? len : 1);	/* exact size for ASan */
		memcpy(line, data + pos, len);
		ret = smtp_reply_feed(&p, line, len, &error);
		free(line);
		if (ret < 0) {
			CHECK(error != NULL && error[0] != '\0');
			break;
		}
		if (ret == 1)
			check_reply(&p);
		pos = end + 1;
	}
	smtp_reply_parser_deinit(&p);
	return 0;
}
