/*
 * Server TLS setup with OpenSSL 3: certificates and keys, the protocol
 * floor, SNI. Loaded before privileges drop and again on SIGHUP.
 */
#include "net/tls.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

struct tls_ctx {
	int refs;
	SSL_CTX *ctxs[CONFIG_MAX_CERTS];	/* owned; [0] is the default */
	X509 *certs[CONFIG_MAX_CERTS];		/* borrowed from ctxs */
	unsigned n;
};

/* "config:line: what file: reason", line being the certificate's entry */
static char *ssl_error(const struct config *cfg, const struct config_cert *c, const char *what,
		       const char *file)
{
	char err[256];

	ERR_error_string_n(ERR_get_error(), err, sizeof(err));
	ERR_clear_error();
	return xasprintf("%s:%d: %s %s: %s", cfg->path, c->line, what, file, err);
}

/* SNI: pick the context whose certificate names the requested host. */
static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	unsigned i;

	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < t->n; i++) {
		if (X509_check_host(t->certs[i], name, 0, 0, NULL) == 1) {
			if (i > 0)
				SSL_set_SSL_CTX(ssl, t->ctxs[i]);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_OK;	/* fall back to the default */
}

static SSL_CTX *load_one(const struct config *cfg, const struct config_cert *c, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int min = strcmp(cfg->tls_min_version, "1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;

	if (ctx == NULL) {
		*error_r = ssl_error(cfg, c, "cannot create TLS context for", c->cert_file);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* idle connections (IMAP IDLE) give back their 2 x 16 KiB record
	 * buffers between reads and writes (bench/RESULTS.md, IMAP idle) */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tern", 4);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1) {
		*error_r = ssl_error(cfg, c, "cannot load certificate", c->cert_file);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1) {
		*error_r = ssl_error(cfg, c, "cannot load key", c->key_file);
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = ssl_error(cfg, c, "key does not match certificate", c->cert_file);
	} else {
		return ctx;
	}
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_ctx *tls_ctx_new(const struct config *cfg, char **error_r)
{
	struct tls_ctx *t;
	unsigned i;

	*error_r = NULL;
	if (cfg->n_certs == 0)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->refs = 1;
	for (i = 0; i < cfg->n_certs; i++) {
		t->ctxs[i] = load_one(cfg, &cfg->certs[i], error_r);
		if (t->ctxs[i] == NULL) {
			tls_ctx_unref(&t);
			return NULL;
		}
		t->certs[i] = SSL_CTX_get0_certificate(t->ctxs[i]);
		t->n++;
		SSL_CTX_set_tlsext_servername_callback(t->ctxs[i], servername_cb);
		SSL_CTX_set_tlsext_servername_arg(t->ctxs[i], t);
	}
	return t;
}

void tls_ctx_ref(struct tls_ctx *t)
{
	t->refs++;
}

void tls_ctx_unref(struct tls_ctx **tp)
{
	struct tls_ctx *t = *tp;
	unsigned i;

	*tp = NULL;
	if (t == NULL || --t->refs > 0)
		return;
	for (i = 0; i < t->n; i++)
		SSL_CTX_free(t->ctxs[i]);
	free(t);
}

SSL *tls_ctx_new_ssl(struct tls_ctx *t)
{
	SSL *ssl = SSL_new(t->ctxs[0]);

	if (ssl == NULL)
		log_error("SSL_new failed");
	return ssl;
}

void tls_describe(SSL *ssl, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char err[256];
	int ok;

	if (ctx == NULL) {
		*error_r = xstrdup("cannot create the client TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
			     : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		ERR_clear_error();
		*error_r = xasprintf("cannot load CA certificates %s: %s",
				     ca_file ? ca_file : "(system)", err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *servername, bool verify)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return NULL;
	/* SNI carries host names only, never address literals (RFC 6066 3) */
	if (strspn(servername, "0123456789.:[]") != strlen(servername))
		SSL_set_tlsext_host_name(ssl, servername);
	if (verify) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		if (SSL_set1_host(ssl, servername) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	return ssl;
}
