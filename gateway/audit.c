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

struct audit_item {
	struct audit_item *next;
	unsigned char *body; /* encoded, content field empty */
	size_t len;
	unsigned char *capture;
	size_t capture_len;
	/* lookup columns, and the capture's key (subject) and AAD (request id) */
	char *subject, *request_id, *purpose, *data_class;
	uint8_t kind;
	uint64_t t_start;
	enum audit_durability durability;
	audit_done_fn done;
	void *arg;
};

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
	struct audit_item *head, **tailp;
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
    "CREATE INDEX IF NOT EXISTS audit_records_subject ON audit_records(subject);"
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
	    "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL;"
	    " PRAGMA cache_size=-32768;"; /* 32 MiB: a large group commits without spilling */
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

/* Fills the indexed lookup columns from the record. */
static int audit_bind_insert(sqlite3_stmt *ins, uint64_t seq,
    const unsigned char leaf[AUDIT_HASH_LEN], const unsigned char *body,
    size_t len, const struct audit_record *rec)
{
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(ins, 2, leaf, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 3, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(ins, 4, rec->kind);
	sqlite3_bind_text(ins, 5, rec->request_id ? rec->request_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, rec->subject ? rec->subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, rec->purpose ? rec->purpose : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, rec->data_class ? rec->data_class : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 9, (sqlite3_int64)rec->t_start);
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
	    audit_bind_insert(ins, r.seq, leaf, body, len, &r) < 0 ||
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

static void audit_item_free(struct audit_item *it)
{
	if (it->capture) {
		explicit_bzero(it->capture, it->capture_len);
		free(it->capture);
	}
	free(it->body);
	free(it); /* the lookup strings live in the same allocation */
}

static void audit_set_error(struct audit_log *log, const char *msg)
{
	pthread_mutex_lock(&log->mu);
	log->health.ok = 0;
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

/* Replaces the empty content field at the end of the body by the sealed
 * capture. */
static int audit_seal_capture(struct audit_log *log, struct audit_item *it)
{
	unsigned char dk[AUDIT_KEY_LEN];
	size_t ct_len = it->capture_len + AUDIT_GCM_OVERHEAD;
	if (!log->have_master || audit_subject_key(log, it->subject, dk) < 0)
		return -1;
	unsigned char *nb = realloc(it->body, it->len + ct_len);
	if (!nb) {
		explicit_bzero(dk, sizeof dk);
		return -1;
	}
	it->body = nb;
	int rc = audit_crypto_seal(dk, (const unsigned char *)it->request_id, strlen(it->request_id),
	    it->capture, it->capture_len, nb + it->len);
	explicit_bzero(dk, sizeof dk);
	if (rc < 0)
		return -1;
	unsigned char *lenp = nb + it->len - 4;
	lenp[0] = (unsigned char)(ct_len >> 24);
	lenp[1] = (unsigned char)(ct_len >> 16);
	lenp[2] = (unsigned char)(ct_len >> 8);
	lenp[3] = (unsigned char)ct_len;
	it->len += ct_len;
	explicit_bzero(it->capture, it->capture_len);
	free(it->capture);
	it->capture = NULL;
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

/* One group commit. */
static void audit_write_batch(struct audit_log *log, struct audit_item *batch)
{
	uint64_t n = 0, seq0;
	unsigned char leaf0[AUDIT_HASH_LEN];
	struct audit_merkle_stack tree0;
	int need_full = 0, failed = 0;
	char why[AUDIT_ERR_LEN] = "";

	for (struct audit_item *it = batch; it; it = it->next)
		need_full |= it->durability == AUDIT_DURABILITY_REQUEST;
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
	for (struct audit_item *it = batch; it && !failed; it = it->next) {
		struct audit_record lookup = { .kind = it->kind, .request_id = it->request_id,
			.subject = it->subject, .purpose = it->purpose,
			.data_class = it->data_class, .t_start = it->t_start };
		unsigned char leaf[AUDIT_HASH_LEN];
		if (it->capture && audit_seal_capture(log, it) < 0) {
			snprintf(why, sizeof why, "audit log: cannot encrypt captured content (master key or subject key)");
			failed = 1;
			break;
		}
		audit_record_set_chain(it->body, log->next_seq, log->last_leaf);
		audit_merkle_leaf_hash(it->body, it->len, leaf);
		if (audit_bind_insert(log->ins, log->next_seq, leaf, it->body, it->len, &lookup) < 0) {
			snprintf(why, sizeof why, "audit log: insert: %s", sqlite3_errmsg(log->db));
			failed = 1;
			break;
		}
		audit_merkle_stack_push(&log->tree, leaf);
		memcpy(log->last_leaf, leaf, AUDIT_HASH_LEN);
		log->next_seq++;
		n++;
	}
	sqlite3_reset(log->ins);
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
	uint64_t seq = seq0, count = 0;
	for (struct audit_item *it = batch; it; it = it->next)
		count++;
	/* health first: a callback may read it to decide on 503 */
	pthread_mutex_lock(&log->mu);
	if (failed) {
		log->health.failed += count;
	} else {
		log->health.ok = 1;
		log->health.committed += count;
		log->health.tree_size = log->tree.size;
	}
	pthread_mutex_unlock(&log->mu);
	for (struct audit_item *it = batch, *next; it; it = next) {
		next = it->next;
		if (it->done)
			it->done(it->arg, failed ? -1 : 0, failed ? 0 : seq);
		seq++;
		audit_item_free(it);
	}
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
		struct audit_item *batch = log->head;
		log->head = NULL;
		log->tailp = &log->head;
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
	log->health.tree_size = log->tree.size;
	log->sync_full = -1;
	log->tailp = &log->head;
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

int audit_submit(struct audit_log *log, const struct audit_record *rec,
    const unsigned char *capture, size_t capture_len,
    enum audit_durability durability, audit_done_fn done, void *arg)
{
	char err[AUDIT_ERR_LEN];
	struct audit_record r = *rec;
	/* one allocation for the item and its four lookup strings */
	const char *strs[4] = { rec->subject, rec->request_id, rec->purpose, rec->data_class };
	size_t lens[4], total = sizeof(struct audit_item);
	for (int i = 0; i < 4; i++) {
		lens[i] = strs[i] ? strlen(strs[i]) : 0;
		total += lens[i] + 1;
	}
	struct audit_item *it = malloc(total);
	if (!it)
		goto reject;
	memset(it, 0, sizeof *it);
	char *sp = (char *)(it + 1), **dst[4] = { &it->subject, &it->request_id, &it->purpose, &it->data_class };
	for (int i = 0; i < 4; i++) {
		*dst[i] = sp;
		if (lens[i])
			memcpy(sp, strs[i], lens[i]);
		sp[lens[i]] = 0;
		sp += lens[i] + 1;
	}
	r.content = NULL;
	r.content_len = 0;
	if (audit_record_encode(&r, &it->body, &it->len, err, sizeof err) < 0)
		goto reject;
	it->kind = rec->kind;
	it->t_start = rec->t_start;
	if (capture && capture_len) {
		it->capture = malloc(capture_len);
		if (!it->capture)
			goto reject;
		memcpy(it->capture, capture, capture_len);
		it->capture_len = capture_len;
	}
	it->durability = durability;
	it->done = done;
	it->arg = arg;

	pthread_mutex_lock(&log->mu);
	if (log->stop || log->queued >= log->cfg.queue_max) {
		log->health.rejected++;
		pthread_mutex_unlock(&log->mu);
		audit_item_free(it);
		return -1;
	}
	*log->tailp = it;
	log->tailp = &it->next;
	log->queued++;
	if (durability == AUDIT_DURABILITY_REQUEST)
		log->urgent = 1;
	/* one wake-up per group, not per record (see AUDIT_BATCH_DELAY_NS) */
	if (log->idle || durability == AUDIT_DURABILITY_REQUEST || log->queued == AUDIT_BATCH_RECORDS)
		pthread_cond_signal(&log->cv);
	pthread_mutex_unlock(&log->mu);
	return 0;
reject:
	if (it)
		audit_item_free(it);
	pthread_mutex_lock(&log->mu);
	log->health.rejected++;
	pthread_mutex_unlock(&log->mu);
	return -1;
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
