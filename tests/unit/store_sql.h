/*
 * Direct reads and writes of a test store's tern.db, beside the store
 * API (for checks, and for setting up old schemas). Include after
 * cmocka.h and sqlite3.h.
 */
#ifndef TERN_TESTS_STORE_SQL_H
#define TERN_TESTS_STORE_SQL_H

#include <stdint.h>
#include <stdio.h>

/* The first column of sql's first row as an integer; -1 without a row. */
static inline int64_t sql_int(const char *dir, const char *sql)
{
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	snprintf(path, sizeof(path), "%s/tern.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Runs sql (any number of statements); fails the test on an error. */
static inline void sql_exec(const char *dir, const char *sql)
{
	char path[128];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/tern.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

#endif
