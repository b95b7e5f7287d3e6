/*
 * The IMAP tokenizer and the argument cursor. The tokenizer turns an
 * assembled command (line segments joined by the literals the reader
 * stored) into a flat pre-order array of struct imap_arg: a list is one
 * token followed by its whole subtree, so skipping it is one addition and
 * nothing is allocated per token. It follows RFC 9051 section 9 strictly
 * where a mistake would desynchronize or mislead (quoting, literals, CTLs,
 * nesting) and leniently where clients differ harmlessly (several spaces
 * between tokens). The contract is in imap_parse.h.
 */
#include "imap/imap_parse.h"
#include "imap/imap_tokenize.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

struct tok {
	const struct imap_limits *lim;
	char *base;			/* the whole command */
	size_t total;
	char *p, *end;			/* the current line segment */
	const struct imap_lit_span *lits;
	unsigned nlits, lit_i;
	struct imap_args *args;
	const char *error;
};

void imap_args_init(struct imap_args *a)
{
	memset(a, 0, sizeof(*a));
}

void imap_args_deinit(struct imap_args *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int tok_fail(struct tok *t, const char *error)
{
	if (t->error == NULL)
		t->error = error;
	return -1;
}

/* Appends a token and returns its index, or -1 past max_args. */
static int new_arg(struct tok *t, enum imap_arg_type type, const char *data, size_t len)
{
	struct imap_args *a = t->args;
	struct imap_arg *arg;

	if (a->count >= t->lim->max_args)
		return tok_fail(t, "Too many arguments");
	if (a->count == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	arg = &a->v[a->count];
	memset(arg, 0, sizeof(*arg));
	arg->type = type;
	arg->data = data;
	arg->len = len;
	return (int)a->count++;
}

/* ATOM-CHAR plus what the atom-based grammars need in tokens: "%" and
 * "*" (list-mailbox, sequence sets), "\" (flags) and "]" outside of a
 * section. 8-bit atoms are not allowed (RFC 6855 3 keeps atoms ASCII). */
static bool is_atom_char(unsigned char c, bool in_section)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	if (c == '(' || c == ')' || c == '{' || c == '"')
		return false;
	return !(in_section && c == ']');
}

static bool is_section_name(const char *s, size_t len)
{
	return mem_equal_ci(s, len, "BODY") || mem_equal_ci(s, len, "BODY.PEEK") ||
	       mem_equal_ci(s, len, "BINARY") || mem_equal_ci(s, len, "BINARY.PEEK") ||
	       mem_equal_ci(s, len, "BINARY.SIZE");
}

int imap_literal_suffix(const char *line, size_t len, uint64_t *size_r, bool *sync_r,
			bool *binary_r, size_t *start_r)
{
	size_t i = len, digits_end;

	*sync_r = true;
	if (i < 3 || line[i - 1] != '}')
		return 0;
	i--;
	if (line[i - 1] == '+') {
		*sync_r = false;
		i--;
	}
	digits_end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == digits_end || i == 0 || line[i - 1] != '{')
		return 0;
	*start_r = i - 1;
	*binary_r = i >= 2 && line[i - 2] == '~';
	if (*binary_r)
		(*start_r)--;
	if (imap_parse_number64(line + i, digits_end - i, size_r) < 0)
		return -1;
	return 1;
}

static int parse_items(struct tok *t, char closer, unsigned depth);

/* "(" ... ")" or, for a section, "[" ... "]" followed by its suffix. */
static int parse_group(struct tok *t, int idx, char closer, unsigned depth)
{
	if (depth >= t->lim->max_depth)
		return tok_fail(t, "Too deeply nested parentheses");
	if (parse_items(t, closer, depth + 1) < 0)
		return -1;
	t->args->v[idx].subtree = t->args->count - (unsigned)idx - 1;
	return 0;
}

