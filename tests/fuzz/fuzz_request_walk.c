/* libFuzzer target: request walking, decision and rewriting of arbitrary
 * JSON bodies with the real scanner and custom detectors, then restoring
 * the rewritten body as if it were the answer. Properties: the rewritten
 * body is valid JSON, and restoring every field of a pseudonymize-only
 * policy gives back the original body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"
#include "policies/restore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_set *fuzz_set;
static struct policy_scanner *fuzz_scanner;

static const char fuzz_policy[] =
	"{\"detectors\":["
	"{\"id\":\"customers\",\"entity\":\"customer\",\"label\":\"CUSTOMER\",\"literals\":[\"Acme GmbH\",\"Globex\"]},"
	"{\"id\":\"projects\",\"entity\":\"project_code\",\"label\":\"PROJECT\",\"pattern\":\"PRJ-\\\\d{2,4}\"}"
	"],\"rules\":["
	"{\"id\":\"pseudo-all\",\"groups\":[\"contact\",\"financial\",\"national_id\",\"person\",\"secret\",\"special_category\",\"custom\"],\"action\":\"pseudonymize\"}"
	"]}";

static void fuzz_init(void)
{
	char err[256];
	fuzz_set = policy_set_new();
	if (!fuzz_set || policy_file_load_buffer(fuzz_set, "fuzz.json", fuzz_policy, strlen(fuzz_policy), err, sizeof err) < 0)
		abort();
	fuzz_scanner = policy_set_scanner_new(fuzz_set, err, sizeof err);
	if (!fuzz_scanner)
		abort();
}

/* Tool-call arguments are JSON source: written back compact when they
 * changed, so compare them by meaning. */
static void fuzz_canon_args(json_t *body)
{
	json_t **f;
	uint8_t *k;
	size_t n;
	char err[64];
	if (request_walk_collect_kinds(body, &f, &k, &n, err, sizeof err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (k[i] != REQUEST_WALK_JSON)
			continue;
		json_t *v = json_loadb(json_string_value(f[i]), json_string_length(f[i]), JSON_DECODE_ANY, NULL);
		char *c = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
		if (c)
			json_string_set(f[i], c);
		free(c);
		json_decref(v);
	}
	free(f);
	free(k);
}

/* Compare two JSON values' serializations (keys sorted). */
static int fuzz_same(json_t *a, json_t *b)
{
	fuzz_canon_args(a);
	fuzz_canon_args(b);
	char *x = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *y = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	int same = x && y && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_set)
		fuzz_init();
	json_t *body = json_loadb((const char *)data, size, 0, NULL);
	if (!body)
		return 0;
	json_t *orig = json_deep_copy(body);
	struct policy_context ctx = { "support", NULL, "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	struct policy_request *r = policy_request_new(fuzz_set, &ctx);
	struct policy_scan_adapter sa = { .scanner = fuzz_scanner };
	policy_findings_init(&sa.findings);
	char err[256];
	if (r && policy_request_apply(r, body, policy_scan_adapter_fn, &sa, err, sizeof err) == 0) {
		char *s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		json_t *again = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
		if (!again)
			abort(); /* the rewritten body must stay valid JSON */
		json_decref(again);
		free(s);
		/* Everything was pseudonymized, so restoring gives the original
		 * back, unless the input itself contained text that looks like
		 * one of the placeholders (then restoring rightly changes it) or
		 * an unterminated PEM block (which the guard always cuts). */
		struct restore_guard_stats st;
		char *o = json_dumps(orig, JSON_COMPACT | JSON_ENCODE_ANY);
		int plain = o && !strchr(o, '<') && !strstr(o, "-----BEGIN");
		free(o);
		if (plain &&
		    policy_request_restore_answer(r, body, NULL, NULL, &st, err, sizeof err) == 0 &&
		    !fuzz_same(body, orig))
			abort();
	}
	policy_findings_free(&sa.findings);
	policy_request_free(r);
	json_decref(orig);
	json_decref(body);
	return 0;
}
