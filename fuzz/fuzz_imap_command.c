/*
 * libFuzzer target for the IMAP parser layer: the input is a client byte
 * stream. It is fed to struct imap_reader in chunks whose sizes come from
 * a hash of the input (so one input always splits the same way), big
 * literals are taken or refused as a session would, and every complete
 * command is tokenized and handed to the grammar its name calls for
 * (FETCH, SEARCH, SORT, THREAD, STORE, LIST, STATUS, APPEND, sequence
 * sets). Besides memory errors it checks the reader's accounting, that
 * errors carry text, and that formatted sequence sets and mUTF-7 names
 * parse back to themselves.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "imap/imap_fetch.h"
#include "imap/imap_grammar.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"
#include "imap/imap_utf7.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imap_limits limits;

static void check_seqset(struct imap_cursor *cur)
{
	struct imap_seqset set, again;
	struct buf out;
	const char *error;

	imap_seqset_init(&set, limits.max_seqset_ranges);
	imap_seqset_init(&again, limits.max_seqset_ranges);
	buf_init(&out, 0);
	if (imap_arg_seqset(cur, &set) == 0) {
		imap_seqset_resolve(&set, 1000);
		CHECK(!set.saved || set.count == 0);
		CHECK(imap_seqset_format(&set, &out) == 0);
		if (set.count > 0) {
			CHECK(imap_seqset_parse(&again, out.data, out.len, &error) == 0);
			imap_seqset_resolve(&again, 1000);
			CHECK(again.count == set.count);
			CHECK(memcmp(again.ranges, set.ranges, set.count * sizeof(*set.ranges)) == 0);
			CHECK(imap_seqset_contains(&set, imap_seqset_min(&set)));
			CHECK(imap_seqset_count(&set) >= set.count);
		}
	} else {
		CHECK(cur->error != NULL);
	}
	buf_deinit(&out);
	imap_seqset_deinit(&again);
	imap_seqset_deinit(&set);
}

static void fuzz_fetch(struct imap_cursor *cur, bool uid)
{
	struct imap_fetch f;
	struct buf name;
	unsigned i;

	if (imap_fetch_parse(cur, uid, &f) < 0) {
		CHECK(cur->error != NULL && f.items == NULL);
		return;
	}
	buf_init(&name, 0);
	for (i = 0; i < f.count; i++)
		CHECK(imap_fetch_item_name(&f.items[i], &name) == 0);
	imap_fetch_deinit(&f);
	buf_deinit(&name);
}

static void fuzz_search(struct imap_cursor *cur, unsigned flags)
{
	struct imap_search s;
	const char *code;

	if (imap_search_parse(cur, &limits, flags, &s, &code) == 0) {
		CHECK(s.root != NULL && s.nkeys <= limits.max_search_keys);
		imap_search_deinit(&s);
	} else {
		CHECK(cur->error != NULL && s.root == NULL);
	}
}

static void fuzz_mailbox(struct imap_cursor *cur)
{
	struct buf utf8, utf7;
	const char *s, *error;
	size_t len;

	if (imap_arg_astring(cur, &s, &len) < 0)
		return;
	buf_init(&utf8, 0);
	buf_init(&utf7, 0);
	if (imap_utf7_to_utf8(s, len, &utf8, &error) == 0) {
		CHECK(imap_utf8_to_utf7(utf8.data ? utf8.data : "", utf8.len, &utf7, &error) == 0);
		CHECK(utf7.len == len && memcmp(utf7.data ? utf7.data : "", s, len) == 0);
	}
	buf_deinit(&utf8);
	buf_deinit(&utf7);
}

static void fuzz_append(struct imap_cursor *cur)
{
	struct imap_flags flags;
	struct imap_message_arg msg;
	const struct imap_arg *a;
	int64_t t;
	int zone;

	fuzz_mailbox(cur);
	a = imap_arg_peek(cur);
	if (imap_arg_is_list(a) && imap_arg_flag_list(cur, 50, &flags) == 0)
		imap_flags_deinit(&flags);
	a = imap_arg_peek(cur);
	if (a != NULL && a->type == IMAP_ARG_QUOTED &&
	    imap_datetime_parse(a->data, a->len, &t, &zone) == 0) {
		struct buf out;

		buf_init(&out, 0);
		CHECK(imap_datetime_write(&out, t, zone) == 0);
		buf_deinit(&out);
		imap_arg_next(cur, &a);
	}
	if (imap_arg_message(cur, &msg) == 0)
		CHECK(msg.external || msg.data != NULL);
}

static void fuzz_command(const struct imap_command *cmd)
{
	struct imap_cursor cur;
	const char *n = cmd->name;
	size_t len = cmd->name_len;

	imap_cursor_init(&cur, cmd);
	if (mem_equal_ci(n, len, "FETCH")) {
		check_seqset(&cur);
		fuzz_fetch(&cur, cmd->uid);
	} else if (mem_equal_ci(n, len, "SEARCH")) {
		fuzz_search(&cur, IMAP_SEARCH_ALLOW_RETURN);
	} else if (mem_equal_ci(n, len, "SORT")) {
		struct imap_sort sort;

		if (imap_sort_parse(&cur, &sort) == 0)
			fuzz_search(&cur, IMAP_SEARCH_BARE_CHARSET);
	} else if (mem_equal_ci(n, len, "THREAD")) {
		enum imap_thread_alg alg;

		if (imap_thread_parse(&cur, &alg) == 0)
			fuzz_search(&cur, IMAP_SEARCH_BARE_CHARSET);
	} else if (mem_equal_ci(n, len, "STORE")) {
		struct imap_store st;

		check_seqset(&cur);
		if (imap_store_parse(&cur, 50, &st) == 0)
			imap_store_deinit(&st);
	} else if (mem_equal_ci(n, len, "LIST")) {
		struct imap_list_cmd l;

		if (imap_list_parse(&cur, &l) == 0) {
			(void)imap_list_match(l.patterns[0].data, l.patterns[0].len,
					      l.reference.data, l.reference.len, '/');
			imap_list_cmd_deinit(&l);
		}
	} else if (mem_equal_ci(n, len, "STATUS")) {
		unsigned items;

		fuzz_mailbox(&cur);
		(void)imap_arg_status_items(&cur, &items);
	} else if (mem_equal_ci(n, len, "APPEND")) {
		fuzz_append(&cur);
	} else {
		fuzz_mailbox(&cur);
		check_seqset(&cur);
	}
}

/* One chunk size after another, from an xorshift seeded by the input. */
static size_t next_chunk(uint64_t *state, size_t left)
{
	size_t n;

	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	n = 1 + (size_t)(*state % 97);
	return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_reader *r;
	struct imap_args args;
	uint64_t state = 0x9e3779b97f4a7c15ULL, external = 0;
	size_t pos = 0, i;

	imap_limits_default(&limits);
	limits.max_line = 1024;
	limits.max_command = 8192;
	limits.inline_literal_max = 64;
	limits.max_literal = 4096;
	limits.nonsync_max = size % 2 ? 4096 : 100;	/* LITERAL+ or a tight LITERAL- */
	limits.drain_max = 8192;
	limits.max_literals = 8;
	limits.max_depth = 16;
	limits.max_args = 2000;
	limits.max_seqset_ranges = 500;
	limits.max_search_keys = 200;
	for (i = 0; i < size && i < 64; i++)
		state = state * 31 + data[i];
	state |= 1;
	r = imap_reader_new(&limits);
	imap_args_init(&args);
	while (pos < size) {
		size_t n = next_chunk(&state, size - pos), used = 0;
		uint8_t *chunk;
		enum imap_read_result ret;

		if (external > 0) {
			/* the session reads a big literal itself */
			n = n < external ? n : (size_t)external;
			external -= n;
			pos += n;
			if (external == 0)
				imap_reader_literal_done(r);
			continue;
		}
		chunk = xmalloc(n);	/* exact size, so ASan sees overreads */
		memcpy(chunk, data + pos, n);
		ret = imap_reader_feed(r, chunk, n, &used);
		free(chunk);
		CHECK(used <= n);
		pos += used;
		if (ret == IMAP_READ_LITERAL) {
			const struct imap_literal_info *li = imap_reader_literal(r);

			CHECK(li->size <= limits.max_literal);
			if (state & 8) {
				if (imap_reader_literal_reject(r) == IMAP_RECOVER_CLOSE)
					break;
			} else if ((external = li->size) == 0) {
				imap_reader_literal_done(r);
			}
		} else if (ret == IMAP_READ_DONE) {
			struct imap_command cmd;
			const char *error;

			if (imap_reader_parse(r, &args, &cmd, &error) == 0)
				fuzz_command(&cmd);
			else
				CHECK(error != NULL && error[0] != '\0');
		} else if (ret == IMAP_READ_ERROR) {
			const struct imap_read_error *e = imap_reader_error(r);

			CHECK(e->text != NULL && e->text[0] != '\0');
			if (e->recover == IMAP_RECOVER_CLOSE)
				break;
		} else if (ret == IMAP_READ_MORE) {
			CHECK(used == n);
		}
	}
	imap_args_deinit(&args);
	imap_reader_free(&r);
	return 0;
}
