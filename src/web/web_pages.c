/*
 * The portal's frame and its front door: the page skeleton and the style
 * sheet, the two login steps (password, then a TOTP or recovery code when
 * two-factor is on), the home page and logout. Credentials go to
 * auth_login_start() with protocol "web", which applies the brute-force
 * limits, the same reply for an unknown user as for a wrong password, and
 * records the login history; this file only turns its answers into pages.
 * Every string that is not a literal goes through web_html().
 */
#include "web/web_internal.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "daemon/server.h"

#include <event2/http.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One small style sheet; served from /style.css so the CSP needs no
 * 'unsafe-inline'. */
static const char web_css[] =
	"*{box-sizing:border-box}"
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"color:#1d2430;background:#f4f6f9}"
	"header{display:flex;align-items:center;gap:1em;padding:.6em 1.5em;background:#1f3a5f;"
	"color:#fff}"
	"header .brand{color:#fff;font-weight:700;text-decoration:none;font-size:1.2em}"
	"header .who{margin-left:auto;opacity:.85}"
	"header form{margin:0}"
	"main{max-width:44em;margin:2em auto;padding:1.5em 2em;background:#fff;border-radius:8px;"
	"box-shadow:0 1px 4px rgba(0,0,0,.08)}"
	"h1{margin-top:0;font-size:1.5em}"
	"label{display:block;margin:.8em 0 .2em;font-weight:600}"
	"input[type=text],input[type=password],input[type=email]{width:100%;padding:.5em;"
	"border:1px solid #b8c2cf;border-radius:4px;font:inherit}"
	"button{margin-top:1em;padding:.5em 1.2em;border:0;border-radius:4px;background:#2d6cdf;"
	"color:#fff;font:inherit;cursor:pointer}"
	"button.danger{background:#c0392b}header button{margin:0;background:#3b5b85}"
	"table{width:100%;border-collapse:collapse;margin:1em 0}"
	"th,td{text-align:left;padding:.4em;border-bottom:1px solid #e1e6ed}"
	"td form{margin:0}td button{margin:0;padding:.2em .8em}"
	".notice{padding:.7em 1em;border-radius:4px;margin:1em 0}"
	".error{background:#fdecea;color:#8a1f11}.ok{background:#e7f6ec;color:#1b5e20}"
	".secret,code{font-family:ui-monospace,monospace;font-size:1.05em}"
	".codes{columns:2;font-family:ui-monospace,monospace;font-size:1.1em}"
	".qr{width:220px;height:220px}.qr svg{width:100%;height:100%}"
	"nav ul{list-style:none;padding:0}nav li{margin:.4em 0}"
	".muted{color:#5b6675}";

void web_html(struct buf *b, const char *s)
{
	(void)web_html_escape(b, s, strlen(s));
}

void web_notice(struct buf *b, const char *kind, const char *text)
{
	buf_printf(b, "<p class=\"notice %s\" role=\"%s\">", kind,
		   strcmp(kind, "error") == 0 ? "alert" : "status");
	web_html(b, text);
	buf_append_str(b, "</p>\n");
}

void web_page_begin(struct buf *b, const char *title, const struct web_session *s)
{
	buf_append_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		       "<title>");
	web_html(b, title);
	buf_append_str(b, " - Tern</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\n"
		       "<body><header><a class=\"brand\" href=\"/\">Tern</a>");
	if (s != NULL && s->state == WEB_SESSION_ACTIVE) {
		buf_append_str(b, "<span class=\"who\">");
		web_html(b, s->address);
		buf_printf(b, "</span><form method=\"post\" action=\"/logout\">"
			   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			   "<button type=\"submit\" id=\"logout\">Log out</button></form>", s->csrf);
	}
	buf_append_str(b, "</header>\n<main><h1>");
	web_html(b, title);
	buf_append_str(b, "</h1>\n");
}

void web_page_end(struct buf *b)
{
	buf_append_str(b, "</main></body></html>\n");
}

void web_csrf_field(struct web_req *r, struct buf *b, const struct web_session *s)
{
	char token[WEB_TOKEN_HEX];

	if (s != NULL) {
		buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", s->csrf);
		return;
	}
	if (r->pre[0] == '\0') {
		uint8_t raw[32];
		char line[160];

		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(r->pre, sizeof(r->pre), raw, sizeof(raw));
		snprintf(line, sizeof(line), "%s=%s; Secure; HttpOnly; SameSite=Strict; Path=/",
			 WEB_PRE_COOKIE, r->pre);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", line);
	}
	web_pre_token(r->web, r->pre, token);
	buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", token);
}

void web_page_style_get(struct web_req *r)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, web_css, sizeof(web_css) - 1);
	web_reply_css(r, &b);
}

