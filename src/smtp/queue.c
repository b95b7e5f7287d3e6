/*
 * The queue runner (see queue.h). Three parts: picking due rows into
 * jobs (one per message and recipient domain), routing and delivering a
 * job over one SMTP client connection at a time, and committing each
 * job's results (with any DSN) through the committer.
 */
#include "smtp/queue.h"
#include "smtp/bounce.h"
#include "smtp/smtp_client.h"
#include "core/counter.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/mail_index.h"
#include "daemon/server.h"
#include "dns/dns.h"
#include "net/tls.h"
#include "store/committer.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages picked per run; the rest wait for the next run. */
#define QUEUE_PICK_MAX 500
/* A DSN is small: the quoted headers are cut at BOUNCE_HEADERS_MAX. */
#define QUEUE_DSN_MAX (BOUNCE_HEADERS_MAX + 64 * 1024)

enum outcome { OUT_NONE, OUT_DELIVERED, OUT_DEFER, OUT_BOUNCE };

struct row_result {
	enum outcome kind;
	char status[16];	/* RFC 3463 */
	char *diagnostic;	/* owned: "550 5.1.1 text", or NULL */
	char *remote_mta;	/* owned, or NULL */
	char *reason;		/* owned: our words for the DSN and last_error */
};

struct queue_job;

struct queue {
	struct server *srv;		/* borrowed */
	struct dns *dns;		/* owned */
	SSL_CTX *ssl_ctx;		/* owned */
	char *relay_name;		/* owned: [relay] host without the port */
	unsigned relay_port;
	char *relay_pass;		/* owned; wiped on free */
	struct event *timer;		/* owned: next due row, or a kick */
	struct queue_job *jobs;		/* list of deliveries in flight */
	unsigned n_jobs;
	struct counter_map *per_host;	/* owned: connections per MX host */
	int64_t *inflight;		/* owned: row ids in a job or a commit */
	size_t n_inflight, cap_inflight;
	unsigned pending_commits;
	bool stopping;
};

struct queue_job {
	struct queue *q;			/* borrowed */
	struct queue_job *prev, *next;
	char *domain;				/* owned: recipient domain */
	char log_id[24];
	struct store_queue_row *rows;		/* owned */
	size_t n;
	struct row_result *res;			/* owned, one per row */
	struct store_message_body body;		/* owned */
	const char **rcpts;			/* owned array, strings borrowed from rows */
	size_t *rcpt_row;			/* owned: rcpts[i] is rows[rcpt_row[i]] */
	size_t n_rcpts;
	struct smtp_client_msg msg;
	/* routing */
	struct dns_query *query;		/* owned while a lookup runs */
	char **hosts;				/* owned: MX hosts in order */
	size_t n_hosts, host_i;
	struct sockaddr_storage *addrs;		/* owned: the current host's */
	size_t n_addrs, addr_i;
	bool host_counted;
	struct smtp_client *client;		/* owned */
	/* last failure before a transaction: decides if nothing else works */
	struct smtp_client_reply last;
	char *last_host;			/* owned */
};

