/*
 * The self-service account portal: HTTPS (implicit TLS, service "https"
 * in [listen]) served by libevent's evhttp on the daemon's loop thread.
 * Users log in with their password and, when two-factor is on, a TOTP or
 * recovery code; they change the password, enrol or drop two-factor, make
 * and revoke app passwords and read their last logins. Every credential
 * check and write goes through src/auth/ (Argon2id on the workers, writes
 * through the committer), so nothing here blocks the loop.
 *
 * Pages are rendered on the server, work without JavaScript (there is
 * none), and carry strict security headers. See docs/portal.md.
 */
#ifndef TERN_WEB_WEB_H
#define TERN_WEB_WEB_H

struct server;
struct web_server;

/* Starts serving on the listening sockets fds (n of them, already bound
 * and listening; taken over: closed by web_server_free). srv is borrowed
 * and must outlive the portal. Needs srv->tls. Returns NULL with an
 * allocated message in *error_r. */
struct web_server *web_server_new(struct server *srv, const int *fds, unsigned n,
				  char **error_r);
/* Shutdown: stops accepting; requests in flight still get their answer. */
void web_server_stop(struct web_server *web);
/* Frees the portal, its connections and sessions. Call after the auth
 * engine answered everything (auth_free), before the server's counters
 * are freed. */
void web_server_free(struct web_server **web);
/* Live portal sessions (logged in or waiting for a code), for status. */
unsigned web_server_sessions(const struct web_server *web);

#endif
