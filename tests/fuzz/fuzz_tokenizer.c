/* Fuzz the tokenizer: the first byte picks what the rest is.
 *  0: text for the pre-tokenizers -- the pieces must tile the input;
 *  1: text for small byte-level BPE (qwen2 and llama3 splitting) and
 *     SentencePiece vocabs built in
 *     memory -- decode(encode(x)) must give x back (BPE always, SPM when x
 *     has no literal U+2581, which SPM uses for the space);
 *  2: a GGUF file whose tokenizer.* metadata is loaded and used;
 *  3: a chat template (untrusted model metadata too): detected, its
 *     default system prompt extracted, a conversation rendered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat_template.h"
#include "engine/gguf.h"
#include "engine/pretok.h"
#include "engine/tokenizer.h"
#include "engine/unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_buf {
	uint8_t *p;
	size_t n, cap;
};

static int fz_write(void *ctx, const void *buf, size_t n)
{
	struct fz_buf *b = ctx;

	if (b->n + n > b->cap) {
		size_t nc = (b->n + n) * 2;
		uint8_t *np = realloc(b->p, nc);
		if (!np)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, buf, n);
	b->n += n;
	return 0;
}

static int fz_fill(void *ctx, size_t idx, void *buf, size_t size)
{
	(void)ctx;
	(void)idx;
	memset(buf, 0, size);
	return 0;
}

/* Build a GGUF holding only tokenizer metadata and load it: SentencePiece,
 * or byte-level BPE with the given pre-tokenizer. */
static struct tokenizer *fz_make(int spm, const char *pre)
{
	static char store[400][16];
	const char *tok[400];
	size_t len[400];
	int32_t type[400];
	float score[400];
	const char *merges[16];
	size_t n = 0, nm = 0;
	struct gguf_writer *w = gguf_writer_new();
	struct fz_buf b = { 0 };
	char err[256];
	struct tokenizer *t = NULL;

	if (!w)
		return NULL;
	if (spm) {
		static const char *const words[] = { "\xe2\x96\x81", "\xe2\x96\x81t", "\xe2\x96\x81th",
		    "\xe2\x96\x81the", "t", "h", "e", "a", "\xe2\x96\x81\x61", "n", "d", "an", "and" };
		tok[n] = "<unk>"; type[n] = 2; score[n++] = 0;
		tok[n] = "<s>"; type[n] = 3; score[n++] = 0;
		tok[n] = "</s>"; type[n] = 3; score[n++] = 0;
		for (int i = 0; i < 256; i++) {
			snprintf(store[n], sizeof store[n], "<0x%02X>", i);
			tok[n] = store[n]; type[n] = 6; score[n++] = 0;
		}
		for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
			tok[n] = words[i]; type[n] = 1; score[n++] = -(float)i;
		}
	} else {
		/* the 256 byte-level letters, then merged words */
		uint32_t next = 256;

		for (int bt = 0; bt < 256; bt++) {
			/* GPT-2 byte -> code point, as the tokenizer maps it */
			int printable = (bt >= 0x21 && bt <= 0x7E) || (bt >= 0xA1 && bt <= 0xAC) || (bt >= 0xAE && bt <= 0xFF);
			uint32_t cp = printable ? (uint32_t)bt : next++;
			size_t l = unicode_utf8_encode(cp, store[n]);
			store[n][l] = '\0';
			tok[n] = store[n]; type[n] = 1; score[n++] = 0;
		}
		static const char *const words[][2] = {
			{ "\xc4\xa0", "t" }, { "\xc4\xa0t", "h" }, { "\xc4\xa0th", "e" }, { "i", "n" }, { "in", "g" },
			{ "\xc4\xa0", "\xc4\xa0" },
		};
		static char mstore[8][32];
		for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
			snprintf(store[n], sizeof store[n], "%s%s", words[i][0], words[i][1]);
			tok[n] = store[n]; type[n] = 1; score[n++] = 0;
			snprintf(mstore[i], sizeof mstore[i], "%s %s", words[i][0], words[i][1]);
			merges[nm++] = mstore[i];
		}
		tok[n] = "<|im_start|>"; type[n] = 3; score[n++] = 0;
		tok[n] = "<tool>"; type[n] = 4; score[n++] = 0;
	}
	for (size_t i = 0; i < n; i++)
		len[i] = strlen(tok[i]);
	int r = gguf_writer_add_str(w, "tokenizer.ggml.model", spm ? "llama" : "gpt2", spm ? 5 : 4);
	if (!spm)
		r |= gguf_writer_add_str(w, "tokenizer.ggml.pre", pre, strlen(pre));
	r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tok, len, n);
	r |= gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	if (spm)
		r |= gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", score, n);
	else
		r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, NULL, nm);
	if (r == 0 && gguf_writer_write(w, fz_write, fz_fill, &b, err, sizeof err) == 0) {
		struct gguf_file *g = gguf_open_memory(b.p, b.n, err, sizeof err);
		if (g) {
			t = tokenizer_load(g, err, sizeof err);
			gguf_close(g);
		}
	}
	gguf_writer_free(w);
	free(b.p);
	return t;
}

