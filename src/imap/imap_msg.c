/*
 * IMAP commands that change messages of the selected mailbox: STORE
 * (with CONDSTORE's UNCHANGEDSINCE, RFC 7162 3.1.3), EXPUNGE and UID
 * EXPUNGE (RFC 4315), CLOSE, UNSELECT (RFC 3691), COPY with COPYUID and
 * MOVE (RFC 6851), and IDLE (RFC 2177). Changes go through the committer;
 * when they are durable the session answers and every other session with
 * the mailbox selected learns of them.
 */
#include "imap/imap_session.h"
#include "imap/imap_grammar.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a sequence set argument into view indexes; replies on error. */
static int set_arg(struct imap_session *s, struct imap_cursor *cur, size_t **idx_r, size_t *n_r)
{
	struct imap_seqset set;
	int ret;

	imap_seqset_init(&set, s->limits.max_seqset_ranges);
	if (imap_arg_seqset(cur, &set) < 0) {
		imap_seqset_deinit(&set);
		imap_bad(s, cur->error);
		return -1;
	}
	ret = imap_view_indexes(s, &set, idx_r, n_r);
	imap_seqset_deinit(&set);
	if (ret == -1) {
		imap_done(s, "BAD", "Saved search results ($) are not supported");
		return -1;
	}
	if (ret == -2) {
		imap_done(s, "BAD", "Invalid message sequence number");
		return -1;
	}
	return 0;
}

static uint32_t *uids_of(struct imap_view *v, const size_t *idx, size_t n)
{
	uint32_t *uids = xcalloc(n ? n : 1, sizeof(*uids));
	size_t i;

	for (i = 0; i < n; i++)
		uids[i] = v->msgs[idx[i]].uid;
	return uids;
}

static void unlink_all(char **paths, size_t n, bool do_unlink)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (do_unlink)
			unlink(paths[i]);
		free(paths[i]);
	}
	free(paths);
}

/* ---- EXPUNGE / CLOSE / UNSELECT ------------------------------------------------- */

struct expunge_ctx {
	int64_t account_id;
	int64_t mailbox_id;
	uint32_t *uids;		/* owned: \Deleted messages to remove */
	size_t n;
	uint32_t *gone;		/* owned */
	size_t n_gone;
	char **unlink;
	size_t n_unlink;
	bool close;		/* CLOSE: deselect afterwards, no responses */
};

static void expunge_ctx_free(void *p)
{
	struct expunge_ctx *c = p;

	unlink_all(c->unlink, c->n_unlink, false);
	free(c->uids);
	free(c->gone);
	free(c);
}

static int expunge_txn(struct store *st, void *p)
{
	struct expunge_ctx *c = p;

	return store_msgs_expunge(st, c->mailbox_id, c->uids, c->n, &c->gone, &c->n_gone,
				  &c->unlink, &c->n_unlink);
}

static void expunge_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct expunge_ctx *c = p;

	unlink_all(c->unlink, c->n_unlink, result == 0);
	c->unlink = NULL;
	c->n_unlink = 0;
	if (result == 0 && c->n_gone > 0 && s != NULL)
		server_mailbox_changed(s->srv, c->account_id, c->mailbox_id);
	else if (result == 0 && c->n_gone > 0)
		return;	/* session gone; others learn at their next sync */
	if (s == NULL)
		return;
	if (result < 0) {
		imap_done(s, "NO", "[SERVERBUG] Expunge failed");
		return;
	}
	if (c->close) {
		imap_view_close(s);
		imap_enter_state(s, IMAP_STATE_AUTH);
		imap_done(s, "OK", "CLOSE completed");
		return;
	}
	imap_done(s, "OK", "EXPUNGE completed");
}

/* Starts removing the \Deleted messages among idx (all when idx NULL). */
static void start_expunge(struct imap_session *s, const size_t *idx, size_t n, bool close)
{
	struct imap_view *v = s->view;
	struct expunge_ctx *c = xcalloc(1, sizeof(*c));
	size_t i, count = idx ? n : v->n;

	c->account_id = s->account_id;
	c->mailbox_id = v->mb.id;
	c->close = close;
	c->uids = xcalloc(count ? count : 1, sizeof(*c->uids));
	for (i = 0; i < count; i++) {
		const struct store_msg *m = &v->msgs[idx ? idx[i] : i];

		if (m->flags & STORE_FLAG_DELETED)
			c->uids[c->n++] = m->uid;
	}
	s->cmd_ctx = c;
	s->cmd_ctx_free = expunge_ctx_free;
	imap_submit(s, expunge_txn, expunge_done, c);
}

