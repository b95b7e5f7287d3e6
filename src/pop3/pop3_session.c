/*
 * The POP3 session: lifecycle, input framing and the command table, one
 * handler per command, pop3_cmd_<keyword>(). Logins are checked on the
 * worker pool (auth/), deletions happen only in the UPDATE state after
 * QUIT (RFC 1939 6) through the group committer, and a mailbox is open in
 * one POP3 session at a time (RFC 2449 8.1.2 [IN-USE]).
 */
#include "pop3/pop3.h"
#include "pop3/pop3_parse.h"
#include "pop3/pop3_session.h"
#include "auth/auth.h"
#include "core/counter.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "store/committer.h"

#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pop3_cmd {
	const char *keyword;
	void (*handler)(struct pop3_session *s, const struct pop3_command *cmd);
	unsigned states;
};

void pop3_enter_state(struct pop3_session *s, enum pop3_state state)
{
	if (s->state != state)
		log_debug("session=%s state %d->%d", s->ss.id, (int)s->state, (int)state);
	s->state = state;
}

void pop3_reply(struct pop3_session *s, bool ok, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_printf(s->conn, "%s%s%s\r\n", ok ? "+OK" : "-ERR", text[0] ? " " : "", text);
}

void pop3_close(struct pop3_session *s, const char *reason)
{
	if (s->state == POP3_STATE_CLOSING)
		return;
	log_info("session=%s disconnect reason=%s", s->ss.id, reason);
	pop3_enter_state(s, POP3_STATE_CLOSING);
	conn_close_after_write(s->conn);
}

static void pop3_count_error(struct pop3_session *s)
{
	if (++s->bad_commands < s->srv->cfg->pop3_max_bad_commands)
		return;
	pop3_reply(s, false, "Too many errors");
	pop3_close(s, "too_many_errors");
}

/* RFC 2595 / DESIGN: passwords only over TLS, or from loopback when the
 * config allows it. */
static bool plaintext_ok(struct pop3_session *s)
{
	return s->conn->tls || (s->conn->loopback && s->srv->cfg->plaintext_auth_loopback);
}

/* Message number argument: 1..n and not deleted. Returns the index or -1
 * after replying. */
static long message_arg(struct pop3_session *s, uint64_t n)
{
	if (n < 1 || n > s->n_msgs) {
		pop3_reply(s, false, "No such message");
		return -1;
	}
	if (s->deleted[n - 1]) {
		pop3_reply(s, false, "Message %llu is deleted", (unsigned long long)n);
		return -1;
	}
	return (long)(n - 1);
}

/* ---- login -------------------------------------------------------------- */

static void release_lock(struct pop3_session *s)
{
	if (s->lock_key[0] != '\0') {
		counter_add(s->srv->pop3_locks, s->lock_key, -1);
		s->lock_key[0] = '\0';
	}
}

static void login_ok(struct pop3_session *s, int64_t account_id)
{
	uint64_t total = 0;
	size_t i;

	snprintf(s->lock_key, sizeof(s->lock_key), "%lld", (long long)account_id);
	if (counter_get(s->srv->pop3_locks, s->lock_key) > 0) {
		s->lock_key[0] = '\0';
		log_info("session=%s login user=%s result=in_use", s->ss.id, buf_cstr(&s->user));
		pop3_reply(s, false, "[IN-USE] Mailbox is locked by another POP3 session");
		pop3_enter_state(s, POP3_STATE_AUTH);
		return;
	}
	if (store_inbox_list(s->srv->store, account_id, &s->uidvalidity, &s->msgs, &s->n_msgs) < 0) {
		s->lock_key[0] = '\0';
		log_error("session=%s inbox list failed: %s", s->ss.id, store_error(s->srv->store));
		pop3_reply(s, false, "[SYS/TEMP] Cannot open the mailbox, try again later");
		pop3_enter_state(s, POP3_STATE_AUTH);
		return;
	}
	counter_add(s->srv->pop3_locks, s->lock_key, 1);
	s->account_id = account_id;
	s->deleted = xcalloc(s->n_msgs ? s->n_msgs : 1, sizeof(*s->deleted));
	for (i = 0; i < s->n_msgs; i++)
		total += s->msgs[i].size;
	s->srv->stats.logins_ok++;
	log_info("session=%s login user=%s result=ok messages=%zu", s->ss.id, buf_cstr(&s->user), s->n_msgs);
	pop3_enter_state(s, POP3_STATE_TRANS);
	pop3_reply(s, true, "Logged in, %zu messages (%llu octets)", s->n_msgs, (unsigned long long)total);
}

