/* The forward pass for every architecture in model.c's table.
 *
 * Tokens are processed in batches of up to FORWARD_BATCH: each weight matrix
 * is streamed once per batch, and in MoE layers the tokens routed to an
 * expert are grouped so that each selected expert's matrices are read once
 * per batch, never for unselected experts.  All scratch memory is allocated
 * when the context is created; a forward call allocates nothing. */
#include "engine/errmsg.h"
#include "engine/gemm.h"
#include "engine/kvcache.h"
#include "engine/model.h"
#include "engine/quant.h"
#include "engine/simd.h"
#include "engine/threadpool.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 128 rather than 64: a 128-token prompt is one batch, so each selected
 * expert's weights are unpacked for the integer GEMM once instead of twice
 * and its token groups are twice as long (~16 tokens of OLMoE's top-8 of 64
 * instead of ~8): the unpacking costs about as much as an 8-token tile
 * (bench/gemm, docs/benchmarks.md "Engine").  Scratch per context doubles
 * (~22 MB for OLMoE-1B-7B). */
#define FORWARD_BATCH 128

struct model_ctx {
	struct model *m;
	uint32_t n_ctx, pos;
	struct kvcache kv;
	struct threadpool *pool;
	int owns_pool;		/* 0: borrowed from another context (model_ctx_new_sharing) */
	enum simd_level simd;
	quant_dot_fn dot[QUANT_TYPE_COUNT];
	simd_dot_rows_fn dot_rows[QUANT_TYPE_COUNT];	/* NULL: none for the type */
	simd_dot_x16_fn dot_x16;	/* repacked Q4_0 groups (model_tensor.x16) */
	simd_quantize_act_fn quantize;
	simd_dot_f32_fn dot_f32;
	simd_axpy_fn axpy;
	simd_dot_f32_rows_fn dot_f32_rows;	/* decoding's attention */
	simd_axpy_rows_fn axpy_rows;
	simd_tile_fn tile;
	simd_dequant_fn deq[QUANT_TYPE_COUNT];
	float *rope_freq;	/* (n_rot/2) */
	/* scratch, rows of FORWARD_BATCH tokens */
	float *x, *h;		/* (B, n_embd) */
	float *q, *k, *v;	/* (B, n_head*hd), (B, n_kv*hd), (B, n_kv*hdv) */
	float *att;		/* (B, n_head*hdv) */
	float *scores;		/* (n_threads, n_ctx) */
	float *attn_buf;	/* (n_threads, attn_buf_len) batched attention (forward_attn_block_task) */
	size_t attn_buf_len, attn_buf_bytes;
	float *router;		/* (B, n_expert) */
	int32_t *sel;		/* (B, k) selected experts */
	float *selw;		/* (B, k) their weights */
	float *ff_gate, *ff_up;	/* (B*k, max ff width) */
	float *ff_out;		/* (B*k, n_embd) */
	float *sh_gate;		/* (B) shared expert gate */
	int32_t *grp_in, *grp_out;	/* (B*k) token / pair index grouped by expert */
	int32_t *grp_start;	/* (n_expert+1) */
	int32_t *grp_fill;	/* (n_expert) */
	uint8_t *qa;		/* q16 rows of the current matmul input (quant.h layout) */
	size_t qa_bytes;
	size_t max_ff;
	float *rowbuf;		/* (n_threads, rowbuf_len) dequantized weight row */
	size_t rowbuf_len;
	gemm_q4_0_fn gemm;	/* batched Q4_0 x q16 (gemm.h) */
	uint8_t *gemm_buf;	/* (n_threads, gemm_buf_len) packed weight rows */
	size_t gemm_buf_len;
	/* per batch row: the sequence's KV cache and position (one sequence,
	 * or one token each of several in model_forward_multi) */
	struct kvcache **tkv;	/* (B) */
	uint32_t *tpos;		/* (B) */
	double prof_attn, prof_ffn, prof_head, prof_kv;	/* model_ctx_profile */
};

static double forward_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------- matrix multiplication on the pool ---------- */

/* y[out_idx[i]][r] = W[mat][r] . x[in_idx[i]] for rows of one chunk. */
struct forward_mm {
	const struct model_tensor *w;
	int64_t mat;
	const void *x;		/* float rows, or q16 rows when q16 is set */
	size_t x_stride;	/* bytes */
	const int32_t *in_idx, *out_idx;	/* NULL: identity */
	int32_t n;		/* activation rows */
	float *y;
	size_t y_stride;	/* floats */
	int64_t rows_per_task;
	int64_t n_tasks;
	quant_dot_fn dot;
	int q16;		/* x holds q16 activation rows */
};

/* Which thread computes which task of a region.  The pool hands out its
 * tickets in order, so with a plain ticket -> task mapping two threads take
 * every other 128 KB task and each one's reads jump ahead at every task; the
 * hardware prefetcher then starts over, and in the host's fast phase such
 * claimed 64-128 KB pieces read 11-36 % slower than one contiguous stretch
 * per thread (bench/stream --matrix, docs/benchmarks.md "Engine", round 6).
 * So the region's tasks are cut into one contiguous range per thread: a
 * ticket runs the next task of its thread's own range, and a thread whose
 * range is done takes the last task of another's, which leaves the owner's
 * stream unbroken.  Every ticket finds a task (each one takes exactly one,
 * and there are as many tickets as tasks); which thread computes a task
 * does not change its result. */
#define FORWARD_MAX_RANGES 64

struct forward_ranges {
	int n;			/* 0: ticket order */
	_Atomic uint64_t range[FORWARD_MAX_RANGES];	/* end << 32 | next, per thread */
};

struct forward_mm_set {
	struct forward_mm *mm;
	int n;
	int64_t *task_start;	/* prefix sums, n+1 */
	struct model_ctx *c;
	struct forward_ranges rg;
};

/* The next task of range r from its front (the owner) or its back (a thief). */
static int64_t forward_range_take(_Atomic uint64_t *r, int back)
{
	uint64_t v = atomic_load_explicit(r, memory_order_relaxed);
	for (;;) {
		uint32_t next = (uint32_t)v, end = (uint32_t)(v >> 32);
		if (next >= end)
			return -1;
		uint64_t nv = back ? (uint64_t)(end - 1) << 32 | next : (uint64_t)end << 32 | (next + 1);
		if (atomic_compare_exchange_weak_explicit(r, &v, nv, memory_order_relaxed, memory_order_relaxed))
			return back ? (int64_t)end - 1 : (int64_t)next;
	}
}

static int64_t forward_range_claim(struct forward_ranges *rg, int64_t ticket, int thread)
{
	if (rg->n == 0)
		return ticket;
	int own = thread % rg->n;
	int64_t t = forward_range_take(&rg->range[own], 0);
	for (int k = 1; t < 0 && k < rg->n; k++)
		t = forward_range_take(&rg->range[(own + k) % rg->n], 1);
	return t;
}

static void forward_range_init(struct forward_ranges *rg, int64_t n_tasks, int nt)
{
	rg->n = 0;
	if (nt < 2 || nt > FORWARD_MAX_RANGES || n_tasks < 2 * nt || n_tasks > (int64_t)UINT32_MAX)
		return;
	for (int t = 0; t < nt; t++) {
		uint64_t lo = (uint64_t)(n_tasks * t / nt), hi = (uint64_t)(n_tasks * (t + 1) / nt);
		atomic_init(&rg->range[t], hi << 32 | lo);
	}
	rg->n = nt;
}

/* With this many activation rows, a weight row is dequantized once into the
 * thread's scratch and dotted in f32 with each row, instead of decoding the
 * blocks again for every token (prefill). */
#define FORWARD_DEQUANT_MIN_ROWS 3

/* Batched jobs on Q4_0 weights run the integer GEMM (gemm.h) on the q16
 * rows that decoding uses too, in row groups of GEMM_ROWS. */
static int forward_gemm(uint32_t type, int32_t job_rows)
{
	return type == QUANT_TYPE_Q4_0 && job_rows >= FORWARD_DEQUANT_MIN_ROWS;
}

/* Batched rows: 4 weight rows at a time are dequantized into the thread's
 * scratch (f32 rows are used in place) and multiplied with 4 activation rows
 * at a time in registers. */
