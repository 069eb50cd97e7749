/* Integer GEMM for the batched (prefill) path: Q4_0 weights times q16
 * activation rows.
 *
 * The vector lanes hold 16 different weight rows, so that the per-block
 * float work (convert, scale, FMA) serves 16 (row, token) pairs at once
 * instead of one: a 4x4 tile with a lane per value pair pays a conversion
 * and an FMA per pair and block, which costs as much as the f32 FMAs it
 * replaces (docs/engine-kernels.md).  For each group of 16 rows the weights
 * are unpacked once into the thread's scratch, per block and per value pair
 * p (16 per block) one vector of 16 int32 lanes, lane r holding row r's
 * values 2p and 2p+1 (nibble - 8) as two int16.  The activation row is used
 * as quant_quantize_act wrote it: its int32 word p of a block holds the
 * values 2p and 2p+1, so one broadcast of that word and one vpdpwssd
 * (AVX2: vpmaddwd + vpaddd) add the products of that pair for 16 rows.
 *
 * Per block the 16 lanes are exact int32 sums (|sum| <= 32 * 8 * 32767 <
 * 2^24, so converting them to float is exact too), and every version
 * computes acc = fma((float)sum, d_w * d_a, acc) block after block in the
 * same order: scalar, AVX2 and AVX-512 agree bit for bit.  Against the
 * single-token kernel (simd_dot q16, which sums blocks in four lanes) the
 * results differ only by float rounding. */
#include "engine/gemm.h"
#include "engine/quant.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GEMM_X86 1
#endif

/* Scratch for one group: int32 w[nb][16 pairs][GEMM_ROWS], then float
 * dw[nb][GEMM_ROWS] (the rows' block scales). */
size_t gemm_scratch_bytes(int64_t n)
{
	size_t nb = (size_t)n / QUANT_QK;
	return nb * (16 * GEMM_ROWS * sizeof(int32_t) + GEMM_ROWS * sizeof(float));
}

static const float *gemm_act_scales(const uint8_t *x, int64_t n)
{
	return (const float *)(const void *)(x + (size_t)n * sizeof(int16_t) + (size_t)(n / QUANT_QK) * 8 * sizeof(int32_t));
}

/* Block b of weight row r in the standard layout: in place, or read out of
 * its repacked group into *tmp. */
static const struct quant_block_q4_0 *gemm_block(const struct gemm_q4_0 *g, int64_t r, int64_t b,
	struct quant_block_q4_0 *tmp)
{
	if (r < g->x16_end) {
		quant_q4_0_x16_block(g->w + (size_t)(r - r % QUANT_X16_ROWS) * g->row_bytes, b, (int)(r % QUANT_X16_ROWS), tmp);
		return tmp;
	}
	return (const struct quant_block_q4_0 *)(const void *)(g->w + (size_t)r * g->row_bytes) + b;
}

/* One (row, token) pair the way every version computes it. */
static float gemm_dot_scalar(const struct gemm_q4_0 *g, int64_t r, const uint8_t *x, int64_t n)
{
	const int16_t *q = (const int16_t *)(const void *)x;
	const float *d = gemm_act_scales(x, n);
	float acc = 0;
	for (int64_t b = 0; b < n / QUANT_QK; b++, q += QUANT_QK) {
		struct quant_block_q4_0 tmp;
		const struct quant_block_q4_0 *w = gemm_block(g, r, b, &tmp);
		int32_t s = 0;
		for (int j = 0; j < QUANT_QK / 2; j++)
			s += ((w->qs[j] & 15) - 8) * q[j] + ((w->qs[j] >> 4) - 8) * q[j + 16];
		acc = fmaf((float)s, quant_f16_to_f32(w->d) * d[b], acc);
	}
	return acc;
}

