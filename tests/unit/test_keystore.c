/* The key store on a real SQLite file in a temp folder, and the key
 * cache's hash table built from it: create, rotate (with and without
 * grace), revoke, expiry, lookups of every key and of unknown digests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "gateway/gwconfig.h"
#include "gateway/keycache.h"
#include "gateway/keystore.h"
#include "gateway/usage.h"
#include "tests/tap.h"

static void digest(const char *s, unsigned char md[32])
{
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
}

static int count_rows(const struct keystore_key *k, void *arg)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

static struct keycache_table *t_lookup;

/* Builds a fresh table from the store (as the loader does) and looks up. */
static const struct config_key *lookup(struct keystore *ks, const char *secret, long long now)
{
	struct keycache_table *t;
	char err[KEYSTORE_ERR_LEN] = "";
	unsigned char md[32];
	keycache_release(t_lookup);
	t = t_lookup = keycache_table_build(ks, now, err, sizeof err);
	if (!t)
		return NULL;
	digest(secret, md);
	return keycache_find(t, md, now);
}

int main(void)
{
	char dir[] = "/tmp/hafen-keystore.XXXXXX", path[256], err[KEYSTORE_ERR_LEN] = "";
	if (!mkdtemp(dir)) {
		tap_skip_all("no temp folder");
		return 0;
	}
	snprintf(path, sizeof path, "%s/keys.db", dir);
	ok(keystore_open(path, 0, err, sizeof err) == NULL, "open without create: a missing store is an error");
	struct keystore *ks = keystore_open(path, 1, err, sizeof err);
	ok(ks != NULL, "create the store");
	if (!ks) {
		tap_diag("%s", err);
		tap_done();
		return 1;
	}
	long long now = 1800000000;
	struct keystore_key k = {.name = "alice", .tenant = "t1", .purpose = "chat", .max_class = 2, .rpm = 60,
	    .created = now};
	char s1[KEYSTORE_SECRET_LEN + 1], s2[KEYSTORE_SECRET_LEN + 1], s3[KEYSTORE_SECRET_LEN + 1];
	is_int(keystore_create(ks, &k, s1, err, sizeof err), 0, "create alice");
	is_int((int)strlen(s1), KEYSTORE_SECRET_LEN, "secret length");
	ok(strncmp(s1, "hk-", 3) == 0, "secret prefix");
	is_int(keystore_create(ks, &k, s2, err, sizeof err), -1, "a second live alice is refused");
	struct keystore_key bad = {.name = "has space", .tenant = "t", .purpose = "p", .created = now};
	is_int(keystore_create(ks, &bad, s2, err, sizeof err), -1, "a name with a space is refused");

	const struct config_key *f = lookup(ks, s1, now);
	ok(f != NULL, "the cache finds alice by her secret");
	is_str(f ? f->tenant : NULL, "t1", "tenant");
	is_str(f ? f->purpose : NULL, "chat", "purpose");
	is_int(f ? f->max_class : -1, 2, "max_class");
	is_int(f ? (int)f->rpm : -1, 60, "rpm");
	ok(lookup(ks, "hk-not-a-key", now) == NULL, "an unknown secret is not found");

	/* the file holds the digest, never the secret */
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);
	size_t n = fp && buf ? fread(buf, 1, 1 << 20, fp) : 0;
	int found = 0;
	for (size_t i = 0; n > 48 && i + 48 <= n; i++)
		found |= memcmp(buf + i, s1 + 3, 48) == 0;
	ok(!found, "the secret is not in the file");
	free(buf);
	if (fp)
		fclose(fp);

	/* rotate without grace: old refused, new works */
	is_int(keystore_rotate(ks, "alice", 0, now + 10, s2, err, sizeof err), 0, "rotate alice");
	ok(lookup(ks, s1, now + 10) == NULL, "rotate without grace: the old secret is gone");
	f = lookup(ks, s2, now + 10);
	ok(f && f->max_class == 2 && f->rpm == 60, "the new secret keeps the settings");
	/* rotate with grace: both work until the grace ends */
	is_int(keystore_rotate(ks, "alice", 30, now + 20, s3, err, sizeof err), 0, "rotate with 30 s grace");
	ok(lookup(ks, s2, now + 20) != NULL, "grace: the old secret still works");
	ok(lookup(ks, s3, now + 20) != NULL, "grace: the new one too");
	ok(lookup(ks, s2, now + 50) == NULL, "after the grace the old secret is refused");
	ok(lookup(ks, s3, now + 50) != NULL, "... the new one is not");
	is_int(keystore_revoke(ks, "alice", now + 60, err, sizeof err), 0, "revoke alice");
	ok(lookup(ks, s3, now + 60) == NULL, "revoked: refused");
	is_int(keystore_revoke(ks, "alice", now + 61, err, sizeof err), -1, "revoke again: no live key");
	is_int(keystore_rotate(ks, "alice", 0, now + 62, s3, err, sizeof err), -1, "rotate a revoked key: refused");
	k.created = now + 70;
	is_int(keystore_create(ks, &k, s3, err, sizeof err), 0, "a revoked name may be created again");

	/* expiry at lookup: the table need not be rebuilt */
	struct keystore_key e = {.name = "bob", .tenant = "t2", .purpose = "chat", .max_class = 3, .created = now,
	    .expires = now + 100};
	char s4[KEYSTORE_SECRET_LEN + 1];
	is_int(keystore_create(ks, &e, s4, err, sizeof err), 0, "create bob, expiring");
	struct keycache_table *t = keycache_table_build(ks, now, err, sizeof err);
	unsigned char md[32];
	digest(s4, md);
	ok(keycache_find(t, md, now + 99) != NULL, "bob works before his expiry");
	ok(keycache_find(t, md, now + 100) == NULL, "... and not from his expiry on, same table");
	keycache_release(t);

	/* many keys: every one is found, probing stays correct */
	int64_t v0 = keystore_version(ks);
	sqlite3 *db = keystore_db(ks);
	char (*secrets)[KEYSTORE_SECRET_LEN + 1] = calloc(2000, sizeof *secrets);
	int made = 0;
	for (int i = 0; i < 2000; i++) {
		char name[32];
		snprintf(name, sizeof name, "k%04d", i);
		struct keystore_key m = {.name = name, .tenant = "bulk", .purpose = "chat", .max_class = 3, .created = now};
		made += keystore_create(ks, &m, secrets[i], err, sizeof err) == 0;
	}
	is_int(made, 2000, "2000 more keys");
	t = keycache_table_build(ks, now, err, sizeof err);
	is_int((int)keycache_table_count(t), 2003, "the table holds the live keys (2000 + alice + bob)");
	int hits = 0, right = 0;
	for (int i = 0; i < 2000; i++) {
		digest(secrets[i], md);
		const struct config_key *c = keycache_find(t, md, now);
		char name[32];
		snprintf(name, sizeof name, "k%04d", i);
		hits += c != NULL;
		right += c && strcmp(c->name, name) == 0;
	}
	is_int(hits, 2000, "every key is found");
	is_int(right, 2000, "... as itself");
	int misses = 0;
	for (int i = 0; i < 2000; i++) {
		char fake[32];
		snprintf(fake, sizeof fake, "hk-fake-%d", i);
		digest(fake, md);
		misses += keycache_find(t, md, now) == NULL;
	}
	is_int(misses, 2000, "2000 unknown digests are not found");
	keycache_release(t);
	free(secrets);
	int rows = 0;
	keystore_each(ks, 0, now, count_rows, &rows, err, sizeof err);
	is_int(rows, 2005, "key list sees every row, revoked ones too (4 alice, bob, 2000)");

	/* another connection's commit moves data_version: what the loader polls */
	struct keystore *other = keystore_open(path, 0, err, sizeof err);
	struct keystore_key o = {.name = "carol", .tenant = "t", .purpose = "chat", .max_class = 3, .created = now};
	keystore_create(other, &o, s4, err, sizeof err);
	keystore_close(other);
	ok(keystore_version(ks) != v0, "a commit elsewhere changes the version the loader polls");

	/* usage rows in the same file do not count as a key change */
	int64_t kv = keystore_keys_version(ks);
	ok(usage_db_prepare(db, err, sizeof err) == 0, "the usage table fits in the key store file");
	sqlite3_exec(db, "INSERT INTO usage(minute, key, tenant, purpose, model, upstream, requests)"
	    " VALUES(1, 'k', 't', 'p', 'm', 'u', 1)", NULL, NULL, NULL);
	is_int((int)(keystore_keys_version(ks) - kv), 0, "a usage write leaves the keys version alone");
	keystore_revoke(ks, "carol", now, err, sizeof err);
	ok(keystore_keys_version(ks) > kv, "a revocation moves it");

	/* a row edited by hand to widen a key is refused, not loaded */
	sqlite3_exec(db, "UPDATE keys SET max_class = 9 WHERE name = 'k0001'", NULL, NULL, NULL);
	err[0] = 0;
	t = keycache_table_build(ks, now, err, sizeof err);
	ok(t == NULL && strstr(err, "malformed") != NULL, "a malformed row fails the load (the old table stays)");
	keycache_release(t);
	keycache_release(t_lookup);
	keystore_close(ks);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
	tap_done();
	return tap_exit_status();
}
