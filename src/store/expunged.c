/*
 * What QRESYNC and session sync know of expunges: a row (mailbox, uid,
 * MODSEQ) per expunged message, so "what vanished since MODSEQ n" is one
 * index range. Kept forever the table would grow by a row per expunge
 * (RFC 7162 5.3 warns of exactly this), so the committer prunes each
 * mailbox that had expunges down to its newest STORE_EXPUNGED_KEEP rows
 * when it is idle, and raises the mailbox's expunge_floor to the highest
 * MODSEQ it dropped. A question about expunges at or below the floor is
 * then answered "unknown" (store_msgs_expunged returns 1) and the caller
 * compares UID lists instead: the session against the UIDs it holds, the
 * client through a VANISHED (EARLIER) of every UID not present, which
 * RFC 7162 5.3 allows.
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <stdlib.h>

#define EXPUNGED_DIRTY_MAX 1024	/* mailboxes remembered for the next prune */

int store_expunged_add(struct store *s, int64_t mailbox_id, uint32_t uid, uint64_t modseq)
{
	sqlite3_stmt *st = store_stmt(s, STMT_EXPUNGED_INSERT);
	size_t i;

	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, (int64_t)modseq);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_fail_db(s, "expunged insert");
	/* an account's deletion touches all its mailboxes: past the bound the
	 * rest wait for their next expunge, which marks them again */
	if (s->n_expunged_dirty == EXPUNGED_DIRTY_MAX)
		return 0;
	for (i = s->n_expunged_dirty; i > 0; i--) {	/* the last one is likeliest */
		if (s->expunged_dirty[i - 1] == mailbox_id)
			return 0;
	}
	s->expunged_dirty = xrealloc(s->expunged_dirty,
				     (s->n_expunged_dirty + 1) * sizeof(*s->expunged_dirty));
	s->expunged_dirty[s->n_expunged_dirty++] = mailbox_id;
	return 0;
}

