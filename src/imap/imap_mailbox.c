/*
 * IMAP mailbox commands: SELECT, EXAMINE, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, LIST (with LIST-EXTENDED, LIST-STATUS and
 * SPECIAL-USE: RFC 5258, 5819, 6154), LSUB, NAMESPACE, STATUS, and the
 * QUOTA commands of RFC 9208.
 *
 * Names are stored in UTF-8 with '/' as the hierarchy delimiter; on the
 * wire they are modified UTF-7 (RFC 3501 5.1.3) unless the client enabled
 * UTF8=ACCEPT or IMAP4rev2. Changes go through the committer; reads use
 * the loop thread's store connection.
 */
#include "imap/imap_session.h"
#include "imap/imap_grammar.h"
#include "imap/imap_utf7.h"
#include "imap/imap_cache.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "store/committer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAILBOX_NAME_MAX 1024

/* Wire form -> UTF-8; canonical INBOX. -1 with a text in *error_r. */
static int name_from_wire(struct imap_session *s, const char *wire, size_t len, struct buf *out,
			  const char **error_r)
{
	buf_reset(out);
	if (s->utf8) {
		if (!imap_utf8_valid(wire, len)) {
			*error_r = "Mailbox name is not valid UTF-8";
			return -1;
		}
		buf_append(out, wire, len);
	} else if (imap_utf7_to_utf8(wire, len, out, error_r) < 0) {
		return -1;
	}
	if (out->len == 0 || out->len > MAILBOX_NAME_MAX || memchr(out->data, '\0', out->len) ||
	    out->data[0] == '/' || out->data[out->len - 1] == '/' ||
	    strstr(buf_cstr(out), "//") != NULL) {
		*error_r = "Invalid mailbox name";
		return -1;
	}
	if (out->len >= 5 && strncasecmp(out->data, "INBOX", 5) == 0 &&
	    (out->len == 5 || out->data[5] == '/'))
		memcpy(out->data, "INBOX", 5);
	return 0;
}

/* UTF-8 -> the astring this client reads. */
static void name_to_wire(struct imap_session *s, struct buf *out, const char *name)
{
	struct buf tmp;
	const char *error;

	if (s->utf8) {
		imap_write_astring(out, name, strlen(name), true);
		return;
	}
	buf_init(&tmp, 0);
	if (imap_utf8_to_utf7(name, strlen(name), &tmp, &error) < 0)
		buf_append_str(&tmp, name);	/* cannot happen for stored names */
	imap_write_astring(out, tmp.data ? tmp.data : "", tmp.len, false);
	buf_deinit(&tmp);
}

int imap_mailbox_arg(struct imap_session *s, struct imap_cursor *cur, struct buf *out)
{
	const char *wire, *error = NULL;
	size_t len;

	if (imap_arg_astring(cur, &wire, &len) < 0)
		return -1;
	if (name_from_wire(s, wire, len, out, &error) < 0)
		return imap_cursor_fail(cur, error);
	return 0;
}

/* Reads one mailbox argument and the end of the command; replies BAD. */
static int one_mailbox(struct imap_session *s, struct imap_cursor *cur, struct buf *name)
{
	buf_init(name, 0);
	if (imap_mailbox_arg(s, cur, name) < 0 || imap_arg_end(cur) < 0) {
		buf_deinit(name);
		imap_bad(s, cur->error);
		return -1;
	}
	return 0;
}

/* ---- SELECT / EXAMINE ------------------------------------------------------- */

struct select_ctx {
	struct store_mailbox mb;
	bool readonly;
	uint32_t recent_above;
	/* QRESYNC (RFC 7162 3.2.5) */
	bool qresync;
	uint32_t known_uidvalidity;
	uint64_t known_modseq;
	struct imap_seqset known_uids;	/* empty: every UID (3.2.5.1) */
	struct imap_seqset match_seqs, match_uids;	/* seq-match-data (3.2.5.2) */
};

static void select_ctx_free(void *p)
{
	struct select_ctx *c = p;

	store_mailbox_deinit(&c->mb);
	imap_seqset_deinit(&c->known_uids);
	imap_seqset_deinit(&c->match_seqs);
	imap_seqset_deinit(&c->match_uids);
	free(c);
}

