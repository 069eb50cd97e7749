/* Tokenizers from GGUF metadata: byte-level BPE ("gpt2") and SentencePiece
 * ("llama"). See tokenizer.h for the contract.
 *
 * Byte-level BPE (GPT-2, Radford et al. 2019; the openai/gpt-2 encoder's
 * bytes_to_unicode): every byte is first mapped to a printable code point, so
 * a vocab entry is a string over those code points. A word starts as one
 * symbol per byte and the adjacent pair with the lowest merge rank is merged
 * until no pair has a rank (ties: leftmost first).
 *
 * SentencePiece BPE (Kudo & Richardson 2018): spaces become U+2581, a space
 * is prepended, the text starts as one symbol per code point and the
 * adjacent pair whose concatenation is the vocab entry with the highest score
 * is merged (ties: leftmost); a final symbol that is not a token falls back
 * to its bytes as <0xXX> tokens.
 *
 * Both merge loops use a binary heap of candidate pairs with lazy deletion,
 * so a long word costs O(n log n), not O(n^2). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/errmsg.h"
#include "engine/pretok.h"
#include "engine/tokenizer.h"
#include "engine/unicode.h"

struct tokenizer_pair {
	uint32_t left, right;	/* token ids; left == UINT32_MAX: empty slot */
	int32_t rank;
	int32_t result;		/* id of left+right */
};

struct tokenizer {
	enum tokenizer_model model;
	enum pretok_kind pre;
	int32_t n_vocab;
	char *text;		/* all token texts, back to back */
	uint64_t *off;		/* n_vocab + 1 offsets into text */
	uint8_t *type;		/* enum tokenizer_token_type */
	float *score;		/* SPM scores (NULL for BPE) */
	uint8_t *eog;		/* end-of-generation flags */
	/* vocab hash: open addressing, id + 1, 0 = empty */
	uint32_t *hash;
	size_t hash_mask;
	/* BPE merges by (left, right) */
	struct tokenizer_pair *pairs;
	size_t pairs_mask;
	/* byte -> token: BPE the byte's mapped code point, SPM <0xXX> */
	int32_t byte_token[256];
	/* special tokens (CONTROL, USER_DEFINED), longest first, and the
	 * range of that list that starts with each byte */
	int32_t *special;
	size_t n_special;
	uint32_t special_first[256][2];	/* [begin, end) in special */
	int32_t bos, eos, unk;
	int add_bos, add_eos, add_space_prefix;
	size_t max_piece;
	char *chat_template;
	size_t chat_template_len;
};

/* --- byte-level mapping (GPT-2 bytes_to_unicode) ----------------------- */

static uint32_t tokenizer_byte_cp[256];
static int16_t tokenizer_cp_byte[512];	/* -1: not a mapped code point */
static pthread_once_t tokenizer_bytes_once = PTHREAD_ONCE_INIT;

static void tokenizer_init_bytes(void)
{
	/* Printable Latin-1 bytes map to themselves; the other 68 bytes get
	 * 256, 257, ... in byte order. */
	uint32_t next = 256;

	for (int i = 0; i < 512; i++)
		tokenizer_cp_byte[i] = -1;
	for (uint32_t b = 0; b < 256; b++) {
		int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
		    (b >= 0xAE && b <= 0xFF);
		tokenizer_byte_cp[b] = printable ? b : next++;
		tokenizer_cp_byte[tokenizer_byte_cp[b]] = (int16_t)b;
	}
}

/* --- helpers ------------------------------------------------------------ */

/* Grow *buf (holding used bytes) to at least need bytes. Prompt text and
 * its token ids pass through these buffers, so the old block is wiped
 * before it is freed instead of being left to realloc. */
static int tokenizer_grow(void **buf, size_t *cap, size_t used, size_t need)
{
	size_t nc = *cap ? *cap : 64;
	void *nb;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	nb = malloc(nc);
	if (!nb)
		return -1;
	if (*buf) {
		memcpy(nb, *buf, used);
		explicit_bzero(*buf, *cap);
		free(*buf);
	}
	*buf = nb;
	*cap = nc;
	return 0;
}

