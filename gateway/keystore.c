/* The API key store. Secrets are 24 random bytes, shown once as
 * "hk-" + hex; the file keeps their SHA-256 (FIPS 180-4) only, so a copy
 * of the file does not let anyone in. A rotated key keeps its name and
 * settings; its old secret gets an expiry (the grace period) or is revoked.
 * Rows are never deleted: revocations stay visible in `key list`. */
#include "keystore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

struct keystore {
	sqlite3 *db;
};

static const char keystore_schema[] =
    "CREATE TABLE IF NOT EXISTS keys("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, tenant TEXT NOT NULL, purpose TEXT NOT NULL,"
    " sha256 BLOB NOT NULL UNIQUE CHECK(length(sha256) = 32),"
    " class_floor INTEGER NOT NULL DEFAULT 0, max_class INTEGER NOT NULL DEFAULT 3,"
    " rpm INTEGER NOT NULL DEFAULT 0, tpm INTEGER NOT NULL DEFAULT 0,"
    " concurrency INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS keys_name ON keys(name);"
    /* A counter that moves with every change to keys, and only then: the
     * usage writer commits to the same file every second, which moves
     * PRAGMA data_version without any key having changed. */
    "CREATE TABLE IF NOT EXISTS keys_meta(version INTEGER NOT NULL);"
    "INSERT INTO keys_meta(version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM keys_meta);"
    "CREATE TRIGGER IF NOT EXISTS keys_ins AFTER INSERT ON keys BEGIN UPDATE keys_meta SET version = version + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS keys_upd AFTER UPDATE ON keys BEGIN UPDATE keys_meta SET version = version + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS keys_del AFTER DELETE ON keys BEGIN UPDATE keys_meta SET version = version + 1; END;";

static int keystore_fail(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

struct keystore *keystore_open(const char *path, int create, char *err, size_t errlen)
{
	struct keystore *ks = calloc(1, sizeof *ks);
	if (!ks) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (!exists && !create) {
		snprintf(err, errlen, "%s: no such key store (hafenctl key create makes one)", path);
		free(ks);
		return NULL;
	}
	/* The file holds no secrets, but who may use which purpose is still
	 * nobody else's business. */
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &ks->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	char *msg = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(ks->db, 5000);
		/* WAL: the gateway reads while hafenctl writes, and the usage
		 * writer appends without blocking either. */
		rc = sqlite3_exec(ks->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(ks->db, keystore_schema, NULL, NULL, &msg);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : ks->db ? sqlite3_errmsg(ks->db) : "cannot open");
		sqlite3_free(msg);
		keystore_close(ks);
		return NULL;
	}
	return ks;
}

void keystore_close(struct keystore *ks)
{
	if (!ks)
		return;
	sqlite3_close(ks->db);
	free(ks);
}

struct sqlite3 *keystore_db(struct keystore *ks)
{
	return ks->db;
}

