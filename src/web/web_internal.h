/*
 * Shared between the files of src/web/; nothing outside includes this.
 *
 *   web_server.c   evhttp over TLS, limits, connection accounting, the
 *                  page table and dispatch, headers, CSRF, replies
 *   web_session.c  the in-memory session map (ids, expiry, rotation)
 *   web_pages.c    login (both steps), home, logout, style sheet
 *   web_account.c  password, two-factor
 *   web_apppass.c  app passwords, login history
 *   web_parse.c    pure parsers (web_parse.h)
 */
#ifndef TERN_WEB_WEB_INTERNAL_H
#define TERN_WEB_WEB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "web/web.h"
#include "web/web_parse.h"

struct evhttp_request;

#define WEB_SESSION_ID_LEN 32			/* bytes: 256 random bits */
#define WEB_TOKEN_HEX (2 * 32 + 1)		/* 64 hex digits and a NUL */
#define WEB_COOKIE "__Host-tern"		/* the session */
#define WEB_PRE_COOKIE "__Host-tern-pre"	/* the login form's CSRF binding */

/* ---- sessions (web_session.c) ---------------------------------------------- */

enum web_session_state {
	WEB_SESSION_NEED_CODE,	/* password right; waiting for the TOTP or recovery code */
	WEB_SESSION_ACTIVE,	/* logged in */
};

struct web_session {
	struct web_session *next;		/* hash chain */
	uint8_t id[WEB_SESSION_ID_LEN];
	char csrf[WEB_TOKEN_HEX];		/* per session, in every form */
	enum web_session_state state;
	int64_t account_id;
	char *address;				/* owned: as stored, or as typed while NEED_CODE */
	/* NEED_CODE only: auth_login_start() wants the password again with
	 * the code; kept for at most WEB_PENDING_LOGIN_SECONDS, wiped */
	char *password;				/* owned, or NULL */
	size_t password_len;
	struct auth_totp_enrolment enrol;	/* enrolment in progress (enrol.uri) */
	int64_t created, last_seen;		/* time_now() */
};

struct web_sessions;
struct web_sessions *web_sessions_new(void);
void web_sessions_free(struct web_sessions **ws);
unsigned web_sessions_count(const struct web_sessions *ws);
/* A new session with fresh random id and CSRF token, or NULL when
 * WEB_SESSIONS_MAX are live even after expired ones were dropped. */
struct web_session *web_session_create(struct web_sessions *ws, int64_t now);
/* The live session whose id is hex (64 digits), touched; NULL if there
 * is none or it expired (then it is ended). idle and lifetime in s. */
struct web_session *web_session_find(struct web_sessions *ws, const char *hex, int64_t now,
				     uint64_t idle, uint64_t lifetime);
/* Same by raw id, without touching (for answers of async operations). */
struct web_session *web_session_find_id(struct web_sessions *ws, const uint8_t *id);
/* New id and CSRF token (login steps: no session fixation). */
void web_session_rotate(struct web_sessions *ws, struct web_session *s);
void web_session_end(struct web_sessions *ws, struct web_session *s);
/* Ends every session of account_id except keep (may be NULL). */
unsigned web_sessions_end_account(struct web_sessions *ws, int64_t account_id,
				  const struct web_session *keep);
/* Drops expired sessions. */
void web_sessions_expire(struct web_sessions *ws, int64_t now, uint64_t idle, uint64_t lifetime);
/* hex of s->id into out (WEB_TOKEN_HEX bytes). */
void web_session_id_hex(const struct web_session *s, char *out);
/* Wipes the pending password of a NEED_CODE session. */
void web_session_forget_password(struct web_session *s);

/* ---- requests (web_server.c) ---------------------------------------------- */

struct server;

/* One request being answered. Handlers that go asynchronous keep it and
 * answer it later; the session is looked up again by id then, because it
 * may have ended meanwhile. */
struct web_req {
	struct web_server *web;		/* borrowed */
	struct server *srv;		/* borrowed */
	struct evhttp_request *req;	/* borrowed until answered */
	char ip[64];
	struct web_session *session;	/* borrowed: valid until the handler returns */
	uint8_t sid[WEB_SESSION_ID_LEN];	/* the session's id, if any */
	bool has_session;
	struct web_form form;		/* the POST body (wiped) */
	char pre[WEB_TOKEN_HEX];	/* the login form's pre-session cookie, or "" */
};

typedef void web_page_fn(struct web_req *r);

/* The request's session again (after an async step), or NULL if it ended. */
struct web_session *web_req_session(struct web_req *r);
/* Makes s the request's session and sends its cookie with the answer. */
void web_req_set_session(struct web_req *r, struct web_session *s);
void web_req_clear_session(struct web_req *r);
struct web_sessions *web_req_sessions(struct web_req *r);
/* Counts an async step of the request (server_session-like accounting for
 * shutdown): web_req_async() before, web_req_async_done() in the answer. */
void web_req_async(struct web_req *r);
void web_req_async_done(struct web_req *r);
/* In the answer of an async step on a logged-in page: counts the step
 * done and returns the session, or answers 403 (r freed) and returns
 * NULL if the session ended meanwhile. */
struct web_session *web_answer_session(struct web_req *r);

/* Answers with body (an HTML page) and frees r. */
void web_reply_html(struct web_req *r, int code, struct buf *body);
/* Answers with the style sheet and frees r. */
void web_reply_css(struct web_req *r, struct buf *body);
/* 303 See Other to path; frees r. */
void web_redirect(struct web_req *r, const char *path);
/* An error page with a sentence for the user; frees r. */
void web_error(struct web_req *r, int code, const char *message);

/* ---- page building (web_pages.c) ------------------------------------------- */

/* Opens a page: doctype, head with the style sheet link, header bar with
 * a logout button when logged in, and the title as <h1>. */
void web_page_begin(struct buf *b, const char *title, const struct web_session *s);
void web_page_end(struct buf *b);
/* The hidden CSRF field of a form (the session's token, or the login
 * form's pre-session token when s is NULL). */
void web_csrf_field(struct web_req *r, struct buf *b, const struct web_session *s);
/* Escaped text. */
void web_html(struct buf *b, const char *s);
/* A notice paragraph: kind "error" or "ok". */
void web_notice(struct buf *b, const char *kind, const char *text);

/* The pages (one function per page and method). */
void web_page_login_get(struct web_req *r);
void web_page_login_post(struct web_req *r);
void web_page_code_get(struct web_req *r);
void web_page_code_post(struct web_req *r);
void web_page_home_get(struct web_req *r);
void web_page_logout_post(struct web_req *r);
void web_page_style_get(struct web_req *r);
void web_page_password_get(struct web_req *r);
void web_page_password_post(struct web_req *r);
void web_page_2fa_get(struct web_req *r);
void web_page_2fa_enable_post(struct web_req *r);
void web_page_2fa_confirm_post(struct web_req *r);
void web_page_2fa_disable_post(struct web_req *r);
void web_page_apppass_get(struct web_req *r);
void web_page_apppass_create_post(struct web_req *r);
void web_page_apppass_revoke_post(struct web_req *r);
void web_page_history_get(struct web_req *r);

/* The login form's pre-session token for the request's pre-cookie value
 * (HMAC under the portal's key), 64 hex digits into out. */
void web_pre_token(struct web_server *web, const char *pre_cookie, char *out);
struct auth *web_auth(struct web_req *r);
/* Formats a time as "2024-05-01 12:34 UTC". */
void web_format_time(int64_t t, char *out, size_t size);

#endif
