/* Redaction, pseudonymization and the JSON walk of requests and answers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"
#include "policies/restore.h"
#include "policies/rewrite.h"
#include "tests/tap.h"

/* json_dumps memory comes from jansson's allocator (the wiping one here). */
static void json_free_str(char *s)
{
	json_malloc_t m;
	json_free_t f;
	json_get_alloc_funcs(&m, &f);
	f(s);
}

static const char *labels_of(unsigned e)
{
	return entity_info_get(e) ? entity_info_get(e)->label : NULL;
}

static void test_rewrite_text(void)
{
	const char *labels[ENTITY_BUILTIN_COUNT];
	for (unsigned e = 0; e < ENTITY_BUILTIN_COUNT; e++)
		labels[e] = labels_of(e);
	const char *text = "Max Müller (max@example.com) und Max Müller, IBAN DE89370400440532013000.";
	/* "Max Müller" is 11 bytes in UTF-8. */
	struct policy_finding f[] = {
		{ .start = 52, .end = 74, .entity = ENTITY_IBAN },
		{ .start = 0, .end = 11, .entity = ENTITY_PERSON },
		{ .start = 13, .end = 28, .entity = ENTITY_EMAIL },
		{ .start = 34, .end = 45, .entity = ENTITY_PERSON },
		{ .start = 36, .end = 40, .entity = ENTITY_PHONE }, /* overlapped: left out */
	};
	enum policy_action a[] = {
		POLICY_ACTION_REDACT, POLICY_ACTION_PSEUDONYMIZE, POLICY_ACTION_PSEUDONYMIZE,
		POLICY_ACTION_PSEUDONYMIZE, POLICY_ACTION_REDACT,
	};
	struct rewrite_map *m = rewrite_map_new();
	char *out = NULL, err[128];
	size_t outlen;
	int changed;
	ok(rewrite_text(m, text, strlen(text), f, a, 5, labels, ENTITY_BUILTIN_COUNT, &out, &outlen,
			&changed, err, sizeof err) == 0, "rewrite");
	is_str(out, "<PERSON_1> (<EMAIL_1>) und <PERSON_1>, IBAN [IBAN].", "redact and pseudonymize, same value same placeholder");
	ok(changed, "changed");
	is_int(outlen, strlen(out), "length");
	is_int(rewrite_map_count(m), 2, "two originals in the map");
	size_t vlen;
	const char *v = rewrite_map_lookup(m, "<PERSON_1>", 10, &vlen);
	ok(v && vlen == 11 && memcmp(v, "Max Müller", 11) == 0, "map keeps the original");
	free(out);

	/* A second field of the same request continues the numbering. */
	const char *text2 = "Erika an Max Müller";
	struct policy_finding f2[] = {
		{ .start = 0, .end = 5, .entity = ENTITY_PERSON },
		{ .start = 9, .end = 20, .entity = ENTITY_PERSON },
	};
	enum policy_action a2[] = { POLICY_ACTION_PSEUDONYMIZE, POLICY_ACTION_PSEUDONYMIZE };
	rewrite_text(m, text2, strlen(text2), f2, a2, 2, labels, ENTITY_BUILTIN_COUNT, &out, &outlen,
		     &changed, err, sizeof err);
	is_str(out, "<PERSON_2> an <PERSON_1>", "consistent across fields");
	free(out);

	/* Flag and classify do not touch the text. */
	enum policy_action a3[] = { POLICY_ACTION_FLAG, POLICY_ACTION_CLASSIFY };
	rewrite_text(m, text2, strlen(text2), f2, a3, 2, labels, ENTITY_BUILTIN_COUNT, &out, &outlen,
		     &changed, err, sizeof err);
	ok(!changed && strcmp(out, text2) == 0, "flag/classify leave the text");
	free(out);

	/* Findings outside the text are refused, not clamped. */
	struct policy_finding bad = { .start = 3, .end = 99, .entity = ENTITY_EMAIL };
	enum policy_action ab = POLICY_ACTION_REDACT;
	ok(rewrite_text(m, text2, strlen(text2), &bad, &ab, 1, labels, ENTITY_BUILTIN_COUNT, &out,
			&outlen, &changed, err, sizeof err) < 0, "out-of-range finding is an error");
	rewrite_map_free(m);

	/* Many distinct values: numbering, reuse and lookup stay exact. */
	m = rewrite_map_new();
	int exact = 1;
	char val[32], ph[64];
	for (int i = 0; i < 20000; i++) {
		int vl = snprintf(val, sizeof val, "user%d@example.com", i);
		const char *p = rewrite_map_placeholder(m, i % 2 ? "EMAIL" : "PERSON", val, (size_t)vl);
		snprintf(ph, sizeof ph, "<%s_%d>", i % 2 ? "EMAIL" : "PERSON", i / 2 + 1);
		exact &= p && strcmp(p, ph) == 0;
	}
	for (int i = 0; i < 20000; i += 7) {
		int vl = snprintf(val, sizeof val, "user%d@example.com", i);
		const char *p = rewrite_map_placeholder(m, i % 2 ? "EMAIL" : "PERSON", val, (size_t)vl);
		size_t got_len;
		const char *got = p ? rewrite_map_lookup(m, p, strlen(p), &got_len) : NULL;
		exact &= got && got_len == (size_t)vl && memcmp(got, val, got_len) == 0;
	}
	ok(exact, "20000 distinct values: numbered per label, reused, looked up");
	is_int(rewrite_map_count(m), 20000, "20000 entries");
	rewrite_map_free(m);
}

