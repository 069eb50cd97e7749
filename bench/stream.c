/* stream: the machine's read bandwidth, the bound for memory-bound decoding.
 * Like STREAM's "sum" kernel: each thread reads its slice of a buffer much
 * larger than the caches with independent accumulators; best of N passes.
 *
 * usage: stream [--threads N] [--mb SIZE] [--reps R]
 *               [--pages malloc|4k|2m] [--layout halves|claim|stride] [--chunk KB]
 *               [--streams S] [--prefetch none|t0|nta] [--distance BYTES]
 *               [--loop sum8|sum4|vec|work] [--work K]
 *        stream --matrix ROUNDS [--threads N] [--mb SIZE] [--reps R]
 *   -> one JSON line per measurement on stdout
 *
 * The default (malloc'd memory, one contiguous half per thread, the
 * 8-accumulator loop) is what bench/engine.sh takes as the bandwidth bound.
 * The options vary one thing at a time, to find which way of reading the
 * weights the memory system serves fastest:
 *   --pages     malloc (glibc; 4 KiB pages when THP is "madvise"), 4k (mmap
 *               with MADV_NOHUGEPAGE), 2m (2 MiB aligned, MADV_HUGEPAGE: how
 *               a copied model is held)
 *   --layout    halves: thread t reads the t-th contiguous slice; claim: the
 *               threads take --chunk sized pieces from a shared counter, as
 *               decoding's matmul tasks do; stride: piece i goes to thread
 *               i % N (a static interleave)
 *   --streams   reads S equal parts of each slice or piece side by side, one
 *               cache line of each per step (the 4-row kernel reads 4 rows)
 *   --prefetch  software prefetch --distance bytes ahead of each stream
 *   --loop      sum8: 8 scalar accumulators (this program's loop); sum4:
 *               bench/qdot's 4-accumulator loop; vec: 64-byte AVX-512 loads,
 *               as the repacked kernel loads its weights; work: the same loads
 *               with --work K (default 8) vpdpbusd on each line, a read loop
 *               that computes like a kernel
 * --matrix R runs a fixed table of these patterns R times in turn (each
 * pattern --reps passes per turn), so that the host's fast and slow phases
 * fall on all of them alike; each line carries its round and the pattern's
 * name. */
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench/bench_util.h"

enum stream_pages { STREAM_PAGES_MALLOC, STREAM_PAGES_4K, STREAM_PAGES_2M, STREAM_PAGES_COUNT };
enum stream_layout { STREAM_LAYOUT_HALVES, STREAM_LAYOUT_CLAIM, STREAM_LAYOUT_STRIDE };
enum stream_prefetch { STREAM_PREFETCH_NONE, STREAM_PREFETCH_T0, STREAM_PREFETCH_NTA };
enum stream_loop { STREAM_LOOP_SUM8, STREAM_LOOP_SUM4, STREAM_LOOP_VEC, STREAM_LOOP_WORK };

struct stream_name {
	const char *name;
	int value;
};

static const struct stream_name stream_pages_names[] = {
	{ "malloc", STREAM_PAGES_MALLOC }, { "4k", STREAM_PAGES_4K }, { "2m", STREAM_PAGES_2M }, { NULL, 0 },
};
static const struct stream_name stream_layout_names[] = {
	{ "halves", STREAM_LAYOUT_HALVES }, { "claim", STREAM_LAYOUT_CLAIM }, { "stride", STREAM_LAYOUT_STRIDE },
	{ NULL, 0 },
};
static const struct stream_name stream_prefetch_names[] = {
	{ "none", STREAM_PREFETCH_NONE }, { "t0", STREAM_PREFETCH_T0 }, { "nta", STREAM_PREFETCH_NTA }, { NULL, 0 },
};
static const struct stream_name stream_loop_names[] = {
	{ "sum8", STREAM_LOOP_SUM8 }, { "sum4", STREAM_LOOP_SUM4 }, { "vec", STREAM_LOOP_VEC },
	{ "work", STREAM_LOOP_WORK }, { NULL, 0 },
};

