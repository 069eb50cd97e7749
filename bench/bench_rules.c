/* Benchmark of the rules side of the policy engine, each next to a peer
 * measured in the same run:
 *  1. streaming restorer over a 32 KiB answer in 4-byte pieces (SSE-token
 *     sized) vs the peer "re-restore the accumulated answer on every chunk"
 *     (what LLM Guard does with its output scanners);
 *  2. the answer guard (scanner + bounded hold-back) over the same answer in
 *     4-byte pieces vs one scan of the whole answer at the end (the floor);
 *  3. the request pipeline (walk + scan + decide + rewrite) of a 1 KiB and a
 *     32 KiB chat request vs the bare scanner over the same text.
 * Usage: bench_rules [packs_dir]   (default: $top_srcdir/policies/packs or ../policies/packs) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policies/policy.h"
#include "policies/restore.h"
#include "policies/rewrite.h"
#include "policies/scan.h"

/* Each figure is the best of BENCH_TRIALS runs: the build machine is shared. */
#define BENCH_TRIALS 7

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Mixed German/English business prose with personal data in it. */
static const char *const bench_sentences[] = {
	"Sehr geehrte Frau Schneider, vielen Dank für Ihre Nachricht vom 3. März. ",
	"Please send the updated invoice to anna.schneider@example.com by Friday. ",
	"Die Zahlung erfolgt auf das Konto IBAN DE89 3704 0044 0532 0130 00. ",
	"Our support line is +49 30 1234567, available Monday to Friday. ",
	"Das Projekt wurde im letzten Quartal planmäßig abgeschlossen. ",
	"Regards, Max Müller, Head of Procurement. ",
	"The meeting with the supplier has been moved to next Tuesday at 10:00. ",
	"Bitte prüfen Sie die beigefügten Unterlagen und geben Sie uns Rückmeldung. ",
};

static char *bench_text(size_t len)
{
	char *t = malloc(len + 1);
	size_t n = 0, i = 0;
	while (n < len) {
		const char *s = bench_sentences[i++ % (sizeof bench_sentences / sizeof bench_sentences[0])];
		size_t k = strlen(s);
		if (k > len - n)
			k = len - n;
		memcpy(t + n, s, k);
		n += k;
	}
	t[len] = '\0';
	return t;
}

/* An answer that mentions placeholders every ~150 bytes. */
static char *bench_answer(size_t len)
{
	static const char *const parts[] = {
		"I have drafted the reply to <PERSON_1> as requested. ",
		"The invoice goes to <EMAIL_1> and the payment to <IBAN_1>. ",
		"If anything is unclear, <PERSON_2> can be reached at <PHONE_1>. ",
	};
	char *t = malloc(len + 1);
	size_t n = 0, i = 0;
	while (n < len) {
		const char *s = parts[i++ % 3];
		size_t k = strlen(s);
		if (k > len - n)
			k = len - n;
		memcpy(t + n, s, k);
		n += k;
	}
	t[len] = '\0';
	return t;
}

static struct rewrite_map *bench_map(void)
{
	struct rewrite_map *m = rewrite_map_new();
	rewrite_map_placeholder(m, "PERSON", "Anna Schneider", 14);
	rewrite_map_placeholder(m, "PERSON", "Max Müller", 11);
	rewrite_map_placeholder(m, "EMAIL", "anna.schneider@example.com", 26);
	rewrite_map_placeholder(m, "IBAN", "DE89 3704 0044 0532 0130 00", 27);
	rewrite_map_placeholder(m, "PHONE", "+49 30 1234567", 14);
	return m;
}

static void bench_restore(size_t len, size_t piece)
{
	struct rewrite_map *m = bench_map();
	char *ans = bench_answer(len);
	int reps = 50;
	size_t sink = 0;
	double ours = 1e9;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
	double t0 = bench_now();
	for (int r = 0; r < reps; r++) {
		struct restore_stream *rs = restore_stream_new(m);
		const char *out;
		size_t n;
		for (size_t i = 0; i < len; i += piece) {
			restore_stream_feed(rs, ans + i, len - i < piece ? len - i : piece, &out, &n);
			sink += n;
		}
		restore_stream_finish(rs, &out, &n);
		sink += n;
		restore_stream_free(rs);
	}
	double t = (bench_now() - t0) / reps;
	ours = t < ours ? t : ours;
	}

	/* Peer: restore the whole accumulated answer again on each chunk and
	 * send the part not sent yet. */
	int peer_reps = 1;
	double t0 = bench_now();
	for (int r = 0; r < peer_reps; r++) {
		for (size_t i = piece; i < len + piece; i += piece) {
			size_t upto = i < len ? i : len;
			struct restore_stream *rs = restore_stream_new(m);
			const char *out;
			size_t n;
			restore_stream_feed(rs, ans, upto, &out, &n);
			sink += n;
			restore_stream_free(rs);
		}
	}
	double peer = (bench_now() - t0) / peer_reps;
	printf("restore   %6zu B answer, %zu-byte pieces: streaming %8.1f us (%7.1f MB/s) | peer re-restore per chunk %10.1f us (%7.2f MB/s)  [%zu]\n",
	       len, piece, ours * 1e6, (double)len / ours / 1e6, peer * 1e6, (double)len / peer / 1e6, sink % 10);
	free(ans);
	rewrite_map_free(m);
}