static void forward_mm_batched(struct model_ctx *c, const struct forward_mm *mm, const uint8_t *base,
	int64_t r0, int64_t r1, int thread)
{
	int64_t n_in = mm->w->n_in;
	float *wr = c->rowbuf + (size_t)thread * c->rowbuf_len;
	int tile = n_in % 16 == 0;
	for (int64_t r = r0; r < r1;) {
		int nr = tile && r1 - r >= 4 ? 4 : 1;
		const float *w;
		if (mm->w->type == QUANT_TYPE_F32) {
			w = (const float *)(base + (size_t)r * mm->w->row_bytes);
		} else {
			c->deq[mm->w->type](base + (size_t)r * mm->w->row_bytes, wr, n_in * nr);
			w = wr;
		}
		int32_t i = 0;
		if (nr == 4)
			for (; i + 4 <= mm->n; i += 4) {
				const float *xs[4];
				int32_t oi[4];
				for (int t = 0; t < 4; t++) {
					int32_t ii = mm->in_idx ? mm->in_idx[i + t] : i + t;
					oi[t] = mm->out_idx ? mm->out_idx[i + t] : i + t;
					xs[t] = (const float *)((const uint8_t *)mm->x + (size_t)ii * mm->x_stride);
				}
				float out[16];
				c->tile(w, xs, n_in, out);
				for (int rr = 0; rr < 4; rr++)
					for (int t = 0; t < 4; t++)
						mm->y[(size_t)oi[t] * mm->y_stride + (size_t)(r + rr)] = out[4 * rr + t];
			}
		for (; i < mm->n; i++) {
			int32_t ii = mm->in_idx ? mm->in_idx[i] : i, oi = mm->out_idx ? mm->out_idx[i] : i;
			const float *xr = (const float *)((const uint8_t *)mm->x + (size_t)ii * mm->x_stride);
			for (int rr = 0; rr < nr; rr++)
				mm->y[(size_t)oi * mm->y_stride + (size_t)(r + rr)] = c->dot_f32(w + rr * n_in, xr, n_in);
		}
		r += nr;
	}
}

static void forward_mm_task(void *ctx, int64_t ticket, int thread)
{
	struct forward_mm_set *set = ctx;
	int64_t task = forward_range_claim(&set->rg, ticket, thread);
	if (task < 0)	/* cannot happen: as many tickets as tasks */
		return;
	int j = 0;
	while (set->task_start[j + 1] <= task)	/* few jobs: linear scan */
		j++;
	const struct forward_mm *mm = &set->mm[j];
	int64_t r0 = (task - set->task_start[j]) * mm->rows_per_task;
	int64_t r1 = r0 + mm->rows_per_task;
	if (r1 > mm->w->n_out)
		r1 = mm->w->n_out;
	const uint8_t *base = mm->w->data + (size_t)mm->mat * mm->w->mat_bytes;
	struct model_ctx *c = set->c;
	if (mm->q16 && forward_gemm(mm->w->type, mm->n)) {
		struct gemm_q4_0 g = { base, mm->w->row_bytes, mm->w->n_in, mm->x, mm->x_stride, mm->in_idx, mm->out_idx,
			mm->n, mm->y, mm->y_stride, mm->w->x16 ? mm->w->n_out / QUANT_X16_ROWS * QUANT_X16_ROWS : 0 };
		c->gemm(&g, r0, r1, c->gemm_buf + (size_t)thread * c->gemm_buf_len);
		return;
	}
	/* float activations with a q16 type (prefill): dequantized rows */
	if (!mm->q16 && (mm->n >= FORWARD_DEQUANT_MIN_ROWS || quant_type_uses_q16(mm->w->type))) {
		forward_mm_batched(c, mm, base, r0, r1, thread);
		return;
	}
	int64_t r = r0;
	if (mm->q16 && mm->w->x16) {
		/* repacked groups (tasks start on a group); rows past the last
		 * whole group are in the standard layout, below */
		int64_t end = mm->w->n_out / QUANT_X16_ROWS * QUANT_X16_ROWS;
		end = end < r1 ? end : r1;
		for (; r + QUANT_X16_ROWS <= end; r += QUANT_X16_ROWS)
			for (int32_t i = 0; i < mm->n; i++) {
				int32_t ii = mm->in_idx ? mm->in_idx[i] : i, oi = mm->out_idx ? mm->out_idx[i] : i;
				c->dot_x16(base + (size_t)r * mm->w->row_bytes, (const uint8_t *)mm->x + (size_t)ii * mm->x_stride,
					mm->w->n_in, mm->y + (size_t)oi * mm->y_stride + (size_t)r);
			}
	}
	simd_dot_rows_fn rows = mm->q16 ? c->dot_rows[mm->w->type] : NULL;
	if (rows)
		/* decoding: SIMD_DOT_ROWS weight rows share each activation load
		 * (a second activation row finds the rows in L1) */
		for (; r + SIMD_DOT_ROWS <= r1; r += SIMD_DOT_ROWS)
			for (int32_t i = 0; i < mm->n; i++) {
				int32_t ii = mm->in_idx ? mm->in_idx[i] : i, oi = mm->out_idx ? mm->out_idx[i] : i;
				rows(base + (size_t)r * mm->w->row_bytes, mm->w->row_bytes,
					(const uint8_t *)mm->x + (size_t)ii * mm->x_stride, mm->w->n_in,
					mm->y + (size_t)oi * mm->y_stride + (size_t)r);
			}
	for (; r < r1; r++) {
		const uint8_t *row = base + (size_t)r * mm->w->row_bytes;
		for (int32_t i = 0; i < mm->n; i++) {
			int32_t ii = mm->in_idx ? mm->in_idx[i] : i, oi = mm->out_idx ? mm->out_idx[i] : i;
			const uint8_t *xr = (const uint8_t *)mm->x + (size_t)ii * mm->x_stride;
			mm->y[(size_t)oi * mm->y_stride + (size_t)r] = mm->dot(row, xr, mm->w->n_in);
		}
	}
}

#define FORWARD_MAX_JOBS 1024

/* Decoding tasks hold about this many bytes of weights (a few microseconds
 * of streaming): a region ends when its last task does, so short tasks keep
 * the other thread's wait short, and a claim costs ~0.1 us. */
#define FORWARD_DECODE_TASK_BYTES (64 * 1024)
/* Repacked matrices (model_tensor.x16): a task's rows are one contiguous
 * stream, and twice as long a stream per task measured 3-8 % less CPU per
 * token (docs/benchmarks.md, "Engine", repacked Q4_0). */
#define FORWARD_DECODE_TASK_BYTES_X16 (128 * 1024)

/* Whole groups of SIMD_DOT_ROWS rows per decoding task, by bytes (and by
 * activation rows: each row of weights is dotted with n of them). */
static int64_t forward_decode_rows_per_task(const struct model_tensor *w, int32_t n)
{
	int64_t unit = w->x16 ? QUANT_X16_ROWS : SIMD_DOT_ROWS;	/* repacked: whole groups */
	size_t bytes = w->x16 ? FORWARD_DECODE_TASK_BYTES_X16 : FORWARD_DECODE_TASK_BYTES;
	int64_t per = (int64_t)(bytes / w->row_bytes / (size_t)n) / unit * unit;
	return per < unit ? unit : per;
}

/* Run several independent matmuls in one parallel region. */
static void forward_mm_run(struct model_ctx *c, struct forward_mm *mm, int n)
{
	int64_t starts[FORWARD_MAX_JOBS + 1];
	int nt = threadpool_size(c->pool);
	starts[0] = 0;
	for (int j = 0; j < n; j++) {
		int64_t rows = mm[j].w->n_out;
		/* enough tasks to balance, few enough to keep rows long */
		int64_t per = rows / (4 * nt) + 1;
		if (per < 8)
			per = 8;
		if (n > 1 && per < 32)
			per = 32;
		/* whole 16-row groups, and no short last task: 1024 rows on 2
		 * threads are 8 tasks of 128, not 7 of 144 and one of 16 */
		if (forward_gemm(mm[j].w->type, mm[j].n)) {
			per = (rows / (4 * nt) + GEMM_ROWS - 1) / GEMM_ROWS * GEMM_ROWS;
			if (per < 2 * GEMM_ROWS)
				per = 2 * GEMM_ROWS;
		} else if (mm[j].q16)
			per = forward_decode_rows_per_task(mm[j].w, mm[j].n);
		mm[j].rows_per_task = per;
		mm[j].n_tasks = (rows + per - 1) / per;
		mm[j].dot = c->dot[mm[j].w->type];
		starts[j + 1] = starts[j] + mm[j].n_tasks;
	}
	struct forward_mm_set set = { .mm = mm, .n = n, .task_start = starts, .c = c };
	forward_range_init(&set.rg, starts[n], nt);
	threadpool_run(c->pool, forward_mm_task, &set, starts[n]);
}

/* A matmul job with one or two activation rows (decoding, or an expert
 * that few tokens of a batch chose) runs the legacy quants on q16
 * activations, where the integer kernels stream weights at memory speed;
 * with more rows Q4_0 runs the integer GEMM on the same q16 rows, and the
 * other types dequantize each weight row once and multiply it with the rows
 * in f32 register tiles.  They agree to ~1e-9 (the q16 rounding). */
static int forward_q16(uint32_t type, int32_t job_rows)
{
	return quant_type_uses_q16(type) && (job_rows < FORWARD_DEQUANT_MIN_ROWS || forward_gemm(type, job_rows));
}

/* Point a matmul job at input rows x (n_rows of n_in floats), quantized
 * into c->qa (all n_rows, once per region: *quantized) if the job computes
 * on q16 activations.  Jobs sharing an input in one region must have
 * weights of the same activation format (callers group them so). */
static void forward_mm_input(struct model_ctx *c, struct forward_mm *mm, const float *x, int64_t n_in,
	int32_t n_rows, int *quantized)
{
	if (forward_q16(mm->w->type, mm->n)) {
		mm->q16 = 1;
		size_t rb = quant_act_row_bytes(n_in);
		if (!*quantized) {
			for (int32_t i = 0; i < n_rows; i++)
				c->quantize(x + (size_t)i * (size_t)n_in, c->qa + (size_t)i * rb, n_in);
			*quantized = 1;
		}
		mm->x = c->qa;
		mm->x_stride = rb;
	} else {
		mm->x = x;
		mm->x_stride = (size_t)n_in * sizeof(float);
	}
}

