/*
 * MIME (RFC 2045-2047, 2231) and RFC 5322 message structure, and the IMAP
 * metadata computed from it: ENVELOPE, BODY/BODYSTRUCTURE (RFC 9051 7.5.2),
 * FETCH BODY[section] ranges, content decoding for BINARY (RFC 3516),
 * text for full-text search and the SORT/THREAD keys of RFC 5256.
 *
 * Everything here is pure: no I/O, no globals, no logging. The message is
 * a length-counted buffer in memory (never NUL-trusted), CRLF line ends
 * expected and bare LF tolerated. Malformed MIME never fails a parse: the
 * parser always builds a best-effort tree, bounded by struct mime_limits.
 * Output that goes to an IMAP client is appended to a struct buf; those
 * functions return -1 only when the buf refuses to grow past its max.
 */
#ifndef TERN_MAIL_MIME_H
#define TERN_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/limits.h"

/* ---- the part tree ---- */

struct mime_limits {
	unsigned max_depth;		/* nested multiparts + message/rfc822 */
	unsigned max_parts;		/* parts in the whole tree */
	unsigned max_header_lines;	/* header fields recorded per part */
};

#define MIME_LIMITS_DEFAULT \
	{ MIME_DEPTH_MAX_DEFAULT, MIME_PARTS_MAX_DEFAULT, MIME_HEADER_LINES_MAX_DEFAULT }

struct mime_param {
	char *name;	/* owned; lowercased, without any RFC 2231 "*n" / "*" */
	char *value;	/* owned; continuations joined, %XX and charset decoded */
	bool extended;	/* had an RFC 2231 charset: value is UTF-8, IMAP name is "name*" */
};

/* Offsets are into the message buffer given to mime_parse(); a part's
 * bytes are msg[start .. body_start + body_len). */
struct mime_part {
	size_t start;
	size_t header_len;	/* includes the blank line, if there was one */
	size_t body_start;	/* start + header_len */
	size_t body_len;	/* in a multipart, excludes the CRLF before the boundary */
	size_t body_lines;	/* LFs in the body, +1 for an unterminated last line */

	char *type, *subtype;	/* owned; lowercased, never NULL */
	struct mime_param *params;	/* owned; Content-Type parameters */
	size_t n_params;
	bool content_type_given;	/* false: type/subtype are the defaults */

	/* Raw unfolded header values (IMAP wants them undecoded); owned,
	 * NULL when the field is absent. encoding and disposition are lowercased. */
	char *id, *description, *encoding, *md5, *disposition, *language, *location;
	struct mime_param *disp_params;	/* owned; Content-Disposition parameters */
	size_t n_disp_params;

	struct mime_part *children;	/* owned; multipart only, may be 0 of them */
	size_t n_children;
	/* owned; message/rfc822 and message/global (7bit/8bit/binary only):
	 * the encapsulated message's root. NULL past max_depth. */
	struct mime_part *message;
};

/* Parses msg[0..len) into a tree. lim may be NULL for the defaults.
 * Never fails on malformed input; returns 0 and the root in *root_r (owned
 * by the caller, free with mime_part_free). msg must outlive any use of
 * the offsets but is not referenced by the tree. */
int mime_parse(const char *msg, size_t len, const struct mime_limits *lim,
	       struct mime_part **root_r);
void mime_part_free(struct mime_part **p);

/* The value of Content-Type parameter `name` (case-insensitive), borrowed
 * from the part, or NULL. */
const char *mime_part_param(const struct mime_part *p, const char *name);
bool mime_part_is_multipart(const struct mime_part *p);
/* message/rfc822 or message/global */
bool mime_part_is_message(const struct mime_part *p);

/* ---- header fields ---- */

/* One header field, borrowed from the header block. */
struct mime_field {
	const char *name;	/* without the colon and trailing blanks */
	size_t name_len;
	const char *value;	/* raw: after the colon, folding and line end kept */
	size_t value_len;
	const char *line;	/* the whole field, including its final line end */
	size_t line_len;
};

