/* The streaming restorer and the answer guard, piece by piece. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"
#include "policies/restore.h"
#include "policies/rewrite.h"
#include "tests/tap.h"

struct acc {
	char buf[65536];
	size_t n;
};

static void acc_put(struct acc *a, const char *s, size_t n)
{
	if (a->n + n < sizeof a->buf) {
		memcpy(a->buf + a->n, s, n);
		a->n += n;
		a->buf[a->n] = '\0';
	}
}

static struct rewrite_map *make_map(void)
{
	struct rewrite_map *m = rewrite_map_new();
	rewrite_map_placeholder(m, "PERSON", "Max Müller", strlen("Max Müller"));
	rewrite_map_placeholder(m, "EMAIL", "max@example.com", 15);
	rewrite_map_placeholder(m, "PERSON", "Erika Mustermann", 16);
	/* Ten people, so <PERSON_1> is also a prefix of <PERSON_10>. */
	for (int i = 3; i <= 10; i++) {
		char v[16];
		snprintf(v, sizeof v, "P%d", i);
		rewrite_map_placeholder(m, "PERSON", v, strlen(v));
	}
	return m;
}

static const char *answer =
	"Dear <PERSON_1>, write to <EMAIL_1> or ask <PERSON_2>. <PERSON_10>! "
	"Not ours: <PERSON_11>, <EMAIL_2>, <person_1>, a<b, <<PERSON_1>>, <PERSON_1";
static const char *restored =
	"Dear Max Müller, write to max@example.com or ask Erika Mustermann. P10! "
	"Not ours: <PERSON_11>, <EMAIL_2>, <person_1>, a<b, <Max Müller>, <PERSON_1";

static void test_whole(void)
{
	struct rewrite_map *m = make_map();
	struct restore_stream *rs = restore_stream_new(m);
	struct acc a = { .n = 0 };
	const char *out;
	size_t n;
	ok(restore_stream_feed(rs, answer, strlen(answer), &out, &n) == 0, "feed whole answer");
	acc_put(&a, out, n);
	is_str(a.buf, "Dear Max Müller, write to max@example.com or ask Erika Mustermann. P10! "
		      "Not ours: <PERSON_11>, <EMAIL_2>, <person_1>, a<b, <Max Müller>, ",
	       "everything but the trailing partial placeholder is released at once");
	restore_stream_finish(rs, &out, &n);
	acc_put(&a, out, n);
	is_str(a.buf, restored, "finish releases the partial placeholder unchanged");
	restore_stream_free(rs);
	rewrite_map_free(m);
}

/* Split at every byte position into two pieces. */
static void test_two_pieces(void)
{
	struct rewrite_map *m = make_map();
	size_t len = strlen(answer);
	int all_exact = 1, bounded = 1;
	for (size_t cut = 0; cut <= len; cut++) {
		struct restore_stream *rs = restore_stream_new(m);
		struct acc a = { .n = 0 };
		const char *out;
		size_t n;
		restore_stream_feed(rs, answer, cut, &out, &n);
		acc_put(&a, out, n);
		/* What the first piece held back is at most a partial placeholder. */
		struct restore_stream *probe = restore_stream_new(m);
		const char *pout;
		size_t pn;
		restore_stream_feed(probe, answer, cut, &pout, &pn);
		restore_stream_finish(probe, &pout, &pn);
		if (pn >= REWRITE_PLACEHOLDER_MAX || (pn && !rewrite_map_is_partial(m, pout, pn)))
			bounded = 0;
		restore_stream_free(probe);
		restore_stream_feed(rs, answer + cut, len - cut, &out, &n);
		acc_put(&a, out, n);
		restore_stream_finish(rs, &out, &n);
		acc_put(&a, out, n);
		if (strcmp(a.buf, restored) != 0) {
			all_exact = 0;
			tap_diag("cut %zu: %s", cut, a.buf);
		}
		restore_stream_free(rs);
	}
	ok(all_exact, "exact for a split at every byte position");
	ok(bounded, "held back only a proper prefix of a placeholder");
	rewrite_map_free(m);
}

