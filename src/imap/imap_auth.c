/*
 * IMAP commands of any state and of the not-authenticated state:
 * CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161), STARTTLS,
 * LOGIN and AUTHENTICATE PLAIN with SASL-IR (RFC 4959). Passwords are
 * checked on the worker pool (auth/) and only over TLS, or from loopback
 * when the config allows it (RFC 9051 6.2.3 LOGINDISABLED).
 */
#include "imap/imap_session.h"
#include "auth/auth.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What works; extensions join this list as they are built. */
#define CAPS_COMMON "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT " \
	"UIDPLUS MOVE CONDSTORE QRESYNC SPECIAL-USE LIST-EXTENDED LIST-STATUS QUOTA " \
	"QUOTA=RES-STORAGE QUOTA=RES-MESSAGE ESEARCH SORT THREAD=ORDEREDSUBJECT " \
	"THREAD=REFERENCES BINARY MULTIAPPEND UTF8=ACCEPT"

static bool plaintext_ok(struct imap_session *s)
{
	return s->conn->tls || (s->conn->loopback && s->srv->cfg->plaintext_auth_loopback);
}

void imap_write_capabilities(struct imap_session *s, struct buf *b)
{
	buf_append_str(b, "CAPABILITY " CAPS_COMMON);
	if (s->state == IMAP_STATE_NOAUTH) {
		if (conn_can_tls(s->conn) && !s->conn->tls)
			buf_append_str(b, " STARTTLS");
		buf_append_str(b, plaintext_ok(s) ? " AUTH=PLAIN" : " LOGINDISABLED");
	} else if (!s->conn->compressed) {
		/* RFC 4978 5: COMPRESS is a command-auth; once on, it cannot
		 * be asked for again */
		buf_append_str(b, " COMPRESS=DEFLATE");
	}
}

void imap_cmd_capability(struct imap_session *s, struct imap_cursor *cur)
{
	struct buf b;

	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	buf_init(&b, 0);
	imap_write_capabilities(s, &b);
	imap_untagged(s, "%s", buf_cstr(&b));
	buf_deinit(&b);
	imap_done(s, "OK", "CAPABILITY completed");
}

void imap_cmd_noop(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	imap_done(s, "OK", "%s completed", s->cmd->name);
}

void imap_cmd_logout(struct imap_session *s, struct imap_cursor *cur)
{
	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	imap_untagged(s, "BYE Logging out");
	conn_printf(s->conn, "%s OK LOGOUT completed\r\n", s->tag);
	imap_close(s, NULL, "logout");
}

/* RFC 2971: the client's ID is logged (escaped), ours is sent back. */
void imap_cmd_id(struct imap_session *s, struct imap_cursor *cur)
{
	const struct imap_arg *arg;

	if (imap_arg_next(cur, &arg) < 0 || imap_arg_end(cur) < 0 ||
	    (arg->type != IMAP_ARG_LIST && !imap_arg_is_nil(arg))) {
		imap_bad(s, cur->error ? cur->error : "ID needs a list or NIL");
		return;
	}
	imap_untagged(s, "ID (\"name\" \"Tern\" \"version\" \"%s\")", TERN_VERSION);
	imap_done(s, "OK", "ID completed");
}

