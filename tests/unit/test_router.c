/* The routing matrix: every data class x purpose x tenant x health and
 * kill state of three pools at three locations lands on the pools it must
 * or is refused with the right reason. Plus the config rules behind it
 * (third-country transfer basis, class ceilings), the circuit breaker and
 * the load balancer, and the kill switch's admin body parser. */
#include <stdio.h>
#include <string.h>

#include "gateway/balance.h"
#include "gateway/gwconfig.h"
#include "gateway/killswitch.h"
#include "gateway/router.h"
#include "policies/policy-t.h"
#include "tests/tap.h"

#define LP "\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":8080,\"plain\":true}],\"keys\":[]"

static struct config *load(const char *s, char *err)
{
	return config_load_string(s, strlen(s), "hafen.json", "/etc/hafen", err, 512);
}

static void expect_error(const char *json, const char *want, const char *name)
{
	char err[512] = "";
	struct config *c = load(json, err);
	ok(c == NULL, "%s: rejected", name);
	is_str(err, want, name);
	config_unref(c);
}

/* Three pools: local on the premises (ceiling restricted by default), eu
 * (confidential), us in a third country (internal, Art. 46). "chat" may
 * go anywhere; "notes" for purpose hr only on_prem; "summary" sends a
 * different model name per pool. */
static const char *matrix_config =
	"{" LP ",\"upstreams\":["
	"{\"name\":\"local\",\"instances\":[{\"url\":\"http://127.0.0.1:9001\",\"weight\":2},"
	"{\"url\":\"http://127.0.0.1:9002\"}],\"models\":[\"qwen3\",\"chat\",\"notes\"]},"
	"{\"name\":\"eu\",\"url\":\"https://eu.example:443/v1base\",\"location\":\"eu\",\"max_data_class\":\"confidential\"},"
	"{\"name\":\"us\",\"url\":\"https://us.example\",\"location\":\"third_country\",\"max_data_class\":\"internal\","
	"\"transfer_basis\":\"art46_safeguards\",\"auth_header\":\"Authorization: Bearer sk-test\"}],"
	"\"routes\":["
	"{\"model\":\"chat\",\"purposes\":[\"chat\",\"support\"],\"targets\":[{\"upstream\":\"us\"},{\"upstream\":\"eu\"},{\"upstream\":\"local\"}]},"
	"{\"model\":\"notes\",\"purposes\":[\"hr\"],\"tenants\":[\"acme\"],\"targets\":[{\"upstream\":\"local\"}]},"
	"{\"model\":\"summary\",\"data_classes\":[\"restricted\"],\"targets\":[{\"upstream\":\"local\",\"model\":\"qwen3\"}]},"
	"{\"model\":\"summary\",\"data_classes\":[\"*\"],\"targets\":[{\"upstream\":\"eu\",\"model\":\"mistral-large\"},"
	"{\"upstream\":\"local\",\"model\":\"qwen3\"}]}"
	"]}";

struct state {
	int killed[3];
	int available[3];
	const char *killed_model;
};

static int st_model_killed(void *arg, const char *alias)
{
	struct state *s = arg;
	return s->killed_model && strcmp(s->killed_model, alias) == 0;
}

static int st_upstream_killed(void *arg, int u)
{
	return ((struct state *)arg)->killed[u];
}

static int st_upstream_available(void *arg, int u)
{
	return ((struct state *)arg)->available[u];
}

/* The oracle, written as the rules read in architecture.md rather than as
 * the router computes them: ceilings per pool and "restricted stays home". */
static const int pool_ceiling[3] = {DATA_CLASS_RESTRICTED, DATA_CLASS_CONFIDENTIAL, DATA_CLASS_INTERNAL};
static const int pool_home[3] = {1, 0, 0};

