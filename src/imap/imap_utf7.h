/*
 * Modified UTF-7 (RFC 3501 5.1.3), the mailbox name encoding of IMAP
 * clients that have not enabled UTF8=ACCEPT (RFC 9051 5.1 keeps it for
 * them). Both directions validate strictly and produce canonical output,
 * so decode(encode(x)) == x and encode(decode(y)) == y for every accepted
 * input: printable ASCII is never base64-encoded, "&" is "&-", runs are
 * maximal (no "-&" between two encoded runs), padding bits are zero,
 * surrogates come in pairs, and U+0000 is refused.
 */
#ifndef TERN_IMAP_UTF7_H
#define TERN_IMAP_UTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Appends the UTF-8 form of mUTF-7 s. Returns 0, or -1 with *error_r
 * (out may hold a partial result) on invalid input or a full out. */
int imap_utf7_to_utf8(const char *s, size_t len, struct buf *out, const char **error_r);

/* Appends the mUTF-7 form of UTF-8 s; -1 on invalid UTF-8 or a full out. */
int imap_utf8_to_utf7(const char *s, size_t len, struct buf *out, const char **error_r);

/* True if s is canonical modified UTF-7. */
bool imap_utf7_valid(const char *s, size_t len);

#endif
