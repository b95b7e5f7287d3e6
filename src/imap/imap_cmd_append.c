/*
 * APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502: several messages,
 * all or none), UIDPLUS's APPENDUID (RFC 4315), literal8 (RFC 3516) and
 * QUOTA's OVERQUOTA (RFC 9208).
 *
 * The messages arrive whole (inline literals, or big ones the session took
 * into memory up to the message size limit). A worker hashes and indexes
 * them and makes large ones durable blob files; the committer then stores
 * every row in one transaction. OK is sent only after that commit, so an
 * acknowledged APPEND is on disk, and a client that vanishes before the
 * last literal leaves nothing behind.
 */
#include "imap/imap_session.h"
#include "imap/imap_grammar.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "mail/mail_index.h"
#include "net/conn.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APPEND_MESSAGES_MAX 1000

struct append_msg {
	char *data;		/* owned */
	size_t len;
	uint32_t flags;		/* STORE_FLAG_* */
	char **keywords;	/* owned names */
	size_t n_keywords;
	int64_t received;
	struct mail_index ix;	/* owned, from the worker */
	uint8_t hash[STORE_HASH_LEN];
	char *file;		/* owned: blob file name, for large ones */
	bool file_unused;
	uint32_t uid;
};

struct append_ctx {
	struct imap_session *s;	/* kept alive by pending_jobs */
	struct server *srv;
	int64_t account_id;
	int64_t mailbox_id;
	uint32_t uidvalidity;
	struct append_msg *msgs;
	size_t n;
	char error[256];
};

static void append_ctx_free(void *p)
{
	struct append_ctx *c = p;
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->msgs[i].data);
		imap_keywords_free(c->msgs[i].keywords, c->msgs[i].n_keywords);
		mail_index_free(&c->msgs[i].ix);
		free(c->msgs[i].file);
	}
	free(c->msgs);
	free(c);
}

/* ---- parsing --------------------------------------------------------------- */

static int parse_one(struct imap_session *s, struct imap_cursor *cur, struct append_msg *m)
{
	const struct imap_arg *a = imap_arg_peek(cur);
	struct imap_message_arg msg;
	struct imap_flags flags;
	unsigned k;
	int zone;

	memset(m, 0, sizeof(*m));
	m->received = time_now();
	if (a != NULL && a->type == IMAP_ARG_LIST) {
		memset(&flags, 0, sizeof(flags));
		if (imap_arg_flag_list(cur, STORE_KEYWORDS_MAX, &flags) < 0)
			return -1;
		m->flags = imap_flags_to_store(flags.system);
		m->keywords = xcalloc(flags.nkeywords + 1, sizeof(char *));
		for (k = 0; k < flags.nkeywords; k++)
			m->keywords[m->n_keywords++] = xstrndup(flags.keywords[k].data,
								 flags.keywords[k].len);
		imap_flags_deinit(&flags);
		a = imap_arg_peek(cur);
	}
	if (a != NULL && a->type == IMAP_ARG_QUOTED) {
		if (imap_datetime_parse(a->data, a->len, &m->received, &zone) < 0)
			return imap_cursor_fail(cur, "Invalid date-time");
		imap_arg_next(cur, &a);
	}
	/* RFC 6855 4: UTF8 (~{n}...) carries a message with UTF-8 headers */
	if (imap_arg_keyword(cur, "UTF8")) {
		if (!s->utf8)
			return imap_cursor_fail(cur, "UTF8 needs ENABLE UTF8=ACCEPT");
		if (imap_arg_list_enter(cur) < 0 || imap_arg_message(cur, &msg) < 0 ||
		    imap_arg_list_leave(cur) < 0)
			return -1;
	} else if (imap_arg_message(cur, &msg) < 0) {
		return -1;
	}
	if (msg.external) {
		if (msg.index >= s->n_ext)
			return imap_cursor_fail(cur, "Internal error: literal missing");
		m->len = s->ext[msg.index].len;
		m->data = buf_steal(&s->ext[msg.index], NULL);
	} else {
		m->len = msg.size;
		m->data = xmalloc(msg.size + 1);
		memcpy(m->data, msg.data, msg.size);
	}
	return 0;
}

