/* Policy sets: hash, entity lookup, the decision, and the per-request
 * pipeline (walk + scan + decide + rewrite). Parsing is in policy_file.c. */
#include "policies/policy-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policies/restore.h"
#include "policies/scan.h"
#include "policies/rewrite.h"

/* Names used in policy files, errors and JSON output; indexed by the enums. */
static const char *const policy_action_names[POLICY_ACTION_COUNT] = {
	[POLICY_ACTION_NONE] = "none",
	[POLICY_ACTION_FLAG] = "flag",
	[POLICY_ACTION_CLASSIFY] = "classify",
	[POLICY_ACTION_REDACT] = "redact",
	[POLICY_ACTION_PSEUDONYMIZE] = "pseudonymize",
	[POLICY_ACTION_BLOCK] = "block",
};

static const char *const policy_class_names[DATA_CLASS_COUNT] = {
	[DATA_CLASS_PUBLIC] = "public",
	[DATA_CLASS_INTERNAL] = "internal",
	[DATA_CLASS_CONFIDENTIAL] = "confidential",
	[DATA_CLASS_RESTRICTED] = "restricted",
};

const char *policy_action_name(enum policy_action action)
{
	return (unsigned)action < POLICY_ACTION_COUNT ? policy_action_names[action] : "?";
}

const char *policy_data_class_name(enum data_class c)
{
	return (unsigned)c < DATA_CLASS_COUNT ? policy_class_names[c] : "?";
}

struct policy_set *policy_set_new(void)
{
	struct policy_set *set = calloc(1, sizeof(*set));
	if (set && policy_set_refresh(set) < 0) {
		free(set);
		return NULL;
	}
	return set;
}

static void policy_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy_rule_free(struct policy_rule *r)
{
	free(r->id);
	free(r->entities);
	free(r->select_bits);
	policy_strv_free(r->purposes, r->n_purposes);
	policy_strv_free(r->tenants, r->n_tenants);
	policy_strv_free(r->endpoints, r->n_endpoints);
	memset(r, 0, sizeof(*r));
}

void policy_set_free(struct policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n_rules; i++)
		policy_rule_free(&set->rules[i]);
	free(set->rules);
	for (size_t i = 0; i < set->n_entities; i++) {
		free(set->entities[i].name);
		free(set->entities[i].label);
	}
	free(set->entities);
	for (size_t i = 0; i < set->n_detectors; i++)
		custom_detector_free(&set->detectors[i]);
	free(set->detectors);
	free(set->canon);
	free(set->labels);
	custom_rows_free(set);
	aiact_model_free(set->aiact);
	free(set);
}

static enum entity_group policy_entity_group(const struct policy_set *set, unsigned entity);

