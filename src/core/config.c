/*
 * Parser for tern.conf. libinih splits the file into section/key/value;
 * this file checks each pair against the key table, converts the value and
 * reports the first problem as "file:line: message". libinih as packaged
 * does not pass line numbers to the handler, so a counting reader feeds it
 * line by line and the handler reads the count.
 */
#include "core/config.h"
#include "core/limits.h"
#include "core/util.h"

#include <ini.h>
#include <stdarg.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key_type {
	KEY_STRING,
	KEY_SIZE,	/* bytes, with optional k/M/G suffix */
	KEY_DURATION,	/* seconds, with optional s/m/h/d suffix */
	KEY_COUNT,
	KEY_BOOL,
	KEY_LOG_LEVEL,
	KEY_TLS_VERSION,
	KEY_LISTEN,
	KEY_CERT,
	KEY_CERT_KEY,
	KEY_CHOICE,	/* a string from a fixed list (key_def.service) */
};

enum { CHOICES_DELIVERY_TLS, CHOICES_RELAY_TLS };
static const char *const choices[][4] = {
	[CHOICES_DELIVERY_TLS] = { "opportunistic", "verify", "none", NULL },
	[CHOICES_RELAY_TLS] = { "starttls", "implicit", "none", NULL },
};

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max;
	int service;		/* for KEY_LISTEN; the choices for KEY_CHOICE */
};

#define OFF(field) offsetof(struct config, field)

