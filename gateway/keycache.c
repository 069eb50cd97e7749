/* The key cache. The loader thread keeps one SQLite connection to the key
 * store and polls it (PRAGMA data_version, which moves when another
 * connection commits, plus the file's identity, for a store replaced on
 * disk); on a change it builds a new table and publishes it:
 *
 *   publish: lock; current = new; generation++; unlock; release(old)
 *
 * Each worker keeps a referenced pointer to the table it last saw (thread
 * local) and compares the generation, one relaxed atomic load per
 * request; only after a change does it take the lock, once. A request
 * holds a reference for as long as it uses its key, so a swap never frees
 * a key under a request in flight.
 *
 * The table is open addressing with linear probing on the digest's first
 * eight bytes (SHA-256 output is uniform; the stored digests are not
 * chosen by a client), at most half full. A probe compares the whole
 * digest with CRYPTO_memcmp, in constant time. Expiry is checked at
 * lookup, so an expired key stops working on the second it expires, not
 * at the next poll. */
#include "keycache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gwconfig.h"
#include "keystore.h"
#include "log.h"

struct keycache_table {
	atomic_int refs;
	size_t n, cap;            /* keys used / allocated */
	struct config_key *keys;
	size_t mask;              /* slots - 1 */
	uint32_t *slots;          /* index + 1 into keys, 0 = empty */
};

static pthread_mutex_t keycache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t keycache_cond = PTHREAD_COND_INITIALIZER;
static struct keycache_table *keycache_current;
static atomic_uint keycache_generation;
static pthread_t keycache_thread;
static int keycache_running, keycache_stopping;
static struct keystore *keycache_store;
static char *keycache_path;
static long keycache_poll_ms;

static _Thread_local struct keycache_table *keycache_local;
static _Thread_local unsigned keycache_local_gen;

static void keycache_table_free(struct keycache_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->keys[i].name);
		free(t->keys[i].tenant);
		free(t->keys[i].purpose);
	}
	free(t->keys);
	free(t->slots);
	free(t);
}

void keycache_release(struct keycache_table *t)
{
	if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
		keycache_table_free(t);
}

static uint64_t keycache_slot_hash(const unsigned char md[32])
{
	uint64_t h;
	memcpy(&h, md, sizeof h);
	return h;
}

static int keycache_table_add(const struct keystore_key *k, void *arg)
{
	struct keycache_table *t = arg;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct config_key *nk = realloc(t->keys, cap * sizeof *nk);
		if (!nk)
			return -1;
		t->keys = nk;
		t->cap = cap;
	}
	struct config_key *c = &t->keys[t->n];
	memset(c, 0, sizeof *c);
	c->name = strdup(k->name);
	c->tenant = strdup(k->tenant);
	c->purpose = strdup(k->purpose);
	if (!c->name || !c->tenant || !c->purpose) {
		free(c->name);
		free(c->tenant);
		free(c->purpose);
		return -1;
	}
	memcpy(c->sha256, k->sha256, 32);
	c->class_floor = k->class_floor;
	c->max_class = k->max_class;
	c->rpm = k->rpm;
	c->tpm = k->tpm;
	c->concurrency = k->concurrency;
	c->expires = k->expires;
	t->n++;
	return 0;
}

struct keycache_table *keycache_table_build(struct keystore *ks, long long now, char *err, size_t errlen)
{
	struct keycache_table *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&t->refs, 1);
	if (keystore_each(ks, 1, now, keycache_table_add, t, err, errlen) < 0 || t->n >= UINT32_MAX / 4) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		keycache_table_free(t);
		return NULL;
	}
	size_t slots = 16;
	while (slots < 2 * t->n)
		slots *= 2;
	t->slots = calloc(slots, sizeof *t->slots);
	if (!t->slots) {
		snprintf(err, errlen, "out of memory");
		keycache_table_free(t);
		return NULL;
	}
	t->mask = slots - 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = keycache_slot_hash(t->keys[i].sha256) & t->mask;
		while (t->slots[s])
			s = (s + 1) & t->mask;
		t->slots[s] = (uint32_t)(i + 1);
	}
	return t;
}

size_t keycache_table_count(const struct keycache_table *t)
{
	return t ? t->n : 0;
}

const struct config_key *keycache_find(const struct keycache_table *t, const unsigned char md[32], long long now)
{
	if (!t || !t->slots)
		return NULL;
	size_t s = keycache_slot_hash(md) & t->mask;
	for (uint32_t idx; (idx = t->slots[s]) != 0; s = (s + 1) & t->mask) {
		const struct config_key *k = &t->keys[idx - 1];
		if (CRYPTO_memcmp(k->sha256, md, 32) == 0)
			return k->expires && k->expires <= now ? NULL : k;
	}
	return NULL;
}

struct keycache_table *keycache_acquire(void)
{
	unsigned g = atomic_load_explicit(&keycache_generation, memory_order_acquire);
	if (g == 0)
		return NULL; /* no store */
	if (g != keycache_local_gen) {
		pthread_mutex_lock(&keycache_lock);
		struct keycache_table *t = keycache_current;
		if (t)
			atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
		g = atomic_load_explicit(&keycache_generation, memory_order_relaxed);
		pthread_mutex_unlock(&keycache_lock);
		keycache_release(keycache_local);
		keycache_local = t;
		keycache_local_gen = g;
	}
	if (keycache_local)
		atomic_fetch_add_explicit(&keycache_local->refs, 1, memory_order_relaxed);
	return keycache_local;
}

void keycache_thread_exit(void)
{
	keycache_release(keycache_local);
	keycache_local = NULL;
	keycache_local_gen = 0;
}

