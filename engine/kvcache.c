/* KV cache storage; contexts own one each.  Prompt-derived values live here,
 * so the memory is wiped before it is released. */
#include "engine/kvcache.h"

#include <stdlib.h>
#include <string.h>

int kvcache_init(struct kvcache *kv, uint32_t n_layer, uint32_t n_ctx, size_t k_width, size_t v_width)
{
	memset(kv, 0, sizeof *kv);
	size_t nk, nv;
	if (__builtin_mul_overflow((size_t)n_layer * n_ctx, k_width, &nk) ||
	    __builtin_mul_overflow((size_t)n_layer * n_ctx, v_width, &nv) ||
	    nk > SIZE_MAX / sizeof(float) || nv > SIZE_MAX / sizeof(float))
		return -1;
	kv->k = calloc(nk ? nk : 1, sizeof(float));
	kv->v = calloc(nv ? nv : 1, sizeof(float));
	if (!kv->k || !kv->v) {
		kvcache_free(kv);
		return -1;
	}
	kv->n_layer = n_layer;
	kv->n_ctx = n_ctx;
	kv->k_width = k_width;
	kv->v_width = v_width;
	return 0;
}

void kvcache_free(struct kvcache *kv)
{
	if (kv->k)
		explicit_bzero(kv->k, (size_t)kv->n_layer * kv->n_ctx * kv->k_width * sizeof(float));
	if (kv->v)
		explicit_bzero(kv->v, (size_t)kv->n_layer * kv->n_ctx * kv->v_width * sizeof(float));
	free(kv->k);
	free(kv->v);
	memset(kv, 0, sizeof *kv);
}

float *kvcache_k(const struct kvcache *kv, uint32_t il, uint32_t pos)
{
	return kv->k + ((size_t)il * kv->n_ctx + pos) * kv->k_width;
}

float *kvcache_v(const struct kvcache *kv, uint32_t il, uint32_t pos)
{
	return kv->v + ((size_t)il * kv->n_ctx + pos) * kv->v_width;
}
