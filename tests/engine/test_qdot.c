/* Legacy-quant dot products on q16 activations: every SIMD level's kernel
 * agrees with the scalar reference within float rounding (the integer block
 * sums are exact; only the order of the float scaling differs), and the
 * kernel for SIMD_DOT_ROWS rows at once returns for each row exactly what
 * the one-row kernel does, for row lengths with and without a tail of
 * fewer than 8 blocks.  The vectorized activation quantization writes the
 * same bytes as quant_quantize_act. */
#include "engine/quant.h"
#include "engine/simd.h"
#include "tests/tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t qdot_rng = 12345;

static float qdot_rand(void)
{
	qdot_rng = qdot_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((int64_t)(qdot_rng >> 40) - (1 << 23)) / (float)(1 << 23);
}

int main(void)
{
	static const struct { const char *name; uint32_t type; } types[] = {
		{ "q4_0", QUANT_TYPE_Q4_0 }, { "q5_0", QUANT_TYPE_Q5_0 }, { "q8_0", QUANT_TYPE_Q8_0 },
	};
	static const int64_t lens[] = { 32, 224, 256, 416, 2048 };
	enum simd_level top = simd_detect();
	{
		int64_t n = 32 * 20;
		size_t rb = quant_act_row_bytes(n);
		float *xf = malloc((size_t)n * sizeof(float));
		uint8_t *a = aligned_alloc(QUANT_ACT_ALIGN, rb), *b = aligned_alloc(QUANT_ACT_ALIGN, rb);
		if (!xf || !a || !b)
			return 1;
		for (int64_t j = 0; j < n; j++) {
			/* a zero block, ties at .5 after scaling, tiny and large values */
			float v = qdot_rand();
			xf[j] = j < 32 ? 0.0f : j < 64 ? (float)(j % 5) - 2.0f : v * (j % 3 == 0 ? 1e-6f : 100.0f);
		}
		for (enum simd_level l = SIMD_LEVEL_SCALAR; l <= top; l++) {
			memset(a, 0, rb);
			memset(b, 0xff, rb);
			quant_quantize_act(xf, a, n);
			simd_quantize_act(l)(xf, b, n);
			ok(memcmp(a, b, quant_act_row_used(n)) == 0,
				"%s activation quantization: the same bytes as the scalar one", simd_level_name(l));
		}
		/* the byte split: q = 256 * ah + al exactly, osum = the 8 off words */
		const int16_t *q = (const int16_t *)(const void *)a;
		const int32_t *off = (const int32_t *)(const void *)(q + n);
		const int32_t *osum = (const int32_t *)(const void *)((const float *)(off + 8 * (n / 32)) + n / 32);
		const uint8_t *al = (const uint8_t *)(osum + n / 32);
		const int8_t *ah = (const int8_t *)(al + n);
		int split = 1;
		for (int64_t j = 0; j < n; j++)
			split &= q[j] == 256 * ah[j] + al[j];
		for (int64_t bl = 0; bl < n / 32; bl++) {
			int32_t s = 0;
			for (int k = 0; k < 8; k++)
				s += off[8 * bl + k];
			split &= osum[bl] == s;
		}
		ok(split, "activation bytes: q == 256 * ah + al, osum == -8 * block sum");
		free(xf);
		free(a);
		free(b);
	}
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
		for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
			int64_t n = lens[li];
			int rows = 3 * SIMD_DOT_ROWS;
			size_t rb = quant_row_size(types[ti].type, n);
			uint8_t *w = malloc(rb * (size_t)rows);
			float *xf = malloc((size_t)n * sizeof(float)), *wf = malloc((size_t)n * sizeof(float));
			void *xq = aligned_alloc(QUANT_ACT_ALIGN, quant_act_row_bytes(n));
			if (!w || !xf || !wf || !xq)
				return 1;
			for (int r = 0; r < rows; r++) {
				for (int64_t j = 0; j < n; j++)
					wf[j] = qdot_rand() * (r == 1 ? 1e-3f : 1.0f);
				quant_quantize_row(types[ti].type, wf, w + (size_t)r * rb, n);
			}
			for (int64_t j = 0; j < n; j++)
				xf[j] = qdot_rand() * (j % 64 < 32 ? 4.0f : 0.01f);
			quant_quantize_act(xf, xq, n);
			quant_dot_fn ref = quant_dot_scalar(types[ti].type);
			for (enum simd_level l = SIMD_LEVEL_SCALAR; l <= top; l++) {
				quant_dot_fn dot = simd_dot(types[ti].type, l);
				simd_dot_rows_fn dr = simd_dot_rows(types[ti].type, l);
				double worst = 0;
				int same = 1;
				for (int r = 0; r < rows; r++) {
					const uint8_t *row = w + (size_t)r * rb;
					/* error bound: rounding of n/32 scaled block sums */
					double a = ref(row, xq, n), b = dot(row, xq, n), mag = 0;
					for (int64_t j = 0; j < n; j++)
						mag += fabs(xf[j]);
					double e = fabs(a - b) / (mag + 1e-30);
					if (e > worst)
						worst = e;
				}
				ok(worst < 1e-6, "%s n=%lld %s: matches the scalar kernel (worst %.1e of sum|x|)",
					types[ti].name, (long long)n, simd_level_name(l), worst);
				if (!dr)
					continue;
				for (int r = 0; r + SIMD_DOT_ROWS <= rows; r += SIMD_DOT_ROWS) {
					float out[SIMD_DOT_ROWS];
					dr(w + (size_t)r * rb, rb, xq, n, out);
					for (int k = 0; k < SIMD_DOT_ROWS; k++)
						same &= out[k] == dot(w + (size_t)(r + k) * rb, xq, n);
				}
				ok(same, "%s n=%lld %s: %d rows at once == one at a time, bit for bit", types[ti].name,
					(long long)n, simd_level_name(l), SIMD_DOT_ROWS);
			}
			free(w);
			free(xf);
			free(wf);
			free(xq);
		}
	/* repacked Q4_0 groups: every level's 16-row kernel returns for each
	 * row bit for bit what the same level's kernel returns on the standard
	 * row (the byte split is exact, the float order the same) */
	for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
		int64_t n = lens[li];
		int rows = 2 * QUANT_X16_ROWS;
		size_t rb = quant_row_size(QUANT_TYPE_Q4_0, n);
		uint8_t *w = malloc(rb * (size_t)rows), *g = malloc(rb * (size_t)rows);
		float *xf = malloc((size_t)n * sizeof(float)), *wf = malloc((size_t)n * sizeof(float));
		void *xq = aligned_alloc(QUANT_ACT_ALIGN, quant_act_row_bytes(n));
		if (!w || !g || !xf || !wf || !xq)
			return 1;
		for (int r = 0; r < rows; r++) {
			for (int64_t j = 0; j < n; j++)
				wf[j] = qdot_rand() * (r % 7 == 1 ? 1e-3f : 1.0f);
			quant_quantize_row(QUANT_TYPE_Q4_0, wf, w + (size_t)r * rb, n);
		}
		for (int64_t j = 0; j < n; j++)
			xf[j] = qdot_rand() * (j % 64 < 32 ? 4.0f : 0.01f) + (j % 97 == 0 ? 50.0f : 0.0f);
		quant_quantize_act(xf, xq, n);
		int back = 1;
		for (int k = 0; k < rows / QUANT_X16_ROWS; k++) {
			size_t at = (size_t)k * QUANT_X16_ROWS * rb;
			quant_q4_0_x16_pack(w + at, rb, n, g + at);
			for (int r = 0; r < QUANT_X16_ROWS; r++)
				for (int64_t b = 0; b < n / 32; b++) {
					struct quant_block_q4_0 blk;
					quant_q4_0_x16_block(g + at, b, r, &blk);
					back &= memcmp(&blk, w + at + (size_t)r * rb + (size_t)b * sizeof blk, sizeof blk) == 0;
				}
		}
		ok(back, "q4_0 x16 n=%lld: every block of every row reads back unchanged", (long long)n);
		for (enum simd_level l = SIMD_LEVEL_SCALAR; l <= top; l++) {
			quant_dot_fn dot = simd_dot(QUANT_TYPE_Q4_0, l);
			simd_dot_x16_fn x16 = simd_dot_q4_0_x16(l);
			int same = 1;
			for (int k = 0; k < rows / QUANT_X16_ROWS; k++) {
				float out[QUANT_X16_ROWS];
				size_t at = (size_t)k * QUANT_X16_ROWS * rb;
				x16(g + at, xq, n, out);
				for (int r = 0; r < QUANT_X16_ROWS; r++) {
					float want = dot(w + at + (size_t)r * rb, xq, n);
					if (memcmp(&out[r], &want, sizeof want) != 0) {
						if (same)
							tap_diag("row %d: %.9g != %.9g", k * QUANT_X16_ROWS + r, out[r], want);
						same = 0;
					}
				}
			}
			ok(same, "q4_0 x16 n=%lld %s: 16-row groups == the standard rows' kernel, bit for bit", (long long)n,
				simd_level_name(l));
		}
		free(w);
		free(g);
		free(xf);
		free(wf);
		free(xq);
	}
	/* decoding's attention helpers: bit for bit one dot_f32 / axpy per row */
	{
		static const int64_t widths[] = { 128, 75, 200, 300 };
		enum { M = 37, STRIDE = 320 };
		float *k = malloc(sizeof(float) * M * STRIDE), *q = malloc(sizeof(float) * STRIDE);
		float *w = malloc(sizeof(float) * M), *y1 = malloc(sizeof(float) * STRIDE), *y2 = malloc(sizeof(float) * STRIDE);
		if (!k || !q || !w || !y1 || !y2)
			return 1;
		for (int i = 0; i < M * STRIDE; i++)
			k[i] = qdot_rand();
		for (int i = 0; i < STRIDE; i++)
			q[i] = qdot_rand() * 3.0f;
		for (int j = 0; j < M; j++)
			w[j] = qdot_rand() * qdot_rand();
		for (enum simd_level l = SIMD_LEVEL_SCALAR; l <= top; l++)
			for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
				int64_t n = widths[wi];
				float out[M];
				int same = 1;
				for (int64_t m = 1; m <= M; m += 6) {
					simd_dot_f32_rows(l)(q, k, STRIDE, m, n, out);
					for (int64_t j = 0; j < m; j++) {
						float want = simd_dot_f32(l)(q, k + j * STRIDE, n);
						same &= memcmp(&want, &out[j], sizeof want) == 0;
					}
					for (int i = 0; i < STRIDE; i++)
						y1[i] = y2[i] = (float)i * 0.25f;
					simd_axpy_rows(l)(y1, w, k, STRIDE, m, n);
					for (int64_t j = 0; j < m; j++)
						simd_axpy(l)(y2, w[j], k + j * STRIDE, n);
					same &= memcmp(y1, y2, sizeof(float) * STRIDE) == 0;
				}
				ok(same, "%s attention rows, width %lld: dot_f32_rows / axpy_rows == one call per row, bit for bit",
					simd_level_name(l), (long long)n);
			}
		free(k);
		free(q);
		free(w);
		free(y1);
		free(y2);
	}
	tap_done();
	return tap_failed ? 1 : 0;
}
