/*
 * Case-insensitive comparison of UTF-8 text for IMAP SEARCH substrings
 * and the RFC 5256 SORT/THREAD subject and address keys. It approximates
 * the i;unicode-casemap collation (RFC 5051) with simple case folding of
 * ASCII, Latin-1, Latin Extended-A and Additional, Greek and Cyrillic;
 * other characters compare exactly. Pure: no locale, no globals, so a
 * daemon's results do not depend on its environment.
 */
#ifndef TERN_MAIL_CASEMAP_H
#define TERN_MAIL_CASEMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..len) case-folded. Invalid UTF-8 bytes are copied as they
 * are. Returns 0, or -1 if out is full. */
int mail_casefold(const char *s, size_t len, struct buf *out);
/* True if needle occurs in hay, ignoring case as mail_casefold() does.
 * An empty needle occurs everywhere. */
bool mail_casefold_contains(const char *hay, size_t hay_len, const char *needle,
			    size_t needle_len);

#endif