struct stream_pattern {
	const char *name;
	enum stream_pages pages;
	enum stream_layout layout;
	size_t chunk_kb;
	int streams;
	enum stream_prefetch prefetch;
	size_t distance;
	enum stream_loop loop;
	size_t mb;		/* 0: the whole --mb buffer */
	int work;		/* --loop work: vpdpbusd per 64-byte line */
};

/* --matrix: each row changes one thing against "halves-2m" (or against
 * "stream", this program's default); "claim128k-2m-vec" is the closest to
 * how decoding reads a repacked model (128 KB tasks of 16-row groups,
 * claimed from a counter, 64-byte loads). */
static const struct stream_pattern stream_matrix[] = {
	{ "stream", STREAM_PAGES_MALLOC, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "halves-4k", STREAM_PAGES_4K, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "halves-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "halves-2m-256mb", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 256, 0 },
	{ "qdot-sum4-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM4, 0, 0 },
	{ "vec-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "claim64k-2m", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 64, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "claim128k-2m-vec", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 128, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "claim1m-2m", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 1024, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "claim64k-2m-vec", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 64, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "claim256k-2m-vec", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 256, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "claim512k-2m-vec", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 512, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "claim1m-2m-vec", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 1024, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_VEC, 0, 0 },
	{ "stride64k-2m", STREAM_PAGES_2M, STREAM_LAYOUT_STRIDE, 64, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "stride1m-2m", STREAM_PAGES_2M, STREAM_LAYOUT_STRIDE, 1024, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "streams4-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 4, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "streams16-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 16, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_SUM8, 0, 0 },
	{ "pf-t0-2k-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_T0, 2048, STREAM_LOOP_SUM8, 0, 0 },
	{ "pf-nta-2k-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NTA, 2048, STREAM_LOOP_SUM8, 0, 0 },
	/* arithmetic between the loads: the repacked kernel spends ~45 vector
	 * operations (16 vpdpbusd) on 288 bytes; in L2 it reads ~45 GB/s on one
	 * thread, between what work8 and work16 read from the L3 */
	{ "work12-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_WORK, 0, 12 },
	{ "work8-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_WORK, 0, 8 },
	{ "work16-2m", STREAM_PAGES_2M, STREAM_LAYOUT_HALVES, 0, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_WORK, 0, 16 },
	{ "claim128k-work12-2m", STREAM_PAGES_2M, STREAM_LAYOUT_CLAIM, 128, 1, STREAM_PREFETCH_NONE, 0, STREAM_LOOP_WORK, 0,
		12 },
};

struct stream_shared {
	const uint8_t *base;
	size_t bytes;
	int threads;
	const struct stream_pattern *pat;
	atomic_size_t next;	/* claim layout: the next piece */
	pthread_barrier_t bar;
	int reps;
	double *secs;
};

struct stream_thread {
	struct stream_shared *sh;
	int id;
	uint64_t sum;
};

static double stream_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stream_prefetch_line(const uint8_t *p, enum stream_prefetch pf)
{
	if (pf == STREAM_PREFETCH_T0)
		_mm_prefetch((const char *)p, _MM_HINT_T0);
	else if (pf == STREAM_PREFETCH_NTA)
		_mm_prefetch((const char *)p, _MM_HINT_NTA);
}

/* S streams over S equal parts of [b, b + bytes), one 64-byte line of each
 * per step, 8 scalar accumulators; S = 1 without prefetch is the original
 * loop of this program. */
static uint64_t stream_read_sum8(const uint8_t *b, size_t bytes, int streams, enum stream_prefetch pf, size_t dist)
{
	size_t part = bytes / (size_t)streams / 64 * 64;
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
	for (size_t off = 0; off < part; off += 64)
		for (int s = 0; s < streams; s++) {
			const uint8_t *l = b + (size_t)s * part + off;
			if (pf != STREAM_PREFETCH_NONE && off + dist < part)
				stream_prefetch_line(l + dist, pf);
			const uint64_t *p = (const uint64_t *)l;
			a0 += p[0];
			a1 += p[1];
			a2 += p[2];
			a3 += p[3];
			a4 += p[4];
			a5 += p[5];
			a6 += p[6];
			a7 += p[7];
		}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

/* The lanes' sum in unsigned arithmetic (the reduce intrinsics add signed
 * lanes, which may overflow: the sum only keeps the loads alive). */
__attribute__((target("avx512f"))) static uint64_t stream_fold(__m512i v)
{
	uint64_t lane[8], sum = 0;
	_mm512_storeu_si512((void *)lane, v);
	for (int i = 0; i < 8; i++)
		sum += lane[i];
	return sum;
}

/* 64-byte loads, four lines per step into four accumulators (one stream),
 * as the repacked Q4_0 kernel loads a group's blocks. */
__attribute__((target("avx512f"))) static uint64_t stream_read_vec(const uint8_t *b, size_t bytes)
{
	__m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
	size_t n = bytes / 256 * 256;
	for (size_t off = 0; off < n; off += 256) {
		a0 = _mm512_add_epi64(a0, _mm512_load_si512((const void *)(b + off)));
		a1 = _mm512_add_epi64(a1, _mm512_load_si512((const void *)(b + off + 64)));
		a2 = _mm512_add_epi64(a2, _mm512_load_si512((const void *)(b + off + 128)));
		a3 = _mm512_add_epi64(a3, _mm512_load_si512((const void *)(b + off + 192)));
	}
	a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
	return stream_fold(a0);
}

/* 64-byte loads with `work` vpdpbusd on each line (rounded down to a
 * multiple of 4), spread over 8 accumulators in registers: a read loop that
 * computes like a kernel does. */
__attribute__((target("avx512f,avx512vnni"))) static uint64_t stream_read_work(const uint8_t *b, size_t bytes,
	int work)
{
	__m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	__m512i ones = _mm512_set1_epi8(1);
	size_t n = bytes / 64 * 64;
	for (size_t off = 0; off < n; off += 64) {
		__m512i v = _mm512_load_si512((const void *)(b + off));
		int k = 0;
		for (; k + 8 <= work; k += 8) {
			a0 = _mm512_dpbusd_epi32(a0, v, ones);
			a1 = _mm512_dpbusd_epi32(a1, v, ones);
			a2 = _mm512_dpbusd_epi32(a2, v, ones);
			a3 = _mm512_dpbusd_epi32(a3, v, ones);
			a4 = _mm512_dpbusd_epi32(a4, v, ones);
			a5 = _mm512_dpbusd_epi32(a5, v, ones);
			a6 = _mm512_dpbusd_epi32(a6, v, ones);
			a7 = _mm512_dpbusd_epi32(a7, v, ones);
		}
		if (k + 4 <= work) {
			a4 = _mm512_dpbusd_epi32(a4, v, ones);
			a5 = _mm512_dpbusd_epi32(a5, v, ones);
			a6 = _mm512_dpbusd_epi32(a6, v, ones);
			a7 = _mm512_dpbusd_epi32(a7, v, ones);
		}
		if (work < 4)
			a0 = _mm512_add_epi32(a0, v);
	}
	a0 = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
		_mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
	return stream_fold(a0);
}

static uint64_t stream_read(const struct stream_pattern *pat, const uint8_t *b, size_t bytes)
{
	if (pat->loop == STREAM_LOOP_WORK)
		return stream_read_work(b, bytes, pat->work);
	if (pat->loop == STREAM_LOOP_SUM4)
		return bench_read_sum4(b, bytes);
	if (pat->loop == STREAM_LOOP_VEC)
		return stream_read_vec(b, bytes);
	return stream_read_sum8(b, bytes, pat->streams, pat->prefetch, pat->distance);
}

/* One pass of thread t over its share of the buffer. */
static uint64_t stream_pass(struct stream_shared *sh, int t)
{
	const struct stream_pattern *pat = sh->pat;
	size_t chunk = pat->chunk_kb * 1024, pieces = chunk ? sh->bytes / chunk : 0;
	uint64_t sum = 0;
	if (pat->layout == STREAM_LAYOUT_HALVES) {
		size_t per = sh->bytes / (size_t)sh->threads / 4096 * 4096;
		sum += stream_read(pat, sh->base + (size_t)t * per, per);
	} else if (pat->layout == STREAM_LAYOUT_CLAIM) {
		size_t i;
		while ((i = atomic_fetch_add_explicit(&sh->next, 1, memory_order_relaxed)) < pieces)
			sum += stream_read(pat, sh->base + i * chunk, chunk);
	} else {
		for (size_t i = (size_t)t; i < pieces; i += (size_t)sh->threads)
			sum += stream_read(pat, sh->base + i * chunk, chunk);
	}
	return sum;
}

static void *stream_run(void *arg)
{
	struct stream_thread *st = arg;
	struct stream_shared *sh = st->sh;
	for (int r = 0; r < sh->reps; r++) {
		pthread_barrier_wait(&sh->bar);
		double t0 = stream_now();
		st->sum += stream_pass(sh, st->id);
		pthread_barrier_wait(&sh->bar);
		if (st->id == 0) {
			sh->secs[r] = stream_now() - t0;
			/* the others wait at the next barrier until this is done */
			atomic_store_explicit(&sh->next, 0, memory_order_relaxed);
		}
	}
	return NULL;
}

/* Bytes one pass reads (the layouts round the buffer down differently). */
static size_t stream_pass_bytes(const struct stream_pattern *pat, size_t bytes, int threads)
{
	if (pat->layout == STREAM_LAYOUT_HALVES) {
		size_t per = bytes / (size_t)threads / 4096 * 4096;
		size_t part = per / (size_t)pat->streams / 64 * 64;
		if (pat->loop == STREAM_LOOP_SUM8)
			return part * (size_t)pat->streams * (size_t)threads;
		if (pat->loop == STREAM_LOOP_VEC)
			return per / 256 * 256 * (size_t)threads;
		if (pat->loop == STREAM_LOOP_WORK)
			return per / 64 * 64 * (size_t)threads;
		return per / 32 * 32 * (size_t)threads;
	}
	size_t chunk = pat->chunk_kb * 1024;
	return bytes / chunk * chunk;
}

static int stream_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs one pattern (reps passes) and prints its JSON line. */
static int stream_measure(const struct stream_pattern *pat, const uint8_t *base, size_t bytes, int threads,
	int reps, int round)
{
	struct stream_shared sh = { .base = base, .bytes = bytes, .threads = threads, .pat = pat, .reps = reps };
	sh.secs = calloc((size_t)reps, sizeof *sh.secs);
	struct stream_thread *st = calloc((size_t)threads, sizeof *st);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!sh.secs || !st || !tid) {
		free(sh.secs);
		free(st);
		free(tid);
		fprintf(stderr, "stream: out of memory\n");
		return -1;
	}
	atomic_init(&sh.next, 0);
	pthread_barrier_init(&sh.bar, NULL, (unsigned)threads);
	for (int t = 1; t < threads; t++) {
		st[t] = (struct stream_thread){ &sh, t, 0 };
		pthread_create(&tid[t], NULL, stream_run, &st[t]);
	}
	st[0] = (struct stream_thread){ &sh, 0, 0 };
	stream_run(&st[0]);
	uint64_t check = st[0].sum;
	for (int t = 1; t < threads; t++) {
		pthread_join(tid[t], NULL);
		check += st[t].sum;
	}
	pthread_barrier_destroy(&sh.bar);
	double pass = (double)stream_pass_bytes(pat, bytes, threads);
	qsort(sh.secs, (size_t)reps, sizeof *sh.secs, stream_cmp_double);
	printf("{");
	if (round >= 0)
		printf("\"round\":%d,\"pattern\":\"%s\",", round, pat->name);
	printf("\"threads\":%d,\"mb\":%zu,\"reps\":%d,\"pages\":\"%s\",\"layout\":\"%s\",\"chunk_kb\":%zu,"
	       "\"streams\":%d,\"prefetch\":\"%s\",\"distance\":%zu,\"loop\":\"%s\",\"work\":%d,\"read_gb_s\":%.2f,"
	       "\"median_gb_s\":%.2f,\"worst_gb_s\":%.2f,\"check\":%llu}\n",
		threads, bytes >> 20, reps, stream_pages_names[pat->pages].name,
		stream_layout_names[pat->layout].name, pat->chunk_kb, pat->streams,
		stream_prefetch_names[pat->prefetch].name, pat->distance, stream_loop_names[pat->loop].name, pat->work,
		pass / sh.secs[0] / 1e9, pass / sh.secs[reps / 2] / 1e9, pass / sh.secs[reps - 1] / 1e9,
		(unsigned long long)(check & 0xffff));
	fflush(stdout);
	free(sh.secs);
	free(st);
	free(tid);
	return 0;
}

struct stream_buf {
	uint8_t *p;
	void *map;
	size_t map_len;
};

/* bytes of memory of the given kind, filled (so every page is present). */
static int stream_alloc(enum stream_pages pages, size_t bytes, struct stream_buf *b)
{
	size_t al = (size_t)2 << 20;
	memset(b, 0, sizeof *b);
	if (pages == STREAM_PAGES_MALLOC) {
		b->p = malloc(bytes);
	} else {
		size_t span = (bytes + al - 1) / al * al + al;
		void *a = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			return -1;
		b->map = a;
		b->map_len = span;
		b->p = (uint8_t *)(((uintptr_t)a + al - 1) & ~(uintptr_t)(al - 1));
		(void)madvise(b->p, span - al, pages == STREAM_PAGES_2M ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	}
	if (!b->p)
		return -1;
	uint64_t *q = (uint64_t *)b->p;
	for (size_t i = 0; i < bytes / 8; i++)
		q[i] = i;
	return 0;
}

static void stream_free(struct stream_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	else
		free(b->p);
}

static int stream_lookup(const struct stream_name *t, const char *s, int *out)
{
	for (; t->name; t++)
		if (strcmp(t->name, s) == 0) {
			*out = t->value;
			return 0;
		}
	return -1;
}

static int stream_usage(void)
{
	fprintf(stderr,
		"usage: stream [--threads N] [--mb SIZE] [--reps R] [--pages malloc|4k|2m]\n"
		"              [--layout halves|claim|stride] [--chunk KB] [--streams S]\n"
		"              [--prefetch none|t0|nta] [--distance BYTES] [--loop sum8|sum4|vec|work]\n"
		"              [--work K]\n"
		"       stream --matrix ROUNDS [--threads N] [--mb SIZE] [--reps R]\n");
	return 2;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5, rounds = 0, v;
	size_t mb = 1024;
	struct stream_pattern pat = { "cli", STREAM_PAGES_MALLOC, STREAM_LAYOUT_HALVES, 64, 1, STREAM_PREFETCH_NONE,
		1024, STREAM_LOOP_SUM8, 0, 8 };
	for (int i = 1; i < argc; i += 2) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		if (!a)
			return stream_usage();
		if (strcmp(o, "--threads") == 0)
			threads = atoi(a);
		else if (strcmp(o, "--mb") == 0)
			mb = (size_t)atol(a);
		else if (strcmp(o, "--reps") == 0)
			reps = atoi(a);
		else if (strcmp(o, "--matrix") == 0)
			rounds = atoi(a);
		else if (strcmp(o, "--chunk") == 0)
			pat.chunk_kb = (size_t)atol(a);
		else if (strcmp(o, "--streams") == 0)
			pat.streams = atoi(a);
		else if (strcmp(o, "--work") == 0)
			pat.work = atoi(a);
		else if (strcmp(o, "--distance") == 0)
			pat.distance = (size_t)atol(a);
		else if (strcmp(o, "--pages") == 0 && stream_lookup(stream_pages_names, a, &v) == 0)
			pat.pages = (enum stream_pages)v;
		else if (strcmp(o, "--layout") == 0 && stream_lookup(stream_layout_names, a, &v) == 0)
			pat.layout = (enum stream_layout)v;
		else if (strcmp(o, "--prefetch") == 0 && stream_lookup(stream_prefetch_names, a, &v) == 0)
			pat.prefetch = (enum stream_prefetch)v;
		else if (strcmp(o, "--loop") == 0 && stream_lookup(stream_loop_names, a, &v) == 0)
			pat.loop = (enum stream_loop)v;
		else
			return stream_usage();
	}
	if (threads < 1 || threads > 256 || reps < 1 || reps > 100 || mb < 16 || mb > ((size_t)1 << 20) ||
	    rounds < 0 || rounds > 1000 || pat.streams < 1 || pat.streams > 64 || pat.chunk_kb < 4 ||
	    pat.chunk_kb > mb * 1024 / 2 || pat.chunk_kb % 4 || pat.distance > ((size_t)1 << 20) ||
	    pat.work < 0 || pat.work > 64)
		return stream_usage();
	if ((pat.loop == STREAM_LOOP_VEC && !__builtin_cpu_supports("avx512f")) ||
	    (pat.loop == STREAM_LOOP_WORK && !__builtin_cpu_supports("avx512vnni"))) {
		fprintf(stderr, "stream: --loop vec needs AVX-512, --loop work AVX-512 VNNI\n");
		return 1;
	}
	if (pat.loop != STREAM_LOOP_SUM8 && (pat.streams != 1 || pat.prefetch != STREAM_PREFETCH_NONE)) {
		fprintf(stderr, "stream: --streams and --prefetch go with --loop sum8\n");
		return 2;
	}
	size_t bytes = mb << 20;
	if (rounds == 0) {
		struct stream_buf b;
		if (stream_alloc(pat.pages, bytes, &b) != 0) {
			fprintf(stderr, "stream: out of memory\n");
			return 1;
		}
		int rc = stream_measure(&pat, b.p, bytes, threads, reps, -1);
		stream_free(&b);
		return rc ? 1 : 0;
	}
	/* the matrix: one buffer of each kind of page, allocated once */
	struct stream_buf bufs[STREAM_PAGES_COUNT];
	for (int k = 0; k < STREAM_PAGES_COUNT; k++)
		if (stream_alloc((enum stream_pages)k, bytes, &bufs[k]) != 0) {
			fprintf(stderr, "stream: out of memory\n");
			return 1;
		}
	int rc = 0;
	int vec_ok = __builtin_cpu_supports("avx512f"), work_ok = __builtin_cpu_supports("avx512vnni");
	for (int r = 0; r < rounds && rc == 0; r++)
		for (size_t k = 0; k < sizeof stream_matrix / sizeof stream_matrix[0] && rc == 0; k++) {
			const struct stream_pattern *p = &stream_matrix[k];
			if ((p->loop == STREAM_LOOP_VEC && !vec_ok) || (p->loop == STREAM_LOOP_WORK && !work_ok))
				continue;
			size_t pb = p->mb && p->mb < mb ? p->mb << 20 : bytes;
			rc = stream_measure(p, bufs[p->pages].p, pb, threads, reps, r);
		}
	for (int k = 0; k < STREAM_PAGES_COUNT; k++)
		stream_free(&bufs[k]);
	return rc ? 1 : 0;
}
