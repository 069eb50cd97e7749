/* Counters live in fixed tables indexed by route and status class so
 * counting never allocates or takes a lock on the request path. The
 * per-request counters are sharded: each worker thread adds to its own
 * cache-line-aligned shard, so workers on different cores do not pull
 * one shared line back and forth on every request; /metrics sums the
 * shards. Threads beyond METRICS_SHARDS share shards, which the atomic
 * adds keep correct. */
#include "metrics.h"
#include "openai.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Statuses hafen answers with; anything else lands in the last slot. */
static const int metrics_statuses[] = {200, 400, 401, 403, 404, 405, 408, 411, 413, 429, 431,
    500, 501, 502, 503, 504, 505, 0};
#define METRICS_N_STATUS (sizeof metrics_statuses / sizeof metrics_statuses[0])

static const double metrics_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define METRICS_N_BUCKETS (sizeof metrics_buckets / sizeof metrics_buckets[0])

static const char *const metrics_error_names[METRICS_ERROR_COUNT] = {
	[METRICS_ERROR_CONNECT] = "connect",
	[METRICS_ERROR_TIMEOUT] = "timeout",
	[METRICS_ERROR_PROTOCOL] = "protocol",
	[METRICS_ERROR_CLOSED] = "closed",
	[METRICS_ERROR_STATUS] = "status",
	[METRICS_ERROR_RETRY] = "retry",
};

struct metrics_histogram {
	atomic_ullong bucket[METRICS_N_BUCKETS + 1];
	atomic_ullong sum_us;
	atomic_ullong count;
};

/* Upstream error counters are keyed by name; the set is small and only
 * grows on reload, so a short locked list is fine (errors are rare). */
struct metrics_upstream_errors {
	char name[64];
	atomic_ullong n[METRICS_ERROR_COUNT];
};
#define METRICS_MAX_UPSTREAMS 64

#define METRICS_SHARDS 64

struct metrics_shard {
	_Alignas(64) atomic_ullong requests[OPENAI_ROUTE_COUNT + 1][METRICS_N_STATUS];
	struct metrics_histogram request_hist;
	struct metrics_histogram upstream_hist;
	atomic_ullong bytes_in, bytes_out;
};

static struct metrics_shard metrics_shards[METRICS_SHARDS];
static atomic_uint metrics_next_shard;
static _Thread_local struct metrics_shard *metrics_my_shard;

static struct metrics_shard *metrics_shard_get(void)
{
	if (!metrics_my_shard)
		metrics_my_shard = &metrics_shards[atomic_fetch_add_explicit(&metrics_next_shard, 1,
		    memory_order_relaxed) % METRICS_SHARDS];
	return metrics_my_shard;
}
static atomic_long metrics_conns;
static struct metrics_upstream_errors metrics_up_err[METRICS_MAX_UPSTREAMS];
static int metrics_n_up;
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;

