/* The router: which upstream pools may serve a request, in order of
 * preference. Pure (no I/O, no clock): the caller passes the kill and
 * health state it sees, so the whole decision is unit-tested as a table
 * (tests/unit/test_router.c).
 *
 * The safety invariant lives in router_upstream_allowed() and nowhere
 * else: a pool whose max_data_class is below the request's class is never
 * a candidate, and restricted data never leaves on_prem (GDPR Art. 9,
 * 44-49; architecture.md "Data classes"). Every candidate list, every
 * retry and the last check before a connection is used pass through it. */
#ifndef HAFEN_GATEWAY_ROUTER_H
#define HAFEN_GATEWAY_ROUTER_H

#include <stddef.h>

#include "gwconfig.h"

#define ROUTER_MAX_CANDIDATES 16

enum router_refusal {
	ROUTER_REFUSAL_NONE,
	ROUTER_REFUSAL_MODEL_NOT_FOUND,  /* 404: no such alias for this key */
	ROUTER_REFUSAL_MODEL_KILLED,     /* 503: the alias' kill switch is pulled */
	ROUTER_REFUSAL_NO_ELIGIBLE,      /* 503: no pool may see this data class */
	ROUTER_REFUSAL_UPSTREAM_KILLED,  /* 503: every eligible pool is switched off */
	ROUTER_REFUSAL_NO_HEALTHY,       /* 503: every eligible pool is down */
	ROUTER_REFUSAL_COUNT,
};

/* What is known about the request when it is routed. */
struct router_request {
	const char *model;  /* the alias the client asked for; NULL: none */
	int data_class;     /* enum data_class, after every raise */
	const char *purpose;
	const char *tenant;
};

/* The state the caller sees now. Either callback may be NULL (nothing
 * killed, everything healthy). */
struct router_state {
	int (*model_killed)(void *arg, const char *alias);
	int (*upstream_killed)(void *arg, int upstream);
	int (*upstream_available)(void *arg, int upstream); /* a usable instance exists */
	/* Without routes: 1 when the pool reported model in its GET /v1/models
	 * (discover_models), 0 when not, -1 when it has reported nothing. */
	int (*upstream_serves)(void *arg, int upstream, const char *model);
	void *arg;
};

struct router_candidate {
	int upstream;      /* index into cfg->upstreams */
	const char *model; /* the model name to send; NULL: leave the body's as is */
};

struct router_result {
	size_t n;
	struct router_candidate c[ROUTER_MAX_CANDIDATES];
	int refusal; /* enum router_refusal */
	int status;  /* HTTP status of the refusal */
	const char *code; /* OpenAI error code and the audit error_class */
	char message[256]; /* names the alias, class and switch; never content */
};

/* THE invariant: may pool u receive a request of this class? */
int router_upstream_allowed(const struct config_upstream *u, int data_class);

/* Fills out with the ordered candidates; 0, or -1 with the refusal set. */
int router_select(const struct config *cfg, const struct router_request *rq,
    const struct router_state *st, struct router_result *out);

/* 1 when some route of alias matches this purpose and tenant (the alias
 * is listed by GET /v1/models for the key). */
int router_model_visible(const struct config *cfg, const char *alias, const char *purpose,
    const char *tenant);

/* Parses an OpenAI model list ({"object": "list", "data": [{"id": ...}]},
 * as GET /v1/models answers) into *ids (malloc'd, each malloc'd; free
 * with router_models_free). At most 1024 ids of 1-255 printable bytes;
 * -1 with a message in err for anything else. */
int router_models_parse(const char *body, size_t len, char ***ids, size_t *n, char *err, size_t errlen);
void router_models_free(char **ids, size_t n);

/* "public" ... "restricted" (case-insensitive) -> enum data_class, or -1. */
int router_data_class_parse(const char *s, size_t len);
const char *router_data_class_name(int data_class);
const char *router_location_name(int location);

#endif