static const struct key_def key_defs[] = {
	{ "server", "hostname", KEY_STRING, OFF(hostname), 0, 0, 0 },
	{ "server", "data_dir", KEY_STRING, OFF(data_dir), 0, 0, 0 },
	{ "server", "user", KEY_STRING, OFF(user), 0, 0, 0 },
	{ "server", "control_socket", KEY_STRING, OFF(control_socket), 0, 0, 0 },
	{ "server", "sendmail_socket", KEY_STRING, OFF(sendmail_socket), 0, 0, 0 },
	{ "server", "log_level", KEY_LOG_LEVEL, OFF(log_level), 0, 0, 0 },
	{ "server", "plaintext_auth_loopback", KEY_BOOL, OFF(plaintext_auth_loopback), 0, 0, 0 },
	{ "server", "workers", KEY_COUNT, OFF(workers), 1, 64, 0 },
	{ "server", "max_connections", KEY_COUNT, OFF(max_connections), 1, 1000000, 0 },
	{ "server", "max_connections_per_ip", KEY_COUNT, OFF(max_connections_per_ip), 1, 1000000, 0 },
	{ "store", "inline_max", KEY_SIZE, OFF(inline_max), 0, 16 * 1024 * 1024, 0 },
	{ "smtp", "max_message_size", KEY_SIZE, OFF(smtp_max_message_size), 1024, 4ULL << 30, 0 },
	{ "smtp", "max_recipients", KEY_COUNT, OFF(smtp_max_recipients), 100, 100000, 0 },
	{ "smtp", "max_line_length", KEY_SIZE, OFF(smtp_max_line_length), 1000, 16 * 1024 * 1024, 0 },
	{ "smtp", "command_timeout", KEY_DURATION, OFF(smtp_command_timeout), 1, 86400, 0 },
	{ "smtp", "data_timeout", KEY_DURATION, OFF(smtp_data_timeout), 1, 86400, 0 },
	{ "smtp", "max_bad_commands", KEY_COUNT, OFF(smtp_max_bad_commands), 1, 10000, 0 },
	{ "pop3", "timeout", KEY_DURATION, OFF(pop3_timeout), 1, 86400, 0 },
	{ "pop3", "max_bad_commands", KEY_COUNT, OFF(pop3_max_bad_commands), 1, 10000, 0 },
	{ "imap", "timeout", KEY_DURATION, OFF(imap_timeout), 60, 86400, 0 },
	{ "imap", "max_bad_commands", KEY_COUNT, OFF(imap_max_bad_commands), 1, 10000, 0 },
	{ "imap", "max_line_length", KEY_SIZE, OFF(imap_max_line_length), 8192, 16 * 1024 * 1024, 0 },
	{ "queue", "retry_first", KEY_DURATION, OFF(queue_retry_first), 1, 86400, 0 },
	{ "queue", "retry_max", KEY_DURATION, OFF(queue_retry_max), 1, 7 * 86400, 0 },
	{ "queue", "lifetime", KEY_DURATION, OFF(queue_lifetime), 1, 90 * 86400, 0 },
	{ "queue", "delay_warning", KEY_DURATION, OFF(queue_delay_warning), 0, 90 * 86400, 0 },
	{ "queue", "max_connections", KEY_COUNT, OFF(queue_max_connections), 1, 10000, 0 },
	{ "queue", "max_per_host", KEY_COUNT, OFF(queue_max_per_host), 1, 1000, 0 },
	{ "delivery", "helo_name", KEY_STRING, OFF(delivery_helo_name), 0, 0, 0 },
	{ "delivery", "tls", KEY_CHOICE, OFF(delivery_tls), 0, 0, CHOICES_DELIVERY_TLS },
	{ "delivery", "connect_timeout", KEY_DURATION, OFF(delivery_connect_timeout), 1, 3600, 0 },
	{ "delivery", "port", KEY_COUNT, OFF(delivery_port), 1, 65535, 0 },
	{ "delivery", "ca_file", KEY_STRING, OFF(delivery_ca_file), 0, 0, 0 },
	{ "relay", "host", KEY_STRING, OFF(relay_host), 0, 0, 0 },
	{ "relay", "username", KEY_STRING, OFF(relay_username), 0, 0, 0 },
	{ "relay", "password_file", KEY_STRING, OFF(relay_password_file), 0, 0, 0 },
	{ "relay", "tls", KEY_CHOICE, OFF(relay_tls), 0, 0, CHOICES_RELAY_TLS },
	{ "dns", "resolver", KEY_STRING, OFF(dns_resolver), 0, 0, 0 },
	{ "dns", "trust_anchor", KEY_STRING, OFF(dns_trust_anchor), 0, 0, 0 },
	{ "dns", "timeout", KEY_DURATION, OFF(dns_timeout), 1, 300, 0 },
	{ "auth", "min_password_length", KEY_COUNT, OFF(auth_min_password_length),
	  AUTH_MIN_PASSWORD_LENGTH_FLOOR, 1024, 0 },
	{ "auth", "min_password_score", KEY_COUNT, OFF(auth_min_password_score), 0, 4, 0 },
	{ "auth", "argon2_memory", KEY_SIZE, OFF(auth_argon2_memory), 8 * 1024 * 1024, 4ULL << 30, 0 },
	{ "auth", "argon2_iterations", KEY_COUNT, OFF(auth_argon2_iterations), 1, 100, 0 },
	{ "auth", "max_failures_per_ip", KEY_COUNT, OFF(auth_max_failures_per_ip), 1, 100000, 0 },
	{ "auth", "max_failures_per_account", KEY_COUNT, OFF(auth_max_failures_per_account), 1,
	  100000, 0 },
	{ "auth", "block_time", KEY_DURATION, OFF(auth_block_time), 1, 7 * 86400, 0 },
	{ "auth", "failure_delay", KEY_DURATION, OFF(auth_failure_delay), 0, 60, 0 },
	{ "auth", "failure_delay_max", KEY_DURATION, OFF(auth_failure_delay_max), 0, 600, 0 },
	{ "web", "session_timeout", KEY_DURATION, OFF(web_session_timeout), 60, 7 * 86400, 0 },
	{ "web", "session_lifetime", KEY_DURATION, OFF(web_session_lifetime), 300, 30 * 86400, 0 },
	{ "listen", "smtp", KEY_LISTEN, 0, 0, 0, SERVICE_SMTP },
	{ "listen", "pop3", KEY_LISTEN, 0, 0, 0, SERVICE_POP3 },
	{ "listen", "pop3s", KEY_LISTEN, 0, 0, 0, SERVICE_POP3S },
	{ "listen", "submission", KEY_LISTEN, 0, 0, 0, SERVICE_SUBMISSION },
	{ "listen", "submissions", KEY_LISTEN, 0, 0, 0, SERVICE_SUBMISSIONS },
	{ "listen", "imap", KEY_LISTEN, 0, 0, 0, SERVICE_IMAP },
	{ "listen", "imaps", KEY_LISTEN, 0, 0, 0, SERVICE_IMAPS },
	{ "listen", "https", KEY_LISTEN, 0, 0, 0, SERVICE_HTTPS },
	{ "tls", "certificate", KEY_CERT, 0, 0, 0, 0 },
	{ "tls", "key", KEY_CERT_KEY, 0, 0, 0, 0 },
	{ "tls", "min_version", KEY_TLS_VERSION, OFF(tls_min_version), 0, 0, 0 },
};