static void login_done(void *ctx, int64_t account_id)
{
	struct pop3_session *s = ctx;

	if (!server_session_job_done(&s->ss))
		return;
	if (account_id > 0) {
		login_ok(s, account_id);
	} else {
		s->srv->stats.logins_failed++;
		log_info("session=%s login user=%s ip=%s result=failed", s->ss.id, buf_cstr(&s->user),
			 s->conn->peer_ip);
		pop3_reply(s, false, "[AUTH] Authentication failed");
		pop3_enter_state(s, POP3_STATE_AUTH);
		if (++s->auth_failures >= POP3_AUTH_FAILURES_MAX) {
			pop3_close(s, "auth_failures");
			return;
		}
	}
	pop3_resume(s);
}

static void start_login(struct pop3_session *s, const char *password, size_t len)
{
	pop3_enter_state(s, POP3_STATE_BUSY);
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	auth_login(s->srv->store, s->srv->workers, buf_cstr(&s->user), password, len, login_done, s);
}

/* ---- commands: AUTHORIZATION ------------------------------------------------ */

static void pop3_cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	conn_printf(s->conn, "+OK Capability list follows\r\n");
	conn_printf(s->conn, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
	/* RFC 2449 5, 6.2, 6.3: USER and SASL are announced in both states */
	if (plaintext_ok(s))
		conn_printf(s->conn, "USER\r\nSASL PLAIN\r\n");
	if (s->state == POP3_STATE_AUTH && conn_can_tls(s->conn) && !s->conn->tls)
		conn_printf(s->conn, "STLS\r\n");
	conn_printf(s->conn, "IMPLEMENTATION Tern\r\n.\r\n");
}

static void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (!plaintext_ok(s)) {
		pop3_reply(s, false, "[AUTH] Plaintext authentication disallowed without TLS; use STLS");
		return;
	}
	buf_reset(&s->user);
	if (cmd->args_len == 0 || buf_append(&s->user, cmd->args, cmd->args_len) < 0) {
		pop3_reply(s, false, "Syntax: USER name");
		pop3_count_error(s);
		return;
	}
	pop3_reply(s, true, "Send your password");
}

static void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (!plaintext_ok(s)) {
		pop3_reply(s, false, "[AUTH] Plaintext authentication disallowed without TLS; use STLS");
		return;
	}
	if (s->user.len == 0) {
		pop3_reply(s, false, "Send USER first");
		pop3_count_error(s);
		return;
	}
	start_login(s, cmd->args, cmd->args_len);
}

/* The PLAIN response arrived, as an initial response or a continuation. */
static void sasl_plain_response(struct pop3_session *s, const char *b64, size_t len)
{
	struct buf pass;
	const char *error;

	pop3_enter_state(s, POP3_STATE_AUTH);
	if (len == 1 && b64[0] == '*') {
		pop3_reply(s, false, "Authentication cancelled");
		return;
	}
	buf_init(&pass, PASSWORD_MAX);
	buf_reset(&s->user);
	if (sasl_plain_decode(b64, len, &s->user, &pass, &error) < 0) {
		pop3_reply(s, false, "[AUTH] %s", error);
		pop3_count_error(s);
	} else {
		start_login(s, pass.data, pass.len);
	}
	buf_wipe(&pass);
}

static void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	const char *sp = memchr(cmd->args, ' ', cmd->args_len);
	size_t mlen = sp ? (size_t)(sp - cmd->args) : cmd->args_len;

	if (cmd->args_len == 0) {
		/* Not in RFC 5034, but clients probe for it. */
		conn_printf(s->conn, "+OK\r\nPLAIN\r\n.\r\n");
		return;
	}
	if (!mem_equal_ci(cmd->args, mlen, "PLAIN")) {
		pop3_reply(s, false, "Unsupported authentication mechanism");
		pop3_count_error(s);
		return;
	}
	if (!plaintext_ok(s)) {
		pop3_reply(s, false, "[AUTH] Plaintext authentication disallowed without TLS; use STLS");
		return;
	}
	if (sp != NULL) {
		/* RFC 5034 4: "=" is an empty initial response */
		size_t ilen = cmd->args_len - mlen - 1;

		sasl_plain_response(s, sp + 1, ilen == 1 && sp[1] == '=' ? 0 : ilen);
		return;
	}
	pop3_enter_state(s, POP3_STATE_SASL);
	conn_printf(s->conn, "+ \r\n");
}

