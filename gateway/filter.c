/* The filter table. Empty until the policy engine and the audit writer
 * land: each adds one row (see filter.h for the contract). The runners
 * below are what the server calls, so the request path does not change
 * when rows are added. */
#include "filter.h"
#include "audit_filter.h"
#include "policy_filter.h"
#include "transparency.h"
#include "usage.h"

static const struct filter_ops *const filter_table[] = {
	/* The audit filter first: it refuses before anything else runs when
	 * the log is down, and has no on_event (the policy filter owns events). */
	&audit_filter_ops,  /* audit writer (gateway/audit*) */
	&policy_filter_ops, /* policy engine (policies/) */
	&usage_filter_ops,  /* usage accounting and token counts (gateway/usage.c) */
	/* Last: the Art. 50 marker goes on what the client finally gets. */
	&transparency_filter_ops, /* AI Act Art. 50 (gateway/transparency.c) */
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
	/* Observers see every event as the upstream sent it (usage). */
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_event_seen)
			filter_table[i]->on_event_seen(x, &x->state[i], ev);
	size_t ei = FILTER_COUNT;
	for (size_t i = 0; i < FILTER_COUNT && ei == FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_event && x->state[i])
			ei = i; /* the first event filter owns the output */
	x->event_pass = 0;
	if (!x->relay) {
		if (ei == FILTER_COUNT)
			return evbuffer_add(out, raw, raw_len);
		if (filter_table[ei]->on_event(x, &x->state[ei], raw, raw_len, ev, out) < 0)
			return -1;
		return x->event_pass ? evbuffer_add(out, raw, raw_len) : 0;
	}
	size_t ri = FILTER_COUNT;
	for (size_t i = 0; i < FILTER_COUNT && ri == FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_relay)
			ri = i; /* the first relay filter writes the output */
	if (ri == FILTER_COUNT)
		return -1;
	const struct filter_ops *rf = filter_table[ri];
	/* Without an event filter the relay filter gets the raw event, already
	 * parsed. */
	if (ei == FILTER_COUNT)
		return rf->on_relay(x, &x->state[ri], raw, raw_len, ev, out);
	/* The event filter writes into out when out is empty (the relay's
	 * piece per event), so that an event it passes takes no buffer of its
	 * own; what it wrote moves to a buffer the relay filter then reads. */
	struct evbuffer *mid = NULL, *dst = out;
	if (evbuffer_get_length(out) && !(dst = mid = evbuffer_new()))
		return -1;
	int rc = filter_table[ei]->on_event(x, &x->state[ei], raw, raw_len, ev, dst);
	size_t n = evbuffer_get_length(dst);
	if (rc == 0 && n && !mid) {
		if (!(mid = evbuffer_new()) || evbuffer_add_buffer(mid, out) < 0)
			rc = -1;
	}
	/* What the event filter wrote, whole events, unparsed (ev NULL); an
	 * empty write still goes to the relay filter, which adds nothing. */
	if (rc == 0 && (n || !x->event_pass))
		rc = rf->on_relay(x, &x->state[ri], n ? (const char *)evbuffer_pullup(mid, -1) : "", n,
		    NULL, out);
	/* The event the filter passed, as parsed for it: not parsed again. */
	if (rc == 0 && x->event_pass)
		rc = rf->on_relay(x, &x->state[ri], raw, raw_len, ev, out);
	if (mid)
		evbuffer_free(mid);
	return rc;
}

int filter_run_head(struct filter_exchange *x, struct evbuffer *out)
{
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_head &&
		    filter_table[i]->on_head(x, &x->state[i], out) < 0)
			return -1;
	return 0;
}

void filter_run_done(struct filter_exchange *x)
{
	for (size_t i = 0; i < FILTER_COUNT; i++)
		if (filter_table[i] && filter_table[i]->on_done)
			filter_table[i]->on_done(x, &x->state[i]);
}
