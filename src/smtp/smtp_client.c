/*
 * The SMTP client state machine (see smtp_client.h). Replies are read a
 * line at a time into the reply parser; each complete reply goes to the
 * handler of the state that expects it. With PIPELINING, MAIL, every
 * RCPT and DATA go out in one write and their replies are matched in
 * order (RFC 2920 3.1); without it, one command at a time.
 */
#include "smtp/smtp_client.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "net/connect.h"
#include "net/tls.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_CHUNK (64 * 1024)

enum client_state {
	CS_CONNECTING, CS_GREETING, CS_EHLO, CS_HELO, CS_STARTTLS, CS_TLS, CS_AUTH,
	CS_AUTH_USER, CS_AUTH_PASS, CS_READY, CS_RSET, CS_TXN, CS_BODY, CS_DOT, CS_DEAD,
};

/* What the next expected reply answers, within a transaction. */
enum txn_step { STEP_MAIL, STEP_RCPT, STEP_DATA };

struct smtp_client {
	struct event_base *base;	/* borrowed */
	struct smtp_client_config cfg;	/* strings borrowed from the caller */
	struct net_connect *connecting;	/* owned while connecting */
	struct conn *conn;		/* owned */
	struct smtp_reply_parser parser;
	struct smtp_ehlo ehlo;
	enum client_state state;
	bool esmtp, used, freed, tls_done;
	char peer[64];
	smtp_client_ready_fn *ready_cb;
	smtp_client_done_fn *done_cb;
	void *ctx;
	/* the transaction */
	const struct smtp_client_msg *msg;	/* borrowed */
	struct smtp_client_reply *results;	/* owned: one per recipient */
	size_t n_results;
	size_t next_reply;		/* 0: MAIL, 1..n: RCPT, n+1: DATA */
	size_t next_send;		/* same numbering, without PIPELINING */
	size_t n_accepted;
	bool mail_failed;
	int body_fd;
	uint64_t body_pos;
	bool at_line_start, last_crlf, last_cr;	/* dot-stuffing state */
};

void smtp_client_default_timeouts(struct smtp_client_timeouts *t)
{
	t->greeting = 300;	/* 4.5.3.2.1 */
	t->mail = 300;		/* 4.5.3.2.2 */
	t->rcpt = 300;		/* 4.5.3.2.3 */
	t->data_init = 120;	/* 4.5.3.2.4 */
	t->data_block = 180;	/* 4.5.3.2.5 */
	t->data_term = 600;	/* 4.5.3.2.6 */
}

const struct smtp_ehlo *smtp_client_ehlo(struct smtp_client *c)
{
	return &c->ehlo;
}

const char *smtp_client_peer(struct smtp_client *c)
{
	return c->peer;
}

bool smtp_client_tls_active(struct smtp_client *c)
{
	return c->conn != NULL && c->conn->tls;
}

static void reply_set(struct smtp_client_reply *r, int code, const char *enhanced,
		      const char *text, const char *stage)
{
	free(r->text);
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced ? enhanced : "");
	r->text = xstrdup(text);
	r->stage = stage;
}

/* The parser's reply as a smtp_client_reply; lines joined with "; ". */
static void reply_from_server(struct smtp_client *c, struct smtp_client_reply *r,
			      const char *stage)
{
	char *text = xstrdup(buf_cstr(&c->parser.reply.text)), *p;

	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		*p = ';';
	reply_set(r, c->parser.reply.code, c->parser.reply.enhanced, text, stage);
	free(text);
}

static void results_free(struct smtp_client *c)
{
	size_t i;

	if (c->results == NULL)
		return;
	for (i = 0; i < c->n_results; i++)
		free(c->results[i].text);
	free(c->results);
	c->results = NULL;
	c->n_results = 0;
}

static void deferred_free(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_client *c = arg;

	net_connect_cancel(&c->connecting);
	conn_free(&c->conn);
	if (c->body_fd >= 0)
		close(c->body_fd);
	results_free(c);
	smtp_reply_parser_deinit(&c->parser);
	free(c);
}

