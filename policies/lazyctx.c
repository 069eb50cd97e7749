/* Context words looked up on demand (see lazyctx.h).
 *
 * A window is read 64 bytes at a time: the word bytes as a bit mask
 * (eight bytes per step, without a branch per byte), its word starts and
 * run ends from that mask, and at each word start only the keywords
 * that can match a run of that length with that first byte, each tested
 * first on its first 8 bytes at once. */
#include "policies/lazyctx.h"

#include <stdlib.h>
#include <string.h>

#include "policies/detector.h"
#include "policies/kwhash.h"

#define LAZYCTX_BUCKET_BITS 10
#define LAZYCTX_BUCKETS (1u << LAZYCTX_BUCKET_BITS)
#define LAZYCTX_RUN_CAP 31

/* A keyword and its first 8 bytes as a little-endian load of the text
 * gives them (ASCII-folded unless DETECTOR_KW_CASE), under mask. */
struct lazyctx_entry {
	struct lazyctx_word k;
	uint64_t head, mask;
};

/* The keywords by (first byte folded, length of the word run they need
 * at their start), hashed: those of bucket b are w[first[b] ..
 * first[b + 1]); most buckets are empty, and so most word starts end
 * at one load of first[]. A keyword of word bytes only with DETECTOR_KW_WORD_END
 * needs a run of its length; one with a non-word byte, a run up to that
 * byte; one of word bytes only without DETECTOR_KW_WORD_END (a stem) a
 * run at least as long, filed under run 0 and looked up at every word
 * start with its first byte (stem_first). */
struct lazyctx {
	struct lazyctx_entry *w;
	uint32_t first[LAZYCTX_BUCKETS + 1];
	uint8_t stem_first[256];
};

static unsigned lazyctx_fold(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static unsigned lazyctx_bucket(unsigned c, size_t run)
{
	return (uint32_t)((c << 5 | (unsigned)run) * UINT32_C(0x9e3779b1)) >> (32 - LAZYCTX_BUCKET_BITS);
}

/* The run a keyword needs (0: a stem, any run at least its length). */
static size_t lazyctx_key_run(const struct lazyctx_word *w)
{
	size_t q = 0;
	while (q < w->len && scan_is((unsigned char)w->word[q], SCAN_BYTE_WORD))
		q++;
	if (q == w->len && !(w->flags & DETECTOR_KW_WORD_END))
		return 0;
	return q < LAZYCTX_RUN_CAP ? q : LAZYCTX_RUN_CAP;
}

static unsigned lazyctx_key_bucket(const struct lazyctx_word *w)
{
	return lazyctx_bucket(lazyctx_fold((unsigned char)w->word[0]), lazyctx_key_run(w));
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
	/* a counting sort by bucket, stable */
	uint32_t count[LAZYCTX_BUCKETS] = { 0 }, at[LAZYCTX_BUCKETS];
	for (size_t k = 0; k < n; k++) {
		count[lazyctx_key_bucket(&w[k])]++;
		if (!lazyctx_key_run(&w[k]))
			lc->stem_first[lazyctx_fold((unsigned char)w[k].word[0])] = 1;
	}
	for (unsigned b = 0; b < LAZYCTX_BUCKETS; b++)
		lc->first[b + 1] = lc->first[b] + count[b];
	memcpy(at, lc->first, sizeof(at));
	for (size_t k = 0; k < n; k++) {
		struct lazyctx_entry *e = &lc->w[at[lazyctx_key_bucket(&w[k])]++];
		size_t m = w[k].len < 8 ? w[k].len : 8;
		e->k = w[k];
		e->head = kwhash_load((const unsigned char *)w[k].word, m);
		if (!(w[k].flags & DETECTOR_KW_CASE))
			e->head = kwhash_fold8(e->head);
		e->mask = m == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * m)) - 1;
	}
	return lc;
}

void lazyctx_free(struct lazyctx *lc)
{
	if (!lc)
		return;
	free(lc->w);
	free(lc);
}

/* Whether keyword e matches at the word start i, whose first 8 bytes
 * are x (zeros past len), xf folded. */
static int lazyctx_match(const struct lazyctx_entry *e, const unsigned char *t, size_t len, size_t i,
			 uint64_t x, uint64_t xf)
{
	const struct lazyctx_word *w = &e->k;
	int exact = (w->flags & DETECTOR_KW_CASE) != 0;
	if (w->len > len - i || ((exact ? x : xf) & e->mask) != e->head)
		return 0;
	for (size_t j = 8; j < w->len; j++) {
		unsigned a = t[i + j], b = (unsigned char)w->word[j];
		if (exact ? a != b : lazyctx_fold(a) != lazyctx_fold(b))
			return 0;
	}
	return !(w->flags & DETECTOR_KW_WORD_END) || i + w->len == len ||
	       !scan_is(t[i + w->len], SCAN_BYTE_WORD);
}

