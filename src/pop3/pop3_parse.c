/*
 * POP3 command line parser and the byte-stuffing encoder.
 */
#include "pop3/pop3_parse.h"
#include "core/util.h"

#include <ctype.h>
#include <string.h>

int pop3_parse_command(const char *line, size_t len, struct pop3_command *cmd,
		       const char **error_r)
{
	size_t i;

	for (i = 0; i < len && line[i] != ' '; i++) {
		if (i >= 4 || !isalpha((unsigned char)line[i])) {
			*error_r = "Unknown command";
			return -1;
		}
		cmd->keyword[i] = (char)toupper((unsigned char)line[i]);
	}
	if (i < 3) {
		*error_r = "Unknown command";
		return -1;
	}
	cmd->keyword[i] = '\0';
	cmd->args = i < len ? line + i + 1 : line + len;
	cmd->args_len = i < len ? len - i - 1 : 0;
	return 0;
}

int pop3_parse_numbers(const char *args, size_t len, unsigned min, unsigned max, uint64_t *out)
{
	unsigned n = 0;
	size_t i = 0, start;

	while (i < len) {
		start = i;
		while (i < len && args[i] != ' ')
			i++;
		if (n >= max || parse_uint(args + start, i - start, UINT32_MAX, &out[n]) < 0)
			return -1;
		n++;
		if (i < len) {
			i++;	/* one space between arguments */
			if (i == len)
				return -1;
		}
	}
	return n >= min ? (int)n : -1;
}

size_t pop3_stuff(const char *data, size_t len, char *out, int *at_line_start)
{
	size_t o = 0, i = 0;
	const char *nl;

	while (i < len) {
		if (*at_line_start && data[i] == '.')
			out[o++] = '.';
		nl = memchr(data + i, '\n', len - i);
		if (nl == NULL) {
			memcpy(out + o, data + i, len - i);
			o += len - i;
			*at_line_start = 0;
			break;
		}
		/* UNSAFE: nl points inside data[i, len), so the span fits */
		memcpy(out + o, data + i, (size_t)(nl - (data + i)) + 1);
		o += (size_t)(nl - (data + i)) + 1;
		i = (size_t)(nl - data) + 1;
		*at_line_start = 1;
	}
	return o;
}