static int parse_atom(struct tok *t, bool in_section, unsigned depth)
{
	char *s = t->p;
	int idx;

	while (t->p < t->end && is_atom_char((unsigned char)*t->p, in_section)) {
		if (*t->p == '[' && is_section_name(s, (size_t)(t->p - s)))
			break;
		t->p++;
	}
	if (t->p == s)
		return tok_fail(t, *s == ']' || *s == ')' ? "Unbalanced parentheses or brackets" :
				"Invalid characters in atom");
	idx = new_arg(t, IMAP_ARG_ATOM, s, (size_t)(t->p - s));
	if (idx < 0 || t->p == t->end || *t->p != '[')
		return idx < 0 ? -1 : 0;
	/* BODY[...]<...>: the name, then the bracketed tokens */
	t->args->v[idx].type = IMAP_ARG_SECTION;
	t->p++;
	if (parse_group(t, idx, ']', depth) < 0)
		return -1;
	s = t->p;
	while (t->p < t->end && is_atom_char((unsigned char)*t->p, in_section) && *t->p != '[')
		t->p++;
	t->args->v[idx].suffix = s;
	t->args->v[idx].suffix_len = (size_t)(t->p - s);
	return 0;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE, unescaped in place. */
static int parse_quoted(struct tok *t)
{
	char *start = ++t->p, *w = start;

	for (;;) {
		char c;

		if (t->p == t->end)
			return tok_fail(t, "Unterminated quoted string");
		c = *t->p++;
		if (c == '"')
			break;
		if (c == '\r' || c == '\n' || c == '\0')
			return tok_fail(t, "CR, LF or NUL in quoted string");
		if (c == '\\') {
			if (t->p == t->end || (*t->p != '"' && *t->p != '\\'))
				return tok_fail(t, "Invalid escape in quoted string");
			c = *t->p++;
		}
		*w++ = c;	/* UNSAFE: w never passes t->p, it only shrinks */
	}
	return new_arg(t, IMAP_ARG_QUOTED, start, (size_t)(w - start)) < 0 ? -1 : 0;
}

/* A literal announcement ends its line segment; the literal the reader
 * stored follows, then the next segment. */
static int parse_literal(struct tok *t)
{
	size_t len = (size_t)(t->end - t->p), start, next;
	const struct imap_lit_span *lit;
	uint64_t size;
	bool sync, binary;
	int idx;

	if (imap_literal_suffix(t->p, len, &size, &sync, &binary, &start) != 1 || start != 0)
		return tok_fail(t, "Invalid literal");
	if (t->lit_i >= t->nlits)
		return tok_fail(t, "Literal without data");
	lit = &t->lits[t->lit_i++];
	idx = new_arg(t, lit->external ? IMAP_ARG_LITERAL_EXT : IMAP_ARG_LITERAL,
		      t->base + lit->offset, lit->len);
	if (idx < 0)
		return -1;
	t->args->v[idx].binary = lit->binary;
	t->args->v[idx].ext_index = lit->ext_index;
	t->args->v[idx].ext_size = lit->size;
	next = lit->offset + lit->len;
	t->p = t->base + next;
	t->end = t->base + (t->lit_i < t->nlits ? t->lits[t->lit_i].offset : t->total);
	return 0;
}

static int parse_item(struct tok *t, char closer, unsigned depth)
{
	int idx;

	switch (*t->p) {
	case '(':
		t->p++;
		idx = new_arg(t, IMAP_ARG_LIST, t->p, 0);
		return idx < 0 ? -1 : parse_group(t, idx, ')', depth);
	case '"':
		return parse_quoted(t);
	case '{':
		return parse_literal(t);
	case '~':
		if (t->p + 1 < t->end && t->p[1] == '{')
			return parse_literal(t);
		break;
	default:
		break;
	}
	return parse_atom(t, closer == ']', depth);
}

static const char *after_item_error(unsigned char c)
{
	if (c == ')' || c == ']')
		return "Unbalanced parentheses or brackets";
	if (c < 0x20 || c >= 0x7f)
		return "Invalid characters in command";
	return "Missing space between arguments";
}

static int parse_items(struct tok *t, char closer, unsigned depth)
{
	for (;;) {
		while (t->p < t->end && *t->p == ' ')
			t->p++;
		if (t->p == t->end) {
			if (closer != 0)
				return tok_fail(t, closer == ')' ? "Missing ')'" : "Missing ']'");
			return 0;
		}
		if (closer != 0 && *t->p == closer) {
			t->p++;
			return 0;
		}
		if (parse_item(t, closer, depth) < 0)
			return -1;
		if (t->p < t->end && *t->p != ' ' && (closer == 0 || *t->p != closer))
			return tok_fail(t, after_item_error((unsigned char)*t->p));
	}
}

/* tag SP command-name: the tag is any ASTRING-CHAR but "+". */
static int parse_word(struct tok *t, bool tag, const char **s_r, size_t *len_r)
{
	char *s = t->p;

	while (t->p < t->end && *t->p != ' ') {
		unsigned char c = (unsigned char)*t->p;

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\", c) != NULL || (tag && c == '+'))
			return tok_fail(t, tag ? "Invalid tag" : "Invalid command name");
		t->p++;
	}
	if (t->p == s)
		return tok_fail(t, tag ? "Missing tag" : "Missing command name");
	*s_r = s;
	*len_r = (size_t)(t->p - s);
	if (t->p < t->end)
		t->p++;
	return 0;
}

int imap_tokenize(const struct imap_limits *limits, char *data, size_t len,
		  const struct imap_lit_span *lits, unsigned nlits, struct imap_args *args,
		  struct imap_command *cmd_r, const char **error_r)
{
	struct tok t = { .lim = limits, .base = data, .total = len, .p = data,
			 .lits = lits, .nlits = nlits, .args = args };

	memset(cmd_r, 0, sizeof(*cmd_r));
	args->count = 0;
	t.end = data + (nlits > 0 ? lits[0].offset : len);
	if (parse_word(&t, true, &cmd_r->tag, &cmd_r->tag_len) < 0 ||
	    parse_word(&t, false, &cmd_r->name, &cmd_r->name_len) < 0)
		goto failed;
	if (mem_equal_ci(cmd_r->name, cmd_r->name_len, "UID")) {
		cmd_r->uid = true;
		if (parse_word(&t, false, &cmd_r->name, &cmd_r->name_len) < 0)
			goto failed;
	}
	if (parse_items(&t, 0, 0) < 0)
		goto failed;
	if (t.lit_i != nlits) {
		tok_fail(&t, "Literal in an invalid place");
		goto failed;
	}
	cmd_r->args = args->v;
	cmd_r->arg_count = args->count;
	return 0;
failed:
	/* cmd_r->tag stays set when the tag itself was valid */
	*error_r = t.error;
	return -1;
}

int imap_parse_line(const struct imap_limits *limits, char *line, size_t len,
		    struct imap_args *args, struct imap_command *cmd_r, const char **error_r)
{
	return imap_tokenize(limits, line, len, NULL, 0, args, cmd_r, error_r);
}

int imap_parse_number64(const char *s, size_t len, uint64_t *value_r)
{
	return parse_uint(s, len, INT64_MAX, value_r);
}

int imap_parse_number(const char *s, size_t len, uint32_t *value_r)
{
	uint64_t v;

	if (parse_uint(s, len, UINT32_MAX, &v) < 0)
		return -1;
	*value_r = (uint32_t)v;
	return 0;
}

int imap_parse_nz_number(const char *s, size_t len, uint32_t *value_r)
{
	/* nz-number = digit-nz *DIGIT: no leading zero */
	if (len == 0 || s[0] == '0')
		return -1;
	return imap_parse_number(s, len, value_r);
}

/* ---- the cursor ----------------------------------------------------------- */

void imap_cursor_init(struct imap_cursor *cur, const struct imap_command *cmd)
{
	memset(cur, 0, sizeof(*cur));
	cur->pos = cmd->args;
	cur->end = cmd->args != NULL ? cmd->args + cmd->arg_count : NULL;
}

void imap_cursor_init_children(struct imap_cursor *cur, const struct imap_arg *list)
{
	memset(cur, 0, sizeof(*cur));
	cur->pos = list + 1;
	cur->end = list + 1 + list->subtree;
}

int imap_cursor_fail(struct imap_cursor *cur, const char *error)
{
	if (cur->error == NULL)
		cur->error = error;
	return -1;
}

const struct imap_arg *imap_arg_peek(const struct imap_cursor *cur)
{
	return cur->pos < cur->end ? cur->pos : NULL;
}

bool imap_arg_at_end(const struct imap_cursor *cur)
{
	return cur->pos >= cur->end;
}

static void skip(struct imap_cursor *cur)
{
	const struct imap_arg *a = cur->pos;

	cur->pos += 1 + (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_SECTION ? a->subtree : 0);
}

int imap_arg_next(struct imap_cursor *cur, const struct imap_arg **arg_r)
{
	if (cur->pos >= cur->end)
		return imap_cursor_fail(cur, "Missing argument");
	*arg_r = cur->pos;
	skip(cur);
	return 0;
}

int imap_arg_end(struct imap_cursor *cur)
{
	return cur->pos < cur->end ? imap_cursor_fail(cur, "Unexpected extra arguments") : 0;
}

bool imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_ATOM && mem_equal_ci(arg->data, arg->len, "NIL");
}