static void pop3_cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->conn->tls) {
		pop3_reply(s, false, "Command not permitted when TLS active");
		pop3_count_error(s);
		return;
	}
	if (!conn_can_tls(s->conn)) {
		pop3_reply(s, false, "TLS not available");
		pop3_count_error(s);
		return;
	}
	buf_reset(&s->user);
	pop3_enter_state(s, POP3_STATE_BUSY);
	conn_starttls(s->conn, "+OK Begin TLS negotiation\r\n");
}

static void pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd);

/* ---- commands: TRANSACTION ---------------------------------------------- */

static void pop3_cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint64_t total = 0;
	size_t i, n = 0;

	for (i = 0; i < s->n_msgs; i++) {
		if (!s->deleted[i]) {
			n++;
			total += s->msgs[i].size;
		}
	}
	pop3_reply(s, true, "%zu %llu", n, (unsigned long long)total);
}

/* LIST and UIDL: one message, or all of them as a multi-line reply. */
static void list_or_uidl(struct pop3_session *s, const struct pop3_command *cmd, bool uidl)
{
	uint64_t n;
	long i;
	size_t k;

	if (cmd->args_len > 0) {
		if (pop3_parse_numbers(cmd->args, cmd->args_len, 1, 1, &n) < 0) {
			pop3_reply(s, false, "Invalid message number");
			pop3_count_error(s);
			return;
		}
		if ((i = message_arg(s, n)) < 0)
			return;
		if (uidl)
			pop3_reply(s, true, "%llu %lld.%u", (unsigned long long)n,
				   (long long)s->uidvalidity, s->msgs[i].uid);
		else
			pop3_reply(s, true, "%llu %llu", (unsigned long long)n,
				   (unsigned long long)s->msgs[i].size);
		return;
	}
	pop3_reply(s, true, "%s", uidl ? "Unique-ID listing follows" : "Scan listing follows");
	for (k = 0; k < s->n_msgs; k++) {
		if (s->deleted[k])
			continue;
		if (uidl)
			conn_printf(s->conn, "%zu %lld.%u\r\n", k + 1, (long long)s->uidvalidity,
				    s->msgs[k].uid);
		else
			conn_printf(s->conn, "%zu %llu\r\n", k + 1, (unsigned long long)s->msgs[k].size);
	}
	conn_printf(s->conn, ".\r\n");
}

static void pop3_cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	list_or_uidl(s, cmd, false);
}

static void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	list_or_uidl(s, cmd, true);
}

static void pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint64_t n;
	long i;

	if (pop3_parse_numbers(cmd->args, cmd->args_len, 1, 1, &n) < 0) {
		pop3_reply(s, false, "Syntax: RETR msg");
		pop3_count_error(s);
		return;
	}
	if ((i = message_arg(s, n)) >= 0)
		pop3_retr_start(s, (size_t)i, false, 0);
}

static void pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint64_t args[2];
	long i;

	if (pop3_parse_numbers(cmd->args, cmd->args_len, 2, 2, args) < 0) {
		pop3_reply(s, false, "Syntax: TOP msg n");
		pop3_count_error(s);
		return;
	}
	if ((i = message_arg(s, args[0])) >= 0)
		pop3_retr_start(s, (size_t)i, true, args[1]);
}

static void pop3_cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint64_t n;
	long i;

	if (pop3_parse_numbers(cmd->args, cmd->args_len, 1, 1, &n) < 0) {
		pop3_reply(s, false, "Syntax: DELE msg");
		pop3_count_error(s);
		return;
	}
	if ((i = message_arg(s, n)) < 0)
		return;
	s->deleted[i] = true;
	pop3_reply(s, true, "Message %llu deleted", (unsigned long long)n);
}

static void pop3_cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->n_msgs > 0)
		memset(s->deleted, 0, s->n_msgs * sizeof(*s->deleted));
	pop3_reply(s, true, "%zu messages", s->n_msgs);
}

static void pop3_cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_reply(s, true, "%s", "");
}

/* ---- QUIT and the UPDATE state ------------------------------------------ */

struct update_job {
	struct pop3_session *s;		/* kept alive by pending_jobs */
	int64_t *ids;			/* owned */
	size_t n;
	char **unlink;			/* owned: blob files to remove */
	size_t n_unlink;
};

static int update_txn(struct store *store, void *ctx)
{
	struct update_job *job = ctx;

	job->n_unlink = 0;
	return store_messages_delete(store, job->s->account_id, job->ids, job->n, &job->unlink,
				     &job->n_unlink);
}

