/*
 * IMAP command input, in two pure steps (no I/O, fuzzed by
 * fuzz/fuzz_imap_command.c):
 *
 *  1. struct imap_reader assembles one complete command from the bytes the
 *     session feeds it: the line, its literals ({n} synchronizing, {n+}
 *     LITERAL+/LITERAL- of RFC 7888, ~{n} / ~{n+} literal8 of RFC 3516)
 *     and the lines that follow them. It tells the session when to send a
 *     "+" continuation, hands literals above inline_literal_max to the
 *     session (APPEND streams them to a spool file), and after an error
 *     says how to recover and resynchronizes on the next command by itself.
 *
 *  2. imap_reader_parse() / imap_parse_line() split the command into tag,
 *     name ("UID FETCH" becomes name "FETCH" with uid set) and a flat
 *     token tree (struct imap_arg). Command handlers walk it with a
 *     struct imap_cursor, whose functions enforce the RFC 9051 section 9
 *     grammar of each argument kind and leave a BAD-reply text on error.
 *
 * The other grammars live next to this one: imap_seqset.h, imap_fetch.h,
 * imap_search.h, imap_grammar.h (flags, STORE, dates, LIST, STATUS,
 * string writer) and imap_utf7.h. All limits come from struct imap_limits.
 */
#ifndef TERN_IMAP_PARSE_H
#define TERN_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct imap_limits {
	size_t max_line;		/* one line of a command, without CRLF;
					 * checked before it is buffered */
	size_t max_command;		/* lines + inline literals of one command */
	uint64_t inline_literal_max;	/* literals above: IMAP_READ_LITERAL */
	uint64_t max_literal;		/* largest literal accepted at all */
	uint64_t nonsync_max;		/* {n+} above this is refused: 4096 with
					 * LITERAL- (RFC 7888 5), max_literal with
					 * LITERAL+ */
	uint64_t drain_max;		/* a refused {n+} up to this size is read
					 * and thrown away; above it the session
					 * must close (RFC 7888 4) */
	unsigned max_literals;		/* literals per command */
	unsigned max_depth;		/* parenthesis nesting, at most
					 * IMAP_DEPTH_HARD_MAX */
	unsigned max_args;		/* tokens per command */
	unsigned max_seqset_ranges;	/* ranges in one sequence set */
	unsigned max_search_keys;	/* keys in one SEARCH program */
};

/* The cursor stack is a fixed array; max_depth is clamped to this. */
#define IMAP_DEPTH_HARD_MAX 64

/* Fills l with the defaults of core/limits.h (LITERAL+ semantics). */
void imap_limits_default(struct imap_limits *l);

/* ---- 1. the command reader ------------------------------------------ */

enum imap_read_result {
	/* The command cannot be read; see imap_reader_error(). */
	IMAP_READ_ERROR = -1,
	/* All input was consumed and the command is not complete yet. */
	IMAP_READ_MORE = 0,
	/* A complete command: parse it with imap_reader_parse() (or take the
	 * raw line in line mode). Bytes after it were not consumed. */
	IMAP_READ_DONE = 1,
	/* A synchronizing literal {n} was announced: send "+ Ready" now, then
	 * keep feeding; the reader takes the literal bytes itself. */
	IMAP_READ_CONTINUE = 2,
	/* A literal larger than inline_literal_max (or one that would push
	 * the command past max_command) was announced: see
	 * imap_reader_literal(). The session either takes it (sends "+" if
	 * it is synchronizing, consumes exactly its size from the input
	 * itself, then calls imap_reader_literal_done()) or refuses it with
	 * imap_reader_literal_reject(). */
	IMAP_READ_LITERAL = 3,
};

enum imap_recover {
	/* Reply BAD (tagged when imap_reader_tag() finds a tag) and carry on:
	 * the reader drops the rest of the command by itself, draining any
	 * non-synchronizing literal the client sends regardless. */
	IMAP_RECOVER_BAD,
	/* Send "* BYE" and close: the input cannot be resynchronized (a huge
	 * non-synchronizing literal, RFC 7888 4 choice 2). Every later feed
	 * fails too. */
	IMAP_RECOVER_CLOSE,
};

struct imap_read_error {
	const char *text;	/* static, fit for a BAD/BYE reply */
	const char *code;	/* response code without brackets ("TOOBIG",
				 * "LIMIT") or NULL */
	enum imap_recover recover;
};

struct imap_literal_info {
	uint64_t size;
	bool sync;		/* {n}: the session must send "+" before it */
	bool binary;		/* ~{n}: literal8, may contain NUL */
	unsigned index;		/* k of the IMAP_ARG_LITERAL_EXT it becomes */
};

