/* Per-key limits: requests per minute and tokens per minute (token
 * buckets), and requests in flight. Counters are shared by all workers
 * through a striped table: a request locks one of many stripes, never a
 * global lock (docs/keys.md). */
#ifndef HAFEN_GATEWAY_RATELIMIT_H
#define HAFEN_GATEWAY_RATELIMIT_H

#include <stdint.h>

struct config_key;

/* A token bucket of capacity cap, refilled at cap per minute. */
struct ratelimit_bucket {
	double level;
	uint64_t t_us;
};

void ratelimit_bucket_init(struct ratelimit_bucket *b, double cap, uint64_t now_us);
/* Refills to now; 0 when n can be taken (n above cap needs a full bucket),
 * else -1 with the seconds until it can in wait_s (rounded up, >= 1). */
int ratelimit_bucket_check(struct ratelimit_bucket *b, double cap, double n, uint64_t now_us, long long *wait_s);
/* Takes n (the level may go below zero: a debt paid back by refill). */
void ratelimit_bucket_take(struct ratelimit_bucket *b, double n);
/* Gives back n (a correction: the estimate was too high). */
void ratelimit_bucket_give(struct ratelimit_bucket *b, double cap, double n);

enum ratelimit_result {
	RATELIMIT_RESULT_OK,
	RATELIMIT_RESULT_RPM,
	RATELIMIT_RESULT_TPM,
	RATELIMIT_RESULT_CONCURRENCY,
};

struct ratelimit_entry;

/* Admits a request of about `tokens` prompt tokens for key k. OK: *out is
 * the entry to finish (NULL when k has no limits). Otherwise nothing was
 * taken and *retry_after_s says when to try again. */
enum ratelimit_result ratelimit_admit(const struct config_key *k, long long tokens, uint64_t now_us,
    struct ratelimit_entry **out, long long *retry_after_s);
/* The request is over: one fewer in flight; the token bucket is corrected
 * from the estimate to the actual count (actual < 0: unknown, keep it). */
void ratelimit_finish(struct ratelimit_entry *e, long long estimated, long long actual, uint64_t now_us);
const char *ratelimit_result_message(enum ratelimit_result r);
/* At exit: frees every entry. */
void ratelimit_free_all(void);

#endif