/* One byte per piece; a byte that cannot continue a placeholder comes out at once. */
static void test_one_byte_pieces(void)
{
	struct rewrite_map *m = make_map();
	struct restore_stream *rs = restore_stream_new(m);
	struct acc a = { .n = 0 };
	size_t len = strlen(answer);
	int prompt = 1;
	for (size_t i = 0; i < len; i++) {
		const char *out;
		size_t n;
		restore_stream_feed(rs, answer + i, 1, &out, &n);
		acc_put(&a, out, n);
		if (answer[i] != '<' && answer[i] != '>' && !(answer[i] >= 'A' && answer[i] <= 'Z') &&
		    answer[i] != '_' && !(answer[i] >= '0' && answer[i] <= '9') && n == 0)
			prompt = 0; /* plain text must never wait */
	}
	const char *out;
	size_t n;
	restore_stream_finish(rs, &out, &n);
	acc_put(&a, out, n);
	is_str(a.buf, restored, "exact across one-byte pieces");
	ok(prompt, "plain bytes are released immediately");
	restore_stream_free(rs);

	/* Every placeholder split into one-byte pieces gives its value exactly
	 * when the '>' arrives, and nothing before. */
	rs = restore_stream_new(m);
	const char *ph = "<PERSON_2>";
	int held = 1;
	for (size_t i = 0; i + 1 < strlen(ph); i++) {
		restore_stream_feed(rs, ph + i, 1, &out, &n);
		held &= n == 0;
	}
	restore_stream_feed(rs, ">", 1, &out, &n);
	ok(held, "a placeholder in progress is held");
	ok(n == 16 && memcmp(out, "Erika Mustermann", 16) == 0, "and restored on its last byte");
	restore_stream_free(rs);
	rewrite_map_free(m);
}

static void test_empty_map(void)
{
	struct rewrite_map *m = rewrite_map_new();
	struct restore_stream *rs = restore_stream_new(m);
	const char *out;
	size_t n;
	restore_stream_feed(rs, "x <PERSON_1", 11, &out, &n);
	is_int(n, 11, "empty map: nothing is held");
	restore_stream_free(rs);
	rewrite_map_free(m);
}

/* Tool-call arguments are JSON source: originals go back escaped. */
static void test_json_mode(void)
{
	struct rewrite_map *m = rewrite_map_new();
	const char *orig = "Max \"Boss\" M\xc3\xbcller\\x\n";
	rewrite_map_placeholder(m, "PERSON", orig, strlen(orig));
	const char *args = "{\"to\":\"<PERSON_1>\",\"n\":1}";
	struct acc a = { .n = 0 };
	for (size_t cut = 0; cut <= strlen(args); cut++) {
		struct restore_stream *rs = restore_stream_new_json(m);
		const char *out;
		size_t n;
		a.n = 0;
		restore_stream_feed(rs, args, cut, &out, &n);
		acc_put(&a, out, n);
		restore_stream_feed(rs, args + cut, strlen(args) - cut, &out, &n);
		acc_put(&a, out, n);
		restore_stream_finish(rs, &out, &n);
		acc_put(&a, out, n);
		restore_stream_free(rs);
		if (strcmp(a.buf, "{\"to\":\"Max \\\"Boss\\\" M\xc3\xbcller\\\\x\\u000a\",\"n\":1}") != 0)
			break;
	}
	is_str(a.buf, "{\"to\":\"Max \\\"Boss\\\" M\xc3\xbcller\\\\x\\u000a\",\"n\":1}", "JSON mode escapes the original, at every split");
	json_t *j = json_loads(a.buf, 0, NULL);
	is_str(j ? json_string_value(json_object_get(j, "to")) : NULL, orig, "and the arguments parse back to the original");
	json_decref(j);
	rewrite_map_free(m);
}

/* ---- guard ---- */

static struct policy_set *guard_set(void)
{
	/* Custom patterns stand in for the scanner's secret detectors here; the
	 * guard treats every finding alike. */
	const char *json =
		"{\"detectors\":["
		"{\"id\":\"aws\",\"entity\":\"aws_access_key\",\"pattern\":\"AKIA[A-Z0-9]{16}\",\"class\":\"restricted\"},"
		"{\"id\":\"iban\",\"entity\":\"iban\",\"pattern\":\"DE\\\\d{2} \\\\d{4} \\\\d{4} \\\\d{4} \\\\d{4} \\\\d{2}\"},"
		"{\"id\":\"pw\",\"entity\":\"password\",\"pattern\":\"password: [\\\\w]{8,32}\",\"class\":\"restricted\"}"
		"],\"rules\":["
		"{\"id\":\"answer-secrets\",\"groups\":[\"secret\",\"financial\"],\"direction\":\"response\",\"action\":\"redact\"}"
		"]}";
	struct policy_set *set = policy_set_new();
	char err[256];
	if (policy_file_load_buffer(set, "guard.json", json, strlen(json), err, sizeof err) < 0) {
		tap_diag("%s", err);
		policy_set_free(set);
		return NULL;
	}
	return set;
}

