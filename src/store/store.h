/*
 * The store API: every SQL statement and every file under data_dir lives
 * behind it. A struct store is one SQLite connection and is used by one
 * thread only: the daemon keeps one for reads on the loop thread and one
 * for writes on the committer thread (committer.h), the CLI one of its own.
 *
 * data_dir/tern.db     SQLite in WAL mode: domains, accounts, aliases,
 *                      mailboxes, messages, blobs, queue
 * data_dir/blobs/ab/.. message files larger than inline_max, named by the
 *                      hex SHA-256 of their contents and a random token
 *                      (the token keeps a blob being deleted and an
 *                      identical one being delivered from sharing a name)
 * data_dir/tmp/        spool files being received
 *
 * Addresses are stored with the domain lowercased; local parts compare
 * case-insensitively (ASCII), as Postfix and Dovecot do by default.
 */
#ifndef TERN_STORE_STORE_H
#define TERN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_HASH_LEN 32
#define STORE_SCHEMA_VERSION 3
#define STORE_EXPAND_MAX 1000	/* targets one address may expand to */
#define STORE_ALIAS_DEPTH 8	/* alias -> alias nesting */

struct store;

enum store_open_flags {
	STORE_OPEN_CREATE = 1 << 0,	/* create data_dir layout and schema */
	STORE_OPEN_READONLY = 1 << 1,
};

/* Opens data_dir/tern.db, migrating the schema forward if it is older.
 * On error returns NULL with an allocated message in *error_r. */
