/* hafenctl key: create, list, revoke, rotate API keys in the key store
 * (gateway/keystore.c). A key is bound to a purpose registered in
 * hafen.json (GDPR Art. 5(1)(b)); its secret is printed once, on stdout,
 * and never stored. The running gateway picks changes up within seconds. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "gateway/ctl.h"
#include "gateway/gwconfig.h"
#include "gateway/keystore.h"
#include "policies/policy.h"
#include "gateway/purpose.h"

struct ctl_key_opts {
	const char *store, *config, *name, *tenant, *purpose, *format;
	int class_floor, max_class;
	long long rpm, tpm, concurrency, expires, grace;
	struct config *cfg;
};

static void ctl_key_usage(void)
{
	fprintf(stderr,
	    "usage: hafenctl key create --config hafen.json [--store keys.db] --name N --tenant T --purpose P\n"
	    "                           [--max-class C] [--class-floor C] [--rpm N] [--tpm N]\n"
	    "                           [--concurrency N] [--expires YYYY-MM-DD[THH:MM:SSZ]]\n"
	    "       hafenctl key list   [--config hafen.json | --store keys.db] [--format table|json]\n"
	    "       hafenctl key revoke [--config hafen.json | --store keys.db] NAME\n"
	    "       hafenctl key rotate [--config hafen.json | --store keys.db] [--grace SECONDS] NAME\n"
	    "The store defaults to the config's key_store. A rotated key's old secret\n"
	    "stays valid for --grace seconds (default 0: revoked at once).\n");
}

static int ctl_key_number(const char *s, long long max, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* YYYY-MM-DD: the end of that day, UTC (a key "expires 2026-12-31" works
 * all that day); YYYY-MM-DDTHH:MM:SSZ: that second. */
static int ctl_key_date(const char *s, long long *out)
{
	struct tm tm = {0};
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end && !*end) {
		*out = (long long)timegm(&tm);
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end || strlen(s) != 10)
		return -1;
	*out = (long long)timegm(&tm) + 86400;
	return 0;
}

