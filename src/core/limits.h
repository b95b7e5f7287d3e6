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
/* RFC 7162 3.2.8 asks clients to keep command lines under 8192 octets and
 * servers to accept at least that; long UID sets from syncing clients go
 * beyond, so allow more. */
#define IMAP_LINE_MAX_DEFAULT (64 * 1024)
#define IMAP_AUTH_FAILURES_MAX 3

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

#define ADDRESS_MAX 320
#define PASSWORD_MAX 1024

#endif
