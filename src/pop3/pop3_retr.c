/*
 * RETR and TOP: the message is written out in chunks as the client reads
 * it (a 50 MB message never sits in memory), byte-stuffed (RFC 1939 3),
 * and for TOP cut after the header and the requested number of body lines
 * (RFC 1939 7). The stored form is CRLF-canonical (smtp_data.c), so the
 * octet count in LIST is exact.
 */
#include "pop3/pop3_parse.h"
#include "pop3/pop3_session.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RETR_CHUNK (64 * 1024)
#define RETR_OUTPUT_TARGET (256 * 1024)

void pop3_stream_free(struct pop3_stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	store_message_body_free(&st->body);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

static void write_stuffed(struct pop3_session *s, const char *data, size_t len)
{
	char out[2 * RETR_CHUNK];
	size_t n;

	n = pop3_stuff(data, len, out, &s->stream.at_line_start);
	conn_write(s->conn, out, n);
}

/* Passes one chunk through the TOP cut and the stuffing. */
static void emit(struct pop3_session *s, const char *data, size_t len)
{
	struct pop3_stream *st = &s->stream;
	size_t i = 0, plen;
	const char *nl;

	while (i < len && !st->done) {
		nl = memchr(data + i, '\n', len - i);
		plen = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
		if (st->top && st->in_body && st->line_bytes == 0 && st->body_lines == 0) {
			st->done = true;
			break;
		}
		write_stuffed(s, data + i, plen);
		st->line_bytes += plen;
		if (nl != NULL) {
			bool cr = plen >= 2 ? nl[-1] == '\r' : st->last_cr;

			if (!st->in_body && (st->line_bytes == 1 || (st->line_bytes == 2 && cr)))
				st->in_body = true;
			else if (st->in_body && st->body_lines > 0)
				st->body_lines--;
			st->line_bytes = 0;
			st->last_cr = false;
		} else {
			st->last_cr = data[i + plen - 1] == '\r';
		}
		i += plen;
	}
}

/* Emits the next chunk; returns false when the message is exhausted. */
static bool next_chunk(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	char buf[RETR_CHUNK];
	const char *src;
	size_t len, n;
	ssize_t r;

	if (st->in_prefix) {
		src = st->body.prefix;
		len = st->body.prefix_len;
	} else if (st->fd < 0) {
		src = st->body.data;
		len = st->body.data_len;
	} else {
		r = pread(st->fd, buf, sizeof(buf), (off_t)st->pos);
		if (r < 0) {
			log_error("session=%s retr read error=\"%s\"", s->ss.id, strerror(errno));
			return false;
		}
		if (r == 0)
			return false;
		st->pos += (size_t)r;
		emit(s, buf, (size_t)r);
		return true;
	}
	n = len - st->pos < RETR_CHUNK ? len - st->pos : RETR_CHUNK;
	if (n > 0)
		emit(s, src + st->pos, n);
	st->pos += n;
	if (st->pos >= len) {
		if (!st->in_prefix)
			return false;
		st->in_prefix = false;
		st->pos = 0;
	}
	return true;
}

static void retr_finish(struct pop3_session *s)
{
	if (!s->stream.at_line_start)
		conn_write(s->conn, "\r\n", 2);
	conn_write(s->conn, ".\r\n", 3);
	pop3_stream_free(&s->stream);
	s->streaming = false;
	conn_set_drain_mark(s->conn, 0);
	pop3_enter_state(s, POP3_STATE_TRANS);
	/* Not pop3_resume(): called from inside the command loop, that would
	 * recurse once per pipelined RETR. Unpausing makes the loop come back
	 * for buffered input. */
	conn_pause(s->conn, false);
}

void pop3_retr_continue(struct pop3_session *s)
{
	while (conn_output_len(s->conn) < RETR_OUTPUT_TARGET) {
		if (s->stream.done || !next_chunk(s)) {
			retr_finish(s);
			return;
		}
	}
}

void pop3_retr_start(struct pop3_session *s, size_t i, bool top, uint64_t lines)
{
	struct pop3_stream *st = &s->stream;

	pop3_stream_free(st);
	if (store_message_body(s->srv->store, s->msgs[i].id, &st->body) < 0) {
		log_error("session=%s retr failed: %s", s->ss.id, store_error(s->srv->store));
		pop3_reply(s, false, "[SYS/TEMP] Cannot read the message");
		return;
	}
	if (st->body.path != NULL && (st->fd = open(st->body.path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("session=%s retr open %s: %s", s->ss.id, st->body.path, strerror(errno));
		pop3_stream_free(st);
		pop3_reply(s, false, "[SYS/TEMP] Cannot read the message");
		return;
	}
	st->in_prefix = true;
	st->at_line_start = 1;
	st->top = top;
	st->body_lines = lines;
	if (top)
		pop3_reply(s, true, "Top of message follows");
	else
		pop3_reply(s, true, "%llu octets", (unsigned long long)s->msgs[i].size);
	s->streaming = true;
	pop3_enter_state(s, POP3_STATE_BUSY);
	conn_pause(s->conn, true);
	conn_set_drain_mark(s->conn, RETR_OUTPUT_TARGET / 2);
	pop3_retr_continue(s);
}
