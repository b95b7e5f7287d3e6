/*
 * SMTP AUTH (RFC 4954) for the submission ports: PLAIN (RFC 4616, with or
 * without an initial response) and LOGIN (draft-murchison-sasl-login: the
 * server prompts "Username:" and "Password:" in base64). The password
 * check runs on the worker pool through auth_login(); input is paused
 * meanwhile. Passwords are never logged and are wiped after use; after
 * SMTP_AUTH_FAILURES_MAX failures the session is closed.
 */
#include "smtp/smtp_session.h"
#include "auth/auth.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "store/store.h"

#include <string.h>

bool smtp_auth_offered(struct smtp_session *s)
{
	return s->submission &&
	       (s->conn->tls || (s->conn->loopback && s->srv->cfg->plaintext_auth_loopback));
}

void smtp_auth_forget(struct smtp_session *s)
{
	s->account_id = 0;
	s->trusted = s->is_local;
	s->sasl_step = SMTP_SASL_NONE;
	buf_reset(&s->auth_user);
}

static void login_done(void *ctx, int64_t account_id)
{
	struct smtp_session *s = ctx;
	char esc[LOG_ESCAPE_MAX];

	if (!server_session_job_done(&s->ss))
		return;
	smtp_enter_state(s, SMTP_STATE_READY);
	log_escape(esc, s->auth_user.data ? s->auth_user.data : "", s->auth_user.len);
	if (account_id > 0) {
		s->account_id = account_id;
		s->trusted = true;
		s->srv->stats.logins_ok++;
		log_info("session=%s login user=%s result=ok", s->ss.id, esc);
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
	} else {
		s->srv->stats.logins_failed++;
		log_info("session=%s login user=%s ip=%s result=failed", s->ss.id, esc, s->conn->peer_ip);
		smtp_reply(s, 535, "5.7.8", "Error: authentication failed");
		if (++s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
			smtp_reply(s, 421, "4.7.0", "%s Error: too many authentication failures",
				   s->srv->cfg->hostname);
			smtp_close(s, "auth_failures");
			return;
		}
	}
	smtp_resume(s);
}

static void start_login(struct smtp_session *s, const char *password, size_t len)
{
	s->sasl_step = SMTP_SASL_NONE;
	smtp_enter_state(s, SMTP_STATE_BUSY);
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	auth_login(s->srv->store, s->srv->workers, buf_cstr(&s->auth_user), password, len,
		   login_done, s);
}

/* A response that cannot be used: RFC 4954 4 says 501. */
static void bad_response(struct smtp_session *s, const char *error)
{
	s->sasl_step = SMTP_SASL_NONE;
	smtp_reply(s, 501, "5.5.2", "Cannot decode response: %s", error);
	smtp_count_error(s);
}

static void plain_response(struct smtp_session *s, const char *b64, size_t len)
{
	struct buf pass;
	const char *error;

	buf_init(&pass, PASSWORD_MAX);
	buf_reset(&s->auth_user);
	if (sasl_plain_decode(b64, len, &s->auth_user, &pass, &error) < 0)
		bad_response(s, error);
	else
		start_login(s, pass.data, pass.len);
	buf_wipe(&pass);
}

static void login_user_response(struct smtp_session *s, const char *b64, size_t len)
{
	const char *error;

	buf_reset(&s->auth_user);
	if (sasl_base64_decode(b64, len, &s->auth_user, &error) < 0 || s->auth_user.len == 0) {
		bad_response(s, s->auth_user.len == 0 ? "empty user name" : error);
		return;
	}
	s->sasl_step = SMTP_SASL_LOGIN_PASS;
	smtp_enter_state(s, SMTP_STATE_SASL);
	smtp_reply(s, 334, NULL, "UGFzc3dvcmQ6");
}

static void login_pass_response(struct smtp_session *s, const char *b64, size_t len)
{
	struct buf pass;
	const char *error;

	buf_init(&pass, PASSWORD_MAX);
	if (sasl_base64_decode(b64, len, &pass, &error) < 0 || pass.len == 0)
		bad_response(s, pass.len == 0 ? "empty password" : error);
	else
		start_login(s, pass.data, pass.len);
	buf_wipe(&pass);
}

void smtp_auth_response(struct smtp_session *s, const char *line, size_t len)
{
	enum smtp_sasl_step step = s->sasl_step;

	smtp_enter_state(s, SMTP_STATE_READY);
	if (len == 1 && line[0] == '*') {
		s->sasl_step = SMTP_SASL_NONE;
		smtp_reply(s, 501, "5.7.0", "Authentication cancelled");
		return;
	}
	switch (step) {
	case SMTP_SASL_PLAIN:
		plain_response(s, line, len);
		break;
	case SMTP_SASL_LOGIN_USER:
		login_user_response(s, line, len);
		break;
	case SMTP_SASL_LOGIN_PASS:
		login_pass_response(s, line, len);
		break;
	case SMTP_SASL_NONE:
		break;
	}
}

/* Checks that may refuse AUTH before its mechanism is looked at. */
static int auth_allowed(struct smtp_session *s)
{
	if (!s->submission) {
		smtp_reply(s, 502, "5.5.1", "AUTH is offered on the submission ports only");
		smtp_count_error(s);
		return -1;
	}
	if (s->account_id > 0) {
		smtp_reply(s, 503, "5.5.1", "Error: already authenticated");
		smtp_count_error(s);
		return -1;
	}
	if (!smtp_auth_offered(s)) {
		smtp_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		smtp_count_error(s);
		return -1;
	}
	return 0;
}

void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd)
{
	const char *sp = memchr(cmd->args, ' ', cmd->args_len);
	size_t mlen = sp ? (size_t)(sp - cmd->args) : cmd->args_len;
	size_t ilen = sp ? cmd->args_len - mlen - 1 : 0;
	bool plain = mem_equal_ci(cmd->args, mlen, "PLAIN");

	if (auth_allowed(s) < 0)
		return;
	if (!plain && !mem_equal_ci(cmd->args, mlen, "LOGIN")) {
		smtp_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		smtp_count_error(s);
		return;
	}
	/* RFC 4954 4: "=" is an empty initial response */
	if (sp != NULL && ilen == 1 && sp[1] == '=')
		ilen = 0;
	if (sp != NULL) {
		if (plain) {
			plain_response(s, sp + 1, ilen);
		} else {
			login_user_response(s, sp + 1, ilen);
		}
		return;
	}
	s->sasl_step = plain ? SMTP_SASL_PLAIN : SMTP_SASL_LOGIN_USER;
	smtp_enter_state(s, SMTP_STATE_SASL);
	if (plain)
		smtp_reply(s, 334, NULL, "%s", "");
	else
		smtp_reply(s, 334, NULL, "VXNlcm5hbWU6");
}
