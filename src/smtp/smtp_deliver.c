/*
 * End of DATA: write the Received header first (smtp_content_begin adds
 * it), then make the message durable and only then reply 250. Small
 * messages go straight to the committer (group commit); large ones first
 * have their spool file fsync'd and renamed into blobs/ on a worker.
 */
#include "smtp/smtp_session.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "net/conn.h"
#include "smtp/queue.h"
#include "store/committer.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct delivery_job {
	struct smtp_session *s;		/* borrowed; kept alive by pending_jobs */
	struct store_delivery d;
	struct store_delivery_rcpt *rcpts;	/* owned */
	char **prefixes;		/* owned */
	char *blob_file;		/* owned: name under blobs/, if a file */
	char *error;			/* owned */
	uint64_t started_ms;
};

void smtp_write_received(struct smtp_session *s)
{
	const struct config *cfg = s->srv->cfg;
	const char *proto;
	char date[64];
	struct buf h;
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* RFC 3848 / RFC 6531 3.7.3 "with" keywords */
	if (s->params.smtputf8)
		proto = s->conn->tls ? "UTF8SMTPS" : "UTF8SMTP";
	else if (s->esmtp)
		proto = s->conn->tls ? "ESMTPS" : "ESMTP";
	else
		proto = "SMTP";
	buf_init(&h, 0);
	buf_printf(&h, "Received: from %s ([%s%s])\r\n", s->helo[0] ? s->helo : "unknown",
		   strchr(s->conn->peer_ip, ':') ? "IPv6:" : "", s->conn->peer_ip);
	if (s->conn->tls)
		buf_printf(&h, "\t(using %s)\r\n", s->conn->tls_info);
	buf_printf(&h, "\tby %s (Tern) with %s id %s", cfg->hostname, proto, s->queue_id);
	if (s->n_rcpt == 1)
		buf_printf(&h, "\r\n\tfor <%s>", s->first_rcpt);
	buf_printf(&h, ";\r\n\t%s\r\n", date);
	spool_write(&s->spool, h.data, h.len);
	buf_deinit(&h);
}

static void job_free(struct delivery_job *job)
{
	size_t i;

	for (i = 0; i < job->d.n_rcpts; i++)
		free(job->prefixes[i]);
	free(job->prefixes);
	free(job->rcpts);
	free(job->blob_file);
	free(job->error);
	free(job);
}

static struct delivery_job *job_new(struct smtp_session *s)
{
	struct delivery_job *job = xcalloc(1, sizeof(*job));
	const char *sender = buf_cstr(&s->sender);
	size_t i;

	job->s = s;
	job->started_ms = time_mono_ms();
	job->d.queue_id = s->queue_id;
	job->d.sender = sender;
	job->d.received = time_now();
	memcpy(job->d.blob.hash, s->spool.hash, STORE_HASH_LEN);
	job->d.blob.size = s->spool.size;
	if (!spool_is_file(&s->spool))
		job->d.blob.data = s->spool.mem.data ? s->spool.mem.data : "";
	job->rcpts = xcalloc(s->n_local ? s->n_local : 1, sizeof(*job->rcpts));
	job->prefixes = xcalloc(s->n_local ? s->n_local : 1, sizeof(*job->prefixes));
	for (i = 0; i < s->n_local; i++) {
		job->prefixes[i] = xasprintf("Return-Path: <%s>\r\nDelivered-To: %s\r\n",
					     sender, s->local[i].address);
		job->rcpts[i].account_id = s->local[i].account_id;
		job->rcpts[i].prefix = job->prefixes[i];
		job->rcpts[i].prefix_len = strlen(job->prefixes[i]);
	}
	job->d.rcpts = job->rcpts;
	job->d.n_rcpts = s->n_local;
	job->d.remote = (const char *const *)s->remote;
	job->d.n_remote = s->n_remote;
	job->d.smtputf8 = s->params.smtputf8;
	job->d.eightbit = s->params.body == SMTP_BODY_8BITMIME;
	return job;
}

static void delivery_finish(struct delivery_job *job, int result)
{
	struct smtp_session *s = job->s;
	char *path;

	/* An unreferenced blob file (identical blob existed, or the commit
	 * failed) must not linger. */
	if (job->blob_file != NULL && (result < 0 || job->d.blob.file_unused_r)) {
		path = store_blob_file_path(s->srv->data_dir, job->blob_file);
		unlink(path);
		free(path);
	}
	if (!server_session_job_done(&s->ss)) {
		job_free(job);
		return;
	}
	if (result == 0) {
		log_info("session=%s queue=%s accepted size=%llu local=%zu remote=%zu commit_ms=%llu",
			 s->ss.id, s->queue_id, (unsigned long long)s->spool.size, s->n_local,
			 s->n_remote, (unsigned long long)(time_mono_ms() - job->started_ms));
		s->srv->stats.messages_accepted++;
		if (s->n_remote > 0)
			queue_kick(s->srv->queue);	/* new mail goes out at once */
		smtp_reply(s, 250, "2.0.0", "Ok: queued as %s", s->queue_id);
	} else {
		log_error("session=%s queue=%s store_failed error=\"%s\"", s->ss.id, s->queue_id,
			  job->error ? job->error : "?");
		smtp_reply(s, 451, "4.3.0", "Error: local storage failure; try again later");
	}
	job_free(job);
	smtp_transaction_reset(s);
	smtp_resume(s);
}

static int delivery_txn(struct store *store, void *ctx)
{
	struct delivery_job *job = ctx;

	return store_deliver(store, &job->d);
}

static void delivery_committed(void *ctx, int result, const char *error)
{
	struct delivery_job *job = ctx;

	if (result < 0)
		job->error = xstrdup(error);
	delivery_finish(job, result);
}

static void blob_file_work(void *ctx)
{
	struct delivery_job *job = ctx;
	struct smtp_session *s = job->s;

	store_blob_file_commit(s->srv->data_dir, s->spool.path, job->d.blob.hash,
			       &job->blob_file, &job->error);
}

static void blob_file_done(void *ctx)
{
	struct delivery_job *job = ctx;

	if (job->blob_file == NULL) {
		delivery_finish(job, -1);
		return;
	}
	/* The spool file is now the blob file: nothing to discard. */
	free(job->s->spool.path);
	job->s->spool.path = NULL;
	job->d.blob.file = job->blob_file;
	committer_submit(job->s->srv->committer, delivery_txn, delivery_committed, job);
}

void smtp_deliver(struct smtp_session *s)
{
	struct delivery_job *job;

	if (spool_finish(&s->spool) < 0) {
		smtp_reply(s, 451, "4.3.0", "Error: cannot write the message to disk");
		smtp_transaction_reset(s);
		return;
	}
	job = job_new(s);
	smtp_enter_state(s, SMTP_STATE_BUSY);
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	if (spool_is_file(&s->spool))
		workers_submit(s->srv->workers, blob_file_work, blob_file_done, job);
	else
		committer_submit(s->srv->committer, delivery_txn, delivery_committed, job);
}
