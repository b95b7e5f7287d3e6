/*
 * Asynchronous DNS for Tern: MX, A+AAAA, TXT, PTR and TLSA lookups through
 * libunbound, a validating resolver, driven from the libevent loop. Each
 * lookup calls its callback exactly once, on the loop thread, unless it is
 * cancelled first. The resolver does its network I/O on a thread of its
 * own; answers come back through a pipe that the loop watches, so nothing
 * here blocks the loop.
 *
 * The pure parts (wire rdata parsers, RFC 5321 MX ordering, reverse names)
 * are declared at the end and live in dns_rdata.c, so they can be unit
 * tested and fuzzed without a resolver.
 */
#ifndef TERN_DNS_DNS_H
#define TERN_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;
struct event_base;

/* Longest name in presentation form we produce: 255 wire octets, each of
 * which may be written \DDD, plus the NUL. */
#define DNS_NAME_TEXT_MAX (255 * 4 + 1)
/* Default time a lookup may take before it fails with DNS_TEMPFAIL. */
#define DNS_TIMEOUT_MS_DEFAULT 10000
/* Records kept from one answer; the rest are ignored (an MX set or a TXT
 * set larger than this is an attack or a mistake, not a mail setup). */
#define DNS_RECORDS_MAX 64

struct dns_config {
	/* NULL or "system": the nameservers of /etc/resolv.conf, plus
	 * /etc/hosts. Otherwise forwarders "IP" or "IP@port", separated by
	 * spaces. Forwarders on loopback are allowed. */
	const char *resolver;
	/* NULL, or a file with the DNSSEC root trust anchor (DS or DNSKEY
	 * records, e.g. /usr/share/dns/root.key from dns-root-data). Without
	 * it nothing validates and every answer is DNS_DNSSEC_INSECURE. */
	const char *trust_anchor_file;
	/* Per lookup; 0 means DNS_TIMEOUT_MS_DEFAULT. */
	unsigned timeout_ms;
};

enum dns_type {
	DNS_TYPE_MX,
	DNS_TYPE_ADDR,		/* A and AAAA together */
	DNS_TYPE_TXT,
	DNS_TYPE_PTR,
	DNS_TYPE_TLSA,
};

enum dns_status {
	DNS_OK,			/* count >= 1 */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, without records of this type */
	DNS_TEMPFAIL,		/* SERVFAIL, timeout, bogus DNSSEC, malformed answer */
	DNS_PERMFAIL,		/* the name cannot be looked up (not a valid name) */
};

enum dns_dnssec {
	DNS_DNSSEC_INSECURE,	/* not signed, or no trust anchor configured */
	DNS_DNSSEC_SECURE,	/* validated, including a proven NXDOMAIN/NODATA */
	DNS_DNSSEC_BOGUS,	/* validation failed; status is DNS_TEMPFAIL */
};

struct dns_mx {
	unsigned preference;
	char *host;		/* owned; presentation form, no trailing dot; "." is the root */
};

/* One TXT record: its character-strings concatenated (as SPF, DKIM and
 * DMARC read them, RFC 7208 3.3), with the length of each string kept so
 * the record can be shown as it was published. */
struct dns_txt {
	char *data;		/* owned; NUL after len, but may hold NULs itself */
	size_t len;
	size_t n_strings;
	uint8_t *string_lens;	/* owned; n_strings lengths that sum to len */
};

/* One TLSA record (RFC 6698 2.1), not interpreted. */
struct dns_tlsa {
	uint8_t usage, selector, mtype;
	uint8_t *data;		/* owned: certificate association data */
	size_t len;
};

/* What a callback receives. It is borrowed: valid only during the call,
 * and freed by the dns module when the callback returns. Copy what you
 * keep. Which array is set depends on type; it has count entries. */
struct dns_result {
	enum dns_type type;
	const char *name;		/* the name that was looked up */
	enum dns_status status;
	enum dns_dnssec dnssec;
	const char *why;		/* NULL, or why it failed (timeout, bogus reason) */
	/* MX only: the domain published the null MX of RFC 7505 (a single
	 * "0 ." record): it accepts no mail. A set whose every host is "."
	 * is taken as null too. Then mx[] holds just the "." entries. */
	bool null_mx;
	size_t count;
	union {
		void *records;			/* the array, whatever its type */
		struct dns_mx *mx;		/* sorted by dns_mx_sort() */
		struct sockaddr_storage *addrs;	/* IPv6 first, then IPv4; port 0 */
		struct dns_txt *txt;
		char **names;			/* PTR targets */
		struct dns_tlsa *tlsa;
	};
};

typedef void dns_result_fn(void *ctx, const struct dns_result *result);

struct dns;
struct dns_query;

/* Creates a resolver for lookups on base's loop. Returns NULL with an
 * error message in *error_r (owned by the caller) when the configuration
 * cannot be used: an unparsable forwarder, an unreadable trust anchor or
 * resolv.conf. */
struct dns *dns_new(struct event_base *base, const struct dns_config *cfg, char **error_r);
/* Cancels every pending lookup (their callbacks are NOT called) and frees
 * the resolver. Must not be called from inside a lookup callback. */
