/*
 * Unit tests for the tern.conf parser (src/core/config.c): every key type
 * with its units and ranges, listen addresses, certificate/key pairing,
 * and every error, which must name the file and the line it is about.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "core/config.h"

/* Parses text that must be valid; fails the test with the error if not. */
static struct config *parse_ok(const char *text)
{
	char *error = NULL;
	struct config *cfg = config_parse_string(text, "t.conf", &error);

	if (cfg == NULL) {
		print_message("config:\n%s\n", text);
		fail_msg("unexpected error: %s", error);
	}
	return cfg;
}

static void test_config_defaults(void **state)
{
	struct config *cfg = parse_ok("");

	assert_string_equal(cfg->path, "t.conf");
	assert_string_equal(cfg->data_dir, "/var/lib/tern");
	assert_string_equal(cfg->control_socket, "/var/lib/tern/control.sock");
	assert_string_equal(cfg->user, "tern");
	assert_string_equal(cfg->tls_min_version, "1.2");
	assert_true(cfg->hostname[0] != '\0');
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_false(cfg->plaintext_auth_loopback);
	assert_int_equal(cfg->workers, 2);
	assert_int_equal(cfg->smtp_max_message_size, 50ULL * 1024 * 1024);
	assert_int_equal(cfg->smtp_max_recipients, 1000);
	assert_int_equal(cfg->smtp_command_timeout, 300);
	assert_int_equal(cfg->pop3_timeout, 600);
	assert_int_equal(cfg->n_listeners, 0);
	assert_int_equal(cfg->n_certs, 0);
	config_free(&cfg);
	assert_null(cfg);
	config_free(&cfg);
}

static void test_config_strings_and_comments(void **state)
{
	struct config *cfg = parse_ok(
		"; a comment\n"
		"# another\n"
		"\n"
		"[server]\n"
		"hostname = mx.example.com ; inline comment\n"
		"data_dir=/srv/tern\n"
		"  user =  mail\n"
		"control_socket = /run/tern.sock\n");

	assert_string_equal(cfg->hostname, "mx.example.com");
	assert_string_equal(cfg->data_dir, "/srv/tern");
	assert_string_equal(cfg->user, "mail");
	assert_string_equal(cfg->control_socket, "/run/tern.sock");
	config_free(&cfg);

	/* CRLF line ends and "key: value" are accepted too */
	cfg = parse_ok("[server]\r\nhostname: a.example\r\ndata_dir = /d\r\n");
	assert_string_equal(cfg->hostname, "a.example");
	assert_string_equal(cfg->control_socket, "/d/control.sock");
	config_free(&cfg);
}

static void test_config_sizes(void **state)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} cases[] = {
		{ "1024", 1024 },
		{ "1k", 1024 },
		{ "2K", 2048 },
		{ "50M", 50ULL << 20 },
		{ "1G", 1ULL << 30 },
		{ "4G", 4ULL << 30 },	/* the maximum */
		{ "4194304k", 4ULL << 30 },
	};
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "[smtp]\nmax_message_size = %s\n", cases[i].value);
		cfg = parse_ok(text);
		if (cfg->smtp_max_message_size != cases[i].bytes)
			fail_msg("case %zu (%s): got %llu", i, cases[i].value,
				 (unsigned long long)cfg->smtp_max_message_size);
		config_free(&cfg);
	}
	{
		struct config *cfg = parse_ok("[store]\ninline_max = 0\n[smtp]\nmax_line_length = 1000\n");

		assert_int_equal(cfg->inline_max, 0);
		assert_int_equal(cfg->smtp_max_line_length, 1000);
		config_free(&cfg);
	}
}

static void test_config_durations(void **state)
{
	static const struct {
		const char *value;
		uint64_t seconds;
	} cases[] = {
		{ "1", 1 },
		{ "30s", 30 },
		{ "5m", 300 },
		{ "2h", 7200 },
		{ "1d", 86400 },	/* the maximum */
		{ "86400", 86400 },
	};
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "[smtp]\ncommand_timeout = %s\n"
			 "data_timeout = %s\n[pop3]\ntimeout = %s\n",
			 cases[i].value, cases[i].value, cases[i].value);
		cfg = parse_ok(text);
		if (cfg->smtp_command_timeout != cases[i].seconds ||
		    cfg->smtp_data_timeout != cases[i].seconds ||
		    cfg->pop3_timeout != cases[i].seconds)
			fail_msg("case %zu (%s): got %llu", i, cases[i].value,
				 (unsigned long long)cfg->smtp_command_timeout);
		config_free(&cfg);
	}
}

