/* Model: architecture table, hyper-parameters, tensor binding, forward pass.
 *
 * How to use it (tokenizer / generate):
 *	char err[256];
 *	struct model *m = model_load("m.gguf", err, sizeof err);
 *	const struct gguf_file *g = model_gguf(m);	// tokenizer.* metadata
 *	struct model_ctx *c = model_ctx_new(m, 4096, 2, err, sizeof err);	// n_ctx, threads
 *	float *logits = malloc(model_hparams(m)->n_vocab * sizeof *logits);
 *	// prompt: all tokens at once (batched prefill), logits of the last one
 *	model_forward(c, prompt, n_prompt, logits, 0, err, sizeof err);
 *	// then one token at a time
 *	model_forward(c, &tok, 1, logits, 0, err, sizeof err);
 *	model_ctx_reset(c);	// new conversation: empties the KV cache
 *	model_ctx_free(c); model_free(m);
 * model_forward appends to the KV cache at model_ctx_pos(c); it fails with a
 * message when the context is full.  A model is read-only and can back
 * several contexts; one context is used by one thread at a time.
 */
#ifndef HAFEN_ENGINE_MODEL_H
#define HAFEN_ENGINE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gguf.h"

enum model_rope {
	MODEL_ROPE_NORM,	/* rotate interleaved pairs (2i, 2i+1) */
	MODEL_ROPE_NEOX,	/* rotate halves (i, i + n_rot/2) */
};

enum model_qk_norm {
	MODEL_QK_NORM_NONE,
	MODEL_QK_NORM_HEAD,	/* RMSNorm per head, weight of head_dim (qwen3) */
	MODEL_QK_NORM_FULL,	/* RMSNorm over the whole projection (olmoe) */
};

/* One row per architecture: adding one is a row plus, where its graph
 * differs, a branch keyed on these flags in forward.c. */
struct model_arch {
	const char *name;
	enum model_rope rope;
	int qkv_bias;		/* attn_{q,k,v}.bias */
	enum model_qk_norm qk_norm;
	int moe;		/* 1 always, 0 never, -1 when expert_count > 0 */
	int moe_renorm;		/* renormalize the top-k weights */
	int shared_expert;	/* qwen2moe: sigmoid-gated shared expert */
	const char *n_ff_exp_key;	/* hyper-parameter naming the expert width */
};

const struct model_arch *model_arch_find(const char *name, size_t len);
/* Architectures known by name but not supported yet (refused with a clear message). */
int model_arch_is_planned(const char *name, size_t len);

struct model_hparams {
	char arch[32];
	uint32_t n_vocab;
	uint32_t n_ctx_train;
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;	/* attention.key_length */
	uint32_t head_dim_v;	/* attention.value_length */
	uint32_t n_rot;
	uint32_t n_ff;		/* dense FFN width */
	uint32_t n_expert;
	uint32_t n_expert_used;
	uint32_t n_ff_exp;
	uint32_t n_ff_shexp;
	float rms_eps;
	float rope_base;
};

/* A weight matrix: rows of n_in values, n_out rows, n_mat matrices (experts). */
struct model_tensor {
	const uint8_t *data;
	uint32_t type;
	int64_t n_in;
	int64_t n_out;
	int64_t n_mat;
	size_t row_bytes;
	size_t mat_bytes;	/* from one matrix (expert) to the next */
	int x16;		/* Q4_0 rows repacked in groups of 16 (quant.h), the last n_out % 16 as they were */
};

struct model_layer {
	struct model_tensor attn_norm, attn_q, attn_k, attn_v, attn_out;
	struct model_tensor bq, bk, bv;
	struct model_tensor q_norm, k_norm;
	struct model_tensor ffn_norm;
	struct model_tensor ffn_gate, ffn_up, ffn_down;	/* dense */
	struct model_tensor gate_inp, gate_exps, up_exps, down_exps;	/* MoE */
	struct model_tensor gate_inp_shexp, gate_shexp, up_shexp, down_shexp;
	int is_moe;
};

struct model {
	struct gguf_file *gguf;
	const struct model_arch *arch;
	struct model_hparams hp;
	struct model_tensor tok_embd, output_norm, output;
	struct model_layer *layers;
};

struct model_ctx;

struct model *model_load(const char *path, char *err, size_t errlen);
/* model_load with a choice of how the file is brought into memory (see
 * gguf.h: GGUF_LOAD_AUTO, _MMAP or _COPY); model_load uses
 * MODEL_LOAD_DEFAULT. */
struct model *model_load_mode(const char *path, enum gguf_load mode, char *err, size_t errlen);
#define MODEL_LOAD_DEFAULT GGUF_LOAD_AUTO
/* Loading modes by name ("auto", "mmap", "copy") for command-line options. */
int model_load_parse(const char *name, enum gguf_load *out);
const char *model_load_name(enum gguf_load mode);
/* Take ownership of an open file (closed by model_free, also on failure). */
struct model *model_load_gguf(struct gguf_file *g, char *err, size_t errlen);
void model_free(struct model *m);
const struct model_hparams *model_hparams(const struct model *m);
const struct gguf_file *model_gguf(const struct model *m);

struct model_ctx *model_ctx_new(struct model *m, uint32_t n_ctx, int n_threads, char *err, size_t errlen);
/* A context that runs on pool_of's thread pool (which must outlive it)
 * instead of starting its own: contexts used in turn by one thread (the
 * server's slots) then share the cores instead of competing with spinning
 * workers. */
struct model_ctx *model_ctx_new_sharing(struct model *m, uint32_t n_ctx, struct model_ctx *pool_of, char *err,
	size_t errlen);
void model_ctx_free(struct model_ctx *c);
void model_ctx_reset(struct model_ctx *c);
uint32_t model_ctx_pos(const struct model_ctx *c);
/* Run n tokens at the current position.  logits: n_vocab floats for the last
 * token, or n * n_vocab (one row per token) when all_logits is set. */
int model_forward(struct model_ctx *c, const int32_t *tokens, uint32_t n, float *logits, int all_logits,
	char *err, size_t errlen);
/* Force the scalar kernels (tests compare SIMD against them). */
/* One decoding step of n sequences together (continuous batching): token i
 * is appended to cs[i] (distinct contexts of the same model, none with a
 * larger n_ctx than cs[0]) and its logits are written to row rows[i] of
 * logits ([row][n_vocab]; rows NULL: row i).  Each weight matrix is read
 * once for all of them; the work runs on cs[0]'s pool and scratch. */
int model_forward_multi(struct model_ctx *const *cs, const int32_t *tokens, uint32_t n, float *logits,
	const int32_t *rows, char *err, size_t errlen);
void model_ctx_set_scalar(struct model_ctx *c, int scalar);
/* Where a context's forward passes spent their wall time since the last
 * reset (bench): the attention blocks, the feed-forward blocks and the
 * output head, and of all that the time inside the pool's parallel regions,
 * the part of it the caller waited at regions' ends, and the region count
 * (threadpool.h); the rest ran serially on the calling thread. */
struct model_profile {
	double attn_s, ffn_s, head_s;
	uint64_t regions;
	double region_s, tail_s;
	double kv_s;		/* of attn_s: scores and values over the KV cache */
};
void model_ctx_profile(const struct model_ctx *c, struct model_profile *out);
void model_ctx_profile_reset(struct model_ctx *c);
/* Pick kernels by name: scalar, avx2, avx512; -1 if the CPU lacks them. */
int model_ctx_set_simd(struct model_ctx *c, const char *name);

#endif
