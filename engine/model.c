/* Model loading: architecture table, hyper-parameters from GGUF metadata,
 * tensor binding with shape checks.  Tensor names and shapes follow
 * llama.cpp's GGUF conventions (ne[0] is the input width of a matrix). */
#include "engine/errmsg.h"
#include "engine/model.h"
#include "engine/quant.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Experts' width is named differently per family: Mixtral and OLMoE reuse
 * feed_forward_length, Qwen MoE has its own key. */
static const struct model_arch model_archs[] = {
	/* name       rope             bias qk norm              moe renorm shexp  n_ff_exp key */
	{ "llama", MODEL_ROPE_NORM, 0, MODEL_QK_NORM_NONE, -1, 1, 0, "feed_forward_length" },
	{ "qwen2", MODEL_ROPE_NEOX, 1, MODEL_QK_NORM_NONE, 0, 0, 0, NULL },
	{ "qwen2moe", MODEL_ROPE_NEOX, 1, MODEL_QK_NORM_NONE, 1, 0, 1, "expert_feed_forward_length" },
	{ "qwen3", MODEL_ROPE_NEOX, 0, MODEL_QK_NORM_HEAD, 0, 0, 0, NULL },
	{ "qwen3moe", MODEL_ROPE_NEOX, 0, MODEL_QK_NORM_HEAD, 1, 1, 0, "expert_feed_forward_length" },
	{ "olmoe", MODEL_ROPE_NEOX, 0, MODEL_QK_NORM_FULL, 1, 0, 0, "feed_forward_length" },
};

/* Known, planned, refused by name until their graph lands (MLA for deepseek2). */
static const char *const model_archs_planned[] = { "deepseek2" };

const struct model_arch *model_arch_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof model_archs / sizeof model_archs[0]; i++)
		if (strlen(model_archs[i].name) == len && memcmp(model_archs[i].name, name, len) == 0)
			return &model_archs[i];
	return NULL;
}

int model_arch_is_planned(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof model_archs_planned / sizeof model_archs_planned[0]; i++)
		if (strlen(model_archs_planned[i]) == len && memcmp(model_archs_planned[i], name, len) == 0)
			return 1;
	return 0;
}

