/*
 * The group-commit thread (see committer.h). The loop never waits for it:
 * completions travel back through the loop inbox.
 */
#include "store/committer.h"
#include "store/store_internal.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct commit_job {
	committer_fn *fn;
	committer_done_fn *done;
	void *ctx;
	bool lazy;		/* may skip the fsync (committer_submit_lazy) */
	int result;
	char *error;		/* owned */
	struct commit_job *next;
};

/*
 * WAL checkpoints copy committed pages back into tern.db and fsync it. Run
 * inside COMMIT (SQLite's default) they held every job of the batch behind
 * random writes all over a large file; a second thread with its own
 * connection runs them instead, PASSIVE, while commits keep appending.
 */
#define CHECKPOINT_FRAMES 1000		/* WAL size that wakes the checkpointer */
#define CHECKPOINT_INLINE_FRAMES 50000	/* it fell that far behind: help inline */

/*
 * The full-text index (text_index.c) is worked off when no job has come
 * for TEXT_IDLE_US, TEXT_BATCH_US at a time, so a job that arrives waits
 * at most that long. Rows queued by other processes (the tern command)
 * are found by a look every TEXT_POLL_US.
 */
#define TEXT_IDLE_US 2000
#define TEXT_BATCH_US 4000
#define TEXT_BATCH_MAX 64
#define TEXT_POLL_US 1000000
#define TEXT_RETRY_US 10000000		/* after a failed slice */
#define PRUNE_INTERVAL_US 1000000

struct committer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct commit_job *head, *tail;
	bool stopping;
	pthread_t thread;
	struct store *store;		/* owned; used only on the thread */
	struct loop_inbox *inbox;	/* borrowed */
	uint64_t commits, jobs;
	store_text_fn *text_fn;
	bool text_more;			/* text_queue may hold rows (thread only) */
	uint64_t text_retry_at;		/* time_mono_us() before which not to index */
	uint64_t prune_at;		/* ... not to prune expunge history */
	/* the checkpointer, under the same lock */
	pthread_t ckpt_thread;
	pthread_cond_t ckpt_cond;
	struct store *ckpt_store;	/* owned; used only on ckpt_thread */
	bool ckpt_wanted;
};

static void job_done(void *arg)
{
	struct commit_job *job = arg;

	job->done(job->ctx, job->result, job->error ? job->error : "");
	free(job->error);
	free(job);
}

/* Takes up to STORE_COMMIT_BATCH_MAX queued jobs; waits up to wait_us for
 * one. NULL when none came (or the committer stops). */
static struct commit_job *take_batch(struct committer *c, uint64_t wait_us)
{
	struct commit_job *batch, *last;
	struct timespec until;
	unsigned n = 1;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(wait_us / 1000000);
	until.tv_nsec += (long)(wait_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (c->head == NULL && !c->stopping) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
			break;
	}
	batch = c->head;
	if (batch != NULL) {
		for (last = batch; last->next != NULL && n < STORE_COMMIT_BATCH_MAX; n++)
			last = last->next;
		c->head = last->next;
		if (c->head == NULL)
			c->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return batch;
}

static void run_job(struct store *s, struct commit_job *job)
{
	if (store_savepoint(s) < 0) {
		job->result = -1;
	} else if (job->fn(s, job->ctx) < 0) {
		job->result = -1;
		store_rollback_savepoint(s);
	} else if (store_release(s) < 0) {
		job->result = -1;
	}
	if (job->result < 0)
		job->error = xstrdup(store_error(s));
}

/* Pages this connection wrote since the last call (for the debug log). */
static int pages_written(struct store *s)
{
	int cur = 0, high = 0;

	sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &high, 1);
	return cur;
}

/* Runs one list of jobs as one transaction; lazy lists skip the fsync (WAL
 * with synchronous=NORMAL: the commit survives a crash of the process but
 * not a power cut). */