/* ---------- small ops (on the calling thread) ---------- */

static void forward_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
	double ss = 0;
	for (int64_t i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	float s = (float)(1.0 / sqrt(ss / (double)n + eps));
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] * s * (w ? w[i] : 1.0f);
}

/* forward_rmsnorm of two rows of n at once (OLMoE's full-width q and k
 * norms): each sum is the same chain of double additions in the same order,
 * so the results are bit for bit those of two calls, but the two chains'
 * latencies overlap (a chain of 2048 dependent additions is some
 * microseconds of the calling thread, per row and layer). */
static void forward_rmsnorm_pair(float *y0, const float *w0, float *y1, const float *w1, int64_t n, float eps)
{
	double ss0 = 0, ss1 = 0;
	for (int64_t i = 0; i < n; i++) {
		ss0 += (double)y0[i] * y0[i];
		ss1 += (double)y1[i] * y1[i];
	}
	float s0 = (float)(1.0 / sqrt(ss0 / (double)n + eps)), s1 = (float)(1.0 / sqrt(ss1 / (double)n + eps));
	for (int64_t i = 0; i < n; i++)
		y0[i] = y0[i] * s0 * (w0 ? w0[i] : 1.0f);
	for (int64_t i = 0; i < n; i++)
		y1[i] = y1[i] * s1 * (w1 ? w1[i] : 1.0f);
}

static void forward_rope(const struct model_ctx *c, float *v, uint32_t n_heads, uint32_t hd, uint32_t pos)
{
	const struct model *m = c->m;
	uint32_t n_rot = m->hp.n_rot, half = n_rot / 2;
	/* one cosf/sinf per frequency for all heads (they were 16-32 calls
	 * each per token and layer, on the calling thread) */
	for (uint32_t i = 0; i < half; i++) {
		float th = (float)pos * c->rope_freq[i];
		float cs = cosf(th), sn = sinf(th);
		uint32_t a = m->arch->rope == MODEL_ROPE_NORM ? 2 * i : i;
		uint32_t b = m->arch->rope == MODEL_ROPE_NORM ? 2 * i + 1 : i + half;
		for (uint32_t h = 0; h < n_heads; h++) {
			float *x = v + (size_t)h * hd;
			float x0 = x[a], x1 = x[b];
			x[a] = x0 * cs - x1 * sn;
			x[b] = x0 * sn + x1 * cs;
		}
	}
}

static float forward_silu(float x)
{
	return x / (1.0f + expf(-x));
}

/* g[j] = silu(g[j]) * u[j] for j < w, 4 values at a time in GCC vector
 * types (SSE2 on any x86-64, NEON on arm64): one call of libm's expf per
 * value took 3% of a 128-token prefill of OLMoE.  exp(x) for x in [-87, 88]
 * as 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two so
 * that n * the first part is exact), p the polynomial of Cephes' expf
 * (S. L. Moshier, Cephes Math Library, expf.c; relative error about 1 ulp).
 * The same code runs at every SIMD level, so results do not depend on it;
 * against expf they differ by an ulp or two. */
typedef float forward_v4 __attribute__((vector_size(16)));
typedef int32_t forward_v4i __attribute__((vector_size(16)));

static inline forward_v4 forward_v4_set(float a)
{
	return (forward_v4){ a, a, a, a };
}

static inline forward_v4 forward_v4_clamp(forward_v4 x, float lo, float hi)
{
	forward_v4i below = x < forward_v4_set(lo), above = x > forward_v4_set(hi);
	forward_v4i v = ((forward_v4i)x & ~(below | above)) | ((forward_v4i)forward_v4_set(lo) & below) |
		((forward_v4i)forward_v4_set(hi) & above);
	return (forward_v4)v;
}

static inline forward_v4 forward_exp4(forward_v4 x)
{
	x = forward_v4_clamp(x, -87.0f, 88.0f);
	/* round to nearest by adding 1.5 * 2^23: n sits in the low mantissa bits */
	const forward_v4 magic = forward_v4_set(12582912.0f);
	forward_v4 t = x * forward_v4_set(1.44269504088896341f) + magic;
	forward_v4 n = t - magic;
	forward_v4 r = x - n * forward_v4_set(0.693359375f) - n * forward_v4_set(-2.12194440e-4f);
	forward_v4 p = forward_v4_set(1.9875691500E-4f);
	p = p * r + forward_v4_set(1.3981999507E-3f);
	p = p * r + forward_v4_set(8.3334519073E-3f);
	p = p * r + forward_v4_set(4.1665795894E-2f);
	p = p * r + forward_v4_set(1.6666665459E-1f);
	p = p * r + forward_v4_set(5.0000001201E-1f);
	p = p * r * r + r + forward_v4_set(1.0f);
	forward_v4i e = ((forward_v4i)t - (forward_v4i)magic + 127) << 23;
	return p * (forward_v4)e;
}

static void forward_silu_mul(float *g, const float *u, size_t w)
{
	size_t j = 0;
	for (; j + 4 <= w; j += 4) {
		forward_v4 a, b;
		memcpy(&a, g + j, sizeof a);
		memcpy(&b, u + j, sizeof b);
		a = a / (forward_v4_set(1.0f) + forward_exp4(-a)) * b;
		memcpy(g + j, &a, sizeof a);
	}
	for (; j < w; j++)
		g[j] = forward_silu(g[j]) * u[j];
}

/* ---------- per-token steps of a batch on the pool ---------- */

/* Batches of at least this many rows run the per-token steps between the
 * matmuls (norms, quantization of the matmul input, q/k norms, RoPE, KV
 * writes) as a parallel region: on the calling thread alone they kept the
 * other thread idle for ~3% of a 128-token prefill.  Decoding steps keep
 * them inline. */
#define FORWARD_PAR_ROWS 4

/* y[t] = rmsnorm(x[t]) * w, then q16 rows of y[t] into c->qa if quantize. */
struct forward_norm_job {
	struct model_ctx *c;
	float *y;
	const float *x, *w;
	int64_t dim;
	int quantize;
};

static void forward_norm_task(void *ctx, int64_t task, int thread)
{
	const struct forward_norm_job *job = ctx;
	struct model_ctx *c = job->c;
	size_t t = (size_t)task;
	(void)thread;
	forward_rmsnorm(job->y + t * (size_t)job->dim, job->x + t * (size_t)job->dim, job->w, job->dim,
		c->m->hp.rms_eps);
	if (job->quantize)
		c->quantize(job->y + t * (size_t)job->dim, c->qa + t * quant_act_row_bytes(job->dim), job->dim);
}

static void forward_quantize_task(void *ctx, int64_t task, int thread)
{
	const struct forward_norm_job *job = ctx;
	size_t t = (size_t)task;
	(void)thread;
	job->c->quantize(job->x + t * (size_t)job->dim, job->c->qa + t * quant_act_row_bytes(job->dim), job->dim);
}

/* RMSNorm of n rows of c->x into c->h, and for a batch their q16 rows
 * into c->qa if `quantize` (the input of matmuls on q16 weights).  Returns
 * whether it quantized (a caller passes that on as forward_mm_input's
 * `quantized`). */
static int forward_norm_rows(struct model_ctx *c, const float *w, uint32_t n, int quantize)
{
	const struct model_hparams *hp = &c->m->hp;
	if (n < FORWARD_PAR_ROWS) {
		for (uint32_t t = 0; t < n; t++)
			forward_rmsnorm(c->h + (size_t)t * hp->n_embd, c->x + (size_t)t * hp->n_embd, w, hp->n_embd,
				hp->rms_eps);
		return 0;
	}
	struct forward_norm_job job = { c, c->h, c->x, w, hp->n_embd, quantize };
	threadpool_run(c->pool, forward_norm_task, &job, n);
	return quantize;
}

/* q16 rows of n rows of x (dim wide) into c->qa, on the pool. */
static void forward_quantize_rows(struct model_ctx *c, const float *x, uint32_t n, int64_t dim)
{
	struct forward_norm_job job = { c, NULL, x, NULL, dim, 1 };
	threadpool_run(c->pool, forward_quantize_task, &job, n);
}

/* ---------- attention ---------- */

struct forward_attn {
	struct model_ctx *c;
	uint32_t il, n;
	struct forward_ranges rg;	/* forward_attn_range_task */
};