static const char *leak = "Here: AKIAIOSFODNN7EXAMPLE and IBAN DE89 3704 0044 0532 0130 00 ok. password: hunter2secret!";
static const char *leak_safe = "Here: [AWS_ACCESS_KEY] and IBAN [IBAN] ok. password: [PASSWORD]!";

static const struct policy_scanner *guard_scanner;

static void guard_run(struct policy_set *set, const char *const *pieces, const size_t *lens,
		      size_t n_pieces, struct acc *a, struct restore_guard_stats *st)
{
	struct policy_context ctx = { "support", NULL, NULL, POLICY_DIRECTION_RESPONSE, 0 };
	struct policy_scan_adapter sa = { .scanner = guard_scanner };
	policy_findings_init(&sa.findings);
	struct restore_guard *g = guard_scanner ? restore_guard_new(set, &ctx, policy_scan_adapter_fn, &sa)
						: restore_guard_new(set, &ctx, NULL, NULL);
	char err[128];
	const char *out;
	size_t n;
	for (size_t i = 0; i < n_pieces; i++) {
		restore_guard_feed(g, pieces[i], lens[i], &out, &n, err, sizeof err);
		acc_put(a, out, n);
	}
	restore_guard_finish(g, &out, &n, err, sizeof err);
	acc_put(a, out, n);
	restore_guard_get_stats(g, st);
	restore_guard_free(g);
	policy_findings_free(&sa.findings);
}

