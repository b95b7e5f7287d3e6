/*
 * Unit tests for the FETCH attribute parser (src/imap/imap_fetch.c):
 * macros, every simple attribute, BODY[section]<partial> with the section
 * grammar of RFC 9051 9 (MIME only after a part, HEADER.FIELDS needs a
 * list), BINARY (RFC 3516) and the RFC 7162 modifiers. Each command is
 * tokenized from an exact-length copy, so ASan sees any overread.
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
#include "imap/imap_fetch.h"
#include "imap/imap_seqset.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fetch_case {
	const char *cmd;	/* "t [UID ]FETCH 1 " is prepended */
	bool uid;
	const char *want;	/* items as "name" + "!" for peek, then
				 * "|C<n>" / "|V" modifiers; or "E:<error>" */
};

static const struct fetch_case cases[] = {
	/* 0: macros and simple attributes */
	{ "ALL", false, "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE" },
	{ "fast", false, "FLAGS INTERNALDATE RFC822.SIZE" },
	{ "FULL", false, "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY" },
	{ "(ALL)", false, "E:Unknown FETCH attribute" },
	{ "(ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ)",
	  false,
	  "ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ" },
	/* 5: sections */
	{ "BODY[]", false, "BODY[]" },
	{ "body.peek[]", false, "BODY[]!" },
	{ "BODY[TEXT]<0.2048>", false, "BODY[TEXT]<0>/2048" },
	{ "(UID BODY.PEEK[HEADER.FIELDS (From To \"Message-ID\")])", false,
	  "UID BODY[HEADER.FIELDS (From To Message-ID)]!" },
	{ "BODY[1.2.3.HEADER.FIELDS.NOT (X-Spam)]", false, "BODY[1.2.3.HEADER.FIELDS.NOT (X-Spam)]" },
	/* 10 */
	{ "BODY[1.MIME]", false, "BODY[1.MIME]" },
	{ "BODY[MIME]", false, "E:Invalid section" },
	{ "BODY[4.2.TEXT]<10.1>", false, "BODY[4.2.TEXT]<10>/1" },
	{ "BODY[1]", false, "BODY[1]" },
	{ "BODY[HEADER]", false, "BODY[HEADER]" },
	/* 15: malformed sections */
	{ "BODY[0]", false, "E:Invalid section part number" },
	{ "BODY[1.]", false, "E:Invalid section part number" },
	{ "BODY[1..2]", false, "E:Invalid section" },
	{ "BODY[01]", false, "E:Invalid section part number" },
	{ "BODY[4294967296]", false, "E:Invalid section part number" },
	/* 20 */
	{ "BODY[HEADER.FIELDS]", false, "E:HEADER.FIELDS needs a list of field names" },
	{ "BODY[HEADER.FIELDS ()]", false, "E:HEADER.FIELDS needs a list of field names" },
	{ "BODY[HEADER.FIELDS (a:b)]", false, "E:Invalid header field name" },
	{ "BODY[HEADER.FIELDS ((a))]", false, "E:Expected a string" },
	{ "BODY[TEXT (a)]", false, "E:Unexpected extra arguments" },
	/* 25 */
	{ "BODY[FOO]", false, "E:Invalid section" },
	{ "BODY[TEXT]<>", false, "E:Invalid partial <offset.count>" },
	{ "BODY[TEXT]<1.0>", false, "E:Invalid partial <offset.count>" },
	{ "BODY[TEXT]<1>", false, "E:Invalid partial <offset.count>" },
	{ "BODY[TEXT]<-1.5>", false, "E:Invalid partial <offset.count>" },
	/* 30 */
	{ "BODY[TEXT]<99999999999999999999.5>", false, "E:Invalid partial <offset.count>" },
	{ "BODY[TEXT]x", false, "E:Invalid partial <offset.count>" },
	{ "BODY[", false, "E:Missing ']'" },
	{ "BINARY[1.2]", false, "BINARY[1.2]" },
	{ "BINARY.PEEK[]<0.10>", false, "BINARY[]<0>/10!" },
	/* 35 */
	{ "BINARY.SIZE[3]", false, "BINARY.SIZE[3]" },
	{ "BINARY.SIZE[3]<0.1>", false, "E:BINARY.SIZE takes no partial" },
	{ "BINARY[HEADER]", false, "E:BINARY takes only part numbers" },
	{ "BINARY[1.TEXT]", false, "E:BINARY takes only part numbers" },
	{ "BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33]",
	  false, "E:Invalid section part number" },
	/* 40: modifiers (RFC 7162) */
	{ "(FLAGS) (CHANGEDSINCE 12345)", false, "FLAGS|C12345" },
	{ "(FLAGS) (CHANGEDSINCE 12345 VANISHED)", true, "FLAGS|C12345|V" },
	{ "(FLAGS) (CHANGEDSINCE 12345 VANISHED)", false,
	  "E:VANISHED needs UID FETCH and CHANGEDSINCE" },
	{ "(FLAGS) (VANISHED)", true, "E:VANISHED needs UID FETCH and CHANGEDSINCE" },
	{ "(FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", false, "E:Unknown or repeated FETCH modifier" },
	/* 45 */
	{ "(FLAGS) (CHANGEDSINCE 9223372036854775808)", false, "E:Expected a 63-bit number" },
	{ "(FLAGS) (CHANGEDSINCE 1) extra", false, "E:Unexpected extra arguments" },
	{ "()", false, "E:Empty FETCH attribute list" },
	{ "", false, "E:Missing FETCH attributes" },
	{ "(FLAGS FOO)", false, "E:Unknown FETCH attribute" },
	/* 50 */
	{ "\"FLAGS\"", false, "E:Unknown FETCH attribute" },
	{ "(FLAGS (UID))", false, "E:Unknown FETCH attribute" },
	{ "BODY.PEEK", false, "E:Unknown FETCH attribute" },
	{ "BODY[HEADER.FIELDS (\"Subject\" {0}", false, "E:Literal without data" },
};

