/*
 * Blob files and spool files. A message larger than inline_max is received
 * into data_dir/tmp/, then made durable here before its rows are committed:
 * fsync the file, rename it into data_dir/blobs/ab/, fsync that directory.
 * Only after that may the commit that references it happen, and only after
 * the commit may the client hear "250".
 */
#include "store/store_internal.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void hash_hex(const uint8_t hash[STORE_HASH_LEN], char out[2 * STORE_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < STORE_HASH_LEN; i++) {
		out[2 * i] = hex[hash[i] >> 4];
		out[2 * i + 1] = hex[hash[i] & 15];
	}
	out[2 * STORE_HASH_LEN] = '\0';
}

char *store_blob_file_path(const char *data_dir, const char *file)
{
	return xasprintf("%s/blobs/%s", data_dir, file);
}

char *store_spool_path(const char *data_dir, const char *queue_id)
{
	char token[9];

	random_id(token, 8);
	return xasprintf("%s/tmp/%s.%s", data_dir, queue_id, token);
}

int store_spool_sweep(const char *data_dir)
{
	char *dir = xasprintf("%s/tmp", data_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) == 0)
				n++;
		}
		closedir(d);
	}
	free(dir);
	return n;
}

/* mkdir that tolerates an existing directory and makes a new one durable. */
static int mkdir_durable(const char *path)
{
	if (mkdir(path, 0700) == 0)
		return fsync_parent_dir(path);
	return errno == EEXIST ? 0 : -1;
}

int store_blob_file_commit(const char *data_dir, const char *tmp_path,
			   const uint8_t hash[STORE_HASH_LEN], char **file_r, char **error_r)
{
	char hex[2 * STORE_HASH_LEN + 1], token[7], *dir, *file, *path;
	int fd, ret = -1;

	hash_hex(hash, hex);
	random_id(token, 6);
	fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		*error_r = xasprintf("fsync %s: %s", tmp_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	dir = xasprintf("%s/blobs/%.2s", data_dir, hex);
	file = xasprintf("%.2s/%s.%s", hex, hex, token);
	path = store_blob_file_path(data_dir, file);
	if (mkdir_durable(dir) < 0)
		*error_r = xasprintf("mkdir %s: %s", dir, strerror(errno));
	else if (rename(tmp_path, path) < 0)
		*error_r = xasprintf("rename %s: %s", tmp_path, strerror(errno));
	else if (fsync_parent_dir(path) < 0)
		*error_r = xasprintf("fsync %s: %s", dir, strerror(errno));
	else
		ret = 0;
	if (ret == 0) {
		*file_r = file;
		file = NULL;
	}
	free(dir);
	free(file);
	free(path);
	return ret;
}
