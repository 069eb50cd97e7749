/* hafenctl report processing: the record of processing activities (GDPR
 * Art. 30(1)) per purpose, from the "purposes" section of hafen.json (read
 * as written there; the routing code owns its validation) plus live
 * statistics from the audit log: requests, data classes, upstream
 * locations, first and last use. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "gateway/audit.h"
#include "gateway/ctl.h"
#include "gateway/ctl_audit.h"

/* Art. 30(1) points and the purpose keys that answer them. */
static const struct {
	const char *point, *heading, *key;
} ctl_report_fields[] = {
	{ "30(1)(b)", "purpose of the processing", "description" },
	{ "30(1)(b)", "lawful basis (Art. 6)", "lawful_basis" },
	{ "30(1)(c)", "categories of data", "data_classes" },
	{ "30(1)(d)", "recipients (upstreams)", "upstreams" },
	{ "30(1)(e)", "transfers to third countries", "transfer_basis" },
	{ "30(1)(f)", "time limits for erasure (days)", "retention_days" },
	{ "30(1)(g)", "security measures", "security" },
};

static json_t *ctl_report_stats(sqlite3 *db, const char *purpose)
{
	sqlite3_stmt *st = NULL;
	json_t *o = json_object();
	if (sqlite3_prepare_v2(db, "SELECT count(*), min(t_start), max(t_start) FROM audit_records"
	        " WHERE kind = 1 AND purpose = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_object_set_new(o, "requests", json_integer(sqlite3_column_int64(st, 0)));
			json_object_set_new(o, "first_us", json_integer(sqlite3_column_int64(st, 1)));
			json_object_set_new(o, "last_us", json_integer(sqlite3_column_int64(st, 2)));
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	json_t *dc = json_object();
	if (sqlite3_prepare_v2(db, "SELECT data_class, count(*) FROM audit_records WHERE kind = 1 AND purpose = ?"
	        " GROUP BY data_class", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(st, 0);
			json_object_set_new(dc, k ? k : "", json_integer(sqlite3_column_int64(st, 1)));
		}
	}
	sqlite3_finalize(st);
	json_object_set_new(o, "data_classes", dc);
	return o;
}

static int ctl_report_processing(struct ctl_audit_opts *o)
{
	json_error_t je;
	char err[AUDIT_ERR_LEN];
	const char *key;
	json_t *v;
	if (!o->config) {
		fprintf(stderr, "hafenctl report processing: -c hafen.json required\n");
		return CTL_EXIT_USAGE;
	}
	json_t *root = json_load_file(o->config, 0, &je);
	if (!root) {
		fprintf(stderr, "hafenctl: %s:%d: %s\n", o->config, je.line, je.text);
		return CTL_EXIT_FAIL;
	}
	json_t *purposes = json_object_get(root, "purposes");
	if (!json_is_object(purposes)) {
		fprintf(stderr, "hafenctl: %s: purposes: expected an object of purposes\n", o->config);
		json_decref(root);
		return CTL_EXIT_FAIL;
	}
	const char *dbp = ctl_audit_path(o, "db");
	sqlite3 *db = dbp ? audit_db_open(dbp, 1, err, sizeof err) : NULL;
	if (!db)
		fprintf(stderr, "hafenctl: %s: live statistics left out\n", dbp ? err : "no audit database");
	json_t *out = json_object(), *list = json_array();
	json_object_set_new(out, "controller", json_deep_copy(json_object_get(root, "controller")));
	json_object_set_new(out, "purposes", list);
	json_object_foreach(purposes, key, v) {
		json_t *p = json_object();
		json_object_set_new(p, "purpose", json_string(key));
		for (size_t i = 0; i < sizeof ctl_report_fields / sizeof ctl_report_fields[0]; i++) {
			json_t *f = json_object();
			json_t *val = json_object_get(v, ctl_report_fields[i].key);
			json_object_set_new(f, "article", json_string(ctl_report_fields[i].point));
			json_object_set_new(f, "heading", json_string(ctl_report_fields[i].heading));
			json_object_set_new(f, "value", val ? json_deep_copy(val) : json_string("(not declared)"));
			json_object_set_new(p, ctl_report_fields[i].key, f);
		}
		if (db)
			json_object_set_new(p, "statistics", ctl_report_stats(db, key));
		json_array_append_new(list, p);
	}
	json_dumpf(out, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(out);
	json_decref(root);
	sqlite3_close(db);
	return CTL_EXIT_OK;
}

int ctl_report_run(int argc, char **argv)
{
	struct ctl_audit_opts o;
	int rc = CTL_EXIT_USAGE;
	if (argc > 1 && strcmp(argv[1], "aiact") == 0)
		return ctl_aiact_run(argc, argv); /* ctl_aiact.c */
	if (ctl_audit_parse_opts(argc, argv, &o) == 0 && o.action && strcmp(o.action, "processing") == 0)
		rc = ctl_report_processing(&o);
	else
		fprintf(stderr, "usage: hafenctl report processing -c hafen.json [--db F]\n"
		    "       hafenctl report aiact [--audit-config F | --db F] [--config hafen.json] [--from T] [--to T]"
		    " [--format json|table]\n");
	ctl_audit_opts_clear(&o);
	return rc;
}
