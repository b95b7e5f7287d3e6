/*
 * A client connection: one socket, one bufferevent (plain or TLS), the
 * peer's address, timeouts, and the two transitions every mail protocol
 * needs: STARTTLS (RFC 3207 5: input buffered before the switch is thrown
 * away) and "write the last reply, then close".
 *
 * The protocol session owns the conn and gets callbacks:
 *   on_read    input arrived (read it from conn_input())
 *   on_event   CONN_EVENT_* : the peer closed, an error, a timeout, or the
 *              TLS handshake finished; after CLOSED/ERROR/TIMEOUT the
 *              session should end (conn_close_after_write or conn_free)
 *   on_drained output fell to the low watermark (streaming large replies)
 * Callbacks never free the conn under the caller's feet; a session frees
 * itself through server_session_release(), which defers the free.
 */
#ifndef TERN_NET_CONN_H
#define TERN_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"

struct bufferevent;
struct evbuffer;
struct event_base;
struct tls_ctx;
typedef struct ssl_st SSL;

enum conn_event {
	CONN_EVENT_CLOSED,	/* peer closed its side */
	CONN_EVENT_ERROR,	/* socket or TLS error */
	CONN_EVENT_TIMEOUT,	/* no input within the timeout */
	CONN_EVENT_TLS_READY,	/* TLS handshake finished */
	CONN_EVENT_DONE,	/* conn_close_after_write() finished writing */
};

struct conn;
typedef void conn_read_fn(struct conn *conn, void *ctx);
typedef void conn_event_fn(struct conn *conn, void *ctx, enum conn_event ev);
typedef void conn_drained_fn(struct conn *conn, void *ctx);

struct conn {
	struct event_base *base;	/* borrowed */
	struct bufferevent *bev;	/* owned */
	int fd;				/* owned */
	enum service service;
	char peer_ip[64];
	uint16_t peer_port;
	char local_ip[64];
	uint16_t local_port;
	bool loopback;			/* peer is 127.0.0.0/8 or ::1 */
	bool tls;			/* TLS handshake completed */
	bool tls_pending;		/* STARTTLS or implicit TLS in progress */
	bool closing;			/* writing the last output, then done */
	bool compressed;		/* COMPRESS=DEFLATE is on */
	char tls_info[96];		/* "TLSv1.3 TLS_AES_..." once tls */
	unsigned timeout;		/* seconds of read inactivity allowed */
	struct tls_ctx *tls_ctx;	/* counted reference, or NULL */
	conn_read_fn *on_read;
	conn_event_fn *on_event;
	conn_drained_fn *on_drained;
	void *ctx;
};

/* Wraps an accepted socket. With implicit TLS the handshake starts now and
 * CONN_EVENT_TLS_READY follows. Returns NULL if TLS could not start. */
struct conn *conn_new(struct event_base *base, int fd, const struct sockaddr *peer,
		      enum service service, struct tls_ctx *tls_ctx, bool implicit_tls);
void conn_free(struct conn **conn);

void conn_set_callbacks(struct conn *conn, conn_read_fn *on_read, conn_event_fn *on_event,
			conn_drained_fn *on_drained, void *ctx);
void conn_set_timeout(struct conn *conn, unsigned seconds);
/* Stops or resumes reading input (while a slow job runs, for example). */
void conn_pause(struct conn *conn, bool paused);
/* Calls on_drained when pending output falls to `bytes` or below. */
void conn_set_drain_mark(struct conn *conn, size_t bytes);

/* Plain input (inflated under COMPRESS). Fetch it again after any command
 * that may start COMPRESS: the buffer changes then. */
struct evbuffer *conn_input(struct conn *conn);
/* Bytes written and not yet taken by the kernel; under COMPRESS the
 * compressed ones waiting below the filter count. */
size_t conn_output_len(struct conn *conn);
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_printf(struct conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True if this listener can do TLS at all. */
bool conn_can_tls(struct conn *conn);
/* Writes reply (the "ready to start TLS" line), throws away any input
 * already buffered, and starts the TLS handshake once reply is sent.
 * CONN_EVENT_TLS_READY or CONN_EVENT_ERROR follows. */
void conn_starttls(struct conn *conn, const char *reply);
/* Starts raw deflate in both directions (RFC 4978) after what is queued;
 * input already buffered is taken as compressed. A stream that does not
 * inflate is reported as CONN_EVENT_ERROR. Returns 0 or -1. */
int conn_start_deflate(struct conn *conn);
/* For net/ only: puts bev (a filter over the current one) in its place,
 * and runs the input already buffered below through it. */
void conn_replace_bev(struct conn *conn, struct bufferevent *bev);
/* Client side: throws away any input buffered in plaintext and starts a
 * TLS handshake as the client on ssl (taken over, freed with the conn).
 * CONN_EVENT_TLS_READY or CONN_EVENT_ERROR follows. Returns -1 (ssl
 * freed) if the TLS bufferevent cannot be made. */
int conn_starttls_client(struct conn *conn, SSL *ssl);
/* Stops reading, writes out what is queued, then reports CONN_EVENT_DONE. */
void conn_close_after_write(struct conn *conn);

#endif
