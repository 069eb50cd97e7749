/* make-model: write a deterministic random-weight GGUF model of a supported
 * architecture, in the shape of a preset, with the built-in byte-level BPE
 * vocabulary or the tokenizer.* metadata copied from a vocab-only GGUF. */
#include "engine/cmd.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/quant.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct make_preset {
	const char *name;
	uint32_t n_embd, n_layer, n_head, n_head_kv, head_dim;
	uint32_t n_expert, n_expert_used, n_ff_exp, n_ff, n_ff_shexp;
	uint32_t n_vocab;	/* 0: the built-in vocabulary's size */
	uint32_t n_ctx;
	float rope_base, eps;
};

/* tiny/small/wide are for tests (small has rows of 256 for the K-quants;
 * wide has OLMoE's equal q and k widths and rows longer than one of the
 * decode combine's column chunks, engine/forward.c); the others have the
 * shapes of real models for benchmarks. */
static const struct make_preset make_presets[] = {
	{ "tiny", 64, 2, 4, 2, 16, 8, 2, 64, 128, 96, 0, 512, 10000.0f, 1e-6f },
	{ "small", 256, 3, 8, 4, 32, 8, 2, 256, 512, 512, 0, 1024, 10000.0f, 1e-6f },
	{ "wide", 640, 2, 10, 10, 64, 8, 2, 128, 256, 128, 0, 512, 10000.0f, 1e-6f },
	{ "olmoe-1b-7b", 2048, 16, 16, 16, 128, 64, 8, 1024, 1024, 0, 50304, 4096, 10000.0f, 1e-5f },
	{ "qwen3-30b-a3b", 2048, 48, 32, 4, 128, 128, 8, 768, 6144, 0, 151936, 40960, 1000000.0f, 1e-6f },
};

struct make_tensor {
	char name[96];
	uint32_t type;
	uint32_t n_dims;
	int64_t ne[3];
	enum { MAKE_INIT_MATRIX, MAKE_INIT_NORM, MAKE_INIT_BIAS } init;
};

struct make_ctx {
	FILE *fp;
	uint64_t seed;
	struct make_tensor *t;
	size_t n_t, cap_t;
	float *row;
	size_t row_cap;
};

static uint64_t make_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float make_uniform(uint64_t *s)
{
	return (float)((make_splitmix(s) >> 40) * (1.0 / (1 << 23)) - 1.0);
}

static int make_write(void *ctx, const void *buf, size_t n)
{
	struct make_ctx *m = ctx;
	return fwrite(buf, 1, n, m->fp) == n ? 0 : -1;
}

/* Every tensor has its own stream (seed, index), every row its own state, so
 * values do not depend on the order tensors are produced in. */
static int make_fill(void *ctx, size_t idx, void *buf, size_t size)
{
	struct make_ctx *m = ctx;
	const struct make_tensor *t = &m->t[idx];
	int64_t n_in = t->ne[0], rows = 1;
	for (uint32_t d = 1; d < t->n_dims; d++)
		rows *= t->ne[d];
	size_t rb = quant_row_size(t->type, n_in);
	if (rb * (size_t)rows != size)
		return -1;
	if ((size_t)n_in > m->row_cap) {
		float *nr = realloc(m->row, (size_t)n_in * sizeof(float));
		if (!nr)
			return -1;
		m->row = nr;
		m->row_cap = (size_t)n_in;
	}
	float scale = 1.0f / sqrtf((float)n_in);
	for (int64_t r = 0; r < rows; r++) {
		uint64_t s = m->seed * 0x100000001b3ULL ^ ((uint64_t)idx << 40) ^ (uint64_t)r;
		make_splitmix(&s);
		for (int64_t i = 0; i < n_in; i++) {
			float u = make_uniform(&s);
			m->row[i] = t->init == MAKE_INIT_NORM ? 1.0f + 0.2f * u :
				    t->init == MAKE_INIT_BIAS ? 0.2f * u : u * scale * 1.7f;
		}
		if (quant_quantize_row(t->type, m->row, (uint8_t *)buf + (size_t)r * rb, n_in) < 0)
			return -1;
	}
	return 0;
}

