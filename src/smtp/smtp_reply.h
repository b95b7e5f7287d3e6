/*
 * SMTP reply parsing for the client side (RFC 5321 4.2): replies of one
 * or more lines "250-text" ... "250 text", the RFC 3463 enhanced status
 * code of the first line, and the EHLO keywords the client acts on (RFC
 * 1870 SIZE, 3207 STARTTLS, 2920 PIPELINING, 6152 8BITMIME, 6531
 * SMTPUTF8, 4954 AUTH, 3030 CHUNKING). Pure: no I/O; the caller cuts the
 * input into lines (without CRLF) and feeds them one at a time, so the
 * parser is incremental and fuzzed by fuzz/fuzz_smtp_reply.c. A server
 * controls every byte here, so each line and the number of lines are
 * bounded by the limits given at creation.
 */
#ifndef TERN_SMTP_REPLY_H
#define TERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* RFC 5321 4.5.3.1.5 says 512 octets per reply line; real servers send
 * longer (Exchange banners), so allow some slack. */
#define SMTP_REPLY_LINE_MAX 2048
/* EHLO replies run to ~20 lines; anything past this is abuse. */
#define SMTP_REPLY_LINES_MAX 100

struct smtp_reply_limits {
	size_t line_max;	/* octets per line, without CRLF */
	unsigned lines_max;	/* lines per reply */
};

struct smtp_reply {
	int code;		/* 200..599 */
	char enhanced[16];	/* "5.1.1", or "" when the server gave none */
	struct buf text;	/* every line's text after "NNN-"/"NNN ", joined
				   with '\n'; bounded by the limits */
	unsigned n_lines;
};

struct smtp_reply_parser {
	struct smtp_reply_limits limits;
	struct smtp_reply reply;	/* being assembled, then complete */
	bool done;			/* reply holds a complete reply */
};

void smtp_reply_parser_init(struct smtp_reply_parser *p, const struct smtp_reply_limits *limits);
void smtp_reply_parser_deinit(struct smtp_reply_parser *p);

/* Feeds one line without its CRLF. Returns 1 when it completed a reply
 * (then p->reply is valid until the next call), 0 when more lines
 * follow, -1 on a malformed line with *error_r set (a static string); the
 * connection should then be dropped. */
int smtp_reply_feed(struct smtp_reply_parser *p, const char *line, size_t len,
		    const char **error_r);

enum smtp_auth_mech {
	SMTP_AUTH_PLAIN = 1 << 0,
	SMTP_AUTH_LOGIN = 1 << 1,
};

struct smtp_ehlo {
	bool starttls, pipelining, eightbitmime, smtputf8, chunking;
	bool size_given;
	uint64_t size;		/* SIZE n; 0 with size_given means no limit */
	unsigned auth;		/* enum smtp_auth_mech bits */
};

/* Reads the keywords of a 250 EHLO reply (the first line is the greeting
 * and is skipped). Unknown keywords are ignored. */
void smtp_ehlo_parse(const struct smtp_reply *reply, struct smtp_ehlo *ehlo_r);

/* Copies the first enhanced status code out of "X.Y.Z rest" text: class
 * one digit, subject and detail 1-3 digits each (RFC 3463 2). Returns
 * the length used (0 when text does not start with one). */
size_t smtp_enhanced_parse(const char *text, size_t len, char out[16]);

#endif
