/* Sampler. Order of the steps (as HF transformers' logits warpers):
 * penalties on raw logits -> temperature -> top-k -> softmax -> top-p ->
 * min-p -> draw. Ties between equal logits go to the lower token id, so a
 * given seed gives the same tokens on every machine and thread count.
 *
 * Penalties over the last penalty_last_n tokens, each distinct token once:
 *  repetition (CTRL, Keskar et al. 2019): logit / r if positive, * r if not;
 *  presence and frequency (OpenAI API): logit -= presence + count * frequency.
 * RNG: xoshiro256** (Blackman & Vigna) seeded through splitmix64. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/errmsg.h"
#include "engine/sampler.h"

struct sampler_cand {
	int32_t id;
	float v;
};

struct sampler {
	struct sampler_params p;
	int32_t n_vocab;
	struct sampler_cand *cand;	/* n_vocab */
	uint32_t *count;		/* occurrences in the window, n_vocab */
	uint8_t *seen;			/* scratch flags, n_vocab */
	int32_t *hist;			/* ring of penalty_last_n tokens */
	size_t hist_n, hist_pos;
	uint64_t rng[4];
};

void sampler_params_default(struct sampler_params *p)
{
	p->temperature = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repetition_penalty = 1.0f;
	p->presence_penalty = 0.0f;
	p->frequency_penalty = 0.0f;
	p->penalty_last_n = 64;
	p->seed = 0;
}

int sampler_params_check(const struct sampler_params *p, char *err, size_t errlen)
{
	/* the OpenAI API's ranges, where it has them */
	if (!(p->temperature >= 0.0f && p->temperature <= 2.0f)) {
		engine_errf(err, errlen, "temperature: expected a number from 0 to 2");
		return -1;
	}
	if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) {
		engine_errf(err, errlen, "top_p: expected a number greater than 0 and at most 1");
		return -1;
	}
	if (!(p->min_p >= 0.0f && p->min_p <= 1.0f)) {
		engine_errf(err, errlen, "min_p: expected a number from 0 to 1");
		return -1;
	}
	if (!(p->repetition_penalty > 0.0f && p->repetition_penalty <= 10.0f)) {
		engine_errf(err, errlen, "repetition_penalty: expected a number greater than 0 and at most 10");
		return -1;
	}
	if (!(p->presence_penalty >= -2.0f && p->presence_penalty <= 2.0f)) {
		engine_errf(err, errlen, "presence_penalty: expected a number from -2 to 2");
		return -1;
	}
	if (!(p->frequency_penalty >= -2.0f && p->frequency_penalty <= 2.0f)) {
		engine_errf(err, errlen, "frequency_penalty: expected a number from -2 to 2");
		return -1;
	}
	if (p->top_k < 0 || p->penalty_last_n < 0) {
		engine_errf(err, errlen, "%s: expected a number >= 0", p->top_k < 0 ? "top_k" : "penalty_last_n");
		return -1;
	}
	return 0;
}

static uint64_t sampler_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t sampler_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t sampler_next(struct sampler *s)
{
	uint64_t *r = s->rng;
	uint64_t out = sampler_rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = sampler_rotl(r[3], 45);
	return out;
}

void sampler_reset(struct sampler *s)
{
	uint64_t x = s->p.seed;

	for (int i = 0; i < 4; i++)
		s->rng[i] = sampler_splitmix(&x);
	explicit_bzero(s->count, (size_t)s->n_vocab * sizeof *s->count);
	explicit_bzero(s->hist, ((size_t)s->p.penalty_last_n + 1) * sizeof *s->hist);
	s->hist_n = s->hist_pos = 0;
}

struct sampler *sampler_new(const struct sampler_params *p, int32_t n_vocab, char *err, size_t errlen)
{
	struct sampler *s;

