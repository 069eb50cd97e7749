#include "policies/wipebuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int wipebuf_reserve(struct wipebuf *b, size_t extra)
{
	if (extra > SIZE_MAX / 4 - b->n)
		return -1;
	if (b->n + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->n + extra + 1)
		cap *= 2;
	char *p = malloc(cap);
	if (!p)
		return -1;
	if (b->p) {
		memcpy(p, b->p, b->n);
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int wipebuf_put(struct wipebuf *b, const char *s, size_t len)
{
	if (wipebuf_reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}

void wipebuf_consume(struct wipebuf *b, size_t k)
{
	if (k == 0)
		return;
	memmove(b->p, b->p + k, b->n - k);
	explicit_bzero(b->p + b->n - k, k);
	b->n -= k;
	b->p[b->n] = '\0';
}

void wipebuf_wipe(struct wipebuf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}
