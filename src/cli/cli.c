/*
 * `tern`: administer a Tern server. Reads the same tern.conf as ternd to
 * find the store (default /etc/tern/tern.conf, or -c FILE) and talks to
 * the running daemon over its control socket. Run as root, it becomes the
 * configured service user before touching the store, so every file stays
 * owned by the daemon's user.
 */
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/privs.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* Help for each command; `tern --help` prints them all, `tern CMD --help`
 * (or `tern help CMD`) just one. */
static const struct {
	const char *command;
	const char *text;
} command_help[] = {
	{ "domain",
	  "  domain add DOMAIN          accept mail for DOMAIN\n"
	  "  domain list                list domains with their user and alias counts\n"
	  "  domain remove DOMAIN       stop serving DOMAIN (it must have no users or aliases)\n" },
	{ "user",
	  "  user add ADDRESS [--password-stdin | --generate] [--force]\n"
	  "                             create a mailbox; asks for the password twice on\n"
	  "                             the terminal, or reads the first line of standard\n"
	  "                             input with --password-stdin (never on the command line);\n"
	  "                             --generate makes a strong one and prints it once.\n"
	  "                             The [auth] password policy applies (length, strength,\n"
	  "                             no part of the address); --force skips it\n"
	  "  user passwd ADDRESS [--password-stdin | --generate] [--force]\n"
	  "                             change a password\n"
	  "  user import-hash ADDRESS '{SCHEME}HASH'\n"
	  "  user import-hash --stdin   take a hash from another server ({SHA512-CRYPT},\n"
	  "                             {SHA256-CRYPT}, {BLF-CRYPT}, {ARGON2ID}, {ARGON2I};\n"
	  "                             {PLAIN} is hashed at once), creating the user if\n"
	  "                             needed; --stdin reads address:hash lines (a Dovecot\n"
	  "                             passwd-file). Rehashed to Argon2id at the first login\n"
	  "  user 2fa enable ADDRESS    turn on TOTP two-factor: shows a QR code and the\n"
	  "                             secret, reads a current code from standard input to\n"
	  "                             confirm, prints ten one-time recovery codes. Mail\n"
	  "                             clients then need app passwords\n"
	  "  user 2fa disable|status ADDRESS\n"
	  "                             turn two-factor off, or show whether it is on\n"
	  "  user 2fa check ADDRESS     read a code from standard input and use it up as a\n"
	  "                             login would (each code works once)\n"
	  "  user app-password add ADDRESS NAME\n"
	  "                             make a password for one mail client, printed once\n"
	  "  user app-password list ADDRESS\n"
	  "  user app-password revoke ADDRESS NAME\n"
	  "                             list app passwords, or revoke one (at once)\n"
	  "  user history ADDRESS       the last 20 logins: time, protocol, IP, result\n"
	  "  user list [DOMAIN]         list users with message counts and sizes\n"
	  "  user remove ADDRESS        delete a user and all their mail\n"
	  "  user quota ADDRESS [SIZE|none]\n"
	  "                             show the user's storage use, or set their quota\n"
	  "                             (e.g. 500M, 2G; none removes it; IMAP QUOTA, RFC 9208)\n" },
	{ "alias",
	  "  alias add SOURCE TARGET... deliver mail for SOURCE to TARGETs (local or\n"
	  "                             remote addresses); SOURCE @DOMAIN is a catch-all\n"
	  "  alias list [DOMAIN]        list aliases\n"
	  "  alias remove SOURCE [TARGET]  remove one target, or the whole alias\n" },
	{ "sendmail",
	  "  sendmail [-t] [-i] [-f SENDER] [-F NAME] [RECIPIENT...]\n"
	  "                             queue a message from standard input through the\n"
	  "                             running daemon (also run as `sendmail`, docs/sendmail.md)\n" },
	{ "security",
	  "  security blocked           list the IPs and users the brute-force limits block\n"
	  "  security unblock IP|ADDRESS\n"
	  "                             lift a block and forget its failures\n" },
	{ "queue",
	  "  queue list                 list queued outbound mail: queue id, age, attempts,\n"
	  "                             next attempt, sender, each recipient and its last error\n"
	  "  queue show ID              every detail of one queued message\n"
	  "  queue flush                ask ternd to retry every deferred message now\n"
	  "  queue retry ID             ask ternd to retry one message now\n"
	  "  queue hold ID              keep a message queued without delivering it\n"
	  "  queue release ID           let a held message be delivered again\n"
	  "  queue delete ID            remove a message from the queue, without a bounce\n" },
	{ "status", "  status                     show the running daemon's state (key=value lines)\n" },
	{ "reload", "  reload                     make the daemon re-read its config and certificates\n" },
	{ "dns",
	  "  dns mx|a|txt|ptr|tlsa NAME [--resolver IP[@PORT]] [--trust-anchor FILE]\n"
	  "      [--timeout SECONDS] [--port PORT] [--debug]\n"
	  "                             look NAME up as ternd would (ptr takes an IP, tlsa\n"
	  "                             a host and --port, default 25); exit 0 found,\n"
	  "                             1 not found, 2 temporary failure\n" },
};

static void usage(FILE *f, const char *only)
{
	size_t i;

	fprintf(f, "Usage: tern [-c CONFIG] COMMAND [ARGS]\n\n");
	if (only == NULL)
		fprintf(f, "Administer a Tern mail server.\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(command_help); i++) {
		if (only == NULL || strcmp(only, command_help[i].command) == 0)
			fputs(command_help[i].text, f);
	}
	if (only != NULL)
		return;
	fprintf(f,
		"\n"
		"Options:\n"
		"  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -h, --help          show this help; `tern COMMAND --help` for one command\n"
		"  -V, --version       show the version\n"
		"\n"
		"Plus-addressing needs no setup: mail to user+tag@domain reaches user@domain.\n");
}

