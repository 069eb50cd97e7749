/* The purpose registry: valid purposes load, every rejection names the
 * file, the JSON path and the article; the request check raises the class
 * to the floors and refuses what the purpose or key forbids. */
#include <string.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/purpose.h"
#include "policies/policy-t.h"
#include "tests/tap.h"

#define BASE "\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":8080,\"plain\":true}]," \
	"\"upstreams\":[{\"name\":\"engine\",\"url\":\"http://127.0.0.1:8081\"}]," \
	"\"keys\":[{\"name\":\"demo\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":\"" \
	"a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3\"}]"

static struct config *load(const char *purposes, char *err)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "{" BASE ",\"purposes\":{%s}}", purposes);
	return config_load_string(buf, strlen(buf), "hafen.json", "/etc/hafen", err, 512);
}

/* Loads and expects a rejection whose message starts with want_prefix and
 * contains want_article. */
static void expect_reject(const char *purposes, const char *want_prefix, const char *want_article,
    const char *name)
{
	char err[512] = "";
	struct config *c = load(purposes, err);
	ok(c == NULL, "%s: rejected", name);
	ok(strncmp(err, want_prefix, strlen(want_prefix)) == 0, "%s: names file and path", name);
	ok(strstr(err, want_article) != NULL, "%s: names %s", name, want_article);
	if (strncmp(err, want_prefix, strlen(want_prefix)) != 0 || !strstr(err, want_article))
		tap_diag("got: %s", err);
	config_unref(c);
}

#define CHAT "\"chat\":{\"description\":\"internal chat\",\"lawful_basis\":\"legitimate_interests\"," \
	"\"data_classes\":[\"public\",\"internal\",\"confidential\"],\"retention_days\":90}"
#define HR_BASE "\"hr\":{\"description\":\"screening applications\",\"lawful_basis\":\"6(1)(b)\"," \
	"\"data_classes\":[\"confidential\"],\"retention_days\":%d,\"area\":\"recruitment\"%s}"

static void check_request(const struct config *c, const char *purpose, int class_in, int floor,
    int max_class, int want_rc, int want_class, const char *want_type, const char *name)
{
	struct config_key k = {.name = "k", .tenant = "t", .purpose = (char *)purpose,
	    .class_floor = floor, .max_class = max_class};
	struct filter_exchange x = {0};
	x.key = &k;
	x.data_class = class_in;
	int rc = purpose_check_request(c ? c->purposes : NULL, &x);
	ok(rc == want_rc, "%s: result %d", name, rc);
	if (rc == 0)
		ok(x.data_class == want_class, "%s: class %d", name, x.data_class);
	else {
		ok(x.status == 403, "%s: 403", name);
		ok(x.error_type && strcmp(x.error_type, want_type) == 0, "%s: error type %s", name,
		    x.error_type ? x.error_type : "(none)");
		ok(strstr(x.message, "Art.") != NULL || max_class < 3, "%s: message names the article", name);
	}
}