static int fz_tile(void *ctx, const char *piece, size_t len)
{
	const char **next = ctx;

	if (piece != *next || len == 0)
		abort();	/* pieces must be contiguous and non-empty */
	*next = piece + len;
	return 0;
}

static void fz_round_trip(const struct tokenizer *t, const char *s, size_t n, int spm)
{
	struct tokenizer_ids ids = { 0 };
	char err[128];
	size_t len;

	if (tokenizer_encode(t, s, n, 0, &ids, err, sizeof err) != 0)
		abort();	/* every byte has a token in these vocabs */
	char *back = tokenizer_decode(t, ids.v, ids.n, 0, &len);
	int check = !spm || !memmem(s, n, "\xe2\x96\x81", 3);
	/* BPE: the special tokens decode as text too, exactly */
	if (back && check && (len != n || memcmp(back, s, n) != 0))
		abort();
	free(back);
	tokenizer_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tokenizer *bpe, *spm, *bpe3;
	static int ready;
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;

	if (!ready) {
		bpe = fz_make(0, "qwen2");
		bpe3 = fz_make(0, "llama3");
		spm = fz_make(1, NULL);
		if (!bpe || !spm || !bpe3)
			abort();
		ready = 1;
	}
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		for (int k = PRETOK_KIND_QWEN2; k <= PRETOK_KIND_GPT2; k++) {
			const char *next = s;
			pretok_split((enum pretok_kind)k, s, n, fz_tile, &next);
			if (next != s + n)
				abort();	/* pieces must cover the whole input */
		}
		break;
	case 1:
		fz_round_trip(bpe, s, n, 0);
		fz_round_trip(bpe3, s, n, 0);
		fz_round_trip(spm, s, n, 1);
		break;
	case 3: {
		enum chat_template_kind kind;
		char sys[256], err[128];
		long sl = chat_template_default_system(s, n, sys, sizeof sys);
		if (sl >= (long)sizeof sys || (sl >= 0 && sys[sl] != '\0'))
			abort();
		if (chat_template_detect(s, n, &kind) == 0) {
			struct chat_message msgs[2] = {
				{ "system", sl > 0 ? sys : "", sl > 0 ? (size_t)sl : 0 },
				{ "user", s, n },
			};
			struct chat_prompt cp;
			if (chat_template_apply(kind, msgs, 2, CHAT_TEMPLATE_ADD_ASSISTANT | CHAT_TEMPLATE_NO_THINK,
			    &cp, err, sizeof err) == 0) {
				/* the user's bytes are all in the prompt, unmarked */
				size_t unmarked = 0;
				for (size_t i = 0; i < cp.len; i++)
					unmarked += cp.mask[i] == 0;
				if (unmarked != n + (sl > 0 ? (size_t)sl : 0))
					abort();
				chat_prompt_free(&cp);
			}
		}
		break;
	}
	default: {
		char err[256];
		struct gguf_file *g = gguf_open_memory(s, n, err, sizeof err);
		if (g) {
			struct tokenizer *t = tokenizer_load(g, err, sizeof err);
			gguf_close(g);
			if (t) {
				static const char text[] = "Hello w\xc3\xb6rld <|im_start|> \xf0\x9f\xa6\x99 12345\n";
				struct tokenizer_ids ids = { 0 };
				size_t len;
				if (tokenizer_encode(t, text, sizeof text - 1, TOKENIZER_ENCODE_ADD_SPECIAL |
				    TOKENIZER_ENCODE_PARSE_SPECIAL, &ids, err, sizeof err) == 0) {
					free(tokenizer_decode(t, ids.v, ids.n, TOKENIZER_DECODE_SPECIAL, &len));
				}
				tokenizer_ids_free(&ids);
				tokenizer_free(t);
			}
		}
		break;
	}
	}
	return 0;
}