static bool is_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(command_help); i++) {
		if (strcmp(name, command_help[i].command) == 0)
			return true;
	}
	return false;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

struct config *cli_config(struct cli *cli)
{
	char *error;

	if (cli->cfg != NULL)
		return cli->cfg;
	cli->cfg = config_load(cli->config_path, &error);
	if (cli->cfg == NULL) {
		cli_fail("%s", error);
		free(error);
		exit(1);
	}
	return cli->cfg;
}

/* As root, become the service user so new store files are theirs. */
static void become_service_user(const struct config *cfg)
{
	const struct passwd *pw;

	if (geteuid() != 0)
		return;
	if (privs_service_user(cfg->path, cfg->user, &pw) < 0 ||
	    privs_prepare_dir(cfg->data_dir, pw) < 0 || privs_drop(pw) < 0)
		exit(1);
}

struct store *cli_store(struct cli *cli)
{
	struct config *cfg = cli_config(cli);
	char *error;

	if (cli->store != NULL)
		return cli->store;
	become_service_user(cfg);
	cli->store = store_open(cfg->data_dir, STORE_OPEN_CREATE, &error);
	if (cli->store == NULL) {
		cli_fail("%s", error);
		free(error);
		exit(1);
	}
	return cli->store;
}

static char *read_line(FILE *f, const char *prompt, bool noecho)
{
	struct termios old, quiet;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (prompt != NULL)
		fputs(prompt, stderr);
	if (noecho && tcgetattr(fileno(f), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(f), TCSAFLUSH, &quiet);
	} else {
		noecho = false;
	}
	n = getline(&line, &cap, f);
	if (noecho) {
		tcsetattr(fileno(f), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return line;
}

void cli_free_password(char *password)
{
	if (password != NULL) {
		OPENSSL_cleanse(password, strlen(password));
		free(password);
	}
}

char *cli_read_password(bool from_stdin)
{
	char *p1, *p2;

	if (from_stdin) {
		p1 = read_line(stdin, NULL, false);
		if (p1 == NULL)
			exit(cli_fail("no password on standard input"));
	} else {
		if (!isatty(STDIN_FILENO))
			exit(cli_fail("standard input is not a terminal; use --password-stdin"));
		p1 = read_line(stdin, "New password: ", true);
		p2 = read_line(stdin, "Repeat password: ", true);
		if (p1 == NULL || p2 == NULL || strcmp(p1, p2) != 0) {
			cli_free_password(p1);
			cli_free_password(p2);
			exit(cli_fail("the passwords do not match"));
		}
		cli_free_password(p2);
	}
	if (strlen(p1) < 8 || strlen(p1) > 1024) {
		cli_free_password(p1);
		exit(cli_fail("a password must have 8 to 1024 characters"));
	}
	return p1;
}

/* Sends one command to the daemon's control socket and prints the answer. */
int cli_control(struct cli *cli, const char *command)
{
	struct config *cfg = cli_config(cli);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n;
	int fd, failed = 0;

	become_service_user(cfg);
	if (strlen(cfg->control_socket) >= sizeof(sun.sun_path))
		return cli_fail("control_socket path too long");
	memcpy(sun.sun_path, cfg->control_socket, strlen(cfg->control_socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return cli_fail("cannot reach ternd at %s: %s (is it running?)", cfg->control_socket,
				strerror(errno));
	}
	if (write_full(fd, command, strlen(command)) < 0 || write_full(fd, "\n", 1) < 0) {
		close(fd);
		return cli_fail("cannot talk to ternd: %s", strerror(errno));
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		if (memmem(buf, (size_t)n, "error=", 6) != NULL)
			failed = 1;
	}
	close(fd);
	return failed;
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

static int cli_dispatch(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];

	/* before --help handling: sendmail's own options include -h */
	if (!strcmp(cmd, "sendmail"))
		return cli_sendmail(strcmp(cli->config_path, CONFIG_DEFAULT_PATH) ? cli->config_path : NULL,
				    argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout, argc > 1 && is_command(argv[1]) ? argv[1] : NULL);
		return 0;
	}
	if (wants_help(argc, argv)) {
		usage(stdout, is_command(cmd) ? cmd : NULL);
		return 0;
	}
	if (!strcmp(cmd, "domain"))
		return cli_domain(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "user"))
		return cli_user(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "alias"))
		return cli_alias(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "dns"))
		return cli_dns(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "security") && argc > 1)
		return cli_security(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "queue"))
		return cli_queue(cli, argc - 1, argv + 1);
	if (!strcmp(cmd, "status") && argc == 1)
		return cli_control(cli, "status");
	if (!strcmp(cmd, "reload") && argc == 1)
		return cli_control(cli, "reload");
	if (is_command(cmd)) {
		cli_fail("usage:");
		usage(stderr, cmd);
		return 2;
	}
	cli_fail("unknown command '%s'", cmd);
	usage(stderr, NULL);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .config_path = CONFIG_DEFAULT_PATH };
	int c, status;

	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/* /usr/sbin/sendmail -> tern */
	if (!strcmp(name, "sendmail"))
		return cli_sendmail(NULL, argc, argv);
	log_set_ident("tern");
	umask(0077);
	log_set_level(LOG_LEVEL_WARN);
	/* "+": stop at the first non-option, the subcommand's words follow */
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'h':
			usage(stdout, NULL);
			return 0;
		case 'V':
			printf("tern %s\n", TERN_VERSION);
			return 0;
		default:
			usage(stderr, NULL);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr, NULL);
		return 2;
	}
	status = cli_dispatch(&cli, argc - optind, argv + optind);
	store_close(&cli.store);
	config_free(&cli.cfg);
	return status;
}
