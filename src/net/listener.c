/*
 * Bind, listen, accept through evconnlistener.
 */
#include "net/listener.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* True if something accepts connections on the Unix socket at sun. */
static bool unix_socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

/* Makes room for the socket: creates its directory, removes a stale one. */
static int unix_prepare_path(const struct sockaddr_un *sun, char **error_r)
{
	char dir[sizeof(sun->sun_path)];
	char *slash;
	struct stat st;

	memcpy(dir, sun->sun_path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			*error_r = xasprintf("cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = xasprintf("%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	if (unix_socket_live(sun)) {
		*error_r = xasprintf("%s is in use by another process", sun->sun_path);
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

struct listener *listener_bind_unix(const char *path, enum service service, char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct listener *lst;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = xasprintf("%s: socket path too long", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (unix_prepare_path(&sun, error_r) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("%s: socket: %s", path, strerror(errno));
		return NULL;
	}
	old = umask(0);
	ret = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret < 0 || chmod(path, 0666) < 0 || listen(fd, 64) < 0) {
		*error_r = xasprintf("%s %s: %s", service_name(service), path, strerror(errno));
		close(fd);
		return NULL;
	}
	lst = xcalloc(1, sizeof(*lst));
	lst->service = service;
	lst->fd = fd;
	lst->text = xstrdup(path);
	return lst;
}

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *peer,
		      int peer_len, void *arg)
{
	struct listener *lst = arg;
	int one = 1;

	/* Replies are already gathered into one write per loop turn; Nagle
	 * would hold a tagged reply that follows an earlier small write (an
	 * untagged response before a commit) until the client's delayed ACK,
	 * up to 40 ms per command. */
	if (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
