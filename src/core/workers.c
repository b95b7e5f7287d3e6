/*
 * Worker threads and the loop inbox. The inbox is a mutex-protected list
 * plus one libevent event that other threads activate (libevent is set up
 * with evthread_use_pthreads() in the daemon's main, which makes
 * event_active() safe to call from any thread).
 */
#include "core/workers.h"
#include "core/util.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct inbox_item {
	loop_fn *fn;
	void *ctx;
	struct inbox_item *next;
};

struct loop_inbox {
	pthread_mutex_t lock;
	struct inbox_item *head, *tail;
	struct event *ev;	/* owned */
};

static void inbox_drain(evutil_socket_t fd, short what, void *arg)
{
	struct loop_inbox *inbox = arg;
	struct inbox_item *items, *next;

	pthread_mutex_lock(&inbox->lock);
	items = inbox->head;
	inbox->head = inbox->tail = NULL;
	pthread_mutex_unlock(&inbox->lock);
	for (; items != NULL; items = next) {
		next = items->next;
		items->fn(items->ctx);
		free(items);
	}
}

struct loop_inbox *loop_inbox_new(struct event_base *base)
{
	struct loop_inbox *inbox = xcalloc(1, sizeof(*inbox));

	pthread_mutex_init(&inbox->lock, NULL);
	inbox->ev = event_new(base, -1, 0, inbox_drain, inbox);
	if (inbox->ev == NULL)
		fatal("event_new failed for the loop inbox");
	return inbox;
}

void loop_inbox_post(struct loop_inbox *inbox, loop_fn *fn, void *ctx)
{
	struct inbox_item *item = xmalloc(sizeof(*item));
	bool was_empty;

	item->fn = fn;
	item->ctx = ctx;
	item->next = NULL;
	pthread_mutex_lock(&inbox->lock);
	was_empty = inbox->head == NULL;
	if (inbox->tail != NULL)
		inbox->tail->next = item;
	else
		inbox->head = item;
	inbox->tail = item;
	pthread_mutex_unlock(&inbox->lock);
	if (was_empty)
		event_active(inbox->ev, 0, 0);
}

void loop_inbox_drain(struct loop_inbox *inbox)
{
	inbox_drain(-1, 0, inbox);
}

void loop_inbox_free(struct loop_inbox **inboxp)
{
	struct loop_inbox *inbox = *inboxp;

	if (inbox == NULL)
		return;
	/* Run what is left so no completion is lost. */
	inbox_drain(-1, 0, inbox);
	event_free(inbox->ev);
	pthread_mutex_destroy(&inbox->lock);
	free(inbox);
	*inboxp = NULL;
}

struct job {
	loop_fn *work, *done;
	void *ctx;
	struct job *next;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	bool stopping;
	unsigned pending;
	unsigned n_threads;
	pthread_t *threads;	/* owned */
	struct loop_inbox *inbox;	/* borrowed */
};

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	struct job *job;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		job = w->head;
		if (job == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		w->head = job->next;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		job->work(job->ctx);
		pthread_mutex_lock(&w->lock);
		w->pending--;
		pthread_mutex_unlock(&w->lock);
		loop_inbox_post(w->inbox, job->done, job->ctx);
		free(job);
	}
}

struct workers *workers_new(struct loop_inbox *inbox, unsigned n)
{
	struct workers *w = xcalloc(1, sizeof(*w));
	unsigned i;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->inbox = inbox;
	w->n_threads = n;
	w->threads = xcalloc(n, sizeof(*w->threads));
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			fatal("cannot start worker thread: %m");
	}
	return w;
}

void workers_submit(struct workers *w, loop_fn *work, loop_fn *done, void *ctx)
{
	struct job *job = xmalloc(sizeof(*job));

	job->work = work;
	job->done = done;
	job->ctx = ctx;
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->pending++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

unsigned workers_pending(struct workers *w)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void workers_free(struct workers **wp)
{
	struct workers *w = *wp;
	unsigned i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
	*wp = NULL;
}
