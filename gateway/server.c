/* Workers, listeners and client connections.
 *
 * Each worker thread runs its own event_base with its own SO_REUSEPORT
 * socket per listener, so the kernel spreads connections and workers
 * share nothing but the runtime (read-only) and atomic counters.
 *
 * A connection handles one request at a time: while an exchange is in
 * flight the next pipelined request stays in the input buffer, so
 * responses go out in request order (RFC 9112 section 9.3.2). Each
 * connection has one timer whose meaning follows the phase: idle
 * (keep-alive), head (header_timeout: cuts slowloris), body and proxy
 * (request_timeout). */
#include "gwconfig.h"
#include "server.h"
#include "policy_filter.h"
#include "audit_filter.h"
#include "transparency.h"
#include "purpose.h"
#include "keycache.h"
#include "ratelimit.h"
#include "killswitch.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "policies/policy-t.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define SERVER_HIGH_WATER (256 * 1024)  /* client output: pause the upstream above this */
#define SERVER_LOW_WATER (64 * 1024)    /* and resume below this */
#define SERVER_LINGER_MS 1000           /* a half-closed connection waits this long for more bytes */
#define SERVER_LINGER_MAX_MS 10000      /* and at most this long in all */

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *server_rt;
static atomic_uint server_generation;
static struct worker *server_workers;
static int server_n_workers;
static atomic_int server_draining;
/* Guards every worker's hold_inflight / hold_done lists and a hold's w. */
static pthread_mutex_t server_hold_lock = PTHREAD_MUTEX_INITIALIZER;

/* One answer held for its audit record. The writer thread owns it from
 * submit until its callback; the worker frees it. c is cleared when the
 * connection goes first (the record is still written), w when the worker
 * is gone (the callback then only frees it). */
struct server_hold {
	struct server_hold *prev, *next;
	struct worker *w;
	struct conn *c;
	int status;
};

uint64_t server_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- runtime ---- */

static int server_resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char ps[16];
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof ps, "%d", port);
	int rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void runtime_unref(struct runtime *rt)
{
	if (!rt || atomic_fetch_sub(&rt->refs, 1) != 1)
		return;
	struct config *c = rt->cfg;
	for (size_t i = 0; rt->listener_tls && i < c->n_listeners; i++)
		tls_server_free(rt->listener_tls[i]);
	for (size_t i = 0; rt->inst_tls && i < rt->n_inst; i++)
		SSL_CTX_free(rt->inst_tls[i]);
	for (size_t i = 0; rt->pools && i < c->n_upstreams; i++)
		balance_pool_free(&rt->pools[i]);
	free(rt->listener_tls);
	free(rt->inst_base);
	free(rt->inst_tls);
	free(rt->inst_addr);
	free(rt->inst_addrlen);
	free(rt->pools);
	free(rt->health_next);
	free(rt->health_busy);
	discover_free(rt);
	policy_filter_free(rt->policy);
	audit_filter_free(rt->audit);
	transparency_free(rt->transparency);
	config_unref(c);
	free(rt);
}

struct runtime *runtime_ref(struct runtime *rt)
{
	atomic_fetch_add(&rt->refs, 1);
	return rt;
}

/* Everything that can fail with a bad config fails here, before the
 * runtime goes live (certificates, keys, upstream names). */
struct runtime *runtime_new(struct config *cfg, char *err, size_t errlen)
{
	struct runtime *rt = calloc(1, sizeof *rt);
	if (!rt)
		return NULL;
	atomic_init(&rt->refs, 1);
	rt->cfg = cfg;
	rt->listener_tls = calloc(cfg->n_listeners, sizeof *rt->listener_tls);
	rt->inst_base = calloc(cfg->n_upstreams, sizeof *rt->inst_base);
	for (size_t i = 0; rt->inst_base && i < cfg->n_upstreams; i++) {
		rt->inst_base[i] = rt->n_inst;
		rt->n_inst += cfg->upstreams[i].n_instances;
	}
	rt->inst_tls = calloc(rt->n_inst, sizeof *rt->inst_tls);
	rt->inst_addr = calloc(rt->n_inst, sizeof *rt->inst_addr);
	rt->inst_addrlen = calloc(rt->n_inst, sizeof *rt->inst_addrlen);
	rt->pools = calloc(cfg->n_upstreams, sizeof *rt->pools);
	rt->health_next = calloc(rt->n_inst, sizeof *rt->health_next);
	rt->health_busy = calloc(rt->n_inst, sizeof *rt->health_busy);
	rt->discovered = calloc(cfg->n_upstreams ? cfg->n_upstreams : 1, sizeof *rt->discovered);
	if (!rt->discovered) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!rt->listener_tls || !rt->inst_base || !rt->inst_tls || !rt->inst_addr || !rt->inst_addrlen ||
	    !rt->pools || !rt->health_next || !rt->health_busy) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		if (cfg->listeners[i].plain)
			continue;
		char e[512];
		rt->listener_tls[i] = tls_server_new(&cfg->listeners[i], e, sizeof e);
		if (!rt->listener_tls[i]) {
			snprintf(err, errlen, "%s: listeners[%zu].tls: %s", cfg->file, i, e);
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		const struct config_upstream *u = &cfg->upstreams[i];
		char e[512];
		long long w[64];
		for (size_t k = 0; k < u->n_instances; k++) {
			const struct config_instance *in = &u->instances[k];
			size_t g = rt->inst_base[i] + k;
			/* The TLS context takes its CA from the instance (which
			 * inherits the pool's when it names none). */
			struct config_upstream tu = *u;
			tu.ca_file = in->ca_file;
			char p[64] = "";
			if (!u->url)
				snprintf(p, sizeof p, ".instances[%zu]", k);
			if (in->tls && !(rt->inst_tls[g] = tls_client_new(&tu, e, sizeof e))) {
				snprintf(err, errlen, "%s: upstreams[%zu]%s: %s", cfg->file, i, p, e);
				goto fail;
			}
			if (server_resolve(in->host, in->port, &rt->inst_addr[g], &rt->inst_addrlen[g], e, sizeof e) < 0) {
				snprintf(err, errlen, "%s: upstreams[%zu]%s.url: %s", cfg->file, i, p, e);
				goto fail;
			}
			if (k < 64)
				w[k] = in->weight;
		}
		if (u->n_instances > 64) {
			snprintf(err, errlen, "%s: upstreams[%zu].instances: expected at most 64 instances", cfg->file, i);
			goto fail;
		}
		if (balance_pool_init(&rt->pools[i], u->n_instances, w, u->fail_threshold, u->eject_ms) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (policy_filter_load(cfg, &rt->policy, err, errlen) < 0 ||
	    audit_filter_load(cfg, &rt->audit, err, errlen) < 0 ||
	    transparency_load(cfg, &rt->transparency, err, errlen) < 0)
		goto fail;
	return rt;
fail:
	rt->cfg = config_ref(cfg);
	runtime_unref(rt);
	return NULL;
}

struct runtime *server_runtime_get(void)
{
	pthread_mutex_lock(&server_lock);
	struct runtime *rt = runtime_ref(server_rt);
	pthread_mutex_unlock(&server_lock);
	return rt;
}

/* ---- responses ---- */

static const char *server_error_type(int status)
{
	static const struct {
		int status;
		const char *type;
	} types[] = {
		{401, "authentication_error"}, {403, "permission_error"}, {404, "not_found_error"},
		{429, "rate_limit_error"}, {502, "upstream_error"}, {503, "unavailable_error"},
		{504, "timeout_error"},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].status == status)
			return types[i].type;
	return status >= 500 ? "server_error" : "invalid_request_error";
}

