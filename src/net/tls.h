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

/* Writes "TLSv1.3 TLS_AES_256_GCM_SHA384" into out. */
void tls_describe(SSL *ssl, char *out, size_t outlen);

#endif
