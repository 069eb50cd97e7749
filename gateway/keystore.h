/* The API key store: one SQLite file holding keys as SHA-256 digests of
 * their secrets, never the secrets (docs/keys.md). Written by hafenctl
 * key, read by the gateway's key cache loader (gateway/keycache.c). */
#ifndef HAFEN_GATEWAY_KEYSTORE_H
#define HAFEN_GATEWAY_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#define KEYSTORE_ERR_LEN 512
#define KEYSTORE_NAME_MAX 128
#define KEYSTORE_SECRET_LEN 51 /* "hk-" + 48 hex digits (24 random bytes) */

struct keystore;

/* One row. Strings point into the row buffer of the callback's caller. */
struct keystore_key {
	int64_t id;
	const char *name, *tenant, *purpose;
	unsigned char sha256[32];
	int class_floor, max_class; /* enum data_class */
	int64_t rpm, tpm, concurrency;
	int64_t created;  /* Unix seconds */
	int64_t expires;  /* Unix seconds, 0 = never */
	int64_t revoked;  /* Unix seconds, 0 = active */
};

/* Opens (creating when create is set) the store. NULL with err set. */
struct keystore *keystore_open(const char *path, int create, char *err, size_t errlen);
void keystore_close(struct keystore *ks);

/* Creates a key with a fresh secret, written into secret (at least
 * KEYSTORE_SECRET_LEN + 1 bytes). Refuses a name that has a live key. */
int keystore_create(struct keystore *ks, const struct keystore_key *k, char *secret, char *err,
    size_t errlen);
/* Revokes every live secret of NAME; 0, or -1 when there is none. */
int keystore_revoke(struct keystore *ks, const char *name, int64_t now, char *err, size_t errlen);
/* A new secret for NAME with the same settings; the old secret stays valid
 * for grace_s seconds (0: revoked at once). */
int keystore_rotate(struct keystore *ks, const char *name, int64_t grace_s, int64_t now, char *secret,
    char *err, size_t errlen);
/* Calls fn for each key (live_only: neither revoked nor expired at now),
 * ordered by name then id. fn returns 0 to go on. */
int keystore_each(struct keystore *ks, int live_only, int64_t now,
    int (*fn)(const struct keystore_key *k, void *arg), void *arg, char *err, size_t errlen);
/* Changes whenever another connection committed to the file. */
int64_t keystore_version(struct keystore *ks);
/* Changes whenever a key row was inserted, updated or deleted. */
int64_t keystore_keys_version(struct keystore *ks);
/* The SQLite handle (the usage writer shares the file). */
struct sqlite3 *keystore_db(struct keystore *ks);

#endif
