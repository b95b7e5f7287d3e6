/*
 * Listening sockets. They are bound while the daemon is still root (ports
 * below 1024) and handed to libevent afterwards.
 */
#ifndef TERN_NET_LISTENER_H
#define TERN_NET_LISTENER_H

#include "core/config.h"

struct event_base;
struct listener;

typedef void listener_accept_fn(void *ctx, enum service service, int fd,
				const struct sockaddr *peer, socklen_t peer_len);

/* Binds and listens on l's address. Returns NULL with an allocated
 * message in *error_r. */
struct listener *listener_bind(const struct config_listener *l, char **error_r);
/* Binds a Unix socket at path that every local user may connect to (mode
 * 0666; the directory is created 0755 if missing). A stale socket file is
 * replaced, a live one (another daemon answers) is an error. */
struct listener *listener_bind_unix(const char *path, enum service service, char **error_r);
/* Starts accepting on base; fn gets each new socket (and owns it). */
int listener_start(struct listener *lst, struct event_base *base, listener_accept_fn *fn, void *ctx);
void listener_free(struct listener **lst);
/* For a listener served by something else (the portal's evhttp): gives
 * up the listening socket; the caller owns it. -1 once started. */
int listener_release_fd(struct listener *lst);

#endif
