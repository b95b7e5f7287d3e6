/*
 * libunbound driven from the libevent loop. The ub_ctx runs in threaded
 * mode (ub_ctx_async(ctx, 1)): its own thread does the network I/O and
 * writes finished answers to a pipe, ub_fd(). A persistent read event on
 * that fd calls ub_process(), which runs our ub callbacks on the loop
 * thread. Forked mode is avoided on purpose: the child would inherit the
 * listening sockets and the store's file descriptors.
 *
 * A lookup (struct dns_query) owns one or two resolver queries (struct
 * dns_sub; two for A+AAAA), a timer, and the caller's callback. The timer
 * serves twice: it bounds the lookup (timeout_ms, then the pending queries
 * are cancelled and the lookup fails with DNS_TEMPFAIL), and a zero
 * timeout delivers failures found before any query went out, so no
 * callback ever runs inside dns_lookup_*().
 *
 * libunbound's mydata pointer is the dns_sub itself. ub_cancel() can fail
 * (out of memory, or the answer is already in the pipe); a sub whose
 * cancel failed is kept as an orphan, detached from its query, until its
 * answer arrives or the resolver is freed, so a late answer never reaches
 * freed memory.
 */
#include "dns/dns.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

/* RR types and class (RFC 1035 3.2.2, RFC 3596, RFC 6698) */
#define DNS_RR_A 1
#define DNS_RR_PTR 12
#define DNS_RR_MX 15
#define DNS_RR_TXT 16
#define DNS_RR_AAAA 28
#define DNS_RR_TLSA 52
#define DNS_CLASS_IN 1
/* RFC 1035 4.1.1 RCODEs */
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

#define DNS_SUB_MAX 2

struct dns_sub {
	struct dns_query *query;	/* borrowed; NULL once orphaned */
	struct dns *dns;		/* borrowed */
	int rrtype;
	int async_id;
	bool pending;			/* sent, not answered, not cancelled */
	int err;			/* ub error code, or 0 */
	struct ub_result *res;		/* owned once answered */
	const char *why;		/* static text when err or res says nothing */
	struct dns_sub *next;		/* in dns->orphans */
};

struct dns_query {
	struct dns *dns;		/* borrowed */
	enum dns_type type;
	char *name;			/* owned: the queried name */
	struct dns_sub *subs[DNS_SUB_MAX];	/* owned */
	unsigned n_subs, n_pending;
	struct event *timer;		/* owned */
	enum dns_status early;		/* != DNS_OK: fail with this when the timer fires */
	bool in_callback;		/* dns_cancel() is then a no-op */
	uint64_t started_ms;
	dns_result_fn *cb;
	void *ctx;
	struct dns_query *prev, *next;	/* in dns->queries */
};

struct dns {
	struct event_base *base;	/* borrowed */
	struct ub_ctx *ub;		/* owned */
	struct event *ub_event;		/* owned: ub_fd() is readable */
	struct timeval timeout;
	struct dns_query *queries;	/* pending lookups */
	struct dns_sub *orphans;	/* owned: cancel failed, answer not yet in */
	bool in_callback;
};

static void query_finish(struct dns_query *q);

const char *dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_PERMFAIL: return "permfail";
	}
	return "unknown";
}

const char *dns_dnssec_name(enum dns_dnssec dnssec)
{
	switch (dnssec) {
	case DNS_DNSSEC_INSECURE: return "insecure";
	case DNS_DNSSEC_SECURE: return "secure";
	case DNS_DNSSEC_BOGUS: return "bogus";
	}
	return "unknown";
}

static const char *type_name(enum dns_type type)
{
	static const char *const names[] = { "mx", "addr", "txt", "ptr", "tlsa" };

	return (size_t)type < ARRAY_SIZE(names) ? names[type] : "unknown";
}

/* ---- setup ------------------------------------------------------------- */

static void ub_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;
	int err = ub_process(dns->ub);

	if (err != 0)
		log_error("dns event=process_error error=\"%s\"", ub_strerror(err));
}