static uint64_t tokenizer_hash_bytes(const char *s, size_t n)
{
	/* FNV-1a, 64 bit (Fowler, Noll, Vo). */
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static size_t tokenizer_pow2(size_t n)
{
	size_t c = 16;

	while (c < n * 2)
		c <<= 1;
	return c;
}

int32_t tokenizer_find(const struct tokenizer *t, const char *s, size_t len)
{
	size_t i = (size_t)tokenizer_hash_bytes(s, len) & t->hash_mask;

	for (;;) {
		uint32_t v = t->hash[i];
		if (v == 0)
			return -1;
		int32_t id = (int32_t)(v - 1);
		size_t l = (size_t)(t->off[id + 1] - t->off[id]);
		if (l == len && memcmp(t->text + t->off[id], s, len) == 0)
			return id;
		i = (i + 1) & t->hash_mask;
	}
}

static uint64_t tokenizer_pair_hash(uint32_t a, uint32_t b)
{
	uint64_t h = ((uint64_t)a << 32 | b) * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

static const struct tokenizer_pair *tokenizer_pair_find(const struct tokenizer *t,
    uint32_t a, uint32_t b)
{
	size_t i = (size_t)tokenizer_pair_hash(a, b) & t->pairs_mask;

	for (;;) {
		const struct tokenizer_pair *p = &t->pairs[i];
		if (p->left == UINT32_MAX)
			return NULL;
		if (p->left == a && p->right == b)
			return p;
		i = (i + 1) & t->pairs_mask;
	}
}

/* --- loading ------------------------------------------------------------ */

/* Texts of end-of-generation tokens in the chat formats we support, in
 * addition to EOS and tokenizer.ggml.eot_token_id. */
static const char *const tokenizer_eog_texts[] = {
	"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end|>",
	"<\xef\xbd\x9c\x65nd\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	"</s>",
};

static int tokenizer_get_id(const struct gguf_file *g, const char *key, int32_t n_vocab, int32_t *out)
{
	int64_t v;

	*out = -1;
	if (gguf_get_i64(g, key, &v) != 0)
		return 0;
	if (v < 0 || v >= n_vocab)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int tokenizer_special_cmp(const void *a, const void *b, void *arg)
{
	const struct tokenizer *t = arg;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	uint64_t lx = t->off[x + 1] - t->off[x], ly = t->off[y + 1] - t->off[y];
	int c;

	/* first byte ascending, then longest first, then id */
	if (lx && ly && (c = (unsigned char)t->text[t->off[x]] - (unsigned char)t->text[t->off[y]]) != 0)
		return c;
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int tokenizer_load_merges(struct tokenizer *t, const struct gguf_file *g,
    char *err, size_t errlen)
{
	int64_t ki = gguf_find_key(g, "tokenizer.ggml.merges");
	uint64_t n = 0;

	if (ki < 0 || gguf_get_arr_info(g, "tokenizer.ggml.merges", GGUF_TYPE_STRING, &n) != 0) {
		engine_errf(err, errlen, "%s: byte-level BPE vocab without tokenizer.ggml.merges", "tokenizer");
		return -1;
	}
	if (n > INT32_MAX) {
		engine_errf(err, errlen, "%s: too many merges", "tokenizer");
		return -1;
	}
	t->pairs_mask = tokenizer_pow2((size_t)n) - 1;
	t->pairs = malloc((t->pairs_mask + 1) * sizeof *t->pairs);
	if (!t->pairs) {
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
		return -1;
	}
	for (size_t i = 0; i <= t->pairs_mask; i++)
		t->pairs[i].left = UINT32_MAX;
	char *buf = NULL;
	size_t buf_cap = 0;
	for (uint64_t r = 0; r < n; r++) {
		size_t len, sp;
		const char *s = gguf_get_arr_str_at(g, ki, r, &len);
		if (!s)
			continue;
		/* "A B": the first space after the first byte separates the
		 * halves (byte-level tokens never contain a raw space). */
		for (sp = 1; sp < len && s[sp] != ' '; sp++)
			;
		if (sp >= len)
			continue;
		int32_t a = tokenizer_find(t, s, sp);
		int32_t b = tokenizer_find(t, s + sp + 1, len - sp - 1);
		if (a < 0 || b < 0)
			continue;
		if (len > buf_cap) {
			char *nb = realloc(buf, len);
			if (!nb) {
				free(buf);
				engine_errf(err, errlen, "%s: out of memory", "tokenizer");
				return -1;
			}
			buf = nb;
			buf_cap = len;
		}
		memcpy(buf, s, sp);
		memcpy(buf + sp, s + sp + 1, len - sp - 1);
		int32_t res = tokenizer_find(t, buf, len - 1);
		if (res < 0)
			continue;
		size_t i = (size_t)tokenizer_pair_hash((uint32_t)a, (uint32_t)b) & t->pairs_mask;
		while (t->pairs[i].left != UINT32_MAX &&
		    !(t->pairs[i].left == (uint32_t)a && t->pairs[i].right == (uint32_t)b))
			i = (i + 1) & t->pairs_mask;
		if (t->pairs[i].left != UINT32_MAX)
			continue;	/* duplicate merge: the first (lowest) rank wins */
		t->pairs[i].left = (uint32_t)a;
		t->pairs[i].right = (uint32_t)b;
		t->pairs[i].rank = (int32_t)r;
		t->pairs[i].result = res;
	}
	free(buf);
	return 0;
}

static size_t tokenizer_piece_raw(const struct tokenizer *t, int32_t id, unsigned flags,
    char *buf, size_t cap);

struct tokenizer *tokenizer_load(const struct gguf_file *g, char *err, size_t errlen)
{
	struct tokenizer *t;
	size_t mlen, plen, len;
	const char *model, *pre, *s;
	int64_t tok_ki;
	uint64_t n = 0, total = 0, m;

	pthread_once(&tokenizer_bytes_once, tokenizer_init_bytes);
	t = calloc(1, sizeof *t);
	if (!t) {
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
		return NULL;
	}
	model = gguf_get_str(g, "tokenizer.ggml.model", &mlen);
	if (!model) {
		engine_errf(err, errlen, "%s: no tokenizer.ggml.model in the file", "tokenizer");
		goto fail;
	}
	if (mlen == 4 && memcmp(model, "gpt2", 4) == 0) {
		t->model = TOKENIZER_MODEL_BPE;
		pre = gguf_get_str(g, "tokenizer.ggml.pre", &plen);
		char name[64];
		if (!pre || plen >= sizeof name) {
			engine_errf(err, errlen, "%s: byte-level BPE needs tokenizer.ggml.pre", "tokenizer");
			goto fail;
		}
		memcpy(name, pre, plen);
		name[plen] = '\0';
		if (pretok_kind_from_name(name, &t->pre) != 0) {
			engine_errf(err, errlen, "tokenizer: unsupported pre-tokenizer '%s' "
			    "(supported: qwen2, llama3, deepseek-llm, deepseek-v3, gpt-2, olmo)", name);
			goto fail;
		}
	} else if (mlen == 5 && memcmp(model, "llama", 5) == 0) {
		t->model = TOKENIZER_MODEL_SPM;
	} else {
		char name[32];
		size_t k = mlen < sizeof name - 1 ? mlen : sizeof name - 1;
		memcpy(name, model, k);
		name[k] = '\0';
		engine_errf(err, errlen, "tokenizer: unsupported tokenizer.ggml.model '%s' "
		    "(supported: gpt2, llama)", name);
		goto fail;
	}

	tok_ki = gguf_find_key(g, "tokenizer.ggml.tokens");
	if (tok_ki < 0 || gguf_get_arr_info(g, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n) != 0 ||
	    n == 0 || n > INT32_MAX - 1) {
		engine_errf(err, errlen, "%s: tokenizer.ggml.tokens missing, empty or too large", "tokenizer");
		goto fail;
	}
	t->n_vocab = (int32_t)n;
	for (uint64_t i = 0; i < n; i++) {
		if (!gguf_get_arr_str_at(g, tok_ki, i, &len)) {
			engine_errf(err, errlen, "%s: unreadable token text", "tokenizer");
			goto fail;
		}
		total += len;
	}
	t->text = malloc(total + 1);
	t->off = malloc((n + 1) * sizeof *t->off);
	t->type = malloc(n);
	t->eog = calloc(n, 1);
	if (!t->text || !t->off || !t->type || !t->eog) {
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
		goto fail;
	}
	total = 0;
	for (uint64_t i = 0; i < n; i++) {
		s = gguf_get_arr_str_at(g, tok_ki, i, &len);
		t->off[i] = total;
		memcpy(t->text + total, s, len);
		total += len;
	}
	t->off[n] = total;
	t->text[total] = '\0';

	/* token types: optional (all NORMAL), else one per token */
	memset(t->type, TOKENIZER_TOKEN_TYPE_NORMAL, n);
	if (gguf_get_arr_info(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &m) == 0) {
		int32_t *ty;
		if (m != n) {
			engine_errf(err, errlen, "%s: token_type count differs from tokens", "tokenizer");
			goto fail;
		}
		ty = malloc(n * sizeof *ty);
		if (!ty || gguf_get_arr_i32(g, "tokenizer.ggml.token_type", ty, n) != 0) {
			free(ty);
			engine_errf(err, errlen, "%s: cannot read tokenizer.ggml.token_type", "tokenizer");
			goto fail;
		}
		for (uint64_t i = 0; i < n; i++)
			t->type[i] = (uint8_t)(ty[i] >= 0 && ty[i] <= 6 ? ty[i] : TOKENIZER_TOKEN_TYPE_NORMAL);
		free(ty);
	}
	if (t->model == TOKENIZER_MODEL_SPM) {
		t->score = calloc(n, sizeof *t->score);
		if (!t->score) {
			engine_errf(err, errlen, "%s: out of memory", "tokenizer");
			goto fail;
		}
		if (gguf_get_arr_info(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &m) == 0) {
			if (m != n || gguf_get_arr_f32(g, "tokenizer.ggml.scores", t->score, n) != 0) {
				engine_errf(err, errlen, "%s: tokenizer.ggml.scores count differs from tokens", "tokenizer");
				goto fail;
			}
		}
	}

	/* vocab hash; a duplicate text keeps the lowest id */
	t->hash_mask = tokenizer_pow2((size_t)n) - 1;
	t->hash = calloc(t->hash_mask + 1, sizeof *t->hash);
	if (!t->hash) {
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
		goto fail;
	}
	for (uint64_t id = 0; id < n; id++) {
		const char *ts = t->text + t->off[id];
		size_t tl = (size_t)(t->off[id + 1] - t->off[id]);
		if (tokenizer_find(t, ts, tl) >= 0)
			continue;
		size_t i = (size_t)tokenizer_hash_bytes(ts, tl) & t->hash_mask;
		while (t->hash[i])
			i = (i + 1) & t->hash_mask;
		t->hash[i] = (uint32_t)id + 1;
	}

	/* byte tokens */
	for (int b = 0; b < 256; b++) {
		char tmp[8];
		size_t k;
		if (t->model == TOKENIZER_MODEL_BPE) {
			k = unicode_utf8_encode(tokenizer_byte_cp[b], tmp);
		} else {
			snprintf(tmp, sizeof tmp, "<0x%02X>", b);
			k = 6;
		}
		t->byte_token[b] = tokenizer_find(t, tmp, k);
	}
	if (t->model == TOKENIZER_MODEL_BPE && tokenizer_load_merges(t, g, err, errlen) != 0)
		goto fail;

	if (tokenizer_get_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos) != 0 ||
	    tokenizer_get_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos) != 0 ||
	    tokenizer_get_id(g, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk) != 0) {
		engine_errf(err, errlen, "%s: a special token id is out of range", "tokenizer");
		goto fail;
	}
	{
		int32_t eot;
		if (tokenizer_get_id(g, "tokenizer.ggml.eot_token_id", t->n_vocab, &eot) == 0 && eot >= 0)
			t->eog[eot] = 1;
		if (t->eos >= 0)
			t->eog[t->eos] = 1;
		for (size_t i = 0; i < sizeof tokenizer_eog_texts / sizeof tokenizer_eog_texts[0]; i++) {
			int32_t id = tokenizer_find(t, tokenizer_eog_texts[i], strlen(tokenizer_eog_texts[i]));
			if (id >= 0 && t->type[id] != TOKENIZER_TOKEN_TYPE_NORMAL)
				t->eog[id] = 1;
		}
	}
	t->add_bos = t->model == TOKENIZER_MODEL_SPM;
	t->add_space_prefix = t->model == TOKENIZER_MODEL_SPM;
	gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos);
	gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos);
	gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);

	/* special tokens */
	for (int32_t id = 0; id < t->n_vocab; id++)
		if ((t->type[id] == TOKENIZER_TOKEN_TYPE_CONTROL ||
		    t->type[id] == TOKENIZER_TOKEN_TYPE_USER_DEFINED) && t->off[id + 1] > t->off[id])
			t->n_special++;
	t->special = malloc((t->n_special + 1) * sizeof *t->special);
	if (!t->special) {
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
		goto fail;
	}
	t->n_special = 0;
	for (int32_t id = 0; id < t->n_vocab; id++)
		if ((t->type[id] == TOKENIZER_TOKEN_TYPE_CONTROL ||
		    t->type[id] == TOKENIZER_TOKEN_TYPE_USER_DEFINED) && t->off[id + 1] > t->off[id])
			t->special[t->n_special++] = id;
	qsort_r(t->special, t->n_special, sizeof *t->special, tokenizer_special_cmp, t);
	for (size_t i = 0; i < t->n_special; i++) {
		unsigned char b = (unsigned char)t->text[t->off[t->special[i]]];
		if (t->special_first[b][1] == 0)
			t->special_first[b][0] = (uint32_t)i;
		t->special_first[b][1] = (uint32_t)i + 1;
	}

	for (int32_t id = 0; id < t->n_vocab; id++) {
		size_t pl = tokenizer_piece_raw(t, id, TOKENIZER_DECODE_SPECIAL, NULL, 0);
		if (pl > t->max_piece)
			t->max_piece = pl;
	}
	s = gguf_get_str(g, "tokenizer.chat_template", &len);
	if (s) {
		t->chat_template = malloc(len + 1);
		if (!t->chat_template) {
			engine_errf(err, errlen, "%s: out of memory", "tokenizer");
			goto fail;
		}
		memcpy(t->chat_template, s, len);
		t->chat_template[len] = '\0';
		t->chat_template_len = len;
	}
	return t;
