/* TLS policy: TLS 1.2 and 1.3 only; on 1.2 only ECDHE with AEAD ciphers
 * (RFC 9325 section 4.2 recommendations); 1.3 suites are all AEAD. */
#include "tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

static const char tls_ciphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static void tls_error(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "unknown error";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "", buf);
}

static int tls_common(SSL_CTX *ctx)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, tls_ciphers12) ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384"))
		return -1;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

static int tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *o;
	if (SSL_select_next_proto(&o, outlen, h11, sizeof h11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* we speak only HTTP/1.1 */
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

/* SNI: switch to the context whose certificate names the requested host. */
static int tls_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (!name || t->n_sni < 2)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < t->n_sni; i++) {
		X509 *cert = SSL_CTX_get0_certificate(t->sni[i]);
		if (cert && X509_check_host(cert, name, 0, 0, NULL) == 1) {
			SSL_set_SSL_CTX(ssl, t->sni[i]);
			/* SSL_set_SSL_CTX keeps the verify mode of the old ctx. */
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_OK; /* unknown name: the default certificate */
}

static SSL_CTX *tls_server_ctx(const struct config_listener *l, const struct config_cert *c,
    char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || tls_common(ctx) < 0) {
		tls_error(err, errlen, "TLS setup failed", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		tls_error(err, errlen, "cannot load certificate chain", c->cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "cannot load private key (or it does not match the certificate)", c->key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"hafen", 5);
	if (l->tls.client_auth != CONFIG_CLIENT_AUTH_NONE) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->tls.client_ca);
		if (!names || SSL_CTX_load_verify_locations(ctx, l->tls.client_ca, NULL) != 1) {
			tls_error(err, errlen, "cannot load client CA", l->tls.client_ca);
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		int mode = SSL_VERIFY_PEER;
		if (l->tls.client_auth == CONFIG_CLIENT_AUTH_REQUIRED)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_verify(ctx, mode, NULL);
	}
	return ctx;
}

struct tls_server *tls_server_new(const struct config_listener *l, char *err, size_t errlen)
{
	struct tls_server *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->sni = calloc(l->tls.n_certificates, sizeof *t->sni);
	if (!t->sni) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < l->tls.n_certificates; i++) {
		t->sni[i] = tls_server_ctx(l, &l->tls.certificates[i], err, errlen);
		if (!t->sni[i]) {
			tls_server_free(t);
			return NULL;
		}
		t->n_sni++;
	}
	t->ctx = t->sni[0];
	SSL_CTX_set_tlsext_servername_callback(t->ctx, tls_servername);
	SSL_CTX_set_tlsext_servername_arg(t->ctx, t);
	return t;
}

void tls_server_free(struct tls_server *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_sni; i++)
		SSL_CTX_free(t->sni[i]);
	free(t->sni);
	free(t);
}

SSL_CTX *tls_client_new(const struct config_upstream *u, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || tls_common(ctx) < 0) {
		tls_error(err, errlen, "TLS setup failed", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	int ok = u->ca_file ? SSL_CTX_load_verify_locations(ctx, u->ca_file, NULL)
	                    : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		tls_error(err, errlen, "cannot load upstream CA", u->ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9);
	return ctx;
}

/* SHA-256 (FIPS 180-4) of the API key, once per request. EVP_Digest()
 * with EVP_sha256() looks the implementation up in the provider and
 * builds a fresh context on every call, which cost more than hashing the
 * key itself: the digest is fetched once per process and each worker
 * thread keeps one context (freed when the thread ends). */
static pthread_once_t tls_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *tls_sha256_md;
static pthread_key_t tls_sha256_key;

static void tls_sha256_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void tls_sha256_setup(void)
{
	tls_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (tls_sha256_md && pthread_key_create(&tls_sha256_key, tls_sha256_ctx_free) != 0) {
		EVP_MD_free(tls_sha256_md);
		tls_sha256_md = NULL;
	}
}

int tls_sha256(const void *data, size_t len, unsigned char out[32])
{
	pthread_once(&tls_sha256_once, tls_sha256_setup);
	if (!tls_sha256_md)
		return -1;
	EVP_MD_CTX *ctx = pthread_getspecific(tls_sha256_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (!ctx)
			return -1;
		if (pthread_setspecific(tls_sha256_key, ctx) != 0) {
			EVP_MD_CTX_free(ctx);
			return -1;
		}
	}
	unsigned int n = 0;
	if (!EVP_DigestInit_ex2(ctx, tls_sha256_md, NULL) || !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, out, &n) || n != 32) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}
