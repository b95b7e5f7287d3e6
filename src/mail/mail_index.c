/*
 * Builds the per-message IMAP metadata and search text (mail_index.h).
 */
#include "mail/mail_index.h"
#include "core/util.h"

#include <string.h>

void mail_index_build(const char *msg, size_t len, struct mail_index *ix)
{
	struct mime_limits lim = MIME_LIMITS_DEFAULT;
	struct mime_part *root = NULL;
	struct store_blob_meta *m = &ix->meta;

	memset(ix, 0, sizeof(*ix));
	buf_init(&ix->headers, MAIL_INDEX_TEXT_MAX);
	buf_init(&ix->body, MAIL_INDEX_TEXT_MAX);
	mime_summarize(msg, len, &lim, &ix->sum);
	if (mime_parse(msg, len, &lim, &root) == 0 && root != NULL)
		mime_extract_text(msg, len, root, &ix->headers, &ix->body, MAIL_INDEX_TEXT_MAX);
	mime_part_free(&root);
	m->envelope = ix->sum.envelope;
	m->bodystructure = ix->sum.bodystructure;
	m->body = ix->sum.body;
	m->sent_date = ix->sum.sent_date == (time_t)-1 ? -1 : (int64_t)ix->sum.sent_date;
	m->base_subject = ix->sum.base_subject;
	m->sort_from = ix->sum.sort_from;
	m->sort_to = ix->sum.sort_to;
	m->sort_cc = ix->sum.sort_cc;
	m->message_id = ix->sum.message_id;
	m->thread_refs = ix->sum.references;
	m->text_headers = ix->headers.data ? ix->headers.data : "";
	m->text_headers_len = ix->headers.len;
	m->text_body = ix->body.data ? ix->body.data : "";
	m->text_body_len = ix->body.len;
}

void mail_index_free(struct mail_index *ix)
{
	mime_summary_free(&ix->sum);
	buf_deinit(&ix->headers);
	buf_deinit(&ix->body);
	memset(ix, 0, sizeof(*ix));
}