static int ctl_key_parse(int argc, char **argv, struct ctl_key_opts *o)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
		{"name", required_argument, NULL, 'n'}, {"tenant", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'}, {"max-class", required_argument, NULL, 'M'},
		{"class-floor", required_argument, NULL, 'F'}, {"rpm", required_argument, NULL, 'r'},
		{"tpm", required_argument, NULL, 'T'}, {"concurrency", required_argument, NULL, 'C'},
		{"expires", required_argument, NULL, 'e'}, {"grace", required_argument, NULL, 'g'},
		{"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
	};
	int c;
	o->max_class = 3;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->store = optarg; break;
		case 'c': o->config = optarg; break;
		case 'n': o->name = optarg; break;
		case 't': o->tenant = optarg; break;
		case 'p': o->purpose = optarg; break;
		case 'f': o->format = optarg; break;
		case 'M':
		case 'F': {
			int cls = purpose_class_parse(optarg);
			if (cls < 0) {
				fprintf(stderr, "hafenctl key: --%s: expected public, internal, confidential or restricted\n",
				    c == 'M' ? "max-class" : "class-floor");
				return -1;
			}
			*(c == 'M' ? &o->max_class : &o->class_floor) = cls;
			break;
		}
		case 'r':
		case 'T':
		case 'C':
		case 'g': {
			long long *dst = c == 'r' ? &o->rpm : c == 'T' ? &o->tpm : c == 'C' ? &o->concurrency : &o->grace;
			if (ctl_key_number(optarg, 1000000000000LL, dst) < 0) {
				fprintf(stderr, "hafenctl key: %s: expected a non-negative integer\n", optarg);
				return -1;
			}
			break;
		}
		case 'e':
			if (ctl_key_date(optarg, &o->expires) < 0) {
				fprintf(stderr, "hafenctl key: --expires: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n");
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (o->config) {
		char err[1024];
		o->cfg = config_load_file(o->config, err, sizeof err);
		if (!o->cfg) {
			fprintf(stderr, "hafenctl key: %s\n", err);
			return -1;
		}
		if (!o->store)
			o->store = o->cfg->key_store;
	}
	if (!o->store) {
		fprintf(stderr, "hafenctl key: --store FILE, or --config with a key_store, is required\n");
		return -1;
	}
	return 0;
}

static int ctl_key_create(struct ctl_key_opts *o)
{
	if (!o->name || !o->tenant || !o->purpose || !o->config) {
		fprintf(stderr, "hafenctl key create: --config, --name, --tenant and --purpose are required\n");
		return CTL_EXIT_USAGE;
	}
	/* No registered purpose, no key (GDPR Art. 5(1)(b)). */
	const struct purpose *p = purpose_registry_find(o->cfg->purposes, o->purpose);
	if (!p) {
		fprintf(stderr, "hafenctl key create: %s: purposes.%s: not registered; a key needs a registered "
		    "purpose (GDPR Art. 5(1)(b))\n", o->config, o->purpose);
		return CTL_EXIT_FAIL;
	}
	if (o->class_floor > o->max_class) {
		fprintf(stderr, "hafenctl key create: --class-floor is above --max-class\n");
		return CTL_EXIT_USAGE;
	}
	/* A floor the purpose does not allow would refuse every request. */
	int floor = o->class_floor > p->class_floor ? o->class_floor : p->class_floor;
	if (!(p->classes & (1u << floor))) {
		fprintf(stderr, "hafenctl key create: --class-floor %s: purposes.%s does not allow that class "
		    "(data_classes); every request of this key would be refused\n", policy_data_class_name((enum data_class)floor), o->purpose);
		return CTL_EXIT_USAGE;
	}
	long long now = (long long)time(NULL);
	if (o->expires && o->expires <= now) {
		fprintf(stderr, "hafenctl key create: --expires: the date has passed\n");
		return CTL_EXIT_USAGE;
	}
	char err[KEYSTORE_ERR_LEN], secret[KEYSTORE_SECRET_LEN + 1];
	struct keystore *ks = keystore_open(o->store, 1, err, sizeof err);
	if (!ks) {
		fprintf(stderr, "hafenctl key: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	struct keystore_key k = {
		.name = o->name, .tenant = o->tenant, .purpose = o->purpose, .class_floor = o->class_floor,
		.max_class = o->max_class, .rpm = o->rpm, .tpm = o->tpm, .concurrency = o->concurrency,
		.created = now, .expires = o->expires,
	};
	int rc = keystore_create(ks, &k, secret, err, sizeof err);
	keystore_close(ks);
	if (rc < 0) {
		fprintf(stderr, "hafenctl key create: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	printf("%s\n", secret);
	fflush(stdout);
	OPENSSL_cleanse(secret, sizeof secret);
	fprintf(stderr, "key %s created for tenant %s, purpose %s; the secret above is shown only now\n",
	    o->name, o->tenant, o->purpose);
	return CTL_EXIT_OK;
}


struct ctl_key_list {
	json_t *arr;
	long long now;
};

static const char *ctl_key_state(const struct keystore_key *k, long long now)
{
	if (k->revoked)
		return "revoked";
	if (k->expires && k->expires <= now)
		return "expired";
	return "active";
}

static void ctl_key_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t || !gmtime_r(&tt, &tm))
		snprintf(out, n, "-");
	else
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int ctl_key_list_row(const struct keystore_key *k, void *arg)
{
	struct ctl_key_list *l = arg;
	char created[32], expires[32], revoked[32];
	ctl_key_time(k->created, created, sizeof created);
	ctl_key_time(k->expires, expires, sizeof expires);
	ctl_key_time(k->revoked, revoked, sizeof revoked);
	if (l->arr) {
		json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s}",
		    "id", (json_int_t)k->id, "name", k->name, "tenant", k->tenant, "purpose", k->purpose,
		    "state", ctl_key_state(k, l->now), "class_floor", policy_data_class_name((enum data_class)k->class_floor),
		    "max_class", policy_data_class_name((enum data_class)k->max_class), "rpm", (json_int_t)k->rpm, "tpm", (json_int_t)k->tpm,
		    "concurrency", (json_int_t)k->concurrency, "created", created, "expires", expires,
		    "revoked", revoked));
		return 0;
	}
	printf("%-6lld %-20s %-12s %-16s %-8s %-12s %6lld %8lld %4lld  %-20s %s\n", (long long)k->id, k->name,
	    k->tenant, k->purpose, ctl_key_state(k, l->now), policy_data_class_name((enum data_class)k->max_class), (long long)k->rpm,
	    (long long)k->tpm, (long long)k->concurrency, created, expires);
	return 0;
}