/* Stand-in scanner: e-mail addresses around each '@'. The real scanner
 * (policies/scan.h) plugs in through the same callback. */
struct email_scan {
	struct policy_finding v[64];
};

static int is_mail_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int email_scan(void *arg, const char *text, size_t len, const struct policy_finding **out, size_t *n)
{
	struct email_scan *s = arg;
	*n = 0;
	for (size_t i = 0; i < len && *n < 64; i++) {
		if (text[i] != '@')
			continue;
		size_t a = i, b = i + 1;
		while (a > 0 && is_mail_byte(text[a - 1]))
			a--;
		while (b < len && is_mail_byte(text[b]))
			b++;
		while (b > i + 1 && text[b - 1] == '.')
			b--;
		if (a == i || b == i + 1)
			continue;
		struct policy_finding f = { .start = (uint32_t)a, .end = (uint32_t)b, .entity = ENTITY_EMAIL,
					    .data_class = DATA_CLASS_CONFIDENTIAL, .confidence = 95 };
		s->v[(*n)++] = f;
	}
	*out = s->v;
	return 0;
}

static const char *policy_json =
	"{\"detectors\":["
	"{\"id\":\"staff\",\"entity\":\"person\",\"literals\":[\"Max Müller\",\"Erika Mustermann\"]},"
	"{\"id\":\"customers\",\"entity\":\"customer\",\"label\":\"CUSTOMER\",\"literals\":[\"Acme GmbH\"]},"
	"{\"id\":\"projects\",\"entity\":\"project_code\",\"label\":\"PROJECT\",\"class\":\"internal\",\"pattern\":\"PRJ-\\\\d{4}\"}"
	"],\"rules\":["
	"{\"id\":\"pseudo-people\",\"entities\":[\"person\",\"email\",\"customer\"],\"action\":\"pseudonymize\"},"
	"{\"id\":\"redact-projects\",\"entities\":[\"project_code\"],\"action\":\"redact\"},"
	"{\"id\":\"block-many-customers\",\"entities\":[\"customer\"],\"min_count\":5,\"action\":\"block\"},"
	"{\"id\":\"answer-secrets\",\"groups\":[\"secret\"],\"direction\":\"response\",\"action\":\"redact\"}"
	"]}";

static const struct policy_scanner *scanner;

