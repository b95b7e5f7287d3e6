/*
 * Unit tests for the per-IP counter map (src/core/counter.c): counts go up
 * and down, keys vanish at zero, and the table keeps every key when it
 * grows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/counter.h"

static void test_counter_add_and_get(void **state)
{
	struct counter_map *map = counter_map_new();

	assert_int_equal(counter_size(map), 0);
	assert_int_equal(counter_get(map, "192.0.2.1"), 0);
	assert_int_equal(counter_add(map, "192.0.2.1", 1), 1);
	assert_int_equal(counter_add(map, "192.0.2.1", 1), 2);
	assert_int_equal(counter_add(map, "2001:db8::1", 1), 1);
	assert_int_equal(counter_get(map, "192.0.2.1"), 2);
	assert_int_equal(counter_get(map, "2001:db8::1"), 1);
	assert_int_equal(counter_get(map, "192.0.2.2"), 0);
	assert_int_equal(counter_size(map), 2);
	counter_map_free(&map);
	assert_null(map);
	counter_map_free(&map);	/* NULL is fine */
}

static void test_counter_remove_at_zero(void **state)
{
	struct counter_map *map = counter_map_new();

	counter_add(map, "a", 1);
	counter_add(map, "a", 1);
	counter_add(map, "b", 1);
	assert_int_equal(counter_add(map, "a", -1), 1);
	assert_int_equal(counter_size(map), 2);
	assert_int_equal(counter_add(map, "a", -1), 0);
	assert_int_equal(counter_size(map), 1);
	assert_int_equal(counter_get(map, "a"), 0);
	/* removing a key that is not there does not create it */
	assert_int_equal(counter_add(map, "a", -1), 0);
	assert_int_equal(counter_add(map, "zzz", -1), 0);
	assert_int_equal(counter_size(map), 1);
	/* a removed key can come back */
	assert_int_equal(counter_add(map, "a", 1), 1);
	assert_int_equal(counter_size(map), 2);
	assert_int_equal(counter_add(map, "b", -1), 0);
	assert_int_equal(counter_add(map, "a", -1), 0);
	assert_int_equal(counter_size(map), 0);
	counter_map_free(&map);
}

static void test_counter_grow_keeps_keys(void **state)
{
	struct counter_map *map = counter_map_new();
	char key[32];
	unsigned i;

	/* well past the initial 64 slots, so the table doubles several times */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		assert_int_equal(counter_add(map, key, 1), 1);
		if (i % 3 == 0)
			assert_int_equal(counter_add(map, key, 1), 2);
	}
	assert_int_equal(counter_size(map), 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		if (counter_get(map, key) != (i % 3 == 0 ? 2u : 1u))
			fail_msg("key %u (%s): count %u", i, key, counter_get(map, key));
	}
	for (i = 0; i < 1000; i += 2) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		while (counter_get(map, key) > 0)
			counter_add(map, key, -1);
	}
	assert_int_equal(counter_size(map), 500);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		if ((counter_get(map, key) > 0) != (i % 2 == 1))
			fail_msg("key %u (%s): count %u after removals", i, key, counter_get(map, key));
	}
	counter_map_free(&map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_add_and_get),
		cmocka_unit_test(test_counter_remove_at_zero),
		cmocka_unit_test(test_counter_grow_keeps_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
