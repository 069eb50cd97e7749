/* Admin endpoints run on the main thread's event loop, away from the
 * workers, so a scrape never competes with a request for a loop. One
 * request per connection. Besides health and metrics: the kill switches
 * (GET /admin/kill lists, POST /admin/kill and /admin/release take
 * {"upstream": NAME} or {"model": ALIAS} and an X-Hafen-Operator) and
 * the pools' health and breaker state (GET /admin/upstreams). */
#include "admin.h"
#include "http.h"
#include "killswitch.h"
#include "log.h"
#include "metrics.h"
#include "openai.h"
#include "audit_filter.h"
#include "server.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#define ADMIN_MAX_HEAD 8192
#define ADMIN_MAX_BODY 4096

static struct evconnlistener *admin_lev;
static int (*admin_ready)(void);

struct admin_conn {
	struct bufferevent *bev;
	struct http_request req;
	int head_done;
	int closing;
};

static void admin_free(struct admin_conn *a)
{
	bufferevent_free(a->bev);
	free(a);
}

static void admin_reply(struct admin_conn *a, int status, const char *ctype, struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(a->bev);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", status, http_status_reason(status), ctype,
	    evbuffer_get_length(body));
	evbuffer_add_buffer(out, body);
	a->closing = 1;
	bufferevent_disable(a->bev, EV_READ);
}

/* What a handler sees of the request: the head and a small body. */
struct admin_req {
	const char *head;
	const struct http_request *r;
	const char *body;
	size_t body_len;
};

static int admin_healthz(const struct admin_req *q, struct evbuffer *b)
{
	(void)q;
	evbuffer_add_printf(b, "ok\n");
	return 200;
}

static int admin_readyz(const struct admin_req *q, struct evbuffer *b)
{
	(void)q;
	if (admin_ready && admin_ready()) {
		evbuffer_add_printf(b, "ready\n");
		return 200;
	}
	evbuffer_add_printf(b, "not ready\n");
	return 503;
}

static int admin_metrics(const struct admin_req *q, struct evbuffer *b)
{
	(void)q;
	metrics_render(b);
	health_metrics(b);
	audit_filter_metrics(b);
	return 200;
}

/* ---- kill switches (AI Act Art. 14) ---- */

static int admin_json(struct evbuffer *b, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	evbuffer_add_printf(b, "%s\n", s ? s : "{\"error\":\"out of memory\"}");
	int rc = s ? status : 500;
	openai_json_free_string(s);
	return rc;
}

static int admin_json_error(struct evbuffer *b, int status, const char *msg)
{
	return admin_json(b, status, json_pack("{s:s}", "error", msg));
}

static int admin_kill_list(const struct admin_req *q, struct evbuffer *b)
{
	(void)q;
	return admin_json(b, 200, json_pack("{s:o}", "switches", killswitch_list()));
}

/* A switch may only name what the running configuration has: a typo must
 * not look like a pulled switch. */
static int admin_kill_known(const struct config *cfg, int kind, const char *name)
{
	if (kind == KILLSWITCH_KIND_UPSTREAM) {
		for (size_t i = 0; i < cfg->n_upstreams; i++)
			if (strcmp(cfg->upstreams[i].name, name) == 0)
				return 1;
		return 0;
	}
	for (size_t i = 0; i < cfg->n_routes; i++)
		if (strcmp(cfg->routes[i].model, name) == 0)
			return 1;
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		for (size_t k = 0; k < cfg->upstreams[i].n_models; k++)
			if (strcmp(cfg->upstreams[i].models[k], name) == 0)
				return 1;
	/* Without routes or model lists any model name reaches the upstream. */
	int lists = cfg->n_routes > 0;
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		lists |= cfg->upstreams[i].n_models > 0;
	return !lists;
}

