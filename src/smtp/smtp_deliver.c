/*
 * End of DATA: write the Received header first (smtp_content_begin adds
 * it), then make the message durable and only then reply 250. A worker
 * first computes the IMAP metadata and search text (mail/mail_index.h)
 * and, for a large message, fsyncs its spool file and renames it into
 * blobs/; then the committer stores the rows (group commit). Sessions with
 * a receiving mailbox selected are told once the rows are durable.
 */
#include "smtp/smtp_session.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "mail/mail_index.h"
#include "net/conn.h"
#include "smtp/queue.h"
#include "store/committer.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct delivery_job {
	struct smtp_session *s;		/* borrowed; kept alive by pending_jobs */
	struct server *srv;		/* borrowed */
	struct mail_index ix;		/* owned: metadata for the blob */
	struct store_delivery d;
	struct store_delivery_rcpt *rcpts;	/* owned */
	char **prefixes;		/* owned */
	char *blob_file;		/* owned: name under blobs/, if a file */
	char *error;			/* owned */
	uint64_t started_ms;
};

/* RFC 3848 / RFC 6531 3.7.3 "with" keywords: ESMTP, then S for TLS and
 * A for an authenticated client. */
static void received_protocol(const struct smtp_session *s, char *out, size_t len)
{
	const char *base = s->params.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP";
	bool ext = s->params.smtputf8 || s->esmtp;

	snprintf(out, len, "%s%s%s", base, ext && s->conn->tls ? "S" : "",
		 ext && s->account_id > 0 ? "A" : "");
}

/* Local submission (tern sendmail) has no client host: like Postfix, the
 * trace names the uid the kernel reported for the socket's peer. */
static void write_received_local(struct smtp_session *s, struct buf *h)
{
	buf_printf(h, "Received: by %s (Tern, from userid %u)\r\n\tid %s",
		   s->srv->cfg->hostname, (unsigned)s->peer_uid, s->queue_id);
}

void smtp_write_received(struct smtp_session *s)
{
	const struct config *cfg = s->srv->cfg;
	char date[64], proto[16];
	struct buf h;
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	received_protocol(s, proto, sizeof(proto));
	buf_init(&h, 0);
	if (s->is_local) {
		write_received_local(s, &h);
	} else {
		/* the authenticated user is left out (Postfix's default):
		 * the client's address is trace enough */
		buf_printf(&h, "Received: from %s ([%s%s])\r\n", s->helo[0] ? s->helo : "unknown",
			   strchr(s->conn->peer_ip, ':') ? "IPv6:" : "", s->conn->peer_ip);
		if (s->conn->tls)
			buf_printf(&h, "\t(using %s)\r\n", s->conn->tls_info);
		buf_printf(&h, "\tby %s (Tern) with %s id %s", cfg->hostname, proto, s->queue_id);
	}
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
	mail_index_free(&job->ix);
	free(job);
}

static struct delivery_job *job_new(struct smtp_session *s)
{
	struct delivery_job *job = xcalloc(1, sizeof(*job));
	const char *sender = buf_cstr(&s->sender);
	size_t i;

	job->s = s;
	job->srv = s->srv;
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
	if (result == 0) {
		size_t i;

		for (i = 0; i < job->d.n_rcpts; i++)
			server_mailbox_changed(job->srv, job->rcpts[i].account_id,
					       job->rcpts[i].mailbox_id_r);
		if (job->d.n_remote > 0)
			queue_kick(job->srv->queue);	/* new mail goes out at once */
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

/* Indexes the message bytes of a blob file (mapped, not read). */
static void index_file(struct delivery_job *job)
{
	char *path = store_blob_file_path(job->srv->data_dir, job->blob_file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map;

	free(path);
	if (fd < 0)
		return;	/* the commit stores the blob without metadata */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			mail_index_build(map, (size_t)st.st_size, &job->ix);
			job->d.blob.meta = &job->ix.meta;
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
}

/* On a worker: make a large blob durable, then index the message. The
 * session is paused, so its spool is not touched meanwhile. */
static void prepare_work(void *ctx)
{
	struct delivery_job *job = ctx;
	struct smtp_session *s = job->s;

	if (spool_is_file(&s->spool)) {
		if (store_blob_file_commit(job->srv->data_dir, s->spool.path, job->d.blob.hash,
					   &job->blob_file, &job->error) == 0)
			index_file(job);
		return;
	}
	mail_index_build(job->d.blob.data, job->d.blob.size, &job->ix);
	job->d.blob.meta = &job->ix.meta;
}

static void prepare_done(void *ctx)
{
	struct delivery_job *job = ctx;

	if (spool_is_file(&job->s->spool)) {
		if (job->blob_file == NULL) {
			delivery_finish(job, -1);
			return;
		}
		/* The spool file is now the blob file: nothing to discard. */
		free(job->s->spool.path);
		job->s->spool.path = NULL;
		job->d.blob.file = job->blob_file;
	}
	committer_submit(job->srv->committer, delivery_txn, delivery_committed, job);
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
	workers_submit(s->srv->workers, prepare_work, prepare_done, job);
}
