/*
 * The IMAP session: lifecycle, input through the command reader, the
 * command table and dispatch, tagged and untagged replies, committer jobs,
 * and the hook by which any change to a mailbox (SMTP delivery, POP3,
 * another IMAP session) reaches the sessions that have it selected.
 *
 * RFC 9051 is the reference; rev1 clients (RFC 3501) get the same server
 * with \Recent and without the rev2-only responses unless they ENABLE
 * IMAP4rev2.
 */
#include "imap/imap.h"
#include "imap/imap_session.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "store/committer.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct imap_cmd imap_commands[] = {
	{ "CAPABILITY", imap_cmd_capability, IMAP_CMD_ANY },
	{ "NOOP", imap_cmd_noop, IMAP_CMD_ANY },
	{ "LOGOUT", imap_cmd_logout, IMAP_CMD_ANY },
	{ "ID", imap_cmd_id, IMAP_CMD_ANY },
	{ "STARTTLS", imap_cmd_starttls, IMAP_CMD_NOAUTH },
	{ "LOGIN", imap_cmd_login, IMAP_CMD_NOAUTH },
	{ "AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOAUTH },
	{ "ENABLE", imap_cmd_enable, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "COMPRESS", imap_cmd_compress, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "SELECT", imap_cmd_select, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "EXAMINE", imap_cmd_examine, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "CREATE", imap_cmd_create, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "DELETE", imap_cmd_delete, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "RENAME", imap_cmd_rename, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "SUBSCRIBE", imap_cmd_subscribe, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "LIST", imap_cmd_list, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "LSUB", imap_cmd_lsub, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "NAMESPACE", imap_cmd_namespace, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "STATUS", imap_cmd_status, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "GETQUOTA", imap_cmd_getquota, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "APPEND", imap_cmd_append, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "IDLE", imap_cmd_idle, IMAP_CMD_AUTH | IMAP_CMD_SELECTED },
	{ "CHECK", imap_cmd_noop, IMAP_CMD_SELECTED },	/* RFC 3501 6.4.1 */
	{ "CLOSE", imap_cmd_close, IMAP_CMD_SELECTED },
	{ "UNSELECT", imap_cmd_unselect, IMAP_CMD_SELECTED },
	{ "EXPUNGE", imap_cmd_expunge, IMAP_CMD_SELECTED | IMAP_CMD_UID },
	{ "SEARCH", imap_cmd_search, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "SORT", imap_cmd_sort, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "THREAD", imap_cmd_thread, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "FETCH", imap_cmd_fetch, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "STORE", imap_cmd_store, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_NO_EXPUNGE },
	{ "COPY", imap_cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_UID },
	{ "MOVE", imap_cmd_move, IMAP_CMD_SELECTED | IMAP_CMD_UID },
};

static void imap_process_input(struct imap_session *s);

void imap_enter_state(struct imap_session *s, enum imap_state state)
{
	if (s->state != state)
		log_debug("session=%s state %d->%d", s->ss.id, (int)s->state, (int)state);
	s->state = state;
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 0);
	buf_append(&b, "* ", 2);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append(&b, "\r\n", 2);
	conn_write(s->conn, b.data, b.len);
	buf_deinit(&b);
}

void imap_close(struct imap_session *s, const char *bye, const char *reason)
{
	if (s->state == IMAP_STATE_LOGOUT)
		return;
	if (bye != NULL)
		imap_untagged(s, "BYE %s", bye);
	log_info("session=%s disconnect reason=%s", s->ss.id, reason);
	imap_enter_state(s, IMAP_STATE_LOGOUT);
	conn_close_after_write(s->conn);
}

static void free_cmd_ctx(struct imap_session *s)
{
	if (s->cmd_ctx != NULL && s->cmd_ctx_free != NULL)
		s->cmd_ctx_free(s->cmd_ctx);
	s->cmd_ctx = NULL;
	s->cmd_ctx_free = NULL;
}

