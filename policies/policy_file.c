/* Policy files: JSON with precise errors ("gdpr.json: rules[3].action:
 * expected one of redact, pseudonymize, block, classify, flag"). A file is
 * parsed completely into new rules / detectors first and added to the set
 * only when all of it is valid, so a bad file changes nothing.
 *
 * {
 *   "name": "gdpr-default", "version": 1, "description": "...",
 *   "detectors": [ { "id", "entity", "label", "class", "confidence",
 *                    "literals": [...] | "pattern": "..." } ],
 *   "rules": [ { "id", "description", "entities": [...], "groups": [...],
 *                "min_count", "min_confidence", "purposes", "tenants",
 *                "endpoints", "direction", "action", "class",
 *                "context_actions": { "employment_high_risk": "flag" } } ],
 *   "overrides": [ { "rule", "action", "description" } ]
 * }
 * An override sets a new action on a rule loaded from an EARLIER file: a
 * site file lowers a pack's block to flag (AI Act Art. 14 human oversight;
 * the audit record then shows the rule fired with the lower action).
 * docs/policies.md is the reference. */
#include "policies/policy-int.h"
#include "policies/rewrite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enumerable values of the format, one table each; the "expected one of"
 * lists in errors are built from these tables. */
struct policy_file_word {
	const char *name;
	int value;
};

static const struct policy_file_word policy_file_actions[] = {
	{ "redact", POLICY_ACTION_REDACT },
	{ "pseudonymize", POLICY_ACTION_PSEUDONYMIZE },
	{ "block", POLICY_ACTION_BLOCK },
	{ "classify", POLICY_ACTION_CLASSIFY },
	{ "flag", POLICY_ACTION_FLAG },
	{ NULL, 0 },
};

static const struct policy_file_word policy_file_directions[] = {
	{ "request", POLICY_DIRECTION_REQUEST },
	{ "response", POLICY_DIRECTION_RESPONSE },
	{ "both", POLICY_DIRECTION_BOTH },
	{ NULL, 0 },
};

static const struct policy_file_word policy_file_classes[] = {
	{ "public", DATA_CLASS_PUBLIC },
	{ "internal", DATA_CLASS_INTERNAL },
	{ "confidential", DATA_CLASS_CONFIDENTIAL },
	{ "restricted", DATA_CLASS_RESTRICTED },
	{ NULL, 0 },
};

static const struct policy_file_word policy_file_groups[] = {
	{ "contact", ENTITY_GROUP_CONTACT },
	{ "financial", ENTITY_GROUP_FINANCIAL },
	{ "national_id", ENTITY_GROUP_NATIONAL_ID },
	{ "person", ENTITY_GROUP_PERSON },
	{ "secret", ENTITY_GROUP_SECRET },
	{ "special_category", ENTITY_GROUP_SPECIAL_CATEGORY },
	{ "custom", ENTITY_GROUP_CUSTOM },
	{ NULL, 0 },
};

/* Context kinds a rule may name in "context_actions" (policy.h). */
static const struct policy_file_word policy_file_contexts[] = {
	{ "employment_high_risk", POLICY_CONTEXT_KIND_EMPLOYMENT_HIGH_RISK },
	{ NULL, 0 },
};

static const char *const policy_file_top_keys[] = {
	"name", "version", "description", "detectors", "rules", "overrides", NULL,
};
static const char *const policy_file_override_keys[] = {
	"rule", "description", "action", NULL,
};
static const char *const policy_file_rule_keys[] = {
	"id", "description", "entities", "groups", "min_count", "min_confidence", "purposes",
	"tenants", "endpoints", "direction", "action", "class", "context_actions", NULL,
};
static const char *const policy_file_detector_keys[] = {
	"id", "description", "entity", "label", "class", "confidence", "literals", "pattern", NULL,
};

struct policy_file_ctx {
	struct policy_set *set;
	const char *name;
	char *err;
	size_t errlen;
	char path[128];
	struct policy_rule *rules;
	size_t n_rules;
	struct policy_custom_entity *entities;
	size_t n_entities;
	struct policy_custom_detector *detectors;
	size_t n_detectors;
	/* overrides: rule index in the set and its new action */
	size_t *override_rule;
	enum policy_action *override_action;
	size_t n_overrides;
};

