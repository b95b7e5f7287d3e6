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
#define STORE_SCHEMA_VERSION 8
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
/* A read transaction around several reads on the loop's connection: they
 * see one snapshot, and SQLite keeps its page cache between them (each
 * statement on its own starts a read that drops the cache whenever the
 * committer has committed since). Nests; never hold one across a wait. */
void store_read_begin(struct store *s);
void store_read_end(struct store *s);
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

/* May account_id use address as a sender (MAIL FROM, From:)? Yes when it
 * is the account's own address (or that with a "+tag"), or when it
 * resolves to the account: an alias pointing to it (directly or nested)
 * or the domain's catch-all when that targets it. Returns 1 (owned),
 * 0 (not), -1 on a database error. */
int store_account_owns_address(struct store *s, int64_t account_id, const char *address);

/* ---- messages ---------------------------------------------------------- */
/* What IMAP needs of a message's contents, computed once when its blob is
 * stored (mail/mime.h makes it). All strings borrowed; NULL when absent. */
struct store_blob_meta {
	const char *envelope;		/* IMAP ENVELOPE, ready to send */
	const char *bodystructure;	/* IMAP BODYSTRUCTURE */
	const char *body;		/* IMAP BODY (non-extensible) */
	int64_t sent_date;		/* Date: header; -1 when absent or bad */
	const char *base_subject;	/* RFC 5256 2.1 */
	const char *sort_from, *sort_to, *sort_cc;	/* RFC 5256 addr-mailbox */
	const char *message_id;
	const char *thread_refs;	/* ids from References/In-Reply-To */
};

struct store_blob {
	uint8_t hash[STORE_HASH_LEN];
	uint64_t size;
	const char *data;	/* borrowed: inline contents, or NULL when */
	const char *file;	/* borrowed: ...the message is this file under
				   data_dir/blobs/, made durable already */
	bool file_unused_r;	/* out: an identical blob existed, so file is
				   not referenced and should be unlinked */
	const struct store_blob_meta *meta;	/* borrowed, or NULL */
};