void imap_done(struct imap_session *s, const char *status, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Changes made in this process reach the view through imap_changed();
	 * NOOP also polls, for changes made by the tern CLI. */
	if (s->view != NULL && s->state == IMAP_STATE_SELECTED && strcmp(status, "BAD") != 0 &&
	    (s->view->changed || s->cmd == NULL || s->cmd->handler == imap_cmd_noop))
		imap_view_sync(s, s->cmd == NULL || !(s->cmd->flags & IMAP_CMD_NO_EXPUNGE) || s->uid);
	conn_printf(s->conn, "%s %s %s\r\n", s->tag[0] ? s->tag : "*", status, text);
	free_cmd_ctx(s);
	imap_ext_literals_clear(s);
	s->cmd = NULL;
	if (s->state == IMAP_STATE_LOGOUT)
		return;
	if (s->srv->shutting_down) {
		/* the shutdown came while this command's job was in flight */
		imap_close(s, "Server shutting down", "shutdown");
		return;
	}
	if (s->wait != IMAP_WAIT_NONE) {
		s->wait = IMAP_WAIT_NONE;
		conn_pause(s->conn, false);
		/* not from inside process_input's own loop: it runs again on
		 * the next read, or right now if input is waiting */
		if (evbuffer_get_length(conn_input(s->conn)) > 0)
			imap_process_input(s);
	}
}

void imap_bad(struct imap_session *s, const char *text)
{
	if (++s->bad_commands >= s->srv->cfg->imap_max_bad_commands) {
		conn_printf(s->conn, "%s BAD %s\r\n", s->tag[0] ? s->tag : "*", text);
		imap_close(s, "Too many invalid commands", "bad_commands");
		return;
	}
	imap_done(s, "BAD", "%s", text);
}

/* ---- committer jobs ----------------------------------------------------- */

struct imap_job {
	struct imap_session *s;
	int (*fn)(struct store *st, void *ctx);
	void (*done)(struct imap_session *s, void *ctx, int result, const char *error);
	void *ctx;
};

static int job_run(struct store *st, void *ctx)
{
	struct imap_job *job = ctx;

	return job->fn(st, job->ctx);
}

static void job_done(void *ctx, int result, const char *error)
{
	struct imap_job *job = ctx;
	struct imap_session *s = job->s;

	if (server_session_job_done(&s->ss) && s->state != IMAP_STATE_LOGOUT)
		job->done(s, job->ctx, result, error);
	else if (s != NULL)
		job->done(NULL, job->ctx, result, error);	/* cleanup only */
	free(job);
}

static void submit(struct imap_session *s, int (*fn)(struct store *st, void *ctx),
		   void (*done)(struct imap_session *s, void *ctx, int result, const char *error),
		   void *ctx, bool lazy)
{
	struct imap_job *job = xcalloc(1, sizeof(*job));

	job->s = s;
	job->fn = fn;
	job->done = done;
	job->ctx = ctx;
	s->wait = IMAP_WAIT_JOB;
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	if (lazy)
		committer_submit_lazy(s->srv->committer, job_run, job_done, job);
	else
		committer_submit(s->srv->committer, job_run, job_done, job);
}

void imap_submit(struct imap_session *s, int (*fn)(struct store *st, void *ctx),
		 void (*done)(struct imap_session *s, void *ctx, int result, const char *error),
		 void *ctx)
{
	submit(s, fn, done, ctx, false);
}

void imap_submit_flags(struct imap_session *s, int (*fn)(struct store *st, void *ctx),
		       void (*done)(struct imap_session *s, void *ctx, int result,
				    const char *error), void *ctx)
{
	submit(s, fn, done, ctx, true);
}

/* ---- dispatch ------------------------------------------------------------- */

static const struct imap_cmd *find_command(const struct imap_command *c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(imap_commands); i++) {
		if (mem_equal_ci(c->name, c->name_len, imap_commands[i].name))
			return &imap_commands[i];
	}
	return NULL;
}

static void set_tag(struct imap_session *s, const char *tag, size_t len)
{
	if (len > IMAP_TAG_MAX || tag == NULL)
		len = 0;
	if (len > 0)
		memcpy(s->tag, tag, len);
	s->tag[len] = '\0';
}

static void dispatch(struct imap_session *s, const struct imap_command *c)
{
	const struct imap_cmd *cmd = find_command(c);
	struct imap_cursor cur;

	set_tag(s, c->tag, c->tag_len);
	s->uid = c->uid;
	if (cmd == NULL || (c->uid && !(cmd->flags & IMAP_CMD_UID))) {
		imap_bad(s, "Unknown command");
		return;
	}
	if (!(cmd->flags & s->state)) {
		s->cmd = cmd;
		imap_done(s, "BAD", "%s", s->state == IMAP_STATE_NOAUTH ?
			  "Log in first" : s->state == IMAP_STATE_AUTH ?
			  "Select a mailbox first" : "Not allowed now");
		return;
	}
	s->cmd = cmd;
	imap_cursor_init(&cur, c);
	cmd->handler(s, &cur);
}

