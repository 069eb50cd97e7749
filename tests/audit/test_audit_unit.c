/* Unit tests of the audit pieces: RFC 6962 vectors, inclusion paths, the
 * canonical record encoding, checkpoint lines, AES-GCM and key wrapping,
 * configuration, retention rules, and the writer on a real SQLite file
 * (group commit, completion callbacks, health on a full disk). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "gateway/audit.h"
#include "tests/tap.h"

/* RFC 6962 test data as used by Certificate Transparency implementations:
 * the eight leaves and the tree heads of sizes 1..8. */
static const char *const ct_leaves[] = { "", "00", "10", "2021", "3031", "40414243",
	"5051525354555657", "606162636465666768696a6b6c6d6e6f" };
static const char *const ct_roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
static const char *const ct_path0[] = {
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};

static void hexof(const unsigned char *h, char out[65])
{
	audit_crypto_hex(h, 32, out);
}

/* Straight recursive MTH from the RFC text, to check the stack version. */
static void naive_mth(unsigned char (*l)[32], uint64_t n, unsigned char out[32])
{
	if (n == 1) {
		memcpy(out, l[0], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	unsigned char a[32], b[32];
	naive_mth(l, k, a);
	naive_mth(l + k, n - k, b);
	audit_merkle_node_hash(a, b, out);
}

static void test_merkle(void)
{
	unsigned char leaves[300][32], root[32], path[64][32];
	char hex[65];
	for (int i = 0; i < 8; i++) {
		unsigned char d[16];
		size_t n = strlen(ct_leaves[i]) / 2;
		audit_crypto_unhex(ct_leaves[i], 2 * n, d, n);
		audit_merkle_leaf_hash(d, n, leaves[i]);
	}
	audit_merkle_root((const unsigned char (*)[32])leaves, 0, root);
	hexof(root, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty tree head");
	int all = 1;
	for (int n = 1; n <= 8; n++) {
		audit_merkle_root((const unsigned char (*)[32])leaves, (uint64_t)n, root);
		hexof(root, hex);
		if (strcmp(hex, ct_roots[n - 1]) != 0) {
			tap_diag("size %d: %s", n, hex);
			all = 0;
		}
	}
	ok(all, "RFC 6962 tree heads for sizes 1..8");
	int plen = audit_merkle_path((const unsigned char (*)[32])leaves, 8, 0, path);
	int same = plen == 3;
	for (int i = 0; same && i < 3; i++) {
		hexof(path[i], hex);
		same = strcmp(hex, ct_path0[i]) == 0;
	}
	ok(same, "inclusion path of leaf 0 in a tree of 8 matches the reference");

	for (int i = 8; i < 300; i++) {
		unsigned char d[4] = { (unsigned char)i, (unsigned char)(i >> 8), 1, 2 };
		audit_merkle_leaf_hash(d, sizeof d, leaves[i]);
	}
	int stack_ok = 1, paths_ok = 1, forged_rejected = 1;
	for (uint64_t n = 1; n <= 300; n += (n < 40 ? 1 : 37)) {
		unsigned char want[32];
		naive_mth(leaves, n, want);
		audit_merkle_root((const unsigned char (*)[32])leaves, n, root);
		stack_ok &= memcmp(want, root, 32) == 0;
		for (uint64_t m = 0; m < n; m++) {
			plen = audit_merkle_path((const unsigned char (*)[32])leaves, n, m, path);
			paths_ok &= audit_merkle_verify_path(leaves[m], m, n, (const unsigned char (*)[32])path,
			    (size_t)plen, root) == 0;
			if (n > 1) {
				forged_rejected &= audit_merkle_verify_path(leaves[(m + 1) % n], m, n,
				    (const unsigned char (*)[32])path, (size_t)plen, root) != 0;
				path[0][5] ^= 1;
				forged_rejected &= audit_merkle_verify_path(leaves[m], m, n,
				    (const unsigned char (*)[32])path, (size_t)plen, root) != 0;
			}
		}
	}
	ok(stack_ok, "incremental tree head equals the recursive definition (1..300 leaves)");
	ok(paths_ok, "every inclusion path verifies (RFC 9162 2.1.3.2)");
	ok(forged_rejected, "wrong leaf or altered path is rejected");
}

static void test_record(void)
{
	struct audit_finding f1[] = { { "IBAN", 1 }, { "EMAIL", 3 } }, f2[] = { { "EMAIL", 3 }, { "IBAN", 1 } };
	const char *acts[] = { "redact", "route" };
	struct audit_record r = { .kind = AUDIT_KIND_REQUEST, .seq = 7, .request_id = "r-1",
		.t_start = 1, .t_end = 99, .tenant = "t", .purpose = "support",
		.findings = f1, .n_findings = 2, .actions = acts, .n_actions = 2, .status = 200,
		.content = (const unsigned char *)"\x01\x02", .content_len = 2 };
	unsigned char *a, *b;
	size_t al, bl;
	char err[256];
	struct audit_record d;

	ok(audit_record_encode(&r, &a, &al, err, sizeof err) == 0, "encode");
	r.findings = f2;
	audit_record_encode(&r, &b, &bl, err, sizeof err);
	ok(al == bl && memcmp(a, b, al) == 0, "finding order does not change the encoding (canonical)");
	free(b);
	ok(audit_record_decode(a, al, &d, err, sizeof err) == 0, "decode");
	is_str(d.request_id, "r-1", "request id round-trips");
	ok(d.seq == 7 && d.t_end == 99 && d.status == 200 && d.n_findings == 2 &&
	    strcmp(d.findings[0].type, "EMAIL") == 0 && d.findings[0].count == 3 &&
	    d.n_actions == 2 && strcmp(d.actions[1], "route") == 0 && d.content_len == 2,
	    "every field round-trips");
	unsigned char *c;
	size_t cl;
	ok(audit_record_encode(&d, &c, &cl, err, sizeof err) == 0 && cl == al && memcmp(a, c, al) == 0,
	    "re-encoding a decoded record gives the same bytes");
	free(c);
	audit_record_clear(&d);
	int trunc = 1;
	for (size_t n = 0; n < al; n++)
		if (audit_record_decode(a, n, &d, err, sizeof err) == 0) {
			trunc = 0;
			audit_record_clear(&d);
		}
	ok(trunc, "every truncation is rejected");
	unsigned char *longer = malloc(al + 1);
	memcpy(longer, a, al);
	longer[al] = 0;
	ok(audit_record_decode(longer, al + 1, &d, err, sizeof err) < 0, "trailing bytes rejected");
	free(longer);
	a[AUDIT_RECORD_HEADER_LEN] = 9; /* first tag out of order */
	ok(audit_record_decode(a, al, &d, err, sizeof err) < 0 && strstr(err, "request_id"),
	    "field out of order rejected with its name: %s", err);
	free(a);
	struct audit_finding dup[] = { { "EMAIL", 1 }, { "EMAIL", 2 } };
	r.findings = dup;
	ok(audit_record_encode(&r, &a, &al, err, sizeof err) < 0, "duplicate finding type refused");
}

static EVP_PKEY *test_key(const char *dir, int priv)
{
	char p[512], err[256];
	snprintf(p, sizeof p, "%s/%s", dir, priv ? "audit-signing.key" : "audit-signing.pub");
	return audit_checkpoint_load_key(p, priv, err, sizeof err);
}

static void test_checkpoint(const char *dir)
{
	struct audit_checkpoint cp = { .size = 42, .time = 1700000000 }, back;
	char line[512], err[256];
	EVP_PKEY *k = test_key(dir, 1), *pub = test_key(dir, 0);
	memset(cp.root, 0xab, 32);
	ok(k && pub, "keygen keys load");
	ok(audit_checkpoint_sign(&cp, k, err, sizeof err) == 0, "sign");
	audit_checkpoint_format(&cp, line, sizeof line);
	ok(audit_checkpoint_parse(line, strlen(line), &back, err, sizeof err) == 0 && back.size == 42 &&
	    back.time == 1700000000 && memcmp(back.root, cp.root, 32) == 0, "format/parse round trip");
	ok(audit_checkpoint_check_sig(&back, pub) == 0, "signature verifies with the public key");
	back.size = 43;
	ok(audit_checkpoint_check_sig(&back, pub) < 0, "altered size fails the signature");
	static const char *const bad[] = {
		"hafen-checkpoint v1 042 ", "hafen-checkpoint v2 1 ", "hafen-checkpoint v1 -1 ",
		"hafen-checkpoint v1 99999999999999999999999 ",
	};
	int rej = 1;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		rej &= audit_checkpoint_parse(bad[i], strlen(bad[i]), &back, err, sizeof err) < 0;
	line[30] = 'G';
	rej &= audit_checkpoint_parse(line, strlen(line), &back, err, sizeof err) < 0;
	ok(rej, "malformed checkpoint lines rejected");
	EVP_PKEY_free(k);
	EVP_PKEY_free(pub);
}

static void test_crypto(void)
{
	unsigned char k[32], k2[32], ct[64 + AUDIT_GCM_OVERHEAD], pt[64], w[AUDIT_WRAPPED_LEN];
	char p1[65], p2[65];
	memset(k, 7, 32);
	const char *msg = "prompt text";
	ok(audit_crypto_seal(k, (const unsigned char *)"r1", 2, (const unsigned char *)msg, 11, ct) == 0 &&
	    audit_crypto_open(k, (const unsigned char *)"r1", 2, ct, 11 + AUDIT_GCM_OVERHEAD, pt) == 0 &&
	    memcmp(pt, msg, 11) == 0, "AES-256-GCM round trip");
	ok(audit_crypto_open(k, (const unsigned char *)"r2", 2, ct, 11 + AUDIT_GCM_OVERHEAD, pt) < 0,
	    "other request id (AAD) fails");
	ct[15] ^= 1;
	ok(audit_crypto_open(k, (const unsigned char *)"r1", 2, ct, 11 + AUDIT_GCM_OVERHEAD, pt) < 0,
	    "flipped ciphertext bit fails");
	memset(k2, 9, 32);
	ok(audit_crypto_wrap(k2, "subj", k, w) == 0 && audit_crypto_unwrap(k2, "subj", w, pt) == 0 &&
	    memcmp(pt, k, 32) == 0, "data key wrap round trip");
	ok(audit_crypto_unwrap(k2, "other", w, pt) < 0, "wrapped key bound to its subject");
	audit_crypto_pseudonym(k, "alice", p1);
	audit_crypto_pseudonym(k2, "alice", p2);
	ok(strlen(p1) == 64 && strcmp(p1, p2) != 0, "pseudonym depends on the HMAC key");
	audit_crypto_pseudonym(k, "alice", p2);
	is_str(p1, p2, "pseudonym is stable");
	/* the RFC 2104 construction against OpenSSL's HMAC-SHA-256: empty,
	 * short, one block, longer than a block, non-ASCII */
	static const char *const users[] = { "", "a", "alice@example.org",
		"0123456789012345678901234567890123456789012345678901234567890123", "J\xc3\xbcrgen M\xc3\xbcller" };
	int same = 1;
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		unsigned char mac[32];
		unsigned int ml = sizeof mac;
		char want[65];
		HMAC(EVP_sha256(), k2, AUDIT_KEY_LEN, (const unsigned char *)users[i], strlen(users[i]), mac, &ml);
		audit_crypto_hex(mac, 32, want);
		audit_crypto_pseudonym(k2, users[i], p2);
		same &= strcmp(want, p2) == 0;
	}
	ok(same, "pseudonym equals OpenSSL's HMAC-SHA-256 (RFC 2104) for 5 users");
}

static void test_config(void)
{
	struct audit_config c;
	char err[256], out[64];
	json_error_t je;
	json_t *j = json_loads("{\"database\":\"a.db\",\"checkpoints\":\"a.cp\",\"signing_key\":\"k\","
	    "\"durability\":\"batch\",\"checkpoint_every\":100,\"client_address\":\"none\"}", 0, &je);
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "hafen.json", err, sizeof err) == 0 && c.durability == AUDIT_DURABILITY_BATCH &&
	    c.checkpoint_every == 100 && c.client_addr == AUDIT_CLIENT_ADDR_NONE && strcmp(c.db_path, "a.db") == 0,
	    "audit section parsed");
	audit_config_clear(&c);
	/* relative paths live beside the config file, absolute ones stay */
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "/etc/hafen/hafen.json", err, sizeof err) == 0 &&
	    strcmp(c.db_path, "/etc/hafen/a.db") == 0 && strcmp(c.signing_key_path, "/etc/hafen/k") == 0,
	    "relative paths resolved against the config file's folder");
	audit_config_clear(&c);
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "/hafen.json", err, sizeof err) == 0 && strcmp(c.db_path, "/a.db") == 0,
	    "config in /: a path under /");
	audit_config_clear(&c);
	json_decref(j);
	j = json_loads("{\"database\":\"/var/lib/a.db\",\"checkpoints\":\"cp/a.cp\",\"signing_key\":\"k\"}", 0, &je);
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "conf/hafen.json", err, sizeof err) == 0 &&
	    strcmp(c.db_path, "/var/lib/a.db") == 0 && strcmp(c.checkpoint_path, "conf/cp/a.cp") == 0,
	    "absolute path kept, relative one under a relative folder");
	json_decref(j);
	audit_config_clear(&c);
	j = json_loads("{\"database\":\"a.db\",\"durability\":\"sometimes\"}", 0, &je);
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "hafen.json", err, sizeof err) < 0 &&
	    strcmp(err, "hafen.json: audit.durability: expected one of request, batch") == 0,
	    "error names file, path and expectation: %s", err);
	json_decref(j);
	audit_config_clear(&c);
	j = json_loads("{\"databse\":\"a.db\"}", 0, &je);
	audit_config_defaults(&c);
	ok(audit_config_parse(&c, j, "hafen.json", err, sizeof err) < 0 && strstr(err, "audit.databse: unknown key"),
	    "unknown key rejected");
	json_decref(j);
	audit_config_clear(&c);
	audit_config_client_addr(AUDIT_CLIENT_ADDR_TRUNCATED, "192.168.7.42", out, sizeof out);
	is_str(out, "192.168.7.0", "IPv4 truncated to /24");
	static const char *const v4[][2] = { { "0.0.0.0", "0.0.0.0" }, { "255.255.255.255", "255.255.255.0" },
		{ "1.2.3.4", "1.2.3.0" }, { "01.2.3.4", "" }, { "1.2.3", "" }, { "1.2.3.4.", "" } };
	int v4ok = 1;
	for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
		audit_config_client_addr(AUDIT_CLIENT_ADDR_TRUNCATED, v4[i][0], out, sizeof out);
		v4ok &= strcmp(out, v4[i][1]) == 0;
	}
	char tiny[8];
	audit_config_client_addr(AUDIT_CLIENT_ADDR_TRUNCATED, "1.2.3.4", tiny, sizeof tiny);
	ok(v4ok && strcmp(tiny, "1.2.3.0") == 0, "IPv4 /24 at the edges; what inet_pton refuses is stored as nothing");
	audit_config_client_addr(AUDIT_CLIENT_ADDR_TRUNCATED, "2001:db8:1:2:3::9", out, sizeof out);
	is_str(out, "2001:db8:1::", "IPv6 truncated to /48");
	audit_config_client_addr(AUDIT_CLIENT_ADDR_NONE, "10.0.0.1", out, sizeof out);
	is_str(out, "", "client address none");
	audit_config_client_addr(AUDIT_CLIENT_ADDR_FULL, "2001:db8:1:2:3::9", out, sizeof out);
	is_str(out, "2001:db8:1:2:3::9", "client address full");
	audit_config_client_addr(AUDIT_CLIENT_ADDR_FULL, "2001:db8:1:2:3::9", tiny, sizeof tiny);
	is_str(tiny, "2001:db", "client address full, cut to the buffer");
	audit_config_client_addr(AUDIT_CLIENT_ADDR_FULL, NULL, out, sizeof out);
	is_str(out, "", "no client address");
	struct audit_retention r[] = { { "hr-decisions", NULL, 90, 1 } };
	ok(audit_retention_check(r, 1, err, sizeof err) < 0 && strstr(err, "180") && strstr(err, "Art. 19"),
	    "high-risk purpose under 180 days rejected: %s", err);
	r[0].retention_days = 180;
	ok(audit_retention_check(r, 1, err, sizeof err) == 0, "180 days accepted");
}

