/* Continuous batching: model_forward_multi decodes several sequences in one
 * pass (contexts sharing one thread pool) and must give each sequence the
 * logits it gets when decoded alone: bit for bit with two sequences (the
 * same kernels run), within rounding with more (a batch of three or more
 * rows takes the f32 tile path).  The model is a tiny random one made by
 * hafen-engine make-model. */
#include "engine/model.h"
#include "tests/tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEQS 3
#define STEPS 6

static int argmax(const float *v, uint32_t n)
{
	int b = 0;
	for (uint32_t i = 1; i < n; i++)
		if (v[i] > v[b])
			b = (int)i;
	return b;
}

/* Normalized squared difference of two logit rows. */
static double nmse(const float *a, const float *b, uint32_t n)
{
	double num = 0, den = 0;
	for (uint32_t i = 0; i < n; i++) {
		num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		den += (double)b[i] * b[i];
	}
	return den > 0 ? num / den : num;
}

static void run_type(const char *bindir, const char *type)
{
	char model_path[256], cmd[1024], err[256];
	snprintf(model_path, sizeof model_path, "/tmp/hafen-test-multi-%d-%s.gguf", (int)getpid(), type);
	snprintf(cmd, sizeof cmd, "'%s/engine/hafen-engine' make-model --arch olmoe --preset tiny --type %s -o '%s'",
		bindir, type, model_path);
	if (!ok(system(cmd) == 0, "%s: make-model", type))
		return;
	struct model *m = model_load(model_path, err, sizeof err);
	unlink(model_path);
	if (!ok(m != NULL, "%s: load (%s)", type, m ? "ok" : err))
		return;
	uint32_t nv = model_hparams(m)->n_vocab;
	struct model_ctx *c[SEQS], *alone[SEQS];
	c[0] = model_ctx_new(m, 64, 2, err, sizeof err);
	for (int i = 1; i < SEQS; i++)
		c[i] = c[0] ? model_ctx_new_sharing(m, 64, c[0], err, sizeof err) : NULL;
	for (int i = 0; i < SEQS; i++)
		alone[i] = model_ctx_new(m, 64, 2, err, sizeof err);	/* same task split as c */
	float *lg = calloc((size_t)SEQS * nv, sizeof(float)), *la = calloc((size_t)SEQS * nv, sizeof(float));
	int ready = lg && la;
	for (int i = 0; i < SEQS; i++)
		ready = ready && c[i] && alone[i];
	if (!ok(ready, "%s: contexts sharing one pool", type))
		goto out;
	/* different prompt lengths: the sequences sit at different positions */
	int32_t tok[SEQS];
	for (int i = 0; i < SEQS; i++) {
		int32_t prompt[8];
		uint32_t len = 3 + 2 * (uint32_t)i;
		for (uint32_t t = 0; t < len; t++)
			prompt[t] = (int32_t)((7 + 13 * i + 5 * (int)t) % (int)nv);
		if (model_forward(c[i], prompt, len, lg + (size_t)i * nv, 0, err, sizeof err) < 0 ||
		    model_forward(alone[i], prompt, len, la + (size_t)i * nv, 0, err, sizeof err) < 0) {
			ok(0, "%s: prefill (%s)", type, err);
			goto out;
		}
		tok[i] = argmax(la + (size_t)i * nv, nv);
	}
	int exact2 = 1, close3 = 1, argmax3 = 1, rc = 0;
	double worst = 0;
	for (int step = 0; step < STEPS && rc == 0; step++) {
		/* two sequences first (exact), then all three: those steps round
		 * differently and their KV entries differ in the last bits */
		int n = step < STEPS / 2 ? 2 : SEQS;
		int32_t rows[SEQS] = { 2, 0, 1 };	/* outputs in another order */
		rc = model_forward_multi(c, tok, (uint32_t)n, lg, n == SEQS ? rows : NULL, err, sizeof err);
		for (int i = 0; i < n && rc == 0; i++)
			rc = model_forward(alone[i], &tok[i], 1, la + (size_t)i * nv, 0, err, sizeof err);
		for (int i = 0; i < n && rc == 0; i++) {
			const float *got = lg + (size_t)(n == SEQS ? rows[i] : i) * nv, *want = la + (size_t)i * nv;
			if (n == 2) {
				exact2 &= memcmp(got, want, nv * sizeof(float)) == 0;
			} else {
				double e = nmse(got, want, nv);
				worst = e > worst ? e : worst;
				close3 &= e < 1e-7;
				argmax3 &= argmax(got, nv) == argmax(want, nv);
			}
			tok[i] = argmax(want, nv);
		}
		if (n == 2)
			rc = rc ? rc : model_forward(alone[2], &tok[2], 1, la + 2 * (size_t)nv, 0, err, sizeof err);
		if (n == 2 && rc == 0)	/* keep the third sequence in step */
			rc = model_forward(c[2], &tok[2], 1, lg + 2 * (size_t)nv, 0, err, sizeof err);
		if (n == 2 && rc == 0)
			tok[2] = argmax(la + 2 * (size_t)nv, nv);
	}
	ok(rc == 0, "%s: %d decoding steps (%s)", type, STEPS, rc ? err : "ok");
	ok(exact2, "%s: two sequences in one pass == each alone, bit for bit", type);
	ok(close3, "%s: three sequences in one pass == each alone within rounding (worst %.1e)", type, worst);
	ok(argmax3, "%s: three sequences: same argmax", type);
	for (int i = 0; i < SEQS; i++)
		ok(model_ctx_pos(c[i]) == model_ctx_pos(alone[i]), "%s: sequence %d at position %u", type, i,
			model_ctx_pos(c[i]));
	/* errors: the same context twice, and a full context */
	struct model_ctx *twice[2] = { c[0], c[0] };
	ok(model_forward_multi(twice, tok, 2, lg, NULL, err, sizeof err) < 0 && strstr(err, "twice"),
		"%s: a sequence twice in one step is refused (%s)", type, err);
	int32_t bad[2] = { tok[0], (int32_t)nv };
	ok(model_forward_multi(c, bad, 2, lg, NULL, err, sizeof err) < 0 && strstr(err, "out of range"),
		"%s: a token out of range is refused (%s)", type, err);
out:
	for (int i = SEQS - 1; i >= 0; i--) {
		model_ctx_free(c[i]);	/* the sharing ones before the pool's owner */
		model_ctx_free(alone[i]);
	}
	free(lg);
	free(la);
	model_free(m);
}

int main(void)
{
	const char *bindir = getenv("top_builddir");
	if (!bindir)
		bindir = ".";
	run_type(bindir, "q4_0");
	run_type(bindir, "f32");
	tap_done();
	return 0;
}
