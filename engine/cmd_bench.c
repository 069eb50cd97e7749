/* bench: prefill and decode speed on a model, with the bytes of weights each
 * decoded token reads (all non-expert matrices plus the selected experts'
 * share) so that the caller can compare against the memory bandwidth. */
#include "engine/cmd.h"
#include "engine/model.h"
#include "engine/simd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the whole process (all threads, user + system): with
 * --threads 1 on a shared machine the CPU time per token moves far less
 * with the load than the wall clock does. */
static double bench_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Page faults (minor + major) of the process: what the file mapping costs
 * while decoding. */
static long bench_faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static int bench_usage(void)
{
	fprintf(stderr, "usage: hafen-engine bench -m MODEL.gguf [-p 128] [-n 32] [--threads N] [--reps R] [--scalar] [--load auto|mmap|copy]\n");
	return 2;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Weight bytes read per decoded token. */
static double bench_active_bytes(const struct model *m)
{
	const struct gguf_file *g = model_gguf(m);
	const struct model_hparams *hp = model_hparams(m);
	double total = 0;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];
		if (strcmp(t->name, "token_embd.weight") == 0)
			continue;	/* one row per token */
		if (strstr(t->name, "_exps.") && hp->n_expert)
			total += (double)t->size * hp->n_expert_used / hp->n_expert;
		else
			total += (double)t->size;
	}
	return total;
}

int cmd_bench_main(int argc, char **argv)
{
	const char *path = NULL;
	int n_prompt = 128, n_gen = 32, threads = 2, reps = 3, scalar = 0;
	enum gguf_load load = MODEL_LOAD_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--scalar") == 0) {
			scalar = 1;
			continue;
		}
		if (i + 1 >= argc)
			return bench_usage();
		if (strcmp(argv[i], "-m") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "-p") == 0)
			n_prompt = atoi(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0)
			n_gen = atoi(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--load") == 0 && model_load_parse(argv[++i], &load) == 0)
			continue;
		else
			return bench_usage();
	}
	if (!path || n_prompt < 1 || n_gen < 1 || reps < 1 || reps > 100)
		return bench_usage();
	char err[512];
	double tl = bench_now();
	struct model *m = model_load_mode(path, load, err, sizeof err);
	tl = bench_now() - tl;
	if (!m) {
		fprintf(stderr, "hafen-engine bench: %s\n", err);
		return 1;
	}
	const struct model_hparams *hp = model_hparams(m);
	struct model_ctx *c = model_ctx_new(m, (uint32_t)(n_prompt + n_gen), threads, err, sizeof err);
	float *logits = malloc((size_t)hp->n_vocab * sizeof(float));
	int32_t *toks = malloc((size_t)n_prompt * sizeof(int32_t));
	double *pp = calloc((size_t)reps, sizeof(double)), *tg = calloc((size_t)reps, sizeof(double));
	double *tg_seq = calloc((size_t)reps, sizeof(double)), *cpu = calloc((size_t)reps, sizeof(double));
	long faults = 0;
	struct model_profile prof[100];	/* reps <= 100 */
	int rc = 1;
	if (!c || !logits || !toks || !pp || !tg || !tg_seq || !cpu) {
		fprintf(stderr, "hafen-engine bench: %s\n", c ? "out of memory" : err);
		goto done;
	}
	model_ctx_set_scalar(c, scalar);
	uint64_t s = 12345;
	for (int i = 0; i < n_prompt; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		toks[i] = (int32_t)((s >> 33) % hp->n_vocab);
	}
	for (int r = 0; r < reps; r++) {
		model_ctx_reset(c);
		double t0 = bench_now();
		if (model_forward(c, toks, (uint32_t)n_prompt, logits, 0, err, sizeof err) < 0)
			goto fail;
		model_ctx_profile_reset(c);
		double t1 = bench_now(), c1 = bench_cpu();
		long f1 = bench_faults();
		int32_t tok = toks[0];
		for (int i = 0; i < n_gen; i++) {
			if (model_forward(c, &tok, 1, logits, 0, err, sizeof err) < 0)
				goto fail;
			tok = (tok + 7) % (int32_t)hp->n_vocab;
		}
		double t2 = bench_now();
		cpu[r] = (bench_cpu() - c1) * 1e3 / n_gen;
		model_ctx_profile(c, &prof[r]);
		faults += bench_faults() - f1;
		pp[r] = n_prompt / (t1 - t0);
		tg[r] = n_gen / (t2 - t1);
		tg_seq[r] = tg[r];	/* in run order: the first rep pays for faults */
	}
	qsort(pp, (size_t)reps, sizeof *pp, bench_cmp);
	qsort(tg, (size_t)reps, sizeof *tg, bench_cmp);
	double bytes = bench_active_bytes(m);
	printf("{\"model\":\"%s\",\"arch\":\"%s\",\"threads\":%d,\"simd\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,"
	       "\"reps\":%d,\"prefill_tok_s\":%.2f,\"decode_tok_s\":%.2f,\"active_bytes_per_token\":%.0f,"
	       "\"decode_gb_s\":%.2f,\"load\":\"%s\",\"copied\":%s,\"load_s\":%.2f,\"decode_tok_s_reps\":[",
		path, hp->arch, threads, simd_level_name(scalar ? SIMD_LEVEL_SCALAR : simd_detect()), n_prompt, n_gen,
		reps, pp[reps / 2], tg[reps / 2], bytes, tg[reps / 2] * bytes / 1e9, model_load_name(load),
		model_gguf(m)->copy ? "true" : "false", tl);
	for (int r = 0; r < reps; r++)
		printf("%s%.2f", r ? "," : "", tg_seq[r]);
	qsort(cpu, (size_t)reps, sizeof *cpu, bench_cmp);
	/* the breakdown of the rep with the median decode speed */
	const struct model_profile *pm = &prof[0];
	for (int r = 0; r < reps; r++)
		if (tg_seq[r] == tg[reps / 2])
			pm = &prof[r];
	printf("],\"decode_cpu_ms_per_token\":%.2f,\"decode_faults_per_token\":%.1f,"
	       "\"decode_ms_per_token\":{\"attention\":%.2f,\"ffn\":%.2f,\"head\":%.2f,\"in_regions\":%.2f,"
	       "\"region_tails\":%.2f,\"regions\":%.1f},",
		cpu[reps / 2], (double)faults / ((double)reps * n_gen), pm->attn_s * 1e3 / n_gen, pm->ffn_s * 1e3 / n_gen,
		pm->head_s * 1e3 / n_gen, pm->region_s * 1e3 / n_gen, pm->tail_s * 1e3 / n_gen,
		(double)pm->regions / n_gen);
	/* every rep's breakdown in run order, so that reps can be classified
	 * by their speed (the host's read bandwidth changes between reps):
	 * [tok/s, attention, ffn, head, in regions, region tails, attention's
	 * part over the KV cache] in ms/token */
	printf("\"decode_ms_per_token_reps\":[");
	for (int r = 0; r < reps; r++)
		printf("%s[%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f]", r ? "," : "", tg_seq[r], prof[r].attn_s * 1e3 / n_gen,
			prof[r].ffn_s * 1e3 / n_gen, prof[r].head_s * 1e3 / n_gen, prof[r].region_s * 1e3 / n_gen,
			prof[r].tail_s * 1e3 / n_gen, prof[r].kv_s * 1e3 / n_gen);
	printf("]}\n");
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "hafen-engine bench: %s\n", err);
done:
	free(pp);
	free(tg);
	free(tg_seq);
	free(cpu);
	free(toks);
	free(logits);
	model_ctx_free(c);
	model_free(m);
	return rc;
}