void smtp_client_free(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;
	struct timeval now = { 0, 0 };

	if (c == NULL)
		return;
	*cp = NULL;
	c->freed = true;
	c->state = CS_DEAD;
	if (c->conn != NULL)
		conn_set_callbacks(c->conn, NULL, NULL, NULL, NULL);
	if (event_base_once(c->base, -1, EV_TIMEOUT, deferred_free, c, &now) < 0)
		fatal("cannot schedule a client free");
}

static void send_line(struct smtp_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void send_line(struct smtp_client *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 0);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append(&b, "\r\n", 2);
	conn_write(c->conn, b.data, b.len);
	buf_deinit(&b);
}

/* Ends the session before it became ready, or a transaction in flight. */
static void fail(struct smtp_client *c, int code, const char *enhanced, const char *text,
		 const char *stage)
{
	struct smtp_client_reply r = { 0 };
	enum client_state was = c->state;
	size_t i;

	log_info("delivery=%s client_failed peer=%s stage=%s code=%d error=\"%s\"",
		 c->cfg.log_id, c->peer, stage, code, text);
	c->state = CS_DEAD;
	if (c->conn != NULL)
		conn_set_callbacks(c->conn, NULL, NULL, NULL, NULL);
	if (was >= CS_RSET && was <= CS_DOT && c->msg != NULL) {
		for (i = 0; i < c->msg->n_rcpts; i++) {
			if (c->results[i].code == 0 || (c->results[i].code >= 200 &&
							 c->results[i].code < 300))
				reply_set(&c->results[i], code, enhanced, text, stage);
		}
		c->done_cb(c->ctx, c->results, c->msg->n_rcpts, false);
		return;
	}
	reply_set(&r, code, enhanced, text, stage);
	c->ready_cb(c->ctx, &r);
	free(r.text);
}

static void fail_reply(struct smtp_client *c, const char *stage)
{
	struct smtp_client_reply r = { 0 };

	reply_from_server(c, &r, stage);
	fail(c, r.code, r.enhanced, r.text, stage);
	free(r.text);
}

static void set_timeout(struct smtp_client *c, unsigned seconds)
{
	conn_set_timeout(c->conn, seconds);
}

static void send_ehlo(struct smtp_client *c)
{
	c->state = CS_EHLO;
	set_timeout(c, c->cfg.timeouts.greeting);
	send_line(c, "EHLO %s", c->cfg.helo);
}

static void become_ready(struct smtp_client *c)
{
	c->state = CS_READY;
	set_timeout(c, c->cfg.timeouts.mail);
	log_info("delivery=%s connected peer=%s esmtp=%d tls=%s", c->cfg.log_id, c->peer,
		 c->esmtp, c->conn->tls ? c->conn->tls_info : "no");
	c->ready_cb(c->ctx, NULL);
}

