/*
 * `tern dns mx|a|txt|ptr|tlsa NAME`: one lookup through src/dns/, exactly
 * as the daemon would make it, printed one record a line and then a
 * "status=... dnssec=..." line. It exists to debug a resolver setup and to
 * test src/dns/ end to end. Exit code: 0 found, 1 not found (NXDOMAIN,
 * NODATA, or a name that cannot be looked up), 2 temporary failure (also
 * for usage errors, as elsewhere in `tern`).
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "dns/dns.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_USAGE "dns mx|a|txt|ptr|tlsa NAME [--resolver IP[@PORT]] [--trust-anchor FILE]\n" \
	"           [--timeout SECONDS] [--port PORT] [--debug]"

struct dns_cli {
	const char *kind;
	const char *name;
	struct dns_config cfg;
	unsigned port;		/* tlsa */
	int exit_code;
	struct event_base *base;	/* borrowed */
};

static void print_txt(const struct dns_txt *t)
{
	size_t i, j, pos = 0;

	fputs("TXT", stdout);
	for (i = 0; i < t->n_strings; i++) {
		fputs(" \"", stdout);
		for (j = 0; j < t->string_lens[i]; j++, pos++) {
			unsigned char c = (unsigned char)t->data[pos];

			/* RFC 1035 5.1 presentation form; never raw control bytes */
			if (c < 0x20 || c > 0x7e)
				printf("\\%03u", c);
			else if (c == '"' || c == '\\')
				printf("\\%c", c);
			else
				putchar(c);
		}
		putchar('"');
	}
	putchar('\n');
}

static void print_addr(const struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, a, text, sizeof(text)) != NULL)
		printf("%s %s\n", ss->ss_family == AF_INET6 ? "AAAA" : "A", text);
}

static void print_record(const struct dns_result *r, size_t i)
{
	size_t j;

	switch (r->type) {
	case DNS_TYPE_MX:
		printf("MX %u %s\n", r->mx[i].preference, r->mx[i].host);
		break;
	case DNS_TYPE_ADDR:
		print_addr(&r->addrs[i]);
		break;
	case DNS_TYPE_TXT:
		print_txt(&r->txt[i]);
		break;
	case DNS_TYPE_PTR:
		printf("PTR %s\n", r->names[i]);
		break;
	case DNS_TYPE_TLSA:
		printf("TLSA %u %u %u ", r->tlsa[i].usage, r->tlsa[i].selector, r->tlsa[i].mtype);
		for (j = 0; j < r->tlsa[i].len; j++)
			printf("%02x", r->tlsa[i].data[j]);
		putchar('\n');
		break;
	}
}

static void lookup_done(void *ctx, const struct dns_result *r)
{
	struct dns_cli *dc = ctx;
	size_t i;

	if (r->status == DNS_OK && r->null_mx)
		printf("null MX: %s accepts no mail (RFC 7505)\n", r->name);
	for (i = 0; r->status == DNS_OK && i < r->count; i++)
		print_record(r, i);
	printf("status=%s dnssec=%s count=%zu", dns_status_name(r->status),
	       dns_dnssec_name(r->dnssec), r->count);
	if (r->why != NULL) {
		char esc[LOG_ESCAPE_MAX];

		printf(" why=\"%s\"", log_escape(esc, r->why, strlen(r->why)));
	}
	putchar('\n');
	fflush(stdout);
	dc->exit_code = r->status == DNS_OK ? 0 : r->status == DNS_TEMPFAIL ? 2 : 1;
	event_base_loopbreak(dc->base);
}

/* Starts the lookup dc->kind asks for; -1 for an unknown kind or a bad PTR address. */
static int start_lookup(struct dns_cli *dc, struct dns *dns)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (!strcmp(dc->kind, "mx"))
		return dns_lookup_mx(dns, dc->name, lookup_done, dc) != NULL ? 0 : -1;
	if (!strcmp(dc->kind, "a"))
		return dns_lookup_addr(dns, dc->name, lookup_done, dc) != NULL ? 0 : -1;
	if (!strcmp(dc->kind, "txt"))
		return dns_lookup_txt(dns, dc->name, lookup_done, dc) != NULL ? 0 : -1;
	if (!strcmp(dc->kind, "tlsa"))
		return dns_lookup_tlsa(dns, dc->port, "tcp", dc->name, lookup_done, dc) != NULL ?
			0 : -1;
	if (strcmp(dc->kind, "ptr") != 0)
		return -1;
	if (inet_pton(AF_INET, dc->name, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, dc->name, &sin6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return cli_fail("ptr: '%s' is not an IP address", dc->name), -1;
	return dns_lookup_ptr(dns, (struct sockaddr *)&ss, lookup_done, dc) != NULL ? 0 : -1;
}

static int parse_args(struct dns_cli *dc, int argc, char **argv)
{
	uint64_t n;
	int i;

	if (argc < 2)
		return -1;
	dc->kind = argv[0];
	dc->name = argv[1];
	dc->port = 25;
	for (i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--debug")) {
			log_set_level(LOG_LEVEL_DEBUG);
			continue;
		}
		if (val == NULL)
			return -1;
		i++;
		if (!strcmp(opt, "--resolver"))
			dc->cfg.resolver = val;
		else if (!strcmp(opt, "--trust-anchor"))
			dc->cfg.trust_anchor_file = val;
		else if (!strcmp(opt, "--timeout") && parse_uint(val, strlen(val), 600, &n) == 0 && n > 0)
			dc->cfg.timeout_ms = (unsigned)n * 1000;
		else if (!strcmp(opt, "--port") && parse_uint(val, strlen(val), 65535, &n) == 0 && n > 0)
			dc->port = (unsigned)n;
		else
			return -1;
	}
	return 0;
}

int cli_dns(struct cli *cli, int argc, char **argv)
{
	struct dns_cli dc = { .exit_code = 2 };
	struct dns *dns;
	char *error;

	if (parse_args(&dc, argc, argv) < 0) {
		cli_fail("usage: tern " DNS_USAGE);
		return 2;
	}
	dc.base = event_base_new();
	if (dc.base == NULL)
		return cli_fail("cannot create an event loop"), 2;
	dns = dns_new(dc.base, &dc.cfg, &error);
	if (dns == NULL) {
		cli_fail("%s", error);
		free(error);
		event_base_free(dc.base);
		return 2;
	}
	if (start_lookup(&dc, dns) < 0) {
		if (strcmp(dc.kind, "ptr") != 0)
			cli_fail("usage: tern " DNS_USAGE);
		dc.exit_code = 2;
	} else if (event_base_dispatch(dc.base) < 0) {
		cli_fail("event loop failed");
		dc.exit_code = 2;
	}
	dns_free(&dns);
	event_base_free(dc.base);
	return dc.exit_code;
}