static void gemm_rows_scalar(const struct gemm_q4_0 *g, int64_t r0, int64_t r1)
{
	for (int64_t r = r0; r < r1; r++) {
		for (int32_t i = 0; i < g->n_tok; i++) {
			int32_t ii = g->in_idx ? g->in_idx[i] : i, oi = g->out_idx ? g->out_idx[i] : i;
			g->y[(size_t)oi * g->y_stride + (size_t)r] = gemm_dot_scalar(g, r, g->x + (size_t)ii * g->x_stride, g->n);
		}
	}
}

static void gemm_q4_0_scalar(const struct gemm_q4_0 *g, int64_t r0, int64_t r1, void *scratch)
{
	(void)scratch;
	gemm_rows_scalar(g, r0, r1);
}

static int32_t gemm_pair(int lo, int hi)
{
	return (int32_t)((uint32_t)(uint16_t)(int16_t)lo | (uint32_t)(uint16_t)(int16_t)hi << 16);
}

/* Unpack rows r0 .. r0+15 into the scratch layout (see the top). */
static void gemm_pack_scalar(const struct gemm_q4_0 *g, int64_t r0, int32_t *w, float *dw)
{
	int64_t nb = g->n / QUANT_QK;
	for (int r = 0; r < GEMM_ROWS; r++) {
		for (int64_t b = 0; b < nb; b++) {
			struct quant_block_q4_0 tmp;
			const struct quant_block_q4_0 *blk = gemm_block(g, r0 + r, b, &tmp);
			int32_t *wb = w + b * 16 * GEMM_ROWS;
			for (int j = 0; j < 8; j++) {
				int a = blk->qs[2 * j], c = blk->qs[2 * j + 1];
				wb[j * GEMM_ROWS + r] = gemm_pair((a & 15) - 8, (c & 15) - 8);
				wb[(j + 8) * GEMM_ROWS + r] = gemm_pair((a >> 4) - 8, (c >> 4) - 8);
			}
			dw[b * GEMM_ROWS + r] = quant_f16_to_f32(blk->d);
		}
	}
}

/* Token pointers for tokens i .. i+nt-1 of the job, outputs at row r. */
static void gemm_tokens(const struct gemm_q4_0 *g, int32_t i, int nt, int64_t r, const uint8_t **xs, float **ys)
{
	for (int t = 0; t < nt; t++) {
		int32_t ii = g->in_idx ? g->in_idx[i + t] : i + t, oi = g->out_idx ? g->out_idx[i + t] : i + t;
		xs[t] = g->x + (size_t)ii * g->x_stride;
		ys[t] = g->y + (size_t)oi * g->y_stride + (size_t)r;
	}
}

#ifdef GEMM_X86

/* ---------------- AVX2: two halves of 8 rows, up to 4 tokens ---------------- */
#define GEMM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define GEMM_AVX2_TOKENS 4

GEMM_AVX2 static inline __attribute__((always_inline)) void gemm_tile_avx2_t(const int32_t *w, const float *dw,
	int64_t n, const uint8_t *const *xs, float *const *ys, const int nt)
{
	int64_t nb = n / QUANT_QK;
	const int32_t *q[GEMM_AVX2_TOKENS];
	const float *d[GEMM_AVX2_TOKENS];
	for (int t = 0; t < nt; t++) {
		q[t] = (const int32_t *)(const void *)xs[t];
		d[t] = gemm_act_scales(xs[t], n);
	}
	for (int h = 0; h < 2; h++) {
		__m256 f[GEMM_AVX2_TOKENS];
#pragma GCC unroll 4
		for (int t = 0; t < nt; t++)
			f[t] = _mm256_setzero_ps();
		for (int64_t b = 0; b < nb; b++) {
			const int32_t *wb = w + b * 16 * GEMM_ROWS + 8 * h;
			__m256i a[GEMM_AVX2_TOKENS];
#pragma GCC unroll 4
			for (int t = 0; t < nt; t++)
				a[t] = _mm256_setzero_si256();
#pragma GCC unroll 16
			for (int p = 0; p < 16; p++) {
				__m256i wv = _mm256_load_si256((const __m256i *)(const void *)(wb + p * GEMM_ROWS));
#pragma GCC unroll 4
				for (int t = 0; t < nt; t++)
					a[t] = _mm256_add_epi32(a[t], _mm256_madd_epi16(wv, _mm256_set1_epi32(q[t][b * 16 + p])));
			}
			__m256 dv = _mm256_load_ps(dw + b * GEMM_ROWS + 8 * h);
#pragma GCC unroll 4
			for (int t = 0; t < nt; t++)
				f[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a[t]), _mm256_mul_ps(dv, _mm256_set1_ps(d[t][b])), f[t]);
		}
#pragma GCC unroll 4
		for (int t = 0; t < nt; t++)
			_mm256_storeu_ps(ys[t] + 8 * h, f[t]);
	}
}

