/* The batched Q4_0 GEMM (engine/gemm.c) on random data: every SIMD version
 * gives bit-identical results to the scalar one, for token counts that hit
 * every tile width and row counts with a remainder past the last 16-row
 * group, with index maps; and each result equals the single-token decode
 * kernel (simd_dot on the same q16 rows) within float rounding (relative to
 * the largest output).  The vectorized activation quantizer writes the
 * same bytes as quant_quantize_act. */
#include "engine/gemm.h"
#include "engine/quant.h"
#include "engine/simd.h"
#include "tests/tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state = 12345;

static float rnd(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return (float)(rng_state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

int main(void)
{
	/* 65 blocks (an odd count), 53 rows (3 groups of 16 and a remainder
	 * for the scalar rows), up to 140 tokens (18 tiles of the AVX-512
	 * version: more than its token cache of 128, and scale tables too big
	 * to build once per call, so they are built per tile) */
	enum { N = 2080, ROWS = 53, TOK = 140, OUT_STRIDE = 64 };
	size_t rb = quant_row_size(QUANT_TYPE_Q4_0, N), ab = quant_act_row_bytes(N);
	uint8_t *w = malloc(rb * ROWS);
	uint8_t *x = aligned_alloc(QUANT_ACT_ALIGN, ab * TOK);
	void *scratch = aligned_alloc(64, (gemm_scratch_bytes(N) + 63) / 64 * 64);
	float *y[SIMD_LEVEL_AVX512 + 1], f[N];
	int32_t in_idx[TOK], out_idx[TOK];
	for (int l = 0; l <= SIMD_LEVEL_AVX512; l++)
		y[l] = calloc((size_t)TOK * OUT_STRIDE, sizeof(float));
	if (!w || !x || !scratch || !y[0] || !y[1] || !y[2]) {
		ok(0, "allocation");
		tap_done();
		return 1;
	}
	for (int r = 0; r < ROWS; r++) {
		for (int i = 0; i < N; i++)
			f[i] = rnd() * (float)(1 + r % 5);
		quant_quantize_row(QUANT_TYPE_Q4_0, f, w + (size_t)r * rb, N);
	}
	uint8_t *wx = malloc(rb * ROWS);
	float *yx = calloc((size_t)TOK * OUT_STRIDE, sizeof(float));
	if (!wx || !yx) {
		ok(0, "allocation");
		tap_done();
		return 1;
	}
	memcpy(wx, w, rb * ROWS);
	for (int r = 0; r + 16 <= ROWS; r += 16)
		quant_q4_0_x16_pack(w + (size_t)r * rb, rb, N, wx + (size_t)r * rb);
	for (int t = 0; t < TOK; t++) {
		for (int i = 0; i < N; i++)
			f[i] = rnd() * (i % 7 == 0 ? 30.0f : 1.0f);
		quant_quantize_act(f, x + (size_t)t * ab, N);
		in_idx[t] = (t * 7) % TOK;	/* a permutation */
		out_idx[t] = TOK - 1 - t;
	}
	enum simd_level top = simd_detect();
	quant_dot_fn dot = simd_dot(QUANT_TYPE_Q4_0, top);
	for (int32_t nt = 1; nt <= TOK; nt = nt < 10 ? nt + 1 : nt == 10 ? 19 : nt == 19 ? 70 : nt == 70 ? TOK : TOK + 1) {
		for (int l = 0; l <= (int)top; l++) {
			struct gemm_q4_0 g = { w, rb, N, x, ab, in_idx, out_idx, nt, y[l], OUT_STRIDE, 0 };
			memset(y[l], 0, (size_t)TOK * OUT_STRIDE * sizeof(float));
			gemm_q4_0_fn fn = gemm_q4_0_pick((enum simd_level)l);
			/* two calls: a split at a 16-row boundary, as the pool's tasks do */
			fn(&g, 0, 32, scratch);
			fn(&g, 32, ROWS, scratch);
		}
		for (int l = 1; l <= (int)top; l++)
			ok(memcmp(y[0], y[l], (size_t)TOK * OUT_STRIDE * sizeof(float)) == 0, "%d tokens: %s == scalar, bit for bit",
				nt, simd_level_name((enum simd_level)l));
		/* the same rows repacked in 16-row groups (a copied model's
		 * layout), the 5 rows past the last group standard */
		for (int l = 0; l <= (int)top; l++) {
			struct gemm_q4_0 g = { wx, rb, N, x, ab, in_idx, out_idx, nt, yx, OUT_STRIDE, ROWS / 16 * 16 };
			memset(yx, 0, (size_t)TOK * OUT_STRIDE * sizeof(float));
			gemm_q4_0_fn fn = gemm_q4_0_pick((enum simd_level)l);
			fn(&g, 0, 32, scratch);
			fn(&g, 32, ROWS, scratch);
			ok(memcmp(y[0], yx, (size_t)TOK * OUT_STRIDE * sizeof(float)) == 0,
				"%d tokens: %s on repacked groups == scalar on the standard rows, bit for bit", nt,
				simd_level_name((enum simd_level)l));
		}
		double worst = 0, scale = 0;
		int written = 1;
		for (int32_t i = 0; i < nt; i++)
			for (int r = 0; r < ROWS; r++) {
				float want = dot(w + (size_t)r * rb, x + (size_t)in_idx[i] * ab, N);
				float got = y[top][(size_t)out_idx[i] * OUT_STRIDE + (size_t)r];
				double e = fabs((double)got - want), a = fabs((double)want);
				worst = e > worst ? e : worst;
				scale = a > scale ? a : scale;
				written &= got != 0;
			}
		/* float sums of 8 blocks in another order: a few ulp of the largest */
		ok(worst <= 1e-6 * scale && written, "%d tokens: == the single-token kernel within rounding (worst %.1e of %.1e)",
			nt, worst, scale);
	}
	/* blocks of zeros, of large and tiny values, and exact halves (ties) */
	uint8_t *q1 = aligned_alloc(QUANT_ACT_ALIGN, ab), *q2 = aligned_alloc(QUANT_ACT_ALIGN, ab);
	size_t used = (size_t)N * sizeof(int16_t) + (size_t)(N / 32) * (8 * sizeof(int32_t) + sizeof(float));
	int same = q1 && q2;
	for (int k = 0; k < 50 && same; k++) {
		for (int i = 0; i < N; i++) {
			int blk = i / 32 + k;
			f[i] = blk % 5 == 0 ? 0.0f : rnd() * (blk % 5 == 1 ? 1e30f : blk % 5 == 2 ? 1e-30f : 3.0f);
			if (blk % 5 == 3 && i % 32 == 0)
				f[i] = 32767.0f;	/* then d = 1: the others are rounded ties */
			if (blk % 5 == 3 && i % 32)
				f[i] = (float)((i * 37 + k) % 200 - 100) + 0.5f;
		}
		for (int l = 0; l <= (int)top; l++) {
			memset(q1, 0xaa, ab);
			memset(q2, 0x55, ab);
			quant_quantize_act(f, q1, N);
			simd_quantize_act((enum simd_level)l)(f, q2, N);
			if (memcmp(q1, q2, used) != 0) {
				tap_diag("quantizer %s: row %d differs", simd_level_name((enum simd_level)l), k);
				same = 0;
			}
		}
	}
	ok(same, "vectorized activation quantizer == quant_quantize_act, byte for byte (50 rows)");
	free(q1);
	free(q2);
	for (int l = 0; l <= SIMD_LEVEL_AVX512; l++)
		free(y[l]);
	free(w);
	free(wx);
	free(yx);
	free(x);
	free(scratch);
	tap_done();
	return 0;
}
