/* Policy files (parser, precise errors, hash) and the decision. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"
#include "tests/tap.h"

static struct policy_set *load(const char *json, char *err, size_t errlen)
{
	struct policy_set *set = policy_set_new();
	if (policy_file_load_buffer(set, "t.json", json, strlen(json), err, errlen) < 0) {
		policy_set_free(set);
		return NULL;
	}
	return set;
}

/* Bad files and the exact error each must give. */
static const struct {
	const char *json;
	const char *error;
} bad_files[] = {
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"delete\"}]}",
	  "t.json: rules[0].action: expected one of redact, pseudonymize, block, classify, flag" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\"},"
	  "{\"id\":\"b\",\"entities\":[\"email\"],\"action\":\"flag\"},"
	  "{\"id\":\"c\",\"entities\":[\"email\"],\"action\":\"flag\"},"
	  "{\"id\":\"d\",\"entities\":[\"email\"],\"action\":7}]}",
	  "t.json: rules[3].action: expected one of redact, pseudonymize, block, classify, flag" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"emial\"],\"action\":\"flag\"}]}",
	  "t.json: rules[0].entities[0]: unknown entity \"emial\" (see docs/policies.md, or declare it in \"detectors\")" },
	{ "{\"rules\":[{\"id\":\"a\",\"groups\":[\"secrets\"],\"action\":\"flag\"}]}",
	  "t.json: rules[0].groups[0]: expected one of contact, financial, national_id, person, secret, special_category, custom" },
	{ "{\"rules\":[{\"id\":\"a\",\"action\":\"flag\"}]}",
	  "t.json: rules[0]: needs \"entities\" or \"groups\" (which findings the rule is about)" },
	{ "{\"rules\":[{\"entities\":[\"email\"],\"action\":\"flag\"}]}",
	  "t.json: rules[0].id: missing (every rule needs an id for the audit log)" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\"},{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\"}]}",
	  "t.json: rules[1].id: duplicate rule id \"a\"" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"classify\"}]}",
	  "t.json: rules[0].class: missing (a classify rule names the class to raise to)" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"classify\",\"class\":\"secret\"}]}",
	  "t.json: rules[0].class: expected one of public, internal, confidential, restricted" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"redact\",\"class\":\"internal\"}]}",
	  "t.json: rules[0].class: only a classify rule takes a class" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\",\"direction\":\"out\"}]}",
	  "t.json: rules[0].direction: expected one of request, response, both" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\",\"min_confidence\":101}]}",
	  "t.json: rules[0].min_confidence: expected an integer from 0 to 100" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\",\"purposes\":[\"hr\",3]}]}",
	  "t.json: rules[0].purposes[1]: expected a string" },
	{ "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\",\"acton\":\"x\"}]}",
	  "t.json: rules[0]: unknown key \"acton\" (expected id, description, entities, groups, min_count, min_confidence, purposes, tenants, endpoints, direction, action, class, context_actions)" },
	{ "{\"rules\":[{\"id\":\"A B\",\"entities\":[\"email\"],\"action\":\"flag\"}]}",
	  "t.json: rules[0].id: expected an identifier of a-z 0-9 _ - . :" },
	{ "{\"rules\":{}}", "t.json: rules: expected an array of at most 4096 rules" },
	{ "{}", "t.json: rules: missing" },
	{ "[]", "t.json: expected a JSON object at the top" },
	{ "{\"rules\":[],\"version\":2}", "t.json: version: expected an integer from 1 to 1" },
	{ "{\"rules\":[], \"rules\":[]}", "t.json: line 1 column 20: duplicate object key near '\"rules\"'" },
	{ "{\"rules\":[", "t.json: line 1 column 10: ']' expected near end of file" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"customer\",\"literals\":[\"Acme\"]}],\"rules\":[]}",
	  "t.json: detectors[0].label: missing (a new entity needs a label such as \"CUSTOMER\")" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"customer\",\"label\":\"cust\",\"literals\":[\"Acme\"]}],\"rules\":[]}",
	  "t.json: detectors[0].label: expected A-Z 0-9 _ starting with a letter, at most 47 bytes" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"customer\",\"label\":\"CUSTOMER\"}],\"rules\":[]}",
	  "t.json: detectors[0]: needs exactly one of \"literals\" or \"pattern\"" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"project\",\"label\":\"PROJECT\",\"pattern\":\"P[0-9]{4}\"}],\"rules\":[]}",
	  "t.json: detectors[0].pattern: pattern must start with at least 2 literal bytes (the prefix the scan looks for)" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"project\",\"label\":\"PROJECT\",\"pattern\":\"PRJ-[0-9]{4\"}],\"rules\":[]}",
	  "t.json: detectors[0].pattern: pattern byte 9: expected {n} or {n,m}" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"project\",\"label\":\"PROJECT\",\"pattern\":\"PRJ-[0-9]{4,65}\"}],\"rules\":[]}",
	  "t.json: detectors[0].pattern: pattern byte 9: count must be {n} or {n,m} with n <= m, 1 <= m <= 64" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"project\",\"label\":\"PROJECT\",\"pattern\":\"PRJ-[9-0]\"}],\"rules\":[]}",
	  "t.json: detectors[0].pattern: pattern byte 7: range end before its start" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"project\",\"label\":\"PROJECT\",\"pattern\":\"PRJ-\\\\q\"}],\"rules\":[]}",
	  "t.json: detectors[0].pattern: pattern byte 5: unknown escape '\\q' (use \\d \\a \\w \\u \\l or escape one of \\ [ ] { } ? -)" },
	{ "{\"detectors\":[{\"id\":\"c\",\"entity\":\"email\",\"label\":\"MAIL\",\"literals\":[\"x\"]}],\"rules\":[]}",
	  "t.json: detectors[0].label: entity \"email\" exists already and has its label" },
};

