/* Signed checkpoints: the tree size, its RFC 6962 root and the time, signed
 * with Ed25519 (RFC 8032) and appended as one text line to a file that is
 * easy to ship to WORM storage or a witness:
 *
 *   hafen-checkpoint v1 <size> <root: 64 hex> <unix time> <sig: 128 hex>
 *
 * The signed message is the line up to the time (no trailing space). The
 * parser is strict (one spelling per value) and fuzzed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gateway/audit.h"

#define AUDIT_CHECKPOINT_PREFIX "hafen-checkpoint v1 "
#define AUDIT_CHECKPOINT_MAX_LINE 512
#define AUDIT_CHECKPOINT_MAX_FILE (256u << 20)

size_t audit_checkpoint_message(const struct audit_checkpoint *cp, char *msg,
    size_t cap)
{
	char root[2 * AUDIT_HASH_LEN + 1];
	audit_crypto_hex(cp->root, AUDIT_HASH_LEN, root);
	int n = snprintf(msg, cap, AUDIT_CHECKPOINT_PREFIX "%" PRIu64 " %s %" PRIu64,
	    cp->size, root, cp->time);
	return n < 0 ? 0 : (size_t)n;
}

int audit_checkpoint_format(const struct audit_checkpoint *cp, char *line,
    size_t cap)
{
	char sig[129];
	size_t n = audit_checkpoint_message(cp, line, cap);
	audit_crypto_hex(cp->sig, sizeof cp->sig, sig);
	if (n == 0 || n + 1 + 128 + 2 > cap)
		return -1;
	snprintf(line + n, cap - n, " %s\n", sig);
	return 0;
}

/* Decimal without sign or leading zeros; advances *p past the digits. */
static int audit_checkpoint_num(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	*p = s;
	return 0;
}

static int audit_checkpoint_lowhex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return 0;
}

int audit_checkpoint_parse(const char *line, size_t len,
    struct audit_checkpoint *cp, char *err, size_t errlen)
{
	const char *p = line, *end = line + len;
	size_t plen = strlen(AUDIT_CHECKPOINT_PREFIX);

	if (len && end[-1] == '\n')
		end--;
	if ((size_t)(end - p) < plen || memcmp(p, AUDIT_CHECKPOINT_PREFIX, plen) != 0) {
		snprintf(err, errlen, "expected \"" AUDIT_CHECKPOINT_PREFIX "\"");
		return -1;
	}
	p += plen;
	if (audit_checkpoint_num(&p, end, &cp->size) < 0 || p >= end || *p++ != ' ') {
		snprintf(err, errlen, "expected the tree size (decimal)");
		return -1;
	}
	if (end - p < 2 * AUDIT_HASH_LEN + 1 || audit_checkpoint_lowhex(p, 2 * AUDIT_HASH_LEN) < 0 ||
	    audit_crypto_unhex(p, 2 * AUDIT_HASH_LEN, cp->root, AUDIT_HASH_LEN) < 0 ||
	    p[2 * AUDIT_HASH_LEN] != ' ') {
		snprintf(err, errlen, "expected the root (64 lowercase hex digits)");
		return -1;
	}
	p += 2 * AUDIT_HASH_LEN + 1;
	if (audit_checkpoint_num(&p, end, &cp->time) < 0 || p >= end || *p++ != ' ') {
		snprintf(err, errlen, "expected the time (decimal seconds)");
		return -1;
	}
	if (end - p != 128 || audit_checkpoint_lowhex(p, 128) < 0 ||
	    audit_crypto_unhex(p, 128, cp->sig, sizeof cp->sig) < 0) {
		snprintf(err, errlen, "expected the signature (128 lowercase hex digits) at the end");
		return -1;
	}
	return 0;
}

int audit_checkpoint_sign(struct audit_checkpoint *cp, EVP_PKEY *key, char *err,
    size_t errlen)
{
	char msg[AUDIT_CHECKPOINT_MAX_LINE];
	size_t n = audit_checkpoint_message(cp, msg, sizeof msg);
	size_t siglen = sizeof cp->sig;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = -1;
	if (c && EVP_DigestSignInit(c, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(c, cp->sig, &siglen, (const unsigned char *)msg, n) == 1 &&
	    siglen == sizeof cp->sig)
		rc = 0;
	else
		snprintf(err, errlen, "%s: Ed25519 signing failed", __func__);
	EVP_MD_CTX_free(c);
	return rc;
}

int audit_checkpoint_check_sig(const struct audit_checkpoint *cp, EVP_PKEY *pub)
{
	char msg[AUDIT_CHECKPOINT_MAX_LINE];
	size_t n = audit_checkpoint_message(cp, msg, sizeof msg);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = -1;
	if (c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(c, cp->sig, sizeof cp->sig, (const unsigned char *)msg, n) == 1)
		rc = 0;
	EVP_MD_CTX_free(c);
	return rc;
}

int audit_checkpoint_append(const char *path, const struct audit_checkpoint *cp,
    char *err, size_t errlen)
{
	char line[AUDIT_CHECKPOINT_MAX_LINE];
	if (audit_checkpoint_format(cp, line, sizeof line) < 0) {
		snprintf(err, errlen, "%s: cannot format", path);
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = strlen(line);
	int rc = write(fd, line, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int audit_checkpoint_load(const char *path, struct audit_checkpoint **out,
    size_t *n_out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct audit_checkpoint *v = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;

	*out = NULL;
	*n_out = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0; /* no checkpoint yet */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) >= 0) {
		char why[128];
		lineno++;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct audit_checkpoint *nv = reallocarray(v, cap, sizeof *v);
			if (!nv) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			v = nv;
		}
		if (audit_checkpoint_parse(line, (size_t)len, &v[n], why, sizeof why) < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto fail;
		}
		n++;
	}
	free(line);
	fclose(f);
	*out = v;
	*n_out = n;
	return 0;
fail:
	free(line);
	free(v);
	fclose(f);
	return -1;
}

EVP_PKEY *audit_checkpoint_load_key(const char *path, int priv, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	k = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: expected an Ed25519 %s key in PEM", path,
		    priv ? "private" : "public");
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}
