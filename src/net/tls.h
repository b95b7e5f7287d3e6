/*
 * TLS server contexts. One SSL_CTX per configured certificate; the first
 * is the default and the SNI callback switches to the one whose names
 * match what the client asked for. TLS 1.2 is the floor.
 *
 * A tls_ctx is reference-counted: a reload builds a new one while
 * connections still handshaking hold the old one.
 */
#ifndef TERN_NET_TLS_H
#define TERN_NET_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

struct config;
struct tls_ctx;

/* Loads every [tls] certificate of cfg. Returns NULL with an allocated
 * message in *error_r on a bad file; with no certificates, returns NULL
 * and sets *error_r to NULL. */
struct tls_ctx *tls_ctx_new(const struct config *cfg, char **error_r);
void tls_ctx_ref(struct tls_ctx *t);
void tls_ctx_unref(struct tls_ctx **t);
/* A new server-side SSL for one connection (caller owns it). */
SSL *tls_ctx_new_ssl(struct tls_ctx *t);

/* A client context for outbound SMTP: TLS 1.2 at least, trusting the
 * system CA store, or ca_file when not NULL (tests, private CAs). */
SSL_CTX *tls_client_ctx_new(const char *ca_file, char **error_r);
/* A client SSL for one connection to servername (sent as SNI). With
 * verify, the handshake fails unless the chain is valid and names
 * servername; without, any certificate is taken (opportunistic TLS,
 * RFC 7435: encrypted, not authenticated). */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *servername, bool verify);

/* Writes "TLSv1.3 TLS_AES_256_GCM_SHA384" into out. */
void tls_describe(SSL *ssl, char *out, size_t outlen);

#endif
