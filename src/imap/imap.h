/*
 * The IMAP4rev2 server (RFC 9051, with IMAP4rev1 of RFC 3501). The daemon
 * hands it accepted connections of the imap and imaps listeners.
 */
#ifndef TERN_IMAP_IMAP_H
#define TERN_IMAP_IMAP_H

struct server;
struct conn;

/* Takes ownership of conn and serves it until it closes. */
void imap_session_start(struct server *srv, struct conn *conn);

#endif
