/*
 * Connections over libevent bufferevents. A plain connection uses a socket
 * bufferevent that does not own the fd, so that STARTTLS can free it and
 * put an OpenSSL bufferevent (which then owns fd and SSL) on the same
 * socket: no filter layering, and whatever the plain bufferevent had
 * buffered is discarded with it, as RFC 3207 5 requires.
 *
 * COMPRESS (compress.c) is the one layering: conn->bev becomes a filter
 * over the socket or TLS bufferevent. The filter hands output down at once
 * and libevent does not tell it when the lower bufferevent has sent it, so
 * this file watches the lower output buffer itself: output counts as sent
 * when both layers are empty. Likewise, compressed input the filter left
 * below while reading was off is run through it when reading resumes.
 */
#include "net/conn.h"
#include "net/tls.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONN_READ_HIGH_WATER (256 * 1024)

struct conn_private {
	struct conn pub;
	bool bev_owns_fd;
	bool switch_to_tls;	/* STARTTLS reply queued; switch once sent */
	bool paused;		/* by the session */
	bool throttled;		/* by output backpressure */
	size_t drain_mark;
	/* under COMPRESS: bytes left the socket (owned by the lower output) */
	struct evbuffer_cb_entry *lower_output_watch;
};

static struct conn_private *priv(struct conn *conn)
{
	return (struct conn_private *)conn;
}

/* The socket or TLS bufferevent under the COMPRESS filter, or NULL. */
static struct bufferevent *lower_bev(const struct conn *conn)
{
	return conn->compressed && conn->bev != NULL ? bufferevent_get_underlying(conn->bev) : NULL;
}

/* Output written but not yet taken by the kernel, on both layers. */
static size_t pending_output(const struct conn *conn)
{
	struct bufferevent *lower = lower_bev(conn);
	size_t n;

	if (conn->bev == NULL)
		return 0;
	n = evbuffer_get_length(bufferevent_get_output(conn->bev));
	if (lower != NULL)
		n += evbuffer_get_length(bufferevent_get_output(lower));
	return n;
}

/* Compressed input left below the filter while reading was off (paused,
 * throttled, or bytes that came with the COMPRESS command) is otherwise
 * looked at only when the socket brings more, which may be never: run it
 * through from the loop. (Input left because the filter's buffer was full
 * libevent runs itself once the session reads: 2.1.6, "be_filter: avoid
 * data stuck under active watermarks".) */
static void kick_lower_input(struct conn *conn)
{
	struct bufferevent *lower = lower_bev(conn);

	if (lower != NULL && evbuffer_get_length(bufferevent_get_input(lower)) > 0)
		bufferevent_trigger(lower, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void conn_update_reading(struct conn *conn)
{
	struct conn_private *p = priv(conn);

	if (conn->bev == NULL)
		return;
	if (p->paused || p->throttled || conn->closing || p->switch_to_tls) {
		bufferevent_disable(conn->bev, EV_READ);
	} else {
		bufferevent_enable(conn->bev, EV_READ);
		kick_lower_input(conn);
	}
}

static void address_text(const struct sockaddr *sa, char *ip, size_t iplen, uint16_t *port_r,
			 bool *loopback_r)
{
	if (sa->sa_family == AF_UNIX) {
		/* local submission: the peer is a uid (SO_PEERCRED), not an IP */
		snprintf(ip, iplen, "local");
		*port_r = 0;
		*loopback_r = false;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
			*loopback_r = s6->sin6_addr.s6_addr[12] == 127;
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
			*loopback_r = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		}
		*port_r = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		*loopback_r = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
		*port_r = ntohs(s4->sin_port);
	}
}

static void apply_timeouts(struct conn *conn)
{
	struct timeval tv = { .tv_sec = conn->tls_pending ? TLS_HANDSHAKE_TIMEOUT : conn->timeout };
	const struct timeval *t = tv.tv_sec ? &tv : NULL;
	struct bufferevent *lower = lower_bev(conn);

	if (conn->bev == NULL)
		return;
	if (lower != NULL) {
		/* One timer per direction: the client idles above the filter,
		 * output stalls below it (the filter's own output buffer is
		 * always empty, so a write timer there means nothing). */
		bufferevent_set_timeouts(conn->bev, t, NULL);
		bufferevent_set_timeouts(lower, NULL, t);
		return;
	}
	bufferevent_set_timeouts(conn->bev, t, t);
}

static void start_tls(struct conn *conn);

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;

	if (conn->on_read != NULL && !conn->closing)
		conn->on_read(conn, conn->ctx);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	struct conn_private *p = priv(conn);
	size_t left = pending_output(conn);

	if (p->throttled && left <= CONN_OUTPUT_HIGH_WATER / 2) {
		p->throttled = false;
		conn_update_reading(conn);
	}
	if (left > 0 && left > p->drain_mark)
		return;
	if (p->switch_to_tls && left == 0) {
		start_tls(conn);
		return;
	}
	if (conn->closing) {
		if (left == 0 && conn->on_event != NULL)
			conn->on_event(conn, conn->ctx, CONN_EVENT_DONE);
		return;
	}
	if (conn->on_drained != NULL)
		conn->on_drained(conn, conn->ctx);
}

