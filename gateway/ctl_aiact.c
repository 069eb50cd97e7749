/* hafenctl report aiact: the AI Act view of one period for an auditor.
 * Per purpose of the "purposes" section of hafen.json (read as written,
 * like `report processing`; the purpose registry owns its validation): its
 * risk category, whether it is high-risk (risk "high" or an Annex III
 * point 4 area, Art. 6(2)) and whether the high-risk preconditions hold;
 * from the audit log: Art. 5 blocks by letter, Annex III point 4 flags and
 * blocks, overrides (an AI Act rule fired, the request went on) and the
 * kill-switch events with who pulled them (Art. 14). Only metadata is
 * read, never content. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "gateway/audit.h"
#include "gateway/ctl.h"
#include "gateway/ctl_audit.h"

#define CTL_AIACT_MIN_RETENTION_DAYS 180 /* AI Act Art. 19(1), 26(6): six months */

static int ctl_aiact_is_date(const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) != 10)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static json_t *ctl_aiact_hr(const json_t *p, const char *key)
{
	return json_object_get(json_object_get(p, "high_risk"), key);
}

static int ctl_aiact_enabled(const json_t *p)
{
	return json_is_true(ctl_aiact_hr(p, "enabled"));
}

static int ctl_aiact_informed(const json_t *p)
{
	return ctl_aiact_is_date(ctl_aiact_hr(p, "workers_informed"));
}

static int ctl_aiact_overseer(const json_t *p)
{
	const json_t *o = ctl_aiact_hr(p, "overseer");
	return json_is_string(o) && json_string_length(o) > 0;
}

static int ctl_aiact_retention(const json_t *p)
{
	const json_t *r = json_object_get(p, "retention_days");
	return json_is_integer(r) && json_integer_value(r) >= CTL_AIACT_MIN_RETENTION_DAYS;
}

/* The preconditions of a high-risk purpose, each with its article. */
static const struct {
	const char *name, *article;
	int (*met)(const json_t *purpose);
} ctl_aiact_checks[] = {
	{"enabled", "Art. 26(1): high-risk mode switched on by the deployer", ctl_aiact_enabled},
	{"workers_informed", "Art. 26(7): date the workers were informed", ctl_aiact_informed},
	{"overseer", "Art. 14, 26(2): a named human overseer", ctl_aiact_overseer},
	{"retention_days", "Art. 19(1), 26(6): logs kept at least 180 days", ctl_aiact_retention},
};

#define CTL_AIACT_CHECKS (sizeof ctl_aiact_checks / sizeof ctl_aiact_checks[0])

/* Annex III point 4 uses are high-risk whatever "risk" says (Art. 6(2)). */
static int ctl_aiact_high_risk(const json_t *p)
{
	const char *risk = json_string_value(json_object_get(p, "risk"));
	const char *area = json_string_value(json_object_get(p, "area"));
	return (risk && strcmp(risk, "high") == 0) || (area && strcmp(area, "none") != 0);
}

static json_t *ctl_aiact_purpose(const char *id, const json_t *p, json_t *log)
{
	json_t *o = json_object(), *pre = json_object();
	const char *risk = json_string_value(json_object_get(p, "risk"));
	const char *area = json_string_value(json_object_get(p, "area"));
	int high = ctl_aiact_high_risk(p);
	json_object_set_new(o, "purpose", json_string(id));
	json_object_set_new(o, "in_config", json_boolean(p != NULL));
	json_object_set_new(o, "risk", json_string(risk ? risk : p ? "minimal" : "unknown"));
	json_object_set_new(o, "area", json_string(area ? area : "none"));
	json_object_set_new(o, "high_risk", json_boolean(high));
	json_object_set_new(pre, "required", json_boolean(high));
	if (high) {
		json_t *missing = json_array();
		for (size_t i = 0; i < CTL_AIACT_CHECKS; i++)
			if (!ctl_aiact_checks[i].met(p))
				json_array_append_new(missing, json_pack("{s:s, s:s}", "name", ctl_aiact_checks[i].name,
				    "article", ctl_aiact_checks[i].article));
		json_object_set_new(pre, "met", json_boolean(json_array_size(missing) == 0));
		json_object_set_new(pre, "missing", missing);
		json_t *hr = json_object_get(p, "high_risk");
		json_object_set_new(pre, "workers_informed", json_deep_copy(json_object_get(hr, "workers_informed")));
		json_object_set_new(pre, "overseer", json_deep_copy(json_object_get(hr, "overseer")));
		json_object_set_new(pre, "retention_days", json_deep_copy(json_object_get(p, "retention_days")));
	}
	json_object_set_new(o, "preconditions", pre);
	static const char *const counts[] = {"requests", "overrides"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(log, counts[i]);
		json_object_set_new(o, counts[i], json_integer(v ? json_integer_value(v) : 0));
	}
	json_t *a5 = json_object_get(log, "art5_blocks"), *a34 = json_object_get(log, "annex3_4");
	json_object_set_new(o, "art5_blocks", a5 ? json_deep_copy(a5) : json_object());
	json_object_set_new(o, "annex3_4", json_pack("{s:I, s:I}",
	    "flagged", (json_int_t)json_integer_value(json_object_get(a34, "flagged")),
	    "blocked", (json_int_t)json_integer_value(json_object_get(a34, "blocked"))));
	json_t *obr = json_object_get(log, "overrides_by_rule");
	json_object_set_new(o, "overrides_by_rule", obr ? json_deep_copy(obr) : json_object());
	return o;
}