int policy_set_refresh(struct policy_set *set)
{
	size_t n = ENTITY_BUILTIN_COUNT + set->n_entities;
	const char **labels = calloc(n, sizeof(*labels));
	if (!labels)
		return -1;
	for (size_t e = 0; e < n; e++)
		labels[e] = policy_set_entity_label(set, (unsigned)e);
	free(set->labels);
	set->labels = labels;
	if (custom_index_build(set) < 0)
		return -1;
	/* Which entities each rule selects, as a bitmap: the decision tests a
	 * bit per finding and rule instead of walking lists. */
	for (size_t ri = 0; ri < set->n_rules; ri++) {
		struct policy_rule *r = &set->rules[ri];
		uint8_t *bits = calloc(n / 8 + 1, 1);
		if (!bits)
			return -1;
		for (size_t i = 0; i < r->n_entities; i++)
			bits[r->entities[i] / 8] |= (uint8_t)(1u << (r->entities[i] % 8));
		for (size_t e = 0; e < n; e++)
			if (r->group_mask & (1u << policy_entity_group(set, (unsigned)e)))
				bits[e / 8] |= (uint8_t)(1u << (e % 8));
		free(r->select_bits);
		r->select_bits = bits;
	}
	if (policy_set_refresh_aiact(set) < 0)
		return -1;

	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(set->canon ? set->canon : "", set->canon_len, md, &mdlen, EVP_sha256(), NULL))
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(set->hash + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int policy_set_refresh_aiact(struct policy_set *set)
{
	int wanted = 0;
	for (size_t ri = 0; ri < set->n_rules && !wanted; ri++)
		for (unsigned e = ENTITY_AIACT_5_1_A; e <= ENTITY_AIACT_ANNEX3_4 && !wanted; e++)
			wanted = (set->rules[ri].select_bits[e / 8] >> (e % 8)) & 1;
	if (wanted && !set->aiact) {
		char err[160];
		set->aiact = aiact_model_new(err, sizeof err);
		if (!set->aiact)
			return -1;
	}
	return 0;
}

const char *policy_set_hash(const struct policy_set *set)
{
	return set->hash;
}

int policy_set_screens_aiact(const struct policy_set *set)
{
	return set->aiact != NULL;
}

size_t policy_set_rule_count(const struct policy_set *set)
{
	return set->n_rules;
}

const char *policy_set_rule_id(const struct policy_set *set, size_t rule)
{
	return rule < set->n_rules ? set->rules[rule].id : NULL;
}

/* A placeholder in an answer could never be resolved (the client never sees
 * the map, and hafen drops it with the request); worse, the restorer that
 * runs after the guard would turn a request's placeholder back into its
 * original. So a response-direction pseudonymize redacts (docs/policies.md,
 * "Actions and precedence"), and lint says so. */
const char *policy_set_rule_note(const struct policy_set *set, size_t rule)
{
	if (rule >= set->n_rules)
		return NULL;
	const struct policy_rule *r = &set->rules[rule];
	if (r->action == POLICY_ACTION_PSEUDONYMIZE && (r->direction & POLICY_DIRECTION_RESPONSE))
		return "pseudonymize applies to requests; in answers its findings are redacted as [LABEL]";
	return NULL;
}

size_t policy_set_entity_count(const struct policy_set *set)
{
	return ENTITY_BUILTIN_COUNT + set->n_entities;
}

const char *policy_set_entity_name(const struct policy_set *set, unsigned entity)
{
	if (entity < ENTITY_BUILTIN_COUNT)
		return entity_info_get(entity)->name;
	entity -= ENTITY_BUILTIN_COUNT;
	return entity < set->n_entities ? set->entities[entity].name : NULL;
}

const char *policy_set_entity_label(const struct policy_set *set, unsigned entity)
{
	if (entity < ENTITY_BUILTIN_COUNT)
		return entity_info_get(entity)->label;
	entity -= ENTITY_BUILTIN_COUNT;
	return entity < set->n_entities ? set->entities[entity].label : NULL;
}

enum data_class policy_set_entity_class(const struct policy_set *set, unsigned entity)
{
	if (entity < ENTITY_BUILTIN_COUNT)
		return entity_info_get(entity)->data_class;
	entity -= ENTITY_BUILTIN_COUNT;
	return entity < set->n_entities ? set->entities[entity].data_class : DATA_CLASS_RESTRICTED;
}

int policy_set_entity_find(const struct policy_set *set, const char *name)
{
	int e = entity_find_by_name(name);
	if (e >= 0)
		return e;
	for (size_t i = 0; i < set->n_entities; i++)
		if (strcmp(set->entities[i].name, name) == 0)
			return (int)(ENTITY_BUILTIN_COUNT + i);
	return -1;
}

const char *policy_set_custom_detector_id(const struct policy_set *set, unsigned detector)
{
	if (detector >= AIACT_DETECTOR_BASE && detector < AIACT_DETECTOR_BASE + AIACT_PRACTICE_COUNT)
		return AIACT_DETECTOR_NAME; /* the AI Act screener (aiact.h) */
	if (detector < CUSTOM_DETECTOR_BASE || detector - CUSTOM_DETECTOR_BASE >= set->n_detectors)
		return NULL;
	return set->detectors[detector - CUSTOM_DETECTOR_BASE].id;
}

static enum entity_group policy_entity_group(const struct policy_set *set, unsigned entity)
{
	(void)set;
	return entity < ENTITY_BUILTIN_COUNT ? entity_info_get(entity)->group : ENTITY_GROUP_CUSTOM;
}

struct policy_scanner *policy_set_scanner_new(const struct policy_set *set, char *err, size_t errlen)
{
	const struct detector *const *rows;
	size_t n = custom_detector_rows(set, &rows);
	return policy_scanner_new(rows, n, err, errlen);
}

int policy_scan_adapter_fn(void *arg, const char *text, size_t len,
			   const struct policy_finding **findings, size_t *n)
{
	struct policy_scan_adapter *a = arg;
	policy_findings_clear(&a->findings);
	if (policy_scan_text(a->scanner, text, len, &a->findings) < 0)
		return -1;
	*findings = a->findings.v;
	*n = a->findings.n;
	return 0;
}

/* ---- decision ---- */

static int policy_list_has(char *const *v, size_t n, const char *s)
{
	if (n == 0)
		return 1;
	if (!s)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int policy_rule_applies(const struct policy_rule *r, const struct policy_context *ctx)
{
	return (r->direction & ctx->direction) &&
	       policy_list_has(r->purposes, r->n_purposes, ctx->purpose) &&
	       policy_list_has(r->tenants, r->n_tenants, ctx->tenant) &&
	       policy_list_has(r->endpoints, r->n_endpoints, ctx->endpoint);
}

/* The rule's action for this request: a context kind the request has and
 * the rule names (context_actions) replaces it; the first such kind wins. */
static enum policy_action policy_rule_action(const struct policy_rule *r, const struct policy_context *ctx)
{
	for (unsigned k = 0; k < POLICY_CONTEXT_KIND_COUNT; k++)
		if ((ctx->kinds & (1u << k)) && r->context_action[k] != POLICY_ACTION_NONE)
			return r->context_action[k];
	return r->action;
}

static int policy_rule_selects(const struct policy_rule *r, const struct policy_finding *f)
{
	return f->confidence >= r->min_confidence &&
	       ((r->select_bits[f->entity / 8] >> (f->entity % 8)) & 1);
}

void policy_decision_clear(struct policy_decision *d)
{
	free(d->fired);
	free(d->entity_counts);
	memset(d, 0, sizeof(*d));
	d->block_rule = -1;
}

/* policy_decide into out->entity_counts and out->fired, zeroed arrays of
 * policy_set_entity_count and max(n_rules, 1) entries the caller owns. */
static int policy_decide_into(const struct policy_set *set, const struct policy_context *ctx,
			      const struct policy_finding *findings, size_t n,
			      struct policy_verdict *verdicts, struct policy_decision *out,
			      char *err, size_t errlen)
{
	size_t n_ent = policy_set_entity_count(set);
	out->n_findings = n;
	for (size_t i = 0; i < n; i++) {
		if (findings[i].entity >= n_ent) {
			snprintf(err, errlen, "finding %zu has an unknown entity %u", i, (unsigned)findings[i].entity);
			return -1;
		}
		verdicts[i].action = POLICY_ACTION_NONE;
		verdicts[i].rule = -1;
		out->entity_counts[findings[i].entity]++;
		if (findings[i].data_class > out->data_class && findings[i].data_class < DATA_CLASS_COUNT)
			out->data_class = findings[i].data_class;
	}
	/* Without findings no rule fires: most requests stop here. A rule's
	 * findings are counted before its context lists are compared. */
	for (size_t ri = 0; n && ri < set->n_rules; ri++) {
		const struct policy_rule *r = &set->rules[ri];
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += (size_t)policy_rule_selects(r, &findings[i]);
		if (count == 0 || count < r->min_count || !policy_rule_applies(r, ctx))
			continue;
		out->fired[out->n_fired++] = (uint16_t)ri;
		enum policy_action act = policy_rule_action(r, ctx);
		if (act == POLICY_ACTION_CLASSIFY && r->data_class > out->data_class)
			out->data_class = r->data_class;
		for (size_t i = 0; i < n; i++) {
			if (!policy_rule_selects(r, &findings[i]))
				continue;
			/* Strictly stronger only: the earlier rule keeps a tie. */
			if (act > verdicts[i].action) {
				verdicts[i].action = act;
				verdicts[i].rule = (int)ri;
			}
			if (act > out->action)
				out->action = act;
			if (act == POLICY_ACTION_BLOCK && out->block_rule < 0) {
				out->block_rule = (int)ri;
				out->block_entity = findings[i].entity;
			}
		}
	}
	return 0;
}

int policy_decide(const struct policy_set *set, const struct policy_context *ctx,
		  const struct policy_finding *findings, size_t n,
		  struct policy_verdict *verdicts, struct policy_decision *out,
		  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->block_rule = -1;
	out->entity_counts = calloc(policy_set_entity_count(set), sizeof(*out->entity_counts));
	out->fired = calloc(set->n_rules ? set->n_rules : 1, sizeof(*out->fired));
	if (!out->entity_counts || !out->fired) {
		policy_decision_clear(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (policy_decide_into(set, ctx, findings, n, verdicts, out, err, errlen) < 0) {
		policy_decision_clear(out);
		return -1;
	}
	return 0;
}

/* ---- wiping allocator for jansson ---- */

/* Each block carries its size in front, so free can wipe it. 16 bytes keep
 * the payload aligned for any type jansson stores. */
#define POLICY_JSON_HEADER 16

static void *policy_json_malloc(size_t n)
{
	if (n > SIZE_MAX - POLICY_JSON_HEADER)
		return NULL;
	unsigned char *p = malloc(n + POLICY_JSON_HEADER);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	return p + POLICY_JSON_HEADER;
}

static void policy_json_free(void *ptr)
{
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - POLICY_JSON_HEADER;
	size_t n;
	memcpy(&n, p, sizeof n);
	explicit_bzero(p, n + POLICY_JSON_HEADER);
	free(p);
}

void policy_json_use_wiping_allocator(void)
{
	json_set_alloc_funcs(policy_json_malloc, policy_json_free);
}

/* ---- per-request pipeline ---- */

struct policy_request {
	const struct policy_set *set;
	struct policy_context ctx;
	struct rewrite_map *map;
	struct policy_finding *f;
	size_t nf, capf;
	size_t *field_of;
	struct policy_verdict *verdicts;
	size_t verdicts_cap;
	/* its entity_counts and fired are the two arrays below, kept from one
	 * decision (and one exchange) to the next instead of two callocs each */
	struct policy_decision decision;
	uint32_t *counts;
	size_t counts_cap;
	uint16_t *fired;
	size_t fired_cap;
	char *ans; /* answer text on its way out (policy_request_answer_text), wiped */
	size_t ans_len, ans_cap;
};

/* The request's decision is empty; its arrays stay for the next one. */
static void policy_request_decision_clear(struct policy_request *r)
{
	memset(&r->decision, 0, sizeof(r->decision));
	r->decision.block_rule = -1;
}

/* policy_decide with the request's own arrays, grown for the set. */
static int policy_request_decide(struct policy_request *r, char *err, size_t errlen)
{
	size_t n_ent = policy_set_entity_count(r->set);
	size_t n_fired = r->set->n_rules ? r->set->n_rules : 1;
	if (r->counts_cap < n_ent) {
		uint32_t *c = realloc(r->counts, n_ent * sizeof(*c));
		if (!c)
			goto nomem;
		r->counts = c;
		r->counts_cap = n_ent;
	}
	if (r->fired_cap < n_fired) {
		uint16_t *f = realloc(r->fired, n_fired * sizeof(*f));
		if (!f)
			goto nomem;
		r->fired = f;
		r->fired_cap = n_fired;
	}
	policy_request_decision_clear(r);
	memset(r->counts, 0, n_ent * sizeof(*r->counts));
	r->decision.entity_counts = r->counts;
	r->decision.fired = r->fired;
	if (policy_decide_into(r->set, &r->ctx, r->f, r->nf, r->verdicts, &r->decision, err, errlen) < 0) {
		policy_request_decision_clear(r);
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

struct policy_request *policy_request_new(const struct policy_set *set,
					  const struct policy_context *ctx)
{
	struct policy_request *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->set = set;
	r->ctx = *ctx;
	r->decision.block_rule = -1;
	r->map = rewrite_map_new();
	if (!r->map) {
		free(r);
		return NULL;
	}
	return r;
}

void policy_request_reset(struct policy_request *r, const struct policy_set *set,
			  const struct policy_context *ctx)
{
	rewrite_map_clear(r->map);
	r->set = set;
	r->ctx = *ctx;
	r->nf = 0;
	policy_request_decision_clear(r);
	if (r->ans)
		explicit_bzero(r->ans, r->ans_cap);
	r->ans_len = 0;
}

void policy_request_free(struct policy_request *r)
{
	if (!r)
		return;
	rewrite_map_free(r->map);
	free(r->f);
	free(r->field_of);
	free(r->verdicts);
	free(r->counts);
	free(r->fired);
	if (r->ans) {
		explicit_bzero(r->ans, r->ans_cap);
		free(r->ans);
	}
	free(r);
}

const struct policy_decision *policy_request_decision(const struct policy_request *r)
{
	return &r->decision;
}

size_t policy_request_findings(const struct policy_request *r,
			       const struct policy_finding **findings,
			       const struct policy_verdict **verdicts,
			       const size_t **field_of)
{
	*findings = r->f;
	*verdicts = r->verdicts;
	*field_of = r->field_of;
	return r->nf;
}

/* Appends to a growable string that holds answer text (wiped when it moves). */
static int policy_text_append(char **text, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (n > SIZE_MAX / 4 - *len)
		return -1;
	if (*len + n + 1 > *cap) {
		size_t c = (*len + n + 1) * 2;
		char *t = malloc(c);
		if (!t)
			return -1;
		if (*text) {
			memcpy(t, *text, *len);
			explicit_bzero(*text, *cap);
			free(*text);
		}
		*text = t;
		*cap = c;
	}
	if (n)
		memcpy(*text + *len, s, n);
	*len += n;
	(*text)[*len] = '\0';
	return 0;
}

int policy_request_answer_text(struct policy_request *r, const char *in, size_t n, int json,
			       policy_scan_fn scan, void *scan_arg, const char **out, size_t *outlen,
			       int *changed, struct restore_guard_stats *st, char *err, size_t errlen)
{
	struct policy_context ctx = r->ctx;
	ctx.direction = POLICY_DIRECTION_RESPONSE;
	if (rewrite_map_count(r->map) == 0) {
		/* The usual answer: its scan finds nothing, and no placeholder
		 * went out to come back. No guard is made for it. */
		int clean = restore_guard_clean(r->set, scan, scan_arg, in, n, err, errlen);
		if (clean < 0)
			return -1;
		if (clean) {
			*out = in;
			*outlen = n;
			*changed = 0;
			return 0;
		}
	}
	struct restore_guard *g = restore_guard_new(r->set, &ctx, scan, scan_arg);
	struct restore_stream *rs = NULL;
	const char *gout, *o;
	size_t gn, on;
	int rc = -1;
	if (!g)
		goto nomem;
	/* Guard first (the model's own leaks), then put the originals back. */
	if (restore_guard_whole(g, in, n, &gout, &gn, err, errlen) < 0)
		goto out;
	r->ans_len = 0;
	if (rewrite_map_count(r->map) == 0 && gout == in) {
		/* nothing found, and no placeholder went out to come back */
		*out = in;
		*outlen = n;
	} else {
		if (rewrite_map_count(r->map) == 0) {
			if (policy_text_append(&r->ans, &r->ans_len, &r->ans_cap, gout, gn) < 0)
				goto nomem;
		} else {
			rs = json ? restore_stream_new_json(r->map) : restore_stream_new(r->map);
			if (!rs || restore_stream_feed(rs, gout, gn, &o, &on) < 0 ||
			    policy_text_append(&r->ans, &r->ans_len, &r->ans_cap, o, on) < 0 ||
			    restore_stream_finish(rs, &o, &on) < 0 ||
			    policy_text_append(&r->ans, &r->ans_len, &r->ans_cap, o, on) < 0)
				goto nomem;
		}
		*out = r->ans ? r->ans : "";
		*outlen = r->ans_len;
	}
	*changed = *outlen != n || (n && memcmp(*out, in, n) != 0);
	if (st) {
		struct restore_guard_stats fs;
		restore_guard_get_stats(g, &fs);
		st->n_changed += (size_t)*changed;
		st->n_findings += fs.n_findings;
		st->n_redacted += fs.n_redacted;
		if (fs.blocked && !st->blocked) {
			st->blocked = 1;
			st->block_rule = fs.block_rule;
		}
		if (fs.data_class > st->data_class)
			st->data_class = fs.data_class;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	restore_stream_free(rs);
	restore_guard_free(g);
	return rc;
}

int policy_request_restore_answer(struct policy_request *r, json_t *answer, policy_scan_fn scan,
				  void *scan_arg, struct restore_guard_stats *st, char *err, size_t errlen)
{
	json_t **fields = NULL;
	uint8_t *kinds = NULL;
	size_t n_fields = 0;
	int rc = -1;
	struct restore_guard_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	st->block_rule = -1;
	if (request_walk_collect_kinds(answer, &fields, &kinds, &n_fields, err, errlen) < 0)
		return -1;
	for (size_t fi = 0; fi < n_fields; fi++) {
		const char *o;
		size_t on;
		int changed;
		if (policy_request_answer_text(r, json_string_value(fields[fi]), json_string_length(fields[fi]),
					       kinds[fi] == REQUEST_WALK_JSON, scan, scan_arg, &o, &on, &changed,
					       st, err, errlen) < 0)
			goto out;
		/* most answers come back unchanged: then the field (and the
		 * caller's copy of the bytes) stays as it is */
		if (changed && json_string_setn(fields[fi], o, on) < 0) {
			snprintf(err, errlen, "cannot set restored answer field %zu", fi);
			goto out;
		}
	}
	rc = 0;
out:
	free(fields);
	free(kinds);
	return rc;
}

struct restore_stream *policy_request_restorer(const struct policy_request *r)
{
	return restore_stream_new(r->map);
}

struct restore_stream *policy_request_restorer_json(const struct policy_request *r)
{
	return restore_stream_new_json(r->map);
}

static int policy_request_push(struct policy_request *r, const struct policy_finding *f, size_t field)
{
	if (r->nf == r->capf) {
		size_t cap = r->capf ? r->capf * 2 : 32;
		struct policy_finding *nf = realloc(r->f, cap * sizeof(*nf));
		if (!nf)
			return -1;
		r->f = nf;
		size_t *fo = realloc(r->field_of, cap * sizeof(*fo));
		if (!fo)
			return -1;
		r->field_of = fo;
		r->capf = cap;
	}
	r->field_of[r->nf] = field;
	r->f[r->nf++] = *f;
	return 0;
}

/* The AI Act findings whose anchor is in field fi. */
static int policy_request_push_aiact(struct policy_request *r, const struct aiact_result *ai, size_t fi)
{
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++) {
		const struct aiact_hit *h = &ai->hits[p];
		if (!h->found || h->part != fi)
			continue;
		unsigned e = aiact_practice_entity((enum aiact_practice)p);
		struct policy_finding f = {
			.start = h->start, .end = h->end, .entity = (uint16_t)e,
			.detector = (uint16_t)(AIACT_DETECTOR_BASE + p),
			.data_class = (uint8_t)entity_info_get(e)->data_class, .confidence = 80,
		};
		if (policy_request_push(r, &f, fi) < 0)
			return -1;
	}
	return 0;
}

/* With the adapter, the scanner must be this set's (custom detectors run
 * inside its pass); else they would silently not run: fail closed. */
static int policy_request_check_scanner(const struct policy_request *r, policy_scan_fn scan,
					void *scan_arg, char *err, size_t errlen)
{
	if (scan == policy_scan_adapter_fn && r->set->n_detectors &&
	    policy_scanner_find_detector(((struct policy_scan_adapter *)scan_arg)->scanner,
					 r->set->detectors[0].id) < 0) {
		snprintf(err, errlen, "the scanner was not built for this policy set (use policy_set_scanner_new)");
		return -1;
	}
	return 0;
}

/* Scans the (expanded) text fields, adds the AI Act findings (ai, NULL:
 * none) and decides over all of them: the part both entry points share,
 * so the tree and the tree-less path find and decide alike. */
static int policy_request_scan_fields(struct policy_request *r, const struct policy_text *fields,
				      size_t n_fields, const struct aiact_result *ai,
				      policy_scan_fn scan, void *scan_arg, char *err, size_t errlen)
{
	struct policy_finding *cv = NULL;
	size_t cn = 0, ccap = 0;
	int rc = -1;
	/* most requests have no AI Act hit: then no field is searched for one */
	int ai_hits = 0;
	for (unsigned p = 0; ai && p < AIACT_PRACTICE_COUNT; p++)
		ai_hits |= ai->hits[p].found;
	if (!ai_hits)
		ai = NULL;
	for (size_t fi = 0; fi < n_fields; fi++) {
		const char *text = fields[fi].text;
		size_t len = fields[fi].len;
		if (scan) {
			const struct policy_finding *sf = NULL;
			size_t sn = 0;
			if (scan(scan_arg, text, len, &sf, &sn) < 0) {
				snprintf(err, errlen, "scanner failed on text field %zu", fi);
				goto out;
			}
			for (size_t i = 0; i < sn; i++)
				if (policy_request_push(r, &sf[i], fi) < 0)
					goto nomem;
		}
		if (ai && policy_request_push_aiact(r, ai, fi) < 0)
			goto nomem;
		if (scan)
			continue; /* the scanner runs the custom detectors in its pass */
		cn = 0;
		if (custom_scan_text(r->set, text, len, &cv, &cn, &ccap) < 0)
			goto nomem;
		for (size_t i = 0; i < cn; i++)
			if (policy_request_push(r, &cv[i], fi) < 0)
				goto nomem;
	}
	/* verdicts keep their array from one call to the next (capf entries) */
	if (!r->verdicts || r->verdicts_cap < r->nf) {
		size_t cap = r->capf ? r->capf : 1;
		free(r->verdicts);
		r->verdicts_cap = 0;
		r->verdicts = calloc(cap, sizeof(*r->verdicts));
		if (!r->verdicts)
			goto nomem;
		r->verdicts_cap = cap;
	}
	if (policy_request_decide(r, err, errlen) < 0)
		goto out;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(cv);
	return rc;
}

int policy_request_apply(struct policy_request *r, json_t *body, policy_scan_fn scan,
			 void *scan_arg, char *err, size_t errlen)
{
	json_t **walked = NULL, **fields = NULL;
	uint8_t *kinds = NULL;
	size_t n_walked = 0, n_fields = 0, n_nested = 0;
	size_t *parent = NULL;
	struct request_walk_nested *nested = NULL;
	struct policy_text *texts = NULL;
	int rc = -1;

	r->nf = 0;
	policy_request_decision_clear(r);
	if (policy_request_check_scanner(r, scan, scan_arg, err, errlen) < 0)
		return -1;
	if (request_walk_collect_kinds(body, &walked, &kinds, &n_walked, err, errlen) < 0)
		return -1;
	if (request_walk_expand(walked, kinds, n_walked, &fields, &parent, &n_fields,
				&nested, &n_nested, err, errlen) < 0)
		goto out;
	/* AI Act screening looks at all instruction texts together (aiact.h);
	 * its findings join those of the field their anchor word is in. */
	struct aiact_result ai;
	memset(&ai, 0, sizeof ai);
	if (r->set->aiact)
		aiact_screen_request(r->set->aiact, body, fields, n_fields, &ai);
	texts = malloc((n_fields ? n_fields : 1) * sizeof(*texts));
	if (!texts)
		goto nomem;
	for (size_t fi = 0; fi < n_fields; fi++)
		texts[fi] = (struct policy_text){json_string_value(fields[fi]), json_string_length(fields[fi]),
						 REQUEST_WALK_TEXT, 0};
	if (policy_request_scan_fields(r, texts, n_fields, &ai, scan, scan_arg, err, errlen) < 0)
		goto out;
	if (r->decision.action == POLICY_ACTION_BLOCK) {
		rc = 0; /* nothing is rewritten: the request is refused */
		goto out;
	}
	/* Findings are grouped by field (pushed in field order). */
	enum policy_action *acts = calloc(r->nf ? r->nf : 1, sizeof(*acts));
	if (!acts)
		goto nomem;
	for (size_t i = 0; i < r->nf; i++)
		acts[i] = r->verdicts[i].action;
	size_t i = 0;
	for (size_t fi = 0; fi < n_fields; fi++) {
		size_t first = i;
		while (i < r->nf && r->field_of[i] == fi)
			i++;
		if (i == first)
			continue;
		char *rewritten = NULL;
		size_t rlen = 0;
		int changed = 0;
		if (rewrite_text(r->map, json_string_value(fields[fi]), json_string_length(fields[fi]),
				 r->f + first, acts + first, i - first, r->set->labels,
				 policy_set_entity_count(r->set), &rewritten, &rlen, &changed,
				 err, errlen) < 0) {
			free(acts);
			goto out;
		}
		int set_rc = changed ? json_string_setn(fields[fi], rewritten, rlen) : 0;
		if (changed && parent[fi] != SIZE_MAX)
			nested[parent[fi]].changed = 1;
		explicit_bzero(rewritten, rlen);
		free(rewritten);
		if (set_rc < 0) {
			free(acts);
			snprintf(err, errlen, "cannot set rewritten text field %zu", fi);
			goto out;
		}
	}
	free(acts);
	if (request_walk_commit(nested, n_nested, err, errlen) < 0)
		goto out;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(texts);
	free(fields);
	free(walked);
	free(kinds);
	free(parent);
	request_walk_nested_free(nested, n_nested);
	return rc;
}

/* aiact_screen over the instruction texts among fields (the others are
 * NULL, which it skips): what aiact_screen_request reads from the tree,
 * in the same order, each hit's part the index of its field. */
static int policy_request_screen_texts(const struct policy_request *r, const struct policy_text *fields,
				       size_t n, unsigned media, struct aiact_result *ai)
{
	struct aiact_text buf[32], *at = n <= 32 ? buf : malloc(n * sizeof(*at));
	if (!at)
		return -1;
	for (size_t i = 0; i < n; i++)
		at[i] = fields[i].instruction ? (struct aiact_text){fields[i].text, fields[i].len}
					      : (struct aiact_text){NULL, 0};
	aiact_screen(r->set->aiact, at, n, media, ai);
	if (at != buf)
		free(at);
	return 0;
}

int policy_request_scan_texts(struct policy_request *r, const struct policy_text *texts, size_t n,
			      unsigned media, policy_scan_fn scan, void *scan_arg, int *rewrite, char *err,
			      size_t errlen)
{
	struct policy_text *fields = NULL;
	json_t **roots = NULL;
	size_t n_fields = 0, n_roots = 0;
	int rc = -1;

	*rewrite = 0;
	r->nf = 0;
	policy_request_decision_clear(r);
	if (policy_request_check_scanner(r, scan, scan_arg, err, errlen) < 0)
		return -1;
	if (request_walk_expand_texts(texts, n, &fields, &n_fields, &roots, &n_roots, err, errlen) < 0)
		return -1;
	int expanded = fields || roots; /* else no field was tool-call arguments */
	const struct policy_text *fv = expanded ? fields : texts;
	size_t fn = expanded ? n_fields : n;
	struct aiact_result ai;
	memset(&ai, 0, sizeof ai);
	if (r->set->aiact && policy_request_screen_texts(r, fv, fn, media, &ai) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (policy_request_scan_fields(r, fv, fn, r->set->aiact ? &ai : NULL, scan, scan_arg, err, errlen) < 0)
		goto out;
	if (r->decision.action != POLICY_ACTION_BLOCK)
		for (size_t i = 0; i < r->nf && !*rewrite; i++)
			*rewrite = r->verdicts[i].action == POLICY_ACTION_REDACT ||
				   r->verdicts[i].action == POLICY_ACTION_PSEUDONYMIZE;
	rc = 0;
out:
	free(fields);
	for (size_t i = 0; i < n_roots; i++)
		json_decref(roots[i]);
	free(roots);
	return rc;
}