static void bench_guard(const struct policy_set *set, const struct policy_scanner *sc, size_t len, size_t piece)
{
	char *ans = bench_text(len);
	struct policy_context ctx = { NULL, NULL, NULL, POLICY_DIRECTION_RESPONSE, 0 };
	struct policy_scan_adapter sa = { .scanner = sc };
	policy_findings_init(&sa.findings);
	char err[128];
	int reps = 10;
	size_t sink = 0;
	double ours = 1e9, peer = 1e9;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
	double t0 = bench_now();
	for (int r = 0; r < reps; r++) {
		struct restore_guard *g = restore_guard_new(set, &ctx, policy_scan_adapter_fn, &sa);
		const char *out;
		size_t n;
		for (size_t i = 0; i < len; i += piece) {
			restore_guard_feed(g, ans + i, len - i < piece ? len - i : piece, &out, &n, err, sizeof err);
			sink += n;
		}
		restore_guard_finish(g, &out, &n, err, sizeof err);
		sink += n;
		restore_guard_free(g);
	}
	double t = (bench_now() - t0) / reps;
	ours = t < ours ? t : ours;
	t0 = bench_now();
	for (int r = 0; r < reps; r++) {
		policy_findings_clear(&sa.findings);
		policy_scan_text(sc, ans, len, &sa.findings);
		sink += sa.findings.n;
	}
	t = (bench_now() - t0) / reps;
	peer = t < peer ? t : peer;
	}
	/* Peer 2: rescan the whole accumulated answer on every chunk (LLM Guard). */
	double t0 = bench_now();
	for (size_t i = piece; i < len + piece; i += piece) {
		policy_findings_clear(&sa.findings);
		policy_scan_text(sc, ans, i < len ? i : len, &sa.findings);
		sink += sa.findings.n;
	}
	double rescan = bench_now() - t0;
	printf("guard     %6zu B answer, %zu-byte pieces: streaming %8.1f us (%6.1f MB/s) | peer one scan at the end %8.1f us (%6.1f MB/s) | peer rescan per chunk %10.1f us (%6.2f MB/s)  [%zu]\n",
	       len, piece, ours * 1e6, (double)len / ours / 1e6, peer * 1e6, (double)len / peer / 1e6,
	       rescan * 1e6, (double)len / rescan / 1e6, sink % 10);
	policy_findings_free(&sa.findings);
	free(ans);
}

static void bench_request(const struct policy_set *set, const struct policy_scanner *sc, size_t len)
{
	char *text = bench_text(len);
	struct policy_context ctx = { "support", NULL, "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	struct policy_scan_adapter sa = { .scanner = sc };
	policy_findings_init(&sa.findings);
	char err[256];
	int reps = len > 4096 ? 20 : 200;
	size_t sink = 0;
	double ours = 1e9, peer = 1e9;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
	double t_total = 0;
	for (int r = 0; r < reps; r++) {
		json_t *body = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}]}", "model", "m", "messages",
					 "role", "system", "content", "You are a helpful assistant.",
					 "role", "user", "content", text);
		double t0 = bench_now();
		struct policy_request *req = policy_request_new(set, &ctx);
		policy_request_apply(req, body, policy_scan_adapter_fn, &sa, err, sizeof err);
		sink += policy_request_decision(req)->n_findings;
		policy_request_free(req);
		t_total += bench_now() - t0;
		json_decref(body);
	}
	ours = t_total / reps < ours ? t_total / reps : ours;
	double t0 = bench_now();
	for (int r = 0; r < reps; r++) {
		policy_findings_clear(&sa.findings);
		policy_scan_text(sc, text, len, &sa.findings);
		sink += sa.findings.n;
	}
	double t = (bench_now() - t0) / reps;
	peer = t < peer ? t : peer;
	}
	printf("request   %6zu B prompt: walk+scan+decide+rewrite %8.2f us | peer bare scan %8.2f us | rules overhead %6.2f us  [%zu]\n",
	       len, ours * 1e6, peer * 1e6, (ours - peer) * 1e6, sink % 10);
	policy_findings_free(&sa.findings);
	free(text);
}

int main(int argc, char **argv)
{
	char dir[4096];
	if (argc > 1)
		snprintf(dir, sizeof dir, "%s", argv[1]);
	else
		snprintf(dir, sizeof dir, "%s/policies/packs", getenv("top_srcdir") ? getenv("top_srcdir") : "..");
	static const char *const packs[] = { "gdpr-default.json", "secrets.json", "special-categories.json" };
	struct policy_set *set = policy_set_new();
	char err[512], path[4200];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, packs[i]);
		if (policy_file_load(set, path, err, sizeof err) < 0) {
			fprintf(stderr, "bench_rules: %s\n", err);
			return 1;
		}
	}
	struct policy_scanner *sc = policy_set_scanner_new(set, err, sizeof err);
	if (!sc) {
		fprintf(stderr, "bench_rules: %s\n", err);
		return 1;
	}
	bench_restore(1024, 4);
	bench_restore(32768, 4);
	bench_guard(set, sc, 1024, 4);
	bench_guard(set, sc, 32768, 4);
	bench_request(set, sc, 1024);
	bench_request(set, sc, 32768);
	policy_scanner_free(sc);
	policy_set_free(set);
	return 0;
}
