/*
 * The SMTP server session: connection lifecycle, input framing (command
 * lines, SASL responses, DATA and BDAT content), and the command table.
 * Each command has one handler, smtp_cmd_<verb>(), which validates, replies
 * on error and returns, then acts. Delivery of finished content is in
 * smtp_deliver.c, AUTH in smtp_auth.c, the submission rules in
 * smtp_submit.c. One session type serves three services:
 *   smtp         port 25: mail for local domains only, no AUTH
 *   submission   587 (STARTTLS) and 465 (TLS): AUTH, then relay (RFC 6409)
 *   local        the sendmail socket: a local user, trusted like AUTH
 *
 * Pipelining (RFC 2920) falls out of the loop in smtp_process_input():
 * commands are handled in order as long as complete lines are buffered,
 * and replies collect in the output buffer until the loop writes them.
 * While a step is asynchronous (commit, TLS handshake) input is paused.
 */
#include "smtp/smtp.h"
#include "smtp/smtp_session.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "store/store.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define SMTP_COMMAND_STATES (SMTP_STATE_GREETING | SMTP_STATE_READY | SMTP_STATE_MAIL | SMTP_STATE_RCPT)

struct smtp_cmd {
	const char *verb;
	void (*handler)(struct smtp_session *s, const struct smtp_command *cmd);
	unsigned states;		/* where the verb is allowed */
};

static const char *state_name(enum smtp_state st)
{
	switch (st) {
	case SMTP_STATE_GREETING: return "greeting";
	case SMTP_STATE_READY: return "ready";
	case SMTP_STATE_MAIL: return "mail";
	case SMTP_STATE_RCPT: return "rcpt";
	case SMTP_STATE_DATA: return "data";
	case SMTP_STATE_BDAT: return "bdat";
	case SMTP_STATE_BUSY: return "busy";
	case SMTP_STATE_CLOSING: return "closing";
	case SMTP_STATE_SASL: return "sasl";
	}
	return "?";
}

void smtp_enter_state(struct smtp_session *s, enum smtp_state state)
{
	if (s->state != state)
		log_debug("session=%s state %s->%s", s->ss.id, state_name(s->state), state_name(state));
	s->state = state;
}

void smtp_reply(struct smtp_session *s, int code, const char *status, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (status != NULL)
		conn_printf(s->conn, "%d %s %s\r\n", code, status, text);
	else
		conn_printf(s->conn, "%d %s\r\n", code, text);
	if (code >= 400)
		log_debug("session=%s reply=%d", s->ss.id, code);
}

static void smtp_reply_err(struct smtp_session *s, const struct smtp_reply_err *err)
{
	smtp_reply(s, err->code, err->status, "%s", err->text);
}

/* Ends the session now; the last replies are written first. */
void smtp_close(struct smtp_session *s, const char *reason)
{
	if (s->state == SMTP_STATE_CLOSING)
		return;
	log_info("session=%s disconnect reason=%s", s->ss.id, reason);
	smtp_enter_state(s, SMTP_STATE_CLOSING);
	conn_close_after_write(s->conn);
}

static void smtp_close_for_shutdown(struct smtp_session *s)
{
	smtp_reply(s, 421, "4.3.2", "%s Service shutting down", s->srv->cfg->hostname);
	smtp_close(s, "shutdown");
}

void smtp_count_error(struct smtp_session *s)
{
	if (++s->bad_commands < s->srv->cfg->smtp_max_bad_commands)
		return;
	smtp_reply(s, 421, "4.7.0", "%s Error: too many errors", s->srv->cfg->hostname);
	smtp_close(s, "too_many_errors");
}

void smtp_transaction_reset(struct smtp_session *s)
{
	size_t i;

	for (i = 0; i < s->n_local; i++)
		free(s->local[i].address);
	free(s->local);
	s->local = NULL;
	s->n_local = 0;
	for (i = 0; i < s->n_remote; i++)
		free(s->remote[i]);
	free(s->remote);
	s->remote = NULL;
	s->n_remote = 0;
	s->n_rcpt = 0;
	free(s->first_rcpt);
	s->first_rcpt = NULL;
	buf_reset(&s->sender);
	memset(&s->params, 0, sizeof(s->params));
	s->queue_id[0] = '\0';
	if (s->spool_open) {
		spool_discard(&s->spool);
		s->spool_open = false;
	}
	s->bdat_started = false;
	s->bdat_failed = false;
	s->bdat_left = 0;
	smtp_submit_reset(s);
	if (s->state & (SMTP_STATE_MAIL | SMTP_STATE_RCPT | SMTP_STATE_DATA | SMTP_STATE_BDAT |
			SMTP_STATE_BUSY))
		smtp_enter_state(s, SMTP_STATE_READY);
}