static void matrix(const struct config *c)
{
	static const char *const purposes[] = {"chat", "support", "hr"};
	int checked = 0, wrong = 0, leaks = 0;
	for (int cls = 0; cls < DATA_CLASS_COUNT; cls++)
		for (size_t pu = 0; pu < 3; pu++)
			for (int health = 0; health < 8; health++)
				for (int kill = 0; kill < 8; kill++) {
					struct state s = {{kill & 1, (kill >> 1) & 1, (kill >> 2) & 1},
					    {health & 1, (health >> 1) & 1, (health >> 2) & 1}, NULL};
					struct router_state st = {st_model_killed, st_upstream_killed, st_upstream_available, NULL, &s};
					struct router_request rq = {"chat", cls, purposes[pu], "acme"};
					struct router_result r;
					int rc = router_select(c, &rq, &st, &r);
					/* expected: chat's targets us, eu, local in that order */
					static const int order[3] = {2, 1, 0};
					int want[3], nwant = 0, eligible = 0, dead_kill = 0;
					for (int k = 0; k < 3; k++) {
						int u = order[k];
						if (cls > pool_ceiling[u] || (cls == DATA_CLASS_RESTRICTED && !pool_home[u]))
							continue;
						eligible++;
						if (s.killed[u]) {
							dead_kill++;
							continue;
						}
						if (s.available[u])
							want[nwant++] = u;
					}
					checked++;
					if (pu == 2) {
						if (rc != -1 || r.status != 404 || strcmp(r.code, "model_not_found") != 0)
							wrong++;
						continue;
					}
					for (size_t k = 0; k < r.n; k++) {
						const struct config_upstream *u = &c->upstreams[r.c[k].upstream];
						if (pool_ceiling[r.c[k].upstream] < cls || (cls == 3 && u->location != CONFIG_LOCATION_ON_PREM))
							leaks++;
					}
					if (nwant) {
						int same = rc == 0 && (int)r.n == nwant;
						for (int k = 0; same && k < nwant; k++)
							same = r.c[k].upstream == want[k] && strcmp(r.c[k].model, "chat") == 0;
						if (!same)
							wrong++;
						continue;
					}
					const char *code = eligible == 0 ? "no_eligible_upstream" :
					    dead_kill == eligible ? "upstream_killed" : "no_healthy_upstream";
					if (rc != -1 || r.status != 503 || strcmp(r.code, code) != 0) {
						wrong++;
						tap_diag("class %d purpose %s health %d kill %d: got %s want %s", cls,
						    purposes[pu], health, kill, r.code ? r.code : "ok", code);
					}
				}
	is_int(checked, 4 * 3 * 8 * 8, "matrix: every class x purpose x health x kill combination checked");
	is_int(wrong, 0, "matrix: each lands on the expected pools in order, or is refused with the expected reason");
	is_int(leaks, 0, "matrix: no candidate ever above its ceiling, restricted never off the premises");
}

static void cases(const struct config *c)
{
	struct state s = {{0, 0, 0}, {1, 1, 1}, NULL};
	struct router_state st = {st_model_killed, st_upstream_killed, st_upstream_available, NULL, &s};
	struct router_result r;
	struct router_request rq = {"summary", DATA_CLASS_CONFIDENTIAL, "chat", "acme"};
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 2 && r.c[0].upstream == 1 &&
	    strcmp(r.c[0].model, "mistral-large") == 0 && strcmp(r.c[1].model, "qwen3") == 0,
	    "summary, confidential: eu first with its model name, then local with its own");
	rq.data_class = DATA_CLASS_RESTRICTED;
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 0 &&
	    strcmp(r.c[0].model, "qwen3") == 0, "summary, restricted: the restricted row, local only");
	s.available[0] = 0;
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 503 && strcmp(r.code, "no_healthy_upstream") == 0,
	    "summary, restricted, local down: 503, no fallback to eu");
	ok(strstr(r.message, "restricted") != NULL, "the refusal names the class: %s", r.message);
	s.available[0] = 1;
	rq = (struct router_request){"notes", DATA_CLASS_PUBLIC, "hr", "acme"};
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 0, "notes: hr at acme goes to local");
	rq.tenant = "other";
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 404, "notes: another tenant does not see the alias");
	rq = (struct router_request){"nope", DATA_CLASS_PUBLIC, "chat", "acme"};
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 404 && strcmp(r.code, "model_not_found") == 0,
	    "unknown alias: 404 model_not_found");
	rq = (struct router_request){NULL, DATA_CLASS_PUBLIC, "chat", "acme"};
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 404, "no model at all with routes: 404");
	s.killed_model = "chat";
	rq = (struct router_request){"chat", DATA_CLASS_PUBLIC, "chat", "acme"};
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 503 && strcmp(r.code, "model_killed") == 0 &&
	    strstr(r.message, "kill switch"), "killed alias: 503 model_killed naming the switch");
	s.killed_model = NULL;
	rq.data_class = 7;
	ok(router_select(c, &rq, &st, &r) == -1, "a class out of range is refused, never routed");
	ok(router_model_visible(c, "chat", "support", "x") && !router_model_visible(c, "chat", "hr", "acme") &&
	    router_model_visible(c, "summary", NULL, NULL), "visibility follows purposes and tenants");
	/* The invariant itself. */
	struct config_upstream u = {.location = CONFIG_LOCATION_EU, .max_data_class = DATA_CLASS_RESTRICTED};
	ok(!router_upstream_allowed(&u, DATA_CLASS_RESTRICTED), "restricted never to eu, even with a ceiling that says so");
	u.location = CONFIG_LOCATION_ON_PREM;
	u.max_data_class = DATA_CLASS_INTERNAL;
	ok(router_upstream_allowed(&u, DATA_CLASS_INTERNAL) && !router_upstream_allowed(&u, DATA_CLASS_CONFIDENTIAL),
	    "the ceiling holds on the premises too");
	ok(!router_upstream_allowed(&u, -1), "a negative class is refused");
	is_int(router_data_class_parse("Confidential", 12), DATA_CLASS_CONFIDENTIAL, "class names parse case-insensitively");
	is_int(router_data_class_parse("secret", 6), -1, "unknown class: -1");
}

