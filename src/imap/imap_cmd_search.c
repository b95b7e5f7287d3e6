/*
 * SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4), with ESEARCH
 * replies (RFC 4731: MIN MAX ALL COUNT) and CONDSTORE's MODSEQ key (RFC
 * 7162 3.1.5); SORT (RFC 5256 3) and THREAD ORDEREDSUBJECT / REFERENCES
 * (RFC 5256 3, the algorithms in mail/mail_thread_tree.c).
 *
 * A program is evaluated over a candidate set (one byte per message of the
 * view) that each key narrows. AND runs its children cheapest first, so
 * the keys that read the store see only what the in-memory keys (flags,
 * UID, sequence number, size, INTERNALDATE, MODSEQ, keywords) left:
 *   cost 0  the view                   cost 2  header fields (message header)
 *   cost 1  sent date (stored summary) cost 3  BODY/TEXT (FTS5 trigram index)
 * Messages stored before their summary and text were computed are read
 * and parsed instead of consulting the index.
 *
 * Everything runs on the loop thread, synchronously: reads are cheap on
 * SQLite in WAL mode and the candidate narrowing keeps most searches
 * short, but a BODY search of a huge unindexed mailbox does stall the
 * loop. Moving evaluation to the worker pool (with a store connection of
 * its own) is the fix when that matters.
 */
#include "imap/imap_session.h"
#include "imap/imap_search.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/mail_casemap.h"
#include "mail/mail_index.h"
#include "mail/mail_thread.h"
#include "mail/mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A header block larger than this is cut (RFC 5322 sets no bound; this
 * keeps one odd message from making a search read megabytes). */
#define SEARCH_HEADER_MAX (1024 * 1024)
#define SEARCH_READ_CHUNK 16384

enum key_cost { COST_VIEW, COST_SENT, COST_HEADER, COST_TEXT, COST_LEVELS };

struct msg_sent {
	int64_t date;		/* sent date, or INTERNALDATE without one */
	bool loaded;
};

struct search_ctx {
	struct imap_session *s;
	struct imap_view *v;		/* borrowed: s->view */
	struct msg_sent *sent;		/* owned: per message, loaded on demand */
	signed char *indexed;		/* owned: -1 unknown, 0 no summary, 1 indexed */
	int64_t *text_pending;		/* owned: blobs not yet in the FTS index */
	size_t n_text_pending;
	bool text_pending_loaded;
	int64_t now;
	bool has_modseq;		/* a MODSEQ key: reply with (MODSEQ n) */
	bool failed;			/* the store failed: reply NO */
};

/* ---- reading messages ---------------------------------------------------- */

/* Length of the header block at p, blank line included; 0 if incomplete. */
static size_t header_end(const char *p, size_t len)
{
	size_t pos = 0;
	const char *nl;

	while (pos < len) {
		if (p[pos] == '\n')
			return pos + 1;
		if (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n')
			return pos + 2;
		nl = memchr(p + pos, '\n', len - pos);
		if (nl == NULL)
			return 0;
		pos = (size_t)(nl - p) + 1;
	}
	return 0;
}

/* Appends the blob file at path to out: all of it, or only up to the end
 * of the header block (or SEARCH_HEADER_MAX) when header_only. */
static int read_file(const char *path, size_t base, struct buf *out, bool header_only)
{
	char chunk[SEARCH_READ_CHUNK];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		buf_append(out, chunk, (size_t)got);
		if (header_only && (header_end(out->data + base, out->len - base) > 0 ||
				    out->len >= SEARCH_HEADER_MAX))
			break;
	}
	close(fd);
	return got < 0 ? -1 : 0;
}

/* Appends message i (the recipient's prefix, then the blob) to out; with
 * header_only, just its header block. Returns -1 if it is gone. */