/* Adds each "IP" or "IP@port" of a space-separated list as a forwarder. */
static int set_forwarders(struct ub_ctx *ub, const char *list, char **error_r)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int n = 0, err;

	for (tok = strtok_r(copy, " \t,", &save); tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
		if ((err = ub_ctx_set_fwd(ub, tok)) != 0) {
			*error_r = xasprintf("dns resolver '%s': %s", tok, ub_strerror(err));
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	if (n == 0) {
		*error_r = xstrdup("dns resolver: no address given");
		return -1;
	}
	return 0;
}

/* libunbound answers some names itself, NXDOMAIN without asking anyone:
 * test. (RFC 6761 6.2), loopback and private reverse zones (RFC 6303).
 * Tern asks the resolver the admin configured instead: on a site where
 * that resolver holds PTRs for 10/8 or serves a test. zone (as the
 * integration tests' server does), its answer is the right one, and it
 * answers NXDOMAIN for these names anyway when it has nothing. test. and
 * 127.in-addr.arpa. are never delegated from the signed root, so they are
 * not validated either. ("nodefault"
 * is ignored when set through ub_ctx_set_option(); a "transparent" zone
 * without data overrides the built-in one and passes queries on.) */
static int pass_special_zones(struct ub_ctx *ub)
{
	static const char *const options[][2] = {
		{ "local-zone:", "test. transparent" },
		{ "local-zone:", "127.in-addr.arpa. transparent" },
		{ "unblock-lan-zones:", "yes" },
		{ "insecure-lan-zones:", "yes" },
		{ "domain-insecure:", "test." },
		{ "domain-insecure:", "127.in-addr.arpa." },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(options); i++) {
		if (ub_ctx_set_option(ub, options[i][0], options[i][1]) != 0)
			return -1;
	}
	return 0;
}

static int configure(struct ub_ctx *ub, const struct dns_config *cfg, char **error_r)
{
	int err;

	/* Threads, not fork: see the top of this file. */
	if ((err = ub_ctx_async(ub, 1)) != 0) {
		*error_r = xasprintf("dns: cannot enable threads: %s", ub_strerror(err));
		return -1;
	}
	/* Forwarders on 127.0.0.1 (a local unbound, systemd-resolved, the
	 * test server) are normal; libunbound refuses them by default. */
	if (ub_ctx_set_option(ub, "do-not-query-localhost:", "no") != 0 ||
	    pass_special_zones(ub) < 0) {
		*error_r = xstrdup("dns: cannot set the resolver's options");
		return -1;
	}
	if (cfg->resolver == NULL || strcmp(cfg->resolver, "system") == 0) {
		if ((err = ub_ctx_resolvconf(ub, NULL)) != 0) {
			*error_r = xasprintf("dns: /etc/resolv.conf: %s (%s)", ub_strerror(err),
					     strerror(errno));
			return -1;
		}
		if ((err = ub_ctx_hosts(ub, NULL)) != 0)
			log_warn("dns event=hosts_unreadable error=\"%s\"", ub_strerror(err));
	} else if (set_forwarders(ub, cfg->resolver, error_r) < 0) {
		return -1;
	}
	/* A read-only anchor file: the dns-root-data package keeps it
	 * current, so RFC 5011 updates (ub_ctx_add_ta_autr) are not needed. */
	/* libunbound reads the file at the first lookup and then fails every
	 * lookup; check now that it can be read, to fail at startup instead. */
	if (cfg->trust_anchor_file != NULL && access(cfg->trust_anchor_file, R_OK) < 0) {
		*error_r = xasprintf("dns trust anchor %s: %s", cfg->trust_anchor_file,
				     strerror(errno));
		return -1;
	}
	if (cfg->trust_anchor_file != NULL &&
	    (err = ub_ctx_add_ta_file(ub, cfg->trust_anchor_file)) != 0) {
		*error_r = xasprintf("dns trust anchor %s: %s", cfg->trust_anchor_file,
				     ub_strerror(err));
		return -1;
	}
	return 0;
}

struct dns *dns_new(struct event_base *base, const struct dns_config *cfg, char **error_r)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));
	unsigned ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : DNS_TIMEOUT_MS_DEFAULT;
	int fd;

	dns->base = base;
	dns->timeout.tv_sec = ms / 1000;
	dns->timeout.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	dns->ub = ub_ctx_create();
	if (dns->ub == NULL) {
		*error_r = xstrdup("dns: cannot create the resolver context");
		free(dns);
		return NULL;
	}
	if (configure(dns->ub, cfg, error_r) < 0) {
		ub_ctx_delete(dns->ub);
		free(dns);
		return NULL;
	}
	fd = ub_fd(dns->ub);
	dns->ub_event = fd < 0 ? NULL : event_new(base, fd, EV_READ | EV_PERSIST, ub_readable, dns);
	if (dns->ub_event == NULL || event_add(dns->ub_event, NULL) < 0) {
		*error_r = xstrdup("dns: cannot watch the resolver's descriptor");
		if (dns->ub_event != NULL)
			event_free(dns->ub_event);
		ub_ctx_delete(dns->ub);
		free(dns);
		return NULL;
	}
	log_debug("dns event=ready resolver=%s trust_anchor=%s timeout_ms=%u",
		  cfg->resolver != NULL ? cfg->resolver : "system",
		  cfg->trust_anchor_file != NULL ? cfg->trust_anchor_file : "none", ms);
	return dns;
}

