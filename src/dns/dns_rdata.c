/*
 * The pure half of src/dns/: parsers for the wire rdata of the record
 * types Tern asks for (RFC 1035 3.3, RFC 3596, RFC 6698), the RFC 5321 5.1
 * MX ordering and RFC 7505 null MX test, and reverse-lookup names. The
 * rdata comes from the network through libunbound, so every read is
 * checked against the record's length: a malformed record is an error,
 * never a read past its end. No I/O, no resolver; fuzz/fuzz_dns_rdata.c
 * drives all of it.
 */
#include "dns/dns.h"
#include "core/buf.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1035 2.3.4 */
#define DNS_LABEL_MAX 63
#define DNS_WIRE_NAME_MAX 255
#define DNS_TEXT_NAME_MAX 253

static bool name_octet_plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int dns_rdata_name(const uint8_t *rd, size_t len, size_t *used_r, struct buf *out)
{
	size_t pos = 0, start = out->len;
	uint8_t label;

	for (;;) {
		if (pos >= len || pos >= DNS_WIRE_NAME_MAX)
			goto bad;
		label = rd[pos++];
		if (label == 0)
			break;
		/* 0xc0 is a compression pointer, 0x40/0x80 are the obsolete
		 * extended label types: none belongs in uncompressed rdata */
		if (label > DNS_LABEL_MAX || label > len - pos)
			goto bad;
		if (out->len > start && buf_append_char(out, '.') < 0)
			goto bad;
		for (; label > 0; label--, pos++) {
			uint8_t c = rd[pos];

			if (name_octet_plain(c) ? buf_append_char(out, (char)c) < 0 :
			    buf_printf(out, "\\%03u", c) < 0)
				goto bad;
		}
	}
	if (out->len == start && buf_append_char(out, '.') < 0)
		goto bad;
	*used_r = pos;
	return 0;
bad:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

int dns_rdata_ptr(const uint8_t *rd, size_t len, char **host_r)
{
	struct buf b;
	size_t used;

	buf_init(&b, DNS_NAME_TEXT_MAX);
	if (dns_rdata_name(rd, len, &used, &b) < 0 || used != len) {
		buf_deinit(&b);
		return -1;
	}
	*host_r = buf_steal(&b, NULL);
	return 0;
}

int dns_rdata_mx(const uint8_t *rd, size_t len, struct dns_mx *mx_r)
{
	/* RFC 1035 3.3.9: PREFERENCE (16 bits), EXCHANGE (a name) */
	if (len < 3 || dns_rdata_ptr(rd + 2, len - 2, &mx_r->host) < 0)
		return -1;
	mx_r->preference = (unsigned)rd[0] << 8 | rd[1];
	return 0;
}

int dns_rdata_txt(const uint8_t *rd, size_t len, struct dns_txt *txt_r)
{
	size_t pos, n = 0, total = 0, i;

	/* RFC 1035 3.3.14: one or more <character-string>s, each a length
	 * octet and that many octets. Count and check before allocating. */
	for (pos = 0; pos < len; pos += 1 + rd[pos]) {
		if (rd[pos] > len - pos - 1)
			return -1;
		n++;
		total += rd[pos];
	}
	if (n == 0)
		return -1;
	txt_r->data = xmalloc(total + 1);
	txt_r->string_lens = xmalloc(n);
	txt_r->len = total;
	txt_r->n_strings = n;
	for (pos = 0, i = 0, total = 0; i < n; i++) {
		/* UNSAFE: the loop above proved each string lies within rd */
		memcpy(txt_r->data + total, rd + pos + 1, rd[pos]);
		txt_r->string_lens[i] = rd[pos];
		total += rd[pos];
		pos += 1 + rd[pos];
	}
	txt_r->data[total] = '\0';
	return 0;
}

int dns_rdata_tlsa(const uint8_t *rd, size_t len, struct dns_tlsa *tlsa_r)
{
	/* RFC 6698 2.1: usage, selector, matching type, association data */
	if (len < 4)
		return -1;
	tlsa_r->usage = rd[0];
	tlsa_r->selector = rd[1];
	tlsa_r->mtype = rd[2];
	tlsa_r->len = len - 3;
	tlsa_r->data = xmalloc(len - 3);
	memcpy(tlsa_r->data, rd + 3, len - 3);
	return 0;
}

int dns_rdata_addr(int family, const uint8_t *rd, size_t len, struct sockaddr_storage *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
	if (family == AF_INET && len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)addr_r;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, rd, 4);
		return 0;
	}
	if (family == AF_INET6 && len == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr_r;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, rd, 16);
		return 0;
	}
	return -1;
}

void dns_mx_deinit(struct dns_mx *mx)
{
	free(mx->host);
	mx->host = NULL;
}

void dns_txt_deinit(struct dns_txt *txt)
{
	free(txt->data);
	free(txt->string_lens);
	txt->data = NULL;
	txt->string_lens = NULL;
}

void dns_tlsa_deinit(struct dns_tlsa *tlsa)
{
	free(tlsa->data);
	tlsa->data = NULL;
}

static int mx_compare(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return (x->preference > y->preference) - (x->preference < y->preference);
}

bool dns_mx_sort(struct dns_mx *mx, size_t count)
{
	size_t start, end, i, j;
	struct dns_mx tmp;

	if (count == 0)
		return false;
	qsort(mx, count, sizeof(*mx), mx_compare);
	/* RFC 5321 5.1: "randomize them to spread the load" among equal
	 * preferences. Fisher-Yates within each run of equal preference. */
	for (start = 0; start < count; start = end) {
		for (end = start + 1; end < count && mx[end].preference == mx[start].preference; end++)
			;
		for (i = end - 1; i > start; i--) {
			j = start + randombytes_uniform((uint32_t)(i - start + 1));
			tmp = mx[i];
			mx[i] = mx[j];
			mx[j] = tmp;
		}
	}
	/* RFC 7505 3: a null MX is the one record "0 ." */
	return count == 1 && mx[0].preference == 0 && strcmp(mx[0].host, ".") == 0;
}

static int ptr_name_v4(const uint8_t a[4], char *out, size_t size)
{
	int n = snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int dns_ptr_name(const struct sockaddr *sa, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const struct sockaddr_in6 *sin6;
	const uint8_t *a;
	size_t pos = 0;
	int i;

	if (sa->sa_family == AF_INET)
		return ptr_name_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, out, size);
	if (sa->sa_family != AF_INET6)
		return -1;
	sin6 = (const struct sockaddr_in6 *)sa;
	a = sin6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return ptr_name_v4(a + 12, out, size);
	/* 32 nibbles "x." plus "ip6.arpa" and the NUL */
	if (size < 32 * 2 + sizeof("ip6.arpa"))
		return -1;
	for (i = 15; i >= 0; i--) {
		out[pos++] = hex[a[i] & 0xf];
		out[pos++] = '.';
		out[pos++] = hex[a[i] >> 4];
		out[pos++] = '.';
	}
	memcpy(out + pos, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

bool dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_TEXT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!name_octet_plain((uint8_t)name[i]) || ++label > DNS_LABEL_MAX) {
			return false;
		}
	}
	return label > 0;
}
