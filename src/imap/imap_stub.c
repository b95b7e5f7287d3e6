/* TEMPORARY (branch imap only): commands not written yet. */
#include "imap/imap_session.h"

void imap_cmd_search(struct imap_session *s, struct imap_cursor *cur) { imap_done(s, "NO", "not yet"); }
void imap_cmd_sort(struct imap_session *s, struct imap_cursor *cur) { imap_done(s, "NO", "not yet"); }
void imap_cmd_thread(struct imap_session *s, struct imap_cursor *cur) { imap_done(s, "NO", "not yet"); }