static void read_error(struct imap_session *s)
{
	const struct imap_read_error *err = imap_reader_error(s->reader);
	const char *tag;
	size_t len;

	if (!imap_reader_tag(s->reader, &tag, &len))
		len = 0;
	set_tag(s, tag, len);
	s->cmd = NULL;
	if (err->recover == IMAP_RECOVER_CLOSE) {
		imap_close(s, err->text, "input_error");
		return;
	}
	if (err->code != NULL)
		imap_done(s, "BAD", "[%s] %s", err->code, err->text);
	else
		imap_bad(s, err->text);
}

/* True if the command being read is APPEND (the only one that may send
 * a literal above inline_literal_max: the message). */
static bool reading_append(struct imap_session *s)
{
	const char *p, *sp;
	size_t len;

	imap_reader_partial(s->reader, &p, &len);
	sp = memchr(p, ' ', len);
	if (sp == NULL)
		return false;
	len -= (size_t)(sp + 1 - p);
	return len > 7 && mem_equal_ci(sp + 1, 7, "APPEND ");
}

/* A big literal was announced: take it into memory for APPEND (bounded by
 * the message size limit), refuse it otherwise. */
static void big_literal(struct imap_session *s)
{
	const struct imap_literal_info *lit = imap_reader_literal(s->reader);
	const char *tag;
	size_t tag_len;
	struct buf *b;

	if (s->state & (IMAP_STATE_AUTH | IMAP_STATE_SELECTED) && reading_append(s) &&
	    lit->size <= s->srv->cfg->smtp_max_message_size && s->n_ext < IMAP_EXT_LITERALS_MAX) {
		s->ext = xrealloc(s->ext, (s->n_ext + 1) * sizeof(*s->ext));
		b = &s->ext[s->n_ext++];
		buf_init(b, lit->size);
		s->ext_left = lit->size;
		s->wait = IMAP_WAIT_LITERAL;
		if (lit->sync)
			conn_printf(s->conn, "+ Ready for literal data\r\n");
		return;
	}
	if (!imap_reader_tag(s->reader, &tag, &tag_len) || tag_len > IMAP_TAG_MAX)
		tag_len = 0;
	/* the tag lives in the reader's buffer: write before rejecting */
	conn_printf(s->conn, "%.*s NO [TOOBIG] Literal too large or not allowed here\r\n",
		    (int)(tag_len ? tag_len : 1), tag_len ? tag : "*");
	if (imap_reader_literal_reject(s->reader) == IMAP_RECOVER_CLOSE)
		imap_close(s, "Literal too large", "literal_too_large");
}

/* Copies literal bytes for APPEND; true when the literal is complete. */
static bool take_literal(struct imap_session *s, struct evbuffer *in)
{
	struct buf *b = &s->ext[s->n_ext - 1];
	size_t avail = evbuffer_get_length(in);
	size_t n = avail < s->ext_left ? avail : (size_t)s->ext_left;

	if (n > 0) {
		buf_append(b, evbuffer_pullup(in, (ssize_t)n), n);
		evbuffer_drain(in, n);
		s->ext_left -= n;
	}
	if (s->ext_left > 0)
		return false;
	imap_reader_literal_done(s->reader);
	s->wait = IMAP_WAIT_NONE;
	return true;
}

void imap_ext_literals_clear(struct imap_session *s)
{
	size_t i;

	for (i = 0; i < s->n_ext; i++)
		buf_deinit(&s->ext[i]);
	free(s->ext);
	s->ext = NULL;
	s->n_ext = 0;
}

/* Runs commands while input holds complete ones and nothing waits. */
static void imap_process_input(struct imap_session *s)
{
	struct evbuffer *in;
	struct imap_command c;
	const char *error, *line;
	size_t avail, used, len;
	enum imap_read_result rr;
	unsigned char *data;

	while (s->wait == IMAP_WAIT_NONE || s->wait == IMAP_WAIT_SASL ||
	       s->wait == IMAP_WAIT_IDLE || s->wait == IMAP_WAIT_LITERAL) {
		if (s->state == IMAP_STATE_LOGOUT || s->state == IMAP_STATE_TLS)
			return;
		/* again each time: after COMPRESS the input is the filter's,
		 * and what the old buffer still holds is compressed */
		in = conn_input(s->conn);
		if (s->wait == IMAP_WAIT_LITERAL && !take_literal(s, in))
			return;
		avail = evbuffer_get_length(in);
		if (avail == 0)
			return;
		data = evbuffer_pullup(in, (ssize_t)avail);
		rr = imap_reader_feed(s->reader, data, avail, &used);
		evbuffer_drain(in, used);
		switch (rr) {
		case IMAP_READ_MORE:
			return;
		case IMAP_READ_CONTINUE:
			conn_printf(s->conn, "+ Ready for literal data\r\n");
			continue;
		case IMAP_READ_LITERAL:
			big_literal(s);
			continue;
		case IMAP_READ_ERROR:
			read_error(s);
			continue;
		case IMAP_READ_DONE:
			break;
		}
		if (s->wait == IMAP_WAIT_SASL || s->wait == IMAP_WAIT_IDLE) {
			imap_reader_line(s->reader, &line, &len);
			if (s->wait == IMAP_WAIT_SASL)
				imap_sasl_response(s, line, len);
			else
				imap_idle_line(s, line, len);
			continue;
		}
		if (imap_reader_parse(s->reader, &s->args, &c, &error) < 0) {
			set_tag(s, c.tag, c.tag_len);
			s->cmd = NULL;
			imap_ext_literals_clear(s);
			imap_bad(s, error);
			continue;
		}
		dispatch(s, &c);
	}
}

