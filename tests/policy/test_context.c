/* Context kinds (policy.h) and the rule attribute that acts on them,
 * "context_actions" (policy_file.c, policy.c): the shipped aiact-annex3-4
 * rule blocks an Annex III point 4 decision, flags it instead when the
 * caller says the purpose is an enabled high-risk employment purpose, and
 * the kind changes nothing else (Art. 5 rules, other rules, a site
 * override). Bad attributes are refused with the path and change nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/entity.h"
#include "policies/policy.h"
#include "tests/tap.h"

#define EMPLOYMENT (1u << POLICY_CONTEXT_KIND_EMPLOYMENT_HIGH_RISK)

static const char annex_body[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":\"Here are the CVs of the five applicants. "
	"Rank them and tell me which two to reject.\"}]}";
static const char art5f_body[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Analyse the facial "
	"expressions in these webcam frames of our call-centre agents and rate their mood.\"},"
	"{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,/9j/4AAQ\"}}]}]}";
static const char email_body[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":\"Write to jane.doe@example.com about it.\"}]}";

/* Runs the pipeline on js under the purpose "hr" with these kinds. The
 * caller frees *rq. NULL when the pipeline failed. */
static const struct policy_decision *decide(const struct policy_set *set, const char *js, unsigned kinds,
    struct policy_request **rq)
{
	json_t *body = json_loads(js, 0, NULL);
	struct policy_context ctx = { "hr", "t", "/v1/chat/completions", POLICY_DIRECTION_REQUEST, kinds };
	char err[200] = "";
	/* The full scanner (builtin detectors too), as the gateway runs it. */
	struct policy_scanner *sc = policy_set_scanner_new(set, err, sizeof err);
	struct policy_scan_adapter a = { sc, { 0 } };
	policy_findings_init(&a.findings);
	*rq = policy_request_new(set, &ctx);
	int rc = *rq && body && a.scanner ?
	    policy_request_apply(*rq, body, policy_scan_adapter_fn, &a, err, sizeof err) : -1;
	if (rc < 0)
		tap_diag("pipeline: %s", err);
	policy_findings_free(&a.findings);
	policy_scanner_free(sc);
	json_decref(body);
	return rc == 0 ? policy_request_decision(*rq) : NULL;
}

static int fired(const struct policy_set *set, const struct policy_decision *d, const char *id)
{
	for (size_t i = 0; d && i < d->n_fired; i++)
		if (strcmp(policy_set_rule_id(set, d->fired[i]), id) == 0)
			return 1;
	return 0;
}

static const char *block_id(const struct policy_set *set, const struct policy_decision *d)
{
	return d && d->block_rule >= 0 ? policy_set_rule_id(set, (size_t)d->block_rule) : "";
}

static void test_pack(const char *packs)
{
	char path[1024], err[512];
	struct policy_set *set = policy_set_new();
	snprintf(path, sizeof path, "%s/gdpr-default.json", packs);
	ok(policy_file_load(set, path, err, sizeof err) == 0, "gdpr-default.json loads (%s)", err);
	snprintf(path, sizeof path, "%s/ai-act.json", packs);
	ok(policy_file_load(set, path, err, sizeof err) == 0, "ai-act.json with context_actions loads (%s)", err);
	struct policy_request *rq;

	const struct policy_decision *d = decide(set, annex_body, 0, &rq);
	ok(d && d->action == POLICY_ACTION_BLOCK, "annex decision, no context: blocked");
	is_str(block_id(set, d), "aiact-annex3-4", "... by aiact-annex3-4");
	policy_request_free(rq);

	d = decide(set, annex_body, EMPLOYMENT, &rq);
	ok(d && d->action == POLICY_ACTION_FLAG, "annex decision under an enabled employment purpose: flag");
	ok(fired(set, d, "aiact-annex3-4"), "... and aiact-annex3-4 still fired (it is audited)");
	ok(d && d->block_rule == -1, "... no block rule");
	const struct policy_finding *f;
	const struct policy_verdict *v;
	const size_t *field_of;
	size_t n = policy_request_findings(rq, &f, &v, &field_of);
	int flagged = 0;
	for (size_t i = 0; i < n; i++)
		if (f[i].entity == ENTITY_AIACT_ANNEX3_4)
			flagged = v[i].action == POLICY_ACTION_FLAG;
	ok(flagged, "... the finding's verdict is flag");
	policy_request_free(rq);

	d = decide(set, art5f_body, EMPLOYMENT, &rq);
	ok(d && d->action == POLICY_ACTION_BLOCK, "Art. 5(1)(f) under the employment context: still blocked");
	is_str(block_id(set, d), "aiact-5-1-f", "... by aiact-5-1-f");
	policy_request_free(rq);

	d = decide(set, email_body, 0, &rq);
	enum policy_action plain = d ? d->action : POLICY_ACTION_COUNT;
	policy_request_free(rq);
	d = decide(set, email_body, EMPLOYMENT, &rq);
	ok(d && plain != POLICY_ACTION_NONE && d->action == plain,
	   "a GDPR rule without context_actions acts the same in the context (%s)", policy_action_name(plain));
	policy_request_free(rq);

	/* An unknown kind bit is ignored: only named kinds act. */
	d = decide(set, annex_body, 1u << POLICY_CONTEXT_KIND_COUNT, &rq);
	ok(d && d->action == POLICY_ACTION_BLOCK, "an unknown context bit changes nothing");
	policy_request_free(rq);

	/* A site override lowers the rule for everyone; the context keeps its flag. */
	static const char site[] = "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"action\":\"flag\"}]}";
	ok(policy_file_load_buffer(set, "site.json", site, strlen(site), err, sizeof err) == 0, "site override loads");
	d = decide(set, annex_body, 0, &rq);
	ok(d && d->action == POLICY_ACTION_FLAG && fired(set, d, "aiact-annex3-4"), "override, no context: flag");
	policy_request_free(rq);
	d = decide(set, annex_body, EMPLOYMENT, &rq);
	ok(d && d->action == POLICY_ACTION_FLAG, "override and context: flag");
	policy_request_free(rq);
	policy_set_free(set);
}