/* ---- commands ---------------------------------------------------------- */

/* Returns -1 after replying with the error. The state alone cannot tell:
 * a session greeted before is still READY after a bad EHLO. */
static int smtp_greet(struct smtp_session *s, const struct smtp_command *cmd, bool esmtp)
{
	struct smtp_reply_err err;

	if (smtp_parse_helo(cmd->args, cmd->args_len, &err) < 0) {
		smtp_reply_err(s, &err);
		smtp_count_error(s);
		return -1;
	}
	smtp_transaction_reset(s);
	memcpy(s->helo, cmd->args, cmd->args_len);
	s->helo[cmd->args_len] = '\0';
	s->esmtp = esmtp;
	smtp_enter_state(s, SMTP_STATE_READY);
	log_info("session=%s %s=%s", s->ss.id, esmtp ? "ehlo" : "helo", s->helo);
	return 0;
}

static void smtp_cmd_helo(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (smtp_greet(s, cmd, false) == 0)
		smtp_reply(s, 250, NULL, "%s", s->srv->cfg->hostname);
}

static void smtp_cmd_ehlo(struct smtp_session *s, const struct smtp_command *cmd)
{
	const struct config *cfg = s->srv->cfg;

	if (smtp_greet(s, cmd, true) < 0)
		return;
	conn_printf(s->conn, "250-%s\r\n", cfg->hostname);
	conn_printf(s->conn, "250-PIPELINING\r\n");
	conn_printf(s->conn, "250-SIZE %llu\r\n", (unsigned long long)cfg->smtp_max_message_size);
	if (conn_can_tls(s->conn) && !s->conn->tls && !s->is_local)
		conn_printf(s->conn, "250-STARTTLS\r\n");
	if (smtp_auth_offered(s))
		conn_printf(s->conn, "250-AUTH PLAIN LOGIN\r\n");
	conn_printf(s->conn, "250-ENHANCEDSTATUSCODES\r\n");
	conn_printf(s->conn, "250-8BITMIME\r\n");
	conn_printf(s->conn, "250-SMTPUTF8\r\n");
	conn_printf(s->conn, "250 CHUNKING\r\n");
}

static void smtp_cmd_mail(struct smtp_session *s, const struct smtp_command *cmd)
{
	const struct config *cfg = s->srv->cfg;
	struct smtp_reply_err err;
	char esc[LOG_ESCAPE_MAX];

	if (s->state == SMTP_STATE_GREETING) {
		smtp_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
		smtp_count_error(s);
		return;
	}
	if (s->state != SMTP_STATE_READY) {
		smtp_reply(s, 503, "5.5.1", "Error: nested MAIL command");
		smtp_count_error(s);
		return;
	}
	if (smtp_submit_check_auth(s) < 0)
		return;
	buf_reset(&s->sender);
	if (smtp_parse_mail(cmd->args, cmd->args_len, s->esmtp, &s->params, &s->sender, &err) < 0) {
		smtp_reply_err(s, &err);
		smtp_count_error(s);
		return;
	}
	if (s->params.size > cfg->smtp_max_message_size) {
		smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
		return;
	}
	if (smtp_submit_check_sender(s) < 0) {
		buf_reset(&s->sender);
		return;
	}
	random_id(s->queue_id, 12);
	smtp_enter_state(s, SMTP_STATE_MAIL);
	log_info("session=%s queue=%s mail from=<%s> size=%llu%s", s->ss.id, s->queue_id,
		 log_escape(esc, s->sender.data ? s->sender.data : "", s->sender.len),
		 (unsigned long long)s->params.size, s->params.smtputf8 ? " smtputf8" : "");
	smtp_reply(s, 250, "2.1.0", "Ok");
}