struct test_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, ok, fail;
	uint64_t last_seq;
};

static void test_done(void *arg, int status, uint64_t seq)
{
	struct test_wait *w = arg;
	pthread_mutex_lock(&w->mu);
	w->done++;
	if (status == 0) {
		w->ok++;
		w->last_seq = seq;
	} else {
		w->fail++;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void test_wait_for(struct test_wait *w, int n)
{
	pthread_mutex_lock(&w->mu);
	while (w->done < n)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void test_writer(const char *dir)
{
	char db[512], cp[512], key[512], pub[512], err[256];
	struct audit_config c;
	struct audit_health h;
	struct test_wait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 };
	snprintf(db, sizeof db, "%s/w.db", dir);
	snprintf(cp, sizeof cp, "%s/w.cp", dir);
	snprintf(key, sizeof key, "%s/audit-signing.key", dir);
	snprintf(pub, sizeof pub, "%s/audit-signing.pub", dir);
	audit_config_defaults(&c);
	c.db_path = db;
	c.checkpoint_path = cp;
	c.signing_key_path = key;
	c.checkpoint_every = 100;
	struct audit_log *log = audit_open(&c, err, sizeof err);
	ok(log != NULL, "open: %s", log ? "" : err);
	if (!log)
		return;
	struct audit_record r = { .kind = AUDIT_KIND_REQUEST, .purpose = "support", .data_class = "internal" };
	char ps[65], addr[64];
	ok(audit_pseudonym(log, "alice", ps) < 0, "no HMAC key configured: no pseudonym");
	audit_client_addr(log, "10.9.8.7", addr, sizeof addr);
	is_str(addr, "10.9.8.0", "client address follows the configured mode (truncated)");
	ok(audit_durability_for(log, "restricted") == AUDIT_DURABILITY_REQUEST &&
	    audit_durability_for(log, "confidential") == AUDIT_DURABILITY_REQUEST,
	    "confidential and restricted requests wait for their record");
	int n = 1000;
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "w-%d", i);
		r.request_id = id;
		r.t_start = (uint64_t)i;
		audit_submit(log, &r, NULL, 0, i % 2 ? AUDIT_DURABILITY_BATCH : AUDIT_DURABILITY_REQUEST, test_done, &w);
	}
	test_wait_for(&w, n);
	is_int(w.ok, n, "every record acknowledged as committed");
	is_int(w.last_seq, n - 1, "sequence numbers are dense and in submit order");
	/* Records larger than the submit's stack buffer and than a queue slab
	 * (64 KiB), between small ones: each is stored whole, in order. */
	static const size_t note_len[] = { 3000, 100000, 10, 70000 };
	for (size_t i = 0; i < 4; i++) {
		char *note = malloc(note_len[i] + 1);
		memset(note, 'a' + (int)i, note_len[i]);
		note[note_len[i]] = 0;
		struct audit_record big = r;
		big.request_id = "big";
		big.note = note;
		audit_submit(log, &big, NULL, 0, AUDIT_DURABILITY_BATCH, test_done, &w);
		free(note);
	}
	n += 4;
	test_wait_for(&w, n);
	/* the checkpoint follows the commit that crossed checkpoint_every */
	for (int t = 0; t < 200; t++) {
		audit_get_health(log, &h);
		if (h.checkpoints)
			break;
		usleep(10000);
	}
	ok(h.ok && h.committed == (uint64_t)n && h.tree_size == (uint64_t)n && h.checkpoints >= 1,
	    "health: ok, counters (committed %llu, checkpoints %llu)", (unsigned long long)h.committed,
	    (unsigned long long)h.checkpoints);
	audit_close(log);
	struct audit_verify_result vr;
	ok(audit_verify(db, cp, pub, &vr) == 0 && vr.records == (uint64_t)n, "verify after close: %s", vr.msg);
	ok(strstr(vr.msg, " 0 records after the last checkpoint") != NULL, "close signs a final checkpoint");
	sqlite3 *rdb = audit_db_open(db, 1, err, sizeof err);
	sqlite3_stmt *st = NULL;
	int notes_ok = rdb && sqlite3_prepare_v2(rdb, "SELECT body FROM audit_records WHERE seq = ?", -1, &st, NULL) == SQLITE_OK;
	for (size_t i = 0; notes_ok && i < 4; i++) {
		struct audit_record d;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, n - 4 + (sqlite3_int64)i);
		notes_ok = sqlite3_step(st) == SQLITE_ROW &&
		    audit_record_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &d, err, sizeof err) == 0;
		if (notes_ok) {
			notes_ok = d.note && strlen(d.note) == note_len[i] && d.note[0] == 'a' + (int)i &&
			    d.note[note_len[i] - 1] == 'a' + (int)i && strcmp(d.request_id, "big") == 0;
			audit_record_clear(&d);
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(rdb);
	ok(notes_ok, "records of 3 KB, 100 KB, 10 B and 70 KB (past the stack buffer and a slab) stored whole, in order");

	/* A checkpoint file that cannot be written: records still commit, the
	 * failure is counted and named, nothing spins. */
	snprintf(db, sizeof db, "%s/nocp.db", dir);
	snprintf(cp, sizeof cp, "%s/no-such-dir/nocp.cp", dir);
	c.checkpoint_every = 1;
	log = audit_open(&c, err, sizeof err);
	ok(log != NULL, "open with an unwritable checkpoint path");
	if (!log)
		return;
	memset(&w, 0, sizeof w);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	r.request_id = "nocp";
	audit_submit(log, &r, NULL, 0, AUDIT_DURABILITY_REQUEST, test_done, &w);
	test_wait_for(&w, 1);
	for (int t = 0; t < 200; t++) {
		audit_get_health(log, &h);
		if (h.checkpoint_errors)
			break;
		usleep(10000);
	}
	ok(w.ok == 1 && h.ok && h.checkpoint_errors >= 1 && strstr(h.last_error, "nocp.cp"),
	    "checkpoint failure counted, records committed (%s)", h.last_error);
	audit_close(log);
	c.checkpoint_every = 100;

	/* Disk full: a quota of a few pages. Callbacks report failure, the
	 * health getter says not ok, nothing crashes, nothing is half written. */
	snprintf(db, sizeof db, "%s/full.db", dir);
	snprintf(cp, sizeof cp, "%s/full.cp", dir);
	c.max_pages = 12;
	log = audit_open(&c, err, sizeof err);
	ok(log != NULL, "open with a page quota");
	if (!log)
		return;
	memset(&w, 0, sizeof w);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	r.note = big;
	for (int i = 0; i < 200; i++) {
		char id[32];
		snprintf(id, sizeof id, "f-%d", i);
		r.request_id = id;
		audit_submit(log, &r, NULL, 0, AUDIT_DURABILITY_REQUEST, test_done, &w);
		test_wait_for(&w, i + 1);
	}
	audit_get_health(log, &h);
	ok(w.fail > 0 && w.ok > 0 && !h.ok && h.failed == (uint64_t)w.fail,
	    "full disk: %d committed, %d reported as failed, health not ok (%s)", w.ok, w.fail, h.last_error);
	audit_close(log);
	ok(audit_verify(db, cp, pub, &vr) == 0 && vr.records == (uint64_t)w.ok,
	    "after a full disk exactly the acknowledged records are stored and verify: %s", vr.msg);
}

