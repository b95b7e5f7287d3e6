/*
 * FETCH and UID FETCH (RFC 9051 6.4.5), with BINARY (RFC 3516), MODSEQ
 * and CHANGEDSINCE/VANISHED (RFC 7162 3.1.4, 3.2.6).
 *
 * ENVELOPE, BODY and BODYSTRUCTURE come from the metadata stored with the
 * blob at delivery; a blob stored before that existed gets it computed
 * here. Body sections parse the message with src/mail/mime.c. Responses
 * are written message by message and the command pauses when the client
 * does not read fast enough (output above CONN_OUTPUT_HIGH_WATER), so a
 * FETCH 1:* BODY[] of a large mailbox never sits in memory at once.
 *
 * Non-PEEK body fetches set \Seen first (through the committer), so the
 * FLAGS in the response are the durable ones.
 */
#include "imap/imap_session.h"
#include "imap/imap_fetch.h"
#include "imap/imap_grammar.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/mime.h"
#include "net/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fetch_ctx {
	struct imap_fetch f;
	uint32_t *uids;		/* owned: the messages, in order */
	size_t n;
	size_t pos;		/* next to write */
	bool need_body;		/* some item reads the message */
	bool need_meta;		/* ENVELOPE / BODY / BODYSTRUCTURE */
	bool sets_seen;
	struct store_flag_result *res;	/* \Seen job results */
	size_t n_res;
	int64_t mailbox_id;
	bool failed_some;	/* a message vanished meanwhile */
};

static void fetch_ctx_free(void *p)
{
	struct fetch_ctx *c = p;

	imap_fetch_deinit(&c->f);
	free(c->uids);
	free(c->res);
	free(c);
}

/* ---- message contents ------------------------------------------------------- */

struct content {
	char *data;		/* owned: prefix + blob */
	size_t len;
	size_t prefix_len;
	struct mime_part *root;	/* owned, parsed on demand */
};

static int read_file(const char *path, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(out, chunk, (size_t)n) < 0)
			break;
	}
	close(fd);
	return n == 0 ? 0 : -1;
}

static int content_load(struct imap_session *s, int64_t message_id, struct content *c)
{
	struct store_message_body body;
	struct buf b;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (store_message_body(s->srv->store, message_id, &body) < 0)
		return -1;
	buf_init(&b, 0);
	buf_append(&b, body.prefix, body.prefix_len);
	if (body.path != NULL)
		ret = read_file(body.path, &b);
	else
		buf_append(&b, body.data, body.data_len);
	c->prefix_len = body.prefix_len;
	store_message_body_free(&body);
	if (ret < 0) {
		log_error("session=%s cannot read message %lld: %m", s->ss.id, (long long)message_id);
		buf_deinit(&b);
		return -1;
	}
	c->data = buf_steal(&b, &c->len);
	return 0;
}

static const struct mime_part *content_root(struct content *c)
{
	struct mime_limits lim = MIME_LIMITS_DEFAULT;

	if (c->root == NULL)
		mime_parse(c->data, c->len, &lim, &c->root);
	return c->root;
}

static void content_free(struct content *c)
{
	mime_part_free(&c->root);
	free(c->data);
	memset(c, 0, sizeof(*c));
}

/* ---- items -------------------------------------------------------------------- */

