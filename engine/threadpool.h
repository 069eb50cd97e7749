/* A fixed pool of worker threads running parallel-for regions: the calling
 * thread takes part, tasks are claimed from an atomic ticket, and a region
 * ends when its tasks are done, without waiting for workers that did not
 * get to run (see threadpool.c).  Fewer than 2^32 tasks per region. */
#ifndef HAFEN_ENGINE_THREADPOOL_H
#define HAFEN_ENGINE_THREADPOOL_H

#include <stdint.h>

struct threadpool;
/* Run task number `task` on worker `thread` (0 = the caller). */
typedef void (*threadpool_fn)(void *ctx, int64_t task, int thread);

/* n_threads counts the caller; 1 means no extra threads. */
struct threadpool *threadpool_new(int n_threads);
void threadpool_free(struct threadpool *p);
int threadpool_size(const struct threadpool *p);
/* Run fn for tasks 0..n_tasks-1 and return when all are done. */
void threadpool_run(struct threadpool *p, threadpool_fn fn, void *ctx, int64_t n_tasks);

/* What the calling thread spent in threadpool_run since the last reset:
 * regions run, seconds inside, and seconds of those waiting at the end of a
 * region for tasks other threads still ran (the region's tail).  Time
 * outside is the serial part of the caller's work (bench reports both). */
struct threadpool_stats {
	uint64_t regions;
	double run_s;
	double tail_s;
};
void threadpool_stats_get(const struct threadpool *p, struct threadpool_stats *out);
void threadpool_stats_reset(struct threadpool *p);

#endif
