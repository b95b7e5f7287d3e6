/*
 * The portal's HTTP side: evhttp bound to the https listeners, every
 * connection wrapped in TLS by a bufferevent_openssl made from the
 * daemon's TLS context (implicit TLS, SNI as for the mail services), the
 * limits (headers, body, idle time, connections in total and per IP), the
 * page table and its dispatch, the security headers every answer carries,
 * and the CSRF check that guards every POST.
 *
 * CSRF: a logged-in (or half logged-in) session has a random token that
 * every form carries in a hidden field. The login form has no session
 * yet, and creating one per visitor would let anyone fill the session map,
 * so it uses a stateless double submit bound to the browser: GET /login
 * sets a random "__Host-tern-pre" cookie and the form carries
 * HMAC-SHA-256(key, cookie) with a key drawn at startup. A forged
 * cross-site POST cannot read the cookie nor compute the HMAC; SameSite=
 * Strict keeps the cookie off cross-site requests too. Tokens are
 * compared in constant time; a POST without a valid one gets 403.
 *
 * evhttp (libevent 2.1) gives no hook at accept time, so connections are
 * counted against [server] max_connections and max_connections_per_ip at
 * their first request; one over a limit gets 503 and is closed.
 */
#include "web/web_internal.h"
#include "daemon/server.h"
#include "core/counter.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "net/tls.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEB_SWEEP_SECONDS 60

/* A connection counted against the limits, from its first request on. */
struct web_conn {
	struct web_server *web;			/* borrowed */
	struct evhttp_connection *evcon;	/* borrowed: evhttp owns it */
	char ip[64];
	struct web_conn *prev, *next;
};

struct web_server {
	struct server *srv;			/* borrowed */
	struct evhttp *http;			/* owned */
	struct evhttp_bound_socket *bound[CONFIG_MAX_LISTENERS];	/* owned by http */
	unsigned n_bound;
	struct web_sessions *sessions;		/* owned */
	struct event *sweep;			/* owned: expires sessions */
	struct tls_ctx *tls;			/* counted: used if srv->tls is gone */
	struct web_conn *conns;			/* owned list */
	unsigned async;				/* requests waiting on auth */
	uint8_t key[crypto_auth_hmacsha256_KEYBYTES];	/* pre-session tokens */
};

#define WEB_PAGE_AUTH 0x1	/* needs a logged-in session */
#define WEB_PAGE_CODE 0x2	/* needs a session waiting for its code */
#define WEB_PAGE_PRE 0x4	/* the login form: pre-session CSRF token */

struct web_page {
	const char *path;
	web_page_fn *get;	/* NULL: GET answers 405 */
	web_page_fn *post;	/* NULL: POST answers 405 */
	unsigned flags;
};

static const struct web_page web_pages[] = {
	{ "/", web_page_home_get, NULL, WEB_PAGE_AUTH },
	{ "/login", web_page_login_get, web_page_login_post, WEB_PAGE_PRE },
	{ "/login/code", web_page_code_get, web_page_code_post, WEB_PAGE_CODE },
	{ "/logout", NULL, web_page_logout_post, WEB_PAGE_AUTH },
	{ "/style.css", web_page_style_get, NULL, 0 },
	{ "/password", web_page_password_get, web_page_password_post, WEB_PAGE_AUTH },
	{ "/2fa", web_page_2fa_get, NULL, WEB_PAGE_AUTH },
	{ "/2fa/enable", NULL, web_page_2fa_enable_post, WEB_PAGE_AUTH },
	{ "/2fa/confirm", NULL, web_page_2fa_confirm_post, WEB_PAGE_AUTH },
	{ "/2fa/disable", NULL, web_page_2fa_disable_post, WEB_PAGE_AUTH },
	{ "/app-passwords", web_page_apppass_get, NULL, WEB_PAGE_AUTH },
	{ "/app-passwords/create", NULL, web_page_apppass_create_post, WEB_PAGE_AUTH },
	{ "/app-passwords/revoke", NULL, web_page_apppass_revoke_post, WEB_PAGE_AUTH },
	{ "/history", web_page_history_get, NULL, WEB_PAGE_AUTH },
};

/* ---- TLS --------------------------------------------------------------------- */

static int ssl_tls_index = -1;

/* The SNI callback reads the tls_ctx, so each SSL keeps a reference to
 * it until OpenSSL frees the SSL (a reload may drop the daemon's). */
static void ssl_tls_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct tls_ctx *t = ptr;

	tls_ctx_unref(&t);
}

static struct bufferevent *web_bevcb(struct event_base *base, void *arg)
{
	struct web_server *web = arg;
	struct tls_ctx *t = web->srv->tls != NULL ? web->srv->tls : web->tls;
	struct bufferevent *bev;
	SSL *ssl = tls_ctx_new_ssl(t);

