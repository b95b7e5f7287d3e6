/*
 * Non-blocking connect (see connect.h): the socket is created
 * non-blocking, connect() returns EINPROGRESS, and the loop waits for it
 * to become writable; SO_ERROR then says how the connect ended.
 */
#include "net/connect.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct net_connect {
	struct event *ev;	/* owned */
	int fd;			/* owned until handed over */
	int early_errno;	/* connect() failed at once: reported from the loop */
	net_connect_fn *cb;
	void *ctx;
};

void net_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static void connect_done(evutil_socket_t fd, short what, void *arg)
{
	struct net_connect *nc = arg;
	net_connect_fn *cb = nc->cb;
	void *ctx = nc->ctx;
	int err = nc->early_errno;
	socklen_t len = sizeof(err);
	char msg[128];

	if (err == 0 && (what & EV_TIMEOUT))
		err = ETIMEDOUT;
	else if (err == 0 && getsockopt(nc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	event_free(nc->ev);
	if (err != 0) {
		close(nc->fd);
		free(nc);
		snprintf(msg, sizeof(msg), "connect: %s", strerror(err));
		cb(ctx, -1, msg);
		return;
	}
	fd = nc->fd;
	free(nc);
	cb(ctx, fd, NULL);
}

struct net_connect *net_connect_start(struct event_base *base, const struct sockaddr *sa,
				      socklen_t len, unsigned timeout_s, net_connect_fn *cb,
				      void *ctx)
{
	struct net_connect *nc = xcalloc(1, sizeof(*nc));
	struct timeval tv = { timeout_s, 0 }, now = { 0, 0 };

	nc->cb = cb;
	nc->ctx = ctx;
	nc->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (nc->fd < 0) {
		nc->early_errno = errno;
		nc->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* closed in connect_done */
	} else if (connect(nc->fd, sa, len) < 0 && errno != EINPROGRESS) {
		nc->early_errno = errno;
	}
	if (nc->early_errno != 0) {
		nc->ev = event_new(base, -1, 0, connect_done, nc);
		event_add(nc->ev, &now);
	} else {
		nc->ev = event_new(base, nc->fd, EV_WRITE, connect_done, nc);
		event_add(nc->ev, timeout_s ? &tv : NULL);
	}
	if (nc->ev == NULL)
		fatal("cannot create a connect event");
	return nc;
}

void net_connect_cancel(struct net_connect **ncp)
{
	struct net_connect *nc = *ncp;

	if (nc == NULL)
		return;
	event_free(nc->ev);
	if (nc->fd >= 0)
		close(nc->fd);
	free(nc);
	*ncp = NULL;
}
