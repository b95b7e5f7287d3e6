/*
 * Unit tests for the MIME parser and the IMAP metadata built on it
 * (src/mail/mime*.c, mail_thread.c). Expected ENVELOPE and BODYSTRUCTURE
 * strings were worked out by hand from RFC 9051 7.5.2 and section 9 (octet
 * and line counts included); the message shapes follow the RFC 9051
 * examples and the kinds of cases Dovecot's test-imap-bodystructure uses
 * (nested multipart, message/rfc822 holding a multipart, digest defaults).
 * Every input is copied into a buffer of its exact length, so a read past
 * the end shows up under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/mime.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A parsed message whose bytes live in an exact-length heap copy. */
struct msg {
	char *data;
	size_t len;
	struct mime_part *root;
};

static char *dup_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	return copy;
}

static void msg_parse_len(struct msg *m, const char *text, size_t len,
			  const struct mime_limits *lim)
{
	m->len = len;
	m->data = dup_exact(text, len);
	assert_int_equal(mime_parse(m->data, m->len, lim, &m->root), 0);
	assert_non_null(m->root);
}

static void msg_parse(struct msg *m, const char *text)
{
	msg_parse_len(m, text, strlen(text), NULL);
}

static void msg_free(struct msg *m)
{
	mime_part_free(&m->root);
	assert_null(m->root);
	free(m->data);
}

static void check_str(const char *what, size_t i, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s case %zu:\n got: %s\nwant: %s", what, i, got, want);
}

static void check_bodystructure(struct msg *m, size_t i, const char *bs, const char *body)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(mime_bodystructure(m->data, m->len, m->root, true, &b), 0);
	check_str("BODYSTRUCTURE", i, buf_cstr(&b), bs);
	buf_reset(&b);
	assert_int_equal(mime_bodystructure(m->data, m->len, m->root, false, &b), 0);
	check_str("BODY", i, buf_cstr(&b), body);
	buf_deinit(&b);
}

/* RFC 5322 A.1.1 */
static const char msg_simple[] =
	"From: John Doe <jdoe@machine.example>\r\n"
	"To: Mary Smith <mary@example.net>\r\n"
	"Subject: Saying Hello\r\n"
	"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
	"Message-ID: <1234@local.machine.example>\r\n"
	"\r\n"
	"This is a message just to say hello.\r\n"
	"So, \"Hello\".\r\n";

/* The shape of RFC 9051 7.5.2's two-part example. */
static const char msg_two_part[] =
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"--b1\r\n"
	"\r\n"
	"Hello world\r\n"
	"--b1\r\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
	"Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
	"Content-Description: Compiler diff\r\n"
	"Content-Transfer-Encoding: BASE64\r\n"
	"\r\n"
	"ZGlmZgo=\r\n"
	"--b1--\r\n";

/* text + a forwarded message that is itself multipart/alternative */
static const char msg_rfc822[] =
	"From: sender@example.com\r\n"
	"Subject: fwd\r\n"
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
	"\r\n"
	"--XX\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"See attached.\r\n"
	"--XX\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: attachment; filename=\"inner.eml\"\r\n"
	"\r\n"
	"From: Inner <inner@example.org>\r\n"
	"Subject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=YY\r\n"
	"\r\n"
	"--YY\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"plain\r\n"
	"--YY\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<b>html</b>\r\n"
	"--YY--\r\n"
	"--XX--\r\n";

/* RFC 2046 5.1.5: parts of a digest default to message/rfc822 */
static const char msg_digest[] =
	"Content-Type: multipart/digest; boundary=D\r\n"
	"\r\n"
	"--D\r\n"
	"\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n"
	"--D\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"second\r\n"
	"--D--\r\n";

/* multipart/mixed > (multipart/alternative > text, html), application */
static const char msg_nested[] =
	"Content-Type: multipart/mixed; boundary=outer\r\n"
	"\r\n"
	"preamble\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Caf=E9\r\n"
	"--inner\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>Caf\xc3\xa9</p>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename=\"a.bin\"\r\n"
	"Content-Language: en, de\r\n"
	"Content-Location: http://example.com/a.bin\r\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	"\r\n"
	"AAEC\r\n"
	"--outer--\r\n"
	"epilogue\r\n";

struct bs_case {
	const char *msg;
	const char *bodystructure;
	const char *body;
};

static const struct bs_case bs_cases[] = {
	/* 0 */
	{ msg_simple,
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 52 2 NIL NIL NIL NIL)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 52 2)" },
	/* 1 */
	{ msg_two_part,
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1 NIL NIL NIL NIL)"
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
	  "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 8 1 "
	  "NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1)"
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
	  "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 8 1) "
	  "\"MIXED\")" },
	/* 2 */
	{ msg_rfc822,
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)"
	  "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 194 "
	  "(NIL \"inner\" ((\"Inner\" NIL \"inner\" \"example.org\")) "
	  "((\"Inner\" NIL \"inner\" \"example.org\")) ((\"Inner\" NIL \"inner\" \"example.org\")) "
	  "NIL NIL NIL NIL NIL) "
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)"
	  "(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1 NIL NIL NIL NIL) \"ALTERNATIVE\" "
	  "(\"BOUNDARY\" \"YY\") NIL NIL NIL) 13 NIL (\"ATTACHMENT\" (\"FILENAME\" \"inner.eml\")) "
	  "NIL NIL) \"MIXED\" (\"BOUNDARY\" \"XX\") NIL NIL NIL)",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 13 1)"
	  "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 194 "
	  "(NIL \"inner\" ((\"Inner\" NIL \"inner\" \"example.org\")) "
	  "((\"Inner\" NIL \"inner\" \"example.org\")) ((\"Inner\" NIL \"inner\" \"example.org\")) "
	  "NIL NIL NIL NIL NIL) "
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1)"
	  "(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1)"
	  " \"ALTERNATIVE\") 13) \"MIXED\")" },
	/* 3 */
	{ msg_digest,
	  "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 21 "
	  "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL) 3 "
	  "NIL NIL NIL NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1 NIL NIL NIL NIL) "
	  "\"DIGEST\" (\"BOUNDARY\" \"D\") NIL NIL NIL)",
	  "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 21 "
	  "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1) 3)"
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1) \"DIGEST\")" },
	/* 4 */
	{ msg_nested,
	  "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL \"QUOTED-PRINTABLE\" 6 1 "
	  "NIL NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 1 "
	  "NIL NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"inner\") NIL NIL NIL)"
	  "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 4 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" "
	  "(\"ATTACHMENT\" (\"FILENAME\" \"a.bin\")) (\"en\" \"de\") \"http://example.com/a.bin\") "
	  "\"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)",
	  "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL \"QUOTED-PRINTABLE\" 6 1)"
	  "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 1) \"ALTERNATIVE\")"
	  "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 4) \"MIXED\")" },
	/* 5: the empty message */
	{ "",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)" },
	/* 6: a multipart without a boundary gets an empty text part */
	{ "Content-Type: multipart/mixed\r\n\r\n--x\r\nabc\r\n",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL) "
	  "\"MIXED\" NIL NIL NIL NIL)",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0) \"MIXED\")" },
	/* 7: message/rfc822 in base64 is not parsed, but keeps the grammar's shape */
	{ "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==\r\n",
	  "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 18 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL) 1 "
	  "NIL NIL NIL NIL)",
	  "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 18 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0) 1)" },
	/* 8: an invalid Content-Type means text/plain (RFC 2045 5.2); 8-bit
	 * parameter values and descriptions go out as literals */
	{ "Content-Type: text\r\nContent-Description: caf\xc3\xa9\r\n\r\nx",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL {5}\r\ncaf\xc3\xa9 \"7BIT\" 1 1 "
	  "NIL NIL NIL NIL)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL {5}\r\ncaf\xc3\xa9 \"7BIT\" 1 1)" },
	/* 9: bare LF line ends */
	{ "Content-Type: multipart/mixed; boundary=x\n\n--x\n\nab\ncd\n--x--\n",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 2 NIL NIL NIL NIL) "
	  "\"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL)",
	  "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 2) \"MIXED\")" },
	/* 10: quotes and backslashes in parameters are escaped; a text part
	 * without a charset gets the RFC 2045 default first */
	{ "Content-Type: text/plain; name=\"a\\\"b\\\\c\"\r\n\r\n",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"a\\\"b\\\\c\") NIL NIL \"7BIT\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"a\\\"b\\\\c\") NIL NIL \"7BIT\" 0 0)" },
};

