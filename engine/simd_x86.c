/* Runtime dispatch between the scalar kernels (quant.c) and x86 SIMD ones.
 * The SIMD functions are compiled with target attributes so that the rest
 * of the build stays baseline x86-64 and runs anywhere. */
#include "engine/simd.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define SIMD_X86 1
#endif

/* The repacked Q4_0 kernels replay the standard kernels' float operations
 * in the same order so that both layouts give the same bits; a compiler
 * that fuses a multiply and an add into one FMA in some of them breaks
 * that.  GCC in ISO C mode (-std=c11) never contracts; clang does by
 * default, and fuzz_gguf (copy vs mapping) caught the layouts differing by
 * up to 9e-5 in a clang build. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static float simd_dot_f32_scalar(const float *a, const float *b, int64_t n)
{
	float s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static void simd_axpy_scalar(float *y, float a, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] += a * x[i];
}

static void simd_tile_scalar(const float *w, const float *const *x, int64_t n, float *out)
{
	for (int r = 0; r < 4; r++)
		for (int t = 0; t < 4; t++)
			out[4 * r + t] = simd_dot_f32_scalar(w + r * n, x[t], n);
}

static void simd_dot_f32_rows_scalar(const float *q, const float *k, size_t stride, int64_t m, int64_t n, float *out)
{
	for (int64_t j = 0; j < m; j++)
		out[j] = simd_dot_f32_scalar(q, k + (size_t)j * stride, n);
}

static void simd_axpy_rows_scalar(float *y, const float *w, const float *v, size_t stride, int64_t m, int64_t n)
{
	for (int64_t j = 0; j < m; j++)
		simd_axpy_scalar(y, w[j], v + (size_t)j * stride, n);
}

enum simd_level simd_detect(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("fma"))
		return SIMD_LEVEL_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return SIMD_LEVEL_AVX2;
#endif
	return SIMD_LEVEL_SCALAR;
}

const char *simd_level_name(enum simd_level l)
{
	static const char *const names[] = {
		[SIMD_LEVEL_SCALAR] = "scalar",
		[SIMD_LEVEL_AVX2] = "avx2",
		[SIMD_LEVEL_AVX512] = "avx512",
	};
	return names[l];
}

#ifdef SIMD_X86

/* ---------------- AVX2 + FMA + F16C ---------------- */
#define SIMD_AVX2 __attribute__((target("avx2,fma,f16c")))

SIMD_AVX2 static float simd_hsum256(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

SIMD_AVX2 static float simd_dot_f32_avx2(const float *a, const float *b, int64_t n)
{
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
	}
	float s = simd_hsum256(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

SIMD_AVX2 static void simd_axpy_avx2(float *y, float a, const float *x, int64_t n)
{
	__m256 va = _mm256_set1_ps(a);
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] += a * x[i];
}

/* Attention while decoding: one query against many keys, one weighted sum
 * of many values.  Per key or value row these run exactly the operations of
 * simd_dot_f32_avx2 / simd_axpy_avx2, in the same order, so the results are
 * bit for bit those of one call per row; they save the call, the reloads of
 * q, and (axpy) the load and store of y for every row, which is kept in
 * registers across the rows. */
SIMD_AVX2 static void simd_dot_f32_rows_avx2(const float *q, const float *k, size_t stride, int64_t m, int64_t n,
	float *out)
{
	int64_t j = 0;
	for (; j + 4 <= m; j += 4) {
		const float *kr[4] = { k + (size_t)j * stride, k + (size_t)(j + 1) * stride, k + (size_t)(j + 2) * stride,
			k + (size_t)(j + 3) * stride };
		__m256 a0[4], a1[4];
#pragma GCC unroll 4
		for (int r = 0; r < 4; r++)
			a0[r] = a1[r] = _mm256_setzero_ps();
		int64_t i = 0;
		for (; i + 16 <= n; i += 16) {
			__m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
#pragma GCC unroll 4
			for (int r = 0; r < 4; r++) {
				a0[r] = _mm256_fmadd_ps(q0, _mm256_loadu_ps(kr[r] + i), a0[r]);
				a1[r] = _mm256_fmadd_ps(q1, _mm256_loadu_ps(kr[r] + i + 8), a1[r]);
			}
		}
		for (int r = 0; r < 4; r++) {
			float s = simd_hsum256(_mm256_add_ps(a0[r], a1[r]));
			for (int64_t t = i; t < n; t++)
				s += q[t] * kr[r][t];
			out[j + r] = s;
		}
	}
	for (; j < m; j++)
		out[j] = simd_dot_f32_avx2(q, k + (size_t)j * stride, n);
}

SIMD_AVX2 static void simd_axpy_rows_avx2(float *y, const float *w, const float *v, size_t stride, int64_t m, int64_t n)
{
	int64_t i = 0;
	for (; i + 64 <= n; i += 64) {
		__m256 a[8];
#pragma GCC unroll 8
		for (int c = 0; c < 8; c++)
			a[c] = _mm256_loadu_ps(y + i + 8 * c);
		for (int64_t j = 0; j < m; j++) {
			__m256 wa = _mm256_set1_ps(w[j]);
			const float *vr = v + (size_t)j * stride + i;
#pragma GCC unroll 8
			for (int c = 0; c < 8; c++)
				a[c] = _mm256_fmadd_ps(wa, _mm256_loadu_ps(vr + 8 * c), a[c]);
		}
#pragma GCC unroll 8
		for (int c = 0; c < 8; c++)
			_mm256_storeu_ps(y + i + 8 * c, a[c]);
	}
	for (; i + 8 <= n; i += 8) {
		__m256 a = _mm256_loadu_ps(y + i);
		for (int64_t j = 0; j < m; j++)
			a = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), _mm256_loadu_ps(v + (size_t)j * stride + i), a);
		_mm256_storeu_ps(y + i, a);
	}
	for (; i < n; i++)
		for (int64_t j = 0; j < m; j++)
			y[i] += w[j] * v[(size_t)j * stride + (size_t)i];
}

SIMD_AVX2 static float simd_dot_wf32_avx2(const void *row, const void *x, int64_t n)
{
	return simd_dot_f32_avx2(row, x, n);
}

SIMD_AVX2 static float simd_dot_f16_avx2(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
		__m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
		acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(b + i + 8), acc1);
	}
	float s = simd_hsum256(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += quant_f16_to_f32(a[i]) * b[i];
	return s;
}

SIMD_AVX2 static __m256 simd_bf16x8_avx2(const uint16_t *p)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

SIMD_AVX2 static float simd_dot_bf16_avx2(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		acc0 = _mm256_fmadd_ps(simd_bf16x8_avx2(a + i), _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(simd_bf16x8_avx2(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
	}
	float s = simd_hsum256(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += quant_bf16_to_f32(a[i]) * b[i];
	return s;
}

/* Legacy quants on int16 activations (quant.h: a quantized row is int16
 * qs[n], int32 off[n/32][8], float d[n/32]).  Per block the 32 weights
 * become two vectors of 16 int16 in value order (nibbles stay unsigned:
 * the lanes start from off, which subtracts 8 times the activations),
 * vpmaddwd or AVX-512 VNNI's vpdpwssd multiplies them with the activations
 * into 8 exact int32 lanes, converted once and scaled by d_w * d_a.  Four
 * accumulators hide the FMA latency. */

#define SIMD_LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define SIMD_LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* lanes of init + lo . q[0..15] + hi . q[16..31] */
SIMD_AVX2 static __m256i simd_madd2_avx2(__m256i init, __m256i lo, __m256i hi, const int16_t *q)
{
	__m256i p = _mm256_add_epi32(init, _mm256_madd_epi16(lo, SIMD_LOAD256(q)));
	return _mm256_add_epi32(p, _mm256_madd_epi16(hi, SIMD_LOAD256(q + 16)));
}

/* Per block, 8 int32 lanes whose sum is the exact integer dot product of
 * the block's (w - 8) with the activations (the lanes start from off). */
SIMD_AVX2 static __m256i simd_q4_0_prod_avx2(const struct quant_block_q4_0 *w, const int16_t *q, const int32_t *off)
{
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	return simd_madd2_avx2(SIMD_LOAD256(off), _mm256_and_si256(v, _mm256_set1_epi16(15)), _mm256_srli_epi16(v, 4),
		q);
}

/* 16 bits of a Q5_0 block's qh as 16 in word j. */
SIMD_AVX2 static __m256i simd_q5_high_avx2(uint32_t h16)
{
	const __m256i bits = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
		(short)0x8000);
	__m256i v = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16((short)h16), bits), bits);
	return _mm256_and_si256(v, _mm256_set1_epi16(16));
}