void server_send_head(struct conn *c, int status, const char *content_type, long long body_len)
{
	struct exchange *x = &c->x;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char head[768];
	int n;
	x->status = status;
	x->head_sent = 1;
	x->direct = c->tls && evbuffer_get_length(out) == 0;
	/* Tell the client the connection ends here (RFC 9112 section 9.6). */
	if (c->w->draining || c->over_limit)
		x->keep_alive = 0;
	if (body_len < 0 && x->version_minor == 0)
		x->keep_alive = 0; /* HTTP/1.0: the end of a stream is the close */
	x->chunked_out = body_len < 0 && x->version_minor >= 1;
	x->head_mark = body_len >= 0 ? evbuffer_get_length(out) : SIZE_MAX;
	if (x->fx.audit && !x->fx.t_first_byte) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		x->fx.t_first_byte = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	char retry[40] = "";
	if (x->retry_after > 0) /* RFC 9110 section 10.2.3, with 429 (RFC 6585 section 4) */
		snprintf(retry, sizeof retry, "Retry-After: %lld\r\n", x->retry_after);
	const char *const extra[] = {
	    retry,
	    /* RFC 9110 section 15.5.2: a 401 names the scheme (RFC 6750 section 3). */
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"hafen\"\r\n" : "",
	    body_len < 0 ? "Cache-Control: no-cache\r\n" : "",
	    x->keep_alive ? "" : "Connection: close\r\n", NULL};
	n = (int)http_head_format(head, sizeof head, status, content_type, body_len, x->chunked_out,
	    x->request_id, extra);
	if (n > 0 && (size_t)n < sizeof head) {
		size_t before = evbuffer_get_length(out);
		evbuffer_add(out, head, (size_t)n);
		/* The filters' fields (AI Act Art. 50 marker), then the blank line.
		 * An answer in flight from the upstream has x->uc set. */
		x->fx.upstream_answer = x->uc != NULL;
		if (x->route)
			filter_run_head(&x->fx, out);
		evbuffer_add(out, "\r\n", 2);
		x->bytes_out += (uint64_t)(evbuffer_get_length(out) - before);
	}
}

/* libevent's TLS bufferevent writes only when the write event fires, one
 * loop pass later. When this response started on an empty output buffer
 * (so libevent has no write of its own pending), hand it to SSL_write now;
 * anything not taken stays for libevent, which retries the same bytes
 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER is set on the connection). */
void server_push(struct conn *c)
{
	struct exchange *x = &c->x;
	if (!x->direct || x->holding)
		return;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (!ssl || !SSL_is_init_finished(ssl)) {
		x->direct = 0;
		return;
	}
	while (evbuffer_get_length(out) > 0) {
		size_t n = evbuffer_get_length(out);
		if (n > 16384)
			n = 16384;
		unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)n);
		ERR_clear_error();
		int w = SSL_write(ssl, p, (int)n);
		if (w <= 0) {
			x->direct = 0;
			return;
		}
		evbuffer_drain(out, (size_t)w);
	}
	/* Adding to the empty output made libevent add its write event; with
	 * nothing left to write it would only fire once to delete itself (an
	 * EPOLL_CTL_MOD each way per request). Deleting it now, in the pass
	 * that added it, leaves the changelist nothing to do. This is what
	 * libevent's own write callback does when the output is empty. */
	event_del(&c->bev->ev_write);
}

/* Small bodies are copied behind the head so the TLS layer sends one
 * record and one write(2) (a moved chain would be a record of its own);
 * large ones are moved, not copied. */
void server_add_body(struct evbuffer *out, struct evbuffer *body)
{
	size_t n = evbuffer_get_length(body);
	if (n <= 16384) {
		evbuffer_add(out, evbuffer_pullup(body, -1), n);
		evbuffer_drain(body, n);
	} else {
		evbuffer_add_buffer(out, body);
	}
}

void server_send_chunk(struct conn *c, struct evbuffer *piece)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n = evbuffer_get_length(piece);
	if (n == 0)
		return;
	c->x.bytes_out += n;
	if (c->x.chunked_out) {
		char h[24];
		int hn = snprintf(h, sizeof h, "%zx\r\n", n);
		evbuffer_add(out, h, (size_t)hn);
		server_add_body(out, piece);
		evbuffer_add(out, "\r\n", 2);
	} else {
		server_add_body(out, piece);
	}
}

void server_send_error(struct conn *c, int status, const char *type, const char *code, const char *msg)
{
	size_t len = 0;
	char *body = openai_error_json(msg, type ? type : server_error_type(status), code, &len);
	if (!body) {
		body = strdup("{\"error\":{\"message\":\"internal error\",\"type\":\"server_error\",\"code\":null}}");
		len = body ? strlen(body) : 0;
	}
	server_send_head(c, status, "application/json", (long long)len);
	evbuffer_add(bufferevent_get_output(c->bev), body, len);
	c->x.bytes_out += len;
	openai_json_free_string(body);
}

int server_client_full(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) > SERVER_HIGH_WATER;
}

/* ---- connections ---- */

static void conn_process(struct conn *c);

static void conn_arm(struct conn *c, int phase, long long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	c->phase = phase;
	evtimer_add(c->timer, &tv);
}

static void conn_exchange_clear(struct conn *c)
{
	struct exchange *x = &c->x;
	if (x->uc || x->bal_held)
		upstream_cancel(c);
	if (x->json)
		json_decref(x->json);
	if (x->fx.body_out) /* a rewritten request that was refused after all (wiped when freed) */
		openai_json_free_string(x->fx.body_out);
	if (x->body)
		evbuffer_free(x->body);
	if (x->up_req)
		evbuffer_free(x->up_req);
	/* Normally finished in conn_account; here for every other way out. */
	ratelimit_finish(x->limit, 0, -1, 0);
	keycache_release(x->keytab);
	if (x->up_hdrs) {
		size_t n = evbuffer_get_length(x->up_hdrs);
		if (n > 0)
			explicit_bzero(evbuffer_pullup(x->up_hdrs, -1), n);
		evbuffer_free(x->up_hdrs);
	}
	if (x->up_body) {
		explicit_bzero(x->up_body, x->up_body_len);
		openai_json_free_string(x->up_body);
	}
	free(x->target);
	memset(x, 0, sizeof *x);
	x->up_idx = -1;
	x->inst = -1;
	x->data_class_hdr = -1;
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;
	if (c->hold)
		c->hold->c = NULL; /* its record is still written; nothing touches c */
	conn_exchange_clear(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl)
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN); /* skip the close_notify wait */
		bufferevent_free(c->bev);
	}
	event_free(c->timer);
	runtime_unref(c->rt);
	free(c);
	metrics_add_connections(-1);
	if (w->draining && !w->conns)
		event_base_loopexit(w->base, NULL);
}

/* Discards what the client sent, wiped first: it may be prompt text. */
static void conn_discard_input(struct evbuffer *in)
{
	struct evbuffer_iovec v[8];
	int n;
	while ((n = evbuffer_peek(in, -1, NULL, v, 8)) > 0) {
		size_t len = 0;
		for (int i = 0; i < n && i < 8; i++) {
			explicit_bzero(v[i].iov_base, v[i].iov_len);
			len += v[i].iov_len;
		}
		evbuffer_drain(in, len);
	}
}

/* RFC 9112 section 9.6: closing while the client may still be sending (a
 * refused upload, a body that timed out) would make the kernel answer the
 * client's unread bytes with a reset, which can destroy the response on its
 * way. So the server half-closes (close_notify and FIN after the answer),
 * reads and discards until the client closes, and gives up when the client
 * pauses for SERVER_LINGER_MS or after SERVER_LINGER_MAX_MS in all. */