static void legacy(void)
{
	char err[512];
	struct config *c = load("{" LP ",\"upstreams\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\"},"
	    "{\"name\":\"b\",\"url\":\"http://127.0.0.1:2\",\"location\":\"eu\",\"models\":[\"m\"]}]}", err);
	ok(c != NULL, "legacy: a config without routes loads");
	if (!c) {
		tap_diag("%s", err);
		return;
	}
	is_int((int)c->upstreams[0].n_instances, 1, "legacy: url is a pool of one");
	is_int(c->upstreams[0].max_data_class, DATA_CLASS_RESTRICTED, "on_prem ceiling defaults to restricted");
	is_int(c->upstreams[1].max_data_class, DATA_CLASS_INTERNAL, "eu ceiling defaults to internal");
	struct router_result r;
	struct router_request rq = {"m", DATA_CLASS_PUBLIC, "chat", "t"};
	ok(router_select(c, &rq, NULL, &r) == 0 && r.n == 2 && r.c[0].upstream == 0 && r.c[0].model == NULL,
	    "legacy: every upstream serving the model, in order, body left as is");
	rq.data_class = DATA_CLASS_CONFIDENTIAL;
	ok(router_select(c, &rq, NULL, &r) == 0 && r.n == 1 && r.c[0].upstream == 0, "legacy: the class ceiling applies");
	rq.model = "x";
	ok(router_select(c, &rq, NULL, &r) == 0 && r.n == 1, "legacy: a pool without a model list serves any model");
	config_unref(c);
}

static int serves_disc(void *arg, int u, const char *model)
{
	(void)arg;
	if (u != 0)
		return -1;
	return strcmp(model, "found") == 0;
}

static int serves_none(void *arg, int u, const char *model)
{
	(void)arg;
	(void)u;
	(void)model;
	return -1;
}