GEMM_AVX2 static void gemm_tile_avx2(const int32_t *w, const float *dw, int64_t n, const uint8_t *const *xs,
	float *const *ys, int nt)
{
	switch (nt) {
	case 1: gemm_tile_avx2_t(w, dw, n, xs, ys, 1); break;
	case 2: gemm_tile_avx2_t(w, dw, n, xs, ys, 2); break;
	case 3: gemm_tile_avx2_t(w, dw, n, xs, ys, 3); break;
	default: gemm_tile_avx2_t(w, dw, n, xs, ys, 4); break;
	}
}

GEMM_AVX2 static void gemm_q4_0_avx2(const struct gemm_q4_0 *g, int64_t r0, int64_t r1, void *scratch)
{
	int32_t *w = scratch;
	float *dw = (float *)(w + (g->n / QUANT_QK) * 16 * GEMM_ROWS);
	int64_t r = r0;
	for (; r + GEMM_ROWS <= r1; r += GEMM_ROWS) {
		gemm_pack_scalar(g, r, w, dw);
		for (int32_t i = 0; i < g->n_tok; i += GEMM_AVX2_TOKENS) {
			int nt = g->n_tok - i < GEMM_AVX2_TOKENS ? (int)(g->n_tok - i) : GEMM_AVX2_TOKENS;
			const uint8_t *xs[GEMM_AVX2_TOKENS];
			float *ys[GEMM_AVX2_TOKENS];
			gemm_tokens(g, i, nt, r, xs, ys);
			gemm_tile_avx2(w, dw, g->n, xs, ys, nt);
		}
	}
	gemm_rows_scalar(g, r, r1);
}

/* ---------------- AVX-512 VNNI + VBMI: 16 rows, up to 8 tokens ---------------- */
#define GEMM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma,f16c")))
#define GEMM_AVX512_TOKENS 8
#define GEMM_TOKEN_CACHE 128
#define GEMM_SCALE_TABLE 8192	/* floats (32 KB on the stack) */

/* The unpacking in registers: 16 rows' 16 quant bytes sit in four vectors
 * (four rows each); for the byte pair (2j, 2j+1) one vpermt2b per 8 rows
 * puts row r's two bytes, zero-extended, into lane r, and a mask and a
 * shift give the low nibbles (values 2j, 2j+1) and the high ones (values
 * 16+2j, 17+2j). */