int64_t queue_retry_delay(uint64_t first, uint64_t max, int64_t attempts)
{
	uint64_t d = first;
	int64_t i;

	for (i = 1; i < attempts && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	return (int64_t)(d < max ? d : max);
}

/* ---- in-flight rows --------------------------------------------------------- */

static bool inflight_has(struct queue *q, int64_t id)
{
	size_t i;

	for (i = 0; i < q->n_inflight; i++) {
		if (q->inflight[i] == id)
			return true;
	}
	return false;
}

static void inflight_add(struct queue *q, int64_t id)
{
	if (q->n_inflight == q->cap_inflight) {
		q->cap_inflight = q->cap_inflight ? q->cap_inflight * 2 : 64;
		q->inflight = xrealloc(q->inflight, q->cap_inflight * sizeof(*q->inflight));
	}
	q->inflight[q->n_inflight++] = id;
}

static void inflight_remove(struct queue *q, int64_t id)
{
	size_t i;

	for (i = 0; i < q->n_inflight; i++) {
		if (q->inflight[i] == id) {
			q->inflight[i] = q->inflight[--q->n_inflight];
			return;
		}
	}
}

static void result_clear(struct row_result *r)
{
	free(r->diagnostic);
	free(r->remote_mta);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

static void result_set(struct row_result *r, enum outcome kind, const char *status,
		       const char *diagnostic, const char *remote_mta, const char *reason)
{
	result_clear(r);
	r->kind = kind;
	snprintf(r->status, sizeof(r->status), "%s", status);
	r->diagnostic = diagnostic ? xstrdup(diagnostic) : NULL;
	r->remote_mta = remote_mta ? xstrdup(remote_mta) : NULL;
	r->reason = xstrdup(reason);
}

static const char *rcpt_domain(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	return at ? at + 1 : "";
}

/* ---- committing results (committer thread) ------------------------------- */

struct queue_commit {
	struct queue *q;			/* borrowed; outlives the commit */
	struct store_queue_row *rows;		/* owned */
	size_t n;
	struct row_result *res;			/* owned */
	bool *warn;				/* owned: delay warning due */
	struct store_message_body body;		/* owned: for the quoted headers */
	char *hostname;				/* owned: copies of the config, */
	uint64_t retry_first, retry_max, lifetime, delay_warning;	/* which a reload may replace */
	int64_t now;
	char **unlink;				/* owned */
	size_t n_unlink;
	bool queued_dsn;			/* a DSN went into the queue */
	int64_t dsn_account;			/* a DSN went into this INBOX */
};

/* The original header section, from inline data or the blob file. */
static char *dsn_headers(const struct store_message_body *body, size_t *len_r)
{
	char *buf;
	ssize_t n;
	int fd;

	if (body->path == NULL) {
		*len_r = bounce_header_len(body->data ? body->data : "", body->data_len,
					   BOUNCE_HEADERS_MAX);
		return xstrndup(body->data ? body->data : "", *len_r);
	}
	buf = xmalloc(BOUNCE_HEADERS_MAX + 1);
	fd = open(body->path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? pread(fd, buf, BOUNCE_HEADERS_MAX, 0) : -1;
	if (fd >= 0)
		close(fd);
	*len_r = n > 0 ? bounce_header_len(buf, (size_t)n, BOUNCE_HEADERS_MAX) : 0;
	return buf;
}

/* Delivers dsn to sender the normal way: into a local INBOX, or queued
 * with the null sender (so it can never bounce again). */
static int dsn_deliver(struct store *s, struct queue_commit *c, const char *sender,
		       struct buf *dsn)
{
	struct store_expansion exp = { 0 };
	struct store_delivery d = { 0 };
	struct store_delivery_rcpt rcpt = { 0 };
	enum store_rcpt_status st = store_resolve(s, sender, &exp);
	const char *remote[1] = { sender };
	struct mail_index ix;
	char qid[13], *prefix = NULL;
	unsigned int hlen;
	int ret = 0;

	if (st == STORE_RCPT_ERROR) {
		store_expansion_free(&exp);
		return -1;
	}
	random_id(qid, 12);
	d.queue_id = qid;
	d.sender = "";
	d.received = c->now;
	d.blob.data = dsn->data;
	d.blob.size = dsn->len;
	EVP_Digest(dsn->data, dsn->len, d.blob.hash, &hlen, EVP_sha256(), NULL);
	if (st == STORE_RCPT_NOT_LOCAL) {
		d.remote = remote;
		d.n_remote = 1;
		c->queued_dsn = true;
	} else if (st == STORE_RCPT_OK && exp.n_accounts > 0) {
		prefix = xasprintf("Return-Path: <>\r\nDelivered-To: %s\r\n", sender);
		rcpt.account_id = exp.accounts[0];	/* the sender's own mailbox */
		c->dsn_account = rcpt.account_id;
		rcpt.prefix = prefix;
		rcpt.prefix_len = strlen(prefix);
		d.rcpts = &rcpt;
		d.n_rcpts = 1;
	} else {
		log_warn("queue dsn_dropped sender=%s reason=\"sender address not deliverable\"",
			 sender);
		store_expansion_free(&exp);
		return 0;
	}
	/* IMAP metadata and search text, as for any delivery (small: done
	 * here on the committer thread) */
	mail_index_build(dsn->data, dsn->len, &ix);
	d.blob.meta = &ix.meta;
	ret = store_deliver(s, &d);
	mail_index_free(&ix);
	if (ret == 0)
		log_info("queue dsn queue=%s to=%s size=%zu", qid, sender, dsn->len);
	free(prefix);
	store_expansion_free(&exp);
	return ret;
}

/* One DSN covering every row of c that failed (delayed: that is due a
 * warning). */
static int dsn_send(struct store *s, struct queue_commit *c, bool delayed)
{
	struct bounce_rcpt *br = xcalloc(c->n, sizeof(*br));
	struct bounce_info b = { 0 };
	struct buf dsn;
	size_t i, n = 0, hlen;
	char *headers;
	int ret;

	for (i = 0; i < c->n; i++) {
		if (delayed ? !c->warn[i] : c->res[i].kind != OUT_BOUNCE)
			continue;
		br[n].recipient = c->rows[i].recipient;
		br[n].status = c->res[i].status;
		br[n].remote_mta = c->res[i].remote_mta;
		br[n].diagnostic = c->res[i].diagnostic;
		br[n].reason = c->res[i].reason;
		br[n].last_attempt = c->now;
		n++;
	}
	if (n == 0 || c->rows[0].sender[0] == '\0') {
		if (n > 0)
			log_info("queue=%s dsn_suppressed reason=\"null sender\" recipients=%zu",
				 c->rows[0].queue_id, n);
		free(br);
		return 0;
	}
	headers = dsn_headers(&c->body, &hlen);
	b.reporting_mta = c->hostname;
	b.queue_id = c->rows[0].queue_id;
	b.sender = c->rows[0].sender;
	b.arrival = c->rows[0].created;
	b.now = c->now;
	b.delayed = delayed;
	b.retry_until = c->rows[0].created + (int64_t)c->lifetime;
	b.rcpts = br;
	b.n_rcpts = n;
	b.headers = headers;
	b.headers_len = hlen;
	buf_init(&dsn, QUEUE_DSN_MAX);
	bounce_build(&b, &dsn);
	ret = dsn_deliver(s, c, b.sender, &dsn);
	buf_deinit(&dsn);
	free(headers);
	free(br);
	return ret;
}

/* A temporary failure: retry later, or give up when the row is too old. */
static int commit_defer(struct store *s, struct queue_commit *c, size_t i)
{
	struct store_queue_row *r = &c->rows[i];
	struct row_result *res = &c->res[i];
	char *why;
	int64_t next;

	if (c->now >= r->created + (int64_t)c->lifetime) {
		why = xasprintf("gave up after %lld attempts in %lld hours: %s",
				(long long)r->attempts + 1, (long long)(c->now - r->created) / 3600,
				res->reason);
		free(res->reason);
		res->reason = why;
		res->kind = OUT_BOUNCE;
		if (res->status[0] != '4' && res->status[0] != '5')
			snprintf(res->status, sizeof(res->status), "4.4.7");
		return store_queue_remove(s, r->id, &c->unlink, &c->n_unlink);
	}
	next = c->now + queue_retry_delay(c->retry_first, c->retry_max, r->attempts + 1);
	if (store_queue_defer(s, r->id, c->now, next, res->reason) < 0)
		return -1;
	if (c->delay_warning > 0 && !r->warned &&
	    c->now >= r->created + (int64_t)c->delay_warning) {
		c->warn[i] = true;
		return store_queue_set_warned(s, r->id);
	}
	return 0;
}

static int commit_fn(struct store *s, void *ctx)
{
	struct queue_commit *c = ctx;
	size_t i;
	int ret = 0;

	c->queued_dsn = false;
	c->dsn_account = 0;
	for (i = 0; i < c->n && ret == 0; i++) {
		c->warn[i] = false;
		switch (c->res[i].kind) {
		case OUT_DELIVERED:
		case OUT_BOUNCE:
			ret = store_queue_remove(s, c->rows[i].id, &c->unlink, &c->n_unlink);
			break;
		case OUT_DEFER:
			ret = commit_defer(s, c, i);
			break;
		case OUT_NONE:
			break;
		}
	}
	if (ret == 0)
		ret = dsn_send(s, c, false);
	if (ret == 0)
		ret = dsn_send(s, c, true);
	return ret;
}

static void commit_free(struct queue_commit *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		result_clear(&c->res[i]);
	for (i = 0; i < c->n_unlink; i++)
		free(c->unlink[i]);
	free(c->unlink);
	free(c->res);
	free(c->warn);
	store_queue_rows_free(&c->rows, c->n);
	store_message_body_free(&c->body);
	free(c->hostname);
	free(c);
}

static void queue_schedule(struct queue *q, int64_t delay_s);

static void commit_done(void *ctx, int result, const char *error)
{
	struct queue_commit *c = ctx;
	struct queue *q = c->q;
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct store_queue_row *r = &c->rows[i];

		inflight_remove(q, r->id);
		if (result < 0)
			continue;
		log_info("queue=%s to=%s result=%s status=%s%s%s", r->queue_id, r->recipient,
			 c->res[i].kind == OUT_DELIVERED ? "delivered" :
			 c->res[i].kind == OUT_BOUNCE ? "bounced" : "deferred", c->res[i].status,
			 c->warn[i] ? " warned=1" : "", "");
	}
	if (result < 0)
		log_error("queue=%s commit_failed error=\"%s\"", c->n ? c->rows[0].queue_id : "",
			  error);
	for (i = 0; result == 0 && i < c->n_unlink; i++)
		unlink(c->unlink[i]);
	if (result == 0 && c->dsn_account > 0)
		server_mailbox_changed(q->srv, c->dsn_account, 0);
	q->pending_commits--;
	queue_schedule(q, c->queued_dsn ? 0 : -1);
	commit_free(c);
}

/* ---- jobs ------------------------------------------------------------------- */

static void job_route(struct queue_job *job);
static void job_next_host(struct queue_job *job);
static void job_next_addr(struct queue_job *job);

static void job_release_host(struct queue_job *job)
{
	if (job->host_counted) {
		counter_add(job->q->per_host, job->hosts[job->host_i], -1);
		job->host_counted = false;
	}
}

static void job_clear_message(struct queue_job *job)
{
	size_t i;

	for (i = 0; i < job->n; i++)
		result_clear(&job->res[i]);
	free(job->res);
	free(job->rcpts);
	store_queue_rows_free(&job->rows, job->n);
	store_message_body_free(&job->body);
	job->res = NULL;
	job->rcpts = NULL;
	job->n = job->n_rcpts = 0;
}

static void job_free(struct queue_job *job)
{
	size_t i;

	dns_cancel(&job->query);
	job_release_host(job);
	smtp_client_free(&job->client);
	for (i = 0; i < job->n; i++)
		inflight_remove(job->q, job->rows[i].id);
	job_clear_message(job);
	for (i = 0; i < job->n_hosts; i++)
		free(job->hosts[i]);
	free(job->hosts);
	free(job->addrs);
	free(job->last.text);
	free(job->last_host);
	free(job->domain);
	free(job);
}

static void job_unlink(struct queue_job *job)
{
	struct queue *q = job->q;

	if (job->prev)
		job->prev->next = job->next;
	else
		q->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	q->n_jobs--;
}

static void job_end(struct queue_job *job)
{
	struct queue *q = job->q;

	job_unlink(job);
	job_free(job);
	queue_schedule(q, 0);	/* a connection slot is free */
}

/* Takes rows (owned from now on) as the job's message; loads the blob. */
static int job_load(struct queue_job *job, struct store_queue_row *rows, size_t n)
{
	struct queue *q = job->q;
	size_t i;

	job->rows = rows;
	job->n = n;
	job->res = xcalloc(n, sizeof(*job->res));
	job->rcpts = xcalloc(n, sizeof(*job->rcpts));
	for (i = 0; i < n; i++) {
		inflight_add(q, rows[i].id);
		job->rcpts[i] = rows[i].recipient;
	}
	job->n_rcpts = n;
	snprintf(job->log_id, sizeof(job->log_id), "%s", rows[0].queue_id);
	if (store_queue_blob(q->srv->store, rows[0].blob_id, &job->body) < 0) {
		log_error("queue=%s cannot read message: %s", job->log_id, store_error(q->srv->store));
		return -1;
	}
	memset(&job->msg, 0, sizeof(job->msg));
	job->msg.sender = rows[0].sender;
	job->msg.rcpts = job->rcpts;
	job->msg.n_rcpts = n;
	job->msg.data = job->body.data;
	job->msg.data_len = job->body.data_len;
	job->msg.path = job->body.path;
	job->msg.size = rows[0].size;
	job->msg.eightbit = rows[0].eightbit;
	job->msg.smtputf8 = rows[0].smtputf8;
	return 0;
}

/* Hands the job's results to the committer; the job keeps no rows. */
static void job_commit(struct queue_job *job)
{
	struct queue *q = job->q;
	const struct config *cfg = q->srv->cfg;
	struct queue_commit *c = xcalloc(1, sizeof(*c));
	size_t i;

	for (i = 0; i < job->n; i++) {
		if (job->res[i].kind == OUT_NONE)
			result_set(&job->res[i], OUT_DEFER, "4.4.0", NULL, NULL,
				   "delivery was not attempted");
	}
	c->q = q;
	c->rows = job->rows;
	c->n = job->n;
	c->res = job->res;
	c->warn = xcalloc(job->n ? job->n : 1, sizeof(*c->warn));
	c->body = job->body;
	c->hostname = xstrdup(cfg->hostname);
	c->retry_first = cfg->queue_retry_first;
	c->retry_max = cfg->queue_retry_max;
	c->lifetime = cfg->queue_lifetime;
	c->delay_warning = cfg->queue_delay_warning;
	c->now = time_now();
	memset(&job->body, 0, sizeof(job->body));
	job->rows = NULL;
	job->res = NULL;
	free(job->rcpts);
	job->rcpts = NULL;
	job->n = job->n_rcpts = 0;
	q->pending_commits++;
	committer_submit(q->srv->committer, commit_fn, commit_done, c);
}

/* Every row of the job gets the same outcome. */
static void job_all(struct queue_job *job, enum outcome kind, const char *status,
		    const char *diagnostic, const char *reason)
{
	size_t i;

	for (i = 0; i < job->n; i++)
		result_set(&job->res[i], kind, status, diagnostic, job->last_host, reason);
}

/* Nothing more to try: the last failure decides for every row. */
static void job_exhausted(struct queue_job *job)
{
	const struct smtp_client_reply *l = &job->last;
	char *diag = NULL, *reason;
	bool perm = l->code >= 500;

	if (l->code > 0)
		diag = xasprintf("%d %s", l->code, l->text ? l->text : "");
	reason = xasprintf("%s%s%s (%s)", job->last_host ? "host " : "",
			   job->last_host ? job->last_host : "",
			   job->last_host ? (l->code > 0 ? " said" : " failed") : "",
			   l->text ? l->text : "no usable mail server");
	if (l->code == 0 && job->last_host == NULL) {
		free(reason);
		reason = xstrdup(l->text ? l->text : "no usable mail server");
	}
	job_all(job, perm ? OUT_BOUNCE : OUT_DEFER,
		l->enhanced[0] ? l->enhanced : (perm ? "5.0.0" : "4.4.1"), diag, reason);
	free(diag);
	free(reason);
	job_commit(job);
	job_end(job);
}

static void job_note_failure(struct queue_job *job, int code, const char *enhanced,
			     const char *text)
{
	free(job->last.text);
	job->last.code = code;
	snprintf(job->last.enhanced, sizeof(job->last.enhanced), "%s", enhanced ? enhanced : "");
	job->last.text = xstrdup(text);
	free(job->last_host);
	job->last_host = job->host_i < job->n_hosts ? xstrdup(job->hosts[job->host_i]) : NULL;
}

/* ---- delivering --------------------------------------------------------- */

static void apply_reply(struct queue_job *job, size_t i, const struct smtp_client_reply *r,
			const char *host)
{
	int code = r->code;
	char *diag = NULL, *reason;
	const char *status = r->enhanced;

	if (code >= 200 && code < 300) {
		result_set(&job->res[i], OUT_DELIVERED, "2.0.0", NULL, host, "delivered");
		return;
	}
	if (code > 0) {
		diag = xasprintf("%d %s", code, r->text);
		reason = xasprintf("host %s said: %d %s (in reply to %s)", host, code, r->text,
				   r->stage);
	} else {
		reason = xasprintf("host %s: %s (%s)", host, r->text, r->stage);
	}
	if (status[0] == '\0')
		status = code >= 500 ? "5.0.0" : "4.0.0";
	result_set(&job->res[i], code >= 500 ? OUT_BOUNCE : OUT_DEFER, status, diag, host, reason);
	free(diag);
	free(reason);
}

/* After a transaction on a live connection: another due message for the
 * same destination reuses it (RSET, then the next transaction). */
static bool job_next_message(struct queue_job *job)
{
	struct queue *q = job->q;
	struct store_queue_row *rows = NULL, *group;
	size_t n = 0, i, k = 0;
	bool relay = q->srv->cfg->relay_host != NULL;
	const char *qid = NULL;

	if (store_queue_due(q->srv->store, time_now(), q->n_inflight + 16, &rows, &n) < 0)
		return false;
	group = xcalloc(n ? n : 1, sizeof(*group));
	for (i = 0; i < n; i++) {
		if (inflight_has(q, rows[i].id) || rows[i].sender == NULL ||
		    (!relay && strcasecmp(rcpt_domain(rows[i].recipient), job->domain) != 0) ||
		    (qid != NULL && strcmp(qid, rows[i].queue_id) != 0))
			continue;
		qid = rows[i].queue_id;
		group[k++] = rows[i];
		memset(&rows[i], 0, sizeof(rows[i]));
	}
	store_queue_rows_free(&rows, n);
	if (k == 0 || job_load(job, group, k) < 0) {
		if (k == 0)
			free(group);
		else
			job_clear_message(job);
		return false;
	}
	return true;
}

static void client_done(void *ctx, const struct smtp_client_reply *results, size_t n,
			bool alive)
{
	struct queue_job *job = ctx;
	const char *host = job->hosts[job->host_i];
	size_t i;

	for (i = 0; i < n && i < job->n; i++)
		apply_reply(job, i, &results[i], host);
	job_commit(job);
	if (alive && !job->q->stopping && job_next_message(job)) {
		log_debug("queue=%s reuse connection host=%s", job->log_id, host);
		smtp_client_send(job->client, &job->msg);
		return;
	}
	job_release_host(job);
	if (alive)
		smtp_client_quit(&job->client);
	else
		smtp_client_free(&job->client);
	job_end(job);
}

static void client_ready(void *ctx, const struct smtp_client_reply *err)
{
	struct queue_job *job = ctx;
	const struct smtp_ehlo *ehlo;
	char text[160];

	if (err != NULL) {
		snprintf(text, sizeof(text), "%s%s%s", err->code ? "" : err->stage,
			 err->code ? "" : ": ", err->text);
		job_note_failure(job, err->code, err->enhanced, text);
		smtp_client_free(&job->client);
		job_release_host(job);
		job->addr_i++;
		job_next_addr(job);
		return;
	}
	ehlo = smtp_client_ehlo(job->client);
	if (ehlo->size_given && ehlo->size > 0 && job->msg.size > ehlo->size) {
		snprintf(text, sizeof(text), "message size %llu exceeds the server's limit %llu",
			 (unsigned long long)job->msg.size, (unsigned long long)ehlo->size);
		job_note_failure(job, 552, "5.3.4", text);
		smtp_client_quit(&job->client);
		job_release_host(job);
		job->host_i++;
		job->addr_i = 0;
		job_next_host(job);
		return;
	}
	if (job->msg.smtputf8 && !ehlo->smtputf8) {
		free(job->last_host);
		job->last_host = xstrdup(job->hosts[job->host_i]);
		job_all(job, OUT_BOUNCE, "5.6.7", NULL, "the recipient's mail server does not "
			"support SMTPUTF8 (RFC 6531), which this message needs for its "
			"internationalized addresses");
		job_commit(job);
		job_release_host(job);
		smtp_client_quit(&job->client);
		job_end(job);
		return;
	}
	smtp_client_send(job->client, &job->msg);
}

/* ---- routing ------------------------------------------------------------ */

struct route_config {
	struct smtp_client_config cc;
	unsigned port;
};

static void route_config(struct queue_job *job, struct route_config *rc)
{
	struct queue *q = job->q;
	const struct config *cfg = q->srv->cfg;
	bool verify = strcmp(cfg->delivery_tls, "verify") == 0;

	memset(rc, 0, sizeof(*rc));
	rc->cc.helo = cfg->delivery_helo_name;
	rc->cc.tls_name = job->hosts[job->host_i];
	rc->cc.ssl_ctx = q->ssl_ctx;
	rc->cc.connect_timeout = (unsigned)cfg->delivery_connect_timeout;
	rc->cc.log_id = job->log_id;
	smtp_client_default_timeouts(&rc->cc.timeouts);
	rc->port = (unsigned)cfg->delivery_port;
	rc->cc.tls = strcmp(cfg->delivery_tls, "none") == 0 ? SMTP_CLIENT_TLS_NONE :
		     verify ? SMTP_CLIENT_TLS_VERIFY : SMTP_CLIENT_TLS_OPPORTUNISTIC;
	if (cfg->relay_host == NULL)
		return;
	rc->port = job->q->relay_port;
	rc->cc.tls_verify = verify;
	rc->cc.tls = strcmp(cfg->relay_tls, "none") == 0 ? SMTP_CLIENT_TLS_NONE :
		     strcmp(cfg->relay_tls, "implicit") == 0 ? SMTP_CLIENT_TLS_IMPLICIT :
		     verify ? SMTP_CLIENT_TLS_VERIFY : SMTP_CLIENT_TLS_OPPORTUNISTIC;
	if (cfg->relay_username != NULL && q->relay_pass != NULL) {
		rc->cc.auth_user = cfg->relay_username;
		rc->cc.auth_pass = q->relay_pass;
	}
}

static void job_next_addr(struct queue_job *job)
{
	struct route_config rc;
	struct sockaddr_storage *sa;
	socklen_t len;

	if (job->addr_i >= job->n_addrs) {
		job->host_i++;
		job->addr_i = 0;
		job_next_host(job);
		return;
	}
	route_config(job, &rc);
	sa = &job->addrs[job->addr_i];
	if (sa->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)rc.port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)rc.port);
		len = sizeof(struct sockaddr_in);
	}
	counter_add(job->q->per_host, job->hosts[job->host_i], 1);
	job->host_counted = true;
	job->client = smtp_client_new(job->q->srv->base, (struct sockaddr *)sa, len, &rc.cc,
				      client_ready, client_done, job);
}

