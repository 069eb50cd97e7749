/* Offline verification and inclusion proofs. Needs only the database, the
 * checkpoint file and the public key: no master key, no HMAC key.
 *
 * What each check catches:
 *   leaf != H(0x00 || body)          a modified field
 *   body's seq != row's seq          a reordered pair, a moved record
 *   body's prev != previous leaf     a modified or inserted record (leaf
 *                                    recomputed), a deleted one
 *   seq gap                          a deleted record
 *   root(size) != checkpoint root    anything else before a checkpoint
 *   rows < last checkpoint size      a truncated tail, an older copy
 *   bad Ed25519 signature            a forged checkpoint */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "gateway/audit.h"

#define AUDIT_VERIFY_FAIL(res, seq, ...) do { \
	(res)->first_bad = (int64_t)(seq); \
	snprintf((res)->msg, sizeof (res)->msg, __VA_ARGS__); \
	goto done; \
} while (0)

/* Columns 3..8 of the verify query are unhashed copies used by lookups
 * (subject export, prove, reports): they must match the hashed body, or a
 * subject's records could be hidden from an export. */
static int audit_verify_lookup(sqlite3_stmt *st, const unsigned char *body, size_t len)
{
	static const struct {
		int col;
		unsigned tag;
	} cols[] = {
		{ 4, AUDIT_TAG_REQUEST_ID }, { 5, AUDIT_TAG_SUBJECT },
		{ 6, AUDIT_TAG_PURPOSE }, { 7, AUDIT_TAG_DATA_CLASS },
	};
	const unsigned char *val[AUDIT_TAG_DATA_CLASS + 1];
	size_t vlen[AUDIT_TAG_DATA_CLASS + 1];
	if (audit_record_index(body, len, AUDIT_TAG_DATA_CLASS, val, vlen) < 0)
		return -1;
	if (sqlite3_column_int(st, 3) != body[44] || vlen[AUDIT_TAG_T_START] != 8)
		return -1;
	uint64_t t = 0;
	for (int k = 0; k < 8; k++)
		t = t << 8 | val[AUDIT_TAG_T_START][k];
	if ((uint64_t)sqlite3_column_int64(st, 8) != t)
		return -1;
	for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
		const unsigned char *c = sqlite3_column_text(st, cols[k].col);
		size_t n = (size_t)sqlite3_column_bytes(st, cols[k].col);
		if (!c || n != vlen[cols[k].tag] || memcmp(c, val[cols[k].tag], n) != 0)
			return -1;
	}
	return 0;
}

int audit_verify(const char *db_path, const char *cp_path, const char *pub_path,
    struct audit_verify_result *res)
{
	char err[AUDIT_ERR_LEN];
	struct audit_checkpoint *cps = NULL;
	size_t ncp = 0, next_cp = 0;
	EVP_PKEY *pub = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct audit_merkle_stack tree;
	unsigned char prev[AUDIT_HASH_LEN] = { 0 };
	int rc = -1, s;

	memset(res, 0, sizeof *res);
	res->first_bad = -1;
	if (!(pub = audit_checkpoint_load_key(pub_path, 0, err, sizeof err)) ||
	    audit_checkpoint_load(cp_path, &cps, &ncp, err, sizeof err) < 0 ||
	    !(db = audit_db_open(db_path, 1, err, sizeof err))) {
		snprintf(res->msg, sizeof res->msg, "%s", err);
		goto done;
	}
	res->checkpoints = ncp;
	for (size_t i = 0; i < ncp; i++) {
		if (audit_checkpoint_check_sig(&cps[i], pub) < 0)
			AUDIT_VERIFY_FAIL(res, -1, "%s:%zu: checkpoint signature invalid (forged or altered checkpoint)",
			    cp_path, i + 1);
		if (i && (cps[i].size < cps[i - 1].size || cps[i].time < cps[i - 1].time))
			AUDIT_VERIFY_FAIL(res, -1, "%s:%zu: checkpoint goes back in size or time", cp_path, i + 1);
	}
	while (next_cp < ncp && cps[next_cp].size == 0)
		next_cp++;

