/* Weight types: GGUF/ggml block layouts, (de)quantization and dot products.
 * Layouts follow ggml-common.h exactly; _Static_assert pins every size. */
#ifndef HAFEN_ENGINE_QUANT_H
#define HAFEN_ENGINE_QUANT_H

#include <stddef.h>
#include <stdint.h>

enum quant_type {
	QUANT_TYPE_F32 = 0,
	QUANT_TYPE_F16 = 1,
	QUANT_TYPE_Q4_0 = 2,
	QUANT_TYPE_Q4_1 = 3,
	QUANT_TYPE_Q5_0 = 6,
	QUANT_TYPE_Q5_1 = 7,
	QUANT_TYPE_Q8_0 = 8,
	QUANT_TYPE_Q8_1 = 9,
	QUANT_TYPE_Q2_K = 10,
	QUANT_TYPE_Q3_K = 11,
	QUANT_TYPE_Q4_K = 12,
	QUANT_TYPE_Q5_K = 13,
	QUANT_TYPE_Q6_K = 14,
	QUANT_TYPE_Q8_K = 15,
	QUANT_TYPE_I8 = 24,
	QUANT_TYPE_I16 = 25,
	QUANT_TYPE_I32 = 26,
	QUANT_TYPE_I64 = 27,
	QUANT_TYPE_F64 = 28,
	QUANT_TYPE_BF16 = 30,
	QUANT_TYPE_COUNT = 40
};

#define QUANT_QK 32	/* values per block of the legacy quants */
#define QUANT_QK_K 256	/* values per K-quant super-block */

struct quant_block_q4_0 {
	uint16_t d;		/* f16 scale */
	uint8_t qs[QUANT_QK / 2];	/* y[j] = ((qs[j]&15)-8)d, y[j+16] = ((qs[j]>>4)-8)d */
};
_Static_assert(sizeof(struct quant_block_q4_0) == 18, "q4_0 block");

struct quant_block_q5_0 {
	uint16_t d;
	uint8_t qh[4];		/* bit j: 5th bit of value j */
	uint8_t qs[QUANT_QK / 2];
};
_Static_assert(sizeof(struct quant_block_q5_0) == 22, "q5_0 block");

struct quant_block_q8_0 {
	uint16_t d;
	int8_t qs[QUANT_QK];
};
_Static_assert(sizeof(struct quant_block_q8_0) == 34, "q8_0 block");

struct quant_block_q4_k {
	uint16_t d;		/* super-block scale for the 6-bit scales */
	uint16_t dmin;		/* super-block scale for the 6-bit mins */
	uint8_t scales[12];	/* 8 scales and 8 mins, 6 bits each */
	uint8_t qs[QUANT_QK_K / 2];
};
_Static_assert(sizeof(struct quant_block_q4_k) == 144, "q4_K block");

struct quant_block_q6_k {
	uint8_t ql[QUANT_QK_K / 2];	/* low 4 bits */
	uint8_t qh[QUANT_QK_K / 4];	/* high 2 bits */
	int8_t scales[QUANT_QK_K / 16];
	uint16_t d;
};
_Static_assert(sizeof(struct quant_block_q6_k) == 210, "q6_K block");

/* Activations quantized for the integer dot products of Q4_0/Q5_0/Q8_0
 * weights: x[j] ~ d * qs[j] with d = max|x| / 32767 per 32 values.  Per
 * block, weight x activation is then an exact int32 sum scaled once by
 * d_w * d; the rounding (at most d/2 per value, 1.5e-5 of the block's
 * largest) stays far below the weights' own quantization error (int8
 * activations, as llama.cpp uses, measured 2-3e-4 normalized MSE on the
 * logits of tiny models and flipped argmaxes and expert choices).
 *
 * A quantized row of n values (n % 32 == 0) is laid out for aligned vector
 * loads: int16 qs[n]; int32 off[n/32][8]; float d[n/32]; padded to a
 * multiple of 64 bytes.  off[b][k] = -8 * (qs[32b+2k] + qs[32b+2k+1] +
 * qs[32b+16+2k] + qs[32b+17+2k]): the SIMD kernels multiply unsigned
 * nibbles and start their 8 int32 lanes from it, so that each lane holds an
 * exact sum of (w - 8) * q at no extra instruction (Q5_0 doubles it). */
#define QUANT_ACT_ALIGN 64
size_t quant_act_row_bytes(int64_t n);
void quant_quantize_act(const float *x, void *row, int64_t n);
/* After d, the row carries the same values split into bytes for the
 * kernels on repacked Q4_0 groups (below): int32 osum[n/32] (-8 times each
 * block's sum: the sum of its 8 off words), uint8 al[n] and int8 ah[n]
 * with qs[j] = 256 * ah[j] + al[j] (al in 0..255, ah in -128..127, since
 * |qs| <= 32767).  quant_act_split writes them from qs and off (every
 * quantizer calls it or writes the same bytes). */
void quant_act_split(void *row, int64_t n);
/* Used bytes of a quantized row (quant_act_row_bytes is that, padded). */
size_t quant_act_row_used(int64_t n);

/* Q4_0 rows repacked in groups of 16 (a copied model's matrices, decoding
 * and the GEMM read them; docs/engine-kernels.md "Repacked Q4_0").  A group
 * holds the same bytes as its 16 rows (16 * row_bytes), block after block,
 * QUANT_X16_BLOCK bytes per block: the 16 rows' f16 scales (32 bytes, row r
 * at 2r), then 4 vectors of 64 bytes where dword r of vector k holds row
 * r's qs[4k..4k+3] (low nibbles: values 4k..4k+3, high nibbles: values
 * 16+4k..19+4k), so that a 512-bit lane holds one row.  A matrix of n_out
 * rows keeps its last n_out % 16 rows in the standard layout. */
#define QUANT_X16_ROWS 16
#define QUANT_X16_BLOCK 288
_Static_assert(QUANT_X16_BLOCK == QUANT_X16_ROWS * sizeof(struct quant_block_q4_0), "a group holds 16 rows' bytes");
/* 16 standard rows (row_bytes apart, n values each) into one group at dst
 * (which must not overlap them). */
void quant_q4_0_x16_pack(const void *rows, size_t row_bytes, int64_t n, void *dst);
/* Block b of row r of a group, in the standard layout. */
void quant_q4_0_x16_block(const void *group, int64_t b, int r, struct quant_block_q4_0 *out);
/* The scalar kernel on the 16 rows of a group: out[r] is bit for bit what
 * quant_dot_scalar(Q4_0) returns for the standard row r. */
void quant_dot_q4_0_x16(const void *group, const void *x, int64_t n, float *out);

float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

/* 1 when the forward pass can compute with this type. */
int quant_type_supported(uint32_t type);
/* Bytes of one row of n values (n a multiple of the block size). */
size_t quant_row_size(uint32_t type, int64_t n);

/* Dequantize n values (one row or more). */
int quant_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);
/* Quantize n values into dst (quant_row_size bytes); for make-model. */
int quant_quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

/* Does this weight type take activations quantized to q16 blocks? */
int quant_type_uses_q16(uint32_t type);

/* Dot product of one weight row with x (float or q16-quantized activations,
 * as quant_type_uses_q16 says).  Scalar reference kernels; simd.h picks the
 * fastest at run time. */
typedef float (*quant_dot_fn)(const void *row, const void *x, int64_t n);
quant_dot_fn quant_dot_scalar(uint32_t type);

#endif