SIMD_AVX2 static __m256i simd_q5_0_prod_avx2(const struct quant_block_q5_0 *w, const int16_t *q, const int32_t *off)
{
	uint32_t h;
	memcpy(&h, w->qh, 4);
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs)), o = SIMD_LOAD256(off);
	__m256i lo = _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi16(15)), simd_q5_high_avx2(h & 0xffff));
	__m256i hi = _mm256_or_si256(_mm256_srli_epi16(v, 4), simd_q5_high_avx2(h >> 16));
	return simd_madd2_avx2(_mm256_add_epi32(o, o), lo, hi, q);
}

SIMD_AVX2 static __m256i simd_q8_0_prod_avx2(const struct quant_block_q8_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	return simd_madd2_avx2(_mm256_setzero_si256(), _mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs)),
		_mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs + 16)), q);
}

/* The same block sums without the offset (the 4-row kernel adds the
 * offsets per 8 blocks, simd_offs8_*). */
SIMD_AVX2 static __m256i simd_q4_0_prod0_avx2(const struct quant_block_q4_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	return _mm256_add_epi32(_mm256_madd_epi16(_mm256_and_si256(v, _mm256_set1_epi16(15)), SIMD_LOAD256(q)),
		_mm256_madd_epi16(_mm256_srli_epi16(v, 4), SIMD_LOAD256(q + 16)));
}

SIMD_AVX2 static __m256i simd_q5_0_prod0_avx2(const struct quant_block_q5_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	uint32_t h;
	memcpy(&h, w->qh, 4);
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	__m256i lo = _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi16(15)), simd_q5_high_avx2(h & 0xffff));
	__m256i hi = _mm256_or_si256(_mm256_srli_epi16(v, 4), simd_q5_high_avx2(h >> 16));
	return _mm256_add_epi32(_mm256_madd_epi16(lo, SIMD_LOAD256(q)), _mm256_madd_epi16(hi, SIMD_LOAD256(q + 16)));
}

/* The offsets of 8 blocks reduced as the blocks' lanes are: lane b holds
 * the sum of off[b][0..7] (Q4_0), twice it (Q5_0: -16), or 0 (Q8_0). */
SIMD_AVX2 static __m256i simd_offs8_avx2(const int32_t *o)
{
	__m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(SIMD_LOAD256(o), SIMD_LOAD256(o + 8)),
		_mm256_hadd_epi32(SIMD_LOAD256(o + 16), SIMD_LOAD256(o + 24)));
	__m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(SIMD_LOAD256(o + 32), SIMD_LOAD256(o + 40)),
		_mm256_hadd_epi32(SIMD_LOAD256(o + 48), SIMD_LOAD256(o + 56)));
	return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

SIMD_AVX2 static __m256i simd_offs8_q5_avx2(const int32_t *o)
{
	__m256i s = simd_offs8_avx2(o);
	return _mm256_add_epi32(s, s);
}

SIMD_AVX2 static __m256i simd_offs8_zero_avx2(const int32_t *o)
{
	(void)o;
	return _mm256_setzero_si256();
}

SIMD_AVX2 static int32_t simd_hsum_epi32_avx2(__m256i p)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

static uint16_t simd_load_u16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* d_w * d_a of 8 consecutive blocks (block size bs bytes, f16 scale first). */
SIMD_AVX2 static __m256 simd_scales8_avx2(const void *w, size_t bs, const float *da)
{
	const uint8_t *b = w;
	__m128i h = _mm_setr_epi16((short)simd_load_u16(b), (short)simd_load_u16(b + bs),
		(short)simd_load_u16(b + 2 * bs), (short)simd_load_u16(b + 3 * bs), (short)simd_load_u16(b + 4 * bs),
		(short)simd_load_u16(b + 5 * bs), (short)simd_load_u16(b + 6 * bs), (short)simd_load_u16(b + 7 * bs));
	return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_loadu_ps(da));
}

/* The loop shared by every legacy-quant kernel: 8 blocks per step, their
 * exact block sums side by side in one vector (lane b of the step's sum is
 * the sum of block b's 8 lanes: a transposing tree of horizontal adds),
 * scaled by d_w * d_a with one FMA instead of a conversion, a scale
 * broadcast and an FMA per block.  Decoding runs 4 weight rows per pass
 * against one activation row: the rows share the activation loads (with
 * one row, four loads per 18-byte block), and 4 rows are 4 short streams
 * that the hardware prefetcher does not follow (5-6 GB/s from memory,
 * measured), so each step prefetches its share of the group after the
 * next (the caller's rows; the L3 keeps them for the other thread when a
 * task ends).  Two groups ahead rather than one: 5-15% more in two
 * streaming threads and 5 of 6 alternating decode runs faster (noisy
 * machine, docs/benchmarks.md). */
/* Bytes ahead that one row at a time prefetches (measured: 11.5 -> 14 GB/s). */
#define SIMD_PF_ONE 2048
/* Sums of blocks b..b+3 of row wr: [4 low-half sums | 4 high-half sums]. */
#define SIMD_Q16_HALF(prod, wr, b) \
	_mm256_hadd_epi32(_mm256_hadd_epi32(prod(&(wr)[b], q + 32 * (b), off + 8 * (b)), \
				  prod(&(wr)[(b) + 1], q + 32 * ((b) + 1), off + 8 * ((b) + 1))), \
		_mm256_hadd_epi32(prod(&(wr)[(b) + 2], q + 32 * ((b) + 2), off + 8 * ((b) + 2)), \
			prod(&(wr)[(b) + 3], q + 32 * ((b) + 3), off + 8 * ((b) + 3))))

/* Blocks i..i+7 of row wr into acc: lane b holds block i+b's exact sum. */
#define SIMD_Q16_STEP(wtype, prod, scales8, wr, acc) \
	do { \
		__m256i h0_ = SIMD_Q16_HALF(prod, wr, i), h1_ = SIMD_Q16_HALF(prod, wr, i + 4); \
		__m256i s_ = _mm256_add_epi32(_mm256_permute2x128_si256(h0_, h1_, 0x20), \
			_mm256_permute2x128_si256(h0_, h1_, 0x31)); \
		acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s_), scales8(&(wr)[i], sizeof(wtype), d + i), acc); \
	} while (0)

/* The blocks after the last multiple of 8, one by one, rounded as the
 * scalar kernel does. */
#define SIMD_Q16_TAIL(prod, hsum, wr, acc) \
	__extension__({ \
		float r_ = simd_hsum256(acc); \
		for (int64_t j_ = i; j_ < nb; j_++) \
			r_ += quant_f16_to_f32((wr)[j_].d) * d[j_] * (float)hsum(prod(&(wr)[j_], q + 32 * j_, off + 8 * j_)); \
		r_; \
	})