static void test_mime_bodystructure(void **state)
{
	size_t i;

	for (i = 0; i < N(bs_cases); i++) {
		struct msg m;

		msg_parse(&m, bs_cases[i].msg);
		check_bodystructure(&m, i, bs_cases[i].bodystructure, bs_cases[i].body);
		msg_free(&m);
	}
}

static void test_mime_simple_text(void **state)
{
	struct msg m;
	struct buf b;

	msg_parse(&m, msg_simple);
	assert_string_equal(m.root->type, "text");
	assert_string_equal(m.root->subtype, "plain");
	assert_false(m.root->content_type_given);
	assert_int_equal(m.root->start, 0);
	assert_int_equal(m.root->header_len, strlen(msg_simple) - 52);
	assert_int_equal(m.root->body_len, 52);
	assert_int_equal(m.root->body_lines, 2);
	assert_int_equal(m.root->n_children, 0);
	assert_null(m.root->message);
	buf_init(&b, 0);
	assert_int_equal(mime_envelope(m.data, m.len, m.root, &b), 0);
	assert_string_equal(buf_cstr(&b),
		"(\"Fri, 21 Nov 1997 09:55:06 -0600\" \"Saying Hello\" "
		"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) "
		"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) "
		"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) "
		"((\"Mary Smith\" NIL \"mary\" \"example.net\")) NIL NIL NIL "
		"\"<1234@local.machine.example>\")");
	buf_deinit(&b);
	msg_free(&m);
}

