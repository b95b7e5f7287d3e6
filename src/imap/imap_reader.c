/*
 * The IMAP command reader: a byte-driven state machine that assembles one
 * command (lines and literals) into a bounded buffer. Every size from the
 * wire is checked before anything is buffered. After an error the reader
 * itself skips the rest of the bad command, including the bytes of any
 * non-synchronizing literal the client sends regardless (RFC 7888 4,
 * choice 1), so the session only has to reply; when skipping would mean
 * reading an unbounded amount it gives up and asks for BYE (choice 2).
 * The contract is in imap_parse.h.
 */
#include "imap/imap_parse.h"
#include "imap/imap_tokenize.h"
#include "core/util.h"
#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

enum reader_state {
	RS_LINE,	/* reading a line of the command */
	RS_LITERAL,	/* reading an inline literal into the buffer */
	RS_EXTERNAL,	/* the session is reading a big literal */
	RS_SKIP,	/* dropping a refused command up to its line end */
	RS_DRAIN,	/* dropping the bytes of a refused {n+} literal */
	RS_DONE,	/* a command (or error) was reported: reset on feed */
	RS_CLOSED,	/* unrecoverable: every feed fails */
};

/* Enough for "~{" 20 digits "+}" CR. */
#define TAIL_MAX 32

struct imap_reader {
	struct imap_limits limits;
	enum reader_state state;
	struct buf cmd;			/* the command so far; max = max_command */
	size_t line_start;		/* offset of the current line in cmd */
	uint64_t left;			/* RS_LITERAL / RS_DRAIN: bytes to go */
	struct imap_lit_span *lits;	/* owned; grown up to max_literals, so an
					 * idle session holds none */
	unsigned nlits;
	unsigned lits_cap;
	unsigned next_ext;		/* ext_index of the next external literal */
	bool line_mode;			/* next line raw, no literals */
	bool complete;			/* RS_DONE after a whole command */
	struct imap_literal_info pending;	/* RS_EXTERNAL */
	struct imap_read_error err;
	char tail[TAIL_MAX];		/* RS_SKIP: last bytes of the line */
	size_t tail_len;
};

void imap_limits_default(struct imap_limits *l)
{
	l->max_line = IMAP_LINE_MAX_DEFAULT;
	l->max_command = IMAP_COMMAND_MAX_DEFAULT;
	l->inline_literal_max = IMAP_INLINE_LITERAL_MAX_DEFAULT;
	l->max_literal = IMAP_LITERAL_MAX_DEFAULT;
	l->nonsync_max = IMAP_LITERAL_MAX_DEFAULT;
	l->drain_max = IMAP_LITERAL_MAX_DEFAULT;
	l->max_literals = IMAP_LITERALS_MAX_DEFAULT;
	l->max_depth = IMAP_DEPTH_MAX_DEFAULT;
	l->max_args = IMAP_ARGS_MAX_DEFAULT;
	l->max_seqset_ranges = IMAP_SEQSET_RANGES_MAX_DEFAULT;
	l->max_search_keys = IMAP_SEARCH_KEYS_MAX_DEFAULT;
}

struct imap_reader *imap_reader_new(const struct imap_limits *limits)
{
	struct imap_reader *r = xcalloc(1, sizeof(*r));

	r->limits = *limits;
	if (r->limits.max_depth > IMAP_DEPTH_HARD_MAX)
		r->limits.max_depth = IMAP_DEPTH_HARD_MAX;
	if (r->limits.max_literals == 0)
		r->limits.max_literals = 1;
	buf_init(&r->cmd, r->limits.max_command);
	r->state = RS_LINE;
	return r;
}

void imap_reader_free(struct imap_reader **rp)
{
	struct imap_reader *r = *rp;

	if (r == NULL)
		return;
	buf_deinit(&r->cmd);
	free(r->lits);
	free(r);
	*rp = NULL;
}

static void start_command(struct imap_reader *r)
{
	buf_reset(&r->cmd);
	r->line_start = 0;
	r->nlits = 0;
	r->next_ext = 0;
	r->tail_len = 0;
	r->complete = false;
	r->state = RS_LINE;
}