static int load_message(struct search_ctx *c, size_t i, struct buf *out, bool header_only)
{
	struct store_message_body body;
	size_t base, end;
	int ret = 0;

	if (store_message_body(c->s->srv->store, c->v->msgs[i].id, &body) < 0) {
		log_debug("session=%s search uid=%u unreadable: %s", c->s->ss.id, c->v->msgs[i].uid,
			  store_error(c->s->srv->store));
		return -1;
	}
	buf_append(out, body.prefix, body.prefix_len);
	base = out->len;
	if (body.data != NULL)
		buf_append(out, body.data, body.data_len);
	else if (body.path != NULL)
		ret = read_file(body.path, base, out, header_only);
	store_message_body_free(&body);
	if (ret < 0) {
		log_warn("session=%s search uid=%u blob unreadable", c->s->ss.id, c->v->msgs[i].uid);
		return -1;
	}
	if (header_only && (end = header_end(out->data, out->len)) > 0)
		out->len = end;
	(void)buf_append(out, "", 0);
	return 0;
}

/* True if the blob has its stored summary (search then trusts its FTS5 text
 * too, once indexed: msg_text_indexed). */
static bool msg_indexed(struct search_ctx *c, size_t i)
{
	struct store_blob_meta_row row;

	if (c->indexed[i] < 0) {
		if (store_blob_meta_get(c->s->srv->store, c->v->msgs[i].blob_id, &row) < 0) {
			c->indexed[i] = 0;
			return false;
		}
		c->indexed[i] = row.envelope != NULL;
		if (row.envelope != NULL && !c->sent[i].loaded) {
			c->sent[i].date = row.sent_date >= 0 ? row.sent_date : c->v->msgs[i].received;
			c->sent[i].loaded = true;
		}
		store_blob_meta_row_free(&row);
	}
	return c->indexed[i] > 0;
}

/* RFC 9051 6.4.4 SENT*: the Date header, else (RFC 5256 2.2) INTERNALDATE. */
static int64_t msg_sent_date(struct search_ctx *c, size_t i)
{
	struct buf hdr, date;
	time_t t;

	if (c->sent[i].loaded || (msg_indexed(c, i) && c->sent[i].loaded))
		return c->sent[i].date;
	c->sent[i].loaded = true;
	c->sent[i].date = c->v->msgs[i].received;
	buf_init(&hdr, 0);
	buf_init(&date, 0);
	if (load_message(c, i, &hdr, true) == 0 &&
	    mime_header_get(hdr.data, hdr.len, "date", 0, &date) &&
	    mail_date_parse(date.data, date.len, &t, NULL) == 0)
		c->sent[i].date = (int64_t)t;
	buf_deinit(&hdr);
	buf_deinit(&date);
	return c->sent[i].date;
}

/* ---- key evaluation -------------------------------------------------------- */

static enum key_cost key_cost(const struct imap_search_key *k)
{
	enum key_cost cost = COST_VIEW, sub;
	const struct imap_search_key *ch;

	switch (k->type) {
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		return COST_SENT;
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_TO:
	case IMAP_SK_HEADER:
		return COST_HEADER;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		return COST_TEXT;
	default:
		break;
	}
	for (ch = k->child; ch != NULL; ch = ch->next) {
		if ((sub = key_cost(ch)) > cost)
			cost = sub;
	}
	return cost;
}

static bool keyword_match(const struct imap_view *v, const struct store_msg *m,
			  const struct imap_string *kw)
{
	size_t j;

	for (j = 0; j < v->n_keywords && j < STORE_KEYWORDS_MAX; j++) {
		if (strlen(v->keywords[j]) == kw->len &&
		    strncasecmp(v->keywords[j], kw->data, kw->len) == 0)
			return (m->keywords & (1ULL << j)) != 0;
	}
	return false;	/* a keyword the mailbox never had */
}

static bool flag_match(enum imap_search_type type, uint32_t flags, bool recent)
{
	switch (type) {
	case IMAP_SK_ANSWERED: return (flags & STORE_FLAG_ANSWERED) != 0;
	case IMAP_SK_DELETED: return (flags & STORE_FLAG_DELETED) != 0;
	case IMAP_SK_DRAFT: return (flags & STORE_FLAG_DRAFT) != 0;
	case IMAP_SK_FLAGGED: return (flags & STORE_FLAG_FLAGGED) != 0;
	case IMAP_SK_SEEN: return (flags & STORE_FLAG_SEEN) != 0;
	case IMAP_SK_UNANSWERED: return (flags & STORE_FLAG_ANSWERED) == 0;
	case IMAP_SK_UNDELETED: return (flags & STORE_FLAG_DELETED) == 0;
	case IMAP_SK_UNDRAFT: return (flags & STORE_FLAG_DRAFT) == 0;
	case IMAP_SK_UNFLAGGED: return (flags & STORE_FLAG_FLAGGED) == 0;
	case IMAP_SK_UNSEEN: return (flags & STORE_FLAG_SEEN) == 0;
	case IMAP_SK_NEW: return recent && (flags & STORE_FLAG_SEEN) == 0;
	case IMAP_SK_OLD: return !recent;
	case IMAP_SK_RECENT: return recent;
	default: return true;	/* ALL */
	}
}