void dns_free(struct dns **dns);

/* Lookups. Each returns a handle that stays valid until its callback has
 * been called or it is cancelled, whichever comes first; it never returns
 * NULL. The callback is never called from inside dns_lookup_*(), even for
 * an invalid name (that comes as DNS_PERMFAIL from the loop), so a caller
 * may store the handle before its callback can run. */

/* MX records of domain. The caller applies RFC 5321 5.1 itself: on
 * DNS_NODATA (and only then) the domain's own A/AAAA are the implicit MX;
 * with null_mx the domain takes no mail (RFC 7505 4.1: fail at once).
 * Entries with host "." are dropped from a non-null MX set. */
struct dns_query *dns_lookup_mx(struct dns *dns, const char *domain, dns_result_fn *cb, void *ctx);
/* A and AAAA of host, queried together, with one callback when both have
 * answered. DNS_OK when either family gave addresses, even if the other
 * failed; otherwise TEMPFAIL if either failed, else NXDOMAIN or NODATA.
 * dnssec is SECURE only when both answers are. */
struct dns_query *dns_lookup_addr(struct dns *dns, const char *host, dns_result_fn *cb, void *ctx);
struct dns_query *dns_lookup_txt(struct dns *dns, const char *name, dns_result_fn *cb, void *ctx);
/* PTR records of the address in sa (AF_INET or AF_INET6; an IPv4-mapped
 * IPv6 address is looked up as IPv4). */
struct dns_query *dns_lookup_ptr(struct dns *dns, const struct sockaddr *sa, dns_result_fn *cb,
				 void *ctx);
/* TLSA records at _port._proto.host (RFC 6698 3), proto e.g. "tcp". */
struct dns_query *dns_lookup_tlsa(struct dns *dns, unsigned port, const char *proto,
				  const char *host, dns_result_fn *cb, void *ctx);
/* Cancels a pending lookup: its callback will not be called. Sets *query
 * to NULL; does nothing for NULL. Only for handles still pending, with
 * one exception: inside the lookup's own callback it is a harmless no-op,
 * so a session torn down from that callback may cancel unconditionally. */
void dns_cancel(struct dns_query **query);

const char *dns_status_name(enum dns_status status);
const char *dns_dnssec_name(enum dns_dnssec dnssec);

/* ---- pure helpers (dns_rdata.c) ---------------------------------------- */

/* Each parser reads exactly the len bytes of one record's wire rdata
 * (uncompressed, as libunbound hands it over) and returns 0, or -1 when
 * the rdata is malformed: truncated, trailing bytes, a compression pointer
 * or a label type other than a plain label, a name over 255 octets. On -1
 * nothing is left allocated. */

/* Appends the presentation form of the uncompressed wire name at rd to
 * out, without the trailing dot ("." for the root). Octets other than
 * letters, digits, '-' and '_' are written \DDD, so the text is safe to
 * print and log. *used_r is the number of wire octets the name took. */
int dns_rdata_name(const uint8_t *rd, size_t len, size_t *used_r, struct buf *out);
/* The name must fill the rdata (PTR, CNAME, NS). host_r is owned by the caller. */
int dns_rdata_ptr(const uint8_t *rd, size_t len, char **host_r);
/* mx_r->host is owned by the caller. */
int dns_rdata_mx(const uint8_t *rd, size_t len, struct dns_mx *mx_r);
/* At least one character-string; each length octet must fit. */
int dns_rdata_txt(const uint8_t *rd, size_t len, struct dns_txt *txt_r);
/* Three octets and at least one octet of association data. */
int dns_rdata_tlsa(const uint8_t *rd, size_t len, struct dns_tlsa *tlsa_r);
/* A (len 4, family AF_INET) or AAAA (len 16, AF_INET6) into addr_r. */
int dns_rdata_addr(int family, const uint8_t *rd, size_t len, struct sockaddr_storage *addr_r);

void dns_mx_deinit(struct dns_mx *mx);
void dns_txt_deinit(struct dns_txt *txt);
void dns_tlsa_deinit(struct dns_tlsa *tlsa);

/* Orders mx[] as RFC 5321 5.1 asks: by preference, lowest first, with
 * records of equal preference in random order, so load spreads across
 * them. Returns whether the set is the RFC 7505 null MX: exactly one
 * record, preference 0, host ".". */
bool dns_mx_sort(struct dns_mx *mx, size_t count);

/* Writes the reverse-lookup name of sa (d.c.b.a.in-addr.arpa or the
 * 32-nibble ip6.arpa name, RFC 1035 3.5 / RFC 3596 2.5) into out. Returns
 * 0, or -1 for another family or when size is too small. */
int dns_ptr_name(const struct sockaddr *sa, char *out, size_t size);

/* Whether name (presentation form, an optional trailing dot) can be
 * queried: 1 to 253 octets, labels of 1 to 63 letters, digits, '-', '_'. */
bool dns_name_valid(const char *name);

#endif