GEMM_AVX512 static void gemm_pack_avx512(const struct gemm_q4_0 *g, int64_t r0, int32_t *w, float *dw,
	const uint8_t *next)
{
	int64_t nb = g->n / QUANT_QK;
	const uint8_t *rows = g->w + (size_t)r0 * g->row_bytes;
	size_t rb = g->row_bytes;
	uint8_t ib[64] = { 0 };
	for (int r = 0; r < GEMM_ROWS; r++) {
		ib[4 * r] = (uint8_t)(16 * (r % 8));
		ib[4 * r + 2] = (uint8_t)(16 * (r % 8) + 1);
	}
	const __m512i base = _mm512_loadu_si512(ib), m15 = _mm512_set1_epi16(15), e8 = _mm512_set1_epi16(8);
	const __mmask64 klo = 0x0000000055555555ull, khi = 0x5555555500000000ull;
	/* the 16 rows' f16 scales of a block: one gather (of the scale and the
	 * first quant bytes, all inside the block); collecting them with
	 * scalar loads cost a third of the packing */
	const __m512i gidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		_mm512_set1_epi32((int)rb));
	for (int64_t b = 0; b < nb; b++) {
		__m512i hd = _mm512_i32gather_epi32(gidx, rows + (size_t)b * sizeof(struct quant_block_q4_0), 1);
		/* exact, like quant_f16_to_f32 */
		_mm512_store_ps(dw + b * GEMM_ROWS, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hd)));
		__m512i z[4];
		const uint8_t *p = rows + (size_t)b * sizeof(struct quant_block_q4_0) + 2;
		for (int k = 0; k < 4; k++, p += 4 * rb) {
			__m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)p));
			v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + rb)), 1);
			v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * rb)), 2);
			z[k] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + 3 * rb)), 3);
		}
		/* The 16 rows are read block by block, 16 streams 1 row apart,
		 * which the hardware prefetchers do not follow: fetch the next
		 * group's rows (one contiguous range) while this one is packed. */
		if (next)
			for (size_t o = (size_t)b * GEMM_ROWS * rb / (size_t)nb; o < (size_t)(b + 1) * GEMM_ROWS * rb / (size_t)nb;
			     o += 64)
				_mm_prefetch((const char *)next + o, _MM_HINT_T1);
		int32_t *wb = w + b * 16 * GEMM_ROWS;
		for (int j = 0; j < 8; j++) {
			__m512i idx = _mm512_add_epi8(base, _mm512_set1_epi8((char)(2 * j)));
			__m512i v = _mm512_or_si512(_mm512_maskz_permutex2var_epi8(klo, z[0], idx, z[1]),
				_mm512_maskz_permutex2var_epi8(khi, z[2], idx, z[3]));
			_mm512_store_si512(wb + j * GEMM_ROWS, _mm512_sub_epi16(_mm512_and_si512(v, m15), e8));
			_mm512_store_si512(wb + (j + 8) * GEMM_ROWS, _mm512_sub_epi16(_mm512_srli_epi16(v, 4), e8));
		}
	}
}

/* The same scratch from a repacked group (quant.h), which needs no
 * gathering: dword r of the block's vector k holds row r's quant bytes
 * 4k..4k+3, so one in-lane byte shuffle per pair (2k, 2k+1) and (2k+2,
 * 2k+3) zero-extends them into the pair's two words, and a mask or a shift
 * gives the low or the high nibbles.  The group is one contiguous stream
 * the hardware prefetcher follows. */
GEMM_AVX512 static void gemm_pack_x16_avx512(const struct gemm_q4_0 *g, int64_t r0, int32_t *w, float *dw,
	const uint8_t *next)
{
	int64_t nb = g->n / QUANT_QK;
	const uint8_t *gb = g->w + (size_t)r0 * g->row_bytes;
	const __m512i m15 = _mm512_set1_epi16(15), e8 = _mm512_set1_epi16(8);
	const __m512i s0 = _mm512_set4_epi32((int)0x800d800c, (int)0x80098008, (int)0x80058004, (int)0x80018000);
	const __m512i s1 = _mm512_set4_epi32((int)0x800f800e, (int)0x800b800a, (int)0x80078006, (int)0x80038002);
	for (int64_t b = 0; b < nb; b++, gb += QUANT_X16_BLOCK) {
		/* the next group into L2 while this one is unpacked (as for
		 * the standard layout: the tiles' time between two groups
		 * leaves the hardware prefetcher behind) */
		if (next)
			for (int o = 0; o < QUANT_X16_BLOCK; o += 64)
				_mm_prefetch((const char *)next + b * QUANT_X16_BLOCK + o, _MM_HINT_T1);
		_mm512_store_ps(dw + b * GEMM_ROWS, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)gb)));
		int32_t *wb = w + b * 16 * GEMM_ROWS;
		for (int k = 0; k < 4; k++) {
			__m512i v = _mm512_loadu_si512(gb + 32 + 64 * k);
			__m512i p0 = _mm512_shuffle_epi8(v, s0), p1 = _mm512_shuffle_epi8(v, s1);
			_mm512_store_si512(wb + (2 * k) * GEMM_ROWS, _mm512_sub_epi16(_mm512_and_si512(p0, m15), e8));
			_mm512_store_si512(wb + (2 * k + 1) * GEMM_ROWS, _mm512_sub_epi16(_mm512_and_si512(p1, m15), e8));
			_mm512_store_si512(wb + (2 * k + 8) * GEMM_ROWS, _mm512_sub_epi16(_mm512_srli_epi16(p0, 4), e8));
			_mm512_store_si512(wb + (2 * k + 9) * GEMM_ROWS, _mm512_sub_epi16(_mm512_srli_epi16(p1, 4), e8));
		}
	}
}