/* Keys answered from the view (and the sent date). */
static bool simple_match(struct search_ctx *c, const struct imap_search_key *k, size_t i)
{
	const struct store_msg *m = &c->v->msgs[i];

	switch (k->type) {
	case IMAP_SK_KEYWORD: return keyword_match(c->v, m, &k->str);
	case IMAP_SK_UNKEYWORD: return !keyword_match(c->v, m, &k->str);
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE: return imap_search_date_match(k->type, k->date, m->received);
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		return imap_search_date_match(k->type, k->date, msg_sent_date(c, i));
	case IMAP_SK_LARGER: return m->size > k->number;
	case IMAP_SK_SMALLER: return m->size < k->number;
	case IMAP_SK_OLDER: return c->now - m->received >= (int64_t)k->number;
	case IMAP_SK_YOUNGER: return c->now - m->received <= (int64_t)k->number;
	case IMAP_SK_MODSEQ: return m->modseq >= k->number;
	case IMAP_SK_SEQSET: return imap_seqset_contains(&k->set, (uint32_t)i + 1);
	case IMAP_SK_UID: return imap_seqset_contains(&k->set, m->uid);
	default: return flag_match(k->type, m->flags, m->uid > c->v->recent_above);
	}
}

/* FROM, TO, CC, BCC, SUBJECT, HEADER: a case-insensitive substring of a
 * field's value, unfolded and RFC 2047-decoded. */
static bool header_match(struct search_ctx *c, const struct imap_search_key *k, size_t i)
{
	static const char *const names[] = {
		[IMAP_SK_BCC] = "bcc", [IMAP_SK_CC] = "cc", [IMAP_SK_FROM] = "from",
		[IMAP_SK_SUBJECT] = "subject", [IMAP_SK_TO] = "to",
	};
	const char *name = k->type == IMAP_SK_HEADER ? k->field.data : names[k->type];
	size_t name_len = k->type == IMAP_SK_HEADER ? k->field.len : strlen(name), pos = 0;
	struct buf hdr, raw, value;
	struct mime_field f;
	bool found = false;

	buf_init(&hdr, 0);
	buf_init(&raw, 0);
	buf_init(&value, 0);
	if (load_message(c, i, &hdr, true) == 0) {
		while (!found && mime_header_next(hdr.data, hdr.len, &pos, &f)) {
			if (f.name_len != name_len || strncasecmp(f.name, name, name_len) != 0)
				continue;
			buf_reset(&raw);
			buf_reset(&value);
			(void)mime_unfold(f.value, f.value_len, &raw);
			(void)mime_decode_words(raw.data ? raw.data : "", raw.len, &value);
			found = mail_casefold_contains(value.data, value.len, k->str.data, k->str.len);
		}
	}
	buf_deinit(&hdr);
	buf_deinit(&raw);
	buf_deinit(&value);
	return found;
}

/* BODY/TEXT of a message not in the index: take its text here, as the
 * indexer would (mail_index_text), so both give the same answer. */
