/*
 * App passwords (one per mail client, shown once when made, revocable at
 * any time; with two-factor on they are the only way mail clients log
 * in) and the list of recent logins.
 */
#include "web/web_internal.h"
#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct list_ctx {
	struct web_req *r;
	struct buf *b;
	unsigned n;
};

static void apppass_row(void *ctx, const char *name, int64_t created, int64_t last_used)
{
	struct list_ctx *c = ctx;
	char when[40], used[40];

	web_format_time(created, when, sizeof(when));
	if (last_used > 0)
		web_format_time(last_used, used, sizeof(used));
	else
		snprintf(used, sizeof(used), "never");
	buf_append_str(c->b, "<tr><td class=\"app-name\">");
	web_html(c->b, name);
	buf_printf(c->b, "</td><td>%s</td><td>%s</td><td><form method=\"post\" "
		   "action=\"/app-passwords/revoke\">", when, used);
	web_csrf_field(c->r, c->b, c->r->session);
	buf_append_str(c->b, "<input type=\"hidden\" name=\"name\" value=\"");
	web_html(c->b, name);
	buf_append_str(c->b, "\"><button type=\"submit\" class=\"danger revoke\">Revoke</button>"
		       "</form></td></tr>\n");
	c->n++;
}

/* The page; fresh is a password just made (shown once) and its name. */
static void apppass_render(struct web_req *r, const char *kind, const char *notice,
			   const char *fresh, const char *fresh_name)
{
	struct web_session *s = r->session;
	struct list_ctx c = { r, NULL, 0 };
	struct buf b;

	buf_init(&b, 0);
	c.b = &b;
	web_page_begin(&b, "App passwords", s);
	if (notice != NULL)
		web_notice(&b, kind, notice);
	if (fresh != NULL) {
		buf_append_str(&b, "<div class=\"notice ok\"><p>The app password for <strong>");
		web_html(&b, fresh_name);
		buf_append_str(&b, "</strong> is</p><p class=\"secret\" id=\"new-app-password\">");
		web_html(&b, fresh);
		buf_append_str(&b, "</p><p>Enter it in the mail client instead of your password. "
			       "It is shown only now.</p></div>\n");
	}
	buf_append_str(&b, "<p>Mail clients (IMAP, POP3, SMTP) log in with an app password, one "
		       "per device, so that a lost phone is revoked without changing your "
		       "password.</p>\n<table id=\"app-passwords\"><tr><th>Name</th><th>Created"
		       "</th><th>Last used</th><th></th></tr>\n");
	if (auth_app_password_list(web_auth(r), s->account_id, apppass_row, &c) < 0)
		web_notice(&b, "error", "The list could not be read.");
	if (c.n == 0)
		buf_append_str(&b, "<tr><td colspan=\"4\" class=\"muted\">None yet.</td></tr>\n");
	buf_append_str(&b, "</table>\n<form method=\"post\" action=\"/app-passwords/create\">\n");
	web_csrf_field(r, &b, s);
	buf_append_str(&b, "<label for=\"name\">Name of the new app password (e.g. the "
		       "device)</label><input type=\"text\" id=\"name\" name=\"name\" "
		       "maxlength=\"64\" required><button type=\"submit\" id=\"create\">Create"
		       "</button></form>\n<p><a href=\"/\">Back</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}

void web_page_apppass_get(struct web_req *r)
{
	apppass_render(r, NULL, NULL, NULL, NULL);
}

static void created_done(void *ctx, int result, const char *error, const char *password)
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);

	if (s == NULL)
		return;
	if (result < 0) {
		apppass_render(r, "error", error, NULL, NULL);
		return;
	}
	log_info("web app password created ip=%s account=%lld", r->ip, (long long)s->account_id);
	apppass_render(r, NULL, NULL, password, web_form_get(&r->form, "name"));
}

void web_page_apppass_create_post(struct web_req *r)
{
	const char *name = web_form_get(&r->form, "name");

	if (name == NULL || !app_password_name_valid(name)) {
		apppass_render(r, "error", "A name is 1 to 64 printable characters.", NULL, NULL);
		return;
	}
	web_req_async(r);
	auth_app_password_create(web_auth(r), r->session->account_id, name, created_done, r);
}

static void revoked_done(void *ctx, int result, const char *error)
{
	struct web_req *r = ctx;
	struct web_session *s = web_answer_session(r);

	if (s == NULL)
		return;
	if (result < 0) {
		apppass_render(r, "error", error, NULL, NULL);
		return;
	}
	log_info("web app password revoked ip=%s account=%lld", r->ip, (long long)s->account_id);
	apppass_render(r, "ok", "The app password was revoked.", NULL, NULL);
}

void web_page_apppass_revoke_post(struct web_req *r)
{
	const char *name = web_form_get(&r->form, "name");

	if (name == NULL || !app_password_name_valid(name)) {
		apppass_render(r, "error", "No such app password.", NULL, NULL);
		return;
	}
	web_req_async(r);
	auth_app_password_revoke(web_auth(r), r->session->account_id, name, revoked_done, r);
}

/* ---- history -------------------------------------------------------------------- */

static void history_row(void *ctx, int64_t when, const char *protocol, const char *ip,
			bool success)
{
	struct list_ctx *c = ctx;
	char t[40];

	web_format_time(when, t, sizeof(t));
	buf_printf(c->b, "<tr><td>%s</td><td>", t);
	web_html(c->b, protocol);
	buf_append_str(c->b, "</td><td>");
	web_html(c->b, ip != NULL ? ip : "-");
	buf_printf(c->b, "</td><td>%s</td></tr>\n", success ? "yes" : "<strong>no</strong>");
	c->n++;
}

void web_page_history_get(struct web_req *r)
{
	struct buf b;
	struct list_ctx c = { r, &b, 0 };

	buf_init(&b, 0);
	web_page_begin(&b, "Recent logins", r->session);
	buf_printf(&b, "<p>The last %d login attempts on your account, from every mail client "
		   "and this site. A failure you do not recognise means someone is guessing: "
		   "use a strong password and two-factor login.</p>\n<table id=\"history\">"
		   "<tr><th>Time</th><th>Service</th><th>Address</th><th>Success</th></tr>\n",
		   AUTH_HISTORY_SHOWN);
	if (auth_login_history(web_auth(r), r->session->account_id, history_row, &c) < 0)
		web_notice(&b, "error", "The history could not be read.");
	if (c.n == 0)
		buf_append_str(&b, "<tr><td colspan=\"4\" class=\"muted\">No logins yet.</td></tr>\n");
	buf_append_str(&b, "</table>\n<p><a href=\"/\">Back</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, 200, &b);
}