static void test_config_counts(void **state)
{
	struct config *cfg = parse_ok(
		"[server]\nworkers = 64\nmax_connections = 1\nmax_connections_per_ip = 1000000\n"
		"[smtp]\nmax_recipients = 100\nmax_bad_commands = 7\n"
		"[pop3]\nmax_bad_commands = 9\n");

	assert_int_equal(cfg->workers, 64);
	assert_int_equal(cfg->max_connections, 1);
	assert_int_equal(cfg->max_connections_per_ip, 1000000);
	assert_int_equal(cfg->smtp_max_recipients, 100);
	/* the same key name in two sections is two keys, not a duplicate */
	assert_int_equal(cfg->smtp_max_bad_commands, 7);
	assert_int_equal(cfg->pop3_max_bad_commands, 9);
	config_free(&cfg);
}

static void test_config_bools(void **state)
{
	static const struct {
		const char *value;
		bool on;
	} cases[] = {
		{ "yes", true }, { "true", true }, { "on", true },
		{ "no", false }, { "false", false }, { "off", false },
	};
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "[server]\nplaintext_auth_loopback = %s\n", cases[i].value);
		cfg = parse_ok(text);
		if (cfg->plaintext_auth_loopback != cases[i].on)
			fail_msg("case %zu (%s)", i, cases[i].value);
		config_free(&cfg);
	}
}

static void test_config_log_level_and_tls_version(void **state)
{
	static const struct {
		const char *value;
		enum log_level level;
	} cases[] = {
		{ "error", LOG_LEVEL_ERROR },
		{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	char text[128];
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[server]\nlog_level = %s\n", cases[i].value);
		cfg = parse_ok(text);
		if (cfg->log_level != cases[i].level)
			fail_msg("case %zu (%s): got %d", i, cases[i].value, (int)cfg->log_level);
		config_free(&cfg);
	}
	cfg = parse_ok("[tls]\nmin_version = 1.3\n");
	assert_string_equal(cfg->tls_min_version, "1.3");
	config_free(&cfg);
}

static void check_listener(const struct config_listener *l, enum service service, int family,
			   const char *addr, unsigned port, const char *text)
{
	char got[INET6_ADDRSTRLEN];

	assert_int_equal(l->service, service);
	assert_int_equal(l->addr.ss_family, family);
	assert_string_equal(l->text, text);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;

		assert_int_equal(l->addr_len, sizeof(*sin));
		assert_int_equal(ntohs(sin->sin_port), port);
		inet_ntop(AF_INET, &sin->sin_addr, got, sizeof(got));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;

		assert_int_equal(l->addr_len, sizeof(*sin6));
		assert_int_equal(ntohs(sin6->sin6_port), port);
		inet_ntop(AF_INET6, &sin6->sin6_addr, got, sizeof(got));
	}
	assert_string_equal(got, addr);
}

static void test_config_listen_addresses(void **state)
{
	struct config *cfg = parse_ok(
		"[listen]\n"
		"smtp = 127.0.0.1:25, [::1]:2025  192.0.2.7:587\n"
		"pop3 = *:110\n"
		"pop3s = [2001:db8::5]:995\n"
		"[tls]\n"
		"certificate = /etc/tern/cert.pem\n"
		"key = /etc/tern/key.pem\n");

	assert_int_equal(cfg->n_listeners, 5);
	check_listener(&cfg->listeners[0], SERVICE_SMTP, AF_INET, "127.0.0.1", 25, "127.0.0.1:25");
	check_listener(&cfg->listeners[1], SERVICE_SMTP, AF_INET6, "::1", 2025, "[::1]:2025");
	check_listener(&cfg->listeners[2], SERVICE_SMTP, AF_INET, "192.0.2.7", 587, "192.0.2.7:587");
	check_listener(&cfg->listeners[3], SERVICE_POP3, AF_INET, "0.0.0.0", 110, "*:110");
	check_listener(&cfg->listeners[4], SERVICE_POP3S, AF_INET6, "2001:db8::5", 995,
		       "[2001:db8::5]:995");
	config_free(&cfg);

	/* an empty value disables the service */
	cfg = parse_ok("[listen]\nsmtp =\n");
	assert_int_equal(cfg->n_listeners, 0);
	config_free(&cfg);

}

