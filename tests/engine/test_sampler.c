/* Sampler on fixed logits: greedy, seeds, each filter, penalties, stops. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/sampler.h"
#include "tests/tap.h"

#define NV 8

static struct sampler *mk(float temp, int32_t top_k, float top_p, float min_p, uint64_t seed)
{
	struct sampler_params p;
	char err[128];

	sampler_params_default(&p);
	p.temperature = temp;
	p.top_k = top_k;
	p.top_p = top_p;
	p.min_p = min_p;
	p.seed = seed;
	return sampler_new(&p, NV, err, sizeof err);
}

/* Which ids come out of 2000 draws. */
static unsigned drawn_set(struct sampler *s, const float *logits, int counts[NV])
{
	unsigned set = 0;

	memset(counts, 0, NV * sizeof counts[0]);
	for (int i = 0; i < 2000; i++) {
		int32_t id = sampler_sample(s, logits);
		if (id >= 0 && id < NV) {
			set |= 1u << id;
			counts[id]++;
		}
	}
	return set;
}

int main(void)
{
	/* probabilities at T=1: softmax of these is about
	 * .47 .17 .17 .06 .06 .02 .02 .02 (ids 0..7) -- id 2 ties id 1 */
	const float logits[NV] = { 3.0f, 2.0f, 2.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f };
	struct sampler *s;
	struct sampler_params p;
	char err[128];
	int counts[NV];
	unsigned set;

	sampler_params_default(&p);
	ok(sampler_params_check(&p, err, sizeof err) == 0, "defaults are valid");
	p.temperature = 3.0f;
	ok(sampler_params_check(&p, err, sizeof err) == -1 && strstr(err, "temperature"), "bad temperature named");
	sampler_params_default(&p);
	p.top_p = 0.0f;
	ok(sampler_params_check(&p, err, sizeof err) == -1 && strstr(err, "top_p"), "bad top_p named");

	/* greedy: argmax, lower id on ties */
	s = mk(0.0f, 0, 1.0f, 0.0f, 1);
	ok(sampler_sample(s, logits) == 0, "greedy picks the argmax");
	{
		const float tie[NV] = { 0, 5, 5, 0, 0, 0, 0, 0 };
		ok(sampler_sample(s, tie) == 1, "greedy tie goes to the lower id");
		const float nan_l[NV] = { NAN, 1, 2, 0, 0, 0, 0, 0 };
		ok(sampler_sample(s, nan_l) == 2, "NaN logits never win");
	}
	sampler_free(s);

	/* same seed, same sequence; different seed, different sequence */
	{
		struct sampler *a = mk(1.0f, 0, 1.0f, 0.0f, 42), *b = mk(1.0f, 0, 1.0f, 0.0f, 42);
		struct sampler *c = mk(1.0f, 0, 1.0f, 0.0f, 43);
		int same = 1, diff = 0;
		for (int i = 0; i < 200; i++) {
			int32_t x = sampler_sample(a, logits), y = sampler_sample(b, logits), z;
			same &= x == y;
			z = sampler_sample(c, logits);
			diff |= x != z;
		}
		ok(same, "same seed gives the same tokens");
		ok(diff, "another seed gives other tokens");
		sampler_reset(a);
		sampler_reset(b);
		ok(sampler_sample(a, logits) == sampler_sample(b, logits), "reset restarts from the seed");
		sampler_free(a);
		sampler_free(b);
		sampler_free(c);
	}

	/* full distribution: all 8 appear, frequencies near softmax */
	s = mk(1.0f, 0, 1.0f, 0.0f, 7);
	set = drawn_set(s, logits, counts);
	ok(set == 0xFF, "T=1 without filters reaches every token");
	ok(counts[0] > 800 && counts[0] < 1100, "id 0 drawn about 47%% of the time (%d/2000)", counts[0]);
	sampler_free(s);

	/* top_k = 3: only 0, 1, 2 */
	s = mk(1.0f, 3, 1.0f, 0.0f, 7);
	ok(drawn_set(s, logits, counts) == 0x7, "top_k 3 keeps the three best");
	sampler_free(s);
	/* top_k = 2 with a tie at the border: the lower id (1) stays */
	s = mk(1.0f, 2, 1.0f, 0.0f, 7);
	ok(drawn_set(s, logits, counts) == 0x3, "top_k border tie keeps the lower id");
	sampler_free(s);

	/* top_p 0.5: 0 (.47) is not enough, 0 and 1 are (.64) */
	s = mk(1.0f, 0, 0.5f, 0.0f, 7);
	ok(drawn_set(s, logits, counts) == 0x3, "top_p 0.5 keeps the smallest nucleus");
	sampler_free(s);
	s = mk(1.0f, 0, 0.4f, 0.0f, 7);
	ok(drawn_set(s, logits, counts) == 0x1, "top_p below the best keeps one");
	sampler_free(s);

	/* min_p 0.3: keep p >= 0.3 * p(0): e^-1 = .37 passes, e^-2 = .14 not */
	s = mk(1.0f, 0, 1.0f, 0.3f, 7);
	ok(drawn_set(s, logits, counts) == 0x7, "min_p 0.3 keeps ids within e^-1 of the best");
	sampler_free(s);

	/* low temperature sharpens: T=0.1 makes id 0 ~ always */
	s = mk(0.1f, 0, 1.0f, 0.0f, 7);
	drawn_set(s, logits, counts);
	ok(counts[0] == 2000, "T=0.1 concentrates on the best");
	sampler_free(s);

	/* a larger vocabulary: the in-place heap sort must order all of it */
	{
		enum { BIG = 1000 };
		static float big[BIG];
		int32_t best = -1, top3[3] = { -1, -1, -1 };
		for (int i = 0; i < BIG; i++) {
			big[i] = (float)((i * 37) % BIG) / 100.0f;	/* a permutation of 0..9.99 */
			if ((i * 37) % BIG == BIG - 1) top3[0] = best = i;
			if ((i * 37) % BIG == BIG - 2) top3[1] = i;
			if ((i * 37) % BIG == BIG - 3) top3[2] = i;
		}
		struct sampler_params bp;
		sampler_params_default(&bp);
		bp.temperature = 1.0f;
		bp.top_k = 0;
		bp.min_p = 0.0f;
		bp.top_p = 0.005f;	/* the best alone has p = 0.00995 */
		struct sampler *b = sampler_new(&bp, BIG, err, sizeof err);
		int all_best = 1;
		for (int i = 0; i < 200; i++)
			all_best &= sampler_sample(b, big) == best;
		ok(all_best, "top_p over 1000 sorted candidates keeps the argmax");
		sampler_free(b);
		bp.top_p = 1.0f;
		bp.top_k = 3;
		b = sampler_new(&bp, BIG, err, sizeof err);
		int in3 = 1, seen[3] = { 0, 0, 0 };
		for (int i = 0; i < 600; i++) {
			int32_t id = sampler_sample(b, big);
			int k = id == top3[0] ? 0 : id == top3[1] ? 1 : id == top3[2] ? 2 : -1;
			if (k < 0)
				in3 = 0;
			else
				seen[k] = 1;
		}
		ok(in3 && seen[0] && seen[1] && seen[2], "top_k 3 of 1000 draws exactly the three best");
		sampler_free(b);

		/* no top_k, top_p and min_p together over the whole
		 * vocabulary (the path that sorts only a head): the kept set
		 * is the shorter of the two prefixes, worked out here from
		 * the sorted values 9.99, 9.98, ... */
		double total = 0.0, acc = 0.0;
		int n_top_p = 0, n_min_p = 0;
		for (int i = 0; i < BIG; i++)
			total += exp(-(double)i / 100.0);
		for (int i = 0; i < BIG && !n_top_p; i++) {
			acc += exp(-(double)i / 100.0);
			if (acc >= 0.3 * total)
				n_top_p = i + 1;
		}
		for (int i = 0; i < BIG; i++)
			if (exp(-(double)i / 100.0) >= 0.5)
				n_min_p = i + 1;
		int want = n_top_p < n_min_p ? n_top_p : n_min_p;
		bp.top_k = 0;
		bp.top_p = 0.3f;
		bp.min_p = 0.5f;
		b = sampler_new(&bp, BIG, err, sizeof err);
		static unsigned char hit[BIG];
		int outside = 0, distinct = 0;
		memset(hit, 0, sizeof hit);
		for (int i = 0; i < 6000; i++) {
			int32_t id = sampler_sample(b, big);
			int rank = BIG - 1 - (id * 37) % BIG;	/* 0 = best */
			if (rank >= want)
				outside++;
			else if (!hit[rank]++)
				distinct++;
		}
		ok(outside == 0 && distinct == want, "top_p 0.3 + min_p 0.5 keep exactly the %d best (saw %d, %d outside)",
		    want, distinct, outside);
		sampler_free(b);
	}

	/* penalties */
	sampler_params_default(&p);
	p.temperature = 0.0f;
	p.repetition_penalty = 2.0f;
	s = sampler_new(&p, NV, err, sizeof err);
	sampler_accept(s, 0);
	/* 3 / 2 = 1.5 < 2: id 1 wins */
	ok(sampler_sample(s, logits) == 1, "repetition penalty divides a positive logit");
	sampler_free(s);

	p.repetition_penalty = 1.0f;
	p.presence_penalty = 0.6f;
	s = sampler_new(&p, NV, err, sizeof err);
	sampler_accept(s, 0);
	sampler_accept(s, 0);
	/* presence counts once: 3 - 0.6 = 2.4 still beats 2 */
	ok(sampler_sample(s, logits) == 0, "presence penalty counts a token once");
	sampler_free(s);

	p.presence_penalty = 0.0f;
	p.frequency_penalty = 0.6f;
	s = sampler_new(&p, NV, err, sizeof err);
	sampler_accept(s, 0);
	sampler_accept(s, 0);
	/* frequency: 3 - 2 * 0.6 = 1.8 < 2 */
	ok(sampler_sample(s, logits) == 1, "frequency penalty scales with the count");
	sampler_free(s);

	/* the window forgets: last_n = 2, after two other tokens id 0 is free */
	p.penalty_last_n = 2;
	s = sampler_new(&p, NV, err, sizeof err);
	sampler_accept(s, 0);
	sampler_accept(s, 0);
	sampler_accept(s, 5);
	sampler_accept(s, 6);
	ok(sampler_sample(s, logits) == 0, "penalty window of 2 forgets older tokens");
	sampler_free(s);

	/* stop strings */
	{
		const char *stops[] = { "</s>", "\nUser:" };
		size_t safe;
		long at;
		at = sampler_stop_find("Hello</s>more", 13, stops, 2, &safe);
		ok(at == 5 && safe == 5, "stop string found at its offset");
		at = sampler_stop_find("Hello\nUs", 8, stops, 2, &safe);
		ok(at == -1 && safe == 5, "possible stop prefix held back (safe %zu)", safe);
		at = sampler_stop_find("Hello<", 6, stops, 2, &safe);
		ok(at == -1 && safe == 5, "one-byte prefix held back");
		at = sampler_stop_find("Hello", 5, stops, 2, &safe);
		ok(at == -1 && safe == 5, "no prefix: all shown");
		at = sampler_stop_find("a\nUser:b</s>", 12, stops, 2, &safe);
		ok(at == 1, "earliest of several stop strings wins");
	}
	tap_done();
	return tap_failed ? 1 : 0;
}
