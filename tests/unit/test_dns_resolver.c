/*
 * Unit tests for the loop side of src/dns/dns.c, without a DNS server:
 * the forwarder is a UDP socket that this test binds and never reads, so
 * every query stays pending. That is enough to check the contracts of
 * dns.h: callbacks never run inside dns_lookup_*(), the timeout gives
 * DNS_TEMPFAIL, dns_cancel() and dns_free() silence pending callbacks, and
 * cancelling from a lookup's own callback is harmless. The answers
 * themselves are tested end to end in tests/integration/test_dns_lookup.py.
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

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <unistd.h>

#include "dns/dns.h"

struct fixture {
	struct event_base *base;
	int silent_fd;		/* the forwarder that never answers */
	char resolver[64];
	struct dns *dns;
};

struct seen {
	int calls;
	enum dns_status status;
	const char *why;
	struct dns_query **self;	/* cancel this from the callback */
	struct event_base *base;
};

static void record(void *ctx, const struct dns_result *r)
{
	struct seen *seen = ctx;

	seen->calls++;
	seen->status = r->status;
	seen->why = r->why != NULL && strcmp(r->why, "timeout") == 0 ? "timeout" : "other";
	if (seen->self != NULL)
		dns_cancel(seen->self);
	event_base_loopbreak(seen->base);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct dns_config cfg = { .timeout_ms = 300 };
	char *error = NULL;

	assert_non_null(f);
	f->base = event_base_new();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->silent_fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->silent_fd >= 0);
	assert_int_equal(bind(f->silent_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->silent_fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(f->resolver, sizeof(f->resolver), "127.0.0.1@%u", ntohs(sin.sin_port));
	cfg.resolver = f->resolver;
	f->dns = dns_new(f->base, &cfg, &error);
	if (f->dns == NULL)
		fail_msg("dns_new: %s", error);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dns_free(&f->dns);
	assert_null(f->dns);
	event_base_free(f->base);
	close(f->silent_fd);
	free(f);
	return 0;
}

/* Runs the loop until a callback breaks it or ms pass. */
static void run_for(struct fixture *f, unsigned ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static void test_resolver_bad_forwarder_refused(void **state)
{
	struct fixture *f = *state;
	struct dns_config cfg = { .resolver = "not-an-address" };
	char *error = NULL;

	assert_null(dns_new(f->base, &cfg, &error));
	assert_non_null(error);
	assert_non_null(strstr(error, "not-an-address"));
	free(error);
	cfg.resolver = "  ";
	assert_null(dns_new(f->base, &cfg, &error));
	free(error);
}

static void test_resolver_invalid_name_fails_from_loop(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .base = f->base };
	struct sockaddr sa = { .sa_family = AF_UNIX };

	dns_lookup_mx(f->dns, "bad..name", record, &seen);
	assert_int_equal(seen.calls, 0);	/* never from inside the call */
	run_for(f, 1000);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.status, DNS_PERMFAIL);
	dns_lookup_ptr(f->dns, &sa, record, &seen);
	dns_lookup_tlsa(f->dns, 0, "tcp", "mx.a.test", record, &seen);
	run_for(f, 1000);
	run_for(f, 1000);
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.status, DNS_PERMFAIL);
}

static void test_resolver_timeout_is_tempfail(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .base = f->base };

	dns_lookup_addr(f->dns, "slow.a.test", record, &seen);
	run_for(f, 5000);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.status, DNS_TEMPFAIL);
	assert_string_equal(seen.why, "timeout");
}

static void test_resolver_cancel_silences_callback(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .base = f->base };
	struct dns_query *q1, *q2, *q3;

	q1 = dns_lookup_mx(f->dns, "one.a.test", record, &seen);
	q2 = dns_lookup_addr(f->dns, "two.a.test", record, &seen);
	q3 = dns_lookup_txt(f->dns, "bad..name", record, &seen);
	dns_cancel(&q1);
	dns_cancel(&q2);
	dns_cancel(&q3);		/* even the one failing from the loop */
	assert_null(q1);
	dns_cancel(&q1);		/* NULL: nothing */
	run_for(f, 800);
	assert_int_equal(seen.calls, 0);
}

static void test_resolver_cancel_inside_own_callback(void **state)
{
	struct fixture *f = *state;
	struct dns_query *q;
	struct seen seen = { .base = f->base, .self = &q };

	q = dns_lookup_mx(f->dns, "bad..name", record, &seen);
	run_for(f, 1000);
	assert_int_equal(seen.calls, 1);
	assert_null(q);
}

static void test_resolver_free_with_pending_lookups(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .base = f->base };
	int i;

	for (i = 0; i < 20; i++) {
		dns_lookup_mx(f->dns, "pending.a.test", record, &seen);
		dns_lookup_addr(f->dns, "pending.a.test", record, &seen);
	}
	dns_lookup_txt(f->dns, "bad..name", record, &seen);
	/* teardown frees the resolver with all of them pending */
	assert_int_equal(seen.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolver_bad_forwarder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_invalid_name_fails_from_loop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolver_timeout_is_tempfail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_cancel_silences_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_cancel_inside_own_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolver_free_with_pending_lookups, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