void imap_cmd_expunge(struct imap_session *s, struct imap_cursor *cur)
{
	size_t *idx = NULL, n = 0;

	if (s->uid && set_arg(s, cur, &idx, &n) < 0)
		return;
	if (imap_arg_end(cur) < 0) {
		free(idx);
		imap_bad(s, cur->error);
		return;
	}
	if (s->view->readonly) {
		free(idx);
		imap_done(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	start_expunge(s, s->uid ? idx : NULL, n, false);
	free(idx);
}

void imap_cmd_close(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (s->view->readonly) {
		/* RFC 9051 6.4.1: no expunge on a read-only mailbox */
		imap_view_close(s);
		imap_enter_state(s, IMAP_STATE_AUTH);
		imap_done(s, "OK", "CLOSE completed");
		return;
	}
	start_expunge(s, NULL, 0, true);
}

void imap_cmd_unselect(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	imap_view_close(s);
	imap_enter_state(s, IMAP_STATE_AUTH);
	imap_done(s, "OK", "UNSELECT completed");
}

/* ---- STORE ------------------------------------------------------------------------ */

struct store_ctx {
	int64_t account_id;
	int64_t mailbox_id;
	uint32_t *uids;
	size_t n;
	enum store_flag_op op;
	uint32_t flags;
	char **keywords;	/* owned names, mapped to a mask in the txn */
	size_t n_keywords;
	uint64_t unchangedsince;
	bool cond_zero;		/* UNCHANGEDSINCE 0 */
	bool silent;
	struct store_flag_result *res;
	size_t n_res;
	char error[256];
};

static void store_ctx_free(void *p)
{
	struct store_ctx *c = p;

	imap_keywords_free(c->keywords, c->n_keywords);
	free(c->uids);
	free(c->res);
	free(c);
}

static int store_txn(struct store *st, void *p)
{
	struct store_ctx *c = p;
	uint64_t mask = 0;

	if (c->n_keywords > 0 &&
	    store_mailbox_keywords(st, c->mailbox_id, (const char *const *)c->keywords,
				   c->n_keywords, &mask) < 0) {
		snprintf(c->error, sizeof(c->error), "%s", store_error(st));
		return -1;
	}
	if (c->cond_zero) {
		/* nothing may change: report every existing message as refused */
		if (store_flags_update(st, c->mailbox_id, c->uids, c->n, STORE_FLAGS_ADD, 0, 0, 0,
				       &c->res, &c->n_res) < 0)
			return -1;
		for (size_t i = 0; i < c->n_res; i++)
			c->res[i].refused = true;
		return 0;
	}
	return store_flags_update(st, c->mailbox_id, c->uids, c->n, c->op, c->flags, mask,
				  c->unchangedsince, &c->res, &c->n_res);
}

static void store_reply(struct imap_session *s, struct store_ctx *c)
{
	struct imap_seqset modified;
	struct buf b;
	size_t i;
	long idx;

	imap_seqset_init(&modified, 0);
	buf_init(&b, 0);
	for (i = 0; i < c->n_res; i++) {
		idx = imap_view_find_uid(s->view, c->res[i].uid);
		if (c->res[i].refused) {
			imap_seqset_add(&modified, s->uid ? c->res[i].uid : (uint32_t)idx + 1,
					s->uid ? c->res[i].uid : (uint32_t)idx + 1);
			continue;
		}
		if (idx < 0)
			continue;
		imap_view_own(s->view, s->view->n);
		s->view->msgs[idx].flags = c->res[i].flags;
		s->view->msgs[idx].keywords = c->res[i].keywords;
		s->view->msgs[idx].modseq = c->res[i].modseq;
		/* RFC 7162 3.1.3: with UNCHANGEDSINCE, .SILENT still reports MODSEQ */
		if (c->silent && !(c->unchangedsince && c->res[i].changed))
			continue;
		buf_reset(&b);
		buf_printf(&b, "%ld FETCH (", idx + 1);
		if (s->uid)
			buf_printf(&b, "UID %u ", c->res[i].uid);
		if (!c->silent) {
			buf_append_str(&b, "FLAGS ");
			imap_view_write_flags(s, &b, (size_t)idx);
		}
		if (s->condstore)
			buf_printf(&b, "%sMODSEQ (%llu)", c->silent ? "" : " ",
				   (unsigned long long)c->res[i].modseq);
		buf_append_char(&b, ')');
		imap_untagged(s, "%s", buf_cstr(&b));
	}
	buf_reset(&b);
	if (modified.count > 0) {
		imap_seqset_resolve(&modified, 0);
		imap_seqset_format(&modified, &b);
	}
	if (b.len > 0)
		imap_done(s, "OK", "[MODIFIED %s] Conditional STORE failed for some", buf_cstr(&b));
	else
		imap_done(s, "OK", "STORE completed");
	buf_deinit(&b);
	imap_seqset_deinit(&modified);
}

static void store_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct store_ctx *c = p;

	if (result == 0 && s != NULL) {
		server_mailbox_changed(s->srv, c->account_id, c->mailbox_id);
	}
	if (s == NULL)
		return;
	if (result < 0) {
		imap_done(s, "NO", "%s", c->error[0] ? c->error : "[SERVERBUG] STORE failed");
		return;
	}
	if (c->n_keywords > 0)
		imap_view_reload_keywords(s);
	store_reply(s, c);
}

static enum store_flag_op store_op(enum imap_store_mode mode)
{
	return mode == IMAP_STORE_ADD ? STORE_FLAGS_ADD :
	       mode == IMAP_STORE_REMOVE ? STORE_FLAGS_REMOVE : STORE_FLAGS_SET;
}

void imap_cmd_store(struct imap_session *s, struct imap_cursor *cur)
{
	struct imap_store st;
	struct store_ctx *c;
	size_t *idx, n, i;

	if (set_arg(s, cur, &idx, &n) < 0)
		return;
	memset(&st, 0, sizeof(st));
	if (imap_store_parse(cur, STORE_KEYWORDS_MAX, &st) < 0 || imap_arg_end(cur) < 0) {
		free(idx);
		imap_store_deinit(&st);
		imap_bad(s, cur->error);
		return;
	}
	if (s->view->readonly) {
		free(idx);
		imap_store_deinit(&st);
		imap_done(s, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->account_id = s->account_id;
	c->mailbox_id = s->view->mb.id;
	c->uids = uids_of(s->view, idx, n);
	c->n = n;
	c->op = store_op(st.mode);
	c->flags = imap_flags_to_store(st.flags.system);
	c->silent = st.silent;
	if (st.unchangedsince) {
		s->condstore = true;
		/* UNCHANGEDSINCE 0 fails for every message (all have a MODSEQ);
		 * the smallest real condition does the same */
		c->unchangedsince = st.unchangedsince_modseq;
		c->cond_zero = st.unchangedsince_modseq == 0;
	}
	c->keywords = xcalloc(st.flags.nkeywords + 1, sizeof(char *));
	for (i = 0; i < st.flags.nkeywords; i++)
		c->keywords[c->n_keywords++] = xstrndup(st.flags.keywords[i].data,
							 st.flags.keywords[i].len);
	imap_store_deinit(&st);
	free(idx);
	s->cmd_ctx = c;
	s->cmd_ctx_free = store_ctx_free;
	imap_submit_flags(s, store_txn, store_done, c);
}

/* ---- COPY / MOVE ------------------------------------------------------------------- */

struct copy_ctx {
	int64_t account_id;
	int64_t src, dst;
	uint32_t dst_uidvalidity;
	uint32_t *uids;
	size_t n;
	bool move;
	uint32_t *src_uids, *dst_uids;
	size_t n_done;
	char **unlink;
	size_t n_unlink;
	uint64_t quota_left;	/* 0: no quota */
	char error[256];
};

static void copy_ctx_free(void *p)
{
	struct copy_ctx *c = p;

	unlink_all(c->unlink, c->n_unlink, false);
	free(c->uids);
	free(c->src_uids);
	free(c->dst_uids);
	free(c);
}

static int copy_txn(struct store *st, void *p)
{
	struct copy_ctx *c = p;

	if (store_msgs_copy(st, c->src, c->dst, c->uids, c->n, c->move, &c->src_uids, &c->dst_uids,
			    &c->n_done, &c->unlink, &c->n_unlink) < 0) {
		snprintf(c->error, sizeof(c->error), "%s", store_error(st));
		return -1;
	}
	return 0;
}

static void copy_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct copy_ctx *c = p;
	struct imap_seqset from, to;
	struct buf a, b;
	size_t i;

	unlink_all(c->unlink, c->n_unlink, result == 0);
	c->unlink = NULL;
	c->n_unlink = 0;
	if (s == NULL)
		return;
	if (result < 0) {
		imap_done(s, "NO", "%s", c->error[0] ? c->error : "[SERVERBUG] COPY failed");
		return;
	}
	server_mailbox_changed(s->srv, c->account_id, c->dst);
	if (c->move)
		server_mailbox_changed(s->srv, c->account_id, c->src);
	if (c->n_done == 0) {
		imap_done(s, "OK", "%s completed, nothing to do", c->move ? "MOVE" : "COPY");
		return;
	}
	imap_seqset_init(&from, 0);
	imap_seqset_init(&to, 0);
	for (i = 0; i < c->n_done; i++) {
		imap_seqset_add(&from, c->src_uids[i], c->src_uids[i]);
		imap_seqset_add(&to, c->dst_uids[i], c->dst_uids[i]);
	}
	imap_seqset_resolve(&from, 0);
	imap_seqset_resolve(&to, 0);
	buf_init(&a, 0);
	buf_init(&b, 0);
	imap_seqset_format(&from, &a);
	imap_seqset_format(&to, &b);
	/* RFC 6851 4.3: MOVE sends COPYUID in an untagged OK before the
	 * expunges, which imap_done's sync then sends */
	if (c->move)
		imap_untagged(s, "OK [COPYUID %u %s %s] Moved", c->dst_uidvalidity, buf_cstr(&a),
			      buf_cstr(&b));
	if (c->move)
		imap_done(s, "OK", "MOVE completed");
	else
		imap_done(s, "OK", "[COPYUID %u %s %s] COPY completed", c->dst_uidvalidity,
			  buf_cstr(&a), buf_cstr(&b));
	buf_deinit(&a);
	buf_deinit(&b);
	imap_seqset_deinit(&from);
	imap_seqset_deinit(&to);
}

/* RFC 9208 4.2: COPY must not take the user past the quota. */
static bool over_quota(struct imap_session *s, const size_t *idx, size_t n)
{
	uint64_t limit = 0, used = 0, count = 0, add = 0;
	size_t i;

	if (store_quota_limit(s->srv->store, s->account_id, &limit) < 0 || limit == 0 ||
	    store_quota_get(s->srv->store, s->account_id, &limit, &used, &count) < 0)
		return false;
	for (i = 0; i < n; i++)
		add += s->view->msgs[idx[i]].size;
	return used + add > limit;
}

static void copy_or_move(struct imap_session *s, struct imap_cursor *cur, bool move)
{
	struct store_mailbox dst;
	struct copy_ctx *c;
	struct buf name;
	size_t *idx, n;
	int found;

	if (set_arg(s, cur, &idx, &n) < 0)
		return;
	buf_init(&name, 0);
	if (imap_mailbox_arg(s, cur, &name) < 0 || imap_arg_end(cur) < 0) {
		free(idx);
		buf_deinit(&name);
		imap_bad(s, cur->error);
		return;
	}
	found = store_mailbox_get(s->srv->store, s->account_id, buf_cstr(&name), &dst);
	buf_deinit(&name);
	if (found <= 0 || (move && s->view->readonly)) {
		free(idx);
		if (found > 0)
			store_mailbox_deinit(&dst);
		imap_done(s, "NO", "%s", found == 0 ? "[TRYCREATE] No such mailbox" : found < 0 ?
			  "[SERVERBUG] Cannot read the mailbox" : "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (!move && over_quota(s, idx, n)) {
		free(idx);
		store_mailbox_deinit(&dst);
		imap_done(s, "NO", "[OVERQUOTA] Quota exceeded");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->account_id = s->account_id;
	c->src = s->view->mb.id;
	c->dst = dst.id;
	c->dst_uidvalidity = dst.uidvalidity;
	c->uids = uids_of(s->view, idx, n);
	c->n = n;
	c->move = move;
	store_mailbox_deinit(&dst);
	free(idx);
	s->cmd_ctx = c;
	s->cmd_ctx_free = copy_ctx_free;
	imap_submit(s, copy_txn, copy_done, c);
}

void imap_cmd_copy(struct imap_session *s, struct imap_cursor *cur)
{
	copy_or_move(s, cur, false);
}

void imap_cmd_move(struct imap_session *s, struct imap_cursor *cur)
{
	copy_or_move(s, cur, true);
}

/* ---- IDLE (RFC 2177; RFC 9051 6.3.13) --------------------------------------------- */

void imap_cmd_idle(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (s->view != NULL)
		imap_view_sync(s, true);
	s->wait = IMAP_WAIT_IDLE;
	imap_reader_line_mode(s->reader);
	conn_printf(s->conn, "+ idling\r\n");
}

void imap_idle_line(struct imap_session *s, const char *line, size_t len)
{
	s->wait = IMAP_WAIT_NONE;
	if (!mem_equal_ci(line, len, "DONE")) {
		imap_bad(s, "Expected DONE to end IDLE");
		return;
	}
	imap_done(s, "OK", "IDLE terminated");
}