	/* Returning NULL would make evhttp serve plain HTTP: never. An SSL
	 * or bufferevent fails only without memory: abort, as xmalloc does. */
	if (ssl == NULL)
		fatal("web: cannot create an SSL object");
	tls_ctx_ref(t);
	if (SSL_set_ex_data(ssl, ssl_tls_index, t) != 1)
		fatal("web: SSL_set_ex_data failed");
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatal("web: cannot create a TLS bufferevent");
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* ---- connection accounting ------------------------------------------------------ */

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct web_conn *c = arg;
	struct server *srv = c->web->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->web->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_sessions[SERVICE_HTTPS]--;
	srv->n_total--;
	counter_add(srv->per_ip, c->ip, -1);
	free(c);
}

/* Counts the request's connection if new. Returns false if that would
 * pass a connection limit. */
static bool conn_admit(struct web_server *web, struct evhttp_request *req, char *ip_r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct server *srv = web->srv;
	struct web_conn *c;
	char *addr = NULL;
	ev_uint16_t port = 0;

	for (c = web->conns; c != NULL; c = c->next) {
		if (c->evcon == evcon) {
			memcpy(ip_r, c->ip, sizeof(c->ip));
			return true;
		}
	}
	evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(ip_r, 64, "%s", addr != NULL ? addr : "-");
	if (srv->n_total >= srv->cfg->max_connections ||
	    counter_get(srv->per_ip, ip_r) >= srv->cfg->max_connections_per_ip) {
		log_warn("refused service=https ip=%s reason=max_connections", ip_r);
		return false;
	}
	c = xcalloc(1, sizeof(*c));
	c->web = web;
	c->evcon = evcon;
	memcpy(c->ip, ip_r, sizeof(c->ip));
	c->next = web->conns;
	if (web->conns != NULL)
		web->conns->prev = c;
	web->conns = c;
	srv->n_sessions[SERVICE_HTTPS]++;
	srv->n_total++;
	srv->stats.connections++;
	counter_add(srv->per_ip, ip_r, 1);
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	return true;
}

/* ---- answers ------------------------------------------------------------------- */

static void add_security_headers(struct evkeyvalq *h, const char *type)
{
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'self'; script-src 'none'; object-src 'none'; "
			  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cache-Control", "no-store");
}

static void req_free(struct web_req *r)
{
	web_form_deinit(&r->form);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

static void send_answer(struct web_req *r, int code, const char *type, const void *body,
			size_t len)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL || evbuffer_add(out, body, len) < 0)
		fatal("web: out of memory");
	add_security_headers(evhttp_request_get_output_headers(r->req), type);
	evhttp_send_reply(r->req, code, NULL, out);
	evbuffer_free(out);
	log_debug("web answer ip=%s status=%d", r->ip, code);
	req_free(r);
}

void web_reply_html(struct web_req *r, int code, struct buf *body)
{
	send_answer(r, code, "text/html; charset=utf-8", body->data != NULL ? body->data : "",
		    body->len);
	buf_deinit(body);
}

void web_reply_css(struct web_req *r, struct buf *body)
{
	send_answer(r, 200, "text/css; charset=utf-8", body->data, body->len);
	buf_deinit(body);
}

void web_redirect(struct web_req *r, const char *path)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", path);
	send_answer(r, 303, "text/plain; charset=utf-8", "", 0);
}

void web_error(struct web_req *r, int code, const char *message)
{
	struct buf b;
	const char *title = code == 403 ? "Forbidden" : code == 404 ? "Not found" :
			    code == 405 ? "Method not allowed" : code == 400 ? "Bad request" :
			    code == 503 ? "Try again later" : "Error";

	buf_init(&b, 0);
	web_page_begin(&b, title, NULL);
	web_notice(&b, "error", message);
	buf_append_str(&b, "<p><a href=\"/\">Back to your account</a></p>\n");
	web_page_end(&b);
	web_reply_html(r, code, &b);
}

/* ---- sessions and tokens --------------------------------------------------------- */

struct web_session *web_req_session(struct web_req *r)
{
	return r->has_session ? web_session_find_id(r->web->sessions, r->sid) : NULL;
}

static void set_cookie(struct web_req *r, const char *name, const char *value, bool clear)
{
	char line[256];

	snprintf(line, sizeof(line), "%s=%s; Secure; HttpOnly; SameSite=Strict; Path=/%s", name,
		 value, clear ? "; Max-Age=0" : "");
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", line);
}

void web_req_set_session(struct web_req *r, struct web_session *s)
{
	char hex[WEB_TOKEN_HEX];

	web_session_id_hex(s, hex);
	set_cookie(r, WEB_COOKIE, hex, false);
	memcpy(r->sid, s->id, sizeof(r->sid));
	r->has_session = true;
	r->session = s;
}