static char *base64(const char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

/* RFC 4954: PLAIN in one round trip when offered, else LOGIN. */
static void start_auth(struct smtp_client *c)
{
	const char *user = c->cfg.auth_user, *pass = c->cfg.auth_pass;
	struct buf b;
	char *enc;

	if (c->ehlo.auth & SMTP_AUTH_PLAIN) {
		buf_init(&b, 0);
		buf_append_char(&b, '\0');
		buf_append_str(&b, user);
		buf_append_char(&b, '\0');
		buf_append_str(&b, pass);
		enc = base64(b.data, b.len);
		OPENSSL_cleanse(b.data, b.len);
		buf_deinit(&b);
		c->state = CS_AUTH;
		send_line(c, "AUTH PLAIN %s", enc);
		OPENSSL_cleanse(enc, strlen(enc));
		free(enc);
	} else if (c->ehlo.auth & SMTP_AUTH_LOGIN) {
		c->state = CS_AUTH_USER;
		send_line(c, "AUTH LOGIN");
	} else {
		fail(c, 0, "4.7.0", "the relay offers no AUTH mechanism we support", "AUTH");
	}
}

/* After the (final) EHLO: TLS, then AUTH, then ready. */
static void after_ehlo(struct smtp_client *c)
{
	enum smtp_client_tls tls = c->cfg.ssl_ctx != NULL ? c->cfg.tls : SMTP_CLIENT_TLS_NONE;

	if (!c->conn->tls && (tls == SMTP_CLIENT_TLS_OPPORTUNISTIC || tls == SMTP_CLIENT_TLS_VERIFY)) {
		if (c->ehlo.starttls) {
			c->state = CS_STARTTLS;
			send_line(c, "STARTTLS");
			return;
		}
		if (tls == SMTP_CLIENT_TLS_VERIFY) {
			fail(c, 0, "4.7.5", "the server does not offer STARTTLS, which policy requires",
			     "STARTTLS");
			return;
		}
	}
	if (c->cfg.auth_user != NULL) {
		if (!c->conn->tls && tls != SMTP_CLIENT_TLS_NONE) {
			fail(c, 0, "4.7.0", "not sending credentials without TLS", "AUTH");
			return;
		}
		start_auth(c);
		return;
	}
	become_ready(c);
}

static void start_tls(struct smtp_client *c)
{
	bool verify = c->cfg.tls == SMTP_CLIENT_TLS_VERIFY ||
		      (c->cfg.tls == SMTP_CLIENT_TLS_IMPLICIT && c->cfg.tls_verify);
	SSL *ssl = tls_client_ssl_new(c->cfg.ssl_ctx, c->cfg.tls_name, verify);

	c->state = CS_TLS;
	if (ssl == NULL || conn_starttls_client(c->conn, ssl) < 0)
		fail(c, 0, "4.7.0", "cannot start TLS", "STARTTLS");
}

/* RFC 4954 4: LOGIN sends user and password after 334 prompts; 235 ends. */
static void on_auth_reply(struct smtp_client *c, int code)
{
	bool user = c->state == CS_AUTH_USER;
	const char *secret = user ? c->cfg.auth_user : c->cfg.auth_pass;
	char *enc;

	if (c->state == CS_AUTH) {
		if (code != 235)
			return fail_reply(c, "AUTH");
		become_ready(c);
		return;
	}
	if (code != 334)
		return fail_reply(c, "AUTH");
	enc = base64(secret, strlen(secret));
	c->state = user ? CS_AUTH_PASS : CS_AUTH;
	send_line(c, "%s", enc);
	OPENSSL_cleanse(enc, strlen(enc));
	free(enc);
}

static void on_session_reply(struct smtp_client *c)
{
	int code = c->parser.reply.code;

	switch (c->state) {
	case CS_GREETING:
		if (code != 220)
			return fail_reply(c, "greeting");
		send_ehlo(c);
		return;
	case CS_EHLO:
		if (code >= 500 && code < 600 && !c->conn->tls) {
			c->state = CS_HELO;	/* RFC 5321 3.2: HELO for old servers */
			send_line(c, "HELO %s", c->cfg.helo);
			return;
		}
		if (code != 250)
			return fail_reply(c, "EHLO");
		c->esmtp = true;
		smtp_ehlo_parse(&c->parser.reply, &c->ehlo);
		after_ehlo(c);
		return;
	case CS_HELO:
		if (code != 250)
			return fail_reply(c, "HELO");
		memset(&c->ehlo, 0, sizeof(c->ehlo));
		after_ehlo(c);
		return;
	case CS_STARTTLS:
		if (code != 220) {
			if (c->cfg.tls == SMTP_CLIENT_TLS_VERIFY)
				return fail_reply(c, "STARTTLS");
			c->cfg.tls = SMTP_CLIENT_TLS_NONE;	/* opportunistic: go on in clear */
			after_ehlo(c);
			return;
		}
		start_tls(c);
		return;
	case CS_AUTH_USER:
	case CS_AUTH_PASS:
	case CS_AUTH:
		on_auth_reply(c, code);
		return;
	default:
		return;
	}
}

/* ---- transaction ---------------------------------------------------------- */

static void txn_finish(struct smtp_client *c)
{
	const struct smtp_client_msg *msg = c->msg;

	c->state = CS_READY;
	set_timeout(c, c->cfg.timeouts.mail);
	if (c->body_fd >= 0) {
		close(c->body_fd);
		c->body_fd = -1;
	}
	c->done_cb(c->ctx, c->results, msg->n_rcpts, true);
}

static void send_step(struct smtp_client *c, size_t step)
{
	const struct smtp_client_msg *msg = c->msg;
	struct buf b;

	if (step == 0) {
		buf_init(&b, 0);
		buf_printf(&b, "MAIL FROM:<%s>", msg->sender);
		if (c->ehlo.size_given)
			buf_printf(&b, " SIZE=%llu", (unsigned long long)msg->size);
		if (msg->eightbit && c->ehlo.eightbitmime)
			buf_append_str(&b, " BODY=8BITMIME");
		if (msg->smtputf8 && c->ehlo.smtputf8)
			buf_append_str(&b, " SMTPUTF8");
		send_line(c, "%s", buf_cstr(&b));
		buf_deinit(&b);
	} else if (step <= msg->n_rcpts) {
		send_line(c, "RCPT TO:<%s>", msg->rcpts[step - 1]);
	} else {
		send_line(c, "DATA");
	}
	c->next_send = step + 1;
}

/* Writes len bytes of message data, dot-stuffed (RFC 5321 4.5.2). */
static void write_stuffed(struct smtp_client *c, const char *p, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		if (c->at_line_start && p[i] == '.') {
			conn_write(c->conn, p + start, i - start);
			conn_write(c->conn, ".", 1);
			start = i;
		}
		c->at_line_start = p[i] == '\n';
	}
	conn_write(c->conn, p + start, len - start);
	if (len == 0)
		return;
	/* a CRLF may straddle two blocks */
	c->last_crlf = p[len - 1] == '\n' && (len >= 2 ? p[len - 2] == '\r' : c->last_cr);
	c->last_cr = p[len - 1] == '\r';
}

