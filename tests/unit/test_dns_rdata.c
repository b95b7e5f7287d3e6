/*
 * Unit tests for the pure half of src/dns/ (dns_rdata.c): wire rdata
 * parsers for MX, TXT, TLSA, PTR, A/AAAA, the RFC 5321 5.1 MX ordering
 * with the RFC 7505 null MX test, reverse names and name validation. Each
 * rdata is copied into a buffer of its exact length, so a read past the
 * end shows up under ASan.
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
#include <netinet/in.h>

#include "core/buf.h"
#include "dns/dns.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A length-counted byte string literal (it may hold NULs). */
#define RD(s) { (const uint8_t *)(s), sizeof(s) - 1 }

struct rd {
	const uint8_t *data;
	size_t len;
};

/* An exact-size heap copy, so ASan sees any overread. */
static uint8_t *exact(const struct rd *r)
{
	uint8_t *p = malloc(r->len ? r->len : 1);

	assert_non_null(p);
	memcpy(p, r->data, r->len);
	return p;
}

struct mx_case {
	struct rd in;
	int ret;
	unsigned preference;
	const char *host;
};

static void test_rdata_mx_cases(void **state)
{
	static const struct mx_case cases[] = {
		{ RD("\x00\x0a\x03mx1\x01" "a\x04test\x00"), 0, 10, "mx1.a.test" },
		{ RD("\xff\xff\x00"), 0, 65535, "." },				/* null MX host */
		{ RD("\x00\x05\x03" "a.b\x00"), 0, 5, "a\\046b" },		/* dot in a label */
		{ RD("\x00\x05\x02" "a\x01\x00"), 0, 5, "a\\001" },		/* control octet */
		{ RD("\x00\x05\x01_\x00"), 0, 5, "_" },
		{ RD(""), -1, 0, NULL },
		{ RD("\x00"), -1, 0, NULL },
		{ RD("\x00\x0a"), -1, 0, NULL },				/* no exchange */
		{ RD("\x00\x0a\x03mx1"), -1, 0, NULL },				/* no root label */
		{ RD("\x00\x0a\x05mx1\x00"), -1, 0, NULL },			/* label past the end */
		{ RD("\x00\x0a\xc0\x0c"), -1, 0, NULL },			/* compression pointer */
		{ RD("\x00\x0a\x40" "abc\x00"), -1, 0, NULL },			/* extended label */
		{ RD("\x00\x0a\x03mx1\x00\x00"), -1, 0, NULL },			/* trailing octet */
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct dns_mx mx = { 0 };
		uint8_t *in = exact(&cases[i].in);
		int ret = dns_rdata_mx(in, cases[i].in.len, &mx);

		if (ret != cases[i].ret)
			fail_msg("case %zu: ret %d, want %d", i, ret, cases[i].ret);
		if (ret == 0 && (mx.preference != cases[i].preference || strcmp(mx.host, cases[i].host)))
			fail_msg("case %zu: got %u %s, want %u %s", i, mx.preference, mx.host,
				 cases[i].preference, cases[i].host);
		if (ret < 0 && mx.host != NULL)
			fail_msg("case %zu: host left allocated on error", i);
		dns_mx_deinit(&mx);
		free(in);
	}
}

static void test_rdata_name_limits(void **state)
{
	uint8_t wire[300];
	struct buf b;
	size_t used, pos = 0, i;

	/* 4 labels of 63 plus their lengths and the root: 257 octets, too long */
	for (i = 0; i < 4; i++) {
		wire[pos++] = 63;
		memset(wire + pos, 'x', 63);
		pos += 63;
	}
	wire[pos++] = 0;
	buf_init(&b, DNS_NAME_TEXT_MAX);
	assert_int_equal(dns_rdata_name(wire, pos, &used, &b), -1);
	assert_int_equal(b.len, 0);
	/* 3 of 63 and one of 61: 255 octets, the longest allowed */
	wire[3 * 64] = 61;
	wire[3 * 64 + 1 + 61] = 0;
	assert_int_equal(dns_rdata_name(wire, 3 * 64 + 1 + 61 + 1, &used, &b), 0);
	assert_int_equal(used, 255);
	assert_int_equal(b.len, 253);
	/* a label of 64 */
	buf_reset(&b);
	wire[0] = 64;
	assert_int_equal(dns_rdata_name(wire, sizeof(wire), &used, &b), -1);
	buf_deinit(&b);
}

static void test_rdata_ptr_whole_rdata(void **state)
{
	static const struct rd good = RD("\x04mail\x01" "b\x04test\x00");
	static const struct rd trailing = RD("\x04mail\x00\x01");
	uint8_t *in = exact(&good);
	char *host = NULL;

	assert_int_equal(dns_rdata_ptr(in, good.len, &host), 0);
	assert_string_equal(host, "mail.b.test");
	free(host);
	free(in);
	in = exact(&trailing);
	host = NULL;
	assert_int_equal(dns_rdata_ptr(in, trailing.len, &host), -1);
	assert_null(host);
	free(in);
}