/* ---- login, step 1 ----------------------------------------------------------------- */

static void login_render(struct web_req *r, int code, const char *error, const char *user)
{
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Log in", NULL);
	if (error != NULL)
		web_notice(&b, "error", error);
	buf_append_str(&b, "<form method=\"post\" action=\"/login\">\n");
	web_csrf_field(r, &b, NULL);
	buf_append_str(&b, "<label for=\"user\">Email address</label>"
		       "<input type=\"email\" id=\"user\" name=\"user\" autocomplete=\"username\" "
		       "required value=\"");
	web_html(&b, user != NULL ? user : "");
	buf_append_str(&b, "\"><label for=\"password\">Password</label>"
		       "<input type=\"password\" id=\"password\" name=\"password\" "
		       "autocomplete=\"current-password\" required>"
		       "<button type=\"submit\" id=\"login\">Log in</button></form>\n"
		       "<p class=\"muted\">Manage your password, two-factor login and app "
		       "passwords for mail clients.</p>\n");
	web_page_end(&b);
	web_reply_html(r, code, &b);
}

void web_page_login_get(struct web_req *r)
{
	if (r->session != NULL && r->session->state == WEB_SESSION_ACTIVE) {
		web_redirect(r, "/");
		return;
	}
	login_render(r, 200, NULL, NULL);
}

/* A login in flight (either step). */
struct web_login {
	struct web_req *r;
	char *user;		/* owned */
	char *password;		/* owned, wiped: kept for the code step */
	size_t password_len;
};

static void login_free(struct web_login *l)
{
	free(l->user);
	if (l->password != NULL) {
		OPENSSL_cleanse(l->password, l->password_len);
		free(l->password);
	}
	free(l);
}

/* The failure text: a block is said plainly (it is no secret to whoever
 * caused it); anything else is one message for unknown user and wrong
 * password alike. */
static const char *login_failure(struct web_req *r, const char *user, const char *wrong)
{
	if (ratelimit_blocked(auth_ratelimit(web_auth(r)), r->ip, user, time_now()))
		return "Too many failed logins. Logging in is blocked for a while; try again "
		       "later.";
	return wrong;
}

/* Starts a session for the account; the address is taken as stored. */
static struct web_session *login_session(struct web_req *r, int64_t account_id,
					 enum web_session_state state, const char *typed)
{
	struct web_session *s = web_session_create(web_req_sessions(r), time_now());
	struct store_auth_info info;

	if (s == NULL)
		return NULL;
	s->state = state;
	s->account_id = account_id;
	if (store_auth_by_id(r->srv->store, account_id, &info) == 1) {
		s->address = xstrdup(info.address);
		store_auth_info_deinit(&info);
	} else {
		s->address = xstrdup(typed);
	}
	web_req_set_session(r, s);
	return s;
}

static void login_done(void *ctx, const struct auth_result *res)
{
	struct web_login *l = ctx;
	struct web_req *r = l->r;
	struct web_session *s;

	web_req_async_done(r);
	if (res->status == AUTH_TEMPFAIL) {
		web_error(r, 503, "Logging in is not possible right now; try again later.");
	} else if (res->status == AUTH_FAILED) {
		login_render(r, 200, login_failure(r, l->user, "Wrong address or password."),
			     l->user);
	} else if ((s = login_session(r, res->account_id, res->status == AUTH_OK ?
			WEB_SESSION_ACTIVE : WEB_SESSION_NEED_CODE, l->user)) == NULL) {
		web_error(r, 503, "Too many people are logged in; try again later.");
	} else if (res->status == AUTH_OK) {
		web_redirect(r, "/");
	} else {
		s->password = l->password;	/* for step 2, wiped when it ends */
		s->password_len = l->password_len;
		l->password = NULL;
		web_redirect(r, "/login/code");
	}
	login_free(l);
}

void web_page_login_post(struct web_req *r)
{
	const char *user = web_form_get(&r->form, "user");
	const char *password = web_form_get(&r->form, "password");
	struct auth_request req = { 0 };
	struct web_login *l;

	if (user == NULL || password == NULL || user[0] == '\0' || password[0] == '\0' ||
	    strlen(user) > ADDRESS_MAX) {
		login_render(r, 200, "Enter your email address and password.", user);
		return;
	}
	if (r->session != NULL) {	/* a new login replaces any session */
		web_session_end(web_req_sessions(r), r->session);
		r->session = NULL;
		r->has_session = false;
	}
	l = xcalloc(1, sizeof(*l));
	l->r = r;
	l->user = xstrdup(user);
	l->password = xstrdup(password);
	l->password_len = strlen(password);
	req.protocol = "web";
	req.ip = r->ip;
	req.user = user;
	req.password = password;
	req.password_len = l->password_len;
	web_req_async(r);
	auth_login_start(web_auth(r), &req, login_done, l);
}

