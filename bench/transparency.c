/* bench/transparency: what the AI Act Art. 50 marker costs per SSE chunk
 * and per JSON answer, in process, next to its peer in the same run: the
 * same filter chain with the marker off (the raw relay, and the body left
 * as it came). Rounds alternate the two so drift hits both alike.
 *
 * usage: bench/transparency [EVENTS_PER_ROUND] [ROUNDS] (default 200000 5)
 * Prints CPU ns per chunk and per answer, medians over the rounds. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/openai.h"
#include "gateway/sse.h"
#include "gateway/transparency.h"

/* A chunk as vLLM and the mock upstream send it (about 200 bytes). */
static const char bench_chunk[] =
	"data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1795454294,"
	"\"model\":\"Qwen/Qwen3-30B-A3B\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word\"},"
	"\"finish_reason\":null}]}\n\n";

static const char bench_answer[] =
	"{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion\",\"created\":1795454294,"
	"\"model\":\"Qwen/Qwen3-30B-A3B\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	"\"content\":\"The minutes record three decisions: the budget passed, the launch moves to May, "
	"and the team hires two engineers.\"},\"finish_reason\":\"stop\"}],"
	"\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":24,\"total_tokens\":55}}";

static double bench_now(void)
{
	struct timespec ts;
	/* CPU time of this thread: on a shared machine wall time counts
	 * the other jobs too. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One exchange through the real filter table; mark: the transparency
 * filter's state is set (on_request ran) and it rewrites events. */
static double bench_events(struct filter_exchange *x, long n, struct evbuffer *out)
{
	char data[sizeof bench_chunk];
	struct sse_event ev;
	sse_parse_event(bench_chunk, sizeof bench_chunk - 1, &ev, data);
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		if (filter_run_event(x, bench_chunk, sizeof bench_chunk - 1, &ev, out) < 0)
			return -1;
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	return (bench_now() - t) / (double)n;
}

/* A whole non-streamed exchange: request, answer body, response head,
 * done (what one POST costs the filter chain). */
static double bench_exchanges(const struct config *cfg, const struct transparency_rt *rt, json_t *req,
    long n, struct evbuffer *body)
{
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		struct filter_exchange x;
		memset(&x, 0, sizeof x);
		x.key = &cfg->keys[0];
		x.route = OPENAI_ROUTE_CHAT;
		x.upstream = "engine";
		x.body = req;
		x.model = "Qwen/Qwen3-30B-A3B";
		x.transparency = rt;
		x.upstream_answer = 1;
		evbuffer_add(body, bench_answer, sizeof bench_answer - 1);
		if (filter_run_request(&x) < 0 || filter_run_body(&x, body) < 0 || filter_run_head(&x, body) < 0)
			return -1;
		filter_run_done(&x);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	return (bench_now() - t) / (double)n;
}

static double bench_bodies(struct filter_exchange *x, long n, struct evbuffer *body)
{
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		evbuffer_add(body, bench_answer, sizeof bench_answer - 1);
		if (filter_run_body(x, body) < 0)
			return -1;
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	return (bench_now() - t) / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	if (n <= 0 || rounds <= 0 || rounds > 100) {
		fprintf(stderr, "usage: bench/transparency [EVENTS_PER_ROUND] [ROUNDS]\n");
		return 2;
	}
	static const char cfgtext[] =
		"{\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":1,\"plain\":true}],"
		"\"upstreams\":[{\"name\":\"engine\",\"url\":\"http://127.0.0.1:2\"}],"
		"\"keys\":[{\"name\":\"k\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
	char err[512];
	struct config *cfg = config_load_string(cfgtext, sizeof cfgtext - 1, "bench.json", ".", err, sizeof err);
	struct transparency_rt *rt = NULL;
	if (!cfg || transparency_load(cfg, &rt, err, sizeof err) < 0) {
		fprintf(stderr, "bench/transparency: %s\n", err);
		return 1;
	}
	json_t *req = json_pack("{s:s, s:b, s:[{s:s, s:s}]}", "model", "Qwen/Qwen3-30B-A3B", "stream", 1,
	    "messages", "role", "user", "content", "hi");
	struct evbuffer *out = evbuffer_new();
	double *t[6];
	for (int k = 0; k < 6; k++)
		t[k] = calloc((size_t)rounds, sizeof *t[k]);
	for (int r = 0; r < rounds; r++) {
		for (int mark = 0; mark < 2; mark++) {
			struct filter_exchange x;
			memset(&x, 0, sizeof x);
			x.key = &cfg->keys[0];
			x.route = OPENAI_ROUTE_CHAT;
			x.upstream = "engine";
			x.body = req;
			x.model = "Qwen/Qwen3-30B-A3B";
			if (mark) {
				x.transparency = rt;
				if (filter_run_request(&x) < 0)
					return 1;
			}
			t[mark][r] = bench_events(&x, n, out);
			t[2 + mark][r] = bench_bodies(&x, n / 4, out);
			filter_run_done(&x);
			t[4 + mark][r] = bench_exchanges(cfg, mark ? rt : NULL, req, n / 4, out);
			if (t[mark][r] < 0 || t[2 + mark][r] < 0 || t[4 + mark][r] < 0) {
				fprintf(stderr, "bench/transparency: a filter refused\n");
				return 1;
			}
		}
	}
	for (int k = 0; k < 6; k++)
		qsort(t[k], (size_t)rounds, sizeof *t[k], bench_cmp);
	printf("| what | without marker (raw relay) | with marker | added |\n|---|---|---|---|\n");
	printf("| SSE chunk (%zu bytes) | %.0f ns | %.0f ns | %+.0f ns |\n", sizeof bench_chunk - 1,
	    t[0][rounds / 2], t[1][rounds / 2], t[1][rounds / 2] - t[0][rounds / 2]);
	printf("| JSON answer (%zu bytes) | %.0f ns | %.0f ns | %+.0f ns |\n", sizeof bench_answer - 1,
	    t[2][rounds / 2], t[3][rounds / 2], t[3][rounds / 2] - t[2][rounds / 2]);
	printf("| whole JSON exchange (request, answer, head, done) | %.0f ns | %.0f ns | %+.0f ns |\n",
	    t[4][rounds / 2], t[5][rounds / 2], t[5][rounds / 2] - t[4][rounds / 2]);
	for (int k = 0; k < 6; k++)
		free(t[k]);
	evbuffer_free(out);
	json_decref(req);
	transparency_free(rt);
	config_unref(cfg);
	return 0;
}
