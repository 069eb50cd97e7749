/* Content capture and pseudonyms: AES-256-GCM (NIST SP 800-38D) with a
 * 96-bit random nonce, per-subject data keys wrapped by a master key, and
 * HMAC-SHA-256 (RFC 2104) pseudonyms. Keys live in files outside the
 * database, so a copy of the database alone reveals neither content nor
 * who the subjects are. */
#include "config.h"

/* The pseudonym is computed per request on the gateway's loop. OpenSSL 3's
 * one-shot HMAC() fetches the MAC and the digest and allocates contexts on
 * every call, several times the cost of the four SHA-256 blocks the MAC
 * needs; the low-level SHA256_* functions (deprecated, still there, SHA-NI)
 * cost nothing per call: see audit_merkle.c. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "gateway/audit.h"

#define AUDIT_CRYPTO_NONCE 12
#define AUDIT_CRYPTO_TAG 16

void audit_crypto_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int audit_crypto_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int audit_crypto_unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = audit_crypto_nibble(s[2 * i]), lo = audit_crypto_nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int audit_crypto_read_key(const char *path, unsigned char key[AUDIT_KEY_LEN],
    char *err, size_t errlen)
{
	char buf[2 * AUDIT_KEY_LEN + 2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	size_t len = n > 0 ? (size_t)n : 0;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	int rc = audit_crypto_unhex(buf, len, key, AUDIT_KEY_LEN);
	explicit_bzero(buf, sizeof buf);
	if (rc < 0) {
		snprintf(err, errlen, "%s: expected 64 hex digits (a 256-bit key)", path);
		return -1;
	}
	return 0;
}

int audit_crypto_write_key(const char *path, char *err, size_t errlen)
{
	unsigned char key[AUDIT_KEY_LEN];
	char hex[2 * AUDIT_KEY_LEN + 2];
	if (RAND_bytes(key, sizeof key) != 1) {
		snprintf(err, errlen, "%s: no randomness", path);
		return -1;
	}
	audit_crypto_hex(key, sizeof key, hex);
	hex[2 * AUDIT_KEY_LEN] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else {
		if (write(fd, hex, 2 * AUDIT_KEY_LEN + 1) == 2 * AUDIT_KEY_LEN + 1 && fsync(fd) == 0)
			rc = 0;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	explicit_bzero(key, sizeof key);
	explicit_bzero(hex, sizeof hex);
	return rc;
}

void audit_crypto_pseudonym(const unsigned char key[AUDIT_KEY_LEN],
    const char *user, char out[65])
{
	/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), the key zero-padded
	 * to the block of 64 bytes (it is shorter than the block). */
	unsigned char pad[SHA256_CBLOCK], inner[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	_Static_assert(AUDIT_KEY_LEN <= SHA256_CBLOCK, "the HMAC key fits one block");
	memset(pad, 0x36, sizeof pad);
	for (size_t i = 0; i < AUDIT_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA256_Init(&c);
	SHA256_Update(&c, pad, sizeof pad);
	SHA256_Update(&c, user, strlen(user));
	SHA256_Final(inner, &c);
	memset(pad, 0x5c, sizeof pad);
	for (size_t i = 0; i < AUDIT_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA256_Init(&c);
	SHA256_Update(&c, pad, sizeof pad);
	SHA256_Update(&c, inner, sizeof inner);
	SHA256_Final(mac, &c);
	explicit_bzero(pad, sizeof pad); /* key material */
	explicit_bzero(&c, sizeof c);
	audit_crypto_hex(mac, sizeof mac, out);
}

int audit_crypto_seal(const unsigned char key[AUDIT_KEY_LEN],
    const unsigned char *aad, size_t aad_len, const unsigned char *pt,
    size_t pt_len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, rc = -1;
	if (!c || pt_len > INT32_MAX || aad_len > INT32_MAX)
		goto done;
	if (RAND_bytes(out, AUDIT_CRYPTO_NONCE) != 1)
		goto done;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) != 1)
		goto done;
	if (aad_len && EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len) != 1)
		goto done;
	if (EVP_EncryptUpdate(c, out + AUDIT_CRYPTO_NONCE, &len, pt, (int)pt_len) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(c, out + AUDIT_CRYPTO_NONCE + len, &len) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, AUDIT_CRYPTO_TAG,
	        out + AUDIT_CRYPTO_NONCE + pt_len) != 1)
		goto done;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int audit_crypto_open(const unsigned char key[AUDIT_KEY_LEN],
    const unsigned char *aad, size_t aad_len, const unsigned char *in,
    size_t in_len, unsigned char *pt)
{
	if (in_len < AUDIT_GCM_OVERHEAD || in_len > INT32_MAX || aad_len > INT32_MAX)
		return -1;
	size_t ct_len = in_len - AUDIT_GCM_OVERHEAD;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, rc = -1;
	if (!c)
		return -1;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) != 1)
		goto done;
	if (aad_len && EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len) != 1)
		goto done;
	if (EVP_DecryptUpdate(c, pt, &len, in + AUDIT_CRYPTO_NONCE, (int)ct_len) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, AUDIT_CRYPTO_TAG,
	        (void *)(in + AUDIT_CRYPTO_NONCE + ct_len)) != 1)
		goto done;
	if (EVP_DecryptFinal_ex(c, pt + len, &len) != 1) {
		explicit_bzero(pt, ct_len);
		goto done;
	}
	rc = 0;
done:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int audit_crypto_wrap(const unsigned char master[AUDIT_KEY_LEN],
    const char *subject, const unsigned char dk[AUDIT_KEY_LEN],
    unsigned char out[AUDIT_WRAPPED_LEN])
{
	return audit_crypto_seal(master, (const unsigned char *)subject, strlen(subject),
	    dk, AUDIT_KEY_LEN, out);
}

int audit_crypto_unwrap(const unsigned char master[AUDIT_KEY_LEN],
    const char *subject, const unsigned char in[AUDIT_WRAPPED_LEN],
    unsigned char dk[AUDIT_KEY_LEN])
{
	return audit_crypto_open(master, (const unsigned char *)subject, strlen(subject),
	    in, AUDIT_WRAPPED_LEN, dk);
}
