/*
 * libFuzzer target for the DNS wire rdata parsers (src/dns/dns_rdata.c).
 * The first input octet picks the record type, the rest is the rdata, as
 * libunbound would hand it over from an answer. Whatever is accepted must
 * hold together: an MX host, a PTR name is printable text within
 * DNS_NAME_TEXT_MAX, TXT string lengths add up, a TLSA keeps its data.
 * A set of parsed MX records is also sorted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "core/buf.h"
#include "core/util.h"
#include "dns/dns.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	size_t i, len = strlen(s);

	CHECK(len > 0 && len < DNS_NAME_TEXT_MAX);
	for (i = 0; i < len; i++)
		CHECK(s[i] > 0x20 && s[i] < 0x7f);
}

static void fuzz_mx(const uint8_t *rd, size_t len)
{
	struct dns_mx mx[4] = { 0 };
	size_t n = 0, i, part = len / 4;

	/* the whole input, then four quarters as a set of records */
	if (dns_rdata_mx(rd, len, &mx[0]) == 0) {
		check_name(mx[0].host);
		dns_mx_deinit(&mx[0]);
	}
	for (i = 0; i < 4 && part > 0; i++) {
		if (dns_rdata_mx(rd + i * part, part, &mx[n]) == 0)
			check_name(mx[n++].host);
	}
	if (dns_mx_sort(mx, n))
		CHECK(n == 1 && mx[0].preference == 0 && strcmp(mx[0].host, ".") == 0);
	for (i = 1; i < n; i++)
		CHECK(mx[i - 1].preference <= mx[i].preference);
	for (i = 0; i < n; i++)
		dns_mx_deinit(&mx[i]);
}

static void fuzz_txt(const uint8_t *rd, size_t len)
{
	struct dns_txt txt;
	size_t i, sum = 0;

	if (dns_rdata_txt(rd, len, &txt) < 0)
		return;
	for (i = 0; i < txt.n_strings; i++)
		sum += txt.string_lens[i];
	CHECK(sum == txt.len && txt.len + txt.n_strings == len && txt.data[txt.len] == '\0');
	dns_txt_deinit(&txt);
}

static void fuzz_other(uint8_t kind, const uint8_t *rd, size_t len)
{
	struct sockaddr_storage ss;
	struct dns_tlsa tlsa;
	char *host;
	char name[DNS_NAME_TEXT_MAX];

	if (kind == 2 && dns_rdata_tlsa(rd, len, &tlsa) == 0) {
		CHECK(tlsa.len + 3 == len && memcmp(tlsa.data, rd + 3, tlsa.len) == 0);
		dns_tlsa_deinit(&tlsa);
	} else if (kind == 3 && dns_rdata_ptr(rd, len, &host) == 0) {
		check_name(host);
		free(host);
	} else if (kind == 4 && dns_rdata_addr(len == 4 ? AF_INET : AF_INET6, rd, len, &ss) == 0) {
		CHECK(dns_ptr_name((struct sockaddr *)&ss, name, sizeof(name)) == 0);
		CHECK(dns_name_valid(name));
	} else if (kind == 5) {
		char *text = xstrndup((const char *)rd, len);

		if (dns_name_valid(text))
			CHECK(strlen(text) <= 254);
		free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rd;
	size_t len;

	if (size < 1 || size > 4096)
		return 0;
	/* an exact-size copy, so ASan catches any read past the rdata */
	len = size - 1;
	rd = xmalloc(len ? len : 1);
	memcpy(rd, data + 1, len);
	switch (data[0] % 6) {
	case 0: fuzz_mx(rd, len); break;
	case 1: fuzz_txt(rd, len); break;
	default: fuzz_other(data[0] % 6, rd, len); break;
	}
	free(rd);
	return 0;
}
