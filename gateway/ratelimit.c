/* Per-key limits. Requests per minute and tokens per minute are token
 * buckets (capacity = the per-minute limit, refilled continuously at
 * limit/60 per second), so a client may burst up to one minute's worth
 * and then runs at the limit. Tokens are estimated before forwarding
 * (body bytes / 4, the usual rule of thumb for BPE tokenizers
 * on English and German text) and corrected when the answer's `usage`
 * says how many were used, prompt and completion together.
 *
 * State lives in a table of RATELIMIT_STRIPES stripes, each with its own
 * mutex and hash chains, keyed by key name (a rotated key keeps its name,
 * so its limits carry over). A request locks one stripe for a few
 * arithmetic operations; workers on different keys rarely meet. Entries
 * stay until exit: their number is bounded by the keys ever used. */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gwconfig.h"

#define RATELIMIT_STRIPES 64
#define RATELIMIT_CHAINS 64 /* per stripe */

struct ratelimit_entry {
	struct ratelimit_entry *next;
	pthread_mutex_t *lock;    /* its stripe's */
	uint64_t hash;
	struct ratelimit_bucket rpm_b, tpm_b;
	double rpm, tpm;          /* capacities in force (from the key, refreshed per request) */
	long long in_flight;
	char name[];
};

struct ratelimit_stripe {
	pthread_mutex_t lock;
	struct ratelimit_entry *chains[RATELIMIT_CHAINS];
	char pad[64];
};

static struct ratelimit_stripe ratelimit_stripes[RATELIMIT_STRIPES];
static pthread_once_t ratelimit_once = PTHREAD_ONCE_INIT;

static void ratelimit_init(void)
{
	for (int i = 0; i < RATELIMIT_STRIPES; i++)
		pthread_mutex_init(&ratelimit_stripes[i].lock, NULL);
}

void ratelimit_bucket_init(struct ratelimit_bucket *b, double cap, uint64_t now_us)
{
	b->level = cap;
	b->t_us = now_us;
}

static void ratelimit_bucket_refill(struct ratelimit_bucket *b, double cap, uint64_t now_us)
{
	if (now_us > b->t_us) {
		b->level += (double)(now_us - b->t_us) * cap / 60e6;
		if (b->level > cap)
			b->level = cap;
	}
	b->t_us = now_us;
}

int ratelimit_bucket_check(struct ratelimit_bucket *b, double cap, double n, uint64_t now_us, long long *wait_s)
{
	ratelimit_bucket_refill(b, cap, now_us);
	/* A request larger than the whole bucket waits for a full one. */
	double need = n < cap ? n : cap;
	if (b->level >= need)
		return 0;
	double secs = (need - b->level) * 60.0 / cap;
	long long w = (long long)ceil(secs);
	*wait_s = w < 1 ? 1 : w;
	return -1;
}

void ratelimit_bucket_take(struct ratelimit_bucket *b, double n)
{
	b->level -= n;
}

void ratelimit_bucket_give(struct ratelimit_bucket *b, double cap, double n)
{
	b->level += n;
	if (b->level > cap)
		b->level = cap;
}