static void addr_done(void *ctx, const struct dns_result *r)
{
	struct queue_job *job = ctx;
	char text[160];

	job->query = NULL;
	if (r->status != DNS_OK) {
		snprintf(text, sizeof(text), "cannot find the address of %s (%s)",
			 job->hosts[job->host_i], dns_status_name(r->status));
		job_note_failure(job, 0, r->status == DNS_TEMPFAIL ? "4.4.3" : "4.4.4", text);
		job->host_i++;
		job_next_host(job);
		return;
	}
	free(job->addrs);
	job->addrs = xcalloc(r->count, sizeof(*job->addrs));
	memcpy(job->addrs, r->addrs, r->count * sizeof(*job->addrs));
	job->n_addrs = r->count;
	job->addr_i = 0;
	job_next_addr(job);
}

/* Parses an address literal host ("192.0.2.1", "::1") into addrs. */
static bool host_literal(struct queue_job *job, const char *host)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return false;
	free(job->addrs);
	job->addrs = xmalloc(sizeof(ss));
	job->addrs[0] = ss;
	job->n_addrs = 1;
	job->addr_i = 0;
	return true;
}

static void job_next_host(struct queue_job *job)
{
	struct queue *q = job->q;
	const char *host;

	if (job->host_i >= job->n_hosts) {
		job_exhausted(job);
		return;
	}
	host = job->hosts[job->host_i];
	if (counter_get(q->per_host, host) >= q->srv->cfg->queue_max_per_host) {
		/* Busy: leave the rows as they are; the run after a connection
		 * to this host ends picks them again. */
		log_debug("queue=%s host=%s busy", job->log_id, host);
		job_unlink(job);
		job_free(job);
		return;
	}
	if (host_literal(job, host)) {
		job_next_addr(job);
		return;
	}
	job->query = dns_lookup_addr(q->dns, host, addr_done, job);
}

