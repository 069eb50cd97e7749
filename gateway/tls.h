/* TLS contexts for listeners (SNI, ALPN, optional mTLS) and upstreams. */
#ifndef HAFEN_GATEWAY_TLS_H
#define HAFEN_GATEWAY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "gwconfig.h"

struct tls_server {
	SSL_CTX *ctx;   /* first certificate: the default */
	SSL_CTX **sni;  /* one per certificate, picked by the client's SNI */
	size_t n_sni;
};

struct tls_server *tls_server_new(const struct config_listener *l, char *err, size_t errlen);
void tls_server_free(struct tls_server *t);
SSL_CTX *tls_client_new(const struct config_upstream *u, char *err, size_t errlen);
/* SHA-256 of data into out (API keys, per request); 0 or -1. */
int tls_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