static void test_errors(void)
{
	char err[512];
	for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
		err[0] = '\0';
		struct policy_set *set = load(bad_files[i].json, err, sizeof err);
		ok(set == NULL, "bad file %zu is refused", i);
		is_str(err, bad_files[i].error, "bad file error text");
		policy_set_free(set);
	}
	/* A failed load leaves the set as it was. */
	struct policy_set *set = policy_set_new();
	const char *good = "{\"rules\":[{\"id\":\"a\",\"entities\":[\"email\"],\"action\":\"flag\"}]}";
	ok(policy_file_load_buffer(set, "g.json", good, strlen(good), err, sizeof err) == 0, "good file loads");
	char hash[65];
	strcpy(hash, policy_set_hash(set));
	ok(policy_file_load_buffer(set, "t.json", bad_files[0].json, strlen(bad_files[0].json), err, sizeof err) < 0,
	   "bad second file refused");
	is_int(policy_set_rule_count(set), 1, "set unchanged after a bad file");
	is_str(policy_set_hash(set), hash, "hash unchanged after a bad file");
	ok(policy_file_load_buffer(set, "g2.json", good, strlen(good), err, sizeof err) < 0,
	   "same rule id in a second file is refused");
	is_str(err, "g2.json: rules[0].id: duplicate rule id \"a\"", "duplicate across files");
	policy_set_free(set);
}

