/*
 * The daemon: startup order matters.
 *   1. config        as root, so /etc/tern may be root-only
 *   2. listeners     as root, for ports below 1024
 *   3. TLS keys      as root
 *   4. data_dir      created and given to the service user
 *   5. drop root     setgroups, setgid, setuid; checked
 *   6. store         opened as the service user, so every file is theirs
 *   7. loop          accept, serve; SIGTERM drains, SIGHUP reloads
 */
#include "daemon/daemon.h"
#include "daemon/server.h"
#include "auth/auth.h"
#include "core/counter.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/privs.h"
#include "core/util.h"
#include "core/workers.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/tls.h"
#include "imap/imap.h"
#include "imap/imap_cache.h"
#include "mail/mail_index.h"
#include "pop3/pop3.h"
#include "smtp/queue.h"
#include "smtp/smtp.h"
#include "store/committer.h"
#include "store/store.h"
#include "web/web.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_SECONDS 30

struct daemon {
	struct server srv;
	struct listener *listeners[CONFIG_MAX_LISTENERS + 1];	/* + sendmail_socket */
	unsigned n_listeners;
	struct event *sig_term, *sig_int, *sig_hup;	/* owned */
	struct event *drain_timer;			/* owned */
	struct control *control;
	struct web_server *web;			/* owned: the https portal, or NULL */
	uint64_t shutdown_started_ms;
};

static struct daemon *daemon_of(struct server *srv)
{
	return (struct daemon *)srv;
}

/* ---- accepting ------------------------------------------------------------ */

/* Refuses a connection over a limit with a one-line reply when the
 * protocol starts in plaintext (a best-effort write: the socket is new). */
static void refuse(enum service service, int fd, const char *why)
{
	char line[256];
	int n = 0;

	if (service == SERVICE_SMTP || service == SERVICE_SUBMISSION || service == SERVICE_LOCAL)
		n = snprintf(line, sizeof(line), "421 4.7.0 Error: %s\r\n", why);
	else if (service == SERVICE_POP3)
		n = snprintf(line, sizeof(line), "-ERR [SYS/TEMP] %s\r\n", why);
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
	close(fd);
}

static void accept_cb(void *ctx, enum service service, int fd, const struct sockaddr *peer,
		      socklen_t peer_len)
{
	struct server *srv = ctx;
	struct conn *conn;

	if (srv->shutting_down) {
		close(fd);
		return;
	}
	conn = conn_new(srv->base, fd, peer, service, srv->tls, service_implicit_tls(service));
	if (conn == NULL) {
		log_error("cannot set up a connection for service=%s", service_name(service));
		close(fd);
		return;
	}
	/* local submissions all come from "local": only the total counts */
	if (srv->n_total >= srv->cfg->max_connections ||
	    (service != SERVICE_LOCAL &&
	     counter_get(srv->per_ip, conn->peer_ip) >= srv->cfg->max_connections_per_ip)) {
		bool total = srv->n_total >= srv->cfg->max_connections;

		log_warn("refused service=%s ip=%s reason=%s", service_name(service), conn->peer_ip,
			 total ? "max_connections" : "max_connections_per_ip");
		conn->fd = -1;	/* refuse() closes it */
		conn_free(&conn);
		refuse(service, fd, total ? "too many connections, try again later" :
		       "too many connections from your address");
		return;
	}
	switch (service) {
	case SERVICE_SMTP:
	case SERVICE_SUBMISSION:
	case SERVICE_SUBMISSIONS:
	case SERVICE_LOCAL:
		smtp_session_start(srv, conn);
		break;
	case SERVICE_POP3:
	case SERVICE_POP3S:
		pop3_session_start(srv, conn);
		break;
	case SERVICE_IMAP:
	case SERVICE_IMAPS:
		imap_session_start(srv, conn);
		break;
	case SERVICE_HTTPS:	/* served by src/web/'s evhttp, never accepted here */
	case SERVICE_COUNT:
		conn_free(&conn);
		break;
	}
}

/* ---- startup ------------------------------------------------------------ */

/* The local submission socket of `tern sendmail`. At the default path it
 * is optional (a daemon not started as root cannot create /run/tern); a
 * path set in the config must work. */
