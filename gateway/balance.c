/* Least outstanding requests with weights over power of two choices
 * (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
 * 2001): two instances drawn at random in proportion to their weights,
 * the one with fewer requests per unit of weight wins. Cheap, needs no
 * global order, and avoids the herd that "always the least loaded"
 * causes when several workers decide at once on stale counts.
 *
 * The circuit breaker: fail_threshold consecutive failures open it (the
 * instance is ejected) for eject_us, doubled on every trip without a
 * success in between. After that one probe is let through (half-open);
 * its outcome closes or re-opens the breaker. */
#include "balance.h"

#include <stdlib.h>

int balance_pool_init(struct balance_pool *p, size_t n, const long long *weights, long long fail_threshold,
    long long eject_ms)
{
	p->inst = calloc(n ? n : 1, sizeof *p->inst);
	if (!p->inst)
		return -1;
	p->n = n;
	p->fail_threshold = (int)fail_threshold;
	p->eject_us = (uint64_t)eject_ms * 1000u;
	for (size_t i = 0; i < n; i++) {
		struct balance_instance *b = &p->inst[i];
		atomic_init(&b->outstanding, 0);
		atomic_init(&b->failures, 0);
		atomic_init(&b->state, BALANCE_STATE_CLOSED);
		atomic_init(&b->trips, 0);
		atomic_init(&b->probing, 0);
		atomic_init(&b->open_until_us, 0);
		atomic_init(&b->ejections, 0);
		b->weight = weights && weights[i] > 0 ? (int)weights[i] : 1;
	}
	return 0;
}

void balance_pool_free(struct balance_pool *p)
{
	free(p->inst);
	p->inst = NULL;
	p->n = 0;
}

/* Open with an expired back-off, or half-open with no probe in flight. */
static int balance_probe_due(const struct balance_instance *b, uint64_t now_us)
{
	int s = atomic_load(&b->state);
	if (s == BALANCE_STATE_OPEN)
		return now_us >= atomic_load(&b->open_until_us);
	return s == BALANCE_STATE_HALF_OPEN && !atomic_load(&b->probing);
}

int balance_state_get(const struct balance_pool *p, int i, uint64_t now_us)
{
	const struct balance_instance *b = &p->inst[i];
	int s = atomic_load(&b->state);
	if (s == BALANCE_STATE_OPEN && now_us >= atomic_load(&b->open_until_us))
		return BALANCE_STATE_HALF_OPEN;
	return s;
}

int balance_available(const struct balance_pool *p, uint64_t now_us)
{
	for (size_t i = 0; i < p->n; i++)
		if (atomic_load(&p->inst[i].state) == BALANCE_STATE_CLOSED || balance_probe_due(&p->inst[i], now_us))
			return 1;
	return 0;
}

static int balance_weighted(const struct balance_pool *p, const int *idx, int n, int skip, uint64_t r)
{
	uint64_t total = 0;
	for (int k = 0; k < n; k++)
		if (k != skip)
			total += (uint64_t)p->inst[idx[k]].weight;
	if (total == 0)
		return -1;
	r %= total;
	for (int k = 0; k < n; k++) {
		if (k == skip)
			continue;
		uint64_t w = (uint64_t)p->inst[idx[k]].weight;
		if (r < w)
			return k;
		r -= w;
	}
	return -1;
}

int balance_pick(struct balance_pool *p, uint64_t now_us, uint64_t rnd, uint64_t tried)
{
	int closed[64], n = 0;
	size_t lim = p->n < 64 ? p->n : 64;
	/* A due probe goes first: without it an ejected instance would only
	 * come back when every other one has failed too. */
	for (size_t i = 0; i < lim; i++) {
		struct balance_instance *b = &p->inst[i];
		if (tried & (1ull << i))
			continue;
		if (atomic_load(&b->state) == BALANCE_STATE_CLOSED) {
			closed[n++] = (int)i;
			continue;
		}
		int zero = 0;
		if (balance_probe_due(b, now_us) && atomic_compare_exchange_strong(&b->probing, &zero, 1)) {
			atomic_store(&b->state, BALANCE_STATE_HALF_OPEN);
			atomic_fetch_add(&b->outstanding, 1);
			return (int)i;
		}
	}
	if (n == 0)
		return -1;
	int pick = 0;
	if (n > 1) {
		int a = balance_weighted(p, closed, n, -1, rnd & 0xffffffffu);
		int c = balance_weighted(p, closed, n, a, rnd >> 32);
		pick = a;
		if (c >= 0) {
			const struct balance_instance *ba = &p->inst[closed[a]], *bc = &p->inst[closed[c]];
			/* outstanding / weight, compared without division */
			long long la = (long long)atomic_load(&ba->outstanding) * bc->weight;
			long long lc = (long long)atomic_load(&bc->outstanding) * ba->weight;
			if (lc < la)
				pick = c;
		}
	}
	atomic_fetch_add(&p->inst[closed[pick]].outstanding, 1);
	return closed[pick];
}

void balance_report(struct balance_pool *p, int i, int ok, uint64_t now_us)
{
	struct balance_instance *b = &p->inst[i];
	if (ok) {
		atomic_store(&b->failures, 0);
		atomic_store(&b->trips, 0);
		atomic_store(&b->state, BALANCE_STATE_CLOSED);
		atomic_store(&b->probing, 0);
		return;
	}
	int f = atomic_fetch_add(&b->failures, 1) + 1;
	int s = atomic_load(&b->state);
	if (s == BALANCE_STATE_HALF_OPEN || (s == BALANCE_STATE_CLOSED && f >= p->fail_threshold)) {
		int t = atomic_fetch_add(&b->trips, 1);
		if (t > BALANCE_MAX_BACKOFF_SHIFT)
			t = BALANCE_MAX_BACKOFF_SHIFT;
		atomic_store(&b->open_until_us, now_us + (p->eject_us << t));
		atomic_store(&b->state, BALANCE_STATE_OPEN);
		atomic_store(&b->probing, 0);
		atomic_fetch_add(&b->ejections, 1);
	}
}

void balance_done(struct balance_pool *p, int i, int ok, uint64_t now_us)
{
	atomic_fetch_sub(&p->inst[i].outstanding, 1);
	balance_report(p, i, ok, now_us);
}

void balance_cancel(struct balance_pool *p, int i)
{
	struct balance_instance *b = &p->inst[i];
	atomic_fetch_sub(&b->outstanding, 1);
	if (atomic_load(&b->state) == BALANCE_STATE_HALF_OPEN)
		atomic_store(&b->probing, 0);
}

void balance_carry(struct balance_pool *dst, size_t di, const struct balance_pool *src, size_t si)
{
	struct balance_instance *d = &dst->inst[di];
	const struct balance_instance *s = &src->inst[si];
	atomic_store(&d->failures, atomic_load(&s->failures));
	atomic_store(&d->trips, atomic_load(&s->trips));
	atomic_store(&d->open_until_us, atomic_load(&s->open_until_us));
	atomic_store(&d->ejections, atomic_load(&s->ejections));
	/* A probe in flight reports to src: here the next request probes. */
	atomic_store(&d->probing, 0);
	atomic_store(&d->state, atomic_load(&s->state));
}