static int ctl_key_list(struct ctl_key_opts *o)
{
	char err[KEYSTORE_ERR_LEN];
	int json = o->format && strcmp(o->format, "json") == 0;
	if (o->format && !json && strcmp(o->format, "table") != 0) {
		fprintf(stderr, "hafenctl key list: --format: expected table or json\n");
		return CTL_EXIT_USAGE;
	}
	struct keystore *ks = keystore_open(o->store, 0, err, sizeof err);
	if (!ks) {
		fprintf(stderr, "hafenctl key: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	struct ctl_key_list l = {json ? json_array() : NULL, (long long)time(NULL)};
	if (!json)
		printf("%-6s %-20s %-12s %-16s %-8s %-12s %6s %8s %4s  %-20s %s\n", "id", "name", "tenant", "purpose",
		    "state", "max_class", "rpm", "tpm", "conc", "created", "expires");
	int rc = keystore_each(ks, 0, l.now, ctl_key_list_row, &l, err, sizeof err);
	keystore_close(ks);
	if (json) {
		json_dumpf(l.arr, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(l.arr);
	}
	if (rc < 0) {
		fprintf(stderr, "hafenctl key list: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int ctl_key_change(struct ctl_key_opts *o, const char *action, const char *name)
{
	char err[KEYSTORE_ERR_LEN], secret[KEYSTORE_SECRET_LEN + 1];
	struct keystore *ks = keystore_open(o->store, 0, err, sizeof err);
	if (!ks) {
		fprintf(stderr, "hafenctl key: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	long long now = (long long)time(NULL);
	int rotate = strcmp(action, "rotate") == 0;
	int rc = rotate ? keystore_rotate(ks, name, o->grace, now, secret, err, sizeof err) :
	    keystore_revoke(ks, name, now, err, sizeof err);
	keystore_close(ks);
	if (rc < 0) {
		fprintf(stderr, "hafenctl key %s: %s\n", action, err);
		return CTL_EXIT_FAIL;
	}
	if (rotate) {
		printf("%s\n", secret);
		fflush(stdout);
		OPENSSL_cleanse(secret, sizeof secret);
		if (o->grace)
			fprintf(stderr, "key %s rotated; the old secret stays valid for %lld s\n", name, o->grace);
		else
			fprintf(stderr, "key %s rotated; the old secret is revoked\n", name);
	} else {
		fprintf(stderr, "key %s revoked\n", name);
	}
	return CTL_EXIT_OK;
}

int ctl_key_run(int argc, char **argv)
{
	if (argc < 2) {
		ctl_key_usage();
		return CTL_EXIT_USAGE;
	}
	const char *action = argv[1];
	struct ctl_key_opts o = {0};
	int rc = CTL_EXIT_USAGE;
	if (ctl_key_parse(argc - 1, argv + 1, &o) < 0) {
		ctl_key_usage();
		config_unref(o.cfg);
		return CTL_EXIT_USAGE;
	}
	int rest = argc - 1 - optind;
	if (strcmp(action, "create") == 0 && rest == 0)
		rc = ctl_key_create(&o);
	else if (strcmp(action, "list") == 0 && rest == 0)
		rc = ctl_key_list(&o);
	else if ((strcmp(action, "revoke") == 0 || strcmp(action, "rotate") == 0) && rest == 1)
		rc = ctl_key_change(&o, action, argv[1 + optind]);
	else
		ctl_key_usage();
	config_unref(o.cfg);
	return rc;
}