static void log_tls_errors(struct conn *conn)
{
	unsigned long e;
	char msg[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_info("conn=%s:%u tls_error=\"%s\"", conn->peer_ip, conn->peer_port, msg);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *conn = arg;
	enum conn_event ev;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);

		conn->tls = true;
		conn->tls_pending = false;
		if (ssl != NULL)
			tls_describe(ssl, conn->tls_info, sizeof(conn->tls_info));
		apply_timeouts(conn);
		ev = CONN_EVENT_TLS_READY;
	} else if (what & BEV_EVENT_TIMEOUT) {
		ev = CONN_EVENT_TIMEOUT;
	} else if (what & BEV_EVENT_ERROR) {
		log_tls_errors(conn);
		ev = CONN_EVENT_ERROR;
	} else if (what & BEV_EVENT_EOF) {
		ev = CONN_EVENT_CLOSED;
	} else {
		return;
	}
	if (conn->on_event != NULL)
		conn->on_event(conn, conn->ctx, ev);
}

static void setup_bev(struct conn *conn)
{
	bufferevent_setcb(conn->bev, read_cb, write_cb, event_cb, conn);
	bufferevent_setwatermark(conn->bev, EV_READ, 0, CONN_READ_HIGH_WATER);
	bufferevent_setwatermark(conn->bev, EV_WRITE, priv(conn)->drain_mark, 0);
	apply_timeouts(conn);
	bufferevent_enable(conn->bev, EV_WRITE);
	conn_update_reading(conn);
}

/* Puts an accepting OpenSSL bufferevent on the socket. */
static int attach_tls(struct conn *conn)
{
	SSL *ssl = tls_ctx_new_ssl(conn->tls_ctx);

	if (ssl == NULL)
		return -1;
	conn->bev = bufferevent_openssl_socket_new(conn->base, conn->fd, ssl,
						   BUFFEREVENT_SSL_ACCEPTING,
						   BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		SSL_free(ssl);
		return -1;
	}
	priv(conn)->bev_owns_fd = true;
	bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
	conn->tls_pending = true;
	setup_bev(conn);
	return 0;
}

static void start_tls(struct conn *conn)
{
	struct conn_private *p = priv(conn);

	p->switch_to_tls = false;
	bufferevent_free(conn->bev);
	conn->bev = NULL;
	if (attach_tls(conn) < 0) {
		log_error("conn=%s:%u cannot start TLS", conn->peer_ip, conn->peer_port);
		if (conn->on_event != NULL)
			conn->on_event(conn, conn->ctx, CONN_EVENT_ERROR);
	}
}

struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *peer,
		      enum service service, struct tls_ctx *tls_ctx, bool implicit_tls)
{
	struct conn_private *p = xcalloc(1, sizeof(*p));
	struct conn *conn = &p->pub;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	bool dummy;

	conn->base = base;
	conn->fd = fd;
	conn->service = service;
	conn->timeout = 300;
	address_text(peer, conn->peer_ip, sizeof(conn->peer_ip), &conn->peer_port, &conn->loopback);
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		address_text((struct sockaddr *)&local, conn->local_ip, sizeof(conn->local_ip),
			     &conn->local_port, &dummy);
	if (tls_ctx != NULL) {
		conn->tls_ctx = tls_ctx;
		tls_ctx_ref(tls_ctx);
	}
	evutil_make_socket_nonblocking(fd);
	if (implicit_tls) {
		if (tls_ctx == NULL || attach_tls(conn) < 0) {
			conn->fd = -1;	/* the caller still owns fd */
			conn_free(&conn);
			return NULL;
		}
		return conn;
	}
	conn->bev = bufferevent_socket_new(base, fd, 0);
	if (conn->bev == NULL) {
		conn->fd = -1;
		conn_free(&conn);
		return NULL;
	}
	setup_bev(conn);
	return conn;
}

/* Under COMPRESS the filter runs write_cb when it hands bytes down, not
 * when the socket has taken them, which is what "drained" and "done"
 * mean: wake write_cb (which counts both layers) as the lower buffer
 * empties. */
