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
			ok(memcmp(a, b, (size_t)n * 2 + (size_t)n / 32 * 36) == 0,
				"%s activation quantization: the same bytes as the scalar one", simd_level_name(l));
		}
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
	tap_done();
	return tap_failed ? 1 : 0;
}
