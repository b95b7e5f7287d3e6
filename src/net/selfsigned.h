/*
 * Self-signed certificates for demo mode and first starts: an ECDSA P-256
 * leaf (CA:FALSE, serverAuth) naming the given hosts. Leaf rather than CA
 * because some clients (isync) refuse a CA:TRUE certificate as a server's.
 */
#ifndef TERN_NET_SELFSIGNED_H
#define TERN_NET_SELFSIGNED_H

/* Writes cert_path (0644) and key_path (0600). san is an OpenSSL
 * subjectAltName value such as "DNS:localhost,IP:127.0.0.1". Returns 0 or
 * -1 with an allocated message in *error_r. */
int tls_make_selfsigned(const char *cert_path, const char *key_path, const char *common_name,
			const char *san, char **error_r);

#endif