static const char *const service_names[SERVICE_COUNT] = {
	"smtp", "pop3", "pop3s", "submission", "submissions", "imap", "imaps", "local", "https",
};

const char *service_name(enum service service)
{
	return service < SERVICE_COUNT ? service_names[service] : "?";
}

bool service_implicit_tls(enum service service)
{
	return service == SERVICE_POP3S || service == SERVICE_SUBMISSIONS ||
	       service == SERVICE_IMAPS || service == SERVICE_HTTPS;
}

struct parse_state {
	struct config *cfg;
	const char *name;
	const char *text;	/* for config_parse_string */
	FILE *file;
	int line;
	char *error;		/* owned: first error */
	int lines[ARRAY_SIZE(key_defs)];	/* where each key was set; 0: not yet */
};

static int set_error(struct parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_error(struct parse_state *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (st->error != NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->error = xasprintf("%s:%d: %s", st->name, st->line, msg);
	return 0;
}

/* Number with an optional one-letter unit suffix; units maps suffix to
 * multiplier. */
static int parse_scaled(const char *v, const char *suffixes, const uint64_t *mults, uint64_t *out)
{
	size_t len = strlen(v);
	uint64_t n, mult = 1;
	const char *p;

	if (len > 0 && (p = strchr(suffixes, v[len - 1])) != NULL) {
		mult = mults[p - suffixes];
		len--;
	}
	if (parse_uint(v, len, UINT64_MAX, &n) < 0 || (n != 0 && mult > UINT64_MAX / n))
		return -1;
	*out = n * mult;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* One "host:port" token: IPv4 literal, [IPv6 literal], or *. */
static int parse_listen_token(struct parse_state *st, const char *tok, int service)
{
	struct config *cfg = st->cfg;
	struct config_listener *l;
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[128];
	const char *colon, *port;
	uint64_t port_num;
	size_t hlen;

	colon = strrchr(tok, ':');
	if (colon == NULL || colon[1] == '\0')
		return set_error(st, "listen address '%s' needs host:port", tok);
	port = colon + 1;
	/* getaddrinfo() takes "70000" and wraps it to 4464 */
	if (parse_uint(port, strlen(port), 65535, &port_num) < 0)
		return set_error(st, "listen address '%s' has a bad port", tok);
	hlen = (size_t)(colon - tok);
	if (hlen >= 2 && tok[0] == '[' && tok[hlen - 1] == ']') {
		tok++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return set_error(st, "listen address '%s' has a bad host", tok);
	memcpy(host, tok, hlen);
	host[hlen] = '\0';
	if (cfg->n_listeners >= CONFIG_MAX_LISTENERS)
		return set_error(st, "too many listen addresses (at most %d)", CONFIG_MAX_LISTENERS);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(strcmp(host, "*") ? host : "0.0.0.0", port, &hints, &res) != 0 || res == NULL)
		return set_error(st, "listen address '%s' is not an IP address and port", tok);
	l = &cfg->listeners[cfg->n_listeners++];
	l->service = (enum service)service;
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addr_len = res->ai_addrlen;
	l->text = xasprintf("%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
			    strchr(host, ':') ? "]" : "", port);
	freeaddrinfo(res);
	return 1;
}

/* "addr:port, addr:port ..." (commas or spaces); empty disables. */
static int parse_listen(struct parse_state *st, const char *value, int service)
{
	char *copy = xstrdup(value), *save = NULL, *tok;
	int ok = 1;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && ok;
	     tok = strtok_r(NULL, ", \t", &save))
		ok = parse_listen_token(st, tok, service);
	free(copy);
	return ok;
}

static int set_cert(struct parse_state *st, enum key_type type, const char *value)
{
	struct config *cfg = st->cfg;
	struct config_cert *c;

	if (type == KEY_CERT) {
		if (cfg->n_certs > 0 && cfg->certs[cfg->n_certs - 1].key_file == NULL)
			return set_error(st, "certificate on line %d has no key line after it",
					 cfg->certs[cfg->n_certs - 1].line);
		if (cfg->n_certs >= CONFIG_MAX_CERTS)
			return set_error(st, "too many certificates (at most %d)", CONFIG_MAX_CERTS);
		c = &cfg->certs[cfg->n_certs++];
		c->cert_file = xstrdup(value);
		c->line = st->line;
		return 1;
	}
	if (cfg->n_certs == 0 || cfg->certs[cfg->n_certs - 1].key_file != NULL)
		return set_error(st, "key must follow its certificate line");
	cfg->certs[cfg->n_certs - 1].key_file = xstrdup(value);
	return 1;
}

static int set_choice(struct parse_state *st, const struct key_def *def, const char *value)
{
	const char *const *c = choices[def->service];
	char **field = (char **)((char *)st->cfg + def->offset);
	size_t i;

	for (i = 0; c[i] != NULL; i++) {
		if (!strcmp(c[i], value)) {
			free(*field);
			*field = xstrdup(value);
			return 1;
		}
	}
	return set_error(st, "%s must be %s, %s or %s, not '%s'", def->name, c[0], c[1],
			 c[2], value);
}

static int set_value(struct parse_state *st, const struct key_def *def, const char *value)
{
	static const uint64_t size_mult[] = { 1024, 1024, 1024 * 1024, 1024 * 1024 * 1024 };
	static const uint64_t time_mult[] = { 1, 60, 3600, 86400 };
	char *base = (char *)st->cfg;
	uint64_t n = 0;

	switch (def->type) {
	case KEY_STRING:
	case KEY_TLS_VERSION:
		if (def->type == KEY_TLS_VERSION && strcmp(value, "1.2") && strcmp(value, "1.3"))
			return set_error(st, "min_version must be 1.2 or 1.3");
		free(*(char **)(base + def->offset));
		*(char **)(base + def->offset) = xstrdup(value);
		return 1;
	case KEY_BOOL:
		if (parse_bool(value, (bool *)(base + def->offset)) < 0)
			return set_error(st, "%s must be yes or no, not '%s'", def->name, value);
		return 1;
	case KEY_LOG_LEVEL:
		if (log_parse_level(value, (enum log_level *)(base + def->offset)) < 0)
			return set_error(st, "log_level must be error, warn, info or debug");
		return 1;
	case KEY_CHOICE:
		return set_choice(st, def, value);
	case KEY_LISTEN:
		return parse_listen(st, value, def->service);
	case KEY_CERT:
	case KEY_CERT_KEY:
		return set_cert(st, def->type, value);
	case KEY_SIZE:
	case KEY_DURATION:
	case KEY_COUNT:
		break;
	}
	if ((def->type == KEY_SIZE && parse_scaled(value, "kKMG", size_mult, &n) < 0) ||
	    (def->type == KEY_DURATION && parse_scaled(value, "smhd", time_mult, &n) < 0) ||
	    (def->type == KEY_COUNT && parse_uint(value, strlen(value), UINT64_MAX, &n) < 0))
		return set_error(st, "%s: '%s' is not a valid %s", def->name, value,
				 def->type == KEY_SIZE ? "size (e.g. 50M)" :
				 def->type == KEY_DURATION ? "duration (e.g. 5m)" : "number");
	if (n < def->min || (def->max && n > def->max))
		return set_error(st, "%s must be between %llu and %llu", def->name,
				 (unsigned long long)def->min, (unsigned long long)def->max);
	*(uint64_t *)(base + def->offset) = n;
	return 1;
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	size_t i;
	bool section_known = false;

	if (st->error != NULL)
		return 0;
	for (i = 0; i < ARRAY_SIZE(key_defs); i++) {
		const struct key_def *def = &key_defs[i];

		if (strcmp(def->section, section) != 0)
			continue;
		section_known = true;
		if (strcmp(def->name, name) != 0)
			continue;
		if (st->lines[i] > 0 && def->type != KEY_CERT && def->type != KEY_CERT_KEY)
			return set_error(st, "%s is set twice in [%s]", name, section);
		st->lines[i] = st->line;
		return set_value(st, def, value);
	}
	if (!section_known)
		return set_error(st, "unknown section [%s]", section);
	return set_error(st, "unknown key '%s' in [%s]", name, section);
}

/* Reader for ini_parse_stream that counts lines (see the file comment).
 * libinih reads at most num - 1 octets per call and would take the rest of
 * a longer line for a line of its own, so such a line is an error. */
static char *counting_reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *nl;
	size_t len;
	int c;

	if (st->file != NULL) {
		if (fgets(str, num, st->file) == NULL)
			return NULL;
		len = strlen(str);
		/* a full buffer without the newline: the line goes on */
		if (len == (size_t)num - 1 && str[len - 1] != '\n' && (c = getc(st->file)) != EOF) {
			ungetc(c, st->file);
			len = (size_t)num;
		}
	} else {
		if (*st->text == '\0')
			return NULL;
		nl = strchr(st->text, '\n');
		len = nl ? (size_t)(nl - st->text) + 1 : strlen(st->text);
		if (len <= (size_t)num - 1) {
			memcpy(str, st->text, len);
			str[len] = '\0';
			st->text += len;
		}
	}
	st->line++;
	if (len > (size_t)num - 1) {
		set_error(st, "line is too long (at most %d characters)", num - 3);
		return NULL;
	}
	return str;
}

/* Line where [section] name was set, for checks made after the whole file
 * was read; 0 if it was not set. */
static int key_line(const struct parse_state *st, const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_defs); i++) {
		if (!strcmp(key_defs[i].section, section) && !strcmp(key_defs[i].name, name))
			return st->lines[i];
	}
	return 0;
}