static void lower_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *conn = arg;

	if (info->n_deleted > 0 && conn->bev != NULL)
		bufferevent_trigger(conn->bev, EV_WRITE,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void conn_replace_bev(struct conn *conn, struct bufferevent *bev)
{
	struct conn_private *p = priv(conn);
	struct bufferevent *lower = conn->bev;

	conn->bev = bev;
	conn->compressed = true;
	p->lower_output_watch = evbuffer_add_cb(bufferevent_get_output(lower), lower_output_cb, conn);
	if (p->lower_output_watch == NULL)
		fatal("conn: out of memory");
	/* also moves the timeouts and runs what the client sent after the
	 * command that started this through the filter */
	setup_bev(conn);
}

static void unwatch_lower(struct conn *conn)
{
	struct conn_private *p = priv(conn);
	struct bufferevent *lower = lower_bev(conn);

	if (lower != NULL && p->lower_output_watch != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(lower), p->lower_output_watch);
	p->lower_output_watch = NULL;
}

void conn_free(struct conn **connp)
{
	struct conn *conn = *connp;

	if (conn == NULL)
		return;
	if (conn->bev != NULL) {
		unwatch_lower(conn);
		bufferevent_setcb(conn->bev, NULL, NULL, NULL, NULL);
		bufferevent_free(conn->bev);
	}
	if (!priv(conn)->bev_owns_fd && conn->fd >= 0)
		close(conn->fd);
	tls_ctx_unref(&conn->tls_ctx);
	free(priv(conn));
	*connp = NULL;
}

void conn_set_callbacks(struct conn *conn, conn_read_fn *on_read, conn_event_fn *on_event,
			conn_drained_fn *on_drained, void *ctx)
{
	conn->on_read = on_read;
	conn->on_event = on_event;
	conn->on_drained = on_drained;
	conn->ctx = ctx;
}

void conn_set_timeout(struct conn *conn, unsigned seconds)
{
	conn->timeout = seconds;
	if (!conn->tls_pending)
		apply_timeouts(conn);
}

void conn_pause(struct conn *conn, bool paused)
{
	priv(conn)->paused = paused;
	conn_update_reading(conn);
	/* Input that arrived while paused is already buffered: resuming must
	 * look at it even if no new bytes come (compressed input left below
	 * the filter: conn_update_reading). */
	if (!paused && conn->bev != NULL && conn->on_read != NULL && !conn->closing &&
	    evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0)
		bufferevent_trigger(conn->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void conn_set_drain_mark(struct conn *conn, size_t bytes)
{
	priv(conn)->drain_mark = bytes;
	if (conn->bev != NULL)
		bufferevent_setwatermark(conn->bev, EV_WRITE, bytes, 0);
}

struct evbuffer *conn_input(struct conn *conn)
{
	return bufferevent_get_input(conn->bev);
}

size_t conn_output_len(struct conn *conn)
{
	return pending_output(conn);
}

void conn_write(struct conn *conn, const void *data, size_t len)
{
	struct conn_private *p = priv(conn);

	if (conn->bev == NULL)
		return;
	bufferevent_write(conn->bev, data, len);
	if (!p->throttled && conn_output_len(conn) > CONN_OUTPUT_HIGH_WATER) {
		p->throttled = true;
		conn_update_reading(conn);
	}
}

void conn_printf(struct conn *conn, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	conn_write(conn, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

bool conn_can_tls(struct conn *conn)
{
	return conn->tls_ctx != NULL;
}

void conn_starttls(struct conn *conn, const char *reply)
{
	struct conn_private *p = priv(conn);
	struct evbuffer *in = bufferevent_get_input(conn->bev);

	/* Stop reading first: bytes after this point belong to TLS. */
	p->switch_to_tls = true;
	conn_update_reading(conn);
	evbuffer_drain(in, evbuffer_get_length(in));
	conn->tls_pending = true;
	conn_write(conn, reply, strlen(reply));
}

void conn_close_after_write(struct conn *conn)
{
	conn->closing = true;
	conn_update_reading(conn);
	/* A write timeout disables writing: turn it back on, so that the last
	 * output drains or times out again (CONN_EVENT_TIMEOUT while closing),
	 * instead of the session waiting forever. */
	if (conn->bev != NULL)
		bufferevent_enable(conn->bev, EV_WRITE);
	if (lower_bev(conn) != NULL)
		bufferevent_enable(lower_bev(conn), EV_WRITE);
	if (conn->bev != NULL && conn_output_len(conn) == 0) {
		/* Nothing to flush: report from the loop, not from inside the
		 * caller's stack. */
		bufferevent_trigger(conn->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	}
}

int conn_starttls_client(struct conn *conn, SSL *ssl)
{
	struct conn_private *p = priv(conn);

	/* RFC 3207 4.2 / 5: nothing the server sent before the handshake
	 * counts afterwards. */
	bufferevent_setcb(conn->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(conn->bev);
	conn->bev = bufferevent_openssl_socket_new(conn->base, conn->fd, ssl,
						   BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		SSL_free(ssl);
		return -1;
	}
	p->bev_owns_fd = true;
	bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
	conn->tls_pending = true;
	setup_bev(conn);
	return 0;
}
