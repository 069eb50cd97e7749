/* Tokenizers built from GGUF metadata (tokenizer.ggml.*):
 *  - "gpt2": byte-level BPE, merges applied by rank, after a pre-tokenizer
 *    named by tokenizer.ggml.pre (engine/pretok.h);
 *  - "llama": SentencePiece BPE by token score with <0xXX> byte fallback.
 * Special tokens (CONTROL when asked for, USER_DEFINED always) are cut out
 * of the text before pre-tokenization, as llama.cpp and HF tokenizers do.
 * A loaded tokenizer is immutable and owns copies of everything it needs,
 * so it outlives the GGUF mapping and may be shared between threads. */
#ifndef HAFEN_ENGINE_TOKENIZER_H
#define HAFEN_ENGINE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gguf.h"

enum tokenizer_model {
	TOKENIZER_MODEL_BPE = 0,	/* "gpt2" */
	TOKENIZER_MODEL_SPM,		/* "llama" */
};

/* tokenizer.ggml.token_type values (llama.cpp llama_token_type). */
enum tokenizer_token_type {
	TOKENIZER_TOKEN_TYPE_UNDEFINED = 0,
	TOKENIZER_TOKEN_TYPE_NORMAL = 1,
	TOKENIZER_TOKEN_TYPE_UNKNOWN = 2,
	TOKENIZER_TOKEN_TYPE_CONTROL = 3,
	TOKENIZER_TOKEN_TYPE_USER_DEFINED = 4,
	TOKENIZER_TOKEN_TYPE_UNUSED = 5,
	TOKENIZER_TOKEN_TYPE_BYTE = 6,
};

/* Encode flags. */
#define TOKENIZER_ENCODE_ADD_SPECIAL	0x1u	/* BOS/EOS as the vocab asks */
#define TOKENIZER_ENCODE_PARSE_SPECIAL	0x2u	/* match CONTROL tokens in text */
/* Decode flags. */
#define TOKENIZER_DECODE_SPECIAL	0x1u	/* render CONTROL tokens' text */

struct tokenizer;

/* Growable id list; start zeroed, free with tokenizer_ids_free. */
struct tokenizer_ids {
	int32_t *v;
	size_t n;
	size_t cap;
};

/* Streaming decoder state: holds back an incomplete UTF-8 tail. Zero it
 * before the first token. */
struct tokenizer_stream {
	char hold[8];
	size_t n_hold;
	int started;
};

struct tokenizer *tokenizer_load(const struct gguf_file *g, char *err, size_t errlen);
void tokenizer_free(struct tokenizer *t);

enum tokenizer_model tokenizer_model_of(const struct tokenizer *t);
int32_t tokenizer_n_vocab(const struct tokenizer *t);
int32_t tokenizer_bos(const struct tokenizer *t);	/* -1 if none */
int32_t tokenizer_eos(const struct tokenizer *t);	/* -1 if none */
/* 1 for tokens that end a generation (EOS, EOT, <|im_end|>, ...). */
int tokenizer_is_eog(const struct tokenizer *t, int32_t id);
/* Token text as stored in the vocab (byte-level encoded for BPE). */
const char *tokenizer_token_text(const struct tokenizer *t, int32_t id, size_t *len);
enum tokenizer_token_type tokenizer_token_type(const struct tokenizer *t, int32_t id);
/* Id of the token whose stored text is exactly s, or -1. */
int32_t tokenizer_find(const struct tokenizer *t, const char *s, size_t len);
/* Longest decoded piece of any token, for sizing stream buffers. */
size_t tokenizer_max_piece(const struct tokenizer *t);
/* tokenizer.chat_template (not NUL-terminated) or NULL. */
const char *tokenizer_chat_template(const struct tokenizer *t, size_t *len);

/* Append the tokens of text[0..n) to out. */
int tokenizer_encode(const struct tokenizer *t, const char *text, size_t n,
    unsigned flags, struct tokenizer_ids *out, char *err, size_t errlen);
/* As tokenizer_encode, but CONTROL tokens are recognised only where
 * special_mask[i] is non-zero for all their bytes (chat templates mark their
 * own text, so a user who types "<|im_end|>" gets plain text). The text is
 * still split as a whole, so tokens are the same as for the plain string. */
int tokenizer_encode_masked(const struct tokenizer *t, const char *text, size_t n,
    unsigned flags, const uint8_t *special_mask, struct tokenizer_ids *out,
    char *err, size_t errlen);
void tokenizer_ids_free(struct tokenizer_ids *ids);

/* The bytes of one token. Returns the full length; writes at most cap. */
size_t tokenizer_token_to_piece(const struct tokenizer *t, int32_t id,
    unsigned flags, char *buf, size_t cap);
/* Decode ids into a NUL-terminated malloc'd string (*len bytes, may hold
 * invalid UTF-8 when the ids do). Returns NULL on allocation failure. */
char *tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n,
    unsigned flags, size_t *len);
/* Streaming: write the complete UTF-8 produced by adding id into out, which
 * must hold tokenizer_max_piece(t) + 8 bytes; returns the bytes written.
 * tokenizer_stream_flush writes out whatever is held back. */
size_t tokenizer_stream_push(const struct tokenizer *t, struct tokenizer_stream *s,
    int32_t id, unsigned flags, char *out);
size_t tokenizer_stream_flush(struct tokenizer_stream *s, char *out);

#endif
