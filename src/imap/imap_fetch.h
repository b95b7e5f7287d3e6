/*
 * FETCH attributes (RFC 9051 6.4.5 and 9 fetch-att, with RFC 3501's
 * RFC822.* items, RFC 3516 BINARY[...] / BINARY.SIZE[...] and RFC 7162
 * MODSEQ) and the FETCH modifiers of RFC 7162 (CHANGEDSINCE, VANISHED).
 * The parser validates section specs against the grammar (part numbers,
 * HEADER, HEADER.FIELDS[.NOT] (list), TEXT, MIME only after a part) and
 * expands the ALL/FAST/FULL macros, so the session just iterates items.
 */
#ifndef TERN_IMAP_FETCH_H
#define TERN_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "imap/imap_parse.h"

enum imap_fetch_att {
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822,		/* = BODY[], sets \Seen */
	IMAP_FETCH_RFC822_HEADER,	/* = BODY.PEEK[HEADER] */
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_RFC822_TEXT,		/* = BODY[TEXT], sets \Seen */
	IMAP_FETCH_BODY,		/* BODYSTRUCTURE without extension data */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_UID,
	IMAP_FETCH_MODSEQ,		/* RFC 7162 3.1.4.1 */
	IMAP_FETCH_BODY_SECTION,	/* BODY[...] and BODY.PEEK[...] */
	IMAP_FETCH_BINARY,		/* BINARY[...] and BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,		/* BINARY.SIZE[...] */
};

enum imap_section_text {
	IMAP_SECTION_ALL,		/* no text part: the whole (sub)message */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,		/* only after a part number */
};

/* Deeper part paths are refused; MIME nesting is bounded far below. */
#define IMAP_SECTION_PARTS_MAX 32

struct imap_header_name {
	const char *name;		/* borrowed from the command */
	size_t len;
};

struct imap_section {
	uint32_t part[IMAP_SECTION_PARTS_MAX];	/* "1.2.3": nz-numbers */
	unsigned nparts;
	enum imap_section_text text;
	struct imap_header_name *fields;	/* owned array; HEADER_FIELDS[_NOT] */
	unsigned nfields;
};

struct imap_fetch_item {
	enum imap_fetch_att att;
	bool peek;			/* BODY.PEEK / BINARY.PEEK: no \Seen */
	struct imap_section section;	/* BODY_SECTION, BINARY, BINARY_SIZE */
	bool partial;			/* <offset.count> */
	uint64_t offset;
	uint64_t count;			/* > 0 */
};

struct imap_fetch {
	struct imap_fetch_item *items;	/* owned */
	unsigned count;
	bool changedsince;		/* CHANGEDSINCE given */
	uint64_t changedsince_modseq;
	bool vanished;			/* VANISHED (UID FETCH only) */
};

/* Parses "fetch-att-or-macro [modifiers]" from cur (after the sequence
 * set) to the end of the command. uid: the command is UID FETCH (VANISHED
 * needs it, RFC 7162 3.2.6). Returns 0, or -1 with the BAD text in
 * cur->error; f is then empty. Release with imap_fetch_deinit(). */
int imap_fetch_parse(struct imap_cursor *cur, bool uid, struct imap_fetch *f);
void imap_fetch_deinit(struct imap_fetch *f);

/* Parses the inside of a section token (the children of an
 * IMAP_ARG_SECTION). binary: BINARY's grammar (part numbers only). */
int imap_section_parse(const struct imap_arg *section_arg, bool binary, struct imap_section *s,
		       const char **error_r);

/* Appends the name the response uses for item (RFC 9051 7.5.2): "FLAGS",
 * "BODY[1.HEADER.FIELDS (From To)]<0>" (PEEK dropped, only the origin of a
 * partial), "BINARY.SIZE[2]". Returns -1 if out is full. */
int imap_fetch_item_name(const struct imap_fetch_item *item, struct buf *out);

#endif
