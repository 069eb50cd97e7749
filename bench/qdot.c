/* qdot: the weight x activation dot-product kernels alone, one thread, in
 * GB/s of weights, next to a plain read loop over the same buffer (the peer
 * measured in the same run).  Two sizes: a matrix that stays in L2 (the
 * kernel's compute speed) and one far larger than the caches (what decoding
 * sees).  Times are the thread's CPU time (best of R passes), so GB/s are
 * per busy core even when the machine is shared.  Both the one-row kernel
 * and the SIMD_DOT_ROWS-row kernel that decoding uses (rows_*) are timed,
 * alternating pass by pass so that both see the same load.  The 4-row kernel
 * and the read loop run again on a copy of the large matrix in memory
 * backed by 2 MiB transparent huge pages (what `--load copy` gives the
 * engine) next to the 4 KiB pages of the first buffer (what a file mapping
 * gets): the TLB misses of 4 KiB pages, expensive under a hypervisor's
 * nested paging, are the difference.  For Q4_0 a second line measures the
 * kernel on rows repacked into 16-row groups (what a copied model decodes
 * with, quant.h), checks its results against the one-row kernel bit for
 * bit, and times two threads (wall clock, each over half of the 2 MiB-page
 * buffer) for the repacked kernel, the 4-row kernel and the read loop.
 * --pairs N (Q4_0) then times N rounds of the two-thread repacked kernel,
 * read loop, repacked kernel, one JSON line per round: the host's read
 * bandwidth swings between two levels from one second to the next, and the
 * rounds show whether the kernel follows the read loop into the fast one.
 * usage: qdot [--type q4_0|q5_0|q8_0] [--level scalar|avx2|avx512]
 * [--mb SIZE] [--reps R] [--pairs N]  -> JSON lines on stdout */
#include "bench/bench_util.h"
#include "engine/quant.h"
#include "engine/simd.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define QDOT_N 2048	/* values per row: OLMoE's n_embd */

/* CPU time of this thread: on a shared machine the wall clock also counts
 * the time other processes hold the core; this does not. */
static double qdot_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile float qdot_sink;
static volatile uint64_t qdot_sink_u;

/* Best of reps: seconds for one pass of the kernel over all rows. */
static double qdot_pass(quant_dot_fn dot, const uint8_t *w, size_t rows, size_t row_bytes, const void *x, int reps)
{
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = qdot_now();
		float s = 0;
		for (size_t i = 0; i < rows; i++)
			s += dot(w + i * row_bytes, x, QDOT_N);
		double t = qdot_now() - t0;
		qdot_sink = s;
		if (t < best)
			best = t;
	}
	return best;
}

/* Best of reps, the rows kernel over groups of SIMD_DOT_ROWS rows. */
static double qdot_pass_rows(simd_dot_rows_fn dot, const uint8_t *w, size_t rows, size_t row_bytes, const void *x,
	int reps)
{
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = qdot_now();
		float s = 0, out[SIMD_DOT_ROWS];
		for (size_t i = 0; i + SIMD_DOT_ROWS <= rows; i += SIMD_DOT_ROWS) {
			dot(w + i * row_bytes, row_bytes, x, QDOT_N, out);
			s += out[0];
		}
		double t = qdot_now() - t0;
		qdot_sink = s;
		if (t < best)
			best = t;
	}
	return best;
}

/* Best of reps, the repacked kernel over groups of QUANT_X16_ROWS rows. */
static double qdot_pass_x16(simd_dot_x16_fn dot, const uint8_t *w, size_t rows, size_t row_bytes, const void *x,
	int reps)
{
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = qdot_now();
		float s = 0, out[QUANT_X16_ROWS];
		for (size_t i = 0; i + QUANT_X16_ROWS <= rows; i += QUANT_X16_ROWS) {
			dot(w + i * row_bytes, x, QDOT_N, out);
			s += out[0];
		}
		double t = qdot_now() - t0;
		qdot_sink = s;
		if (t < best)
			best = t;
	}
	return best;
}

