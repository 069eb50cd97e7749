/* bench/audit: audit log throughput next to its storage bound, same run.
 *
 *   peer:   plain SQLite inserts of the same rows (same encoded bodies and
 *           lookup columns) in one transaction, WAL, no hashing, no signing
 *   hafen:  audit_submit() from one thread, writer thread with group
 *           commit, SHA-256 leaves, Merkle tree, Ed25519 checkpoint every
 *           10,000 records, `request` durability (fsync per group), until
 *           the last completion callback and the final checkpoint
 *   verify: audit_verify() of the result (every leaf, chain, checkpoint)
 *
 * usage: bench/audit [RECORDS [RUNS [seq|random]]]   (default 200000 3 seq);
 * prints the median of RUNS for each, as records/s (wall clock) and as CPU
 * microseconds per record (user + system of the process: steadier on a
 * shared machine). Request ids: "seq" numbers them in order (index appends),
 * "random" draws 32 hex digits like the gateway's (index inserts all over
 * the request_id index, as in production). Needs a writable /tmp (or
 * $TMPDIR). */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>

#include "gateway/audit.h"

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of the whole process so far. */
static double bench_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int bench_random_ids;
static double bench_cpu_us; /* CPU µs per record of the last measurement */

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static const struct audit_finding bench_findings[] = { { "EMAIL", 2 }, { "IBAN", 1 }, { "PERSON", 4 } };
static const char *const bench_actions[] = { "pseudonymize", "route" };

static void bench_record(struct audit_record *r, long i, char *id, size_t idlen)
{
	if (bench_random_ids) {
		/* splitmix64 of i: the same ids in every run, spread like random ones */
		static const char hex[] = "0123456789abcdef";
		uint64_t z[2];
		for (int k = 0; k < 2; k++) {
			uint64_t x = (uint64_t)i * 2 + (uint64_t)k + 0x9e3779b97f4a7c15u;
			x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
			x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
			z[k] = x ^ (x >> 31);
		}
		for (int k = 0; k < 32 && (size_t)k + 1 < idlen; k++)
			id[k] = hex[(z[k / 16] >> (4 * (k % 16))) & 15];
		id[idlen > 32 ? 32 : idlen - 1] = 0;
	} else {
		snprintf(id, idlen, "chatcmpl-%08ld", i);
	}
	memset(r, 0, sizeof *r);
	r->kind = AUDIT_KIND_REQUEST;
	r->request_id = id;
	r->t_start = 1790000000000000u + (uint64_t)i * 100;
	r->t_first_byte = r->t_start + 900;
	r->t_end = r->t_start + 4200;
	r->api_key_id = "key-0042";
	r->tenant = "finance";
	r->purpose = "invoice-assistant";
	r->subject = "3f1c5e0a9b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";
	r->client_addr = "10.20.30.0";
	r->endpoint = "/v1/chat/completions";
	r->model_requested = "qwen3-30b-a3b";
	r->model_served = "qwen3-30b-a3b-q4";
	r->upstream_id = "engine-2";
	r->upstream_location = "on_prem";
	r->data_class = "confidential";
	r->policy_hash = "9b2e41c07f3a";
	r->config_hash = "5d0c8e19a2b4";
	r->findings = bench_findings;
	r->n_findings = 3;
	r->actions = bench_actions;
	r->n_actions = 2;
	r->decision = "pseudonymize";
	r->status = 200;
	r->prompt_tokens = 812;
	r->completion_tokens = 240;
	r->error_class = "";
}

static double bench_peer(const char *path, long n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char err[AUDIT_ERR_LEN], id[64];
	unsigned char leaf[AUDIT_HASH_LEN] = { 0 };
	unlink(path);
	if (!(db = audit_db_open(path, 0, err, sizeof err)))
		return -1;
	sqlite3_prepare_v2(db, "INSERT INTO audit_records(seq, leaf, body, kind, request_id, subject, purpose,"
	    " data_class, t_start) VALUES(?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	double t0 = bench_now(), c0 = bench_cpu();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (long i = 0; i < n; i++) {
		struct audit_record r;
		unsigned char *body;
		size_t len;
		bench_record(&r, i, id, sizeof id);
		r.seq = (uint64_t)i;
		if (audit_record_encode(&r, &body, &len, err, sizeof err) < 0)
			return -1;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, i);
		sqlite3_bind_blob(st, 2, leaf, AUDIT_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, body, (int)len, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, r.kind);
		sqlite3_bind_text(st, 5, r.request_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, r.subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, r.purpose, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, r.data_class, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)r.t_start);
		sqlite3_step(st);
		free(body);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	double t = bench_now() - t0;
	bench_cpu_us = (bench_cpu() - c0) / (double)n * 1e6;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)n / t;
}

static pthread_mutex_t bench_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bench_cv = PTHREAD_COND_INITIALIZER;
static long bench_acked, bench_failed;

static void bench_done(void *arg, int status, uint64_t seq)
{
	(void)arg;
	(void)seq;
	pthread_mutex_lock(&bench_mu);
	if (status == 0)
		bench_acked++;
	else
		bench_failed++;
	pthread_cond_signal(&bench_cv);
	pthread_mutex_unlock(&bench_mu);
}

