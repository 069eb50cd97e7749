/* Active health checks: GET health_path on every instance of a pool with
 * health_interval_ms set, from worker 0's event loop with non-blocking
 * I/O (addresses were resolved at load). A 2xx answer closes the
 * instance's breaker (it recovers without waiting for a request to probe
 * it); anything else, or no answer in time, counts as a failure like a
 * failed request (balance.c). Only the status line is read. */
#include "server.h"
#include "balance.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#define HEALTH_TICK_MS 100
#define HEALTH_MAX_TIMEOUT_MS 10000

struct health_probe {
	struct runtime *rt;
	int up, inst;
	size_t g;
	struct bufferevent *bev;
	struct event *timer;
	struct health_probe *prev, *next;
};

static struct event *health_tick_ev;
static struct health_probe *health_probes; /* in flight, freed by health_stop() */
static struct event_base *health_base;

static void health_probe_free(struct health_probe *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		health_probes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->rt->health_busy[p->g] = 0;
	if (p->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
		if (ssl)
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
		bufferevent_free(p->bev);
	}
	if (p->timer)
		event_free(p->timer);
	runtime_unref(p->rt);
	free(p);
}

static void health_probe_end(struct health_probe *p, int ok)
{
	balance_report(&p->rt->pools[p->up], p->inst, ok, server_now_us());
	health_probe_free(p);
}

static void health_read_cb(struct bufferevent *bev, void *arg)
{
	struct health_probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0) {
		if (evbuffer_get_length(in) > 1024)
			health_probe_end(p, 0);
		return;
	}
	char line[16] = "";
	evbuffer_copyout(in, line, sizeof line - 1);
	/* "HTTP/1.x NNN" */
	int ok = strncmp(line, "HTTP/1.", 7) == 0 && line[9] == '2';
	health_probe_end(p, ok);
}

static void health_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		health_probe_end(arg, 0);
}

static void health_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	health_probe_end(arg, 0);
}

static void health_probe_start(struct runtime *rt, int up, int inst)
{
	const struct config_upstream *u = &rt->cfg->upstreams[up];
	const struct config_instance *in = &u->instances[inst];
	struct health_probe *p = calloc(1, sizeof *p);
	if (!p)
		return;
	p->rt = runtime_ref(rt);
	p->up = up;
	p->inst = inst;
	p->g = rt->inst_base[up] + (size_t)inst;
	rt->health_busy[p->g] = 1;
	p->next = health_probes;
	if (health_probes)
		health_probes->prev = p;
	health_probes = p;
	p->bev = upstream_bev_new(health_base, rt, up, inst);
	p->timer = evtimer_new(health_base, health_timeout_cb, p);
	if (!p->bev || !p->timer) {
		health_probe_end(p, 0);
		return;
	}
	bufferevent_setcb(p->bev, health_read_cb, NULL, health_event_cb, p);
	struct evbuffer *out = bufferevent_get_output(p->bev);
	evbuffer_add_printf(out, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hafen-health\r\nConnection: close\r\n",
	    in->base_path, u->health_path, in->host_header);
	if (u->auth_header)
		evbuffer_add_printf(out, "%s\r\n", u->auth_header);
	evbuffer_add(out, "\r\n", 2);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&rt->inst_addr[p->g],
	    (int)rt->inst_addrlen[p->g]) < 0) {
		health_probe_end(p, 0);
		return;
	}
	long long ms = u->connect_timeout_ms + u->first_byte_timeout_ms;
	if (ms > HEALTH_MAX_TIMEOUT_MS)
		ms = HEALTH_MAX_TIMEOUT_MS;
	if (ms > u->health_interval_ms)
		ms = u->health_interval_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(p->timer, &tv);
}

static void health_tick(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *rt = server_runtime_get();
	const struct config *cfg = rt->cfg;
	uint64_t now = server_now_us();
	for (size_t u = 0; u < cfg->n_upstreams; u++) {
		const struct config_upstream *up = &cfg->upstreams[u];
		if (up->health_interval_ms <= 0)
			continue;
		for (size_t i = 0; i < up->n_instances; i++) {
			size_t g = rt->inst_base[u] + i;
			if (rt->health_busy[g] || now < rt->health_next[g])
				continue;
			rt->health_next[g] = now + (uint64_t)up->health_interval_ms * 1000u;
			health_probe_start(rt, (int)u, (int)i);
		}
	}
	runtime_unref(rt);
}

int health_start(struct event_base *base)
{
	health_base = base;
	health_tick_ev = event_new(base, -1, EV_PERSIST, health_tick, NULL);
	if (!health_tick_ev)
		return -1;
	struct timeval tv = {0, HEALTH_TICK_MS * 1000};
	return event_add(health_tick_ev, &tv);
}

/* On worker 0's thread, after its loop ended. */
void health_stop(void)
{
	if (health_tick_ev)
		event_free(health_tick_ev);
	health_tick_ev = NULL;
	while (health_probes)
		health_probe_free(health_probes);
}

static const char *const health_state_names[] = {
	[BALANCE_STATE_CLOSED] = "closed",
	[BALANCE_STATE_OPEN] = "open",
	[BALANCE_STATE_HALF_OPEN] = "half_open",
};

void health_metrics(struct evbuffer *out)
{
	struct runtime *rt = server_runtime_get();
	if (!rt)
		return;
	const struct config *cfg = rt->cfg;
	uint64_t now = server_now_us();
	evbuffer_add_printf(out, "# HELP hafen_upstream_instance_up 1 while an instance's circuit breaker is closed.\n"
	    "# TYPE hafen_upstream_instance_up gauge\n");
	for (size_t u = 0; u < cfg->n_upstreams; u++)
		for (size_t i = 0; i < cfg->upstreams[u].n_instances; i++) {
			int st = balance_state_get(&rt->pools[u], (int)i, now);
			evbuffer_add_printf(out, "hafen_upstream_instance_up{upstream=\"%s\",instance=\"%zu\",state=\"%s\"} %d\n",
			    cfg->upstreams[u].name, i, health_state_names[st], st == BALANCE_STATE_CLOSED);
		}
	evbuffer_add_printf(out, "# HELP hafen_upstream_instance_outstanding Requests in flight per instance.\n"
	    "# TYPE hafen_upstream_instance_outstanding gauge\n");
	for (size_t u = 0; u < cfg->n_upstreams; u++)
		for (size_t i = 0; i < cfg->upstreams[u].n_instances; i++)
			evbuffer_add_printf(out, "hafen_upstream_instance_outstanding{upstream=\"%s\",instance=\"%zu\"} %d\n",
			    cfg->upstreams[u].name, i, atomic_load(&rt->pools[u].inst[i].outstanding));
	evbuffer_add_printf(out, "# HELP hafen_upstream_instance_ejections_total Times an instance's breaker opened.\n"
	    "# TYPE hafen_upstream_instance_ejections_total counter\n");
	for (size_t u = 0; u < cfg->n_upstreams; u++)
		for (size_t i = 0; i < cfg->upstreams[u].n_instances; i++)
			evbuffer_add_printf(out, "hafen_upstream_instance_ejections_total{upstream=\"%s\",instance=\"%zu\"} %llu\n",
			    cfg->upstreams[u].name, i,
			    (unsigned long long)atomic_load(&rt->pools[u].inst[i].ejections));
	runtime_unref(rt);
}
