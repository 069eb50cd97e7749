/* Runtime-dispatched kernels: AVX-512, AVX2 or the scalar ones in quant.c,
 * picked once per context from what the CPU reports. */
#ifndef HAFEN_ENGINE_SIMD_H
#define HAFEN_ENGINE_SIMD_H

#include "engine/quant.h"

enum simd_level {
	SIMD_LEVEL_SCALAR,
	SIMD_LEVEL_AVX2,
	SIMD_LEVEL_AVX512,
};

enum simd_level simd_detect(void);
const char *simd_level_name(enum simd_level l);
/* Best dot product for a weight type at or below the given level. */
quant_dot_fn simd_dot(uint32_t type, enum simd_level l);
/* SIMD_DOT_ROWS weight rows at once (stride bytes apart) against one
 * activation row: out[r] = dot(row + r * stride, x), each bit-identical to
 * what simd_dot's kernel returns for that row; the activation loads are
 * shared.  NULL where a type or level has none (use simd_dot per row). */
#define SIMD_DOT_ROWS 4
typedef void (*simd_dot_rows_fn)(const void *row, size_t stride, const void *x, int64_t n, float *out);
simd_dot_rows_fn simd_dot_rows(uint32_t type, enum simd_level l);
/* The 16 rows of a repacked Q4_0 group (quant.h) against one activation
 * row: out[r] bit for bit what simd_dot (Q4_0, the same level) returns for
 * the standard row r. */
typedef void (*simd_dot_x16_fn)(const void *group, const void *x, int64_t n, float *out);
simd_dot_x16_fn simd_dot_q4_0_x16(enum simd_level l);
/* quant_quantize_act, vectorized: the same bytes. */
typedef void (*simd_quantize_act_fn)(const float *x, void *row, int64_t n);
simd_quantize_act_fn simd_quantize_act(enum simd_level l);
/* Float dot product (attention). */
typedef float (*simd_dot_f32_fn)(const float *a, const float *b, int64_t n);
simd_dot_f32_fn simd_dot_f32(enum simd_level l);
/* y[i] += a * x[i] (attention's weighted sum of values). */
typedef void (*simd_axpy_fn)(float *y, float a, const float *x, int64_t n);
simd_axpy_fn simd_axpy(enum simd_level l);
/* Decoding's attention: out[j] = dot_f32(q, k + j * stride, n) for j < m,
 * and y += w[j] * (v + j * stride) for j = 0 .. m-1 in order, each bit for
 * bit what simd_dot_f32 / simd_axpy (the same level) give row by row. */
typedef void (*simd_dot_f32_rows_fn)(const float *q, const float *k, size_t stride, int64_t m, int64_t n, float *out);
simd_dot_f32_rows_fn simd_dot_f32_rows(enum simd_level l);
typedef void (*simd_axpy_rows_fn)(float *y, const float *w, const float *v, size_t stride, int64_t m, int64_t n);
simd_axpy_rows_fn simd_axpy_rows(enum simd_level l);
/* 4x4 tile for batched matmuls: out[4*r + t] = w[r] . x[t] for 4 weight rows
 * (n floats each, consecutive) and 4 activation rows; n % 16 == 0. */
/* Dequantize n values (whole blocks) of a weight type into f32. */
typedef void (*simd_dequant_fn)(const void *src, float *dst, int64_t n);
simd_dequant_fn simd_dequant(uint32_t type, enum simd_level l);
typedef void (*simd_tile_fn)(const float *w, const float *const *x, int64_t n, float *out);
simd_tile_fn simd_tile_4x4(enum simd_level l);

#endif