static int bind_sendmail_socket(struct daemon *d)
{
	const char *path = d->srv.cfg->sendmail_socket;
	struct listener *lst;
	char *error;

	if (path[0] == '\0')
		return 0;
	lst = listener_bind_unix(path, SERVICE_LOCAL, &error);
	if (lst == NULL) {
		bool configured = strcmp(path, CONFIG_SENDMAIL_SOCKET_DEFAULT) != 0;

		if (configured)
			log_error("cannot listen on sendmail_socket: %s", error);
		else
			log_warn("no local submission (tern sendmail): %s", error);
		free(error);
		return configured ? -1 : 0;
	}
	d->listeners[d->n_listeners++] = lst;
	return 0;
}

static int bind_listeners(struct daemon *d)
{
	const struct config *cfg = d->srv.cfg;
	char *error;
	unsigned i;

	for (i = 0; i < cfg->n_listeners; i++) {
		d->listeners[i] = listener_bind(&cfg->listeners[i], &error);
		if (d->listeners[i] == NULL) {
			log_error("cannot listen: %s", error);
			free(error);
			return -1;
		}
		d->n_listeners++;
	}
	if (d->n_listeners == 0)
		log_warn("no listeners configured in [listen]");
	return bind_sendmail_socket(d);
}

static int open_store(struct server *srv)
{
	char *error;
	int swept;

	srv->store = store_open(srv->data_dir, STORE_OPEN_CREATE, &error);
	if (srv->store == NULL) {
		log_error("cannot open the store: %s", error);
		free(error);
		return -1;
	}
	if ((swept = store_spool_sweep(srv->data_dir)) > 0)
		log_info("removed %d unfinished spool files from %s/tmp", swept, srv->data_dir);
	srv->inbox = loop_inbox_new(srv->base);
	srv->workers = workers_new(srv->inbox, (unsigned)srv->cfg->workers);
	srv->committer = committer_new(srv->data_dir, srv->inbox, mail_index_text, &error);
	if (srv->committer == NULL) {
		log_error("cannot start the committer: %s", error);
		free(error);
		return -1;
	}
	srv->auth = auth_new(srv->base, srv->store, srv->workers, srv->committer, srv->cfg);
	return 0;
}

/* ---- signals, reload, shutdown -------------------------------------------- */

/* Keeps the running value of a key that only a restart can change, and
 * says so when the new config differs. */
static void keep_string(char **new_value, const char *running, const char *key)
{
	if (strcmp(*new_value, running) == 0)
		return;
	log_warn("reload: %s changes need a restart; still using %s", key, running);
	free(*new_value);
	*new_value = xstrdup(running);
}

static bool listeners_equal(const struct config *a, const struct config *b)
{
	unsigned i;

	if (a->n_listeners != b->n_listeners)
		return false;
	for (i = 0; i < a->n_listeners; i++) {
		if (a->listeners[i].service != b->listeners[i].service ||
		    strcmp(a->listeners[i].text, b->listeners[i].text) != 0)
			return false;
	}
	return true;
}

/* Makes cfg carry the running values of everything fixed at startup, so
 * that the config in force always describes what really runs. */
static void keep_startup_values(struct config *cfg, const struct config *running)
{
	unsigned i;

	keep_string(&cfg->data_dir, running->data_dir, "data_dir");
	keep_string(&cfg->user, running->user, "user");
	keep_string(&cfg->control_socket, running->control_socket, "control_socket");
	keep_string(&cfg->sendmail_socket, running->sendmail_socket, "sendmail_socket");
	if (cfg->workers != running->workers) {
		log_warn("reload: workers changes need a restart; still %llu",
			 (unsigned long long)running->workers);
		cfg->workers = running->workers;
	}
	if (listeners_equal(cfg, running))
		return;
	log_warn("reload: [listen] changes need a restart; the listeners stay as they are");
	for (i = 0; i < cfg->n_listeners; i++)
		free(cfg->listeners[i].text);
	for (i = 0; i < running->n_listeners; i++) {
		cfg->listeners[i] = running->listeners[i];
		cfg->listeners[i].text = xstrdup(running->listeners[i].text);
	}
	cfg->n_listeners = running->n_listeners;
}

