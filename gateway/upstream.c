/* The upstream side of an exchange: a keep-alive pool per worker and
 * upstream, the HTTP/1.1 client, and the relay back to the client.
 *
 * Non-streamed answers are collected whole (bounded) so the body filters
 * see complete JSON, then sent with Content-Length. Streamed answers
 * (text/event-stream) are cut into SSE events and relayed event by event
 * as chunks; when the client's output buffer passes the high watermark
 * the upstream is no longer read until it drains (backpressure), and a
 * client that leaves cancels the upstream request by closing it. */
#include "gwconfig.h"
#include "server.h"
#include "killswitch.h"
#include "log.h"
#include "metrics.h"
#include "sse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/x509v3.h>

#define UPSTREAM_MAX_HEAD 65536
#define UPSTREAM_MAX_BODY (64u << 20)  /* a non-streamed answer larger than this is refused */
#define UPSTREAM_MAX_EVENT (4u << 20)  /* one SSE event */

enum upstream_body_mode {
	UPSTREAM_BODY_LENGTH,
	UPSTREAM_BODY_CHUNKED,
	UPSTREAM_BODY_CLOSE,
};

enum upstream_timer {
	UPSTREAM_TIMER_CONNECT,
	UPSTREAM_TIMER_FIRST_BYTE,
	UPSTREAM_TIMER_TOTAL,
};

struct upconn {
	struct worker *w;
	struct runtime *rt;
	int up_idx;           /* the pool */
	size_t g;             /* the instance, flattened (rt->inst_base) */
	struct bufferevent *bev;
	struct event *timer;
	int timer_phase;
	struct conn *owner;   /* NULL while idle in the pool */
	struct upconn *next;  /* pool list */
	int reused;
	int got_bytes;
	int head_done;
	int body_mode;
	int stream;
	long long remaining;
	struct http_response resp;
	struct http_chunked ch;
	char content_type[128];
	struct evbuffer *body; /* decoded body: whole answer, or SSE bytes not yet an event */
	char *scratch;         /* SSE data buffer */
	size_t scratch_cap;
};

static void upstream_read_cb(struct bufferevent *bev, void *arg);
static void upstream_event_cb(struct bufferevent *bev, short what, void *arg);

static void upconn_free(struct upconn *uc)
{
	if (uc->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(uc->bev);
		if (ssl)
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
		bufferevent_free(uc->bev);
	}
	if (uc->timer)
		event_free(uc->timer);
	if (uc->body)
		evbuffer_free(uc->body);
	if (uc->scratch) {
		explicit_bzero(uc->scratch, uc->scratch_cap);
		free(uc->scratch);
	}
	runtime_unref(uc->rt);
	free(uc);
}

static void upstream_pool_remove(struct upconn *uc)
{
	struct worker *w = uc->w;
	if (w->pool_rt != uc->rt)
		return;
	struct upconn **pp = &w->idle[uc->g];
	for (; *pp; pp = &(*pp)->next)
		if (*pp == uc) {
			*pp = uc->next;
			w->n_idle[uc->g]--;
			return;
		}
}

void upstream_pool_flush(struct worker *w)
{
	if (!w->pool_rt)
		return;
	for (size_t i = 0; i < w->pool_rt->n_inst; i++)
		while (w->idle[i]) {
			struct upconn *uc = w->idle[i];
			w->idle[i] = uc->next;
			upconn_free(uc);
		}
	free(w->idle);
	free(w->n_idle);
	w->idle = NULL;
	w->n_idle = NULL;
	runtime_unref(w->pool_rt);
	w->pool_rt = NULL;
}

/* The pool follows the newest runtime a worker has seen. */
static int upstream_pool_adopt(struct worker *w, struct runtime *rt)
{
	if (w->pool_rt == rt)
		return 0;
	if (w->pool_rt && w->pool_rt->generation > rt->generation)
		return -1;
	upstream_pool_flush(w);
	w->idle = calloc(rt->n_inst, sizeof *w->idle);
	w->n_idle = calloc(rt->n_inst, sizeof *w->n_idle);
	if (!w->idle || !w->n_idle) {
		free(w->idle);
		free(w->n_idle);
		w->idle = NULL;
		w->n_idle = NULL;
		return -1;
	}
	w->pool_rt = runtime_ref(rt);
	return 0;
}