static int select_txn(struct store *st, void *p)
{
	struct select_ctx *c = p;

	return c->readonly ? 0 : store_mailbox_claim_recent(st, c->mb.id, &c->recent_above);
}

static void send_select_responses(struct imap_session *s, struct select_ctx *c)
{
	struct imap_view *v = s->view;
	size_t i, unseen = 0, recent = 0;

	imap_view_send_flags(s);
	imap_untagged(s, "%zu EXISTS", v->n);
	for (i = 0; i < v->n; i++) {
		recent += v->msgs[i].uid > v->recent_above;
		if (unseen == 0 && !(v->msgs[i].flags & STORE_FLAG_SEEN))
			unseen = i + 1;
	}
	if (!s->rev2) {
		imap_untagged(s, "%zu RECENT", recent);
		if (unseen > 0)
			imap_untagged(s, "OK [UNSEEN %zu] First unseen", unseen);
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->mb.uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", v->mb.uidnext);
	imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)v->mb.highestmodseq);
	if (v->mb.special_use != NULL || !strcmp(v->mb.name, "INBOX"))
		log_debug("session=%s select mailbox=%s", s->ss.id, v->mb.name);
}

/* RFC 7162 3.2.5.1: only the UIDs the client says it knows, if it did. */
static bool known_uid(struct select_ctx *c, uint32_t uid)
{
	return c->known_uids.count == 0 || imap_seqset_contains(&c->known_uids, uid);
}

/* RFC 7162 3.2.5.2: the highest UID of the seq-match-data pairs that
 * still sits at its sequence number; the client knows every expunge up to
 * it. 0 if none matches. */
static uint32_t matched_uid(struct imap_view *v, struct select_ctx *c)
{
	struct imap_seqset_iter si, ui;
	uint32_t seq, uid, best = 0;

	imap_seqset_resolve(&c->match_seqs, (uint32_t)v->n);
	imap_seqset_resolve(&c->match_uids, v->mb.uidnext - 1);
	imap_seqset_iter_init(&si);
	imap_seqset_iter_init(&ui);
	while (imap_seqset_next(&c->match_seqs, &si, &seq) &&
	       imap_seqset_next(&c->match_uids, &ui, &uid) && seq <= v->n) {
		if (v->msgs[seq - 1].uid == uid && uid > best)
			best = uid;
	}
	return best;
}

/* RFC 7162 3.2.5.1: what changed since the client's known MODSEQ. */
static void send_qresync(struct imap_session *s, struct select_ctx *c)
{
	struct imap_view *v = s->view;
	size_t i;
	struct buf b;

	if (c->known_uidvalidity != v->mb.uidvalidity)
		return;
	/* no known-uids: 1:<UIDNEXT - 1>, empty for a mailbox never used */
	if (c->known_uids.count == 0 && v->mb.uidnext > 1)
		imap_seqset_add(&c->known_uids, 1, v->mb.uidnext - 1);
	imap_seqset_resolve(&c->known_uids, v->mb.uidnext - 1);
	imap_view_send_vanished_earlier(s, c->known_modseq, &c->known_uids, matched_uid(v, c));
	for (i = 0; i < v->n; i++) {
		if (v->msgs[i].modseq <= c->known_modseq || !known_uid(c, v->msgs[i].uid))
			continue;
		buf_init(&b, 0);
		buf_printf(&b, "%zu FETCH (UID %u FLAGS ", i + 1, v->msgs[i].uid);
		imap_view_write_flags(s, &b, i);
		buf_printf(&b, " MODSEQ (%llu))", (unsigned long long)v->msgs[i].modseq);
		imap_untagged(s, "%s", buf_cstr(&b));
		buf_deinit(&b);
	}
}

static void select_respond(struct imap_session *s, struct select_ctx *c)
{
	imap_enter_state(s, IMAP_STATE_SELECTED);
	send_select_responses(s, c);
	if (c->qresync)
		send_qresync(s, c);
	imap_done(s, "OK", "[%s] %s completed", c->readonly ? "READ-ONLY" : "READ-WRITE",
		  c->readonly ? "EXAMINE" : "SELECT");
}