static void body_end(struct smtp_client *c)
{
	if (c->msg->size > 0 && !c->last_crlf)
		conn_write(c->conn, "\r\n", 2);
	conn_write(c->conn, ".\r\n", 3);
	conn_set_drain_mark(c->conn, 0);
	c->state = CS_DOT;
	set_timeout(c, c->cfg.timeouts.data_term);
}

/* Sends the next block of a file body; called again when output drains. */
static void body_more(struct smtp_client *c)
{
	char block[BODY_CHUNK];
	ssize_t n;

	n = pread(c->body_fd, block, sizeof(block), (off_t)c->body_pos);
	if (n < 0) {
		fail(c, 0, "4.3.0", "cannot read the queued message", "DATA");
		return;
	}
	if (n == 0) {
		body_end(c);
		return;
	}
	c->body_pos += (uint64_t)n;
	write_stuffed(c, block, (size_t)n);
}

static void body_start(struct smtp_client *c)
{
	const struct smtp_client_msg *msg = c->msg;

	c->state = CS_BODY;
	c->at_line_start = true;
	c->last_crlf = false;
	c->last_cr = false;
	set_timeout(c, c->cfg.timeouts.data_block);
	if (msg->path == NULL) {
		write_stuffed(c, msg->data, msg->data_len);
		body_end(c);
		return;
	}
	c->body_fd = open(msg->path, O_RDONLY | O_CLOEXEC);
	if (c->body_fd < 0) {
		fail(c, 0, "4.3.0", "cannot open the queued message", "DATA");
		return;
	}
	c->body_pos = 0;
	conn_set_drain_mark(c->conn, BODY_CHUNK);
	body_more(c);
}

static void all_accepted_get(struct smtp_client *c, const char *stage)
{
	size_t i;

	for (i = 0; i < c->msg->n_rcpts; i++) {
		if (c->results[i].code >= 200 && c->results[i].code < 300)
			reply_from_server(c, &c->results[i], stage);
	}
}