void imap_reader_reset(struct imap_reader *r)
{
	if (r->state != RS_CLOSED)
		start_command(r);
	r->line_mode = false;
}

static enum imap_read_result fail(struct imap_reader *r, const char *text, const char *code,
				  enum imap_recover recover)
{
	r->err.text = text;
	r->err.code = code;
	r->err.recover = recover;
	if (recover == IMAP_RECOVER_CLOSE)
		r->state = RS_CLOSED;
	return IMAP_READ_ERROR;
}

static void tail_add(struct imap_reader *r, const char *p, size_t n)
{
	if (n >= TAIL_MAX) {
		memcpy(r->tail, p + n - TAIL_MAX, TAIL_MAX);
		r->tail_len = TAIL_MAX;
		return;
	}
	if (r->tail_len + n > TAIL_MAX) {
		size_t drop = r->tail_len + n - TAIL_MAX;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, p, n);
	r->tail_len += n;
}

/* Drops the rest of the command: the buffered part of the current line
 * seeds the tail, so a literal announcement at its end is still seen. */
static enum imap_read_result fail_skip(struct imap_reader *r, const char *text, const char *code)
{
	size_t n = r->cmd.len - r->line_start;

	r->tail_len = 0;
	tail_add(r, r->cmd.data ? r->cmd.data + r->line_start : "", n);
	r->state = RS_SKIP;
	/* a refused raw line (AUTHENTICATE) ends that exchange */
	r->line_mode = false;
	return fail(r, text, code, IMAP_RECOVER_BAD);
}

/* A literal the client sends without waiting (size given) must be drained
 * or, above drain_max, the connection closed. */
static enum imap_read_result drain_or_close(struct imap_reader *r, uint64_t size)
{
	if (size > r->limits.drain_max)
		return IMAP_READ_ERROR;
	r->left = size;
	r->state = RS_DRAIN;
	return IMAP_READ_MORE;
}

/* Refuses a literal that was just announced (the line is complete). */
static enum imap_read_result refuse_literal(struct imap_reader *r, uint64_t size, bool sync,
					    const char *text, const char *code)
{
	if (sync) {
		/* RFC 9051 7.5: the client waits for "+"; a BAD ends it */
		r->state = RS_DONE;
		return fail(r, text, code, IMAP_RECOVER_BAD);
	}
	if (drain_or_close(r, size) == IMAP_READ_ERROR)
		return fail(r, "Non-synchronizing literal too large", "TOOBIG",
			    IMAP_RECOVER_CLOSE);
	return fail(r, text, code, IMAP_RECOVER_BAD);
}

static enum imap_read_result announce(struct imap_reader *r, uint64_t size, bool sync,
				      bool binary)
{
	struct imap_lit_span *lit;

	if (r->nlits >= r->limits.max_literals)
		return refuse_literal(r, size, sync, "Too many literals in one command", "LIMIT");
	if (size > r->limits.max_literal || (!sync && size > r->limits.nonsync_max))
		return refuse_literal(r, size, sync, "Literal too large", "TOOBIG");
	if (r->nlits == r->lits_cap) {
		r->lits_cap = r->lits_cap ? r->lits_cap * 2 : 4;
		r->lits = xrealloc(r->lits, r->lits_cap * sizeof(*r->lits));
	}
	lit = &r->lits[r->nlits++];
	memset(lit, 0, sizeof(*lit));
	lit->offset = r->cmd.len;
	lit->size = size;
	lit->binary = binary;
	if (size > r->limits.inline_literal_max || size > r->cmd.max - r->cmd.len) {
		lit->external = true;
		lit->ext_index = r->next_ext++;
		r->pending.size = size;
		r->pending.sync = sync;
		r->pending.binary = binary;
		r->pending.index = lit->ext_index;
		r->state = RS_EXTERNAL;
		return IMAP_READ_LITERAL;
	}
	lit->len = (size_t)size;
	r->left = size;
	r->state = RS_LITERAL;
	if (size == 0) {
		r->state = RS_LINE;
		r->line_start = r->cmd.len;
	}
	return sync ? IMAP_READ_CONTINUE : IMAP_READ_MORE;
}

