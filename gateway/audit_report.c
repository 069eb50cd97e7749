/* Reports over the audit log: the per purpose and tenant summary auditors
 * ask for (requests, data classes, findings by type, blocks by rule,
 * requests by upstream location, and the count of restricted requests
 * served outside the premises, which should be zero), and a plain export
 * as JSON lines or CSV. Only metadata is read: never content. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "gateway/audit.h"

static void audit_report_add(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);
	if (v)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(obj, key, json_integer(n));
}

static json_t *audit_report_child(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

/* Rows of the time window, optionally of one purpose, in log order. */
static sqlite3_stmt *audit_report_query(sqlite3 *db, uint64_t from, uint64_t to,
    const char *purpose, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
	        "SELECT seq, body FROM audit_records WHERE body IS NOT NULL AND t_start >= ?1 AND t_start < ?2"
	        " AND (?3 IS NULL OR purpose = ?3) ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(from > INT64_MAX ? INT64_MAX : from));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(to > INT64_MAX ? INT64_MAX : to));
	if (purpose)
		sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	return st;
}

static int audit_report_decode_row(sqlite3_stmt *st, struct audit_record *rec,
    char *err, size_t errlen)
{
	char why[AUDIT_ERR_LEN];
	if (audit_record_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), rec,
	        why, sizeof why) < 0) {
		snprintf(err, errlen, "record %lld: %s (run `hafenctl audit verify`)",
		    (long long)sqlite3_column_int64(st, 0), why);
		return -1;
	}
	return 0;
}

static int audit_report_served(const struct audit_record *rec)
{
	return rec->status > 0 && rec->status < 400 &&
	    !(rec->decision && strcmp(rec->decision, "block") == 0);
}

json_t *audit_report_build(sqlite3 *db, uint64_t from, uint64_t to,
    const char *purpose, char *err, size_t errlen)
{
	sqlite3_stmt *st = audit_report_query(db, from, to, purpose, err, errlen);
	json_t *out, *purposes, *events;
	json_int_t outside = 0;
	int s;
	if (!st)
		return NULL;
	out = json_object();
	purposes = json_object();
	events = json_object();
	json_object_set_new(out, "from_us", json_integer((json_int_t)(from > INT64_MAX ? INT64_MAX : from)));
	json_object_set_new(out, "to_us", json_integer((json_int_t)(to > INT64_MAX ? INT64_MAX : to)));
	json_object_set_new(out, "purposes", purposes);
	json_object_set_new(out, "events", events);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_record rec;
		if (audit_report_decode_row(st, &rec, err, errlen) < 0) {
			sqlite3_finalize(st);
			json_decref(out);
			return NULL;
		}
		if (rec.kind != AUDIT_KIND_REQUEST) {
			audit_report_add(events, audit_record_kind_name(rec.kind), 1);
			audit_record_clear(&rec);
			continue;
		}
		json_t *p = audit_report_child(audit_report_child(purposes, rec.purpose), "tenants");
		json_t *t = audit_report_child(p, rec.tenant);
		int served = audit_report_served(&rec);
		audit_report_add(t, "requests", 1);
		audit_report_add(t, served ? "served" : "refused", 1);
		audit_report_add(audit_report_child(t, "data_classes"), rec.data_class, 1);
		for (size_t k = 0; k < rec.n_findings; k++)
			audit_report_add(audit_report_child(t, "findings"), rec.findings[k].type, rec.findings[k].count);
		if (!served)
			for (size_t k = 0; k < rec.n_rule_ids; k++)
				audit_report_add(audit_report_child(t, "blocks_by_rule"), rec.rule_ids[k], 1);
		if (served)
			audit_report_add(audit_report_child(t, "upstream_locations"),
			    *rec.upstream_location ? rec.upstream_location : "none", 1);
		/* the evidence that restricted data stayed on the premises */
		if (served && strcmp(rec.data_class, "restricted") == 0 &&
		    strcmp(rec.upstream_location, "on_prem") != 0)
			outside++;
		audit_record_clear(&rec);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "restricted_served_off_premises", json_integer(outside));
	return out;
}

/* RFC 4180: quote every field, double inner quotes. */
static void audit_report_csv_field(FILE *f, const char *s, int last)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