static void discovery(void)
{
	char **ids, err[160];
	size_t n;
	const char *good = "{\"object\":\"list\",\"data\":[{\"id\":\"qwen3\",\"object\":\"model\"},{\"id\":\"llama\"}]}";
	ok(router_models_parse(good, strlen(good), &ids, &n, err, sizeof err) == 0 && n == 2 &&
	    strcmp(ids[0], "qwen3") == 0 && strcmp(ids[1], "llama") == 0, "a /v1/models list parses");
	router_models_free(ids, n);
	ok(router_models_parse("{\"data\":[]}", strlen("{\"data\":[]}"), &ids, &n, err, sizeof err) == 0 && n == 0, "an empty list");
	router_models_free(ids, n);
	ok(router_models_parse("{\"data\":[{\"id\":3}]}", strlen("{\"data\":[{\"id\":3}]}"), &ids, &n, err, sizeof err) < 0 &&
	    strstr(err, "data[0].id"), "an id that is not a string: refused, named (%s)", err);
	ok(router_models_parse("[1,2]", 5, &ids, &n, err, sizeof err) < 0, "not an object: refused");
	ok(router_models_parse("{\"data\":[{\"id\":\"a\\nb\"}]}", strlen("{\"data\":[{\"id\":\"a\\nb\"}]}"), &ids, &n, err, sizeof err) < 0,
	    "a control character in an id: refused");
	char e2[512];
	struct config *c = load("{" LP ",\"upstreams\":[{\"name\":\"d\",\"url\":\"http://127.0.0.1:1\",\"discover_models\":true},"
	    "{\"name\":\"e\",\"url\":\"http://127.0.0.1:2\",\"models\":[\"m\"]}]}", e2);
	ok(c != NULL, "discover_models loads");
	if (!c)
		return;
	struct router_state st = {NULL, NULL, NULL, serves_disc, NULL};
	struct router_result r;
	struct router_request rq = {"found", DATA_CLASS_PUBLIC, "chat", "t"};
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 0, "a discovered model routes to its pool");
	rq.model = "m";
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 1,
	    "a pool that listed its models no longer serves any model");
	rq.model = "zzz";
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 404, "a model nobody lists: 404");
	config_unref(c);
	/* Routes to a discovering pool: the alias (no target model) or a
	 * target model it does not declare loads, and routes once listed. */
	c = load("{" LP ",\"upstreams\":[{\"name\":\"d\",\"url\":\"http://127.0.0.1:1\",\"discover_models\":true,"
	    "\"models\":[\"declared\"]},{\"name\":\"e\",\"url\":\"http://127.0.0.1:2\",\"models\":[\"m\"]}],"
	    "\"routes\":[{\"model\":\"found\",\"targets\":[{\"upstream\":\"d\"}]},"
	    "{\"model\":\"gone\",\"targets\":[{\"upstream\":\"d\"}]},"
	    "{\"model\":\"mixed\",\"targets\":[{\"upstream\":\"d\",\"model\":\"other\"},{\"upstream\":\"e\",\"model\":\"m\"}]},"
	    "{\"model\":\"decl\",\"targets\":[{\"upstream\":\"d\",\"model\":\"declared\"}]}]}", e2);
	ok(c != NULL, "a route to a discovering pool's undeclared model loads (%s)", c ? "" : e2);
	if (!c)
		return;
	rq.model = "found";
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 0 && strcmp(r.c[0].model, "found") == 0,
	    "route: an alias the pool discovered goes to it");
	rq.model = "gone";
	ok(router_select(c, &rq, &st, &r) == -1 && r.status == 404 && strcmp(r.code, "model_not_found") == 0,
	    "route: an alias the pool did not list: 404");
	rq.model = "mixed";
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 1,
	    "route: a target the pool did not list is skipped, the next one used");
	rq.model = "decl";
	ok(router_select(c, &rq, &st, &r) == 0 && r.n == 1 && r.c[0].upstream == 0, "route: a declared model still counts");
	struct router_state none = {NULL, NULL, NULL, serves_none, NULL};
	rq.model = "gone";
	ok(router_select(c, &rq, &none, &r) == -1 && r.status == 404,
	    "route: before the list is in, a pool with declared models serves only those");
	config_unref(c);
}

static void config_errors(void)
{
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"us\",\"url\":\"https://x\",\"location\":\"third_country\"}]}",
	    "hafen.json: upstreams[0].transfer_basis: missing, expected one of art45_adequacy, art46_safeguards, "
	    "art49_derogation for a third_country upstream (GDPR Art. 44)", "third_country without a transfer basis");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"https://x\",\"location\":\"eu\","
	    "\"max_data_class\":\"restricted\"}]}",
	    "hafen.json: upstreams[0].max_data_class: expected at most confidential: restricted data never leaves on_prem",
	    "restricted ceiling off the premises");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"https://x\",\"location\":\"moon\"}]}",
	    "hafen.json: upstreams[0].location: expected one of on_prem, eu, third_country", "unknown location");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\",\"instances\":[{\"url\":\"http://y\"}]}]}",
	    "hafen.json: upstreams[0].instances: expected either \"url\" or \"instances\", not both", "url and instances");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\"}]}",
	    "hafen.json: upstreams[0].url: missing, expected a non-empty string (or \"instances\")", "neither url nor instances");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"instances\":[{\"url\":\"ftp://y\"}]}]}",
	    "hafen.json: upstreams[0].instances[0].url: expected a string starting with http:// or https://",
	    "bad instance url");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\",\"auth_header\":\"Bearer\\r\\nX: y\"}]}",
	    "hafen.json: upstreams[0].auth_header: expected \"Name: value\" without line breaks", "auth header injection");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\"}],\"routes\":[{\"model\":\"m\","
	    "\"targets\":[{\"upstream\":\"f\"}]}]}",
	    "hafen.json: routes[0].targets[0].upstream: expected the name of an upstream", "route to an unknown upstream");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\",\"models\":[\"a\"]}],\"routes\":[{\"model\":\"m\","
	    "\"targets\":[{\"upstream\":\"e\"}]}]}",
	    "hafen.json: routes[0].targets[0].model: expected a model that upstream e serves (its \"models\", or "
	    "\"discover_models\": true)",
	    "route to a model the pool does not serve");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\"}],\"routes\":[{\"model\":\"m\","
	    "\"data_classes\":[\"secret\"],\"targets\":[{\"upstream\":\"e\"}]}]}",
	    "hafen.json: routes[0].data_classes[0]: expected one of public, internal, confidential, restricted, *",
	    "unknown class in a route");
	expect_error("{" LP ",\"upstreams\":[{\"name\":\"e\",\"url\":\"http://x\"}],\"routes\":[{\"model\":\"m\","
	    "\"targets\":[]}]}", "hafen.json: routes[0].targets: expected at least one target", "route without targets");
}