/* Task: one (token, head) pair. */
static void forward_attn_task(void *ctx, int64_t task, int thread)
{
	struct forward_attn *a = ctx;
	struct model_ctx *c = a->c;
	const struct model_hparams *hp = &c->m->hp;
	uint32_t t = (uint32_t)(task / hp->n_head), h = (uint32_t)(task % hp->n_head);
	uint32_t kvh = h / (hp->n_head / hp->n_head_kv), pos = c->tpos[t];
	const struct kvcache *kv = c->tkv[t];
	const float *q = c->q + (size_t)t * hp->n_head * hp->head_dim + (size_t)h * hp->head_dim;
	float *s = c->scores + (size_t)thread * c->n_ctx;
	float scale = 1.0f / sqrtf((float)hp->head_dim), mx = -INFINITY;
	/* all keys, then all values, in one call each (bit for bit a dot_f32
	 * and an axpy per position: simd.h); the head's rows are consecutive
	 * in the head-major cache (kvcache.h) */
	c->dot_f32_rows(q, kvcache_k(kv, a->il, kvh, 0), hp->head_dim, (int64_t)pos + 1, hp->head_dim, s);
	for (uint32_t j = 0; j <= pos; j++) {
		s[j] *= scale;
		if (s[j] > mx)
			mx = s[j];
	}
	float sum = 0;
	for (uint32_t j = 0; j <= pos; j++) {
		s[j] = expf(s[j] - mx);
		sum += s[j];
	}
	for (uint32_t j = 0; j <= pos; j++)
		s[j] = s[j] / sum;
	float *o = c->att + (size_t)t * hp->n_head * hp->head_dim_v + (size_t)h * hp->head_dim_v;
	memset(o, 0, hp->head_dim_v * sizeof(float));
	c->axpy_rows(o, s, kvcache_v(kv, a->il, kvh, 0), hp->head_dim_v, (int64_t)pos + 1, hp->head_dim_v);
}

/* Decoding's (token, head) tasks in one contiguous range per thread (as
 * forward_mm_set's): with the head-major cache, a thread's heads are one
 * stretch of keys and one of values per layer (kvcache.h). */
static void forward_attn_range_task(void *ctx, int64_t ticket, int thread)
{
	struct forward_attn *a = ctx;
	int64_t task = forward_range_claim(&a->rg, ticket, thread);
	if (task >= 0)	/* always: as many tickets as tasks */
		forward_attn_task(ctx, task, thread);
}

/* Batched attention of one sequence (prefill): a task is one head and a
 * block of FORWARD_ATTN_QB consecutive queries, computed as two small
 * matrix products with the f32 register tiles (simd_tile_4x4), instead of
 * one dot product and one axpy call per (query, key) pair, which cost ~50 ns
 * each (4% of a 128-token prefill on OLMoE, as much as the output
 * projection).  Scores S = Q K^T (4 queries x 4 keys per tile, causal: key
 * groups past a query group's last position are skipped), the softmax of
 * each row exactly as forward_attn_task computes it, then O = P V with V
 * transposed into the thread's scratch (4 value dims x 4 queries per tile,
 * the probabilities zero past each query's position).  Only the order of
 * the float sums differs from the per-pair path. */
#define FORWARD_ATTN_QB 32

static size_t forward_attn_buf_len(const struct model_hparams *hp, uint32_t n_ctx)
{
	size_t pmax = ((size_t)n_ctx + 15) / 16 * 16;
	/* queries, a zero key row, scores, transposed values */
	return (size_t)FORWARD_ATTN_QB * hp->head_dim + (hp->head_dim > hp->head_dim_v ? hp->head_dim : hp->head_dim_v) +
		(size_t)FORWARD_ATTN_QB * pmax +
		(size_t)hp->head_dim_v * pmax;
}

/* Whether rows 0..n-1 are consecutive positions of one sequence and the
 * head sizes suit the tiles. */
static int forward_attn_blocked(const struct model_ctx *c, uint32_t n)
{
	const struct model_hparams *hp = &c->m->hp;
	if (n < 8 || hp->head_dim % 16 || hp->head_dim_v % 4)
		return 0;
	for (uint32_t t = 1; t < n; t++)
		if (c->tkv[t] != c->tkv[0] || c->tpos[t] != c->tpos[0] + t)
			return 0;
	return 1;
}

static void forward_attn_block_task(void *ctx, int64_t task, int thread)
{
	struct forward_attn *a = ctx;
	struct model_ctx *c = a->c;
	const struct model_hparams *hp = &c->m->hp;
	uint32_t hd = hp->head_dim, hdv = hp->head_dim_v, nblk = (a->n + FORWARD_ATTN_QB - 1) / FORWARD_ATTN_QB;
	/* the last blocks (most keys) first, for the balance at the end */
	uint32_t blk = nblk - 1 - (uint32_t)(task / hp->n_head), h = (uint32_t)(task % hp->n_head);
	uint32_t kvh = h / (hp->n_head / hp->n_head_kv), t0 = blk * FORWARD_ATTN_QB;
	uint32_t nq = a->n - t0 < FORWARD_ATTN_QB ? a->n - t0 : FORWARD_ATTN_QB;
	uint32_t nq4 = (nq + 3) / 4 * 4, p0 = c->tpos[0];
	uint32_t P = p0 + t0 + nq;	/* keys 0 .. P-1 */
	size_t Pp = ((size_t)P + 15) / 16 * 16;
	const struct kvcache *kv = c->tkv[0];
	float *Q = c->attn_buf + (size_t)thread * c->attn_buf_len, *zero = Q + (size_t)FORWARD_ATTN_QB * hd;
	size_t zlen = hd > hdv ? hd : hdv;
	float *S = zero + zlen, *Vt = S + (size_t)FORWARD_ATTN_QB * Pp;
	float scale = 1.0f / sqrtf((float)hd);

	memset(zero, 0, zlen * sizeof(float));
	for (uint32_t i = 0; i < nq4; i++) {
		if (i < nq)
			memcpy(Q + (size_t)i * hd, c->q + (size_t)(t0 + i) * hp->n_head * hd + (size_t)h * hd, hd * sizeof(float));
		else
			memset(Q + (size_t)i * hd, 0, hd * sizeof(float));
	}
	/* scores: row i holds the keys of query t0+i (position p0+t0+i) */
	for (uint32_t i = 0; i < nq4; i += 4) {
		uint32_t last = p0 + t0 + (i + 3 < nq ? i + 3 : nq - 1);	/* the group's last position */
		for (uint32_t j = 0; j <= last; j += 4) {
			const float *ks[4];
			for (int u = 0; u < 4; u++)
				ks[u] = j + u < P ? kvcache_k(kv, a->il, kvh, j + u) : zero;
			float out[16];
			c->tile(Q + (size_t)i * hd, ks, hd, out);
			for (int r = 0; r < 4; r++)
				for (uint32_t u = 0; u < 4 && j + u < P; u++)
					S[(size_t)(i + r) * Pp + j + u] = out[4 * r + u] * scale;
		}
	}
	/* softmax of each row over its keys 0 .. pos, zeros after */
	for (uint32_t i = 0; i < nq4; i++) {
		float *s = S + (size_t)i * Pp;
		if (i >= nq) {
			memset(s, 0, Pp * sizeof(float));
			continue;
		}
		uint32_t pos = p0 + t0 + i;
		float mx = -INFINITY, sum = 0;
		for (uint32_t j = 0; j <= pos; j++)
			if (s[j] > mx)
				mx = s[j];
		for (uint32_t j = 0; j <= pos; j++) {
			s[j] = expf(s[j] - mx);
			sum += s[j];
		}
		for (uint32_t j = 0; j <= pos; j++)
			s[j] /= sum;
		memset(s + pos + 1, 0, (Pp - pos - 1) * sizeof(float));
	}
	/* V transposed: Vt[d][j], zero for P <= j < Pp; 16 keys at a time, so
	 * that each row of Vt is written a cache line at a time */
	for (uint32_t j = 0; j < Pp; j += 16) {
		const float *vs[16];
		for (uint32_t u = 0; u < 16; u++)
			vs[u] = j + u < P ? kvcache_v(kv, a->il, kvh, j + u) : zero;
		for (uint32_t d = 0; d < hdv; d++)
			for (uint32_t u = 0; u < 16; u++)
				Vt[(size_t)d * Pp + j + u] = vs[u][d];
	}
	/* O = P V: 4 value dims x 4 queries per tile (the tile's rows are
	 * its length apart, so every group runs over all Pp keys; the zeros
	 * past a query's position are at most a block's worth) */
	for (uint32_t i = 0; i < nq4; i += 4) {
		const float *ps[4] = { S + (size_t)i * Pp, S + (size_t)(i + 1) * Pp, S + (size_t)(i + 2) * Pp,
			S + (size_t)(i + 3) * Pp };
		for (uint32_t d = 0; d < hdv; d += 4) {
			float out[16];
			c->tile(Vt + (size_t)d * Pp, ps, (int64_t)Pp, out);
			for (int r = 0; r < 4; r++)
				for (uint32_t u = 0; u < 4 && i + u < nq; u++)
					c->att[(size_t)(t0 + i + u) * hp->n_head * hdv + (size_t)h * hdv + d + r] = out[4 * r + u];
		}
	}
}

/* Biases, q/k norms and RoPE of token t's q and k, and its k and v into the
 * KV cache. */