/* The groups among want of the keywords w[k .. ke) (a bucket, not
 * empty) that match at i. */
static uint64_t lazyctx_bucket_groups(const struct lazyctx *lc, uint32_t k, uint32_t ke,
				      const unsigned char *t, size_t len, size_t i, uint64_t want)
{
	uint64_t found = 0;
	uint64_t x = kwhash_load(t + i, len - i), xf = kwhash_fold8(x);
	for (; k < ke; k++) {
		const struct lazyctx_entry *e = &lc->w[k];
		uint64_t g = UINT64_C(1) << e->k.group;
		if ((want & g & ~found) && lazyctx_match(e, t, len, i, x, xf))
			found |= g;
	}
	return found;
}

/* Bit j of the result: whether byte j of x (little-endian) is a word
 * byte (an ASCII letter or digit, or >= 0x80; scan_byte_class). */
static uint64_t lazyctx_mask8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t low = x & (ones * 0x7f);
#define LAZYCTX_GE(k) (low + ones * (0x80 - (k)))
	uint64_t digit = LAZYCTX_GE('0') & ~LAZYCTX_GE('9' + 1);
	uint64_t upper = LAZYCTX_GE('A') & ~LAZYCTX_GE('Z' + 1);
	uint64_t lower = LAZYCTX_GE('a') & ~LAZYCTX_GE('z' + 1);
#undef LAZYCTX_GE
	uint64_t word = (x | digit | upper | lower) & (ones * 0x80);
	/* bit 7 of byte j to bit j */
	return ((word >> 7) * UINT64_C(0x0102040810204080)) >> 56;
}

/* Bit k: whether t[at + k] is a word byte (0 past len). */
static inline uint64_t lazyctx_words64(const unsigned char *t, size_t len, size_t at)
{
	uint64_t m = 0;
	/* (a whole block in a loop of fixed trips, unrolled) */
	if (at < len && len - at >= 64) {
		for (unsigned q = 0; q < 64; q += 8)
			m |= lazyctx_mask8(kwhash_load(t + at + q, 8)) << q;
		return m;
	}
	for (unsigned q = 0; q < 64 && at + q < len; q += 8)
		m |= lazyctx_mask8(kwhash_load(t + at + q, len - at - q)) << q;
	return m;
}

uint64_t lazyctx_groups(const struct lazyctx *lc, const unsigned char *text, size_t len,
			size_t lo, size_t hi, uint64_t want)
{
	uint64_t found = 0;
	size_t end = hi < len ? hi + 1 : len;
	if (lo >= end)
		return 0;
	/* whether the byte before the block is a word byte */
	uint64_t prev = lo > 0 && scan_is(text[lo - 1], SCAN_BYTE_WORD);
	uint64_t w = lazyctx_words64(text, len, lo);

	for (size_t i = lo; i < end; i += 64) {
		/* the next block's mask, or where this is the last one, only
		 * whether its first byte continues a word */
		uint64_t wn = i + 64 < end ? lazyctx_words64(text, len, i + 64)
					   : i + 64 < len && scan_is(text[i + 64], SCAN_BYTE_WORD);
		uint64_t starts = w & ~(w << 1 | prev);
		if (end - i < 64)
			starts &= (UINT64_C(1) << (end - i)) - 1;
		/* the last byte of each run (bit 63 asks the next block) */
		uint64_t ends = w & ~(w >> 1 | wn << 63);
		while (starts) {
			unsigned b = (unsigned)__builtin_ctzll(starts);
			starts &= starts - 1;
			size_t run;
			if (ends >> b) {
				run = (size_t)__builtin_ctzll(ends >> b) + 1;
			} else {
				/* the run goes on into the next block */
				size_t e = i + 64;
				while (e < len && scan_is(text[e], SCAN_BYTE_WORD))
					e++;
				run = e - (i + b);
			}
			unsigned c = lazyctx_fold(text[i + b]);
			unsigned bk = lazyctx_bucket(c, run < LAZYCTX_RUN_CAP ? run : LAZYCTX_RUN_CAP);
			if (lc->first[bk] != lc->first[bk + 1])
				found |= lazyctx_bucket_groups(lc, lc->first[bk], lc->first[bk + 1], text, len,
							       i + b, want & ~found);
			if (lc->stem_first[c]) {
				bk = lazyctx_bucket(c, 0);
				found |= lazyctx_bucket_groups(lc, lc->first[bk], lc->first[bk + 1], text, len,
							       i + b, want & ~found);
			}
			if (found == want)
				return found;
		}
		prev = w >> 63;
		w = wn;
	}
	return found;
}