	if (sampler_params_check(p, err, errlen) != 0)
		return NULL;
	if (n_vocab <= 0) {
		engine_errf(err, errlen, "sampler: empty vocabulary");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		goto oom;
	s->p = *p;
	s->n_vocab = n_vocab;
	s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
	s->count = calloc((size_t)n_vocab, sizeof *s->count);
	s->seen = calloc((size_t)n_vocab, 1);
	s->hist = malloc(((size_t)p->penalty_last_n + 1) * sizeof *s->hist);
	if (!s->cand || !s->count || !s->seen || !s->hist)
		goto oom;
	sampler_reset(s);
	return s;
oom:
	sampler_free(s);
	engine_errf(err, errlen, "sampler: out of memory");
	return NULL;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	/* the history is the conversation's tokens: do not leave it behind */
	if (s->hist)
		explicit_bzero(s->hist, ((size_t)s->p.penalty_last_n + 1) * sizeof *s->hist);
	if (s->count)
		explicit_bzero(s->count, (size_t)s->n_vocab * sizeof *s->count);
	free(s->cand);
	free(s->count);
	free(s->seen);
	free(s->hist);
	free(s);
}

void sampler_accept(struct sampler *s, int32_t token)
{
	size_t cap = (size_t)s->p.penalty_last_n;

	if (cap == 0 || token < 0 || token >= s->n_vocab)
		return;
	if (s->hist_n == cap) {
		s->count[s->hist[s->hist_pos]]--;	/* evict the oldest */
	} else {
		s->hist_n++;
	}
	s->hist[s->hist_pos] = token;
	s->count[token]++;
	s->hist_pos = (s->hist_pos + 1) % cap;
}

/* a ranks before b: higher value, then lower id */
static int sampler_better(const struct sampler_cand *a, const struct sampler_cand *b)
{
	return a->v > b->v || (a->v == b->v && a->id < b->id);
}

/* Min-heap (worst at the root) over c[0..k). */
static void sampler_sift(struct sampler_cand *c, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, w = i;
		if (l < k && sampler_better(&c[w], &c[l]))
			w = l;
		if (l + 1 < k && sampler_better(&c[w], &c[l + 1]))
			w = l + 1;
		if (w == i)
			return;
		struct sampler_cand t = c[i];
		c[i] = c[w];
		c[w] = t;
		i = w;
	}
}

/* Move the k best of c[0..n) to c[0..k), sorted best first. A heap kept
 * in place (no qsort: glibc's may allocate, and nothing here should),
 * O(n log k). */
static void sampler_top_k(struct sampler_cand *c, size_t n, size_t k)
{
	for (size_t i = k / 2; i-- > 0;)
		sampler_sift(c, k, i);
	for (size_t i = k; i < n; i++) {
		if (sampler_better(&c[i], &c[0])) {
			c[0] = c[i];
			sampler_sift(c, k, 0);
		}
	}
	/* heapsort: the worst goes to the end each round */
	for (size_t m = k; m > 1; m--) {
		struct sampler_cand t = c[0];
		c[0] = c[m - 1];
		c[m - 1] = t;
		sampler_sift(c, m - 1, 0);
	}
}

static void sampler_penalize(struct sampler *s)
{
	const struct sampler_params *p = &s->p;
	size_t cap = (size_t)p->penalty_last_n;

	if (s->hist_n == 0 || (p->repetition_penalty == 1.0f && p->presence_penalty == 0.0f &&
	    p->frequency_penalty == 0.0f))
		return;
	for (size_t i = 0; i < s->hist_n; i++) {
		int32_t t = s->hist[(s->hist_pos + cap - 1 - i) % cap];
		float *v = &s->cand[t].v;
		if (s->seen[t])
			continue;
		s->seen[t] = 1;
		if (*v > 0.0f)
			*v /= p->repetition_penalty;
		else
			*v *= p->repetition_penalty;
		*v -= p->presence_penalty + (float)s->count[t] * p->frequency_penalty;
	}
	for (size_t i = 0; i < s->hist_n; i++)
		s->seen[s->hist[i]] = 0;
}

/* Cut sorted probabilities c[0..n) (unnormalised, best first) to the top-p
 * nucleus of mass total and to min-p; returns the new count. */