static bool text_scan(struct search_ctx *c, const struct imap_search_key *k, size_t i)
{
	struct buf msg, headers, body;
	bool found = false;

	buf_init(&msg, 0);
	buf_init(&headers, 0);
	buf_init(&body, 0);
	if (load_message(c, i, &msg, false) == 0) {
		mail_index_text(msg.data, msg.len, &headers, &body);
		found = mail_casefold_contains(body.data, body.len, k->str.data, k->str.len) ||
			(k->type == IMAP_SK_TEXT &&
			 mail_casefold_contains(headers.data, headers.len, k->str.data, k->str.len));
	}
	buf_deinit(&msg);
	buf_deinit(&headers);
	buf_deinit(&body);
	return found;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int blob_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* True if message i's text is in the FTS5 index; false for messages the
 * committer has not indexed yet (store_text_pending), which are read. */
static bool msg_text_indexed(struct search_ctx *c, size_t i)
{
	return msg_indexed(c, i) &&
	       (c->n_text_pending == 0 ||
		bsearch(&c->v->msgs[i].blob_id, c->text_pending, c->n_text_pending,
			sizeof(*c->text_pending), blob_id_cmp) == NULL);
}

/* Loaded before the FTS query: a blob indexed in between is then read
 * rather than missed. */
static int load_text_pending(struct search_ctx *c)
{
	if (c->text_pending_loaded)
		return 0;
	c->text_pending_loaded = true;
	return store_text_pending(c->s->srv->store, c->v->mb.id, &c->text_pending,
				  &c->n_text_pending);
}

/* BODY/TEXT: one FTS5 query for the mailbox, then the candidates. */
static void text_keys(struct search_ctx *c, const struct imap_search_key *k, uint8_t *set)
{
	char *needle = xstrndup(k->str.data, k->str.len);
	uint32_t *uids = NULL;
	size_t n = 0, i;

	if (k->str.len == 0 || strlen(needle) != k->str.len) {
		/* empty matches all; a NUL can be in no text */
		if (k->str.len != 0)
			memset(set, 0, c->v->n);
		free(needle);
		return;
	}
	if (load_text_pending(c) < 0 ||
	    store_search_text(c->s->srv->store, c->v->mb.id,
			      k->type == IMAP_SK_BODY ? STORE_TEXT_BODY : STORE_TEXT_ANY, needle, &uids,
			      &n) < 0) {
		log_warn("session=%s search failed: %s", c->s->ss.id, store_error(c->s->srv->store));
		c->failed = true;
		memset(set, 0, c->v->n);
	}
	for (i = 0; i < c->v->n && !c->failed; i++) {
		if (!set[i])
			continue;
		if (msg_text_indexed(c, i))
			set[i] = n > 0 && bsearch(&c->v->msgs[i].uid, uids, n, sizeof(*uids),
						  uid_cmp) != NULL;
		else
			set[i] = text_scan(c, k, i);
	}
	free(uids);
	free(needle);
}

static void eval_key(struct search_ctx *c, const struct imap_search_key *k, uint8_t *set);

/* AND: the children in cost order, each narrowing the set further. */
static void eval_and(struct search_ctx *c, const struct imap_search_key *k, uint8_t *set)
{
	const struct imap_search_key *ch;
	unsigned cost;

	for (cost = COST_VIEW; cost < COST_LEVELS; cost++) {
		for (ch = k->child; ch != NULL; ch = ch->next) {
			if (key_cost(ch) == cost)
				eval_key(c, ch, set);
		}
	}
}

/* OR: the second child sees only what the first left out; NOT: the
 * complement within the candidates. */
static void eval_or_not(struct search_ctx *c, const struct imap_search_key *k, uint8_t *set)
{
	size_t n = c->v->n, i;
	uint8_t *a = xmalloc(n ? n : 1), *b;

	memcpy(a, set, n);
	eval_key(c, k->child, a);
	if (k->type == IMAP_SK_NOT) {
		for (i = 0; i < n; i++)
			set[i] = set[i] && !a[i];
		free(a);
		return;
	}
	b = xmalloc(n ? n : 1);
	for (i = 0; i < n; i++)
		b[i] = set[i] && !a[i];
	eval_key(c, k->child->next, b);
	for (i = 0; i < n; i++)
		set[i] = a[i] || b[i];
	free(a);
	free(b);
}

static void eval_key(struct search_ctx *c, const struct imap_search_key *k, uint8_t *set)
{
	size_t i;

	switch (k->type) {
	case IMAP_SK_AND:
		eval_and(c, k, set);
		return;
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		eval_or_not(c, k, set);
		return;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		text_keys(c, k, set);
		return;
	default:
		break;
	}
	for (i = 0; i < c->v->n; i++) {
		if (set[i])
			set[i] = key_cost(k) == COST_HEADER ? header_match(c, k, i) :
				 simple_match(c, k, i);
	}
}

/* Resolves "*" in every set; notes MODSEQ. -1 for "$" (no SEARCHRES). */
static int prepare_keys(struct search_ctx *c, struct imap_search_key *k)
{
	struct imap_view *v = c->v;

	for (; k != NULL; k = k->next) {
		if (k->type == IMAP_SK_SEQSET || k->type == IMAP_SK_UID) {
			if (k->set.saved)
				return -1;
			imap_seqset_resolve(&k->set, k->type == IMAP_SK_UID ?
					    (v->n ? v->msgs[v->n - 1].uid : 0) : (uint32_t)v->n);
		}
		if (k->type == IMAP_SK_MODSEQ)
			c->has_modseq = true;
		if (prepare_keys(c, k->child) < 0)
			return -1;
	}
	return 0;
}

/* Runs prog over the view: *set_r (allocated, one byte per message) marks
 * the matches. Returns 0, or -1 after replying. */
static int search_run(struct imap_session *s, struct imap_search *prog, struct search_ctx *c,
		      uint8_t **set_r)
{
	uint8_t *set;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->v = s->view;
	c->now = time_now();
	*set_r = NULL;
	if (prepare_keys(c, prog->root) < 0) {
		imap_done(s, "BAD", "Saved search results ($) are not supported");
		return -1;
	}
	if (c->has_modseq)
		s->condstore = true;	/* RFC 7162 3.1: MODSEQ enables CONDSTORE */
	c->sent = xcalloc(c->v->n ? c->v->n : 1, sizeof(*c->sent));
	c->indexed = xmalloc(c->v->n ? c->v->n : 1);
	memset(c->indexed, -1, c->v->n);
	set = xmalloc(c->v->n ? c->v->n : 1);
	memset(set, 1, c->v->n);
	eval_key(c, prog->root, set);
	if (c->failed) {
		free(set);
		imap_done(s, "NO", "[SERVERBUG] Search failed");
		return -1;
	}
	*set_r = set;
	return 0;
}

static void search_ctx_deinit(struct search_ctx *c)
{
	free(c->sent);
	free(c->indexed);
	free(c->text_pending);
	c->sent = NULL;
	c->indexed = NULL;
	c->text_pending = NULL;
}

/* Parses the program after SORT's criteria or THREAD's algorithm (or all
 * of SEARCH's arguments). Returns 0, or -1 after replying. */
static int program_arg(struct imap_session *s, struct imap_cursor *cur, unsigned flags,
		       struct imap_search *prog)
{
	const char *code;

	if (imap_search_parse(cur, &s->limits, flags, prog, &code) == 0)
		return 0;
	if (code != NULL)
		imap_done(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] %s", cur->error);
	else
		imap_bad(s, cur->error);
	return -1;
}

/* ---- SEARCH ------------------------------------------------------------------ */

/* RFC 7162 3.1.5: the highest MODSEQ of the messages reported; with only
 * MIN/MAX in an ESEARCH, of those two. */
static uint64_t reply_modseq(struct search_ctx *c, const uint8_t *set, unsigned ret,
			     long first, long last)
{
	uint64_t best = 0;
	size_t i;

	if ((ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) == 0) {
		if ((ret & IMAP_SEARCH_RET_MIN) && first >= 0)
			best = c->v->msgs[first].modseq;
		if ((ret & IMAP_SEARCH_RET_MAX) && last >= 0 && c->v->msgs[last].modseq > best)
			best = c->v->msgs[last].modseq;
		return best;
	}
	for (i = 0; i < c->v->n; i++) {
		if (set[i] && c->v->msgs[i].modseq > best)
			best = c->v->msgs[i].modseq;
	}
	return best;
}

static uint32_t number_of(struct search_ctx *c, size_t i)
{
	return c->s->uid ? c->v->msgs[i].uid : (uint32_t)i + 1;
}

/* RFC 4731 ESEARCH: "(TAG "t") [UID] [MIN n] [MAX n] [ALL set] [COUNT n]";
 * an empty result has only COUNT 0 (if asked). */
static void reply_esearch(struct search_ctx *c, const uint8_t *set, unsigned ret, struct buf *out)
{
	struct imap_seqset all;
	long first = -1, last = -1;
	size_t i, count = 0;

	imap_seqset_init(&all, 0);
	for (i = 0; i < c->v->n; i++) {
		if (!set[i])
			continue;
		if (first < 0)
			first = (long)i;
		last = (long)i;
		count++;
		if (ret & IMAP_SEARCH_RET_ALL)
			imap_seqset_add(&all, number_of(c, i), number_of(c, i));
	}
	buf_printf(out, "ESEARCH (TAG \"%s\")%s", c->s->tag, c->s->uid ? " UID" : "");
	if ((ret & IMAP_SEARCH_RET_MIN) && count > 0)
		buf_printf(out, " MIN %u", number_of(c, (size_t)first));
	if ((ret & IMAP_SEARCH_RET_MAX) && count > 0)
		buf_printf(out, " MAX %u", number_of(c, (size_t)last));
	if ((ret & IMAP_SEARCH_RET_ALL) && count > 0) {
		imap_seqset_resolve(&all, 0);
		buf_append_str(out, " ALL ");
		imap_seqset_format(&all, out);
	}
	if (ret & IMAP_SEARCH_RET_COUNT)
		buf_printf(out, " COUNT %zu", count);
	if (c->has_modseq && count > 0)
		buf_printf(out, " MODSEQ %llu",
			   (unsigned long long)reply_modseq(c, set, ret, first, last));
	imap_seqset_deinit(&all);
}

static void reply_search(struct search_ctx *c, const uint8_t *set, struct buf *out)
{
	bool any = false;
	size_t i;

	buf_append_str(out, "SEARCH");
	for (i = 0; i < c->v->n; i++) {
		if (set[i]) {
			buf_printf(out, " %u", number_of(c, i));
			any = true;
		}
	}
	if (c->has_modseq && any)
		buf_printf(out, " (MODSEQ %llu)", (unsigned long long)reply_modseq(
				   c, set, IMAP_SEARCH_RET_ALL, -1, -1));
}

void imap_cmd_search(struct imap_session *s, struct imap_cursor *cur)
{
	struct imap_search prog;
	struct search_ctx c;
	uint8_t *set;
	struct buf out;

	if (program_arg(s, cur, IMAP_SEARCH_ALLOW_RETURN, &prog) < 0)
		return;
	/* RFC 5182 SEARCHRES is not offered: refuse SAVE rather than let a
	 * client believe "$" holds something */
	if (prog.ret & IMAP_SEARCH_RET_SAVE) {
		imap_search_deinit(&prog);
		imap_done(s, "NO", "[CANNOT] RETURN (SAVE) is not supported");
		return;
	}
	if (search_run(s, &prog, &c, &set) < 0) {
		search_ctx_deinit(&c);
		imap_search_deinit(&prog);
		return;
	}
	buf_init(&out, 0);
	/* RFC 9051 7.3.4: IMAP4rev2 answers ESEARCH even without RETURN */
	if (prog.esearch || s->rev2)
		reply_esearch(&c, set, prog.esearch ? prog.ret : IMAP_SEARCH_RET_ALL, &out);
	else
		reply_search(&c, set, &out);
	imap_untagged(s, "%s", buf_cstr(&out));
	buf_deinit(&out);
	free(set);
	search_ctx_deinit(&c);
	imap_search_deinit(&prog);
	imap_done(s, "OK", "%sSEARCH completed", s->uid ? "UID " : "");
}

/* ---- SORT (RFC 5256) --------------------------------------------------------- */

enum sort_text { ST_SUBJECT, ST_FROM, ST_TO, ST_CC, ST_DISPLAYFROM, ST_DISPLAYTO, ST_COUNT };

struct sort_item {
	size_t idx;			/* in the view: the final tie-break */
	int64_t date;			/* sent date, else INTERNALDATE */
	char *text[ST_COUNT];		/* owned; case-folded */
};

struct sort_cmp_ctx {
	const struct imap_sort *sort;
	const struct imap_view *v;
};

static char *folded(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	(void)mail_casefold(s ? s : "", s ? strlen(s) : 0, &b);
	return buf_steal(&b, NULL);
}

/* The message's summary computed from its header (older blobs have none
 * stored, and RFC 5957 display names are not stored). Returns -1 if the
 * message cannot be read; *sum_r is then empty but valid. */
static int header_summary(struct search_ctx *c, size_t i, struct mime_summary *sum_r)
{
	struct buf hdr;
	int ret;

	buf_init(&hdr, 0);
	ret = load_message(c, i, &hdr, true);
	(void)mime_summarize(hdr.data ? hdr.data : "", ret == 0 ? hdr.len : 0, NULL, sum_r);
	buf_deinit(&hdr);
	/* only the keys are wanted: drop the big strings early */
	free(sum_r->envelope);
	free(sum_r->bodystructure);
	free(sum_r->body);
	sum_r->envelope = sum_r->bodystructure = sum_r->body = NULL;
	return ret;
}

static void sort_load(struct search_ctx *c, size_t i, bool display, struct sort_item *it)
{
	struct store_blob_meta_row row;
	struct mime_summary sum;

	it->idx = i;
	if (!display && store_blob_meta_get(c->s->srv->store, c->v->msgs[i].blob_id, &row) == 0) {
		if (row.envelope != NULL) {
			it->date = row.sent_date >= 0 ? row.sent_date : c->v->msgs[i].received;
			it->text[ST_SUBJECT] = folded(row.base_subject);
			it->text[ST_FROM] = folded(row.sort_from);
			it->text[ST_TO] = folded(row.sort_to);
			it->text[ST_CC] = folded(row.sort_cc);
			it->text[ST_DISPLAYFROM] = folded("");
			it->text[ST_DISPLAYTO] = folded("");
			store_blob_meta_row_free(&row);
			return;
		}
		store_blob_meta_row_free(&row);
	}
	(void)header_summary(c, i, &sum);
	it->date = sum.sent_date != (time_t)-1 ? (int64_t)sum.sent_date : c->v->msgs[i].received;
	it->text[ST_SUBJECT] = folded(sum.base_subject);
	it->text[ST_FROM] = folded(sum.sort_from);
	it->text[ST_TO] = folded(sum.sort_to);
	it->text[ST_CC] = folded(sum.sort_cc);
	it->text[ST_DISPLAYFROM] = folded(sum.display_from);
	it->text[ST_DISPLAYTO] = folded(sum.display_to);
	mime_summary_free(&sum);
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct sort_item *a = pa, *b = pb;
	const struct sort_cmp_ctx *x = ctx;
	const struct store_msg *ma = &x->v->msgs[a->idx], *mb = &x->v->msgs[b->idx];
	unsigned k;
	int r;

	for (k = 0; k < x->sort->count; k++) {
		switch (x->sort->crit[k].key) {
		case IMAP_SORT_ARRIVAL: r = cmp_i64(ma->received, mb->received); break;
		case IMAP_SORT_DATE: r = cmp_i64(a->date, b->date); break;
		case IMAP_SORT_SIZE: r = ma->size < mb->size ? -1 : ma->size > mb->size; break;
		case IMAP_SORT_SUBJECT: r = strcmp(a->text[ST_SUBJECT], b->text[ST_SUBJECT]); break;
		case IMAP_SORT_FROM: r = strcmp(a->text[ST_FROM], b->text[ST_FROM]); break;
		case IMAP_SORT_TO: r = strcmp(a->text[ST_TO], b->text[ST_TO]); break;
		case IMAP_SORT_CC: r = strcmp(a->text[ST_CC], b->text[ST_CC]); break;
		case IMAP_SORT_DISPLAYFROM:
			r = strcmp(a->text[ST_DISPLAYFROM], b->text[ST_DISPLAYFROM]);
			break;
		case IMAP_SORT_DISPLAYTO:
			r = strcmp(a->text[ST_DISPLAYTO], b->text[ST_DISPLAYTO]);
			break;
		default: r = 0; break;
		}
		if (r != 0)
			return x->sort->crit[k].reverse ? -r : r;
	}
	/* RFC 5256 3: exact ties go by sequence number, REVERSE or not */
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool sort_wants_display(const struct imap_sort *sort)
{
	unsigned k;

	for (k = 0; k < sort->count; k++) {
		if (sort->crit[k].key == IMAP_SORT_DISPLAYFROM ||
		    sort->crit[k].key == IMAP_SORT_DISPLAYTO)
			return true;
	}
	return false;
}

static void reply_sort(struct search_ctx *c, const struct imap_sort *sort, const uint8_t *set)
{
	struct sort_cmp_ctx ctx = { sort, c->v };
	struct sort_item *items = xcalloc(c->v->n ? c->v->n : 1, sizeof(*items));
	bool display = sort_wants_display(sort);
	size_t n = 0, i, t;
	struct buf out;

	for (i = 0; i < c->v->n; i++) {
		if (set[i])
			sort_load(c, i, display, &items[n++]);
	}
	qsort_r(items, n, sizeof(*items), sort_cmp, &ctx);
	buf_init(&out, 0);
	buf_append_str(&out, "SORT");
	for (i = 0; i < n; i++) {
		buf_printf(&out, " %u", number_of(c, items[i].idx));
		for (t = 0; t < ST_COUNT; t++)
			free(items[i].text[t]);
	}
	imap_untagged(c->s, "%s", buf_cstr(&out));
	buf_deinit(&out);
	free(items);
}

void imap_cmd_sort(struct imap_session *s, struct imap_cursor *cur)
{
	struct imap_search prog;
	struct imap_sort sort;
	struct search_ctx c;
	uint8_t *set;

	if (imap_sort_parse(cur, &sort) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (program_arg(s, cur, IMAP_SEARCH_BARE_CHARSET, &prog) < 0)
		return;
	if (search_run(s, &prog, &c, &set) == 0) {
		reply_sort(&c, &sort, set);
		free(set);
		imap_done(s, "OK", "%sSORT completed", s->uid ? "UID " : "");
	}
	search_ctx_deinit(&c);
	imap_search_deinit(&prog);
}

/* ---- THREAD (RFC 5256) -------------------------------------------------------- */

static void reply_thread(struct search_ctx *c, enum imap_thread_alg alg, const uint8_t *set)
{
	struct mime_summary *sums = xcalloc(c->v->n ? c->v->n : 1, sizeof(*sums));
	struct mail_thread_msg *msgs = xcalloc(c->v->n ? c->v->n : 1, sizeof(*msgs));
	size_t n = 0, i;
	struct buf out;

	/* the stored summary lacks "was the subject a reply", which
	 * REFERENCES step 5 needs: every message's header is read */
	for (i = 0; i < c->v->n; i++) {
		if (!set[i])
			continue;
		(void)header_summary(c, i, &sums[n]);
		msgs[n].id = number_of(c, i);
		msgs[n].date = sums[n].sent_date != (time_t)-1 ? (int64_t)sums[n].sent_date :
			       c->v->msgs[i].received;
		msgs[n].message_id = sums[n].message_id;
		msgs[n].refs = sums[n].references;
		msgs[n].base_subject = sums[n].base_subject;
		msgs[n].is_reply = sums[n].subject_is_reply;
		n++;
	}
	buf_init(&out, 0);
	buf_append_str(&out, "THREAD");
	if (n > 0)
		buf_append_char(&out, ' ');
	if (alg == IMAP_THREAD_ORDEREDSUBJECT)
		(void)mail_thread_orderedsubject(msgs, n, &out);
	else
		(void)mail_thread_refs(msgs, n, &out);
	imap_untagged(c->s, "%s", buf_cstr(&out));
	buf_deinit(&out);
	for (i = 0; i < n; i++)
		mime_summary_free(&sums[i]);
	free(sums);
	free(msgs);
}

void imap_cmd_thread(struct imap_session *s, struct imap_cursor *cur)
{
	enum imap_thread_alg alg;
	struct imap_search prog;
	struct search_ctx c;
	uint8_t *set;

	if (imap_thread_parse(cur, &alg) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (program_arg(s, cur, IMAP_SEARCH_BARE_CHARSET, &prog) < 0)
		return;
	if (search_run(s, &prog, &c, &set) == 0) {
		reply_thread(&c, alg, set);
		free(set);
		imap_done(s, "OK", "%sTHREAD completed", s->uid ? "UID " : "");
	}
	search_ctx_deinit(&c);
	imap_search_deinit(&prog);
}
