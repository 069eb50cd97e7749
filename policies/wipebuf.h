/* A growable byte buffer for text that may hold prompt or answer content:
 * the old storage is wiped whenever it moves, and wipebuf_wipe clears it
 * before freeing. Always NUL-terminated once anything was put. */
#ifndef HAFEN_POLICIES_WIPEBUF_H
#define HAFEN_POLICIES_WIPEBUF_H

#include <stddef.h>

struct wipebuf {
	char *p;
	size_t n, cap;
};

/* Room for extra more bytes (plus the NUL); 0 or -1 (overflow, no memory). */
int wipebuf_reserve(struct wipebuf *b, size_t extra);
int wipebuf_put(struct wipebuf *b, const char *s, size_t len);
/* Drops the first k bytes, wiping the vacated tail. */
void wipebuf_consume(struct wipebuf *b, size_t k);
void wipebuf_wipe(struct wipebuf *b);

#endif