static void test_guard(struct policy_set *set, const char *how)
{
	tap_diag("guard %s", how);
	size_t len = strlen(leak);
	struct restore_guard_stats st;
	int all = 1;
	for (size_t cut = 0; cut <= len; cut++) {
		const char *pieces[2] = { leak, leak + cut };
		size_t lens[2] = { cut, len - cut };
		struct acc a = { .n = 0 };
		guard_run(set, pieces, lens, 2, &a, &st);
		if (strcmp(a.buf, leak_safe) != 0 || st.n_redacted != 3) {
			all = 0;
			tap_diag("cut %zu: %s", cut, a.buf);
		}
	}
	ok(all, "secrets split at every byte position are redacted");

	const char *pieces[256];
	size_t lens[256];
	for (size_t i = 0; i < len; i++) {
		pieces[i] = leak + i;
		lens[i] = 1;
	}
	struct acc a = { .n = 0 };
	guard_run(set, pieces, lens, len, &a, &st);
	is_str(a.buf, leak_safe, "secrets across one-byte pieces are redacted");
	is_int(st.n_redacted, 3, "three redactions counted");
	is_int(st.data_class, DATA_CLASS_RESTRICTED, "answer class");

	if (guard_scanner) {
		/* A builtin secret detector (not a custom pattern), split into pieces. */
		const char *gh = "Use ghp_16C7e42F292c6912E7710c838347Ae178B4a now.";
		size_t gl = strlen(gh);
		const char *gp[128];
		size_t gls[128];
		for (size_t i = 0; i < gl; i++) {
			gp[i] = gh + i;
			gls[i] = 1;
		}
		struct acc ga = { .n = 0 };
		guard_run(set, gp, gls, gl, &ga, &st);
		is_str(ga.buf, "Use [GITHUB_TOKEN] now.", "builtin secret across one-byte pieces is redacted");
	}

	/* Plain prose is released up to its last word at once. */
	struct policy_context ctx = { NULL, NULL, NULL, POLICY_DIRECTION_RESPONSE, 0 };
	struct restore_guard *g = restore_guard_new(set, &ctx, NULL, NULL);
	char err[128];
	const char *out;
	size_t n;
	restore_guard_feed(g, "Hello wor", 9, &out, &n, err, sizeof err);
	ok(n == 6 && memcmp(out, "Hello ", 6) == 0, "only the unfinished word is held");
	restore_guard_free(g);

	/* A PEM block is held until its END line, and an endless one is cut. */
	g = restore_guard_new(set, &ctx, NULL, NULL);
	const char *pem1 = "key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n";
	restore_guard_feed(g, pem1, strlen(pem1), &out, &n, err, sizeof err);
	ok(n == 5 && memcmp(out, "key:\n", 5) == 0, "PEM body is held back");
	const char *pem2 = "abcdefgh\n-----END PRIVATE KEY-----\nbye ";
	restore_guard_feed(g, pem2, strlen(pem2), &out, &n, err, sizeof err);
	ok(n > 0 && memmem(out, n, "-----END PRIVATE KEY-----", 25) != NULL, "released whole once END arrives (for the scanner)");
	restore_guard_free(g);

	/* A complete block after an unterminated one does not release the first. */
	g = restore_guard_new(set, &ctx, NULL, NULL);
	const char *two = "a -----BEGIN PRIVATE KEY-----\nSECRETSECRET\n b -----BEGIN CERTIFICATE-----\nCCC\n-----END CERTIFICATE-----\n c ";
	restore_guard_feed(g, two, strlen(two), &out, &n, err, sizeof err);
	ok(n == 2 && memcmp(out, "a ", 2) == 0, "unterminated first block held although a later one is complete");
	restore_guard_finish(g, &out, &n, err, sizeof err);
	ok(memmem(out, n, "SECRET", 6) == NULL && memmem(out, n, "[PRIVATE_KEY]", 13) != NULL,
	   "and redacted at the end of the answer");
	restore_guard_free(g);

	/* Dashes before the marker (a rule, six dashes, a lone one at the
	 * end) do not hide it: the first BEGIN is found after them. */
	g = restore_guard_new(set, &ctx, NULL, NULL);
	const char *dashes = "- -- ---------- x ------BEGIN PRIVATE KEY-----\nSECRETSECRET\n";
	restore_guard_feed(g, dashes, strlen(dashes), &out, &n, err, sizeof err);
	ok(n == 19 && memcmp(out, "- -- ---------- x -", 19) == 0, "BEGIN after a run of dashes: held back from its first dash on");
	restore_guard_free(g);
	g = restore_guard_new(set, &ctx, NULL, NULL);
	restore_guard_feed(g, "rule -----\n", 11, &out, &n, err, sizeof err);
	ok(n == 11, "dashes without BEGIN are released");
	restore_guard_free(g);

	g = restore_guard_new(set, &ctx, NULL, NULL);
	restore_guard_feed(g, "x -----BEGIN PRIVATE KEY-----\n", 30, &out, &n, err, sizeof err);
	char chunk[1024];
	memset(chunk, 'A', sizeof chunk);
	int quiet = 1;
	struct acc b = { .n = 0 };
	for (int i = 0; i < 20; i++) {
		restore_guard_feed(g, chunk, sizeof chunk, &out, &n, err, sizeof err);
		acc_put(&b, out, n);
		if (i < 15)
			quiet &= n == 0;
	}
	ok(quiet, "nothing of an unterminated PEM block is released below the bound");
	ok(strstr(b.buf, "[PRIVATE_KEY]") != NULL && strstr(b.buf, "AAAA") == NULL && strstr(b.buf, "BEGIN") == NULL,
	   "at the bound the block is redacted whole");
	restore_guard_free(g);
}

int main(void)
{
	test_whole();
	test_two_pieces();
	test_one_byte_pieces();
	test_empty_map();
	test_json_mode();
	struct policy_set *set = guard_set();
	if (ok(set != NULL, "guard policy loads")) {
		test_guard(set, "with its custom detectors in a pass of their own");
		char err[256];
		struct policy_scanner *sc = policy_set_scanner_new(set, err, sizeof err);
		if (!ok(sc != NULL, "scanner for the guard"))
			tap_diag("%s", err);
		guard_scanner = sc;
		test_guard(set, "with the real scanner (builtin and custom detectors)");
		policy_scanner_free(sc);
	}
	policy_set_free(set);
	tap_done();
	return tap_exit_status();
}