struct store_delivery_rcpt {
	int64_t account_id;
	int64_t mailbox_id;	/* 0: the account's INBOX */
	uint32_t flags;		/* STORE_FLAG_* (APPEND) */
	uint64_t keywords;	/* mask over the mailbox's keywords (APPEND) */
	const char *prefix;	/* borrowed: per-recipient header lines */
	size_t prefix_len;
	uint32_t uid_r;		/* out: UID given in the mailbox */
	int64_t mailbox_id_r;	/* out: the mailbox it went into */
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
 * *unlink_r (allocated paths) to be removed after the commit. Each
 * mailbox touched gets a new MODSEQ and the UIDs are recorded as expunged
 * (IMAP sessions and QRESYNC learn of them). */
int store_messages_delete(struct store *s, int64_t account_id, const int64_t *ids, size_t n,
			  char ***unlink_r, size_t *n_unlink_r);

/* ---- mailboxes (IMAP) ----------------------------------------------------
 * Names are UTF-8 with '/' as the hierarchy delimiter; "INBOX" is always
 * spelled so. Callers check the name's syntax; the store checks existence. */
#define STORE_FLAG_SEEN		(1u << 0)
#define STORE_FLAG_ANSWERED	(1u << 1)
#define STORE_FLAG_FLAGGED	(1u << 2)
#define STORE_FLAG_DELETED	(1u << 3)
#define STORE_FLAG_DRAFT	(1u << 4)
#define STORE_FLAGS_ALL		0x1fu
/* A message's keywords are a 64-bit mask over its mailbox's list. */
#define STORE_KEYWORDS_MAX	64

struct store_mailbox {
	int64_t id;
	char *name;		/* owned */
	char *special_use;	/* owned: "\Sent" etc., or NULL */
	char *keywords;		/* owned: space-separated, in bit order */
	bool subscribed;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t recent_uid;	/* UIDs above it are \Recent for the next SELECT */
};
void store_mailbox_deinit(struct store_mailbox *mb);

typedef void store_mailbox_fn(void *ctx, const struct store_mailbox *mb);
/* Calls fn for each of the account's mailboxes, ordered by name. */
int store_mailbox_list(struct store *s, int64_t account_id, store_mailbox_fn *fn, void *ctx);
/* Returns 1 and fills mb_r (deinit it), 0 if there is none, -1 on error.
 * "INBOX" matches case-insensitively (RFC 9051 5.1). */
int store_mailbox_get(struct store *s, int64_t account_id, const char *name,
		      struct store_mailbox *mb_r);
/* Creates name (and the missing parents of a/b/c, RFC 9051 6.3.4).
 * Fails with a message when it exists. */
int store_mailbox_create(struct store *s, int64_t account_id, const char *name,
			 const char *special_use, int64_t *id_r);
/* Deletes the mailbox and its messages (not its children, RFC 9051
 * 6.3.5); INBOX cannot be deleted. Blob files to unlink as for
 * store_messages_delete. */
int store_mailbox_delete(struct store *s, int64_t account_id, const char *name,
			 char ***unlink_r, size_t *n_unlink_r);
/* Renames from and its children. Renaming INBOX moves its messages to a
 * new mailbox `to` and leaves INBOX empty (RFC 9051 6.3.6). */
int store_mailbox_rename(struct store *s, int64_t account_id, const char *from, const char *to);
int store_mailbox_subscribe(struct store *s, int64_t account_id, const char *name, bool on);

struct store_mailbox_counts {
	uint32_t messages, unseen, recent, deleted;
	uint64_t size;
};
int store_mailbox_counts(struct store *s, const struct store_mailbox *mb,
			 struct store_mailbox_counts *c_r);
/* Raises the mailbox's claimed \Recent mark to top (never lowers it). */
int store_mailbox_record_recent(struct store *s, int64_t mailbox_id, uint32_t top);
/* Marks the UIDs up to uidnext - 1 as seen by a session, returning the
 * previous recent_uid (the session treats UIDs above it as \Recent). */
int store_mailbox_claim_recent(struct store *s, int64_t mailbox_id, uint32_t *old_r);
/* Makes sure each keyword is in the mailbox's list (at most
 * STORE_KEYWORDS_MAX) and returns their mask. */
int store_mailbox_keywords(struct store *s, int64_t mailbox_id, const char *const *names,
			   size_t n, uint64_t *mask_r);

/* ---- a mailbox's messages (IMAP) ---------------------------------------- */
struct store_msg {
	int64_t id;
	int64_t blob_id;
	uint32_t uid;
	uint32_t flags;		/* STORE_FLAG_* */
	uint64_t keywords;
	uint64_t modseq;
	uint64_t size;
	int64_t received;	/* INTERNALDATE */
};

/* All messages of the mailbox in UID order (allocated array). */
int store_msgs_load(struct store *s, int64_t mailbox_id, struct store_msg **msgs_r, size_t *n_r);
/* Messages whose MODSEQ is above since (new or changed), in UID order. */
int store_msgs_changed(struct store *s, int64_t mailbox_id, uint64_t since,
		       struct store_msg **msgs_r, size_t *n_r);
/* UIDs expunged with a MODSEQ above since, ascending. Returns 0, or 1 when
 * the rows back to since were pruned (expunged.c): the list then lacks
 * older expunges, and the caller compares UIDs (store_msgs_uids). */
int store_msgs_expunged(struct store *s, int64_t mailbox_id, uint64_t since, uint32_t **uids_r,
			size_t *n_r);
/* Like store_msgs_expunged, for a caller holding known (ascending by UID):
 * where the rows do not reach back to since, the UIDs of known that are
 * no longer in the mailbox. Returns 0 or -1. */
int store_msgs_gone(struct store *s, int64_t mailbox_id, uint64_t since,
		    const struct store_msg *known, size_t n_known, uint32_t **gone_r, size_t *n_r);
/* The UIDs in the mailbox now, ascending (allocated). */
int store_msgs_uids(struct store *s, int64_t mailbox_id, uint32_t **uids_r, size_t *n_r);
/* Rows of expunges kept per mailbox; older ones are pruned when idle. */
#define STORE_EXPUNGED_KEEP 10000
/* Rows one prune drops per mailbox, oldest first (about 20 ms of work),
 * so a backlog from before the pruning never holds the writer long. */
#define STORE_EXPUNGED_CHUNK 20000
/* Prunes each mailbox this store expunged from since the last call
 * towards its newest keep rows, dropping at most chunk rows from each
 * (more only where one MODSEQ covers more), in one transaction. A mailbox
 * with more to drop stays for the next call. The committer runs it when
 * idle; a prune that failed or was lost in a crash is redone after the
 * mailbox's next expunge. */
int store_expunged_prune(struct store *s, unsigned keep, unsigned chunk, size_t *dropped_r);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };
struct store_flag_result {
	uint32_t uid;
	uint32_t flags;
	uint64_t keywords;
	uint64_t modseq;
	bool changed;		/* false: no change needed, or refused by unchangedsince */
	bool refused;		/* RFC 7162 3.1.3: modseq > unchangedsince */
};
/* Applies op to each uid that still exists; unchangedsince 0 means no
 * condition. results_r gets one entry per existing uid (allocated). All
 * changed messages share one new MODSEQ. */
