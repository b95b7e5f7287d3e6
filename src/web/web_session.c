/*
 * Portal sessions, held in memory by the daemon (a restart logs everyone
 * out, which is fine for a settings portal). The id is 256 random bits
 * from libsodium, given to the browser as 64 hex digits in the cookie; the
 * map is a chained hash table indexed by the id's first bytes (uniformly
 * random, so no hash function is needed and a client cannot aim at one
 * bucket), and ids are compared in constant time. A session ends after
 * [web] session_timeout of idleness, after session_lifetime in any case,
 * on logout, and when the account's password changes elsewhere.
 */
#include "web/web_internal.h"
#include "core/limits.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define WEB_BUCKETS 1024

struct web_sessions {
	struct web_session *buckets[WEB_BUCKETS];
	unsigned n;
};

struct web_sessions *web_sessions_new(void)
{
	return xcalloc(1, sizeof(struct web_sessions));
}

static void session_free(struct web_session *s)
{
	web_session_forget_password(s);
	auth_totp_enrolment_deinit(&s->enrol);
	free(s->address);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

void web_sessions_free(struct web_sessions **wsp)
{
	struct web_sessions *ws = *wsp;
	struct web_session *s, *next;
	unsigned i;

	if (ws == NULL)
		return;
	for (i = 0; i < WEB_BUCKETS; i++) {
		for (s = ws->buckets[i]; s != NULL; s = next) {
			next = s->next;
			session_free(s);
		}
	}
	free(ws);
	*wsp = NULL;
}

unsigned web_sessions_count(const struct web_sessions *ws)
{
	return ws->n;
}

static unsigned bucket_of(const uint8_t *id)
{
	return ((unsigned)id[0] << 8 | id[1]) % WEB_BUCKETS;
}

static void new_tokens(struct web_session *s)
{
	uint8_t csrf[32];

	randombytes_buf(s->id, sizeof(s->id));
	randombytes_buf(csrf, sizeof(csrf));
	sodium_bin2hex(s->csrf, sizeof(s->csrf), csrf, sizeof(csrf));
	sodium_memzero(csrf, sizeof(csrf));
}

static void link_session(struct web_sessions *ws, struct web_session *s)
{
	unsigned b = bucket_of(s->id);

	s->next = ws->buckets[b];
	ws->buckets[b] = s;
	ws->n++;
}

static void unlink_session(struct web_sessions *ws, struct web_session *s)
{
	struct web_session **p = &ws->buckets[bucket_of(s->id)];

	while (*p != NULL && *p != s)
		p = &(*p)->next;
	if (*p == NULL)
		fatal("web session missing from its bucket");
	*p = s->next;
	s->next = NULL;
	ws->n--;
}

struct web_session *web_session_create(struct web_sessions *ws, int64_t now)
{
	struct web_session *s;

	if (ws->n >= WEB_SESSIONS_MAX)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	new_tokens(s);
	s->created = s->last_seen = now;
	link_session(ws, s);
	return s;
}

static bool expired(const struct web_session *s, int64_t now, uint64_t idle, uint64_t lifetime)
{
	if (s->state == WEB_SESSION_NEED_CODE)
		lifetime = WEB_PENDING_LOGIN_SECONDS;
	return now - s->last_seen >= (int64_t)idle || now - s->created >= (int64_t)lifetime ||
	       now < s->created;
}

struct web_session *web_session_find_id(struct web_sessions *ws, const uint8_t *id)
{
	struct web_session *s;

	for (s = ws->buckets[bucket_of(id)]; s != NULL; s = s->next) {
		if (CRYPTO_memcmp(s->id, id, WEB_SESSION_ID_LEN) == 0)
			return s;
	}
	return NULL;
}

struct web_session *web_session_find(struct web_sessions *ws, const char *hex, int64_t now,
				     uint64_t idle, uint64_t lifetime)
{
	uint8_t id[WEB_SESSION_ID_LEN];
	struct web_session *s;
	size_t len;

	if (!web_hex_valid(hex, WEB_SESSION_ID_LEN) ||
	    sodium_hex2bin(id, sizeof(id), hex, 2 * WEB_SESSION_ID_LEN, NULL, &len, NULL) != 0 ||
	    len != sizeof(id))
		return NULL;
	s = web_session_find_id(ws, id);
	if (s == NULL)
		return NULL;
	if (expired(s, now, idle, lifetime)) {
		web_session_end(ws, s);
		return NULL;
	}
	s->last_seen = now;
	return s;
}

void web_session_rotate(struct web_sessions *ws, struct web_session *s)
{
	unlink_session(ws, s);
	new_tokens(s);
	link_session(ws, s);
}

void web_session_end(struct web_sessions *ws, struct web_session *s)
{
	unlink_session(ws, s);
	session_free(s);
}

/* Ends the sessions for which pred(s, arg) holds. */
static unsigned end_where(struct web_sessions *ws, bool (*pred)(const struct web_session *,
			  const void *), const void *arg)
{
	struct web_session **p, *s;
	unsigned i, n = 0;

	for (i = 0; i < WEB_BUCKETS; i++) {
		p = &ws->buckets[i];
		while ((s = *p) != NULL) {
			if (pred(s, arg)) {
				*p = s->next;
				ws->n--;
				session_free(s);
				n++;
			} else {
				p = &s->next;
			}
		}
	}
	return n;
}

struct account_match {
	int64_t account_id;
	const struct web_session *keep;
};

static bool of_account(const struct web_session *s, const void *arg)
{
	const struct account_match *m = arg;

	return s->account_id == m->account_id && s != m->keep;
}

unsigned web_sessions_end_account(struct web_sessions *ws, int64_t account_id,
				  const struct web_session *keep)
{
	struct account_match m = { account_id, keep };

	return end_where(ws, of_account, &m);
}

struct expiry {
	int64_t now;
	uint64_t idle, lifetime;
};

static bool is_expired(const struct web_session *s, const void *arg)
{
	const struct expiry *e = arg;

	return expired(s, e->now, e->idle, e->lifetime);
}

void web_sessions_expire(struct web_sessions *ws, int64_t now, uint64_t idle, uint64_t lifetime)
{
	struct expiry e = { now, idle, lifetime };

	end_where(ws, is_expired, &e);
}

void web_session_id_hex(const struct web_session *s, char *out)
{
	sodium_bin2hex(out, WEB_TOKEN_HEX, s->id, sizeof(s->id));
}

void web_session_forget_password(struct web_session *s)
{
	if (s->password == NULL)
		return;
	OPENSSL_cleanse(s->password, s->password_len);
	free(s->password);
	s->password = NULL;
	s->password_len = 0;
}