#define SIMD_Q16_SETUP \
	const int16_t *q = x; \
	int64_t nb = n / QUANT_QK, i = 0; \
	const int32_t *off = (const int32_t *)(const void *)(q + n); \
	const float *d = (const float *)(const void *)(off + 8 * nb)

/* Prefetch this step's share of the bytes at pf, and move on. */
#define SIMD_Q16_PREFETCH(pf, bytes) \
	do { \
		for (size_t o_ = 0; o_ < (bytes); o_ += 64) \
			_mm_prefetch((pf) + o_, _MM_HINT_T0); \
		(pf) += (bytes); \
	} while (0)

/* The 4-row kernel's step: each row's 8 block vectors start from zero
 * (prod0: no copy of off per block and row), and the offsets' own tree,
 * computed once per step for the 4 rows, is added to the tree's result:
 * integer sums, so every block sum is the same exact int32 as prod's. */
#define SIMD_Q16_STEP0(wtype, prod0, scales8, wr, acc, o) \
	do { \
		__m256i h0_ = SIMD_Q16_HALF(prod0, wr, i), h1_ = SIMD_Q16_HALF(prod0, wr, i + 4); \
		__m256i s_ = _mm256_add_epi32(_mm256_permute2x128_si256(h0_, h1_, 0x20), \
			_mm256_permute2x128_si256(h0_, h1_, 0x31)); \
		s_ = _mm256_add_epi32(s_, o); \
		acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s_), scales8(&(wr)[i], sizeof(wtype), d + i), acc); \
	} while (0)

/* Prefetch the 4 rows' share written out (a loop of 9 cost 4 instructions
 * per line). */
#define SIMD_Q16_PREFETCH4(pf, bytes) \
	do { \
		_Pragma("GCC unroll 16") for (size_t o_ = 0; o_ < 4 * (bytes); o_ += 64) \
			_mm_prefetch((pf) + o_, _MM_HINT_T0); \
		(pf) += 4 * (bytes); \
	} while (0)

/* One row, and SIMD_DOT_ROWS (4) rows at a time, of a legacy quant.  Every
 * row's arithmetic is the same in both, so a row's result does not depend
 * on how rows are grouped; the 4-row kernel shares the activation loads
 * (the compiler merges the identical loads). */
#define SIMD_DOT_Q16_FNS(attr, name, wtype, prod, prod0, offs8, scales8) \
	attr static float name(const void *row, const void *x, int64_t n) \
	{ \
		SIMD_Q16_SETUP; \
		const wtype *w = row; \
		const char *pf = (const char *)row + SIMD_PF_ONE; \
		__m256 acc = _mm256_setzero_ps(); \
		for (; i + 8 <= nb; i += 8) { \
			SIMD_Q16_PREFETCH(pf, 8 * sizeof(wtype)); \
			SIMD_Q16_STEP(wtype, prod, scales8, w, acc); \
		} \
		return SIMD_Q16_TAIL(prod, simd_hsum_epi32_avx2, w, acc); \
	} \
	attr static void name##_rows(const void *row, size_t stride, const void *x, int64_t n, float *out) \
	{ \
		SIMD_Q16_SETUP; \
		const wtype *w0 = row, *w1 = (const wtype *)(const void *)((const char *)row + stride); \
		const wtype *w2 = (const wtype *)(const void *)((const char *)row + 2 * stride); \
		const wtype *w3 = (const wtype *)(const void *)((const char *)row + 3 * stride); \
		const char *pf = (const char *)row + 8 * stride; \
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
		for (; i + 8 <= nb; i += 8) { \
			SIMD_Q16_PREFETCH4(pf, 8 * sizeof(wtype)); \
			__m256i o_ = offs8(off + 8 * i); \
			SIMD_Q16_STEP0(wtype, prod0, scales8, w0, a0, o_); \
			SIMD_Q16_STEP0(wtype, prod0, scales8, w1, a1, o_); \
			SIMD_Q16_STEP0(wtype, prod0, scales8, w2, a2, o_); \
			SIMD_Q16_STEP0(wtype, prod0, scales8, w3, a3, o_); \
		} \
		out[0] = SIMD_Q16_TAIL(prod, simd_hsum_epi32_avx2, w0, a0); \
		out[1] = SIMD_Q16_TAIL(prod, simd_hsum_epi32_avx2, w1, a1); \
		out[2] = SIMD_Q16_TAIL(prod, simd_hsum_epi32_avx2, w2, a2); \
		out[3] = SIMD_Q16_TAIL(prod, simd_hsum_epi32_avx2, w3, a3); \
	}

SIMD_DOT_Q16_FNS(SIMD_AVX2, simd_dot_q4_0_avx2, struct quant_block_q4_0, simd_q4_0_prod_avx2, simd_q4_0_prod0_avx2,
	simd_offs8_avx2, simd_scales8_avx2)
SIMD_DOT_Q16_FNS(SIMD_AVX2, simd_dot_q5_0_avx2, struct quant_block_q5_0, simd_q5_0_prod_avx2, simd_q5_0_prod0_avx2,
	simd_offs8_q5_avx2, simd_scales8_avx2)
SIMD_DOT_Q16_FNS(SIMD_AVX2, simd_dot_q8_0_avx2, struct quant_block_q8_0, simd_q8_0_prod_avx2, simd_q8_0_prod_avx2,
	simd_offs8_zero_avx2, simd_scales8_avx2)

/* quant_quantize_act with vectors, byte for byte the same: the maximum is
 * exact in any order, d and 1/d are the same scalar operations, and
 * vcvtps2dq rounds to nearest even as lrintf does in the default rounding
 * mode; off comes from vpmaddwd with -8 (exact in int32). */
SIMD_AVX2 static void simd_quantize_act_avx2(const float *x, void *row, int64_t n)
{
	int64_t nb = n / QUANT_QK;
	int16_t *qs = row;
	int32_t *off = (int32_t *)(void *)(qs + n);
	float *ds = (float *)(void *)(off + 8 * nb);
	int32_t *osum = (int32_t *)(void *)(ds + nb);
	uint8_t *al = (uint8_t *)(osum + nb);
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256i lim = _mm256_set1_epi32(32767), nlim = _mm256_set1_epi32(-32767), m8 = _mm256_set1_epi16(-8);
	for (int64_t i = 0; i < nb; i++, x += QUANT_QK, qs += QUANT_QK, off += 8) {
		__m256 v[4];
		for (int k = 0; k < 4; k++)
			v[k] = _mm256_loadu_ps(x + 8 * k);
		__m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
			_mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
		__m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
		h = _mm_max_ps(h, _mm_movehl_ps(h, h));
		h = _mm_max_ss(h, _mm_movehdup_ps(h));
		float amax = _mm_cvtss_f32(h);
		float d = amax / 32767, id = d != 0 ? 1.0f / d : 0;
		ds[i] = d;
		__m256 vid = _mm256_set1_ps(id);
		__m256i q[4];
		for (int k = 0; k < 4; k++)
			q[k] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v[k], vid)), lim), nlim);
		/* packs interleaves the 128-bit lanes; the permute restores value order */
		__m256i lo = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xd8);
		__m256i hi = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2], q[3]), 0xd8);
		_mm256_storeu_si256((__m256i *)(void *)qs, lo);
		_mm256_storeu_si256((__m256i *)(void *)(qs + 16), hi);
		__m256i o = _mm256_add_epi32(_mm256_madd_epi16(lo, m8), _mm256_madd_epi16(hi, m8));
		_mm256_storeu_si256((__m256i *)(void *)off, o);
		/* quant_act_split's bytes: the low bytes unsigned, the high ones
		 * by an arithmetic shift (packs lanes interleave as above) */
		osum[i] = simd_hsum_epi32_avx2(o);
		const __m256i mff = _mm256_set1_epi16(0xff);
		__m256i l8 = _mm256_packus_epi16(_mm256_and_si256(lo, mff), _mm256_and_si256(hi, mff));
		__m256i h8 = _mm256_packs_epi16(_mm256_srai_epi16(lo, 8), _mm256_srai_epi16(hi, 8));
		_mm256_storeu_si256((__m256i *)(void *)(al + QUANT_QK * i), _mm256_permute4x64_epi64(l8, 0xd8));
		_mm256_storeu_si256((__m256i *)(void *)(al + n + QUANT_QK * i), _mm256_permute4x64_epi64(h8, 0xd8));
	}
}

