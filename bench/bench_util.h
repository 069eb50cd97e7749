/* Helpers shared by the in-process benchmarks in bench/. */
#ifndef HAFEN_BENCH_UTIL_H
#define HAFEN_BENCH_UTIL_H

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

#endif