static double qdot_read(const uint8_t *w, size_t bytes, int reps)
{
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t0 = qdot_now();
		qdot_sink_u = bench_read_sum4(w, bytes);
		double t = qdot_now() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

/* len bytes aligned to 2 MiB with huge pages requested (NULL on failure);
 * *map / *map_len: what to unmap. */
static uint8_t *qdot_alloc_huge(size_t len, void **map, size_t *map_len)
{
	size_t al = (size_t)2 << 20, span = (len + al - 1) / al * al;
	void *a = mmap(NULL, span + al, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	uint8_t *b = (uint8_t *)(((uintptr_t)a + al - 1) & ~(uintptr_t)(al - 1));
#ifdef MADV_HUGEPAGE
	(void)madvise(b, span, MADV_HUGEPAGE);
#endif
	*map = a;
	*map_len = span + al;
	return b;
}

/* Two threads, each over its half of a buffer (wall clock of the slower):
 * what decoding's two workers ask of the memory system. */
enum qdot_kind { QDOT_KIND_ROWS, QDOT_KIND_X16, QDOT_KIND_READ };

struct qdot_job {
	enum qdot_kind kind;
	simd_dot_rows_fn rows;
	simd_dot_x16_fn x16;
	const uint8_t *w;
	size_t n_rows, row_bytes;
	const void *x;
};

static void *qdot_job_main(void *arg)
{
	struct qdot_job *j = arg;
	if (j->kind == QDOT_KIND_ROWS)
		qdot_pass_rows(j->rows, j->w, j->n_rows, j->row_bytes, j->x, 1);
	else if (j->kind == QDOT_KIND_X16)
		qdot_pass_x16(j->x16, j->w, j->n_rows, j->row_bytes, j->x, 1);
	else
		qdot_read(j->w, j->n_rows * j->row_bytes, 1);
	return NULL;
}

static double qdot_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds of wall clock for two threads over the two halves. */
static double qdot_pair(struct qdot_job job)
{
	struct qdot_job half[2] = { job, job };
	size_t h = job.n_rows / 2 / QUANT_X16_ROWS * QUANT_X16_ROWS;
	half[0].n_rows = h;
	half[1].w = job.w + h * job.row_bytes;
	half[1].n_rows = h;
	pthread_t t;
	double t0 = qdot_wall();
	if (pthread_create(&t, NULL, qdot_job_main, &half[1]) != 0)
		return 1e30;
	qdot_job_main(&half[0]);
	pthread_join(t, NULL);
	return qdot_wall() - t0;
}

int main(int argc, char **argv)
{
	const char *tname = "q4_0", *lname = NULL;
	size_t mb = 512;
	int reps = 5, pairs = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--type") == 0)
			tname = argv[i + 1];
		else if (strcmp(argv[i], "--level") == 0)
			lname = argv[i + 1];
		else if (strcmp(argv[i], "--mb") == 0)
			mb = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--reps") == 0)
			reps = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--pairs") == 0)
			pairs = atoi(argv[i + 1]);
	}
	static const struct { const char *name; uint32_t type; } types[] = {
		{ "q4_0", QUANT_TYPE_Q4_0 }, { "q5_0", QUANT_TYPE_Q5_0 }, { "q8_0", QUANT_TYPE_Q8_0 },
	};
	uint32_t type = QUANT_TYPE_COUNT;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i].name, tname) == 0)
			type = types[i].type;
	enum simd_level level = simd_detect();
	if (lname) {
		enum simd_level l;
		for (l = SIMD_LEVEL_SCALAR; l <= level; l++)
			if (strcmp(simd_level_name(l), lname) == 0)
				break;
		if (l > level) {
			fprintf(stderr, "qdot: --level %s not supported here\n", lname);
			return 2;
		}
		level = l;
	}
	if (type == QUANT_TYPE_COUNT || mb < 4 || reps < 1 || reps > 100 || pairs < 0 || pairs > 100000) {
		fprintf(stderr, "usage: qdot [--type q4_0|q5_0|q8_0] [--level scalar|avx2|avx512] [--mb SIZE] [--reps R] "
			"[--pairs N]\n");
		return 2;
	}
	size_t row_bytes = quant_row_size(type, QDOT_N);
	size_t big_rows = mb * 1024 * 1024 / row_bytes, small_rows = 256 * 1024 / row_bytes;
	uint8_t *w = malloc(big_rows * row_bytes);
	float *xf = malloc(QDOT_N * sizeof(float)), *wf = malloc(QDOT_N * sizeof(float));
	void *xq = aligned_alloc(QUANT_ACT_ALIGN, quant_act_row_bytes(QDOT_N));
	if (!w || !xf || !wf || !xq) {
		fprintf(stderr, "qdot: out of memory\n");
		return 1;
	}
	uint64_t s = 42;
	for (size_t r = 0; r < big_rows; r++) {
		for (int j = 0; j < QDOT_N; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			wf[j] = (float)((int64_t)(s >> 40) - (1 << 23)) / (float)(1 << 23);
		}
		quant_quantize_row(type, wf, w + r * row_bytes, QDOT_N);
	}
	for (int j = 0; j < QDOT_N; j++)
		xf[j] = (float)((j * 7919) % 2001 - 1000) / 1000.0f;
	quant_quantize_act(xf, xq, QDOT_N);
	void *hmap = NULL;
	size_t hmap_len = 0;
	uint8_t *wh = qdot_alloc_huge(big_rows * row_bytes, &hmap, &hmap_len);
	if (!wh) {
		fprintf(stderr, "qdot: out of memory\n");
		return 1;
	}
	memcpy(wh, w, big_rows * row_bytes);
	quant_dot_fn dot = simd_dot(type, level);
	const void *x = quant_type_uses_q16(type) ? (const void *)xq : (const void *)xf;
	simd_dot_rows_fn rows = simd_dot_rows(type, level);
	/* Q4_0: the same rows repacked in 16-row groups (a copied model's
	 * layout), in huge pages too, and checked against the 4-row kernel */
	simd_dot_x16_fn x16 = type == QUANT_TYPE_Q4_0 ? simd_dot_q4_0_x16(level) : NULL;
	size_t x16_rows = big_rows / QUANT_X16_ROWS * QUANT_X16_ROWS;
	uint8_t *wx = NULL, *wxh = NULL;
	void *xmap = NULL;
	size_t xmap_len = 0;
	int x16_same = 1;
	if (x16) {
		wx = malloc(x16_rows * row_bytes);
		wxh = qdot_alloc_huge(x16_rows * row_bytes, &xmap, &xmap_len);
		if (!wx || !wxh) {
			fprintf(stderr, "qdot: out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < x16_rows; i += QUANT_X16_ROWS)
			quant_q4_0_x16_pack(w + i * row_bytes, row_bytes, QDOT_N, wx + i * row_bytes);
		memcpy(wxh, wx, x16_rows * row_bytes);
		quant_dot_fn one = simd_dot(type, level);
		for (size_t i = 0; i < x16_rows && i < 4096; i += QUANT_X16_ROWS) {
			float out[QUANT_X16_ROWS];
			x16(wx + i * row_bytes, x, QDOT_N, out);
			for (int r = 0; r < QUANT_X16_ROWS; r++) {
				float want = one(w + (i + (size_t)r) * row_bytes, x, QDOT_N);
				x16_same &= memcmp(&want, &out[r], sizeof want) == 0;
			}
		}
	}
	double tx = 1e30, txs = 1e30, txh = 1e30, p_rows = 1e30, p_x16 = 1e30, p_read = 1e30;
	double ts = 1e30, tb = 1e30, trs = 1e30, trb = 1e30, tr = 1e30, trh = 1e30, trbh = 1e30;
	/* alternate the kernels (and the read loop) so that they share the load */
	for (int r = 0; r < reps; r++) {
		double t = qdot_pass(dot, w, small_rows, row_bytes, x, 20);
		ts = t < ts ? t : ts;
		t = qdot_pass(dot, w, big_rows, row_bytes, x, 1);
		tb = t < tb ? t : tb;
		if (rows) {
			t = qdot_pass_rows(rows, w, small_rows, row_bytes, x, 20);
			trs = t < trs ? t : trs;
			t = qdot_pass_rows(rows, w, big_rows, row_bytes, x, 1);
			trb = t < trb ? t : trb;
			t = qdot_pass_rows(rows, wh, big_rows, row_bytes, x, 1);
			trbh = t < trbh ? t : trbh;
		}
		if (x16) {
			t = qdot_pass_x16(x16, wx, small_rows, row_bytes, x, 20);
			txs = t < txs ? t : txs;
			t = qdot_pass_x16(x16, wx, x16_rows, row_bytes, x, 1);
			tx = t < tx ? t : tx;
			t = qdot_pass_x16(x16, wxh, x16_rows, row_bytes, x, 1);
			txh = t < txh ? t : txh;
			struct qdot_job j = { QDOT_KIND_X16, rows, x16, wxh, x16_rows, row_bytes, x };
			t = qdot_pair(j);
			p_x16 = t < p_x16 ? t : p_x16;
			j.kind = QDOT_KIND_ROWS;
			j.w = wh;
			if (rows) {
				t = qdot_pair(j);
				p_rows = t < p_rows ? t : p_rows;
			}
			j.kind = QDOT_KIND_READ;
			t = qdot_pair(j);
			p_read = t < p_read ? t : p_read;
		}
		t = qdot_read(w, big_rows * row_bytes, 1);
		tr = t < tr ? t : tr;
		t = qdot_read(wh, big_rows * row_bytes, 1);
		trh = t < trh ? t : trh;
	}
	size_t sb = small_rows / SIMD_DOT_ROWS * SIMD_DOT_ROWS * row_bytes, bb = big_rows / SIMD_DOT_ROWS * SIMD_DOT_ROWS * row_bytes;
	printf("{\"type\":\"%s\",\"level\":\"%s\",\"row_values\":%d,\"l2_gb_s\":%.2f,\"mem_mb\":%zu,\"mem_gb_s\":%.2f,"
	       "\"rows_l2_gb_s\":%.2f,\"rows_mem_gb_s\":%.2f,\"read_gb_s\":%.2f,\"rows_mem_huge_gb_s\":%.2f,"
	       "\"read_huge_gb_s\":%.2f}\n",
		tname, simd_level_name(level), QDOT_N, (double)(small_rows * row_bytes) / ts / 1e9,
		big_rows * row_bytes >> 20, (double)(big_rows * row_bytes) / tb / 1e9, rows ? (double)sb / trs / 1e9 : 0.0,
		rows ? (double)bb / trb / 1e9 : 0.0, (double)(big_rows * row_bytes) / tr / 1e9,
		rows ? (double)bb / trbh / 1e9 : 0.0, (double)(big_rows * row_bytes) / trh / 1e9);
	if (x16) {
		/* small_rows: the L2 pass covers whole groups only */
		size_t xs = small_rows / QUANT_X16_ROWS * QUANT_X16_ROWS * row_bytes, xb = x16_rows * row_bytes;
		size_t pb = x16_rows / 2 / QUANT_X16_ROWS * QUANT_X16_ROWS * 2 * row_bytes;
		printf("{\"type\":\"%s\",\"level\":\"%s\",\"x16_same_as_rows\":%s,\"x16_l2_gb_s\":%.2f,"
		       "\"x16_mem_gb_s\":%.2f,\"x16_mem_huge_gb_s\":%.2f,\"two_threads_huge\":{\"rows_gb_s\":%.2f,"
		       "\"x16_gb_s\":%.2f,\"read_gb_s\":%.2f}}\n",
			tname, simd_level_name(level), x16_same ? "true" : "false", (double)xs / txs / 1e9, (double)xb / tx / 1e9,
			(double)xb / txh / 1e9, rows ? (double)pb / p_rows / 1e9 : 0.0, (double)pb / p_x16 / 1e9,
			(double)pb / p_read / 1e9);
		struct qdot_job jx = { QDOT_KIND_X16, rows, x16, wxh, x16_rows, row_bytes, x };
		struct qdot_job jr = { QDOT_KIND_READ, rows, x16, wxh, x16_rows, row_bytes, x };
		for (int i = 0; i < pairs; i++) {
			double t1 = qdot_pair(jx), t2 = qdot_pair(jr), t3 = qdot_pair(jx);
			printf("{\"pair_round\":%d,\"x16_gb_s\":%.2f,\"read_gb_s\":%.2f,\"x16_after_gb_s\":%.2f}\n", i,
				(double)pb / t1 / 1e9, (double)pb / t2 / 1e9, (double)pb / t3 / 1e9);
		}
		munmap(xmap, xmap_len);
		free(wx);
	}
	munmap(hmap, hmap_len);
	free(w);
	free(xf);
	free(wf);
	free(xq);
	return 0;
}