static void job_set_hosts(struct queue_job *job, char **hosts, size_t n)
{
	job->hosts = hosts;
	job->n_hosts = n;
	job->host_i = 0;
	job_next_host(job);
}

static void mx_done(void *ctx, const struct dns_result *r)
{
	struct queue_job *job = ctx;
	char **hosts, text[300];
	size_t i;

	job->query = NULL;
	if (r->status == DNS_OK && r->null_mx) {
		snprintf(text, sizeof(text), "the domain %s does not accept mail (null MX, RFC 7505)",
			 job->domain);
		job_all(job, OUT_BOUNCE, "5.1.10", NULL, text);
	} else if (r->status == DNS_OK || r->status == DNS_NODATA) {
		/* RFC 5321 5.1: no MX means the domain itself is the host */
		hosts = xcalloc(r->status == DNS_OK ? r->count : 1, sizeof(*hosts));
		for (i = 0; r->status == DNS_OK && i < r->count; i++)
			hosts[i] = xstrdup(r->mx[i].host);
		if (r->status == DNS_NODATA)
			hosts[0] = xstrdup(job->domain);
		job_set_hosts(job, hosts, r->status == DNS_OK ? r->count : 1);
		return;
	} else if (r->status == DNS_NXDOMAIN || r->status == DNS_PERMFAIL) {
		snprintf(text, sizeof(text), "the domain %s does not exist", job->domain);
		job_all(job, OUT_BOUNCE, "5.1.2", NULL, text);
	} else {
		snprintf(text, sizeof(text), "DNS lookup of the MX of %s failed: %s", job->domain,
			 r->why ? r->why : dns_status_name(r->status));
		job_all(job, OUT_DEFER, "4.4.3", NULL, text);
	}
	job_commit(job);
	job_end(job);
}

