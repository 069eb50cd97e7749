/* Thread pool: workers spin briefly on a generation counter (regions come
 * every few microseconds while decoding), then sleep on a condition variable
 * so an idle engine costs no CPU. */
#include "engine/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define THREADPOOL_SPIN 20000

struct threadpool_worker {
	struct threadpool *pool;
	int id;
	pthread_t tid;
};

struct threadpool {
	int n;
	struct threadpool_worker *w;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_uint gen;	/* bumped per region */
	atomic_int sleeping;
	atomic_int active;	/* workers still in the current region */
	atomic_llong next;	/* next task */
	int64_t n_tasks;
	threadpool_fn fn;
	void *ctx;
	atomic_int stop;
};

static void threadpool_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void threadpool_work(struct threadpool *p, int id)
{
	for (;;) {
		int64_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
		if (t >= p->n_tasks)
			break;
		p->fn(p->ctx, t, id);
	}
}

static void *threadpool_main(void *arg)
{
	struct threadpool_worker *w = arg;
	struct threadpool *p = w->pool;
	/* the generation at creation is 0: a region started before this
	 * thread got scheduled must still be seen as new */
	unsigned seen = 0;
	for (;;) {
		int spins = 0;
		while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen) {
			if (++spins < THREADPOOL_SPIN) {
				threadpool_relax();
				continue;
			}
			pthread_mutex_lock(&p->mu);
			atomic_fetch_add(&p->sleeping, 1);
			while (atomic_load(&p->gen) == seen)
				pthread_cond_wait(&p->cv, &p->mu);
			atomic_fetch_sub(&p->sleeping, 1);
			pthread_mutex_unlock(&p->mu);
		}
		seen = atomic_load(&p->gen);
		if (atomic_load(&p->stop))
			return NULL;
		threadpool_work(p, w->id);
		atomic_fetch_sub_explicit(&p->active, 1, memory_order_release);
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

static void threadpool_kick(struct threadpool *p)
{
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	if (atomic_load(&p->sleeping))
		pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void threadpool_free(struct threadpool *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	threadpool_kick(p);
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

void threadpool_run(struct threadpool *p, threadpool_fn fn, void *ctx, int64_t n_tasks)
{
	if (p->n == 1 || n_tasks <= 1) {
		for (int64_t t = 0; t < n_tasks; t++)
			fn(ctx, t, 0);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->n_tasks = n_tasks;
	atomic_store(&p->next, 0);
	atomic_store(&p->active, p->n - 1);
	threadpool_kick(p);
	threadpool_work(p, 0);
	int spins = 0;
	while (atomic_load_explicit(&p->active, memory_order_acquire) > 0)
		if (++spins > THREADPOOL_SPIN)
			sched_yield();
		else
			threadpool_relax();
}
