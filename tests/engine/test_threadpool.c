/* Thread pool: every task of every region runs exactly once, a region
 * returns only when all its tasks have finished, and a worker that is slow
 * (here: sleeps inside a task, as a descheduled one would) neither loses
 * work nor runs a later region's tasks with an earlier region's function. */
#include "engine/threadpool.h"
#include "tests/tap.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_TASKS 300

struct region {
	int id;			/* which region this is */
	atomic_int runs[MAX_TASKS];
	atomic_int wrong;	/* tasks run with another region's context */
	int slow_thread;	/* this worker sleeps in its first task; -1: none */
	atomic_int slept;
	int *current;		/* the region the caller is in */
};

static void region_task(void *ctx, int64_t task, int thread)
{
	struct region *r = ctx;
	if (*(volatile int *)r->current != r->id)
		atomic_fetch_add(&r->wrong, 1);
	if (r->slow_thread >= 0) {
		/* tasks long enough that the workers get some, one of which
		 * stalls for 2 ms in its first */
		int first = thread == r->slow_thread && atomic_exchange(&r->slept, 1) == 0;
		struct timespec ts = { 0, first ? 2000000 : 100000 };
		nanosleep(&ts, NULL);
	}
	atomic_fetch_add(&r->runs[task], 1);
}

static int check(struct threadpool *p, int id, int64_t n, int slow, int *current)
{
	struct region *r = calloc(1, sizeof *r);
	if (!r)
		return 0;
	r->id = id;
	r->slow_thread = slow;
	r->current = current;
	*current = id;
	threadpool_run(p, region_task, r, n);
	int good = atomic_load(&r->wrong) == 0;
	for (int64_t t = 0; t < n; t++)
		good &= atomic_load(&r->runs[t]) == 1;	/* all done, once, on return */
	for (int64_t t = n; t < MAX_TASKS; t++)
		good &= atomic_load(&r->runs[t]) == 0;
	free(r);
	return good;
}

int main(void)
{
	int current = 0;
	for (int threads = 1; threads <= 4; threads++) {
		struct threadpool *p = threadpool_new(threads);
		if (!ok(p && threadpool_size(p) == threads, "%d threads: pool started", threads))
			continue;
		int good = 1, id = 1;
		for (int i = 0; i < 3000; i++)
			good &= check(p, id++, 1 + (i * 37) % MAX_TASKS, -1, &current);
		ok(good, "%d threads: 3000 regions, every task once, all done on return", threads);
		good = 1;
		for (int i = 0; i < 40; i++)
			good &= check(p, id++, 2 + i % 50, 1 + i % (threads > 1 ? threads - 1 : 1), &current);
		ok(good, "%d threads: a worker sleeping mid-task loses nothing, runs nothing late", threads);
		/* an idle pool (workers asleep on the condition variable) wakes */
		struct timespec ts = { 0, 50000000 };
		nanosleep(&ts, NULL);
		ok(check(p, id++, 200, -1, &current), "%d threads: a region after the workers fell asleep", threads);
		threadpool_free(p);
	}
	tap_done();
	return 0;
}
