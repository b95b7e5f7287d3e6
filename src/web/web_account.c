/*
 * The portal's account pages: change the password, turn two-factor on
 * (QR code and secret, a confirming code, then the recovery codes shown
 * once) and off (password first), create and revoke app passwords (each
 * shown once), and the last logins. Every write is an auth_* call that
 * answers later on the loop thread; the answer looks the session up again
 * by id, since it may have ended in the meantime.
 */
#include "web/web_internal.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static void form_end(struct buf *b, const char *button_id, const char *label,
		     const char *klass)
{
	buf_printf(b, "<button type=\"submit\" id=\"%s\"%s%s%s>%s</button></form>\n", button_id,
		   klass != NULL ? " class=\"" : "", klass != NULL ? klass : "",
		   klass != NULL ? "\"" : "", label);
}

/* ---- password -------------------------------------------------------------------- */

static void password_render(struct web_req *r, const char *kind, const char *notice)
{
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Change password", r->session);
	if (notice != NULL)
		web_notice(&b, kind, notice);
	buf_append_str(&b, "<form method=\"post\" action=\"/password\">\n");
	web_csrf_field(r, &b, r->session);
	buf_append_str(&b, "<label for=\"current\">Current password</label>"
		       "<input type=\"password\" id=\"current\" name=\"current\" "
		       "autocomplete=\"current-password\" required>"
		       "<label for=\"new\">New password</label>"
		       "<input type=\"password\" id=\"new\" name=\"new\" "
		       "autocomplete=\"new-password\" required>"
		       "<label for=\"confirm\">New password again</label>"
		       "<input type=\"password\" id=\"confirm\" name=\"confirm\" "
		       "autocomplete=\"new-password\" required>\n"
		       "<p class=\"muted\">At least 12 characters and hard to guess: several "
		       "unrelated words work well. Mail clients keep working only if they use "
		       "an app password.</p>\n");
	form_end(&b, "change", "Change password", NULL);
	buf_append_str(&b, "<p><a href=\"/\">Back</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_password_get(struct web_req *r)
{
	password_render(r, NULL, NULL);
}

static void password_done(void *ctx, int result, const char *error)
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);
	unsigned ended;

	if (s == NULL)
		return;
	if (result < 0) {
		password_render(r, "error", error);
		return;
	}
	ended = web_sessions_end_account(web_req_sessions(r), s->account_id, s);
	log_info("web password changed ip=%s account=%lld other_sessions_ended=%u", r->ip,
		 (long long)s->account_id, ended);
	password_render(r, "ok", "Your password was changed. You were logged out everywhere "
			"else.");
}

void web_page_password_post(struct web_req *r)
{
	const char *current = web_form_get(&r->form, "current");
	const char *new_password = web_form_get(&r->form, "new");
	const char *confirm = web_form_get(&r->form, "confirm");

	if (current == NULL || new_password == NULL || confirm == NULL || current[0] == '\0') {
		password_render(r, "error", "Fill in all three fields.");
		return;
	}
	if (strcmp(new_password, confirm) != 0) {
		password_render(r, "error", "The two new passwords are not the same.");
		return;
	}
	web_req_async(r);
	auth_password_change(web_auth(r), r->session->account_id, current, new_password, r->ip,
			     password_done, r);
}

/* ---- two-factor -------------------------------------------------------------------- */