static void conn_linger(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	if (!c->linger || fd < 0) {
		conn_free(c);
		return;
	}
	if (ssl && SSL_is_init_finished(ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
	if (shutdown(fd, SHUT_WR) < 0) {
		conn_free(c);
		return;
	}
	conn_discard_input(bufferevent_get_input(c->bev));
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_enable(c->bev, EV_READ);
	c->linger_end = server_now_us() + SERVER_LINGER_MAX_MS * 1000u;
	conn_arm(c, CONN_PHASE_LINGER, SERVER_LINGER_MS);
}

static void conn_close_after_flush(struct conn *c)
{
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		c->linger = 1;
	c->phase = CONN_PHASE_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_linger(c);
		return;
	}
	/* A client that never reads its answer must not hold the slot. */
	conn_arm(c, CONN_PHASE_CLOSING, c->rt->cfg->limits.idle_timeout_ms);
}

/* Metrics, access log and audit hook for the exchange that just ended. */
static void conn_account(struct conn *c)
{
	struct exchange *x = &c->x;
	uint64_t now = server_now_us();
	const struct config *cfg = c->rt->cfg;
	double dur = (double)(now - x->t_start) / 1e6;
	double up_ms = -1;
	if (x->t_up_start) {
		uint64_t e = x->t_up_end ? x->t_up_end : now;
		up_ms = (double)(e - x->t_up_start) / 1e3;
	}
	metrics_count_request(x->route ? x->route->route : OPENAI_ROUTE_COUNT, x->status, dur,
	    x->bytes_in, x->bytes_out);
	struct log_access a = {
		.request_id = x->request_id, .method = x->method, .path = x->path,
		.path_len = x->path_len, .status = x->status, .bytes_in = x->bytes_in,
		.bytes_out = x->bytes_out, .duration_ms = dur * 1e3, .upstream_ms = up_ms,
		.upstream = x->up_idx >= 0 ? cfg->upstreams[x->up_idx].name : NULL,
		.key = x->key ? x->key->name : NULL,
	};
	log_access_write(&a);
	x->fx.status = x->status;
	if (x->route)
		filter_run_done(&x->fx);
	/* The tokens-per-minute bucket learns the real count when the answer
	 * carried usage (prompt and completion); else the estimate stands. */
	const struct filter_policy_info *pi = &x->fx.policy_info;
	long long actual = pi->prompt_tokens || pi->completion_tokens ?
	    (long long)(pi->prompt_tokens + pi->completion_tokens) : -1;
	ratelimit_finish(x->limit, (long long)x->fx.prompt_estimate, actual, now);
	x->limit = NULL;
}

/* ---- "request" audit durability: hold the answer for its record ----
 *
 * The record is submitted when the exchange ends (conn_account). Until the
 * writer thread has committed it, the client's output is not written: a
 * non-streamed answer or a gateway error is held whole; a stream is held
 * from its "data: [DONE]" event (or its end), so the events before it flow
 * and the marker and the chunked terminator wait. The writer's callback
 * only queues the hold and activates the worker's event; the worker
 * releases the answer on its own loop. If the record cannot be written
 * the held bytes are dropped: the client gets a 503, or the stream an
 * error event and a cut, never a silent success (fail closed). */

void server_hold_start(struct conn *c)
{
	struct exchange *x = &c->x;
	if (x->holding || !x->route || !audit_filter_holds(&x->fx))
		return;
	server_push(c); /* what came before the held part goes now */
	x->holding = 1;
	x->hold_mark = evbuffer_get_length(bufferevent_get_output(c->bev));
	bufferevent_disable(c->bev, EV_WRITE);
}

/* Writer thread: hand the result to the worker's loop, one wake-up per
 * batch of completions (only when its queue was empty). */
static void server_hold_recorded(void *arg, int status, uint64_t seq)
{
	struct server_hold *h = arg;
	(void)seq;
	pthread_mutex_lock(&server_hold_lock);
	struct worker *w = h->w;
	if (!w) {
		pthread_mutex_unlock(&server_hold_lock);
		free(h);
		return;
	}
	if (h->prev)
		h->prev->next = h->next;
	else
		w->hold_inflight = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->status = status;
	h->prev = NULL;
	h->next = w->hold_done;
	w->hold_done = h;
	if (!h->next)
		event_active(w->hold_ev, EV_READ, 0);
	pthread_mutex_unlock(&server_hold_lock);
}

/* The record could not be written: drop what was held (wiped: it may be
 * answer text) and say so instead. */
static void conn_hold_refuse(struct conn *c, int *close_after)
{
	struct exchange *x = &c->x;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = evbuffer_get_length(out), mark = x->hold_mark < len ? x->hold_mark : len;
	struct evbuffer *keep = evbuffer_new();
	int streamed = x->head_mark == SIZE_MAX;
	log_warnx("request %s: the audit record could not be written: the answer is withheld",
	    x->request_id);
	if (len > mark) {
		unsigned char *p = evbuffer_pullup(out, -1);
		if (p)
			explicit_bzero(p + mark, len - mark);
		if (!keep) {
			/* No memory to keep the earlier bytes apart: drop them
			 * all and close, rather than let the answer through. */
			evbuffer_drain(out, len);
			*close_after = 1;
			return;
		}
		evbuffer_remove_buffer(out, keep, mark);
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add_buffer(out, keep);
	}
	if (keep)
		evbuffer_free(keep);
	static const char msg[] = "the audit log cannot be written; the answer is withheld";
	if (!streamed || !x->head_sent) {
		server_send_error(c, 503, "audit_unavailable", NULL, msg);
		return;
	}
	/* A stream whose head went out: an error event, then the cut. */
	struct evbuffer *ev = evbuffer_new();
	if (ev) {
		evbuffer_add_printf(ev, "data: {\"error\":{\"message\":\"%s\",\"type\":\"audit_unavailable\","
		    "\"code\":null}}\n\n", msg);
		server_send_chunk(c, ev);
		evbuffer_free(ev);
	}
	*close_after = 1;
}

static void conn_next(struct conn *c, int close_after);

/* Worker loop: release the answers whose records are done. */
static void server_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&server_hold_lock);
	struct server_hold *list = w->hold_done, *rev = NULL, *next;
	w->hold_done = NULL;
	pthread_mutex_unlock(&server_hold_lock);
	for (; list; list = next) { /* back to completion order */
		next = list->next;
		list->next = rev;
		rev = list;
	}
	for (struct server_hold *h = rev; h; h = next) {
		next = h->next;
		struct conn *c = h->c;
		int status = h->status;
		free(h);
		if (!c)
			continue; /* the client left; the record was written anyway */
		int close_after = c->hold_close;
		c->hold = NULL;
		c->x.holding = 0;
		bufferevent_enable(c->bev, EV_WRITE);
		if (status < 0)
			conn_hold_refuse(c, &close_after);
		server_push(c);
		conn_next(c, close_after);
	}
}

/* At the end of an exchange that needs it: submit the record with a
 * callback and wait. Returns 1 when the answer is held. */
