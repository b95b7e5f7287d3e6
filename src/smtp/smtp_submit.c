/*
 * The message submission agent's part of a session (RFC 6409): on the
 * submission ports MAIL needs AUTH first and a sender the account owns
 * (its address, an alias or catch-all pointing to it), and so must every
 * From: address. Submitted and local (tern sendmail) messages get the
 * header fields they lack: Message-ID (8.3), Date (8.2) and From.
 *
 * The message is hashed into its blob while it streams, and the added
 * fields must come first, so the header block is held back (at most
 * SMTP_SUBMIT_HEADER_MAX octets) until it ends. Then the added fields, the
 * header block and what followed it go to the spool, and the rest of the
 * content streams straight through. The DATA scanner runs before this
 * sink, so bare CR/LF are refused exactly as on port 25.
 */
#include "smtp/smtp_session.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "mail/header.h"
#include "net/conn.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPLY_NOT_OWNED_FROM "550 5.7.1 From header address not owned by authenticated user"
#define REPLY_BAD_FROM "550 5.6.0 Message rejected: the From header cannot be parsed"
#define REPLY_HEADER_TOO_BIG "552 5.3.4 Message rejected: header block too large"
#define REPLY_LOOKUP_FAILED "451 4.3.0 Temporary lookup failure"

bool smtp_submit_active(const struct smtp_session *s)
{
	return s->submission || s->is_local;
}

int smtp_submit_check_auth(struct smtp_session *s)
{
	if (!s->submission || s->account_id > 0)
		return 0;
	smtp_reply(s, 530, "5.7.0", "Authentication required");
	smtp_count_error(s);
	return -1;
}

int smtp_submit_check_sender(struct smtp_session *s)
{
	char esc[LOG_ESCAPE_MAX];
	int owned;

	if (!s->submission)
		return 0;
	if (s->sender.len == 0) {
		/* RFC 6409 has no use for <>: bounces come from the MTA */
		smtp_reply(s, 550, "5.7.1", "Null sender not allowed for authenticated submission");
		return -1;
	}
	owned = store_account_owns_address(s->srv->store, s->account_id, buf_cstr(&s->sender));
	if (owned == 1)
		return 0;
	if (owned < 0) {
		log_error("session=%s sender lookup failed: %s", s->ss.id, store_error(s->srv->store));
		smtp_reply(s, 451, "4.3.0", "Temporary lookup failure");
		return -1;
	}
	log_info("session=%s mail from=<%s> refused=not_owned", s->ss.id,
		 log_escape(esc, s->sender.data, s->sender.len));
	smtp_reply(s, 550, "5.7.1", "Sender address not owned by authenticated user");
	return -1;
}

void smtp_submit_reset(struct smtp_session *s)
{
	buf_deinit(&s->header);
	buf_init(&s->header, SMTP_SUBMIT_HEADER_MAX);
	s->header_scan = 0;
	s->header_done = false;
	s->submit_error = NULL;
}

struct from_check {
	struct smtp_session *s;
	const char *error;	/* static reply, or NULL */
};

static int from_address(void *ctx, const char *addr, size_t len)
{
	struct from_check *fc = ctx;
	struct smtp_session *s = fc->s;
	char esc[LOG_ESCAPE_MAX];
	int owned = store_account_owns_address(s->srv->store, s->account_id, addr);

	if (owned == 1)
		return 0;
	if (owned < 0) {
		log_error("session=%s from lookup failed: %s", s->ss.id, store_error(s->srv->store));
		fc->error = REPLY_LOOKUP_FAILED;
	} else {
		log_info("session=%s queue=%s header_from=<%s> refused=not_owned", s->ss.id,
			 s->queue_id, log_escape(esc, addr, len));
		fc->error = REPLY_NOT_OWNED_FROM;
	}
	return -1;
}

/* Checks one From field of an authenticated submission. */
static const char *check_from(struct smtp_session *s, const struct header_field *f)
{
	struct from_check fc = { .s = s };
	const char *error;
	int n;

	n = header_addresses(f->value, f->value_len, from_address, &fc, &error);
	if (fc.error != NULL)
		return fc.error;
	if (n < 0) {
		log_info("session=%s queue=%s header_from refused=\"%s\"", s->ss.id, s->queue_id, error);
		return REPLY_BAD_FROM;
	}
	return n == 0 ? REPLY_NOT_OWNED_FROM : NULL;
}

/* The fields RFC 6409 8 lets the MSA add, for a header block that lacks
 * them, written to the spool ahead of it. */
static void write_added_fields(struct smtp_session *s, bool has_from, bool has_date, bool has_msgid)
{
	const struct config *cfg = s->srv->cfg;
	char date[64], id[25];
	time_t now = time(NULL);
	struct buf h;
	struct tm tm;

	buf_init(&h, 0);
	if (!has_from && s->sender.len > 0)
		buf_printf(&h, "From: <%s>\r\n", buf_cstr(&s->sender));
	if (!has_date) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		buf_printf(&h, "Date: %s\r\n", date);
	}
	if (!has_msgid) {
		random_id(id, 24);
		buf_printf(&h, "Message-ID: <%s@%s>\r\n", id, cfg->hostname);
	}
	if (h.len > 0)
		spool_write(&s->spool, h.data, h.len);
	buf_deinit(&h);
}

/* The header block is hdr[0..body): check it, add what it lacks, and
 * send everything held back to the spool. */
static void header_complete(struct smtp_session *s, size_t body)
{
	bool has_from = false, has_date = false, has_msgid = false;
	struct header_field f;
	size_t pos = 0;
	const char *error = NULL;

	while (header_next(s->header.data, body, &pos, &f) == 1) {
		if (header_is(&f, "From")) {
			has_from = true;
			if (s->submission && error == NULL)
				error = check_from(s, &f);
		}
		has_date |= header_is(&f, "Date");
		has_msgid |= header_is(&f, "Message-ID");
	}
	s->header_done = true;
	if (error != NULL) {
		s->submit_error = error;
		return;
	}
	write_added_fields(s, has_from, has_date, has_msgid);
	/* no header at all: the added fields need the empty line after them */
	if (body == 0 && s->header.len > 0 && s->header.data[0] != '\r')
		spool_write(&s->spool, "\r\n", 2);
	if (s->header.len > 0)
		spool_write(&s->spool, s->header.data, s->header.len);
	buf_deinit(&s->header);
	buf_init(&s->header, SMTP_SUBMIT_HEADER_MAX);
}

int smtp_submit_sink(void *ctx, const char *data, size_t len)
{
	struct smtp_session *s = ctx;
	size_t body;

	if (s->submit_error != NULL)
		return 0;	/* refused already: read on to the end, store nothing */
	if (s->header_done)
		return spool_write(&s->spool, data, len);
	if (buf_append(&s->header, data, len) < 0) {
		log_info("session=%s queue=%s rejected reason=header_too_big", s->ss.id, s->queue_id);
		s->submit_error = REPLY_HEADER_TOO_BIG;
		return 0;
	}
	if (header_block_end(s->header.data, s->header.len, &s->header_scan, &body) == 1)
		header_complete(s, body);
	return 0;
}

const char *smtp_submit_finish(struct smtp_session *s)
{
	if (s->submit_error == NULL && !s->header_done)
		header_complete(s, s->header.len);	/* all header, no body */
	return s->submit_error;
}
