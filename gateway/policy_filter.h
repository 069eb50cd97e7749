/* The policy engine as a filter (filter.h): requests are scanned, decided
 * and rewritten before they leave for the upstream; answers get their
 * pseudonyms restored and pass the response guard before the client sees
 * them. The policy set is part of the runtime: loaded with the config (at
 * start, `hafen -t` and on SIGHUP), shared read-only by the workers. */
#ifndef HAFEN_GATEWAY_POLICY_FILTER_H
#define HAFEN_GATEWAY_POLICY_FILTER_H

#include <stddef.h>

#include "filter.h"

struct config;
struct policy_filter_set;

/* Loads cfg->policy.packs in order and builds the scanner. *out is NULL
 * when no packs are configured (the filter is off). On error -1 with
 * "CONFIG: policy.packs[i]: FILE: json.path: what was expected" in err. */
int policy_filter_load(const struct config *cfg, struct policy_filter_set **out, char *err,
    size_t errlen);
void policy_filter_free(struct policy_filter_set *p);
/* SHA-256 of the loaded policy files (policy_set_hash), for audit records. */
const char *policy_filter_hash(const struct policy_filter_set *p);

/* For the differential tests (tests/unit/policy_request_diff.c): with
 * tree set, every SSE event of an answer is parsed into a jansson tree
 * (the reference the byte walk must match); 0 is the default, the byte
 * walk wherever it applies. Not for use while exchanges run. */
void policy_filter_set_event_tree(struct policy_filter_set *p, int tree);
/* Events the byte walk took since policy_filter_set_event_tree (counted
 * only after a call to it). */
unsigned long policy_filter_events_by_bytes(const struct policy_filter_set *p);

extern const struct filter_ops policy_filter_ops;

#endif
