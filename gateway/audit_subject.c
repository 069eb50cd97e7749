/* Data subject rights and storage limitation on the audit database:
 * export (GDPR Art. 15), erasure by crypto-shredding (Art. 17), legal
 * holds, and retention purges (Art. 5(1)(e); AI Act Art. 19, 26(6)).
 * Leaves hash ciphertext and purges keep leaves, so none of this breaks
 * the Merkle tree: `hafenctl audit verify` passes afterwards. Every
 * operation is itself recorded as a PII-free event record. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "gateway/audit.h"

static uint64_t audit_subject_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Moves the WAL into the database and truncates it, so bytes overwritten
 * under secure_delete leave the WAL as well. */
static int audit_subject_flush(sqlite3 *db)
{
	/* a reader of the running gateway may hold an old snapshot for a
	 * moment: retry for up to five seconds */
	for (int i = 0; i < 50; i++) {
		if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK)
			return 0;
		usleep(100000);
	}
	return -1;
}

static int audit_subject_event(sqlite3 *db, uint8_t kind, const char *note,
    char *err, size_t errlen)
{
	struct audit_record ev = { .kind = kind, .note = note };
	ev.t_start = ev.t_end = audit_subject_now_us();
	return audit_db_append(db, &ev, err, errlen) < 0 ? -1 : 0;
}

/* Decrypts one record's content with the subject's data key. */
static json_t *audit_subject_content(const struct audit_record *rec,
    const unsigned char dk[AUDIT_KEY_LEN])
{
	size_t n = rec->content_len - AUDIT_GCM_OVERHEAD;
	unsigned char *pt = malloc(n + 1);
	json_t *v = NULL;
	if (!pt)
		return NULL;
	const char *rid = rec->request_id ? rec->request_id : "";
	if (audit_crypto_open(dk, (const unsigned char *)rid, strlen(rid), rec->content,
	        rec->content_len, pt) == 0)
		v = json_stringn((const char *)pt, n);
	explicit_bzero(pt, n + 1);
	free(pt);
	return v;
}

json_t *audit_subject_export(sqlite3 *db, const char *subject,
    const unsigned char *master, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	unsigned char dk[AUDIT_KEY_LEN];
	int have_key = 0, key_stored = 0, held = 0;
	json_t *out = NULL, *recs = NULL;

	if (sqlite3_prepare_v2(db, "SELECT wrapped FROM audit_subject_keys WHERE subject = ?", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_WRAPPED_LEN) {
		key_stored = 1;
		if (master && audit_crypto_unwrap(master, subject, sqlite3_column_blob(st, 0), dk) == 0)
			have_key = 1;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM audit_holds WHERE subject = ?", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	held = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT seq, body FROM audit_records WHERE subject = ?1 AND subject <> '' AND body IS NOT NULL ORDER BY seq",
	        -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	out = json_object();
	recs = json_array();
	json_object_set_new(out, "subject", json_string(subject));
	json_object_set_new(out, "legal_hold", json_boolean(held));
	json_object_set_new(out, "data_key", json_string(key_stored ? "present" : "absent or erased"));
	json_object_set(out, "records", recs);
	json_decref(recs);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct audit_record rec;
		char why[AUDIT_ERR_LEN];
		if (audit_record_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		        &rec, why, sizeof why) < 0) {
			snprintf(err, errlen, "record %lld: %s", (long long)sqlite3_column_int64(st, 0), why);
			json_decref(out);
			out = NULL;
			goto done;
		}
		/* the lookup column is not hashed: trust only the body */
		if (rec.subject && strcmp(rec.subject, subject) == 0) {
			json_t *j = audit_record_to_json(&rec);
			if (rec.content_len >= AUDIT_GCM_OVERHEAD) {
				json_t *c = have_key ? audit_subject_content(&rec, dk) : NULL;
				json_object_set_new(j, "content", c ? c : json_null());
				if (!c)
					json_object_set_new(j, "content_status", json_string(
					    key_stored ? (have_key ? "undecryptable" : "master key needed") : "erased"));
			}
			json_array_append_new(recs, j);
		}
		audit_record_clear(&rec);
	}
	goto done;
sqlfail:
	snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
done:
	explicit_bzero(dk, sizeof dk);
	sqlite3_finalize(st);
	return out;
}

static int audit_subject_held(sqlite3 *db, const char *subject)
{
	sqlite3_stmt *st = NULL;
	int held = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM audit_holds WHERE subject = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
		held = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return held;
}

