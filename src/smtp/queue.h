/*
 * The outbound queue runner. Rows of table queue (one per remote
 * recipient) are picked when due, grouped by message and recipient
 * domain, routed by MX (RFC 5321 5.1, RFC 7505 null MX) or to the
 * configured relay, and handed to the SMTP client. Results go through the
 * committer, never written on the loop thread: delivered rows are
 * deleted, temporary failures retried with doubling back-off, permanent
 * failures and expired rows bounced (bounce.h) in the same transaction
 * that deletes them, so each failed recipient yields exactly one DSN.
 *
 * Crash safety: in-flight state lives only in memory. After a crash every
 * row is due again as stored, so at most the transactions that were in
 * flight are sent again; a row is deleted right after the server's 250,
 * which keeps that window to one commit. A server that never answered the
 * final dot discards the message (RFC 5321 4.1.1.4), so a crash before
 * the 250 causes no duplicate.
 */
#ifndef TERN_SMTP_QUEUE_H
#define TERN_SMTP_QUEUE_H

#include <stdint.h>

struct server;
struct queue;

/* Starts the resolver and the runner (after the store and committer);
 * every stored row is due. NULL with *error_r (allocated) on a bad
 * [dns]/[relay]/[delivery] setup. */
struct queue *queue_start(struct server *srv, char **error_r);
/* New rows were committed or rows were made due: look now. */
void queue_kick(struct queue *q);
/* Makes rows of queue_id (NULL: all not held) due now and looks. */
void queue_flush(struct queue *q, const char *queue_id);
/* Shutdown: abandons deliveries in flight (their rows stay as stored)
 * and starts no more. */
void queue_stop(struct queue *q);
/* After the committer has stopped. */
void queue_free(struct queue **q);
/* Deliveries (connections) in flight. */
unsigned queue_active(struct queue *q);

/* Seconds to wait after the attempts-th failed attempt (1, 2, ...):
 * first, doubled each time, at most max. */
int64_t queue_retry_delay(uint64_t first, uint64_t max, int64_t attempts);

#endif
