/* Admin endpoints run on the main thread's event loop, away from the
 * workers, so a scrape never competes with a request for a loop. One
 * request per connection. */
#include "admin.h"
#include "http.h"
#include "metrics.h"
#include "audit_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#define ADMIN_MAX_HEAD 8192

static struct evconnlistener *admin_lev;
static int (*admin_ready)(void);

struct admin_conn {
	struct bufferevent *bev;
	struct http_request req;
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

static int admin_healthz(struct evbuffer *b)
{
	evbuffer_add_printf(b, "ok\n");
	return 200;
}

static int admin_readyz(struct evbuffer *b)
{
	if (admin_ready && admin_ready()) {
		evbuffer_add_printf(b, "ready\n");
		return 200;
	}
	evbuffer_add_printf(b, "not ready\n");
	return 503;
}

static int admin_metrics(struct evbuffer *b)
{
	metrics_render(b);
	audit_filter_metrics(b);
	return 200;
}

static const struct {
	const char *path;
	const char *content_type;
	int (*handler)(struct evbuffer *body);
} admin_routes[] = {
	{"/healthz", "text/plain", admin_healthz},
	{"/readyz", "text/plain", admin_readyz},
	{"/metrics", "text/plain; version=0.0.4", admin_metrics},
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
	int rc = http_parse_request(&a->req, p, n, ADMIN_MAX_HEAD, 0);
	if (rc == HTTP_PARSE_AGAIN)
		return;
	struct evbuffer *body = evbuffer_new();
	if (!body) {
		admin_free(a);
		return;
	}
	if (rc == HTTP_PARSE_ERROR) {
		evbuffer_add_printf(body, "%s\n", a->req.error);
		admin_reply(a, a->req.status, "text/plain", body);
	} else {
		int found = 0;
		for (size_t i = 0; i < sizeof admin_routes / sizeof admin_routes[0]; i++) {
			if (!http_span_eq(p, a->req.path, admin_routes[i].path))
				continue;
			found = 1;
			if (a->req.method != HTTP_METHOD_GET) {
				evbuffer_add_printf(body, "method not allowed\n");
				admin_reply(a, 405, "text/plain", body);
			} else {
				int st = admin_routes[i].handler(body);
				admin_reply(a, st, admin_routes[i].content_type, body);
			}
			break;
		}
		if (!found) {
			evbuffer_add_printf(body, "not found\n");
			admin_reply(a, 404, "text/plain", body);
		}
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