int daemon_reload(struct server *srv, char **error_r)
{
	struct config *cfg = config_load(srv->cfg->path, error_r);
	struct tls_ctx *tls = NULL;

	if (cfg == NULL)
		return -1;
	if (cfg->n_certs > 0 && (tls = tls_ctx_new(cfg, error_r)) == NULL) {
		config_free(&cfg);
		return -1;
	}
	keep_startup_values(cfg, srv->cfg);
	tls_ctx_unref(&srv->tls);
	srv->tls = tls;
	config_free(&srv->cfg);
	srv->cfg = cfg;
	if (srv->auth != NULL)
		auth_set_config(srv->auth, cfg);
	log_set_level(cfg->log_level);
	log_info("reloaded config=%s certificates=%u", cfg->path, cfg->n_certs);
	return 0;
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t waited = time_mono_ms() - d->shutdown_started_ms;

	if (d->srv.sessions == NULL || waited > SHUTDOWN_GRACE_SECONDS * 1000) {
		if (d->srv.sessions != NULL)
			log_warn("shutdown: %u sessions still open after %d s; exiting",
				 d->srv.n_total, SHUTDOWN_GRACE_SECONDS);
		event_base_loopbreak(d->srv.base);
	}
}

void daemon_shutdown(struct server *srv)
{
	struct daemon *d = daemon_of(srv);
	struct server_session *ss, *next;
	struct timeval tv = { 0, 100 * 1000 };
	unsigned i;

	if (srv->shutting_down)
		return;
	srv->shutting_down = true;
	d->shutdown_started_ms = time_mono_ms();
	log_info("shutdown sessions=%u deliveries=%u", srv->n_total, queue_active(srv->queue));
	queue_stop(srv->queue);
	for (i = 0; i < d->n_listeners; i++)
		listener_free(&d->listeners[i]);
	if (d->web != NULL)
		web_server_stop(d->web);
	for (ss = srv->sessions; ss != NULL; ss = next) {
		next = ss->next;
		if (ss->conn->tls_pending) {
			/* Mid-handshake (implicit TLS, STARTTLS, STLS) nothing
			 * can be said and the client may never finish: close
			 * now rather than wait out the grace period. */
			log_info("session=%s disconnect reason=shutdown tls=pending", ss->id);
			server_session_release(ss);
		} else {
			ss->shutdown(ss);
		}
	}
	d->drain_timer = event_new(srv->base, -1, EV_PERSIST, drain_check, d);
	event_add(d->drain_timer, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	char *error;

	if (sig == SIGHUP) {
		if (daemon_reload(srv, &error) < 0) {
			log_error("reload failed, keeping the running config: %s", error);
			free(error);
		}
		return;
	}
	daemon_shutdown(srv);
}

static void setup_signals(struct daemon *d)
{
	signal(SIGPIPE, SIG_IGN);
	d->sig_term = evsignal_new(d->srv.base, SIGTERM, signal_cb, &d->srv);
	d->sig_int = evsignal_new(d->srv.base, SIGINT, signal_cb, &d->srv);
	d->sig_hup = evsignal_new(d->srv.base, SIGHUP, signal_cb, &d->srv);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    evsignal_add(d->sig_term, NULL) < 0 || evsignal_add(d->sig_int, NULL) < 0 ||
	    evsignal_add(d->sig_hup, NULL) < 0)
		fatal("cannot install signal handlers");
}

/* ---- run ---------------------------------------------------------------- */

static int daemon_start(struct daemon *d, const char *config_path)
{
	struct server *srv = &d->srv;
	const struct passwd *pw;
	char *error;

	srv->cfg = config_load(config_path, &error);
	if (srv->cfg == NULL) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	log_set_level(srv->cfg->log_level);
	srv->data_dir = xstrdup(srv->cfg->data_dir);
	if (privs_service_user(srv->cfg->path, srv->cfg->user, &pw) < 0 || bind_listeners(d) < 0)
		return -1;
	srv->tls = tls_ctx_new(srv->cfg, &error);
	if (srv->tls == NULL && error != NULL) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	if (privs_prepare_dir(srv->data_dir, pw) < 0 || privs_drop(pw) < 0)
		return -1;
	if (pw != NULL)
		log_info("running as user=%s uid=%u", pw->pw_name, (unsigned)pw->pw_uid);
	return open_store(srv);
}

/* The https listeners go to the portal's evhttp instead of accept_cb. */
static int start_web(struct daemon *d)
{
	int fds[CONFIG_MAX_LISTENERS];
	unsigned i, n = 0;
	char *error;

	for (i = 0; i < d->n_listeners; i++) {
		if (d->srv.cfg->listeners[i].service == SERVICE_HTTPS)
			fds[n++] = listener_release_fd(d->listeners[i]);
	}
	if (n == 0)
		return 0;
	d->web = web_server_new(&d->srv, fds, n, &error);
	if (d->web == NULL) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	return 0;
}