/* A database made with the subject indexes of earlier versions (the full
 * one, then the partial one): opening it for writing drops both, so that
 * records are appended without a random index insert each, and the export
 * query scans the table. */
static void test_migration(const char *dir)
{
	char path[600], err[AUDIT_ERR_LEN];
	snprintf(path, sizeof path, "%s/old.db", dir);
	sqlite3 *db = NULL;
	int made = sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "CREATE TABLE audit_records(seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL, body BLOB,"
	        " kind INTEGER NOT NULL, request_id TEXT, subject TEXT, purpose TEXT, data_class TEXT, t_start INTEGER);"
	        "CREATE INDEX audit_records_subject ON audit_records(subject);"
	        "CREATE INDEX audit_records_subject_set ON audit_records(subject) WHERE subject <> '';",
	        NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	db = made ? audit_db_open(path, 0, err, sizeof err) : NULL;
	sqlite3_stmt *st = NULL;
	int n_idx = -1, scans = 0;
	if (db && sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records'",
	        -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n_idx = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (db && sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT seq, body FROM audit_records"
	        " WHERE subject = ?1 AND subject <> '' AND body IS NOT NULL ORDER BY seq", -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			scans |= strncmp((const char *)sqlite3_column_text(st, 3), "SCAN audit_records", 18) == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	ok(made && n_idx == 0 && scans, "an old database loses its subject indexes; the export query scans the table in seq order");
}

int main(void)
{
	char dir[] = "/tmp/hafen-audit-unit-XXXXXX", cmd[1024];
	if (!mkdtemp(dir))
		tap_skip_all("no temporary directory");
	test_merkle();
	test_record();
	test_crypto();
	test_config();
	/* keys through the real hafenctl keygen */
	const char *bd = getenv("top_builddir");
	snprintf(cmd, sizeof cmd, "%s/gateway/hafenctl audit keygen --dir %s/k >/dev/null", bd ? bd : ".", dir);
	ok(system(cmd) == 0, "hafenctl audit keygen");
	char kd[128];
	snprintf(kd, sizeof kd, "%s/k", dir);
	test_checkpoint(kd);
	test_writer(kd);
	test_migration(kd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	tap_done();
	return tap_exit_status();
}