	if (sqlite3_prepare_v2(db, "SELECT seq, leaf, body, kind, request_id, subject, purpose, data_class, t_start"
	        " FROM audit_records ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		snprintf(res->msg, sizeof res->msg, "%s: %s", db_path, sqlite3_errmsg(db));
		goto done;
	}
	audit_merkle_stack_init(&tree);
	uint64_t i = 0;
	int prev_purged = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		const unsigned char *leaf = sqlite3_column_blob(st, 1);
		const unsigned char *body = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		unsigned char h[AUDIT_HASH_LEN], bprev[AUDIT_HASH_LEN];
		uint64_t bseq;

		if (seq != i)
			AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": missing (deleted); the next stored record is %" PRIu64,
			    i, seq);
		if (sqlite3_column_bytes(st, 1) != AUDIT_HASH_LEN)
			AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": leaf hash missing or malformed", i);
		if (body) {
			if (audit_record_peek(body, len, &bseq, bprev) < 0)
				AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": body is not an audit record", i);
			audit_merkle_leaf_hash(body, len, h);
			if (memcmp(h, leaf, AUDIT_HASH_LEN) != 0)
				AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": content does not match its leaf hash (modified)", i);
			if (bseq != i)
				AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": holds record %" PRIu64 " (reordered, moved or inserted)",
				    i, bseq);
			if (memcmp(bprev, prev, AUDIT_HASH_LEN) != 0)
				AUDIT_VERIFY_FAIL(res, i ? i - 1 : 0,
				    "record %" PRIu64 ": chain link to record %" PRIu64 " broken (record %" PRIu64
				    " modified, or a record inserted or removed before %" PRIu64 ")",
				    i, i ? i - 1 : 0, i ? i - 1 : 0, i);
			if (audit_verify_lookup(st, body, len) < 0)
				AUDIT_VERIFY_FAIL(res, i, "record %" PRIu64 ": a lookup column (kind, request_id, subject, purpose,"
				    " data_class, t_start) differs from the hashed record", i);
			prev_purged = 0;
		} else {
			res->purged++;
			prev_purged = 1;
		}
		memcpy(prev, leaf, AUDIT_HASH_LEN);
		audit_merkle_stack_push(&tree, leaf);
		i++;
		while (next_cp < ncp && cps[next_cp].size == i) {
			unsigned char root[AUDIT_HASH_LEN];
			audit_merkle_stack_root(&tree, root);
			if (memcmp(root, cps[next_cp].root, AUDIT_HASH_LEN) != 0)
				AUDIT_VERIFY_FAIL(res, i - 1, "checkpoint %zu (tree size %" PRIu64 "): root does not match the records%s",
				    next_cp + 1, i, prev_purged ? " (a purged record's leaf was altered)" : "");
			next_cp++;
		}
	}
	if (s != SQLITE_DONE) {
		snprintf(res->msg, sizeof res->msg, "%s: %s", db_path, sqlite3_errmsg(db));
		goto done;
	}
	res->records = i;
	if (next_cp < ncp)
		AUDIT_VERIFY_FAIL(res, i, "the database holds %" PRIu64 " records but checkpoint %zu signed %" PRIu64
		    ": tail truncated or database replaced by an older copy (first missing record %" PRIu64 ")",
		    i, ncp, cps[ncp - 1].size, i);
	uint64_t covered = ncp ? cps[ncp - 1].size : 0;
	snprintf(res->msg, sizeof res->msg, "ok: %" PRIu64 " records (%" PRIu64 " purged), %zu checkpoints; "
	    "%" PRIu64 " records after the last checkpoint are chained but not yet signed",
	    i, res->purged, ncp, i - covered);
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	EVP_PKEY_free(pub);
	free(cps);
	return rc;
}

static json_t *audit_verify_hexval(const unsigned char *b, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	audit_crypto_hex(b, n, s);
	json_t *v = json_string(s);
	free(s);
	return v;
}

