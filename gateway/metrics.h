/* Process-wide counters for /metrics (Prometheus text format 0.0.4).
 * Lock-free: every worker thread updates them with relaxed atomics. */
#ifndef HAFEN_GATEWAY_METRICS_H
#define HAFEN_GATEWAY_METRICS_H

#include <stdint.h>

#include <event2/buffer.h>

enum metrics_error {
	METRICS_ERROR_CONNECT,
	METRICS_ERROR_TIMEOUT,
	METRICS_ERROR_PROTOCOL,
	METRICS_ERROR_CLOSED,
	METRICS_ERROR_STATUS, /* answered 502/503 */
	METRICS_ERROR_RETRY,  /* a request moved to another instance */
	METRICS_ERROR_COUNT,
};

/* route: enum openai_route, or OPENAI_ROUTE_COUNT for "other". */
void metrics_count_request(int route, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out);
void metrics_count_upstream(double seconds);
void metrics_count_upstream_error(const char *upstream, int kind);
void metrics_add_connections(int delta);
long metrics_connections_open(void);
int metrics_render(struct evbuffer *out);

#endif
