/* latency: paired latency at one connection per target.
 *
 *   latency [-n ROUNDS] [-w WARMUP] [--ca FILE] [--key KEY] [--body JSON]
 *           [--json] NAME=URL NAME=URL ...
 *
 * Keeps one keep-alive connection to each target (http:// or https://) and
 * sends the same POST to them in strict rotation: first, second, third,
 * first, ... for ROUNDS rounds (after WARMUP untimed ones). Each request is
 * timed with CLOCK_MONOTONIC from the write of the request to the last byte
 * of the answer. Because the samples interleave, a stall of this shared
 * machine falls on all targets alike instead of on whichever one wrk was
 * loading at the time, so "target minus the first target" at a percentile
 * is the target's own added latency rather than the difference of two
 * independent noisy tails.
 *
 * Percentiles are exact (nearest rank on the sorted samples: the smallest
 * sample with at least q of all samples at or below it), not a histogram's
 * buckets. Every answer must be a complete, well-delimited HTTP/1.1 200
 * that keeps the connection open; anything else ends the run with an error
 * (exit 1) naming the target and the round: a benchmark that counts errors
 * as fast answers measures nothing.
 *
 * Output: a table on stdout, or with --json one JSON object. */
#include "latency_http.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LATENCY_MAX_TARGETS 8
#define LATENCY_MAX_BODY (1u << 20)

static const char latency_default_body[] =
    "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
    "{\"role\":\"user\",\"content\":\"Please summarise the minutes of the Tuesday meeting in three sentences.\"}]}";

struct latency_target {
	char name[32];
	char host[256];
	char port[8];
	char path[512];
	int tls;
	int fd;
	SSL *ssl;
	char *req;		/* the whole request, written at once */
	size_t req_len;
	char *in;		/* bytes read and not yet part of an answer */
	size_t in_len, in_cap;
	uint64_t *ns;		/* one sample per timed round */
};

/* The reported percentiles, in per mille (nearest rank). */
static const struct {
	const char *label;
	const char *key;
	unsigned per_mille;
} latency_quantiles[] = {
	{"p50", "p50", 500},
	{"p90", "p90", 900},
	{"p99", "p99", 990},
	{"p99.9", "p999", 999},
};
#define LATENCY_N_QUANTILES (sizeof latency_quantiles / sizeof latency_quantiles[0])

__attribute__((format(printf, 1, 2), noreturn))
static void latency_die(const char *fmt, ...)
{
	va_list ap;
	fputs("latency: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		char buf[256];
		ERR_error_string_n(e, buf, sizeof buf);
		fprintf(stderr, "  %s\n", buf);
	}
	exit(1);
}

static uint64_t latency_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* NAME=http[s]://HOST[:PORT][/PATH]; the path defaults to the chat route. */
static void latency_target_parse(struct latency_target *t, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof t->name)
		latency_die("expected NAME=URL, got '%s'", arg);
	memcpy(t->name, arg, (size_t)(eq - arg));
	t->name[eq - arg] = 0;
	const char *u = eq + 1;
	if (strncmp(u, "https://", 8) == 0) {
		t->tls = 1;
		u += 8;
	} else if (strncmp(u, "http://", 7) == 0) {
		u += 7;
	} else {
		latency_die("%s: the URL must start with http:// or https://", t->name);
	}
	size_t hl = strcspn(u, ":/");
	if (hl == 0 || hl >= sizeof t->host)
		latency_die("%s: bad host in the URL", t->name);
	memcpy(t->host, u, hl);
	t->host[hl] = 0;
	u += hl;
	snprintf(t->port, sizeof t->port, "%s", t->tls ? "443" : "80");
	if (*u == ':') {
		size_t pl = strspn(u + 1, "0123456789");
		if (pl == 0 || pl > 5)
			latency_die("%s: bad port in the URL", t->name);
		memcpy(t->port, u + 1, pl);
		t->port[pl] = 0;
		u += 1 + pl;
	}
	if (*u != 0 && *u != '/')
		latency_die("%s: bad URL", t->name);
	snprintf(t->path, sizeof t->path, "%s", *u ? u : "/v1/chat/completions");
}

