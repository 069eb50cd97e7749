/* stream: the machine's read bandwidth, the bound for memory-bound decoding.
 * Like STREAM's "sum" kernel: each thread reads its slice of a buffer much
 * larger than the caches with independent accumulators; best of N passes.
 * usage: stream [--threads N] [--mb SIZE] [--reps R]   -> JSON on stdout */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct stream_slice {
	const uint64_t *p;
	size_t n;
	uint64_t sum;
	pthread_barrier_t *bar;
	int reps;
	double *secs;
	int id;
};

static double stream_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *stream_run(void *arg)
{
	struct stream_slice *s = arg;
	for (int r = 0; r < s->reps; r++) {
		pthread_barrier_wait(s->bar);
		double t0 = stream_now();
		uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
		for (size_t i = 0; i + 8 <= s->n; i += 8) {
			a0 += s->p[i];
			a1 += s->p[i + 1];
			a2 += s->p[i + 2];
			a3 += s->p[i + 3];
			a4 += s->p[i + 4];
			a5 += s->p[i + 5];
			a6 += s->p[i + 6];
			a7 += s->p[i + 7];
		}
		s->sum += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
		pthread_barrier_wait(s->bar);
		if (s->id == 0)
			s->secs[r] = stream_now() - t0;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5;
	size_t mb = 1024;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--mb") == 0)
			mb = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--reps") == 0)
			reps = atoi(argv[i + 1]);
	}
	if (threads < 1 || threads > 256 || reps < 1 || reps > 100 || mb < 16) {
		fprintf(stderr, "usage: stream [--threads N] [--mb SIZE] [--reps R]\n");
		return 2;
	}
	size_t n = mb * 1024 * 1024 / 8;
	uint64_t *buf = malloc(n * 8);
	double *secs = calloc((size_t)reps, sizeof *secs);
	struct stream_slice *sl = calloc((size_t)threads, sizeof *sl);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!buf || !secs || !sl || !tid) {
		fprintf(stderr, "stream: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = i;
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)threads);
	size_t per = n / (size_t)threads / 8 * 8;
	for (int t = 0; t < threads; t++) {
		sl[t] = (struct stream_slice){ buf + (size_t)t * per, per, 0, &bar, reps, secs, t };
		pthread_create(&tid[t], NULL, stream_run, &sl[t]);
	}
	uint64_t check = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(tid[t], NULL);
		check += sl[t].sum;
	}
	double best = secs[0];
	for (int r = 1; r < reps; r++)
		if (secs[r] < best)
			best = secs[r];
	double bytes = (double)per * 8 * threads;
	printf("{\"threads\":%d,\"mb\":%zu,\"reps\":%d,\"read_gb_s\":%.2f,\"check\":%llu}\n", threads, mb, reps,
		bytes / best / 1e9, (unsigned long long)(check & 0xffff));
	free(buf);
	free(secs);
	free(sl);
	free(tid);
	return 0;
}
