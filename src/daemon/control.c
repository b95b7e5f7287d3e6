/*
 * The control socket: a Unix socket (mode 0700, owned by the service
 * user) where `tern` sends one command line and reads the answer until the
 * daemon closes. Commands: "status", "reload", "flush" (every deferred
 * row of the outbound queue due now), "retry ID" (one message), "security
 * blocked" (the IPs and accounts the brute-force limits block, one per
 * line) and "security unblock IP|ADDRESS".
 */
#include "daemon/daemon.h"
#include "daemon/server.h"
#include "auth/auth.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workers.h"
#include "smtp/queue.h"
#include "store/committer.h"
#include "store/store.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_LINE_MAX 256

struct control {
	struct server *srv;		/* borrowed */
	struct evconnlistener *evl;	/* owned */
	char *path;			/* owned */
};

static void control_status(struct server *srv, struct evbuffer *out)
{
	struct store_stats st = { 0 };
	uint64_t commits = 0, jobs = 0;
	unsigned i;

	if (store_stats(srv->store, &st) < 0)
		evbuffer_add_printf(out, "store_error=%s\n", store_error(srv->store));
	committer_counts(srv->committer, &commits, &jobs);
	evbuffer_add_printf(out, "version=%s\npid=%d\nuptime_s=%lld\nhostname=%s\ndata_dir=%s\n",
			    TERN_VERSION, (int)getpid(), (long long)(time_now() - srv->started),
			    srv->cfg->hostname, srv->data_dir);
	evbuffer_add_printf(out, "connections_open=%u\n", srv->n_total);
	for (i = 0; i < SERVICE_COUNT; i++)
		evbuffer_add_printf(out, "connections_open_%s=%u\n", service_name((enum service)i),
				    srv->n_sessions[i]);
	evbuffer_add_printf(out, "connections_total=%llu\nmessages_accepted=%llu\n"
			    "messages_rejected=%llu\nlogins_ok=%llu\nlogins_failed=%llu\n",
			    (unsigned long long)srv->stats.connections,
			    (unsigned long long)srv->stats.messages_accepted,
			    (unsigned long long)srv->stats.messages_rejected,
			    (unsigned long long)srv->stats.logins_ok,
			    (unsigned long long)srv->stats.logins_failed);
	evbuffer_add_printf(out, "store_commits=%llu\nstore_commit_jobs=%llu\n",
			    (unsigned long long)commits, (unsigned long long)jobs);
	evbuffer_add_printf(out, "domains=%lld\naccounts=%lld\naliases=%lld\nmessages=%lld\n"
			    "blobs=%lld\nqueued=%lld\n", (long long)st.domains, (long long)st.accounts,
			    (long long)st.aliases, (long long)st.messages, (long long)st.blobs,
			    (long long)st.queued);
	evbuffer_add_printf(out, "queue_deliveries=%u\n", queue_active(srv->queue));
}

static void print_blocked(void *ctx, const char *key, bool is_ip, unsigned failures,
			  int64_t until)
{
	struct evbuffer *out = ctx;
	char esc[LOG_ESCAPE_MAX];

	evbuffer_add_printf(out, "%s=%s failures=%u blocked_for_s=%lld\n", is_ip ? "ip" : "user",
			    log_escape(esc, key, strlen(key)), failures,
			    (long long)(until - time_now()));
}

static void control_security(struct server *srv, const char *args, struct evbuffer *out)
{
	struct ratelimit *rl = auth_ratelimit(srv->auth);

	if (strcmp(args, "blocked") == 0) {
		ratelimit_list(rl, time_now(), print_blocked, out);
		evbuffer_add_printf(out, "ok\n");
	} else if (strncmp(args, "unblock ", 8) == 0 && args[8] != '\0') {
		char esc[LOG_ESCAPE_MAX];

		log_escape(esc, args + 8, strlen(args + 8));
		if (ratelimit_unblock(rl, args + 8) == 1) {
			log_info("security unblock key=\"%s\"", esc);
			evbuffer_add_printf(out, "ok\n");
		} else {
			evbuffer_add_printf(out, "error=%s is not blocked and has no failures\n",
					    esc);
		}
	} else {
		evbuffer_add_printf(out, "error=usage: security blocked | security unblock IP|ADDRESS\n");
	}
}

static void control_close_cb(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);
	char *line, *error;

	line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	if (strcmp(line, "status") == 0) {
		control_status(c->srv, out);
	} else if (strcmp(line, "reload") == 0) {
		if (daemon_reload(c->srv, &error) < 0) {
			evbuffer_add_printf(out, "error=%s\n", error);
			free(error);
		} else {
			evbuffer_add_printf(out, "ok\n");
		}
	} else if (strncmp(line, "security ", 9) == 0) {
		control_security(c->srv, line + 9, out);
	} else if (strcmp(line, "flush") == 0 && c->srv->queue != NULL) {
		queue_flush(c->srv->queue, NULL);
		evbuffer_add_printf(out, "ok\n");
	} else if (strncmp(line, "retry ", 6) == 0 && c->srv->queue != NULL &&
		   line[6] != '\0' && strspn(line + 6, "abcdefghijklmnopqrstuvwxyz0123456789") ==
		   strlen(line + 6)) {
		queue_flush(c->srv->queue, line + 6);
		evbuffer_add_printf(out, "ok\n");
	} else {
		evbuffer_add_printf(out, "error=unknown command\n");
	}
	free(line);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, control_close_cb, control_event_cb, c);
}

static void control_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
			      int len, void *arg)
{
	struct control *c = arg;
	struct bufferevent *bev = bufferevent_socket_new(c->srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	struct timeval tv = { 10, 0 };

	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, control_read_cb, NULL, control_event_cb, c);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct control *control_start(struct server *srv, char **error_r)
{
	struct control *c;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = srv->cfg->control_socket;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = xasprintf("control_socket path too long: %s", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->path = xstrdup(path);
	old = umask(0077);
	c->evl = evconnlistener_new_bind(srv->base, control_accept_cb, c,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					 (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (c->evl == NULL) {
		*error_r = xasprintf("cannot listen on control socket %s: %s", path, strerror(errno));
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void control_free(struct control **cp)
{
	struct control *c = *cp;

	if (c == NULL)
		return;
	evconnlistener_free(c->evl);
	unlink(c->path);
	free(c->path);
	free(c);
	*cp = NULL;
}
