/* Context words looked up on demand (see lazyctx.h). */
#include "policies/lazyctx.h"

#include <stdlib.h>
#include <string.h>

#include "policies/detector.h"

/* The keywords by their first byte, ASCII-folded: those of byte c are
 * w[first[c] .. first[c + 1]). */
struct lazyctx {
	struct lazyctx_word *w;
	uint32_t first[257];
};

static unsigned lazyctx_fold(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct lazyctx *lazyctx_new(const struct lazyctx_word *w, size_t n)
{
	struct lazyctx *lc = calloc(1, sizeof(*lc));
	if (!lc)
		return NULL;
	lc->w = calloc(n + 1, sizeof(*lc->w));
	if (!lc->w) {
		free(lc);
		return NULL;
	}
	/* a counting sort by the folded first byte, stable */
	uint32_t count[256] = { 0 };
	for (size_t k = 0; k < n; k++)
		count[lazyctx_fold((unsigned char)w[k].word[0])]++;
	for (unsigned c = 0; c < 256; c++)
		lc->first[c + 1] = lc->first[c] + count[c];
	uint32_t at[256];
	memcpy(at, lc->first, sizeof(at));
	for (size_t k = 0; k < n; k++)
		lc->w[at[lazyctx_fold((unsigned char)w[k].word[0])]++] = w[k];
	return lc;
}

void lazyctx_free(struct lazyctx *lc)
{
	if (!lc)
		return;
	free(lc->w);
	free(lc);
}

/* Whether keyword e matches at the word start i. */
static int lazyctx_match(const struct lazyctx_word *e, const unsigned char *t, size_t len, size_t i)
{
	if (e->len > len - i)
		return 0;
	const unsigned char *k = (const unsigned char *)e->word;
	if (e->flags & DETECTOR_KW_CASE) {
		if (memcmp(t + i, k, e->len) != 0)
			return 0;
	} else {
		for (size_t j = 0; j < e->len; j++)
			if (lazyctx_fold(t[i + j]) != lazyctx_fold(k[j]))
				return 0;
	}
	return !(e->flags & DETECTOR_KW_WORD_END) || i + e->len == len ||
	       !scan_is(t[i + e->len], SCAN_BYTE_WORD);
}

uint64_t lazyctx_groups(const struct lazyctx *lc, const unsigned char *text, size_t len,
			size_t lo, size_t hi, uint64_t want)
{
	uint64_t found = 0;
	size_t end = hi < len ? hi + 1 : len;
	/* whether the byte before i is a word byte */
	int prev = lo > 0 && lo <= len && scan_is(text[lo - 1], SCAN_BYTE_WORD);

	for (size_t i = lo; i < end; i++) {
		int word = scan_is(text[i], SCAN_BYTE_WORD);
		if (word && !prev) {
			unsigned c = lazyctx_fold(text[i]);
			for (uint32_t k = lc->first[c]; k < lc->first[c + 1]; k++) {
				const struct lazyctx_word *e = &lc->w[k];
				uint64_t g = UINT64_C(1) << e->group;
				if ((want & g & ~found) && lazyctx_match(e, text, len, i)) {
					found |= g;
					if (found == want)
						return found;
				}
			}
		}
		prev = word;
	}
	return found;
}