/* ---- connection events -------------------------------------------------- */

static void imap_greet(struct imap_session *s)
{
	struct buf caps;

	imap_enter_state(s, IMAP_STATE_NOAUTH);
	buf_init(&caps, 0);
	imap_write_capabilities(s, &caps);
	conn_printf(s->conn, "* OK [%s] Tern IMAP server ready\r\n", buf_cstr(&caps));
	buf_deinit(&caps);
}

static void imap_on_read(struct conn *conn, void *ctx)
{
	imap_process_input(ctx);
}

static void imap_on_event(struct conn *conn, void *ctx, enum conn_event ev)
{
	struct imap_session *s = ctx;

	switch (ev) {
	case CONN_EVENT_TLS_READY:
		log_info("session=%s tls %s", s->ss.id, conn->tls_info);
		if (s->state == IMAP_STATE_TLS)
			imap_greet(s);
		s->wait = IMAP_WAIT_NONE;
		conn_pause(conn, false);
		imap_process_input(s);
		return;
	case CONN_EVENT_TIMEOUT:
		if (s->state != IMAP_STATE_LOGOUT) {
			imap_close(s, "Autologout; idle for too long", "timeout");
			return;
		}
		break;
	case CONN_EVENT_CLOSED:
	case CONN_EVENT_ERROR:
		if (s->state != IMAP_STATE_LOGOUT)
			log_info("session=%s disconnect reason=%s", s->ss.id,
				 ev == CONN_EVENT_CLOSED ? "peer_closed" : "error");
		break;
	case CONN_EVENT_DONE:
		break;
	}
	imap_enter_state(s, IMAP_STATE_LOGOUT);
	server_session_release(&s->ss);
}

static void imap_on_drained(struct conn *conn, void *ctx)
{
	imap_fetch_output_drained(ctx);
}

static void imap_shutdown(struct server_session *ss)
{
	struct imap_session *s = (struct imap_session *)ss;

	/* a job in flight finishes first; its reply is followed by the BYE */
	if (s->wait != IMAP_WAIT_JOB)
		imap_close(s, "Server shutting down", "shutdown");
}

static void imap_changed(struct server_session *ss, int64_t account_id, int64_t mailbox_id)
{
	struct imap_session *s = (struct imap_session *)ss;

	if (s->view == NULL || s->account_id != account_id ||
	    (mailbox_id != 0 && mailbox_id != s->view->mb.id))
		return;
	s->view->changed = true;
	if (s->wait == IMAP_WAIT_IDLE)
		imap_view_sync(s, true);
}

static void imap_free(struct server_session *ss)
{
	struct imap_session *s = (struct imap_session *)ss;

	imap_view_close(s);
	free_cmd_ctx(s);
	imap_ext_literals_clear(s);
	imap_reader_free(&s->reader);
	imap_args_deinit(&s->args);
	free(s->user);
	conn_free(&s->conn);
	free(s);
}

void imap_session_start(struct server *srv, struct conn *conn)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->conn = conn;
	imap_limits_default(&s->limits);
	s->limits.max_line = srv->cfg->imap_max_line_length;
	s->reader = imap_reader_new(&s->limits);
	imap_args_init(&s->args);
	s->ss.shutdown = imap_shutdown;
	s->ss.free = imap_free;
	s->ss.changed = imap_changed;
	server_session_add(srv, &s->ss, conn);
	conn_set_callbacks(conn, imap_on_read, imap_on_event, imap_on_drained, s);
	conn_set_timeout(conn, (unsigned)srv->cfg->imap_timeout);
	if (conn->tls_pending)
		imap_enter_state(s, IMAP_STATE_TLS);
	else
		imap_greet(s);
}
