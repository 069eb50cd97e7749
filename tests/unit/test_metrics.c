/* /metrics sums the per-worker shards: counts from several threads add
 * up, by route and status, in the histograms and the byte counters. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/metrics.h"
#include "gateway/openai.h"
#include "tests/tap.h"

#define THREADS 5
#define PER_THREAD 1000

static void *count_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_count_request(OPENAI_ROUTE_CHAT, i % 10 ? 200 : 502, 0.0002, 100, 1000);
		metrics_count_upstream(0.003);
	}
	metrics_count_request(OPENAI_ROUTE_MODELS, 299, 20.0, 1, 2);
	return NULL;
}

/* The value of the sample whose line starts with name (labels included). */
static unsigned long long sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return (unsigned long long)-1;
}

int main(void)
{
	pthread_t t[THREADS];
	int started = 0;
	for (int i = 0; i < THREADS; i++)
		started += pthread_create(&t[i], NULL, count_main, NULL) == 0;
	ok(started == THREADS, "threads started");
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	metrics_count_request(OPENAI_ROUTE_EMBEDDINGS, 200, 0.5, 7, 8); /* the main thread too */

	struct evbuffer *b = evbuffer_new();
	ok(b && metrics_render(b) == 0, "rendered");
	evbuffer_add(b, "", 1);
	const char *text = (const char *)evbuffer_pullup(b, -1);
	is_int((int)sample(text, "hafen_requests_total{route=\"chat\",status=\"200\"}"), THREADS * 900, "chat 200");
	is_int((int)sample(text, "hafen_requests_total{route=\"chat\",status=\"502\"}"), THREADS * 100, "chat 502");
	is_int((int)sample(text, "hafen_requests_total{route=\"models\",status=\"other\"}"), THREADS,
	    "unlisted status counted as other");
	is_int((int)sample(text, "hafen_requests_total{route=\"embeddings\",status=\"200\"}"), 1, "main thread");
	int total = THREADS * (PER_THREAD + 1) + 1;
	is_int((int)sample(text, "hafen_request_duration_seconds_count"), total, "request histogram count");
	is_int((int)sample(text, "hafen_request_duration_seconds_bucket{le=\"0.0005\"}"), THREADS * PER_THREAD,
	    "fast requests in the first bucket");
	is_int((int)sample(text, "hafen_request_duration_seconds_bucket{le=\"10\"}"), THREADS * PER_THREAD + 1,
	    "buckets are cumulative");
	is_int((int)sample(text, "hafen_request_duration_seconds_bucket{le=\"+Inf\"}"), total, "+Inf bucket");
	is_int((int)sample(text, "hafen_upstream_duration_seconds_count"), THREADS * PER_THREAD, "upstream count");
	is_int((int)sample(text, "hafen_upstream_duration_seconds_bucket{le=\"0.0025\"}"), 0, "upstream below 2.5 ms");
	ok(sample(text, "hafen_received_bytes_total") == (unsigned long long)THREADS * (PER_THREAD * 100 + 1) + 7,
	    "bytes in");
	ok(sample(text, "hafen_sent_bytes_total") == (unsigned long long)THREADS * (PER_THREAD * 1000 + 2) + 8,
	    "bytes out");
	ok(strstr(text, "hafen_request_duration_seconds_sum 101.500") != NULL ||
	    strstr(text, "hafen_request_duration_seconds_sum 101.4") != NULL, "duration sum");
	evbuffer_free(b);
	tap_done();
	return tap_exit_status();
}
