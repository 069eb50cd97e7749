/* gemm: the batched (prefill) Q4_0 matmul alone, one thread: the integer
 * GEMM (engine/gemm.c, activations quantized to q16 once per token) next to
 * the peer measured in the same run, the f32 path it replaced (each group
 * of 4 weight rows dequantized once, 4x4 f32 register tiles, the leftover
 * tokens by f32 dot products).  Shapes of OLMoE-1B-7B: an expert's gate or
 * up matrix (1024 x 2048) with the token counts an expert gets in a 64-token
 * batch, and an attention projection (2048 x 2048) with 64 tokens.  The
 * matrices cycle through 64 MB of weights, so they come from memory as in
 * prefill.  A third column runs the same GEMM on the weights repacked in
 * 16-row groups (what a copied model holds, quant.h), whose unpacking
 * needs no gathering.  Times are the thread's CPU time, best of R passes.
 * usage: gemm [--reps R]  -> JSON lines on stdout */
#include "bench/bench_util.h"
#include "engine/gemm.h"
#include "engine/quant.h"
#include "engine/simd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_BENCH_MB 64

static volatile float gemm_bench_sink;

/* The f32 path of forward.c before the GEMM: rows [0, rows) of w. */
static void gemm_bench_f32(const uint8_t *w, size_t rb, int64_t n, int64_t rows, const float *x, int nt, float *y,
	float *wr, simd_dequant_fn deq, simd_tile_fn tile, simd_dot_f32_fn dot)
{
	for (int64_t r = 0; r < rows; r += 4) {
		deq(w + (size_t)r * rb, wr, 4 * n);
		int t = 0;
		for (; t + 4 <= nt; t += 4) {
			const float *xs[4] = { x + (size_t)t * n, x + (size_t)(t + 1) * n, x + (size_t)(t + 2) * n,
				x + (size_t)(t + 3) * n };
			float out[16];
			tile(wr, xs, n, out);
			for (int rr = 0; rr < 4; rr++)
				for (int k = 0; k < 4; k++)
					y[(size_t)(t + k) * rows + (size_t)(r + rr)] = out[4 * rr + k];
		}
		for (; t < nt; t++)
			for (int rr = 0; rr < 4; rr++)
				y[(size_t)t * rows + (size_t)(r + rr)] = dot(wr + rr * n, x + (size_t)t * n, n);
	}
}

int main(int argc, char **argv)
{
	int reps = 5;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: gemm [--reps R]\n");
			return 2;
		}
	}
	if (reps < 1)
		reps = 1;
	const int64_t n = 2048;
	const size_t rb = quant_row_size(QUANT_TYPE_Q4_0, n), ab = quant_act_row_bytes(n);
	const size_t total = (size_t)GEMM_BENCH_MB << 20;
	uint8_t *w = malloc(total);
	float *x = malloc((size_t)64 * n * sizeof(float)), *y = malloc((size_t)64 * 2048 * sizeof(float));
	float *wr = malloc((size_t)4 * n * sizeof(float));
	uint8_t *qa = aligned_alloc(QUANT_ACT_ALIGN, 64 * ab);
	void *scratch = aligned_alloc(64, (gemm_scratch_bytes(n) + 63) / 64 * 64);
	if (!w || !x || !y || !wr || !qa || !scratch) {
		fprintf(stderr, "gemm: out of memory\n");
		return 1;
	}
	uint32_t s = 1;
	float row[2048];
	for (size_t r = 0; r + rb <= total; r += rb) {
		for (int64_t i = 0; i < n; i++) {
			s = s * 1664525u + 1013904223u;
			row[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
		}
		quant_quantize_row(QUANT_TYPE_Q4_0, row, w + r, n);
	}
	for (int64_t i = 0; i < 64 * n; i++) {
		s = s * 1664525u + 1013904223u;
		x[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
	}
	uint8_t *wx = malloc(total);
	if (!wx) {
		fprintf(stderr, "gemm: out of memory\n");
		return 1;
	}
	memcpy(wx, w, total);
	for (size_t r = 0; (r + QUANT_X16_ROWS) * rb <= total; r += QUANT_X16_ROWS)
		quant_q4_0_x16_pack(w + r * rb, rb, n, wx + r * rb);
	enum simd_level l = simd_detect();
	gemm_q4_0_fn gemm = gemm_q4_0_pick(l);
	simd_dequant_fn deq = simd_dequant(QUANT_TYPE_Q4_0, l);
	simd_tile_fn tile = simd_tile_4x4(l);
	simd_dot_f32_fn dot = simd_dot_f32(l);
	static const struct { int64_t rows; int nt; } shapes[] = {
		{ 1024, 3 }, { 1024, 4 }, { 1024, 6 }, { 1024, 8 }, { 1024, 11 }, { 1024, 16 }, { 2048, 64 },
	};
	for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
		int64_t rows = shapes[k].rows;
		int nt = shapes[k].nt;
		size_t mat = (size_t)rows * rb, n_mat = total / mat;
		double best[3] = { 1e30, 1e30, 1e30 };
		for (int rep = 0; rep < reps; rep++)
			for (int v = 0; v < 3; v++) {
				double t0 = bench_now();
				for (size_t m = 0; m < n_mat; m++) {
					const uint8_t *wm = (v == 2 ? wx : w) + m * mat;
					if (v == 0) {
						gemm_bench_f32(wm, rb, n, rows, x, nt, y, wr, deq, tile, dot);
					} else {
						for (int t = 0; t < nt; t++)
							quant_quantize_act(x + (size_t)t * n, qa + (size_t)t * ab, n);
						struct gemm_q4_0 g = { wm, rb, n, qa, ab, NULL, NULL, nt, y, (size_t)rows,
							v == 2 ? rows : 0 };
						/* in tasks of 144 rows, as forward.c splits
						 * an expert's 1024 rows for 2 threads */
						for (int64_t r = 0; r < rows; r += 144)
							gemm(&g, r, r + 144 < rows ? r + 144 : rows, scratch);
					}
					gemm_bench_sink += y[m % ((size_t)nt * rows)];
				}
				double dt = bench_now() - t0;
				best[v] = dt < best[v] ? dt : best[v];
			}
		double macs = (double)n_mat * (double)rows * (double)n * nt;
		printf("{\"simd\":\"%s\",\"rows\":%lld,\"n\":%lld,\"tokens\":%d,\"f32_tiles_gmac_s\":%.2f,"
		       "\"int_gemm_gmac_s\":%.2f,\"speedup\":%.2f,\"int_gemm_repacked_gmac_s\":%.2f}\n",
			simd_level_name(l), (long long)rows, (long long)n, nt, macs / best[0] * 1e-9, macs / best[1] * 1e-9,
			best[0] / best[1], macs / best[2] * 1e-9);
	}
	free(w);
	free(wx);
	free(x);
	free(y);
	free(wr);
	free(qa);
	free(scratch);
	return 0;
}