/* "1.2.HEADER.FIELDS" for mime_section_find; fields copied NUL-ended. */
static void section_text(const struct imap_section *sec, struct buf *out, char ***fields_r)
{
	static const char *const names[] = {
		[IMAP_SECTION_ALL] = "", [IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT", [IMAP_SECTION_MIME] = "MIME",
	};
	unsigned i;

	for (i = 0; i < sec->nparts; i++)
		buf_printf(out, "%s%u", i ? "." : "", sec->part[i]);
	if (sec->text != IMAP_SECTION_ALL)
		buf_printf(out, "%s%s", sec->nparts ? "." : "", names[sec->text]);
	*fields_r = xcalloc(sec->nfields + 1, sizeof(char *));
	for (i = 0; i < sec->nfields; i++)
		(*fields_r)[i] = xstrndup(sec->fields[i].name, sec->fields[i].len);
}

/* Appends the partial <origin.count> window of data as a literal. */
static void write_window(struct buf *out, const char *data, size_t len,
			 const struct imap_fetch_item *it, bool binary)
{
	if (it->partial) {
		size_t off = it->offset < len ? (size_t)it->offset : len;
		size_t n = len - off < it->count ? len - off : (size_t)it->count;

		data += off;
		len = n;
	}
	imap_write_literal(out, data, len, binary && memchr(data, '\0', len) != NULL);
}

static void write_section(struct imap_session *s, struct buf *out, struct content *c,
			  const struct imap_fetch_item *item)
{
	struct imap_fetch_item rfc822 = *item;
	const struct imap_fetch_item *it = &rfc822;
	struct buf sec, filtered;
	char **fields;
	size_t off = 0, len = 0;
	bool is_filtered = false;
	unsigned i;

	/* RFC822.HEADER is BODY.PEEK[HEADER], RFC822.TEXT BODY[TEXT] */
	if (item->att == IMAP_FETCH_RFC822_HEADER)
		rfc822.section.text = IMAP_SECTION_HEADER;
	else if (item->att == IMAP_FETCH_RFC822_TEXT)
		rfc822.section.text = IMAP_SECTION_TEXT;
	buf_init(&sec, 0);
	buf_init(&filtered, 0);
	section_text(&it->section, &sec, &fields);
	if (mime_section_find(c->data, c->len, content_root(c), buf_cstr(&sec),
			      (const char *const *)fields, it->section.nfields, &filtered, &off,
			      &len, &is_filtered) < 0)
		buf_append_str(out, "\"\"");	/* RFC 9051 6.4.5: missing part is empty */
	else if (is_filtered)
		write_window(out, filtered.data ? filtered.data : "", filtered.len, it, false);
	else
		write_window(out, c->data + off, len, it, false);
	for (i = 0; i < it->section.nfields; i++)
		free(fields[i]);
	free(fields);
	buf_deinit(&sec);
	buf_deinit(&filtered);
}

/* BINARY[part] and BINARY.SIZE[part]: the part's content decoded from its
 * transfer encoding (RFC 3516). Returns -1 for UNKNOWN-CTE. */
static int write_binary(struct buf *out, struct content *c, const struct imap_fetch_item *it)
{
	const struct mime_part *part = content_root(c);
	struct buf num, decoded;
	unsigned i;
	int ret = 0;

	buf_init(&num, 0);
	buf_init(&decoded, 0);
	for (i = 0; i < it->section.nparts; i++)
		buf_printf(&num, "%s%u", i ? "." : "", it->section.part[i]);
	if (it->section.nparts > 0)
		part = part ? mime_part_find(part, buf_cstr(&num)) : NULL;
	if (it->section.nparts == 0)
		buf_append(&decoded, c->data, c->len);
	else if (part == NULL || mime_part_is_multipart(part))
		ret = 0;	/* missing: empty */
	else if (mime_decode_body(part->encoding, c->data + part->body_start, part->body_len,
				  &decoded) < 0)
		ret = -1;
	if (ret == 0 && it->att == IMAP_FETCH_BINARY_SIZE)
		buf_printf(out, "%zu", decoded.len);
	else if (ret == 0)
		write_window(out, decoded.data ? decoded.data : "", decoded.len, it, true);
	buf_deinit(&num);
	buf_deinit(&decoded);
	return ret;
}

/* The stored metadata, or computed now for an old blob. */
static int load_meta(struct imap_session *s, const struct store_msg *m, struct content *c,
		     struct store_blob_meta_row *row)
{
	struct mime_limits lim = MIME_LIMITS_DEFAULT;
	struct mime_summary sum;
	size_t skip;

	if (store_blob_imap_get(s->srv->store, m->blob_id, row) < 0)
		return -1;
	if (row->envelope != NULL)
		return 0;
	if (c->data == NULL && content_load(s, m->id, c) < 0)
		return -1;
	/* the metadata describes the blob, without the per-recipient prefix
	 * (Return-Path and Delivered-To change neither) */
	skip = c->prefix_len;
	if (mime_summarize(c->data + skip, c->len - skip, &lim, &sum) < 0)
		return -1;
	row->envelope = sum.envelope;
	row->bodystructure = sum.bodystructure;
	row->body = sum.body;
	sum.envelope = sum.bodystructure = sum.body = NULL;
	mime_summary_free(&sum);
	return 0;
}


/* Writes one item; -1 when the message could not be read. */
static int write_item(struct imap_session *s, struct buf *out, size_t i,
		      const struct imap_fetch_item *it, struct content *c,
		      struct store_blob_meta_row *meta)
{
	const struct store_msg *m = &s->view->msgs[i];

	imap_fetch_item_name(it, out);
	buf_append_char(out, ' ');
	switch (it->att) {
	case IMAP_FETCH_FLAGS:
		imap_view_write_flags(s, out, i);
		break;
	case IMAP_FETCH_UID:
		buf_printf(out, "%u", m->uid);
		break;
	case IMAP_FETCH_MODSEQ:
		buf_printf(out, "(%llu)", (unsigned long long)m->modseq);
		break;
	case IMAP_FETCH_INTERNALDATE:
		imap_datetime_write(out, m->received, 0);	/* quoted */
		break;
	case IMAP_FETCH_RFC822_SIZE:
		buf_printf(out, "%llu", (unsigned long long)m->size);
		break;
	case IMAP_FETCH_ENVELOPE:
		buf_append_str(out, meta->envelope ? meta->envelope : "NIL");
		break;
	case IMAP_FETCH_BODY:
		buf_append_str(out, meta->body ? meta->body : "NIL");
		break;
	case IMAP_FETCH_BODYSTRUCTURE:
		buf_append_str(out, meta->bodystructure ? meta->bodystructure : "NIL");
		break;
	case IMAP_FETCH_RFC822:
	case IMAP_FETCH_RFC822_HEADER:
	case IMAP_FETCH_RFC822_TEXT:
	case IMAP_FETCH_BODY_SECTION:
		write_section(s, out, c, it);
		break;
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		if (write_binary(out, c, it) < 0)
			return -2;
		break;
	}
	return 0;
}

static bool item_needs_body(const struct imap_fetch_item *it)
{
	return it->att == IMAP_FETCH_RFC822 || it->att == IMAP_FETCH_RFC822_HEADER ||
	       it->att == IMAP_FETCH_RFC822_TEXT || it->att == IMAP_FETCH_BODY_SECTION ||
	       it->att == IMAP_FETCH_BINARY || it->att == IMAP_FETCH_BINARY_SIZE;
}

static bool item_needs_meta(const struct imap_fetch_item *it)
{
	return it->att == IMAP_FETCH_ENVELOPE || it->att == IMAP_FETCH_BODY ||
	       it->att == IMAP_FETCH_BODYSTRUCTURE;
}

static bool item_sets_seen(const struct imap_fetch_item *it)
{
	return !it->peek && (it->att == IMAP_FETCH_RFC822 || it->att == IMAP_FETCH_RFC822_TEXT ||
			     it->att == IMAP_FETCH_BODY_SECTION || it->att == IMAP_FETCH_BINARY);
}

/* Writes "* n FETCH (...)" for view index i. -2: unknown encoding. */
static int write_message(struct imap_session *s, struct fetch_ctx *fc, size_t i)
{
	struct store_blob_meta_row meta;
	struct content c = { 0 };
	struct buf out;
	unsigned k;
	int ret = 0;
	bool flags_done = false;

	memset(&meta, 0, sizeof(meta));
	if ((fc->need_body && content_load(s, s->view->msgs[i].id, &c) < 0) ||
	    (fc->need_meta && load_meta(s, &s->view->msgs[i], &c, &meta) < 0)) {
		content_free(&c);
		store_blob_meta_row_free(&meta);
		fc->failed_some = true;
		return -1;
	}
	buf_init(&out, 0);
	buf_printf(&out, "* %zu FETCH (", i + 1);
	for (k = 0; k < fc->f.count && ret == 0; k++) {
		if (k > 0)
			buf_append_char(&out, ' ');
		ret = write_item(s, &out, i, &fc->f.items[k], &c, &meta);
		flags_done |= fc->f.items[k].att == IMAP_FETCH_FLAGS;
	}
	/* RFC 9051 6.4.5: a \Seen set by this FETCH is reported with it */
	if (ret == 0 && fc->sets_seen && !flags_done && !s->view->readonly) {
		buf_append_str(&out, " FLAGS ");
		imap_view_write_flags(s, &out, i);
	}
	buf_append_str(&out, ")\r\n");
	if (ret == 0)
		conn_write(s->conn, out.data, out.len);
	buf_deinit(&out);
	content_free(&c);
	store_blob_meta_row_free(&meta);
	return ret;
}

/* Writes messages until done or the client's buffer is full. */
static void fetch_continue(struct imap_session *s)
{
	struct fetch_ctx *fc = s->cmd_ctx;
	long idx;
	int ret = 0;

	store_read_begin(s->srv->store);
	while (fc->pos < fc->n && ret != -2) {
		if (conn_output_len(s->conn) > CONN_OUTPUT_HIGH_WATER) {
			store_read_end(s->srv->store);
			s->wait = IMAP_WAIT_OUTPUT;
			conn_pause(s->conn, true);
			conn_set_drain_mark(s->conn, CONN_OUTPUT_HIGH_WATER / 2);
			return;
		}
		idx = imap_view_find_uid(s->view, fc->uids[fc->pos++]);
		if (idx >= 0)	/* else expunged by our own earlier command */
			ret = write_message(s, fc, (size_t)idx);
	}
	store_read_end(s->srv->store);
	if (ret == -2)
		imap_done(s, "NO", "[UNKNOWN-CTE] Cannot decode this part");
	else if (fc->failed_some)
		imap_done(s, "NO", "Some messages could not be read");
	else
		imap_done(s, "OK", "%sFETCH completed", s->uid ? "UID " : "");
}

void imap_fetch_output_drained(struct imap_session *s)
{
	if (s->wait == IMAP_WAIT_OUTPUT && s->cmd_ctx != NULL)
		fetch_continue(s);
}

/* ---- \Seen, then output ------------------------------------------------------ */

static int seen_txn(struct store *st, void *p)
{
	struct fetch_ctx *fc = p;

	return store_flags_update(st, fc->mailbox_id, fc->uids, fc->n, STORE_FLAGS_ADD,
				  STORE_FLAG_SEEN, 0, 0, &fc->res, &fc->n_res);
}

static void seen_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct fetch_ctx *fc = p;
	size_t i;
	long idx;

	if (s == NULL)
		return;
	for (i = 0; result == 0 && i < fc->n_res; i++) {
		idx = imap_view_find_uid(s->view, fc->res[i].uid);
		if (idx >= 0 && fc->res[i].changed) {
			imap_view_own(s->view, s->view->n);
			s->view->msgs[idx].flags = fc->res[i].flags;
			s->view->msgs[idx].modseq = fc->res[i].modseq;
		}
	}
	if (result == 0)
		server_mailbox_changed(s->srv, s->account_id, fc->mailbox_id);
	fetch_continue(s);	/* still waiting: imap_done resumes input */
}

