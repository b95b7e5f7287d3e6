/*
 * Brute-force limits, in the daemon's memory (a restart forgets them, as
 * Dovecot's auth penalty does). Failures are counted per client IP and per
 * account; each failure's reply waits longer (doubling), and past the
 * limit the IP or account is blocked for block_seconds. Counts expire
 * block_seconds after the last failure. An account block does not apply
 * to IPs that logged in to that account before, so a spray of wrong
 * passwords cannot lock the owner out of their own mail.
 *
 * Pure logic with the time passed in: unit-tested without a clock.
 */
#include "auth/auth.h"
#include "core/limits.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define RL_BUCKETS 4096
#define RL_GOOD_IPS 4		/* IPs remembered per account */
#define RL_KEY_MAX 330		/* "a:" + address, or "i:" + IPv6 text */

struct rl_entry {
	struct rl_entry *next;
	char key[RL_KEY_MAX];	/* "i:203.0.113.5" or "a:alice@example.com" */
	unsigned failures;
	int64_t last_failure;
	int64_t blocked_until;	/* 0: not blocked */
	char good_ips[RL_GOOD_IPS][48];	/* accounts: IPs that logged in */
	int64_t good_until[RL_GOOD_IPS];
};

struct ratelimit {
	struct ratelimit_limits limits;
	struct rl_entry *buckets[RL_BUCKETS];
	size_t n_entries;
};

struct ratelimit *ratelimit_new(const struct ratelimit_limits *limits)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->limits = *limits;
	return rl;
}

void ratelimit_set_limits(struct ratelimit *rl, const struct ratelimit_limits *limits)
{
	rl->limits = *limits;
}

void ratelimit_free(struct ratelimit **rlp)
{
	struct ratelimit *rl = *rlp;
	struct rl_entry *e, *next;
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i < RL_BUCKETS; i++) {
		for (e = rl->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(rl);
	*rlp = NULL;
}

/* "i:" or "a:" + the lowercased name; false if it does not fit. */
static bool make_key(char out[RL_KEY_MAX], const char *name, bool is_ip)
{
	size_t i, len = strlen(name);

	if (len + 3 > RL_KEY_MAX || len == 0)
		return false;
	out[0] = is_ip ? 'i' : 'a';
	out[1] = ':';
	for (i = 0; i <= len; i++)
		out[2 + i] = (char)tolower((unsigned char)name[i]);
	return true;
}

static size_t bucket_of(const char *key)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % RL_BUCKETS);
}

/* An entry that has nothing left to remember at now. */
static bool entry_stale(const struct ratelimit *rl, const struct rl_entry *e, int64_t now)
{
	size_t i;

	if (e->blocked_until > now || (e->failures > 0 &&
	    now - e->last_failure < (int64_t)rl->limits.block_seconds))
		return false;
	for (i = 0; i < RL_GOOD_IPS; i++) {
		if (e->good_until[i] > now)
			return false;
	}
	return true;
}

