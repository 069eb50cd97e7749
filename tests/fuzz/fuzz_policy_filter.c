/* Fuzzes the policy filter's answer side (gateway/policy_filter.c) with the
 * shipped packs: the input's first line is the user's prompt (scanned and
 * pseudonymized by on_request), the rest is an upstream answer, fed once as
 * an SSE stream (events split at blank lines) and once as a JSON body;
 * then the stream twice more, its events parsed into trees and read by
 * the byte walk (policy_events_diff), which must give the same events;
 * and the body once more with its texts recorded by the check upstream.c
 * makes (openai_scan_json_texts), which must give the same answer;
 * and the stream through the policy and the transparency marker chained,
 * which must give what the two give run one after the other.
 * Packs come from $top_srcdir/policies/packs (or ./policies/packs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/openai.h"
#include "gateway/policy_filter.h"
#include "tests/unit/policy_request_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_filter_set *fuzz_policy_set;

static void fuzz_policy_init(void)
{
	if (!fuzz_policy_set)
		fuzz_policy_set = policy_request_diff_packs("fuzz_policy_filter");
}

/* One exchange: the request, then the answer as events or as a body
 * (as_stream 0; 2: with the answer's texts recorded as upstream.c does).
 * A body's result goes to result: the filters' return code, or 2 when the
 * request did not pass. */
static int fuzz_policy_exchange(const char *prompt, size_t plen, const char *ans, size_t alen,
    int as_stream, struct evbuffer *result)
{
	int frc = 2;
	struct filter_exchange x;
	policy_request_diff_exchange(&x, fuzz_policy_set, "fuzz");
	x.body = json_pack("{s:s, s:[{s:s, s:s%}]}", "model", "m", "messages", "role", "user", "content",
	    prompt, plen);
	if (!x.body)
		return 2; /* not UTF-8: the gateway's parser refuses it before the filter */
	if (filter_run_request(&x) == 0) {
		if (as_stream == 1) {
			char *scratch = malloc(alen + 1);
			size_t off = 0;
			while (scratch && off < alen) {
				struct sse_event ev;
				int rc = sse_parse_event(ans + off, alen - off, &ev, scratch);
				if (rc != SSE_PARSE_EVENT)
					break;
				struct evbuffer *out = evbuffer_new();
				int erc = filter_run_event(&x, ans + off, ev.raw_len, &ev, out);
				evbuffer_free(out);
				off += ev.raw_len;
				if (erc < 0)
					break;
			}
			free(scratch);
		} else {
			struct evbuffer *b = evbuffer_new();
			evbuffer_add(b, ans, alen);
			struct openai_texts at;
			const char *p = (const char *)evbuffer_pullup(b, -1);
			if (as_stream == 2 && openai_scan_json_texts(p, alen, &at) == 0)
				x.answer_texts = &at;
			frc = filter_run_body(&x, b);
			x.answer_texts = NULL;
			if (result)
				evbuffer_add_buffer(result, b);
			evbuffer_free(b);
		}
	}
	x.status = 200;
	filter_run_done(&x);
	json_decref(x.body);
	return frc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_policy_init();
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t plen = nl ? (size_t)(nl - s) : size;
	const char *ans = nl ? nl + 1 : s + size;
	size_t alen = size - plen - (nl ? 1 : 0);
	fuzz_policy_exchange(s, plen, ans, alen, 1, NULL);
	struct evbuffer *walked = evbuffer_new(), *recorded = evbuffer_new();
	int rw = fuzz_policy_exchange(s, plen, ans, alen, 0, walked);
	int rr = fuzz_policy_exchange(s, plen, ans, alen, 2, recorded);
	size_t wl = evbuffer_get_length(walked), rl = evbuffer_get_length(recorded);
	if (rw != rr || wl != rl || (wl && memcmp(evbuffer_pullup(walked, -1), evbuffer_pullup(recorded, -1), wl) != 0)) {
		fprintf(stderr, "fuzz_policy_filter: the answer with recorded texts differs (%d/%d)\n", rw, rr);
		abort();
	}
	evbuffer_free(walked);
	evbuffer_free(recorded);
	/* the stream's events by tree and by bytes: the same results */
	struct policy_events_diff_stats est = {0};
	char why[256];
	if (policy_events_diff(s, plen, ans, alen, &est, why, sizeof why) == 1) {
		fprintf(stderr, "fuzz_policy_filter: %s\n", why);
		abort();
	}
	/* the policy and the Art. 50 marker chained (events the policy
	 * passes go on as parsed) against the two run apart */
	if (policy_chain_diff(s, plen, ans, alen, &est, why, sizeof why) == 1) {
		fprintf(stderr, "fuzz_policy_filter (chain): %s\n", why);
		abort();
	}
	return 0;
}
