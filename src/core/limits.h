/*
 * Every limit Tern enforces, named in one place with its default and where
 * the default comes from. Config keys can override most of them (see
 * docs/configuration.md); the parsers get them through their *_limits
 * structs, never from globals.
 */
#ifndef TERN_CORE_LIMITS_H
#define TERN_CORE_LIMITS_H

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF;
 * each advertised extension that adds parameters may add to it (SIZE,
 * BODY, SMTPUTF8 add well under 512 together). */
#define SMTP_COMMAND_LINE_MAX (512 + 512)
/* RFC 5321 4.5.3.1.6 says 1000 octets per text line, but real senders go
 * beyond it; such lines are stored as sent up to this hard default. */
#define SMTP_DATA_LINE_MAX_DEFAULT (64 * 1024)
#define SMTP_MESSAGE_SIZE_DEFAULT (50ULL * 1024 * 1024)
/* RFC 5321 4.5.3.1.8: servers must accept at least 100 recipients. */
#define SMTP_RECIPIENTS_MAX_DEFAULT 1000
/* RFC 5321 4.5.3.1.1-3 */
#define SMTP_LOCAL_PART_MAX 64
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 256
/* RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for a command. */
#define SMTP_COMMAND_TIMEOUT_DEFAULT 300
/* RFC 5321 4.5.3.2.5: 3 minutes between data blocks on the client side;
 * the server waits as long. */
#define SMTP_DATA_TIMEOUT_DEFAULT 180
#define SMTP_BAD_COMMANDS_MAX_DEFAULT 20
#define SMTP_AUTH_FAILURES_MAX 3
/* RFC 4954 4: an AUTH command or SASL response line may be 12288 octets. */
#define SMTP_AUTH_LINE_MAX 12288
/* A submitted message's header block is held in memory until it ends (to
 * add Message-ID and Date in front, RFC 6409 8). Postfix's
 * header_size_limit is 100 KiB; a block past this is refused with 552. */
#define SMTP_SUBMIT_HEADER_MAX (256 * 1024)

/* RFC 1939 3: the autologout timer must be at least 10 minutes. */
#define POP3_TIMEOUT_DEFAULT 600
/* RFC 2449 4: a POP3 command line is at most 255 octets with CRLF; SASL
 * responses (RFC 5034 4) may be longer. */
#define POP3_COMMAND_LINE_MAX 255
#define POP3_AUTH_LINE_MAX 8192
#define POP3_BAD_COMMANDS_MAX_DEFAULT 20
#define POP3_AUTH_FAILURES_MAX 3

/* RFC 9051 5.4: the inactivity autologout timer must be at least 30
 * minutes (IDLE clients re-issue IDLE every 29). */
#define IMAP_TIMEOUT_DEFAULT 1800
#define IMAP_BAD_COMMANDS_MAX_DEFAULT 20
#define IMAP_AUTH_FAILURES_MAX 3
/* Messages kept in memory over all cached mailbox lists (imap_cache.c):
 * 56 bytes each, so about 28 MiB at most. */
#define IMAP_CACHE_MSGS_MAX 500000

/* Outbound queue, Postfix-like defaults: first retry after 5 minutes,
 * doubling up to 4 hours between attempts, bounce after 5 days, warn the
 * sender after 4 hours. */
#define QUEUE_RETRY_FIRST_DEFAULT 300
#define QUEUE_RETRY_MAX_DEFAULT (4 * 3600)
#define QUEUE_LIFETIME_DEFAULT (5 * 86400)
#define QUEUE_DELAY_WARNING_DEFAULT (4 * 3600)
#define QUEUE_CONNECTIONS_MAX_DEFAULT 50
#define QUEUE_PER_HOST_MAX_DEFAULT 10
/* RFC 5321 4.5.3.2 suggests 5 minutes for the greeting; a connect that
 * takes a minute is as good as dead. */
#define SMTP_CONNECT_TIMEOUT_DEFAULT 60
#define DNS_TIMEOUT_DEFAULT 10

#define CONN_PER_IP_MAX_DEFAULT 20
#define CONN_TOTAL_MAX_DEFAULT 2000
/* Output queued for a client beyond this stops reading its input until the
 * client drains it. */
#define CONN_OUTPUT_HIGH_WATER (256 * 1024)
/* Seconds a TLS handshake may take. */
#define TLS_HANDSHAKE_TIMEOUT 60

/* Messages up to this size are stored inside the database (one group
 * commit makes many of them durable with one fsync); larger ones are blob
 * files (fsync of the file and of its directory each). Measured in
 * bench/RESULTS.md: 100 KiB messages inline took about 30% less server CPU
 * than as files. It also bounds the memory a receiving session holds. */
#define STORE_INLINE_MAX_DEFAULT (256 * 1024)
/* Most deliveries one group commit takes. */
#define STORE_COMMIT_BATCH_MAX 256

/* IMAP command reader and parser (src/imap/imap_parse.h, struct
 * imap_limits). RFC 9051 sets no line limit; RFC 7162 4 asks servers to
 * take lines of at least 8192 octets, and long UID sets need more. */
