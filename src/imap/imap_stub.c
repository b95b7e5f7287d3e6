/* TEMPORARY (branch imap only): commands not written yet. */
#include "imap/imap_session.h"

void imap_cmd_fetch(struct imap_session *s, struct imap_cursor *cur) { imap_done(s, "NO", "not yet"); }
void imap_cmd_append(struct imap_session *s, struct imap_cursor *cur) { imap_done(s, "NO", "not yet"); }
