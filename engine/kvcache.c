/* KV cache storage; contexts own one each.  Prompt-derived values live here,
 * so the memory is wiped before it is released. */
#include "engine/kvcache.h"

#include <stdlib.h>
#include <string.h>

int kvcache_init(struct kvcache *kv, uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv, size_t head_dim,
	size_t head_dim_v)
{
	memset(kv, 0, sizeof *kv);
	size_t nk, nv, k_width, v_width;
	if (__builtin_mul_overflow((size_t)n_head_kv, head_dim, &k_width) ||
	    __builtin_mul_overflow((size_t)n_head_kv, head_dim_v, &v_width) ||
	    __builtin_mul_overflow((size_t)n_layer * n_ctx, k_width, &nk) ||
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
	kv->n_head_kv = n_head_kv;
	kv->head_dim = head_dim;
	kv->head_dim_v = head_dim_v;
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

float *kvcache_k(const struct kvcache *kv, uint32_t il, uint32_t h, uint32_t pos)
{
	return kv->k + (((size_t)il * kv->n_head_kv + h) * kv->n_ctx + pos) * kv->head_dim;
}

float *kvcache_v(const struct kvcache *kv, uint32_t il, uint32_t h, uint32_t pos)
{
	return kv->v + (((size_t)il * kv->n_head_kv + h) * kv->n_ctx + pos) * kv->head_dim_v;
}