/* ---- query lifetime ---------------------------------------------------- */

static void sub_free(struct dns_sub *sub)
{
	if (sub->res != NULL)
		ub_resolve_free(sub->res);
	free(sub);
}

/* Stops a pending resolver query. If libunbound cannot cancel it, the sub
 * waits in dns->orphans for its answer, which is then thrown away. */
static void sub_cancel(struct dns_sub *sub)
{
	struct dns *dns = sub->dns;
	int err;

	if (!sub->pending) {
		sub_free(sub);
		return;
	}
	err = ub_cancel(dns->ub, sub->async_id);
	if (err == 0) {
		sub_free(sub);
		return;
	}
	log_debug("dns event=cancel_failed id=%d error=\"%s\"", sub->async_id, ub_strerror(err));
	sub->query = NULL;
	sub->next = dns->orphans;
	dns->orphans = sub;
}

static void query_unlink(struct dns_query *q)
{
	struct dns *dns = q->dns;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		dns->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
}

static void query_free(struct dns_query *q)
{
	unsigned i;

	query_unlink(q);
	for (i = 0; i < q->n_subs; i++)
		sub_cancel(q->subs[i]);
	event_free(q->timer);
	free(q->name);
	free(q);
}

void dns_cancel(struct dns_query **queryp)
{
	struct dns_query *q = *queryp;

	*queryp = NULL;
	if (q == NULL || q->in_callback)
		return;
	log_debug("dns event=cancel type=%s name=%s", type_name(q->type), q->name);
	query_free(q);
}

static void orphan_remove(struct dns *dns, struct dns_sub *sub)
{
	struct dns_sub **p;

	for (p = &dns->orphans; *p != NULL; p = &(*p)->next) {
		if (*p == sub) {
			*p = sub->next;
			return;
		}
	}
}

void dns_free(struct dns **dnsp)
{
	struct dns *dns = *dnsp;
	struct dns_sub *sub, *next;

	if (dns == NULL)
		return;
	if (dns->in_callback)
		fatal("dns_free called from a DNS callback");
	while (dns->queries != NULL)
		query_free(dns->queries);
	event_free(dns->ub_event);
	/* Also drops what is still in flight; no callback runs after this. */
	ub_ctx_delete(dns->ub);
	for (sub = dns->orphans; sub != NULL; sub = next) {
		next = sub->next;
		sub_free(sub);
	}
	free(dns);
	*dnsp = NULL;
}

/* libunbound's callback, on the loop thread from inside ub_process(). */
static void sub_answered(void *mydata, int err, struct ub_result *res)
{
	struct dns_sub *sub = mydata;
	struct dns_query *q = sub->query;

	sub->pending = false;
	if (q == NULL) {
		orphan_remove(sub->dns, sub);
		if (res != NULL)
			ub_resolve_free(res);
		free(sub);
		return;
	}
	sub->err = err;
	sub->res = res;
	if (err != 0 && res != NULL) {
		ub_resolve_free(res);
		sub->res = NULL;
	}
	if (--q->n_pending == 0)
		query_finish(q);
}

static void query_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	unsigned i;

	if (q->early == DNS_OK) {
		/* The lookup took too long. Cancelled queries count as failed;
		 * for A+AAAA the family that did answer is still used. */
		for (i = 0; i < q->n_subs; i++) {
			if (!q->subs[i]->pending)
				continue;
			sub_cancel(q->subs[i]);
			q->subs[i] = xcalloc(1, sizeof(*q->subs[i]));
			q->subs[i]->dns = q->dns;
			q->subs[i]->why = "timeout";
		}
		q->n_pending = 0;
	}
	query_finish(q);
}