struct store *store_open(const char *data_dir, int flags, char **error_r);
void store_close(struct store **s);
const char *store_data_dir(struct store *s);
/* Error text of the last failed call (borrowed; valid until the next). */
const char *store_error(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* Savepoints let one failing job in a group commit leave the others. */
int store_savepoint(struct store *s);
int store_release(struct store *s);
void store_rollback_savepoint(struct store *s);

/* ---- domains, accounts, aliases (admin) ---------------------------------
 * All return 0, or -1 with store_error() saying why in words an admin can
 * act on ("domain example.com does not exist"). */
int store_domain_add(struct store *s, const char *domain);
int store_domain_remove(struct store *s, const char *domain);
typedef void store_domain_fn(void *ctx, const char *domain, int64_t accounts, int64_t aliases);
int store_domain_list(struct store *s, store_domain_fn *fn, void *ctx);
/* Returns true if domain is one of ours. */
bool store_domain_exists(struct store *s, const char *domain);

/* password_hash is an encoded hash (auth/password.h), never a password. */
int store_account_add(struct store *s, const char *address, const char *password_hash);
int store_account_set_password(struct store *s, const char *address, const char *password_hash);
/* Removes the account, its mailboxes and messages. */
int store_account_remove(struct store *s, const char *address);
typedef void store_account_fn(void *ctx, const char *address, int64_t messages, int64_t bytes);
int store_account_list(struct store *s, const char *domain, store_account_fn *fn, void *ctx);
/* Looks up an account by address. Returns 1 and fills *id_r and an
 * allocated *hash_r (caller frees), 0 if there is no such account, -1 on
 * error. */
int store_account_lookup(struct store *s, const char *address, int64_t *id_r, char **hash_r);

/* source is "user@domain" or "@domain" (catch-all); target is any address. */
int store_alias_add(struct store *s, const char *source, const char *target);
/* target NULL removes every target of source. */
int store_alias_remove(struct store *s, const char *source, const char *target);
typedef void store_alias_fn(void *ctx, const char *source, const char *target);
int store_alias_list(struct store *s, const char *domain, store_alias_fn *fn, void *ctx);

/* ---- recipients -------------------------------------------------------- */
enum store_rcpt_status {
	STORE_RCPT_OK,		/* targets filled */
	STORE_RCPT_NOT_LOCAL,	/* domain is not ours */
	STORE_RCPT_UNKNOWN,	/* our domain, no such user or alias */
	STORE_RCPT_LOOP,	/* aliases nest too deep or expand too wide */
	STORE_RCPT_ERROR,	/* database error */
};

struct store_rcpt_local {
	int64_t account_id;
};

struct store_expansion {
	int64_t *accounts;	/* owned; distinct account ids */
	size_t n_accounts;
	char **remote;		/* owned; distinct remote addresses */
	size_t n_remote;
};

/* Resolves address (RFC 5321 mailbox, already parsed) through aliases,
 * plus-addressing (user+tag@domain -> user@domain) and catch-alls.
 * Appends targets to exp, skipping duplicates. */
enum store_rcpt_status store_resolve(struct store *s, const char *address,
				     struct store_expansion *exp);
void store_expansion_free(struct store_expansion *exp);

/* ---- messages ---------------------------------------------------------- */
struct store_blob {
	uint8_t hash[STORE_HASH_LEN];
	uint64_t size;
	const char *data;	/* borrowed: inline contents, or NULL when */
	const char *file;	/* borrowed: ...the message is this file under
				   data_dir/blobs/, made durable already */
	bool file_unused_r;	/* out: an identical blob existed, so file is
				   not referenced and should be unlinked */
};

struct store_delivery_rcpt {
	int64_t account_id;
	const char *prefix;	/* borrowed: per-recipient header lines */
	size_t prefix_len;
	uint32_t uid_r;		/* out: UID given in INBOX */
};

struct store_delivery {
	const char *queue_id;	/* borrowed */
	const char *sender;	/* borrowed: envelope sender, "" for <> */
	int64_t received;
	struct store_blob blob;
	struct store_delivery_rcpt *rcpts;	/* borrowed */
	size_t n_rcpts;
	const char *const *remote;	/* borrowed: queued for relay */
	size_t n_remote;
	bool smtputf8;		/* remote rows need SMTPUTF8 (RFC 6531) */
	bool eightbit;		/* BODY=8BITMIME was declared (RFC 6152) */
};

/* Inserts the blob (or adds references to an identical one) and a message
 * row in each recipient's INBOX, and queue rows for remote recipients.
 * Call inside a transaction; durability comes from its commit. */
int store_deliver(struct store *s, struct store_delivery *d);

/* Makes a spool file durable as a blob file for hash: fsync, rename into
 * data_dir/blobs/, fsync of the directory. Sets *file_r to its allocated
 * name relative to data_dir/blobs/. Thread-safe (touches only files). */
int store_blob_file_commit(const char *data_dir, const char *tmp_path,
			   const uint8_t hash[STORE_HASH_LEN], char **file_r, char **error_r);
/* Full path of a blob file name (allocated). */
char *store_blob_file_path(const char *data_dir, const char *file);
/* Removes spool files left in data_dir/tmp by a crash (none of them was
 * acknowledged). Call at startup, before accepting. Returns the count. */
int store_spool_sweep(const char *data_dir);
/* A new unique spool path under data_dir/tmp (allocated). */
char *store_spool_path(const char *data_dir, const char *queue_id);

struct store_message {
	int64_t id;
	uint32_t uid;
	uint64_t size;		/* prefix + blob, in octets as stored (CRLF) */
};

/* Lists account's INBOX in UID order into an allocated array. */
int store_inbox_list(struct store *s, int64_t account_id, int64_t *uidvalidity_r,
		     struct store_message **msgs_r, size_t *n_r);

struct store_message_body {
	char *prefix;		/* owned */
	size_t prefix_len;
	char *data;		/* owned: inline blob, or NULL */
	size_t data_len;
	char *path;		/* owned: blob file, or NULL */
};

/* Loads message id's prefix and its inline data or blob path. */
int store_message_body(struct store *s, int64_t id, struct store_message_body *body_r);
void store_message_body_free(struct store_message_body *body);

/* Deletes messages (all must belong to account_id) and drops blob
 * references; blob files that lose their last reference are appended to
 * *unlink_r (allocated paths) to be removed after the commit. */
int store_messages_delete(struct store *s, int64_t account_id, const int64_t *ids, size_t n,
			  char ***unlink_r, size_t *n_unlink_r);

/* ---- outbound queue ---------------------------------------------------
 * One row per remote recipient, written by store_deliver(); each holds a
 * reference on its blob. A row is finished with store_queue_remove()
 * (delivered, bounced or dropped), which drops that reference. */
struct store_queue_row {
	int64_t id;
	char *queue_id;		/* owned */
	char *sender;		/* owned; "" for the null sender */
	char *recipient;	/* owned */
	char *last_error;	/* owned, or NULL */
	int64_t blob_id;
	uint64_t size;		/* of the blob */
	int64_t created, next_attempt, last_attempt;
	int64_t attempts;
	bool held, warned, smtputf8, eightbit;
};

void store_queue_rows_free(struct store_queue_row **rows, size_t n);
/* Rows due (next_attempt <= now, not held), those due longest first, at
 * most limit of them. */
int store_queue_due(struct store *s, int64_t now, size_t limit, struct store_queue_row **rows_r,
		    size_t *n_r);
/* Every row (queue_id NULL) or one message's rows, for `tern queue`. */
int store_queue_list(struct store *s, const char *queue_id, struct store_queue_row **rows_r,
		     size_t *n_r);
/* Sets *when_r to the earliest next_attempt of a row not held. Returns 1,
 * 0 when no such row exists, or -1. */
int store_queue_next_due(struct store *s, int64_t *when_r);
/* The blob's inline data or file path (prefix is left NULL). */
int store_queue_blob(struct store *s, int64_t blob_id, struct store_message_body *body_r);
/* Deletes a row and drops its blob reference (a row already gone is not
 * an error); blob files left without references are appended to
 * *unlink_r, to be removed after the commit. Inside a transaction. */
int store_queue_remove(struct store *s, int64_t id, char ***unlink_r, size_t *n_unlink_r);
/* Records a failed attempt: attempts + 1, the error, the next attempt. */
int store_queue_defer(struct store *s, int64_t id, int64_t now, int64_t next_attempt,
		      const char *error);
int store_queue_set_warned(struct store *s, int64_t id);
/* Admin calls on one message's rows (queue_id NULL: every row). Each
 * returns the number of rows changed, or -1. retry makes rows due at now;
 * delete runs in a transaction of its own and unlinks orphaned blobs. */
int store_queue_set_held(struct store *s, const char *queue_id, bool held);
int store_queue_retry(struct store *s, const char *queue_id, int64_t now);
int store_queue_delete(struct store *s, const char *queue_id);

/* ---- status ------------------------------------------------------------ */
struct store_stats {
	int64_t domains, accounts, aliases, messages, blobs, queued;
};
int store_stats(struct store *s, struct store_stats *st);

#endif
