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
#include "balance.h"
#include "router.h"
#include "tls.h"

/* A loaded configuration with everything derived from it (TLS contexts,
 * resolved upstream addresses). Connections hold a reference, so a reload
 * never pulls state from under a request in flight. */
struct runtime {
	struct config *cfg;
	struct tls_server **listener_tls; /* per listener; NULL if plain */
	/* Upstream instances, flattened: upstream u's instances are
	 * inst_base[u] .. inst_base[u] + n_instances - 1. Addresses are
	 * resolved here, at load, never on a loop. */
	size_t *inst_base;
	size_t n_inst;
	SSL_CTX **inst_tls;               /* per instance; NULL if http */
	struct sockaddr_storage *inst_addr;
	socklen_t *inst_addrlen;
	struct balance_pool *pools;       /* per upstream: load and breaker state */
	/* per upstream: the models its GET /v1/models listed (discover.c);
	 * NULL until the discovery thread publishes them */
	_Atomic(struct discover_list *) *discovered;
	uint64_t *health_next;            /* per instance: next active check (worker 0 only) */
	unsigned char *health_busy;       /* per instance: a check is in flight */
	struct policy_filter_set *policy; /* NULL: no policy packs configured */
	struct audit_filter_rt *audit;    /* NULL: no "audit" section */
	struct transparency_rt *transparency; /* AI Act Art. 50 marker, always set */
	unsigned generation;
	atomic_int refs;
};

struct runtime *runtime_new(struct config *cfg, char *err, size_t errlen);
struct runtime *runtime_ref(struct runtime *rt);
void runtime_unref(struct runtime *rt);
struct runtime *server_runtime_get(void); /* current, referenced */

struct upconn;
struct keycache_table;
struct ratelimit_entry;
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
	/* Upstream keep-alive pool, per instance of pool_rt. */
	struct runtime *pool_rt;
	struct upconn **idle;
	int *n_idle;
	uint64_t rnd;        /* xorshift state for the balancer's draws */
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
	CONN_PHASE_LINGER,       /* answered and half-closed: reading until the client closes */
};

struct exchange {
	uint64_t t_start;    /* us, monotonic */
	uint64_t t_up_start;
	uint64_t t_up_end;
	const struct openai_route_def *route;
	const struct config_key *key;
	int up_idx;
	int inst;                /* instance index within upstream up_idx; -1: none */
	int bal_held;            /* counted outstanding on inst */
	int bal_reported;        /* the instance's verdict for this attempt is in */
	int attempts;
	uint64_t tried;          /* instances of up_idx that failed this request */
	int data_class_hdr;      /* X-Hafen-Data-Class; -1: absent */
	size_t n_cand, cand_pos; /* the router's ordered pools and where we are */
	struct router_candidate cand[ROUTER_MAX_CANDIDATES];
	char *target;            /* request target as the client sent it */
	struct evbuffer *up_hdrs; /* the client's header fields that go upstream */
	char *up_body;           /* the body as the current pool gets it */
	size_t up_body_len;
	const char *up_body_model; /* model name up_body carries; NULL: the client's */
	char request_id[REQUEST_ID_MAX + 1];
	char model[OPENAI_MODEL_BUF]; /* the body's "model" (fx.model points here) */
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
	struct evbuffer *up_req; /* the request as the upstream gets it; kept for a retry */
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
	struct keycache_table *keytab;  /* holds x->key when it came from the key store */
	struct ratelimit_entry *limit;  /* this request's share of its key's limits */
	long long retry_after;          /* > 0: a Retry-After header (seconds) on the answer */
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
	int linger;               /* closing with the request unread: half-close first */
	uint64_t linger_end;      /* us, monotonic: CONN_PHASE_LINGER gives up here */
	char peer[46];            /* numeric peer address for audit records, once per connection ("": not yet) */
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

/* (Re)builds x->up_req for the instance picked (x->up_idx, x->inst):
 * request line, Host and auth header of that instance, the model name of
 * that pool. 0, or -1 when out of memory. */
int server_build_request(struct conn *c);

/* upstream.c */
/* Sends x->up_req (head and, by reference, the body) to x->up_idx. */
void upstream_start(struct conn *c);
void upstream_cancel(struct conn *c);
void upstream_resume(struct conn *c);
void upstream_pool_flush(struct worker *w);
/* A connecting bufferevent for instance inst of pool up (TLS with SNI and
 * name checks when the instance is https); NULL when out of memory. */
struct bufferevent *upstream_bev_new(struct event_base *base, struct runtime *rt, int up, int inst);
/* An SSL for an https instance, with SNI and the certificate name check
 * set; NULL for a plain instance or when out of memory. */
SSL *upstream_ssl_new(struct runtime *rt, int up, int inst);

/* discover.c: the models of pools with discover_models, fetched by a
 * thread of its own (blocking I/O, never on a loop) after a runtime is
 * built; published into rt->discovered. */
struct discover_list {
	char **ids;
	size_t n;
};
int discover_start(struct runtime *rt);
/* 1 / 0: the pool listed / did not list model; -1: nothing known yet. */
int discover_serves(const struct runtime *rt, int up, const char *model);
void discover_free(struct runtime *rt);

/* health.c: active health checks, run on worker 0's loop. */
int health_start(struct event_base *base);
void health_stop(void);
/* Appends per-instance breaker state to a /metrics answer. */
void health_metrics(struct evbuffer *out);

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
