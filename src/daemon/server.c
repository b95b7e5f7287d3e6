/*
 * The session registry: connection accounting and deferred freeing.
 */
#include "daemon/server.h"
#include "core/counter.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"

#include <event2/event.h>
#include <stdlib.h>

void server_session_add(struct server *srv, struct server_session *ss, struct conn *conn)
{
	ss->server = srv;
	ss->conn = conn;
	random_id(ss->id, 12);
	ss->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = ss;
	srv->sessions = ss;
	srv->n_sessions[conn->service]++;
	srv->n_total++;
	srv->stats.connections++;
	counter_add(srv->per_ip, conn->peer_ip, 1);
	log_info("session=%s connect service=%s ip=%s port=%u%s", ss->id, service_name(conn->service),
		 conn->peer_ip, conn->peer_port, conn->tls_pending ? " tls=implicit" : "");
}

static void session_unlink(struct server_session *ss)
{
	struct server *srv = ss->server;

	if (ss->prev != NULL)
		ss->prev->next = ss->next;
	else
		srv->sessions = ss->next;
	if (ss->next != NULL)
		ss->next->prev = ss->prev;
	ss->prev = ss->next = NULL;
	srv->n_sessions[ss->conn->service]--;
	srv->n_total--;
	counter_add(srv->per_ip, ss->conn->peer_ip, -1);
}

static void session_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_session *ss = arg;

	ss->free(ss);
}

void server_session_release(struct server_session *ss)
{
	if (ss->released)
		return;
	ss->released = true;
	session_unlink(ss);
	if (ss->pending_jobs == 0) {
		/* Not from inside the caller's callback: from the loop. */
		struct timeval now = { 0, 0 };

		if (event_base_once(ss->server->base, -1, EV_TIMEOUT, session_free_cb, ss, &now) < 0)
			fatal("event_base_once failed");
	}
}

bool server_session_job_done(struct server_session *ss)
{
	if (ss->pending_jobs == 0)
		fatal("session %s: job completion without a pending job", ss->id);
	ss->pending_jobs--;
	if (!ss->released)
		return true;
	if (ss->pending_jobs == 0)
		ss->free(ss);
	return false;
}

void server_mailbox_changed(struct server *srv, int64_t account_id, int64_t mailbox_id)
{
	struct server_session *ss, *next;

	for (ss = srv->sessions; ss != NULL; ss = next) {
		next = ss->next;
		if (ss->changed != NULL && !ss->released)
			ss->changed(ss, account_id, mailbox_id);
	}
}