/* dt: the tokens' activation scales by block, dt[b * GEMM_AVX512_TOKENS + t]
 * (gemm_scale_table): eight pointers to them next to the eight row
 * pointers left too few registers, and reloading the pointers cost 4% of a
 * prefill. */
GEMM_AVX512 static inline __attribute__((always_inline)) void gemm_tile_avx512_t(const int32_t *w, const float *dw,
	int64_t n, const uint8_t *const *xs, const float *dt, float *const *ys, const int nt)
{
	int64_t nb = n / QUANT_QK;
	const int32_t *q[GEMM_AVX512_TOKENS];
	__m512 f[GEMM_AVX512_TOKENS];
#pragma GCC unroll 8
	for (int t = 0; t < nt; t++) {
		q[t] = (const int32_t *)(const void *)xs[t];
		f[t] = _mm512_setzero_ps();
	}
	for (int64_t b = 0; b < nb; b++) {
		const int32_t *wb = w + b * 16 * GEMM_ROWS;
		__m512i a[GEMM_AVX512_TOKENS];
#pragma GCC unroll 8
		for (int t = 0; t < nt; t++)
			a[t] = _mm512_setzero_si512();
#pragma GCC unroll 16
		for (int p = 0; p < 16; p++) {
			__m512i wv = _mm512_load_si512(wb + p * GEMM_ROWS);
#pragma GCC unroll 8
			for (int t = 0; t < nt; t++)
				a[t] = _mm512_dpwssd_epi32(a[t], wv, _mm512_set1_epi32(q[t][b * 16 + p]));
		}
		__m512 dv = _mm512_load_ps(dw + b * GEMM_ROWS);
#pragma GCC unroll 8
		for (int t = 0; t < nt; t++)
			f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[t]),
				_mm512_mul_ps(dv, _mm512_set1_ps(dt[b * GEMM_AVX512_TOKENS + t])), f[t]);
	}
#pragma GCC unroll 8
	for (int t = 0; t < nt; t++)
		_mm512_storeu_ps(ys[t], f[t]);
}

GEMM_AVX512 static void gemm_tile_avx512(const int32_t *w, const float *dw, int64_t n, const uint8_t *const *xs,
	const float *dt, float *const *ys, int nt)
{
	switch (nt) {
	case 1: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 1); break;
	case 2: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 2); break;
	case 3: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 3); break;
	case 4: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 4); break;
	case 5: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 5); break;
	case 6: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 6); break;
	case 7: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 7); break;
	default: gemm_tile_avx512_t(w, dw, n, xs, dt, ys, 8); break;
	}
}

/* The activation scales of tokens xs[0 .. nt-1] by block into dt. */
static void gemm_scale_table(const uint8_t *const *xs, int nt, int64_t n, float *dt)
{
	for (int t = 0; t < nt; t++) {
		const float *d = gemm_act_scales(xs[t], n);
		for (int64_t b = 0; b < n / QUANT_QK; b++)
			dt[b * GEMM_AVX512_TOKENS + t] = d[b];
	}
}