static void test_config_certificates(void **state)
{
	struct config *cfg = parse_ok(
		"[tls]\n"
		"certificate = /a/cert.pem\n"
		"key = /a/key.pem\n"
		"certificate = /b/cert.pem\n"
		"key = /b/key.pem\n");

	assert_int_equal(cfg->n_certs, 2);
	assert_string_equal(cfg->certs[0].cert_file, "/a/cert.pem");
	assert_string_equal(cfg->certs[0].key_file, "/a/key.pem");
	assert_int_equal(cfg->certs[0].line, 2);
	assert_string_equal(cfg->certs[1].cert_file, "/b/cert.pem");
	assert_string_equal(cfg->certs[1].key_file, "/b/key.pem");
	assert_int_equal(cfg->certs[1].line, 4);
	config_free(&cfg);
}

/* Each bad config, the line its error must name and a piece of the text. */
static const struct {
	const char *text;
	int line;
	const char *msg;
} error_cases[] = {
	/* 0: unknown section, with and without keys before any section */
	{ "[server]\nhostname = a\n[gopher]\nport = 1\n", 4, "unknown section [gopher]" },
	{ "hostname = a\n", 1, "unknown section []" },
	/* 2: unknown key */
	{ "[server]\nhostname = a\nhost = b\n", 3, "unknown key 'host' in [server]" },
	{ "[smtp]\ntimeout = 5\n", 2, "unknown key 'timeout' in [smtp]" },
	/* 4: duplicate key */
	{ "[server]\nworkers = 4\n\nworkers = 5\n", 4, "workers is set twice in [server]" },
	{ "[listen]\nsmtp = 127.0.0.1:25\n[server]\n[listen]\nsmtp = 127.0.0.1:26\n", 5,
	  "smtp is set twice in [listen]" },
	/* 6: syntax */
	{ "[server]\nhostname\n", 2, "syntax error" },
	{ "[server\nhostname = a\n", 1, "syntax error" },
	/* 8: bad values */
	{ "[smtp]\nmax_message_size = 10X\n", 2, "max_message_size: '10X' is not a valid size" },
	{ "[smtp]\nmax_message_size = M\n", 2, "is not a valid size" },
	{ "[smtp]\nmax_message_size = -1\n", 2, "is not a valid size" },
	{ "[smtp]\nmax_message_size = 1.5M\n", 2, "is not a valid size" },
	{ "[smtp]\nmax_message_size = 99999999999999999999999G\n", 2, "is not a valid size" },
	{ "[smtp]\nmax_message_size = 17179869184G\n", 2, "is not a valid size" },	/* overflows */
	{ "[smtp]\ncommand_timeout = 5x\n", 2, "command_timeout: '5x' is not a valid duration" },
	{ "[smtp]\ncommand_timeout = 5M\n", 2, "is not a valid duration" },
	{ "[smtp]\ncommand_timeout = \n", 2, "is not a valid duration" },
	{ "[server]\nworkers = four\n", 2, "workers: 'four' is not a valid number" },
	{ "[server]\nworkers = 4k\n", 2, "is not a valid number" },
	{ "[server]\nworkers = +4\n", 2, "is not a valid number" },
	{ "[server]\nplaintext_auth_loopback = 1\n", 2, "plaintext_auth_loopback must be yes or no" },
	{ "[server]\nlog_level = verbose\n", 2, "log_level must be error, warn, info or debug" },
	{ "[tls]\nmin_version = 1.1\n", 2, "min_version must be 1.2 or 1.3" },
	/* 23: out of range */
	{ "[server]\nworkers = 0\n", 2, "workers must be between 1 and 64" },
	{ "[server]\nworkers = 65\n", 2, "workers must be between 1 and 64" },
	{ "[smtp]\nmax_message_size = 1023\n", 2, "max_message_size must be between 1024 and 4294967296" },
	{ "[smtp]\nmax_message_size = 5G\n", 2, "max_message_size must be between" },
	{ "[smtp]\nmax_recipients = 99\n", 2, "max_recipients must be between 100 and 100000" },
	{ "[smtp]\ncommand_timeout = 0\n", 2, "command_timeout must be between 1 and 86400" },
	{ "[pop3]\ntimeout = 2d\n", 2, "timeout must be between 1 and 86400" },
	{ "[store]\ninline_max = 17M\n", 2, "inline_max must be between 0 and 16777216" },
	/* 31: listen addresses */
	{ "[listen]\nsmtp = 127.0.0.1\n", 2, "listen address '127.0.0.1' needs host:port" },
	{ "[listen]\nsmtp = 127.0.0.1:\n", 2, "needs host:port" },
	{ "[listen]\nsmtp = :25\n", 2, "has a bad host" },
	{ "[listen]\nsmtp = []:25\n", 2, "has a bad host" },
	{ "[listen]\nsmtp = mail.example.com:25\n", 2, "is not an IP address and port" },
	{ "[listen]\nsmtp = 127.0.0.1:smtp\n", 2, "has a bad port" },
	{ "[listen]\nsmtp = 127.0.0.1:70000\n", 2, "has a bad port" },
	{ "[listen]\nsmtp = 127.0.0.1:25, 127.0.0.256:25\n", 2, "is not an IP address and port" },
	{ "[listen]\nsmtp = [::1:25\n", 2, "is not an IP address and port" },
	/* 40: certificate and key pairing */
	{ "[tls]\nkey = /k.pem\n", 2, "key must follow its certificate line" },
	{ "[tls]\ncertificate = /c.pem\nkey = /k.pem\nkey = /k2.pem\n", 4,
	  "key must follow its certificate line" },
	{ "[tls]\ncertificate = /c.pem\n\n", 2, "certificate has no key line after it" },
	{ "[tls]\ncertificate = /c.pem\nkey = /k.pem\n\ncertificate = /d.pem\n# end\n", 5,
	  "certificate has no key line after it" },
	{ "[tls]\ncertificate = /c.pem\ncertificate = /d.pem\nkey = /k.pem\n", 3,
	  "certificate on line 2 has no key line after it" },
	/* 45: implicit TLS without a certificate names the listen line */
	{ "[listen]\nsmtp = 127.0.0.1:25\npop3s = 127.0.0.1:995\n\n[server]\nworkers = 2\n", 3,
	  "[listen] pop3s needs a certificate in [tls]" },
	/* 46: relative data_dir names its line, not the end of the file */
	{ "[server]\ndata_dir = var/tern\nhostname = a\n\n", 2, "data_dir must be an absolute path" },
	{ "[server]\ndata_dir =\n", 2, "data_dir must be an absolute path" },
	{ "[server]\nhostname =\nworkers = 3\n", 2, "hostname must not be empty" },
	/* 49: the first error wins */
	{ "[server]\nworkers = 0\nbogus = 1\n", 2, "workers must be between" },
};