static void add_local(struct smtp_session *s, int64_t account_id, const char *address)
{
	size_t i;

	for (i = 0; i < s->n_local; i++) {
		if (s->local[i].account_id == account_id)
			return;
	}
	s->local = xrealloc(s->local, (s->n_local + 1) * sizeof(*s->local));
	s->local[s->n_local].account_id = account_id;
	s->local[s->n_local].address = xstrdup(address);
	s->n_local++;
}

static void add_remote(struct smtp_session *s, const char *address)
{
	size_t i;

	for (i = 0; i < s->n_remote; i++) {
		if (strcasecmp(s->remote[i], address) == 0)
			return;
	}
	s->remote = xrealloc(s->remote, (s->n_remote + 1) * sizeof(*s->remote));
	s->remote[s->n_remote++] = xstrdup(address);
}

static void first_domain(void *ctx, const char *domain, int64_t accounts, int64_t aliases)
{
	char **first = ctx;

	if (*first == NULL)
		*first = xstrdup(domain);
}

/* RFC 5321 4.5.1: "<postmaster>" without a domain must be accepted. It
 * goes to postmaster at the local domain that is our hostname or its
 * nearest parent (mail.example.com -> example.com), else at the first
 * local domain. */
static void rcpt_canonical(struct smtp_session *s, struct buf *addr)
{
	const char *d = s->srv->cfg->hostname;
	char *first = NULL;

	if (strcmp(buf_cstr(addr), "postmaster") != 0)
		return;
	while (d != NULL && !store_domain_exists(s->srv->store, d)) {
		d = strchr(d, '.');
		if (d != NULL && strchr(++d, '.') == NULL)
			d = NULL;	/* stop above the registered domain */
	}
	if (d == NULL) {
		store_domain_list(s->srv->store, first_domain, &first);
		d = first != NULL ? first : s->srv->cfg->hostname;
	}
	buf_printf(addr, "@%s", d);
	free(first);
}

static void rcpt_accept(struct smtp_session *s, const char *address, struct store_expansion *exp)
{
	size_t i;

	for (i = 0; i < exp->n_accounts; i++)
		add_local(s, exp->accounts[i], address);
	for (i = 0; i < exp->n_remote; i++)
		add_remote(s, exp->remote[i]);
	if (s->n_rcpt++ == 0)
		s->first_rcpt = xstrdup(address);
	smtp_enter_state(s, SMTP_STATE_RCPT);
	smtp_reply(s, 250, "2.1.5", "Ok");
}

static void smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct store_expansion exp = { 0 };
	struct smtp_reply_err err;
	struct buf addr;
	char esc[LOG_ESCAPE_MAX];
	enum store_rcpt_status st;

	if (s->bdat_started) {
		smtp_reply(s, 503, "5.5.1", "Error: RCPT after BDAT");
		smtp_count_error(s);
		return;
	}
	if (s->n_rcpt >= s->srv->cfg->smtp_max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	buf_init(&addr, SMTP_PATH_MAX + SMTP_DOMAIN_MAX + 2);
	if (smtp_parse_rcpt(cmd->args, cmd->args_len, s->params.smtputf8, &addr, &err) < 0) {
		smtp_reply_err(s, &err);
		smtp_count_error(s);
		buf_deinit(&addr);
		return;
	}
	rcpt_canonical(s, &addr);
	st = store_resolve(s->srv->store, buf_cstr(&addr), &exp);
	log_info("session=%s queue=%s rcpt to=<%s> status=%s", s->ss.id, s->queue_id,
		 log_escape(esc, addr.data, addr.len),
		 st == STORE_RCPT_OK ? "ok" : st == STORE_RCPT_NOT_LOCAL ?
		 (s->trusted ? "relay" : "relay_denied") :
		 st == STORE_RCPT_UNKNOWN ? "unknown" : st == STORE_RCPT_LOOP ? "loop" : "error");
	switch (st) {
	case STORE_RCPT_OK:
		rcpt_accept(s, buf_cstr(&addr), &exp);
		break;
	case STORE_RCPT_NOT_LOCAL:
		if (s->trusted) {
			/* authenticated or local: a queue row for the remote MX */
			add_remote(s, buf_cstr(&addr));
			rcpt_accept(s, buf_cstr(&addr), &exp);
			break;
		}
		smtp_reply(s, 554, "5.7.1", "<%s>: Relay access denied", esc);
		break;
	case STORE_RCPT_UNKNOWN:
		smtp_reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown", esc);
		break;
	case STORE_RCPT_LOOP:
		smtp_reply(s, 554, "5.4.6", "<%s>: Alias expansion loop or too many targets", esc);
		break;
	case STORE_RCPT_ERROR:
		log_error("session=%s rcpt lookup failed: %s", s->ss.id, store_error(s->srv->store));
		smtp_reply(s, 451, "4.3.0", "<%s>: Temporary lookup failure", esc);
		break;
	}
	store_expansion_free(&exp);
	buf_deinit(&addr);
}