static double bench_hafen(const char *dir, long n)
{
	char db[600], cp[600], key[600], err[AUDIT_ERR_LEN], id[64];
	struct audit_config c;
	snprintf(db, sizeof db, "%s/b.db", dir);
	snprintf(cp, sizeof cp, "%s/b.cp", dir);
	snprintf(key, sizeof key, "%s/sign.key", dir);
	unlink(db);
	unlink(cp);
	audit_config_defaults(&c);
	c.db_path = db;
	c.checkpoint_path = cp;
	c.signing_key_path = key;
	c.checkpoint_every = 10000;
	c.queue_max = (uint32_t)n + 1;
	struct audit_log *log = audit_open(&c, err, sizeof err);
	if (!log) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	bench_acked = bench_failed = 0;
	double t0 = bench_now(), c0 = bench_cpu();
	for (long i = 0; i < n; i++) {
		struct audit_record r;
		bench_record(&r, i, id, sizeof id);
		if (audit_submit(log, &r, NULL, 0, AUDIT_DURABILITY_REQUEST, bench_done, NULL) < 0)
			return -1;
	}
	pthread_mutex_lock(&bench_mu);
	while (bench_acked + bench_failed < n)
		pthread_cond_wait(&bench_cv, &bench_mu);
	pthread_mutex_unlock(&bench_mu);
	audit_close(log); /* includes the final signed checkpoint */
	double t = bench_now() - t0;
	bench_cpu_us = (bench_cpu() - c0) / (double)n * 1e6;
	return bench_failed ? -1 : (double)n / t;
}

static double bench_verify(const char *dir, long n)
{
	char db[600], cp[600], pub[600];
	struct audit_verify_result res;
	snprintf(db, sizeof db, "%s/b.db", dir);
	snprintf(cp, sizeof cp, "%s/b.cp", dir);
	snprintf(pub, sizeof pub, "%s/sign.pub", dir);
	double t0 = bench_now(), c0 = bench_cpu();
	if (audit_verify(db, cp, pub, &res) < 0 || res.records != (uint64_t)n) {
		fprintf(stderr, "bench: verify: %s\n", res.msg);
		return -1;
	}
	double t = bench_now() - t0;
	bench_cpu_us = (bench_cpu() - c0) / (double)n * 1e6;
	return (double)n / t;
}

static int bench_keys(const char *dir)
{
	char p[600];
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f;
	int ok = k != NULL;
	snprintf(p, sizeof p, "%s/sign.key", dir);
	if (ok && (f = fopen(p, "w"))) {
		ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		fclose(f);
	}
	snprintf(p, sizeof p, "%s/sign.pub", dir);
	if (ok && (f = fopen(p, "w"))) {
		ok = PEM_write_PUBKEY(f, k);
		fclose(f);
	}
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[256], peer[600], cmd[700];
	double p[16], h[16], v[16], pc[16], hc[16], vc[16];
	bench_random_ids = argc > 3 && strcmp(argv[3], "random") == 0;
	if (n < 1 || runs < 1 || runs > 16 || (argc > 3 && !bench_random_ids && strcmp(argv[3], "seq") != 0)) {
		fprintf(stderr, "usage: bench/audit [RECORDS [RUNS<=16 [seq|random]]]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/hafen-bench-audit-XXXXXX", tmp);
	if (!mkdtemp(dir) || bench_keys(dir) < 0) {
		fprintf(stderr, "bench: cannot set up %s\n", dir);
		return 1;
	}
	snprintf(peer, sizeof peer, "%s/peer.db", dir);
	for (int i = 0; i < runs; i++) {
		p[i] = bench_peer(peer, n);
		pc[i] = bench_cpu_us;
		h[i] = bench_hafen(dir, n);
		hc[i] = bench_cpu_us;
		v[i] = bench_verify(dir, n);
		vc[i] = bench_cpu_us;
		if (p[i] < 0 || h[i] < 0 || v[i] < 0) {
			fprintf(stderr, "bench: run %d failed\n", i);
			return 1;
		}
	}
	qsort(p, (size_t)runs, sizeof p[0], bench_cmp);
	qsort(h, (size_t)runs, sizeof h[0], bench_cmp);
	qsort(v, (size_t)runs, sizeof v[0], bench_cmp);
	qsort(pc, (size_t)runs, sizeof pc[0], bench_cmp);
	qsort(hc, (size_t)runs, sizeof hc[0], bench_cmp);
	qsort(vc, (size_t)runs, sizeof vc[0], bench_cmp);
	printf("records %ld, runs %d (medians), %s request ids\n", n, runs, bench_random_ids ? "random" : "sequential");
	printf("peer  sqlite plain inserts, one transaction : %10.0f records/s, %6.2f CPU us/record\n", p[runs / 2],
	    pc[runs / 2]);
	printf("hafen audit write, group commit + signing  : %10.0f records/s, %6.2f CPU us/record (%.2f of peer)\n",
	    h[runs / 2], hc[runs / 2], h[runs / 2] / p[runs / 2]);
	printf("hafen audit verify                          : %10.0f records/s, %6.2f CPU us/record\n", v[runs / 2],
	    vc[runs / 2]);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