static void config_set_defaults(struct config *cfg)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	cfg->hostname = xstrdup(host);
	cfg->data_dir = xstrdup("/var/lib/tern");
	cfg->user = xstrdup("tern");
	cfg->sendmail_socket = xstrdup(CONFIG_SENDMAIL_SOCKET_DEFAULT);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->workers = 2;
	cfg->max_connections = CONN_TOTAL_MAX_DEFAULT;
	cfg->max_connections_per_ip = CONN_PER_IP_MAX_DEFAULT;
	cfg->inline_max = STORE_INLINE_MAX_DEFAULT;
	cfg->smtp_max_message_size = SMTP_MESSAGE_SIZE_DEFAULT;
	cfg->smtp_max_recipients = SMTP_RECIPIENTS_MAX_DEFAULT;
	cfg->smtp_max_line_length = SMTP_DATA_LINE_MAX_DEFAULT;
	cfg->smtp_command_timeout = SMTP_COMMAND_TIMEOUT_DEFAULT;
	cfg->smtp_data_timeout = SMTP_DATA_TIMEOUT_DEFAULT;
	cfg->smtp_max_bad_commands = SMTP_BAD_COMMANDS_MAX_DEFAULT;
	cfg->pop3_timeout = POP3_TIMEOUT_DEFAULT;
	cfg->pop3_max_bad_commands = POP3_BAD_COMMANDS_MAX_DEFAULT;
	cfg->tls_min_version = xstrdup("1.2");
	cfg->imap_timeout = IMAP_TIMEOUT_DEFAULT;
	cfg->imap_max_bad_commands = IMAP_BAD_COMMANDS_MAX_DEFAULT;
	cfg->imap_max_line_length = IMAP_LINE_MAX_DEFAULT;
	cfg->queue_retry_first = QUEUE_RETRY_FIRST_DEFAULT;
	cfg->queue_retry_max = QUEUE_RETRY_MAX_DEFAULT;
	cfg->queue_lifetime = QUEUE_LIFETIME_DEFAULT;
	cfg->queue_delay_warning = QUEUE_DELAY_WARNING_DEFAULT;
	cfg->queue_max_connections = QUEUE_CONNECTIONS_MAX_DEFAULT;
	cfg->queue_max_per_host = QUEUE_PER_HOST_MAX_DEFAULT;
	cfg->delivery_tls = xstrdup("opportunistic");
	cfg->delivery_connect_timeout = SMTP_CONNECT_TIMEOUT_DEFAULT;
	cfg->delivery_port = 25;
	cfg->relay_tls = xstrdup("starttls");
	cfg->dns_resolver = xstrdup("system");
	cfg->dns_timeout = DNS_TIMEOUT_DEFAULT;
	cfg->auth_min_password_length = AUTH_MIN_PASSWORD_LENGTH_DEFAULT;
	cfg->auth_min_password_score = AUTH_MIN_PASSWORD_SCORE_DEFAULT;
	cfg->auth_argon2_memory = AUTH_ARGON2_MEMORY_DEFAULT;
	cfg->auth_argon2_iterations = AUTH_ARGON2_ITERATIONS_DEFAULT;
	cfg->auth_max_failures_per_ip = AUTH_MAX_FAILURES_PER_IP_DEFAULT;
	cfg->auth_max_failures_per_account = AUTH_MAX_FAILURES_PER_ACCOUNT_DEFAULT;
	cfg->auth_block_time = AUTH_BLOCK_TIME_DEFAULT;
	cfg->auth_failure_delay = AUTH_FAILURE_DELAY_DEFAULT;
	cfg->auth_failure_delay_max = AUTH_FAILURE_DELAY_MAX_DEFAULT;
	cfg->web_session_timeout = WEB_SESSION_TIMEOUT_DEFAULT;
	cfg->web_session_lifetime = WEB_SESSION_LIFETIME_DEFAULT;
}

