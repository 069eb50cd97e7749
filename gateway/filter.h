/* The filter chain: where the policy engine and the audit log plug in.
 *
 * Every proxied exchange passes these hook points, in this order:
 *   on_request  after the body is parsed and validated, before it is
 *               re-serialized for the upstream. A filter may rewrite the
 *               JSON in place (redact, pseudonymize), pick nothing else,
 *               or refuse the request by returning -1 with status/type/
 *               message set (the client gets that OpenAI error).
 *   on_body     a complete non-streamed response body (JSON) before it is
 *               sent; the filter may replace the bytes in the evbuffer.
 *   on_event    each SSE event of a streamed response, whole, in order. The
 *               filter appends what the client should get to out, or sets
 *               x->event_pass: the raw event follows what it wrote, and a
 *               relay filter gets it with ev as parsed, not parsed again
 *               (the usual event, which the policy lets through as it came).
 *               Nothing written and no pass drops the event.
 *               An event filter whose state slot is NULL is off for this
 *               exchange: it is not called and the raw event passes.
 *   on_relay    after on_event, each event the client is about to get, whole
 *               (the raw event with ev parsed, or ev NULL: the bytes the
 *               event filter wrote, whole events). Runs only while a filter
 *               has set x->relay; the first relay filter writes the output.
 *   on_head     the response head is being written: the filter appends
 *               header lines ("Name: value\r\n") to extra_headers. Every
 *               response of a routed request gets it, hafen's own errors
 *               too (x->upstream_answer tells them apart).
 *   on_done     once per exchange, with the final status: audit records.
 * Filters run in table order (filter.c); each gets its own state slot. */
#ifndef HAFEN_GATEWAY_FILTER_H
#define HAFEN_GATEWAY_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "sse.h"

#define FILTER_MAX 8
#define FILTER_FINDING_TYPES 32 /* finding types kept for the audit record */
#define FILTER_RULE_IDS 16

/* What the policy filter decided, for the audit record: types, counts and
 * rule ids, never matched values. Strings belong to the policy set. */
struct filter_policy_info {
	const char *policy_hash;        /* NULL: no policy in force */
	const char *decision;           /* strongest action: "none", "pseudonymize", "block", ... */
	size_t n_types;
	const char *type[FILTER_FINDING_TYPES];
	uint32_t count[FILTER_FINDING_TYPES];
	size_t n_rules;
	const char *rule_id[FILTER_RULE_IDS];
	size_t n_actions;
	const char *action[8];          /* distinct actions applied */
	uint64_t prompt_tokens, completion_tokens; /* from a streamed answer's usage chunk */
};

struct config_key;
struct policy_filter_set;
struct audit_filter_rt;
struct transparency_rt;
struct openai_texts;

struct filter_exchange {
	const char *request_id;
	const struct config_key *key; /* tenant, purpose */
	int route;                    /* enum openai_route */
	const char *upstream;         /* name */
	const char *model;            /* the request body's "model", NULL: none (or too long) */
	const char *upstream_location; /* "on_prem", "eu", "third_country" (router.c) */
	json_t *body;                 /* on_request: the parsed body */
	int body_rewritten;           /* on_request: a filter changed body (else the client's bytes go upstream) */
	int stream;
	int status;                   /* on_done: final status; on refuse: status to send */
	const char *error_type;       /* on refuse */
	char message[256];            /* on refuse; never quotes content */
	const struct policy_filter_set *policy; /* the runtime's policy set, NULL: off */
	int data_class;               /* enum data_class the policy found (0: public) */
	int class_final;              /* data_class is the final one (policy, header, key and purpose floors) */
	struct filter_policy_info policy_info;
	const struct audit_filter_rt *audit; /* the runtime's audit settings, NULL: none */
	char client_addr[46];         /* peer address, numeric */
	char user[129];               /* X-Hafen-User (end user, for the audit pseudonym), "" when absent */
	const struct transparency_rt *transparency; /* the runtime's Art. 50 settings */
	int relay;                    /* a filter rewrites relayed events (on_relay runs) */
	int upstream_answer;          /* on_head: the head is of the upstream's answer, not hafen's own */
	uint64_t prompt_estimate;     /* prompt tokens estimated from the body size (gateway/ratelimit.c) */
	void *state[FILTER_MAX];
	uint64_t t_first_byte;        /* us since the epoch: the response head was written (0: none) */
	/* Set by the server when it holds the response until the audit record
	 * is committed ("request" durability): called once, on the audit
	 * writer thread, with 0 (committed) or -1 (not written). */
	void (*recorded)(void *arg, int status, uint64_t seq);
	void *recorded_arg;
	json_t *answer;               /* on_body: the answer as parsed when it was checked (NULL: not parsed) */
	/* on_request: the client's body as validated (openai_body_check).
	 * The server builds no tree (body stays NULL): the policy filter scans
	 * these bytes and the audit filter finds `user` in them. When the
	 * policy must rewrite the body it puts the new one in body_out
	 * (json_dumps memory, the server sends and frees it). */
	const char *body_src;
	size_t body_src_len;
	char *body_out;
	int answer_checked;           /* on_body: the bytes passed openai_scan_json (a 2xx answer) */
	/* The texts the validating pass recorded (openai.h), so that the
	 * policy filter need not walk the same bytes again: on_request the
	 * client's body's (body_src), on_body the answer's. NULL, or ok 0,
	 * or src not the bytes at hand: walk them (json_span.h). */
	const struct openai_texts *body_texts;
	const struct openai_texts *answer_texts;
	int event_pass;               /* on_event: the raw event goes on after what the filter wrote (filter_run_event clears it) */
};

struct filter_ops {
	const char *name;
	int (*on_request)(struct filter_exchange *x, void **state);
	int (*on_body)(struct filter_exchange *x, void **state, struct evbuffer *body);
	int (*on_event)(struct filter_exchange *x, void **state, const char *raw, size_t raw_len,
	    const struct sse_event *ev, struct evbuffer *out);
	int (*on_relay)(struct filter_exchange *x, void **state, const char *bytes, size_t len,
	    const struct sse_event *ev, struct evbuffer *out);
	int (*on_head)(struct filter_exchange *x, void **state, struct evbuffer *extra_headers);
	void (*on_done)(struct filter_exchange *x, void **state);
	/* Sees each SSE event before the filter that owns the output; may
	 * only read (usage accounting takes a stream's usage chunk here). */
	void (*on_event_seen)(struct filter_exchange *x, void **state, const struct sse_event *ev);
};

/* Each returns 0, or -1 when a filter refused (x->status etc. set). */
int filter_run_request(struct filter_exchange *x);
int filter_run_body(struct filter_exchange *x, struct evbuffer *body);
int filter_run_event(struct filter_exchange *x, const char *raw, size_t raw_len,
    const struct sse_event *ev, struct evbuffer *out);
/* Appends the filters' header lines to the head in out. */
int filter_run_head(struct filter_exchange *x, struct evbuffer *out);
void filter_run_done(struct filter_exchange *x);

#endif