void audit_report_write_csv(const json_t *report, FILE *f)
{
	const char *pk, *tk, *mk, *kk;
	json_t *pv, *tv, *mv, *kv;
	char num[32];
	audit_report_csv_field(f, "purpose", 0);
	audit_report_csv_field(f, "tenant", 0);
	audit_report_csv_field(f, "metric", 0);
	audit_report_csv_field(f, "key", 0);
	audit_report_csv_field(f, "value", 1);
	json_object_foreach(json_object_get(report, "purposes"), pk, pv) {
		json_object_foreach(json_object_get(pv, "tenants"), tk, tv) {
			json_object_foreach(tv, mk, mv) {
				if (json_is_integer(mv)) {
					snprintf(num, sizeof num, "%lld", (long long)json_integer_value(mv));
					audit_report_csv_field(f, pk, 0);
					audit_report_csv_field(f, tk, 0);
					audit_report_csv_field(f, mk, 0);
					audit_report_csv_field(f, "", 0);
					audit_report_csv_field(f, num, 1);
					continue;
				}
				json_object_foreach(mv, kk, kv) {
					snprintf(num, sizeof num, "%lld", (long long)json_integer_value(kv));
					audit_report_csv_field(f, pk, 0);
					audit_report_csv_field(f, tk, 0);
					audit_report_csv_field(f, mk, 0);
					audit_report_csv_field(f, kk, 0);
					audit_report_csv_field(f, num, 1);
				}
			}
		}
	}
	snprintf(num, sizeof num, "%lld",
	    (long long)json_integer_value(json_object_get(report, "restricted_served_off_premises")));
	audit_report_csv_field(f, "*", 0);
	audit_report_csv_field(f, "*", 0);
	audit_report_csv_field(f, "restricted_served_off_premises", 0);
	audit_report_csv_field(f, "", 0);
	audit_report_csv_field(f, num, 1);
}

