/* logits: run the forward pass over a token list and write float32
 * little-endian logits for every position, [n_tokens][n_vocab]. */
#include "engine/cmd.h"
#include "engine/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int logits_usage(void)
{
	fprintf(stderr, "usage: hafen-engine logits -m MODEL.gguf --tokens 1,2,3 -o OUT.bin [--threads N] "
		"[--scalar | --simd scalar|avx2|avx512] [--split N] [--load auto|mmap|copy]\n");
	return 2;
}

/* "1,2,3" -> ids; returns count or -1. */
static long logits_parse_tokens(const char *s, int32_t **out)
{
	size_t cap = 16, n = 0;
	int32_t *v = malloc(cap * sizeof *v);
	if (!v)
		return -1;
	while (*s) {
		char *end;
		errno = 0;
		long x = strtol(s, &end, 10);
		if (end == s || errno || x < 0 || x > INT32_MAX || (*end && *end != ',')) {
			free(v);
			return -1;
		}
		if (n == cap) {
			int32_t *nv = realloc(v, 2 * cap * sizeof *v);
			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
			cap *= 2;
		}
		v[n++] = (int32_t)x;
		s = *end ? end + 1 : end;
	}
	*out = v;
	return (long)n;
}

int cmd_logits_main(int argc, char **argv)
{
	const char *model_path = NULL, *toks = NULL, *out = NULL;
	int threads = 1, scalar = 0;
	const char *simd = NULL;
	long split = 0;
	enum gguf_load load = MODEL_LOAD_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--scalar") == 0) {
			scalar = 1;
			continue;
		}
		if (i + 1 >= argc)
			return logits_usage();
		if (strcmp(argv[i], "-m") == 0)
			model_path = argv[++i];
		else if (strcmp(argv[i], "--tokens") == 0)
			toks = argv[++i];
		else if (strcmp(argv[i], "-o") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--simd") == 0)
			simd = argv[++i];
		else if (strcmp(argv[i], "--split") == 0)	/* feed the first N as a batch, then one by one */
			split = atol(argv[++i]);
		else if (strcmp(argv[i], "--load") == 0 && model_load_parse(argv[++i], &load) == 0)
			continue;
		else
			return logits_usage();
	}
	if (!model_path || !toks || !out)
		return logits_usage();
	int32_t *ids = NULL;
	long n = logits_parse_tokens(toks, &ids);
	if (n <= 0) {
		fprintf(stderr, "hafen-engine logits: --tokens: expected comma-separated token ids\n");
		return 2;
	}
	char err[512];
	int rc = 1;
	struct model_ctx *c = NULL;
	float *logits = NULL;
	FILE *fp = NULL;
	struct model *m = model_load_mode(model_path, load, err, sizeof err);
	if (!m)
		goto fail;
	c = model_ctx_new(m, (uint32_t)n, threads, err, sizeof err);
	if (!c)
		goto fail;
	model_ctx_set_scalar(c, scalar);
	if (simd && model_ctx_set_simd(c, simd) < 0) {
		snprintf(err, sizeof err, "--simd %s: unknown or not supported by this CPU", simd);
		goto fail;
	}
	size_t nv = model_hparams(m)->n_vocab;
	logits = malloc((size_t)n * nv * sizeof(float));
	if (!logits) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	if (split <= 0 || split >= n) {
		if (model_forward(c, ids, (uint32_t)n, logits, 1, err, sizeof err) < 0)
			goto fail;
	} else {
		if (model_forward(c, ids, (uint32_t)split, logits, 1, err, sizeof err) < 0)
			goto fail;
		for (long t = split; t < n; t++)
			if (model_forward(c, ids + t, 1, logits + (size_t)t * nv, 1, err, sizeof err) < 0)
				goto fail;
	}
	fp = fopen(out, "wb");
	if (!fp || fwrite(logits, sizeof(float), (size_t)n * nv, fp) != (size_t)n * nv || fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, sizeof err, "%s: %s", out, strerror(errno));
		goto fail;
	}
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "hafen-engine logits: %s\n", err);
done:
	free(logits);
	model_ctx_free(c);
	model_free(m);
	free(ids);
	return rc;
}
