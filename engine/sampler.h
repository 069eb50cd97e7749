/* Token sampling from logits: repetition / presence / frequency penalties,
 * top-k, top-p (nucleus), min-p, temperature, seeded RNG; temperature 0 is
 * greedy. Plus stop-string matching for streamed text. All buffers are
 * allocated by sampler_new: sampling a token allocates nothing. */
#ifndef HAFEN_ENGINE_SAMPLER_H
#define HAFEN_ENGINE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct sampler_params {
	float temperature;	/* <= 0: greedy (argmax) */
	int32_t top_k;		/* <= 0: off */
	float top_p;		/* >= 1: off */
	float min_p;		/* <= 0: off */
	float repetition_penalty;	/* 1: off (CTRL, Keskar et al. 2019) */
	float presence_penalty;	/* 0: off (OpenAI API semantics) */
	float frequency_penalty;	/* 0: off */
	int32_t penalty_last_n;	/* tokens of history the penalties see; 0: off */
	uint64_t seed;
};

struct sampler;

void sampler_params_default(struct sampler_params *p);
/* Check ranges; 0 or -1 with a message naming the parameter. */
int sampler_params_check(const struct sampler_params *p, char *err, size_t errlen);

struct sampler *sampler_new(const struct sampler_params *p, int32_t n_vocab, char *err, size_t errlen);
void sampler_free(struct sampler *s);
/* Forget the history and restart the RNG from the seed. */
void sampler_reset(struct sampler *s);
/* Record a token (prompt or generated) for the penalties. */
void sampler_accept(struct sampler *s, int32_t token);
/* Pick the next token from n_vocab logits (not modified). */
int32_t sampler_sample(struct sampler *s, const float *logits);

/* Stop strings over streamed text: text[0..len) is the output so far.
 * Returns the offset of the earliest complete stop string, or -1; then
 * *safe is how many bytes can be shown because no stop string can still
 * start before them. */
long sampler_stop_find(const char *text, size_t len, const char *const *stops,
    size_t n_stops, size_t *safe);

#endif