int audit_report_export(sqlite3 *db, uint64_t from, uint64_t to, int csv,
    FILE *f, char *err, size_t errlen)
{
	sqlite3_stmt *st = audit_report_query(db, from, to, NULL, err, errlen);
	int s, header = 0;
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_record rec;
		const char *k;
		json_t *v;
		if (audit_report_decode_row(st, &rec, err, errlen) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		json_t *j = audit_record_to_json(&rec);
		audit_record_clear(&rec);
		if (!csv) {
			json_dumpf(j, f, JSON_COMPACT);
			fputc('\n', f);
			json_decref(j);
			continue;
		}
		if (!header++) {
			size_t n = json_object_size(j), i = 0;
			json_object_foreach(j, k, v)
				audit_report_csv_field(f, k, ++i == n);
		}
		size_t n = json_object_size(j), i = 0;
		json_object_foreach(j, k, v) {
			char *txt = json_is_string(v) ? strdup(json_string_value(v)) :
			    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			audit_report_csv_field(f, txt ? txt : "", ++i == n);
			free(txt);
		}
		json_decref(j);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ---- AI Act (hafenctl report aiact) ---- */

/* Policy rule ids of the AI Act pack (policies/packs/ai-act.json):
 * aiact-5-1-<letter> for Art. 5(1) prohibited practices, aiact-annex3-4
 * for an Annex III point 4 (employment) decision under another purpose. */
#define AUDIT_REPORT_AIACT "aiact-"
#define AUDIT_REPORT_ART5 "aiact-5-1-"
#define AUDIT_REPORT_ANNEX3_4 "aiact-annex3-4"

static int audit_report_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An oversight note ("kill upstream=NAME by=OPERATOR", "release
 * model=ALIAS by=OPERATOR"): the first word is the action, then key=value
 * words; unknown keys are kept. */
static json_t *audit_report_oversight_event(const struct audit_record *rec)
{
	json_t *e = json_object();
	const char *s = rec->note ? rec->note : "";
	json_object_set_new(e, "seq", json_integer((json_int_t)rec->seq));
	json_object_set_new(e, "time_us", json_integer((json_int_t)(rec->t_start > INT64_MAX ? INT64_MAX : rec->t_start)));
	int first = 1;
	while (*s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (!n)
			break;
		const char *eq = memchr(s, '=', n);
		if (first && !eq)
			json_object_set_new(e, "action", json_stringn(s, n));
		else if (eq && eq > s) {
			char key[32];
			size_t kl = (size_t)(eq - s) < sizeof key - 1 ? (size_t)(eq - s) : sizeof key - 1;
			memcpy(key, s, kl);
			key[kl] = 0;
			json_object_set_new(e, key, json_stringn(eq + 1, n - (size_t)(eq - s) - 1));
		}
		first = 0;
		s += n;
	}
	if (!json_object_get(e, "action"))
		json_object_set_new(e, "action", json_string("unknown"));
	return e;
}

/* Adds one request record's AI Act facts to p (per purpose) and tot. */
static void audit_report_aiact_request(json_t *p, json_t *tot, const struct audit_record *rec)
{
	int blocked = rec->decision && strcmp(rec->decision, "block") == 0;
	int aiact = 0;
	audit_report_add(p, "requests", 1);
	for (size_t k = 0; k < rec->n_rule_ids; k++) {
		const char *r = rec->rule_ids[k];
		if (!r || !audit_report_prefix(r, AUDIT_REPORT_AIACT))
			continue;
		aiact = 1;
		if (audit_report_prefix(r, AUDIT_REPORT_ART5) && blocked) {
			const char *letter = r + strlen(AUDIT_REPORT_ART5);
			audit_report_add(audit_report_child(p, "art5_blocks"), letter, 1);
			audit_report_add(audit_report_child(tot, "art5_blocks"), letter, 1);
		}
		if (strcmp(r, AUDIT_REPORT_ANNEX3_4) == 0) {
			audit_report_add(audit_report_child(p, "annex3_4"), blocked ? "blocked" : "flagged", 1);
			audit_report_add(audit_report_child(tot, "annex3_4"), blocked ? "blocked" : "flagged", 1);
		}
		if (!blocked) {
			audit_report_add(audit_report_child(p, "overrides_by_rule"), r, 1);
			audit_report_add(audit_report_child(tot, "overrides_by_rule"), r, 1);
		}
	}
	/* An override: an AI Act rule fired and the request still went on
	 * (a rule lowered to flag, an enabled high-risk purpose). */
	if (aiact && !blocked) {
		audit_report_add(p, "overrides", 1);
		audit_report_add(tot, "overrides", 1);
	}
}

json_t *audit_report_aiact(sqlite3 *db, uint64_t from, uint64_t to, char *err, size_t errlen)
{
	sqlite3_stmt *st = audit_report_query(db, from, to, NULL, err, errlen);
	int s;
	if (!st)
		return NULL;
	json_t *out = json_object(), *purposes = json_object(), *tot = json_object();
	json_t *events = json_array();
	json_object_set_new(out, "from_us", json_integer((json_int_t)(from > INT64_MAX ? INT64_MAX : from)));
	json_object_set_new(out, "to_us", json_integer((json_int_t)(to > INT64_MAX ? INT64_MAX : to)));
	json_object_set_new(out, "purposes", purposes);
	json_object_set_new(out, "totals", tot);
	json_object_set_new(tot, "art5_blocks", json_object());
	json_object_set_new(tot, "annex3_4", json_pack("{s:i, s:i}", "flagged", 0, "blocked", 0));
	json_object_set_new(tot, "overrides", json_integer(0));
	json_object_set_new(tot, "overrides_by_rule", json_object());
	json_object_set_new(out, "oversight_events", events);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_record rec;
		if (audit_report_decode_row(st, &rec, err, errlen) < 0) {
			sqlite3_finalize(st);
			json_decref(out);
			return NULL;
		}
		if (rec.kind == AUDIT_KIND_OVERSIGHT) {
			json_t *e = audit_report_oversight_event(&rec);
			audit_report_add(audit_report_child(tot, "oversight"),
			    json_string_value(json_object_get(e, "action")), 1);
			json_array_append_new(events, e);
		} else if (rec.kind == AUDIT_KIND_REQUEST) {
			audit_report_aiact_request(audit_report_child(purposes, rec.purpose ? rec.purpose : ""),
			    tot, &rec);
		}
		audit_record_clear(&rec);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		json_decref(out);
		return NULL;
	}
	return out;
}
