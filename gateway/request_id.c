/* Request ids travel into logs and upstream headers, so a client-supplied
 * one is accepted only from a small alphabet that cannot inject anything. */
#include "request_id.h"

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

int request_id_generate(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[32] = 0;
	return 0;
}