static void smtp_cmd_data(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (cmd->args_len > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: DATA");
		smtp_count_error(s);
		return;
	}
	if (s->bdat_started) {
		smtp_reply(s, 503, "5.5.1", "Error: DATA after BDAT");
		smtp_count_error(s);
		return;
	}
	if (s->state != SMTP_STATE_RCPT) {
		if (s->state == SMTP_STATE_MAIL)
			smtp_reply(s, 554, "5.5.1", "Error: no valid recipients");
		else
			smtp_reply(s, 503, "5.5.1", "Error: need RCPT command");
		smtp_count_error(s);
		return;
	}
	smtp_content_begin(s, true);
	smtp_enter_state(s, SMTP_STATE_DATA);
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void smtp_cmd_bdat(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct smtp_reply_err err;
	uint64_t size;
	bool last;

	if (smtp_parse_bdat(cmd->args, cmd->args_len, &size, &last, &err) < 0) {
		/* The chunk's length is unknown, so its octets cannot be told
		 * from commands: the only safe thing is to hang up. */
		smtp_reply_err(s, &err);
		smtp_close(s, "bad_bdat");
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	if (s->state != SMTP_STATE_RCPT) {
		/* Swallow the chunk, then say why it was refused. */
		s->bdat_failed = true;
	} else if (!s->bdat_started) {
		s->bdat_started = true;
		smtp_content_begin(s, false);
	}
	smtp_enter_state(s, SMTP_STATE_BDAT);
}

static void smtp_cmd_rset(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_transaction_reset(s);
	smtp_reply(s, 250, "2.0.0", "Ok");
}

static void smtp_cmd_noop(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, 250, "2.0.0", "Ok");
}

static void smtp_cmd_quit(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, 221, "2.0.0", "Bye");
	smtp_close(s, "quit");
}

static void smtp_cmd_vrfy(struct smtp_session *s, const struct smtp_command *cmd)
{
	/* RFC 5321 3.5.3: 252 when we will not verify but will accept. */
	smtp_reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void smtp_cmd_expn(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, 502, "5.5.1", "EXPN not available");
}

static void smtp_cmd_help(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY "
		   "HELP STARTTLS; see RFC 5321");
}

static void smtp_cmd_starttls(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (cmd->args_len > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
		smtp_count_error(s);
		return;
	}
	if (s->conn->tls) {
		smtp_reply(s, 503, "5.5.1", "Error: TLS already active");
		smtp_count_error(s);
		return;
	}
	if (!conn_can_tls(s->conn) || s->is_local) {
		smtp_reply(s, 502, "5.5.1", "Error: TLS not available");
		smtp_count_error(s);
		return;
	}
	smtp_transaction_reset(s);
	smtp_enter_state(s, SMTP_STATE_BUSY);
	conn_starttls(s->conn, "220 2.0.0 Ready to start TLS\r\n");
}

static const struct smtp_cmd smtp_commands[] = {
	{ "EHLO", smtp_cmd_ehlo, SMTP_COMMAND_STATES },
	{ "HELO", smtp_cmd_helo, SMTP_COMMAND_STATES },
	{ "MAIL", smtp_cmd_mail, SMTP_COMMAND_STATES },
	{ "RCPT", smtp_cmd_rcpt, SMTP_STATE_MAIL | SMTP_STATE_RCPT },
	{ "DATA", smtp_cmd_data, SMTP_COMMAND_STATES },
	{ "BDAT", smtp_cmd_bdat, SMTP_COMMAND_STATES },
	{ "RSET", smtp_cmd_rset, SMTP_COMMAND_STATES },
	{ "NOOP", smtp_cmd_noop, SMTP_COMMAND_STATES },
	{ "QUIT", smtp_cmd_quit, SMTP_COMMAND_STATES },
	{ "VRFY", smtp_cmd_vrfy, SMTP_COMMAND_STATES },
	{ "EXPN", smtp_cmd_expn, SMTP_COMMAND_STATES },
	{ "HELP", smtp_cmd_help, SMTP_COMMAND_STATES },
	{ "AUTH", smtp_cmd_auth, SMTP_STATE_READY },
	{ "STARTTLS", smtp_cmd_starttls, SMTP_STATE_GREETING | SMTP_STATE_READY },
};

