/*
 * The selected mailbox as one session sees it (struct imap_view): its own
 * list of messages, so message sequence numbers stay stable between the
 * points where the protocol lets them change, and the sync that brings it
 * up to date with the store:
 *   new messages        -> "* n EXISTS" (and RECENT for rev1)
 *   flag changes        -> "* n FETCH (FLAGS (...) [UID u] [MODSEQ (m)])"
 *   expunged messages   -> "* n EXPUNGE", or "* VANISHED u,..." with QRESYNC
 * Expunges wait while a FETCH, STORE or SEARCH is answered (RFC 9051
 * 7.5.1); the view keeps the messages until a later sync.
 */
#include "imap/imap_session.h"
#include "imap/imap_cache.h"
#include "imap/imap_grammar.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
};

unsigned imap_flags_to_store(unsigned wire)
{
	static const unsigned map[][2] = {
		{ IMAP_FLAG_SEEN, STORE_FLAG_SEEN }, { IMAP_FLAG_ANSWERED, STORE_FLAG_ANSWERED },
		{ IMAP_FLAG_FLAGGED, STORE_FLAG_FLAGGED }, { IMAP_FLAG_DELETED, STORE_FLAG_DELETED },
		{ IMAP_FLAG_DRAFT, STORE_FLAG_DRAFT },
	};
	unsigned out = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		if (wire & map[i][0])
			out |= map[i][1];
	}
	return out;
}

void imap_keywords_free(char **kw, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(kw[i]);
	free(kw);
}

/* Splits the mailbox's space-separated keyword list into the view. */
static void view_load_keywords(struct imap_view *v, const char *list)
{
	char *copy = xstrdup(list ? list : ""), *save = NULL, *w;

	imap_keywords_free(v->keywords, v->n_keywords);
	v->keywords = NULL;
	v->n_keywords = 0;
	for (w = strtok_r(copy, " ", &save); w != NULL && v->n_keywords < STORE_KEYWORDS_MAX;
	     w = strtok_r(NULL, " ", &save)) {
		v->keywords = xrealloc(v->keywords, (v->n_keywords + 1) * sizeof(*v->keywords));
		v->keywords[v->n_keywords++] = xstrdup(w);
	}
	free(copy);
}

void imap_view_send_flags(struct imap_session *s)
{
	struct imap_view *v = s->view;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_append_str(&b, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < v->n_keywords; i++)
		buf_printf(&b, " %s", v->keywords[i]);
	buf_append_str(&b, ")");
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_reset(&b);
	buf_append_str(&b, "OK [PERMANENTFLAGS (");
	if (!v->readonly) {
		buf_append_str(&b, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		for (i = 0; i < v->n_keywords; i++)
			buf_printf(&b, " %s", v->keywords[i]);
		if (v->n_keywords < STORE_KEYWORDS_MAX)
			buf_append_str(&b, " \\*");
	}
	buf_append_str(&b, ")] Flags permitted");
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_deinit(&b);
}

int imap_view_open(struct imap_session *s, const struct store_mailbox *mb, bool readonly)
{
	struct imap_view *v = xcalloc(1, sizeof(*v));

	if (imap_cache_load(&s->srv->imap_cache, s->srv->store, mb, &v->msgs, &v->n) < 0) {
		log_error("session=%s mailbox load failed: %s", s->ss.id, store_error(s->srv->store));
		free(v);
		return -1;
	}
	v->cap = v->n;
	v->readonly = readonly;
	v->mb = *mb;
	v->mb.name = xstrdup(mb->name);
	v->mb.special_use = mb->special_use ? xstrdup(mb->special_use) : NULL;
	v->mb.keywords = xstrdup(mb->keywords ? mb->keywords : "");
	v->modseq = mb->highestmodseq;
	v->expunge_modseq = mb->highestmodseq;
	view_load_keywords(v, mb->keywords);
	imap_view_close(s);
	s->view = v;
	return 0;
}

void imap_view_own(struct imap_view *v, size_t need)
{
	imap_msgs_own(&v->msgs, v->n, &v->cap, need);
}

void imap_view_close(struct imap_session *s)
{
	struct imap_view *v = s->view;

	if (v == NULL)
		return;
	store_mailbox_deinit(&v->mb);
	imap_keywords_free(v->keywords, v->n_keywords);
	imap_msgs_unref(v->msgs);
	free(v);
	s->view = NULL;
}

long imap_view_find_uid(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->msgs[mid].uid == uid)
			return (long)mid;
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int imap_view_indexes(struct imap_session *s, struct imap_seqset *set, size_t **idx_r,
		      size_t *n_r)
{
	struct imap_view *v = s->view;
	struct imap_seqset_iter it;
	size_t *idx, n = 0, i;
	uint32_t value;

	*idx_r = NULL;
	*n_r = 0;
	if (set->saved)
		return -1;
	imap_seqset_resolve(set, s->uid ? (v->n ? v->msgs[v->n - 1].uid : 0) : (uint32_t)v->n);
	idx = xcalloc(v->n ? v->n : 1, sizeof(*idx));
	if (s->uid) {
		/* walk the messages, not the set: "1:4294967295" is cheap */
		for (i = 0; i < v->n; i++) {
			if (imap_seqset_contains(set, v->msgs[i].uid))
				idx[n++] = i;
		}
	} else {
		imap_seqset_iter_init(&it);
		while (imap_seqset_next(set, &it, &value)) {
			if (value == 0 || value > v->n) {
				free(idx);
				return -2;	/* RFC 9051 9: seq numbers must exist */
			}
			idx[n++] = value - 1;
		}
	}
	*idx_r = idx;
	*n_r = n;
	return 0;
}

void imap_view_write_flags(struct imap_session *s, struct buf *out, size_t i)
{
	const struct imap_view *v = s->view;
	const struct store_msg *m = &v->msgs[i];
	bool first = true;
	size_t k;

	buf_append_char(out, '(');
	for (k = 0; k < ARRAY_SIZE(system_flags); k++) {
		if (m->flags & (1u << k)) {
			buf_printf(out, "%s%s", first ? "" : " ", system_flags[k]);
			first = false;
		}
	}
	if (!s->rev2 && m->uid > v->recent_above) {
		buf_printf(out, "%s\\Recent", first ? "" : " ");
		first = false;
	}
	for (k = 0; k < v->n_keywords && k < 64; k++) {
		if (m->keywords & (1ULL << k)) {
			buf_printf(out, "%s%s", first ? "" : " ", v->keywords[k]);
			first = false;
		}
	}
	buf_append_char(out, ')');
}

/* Sends "* n FETCH (FLAGS ...)" for a flag change made elsewhere. */
static void send_flags(struct imap_session *s, size_t i)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "%zu FETCH (", i + 1);
	if (s->uid || s->qresync)
		buf_printf(&b, "UID %u ", s->view->msgs[i].uid);
	buf_append_str(&b, "FLAGS ");
	imap_view_write_flags(s, &b, i);
	if (s->condstore)
		buf_printf(&b, " MODSEQ (%llu)", (unsigned long long)s->view->msgs[i].modseq);
	buf_append_char(&b, ')');
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_deinit(&b);
}

