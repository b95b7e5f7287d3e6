/*
 * COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951) in both directions
 * under the connection, as a libevent filter bufferevent over the plain or
 * TLS one, so that data is compressed before it is encrypted (RFC 4978 3),
 * with zlib doing the work.
 *
 * Output: each write the session makes is deflated and ends with a
 * Z_SYNC_FLUSH, so a reply never waits in the compressor for data the
 * client will not send before it has read that reply.
 * Input: inflates no more than the session's read limit allows (the
 * filter's read high-watermark), so a small compressed burst cannot become
 * an unbounded amount of memory; the rest waits in the lower buffer until
 * conn.c runs the filter again. A stream that does not inflate ends the
 * connection: there is no way to find the next command in it.
 *
 * Everything about when callbacks run (output sent, input left below the
 * filter, timeouts) is in conn.c; this file only moves bytes through zlib.
 */
#include "net/conn.h"
#include "core/log.h"
#include "core/util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16384

struct deflate_ctx {
	z_stream in;		/* inflate: client to server */
	z_stream out;		/* deflate: server to client */
	struct conn *conn;	/* borrowed: owns the filter that owns us */
	bool failed;		/* a stream broke; the connection is ending */
};

static void ctx_free(void *p)
{
	struct deflate_ctx *z = p;

	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
}

/* Logs once and reports an error on the filter, which the session sees as
 * CONN_EVENT_ERROR (from the loop: the filter defers its callbacks). */
static enum bufferevent_filter_result fail(struct deflate_ctx *z, const char *what,
					   const z_stream *zs)
{
	if (!z->failed)
		log_info("conn=%s:%u deflate_error=%s zlib=\"%s\"", z->conn->peer_ip,
			 z->conn->peer_port, what, zs->msg != NULL ? zs->msg : "-");
	z->failed = true;
	bufferevent_trigger_event(z->conn->bev, BEV_EVENT_ERROR | BEV_EVENT_READING,
				  BEV_TRIG_DEFER_CALLBACKS);
	return BEV_ERROR;
}

/* One inflate() or deflate() call: in_len bytes of src in, up to CHUNK
 * bytes out into dst. Drains what zlib took; returns zlib's code
 * (Z_MEM_ERROR if dst has no room). */
static int zlib_step(z_stream *zs, struct evbuffer *src, struct evbuffer *dst, size_t in_len,
		     int (*fn)(z_streamp, int), int flush, size_t *used_r, size_t *made_r)
{
	struct evbuffer_iovec out;
	int rc;

	*used_r = *made_r = 0;
	zs->next_in = in_len > 0 ? evbuffer_pullup(src, (ev_ssize_t)in_len) : NULL;
	zs->avail_in = (uInt)in_len;
	if (evbuffer_reserve_space(dst, CHUNK, &out, 1) < 1)
		return Z_MEM_ERROR;
	zs->next_out = out.iov_base;
	zs->avail_out = CHUNK;
	rc = fn(zs, flush);
	out.iov_len = CHUNK - zs->avail_out;
	evbuffer_commit_space(dst, &out, 1);
	*used_r = in_len - zs->avail_in;
	evbuffer_drain(src, *used_r);
	*made_r = out.iov_len;
	return rc;
}

/* Inflates src into dst until src is empty or at least `limit` bytes came
 * out (limit < 0: no limit; the excess is under one CHUNK). Returns 0, or
 * -1 if src is not deflate or goes on after the end of the stream.
 * Once src is empty, zlib gives out all it holds whatever the limit: that
 * is at most one match (258 octets) and the bits in hand, and nobody
 * would call us again for it, as the filter runs only while src has
 * bytes. */
static int inflate_input(z_stream *zs, struct evbuffer *src, struct evbuffer *dst,
			 ev_ssize_t limit)
{
	size_t in_len, used, made, produced = 0;
	int rc;

	for (;;) {
		in_len = evbuffer_get_length(src);
		if (in_len > CHUNK)
			in_len = CHUNK;
		rc = zlib_step(zs, src, dst, in_len, inflate, Z_SYNC_FLUSH, &used, &made);
		produced += made;
		if (rc == Z_STREAM_END && evbuffer_get_length(src) > 0)
			return -1;	/* bytes after the final block */
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
			return -1;
		if (used == 0 && made == 0)	/* no progress */
			return evbuffer_get_length(src) > 0 ? -1 : 0;
		if (evbuffer_get_length(src) == 0) {
			/* A full output chunk: zlib may hold decoded bytes it
			 * had no room for, even with all input taken. */
			if (zs->avail_out != 0)
				return 0;
		} else if (limit >= 0 && produced >= (size_t)limit) {
			return 0;	/* the rest when the session has read */
		}
	}
}

/* Deflates all of src into dst. The last piece goes with Z_SYNC_FLUSH,
 * which ends on a byte boundary with everything so far decodable by the
 * client; earlier pieces of a large write use Z_NO_FLUSH so they compress
 * together. Returns 0 or -1. */
static int deflate_output(z_stream *zs, struct evbuffer *src, struct evbuffer *dst)
{
	size_t in_len, left, used, made;
	int flush, rc;

	do {
		left = evbuffer_get_length(src);
		in_len = left > CHUNK ? CHUNK : left;
		flush = in_len == left ? Z_SYNC_FLUSH : Z_NO_FLUSH;
		rc = zlib_step(zs, src, dst, in_len, deflate, flush, &used, &made);
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -1;
		/* zlib: a flush that filled the output must be called again */
	} while (evbuffer_get_length(src) > 0 || zs->avail_out == 0);
	return 0;
}

static enum bufferevent_filter_result input_filter(struct evbuffer *src, struct evbuffer *dst,
						   ev_ssize_t limit, enum bufferevent_flush_mode mode,
						   void *p)
{
	struct deflate_ctx *z = p;

	(void)mode;
	if (z->failed)
		return BEV_ERROR;
	if (inflate_input(&z->in, src, dst, limit) < 0)
		return fail(z, "inflate", &z->in);
	return BEV_OK;
}

static enum bufferevent_filter_result output_filter(struct evbuffer *src, struct evbuffer *dst,
						    ev_ssize_t limit, enum bufferevent_flush_mode mode,
						    void *p)
{
	struct deflate_ctx *z = p;

	/* Every write was flushed, so zlib holds nothing for BEV_FLUSH or
	 * BEV_FINISHED to push out; and the lower output has no high-water
	 * mark, so there is no limit to honour. */
	(void)limit;
	(void)mode;
	if (z->failed)
		return BEV_ERROR;
	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	if (deflate_output(&z->out, src, dst) < 0)
		return fail(z, "deflate", &z->out);
	return BEV_OK;
}

int conn_start_deflate(struct conn *conn)
{
	struct deflate_ctx *z = xcalloc(1, sizeof(*z));
	struct bufferevent *filter;

	z->conn = conn;
	/* RFC 4978 4: raw deflate, no zlib header */
	if (inflateInit2(&z->in, -15) != Z_OK ||
	    deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		ctx_free(z);
		return -1;
	}
	/* deferred callbacks: the session hears from the filter from the loop,
	 * as from a socket, never from inside its own conn_write() */
	filter = bufferevent_filter_new(conn->bev, input_filter, output_filter,
					BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, ctx_free, z);
	if (filter == NULL) {
		ctx_free(z);
		return -1;
	}
	conn_replace_bev(conn, filter);
	return 0;
}