static size_t sampler_cut(const struct sampler_params *p, const struct sampler_cand *c, size_t n,
    double total)
{
	double acc = 0.0;

	if (p->top_p < 1.0f) {
		for (size_t i = 0; i < n; i++) {
			acc += c[i].v;
			if (acc >= p->top_p * total) {
				n = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0.0f) {
		size_t k = 1;
		while (k < n && c[k].v >= p->min_p * c[0].v)
			k++;
		n = k;
	}
	return n;
}

int32_t sampler_sample(struct sampler *s, const float *logits)
{
	const struct sampler_params *p = &s->p;
	struct sampler_cand *c = s->cand;
	size_t n = (size_t)s->n_vocab, best = 0;
	double sum = 0.0, acc, u;
	float maxv, inv_t;

	for (size_t i = 0; i < n; i++) {
		c[i].id = (int32_t)i;
		/* NaN never wins and never gets probability */
		c[i].v = isnan(logits[i]) ? -INFINITY : logits[i];
	}
	sampler_penalize(s);
	for (size_t i = 1; i < n; i++)
		if (sampler_better(&c[i], &c[best]))
			best = i;
	/* greedy, or nothing to weigh (all -inf, or +inf on top) */
	if (p->temperature <= 0.0f || !isfinite(c[best].v))
		return c[best].id;
	maxv = c[best].v;
	inv_t = 1.0f / p->temperature;
	/* Probabilities relative to the best, exp((v - max) / T): the order
	 * of the candidates does not depend on T, so only the survivors of
	 * top-k are scaled. */
	if (p->top_k > 0 && (size_t)p->top_k < n) {
		n = (size_t)p->top_k;
		sampler_top_k(c, (size_t)s->n_vocab, n);
		for (size_t i = 0; i < n; i++) {
			c[i].v = expf((c[i].v - maxv) * inv_t);
			sum += c[i].v;
		}
		n = sampler_cut(p, c, n, sum);
	} else if (p->top_p < 1.0f || p->min_p > 0.0f) {
		/* No top-k: avoid sorting the whole vocabulary. min-p keeps
		 * exactly the v >= max + T ln(min_p); top-p needs only the
		 * sorted head that reaches its mass, found by sorting a head
		 * of 64, 256, ... candidates until it does. */
		double total = 0.0;
		size_t limit = n, k;
		for (size_t i = 0; i < n; i++)
			total += expf((c[i].v - maxv) * inv_t);
		if (p->min_p > 0.0f) {
			float thr = maxv + p->temperature * logf(p->min_p);
			limit = 0;
			for (size_t i = 0; i < n; i++)
				if (c[i].v >= thr)
					c[limit++] = c[i];
		}
		n = limit;
		for (k = 64; p->top_p < 1.0f; k *= 4) {
			size_t kk = k < limit ? k : limit;
			sampler_top_k(c, limit, kk);
			acc = 0.0;
			n = kk;
			for (size_t i = 0; i < kk; i++) {
				acc += expf((c[i].v - maxv) * inv_t);
				if (acc >= p->top_p * total) {
					n = i + 1;
					goto head_done;
				}
			}
			if (kk == limit)
				break;
		}
head_done:
		for (size_t i = 0; i < n; i++)
			c[i].v = expf((c[i].v - maxv) * inv_t);
	} else {
		/* plain temperature sampling: no order needed */
		for (size_t i = 0; i < n; i++)
			c[i].v = expf((c[i].v - maxv) * inv_t);
	}
	sum = 0.0;
	for (size_t i = 0; i < n; i++)
		sum += c[i].v;
	u = (double)(sampler_next(s) >> 11) * (1.0 / 9007199254740992.0) * sum;
	acc = 0.0;
	for (size_t i = 0; i < n; i++) {
		acc += c[i].v;
		if (u < acc)
			return c[i].id;
	}
	return c[n - 1].id;
}

long sampler_stop_find(const char *text, size_t len, const char *const *stops,
    size_t n_stops, size_t *safe)
{
	long found = -1;
	size_t hold = 0;

	for (size_t i = 0; i < n_stops; i++) {
		size_t k = strlen(stops[i]);
		const char *m;
		if (k == 0)
			continue;
		m = k <= len ? memmem(text, len, stops[i], k) : NULL;
		if (m && (found < 0 || m - text < found))
			found = m - text;
		/* longest proper prefix of the stop string that ends the text */
		for (size_t l = (k - 1 < len ? k - 1 : len); l > hold; l--) {
			if (memcmp(text + len - l, stops[i], l) == 0) {
				hold = l;
				break;
			}
		}
	}
	*safe = found >= 0 ? (size_t)found : len - hold;
	return found;
}