static void breaker(void)
{
	struct balance_pool p;
	long long w[2] = {1, 1};
	ok(balance_pool_init(&p, 2, w, 2, 100) == 0, "pool of two");
	uint64_t t = 1000000;
	int i = balance_pick(&p, t, 0, 1); /* instance 0 excluded */
	is_int(i, 1, "the tried instance is skipped");
	balance_done(&p, 1, 0, t);
	ok(balance_state_get(&p, 1, t) == BALANCE_STATE_CLOSED, "one failure: still closed");
	i = balance_pick(&p, t, 0, 1);
	balance_done(&p, i, 0, t);
	ok(balance_state_get(&p, 1, t) == BALANCE_STATE_OPEN, "threshold reached: open (ejected)");
	ok(balance_pick(&p, t, 0, 1) == -1, "an open instance is not picked");
	ok(balance_available(&p, t), "the pool still has instance 0");
	int zeros = 0;
	for (uint64_t r = 0; r < 100; r++) {
		int k = balance_pick(&p, t + 50000, r * 0x9e3779b97f4a7c15ull, 0);
		zeros += k == 0;
		balance_done(&p, k, 1, t + 50000);
	}
	is_int(zeros, 100, "while open every request goes to the other instance");
	i = balance_pick(&p, t + 100000, 0, 0);
	is_int(i, 1, "after the back-off the next request is the probe (half-open)");
	ok(balance_pick(&p, t + 100000, 0, 0) == 0, "one probe at a time: the next request goes to the closed one");
	balance_done(&p, 0, 1, t + 100000);
	balance_done(&p, 1, 0, t + 100000);
	ok(balance_state_get(&p, 1, t + 100000) == BALANCE_STATE_OPEN, "a failed probe opens it again");
	ok(balance_state_get(&p, 1, t + 250000) == BALANCE_STATE_OPEN, "with a doubled back-off (200 ms)");
	i = balance_pick(&p, t + 300001, 0, 0);
	is_int(i, 1, "probe after the doubled back-off");
	balance_done(&p, 1, 1, t + 300001);
	ok(balance_state_get(&p, 1, t + 300001) == BALANCE_STATE_CLOSED, "a good probe closes it");
	i = balance_pick(&p, t + 300002, 0, 0);
	balance_cancel(&p, i);
	ok(atomic_load(&p.inst[0].outstanding) == 0 && atomic_load(&p.inst[1].outstanding) == 0,
	    "outstanding counts return to zero");
	balance_pool_free(&p);

	/* Weights: 3:1 over many draws with equal load. */
	long long w2[2] = {3, 1};
	balance_pool_init(&p, 2, w2, 3, 100);
	int n0 = 0;
	uint64_t x = 88172645463325252ull;
	for (int k = 0; k < 4000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int j = balance_pick(&p, t, x, 0);
		n0 += j == 0;
		balance_done(&p, j, 1, t);
	}
	ok(n0 > 2700 && n0 < 3300, "weights 3:1 give about 3/4 of idle picks to the heavy instance (%d of 4000)", n0);
	/* Least outstanding: a busy instance loses both-choice draws. */
	for (int k = 0; k < 10; k++)
		atomic_fetch_add(&p.inst[0].outstanding, 1);
	int n1 = 0;
	for (int k = 0; k < 1000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int j = balance_pick(&p, t, x, 0);
		n1 += j == 1;
		balance_cancel(&p, j);
	}
	ok(n1 > 500, "the less loaded instance wins when both are drawn (%d of 1000)", n1);
	balance_pool_free(&p);
}