static void forward_qkv_task(void *ctx, int64_t task, int thread)
{
	const struct forward_attn *a = ctx;
	struct model_ctx *c = a->c;
	const struct model *m = c->m;
	const struct model_hparams *hp = &m->hp;
	const struct model_layer *L = &m->layers[a->il];
	uint32_t t = (uint32_t)task, il = a->il;
	size_t qw = (size_t)hp->n_head * hp->head_dim, kw = (size_t)hp->n_head_kv * hp->head_dim;
	size_t vw = (size_t)hp->n_head_kv * hp->head_dim_v;
	float *q = c->q + t * qw, *k = c->k + t * kw, *v = c->v + t * vw;
	(void)thread;
	if (L->bq.data) {
		const float *bq = (const float *)L->bq.data, *bk = (const float *)L->bk.data;
		const float *bv = (const float *)L->bv.data;
		for (size_t i = 0; i < qw; i++)
			q[i] += bq[i];
		for (size_t i = 0; i < kw; i++)
			k[i] += bk[i];
		for (size_t i = 0; i < vw; i++)
			v[i] += bv[i];
	}
	if (m->arch->qk_norm == MODEL_QK_NORM_FULL && qw == kw)
		forward_rmsnorm_pair(q, (const float *)L->q_norm.data, k, (const float *)L->k_norm.data, (int64_t)qw,
			hp->rms_eps);
	else if (m->arch->qk_norm == MODEL_QK_NORM_FULL) {
		forward_rmsnorm(q, q, (const float *)L->q_norm.data, (int64_t)qw, hp->rms_eps);
		forward_rmsnorm(k, k, (const float *)L->k_norm.data, (int64_t)kw, hp->rms_eps);
	} else if (m->arch->qk_norm == MODEL_QK_NORM_HEAD) {
		for (uint32_t h = 0; h < hp->n_head; h++)
			forward_rmsnorm(q + h * hp->head_dim, q + h * hp->head_dim,
				(const float *)L->q_norm.data, hp->head_dim, hp->rms_eps);
		for (uint32_t h = 0; h < hp->n_head_kv; h++)
			forward_rmsnorm(k + h * hp->head_dim, k + h * hp->head_dim,
				(const float *)L->k_norm.data, hp->head_dim, hp->rms_eps);
	}
	forward_rope(c, q, hp->n_head, hp->head_dim, c->tpos[t]);
	forward_rope(c, k, hp->n_head_kv, hp->head_dim, c->tpos[t]);
	for (uint32_t h = 0; h < hp->n_head_kv; h++) {
		memcpy(kvcache_k(c->tkv[t], il, h, c->tpos[t]), k + (size_t)h * hp->head_dim, hp->head_dim * sizeof(float));
		memcpy(kvcache_v(c->tkv[t], il, h, c->tpos[t]), v + (size_t)h * hp->head_dim_v,
			hp->head_dim_v * sizeof(float));
	}
}

/* Multiply-adds below which attention runs without the pool (~5 us; a
 * region costs ~1 us, and the caller never waits for a worker that has not
 * claimed a task). */
#define FORWARD_ATTN_INLINE (1 << 15)

static void forward_attention(struct model_ctx *c, uint32_t il, uint32_t n)
{
	const struct model *m = c->m;
	const struct model_hparams *hp = &m->hp;
	const struct model_layer *L = &m->layers[il];
	size_t qw = (size_t)hp->n_head * hp->head_dim, kw = (size_t)hp->n_head_kv * hp->head_dim;
	size_t vw = (size_t)hp->n_head_kv * hp->head_dim_v;

	int quantized = forward_norm_rows(c, (const float *)L->attn_norm.data, n, forward_q16(L->attn_q.type, (int32_t)n));
	struct forward_mm mm[3] = {
		{ .w = &L->attn_q, .y = c->q, .y_stride = qw, .n = (int32_t)n },
		{ .w = &L->attn_k, .y = c->k, .y_stride = kw, .n = (int32_t)n },
		{ .w = &L->attn_v, .y = c->v, .y_stride = vw, .n = (int32_t)n },
	};
	for (int j = 0; j < 3; j++)
		forward_mm_input(c, &mm[j], c->h, hp->n_embd, (int32_t)n, &quantized);
	forward_mm_run(c, mm, 3);

	struct forward_attn a = { .c = c, .il = il, .n = n };
	if (n < FORWARD_PAR_ROWS)
		for (uint32_t t = 0; t < n; t++)
			forward_qkv_task(&a, t, 0);
	else
		threadpool_run(c->pool, forward_qkv_task, &a, n);

	/* a short context (decoding early on) is cheaper on the calling thread
	 * than a parallel region */
	double t0 = forward_now();
	int64_t work = 0;
	for (uint32_t t = 0; t < n; t++)
		work += (int64_t)(c->tpos[t] + 1) * hp->n_head * (hp->head_dim + hp->head_dim_v);
	if (forward_attn_blocked(c, n))
		threadpool_run(c->pool, forward_attn_block_task, &a,
			(int64_t)((n + FORWARD_ATTN_QB - 1) / FORWARD_ATTN_QB) * hp->n_head);
	else if (work < FORWARD_ATTN_INLINE)
		for (int64_t t = 0; t < (int64_t)n * hp->n_head; t++)
			forward_attn_task(&a, t, 0);
	else {
		forward_range_init(&a.rg, (int64_t)n * hp->n_head, threadpool_size(c->pool));
		threadpool_run(c->pool, forward_attn_range_task, &a, (int64_t)n * hp->n_head);
	}
	c->prof_kv += forward_now() - t0;

	/* output projection into h, then residual */
	struct forward_mm o = { .w = &L->attn_out, .y = c->h, .y_stride = hp->n_embd, .n = (int32_t)n };
	quantized = 0;
	if (n >= FORWARD_PAR_ROWS && forward_q16(o.w->type, o.n)) {
		forward_quantize_rows(c, c->att, n, (int64_t)hp->n_head * hp->head_dim_v);
		quantized = 1;
	}
	forward_mm_input(c, &o, c->att, (int64_t)hp->n_head * hp->head_dim_v, (int32_t)n, &quantized);
	forward_mm_run(c, &o, 1);
	for (size_t i = 0; i < (size_t)n * hp->n_embd; i++)
		c->x[i] += c->h[i];
}

/* ---------- feed-forward ---------- */

/* ff_gate[i] = silu(ff_gate[i]) * ff_up[i] over rows of width w. */
struct forward_swiglu_job {
	struct model_ctx *c;
	size_t rows, w;
};

#define FORWARD_SWIGLU_ROWS 16	/* rows per task */

static void forward_swiglu_task(void *ctx, int64_t task, int thread)
{
	const struct forward_swiglu_job *job = ctx;
	struct model_ctx *c = job->c;
	(void)thread;
	size_t i1 = ((size_t)task + 1) * FORWARD_SWIGLU_ROWS;
	for (size_t i = (size_t)task * FORWARD_SWIGLU_ROWS; i < i1 && i < job->rows; i++) {
		forward_silu_mul(c->ff_gate + i * c->max_ff, c->ff_up + i * c->max_ff, job->w);
	}
}

/* A batch's rows (prefill: up to 512 pair rows) run on the pool, where the
 * calling thread alone kept the others idle; a decoding step's few rows
 * run inline. */
static void forward_swiglu(struct model_ctx *c, size_t rows, size_t w)
{
	struct forward_swiglu_job job = { c, rows, w };
	int64_t n_tasks = (int64_t)((rows + FORWARD_SWIGLU_ROWS - 1) / FORWARD_SWIGLU_ROWS);
	if (n_tasks < 4)
		for (int64_t t = 0; t < n_tasks; t++)
			forward_swiglu_task(&job, t, 0);
	else
		threadpool_run(c->pool, forward_swiglu_task, &job, n_tasks);
}

/* SwiGLU of pair rows (width w) followed by shared-expert rows (width
 * w_sh), each quantized to q16 rows after it where qa / qa_sh is set. */
struct forward_glu {
	struct model_ctx *c;
	size_t rows, w, w_sh;
	uint8_t *qa;
	size_t rb;
	uint8_t *qa_sh;
	size_t rb_sh;
};

static void forward_glu_task(void *ctx, int64_t task, int thread)
{
	const struct forward_glu *a = ctx;
	struct model_ctx *c = a->c;
	size_t i = (size_t)task, sh = i >= a->rows, w = sh ? a->w_sh : a->w;
	float *g = c->ff_gate + i * c->max_ff;
	const float *u = c->ff_up + i * c->max_ff;
	(void)thread;
	forward_silu_mul(g, u, w);
	if (!sh && a->qa)
		c->quantize(g, a->qa + i * a->rb, (int64_t)w);
	else if (sh && a->qa_sh)
		c->quantize(g, a->qa_sh + (i - a->rows) * a->rb_sh, (int64_t)w);
}