/* ---- login, step 2 ----------------------------------------------------------------- */

static void code_render(struct web_req *r, const char *error)
{
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Two-factor code", NULL);
	if (error != NULL)
		web_notice(&b, "error", error);
	buf_append_str(&b, "<p>Enter the 6-digit code from your authenticator app, or one of "
		       "your recovery codes.</p>\n<form method=\"post\" action=\"/login/code\">\n");
	web_csrf_field(r, &b, r->session);
	buf_append_str(&b, "<label for=\"code\">Code</label>"
		       "<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
		       "autocomplete=\"one-time-code\" required autofocus>"
		       "<button type=\"submit\" id=\"verify\">Verify</button></form>\n"
		       "<p><a href=\"/login\">Start over</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_code_get(struct web_req *r)
{
	code_render(r, NULL);
}

static void code_done(void *ctx, const struct auth_result *res)
{
	struct web_login *l = ctx;
	struct web_req *r = l->r;
	struct web_session *s = web_req_session(r);

	web_req_async_done(r);
	if (s == NULL || s->state != WEB_SESSION_NEED_CODE) {
		login_render(r, 200, "Your login took too long; log in again.", NULL);
	} else if (res->status == AUTH_OK) {
		web_session_forget_password(s);
		s->state = WEB_SESSION_ACTIVE;
		web_session_rotate(web_req_sessions(r), s);
		web_req_set_session(r, s);
		web_redirect(r, "/");
	} else if (res->status == AUTH_FAILED &&
		   ratelimit_blocked(auth_ratelimit(web_auth(r)), r->ip, l->user, time_now())) {
		web_session_end(web_req_sessions(r), s);
		web_req_clear_session(r);
		login_render(r, 200, login_failure(r, l->user, NULL), NULL);
	} else {
		r->session = s;
		code_render(r, res->status == AUTH_TEMPFAIL ? "Try again in a moment." :
			    "That code is not right or was already used.");
	}
	login_free(l);
}

void web_page_code_post(struct web_req *r)
{
	const char *given = web_form_get(&r->form, "code");
	struct web_session *s = r->session;
	struct auth_request req = { 0 };
	struct web_login *l;
	char code[64];
	size_t i, n = 0;

	for (i = 0; given != NULL && given[i] != '\0' && n + 1 < sizeof(code); i++) {
		if (given[i] != ' ')	/* "123 456" as apps show it */
			code[n++] = given[i];
	}
	code[n] = '\0';
	if (n == 0 || s->password == NULL) {
		code_render(r, "Enter a code.");
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->r = r;
	l->user = xstrdup(s->address);
	req.protocol = "web";
	req.ip = r->ip;
	req.user = s->address;
	req.password = s->password;
	req.password_len = s->password_len;
	req.code = code;
	web_req_async(r);
	auth_login_start(web_auth(r), &req, code_done, l);
	OPENSSL_cleanse(code, sizeof(code));
}

/* ---- home and logout ----------------------------------------------------------------- */

void web_page_home_get(struct web_req *r)
{
	struct web_session *s = r->session;
	int left = 0, on = auth_totp_status(web_auth(r), s->account_id, &left);
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Your account", s);
	buf_append_str(&b, "<table><tr><th>Address</th><td id=\"address\">");
	web_html(&b, s->address);
	buf_append_str(&b, "</td></tr><tr><th>Two-factor login</th><td id=\"twofactor\">");
	if (on == 1)
		buf_printf(&b, "On (%d recovery codes left)", left);
	else
		buf_append_str(&b, on == 0 ? "Off" : "Unknown");
	buf_append_str(&b, "</td></tr></table>\n");
	if (on == 1 && left < 3)
		web_notice(&b, "error", "You are running out of recovery codes: turn two-factor "
			   "off and on again to get new ones.");
	buf_append_str(&b, "<nav><ul>"
		       "<li><a href=\"/password\" id=\"nav-password\">Change password</a></li>"
		       "<li><a href=\"/2fa\" id=\"nav-2fa\">Two-factor login</a></li>"
		       "<li><a href=\"/app-passwords\" id=\"nav-app\">App passwords for mail "
		       "clients</a></li>"
		       "<li><a href=\"/history\" id=\"nav-history\">Recent logins</a></li>"
		       "</ul></nav>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_logout_post(struct web_req *r)
{
	log_info("web logout ip=%s account=%lld", r->ip, (long long)r->session->account_id);
	web_session_end(web_req_sessions(r), r->session);
	web_req_clear_session(r);
	web_redirect(r, "/login");
}
