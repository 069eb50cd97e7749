/* X-Request-Id: the client's own when it is safe to echo, else 128 random bits. */
#ifndef HAFEN_GATEWAY_REQUEST_ID_H
#define HAFEN_GATEWAY_REQUEST_ID_H

#include <stddef.h>

#define REQUEST_ID_MAX 128

/* 1 when s[0..len) is 1-128 characters of [A-Za-z0-9._-]. */
int request_id_valid(const char *s, size_t len);
/* Writes 32 lowercase hex digits and a NUL into out (33 bytes). */
int request_id_generate(char out[33]);

#endif
