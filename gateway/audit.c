/* The audit log: SQLite schema, the submit queue and the writer thread.
 *
 * The event loop only encodes the record and links it into a queue; one
 * writer thread takes everything queued, commits it in one transaction
 * (group commit, WAL), then runs the completion callbacks and, every N
 * records or T seconds, signs a checkpoint. A failed commit rolls back the
 * chain state, fails every callback of the batch and marks the log
 * unhealthy until a later commit succeeds: nothing is ever acknowledged
 * that is not on disk. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "gateway/audit.h"

/* "batch" records wait up to this long for more to share their commit: one
 * wake-up of the writer and one transaction per group instead of per
 * record. A record someone waits for ("request"), a full group or close
 * ends the wait at once. */
#define AUDIT_BATCH_DELAY_NS (50 * 1000000L)
#define AUDIT_BATCH_RECORDS 1024

/* Queued records live in slabs: the submitting thread encodes a record on
 * its stack and copies it behind the last one of the tail slab under the
 * lock, the writer takes the whole chain and hands the slabs back for
 * reuse. No allocation per record on either side (a malloc on the loop
 * and its free on the writer thread cost more than the encoding), and
 * the writer reads the records in one sweep of memory. */
#define AUDIT_SLAB_BYTES (64 * 1024)
#define AUDIT_SLABS_KEPT 8
/* Longest subject a capture is keyed by (pseudonyms are 64 hex digits). */
#define AUDIT_SUBJECT_MAX 255

struct audit_slab {
	struct audit_slab *next;
	size_t used, cap;
	unsigned char data[]; /* struct audit_entry, body, padding, ... */
};

/* One queued record; its encoding (content field empty) follows. The
 * lookup columns and the capture's key (subject) and AAD (request id) are
 * read from the encoding (audit_record_index). */
struct audit_entry {
	uint32_t size; /* of the entry, header included, a multiple of 8 */
	uint32_t len;  /* of the encoding */
	enum audit_durability durability;
	audit_done_fn done;
	void *arg;
	unsigned char *capture; /* malloc'd content to capture, or NULL */
	size_t capture_len;
};
#define AUDIT_ENTRY_HDR ((sizeof(struct audit_entry) + 7) & ~(size_t)7)

static unsigned char *audit_entry_body(struct audit_entry *e)
{
	return (unsigned char *)e + AUDIT_ENTRY_HDR;
}

struct audit_log {
	struct audit_config cfg;
	sqlite3 *db;
	sqlite3_stmt *ins, *tail, *since, *getkey, *putkey;
	EVP_PKEY *sign_key;
	unsigned char master[AUDIT_KEY_LEN];
	int have_master;
	unsigned char hmac[AUDIT_KEY_LEN];
	int have_hmac;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct audit_slab *head, *last; /* queued records, in order */
	struct audit_slab *spare;       /* emptied slabs for reuse */
	unsigned n_spare;
	uint64_t queued;
	int stop;
	int idle;   /* the writer waits on an empty queue: the next submit wakes it */
	int urgent; /* a "request" record is queued: commit without the batch delay */

	/* writer thread only */
	int sync_full; /* synchronous=FULL in force (-1: not set yet) */
	uint64_t next_seq;
	unsigned char last_leaf[AUDIT_HASH_LEN];
	struct audit_merkle_stack tree;
	uint64_t cp_size;
	time_t cp_time;
	uint64_t cp_stamp; /* time in the last checkpoint: never go back */

	/* under mu */
	struct audit_health health;
	/* health.ok for audit_writable(), read on every request without mu */
	atomic_int writable;
};

/* No index on request_id: request ids are random, so every insert would
 * dirty a different index page (one WAL page write per record, two thirds
 * of what the log cost the gateway: docs/benchmarks.md), and the only
 * lookup by id (audit_prove) reads every leaf of the table anyway.
 * Databases created before keep their audit_records_request index. */