static json_int_t ctl_aiact_sum(const json_t *obj)
{
	const char *k;
	json_t *v;
	json_int_t n = 0;
	json_object_foreach((json_t *)obj, k, v)
		n += json_integer_value(v);
	return n;
}

static void ctl_aiact_time(json_int_t us, char *out, size_t cap)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "%lld", (long long)us);
}

static void ctl_aiact_table(const json_t *r, FILE *f)
{
	size_t i;
	json_t *p, *e;
	const char *k;
	json_t *v;
	fprintf(f, "AI Act report (Regulation (EU) 2024/1689)\n\n");
	fprintf(f, "%-24s %-8s %-9s %-34s %9s %9s %11s %9s\n", "purpose", "risk", "high-risk",
	    "preconditions (Art. 14, 19, 26)", "requests", "art5", "annex3-4 f/b", "overrides");
	json_array_foreach(json_object_get(r, "purposes"), i, p) {
		const json_t *pre = json_object_get(p, "preconditions");
		char prec[64] = "not required";
		if (json_is_true(json_object_get(pre, "required"))) {
			if (json_is_true(json_object_get(pre, "met"))) {
				snprintf(prec, sizeof prec, "met");
			} else {
				size_t j, o = 0;
				json_t *m;
				o += (size_t)snprintf(prec, sizeof prec, "NOT MET:");
				json_array_foreach(json_object_get(pre, "missing"), j, m)
					if (o < sizeof prec)
						o += (size_t)snprintf(prec + o, sizeof prec - o, " %s",
						    json_string_value(json_object_get(m, "name")));
			}
		}
		char ab[32];
		snprintf(ab, sizeof ab, "%lld/%lld",
		    (long long)json_integer_value(json_object_get(json_object_get(p, "annex3_4"), "flagged")),
		    (long long)json_integer_value(json_object_get(json_object_get(p, "annex3_4"), "blocked")));
		fprintf(f, "%-24s %-8s %-9s %-34s %9lld %9lld %11s %9lld\n",
		    json_string_value(json_object_get(p, "purpose")), json_string_value(json_object_get(p, "risk")),
		    json_is_true(json_object_get(p, "high_risk")) ? "yes" : "no", prec,
		    (long long)json_integer_value(json_object_get(p, "requests")),
		    (long long)ctl_aiact_sum(json_object_get(p, "art5_blocks")), ab,
		    (long long)json_integer_value(json_object_get(p, "overrides")));
	}
	const json_t *t = json_object_get(r, "totals");
	fprintf(f, "\nArt. 5(1) blocks by letter:");
	static const char *const letters[] = {"a", "b", "c", "d", "e", "f", "g"};
	for (size_t l = 0; l < sizeof letters / sizeof letters[0]; l++)
		fprintf(f, " %s=%lld", letters[l],
		    (long long)json_integer_value(json_object_get(json_object_get(t, "art5_blocks"), letters[l])));
	fprintf(f, "\nAnnex III point 4: %lld flagged, %lld blocked\n",
	    (long long)json_integer_value(json_object_get(json_object_get(t, "annex3_4"), "flagged")),
	    (long long)json_integer_value(json_object_get(json_object_get(t, "annex3_4"), "blocked")));
	fprintf(f, "Overrides (an AI Act rule fired, the request went on): %lld\n",
	    (long long)json_integer_value(json_object_get(t, "overrides")));
	json_object_foreach(json_object_get(t, "overrides_by_rule"), k, v)
		fprintf(f, "  %-28s %lld\n", k, (long long)json_integer_value(v));
	fprintf(f, "Kill-switch events (Art. 14): %zu\n", json_array_size(json_object_get(r, "oversight_events")));
	json_array_foreach(json_object_get(r, "oversight_events"), i, e) {
		char when[40];
		ctl_aiact_time(json_integer_value(json_object_get(e, "time_us")), when, sizeof when);
		fprintf(f, "  %s  seq %lld  %s", when, (long long)json_integer_value(json_object_get(e, "seq")),
		    json_string_value(json_object_get(e, "action")));
		json_object_foreach(e, k, v)
			if (json_is_string(v) && strcmp(k, "action") != 0)
				fprintf(f, " %s=%s", k, json_string_value(v));
		fprintf(f, "\n");
	}
}