/* Iterates the fields of a header block hdr[0..len) (which may include
 * the blank line). *pos starts at 0. Returns true and fills f, or false at
 * the end of the header (blank line, a non-field line, or len). */
bool mime_header_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f);
/* Appends value unfolded (CRLF/LF before blanks removed, other CR/LF
 * dropped), leading and trailing blanks trimmed. */
int mime_unfold(const char *value, size_t len, struct buf *out);
/* Finds occurrence `idx` (0 = first) of field `name` (case-insensitive)
 * and appends its unfolded value to out. Returns true if found. */
bool mime_header_get(const char *hdr, size_t len, const char *name, size_t idx,
		     struct buf *out);
/* Appends the unfolded values of all occurrences of `name`, separated by
 * sep. Returns how many there were. */
size_t mime_header_get_all(const char *hdr, size_t len, const char *name, const char *sep,
			   struct buf *out);

/* ---- decoding ---- */

/* Converts data in `charset` to UTF-8, appending to out. Bytes that cannot
 * be converted are dropped. An unknown charset (or NULL) keeps the bytes
 * that are valid UTF-8 and drops the others, and returns -1 (out has been
 * appended to all the same); otherwise returns 0. */
int mime_charset_to_utf8(const char *charset, const char *data, size_t len, struct buf *out);
/* RFC 2047: decodes encoded-words in an unfolded header value to UTF-8.
 * Blanks between adjacent encoded-words go; broken encoded-words stay as
 * text; raw 8-bit text is kept where valid UTF-8. Returns 0, -1 if out is full. */
int mime_decode_words(const char *s, size_t len, struct buf *out);
/* Decodes a Content-Transfer-Encoding (NULL means 7bit): base64 (skipping
 * non-alphabet bytes), quoted-printable (tolerant: a stray "=" is kept),
 * 7bit/8bit/binary copied. Returns -1 for an unknown encoding (IMAP
 * UNKNOWN-CTE, RFC 3516 4.3) or a full out, else 0. */
int mime_decode_body(const char *encoding, const char *data, size_t len, struct buf *out);
/* The same two decoders on their own. */
int mime_base64_decode(const char *data, size_t len, struct buf *out);
int mime_qp_decode(const char *data, size_t len, bool q_encoding, struct buf *out);

/* RFC 5322 3.3 date-time (with the obsolete forms of 4.3, comments, a
 * missing seconds field or zone) to a UTC time and its zone offset in
 * minutes east (tz_r may be NULL). Returns 0, or -1 for garbage. */
int mail_date_parse(const char *s, size_t len, time_t *time_r, int *tz_r);

/* ---- IMAP output (RFC 9051 section 9 grammar) ---- */

/* A string as quoted (7-bit text, no CR/LF, short) or else as a literal;
 * NUL bytes, which neither can carry, are dropped. */
int mime_imap_string(struct buf *out, const char *s, size_t len);
/* As above, NIL for s == NULL. */
int mime_imap_nstring(struct buf *out, const char *s, size_t len);

/* ENVELOPE of the message whose root is `part` (the top-level root, or a
 * message/rfc822 part's ->message). Header values are raw (encoded words
 * are not decoded), addresses parsed with groups, routes and comments. */
int mime_envelope(const char *msg, size_t len, const struct mime_part *part, struct buf *out);
/* The first mailbox of an RFC 5322 address-list value (looking into
 * groups): its display name (raw, unquoted), local-part and domain ("" if
 * it had none) appended to the bufs. Returns false if there is none. */
bool mime_address_first(const char *value, size_t len, struct buf *name_r,
			struct buf *mailbox_r, struct buf *host_r);
/* BODYSTRUCTURE (extended) or BODY (!extended) of the tree under root. */
int mime_bodystructure(const char *msg, size_t len, const struct mime_part *root,
		       bool extended, struct buf *out);

/* ---- FETCH BODY[section] ---- */