static void select_failed(struct imap_session *s)
{
	imap_enter_state(s, IMAP_STATE_AUTH);
	imap_done(s, "NO", "[SERVERBUG] Cannot open the mailbox");
}

/* The claim went through the store (the mailbox is too big to cache). */
static void select_claimed(struct imap_session *s, void *p, int result, const char *error)
{
	struct select_ctx *c = p;

	if (s == NULL)
		return;
	if (result < 0) {
		imap_view_close(s);
		select_failed(s);
		return;
	}
	s->view->recent_above = c->recent_above;
	select_respond(s, c);
}

struct recent_record {
	int64_t mailbox_id;
	uint32_t top;
};

static int recent_record_txn(struct store *st, void *p)
{
	const struct recent_record *r = p;

	return store_mailbox_record_recent(st, r->mailbox_id, r->top);
}

static void recent_record_done(void *p, int result, const char *error)
{
	if (result < 0)
		log_warn("recent claim not recorded: %s", error);
	free(p);
}

/* EXAMINE claims nothing. A SELECT of a cached mailbox claims on the loop
 * thread and records the claim with a lazy commit it does not wait for (a
 * crash before it lands only shows those messages as \Recent again). */
static void select_open(struct imap_session *s, struct select_ctx *c)
{
	struct recent_record *r;
	uint32_t top;
	long before;

	if (imap_view_open(s, &c->mb, c->readonly) < 0) {
		select_failed(s);
		return;
	}
	if (c->readonly) {
		s->view->recent_above = c->mb.recent_uid;
		select_respond(s, c);
		return;
	}
	top = s->view->n > 0 ? s->view->msgs[s->view->n - 1].uid : 0;
	before = imap_cache_claim_recent(s->srv->imap_cache, &c->mb, top);
	if (before < 0) {
		imap_submit_flags(s, select_txn, select_claimed, c);
		return;
	}
	s->view->recent_above = (uint32_t)before;
	if ((uint32_t)before < top) {
		r = xmalloc(sizeof(*r));
		r->mailbox_id = c->mb.id;
		r->top = top;
		committer_submit_lazy(s->srv->committer, recent_record_txn, recent_record_done, r);
	}
	select_respond(s, c);
}

/* QRESYNC's optional known-uids and seq-match-data (RFC 7162 3.2.5).
 * The sample of sequence numbers only matters once the expunges the
 * client asks about were pruned (store/expunged.c). */
static int qresync_optional(struct imap_cursor *cur, struct select_ctx *c)
{
	const struct imap_arg *a = imap_arg_peek(cur);

	if (a != NULL && a->type == IMAP_ARG_ATOM) {
		if (imap_arg_seqset(cur, &c->known_uids) < 0)
			return -1;
		if (c->known_uids.saved)
			return imap_cursor_fail(cur, "Saved search results ($) are not supported");
	}
	if (imap_arg_at_end(cur))
		return 0;
	if (imap_arg_list_enter(cur) < 0 || imap_arg_seqset(cur, &c->match_seqs) < 0 ||
	    imap_arg_seqset(cur, &c->match_uids) < 0 || imap_arg_list_leave(cur) < 0)
		return -1;
	if (c->match_seqs.saved || c->match_uids.saved)
		return imap_cursor_fail(cur, "Saved search results ($) are not supported");
	return 0;
}

/* (CONDSTORE) or (QRESYNC (uidvalidity modseq ...)) after the name. */
static int select_params(struct imap_session *s, struct imap_cursor *cur, struct select_ctx *c)
{
	if (imap_arg_at_end(cur))
		return 0;
	if (imap_arg_list_enter(cur) < 0)
		return -1;
	while (!imap_arg_at_end(cur)) {
		if (imap_arg_keyword(cur, "CONDSTORE")) {
			s->condstore = true;
		} else if (imap_arg_keyword(cur, "QRESYNC")) {
			if (!s->qresync)
				return imap_cursor_fail(cur, "QRESYNC must be enabled first");
			if (imap_arg_list_enter(cur) < 0 || imap_arg_nz_number(cur, &c->known_uidvalidity) < 0 ||
			    imap_arg_number64(cur, &c->known_modseq) < 0)
				return -1;
			if (qresync_optional(cur, c) < 0)
				return -1;
			if (imap_arg_list_leave(cur) < 0)
				return -1;
			c->qresync = true;
		} else {
			return imap_cursor_fail(cur, "Unknown SELECT parameter");
		}
	}
	return imap_arg_list_leave(cur);
}