static int daemon_serve(struct daemon *d)
{
	struct server *srv = &d->srv;
	char *error;
	unsigned i;

	srv->per_ip = counter_map_new();
	srv->pop3_locks = counter_map_new();
	srv->started = time_now();
	if (start_web(d) < 0)
		return -1;
	for (i = 0; i < d->n_listeners; i++) {
		if (srv->cfg->listeners[i].service == SERVICE_HTTPS)
			continue;
		if (listener_start(d->listeners[i], srv->base, accept_cb, srv) < 0) {
			log_error("cannot start listener");
			return -1;
		}
	}
	d->control = control_start(srv, &error);
	if (d->control == NULL) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	srv->queue = queue_start(srv, &error);
	if (srv->queue == NULL) {
		log_error("%s", error);
		free(error);
		return -1;
	}
	setup_signals(d);
	log_info("ready hostname=%s data_dir=%s version=%s", srv->cfg->hostname, srv->data_dir,
		 TERN_VERSION);
	event_base_dispatch(srv->base);
	return 0;
}

static void daemon_cleanup(struct daemon *d)
{
	struct server *srv = &d->srv;
	struct server_session *ss, *next;
	unsigned i;

	for (i = 0; i < d->n_listeners; i++)
		listener_free(&d->listeners[i]);
	control_free(&d->control);
	/* Sessions left after the grace period: free them (nothing they hold
	 * was acknowledged). Jobs still queued finish first; logins finishing
	 * now start no new jobs (auth_stop) and delayed failures are
	 * answered before their sessions go (auth_free). */
	if (srv->auth != NULL)
		auth_stop(srv->auth);
	workers_free(&srv->workers);
	if (srv->inbox != NULL)
		loop_inbox_drain(srv->inbox);	/* may submit commits */
	committer_free(&srv->committer);
	loop_inbox_free(&srv->inbox);
	auth_free(&srv->auth);
	web_server_free(&d->web);	/* every auth answer is in: no request waits */
	queue_free(&srv->queue);	/* after the commits it may await */
	for (ss = srv->sessions; ss != NULL; ss = next) {
		next = ss->next;
		ss->free(ss);
	}
	if (d->sig_term) event_free(d->sig_term);
	if (d->sig_int) event_free(d->sig_int);
	if (d->sig_hup) event_free(d->sig_hup);
	if (d->drain_timer) event_free(d->drain_timer);
	counter_map_free(&srv->per_ip);
	counter_map_free(&srv->pop3_locks);
	imap_cache_free(&srv->imap_cache);
	tls_ctx_unref(&srv->tls);
	store_close(&srv->store);
	config_free(&srv->cfg);
	free(srv->data_dir);
}

int daemon_run(const struct daemon_options *opts)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	const char *config_path = opts->config_path;
	char *demo_conf = NULL, *demo_password = NULL;
	int status = 1;

	log_set_ident("ternd");
	umask(0077);	/* the store holds passwords hashes and mail */
	if (evthread_use_pthreads() < 0)
		fatal("libevent has no pthreads support");
	if (opts->demo_dir != NULL) {
		demo_conf = demo_prepare(opts->demo_dir, &demo_password);
		if (demo_conf == NULL)
			goto out;
		config_path = demo_conf;
	}
	if (opts->check_only) {
		char *error;
		struct config *cfg = config_load(config_path, &error);
		struct tls_ctx *tls = NULL;

		/* the certificates and keys are part of the check */
		if (cfg != NULL && (tls = tls_ctx_new(cfg, &error)) == NULL && error != NULL)
			config_free(&cfg);
		if (cfg == NULL) {
			fprintf(stderr, "%s\n", error);
			free(error);
			goto out;
		}
		tls_ctx_unref(&tls);
		printf("%s: ok\n", config_path);
		config_free(&cfg);
		status = 0;
		goto out;
	}
	d->srv.base = event_base_new();
	if (d->srv.base == NULL)
		fatal("cannot create the event loop");
	if (daemon_start(d, config_path) == 0) {
		if (opts->demo_dir != NULL)
			demo_populate(&d->srv, opts->demo_dir, demo_password);
		status = daemon_serve(d) == 0 ? 0 : 1;
	}
	daemon_cleanup(d);
	event_base_free(d->srv.base);
	log_info("stopped status=%d", status);
out:
	free(demo_conf);
	if (demo_password != NULL) {
		memset(demo_password, 0, strlen(demo_password));
		free(demo_password);
	}
	free(d);
	return status;
}