static void forward_ffn_dense(struct model_ctx *c, const struct model_layer *L, uint32_t n, int quantized)
{
	const struct model_hparams *hp = &c->m->hp;
	struct forward_mm mm[2] = {
		{ .w = &L->ffn_gate, .y = c->ff_gate, .y_stride = c->max_ff, .n = (int32_t)n },
		{ .w = &L->ffn_up, .y = c->ff_up, .y_stride = c->max_ff, .n = (int32_t)n },
	};
	for (int j = 0; j < 2; j++)
		forward_mm_input(c, &mm[j], c->h, hp->n_embd, (int32_t)n, &quantized);
	forward_mm_run(c, mm, 2);
	forward_swiglu(c, n, hp->n_ff);
	struct forward_mm d = { .w = &L->ffn_down, .y = c->ff_out, .y_stride = hp->n_embd, .n = (int32_t)n };
	quantized = 0;
	/* ff_gate rows are max_ff apart: quantize/point with that stride */
	if (forward_q16(d.w->type, d.n)) {
		size_t rb = quant_act_row_bytes(hp->n_ff);
		d.q16 = 1;
		for (uint32_t t = 0; t < n; t++)
			c->quantize(c->ff_gate + (size_t)t * c->max_ff, c->qa + t * rb, hp->n_ff);
		d.x = c->qa;
		d.x_stride = rb;
	} else {
		d.x = c->ff_gate;
		d.x_stride = c->max_ff * sizeof(float);
	}
	forward_mm_run(c, &d, 1);
	for (size_t i = 0; i < (size_t)n * hp->n_embd; i++)
		c->x[i] += c->ff_out[i];
}

/* Softmax over the router logits, top-k (ties to the lower index),
 * optional renormalization of the k weights. */
static void forward_route(const struct model_ctx *c, const float *logits, int32_t *sel, float *w)
{
	const struct model_hparams *hp = &c->m->hp;
	uint32_t E = hp->n_expert, K = hp->n_expert_used;
	float mx = -INFINITY, p[1024], sum = 0;
	for (uint32_t e = 0; e < E; e++)
		if (logits[e] > mx)
			mx = logits[e];
	for (uint32_t e = 0; e < E; e++) {
		p[e] = expf(logits[e] - mx);
		sum += p[e];
	}
	for (uint32_t e = 0; e < E; e++)
		p[e] /= sum;
	for (uint32_t k = 0; k < K; k++) {
		int32_t best = -1;
		for (uint32_t e = 0; e < E; e++) {
			int taken = 0;
			for (uint32_t j = 0; j < k; j++)
				taken |= sel[j] == (int32_t)e;
			if (!taken && (best < 0 || p[e] > p[best]))
				best = (int32_t)e;
		}
		sel[k] = best;
		w[k] = p[best];
	}
	if (c->m->arch->moe_renorm) {
		float s = 0;
		for (uint32_t k = 0; k < K; k++)
			s += w[k];
		for (uint32_t k = 0; k < K; k++)
			w[k] /= s;
	}
}

static void forward_route_task(void *ctx, int64_t task, int thread)
{
	struct model_ctx *c = ctx;
	const struct model_hparams *hp = &c->m->hp;
	size_t t = (size_t)task;
	(void)thread;
	forward_route(c, c->router + t * hp->n_expert, c->sel + t * hp->n_expert_used, c->selw + t * hp->n_expert_used);
}

/* Add token t's experts' outputs, weighted, and the gated shared expert's
 * to its residual row. */
struct forward_combine {
	struct model_ctx *c;
	uint32_t n, K;
	int nsh;
	uint32_t cols;		/* columns of x per task (a multiple of 64) */
	uint32_t n_chunks;	/* tasks per token: n_embd / cols, rounded up */
};

/* Decoding combines one token's rows in tasks of this many columns on the
 * pool: the expert rows were written by both threads, and on the calling
 * thread alone its reads of the other core's half (32 KB a layer with
 * OLMoE's 8 experts) were the longest serial step between regions.  A
 * multiple of 64 columns keeps every value on the same SIMD path as one
 * call over the whole row, so the sums are bit for bit the same. */
#define FORWARD_COMBINE_COLS 256

static void forward_combine_task(void *ctx, int64_t task, int thread)
{
	const struct forward_combine *job = ctx;
	struct model_ctx *c = job->c;
	const struct model_hparams *hp = &c->m->hp;
	uint32_t t = (uint32_t)(task / job->n_chunks), n = job->n, K = job->K;
	size_t c0 = (size_t)(task % job->n_chunks) * job->cols;
	int64_t w = (int64_t)(hp->n_embd - c0 < job->cols ? hp->n_embd - c0 : job->cols);
	(void)thread;
	float *x = c->x + (size_t)t * hp->n_embd + c0;
	for (uint32_t k = 0; k < K; k++) {
		const float *y = c->ff_out + ((size_t)t * K + k) * hp->n_embd + c0;
		/* SIMD axpy: the scalar loop was 1% of a 128-token prefill */
		c->axpy(x, c->selw[t * K + k], y, w);
	}
	if (job->nsh) {
		const float *y = c->ff_out + ((size_t)n * K + t) * hp->n_embd + c0;
		c->axpy(x, 1.0f / (1.0f + expf(-c->sh_gate[t])), y, w);
	}
}

/* h_quantized: c->qa holds the q16 rows of c->h (forward_norm_rows). */
static void forward_ffn_moe(struct model_ctx *c, const struct model_layer *L, uint32_t n, int h_quantized)
{
	const struct model *m = c->m;
	const struct model_hparams *hp = &m->hp;
	uint32_t E = hp->n_expert, K = hp->n_expert_used;
	int64_t F = hp->n_ff_exp;

	/* router (and the shared expert's gate) on the normalized input */
	struct forward_mm r[2] = {
		{ .w = &L->gate_inp, .y = c->router, .y_stride = E, .n = (int32_t)n },
		{ .w = &L->gate_inp_shexp, .y = c->sh_gate, .y_stride = 1, .n = (int32_t)n },
	};
	int nr = m->arch->shared_expert ? 2 : 1, quantized = h_quantized;
	for (int j = 0; j < nr; j++)
		forward_mm_input(c, &r[j], c->h, hp->n_embd, (int32_t)n, &quantized);
	forward_mm_run(c, r, nr);
	/* a batch's routing (~5 us a token) on the pool: on the calling thread
	 * alone the other one spun out and went to sleep before the experts */
	if (n < FORWARD_PAR_ROWS)
		for (uint32_t t = 0; t < n; t++)
			forward_route_task(c, t, 0);
	else
		threadpool_run(c->pool, forward_route_task, c, n);

	/* group (token, slot) pairs by expert: counting sort */
	memset(c->grp_fill, 0, E * sizeof *c->grp_fill);
	for (uint32_t i = 0; i < n * K; i++)
		c->grp_fill[c->sel[i]]++;
	c->grp_start[0] = 0;
	for (uint32_t e = 0; e < E; e++) {
		c->grp_start[e + 1] = c->grp_start[e] + c->grp_fill[e];
		c->grp_fill[e] = c->grp_start[e];
	}
	for (uint32_t i = 0; i < n * K; i++) {
		int32_t e = c->sel[i], at = c->grp_fill[e]++;
		c->grp_in[at] = (int32_t)(i / K);	/* token row of h */
		c->grp_out[at] = (int32_t)i;		/* pair row */
	}

	struct forward_mm mm[2 * FORWARD_MAX_JOBS / 2];
	int nj = 0;
	quantized = h_quantized;
	for (uint32_t e = 0; e < E; e++) {
		int32_t cnt = c->grp_start[e + 1] - c->grp_start[e];
		if (!cnt)
			continue;	/* unselected experts are never read */
		const int32_t *in = c->grp_in + c->grp_start[e], *out = c->grp_out + c->grp_start[e];
		mm[nj] = (struct forward_mm){ .w = &L->gate_exps, .mat = e, .in_idx = in, .out_idx = out, .n = cnt,
			.y = c->ff_gate, .y_stride = c->max_ff };
		forward_mm_input(c, &mm[nj], c->h, hp->n_embd, (int32_t)n, &quantized);
		nj++;
		mm[nj] = (struct forward_mm){ .w = &L->up_exps, .mat = e, .in_idx = in, .out_idx = out, .n = cnt,
			.y = c->ff_up, .y_stride = c->max_ff };
		forward_mm_input(c, &mm[nj], c->h, hp->n_embd, (int32_t)n, &quantized);
		nj++;
	}
	int nsh = 0;
	if (m->arch->shared_expert) {
		/* the shared expert's rows follow the n*K pair rows */
		mm[nj] = (struct forward_mm){ .w = &L->gate_shexp, .n = (int32_t)n,
			.y = c->ff_gate + (size_t)n * K * c->max_ff, .y_stride = c->max_ff };
		forward_mm_input(c, &mm[nj], c->h, hp->n_embd, (int32_t)n, &quantized);
		nj++;
		mm[nj] = (struct forward_mm){ .w = &L->up_shexp, .n = (int32_t)n,
			.y = c->ff_up + (size_t)n * K * c->max_ff, .y_stride = c->max_ff };
		forward_mm_input(c, &mm[nj], c->h, hp->n_embd, (int32_t)n, &quantized);
		nj++;
		nsh = (int)n;
	}
	forward_mm_run(c, mm, nj);

	/* down projections: input rows are pair rows of ff_gate */
	int any_q16 = 0, sh_q16 = nsh && forward_q16(L->down_shexp.type, (int32_t)n);
	for (uint32_t e = 0; e < E; e++) {
		int32_t cnt = c->grp_start[e + 1] - c->grp_start[e];
		any_q16 |= cnt && forward_q16(L->down_exps.type, cnt);
	}
	size_t rb = quant_act_row_bytes(F), rbs = nsh ? quant_act_row_bytes(hp->n_ff_shexp) : 0;
	/* the shared expert's q16 rows go after the experts' */
	uint8_t *qsh = c->qa + (size_t)n * K * rb;
	/* SwiGLU (and the q16 rows of the result) on the pool: with one
	 * token this was the calling thread's longest serial step */
	struct forward_glu glu = { c, (size_t)n * K, (size_t)F, hp->n_ff_shexp, any_q16 ? c->qa : NULL, rb,
		sh_q16 ? qsh : NULL, rbs };
	threadpool_run(c->pool, forward_glu_task, &glu, (int64_t)(n * K) + nsh);
	nj = 0;
	for (uint32_t e = 0; e < E; e++) {
		int32_t cnt = c->grp_start[e + 1] - c->grp_start[e];
		if (!cnt)
			continue;
		const int32_t *out = c->grp_out + c->grp_start[e];
		mm[nj] = (struct forward_mm){ .w = &L->down_exps, .mat = e, .in_idx = out, .out_idx = out, .n = cnt,
			.y = c->ff_out, .y_stride = hp->n_embd };
		mm[nj].q16 = forward_q16(L->down_exps.type, cnt);
		mm[nj].x = mm[nj].q16 ? (const void *)c->qa : (const void *)c->ff_gate;
		mm[nj].x_stride = mm[nj].q16 ? rb : c->max_ff * sizeof(float);
		nj++;
	}
	if (nsh) {
		mm[nj] = (struct forward_mm){ .w = &L->down_shexp, .n = (int32_t)n,
			.y = c->ff_out + (size_t)n * K * hp->n_embd, .y_stride = hp->n_embd };
		mm[nj].q16 = sh_q16;
		mm[nj].x = sh_q16 ? (const void *)qsh : (const void *)(c->ff_gate + (size_t)n * K * c->max_ff);
		mm[nj].x_stride = sh_q16 ? rbs : c->max_ff * sizeof(float);
		nj++;
	}
	forward_mm_run(c, mm, nj);

	/* a batch: one task per token; a few tokens: column chunks */
	struct forward_combine job = { c, n, K, nsh, (uint32_t)hp->n_embd, 1 };
	if (n < 4 && threadpool_size(c->pool) > 1) {
		job.cols = FORWARD_COMBINE_COLS;
		job.n_chunks = (uint32_t)((hp->n_embd + FORWARD_COMBINE_COLS - 1) / FORWARD_COMBINE_COLS);
	}
	if (n < 4 && job.n_chunks == 1)
		for (uint32_t t = 0; t < n; t++)
			forward_combine_task(&job, t, 0);
	else
		threadpool_run(c->pool, forward_combine_task, &job, (int64_t)n * job.n_chunks);
}

