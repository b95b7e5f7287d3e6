/*
 * A message being received. Its bytes are hashed (SHA-256) as they stream
 * in and kept in memory while the message is small (at most inline_max,
 * stored inside the database); past that they spill to a file in
 * data_dir/tmp/ that store_blob_file_commit() later makes durable.
 */
#ifndef TERN_STORE_SPOOL_H
#define TERN_STORE_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

struct evp_md_ctx_st;

struct spool {
	const char *data_dir;	/* borrowed */
	char queue_id[16];
	uint64_t inline_max;
	struct buf mem;		/* contents while small */
	int fd;			/* spill file, or -1 */
	char *path;		/* owned: spill file path, or NULL */
	uint64_t size;
	struct evp_md_ctx_st *sha;	/* owned */
	uint8_t hash[STORE_HASH_LEN];
	int write_errno;	/* first write error, 0 if none */
};

void spool_init(struct spool *sp, const char *data_dir, const char *queue_id, uint64_t inline_max);
/* Appends; returns -1 after a write error (see write_errno). */
int spool_write(struct spool *sp, const char *data, size_t len);
/* Ends the message: finishes the hash and closes the spill file. */
int spool_finish(struct spool *sp);
/* True when the message lives in a spill file rather than in memory. */
bool spool_is_file(const struct spool *sp);
/* Removes the spill file (if any) and frees everything. */
void spool_discard(struct spool *sp);

#endif
