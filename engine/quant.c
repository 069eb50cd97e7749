/* Weight types: sizes, conversions, scalar (de)quantization and dot products.
 * Block layouts and value formulas from ggml-common.h / ggml-quants.c. */
#include "engine/quant.h"
#include "engine/gguf.h"

#include <math.h>
#include <string.h>

struct quant_type_info {
	const char *name;
	size_t block_values;
	size_t block_size;
	int supported;		/* the forward pass computes with it */
};

/* Indexed by ggml type id; unknown ids have block_size 0. */
static const struct quant_type_info quant_types[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_F32] = { "f32", 1, 4, 1 },
	[QUANT_TYPE_F16] = { "f16", 1, 2, 1 },
	[QUANT_TYPE_Q4_0] = { "q4_0", 32, 18, 1 },
	[QUANT_TYPE_Q4_1] = { "q4_1", 32, 20, 0 },
	[QUANT_TYPE_Q5_0] = { "q5_0", 32, 22, 1 },
	[QUANT_TYPE_Q5_1] = { "q5_1", 32, 24, 0 },
	[QUANT_TYPE_Q8_0] = { "q8_0", 32, 34, 1 },
	[QUANT_TYPE_Q8_1] = { "q8_1", 32, 36, 0 },
	[QUANT_TYPE_Q2_K] = { "q2_K", 256, 84, 0 },
	[QUANT_TYPE_Q3_K] = { "q3_K", 256, 110, 0 },
	[QUANT_TYPE_Q4_K] = { "q4_K", 256, 144, 1 },
	[QUANT_TYPE_Q5_K] = { "q5_K", 256, 176, 0 },
	[QUANT_TYPE_Q6_K] = { "q6_K", 256, 210, 1 },
	[QUANT_TYPE_Q8_K] = { "q8_K", 256, 292, 0 },
	[QUANT_TYPE_I8] = { "i8", 1, 1, 0 },
	[QUANT_TYPE_I16] = { "i16", 1, 2, 0 },
	[QUANT_TYPE_I32] = { "i32", 1, 4, 0 },
	[QUANT_TYPE_I64] = { "i64", 1, 8, 0 },
	[QUANT_TYPE_F64] = { "f64", 1, 8, 0 },
	[QUANT_TYPE_BF16] = { "bf16", 1, 2, 1 },
};

size_t gguf_type_block_size(uint32_t t)
{
	return t < QUANT_TYPE_COUNT ? quant_types[t].block_size : 0;
}

size_t gguf_type_block_values(uint32_t t)
{
	return t < QUANT_TYPE_COUNT ? quant_types[t].block_values : 0;
}

const char *gguf_type_name(uint32_t t)
{
	return t < QUANT_TYPE_COUNT && quant_types[t].name ? quant_types[t].name : "unknown";
}

int quant_type_supported(uint32_t t)
{
	return t < QUANT_TYPE_COUNT && quant_types[t].supported;
}

size_t quant_row_size(uint32_t t, int64_t n)
{
	if (t >= QUANT_TYPE_COUNT || !quant_types[t].block_size)
		return 0;
	return (size_t)n / quant_types[t].block_values * quant_types[t].block_size;
}

