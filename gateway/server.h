/* The daemon's runtime: workers (one event loop each), client
 * connections, and the exchange state shared by server.c (client side)
 * and upstream.c (upstream side). Not part of libhafengw. */
#ifndef HAFEN_GATEWAY_SERVER_H
#define HAFEN_GATEWAY_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "gwconfig.h"
#include "filter.h"
#include "http.h"
#include "openai.h"
#include "request_id.h"
#include "tls.h"

/* A loaded configuration with everything derived from it (TLS contexts,
 * resolved upstream addresses). Connections hold a reference, so a reload
 * never pulls state from under a request in flight. */
struct runtime {
	struct config *cfg;
	struct tls_server **listener_tls; /* per listener; NULL if plain */
	SSL_CTX **upstream_tls;           /* per upstream; NULL if http */
	struct sockaddr_storage *upstream_addr;
	socklen_t *upstream_addrlen;
	struct policy_filter_set *policy; /* NULL: no policy packs configured */
	struct audit_filter_rt *audit;    /* NULL: no "audit" section */
	unsigned generation;
	atomic_int refs;
};

struct runtime *runtime_new(struct config *cfg, char *err, size_t errlen);
struct runtime *runtime_ref(struct runtime *rt);
void runtime_unref(struct runtime *rt);
struct runtime *server_runtime_get(void); /* current, referenced */

struct upconn;
struct server_hold;

struct worker {
	int id;
	struct event_base *base;
	pthread_t thread;
	struct evconnlistener **lev;
	void *lev_args;      /* the accept callbacks' arguments */
	int n_lev;
	struct event *notify;
	int draining;
	struct conn *conns;
	/* Upstream keep-alive pool, for pool_rt's upstreams. */
	struct runtime *pool_rt;
	struct upconn **idle;
	int *n_idle;
	/* Answers held for their audit record: the writer thread queues the
	 * committed ones and activates hold_ev (server_hold_lock). */
	struct event *hold_ev;
	struct server_hold *hold_inflight, *hold_done;
};

enum conn_phase {
	CONN_PHASE_IDLE,
	CONN_PHASE_HEAD,
	CONN_PHASE_BODY,
	CONN_PHASE_PROXY,
	CONN_PHASE_CLOSING,
	CONN_PHASE_HOLD,         /* the answer waits for its audit record */
};

struct exchange {
	uint64_t t_start;    /* us, monotonic */
	uint64_t t_up_start;
	uint64_t t_up_end;
	const struct openai_route_def *route;
	const struct config_key *key;
	int up_idx;
	char request_id[REQUEST_ID_MAX + 1];
	int keep_alive;
	int version_minor;
	char method[16];
	char path[257];
	size_t path_len;
	struct evbuffer *body;   /* chunked request bodies, decoded */
	struct http_chunked chunked;
	long long body_len;      /* Content-Length */
	json_t *json;
	int stream;
	struct upconn *uc;
	struct evbuffer *up_req; /* the request as the upstream gets it; kept for one retry */
	int status;
	int head_sent;           /* response head written to the client */
	int chunked_out;         /* we write chunked coding to the client */
	int paused;              /* upstream reads paused for backpressure */
	int direct;              /* TLS response may be written with SSL_write at once */
	int holding;             /* client writes stopped until the audit record is committed */
	size_t head_mark;        /* output length before a non-streamed head (SIZE_MAX: streamed) */
	size_t hold_mark;        /* output length when the hold began: later bytes are held */
	uint64_t bytes_in;
	uint64_t bytes_out;
	struct filter_exchange fx;
};

struct conn {
	struct worker *w;
	struct runtime *rt;
	int listener;
	struct bufferevent *bev;
	struct event *timer;
	int phase;               /* enum conn_phase */
	int over_limit;          /* answer 429 to the first request */
	int tls;
	struct http_request req;
	struct exchange x;
	struct conn *prev, *next;
	struct server_hold *hold; /* CONN_PHASE_HOLD: the pending audit record */
	int hold_close;           /* close after the held answer */
};

uint64_t server_now_us(void);
/* Client-side callbacks used by upstream.c. */
void server_send_error(struct conn *c, int status, const char *type, const char *code, const char *msg);
/* Writes the response head; body_len < 0 = streamed (chunked or close). */
void server_send_head(struct conn *c, int status, const char *content_type, long long body_len);
/* Appends a piece of a streamed body (chunk-coded when needed). */
void server_send_chunk(struct conn *c, struct evbuffer *piece);
/* The exchange is over: log it, then read the next request or close. */
void server_finish(struct conn *c, int close_after);
/* Writes queued TLS response bytes now instead of next loop pass. */
void server_push(struct conn *c);
/* Appends a response body to out (copied when small: one TLS record). */
void server_add_body(struct evbuffer *out, struct evbuffer *body);
/* Backpressure: is the client's output above the high watermark? */
int server_client_full(struct conn *c);
/* "request" audit durability: from here on the client's output is held
 * until the exchange's record is committed (no-op when not needed). */
void server_hold_start(struct conn *c);

/* upstream.c */
/* Sends x->up_req (head and, by reference, the body) to x->up_idx. */
void upstream_start(struct conn *c);
void upstream_cancel(struct conn *c);
void upstream_resume(struct conn *c);
void upstream_pool_flush(struct worker *w);

/* hafen.c drives these. */
int server_init(struct runtime *rt, char *err, size_t errlen);
int server_listen(const char *addr, int port, char *err, size_t errlen);
int server_start(void);
void server_drain(void);
int server_draining_now(void);
void server_stop(void);
void server_join(void);
int server_reload(struct runtime *rt, char *err, size_t errlen);

#endif
