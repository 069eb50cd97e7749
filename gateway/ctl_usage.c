/* hafenctl usage: requests and tokens per key, tenant, purpose, model or
 * upstream over a time range, from the usage table the gateway's writer
 * thread fills (gateway/usage.c). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "gateway/ctl.h"
#include "gateway/gwconfig.h"
#include "gateway/usage.h"

/* The groupings: one row each; the column names are fixed SQL, never
 * built from the command line. */
static const char *const ctl_usage_by[] = {"key", "tenant", "purpose", "model", "upstream", NULL};
static const char *const ctl_usage_formats[] = {"table", "json", "csv", NULL};

static int ctl_usage_pick(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC) to Unix seconds. */
static int ctl_usage_time(const char *s, long long *out)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	}
	if (!end || *end) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

static void ctl_usage_help(void)
{
	fprintf(stderr, "usage: hafenctl usage [--config hafen.json | --store FILE] [--from T] [--to T]\n"
	    "                      [--by key|tenant|purpose|model|upstream] [--format table|json|csv]\n"
	    "T: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], UTC; --from inclusive, --to exclusive\n"
	    "(default: everything). The store defaults to the config's usage_store, else its key_store.\n");
}

static void ctl_usage_csv_field(const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	if (!quote) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

int ctl_usage_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"by", required_argument, NULL, 'b'}, {"format", required_argument, NULL, 'F'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL, *config = NULL;
	long long from = 0, to = 0;
	int by = 0, format = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': config = optarg; break;
		case 'f':
		case 't':
			if (ctl_usage_time(optarg, c == 'f' ? &from : &to) < 0) {
				fprintf(stderr, "hafenctl usage: --%s: expected YYYY-MM-DD[THH:MM[:SS]]\n", c == 'f' ? "from" : "to");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'b':
		case 'F': {
			int v = ctl_usage_pick(c == 'b' ? ctl_usage_by : ctl_usage_formats, optarg);
			if (v < 0) {
				ctl_usage_help();
				return CTL_EXIT_USAGE;
			}
			*(c == 'b' ? &by : &format) = v;
			break;
		}
		default:
			ctl_usage_help();
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ctl_usage_help();
		return CTL_EXIT_USAGE;
	}
	struct config *cfg = NULL;
	char err[1024];
	if (config) {
		if (!(cfg = config_load_file(config, err, sizeof err))) {
			fprintf(stderr, "hafenctl usage: %s\n", err);
			return CTL_EXIT_FAIL;
		}
		if (!store)
			store = cfg->usage_store ? cfg->usage_store : cfg->key_store;
	}
	if (!store) {
		fprintf(stderr, "hafenctl usage: --store FILE, or --config with a key_store or usage_store, is required\n");
		config_unref(cfg);
		return CTL_EXIT_USAGE;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "hafenctl usage: %s: %s\n", store, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		config_unref(cfg);
		return CTL_EXIT_FAIL;
	}
	config_unref(cfg);
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT %s, sum(requests), sum(errors), sum(prompt_tokens), sum(completion_tokens),"
	    " sum(estimated), min(minute), max(minute) FROM usage WHERE minute >= ?1 AND (?2 = 0 OR minute < ?2)"
	    " GROUP BY 1 ORDER BY 1", ctl_usage_by[by]);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "hafenctl usage: %s: %s\n", store, sqlite3_errmsg(db));
		sqlite3_close(db);
		return CTL_EXIT_FAIL;
	}
	sqlite3_bind_int64(st, 1, from / 60);
	sqlite3_bind_int64(st, 2, to ? (to + 59) / 60 : 0);
	json_t *arr = format == 1 ? json_array() : NULL;
	static const char *const cols[] = {"requests", "errors", "prompt_tokens", "completion_tokens", "estimated"};
	if (format == 0)
		printf("%-24s %10s %8s %14s %17s %10s\n", ctl_usage_by[by], "requests", "errors", "prompt_tokens",
		    "completion_tokens", "estimated");
	else if (format == 2)
		printf("%s,requests,errors,prompt_tokens,completion_tokens,estimated,first_minute,last_minute\n",
		    ctl_usage_by[by]);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		long long v[7];
		for (int i = 0; i < 7; i++)
			v[i] = sqlite3_column_int64(st, 1 + i);
		if (format == 0) {
			printf("%-24s %10lld %8lld %14lld %17lld %10lld\n", name ? name : "", v[0], v[1], v[2], v[3], v[4]);
		} else if (format == 2) {
			ctl_usage_csv_field(name ? name : "");
			printf(",%lld,%lld,%lld,%lld,%lld,%lld,%lld\n", v[0], v[1], v[2], v[3], v[4], v[5] * 60, v[6] * 60);
		} else {
			json_t *o = json_object();
			json_object_set_new(o, ctl_usage_by[by], json_string(name ? name : ""));
			for (int i = 0; i < 5; i++)
				json_object_set_new(o, cols[i], json_integer(v[i]));
			json_object_set_new(o, "first", json_integer(v[5] * 60));
			json_object_set_new(o, "last", json_integer(v[6] * 60));
			json_array_append_new(arr, o);
		}
	}
	if (arr) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(arr);
	}
	int ok = rc == SQLITE_DONE;
	if (!ok)
		fprintf(stderr, "hafenctl usage: %s: %s\n", store, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