static void test_hash(void)
{
	char err[256];
	const char *a = "{\"name\":\"x\",\"rules\":[{\"id\":\"r1\",\"entities\":[\"email\"],\"action\":\"redact\"}]}";
	const char *b = "{\n  \"rules\": [ { \"action\": \"redact\",\n \"entities\": [ \"email\" ], \"id\": \"r1\" } ],\n  \"name\": \"x\"\n}\n";
	const char *c = "{\"name\":\"x\",\"rules\":[{\"id\":\"r1\",\"entities\":[\"email\"],\"action\":\"pseudonymize\"}]}";
	struct policy_set *sa = load(a, err, sizeof err), *sb = load(b, err, sizeof err), *sc = load(c, err, sizeof err);
	ok(sa && sb && sc, "hash files load");
	struct policy_set *empty = policy_set_new();
	/* SHA-256 of the empty string (FIPS 180-4 test vector). */
	is_str(policy_set_hash(empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "empty set hashes the empty serialization");
	is_int(strlen(policy_set_hash(sa)), 64, "hash is 64 hex digits");
	is_str(policy_set_hash(sa), policy_set_hash(sb), "formatting and key order do not change the hash");
	ok(strcmp(policy_set_hash(sa), policy_set_hash(sc)) != 0, "a changed action changes the hash");
	ok(strcmp(policy_set_hash(sa), policy_set_hash(empty)) != 0, "loading changes the hash");
	policy_set_free(sa);
	policy_set_free(sb);
	policy_set_free(sc);
	policy_set_free(empty);
}

static struct policy_finding fnd(unsigned entity, unsigned start, unsigned end, unsigned conf)
{
	struct policy_finding f = {
		.start = start, .end = end, .entity = (uint16_t)entity, .detector = 0,
		.data_class = (uint8_t)entity_info_get(entity)->data_class, .confidence = (uint8_t)conf,
	};
	return f;
}

static const char *rules_json =
	"{\"name\":\"test\",\"rules\":["
	"{\"id\":\"flag-contact\",\"groups\":[\"contact\"],\"action\":\"flag\"},"
	"{\"id\":\"pseudo-email\",\"entities\":[\"email\"],\"action\":\"pseudonymize\"},"
	"{\"id\":\"redact-email-phone\",\"entities\":[\"email\",\"phone\"],\"action\":\"redact\"},"
	"{\"id\":\"block-cards-bulk\",\"entities\":[\"payment_card\"],\"min_count\":3,\"action\":\"block\"},"
	"{\"id\":\"redact-cards\",\"entities\":[\"payment_card\"],\"action\":\"redact\"},"
	"{\"id\":\"hr-block-health\",\"entities\":[\"health\"],\"purposes\":[\"recruiting\"],\"action\":\"block\"},"
	"{\"id\":\"classify-iban\",\"entities\":[\"iban\"],\"min_confidence\":80,\"action\":\"classify\",\"class\":\"restricted\"},"
	"{\"id\":\"answer-secrets\",\"groups\":[\"secret\"],\"direction\":\"response\",\"action\":\"redact\"},"
	"{\"id\":\"tenant-b-only\",\"entities\":[\"ip_address\"],\"tenants\":[\"b\"],\"endpoints\":[\"/v1/embeddings\"],\"action\":\"redact\"}"
	"]}";

static int fired(const struct policy_set *set, const struct policy_decision *d, const char *id)
{
	for (size_t i = 0; i < d->n_fired; i++)
		if (strcmp(policy_set_rule_id(set, d->fired[i]), id) == 0)
			return 1;
	return 0;
}

static void test_decide(void)
{
	char err[256];
	struct policy_set *set = load(rules_json, err, sizeof err);
	if (!ok(set != NULL, "rules load")) {
		tap_diag("%s", err);
		return;
	}
	struct policy_context ctx = { "support", "a", "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	struct policy_finding f[6];
	struct policy_verdict v[6];
	struct policy_decision d;

	/* Overlapping rules: pseudonymize beats redact beats flag. */
	f[0] = fnd(ENTITY_EMAIL, 0, 10, 90);
	f[1] = fnd(ENTITY_PHONE, 20, 30, 90);
	ok(policy_decide(set, &ctx, f, 2, v, &d, err, sizeof err) == 0, "decide");
	is_int(v[0].action, POLICY_ACTION_PSEUDONYMIZE, "email: pseudonymize over redact and flag");
	is_str(policy_set_rule_id(set, (size_t)v[0].rule), "pseudo-email", "email: the pseudonymize rule");
	is_int(v[1].action, POLICY_ACTION_REDACT, "phone: redact over flag");
	is_int(d.action, POLICY_ACTION_PSEUDONYMIZE, "request action is the strongest");
	is_int(d.data_class, DATA_CLASS_CONFIDENTIAL, "class from findings");
	is_int(d.n_fired, 3, "three rules fired");
	ok(fired(set, &d, "flag-contact") && fired(set, &d, "pseudo-email") && fired(set, &d, "redact-email-phone"),
	   "fired list names them");
	is_int(d.entity_counts[ENTITY_EMAIL], 1, "counts by type: email");
	is_int(d.entity_counts[ENTITY_PHONE], 1, "counts by type: phone");
	policy_decision_clear(&d);

	/* min_count: two cards are redacted, three are blocked. */
	for (int i = 0; i < 3; i++)
		f[i] = fnd(ENTITY_PAYMENT_CARD, (unsigned)(i * 20), (unsigned)(i * 20 + 16), 100);
	policy_decide(set, &ctx, f, 2, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_REDACT, "two cards: redact");
	is_int(d.data_class, DATA_CLASS_RESTRICTED, "cards are restricted");
	ok(!fired(set, &d, "block-cards-bulk"), "bulk rule did not fire at 2");
	policy_decision_clear(&d);
	policy_decide(set, &ctx, f, 3, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_BLOCK, "three cards: block");
	is_str(policy_set_rule_id(set, (size_t)d.block_rule), "block-cards-bulk", "block names the rule");
	is_int(d.block_entity, ENTITY_PAYMENT_CARD, "block names the entity");
	is_int(v[2].action, POLICY_ACTION_BLOCK, "block beats redact per finding");
	policy_decision_clear(&d);

	/* Purposes. */
	f[0] = fnd(ENTITY_HEALTH, 0, 5, 80);
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_NONE, "health in support: no rule");
	is_int(d.data_class, DATA_CLASS_RESTRICTED, "health is still restricted");
	policy_decision_clear(&d);
	struct policy_context hr = ctx;
	hr.purpose = "recruiting";
	policy_decide(set, &hr, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_BLOCK, "health in recruiting: block");
	policy_decision_clear(&d);
	hr.purpose = NULL;
	policy_decide(set, &hr, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_NONE, "no purpose matches only rules for all purposes");
	policy_decision_clear(&d);

	/* Classify and min_confidence. */
	f[0] = fnd(ENTITY_IBAN, 0, 22, 70);
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.data_class, DATA_CLASS_CONFIDENTIAL, "low-confidence iban: classify rule does not fire");
	policy_decision_clear(&d);
	f[0].confidence = 95;
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.data_class, DATA_CLASS_RESTRICTED, "classify raises the class");
	is_int(d.action, POLICY_ACTION_CLASSIFY, "classify is the action");
	policy_decision_clear(&d);

	/* Direction. */
	f[0] = fnd(ENTITY_AWS_ACCESS_KEY, 0, 20, 100);
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_NONE, "response rule does not apply to requests");
	policy_decision_clear(&d);
	struct policy_context resp = ctx;
	resp.direction = POLICY_DIRECTION_RESPONSE;
	policy_decide(set, &resp, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_REDACT, "response rule applies to answers");
	policy_decision_clear(&d);

	/* Tenants and endpoints (both must match). */
	f[0] = fnd(ENTITY_IP_ADDRESS, 0, 9, 100);
	struct policy_context tb = { "support", "b", "/v1/embeddings", POLICY_DIRECTION_REQUEST, 0 };
	policy_decide(set, &tb, f, 1, v, &d, err, sizeof err);
	is_int(v[0].action, POLICY_ACTION_REDACT, "tenant b on embeddings: redact");
	policy_decision_clear(&d);
	tb.endpoint = "/v1/chat/completions";
	policy_decide(set, &tb, f, 1, v, &d, err, sizeof err);
	is_int(v[0].action, POLICY_ACTION_FLAG, "tenant b on chat: only the contact flag");
	policy_decision_clear(&d);

	/* No findings: nothing fires, class public. */
	policy_decide(set, &ctx, NULL, 0, NULL, &d, err, sizeof err);
	is_int(d.n_fired, 0, "no findings: nothing fired");
	is_int(d.data_class, DATA_CLASS_PUBLIC, "no findings: public");
	policy_decision_clear(&d);

	/* An entity outside the set is refused (fail closed). */
	f[0] = fnd(ENTITY_EMAIL, 0, 1, 1);
	f[0].entity = 9999;
	ok(policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err) < 0, "unknown entity fails the decision");
	policy_set_free(set);
}

