/*
 * Outbound TCP connections from the loop: a non-blocking connect() with a
 * timeout. The result comes back once, from the loop (never from inside
 * net_connect_start), as a connected socket or an error text; wrap the
 * socket with conn_new() to talk over it.
 */
#ifndef TERN_NET_CONNECT_H
#define TERN_NET_CONNECT_H

#include <sys/socket.h>

struct event_base;
struct net_connect;

/* fd >= 0 (owned by the callee from then on) on success; else fd is -1
 * and error says why (borrowed for the call). */
typedef void net_connect_fn(void *ctx, int fd, const char *error);

/* Starts connecting to sa; timeout_s of 0 means no timeout. */
struct net_connect *net_connect_start(struct event_base *base, const struct sockaddr *sa,
				      socklen_t len, unsigned timeout_s, net_connect_fn *cb,
				      void *ctx);
/* Abandons a pending connect; its callback is not called. NULL is fine. */
void net_connect_cancel(struct net_connect **nc);

/* Writes "ip" or "[ipv6]" with ":port" into out. */
void net_addr_text(const struct sockaddr *sa, char *out, size_t len);

#endif