static const char audit_schema[] =
    "CREATE TABLE IF NOT EXISTS audit_records("
    " seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL, body BLOB,"
    " kind INTEGER NOT NULL, request_id TEXT, subject TEXT, purpose TEXT,"
    " data_class TEXT, t_start INTEGER);"
    /* No index on subject either: pseudonyms are random too, so with many
     * end users every record of a group dirtied its own index page (5.4
     * instead of 1.1 KB written per record with 1,000 users, and growing
     * with the index: docs/benchmarks.md). The one lookup by subject, a
     * GDPR Art. 15 export, scans the table like reports and purges do
     * (0.4 s per million records); erasure works on the key table.
     * Databases made before lose the indexes of earlier versions here. */
    "DROP INDEX IF EXISTS audit_records_subject_set;"
    "DROP INDEX IF EXISTS audit_records_subject;"
    "CREATE TABLE IF NOT EXISTS audit_subject_keys("
    " subject TEXT PRIMARY KEY, wrapped BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_holds("
    " subject TEXT PRIMARY KEY, reason TEXT NOT NULL, since INTEGER NOT NULL);";

int audit_db_init(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, audit_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "audit schema: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *audit_db_open(const char *path, int readonly, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/* secure_delete: erased keys and purged content are overwritten in the
	 * file, not left in free pages (GDPR Art. 17). */
	const char *pragmas = readonly ? "PRAGMA secure_delete=ON;" :
	    /* 16 KiB pages (new databases only): a quarter of the WAL writes
	     * and checkpoint copies per record of 4 KiB pages, 0.6-1 CPU µs
	     * less per record on the writer (docs/benchmarks.md) */
	    "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL;"
	    " PRAGMA cache_size=-8192;" /* 8 MiB: a group of AUDIT_BATCH_RECORDS dirties ~40 pages */
	    " PRAGMA wal_autocheckpoint=256;"; /* 4 MiB of WAL as with 4 KiB pages: a short recovery after a crash */
	char *msg = NULL;
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
	    (!readonly && audit_db_init(db, err, errlen) < 0)) {
		if (msg)
			snprintf(err, errlen, "%s: %s", path, msg);
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	if (readonly) {
		sqlite3_stmt *st = NULL;
		int ok = sqlite3_prepare_v2(db, "SELECT 1 FROM audit_records LIMIT 1", -1, &st, NULL) == SQLITE_OK;
		sqlite3_finalize(st);
		if (!ok) {
			snprintf(err, errlen, "%s: not an audit database (%s)", path, sqlite3_errmsg(db));
			sqlite3_close(db);
			return NULL;
		}
	}
	return db;
}

/* Binds a row: the lookup columns are read from the encoding itself, so
 * they cannot differ from what the leaf hash covers. */
