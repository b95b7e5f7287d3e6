/*
 * COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951) in both directions
 * under the connection, as a libevent filter bufferevent over the plain or
 * TLS one, with zlib doing the compression. Output is flushed with
 * Z_SYNC_FLUSH whenever the session has written a reply, so nothing waits
 * in the compressor; input inflates no faster than the session's read
 * limit allows (dst_limit), so a small compressed burst cannot become an
 * unbounded amount of memory.
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
	z_stream in;	/* inflate */
	z_stream out;	/* deflate */
};

static void ctx_free(void *p)
{
	struct deflate_ctx *z = p;

	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
}

/* Runs zlib over every chunk of src into dst, draining src. */
static enum bufferevent_filter_result run_zlib(struct evbuffer *src, struct evbuffer *dst,
					       z_stream *zs, bool inflating, int flush,
					       ev_ssize_t limit)
{
	struct evbuffer_iovec out;
	unsigned char *data;
	size_t avail, produced = 0;
	int rc;

	for (;;) {
		avail = evbuffer_get_length(src);
		if (avail == 0 && (inflating || flush == Z_NO_FLUSH))
			break;
		if (limit > 0 && produced >= (size_t)limit)
			return BEV_OK;
		data = avail ? evbuffer_pullup(src, (ev_ssize_t)(avail < CHUNK ? avail : CHUNK)) : NULL;
		zs->next_in = data;
		zs->avail_in = (uInt)(avail < CHUNK ? avail : CHUNK);
		if (evbuffer_reserve_space(dst, CHUNK, &out, 1) < 1)
			return BEV_ERROR;
		zs->next_out = out.iov_base;
		zs->avail_out = CHUNK;
		rc = inflating ? inflate(zs, Z_SYNC_FLUSH) : deflate(zs, flush);
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
			return BEV_ERROR;
		out.iov_len = CHUNK - zs->avail_out;
		evbuffer_commit_space(dst, &out, 1);
		produced += out.iov_len;
		evbuffer_drain(src, (avail < CHUNK ? avail : CHUNK) - zs->avail_in);
		if (zs->avail_out != 0 && evbuffer_get_length(src) == 0)
			break;	/* all input taken and the output flushed */
	}
	return produced > 0 || inflating ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result input_filter(struct evbuffer *src, struct evbuffer *dst,
						   ev_ssize_t limit, enum bufferevent_flush_mode mode,
						   void *p)
{
	struct deflate_ctx *z = p;

	return run_zlib(src, dst, &z->in, true, Z_SYNC_FLUSH, limit);
}

static enum bufferevent_filter_result output_filter(struct evbuffer *src, struct evbuffer *dst,
						    ev_ssize_t limit, enum bufferevent_flush_mode mode,
						    void *p)
{
	struct deflate_ctx *z = p;

	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	/* each write is a complete reply: flush it to the client now */
	return run_zlib(src, dst, &z->out, false, Z_SYNC_FLUSH, -1);
}

int conn_start_deflate(struct conn *conn)
{
	struct deflate_ctx *z = xcalloc(1, sizeof(*z));
	struct bufferevent *under = conn->bev, *filter;

	/* RFC 4978 4: raw deflate, no zlib header */
	if (inflateInit2(&z->in, -15) != Z_OK ||
	    deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		ctx_free(z);
		return -1;
	}
	filter = bufferevent_filter_new(under, input_filter, output_filter, BEV_OPT_CLOSE_ON_FREE,
					ctx_free, z);
	if (filter == NULL) {
		ctx_free(z);
		return -1;
	}
	conn_replace_bev(conn, filter);
	/* compressed bytes the client sent right after COMPRESS are already
	 * in the lower buffer: run them through the filter now */
	if (evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	return 0;
}