int store_flags_update(struct store *s, int64_t mailbox_id, const uint32_t *uids, size_t n,
		       enum store_flag_op op, uint32_t flags, uint64_t keywords,
		       uint64_t unchangedsince, struct store_flag_result **results_r, size_t *n_r);
/* Expunges the uids that exist; fills the ones removed (allocated). */
int store_msgs_expunge(struct store *s, int64_t mailbox_id, const uint32_t *uids, size_t n,
		       uint32_t **expunged_r, size_t *n_expunged_r,
		       char ***unlink_r, size_t *n_unlink_r);
/* Copies (or moves) the uids that exist into dst, keeping flags, keywords
 * (by name) and INTERNALDATE. src_uids_r/dst_uids_r (allocated) pair up
 * for COPYUID (RFC 4315). */
int store_msgs_copy(struct store *s, int64_t src_mailbox, int64_t dst_mailbox,
		    const uint32_t *uids, size_t n, bool move, uint32_t **src_uids_r,
		    uint32_t **dst_uids_r, size_t *n_r, char ***unlink_r, size_t *n_unlink_r);

/* The stored IMAP metadata of a blob; strings allocated (free with
 * store_blob_meta_row_free). envelope is NULL if never computed. */
struct store_blob_meta_row {
	char *envelope, *bodystructure, *body;
	int64_t sent_date;
	char *base_subject, *sort_from, *sort_to, *sort_cc, *message_id, *thread_refs;
};
int store_blob_meta_get(struct store *s, int64_t blob_id, struct store_blob_meta_row *row_r);
/* Only envelope, bodystructure and body (what FETCH needs; cheaper). */
int store_blob_imap_get(struct store *s, int64_t blob_id, struct store_blob_meta_row *row_r);
void store_blob_meta_row_free(struct store_blob_meta_row *row);
/* Saves metadata computed later for a blob stored without it. */
int store_blob_meta_set(struct store *s, int64_t blob_id, const struct store_blob_meta *meta);

enum store_text_field { STORE_TEXT_HEADERS, STORE_TEXT_BODY, STORE_TEXT_ANY };
/* UIDs in the mailbox whose indexed text contains needle (case-insensitive
 * substring, UTF-8), ascending. Messages whose blob is still queued for
 * the index (store_text_pending) are never among them. */
int store_search_text(struct store *s, int64_t mailbox_id, enum store_text_field field,
		      const char *needle, uint32_t **uids_r, size_t *n_r);

/* ---- the full-text index, kept up to date after the commit -------------
 * (text_index.c) Storing or deleting a blob queues it; store_text_index()
 * makes the index match, on the committer thread when it is idle. */
struct buf;
/* Appends the searchable text of the message msg[0..len) to headers and
 * body (mail_index_text() is the one ternd uses). */
typedef void store_text_fn(const char *msg, size_t len, struct buf *headers, struct buf *body);
/* Indexes up to max queued blobs in one transaction, stopping early once
 * budget_us have passed (after one at least). *more_r: some may remain. */
int store_text_index(struct store *s, store_text_fn *extract, unsigned max, uint64_t budget_us,
		     bool *more_r);
/* The blob ids of mailbox_id's messages not yet in the index, ascending
 * (search reads those messages themselves). */