/* Reads ascending uint32 values of the statement's first column. */
static int read_uids(struct store *s, sqlite3_stmt *st, uint32_t **uids_r, size_t *n_r)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((n & (n - 1)) == 0)	/* n is 0 or a power of two: grow */
			uids = xrealloc(uids, (n ? n * 2 : 16) * sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	store_finish(s, st);
	if (rc != SQLITE_DONE) {
		free(uids);
		return store_fail_db(s, "uid list");
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

/* Runs sql with ?1 = mailbox_id and, if it has one, ?2 = arg; *value_r
 * (unless NULL) gets the first row's first column, 0 when there is none. */
static int mailbox_step(struct store *s, const char *sql, int64_t mailbox_id, int64_t arg,
			int64_t *value_r)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, arg);
	rc = sqlite3_step(st);
	if (value_r != NULL)
		*value_r = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_finish(s, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail_db(s, "expunged");
}

int store_msgs_expunged(struct store *s, int64_t mailbox_id, uint64_t since, uint32_t **uids_r,
			size_t *n_r)
{
	sqlite3_stmt *st;
	int64_t floor;

	*uids_r = NULL;
	*n_r = 0;
	if ((st = store_prepare(s, "SELECT uid FROM expunged INDEXED BY expunged_modseq"
			       " WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, (int64_t)since);
	if (read_uids(s, st, uids_r, n_r) < 0)
		return -1;
	/* the floor is read after the rows (each read its own snapshot unless
	 * the caller holds one): a prune in between raises the floor and the
	 * answer becomes "unknown", never a list with holes */
	if (mailbox_step(s, "SELECT expunge_floor FROM mailboxes WHERE id = ?1", mailbox_id, 0,
			 &floor) < 0) {
		free(*uids_r);
		*uids_r = NULL;
		*n_r = 0;
		return -1;
	}
	return since < (uint64_t)floor ? 1 : 0;
}

int store_msgs_uids(struct store *s, int64_t mailbox_id, uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT uid FROM messages WHERE mailbox_id = ?1"
					 " ORDER BY uid");

	*uids_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mailbox_id);
	return read_uids(s, st, uids_r, n_r);
}

int store_msgs_gone(struct store *s, int64_t mailbox_id, uint64_t since,
		    const struct store_msg *known, size_t n_known, uint32_t **gone_r, size_t *n_r)
{
	uint32_t *present, *gone;
	size_t n_present, i, j = 0, k = 0;
	int rc = store_msgs_expunged(s, mailbox_id, since, gone_r, n_r);

	if (rc <= 0)
		return rc;
	free(*gone_r);
	*gone_r = NULL;
	if (store_msgs_uids(s, mailbox_id, &present, &n_present) < 0)
		return -1;
	gone = xmalloc((n_known ? n_known : 1) * sizeof(*gone));
	for (i = 0; i < n_known; i++) {	/* both ascending: one merge pass */
		while (j < n_present && present[j] < known[i].uid)
			j++;
		if (j == n_present || present[j] != known[i].uid)
			gone[k++] = known[i].uid;
	}
	free(present);
	*gone_r = gone;
	*n_r = k;
	return 0;
}

/* Drops the mailbox's rows older than its newest keep, at most about chunk
 * of them, oldest first (inside a transaction). Returns 1 when rows to
 * drop remain, 0 when done, -1 on error. */
static int prune_mailbox(struct store *s, int64_t mailbox_id, unsigned keep, unsigned chunk,
			 size_t *dropped_r)
{
	int64_t floor, oldest;
	bool more;

	if (mailbox_step(s, "SELECT modseq FROM expunged INDEXED BY expunged_modseq"
			 " WHERE mailbox_id = ?1 ORDER BY modseq DESC LIMIT 1 OFFSET ?2",
			 mailbox_id, keep, &floor) < 0 ||
	    mailbox_step(s, "SELECT modseq FROM expunged INDEXED BY expunged_modseq"
			 " WHERE mailbox_id = ?1 ORDER BY modseq LIMIT 1 OFFSET ?2",
			 mailbox_id, chunk > 0 ? chunk - 1 : 0, &oldest) < 0)
		return -1;
	if (floor == 0)
		return 0;
	more = oldest != 0 && oldest < floor;	/* 0: fewer than chunk rows */
	if (more)
		floor = oldest;
	/* every row of that MODSEQ goes: the floor means "expunges at or below
	 * it are unknown", so none of them may stay half-listed */
	if (mailbox_step(s, "DELETE FROM expunged WHERE mailbox_id = ?1 AND modseq <= ?2",
			 mailbox_id, floor, NULL) < 0)
		return -1;
	*dropped_r += (size_t)sqlite3_changes(s->db);
	if (mailbox_step(s, "UPDATE mailboxes SET expunge_floor = max(expunge_floor, ?2)"
			 " WHERE id = ?1", mailbox_id, floor, NULL) < 0)
		return -1;
	return more ? 1 : 0;
}

int store_expunged_prune(struct store *s, unsigned keep, unsigned chunk, size_t *dropped_r)
{
	size_t i, n = s->n_expunged_dirty;
	int rc;

	*dropped_r = 0;
	if (n == 0)
		return 0;
	/* forgotten even if this fails (a full disk, say): the mailbox's next
	 * expunge brings it back, and no retry loop logs every 2 ms */
	s->n_expunged_dirty = 0;
	if (store_begin(s) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((rc = prune_mailbox(s, s->expunged_dirty[i], keep, chunk, dropped_r)) < 0) {
			store_rollback(s);
			s->n_expunged_dirty = 0;
			return -1;
		}
		if (rc == 1)	/* kept for the next call, in place: the index trails i */
			s->expunged_dirty[s->n_expunged_dirty++] = s->expunged_dirty[i];
	}
	if (store_commit(s) < 0) {
		store_rollback(s);
		s->n_expunged_dirty = 0;
		return -1;
	}
	return 0;
}