static int conn_hold(struct conn *c, int close_after)
{
	struct exchange *x = &c->x;
	if (!x->holding) {
		if (!x->route || !audit_filter_holds(&x->fx))
			return 0;
		x->holding = 1;
		/* A non-streamed answer or an error was written in this same
		 * callback, head first: all of it is held. */
		struct evbuffer *out = bufferevent_get_output(c->bev);
		x->hold_mark = x->head_sent && x->head_mark != SIZE_MAX ? x->head_mark : evbuffer_get_length(out);
		bufferevent_disable(c->bev, EV_WRITE);
	}
	struct server_hold *h = calloc(1, sizeof *h);
	if (!h) {
		conn_account(c);
		x->holding = 0;
		bufferevent_enable(c->bev, EV_WRITE);
		conn_hold_refuse(c, &close_after);
		conn_next(c, close_after);
		return 1;
	}
	h->w = c->w;
	h->c = c;
	pthread_mutex_lock(&server_hold_lock);
	h->next = c->w->hold_inflight;
	if (h->next)
		h->next->prev = h;
	c->w->hold_inflight = h;
	pthread_mutex_unlock(&server_hold_lock);
	c->hold = h;
	c->hold_close = close_after;
	/* A writer that stalls does not keep the connection forever: the
	 * timer cuts it (the answer never goes out unrecorded). */
	conn_arm(c, CONN_PHASE_HOLD, c->rt->cfg->limits.request_timeout_ms);
	x->fx.recorded = server_hold_recorded;
	x->fx.recorded_arg = h;
	conn_account(c);
	return 1;
}

void server_finish(struct conn *c, int close_after)
{
	if (conn_hold(c, close_after))
		return;
	server_push(c);
	conn_account(c);
	conn_next(c, close_after);
}

/* The exchange is accounted for: read the next request or close. */
static void conn_next(struct conn *c, int close_after)
{
	struct exchange *x = &c->x;
	const struct config *cfg = c->rt->cfg;
	int keep = x->keep_alive && !close_after && !c->w->draining && !c->over_limit;
	conn_exchange_clear(c);
	http_request_init(&c->req);
	if (!keep) {
		conn_close_after_flush(c);
		return;
	}
	/* A pipelined request may already wait: run it from the timer, not
	 * recursively from here. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_arm(c, CONN_PHASE_IDLE, 0);
	else
		conn_arm(c, CONN_PHASE_IDLE, cfg->limits.idle_timeout_ms);
}

/* Answers with an error; close when the rest of the request is unread. */
static void conn_fail(struct conn *c, int status, const char *code, const char *msg, int close_after)
{
	if (close_after)
		c->x.keep_alive = 0;
	if (close_after && (c->phase == CONN_PHASE_HEAD || c->phase == CONN_PHASE_BODY))
		c->linger = 1; /* the client may still be sending */
	server_send_error(c, status, NULL, code, msg);
	server_finish(c, close_after);
}

/* Refuses a request whose head is complete: the head leaves the input
 * (wiped: it may hold a key) so a kept-alive connection goes on with the
 * next request. With an unread body the connection is closed instead. */
static void conn_reject(struct conn *c, int status, const char *code, const char *msg, int close_after)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t hl = c->req.head_len;
	explicit_bzero(evbuffer_pullup(in, (ev_ssize_t)hl), hl);
	evbuffer_drain(in, hl);
	conn_fail(c, status, code, msg, close_after);
}

static int conn_auth(struct conn *c, const char *head)
{
	struct http_span a = c->req.authorization;
	const char *v = head + a.off;
	/* No key: a verified client certificate may stand for one. */
	if (a.len == 0 && c->tls && c->rt->cfg->n_identities) {
		c->x.key = keycache_identity_find(c->rt->cfg, bufferevent_openssl_get_ssl(c->bev));
		return c->x.key ? 0 : -1;
	}
	if (a.len < 8 || strncasecmp(v, "Bearer ", 7) != 0)
		return -1;
	size_t ks = 7;
	while (ks < a.len && v[ks] == ' ')
		ks++;
	if (ks == a.len)
		return -1;
	unsigned char md[32];
	if (tls_sha256(v + ks, a.len - ks, md) < 0)
		return -1;
	/* Compare against every key, each in constant time: neither the
	 * position of the match nor a prefix leaks through timing. */
	const struct config *cfg = c->rt->cfg;
	const struct config_key *found = NULL;
	for (size_t i = 0; i < cfg->n_keys; i++)
		if (CRYPTO_memcmp(md, cfg->keys[i].sha256, 32) == 0)
			found = &cfg->keys[i];
	/* Then the key store's cache: one hash probe, no SQLite. */
	struct keycache_table *t = found ? NULL : keycache_acquire();
	if (t) {
		found = keycache_find(t, md, (long long)time(NULL));
		if (found)
			c->x.keytab = t;
		else
			keycache_release(t);
	}
	OPENSSL_cleanse(md, sizeof md);
	c->x.key = found;
	return found ? 0 : -1;
}

/* RFC 9110 section 7.6.1 hop-by-hop fields, plus what hafen sets itself. */
static const char *const conn_dropped_headers[] = {
	"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
	"te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "authorization",
	"expect", "x-request-id", "content-type",
	"x-hafen-user", /* the end user (audit pseudonym, Art. 50 notice): never to the upstream */
	"x-hafen-data-class", /* hafen's routing input, not the engine's */
	NULL,
};

static int conn_forwarded_header(const char *head, const struct http_request *r, int i)
{
	const struct http_header *h = &r->headers[i];
	for (int k = 0; conn_dropped_headers[k]; k++)
		if (http_span_eq(head, h->name, conn_dropped_headers[k]))
			return 0;
	/* Fields named in Connection are hop-by-hop too. */
	for (int j = 0; j < r->n_headers; j++) {
		if (!http_span_eq(head, r->headers[j].name, "connection"))
			continue;
		const char *v = head + r->headers[j].value.off;
		size_t vl = r->headers[j].value.len, p = 0;
		while (p < vl) {
			while (p < vl && (v[p] == ' ' || v[p] == ',' || v[p] == '\t'))
				p++;
			size_t s = p;
			while (p < vl && v[p] != ',' && v[p] != ' ' && v[p] != '\t')
				p++;
			if (p > s && p - s == h->name.len && strncasecmp(v + s, head + h->name.off, p - s) == 0)
				return 0;
		}
	}
	return 1;
}

/* Keeps what every attempt's request needs from the client's head (the
 * target and the header fields that go upstream): the head itself is
 * wiped from the input before the upstream is contacted. */
static int conn_keep_head(struct conn *c, const char *head)
{
	struct exchange *x = &c->x;
	const struct http_span t = c->req.target;
	x->target = strndup(head + t.off, t.len);
	x->up_hdrs = evbuffer_new();
	if (!x->target || !x->up_hdrs)
		return -1;
	for (int i = 0; i < c->req.n_headers; i++) {
		if (!conn_forwarded_header(head, &c->req, i))
			continue;
		const struct http_header *h = &c->req.headers[i];
		evbuffer_add(x->up_hdrs, head + h->name.off, h->name.len);
		evbuffer_add(x->up_hdrs, ": ", 2);
		evbuffer_add(x->up_hdrs, head + h->value.off, h->value.len);
		evbuffer_add(x->up_hdrs, "\r\n", 2);
	}
	return 0;
}

/* The body for the pool about to be tried: the alias replaced by the
 * pool's model name (docs/upstreams.md). Serialized again only when the
 * name differs from the one the current body carries. */
