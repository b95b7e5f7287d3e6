/*
 * What the store computes once per message at delivery (DESIGN.md:
 * "IMAP metadata ... computed once at delivery and stored"): ENVELOPE,
 * BODY and BODYSTRUCTURE strings and the RFC 5256 / RFC 5957 sort and
 * thread keys. Malformed messages get a summary too; every string is
 * set, "" when the message has nothing for it.
 */
#include "mail/mime.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* The unfolded value of the first `name` field, or "" (owned). */
static char *header_value(const char *msg, const struct mime_part *root, const char *name,
			  bool *found_r)
{
	struct buf v;
	bool found;

	buf_init(&v, 0);
	found = mime_header_get(msg + root->start, root->header_len, name, 0, &v);
	if (found_r != NULL)
		*found_r = found;
	return buf_steal(&v, NULL);
}

/* RFC 5256 SORT FROM/TO/CC: the addr-mailbox of the first address; and
 * RFC 5957 DISPLAY: its decoded display name, else its addr-spec. */
static void sort_address(const char *msg, const struct mime_part *root, const char *name,
			 char **mailbox_r, char **display_r)
{
	struct buf dname, mailbox, host, display;
	char *value = header_value(msg, root, name, NULL);

	buf_init(&dname, 0);
	buf_init(&mailbox, 0);
	buf_init(&host, 0);
	buf_init(&display, 0);
	if (mime_address_first(value, strlen(value), &dname, &mailbox, &host)) {
		if (dname.len > 0) {
			(void)mime_decode_words(dname.data, dname.len, &display);
		} else {
			(void)buf_append(&display, buf_cstr(&mailbox), mailbox.len);
			if (host.len > 0)
				(void)buf_printf(&display, "@%s", buf_cstr(&host));
		}
	}
	*mailbox_r = buf_steal(&mailbox, NULL);
	if (display_r != NULL)
		*display_r = buf_steal(&display, NULL);
	buf_deinit(&dname);
	buf_deinit(&host);
	buf_deinit(&display);
	free(value);
}

static void summary_thread_keys(const char *msg, const struct mime_part *root,
				struct mime_summary *out)
{
	char *refs = header_value(msg, root, "references", NULL);
	char *irt = header_value(msg, root, "in-reply-to", NULL);
	char *mid = header_value(msg, root, "message-id", NULL);
	struct mail_msgid_list list = { NULL, 0 };
	struct buf joined;
	size_t i;

	mail_msgid_list_parse(mid, strlen(mid), &list);
	out->message_id = xstrdup(list.n > 0 ? list.ids[0] : "");
	mail_msgid_list_deinit(&list);
	mail_thread_references(refs, strlen(refs), irt, strlen(irt), &list);
	buf_init(&joined, 0);
	for (i = 0; i < list.n; i++)
		(void)buf_printf(&joined, "%s%s", i > 0 ? " " : "", list.ids[i]);
	out->references = buf_steal(&joined, NULL);
	mail_msgid_list_deinit(&list);
	free(refs);
	free(irt);
	free(mid);
}

static void summary_subject(const char *msg, const struct mime_part *root,
			    struct mime_summary *out)
{
	char *raw = header_value(msg, root, "subject", NULL);
	struct buf dec, base;
	int r;

	buf_init(&dec, 0);
	buf_init(&base, 0);
	(void)mime_decode_words(raw, strlen(raw), &dec);
	out->subject = buf_steal(&dec, NULL);
	r = mail_base_subject(out->subject, &base);
	out->subject_is_reply = r > 0;
	out->base_subject = buf_steal(&base, NULL);
	free(raw);
}

static char *render(const char *msg, size_t len, const struct mime_part *root, int what)
{
	struct buf b;

	buf_init(&b, 0);
	if (what == 0)
		(void)mime_envelope(msg, len, root, &b);
	else
		(void)mime_bodystructure(msg, len, root, what == 1, &b);
	return buf_steal(&b, NULL);
}

int mime_summarize(const char *msg, size_t len, const struct mime_limits *lim,
		   struct mime_summary *out)
{
	struct mime_part *root;
	char *date;
	bool have_date;

	memset(out, 0, sizeof(*out));
	(void)mime_parse(msg, len, lim, &root);
	out->envelope = render(msg, len, root, 0);
	out->bodystructure = render(msg, len, root, 1);
	out->body = render(msg, len, root, 2);
	date = header_value(msg, root, "date", &have_date);
	if (!have_date || mail_date_parse(date, strlen(date), &out->sent_date, &out->sent_tz) < 0) {
		out->sent_date = (time_t)-1;
		out->sent_tz = 0;
	}
	free(date);
	summary_subject(msg, root, out);
	sort_address(msg, root, "from", &out->sort_from, &out->display_from);
	sort_address(msg, root, "to", &out->sort_to, &out->display_to);
	sort_address(msg, root, "cc", &out->sort_cc, NULL);
	summary_thread_keys(msg, root, out);
	out->header_len = root->header_len;
	out->body_lines = root->body_lines;
	mime_part_free(&root);
	return 0;
}

void mime_summary_free(struct mime_summary *s)
{
	free(s->envelope);
	free(s->bodystructure);
	free(s->body);
	free(s->subject);
	free(s->base_subject);
	free(s->sort_from);
	free(s->sort_to);
	free(s->sort_cc);
	free(s->display_from);
	free(s->display_to);
	free(s->message_id);
	free(s->references);
	memset(s, 0, sizeof(*s));
}
