/*
 * Group commit. One thread owns the write connection; jobs submitted from
 * the loop thread queue up while a commit is in flight, and the next commit
 * takes all of them in one transaction, so many sessions share one fsync.
 * Each job runs inside its own savepoint: one failing job rolls back alone.
 * A job's done callback runs on the loop thread after the COMMIT returned
 * (its data is on disk) or failed.
 */
#ifndef TERN_STORE_COMMITTER_H
#define TERN_STORE_COMMITTER_H

#include "store/store.h"

struct loop_inbox;
struct committer;

/* Runs on the committer thread inside a transaction; returns 0 or -1. */
typedef int committer_fn(struct store *s, void *ctx);
/* Runs on the loop thread; result is 0 when the job's changes are durable,
 * -1 otherwise (error names the cause; borrowed for the call). */
typedef void committer_done_fn(void *ctx, int result, const char *error);

/* text_fn extracts a message's searchable text; with it the committer
 * keeps the full-text index up to date when it is idle (NULL: never). */
struct committer *committer_new(const char *data_dir, struct loop_inbox *inbox,
			       store_text_fn *text_fn, char **error_r);
void committer_submit(struct committer *c, committer_fn *fn, committer_done_fn *done, void *ctx);
/* The same for changes whose loss in a power cut is acceptable (IMAP flag
 * changes, as Dovecot treats them): they commit in a transaction of their
 * own without fsync (WAL, synchronous=NORMAL), ahead of the durable jobs
 * queued with them. A crash of ternd loses none of them; the next durable
 * commit makes them durable too. */
void committer_submit_lazy(struct committer *c, committer_fn *fn, committer_done_fn *done,
			   void *ctx);
/* Commits so far and jobs so far, for status and benchmarks. */
void committer_counts(struct committer *c, uint64_t *commits_r, uint64_t *jobs_r);
/* Commits what is queued, stops the thread and frees. */
void committer_free(struct committer **c);

#endif
