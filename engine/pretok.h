/* Pre-tokenizers for byte-level BPE: split text into the pieces that BPE
 * merges never cross. Hand-written equivalents of the regexes the models were
 * trained with (llama.cpp src/llama-vocab.cpp lists them per
 * tokenizer.ggml.pre). Pieces are byte ranges of the input, so bytes that are
 * not valid UTF-8 pass through unchanged. */
#ifndef HAFEN_ENGINE_PRETOK_H
#define HAFEN_ENGINE_PRETOK_H

#include <stddef.h>

enum pretok_kind {
	PRETOK_KIND_QWEN2 = 0,
	PRETOK_KIND_LLAMA3,
	PRETOK_KIND_DEEPSEEK_LLM,
	PRETOK_KIND_DEEPSEEK3,
	PRETOK_KIND_GPT2,	/* GPT-2's own pattern: OLMo/OLMoE, MPT */
};

/* Called once per piece, in order; a non-zero return stops the split and
 * is returned by pretok_split. */
typedef int (*pretok_piece_fn)(void *ctx, const char *piece, size_t len);

/* Map a tokenizer.ggml.pre name to a kind; -1 if we have no splitter. */
int pretok_kind_from_name(const char *name, enum pretok_kind *kind);
const char *pretok_kind_name(enum pretok_kind kind);

int pretok_split(enum pretok_kind kind, const char *text, size_t n,
    pretok_piece_fn fn, void *ctx);

#endif