fail:
	tokenizer_free(t);
	return NULL;
}

void tokenizer_free(struct tokenizer *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->off);
	free(t->type);
	free(t->score);
	free(t->eog);
	free(t->hash);
	free(t->pairs);
	free(t->special);
	free(t->chat_template);
	free(t);
}

enum tokenizer_model tokenizer_model_of(const struct tokenizer *t) { return t->model; }
int32_t tokenizer_n_vocab(const struct tokenizer *t) { return t->n_vocab; }
int32_t tokenizer_bos(const struct tokenizer *t) { return t->bos; }
int32_t tokenizer_eos(const struct tokenizer *t) { return t->eos; }
size_t tokenizer_max_piece(const struct tokenizer *t) { return t->max_piece; }

int tokenizer_is_eog(const struct tokenizer *t, int32_t id)
{
	return id >= 0 && id < t->n_vocab && t->eog[id];
}

const char *tokenizer_token_text(const struct tokenizer *t, int32_t id, size_t *len)
{
	if (id < 0 || id >= t->n_vocab)
		return NULL;
	*len = (size_t)(t->off[id + 1] - t->off[id]);
	return t->text + t->off[id];
}

enum tokenizer_token_type tokenizer_token_type(const struct tokenizer *t, int32_t id)
{
	if (id < 0 || id >= t->n_vocab)
		return TOKENIZER_TOKEN_TYPE_UNDEFINED;
	return (enum tokenizer_token_type)t->type[id];
}