static void update_done(void *ctx, int result, const char *error)
{
	struct update_job *job = ctx;
	struct pop3_session *s = job->s;
	size_t i;

	for (i = 0; i < job->n_unlink; i++) {
		if (result == 0)
			unlink(job->unlink[i]);
		free(job->unlink[i]);
	}
	free(job->unlink);
	if (result == 0)
		server_mailbox_changed(s->srv, s->account_id, 0);
	if (server_session_job_done(&s->ss)) {
		if (result == 0) {
			log_info("session=%s update deleted=%zu", s->ss.id, job->n);
			pop3_reply(s, true, "Bye, %zu messages deleted", job->n);
		} else {
			log_error("session=%s update failed: %s", s->ss.id, error);
			pop3_reply(s, false, "[SYS/TEMP] Some deleted messages not removed");
		}
		release_lock(s);
		pop3_close(s, "quit");
	}
	free(job->ids);
	free(job);
}

static void pop3_cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct update_job *job;
	size_t i;

	if (s->state != POP3_STATE_TRANS) {
		pop3_reply(s, true, "Bye");
		pop3_close(s, "quit");
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->s = s;
	job->ids = xcalloc(s->n_msgs ? s->n_msgs : 1, sizeof(*job->ids));
	for (i = 0; i < s->n_msgs; i++) {
		if (s->deleted[i])
			job->ids[job->n++] = s->msgs[i].id;
	}
	if (job->n == 0) {
		free(job->ids);
		free(job);
		release_lock(s);
		pop3_reply(s, true, "Bye");
		pop3_close(s, "quit");
		return;
	}
	pop3_enter_state(s, POP3_STATE_BUSY);
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	committer_submit(s->srv->committer, update_txn, update_done, job);
}

#define AUTH_STATES POP3_STATE_AUTH
#define ANY_STATE (POP3_STATE_AUTH | POP3_STATE_TRANS)

static const struct pop3_cmd pop3_commands[] = {
	{ "CAPA", pop3_cmd_capa, ANY_STATE },
	{ "USER", pop3_cmd_user, AUTH_STATES },
	{ "PASS", pop3_cmd_pass, AUTH_STATES },
	{ "AUTH", pop3_cmd_auth, AUTH_STATES },
	{ "STLS", pop3_cmd_stls, AUTH_STATES },
	{ "QUIT", pop3_cmd_quit, ANY_STATE },
	{ "STAT", pop3_cmd_stat, POP3_STATE_TRANS },
	{ "LIST", pop3_cmd_list, POP3_STATE_TRANS },
	{ "UIDL", pop3_cmd_uidl, POP3_STATE_TRANS },
	{ "RETR", pop3_cmd_retr, POP3_STATE_TRANS },
	{ "TOP", pop3_cmd_top, POP3_STATE_TRANS },
	{ "DELE", pop3_cmd_dele, POP3_STATE_TRANS },
	{ "RSET", pop3_cmd_rset, POP3_STATE_TRANS },
	{ "NOOP", pop3_cmd_noop, POP3_STATE_TRANS },
};

static void pop3_dispatch(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_command cmd;
	const char *error;
	size_t i;

	if (s->state == POP3_STATE_SASL) {
		sasl_plain_response(s, line, len);
		return;
	}
	if (pop3_parse_command(line, len, &cmd, &error) < 0) {
		pop3_reply(s, false, "%s", error);
		pop3_count_error(s);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(pop3_commands); i++) {
		if (strcmp(cmd.keyword, pop3_commands[i].keyword) != 0)
			continue;
		if (!(s->state & pop3_commands[i].states)) {
			pop3_reply(s, false, s->state == POP3_STATE_AUTH ? "Not logged in" :
				   "Command not valid in this state");
			pop3_count_error(s);
			return;
		}
		pop3_commands[i].handler(s, &cmd);
		return;
	}
	pop3_reply(s, false, "Unknown command");
	pop3_count_error(s);
}

/* ---- input and lifecycle --------------------------------------------------- */

static bool pop3_read_line(struct pop3_session *s, struct evbuffer *in)
{
	size_t max = s->state == POP3_STATE_SASL ? POP3_AUTH_LINE_MAX : POP3_COMMAND_LINE_MAX;
	char line[POP3_AUTH_LINE_MAX + 2];
	struct evbuffer_ptr eol;
	size_t len, eol_len;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		if (evbuffer_get_length(in) > max) {
			evbuffer_drain(in, evbuffer_get_length(in));
			s->discarding_line = true;
		}
		return false;
	}
	len = (size_t)eol.pos;
	if (s->discarding_line || len > max) {
		evbuffer_drain(in, len + 1);
		s->discarding_line = false;
		if (s->state == POP3_STATE_SASL)
			pop3_enter_state(s, POP3_STATE_AUTH);
		pop3_reply(s, false, "Line too long");
		pop3_count_error(s);
		return true;
	}
	evbuffer_remove(in, line, len + 1);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	pop3_dispatch(s, line, len);
	OPENSSL_cleanse(line, len);	/* it may have held a password */
	return true;
}