/* An idle pooled connection that becomes readable was closed or spoke
 * out of turn: either way it is no longer usable. */
static void upstream_idle_read_cb(struct bufferevent *bev, void *arg)
{
	struct upconn *uc = arg;
	upstream_pool_remove(uc);
	upconn_free(uc);
}

static void upstream_idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upconn *uc = arg;
	upstream_pool_remove(uc);
	upconn_free(uc);
}

static void upstream_release(struct upconn *uc)
{
	struct worker *w = uc->w;
	const struct config_upstream *u = &uc->rt->cfg->upstreams[uc->up_idx];
	uc->owner = NULL;
	evtimer_del(uc->timer);
	/* A request not yet fully written (the upstream answered early) still
	 * references the exchange's body: such a connection is not reused. */
	if (!uc->resp.keep_alive || uc->body_mode == UPSTREAM_BODY_CLOSE ||
	    evbuffer_get_length(bufferevent_get_input(uc->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(uc->bev)) > 0 || w->draining ||
	    upstream_pool_adopt(w, uc->rt) < 0 || w->pool_rt != uc->rt ||
	    w->n_idle[uc->g] >= u->max_idle_connections) {
		upconn_free(uc);
		return;
	}
	evbuffer_drain(uc->body, evbuffer_get_length(uc->body));
	bufferevent_setcb(uc->bev, upstream_idle_read_cb, NULL, upstream_idle_event_cb, uc);
	bufferevent_enable(uc->bev, EV_READ);
	uc->next = w->idle[uc->g];
	w->idle[uc->g] = uc;
	w->n_idle[uc->g]++;
}

static void upstream_arm(struct upconn *uc, int phase, long long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	uc->timer_phase = phase;
	evtimer_add(uc->timer, &tv);
}

static void upstream_send(struct conn *c, int allow_pool);

/* The instance's share of the outcome: 1 served, 0 failed, -1 no verdict
 * (the client left). Ends its outstanding count either way. */
static void upstream_account(struct conn *c, int outcome)
{
	struct exchange *x = &c->x;
	if (!x->bal_held)
		return;
	struct balance_pool *p = &c->rt->pools[x->up_idx];
	x->bal_held = 0;
	if (outcome < 0 || (outcome > 0 && x->bal_reported))
		balance_cancel(p, x->inst);
	else
		balance_done(p, x->inst, outcome, server_now_us());
}

static uint64_t upstream_random(struct worker *w)
{
	/* xorshift64 (Marsaglia 2003): the balancer needs cheap, not secret. */
	uint64_t v = w->rnd ? w->rnd : 0x9e3779b97f4a7c15ull ^ (server_now_us() + (uint64_t)w->id);
	v ^= v << 13;
	v ^= v >> 7;
	v ^= v << 17;
	w->rnd = v;
	return v;
}

/* The next instance for this request: from the current pool (skipping
 * the instances that failed it), else from the next pool in the router's
 * order. The invariant is checked again here, at the last moment before
 * a connection is chosen: nothing else may have changed x->up_idx. */
static int upstream_pick(struct conn *c)
{
	struct exchange *x = &c->x;
	const struct config *cfg = c->rt->cfg;
	while (x->cand_pos < x->n_cand) {
		int u = x->cand[x->cand_pos].upstream;
		const struct config_upstream *up = &cfg->upstreams[u];
		int i = -1;
		if (!router_upstream_allowed(up, x->fx.data_class))
			log_warnx("request %s: upstream %s is not allowed for this class; skipped", x->request_id, up->name);
		else if (!killswitch_is_on(KILLSWITCH_KIND_UPSTREAM, up->name))
			i = balance_pick(&c->rt->pools[u], server_now_us(), upstream_random(c->w), x->tried);
		if (i >= 0) {
			x->up_idx = u;
			x->inst = i;
			x->bal_held = 1;
			x->bal_reported = 0;
			x->attempts++;
			x->fx.upstream = up->name;
			x->fx.upstream_location = router_location_name(up->location);
			return 0;
		}
		x->cand_pos++;
		x->tried = 0;
	}
	return -1;
}

/* Another instance for a request that failed before a byte of the answer
 * reached the client. Bounded by the pool's "retries". */
static int upstream_retry(struct conn *c)
{
	struct exchange *x = &c->x;
	if (x->head_sent || x->attempts > c->rt->cfg->upstreams[x->up_idx].retries)
		return 0;
	if (x->inst >= 0 && x->inst < 64)
		x->tried |= 1ull << x->inst;
	if (upstream_pick(c) < 0 || server_build_request(c) < 0)
		return 0;
	metrics_count_upstream_error(c->rt->cfg->upstreams[x->up_idx].name, METRICS_ERROR_RETRY);
	upstream_send(c, 1);
	return 1;
}

/* The exchange failed on the upstream side. Messages name the upstream,
 * never the request. A failure before the answer started may move to
 * another instance (retry). */
static void upstream_fail(struct conn *c, int status, int kind, const char *what, int retry)
{
	struct exchange *x = &c->x;
	const char *name = c->rt->cfg->upstreams[x->up_idx].name;
	metrics_count_upstream_error(name, kind);
	log_warnx("request %s: upstream %s instance %d: %s", x->request_id, name, x->inst, what);
	if (x->uc) {
		upconn_free(x->uc);
		x->uc = NULL;
	}
	upstream_account(c, 0);
	if (retry && upstream_retry(c))
		return;
	x->t_up_end = server_now_us();
	if (x->head_sent) {
		server_finish(c, 1); /* mid-stream: the client sees the cut */
		return;
	}
	char msg[256];
	snprintf(msg, sizeof msg, "upstream %s: %s", name, what);
	server_send_error(c, status, NULL, NULL, msg);
	server_finish(c, 0);
}

static void upstream_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upconn *uc = arg;
	struct conn *c = uc->owner;
	if (!c)
		return;
	switch (uc->timer_phase) {
	case UPSTREAM_TIMER_CONNECT:
		upstream_fail(c, 502, METRICS_ERROR_CONNECT, "connect timed out", 1);
		break;
	case UPSTREAM_TIMER_FIRST_BYTE:
		upstream_fail(c, 504, METRICS_ERROR_TIMEOUT, "no response in time", 1);
		break;
	default:
		upstream_fail(c, 504, METRICS_ERROR_TIMEOUT, "response not complete in time", 0);
		break;
	}
}