static json_t *apply(struct policy_set *set, const char *body, struct policy_request **rp)
{
	json_error_t je;
	json_t *root = json_loads(body, 0, &je);
	if (!root) {
		tap_diag("bad test JSON: %s", je.text);
		return NULL;
	}
	struct policy_context ctx = { "support", "t", "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	struct policy_request *r = policy_request_new(set, &ctx);
	char err[256];
	struct policy_scan_adapter sa = { .scanner = scanner };
	policy_findings_init(&sa.findings);
	if (policy_request_apply(r, root, policy_scan_adapter_fn, &sa, err, sizeof err) < 0)
		tap_diag("apply: %s", err);
	policy_findings_free(&sa.findings);
	*rp = r;
	return root;
}

static void test_request(struct policy_set *set)
{
	const char *body =
		"{\"model\":\"m\",\"messages\":["
		"{\"role\":\"system\",\"content\":\"You help Acme GmbH.\"},"
		"{\"role\":\"user\",\"name\":\"Max Müller\",\"content\":[{\"type\":\"text\",\"text\":\"Mail max@example.com about PRJ-2024\"},"
		"{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]},"
		"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
		"\"function\":{\"name\":\"send\",\"arguments\":\"{\\\"to\\\":\\\"max@example.com\\\",\\\"cc\\\":\\\"Erika Mustermann\\\"}\"}}]},"
		"{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sent to Erika Mustermann at erika@example.org\"}"
		"]}";
	struct policy_request *r;
	json_t *root = apply(set, body, &r);
	if (!root)
		return;
	char *s = json_dumps(root, JSON_COMPACT);
	is_str(s,
	       "{\"model\":\"m\",\"messages\":["
	       "{\"role\":\"system\",\"content\":\"You help <CUSTOMER_1>.\"},"
	       "{\"role\":\"user\",\"name\":\"<PERSON_1>\",\"content\":[{\"type\":\"text\",\"text\":\"Mail <EMAIL_1> about [PROJECT]\"},"
	       "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]},"
	       "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
	       "\"function\":{\"name\":\"send\",\"arguments\":\"{\\\"to\\\":\\\"<EMAIL_1>\\\",\\\"cc\\\":\\\"<PERSON_2>\\\"}\"}}]},"
	       "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sent to <PERSON_2> at <EMAIL_2>\"}"
	       "]}",
	       "chat request: every text field rewritten, consistently across messages");
	json_free_str(s);
	/* Tool arguments stay valid JSON. */
	json_t *args = json_loads("{\"to\":\"<EMAIL_1>\",\"cc\":\"<PERSON_2>\"}", 0, NULL);
	ok(args != NULL, "rewritten tool arguments parse");
	json_decref(args);
	const struct policy_decision *d = policy_request_decision(r);
	is_int(d->action, POLICY_ACTION_PSEUDONYMIZE, "decision pseudonymize");
	is_int(d->n_fired, 2, "two rules fired");
	is_int(d->entity_counts[ENTITY_EMAIL], 3, "three e-mail findings");
	is_int(d->entity_counts[ENTITY_PERSON], 3, "three person findings");
	is_int(d->data_class, DATA_CLASS_CONFIDENTIAL, "class confidential");

	/* The answer, streamed in small pieces, gets the originals back. */
	struct restore_stream *rs = policy_request_restorer(r);
	const char *ans = "I wrote to <PERSON_2> (<EMAIL_2>) for <CUSTOMER_1>.";
	char got[512] = "";
	for (size_t i = 0; i < strlen(ans); i += 3) {
		const char *out;
		size_t n;
		size_t k = strlen(ans) - i < 3 ? strlen(ans) - i : 3;
		restore_stream_feed(rs, ans + i, k, &out, &n);
		strncat(got, out, n);
	}
	const char *out;
	size_t n;
	restore_stream_finish(rs, &out, &n);
	strncat(got, out, n);
	is_str(got, "I wrote to Erika Mustermann (erika@example.org) for Acme GmbH.", "answer restored");
	restore_stream_free(rs);

	/* A whole JSON answer: guarded, then restored, field by field. */
	json_t *answer = json_loads("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
				    "\"content\":\"Dear <PERSON_1>, use ghp_16C7e42F292c6912E7710c838347Ae178B4a.\","
				    "\"tool_calls\":[{\"function\":{\"name\":\"send\",\"arguments\":\"{\\\"to\\\":\\\"<EMAIL_1>\\\"}\"}}]}},"
				    "{\"index\":1,\"text\":\"<CUSTOMER_1> <PERSON_7>\"}]}", 0, NULL);
	struct policy_scan_adapter sa = { .scanner = scanner };
	policy_findings_init(&sa.findings);
	struct restore_guard_stats st;
	char err[256];
	ok(answer && policy_request_restore_answer(r, answer, policy_scan_adapter_fn, &sa, &st, err, sizeof err) == 0,
	   "whole answer restored");
	char *as = json_dumps(answer, JSON_COMPACT);
	is_str(as, "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
		   "\"content\":\"Dear Max Müller, use [GITHUB_TOKEN].\","
		   "\"tool_calls\":[{\"function\":{\"name\":\"send\",\"arguments\":\"{\\\"to\\\":\\\"max@example.com\\\"}\"}}]}},"
		   "{\"index\":1,\"text\":\"Acme GmbH <PERSON_7>\"}]}",
	       "answer: leaked token redacted, originals back, unknown placeholder kept");
	is_int(st.n_redacted, 1, "answer: one redaction");
	json_free_str(as);
	json_decref(answer);
	policy_findings_free(&sa.findings);
	policy_request_free(r);
	json_decref(root);
}

static void test_other_endpoints(struct policy_set *set)
{
	static const struct {
		const char *body, *want, *name;
	} cases[] = {
		{ "{\"prompt\":\"Hi Max Müller\",\"suffix\":\"bye max@example.com\"}",
		  "{\"prompt\":\"Hi <PERSON_1>\",\"suffix\":\"bye <EMAIL_1>\"}", "completions: prompt string" },
		{ "{\"prompt\":[\"Max Müller\",\"x\",\"Max Müller\"]}",
		  "{\"prompt\":[\"<PERSON_1>\",\"x\",\"<PERSON_1>\"]}", "completions: prompt array" },
		{ "{\"prompt\":[1,2,3]}", "{\"prompt\":[1,2,3]}", "token ids are left alone" },
		{ "{\"input\":\"PRJ-1234 for Acme GmbH\"}", "{\"input\":\"[PROJECT] for <CUSTOMER_1>\"}", "embeddings: input string" },
		{ "{\"input\":[\"a@b.de\",[\"Erika Mustermann\"]]}", "{\"input\":[\"<EMAIL_1>\",[\"<PERSON_1>\"]]}", "embeddings: input arrays" },
		{ "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Max Müller\"}},"
		  "{\"index\":1,\"delta\":{\"content\":\"a@b.de\"}},{\"index\":2,\"text\":\"PRJ-0001\"}]}",
		  "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"<PERSON_1>\"}},"
		  "{\"index\":1,\"delta\":{\"content\":\"<EMAIL_1>\"}},{\"index\":2,\"text\":\"[PROJECT]\"}]}",
		  "answers: message, delta and text" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{ \\\"who\\\": \\\"Max M\\\\u00fcller\\\", \\\"n\\\": [1, \\\"PRJ-1234\\\"] }\"}}]}]}",
		  "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{\\\"who\\\":\\\"<PERSON_1>\\\",\\\"n\\\":[1,\\\"[PROJECT]\\\"]}\"}}]}]}",
		  "tool arguments: decoded values scanned (\\u escapes), written back as JSON" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{ \\\"n\\\": 1 }\"}}]}]}",
		  "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{ \\\"n\\\": 1 }\"}}]}]}",
		  "tool arguments without findings keep their exact text" },
		{ "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{\\\"to\\\":\\\"a@b.de\\\"\"}}]}]}",
		  "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\","
		  "\"arguments\":\"{\\\"to\\\":\\\"<EMAIL_1>\\\"\"}}]}]}",
		  "unparseable tool arguments are scanned as text" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"Ünïcödé ✓ Max Müller ✓\"}]}",
		  "{\"messages\":[{\"role\":\"user\",\"content\":\"Ünïcödé ✓ <PERSON_1> ✓\"}]}", "UTF-8 around findings" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct policy_request *r;
		json_t *root = apply(set, cases[i].body, &r);
		char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
		is_str(s, cases[i].want, cases[i].name);
		json_free_str(s);
		policy_request_free(r);
		json_decref(root);
	}

	/* Block: nothing rewritten, the rule and entity named. */
	struct policy_request *r;
	json_t *root = apply(set, "{\"messages\":[{\"role\":\"user\",\"content\":\"Acme GmbH, acme gmbh, ACME GmbH, Acme GMBH, Acme Gmbh\"}]}", &r);
	const struct policy_decision *d = policy_request_decision(r);
	is_int(d->action, POLICY_ACTION_BLOCK, "five customers: block");
	is_str(policy_set_rule_id(set, (size_t)d->block_rule), "block-many-customers", "block rule named");
	is_str(policy_set_entity_name(set, d->block_entity), "customer", "block entity named");
	char *s = json_dumps(root, JSON_COMPACT);
	ok(strstr(s, "Acme GmbH, acme gmbh") != NULL, "a blocked request is not rewritten");
	json_free_str(s);
	policy_request_free(r);
	json_decref(root);

	/* A scanner without this set's custom detectors is refused. */
	{
		char e2[160];
		struct policy_scanner *plain = policy_scanner_new(NULL, 0, e2, sizeof e2);
		struct policy_scan_adapter pa = { .scanner = plain };
		policy_findings_init(&pa.findings);
		struct policy_context c2 = { NULL, NULL, NULL, POLICY_DIRECTION_REQUEST, 0 };
		struct policy_request *r2 = policy_request_new(set, &c2);
		json_t *b2 = json_pack("{s:s}", "prompt", "Acme GmbH");
		ok(policy_request_apply(r2, b2, policy_scan_adapter_fn, &pa, e2, sizeof e2) < 0,
		   "scanner without the set's custom detectors: fail closed");
		is_str(e2, "the scanner was not built for this policy set (use policy_set_scanner_new)", "and says why");
		json_decref(b2);
		policy_request_free(r2);
		policy_findings_free(&pa.findings);
		policy_scanner_free(plain);
	}

	/* Bad bodies fail closed with a message. */
	struct policy_context ctx = { NULL, NULL, NULL, POLICY_DIRECTION_REQUEST, 0 };
	r = policy_request_new(set, &ctx);
	char err[128];
	json_t *arr = json_array();
	ok(policy_request_apply(r, arr, NULL, NULL, err, sizeof err) < 0, "non-object body refused");
	is_str(err, "the body must be a JSON object", "error text");
	json_t *o = json_pack("{s:s}", "messages", "x");
	ok(policy_request_apply(r, o, NULL, NULL, err, sizeof err) < 0, "messages not an array refused");
	json_decref(arr);
	json_decref(o);
	policy_request_free(r);
}

/* Without a scanner the pipeline runs the custom detectors itself; with a
 * callback that is not the set's scanner they are that callback's job. */
static void test_standin(struct policy_set *set)
{
	json_t *root = json_loads("{\"messages\":[{\"role\":\"user\",\"content\":\"Acme GmbH: a@b.de\"}]}", 0, NULL);
	struct policy_context ctx = { NULL, NULL, NULL, POLICY_DIRECTION_REQUEST, 0 };
	struct policy_request *r = policy_request_new(set, &ctx);
	char err[128];
	ok(policy_request_apply(r, root, NULL, NULL, err, sizeof err) == 0, "no scanner: custom pass");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(root, "messages"), 0), "content")),
	       "<CUSTOMER_1>: a@b.de", "no scanner: only custom detectors");
	policy_request_free(r);
	json_decref(root);
	root = json_loads("{\"messages\":[{\"role\":\"user\",\"content\":\"Acme GmbH: a@b.de\"}]}", 0, NULL);
	r = policy_request_new(set, &ctx);
	struct email_scan es;
	ok(policy_request_apply(r, root, email_scan, &es, err, sizeof err) == 0, "stand-in scanner");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(root, "messages"), 0), "content")),
	       "Acme GmbH: <EMAIL_1>", "stand-in scanner: its findings only");
	policy_request_free(r);
	json_decref(root);
}

int main(void)
{
	policy_json_use_wiping_allocator();
	test_rewrite_text();
	struct policy_set *set = policy_set_new();
	char err[256];
	if (!ok(policy_file_load_buffer(set, "t.json", policy_json, strlen(policy_json), err, sizeof err) == 0,
		"policy loads"))
		tap_diag("%s", err);
	struct policy_scanner *sc = policy_set_scanner_new(set, err, sizeof err);
	if (!ok(sc != NULL, "scanner with the set's custom detectors"))
		tap_diag("%s", err);
	scanner = sc;
	test_request(set);
	test_other_endpoints(set);
	test_standin(set);
	policy_scanner_free(sc);
	policy_set_free(set);
	tap_done();
	return tap_exit_status();
}