static void run_batch(struct committer *c, struct commit_job *batch, bool lazy)
{
	struct commit_job *job, *next;
	unsigned n = 0;
	uint64_t t0 = time_mono_us();
	int ret;

	if (batch == NULL)
		return;
	ret = store_exec(c->store, lazy ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL");
	if (ret == 0)
		ret = store_begin(c->store);
	for (job = batch; job != NULL && ret == 0; job = job->next)
		run_job(c->store, job);
	if (ret == 0)
		ret = store_commit(c->store);
	if (ret < 0) {
		log_error("store commit failed: %s", store_error(c->store));
		store_rollback(c->store);
	}
	pthread_mutex_lock(&c->lock);
	c->commits++;
	for (job = batch; job != NULL; job = job->next)
		n++;
	c->jobs += n;
	pthread_mutex_unlock(&c->lock);
	log_debug("store commit jobs=%u lazy=%d pages=%d us=%llu", n, lazy, pages_written(c->store),
		  (unsigned long long)(time_mono_us() - t0));
	for (job = batch; job != NULL; job = next) {
		next = job->next;
		if (ret < 0 && job->result == 0) {
			job->result = -1;
			job->error = xstrdup(store_error(c->store));
		}
		loop_inbox_post(c->inbox, job_done, job);
	}
}

/* Lazy jobs (flag changes) commit first, on their own and without an
 * fsync, so they are not held behind the fsync of the durable ones taken
 * with them. Reordering is safe: a session has one job in flight, and a
 * job that depends on another session's change was submitted after that
 * change was committed. */
static void run_taken(struct committer *c, struct commit_job *taken)
{
	struct commit_job *lazy = NULL, *durable = NULL, **lt = &lazy, **dt = &durable, *next;

	for (; taken != NULL; taken = next) {
		next = taken->next;
		taken->next = NULL;
		if (taken->lazy) {
			*lt = taken;
			lt = &taken->next;
		} else {
			*dt = taken;
			dt = &taken->next;
		}
	}
	run_batch(c, lazy, true);
	run_batch(c, durable, false);
}

/* One slice of full-text indexing, in a transaction without fsync (the
 * index can always be brought up to date again from text_queue). */
static void index_text(struct committer *c)
{
	uint64_t t0 = time_mono_us();
	bool more = false;
	int pages;

	if (t0 < c->text_retry_at)
		return;
	if (store_exec(c->store, "PRAGMA synchronous = NORMAL") < 0 ||
	    store_text_index(c->store, c->text_fn, TEXT_BATCH_MAX, TEXT_BATCH_US, &more) < 0) {
		/* a full disk, say: search reads the messages meanwhile */
		log_warn("store text index: %s; retrying in %d s", store_error(c->store),
			 TEXT_RETRY_US / 1000000);
		c->text_retry_at = t0 + TEXT_RETRY_US;
	}
	c->text_more = more;
	if ((pages = pages_written(c->store)) > 0)
		log_debug("store text index more=%d pages=%d us=%llu", more, pages,
			  (unsigned long long)(time_mono_us() - t0));
}

/* Expunge history is pruned to STORE_EXPUNGED_KEEP rows per mailbox
 * (expunged.c), at most every PRUNE_INTERVAL_US (a look at a large
 * mailbox's rows takes about a ms), also without fsync: a lost prune is
 * simply redone. */
static void prune_expunged(struct committer *c)
{
	uint64_t t0 = time_mono_us();
	size_t dropped;

	if (c->store->n_expunged_dirty == 0 || t0 < c->prune_at)
		return;
	c->prune_at = t0 + PRUNE_INTERVAL_US;
	if (store_exec(c->store, "PRAGMA synchronous = NORMAL") < 0 ||
	    store_expunged_prune(c->store, STORE_EXPUNGED_KEEP, STORE_EXPUNGED_CHUNK,
				 &dropped) < 0) {
		log_warn("store expunged prune: %s", store_error(c->store));
		return;
	}
	if (dropped > 0)
		log_debug("store expunged prune rows=%zu us=%llu", dropped,
			  (unsigned long long)(time_mono_us() - t0));
}

static bool stopping(struct committer *c)
{
	bool stop;

	pthread_mutex_lock(&c->lock);
	stop = c->stopping && c->head == NULL;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;
	struct commit_job *batch;

	c->text_more = c->text_fn != NULL;
	while (!stopping(c)) {
		batch = take_batch(c, c->text_more ? TEXT_IDLE_US : TEXT_POLL_US);
		if (batch != NULL) {
			run_taken(c, batch);
			c->text_more = c->text_fn != NULL;	/* a job may have queued text */
		} else if (!stopping(c)) {
			prune_expunged(c);
			if (c->text_fn != NULL)
				index_text(c);
		}
	}
	return NULL;
}

/* sqlite3_wal_hook(): runs on the committer thread after each commit. */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct committer *c = arg;

	if (frames >= CHECKPOINT_INLINE_FRAMES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	else if (frames >= CHECKPOINT_FRAMES) {
		pthread_mutex_lock(&c->lock);
		c->ckpt_wanted = true;
		pthread_cond_signal(&c->ckpt_cond);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	struct committer *c = arg;
	int rc;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (!c->ckpt_wanted && !c->stopping)
			pthread_cond_wait(&c->ckpt_cond, &c->lock);
		c->ckpt_wanted = false;
		pthread_mutex_unlock(&c->lock);
		if (c->stopping)
			return NULL;
		/* SQLITE_BUSY: another connection was checkpointing; next time */
		rc = sqlite3_wal_checkpoint_v2(c->ckpt_store->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					       NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("store checkpoint: %s", sqlite3_errmsg(c->ckpt_store->db));
	}
}

struct committer *committer_new(const char *data_dir, struct loop_inbox *inbox,
			       store_text_fn *text_fn, char **error_r)
{
	struct committer *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t attr;

	c->store = store_open(data_dir, 0, error_r);
	if (c->store == NULL) {
		free(c);
		return NULL;
	}
	c->ckpt_store = store_open(data_dir, 0, error_r);
	if (c->ckpt_store == NULL) {
		store_close(&c->store);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);	/* take_batch's timeout */
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&c->ckpt_cond, NULL);
	c->inbox = inbox;
	c->text_fn = text_fn;
	sqlite3_wal_hook(c->store->db, wal_committed, c);	/* replaces autocheckpoint */
	/* a burst (a migration, a big import) leaves a large WAL file behind:
	 * cut it back when the log restarts */
	if (store_exec(c->store, "PRAGMA journal_size_limit = 67108864") < 0)
		log_warn("store: %s", store_error(c->store));
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0 ||
	    pthread_create(&c->ckpt_thread, NULL, checkpointer_main, c) != 0)
		fatal("cannot start the committer threads: %m");
	return c;
}