GEMM_AVX512 static void gemm_q4_0_avx512(const struct gemm_q4_0 *g, int64_t r0, int64_t r1, void *scratch)
{
	int32_t *w = scratch;
	int64_t nb = g->n / QUANT_QK;
	float *dw = (float *)(w + nb * 16 * GEMM_ROWS);
	int64_t r = r0;
	if (nb * GEMM_AVX512_TOKENS > GEMM_SCALE_TABLE) {
		/* rows longer than any model's (32768 values): the plain kernel */
		gemm_rows_scalar(g, r0, r1);
		return;
	}
	/* the first group: all its lines requested at once (the scales are
	 * read row by row first, one dependent miss after another otherwise) */
	if (r + GEMM_ROWS <= r1)
		for (size_t o = 0; o < GEMM_ROWS * g->row_bytes; o += 64)
			_mm_prefetch((const char *)g->w + (size_t)r * g->row_bytes + o, _MM_HINT_T0);
	/* the tokens' rows and output rows, looked up once per call instead of
	 * once per row group (1.5% of a prefill's time) */
	const uint8_t *xall[GEMM_TOKEN_CACHE];
	float *yall[GEMM_TOKEN_CACHE];
	int32_t cached = g->n_tok < GEMM_TOKEN_CACHE ? g->n_tok : GEMM_TOKEN_CACHE;
	gemm_tokens(g, 0, (int)cached, 0, xall, yall);
	/* even tiles: 9 tokens run as 5 + 4, not 8 + 1 */
	int32_t tiles = (g->n_tok + GEMM_AVX512_TOKENS - 1) / GEMM_AVX512_TOKENS;
	/* the scale tables of all tiles, built once per call if they fit, else
	 * one tile's at a time */
	float dtab[GEMM_SCALE_TABLE];
	int all = (int64_t)tiles * nb * GEMM_AVX512_TOKENS <= GEMM_SCALE_TABLE && g->n_tok <= cached;
	if (all)
		for (int32_t k = 0, i = 0; k < tiles; k++) {
			int nt = (int)((g->n_tok - i) / (tiles - k) + ((g->n_tok - i) % (tiles - k) != 0));
			gemm_scale_table(xall + i, nt, g->n, dtab + (size_t)k * (size_t)nb * GEMM_AVX512_TOKENS);
			i += nt;
		}
	for (; r + GEMM_ROWS <= r1; r += GEMM_ROWS) {
		const uint8_t *next = r + 2 * GEMM_ROWS <= r1 ? g->w + (size_t)(r + GEMM_ROWS) * g->row_bytes : NULL;
		if (r + GEMM_ROWS <= g->x16_end)
			gemm_pack_x16_avx512(g, r, w, dw, next);
		else
			gemm_pack_avx512(g, r, w, dw, next);
		for (int32_t k = 0, i = 0; k < tiles; k++) {
			int nt = (int)((g->n_tok - i) / (tiles - k) + ((g->n_tok - i) % (tiles - k) != 0));
			const uint8_t *xs[GEMM_AVX512_TOKENS];
			float *ys[GEMM_AVX512_TOKENS];
			if (i + nt <= cached)
				for (int t = 0; t < nt; t++) {
					xs[t] = xall[i + t];
					ys[t] = yall[i + t] + r;
				}
			else
				gemm_tokens(g, i, nt, r, xs, ys);
			const float *dt = dtab + (size_t)k * (size_t)nb * GEMM_AVX512_TOKENS;
			if (!all) {
				gemm_scale_table(xs, nt, g->n, dtab);
				dt = dtab;
			}
			gemm_tile_avx512(w, dw, g->n, xs, dt, ys, nt);
			i += nt;
		}
	}
	gemm_rows_scalar(g, r, r1);
}

static int gemm_has_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
}
#endif

gemm_q4_0_fn gemm_q4_0_pick(enum simd_level l)
{
#ifdef GEMM_X86
	if (l >= SIMD_LEVEL_AVX512 && gemm_has_avx512())
		return gemm_q4_0_avx512;
	if (l >= SIMD_LEVEL_AVX2)
		return gemm_q4_0_avx2;
#endif
	(void)l;
	return gemm_q4_0_scalar;
}