/* K-quants: the scalar block decoder to the stack, then a vector dot. */
SIMD_AVX2 static float simd_dot_k_avx2(uint32_t type, const void *row, const float *b, int64_t n)
{
	float y[QUANT_QK_K];
	size_t bs = type == QUANT_TYPE_Q4_K ? sizeof(struct quant_block_q4_k) : sizeof(struct quant_block_q6_k);
	const uint8_t *w = row;
	float s = 0;
	for (int64_t i = 0; i < n / QUANT_QK_K; i++, b += QUANT_QK_K, w += bs) {
		quant_dequantize_row(type, w, y, QUANT_QK_K);
		s += simd_dot_f32_avx2(y, b, QUANT_QK_K);
	}
	return s;
}

SIMD_AVX2 static float simd_dot_q4_k_avx2(const void *row, const void *x, int64_t n)
{
	return simd_dot_k_avx2(QUANT_TYPE_Q4_K, row, x, n);
}

SIMD_AVX2 static float simd_dot_q6_k_avx2(const void *row, const void *x, int64_t n)
{
	return simd_dot_k_avx2(QUANT_TYPE_Q6_K, row, x, n);
}

/* ---------------- AVX-512 (F + BW) ---------------- */
#define SIMD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

SIMD_AVX512 static float simd_dot_f32_avx512(const float *a, const float *b, int64_t n)
{
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	int64_t i = 0;
	for (; i + 32 <= n; i += 32) {
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
	}
	for (; i + 16 <= n; i += 16)
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
	float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

SIMD_AVX512 static void simd_axpy_avx512(float *y, float a, const float *x, int64_t n)
{
	__m512 va = _mm512_set1_ps(a);
	int64_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] += a * x[i];
}

/* Decoding's scores prefetch the keys this many rows ahead: a head's keys
 * are one stretch of the KV cache (kvcache.h), read once per token, and
 * the prefetch cut the attention's time over the cache by ~10 % at 128
 * positions (1.29-1.39 ms per token against 1.43-1.58, OLMoE shape,
 * docs/benchmarks.md "Engine", round 7); the same for the values measured
 * no gain.  A prefetch changes no result. */
#define SIMD_ROWS_PREFETCH 16

/* simd_dot_f32_rows_avx2 and simd_axpy_rows_avx2 on 512-bit vectors: per
 * row the operations of simd_dot_f32_avx512 / simd_axpy_avx512. */
SIMD_AVX512 static void simd_dot_f32_rows_avx512(const float *q, const float *k, size_t stride, int64_t m, int64_t n,
	float *out)
{
	int64_t j = 0;
	for (; j + 4 <= m; j += 4) {
		const float *kr[4] = { k + (size_t)j * stride, k + (size_t)(j + 1) * stride, k + (size_t)(j + 2) * stride,
			k + (size_t)(j + 3) * stride };
		__m512 a0[4], a1[4];
#pragma GCC unroll 4
		for (int r = 0; r < 4; r++)
			a0[r] = a1[r] = _mm512_setzero_ps();
		if (j + SIMD_ROWS_PREFETCH + 4 <= m)
			for (int r = 0; r < 4; r++)
				for (int64_t o = 0; o < n; o += 16)
					_mm_prefetch((const char *)(k + (size_t)(j + SIMD_ROWS_PREFETCH + r) * stride + o), _MM_HINT_T0);
		int64_t i = 0;
		for (; i + 32 <= n; i += 32) {
			__m512 q0 = _mm512_loadu_ps(q + i), q1 = _mm512_loadu_ps(q + i + 16);
#pragma GCC unroll 4
			for (int r = 0; r < 4; r++) {
				a0[r] = _mm512_fmadd_ps(q0, _mm512_loadu_ps(kr[r] + i), a0[r]);
				a1[r] = _mm512_fmadd_ps(q1, _mm512_loadu_ps(kr[r] + i + 16), a1[r]);
			}
		}
		for (; i + 16 <= n; i += 16) {
			__m512 q0 = _mm512_loadu_ps(q + i);
#pragma GCC unroll 4
			for (int r = 0; r < 4; r++)
				a0[r] = _mm512_fmadd_ps(q0, _mm512_loadu_ps(kr[r] + i), a0[r]);
		}
		for (int r = 0; r < 4; r++) {
			float s = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));
			for (int64_t t = i; t < n; t++)
				s += q[t] * kr[r][t];
			out[j + r] = s;
		}
	}
	for (; j < m; j++)
		out[j] = simd_dot_f32_avx512(q, k + (size_t)j * stride, n);
}

SIMD_AVX512 static void simd_axpy_rows_avx512(float *y, const float *w, const float *v, size_t stride, int64_t m,
	int64_t n)
{
	int64_t i = 0;
	for (; i + 128 <= n; i += 128) {
		__m512 a[8];
#pragma GCC unroll 8
		for (int c = 0; c < 8; c++)
			a[c] = _mm512_loadu_ps(y + i + 16 * c);
		for (int64_t j = 0; j < m; j++) {
			__m512 wa = _mm512_set1_ps(w[j]);
			const float *vr = v + (size_t)j * stride + i;
#pragma GCC unroll 8
			for (int c = 0; c < 8; c++)
				a[c] = _mm512_fmadd_ps(wa, _mm512_loadu_ps(vr + 16 * c), a[c]);
		}
#pragma GCC unroll 8
		for (int c = 0; c < 8; c++)
			_mm512_storeu_ps(y + i + 16 * c, a[c]);
	}
	for (; i + 16 <= n; i += 16) {
		__m512 a = _mm512_loadu_ps(y + i);
		for (int64_t j = 0; j < m; j++)
			a = _mm512_fmadd_ps(_mm512_set1_ps(w[j]), _mm512_loadu_ps(v + (size_t)j * stride + i), a);
		_mm512_storeu_ps(y + i, a);
	}
	for (; i < n; i++)
		for (int64_t j = 0; j < m; j++)
			y[i] += w[j] * v[(size_t)j * stride + (size_t)i];
}

SIMD_AVX512 static float simd_dot_wf32_avx512(const void *row, const void *x, int64_t n)
{
	return simd_dot_f32_avx512(row, x, n);
}

SIMD_AVX512 static float simd_dot_f16_avx512(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	int64_t i = 0;
	for (; i + 32 <= n; i += 32) {
		acc0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i))), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16))),
			_mm512_loadu_ps(b + i + 16), acc1);
	}
	float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += quant_f16_to_f32(a[i]) * b[i];
	return s;
}