static void twofactor_render(struct web_req *r, const char *kind, const char *notice)
{
	struct web_session *s = r->session;
	int left = 0, on = auth_totp_status(web_auth(r), s->account_id, &left);
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Two-factor login", s);
	if (notice != NULL)
		web_notice(&b, kind, notice);
	if (on == 1) {
		buf_printf(&b, "<p id=\"status\">Two-factor login is <strong>on</strong>. %d "
			   "recovery codes left.</p>\n<form method=\"post\" action=\"/2fa/disable\">\n",
			   left);
		web_csrf_field(r, &b, s);
		buf_append_str(&b, "<label for=\"password\">Your password, to turn it off</label>"
			       "<input type=\"password\" id=\"password\" name=\"password\" "
			       "autocomplete=\"current-password\" required>\n");
		form_end(&b, "disable", "Turn two-factor off", "danger");
	} else {
		buf_append_str(&b, "<p id=\"status\">Two-factor login is <strong>off</strong>. With "
			       "it on, logging in here needs a code from an authenticator app as "
			       "well as your password, and mail clients need app passwords.</p>\n"
			       "<form method=\"post\" action=\"/2fa/enable\">\n");
		web_csrf_field(r, &b, s);
		form_end(&b, "enable", "Turn two-factor on", NULL);
	}
	buf_append_str(&b, "<p><a href=\"/\">Back</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_2fa_get(struct web_req *r)
{
	twofactor_render(r, NULL, NULL);
}

static void enrol_render(struct web_req *r, const char *error)
{
	struct web_session *s = r->session;
	char *svg = totp_qr_svg(s->enrol.uri);
	struct buf b;

	buf_init(&b, 0);
	web_page_begin(&b, "Turn on two-factor login", s);
	if (error != NULL)
		web_notice(&b, "error", error);
	buf_append_str(&b, "<p>1. Scan this code with your authenticator app:</p>\n"
		       "<div class=\"qr\" role=\"img\" aria-label=\"QR code\">");
	/* our own SVG from libqrencode: no client bytes in it */
	if (svg != NULL)
		buf_append_str(&b, svg);
	buf_append_str(&b, "</div>\n<p>or type this key into it: <span class=\"secret\" "
		       "id=\"secret\">");
	web_html(&b, s->enrol.secret);
	buf_append_str(&b, "</span></p>\n<p>2. Enter the code the app shows:</p>\n"
		       "<form method=\"post\" action=\"/2fa/confirm\">\n");
	web_csrf_field(r, &b, s);
	buf_append_str(&b, "<label for=\"code\">Code</label><input type=\"text\" id=\"code\" "
		       "name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
		       "required>\n");
	form_end(&b, "confirm", "Turn on", NULL);
	web_page_end(&b);
	free(svg);
	web_reply_html(r, 200, &b);
}

void web_page_2fa_enable_post(struct web_req *r)
{
	struct web_session *s = r->session;
	int left;

	if (auth_totp_status(web_auth(r), s->account_id, &left) == 1) {
		twofactor_render(r, "ok", "Two-factor login is already on.");
		return;
	}
	auth_totp_enrolment_deinit(&s->enrol);
	if (auth_totp_begin(web_auth(r), s->account_id, &s->enrol) < 0) {
		web_error(r, 503, "Two-factor login cannot be set up right now; try again later.");
		return;
	}
	enrol_render(r, NULL);
}

static void confirm_done(void *ctx, int result, const char *error,
			 char (*codes)[SECRET_CODE_LEN + 1])
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);
	struct buf b;
	unsigned i;

	if (s == NULL)
		return;
	if (result < 0) {
		enrol_render(r, error);
		return;
	}
	auth_totp_enrolment_deinit(&s->enrol);
	log_info("web 2fa enabled ip=%s account=%lld", r->ip, (long long)s->account_id);
	buf_init(&b, 0);
	web_page_begin(&b, "Two-factor login is on", s);
	web_notice(&b, "ok", "From now on, logging in here asks for a code from your app.");
	buf_append_str(&b, "<p>Keep these recovery codes somewhere safe. Each one logs you in "
		       "once if you lose your phone. <strong>They are shown only now.</strong></p>\n"
		       "<ul class=\"codes\" id=\"recovery-codes\">");
	for (i = 0; i < RECOVERY_CODES; i++) {
		buf_append_str(&b, "<li>");
		web_html(&b, codes[i]);
		buf_append_str(&b, "</li>");
	}
	buf_append_str(&b, "</ul>\n<p>Mail clients now need app passwords: <a "
		       "href=\"/app-passwords\">create one</a>.</p><p><a href=\"/\">Back</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_2fa_confirm_post(struct web_req *r)
{
	struct web_session *s = r->session;
	const char *code = web_form_get(&r->form, "code");

	if (s->enrol.uri == NULL) {
		twofactor_render(r, "error", "Start again: the setup was not found.");
		return;
	}
	if (code == NULL || strlen(code) != TOTP_DIGITS) {
		enrol_render(r, "Enter the 6-digit code from the app.");
		return;
	}
	web_req_async(r);
	auth_totp_confirm(web_auth(r), s->account_id, s->enrol.secret, code, confirm_done, r);
}

static void disable_done(void *ctx, int result, const char *error)
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);

	if (s == NULL)
		return;
	if (result < 0) {
		twofactor_render(r, "error", error);
		return;
	}
	log_info("web 2fa disabled ip=%s account=%lld", r->ip, (long long)s->account_id);
	twofactor_render(r, "ok", "Two-factor login is off.");
}

/* The password check before turning two-factor off: a "web" login without
 * a code answers AUTH_CODE_REQUIRED exactly when the password is right. */
static void disable_checked(void *ctx, const struct auth_result *res)
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);

	if (s == NULL)
		return;
	if (res->status == AUTH_CODE_REQUIRED && res->account_id == s->account_id) {
		web_req_async(r);
		auth_totp_disable(web_auth(r), s->account_id, disable_done, r);
	} else if (res->status == AUTH_OK) {
		twofactor_render(r, "ok", "Two-factor login is already off.");
	} else if (ratelimit_blocked(auth_ratelimit(web_auth(r)), r->ip, s->address,
				     time_now())) {
		twofactor_render(r, "error", "Too many failed attempts; try again later.");
	} else {
		twofactor_render(r, "error", "That password is not right.");
	}
}

void web_page_2fa_disable_post(struct web_req *r)
{
	const char *password = web_form_get(&r->form, "password");
	struct auth_request req = { 0 };

	if (password == NULL || password[0] == '\0') {
		twofactor_render(r, "error", "Enter your password.");
		return;
	}
	req.protocol = "web";
	req.ip = r->ip;
	req.user = r->session->address;
	req.password = password;
	req.password_len = strlen(password);
	web_req_async(r);
	auth_login_start(web_auth(r), &req, disable_checked, r);
}