static struct dns_query *query_new(struct dns *dns, enum dns_type type, const char *name,
				   dns_result_fn *cb, void *ctx)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->dns = dns;
	q->type = type;
	q->name = xstrdup(name);
	q->cb = cb;
	q->ctx = ctx;
	q->started_ms = time_mono_ms();
	q->timer = evtimer_new(dns->base, query_timer, q);
	if (q->timer == NULL)
		fatal("dns: evtimer_new failed");
	q->next = dns->queries;
	if (dns->queries != NULL)
		dns->queries->prev = q;
	dns->queries = q;
	return q;
}

/* Fails q from the loop with status (never from inside the lookup call). */
static struct dns_query *query_fail_soon(struct dns_query *q, enum dns_status status)
{
	static const struct timeval now = { 0, 0 };
	unsigned i;

	for (i = 0; i < q->n_subs; i++)
		sub_cancel(q->subs[i]);
	q->n_subs = q->n_pending = 0;
	q->early = status;
	if (evtimer_add(q->timer, &now) < 0)
		fatal("dns: evtimer_add failed");
	return q;
}

/* Sends one resolver query for q. Returns 0, or -1 when libunbound refuses. */
static int query_send(struct dns_query *q, int rrtype)
{
	struct dns_sub *sub = xcalloc(1, sizeof(*sub));
	int err;

	sub->query = q;
	sub->dns = q->dns;
	sub->rrtype = rrtype;
	err = ub_resolve_async(q->dns->ub, q->name, rrtype, DNS_CLASS_IN, sub, sub_answered,
			       &sub->async_id);
	if (err != 0) {
		log_warn("dns event=send_failed name=%s error=\"%s\"", q->name, ub_strerror(err));
		free(sub);
		return -1;
	}
	sub->pending = true;
	q->subs[q->n_subs++] = sub;
	q->n_pending++;
	return 0;
}

static struct dns_query *lookup(struct dns *dns, enum dns_type type, const char *name,
				const int *rrtypes, unsigned n, dns_result_fn *cb, void *ctx)
{
	struct dns_query *q = query_new(dns, type, name, cb, ctx);
	unsigned i;

	log_debug("dns event=lookup type=%s name=%s", type_name(type), name);
	if (!dns_name_valid(name))
		return query_fail_soon(q, DNS_PERMFAIL);
	for (i = 0; i < n; i++) {
		if (query_send(q, rrtypes[i]) < 0)
			return query_fail_soon(q, DNS_TEMPFAIL);
	}
	if (evtimer_add(q->timer, &dns->timeout) < 0)
		fatal("dns: evtimer_add failed");
	return q;
}

struct dns_query *dns_lookup_mx(struct dns *dns, const char *domain, dns_result_fn *cb, void *ctx)
{
	static const int types[] = { DNS_RR_MX };

	return lookup(dns, DNS_TYPE_MX, domain, types, 1, cb, ctx);
}

struct dns_query *dns_lookup_addr(struct dns *dns, const char *host, dns_result_fn *cb, void *ctx)
{
	/* AAAA first: its addresses go first in the result */
	static const int types[] = { DNS_RR_AAAA, DNS_RR_A };

	return lookup(dns, DNS_TYPE_ADDR, host, types, 2, cb, ctx);
}

struct dns_query *dns_lookup_txt(struct dns *dns, const char *name, dns_result_fn *cb, void *ctx)
{
	static const int types[] = { DNS_RR_TXT };

	return lookup(dns, DNS_TYPE_TXT, name, types, 1, cb, ctx);
}

struct dns_query *dns_lookup_ptr(struct dns *dns, const struct sockaddr *sa, dns_result_fn *cb,
				 void *ctx)
{
	static const int types[] = { DNS_RR_PTR };
	char name[DNS_NAME_TEXT_MAX];

	/* An empty name is not valid, so a bad family fails as PERMFAIL. */
	if (dns_ptr_name(sa, name, sizeof(name)) < 0)
		name[0] = '\0';
	return lookup(dns, DNS_TYPE_PTR, name, types, 1, cb, ctx);
}

struct dns_query *dns_lookup_tlsa(struct dns *dns, unsigned port, const char *proto,
				  const char *host, dns_result_fn *cb, void *ctx)
{
	static const int types[] = { DNS_RR_TLSA };
	struct dns_query *q;
	char *name;

	/* RFC 6698 3: _port._protocol.host; a bad port or host fails the name check */
	name = port > 0 && port <= 65535 ? xasprintf("_%u._%s.%s", port, proto, host) : xstrdup("");
	q = lookup(dns, DNS_TYPE_TLSA, name, types, 1, cb, ctx);
	free(name);
	return q;
}