SIMD_AVX512 static float simd_dot_bf16_avx512(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	__m512 acc = _mm512_setzero_ps();
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512i v = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(a + i))), 16);
		acc = _mm512_fmadd_ps(_mm512_castsi512_ps(v), _mm512_loadu_ps(b + i), acc);
	}
	float s = _mm512_reduce_add_ps(acc);
	for (; i < n; i++)
		s += quant_bf16_to_f32(a[i]) * b[i];
	return s;
}

/* ---------------- AVX-512 VNNI on 256-bit vectors ----------------
 * vpdpwssd multiplies and accumulates in one instruction; AVX-512BW masks
 * put Q5_0's fifth bit in. */
#define SIMD_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

SIMD_VNNI static __m256i simd_madd2_vnni(__m256i init, __m256i lo, __m256i hi, const int16_t *q)
{
	return _mm256_dpwssd_epi32(_mm256_dpwssd_epi32(init, lo, SIMD_LOAD256(q)), hi, SIMD_LOAD256(q + 16));
}

SIMD_VNNI static __m256i simd_q4_0_prod_vnni(const struct quant_block_q4_0 *w, const int16_t *q, const int32_t *off)
{
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	return simd_madd2_vnni(SIMD_LOAD256(off), _mm256_and_si256(v, _mm256_set1_epi16(15)), _mm256_srli_epi16(v, 4),
		q);
}

SIMD_VNNI static __m256i simd_q5_0_prod_vnni(const struct quant_block_q5_0 *w, const int16_t *q, const int32_t *off)
{
	uint32_t h;
	memcpy(&h, w->qh, 4);
	const __m256i b16 = _mm256_set1_epi16(16);
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs)), o = SIMD_LOAD256(off);
	__m256i lo = _mm256_and_si256(v, _mm256_set1_epi16(15)), hi = _mm256_srli_epi16(v, 4);
	lo = _mm256_mask_add_epi16(lo, (__mmask16)(h & 0xffff), lo, b16);
	hi = _mm256_mask_add_epi16(hi, (__mmask16)(h >> 16), hi, b16);
	return simd_madd2_vnni(_mm256_add_epi32(o, o), lo, hi, q);
}

SIMD_VNNI static __m256i simd_q8_0_prod_vnni(const struct quant_block_q8_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	return simd_madd2_vnni(_mm256_setzero_si256(), _mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs)),
		_mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs + 16)), q);
}

/* Without the offset: the first half by vpmaddwd (three operands, so no
 * copy of an accumulator), the second accumulated by vpdpwssd. */
SIMD_VNNI static __m256i simd_q4_0_prod0_vnni(const struct quant_block_q4_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	return _mm256_dpwssd_epi32(_mm256_madd_epi16(_mm256_and_si256(v, _mm256_set1_epi16(15)), SIMD_LOAD256(q)),
		_mm256_srli_epi16(v, 4), SIMD_LOAD256(q + 16));
}

SIMD_VNNI static __m256i simd_q5_0_prod0_vnni(const struct quant_block_q5_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	uint32_t h;
	memcpy(&h, w->qh, 4);
	const __m256i b16 = _mm256_set1_epi16(16);
	__m256i v = _mm256_cvtepu8_epi16(SIMD_LOAD128(w->qs));
	__m256i lo = _mm256_and_si256(v, _mm256_set1_epi16(15)), hi = _mm256_srli_epi16(v, 4);
	lo = _mm256_mask_add_epi16(lo, (__mmask16)(h & 0xffff), lo, b16);
	hi = _mm256_mask_add_epi16(hi, (__mmask16)(h >> 16), hi, b16);
	return _mm256_dpwssd_epi32(_mm256_madd_epi16(lo, SIMD_LOAD256(q)), hi, SIMD_LOAD256(q + 16));
}

SIMD_VNNI static __m256i simd_q8_0_prod0_vnni(const struct quant_block_q8_0 *w, const int16_t *q, const int32_t *off)
{
	(void)off;
	return _mm256_dpwssd_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs)), SIMD_LOAD256(q)),
		_mm256_cvtepi8_epi16(SIMD_LOAD128(w->qs + 16)), SIMD_LOAD256(q + 16));
}

/* Q4_0's 8 scales of 8 consecutive blocks (144 bytes) sit at word offsets
 * 0, 9, ..., 63: one two-register word permute collects them. */
SIMD_VNNI static __m256 simd_scales8_q4_0_vnni(const void *w, size_t bs, const float *da)
{
	(void)bs;
	static const uint16_t pick[32] = { 0, 9, 18, 27, 36, 45, 54, 63 };
	const __m512i idx = _mm512_loadu_si512(pick);
	__m512i a = _mm512_loadu_si512(w), b = _mm512_loadu_si512((const uint8_t *)w + 64);
	__m128i h = _mm512_castsi512_si128(_mm512_permutex2var_epi16(a, idx, b));
	return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_loadu_ps(da));
}

SIMD_DOT_Q16_FNS(SIMD_VNNI, simd_dot_q4_0_vnni, struct quant_block_q4_0, simd_q4_0_prod_vnni, simd_q4_0_prod0_vnni,
	simd_offs8_avx2, simd_scales8_q4_0_vnni)
SIMD_DOT_Q16_FNS(SIMD_VNNI, simd_dot_q5_0_vnni, struct quant_block_q5_0, simd_q5_0_prod_vnni, simd_q5_0_prod0_vnni,
	simd_offs8_q5_avx2, simd_scales8_avx2)
SIMD_DOT_Q16_FNS(SIMD_VNNI, simd_dot_q8_0_vnni, struct quant_block_q8_0, simd_q8_0_prod_vnni, simd_q8_0_prod0_vnni,
	simd_offs8_zero_avx2, simd_scales8_avx2)

/* ---------------- Repacked Q4_0: 16 rows in the lanes ----------------
 * A group (quant.h) holds per block 4 vectors whose dword r is 4 quant
 * bytes of row r, and the activation row carries its int16 values split
 * into bytes, q = 256 * ah + al.  vpdpbusd multiplies unsigned by signed
 * bytes four at a time, so per nibble vector w (0..15):
 * sum(w * ah) = vpdpbusd(w as u8, ah broadcast) and sum(w * al) =
 * vpdpbusd(al broadcast as u8, w as s8), and a block's exact int32 sum of
 * (w - 8) * q per row is (sum_h << 8) + sum_l - 8 * sum(q) (the last from
 * the row's osum).  No lane crossing and no horizontal reduction: the
 * float part converts 16 rows' sums at once and scales them by the 16
 * rows' d_w (one vcvtph2ps) times d_a.  Blocks go to 8 accumulators by
 * block index mod 8 and are reduced by the tree of simd_hsum256, the tail
 * blocks after it one by one: per row the very operations, in the same
 * order, of the 8-lane kernels above, so every row's result is bit for bit
 * theirs on the standard layout (tests/engine/test_qdot). */
static uint32_t simd_load_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* simd_hsum256's tree over the 8 accumulators, lane by lane (the first
 * step of SIMD_Q16_TAIL). */
#define SIMD_X16_REDUCE(add, a) add(add(add(a[0], a[4]), add(a[2], a[6])), add(add(a[1], a[5]), add(a[3], a[7])))

/* acc += w (u8) . the dword at p broadcast (s8), the broadcast embedded in
 * vpdpbusd (GCC emits a separate vpbroadcastd for the intrinsics). */
SIMD_VNNI static inline __m512i simd_dpbusd_bcast(__m512i acc, __m512i w, const uint8_t *p)
{
	__asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
	return acc;
}