int main(void)
{
	char err[512] = "", p[2048];
	struct config *c = load(CHAT, err);
	ok(c != NULL, "a minimal purpose loads");
	if (!c) {
		tap_diag("%s", err);
		tap_done();
		return 1;
	}
	const struct purpose *pu = purpose_registry_find(c->purposes, "chat");
	ok(pu != NULL, "purpose found by id");
	is_int(pu->basis, PURPOSE_BASIS_LEGITIMATE_INTERESTS, "lawful basis by name");
	is_int(pu->classes, 7, "data classes as a bit set");
	is_int(pu->retention_days, 90, "retention days");
	is_int(pu->high_risk, 0, "not high-risk");
	ok(purpose_registry_find(c->purposes, "nope") == NULL, "unknown purpose not found");
	is_int(c->keys[0].max_class, DATA_CLASS_RESTRICTED, "key max_class defaults to restricted");
	config_unref(c);

	/* without a purposes section: no registry, as before */
	char buf[2048];
	snprintf(buf, sizeof buf, "{" BASE "}");
	c = config_load_string(buf, strlen(buf), "hafen.json", "/etc/hafen", err, sizeof err);
	ok(c && c->purposes == NULL, "no purposes section: no registry");
	check_request(c, "anything", DATA_CLASS_RESTRICTED, 0, 3, 0, DATA_CLASS_RESTRICTED, NULL,
	    "no registry: no purpose check");
	config_unref(c);

	/* mTLS identities and key limits in the config */
	snprintf(buf, sizeof buf, "{" BASE ",\"identities\":[{\"name\":\"svc\",\"tenant\":\"t\",\"purpose\":\"chat\","
	    "\"cert_sha256\":\"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\","
	    "\"rpm\":5,\"max_class\":\"internal\"}]}");
	c = config_load_string(buf, strlen(buf), "hafen.json", "/etc/hafen", err, sizeof err);
	ok(c && c->n_identities == 1, "an identity by fingerprint loads");
	is_str(c ? c->identities[0].cert_sha256 : NULL,
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "fingerprint normalized to lowercase hex");
	ok(c && c->identities[0].rpm == 5 && c->identities[0].max_class == DATA_CLASS_INTERNAL, "identity limits");
	config_unref(c);
	snprintf(buf, sizeof buf, "{" BASE ",\"identities\":[{\"name\":\"svc\",\"tenant\":\"t\",\"purpose\":\"chat\","
	    "\"cn\":\"a\",\"cert_sha256\":\"ab\"}]}");
	c = config_load_string(buf, strlen(buf), "hafen.json", "/etc/hafen", err, sizeof err);
	ok(c == NULL && strcmp(err, "hafen.json: identities[0]: expected exactly one of \"cn\" and \"cert_sha256\"") == 0,
	    "an identity with both cn and fingerprint is rejected");
	snprintf(buf, sizeof buf, "{" BASE ",\"identities\":[{\"name\":\"svc\",\"tenant\":\"t\",\"purpose\":\"chat\","
	    "\"cert_sha256\":\"abcd\"}]}");
	c = config_load_string(buf, strlen(buf), "hafen.json", "/etc/hafen", err, sizeof err);
	ok(c == NULL && strstr(err, "identities[0].cert_sha256: expected a SHA-256 fingerprint") != NULL,
	    "a short fingerprint is rejected");

	/* rejections */
	expect_reject("\"chat\":{\"description\":\"x\",\"data_classes\":[\"public\"],\"retention_days\":1}",
	    "hafen.json: purposes.chat.lawful_basis: missing", "GDPR Art. 6(1)", "no lawful basis");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"because\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":1}", "hafen.json: purposes.chat.lawful_basis: expected", "GDPR Art. 6(1)",
	    "unknown lawful basis");
	expect_reject("\"chat\":{\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],\"retention_days\":1}",
	    "hafen.json: purposes.chat.description: missing", "Art. 5(1)(b)", "no description");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"retention_days\":1}",
	    "hafen.json: purposes.chat.data_classes: missing", "Art. 5(1)(b)", "no data classes");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"secret\"],"
	    "\"retention_days\":1}", "hafen.json: purposes.chat.data_classes[0]: expected", "restricted",
	    "unknown data class");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"]}",
	    "hafen.json: purposes.chat.retention_days: missing", "Art. 5(1)(e)", "no retention");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":1,\"risk\":\"extreme\"}", "hafen.json: purposes.chat.risk: expected", "AI Act",
	    "unknown risk");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":1,\"area\":\"hiring\"}", "hafen.json: purposes.chat.area: expected",
	    "Annex III point 4", "unknown area");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":1,\"class_floor\":\"internal\"}", "hafen.json: purposes.chat.class_floor: expected",
	    "data_classes", "floor outside the classes");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":1,\"colour\":\"red\"}", "hafen.json: purposes.chat.colour: unknown key", "key",
	    "unknown key");
	expect_reject("\"chat\":{\"description\":\"x\",\"lawful_basis\":\"a\",\"data_classes\":[\"public\"],"
	    "\"retention_days\":200,\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2025-01-01\","
	    "\"overseer\":\"A\"}}", "hafen.json: purposes.chat.high_risk.enabled: expected", "Art. 6(2)",
	    "high-risk mode on a minimal purpose");
	snprintf(p, sizeof p, HR_BASE, 365, ",\"high_risk\":{\"enabled\":true,\"overseer\":\"Dana Roth\"}");
	expect_reject(p, "hafen.json: purposes.hr.high_risk.workers_informed: missing", "Art. 26(7)",
	    "enabled without workers informed");
	snprintf(p, sizeof p, HR_BASE, 365, ",\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2025-02-30\","
	    "\"overseer\":\"Dana Roth\"}");
	expect_reject(p, "hafen.json: purposes.hr.high_risk.workers_informed: expected", "Art. 26(7)",
	    "impossible date");
	snprintf(p, sizeof p, HR_BASE, 365, ",\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2999-01-01\","
	    "\"overseer\":\"Dana Roth\"}");
	expect_reject(p, "hafen.json: purposes.hr.high_risk.workers_informed: expected", "Art. 26(7)",
	    "date in the future");
	snprintf(p, sizeof p, HR_BASE, 365, ",\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2025-01-15\"}");
	expect_reject(p, "hafen.json: purposes.hr.high_risk.overseer: missing", "Art. 14", "enabled without overseer");
	snprintf(p, sizeof p, HR_BASE, 90, ",\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2025-01-15\","
	    "\"overseer\":\"Dana Roth\"}");
	expect_reject(p, "hafen.json: purposes.hr.retention_days: 90 is below the 180 days", "Art. 19(1), 26(6)",
	    "enabled with short retention");
	expect_reject("\"chat\":[1]", "hafen.json: purposes.chat: expected an object", "object", "not an object");

	/* an HR purpose, off: loads, but requests are refused */
	snprintf(p, sizeof p, CHAT "," HR_BASE, 30, "");
	c = load(p, err);
	ok(c != NULL, "a high-risk purpose that is not enabled loads");
	if (c) {
		pu = purpose_registry_find(c->purposes, "hr");
		ok(pu && pu->high_risk && !pu->high_risk_enabled, "Annex III area makes it high-risk, disabled");
		check_request(c, "hr", DATA_CLASS_CONFIDENTIAL, 0, 3, -1, 0, "high_risk_purpose_disabled",
		    "high-risk purpose off");
		check_request(c, "marketing", DATA_CLASS_PUBLIC, 0, 3, -1, 0, "purpose_not_registered",
		    "unregistered purpose");
		check_request(c, "chat", DATA_CLASS_PUBLIC, 0, 3, 0, DATA_CLASS_PUBLIC, NULL, "allowed class");
		check_request(c, "chat", DATA_CLASS_RESTRICTED, 0, 3, -1, 0, "data_class_forbidden",
		    "class the purpose forbids");
		check_request(c, "chat", DATA_CLASS_PUBLIC, DATA_CLASS_CONFIDENTIAL, 3, 0, DATA_CLASS_CONFIDENTIAL, NULL,
		    "key floor raises the class");
		check_request(c, "chat", DATA_CLASS_CONFIDENTIAL, 0, DATA_CLASS_INTERNAL, -1, 0, "data_class_forbidden",
		    "class above the key's max_class");
	}
	config_unref(c);

	/* enabled with everything: loads and passes */
	snprintf(p, sizeof p, HR_BASE ",\"floor\":{\"description\":\"f\",\"lawful_basis\":\"c\","
	    "\"data_classes\":[\"internal\",\"confidential\"],\"class_floor\":\"internal\",\"retention_days\":5}",
	    180, ",\"risk\":\"minimal\",\"high_risk\":{\"enabled\":true,\"workers_informed\":\"2025-01-15\","
	    "\"overseer\":\"Dana Roth\"}");
	c = load(p, err);
	ok(c != NULL, "an enabled high-risk purpose with its preconditions loads");
	if (!c)
		tap_diag("%s", err);
	if (c) {
		pu = purpose_registry_find(c->purposes, "hr");
		ok(pu && pu->high_risk, "area wins over risk: minimal");
		is_str(pu ? pu->overseer : "", "Dana Roth", "overseer kept");
		is_str(pu ? pu->workers_informed : "", "2025-01-15", "workers_informed kept");
		check_request(c, "hr", DATA_CLASS_CONFIDENTIAL, 0, 3, 0, DATA_CLASS_CONFIDENTIAL, NULL,
		    "enabled high-risk purpose passes");
		check_request(c, "floor", DATA_CLASS_PUBLIC, 0, 3, 0, DATA_CLASS_INTERNAL, NULL,
		    "purpose floor raises the class");
	}
	config_unref(c);
	tap_done();
	return tap_exit_status();
}