static int conn_body_for(struct conn *c, const char *model)
{
	struct exchange *x = &c->x;
	if (!x->up_body)
		return 0;
	const char *have = x->up_body_model;
	/* Without routes no pool renames (model NULL); with routes every
	 * candidate names its model: the two never mix in one exchange. */
	if (!model || (have && strcmp(model, have) == 0))
		return 0;
	if (!have && x->fx.model && strcmp(x->fx.model, model) == 0) {
		x->up_body_model = model; /* the alias is the pool's name too */
		return 0;
	}
	/* Validated without a tree (no audit log; a policy's rewrite is in
	 * up_body already): parsed only now, for a pool that renames the model. */
	if (!x->json && !(x->json = json_loadb(x->up_body, x->up_body_len, 0, NULL)))
		return -1;
	if (json_object_set_new(x->json, "model", json_string(model)) < 0)
		return -1;
	char *s = json_dumps(x->json, JSON_COMPACT);
	if (!s)
		return -1;
	explicit_bzero(x->up_body, x->up_body_len);
	openai_json_free_string(x->up_body);
	x->up_body = s;
	x->up_body_len = strlen(s);
	x->up_body_model = model;
	return 0;
}

int server_build_request(struct conn *c)
{
	struct exchange *x = &c->x;
	const struct config_upstream *u = &c->rt->cfg->upstreams[x->up_idx];
	const struct config_instance *in = &u->instances[x->inst];
	if (x->up_req) {
		evbuffer_free(x->up_req);
		x->up_req = NULL;
	}
	if (conn_body_for(c, x->cand_pos < x->n_cand ? x->cand[x->cand_pos].model : NULL) < 0)
		return -1;
	struct evbuffer *req = evbuffer_new();
	if (!req)
		return -1;
	evbuffer_add_printf(req, "%s %s%s HTTP/1.1\r\nHost: %s\r\nX-Request-Id: %s\r\n", x->method,
	    in->base_path, x->target, in->host_header, x->request_id);
	if (u->auth_header)
		evbuffer_add_printf(req, "%s\r\n", u->auth_header);
	if (x->up_body)
		evbuffer_add_printf(req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", x->up_body_len);
	if (x->up_hdrs && evbuffer_get_length(x->up_hdrs) > 0)
		evbuffer_add(req, evbuffer_pullup(x->up_hdrs, -1), evbuffer_get_length(x->up_hdrs));
	evbuffer_add(req, "\r\n", 2);
	/* By reference: the body is freed (wiped) with the exchange, after
	 * every connection that could still hold it is gone. */
	if (x->up_body)
		evbuffer_add_reference(req, x->up_body, x->up_body_len, NULL, NULL);
	x->up_req = req;
	return 0;
}

/* ---- routing ---- */

static int conn_model_killed(void *arg, const char *alias)
{
	(void)arg;
	return killswitch_is_on(KILLSWITCH_KIND_MODEL, alias);
}

static int conn_upstream_killed(void *arg, int u)
{
	const struct runtime *rt = arg;
	return killswitch_is_on(KILLSWITCH_KIND_UPSTREAM, rt->cfg->upstreams[u].name);
}

static int conn_upstream_available(void *arg, int u)
{
	const struct runtime *rt = arg;
	return balance_available(&rt->pools[u], server_now_us());
}

static int conn_upstream_serves(void *arg, int u, const char *model)
{
	return discover_serves(arg, u, model);
}

/* Picks the ordered pools for the request, or refuses it: 404 for an
 * alias this key does not have, 503 with the reason when nothing
 * eligible is up (never a pool the class does not allow). The reason
 * goes to the audit record as error_class. */
static int conn_route(struct conn *c, const char *model)
{
	struct exchange *x = &c->x;
	struct router_state st = {conn_model_killed, conn_upstream_killed, conn_upstream_available,
		conn_upstream_serves, c->rt};
	struct router_request rq = {model, x->fx.data_class, x->key ? x->key->purpose : NULL,
		x->key ? x->key->tenant : NULL};
	struct router_result r;
	if (router_select(c->rt->cfg, &rq, &st, &r) < 0) {
		x->fx.error_type = r.code;
		server_send_error(c, r.status, NULL, r.code, r.message);
		return -1;
	}
	x->n_cand = r.n;
	memcpy(x->cand, r.c, r.n * sizeof r.c[0]);
	x->cand_pos = 0;
	x->up_idx = x->cand[0].upstream;
	x->fx.upstream = c->rt->cfg->upstreams[x->up_idx].name;
	x->fx.upstream_location = router_location_name(c->rt->cfg->upstreams[x->up_idx].location);
	return 0;
}

/* GET /v1/models with routes configured: the aliases this key may use,
 * answered by hafen itself (OpenAI list shape). */
static void conn_models_local(struct conn *c)
{
	struct exchange *x = &c->x;
	const struct config *cfg = c->rt->cfg;
	json_t *data = json_array();
	for (size_t i = 0; data && i < cfg->n_routes; i++) {
		const char *alias = cfg->routes[i].model;
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(cfg->routes[k].model, alias) == 0;
		if (seen || killswitch_is_on(KILLSWITCH_KIND_MODEL, alias) ||
		    !router_model_visible(cfg, alias, x->key ? x->key->purpose : NULL, x->key ? x->key->tenant : NULL))
			continue;
		json_array_append_new(data, json_pack("{s:s, s:s, s:i, s:s}", "id", alias, "object", "model",
		    "created", 0, "owned_by", "hafen"));
	}
	json_t *list = data ? json_pack("{s:s, s:o}", "object", "list", "data", data) : NULL;
	char *body = list ? json_dumps(list, JSON_COMPACT) : NULL;
	json_decref(list);
	if (!body) {
		server_send_error(c, 500, NULL, NULL, "out of memory");
		return;
	}
	size_t n = strlen(body);
	server_send_head(c, 200, "application/json", (long long)n);
	evbuffer_add(bufferevent_get_output(c->bev), body, n);
	x->bytes_out += n;
	openai_json_free_string(body);
}

/* Called once the request bytes are wiped from the input: the upstream
 * side may answer (and finish the exchange) synchronously. */
static void conn_start_upstream(struct conn *c)
{
	if (c->x.n_cand && c->phase == CONN_PHASE_PROXY)
		upstream_start(c);
}

/* The body is complete: validate, run the request filters, forward. */
static void conn_dispatch(struct conn *c, const char *head, const char *body, size_t len)
{
	struct exchange *x = &c->x;
	char err[256];
	/* No filter needs a parsed body: the body is validated in one pass
	 * without building a tree; the policy filter scans its bytes
	 * (fx.body_src) and parses them only to rewrite, the audit filter
	 * finds `user` in them. */
	struct openai_body_info bi;
	/* With a policy the same pass records the texts it reads (one walk
	 * over the client's bytes instead of two). */
	struct openai_texts bt;
	if (openai_body_check_texts(x->route, body, len, &bi, x->fx.policy ? &bt : NULL, err, sizeof err) < 0) {
		conn_fail(c, 400, NULL, err, 0);
		return;
	}
	x->fx.body_texts = x->fx.policy ? &bt : NULL;
	/* The requested model, for routing and the filters that name it (no
	 * alias is as long as the buffer: a longer name counts as none). */
	if (bi.model && bi.model_len < sizeof x->model) {
		memcpy(x->model, bi.model, bi.model_len);
		x->model[bi.model_len] = 0;
		x->fx.model = x->model;
	}
	x->stream = bi.stream;
	x->fx.body_src = body;
	x->fx.body_src_len = len;
	x->fx.stream = bi.stream;
	/* The class is known after the filters: the policy's, raised by the
	 * client's header (never lowered), then by the key's and purpose's
	 * floors in the purpose check. Then the route, before a byte leaves. */
	int refused = filter_run_request(&x->fx) < 0;
	x->fx.body_texts = NULL;
	if (!refused && x->data_class_hdr > x->fx.data_class)
		x->fx.data_class = x->data_class_hdr;
	int purpose_refused = !refused && purpose_check_request(c->rt->cfg->purposes, &x->fx) < 0;
	x->fx.class_final = !refused;
	if (refused || purpose_refused) {
		server_send_error(c, x->fx.status ? x->fx.status : 403, x->fx.error_type, NULL, x->fx.message);
		server_finish(c, 0);
		return;
	}
	if (conn_route(c, x->fx.model) < 0) {
		server_finish(c, 0);
		return;
	}
	/* Only the policy filter rewrites the body (filter.h): it hands the
	 * new one over in body_out. Otherwise the body is what the client
	 * sent, so its bytes go upstream as they came instead of being
	 * serialized again; they are what openai_body_check validated above
	 * (duplicate keys, bad UTF-8, NUL escapes and trailing data refused). */
	char *s = x->fx.body_out ? x->fx.body_out : openai_json_copy_string(body, len);
	x->fx.body_src = NULL;
	x->fx.body_out = NULL;
	if (!s) {
		conn_fail(c, 500, NULL, "cannot serialize the request", 0);
		return;
	}
	x->up_body = s;
	x->up_body_len = strlen(s);
	if (conn_keep_head(c, head) < 0) {
		conn_fail(c, 500, NULL, "out of memory", 0);
		return;
	}
	c->phase = CONN_PHASE_PROXY;
}

static void conn_read_body(struct conn *c)
{
	struct exchange *x = &c->x;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const struct config *cfg = c->rt->cfg;
	/* The head is kept at the front of the input until the body is in:
	 * the forwarded header fields point into it. */
	size_t hl = c->req.head_len;
	if (!c->req.chunked) {
		size_t need = hl + (size_t)x->body_len;
		if (evbuffer_get_length(in) < need)
			return;
		char *p = (char *)evbuffer_pullup(in, (ev_ssize_t)need);
		x->bytes_in += (uint64_t)x->body_len;
		conn_dispatch(c, p, p + hl, (size_t)x->body_len);
		explicit_bzero(p, need);
		evbuffer_drain(in, need);
		conn_start_upstream(c);
		return;
	}
	/* Chunked: decode what is there after the head (and the part decoded
	 * before, tracked by x->body_len as the count of coded bytes used). */
	size_t avail = evbuffer_get_length(in);
	size_t off = hl + (size_t)x->body_len;
	if (avail <= off)
		return;
	char *p = (char *)evbuffer_pullup(in, -1);
	char *tmp = malloc(avail - off);
	if (!tmp) {
		conn_fail(c, 500, NULL, "out of memory", 1);
		return;
	}
	size_t used = 0, outlen = 0;
	int rc = http_chunked_decode(&x->chunked, p + off, avail - off, &used, tmp, &outlen);
	evbuffer_add(x->body, tmp, outlen);
	explicit_bzero(tmp, outlen);
	free(tmp);
	x->body_len += (long long)used;
	x->bytes_in += used;
	if (rc == HTTP_PARSE_ERROR) {
		conn_fail(c, 400, NULL, "malformed chunked request body", 1);
		return;
	}
	if ((long long)evbuffer_get_length(x->body) > cfg->limits.max_body_bytes) {
		conn_fail(c, 413, NULL, "request body too large", 1);
		return;
	}
	if (rc != HTTP_PARSE_DONE)
		return;
	size_t blen = evbuffer_get_length(x->body);
	char *b = (char *)evbuffer_pullup(x->body, -1);
	conn_dispatch(c, p, b ? b : "", blen);
	if (b)
		explicit_bzero(b, blen);
	explicit_bzero(p, off + used);
	evbuffer_drain(in, off + used);
	conn_start_upstream(c);
}

/* A complete head is at the front of the input. */
static void conn_begin(struct conn *c, const char *head)
{
	struct exchange *x = &c->x;
	struct http_request *r = &c->req;
	const struct config *cfg = c->rt->cfg;
	x->t_start = server_now_us();
	x->keep_alive = r->keep_alive;
	x->version_minor = r->version_minor;
	x->bytes_in = r->head_len;
	x->up_idx = -1;
	x->inst = -1;
	x->data_class_hdr = -1;
	snprintf(x->method, sizeof x->method, "%.*s", (int)r->method_name.len, head + r->method_name.off);
	x->path_len = r->path.len < sizeof x->path - 1 ? r->path.len : sizeof x->path - 1;
	memcpy(x->path, head + r->path.off, x->path_len);
	x->path[x->path_len] = 0;
	if (request_id_valid(head + r->request_id.off, r->request_id.len)) {
		memcpy(x->request_id, head + r->request_id.off, r->request_id.len);
		x->request_id[r->request_id.len] = 0;
	} else if (request_id_generate(x->request_id) < 0) {
		snprintf(x->request_id, sizeof x->request_id, "unknown");
	}
	x->fx.request_id = x->request_id;
	int has_body = r->chunked || r->content_length > 0;
	if (c->over_limit) {
		conn_reject(c, 429, "too_many_connections", "too many connections, retry later", 1);
		return;
	}
	if (c->w->draining || atomic_load(&server_draining)) {
		conn_reject(c, 503, "draining", "the gateway is shutting down", 1);
		return;
	}
	int status;
	x->route = openai_route_find(head + r->path.off, r->path.len, r->method, &status);
	if (!x->route) {
		x->route = NULL;
		conn_reject(c, status, NULL, status == 405 ? "method not allowed for this path" : "no such endpoint", has_body);
		return;
	}
	x->fx.route = x->route->route;
	if (conn_auth(c, head) < 0) {
		conn_reject(c, 401, "invalid_api_key",
		    r->authorization.len ? "invalid API key" : "missing API key (Authorization: Bearer KEY)", has_body);
		return;
	}
	x->fx.key = x->key;
	x->fx.policy = c->rt->policy;
	x->fx.audit = c->rt->audit;
	x->fx.transparency = c->rt->transparency;
	/* The end user: audit pseudonym, and who has seen the Art. 50 notice. */
	for (int i = 0; i < r->n_headers; i++)
		if (http_span_eq(head, r->headers[i].name, "x-hafen-user") &&
		    r->headers[i].value.len < sizeof x->fx.user) {
			memcpy(x->fx.user, head + r->headers[i].value.off, r->headers[i].value.len);
			x->fx.user[r->headers[i].value.len] = 0;
		}
	if (c->rt->audit) {
		/* the peer does not change on a connection: one system call and
		 * one format per connection, not per request */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (!c->peer[0] && (getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &sl) != 0 ||
		    getnameinfo((struct sockaddr *)&ss, sl, c->peer, sizeof c->peer, NULL, 0, NI_NUMERICHOST) != 0))
			c->peer[0] = 0;
		_Static_assert(sizeof c->peer == sizeof x->fx.client_addr, "peer fits client_addr");
		memcpy(x->fx.client_addr, c->peer, sizeof c->peer);
	}
	/* The client may raise its request's class, never lower it
	 * (architecture.md "Data classes"); a value we cannot name is refused
	 * rather than guessed. */
	for (int i = 0; i < r->n_headers; i++) {
		if (!http_span_eq(head, r->headers[i].name, "x-hafen-data-class"))
			continue;
		int dc = router_data_class_parse(head + r->headers[i].value.off, r->headers[i].value.len);
		if (dc < 0) {
			conn_reject(c, 400, "invalid_data_class",
			    "X-Hafen-Data-Class: expected one of public, internal, confidential, restricted", has_body);
			return;
		}
		if (dc > x->data_class_hdr)
			x->data_class_hdr = dc;
	}
	/* Limits before the body is read: a refused client sends it for nothing. */
	x->fx.prompt_estimate = r->content_length > 0 ? (uint64_t)r->content_length / 4 : 0;
	long long retry = 1;
	enum ratelimit_result lr = ratelimit_admit(x->key, (long long)x->fx.prompt_estimate, x->t_start,
	    &x->limit, &retry);
	if (lr != RATELIMIT_RESULT_OK) {
		x->retry_after = retry;
		x->fx.error_type = "rate_limit_exceeded";
		conn_reject(c, 429, "rate_limit_exceeded", ratelimit_result_message(lr), has_body);
		return;
	}
	if (!x->route->has_body) {
		if (x->data_class_hdr > x->fx.data_class)
			x->fx.data_class = x->data_class_hdr;
		int purpose_refused = purpose_check_request(cfg->purposes, &x->fx) < 0;
		x->fx.class_final = 1;
		if (purpose_refused) {
			conn_reject(c, x->fx.status, x->fx.error_type, x->fx.message, 0);
			return;
		}
		int local = x->route->route == OPENAI_ROUTE_MODELS && cfg->n_routes > 0;
		int rc = local ? 0 : conn_route(c, NULL);
		if (rc == 0 && !local && conn_keep_head(c, head) < 0) {
			server_send_error(c, 500, NULL, NULL, "out of memory");
			rc = -1;
		}
		struct evbuffer *in = bufferevent_get_input(c->bev);
		explicit_bzero(evbuffer_pullup(in, (ev_ssize_t)r->head_len), r->head_len);
		evbuffer_drain(in, r->head_len);
		if (local)
			conn_models_local(c);
		if (local || rc < 0) {
			server_finish(c, 0);
			return;
		}
		c->phase = CONN_PHASE_PROXY;
		conn_arm(c, CONN_PHASE_PROXY, cfg->limits.request_timeout_ms);
		conn_start_upstream(c);
		return;
	}
	if (!r->chunked && r->content_length < 0) {
		conn_reject(c, 411, NULL, "a request body needs Content-Length or chunked coding", 1);
		return;
	}
	if (r->expect_continue) {
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	x->body_len = r->chunked ? 0 : r->content_length;
	if (r->chunked) {
		x->body = evbuffer_new();
		http_chunked_init(&x->chunked);
	}
	conn_arm(c, CONN_PHASE_BODY, cfg->limits.request_timeout_ms);
	conn_read_body(c);
}

static void conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const struct config *cfg = c->rt->cfg;
	if (c->phase == CONN_PHASE_BODY) {
		conn_read_body(c);
		return;
	}
	if (c->phase != CONN_PHASE_IDLE && c->phase != CONN_PHASE_HEAD)
		return; /* busy: pipelined bytes wait their turn */
	if (c->req.scanned == 0) {
		/* RFC 9112 section 2.2: ignore empty lines before a request. */
		unsigned char two[2];
		while (evbuffer_copyout(in, two, 1) == 1 && (two[0] == '\r' || two[0] == '\n'))
			evbuffer_drain(in, 1);
	}
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return;
	if (c->phase == CONN_PHASE_IDLE) {
		/* After a reload, the next request on a kept-alive connection
		 * uses the new config too (one atomic load when nothing changed). */
		if (atomic_load_explicit(&server_generation, memory_order_relaxed) != c->rt->generation) {
			struct runtime *cur = server_runtime_get();
			runtime_unref(c->rt);
			c->rt = cur;
			cfg = cur->cfg;
		}
		conn_arm(c, CONN_PHASE_HEAD, cfg->limits.header_timeout_ms);
	}
	size_t max = (size_t)cfg->limits.max_header_bytes;
	size_t n = len < max + 4 ? len : max + 4;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	int rc = http_parse_request(&c->req, p, n, max, cfg->limits.max_body_bytes);
	if (rc == HTTP_PARSE_AGAIN)
		return;
	if (rc == HTTP_PARSE_ERROR) {
		c->x.t_start = server_now_us();
		c->x.up_idx = -1;
		c->x.keep_alive = 0;
		c->x.version_minor = 1;
		request_id_generate(c->x.request_id);
		conn_fail(c, c->req.status, NULL, c->req.error, 1);
		return;
	}
	conn_begin(c, p);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->phase == CONN_PHASE_LINGER) {
		conn_discard_input(bufferevent_get_input(bev));
		uint64_t now = server_now_us();
		if (now >= c->linger_end)
			conn_free(c);
		else
			conn_arm(c, CONN_PHASE_LINGER, SERVER_LINGER_MS);
		return;
	}
	conn_process(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->phase == CONN_PHASE_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_linger(c);
		return;
	}
	if (c->phase == CONN_PHASE_PROXY && c->x.paused && !server_client_full(c))
		upstream_resume(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* The client went away: cancel the upstream request too. */
		if (c->phase == CONN_PHASE_PROXY || c->phase == CONN_PHASE_BODY) {
			if (!c->x.head_sent)
				c->x.status = 499;
			c->x.keep_alive = 0;
			if (c->x.uc)
				upstream_cancel(c);
			conn_account(c);
		}
		conn_free(c);
	}
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	switch (c->phase) {
	case CONN_PHASE_IDLE:
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			conn_process(c);
		else
			conn_free(c);
		break;
	case CONN_PHASE_HEAD:
		c->x.t_start = server_now_us();
		c->x.up_idx = -1;
		c->x.version_minor = 1;
		request_id_generate(c->x.request_id);
		conn_fail(c, 408, "header_timeout", "request head not received in time", 1);
		break;
	case CONN_PHASE_BODY:
		conn_fail(c, 408, "request_timeout", "request body not received in time", 1);
		break;
	case CONN_PHASE_PROXY:
		if (c->x.uc)
			upstream_cancel(c);
		if (!c->x.head_sent) {
			conn_fail(c, 504, "request_timeout", "request timed out", 1);
		} else {
			server_finish(c, 1);
		}
		break;
	default:
		conn_free(c);
		break;
	}
}