static int parse_messages(struct imap_session *s, struct imap_cursor *cur, struct append_ctx *c)
{
	while (!imap_arg_at_end(cur)) {
		if (c->n == APPEND_MESSAGES_MAX)
			return imap_cursor_fail(cur, "Too many messages in one APPEND");
		c->msgs = xrealloc(c->msgs, (c->n + 1) * sizeof(*c->msgs));
		if (parse_one(s, cur, &c->msgs[c->n]) < 0) {
			free(c->msgs[c->n].data);
			imap_keywords_free(c->msgs[c->n].keywords, c->msgs[c->n].n_keywords);
			return -1;
		}
		c->n++;
	}
	return c->n > 0 ? 0 : imap_cursor_fail(cur, "APPEND needs a message");
}

/* ---- worker: hash, index, large blobs to files --------------------------------- */

static int write_blob_file(struct append_ctx *c, struct append_msg *m, const uint8_t *hash)
{
	char id[13], *tmp, *error = NULL;
	int fd, ret;

	random_id(id, 12);
	tmp = store_spool_path(c->srv->data_dir, id);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ret = fd >= 0 && write_full(fd, m->data, m->len) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	if (ret == 0)
		ret = store_blob_file_commit(c->srv->data_dir, tmp, hash, &m->file, &error);
	if (ret < 0) {
		unlink(tmp);
		snprintf(c->error, sizeof(c->error), "cannot write the message: %s",
			 error ? error : "write failed");
	}
	free(error);
	free(tmp);
	return ret;
}

static void prepare_work(void *p)
{
	struct append_ctx *c = p;
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct append_msg *m = &c->msgs[i];

		EVP_Digest(m->data, m->len, m->hash, NULL, EVP_sha256(), NULL);
		mail_index_build(m->data, m->len, &m->ix);
		if (m->len > c->srv->cfg->inline_max && write_blob_file(c, m, m->hash) < 0)
			return;
	}
}

/* ---- committer: one transaction for all ---------------------------------------- */

static int store_one(struct store *st, struct append_ctx *c, struct append_msg *m)
{
	struct store_delivery_rcpt r = { .account_id = c->account_id, .mailbox_id = c->mailbox_id,
					 .flags = m->flags };
	struct store_delivery d = { .queue_id = "", .sender = "", .received = m->received,
				    .rcpts = &r, .n_rcpts = 1 };

	if (m->n_keywords > 0 &&
	    store_mailbox_keywords(st, c->mailbox_id, (const char *const *)m->keywords,
				   m->n_keywords, &r.keywords) < 0)
		return -1;
	memcpy(d.blob.hash, m->hash, STORE_HASH_LEN);
	d.blob.size = m->len;
	d.blob.data = m->file ? NULL : m->data;
	d.blob.file = m->file;
	d.blob.meta = &m->ix.meta;
	if (store_deliver(st, &d) < 0)
		return -1;
	m->file_unused = d.blob.file_unused_r;
	m->uid = r.uid_r;
	return 0;
}

static int append_txn(struct store *st, void *p)
{
	struct append_ctx *c = p;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (store_one(st, c, &c->msgs[i]) < 0) {
			snprintf(c->error, sizeof(c->error), "%s", store_error(st));
			return -1;
		}
	}
	return 0;
}

static void drop_files(struct append_ctx *c, bool all)
{
	size_t i;
	char *path;

	for (i = 0; i < c->n; i++) {
		if (c->msgs[i].file != NULL && (all || c->msgs[i].file_unused)) {
			path = store_blob_file_path(c->srv->data_dir, c->msgs[i].file);
			unlink(path);
			free(path);
		}
	}
}

