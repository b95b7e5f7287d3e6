/*
 * Unit tests for the queue's retry back-off (queue_retry_delay) and for
 * DSN generation (src/smtp/bounce.c, RFC 3464): the report's structure,
 * its per-recipient fields, flattening of remote text, the cut of the
 * quoted headers, and the delay-warning variant.
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

#include "smtp/bounce.h"
#include "smtp/queue.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_bounce_retry_delay_doubles_to_max(void **state)
{
	static const struct {
		uint64_t first, max;
		int64_t attempts, want;
	} cases[] = {
		{ 300, 14400, 1, 300 }, { 300, 14400, 2, 600 }, { 300, 14400, 3, 1200 },
		{ 300, 14400, 6, 9600 }, { 300, 14400, 7, 14400 }, { 300, 14400, 1000, 14400 },
		{ 1, 2, 1, 1 }, { 1, 2, 5, 2 }, { 500, 100, 1, 100 }, { 300, 14400, 0, 300 },
	};
	size_t i;
	int64_t got;

	for (i = 0; i < N(cases); i++) {
		got = queue_retry_delay(cases[i].first, cases[i].max, cases[i].attempts);
		if (got != cases[i].want)
			fail_msg("case %zu: got %lld want %lld", i, (long long)got,
				 (long long)cases[i].want);
	}
	/* huge attempts never overflow */
	assert_true(queue_retry_delay(1, 1ULL << 40, 1000) == (int64_t)(1ULL << 40));
}

static const struct bounce_rcpt rcpts[] = {
	{ "bob@example.org", "5.1.1", "mx.example.org", "550 5.1.1 <bob@example.org>: no such user",
	  "host mx.example.org said: 550 5.1.1 no such user (in reply to RCPT TO)", 1700000000 },
	{ "carol@example.net", "5.1.10", NULL, NULL,
	  "the domain example.net does not accept mail (null MX, RFC 7505)", 0 },
};

static char *build(bool delayed, const char *headers, size_t hlen)
{
	struct bounce_info b = {
		.reporting_mta = "mail.a.test", .queue_id = "q1234", .sender = "alice@a.test",
		.arrival = 1700000000, .now = 1700003600, .delayed = delayed,
		.retry_until = 1700432000, .rcpts = rcpts, .n_rcpts = N(rcpts),
		.headers = headers, .headers_len = hlen, .boundary = "BOUNDARY",
	};
	struct buf out;

	buf_init(&out, 0);
	bounce_build(&b, &out);
	return buf_steal(&out, NULL);
}

static void test_bounce_dsn_structure(void **state)
{
	const char *h = "From: alice@a.test\r\nSubject: hi\r\n\r\n";
	char *dsn = build(false, h, strlen(h));

	assert_non_null(strstr(dsn, "From: Mail Delivery System <MAILER-DAEMON@mail.a.test>\r\n"));
	assert_non_null(strstr(dsn, "To: <alice@a.test>\r\n"));
	assert_non_null(strstr(dsn, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(dsn, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_non_null(strstr(dsn, "--BOUNDARY\r\nContent-Description: Notification\r\n"));
	assert_non_null(strstr(dsn, "Content-Type: message/delivery-status\r\n\r\n"
				    "Reporting-MTA: dns; mail.a.test\r\n"));
	assert_non_null(strstr(dsn, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(dsn, "\r\nFinal-Recipient: rfc822; bob@example.org\r\n"
				    "Action: failed\r\nStatus: 5.1.1\r\n"
				    "Remote-MTA: dns; mx.example.org\r\n"
				    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: no such user\r\n"
				    "Last-Attempt-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(dsn, "Final-Recipient: rfc822; carol@example.net\r\n"
				    "Action: failed\r\nStatus: 5.1.10\r\n\r\n"));
	assert_non_null(strstr(dsn, "Content-Type: text/rfc822-headers\r\n\r\n"
				    "From: alice@a.test\r\nSubject: hi\r\n"));
	assert_non_null(strstr(dsn, "does not accept mail"));
	assert_non_null(strstr(dsn, "\r\n--BOUNDARY--\r\n"));
	assert_null(strstr(dsn, "Will-Retry-Until"));
	/* every line ends in CRLF: no bare LF */
	for (const char *p = dsn; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > dsn && p[-1] == '\r');
	free(dsn);
}

static void test_bounce_delay_warning_fields(void **state)
{
	char *dsn = build(true, "", 0);

	assert_non_null(strstr(dsn, "Subject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(dsn, "Action: delayed\r\n"));
	assert_non_null(strstr(dsn, "Will-Retry-Until: "));
	assert_null(strstr(dsn, "Action: failed"));
	free(dsn);
}

static void test_bounce_remote_text_is_flattened(void **state)
{
	struct bounce_rcpt r = { "x@y.test", "5.0.0", "mx.y.test",
				 "550 evil\r\nInjected: header\x01", "bad", 0 };
	struct bounce_info b = {
		.reporting_mta = "h", .queue_id = "q", .sender = "s@h", .rcpts = &r, .n_rcpts = 1,
		.headers = "", .headers_len = 0,
	};
	struct buf out;

	buf_init(&out, 0);
	bounce_build(&b, &out);
	assert_null(strstr(buf_cstr(&out), "\r\nInjected: header"));
	assert_non_null(strstr(buf_cstr(&out), "Diagnostic-Code: smtp; 550 evil  Injected: header \r\n"));
	buf_deinit(&out);
}

static void test_bounce_header_len_stops_at_body(void **state)
{
	static const struct {
		const char *in;
		size_t max, want;
	} cases[] = {
		{ "A: b\r\nC: d\r\n\r\nbody\r\n", 100, 14 },
		{ "A: b\r\n", 100, 6 },
		{ "\r\nbody", 100, 2 },
		{ "A: bbbbbbbbbb\r\n\r\n", 5, 5 },
		{ "", 100, 0 },
	};
	size_t i, got;

	for (i = 0; i < N(cases); i++) {
		got = bounce_header_len(cases[i].in, strlen(cases[i].in), cases[i].max);
		if (got != cases[i].want)
			fail_msg("case %zu: got %zu want %zu", i, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounce_retry_delay_doubles_to_max),
		cmocka_unit_test(test_bounce_dsn_structure),
		cmocka_unit_test(test_bounce_delay_warning_fields),
		cmocka_unit_test(test_bounce_remote_text_is_flattened),
		cmocka_unit_test(test_bounce_header_len_stops_at_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