static int make_add(struct make_ctx *m, uint32_t type, uint32_t n_dims, int64_t a, int64_t b, int64_t c, int init,
	const char *name, int il)
{
	if (m->n_t == m->cap_t) {
		size_t cap = m->cap_t ? 2 * m->cap_t : 64;
		struct make_tensor *nt = realloc(m->t, cap * sizeof *nt);
		if (!nt)
			return -1;
		m->t = nt;
		m->cap_t = cap;
	}
	struct make_tensor *t = &m->t[m->n_t++];
	memset(t, 0, sizeof *t);
	if (il < 0)
		snprintf(t->name, sizeof t->name, "%s", name);
	else
		snprintf(t->name, sizeof t->name, "blk.%d.%s", il, name);
	/* rows that do not fill the requested type's blocks fall back, like
	 * llama.cpp's quantizer does for odd widths */
	if (a % (int64_t)gguf_type_block_values(type))
		type = a % 32 ? QUANT_TYPE_F32 : QUANT_TYPE_Q8_0;
	t->type = init == MAKE_INIT_MATRIX ? type : QUANT_TYPE_F32;
	t->n_dims = n_dims;
	t->ne[0] = a;
	t->ne[1] = b;
	t->ne[2] = c;
	t->init = init;
	return 0;
}

/* GPT-2's byte-to-unicode map: printable bytes stand for themselves, the
 * others are shifted to U+0100 and up, so every byte is one visible char. */
static size_t make_byte_token(int byte, char *out)
{
	static int map[256];
	static int ready;
	if (!ready) {
		int n = 0;
		for (int b = 0; b < 256; b++) {
			int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
			map[b] = printable ? b : 256 + n++;
		}
		ready = 1;
	}
	int cp = map[byte];
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	out[0] = (char)(0xc0 | (cp >> 6));
	out[1] = (char)(0x80 | (cp & 0x3f));
	return 2;
}

/* A few merges of frequent English and German pairs ("Ġ" is the space). */
static const char *const make_merges[][2] = {
	{ "Ġ", "t" }, { "h", "e" }, { "i", "n" }, { "e", "r" }, { "a", "n" }, { "Ġ", "a" }, { "o", "n" },
	{ "e", "n" }, { "c", "h" }, { "e", "i" }, { "i", "e" }, { "Ġ", "d" }, { "Ġt", "he" }, { "Ġ", "s" },
	{ "Ġ", "w" }, { "o", "r" }, { "e", "s" }, { "Ġ", "i" }, { "a", "t" }, { "Ġd", "ie" }, { "Ġd", "er" },
	{ "u", "n" }, { "Ġ", "u" }, { "un", "d" }, { "Ġ", "und" }, { "s", "t" }, { "Ġ", "o" }, { "Ġ", "b" },
	{ "Ġ", "h" }, { "Ġ", "c" }, { "Ġ", "f" }, { "Ġ", "m" }, { "l", "l" }, { "i", "s" }, { "Ġ", "is" },
	{ "Ġa", "n" }, { "Ġan", "d" }, { "in", "g" }, { "Ġ", "in" }, { "Ġ", "e" },
};

static const char *const make_specials[] = { "<|endoftext|>", "<|im_start|>", "<|im_end|>" };

static const char make_chatml[] =
	"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
	"{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/* Built-in byte-level BPE vocabulary (tokenizer.ggml.model "gpt2"). */
static int make_builtin_vocab(struct gguf_writer *w, uint32_t *n_vocab)
{
	enum { NB = 256, NM = sizeof make_merges / sizeof make_merges[0], NS = 3, NV = NB + NM + NS };
	static char store[NV][40];
	const char *tok[NV];
	size_t len[NV];
	int32_t type[NV];
	char mstore[NM][40];
	const char *mer[NM];
	for (int b = 0; b < NB; b++) {
		len[b] = make_byte_token(b, store[b]);
		tok[b] = store[b];
		type[b] = 1;	/* normal */
	}
	for (int i = 0; i < NM; i++) {
		snprintf(store[NB + i], sizeof store[0], "%s%s", make_merges[i][0], make_merges[i][1]);
		snprintf(mstore[i], sizeof mstore[0], "%s %s", make_merges[i][0], make_merges[i][1]);
		tok[NB + i] = store[NB + i];
		len[NB + i] = strlen(store[NB + i]);
		type[NB + i] = 1;
		mer[i] = mstore[i];
	}
	for (int i = 0; i < NS; i++) {
		tok[NB + NM + i] = make_specials[i];
		len[NB + NM + i] = strlen(make_specials[i]);
		type[NB + NM + i] = 3;	/* control */
	}
	*n_vocab = NV;
	int r = gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2", 4);
	r |= gguf_writer_add_str(w, "tokenizer.ggml.pre", "qwen2", 5);
	r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tok, len, NV);
	r |= gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, NV);
	r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", mer, NULL, NM);
	r |= gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", NB + NM + 2);
	r |= gguf_writer_add_u32(w, "tokenizer.ggml.padding_token_id", NB + NM);
	r |= gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", NB + NM);
	r |= gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", 0);
	r |= gguf_writer_add_str(w, "tokenizer.chat_template", make_chatml, strlen(make_chatml));
	return r ? -1 : 0;
}