static void job_route(struct queue_job *job)
{
	struct queue *q = job->q;
	char **hosts;

	if (q->srv->cfg->relay_host != NULL) {
		hosts = xcalloc(1, sizeof(*hosts));
		hosts[0] = xstrdup(q->relay_name);
		job_set_hosts(job, hosts, 1);
		return;
	}
	job->query = dns_lookup_mx(q->dns, job->domain, mx_done, job);
}

/* ---- the runner ----------------------------------------------------------- */

static void job_start(struct queue *q, struct store_queue_row *rows, size_t n)
{
	struct queue_job *job = xcalloc(1, sizeof(*job));

	job->q = q;
	job->domain = xstrdup(q->srv->cfg->relay_host ? "" : rcpt_domain(rows[0].recipient));
	job->next = q->jobs;
	if (q->jobs)
		q->jobs->prev = job;
	q->jobs = job;
	q->n_jobs++;
	if (job_load(job, rows, n) < 0) {
		job_end(job);
		return;
	}
	log_info("queue=%s delivering recipients=%zu domain=%s attempts=%lld", job->log_id, n,
		 job->domain, (long long)rows[0].attempts);
	job_route(job);
}

/* Moves the rows of rows[i]'s message and destination into a new array. */
static struct store_queue_row *take_group(struct queue *q, struct store_queue_row *rows,
					  size_t n, size_t i, size_t *k_r)
{
	struct store_queue_row *group = xcalloc(n - i, sizeof(*group));
	bool relay = q->srv->cfg->relay_host != NULL;
	char *qid = xstrdup(rows[i].queue_id), *dom = xstrdup(rcpt_domain(rows[i].recipient));
	size_t j, k = 0;

	for (j = i; j < n; j++) {
		if (rows[j].queue_id == NULL || strcmp(rows[j].queue_id, qid) != 0 ||
		    inflight_has(q, rows[j].id) ||
		    (!relay && strcasecmp(rcpt_domain(rows[j].recipient), dom) != 0))
			continue;
		group[k++] = rows[j];
		memset(&rows[j], 0, sizeof(rows[j]));
	}
	free(qid);
	free(dom);
	*k_r = k;
	return group;
}

