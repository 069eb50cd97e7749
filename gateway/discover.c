/* Model discovery: for pools with "discover_models", GET /v1/models from
 * the first instance that answers, once per loaded configuration (start
 * and every reload). A thread of its own does it with blocking sockets,
 * bounded by the pool's connect and first-byte timeouts, so no event loop
 * ever waits; the list is published with an atomic store and read by the
 * router (router_state.upstream_serves) when there are no routes. */
#include "server.h"
#include "http.h"
#include "log.h"
#include "router.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#define DISCOVER_MAX_ANSWER (1u << 20)

static void discover_timeouts(int fd, long long connect_ms, long long read_ms)
{
	struct timeval c = {connect_ms / 1000, (connect_ms % 1000) * 1000};
	struct timeval r = {read_ms / 1000, (read_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &c, sizeof c); /* bounds connect(2) too */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
}

/* The whole answer (head and body, up to 1 MiB) into *out. */
static int discover_get(struct runtime *rt, int up, int inst, char **out, size_t *outlen, char *err, size_t errlen)
{
	const struct config_upstream *u = &rt->cfg->upstreams[up];
	const struct config_instance *in = &u->instances[inst];
	size_t g = rt->inst_base[up] + (size_t)inst;
	int fd = socket(rt->inst_addr[g].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	long long rd = u->first_byte_timeout_ms < 10000 ? u->first_byte_timeout_ms : 10000;
	discover_timeouts(fd, u->connect_timeout_ms, rd);
	SSL *ssl = NULL;
	int rc = -1;
	char *buf = NULL;
	if (connect(fd, (struct sockaddr *)&rt->inst_addr[g], rt->inst_addrlen[g]) < 0) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto out;
	}
	if (rt->inst_tls[g]) {
		ssl = upstream_ssl_new(rt, up, inst);
		if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
			snprintf(err, errlen, "TLS handshake or certificate verification failed");
			goto out;
		}
	}
	char head[1024];
	int hn = snprintf(head, sizeof head, "GET %s/v1/models HTTP/1.1\r\nHost: %s\r\nUser-Agent: hafen-discover\r\n"
	    "Accept: application/json\r\nConnection: close\r\n%s%s\r\n", in->base_path, in->host_header,
	    u->auth_header ? u->auth_header : "", u->auth_header ? "\r\n" : "");
	if (hn < 0 || (size_t)hn >= sizeof head ||
	    (ssl ? SSL_write(ssl, head, hn) != hn : write(fd, head, (size_t)hn) != hn)) {
		explicit_bzero(head, sizeof head);
		snprintf(err, errlen, "cannot send the request");
		goto out;
	}
	explicit_bzero(head, sizeof head); /* it held the auth header */
	buf = malloc(DISCOVER_MAX_ANSWER + 1);
	size_t n = 0;
	while (buf && n < DISCOVER_MAX_ANSWER) {
		int r = ssl ? SSL_read(ssl, buf + n, (int)(DISCOVER_MAX_ANSWER - n)) :
		    (int)read(fd, buf + n, DISCOVER_MAX_ANSWER - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (!buf || n == 0) {
		snprintf(err, errlen, "no answer");
		goto out;
	}
	*out = buf;
	*outlen = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (ssl)
		SSL_free(ssl);
	close(fd);
	return rc;
}

/* Status 200 and the (de-chunked) body of a raw answer. */
static int discover_body(char *raw, size_t n, const char **body, size_t *blen, char *err, size_t errlen)
{
	struct http_response resp;
	http_response_init(&resp);
	if (http_parse_response(&resp, raw, n, 65536) != HTTP_PARSE_DONE) {
		snprintf(err, errlen, "invalid or incomplete HTTP answer");
		return -1;
	}
	if (resp.status != 200) {
		snprintf(err, errlen, "GET /v1/models answered %d", resp.status);
		return -1;
	}
	char *b = raw + resp.head_len;
	size_t len = n - resp.head_len;
	if (resp.chunked) {
		struct http_chunked ch;
		size_t used = 0, outlen = 0;
		http_chunked_init(&ch);
		/* decoding in place is safe: the output never runs ahead of the input */
		if (http_chunked_decode(&ch, b, len, &used, b, &outlen) != HTTP_PARSE_DONE) {
			snprintf(err, errlen, "invalid chunked body");
			return -1;
		}
		len = outlen;
	} else if (resp.content_length >= 0 && (size_t)resp.content_length < len) {
		len = (size_t)resp.content_length;
	}
	*body = b;
	*blen = len;
	return 0;
}

static void *discover_main(void *arg)
{
	struct runtime *rt = arg;
	const struct config *cfg = rt->cfg;
	for (size_t u = 0; u < cfg->n_upstreams; u++) {
		const struct config_upstream *up = &cfg->upstreams[u];
		if (!up->discover_models)
			continue;
		for (size_t i = 0; i < up->n_instances; i++) {
			char err[160] = "", *raw = NULL;
			size_t n = 0, blen = 0;
			const char *body;
			struct discover_list *l = calloc(1, sizeof *l);
			int ok = l && discover_get(rt, (int)u, (int)i, &raw, &n, err, sizeof err) == 0 &&
			    discover_body(raw, n, &body, &blen, err, sizeof err) == 0 &&
			    router_models_parse(body, blen, &l->ids, &l->n, err, sizeof err) == 0;
			free(raw);
			if (ok) {
				atomic_store(&rt->discovered[u], l);
				log_info("upstream %s: %zu model%s discovered from instance %zu", up->name, l->n,
				    l->n == 1 ? "" : "s", i);
				break;
			}
			free(l);
			log_warnx("upstream %s instance %zu: model discovery: %s", up->name, i, err);
		}
	}
	runtime_unref(rt);
	return NULL;
}

int discover_start(struct runtime *rt)
{
	int any = 0;
	for (size_t u = 0; u < rt->cfg->n_upstreams; u++)
		any |= rt->cfg->upstreams[u].discover_models;
	if (!any)
		return 0;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	runtime_ref(rt);
	int rc = pthread_create(&t, &attr, discover_main, rt);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		runtime_unref(rt);
		return -1;
	}
	return 0;
}

int discover_serves(const struct runtime *rt, int up, const char *model)
{
	const struct discover_list *l = atomic_load(&rt->discovered[up]);
	if (!l)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], model) == 0)
			return 1;
	return 0;
}

void discover_free(struct runtime *rt)
{
	for (size_t u = 0; rt->discovered && u < rt->cfg->n_upstreams; u++) {
		struct discover_list *l = atomic_load(&rt->discovered[u]);
		if (l) {
			router_models_free(l->ids, l->n);
			free(l);
		}
	}
	free(rt->discovered);
	rt->discovered = NULL;
}