struct txt_case {
	struct rd in;
	int ret;
	const char *joined;
	size_t joined_len;
	size_t n_strings;
};

static void test_rdata_txt_cases(void **state)
{
	static const struct txt_case cases[] = {
		{ RD("\x06v=spf1\x05 -all"), 0, "v=spf1 -all", 11, 2 },
		{ RD("\x00"), 0, "", 0, 1 },				/* one empty string */
		{ RD("\x03" "a\x00" "b"), 0, "a\0b", 3, 1 },		/* NUL inside */
		{ RD("\x00\x00\x02hi"), 0, "hi", 2, 3 },
		{ RD(""), -1, NULL, 0, 0 },				/* no string at all */
		{ RD("\x05" "abc"), -1, NULL, 0, 0 },			/* length past the end */
		{ RD("\x02hi\x01"), -1, NULL, 0, 0 },			/* second one cut */
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct dns_txt txt = { 0 };
		uint8_t *in = exact(&cases[i].in);
		int ret = dns_rdata_txt(in, cases[i].in.len, &txt);

		if (ret != cases[i].ret)
			fail_msg("case %zu: ret %d, want %d", i, ret, cases[i].ret);
		if (ret == 0 && (txt.len != cases[i].joined_len || txt.n_strings != cases[i].n_strings ||
				 memcmp(txt.data, cases[i].joined, txt.len) != 0 || txt.data[txt.len] != '\0'))
			fail_msg("case %zu: got %zu octets in %zu strings", i, txt.len, txt.n_strings);
		if (ret < 0 && (txt.data != NULL || txt.string_lens != NULL))
			fail_msg("case %zu: memory left allocated on error", i);
		dns_txt_deinit(&txt);
		free(in);
	}
}

static void test_rdata_txt_string_lengths(void **state)
{
	static const struct rd in = RD("\x02" "ab\x00\x03" "cde");
	struct dns_txt txt;
	uint8_t *p = exact(&in);

	assert_int_equal(dns_rdata_txt(p, in.len, &txt), 0);
	assert_int_equal(txt.n_strings, 3);
	assert_int_equal(txt.string_lens[0], 2);
	assert_int_equal(txt.string_lens[1], 0);
	assert_int_equal(txt.string_lens[2], 3);
	assert_string_equal(txt.data, "abcde");
	dns_txt_deinit(&txt);
	free(p);
}

static void test_rdata_tlsa_cases(void **state)
{
	static const struct rd good = RD("\x03\x01\x01\xab\xcd");
	static const struct rd bad[] = { RD(""), RD("\x03"), RD("\x03\x01"), RD("\x03\x01\x01") };
	struct dns_tlsa tlsa = { 0 };
	uint8_t *in = exact(&good);
	size_t i;

	assert_int_equal(dns_rdata_tlsa(in, good.len, &tlsa), 0);
	assert_int_equal(tlsa.usage, 3);
	assert_int_equal(tlsa.selector, 1);
	assert_int_equal(tlsa.mtype, 1);
	assert_int_equal(tlsa.len, 2);
	assert_memory_equal(tlsa.data, "\xab\xcd", 2);
	dns_tlsa_deinit(&tlsa);
	free(in);
	for (i = 0; i < N(bad); i++) {
		in = exact(&bad[i]);
		if (dns_rdata_tlsa(in, bad[i].len, &tlsa) != -1)
			fail_msg("bad case %zu accepted", i);
		free(in);
	}
}

