/* Batched matmul (prefill) of Q4_0 weights with int16-quantized activation
 * rows (quant.h's q16 layout, the same rows the decode kernels read): for
 * every weight row r and token i, an exact int32 sum per 32-value block,
 * scaled by d_w * d_a and accumulated in float block by block.  The scalar,
 * AVX2 and AVX-512 versions give bit-identical results (docs/engine-kernels.md,
 * "Integer GEMM for prefill"). */
#ifndef HAFEN_ENGINE_GEMM_H
#define HAFEN_ENGINE_GEMM_H

#include "engine/simd.h"

#include <stddef.h>
#include <stdint.h>

/* Weight rows are packed and computed in groups of this many. */
#define GEMM_ROWS 16

/* y[out_idx[i]][r] = W[r] . x[in_idx[i]] for rows r0 <= r < r1, i < n_tok. */
struct gemm_q4_0 {
	const uint8_t *w;	/* (n_out, n) Q4_0 rows, row_bytes apart */
	size_t row_bytes;
	int64_t n;		/* values per row, a multiple of 32 */
	const uint8_t *x;	/* q16 activation rows, x_stride bytes apart (64-byte aligned) */
	size_t x_stride;
	const int32_t *in_idx, *out_idx;	/* NULL: identity */
	int32_t n_tok;
	float *y;
	size_t y_stride;	/* floats */
	int64_t x16_end;	/* rows below it are repacked 16-row groups (quant.h); 0: none */
};

/* scratch: gemm_scratch_bytes(n) bytes, 64-byte aligned, one per thread. */
typedef void (*gemm_q4_0_fn)(const struct gemm_q4_0 *g, int64_t r0, int64_t r1, void *scratch);

/* The fastest version at or below level l that this CPU runs. */
gemm_q4_0_fn gemm_q4_0_pick(enum simd_level l);
size_t gemm_scratch_bytes(int64_t n);

#endif