static void test_mime_nested_tree(void **state)
{
	struct msg m;
	const struct mime_part *alt, *plain, *html, *app;

	msg_parse(&m, msg_nested);
	assert_true(mime_part_is_multipart(m.root));
	assert_int_equal(m.root->n_children, 2);
	alt = &m.root->children[0];
	assert_string_equal(alt->subtype, "alternative");
	assert_int_equal(alt->n_children, 2);
	plain = &alt->children[0];
	html = &alt->children[1];
	app = &m.root->children[1];
	assert_string_equal(mime_part_param(plain, "CHARSET"), "iso-8859-1");
	assert_string_equal(plain->encoding, "quoted-printable");
	assert_memory_equal(m.data + plain->body_start, "Caf=E9", 6);
	assert_int_equal(plain->body_len, 6);
	assert_string_equal(html->subtype, "html");
	assert_string_equal(app->disposition, "attachment");
	assert_int_equal(app->n_disp_params, 1);
	assert_string_equal(app->disp_params[0].name, "filename");
	assert_string_equal(app->disp_params[0].value, "a.bin");
	assert_string_equal(app->language, "en, de");
	assert_string_equal(app->location, "http://example.com/a.bin");
	assert_string_equal(app->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	assert_memory_equal(m.data + app->body_start, "AAEC", 4);
	/* every child lies inside its parent's body */
	assert_true(alt->start >= m.root->body_start &&
		    html->body_start + html->body_len <= alt->body_start + alt->body_len);
	msg_free(&m);
}

static void test_mime_rfc822_and_digest(void **state)
{
	struct msg m;
	const struct mime_part *att, *inner;

	msg_parse(&m, msg_rfc822);
	att = &m.root->children[1];
	assert_true(mime_part_is_message(att));
	inner = att->message;
	assert_non_null(inner);
	assert_int_equal(inner->start, att->body_start);
	assert_int_equal(inner->n_children, 2);
	assert_string_equal(inner->children[1].subtype, "html");
	msg_free(&m);

	msg_parse(&m, msg_digest);
	assert_int_equal(m.root->n_children, 2);
	assert_string_equal(m.root->children[0].type, "message");
	assert_string_equal(m.root->children[0].subtype, "rfc822");
	assert_false(m.root->children[0].content_type_given);
	assert_non_null(m.root->children[0].message);
	assert_string_equal(m.root->children[1].type, "text");
	msg_free(&m);
}

struct param_case {
	const char *content_type;
	const char *name;
	const char *value;	/* NULL: absent */
	bool extended;
};

static const struct param_case param_cases[] = {
	/* 0: RFC 2231 section 4.1 example */
	{ "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
	  "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
	  "title", "This is even more ***fun*** isn't it!", true },
	/* 1: RFC 2231 section 3 continuations without charset */
	{ "message/external-body; access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub/moore/"
	  "bulk-mailer/bulk-mailer.tar\"",
	  "url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar", false },
	/* 2: charset decoded to UTF-8 */
	{ "text/plain; name*=iso-8859-1''%E9t%E9.txt", "name", "\xc3\xa9t\xc3\xa9.txt", true },
	/* 3: the RFC 2231 form wins over the plain one, whichever comes first */
	{ "text/plain; name=\"plain.txt\"; name*=utf-8''%C3%A9.txt", "name", "\xc3\xa9.txt", true },
	{ "text/plain; name*=utf-8''x.txt; name=\"plain.txt\"", "name", "x.txt", true },
	/* 5: sections out of order are put in order */
	{ "text/plain; f*1=\"b\"; f*0=\"a\"", "f", "ab", false },
	/* 6: a later section without a *0 is dropped */
	{ "text/plain; f*1=\"b\"", "f", NULL, false },
	/* 7: tolerated: comments, unquoted tspecials, case */
	{ "Text/Plain (comment); CharSet = \"UTF-8\" (c); NAME=a@b.txt", "charset", "UTF-8", false },
	{ "text/plain; name=a@b.txt", "name", "a@b.txt", false },
	/* 9: junk between parameters is skipped */
	{ "text/plain; junk junk; charset=us-ascii", "charset", "us-ascii", false },
	/* 10: an unknown charset keeps what is valid UTF-8 */
	{ "text/plain; name*=x-nope''a%FFb%C3%A9", "name", "ab\xc3\xa9", true },
	/* 11: a bad percent escape stays */
	{ "text/plain; name*=utf-8''100%", "name", "100%", true },
};

static void test_mime_rfc2231_params(void **state)
{
	size_t i;

	for (i = 0; i < N(param_cases); i++) {
		struct msg m;
		char text[512];
		const char *v;
		size_t k;

		snprintf(text, sizeof(text), "Content-Type: %s\r\n\r\n", param_cases[i].content_type);
		msg_parse(&m, text);
		v = mime_part_param(m.root, param_cases[i].name);
		if (param_cases[i].value == NULL && v != NULL)
			fail_msg("case %zu: got \"%s\", want none", i, v);
		if (param_cases[i].value != NULL)
			check_str("param", i, v != NULL ? v : "(none)", param_cases[i].value);
		for (k = 0; k < m.root->n_params; k++) {
			if (strcmp(m.root->params[k].name, param_cases[i].name) == 0 &&
			    m.root->params[k].extended != param_cases[i].extended)
				fail_msg("case %zu: extended is %d", i, m.root->params[k].extended);
		}
		msg_free(&m);
	}
}

static void test_mime_rfc2231_bodystructure(void **state)
{
	struct msg m;
	struct buf b;

	/* RFC 9051 7.5.2: a charset-decoded value is returned as "name*" */
	msg_parse(&m, "Content-Type: text/plain; charset=us-ascii; name*=iso-8859-1''%E9.txt;"
		      " title*0=\"a \"; title*1=\"b\"\r\n\r\n");
	buf_init(&b, 0);
	assert_int_equal(mime_bodystructure(m.data, m.len, m.root, false, &b), 0);
	assert_string_equal(buf_cstr(&b),
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\" \"NAME*\" {6}\r\n\xc3\xa9.txt "
		"\"TITLE\" \"a b\") NIL NIL \"7BIT\" 0 0)");
	buf_deinit(&b);
	msg_free(&m);
}

struct words_case {
	const char *in;
	const char *out;
};

static const struct words_case words_cases[] = {
	/* 0 */
	{ "plain text", "plain text" },
	{ "=?iso-8859-1?q?Caf=E9?=", "Caf\xc3\xa9" },
	{ "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	  "Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>" },
	{ "=?utf-8?B?w6nDqQ==?=", "\xc3\xa9\xc3\xa9" },
	{ "=?UTF-8?b?w6nDqQ?=", "\xc3\xa9\xc3\xa9" },
	/* 5: RFC 2047 section 8 examples */
	{ "(=?ISO-8859-1?Q?a?=)", "(a)" },
	{ "(=?ISO-8859-1?Q?a?= b)", "(a b)" },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a_b?=)", "(a b)" },
	/* 10 */
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)" },
	/* a UTF-8 character split across two words */
	{ "=?utf-8?Q?=C3?= =?utf-8?Q?=A9?=", "\xc3\xa9" },
	{ "=?utf-8?B?w8==?= =?utf-8?B?qQ==?=", "\xc3\xa9" },
	/* language suffix (RFC 2231 5) */
	{ "=?utf-8*en?q?x?=", "x" },
	{ "=?ISO-8859-15?Q?=A4?=", "\xe2\x82\xac" },
	/* 15: broken words stay as they are */
	{ "=?utf-8?q?abc", "=?utf-8?q?abc" },
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=??q?abc?=", "=??q?abc?=" },
	{ "a =? b ?= c", "a =? b ?= c" },
	{ "=?", "=?" },
	/* 20: unknown charset: valid UTF-8 kept, the rest dropped */
	{ "=?x-unknown?q?a=FFb=C3=A9?=", "ab\xc3\xa9" },
	/* raw 8-bit: only valid UTF-8 is kept */
	{ "caf\xe9 ok", "caf ok" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	/* an encoded-word next to text without a blank (tolerated) */
	{ "x=?utf-8?q?y?=z", "xyz" },
	{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab" },
};

static void test_mime_decode_words(void **state)
{
	size_t i;

	for (i = 0; i < N(words_cases); i++) {
		size_t len = strlen(words_cases[i].in);
		char *in = dup_exact(words_cases[i].in, len);
		struct buf out;

		buf_init(&out, 0);
		assert_int_equal(mime_decode_words(in, len, &out), 0);
		check_str("words", i, buf_cstr(&out), words_cases[i].out);
		buf_deinit(&out);
		free(in);
	}
}

struct addr_case {
	const char *to;
	const char *list;	/* the env-to member */
};

static const struct addr_case addr_cases[] = {
	/* 0 */
	{ "Mary Smith <mary@x.test>", "((\"Mary Smith\" NIL \"mary\" \"x.test\"))" },
	{ "mary@x.test", "((NIL NIL \"mary\" \"x.test\"))" },
	{ "mary@x.test (Mary Smith)", "((NIL NIL \"mary\" \"x.test\"))" },
	{ "\"Smith, Mary\" <mary@x.test>, bob@y.test",
	  "((\"Smith, Mary\" NIL \"mary\" \"x.test\")(NIL NIL \"bob\" \"y.test\"))" },
	/* 4: RFC 5322 A.1.3 group */
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	  "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
	  "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL))" },
	{ "undisclosed-recipients:;",
	  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))" },
	{ "a@b.test, G: ; c@d.test",
	  "((NIL NIL \"a\" \"b.test\")(NIL NIL \"G\" NIL)(NIL NIL NIL NIL)"
	  "(NIL NIL \"c\" \"d.test\"))" },
	/* 7: obsolete route (RFC 5322 4.4) */
	{ "<@r1.test,@r2.test:u@x.test>", "((NIL \"@r1.test,@r2.test\" \"u\" \"x.test\"))" },
	/* 8: RFC 5322 A.5: comments everywhere */
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	  "((\"Pete\" NIL \"pete\" \"silly.test\"))" },
	{ "\"Joe Q. Public\" <john.q.public@example.com>",
	  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))" },
	/* 10: obs-phrase with a period */
	{ "Joe Q. Public <john.q.public@example.com>",
	  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))" },
	{ "\"a\\\"b\" <x@y.test>", "((\"a\\\"b\" NIL \"x\" \"y.test\"))" },
	/* 12: encoded words stay raw */
	{ "=?utf-8?q?J=C3=B6rg?= <j@x.test>", "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.test\"))" },
	{ "J\xc3\xb6rg <j@x.test>", "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.test\"))" },
	/* 14: no domain */
	{ "user", "((NIL NIL \"user\" \"\"))" },
	{ "", "NIL" },
	{ " , ,", "NIL" },
	/* 17: quoted local part is unquoted; domain literal kept */
	{ "\"john doe\"@example.com", "((NIL NIL \"john doe\" \"example.com\"))" },
	{ "a@[192.0.2.1]", "((NIL NIL \"a\" \"[192.0.2.1]\"))" },
	{ "Who? <one@y.test>", "((\"Who?\" NIL \"one\" \"y.test\"))" },
	/* 20: junk and unterminated forms */
	{ "<a@b.test", "((NIL NIL \"a\" \"b.test\"))" },
	{ "G: a@b.test", "((NIL NIL \"G\" NIL)(NIL NIL \"a\" \"b.test\")(NIL NIL NIL NIL))" },
	{ "a@b.test>, >c@d.test", "((NIL NIL \"a\" \"b.test\"))" },
	{ "<>", "((NIL NIL \"\" \"\"))" },
	{ "a . b @ c . d", "((NIL NIL \"a.b\" \"c.d\"))" },
};