/* --audit-config FILE: a config whose "audit" section names the log, when
 * it is not the hafen.json given with --config. */
static int ctl_aiact_audit_config(struct ctl_audit_opts *o, const char *file)
{
	json_error_t je;
	char err[AUDIT_ERR_LEN];
	json_t *root = json_load_file(file, 0, &je);
	if (!root) {
		fprintf(stderr, "hafenctl: %s:%d: %s\n", file, je.line, je.text);
		return -1;
	}
	json_t *a = json_object_get(root, "audit");
	audit_config_clear(&o->cfg);
	audit_config_defaults(&o->cfg);
	int rc = a ? audit_config_parse(&o->cfg, a, file, err, sizeof err) : -1;
	if (rc < 0)
		fprintf(stderr, "hafenctl: %s\n", a ? err : "--audit-config: the file has no \"audit\" section");
	json_decref(root);
	return rc;
}

static int ctl_aiact_report(struct ctl_audit_opts *o, const char *audit_config)
{
	char err[AUDIT_ERR_LEN];
	uint64_t from = 0, to = UINT64_MAX;
	int table = o->format && strcmp(o->format, "table") == 0;
	if ((o->from && ctl_audit_time(o->from, &from) < 0) || (o->to && ctl_audit_time(o->to, &to) < 0) ||
	    (o->format && !table && strcmp(o->format, "json") != 0)) {
		fprintf(stderr, "usage: hafenctl report aiact [--audit-config FILE | --db FILE] [--config hafen.json]"
		    " [--from T] [--to T] [--format json|table]\n");
		return CTL_EXIT_USAGE;
	}
	if (audit_config && ctl_aiact_audit_config(o, audit_config) < 0)
		return CTL_EXIT_FAIL;
	json_t *root = NULL, *purposes = NULL;
	if (o->config) {
		json_error_t je;
		if (!(root = json_load_file(o->config, 0, &je))) {
			fprintf(stderr, "hafenctl: %s:%d: %s\n", o->config, je.line, je.text);
			return CTL_EXIT_FAIL;
		}
		purposes = json_object_get(root, "purposes");
		if (purposes && !json_is_object(purposes)) {
			fprintf(stderr, "hafenctl: %s: purposes: expected an object of purposes\n", o->config);
			json_decref(root);
			return CTL_EXIT_FAIL;
		}
	}
	const char *dbp = ctl_audit_path(o, "db");
	sqlite3 *db = dbp ? audit_db_open(dbp, 1, err, sizeof err) : NULL;
	json_t *log = db ? audit_report_aiact(db, from, to, err, sizeof err) : NULL;
	sqlite3_close(db);
	if (!log) {
		fprintf(stderr, "hafenctl: %s\n", dbp ? err : "report aiact: no audit database (--db, --audit-config or "
		    "an \"audit\" section in --config)");
		json_decref(root);
		return CTL_EXIT_FAIL;
	}
	json_t *out = json_object(), *list = json_array();
	json_t *lp = json_object_get(log, "purposes");
	const char *id;
	json_t *v;
	json_object_set_new(out, "from_us", json_incref(json_object_get(log, "from_us")));
	json_object_set_new(out, "to_us", json_incref(json_object_get(log, "to_us")));
	json_object_set_new(out, "purposes", list);
	json_object_foreach(purposes, id, v)
		json_array_append_new(list, ctl_aiact_purpose(id, v, json_object_get(lp, id)));
	/* Purposes in the log that the config no longer has: counted too. */
	json_object_foreach(lp, id, v)
		if (!json_object_get(purposes, id))
			json_array_append_new(list, ctl_aiact_purpose(id, NULL, v));
	json_object_set_new(out, "totals", json_incref(json_object_get(log, "totals")));
	json_object_set_new(out, "oversight_events", json_incref(json_object_get(log, "oversight_events")));
	if (table) {
		ctl_aiact_table(out, stdout);
	} else {
		json_dumpf(out, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(out);
	json_decref(log);
	json_decref(root);
	return CTL_EXIT_OK;
}

int ctl_aiact_run(int argc, char **argv)
{
	struct ctl_audit_opts o;
	const char *audit_config = NULL;
	char **av = calloc((size_t)argc + 1, sizeof *av);
	int ac = 0, rc;
	if (!av)
		return CTL_EXIT_FAIL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--audit-config") == 0 && i + 1 < argc)
			audit_config = argv[++i];
		else
			av[ac++] = argv[i];
	}
	if (ctl_audit_parse_opts(ac, av, &o) < 0)
		rc = CTL_EXIT_USAGE;
	else
		rc = ctl_aiact_report(&o, audit_config);
	ctl_audit_opts_clear(&o);
	free(av);
	return rc;
}