/* ---------- context ---------- */

static void forward_set_level(struct model_ctx *c, enum simd_level l)
{
	c->simd = l;
	for (uint32_t t = 0; t < QUANT_TYPE_COUNT; t++) {
		c->dot[t] = quant_type_supported(t) ? simd_dot(t, c->simd) : NULL;
		c->dot_rows[t] = quant_type_supported(t) ? simd_dot_rows(t, c->simd) : NULL;
		c->deq[t] = quant_type_supported(t) ? simd_dequant(t, c->simd) : NULL;
	}
	c->dot_x16 = simd_dot_q4_0_x16(c->simd);
	c->dot_f32_rows = simd_dot_f32_rows(c->simd);
	c->axpy_rows = simd_axpy_rows(c->simd);
	c->dot_f32 = simd_dot_f32(c->simd);
	c->quantize = simd_quantize_act(c->simd);
	c->axpy = simd_axpy(c->simd);
	c->tile = simd_tile_4x4(c->simd);
	c->gemm = gemm_q4_0_pick(c->simd);
}

void model_ctx_set_scalar(struct model_ctx *c, int scalar)
{
	forward_set_level(c, scalar ? SIMD_LEVEL_SCALAR : simd_detect());
}

int model_ctx_set_simd(struct model_ctx *c, const char *name)
{
	for (enum simd_level l = SIMD_LEVEL_SCALAR; l <= simd_detect(); l++)
		if (strcmp(simd_level_name(l), name) == 0) {
			forward_set_level(c, l);
			return 0;
		}
	return -1;
}

static size_t forward_max(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* A context with its own pool of n_threads, or running on `shared`. */
static struct model_ctx *forward_ctx_new(struct model *m, uint32_t n_ctx, int n_threads, struct threadpool *shared,
	char *err, size_t errlen)
{
	const struct model_hparams *hp = &m->hp;
	if (n_ctx == 0 || n_ctx > (1u << 20)) {
		engine_errf(err, errlen, "context size %u out of range", n_ctx);
		return NULL;
	}
	if (n_threads < 1 || n_threads > 256) {
		engine_errf(err, errlen, "thread count %d out of range", n_threads);
		return NULL;
	}
	struct model_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		engine_errf(err, errlen, "out of memory");
		return NULL;
	}
	c->m = m;
	c->n_ctx = n_ctx;
	model_ctx_set_scalar(c, 0);
	size_t B = FORWARD_BATCH, K = hp->n_expert_used ? hp->n_expert_used : 1;
	size_t qw = (size_t)hp->n_head * hp->head_dim, kw = (size_t)hp->n_head_kv * hp->head_dim;
	size_t vw = (size_t)hp->n_head_kv * hp->head_dim_v, ow = (size_t)hp->n_head * hp->head_dim_v;
	c->max_ff = forward_max(forward_max(hp->n_ff, hp->n_ff_exp), hp->n_ff_shexp);
	size_t pair_rows = B * K + (m->arch->shared_expert ? B : 0);
	size_t max_in = forward_max(forward_max(hp->n_embd, ow), c->max_ff);
	c->qa_bytes = pair_rows * quant_act_row_bytes((int64_t)max_in);
	c->owns_pool = !shared;
	c->pool = shared ? shared : threadpool_new(n_threads);
	c->tkv = calloc(B, sizeof *c->tkv);
	c->tpos = calloc(B, sizeof *c->tpos);
	c->rope_freq = calloc(hp->n_rot / 2 + 1, sizeof(float));
	c->x = calloc(B * hp->n_embd, sizeof(float));
	c->h = calloc(B * hp->n_embd, sizeof(float));
	c->q = calloc(B * qw, sizeof(float));
	c->k = calloc(B * kw, sizeof(float));
	c->v = calloc(B * vw, sizeof(float));
	c->att = calloc(B * ow, sizeof(float));
	c->scores = calloc((size_t)n_threads * n_ctx, sizeof(float));
	c->attn_buf_len = forward_attn_buf_len(hp, n_ctx);
	c->attn_buf_bytes = (size_t)n_threads * c->attn_buf_len * sizeof(float);
	c->attn_buf = malloc(c->attn_buf_bytes);
	c->router = calloc(B * (hp->n_expert + 1), sizeof(float));
	c->sel = calloc(B * K, sizeof(int32_t));
	c->selw = calloc(B * K, sizeof(float));
	c->ff_gate = calloc(pair_rows * c->max_ff, sizeof(float));
	c->ff_up = calloc(pair_rows * c->max_ff, sizeof(float));
	c->ff_out = calloc(pair_rows * hp->n_embd, sizeof(float));
	c->sh_gate = calloc(B, sizeof(float));
	c->grp_in = calloc(B * K, sizeof(int32_t));
	c->grp_out = calloc(B * K, sizeof(int32_t));
	c->grp_start = calloc(hp->n_expert + 2, sizeof(int32_t));
	c->grp_fill = calloc(hp->n_expert + 1, sizeof(int32_t));
	c->qa = aligned_alloc(QUANT_ACT_ALIGN, c->qa_bytes);	/* a multiple of the alignment */
	c->rowbuf_len = 4 * max_in;
	c->rowbuf = calloc((size_t)n_threads * c->rowbuf_len, sizeof(float));
	c->gemm_buf_len = (gemm_scratch_bytes((int64_t)max_in) + 63) / 64 * 64;
	c->gemm_buf = aligned_alloc(64, (size_t)n_threads * c->gemm_buf_len);
	if (!c->pool || !c->rope_freq || !c->x || !c->h || !c->q || !c->k || !c->v || !c->att || !c->scores || !c->attn_buf ||
	    !c->router || !c->sel || !c->selw || !c->ff_gate || !c->ff_up || !c->ff_out || !c->sh_gate ||
	    !c->grp_in || !c->grp_out || !c->grp_start || !c->grp_fill || !c->qa || !c->rowbuf || !c->gemm_buf || !c->tkv || !c->tpos ||
	    kvcache_init(&c->kv, hp->n_layer, n_ctx, hp->n_head_kv, hp->head_dim, hp->head_dim_v) < 0) {
		model_ctx_free(c);
		engine_errf(err, errlen, "out of memory for a context of %u tokens", n_ctx);
		return NULL;
	}
	for (uint32_t i = 0; i < hp->n_rot / 2; i++)
		c->rope_freq[i] = (float)pow((double)hp->rope_base, -2.0 * i / (double)hp->n_rot);
	return c;
}