const char *tokenizer_chat_template(const struct tokenizer *t, size_t *len)
{
	*len = t->chat_template_len;
	return t->chat_template;
}

void tokenizer_ids_free(struct tokenizer_ids *ids)
{
	if (ids->v)
		explicit_bzero(ids->v, ids->cap * sizeof *ids->v);
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}

static int tokenizer_ids_push(struct tokenizer_ids *ids, int32_t id)
{
	if (ids->n == ids->cap) {
		void *v = ids->v;
		size_t bytes = ids->cap * sizeof *ids->v;
		if (tokenizer_grow(&v, &bytes, ids->n * sizeof *ids->v, (ids->n + 1) * sizeof *ids->v) != 0)
			return -1;
		ids->v = v;
		ids->cap = bytes / sizeof *ids->v;
	}
	ids->v[ids->n++] = id;
	return 0;
}

/* --- merge loop shared by BPE and SPM ---------------------------------- */

struct tokenizer_sym {
	size_t start, len;	/* bytes in the word */
	int32_t id;		/* BPE: token id (-1: none); SPM: unused */
	int32_t prev, next;	/* -1 at the ends */
};

struct tokenizer_cand {
	float key;		/* smaller pops first: BPE rank, SPM -score */
	int32_t left, right;
	size_t left_len, right_len;
	int32_t result;		/* BPE: merged id */
};