static void test_mime_envelope_addresses(void **state)
{
	size_t i;

	for (i = 0; i < N(addr_cases); i++) {
		char text[512], want[1024];
		struct msg m;
		struct buf b;

		snprintf(text, sizeof(text), "To: %s\r\n\r\n", addr_cases[i].to);
		snprintf(want, sizeof(want), "(NIL NIL NIL NIL NIL %s NIL NIL NIL NIL)",
			 addr_cases[i].list);
		msg_parse(&m, text);
		buf_init(&b, 0);
		assert_int_equal(mime_envelope(m.data, m.len, m.root, &b), 0);
		check_str("address", i, buf_cstr(&b), want);
		buf_deinit(&b);
		msg_free(&m);
	}
}

static void test_mime_envelope_defaults(void **state)
{
	struct msg m;
	struct buf b;

	/* Sender given; Reply-To empty (RFC 9051: treated as absent); empty
	 * Subject is "", folded headers unfolded, 8-bit subject a literal */
	msg_parse(&m, "From: a@b.test\r\nSender: s@b.test\r\nReply-To:\r\nSubject:\r\n"
		      "In-Reply-To: <x@y>\r\nCc: c@d.test,\r\n e@f.test\r\nBcc: G:;\r\n\r\n");
	buf_init(&b, 0);
	assert_int_equal(mime_envelope(m.data, m.len, m.root, &b), 0);
	assert_string_equal(buf_cstr(&b),
		"(NIL \"\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"s\" \"b.test\")) "
		"((NIL NIL \"a\" \"b.test\")) NIL "
		"((NIL NIL \"c\" \"d.test\")(NIL NIL \"e\" \"f.test\")) "
		"((NIL NIL \"G\" NIL)(NIL NIL NIL NIL)) \"<x@y>\" NIL)");
	buf_deinit(&b);
	msg_free(&m);

	msg_parse(&m, "Subject: caf\xc3\xa9\r\n folded\r\n\r\n");
	buf_init(&b, 0);
	assert_int_equal(mime_envelope(m.data, m.len, m.root, &b), 0);
	assert_string_equal(buf_cstr(&b),
		"(NIL {12}\r\ncaf\xc3\xa9 folded NIL NIL NIL NIL NIL NIL NIL NIL)");
	buf_deinit(&b);
	msg_free(&m);
}

struct section_case {
	const char *section;
	const char *content;	/* NULL: not found */
};

static const struct section_case section_cases[] = {
	/* 0 */
	{ "1", "See attached." },
	{ "2.1", "plain" },
	{ "2.2", "<b>html</b>" },
	{ "2.2.MIME", "Content-Type: text/html\r\n\r\n" },
	{ "2.MIME", "Content-Type: message/rfc822\r\n"
		    "Content-Disposition: attachment; filename=\"inner.eml\"\r\n\r\n" },
	/* 5 */
	{ "2.HEADER", "From: Inner <inner@example.org>\r\nSubject: inner\r\n"
		      "Content-Type: multipart/alternative; boundary=YY\r\n\r\n" },
	{ "2.text", "--YY\r\nContent-Type: text/plain\r\n\r\nplain\r\n--YY\r\n"
		    "Content-Type: text/html\r\n\r\n<b>html</b>\r\n--YY--" },
	{ "HEADER", "From: sender@example.com\r\nSubject: fwd\r\n"
		    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n" },
	{ "1.MIME", "Content-Type: text/plain; charset=utf-8\r\n\r\n" },
	/* 9: not found */
	{ "3", NULL },
	{ "0", NULL },
	{ "1.", NULL },
	{ "1.HEADER", NULL },
	{ "2.1.1", NULL },
	{ "2.3", NULL },
	{ "MIME", NULL },
	{ "FOO", NULL },
	{ "2.1.TEXT", NULL },
	{ "01", NULL },
	{ "99999999999999999999", NULL },
	{ ".1", NULL },
};

static void test_mime_sections(void **state)
{
	struct msg m;
	size_t i;

	msg_parse(&m, msg_rfc822);
	for (i = 0; i < N(section_cases); i++) {
		struct buf f;
		size_t off = 0, len = 0;
		bool filtered = true;
		int ret;

		buf_init(&f, 0);
		ret = mime_section_find(m.data, m.len, m.root, section_cases[i].section, NULL, 0,
					&f, &off, &len, &filtered);
		if (section_cases[i].content == NULL) {
			if (ret == 0)
				fail_msg("case %zu %s: found", i, section_cases[i].section);
		} else {
			if (ret != 0)
				fail_msg("case %zu %s: not found", i, section_cases[i].section);
			assert_false(filtered);
			assert_true(off + len <= m.len);
			if (len != strlen(section_cases[i].content) ||
			    memcmp(m.data + off, section_cases[i].content, len) != 0)
				fail_msg("case %zu %s: got \"%.*s\"", i, section_cases[i].section,
					 (int)len, m.data + off);
		}
		buf_deinit(&f);
	}
	msg_free(&m);
}

static void test_mime_sections_single_part(void **state)
{
	struct msg m;
	struct buf f;
	size_t off, len;
	bool filtered;

	/* RFC 9051 6.4.5: a non-multipart message has part 1, its body */
	msg_parse(&m, msg_simple);
	buf_init(&f, 0);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "1", NULL, 0, &f, &off, &len,
					   &filtered), 0);
	assert_int_equal(off, m.root->body_start);
	assert_int_equal(len, 52);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "", NULL, 0, &f, &off, &len,
					   &filtered), 0);
	assert_true(off == 0 && len == m.len);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "TEXT", NULL, 0, &f, &off, &len,
					   &filtered), 0);
	assert_int_equal(len, 52);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "2", NULL, 0, &f, &off, &len,
					   &filtered), -1);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "1.1", NULL, 0, &f, &off, &len,
					   &filtered), -1);
	assert_ptr_equal(mime_part_find(m.root, "1"), m.root);
	assert_ptr_equal(mime_part_find(m.root, ""), m.root);
	assert_null(mime_part_find(m.root, "2"));
	buf_deinit(&f);
	msg_free(&m);
}