static void smtp_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	size_t i;

	smtp_split_command(line, len, &cmd);
	for (i = 0; i < ARRAY_SIZE(smtp_commands); i++) {
		const struct smtp_cmd *c = &smtp_commands[i];

		if (!mem_equal_ci(cmd.verb, cmd.verb_len, c->verb))
			continue;
		if (!(s->state & c->states)) {
			smtp_reply(s, 503, "5.5.1", c->handler == smtp_cmd_rcpt ?
				   "Error: need MAIL command" : "Error: bad sequence of commands");
			smtp_count_error(s);
			return;
		}
		c->handler(s, &cmd);
		return;
	}
	smtp_reply(s, 500, "5.5.2", "Error: command not recognized");
	smtp_count_error(s);
}

/* ---- input ------------------------------------------------------------- */

/* Handles one command line (or SASL response) if a complete one is
 * buffered. Submission sessions may send AUTH lines up to RFC 4954's
 * 12288 octets. */
static bool smtp_read_command(struct smtp_session *s, struct evbuffer *in)
{
	char line[SMTP_AUTH_LINE_MAX + 2];
	size_t max = s->submission ? SMTP_AUTH_LINE_MAX : SMTP_COMMAND_LINE_MAX;
	struct evbuffer_ptr eol;
	size_t len, eol_len;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		/* No line yet: refuse to buffer more than a command's worth. */
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
		if (s->state == SMTP_STATE_SASL) {
			s->sasl_step = SMTP_SASL_NONE;
			smtp_enter_state(s, SMTP_STATE_READY);
		}
		smtp_reply(s, 500, "5.5.2", "Error: line too long");
		smtp_count_error(s);
		return true;
	}
	evbuffer_remove(in, line, len + 1);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (s->state == SMTP_STATE_SASL)
		smtp_auth_response(s, line, len);
	else
		smtp_dispatch(s, line, len);
	OPENSSL_cleanse(line, len);	/* it may have held a password */
	return true;
}

static int smtp_spool_sink(void *ctx, const char *data, size_t len)
{
	struct smtp_session *s = ctx;

	return spool_write(&s->spool, data, len);
}

void smtp_content_begin(struct smtp_session *s, bool dot_stuffed)
{
	const struct config *cfg = s->srv->cfg;
	struct smtp_data_limits limits = {
		.max_size = cfg->smtp_max_message_size,
		.max_line = cfg->smtp_max_line_length,
	};

	spool_init(&s->spool, s->srv->data_dir, s->queue_id, cfg->inline_max);
	s->spool_open = true;
	smtp_write_received(s);
	smtp_data_init(&s->data, &limits, dot_stuffed,
		       smtp_submit_active(s) ? smtp_submit_sink : smtp_spool_sink, s);
	s->data_started_ms = time_mono_ms();
	conn_set_timeout(s->conn, (unsigned)cfg->smtp_data_timeout);
}

/* The content (DATA, or the LAST chunk) is complete. */
static void smtp_content_end(struct smtp_session *s)
{
	const char *refusal;

	conn_set_timeout(s->conn, (unsigned)s->srv->cfg->smtp_command_timeout);
	if (s->data.error != SMTP_DATA_OK || s->spool.write_errno != 0) {
		if (s->spool.write_errno != 0)
			smtp_reply(s, 451, "4.3.0", "Error: cannot write the message to disk");
		else
			conn_printf(s->conn, "%s\r\n", smtp_data_error_reply(s->data.error));
		log_info("session=%s queue=%s rejected reason=\"%s\"", s->ss.id, s->queue_id,
			 s->spool.write_errno ? "write_error" : smtp_data_error_reply(s->data.error) + 10);
		s->srv->stats.messages_rejected++;
		smtp_transaction_reset(s);
		return;
	}
	if (smtp_submit_active(s) && (refusal = smtp_submit_finish(s)) != NULL) {
		conn_printf(s->conn, "%s\r\n", refusal);
		s->srv->stats.messages_rejected++;
		smtp_transaction_reset(s);
		return;
	}
	smtp_deliver(s);
}