static void append_done(struct imap_session *s, void *p, int result, const char *error)
{
	struct append_ctx *c = p;
	struct imap_seqset uids;
	struct buf b;
	size_t i;

	drop_files(c, result < 0);
	if (result == 0)
		server_mailbox_changed(c->srv, c->account_id, c->mailbox_id);
	if (s == NULL)
		return;
	if (result < 0) {
		log_error("session=%s append failed: %s", s->ss.id, c->error[0] ? c->error : error);
		imap_done(s, "NO", "[SERVERBUG] Cannot store the message");
		return;
	}
	imap_seqset_init(&uids, 0);
	for (i = 0; i < c->n; i++)
		imap_seqset_add(&uids, c->msgs[i].uid, c->msgs[i].uid);
	imap_seqset_resolve(&uids, 0);
	buf_init(&b, 0);
	imap_seqset_format(&uids, &b);
	log_info("session=%s append mailbox_id=%lld messages=%zu", s->ss.id,
		 (long long)c->mailbox_id, c->n);
	imap_done(s, "OK", "[APPENDUID %u %s] APPEND completed", c->uidvalidity, buf_cstr(&b));
	buf_deinit(&b);
	imap_seqset_deinit(&uids);
}

static void prepare_done(void *p)
{
	struct append_ctx *c = p;
	struct imap_session *s = c->s;

	if (!server_session_job_done(&s->ss) || s->state == IMAP_STATE_LOGOUT) {
		drop_files(c, true);
		append_ctx_free(c);
		return;
	}
	s->cmd_ctx = c;
	s->cmd_ctx_free = append_ctx_free;
	if (c->error[0] != '\0') {
		drop_files(c, true);
		imap_done(s, "NO", "[SERVERBUG] Cannot store the message");
		return;
	}
	imap_submit(s, append_txn, append_done, c);
}

/* ---- the command ------------------------------------------------------------------ */

/* Size and quota checks; replies NO and returns -1 on failure. */
static int check_limits(struct imap_session *s, struct append_ctx *c)
{
	uint64_t limit = 0, used = 0, count = 0, total = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->msgs[i].len > s->srv->cfg->smtp_max_message_size) {
			imap_done(s, "NO", "[TOOBIG] Message too large");
			return -1;
		}
		total += c->msgs[i].len;
	}
	/* the usage sum scans the account: only when there is a quota */
	if (store_quota_limit(s->srv->store, s->account_id, &limit) == 0 && limit > 0 &&
	    store_quota_get(s->srv->store, s->account_id, &limit, &used, &count) == 0 &&
	    used + total > limit) {
		imap_done(s, "NO", "[OVERQUOTA] Quota exceeded");
		return -1;
	}
	return 0;
}

void imap_cmd_append(struct imap_session *s, struct imap_cursor *cur)
{
	struct append_ctx *c = xcalloc(1, sizeof(*c));
	struct store_mailbox mb;
	struct buf name;
	int found;

	buf_init(&name, 0);
	if (imap_mailbox_arg(s, cur, &name) < 0 || parse_messages(s, cur, c) < 0) {
		buf_deinit(&name);
		append_ctx_free(c);
		imap_bad(s, cur->error);
		return;
	}
	found = store_mailbox_get(s->srv->store, s->account_id, buf_cstr(&name), &mb);
	buf_deinit(&name);
	if (found <= 0) {
		append_ctx_free(c);
		imap_done(s, "NO", "%s", found == 0 ? "[TRYCREATE] No such mailbox" :
			  "[SERVERBUG] Cannot read the mailbox");
		return;
	}
	c->s = s;
	c->srv = s->srv;
	c->account_id = s->account_id;
	c->mailbox_id = mb.id;
	c->uidvalidity = mb.uidvalidity;
	store_mailbox_deinit(&mb);
	if (check_limits(s, c) < 0) {
		append_ctx_free(c);
		return;
	}
	s->wait = IMAP_WAIT_JOB;
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	workers_submit(s->srv->workers, prepare_work, prepare_done, c);
}