static void test_custom_entities(void)
{
	char err[256];
	const char *json =
		"{\"detectors\":["
		"{\"id\":\"customers\",\"entity\":\"customer\",\"label\":\"CUSTOMER\",\"class\":\"confidential\",\"literals\":[\"Acme GmbH\",\"Globex\"]},"
		"{\"id\":\"projects\",\"entity\":\"project_code\",\"label\":\"PROJECT\",\"class\":\"internal\",\"pattern\":\"PRJ-\\\\d{4}\"},"
		"{\"id\":\"more-customers\",\"entity\":\"customer\",\"literals\":[\"Initech\"]}"
		"],\"rules\":[{\"id\":\"c\",\"entities\":[\"customer\"],\"groups\":[\"custom\"],\"action\":\"pseudonymize\"}]}";
	struct policy_set *set = load(json, err, sizeof err);
	if (!ok(set != NULL, "custom detectors load"))
		tap_diag("%s", err);
	if (!set)
		return;
	is_int(policy_set_entity_count(set), ENTITY_BUILTIN_COUNT + 2, "two custom entities");
	int cust = policy_set_entity_find(set, "customer");
	is_int(cust, ENTITY_BUILTIN_COUNT, "customer numbered after the builtins");
	is_str(policy_set_entity_label(set, (unsigned)cust), "CUSTOMER", "custom label");
	is_int(policy_set_entity_class(set, ENTITY_BUILTIN_COUNT + 1), DATA_CLASS_INTERNAL, "custom class");
	is_str(policy_set_entity_name(set, ENTITY_IBAN), "iban", "builtin names");

	const char *text = "Angebot für ACME GmbH (PRJ-2024), cc globex; PRJ-12 und xPRJ-1234 nicht, Initech ja, Globexx nein.";
	struct policy_finding *v = NULL;
	size_t n = 0, cap = 0;
	ok(custom_scan_text(set, text, strlen(text), &v, &n, &cap) == 0, "custom scan");
	is_int(n, 4, "four custom findings");
	int seen_acme = 0, seen_prj = 0, seen_globex = 0, seen_initech = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = text + v[i].start;
		size_t len = v[i].end - v[i].start;
		seen_acme |= len == 9 && strncmp(s, "ACME GmbH", 9) == 0 && v[i].entity == cust;
		seen_prj |= len == 8 && strncmp(s, "PRJ-2024", 8) == 0 && v[i].entity == cust + 1;
		seen_globex |= len == 6 && strncmp(s, "globex", 6) == 0;
		seen_initech |= len == 7 && strncmp(s, "Initech", 7) == 0 && v[i].entity == cust;
	}
	ok(seen_acme && seen_prj && seen_globex && seen_initech, "literals case-insensitive and word-bounded, pattern exact");
	free(v);
	policy_set_free(set);
}