struct server_lev_arg {
	struct worker *w;
	int listener;
};

static void server_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct server_lev_arg *la = arg;
	struct worker *w = la->w;
	struct runtime *rt = server_runtime_get();
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		runtime_unref(rt);
		evutil_closesocket(fd);
		return;
	}
	c->w = w;
	c->rt = rt;
	c->listener = la->listener;
	c->x.up_idx = -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct tls_server *t = la->listener < (int)rt->cfg->n_listeners ? rt->listener_tls[la->listener] : NULL;
	if (t) {
		SSL *ssl = SSL_new(t->ctx);
		if (ssl)
			SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		c->tls = 1;
		c->bev = ssl ? bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE) : NULL;
		if (!c->bev && ssl)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->timer = evtimer_new(w->base, conn_timer_cb, c);
	if (!c->bev || !c->timer) {
		if (!c->bev)
			evutil_closesocket(fd);
		else
			bufferevent_free(c->bev);
		if (c->timer)
			event_free(c->timer);
		runtime_unref(rt);
		free(c);
		return;
	}
	metrics_add_connections(1);
	if (metrics_connections_open() > rt->cfg->limits.max_connections)
		c->over_limit = 1;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	http_request_init(&c->req);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, SERVER_LOW_WATER, 0);
	/* Bound what a busy connection buffers from a client that pipelines. */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)(rt->cfg->limits.max_header_bytes + rt->cfg->limits.max_body_bytes) + 65536);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_arm(c, CONN_PHASE_HEAD, rt->cfg->limits.header_timeout_ms);
}

