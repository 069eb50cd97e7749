/* Data-class routing: alias x class x purpose x tenant -> ordered pools.
 * See router.h for the invariant and why it sits in one function. */
#include "router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "policies/policy.h"

static const char *const router_location_names[] = {
	[CONFIG_LOCATION_ON_PREM] = "on_prem",
	[CONFIG_LOCATION_EU] = "eu",
	[CONFIG_LOCATION_THIRD_COUNTRY] = "third_country",
};

/* Status and code per refusal: one row each. */
static const struct {
	int status;
	const char *code;
} router_refusals[ROUTER_REFUSAL_COUNT] = {
	[ROUTER_REFUSAL_NONE] = {200, NULL},
	[ROUTER_REFUSAL_MODEL_NOT_FOUND] = {404, "model_not_found"},
	[ROUTER_REFUSAL_MODEL_KILLED] = {503, "model_killed"},
	[ROUTER_REFUSAL_NO_ELIGIBLE] = {503, "no_eligible_upstream"},
	[ROUTER_REFUSAL_UPSTREAM_KILLED] = {503, "upstream_killed"},
	[ROUTER_REFUSAL_NO_HEALTHY] = {503, "no_healthy_upstream"},
};

int router_upstream_allowed(const struct config_upstream *u, int data_class)
{
	if (data_class < DATA_CLASS_PUBLIC || data_class >= DATA_CLASS_COUNT)
		return 0; /* a class we cannot name is treated as the worst: refused */
	if (u->max_data_class < data_class)
		return 0;
	if (data_class >= DATA_CLASS_RESTRICTED && u->location != CONFIG_LOCATION_ON_PREM)
		return 0;
	return 1;
}

const char *router_data_class_name(int data_class)
{
	if (data_class < 0 || data_class >= DATA_CLASS_COUNT)
		return "unknown";
	return policy_data_class_name((enum data_class)data_class);
}

const char *router_location_name(int location)
{
	if (location < 0 || location > CONFIG_LOCATION_THIRD_COUNTRY)
		return "unknown";
	return router_location_names[location];
}

int router_data_class_parse(const char *s, size_t len)
{
	for (int i = 0; i < DATA_CLASS_COUNT; i++)
		if (strlen(policy_data_class_name((enum data_class)i)) == len &&
		    strncasecmp(s, policy_data_class_name((enum data_class)i), len) == 0)
			return i;
	return -1;
}

/* An absent list or a "*" entry matches anything, including no value. */
static int router_list_match(char *const *list, size_t n, const char *v)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], "*") == 0 || (v && strcmp(list[i], v) == 0))
			return 1;
	return 0;
}

static int router_refuse(struct router_result *out, int refusal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int router_refuse(struct router_result *out, int refusal, const char *fmt, ...)
{
	va_list ap;
	out->n = 0;
	out->refusal = refusal;
	out->status = router_refusals[refusal].status;
	out->code = router_refusals[refusal].code;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
	return -1;
}

int router_model_visible(const struct config *cfg, const char *alias, const char *purpose,
    const char *tenant)
{
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct config_route *r = &cfg->routes[i];
		if (strcmp(r->model, alias) == 0 && router_list_match(r->purposes, r->n_purposes, purpose) &&
		    router_list_match(r->tenants, r->n_tenants, tenant))
			return 1;
	}
	return 0;
}

/* Whether pool u serves model m: a pool that lists its models
 * (discover_models) serves what it listed and what is configured; until
 * its list is in, a pool with no configured models is taken at its word.
 * Other pools serve what the configuration says (checked at load). */
static int router_pool_serves(const struct config_upstream *up, int u, const char *m,
    const struct router_state *st)
{
	int found = st && st->upstream_serves && m ? st->upstream_serves(st->arg, u, m) : -1;
	if (found == 1 || (up->n_models == 0 && found < 0))
		return 1;
	for (size_t k = 0; k < up->n_models; k++)
		if (strcmp(up->models[k], m) == 0)
			return 1;
	return 0;
}

/* The pools a request may use before health and kill state count: the
 * first route row that matches, or without routes every upstream that
 * serves the model. Returns the refusal when there is no such list. */