/* Cross-key checks once the whole file is read. */
static void config_check(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	unsigned i;

	if (st->error != NULL)
		return;
	if (cfg->n_certs > 0 && cfg->certs[cfg->n_certs - 1].key_file == NULL) {
		st->line = cfg->certs[cfg->n_certs - 1].line;
		set_error(st, "certificate has no key line after it");
		return;
	}
	for (i = 0; i < cfg->n_listeners; i++) {
		if (service_implicit_tls(cfg->listeners[i].service) && cfg->n_certs == 0) {
			st->line = key_line(st, "listen", service_name(cfg->listeners[i].service));
			set_error(st, "[listen] %s needs a certificate in [tls]",
				  service_name(cfg->listeners[i].service));
			return;
		}
	}
	/* the defaults pass these checks, so the key was set on some line */
	if (cfg->data_dir[0] != '/') {
		st->line = key_line(st, "server", "data_dir");
		set_error(st, "data_dir must be an absolute path");
	} else if (cfg->hostname[0] == '\0') {
		st->line = key_line(st, "server", "hostname");
		set_error(st, "hostname must not be empty");
	}
	if (st->error == NULL && cfg->sendmail_socket[0] != '\0' && cfg->sendmail_socket[0] != '/') {
		st->line = key_line(st, "server", "sendmail_socket");
		set_error(st, "sendmail_socket must be an absolute path (or empty to disable it)");
	}
	if (st->error == NULL && cfg->control_socket == NULL)
		cfg->control_socket = xasprintf("%s/control.sock", cfg->data_dir);
	if (st->error == NULL && cfg->delivery_helo_name == NULL)
		cfg->delivery_helo_name = xstrdup(cfg->hostname);
	if (st->error == NULL && (cfg->relay_username != NULL) != (cfg->relay_password_file != NULL)) {
		st->line = key_line(st, "relay", cfg->relay_username ? "username" : "password_file");
		set_error(st, "[relay] username and password_file go together");
	}
}