SIMD_VNNI static inline __m512i simd_x16_block_vnni(const uint8_t *gb, const uint8_t *al, const uint8_t *ah,
	int32_t osum)
{
	const __m512i m4 = _mm512_set1_epi8(15);
	__m512i sl = _mm512_set1_epi32(osum), sh = _mm512_setzero_si512();
#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {
		__m512i v = _mm512_loadu_si512(gb + 32 + 64 * k);
		/* one load into a register: the compiler folds the load into
		 * both the mask and the shift otherwise, reading the 64 bytes
		 * twice (12 vector loads per block instead of 4: 31-38 against
		 * 42-43 GB/s in L2, bench/qdot) */
		__asm__("" : "+v"(v));
		__m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
		sl = _mm512_dpbusd_epi32(sl, _mm512_set1_epi32((int)simd_load_u32(al + 4 * k)), lo);
		sh = simd_dpbusd_bcast(sh, lo, ah + 4 * k);
		sl = _mm512_dpbusd_epi32(sl, _mm512_set1_epi32((int)simd_load_u32(al + 16 + 4 * k)), hi);
		sh = simd_dpbusd_bcast(sh, hi, ah + 16 + 4 * k);
	}
	return _mm512_add_epi32(_mm512_slli_epi32(sh, 8), sl);
}

SIMD_VNNI static inline __m512 simd_x16_scale_vnni(const uint8_t *gb, float da)
{
	return _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)gb)), _mm512_set1_ps(da));
}

/* The split activations of a q16 row (quant.h). */
#define SIMD_X16_SETUP \
	const uint8_t *g = group; \
	int64_t nb = n / QUANT_QK, i = 0; \
	const float *d = (const float *)(const void *)((const int32_t *)(const void *)((const int16_t *)x + n) + 8 * nb); \
	const int32_t *osum = (const int32_t *)(const void *)(d + nb); \
	const uint8_t *al = (const uint8_t *)(osum + nb), *ah = al + n

SIMD_VNNI static void simd_dot_q4_0_x16_vnni(const void *group, const void *x, int64_t n, float *out)
{
	SIMD_X16_SETUP;
	__m512 a[8];
#pragma GCC unroll 8
	for (int j = 0; j < 8; j++)
		a[j] = _mm512_setzero_ps();
	for (; i + 8 <= nb; i += 8) {
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			const uint8_t *gb = g + (size_t)(i + j) * QUANT_X16_BLOCK;
			__m512i s = simd_x16_block_vnni(gb, al + QUANT_QK * (i + j), ah + QUANT_QK * (i + j), osum[i + j]);
			a[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), simd_x16_scale_vnni(gb, d[i + j]), a[j]);
		}
	}
	__m512 r = SIMD_X16_REDUCE(_mm512_add_ps, a);
	for (; i < nb; i++) {
		const uint8_t *gb = g + (size_t)i * QUANT_X16_BLOCK;
		__m512i s = simd_x16_block_vnni(gb, al + QUANT_QK * i, ah + QUANT_QK * i, osum[i]);
		r = _mm512_add_ps(r, _mm512_mul_ps(simd_x16_scale_vnni(gb, d[i]), _mm512_cvtepi32_ps(s)));
	}
	_mm512_storeu_ps(out, r);
}

/* AVX2: the 8 rows of half h (bytes 32h.. of each 64-byte vector).
 * vpmaddubsw adds two u8 x s8 products into int16 without saturating here
 * (at most 2 * 255 * 15 = 7650 for al, 2 * 15 * 128 = 3840 for ah), and up
 * to 4 (al) or 8 (ah) of those sums fit in int16 before vpmaddwd widens
 * them. */
SIMD_AVX2 static inline __m256i simd_x16_block_avx2(const uint8_t *gb, int h, const uint8_t *al, const uint8_t *ah,
	int32_t osum)
{
	const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
	__m256i ph = _mm256_setzero_si256(), pl[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {
		__m256i v = SIMD_LOAD256(gb + 32 + 64 * k + 32 * h);
		__m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
		ph = _mm256_add_epi16(ph, _mm256_maddubs_epi16(lo, _mm256_set1_epi32((int)simd_load_u32(ah + 4 * k))));
		ph = _mm256_add_epi16(ph, _mm256_maddubs_epi16(hi, _mm256_set1_epi32((int)simd_load_u32(ah + 16 + 4 * k))));
		pl[k / 2] = _mm256_add_epi16(pl[k / 2],
			_mm256_maddubs_epi16(_mm256_set1_epi32((int)simd_load_u32(al + 4 * k)), lo));
		pl[k / 2] = _mm256_add_epi16(pl[k / 2],
			_mm256_maddubs_epi16(_mm256_set1_epi32((int)simd_load_u32(al + 16 + 4 * k)), hi));
	}
	__m256i l = _mm256_add_epi32(_mm256_madd_epi16(pl[0], ones), _mm256_madd_epi16(pl[1], ones));
	return _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(ph, ones), 8), l),
		_mm256_set1_epi32(osum));
}

SIMD_AVX2 static inline __m256 simd_x16_scale_avx2(const uint8_t *gb, int h, float da)
{
	return _mm256_mul_ps(_mm256_cvtph_ps(SIMD_LOAD128(gb + 16 * h)), _mm256_set1_ps(da));
}

SIMD_AVX2 static void simd_dot_q4_0_x16_avx2(const void *group, const void *x, int64_t n, float *out)
{
	SIMD_X16_SETUP;
	/* both halves per block (one pass over the group's bytes); 16
	 * accumulators are more than AVX2's registers, the compiler keeps
	 * some on the stack (L1) */
	__m256 a[2][8];
#pragma GCC unroll 8
	for (int j = 0; j < 8; j++)
		a[0][j] = a[1][j] = _mm256_setzero_ps();
	for (; i + 8 <= nb; i += 8) {
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			const uint8_t *gb = g + (size_t)(i + j) * QUANT_X16_BLOCK;
#pragma GCC unroll 2
			for (int h = 0; h < 2; h++) {
				__m256i s = simd_x16_block_avx2(gb, h, al + QUANT_QK * (i + j), ah + QUANT_QK * (i + j), osum[i + j]);
				a[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), simd_x16_scale_avx2(gb, h, d[i + j]), a[h][j]);
			}
		}
	}
	for (int h = 0; h < 2; h++) {
		__m256 r = SIMD_X16_REDUCE(_mm256_add_ps, a[h]);
		for (int64_t k = i; k < nb; k++) {
			const uint8_t *gb = g + (size_t)k * QUANT_X16_BLOCK;
			__m256i s = simd_x16_block_avx2(gb, h, al + QUANT_QK * k, ah + QUANT_QK * k, osum[k]);
			r = _mm256_add_ps(r, _mm256_mul_ps(simd_x16_scale_avx2(gb, h, d[k]), _mm256_cvtepi32_ps(s)));
		}
		_mm256_storeu_ps(out + 8 * h, r);
	}
}

SIMD_AVX512 static float simd_dot_k_avx512(uint32_t type, const void *row, const float *b, int64_t n)
{
	float y[QUANT_QK_K];
	size_t bs = type == QUANT_TYPE_Q4_K ? sizeof(struct quant_block_q4_k) : sizeof(struct quant_block_q6_k);
	const uint8_t *w = row;
	float s = 0;
	for (int64_t i = 0; i < n / QUANT_QK_K; i++, b += QUANT_QK_K, w += bs) {
		quant_dequantize_row(type, w, y, QUANT_QK_K);
		s += simd_dot_f32_avx512(y, b, QUANT_QK_K);
	}
	return s;
}

SIMD_AVX512 static float simd_dot_q4_k_avx512(const void *row, const void *x, int64_t n)
{
	return simd_dot_k_avx512(QUANT_TYPE_Q4_K, row, x, n);
}

