/* Fuzz the GGUF reader and the model loader on top of it; when a model
 * binds, run two tokens through the forward pass (shapes were validated, so
 * nothing may read outside the tensors), once over the buffer as a mapping
 * serves it and once over a copy that the loader repacks, which must give
 * the same logits. */
#include "engine/gguf.h"
#include "engine/model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load a model from g (taking it) and run two tokens through it: the
 * logits of both, or NULL when the model does not bind or run. */
static float *fuzz_gguf_logits(struct gguf_file *g, size_t *n_vocab_out)
{
	char err[256];
	struct model *m = model_load_gguf(g, err, sizeof err);
	if (!m)
		return NULL;
	size_t n_vocab = model_hparams(m)->n_vocab;
	struct model_ctx *c = model_ctx_new(m, 4, 1, err, sizeof err);
	float *logits = malloc(2 * n_vocab * sizeof(float));
	int32_t tok[2] = { 0, (int32_t)(n_vocab - 1) };
	if (!c || !logits || model_forward(c, tok, 2, logits, 1, err, sizeof err) < 0) {
		free(logits);
		logits = NULL;
	}
	model_ctx_free(c);
	model_free(m);
	if (n_vocab_out)
		*n_vocab_out = n_vocab;
	return logits;
}

/* Bit for bit, except that a NaN matches any NaN: fuzzed weights make
 * NaNs whose payload depends on which operand carried it. */
static int fuzz_gguf_same(const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof a[i]) != 0 && !(isnan(a[i]) && isnan(b[i])))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an aligned private copy, as mmap would give */
	uint8_t *buf = aligned_alloc(64, (size + 63) / 64 * 64 + 64);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char err[256];
	struct gguf_file *g = gguf_open_memory(buf, size, err, sizeof err);
	if (!g) {
		free(buf);
		return 0;
	}
	volatile size_t sink = 0;
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct gguf_kv *kv = &g->kv[i];
		size_t len;
		uint32_t u;
		float f;
		int64_t s;
		if (kv->type == GGUF_TYPE_STRING && gguf_get_str(g, kv->key, &len))
			sink += len;
		if (kv->type == GGUF_TYPE_ARRAY && kv->arr_type == GGUF_TYPE_STRING)
			for (uint64_t j = 0; j < kv->n && j < 64; j++) {
				const char *str = gguf_get_arr_str_at(g, (int64_t)i, j, &len);
				if (str && len)
					sink += (unsigned char)str[len - 1];
			}
		if (gguf_get_u32(g, kv->key, &u) == 0)
			sink += u;
		if (gguf_get_i64(g, kv->key, &s) == 0)
			sink += (size_t)s;
		if (gguf_get_f32(g, kv->key, &f) == 0)
			sink += (size_t)(f != f);
	}
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].size)
			sink += ((const uint8_t *)g->tensors[i].data)[g->tensors[i].size - 1];
	float *logits = fuzz_gguf_logits(g, NULL);
	/* the copy loader's path: the same bytes in memory of their own, Q4_0
	 * matrices repacked into 16-row groups at load (model.c); its results
	 * must be the standard layout's bit for bit */
	char err2[256];
	struct gguf_file *g2 = gguf_open_memory_copy(data, size, err2, sizeof err2);
	if (g2) {
		size_t n_vocab = 0;
		float *logits2 = fuzz_gguf_logits(g2, &n_vocab);
		if ((logits == NULL) != (logits2 == NULL) || (logits && !fuzz_gguf_same(logits, logits2, 2 * n_vocab)))
			abort();	/* the layouts disagree */
		free(logits2);
	}
	free(logits);
	(void)sink;
	free(buf);
	return 0;
}