static void test_mime_header_fields(void **state)
{
	static const char *const fields[] = { "subject", "FROM" };
	static const char *const not_fields[] = { "subject", "from", "to" };
	static const char text[] =
		"From: a@b.test\r\nSubject: one\r\n two\r\nTo: c@d.test\r\nX-A: 1\r\n\r\nbody";
	struct msg m;
	struct buf f;
	size_t off, len;
	bool filtered = false;

	msg_parse(&m, text);
	buf_init(&f, 0);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "HEADER.FIELDS", fields, 2, &f,
					   &off, &len, &filtered), 0);
	assert_true(filtered);
	assert_string_equal(buf_cstr(&f), "From: a@b.test\r\nSubject: one\r\n two\r\n\r\n");
	buf_reset(&f);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "header.fields.not", not_fields,
					   3, &f, &off, &len, &filtered), 0);
	assert_string_equal(buf_cstr(&f), "X-A: 1\r\n\r\n");
	buf_reset(&f);
	/* nothing matches: just the blank line */
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "HEADER.FIELDS", not_fields + 2,
					   0, &f, &off, &len, &filtered), 0);
	assert_string_equal(buf_cstr(&f), "\r\n");
	buf_deinit(&f);
	msg_free(&m);

	/* of an encapsulated message, and with a last line without CRLF */
	msg_parse(&m, "Content-Type: message/rfc822\r\n\r\nSubject: in\r\nX: y");
	buf_init(&f, 0);
	assert_int_equal(mime_section_find(m.data, m.len, m.root, "1.HEADER.FIELDS.NOT", fields, 1,
					   &f, &off, &len, &filtered), 0);
	assert_string_equal(buf_cstr(&f), "X: y\r\n\r\n");
	buf_deinit(&f);
	msg_free(&m);
}

static void test_mime_header_get(void **state)
{
	static const char hdr[] = "X-A: one\r\nx-a:\ttwo\r\n  folded \r\nSubject : s\r\nbad line\r\n"
				  "X-A: hidden\r\n\r\n";
	char *h = dup_exact(hdr, strlen(hdr));
	struct buf b;

	buf_init(&b, 0);
	assert_true(mime_header_get(h, strlen(hdr), "x-a", 0, &b));
	assert_string_equal(buf_cstr(&b), "one");
	buf_reset(&b);
	assert_true(mime_header_get(h, strlen(hdr), "X-A", 1, &b));
	assert_string_equal(buf_cstr(&b), "two  folded");
	buf_reset(&b);
	assert_true(mime_header_get(h, strlen(hdr), "subject", 0, &b));
	assert_string_equal(buf_cstr(&b), "s");
	buf_reset(&b);
	/* a line that is no field ends the header */
	assert_false(mime_header_get(h, strlen(hdr), "x-a", 2, &b));
	assert_int_equal(mime_header_get_all(h, strlen(hdr), "x-a", ", ", &b), 2);
	assert_string_equal(buf_cstr(&b), "one, two  folded");
	buf_deinit(&b);
	free(h);
}

static size_t count_parts(const struct mime_part *p, size_t depth, size_t *max_depth)
{
	size_t n = 1, i;

	if (depth > *max_depth)
		*max_depth = depth;
	for (i = 0; i < p->n_children; i++)
		n += count_parts(&p->children[i], depth + 1, max_depth);
	if (p->message != NULL)
		n += count_parts(p->message, depth + 1, max_depth);
	return n;
}

/* Parses text and checks it gives a tree whose BODYSTRUCTURE renders. */
static void parse_robust(const char *text, size_t len, const struct mime_limits *lim,
			 size_t *parts_r, size_t *depth_r)
{
	struct msg m;
	struct buf b;

	msg_parse_len(&m, text, len, lim);
	*depth_r = 0;
	*parts_r = count_parts(m.root, 0, depth_r);
	buf_init(&b, 0);
	assert_int_equal(mime_bodystructure(m.data, m.len, m.root, true, &b), 0);
	assert_true(b.len > 0 && b.data[0] == '(' && b.data[b.len - 1] == ')');
	buf_reset(&b);
	assert_int_equal(mime_envelope(m.data, m.len, m.root, &b), 0);
	buf_deinit(&b);
	msg_free(&m);
}

static void test_mime_malformed(void **state)
{
	static const char *const cases[] = {
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nabc\r\n--x\r\n\r\ndef",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\nno delimiter at all\r\n",
		"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\n",
		"Subject: a\r\nbody line without blank\r\n",
		"Subject: a",
		"Subject: a\r\n folded\r",
		" leading continuation\r\n\r\nbody",
		":\r\n\r\n",
		"\r\n",
		"\n",
		"Content-Type: message/rfc822\r\n\r\n",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n--x\r\n",
		"Content-Type: /; boundary\r\nContent-Transfer-Encoding:\r\n\r\n",
		"Content-Type: text/plain; a*0*=''; a*1*=%; a*99999999999=x; =; ;;;\r\n\r\n",
		"To: \"unterminated\r\nCc: (unterminated comment\r\nFrom: <<<@@@,,,:::;;;>>>\r\n\r\n",
	};
	size_t i, parts, depth;
	struct msg m;

	for (i = 0; i < N(cases); i++)
		parse_robust(cases[i], strlen(cases[i]), NULL, &parts, &depth);

	/* missing final boundary: the last part runs to the end */
	msg_parse(&m, cases[0]);
	assert_int_equal(m.root->n_children, 2);
	assert_int_equal(m.root->children[1].body_len, 3);
	assert_memory_equal(m.data + m.root->children[1].body_start, "def", 3);
	msg_free(&m);
	/* no blank line: the header ends at the first line that is no field */
	msg_parse(&m, cases[3]);
	assert_int_equal(m.root->header_len, 12);
	assert_int_equal(m.root->body_len, strlen("body line without blank\r\n"));
	msg_free(&m);
	msg_parse(&m, cases[4]);
	assert_int_equal(m.root->header_len, 10);
	assert_int_equal(m.root->body_len, 0);
	msg_free(&m);
}