static void test_rdata_addr_lengths(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v4[4] = { 127, 0, 0, 2 };
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(dns_rdata_addr(AF_INET, v4, 4, &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
	assert_string_equal(text, "127.0.0.2");
	assert_int_equal(dns_rdata_addr(AF_INET6, v6, 16, &ss), 0);
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1");
	assert_int_equal(dns_rdata_addr(AF_INET, v4, 3, &ss), -1);
	assert_int_equal(dns_rdata_addr(AF_INET, v6, 16, &ss), -1);
	assert_int_equal(dns_rdata_addr(AF_INET6, v4, 4, &ss), -1);
	assert_int_equal(dns_rdata_addr(AF_UNIX, v4, 4, &ss), -1);
}

static void mx_set(struct dns_mx *mx, const unsigned *prefs, const char *const *hosts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		mx[i].preference = prefs[i];
		mx[i].host = strdup(hosts[i]);
	}
}

static void mx_free(struct dns_mx *mx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dns_mx_deinit(&mx[i]);
}

static void test_mx_sort_order_and_shuffle(void **state)
{
	static const unsigned prefs[] = { 30, 10, 20, 10, 10, 5 };
	static const char *const hosts[] = { "d", "a", "c", "b", "e", "first" };
	bool seen_first[3] = { false, false, false };
	struct dns_mx mx[N(prefs)];
	int round;

	for (round = 0; round < 64; round++) {
		mx_set(mx, prefs, hosts, N(prefs));
		assert_false(dns_mx_sort(mx, N(prefs)));
		assert_string_equal(mx[0].host, "first");
		assert_int_equal(mx[1].preference, 10);
		assert_int_equal(mx[2].preference, 10);
		assert_int_equal(mx[3].preference, 10);
		assert_string_equal(mx[4].host, "c");
		assert_string_equal(mx[5].host, "d");
		seen_first[mx[1].host[0] == 'a' ? 0 : mx[1].host[0] == 'b' ? 1 : 2] = true;
		mx_free(mx, N(prefs));
	}
	/* each of the three equal ones leads sometimes: (2/3)^64 odds of a miss */
	assert_true(seen_first[0] && seen_first[1] && seen_first[2]);
}

static void test_mx_sort_null_mx(void **state)
{
	static const struct {
		unsigned prefs[2];
		const char *hosts[2];
		size_t n;
		bool null_mx;
	} cases[] = {
		{ { 0 }, { "." }, 1, true },
		{ { 10 }, { "." }, 1, false },			/* not preference 0 */
		{ { 0, 10 }, { ".", "mx.a.test" }, 2, false },	/* not alone */
		{ { 0 }, { "mx.a.test" }, 1, false },
	};
	struct dns_mx mx[2];
	size_t i;

	for (i = 0; i < N(cases); i++) {
		mx_set(mx, cases[i].prefs, cases[i].hosts, cases[i].n);
		if (dns_mx_sort(mx, cases[i].n) != cases[i].null_mx)
			fail_msg("case %zu: null_mx should be %d", i, cases[i].null_mx);
		mx_free(mx, cases[i].n);
	}
	assert_false(dns_mx_sort(NULL, 0));
}

static void test_ptr_name_families(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	char out[DNS_NAME_TEXT_MAX], small[20];

	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	assert_int_equal(dns_ptr_name((struct sockaddr *)&sin, out, sizeof(out)), 0);
	assert_string_equal(out, "10.2.0.192.in-addr.arpa");
	inet_pton(AF_INET6, "2001:db8::567:89ab", &sin6.sin6_addr);
	assert_int_equal(dns_ptr_name((struct sockaddr *)&sin6, out, sizeof(out)), 0);
	/* RFC 3596 2.5's example form */
	assert_string_equal(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	inet_pton(AF_INET6, "::ffff:192.0.2.10", &sin6.sin6_addr);
	assert_int_equal(dns_ptr_name((struct sockaddr *)&sin6, out, sizeof(out)), 0);
	assert_string_equal(out, "10.2.0.192.in-addr.arpa");
	assert_int_equal(dns_ptr_name((struct sockaddr *)&sin, small, 10), -1);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	assert_int_equal(dns_ptr_name((struct sockaddr *)&sin6, small, sizeof(small)), -1);
	assert_int_equal(dns_ptr_name(&sa, out, sizeof(out)), -1);
}

static void test_name_valid_cases(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "a.test", true }, { "a.test.", true }, { "_dmarc.a.test", true },
		{ "sel._domainkey.a.test", true }, { "xn--bcher-kva.test", true },
		{ "", false }, { ".", false }, { "a..test", false }, { ".a.test", false },
		{ "a test", false }, { "a\\.test", false }, { "a.test..", false },
		{ "caf\xc3\xa9.test", false },
	};
	char long_label[80], long_name[300];
	size_t i;

	for (i = 0; i < N(cases); i++) {
		if (dns_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].name, cases[i].valid);
	}
	memset(long_label, 'x', 63);
	memcpy(long_label + 63, ".test", sizeof(".test"));
	assert_true(dns_name_valid(long_label));
	memset(long_label, 'x', 64);
	memcpy(long_label + 64, ".test", sizeof(".test"));
	assert_false(dns_name_valid(long_label));
	for (i = 0; i < 254; i += 2)
		memcpy(long_name + i, "a.", 2);
	long_name[253] = '\0';			/* 253 octets: a.a. ... a */
	assert_true(dns_name_valid(long_name));
	long_name[253] = 'a';
	long_name[254] = '\0';
	assert_false(dns_name_valid(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdata_mx_cases),
		cmocka_unit_test(test_rdata_name_limits),
		cmocka_unit_test(test_rdata_ptr_whole_rdata),
		cmocka_unit_test(test_rdata_txt_cases),
		cmocka_unit_test(test_rdata_txt_string_lengths),
		cmocka_unit_test(test_rdata_tlsa_cases),
		cmocka_unit_test(test_rdata_addr_lengths),
		cmocka_unit_test(test_mx_sort_order_and_shuffle),
		cmocka_unit_test(test_mx_sort_null_mx),
		cmocka_unit_test(test_ptr_name_families),
		cmocka_unit_test(test_name_valid_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