bool imap_arg_keyword(struct imap_cursor *cur, const char *kw)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL || a->type != IMAP_ARG_ATOM || !mem_equal_ci(a->data, a->len, kw))
		return false;
	skip(cur);
	return true;
}

/* Takes the next token if it has the given type, else fails with error. */
static const struct imap_arg *take(struct imap_cursor *cur, enum imap_arg_type type,
				   const char *error)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL) {
		imap_cursor_fail(cur, "Missing argument");
		return NULL;
	}
	if (a->type != type) {
		imap_cursor_fail(cur, error);
		return NULL;
	}
	skip(cur);
	return a;
}

int imap_arg_atom(struct imap_cursor *cur, const char **s_r, size_t *len_r)
{
	const struct imap_arg *a = take(cur, IMAP_ARG_ATOM, "Expected an atom");

	if (a == NULL)
		return -1;
	*s_r = a->data;
	*len_r = a->len;
	return 0;
}

static bool is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_QUOTED || (a->type == IMAP_ARG_LITERAL && !a->binary);
}

int imap_arg_string(struct imap_cursor *cur, const char **s_r, size_t *len_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing argument");
	if (!is_string(a))
		return imap_cursor_fail(cur, "Expected a string");
	skip(cur);
	*s_r = a->data;
	*len_r = a->len;
	return 0;
}