static int policy_file_fail(struct policy_file_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int policy_file_fail(struct policy_file_ctx *c, const char *fmt, ...)
{
	int w = snprintf(c->err, c->errlen, "%s: %s%s", c->name, c->path, c->path[0] ? ": " : "");
	if (w >= 0 && (size_t)w < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + w, c->errlen - (size_t)w, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void policy_file_path(struct policy_file_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void policy_file_path(struct policy_file_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->path, sizeof c->path, fmt, ap);
	va_end(ap);
}

static int policy_file_word_fail(struct policy_file_ctx *c, const struct policy_file_word *w)
{
	char list[256] = "";
	for (size_t i = 0; w[i].name; i++) {
		strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
		strncat(list, w[i].name, sizeof list - strlen(list) - 1);
	}
	return policy_file_fail(c, "expected one of %s", list);
}

static int policy_file_word(struct policy_file_ctx *c, json_t *v, const struct policy_file_word *w,
			    int *out)
{
	if (json_is_string(v))
		for (size_t i = 0; w[i].name; i++)
			if (strcmp(json_string_value(v), w[i].name) == 0) {
				*out = w[i].value;
				return 0;
			}
	return policy_file_word_fail(c, w);
}

static int policy_file_check_keys(struct policy_file_ctx *c, json_t *obj, const char *const *keys)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (keys[i])
			continue;
		char list[256] = "";
		for (size_t k = 0; keys[k]; k++) {
			strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, keys[k], sizeof list - strlen(list) - 1);
		}
		/* The key comes from the file, so it is the operator's own text. */
		return policy_file_fail(c, "unknown key \"%.64s\" (expected %s)", key, list);
	}
	return 0;
}

static int policy_file_string(struct policy_file_ctx *c, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return policy_file_fail(c, "expected a string");
	size_t len = json_string_length(v);
	if (len == 0 || len > POLICY_STRING_MAX)
		return policy_file_fail(c, "expected a string of 1 to %d bytes", POLICY_STRING_MAX);
	if (memchr(json_string_value(v), '\0', len))
		return policy_file_fail(c, "string contains a NUL byte");
	*out = json_string_value(v);
	return 0;
}