SIMD_AVX512 static float simd_dot_q6_k_avx512(const void *row, const void *x, int64_t n)
{
	return simd_dot_k_avx512(QUANT_TYPE_Q6_K, row, x, n);
}

/* Register tiles: each weight vector feeds 4 tokens and each activation
 * vector 4 rows, halving the loads per FMA against row-by-row dots. */
SIMD_AVX512 static void simd_tile_avx512(const float *w, const float *const *x, int64_t n, float *out)
{
	/* written out so that the 16 accumulators stay in registers */
	__m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
	__m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
	const float *w0 = w, *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
	for (int64_t k = 0; k < n; k += 16) {
		__m512 v0 = _mm512_loadu_ps(w0 + k), v1 = _mm512_loadu_ps(w1 + k);
		__m512 v2 = _mm512_loadu_ps(w2 + k), v3 = _mm512_loadu_ps(w3 + k);
		__m512 y = _mm512_loadu_ps(x0 + k);
		a00 = _mm512_fmadd_ps(v0, y, a00);
		a10 = _mm512_fmadd_ps(v1, y, a10);
		a20 = _mm512_fmadd_ps(v2, y, a20);
		a30 = _mm512_fmadd_ps(v3, y, a30);
		y = _mm512_loadu_ps(x1 + k);
		a01 = _mm512_fmadd_ps(v0, y, a01);
		a11 = _mm512_fmadd_ps(v1, y, a11);
		a21 = _mm512_fmadd_ps(v2, y, a21);
		a31 = _mm512_fmadd_ps(v3, y, a31);
		y = _mm512_loadu_ps(x2 + k);
		a02 = _mm512_fmadd_ps(v0, y, a02);
		a12 = _mm512_fmadd_ps(v1, y, a12);
		a22 = _mm512_fmadd_ps(v2, y, a22);
		a32 = _mm512_fmadd_ps(v3, y, a32);
		y = _mm512_loadu_ps(x3 + k);
		a03 = _mm512_fmadd_ps(v0, y, a03);
		a13 = _mm512_fmadd_ps(v1, y, a13);
		a23 = _mm512_fmadd_ps(v2, y, a23);
		a33 = _mm512_fmadd_ps(v3, y, a33);
	}
	out[0] = _mm512_reduce_add_ps(a00);
	out[1] = _mm512_reduce_add_ps(a01);
	out[2] = _mm512_reduce_add_ps(a02);
	out[3] = _mm512_reduce_add_ps(a03);
	out[4] = _mm512_reduce_add_ps(a10);
	out[5] = _mm512_reduce_add_ps(a11);
	out[6] = _mm512_reduce_add_ps(a12);
	out[7] = _mm512_reduce_add_ps(a13);
	out[8] = _mm512_reduce_add_ps(a20);
	out[9] = _mm512_reduce_add_ps(a21);
	out[10] = _mm512_reduce_add_ps(a22);
	out[11] = _mm512_reduce_add_ps(a23);
	out[12] = _mm512_reduce_add_ps(a30);
	out[13] = _mm512_reduce_add_ps(a31);
	out[14] = _mm512_reduce_add_ps(a32);
	out[15] = _mm512_reduce_add_ps(a33);
}

SIMD_AVX2 static void simd_tile_avx2(const float *w, const float *const *x, int64_t n, float *out)
{
	__m256 a[16];
	for (int i = 0; i < 16; i++)
		a[i] = _mm256_setzero_ps();
	for (int64_t k = 0; k < n; k += 8) {
		__m256 w0 = _mm256_loadu_ps(w + k), w1 = _mm256_loadu_ps(w + n + k);
		__m256 w2 = _mm256_loadu_ps(w + 2 * n + k), w3 = _mm256_loadu_ps(w + 3 * n + k);
		for (int t = 0; t < 4; t++) {
			__m256 xv = _mm256_loadu_ps(x[t] + k);
			a[t] = _mm256_fmadd_ps(w0, xv, a[t]);
			a[4 + t] = _mm256_fmadd_ps(w1, xv, a[4 + t]);
			a[8 + t] = _mm256_fmadd_ps(w2, xv, a[8 + t]);
			a[12 + t] = _mm256_fmadd_ps(w3, xv, a[12 + t]);
		}
	}
	for (int i = 0; i < 16; i++)
		out[i] = simd_hsum256(a[i]);
}

SIMD_AVX512 static void simd_deq_q4_0_avx512(const void *src, float *dst, int64_t n)
{
	const struct quant_block_q4_0 *w = src;
	const __m128i m4 = _mm_set1_epi8(15), e8 = _mm_set1_epi8(8);
	for (int64_t i = 0; i < n / QUANT_QK; i++, dst += QUANT_QK) {
		__m128i q = _mm_loadu_si128((const __m128i *)w[i].qs);
		__m512 d = _mm512_set1_ps(_cvtsh_ss(w[i].d));
		__m512 l = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(q, m4), e8)));
		__m512 h = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), e8)));
		_mm512_storeu_ps(dst, _mm512_mul_ps(l, d));
		_mm512_storeu_ps(dst + 16, _mm512_mul_ps(h, d));
	}
}

SIMD_AVX512 static void simd_deq_q8_0_avx512(const void *src, float *dst, int64_t n)
{
	const struct quant_block_q8_0 *w = src;
	for (int64_t i = 0; i < n / QUANT_QK; i++, dst += QUANT_QK) {
		__m512 d = _mm512_set1_ps(_cvtsh_ss(w[i].d));
		__m512 l = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)w[i].qs)));
		__m512 h = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(w[i].qs + 16))));
		_mm512_storeu_ps(dst, _mm512_mul_ps(l, d));
		_mm512_storeu_ps(dst + 16, _mm512_mul_ps(h, d));
	}
}

SIMD_AVX512 static void simd_deq_f16_avx512(const void *src, float *dst, int64_t n)
{
	const uint16_t *a = src;
	int64_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i))));
	for (; i < n; i++)
		dst[i] = quant_f16_to_f32(a[i]);
}

SIMD_AVX2 static void simd_deq_q4_0_avx2(const void *src, float *dst, int64_t n)
{
	const struct quant_block_q4_0 *w = src;
	const __m128i m4 = _mm_set1_epi8(15), e8 = _mm_set1_epi8(8);
	for (int64_t i = 0; i < n / QUANT_QK; i++, dst += QUANT_QK) {
		__m128i q = _mm_loadu_si128((const __m128i *)w[i].qs);
		__m256 d = _mm256_set1_ps(_cvtsh_ss(w[i].d));
		__m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), e8);
		__m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), e8);
		_mm256_storeu_ps(dst, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), d));
		_mm256_storeu_ps(dst + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), d));
		_mm256_storeu_ps(dst + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), d));
		_mm256_storeu_ps(dst + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), d));
	}
}

SIMD_AVX2 static void simd_deq_q8_0_avx2(const void *src, float *dst, int64_t n)
{
	const struct quant_block_q8_0 *w = src;
	for (int64_t i = 0; i < n / QUANT_QK; i++, dst += QUANT_QK) {
		__m256 d = _mm256_set1_ps(_cvtsh_ss(w[i].d));
		for (int k = 0; k < 4; k++) {
			__m128i q = _mm_loadl_epi64((const __m128i *)(w[i].qs + 8 * k));
			_mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d));
		}
	}
}

SIMD_AVX2 static void simd_deq_f16_avx2(const void *src, float *dst, int64_t n)
{
	const uint16_t *a = src;
	int64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i))));
	for (; i < n; i++)
		dst[i] = quant_f16_to_f32(a[i]);
}