/* A custom rule: context_actions can also tighten (redact -> block). */
static void test_custom_rule(void)
{
	static const char file[] =
		"{\"rules\":[{\"id\":\"mail\",\"entities\":[\"email\"],\"action\":\"redact\","
		"\"context_actions\":{\"employment_high_risk\":\"block\"}}]}";
	char err[512];
	struct policy_set *set = policy_set_new();
	ok(policy_file_load_buffer(set, "t.json", file, strlen(file), err, sizeof err) == 0,
	   "custom rule with context_actions loads (%s)", err);
	struct policy_request *rq;
	const struct policy_decision *d = decide(set, email_body, 0, &rq);
	ok(d && d->action == POLICY_ACTION_REDACT, "custom rule without the context: redact");
	policy_request_free(rq);
	d = decide(set, email_body, EMPLOYMENT, &rq);
	ok(d && d->action == POLICY_ACTION_BLOCK, "custom rule in the context: block");
	is_str(block_id(set, d), "mail", "... by the rule");
	policy_request_free(rq);
	policy_set_free(set);
}

static void test_bad(void)
{
	static const char *const bad[][2] = {
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_actions\":{\"employment\":\"flag\"}}]}",
		  "rules[0].context_actions: expected one of employment_high_risk" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_actions\":{\"employment_high_risk\":\"allow\"}}]}",
		  "rules[0].context_actions.employment_high_risk: expected one of redact" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_actions\":{\"employment_high_risk\":\"classify\"}}]}",
		  "rules[0].context_actions.employment_high_risk: classify needs a class" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_actions\":{}}]}", "rules[0].context_actions: expected an object" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_actions\":[\"flag\"]}]}", "rules[0].context_actions: expected an object" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"classify\",\"class\":\"restricted\","
		  "\"context_actions\":{\"employment_high_risk\":\"flag\"}}]}", "a classify rule keeps its action" },
		{ "{\"rules\":[{\"id\":\"r\",\"entities\":[\"email\"],\"action\":\"block\","
		  "\"context_action\":{\"employment_high_risk\":\"flag\"}}]}", "unknown key \"context_action\"" },
	};
	struct policy_set *set = policy_set_new();
	char hash[65], err[512];
	snprintf(hash, sizeof hash, "%s", policy_set_hash(set));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		int rc = policy_file_load_buffer(set, "bad.json", bad[i][0], strlen(bad[i][0]), err, sizeof err);
		ok(rc < 0 && strstr(err, bad[i][1]) != NULL, "bad context_actions %zu refused: %s", i, err);
	}
	ok(policy_set_rule_count(set) == 0 && strcmp(hash, policy_set_hash(set)) == 0,
	   "refused files change nothing");
	policy_set_free(set);
}

int main(void)
{
	const char *src = getenv("top_srcdir");
	char packs[900];
	snprintf(packs, sizeof packs, "%s/policies/packs", src ? src : "..");
	test_pack(packs);
	test_custom_rule();
	test_bad();
	tap_done();
	return tap_exit_status();
}