static void submit(struct committer *c, committer_fn *fn, committer_done_fn *done, void *ctx,
		   bool lazy)
{
	struct commit_job *job = xcalloc(1, sizeof(*job));

	job->fn = fn;
	job->done = done;
	job->ctx = ctx;
	job->lazy = lazy;
	pthread_mutex_lock(&c->lock);
	if (c->tail != NULL)
		c->tail->next = job;
	else
		c->head = job;
	c->tail = job;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void committer_submit(struct committer *c, committer_fn *fn, committer_done_fn *done, void *ctx)
{
	submit(c, fn, done, ctx, false);
}

void committer_submit_lazy(struct committer *c, committer_fn *fn, committer_done_fn *done,
			   void *ctx)
{
	submit(c, fn, done, ctx, true);
}

void committer_counts(struct committer *c, uint64_t *commits_r, uint64_t *jobs_r)
{
	pthread_mutex_lock(&c->lock);
	*commits_r = c->commits;
	*jobs_r = c->jobs;
	pthread_mutex_unlock(&c->lock);
}

void committer_free(struct committer **cp)
{
	struct committer *c = *cp;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_cond_broadcast(&c->ckpt_cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_join(c->ckpt_thread, NULL);
	store_close(&c->ckpt_store);
	store_close(&c->store);
	pthread_cond_destroy(&c->ckpt_cond);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cp = NULL;
}