/* A reload's new pool takes over the breaker of a kept instance. */
static void carry(void)
{
	struct balance_pool a, b;
	long long w[2] = {1, 1};
	uint64_t t = 1000000;
	balance_pool_init(&a, 2, w, 2, 100);
	balance_pool_init(&b, 2, w, 2, 100);
	for (int k = 0; k < 2; k++) {
		balance_pick(&a, t, 0, 1);
		balance_done(&a, 1, 0, t);
	}
	ok(balance_state_get(&a, 1, t) == BALANCE_STATE_OPEN, "carry: instance 1 of the old pool is open");
	balance_carry(&b, 0, &a, 1);
	ok(balance_state_get(&b, 0, t) == BALANCE_STATE_OPEN, "carry: open in the new pool, as instance 0");
	ok(balance_state_get(&b, 0, t + 100000) == BALANCE_STATE_HALF_OPEN, "carry: with the old back-off's end");
	ok(atomic_load(&b.inst[0].ejections) == 1 && atomic_load(&b.inst[0].outstanding) == 0,
	    "carry: the ejection count, not the requests in flight");
	ok(balance_state_get(&b, 1, t) == BALANCE_STATE_CLOSED, "carry: the other instance untouched");
	balance_pool_free(&a);
	balance_pool_free(&b);
}

static void kill_body(void)
{
	int kind;
	char name[KILLSWITCH_NAME_MAX], err[256];
	ok(killswitch_parse_body("{\"upstream\":\"eu\"}", 17, &kind, name, sizeof name, err, sizeof err) == 0 &&
	    kind == KILLSWITCH_KIND_UPSTREAM && strcmp(name, "eu") == 0, "kill body: upstream");
	ok(killswitch_parse_body("{\"model\":\"chat\"}", 16, &kind, name, sizeof name, err, sizeof err) == 0 &&
	    kind == KILLSWITCH_KIND_MODEL, "kill body: model");
	ok(killswitch_parse_body("{\"model\":\"a\",\"upstream\":\"b\"}", 28, &kind, name, sizeof name, err, sizeof err) < 0,
	    "kill body: two keys refused");
	ok(killswitch_parse_body("{\"model\":\"a b\"}", 15, &kind, name, sizeof name, err, sizeof err) < 0,
	    "kill body: a space in the name refused");
	ok(killswitch_parse_body("[1]", 3, &kind, name, sizeof name, err, sizeof err) < 0, "kill body: not an object");
	ok(killswitch_parse_body("{\"model\":", 9, &kind, name, sizeof name, err, sizeof err) < 0, "kill body: truncated");
	ok(killswitch_set(KILLSWITCH_KIND_MODEL, "chat", "alice", 1, 1) == 0 &&
	    killswitch_set(KILLSWITCH_KIND_MODEL, "chat", "bob", 1, 2) == 1, "pull twice: the second is a no-op");
	ok(killswitch_is_on(KILLSWITCH_KIND_MODEL, "chat") && !killswitch_is_on(KILLSWITCH_KIND_UPSTREAM, "chat"),
	    "a model switch is not an upstream switch");
	ok(killswitch_set(KILLSWITCH_KIND_MODEL, "chat", "bob", 0, 3) == 0 && !killswitch_is_on(KILLSWITCH_KIND_MODEL, "chat"),
	    "release");
	ok(killswitch_valid_operator("alice", 5) && !killswitch_valid_operator("", 0) &&
	    !killswitch_valid_operator("a\"b", 3), "operator names");
}

int main(void)
{
	char err[512];
	struct config *c = load(matrix_config, err);
	ok(c != NULL, "the matrix config loads");
	if (!c) {
		tap_diag("%s", err);
		tap_done();
		return 1;
	}
	is_int((int)c->upstreams[0].n_instances, 2, "local has two instances");
	is_int((int)c->upstreams[0].instances[0].weight, 2, "instance weight");
	is_int(c->upstreams[2].transfer_basis, CONFIG_TRANSFER_BASIS_SAFEGUARDS, "transfer basis Art. 46");
	is_str(c->upstreams[1].instances[0].base_path, "/v1base", "pool of one from url keeps its base path");
	matrix(c);
	cases(c);
	config_unref(c);
	legacy();
	discovery();
	config_errors();
	breaker();
	carry();
	kill_body();
	tap_done();
	return 0;
}
