/*
 * Unit tests for struct buf (src/core/buf.c): appending, formatting,
 * consuming and stealing, and the hard max that keeps client data from
 * growing a buffer without bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_buf_init_is_empty(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(b.len, 0);
	assert_null(b.data);
	assert_string_equal(buf_cstr(&b), "");
	buf_reset(&b);		/* no memory yet: must not crash */
	buf_deinit(&b);
	assert_null(b.data);
}

static void test_buf_append_keeps_bytes_and_nul(void **state)
{
	static const char bin[] = { 'a', '\0', 'b', '\r', '\n' };
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, sizeof(bin));
	assert_memory_equal(b.data, bin, sizeof(bin));
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(buf_append_str(&b, "xyz"), 0);
	assert_int_equal(buf_append_char(&b, '!'), 0);
	assert_int_equal(b.len, sizeof(bin) + 4);
	assert_memory_equal(b.data + sizeof(bin), "xyz!", 5);	/* with the NUL */
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, sizeof(bin) + 4);
	buf_deinit(&b);
}

static void test_buf_append_grows(void **state)
{
	struct buf b;
	char chunk[100];
	size_t i;

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.cap > b.len);
	for (i = 0; i < b.len; i++) {
		if (b.data[i] != 'x')
			fail_msg("byte %zu is %d", i, b.data[i]);
	}
	buf_deinit(&b);
}

static void test_buf_printf_formats_and_appends(void **state)
{
	struct buf b;
	char big[300];

	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_int_equal(buf_printf(&b, "%c", '!'), 0);
	assert_string_equal(buf_cstr(&b), "42-x!");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 5);
	/* longer than the first allocation */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 5 + 2 + 299);
	assert_int_equal(b.data[5], '[');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(strlen(b.data), b.len);
	buf_deinit(&b);
}

static void test_buf_consume(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "hello world");
	buf_consume(&b, 0);
	assert_string_equal(buf_cstr(&b), "hello world");
	buf_consume(&b, 6);
	assert_string_equal(buf_cstr(&b), "world");
	assert_int_equal(b.len, 5);
	buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_append_str(&b, "abc");
	buf_consume(&b, 100);	/* more than there is: empties */
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_deinit(&b);
}

static void test_buf_reset_keeps_memory(void **state)
{
	struct buf b;
	char *data;

	buf_init(&b, 0);
	buf_append_str(&b, "abc");
	data = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_string_equal(buf_cstr(&b), "");
	buf_deinit(&b);
}

static void test_buf_steal_moves_contents(void **state)
{
	struct buf b;
	size_t len = 99;
	char *s;

	buf_init(&b, 0);
	buf_append_str(&b, "owned");
	s = buf_steal(&b, &len);
	assert_string_equal(s, "owned");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	/* an empty buf still gives a string the caller can free */
	s = buf_steal(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	/* the buf is usable again after a steal */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	s = buf_steal(&b, NULL);
	assert_string_equal(s, "again");
	free(s);
	buf_deinit(&b);
}

static void test_buf_refuses_past_max(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "12345"), 0);
	assert_int_equal(buf_append_str(&b, "6789"), -1);	/* 9 > 8 */
	assert_int_equal(b.len, 5);				/* nothing appended */
	assert_string_equal(buf_cstr(&b), "12345");
	assert_int_equal(buf_append_str(&b, "678"), 0);	/* exactly 8 */
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_append_char(&b, 'x'), -1);
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);		/* nothing to add is fine */
	assert_string_equal(buf_cstr(&b), "12345678");
	/* consuming makes room again */
	buf_consume(&b, 4);
	assert_int_equal(buf_printf(&b, "%s", "abcd"), 0);
	assert_int_equal(buf_printf(&b, "%s", "e"), -1);
	assert_string_equal(buf_cstr(&b), "5678abcd");
	buf_deinit(&b);
}

static void test_buf_refuses_huge_length(void **state)
{
	struct buf b;

	/* a length that would overflow len + extra must be refused, not wrap */
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_int_equal(b.len, 2);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_init_is_empty),
		cmocka_unit_test(test_buf_append_keeps_bytes_and_nul),
		cmocka_unit_test(test_buf_append_grows),
		cmocka_unit_test(test_buf_printf_formats_and_appends),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_buf_reset_keeps_memory),
		cmocka_unit_test(test_buf_steal_moves_contents),
		cmocka_unit_test(test_buf_refuses_past_max),
		cmocka_unit_test(test_buf_refuses_huge_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