/* Feeds buffered DATA content to the scanner. Returns true at the end. */
static bool smtp_read_data(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec vec[16];
	size_t used = 0, consumed;
	int n, i, done = 0;

	n = evbuffer_peek(in, -1, NULL, vec, ARRAY_SIZE(vec));
	if (n > (int)ARRAY_SIZE(vec))
		n = ARRAY_SIZE(vec);
	for (i = 0; i < n && !done; i++) {
		done = smtp_data_feed(&s->data, vec[i].iov_base, vec[i].iov_len, &consumed);
		used += consumed;
	}
	evbuffer_drain(in, used);
	if (done)
		smtp_content_end(s);
	return done || evbuffer_get_length(in) > 0;
}

/* A BDAT chunk has been read completely. */
static void smtp_bdat_chunk_done(struct smtp_session *s)
{
	if (s->bdat_failed) {
		smtp_reply(s, s->bdat_started ? 554 : 503, "5.5.1", s->bdat_started ?
			   "Error: transaction failed" : "Error: need valid MAIL and RCPT first");
		if (s->queue_id[0] == '\0') {
			/* No transaction to fail, and no EHLO to skip: back to
			 * where the chunk found the session. */
			s->bdat_failed = false;
			smtp_enter_state(s, s->helo[0] ? SMTP_STATE_READY : SMTP_STATE_GREETING);
		} else if (s->bdat_last) {
			smtp_transaction_reset(s);
		} else {
			smtp_enter_state(s, s->n_rcpt ? SMTP_STATE_RCPT : SMTP_STATE_MAIL);
		}
		return;
	}
	if (s->bdat_last) {
		smtp_data_finish_chunked(&s->data);
		smtp_content_end(s);
		return;
	}
	smtp_enter_state(s, SMTP_STATE_RCPT);
	if (s->data.error != SMTP_DATA_OK) {
		/* RFC 3030 3: after a failed chunk the client sends no more */
		conn_printf(s->conn, "%s\r\n", smtp_data_error_reply(s->data.error));
		smtp_transaction_reset(s);
		return;
	}
	smtp_reply(s, 250, "2.0.0", "Ok: %llu octets received", (unsigned long long)s->data.size);
}

/* Consumes buffered octets of the current BDAT chunk. */
static bool smtp_read_bdat(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec vec[16];
	size_t used = 0, consumed, take;
	int n, i;

	n = evbuffer_peek(in, (ev_ssize_t)(s->bdat_left < 1 << 30 ? s->bdat_left : 1 << 30),
			  NULL, vec, ARRAY_SIZE(vec));
	if (n > (int)ARRAY_SIZE(vec))
		n = ARRAY_SIZE(vec);
	for (i = 0; i < n && used < s->bdat_left; i++) {
		take = vec[i].iov_len;
		if (take > s->bdat_left - used)
			take = (size_t)(s->bdat_left - used);
		if (!s->bdat_failed)
			smtp_data_feed(&s->data, vec[i].iov_base, take, &consumed);
		used += take;
	}
	evbuffer_drain(in, used);
	s->bdat_left -= used;
	if (s->bdat_left > 0)
		return evbuffer_get_length(in) > 0;
	smtp_bdat_chunk_done(s);
	return true;
}

static void smtp_process_input(struct smtp_session *s)
{
	struct evbuffer *in;
	bool more = true;

	while (more && !s->ss.released) {
		if (s->srv->shutting_down && (s->state & (SMTP_STATE_GREETING | SMTP_STATE_READY))) {
			/* The transaction that held up the shutdown has ended,
			 * delivered or rejected: start no other. */
			smtp_close_for_shutdown(s);
			break;
		}
		in = conn_input(s->conn);
		if (s->state == SMTP_STATE_DATA)
			more = smtp_read_data(s, in);
		else if (s->state == SMTP_STATE_BDAT)
			more = smtp_read_bdat(s, in);
		else if (s->state & (SMTP_COMMAND_STATES | SMTP_STATE_SASL))
			more = smtp_read_command(s, in);
		else
			more = false;
	}
}

