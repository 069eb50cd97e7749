/* KV cache: f32 keys and values per layer and position.
 * k: (n_layer, n_ctx, n_head_kv * head_dim), v: (n_layer, n_ctx, n_head_kv * head_dim_v). */
#ifndef HAFEN_ENGINE_KVCACHE_H
#define HAFEN_ENGINE_KVCACHE_H

#include <stddef.h>
#include <stdint.h>

struct kvcache {
	float *k, *v;
	uint32_t n_layer, n_ctx;
	size_t k_width, v_width;	/* floats per position */
};

int kvcache_init(struct kvcache *kv, uint32_t n_layer, uint32_t n_ctx, size_t k_width, size_t v_width);
void kvcache_free(struct kvcache *kv);
/* Row of layer il at position pos. */
float *kvcache_k(const struct kvcache *kv, uint32_t il, uint32_t pos);
float *kvcache_v(const struct kvcache *kv, uint32_t il, uint32_t pos);

#endif