SSL *upstream_ssl_new(struct runtime *rt, int up, int inst)
{
	const struct config_instance *in = &rt->cfg->upstreams[up].instances[inst];
	size_t g = rt->inst_base[up] + (size_t)inst;
	SSL *ssl = rt->inst_tls[g] ? SSL_new(rt->inst_tls[g]) : NULL;
	if (!ssl)
		return NULL;
	const char *sni = in->server_name ? in->server_name : in->host;
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, sni, ip) == 1 || inet_pton(AF_INET6, sni, ip) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(ssl, sni);
	/* Verify the certificate names the host we meant to reach. */
	if (is_ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), sni);
	else
		SSL_set1_host(ssl, sni);
	return ssl;
}

struct bufferevent *upstream_bev_new(struct event_base *base, struct runtime *rt, int up, int inst)
{
	size_t g = rt->inst_base[up] + (size_t)inst;
	if (!rt->inst_tls[g])
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	SSL *ssl = upstream_ssl_new(rt, up, inst);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

static struct upconn *upstream_connect(struct conn *c)
{
	struct worker *w = c->w;
	struct runtime *rt = c->rt;
	int idx = c->x.up_idx;
	const struct config_upstream *u = &rt->cfg->upstreams[idx];
	size_t g = rt->inst_base[idx] + (size_t)c->x.inst;
	struct upconn *uc = calloc(1, sizeof *uc);
	if (!uc)
		return NULL;
	uc->w = w;
	uc->rt = runtime_ref(rt);
	uc->up_idx = idx;
	uc->g = g;
	uc->timer = evtimer_new(w->base, upstream_timer_cb, uc);
	uc->body = evbuffer_new();
	uc->bev = upstream_bev_new(w->base, rt, idx, c->x.inst);
	if (!uc->bev || !uc->timer || !uc->body) {
		upconn_free(uc);
		return NULL;
	}
	uc->owner = c;
	bufferevent_setcb(uc->bev, upstream_read_cb, NULL, upstream_event_cb, uc);
	if (bufferevent_socket_connect(uc->bev, (struct sockaddr *)&rt->inst_addr[g],
	    (int)rt->inst_addrlen[g]) < 0) {
		upconn_free(uc);
		return NULL;
	}
	evutil_socket_t fd = bufferevent_getfd(uc->bev);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	upstream_arm(uc, UPSTREAM_TIMER_CONNECT, u->connect_timeout_ms);
	return uc;
}

static void upstream_send(struct conn *c, int allow_pool)
{
	struct exchange *x = &c->x;
	struct worker *w = c->w;
	const struct config_upstream *u = &c->rt->cfg->upstreams[x->up_idx];
	size_t g = c->rt->inst_base[x->up_idx] + (size_t)x->inst;
	struct upconn *uc = NULL;
	if (allow_pool && w->pool_rt == c->rt && w->idle[g]) {
		uc = w->idle[g];
		w->idle[g] = uc->next;
		w->n_idle[g]--;
		uc->next = NULL;
		uc->owner = c;
		uc->reused = 1;
		bufferevent_setcb(uc->bev, upstream_read_cb, NULL, upstream_event_cb, uc);
		long long t = u->first_byte_timeout_ms < u->total_timeout_ms ? u->first_byte_timeout_ms : u->total_timeout_ms;
		upstream_arm(uc, UPSTREAM_TIMER_FIRST_BYTE, t);
	} else {
		uc = upstream_connect(c);
		if (!uc) {
			upstream_fail(c, 502, METRICS_ERROR_CONNECT, "cannot connect", 1);
			return;
		}
	}
	x->uc = uc;
	http_response_init(&uc->resp);
	uc->head_done = 0;
	uc->got_bytes = 0;
	/* The request stays in x->up_req for a retry; the output gets a reference.
	 * On a pooled plain connection it is written at once: the socket is
	 * almost always writable, and this saves two epoll_ctl calls. */
	struct evbuffer *out = bufferevent_get_output(uc->bev);
	if (uc->reused && !c->rt->inst_tls[g]) {
		struct evbuffer *tmp = evbuffer_new();
		if (tmp && evbuffer_add_buffer_reference(tmp, x->up_req) == 0) {
			evbuffer_write(tmp, bufferevent_getfd(uc->bev));
			evbuffer_add_buffer(out, tmp);
		} else {
			evbuffer_add_buffer_reference(out, x->up_req);
		}
		if (tmp)
			evbuffer_free(tmp);
	} else {
		evbuffer_add_buffer_reference(out, x->up_req);
	}
	/* Enabling EV_WRITE again would re-add the write event for nothing:
	 * a pooled connection keeps it enabled from its first request. */
	bufferevent_enable(uc->bev, uc->reused ? EV_READ : EV_READ | EV_WRITE);
}

void upstream_start(struct conn *c)
{
	struct exchange *x = &c->x;
	x->t_up_start = server_now_us();
	if (upstream_pick(c) < 0) {
		/* Every instance went down (or was switched off) since routing. */
		x->fx.error_type = "no_healthy_upstream";
		server_send_error(c, 503, NULL, "no_healthy_upstream", "no eligible upstream instance is available");
		server_finish(c, 0);
		return;
	}
	if (server_build_request(c) < 0) {
		upstream_account(c, -1);
		server_send_error(c, 500, NULL, NULL, "out of memory");
		server_finish(c, 0);
		return;
	}
	/* An older runtime than the pool's gets no pooling (upstream_send
	 * checks that the pool is this runtime's). */
	upstream_pool_adopt(c->w, c->rt);
	upstream_send(c, 1);
}

void upstream_cancel(struct conn *c)
{
	if (c->x.uc) {
		upconn_free(c->x.uc);
		c->x.uc = NULL;
	}
	upstream_account(c, -1);
}

/* Relays whole SSE events out of uc->body. */
static int upstream_relay_events(struct conn *c, struct upconn *uc, int flush)
{
	struct exchange *x = &c->x;
	for (;;) {
		size_t len = evbuffer_get_length(uc->body);
		if (len == 0)
			return 0;
		const char *p = (const char *)evbuffer_pullup(uc->body, -1);
		if (uc->scratch_cap < len) {
			size_t cap = len < 4096 ? 4096 : len * 2;
			char *s = malloc(cap);
			if (!s)
				return -1;
			if (uc->scratch) {
				explicit_bzero(uc->scratch, uc->scratch_cap);
				free(uc->scratch);
			}
			uc->scratch = s;
			uc->scratch_cap = cap;
		}
		struct sse_event ev;
		int rc = sse_parse_event(p, len, &ev, uc->scratch);
		if (rc == SSE_PARSE_ERROR)
			return -1;
		if (rc == SSE_PARSE_AGAIN) {
			if (len > UPSTREAM_MAX_EVENT)
				return -1;
			if (!flush)
				return 0;
			/* The stream ended mid-event: pass the rest on as is. */
			ev.raw_len = len;
			ev.has_data = 0;
		}
		/* "request" audit durability: the end marker waits for the record. */
		if (rc != SSE_PARSE_AGAIN && ev.is_done)
			server_hold_start(c);
		struct evbuffer *piece = evbuffer_new();
		if (!piece)
			return -1;
		if (filter_run_event(&x->fx, p, ev.raw_len, &ev, piece) < 0) {
			evbuffer_free(piece);
			return -1;
		}
		server_send_chunk(c, piece);
		evbuffer_free(piece);
		evbuffer_drain(uc->body, ev.raw_len);
	}
}

static void upstream_complete(struct conn *c, struct upconn *uc)
{
	struct exchange *x = &c->x;
	x->t_up_end = server_now_us();
	upstream_account(c, 1);
	metrics_count_upstream((double)(x->t_up_end - x->t_up_start) / 1e6);
	if (uc->stream) {
		if (upstream_relay_events(c, uc, 1) < 0) {
			upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "invalid event stream", 0);
			return;
		}
		server_hold_start(c);
		if (x->chunked_out)
			evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	} else {
		/* A success answer must be JSON: the body filters rewrite it and
		 * clients parse it. Anything else is the upstream's fault. */
		size_t blen = evbuffer_get_length(uc->body);
		json_t *j = NULL;
		/* with a policy, the check records the answer's texts too */
		struct openai_texts at;
		x->fx.answer_texts = NULL;
		if (uc->resp.status >= 200 && uc->resp.status < 300 && c->req.method != HTTP_METHOD_HEAD) {
			/* Checked without a tree (openai_scan.c): the policy
			 * filter finds the answer's texts in the bytes
			 * (json_span_answer_texts), the audit filter its model
			 * and usage (json_span_members). */
			const char *p = (const char *)evbuffer_pullup(uc->body, -1);
			if (openai_scan_json_texts(p, blen, x->fx.policy ? &at : NULL) < 0) {
				upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "invalid JSON in the response", 0);
				return;
			}
			if (x->fx.policy)
				x->fx.answer_texts = &at;
		}
		/* The filters read it instead of parsing the answer again. */
		x->fx.answer = j;
		x->fx.answer_checked = uc->resp.status >= 200 && uc->resp.status < 300 && c->req.method != HTTP_METHOD_HEAD;
		int frc = filter_run_body(&x->fx, uc->body);
		x->fx.answer = NULL;
		x->fx.answer_checked = 0;
		x->fx.answer_texts = NULL;
		json_decref(j);
		if (frc < 0) {
			x->uc = NULL;
			upstream_release(uc);
			server_send_error(c, x->fx.status ? x->fx.status : 502, x->fx.error_type, NULL, x->fx.message);
			server_finish(c, 0);
			return;
		}
		size_t n = evbuffer_get_length(uc->body);
		server_send_head(c, uc->resp.status, uc->content_type[0] ? uc->content_type : "application/json",
		    (long long)n);
		server_add_body(bufferevent_get_output(c->bev), uc->body);
		x->bytes_out += n;
	}
	x->uc = NULL;
	upstream_release(uc);
	server_finish(c, 0);
}

