/*
 * The small IMAP grammars command handlers share: flags and flag lists
 * (RFC 9051 2.3.2), the STORE action with RFC 7162 UNCHANGEDSINCE, dates
 * and date-times (SEARCH and APPEND, INTERNALDATE output), STATUS items
 * (RFC 9051 6.3.11, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE is not here),
 * the LIST command with RFC 5258 LIST-EXTENDED selection and return
 * options (RFC 6154 SPECIAL-USE, RFC 5819 STATUS), LIST pattern matching,
 * and the writer that turns bytes into an atom, quoted string or literal.
 */
#ifndef TERN_IMAP_GRAMMAR_H
#define TERN_IMAP_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "imap/imap_parse.h"

struct imap_string {
	const char *data;	/* borrowed from the command */
	size_t len;
};

/* ---- flags ---------------------------------------------------------------- */

#define IMAP_FLAG_ANSWERED	(1u << 0)
#define IMAP_FLAG_FLAGGED	(1u << 1)
#define IMAP_FLAG_DELETED	(1u << 2)
#define IMAP_FLAG_SEEN		(1u << 3)
#define IMAP_FLAG_DRAFT		(1u << 4)
#define IMAP_FLAG_RECENT	(1u << 5)	/* output only (RFC 3501) */

struct imap_flags {
	unsigned system;		/* IMAP_FLAG_* */
	struct imap_string *keywords;	/* owned array of borrowed names */
	unsigned nkeywords;		/* duplicates removed, ignoring case */
};

/* One flag: a system flag (case-insensitive, \Recent refused: clients
 * cannot set it) gives *system_r, a keyword (an atom of ATOM-CHARs, no
 * "\") gives *system_r = 0. "\Unknown" extension flags are refused. */
int imap_flag_parse(const char *s, size_t len, unsigned *system_r, const char **error_r);

/* flag-list = "(" [flag *(SP flag)] ")". At most max_keywords keywords.
 * Returns 0 or -1 (cur->error). Release with imap_flags_deinit(). */
int imap_arg_flag_list(struct imap_cursor *cur, unsigned max_keywords, struct imap_flags *f);
void imap_flags_deinit(struct imap_flags *f);

/* Appends "(\Answered \Seen kw1 kw2)" (keywords as given). */
int imap_flags_write(struct buf *out, unsigned system, const struct imap_string *keywords,
		     unsigned nkeywords);

/* ---- STORE ------------------------------------------------------------------ */

enum imap_store_mode {
	IMAP_STORE_REPLACE,	/* FLAGS */
	IMAP_STORE_ADD,		/* +FLAGS */
	IMAP_STORE_REMOVE,	/* -FLAGS */
};

struct imap_store {
	bool unchangedsince;	/* (UNCHANGEDSINCE n) was given */
	uint64_t unchangedsince_modseq;
	enum imap_store_mode mode;
	bool silent;		/* .SILENT */
	struct imap_flags flags;
};

/* Parses "[(UNCHANGEDSINCE n)] [+-]FLAGS[.SILENT] (flag-list / flag
 * *(SP flag))" from cur (after the sequence set) to the end of the
 * command. Returns 0 or -1 (cur->error). Release with
 * imap_store_deinit(). */
int imap_store_parse(struct imap_cursor *cur, unsigned max_keywords, struct imap_store *st);
void imap_store_deinit(struct imap_store *st);

/* ---- dates ------------------------------------------------------------------- */

/* date = date-text / DQUOTE date-text DQUOTE; date-text = "d-Mon-yyyy" or
 * "dd-Mon-yyyy" (month case-insensitive). Gives the start of that day in
 * UTC seconds; the session shifts it for its timezone (RFC 9051 6.4.4
 * compares dates disregarding time and timezone). */
int imap_date_parse(const char *s, size_t len, int64_t *time_r);
/* Cursor form: an atom or a quoted string. */
int imap_arg_date(struct imap_cursor *cur, int64_t *time_r);

/* date-time = "dd-Mon-yyyy hh:mm:ss +zzzz" (the day may be " d"), without
 * the quotes. Gives UTC seconds and the zone in minutes east of UTC. */
int imap_datetime_parse(const char *s, size_t len, int64_t *time_r, int *zone_minutes_r);
/* Appends "\"dd-Mon-yyyy hh:mm:ss +zzzz\"" (quoted, as INTERNALDATE) for
 * UTC time t shown in the given zone. -1 if out is full or t is absurd. */
int imap_datetime_write(struct buf *out, int64_t t, int zone_minutes);

/* ---- STATUS items ------------------------------------------------------------ */