static void test_config_errors_name_file_and_line(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		char *error = NULL, prefix[64];
		struct config *cfg = config_parse_string(error_cases[i].text, "t.conf", &error);

		if (cfg != NULL) {
			config_free(&cfg);
			fail_msg("case %zu: accepted:\n%s", i, error_cases[i].text);
		}
		assert_non_null(error);
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", error_cases[i].line);
		if (strncmp(error, prefix, strlen(prefix)) != 0 ||
		    strstr(error, error_cases[i].msg) == NULL) {
			print_message("case %zu: want \"%s...%s\"\n", i, prefix, error_cases[i].msg);
			fail_msg("case %zu: got \"%s\"", i, error);
		}
		free(error);
	}
}

/* A config with n_smtp + n_pop3 + n_pop3s listen addresses, one line each
 * (a line must stay within libinih's line length). */
static void listeners_text(char *text, size_t size, const unsigned n[3])
{
	static const char *const keys[] = { "smtp", "pop3", "pop3s" };
	size_t len = 0, i, j;

	len += (size_t)snprintf(text + len, size - len, "[tls]\ncertificate = /c\nkey = /k\n[listen]\n");
	for (i = 0; i < 3; i++) {
		len += (size_t)snprintf(text + len, size - len, "%s =", keys[i]);
		for (j = 0; j < n[i]; j++)
			len += (size_t)snprintf(text + len, size - len, " 10.0.%zu.%zu:1", i, j);
		len += (size_t)snprintf(text + len, size - len, "\n");
	}
	assert_true(len < size);
}