/* Moves decoded body bytes into uc->body; returns 1 when the body is complete. */
static int upstream_take_body(struct upconn *uc, struct evbuffer *in)
{
	switch (uc->body_mode) {
	case UPSTREAM_BODY_LENGTH: {
		size_t n = evbuffer_get_length(in);
		if ((long long)n > uc->remaining)
			n = (size_t)uc->remaining;
		evbuffer_remove_buffer(in, uc->body, n);
		uc->remaining -= (long long)n;
		return uc->remaining == 0;
	}
	case UPSTREAM_BODY_CHUNKED:
		while (evbuffer_get_length(in) > 0) {
			struct evbuffer_iovec v;
			if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
				return 0;
			struct evbuffer_iovec o;
			if (evbuffer_reserve_space(uc->body, v.iov_len, &o, 1) < 1)
				return -1;
			size_t used = 0, outlen = 0;
			int rc = http_chunked_decode(&uc->ch, v.iov_base, v.iov_len, &used, o.iov_base, &outlen);
			o.iov_len = outlen;
			evbuffer_commit_space(uc->body, &o, 1);
			evbuffer_drain(in, used);
			if (rc == HTTP_PARSE_ERROR)
				return -1;
			if (rc == HTTP_PARSE_DONE)
				return 1;
		}
		return 0;
	default:
		evbuffer_add_buffer(uc->body, in);
		return 0;
	}
}

