/*
 * The SMTP server (RFC 5321) for the smtp listener: receiving mail for
 * local domains from the internet.
 */
#ifndef TERN_SMTP_SMTP_H
#define TERN_SMTP_SMTP_H

struct server;
struct conn;

/* Starts a session on an accepted connection (the session owns conn). */
void smtp_session_start(struct server *srv, struct conn *conn);

#endif