struct model_ctx *model_ctx_new(struct model *m, uint32_t n_ctx, int n_threads, char *err, size_t errlen)
{
	return forward_ctx_new(m, n_ctx, n_threads, NULL, err, errlen);
}

struct model_ctx *model_ctx_new_sharing(struct model *m, uint32_t n_ctx, struct model_ctx *pool_of, char *err,
	size_t errlen)
{
	if (!pool_of || pool_of->m != m) {
		engine_errf(err, errlen, "a context can only share the pool of a context of the same model");
		return NULL;
	}
	return forward_ctx_new(m, n_ctx, threadpool_size(pool_of->pool), pool_of->pool, err, errlen);
}

/* Scratch that held prompt-derived activations is wiped before release. */
static void forward_free_wiped(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
	free(p);
}

void model_ctx_free(struct model_ctx *c)
{
	if (!c)
		return;
	const struct model_hparams *hp = &c->m->hp;
	size_t B = FORWARD_BATCH, K = hp->n_expert_used ? hp->n_expert_used : 1;
	size_t pair_rows = B * K + (c->m->arch->shared_expert ? B : 0);
	if (c->owns_pool)
		threadpool_free(c->pool);
	free(c->tkv);
	free(c->tpos);
	kvcache_free(&c->kv);
	free(c->rope_freq);
	forward_free_wiped(c->x, B * hp->n_embd * sizeof(float));
	forward_free_wiped(c->h, B * hp->n_embd * sizeof(float));
	forward_free_wiped(c->q, B * hp->n_head * hp->head_dim * sizeof(float));
	forward_free_wiped(c->k, B * hp->n_head_kv * hp->head_dim * sizeof(float));
	forward_free_wiped(c->v, B * hp->n_head_kv * hp->head_dim_v * sizeof(float));
	forward_free_wiped(c->att, B * hp->n_head * hp->head_dim_v * sizeof(float));
	free(c->scores);
	forward_free_wiped(c->attn_buf, c->attn_buf_bytes);
	free(c->router);
	free(c->sel);
	free(c->selw);
	forward_free_wiped(c->ff_gate, pair_rows * c->max_ff * sizeof(float));
	forward_free_wiped(c->ff_up, pair_rows * c->max_ff * sizeof(float));
	forward_free_wiped(c->ff_out, pair_rows * hp->n_embd * sizeof(float));
	free(c->sh_gate);
	free(c->grp_in);
	free(c->grp_out);
	free(c->grp_start);
	free(c->grp_fill);
	forward_free_wiped(c->qa, c->qa_bytes);
	free(c->rowbuf);
	free(c->gemm_buf);
	free(c);
}

void model_ctx_profile(const struct model_ctx *c, struct model_profile *out)
{
	struct threadpool_stats st;
	threadpool_stats_get(c->pool, &st);
	*out = (struct model_profile){ c->prof_attn, c->prof_ffn, c->prof_head, st.regions, st.run_s, st.tail_s,
		c->prof_kv };
}

void model_ctx_profile_reset(struct model_ctx *c)
{
	c->prof_attn = c->prof_ffn = c->prof_head = c->prof_kv = 0;
	threadpool_stats_reset(c->pool);
}

void model_ctx_reset(struct model_ctx *c)
{
	c->pos = 0;
}

uint32_t model_ctx_pos(const struct model_ctx *c)
{
	return c->pos;
}

/* Final norm and output projection for n rows of x into logits rows
 * (row out_idx[i] for x row i; NULL: row i). */
static void forward_logits(struct model_ctx *c, const float *x, uint32_t n, float *logits, const int32_t *out_idx)
{
	const struct model_hparams *hp = &c->m->hp;
	for (uint32_t t = 0; t < n; t++)
		forward_rmsnorm(c->h + (size_t)t * hp->n_embd, x + (size_t)t * hp->n_embd,
			(const float *)c->m->output_norm.data, hp->n_embd, hp->rms_eps);
	struct forward_mm o = { .w = &c->m->output, .y = logits, .y_stride = hp->n_vocab, .n = (int32_t)n,
		.out_idx = out_idx };
	int quantized = 0;
	forward_mm_input(c, &o, c->h, hp->n_embd, (int32_t)n, &quantized);
	forward_mm_run(c, &o, 1);
}

static int forward_check_tokens(const struct model *m, const int32_t *tokens, uint32_t n, char *err, size_t errlen)
{
	for (uint32_t t = 0; t < n; t++)
		if (tokens[t] < 0 || (uint32_t)tokens[t] >= m->hp.n_vocab) {
			engine_errf(err, errlen, "token id %d out of range (vocabulary %u)", tokens[t], m->hp.n_vocab);
			return -1;
		}
	return 0;
}

/* All layers for n batch rows, each appended to the KV cache c->tkv[t] at
 * c->tpos[t]; the final hidden states stay in c->x. */
static void forward_rows(struct model_ctx *c, const int32_t *tokens, uint32_t n)
{
	const struct model *m = c->m;
	const struct model_hparams *hp = &m->hp;
	for (uint32_t t = 0; t < n; t++) {
		const uint8_t *row = m->tok_embd.data + (size_t)tokens[t] * m->tok_embd.row_bytes;
		quant_dequantize_row(m->tok_embd.type, row, c->x + (size_t)t * hp->n_embd, hp->n_embd);
	}
	for (uint32_t il = 0; il < hp->n_layer; il++) {
		const struct model_layer *L = &m->layers[il];
		double t0 = forward_now();
		forward_attention(c, il, n);
		double t1 = forward_now();
		c->prof_attn += t1 - t0;
		/* the experts' inputs: q16 if any expert's job can be */
		int q = L->is_moe ? quant_type_uses_q16(L->gate_exps.type) : forward_q16(L->ffn_gate.type, (int32_t)n);
		q = forward_norm_rows(c, (const float *)L->ffn_norm.data, n, q);
		if (L->is_moe)
			forward_ffn_moe(c, L, n, q);
		else
			forward_ffn_dense(c, L, n, q);
		c->prof_ffn += forward_now() - t1;
	}
}

static int forward_batch(struct model_ctx *c, const int32_t *tokens, uint32_t n, float *logits, int all_logits,
	char *err, size_t errlen)
{
	const struct model_hparams *hp = &c->m->hp;
	if (forward_check_tokens(c->m, tokens, n, err, errlen) < 0)
		return -1;
	for (uint32_t t = 0; t < n; t++) {
		c->tkv[t] = &c->kv;
		c->tpos[t] = c->pos + t;
	}
	forward_rows(c, tokens, n);
	c->pos += n;
	double t0 = forward_now();
	if (all_logits)
		forward_logits(c, c->x, n, logits, NULL);
	else if (logits)
		forward_logits(c, c->x + (size_t)(n - 1) * hp->n_embd, 1, logits, NULL);
	c->prof_head += forward_now() - t0;
	return 0;
}

int model_forward_multi(struct model_ctx *const *cs, const int32_t *tokens, uint32_t n, float *logits,
	const int32_t *rows, char *err, size_t errlen)
{
	if (n == 0 || n > FORWARD_BATCH) {
		engine_errf(err, errlen, "%u sequences in one step (1 to %d)", n, FORWARD_BATCH);
		return -1;
	}
	struct model_ctx *c = cs[0];
	if (forward_check_tokens(c->m, tokens, n, err, errlen) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (cs[i]->m != c->m || cs[i]->n_ctx > c->n_ctx) {
			engine_errf(err, errlen, "sequence %u: another model or a larger context than the first", i);
			return -1;
		}
		if (cs[i]->pos >= cs[i]->n_ctx) {
			engine_errf(err, errlen, "sequence %u: context full (%u tokens)", i, cs[i]->n_ctx);
			return -1;
		}
		for (uint32_t j = 0; j < i; j++)
			if (cs[j] == cs[i]) {
				engine_errf(err, errlen, "sequence %u appears twice in one step", i);
				return -1;
			}
		c->tkv[i] = &cs[i]->kv;
		c->tpos[i] = cs[i]->pos;
	}
	forward_rows(c, tokens, n);
	for (uint32_t i = 0; i < n; i++)
		cs[i]->pos++;
	forward_logits(c, c->x, n, logits, rows);
	return 0;
}

int model_forward(struct model_ctx *c, const int32_t *tokens, uint32_t n, float *logits, int all_logits,
	char *err, size_t errlen)
{
	if (n == 0) {
		engine_errf(err, errlen, "no tokens");
		return -1;
	}
	if (n > c->n_ctx - c->pos) {
		engine_errf(err, errlen, "context full (%u + %u tokens > %u)", c->pos, n, c->n_ctx);
		return -1;
	}
	size_t nv = c->m->hp.n_vocab;
	for (uint32_t done = 0; done < n;) {
		uint32_t b = n - done > FORWARD_BATCH ? FORWARD_BATCH : n - done;
		int last = done + b == n;
		float *out = all_logits ? logits + (size_t)done * nv : (last ? logits : NULL);
		if (forward_batch(c, tokens + done, b, out, all_logits, err, errlen) < 0)
			return -1;
		done += b;
	}
	return 0;
}
