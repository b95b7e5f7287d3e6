/*
 * RFC 5256 helpers for SORT and THREAD: the base subject of section 2.1
 * and the message-id lists of THREAD=REFERENCES step 1. Both work on
 * header values already unfolded; the subject also already decoded from
 * RFC 2047 to UTF-8 (step 1 of 2.1 starts with that).
 */
#include "mail/mime.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
/* Subject bytes the base-subject algorithm looks at. Step 6 restarts the
 * algorithm once per "[fwd:" layer, which is quadratic in the length; no
 * real subject comes near this, and sorting on a prefix this long is
 * as good as sorting on the whole. */
#define MAIL_SUBJECT_SORT_MAX 8192

/* subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR any byte but "[" "]".
 * Returns its length at s, or 0. */
static size_t subj_blob(const char *s)
{
	size_t i = 1;

	if (s[0] != '[')
		return 0;
	while (s[i] != '\0' && s[i] != '[' && s[i] != ']')
		i++;
	if (s[i] != ']')
		return 0;
	for (i++; IS_WSP(s[i]); i++)
		;
	return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t subj_refwd(const char *s)
{
	size_t i;

	if (strncasecmp(s, "re", 2) == 0)
		i = 2;
	else if (strncasecmp(s, "fwd", 3) == 0)
		i = 3;
	else if (strncasecmp(s, "fw", 2) == 0)
		i = 2;
	else
		return 0;
	while (IS_WSP(s[i]))
		i++;
	i += subj_blob(s + i);
	return s[i] == ':' ? i + 1 : 0;
}

/* Step 3: subj-leader = (*subj-blob subj-refwd) / WSP. Returns its
 * length, and whether it was a reply marker. */
static size_t subj_leader(const char *s, bool *reply)
{
	size_t i = 0, b, r;

	if (IS_WSP(s[0]))
		return 1;
	while ((b = subj_blob(s + i)) > 0)
		i += b;
	r = subj_refwd(s + i);
	if (r == 0)
		return 0;
	*reply = true;
	return i + r;
}

/* Step 2: removes subj-trailer ("(fwd)" / WSP) repeatedly. */
static void strip_trailers(char *s, size_t *len, bool *reply)
{
	for (;;) {
		if (*len > 0 && IS_WSP(s[*len - 1])) {
			(*len)--;
		} else if (*len >= 5 && strncasecmp(s + *len - 5, "(fwd)", 5) == 0) {
			*len -= 5;
			*reply = true;
		} else {
			break;
		}
	}
	s[*len] = '\0';
}

/* Steps 3-5: leaders and blobs off the front, until nothing changes.
 * Step 4 takes the whole run of blobs at once: step 3 just failed at the
 * end of that run and would fail there again after each single removal,
 * so this is the same result without rescanning the run each time. */
static char *strip_leaders(char *s, bool *reply)
{
	bool changed = true;

	while (changed) {
		size_t n, b;

		while ((n = subj_leader(s, reply)) > 0)
			s += n;
		changed = false;
		while ((b = subj_blob(s)) > 0 && s[b] != '\0') {
			s += b;
			changed = true;
		}
	}
	return s;
}

/* Step 1's whitespace part: tabs and line ends become spaces, runs of
 * spaces one space. */
static char *subject_normalize(const char *in)
{
	size_t i, n = 0, len = strnlen(in, MAIL_SUBJECT_SORT_MAX + 1);
	char *s;

	if (len > MAIL_SUBJECT_SORT_MAX) {
		len = MAIL_SUBJECT_SORT_MAX;
		while (len > 0 && ((unsigned char)in[len] & 0xc0) == 0x80)
			len--;	/* cut at a character start */
	}
	s = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		char c = IS_WSP(in[i]) || in[i] == '\r' || in[i] == '\n' ? ' ' : in[i];

		if (c == ' ' && n > 0 && s[n - 1] == ' ')
			continue;
		s[n++] = c;
	}
	s[n] = '\0';
	return s;
}

int mail_base_subject(const char *subject_utf8, struct buf *out)
{
	char *copy = subject_normalize(subject_utf8), *s = copy;
	size_t len = strlen(s);
	bool reply = false;
	int ret;

	for (;;) {
		strip_trailers(s, &len, &reply);
		s = strip_leaders(s, &reply);
		len = strlen(s);
		/* step 6: subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]" */
		if (len >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[len - 1] == ']') {
			s += 5;
			len -= 6;
			s[len] = '\0';
			reply = true;
			continue;
		}
		break;
	}
	ret = buf_append(out, s, len);
	free(copy);
	if (ret < 0)
		return -1;
	return reply ? 1 : 0;
}

/* ---- message-ids ---- */

static void msgid_add(struct mail_msgid_list *list, const char *s, size_t len)
{
	struct buf id;
	size_t i;

	buf_init(&id, 0);
	for (i = 0; i < len; i++) {
		if (!IS_WSP(s[i]) && s[i] != '\r' && s[i] != '\n')
			(void)buf_append_char(&id, s[i]);
	}
	if (id.len == 0 || memchr(id.data, '@', id.len) == NULL) {
		buf_deinit(&id);
		return;
	}
	list->ids = xrealloc(list->ids, (list->n + 1) * sizeof(*list->ids));
	list->ids[list->n++] = buf_steal(&id, NULL);
}

void mail_msgid_list_parse(const char *s, size_t len, struct mail_msgid_list *list)
{
	size_t i = 0, depth = 0;

	for (; i < len; i++) {
		const char *gt, *lt;

		if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && depth > 0) {
			depth--;
		} else if (s[i] == '<' && depth == 0) {
			gt = memchr(s + i + 1, '>', len - i - 1);
			if (gt == NULL)
				return;
			/* of "<junk <id>", the id is after the last "<" */
			lt = memrchr(s + i, '<', (size_t)(gt - s) - i);
			msgid_add(list, lt + 1, (size_t)(gt - lt) - 1);
			i = (size_t)(gt - s);
		}
	}
}

void mail_msgid_list_deinit(struct mail_msgid_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->ids[i]);
	free(list->ids);
	list->ids = NULL;
	list->n = 0;
}

void mail_thread_references(const char *references, size_t ref_len, const char *in_reply_to,
			    size_t irt_len, struct mail_msgid_list *list)
{
	struct mail_msgid_list irt = { NULL, 0 };
	size_t before = list->n;

	if (references != NULL)
		mail_msgid_list_parse(references, ref_len, list);
	if (list->n > before || in_reply_to == NULL)
		return;
	mail_msgid_list_parse(in_reply_to, irt_len, &irt);
	if (irt.n > 0) {
		list->ids = xrealloc(list->ids, (list->n + 1) * sizeof(*list->ids));
		list->ids[list->n++] = irt.ids[0];
		irt.ids[0] = NULL;
	}
	mail_msgid_list_deinit(&irt);
}