/* IEEE 754 binary16 <-> binary32 by bit manipulation (no F16C needed). */
float quant_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		if (man == 0) {
			bits = sign;
		} else {	/* subnormal: normalize */
			int e = -1;
			do {
				e++;
				man <<= 1;
			} while (!(man & 0x400));
			bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
		}
	} else if (exp == 31) {
		bits = sign | 0x7f800000u | man << 13;
	} else {
		bits = sign | (exp + 127 - 15) << 23 | man << 13;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t quant_f32_to_f16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000;
	int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	uint32_t man = x & 0x7fffff;
	if (((x >> 23) & 0xff) == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {
		if (exp < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		uint32_t shift = (uint32_t)(14 - exp);
		uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	uint32_t h = sign | (uint32_t)exp << 10 | man >> 13;
	uint32_t rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;	/* round to nearest even; may carry into the exponent */
	return (uint16_t)h;
}

float quant_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t quant_f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 64);	/* quiet NaN */
	return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

/* ---- dequantization, one block at a time ---- */

static void quant_deq_q4_0(const struct quant_block_q4_0 *b, float *y)
{
	float d = quant_f16_to_f32(b->d);
	for (int j = 0; j < 16; j++) {
		y[j] = ((b->qs[j] & 15) - 8) * d;
		y[j + 16] = ((b->qs[j] >> 4) - 8) * d;
	}
}

static uint32_t quant_load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void quant_deq_q5_0(const struct quant_block_q5_0 *b, float *y)
{
	float d = quant_f16_to_f32(b->d);
	uint32_t qh = quant_load_u32(b->qh);
	for (int j = 0; j < 16; j++) {
		int lo = (b->qs[j] & 15) | (int)((qh >> j) & 1) << 4;
		int hi = (b->qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
		y[j] = (lo - 16) * d;
		y[j + 16] = (hi - 16) * d;
	}
}

static void quant_deq_q8_0(const struct quant_block_q8_0 *b, float *y)
{
	float d = quant_f16_to_f32(b->d);
	for (int j = 0; j < 32; j++)
		y[j] = b->qs[j] * d;
}

/* Scale and min j (0..7) of a Q4_K block, 6 bits each, packed in 12 bytes. */
static void quant_q4k_scale_min(int j, const uint8_t *q, int *sc, int *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

static void quant_deq_q4_k(const struct quant_block_q4_k *b, float *y)
{
	float d = quant_f16_to_f32(b->d), dmin = quant_f16_to_f32(b->dmin);
	const uint8_t *q = b->qs;
	for (int j = 0; j < 4; j++) {
		int sc, m;
		quant_q4k_scale_min(2 * j, b->scales, &sc, &m);
		float d1 = d * sc, m1 = dmin * m;
		quant_q4k_scale_min(2 * j + 1, b->scales, &sc, &m);
		float d2 = d * sc, m2 = dmin * m;
		for (int l = 0; l < 32; l++)
			y[64 * j + l] = d1 * (q[l] & 15) - m1;
		for (int l = 0; l < 32; l++)
			y[64 * j + 32 + l] = d2 * (q[l] >> 4) - m2;
		q += 32;
	}
}

static void quant_deq_q6_k(const struct quant_block_q6_k *b, float *y)
{
	float d = quant_f16_to_f32(b->d);
	const uint8_t *ql = b->ql, *qh = b->qh;
	const int8_t *sc = b->scales;
	for (int n = 0; n < 2; n++) {
		for (int l = 0; l < 32; l++) {
			int is = l / 16;
			int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
			int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
			int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
			int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
			y[l] = d * sc[is] * q1;
			y[l + 32] = d * sc[is + 2] * q2;
			y[l + 64] = d * sc[is + 4] * q3;
			y[l + 96] = d * sc[is + 6] * q4;
		}
		y += 128;
		ql += 64;
		qh += 32;
		sc += 8;
	}
}

int quant_dequantize_row(uint32_t t, const void *src, float *dst, int64_t n)
{
	const uint8_t *s = src;
	size_t bv = gguf_type_block_values(t), bs = gguf_type_block_size(t);
	if (!quant_type_supported(t) || n % (int64_t)bv)
		return -1;
	for (int64_t i = 0; i < n / (int64_t)bv; i++, s += bs, dst += bv) {
		switch (t) {
		case QUANT_TYPE_F32: memcpy(dst, s, 4); break;
		case QUANT_TYPE_F16: *dst = quant_f16_to_f32((uint16_t)(s[0] | s[1] << 8)); break;
		case QUANT_TYPE_BF16: *dst = quant_bf16_to_f32((uint16_t)(s[0] | s[1] << 8)); break;
		case QUANT_TYPE_Q4_0: quant_deq_q4_0((const void *)s, dst); break;
		case QUANT_TYPE_Q5_0: quant_deq_q5_0((const void *)s, dst); break;
		case QUANT_TYPE_Q8_0: quant_deq_q8_0((const void *)s, dst); break;
		case QUANT_TYPE_Q4_K: quant_deq_q4_k((const void *)s, dst); break;
		case QUANT_TYPE_Q6_K: quant_deq_q6_k((const void *)s, dst); break;
		default: return -1;
		}
	}
	return 0;
}

/* ---- quantization (make-model); round-to-nearest, not ggml's search ---- */

static float quant_absmax_signed(const float *x, int n)
{
	float amax = 0, max = 0;
	for (int j = 0; j < n; j++)
		if (fabsf(x[j]) > amax) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	return max;
}

static void quant_q_q4_0(const float *x, struct quant_block_q4_0 *b)
{
	float max = quant_absmax_signed(x, 32), d = max / -8, id = d ? 1.0f / d : 0;
	b->d = quant_f32_to_f16(d);
	for (int j = 0; j < 16; j++) {
		int a = (int)(x[j] * id + 8.5f), c = (int)(x[j + 16] * id + 8.5f);
		a = a < 0 ? 0 : a > 15 ? 15 : a;
		c = c < 0 ? 0 : c > 15 ? 15 : c;
		b->qs[j] = (uint8_t)(a | c << 4);
	}
}

static void quant_q_q5_0(const float *x, struct quant_block_q5_0 *b)
{
	float max = quant_absmax_signed(x, 32), d = max / -16, id = d ? 1.0f / d : 0;
	uint32_t qh = 0;
	b->d = quant_f32_to_f16(d);
	for (int j = 0; j < 16; j++) {
		int a = (int)(x[j] * id + 16.5f), c = (int)(x[j + 16] * id + 16.5f);
		a = a < 0 ? 0 : a > 31 ? 31 : a;
		c = c < 0 ? 0 : c > 31 ? 31 : c;
		b->qs[j] = (uint8_t)((a & 15) | (c & 15) << 4);
		qh |= (uint32_t)(a >> 4) << j | (uint32_t)(c >> 4) << (j + 16);
	}
	for (int k = 0; k < 4; k++)
		b->qh[k] = (uint8_t)(qh >> (8 * k));
}

static void quant_q_q8_0(const float *x, struct quant_block_q8_0 *b)
{
	float amax = fabsf(quant_absmax_signed(x, 32)), d = amax / 127, id = d ? 1.0f / d : 0;
	b->d = quant_f32_to_f16(d);
	for (int j = 0; j < 32; j++)
		b->qs[j] = (int8_t)lrintf(x[j] * id);
}

static void quant_q_q4_k(const float *x, struct quant_block_q4_k *b)
{
	float scale[8], min[8], maxs = 0, maxm = 0;
	for (int j = 0; j < 8; j++) {
		float lo = x[32 * j], hi = x[32 * j];
		for (int l = 1; l < 32; l++) {
			lo = fminf(lo, x[32 * j + l]);
			hi = fmaxf(hi, x[32 * j + l]);
		}
		if (lo > 0)
			lo = 0;
		scale[j] = (hi - lo) / 15;
		min[j] = -lo;
		maxs = fmaxf(maxs, scale[j]);
		maxm = fmaxf(maxm, min[j]);
	}
	float d = maxs / 63, dmin = maxm / 63;
	b->d = quant_f32_to_f16(d);
	b->dmin = quant_f32_to_f16(dmin);
	d = quant_f16_to_f32(b->d);
	dmin = quant_f16_to_f32(b->dmin);
	uint8_t ls[8], lm[8];
	for (int j = 0; j < 8; j++) {
		long s = d ? lrintf(scale[j] / d) : 0, m = dmin ? lrintf(min[j] / dmin) : 0;
		ls[j] = (uint8_t)(s < 0 ? 0 : s > 63 ? 63 : s);
		lm[j] = (uint8_t)(m < 0 ? 0 : m > 63 ? 63 : m);
	}
	for (int j = 0; j < 4; j++) {
		b->scales[j] = (uint8_t)(ls[j] | (ls[j + 4] >> 4) << 6);
		b->scales[j + 4] = (uint8_t)(lm[j] | (lm[j + 4] >> 4) << 6);
		b->scales[j + 8] = (uint8_t)((ls[j + 4] & 15) | (lm[j + 4] & 15) << 4);
	}
	uint8_t q[256];
	for (int j = 0; j < 8; j++) {
		float sd = d * ls[j], sm = dmin * lm[j];
		for (int l = 0; l < 32; l++) {
			long v = sd ? lrintf((x[32 * j + l] + sm) / sd) : 0;
			q[32 * j + l] = (uint8_t)(v < 0 ? 0 : v > 15 ? 15 : v);
		}
	}
	for (int j = 0; j < 4; j++)
		for (int l = 0; l < 32; l++)
			b->qs[32 * j + l] = (uint8_t)(q[64 * j + l] | q[64 * j + 32 + l] << 4);
}

static void quant_q_q6_k(const float *x, struct quant_block_q6_k *b)
{
	float scale[16], amax = 0;
	for (int j = 0; j < 16; j++) {
		scale[j] = quant_absmax_signed(x + 16 * j, 16) / -32;
		amax = fmaxf(amax, fabsf(scale[j]));
	}
	float d = amax / 127;
	b->d = quant_f32_to_f16(d);
	d = quant_f16_to_f32(b->d);
	uint8_t q[256];
	for (int j = 0; j < 16; j++) {
		long s = d ? lrintf(scale[j] / d) : 0;
		s = s < -128 ? -128 : s > 127 ? 127 : s;
		b->scales[j] = (int8_t)s;
		float sd = d * (float)s;
		for (int l = 0; l < 16; l++) {
			long v = sd ? lrintf(x[16 * j + l] / sd) : 0;
			v = v < -32 ? -32 : v > 31 ? 31 : v;
			q[16 * j + l] = (uint8_t)(v + 32);
		}
	}
	for (int n = 0; n < 2; n++) {
		const uint8_t *qq = q + 128 * n;
		uint8_t *ql = b->ql + 64 * n, *qh = b->qh + 32 * n;
		for (int l = 0; l < 32; l++) {
			ql[l] = (uint8_t)((qq[l] & 15) | (qq[l + 64] & 15) << 4);
			ql[l + 32] = (uint8_t)((qq[l + 32] & 15) | (qq[l + 96] & 15) << 4);
			qh[l] = (uint8_t)((qq[l] >> 4) | (qq[l + 32] >> 4) << 2 | (qq[l + 64] >> 4) << 4 | (qq[l + 96] >> 4) << 6);
		}
	}
}

int quant_quantize_row(uint32_t t, const float *src, void *dst, int64_t n)
{
	uint8_t *d = dst;
	size_t bv = gguf_type_block_values(t), bs = gguf_type_block_size(t);
	if (!quant_type_supported(t) || n % (int64_t)bv)
		return -1;
	for (int64_t i = 0; i < n / (int64_t)bv; i++, d += bs, src += bv) {
		uint16_t h;
		switch (t) {
		case QUANT_TYPE_F32: memcpy(d, src, 4); break;
		case QUANT_TYPE_F16: h = quant_f32_to_f16(*src); memcpy(d, &h, 2); break;
		case QUANT_TYPE_BF16: h = quant_f32_to_bf16(*src); memcpy(d, &h, 2); break;
		case QUANT_TYPE_Q4_0: quant_q_q4_0(src, (void *)d); break;
		case QUANT_TYPE_Q5_0: quant_q_q5_0(src, (void *)d); break;
		case QUANT_TYPE_Q8_0: quant_q_q8_0(src, (void *)d); break;
		case QUANT_TYPE_Q4_K: quant_q_q4_k(src, (void *)d); break;
		case QUANT_TYPE_Q6_K: quant_q_q6_k(src, (void *)d); break;
		default: return -1;
		}
	}
	return 0;
}

/* ---- dot products (scalar reference) ---- */

/* The legacy block quants compute on int16 activations (integer products
 * per block): the float-activation kernels were compute-bound at about half
 * the memory bandwidth.  quant.h says how exact they are. */
int quant_type_uses_q16(uint32_t t)
{
	return t == QUANT_TYPE_Q4_0 || t == QUANT_TYPE_Q5_0 || t == QUANT_TYPE_Q8_0;
}

size_t quant_act_row_used(int64_t n)
{
	size_t nb = (size_t)n / QUANT_QK;
	return (size_t)n * sizeof(int16_t) + nb * (8 * sizeof(int32_t) + sizeof(float) + sizeof(int32_t)) + 2 * (size_t)n;
}

size_t quant_act_row_bytes(int64_t n)
{
	size_t bytes = quant_act_row_used(n);
	return (bytes + QUANT_ACT_ALIGN - 1) / QUANT_ACT_ALIGN * QUANT_ACT_ALIGN;
}

void quant_act_split(void *row, int64_t n)
{
	int64_t nb = n / QUANT_QK;
	const int16_t *qs = row;
	const int32_t *off = (const int32_t *)(qs + n);
	int32_t *osum = (int32_t *)(void *)((float *)(off + 8 * nb) + nb);
	uint8_t *al = (uint8_t *)(osum + nb);
	int8_t *ah = (int8_t *)(al + n);
	for (int64_t b = 0; b < nb; b++) {
		int32_t s = 0;
		for (int k = 0; k < 8; k++)
			s += off[8 * b + k];
		osum[b] = s;
	}
	for (int64_t j = 0; j < n; j++) {
		/* arithmetic shift: ah = floor(qs / 256), al = qs - 256 * ah */
		al[j] = (uint8_t)(qs[j] & 0xff);
		ah[j] = (int8_t)((qs[j] - (qs[j] & 0xff)) / 256);
	}
}

void quant_quantize_act(const float *x, void *row, int64_t n)
{
	int64_t nb = n / QUANT_QK;
	int16_t *qs = row;
	int32_t *off = (int32_t *)(qs + n);
	float *ds = (float *)(off + 8 * nb);
	for (int64_t i = 0; i < nb; i++, x += QUANT_QK, qs += QUANT_QK, off += 8) {
		float amax = 0;
		for (int j = 0; j < QUANT_QK; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		float d = amax / 32767, id = d != 0 ? 1.0f / d : 0;
		ds[i] = d;
		for (int j = 0; j < QUANT_QK; j++) {
			long v = lrintf(x[j] * id);
			qs[j] = (int16_t)(v > 32767 ? 32767 : v < -32767 ? -32767 : v);
		}
		for (int k = 0; k < 8; k++)
			off[k] = -8 * (qs[2 * k] + qs[2 * k + 1] + qs[16 + 2 * k] + qs[17 + 2 * k]);
	}
	quant_act_split(row, n);
}

static float quant_dot_f32(const void *row, const void *x, int64_t n)
{
	const float *a = row, *b = x;
	float s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static float quant_dot_f16(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	float s = 0;
	for (int64_t i = 0; i < n; i++)
		s += quant_f16_to_f32(a[i]) * b[i];
	return s;
}

static float quant_dot_bf16(const void *row, const void *x, int64_t n)
{
	const uint16_t *a = row;
	const float *b = x;
	float s = 0;
	for (int64_t i = 0; i < n; i++)
		s += quant_bf16_to_f32(a[i]) * b[i];
	return s;
}

/* Legacy quants: signed weights times the int16 activations, an exact
 * int32 per block (at most 32 * 128 * 32767), scaled once. */
/* The block scales of a quantized activation row (after qs and off). */
static const float *quant_act_scales(const void *x, int64_t n)
{
	return (const float *)((const int32_t *)((const int16_t *)x + n) + 8 * (n / QUANT_QK));
}

static float quant_dot_q4_0(const void *row, const void *x, int64_t n)
{
	const struct quant_block_q4_0 *w = row;
	const int16_t *q = x;
	const float *d = quant_act_scales(x, n);
	float s = 0;
	for (int64_t i = 0; i < n / QUANT_QK; i++, q += QUANT_QK) {
		int32_t sum = 0;
		for (int j = 0; j < 16; j++)
			sum += ((w[i].qs[j] & 15) - 8) * q[j] + ((w[i].qs[j] >> 4) - 8) * q[j + 16];
		s += quant_f16_to_f32(w[i].d) * d[i] * (float)sum;
	}
	return s;
}

/* Byte j of row r's qs in block b of a repacked group (quant.h). */
static size_t quant_x16_qs_at(int64_t b, int r, int j)
{
	return (size_t)b * QUANT_X16_BLOCK + 32 + 64 * (size_t)(j / 4) + 4 * (size_t)r + (size_t)(j % 4);
}

void quant_q4_0_x16_pack(const void *rows, size_t row_bytes, int64_t n, void *dst)
{
	uint8_t *g = dst;
	for (int64_t b = 0; b < n / QUANT_QK; b++, g += QUANT_X16_BLOCK) {
		const uint8_t *w = (const uint8_t *)rows + (size_t)b * sizeof(struct quant_block_q4_0);
		/* 4-byte moves: the load-time repacking of a 4 GB model is ~1 s */
		for (int r = 0; r < QUANT_X16_ROWS; r++, w += row_bytes) {
			memcpy(g + 2 * r, w, 2);
			for (int k = 0; k < 4; k++)
				memcpy(g + 32 + 64 * k + 4 * r, w + 2 + 4 * k, 4);
		}
	}
}

void quant_q4_0_x16_block(const void *group, int64_t b, int r, struct quant_block_q4_0 *out)
{
	const uint8_t *g = group;
	memcpy(&out->d, g + (size_t)b * QUANT_X16_BLOCK + 2 * (size_t)r, 2);
	for (int j = 0; j < QUANT_QK / 2; j++)
		out->qs[j] = g[quant_x16_qs_at(b, r, j)];
}

void quant_dot_q4_0_x16(const void *group, const void *x, int64_t n, float *out)
{
	const float *d = quant_act_scales(x, n);
	for (int r = 0; r < QUANT_X16_ROWS; r++) {
		const int16_t *q = x;
		float s = 0;
		for (int64_t i = 0; i < n / QUANT_QK; i++, q += QUANT_QK) {
			struct quant_block_q4_0 w;
			quant_q4_0_x16_block(group, i, r, &w);
			int32_t sum = 0;
			for (int j = 0; j < 16; j++)
				sum += ((w.qs[j] & 15) - 8) * q[j] + ((w.qs[j] >> 4) - 8) * q[j + 16];
			s += quant_f16_to_f32(w.d) * d[i] * (float)sum;
		}
		out[r] = s;
	}
}

static float quant_dot_q5_0(const void *row, const void *x, int64_t n)
{
	const struct quant_block_q5_0 *w = row;
	const int16_t *q = x;
	const float *d = quant_act_scales(x, n);
	float s = 0;
	for (int64_t i = 0; i < n / QUANT_QK; i++, q += QUANT_QK) {
		uint32_t qh = quant_load_u32(w[i].qh);
		int32_t sum = 0;
		for (int j = 0; j < 16; j++) {
			int lo = ((w[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4) - 16;
			int hi = ((w[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
			sum += lo * q[j] + hi * q[j + 16];
		}
		s += quant_f16_to_f32(w[i].d) * d[i] * (float)sum;
	}
	return s;
}

static float quant_dot_q8_0(const void *row, const void *x, int64_t n)
{
	const struct quant_block_q8_0 *w = row;
	const int16_t *q = x;
	const float *d = quant_act_scales(x, n);
	float s = 0;
	for (int64_t i = 0; i < n / QUANT_QK; i++, q += QUANT_QK) {
		int32_t sum = 0;
		for (int j = 0; j < 32; j++)
			sum += w[i].qs[j] * q[j];
		s += quant_f16_to_f32(w[i].d) * d[i] * (float)sum;
	}
	return s;
}

/* K-quants take float activations: dequantize one super-block to the stack
 * and dot it, never a whole matrix. */
static float quant_dot_q4_k(const void *row, const void *x, int64_t n)
{
	const struct quant_block_q4_k *w = row;
	const float *b = x;
	float y[QUANT_QK_K], s = 0;
	for (int64_t i = 0; i < n / QUANT_QK_K; i++, b += QUANT_QK_K) {
		quant_deq_q4_k(&w[i], y);
		for (int j = 0; j < QUANT_QK_K; j++)
			s += y[j] * b[j];
	}
	return s;
}

static float quant_dot_q6_k(const void *row, const void *x, int64_t n)
{
	const struct quant_block_q6_k *w = row;
	const float *b = x;
	float y[QUANT_QK_K], s = 0;
	for (int64_t i = 0; i < n / QUANT_QK_K; i++, b += QUANT_QK_K) {
		quant_deq_q6_k(&w[i], y);
		for (int j = 0; j < QUANT_QK_K; j++)
			s += y[j] * b[j];
	}
	return s;
}

static const quant_dot_fn quant_dot_table[QUANT_TYPE_COUNT] = {
	[QUANT_TYPE_F32] = quant_dot_f32,
	[QUANT_TYPE_F16] = quant_dot_f16,
	[QUANT_TYPE_BF16] = quant_dot_bf16,
	[QUANT_TYPE_Q4_0] = quant_dot_q4_0,
	[QUANT_TYPE_Q5_0] = quant_dot_q5_0,
	[QUANT_TYPE_Q8_0] = quant_dot_q8_0,
	[QUANT_TYPE_Q4_K] = quant_dot_q4_k,
	[QUANT_TYPE_Q6_K] = quant_dot_q6_k,
};

quant_dot_fn quant_dot_scalar(uint32_t t)
{
	return t < QUANT_TYPE_COUNT ? quant_dot_table[t] : NULL;
}
