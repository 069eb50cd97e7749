/* Fuzz the GGUF reader and the model loader on top of it; when a model
 * binds, run one token through the forward pass (shapes were validated, so
 * nothing may read outside the tensors). */
#include "engine/gguf.h"
#include "engine/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	struct model *m = model_load_gguf(g, err, sizeof err);
	if (m) {
		struct model_ctx *c = model_ctx_new(m, 4, 1, err, sizeof err);
		float *logits = malloc(model_hparams(m)->n_vocab * sizeof(float));
		int32_t tok[2] = { 0, (int32_t)(model_hparams(m)->n_vocab - 1) };
		if (c && logits)
			model_forward(c, tok, 2, logits, 0, err, sizeof err);
		free(logits);
		model_ctx_free(c);
		model_free(m);
	}
	(void)sink;
	free(buf);
	return 0;
}