json_t *audit_prove(const char *db_path, const char *cp_path,
    const char *request_id, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct audit_checkpoint *cps = NULL;
	size_t ncp = 0;
	unsigned char (*leaves)[AUDIT_HASH_LEN] = NULL;
	unsigned char *body = NULL;
	size_t body_len = 0;
	json_t *out = NULL;
	int64_t m = -1;

	if (audit_checkpoint_load(cp_path, &cps, &ncp, err, errlen) < 0 ||
	    !(db = audit_db_open(db_path, 1, err, errlen)))
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT seq, body FROM audit_records WHERE request_id = ? ORDER BY seq LIMIT 1",
	        -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		m = sqlite3_column_int64(st, 0);
		body_len = (size_t)sqlite3_column_bytes(st, 1);
		if (sqlite3_column_blob(st, 1) && (body = malloc(body_len)))
			memcpy(body, sqlite3_column_blob(st, 1), body_len);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (m < 0) {
		snprintf(err, errlen, "%s: no record with that request id", db_path);
		goto done;
	}
	if (!ncp || cps[ncp - 1].size <= (uint64_t)m) {
		snprintf(err, errlen, "record %" PRId64 " is not covered by a checkpoint yet (run `hafenctl audit checkpoint`)", m);
		goto done;
	}
	const struct audit_checkpoint *cp = &cps[ncp - 1];
	if (cp->size > SIZE_MAX / AUDIT_HASH_LEN || !(leaves = malloc(cp->size * AUDIT_HASH_LEN))) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(db, "SELECT seq, leaf FROM audit_records WHERE seq < ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cp->size);
	uint64_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != n || sqlite3_column_bytes(st, 1) != AUDIT_HASH_LEN)
			break;
		memcpy(leaves[n++], sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
	}
	unsigned char root[AUDIT_HASH_LEN], path[64][AUDIT_HASH_LEN];
	if (n == cp->size)
		audit_merkle_root((const unsigned char (*)[AUDIT_HASH_LEN])leaves, n, root);
	if (n != cp->size || memcmp(root, cp->root, AUDIT_HASH_LEN) != 0) {
		snprintf(err, errlen, "%s does not match the latest checkpoint: run `hafenctl audit verify`", db_path);
		goto done;
	}
	int plen = audit_merkle_path((const unsigned char (*)[AUDIT_HASH_LEN])leaves, n, (uint64_t)m, path);
	char line[512];
	audit_checkpoint_format(cp, line, sizeof line);
	line[strcspn(line, "\n")] = 0;
	out = json_object();
	json_t *pa = json_array();
	for (int k = 0; k < plen; k++)
		json_array_append_new(pa, audit_verify_hexval(path[k], AUDIT_HASH_LEN));
	json_object_set_new(out, "request_id", json_string(request_id));
	json_object_set_new(out, "leaf_index", json_integer(m));
	json_object_set_new(out, "tree_size", json_integer((json_int_t)cp->size));
	json_object_set_new(out, "leaf", audit_verify_hexval(leaves[m], AUDIT_HASH_LEN));
	if (body)
		json_object_set_new(out, "record", audit_verify_hexval(body, body_len));
	json_object_set_new(out, "path", pa);
	json_object_set_new(out, "checkpoint", json_string(line));
	goto done;
sqlfail:
	snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(cps);
	free(leaves);
	free(body);
	return out;
}

static int audit_verify_hexfield(const json_t *o, const char *key, unsigned char *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? audit_crypto_unhex(s, strlen(s), out, n) : -1;
}