static int router_targets(const struct config *cfg, const struct router_request *rq,
    const struct router_state *st, struct router_candidate *c, size_t *n, struct router_result *out)
{
	const char *m = rq->model;
	*n = 0;
	if (cfg->n_routes == 0) {
		for (size_t u = 0; u < cfg->n_upstreams && *n < ROUTER_MAX_CANDIDATES; u++) {
			/* no model named (GET): any pool */
			if (!m || router_pool_serves(&cfg->upstreams[u], (int)u, m, st))
				c[(*n)++] = (struct router_candidate){(int)u, NULL};
		}
		if (*n == 0)
			return router_refuse(out, ROUTER_REFUSAL_MODEL_NOT_FOUND,
			    "the model '%s' does not exist or you do not have access to it", m ? m : "");
		return 0;
	}
	if (!m || !router_model_visible(cfg, m, rq->purpose, rq->tenant))
		return router_refuse(out, ROUTER_REFUSAL_MODEL_NOT_FOUND,
		    "the model '%s' does not exist or you do not have access to it", m ? m : "");
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct config_route *r = &cfg->routes[i];
		if (strcmp(r->model, m) != 0 || !router_list_match(r->purposes, r->n_purposes, rq->purpose) ||
		    !router_list_match(r->tenants, r->n_tenants, rq->tenant) ||
		    rq->data_class < 0 || rq->data_class >= DATA_CLASS_COUNT ||
		    !(r->class_mask & (1u << rq->data_class)))
			continue;
		/* A target whose pool discovers its models is used only for a
		 * model that pool listed (or has configured): the name it gets
		 * must be one it serves. */
		for (size_t t = 0; t < r->n_targets && *n < ROUTER_MAX_CANDIDATES; t++) {
			int u = r->targets[t].upstream_idx;
			const char *tm = r->targets[t].model ? r->targets[t].model : r->model;
			if (!cfg->upstreams[u].discover_models || router_pool_serves(&cfg->upstreams[u], u, tm, st))
				c[(*n)++] = (struct router_candidate){u, tm};
		}
		if (*n == 0)
			return router_refuse(out, ROUTER_REFUSAL_MODEL_NOT_FOUND,
			    "the model '%s' is not served by the pools of its route (their discovered models)", m);
		return 0;
	}
	return router_refuse(out, ROUTER_REFUSAL_NO_ELIGIBLE,
	    "no route of model '%s' may receive data of class %s", m, router_data_class_name(rq->data_class));
}

int router_select(const struct config *cfg, const struct router_request *rq,
    const struct router_state *st, struct router_result *out)
{
	struct router_candidate c[ROUTER_MAX_CANDIDATES];
	size_t n;
	memset(out, 0, sizeof *out);
	if (router_targets(cfg, rq, st, c, &n, out) < 0)
		return -1;
	if (rq->model && st && st->model_killed && st->model_killed(st->arg, rq->model))
		return router_refuse(out, ROUTER_REFUSAL_MODEL_KILLED,
		    "the model '%s' is switched off by an operator (kill switch)", rq->model);
	size_t eligible = 0, killed = 0;
	const char *killed_name = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct config_upstream *u = &cfg->upstreams[c[i].upstream];
		if (!router_upstream_allowed(u, rq->data_class))
			continue;
		eligible++;
		if (st && st->upstream_killed && st->upstream_killed(st->arg, c[i].upstream)) {
			killed++;
			killed_name = u->name;
			continue;
		}
		if (st && st->upstream_available && !st->upstream_available(st->arg, c[i].upstream))
			continue;
		out->c[out->n++] = c[i];
	}
	if (out->n > 0)
		return 0;
	if (eligible == 0)
		return router_refuse(out, ROUTER_REFUSAL_NO_ELIGIBLE,
		    "no upstream may receive data of class %s", router_data_class_name(rq->data_class));
	if (killed == eligible)
		return router_refuse(out, ROUTER_REFUSAL_UPSTREAM_KILLED,
		    "upstream '%s' is switched off by an operator (kill switch); no other upstream is eligible",
		    killed_name);
	return router_refuse(out, ROUTER_REFUSAL_NO_HEALTHY,
	    "no eligible upstream is available for data of class %s", router_data_class_name(rq->data_class));
}

void router_models_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int router_models_parse(const char *body, size_t len, char ***ids, size_t *n, char *err, size_t errlen)
{
	json_error_t je;
	*ids = NULL;
	*n = 0;
	json_t *j = json_loadb(body, len, 0, &je);
	json_t *data = json_object_get(j, "data");
	if (!json_is_array(data)) {
		snprintf(err, errlen, j ? "expected an object with a \"data\" array" : "invalid JSON");
		json_decref(j);
		return -1;
	}
	size_t m = json_array_size(data);
	if (m > 1024) {
		snprintf(err, errlen, "more than 1024 models");
		json_decref(j);
		return -1;
	}
	char **out = calloc(m ? m : 1, sizeof *out);
	if (!out) {
		json_decref(j);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m; i++) {
		json_t *id = json_object_get(json_array_get(data, i), "id");
		const char *s = json_string_value(id);
		size_t l = s ? json_string_length(id) : 0;
		int ok = s && l > 0 && l < 256 && strlen(s) == l;
		for (size_t k = 0; ok && k < l; k++)
			ok = (unsigned char)s[k] >= 0x20 && s[k] != 0x7f;
		if (!ok || !(out[i] = strdup(s))) {
			snprintf(err, errlen, "data[%zu].id: expected a name of 1 to 255 printable bytes", i);
			router_models_free(out, i);
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	*ids = out;
	*n = m;
	return 0;
}
