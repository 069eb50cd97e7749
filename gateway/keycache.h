/* The gateway's in-memory key cache: SHA-256 digest -> key record, built
 * from the key store by a loader thread and swapped in whole; lookups on
 * the request path take no lock and run no SQLite (docs/keys.md). */
#ifndef HAFEN_GATEWAY_KEYCACHE_H
#define HAFEN_GATEWAY_KEYCACHE_H

#include <stddef.h>

struct config;
struct config_key;
struct keystore;
struct keycache_table;
struct ssl_st;

/* Loads the store at path once (an error here fails the start), then
 * starts the loader thread that polls it every poll_ms for changes. */
int keycache_start(const char *path, long poll_ms, char *err, size_t errlen);
void keycache_stop(void);

/* The current table, referenced (NULL when no store is configured); the
 * caller releases it when the request that uses its key is over. */
struct keycache_table *keycache_acquire(void);
void keycache_release(struct keycache_table *t);
/* A worker thread that exits drops the table it kept. */
void keycache_thread_exit(void);

/* The live key with this digest (not expired at now, Unix seconds). */
const struct config_key *keycache_find(const struct keycache_table *t, const unsigned char md[32], long long now);

/* Builds a table from the store's live keys (for the loader and tests). */
struct keycache_table *keycache_table_build(struct keystore *ks, long long now, char *err, size_t errlen);
size_t keycache_table_count(const struct keycache_table *t);

/* mTLS: the configured identity (cfg->identities) matching the verified
 * client certificate of ssl, by SHA-256 fingerprint or subject CN. */
const struct config_key *keycache_identity_find(const struct config *cfg, struct ssl_st *ssl);

#endif
