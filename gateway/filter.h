/* The filter chain: where the policy engine and the audit log plug in.
 *
 * Every proxied exchange passes four hook points, in this order:
 *   on_request  after the body is parsed and validated, before it is
 *               re-serialized for the upstream. A filter may rewrite the
 *               JSON in place (redact, pseudonymize), pick nothing else,
 *               or refuse the request by returning -1 with status/type/
 *               message set (the client gets that OpenAI error).
 *   on_body     a complete non-streamed response body (JSON) before it is
 *               sent; the filter may replace the bytes in the evbuffer.
 *   on_event    each SSE event of a streamed response, whole, in order. The
 *               filter appends what the client should get to out; the
 *               default (no filter wrote anything) relays the raw event.
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

struct filter_exchange {
	const char *request_id;
	const struct config_key *key; /* tenant, purpose */
	int route;                    /* enum openai_route */
	const char *upstream;         /* name */
	json_t *body;                 /* on_request: the parsed body */
	int stream;
	int status;                   /* on_done: final status; on refuse: status to send */
	const char *error_type;       /* on refuse */
	char message[256];            /* on refuse; never quotes content */
	const struct policy_filter_set *policy; /* the runtime's policy set, NULL: off */
	int data_class;               /* enum data_class the policy found (0: public) */
	struct filter_policy_info policy_info;
	const struct audit_filter_rt *audit; /* the runtime's audit settings, NULL: none */
	char client_addr[46];         /* peer address, numeric */
	char user[129];               /* X-Hafen-User (end user, for the audit pseudonym), "" when absent */
	void *state[FILTER_MAX];
	uint64_t t_first_byte;        /* us since the epoch: the response head was written (0: none) */
	/* Set by the server when it holds the response until the audit record
	 * is committed ("request" durability): called once, on the audit
	 * writer thread, with 0 (committed) or -1 (not written). */
	void (*recorded)(void *arg, int status, uint64_t seq);
	void *recorded_arg;
	json_t *answer;               /* on_body: the answer as parsed when it was checked (NULL: not parsed) */
};

struct filter_ops {
	const char *name;
	int (*on_request)(struct filter_exchange *x, void **state);
	int (*on_body)(struct filter_exchange *x, void **state, struct evbuffer *body);
	int (*on_event)(struct filter_exchange *x, void **state, const char *raw, size_t raw_len,
	    const struct sse_event *ev, struct evbuffer *out);
	void (*on_done)(struct filter_exchange *x, void **state);
};

/* Each returns 0, or -1 when a filter refused (x->status etc. set). */
int filter_run_request(struct filter_exchange *x);
int filter_run_body(struct filter_exchange *x, struct evbuffer *body);
int filter_run_event(struct filter_exchange *x, const char *raw, size_t raw_len,
    const struct sse_event *ev, struct evbuffer *out);
void filter_run_done(struct filter_exchange *x);

#endif