int store_text_pending(struct store *s, int64_t mailbox_id, int64_t **blob_ids_r, size_t *n_r);

/* ---- quota (RFC 9208) --------------------------------------------------- */
/* limit 0 means none. store_quota_get sums the account's messages (it
 * costs a scan); store_quota_limit only reads the limit. */
int store_quota_limit(struct store *s, int64_t account_id, uint64_t *limit_r);
int store_quota_get(struct store *s, int64_t account_id, uint64_t *limit_r, uint64_t *used_r,
		    uint64_t *messages_r);
int store_quota_set(struct store *s, const char *address, uint64_t limit);

/* ---- account security (src/auth/) ----------------------------------------
 * Digests are SHA-256 (STORE_HASH_LEN) of high-entropy random secrets. */
struct store_auth_info {
	int64_t id;
	char *address;		/* owned: "local@domain" as stored */
	char *hash;		/* owned: encoded password hash */
	char *totp_secret;	/* owned: base32, or NULL when two-factor is off */
	int64_t totp_last_step;
};
void store_auth_info_deinit(struct store_auth_info *info);
/* Returns 1 and fills info_r, 0 if there is no such account, -1. */
int store_auth_lookup(struct store *s, const char *address, struct store_auth_info *info_r);
int store_auth_by_id(struct store *s, int64_t account_id, struct store_auth_info *info_r);
/* Replaces the hash only if it is still old_hash (a concurrent password
 * change wins over a rehash). Returns 1 if replaced, 0 if not, -1. */
int store_password_rehash(struct store *s, int64_t account_id, const char *old_hash,
			  const char *new_hash);
int store_password_set_id(struct store *s, int64_t account_id, const char *hash);

struct store_app_hash {
	int64_t id;
	uint8_t hash[STORE_HASH_LEN];
};
/* The account's app password digests (allocated array). */
int store_app_password_hashes(struct store *s, int64_t account_id, struct store_app_hash **r,
			      size_t *n_r);
/* Fails with a message if the account already has one called name. */
int store_app_password_add(struct store *s, int64_t account_id, const char *name,
			   const uint8_t hash[STORE_HASH_LEN]);
/* Returns 1 if removed, 0 if there was none of that name, -1. */
int store_app_password_revoke(struct store *s, int64_t account_id, const char *name);
int store_app_password_used(struct store *s, int64_t id, int64_t when);
typedef void store_app_password_fn(void *ctx, const char *name, int64_t created,
				   int64_t last_used);
/* Ordered by name; last_used 0 when never. */
int store_app_password_list(struct store *s, int64_t account_id, store_app_password_fn *fn,
			    void *ctx);

/* Turns two-factor on (secret) or off (NULL; recovery codes go too). */
int store_totp_set(struct store *s, int64_t account_id, const char *secret, int64_t last_step);
/* Records step as used if it is above the last one. Returns 1 if it was
 * (the code is accepted), 0 if not (a replay), -1. Atomic: two logins
 * racing with one code cannot both get 1. */
int store_totp_use_step(struct store *s, int64_t account_id, int64_t step);
/* Replaces the account's recovery codes. */
int store_recovery_codes_set(struct store *s, int64_t account_id,
			     const uint8_t (*hashes)[STORE_HASH_LEN], size_t n);
/* Marks an unused code with that digest as used. Returns 1 if one was, 0
 * if none matches, -1. */
int store_recovery_code_use(struct store *s, int64_t account_id,
			    const uint8_t hash[STORE_HASH_LEN], int64_t when);
/* Unused recovery codes, or -1. */
int store_recovery_codes_left(struct store *s, int64_t account_id);

/* Appends to the login history, keeping the newest STORE_LOGINS_KEEP. */
#define STORE_LOGINS_KEEP 200
int store_login_record(struct store *s, int64_t account_id, int64_t when, const char *protocol,
		       const char *ip, bool success);
typedef void store_login_fn(void *ctx, int64_t when, const char *protocol, const char *ip,
			    bool success);
/* The newest limit entries, newest first. */
int store_login_history(struct store *s, int64_t account_id, unsigned limit, store_login_fn *fn,
			void *ctx);
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