/* Read "<arch>.<suffix>" as u32; required or default. */
static int model_hp_u32(const struct gguf_file *g, const char *arch, const char *suffix, uint32_t *out,
	int required, uint32_t def, char *err, size_t errlen)
{
	char key[128];
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	if (gguf_find_key(g, key) < 0) {
		if (required) {
			engine_errf(err, errlen, "missing hyper-parameter %s", key);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (gguf_get_u32(g, key, out) < 0) {
		engine_errf(err, errlen, "%s: expected an unsigned 32-bit integer", key);
		return -1;
	}
	return 0;
}

static int model_hp_f32(const struct gguf_file *g, const char *arch, const char *suffix, float *out,
	float def, char *err, size_t errlen)
{
	char key[128];
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	if (gguf_find_key(g, key) < 0) {
		*out = def;
		return 0;
	}
	if (gguf_get_f32(g, key, out) < 0) {
		engine_errf(err, errlen, "%s: expected a float", key);
		return -1;
	}
	return 0;
}

/* Bind a tensor and check its shape: ne = {n_in, n_out, n_mat} (0 = any). */
static int model_bind(const struct gguf_file *g, struct model_tensor *t, const char *name, int required,
	int64_t n_in, int64_t n_out, int64_t n_mat, char *err, size_t errlen)
{
	const struct gguf_tensor *gt = gguf_find_tensor(g, name);
	memset(t, 0, sizeof *t);
	if (!gt) {
		if (required) {
			engine_errf(err, errlen, "missing tensor %s", name);
			return -1;
		}
		return 0;
	}
	if (!quant_type_supported(gt->type)) {
		engine_errf(err, errlen, "tensor %s: weight type %s is not supported", name, gguf_type_name(gt->type));
		return -1;
	}
	int64_t want[4] = { n_in, n_out ? n_out : 1, n_mat ? n_mat : 1, 1 };
	for (int d = 0; d < 4; d++)
		if (gt->ne[d] != want[d]) {
			engine_errf(err, errlen, "tensor %s: shape {%lld, %lld, %lld, %lld}, expected {%lld, %lld, %lld, 1}",
				name, (long long)gt->ne[0], (long long)gt->ne[1], (long long)gt->ne[2], (long long)gt->ne[3],
				(long long)want[0], (long long)want[1], (long long)want[2]);
			return -1;
		}
	t->data = gt->data;
	t->type = gt->type;
	t->n_in = gt->ne[0];
	t->n_out = gt->ne[1];
	t->n_mat = gt->ne[2];
	t->row_bytes = quant_row_size(gt->type, gt->ne[0]);
	t->mat_bytes = (size_t)t->n_out * t->row_bytes;
	return 0;
}

/* Norm weights and biases are read as float vectors by the forward pass. */
static int model_bind_vec(const struct gguf_file *g, struct model_tensor *t, const char *name, int required,
	int64_t n, char *err, size_t errlen)
{
	if (model_bind(g, t, name, required, n, 0, 0, err, errlen) < 0)
		return -1;
	if (t->data && t->type != QUANT_TYPE_F32) {
		engine_errf(err, errlen, "tensor %s: norm and bias vectors must be f32", name);
		return -1;
	}
	return 0;
}

static int model_load_hparams(struct model *m, char *err, size_t errlen)
{
	const struct gguf_file *g = m->gguf;
	struct model_hparams *hp = &m->hp;
	size_t len;
	const char *arch = gguf_get_str(g, "general.architecture", &len);
	if (!arch) {
		engine_errf(err, errlen, "missing general.architecture");
		return -1;
	}
	if (len >= sizeof hp->arch) {
		engine_errf(err, errlen, "general.architecture is too long");
		return -1;
	}
	memcpy(hp->arch, arch, len);
	hp->arch[len] = 0;
	m->arch = model_arch_find(arch, len);
	if (!m->arch) {
		if (model_arch_is_planned(arch, len))
			engine_errf(err, errlen, "architecture '%s' is not supported yet", hp->arch);
		else
			engine_errf(err, errlen, "unsupported architecture '%s'", hp->arch);
		return -1;
	}
	const char *a = hp->arch;
	if (model_hp_u32(g, a, "embedding_length", &hp->n_embd, 1, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "block_count", &hp->n_layer, 1, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "context_length", &hp->n_ctx_train, 0, 4096, err, errlen) < 0 ||
	    model_hp_u32(g, a, "attention.head_count", &hp->n_head, 1, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "attention.head_count_kv", &hp->n_head_kv, 0, hp->n_head, err, errlen) < 0 ||
	    model_hp_u32(g, a, "feed_forward_length", &hp->n_ff, 0, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "expert_count", &hp->n_expert, 0, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "expert_used_count", &hp->n_expert_used, 0, 0, err, errlen) < 0 ||
	    model_hp_u32(g, a, "expert_shared_feed_forward_length", &hp->n_ff_shexp, 0, 0, err, errlen) < 0 ||
	    model_hp_f32(g, a, "attention.layer_norm_rms_epsilon", &hp->rms_eps, 1e-6f, err, errlen) < 0 ||
	    model_hp_f32(g, a, "rope.freq_base", &hp->rope_base, 10000.0f, err, errlen) < 0)
		return -1;
	if (hp->n_embd == 0 || hp->n_embd > 65536 || hp->n_layer == 0 || hp->n_layer > 1024 ||
	    hp->n_head == 0 || hp->n_head > 1024 || hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv) {
		engine_errf(err, errlen, "implausible hyper-parameters (n_embd %u, layers %u, heads %u/%u)",
			hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv);
		return -1;
	}
	uint32_t hd = hp->n_embd / hp->n_head;
	if (model_hp_u32(g, a, "attention.key_length", &hp->head_dim, 0, hd, err, errlen) < 0 ||
	    model_hp_u32(g, a, "attention.value_length", &hp->head_dim_v, 0, hp->head_dim, err, errlen) < 0 ||
	    model_hp_u32(g, a, "rope.dimension_count", &hp->n_rot, 0, hp->head_dim, err, errlen) < 0)
		return -1;
	if (hp->head_dim == 0 || hp->head_dim > 1024 || hp->head_dim_v == 0 || hp->head_dim_v > 1024 ||
	    hp->n_rot > hp->head_dim || hp->n_rot % 2) {
		engine_errf(err, errlen, "implausible head dimensions (key %u, value %u, rope %u)",
			hp->head_dim, hp->head_dim_v, hp->n_rot);
		return -1;
	}
	int moe = m->arch->moe < 0 ? hp->n_expert > 0 : m->arch->moe;
	if (moe) {
		if (model_hp_u32(g, a, m->arch->n_ff_exp_key, &hp->n_ff_exp, 1, 0, err, errlen) < 0)
			return -1;
		if (hp->n_expert == 0 || hp->n_expert > 256 || hp->n_expert_used == 0 ||
		    hp->n_expert_used > hp->n_expert || hp->n_ff_exp == 0) {
			engine_errf(err, errlen, "implausible MoE parameters (%u experts, %u used, width %u)",
				hp->n_expert, hp->n_expert_used, hp->n_ff_exp);
			return -1;
		}
	} else {
		hp->n_expert = hp->n_expert_used = 0;
		if (hp->n_ff == 0) {
			engine_errf(err, errlen, "missing hyper-parameter %s.feed_forward_length", a);
			return -1;
		}
	}
	const struct gguf_tensor *te = gguf_find_tensor(g, "token_embd.weight");
	if (!te || te->n_dims != 2) {
		engine_errf(err, errlen, "missing or malformed tensor token_embd.weight");
		return -1;
	}
	if (te->ne[1] > INT32_MAX) {
		engine_errf(err, errlen, "vocabulary too large");
		return -1;
	}
	hp->n_vocab = (uint32_t)te->ne[1];
	return 0;
}

static int model_bind_layer(struct model *m, uint32_t il, char *err, size_t errlen)
{
	const struct gguf_file *g = m->gguf;
	const struct model_hparams *hp = &m->hp;
	struct model_layer *L = &m->layers[il];
	int64_t E = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim;
	int64_t k = (int64_t)hp->n_head_kv * hp->head_dim, v = (int64_t)hp->n_head_kv * hp->head_dim_v;
	int64_t o = (int64_t)hp->n_head * hp->head_dim_v;
	char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%u." s, il), n)
	if (model_bind_vec(g, &L->attn_norm, NAME("attn_norm.weight"), 1, E, err, errlen) < 0 ||
	    model_bind(g, &L->attn_out, NAME("attn_output.weight"), 1, o, E, 0, err, errlen) < 0 ||
	    model_bind_vec(g, &L->ffn_norm, NAME("ffn_norm.weight"), 1, E, err, errlen) < 0)
		return -1;
	if (gguf_find_tensor(g, NAME("attn_qkv.weight"))) {
		/* fused projection {n_embd, q + k + v}: rows of q, then k, then v */
		struct model_tensor f;
		if (model_bind(g, &f, n, 1, E, q + k + v, 0, err, errlen) < 0)
			return -1;
		L->attn_q = L->attn_k = L->attn_v = f;
		L->attn_q.n_out = q;
		L->attn_k.data += (size_t)q * f.row_bytes;
		L->attn_k.n_out = k;
		L->attn_v.data += (size_t)(q + k) * f.row_bytes;
		L->attn_v.n_out = v;
		if (m->arch->qkv_bias) {
			if (model_bind_vec(g, &f, NAME("attn_qkv.bias"), 1, q + k + v, err, errlen) < 0)
				return -1;
			L->bq = L->bk = L->bv = f;
			L->bk.data += (size_t)q * sizeof(float);
			L->bv.data += (size_t)(q + k) * sizeof(float);
		}
	} else {
		if (model_bind(g, &L->attn_q, NAME("attn_q.weight"), 1, E, q, 0, err, errlen) < 0 ||
		    model_bind(g, &L->attn_k, NAME("attn_k.weight"), 1, E, k, 0, err, errlen) < 0 ||
		    model_bind(g, &L->attn_v, NAME("attn_v.weight"), 1, E, v, 0, err, errlen) < 0)
			return -1;
		if (m->arch->qkv_bias &&
		    (model_bind_vec(g, &L->bq, NAME("attn_q.bias"), 1, q, err, errlen) < 0 ||
		     model_bind_vec(g, &L->bk, NAME("attn_k.bias"), 1, k, err, errlen) < 0 ||
		     model_bind_vec(g, &L->bv, NAME("attn_v.bias"), 1, v, err, errlen) < 0))
			return -1;
	}
	if (m->arch->qk_norm != MODEL_QK_NORM_NONE) {
		int full = m->arch->qk_norm == MODEL_QK_NORM_FULL;
		if (model_bind_vec(g, &L->q_norm, NAME("attn_q_norm.weight"), 1, full ? q : hp->head_dim, err, errlen) < 0 ||
		    model_bind_vec(g, &L->k_norm, NAME("attn_k_norm.weight"), 1, full ? k : hp->head_dim, err, errlen) < 0)
			return -1;
	}
	L->is_moe = hp->n_expert > 0;
	if (L->is_moe) {
		int64_t X = hp->n_expert, F = hp->n_ff_exp;
		if (model_bind(g, &L->gate_inp, NAME("ffn_gate_inp.weight"), 1, E, X, 0, err, errlen) < 0 ||
		    model_bind(g, &L->down_exps, NAME("ffn_down_exps.weight"), 1, F, E, X, err, errlen) < 0)
			return -1;
		if (gguf_find_tensor(g, NAME("ffn_gate_up_exps.weight"))) {
			/* fused {n_embd, 2 * n_ff_exp, n_expert}: each expert's
			 * gate rows, then its up rows (llama.cpp's build_moe_ffn) */
			struct model_tensor f;
			if (model_bind(g, &f, n, 1, E, 2 * F, X, err, errlen) < 0)
				return -1;
			L->gate_exps = L->up_exps = f;
			L->gate_exps.n_out = L->up_exps.n_out = F;
			L->up_exps.data += (size_t)F * f.row_bytes;
		} else if (model_bind(g, &L->gate_exps, NAME("ffn_gate_exps.weight"), 1, E, F, X, err, errlen) < 0 ||
			   model_bind(g, &L->up_exps, NAME("ffn_up_exps.weight"), 1, E, F, X, err, errlen) < 0) {
			return -1;
		}
		if (m->arch->shared_expert) {
			int64_t S = hp->n_ff_shexp;
			if (S == 0) {
				engine_errf(err, errlen, "missing hyper-parameter %s.expert_shared_feed_forward_length", hp->arch);
				return -1;
			}
			if (model_bind(g, &L->gate_inp_shexp, NAME("ffn_gate_inp_shexp.weight"), 1, E, 0, 0, err, errlen) < 0 ||
			    model_bind(g, &L->gate_shexp, NAME("ffn_gate_shexp.weight"), 1, E, S, 0, err, errlen) < 0 ||
			    model_bind(g, &L->up_shexp, NAME("ffn_up_shexp.weight"), 1, E, S, 0, err, errlen) < 0 ||
			    model_bind(g, &L->down_shexp, NAME("ffn_down_shexp.weight"), 1, S, E, 0, err, errlen) < 0)
				return -1;
		}
	} else {
		int64_t F = hp->n_ff;
		if (model_bind(g, &L->ffn_gate, NAME("ffn_gate.weight"), 1, E, F, 0, err, errlen) < 0 ||
		    model_bind(g, &L->ffn_up, NAME("ffn_up.weight"), 1, E, F, 0, err, errlen) < 0 ||
		    model_bind(g, &L->ffn_down, NAME("ffn_down.weight"), 1, F, E, 0, err, errlen) < 0)
			return -1;
	}
#undef NAME
	return 0;
}

/* Repacking Q4_0 matrices in place into 16-row groups (quant.h) when the
 * file is a writable copy: decoding then reads 16 rows in a vector's lanes
 * (docs/engine-kernels.md, "Repacked Q4_0").  The last n_out % 16 rows of
 * each matrix stay as they were.  One job per matrix (expert), shared by a
 * few threads: ~1 s for the 3.9 GB OLMoE-shaped file on one thread. */
#define MODEL_REPACK_THREADS 4

struct model_repack {
	uint8_t **mat;		/* (n) first byte of each matrix */
	const struct model_tensor **t;	/* (n) its tensor */
	size_t n, max_group;
	atomic_size_t next;
	int failed;
};

static void *model_repack_main(void *arg)
{
	struct model_repack *r = arg;
	uint8_t *tmp = malloc(r->max_group);
	if (!tmp)
		return r;	/* the caller runs what is left */
	for (size_t j; (j = atomic_fetch_add(&r->next, 1)) < r->n;) {
		const struct model_tensor *t = r->t[j];
		size_t gb = QUANT_X16_ROWS * t->row_bytes;
		uint8_t *w = r->mat[j];
		for (int64_t row = 0; row + QUANT_X16_ROWS <= t->n_out; row += QUANT_X16_ROWS, w += gb) {
			memcpy(tmp, w, gb);
			quant_q4_0_x16_pack(tmp, t->row_bytes, t->n_in, w);
		}
	}
	free(tmp);
	return NULL;
}

/* Every matrix the forward pass multiplies with, except the token
 * embeddings (read row by row for the lookup: a tied output head stays in
 * the standard layout with them). */
static int model_repack(struct model *m, char *err, size_t errlen)
{
	struct gguf_file *g = m->gguf;
	if (!gguf_writable(g, g->base))
		return 0;
	struct model_tensor *ts[16];
	size_t nt = 0, n = 0;
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0 counts the matrices, pass 1 lists them */
		struct model_repack r = { 0 };
		if (pass == 1) {
			r.mat = malloc(n * sizeof *r.mat + 1);
			r.t = malloc(n * sizeof *r.t + 1);
			if (!r.mat || !r.t) {
				free(r.mat);
				free(r.t);
				engine_errf(err, errlen, "out of memory");
				return -1;
			}
		}
		for (int64_t il = -1; il < (int64_t)m->hp.n_layer; il++) {
			nt = 0;
			if (il < 0) {
				if (m->output.data != m->tok_embd.data)
					ts[nt++] = &m->output;
			} else {
				struct model_layer *L = &m->layers[il];
				struct model_tensor *lt[] = { &L->attn_q, &L->attn_k, &L->attn_v, &L->attn_out, &L->ffn_gate,
					&L->ffn_up, &L->ffn_down, &L->gate_inp, &L->gate_exps, &L->up_exps, &L->down_exps,
					&L->gate_inp_shexp, &L->gate_shexp, &L->up_shexp, &L->down_shexp };
				memcpy(ts, lt, sizeof lt);
				nt = sizeof lt / sizeof lt[0];
			}
			for (size_t k = 0; k < nt; k++) {
				struct model_tensor *t = ts[k];
				if (!t->data || t->type != QUANT_TYPE_Q4_0 || t->n_out < QUANT_X16_ROWS || t->n_in % QUANT_QK)
					continue;
				for (int64_t e = 0; e < t->n_mat; e++) {
					uint8_t *w = gguf_writable(g, t->data + (size_t)e * t->mat_bytes);
					if (!w)
						continue;
					if (pass == 1) {
						r.mat[r.n] = w;
						r.t[r.n] = t;
						size_t gb = QUANT_X16_ROWS * t->row_bytes;
						r.max_group = gb > r.max_group ? gb : r.max_group;
						t->x16 = 1;
					}
					r.n++;
				}
			}
		}
		if (pass == 0) {
			n = r.n;
			continue;
		}
		atomic_init(&r.next, 0);
		pthread_t tid[MODEL_REPACK_THREADS];
		int started = 0;
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		for (int i = 1; i < MODEL_REPACK_THREADS && i < ncpu; i++)
			if (pthread_create(&tid[started], NULL, model_repack_main, &r) == 0)
				started++;
		void *left = model_repack_main(&r);
		for (int i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
		int ok = left == NULL || atomic_load(&r.next) >= r.n;
		free(r.mat);
		free(r.t);
		if (!ok) {
			engine_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

struct model *model_load_gguf(struct gguf_file *g, char *err, size_t errlen)
{
	struct model *m = calloc(1, sizeof *m);
	if (!m) {
		gguf_close(g);
		engine_errf(err, errlen, "out of memory");
		return NULL;
	}
	m->gguf = g;
	if (model_load_hparams(m, err, errlen) < 0)
		goto fail;
	const struct model_hparams *hp = &m->hp;
	if (model_bind(g, &m->tok_embd, "token_embd.weight", 1, hp->n_embd, hp->n_vocab, 0, err, errlen) < 0 ||
	    model_bind_vec(g, &m->output_norm, "output_norm.weight", 1, hp->n_embd, err, errlen) < 0 ||
	    model_bind(g, &m->output, "output.weight", 0, hp->n_embd, hp->n_vocab, 0, err, errlen) < 0)
		goto fail;
	if (!m->output.data)
		m->output = m->tok_embd;	/* tied embeddings */
	m->layers = calloc(hp->n_layer, sizeof *m->layers);
	if (!m->layers) {
		engine_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t il = 0; il < hp->n_layer; il++)
		if (model_bind_layer(m, il, err, errlen) < 0)
			goto fail;
	if (model_repack(m, err, errlen) < 0)
		goto fail;
	gguf_seal(g);
	return m;
fail:
	model_free(m);
	return NULL;
}

struct model *model_load_mode(const char *path, enum gguf_load mode, char *err, size_t errlen)
{
	struct gguf_file *g = gguf_open_mode(path, mode, err, errlen);
	if (!g)
		return NULL;
	char e2[256];
	struct model *m = model_load_gguf(g, e2, sizeof e2);
	if (!m)
		engine_errf(err, errlen, "%s: %s", path, e2);
	return m;
}

static const char *const model_load_names[] = {
	[GGUF_LOAD_AUTO] = "auto",
	[GGUF_LOAD_MMAP] = "mmap",
	[GGUF_LOAD_COPY] = "copy",
};

int model_load_parse(const char *name, enum gguf_load *out)
{
	for (size_t i = 0; i < sizeof model_load_names / sizeof model_load_names[0]; i++)
		if (strcmp(model_load_names[i], name) == 0) {
			*out = (enum gguf_load)i;
			return 0;
		}
	return -1;
}

const char *model_load_name(enum gguf_load mode)
{
	return (size_t)mode < sizeof model_load_names / sizeof model_load_names[0] ? model_load_names[mode] : "?";
}

struct model *model_load(const char *path, char *err, size_t errlen)
{
	return model_load_mode(path, MODEL_LOAD_DEFAULT, err, errlen);
}

void model_free(struct model *m)
{
	if (!m)
		return;
	gguf_close(m->gguf);
	free(m->layers);
	free(m);
}

const struct model_hparams *model_hparams(const struct model *m)
{
	return &m->hp;
}

const struct gguf_file *model_gguf(const struct model *m)
{
	return m->gguf;
}