struct imap_reader;

/* Limits are copied. */
struct imap_reader *imap_reader_new(const struct imap_limits *limits);
void imap_reader_free(struct imap_reader **r);

/* Feeds input. Consumes bytes from data until it has something to report
 * and stores how many in *consumed_r; the caller drops those and feeds the
 * rest again after acting on the result (pipelined commands follow each
 * other in one buffer). A result other than IMAP_READ_MORE may leave input
 * unconsumed. Feeding after IMAP_READ_DONE discards the previous command:
 * everything returned for it is valid until the next feed or reset.
 * Feeding while a literal is outstanding (after IMAP_READ_LITERAL) is a
 * caller bug and returns IMAP_READ_ERROR with recover CLOSE. */
enum imap_read_result imap_reader_feed(struct imap_reader *r, const void *data, size_t len,
				       size_t *consumed_r);

/* The last error; valid until the next feed. */
const struct imap_read_error *imap_reader_error(const struct imap_reader *r);

/* The tag of the command being read (or just failed), if the start of its
 * first line holds a valid one: for a tagged BAD after an error. Returns
 * false otherwise. Borrowed: valid until the next feed. */
bool imap_reader_tag(const struct imap_reader *r, const char **tag_r, size_t *len_r);

/* The outstanding literal after IMAP_READ_LITERAL. */
const struct imap_literal_info *imap_reader_literal(const struct imap_reader *r);

/* What has been read of the command so far, up to the outstanding literal:
 * lets the session check tag and command name (e.g. only APPEND may send a
 * big literal) before it takes one. Borrowed: valid until the next feed.
 * Inline literals inside it are raw bytes. */
void imap_reader_partial(const struct imap_reader *r, const char **data_r, size_t *len_r);

/* The caller has consumed the outstanding literal's bytes itself. */
void imap_reader_literal_done(struct imap_reader *r);

/* The caller refuses the outstanding literal and replies NO/BAD. For {n}
 * the client sends nothing more: the command is dropped. For {n+} the
 * bytes come anyway: the reader drains them and the rest of the command,
 * and returns IMAP_RECOVER_BAD; if the literal is above drain_max it
 * returns IMAP_RECOVER_CLOSE and the session must send BYE. */
enum imap_recover imap_reader_literal_reject(struct imap_reader *r);

/* Reads the next line raw, without literal processing: for AUTHENTICATE
 * responses (RFC 9051 6.2.2) and IDLE's "DONE". The mode lasts for one
 * line; take it with imap_reader_line() after IMAP_READ_DONE. */
void imap_reader_line_mode(struct imap_reader *r);

/* The complete command (or raw line), without its final CRLF, literals
 * included as raw bytes. Borrowed: valid until the next feed. */
void imap_reader_line(const struct imap_reader *r, const char **data_r, size_t *len_r);

/* Forgets any partial command, error state included (not a CLOSE). */
void imap_reader_reset(struct imap_reader *r);

/* ---- 2. tokens ---------------------------------------------------------- */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* also numbers, NIL, flags, sequence sets */
	IMAP_ARG_QUOTED,	/* unescaped contents */
	IMAP_ARG_LITERAL,	/* inline literal bytes (binary: may hold NUL) */
	IMAP_ARG_LITERAL_EXT,	/* a literal the session took: ext_index */
	IMAP_ARG_LIST,		/* "(" ... ")": children follow it */
	IMAP_ARG_SECTION,	/* BODY[...]<...> and BINARY...: data is the
				 * name before "[", children the tokens inside
				 * the brackets, suffix what follows "]" */
};

struct imap_arg {
	enum imap_arg_type type;
	bool binary;		/* LITERAL / LITERAL_EXT: literal8 */
	const char *data;	/* borrowed from the reader (or the line) */
	size_t len;
	const char *suffix;	/* SECTION: e.g. "<0.100>", may be empty */
	size_t suffix_len;
	unsigned subtree;	/* LIST / SECTION: tokens after this one that
				 * belong to it (all descendants) */
	unsigned ext_index;	/* LITERAL_EXT */
	uint64_t ext_size;	/* LITERAL_EXT */
};

/* A token array, reused from command to command. */
struct imap_args {
	struct imap_arg *v;	/* owned */
	unsigned count;
	unsigned cap;
};

void imap_args_init(struct imap_args *a);
void imap_args_deinit(struct imap_args *a);

struct imap_command {
	const char *tag;	/* borrowed, like every pointer here */
	size_t tag_len;
	const char *name;	/* as sent; compare with mem_equal_ci() */
	size_t name_len;
	bool uid;		/* "UID <name>" */
	const struct imap_arg *args;	/* the arguments after the name */
	unsigned arg_count;
};

