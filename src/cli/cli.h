/*
 * The `tern` admin command, shared by the files of src/cli/.
 */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <stdbool.h>

struct store;
struct config;

struct cli {
	const char *config_path;
	struct config *cfg;	/* owned; loaded on first need */
	struct store *store;	/* owned; opened on first need */
};

/* Loads the config (exits 1 with a message on error). */
struct config *cli_config(struct cli *cli);
/* Opens the store as the service user (exits 1 on error). */
struct store *cli_store(struct cli *cli);
/* Reads a new password: from stdin's first line with from_stdin, else
 * twice from the terminal without echo. Returns an allocated string or
 * exits 1. */
char *cli_read_password(bool from_stdin);
void cli_free_password(char *password);
/* Sends one command line to the daemon's control socket and prints the
 * answer; returns 0, or 1 if it holds "error=" or the daemon is down. */
int cli_control(struct cli *cli, const char *command);
/* Prints "tern: message" to stderr and returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cli_domain(struct cli *cli, int argc, char **argv);
int cli_user(struct cli *cli, int argc, char **argv);
int cli_alias(struct cli *cli, int argc, char **argv);
/* `tern user import-hash|2fa|app-password|history` (cli_security.c). */
int cli_user_security(struct cli *cli, int argc, char **argv);
/* `tern security blocked|unblock` through the control socket. */
int cli_security(struct cli *cli, int argc, char **argv);
/* Normalized copy of a valid address, or NULL after an error message. */
char *cli_checked_address(const char *s);
int cli_queue(struct cli *cli, int argc, char **argv);
/* Sends one command line to the daemon's control socket and prints the
 * answer; returns 0, or 1 if it could not or the daemon said error=. */
int cli_control(struct cli *cli, const char *command);
/* `tern dns`: one lookup through src/dns/ (cli_dns.c). */
int cli_dns(struct cli *cli, int argc, char **argv);
/* sendmail(8): argv[0] is the command name. config_path NULL means the
 * default, which may be unreadable for the caller (then built-in defaults
 * hold). Returns a sysexits.h status. */
int cli_sendmail(const char *config_path, int argc, char **argv);

#endif