/* ---- answers ----------------------------------------------------------- */

static size_t record_size(enum dns_type type)
{
	switch (type) {
	case DNS_TYPE_MX: return sizeof(struct dns_mx);
	case DNS_TYPE_ADDR: return sizeof(struct sockaddr_storage);
	case DNS_TYPE_TXT: return sizeof(struct dns_txt);
	case DNS_TYPE_PTR: return sizeof(char *);
	case DNS_TYPE_TLSA: return sizeof(struct dns_tlsa);
	}
	return 0;
}

/* Frees what record i of r owns. */
static void record_deinit(struct dns_result *r, size_t i)
{
	if (r->type == DNS_TYPE_MX)
		dns_mx_deinit(&r->mx[i]);
	else if (r->type == DNS_TYPE_TXT)
		dns_txt_deinit(&r->txt[i]);
	else if (r->type == DNS_TYPE_PTR)
		free(r->names[i]);
	else if (r->type == DNS_TYPE_TLSA)
		dns_tlsa_deinit(&r->tlsa[i]);
}

static void result_deinit(struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		record_deinit(r, i);
	free(r->records);
	r->records = NULL;
	r->count = 0;
}

static int parse_record(struct dns_result *r, int rrtype, const uint8_t *rd, size_t len)
{
	switch (r->type) {
	case DNS_TYPE_MX:
		return dns_rdata_mx(rd, len, &r->mx[r->count]);
	case DNS_TYPE_ADDR:
		return dns_rdata_addr(rrtype == DNS_RR_A ? AF_INET : AF_INET6, rd, len,
				      &r->addrs[r->count]);
	case DNS_TYPE_TXT:
		return dns_rdata_txt(rd, len, &r->txt[r->count]);
	case DNS_TYPE_PTR:
		return dns_rdata_ptr(rd, len, &r->names[r->count]);
	case DNS_TYPE_TLSA:
		return dns_rdata_tlsa(rd, len, &r->tlsa[r->count]);
	}
	return -1;
}

/* Appends the records of res to r. On a malformed record, returns -1 and
 * leaves r as it was before the call. */
static int parse_records(struct dns_result *r, const struct dns_sub *sub)
{
	const struct ub_result *res = sub->res;
	size_t n, first = r->count;

	for (n = 0; res->data[n] != NULL && n < DNS_RECORDS_MAX; n++)
		;
	r->records = xrealloc(r->records, (first + n + 1) * record_size(r->type));
	for (n = 0; res->data[n] != NULL && n < DNS_RECORDS_MAX; n++) {
		if (res->len[n] < 0 ||
		    parse_record(r, sub->rrtype, (const uint8_t *)res->data[n], (size_t)res->len[n]) < 0) {
			log_warn("dns event=malformed_answer name=%s rrtype=%d record=%zu len=%d",
				 res->qname != NULL ? res->qname : "?", sub->rrtype, n, res->len[n]);
			while (r->count > first)
				record_deinit(r, --r->count);
			return -1;
		}
		r->count++;
	}
	return 0;
}

/* What one resolver answer says, before its records are read. */
static enum dns_status sub_status(const struct dns_sub *sub, enum dns_dnssec *dnssec_r,
				  const char **why_r)
{
	const struct ub_result *res = sub->res;

	*dnssec_r = DNS_DNSSEC_INSECURE;
	if (res == NULL) {
		*why_r = sub->why != NULL ? sub->why : ub_strerror(sub->err);
		return DNS_TEMPFAIL;
	}
	if (res->bogus) {
		/* a validating resolver answers SERVFAIL here (RFC 4035 5.5) */
		*dnssec_r = DNS_DNSSEC_BOGUS;
		*why_r = res->why_bogus != NULL ? res->why_bogus : "dnssec validation failed";
		return DNS_TEMPFAIL;
	}
	if (res->secure)
		*dnssec_r = DNS_DNSSEC_SECURE;
	if (res->havedata)
		return DNS_OK;
	if (res->nxdomain || res->rcode == DNS_RCODE_NXDOMAIN)
		return DNS_NXDOMAIN;
	if (res->rcode != DNS_RCODE_NOERROR) {
		*why_r = res->rcode == 2 ? "servfail" : res->rcode == 5 ? "refused" : "error rcode";
		return DNS_TEMPFAIL;
	}
	return DNS_NODATA;
}

