/*
 * ternd's life: load the config, bind, load keys, drop privileges, open
 * the store, serve until SIGTERM, drain, exit. SIGHUP reloads.
 */
#ifndef TERN_DAEMON_DAEMON_H
#define TERN_DAEMON_DAEMON_H

#include <stdbool.h>

struct server;

struct daemon_options {
	const char *config_path;
	const char *demo_dir;		/* --demo DIR, or NULL */
	bool check_only;		/* -n: check the config and exit */
};

/* Runs the daemon; returns the process exit status. */
int daemon_run(const struct daemon_options *opts);

/* Re-reads the config and certificates (SIGHUP, `tern reload`). Returns 0
 * or -1 with an allocated message in *error_r. */
int daemon_reload(struct server *srv, char **error_r);
/* Starts a graceful shutdown (SIGTERM). */
void daemon_shutdown(struct server *srv);

/* Control socket (control.c). */
struct control;
struct control *control_start(struct server *srv, char **error_r);
void control_free(struct control **c);

/* Demo mode (demo.c): creates DIR on first start and returns the path of
 * its tern.conf (allocated); *password_r gets the demo password. */
char *demo_prepare(const char *dir, char **password_r);
/* After privileges dropped and the store opened: adds the demo domain and
 * user if missing, then prints how to try the server. */
void demo_populate(struct server *srv, const char *dir, const char *password);

#endif
