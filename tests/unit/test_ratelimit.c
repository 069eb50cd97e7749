/* Token-bucket math and per-key admission: bursts up to the limit, refill
 * at limit/60 per second, Retry-After rounded up, the correction from the
 * estimate to the upstream's usage, concurrency, and that a refused
 * request takes nothing. */
#include <string.h>

#include "gateway/gwconfig.h"
#include "gateway/ratelimit.h"
#include "tests/tap.h"

#define S 1000000ull /* one second in microseconds */

int main(void)
{
	struct ratelimit_bucket b;
	long long wait = 0;
	uint64_t t0 = 1000 * S;
	ratelimit_bucket_init(&b, 60, t0);
	int taken = 0;
	while (ratelimit_bucket_check(&b, 60, 1, t0, &wait) == 0 && taken < 100) {
		ratelimit_bucket_take(&b, 1);
		taken++;
	}
	is_int(taken, 60, "a full bucket of 60/min admits a burst of 60");
	is_int((int)wait, 1, "then the next is 1 s away (60/min refills one per second)");
	is_int(ratelimit_bucket_check(&b, 60, 1, t0 + S / 2, &wait), -1, "half a second later: still empty");
	is_int(ratelimit_bucket_check(&b, 60, 1, t0 + S, &wait), 0, "one second later: one more");
	ratelimit_bucket_take(&b, 1);
	ratelimit_bucket_init(&b, 6, t0);
	ratelimit_bucket_take(&b, 6);
	is_int(ratelimit_bucket_check(&b, 6, 1, t0, &wait), -1, "6/min, empty");
	is_int((int)wait, 10, "... Retry-After 10 s (one request per 10 s)");
	is_int(ratelimit_bucket_check(&b, 6, 1, t0 + 9 * S, &wait), -1, "9 s later: not yet");
	is_int((int)wait, 1, "... 1 s to go (rounded up)");
	is_int(ratelimit_bucket_check(&b, 6, 1, t0 + 3600 * S, &wait), 0, "an hour later: refilled");
	ok(b.level <= 6.0, "... but never above the capacity");

	/* tokens: a request larger than the bucket waits for a full one */
	ratelimit_bucket_init(&b, 1000, t0);
	is_int(ratelimit_bucket_check(&b, 1000, 5000, t0, &wait), 0, "a 5000-token prompt with a full 1000 bucket passes");
	ratelimit_bucket_take(&b, 5000);
	is_int(ratelimit_bucket_check(&b, 1000, 10, t0, &wait), -1, "... and leaves a debt");
	is_int((int)wait, 241, "... paid back at 1000/min: 4010 tokens = 240.6 s, rounded up");
	ratelimit_bucket_give(&b, 1000, 1e9);
	ok(b.level == 1000.0, "giving back never overfills");

	/* admission per key */
	struct config_key k = {.name = "alice", .tenant = "t", .purpose = "p", .max_class = 3, .rpm = 3};
	struct ratelimit_entry *e[8] = {0};
	int ok_n = 0;
	enum ratelimit_result r = RATELIMIT_RESULT_OK;
	for (int i = 0; i < 5; i++) {
		r = ratelimit_admit(&k, 0, t0, &e[i], &wait);
		ok_n += r == RATELIMIT_RESULT_OK;
	}
	is_int(ok_n, 3, "rpm 3: three admitted");
	is_int(r, RATELIMIT_RESULT_RPM, "... the fourth and fifth refused for rpm");
	is_int((int)wait, 20, "... Retry-After 20 s");
	for (int i = 0; i < 5; i++)
		ratelimit_finish(e[i], 0, -1, t0);
	struct config_key other = {.name = "bob", .tenant = "t", .purpose = "p", .max_class = 3, .rpm = 3};
	struct ratelimit_entry *eb = NULL;
	is_int(ratelimit_admit(&other, 0, t0, &eb, &wait), RATELIMIT_RESULT_OK, "another key has its own bucket");
	ratelimit_finish(eb, 0, -1, t0);

	struct config_key none = {.name = "free", .max_class = 3};
	struct ratelimit_entry *en = (struct ratelimit_entry *)&none;
	is_int(ratelimit_admit(&none, 1000000, t0, &en, &wait), RATELIMIT_RESULT_OK, "no limits: admitted");
	ok(en == NULL, "... without an entry (no lock taken)");

	struct config_key c = {.name = "conc", .max_class = 3, .concurrency = 2};
	struct ratelimit_entry *c1 = NULL, *c2 = NULL, *c3 = NULL;
	ratelimit_admit(&c, 0, t0, &c1, &wait);
	ratelimit_admit(&c, 0, t0, &c2, &wait);
	is_int(ratelimit_admit(&c, 0, t0, &c3, &wait), RATELIMIT_RESULT_CONCURRENCY, "concurrency 2: a third in flight is refused");
	ratelimit_finish(c1, 0, -1, t0);
	is_int(ratelimit_admit(&c, 0, t0, &c3, &wait), RATELIMIT_RESULT_OK, "... and admitted once one finished");
	ratelimit_finish(c2, 0, -1, t0);
	ratelimit_finish(c3, 0, -1, t0);

	/* tpm with the correction from the upstream's usage */
	struct config_key tk = {.name = "tok", .max_class = 3, .tpm = 1000};
	struct ratelimit_entry *t1 = NULL, *t2 = NULL;
	is_int(ratelimit_admit(&tk, 600, t0, &t1, &wait), RATELIMIT_RESULT_OK, "tpm 1000: an estimated 600 passes");
	is_int(ratelimit_admit(&tk, 600, t0, &t2, &wait), RATELIMIT_RESULT_TPM, "a second 600 does not (400 left)");
	ratelimit_finish(t1, 600, 100, t0);
	is_int(ratelimit_admit(&tk, 600, t0, &t2, &wait), RATELIMIT_RESULT_OK,
	    "after the upstream said 100 were used, 900 are left: it passes");
	ratelimit_finish(t2, 600, 1500, t0);
	is_int(ratelimit_admit(&tk, 1, t0, &t1, &wait), RATELIMIT_RESULT_TPM, "a 1500-token answer leaves a debt");
	is_int((int)wait, 37, "... 600 below zero + 1 at 1000/min: Retry-After 37 s");

	/* a refused request takes nothing from the other buckets */
	struct config_key both = {.name = "both", .max_class = 3, .rpm = 2, .tpm = 100};
	struct ratelimit_entry *x1 = NULL, *x2 = NULL;
	is_int(ratelimit_admit(&both, 500, t0, &x1, &wait), RATELIMIT_RESULT_OK, "rpm 2 / tpm 100: a big prompt passes on a full bucket");
	is_int(ratelimit_admit(&both, 500, t0, &x2, &wait), RATELIMIT_RESULT_TPM, "the next is refused for tokens");
	ratelimit_finish(x1, 500, -1, t0);
	struct config_key both2 = both;
	both2.tpm = 0; /* the operator lifts the token limit */
	is_int(ratelimit_admit(&both2, 500, t0, &x2, &wait), RATELIMIT_RESULT_OK,
	    "the refusal took no request from rpm: one of two is left");
	ratelimit_finish(x2, 500, -1, t0);
	ratelimit_free_all();
	tap_done();
	return tap_exit_status();
}