/* The line just ended (without CR LF in the buffer). */
static enum imap_read_result line_complete(struct imap_reader *r)
{
	const char *line = r->cmd.data + r->line_start;
	size_t len = r->cmd.len - r->line_start, start;
	uint64_t size;
	bool sync, binary;
	int ret;

	if (r->line_mode) {
		r->line_mode = false;
		r->state = RS_DONE;
		r->complete = true;
		return IMAP_READ_DONE;
	}
	ret = imap_literal_suffix(line, len, &size, &sync, &binary, &start);
	if (ret == 0) {
		r->state = RS_DONE;
		r->complete = true;
		return IMAP_READ_DONE;
	}
	if (ret < 0)
		return refuse_literal(r, UINT64_MAX, sync, "Literal size out of range", "TOOBIG");
	return announce(r, size, sync, binary);
}

static enum imap_read_result step_line(struct imap_reader *r, const char *p, size_t n,
				       size_t *used_r)
{
	const char *lf = memchr(p, '\n', n), *nul;
	size_t take = lf != NULL ? (size_t)(lf - p) : n;
	size_t have = r->cmd.len - r->line_start;

	*used_r = 0;
	/* checked before buffering: the LF-less part of a line never grows
	 * the buffer past max_line */
	if (take > r->limits.max_line || have > r->limits.max_line - take) {
		enum imap_read_result ret = fail_skip(r, "Command line too long", "TOOBIG");

		/* keep what fits, so imap_reader_tag() finds the tag; the skip
		 * step sees these bytes again, so the tail was seeded first */
		if (have < r->limits.max_line && memchr(p, '\0', take) == NULL)
			(void)buf_append(&r->cmd, p, r->limits.max_line - have);
		return ret;
	}
	nul = memchr(p, '\0', take);
	if (nul != NULL) {
		enum imap_read_result ret = fail_skip(r, "NUL byte in command line", NULL);

		(void)buf_append(&r->cmd, p, (size_t)(nul - p));
		return ret;
	}
	if (buf_append(&r->cmd, p, take) < 0)
		return fail_skip(r, "Command too long", "TOOBIG");
	*used_r = take;
	if (lf == NULL)
		return IMAP_READ_MORE;
	*used_r = take + 1;
	if (r->cmd.len > r->line_start && r->cmd.data[r->cmd.len - 1] == '\r')
		r->cmd.data[--r->cmd.len] = '\0';
	return line_complete(r);
}

static enum imap_read_result step_literal(struct imap_reader *r, const char *p, size_t n,
					  size_t *used_r)
{
	size_t take = r->left < n ? (size_t)r->left : n;

	/* cannot fail: announce() checked the room against max_command */
	if (buf_append(&r->cmd, p, take) < 0)
		fatal("imap_reader: literal does not fit its checked room");
	r->left -= take;
	*used_r = take;
	if (r->left == 0) {
		r->state = RS_LINE;
		r->line_start = r->cmd.len;
	}
	return IMAP_READ_MORE;
}

/* Skips to the end of a refused command's line; a {n+} at its end means
 * the client sends n bytes without waiting, which are drained too. */
static enum imap_read_result step_skip(struct imap_reader *r, const char *p, size_t n,
				       size_t *used_r)
{
	const char *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) : n, start;
	uint64_t size;
	bool sync, binary;
	int ret;

	tail_add(r, p, take);
	*used_r = lf != NULL ? take + 1 : take;
	if (lf == NULL)
		return IMAP_READ_MORE;
	if (r->tail_len > 0 && r->tail[r->tail_len - 1] == '\r')
		r->tail_len--;
	ret = imap_literal_suffix(r->tail, r->tail_len, &size, &sync, &binary, &start);
	r->tail_len = 0;
	if (ret != 0 && !sync) {
		if (ret < 0 || drain_or_close(r, size) == IMAP_READ_ERROR)
			return fail(r, "Non-synchronizing literal too large", "TOOBIG",
				    IMAP_RECOVER_CLOSE);
		return IMAP_READ_MORE;
	}
	/* a {n} of a refused command is never answered with "+": done */
	start_command(r);
	return IMAP_READ_MORE;
}

static enum imap_read_result step_drain(struct imap_reader *r, size_t n, size_t *used_r)
{
	size_t take = r->left < n ? (size_t)r->left : n;