static void upstream_read_cb(struct bufferevent *bev, void *arg)
{
	struct upconn *uc = arg;
	struct conn *c = uc->owner;
	if (!c)
		return;
	struct exchange *x = &c->x;
	const struct config_upstream *u = &c->rt->cfg->upstreams[uc->up_idx];
	struct evbuffer *in = bufferevent_get_input(bev);
	if (x->paused)
		return;
	if (!uc->got_bytes && evbuffer_get_length(in) > 0) {
		uc->got_bytes = 1;
		long long spent = (long long)((server_now_us() - x->t_up_start) / 1000);
		long long left = u->total_timeout_ms - spent;
		upstream_arm(uc, UPSTREAM_TIMER_TOTAL, left > 0 ? left : 1);
	}
	while (!uc->head_done) {
		size_t len = evbuffer_get_length(in);
		size_t n = len < UPSTREAM_MAX_HEAD + 4 ? len : UPSTREAM_MAX_HEAD + 4;
		if (n == 0)
			return;
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		int rc = http_parse_response(&uc->resp, p, n, UPSTREAM_MAX_HEAD);
		if (rc == HTTP_PARSE_AGAIN)
			return;
		if (rc == HTTP_PARSE_ERROR) {
			upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "invalid response", 0);
			return;
		}
		if (uc->resp.status < 200) {
			/* 1xx interim responses are dropped (RFC 9110 section 15.2). */
			evbuffer_drain(in, uc->resp.head_len);
			http_response_init(&uc->resp);
			continue;
		}
		uc->content_type[0] = 0;
		for (int i = 0; i < uc->resp.n_headers; i++)
			if (http_span_eq(p, uc->resp.headers[i].name, "content-type")) {
				struct http_span v = uc->resp.headers[i].value;
				/* Only a sane value is echoed: it goes into our head. */
				if (v.len < sizeof uc->content_type) {
					memcpy(uc->content_type, p + v.off, v.len);
					uc->content_type[v.len] = 0;
				}
			}
		if (uc->resp.chunked) {
			uc->body_mode = UPSTREAM_BODY_CHUNKED;
			http_chunked_init(&uc->ch);
		} else if (uc->resp.content_length >= 0) {
			uc->body_mode = UPSTREAM_BODY_LENGTH;
			uc->remaining = uc->resp.content_length;
		} else {
			uc->body_mode = UPSTREAM_BODY_CLOSE;
		}
		if (c->req.method == HTTP_METHOD_HEAD)
			uc->remaining = 0;
		if ((uc->resp.status == 502 || uc->resp.status == 503) && !x->head_sent &&
		    x->attempts <= c->rt->cfg->upstreams[x->up_idx].retries) {
			char what[48];
			snprintf(what, sizeof what, "answered %d", uc->resp.status);
			upstream_fail(c, uc->resp.status, METRICS_ERROR_STATUS, what, 1);
			return;
		}
		/* An answer that is not 502/503: the instance works. */
		if (x->bal_held && !x->bal_reported) {
			balance_report(&c->rt->pools[x->up_idx], x->inst, uc->resp.status != 502 && uc->resp.status != 503,
			    server_now_us());
			x->bal_reported = 1;
		}
		uc->stream = uc->resp.event_stream && uc->resp.status >= 200 && uc->resp.status < 300;
		evbuffer_drain(in, uc->resp.head_len);
		uc->head_done = 1;
		if (uc->stream)
			server_send_head(c, uc->resp.status, "text/event-stream", -1);
		if (uc->body_mode == UPSTREAM_BODY_LENGTH && uc->remaining > UPSTREAM_MAX_BODY && !uc->stream) {
			upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "response too large", 0);
			return;
		}
	}
	int done = upstream_take_body(uc, in);
	if (done < 0) {
		upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "invalid response body", 0);
		return;
	}
	if (uc->stream) {
		if (upstream_relay_events(c, uc, 0) < 0) {
			upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "invalid event stream", 0);
			return;
		}
		server_push(c);
		/* A held stream tail is not backpressure: the rest is the terminator. */
		if (!done && !x->holding && server_client_full(c)) {
			/* Backpressure: stop reading until the client drains. */
			x->paused = 1;
			bufferevent_disable(uc->bev, EV_READ);
		}
	} else if (evbuffer_get_length(uc->body) > UPSTREAM_MAX_BODY) {
		upstream_fail(c, 502, METRICS_ERROR_PROTOCOL, "response too large", 0);
		return;
	}
	if (done)
		upstream_complete(c, uc);
}

