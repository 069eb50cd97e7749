/* Usage accounting. A finished request adds to an in-memory sum for its
 * (minute, key, tenant, purpose, model, upstream); sums live in
 * USAGE_STRIPES stripes, each with its own mutex, so workers rarely meet.
 * The writer thread takes each stripe's sums (swapping in an empty map
 * under the lock) every flush interval and adds them to the usage table
 * in one transaction (INSERT ... ON CONFLICT DO UPDATE), off the event
 * loop. The usage table lives in its own file or in the key store's
 * (config usage_store / key_store); rows are per minute, which is what
 * `hafenctl usage --from --to` can resolve. No prompt text is involved:
 * only names and counts. */
#include "usage.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "filter.h"
#include "gwconfig.h"

#define USAGE_STRIPES 16
#define USAGE_CHAINS 64
#define USAGE_FIELD_MAX 128

struct usage_sum {
	struct usage_sum *next;
	uint64_t hash;
	int64_t minute;
	uint64_t requests, errors, prompt_tokens, completion_tokens, estimated;
	const char *field[5]; /* key, tenant, purpose, model, upstream: into data */
	char data[];
};

struct usage_stripe {
	pthread_mutex_t lock;
	struct usage_sum *chains[USAGE_CHAINS];
	char pad[64];
};