int audit_subject_erase(sqlite3 *db, const char *subject, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char note[160];
	int n_keys;

	/* one transaction: the hold check, the key deletion and the event */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (audit_subject_held(db, subject)) {
		snprintf(err, errlen, "subject is under a legal hold: erasure refused (GDPR Art. 17(3)(e)); "
		    "release the hold first with `hafenctl subject release`");
		goto fail;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM audit_subject_keys WHERE subject = ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	n_keys = sqlite3_changes(db);
	/* PII-free: neither the user nor the pseudonym is in the event */
	snprintf(note, sizeof note, "subject erasure (GDPR Art. 17): %d data key%s destroyed", n_keys,
	    n_keys == 1 ? "" : "s");
	if (audit_subject_event(db, AUDIT_KIND_ERASURE, note, err, errlen) < 0)
		goto fail;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (audit_subject_flush(db) < 0) {
		snprintf(err, errlen, "data key destroyed and erasure recorded, but the WAL could not be "
		    "checkpointed (database busy): old pages may hold the key until the next checkpoint; "
		    "run the erasure again");
		return -1;
	}
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int audit_subject_hold_txn(sqlite3 *db, const char *subject, int on,
    const char *reason, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *sql = on ? "INSERT OR REPLACE INTO audit_holds(subject, reason, since) VALUES(?, ?, ?)" :
	                       "DELETE FROM audit_holds WHERE subject = ?";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	if (on) {
		sqlite3_bind_text(st, 2, reason ? reason : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	}
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (!on && sqlite3_changes(db) == 0) {
		snprintf(err, errlen, "no legal hold on this subject");
		return -1;
	}
	return audit_subject_event(db, on ? AUDIT_KIND_HOLD : AUDIT_KIND_RELEASE,
	    on ? "legal hold placed on a subject" : "legal hold released", err, errlen);
}

int audit_subject_hold(sqlite3 *db, const char *subject, int on,
    const char *reason, char *err, size_t errlen)
{
	/* the hold and its event commit together */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (audit_subject_hold_txn(db, subject, on, reason, err, errlen) < 0 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (!*err)
			snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* AI Act Art. 19(1) and 26(6): logs of high-risk systems are kept for at
 * least six months. */
#define AUDIT_SUBJECT_HIGH_RISK_DAYS 180

int audit_retention_check(const struct audit_retention *r, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (!r[i].purpose || !*r[i].purpose) {
			snprintf(err, errlen, "retention[%zu]: purpose missing", i);
			return -1;
		}
		if (r[i].high_risk && r[i].retention_days < AUDIT_SUBJECT_HIGH_RISK_DAYS) {
			snprintf(err, errlen, "purposes.%s.retention_days: %u is below the %d days required "
			    "for a high-risk purpose (AI Act Art. 19, 26(6))", r[i].purpose,
			    r[i].retention_days, AUDIT_SUBJECT_HIGH_RISK_DAYS);
			return -1;
		}
	}
	return 0;
}

int64_t audit_purge(sqlite3 *db, const struct audit_retention *r, size_t n,
    uint64_t now_us, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int64_t total = 0;

	if (audit_retention_check(r, n, err, errlen) < 0)
		return -1;
	/* Drop the body (content and every personal field) and the personal
	 * lookup columns; keep seq and leaf so the tree and proofs still hold.
	 * Subjects under a legal hold are kept whole. */
	if (sqlite3_prepare_v2(db,
	        "UPDATE audit_records SET body = NULL, request_id = NULL, subject = NULL"
	        " WHERE kind = 1 AND body IS NOT NULL AND purpose = ?1"
	        " AND (?2 IS NULL OR data_class = ?2) AND t_start < ?3"
	        " AND (subject IS NULL OR subject NOT IN (SELECT subject FROM audit_holds))",
	        -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char note[256];
		uint64_t age = (uint64_t)r[i].retention_days * 86400u * 1000000u;
		if (r[i].retention_days == 0)
			continue; /* 0: no retention limit configured */
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, r[i].purpose, -1, SQLITE_STATIC);
		if (r[i].data_class)
			sqlite3_bind_text(st, 2, r[i].data_class, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(now_us > age ? now_us - age : 0));
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
			goto fail;
		}
		int changed = sqlite3_changes(db);
		total += changed;
		snprintf(note, sizeof note, "retention purge: %d records of purpose %s%s%s older than %u days",
		    changed, r[i].purpose, r[i].data_class ? ", class " : "",
		    r[i].data_class ? r[i].data_class : "", r[i].retention_days);
		sqlite3_reset(st);
		if (audit_subject_event(db, AUDIT_KIND_PURGE, note, err, errlen) < 0)
			goto fail;
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "audit database: %s", sqlite3_errmsg(db));
			goto fail;
		}
	}
	sqlite3_finalize(st);
	if (audit_subject_flush(db) < 0) {
		snprintf(err, errlen, "purged %lld records, but the WAL could not be checkpointed (database "
		    "busy): old pages may hold purged data until the next checkpoint", (long long)total);
		return -1;
	}
	return total;
fail:
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