/* "* VANISHED [(EARLIER) ]uids" (RFC 7162 3.2.10), if set is not empty. */
static void send_vanished(struct imap_session *s, const char *earlier, struct imap_seqset *set)
{
	struct buf b;

	if (set->count == 0)
		return;
	buf_init(&b, 0);
	imap_seqset_resolve(set, 0);
	imap_seqset_format(set, &b);
	imap_untagged(s, "VANISHED %s%s", earlier, buf_cstr(&b));
	buf_deinit(&b);
}

/* Removes expunged UIDs from the view and tells the client. */
static void apply_expunges(struct imap_session *s, uint64_t upto)
{
	struct imap_view *v = s->view;
	struct imap_seqset vanished;
	uint32_t *uids;
	size_t n, i;
	long idx;

	if (store_msgs_gone(s->srv->store, v->mb.id, v->expunge_modseq, v->msgs, v->n, &uids, &n) < 0)
		return;
	imap_seqset_init(&vanished, 0);
	for (i = 0; i < n; i++) {
		idx = imap_view_find_uid(v, uids[i]);
		if (idx < 0)
			continue;
		imap_view_own(v, v->n);
		memmove(&v->msgs[idx], &v->msgs[idx + 1], (v->n - (size_t)idx - 1) * sizeof(*v->msgs));
		v->n--;
		if (s->qresync)
			imap_seqset_add(&vanished, uids[i], uids[i]);
		else
			imap_untagged(s, "%ld EXPUNGE", idx + 1);
	}
	send_vanished(s, "", &vanished);
	imap_seqset_deinit(&vanished);
	free(uids);
	v->expunge_modseq = upto;
}

