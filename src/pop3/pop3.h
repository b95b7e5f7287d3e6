/*
 * The POP3 server (RFC 1939, 2449, 2595, 5034) for the pop3 and pop3s
 * listeners: users read and delete the mail in their INBOX.
 */
#ifndef TERN_POP3_POP3_H
#define TERN_POP3_POP3_H

struct server;
struct conn;

/* Starts a session on an accepted connection (the session owns conn). */
void pop3_session_start(struct server *srv, struct conn *conn);

#endif
