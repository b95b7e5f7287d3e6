/*
 * Small helpers every module uses: allocation that never returns NULL,
 * fatal() for startup errors and broken invariants, monotonic and wall
 * clocks, and secure random identifiers.
 */
#ifndef TERN_CORE_UTIL_H
#define TERN_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation helpers: abort with a message instead of returning NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string (owned by the caller). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs at error level and exits(1). For startup and broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Milliseconds from a monotonic clock. */
uint64_t time_mono_ms(void);
/* Microseconds from the same clock. */
uint64_t time_mono_us(void);
/* Seconds since the epoch. */
int64_t time_now(void);

/* Fills out with `len` lowercase base32-ish characters from the CSPRNG,
 * then a NUL; out must hold len + 1 bytes. Used for session and queue ids. */
void random_id(char *out, size_t len);

/* Case-insensitive ASCII comparison of a length-counted string to a C string. */
bool mem_equal_ci(const char *a, size_t alen, const char *b);

/* Parses a decimal unsigned number that must fill [s, s+len) exactly and
 * not exceed max. Returns 0 or -1. No sign, no spaces, no overflow. */
int parse_uint(const char *s, size_t len, uint64_t max, uint64_t *value_r);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int write_full(int fd, const void *buf, size_t len);
/* fsync()s the directory that holds path (after a rename or create). */
int fsync_parent_dir(const char *path);

#endif