static void select_or_examine(struct imap_session *s, struct imap_cursor *cur, bool readonly)
{
	struct select_ctx *c;
	struct buf name;
	int found;

	buf_init(&name, 0);
	c = xcalloc(1, sizeof(*c));
	imap_seqset_init(&c->known_uids, s->limits.max_seqset_ranges);
	imap_seqset_init(&c->match_seqs, s->limits.max_seqset_ranges);
	imap_seqset_init(&c->match_uids, s->limits.max_seqset_ranges);
	if (imap_mailbox_arg(s, cur, &name) < 0 || select_params(s, cur, c) < 0 ||
	    imap_arg_end(cur) < 0) {
		buf_deinit(&name);
		select_ctx_free(c);
		imap_bad(s, cur->error);
		return;
	}
	/* RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected */
	if (s->view != NULL) {
		imap_view_close(s);
		imap_enter_state(s, IMAP_STATE_AUTH);
		/* RFC 7162 3.2.11 / RFC 9051 7.1: clients that do not know the
		 * code ignore it */
		imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	found = store_mailbox_get(s->srv->store, s->account_id, buf_cstr(&name), &c->mb);
	buf_deinit(&name);
	if (found <= 0) {
		select_ctx_free(c);
		imap_done(s, "NO", "%s", found == 0 ? "[NONEXISTENT] No such mailbox" :
			  "[SERVERBUG] Cannot read the mailbox");
		return;
	}
	c->readonly = readonly;
	s->cmd_ctx = c;
	s->cmd_ctx_free = select_ctx_free;
	select_open(s, c);
}

void imap_cmd_select(struct imap_session *s, struct imap_cursor *cur)
{
	select_or_examine(s, cur, false);
}

void imap_cmd_examine(struct imap_session *s, struct imap_cursor *cur)
{
	select_or_examine(s, cur, true);
}

/* ---- CREATE / DELETE / RENAME / SUBSCRIBE ----------------------------------- */

struct name_ctx {
	int64_t account_id;
	char *name;		/* owned */
	char *to;		/* owned: RENAME */
	char *special_use;	/* owned: CREATE (USE (...)) */
	int op;
	char **unlink;
	size_t n_unlink;
	char error[256];
};

enum { OP_CREATE, OP_DELETE, OP_RENAME, OP_SUBSCRIBE, OP_UNSUBSCRIBE };

static void name_ctx_free(void *p)
{
	struct name_ctx *c = p;
	size_t i;

	for (i = 0; i < c->n_unlink; i++)
		free(c->unlink[i]);
	free(c->unlink);
	free(c->name);
	free(c->to);
	free(c->special_use);
	free(c);
}

static int name_txn(struct store *st, void *p)
{
	struct name_ctx *c = p;
	int ret = -1;

	switch (c->op) {
	case OP_CREATE:
		ret = store_mailbox_create(st, c->account_id, c->name, c->special_use, NULL);
		break;
	case OP_DELETE:
		ret = store_mailbox_delete(st, c->account_id, c->name, &c->unlink, &c->n_unlink);
		break;
	case OP_RENAME:
		ret = store_mailbox_rename(st, c->account_id, c->name, c->to);
		break;
	case OP_SUBSCRIBE:
	case OP_UNSUBSCRIBE:
		ret = store_mailbox_subscribe(st, c->account_id, c->name, c->op == OP_SUBSCRIBE);
		break;
	}
	if (ret < 0)
		snprintf(c->error, sizeof(c->error), "%s", store_error(st));
	return ret;
}

static const char *op_name(int op)
{
	static const char *const names[] = { "CREATE", "DELETE", "RENAME", "SUBSCRIBE",
					     "UNSUBSCRIBE" };
	return names[op];
}

static void name_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct name_ctx *c = p;
	size_t i;

	if (result == 0) {
		for (i = 0; i < c->n_unlink; i++)
			unlink(c->unlink[i]);
	}
	if (s == NULL)
		return;
	if (result == 0) {
		if (c->op == OP_RENAME && !strcmp(c->name, "INBOX"))
			server_mailbox_changed(s->srv, s->account_id, 0);
		imap_done(s, "OK", "%s completed", op_name(c->op));
		return;
	}
	imap_done(s, "NO", "%s%s", strstr(c->error, "already exists") ? "[ALREADYEXISTS] " :
		  strstr(c->error, "does not exist") ? "[NONEXISTENT] " :
		  strstr(c->error, "cannot") ? "[CANNOT] " : "", c->error[0] ? c->error : error);
}

