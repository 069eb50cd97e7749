/* The purpose registry. A purpose is what a key is for: its lawful basis
 * (GDPR Art. 6(1)), the data classes it may process, how long its records
 * are kept and its AI Act risk category. Purposes in the employment area
 * of Annex III point 4 are high-risk (AI Act Art. 6(2)) and off until the
 * deployer enables them with the preconditions of Art. 26(7) (workers
 * informed), Art. 14 (a named human overseer) and Art. 19(1) / 26(6) (at
 * least six months of logs).
 *
 * The "purposes" object is also read by hafenctl report processing
 * (gateway/ctl_report.c): "upstreams", "transfer_basis" and "security" are
 * documentation fields for that report and are accepted as they are. */
#include "purpose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "gwconfig.h"
#include "policies/policy.h"

/* Each basis answers to its letter, "6(1)(x)" and a name. */
static const struct {
	const char *letter, *article, *name;
} purpose_basis_table[PURPOSE_BASIS_COUNT] = {
	[PURPOSE_BASIS_CONSENT] = {"a", "6(1)(a)", "consent"},
	[PURPOSE_BASIS_CONTRACT] = {"b", "6(1)(b)", "contract"},
	[PURPOSE_BASIS_LEGAL_OBLIGATION] = {"c", "6(1)(c)", "legal_obligation"},
	[PURPOSE_BASIS_VITAL_INTERESTS] = {"d", "6(1)(d)", "vital_interests"},
	[PURPOSE_BASIS_PUBLIC_TASK] = {"e", "6(1)(e)", "public_task"},
	[PURPOSE_BASIS_LEGITIMATE_INTERESTS] = {"f", "6(1)(f)", "legitimate_interests"},
};

static const char *const purpose_risk_names[PURPOSE_RISK_COUNT] = {"minimal", "limited", "high"};

static const char *const purpose_area_names[PURPOSE_AREA_COUNT] = {
	"none", "recruitment", "selection", "promotion", "termination", "task_allocation",
	"performance_monitoring",
};

const char *purpose_basis_name(int basis)
{
	return basis >= 0 && basis < PURPOSE_BASIS_COUNT ? purpose_basis_table[basis].name : "?";
}

const char *purpose_risk_name(int risk)
{
	return risk >= 0 && risk < PURPOSE_RISK_COUNT ? purpose_risk_names[risk] : "?";
}

const char *purpose_area_name(int area)
{
	return area >= 0 && area < PURPOSE_AREA_COUNT ? purpose_area_names[area] : "?";
}

int purpose_class_parse(const char *name)
{
	for (int i = 0; name && i < DATA_CLASS_COUNT; i++)
		if (strcmp(name, policy_data_class_name((enum data_class)i)) == 0)
			return i;
	return -1;
}