static void pop3_process_input(struct pop3_session *s)
{
	while (!s->ss.released && (s->state & (POP3_STATE_AUTH | POP3_STATE_SASL | POP3_STATE_TRANS)) &&
	       pop3_read_line(s, conn_input(s->conn)))
		;
}

void pop3_resume(struct pop3_session *s)
{
	if (s->state == POP3_STATE_CLOSING)
		return;
	if (s->srv->shutting_down) {
		/* the shutdown came while a login check was in flight */
		pop3_reply(s, false, "[SYS/TEMP] Server shutting down");
		pop3_close(s, "shutdown");
		return;
	}
	conn_pause(s->conn, false);
	pop3_process_input(s);
}

static void pop3_greet(struct pop3_session *s)
{
	pop3_enter_state(s, POP3_STATE_AUTH);
	pop3_reply(s, true, "Tern POP3 server ready");
}

static void pop3_on_read(struct conn *conn, void *ctx)
{
	pop3_process_input(ctx);
}

static void pop3_on_drained(struct conn *conn, void *ctx);

static void pop3_on_event(struct conn *conn, void *ctx, enum conn_event ev)
{
	struct pop3_session *s = ctx;

	switch (ev) {
	case CONN_EVENT_TLS_READY:
		log_info("session=%s tls %s", s->ss.id, conn->tls_info);
		if (s->state == POP3_STATE_TLS)
			pop3_greet(s);
		else
			pop3_enter_state(s, POP3_STATE_AUTH);	/* after STLS: no new greeting */
		pop3_resume(s);
		return;
	case CONN_EVENT_TIMEOUT:
		if (s->state != POP3_STATE_CLOSING) {
			pop3_reply(s, false, "Autologout; idle for too long");
			pop3_close(s, "timeout");
			return;
		}
		break;
	case CONN_EVENT_CLOSED:
	case CONN_EVENT_ERROR:
		/* RFC 1939 6: no QUIT, no UPDATE: nothing is deleted */
		if (s->state != POP3_STATE_CLOSING)
			log_info("session=%s disconnect reason=%s", s->ss.id,
				 ev == CONN_EVENT_CLOSED ? "peer_closed" : "error");
		break;
	case CONN_EVENT_DONE:
		break;
	}
	pop3_enter_state(s, POP3_STATE_CLOSING);
	server_session_release(&s->ss);
}

static void pop3_shutdown(struct server_session *ss)
{
	struct pop3_session *s = (struct pop3_session *)ss;

	/* A session without QUIT deletes nothing, so closing is safe. */
	if (s->state != POP3_STATE_BUSY || s->streaming) {
		pop3_reply(s, false, "[SYS/TEMP] Server shutting down");
		pop3_close(s, "shutdown");
	}
	/* Otherwise a login check or UPDATE is in flight: pop3_resume() or
	 * update_done() ends the session. */
}

static void pop3_free(struct server_session *ss)
{
	struct pop3_session *s = (struct pop3_session *)ss;

	release_lock(s);
	pop3_stream_free(&s->stream);
	buf_wipe(&s->user);
	free(s->msgs);
	free(s->deleted);
	conn_free(&s->conn);
	free(s);
}

void pop3_session_start(struct server *srv, struct conn *conn)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->conn = conn;
	s->stream.fd = -1;
	buf_init(&s->user, ADDRESS_MAX);
	s->ss.shutdown = pop3_shutdown;
	s->ss.free = pop3_free;
	server_session_add(srv, &s->ss, conn);
	conn_set_callbacks(conn, pop3_on_read, pop3_on_event, pop3_on_drained, s);
	conn_set_timeout(conn, (unsigned)srv->cfg->pop3_timeout);
	if (conn->tls_pending)
		pop3_enter_state(s, POP3_STATE_TLS);
	else
		pop3_greet(s);
}

static void pop3_on_drained(struct conn *conn, void *ctx)
{
	struct pop3_session *s = ctx;

	if (s->streaming)
		pop3_retr_continue(s);
}