/* CHANGEDSINCE keeps only messages changed after the given MODSEQ;
 * VANISHED (UID FETCH only) first reports the expunged UIDs in the set. */
static void changedsince(struct imap_session *s, struct fetch_ctx *fc, struct imap_seqset *set)
{
	size_t i, k = 0;
	long idx;

	if (fc->f.vanished)
		imap_view_send_vanished_earlier(s, fc->f.changedsince_modseq, set, 0);
	for (i = 0; i < fc->n; i++) {
		idx = imap_view_find_uid(s->view, fc->uids[i]);
		if (idx >= 0 && s->view->msgs[idx].modseq > fc->f.changedsince_modseq)
			fc->uids[k++] = fc->uids[i];
	}
	fc->n = k;
}

/* Adds UID (UID FETCH) and MODSEQ (CONDSTORE) items the client implied. */
static void implied_items(struct imap_session *s, struct fetch_ctx *fc)
{
	bool has_uid = false, has_modseq = false;
	unsigned k;

	for (k = 0; k < fc->f.count; k++) {
		has_uid |= fc->f.items[k].att == IMAP_FETCH_UID;
		has_modseq |= fc->f.items[k].att == IMAP_FETCH_MODSEQ;
		fc->need_body |= item_needs_body(&fc->f.items[k]);
		fc->need_meta |= item_needs_meta(&fc->f.items[k]);
		fc->sets_seen |= item_sets_seen(&fc->f.items[k]);
	}
	if (has_modseq || fc->f.changedsince)
		s->condstore = true;
	if ((s->uid && !has_uid) || (s->condstore && !has_modseq)) {
		size_t extra = (s->uid && !has_uid) + (s->condstore && !has_modseq);

		fc->f.items = xrealloc(fc->f.items, (fc->f.count + extra) * sizeof(*fc->f.items));
		memmove(fc->f.items + extra, fc->f.items, fc->f.count * sizeof(*fc->f.items));
		memset(fc->f.items, 0, extra * sizeof(*fc->f.items));
		fc->f.items[0].att = s->uid && !has_uid ? IMAP_FETCH_UID : IMAP_FETCH_MODSEQ;
		if (extra == 2)
			fc->f.items[1].att = IMAP_FETCH_MODSEQ;
		fc->f.count += (unsigned)extra;
	}
}

