/*
 * Spooling of incoming messages; see spool.h.
 */
#include "store/spool.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void spool_init(struct spool *sp, const char *data_dir, const char *queue_id, uint64_t inline_max)
{
	memset(sp, 0, sizeof(*sp));
	sp->data_dir = data_dir;
	snprintf(sp->queue_id, sizeof(sp->queue_id), "%s", queue_id);
	sp->inline_max = inline_max;
	buf_init(&sp->mem, 0);
	sp->fd = -1;
	sp->sha = EVP_MD_CTX_new();
	if (sp->sha == NULL || EVP_DigestInit_ex(sp->sha, EVP_sha256(), NULL) != 1)
		fatal("cannot initialize SHA-256");
}

/* Moves what is in memory to a new spill file. */
static int spool_spill(struct spool *sp)
{
	sp->path = store_spool_path(sp->data_dir, sp->queue_id);
	sp->fd = open(sp->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		sp->write_errno = errno;
		log_error("queue=%s spool_open=%s error=\"%s\"", sp->queue_id, sp->path, strerror(errno));
		free(sp->path);
		sp->path = NULL;
		return -1;
	}
	if (write_full(sp->fd, sp->mem.data, sp->mem.len) < 0) {
		sp->write_errno = errno;
		return -1;
	}
	buf_deinit(&sp->mem);
	return 0;
}

int spool_write(struct spool *sp, const char *data, size_t len)
{
	if (sp->write_errno != 0)
		return -1;
	EVP_DigestUpdate(sp->sha, data, len);
	sp->size += len;
	if (sp->fd < 0 && sp->size <= sp->inline_max)
		return buf_append(&sp->mem, data, len);
	if (sp->fd < 0 && spool_spill(sp) < 0)
		return -1;
	if (write_full(sp->fd, data, len) < 0) {
		sp->write_errno = errno;
		log_error("queue=%s spool_write error=\"%s\"", sp->queue_id, strerror(errno));
		return -1;
	}
	return 0;
}

int spool_finish(struct spool *sp)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(sp->sha, sp->hash, &n) != 1 || n != STORE_HASH_LEN)
		fatal("SHA-256 failed");
	if (sp->fd >= 0) {
		if (close(sp->fd) < 0 && sp->write_errno == 0)
			sp->write_errno = errno;
		sp->fd = -1;
	}
	return sp->write_errno != 0 ? -1 : 0;
}

bool spool_is_file(const struct spool *sp)
{
	return sp->path != NULL;
}

void spool_discard(struct spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->path != NULL)
		unlink(sp->path);
	free(sp->path);
	buf_deinit(&sp->mem);
	EVP_MD_CTX_free(sp->sha);
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
}