static void name_command(struct imap_session *s, struct name_ctx *c)
{
	c->account_id = s->account_id;
	s->cmd_ctx = c;
	s->cmd_ctx_free = name_ctx_free;
	imap_submit(s, name_txn, name_done, c);
}

/* RFC 9051 6.3.4: "foo/" declares that foo will have children: the
 * trailing delimiter is dropped and foo is created. */
static int create_name_arg(struct imap_session *s, struct imap_cursor *cur, struct buf *out)
{
	const char *wire, *error = NULL;
	size_t len;

	if (imap_arg_astring(cur, &wire, &len) < 0)
		return -1;
	if (len > 1 && wire[len - 1] == '/')
		len--;
	if (name_from_wire(s, wire, len, out, &error) < 0)
		return imap_cursor_fail(cur, error);
	return 0;
}

/* CREATE's optional (USE (\Sent ...)) of RFC 6154 5.1. */
static int create_params(struct imap_cursor *cur, struct name_ctx *c)
{
	const char *use;
	size_t len;

	if (imap_arg_at_end(cur))
		return 0;
	if (imap_arg_list_enter(cur) < 0 || !imap_arg_keyword(cur, "USE") ||
	    imap_arg_list_enter(cur) < 0 || imap_arg_atom(cur, &use, &len) < 0)
		return imap_cursor_fail(cur, "Expected (USE (\\SpecialUse))");
	c->special_use = xstrndup(use, len);
	if (imap_arg_list_leave(cur) < 0 || imap_arg_list_leave(cur) < 0)
		return imap_cursor_fail(cur, "Only one special use per mailbox");
	if (strcasecmp(c->special_use, "\\Drafts") && strcasecmp(c->special_use, "\\Sent") &&
	    strcasecmp(c->special_use, "\\Trash") && strcasecmp(c->special_use, "\\Junk") &&
	    strcasecmp(c->special_use, "\\Archive") && strcasecmp(c->special_use, "\\All") &&
	    strcasecmp(c->special_use, "\\Flagged"))
		return imap_cursor_fail(cur, "Unknown special use");
	return 0;
}