void upstream_resume(struct conn *c)
{
	struct upconn *uc = c->x.uc;
	c->x.paused = 0;
	if (!uc)
		return;
	bufferevent_enable(uc->bev, EV_READ);
	/* Bytes may already wait in the input: no new read event would come. */
	if (evbuffer_get_length(bufferevent_get_input(uc->bev)) > 0)
		upstream_read_cb(uc->bev, uc);
}

static void upstream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upconn *uc = arg;
	struct conn *c = uc->owner;
	if (!c)
		return;
	const struct config_upstream *u = &c->rt->cfg->upstreams[uc->up_idx];
	if (what & BEV_EVENT_CONNECTED) {
		long long t = u->first_byte_timeout_ms < u->total_timeout_ms ? u->first_byte_timeout_ms : u->total_timeout_ms;
		upstream_arm(uc, UPSTREAM_TIMER_FIRST_BYTE, t);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (uc->head_done && uc->body_mode == UPSTREAM_BODY_CLOSE) {
			/* Read what is left, then the close ends the body. */
			upstream_take_body(uc, bufferevent_get_input(bev));
			uc->resp.keep_alive = 0;
			upstream_complete(c, uc);
			return;
		}
		if (!uc->got_bytes && uc->reused) {
			/* A pooled connection the upstream closed while idle: the
			 * request never reached it, so one fresh attempt is safe. */
			upconn_free(uc);
			c->x.uc = NULL;
			upstream_send(c, 0);
			return;
		}
		upstream_fail(c, 502, METRICS_ERROR_CLOSED, "closed the connection before the response was complete",
		    !uc->got_bytes || !uc->head_done);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (!uc->got_bytes && uc->reused) {
			upconn_free(uc);
			c->x.uc = NULL;
			upstream_send(c, 0);
			return;
		}
		unsigned long e = bufferevent_get_openssl_error(bev);
		upstream_fail(c, 502, uc->got_bytes ? METRICS_ERROR_CLOSED : METRICS_ERROR_CONNECT,
		    e ? "TLS handshake or certificate verification failed" :
		    uc->got_bytes ? "connection error" : "unreachable", !uc->got_bytes);
	}
}