static void test_packs(void)
{
	const char *srcdir = getenv("top_srcdir");
	if (!srcdir)
		srcdir = "..";
	static const char *const packs[] = { "gdpr-default.json", "secrets.json", "special-categories.json" };
	struct policy_set *set = policy_set_new();
	char err[512], path[4096];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/policies/packs/%s", srcdir, packs[i]);
		if (!ok(policy_file_load(set, path, err, sizeof err) == 0, "pack %s loads", packs[i]))
			tap_diag("%s", err);
	}
	ok(policy_set_rule_count(set) >= 10, "packs have their rules");
	struct policy_context ctx = { "recruitment", NULL, NULL, POLICY_DIRECTION_REQUEST, 0 };
	struct policy_finding f[2] = {
		fnd(ENTITY_HEALTH, 0, 5, 90), fnd(ENTITY_PRIVATE_KEY, 10, 900, 100),
	};
	struct policy_verdict v[2];
	struct policy_decision d;
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_BLOCK, "packs: health data in recruitment is blocked");
	policy_decision_clear(&d);
	ctx.purpose = "support";
	policy_decide(set, &ctx, f, 1, v, &d, err, sizeof err);
	is_int(d.action, POLICY_ACTION_CLASSIFY, "packs: health data in support is classified");
	is_int(d.data_class, DATA_CLASS_RESTRICTED, "packs: restricted");
	policy_decision_clear(&d);
	policy_decide(set, &ctx, f + 1, 1, v, &d, err, sizeof err);
	is_str(policy_set_rule_id(set, (size_t)d.block_rule), "secrets.block-private-keys", "packs: private keys blocked");
	policy_decision_clear(&d);
	policy_set_free(set);
}

int main(void)
{
	test_packs();
	test_errors();
	test_hash();
	test_decide();
	test_custom_entities();
	tap_done();
	return tap_exit_status();
}