void imap_cmd_fetch(struct imap_session *s, struct imap_cursor *cur)
{
	struct imap_seqset set;
	struct fetch_ctx *fc;
	size_t *idx, n, i;
	int ret;

	imap_seqset_init(&set, s->limits.max_seqset_ranges);
	fc = xcalloc(1, sizeof(*fc));
	if (imap_arg_seqset(cur, &set) < 0 || imap_fetch_parse(cur, s->uid, &fc->f) < 0) {
		imap_seqset_deinit(&set);
		fetch_ctx_free(fc);
		imap_bad(s, cur->error);
		return;
	}
	ret = imap_view_indexes(s, &set, &idx, &n);
	if (ret < 0) {
		imap_seqset_deinit(&set);
		fetch_ctx_free(fc);
		imap_done(s, "BAD", "%s", ret == -1 ? "Saved search results ($) are not supported" :
			  "Invalid message sequence number");
		return;
	}
	fc->uids = xcalloc(n ? n : 1, sizeof(*fc->uids));
	for (i = 0; i < n; i++)
		fc->uids[i] = s->view->msgs[idx[i]].uid;
	fc->n = n;
	fc->mailbox_id = s->view->mb.id;
	free(idx);
	implied_items(s, fc);
	if (fc->f.changedsince)
		changedsince(s, fc, &set);
	imap_seqset_deinit(&set);
	s->cmd_ctx = fc;
	s->cmd_ctx_free = fetch_ctx_free;
	if (fc->sets_seen && !s->view->readonly && fc->n > 0) {
		imap_submit_flags(s, seen_txn, seen_done, fc);
		return;
	}
	fc->sets_seen = false;
	fetch_continue(s);
}