/* ---- workers ---- */

static void server_worker_notify(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (w->draining)
		return;
	w->draining = 1;
	for (int i = 0; i < w->n_lev; i++) {
		if (w->lev[i])
			evconnlistener_free(w->lev[i]);
		w->lev[i] = NULL;
	}
	upstream_pool_flush(w);
	/* Idle keep-alive connections are closed now; busy ones finish. */
	struct conn *c = w->conns, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->phase == CONN_PHASE_IDLE && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
			conn_free(c);
	}
	if (!w->conns)
		event_base_loopexit(w->base, NULL);
}

static void *server_worker_main(void *arg)
{
	struct worker *w = arg;
	event_base_dispatch(w->base);
	/* Past the drain deadline: cut what is left. */
	while (w->conns)
		conn_free(w->conns);
	upstream_pool_flush(w);
	keycache_thread_exit();
	if (w->id == 0)
		health_stop();
	return NULL;
}

static int server_bind(const char *addr, int port, int reuseport, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char ps[16];
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(ps, sizeof ps, "%d", port);
	int rc = getaddrinfo(addr, ps, &hints, &res);
	if (rc != 0) {
		hints.ai_flags = AI_PASSIVE;
		rc = getaddrinfo(addr, ps, &hints, &res);
	}
	if (rc != 0 || !res) {
		snprintf(err, errlen, "cannot resolve listener address %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int server_listen(const char *addr, int port, char *err, size_t errlen)
{
	return server_bind(addr, port, 0, err, errlen);
}

int server_init(struct runtime *rt, char *err, size_t errlen)
{
	const struct config *cfg = rt->cfg;
	/* Switches pulled before a restart stay pulled (AI Act Art. 14). */
	if (cfg->kill_state_file && killswitch_load(cfg->kill_state_file, err, errlen) < 0)
		return -1;
	server_rt = runtime_ref(rt);
	rt->generation = 1;
	if (discover_start(rt) < 0)
		log_warnx("model discovery: cannot start its thread");
	atomic_store(&server_generation, 1);
	server_n_workers = (int)cfg->workers;
	server_workers = calloc((size_t)server_n_workers, sizeof *server_workers);
	if (!server_workers)
		return -1;
	for (int i = 0; i < server_n_workers; i++) {
		struct worker *w = &server_workers[i];
		w->id = i;
		/* The changelist folds an EV_WRITE add and del made in one loop
		 * pass (a TLS response written at once) into no epoll_ctl at all. */
		struct event_config *ec = event_config_new();
		if (ec)
			event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		w->base = ec ? event_base_new_with_config(ec) : NULL;
		if (ec)
			event_config_free(ec);
		w->n_lev = (int)cfg->n_listeners;
		w->lev = calloc(cfg->n_listeners, sizeof *w->lev);
		struct server_lev_arg *args = calloc(cfg->n_listeners, sizeof *args);
		w->lev_args = args;
		w->notify = w->base ? event_new(w->base, -1, 0, server_worker_notify, w) : NULL;
		w->hold_ev = w->base ? event_new(w->base, -1, 0, server_hold_cb, w) : NULL;
		if (!w->base || !w->lev || !args || !w->notify || !w->hold_ev) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t l = 0; l < cfg->n_listeners; l++) {
			int fd = server_bind(cfg->listeners[l].address, (int)cfg->listeners[l].port, 1, err, errlen);
			if (fd < 0)
				return -1;
			args[l].w = w;
			args[l].listener = (int)l;
			w->lev[l] = evconnlistener_new(w->base, server_accept_cb, &args[l],
			    LEV_OPT_CLOSE_ON_FREE, -1, fd);
			if (!w->lev[l]) {
				snprintf(err, errlen, "cannot listen on %s port %lld", cfg->listeners[l].address,
				    cfg->listeners[l].port);
				return -1;
			}
		}
	}
	return 0;
}

int server_start(void)
{
	/* Active health checks run on worker 0's loop. */
	if (server_n_workers > 0 && health_start(server_workers[0].base) < 0)
		return -1;
	for (int i = 0; i < server_n_workers; i++)
		if (pthread_create(&server_workers[i].thread, NULL, server_worker_main, &server_workers[i]) != 0)
			return -1;
	return 0;
}

void server_drain(void)
{
	atomic_store(&server_draining, 1);
	for (int i = 0; i < server_n_workers; i++)
		event_active(server_workers[i].notify, EV_READ, 0);
}

int server_draining_now(void)
{
	return atomic_load(&server_draining);
}

void server_stop(void)
{
	for (int i = 0; i < server_n_workers; i++)
		event_base_loopbreak(server_workers[i].base);
}

void server_join(void)
{
	for (int i = 0; i < server_n_workers; i++) {
		struct worker *w = &server_workers[i];
		pthread_join(w->thread, NULL);
		for (int l = 0; l < w->n_lev; l++)
			if (w->lev[l])
				evconnlistener_free(w->lev[l]);
		free(w->lev);
		free(w->lev_args);
		/* Records still in the writer's queue: their callbacks find no
		 * worker and only free the hold. */
		pthread_mutex_lock(&server_hold_lock);
		for (struct server_hold *h = w->hold_inflight; h; h = h->next)
			h->w = NULL;
		w->hold_inflight = NULL;
		while (w->hold_done) {
			struct server_hold *h = w->hold_done;
			w->hold_done = h->next;
			free(h);
		}
		pthread_mutex_unlock(&server_hold_lock);
		event_free(w->hold_ev);
		event_free(w->notify);
		event_base_free(w->base);
	}
	free(server_workers);
	server_workers = NULL;
	server_n_workers = 0;
	pthread_mutex_lock(&server_lock);
	runtime_unref(server_rt);
	server_rt = NULL;
	pthread_mutex_unlock(&server_lock);
}

/* Health and breaker state of the instances a reload kept (same upstream
 * name, same URL) go to the new runtime: an ejected instance stays out
 * until its own recovery instead of getting traffic again because the
 * configuration was reloaded. */
static void server_carry_state(struct runtime *rt, const struct runtime *old)
{
	const struct config *a = old->cfg, *b = rt->cfg;
	for (size_t u = 0; u < b->n_upstreams; u++)
		for (size_t ou = 0; ou < a->n_upstreams; ou++) {
			if (strcmp(a->upstreams[ou].name, b->upstreams[u].name) != 0)
				continue;
			for (size_t i = 0; i < b->upstreams[u].n_instances; i++)
				for (size_t oi = 0; oi < a->upstreams[ou].n_instances; oi++)
					if (strcmp(a->upstreams[ou].instances[oi].url, b->upstreams[u].instances[i].url) == 0) {
						balance_carry(&rt->pools[u], i, &old->pools[ou], oi);
						break;
					}
			break;
		}
}

/* A reload may change anything but the sockets: those were bound before
 * privileges were dropped and stay as they are until a restart. */
int server_reload(struct runtime *rt, char *err, size_t errlen)
{
	const struct config *a = server_rt->cfg, *b = rt->cfg;
	int same = a->n_listeners == b->n_listeners && a->workers == b->workers;
	for (size_t i = 0; same && i < a->n_listeners; i++)
		same = strcmp(a->listeners[i].address, b->listeners[i].address) == 0 &&
		    a->listeners[i].port == b->listeners[i].port && a->listeners[i].plain == b->listeners[i].plain;
	if (!same) {
		snprintf(err, errlen, "%s: listeners and workers cannot change on reload, restart hafen", b->file);
		return -1;
	}
	if (discover_start(rt) < 0)
		log_warnx("model discovery: cannot start its thread");
	pthread_mutex_lock(&server_lock);
	struct runtime *old = server_rt;
	server_carry_state(rt, old);
	rt->generation = atomic_fetch_add(&server_generation, 1) + 1;
	server_rt = runtime_ref(rt);
	pthread_mutex_unlock(&server_lock);
	runtime_unref(old);
	return 0;
}
