/* hafenctl policy: lets a data protection officer try policies on a text
 * (`policy test`) and check policy files (`policy lint`). The test output
 * shows the matched values: the input is the DPO's own text, typed here. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/ctl.h"
#include "policies/policy.h"
#include "policies/scan.h"

#define CTL_POLICY_MAX_FILES 32
#define CTL_POLICY_MAX_TEXT (16u << 20)

static void ctl_policy_usage(FILE *out)
{
	fprintf(out,
		"usage: hafenctl policy test [--policy FILE ...] (--text STRING | --file FILE)\n"
		"                            [--purpose P] [--tenant T] [--endpoint E] [--response]\n"
		"       hafenctl policy lint FILE ...\n"
		"Without --policy, test loads the packs in $HAFEN_PACKS_DIR\n"
		"(gdpr-default.json, secrets.json, special-categories.json).\n");
}

static char *ctl_policy_read(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "hafenctl policy: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0, r;
	char *buf = malloc(cap + 1);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = cap < CTL_POLICY_MAX_TEXT ? realloc(buf, cap * 2 + 1) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!buf) {
		fprintf(stderr, "hafenctl policy: %s: too large or out of memory\n", path);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static const char *const ctl_policy_default_packs[] = {
	"gdpr-default.json", "secrets.json", "special-categories.json",
};

static int ctl_policy_load(struct policy_set *set, const char *const *files, size_t n)
{
	char err[512];
	if (n == 0) {
		const char *dir = getenv("HAFEN_PACKS_DIR");
		if (!dir) {
			fprintf(stderr, "hafenctl policy: give --policy FILE or set HAFEN_PACKS_DIR\n");
			return -1;
		}
		for (size_t i = 0; i < sizeof ctl_policy_default_packs / sizeof ctl_policy_default_packs[0]; i++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, ctl_policy_default_packs[i]);
			if (policy_file_load(set, path, err, sizeof err) < 0) {
				fprintf(stderr, "hafenctl policy: %s\n", err);
				return -1;
			}
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (policy_file_load(set, files[i], err, sizeof err) < 0) {
			fprintf(stderr, "hafenctl policy: %s\n", err);
			return -1;
		}
	return 0;
}

static const char *ctl_policy_detector_id(const struct policy_set *set,
					  const struct policy_scanner *s, unsigned det)
{
	const char *id = policy_set_custom_detector_id(set, det);
	if (id)
		return id;
	const struct detector *d = det < policy_scanner_detector_count(s) ? policy_scanner_detector(s, det) : NULL;
	return d ? d->id : "?";
}

static int ctl_policy_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "text", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "purpose", required_argument, NULL, 'P' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ "response", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *files[CTL_POLICY_MAX_FILES];
	size_t n_files = 0;
	const char *text_arg = NULL, *file_arg = NULL;
	struct policy_context ctx = { NULL, NULL, "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n_files == CTL_POLICY_MAX_FILES) {
				fprintf(stderr, "hafenctl policy: at most %d --policy files\n", CTL_POLICY_MAX_FILES);
				return CTL_EXIT_USAGE;
			}
			files[n_files++] = optarg;
			break;
		case 't': text_arg = optarg; break;
		case 'f': file_arg = optarg; break;
		case 'P': ctx.purpose = optarg; break;
		case 'T': ctx.tenant = optarg; break;
		case 'E': ctx.endpoint = optarg; break;
		case 'r': ctx.direction = POLICY_DIRECTION_RESPONSE; break;
		case 'h': ctl_policy_usage(stdout); return CTL_EXIT_OK;
		default: ctl_policy_usage(stderr); return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc || !text_arg == !file_arg) {
		fprintf(stderr, "hafenctl policy test: give exactly one of --text or --file\n");
		ctl_policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}

	int rc = CTL_EXIT_FAIL;
	char err[512];
	char *text = NULL;
	size_t len = 0;
	json_t *body = NULL, *out = NULL;
	struct policy_request *r = NULL;
	struct policy_scan_adapter scan = { 0 };
	policy_findings_init(&scan.findings);
	struct policy_set *set = policy_set_new();
	if (!set || ctl_policy_load(set, files, n_files) < 0)
		goto done;
	struct policy_scanner *scanner = policy_set_scanner_new(set, err, sizeof err);
	if (!scanner) {
		fprintf(stderr, "hafenctl policy: scanner: %s\n", err);
		goto done;
	}
	scan.scanner = scanner;
	if (text_arg) {
		text = strdup(text_arg);
		len = strlen(text_arg);
	} else {
		text = ctl_policy_read(file_arg, &len);
	}
	if (!text)
		goto done;
	body = json_object();
	json_t *msg = json_object();
	json_t *str = json_stringn_nocheck(text, len);
	json_object_set_new(msg, "role", json_string("user"));
	json_object_set_new(msg, "content", str);
	json_t *msgs = json_array();
	json_array_append_new(msgs, msg);
	json_object_set_new(body, "messages", msgs);

	r = policy_request_new(set, &ctx);
	if (!r || policy_request_apply(r, body, policy_scan_adapter_fn, &scan, err, sizeof err) < 0) {
		fprintf(stderr, "hafenctl policy: %s\n", r ? err : "out of memory");
		goto done;
	}
	const struct policy_decision *d = policy_request_decision(r);
	const struct policy_finding *f;
	const struct policy_verdict *v;
	const size_t *field_of;
	size_t n = policy_request_findings(r, &f, &v, &field_of);

	out = json_object();
	json_object_set_new(out, "policy_hash", json_string(policy_set_hash(set)));
	json_t *jf = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string(policy_set_entity_name(set, f[i].entity)));
		json_object_set_new(o, "detector", json_string(ctl_policy_detector_id(set, scanner, f[i].detector)));
		json_object_set_new(o, "start", json_integer(f[i].start));
		json_object_set_new(o, "end", json_integer(f[i].end));
		json_object_set_new(o, "value", json_stringn_nocheck(text + f[i].start, f[i].end - f[i].start));
		json_object_set_new(o, "class", json_string(policy_data_class_name(f[i].data_class)));
		json_object_set_new(o, "confidence", json_integer(f[i].confidence));
		json_object_set_new(o, "action", json_string(policy_action_name(v[i].action)));
		json_object_set_new(o, "rule", v[i].rule >= 0 ? json_string(policy_set_rule_id(set, (size_t)v[i].rule)) : json_null());
		json_array_append_new(jf, o);
	}
	json_object_set_new(out, "findings", jf);
	json_t *jd = json_object();
	json_object_set_new(jd, "action", json_string(d->action == POLICY_ACTION_NONE ? "allow" : policy_action_name(d->action)));
	json_t *fired = json_array();
	for (size_t i = 0; i < d->n_fired; i++)
		json_array_append_new(fired, json_string(policy_set_rule_id(set, d->fired[i])));
	json_object_set_new(jd, "rules_fired", fired);
	if (d->action == POLICY_ACTION_BLOCK) {
		json_object_set_new(jd, "block_rule", json_string(policy_set_rule_id(set, (size_t)d->block_rule)));
		json_object_set_new(jd, "block_entity", json_string(policy_set_entity_name(set, d->block_entity)));
	}
	json_t *counts = json_object();
	for (size_t e = 0; e < policy_set_entity_count(set); e++)
		if (d->entity_counts[e])
			json_object_set_new(counts, policy_set_entity_name(set, (unsigned)e), json_integer(d->entity_counts[e]));
	json_object_set_new(jd, "counts", counts);
	json_object_set_new(out, "decision", jd);
	json_object_set_new(out, "data_class", json_string(policy_data_class_name(d->data_class)));
	json_t *content = json_object_get(json_array_get(json_object_get(body, "messages"), 0), "content");
	json_object_set(out, "text", d->action == POLICY_ACTION_BLOCK ? json_null() : content);
	if (json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
		fputc('\n', stdout);
		rc = CTL_EXIT_OK;
	}
	policy_scanner_free(scanner);
done:
	json_decref(out);
	json_decref(body);
	policy_request_free(r);
	policy_findings_free(&scan.findings);
	policy_set_free(set);
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	return rc;
}

static int ctl_policy_lint(int argc, char **argv)
{
	if (argc < 2) {
		ctl_policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* One set, so that ids clashing between files are found too. */
	struct policy_set *set = policy_set_new();
	int rc = CTL_EXIT_OK;
	char err[512];
	for (int i = 1; i < argc; i++) {
		size_t before = policy_set_rule_count(set);
		if (policy_file_load(set, argv[i], err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			rc = CTL_EXIT_FAIL;
			continue;
		}
		printf("%s: ok, %zu rules\n", argv[i], policy_set_rule_count(set) - before);
		for (size_t r = before; r < policy_set_rule_count(set); r++) {
			const char *note = policy_set_rule_note(set, r);
			if (note)
				printf("%s: note: rule %s: %s\n", argv[i], policy_set_rule_id(set, r), note);
		}
	}
	if (rc == CTL_EXIT_OK)
		printf("policy hash %s\n", policy_set_hash(set));
	policy_set_free(set);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} ctl_policy_commands[] = {
	{ "test", ctl_policy_test },
	{ "lint", ctl_policy_lint },
};

int ctl_policy_run(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		ctl_policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof ctl_policy_commands / sizeof ctl_policy_commands[0]; i++)
		if (strcmp(argv[1], ctl_policy_commands[i].name) == 0)
			return ctl_policy_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hafenctl policy: unknown subcommand '%s'\n", argv[1]);
	ctl_policy_usage(stderr);
	return CTL_EXIT_USAGE;
}