/* ASTRING-CHAR: ATOM-CHAR or "]"; not the list wildcards, not "\". */
static bool is_astring_atom(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '%' || s[i] == '*' || s[i] == '\\')
			return false;
	return len > 0;
}

int imap_arg_astring(struct imap_cursor *cur, const char **s_r, size_t *len_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a != NULL && a->type == IMAP_ARG_ATOM) {
		if (!is_astring_atom(a->data, a->len))
			return imap_cursor_fail(cur, "Invalid characters in atom");
		skip(cur);
		*s_r = a->data;
		*len_r = a->len;
		return 0;
	}
	return imap_arg_string(cur, s_r, len_r);
}

int imap_arg_nstring(struct imap_cursor *cur, const char **s_r, size_t *len_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a != NULL && imap_arg_is_nil(a)) {
		skip(cur);
		*s_r = NULL;
		*len_r = 0;
		return 0;
	}
	return imap_arg_string(cur, s_r, len_r);
}

static int number_arg(struct imap_cursor *cur, int kind, uint64_t *v_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	uint32_t v32 = 0;
	int ret;

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing argument");
	if (a->type != IMAP_ARG_ATOM)
		return imap_cursor_fail(cur, "Expected a number");
	if (kind == 64)
		ret = imap_parse_number64(a->data, a->len, v_r);
	else if (kind == 0)
		ret = imap_parse_nz_number(a->data, a->len, &v32);
	else
		ret = imap_parse_number(a->data, a->len, &v32);
	if (ret < 0)
		return imap_cursor_fail(cur, kind == 0 ? "Expected a non-zero 32-bit number" :
					kind == 64 ? "Expected a 63-bit number" :
					"Expected a 32-bit number");
	if (kind != 64)
		*v_r = v32;
	skip(cur);
	return 0;
}

int imap_arg_number(struct imap_cursor *cur, uint32_t *value_r)
{
	uint64_t v = 0;

	if (number_arg(cur, 32, &v) < 0)
		return -1;
	*value_r = (uint32_t)v;
	return 0;
}

int imap_arg_nz_number(struct imap_cursor *cur, uint32_t *value_r)
{
	uint64_t v = 0;

	if (number_arg(cur, 0, &v) < 0)
		return -1;
	*value_r = (uint32_t)v;
	return 0;
}

int imap_arg_number64(struct imap_cursor *cur, uint64_t *value_r)
{
	return number_arg(cur, 64, value_r);
}

int imap_arg_list_enter(struct imap_cursor *cur)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL || a->type != IMAP_ARG_LIST)
		return imap_cursor_fail(cur, a == NULL ? "Missing argument" : "Expected a list");
	if (cur->depth >= IMAP_DEPTH_HARD_MAX)
		return imap_cursor_fail(cur, "Too deeply nested parentheses");
	cur->outer_end[cur->depth++] = cur->end;
	cur->end = a + 1 + a->subtree;
	cur->pos = a + 1;
	return 0;
}

int imap_arg_list_leave(struct imap_cursor *cur)
{
	if (cur->depth == 0)
		fatal("imap_arg_list_leave outside of a list");
	if (cur->pos < cur->end)
		return imap_cursor_fail(cur, "Unexpected extra arguments in list");
	cur->end = cur->outer_end[--cur->depth];
	return 0;
}

int imap_arg_message(struct imap_cursor *cur, struct imap_message_arg *msg_r)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a == NULL)
		return imap_cursor_fail(cur, "Missing message literal");
	if (a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_LITERAL_EXT)
		return imap_cursor_fail(cur, "Expected a message literal");
	memset(msg_r, 0, sizeof(*msg_r));
	msg_r->external = a->type == IMAP_ARG_LITERAL_EXT;
	msg_r->binary = a->binary;
	msg_r->data = msg_r->external ? NULL : a->data;
	msg_r->size = msg_r->external ? a->ext_size : a->len;
	msg_r->index = a->ext_index;
	skip(cur);
	return 0;
}

bool imap_arg_is_list(const struct imap_arg *arg)
{
	return arg != NULL && arg->type == IMAP_ARG_LIST;
}
