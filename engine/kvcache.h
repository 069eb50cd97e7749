/* KV cache: f32 keys and values per layer, KV head and position, head-major:
 * k: (n_layer, n_head_kv, n_ctx, head_dim), v: (n_layer, n_head_kv, n_ctx, head_dim_v).
 * A head's keys (and values) over the positions are one contiguous stretch,
 * so decoding's attention reads each head as one stream instead of
 * head_dim floats out of every position's row (docs/engine-kernels.md). */
#ifndef HAFEN_ENGINE_KVCACHE_H
#define HAFEN_ENGINE_KVCACHE_H

#include <stddef.h>
#include <stdint.h>

struct kvcache {
	float *k, *v;
	uint32_t n_layer, n_ctx, n_head_kv;
	size_t head_dim, head_dim_v;
	size_t k_width, v_width;	/* floats per position of a layer: n_head_kv * head_dim(_v) */
};

int kvcache_init(struct kvcache *kv, uint32_t n_layer, uint32_t n_ctx, uint32_t n_head_kv, size_t head_dim,
	size_t head_dim_v);
void kvcache_free(struct kvcache *kv);
/* Key (value) of KV head h of layer il at position pos; the next
 * position's is head_dim (head_dim_v) floats further. */
float *kvcache_k(const struct kvcache *kv, uint32_t il, uint32_t h, uint32_t pos);
float *kvcache_v(const struct kvcache *kv, uint32_t il, uint32_t h, uint32_t pos);

#endif