static void dump_fetch(const struct imap_fetch *f, struct buf *out)
{
	unsigned i;

	for (i = 0; i < f->count; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		assert_int_equal(imap_fetch_item_name(&f->items[i], out), 0);
		if (f->items[i].partial)
			buf_printf(out, "/%llu", (unsigned long long)f->items[i].count);
		if (f->items[i].peek)
			buf_append_char(out, '!');
	}
	if (f->changedsince)
		buf_printf(out, "|C%llu", (unsigned long long)f->changedsince_modseq);
	if (f->vanished)
		buf_append_str(out, "|V");
}

static void test_fetch_cases(void **state)
{
	struct imap_limits lim;
	struct imap_args args;
	size_t i;

	imap_limits_default(&lim);
	imap_args_init(&args);
	for (i = 0; i < N(cases); i++) {
		char *line = NULL;
		struct imap_command cmd;
		struct imap_cursor cur;
		struct imap_seqset set;
		struct imap_fetch f;
		struct buf out;
		const char *error;
		size_t len;
		int ret;

		buf_init(&out, 0);
		imap_seqset_init(&set, 10);
		len = (size_t)asprintf(&line, "t %sFETCH 1 %s", cases[i].uid ? "UID " : "",
				       cases[i].cmd);
		line = realloc(line, len);	/* exact length for ASan */
		ret = imap_parse_line(&lim, line, len, &args, &cmd, &error);
		if (ret == 0) {
			imap_cursor_init(&cur, &cmd);
			assert_int_equal(imap_arg_seqset(&cur, &set), 0);
			ret = imap_fetch_parse(&cur, cmd.uid, &f);
			error = cur.error;
		}
		if (ret == 0) {
			dump_fetch(&f, &out);
			imap_fetch_deinit(&f);
		} else {
			buf_printf(&out, "E:%s", error);
		}
		if (strcmp(buf_cstr(&out), cases[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].cmd,
				 buf_cstr(&out), cases[i].want);
		imap_seqset_deinit(&set);
		buf_deinit(&out);
		free(line);
	}
	imap_args_deinit(&args);
}

static void test_fetch_section_fields(void **state)
{
	struct imap_limits lim;
	struct imap_args args;
	struct imap_command cmd;
	struct imap_cursor cur;
	struct imap_fetch f;
	const char *error;
	char line[] = "t FETCH 1:* (BODY.PEEK[2.1.HEADER.FIELDS (Subject FROM)]<5.7>)";
	const struct imap_fetch_item *it;
	const struct imap_arg *seqset;

	imap_limits_default(&lim);
	imap_args_init(&args);
	assert_int_equal(imap_parse_line(&lim, line, strlen(line), &args, &cmd, &error), 0);
	imap_cursor_init(&cur, &cmd);
	assert_int_equal(imap_arg_next(&cur, &seqset), 0);
	assert_int_equal(imap_fetch_parse(&cur, false, &f), 0);
	assert_int_equal(f.count, 1);
	it = &f.items[0];
	assert_int_equal(it->att, IMAP_FETCH_BODY_SECTION);
	assert_true(it->peek);
	assert_int_equal(it->section.nparts, 2);
	assert_int_equal(it->section.part[0], 2);
	assert_int_equal(it->section.part[1], 1);
	assert_int_equal(it->section.text, IMAP_SECTION_HEADER_FIELDS);
	assert_int_equal(it->section.nfields, 2);
	assert_memory_equal(it->section.fields[1].name, "FROM", 4);
	assert_true(it->partial);
	assert_int_equal(it->offset, 5);
	assert_int_equal(it->count, 7);
	imap_fetch_deinit(&f);
	assert_null(f.items);
	imap_args_deinit(&args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_cases),
		cmocka_unit_test(test_fetch_section_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
