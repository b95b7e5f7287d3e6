/*
 * Bind, listen, accept through evconnlistener.
 */
#include "net/listener.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listener {
	enum service service;
	int fd;				/* owned until started */
	struct evconnlistener *evl;	/* owned */
	char *text;			/* owned */
	listener_accept_fn *fn;
	void *ctx;
};

struct listener *listener_bind(const struct config_listener *l, char **error_r)
{
	struct listener *lst;
	int fd, one = 1;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("%s %s: socket: %s", service_name(l->service), l->text, strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0 || listen(fd, 511) < 0) {
		*error_r = xasprintf("%s %s: %s", service_name(l->service), l->text, strerror(errno));
		close(fd);
		return NULL;
	}
	lst = xcalloc(1, sizeof(*lst));
	lst->service = l->service;
	lst->fd = fd;
	lst->text = xstrdup(l->text);
	return lst;
}

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *peer,
		      int peer_len, void *arg)
{
	struct listener *lst = arg;

	lst->fn(lst->ctx, lst->service, fd, peer, (socklen_t)peer_len);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *lst = arg;

	/* EMFILE and friends: log and keep listening; libevent retries. */
	log_error("listener=%s accept_error=\"%s\"", lst->text, strerror(errno));
}

int listener_start(struct listener *lst, struct event_base *base, listener_accept_fn *fn, void *ctx)
{
	lst->fn = fn;
	lst->ctx = ctx;
	lst->evl = evconnlistener_new(base, accept_cb, lst, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
				      -1, lst->fd);
	if (lst->evl == NULL)
		return -1;
	lst->fd = -1;
	evconnlistener_set_error_cb(lst->evl, accept_error_cb);
	log_info("listening service=%s address=%s", service_name(lst->service), lst->text);
	return 0;
}

int listener_release_fd(struct listener *lst)
{
	int fd = lst->fd;

	lst->fd = -1;
	return fd;
}

void listener_free(struct listener **lstp)
{
	struct listener *lst = *lstp;

	if (lst == NULL)
		return;
	if (lst->evl != NULL)
		evconnlistener_free(lst->evl);
	if (lst->fd >= 0)
		close(lst->fd);
	free(lst->text);
	free(lst);
	*lstp = NULL;
}
