/* Merkle tree hashing as in RFC 6962 section 2.1 (Certificate
 * Transparency): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r),
 * and the tree over n leaves splits at the largest power of two below n.
 * The prefixes keep a leaf from being passed off as an inner node. */
#include "config.h"

/* The one-shot SHA256() and EVP_Digest* fetch the algorithm on every call
 * in OpenSSL 3 (locks, allocations): that doubled the cost of hashing a
 * 500-byte record. The low-level SHA256_* functions are deprecated but
 * still there, use SHA-NI, and cost nothing per call; hashing is the inner
 * loop of writing and verifying, so use them. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "gateway/audit.h"

void audit_merkle_leaf_hash(const unsigned char *data, size_t len,
    unsigned char out[AUDIT_HASH_LEN])
{
	static const unsigned char zero = 0x00;
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, &zero, 1);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

void audit_merkle_node_hash(const unsigned char l[AUDIT_HASH_LEN],
    const unsigned char r[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN])
{
	unsigned char b[1 + 2 * AUDIT_HASH_LEN];
	SHA256_CTX c;
	b[0] = 0x01;
	memcpy(b + 1, l, AUDIT_HASH_LEN);
	memcpy(b + 1 + AUDIT_HASH_LEN, r, AUDIT_HASH_LEN);
	SHA256_Init(&c);
	SHA256_Update(&c, b, sizeof b);
	SHA256_Final(out, &c);
}

void audit_merkle_stack_init(struct audit_merkle_stack *st)
{
	memset(st, 0, sizeof *st);
}

/* The stack holds the roots of the perfect subtrees that make up the
 * binary decomposition of size, largest first. Appending a leaf merges as
 * many times as size has trailing one bits. */
void audit_merkle_stack_push(struct audit_merkle_stack *st,
    const unsigned char leaf[AUDIT_HASH_LEN])
{
	uint64_t s = st->size;
	memcpy(st->h[st->n++], leaf, AUDIT_HASH_LEN);
	while (s & 1) {
		audit_merkle_node_hash(st->h[st->n - 2], st->h[st->n - 1], st->h[st->n - 2]);
		st->n--;
		s >>= 1;
	}
	st->size++;
}

/* MTH(D[n]) = H(1, MTH(D[0:k]), MTH(D[k:n])) with k the largest power of
 * two below n: folding the decomposition from the smallest subtree up
 * gives exactly that. */
void audit_merkle_stack_root(const struct audit_merkle_stack *st,
    unsigned char out[AUDIT_HASH_LEN])
{
	if (st->n == 0) {
		SHA256_CTX c;
		SHA256_Init(&c);
		SHA256_Final(out, &c);
		return;
	}
	unsigned char r[AUDIT_HASH_LEN];
	memcpy(r, st->h[st->n - 1], AUDIT_HASH_LEN);
	for (unsigned j = st->n - 1; j-- > 0;)
		audit_merkle_node_hash(st->h[j], r, r);
	memcpy(out, r, AUDIT_HASH_LEN);
}

void audit_merkle_root(const unsigned char (*leaves)[AUDIT_HASH_LEN], uint64_t n,
    unsigned char out[AUDIT_HASH_LEN])
{
	struct audit_merkle_stack st;
	audit_merkle_stack_init(&st);
	for (uint64_t i = 0; i < n; i++)
		audit_merkle_stack_push(&st, leaves[i]);
	audit_merkle_stack_root(&st, out);
}

static uint64_t audit_merkle_split(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

int audit_merkle_path(const unsigned char (*leaves)[AUDIT_HASH_LEN], uint64_t n,
    uint64_t m, unsigned char (*path)[AUDIT_HASH_LEN])
{
	/* PATH(m, D[n]) lists siblings from the leaf up; walk down and fill
	 * from the end, then move the result to the front. */
	unsigned char tmp[64][AUDIT_HASH_LEN];
	int depth = 0;
	if (m >= n)
		return -1;
	while (n > 1) {
		uint64_t k = audit_merkle_split(n);
		if (m < k) {
			audit_merkle_root(leaves + k, n - k, tmp[depth++]);
			n = k;
		} else {
			audit_merkle_root(leaves, k, tmp[depth++]);
			leaves += k;
			m -= k;
			n -= k;
		}
	}
	for (int i = 0; i < depth; i++)
		memcpy(path[i], tmp[depth - 1 - i], AUDIT_HASH_LEN);
	return depth;
}

int audit_merkle_verify_path(const unsigned char leaf[AUDIT_HASH_LEN],
    uint64_t m, uint64_t n, const unsigned char (*path)[AUDIT_HASH_LEN],
    size_t path_len, const unsigned char root[AUDIT_HASH_LEN])
{
	/* RFC 9162 section 2.1.3.2 */
	if (m >= n)
		return -1;
	uint64_t fn = m, sn = n - 1;
	unsigned char r[AUDIT_HASH_LEN];
	memcpy(r, leaf, AUDIT_HASH_LEN);
	for (size_t i = 0; i < path_len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			audit_merkle_node_hash(path[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			audit_merkle_node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, AUDIT_HASH_LEN) == 0 ? 0 : -1;
}
