/*
 * libFuzzer target for the SMTP command parsers (src/smtp/smtp_parse.c):
 * the input is one command line without CRLF. It is split into verb and
 * arguments, handed to the parser for the verb, and always to the EHLO
 * check too. Besides memory errors, it checks that every refusal is a
 * complete 5xx reply and that every accepted address parses again to
 * itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/address.h"
#include "smtp/smtp_parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int ret, const struct smtp_reply_err *err)
{
	if (ret == 0)
		return;
	CHECK(ret == -1);
	CHECK(err->code >= 500 && err->code <= 599);
	CHECK(err->status != NULL && err->status[0] == '5');
	CHECK(err->text != NULL && err->text[0] != '\0');
}

/* A normalized address must be a valid address that normalizes to itself. */
static void check_address(struct buf *addr, bool utf8)
{
	struct buf again;
	const char *error;

	buf_init(&again, 0);
	CHECK(address_parse(addr->data, addr->len, utf8, &again, &error) == 0);
	CHECK(again.len == addr->len && memcmp(again.data, addr->data, addr->len) == 0);
	buf_deinit(&again);
}

static void fuzz_mail(const char *args, size_t len, bool esmtp)
{
	struct smtp_mail_params p;
	struct smtp_reply_err err = { 0 };
	struct buf addr;
	int ret;

	buf_init(&addr, ADDRESS_MAX);
	ret = smtp_parse_mail(args, len, esmtp, &p, &addr, &err);
	check_err(ret, &err);
	if (ret == 0) {
		CHECK(p.null_sender == (addr.len == 0));
		CHECK(esmtp || (p.size == 0 && p.body == SMTP_BODY_7BIT && !p.smtputf8));
		if (!p.null_sender)
			check_address(&addr, p.smtputf8);
		CHECK(p.smtputf8 || !has_8bit(addr.data ? addr.data : "", addr.len));
	}
	buf_deinit(&addr);
}

static void fuzz_rcpt(const char *args, size_t len, bool utf8)
{
	struct smtp_reply_err err = { 0 };
	struct buf addr;
	int ret;

	buf_init(&addr, ADDRESS_MAX);
	ret = smtp_parse_rcpt(args, len, utf8, &addr, &err);
	check_err(ret, &err);
	if (ret == 0) {
		CHECK(addr.len > 0);
		if (strcmp(buf_cstr(&addr), "postmaster") != 0)
			check_address(&addr, utf8);
		CHECK(utf8 || !has_8bit(addr.data, addr.len));
	}
	buf_deinit(&addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_command cmd;
	struct smtp_reply_err err = { 0 };
	char *line;

	/* the session never hands the parsers a longer line */
	if (size > SMTP_COMMAND_LINE_MAX)
		return 0;
	/* exact size, so ASan sees any read past the end */
	line = xmalloc(size);
	memcpy(line, data, size);
	smtp_split_command(line, size, &cmd);
	CHECK(cmd.verb == line && cmd.verb_len <= size);
	CHECK(cmd.args >= line + cmd.verb_len && cmd.args + cmd.args_len <= line + size);

	if (mem_equal_ci(cmd.verb, cmd.verb_len, "MAIL")) {
		fuzz_mail(cmd.args, cmd.args_len, true);
		fuzz_mail(cmd.args, cmd.args_len, false);
	} else if (mem_equal_ci(cmd.verb, cmd.verb_len, "RCPT")) {
		fuzz_rcpt(cmd.args, cmd.args_len, false);
		fuzz_rcpt(cmd.args, cmd.args_len, true);
	} else if (mem_equal_ci(cmd.verb, cmd.verb_len, "BDAT")) {
		uint64_t chunk = 0;
		bool last = false;
		int ret = smtp_parse_bdat(cmd.args, cmd.args_len, &chunk, &last, &err);

		check_err(ret, &err);
		CHECK(ret != 0 || chunk <= UINT64_MAX / 2);
	}
	check_err(smtp_parse_helo(cmd.args, cmd.args_len, &err), &err);
	free(line);
	return 0;
}
