/* Load balancing inside a pool: least outstanding requests with weights,
 * power of two choices, and a circuit breaker per instance. Shared by all
 * workers (atomics only, no locks); times are passed in, so the logic is
 * unit-tested without a clock. */
#ifndef HAFEN_GATEWAY_BALANCE_H
#define HAFEN_GATEWAY_BALANCE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* closed: in use. open: ejected until open_until. half_open: one probe
 * request (or health check) decides whether it closes or opens again with
 * a doubled back-off. */
enum balance_state {
	BALANCE_STATE_CLOSED,
	BALANCE_STATE_OPEN,
	BALANCE_STATE_HALF_OPEN,
};

#define BALANCE_MAX_BACKOFF_SHIFT 5 /* back-off grows to 32x eject_ms at most */

struct balance_instance {
	atomic_int outstanding;
	atomic_int failures;       /* consecutive */
	atomic_int state;          /* enum balance_state */
	atomic_int trips;          /* opens in a row without a success: back-off exponent */
	atomic_int probing;        /* half-open: a probe is in flight */
	atomic_uint_least64_t open_until_us;
	atomic_uint_least64_t ejections; /* for metrics and tests */
	int weight;
};

struct balance_pool {
	struct balance_instance *inst;
	size_t n;
	int fail_threshold;
	uint64_t eject_us;
};

int balance_pool_init(struct balance_pool *p, size_t n, const long long *weights, long long fail_threshold,
    long long eject_ms);
void balance_pool_free(struct balance_pool *p);

/* Picks an instance not in tried (bit i set: instance i already failed
 * this request; pools of up to 64 instances) and counts it outstanding.
 * rnd is a fresh random number. -1: no usable instance. */
int balance_pick(struct balance_pool *p, uint64_t now_us, uint64_t rnd, uint64_t tried);
/* The request on instance i is over: ok or failed (connect failure,
 * 502/503, timeout before the first byte). */
void balance_done(struct balance_pool *p, int i, int ok, uint64_t now_us);
/* The request on instance i ended without a verdict on the instance
 * (the client left): a probe slot is given back. */
void balance_cancel(struct balance_pool *p, int i);
/* An outcome that is not a request (active health check). */
void balance_report(struct balance_pool *p, int i, int ok, uint64_t now_us);
/* 1 when some instance could take a request now. */
int balance_available(const struct balance_pool *p, uint64_t now_us);
int balance_state_get(const struct balance_pool *p, int i, uint64_t now_us);
/* A reload kept instance si of src as instance di of dst (same upstream
 * name and URL): its breaker, failure count and back-off go with it.
 * Requests in flight stay counted on src, where they end. */
void balance_carry(struct balance_pool *dst, size_t di, const struct balance_pool *src, size_t si);

#endif