static void on_txn_reply(struct smtp_client *c)
{
	const struct smtp_client_msg *msg = c->msg;
	size_t step = c->next_reply++, i;
	int code = c->parser.reply.code;

	if (step == 0) {
		if (code / 100 != 2) {
			c->mail_failed = true;
			for (i = 0; i < msg->n_rcpts; i++)
				reply_from_server(c, &c->results[i], "MAIL FROM");
		}
	} else if (step <= msg->n_rcpts) {
		if (!c->mail_failed) {
			reply_from_server(c, &c->results[step - 1], "RCPT TO");
			if (code / 100 == 2)
				c->n_accepted++;
		}
	} else {
		if (code == 354 && (c->mail_failed || c->n_accepted == 0)) {
			/* RFC 2920 3.1: DATA went out unconditionally; end it empty */
			c->state = CS_DOT;
			c->mail_failed = true;
			conn_write(c->conn, ".\r\n", 3);
			return;
		}
		if (code == 354)
			return body_start(c);
		if (!c->mail_failed)
			all_accepted_get(c, "DATA");
		return txn_finish(c);
	}
	if (!c->ehlo.pipelining && c->next_reply == c->next_send) {
		if (c->mail_failed || (step == msg->n_rcpts && c->n_accepted == 0))
			return txn_finish(c);
		set_timeout(c, step == msg->n_rcpts ? c->cfg.timeouts.data_init : c->cfg.timeouts.rcpt);
		send_step(c, c->next_send);
	}
}

void smtp_client_send(struct smtp_client *c, const struct smtp_client_msg *msg)
{
	size_t i;

	results_free(c);
	c->msg = msg;
	c->results = xcalloc(msg->n_rcpts ? msg->n_rcpts : 1, sizeof(*c->results));
	c->n_results = msg->n_rcpts;
	for (i = 0; i < msg->n_rcpts; i++)
		reply_set(&c->results[i], 0, "4.4.2", "no reply", "RCPT TO");
	c->n_accepted = 0;
	c->mail_failed = false;
	c->next_reply = 0;
	c->next_send = 0;
	if (c->used) {
		c->state = CS_RSET;
		send_line(c, "RSET");
		return;
	}
	c->used = true;
	c->state = CS_TXN;
	set_timeout(c, c->cfg.timeouts.mail);
	if (!c->ehlo.pipelining) {
		send_step(c, 0);
		return;
	}
	for (i = 0; i <= msg->n_rcpts + 1; i++)
		send_step(c, i);
}

static void on_reply(struct smtp_client *c)
{
	switch (c->state) {
	case CS_RSET:
		if (c->parser.reply.code != 250)
			return fail_reply(c, "RSET");
		c->used = false;
		smtp_client_send(c, c->msg);
		return;
	case CS_TXN:
		on_txn_reply(c);
		return;
	case CS_DOT:
		if (!c->mail_failed)
			all_accepted_get(c, "end of data");
		txn_finish(c);
		return;
	case CS_BODY:
		fail_reply(c, "DATA");	/* a reply in the middle of the body */
		return;
	case CS_READY:
		return;	/* e.g. a 421 while idle: the close follows */
	default:
		on_session_reply(c);
	}
}

/* ---- I/O ------------------------------------------------------------------ */

static void client_read(struct conn *conn, void *arg)
{
	struct smtp_client *c = arg;
	struct evbuffer *in = conn_input(conn);
	struct evbuffer_ptr eol;
	const char *error;
	size_t eol_len, len;
	char *line;
	int ret;

	while (!c->freed && c->state != CS_DEAD) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > SMTP_REPLY_LINE_MAX)
				fail(c, 0, "4.4.0", "reply line too long", "reply");
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL)
			return;
		ret = smtp_reply_feed(&c->parser, line, len, &error);
		free(line);
		if (ret < 0) {
			fail(c, 0, "4.4.0", error, "reply");
			return;
		}
		if (ret == 1)
			on_reply(c);
	}
}