static void test_config_too_many_listeners(void **state)
{
	static const unsigned fits[3] = { 12, 12, 8 }, too_many[3] = { 12, 12, 9 };
	char text[1024], *error = NULL;
	struct config *cfg;

	listeners_text(text, sizeof(text), fits);
	cfg = parse_ok(text);
	assert_int_equal(cfg->n_listeners, CONFIG_MAX_LISTENERS);
	assert_int_equal(cfg->listeners[31].service, SERVICE_POP3S);
	config_free(&cfg);

	listeners_text(text, sizeof(text), too_many);
	assert_null(config_parse_string(text, "t.conf", &error));
	assert_string_equal(error, "t.conf:7: too many listen addresses (at most 32)");
	free(error);
}

static void test_config_long_line_refused(void **state)
{
	char text[512], *error = NULL;
	struct config *cfg;
	size_t n;

	/* the longest line that fits: 197 characters and CRLF */
	n = (size_t)snprintf(text, sizeof(text), "[server]\nhostname = ");
	memset(text + n, 'a', 197 - 11);
	snprintf(text + n + 197 - 11, sizeof(text) - n - 197 + 11, "\r\nuser = x\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(cfg->hostname), 197 - 11);
	config_free(&cfg);

	/* one more: refused with its own line number, not split in two */
	n = (size_t)snprintf(text, sizeof(text), "[server]\nhostname = ");
	memset(text + n, 'a', 300);
	snprintf(text + n + 300, sizeof(text) - n - 300, "\nuser = x\n");
	assert_null(config_parse_string(text, "t.conf", &error));
	assert_string_equal(error, "t.conf:2: line is too long (at most 197 characters)");
	free(error);
}

static void test_config_load_names_the_file(void **state)
{
	char path[] = "/tmp/tern-config-XXXXXX", *error = NULL;
	static const char text[] = "[server]\ndata_dir = /srv/t\nworkers = 100\n";
	struct config *cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_null(config_load(path, &error));
	assert_non_null(error);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:3: workers must be between 1 and 64", path);
		assert_string_equal(error, want);
	}
	free(error);
	error = NULL;

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, 26), 26);
	close(fd);
	cfg = config_load(path, &error);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->data_dir, "/srv/t");
	config_free(&cfg);
	unlink(path);

	assert_null(config_load(path, &error));
	assert_non_null(strstr(error, "cannot open"));
	free(error);
	error = NULL;

	/* from a file too, a line longer than libinih's buffer is refused with
	 * its own number; one that just fits, without a final newline, is not */
	{
		char want[128], line[256];
		FILE *fp;

		memset(line, 'a', sizeof(line));
		fp = fopen(path, "w");
		assert_non_null(fp);
		fprintf(fp, "[server]\nhostname = %.*s\nuser = x\n", 240, line);
		fclose(fp);
		assert_null(config_load(path, &error));
		snprintf(want, sizeof(want), "%s:2: line is too long (at most 197 characters)", path);
		assert_string_equal(error, want);
		free(error);

		fp = fopen(path, "w");
		assert_non_null(fp);
		fprintf(fp, "[server]\nhostname = %.*s", 199 - 11, line);
		fclose(fp);
		cfg = config_load(path, &error);
		assert_non_null(cfg);
		assert_int_equal(strlen(cfg->hostname), 199 - 11);
		config_free(&cfg);
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_strings_and_comments),
		cmocka_unit_test(test_config_sizes),
		cmocka_unit_test(test_config_durations),
		cmocka_unit_test(test_config_counts),
		cmocka_unit_test(test_config_bools),
		cmocka_unit_test(test_config_log_level_and_tls_version),
		cmocka_unit_test(test_config_listen_addresses),
		cmocka_unit_test(test_config_certificates),
		cmocka_unit_test(test_config_errors_name_file_and_line),
		cmocka_unit_test(test_config_too_many_listeners),
		cmocka_unit_test(test_config_long_line_refused),
		cmocka_unit_test(test_config_load_names_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