/* Copy every tokenizer.* pair verbatim from a vocab-only GGUF. */
static int make_copy_vocab(struct gguf_writer *w, const char *path, uint32_t *n_vocab)
{
	char err[256];
	struct gguf_file *g = gguf_open(path, err, sizeof err);
	if (!g) {
		fprintf(stderr, "hafen-engine make-model: %s\n", err);
		return -1;
	}
	uint64_t n;
	if (gguf_get_arr_info(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n) < 0 || n == 0 || n > INT32_MAX) {
		fprintf(stderr, "hafen-engine make-model: %s: no tokenizer.ggml.tokens array\n", path);
		gguf_close(g);
		return -1;
	}
	*n_vocab = (uint32_t)n;
	int r = 0;
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (strncmp(g->kv[i].key, "tokenizer.", 10) == 0)
			r |= gguf_writer_add_kv(w, &g->kv[i]);
	gguf_close(g);
	return r ? -1 : 0;
}

static int make_type_from_name(const char *s, uint32_t *t)
{
	for (uint32_t i = 0; i < QUANT_TYPE_COUNT; i++)
		if (quant_type_supported(i) && strcasecmp(gguf_type_name(i), s) == 0) {
			*t = i;
			return 0;
		}
	return -1;
}

static int make_usage(void)
{
	fprintf(stderr, "usage: hafen-engine make-model --arch llama|qwen2|qwen2moe|qwen3|qwen3moe|olmoe "
		"--preset tiny|small|wide|olmoe-1b-7b|qwen3-30b-a3b [--type f32|f16|bf16|q8_0|q4_0|q5_0|q4_K|q6_K] "
		"[--experts N] [--vocab VOCAB.gguf] [--seed N] -o OUT.gguf\n");
	return 2;
}