struct purpose_ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int purpose_fail(struct purpose_ctx *ctx, const char *id, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int purpose_fail(struct purpose_ctx *ctx, const char *id, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ctx->err, ctx->errlen, "%s: purposes%s%s%s%s: ", ctx->file, id ? "." : "",
	    id ? id : "", field ? "." : "", field ? field : "");
	if (n < 0 || (size_t)n >= ctx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int purpose_parse_basis(struct purpose_ctx *ctx, const char *id, json_t *v, struct purpose *p)
{
	const char *s = json_string_value(v);
	for (int i = 0; s && i < PURPOSE_BASIS_COUNT; i++)
		if (strcmp(s, purpose_basis_table[i].letter) == 0 || strcmp(s, purpose_basis_table[i].article) == 0 ||
		    strcmp(s, purpose_basis_table[i].name) == 0) {
			p->basis = i;
			return 0;
		}
	return purpose_fail(ctx, id, "lawful_basis", "%sexpected one of consent, contract, legal_obligation, "
	    "vital_interests, public_task, legitimate_interests (or \"6(1)(a)\" to \"6(1)(f)\"): "
	    "every purpose needs a lawful basis (GDPR Art. 6(1))", v ? "" : "missing, ");
}

/* YYYY-MM-DD, a real calendar day, not after today. */
static int purpose_date_valid(const char *s)
{
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' || s[7] != '-')
		return 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char today[16];
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	return strcmp(s, today) <= 0;
}

static int purpose_parse_high_risk(struct purpose_ctx *ctx, const char *id, json_t *v, struct purpose *p)
{
	static const char *const known[] = {"enabled", "workers_informed", "overseer", NULL};
	const char *k;
	json_t *e;
	if (!json_is_object(v))
		return purpose_fail(ctx, id, "high_risk", "expected an object {enabled, workers_informed, overseer}");
	json_object_foreach(v, k, e) {
		int ok = 0;
		for (int i = 0; known[i]; i++)
			ok |= strcmp(k, known[i]) == 0;
		if (!ok) {
			char f[160];
			snprintf(f, sizeof f, "high_risk.%s", k);
			return purpose_fail(ctx, id, f, "unknown key");
		}
	}
	json_t *en = json_object_get(v, "enabled");
	if (en && !json_is_boolean(en))
		return purpose_fail(ctx, id, "high_risk.enabled", "expected true or false");
	p->high_risk_enabled = json_is_true(en);
	json_t *wi = json_object_get(v, "workers_informed");
	if (wi) {
		if (!json_is_string(wi) || !purpose_date_valid(json_string_value(wi)))
			return purpose_fail(ctx, id, "high_risk.workers_informed", "expected a date YYYY-MM-DD, not "
			    "in the future, on which the workers affected were informed (AI Act Art. 26(7))");
		snprintf(p->workers_informed, sizeof p->workers_informed, "%s", json_string_value(wi));
	}
	json_t *ov = json_object_get(v, "overseer");
	if (ov) {
		if (!json_is_string(ov) || json_string_length(ov) == 0 ||
		    strlen(json_string_value(ov)) != json_string_length(ov))
			return purpose_fail(ctx, id, "high_risk.overseer", "expected the name of the human overseer "
			    "(AI Act Art. 14)");
		if (!(p->overseer = strdup(json_string_value(ov))))
			return purpose_fail(ctx, id, "high_risk.overseer", "out of memory");
	}
	return 0;
}

static int purpose_parse_one(struct purpose_ctx *ctx, const char *id, json_t *o, struct purpose *p)
{
	/* Fields hafen checks, then the ones only the Art. 30 report reads. */
	static const char *const known[] = {
		"description", "lawful_basis", "data_classes", "class_floor", "retention_days", "risk",
		"area", "high_risk", "transparency", "upstreams", "transfer_basis", "security", NULL,
	};
	const char *k;
	json_t *v;
	if (!(p->id = strdup(id)))
		return purpose_fail(ctx, id, NULL, "out of memory");
	p->class_floor = DATA_CLASS_PUBLIC;
	if (!*id || strlen(id) > 64)
		return purpose_fail(ctx, NULL, NULL, "expected purpose ids of 1 to 64 characters");
	if (!json_is_object(o))
		return purpose_fail(ctx, id, NULL, "expected an object");
	json_object_foreach(o, k, v) {
		int ok = 0;
		for (int i = 0; known[i]; i++)
			ok |= strcmp(k, known[i]) == 0;
		if (!ok)
			return purpose_fail(ctx, id, k, "unknown key");
	}
	v = json_object_get(o, "description");
	if (!json_is_string(v) || json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
		return purpose_fail(ctx, id, "description", "%sexpected a non-empty string saying what the processing "
		    "is for (GDPR Art. 5(1)(b), 30(1)(b))", v ? "" : "missing, ");
	if (!(p->description = strdup(json_string_value(v))))
		return purpose_fail(ctx, id, "description", "out of memory");
	if (purpose_parse_basis(ctx, id, json_object_get(o, "lawful_basis"), p) < 0)
		return -1;
	v = json_object_get(o, "data_classes");
	if (!json_is_array(v) || json_array_size(v) == 0)
		return purpose_fail(ctx, id, "data_classes", "%sexpected a non-empty array of public, internal, "
		    "confidential, restricted: the classes it may process (GDPR Art. 5(1)(b), (c))", v ? "" : "missing, ");
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		int c = purpose_class_parse(json_string_value(e));
		if (c < 0) {
			char f[64];
			snprintf(f, sizeof f, "data_classes[%zu]", i);
			return purpose_fail(ctx, id, f, "expected one of public, internal, confidential, restricted");
		}
		p->classes |= 1u << c;
	}
	v = json_object_get(o, "class_floor");
	if (v) {
		p->class_floor = purpose_class_parse(json_string_value(v));
		if (p->class_floor < 0)
			return purpose_fail(ctx, id, "class_floor", "expected one of public, internal, confidential, restricted");
		if (!(p->classes & (1u << p->class_floor)))
			return purpose_fail(ctx, id, "class_floor", "expected one of the purpose's data_classes "
			    "(with this floor every request would be refused)");
	}
	v = json_object_get(o, "retention_days");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 36500)
		return purpose_fail(ctx, id, "retention_days", "%sexpected an integer from 1 to 36500: how long its "
		    "records are kept (GDPR Art. 5(1)(e), 30(1)(f))", v ? "" : "missing, ");
	p->retention_days = json_integer_value(v);
	p->risk = PURPOSE_RISK_MINIMAL;
	v = json_object_get(o, "risk");
	if (v) {
		const char *s = json_string_value(v);
		p->risk = -1;
		for (int r = 0; s && r < PURPOSE_RISK_COUNT; r++)
			if (strcmp(s, purpose_risk_names[r]) == 0)
				p->risk = r;
		if (p->risk < 0)
			return purpose_fail(ctx, id, "risk", "expected one of minimal, limited, high (AI Act risk category)");
	}
	v = json_object_get(o, "area");
	if (v) {
		const char *s = json_string_value(v);
		p->area = -1;
		for (int a = 0; s && a < PURPOSE_AREA_COUNT; a++)
			if (strcmp(s, purpose_area_names[a]) == 0)
				p->area = a;
		if (p->area < 0)
			return purpose_fail(ctx, id, "area", "expected one of none, recruitment, selection, promotion, "
			    "termination, task_allocation, performance_monitoring (AI Act Annex III point 4)");
	}
	/* Its keys are checked where they are used (transparency_load). */
	v = json_object_get(o, "transparency");
	if (v && !json_is_object(v))
		return purpose_fail(ctx, id, "transparency", "expected an object with body_field and notice (AI Act Art. 50)");
	p->transparency = json_incref(v);
	/* Annex III point 4 uses are high-risk by Art. 6(2), whatever "risk" says. */
	p->high_risk = p->risk == PURPOSE_RISK_HIGH || p->area != PURPOSE_AREA_NONE;
	v = json_object_get(o, "high_risk");
	if (v && purpose_parse_high_risk(ctx, id, v, p) < 0)
		return -1;
	if (p->high_risk_enabled) {
		if (!p->high_risk)
			return purpose_fail(ctx, id, "high_risk.enabled", "expected only on a purpose with risk \"high\" "
			    "or an Annex III point 4 area (AI Act Art. 6(2))");
		if (!p->workers_informed[0])
			return purpose_fail(ctx, id, "high_risk.workers_informed", "missing, expected the date YYYY-MM-DD "
			    "the workers affected were informed: required to enable a high-risk purpose (AI Act Art. 26(7))");
		if (!p->overseer)
			return purpose_fail(ctx, id, "high_risk.overseer", "missing, expected the name of the human "
			    "overseer: required to enable a high-risk purpose (AI Act Art. 14)");
		if (p->retention_days < PURPOSE_HIGH_RISK_MIN_RETENTION_DAYS)
			return purpose_fail(ctx, id, "retention_days", "%lld is below the %d days of logs a high-risk "
			    "purpose must keep (AI Act Art. 19(1), 26(6))", p->retention_days,
			    PURPOSE_HIGH_RISK_MIN_RETENTION_DAYS);
	}
	return 0;
}

void purpose_registry_free(struct purpose_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->purposes[i].id);
		free(r->purposes[i].description);
		free(r->purposes[i].overseer);
		json_decref(r->purposes[i].transparency);
	}
	free(r->purposes);
	free(r);
}

