/* Request ids travel into logs and upstream headers, so a client-supplied
 * one is accepted only from a small alphabet that cannot inject anything. */
#include "request_id.h"

#include <string.h>

#include <openssl/rand.h>

int request_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > REQUEST_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* RAND_bytes costs a getpid(2) per call (OpenSSL's fork check) plus the
 * DRBG setup, once per request. Each worker thread instead draws a block
 * of random bytes at a time and hands out 16 per id: the ids stay 128
 * bits from the DRBG, at one RAND_bytes per REQUEST_ID_BATCH requests.
 * hafen does not fork after the workers start, so no two processes can
 * share a block. */
#define REQUEST_ID_BATCH 64

static _Thread_local unsigned char request_id_pool[REQUEST_ID_BATCH * 16];
static _Thread_local size_t request_id_left;

int request_id_generate(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	if (request_id_left == 0) {
		if (RAND_bytes(request_id_pool, sizeof request_id_pool) != 1)
			return -1;
		request_id_left = REQUEST_ID_BATCH;
	}
	request_id_left--;
	unsigned char *r = request_id_pool + request_id_left * 16;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	/* An id handed out is not drawn again. */
	explicit_bzero(r, 16);
	out[32] = 0;
	return 0;
}