void web_req_clear_session(struct web_req *r)
{
	set_cookie(r, WEB_COOKIE, "", true);
	r->has_session = false;
	r->session = NULL;
}

struct web_sessions *web_req_sessions(struct web_req *r)
{
	return r->web->sessions;
}

struct auth *web_auth(struct web_req *r)
{
	return r->srv->auth;
}

struct web_session *web_answer_session(struct web_req *r)
{
	struct web_session *s = web_req_session(r);

	web_req_async_done(r);
	if (s == NULL || s->state != WEB_SESSION_ACTIVE) {
		web_error(r, 403, "Your session has ended. Log in again.");
		return NULL;
	}
	r->session = s;
	return s;
}

void web_req_async(struct web_req *r)
{
	r->web->async++;
}

void web_req_async_done(struct web_req *r)
{
	r->web->async--;
}

void web_pre_token(struct web_server *web, const char *pre_cookie, char *out)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const uint8_t *)pre_cookie, strlen(pre_cookie), web->key);
	sodium_bin2hex(out, WEB_TOKEN_HEX, mac, sizeof(mac));
}

void web_format_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "-");
}

/* ---- dispatch -------------------------------------------------------------------- */

/* Reads the cookies the portal uses into r. */
static void read_cookies(struct web_req *r)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
	const struct config *cfg = r->srv->cfg;
	char hex[WEB_TOKEN_HEX];
	struct web_session *s;

	if (h == NULL)
		return;
	if (web_cookie_get(h, strlen(h), WEB_PRE_COOKIE, WEB_COOKIES_MAX, r->pre,
			   sizeof(r->pre)) != 1 || !web_hex_valid(r->pre, 32))
		r->pre[0] = '\0';
	if (web_cookie_get(h, strlen(h), WEB_COOKIE, WEB_COOKIES_MAX, hex, sizeof(hex)) != 1)
		return;
	s = web_session_find(r->web->sessions, hex, time_now(), cfg->web_session_timeout,
			     cfg->web_session_lifetime);
	if (s != NULL) {
		r->session = s;
		memcpy(r->sid, s->id, sizeof(r->sid));
		r->has_session = true;
	}
}

static bool token_equal(const char *given, const char *expected)
{
	return given != NULL && strlen(given) == WEB_TOKEN_HEX - 1 &&
	       CRYPTO_memcmp(given, expected, WEB_TOKEN_HEX - 1) == 0;
}

/* Parses the form of a POST and checks its CSRF token. Answers and
 * returns false on failure (r is freed then). */
static bool post_prepare(struct web_req *r, const struct web_page *page)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(r->req),
					      "Content-Type");
	const struct web_form_limits limits = { WEB_FORM_FIELDS_MAX, 64, PASSWORD_MAX };
	size_t len = evbuffer_get_length(in);
	const char *body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	const char *error, *token;
	char expected[WEB_TOKEN_HEX];

	if (type == NULL || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0 ||
	    (type[33] != '\0' && type[33] != ';')) {
		web_error(r, 415, "This page takes a form (application/x-www-form-urlencoded).");
		return false;
	}
	if (body == NULL || web_form_parse(body, len, &limits, &r->form, &error) < 0) {
		web_error(r, 400, "The form could not be read.");
		return false;
	}
	token = web_form_get(&r->form, "csrf");
	if (page->flags & WEB_PAGE_PRE) {
		if (r->pre[0] != '\0')
			web_pre_token(r->web, r->pre, expected);
		if (r->pre[0] == '\0' || !token_equal(token, expected)) {
			web_error(r, 403, "This form has expired or did not come from this site. "
				  "Go back, reload the page and try again.");
			return false;
		}
	} else if (r->session == NULL || !token_equal(token, r->session->csrf)) {
		web_error(r, 403, "This form has expired or did not come from this site. "
			  "Go back, reload the page and try again.");
		return false;
	}
	return true;
}

/* Sends a page's visitor where the session state allows. Returns false
 * when it answered (r is freed then). */
static bool state_allows(struct web_req *r, const struct web_page *page, bool post)
{
	enum web_session_state need;

	if (page->flags & WEB_PAGE_AUTH)
		need = WEB_SESSION_ACTIVE;
	else if (page->flags & WEB_PAGE_CODE)
		need = WEB_SESSION_NEED_CODE;
	else
		return true;
	if (r->session != NULL && r->session->state == need)
		return true;
	if (post)
		web_error(r, 403, "Your session has ended. Log in again.");
	else
		web_redirect(r, "/login");
	return false;
}