static int admin_kill_set(const struct admin_req *q, struct evbuffer *b, int on)
{
	char op[KILLSWITCH_OPERATOR_MAX + 1] = "", name[KILLSWITCH_NAME_MAX], err[160];
	int kind, found = 0;
	for (int i = 0; i < q->r->n_headers; i++) {
		struct http_span v = q->r->headers[i].value;
		if (!http_span_eq(q->head, q->r->headers[i].name, "x-hafen-operator"))
			continue;
		found = 1;
		if (killswitch_valid_operator(q->head + v.off, v.len)) {
			memcpy(op, q->head + v.off, v.len);
			op[v.len] = 0;
		}
	}
	if (!op[0])
		return admin_json_error(b, 400, found ? "X-Hafen-Operator: expected 1 to 64 printable characters" :
		    "missing X-Hafen-Operator: who acts is recorded (AI Act Art. 14)");
	if (killswitch_parse_body(q->body, q->body_len, &kind, name, sizeof name, err, sizeof err) < 0)
		return admin_json_error(b, 400, err);
	struct runtime *rt = server_runtime_get();
	int known = admin_kill_known(rt->cfg, kind, name);
	char *state_file = rt->cfg->kill_state_file ? strdup(rt->cfg->kill_state_file) : NULL;
	runtime_unref(rt);
	if (!known && on) {
		free(state_file);
		snprintf(err, sizeof err, "no %s named %s in the configuration", killswitch_kind_name(kind), name);
		return admin_json_error(b, 404, err);
	}
	char note[256];
	snprintf(note, sizeof note, "%s %s=%s by=%s", on ? "kill" : "release", killswitch_kind_name(kind), name, op);
	/* Pulling a switch never waits for the audit log (stopping is the safe
	 * side); releasing one is refused when it cannot be recorded. */
	int audited = audit_filter_oversight(note);
	if (audited < 0 && !on) {
		free(state_file);
		return admin_json_error(b, 503, "the audit log cannot record the release; the switch stays pulled");
	}
	int rc = killswitch_set(kind, name, op, on, (uint64_t)time(NULL));
	if (rc < 0) {
		free(state_file);
		return admin_json_error(b, 507, "too many switches pulled");
	}
	if (rc == 0 && state_file && killswitch_save_async(state_file) < 0)
		log_warnx("kill switch: cannot save the state to %s", state_file);
	free(state_file);
	log_info("kill switch: %s", note);
	return admin_json(b, 200, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "kind", killswitch_kind_name(kind),
	    "name", name, "state", on ? "killed" : "released", "by", op, "changed", rc == 0,
	    "audited", audited == 0));
}

static int admin_kill(const struct admin_req *q, struct evbuffer *b)
{
	return admin_kill_set(q, b, 1);
}

static int admin_release(const struct admin_req *q, struct evbuffer *b)
{
	return admin_kill_set(q, b, 0);
}

/* ---- upstream state: health and breaker per instance ---- */

static const char *const admin_breaker_names[] = {
	[BALANCE_STATE_CLOSED] = "closed",
	[BALANCE_STATE_OPEN] = "open",
	[BALANCE_STATE_HALF_OPEN] = "half_open",
};

/* GET /admin/upstreams: every pool of the running configuration with its
 * kill switch and, per instance, the breaker (closed: in use; open:
 * ejected, with the milliseconds until a probe; half_open: the next
 * request or health check decides), consecutive failures, requests in
 * flight and ejections. Addresses only: no auth header, no URL path. */
static int admin_upstreams(const struct admin_req *q, struct evbuffer *b)
{
	(void)q;
	struct runtime *rt = server_runtime_get();
	if (!rt)
		return admin_json_error(b, 503, "no configuration loaded");
	const struct config *cfg = rt->cfg;
	uint64_t now = server_now_us();
	json_t *ups = json_array();
	for (size_t u = 0; ups && u < cfg->n_upstreams; u++) {
		const struct config_upstream *up = &cfg->upstreams[u];
		json_t *insts = json_array();
		for (size_t i = 0; insts && i < up->n_instances; i++) {
			const struct balance_instance *bi = &rt->pools[u].inst[i];
			int st = balance_state_get(&rt->pools[u], (int)i, now);
			uint64_t until = atomic_load(&bi->open_until_us);
			json_array_append_new(insts, json_pack("{s:i, s:s, s:i, s:s, s:I, s:i, s:i, s:I}",
			    "instance", (int)i, "host", up->instances[i].host, "port", up->instances[i].port,
			    "state", admin_breaker_names[st],
			    "retry_in_ms", (json_int_t)(st == BALANCE_STATE_OPEN && until > now ? (until - now) / 1000 : 0),
			    "failures", atomic_load(&bi->failures), "outstanding", atomic_load(&bi->outstanding),
			    "ejections", (json_int_t)atomic_load(&bi->ejections)));
		}
		json_array_append_new(ups, json_pack("{s:s, s:s, s:s, s:b, s:o*}", "name", up->name,
		    "location", router_location_name(up->location), "max_data_class",
		    router_data_class_name((int)up->max_data_class),
		    "killed", killswitch_is_on(KILLSWITCH_KIND_UPSTREAM, up->name), "instances", insts));
	}
	runtime_unref(rt);
	return admin_json(b, 200, ups ? json_pack("{s:o}", "upstreams", ups) : NULL);
}