static void latency_target_connect(struct latency_target *t, SSL_CTX *ctx)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0)
		latency_die("%s: %s:%s: %s", t->name, t->host, t->port, gai_strerror(rc));
	t->fd = -1;
	for (ai = res; ai && t->fd < 0; ai = ai->ai_next) {
		t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (t->fd < 0)
			continue;
		if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(t->fd);
			t->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (t->fd < 0)
		latency_die("%s: cannot connect to %s:%s: %s", t->name, t->host, t->port, strerror(errno));
	/* The request leaves in one write; no Nagle delay on it (wrk sets the
	 * same). */
	int one = 1;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!t->tls)
		return;
	t->ssl = SSL_new(ctx);
	if (!t->ssl || !SSL_set_fd(t->ssl, t->fd) || !SSL_set_tlsext_host_name(t->ssl, t->host) ||
	    !SSL_set1_host(t->ssl, t->host))
		latency_die("%s: cannot set up TLS", t->name);
	if (SSL_connect(t->ssl) != 1)
		latency_die("%s: TLS handshake with %s:%s failed (verify: %s)", t->name, t->host, t->port,
		    X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
}

static void latency_target_request(struct latency_target *t, const char *key, const char *body)
{
	size_t bl = strlen(body);
	char auth[512] = "";
	if (key && snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", key) >= (int)sizeof auth)
		latency_die("--key too long");
	size_t cap = strlen(t->path) + strlen(t->host) + strlen(auth) + bl + 256;
	t->req = malloc(cap);
	if (!t->req)
		latency_die("out of memory");
	int n = snprintf(t->req, cap,
	    "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n%s",
	    t->path, t->host, t->port, auth, bl, body);
	if (n < 0 || (size_t)n >= cap)
		latency_die("cannot format the request");
	t->req_len = (size_t)n;
}

static void latency_target_write(struct latency_target *t, size_t round)
{
	size_t off = 0;
	while (off < t->req_len) {
		ssize_t w;
		if (t->ssl) {
			int r = SSL_write(t->ssl, t->req + off, (int)(t->req_len - off));
			if (r <= 0)
				latency_die("%s: round %zu: TLS write failed (SSL error %d)", t->name, round,
				    SSL_get_error(t->ssl, r));
			w = r;
		} else {
			w = write(t->fd, t->req + off, t->req_len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				latency_die("%s: round %zu: write failed: %s", t->name, round, strerror(errno));
		}
		off += (size_t)w;
	}
}

/* Reads until one whole answer is in; returns with it consumed. */
static void latency_target_read(struct latency_target *t, size_t round)
{
	struct latency_http_response r;
	for (;;) {
		enum latency_http_result rc = latency_http_parse(t->in, t->in_len, LATENCY_MAX_BODY, &r);
		if (rc == LATENCY_HTTP_RESULT_ERROR)
			latency_die("%s: round %zu: malformed answer: %s", t->name, round, r.error);
		if (rc == LATENCY_HTTP_RESULT_DONE)
			break;
		if (t->in_cap - t->in_len < 4096) {
			size_t cap = t->in_cap * 2;
			if (cap > LATENCY_MAX_BODY + LATENCY_HTTP_MAX_HEAD * 2)
				latency_die("%s: round %zu: answer too large", t->name, round);
			char *p = realloc(t->in, cap);
			if (!p)
				latency_die("out of memory");
			t->in = p;
			t->in_cap = cap;
		}
		ssize_t n;
		if (t->ssl) {
			int g = SSL_read(t->ssl, t->in + t->in_len, (int)(t->in_cap - t->in_len));
			if (g <= 0) {
				int e = SSL_get_error(t->ssl, g);
				latency_die("%s: round %zu: %s mid-answer (SSL error %d)", t->name, round,
				    e == SSL_ERROR_ZERO_RETURN ? "connection closed" : "TLS read failed", e);
			}
			n = g;
		} else {
			n = read(t->fd, t->in + t->in_len, t->in_cap - t->in_len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				latency_die("%s: round %zu: read failed: %s", t->name, round, strerror(errno));
			if (n == 0)
				latency_die("%s: round %zu: connection closed mid-answer", t->name, round);
		}
		t->in_len += (size_t)n;
	}
	if (r.status != 200)
		latency_die("%s: round %zu: status %d, expected 200: %.*s", t->name, round, r.status,
		    (int)(r.body_len < 200 ? r.body_len : 200), t->in + r.head_len);
	if (r.close)
		latency_die("%s: round %zu: the server closes the connection (no keep-alive)", t->name, round);
	if (r.body_len == 0)
		latency_die("%s: round %zu: empty answer", t->name, round);
	/* One request in flight: bytes past the answer are a protocol error. */
	if (t->in_len != r.total_len)
		latency_die("%s: round %zu: %zu bytes after the answer", t->name, round, t->in_len - r.total_len);
	t->in_len = 0;
}

static uint64_t latency_exchange(struct latency_target *t, size_t round)
{
	uint64_t t0 = latency_now_ns();
	latency_target_write(t, round);
	latency_target_read(t, round);
	return latency_now_ns() - t0;
}

static int latency_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int latency_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the ceil(n * q)-th smallest sample. */
static size_t latency_rank(size_t n, unsigned per_mille)
{
	size_t k = (n * per_mille + 999) / 1000;
	return k == 0 ? 0 : k - 1;
}

static void latency_usage(void)
{
	fputs("usage: latency [-n ROUNDS] [-w WARMUP] [--ca FILE] [--key KEY] [--body JSON] [--json]\n"
	      "               NAME=URL NAME=URL ...   (the first target is the baseline)\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	size_t rounds = 10000, warmup = 200;
	const char *ca = NULL, *key = NULL, *body = latency_default_body;
	int json = 0;
	static struct latency_target targets[LATENCY_MAX_TARGETS];
	size_t nt = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-n") == 0 && v) {
			rounds = strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "-w") == 0 && v) {
			warmup = strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--ca") == 0 && v) {
			ca = v;
			i++;
		} else if (strcmp(a, "--key") == 0 && v) {
			key = v;
			i++;
		} else if (strcmp(a, "--body") == 0 && v) {
			body = v;
			i++;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (a[0] != '-' && nt < LATENCY_MAX_TARGETS) {
			latency_target_parse(&targets[nt++], a);
		} else {
			latency_usage();
		}
	}
	if (nt == 0 || rounds == 0 || rounds > 100000000)
		latency_usage();

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		latency_die("cannot create the TLS context");
	/* The certificate is verified like any client would; the bench's CA. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? !SSL_CTX_load_verify_locations(ctx, ca, NULL) : !SSL_CTX_set_default_verify_paths(ctx))
		latency_die("cannot load the CA certificates%s%s", ca ? " from " : "", ca ? ca : "");
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);

	for (size_t i = 0; i < nt; i++) {
		struct latency_target *t = &targets[i];
		latency_target_connect(t, ctx);
		latency_target_request(t, key, body);
		t->in_cap = 16384;
		t->in = malloc(t->in_cap);
		t->ns = calloc(rounds, sizeof *t->ns);
		if (!t->in || !t->ns)
			latency_die("out of memory");
	}
	for (size_t r = 0; r < warmup; r++)
		for (size_t i = 0; i < nt; i++)
			latency_exchange(&targets[i], r);
	for (size_t r = 0; r < rounds; r++)
		for (size_t i = 0; i < nt; i++)
			targets[i].ns[r] = latency_exchange(&targets[i], warmup + r);

	/* Per round, target minus baseline: the paired difference, before
	 * the samples are sorted. */
	int64_t *diff = calloc(rounds, sizeof *diff);
	double (*pd)[LATENCY_N_QUANTILES] = calloc(nt, sizeof *pd);
	if (!diff || !pd)
		latency_die("out of memory");
	for (size_t i = 1; i < nt; i++) {
		for (size_t r = 0; r < rounds; r++)
			diff[r] = (int64_t)targets[i].ns[r] - (int64_t)targets[0].ns[r];
		qsort(diff, rounds, sizeof *diff, latency_cmp_i64);
		for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
			pd[i][q] = (double)diff[latency_rank(rounds, latency_quantiles[q].per_mille)] / 1e3;
	}
	double (*pq)[LATENCY_N_QUANTILES] = calloc(nt, sizeof *pq);
	double *mean = calloc(nt, sizeof *mean), *max = calloc(nt, sizeof *max);
	if (!pq || !mean || !max)
		latency_die("out of memory");
	for (size_t i = 0; i < nt; i++) {
		struct latency_target *t = &targets[i];
		double sum = 0;
		for (size_t r = 0; r < rounds; r++)
			sum += (double)t->ns[r];
		mean[i] = sum / (double)rounds / 1e3;
		qsort(t->ns, rounds, sizeof *t->ns, latency_cmp_u64);
		max[i] = (double)t->ns[rounds - 1] / 1e3;
		for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
			pq[i][q] = (double)t->ns[latency_rank(rounds, latency_quantiles[q].per_mille)] / 1e3;
	}

	if (json) {
		printf("{\"rounds\": %zu, \"warmup\": %zu, \"baseline\": \"%s\", \"targets\": {", rounds, warmup,
		    targets[0].name);
		for (size_t i = 0; i < nt; i++) {
			printf("%s\"%s\": {\"mean_us\": %.1f, \"max_us\": %.1f", i ? ", " : "", targets[i].name, mean[i],
			    max[i]);
			for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
				printf(", \"%s_us\": %.1f", latency_quantiles[q].key, pq[i][q]);
			if (i > 0) {
				for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
					printf(", \"added_%s_us\": %.1f", latency_quantiles[q].key, pq[i][q] - pq[0][q]);
				for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
					printf(", \"paired_%s_us\": %.1f", latency_quantiles[q].key, pd[i][q]);
			}
			printf("}");
		}
		printf("}}\n");
	} else {
		printf("%zu rounds (after %zu untimed), one keep-alive connection per target, in rotation; µs\n",
		    rounds, warmup);
		printf("%-12s %9s", "target", "mean");
		for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
			printf(" %9s", latency_quantiles[q].label);
		printf(" %9s\n", "max");
		for (size_t i = 0; i < nt; i++) {
			printf("%-12s %9.1f", targets[i].name, mean[i]);
			for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
				printf(" %9.1f", pq[i][q]);
			printf(" %9.1f\n", max[i]);
		}
		for (size_t i = 1; i < nt; i++) {
			printf("%-12s %9.1f", "added", mean[i] - mean[0]);
			for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
				printf(" %+9.1f", pq[i][q] - pq[0][q]);
			printf("   (%s - %s)\n", targets[i].name, targets[0].name);
		}
		for (size_t i = 1; i < nt; i++) {
			printf("%-12s %9s", "paired", "");
			for (size_t q = 0; q < LATENCY_N_QUANTILES; q++)
				printf(" %+9.1f", pd[i][q]);
			printf("   (per round %s - %s)\n", targets[i].name, targets[0].name);
		}
	}
	for (size_t i = 0; i < nt; i++) {
		if (targets[i].ssl)
			SSL_free(targets[i].ssl);
		close(targets[i].fd);
		free(targets[i].req);
		free(targets[i].in);
		free(targets[i].ns);
	}
	free(diff);
	free(pd);
	free(pq);
	free(mean);
	free(max);
	SSL_CTX_free(ctx);
	return 0;
}