int audit_verify_proof(const json_t *proof, const char *pub_path, char *err, size_t errlen)
{
	struct audit_checkpoint cp;
	unsigned char leaf[AUDIT_HASH_LEN], path[64][AUDIT_HASH_LEN];
	const char *line = json_string_value(json_object_get(proof, "checkpoint"));
	const json_t *pa = json_object_get(proof, "path");
	json_int_t m = json_integer_value(json_object_get(proof, "leaf_index"));
	json_int_t n = json_integer_value(json_object_get(proof, "tree_size"));
	const char *rec = json_string_value(json_object_get(proof, "record"));
	char why[128];
	EVP_PKEY *pub;
	int rc = -1;

	if (!line || !json_is_array(pa) || json_array_size(pa) > 64 || m < 0 || n <= m ||
	    audit_verify_hexfield(proof, "leaf", leaf, sizeof leaf) < 0) {
		snprintf(err, errlen, "proof: expected checkpoint, path (at most 64), leaf_index < tree_size, leaf");
		return -1;
	}
	if (audit_checkpoint_parse(line, strlen(line), &cp, why, sizeof why) < 0) {
		snprintf(err, errlen, "proof: checkpoint: %s", why);
		return -1;
	}
	if (cp.size != (uint64_t)n) {
		snprintf(err, errlen, "proof: tree_size differs from the checkpoint's");
		return -1;
	}
	for (size_t k = 0; k < json_array_size(pa); k++) {
		const char *h = json_string_value(json_array_get(pa, k));
		if (!h || audit_crypto_unhex(h, strlen(h), path[k], AUDIT_HASH_LEN) < 0) {
			snprintf(err, errlen, "proof: path[%zu]: expected 64 hex digits", k);
			return -1;
		}
	}
	if (rec) {
		size_t rl = strlen(rec) / 2;
		unsigned char *b = malloc(rl + 1), h[AUDIT_HASH_LEN];
		if (!b || audit_crypto_unhex(rec, strlen(rec), b, rl) < 0) {
			free(b);
			snprintf(err, errlen, "proof: record: expected hex");
			return -1;
		}
		audit_merkle_leaf_hash(b, rl, h);
		free(b);
		if (memcmp(h, leaf, AUDIT_HASH_LEN) != 0) {
			snprintf(err, errlen, "proof: the record does not hash to the leaf");
			return -1;
		}
	}
	if (!(pub = audit_checkpoint_load_key(pub_path, 0, err, errlen)))
		return -1;
	if (audit_checkpoint_check_sig(&cp, pub) < 0)
		snprintf(err, errlen, "proof: checkpoint signature invalid");
	else if (audit_merkle_verify_path(leaf, (uint64_t)m, (uint64_t)n,
	             (const unsigned char (*)[AUDIT_HASH_LEN])path, json_array_size(pa), cp.root) < 0)
		snprintf(err, errlen, "proof: the path does not lead to the checkpoint's root");
	else
		rc = 0;
	EVP_PKEY_free(pub);
	return rc;
}

int audit_sign_head(const char *db_path, const char *cp_path,
    const char *key_path, char *err, size_t errlen)
{
	struct audit_checkpoint *cps = NULL, cp;
	size_t ncp = 0;
	EVP_PKEY *key = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct audit_merkle_stack tree;
	size_t k = 0;
	int rc = -1;

	if (!(key = audit_checkpoint_load_key(key_path, 1, err, errlen)) ||
	    audit_checkpoint_load(cp_path, &cps, &ncp, err, errlen) < 0 ||
	    !(db = audit_db_open(db_path, 1, err, errlen)))
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT seq, leaf FROM audit_records ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
		goto done;
	}
	audit_merkle_stack_init(&tree);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != tree.size || sqlite3_column_bytes(st, 1) != AUDIT_HASH_LEN) {
			snprintf(err, errlen, "%s: record %" PRIu64 " missing or malformed: run `hafenctl audit verify`",
			    db_path, tree.size);
			goto done;
		}
		audit_merkle_stack_push(&tree, sqlite3_column_blob(st, 1));
		while (k < ncp && cps[k].size == tree.size) {
			unsigned char root[AUDIT_HASH_LEN];
			audit_merkle_stack_root(&tree, root);
			if (memcmp(root, cps[k++].root, AUDIT_HASH_LEN) != 0) {
				snprintf(err, errlen, "%s does not match checkpoint %zu: refusing to sign", db_path, k);
				goto done;
			}
		}
	}
	if (ncp && cps[ncp - 1].size >= tree.size) {
		if (cps[ncp - 1].size > tree.size)
			snprintf(err, errlen, "%s holds fewer records than the last checkpoint: refusing to sign", db_path);
		else
			rc = 0; /* nothing new */
		goto done;
	}
	cp.size = tree.size;
	audit_merkle_stack_root(&tree, cp.root);
	cp.time = (uint64_t)time(NULL);
	if (ncp && cp.time < cps[ncp - 1].time)
		cp.time = cps[ncp - 1].time;
	if (audit_checkpoint_sign(&cp, key, err, errlen) == 0 &&
	    audit_checkpoint_append(cp_path, &cp, err, errlen) == 0)
		rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	EVP_PKEY_free(key);
	free(cps);
	return rc;
}