static void client_event(struct conn *conn, void *arg, enum conn_event ev)
{
	struct smtp_client *c = arg;

	switch (ev) {
	case CONN_EVENT_TLS_READY:
		log_debug("delivery=%s tls peer=%s %s", c->cfg.log_id, c->peer, conn->tls_info);
		if (c->cfg.tls == SMTP_CLIENT_TLS_IMPLICIT) {
			c->state = CS_GREETING;
			set_timeout(c, c->cfg.timeouts.greeting);
		} else {
			send_ehlo(c);	/* RFC 3207 4.2: forget what was said before */
		}
		return;
	case CONN_EVENT_TIMEOUT:
		fail(c, 0, "4.4.2", "timeout waiting for the server", "timeout");
		return;
	case CONN_EVENT_CLOSED:
		if (c->parser.reply.code == 421 && c->parser.done)
			return fail_reply(c, "421");
		fail(c, 0, "4.4.2", "the server closed the connection", "connection");
		return;
	case CONN_EVENT_ERROR:
		fail(c, 0, c->state == CS_TLS ? "4.7.5" : "4.4.2",
		     c->state == CS_TLS ? "TLS handshake failed" : "connection error",
		     c->state == CS_TLS ? "STARTTLS" : "connection");
		return;
	case CONN_EVENT_DONE:
		return;
	}
}

static void client_drained(struct conn *conn, void *arg)
{
	struct smtp_client *c = arg;

	if (c->state == CS_BODY && c->body_fd >= 0)
		body_more(c);
}

static void client_connected(void *arg, int fd, const char *error)
{
	struct smtp_client *c = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	c->connecting = NULL;
	if (fd < 0) {
		fail(c, 0, "4.4.1", error, "connect");
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (c->conn = conn_new(c->base, fd, (struct sockaddr *)&ss, SERVICE_SMTP, NULL,
				false)) == NULL) {
		close(fd);
		fail(c, 0, "4.4.1", "cannot set up the connection", "connect");
		return;
	}
	conn_set_callbacks(c->conn, client_read, client_event, client_drained, c);
	if (c->cfg.tls == SMTP_CLIENT_TLS_IMPLICIT) {
		start_tls(c);
		return;
	}
	c->state = CS_GREETING;
	set_timeout(c, c->cfg.timeouts.greeting);
}

struct smtp_client *smtp_client_new(struct event_base *base, const struct sockaddr *sa,
				    socklen_t len, const struct smtp_client_config *cfg,
				    smtp_client_ready_fn *ready, smtp_client_done_fn *done,
				    void *ctx)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));
	struct smtp_reply_limits limits = { SMTP_REPLY_LINE_MAX, SMTP_REPLY_LINES_MAX };

	c->base = base;
	c->cfg = *cfg;
	c->ready_cb = ready;
	c->done_cb = done;
	c->ctx = ctx;
	c->body_fd = -1;
	c->state = CS_CONNECTING;
	smtp_reply_parser_init(&c->parser, &limits);
	net_addr_text(sa, c->peer, sizeof(c->peer));
	c->connecting = net_connect_start(base, sa, len, cfg->connect_timeout, client_connected, c);
	return c;
}

static void quit_event(struct conn *conn, void *arg, enum conn_event ev)
{
	struct smtp_client *c = arg;

	if (ev != CONN_EVENT_TLS_READY)
		smtp_client_free(&c);
}

void smtp_client_quit(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (c->conn == NULL || c->state != CS_READY) {
		smtp_client_free(&c);
		return;
	}
	/* QUIT goes out; the reply is not awaited (RFC 5321 4.1.1.10 lets
	 * the client close once the server answered, a nicety at best). */
	c->state = CS_DEAD;
	send_line(c, "QUIT");
	conn_set_timeout(c->conn, 10);
	conn_set_callbacks(c->conn, NULL, quit_event, NULL, c);
	conn_close_after_write(c->conn);
}