static struct config *config_parse(struct parse_state *st, char **error_r)
{
	int ret;

	st->cfg = xcalloc(1, sizeof(*st->cfg));
	config_set_defaults(st->cfg);
	st->cfg->path = xstrdup(st->name);
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ret = ini_parse_stream(counting_reader, st, ini_handler_cb, st);
	if (ret > 0 && st->error == NULL) {
		st->line = ret;
		set_error(st, "syntax error (expected [section] or key = value)");
	}
	config_check(st);
	if (st->error != NULL) {
		config_free(&st->cfg);
		*error_r = st->error;
		return NULL;
	}
	return st->cfg;
}

struct config *config_load(const char *path, char **error_r)
{
	struct parse_state st = { .name = path };
	struct config *cfg;

	st.file = fopen(path, "re");
	if (st.file == NULL) {
		*error_r = xasprintf("%s: cannot open: %m", path);
		return NULL;
	}
	cfg = config_parse(&st, error_r);
	fclose(st.file);
	return cfg;
}

struct config *config_parse_string(const char *text, const char *name, char **error_r)
{
	struct parse_state st = { .name = name, .text = text };

	return config_parse(&st, error_r);
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	unsigned i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_listeners; i++)
		free(cfg->listeners[i].text);
	for (i = 0; i < cfg->n_certs; i++) {
		free(cfg->certs[i].cert_file);
		free(cfg->certs[i].key_file);
	}
	for (i = 0; i < ARRAY_SIZE(key_defs); i++) {
		if (key_defs[i].type == KEY_STRING || key_defs[i].type == KEY_CHOICE ||
		    key_defs[i].type == KEY_TLS_VERSION)
			free(*(char **)((char *)cfg + key_defs[i].offset));
	}
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}
