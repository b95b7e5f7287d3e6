/*
 * SMTP command parsing (RFC 5321 4.1, with the parameters of RFC 1870
 * SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8 and RFC 3030 BDAT). Pure
 * functions: no I/O, no allocation beyond the bufs passed in, fuzzed by
 * fuzz/fuzz_smtp_command.c. Errors come back as a complete reply (code,
 * enhanced code, text) so the session can send them as they are.
 */
#ifndef TERN_SMTP_PARSE_H
#define TERN_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct smtp_reply_err {
	int code;		/* e.g. 501 */
	const char *status;	/* RFC 3463 enhanced code, e.g. "5.5.4" */
	const char *text;
};

struct smtp_command {
	const char *verb;	/* borrowed: points into the line */
	size_t verb_len;
	const char *args;	/* borrowed: after the first space, or "" */
	size_t args_len;
};

/* Splits a command line (without CRLF) into verb and arguments. */
void smtp_split_command(const char *line, size_t len, struct smtp_command *cmd);

enum smtp_body {
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

struct smtp_mail_params {
	bool null_sender;	/* MAIL FROM:<> */
	uint64_t size;		/* SIZE=, 0 if not given */
	enum smtp_body body;
	bool smtputf8;
};

/* Parses "FROM:<path> [params]". esmtp: whether EHLO was used (params are
 * refused after HELO). The address (empty for <>) is appended to addr.
 * Returns 0 or -1 with *err filled. */
int smtp_parse_mail(const char *args, size_t len, bool esmtp, struct smtp_mail_params *p,
		    struct buf *addr, struct smtp_reply_err *err);

/* Parses "TO:<path>" (RFC 5321 4.1.1.3; no RCPT parameters are offered).
 * utf8: SMTPUTF8 was given on MAIL. "<postmaster>" yields "postmaster". */
int smtp_parse_rcpt(const char *args, size_t len, bool utf8, struct buf *addr,
		    struct smtp_reply_err *err);

/* Parses "chunk-size [LAST]" (RFC 3030 2). */
int smtp_parse_bdat(const char *args, size_t len, uint64_t *size_r, bool *last_r,
		    struct smtp_reply_err *err);

/* Checks an EHLO/HELO argument: one printable token (a domain or an
 * address literal, leniently), at most 255 octets. */
int smtp_parse_helo(const char *args, size_t len, struct smtp_reply_err *err);

#endif