int cmd_make_model_main(int argc, char **argv)
{
	const char *arch_name = NULL, *preset_name = "tiny", *vocab = NULL, *out = NULL;
	uint32_t type = QUANT_TYPE_F32;
	long experts = -1;
	unsigned long long seed = 1;
	for (int i = 1; i < argc; i += 2) { /* every option takes a value */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return make_usage();
		if (strcmp(a, "--arch") == 0)
			arch_name = v;
		else if (strcmp(a, "--preset") == 0)
			preset_name = v;
		else if (strcmp(a, "--vocab") == 0)
			vocab = v;
		else if (strcmp(a, "-o") == 0)
			out = v;
		else if (strcmp(a, "--seed") == 0)
			seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--experts") == 0)
			experts = strtol(v, NULL, 10);
		else if (strcmp(a, "--type") == 0) {
			if (make_type_from_name(v, &type) < 0) {
				fprintf(stderr, "hafen-engine make-model: unknown or unsupported type '%s'\n", v);
				return 2;
			}
		} else
			return make_usage();
	}
	if (!arch_name || !out)
		return make_usage();
	const struct model_arch *arch = model_arch_find(arch_name, strlen(arch_name));
	if (!arch) {
		fprintf(stderr, "hafen-engine make-model: unsupported architecture '%s'\n", arch_name);
		return 2;
	}
	const struct make_preset *p = NULL;
	for (size_t i = 0; i < sizeof make_presets / sizeof make_presets[0]; i++)
		if (strcmp(make_presets[i].name, preset_name) == 0)
			p = &make_presets[i];
	if (!p) {
		fprintf(stderr, "hafen-engine make-model: unknown preset '%s'\n", preset_name);
		return 2;
	}
	uint32_t n_expert = p->n_expert;
	if (arch->moe == 0)
		n_expert = 0;
	else if (arch->moe < 0 && experts >= 0)
		n_expert = (uint32_t)experts;
	if (n_expert && experts > 0)
		n_expert = (uint32_t)experts;
	if (n_expert > 256 || (n_expert && n_expert < p->n_expert_used)) {
		fprintf(stderr, "hafen-engine make-model: --experts must be 0 or %u..256\n", p->n_expert_used);
		return 2;
	}
	/* qwen3's key_length differs from n_embd / n_head in the real models */
	uint32_t hd = p->head_dim;
	if (arch->qk_norm == MODEL_QK_NORM_HEAD && p->n_embd <= 256)
		hd *= 2;

	struct gguf_writer *w = gguf_writer_new();
	struct make_ctx mc = { .seed = seed };
	int rc = 1;
	uint32_t n_vocab;
	if (!w)
		goto done;
	char key[128];
	const char *an = arch->name;
#define KEY(s) (snprintf(key, sizeof key, "%s." s, an), key)
	int r = gguf_writer_add_str(w, "general.architecture", an, strlen(an));
	r |= gguf_writer_add_str(w, "general.name", preset_name, strlen(preset_name));
	r |= gguf_writer_add_u32(w, KEY("context_length"), p->n_ctx);
	r |= gguf_writer_add_u32(w, KEY("embedding_length"), p->n_embd);
	r |= gguf_writer_add_u32(w, KEY("block_count"), p->n_layer);
	r |= gguf_writer_add_u32(w, KEY("attention.head_count"), p->n_head);
	r |= gguf_writer_add_u32(w, KEY("attention.head_count_kv"), p->n_head_kv);
	r |= gguf_writer_add_u32(w, KEY("attention.key_length"), hd);
	r |= gguf_writer_add_u32(w, KEY("attention.value_length"), hd);
	r |= gguf_writer_add_u32(w, KEY("rope.dimension_count"), hd);
	r |= gguf_writer_add_f32(w, KEY("attention.layer_norm_rms_epsilon"), p->eps);
	r |= gguf_writer_add_f32(w, KEY("rope.freq_base"), p->rope_base);
	if (n_expert) {
		r |= gguf_writer_add_u32(w, KEY("expert_count"), n_expert);
		r |= gguf_writer_add_u32(w, KEY("expert_used_count"), p->n_expert_used);
		if (strcmp(arch->n_ff_exp_key, "feed_forward_length") == 0) {
			r |= gguf_writer_add_u32(w, KEY("feed_forward_length"), p->n_ff_exp);
		} else {
			r |= gguf_writer_add_u32(w, KEY("feed_forward_length"), p->n_ff);
			r |= gguf_writer_add_u32(w, KEY("expert_feed_forward_length"), p->n_ff_exp);
		}
		if (arch->shared_expert)
			r |= gguf_writer_add_u32(w, KEY("expert_shared_feed_forward_length"),
				p->n_ff_shexp ? p->n_ff_shexp : p->n_ff_exp);
	} else {
		r |= gguf_writer_add_u32(w, KEY("feed_forward_length"), p->n_ff);
	}
#undef KEY
	if (r)
		goto done;
	if (vocab ? make_copy_vocab(w, vocab, &n_vocab) < 0 : make_builtin_vocab(w, &n_vocab) < 0)
		goto done;
	if (p->n_vocab && !vocab)
		n_vocab = p->n_vocab > n_vocab ? p->n_vocab : n_vocab;	/* benchmark shapes: pad the vocabulary */
	{
		char kv[128];
		snprintf(kv, sizeof kv, "%s.vocab_size", an);
		if (gguf_writer_add_u32(w, kv, n_vocab) < 0)
			goto done;
	}

	int64_t E = p->n_embd, q = (int64_t)p->n_head * hd, k = (int64_t)p->n_head_kv * hd, V = n_vocab;
	int64_t X = n_expert, F = p->n_ff_exp, S = p->n_ff_shexp ? p->n_ff_shexp : p->n_ff_exp, D = p->n_ff;
	r = make_add(&mc, type, 2, E, V, 1, MAKE_INIT_MATRIX, "token_embd.weight", -1);
	r |= make_add(&mc, type, 1, E, 1, 1, MAKE_INIT_NORM, "output_norm.weight", -1);
	r |= make_add(&mc, type, 2, E, V, 1, MAKE_INIT_MATRIX, "output.weight", -1);
	for (int il = 0; il < (int)p->n_layer; il++) {
		r |= make_add(&mc, type, 1, E, 1, 1, MAKE_INIT_NORM, "attn_norm.weight", il);
		r |= make_add(&mc, type, 2, E, q, 1, MAKE_INIT_MATRIX, "attn_q.weight", il);
		r |= make_add(&mc, type, 2, E, k, 1, MAKE_INIT_MATRIX, "attn_k.weight", il);
		r |= make_add(&mc, type, 2, E, k, 1, MAKE_INIT_MATRIX, "attn_v.weight", il);
		r |= make_add(&mc, type, 2, q, E, 1, MAKE_INIT_MATRIX, "attn_output.weight", il);
		if (arch->qkv_bias) {
			r |= make_add(&mc, type, 1, q, 1, 1, MAKE_INIT_BIAS, "attn_q.bias", il);
			r |= make_add(&mc, type, 1, k, 1, 1, MAKE_INIT_BIAS, "attn_k.bias", il);
			r |= make_add(&mc, type, 1, k, 1, 1, MAKE_INIT_BIAS, "attn_v.bias", il);
		}
		if (arch->qk_norm != MODEL_QK_NORM_NONE) {
			int full = arch->qk_norm == MODEL_QK_NORM_FULL;
			r |= make_add(&mc, type, 1, full ? q : hd, 1, 1, MAKE_INIT_NORM, "attn_q_norm.weight", il);
			r |= make_add(&mc, type, 1, full ? k : hd, 1, 1, MAKE_INIT_NORM, "attn_k_norm.weight", il);
		}
		r |= make_add(&mc, type, 1, E, 1, 1, MAKE_INIT_NORM, "ffn_norm.weight", il);
		if (n_expert) {
			r |= make_add(&mc, QUANT_TYPE_F32, 2, E, X, 1, MAKE_INIT_MATRIX, "ffn_gate_inp.weight", il);
			r |= make_add(&mc, type, 3, E, F, X, MAKE_INIT_MATRIX, "ffn_gate_exps.weight", il);
			r |= make_add(&mc, type, 3, E, F, X, MAKE_INIT_MATRIX, "ffn_up_exps.weight", il);
			r |= make_add(&mc, type, 3, F, E, X, MAKE_INIT_MATRIX, "ffn_down_exps.weight", il);
			if (arch->shared_expert) {
				r |= make_add(&mc, QUANT_TYPE_F32, 1, E, 1, 1, MAKE_INIT_MATRIX, "ffn_gate_inp_shexp.weight", il);
				r |= make_add(&mc, type, 2, E, S, 1, MAKE_INIT_MATRIX, "ffn_gate_shexp.weight", il);
				r |= make_add(&mc, type, 2, E, S, 1, MAKE_INIT_MATRIX, "ffn_up_shexp.weight", il);
				r |= make_add(&mc, type, 2, S, E, 1, MAKE_INIT_MATRIX, "ffn_down_shexp.weight", il);
			}
		} else {
			r |= make_add(&mc, type, 2, E, D, 1, MAKE_INIT_MATRIX, "ffn_gate.weight", il);
			r |= make_add(&mc, type, 2, E, D, 1, MAKE_INIT_MATRIX, "ffn_up.weight", il);
			r |= make_add(&mc, type, 2, D, E, 1, MAKE_INIT_MATRIX, "ffn_down.weight", il);
		}
	}
	if (r) {
		fprintf(stderr, "hafen-engine make-model: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < mc.n_t; i++)
		if (gguf_writer_add_tensor(w, mc.t[i].name, mc.t[i].type, mc.t[i].n_dims, mc.t[i].ne) < 0) {
			fprintf(stderr, "hafen-engine make-model: tensor %s rejected\n", mc.t[i].name);
			goto done;
		}
	mc.fp = fopen(out, "wb");
	if (!mc.fp) {
		fprintf(stderr, "hafen-engine make-model: %s: %s\n", out, strerror(errno));
		goto done;
	}
	char err[256];
	if (gguf_writer_write(w, make_write, make_fill, &mc, err, sizeof err) < 0) {
		fprintf(stderr, "hafen-engine make-model: %s: %s\n", out, err);
		fclose(mc.fp);
		remove(out);
		goto done;
	}
	if (fclose(mc.fp) != 0) {
		fprintf(stderr, "hafen-engine make-model: %s: %s\n", out, strerror(errno));
		remove(out);
		goto done;
	}
	rc = 0;
done:
	gguf_writer_free(w);
	free(mc.t);
	free(mc.row);
	return rc;
}
