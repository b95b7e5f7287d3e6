/*
 * tern.conf: one INI file, parsed with libinih. Every key is listed in the
 * table in config.c and documented in docs/configuration.md; an unknown
 * key, a bad value or a duplicate gives an error naming file and line.
 */
#ifndef TERN_CORE_CONFIG_H
#define TERN_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/log.h"

#define CONFIG_DEFAULT_PATH "/etc/tern/tern.conf"
#define CONFIG_MAX_LISTENERS 32
#define CONFIG_MAX_CERTS 16
/* Where `tern sendmail` finds the daemon when no config names another
 * place: a fixed path, because /etc/tern is not readable by every user who
 * may send mail. */
#define CONFIG_SENDMAIL_SOCKET_DEFAULT "/run/tern/sendmail.sock"

enum service {
	SERVICE_SMTP,
	SERVICE_POP3,
	SERVICE_POP3S,
	SERVICE_SUBMISSION,	/* 587, STARTTLS before AUTH (RFC 6409) */
	SERVICE_SUBMISSIONS,	/* 465, implicit TLS (RFC 8314) */
	SERVICE_IMAP,
	SERVICE_IMAPS,
	SERVICE_LOCAL,		/* `tern sendmail` over [server] sendmail_socket */
	SERVICE_HTTPS,		/* the account portal, implicit TLS (src/web/) */
	SERVICE_COUNT
};

/* Name of a service as used in [listen] and in logs ("smtp", "pop3s"). */
const char *service_name(enum service service);
/* True for services that start TLS at connect time (pop3s, imaps,
 * submissions, https). */
bool service_implicit_tls(enum service service);

struct config_listener {
	enum service service;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char *text;		/* owned: as written, e.g. "[::1]:25" */
};

struct config_cert {
	char *cert_file;	/* owned */
	char *key_file;		/* owned */
	int line;		/* where certificate= was, for errors */
};

struct config {
	char *path;		/* owned */
	/* [server] */
	char *hostname;		/* owned */
	char *data_dir;		/* owned */
	char *user;		/* owned; the user to become when started as root */
	char *control_socket;	/* owned; default data_dir/control.sock */
	char *sendmail_socket;	/* owned; "" disables local submission */
	enum log_level log_level;
	bool plaintext_auth_loopback;
	uint64_t workers;
	uint64_t max_connections;
	uint64_t max_connections_per_ip;
	/* [store] */
	uint64_t inline_max;
	/* [smtp] */
	uint64_t smtp_max_message_size;
	uint64_t smtp_max_recipients;
	uint64_t smtp_max_line_length;
	uint64_t smtp_command_timeout;
	uint64_t smtp_data_timeout;
	uint64_t smtp_max_bad_commands;
	/* [pop3] */
	uint64_t pop3_timeout;
	uint64_t pop3_max_bad_commands;
	/* [imap] */
	uint64_t imap_timeout;
	uint64_t imap_max_bad_commands;
	uint64_t imap_max_line_length;
	/* [queue] */
	uint64_t queue_retry_first;	/* first retry after a temporary failure */
	uint64_t queue_retry_max;	/* the doubling interval stops growing here */
	uint64_t queue_lifetime;	/* then bounce */
	uint64_t queue_delay_warning;	/* 0: never warn */
	uint64_t queue_max_connections;	/* outbound, in total */
	uint64_t queue_max_per_host;	/* outbound, per destination host */
	/* [delivery]: the SMTP client */
	char *delivery_helo_name;	/* owned; default: hostname */
	char *delivery_tls;		/* owned: "opportunistic", "verify", "none" */
	uint64_t delivery_connect_timeout;
	uint64_t delivery_port;		/* remote MX port: 25; other values for tests */
	char *delivery_ca_file;		/* owned, or NULL: the system CA store */
	/* [relay]: optional smarthost */
	char *relay_host;		/* owned: "host" or "host:port", or NULL */
	char *relay_username;		/* owned, or NULL */
	char *relay_password_file;	/* owned, or NULL */
	char *relay_tls;		/* owned: "starttls", "implicit", "none" */
	/* [dns] */
	char *dns_resolver;		/* owned: "system" or "IP[@port] ..." */
	char *dns_trust_anchor;		/* owned, or NULL: no DNSSEC validation */
	uint64_t dns_timeout;
	/* [auth] (src/auth/auth.h) */
	uint64_t auth_min_password_length;
	uint64_t auth_min_password_score;	/* zxcvbn 0-4 */
	uint64_t auth_argon2_memory;		/* bytes */
	uint64_t auth_argon2_iterations;
	uint64_t auth_max_failures_per_ip;
	uint64_t auth_max_failures_per_account;
	uint64_t auth_block_time;
	uint64_t auth_failure_delay;
	uint64_t auth_failure_delay_max;
	/* [web]: the account portal (src/web/web.h) */
	uint64_t web_session_timeout;	/* idle seconds before a portal session ends */
	uint64_t web_session_lifetime;	/* absolute seconds a portal session may last */
	/* [listen] */
	struct config_listener listeners[CONFIG_MAX_LISTENERS];
	unsigned n_listeners;
	/* [tls] */
	struct config_cert certs[CONFIG_MAX_CERTS];
	unsigned n_certs;
	char *tls_min_version;	/* owned: "1.2" or "1.3" */
};

/* Loads and checks path. On error returns NULL and sets *error_r to an
 * allocated message "path:line: what" (free it). */
struct config *config_load(const char *path, char **error_r);
/* Same for text held in memory; name is used in messages. */
struct config *config_parse_string(const char *text, const char *name, char **error_r);
void config_free(struct config **cfg);

#endif