void imap_cmd_create(struct imap_session *s, struct imap_cursor *cur)
{
	struct name_ctx *c = xcalloc(1, sizeof(*c));
	struct buf name;

	buf_init(&name, 0);
	if (create_name_arg(s, cur, &name) < 0 || create_params(cur, c) < 0 ||
	    imap_arg_end(cur) < 0) {
		buf_deinit(&name);
		name_ctx_free(c);
		imap_bad(s, cur->error);
		return;
	}
	c->op = OP_CREATE;
	c->name = buf_steal(&name, NULL);
	if (!strcmp(c->name, "INBOX")) {
		name_ctx_free(c);
		imap_done(s, "NO", "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	name_command(s, c);
}

static void simple_name_command(struct imap_session *s, struct imap_cursor *cur, int op)
{
	struct name_ctx *c;
	struct buf name;

	if (one_mailbox(s, cur, &name) < 0)
		return;
	c = xcalloc(1, sizeof(*c));
	c->op = op;
	c->name = buf_steal(&name, NULL);
	if (op == OP_DELETE && s->view != NULL && !strcmp(s->view->mb.name, c->name)) {
		/* deleting the selected mailbox: RFC 9051 6.3.5 lets us refuse */
		name_ctx_free(c);
		imap_done(s, "NO", "[INUSE] Mailbox is selected; close it first");
		return;
	}
	name_command(s, c);
}

void imap_cmd_delete(struct imap_session *s, struct imap_cursor *cur)
{
	simple_name_command(s, cur, OP_DELETE);
}

void imap_cmd_subscribe(struct imap_session *s, struct imap_cursor *cur)
{
	simple_name_command(s, cur, OP_SUBSCRIBE);
}

void imap_cmd_unsubscribe(struct imap_session *s, struct imap_cursor *cur)
{
	simple_name_command(s, cur, OP_UNSUBSCRIBE);
}

void imap_cmd_rename(struct imap_session *s, struct imap_cursor *cur)
{
	struct name_ctx *c;
	struct buf from, to;

	buf_init(&from, 0);
	buf_init(&to, 0);
	if (imap_mailbox_arg(s, cur, &from) < 0 || imap_mailbox_arg(s, cur, &to) < 0 ||
	    imap_arg_end(cur) < 0) {
		buf_deinit(&from);
		buf_deinit(&to);
		imap_bad(s, cur->error);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->op = OP_RENAME;
	c->name = buf_steal(&from, NULL);
	c->to = buf_steal(&to, NULL);
	if (!strcmp(c->to, "INBOX") || !strncmp(c->to, "INBOX/", 6)) {
		name_ctx_free(c);
		imap_done(s, "NO", "[CANNOT] Cannot rename to INBOX");
		return;
	}
	name_command(s, c);
}

/* ---- LIST / LSUB --------------------------------------------------------------- */

struct list_entry {
	struct store_mailbox mb;
	bool has_children;
	bool matched;
	bool child_subscribed;	/* RECURSIVEMATCH */
};

struct list_all {
	struct list_entry *v;
	size_t n;
};

static void collect_mailbox(void *ctx, const struct store_mailbox *mb)
{
	struct list_all *all = ctx;
	struct list_entry *e;

	all->v = xrealloc(all->v, (all->n + 1) * sizeof(*all->v));
	e = &all->v[all->n++];
	memset(e, 0, sizeof(*e));
	e->mb = *mb;
	e->mb.name = xstrdup(mb->name);
	e->mb.special_use = mb->special_use ? xstrdup(mb->special_use) : NULL;
	e->mb.keywords = NULL;
}

static void list_all_free(struct list_all *all)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		store_mailbox_deinit(&all->v[i].mb);
	free(all->v);
}

/* Marks children (names are sorted, so a child follows its parent). */
static void mark_children(struct list_all *all)
{
	size_t i, j, len;

	for (i = 0; i < all->n; i++) {
		len = strlen(all->v[i].mb.name);
		for (j = i + 1; j < all->n; j++) {
			if (strncmp(all->v[j].mb.name, all->v[i].mb.name, len) != 0)
				break;
			if (all->v[j].mb.name[len] == '/') {
				all->v[i].has_children = true;
				if (all->v[j].mb.subscribed)
					all->v[i].child_subscribed = true;
			}
		}
	}
}

/* Does the UTF-8 name match one of the patterns (reference prepended)? */
static bool list_matches(struct imap_session *s, const struct imap_list_cmd *l, const char *name)
{
	struct buf wire, pat;
	const char *error;
	bool match = false;
	unsigned i;

	buf_init(&wire, 0);
	buf_init(&pat, 0);
	if (s->utf8)
		buf_append_str(&wire, name);
	else
		imap_utf8_to_utf7(name, strlen(name), &wire, &error);
	for (i = 0; i < l->npatterns && !match; i++) {
		buf_reset(&pat);
		buf_append(&pat, l->reference.data, l->reference.len);
		buf_append(&pat, l->patterns[i].data, l->patterns[i].len);
		/* INBOX matches case-insensitively (RFC 9051 6.3.9) */
		if (pat.len >= 5 && strncasecmp(pat.data, "INBOX", 5) == 0 &&
		    (pat.len == 5 || pat.data[5] == '/' || pat.data[5] == '*' || pat.data[5] == '%'))
			memcpy(pat.data, "INBOX", 5);
		match = imap_list_match(pat.data ? pat.data : "", pat.len, buf_cstr(&wire), wire.len,
					'/');
	}
	buf_deinit(&wire);
	buf_deinit(&pat);
	return match;
}

static void write_status_items(struct imap_session *s, struct buf *b,
			       const struct store_mailbox *mb, unsigned items);

static void list_one(struct imap_session *s, const struct imap_list_cmd *l, const char *verb,
		     const struct list_entry *e, bool lsub)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "%s (", verb);
	buf_append_str(&b, e->has_children ? "\\HasChildren" : "\\HasNoChildren");
	if (!lsub && (l->select & IMAP_LIST_SEL_SUBSCRIBED || l->ret & IMAP_LIST_RET_SUBSCRIBED) &&
	    e->mb.subscribed)
		buf_append_str(&b, " \\Subscribed");
	if (!lsub && e->mb.special_use != NULL &&
	    (!l->extended || l->ret & IMAP_LIST_RET_SPECIAL_USE || l->select & IMAP_LIST_SEL_SPECIAL_USE))
		buf_printf(&b, " %s", e->mb.special_use);
	buf_append_str(&b, ") \"/\" ");
	name_to_wire(s, &b, e->mb.name);
	if (l->select & IMAP_LIST_SEL_RECURSIVEMATCH && e->child_subscribed && !e->mb.subscribed)
		buf_append_str(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	imap_untagged(s, "%s", buf_cstr(&b));
	if (!lsub && l->ret & IMAP_LIST_RET_STATUS) {
		buf_reset(&b);
		buf_append_str(&b, "STATUS ");
		name_to_wire(s, &b, e->mb.name);
		write_status_items(s, &b, &e->mb, l->status_items);
		imap_untagged(s, "%s", buf_cstr(&b));
	}
	buf_deinit(&b);
}

static bool list_selected(const struct imap_list_cmd *l, const struct list_entry *e, bool lsub)
{
	if (lsub || l->select & IMAP_LIST_SEL_SUBSCRIBED)
		return e->mb.subscribed ||
		       (l->select & IMAP_LIST_SEL_RECURSIVEMATCH && e->child_subscribed);
	if (l->select & IMAP_LIST_SEL_SPECIAL_USE)
		return e->mb.special_use != NULL;
	return true;
}

static void list_or_lsub(struct imap_session *s, struct imap_cursor *cur, bool lsub)
{
	struct imap_list_cmd l;
	struct list_all all = { 0 };
	size_t i;

	memset(&l, 0, sizeof(l));
	if (imap_list_parse(cur, &l) < 0 || (lsub && l.extended)) {
		imap_list_cmd_deinit(&l);
		imap_bad(s, cur->error ? cur->error : "LSUB takes a reference and a pattern");
		return;
	}
	/* RFC 9051 6.3.9: an empty pattern asks for the delimiter */
	if (l.npatterns == 1 && l.patterns[0].len == 0 && !l.extended) {
		imap_untagged(s, "%s (\\Noselect) \"/\" \"\"", lsub ? "LSUB" : "LIST");
		imap_list_cmd_deinit(&l);
		imap_done(s, "OK", "%s completed", lsub ? "LSUB" : "LIST");
		return;
	}
	if (store_mailbox_list(s->srv->store, s->account_id, collect_mailbox, &all) < 0) {
		imap_list_cmd_deinit(&l);
		imap_done(s, "NO", "[SERVERBUG] Cannot list mailboxes");
		return;
	}
	mark_children(&all);
	for (i = 0; i < all.n; i++) {
		if (list_selected(&l, &all.v[i], lsub) && list_matches(s, &l, all.v[i].mb.name))
			list_one(s, &l, lsub ? "LSUB" : "LIST", &all.v[i], lsub);
	}
	list_all_free(&all);
	imap_list_cmd_deinit(&l);
	imap_done(s, "OK", "%s completed", lsub ? "LSUB" : "LIST");
}

void imap_cmd_list(struct imap_session *s, struct imap_cursor *cur)
{
	list_or_lsub(s, cur, false);
}

void imap_cmd_lsub(struct imap_session *s, struct imap_cursor *cur)
{
	list_or_lsub(s, cur, true);
}

void imap_cmd_namespace(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_done(s, "OK", "NAMESPACE completed");
}

/* ---- STATUS --------------------------------------------------------------------- */

static void write_status_items(struct imap_session *s, struct buf *b,
			       const struct store_mailbox *mb, unsigned items)
{
	struct store_mailbox_counts c;
	const char *sep = "";

	if (store_mailbox_counts(s->srv->store, mb, &c) < 0)
		memset(&c, 0, sizeof(c));
	buf_append_str(b, " (");
#define ITEM(flag, fmt, val) \
	do { if (items & (flag)) { buf_printf(b, "%s" fmt, sep, val); sep = " "; } } while (0)
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", c.messages);
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", mb->uidnext);
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", mb->uidvalidity);
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", c.unseen);
	ITEM(IMAP_STATUS_DELETED, "DELETED %u", c.deleted);
	ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)c.size);
	ITEM(IMAP_STATUS_RECENT, "RECENT %u", c.recent);
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu", (unsigned long long)mb->highestmodseq);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %llu",
	     (unsigned long long)s->srv->cfg->smtp_max_message_size);