#define IMAP_LINE_MAX_DEFAULT (64 * 1024)
/* Literals up to this size are buffered with the command; larger ones are
 * handed to the session (APPEND streams them to a spool file). */
#define IMAP_INLINE_LITERAL_MAX_DEFAULT (64 * 1024)
/* Largest literal accepted at all: the message size limit. */
#define IMAP_LITERAL_MAX_DEFAULT SMTP_MESSAGE_SIZE_DEFAULT
/* RFC 7888 5: LITERAL- caps non-synchronizing literals at 4096 octets. */
#define IMAP_LITERAL_MINUS_MAX 4096
/* Bytes one command may hold in memory: its lines plus inline literals. */
#define IMAP_COMMAND_MAX_DEFAULT (1024 * 1024)
/* Literals in one command (MULTIAPPEND, RFC 3502, sends one per message). */
#define IMAP_LITERALS_MAX_DEFAULT 256
/* Parenthesis nesting: guards the recursive parsers (SEARCH, BODY
 * sections) and the cursor stack. */
#define IMAP_DEPTH_MAX_DEFAULT 32
/* Tokens in one command and ranges in one sequence set: bounded by the
 * line limit anyway, named so the arrays they size are obviously finite. */
#define IMAP_ARGS_MAX_DEFAULT 100000
#define IMAP_SEQSET_RANGES_MAX_DEFAULT 100000
/* Keys in one SEARCH program. */
#define IMAP_SEARCH_KEYS_MAX_DEFAULT 1000
/* MIME parsing (src/mail/mime.c). Depth bounds the recursion over nested
 * multiparts and message/rfc822 (Dovecot and Cyrus stop near 100; real
 * mail rarely passes 5); parts and header lines bound the memory one
 * message's tree can take. Past a limit the parser stops descending or
 * recording, it never fails. */
#define MIME_DEPTH_MAX_DEFAULT 32
#define MIME_DEPTH_MAX_HARD 256
#define MIME_PARTS_MAX_DEFAULT 10000
#define MIME_HEADER_LINES_MAX_DEFAULT 10000

/* Account security ([auth], src/auth/). Passwords: NIST SP 800-63B asks
 * for 8 at least; 12 plus a zxcvbn score of 3 (10^8 guesses) resists
 * online guessing and slows offline cracking of an Argon2id hash. */
#define AUTH_MIN_PASSWORD_LENGTH_DEFAULT 12
#define AUTH_MIN_PASSWORD_LENGTH_FLOOR 8
#define AUTH_MIN_PASSWORD_SCORE_DEFAULT 3
/* libsodium crypto_pwhash_MEMLIMIT_INTERACTIVE / OPSLIMIT_INTERACTIVE
 * (RFC 9106 4 second recommended option uses 64 MiB too). */
#define AUTH_ARGON2_MEMORY_DEFAULT (64ULL * 1024 * 1024)
#define AUTH_ARGON2_ITERATIONS_DEFAULT 2
/* Brute force: the reply to a failure waits failure_delay, doubling with
 * each failure of the IP or account up to failure_delay_max (Dovecot's
 * auth_failure_delay is 2 s flat); past max_failures_per_ip failures the
 * IP is blocked for block_time, past max_failures_per_account the account
 * (except for IPs that logged in to it before). Failures are forgotten
 * block_time after the last one. */
#define AUTH_MAX_FAILURES_PER_IP_DEFAULT 10
#define AUTH_MAX_FAILURES_PER_ACCOUNT_DEFAULT 100
#define AUTH_BLOCK_TIME_DEFAULT (15 * 60)
#define AUTH_FAILURE_DELAY_DEFAULT 1
#define AUTH_FAILURE_DELAY_MAX_DEFAULT 16
/* Distinct IPs and accounts the rate limiter remembers; past it the
 * oldest entries go first (bounds the daemon's memory under a spray). */
#define AUTH_RATELIMIT_ENTRIES_MAX 50000

/* The account portal (src/web/). OWASP's session guidance: a short idle
 * timeout and an absolute one for a site that manages credentials. */
#define WEB_SESSION_TIMEOUT_DEFAULT (30 * 60)
#define WEB_SESSION_LIFETIME_DEFAULT (12 * 3600)
/* A login waiting for its second step (TOTP or recovery code). */
#define WEB_PENDING_LOGIN_SECONDS 300
/* Live portal sessions in the daemon; past it the oldest goes first. */
#define WEB_SESSIONS_MAX 10000
/* The portal's forms are a few short fields; browsers send well under
 * 8 KiB of headers to one origin with one cookie. */
#define WEB_BODY_MAX (64 * 1024)
#define WEB_HEADERS_MAX (16 * 1024)
#define WEB_FORM_FIELDS_MAX 32
#define WEB_COOKIES_MAX 64
/* Seconds a portal connection may stay silent (request or keep-alive). */
#define WEB_TIMEOUT 30

#define ADDRESS_MAX 320
#define PASSWORD_MAX 1024

#endif
