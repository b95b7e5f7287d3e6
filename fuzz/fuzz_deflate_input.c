/*
 * libFuzzer target for COMPRESS=DEFLATE input (src/net/compress.c under
 * src/net/conn.c): the input is what a hostile client sends after COMPRESS,
 * written into one end of a socketpair whose other end is a conn with
 * deflate on. The reader takes what is inflated and now and then pauses
 * for a loop turn, as an IMAP session waiting for a job does. Besides
 * memory errors it checks what the filter promises: inflated input never
 * runs far past the read limit, however well the bytes compress, and the
 * conn settles (peer closed, or an error for a broken stream) within a
 * bounded number of loop turns: no spin, no input stuck below the filter.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "net/conn.h"
#include "fuzz_check.h"

/* conn.c's read limit (256 KiB) plus one inflate chunk and slack */
#define INPUT_BOUND (256 * 1024 + 2 * 16384)
#define MAX_TURNS 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	unsigned reads;
	bool paused;
	bool closed;	/* the client's side ended */
	bool failed;	/* the stream was rejected */
};

static void on_read(struct conn *conn, void *ctx)
{
	struct reader *r = ctx;
	struct evbuffer *in = conn_input(conn);

	CHECK(evbuffer_get_length(in) <= INPUT_BOUND);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (++r->reads % 3 == 0) {
		conn_pause(conn, true);
		r->paused = true;
	}
}

static void on_event(struct conn *conn, void *ctx, enum conn_event ev)
{
	struct reader *r = ctx;

	(void)conn;
	if (ev == CONN_EVENT_CLOSED)
		r->closed = true;
	else if (ev == CONN_EVENT_ERROR)
		r->failed = true;
}

/* Rejected, or all the client sent went through the filter. */
static bool settled(struct conn *conn, const struct reader *r)
{
	struct bufferevent *lower = bufferevent_get_underlying(conn->bev);

	return r->failed ||
	       (r->closed && evbuffer_get_length(bufferevent_get_input(lower)) == 0);
}

/* Feeds the client's bytes, closing its side once all are written. */
static size_t feed(int fd, const uint8_t *data, size_t size, size_t sent)
{
	ssize_t n;

	if (sent < size) {
		n = write(fd, data + sent, size - sent);
		if (n > 0)
			sent += (size_t)n;
		if (sent == size)
			shutdown(fd, SHUT_WR);
	}
	return sent;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un peer = { .sun_family = AF_UNIX };
	struct reader r = { 0 };
	struct event_base *base;
	struct conn *conn;
	size_t sent = 0;
	int sv[2], turn;

	log_set_level(LOG_LEVEL_ERROR);
	base = event_base_new();
	CHECK(base != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	conn = conn_new(base, sv[0], (struct sockaddr *)&peer, SERVICE_IMAP, NULL, false);
	CHECK(conn != NULL);
	conn_set_callbacks(conn, on_read, on_event, NULL, &r);
	CHECK(conn_start_deflate(conn) == 0);
	sent = feed(sv[1], data, size, sent);
	if (size == 0)
		shutdown(sv[1], SHUT_WR);
	for (turn = 0; turn < MAX_TURNS && !settled(conn, &r); turn++) {
		if (r.paused) {
			conn_pause(conn, false);
			r.paused = false;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		sent = feed(sv[1], data, size, sent);
	}
	CHECK(settled(conn, &r));
	conn_free(&conn);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	close(sv[1]);
	return 0;
}