static int audit_bind_insert(sqlite3_stmt *ins, uint64_t seq,
    const unsigned char leaf[AUDIT_HASH_LEN], const unsigned char *body, size_t len)
{
	const unsigned char *v[AUDIT_TAG_DATA_CLASS + 1];
	size_t vl[AUDIT_TAG_DATA_CLASS + 1];
	if (audit_record_index(body, len, AUDIT_TAG_DATA_CLASS, v, vl) < 0 || vl[AUDIT_TAG_T_START] != 8)
		return -1;
	uint64_t t_start = 0;
	for (int i = 0; i < 8; i++)
		t_start = t_start << 8 | v[AUDIT_TAG_T_START][i];
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(ins, 2, leaf, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 3, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(ins, 4, body[AUDIT_RECORD_HEADER_LEN - 1]); /* kind */
	static const int col[4][2] = { { 5, AUDIT_TAG_REQUEST_ID }, { 6, AUDIT_TAG_SUBJECT },
		{ 7, AUDIT_TAG_PURPOSE }, { 8, AUDIT_TAG_DATA_CLASS } };
	for (int i = 0; i < 4; i++)
		sqlite3_bind_text(ins, col[i][0], (const char *)v[col[i][1]], (int)vl[col[i][1]], SQLITE_STATIC);
	sqlite3_bind_int64(ins, 9, (sqlite3_int64)t_start);
	return sqlite3_step(ins) == SQLITE_DONE ? 0 : -1;
}

#define AUDIT_SQL_INSERT \
	"INSERT INTO audit_records(seq, leaf, body, kind, request_id, subject, purpose, data_class, t_start)" \
	" VALUES(?,?,?,?,?,?,?,?,?)"

/* Reads the chain tail: next seq and last leaf. */
static int audit_db_tail(sqlite3 *db, uint64_t *next, unsigned char leaf[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT seq, leaf FROM audit_records ORDER BY seq DESC LIMIT 1",
	        -1, &st, NULL) != SQLITE_OK)
		return -1;
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		*next = 0;
		memset(leaf, 0, AUDIT_HASH_LEN);
		rc = 0;
	} else if (s == SQLITE_ROW && sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN) {
		*next = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		memcpy(leaf, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int64_t audit_db_append(sqlite3 *db, const struct audit_record *rec, char *err,
    size_t errlen)
{
	struct audit_record r = *rec;
	unsigned char *body = NULL, leaf[AUDIT_HASH_LEN];
	size_t len;
	sqlite3_stmt *ins = NULL;
	int64_t seq = -1;
	/* inside the caller's transaction, the event commits or rolls back
	 * with the caller's change (erasure: key deletion and event together) */
	int own = sqlite3_get_autocommit(db);

	if (own && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit log: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (audit_db_tail(db, &r.seq, r.prev) < 0) {
		snprintf(err, errlen, "audit log: cannot read the tail: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (audit_record_encode(&r, &body, &len, err, errlen) < 0)
		goto fail;
	audit_merkle_leaf_hash(body, len, leaf);
	if (sqlite3_prepare_v2(db, AUDIT_SQL_INSERT, -1, &ins, NULL) != SQLITE_OK ||
	    audit_bind_insert(ins, r.seq, leaf, body, len) < 0 ||
	    (own && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
		snprintf(err, errlen, "audit log: %s", sqlite3_errmsg(db));
		goto fail;
	}
	seq = (int64_t)r.seq;
	sqlite3_finalize(ins);
	free(body);
	return seq;
fail:
	sqlite3_finalize(ins);
	free(body);
	if (own)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Wipes and frees a capture that was never sealed. */
static void audit_entry_drop_capture(struct audit_entry *e)
{
	if (e->capture) {
		explicit_bzero(e->capture, e->capture_len);
		free(e->capture);
		e->capture = NULL;
	}
}

/* Under mu: keeps a few emptied slabs for the next records. */
static void audit_slab_recycle(struct audit_log *log, struct audit_slab *sl)
{
	while (sl) {
		struct audit_slab *next = sl->next;
		if (sl->cap == AUDIT_SLAB_BYTES && log->n_spare < AUDIT_SLABS_KEPT) {
			sl->used = 0;
			sl->next = log->spare;
			log->spare = sl;
			log->n_spare++;
		} else {
			free(sl);
		}
		sl = next;
	}
}

static void audit_set_error(struct audit_log *log, const char *msg)
{
	pthread_mutex_lock(&log->mu);
	log->health.ok = 0;
	atomic_store_explicit(&log->writable, 0, memory_order_relaxed);
	snprintf(log->health.last_error, sizeof log->health.last_error, "%s", msg);
	pthread_mutex_unlock(&log->mu);
}

/* Returns the subject's data key, creating and wrapping one on first use. */
static int audit_subject_key(struct audit_log *log, const char *subject,
    unsigned char dk[AUDIT_KEY_LEN])
{
	unsigned char wrapped[AUDIT_WRAPPED_LEN];
	int rc = -1;
	sqlite3_reset(log->getkey);
	sqlite3_bind_text(log->getkey, 1, subject, -1, SQLITE_STATIC);
	if (sqlite3_step(log->getkey) == SQLITE_ROW) {
		if (sqlite3_column_bytes(log->getkey, 0) == AUDIT_WRAPPED_LEN) {
			memcpy(wrapped, sqlite3_column_blob(log->getkey, 0), AUDIT_WRAPPED_LEN);
			rc = audit_crypto_unwrap(log->master, subject, wrapped, dk);
		}
		sqlite3_reset(log->getkey);
		return rc;
	}
	sqlite3_reset(log->getkey);
	if (RAND_bytes(dk, AUDIT_KEY_LEN) != 1 || audit_crypto_wrap(log->master, subject, dk, wrapped) < 0)
		return -1;
	sqlite3_reset(log->putkey);
	sqlite3_bind_text(log->putkey, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_blob(log->putkey, 2, wrapped, AUDIT_WRAPPED_LEN, SQLITE_STATIC);
	rc = sqlite3_step(log->putkey) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(log->putkey);
	if (rc < 0)
		explicit_bzero(dk, AUDIT_KEY_LEN);
	return rc;
}

/* The record with its content field holding the sealed capture, in a
 * new buffer (*out, malloc'd): the subject's data key encrypts it, the
 * request id is the AAD. */
static int audit_seal_capture(struct audit_log *log, struct audit_entry *e,
    unsigned char **out, size_t *out_len)
{
	const unsigned char *body = audit_entry_body(e), *v[AUDIT_TAG_DATA_CLASS + 1];
	size_t vl[AUDIT_TAG_DATA_CLASS + 1], ct_len = e->capture_len + AUDIT_GCM_OVERHEAD;
	unsigned char dk[AUDIT_KEY_LEN];
	char subject[AUDIT_SUBJECT_MAX + 1];
	if (!log->have_master || audit_record_index(body, e->len, AUDIT_TAG_DATA_CLASS, v, vl) < 0 ||
	    vl[AUDIT_TAG_SUBJECT] > AUDIT_SUBJECT_MAX)
		return -1;
	memcpy(subject, v[AUDIT_TAG_SUBJECT], vl[AUDIT_TAG_SUBJECT]);
	subject[vl[AUDIT_TAG_SUBJECT]] = 0;
	if (audit_subject_key(log, subject, dk) < 0)
		return -1;
	unsigned char *nb = malloc(e->len + ct_len);
	if (!nb) {
		explicit_bzero(dk, sizeof dk);
		return -1;
	}
	memcpy(nb, body, e->len);
	int rc = audit_crypto_seal(dk, v[AUDIT_TAG_REQUEST_ID], vl[AUDIT_TAG_REQUEST_ID],
	    e->capture, e->capture_len, nb + e->len);
	explicit_bzero(dk, sizeof dk);
	if (rc < 0) {
		free(nb);
		return -1;
	}
	unsigned char *lenp = nb + e->len - 4;
	lenp[0] = (unsigned char)(ct_len >> 24);
	lenp[1] = (unsigned char)(ct_len >> 16);
	lenp[2] = (unsigned char)(ct_len >> 8);
	lenp[3] = (unsigned char)ct_len;
	*out = nb;
	*out_len = e->len + ct_len;
	audit_entry_drop_capture(e);
	return 0;
}

/* Brings the in-memory tail up to date with rows appended by another
 * process (hafenctl subject erase, audit purge) since the last batch. */
static int audit_sync_tail(struct audit_log *log)
{
	sqlite3_reset(log->since);
	sqlite3_bind_int64(log->since, 1, (sqlite3_int64)log->next_seq);
	int s;
	while ((s = sqlite3_step(log->since)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(log->since, 0) != log->next_seq ||
		    sqlite3_column_bytes(log->since, 1) != AUDIT_HASH_LEN) {
			sqlite3_reset(log->since);
			return -1;
		}
		memcpy(log->last_leaf, sqlite3_column_blob(log->since, 1), AUDIT_HASH_LEN);
		audit_merkle_stack_push(&log->tree, log->last_leaf);
		log->next_seq++;
	}
	sqlite3_reset(log->since);
	return s == SQLITE_DONE ? 0 : -1;
}

static void audit_checkpoint_now(struct audit_log *log)
{
	struct audit_checkpoint cp;
	char err[AUDIT_ERR_LEN];
	if (!log->sign_key || log->tree.size == log->cp_size)
		return;
	cp.size = log->tree.size;
	audit_merkle_stack_root(&log->tree, cp.root);
	cp.time = (uint64_t)time(NULL);
	if (cp.time < log->cp_stamp) /* the clock stepped back */
		cp.time = log->cp_stamp;
	if (audit_checkpoint_sign(&cp, log->sign_key, err, sizeof err) < 0 ||
	    audit_checkpoint_append(log->cfg.checkpoint_path, &cp, err, sizeof err) < 0) {
		/* records are safe in the database; the next attempt comes after
		 * the next group or checkpoint_seconds, not in a busy loop */
		log->cp_time = time(NULL);
		pthread_mutex_lock(&log->mu);
		log->health.checkpoint_errors++;
		snprintf(log->health.last_error, sizeof log->health.last_error, "%s", err);
		pthread_mutex_unlock(&log->mu);
		return;
	}
	log->cp_size = cp.size;
	log->cp_stamp = cp.time;
	log->cp_time = time(NULL);
	pthread_mutex_lock(&log->mu);
	log->health.checkpoints++;
	pthread_mutex_unlock(&log->mu);
}

/* Calls f on every queued entry of the chain, in order. */
#define AUDIT_FOR_EACH_ENTRY(batch, sl, e) \
	for (struct audit_slab *sl = (batch); sl; sl = sl->next) \
		for (struct audit_entry *e = (struct audit_entry *)sl->data; \
		     (unsigned char *)e < sl->data + sl->used; \
		     e = (struct audit_entry *)((unsigned char *)e + e->size))

/* One group commit. */
static void audit_write_batch(struct audit_log *log, struct audit_slab *batch)
{
	uint64_t n = 0, seq0, count = 0;
	unsigned char leaf0[AUDIT_HASH_LEN];
	struct audit_merkle_stack tree0;
	int need_full = 0, failed = 0;
	char why[AUDIT_ERR_LEN] = "";

	AUDIT_FOR_EACH_ENTRY(batch, sl, e) {
		need_full |= e->durability == AUDIT_DURABILITY_REQUEST;
		count++;
	}
	/* request durability: fsync the WAL at commit; batch: WAL without
	 * fsync survives a process crash, the next FULL commit syncs it. */
	if (log->sync_full != need_full &&
	    sqlite3_exec(log->db, need_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
	        NULL, NULL, NULL) == SQLITE_OK)
		log->sync_full = need_full;
	if (sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, sizeof why, "audit log: begin: %s", sqlite3_errmsg(log->db));
		failed = 1;
	} else if (audit_sync_tail(log) < 0) {
		snprintf(why, sizeof why, "audit log: chain tail unreadable: %s", sqlite3_errmsg(log->db));
		failed = 1;
	}
	seq0 = log->next_seq;
	memcpy(leaf0, log->last_leaf, AUDIT_HASH_LEN);
	tree0 = log->tree;
	AUDIT_FOR_EACH_ENTRY(batch, sl, e) {
		if (failed)
			break;
		unsigned char leaf[AUDIT_HASH_LEN], *body = audit_entry_body(e), *sealed = NULL;
		size_t len = e->len;
		if (e->capture && audit_seal_capture(log, e, &sealed, &len) < 0) {
			snprintf(why, sizeof why, "audit log: cannot encrypt captured content (master key or subject key)");
			failed = 1;
			break;
		}
		if (sealed)
			body = sealed;
		audit_record_set_chain(body, log->next_seq, log->last_leaf);
		audit_merkle_leaf_hash(body, len, leaf);
		int rc = audit_bind_insert(log->ins, log->next_seq, leaf, body, len);
		sqlite3_reset(log->ins);
		free(sealed); /* ciphertext only: nothing to wipe */
		if (rc < 0) {
			snprintf(why, sizeof why, "audit log: insert: %s", sqlite3_errmsg(log->db));
			failed = 1;
			break;
		}
		audit_merkle_stack_push(&log->tree, leaf);
		memcpy(log->last_leaf, leaf, AUDIT_HASH_LEN);
		log->next_seq++;
		n++;
	}
	if (!failed && sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, sizeof why, "audit log: commit: %s", sqlite3_errmsg(log->db));
		failed = 1;
	}
	if (failed) {
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		log->next_seq = seq0;
		memcpy(log->last_leaf, leaf0, AUDIT_HASH_LEN);
		log->tree = tree0;
		audit_set_error(log, why);
	}
	uint64_t seq = seq0;
	/* health first: a callback may read it to decide on 503 */
	pthread_mutex_lock(&log->mu);
	if (failed) {
		log->health.failed += count;
	} else {
		log->health.ok = 1;
		atomic_store_explicit(&log->writable, 1, memory_order_relaxed);
		log->health.committed += count;
		log->health.tree_size = log->tree.size;
	}
	pthread_mutex_unlock(&log->mu);
	AUDIT_FOR_EACH_ENTRY(batch, sl, e) {
		if (e->done)
			e->done(e->arg, failed ? -1 : 0, failed ? 0 : seq);
		seq++;
		audit_entry_drop_capture(e);
	}
	pthread_mutex_lock(&log->mu);
	audit_slab_recycle(log, batch);
	pthread_mutex_unlock(&log->mu);
}

static void *audit_writer_main(void *arg)
{
	struct audit_log *log = arg;
	/* named for top -H and perf (bench/audit_gateway.sh PROFILE=1) */
	pthread_setname_np(pthread_self(), "hafen-audit");
	pthread_mutex_lock(&log->mu);
	for (;;) {
		log->idle = 1;
		while (!log->head && !log->stop) {
			if (log->cfg.checkpoint_seconds && log->tree.size > log->cp_size) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				time_t due = log->cp_time + (time_t)log->cfg.checkpoint_seconds;
				if (ts.tv_sec >= due)
					break;
				ts.tv_sec = due;
				ts.tv_nsec = 0;
				pthread_cond_timedwait(&log->cv, &log->mu, &ts);
			} else {
				pthread_cond_wait(&log->cv, &log->mu);
			}
		}
		log->idle = 0;
		if (log->head && !log->urgent && !log->stop && log->queued < AUDIT_BATCH_RECORDS) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += AUDIT_BATCH_DELAY_NS;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			while (!log->urgent && !log->stop && log->queued < AUDIT_BATCH_RECORDS)
				if (pthread_cond_timedwait(&log->cv, &log->mu, &ts) == ETIMEDOUT)
					break;
		}
		log->urgent = 0;
		struct audit_slab *batch = log->head;
		log->head = log->last = NULL;
		log->queued = 0;
		int stop = log->stop;
		pthread_mutex_unlock(&log->mu);

		if (batch)
			audit_write_batch(log, batch);
		int due = (log->cfg.checkpoint_every &&
		              log->tree.size - log->cp_size >= log->cfg.checkpoint_every) ||
		    (log->cfg.checkpoint_seconds &&
		        time(NULL) >= log->cp_time + (time_t)log->cfg.checkpoint_seconds) ||
		    stop;
		if (due)
			audit_checkpoint_now(log);

		pthread_mutex_lock(&log->mu);
		if (stop && !log->head)
			break;
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

/* Rebuilds the tree from the stored leaves and finds the last checkpoint. */
/* Rebuilds the tree from the stored leaves and checks it against the last
 * checkpoint (signature and root): the writer refuses to extend a log that
 * was truncated, rolled back or rewritten. A full check is `audit verify`. */
static int audit_load_state(struct audit_log *log, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct audit_checkpoint *cps = NULL, last = { 0 };
	size_t ncp = 0;
	int s, matched = 0;

	if (audit_checkpoint_load(log->cfg.checkpoint_path, &cps, &ncp, err, errlen) < 0)
		return -1;
	if (ncp)
		last = cps[ncp - 1];
	free(cps);
	if (ncp && audit_checkpoint_check_sig(&last, log->sign_key) < 0) {
		snprintf(err, errlen, "%s: last checkpoint not signed by %s: run hafenctl audit verify",
		    log->cfg.checkpoint_path, log->cfg.signing_key_path);
		return -1;
	}
	audit_merkle_stack_init(&log->tree);
	log->next_seq = 0;
	memset(log->last_leaf, 0, AUDIT_HASH_LEN);
	if (sqlite3_prepare_v2(log->db, "SELECT seq, leaf FROM audit_records ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != log->next_seq ||
		    sqlite3_column_bytes(st, 1) != AUDIT_HASH_LEN) {
			snprintf(err, errlen, "%s: record %llu: gap or bad leaf; run hafenctl audit verify",
			    log->cfg.db_path, (unsigned long long)log->next_seq);
			sqlite3_finalize(st);
			return -1;
		}
		memcpy(log->last_leaf, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
		audit_merkle_stack_push(&log->tree, log->last_leaf);
		log->next_seq++;
		if (ncp && log->tree.size == last.size) {
			unsigned char root[AUDIT_HASH_LEN];
			audit_merkle_stack_root(&log->tree, root);
			matched = memcmp(root, last.root, AUDIT_HASH_LEN) == 0 ? 1 : -1;
		}
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		goto fail;
	log->cp_size = ncp ? last.size : 0;
	log->cp_stamp = ncp ? last.time : 0;
	if (log->cp_size > log->tree.size) {
		snprintf(err, errlen, "%s: holds %llu records but %s signed %llu: truncated or replaced by an older copy",
		    log->cfg.db_path, (unsigned long long)log->tree.size, log->cfg.checkpoint_path,
		    (unsigned long long)log->cp_size);
		return -1;
	}
	if (ncp && last.size && matched != 1) {
		snprintf(err, errlen, "%s does not match the last checkpoint in %s: run hafenctl audit verify",
		    log->cfg.db_path, log->cfg.checkpoint_path);
		return -1;
	}
	log->cp_time = time(NULL);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", log->cfg.db_path, sqlite3_errmsg(log->db));
	return -1;
}

static char *audit_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct audit_log *audit_open(const struct audit_config *cfg, char *err, size_t errlen)
{
	struct audit_log *log = calloc(1, sizeof *log);
	if (!log) {
		snprintf(err, errlen, "audit log: out of memory");
		return NULL;
	}
	log->cfg = *cfg;
	log->cfg.db_path = audit_strdup0(cfg->db_path);
	log->cfg.checkpoint_path = audit_strdup0(cfg->checkpoint_path);
	log->cfg.signing_key_path = audit_strdup0(cfg->signing_key_path);
	log->cfg.master_key_path = audit_strdup0(cfg->master_key_path);
	log->cfg.hmac_key_path = audit_strdup0(cfg->hmac_key_path);
	if (!log->cfg.db_path || !log->cfg.checkpoint_path || !log->cfg.signing_key_path) {
		snprintf(err, errlen, "audit log: database, checkpoints and signing_key are required");
		goto fail;
	}
	if (!log->cfg.queue_max)
		log->cfg.queue_max = 65536;
	if (!(log->sign_key = audit_checkpoint_load_key(log->cfg.signing_key_path, 1, err, errlen)))
		goto fail;
	if (log->cfg.master_key_path) {
		if (audit_crypto_read_key(log->cfg.master_key_path, log->master, err, errlen) < 0)
			goto fail;
		log->have_master = 1;
	}
	if (log->cfg.hmac_key_path) {
		if (audit_crypto_read_key(log->cfg.hmac_key_path, log->hmac, err, errlen) < 0)
			goto fail;
		log->have_hmac = 1;
	}
	if (!(log->db = audit_db_open(log->cfg.db_path, 0, err, errlen)))
		goto fail;
	if (log->cfg.max_pages) {
		char q[64];
		snprintf(q, sizeof q, "PRAGMA max_page_count=%u", log->cfg.max_pages);
		sqlite3_exec(log->db, q, NULL, NULL, NULL);
	}
	if (sqlite3_prepare_v2(log->db, AUDIT_SQL_INSERT, -1, &log->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(log->db, "SELECT seq, leaf FROM audit_records WHERE seq >= ? ORDER BY seq",
	        -1, &log->since, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(log->db, "SELECT wrapped FROM audit_subject_keys WHERE subject = ?",
	        -1, &log->getkey, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(log->db, "INSERT INTO audit_subject_keys(subject, wrapped) VALUES(?, ?)",
	        -1, &log->putkey, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", log->cfg.db_path, sqlite3_errmsg(log->db));
		goto fail;
	}
	if (audit_load_state(log, err, errlen) < 0)
		goto fail;
	log->health.ok = 1;
	atomic_init(&log->writable, 1);
	log->health.tree_size = log->tree.size;
	log->sync_full = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	if (pthread_create(&log->thread, NULL, audit_writer_main, log) != 0) {
		snprintf(err, errlen, "audit log: cannot start the writer thread");
		pthread_mutex_destroy(&log->mu);
		pthread_cond_destroy(&log->cv);
		goto fail;
	}
	return log;
fail:
	sqlite3_finalize(log->ins);
	sqlite3_finalize(log->since);
	sqlite3_finalize(log->getkey);
	sqlite3_finalize(log->putkey);
	sqlite3_close(log->db);
	EVP_PKEY_free(log->sign_key);
	explicit_bzero(log->master, sizeof log->master);
	explicit_bzero(log->hmac, sizeof log->hmac);
	audit_config_clear(&log->cfg);
	free(log);
	return NULL;
}

/* Under mu: room for size bytes at the end of the queue, or NULL. */
static struct audit_entry *audit_queue_reserve(struct audit_log *log, size_t size)
{
	struct audit_slab *sl = log->last;
	if (!sl || sl->cap - sl->used < size) {
		if (size <= AUDIT_SLAB_BYTES && log->spare) {
			sl = log->spare;
			log->spare = sl->next;
			log->n_spare--;
		} else {
			size_t cap = size <= AUDIT_SLAB_BYTES ? AUDIT_SLAB_BYTES : size;
			if (!(sl = malloc(sizeof *sl + cap)))
				return NULL;
			sl->cap = cap;
		}
		sl->used = 0;
		sl->next = NULL;
		if (log->last)
			log->last->next = sl;
		else
			log->head = sl;
		log->last = sl;
	}
	struct audit_entry *e = (struct audit_entry *)(sl->data + sl->used);
	sl->used += size;
	return e;
}

int audit_submit(struct audit_log *log, const struct audit_record *rec,
    const unsigned char *capture, size_t capture_len,
    enum audit_durability durability, audit_done_fn done, void *arg)
{
	char err[AUDIT_ERR_LEN];
	struct audit_record r = *rec;
	struct audit_record_plan pl;
	unsigned char *cap = NULL;

	if (capture && capture_len && rec->subject && strlen(rec->subject) > AUDIT_SUBJECT_MAX)
		goto reject; /* the writer could not key its capture */
	r.content = NULL;
	r.content_len = 0;
	/* Measured here, written straight into the queue under the lock: one
	 * strlen and one copy per field, no second copy through the stack. */
	if (audit_record_measure(&r, &pl, err, sizeof err) < 0 || pl.len > UINT32_MAX - 2 * AUDIT_ENTRY_HDR)
		goto reject_plan;
	if (capture && capture_len) {
		if (!(cap = malloc(capture_len)))
			goto reject_plan;
		memcpy(cap, capture, capture_len);
	}
	size_t size = (AUDIT_ENTRY_HDR + pl.len + 7) & ~(size_t)7;

	pthread_mutex_lock(&log->mu);
	struct audit_entry *e = NULL;
	if (log->stop || log->queued >= log->cfg.queue_max || !(e = audit_queue_reserve(log, size))) {
		log->health.rejected++;
		pthread_mutex_unlock(&log->mu);
		audit_record_plan_clear(&pl);
		goto drop;
	}
	*e = (struct audit_entry){ .size = (uint32_t)size, .len = (uint32_t)pl.len, .durability = durability,
		.done = done, .arg = arg, .capture = cap, .capture_len = cap ? capture_len : 0 };
	audit_record_write(&r, &pl, audit_entry_body(e));
	log->queued++;
	if (durability == AUDIT_DURABILITY_REQUEST)
		log->urgent = 1;
	/* one wake-up per group, not per record (see AUDIT_BATCH_DELAY_NS) */
	if (log->idle || durability == AUDIT_DURABILITY_REQUEST || log->queued == AUDIT_BATCH_RECORDS)
		pthread_cond_signal(&log->cv);
	pthread_mutex_unlock(&log->mu);
	audit_record_plan_clear(&pl);
	return 0;
reject_plan:
	audit_record_plan_clear(&pl);
reject:
	pthread_mutex_lock(&log->mu);
	log->health.rejected++;
	pthread_mutex_unlock(&log->mu);
drop:
	if (cap) {
		explicit_bzero(cap, capture_len);
		free(cap);
	}
	return -1;
}

int audit_writable(struct audit_log *log)
{
	return atomic_load_explicit(&log->writable, memory_order_relaxed);
}

void audit_get_health(struct audit_log *log, struct audit_health *h)
{
	pthread_mutex_lock(&log->mu);
	*h = log->health;
	h->queued = log->queued;
	pthread_mutex_unlock(&log->mu);
}

void audit_close(struct audit_log *log)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->mu);
	log->stop = 1;
	pthread_cond_signal(&log->cv);
	pthread_mutex_unlock(&log->mu);
	pthread_join(log->thread, NULL);
	audit_slab_recycle(log, log->head); /* empty: the writer ends on an empty queue */
	for (struct audit_slab *sl = log->spare, *next; sl; sl = next) {
		next = sl->next;
		free(sl);
	}
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv);
	sqlite3_finalize(log->ins);
	sqlite3_finalize(log->since);
	sqlite3_finalize(log->getkey);
	sqlite3_finalize(log->putkey);
	sqlite3_exec(log->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(log->db);
	EVP_PKEY_free(log->sign_key);
	explicit_bzero(log->master, sizeof log->master);
	explicit_bzero(log->hmac, sizeof log->hmac);
	audit_config_clear(&log->cfg);
	free(log);
}

int audit_pseudonym(struct audit_log *log, const char *user, char out[65])
{
	if (!log->have_hmac || !user)
		return -1;
	audit_crypto_pseudonym(log->hmac, user, out);
	return 0;
}

void audit_client_addr(struct audit_log *log, const char *addr, char *out, size_t cap)
{
	audit_config_client_addr(log->cfg.client_addr, addr, out, cap);
}

/* Personal data (confidential) and special categories (restricted) are
 * released only once their record is on disk; other classes follow the
 * configured default. */
enum audit_durability audit_durability_for(struct audit_log *log, const char *data_class)
{
	static const char *const strict[] = { "confidential", "restricted" };
	for (size_t i = 0; data_class && i < sizeof strict / sizeof strict[0]; i++)
		if (strcmp(data_class, strict[i]) == 0)
			return AUDIT_DURABILITY_REQUEST;
	return log->cfg.durability;
}