#define ADMIN_JSON "application/json"
static const struct {
	const char *path;
	int method; /* enum http_method */
	const char *content_type;
	int (*handler)(const struct admin_req *q, struct evbuffer *body);
} admin_routes[] = {
	{"/healthz", HTTP_METHOD_GET, "text/plain", admin_healthz},
	{"/readyz", HTTP_METHOD_GET, "text/plain", admin_readyz},
	{"/metrics", HTTP_METHOD_GET, "text/plain; version=0.0.4", admin_metrics},
	{"/admin/kill", HTTP_METHOD_GET, ADMIN_JSON, admin_kill_list},
	{"/admin/kill", HTTP_METHOD_POST, ADMIN_JSON, admin_kill},
	{"/admin/release", HTTP_METHOD_POST, ADMIN_JSON, admin_release},
	{"/admin/upstreams", HTTP_METHOD_GET, ADMIN_JSON, admin_upstreams},
};

static void admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *a = arg;
	if (a->closing)
		return;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	size_t n = len < ADMIN_MAX_HEAD + 4 ? len : ADMIN_MAX_HEAD + 4;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	if (!a->head_done) {
		int rc = http_parse_request(&a->req, p, n, ADMIN_MAX_HEAD, ADMIN_MAX_BODY);
		if (rc == HTTP_PARSE_AGAIN)
			return;
		if (rc == HTTP_PARSE_ERROR) {
			struct evbuffer *eb = evbuffer_new();
			if (!eb) {
				admin_free(a);
				return;
			}
			evbuffer_add_printf(eb, "%s\n", a->req.error);
			admin_reply(a, a->req.status, "text/plain", eb);
			evbuffer_free(eb);
			return;
		}
		a->head_done = 1;
	}
	/* The head is complete; a POST body follows (Content-Length only). */
	size_t blen = a->req.content_length > 0 ? (size_t)a->req.content_length : 0;
	if (!a->req.chunked && len < a->req.head_len + blen)
		return;
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		admin_free(a);
		return;
	}
	if (a->req.chunked) {
		evbuffer_add_printf(body, "chunked request bodies are not accepted here\n");
		admin_reply(a, 411, "text/plain", body);
		evbuffer_free(body);
		return;
	}
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)(a->req.head_len + blen));
	struct admin_req q = {p, &a->req, p + a->req.head_len, blen};
	int path_found = 0, done = 0;
	for (size_t i = 0; i < sizeof admin_routes / sizeof admin_routes[0] && !done; i++) {
		if (!http_span_eq(p, a->req.path, admin_routes[i].path))
			continue;
		path_found = 1;
		if (a->req.method != admin_routes[i].method)
			continue;
		int st = admin_routes[i].handler(&q, body);
		admin_reply(a, st, admin_routes[i].content_type, body);
		done = 1;
	}
	if (!done) {
		evbuffer_add_printf(body, path_found ? "method not allowed\n" : "not found\n");
		admin_reply(a, path_found ? 405 : 404, "text/plain", body);
	}
	evbuffer_free(body);
}

static void admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *a = arg;
	if (a->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		admin_free(a);
}

static void admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		admin_free(arg);
}

static void admin_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct event_base *base = arg;
	struct admin_conn *a = calloc(1, sizeof *a);
	if (!a) {
		evutil_closesocket(fd);
		return;
	}
	a->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!a->bev) {
		evutil_closesocket(fd);
		free(a);
		return;
	}
	http_request_init(&a->req);
	struct timeval tv = {10, 0};
	bufferevent_set_timeouts(a->bev, &tv, &tv);
	bufferevent_setcb(a->bev, admin_read_cb, admin_write_cb, admin_event_cb, a);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
}

int admin_start(struct event_base *base, int fd, int (*ready)(void))
{
	admin_ready = ready;
	admin_lev = evconnlistener_new(base, admin_accept_cb, base, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	return admin_lev ? 0 : -1;
}

void admin_stop(void)
{
	if (admin_lev)
		evconnlistener_free(admin_lev);
	admin_lev = NULL;
}