/* Drops stale entries; run when the table is full. */
static void sweep(struct ratelimit *rl, int64_t now)
{
	struct rl_entry **pp, *e;
	size_t i;

	for (i = 0; i < RL_BUCKETS; i++) {
		for (pp = &rl->buckets[i]; (e = *pp) != NULL;) {
			if (entry_stale(rl, e, now)) {
				*pp = e->next;
				free(e);
				rl->n_entries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static struct rl_entry *find(struct ratelimit *rl, const char *name, bool is_ip, bool create,
			     int64_t now)
{
	char key[RL_KEY_MAX];
	struct rl_entry *e;
	size_t b;

	if (name == NULL || !make_key(key, name, is_ip))
		return NULL;
	b = bucket_of(key);
	for (e = rl->buckets[b]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0)
			break;
	}
	if (e != NULL && e->failures > 0 && e->blocked_until <= now &&
	    now - e->last_failure >= (int64_t)rl->limits.block_seconds) {
		e->failures = 0;	/* forgotten */
		e->blocked_until = 0;
	}
	if (e != NULL || !create)
		return e;
	if (rl->n_entries >= AUTH_RATELIMIT_ENTRIES_MAX)
		sweep(rl, now);
	if (rl->n_entries >= AUTH_RATELIMIT_ENTRIES_MAX)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	memcpy(e->key, key, sizeof(key));
	e->next = rl->buckets[b];
	rl->buckets[b] = e;
	rl->n_entries++;
	return e;
}

static bool good_ip(const struct rl_entry *acct, const char *ip, int64_t now)
{
	size_t i;

	for (i = 0; ip != NULL && i < RL_GOOD_IPS; i++) {
		if (acct->good_until[i] > now && strcmp(acct->good_ips[i], ip) == 0)
			return true;
	}
	return false;
}

bool ratelimit_blocked(struct ratelimit *rl, const char *ip, const char *account, int64_t now)
{
	struct rl_entry *e;

	if ((e = find(rl, ip, true, false, now)) != NULL && e->blocked_until > now)
		return true;
	e = find(rl, account, false, false, now);
	return e != NULL && e->blocked_until > now && !good_ip(e, ip, now);
}

static void count(struct ratelimit *rl, struct rl_entry *e, unsigned max, int64_t now)
{
	if (e == NULL)
		return;
	e->failures++;
	e->last_failure = now;
	if (e->failures >= max && e->blocked_until <= now)
		e->blocked_until = now + (int64_t)rl->limits.block_seconds;
}

uint64_t ratelimit_failure(struct ratelimit *rl, const char *ip, const char *account,
			   int64_t now)
{
	struct rl_entry *ei = find(rl, ip, true, true, now);
	struct rl_entry *ea = find(rl, account, false, true, now);
	unsigned n = 0;
	uint64_t delay;

	count(rl, ei, rl->limits.max_failures_per_ip, now);
	count(rl, ea, rl->limits.max_failures_per_account, now);
	if (ei != NULL)
		n = ei->failures;
	if (ea != NULL && ea->failures > n)
		n = ea->failures;
	if (n == 0 || rl->limits.delay_ms == 0)
		return 0;
	delay = rl->limits.delay_ms;
	while (--n > 0 && delay < rl->limits.delay_max_ms)
		delay *= 2;
	return delay < rl->limits.delay_max_ms ? delay : rl->limits.delay_max_ms;
}

void ratelimit_success(struct ratelimit *rl, const char *ip, const char *account, int64_t now)
{
	struct rl_entry *e;
	size_t i, slot = 0;

	if (ip == NULL || strlen(ip) >= sizeof(e->good_ips[0]))
		return;
	e = find(rl, account, false, true, now);
	if (e == NULL)
		return;
	for (i = 0; i < RL_GOOD_IPS; i++) {
		if (strcmp(e->good_ips[i], ip) == 0) {
			slot = i;
			break;
		}
		if (e->good_until[i] < e->good_until[slot])
			slot = i;	/* the oldest */
	}
	memcpy(e->good_ips[slot], ip, strlen(ip) + 1);
	/* an owner who logs in weekly stays recognized */
	e->good_until[slot] = now + 30 * 86400;
}

void ratelimit_list(struct ratelimit *rl, int64_t now, ratelimit_fn *fn, void *ctx)
{
	struct rl_entry *e;
	size_t i;

	for (i = 0; i < RL_BUCKETS; i++) {
		for (e = rl->buckets[i]; e != NULL; e = e->next) {
			if (e->blocked_until > now)
				fn(ctx, e->key + 2, e->key[0] == 'i', e->failures, e->blocked_until);
		}
	}
}

int ratelimit_unblock(struct ratelimit *rl, const char *key)
{
	bool is_ip = strchr(key, '@') == NULL;
	struct rl_entry *e = find(rl, key, is_ip, false, 0);

	if (e == NULL || (e->failures == 0 && e->blocked_until == 0))
		return 0;
	e->failures = 0;
	e->blocked_until = 0;
	return 1;
}