/* Identifiers: rule and detector ids, custom entity names. */
static int policy_file_ident(struct policy_file_ctx *c, json_t *v, const char **out)
{
	if (policy_file_string(c, v, out) < 0)
		return -1;
	for (const char *p = *out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.' || *p == ':'))
			return policy_file_fail(c, "expected an identifier of a-z 0-9 _ - . :");
	return 0;
}

static int policy_file_int(struct policy_file_ctx *c, json_t *v, long lo, long hi, unsigned *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return policy_file_fail(c, "expected an integer from %ld to %ld", lo, hi);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int policy_file_strv(struct policy_file_ctx *c, json_t *v, char ***out, size_t *n)
{
	if (!json_is_array(v))
		return policy_file_fail(c, "expected an array of strings");
	size_t len = json_array_size(v);
	if (len > POLICY_LIST_MAX)
		return policy_file_fail(c, "at most %d entries", POLICY_LIST_MAX);
	*out = calloc(len ? len : 1, sizeof(char *));
	if (!*out)
		return policy_file_fail(c, "out of memory");
	size_t plen = strlen(c->path);
	for (size_t i = 0; i < len; i++) {
		const char *s;
		snprintf(c->path + plen, sizeof c->path - plen, "[%zu]", i);
		if (policy_file_string(c, json_array_get(v, i), &s) < 0)
			return -1;
		if (!((*out)[i] = strdup(s)))
			return policy_file_fail(c, "out of memory");
		(*n)++;
	}
	c->path[plen] = '\0';
	return 0;
}

static int policy_file_entity_find(struct policy_file_ctx *c, const char *name)
{
	int e = policy_set_entity_find(c->set, name);
	if (e >= 0)
		return e;
	for (size_t i = 0; i < c->n_entities; i++)
		if (strcmp(c->entities[i].name, name) == 0)
			return (int)(ENTITY_BUILTIN_COUNT + c->set->n_entities + i);
	return -1;
}

static int policy_file_rule_id_taken(struct policy_file_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->set->n_rules; i++)
		if (strcmp(c->set->rules[i].id, id) == 0)
			return 1;
	for (size_t i = 0; i < c->n_rules; i++)
		if (strcmp(c->rules[i].id, id) == 0)
			return 1;
	return 0;
}

/* "context_actions": { "employment_high_risk": "flag" }: the action the
 * rule takes instead when the caller puts that kind into the request's
 * context (an Annex III point 4 decision under an enabled high-risk
 * employment purpose is its legitimate use, AI Act Art. 6(2), 26). */
static int policy_file_context_actions(struct policy_file_ctx *c, json_t *v, size_t idx,
				       struct policy_rule *r)
{
	policy_file_path(c, "rules[%zu].context_actions", idx);
	if (!json_is_object(v) || json_object_size(v) == 0)
		return policy_file_fail(c, "expected an object of context kinds and actions");
	if (r->action == POLICY_ACTION_CLASSIFY)
		return policy_file_fail(c, "a classify rule keeps its action (it needs a class)");
	const char *key;
	json_t *a;
	json_object_foreach(v, key, a) {
		size_t k = 0;
		while (policy_file_contexts[k].name && strcmp(policy_file_contexts[k].name, key) != 0)
			k++;
		if (!policy_file_contexts[k].name)
			return policy_file_word_fail(c, policy_file_contexts);
		policy_file_path(c, "rules[%zu].context_actions.%s", idx, policy_file_contexts[k].name);
		int word;
		if (policy_file_word(c, a, policy_file_actions, &word) < 0)
			return -1;
		if (word == POLICY_ACTION_CLASSIFY)
			return policy_file_fail(c, "classify needs a class; expected another action");
		r->context_action[policy_file_contexts[k].value] = (enum policy_action)word;
		policy_file_path(c, "rules[%zu].context_actions", idx);
	}
	return 0;
}

static int policy_file_rule(struct policy_file_ctx *c, json_t *obj, size_t idx, struct policy_rule *r)
{
	const char *s;
	json_t *v;
	int word;

	r->min_count = 1;
	r->direction = POLICY_DIRECTION_REQUEST;
	policy_file_path(c, "rules[%zu]", idx);
	if (!json_is_object(obj))
		return policy_file_fail(c, "expected an object");
	if (policy_file_check_keys(c, obj, policy_file_rule_keys) < 0)
		return -1;

	policy_file_path(c, "rules[%zu].id", idx);
	if (!(v = json_object_get(obj, "id")))
		return policy_file_fail(c, "missing (every rule needs an id for the audit log)");
	if (policy_file_ident(c, v, &s) < 0)
		return -1;
	if (policy_file_rule_id_taken(c, s))
		return policy_file_fail(c, "duplicate rule id \"%s\"", s);
	if (!(r->id = strdup(s)))
		return policy_file_fail(c, "out of memory");

	if ((v = json_object_get(obj, "description"))) {
		policy_file_path(c, "rules[%zu].description", idx);
		if (!json_is_string(v))
			return policy_file_fail(c, "expected a string");
	}

	if ((v = json_object_get(obj, "entities"))) {
		policy_file_path(c, "rules[%zu].entities", idx);
		if (!json_is_array(v) || json_array_size(v) > POLICY_LIST_MAX)
			return policy_file_fail(c, "expected an array of entity names");
		size_t n = json_array_size(v);
		r->entities = calloc(n ? n : 1, sizeof(*r->entities));
		if (!r->entities)
			return policy_file_fail(c, "out of memory");
		for (size_t i = 0; i < n; i++) {
			policy_file_path(c, "rules[%zu].entities[%zu]", idx, i);
			if (policy_file_string(c, json_array_get(v, i), &s) < 0)
				return -1;
			int e = policy_file_entity_find(c, s);
			if (e < 0)
				return policy_file_fail(c, "unknown entity \"%.64s\" (see docs/policies.md, or declare it in \"detectors\")", s);
			r->entities[r->n_entities++] = (uint16_t)e;
		}
	}
	if ((v = json_object_get(obj, "groups"))) {
		policy_file_path(c, "rules[%zu].groups", idx);
		if (!json_is_array(v) || json_array_size(v) > POLICY_LIST_MAX)
			return policy_file_fail(c, "expected an array of group names");
		for (size_t i = 0; i < json_array_size(v); i++) {
			policy_file_path(c, "rules[%zu].groups[%zu]", idx, i);
			if (policy_file_word(c, json_array_get(v, i), policy_file_groups, &word) < 0)
				return -1;
			r->group_mask |= 1u << word;
		}
	}
	if (r->n_entities == 0 && r->group_mask == 0) {
		policy_file_path(c, "rules[%zu]", idx);
		return policy_file_fail(c, "needs \"entities\" or \"groups\" (which findings the rule is about)");
	}
	if ((v = json_object_get(obj, "min_count"))) {
		policy_file_path(c, "rules[%zu].min_count", idx);
		if (policy_file_int(c, v, 1, 1000000, &r->min_count) < 0)
			return -1;
	}
	if ((v = json_object_get(obj, "min_confidence"))) {
		policy_file_path(c, "rules[%zu].min_confidence", idx);
		if (policy_file_int(c, v, 0, 100, &r->min_confidence) < 0)
			return -1;
	}
	static const char *const list_keys[] = { "purposes", "tenants", "endpoints" };
	char ***lists[] = { &r->purposes, &r->tenants, &r->endpoints };
	size_t *counts[] = { &r->n_purposes, &r->n_tenants, &r->n_endpoints };
	for (size_t k = 0; k < 3; k++) {
		if (!(v = json_object_get(obj, list_keys[k])))
			continue;
		policy_file_path(c, "rules[%zu].%s", idx, list_keys[k]);
		if (policy_file_strv(c, v, lists[k], counts[k]) < 0)
			return -1;
	}
	if ((v = json_object_get(obj, "direction"))) {
		policy_file_path(c, "rules[%zu].direction", idx);
		if (policy_file_word(c, v, policy_file_directions, &word) < 0)
			return -1;
		r->direction = (enum policy_direction)word;
	}
	policy_file_path(c, "rules[%zu].action", idx);
	if (!(v = json_object_get(obj, "action")))
		return policy_file_fail(c, "missing");
	if (policy_file_word(c, v, policy_file_actions, &word) < 0)
		return -1;
	r->action = (enum policy_action)word;

	v = json_object_get(obj, "class");
	policy_file_path(c, "rules[%zu].class", idx);
	if (r->action == POLICY_ACTION_CLASSIFY) {
		if (!v)
			return policy_file_fail(c, "missing (a classify rule names the class to raise to)");
		if (policy_file_word(c, v, policy_file_classes, &word) < 0)
			return -1;
		r->data_class = (enum data_class)word;
	} else if (v) {
		return policy_file_fail(c, "only a classify rule takes a class");
	}
	if ((v = json_object_get(obj, "context_actions")) && policy_file_context_actions(c, v, idx, r) < 0)
		return -1;
	c->path[0] = '\0';
	return 0;
}

static int policy_file_detector(struct policy_file_ctx *c, json_t *obj, size_t idx,
				struct policy_custom_detector *d)
{
	const char *s;
	json_t *v;
	int word;

	policy_file_path(c, "detectors[%zu]", idx);
	if (!json_is_object(obj))
		return policy_file_fail(c, "expected an object");
	if (policy_file_check_keys(c, obj, policy_file_detector_keys) < 0)
		return -1;
	policy_file_path(c, "detectors[%zu].id", idx);
	if (!(v = json_object_get(obj, "id")))
		return policy_file_fail(c, "missing");
	if (policy_file_ident(c, v, &s) < 0)
		return -1;
	for (size_t i = 0; i < c->set->n_detectors; i++)
		if (strcmp(c->set->detectors[i].id, s) == 0)
			return policy_file_fail(c, "duplicate detector id \"%s\"", s);
	for (size_t i = 0; i < c->n_detectors; i++)
		if (strcmp(c->detectors[i].id, s) == 0)
			return policy_file_fail(c, "duplicate detector id \"%s\"", s);
	if (!(d->id = strdup(s)))
		return policy_file_fail(c, "out of memory");

	d->data_class = DATA_CLASS_CONFIDENTIAL;
	if ((v = json_object_get(obj, "class"))) {
		policy_file_path(c, "detectors[%zu].class", idx);
		if (policy_file_word(c, v, policy_file_classes, &word) < 0)
			return -1;
		d->data_class = (enum data_class)word;
	}
	unsigned conf = 90;
	if ((v = json_object_get(obj, "confidence"))) {
		policy_file_path(c, "detectors[%zu].confidence", idx);
		if (policy_file_int(c, v, 0, 100, &conf) < 0)
			return -1;
	}
	d->confidence = (uint8_t)conf;

	policy_file_path(c, "detectors[%zu].entity", idx);
	if (!(v = json_object_get(obj, "entity")))
		return policy_file_fail(c, "missing (the entity type the detector reports)");
	if (policy_file_ident(c, v, &s) < 0)
		return -1;
	int e = policy_file_entity_find(c, s);
	json_t *lv = json_object_get(obj, "label");
	if (e < 0) {
		/* A new custom entity: its label makes "[LABEL]" and "<LABEL_1>". */
		if (c->set->n_entities + c->n_entities >= POLICY_ENTITIES_MAX)
			return policy_file_fail(c, "too many custom entities (at most %d)", POLICY_ENTITIES_MAX);
		policy_file_path(c, "detectors[%zu].label", idx);
		if (!lv)
			return policy_file_fail(c, "missing (a new entity needs a label such as \"CUSTOMER\")");
		const char *label;
		if (policy_file_string(c, lv, &label) < 0)
			return -1;
		size_t ll = strlen(label);
		int okl = ll <= REWRITE_LABEL_MAX && label[0] >= 'A' && label[0] <= 'Z';
		for (size_t i = 0; okl && i < ll; i++)
			okl = (label[i] >= 'A' && label[i] <= 'Z') || (label[i] >= '0' && label[i] <= '9') || label[i] == '_';
		if (!okl)
			return policy_file_fail(c, "expected A-Z 0-9 _ starting with a letter, at most %d bytes", REWRITE_LABEL_MAX);
		struct policy_custom_entity *ne = realloc(c->entities, (c->n_entities + 1) * sizeof(*ne));
		if (!ne)
			return policy_file_fail(c, "out of memory");
		c->entities = ne;
		struct policy_custom_entity *ce = &c->entities[c->n_entities];
		ce->name = strdup(s);
		ce->label = strdup(label);
		ce->data_class = d->data_class;
		if (!ce->name || !ce->label) {
			free(ce->name);
			free(ce->label);
			return policy_file_fail(c, "out of memory");
		}
		e = (int)(ENTITY_BUILTIN_COUNT + c->set->n_entities + c->n_entities);
		c->n_entities++;
	} else if (lv) {
		policy_file_path(c, "detectors[%zu].label", idx);
		return policy_file_fail(c, "entity \"%s\" exists already and has its label", s);
	}
	d->entity = (unsigned)e;

	json_t *lits = json_object_get(obj, "literals");
	json_t *pat = json_object_get(obj, "pattern");
	if (!lits == !pat) {
		policy_file_path(c, "detectors[%zu]", idx);
		return policy_file_fail(c, "needs exactly one of \"literals\" or \"pattern\"");
	}
	if (lits) {
		d->kind = CUSTOM_KIND_LITERALS;
		policy_file_path(c, "detectors[%zu].literals", idx);
		if (policy_file_strv(c, lits, &d->literals, &d->n_literals) < 0)
			return -1;
		if (d->n_literals == 0)
			return policy_file_fail(c, "expected at least one literal");
		d->literal_lens = calloc(d->n_literals, sizeof(size_t));
		if (!d->literal_lens)
			return policy_file_fail(c, "out of memory");
		for (size_t i = 0; i < d->n_literals; i++) {
			for (char *p = d->literals[i]; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			d->literal_lens[i] = strlen(d->literals[i]);
		}
	} else {
		d->kind = CUSTOM_KIND_PATTERN;
		policy_file_path(c, "detectors[%zu].pattern", idx);
		if (policy_file_string(c, pat, &s) < 0)
			return -1;
		char perr[160];
		if (custom_pattern_compile(&d->pattern, s, strlen(s), perr, sizeof perr) < 0)
			return policy_file_fail(c, "%s", perr);
	}
	c->path[0] = '\0';
	return 0;
}

static int policy_file_override(struct policy_file_ctx *c, json_t *obj, size_t idx)
{
	const char *s;
	json_t *v;
	int word;

	policy_file_path(c, "overrides[%zu]", idx);
	if (!json_is_object(obj))
		return policy_file_fail(c, "expected an object");
	if (policy_file_check_keys(c, obj, policy_file_override_keys) < 0)
		return -1;
	policy_file_path(c, "overrides[%zu].rule", idx);
	if (!(v = json_object_get(obj, "rule")))
		return policy_file_fail(c, "missing (the id of a rule from an earlier file)");
	if (policy_file_ident(c, v, &s) < 0)
		return -1;
	size_t ri = 0;
	while (ri < c->set->n_rules && strcmp(c->set->rules[ri].id, s) != 0)
		ri++;
	if (ri == c->set->n_rules)
		return policy_file_fail(c, "no rule \"%s\" was loaded before this file", s);
	for (size_t i = 0; i < c->n_overrides; i++)
		if (c->override_rule[i] == ri)
			return policy_file_fail(c, "rule \"%s\" is overridden twice", s);
	if ((v = json_object_get(obj, "description"))) {
		policy_file_path(c, "overrides[%zu].description", idx);
		if (!json_is_string(v))
			return policy_file_fail(c, "expected a string");
	}
	policy_file_path(c, "overrides[%zu].action", idx);
	if (!(v = json_object_get(obj, "action")))
		return policy_file_fail(c, "missing");
	if (policy_file_word(c, v, policy_file_actions, &word) < 0)
		return -1;
	if (word == POLICY_ACTION_CLASSIFY || c->set->rules[ri].action == POLICY_ACTION_CLASSIFY)
		return policy_file_fail(c, "a classify rule keeps its action (it needs a class)");
	c->override_rule[c->n_overrides] = ri;
	c->override_action[c->n_overrides] = (enum policy_action)word;
	c->n_overrides++;
	return 0;
}

static void policy_file_ctx_free(struct policy_file_ctx *c)
{
	free(c->override_rule);
	free(c->override_action);
	for (size_t i = 0; i < c->n_rules; i++)
		policy_rule_free(&c->rules[i]);
	free(c->rules);
	for (size_t i = 0; i < c->n_entities; i++) {
		free(c->entities[i].name);
		free(c->entities[i].label);
	}
	free(c->entities);
	for (size_t i = 0; i < c->n_detectors; i++)
		custom_detector_free(&c->detectors[i]);
	free(c->detectors);
}

/* Moves the parsed parts into the set (cannot fail after the reallocs). */
static int policy_file_commit(struct policy_file_ctx *c, const char *canon, size_t canon_len)
{
	struct policy_set *set = c->set;
	if (set->n_rules + c->n_rules > POLICY_RULES_MAX)
		return policy_file_fail(c, "too many rules in the set (at most %d)", POLICY_RULES_MAX);
	struct policy_rule *rules = realloc(set->rules, (set->n_rules + c->n_rules + 1) * sizeof(*rules));
	if (!rules)
		return policy_file_fail(c, "out of memory");
	set->rules = rules;
	struct policy_custom_entity *ents = realloc(set->entities, (set->n_entities + c->n_entities + 1) * sizeof(*ents));
	if (!ents)
		return policy_file_fail(c, "out of memory");
	set->entities = ents;
	struct policy_custom_detector *dets = realloc(set->detectors, (set->n_detectors + c->n_detectors + 1) * sizeof(*dets));
	if (!dets)
		return policy_file_fail(c, "out of memory");
	set->detectors = dets;
	char *cn = realloc(set->canon, set->canon_len + canon_len + 2);
	if (!cn)
		return policy_file_fail(c, "out of memory");
	set->canon = cn;

	if (c->n_rules)
		memcpy(set->rules + set->n_rules, c->rules, c->n_rules * sizeof(*rules));
	set->n_rules += c->n_rules;
	c->n_rules = 0;
	if (c->n_entities)
		memcpy(set->entities + set->n_entities, c->entities, c->n_entities * sizeof(*ents));
	set->n_entities += c->n_entities;
	c->n_entities = 0;
	if (c->n_detectors)
		memcpy(set->detectors + set->n_detectors, c->detectors, c->n_detectors * sizeof(*dets));
	set->n_detectors += c->n_detectors;
	c->n_detectors = 0;
	for (size_t i = 0; i < c->n_overrides; i++)
		set->rules[c->override_rule[i]].action = c->override_action[i];
	memcpy(set->canon + set->canon_len, canon, canon_len);
	set->canon_len += canon_len;
	set->canon[set->canon_len++] = '\n';
	set->canon[set->canon_len] = '\0';
	if (policy_set_refresh(set) < 0)
		return policy_file_fail(c, "out of memory");
	return 0;
}

int policy_file_load_buffer(struct policy_set *set, const char *name, const char *buf,
			   size_t len, char *err, size_t errlen)
{
	struct policy_file_ctx c = { .set = set, .name = name, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	char *canon = NULL;
	int rc = -1;
	json_t *v;

	if (!root) {
		snprintf(err, errlen, "%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		policy_file_fail(&c, "expected a JSON object at the top");
		goto out;
	}
	if (policy_file_check_keys(&c, root, policy_file_top_keys) < 0)
		goto out;
	if ((v = json_object_get(root, "name"))) {
		const char *s;
		policy_file_path(&c, "name");
		if (policy_file_ident(&c, v, &s) < 0)
			goto out;
	}
	if ((v = json_object_get(root, "version"))) {
		unsigned ver;
		policy_file_path(&c, "version");
		if (policy_file_int(&c, v, 1, 1, &ver) < 0)
			goto out;
	}
	if ((v = json_object_get(root, "description")) && !json_is_string(v)) {
		policy_file_path(&c, "description");
		policy_file_fail(&c, "expected a string");
		goto out;
	}
	if ((v = json_object_get(root, "detectors"))) {
		policy_file_path(&c, "detectors");
		if (!json_is_array(v) || json_array_size(v) > POLICY_LIST_MAX) {
			policy_file_fail(&c, "expected an array of at most %d detectors", POLICY_LIST_MAX);
			goto out;
		}
		size_t n = json_array_size(v);
		c.detectors = calloc(n ? n : 1, sizeof(*c.detectors));
		if (!c.detectors) {
			policy_file_fail(&c, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			int r = policy_file_detector(&c, json_array_get(v, i), i, &c.detectors[i]);
			c.n_detectors++; /* freed with the ctx either way */
			if (r < 0)
				goto out;
		}
	}
	policy_file_path(&c, "rules");
	v = json_object_get(root, "rules");
	if (!v) {
		policy_file_fail(&c, "missing");
		goto out;
	}
	if (!json_is_array(v) || json_array_size(v) > POLICY_RULES_MAX) {
		policy_file_fail(&c, "expected an array of at most %d rules", POLICY_RULES_MAX);
		goto out;
	}
	size_t n = json_array_size(v);
	c.rules = calloc(n ? n : 1, sizeof(*c.rules));
	if (!c.rules) {
		policy_file_fail(&c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int r = policy_file_rule(&c, json_array_get(v, i), i, &c.rules[i]);
		c.n_rules++;
		if (r < 0)
			goto out;
	}
	if ((v = json_object_get(root, "overrides"))) {
		policy_file_path(&c, "overrides");
		if (!json_is_array(v) || json_array_size(v) > POLICY_RULES_MAX) {
			policy_file_fail(&c, "expected an array of at most %d overrides", POLICY_RULES_MAX);
			goto out;
		}
		size_t no = json_array_size(v);
		c.override_rule = calloc(no ? no : 1, sizeof(*c.override_rule));
		c.override_action = calloc(no ? no : 1, sizeof(*c.override_action));
		if (!c.override_rule || !c.override_action) {
			policy_file_fail(&c, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < no; i++)
			if (policy_file_override(&c, json_array_get(v, i), i) < 0)
				goto out;
	}
	c.path[0] = '\0';
	/* Canonical form for the hash: compact, keys sorted, so formatting and
	 * key order do not change it but any change of meaning does. */
	canon = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!canon) {
		policy_file_fail(&c, "out of memory");
		goto out;
	}
	rc = policy_file_commit(&c, canon, strlen(canon));
out:
	if (canon) {
		/* jansson's memory goes back through jansson's free (which may be
		 * the wiping allocator, policy_json_use_wiping_allocator). */
		json_malloc_t jm;
		json_free_t jf;
		json_get_alloc_funcs(&jm, &jf);
		jf(canon);
	}
	policy_file_ctx_free(&c);
	json_decref(root);
	return rc;
}

int policy_file_load(struct policy_set *set, const char *path, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 8192, len = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			if (cap >= (16u << 20)) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
				return -1;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, bad ? "read error" : "out of memory");
		return -1;
	}
	int rc = policy_file_load_buffer(set, base, buf, len, err, errlen);
	free(buf);
	return rc;
}