static void test_mime_binary_garbage(void **state)
{
	size_t len = 64 * 1024, i, parts, depth;
	char *text = malloc(len);
	uint32_t x = 12345;

	assert_non_null(text);
	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		text[i] = (char)(x >> 16);
		/* sprinkle structure so the parser has something to chew on */
		if (i % 997 == 0 && i + 60 < len) {
			memcpy(text + i, "\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n", 52);
			i += 51;
		}
	}
	parse_robust(text, len, NULL, &parts, &depth);
	free(text);
}

static void test_mime_deep_nesting(void **state)
{
	struct buf t;
	size_t i, parts, depth;
	struct mime_limits lim = MIME_LIMITS_DEFAULT;

	/* 1000 nested multiparts, each with its own boundary */
	buf_init(&t, 0);
	for (i = 0; i < 1000; i++)
		buf_printf(&t, "Content-Type: multipart/mixed; boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
	buf_append_str(&t, "\r\ninnermost\r\n");
	parse_robust(t.data, t.len, NULL, &parts, &depth);
	assert_int_equal(depth, MIME_DEPTH_MAX_DEFAULT);
	/* 1000 nested message/rfc822 */
	buf_reset(&t);
	for (i = 0; i < 1000; i++)
		buf_append_str(&t, "Content-Type: message/rfc822\r\n\r\n");
	parse_robust(t.data, t.len, NULL, &parts, &depth);
	assert_int_equal(depth, MIME_DEPTH_MAX_DEFAULT);
	/* a huge max_depth is clamped to the hard limit */
	lim.max_depth = 100000;
	parse_robust(t.data, t.len, &lim, &parts, &depth);
	assert_int_equal(depth, MIME_DEPTH_MAX_HARD);
	buf_deinit(&t);
}

static void test_mime_limits(void **state)
{
	struct mime_limits lim = { 32, 10, 10000 };
	struct buf t;
	size_t i, parts, depth;

	buf_init(&t, 0);
	buf_append_str(&t, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (i = 0; i < 100; i++)
		buf_append_str(&t, "--x\r\n\r\npart\r\n");
	buf_append_str(&t, "--x--\r\n");
	parse_robust(t.data, t.len, &lim, &parts, &depth);
	assert_int_equal(parts, 10);
	parse_robust(t.data, t.len, NULL, &parts, &depth);
	assert_int_equal(parts, 101);
	buf_reset(&t);
	/* header lines past the limit are not looked at */
	lim.max_header_lines = 2;
	buf_append_str(&t, "A: 1\r\nB: 2\r\nContent-Type: text/html\r\n\r\nx");
	{
		struct msg m;

		msg_parse_len(&m, t.data, t.len, &lim);
		assert_string_equal(m.root->subtype, "plain");
		assert_int_equal(m.root->body_len, 1);
		msg_free(&m);
	}
	buf_deinit(&t);
}

struct decode_case {
	const char *encoding;
	const char *in;
	const char *out;	/* NULL: unknown encoding */
};

static const struct decode_case decode_cases[] = {
	/* 0: base64 */
	{ "base64", "aGVsbG8gd29y\r\nbGQ=\r\n", "hello world" },
	{ "BASE64", "aGVsbG8", "hello" },
	{ "base64", "aGV sbG8=!!", "hello" },
	{ "base64", "", "" },
	{ "base64", "YQ==YWI=", "aab" },
	/* 5 */
	{ "base64", "Y", "" },
	{ "base64", "====", "" },
	/* 7: quoted-printable */
	{ "quoted-printable", "Caf=E9 =3D soft=\r\nbreak", "Caf\xe9 = softbreak" },
	{ "quoted-printable", "a=\nb", "ab" },
	{ "quoted-printable", "trailing   \r\nx", "trailing\r\nx" },
	/* 10 */
	{ "quoted-printable", "=XY =4", "=XY =4" },
	{ "quoted-printable", "a=", "a" },
	{ "quoted-printable", "=e9=C3=a9", "\xe9\xc3\xa9" },
	{ "quoted-printable", "a \t=\r\nb", "a \tb" },
	{ "quoted-printable", "soft with blanks=  \r\nnext", "soft with blanksnext" },
	/* 15: identity */
	{ NULL, "a\r\n\x80", "a\r\n\x80" },
	{ "7bit", "x", "x" },
	{ "8BIT", "\xff", "\xff" },
	{ "binary", "b", "b" },
	/* 19: unknown */
	{ "x-uuencode", "begin", NULL },
	{ "base-64", "", NULL },
};

static void test_mime_decode_body(void **state)
{
	size_t i;

	for (i = 0; i < N(decode_cases); i++) {
		size_t len = strlen(decode_cases[i].in);
		char *in = dup_exact(decode_cases[i].in, len);
		struct buf out;
		int ret;

		buf_init(&out, 0);
		ret = mime_decode_body(decode_cases[i].encoding, in, len, &out);
		if (decode_cases[i].out == NULL) {
			if (ret != -1)
				fail_msg("case %zu: accepted", i);
		} else {
			if (ret != 0)
				fail_msg("case %zu: refused", i);
			check_str("decode", i, buf_cstr(&out), decode_cases[i].out);
		}
		buf_deinit(&out);
		free(in);
	}
}

struct subject_case {
	const char *in;
	const char *base;
	int reply;
};

static const struct subject_case subject_cases[] = {
	/* 0 */
	{ "hello", "hello", 0 },
	{ "Re: hello", "hello", 1 },
	{ "RE: Re: re: hello", "hello", 1 },
	{ "Fwd: hello", "hello", 1 },
	{ "Fw: hello", "hello", 1 },
	/* 5 */
	{ "[fwd: hello]", "hello", 1 },
	{ "hello (fwd)", "hello", 1 },
	{ "hello (FWD)  (fwd) ", "hello", 1 },
	{ "[list] Re: hello", "hello", 1 },
	{ "Re: [list] hello", "hello", 1 },
	/* 10 */
	{ "[list] hello", "hello", 0 },
	{ "[list]", "[list]", 0 },
	{ "Re [x]: hi", "hi", 1 },
	{ "  hello \t  world  ", "hello world", 0 },
	{ "Re:", "", 1 },
	/* 15 */
	{ "", "", 0 },
	{ "[fwd: Re: hello] (fwd)", "hello", 1 },
	{ "Fw: [fwd: [fwd: hi]]", "hi", 1 },
	{ "Re: Fwd: [a][b] Re: x", "x", 1 },
	{ "Rebecca", "Rebecca", 0 },
	/* 20 */
	{ "Re : x", "x", 1 },
	{ "Re:x", "x", 1 },
	{ "[a] [b]", "[b]", 0 },
	{ "Caf\xc3\xa9 Re: x", "Caf\xc3\xa9 Re: x", 0 },
	{ "[fwd: x", "[fwd: x", 0 },
};

static void test_mime_base_subject(void **state)
{
	size_t i;

	for (i = 0; i < N(subject_cases); i++) {
		struct buf out;
		int ret;

		buf_init(&out, 0);
		ret = mail_base_subject(subject_cases[i].in, &out);
		check_str("subject", i, buf_cstr(&out), subject_cases[i].base);
		if (ret != subject_cases[i].reply)
			fail_msg("subject case %zu: reply %d", i, ret);
		buf_deinit(&out);
	}
}

struct date_case {
	const char *in;
	long long when;	/* -2: invalid */
	int tz;
};

static const struct date_case date_cases[] = {
	/* 0 */
	{ "Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360 },
	{ "21 Nov 1997 09:55:06 GMT", 880106106, 0 },
	{ "Thu, 1 Jan 1970 00:00:00 +0000", 0, 0 },
	{ "1 jan 99 10:00 EST", 915202800, -300 },
	{ "Mon, 1 Jan 2024 10:00:00 +0100 (CET)", 1704099600, 60 },
	/* 5 */
	{ "Tue, 29 Feb 2000 12:00:00 +0000", 951825600, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777, 0 },
	{ "  Sun ,  6 Nov 94 08:49:37 (c) -0000 ", 784111777, 0 },
	{ "6 Nov 1994 08:49:37", 784111777, 0 },
	{ "Sun, 06 Nov 1994 08:49:60 +0530", 784111799 - 19800, 330 },
	/* 10: garbage */
	{ "", -2, 0 },
	{ "hello", -2, 0 },
	{ "32 Jan 2000 00:00 +0000", -2, 0 },
	{ "29 Feb 2001 00:00:00 +0000", -2, 0 },
	{ "1 Foo 2000 00:00", -2, 0 },
	/* 15 */
	{ "1 Jan 2000 25:00", -2, 0 },
	{ "1 Jan 2000", -2, 0 },
	{ "1 Jan 2000 10:00 +0099", -2, 0 },
	{ "1 Jan 2000 10:0a", -2, 0 },
	{ "1 Jan 1800 10:00", -2, 0 },
};

static void test_mime_date(void **state)
{
	size_t i;

	for (i = 0; i < N(date_cases); i++) {
		size_t len = strlen(date_cases[i].in);
		char *in = dup_exact(date_cases[i].in, len);
		time_t when = 0;
		int tz = 0, ret;

		ret = mail_date_parse(in, len, &when, &tz);
		if (date_cases[i].when == -2) {
			if (ret != -1)
				fail_msg("date case %zu: accepted as %lld", i, (long long)when);
		} else if (ret != 0 || (long long)when != date_cases[i].when || tz != date_cases[i].tz) {
			fail_msg("date case %zu: ret %d when %lld tz %d", i, ret, (long long)when, tz);
		}
		free(in);
	}
}

static void test_mime_msgids(void **state)
{
	static const char refs[] = "<a@b> junk <c@d> (<no@comment>) <nope> < s p @ x >\r\n <e@f";
	struct mail_msgid_list l = { NULL, 0 };

	mail_msgid_list_parse(refs, strlen(refs), &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.ids[0], "a@b");
	assert_string_equal(l.ids[1], "c@d");
	assert_string_equal(l.ids[2], "sp@x");
	mail_msgid_list_deinit(&l);
	assert_int_equal(l.n, 0);

	/* RFC 5256 THREAD REFERENCES step 1: In-Reply-To only if no References id */
	mail_thread_references("<x@y>", 5, "<i@j> <k@l>", 11, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ids[0], "x@y");
	mail_msgid_list_deinit(&l);
	mail_thread_references("garbage", 7, "<i@j> <k@l>", 11, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ids[0], "i@j");
	mail_msgid_list_deinit(&l);
	mail_thread_references(NULL, 0, NULL, 0, &l);
	assert_int_equal(l.n, 0);
}

static void test_mime_extract_text(void **state)
{
	struct msg m;
	struct buf h, t;

	msg_parse(&m, msg_nested);
	buf_init(&h, 0);
	buf_init(&t, 0);
	assert_int_equal(mime_extract_text(m.data, m.len, m.root, &h, &t, 0), 0);
	/* alternative: the plain part, QP and latin-1 decoded; no attachment */
	assert_string_equal(buf_cstr(&t), "Caf\xc3\xa9\n");
	assert_string_equal(buf_cstr(&h), "Content-Type: multipart/mixed; boundary=outer\n");
	msg_free(&m);

	buf_reset(&h);
	buf_reset(&t);
	msg_parse(&m, "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
		      "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
		      "\r\n"
		      "PGh0bWw+PHNjcmlwdD54PC9zY3JpcHQ+PGI+SGk8L2I+ICZhbXA7ICYjMjMzOzwvaHRtbD4=\r\n");
	assert_int_equal(mime_extract_text(m.data, m.len, m.root, &h, &t, 0), 0);
	/* <html><script>x</script><b>Hi</b> &amp; &#233;</html> */
	assert_string_equal(buf_cstr(&t), "   Hi  & \xc3\xa9 \n");
	assert_non_null(strstr(buf_cstr(&h), "Subject: caf\xc3\xa9\n"));
	msg_free(&m);

	/* message/rfc822: its headers and text count as body; output bounded */
	buf_reset(&h);
	buf_reset(&t);
	msg_parse(&m, msg_rfc822);
	assert_int_equal(mime_extract_text(m.data, m.len, m.root, &h, &t, 0), 0);
	assert_non_null(strstr(buf_cstr(&t), "See attached.\n"));
	assert_non_null(strstr(buf_cstr(&t), "Subject: inner\n"));
	assert_non_null(strstr(buf_cstr(&t), "plain\n"));
	assert_null(strstr(buf_cstr(&t), "html"));
	buf_reset(&h);
	buf_reset(&t);
	assert_int_equal(mime_extract_text(m.data, m.len, m.root, &h, &t, 10), 0);
	assert_true(h.len <= 10 && t.len <= 10);
	buf_deinit(&h);
	buf_deinit(&t);
	msg_free(&m);
}

static void test_mime_summary(void **state)
{
	static const char text[] =
		"From: \"Doe, John\" <John.Doe@Example.COM>\r\n"
		"To: undisclosed:;, =?utf-8?q?M=C3=A4ry?= <mary@x.test>\r\n"
		"Subject: Re: [list] =?utf-8?q?caf=C3=A9?= (fwd)\r\n"
		"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
		"Message-ID: <1234@local.machine.example>\r\n"
		"In-Reply-To: <p@x>\r\n"
		"\r\n"
		"body\r\n";
	char *in = dup_exact(text, strlen(text));
	struct mime_summary s;

	assert_int_equal(mime_summarize(in, strlen(text), NULL, &s), 0);
	assert_int_equal((long long)s.sent_date, 880127706);
	assert_int_equal(s.sent_tz, -360);
	assert_string_equal(s.subject, "Re: [list] caf\xc3\xa9 (fwd)");
	assert_string_equal(s.base_subject, "caf\xc3\xa9");
	assert_true(s.subject_is_reply);
	assert_string_equal(s.sort_from, "John.Doe");
	assert_string_equal(s.display_from, "Doe, John");
	assert_string_equal(s.sort_to, "mary");
	assert_string_equal(s.display_to, "M\xc3\xa4ry");
	assert_string_equal(s.sort_cc, "");
	assert_string_equal(s.message_id, "1234@local.machine.example");
	assert_string_equal(s.references, "p@x");
	assert_string_equal(s.body, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1)");
	assert_non_null(strstr(s.envelope, "((\"Doe, John\" NIL \"John.Doe\" \"Example.COM\"))"));
	assert_int_equal(s.header_len, strlen(text) - 6);
	assert_int_equal(s.body_lines, 1);
	mime_summary_free(&s);
	assert_null(s.envelope);

	/* nothing usable: every string still set */
	assert_int_equal(mime_summarize(in, 0, NULL, &s), 0);
	assert_int_equal((long long)s.sent_date, -1);
	assert_string_equal(s.subject, "");
	assert_string_equal(s.sort_from, "");
	assert_string_equal(s.display_from, "");
	assert_string_equal(s.references, "");
	assert_string_equal(s.envelope, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	mime_summary_free(&s);
	free(in);
}

static void test_mime_imap_string(void **state)
{
	static const struct { const char *in; size_t len; const char *out; } cases[] = {
		{ "abc", 3, "\"abc\"" },
		{ "", 0, "\"\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "a\r\nb", 4, "{4}\r\na\r\nb" },
		{ "\xc3\xa9", 2, "{2}\r\n\xc3\xa9" },
		{ "a\0b", 3, "\"ab\"" },
		{ "\xc3\0", 2, "{1}\r\n\xc3" },
	};
	size_t i;
	struct buf b;

	buf_init(&b, 0);
	for (i = 0; i < N(cases); i++) {
		buf_reset(&b);
		assert_int_equal(mime_imap_string(&b, cases[i].in, cases[i].len), 0);
		check_str("imap string", i, buf_cstr(&b), cases[i].out);
	}
	buf_reset(&b);
	assert_int_equal(mime_imap_nstring(&b, NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "NIL");
	/* too long for a quoted string */
	{
		char *big = malloc(2000);

		memset(big, 'x', 2000);
		buf_reset(&b);
		assert_int_equal(mime_imap_string(&b, big, 2000), 0);
		assert_memory_equal(b.data, "{2000}\r\nxxx", 11);
		free(big);
	}
	/* a full buffer is reported */
	buf_deinit(&b);
	buf_init(&b, 4);
	assert_int_equal(mime_imap_string(&b, "abcdef", 6), -1);
	buf_deinit(&b);
}

/* Inputs that would take quadratic time in a naive parser: they must
 * finish within the test timeout (nothing is timed here). */
static void test_mime_pathological_inputs(void **state)
{
	static const struct { const char *prefix, *unit, *suffix; size_t n; } cases[] = {
		{ "Subject: ", "=?a?q?", "\r\n\r\nx", 50000 },
		{ "Subject: ", "[fwd: ", "x\r\n\r\nx", 20000 },
		{ "Subject: ", "[a]", "\r\n\r\nx", 50000 },
		{ "References: ", "<", ">\r\n\r\nx", 100000 },
		{ "To: ", "a,", "\r\n\r\nx", 50000 },
		{ "To: ", "\"", "\r\n\r\nx", 100000 },
		{ "Content-Type: multipart/mixed; boundary=x\r\n\r\n", "--x\r\n\r\n", "", 20000 },
		{ "Content-Type: text/plain; ", "a*0=b; ", "\r\n\r\nx", 20000 },
		{ "", "X: y\r\n", "\r\nx", 50000 },
	};
	size_t i, k;

	for (i = 0; i < N(cases); i++) {
		struct mime_summary sum;
		struct buf t, h, b;
		struct msg m;

		buf_init(&t, 0);
		buf_append_str(&t, cases[i].prefix);
		for (k = 0; k < cases[i].n; k++)
			buf_append_str(&t, cases[i].unit);
		buf_append_str(&t, cases[i].suffix);
		msg_parse_len(&m, t.data, t.len, NULL);
		buf_init(&h, 0);
		buf_init(&b, 0);
		assert_int_equal(mime_extract_text(m.data, m.len, m.root, &h, &b, 0), 0);
		assert_int_equal(mime_summarize(m.data, m.len, NULL, &sum), 0);
		mime_summary_free(&sum);
		buf_deinit(&h);
		buf_deinit(&b);
		buf_deinit(&t);
		msg_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mime_simple_text),
		cmocka_unit_test(test_mime_bodystructure),
		cmocka_unit_test(test_mime_nested_tree),
		cmocka_unit_test(test_mime_rfc822_and_digest),
		cmocka_unit_test(test_mime_rfc2231_params),
		cmocka_unit_test(test_mime_rfc2231_bodystructure),
		cmocka_unit_test(test_mime_decode_words),
		cmocka_unit_test(test_mime_envelope_addresses),
		cmocka_unit_test(test_mime_envelope_defaults),
		cmocka_unit_test(test_mime_sections),
		cmocka_unit_test(test_mime_sections_single_part),
		cmocka_unit_test(test_mime_header_fields),
		cmocka_unit_test(test_mime_header_get),
		cmocka_unit_test(test_mime_malformed),
		cmocka_unit_test(test_mime_binary_garbage),
		cmocka_unit_test(test_mime_deep_nesting),
		cmocka_unit_test(test_mime_limits),
		cmocka_unit_test(test_mime_pathological_inputs),
		cmocka_unit_test(test_mime_decode_body),
		cmocka_unit_test(test_mime_base_subject),
		cmocka_unit_test(test_mime_date),
		cmocka_unit_test(test_mime_msgids),
		cmocka_unit_test(test_mime_extract_text),
		cmocka_unit_test(test_mime_summary),
		cmocka_unit_test(test_mime_imap_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