void imap_cmd_enable(struct imap_session *s, struct imap_cursor *cur)
{
	struct buf enabled;
	const char *cap;
	size_t len;

	buf_init(&enabled, 0);
	if (imap_arg_at_end(cur)) {
		imap_bad(s, "ENABLE needs capability names");
		return;
	}
	while (!imap_arg_at_end(cur)) {
		if (imap_arg_atom(cur, &cap, &len) < 0) {
			buf_deinit(&enabled);
			imap_bad(s, cur->error);
			return;
		}
		/* RFC 5161 3.1: unknown names are ignored */
		if (mem_equal_ci(cap, len, "IMAP4rev2") && !s->rev2) {
			s->rev2 = s->utf8 = true;
			buf_append_str(&enabled, " IMAP4rev2");
		} else if (mem_equal_ci(cap, len, "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			buf_append_str(&enabled, " UTF8=ACCEPT");
		} else if (mem_equal_ci(cap, len, "CONDSTORE") && !s->condstore) {
			s->condstore = true;
			buf_append_str(&enabled, " CONDSTORE");
		} else if (mem_equal_ci(cap, len, "QRESYNC") && !s->qresync) {
			s->qresync = s->condstore = true;
			buf_append_str(&enabled, " QRESYNC");
		}
	}
	imap_untagged(s, "ENABLED%s", buf_cstr(&enabled));
	buf_deinit(&enabled);
	imap_done(s, "OK", "ENABLE completed");
}

void imap_cmd_starttls(struct imap_session *s, struct imap_cursor *cur)
{
	char reply[IMAP_TAG_MAX + 64];

	if (imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (s->conn->tls || !conn_can_tls(s->conn)) {
		imap_done(s, "BAD", "%s", s->conn->tls ? "TLS is already active" :
			  "TLS is not available");
		return;
	}
	snprintf(reply, sizeof(reply), "%s OK Begin TLS negotiation now\r\n", s->tag);
	s->cmd = NULL;
	s->wait = IMAP_WAIT_TLS;
	conn_pause(s->conn, true);
	/* RFC 9051 6.2.1: input buffered before the handshake is discarded
	 * (conn_starttls throws it away), and so is a command half read */
	imap_reader_reset(s->reader);
	conn_starttls(s->conn, reply);
}

/* ---- logins --------------------------------------------------------------- */

static void login_done(void *ctx, int64_t account_id)
{
	struct imap_session *s = ctx;
	struct buf caps;

	if (!server_session_job_done(&s->ss))
		return;
	if (s->state == IMAP_STATE_LOGOUT)
		return;
	if (account_id <= 0) {
		s->srv->stats.logins_failed++;
		log_info("session=%s login user=%s ip=%s result=failed", s->ss.id, s->user,
			 s->conn->peer_ip);
		free(s->user);
		s->user = NULL;
		if (++s->auth_failures >= IMAP_AUTH_FAILURES_MAX) {
			conn_printf(s->conn, "%s NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
				    s->tag);
			imap_close(s, "Too many failed logins", "auth_failures");
			return;
		}
		imap_done(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	s->account_id = account_id;
	s->srv->stats.logins_ok++;
	log_info("session=%s login user=%s ip=%s result=ok", s->ss.id, s->user, s->conn->peer_ip);
	imap_enter_state(s, IMAP_STATE_AUTH);
	buf_init(&caps, 0);
	imap_write_capabilities(s, &caps);
	imap_done(s, "OK", "[%s] Logged in", buf_cstr(&caps));
	buf_deinit(&caps);
}

static void start_login(struct imap_session *s, const char *user, size_t user_len,
			const char *password, size_t password_len)
{
	free(s->user);
	s->user = xstrndup(user, user_len);
	s->wait = IMAP_WAIT_JOB;
	conn_pause(s->conn, true);
	s->ss.pending_jobs++;
	auth_mail_login(s->srv->auth, "imap", s->conn->peer_ip, s->user, password, password_len,
			login_done, s);
}

void imap_cmd_login(struct imap_session *s, struct imap_cursor *cur)
{
	const char *user, *pass;
	size_t ulen, plen;

	if (imap_arg_astring(cur, &user, &ulen) < 0 || imap_arg_astring(cur, &pass, &plen) < 0 ||
	    imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (!plaintext_ok(s)) {
		imap_done(s, "NO", "[PRIVACYREQUIRED] Use STARTTLS or port 993 to log in");
		return;
	}
	if (ulen == 0 || ulen > ADDRESS_MAX || plen > PASSWORD_MAX) {
		imap_done(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	start_login(s, user, ulen, pass, plen);
}

/* The PLAIN response, as SASL-IR or as a continuation line. */
static void plain_response(struct imap_session *s, const char *b64, size_t len)
{
	struct buf user, pass;
	const char *error;

	if (len == 1 && b64[0] == '*') {
		imap_done(s, "BAD", "Authentication cancelled");	/* RFC 9051 6.2.2 */
		return;
	}
	buf_init(&user, ADDRESS_MAX);
	buf_init(&pass, PASSWORD_MAX);
	if (sasl_plain_decode(b64, len, &user, &pass, &error) < 0)
		imap_done(s, "BAD", "%s", error);
	else
		start_login(s, user.data, user.len, pass.data, pass.len);
	buf_wipe(&pass);
	buf_deinit(&user);
}

void imap_sasl_response(struct imap_session *s, const char *line, size_t len)
{
	s->wait = IMAP_WAIT_NONE;
	plain_response(s, line, len);
}

void imap_cmd_authenticate(struct imap_session *s, struct imap_cursor *cur)
{
	const char *mech, *ir = NULL;
	size_t mlen, irlen = 0;

	if (imap_arg_atom(cur, &mech, &mlen) < 0 ||
	    (!imap_arg_at_end(cur) && imap_arg_atom(cur, &ir, &irlen) < 0) ||
	    imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (!mem_equal_ci(mech, mlen, "PLAIN")) {
		imap_done(s, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (!plaintext_ok(s)) {
		imap_done(s, "NO", "[PRIVACYREQUIRED] Use STARTTLS or port 993 to log in");
		return;
	}
	if (ir != NULL) {
		/* RFC 4959 3: "=" is an empty initial response */
		plain_response(s, ir, irlen == 1 && ir[0] == '=' ? 0 : irlen);
		return;
	}
	s->wait = IMAP_WAIT_SASL;
	imap_reader_line_mode(s->reader);
	conn_printf(s->conn, "+ \r\n");
}

/* RFC 4978: the OK goes out uncompressed, everything after compressed. */
void imap_cmd_compress(struct imap_session *s, struct imap_cursor *cur)
{
	const char *mech;
	size_t len;

	if (imap_arg_atom(cur, &mech, &len) < 0 || imap_arg_end(cur) < 0) {
		imap_bad(s, cur->error);
		return;
	}
	if (!mem_equal_ci(mech, len, "DEFLATE")) {
		imap_done(s, "BAD", "Unknown compression mechanism");
		return;
	}
	if (s->conn->compressed) {
		/* RFC 4978 3: NO is for compression by another layer */
		imap_done(s, "BAD", "COMPRESS is already active");
		return;
	}
	conn_printf(s->conn, "%s OK DEFLATE active\r\n", s->tag);
	s->cmd = NULL;
	if (conn_start_deflate(s->conn) < 0) {
		imap_close(s, "Cannot start compression", "compress_failed");
		return;
	}
	log_info("session=%s compress=deflate", s->ss.id);
}