static const struct web_page *page_find(const char *path)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(web_pages); i++) {
		if (strcmp(web_pages[i].path, path) == 0)
			return &web_pages[i];
	}
	return NULL;
}

static void web_dispatch(struct web_req *r, const char *path, bool post)
{
	const struct web_page *page = page_find(path);
	web_page_fn *fn;

	if (page == NULL) {
		web_error(r, 404, "There is no such page.");
		return;
	}
	fn = post ? page->post : page->get;
	if (fn == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Allow",
				  post ? "GET" : "POST");
		web_error(r, 405, post ? "This page cannot be posted to." :
			  "This page only takes a form.");
		return;
	}
	read_cookies(r);
	if (!state_allows(r, page, post))
		return;
	if (post && !post_prepare(r, page))
		return;
	fn(r);
}

static void web_request_cb(struct evhttp_request *req, void *arg)
{
	struct web_server *web = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct web_req *r = xcalloc(1, sizeof(*r));

	r->web = web;
	r->srv = web->srv;
	r->req = req;
	if (!conn_admit(web, req, r->ip)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		web_error(r, 503, "Too many connections; try again later.");
		return;
	}
	if (web->srv->shutting_down) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		web_error(r, 503, "The server is restarting; try again in a moment.");
		return;
	}
	web_dispatch(r, path != NULL && path[0] != '\0' ? path : "/", cmd == EVHTTP_REQ_POST);
}

/* ---- life ------------------------------------------------------------------------ */

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct web_server *web = arg;
	const struct config *cfg = web->srv->cfg;

	web_sessions_expire(web->sessions, time_now(), cfg->web_session_timeout,
			    cfg->web_session_lifetime);
}

static int web_bind(struct web_server *web, const int *fds, unsigned n, char **error_r)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		web->bound[i] = evhttp_accept_socket_with_handle(web->http, fds[i]);
		if (web->bound[i] == NULL) {
			*error_r = xasprintf("web: cannot accept on the https socket");
			while (++i < n)
				close(fds[i]);
			return -1;
		}
		web->n_bound++;
	}
	return 0;
}

struct web_server *web_server_new(struct server *srv, const int *fds, unsigned n,
				  char **error_r)
{
	struct web_server *web = xcalloc(1, sizeof(*web));
	struct timeval tv = { WEB_SWEEP_SECONDS, 0 };

	if (ssl_tls_index < 0 &&
	    (ssl_tls_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_tls_free)) < 0)
		fatal("web: SSL_get_ex_new_index failed");
	web->srv = srv;
	web->tls = srv->tls;
	if (web->tls == NULL || (web->http = evhttp_new(srv->base)) == NULL) {
		*error_r = xasprintf("[listen] https needs a certificate in [tls]");
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		free(web);
		return NULL;
	}
	tls_ctx_ref(web->tls);
	randombytes_buf(web->key, sizeof(web->key));
	web->sessions = web_sessions_new();
	evhttp_set_bevcb(web->http, web_bevcb, web);
	evhttp_set_gencb(web->http, web_request_cb, web);
	evhttp_set_allowed_methods(web->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_headers_size(web->http, WEB_HEADERS_MAX);
	evhttp_set_max_body_size(web->http, WEB_BODY_MAX);
	evhttp_set_timeout(web->http, WEB_TIMEOUT);
	web->sweep = event_new(srv->base, -1, EV_PERSIST, sweep_cb, web);
	if (web->sweep == NULL || event_add(web->sweep, &tv) < 0)
		fatal("web: cannot start the session timer");
	if (web_bind(web, fds, n, error_r) < 0) {
		web_server_free(&web);
		return NULL;
	}
	log_info("listening service=https sockets=%u", n);
	return web;
}

void web_server_stop(struct web_server *web)
{
	unsigned i;

	for (i = 0; i < web->n_bound; i++)
		evhttp_del_accept_socket(web->http, web->bound[i]);
	web->n_bound = 0;
}

void web_server_free(struct web_server **webp)
{
	struct web_server *web = *webp;

	if (web == NULL)
		return;
	if (web->async > 0)
		log_warn("web: %u requests still waiting at exit", web->async);
	if (web->http != NULL)
		evhttp_free(web->http);	/* closes connections: conn_closed runs */
	while (web->conns != NULL)	/* ones evhttp did not count as connected */
		conn_closed(NULL, web->conns);
	if (web->sweep != NULL)
		event_free(web->sweep);
	web_sessions_free(&web->sessions);
	tls_ctx_unref(&web->tls);
	OPENSSL_cleanse(web->key, sizeof(web->key));
	free(web);
	*webp = NULL;
}

unsigned web_server_sessions(const struct web_server *web)
{
	return web_sessions_count(web->sessions);
}