int64_t keystore_version(struct keystore *ks)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(ks->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t keystore_keys_version(struct keystore *ks)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(ks->db, "SELECT version FROM keys_meta", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A fresh secret and its digest. */
static int keystore_secret_new(char *secret, unsigned char md[32])
{
	unsigned char raw[24];
	static const char hex[] = "0123456789abcdef";
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	memcpy(secret, "hk-", 3);
	for (size_t i = 0; i < sizeof raw; i++) {
		secret[3 + 2 * i] = hex[raw[i] >> 4];
		secret[4 + 2 * i] = hex[raw[i] & 15];
	}
	secret[KEYSTORE_SECRET_LEN] = 0;
	OPENSSL_cleanse(raw, sizeof raw);
	unsigned int n = 0;
	return EVP_Digest(secret, KEYSTORE_SECRET_LEN, md, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

static int keystore_live_count(struct keystore *ks, const char *name, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(ks->db, "SELECT count(*) FROM keys WHERE name = ?1 AND revoked = 0"
	        " AND (expires = 0 OR expires > ?2)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}

static int keystore_insert(struct keystore *ks, const struct keystore_key *k, const unsigned char md[32],
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ks->db, "INSERT INTO keys(name, tenant, purpose, sha256, class_floor, max_class,"
	        " rpm, tpm, concurrency, created, expires) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	        -1, &st, NULL) != SQLITE_OK)
		return keystore_fail(err, errlen, "insert", ks->db);
	sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, k->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, md, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, k->class_floor);
	sqlite3_bind_int(st, 6, k->max_class);
	sqlite3_bind_int64(st, 7, k->rpm);
	sqlite3_bind_int64(st, 8, k->tpm);
	sqlite3_bind_int64(st, 9, k->concurrency);
	sqlite3_bind_int64(st, 10, k->created);
	sqlite3_bind_int64(st, 11, k->expires);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return keystore_fail(err, errlen, "insert", ks->db);
	return 0;
}

static int keystore_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > KEYSTORE_NAME_MAX)
		return 0;
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x21 || *c == 0x7f)
			return 0;
	return 1;
}

int keystore_create(struct keystore *ks, const struct keystore_key *k, char *secret, char *err, size_t errlen)
{
	unsigned char md[32];
	if (!keystore_name_valid(k->name) || !keystore_name_valid(k->tenant) || !keystore_name_valid(k->purpose)) {
		snprintf(err, errlen, "name, tenant and purpose: expected 1 to %d printable characters without spaces",
		    KEYSTORE_NAME_MAX);
		return -1;
	}
	if (sqlite3_exec(ks->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return keystore_fail(err, errlen, "begin", ks->db);
	int rc = -1;
	int live = keystore_live_count(ks, k->name, k->created);
	if (live != 0)
		snprintf(err, errlen, live < 0 ? "cannot read the store" : "a live key named %s exists (key rotate "
		    "gives it a new secret)", k->name);
	else if (keystore_secret_new(secret, md) < 0)
		snprintf(err, errlen, "no random bytes for the secret");
	else
		rc = keystore_insert(ks, k, md, err, errlen);
	OPENSSL_cleanse(md, sizeof md);
	sqlite3_exec(ks->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	if (rc < 0)
		OPENSSL_cleanse(secret, KEYSTORE_SECRET_LEN + 1);
	return rc;
}

int keystore_revoke(struct keystore *ks, const char *name, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ks->db, "UPDATE keys SET revoked = ?2 WHERE name = ?1 AND revoked = 0"
	        " AND (expires = 0 OR expires > ?2)", -1, &st, NULL) != SQLITE_OK)
		return keystore_fail(err, errlen, "revoke", ks->db);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return keystore_fail(err, errlen, "revoke", ks->db);
	if (sqlite3_changes(ks->db) == 0) {
		snprintf(err, errlen, "no live key named %s", name);
		return -1;
	}
	return 0;
}

struct keystore_row {
	struct keystore_key k;
	char buf[3 * (KEYSTORE_NAME_MAX + 1)];
};

static int keystore_row_read(sqlite3_stmt *st, struct keystore_row *r)
{
	const char *cols[3];
	size_t off = 0;
	memset(&r->k, 0, sizeof r->k);
	r->k.id = sqlite3_column_int64(st, 0);
	for (int i = 0; i < 3; i++) {
		const char *s = (const char *)sqlite3_column_text(st, 1 + i);
		size_t n = s ? strlen(s) : 0;
		if (n > KEYSTORE_NAME_MAX)
			return -1;
		memcpy(r->buf + off, s ? s : "", n);
		r->buf[off + n] = 0;
		cols[i] = r->buf + off;
		off += n + 1;
	}
	r->k.name = cols[0];
	r->k.tenant = cols[1];
	r->k.purpose = cols[2];
	if (sqlite3_column_bytes(st, 4) != 32)
		return -1;
	memcpy(r->k.sha256, sqlite3_column_blob(st, 4), 32);
	r->k.class_floor = sqlite3_column_int(st, 5);
	r->k.max_class = sqlite3_column_int(st, 6);
	r->k.rpm = sqlite3_column_int64(st, 7);
	r->k.tpm = sqlite3_column_int64(st, 8);
	r->k.concurrency = sqlite3_column_int64(st, 9);
	r->k.created = sqlite3_column_int64(st, 10);
	r->k.expires = sqlite3_column_int64(st, 11);
	r->k.revoked = sqlite3_column_int64(st, 12);
	/* A row edited by hand must not widen what a key may do. */
	if (r->k.class_floor < 0 || r->k.class_floor > 3 || r->k.max_class < 0 || r->k.max_class > 3 ||
	    r->k.rpm < 0 || r->k.tpm < 0 || r->k.concurrency < 0)
		return -1;
	return 0;
}

#define KEYSTORE_COLUMNS "id, name, tenant, purpose, sha256, class_floor, max_class, rpm, tpm," \
	" concurrency, created, expires, revoked"

int keystore_each(struct keystore *ks, int live_only, int64_t now,
    int (*fn)(const struct keystore_key *k, void *arg), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *sql = live_only ?
	    "SELECT " KEYSTORE_COLUMNS " FROM keys WHERE revoked = 0 AND (expires = 0 OR expires > ?1) ORDER BY name, id" :
	    "SELECT " KEYSTORE_COLUMNS " FROM keys ORDER BY name, id";
	if (sqlite3_prepare_v2(ks->db, sql, -1, &st, NULL) != SQLITE_OK)
		return keystore_fail(err, errlen, "read keys", ks->db);
	if (live_only)
		sqlite3_bind_int64(st, 1, now);
	struct keystore_row *r = malloc(sizeof *r);
	int rc, out = 0;
	while (r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (keystore_row_read(st, r) < 0) {
			snprintf(err, errlen, "keys row %lld: malformed (digest length, class or limits)",
			    (long long)sqlite3_column_int64(st, 0));
			out = -1;
			break;
		}
		if (fn(&r->k, arg) != 0)
			break;
	}
	if (!r)
		out = keystore_fail(err, errlen, "read keys", NULL);
	else if (out == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = keystore_fail(err, errlen, "read keys", ks->db);
	free(r);
	sqlite3_finalize(st);
	return out;
}

int keystore_rotate(struct keystore *ks, const char *name, int64_t grace_s, int64_t now, char *secret,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct keystore_row row;
	unsigned char md[32];
	int rc = -1, found = 0;
	if (sqlite3_exec(ks->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return keystore_fail(err, errlen, "begin", ks->db);
	/* The newest live secret carries the settings forward. */
	if (sqlite3_prepare_v2(ks->db, "SELECT " KEYSTORE_COLUMNS " FROM keys WHERE name = ?1 AND revoked = 0"
	        " AND (expires = 0 OR expires > ?2) ORDER BY id DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) == SQLITE_ROW && keystore_row_read(st, &row) == 0)
			found = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!found) {
		snprintf(err, errlen, "no live key named %s", name);
		goto out;
	}
	/* Old secrets: expire after the grace period (kept if they expire
	 * sooner anyway), or revoke now. */
	if (sqlite3_prepare_v2(ks->db, grace_s > 0 ?
	        "UPDATE keys SET expires = ?3 WHERE name = ?1 AND revoked = 0 AND (expires = 0 OR expires > ?3)" :
	        "UPDATE keys SET revoked = ?2 WHERE name = ?1 AND revoked = 0", -1, &st, NULL) != SQLITE_OK) {
		keystore_fail(err, errlen, "rotate", ks->db);
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + grace_s);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		keystore_fail(err, errlen, "rotate", ks->db);
		goto out;
	}
	row.k.created = now;
	if (keystore_secret_new(secret, md) < 0)
		snprintf(err, errlen, "no random bytes for the secret");
	else
		rc = keystore_insert(ks, &row.k, md, err, errlen);
out:
	OPENSSL_cleanse(md, sizeof md);
	sqlite3_exec(ks->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	if (rc < 0)
		OPENSSL_cleanse(secret, KEYSTORE_SECRET_LEN + 1);
	return rc;
}
