/*
 * Logging: one line per event, "session=<id> event key=value ...", to
 * stderr (and so to the journal or the terminal). Never pass credentials or
 * AUTH data; pass client bytes through log_escape() first.
 */
#ifndef TERN_CORE_LOG_H
#define TERN_CORE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int log_parse_level(const char *s, enum log_level *level_r);
/* Prefixes every line with this program name (default "tern"). */
void log_set_ident(const char *ident);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define LOG_ESCAPE_MAX 256
/* Writes a printable, quoted-safe rendering of the len bytes at s into out
 * (LOG_ESCAPE_MAX bytes): control and non-ASCII bytes and '"' '\' become
 * \xNN, and long input is cut with "...". Returns out. */
const char *log_escape(char out[LOG_ESCAPE_MAX], const char *s, size_t len);

#endif