#define IMAP_STATUS_MESSAGES		(1u << 0)
#define IMAP_STATUS_UIDNEXT		(1u << 1)
#define IMAP_STATUS_UIDVALIDITY		(1u << 2)
#define IMAP_STATUS_UNSEEN		(1u << 3)
#define IMAP_STATUS_DELETED		(1u << 4)	/* RFC 9051 */
#define IMAP_STATUS_SIZE		(1u << 5)	/* RFC 9051 */
#define IMAP_STATUS_RECENT		(1u << 6)	/* RFC 3501 */
#define IMAP_STATUS_HIGHESTMODSEQ	(1u << 7)	/* RFC 7162 */
#define IMAP_STATUS_APPENDLIMIT		(1u << 8)	/* RFC 7889 */

/* "(" status-att *(SP status-att) ")"; non-empty. */
int imap_arg_status_items(struct imap_cursor *cur, unsigned *items_r);

/* ---- LIST ------------------------------------------------------------------- */

#define IMAP_LIST_SEL_SUBSCRIBED	(1u << 0)
#define IMAP_LIST_SEL_REMOTE		(1u << 1)
#define IMAP_LIST_SEL_RECURSIVEMATCH	(1u << 2)
#define IMAP_LIST_SEL_SPECIAL_USE	(1u << 3)	/* RFC 6154 */

#define IMAP_LIST_RET_SUBSCRIBED	(1u << 0)
#define IMAP_LIST_RET_CHILDREN		(1u << 1)
#define IMAP_LIST_RET_SPECIAL_USE	(1u << 2)	/* RFC 6154 */
#define IMAP_LIST_RET_STATUS		(1u << 3)	/* RFC 5819 */

struct imap_list_cmd {
	bool extended;			/* selection options, a pattern list
					 * or RETURN were used (RFC 5258 3) */
	unsigned select;		/* IMAP_LIST_SEL_* */
	struct imap_string reference;
	struct imap_string *patterns;	/* owned array, at least one */
	unsigned npatterns;
	unsigned ret;			/* IMAP_LIST_RET_* */
	unsigned status_items;		/* with IMAP_LIST_RET_STATUS */
};

/* Parses the arguments of LIST to the end of the command. Enforces RFC
 * 5258 3.1: RECURSIVEMATCH needs another selection option. Mailbox names
 * and patterns stay in their wire form (modified UTF-7 unless UTF8=ACCEPT).
 * Returns 0 or -1 (cur->error). Release with imap_list_cmd_deinit(). */
int imap_list_parse(struct imap_cursor *cur, struct imap_list_cmd *l);
void imap_list_cmd_deinit(struct imap_list_cmd *l);

/* list-mailbox = 1*list-char / string: an astring that may hold "%" and
 * "*". */
int imap_arg_list_mailbox(struct imap_cursor *cur, const char **s_r, size_t *len_r);

/* RFC 9051 6.3.9: "*" matches anything, "%" anything but the hierarchy
 * delimiter. Exact bytes otherwise (the session canonicalizes INBOX).
 * O(pattern * name) time, no backtracking blow-up. */
bool imap_list_match(const char *pattern, size_t plen, const char *name, size_t nlen,
		     char delimiter);

/* ---- writing strings -------------------------------------------------------------- */

/* All append to out and return 0, or -1 if out is full (out may then hold
 * a partial write). utf8: UTF8=ACCEPT is enabled (RFC 9051 / RFC 6855),
 * so valid UTF-8 may be sent quoted; otherwise 8-bit goes as a literal.
 * Bytes that no string may carry (NUL) go out as a literal too; callers
 * must not send them except as literal8 (imap_write_literal binary). */

/* Quoted if it can be (no CR, LF, NUL; 8-bit only as valid UTF-8 with
 * utf8), else a literal. */
int imap_write_string(struct buf *out, const char *s, size_t len, bool utf8);
/* An atom when every byte is an ASTRING-CHAR and it is not "NIL". */
int imap_write_astring(struct buf *out, const char *s, size_t len, bool utf8);
/* NIL for s == NULL. */
int imap_write_nstring(struct buf *out, const char *s, size_t len, bool utf8);
/* Always quoted; -1 if s cannot be (see imap_write_string). */
int imap_write_quoted(struct buf *out, const char *s, size_t len, bool utf8);
/* "{n}\r\n" + bytes, or "~{n}\r\n" + bytes with binary (RFC 3516). */
int imap_write_literal(struct buf *out, const char *s, size_t len, bool binary);

/* RFC 3629 UTF-8: no overlongs, surrogates or code points > U+10FFFF. */
bool imap_utf8_valid(const char *s, size_t len);

#endif