/* Adds to out the UIDs of [lo, hi] not in present (ascending, n). */
static void add_absent(struct imap_seqset *out, uint32_t lo, uint32_t hi, const uint32_t *present,
		       size_t n)
{
	size_t a = 0, b = n;
	uint64_t cur = lo;

	while (a < b) {		/* first present >= lo */
		size_t mid = a + (b - a) / 2;

		if (present[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < n && present[a] <= hi; a++) {
		if (present[a] > cur)
			imap_seqset_add(out, (uint32_t)cur, present[a] - 1);
		cur = (uint64_t)present[a] + 1;
	}
	if (cur <= hi)
		imap_seqset_add(out, (uint32_t)cur, hi);
}

/* The fallback of imap_view_send_vanished_earlier: each UID of known,
 * above `above` and below UIDNEXT, that is not in the mailbox now. */
static int absent_uids(struct imap_session *s, const struct imap_seqset *known, uint32_t above,
		       struct imap_seqset *out)
{
	uint32_t *present, top = s->view->mb.uidnext - 1;
	size_t n;
	unsigned r;

	if (store_msgs_uids(s->srv->store, s->view->mb.id, &present, &n) < 0)
		return -1;
	for (r = 0; r < known->count; r++) {
		uint32_t lo = known->ranges[r].lo, hi = known->ranges[r].hi;

		if (lo <= above)
			lo = above + 1;
		if (hi > top)
			hi = top;
		if (lo != 0 && lo <= hi)
			add_absent(out, lo, hi, present, n);
	}
	free(present);
	return 0;
}

void imap_view_send_vanished_earlier(struct imap_session *s, uint64_t since,
				     const struct imap_seqset *known, uint32_t above)
{
	struct imap_seqset out;
	uint32_t *uids;
	size_t n, i;
	int rc = store_msgs_expunged(s->srv->store, s->view->mb.id, since, &uids, &n);

	if (rc < 0)
		return;
	imap_seqset_init(&out, 0);
	for (i = 0; rc == 0 && i < n; i++) {
		if (imap_seqset_contains(known, uids[i]))
			imap_seqset_add(&out, uids[i], uids[i]);
	}
	free(uids);
	if (rc == 1 && absent_uids(s, known, above, &out) < 0)
		imap_seqset_clear(&out);
	send_vanished(s, "(EARLIER) ", &out);
	imap_seqset_deinit(&out);
}

/* Merges new and changed messages; returns how many are new. */
static size_t apply_changes(struct imap_session *s, bool *flags_changed_r)
{
	struct imap_view *v = s->view;
	struct store_msg *msgs;
	size_t n, i, added = 0;
	long idx;

	if (store_msgs_changed(s->srv->store, v->mb.id, v->modseq, &msgs, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		idx = imap_view_find_uid(v, msgs[i].uid);
		if (idx >= 0) {
			bool differ = v->msgs[idx].flags != msgs[i].flags ||
				      v->msgs[idx].keywords != msgs[i].keywords;

			bool news = differ || (s->condstore && v->msgs[idx].modseq != msgs[i].modseq);

			imap_view_own(v, v->n);
			v->msgs[idx] = msgs[i];
			if (news)
				send_flags(s, (size_t)idx);
			*flags_changed_r = true;
			continue;
		}
		if (v->n > 0 && msgs[i].uid < v->msgs[v->n - 1].uid)
			continue;	/* expunged here, changed there: ignore */
		imap_view_own(v, v->n + 1);
		v->msgs[v->n++] = msgs[i];
		added++;
	}
	free(msgs);
	return added;
}

/* Takes the mailbox's keyword list when it differs from the view's. */
static void apply_keywords(struct imap_session *s, const struct store_mailbox *mb)
{
	struct imap_view *v = s->view;

	if (mb->id != v->mb.id || strcmp(mb->keywords, v->mb.keywords) == 0)
		return;
	view_load_keywords(v, mb->keywords);
	free(v->mb.keywords);
	v->mb.keywords = xstrdup(mb->keywords);
	imap_view_send_flags(s);
}

void imap_view_reload_keywords(struct imap_session *s)
{
	struct store_mailbox mb;

	if (s->view == NULL ||
	    store_mailbox_get(s->srv->store, s->account_id, s->view->mb.name, &mb) != 1)
		return;
	apply_keywords(s, &mb);
	store_mailbox_deinit(&mb);
}

static void view_sync(struct imap_session *s, bool allow_expunge)
{
	struct imap_view *v = s->view;
	struct store_mailbox mb;
	bool flags_changed = false;
	size_t added;

	if (store_mailbox_get(s->srv->store, s->account_id, v->mb.name, &mb) != 1)
		return;
	if (mb.id != v->mb.id || (mb.highestmodseq == v->modseq &&
				  (!allow_expunge || v->expunge_modseq == v->modseq))) {
		v->changed = v->expunge_modseq < v->modseq;
		store_mailbox_deinit(&mb);
		return;
	}
	if (allow_expunge)
		apply_expunges(s, mb.highestmodseq);
	apply_keywords(s, &mb);	/* from the row already read, not a second query */
	added = apply_changes(s, &flags_changed);
	v->modseq = mb.highestmodseq;
	v->mb.uidnext = mb.uidnext;
	v->mb.highestmodseq = mb.highestmodseq;
	if (added > 0) {
		imap_untagged(s, "%zu EXISTS", v->n);
		if (!s->rev2) {
			size_t recent = 0, i;

			for (i = 0; i < v->n; i++)
				recent += v->msgs[i].uid > v->recent_above;
			imap_untagged(s, "%zu RECENT", recent);
		}
	}
	/* expunges held back for a FETCH/STORE/SEARCH are still to be sent */
	v->changed = v->expunge_modseq < v->modseq;
	store_mailbox_deinit(&mb);
}

void imap_view_sync(struct imap_session *s, bool allow_expunge)
{
	if (s->view == NULL)
		return;
	store_read_begin(s->srv->store);	/* the row and the changes: one snapshot */
	view_sync(s, allow_expunge);
	store_read_end(s->srv->store);
}
