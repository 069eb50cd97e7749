/* Helpers shared by the in-process benchmarks in bench/. */
#ifndef HAFEN_BENCH_UTIL_H
#define HAFEN_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Seconds of CPU time of the calling thread: on a shared machine the time
 * it spends descheduled does not count. */
static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return v[n / 2];
}

/* The plain read loop bench/qdot and bench/stream measure the memory
 * with: 64-bit loads into four independent sums. */
static inline uint64_t bench_read_sum4(const void *buf, size_t bytes)
{
	const uint64_t *p = buf;
	size_t n = bytes / 8;
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	for (size_t i = 0; i + 4 <= n; i += 4) {
		a0 += p[i];
		a1 += p[i + 1];
		a2 += p[i + 2];
		a3 += p[i + 3];
	}
	return a0 + a1 + a2 + a3;
}

#endif