static const simd_dequant_fn simd_deq_avx512_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_Q4_0] = simd_deq_q4_0_avx512,
	[QUANT_TYPE_Q8_0] = simd_deq_q8_0_avx512,
	[QUANT_TYPE_F16] = simd_deq_f16_avx512,
};

static const simd_dequant_fn simd_deq_avx2_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_Q4_0] = simd_deq_q4_0_avx2,
	[QUANT_TYPE_Q8_0] = simd_deq_q8_0_avx2,
	[QUANT_TYPE_F16] = simd_deq_f16_avx2,
};

/* Indexed by weight type; a missing entry falls back one level. */
static const quant_dot_fn simd_dot_avx2_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_F32] = simd_dot_wf32_avx2,
	[QUANT_TYPE_F16] = simd_dot_f16_avx2,
	[QUANT_TYPE_BF16] = simd_dot_bf16_avx2,
	[QUANT_TYPE_Q4_0] = simd_dot_q4_0_avx2,
	[QUANT_TYPE_Q5_0] = simd_dot_q5_0_avx2,
	[QUANT_TYPE_Q8_0] = simd_dot_q8_0_avx2,
	[QUANT_TYPE_Q4_K] = simd_dot_q4_k_avx2,
	[QUANT_TYPE_Q6_K] = simd_dot_q6_k_avx2,
};

static const quant_dot_fn simd_dot_avx512_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_F32] = simd_dot_wf32_avx512,
	[QUANT_TYPE_F16] = simd_dot_f16_avx512,
	[QUANT_TYPE_BF16] = simd_dot_bf16_avx512,
	[QUANT_TYPE_Q4_K] = simd_dot_q4_k_avx512,
	[QUANT_TYPE_Q6_K] = simd_dot_q6_k_avx512,
};


/* Used at the AVX-512 level when the CPU also has VNNI (Ice Lake, Zen 4). */
static const quant_dot_fn simd_dot_vnni_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_Q4_0] = simd_dot_q4_0_vnni,
	[QUANT_TYPE_Q5_0] = simd_dot_q5_0_vnni,
	[QUANT_TYPE_Q8_0] = simd_dot_q8_0_vnni,
};

static const simd_dot_rows_fn simd_dot_rows_avx2_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_Q4_0] = simd_dot_q4_0_avx2_rows,
	[QUANT_TYPE_Q5_0] = simd_dot_q5_0_avx2_rows,
	[QUANT_TYPE_Q8_0] = simd_dot_q8_0_avx2_rows,
};

static const simd_dot_rows_fn simd_dot_rows_vnni_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_Q4_0] = simd_dot_q4_0_vnni_rows,
	[QUANT_TYPE_Q5_0] = simd_dot_q5_0_vnni_rows,
	[QUANT_TYPE_Q8_0] = simd_dot_q8_0_vnni_rows,
};

static int simd_has_vnni(void)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512vnni");
#else
	return 0;
#endif
}
#endif

quant_dot_fn simd_dot(uint32_t type, enum simd_level l)
{
	if (type >= QUANT_TYPE_COUNT)
		return NULL;
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512 && simd_dot_vnni_table[type] && simd_has_vnni())
		return simd_dot_vnni_table[type];
	if (l >= SIMD_LEVEL_AVX512 && simd_dot_avx512_table[type])
		return simd_dot_avx512_table[type];
	if (l >= SIMD_LEVEL_AVX2 && simd_dot_avx2_table[type])
		return simd_dot_avx2_table[type];
#endif
	(void)l;
	return quant_dot_scalar(type);
}

simd_dot_rows_fn simd_dot_rows(uint32_t type, enum simd_level l)
{
	if (type >= QUANT_TYPE_COUNT)
		return NULL;
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512 && simd_dot_rows_vnni_table[type] && simd_has_vnni())
		return simd_dot_rows_vnni_table[type];
	/* the AVX2 kernels are the AVX-512 level's too (below VNNI) */
	if (l >= SIMD_LEVEL_AVX2)
		return simd_dot_rows_avx2_table[type];
#endif
	(void)l;
	return NULL;
}

simd_dot_x16_fn simd_dot_q4_0_x16(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512 && simd_has_vnni())
		return simd_dot_q4_0_x16_vnni;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_dot_q4_0_x16_avx2;
#endif
	(void)l;
	return quant_dot_q4_0_x16;
}

simd_quantize_act_fn simd_quantize_act(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX2)
		return simd_quantize_act_avx2;
#endif
	(void)l;
	return quant_quantize_act;
}

simd_dot_f32_fn simd_dot_f32(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512)
		return simd_dot_f32_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_dot_f32_avx2;
#endif
	(void)l;
	return simd_dot_f32_scalar;
}

/* The scalar decoders, by type, behind the same signature. */
#define SIMD_DEQ_SCALAR(name, type) \
	static void name(const void *src, float *dst, int64_t n) { quant_dequantize_row(type, src, dst, n); }
SIMD_DEQ_SCALAR(simd_deq_f32, QUANT_TYPE_F32)
SIMD_DEQ_SCALAR(simd_deq_f16, QUANT_TYPE_F16)
SIMD_DEQ_SCALAR(simd_deq_bf16, QUANT_TYPE_BF16)
SIMD_DEQ_SCALAR(simd_deq_q4_0, QUANT_TYPE_Q4_0)
SIMD_DEQ_SCALAR(simd_deq_q5_0, QUANT_TYPE_Q5_0)
SIMD_DEQ_SCALAR(simd_deq_q8_0, QUANT_TYPE_Q8_0)
SIMD_DEQ_SCALAR(simd_deq_q4_k, QUANT_TYPE_Q4_K)
SIMD_DEQ_SCALAR(simd_deq_q6_k, QUANT_TYPE_Q6_K)

static const simd_dequant_fn simd_deq_scalar_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_F32] = simd_deq_f32,
	[QUANT_TYPE_F16] = simd_deq_f16,
	[QUANT_TYPE_BF16] = simd_deq_bf16,
	[QUANT_TYPE_Q4_0] = simd_deq_q4_0,
	[QUANT_TYPE_Q5_0] = simd_deq_q5_0,
	[QUANT_TYPE_Q8_0] = simd_deq_q8_0,
	[QUANT_TYPE_Q4_K] = simd_deq_q4_k,
	[QUANT_TYPE_Q6_K] = simd_deq_q6_k,
};

simd_dequant_fn simd_dequant(uint32_t type, enum simd_level l)
{
	if (type >= QUANT_TYPE_COUNT)
		return NULL;
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512 && simd_deq_avx512_table[type])
		return simd_deq_avx512_table[type];
	if (l >= SIMD_LEVEL_AVX2 && simd_deq_avx2_table[type])
		return simd_deq_avx2_table[type];
#endif
	(void)l;
	return simd_deq_scalar_table[type];
}

simd_dot_f32_rows_fn simd_dot_f32_rows(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512)
		return simd_dot_f32_rows_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_dot_f32_rows_avx2;
#endif
	(void)l;
	return simd_dot_f32_rows_scalar;
}

simd_axpy_rows_fn simd_axpy_rows(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512)
		return simd_axpy_rows_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_axpy_rows_avx2;
#endif
	(void)l;
	return simd_axpy_rows_scalar;
}

simd_axpy_fn simd_axpy(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512)
		return simd_axpy_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_axpy_avx2;
#endif
	(void)l;
	return simd_axpy_scalar;
}

simd_tile_fn simd_tile_4x4(enum simd_level l)
{
#ifdef SIMD_X86
	if (l >= SIMD_LEVEL_AVX512)
		return simd_tile_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return simd_tile_avx2;
#endif
	(void)l;
	return simd_tile_scalar;
}
