/*
 * struct buf: the one growable byte buffer. It holds any bytes (wire data is
 * length-counted, never NUL-trusted) and refuses to grow past `max`, so a
 * reader that appends client data cannot be made to allocate without bound.
 * data is always NUL-terminated after len for convenience, but that NUL is
 * not part of the contents.
 */
#ifndef TERN_CORE_BUF_H
#define TERN_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* hard limit on len; 0 means SIZE_MAX */
};

void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buf can be reused after buf_init(). */
void buf_deinit(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Appends; returns -1 (and appends nothing) if len would pass max. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);

/* Returns the contents as a NUL-terminated string (never NULL). Borrowed:
 * valid until the next change to b. */
const char *buf_cstr(struct buf *b);

/* Moves the contents out: the caller owns the returned string (NUL-ended,
 * never NULL), and b is left empty. */
char *buf_steal(struct buf *b, size_t *len_r);

#endif
