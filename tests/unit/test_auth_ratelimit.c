/*
 * Unit tests for the brute-force limits (src/auth/ratelimit.c), with the
 * time passed in: doubling delays up to the cap, IP and account blocks,
 * expiry, the account block sparing IPs that logged in before, successes
 * not resetting other IPs, listing and unblocking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

static const struct ratelimit_limits limits = {
	.max_failures_per_ip = 5, .max_failures_per_account = 8, .block_seconds = 600,
	.delay_ms = 1000, .delay_max_ms = 8000,
};

static void test_ratelimit_delays_double_to_cap(void **state)
{
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 8000 };
	struct ratelimit *rl = ratelimit_new(&limits);
	size_t i;

	for (i = 0; i < 5; i++)
		assert_int_equal(ratelimit_failure(rl, "192.0.2.1", "a@x.test", 100), want[i]);
	ratelimit_free(&rl);
	assert_null(rl);
}

static void test_ratelimit_ip_block_and_expiry(void **state)
{
	struct ratelimit *rl = ratelimit_new(&limits);
	int i;

	for (i = 0; i < 4; i++)
		ratelimit_failure(rl, "192.0.2.1", "a@x.test", 100);
	assert_false(ratelimit_blocked(rl, "192.0.2.1", "b@x.test", 100));
	ratelimit_failure(rl, "192.0.2.1", "a@x.test", 100);
	assert_true(ratelimit_blocked(rl, "192.0.2.1", "b@x.test", 101));
	/* another IP, another account: free */
	assert_false(ratelimit_blocked(rl, "192.0.2.2", "b@x.test", 101));
	/* a success elsewhere does not reset the blocked IP */
	ratelimit_success(rl, "192.0.2.2", "a@x.test", 102);
	assert_true(ratelimit_blocked(rl, "192.0.2.1", "c@x.test", 102));
	assert_false(ratelimit_blocked(rl, "192.0.2.1", "c@x.test", 100 + 600));
	/* and the failures are forgotten with the block */
	assert_int_equal(ratelimit_failure(rl, "192.0.2.1", "z@x.test", 100 + 600), 1000);
	ratelimit_free(&rl);
}

static void test_ratelimit_account_block_spares_known_ip(void **state)
{
	struct ratelimit *rl = ratelimit_new(&limits);
	char ip[32];
	int i;

	ratelimit_success(rl, "198.51.100.7", "Owner@X.test", 50);
	for (i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		ratelimit_failure(rl, ip, "owner@x.test", 100);
	}
	assert_true(ratelimit_blocked(rl, "203.0.113.99", "owner@x.test", 101));
	assert_false(ratelimit_blocked(rl, "198.51.100.7", "owner@x.test", 101));
	assert_false(ratelimit_blocked(rl, "203.0.113.99", "other@x.test", 101));
	ratelimit_free(&rl);
}

struct listed {
	unsigned ips, accounts;
};

static void count_listed(void *ctx, const char *key, bool is_ip, unsigned failures,
			 int64_t until)
{
	struct listed *l = ctx;

	if (is_ip) {
		assert_string_equal(key, "192.0.2.9");
		l->ips++;
	} else {
		l->accounts++;
	}
	assert_true(until > 100);
}

static void test_ratelimit_list_and_unblock(void **state)
{
	struct ratelimit *rl = ratelimit_new(&limits);
	struct listed l = { 0 };
	int i;

	for (i = 0; i < 8; i++)
		ratelimit_failure(rl, "192.0.2.9", "v@x.test", 100);
	ratelimit_list(rl, 101, count_listed, &l);
	assert_int_equal(l.ips, 1);
	assert_int_equal(l.accounts, 1);
	assert_int_equal(ratelimit_unblock(rl, "192.0.2.9"), 1);
	assert_int_equal(ratelimit_unblock(rl, "192.0.2.9"), 0);
	assert_int_equal(ratelimit_unblock(rl, "V@x.TEST"), 1);
	assert_false(ratelimit_blocked(rl, "192.0.2.9", "v@x.test", 101));
	assert_int_equal(ratelimit_unblock(rl, "198.51.100.1"), 0);
	/* NULL IP (not counted) */
	assert_int_equal(ratelimit_failure(rl, NULL, "w@x.test", 100), 1000);
	ratelimit_free(&rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_delays_double_to_cap),
		cmocka_unit_test(test_ratelimit_ip_block_and_expiry),
		cmocka_unit_test(test_ratelimit_account_block_spares_known_ip),
		cmocka_unit_test(test_ratelimit_list_and_unblock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