static void metrics_observe(struct metrics_histogram *h, double s)
{
	size_t i = 0;
	while (i < METRICS_N_BUCKETS && s > metrics_buckets[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (unsigned long long)(s * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void metrics_count_request(int route, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out)
{
	if (route < 0 || route > OPENAI_ROUTE_COUNT)
		route = OPENAI_ROUTE_COUNT;
	size_t s = 0;
	while (metrics_statuses[s] && metrics_statuses[s] != status)
		s++;
	struct metrics_shard *sh = metrics_shard_get();
	atomic_fetch_add_explicit(&sh->requests[route][s], 1, memory_order_relaxed);
	metrics_observe(&sh->request_hist, seconds);
	atomic_fetch_add_explicit(&sh->bytes_in, bytes_in, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->bytes_out, bytes_out, memory_order_relaxed);
}

void metrics_count_upstream(double seconds)
{
	metrics_observe(&metrics_shard_get()->upstream_hist, seconds);
}

/* Sums of the shards, for rendering. */
static unsigned long long metrics_sum(size_t offset)
{
	unsigned long long n = 0;
	for (size_t i = 0; i < METRICS_SHARDS; i++)
		n += atomic_load_explicit((atomic_ullong *)((char *)&metrics_shards[i] + offset), memory_order_relaxed);
	return n;
}

void metrics_count_upstream_error(const char *upstream, int kind)
{
	if (kind < 0 || kind >= METRICS_ERROR_COUNT)
		return;
	pthread_mutex_lock(&metrics_lock);
	int i;
	for (i = 0; i < metrics_n_up; i++)
		if (strcmp(metrics_up_err[i].name, upstream) == 0)
			break;
	if (i == metrics_n_up && metrics_n_up < METRICS_MAX_UPSTREAMS) {
		strncpy(metrics_up_err[i].name, upstream, sizeof metrics_up_err[i].name - 1);
		metrics_n_up++;
	}
	if (i < METRICS_MAX_UPSTREAMS)
		atomic_fetch_add(&metrics_up_err[i].n[kind], 1);
	pthread_mutex_unlock(&metrics_lock);
}

void metrics_add_connections(int delta)
{
	atomic_fetch_add(&metrics_conns, delta);
}

long metrics_connections_open(void)
{
	return atomic_load(&metrics_conns);
}

static void metrics_render_hist(struct evbuffer *out, const char *name, const char *help, size_t h)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	unsigned long long cum = 0;
	for (size_t i = 0; i <= METRICS_N_BUCKETS; i++) {
		cum += metrics_sum(h + offsetof(struct metrics_histogram, bucket) + i * sizeof(atomic_ullong));
		if (i < METRICS_N_BUCKETS)
			evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, metrics_buckets[i], cum);
		else
			evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
	}
	evbuffer_add_printf(out, "%s_sum %.6f\n%s_count %llu\n", name,
	    (double)metrics_sum(h + offsetof(struct metrics_histogram, sum_us)) / 1e6, name, cum);
}

int metrics_render(struct evbuffer *out)
{
	evbuffer_add_printf(out, "# HELP hafen_requests_total Requests answered, by route and status.\n"
	    "# TYPE hafen_requests_total counter\n");
	for (int r = 0; r <= OPENAI_ROUTE_COUNT; r++) {
		const struct openai_route_def *d = openai_route_get(r);
		for (size_t s = 0; s < METRICS_N_STATUS; s++) {
			unsigned long long n = metrics_sum(offsetof(struct metrics_shard, requests) +
			    ((size_t)r * METRICS_N_STATUS + s) * sizeof(atomic_ullong));
			if (!n)
				continue;
			if (metrics_statuses[s])
				evbuffer_add_printf(out, "hafen_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
				    d ? d->name : "other", metrics_statuses[s], n);
			else
				evbuffer_add_printf(out, "hafen_requests_total{route=\"%s\",status=\"other\"} %llu\n",
				    d ? d->name : "other", n);
		}
	}
	metrics_render_hist(out, "hafen_request_duration_seconds",
	    "Time from request head to the last response byte queued.", offsetof(struct metrics_shard, request_hist));
	metrics_render_hist(out, "hafen_upstream_duration_seconds",
	    "Time from forwarding to the upstream's last response byte.", offsetof(struct metrics_shard, upstream_hist));
	evbuffer_add_printf(out, "# HELP hafen_received_bytes_total Request bytes received from clients.\n"
	    "# TYPE hafen_received_bytes_total counter\nhafen_received_bytes_total %llu\n",
	    metrics_sum(offsetof(struct metrics_shard, bytes_in)));
	evbuffer_add_printf(out, "# HELP hafen_sent_bytes_total Response bytes sent to clients.\n"
	    "# TYPE hafen_sent_bytes_total counter\nhafen_sent_bytes_total %llu\n",
	    metrics_sum(offsetof(struct metrics_shard, bytes_out)));
	evbuffer_add_printf(out, "# HELP hafen_connections_open Client connections open now.\n"
	    "# TYPE hafen_connections_open gauge\nhafen_connections_open %ld\n", metrics_connections_open());
	evbuffer_add_printf(out, "# HELP hafen_upstream_errors_total Upstream failures by kind.\n"
	    "# TYPE hafen_upstream_errors_total counter\n");
	pthread_mutex_lock(&metrics_lock);
	for (int i = 0; i < metrics_n_up; i++)
		for (int k = 0; k < METRICS_ERROR_COUNT; k++) {
			unsigned long long n = atomic_load(&metrics_up_err[i].n[k]);
			if (n)
				evbuffer_add_printf(out, "hafen_upstream_errors_total{upstream=\"%s\",kind=\"%s\"} %llu\n",
				    metrics_up_err[i].name, metrics_error_names[k], n);
		}
	pthread_mutex_unlock(&metrics_lock);
	return 0;
}
