/* TEMPORARY (branch imap only): commands not written yet. */
#include "imap/imap_session.h"