static struct usage_stripe usage_stripes[USAGE_STRIPES];
static pthread_t usage_thread;
static pthread_mutex_t usage_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t usage_cond = PTHREAD_COND_INITIALIZER;
static int usage_running, usage_stopping;
static long usage_flush_ms;
static sqlite3 *usage_db;
static unsigned long usage_dropped; /* sums lost to out of memory or a write error */
static void (*usage_warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char usage_schema[] =
    "CREATE TABLE IF NOT EXISTS usage("
    " minute INTEGER NOT NULL, key TEXT NOT NULL, tenant TEXT NOT NULL, purpose TEXT NOT NULL,"
    " model TEXT NOT NULL, upstream TEXT NOT NULL, requests INTEGER NOT NULL DEFAULT 0,"
    " errors INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,"
    " completion_tokens INTEGER NOT NULL DEFAULT 0, estimated INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(minute, key, tenant, purpose, model, upstream)) WITHOUT ROWID;";

int usage_db_prepare(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, usage_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "usage table: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int usage_active(void)
{
	return usage_running;
}

/* FNV-1a 64 over the fields and the minute. */
static uint64_t usage_hash(const char *const f[5], int64_t minute)
{
	uint64_t h = 14695981039346656037ULL ^ (uint64_t)minute;
	for (int i = 0; i < 5; i++) {
		for (const char *s = f[i]; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 1099511628211ULL;
		}
		h ^= 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

void usage_record(const struct config_key *k, const char *model, const char *upstream, int status,
    uint64_t prompt_tokens, uint64_t completion_tokens, int estimated)
{
	if (!usage_running || !k)
		return;
	const char *f[5] = {k->name, k->tenant, k->purpose, model ? model : "", upstream ? upstream : ""};
	size_t len[5], total = 0;
	for (int i = 0; i < 5; i++) {
		len[i] = strnlen(f[i], USAGE_FIELD_MAX);
		total += len[i] + 1;
	}
	char cut[5][USAGE_FIELD_MAX + 1];
	for (int i = 0; i < 5; i++)
		if (f[i][len[i]]) { /* longer than the limit: counted under its prefix */
			memcpy(cut[i], f[i], len[i]);
			cut[i][len[i]] = 0;
			f[i] = cut[i];
		}
	int64_t minute = (int64_t)time(NULL) / 60;
	uint64_t h = usage_hash(f, minute);
	struct usage_stripe *st = &usage_stripes[h % USAGE_STRIPES];
	pthread_mutex_lock(&st->lock);
	struct usage_sum **chain = &st->chains[(h >> 8) % USAGE_CHAINS], *s;
	for (s = *chain; s; s = s->next) {
		int same = s->hash == h && s->minute == minute;
		for (int i = 0; same && i < 5; i++)
			same = strcmp(s->field[i], f[i]) == 0;
		if (same)
			break;
	}
	if (!s && (s = calloc(1, sizeof *s + total))) {
		char *p = s->data;
		for (int i = 0; i < 5; i++) {
			memcpy(p, f[i], len[i] + 1);
			s->field[i] = p;
			p += len[i] + 1;
		}
		s->hash = h;
		s->minute = minute;
		s->next = *chain;
		*chain = s;
	}
	if (s) {
		s->requests++;
		s->errors += status >= 400;
		s->prompt_tokens += prompt_tokens;
		s->completion_tokens += completion_tokens;
		s->estimated += estimated != 0;
	} else {
		usage_dropped++;
	}
	pthread_mutex_unlock(&st->lock);
}

/* Takes every stripe's sums and adds them to the table. */
static void usage_flush(void)
{
	struct usage_sum *all = NULL;
	for (int i = 0; i < USAGE_STRIPES; i++) {
		struct usage_stripe *st = &usage_stripes[i];
		pthread_mutex_lock(&st->lock);
		for (int c = 0; c < USAGE_CHAINS; c++) {
			struct usage_sum *s = st->chains[c], *next;
			for (; s; s = next) {
				next = s->next;
				s->next = all;
				all = s;
			}
			st->chains[c] = NULL;
		}
		pthread_mutex_unlock(&st->lock);
	}
	if (!all)
		return;
	sqlite3_stmt *ins = NULL;
	int ok = sqlite3_exec(usage_db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(usage_db, "INSERT INTO usage(minute, key, tenant, purpose, model, upstream, requests,"
	        " errors, prompt_tokens, completion_tokens, estimated) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
	        " ON CONFLICT(minute, key, tenant, purpose, model, upstream) DO UPDATE SET"
	        " requests = requests + excluded.requests, errors = errors + excluded.errors,"
	        " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
	        " completion_tokens = completion_tokens + excluded.completion_tokens,"
	        " estimated = estimated + excluded.estimated", -1, &ins, NULL) == SQLITE_OK;
	unsigned long n = 0;
	for (struct usage_sum *s = all; ok && s; s = s->next, n++) {
		sqlite3_bind_int64(ins, 1, s->minute);
		for (int i = 0; i < 5; i++)
			sqlite3_bind_text(ins, 2 + i, s->field[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 7, (sqlite3_int64)s->requests);
		sqlite3_bind_int64(ins, 8, (sqlite3_int64)s->errors);
		sqlite3_bind_int64(ins, 9, (sqlite3_int64)s->prompt_tokens);
		sqlite3_bind_int64(ins, 10, (sqlite3_int64)s->completion_tokens);
		sqlite3_bind_int64(ins, 11, (sqlite3_int64)s->estimated);
		ok = sqlite3_step(ins) == SQLITE_DONE;
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	if (ok)
		ok = sqlite3_exec(usage_db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	if (!ok) {
		usage_dropped += n;
		if (usage_warn)
			usage_warn("usage: cannot write %lu sums (%lu lost so far): %s", n, usage_dropped,
			    sqlite3_errmsg(usage_db));
		sqlite3_exec(usage_db, "ROLLBACK", NULL, NULL, NULL);
	}
	while (all) {
		struct usage_sum *next = all->next;
		free(all);
		all = next;
	}
}

static void *usage_writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&usage_lock);
	while (!usage_stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += usage_flush_ms / 1000;
		ts.tv_nsec += (usage_flush_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&usage_cond, &usage_lock, &ts);
		pthread_mutex_unlock(&usage_lock);
		usage_flush();
		pthread_mutex_lock(&usage_lock);
	}
	pthread_mutex_unlock(&usage_lock);
	return NULL;
}

int usage_start(const char *path, long flush_ms, void (*warn)(const char *fmt, ...), char *err, size_t errlen)
{
	if (usage_running)
		return 0;
	usage_warn = warn;
	for (int i = 0; i < USAGE_STRIPES; i++)
		pthread_mutex_init(&usage_stripes[i].lock, NULL);
	usage_flush_ms = flush_ms > 0 ? flush_ms : 1000;
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &usage_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(usage_db, 5000);
		rc = sqlite3_exec(usage_db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK || usage_db_prepare(usage_db, err, errlen) < 0) {
		if (rc != SQLITE_OK)
			snprintf(err, errlen, "usage store %s: %s", path, usage_db ? sqlite3_errmsg(usage_db) : "cannot open");
		sqlite3_close(usage_db);
		usage_db = NULL;
		return -1;
	}
	usage_stopping = 0;
	if (pthread_create(&usage_thread, NULL, usage_writer, NULL) != 0) {
		snprintf(err, errlen, "cannot start the usage writer: %s", strerror(errno));
		sqlite3_close(usage_db);
		usage_db = NULL;
		return -1;
	}
	usage_running = 1;
	return 0;
}

void usage_stop(void)
{
	if (!usage_running)
		return;
	pthread_mutex_lock(&usage_lock);
	usage_stopping = 1;
	pthread_cond_signal(&usage_cond);
	pthread_mutex_unlock(&usage_lock);
	pthread_join(usage_thread, NULL);
	usage_flush(); /* what came in during the last pass */
	usage_running = 0;
	sqlite3_close(usage_db);
	usage_db = NULL;
}

/* ---- the filter row ---- */

struct usage_filter_state {
	char model[USAGE_FIELD_MAX + 1];
};

static int usage_filter_on_request(struct filter_exchange *x, void **state)
{
	if (!usage_running || !x->key)
		return 0;
	if (!x->model)
		return 0;
	struct usage_filter_state *st = *state ? *state : calloc(1, sizeof *st);
	if (!st)
		return 0; /* counted without a model name */
	*state = st;
	snprintf(st->model, sizeof st->model, "%s", x->model);
	return 0;
}

/* The token counts of a JSON answer, unless an earlier filter found them. */
static int usage_filter_on_body(struct filter_exchange *x, void **state, struct evbuffer *body)
{
	struct filter_policy_info *pi = &x->policy_info;
	if (!x->key || pi->prompt_tokens || pi->completion_tokens || (!usage_running && !x->key->tpm))
		return 0;
	json_t *j = json_loadb((const char *)evbuffer_pullup(body, -1), evbuffer_get_length(body), 0, NULL);
	json_t *u = json_object_get(j, "usage");
	json_t *pt = json_object_get(u, "prompt_tokens"), *ct = json_object_get(u, "completion_tokens");
	if (json_is_integer(pt) && json_integer_value(pt) >= 0)
		pi->prompt_tokens = (uint64_t)json_integer_value(pt);
	if (json_is_integer(ct) && json_integer_value(ct) >= 0)
		pi->completion_tokens = (uint64_t)json_integer_value(ct);
	json_decref(j);
	return 0;
}

/* A stream's usage chunk (stream_options.include_usage, or engines that
 * always send one), unless the policy filter already read it. */
static void usage_filter_on_event_seen(struct filter_exchange *x, void **state, const struct sse_event *ev)
{
	(void)state;
	struct filter_policy_info *pi = &x->policy_info;
	if (!x->key || !ev->has_data || ev->is_done || (!usage_running && !x->key->tpm) ||
	    !memmem(ev->data, ev->data_len, "\"usage\"", 7))
		return;
	json_t *j = json_loadb(ev->data, ev->data_len, 0, NULL);
	json_t *u = json_object_get(j, "usage");
	json_t *pt = json_object_get(u, "prompt_tokens"), *ct = json_object_get(u, "completion_tokens");
	if (json_is_integer(pt) && json_integer_value(pt) >= 0 && !pi->prompt_tokens)
		pi->prompt_tokens = (uint64_t)json_integer_value(pt);
	if (json_is_integer(ct) && json_integer_value(ct) >= 0 && !pi->completion_tokens)
		pi->completion_tokens = (uint64_t)json_integer_value(ct);
	json_decref(j);
}

static void usage_filter_on_done(struct filter_exchange *x, void **state)
{
	struct usage_filter_state *st = *state;
	*state = NULL;
	if (usage_running && x->key) {
		const struct filter_policy_info *pi = &x->policy_info;
		int known = pi->prompt_tokens || pi->completion_tokens;
		/* Refused by hafen itself (limits, purpose, policy block, routing):
		 * no upstream saw it, so it used no tokens; it counts as a request
		 * and an error (docs/keys.md "Usage"). */
		int sent = x->upstream != NULL;
		usage_record(x->key, st ? st->model : "", x->upstream, x->status,
		    known ? pi->prompt_tokens : sent ? x->prompt_estimate : 0, known ? pi->completion_tokens : 0,
		    !known && sent);
	}
	free(st);
}

const struct filter_ops usage_filter_ops = {
	.name = "usage",
	.on_request = usage_filter_on_request,
	.on_body = usage_filter_on_body,
	.on_done = usage_filter_on_done,
	.on_event_seen = usage_filter_on_event_seen,
};
