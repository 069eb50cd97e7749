/* Thread pool for parallel-for regions without a barrier on idle workers.
 *
 * On a shared machine a worker is often descheduled; a region that waited
 * for every worker to check in would stall for a whole time slice.  Here
 * the calling thread and the workers claim tasks from one 64-bit ticket
 * (region generation << 32 | next task) with compare-and-swap, and the
 * caller waits only until every task has *finished*: a worker that wakes
 * late finds the ticket of a finished region (or a newer one) and claims
 * nothing.  Region descriptors alternate between two slots, so a late
 * worker can read the previous region's descriptor while the next one is
 * being written; a claim succeeds only while the ticket still carries the
 * generation the worker read, which proves the descriptor it read belongs
 * to that live region.  Workers spin briefly on the ticket (regions come
 * every few microseconds while decoding), then sleep on a condition
 * variable so an idle engine costs no CPU. */
#include "engine/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pauses a worker spins before it sleeps (and the caller before it yields):
 * ~40-80 us, longer than the serial steps between the regions of a decoding
 * step.  20,000 (~0.5 ms) spun through the gaps between requests and, on a
 * loaded machine, took CPU time from everything else: 2,000 decoded at the
 * same or better speed with ~10% less CPU time per token (docs/benchmarks.md). */
#define THREADPOOL_SPIN 2000
#define THREADPOOL_TASK_MASK 0xffffffffULL

struct threadpool_worker {
	struct threadpool *pool;
	int id;
	pthread_t tid;
};

/* Atomic fields: a late worker may read a slot while it is rewritten (it
 * then fails to claim, see above). */
struct threadpool_region {
	_Atomic(threadpool_fn) fn;
	_Atomic(void *) ctx;
	atomic_llong n_tasks;
	atomic_llong done;	/* tasks finished */
};

struct threadpool {
	int n;
	struct threadpool_worker *w;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic(uint64_t) ticket;	/* generation << 32 | next task */
	atomic_int sleeping;
	struct threadpool_region region[2];	/* by generation & 1 */
	atomic_int stop;
	struct threadpool_stats stats;	/* the calling thread's only */
};

/* ~20 ns through the vDSO, two or three per region of several us. */
static double threadpool_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void threadpool_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Claim and run tasks of generation `gen` until none is left. */
static void threadpool_work(struct threadpool *p, uint32_t gen, int id)
{
	struct threadpool_region *r = &p->region[gen & 1];
	threadpool_fn fn = atomic_load_explicit(&r->fn, memory_order_relaxed);
	void *ctx = atomic_load_explicit(&r->ctx, memory_order_relaxed);
	uint64_t n = (uint64_t)atomic_load_explicit(&r->n_tasks, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
	for (;;) {
		if ((uint32_t)(t >> 32) != gen || (t & THREADPOOL_TASK_MASK) >= n)
			return;
		if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel,
			    memory_order_acquire))
			continue;
		fn(ctx, (int64_t)(t & THREADPOOL_TASK_MASK), id);
		atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
		t = atomic_load_explicit(&p->ticket, memory_order_acquire);
	}
}

static void *threadpool_main(void *arg)
{
	struct threadpool_worker *w = arg;
	struct threadpool *p = w->pool;
	uint32_t seen = 0;	/* generation 0 is never a region */
	for (;;) {
		int spins = 0;
		uint32_t gen;
		while ((gen = (uint32_t)(atomic_load_explicit(&p->ticket, memory_order_acquire) >> 32)) == seen &&
		       !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
			if (++spins < THREADPOOL_SPIN) {
				threadpool_relax();
				continue;
			}
			pthread_mutex_lock(&p->mu);
			atomic_fetch_add(&p->sleeping, 1);
			while ((uint32_t)(atomic_load(&p->ticket) >> 32) == seen && !atomic_load(&p->stop))
				pthread_cond_wait(&p->cv, &p->mu);
			atomic_fetch_sub(&p->sleeping, 1);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->stop))
			return NULL;
		seen = gen;
		threadpool_work(p, gen, w->id);
	}
}

struct threadpool *threadpool_new(int n_threads)
{
	struct threadpool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->n = n_threads < 1 ? 1 : n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->w = calloc((size_t)p->n, sizeof *p->w);
	if (!p->w) {
		free(p);
		return NULL;
	}
	for (int i = 1; i < p->n; i++) {
		p->w[i].pool = p;
		p->w[i].id = i;
		if (pthread_create(&p->w[i].tid, NULL, threadpool_main, &p->w[i]) != 0) {
			p->n = i;	/* run with what we have */
			break;
		}
	}
	return p;
}

/* Wake sleeping workers (the ticket or stop changed under the mutex, so a
 * worker about to wait sees it). */
static void threadpool_wake(struct threadpool *p)
{
	pthread_mutex_lock(&p->mu);
	if (atomic_load(&p->sleeping))
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void threadpool_free(struct threadpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->w[i].tid, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->w);
	free(p);
}

int threadpool_size(const struct threadpool *p)
{
	return p->n;
}

void threadpool_stats_get(const struct threadpool *p, struct threadpool_stats *out)
{
	*out = p->stats;
}

void threadpool_stats_reset(struct threadpool *p)
{
	memset(&p->stats, 0, sizeof p->stats);
}

void threadpool_run(struct threadpool *p, threadpool_fn fn, void *ctx, int64_t n_tasks)
{
	double t0 = threadpool_now();
	p->stats.regions++;
	if (p->n == 1 || n_tasks <= 1) {
		for (int64_t t = 0; t < n_tasks; t++)
			fn(ctx, t, 0);
		p->stats.run_s += threadpool_now() - t0;
		return;
	}
	uint64_t old = atomic_load_explicit(&p->ticket, memory_order_relaxed);
	uint32_t gen = (uint32_t)(old >> 32) + 1;
	if (gen == 0)
		gen = 1;	/* 0 means "no region yet" to a fresh worker */
	struct threadpool_region *r = &p->region[gen & 1];
	atomic_store_explicit(&r->fn, fn, memory_order_relaxed);
	atomic_store_explicit(&r->ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&r->n_tasks, n_tasks, memory_order_relaxed);
	atomic_store_explicit(&r->done, 0, memory_order_relaxed);
	/* sequentially consistent with the load of `sleeping` below and the
	 * workers' increment-then-check, so no worker sleeps through it */
	atomic_store(&p->ticket, (uint64_t)gen << 32);
	if (atomic_load(&p->sleeping))
		threadpool_wake(p);
	threadpool_work(p, gen, 0);
	/* only tasks that a worker claimed and has not finished remain */
	double t1 = threadpool_now();
	int spins = 0;
	while (atomic_load_explicit(&r->done, memory_order_acquire) < n_tasks)
		if (++spins > THREADPOOL_SPIN)
			sched_yield();
		else
			threadpool_relax();
	double t2 = threadpool_now();
	p->stats.run_s += t2 - t0;
	p->stats.tail_s += t2 - t1;
}