static void keycache_publish(struct keycache_table *t)
{
	pthread_mutex_lock(&keycache_lock);
	struct keycache_table *old = keycache_current;
	keycache_current = t;
	unsigned g = atomic_load(&keycache_generation) + 1;
	atomic_store_explicit(&keycache_generation, g ? g : 1, memory_order_release);
	pthread_mutex_unlock(&keycache_lock);
	keycache_release(old);
}

struct keycache_stamp {
	int64_t version;      /* PRAGMA data_version: any commit by anyone */
	int64_t keys_version; /* keys_meta: a change to the keys */
	dev_t dev;
	ino_t ino;
};

static void keycache_stamp_get(struct keycache_stamp *s, const struct keycache_stamp *prev)
{
	struct stat st;
	s->version = keycache_store ? keystore_version(keycache_store) : -1;
	/* The counter is read only when something was committed. */
	s->keys_version = prev && prev->version == s->version ? prev->keys_version :
	    keycache_store ? keystore_keys_version(keycache_store) : -1;
	if (stat(keycache_path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	} else {
		s->dev = 0;
		s->ino = 0;
	}
}

/* Rebuilds from the store; on failure the old table stays (a half-written
 * or broken store must not lock everyone out, nor let anyone in). */
static void keycache_reload(void)
{
	char err[KEYSTORE_ERR_LEN] = "";
	struct keycache_table *t = keycache_table_build(keycache_store, (long long)time(NULL), err, sizeof err);
	if (!t) {
		log_warnx("key store %s: %s; keeping the keys loaded before", keycache_path, err);
		return;
	}
	size_t n = t->n;
	keycache_publish(t);
	log_info("key store %s: %zu live keys loaded", keycache_path, n);
}

static void *keycache_loader(void *arg)
{
	(void)arg;
	struct keycache_stamp seen, now;
	keycache_stamp_get(&seen, NULL);
	pthread_mutex_lock(&keycache_lock);
	while (!keycache_stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += keycache_poll_ms / 1000;
		ts.tv_nsec += (keycache_poll_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&keycache_cond, &keycache_lock, &ts);
		if (keycache_stopping)
			break;
		pthread_mutex_unlock(&keycache_lock);
		keycache_stamp_get(&now, &seen);
		if (now.dev != seen.dev || now.ino != seen.ino) {
			/* Replaced on disk (restored from a backup, moved in place):
			 * a new connection sees the new file. */
			char err[KEYSTORE_ERR_LEN];
			struct keystore *ks = keystore_open(keycache_path, 0, err, sizeof err);
			if (ks) {
				keystore_close(keycache_store);
				keycache_store = ks;
				keycache_stamp_get(&now, NULL);
				seen.keys_version = -2; /* a new file: load it */
			} else {
				log_warnx("key store: %s; keeping the keys loaded before", err);
			}
		}
		if (now.keys_version != seen.keys_version || now.dev != seen.dev || now.ino != seen.ino)
			keycache_reload();
		seen = now;
		pthread_mutex_lock(&keycache_lock);
	}
	pthread_mutex_unlock(&keycache_lock);
	return NULL;
}

int keycache_start(const char *path, long poll_ms, char *err, size_t errlen)
{
	if (keycache_running)
		return 0;
	keycache_path = strdup(path);
	keycache_poll_ms = poll_ms > 0 ? poll_ms : 1000;
	if (!keycache_path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	keycache_store = keystore_open(path, 1, err, errlen);
	if (!keycache_store)
		return -1;
	struct keycache_table *t = keycache_table_build(keycache_store, (long long)time(NULL), err, errlen);
	if (!t)
		return -1;
	keycache_publish(t);
	keycache_stopping = 0;
	if (pthread_create(&keycache_thread, NULL, keycache_loader, NULL) != 0) {
		snprintf(err, errlen, "cannot start the key loader thread: %s", strerror(errno));
		return -1;
	}
	keycache_running = 1;
	return 0;
}

void keycache_stop(void)
{
	if (keycache_running) {
		pthread_mutex_lock(&keycache_lock);
		keycache_stopping = 1;
		pthread_cond_signal(&keycache_cond);
		pthread_mutex_unlock(&keycache_lock);
		pthread_join(keycache_thread, NULL);
		keycache_running = 0;
	}
	keycache_thread_exit();
	pthread_mutex_lock(&keycache_lock);
	struct keycache_table *t = keycache_current;
	keycache_current = NULL;
	atomic_store(&keycache_generation, 0);
	pthread_mutex_unlock(&keycache_lock);
	keycache_release(t);
	keystore_close(keycache_store);
	keycache_store = NULL;
	free(keycache_path);
	keycache_path = NULL;
}

/* Only a certificate the TLS layer verified against client_ca counts. */
const struct config_key *keycache_identity_find(const struct config *cfg, struct ssl_st *ssl)
{
	if (!cfg->n_identities || !ssl || SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (!cert)
		return NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[65] = "", cn[256] = "";
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	int cnlen = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
	/* A fingerprint names one certificate: it wins over a CN. */
	for (size_t i = 0; hex[0] && i < cfg->n_identities; i++)
		if (cfg->identities[i].cert_sha256 && strcmp(cfg->identities[i].cert_sha256, hex) == 0)
			return &cfg->identities[i];
	/* A CN with an embedded NUL would compare as its prefix: not matched. */
	for (size_t i = 0; cnlen > 0 && (size_t)cnlen == strlen(cn) && i < cfg->n_identities; i++)
		if (cfg->identities[i].cn && strcmp(cfg->identities[i].cn, cn) == 0)
			return &cfg->identities[i];
	return NULL;
}