#undef ITEM
	buf_append_char(b, ')');
}

void imap_cmd_status(struct imap_session *s, struct imap_cursor *cur)
{
	struct store_mailbox mb;
	struct buf name, b;
	unsigned items;
	int found;

	buf_init(&name, 0);
	if (imap_mailbox_arg(s, cur, &name) < 0 || imap_arg_status_items(cur, &items) < 0 ||
	    imap_arg_end(cur) < 0) {
		buf_deinit(&name);
		imap_bad(s, cur->error);
		return;
	}
	found = store_mailbox_get(s->srv->store, s->account_id, buf_cstr(&name), &mb);
	if (found <= 0) {
		buf_deinit(&name);
		imap_done(s, "NO", "%s", found == 0 ? "[NONEXISTENT] No such mailbox" :
			  "[SERVERBUG] Cannot read the mailbox");
		return;
	}
	buf_init(&b, 0);
	buf_append_str(&b, "STATUS ");
	name_to_wire(s, &b, mb.name);
	write_status_items(s, &b, &mb, items);
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_deinit(&b);
	buf_deinit(&name);
	store_mailbox_deinit(&mb);
	imap_done(s, "OK", "STATUS completed");
}

/* ---- QUOTA (RFC 9208): one root "" per account ------------------------------- */