/* After a commit or a TLS handshake; during a shutdown the input loop
 * says 421 instead of reading the next command. */
void smtp_resume(struct smtp_session *s)
{
	conn_pause(s->conn, false);
	smtp_process_input(s);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void smtp_on_read(struct conn *conn, void *ctx)
{
	smtp_process_input(ctx);
}

static void smtp_on_event(struct conn *conn, void *ctx, enum conn_event ev)
{
	struct smtp_session *s = ctx;

	switch (ev) {
	case CONN_EVENT_TLS_READY:
		/* RFC 3207 4.2: forget everything; the client says EHLO again */
		log_info("session=%s %s %s", s->ss.id, service_implicit_tls(conn->service) ?
			 "tls" : "starttls", conn->tls_info);
		smtp_auth_forget(s);
		s->esmtp = false;
		s->helo[0] = '\0';
		smtp_enter_state(s, SMTP_STATE_GREETING);
		smtp_resume(s);
		return;
	case CONN_EVENT_TIMEOUT:
		if (s->state != SMTP_STATE_CLOSING) {
			smtp_reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->srv->cfg->hostname);
			smtp_close(s, "timeout");
			return;
		}
		break;
	case CONN_EVENT_CLOSED:
	case CONN_EVENT_ERROR:
		if (s->state != SMTP_STATE_CLOSING)
			log_info("session=%s disconnect reason=%s state=%s", s->ss.id,
				 ev == CONN_EVENT_CLOSED ? "peer_closed" : "error", state_name(s->state));
		break;
	case CONN_EVENT_DONE:
		break;
	}
	smtp_enter_state(s, SMTP_STATE_CLOSING);
	server_session_release(&s->ss);
}

static void smtp_shutdown(struct server_session *ss)
{
	struct smtp_session *s = (struct smtp_session *)ss;

	/* DATA, BDAT or a commit in flight: finish it first (the input loop
	 * closes the session once it is back between transactions). */
	if (s->state & (SMTP_COMMAND_STATES | SMTP_STATE_SASL))
		smtp_close_for_shutdown(s);
}

static void smtp_free(struct server_session *ss)
{
	struct smtp_session *s = (struct smtp_session *)ss;

	smtp_transaction_reset(s);
	buf_deinit(&s->sender);
	buf_deinit(&s->auth_user);
	buf_deinit(&s->header);
	conn_free(&s->conn);
	free(s);
}

/* Who is on the other end of the sendmail socket: the kernel says. */
static int smtp_local_peer(struct smtp_session *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(s->conn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		/* without a uid the Received line could not name the sender */
		log_error("session=%s SO_PEERCRED failed: %m", s->ss.id);
		smtp_reply(s, 421, "4.3.0", "%s Error: cannot identify the local user",
			   s->srv->cfg->hostname);
		smtp_close(s, "no_peercred");
		return -1;
	}
	s->peer_uid = cred.uid;
	log_info("session=%s local uid=%u pid=%d", s->ss.id, (unsigned)cred.uid, (int)cred.pid);
	return 0;
}

void smtp_session_start(struct server *srv, struct conn *conn)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->conn = conn;
	s->state = SMTP_STATE_GREETING;
	buf_init(&s->sender, SMTP_PATH_MAX + 1);
	buf_init(&s->auth_user, ADDRESS_MAX);
	buf_init(&s->header, SMTP_SUBMIT_HEADER_MAX);
	s->submission = conn->service == SERVICE_SUBMISSION || conn->service == SERVICE_SUBMISSIONS;
	s->is_local = conn->service == SERVICE_LOCAL;
	s->trusted = s->is_local;
	s->ss.shutdown = smtp_shutdown;
	s->ss.free = smtp_free;
	server_session_add(srv, &s->ss, conn);
	conn_set_callbacks(conn, smtp_on_read, smtp_on_event, NULL, s);
	conn_set_timeout(conn, (unsigned)srv->cfg->smtp_command_timeout);
	if (s->is_local && smtp_local_peer(s) < 0)
		return;
	smtp_reply(s, 220, NULL, "%s ESMTP Tern", srv->cfg->hostname);
}