/* Scratch for one encode call. */
struct tokenizer_work {
	const struct tokenizer *t;
	struct tokenizer_ids *out;
	struct tokenizer_sym *sym;
	size_t sym_cap;
	struct tokenizer_cand *heap;
	size_t heap_n, heap_cap;
	char *buf;		/* SPM escaped text */
	size_t buf_cap;
	unsigned flags;
	int spm_prefix;		/* next SPM fragment gets a space prefix */
	int oom;
};

static int tokenizer_cand_less(const struct tokenizer_cand *a, const struct tokenizer_cand *b)
{
	return a->key < b->key || (a->key == b->key && a->left < b->left);
}

static int tokenizer_heap_push(struct tokenizer_work *w, const struct tokenizer_cand *c)
{
	size_t i;

	if (w->heap_n == w->heap_cap) {
		void *h = w->heap;
		size_t bytes = w->heap_cap * sizeof *w->heap;
		if (tokenizer_grow(&h, &bytes, w->heap_n * sizeof *w->heap, (w->heap_n + 1) * sizeof *w->heap) != 0)
			return -1;
		w->heap = h;
		w->heap_cap = bytes / sizeof *w->heap;
	}
	i = w->heap_n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!tokenizer_cand_less(c, &w->heap[p]))
			break;
		w->heap[i] = w->heap[p];
		i = p;
	}
	w->heap[i] = *c;
	return 0;
}

