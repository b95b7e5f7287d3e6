/*
 * Builds the per-message IMAP metadata, and the text that search indexes
 * (mail_index.h).
 */
#include "mail/mail_index.h"
#include "core/util.h"

#include <string.h>

void mail_index_build(const char *msg, size_t len, struct mail_index *ix)
{
	struct mime_limits lim = MIME_LIMITS_DEFAULT;
	struct store_blob_meta *m = &ix->meta;

	memset(ix, 0, sizeof(*ix));
	mime_summarize(msg, len, &lim, &ix->sum);
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
}

void mail_index_free(struct mail_index *ix)
{
	mime_summary_free(&ix->sum);
	memset(ix, 0, sizeof(*ix));
}

void mail_index_text(const char *msg, size_t len, struct buf *headers, struct buf *body)
{
	struct mime_limits lim = MIME_LIMITS_DEFAULT;
	struct mime_part *root = NULL;

	if (mime_parse(msg, len, &lim, &root) == 0 && root != NULL)
		mime_extract_text(msg, len, root, headers, body, MAIL_INDEX_TEXT_MAX);
	mime_part_free(&root);
}