	r->left -= take;
	*used_r = take;
	if (r->left == 0) {
		r->tail_len = 0;
		r->state = RS_SKIP;
	}
	return IMAP_READ_MORE;
}

static enum imap_read_result step(struct imap_reader *r, const char *p, size_t n, size_t *used_r)
{
	switch (r->state) {
	case RS_LINE:
		return step_line(r, p, n, used_r);
	case RS_LITERAL:
		return step_literal(r, p, n, used_r);
	case RS_SKIP:
		return step_skip(r, p, n, used_r);
	case RS_DRAIN:
		return step_drain(r, n, used_r);
	default:
		break;
	}
	*used_r = 0;
	return fail(r, "Internal error: input fed while a literal is outstanding", NULL,
		    IMAP_RECOVER_CLOSE);
}

enum imap_read_result imap_reader_feed(struct imap_reader *r, const void *data, size_t len,
				       size_t *consumed_r)
{
	const char *p = data;
	size_t used = 0;

	*consumed_r = 0;
	if (r->state == RS_CLOSED)
		return fail(r, "Connection must be closed", r->err.code, IMAP_RECOVER_CLOSE);
	if (r->state == RS_DONE)
		start_command(r);
	while (used < len) {
		size_t n = 0;
		enum imap_read_result ret = step(r, p + used, len - used, &n);

		used += n;
		if (ret != IMAP_READ_MORE) {
			*consumed_r = used;
			return ret;
		}
	}
	*consumed_r = used;
	return IMAP_READ_MORE;
}

const struct imap_read_error *imap_reader_error(const struct imap_reader *r)
{
	return &r->err;
}

bool imap_reader_tag(const struct imap_reader *r, const char **tag_r, size_t *len_r)
{
	const char *s = r->cmd.data;
	size_t i, len = r->cmd.len;

	if (s == NULL)
		return false;
	for (i = 0; i < len && s[i] != ' '; i++) {
		unsigned char c = (unsigned char)s[i];

		/* tag = 1*<any ASTRING-CHAR except "+"> */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\+", c) != NULL)
			return false;
	}
	if (i == 0 || i == len)
		return false;
	*tag_r = s;
	*len_r = i;
	return true;
}

const struct imap_literal_info *imap_reader_literal(const struct imap_reader *r)
{
	return &r->pending;
}

void imap_reader_partial(const struct imap_reader *r, const char **data_r, size_t *len_r)
{
	*data_r = r->cmd.data != NULL ? r->cmd.data : "";
	*len_r = r->cmd.len;
}

void imap_reader_literal_done(struct imap_reader *r)
{
	if (r->state != RS_EXTERNAL)
		fatal("imap_reader_literal_done without an outstanding literal");
	r->state = RS_LINE;
	r->line_start = r->cmd.len;
}

enum imap_recover imap_reader_literal_reject(struct imap_reader *r)
{
	if (r->state != RS_EXTERNAL)
		fatal("imap_reader_literal_reject without an outstanding literal");
	if (r->pending.sync) {
		r->state = RS_DONE;
		return IMAP_RECOVER_BAD;
	}
	if (drain_or_close(r, r->pending.size) == IMAP_READ_ERROR) {
		fail(r, "Non-synchronizing literal too large", "TOOBIG", IMAP_RECOVER_CLOSE);
		return IMAP_RECOVER_CLOSE;
	}
	return IMAP_RECOVER_BAD;
}

void imap_reader_line_mode(struct imap_reader *r)
{
	r->line_mode = true;
}

void imap_reader_line(const struct imap_reader *r, const char **data_r, size_t *len_r)
{
	imap_reader_partial(r, data_r, len_r);
}

int imap_reader_parse(struct imap_reader *r, struct imap_args *args, struct imap_command *cmd_r,
		      const char **error_r)
{
	if (r->state != RS_DONE || !r->complete || r->cmd.data == NULL) {
		memset(cmd_r, 0, sizeof(*cmd_r));
		*error_r = "No complete command";
		return -1;
	}
	return imap_tokenize(&r->limits, r->cmd.data, r->cmd.len, r->lits, r->nlits, args, cmd_r,
			     error_r);
}