static void send_quota(struct imap_session *s)
{
	uint64_t limit = 0, used = 0, messages = 0;

	if (store_quota_limit(s->srv->store, s->account_id, &limit) < 0 ||
	    (limit > 0 && store_quota_get(s->srv->store, s->account_id, &limit, &used,
					  &messages) < 0))
		return;
	if (limit == 0)
		imap_untagged(s, "QUOTA \"\" ()");
	else
		imap_untagged(s, "QUOTA \"\" (STORAGE %llu %llu)",
			      (unsigned long long)((used + 1023) / 1024),
			      (unsigned long long)(limit / 1024));
}

void imap_cmd_getquota(struct imap_session *s, struct imap_cursor *cur)
{
	const char *root;
	size_t len;

	if (imap_arg_astring(cur, &root, &len) < 0 || imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (len != 0) {
		imap_done(s, "NO", "[NONEXISTENT] No such quota root");
		return;
	}
	send_quota(s);
	imap_done(s, "OK", "GETQUOTA completed");
}

void imap_cmd_getquotaroot(struct imap_session *s, struct imap_cursor *cur)
{
	struct store_mailbox mb;
	struct buf name, b;
	int found;

	if (one_mailbox(s, cur, &name) < 0)
		return;
	found = store_mailbox_get(s->srv->store, s->account_id, buf_cstr(&name), &mb);
	if (found <= 0) {
		buf_deinit(&name);
		imap_done(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	buf_init(&b, 0);
	buf_append_str(&b, "QUOTAROOT ");
	name_to_wire(s, &b, mb.name);
	buf_append_str(&b, " \"\"");
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_deinit(&b);
	buf_deinit(&name);
	store_mailbox_deinit(&mb);
	send_quota(s);
	imap_done(s, "OK", "GETQUOTAROOT completed");
}