/* Tokenizes the command returned by IMAP_READ_DONE. Quoted strings are
 * unescaped in place in the reader's buffer, so parse a command once.
 * args receives the tokens; cmd_r points into args and the reader (valid
 * until the next feed or parse). On error returns -1 with a BAD text in
 * *error_r; cmd_r->tag is set (tag_len > 0) when the tag itself was fine,
 * for a tagged BAD. Nesting beyond max_depth, more than max_args tokens,
 * unbalanced parentheses or brackets, CTLs, 8-bit atoms and bad quoting
 * are errors. */
int imap_reader_parse(struct imap_reader *r, struct imap_args *args, struct imap_command *cmd_r,
		      const char **error_r);

/* The same for one line without literals (line is rewritten in place).
 * For tests, fuzzing and internally generated commands. */
int imap_parse_line(const struct imap_limits *limits, char *line, size_t len,
		    struct imap_args *args, struct imap_command *cmd_r, const char **error_r);

/* Numbers (RFC 9051 9: number, nz-number, number64): digits only, no
 * sign, overflow-checked. Return 0 or -1. */
int imap_parse_number(const char *s, size_t len, uint32_t *value_r);
int imap_parse_nz_number(const char *s, size_t len, uint32_t *value_r);
int imap_parse_number64(const char *s, size_t len, uint64_t *value_r);	/* < 2^63 */

/* ---- the cursor ----------------------------------------------------------- */

/* Walks the tokens of one list level at a time. Every imap_arg_*() that
 * fails returns -1, consumes nothing and leaves a BAD text in cur->error
 * (the first error wins, so a chain of calls can be checked once). */
struct imap_cursor {
	const struct imap_arg *pos;
	const struct imap_arg *end;	/* of the current list */
	const struct imap_arg *outer_end[IMAP_DEPTH_HARD_MAX];
	unsigned depth;
	const char *error;		/* static text, NULL while all is well */
};

void imap_cursor_init(struct imap_cursor *cur, const struct imap_command *cmd);
/* A cursor over the children of a LIST or SECTION token. */
void imap_cursor_init_children(struct imap_cursor *cur, const struct imap_arg *list);

/* Records an error text (the first one wins) and returns -1. */
int imap_cursor_fail(struct imap_cursor *cur, const char *error);

/* The next token without consuming it, or NULL at the end of the list. */
const struct imap_arg *imap_arg_peek(const struct imap_cursor *cur);
bool imap_arg_at_end(const struct imap_cursor *cur);
/* Consumes any one token (a whole subtree for lists). */
int imap_arg_next(struct imap_cursor *cur, const struct imap_arg **arg_r);
/* 0 when the current list is exhausted, else "Unexpected extra arguments". */
int imap_arg_end(struct imap_cursor *cur);

/* Consumes the next token if it is an atom equal to kw, ignoring case. */
bool imap_arg_keyword(struct imap_cursor *cur, const char *kw);
bool imap_arg_is_nil(const struct imap_arg *arg);
/* arg != NULL and a parenthesized list. */
bool imap_arg_is_list(const struct imap_arg *arg);

int imap_arg_atom(struct imap_cursor *cur, const char **s_r, size_t *len_r);
/* string = quoted / literal (inline, not literal8). */
int imap_arg_string(struct imap_cursor *cur, const char **s_r, size_t *len_r);
/* astring = atom (ASTRING-CHARs) / string. */
int imap_arg_astring(struct imap_cursor *cur, const char **s_r, size_t *len_r);
/* nstring = string / NIL; NIL gives *s_r = NULL, *len_r = 0. */
int imap_arg_nstring(struct imap_cursor *cur, const char **s_r, size_t *len_r);
int imap_arg_number(struct imap_cursor *cur, uint32_t *value_r);
int imap_arg_nz_number(struct imap_cursor *cur, uint32_t *value_r);
int imap_arg_number64(struct imap_cursor *cur, uint64_t *value_r);
/* Enters a parenthesized list; leave it with imap_arg_list_leave(), which
 * fails unless the list was consumed to its end. */
int imap_arg_list_enter(struct imap_cursor *cur);
int imap_arg_list_leave(struct imap_cursor *cur);

/* An APPEND message: literal or literal8, inline or taken by the session. */
struct imap_message_arg {
	bool external;		/* taken by the session: index, size */
	bool binary;		/* literal8 (RFC 3516 4.4: APPEND ~{n}) */
	const char *data;	/* inline: borrowed bytes */
	uint64_t size;
	unsigned index;
};
int imap_arg_message(struct imap_cursor *cur, struct imap_message_arg *msg_r);

#endif
