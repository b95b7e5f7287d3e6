/*
 * The worker pool and the loop's inbox. Slow work (Argon2id, fsync of blob
 * files) runs on a few worker threads so the loop thread never blocks; each
 * job's completion is posted back and runs on the loop thread, in the order
 * jobs complete.
 *
 * A job's ctx belongs to the submitter. If the object that submitted a job
 * goes away before the job completes, it must stay allocated (marked dead)
 * until its done callback runs; see the sessions' pending_jobs counters.
 */
#ifndef TERN_CORE_WORKERS_H
#define TERN_CORE_WORKERS_H

struct event_base;

typedef void loop_fn(void *ctx);

/* Thread-safe mailbox into the loop thread: loop_post() from any thread
 * makes fn(ctx) run on the loop thread soon after. */
struct loop_inbox;
struct loop_inbox *loop_inbox_new(struct event_base *base);
void loop_inbox_post(struct loop_inbox *inbox, loop_fn *fn, void *ctx);
/* Runs everything posted so far (used while shutting down). */
void loop_inbox_drain(struct loop_inbox *inbox);
void loop_inbox_free(struct loop_inbox **inbox);

struct workers;
/* Starts n threads. Completions are delivered through inbox (borrowed). */
struct workers *workers_new(struct loop_inbox *inbox, unsigned n);
/* Runs work(ctx) on a worker thread, then done(ctx) on the loop thread. */
void workers_submit(struct workers *w, loop_fn *work, loop_fn *done, void *ctx);
/* Number of jobs queued or running. */
unsigned workers_pending(struct workers *w);
/* Finishes queued jobs, joins the threads and frees. */
void workers_free(struct workers **w);

#endif
