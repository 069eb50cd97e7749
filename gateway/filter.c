/* The filter table. Empty until the policy engine and the audit writer
 * land: each adds one row (see filter.h for the contract). The runners
 * below are what the server calls, so the request path does not change
 * when rows are added. */
#include "filter.h"
#include "audit_filter.h"
#include "policy_filter.h"
#include "usage.h"

static const struct filter_ops *const filter_table[] = {
	/* The audit filter first: it refuses before anything else runs when
	 * the log is down, and has no on_event (the policy filter owns events). */
	&audit_filter_ops,  /* audit writer (gateway/audit*) */
	&policy_filter_ops, /* policy engine (policies/) */
	&usage_filter_ops,  /* usage accounting and token counts (gateway/usage.c) */
};

#define FILTER_COUNT (sizeof filter_table / sizeof filter_table[0])

int filter_run_request(struct filter_exchange *x)
{
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_request &&
		    filter_table[i]->on_request(x, &x->state[i]) < 0)
			return -1;
	return 0;
}

int filter_run_body(struct filter_exchange *x, struct evbuffer *body)
{
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_body &&
		    filter_table[i]->on_body(x, &x->state[i], body) < 0)
			return -1;
	return 0;
}

int filter_run_event(struct filter_exchange *x, const char *raw, size_t raw_len,
    const struct sse_event *ev, struct evbuffer *out)
{
	size_t before = evbuffer_get_length(out);
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_event_seen)
			filter_table[i]->on_event_seen(x, &x->state[i], ev);
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_event) {
			if (filter_table[i]->on_event(x, &x->state[i], raw, raw_len, ev, out) < 0)
				return -1;
			return 0; /* the first event filter owns the output */
		}
	if (evbuffer_get_length(out) == before)
		return evbuffer_add(out, raw, raw_len);
	return 0;
}

void filter_run_done(struct filter_exchange *x)
{
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_done)
			filter_table[i]->on_done(x, &x->state[i]);
}