static void queue_run(struct queue *q)
{
	const struct config *cfg = q->srv->cfg;
	struct store_queue_row *rows = NULL, *group;
	struct timeval tv = { 5, 0 };
	size_t n = 0, i, k;
	int64_t now = time_now(), when;
	int found;

	if (q->stopping)
		return;
	if (q->n_jobs < cfg->queue_max_connections &&
	    store_queue_due(q->srv->store, now, q->n_inflight + cfg->queue_max_connections -
			    q->n_jobs + 16, &rows, &n) < 0)
		log_error("queue read failed: %s", store_error(q->srv->store));
	for (i = 0; i < n && q->n_jobs < cfg->queue_max_connections; i++) {
		if (rows[i].queue_id == NULL || inflight_has(q, rows[i].id))
			continue;
		group = take_group(q, rows, n, i, &k);
		job_start(q, group, k);
	}
	store_queue_rows_free(&rows, n);
	found = store_queue_next_due(q->srv->store, &when);
	if (found == 1 && when > now)
		tv.tv_sec = when - now;
	else if (found == 0)
		return;	/* nothing queued: a kick wakes us */
	/* Rows due now are in flight or waiting for a slot: job ends kick,
	 * and this timer is the backstop. */
	event_add(q->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	queue_run(arg);
}

static void queue_schedule(struct queue *q, int64_t delay_s)
{
	struct timeval tv = { delay_s > 0 ? delay_s : 0, 0 };

	if (!q->stopping)
		event_add(q->timer, &tv);
}

void queue_kick(struct queue *q)
{
	if (q != NULL)
		queue_schedule(q, 0);
}

struct flush_job {
	struct queue *q;
	char *queue_id;		/* owned, or NULL: all */
	int changed;
};

static int flush_fn(struct store *s, void *ctx)
{
	struct flush_job *f = ctx;

	f->changed = store_queue_retry(s, f->queue_id, time_now());
	return f->changed < 0 ? -1 : 0;
}

static void flush_done(void *ctx, int result, const char *error)
{
	struct flush_job *f = ctx;

	log_info("queue flush queue=%s rows=%d%s%s", f->queue_id ? f->queue_id : "all",
		 f->changed, result < 0 ? " error=" : "", result < 0 ? error : "");
	f->q->pending_commits--;
	queue_kick(f->q);
	free(f->queue_id);
	free(f);
}

void queue_flush(struct queue *q, const char *queue_id)
{
	struct flush_job *f = xcalloc(1, sizeof(*f));

	f->q = q;
	f->queue_id = queue_id ? xstrdup(queue_id) : NULL;
	q->pending_commits++;
	committer_submit(q->srv->committer, flush_fn, flush_done, f);
}

unsigned queue_active(struct queue *q)
{
	return q != NULL ? q->n_jobs : 0;
}

/* "host", "host:port", "[v6]:port" */
static int parse_relay(struct queue *q, const char *spec, char **error_r)
{
	const char *colon = strrchr(spec, ':');
	uint64_t port = 25;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		q->relay_name = xstrndup(spec + 1, (size_t)(end - spec - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
	} else if (colon != NULL && strchr(spec, ':') == colon) {
		q->relay_name = xstrndup(spec, (size_t)(colon - spec));
	} else {
		q->relay_name = xstrdup(spec);
		colon = NULL;
	}
	if (colon != NULL && parse_uint(colon + 1, strlen(colon + 1), 65535, &port) < 0)
		goto bad;
	q->relay_port = (unsigned)port;
	return 0;
bad:
	*error_r = xasprintf("[relay] host: cannot parse '%s' (host, host:port or [v6]:port)", spec);
	return -1;
}

/* The first line of [relay] password_file. */
static int read_password(struct queue *q, const char *path, char **error_r)
{
	char buf[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*error_r = xasprintf("[relay] password_file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		*error_r = xasprintf("[relay] password_file %s is empty", path);
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	q->relay_pass = xstrdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

struct queue *queue_start(struct server *srv, char **error_r)
{
	const struct config *cfg = srv->cfg;
	struct dns_config dc = { cfg->dns_resolver, cfg->dns_trust_anchor,
				 (unsigned)cfg->dns_timeout * 1000 };
	struct queue *q = xcalloc(1, sizeof(*q));

	q->srv = srv;
	if ((cfg->relay_host != NULL && parse_relay(q, cfg->relay_host, error_r) < 0) ||
	    (cfg->relay_password_file != NULL && read_password(q, cfg->relay_password_file,
							       error_r) < 0) ||
	    (q->dns = dns_new(srv->base, &dc, error_r)) == NULL ||
	    (q->ssl_ctx = tls_client_ctx_new(cfg->delivery_ca_file, error_r)) == NULL) {
		queue_free(&q);
		return NULL;
	}
	q->per_host = counter_map_new();
	q->timer = evtimer_new(srv->base, timer_cb, q);
	if (q->timer == NULL)
		fatal("cannot create the queue timer");
	log_info("queue started relay=%s port=%llu tls=%s", cfg->relay_host ? cfg->relay_host : "none",
		 (unsigned long long)cfg->delivery_port, cfg->delivery_tls);
	queue_kick(q);
	return q;
}

void queue_stop(struct queue *q)
{
	struct queue_job *job, *next;

	if (q == NULL || q->stopping)
		return;
	q->stopping = true;
	if (q->timer)
		event_del(q->timer);
	for (job = q->jobs; job != NULL; job = next) {
		next = job->next;
		log_info("queue=%s delivery abandoned reason=shutdown", job->log_id);
		job_free(job);
	}
	q->jobs = NULL;
	q->n_jobs = 0;
}

void queue_free(struct queue **qp)
{
	struct queue *q = *qp;

	if (q == NULL)
		return;
	queue_stop(q);
	if (q->timer)
		event_free(q->timer);
	dns_free(&q->dns);
	if (q->ssl_ctx)
		SSL_CTX_free(q->ssl_ctx);
	if (q->relay_pass) {
		OPENSSL_cleanse(q->relay_pass, strlen(q->relay_pass));
		free(q->relay_pass);
	}
	counter_map_free(&q->per_host);
	free(q->inflight);
	free(q->relay_name);
	free(q);
	*qp = NULL;
}