/* Finds RFC 9051 6.4.5 section text (without the brackets and without the
 * field list): "", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
 * "1", "1.2", "1.2.MIME", "3.HEADER", "3.TEXT", "3.HEADER.FIELDS", ...
 * (case-insensitive). HEADER/TEXT after a part number need a message/rfc822
 * part and refer to the encapsulated message; part 1 of a non-multipart is
 * its body. For HEADER.FIELDS[.NOT], fields[0..n_fields) are the names,
 * the selected header lines plus a final CRLF are appended to `filtered`,
 * and *filtered_r is set; otherwise the content is msg[*off_r .. +*len_r).
 * Returns 0, or -1 for a part that does not exist or a bad section. */
int mime_section_find(const char *msg, size_t len, const struct mime_part *root,
		      const char *section, const char *const *fields, size_t n_fields,
		      struct buf *filtered, size_t *off_r, size_t *len_r, bool *filtered_r);
/* Finds the part named by a part number ("1.2"; "" is the root). */
const struct mime_part *mime_part_find(const struct mime_part *root, const char *number);

/* ---- full-text search ---- */

/* Appends the root header fields ("Name: value\n", unfolded, encoded words
 * decoded) to headers_r and the text of every text leaf part (decoded to
 * UTF-8, HTML tags stripped; message/rfc822 parts' headers and text
 * included) to body_r. Each output stops growing at max bytes (0: no limit). */
int mime_extract_text(const char *msg, size_t len, const struct mime_part *root,
		      struct buf *headers_r, struct buf *body_r, size_t max);

/* ---- SORT / THREAD (RFC 5256) ---- */

/* RFC 5256 2.1 base subject of an already decoded (UTF-8) subject. The
 * result is not case-folded: compare with i;unicode-casemap. Returns 1 if
 * a reply/forward marker was removed (THREAD ORDEREDSUBJECT / REFERENCES
 * step 5 use it), 0 if not, -1 if out is full. */
int mail_base_subject(const char *subject_utf8, struct buf *out);

struct mail_msgid_list {
	char **ids;	/* owned; each owned, without the angle brackets */
	size_t n;
};

/* Appends the msg-ids found in a References / In-Reply-To / Message-ID
 * value to list; invalid ones (no "@", no closing ">") are skipped. */
void mail_msgid_list_parse(const char *s, size_t len, struct mail_msgid_list *list);
void mail_msgid_list_deinit(struct mail_msgid_list *list);
/* RFC 5256 THREAD REFERENCES step 1: the References ids, or if there are
 * none, the first In-Reply-To id. Either value may be NULL. */
void mail_thread_references(const char *references, size_t ref_len, const char *in_reply_to,
			    size_t irt_len, struct mail_msgid_list *list);

/* ---- what the store keeps per message ---- */

struct mime_summary {
	char *envelope;		/* owned; FETCH ENVELOPE */
	char *bodystructure;	/* owned; FETCH BODYSTRUCTURE */
	char *body;		/* owned; FETCH BODY */
	time_t sent_date;	/* Date: in UTC, or (time_t)-1 if absent/invalid */
	int sent_tz;		/* its zone, minutes east of UTC */
	char *subject;		/* owned; decoded to UTF-8, "" if absent */
	char *base_subject;	/* owned; RFC 5256 2.1 */
	bool subject_is_reply;	/* "Re:"/"Fwd:" or "[fwd: ...]" removed */
	char *sort_from, *sort_to, *sort_cc;	/* owned; first addr-mailbox, "" if none */
	char *display_from, *display_to;	/* owned; RFC 5957 display name, "" */
	char *message_id;	/* owned; first Message-ID without <>, "" if none */
	char *references;	/* owned; space-separated ids (THREAD step 1) */
	size_t header_len;	/* RFC822.HEADER size */
	size_t body_lines;
};

/* Parses msg and fills out (every string owned by it, never NULL).
 * Returns 0 (malformed messages too). */
int mime_summarize(const char *msg, size_t len, const struct mime_limits *lim,
		   struct mime_summary *out);
void mime_summary_free(struct mime_summary *s);

#endif
