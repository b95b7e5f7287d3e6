/*
 * POP3 command parsing (RFC 1939 3, RFC 2449 3). Pure functions, fuzzed
 * by fuzz/fuzz_pop3_command.c.
 */
#ifndef TERN_POP3_PARSE_H
#define TERN_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct pop3_command {
	char keyword[5];	/* uppercased, NUL-terminated */
	const char *args;	/* borrowed: the rest of the line after one space */
	size_t args_len;
};

/* Splits a command line (without CRLF). Keywords are 3 or 4 letters.
 * Returns 0 or -1 with *error_r. */
int pop3_parse_command(const char *line, size_t len, struct pop3_command *cmd,
		       const char **error_r);

/* Parses between min and max space-separated decimal numbers (each
 * 0..UINT32_MAX) filling all of args. Returns how many, or -1. */
int pop3_parse_numbers(const char *args, size_t len, unsigned min, unsigned max, uint64_t *out);

/* Writes data into out with POP3 byte-stuffing (RFC 1939 3): a line that
 * starts with "." gets another "." in front. *at_line_start carries the
 * state across calls. out must hold 2 * len bytes; returns bytes written. */
size_t pop3_stuff(const char *data, size_t len, char *out, int *at_line_start);

#endif