/* RFC 7505 null MX, and "." hosts dropped from ordinary sets. */
static void mx_finish(struct dns_result *r)
{
	size_t i, kept = 0;

	r->null_mx = dns_mx_sort(r->mx, r->count);
	for (i = 0; i < r->count; i++)
		kept += strcmp(r->mx[i].host, ".") != 0;
	if (kept == 0)
		r->null_mx = true;	/* only "." hosts, if not the exact "0 .": no mail either */
	if (r->null_mx)
		return;
	for (i = 0, kept = 0; i < r->count; i++) {
		if (strcmp(r->mx[i].host, ".") == 0)
			dns_mx_deinit(&r->mx[i]);
		else
			r->mx[kept++] = r->mx[i];
	}
	r->count = kept;
}

/* Reads one answer's records into r; its status, or TEMPFAIL if malformed. */
static enum dns_status sub_collect(const struct dns_sub *sub, struct dns_result *r,
				   enum dns_dnssec *dnssec_r, const char **why_r)
{
	enum dns_status status = sub_status(sub, dnssec_r, why_r);

	if (status != DNS_OK)
		return status;
	if (parse_records(r, sub) < 0) {
		*why_r = "malformed answer";
		return DNS_TEMPFAIL;
	}
	return DNS_OK;
}

/* A+AAAA: usable if either family answered with addresses (see dns.h). */
static void addr_combine(struct dns_query *q, struct dns_result *r)
{
	enum dns_status st[DNS_SUB_MAX];
	enum dns_dnssec sec[DNS_SUB_MAX];
	const char *why = NULL;
	unsigned i, n_secure = 0;
	bool failed = false, bogus = false, nxdomain = false;

	for (i = 0; i < q->n_subs; i++) {
		st[i] = sub_collect(q->subs[i], r, &sec[i], &why);
		failed |= st[i] == DNS_TEMPFAIL;
		nxdomain |= st[i] == DNS_NXDOMAIN;
		bogus |= sec[i] == DNS_DNSSEC_BOGUS;
		n_secure += sec[i] == DNS_DNSSEC_SECURE;
	}
	r->why = why;
	r->dnssec = bogus ? DNS_DNSSEC_BOGUS :
		    n_secure == q->n_subs ? DNS_DNSSEC_SECURE : DNS_DNSSEC_INSECURE;
	if (bogus) {
		/* one tampered family taints the name: do not use the other */
		result_deinit(r);
		r->status = DNS_TEMPFAIL;
	} else if (r->count > 0) {
		r->status = DNS_OK;
	} else {
		r->status = failed ? DNS_TEMPFAIL : nxdomain ? DNS_NXDOMAIN : DNS_NODATA;
	}
}

static void result_build(struct dns_query *q, struct dns_result *r)
{
	if (q->early != DNS_OK) {
		r->status = q->early;
		r->why = q->early == DNS_PERMFAIL ? "invalid name" : "the resolver refused the query";
		return;
	}
	if (q->type == DNS_TYPE_ADDR) {
		addr_combine(q, r);
		return;
	}
	r->status = sub_collect(q->subs[0], r, &r->dnssec, &r->why);
	if (r->status == DNS_OK && q->type == DNS_TYPE_MX)
		mx_finish(r);
	if (r->status == DNS_OK && r->count == 0)
		r->status = DNS_NODATA;
}

static void query_finish(struct dns_query *q)
{
	struct dns_result r = { .type = q->type, .name = q->name };
	struct dns *dns = q->dns;

	event_del(q->timer);
	result_build(q, &r);
	log_debug("dns event=answer type=%s name=%s status=%s dnssec=%s count=%zu%s%s ms=%llu",
		  type_name(q->type), q->name, dns_status_name(r.status), dns_dnssec_name(r.dnssec),
		  r.count, r.why != NULL ? " why=" : "", r.why != NULL ? r.why : "",
		  (unsigned long long)(time_mono_ms() - q->started_ms));
	/* A callback that tears its session down may cancel other lookups,
	 * or this one (then a no-op, see dns.h); q is freed after it. */
	q->in_callback = true;
	dns->in_callback = true;
	q->cb(q->ctx, &r);
	dns->in_callback = false;
	result_deinit(&r);
	query_free(q);
}