static void tokenizer_heap_pop(struct tokenizer_work *w, struct tokenizer_cand *top)
{
	struct tokenizer_cand last;
	size_t i = 0, n;

	*top = w->heap[0];
	last = w->heap[--w->heap_n];
	n = w->heap_n;
	while (2 * i + 1 < n) {
		size_t c = 2 * i + 1;
		if (c + 1 < n && tokenizer_cand_less(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!tokenizer_cand_less(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n)
		w->heap[i] = last;
}

/* Queue the pair (l, l->next) if it can merge. */
static int tokenizer_try_pair(struct tokenizer_work *w, const char *word, int32_t l)
{
	const struct tokenizer *t = w->t;
	struct tokenizer_cand c;
	int32_t r;

	if (l < 0 || (r = w->sym[l].next) < 0)
		return 0;
	c.left = l;
	c.right = r;
	c.left_len = w->sym[l].len;
	c.right_len = w->sym[r].len;
	if (t->model == TOKENIZER_MODEL_BPE) {
		const struct tokenizer_pair *p;
		if (w->sym[l].id < 0 || w->sym[r].id < 0)
			return 0;
		p = tokenizer_pair_find(t, (uint32_t)w->sym[l].id, (uint32_t)w->sym[r].id);
		if (!p)
			return 0;
		c.key = (float)p->rank;
		c.result = p->result;
	} else {
		int32_t id = tokenizer_find(t, word + w->sym[l].start, c.left_len + c.right_len);
		if (id < 0)
			return 0;
		c.key = -t->score[id];
		c.result = id;
	}
	return tokenizer_heap_push(w, &c);
}

static int tokenizer_sym_reserve(struct tokenizer_work *w, size_t n)
{
	void *p = w->sym;
	size_t bytes = w->sym_cap * sizeof *w->sym;

	if (n <= w->sym_cap)
		return 0;
	if (tokenizer_grow(&p, &bytes, 0, n * sizeof *w->sym) != 0)
		return -1;
	w->sym = p;
	w->sym_cap = bytes / sizeof *w->sym;
	return 0;
}

/* Run the merge loop over w->sym[0..n) of word. */
static int tokenizer_merge(struct tokenizer_work *w, const char *word, size_t n)
{
	struct tokenizer_cand c;

	w->heap_n = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (tokenizer_try_pair(w, word, (int32_t)i) != 0)
			return -1;
	while (w->heap_n) {
		tokenizer_heap_pop(w, &c);
		struct tokenizer_sym *l = &w->sym[c.left], *r = &w->sym[c.right];
		/* stale: one side has merged since the pair was queued */
		if (l->len != c.left_len || r->len != c.right_len || l->next != c.right)
			continue;
		l->len += r->len;
		l->id = c.result;
		l->next = r->next;
		if (r->next >= 0)
			w->sym[r->next].prev = c.left;
		r->len = 0;	/* dead */
		if (tokenizer_try_pair(w, word, l->prev) != 0 ||
		    tokenizer_try_pair(w, word, c.left) != 0)
			return -1;
	}
	return 0;
}

/* --- BPE ---------------------------------------------------------------- */

static int tokenizer_bpe_piece(void *ctx, const char *piece, size_t n)
{
	struct tokenizer_work *w = ctx;
	const struct tokenizer *t = w->t;

	/* llama3 (llama.cpp's ignore_merges): a piece that is itself a vocab
	 * entry is that token, whatever the merges would build. */
	if (t->pre == PRETOK_KIND_LLAMA3) {
		size_t k = 0;
		void *b = w->buf;
		if (tokenizer_grow(&b, &w->buf_cap, 0, 2 * n) != 0)
			return -1;
		w->buf = b;
		for (size_t i = 0; i < n; i++)
			k += unicode_utf8_encode(tokenizer_byte_cp[(unsigned char)piece[i]], w->buf + k);
		int32_t id = tokenizer_find(t, w->buf, k);
		if (id >= 0)
			return tokenizer_ids_push(w->out, id);
	}
	if (tokenizer_sym_reserve(w, n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tokenizer_sym *s = &w->sym[i];
		s->start = i;
		s->len = 1;
		s->id = t->byte_token[(unsigned char)piece[i]];
		s->prev = (int32_t)i - 1;
		s->next = i + 1 < n ? (int32_t)i + 1 : -1;
	}
	if (tokenizer_merge(w, piece, n) != 0)
		return -1;
	for (int32_t i = 0; i >= 0; i = w->sym[i].next) {
		int32_t id = w->sym[i].id;
		if (id < 0)
			id = t->unk;
		if (id < 0)
			return 1;	/* a byte with no token: vocab is incomplete */
		if (tokenizer_ids_push(w->out, id) != 0)
			return -1;
	}
	return 0;
}

/* --- SPM ---------------------------------------------------------------- */

static int tokenizer_spm_fragment(struct tokenizer_work *w, const char *text, size_t n)
{
	const struct tokenizer *t = w->t;
	size_t need = 3 * n + 3, k = 0, ns = 0;

	/* escape: optional leading space, then ' ' -> U+2581 */
	void *nb = w->buf;
	if (tokenizer_grow(&nb, &w->buf_cap, 0, need) != 0)
		return -1;
	w->buf = nb;
	if (w->spm_prefix && t->add_space_prefix) {
		memcpy(w->buf, "\xe2\x96\x81", 3);
		k = 3;
	}
	for (size_t i = 0; i < n; i++) {
		if (text[i] == ' ') {
			memcpy(w->buf + k, "\xe2\x96\x81", 3);
			k += 3;
		} else {
			w->buf[k++] = text[i];
		}
	}
	w->spm_prefix = 0;
	if (tokenizer_sym_reserve(w, k) != 0)
		return -1;
	for (size_t p = 0; p < k; ns++) {
		uint32_t cp;
		size_t l = unicode_utf8_decode(w->buf + p, k - p, &cp);
		w->sym[ns].start = p;
		w->sym[ns].len = l;
		w->sym[ns].id = -1;
		w->sym[ns].prev = (int32_t)ns - 1;
		w->sym[ns].next = p + l < k ? (int32_t)ns + 1 : -1;
		p += l;
	}
	if (ns == 0)
		return 0;
	if (tokenizer_merge(w, w->buf, ns) != 0)
		return -1;
	for (int32_t i = 0; i >= 0; i = w->sym[i].next) {
		const struct tokenizer_sym *s = &w->sym[i];
		int32_t id = tokenizer_find(t, w->buf + s->start, s->len);
		if (id >= 0) {
			if (tokenizer_ids_push(w->out, id) != 0)
				return -1;
			continue;
		}
		for (size_t b = 0; b < s->len; b++) {
			id = t->byte_token[(unsigned char)w->buf[s->start + b]];
			if (id < 0)
				id = t->unk;
			if (id < 0)
				return 1;
			if (tokenizer_ids_push(w->out, id) != 0)
				return -1;
		}
	}
	return 0;
}

/* --- special tokens and the driver ------------------------------------- */

static int tokenizer_text_fragment(struct tokenizer_work *w, const char *text, size_t n)
{
	if (n == 0)
		return 0;
	if (w->t->model == TOKENIZER_MODEL_SPM)
		return tokenizer_spm_fragment(w, text, n);
	return pretok_split(w->t->pre, text, n, tokenizer_bpe_piece, w);
}

/* Longest special token at text[pos..n), or -1. With a mask, a CONTROL
 * token only counts where every one of its bytes is marked. */
static int32_t tokenizer_special_at(const struct tokenizer *t, const char *text, size_t n,
    size_t pos, unsigned flags, const uint8_t *mask)
{
	unsigned char b = (unsigned char)text[pos];

	for (uint32_t i = t->special_first[b][0]; i < t->special_first[b][1]; i++) {
		int32_t id = t->special[i];
		size_t l = (size_t)(t->off[id + 1] - t->off[id]);
		if (t->type[id] == TOKENIZER_TOKEN_TYPE_CONTROL && !(flags & TOKENIZER_ENCODE_PARSE_SPECIAL))
			continue;
		if (l > n - pos || memcmp(text + pos, t->text + t->off[id], l) != 0)
			continue;
		if (mask && t->type[id] == TOKENIZER_TOKEN_TYPE_CONTROL) {
			size_t k = 0;
			while (k < l && mask[pos + k])
				k++;
			if (k < l)
				continue;
		}
		return id;
	}
	return -1;
}

int tokenizer_encode(const struct tokenizer *t, const char *text, size_t n,
    unsigned flags, struct tokenizer_ids *out, char *err, size_t errlen)
{
	return tokenizer_encode_masked(t, text, n, flags, NULL, out, err, errlen);
}

int tokenizer_encode_masked(const struct tokenizer *t, const char *text, size_t n,
    unsigned flags, const uint8_t *special_mask, struct tokenizer_ids *out,
    char *err, size_t errlen)
{
	struct tokenizer_work w;
	size_t pos = 0, frag = 0;
	int rc = 0;

	memset(&w, 0, sizeof w);
	w.t = t;
	w.out = out;
	w.flags = flags;
	w.spm_prefix = 1;
	if ((flags & TOKENIZER_ENCODE_ADD_SPECIAL) && t->add_bos && t->bos >= 0 &&
	    tokenizer_ids_push(out, t->bos) != 0)
		rc = -1;
	while (rc == 0 && pos < n) {
		int32_t id = t->n_special ?
		    tokenizer_special_at(t, text, n, pos, flags, special_mask) : -1;
		if (id < 0) {
			pos++;
			continue;
		}
		if ((rc = tokenizer_text_fragment(&w, text + frag, pos - frag)) != 0)
			break;
		if (tokenizer_ids_push(out, id) != 0) {
			rc = -1;
			break;
		}
		w.spm_prefix = 1;
		pos += (size_t)(t->off[id + 1] - t->off[id]);
		frag = pos;
	}
	if (rc == 0)
		rc = tokenizer_text_fragment(&w, text + frag, n - frag);
	if (rc == 0 && (flags & TOKENIZER_ENCODE_ADD_SPECIAL) && t->add_eos && t->eos >= 0 &&
	    tokenizer_ids_push(out, t->eos) != 0)
		rc = -1;
	if (w.buf)
		explicit_bzero(w.buf, w.buf_cap);
	if (w.sym)
		explicit_bzero(w.sym, w.sym_cap * sizeof *w.sym);
	if (w.heap)
		explicit_bzero(w.heap, w.heap_cap * sizeof *w.heap);
	free(w.buf);
	free(w.sym);
	free(w.heap);
	if (rc < 0)
		engine_errf(err, errlen, "%s: out of memory", "tokenizer");
	else if (rc > 0)
		engine_errf(err, errlen, "%s: text has a byte the vocabulary cannot represent", "tokenizer");
	return rc ? -1 : 0;
}

/* --- decoding ----------------------------------------------------------- */

/* The bytes of token id, without the SPM leading-space rule. */
static size_t tokenizer_piece_raw(const struct tokenizer *t, int32_t id, unsigned flags,
    char *buf, size_t cap)
{
	const char *s;
	size_t len, k = 0;

	if (id < 0 || id >= t->n_vocab)
		return 0;
	s = t->text + t->off[id];
	len = (size_t)(t->off[id + 1] - t->off[id]);
	switch (t->type[id]) {
	case TOKENIZER_TOKEN_TYPE_CONTROL:
	case TOKENIZER_TOKEN_TYPE_UNKNOWN:
		if (!(flags & TOKENIZER_DECODE_SPECIAL))
			return 0;
		/* fall through */
	case TOKENIZER_TOKEN_TYPE_USER_DEFINED:
		if (buf)
			memcpy(buf, s, len < cap ? len : cap);
		return len;
	case TOKENIZER_TOKEN_TYPE_BYTE:
		if (t->model == TOKENIZER_MODEL_SPM && len == 6 && memcmp(s, "<0x", 3) == 0) {
			unsigned v;
			if (sscanf(s + 3, "%2x", &v) == 1) {
				if (buf && cap)
					buf[0] = (char)v;
				return 1;
			}
		}
		break;
	default:
		break;
	}
	if (t->model == TOKENIZER_MODEL_SPM) {
		for (size_t i = 0; i < len; i++) {
			if (i + 2 < len && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
				if (buf && k < cap)
					buf[k] = ' ';
				k++;
				i += 2;
			} else {
				if (buf && k < cap)
					buf[k] = s[i];
				k++;
			}
		}
		return k;
	}
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t l = unicode_utf8_decode(s + i, len - i, &cp);
		int b = cp < 512 ? tokenizer_cp_byte[cp] : -1;
		if (b < 0) {
			/* not byte-encoded (malformed vocab entry): copy as is */
			for (size_t j = 0; j < l; j++, k++)
				if (buf && k < cap)
					buf[k] = s[i + j];
		} else {
			if (buf && k < cap)
				buf[k] = (char)b;
			k++;
		}
		i += l;
	}
	return k;
}

size_t tokenizer_token_to_piece(const struct tokenizer *t, int32_t id,
    unsigned flags, char *buf, size_t cap)
{
	return tokenizer_piece_raw(t, id, flags, buf, cap);
}

/* SPM adds a space before the text; decoding from the start drops it. */
static size_t tokenizer_piece_first(const struct tokenizer *t, int32_t id, unsigned flags,
    char *buf, size_t cap, int *started)
{
	size_t l = tokenizer_piece_raw(t, id, flags, buf, cap);

	if (*started || l == 0)
		return l;
	*started = 1;
	if (t->model == TOKENIZER_MODEL_SPM && t->add_space_prefix && buf[0] == ' ') {
		memmove(buf, buf + 1, l - 1);
		return l - 1;
	}
	return l;
}

char *tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n,
    unsigned flags, size_t *len)
{
	size_t cap = 64, k = 0;
	char *out = malloc(cap);
	int started = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (k + t->max_piece + 1 > cap) {
			size_t nc = (k + t->max_piece + 1) * 2;
			char *no = malloc(nc);
			if (!no) {
				explicit_bzero(out, cap);
				free(out);
				return NULL;
			}
			memcpy(no, out, k);
			explicit_bzero(out, cap);
			free(out);
			out = no;
			cap = nc;
		}
		k += tokenizer_piece_first(t, ids[i], flags, out + k, cap - k, &started);
	}
	out[k] = '\0';
	*len = k;
	return out;
}

size_t tokenizer_stream_push(const struct tokenizer *t, struct tokenizer_stream *s,
    int32_t id, unsigned flags, char *out)
{
	size_t k, total, done;

	memcpy(out, s->hold, s->n_hold);
	k = tokenizer_piece_first(t, id, flags, out + s->n_hold, t->max_piece + 8 - s->n_hold,
	    &s->started);
	total = s->n_hold + k;
	done = unicode_utf8_complete_len(out, total);
	s->n_hold = total - done;
	memcpy(s->hold, out + done, s->n_hold);
	return done;
}

size_t tokenizer_stream_flush(struct tokenizer_stream *s, char *out)
{
	size_t k = s->n_hold;

	memcpy(out, s->hold, k);
	explicit_bzero(s->hold, sizeof s->hold);
	s->n_hold = 0;
	return k;
}