struct purpose_registry *purpose_registry_parse(const json_t *j, const char *file, char *err, size_t errlen)
{
	struct purpose_ctx ctx = {file, err, errlen};
	if (!json_is_object(j)) {
		purpose_fail(&ctx, NULL, NULL, "expected an object of purposes by id");
		return NULL;
	}
	struct purpose_registry *r = calloc(1, sizeof *r);
	size_t n = json_object_size(j);
	if (!r || (n && !(r->purposes = calloc(n, sizeof *r->purposes)))) {
		free(r);
		purpose_fail(&ctx, NULL, NULL, "out of memory");
		return NULL;
	}
	const char *id;
	json_t *v;
	json_object_foreach((json_t *)j, id, v) {
		if (purpose_parse_one(&ctx, id, v, &r->purposes[r->n++]) < 0) {
			purpose_registry_free(r);
			return NULL;
		}
	}
	return r;
}

const struct purpose *purpose_registry_find(const struct purpose_registry *r, const char *id)
{
	for (size_t i = 0; r && id && i < r->n; i++)
		if (strcmp(r->purposes[i].id, id) == 0)
			return &r->purposes[i];
	return NULL;
}

static int purpose_refuse(struct filter_exchange *x, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int purpose_refuse(struct filter_exchange *x, const char *type, const char *fmt, ...)
{
	va_list ap;
	x->status = 403;
	x->error_type = type;
	va_start(ap, fmt);
	vsnprintf(x->message, sizeof x->message, fmt, ap);
	va_end(ap);
	return -1;
}

int purpose_check_request(const struct purpose_registry *reg, struct filter_exchange *x)
{
	const struct config_key *k = x->key;
	if (!k)
		return 0;
	int cls = x->data_class;
	if (k->class_floor > cls)
		cls = k->class_floor;
	if (reg) {
		const struct purpose *p = purpose_registry_find(reg, k->purpose);
		if (!p)
			return purpose_refuse(x, "purpose_not_registered", "the purpose \"%.64s\" of this key is not "
			    "registered in the configuration (GDPR Art. 5(1)(b) purpose limitation)", k->purpose);
		if (p->high_risk && !p->high_risk_enabled)
			return purpose_refuse(x, "high_risk_purpose_disabled", "the purpose \"%.64s\" is high-risk "
			    "(AI Act Art. 6(2), Annex III point 4); it is refused until its high-risk mode is enabled "
			    "with workers informed (Art. 26(7)) and a human overseer (Art. 14)", p->id);
		if (p->class_floor > cls)
			cls = p->class_floor;
		if (!(p->classes & (1u << cls))) {
			x->data_class = cls;
			return purpose_refuse(x, "data_class_forbidden", "data class %s is not allowed for the purpose "
			    "\"%.64s\" (GDPR Art. 5(1)(b))", policy_data_class_name((enum data_class)cls), p->id);
		}
	}
	x->data_class = cls;
	if (cls > k->max_class)
		return purpose_refuse(x, "data_class_forbidden", "data class %s is above what this key may send "
		    "(max_class %s)", policy_data_class_name((enum data_class)cls), policy_data_class_name((enum data_class)k->max_class));
	return 0;
}