/* FNV-1a 64 (Fowler/Noll/Vo): names are not secret, spreading is all. */
static uint64_t ratelimit_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Under the stripe's lock. */
static struct ratelimit_entry *ratelimit_entry_get(struct ratelimit_stripe *st, const char *name, uint64_t h,
    const struct config_key *k, uint64_t now_us)
{
	struct ratelimit_entry **chain = &st->chains[(h >> 8) % RATELIMIT_CHAINS];
	for (struct ratelimit_entry *e = *chain; e; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	size_t n = strlen(name);
	struct ratelimit_entry *e = calloc(1, sizeof *e + n + 1);
	if (!e)
		return NULL;
	memcpy(e->name, name, n + 1);
	e->hash = h;
	e->lock = &st->lock;
	e->rpm = (double)k->rpm;
	e->tpm = (double)k->tpm;
	ratelimit_bucket_init(&e->rpm_b, e->rpm, now_us);
	ratelimit_bucket_init(&e->tpm_b, e->tpm, now_us);
	e->next = *chain;
	*chain = e;
	return e;
}

/* A limit changed by the operator applies from the next request; the
 * bucket keeps its fill, capped at the new size. */
static void ratelimit_entry_limits(struct ratelimit_entry *e, const struct config_key *k, uint64_t now_us)
{
	if ((double)k->rpm != e->rpm) {
		if (e->rpm == 0)
			ratelimit_bucket_init(&e->rpm_b, (double)k->rpm, now_us);
		e->rpm = (double)k->rpm;
		if (e->rpm_b.level > e->rpm)
			e->rpm_b.level = e->rpm;
	}
	if ((double)k->tpm != e->tpm) {
		if (e->tpm == 0)
			ratelimit_bucket_init(&e->tpm_b, (double)k->tpm, now_us);
		e->tpm = (double)k->tpm;
		if (e->tpm_b.level > e->tpm)
			e->tpm_b.level = e->tpm;
	}
}

enum ratelimit_result ratelimit_admit(const struct config_key *k, long long tokens, uint64_t now_us,
    struct ratelimit_entry **out, long long *retry_after_s)
{
	*out = NULL;
	if (!k || (!k->rpm && !k->tpm && !k->concurrency))
		return RATELIMIT_RESULT_OK;
	pthread_once(&ratelimit_once, ratelimit_init);
	uint64_t h = ratelimit_hash(k->name);
	struct ratelimit_stripe *st = &ratelimit_stripes[h % RATELIMIT_STRIPES];
	enum ratelimit_result r = RATELIMIT_RESULT_OK;
	pthread_mutex_lock(&st->lock);
	struct ratelimit_entry *e = ratelimit_entry_get(st, k->name, h, k, now_us);
	if (!e) {
		pthread_mutex_unlock(&st->lock);
		*retry_after_s = 1;
		return RATELIMIT_RESULT_CONCURRENCY; /* out of memory: fail closed, briefly */
	}
	ratelimit_entry_limits(e, k, now_us);
	/* Check all, then take all: a refused request costs nothing. */
	if (k->concurrency && e->in_flight >= k->concurrency) {
		r = RATELIMIT_RESULT_CONCURRENCY;
		*retry_after_s = 1;
	} else if (e->rpm > 0 && ratelimit_bucket_check(&e->rpm_b, e->rpm, 1, now_us, retry_after_s) < 0) {
		r = RATELIMIT_RESULT_RPM;
	} else if (e->tpm > 0 && ratelimit_bucket_check(&e->tpm_b, e->tpm, (double)tokens, now_us, retry_after_s) < 0) {
		r = RATELIMIT_RESULT_TPM;
	} else {
		if (e->rpm > 0)
			ratelimit_bucket_take(&e->rpm_b, 1);
		if (e->tpm > 0)
			ratelimit_bucket_take(&e->tpm_b, (double)tokens);
		e->in_flight++;
		*out = e;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

void ratelimit_finish(struct ratelimit_entry *e, long long estimated, long long actual, uint64_t now_us)
{
	if (!e)
		return;
	pthread_mutex_lock(e->lock);
	e->in_flight--;
	if (e->tpm > 0 && actual >= 0) {
		ratelimit_bucket_refill(&e->tpm_b, e->tpm, now_us);
		if (actual > estimated)
			ratelimit_bucket_take(&e->tpm_b, (double)(actual - estimated));
		else
			ratelimit_bucket_give(&e->tpm_b, e->tpm, (double)(estimated - actual));
	}
	pthread_mutex_unlock(e->lock);
}

const char *ratelimit_result_message(enum ratelimit_result r)
{
	static const char *const msgs[] = {
		[RATELIMIT_RESULT_OK] = "",
		[RATELIMIT_RESULT_RPM] = "rate limit exceeded: requests per minute for this key",
		[RATELIMIT_RESULT_TPM] = "rate limit exceeded: tokens per minute for this key",
		[RATELIMIT_RESULT_CONCURRENCY] = "rate limit exceeded: concurrent requests for this key",
	};
	return msgs[r];
}

void ratelimit_free_all(void)
{
	pthread_once(&ratelimit_once, ratelimit_init);
	for (int i = 0; i < RATELIMIT_STRIPES; i++) {
		struct ratelimit_stripe *st = &ratelimit_stripes[i];
		pthread_mutex_lock(&st->lock);
		for (int c = 0; c < RATELIMIT_CHAINS; c++) {
			struct ratelimit_entry *e = st->chains[c], *next;
			for (; e; e = next) {
				next = e->next;
				free(e);
			}
			st->chains[c] = NULL;
		}
		pthread_mutex_unlock(&st->lock);
	}
}
