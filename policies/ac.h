/* The keyword matcher: a trie over ASCII case-folded keywords compiled to a
 * dense table over a compressed alphabet, entered only at candidate
 * positions that a bigram filter lets through.
 *
 * Since 2026-11-23 the scanner gives the trie only the keywords that may
 * start inside a word or begin with a non-word byte (~40 of ~2,200); the
 * ones that must start a word are looked up whole in policies/kwhash.h.
 *
 * Why not a full Aho-Corasick DFA stepped on every byte: with ~1,800
 * keywords (given names, special-category stems, context words) that DFA
 * has ~8,000 states x 68 classes (2 MB) and reports ~0.12 outputs per byte
 * of business text; measured at 159 MB/s before any detector ran, far
 * below the 500 MB/s floor. The filter below costs two L1 loads per byte
 * and no dependent chain; the trie walk then runs at ~1 in 20 positions.
 *
 * Filter, by keyword length: one or two bytes set a bit in an exact
 * bigram map (one byte: its whole row); three bytes set the bit of a hash
 * of all three; four or more the bit of a hash of the first four. Keywords
 * that must start a word go to a second set of maps consulted only at word
 * starts, so "er" (a pronoun, WORD) does not fire inside "der". Inside a
 * word a bigram map of the keywords that may start there is checked first. */
#ifndef HAFEN_POLICIES_AC_H
#define HAFEN_POLICIES_AC_H

#include <stddef.h>
#include <stdint.h>

/* Patterns with more trie states than this are refused. */
#define AC_MAX_STATES (1u << 20)
#define AC_HAS_OUTPUT (1u << 31)
#define AC_STATE(x) ((x) & ~AC_HAS_OUTPUT)

/* The trie is stored in two forms so that it stays small enough for the
 * cache: states with many children (the root, common first letters) keep a
 * dense row over the byte classes; all others (most have one child, the
 * rest of a name) a short list of (class, child) pairs. A child value is a
 * state number, 0 = none, with AC_HAS_OUTPUT set when words end there.
 *
 * Each state is one 64-bit header, so a step costs one dependent load
 * before the next state is known: bits 0-7 the number of children (or
 * AC_DENSE), bits 32-63 the row or list start; a state with exactly one
 * child (most of them: the tails of names and stems) holds that child
 * inline instead, its class in bits 8-15 and its value in bits 32-63. */
#define AC_DENSE_MIN 8         /* children from which a state gets a row */
/* The 3- and 4-byte filter maps are 32 Kbit each (hash >> 17): half the
 * bits of an exact 64 Kbit bigram map, so that the three maps read at a
 * word start stay in L1 next to the trie (cachegrind on bench/policy:
 * D1 misses -19 % for +0.4 % instructions from the extra false positives). */
#define AC_HASH_SHIFT 17
#define AC_HASH_BYTES (1u << (32 - AC_HASH_SHIFT - 3))
#define AC_DENSE 0xffu

struct ac {
	uint32_t *dense;       /* rows of ncls children */
	uint64_t *hdr;         /* per state, see above */
	uint8_t *kid_cls;      /* lists: class of each child */
	uint32_t *kid;         /* lists: the child */
	uint32_t ncls;
	uint32_t nstates;
	uint32_t *out_off;     /* per state: out_words[out_off[k]..out_off[k+1]) */
	uint32_t *out_words;   /* ids of the words that end at that state */
	uint8_t cls[256];      /* byte -> class; 0 = in no word */
	uint8_t fold[256];     /* ASCII lower case */
	uint8_t bi_any[8192];  /* keywords of 1-2 bytes, any position */
	uint8_t bi_ws[8192];   /* ... word starts only */
	uint8_t t3_any[AC_HASH_BYTES];  /* keywords of 3 bytes (hash of all three) */
	uint8_t t3_ws[AC_HASH_BYTES];
	uint8_t q4_any[AC_HASH_BYTES];  /* keywords of 4+ bytes (hash of the first four) */
	uint8_t q4_ws[AC_HASH_BYTES];
	uint8_t bi_w[8192];    /* at word starts: bi_any | bi_ws, one load */
	uint8_t t3_w[AC_HASH_BYTES];    /* t3_any | t3_ws */
	uint8_t q4_w[AC_HASH_BYTES];    /* q4_any | q4_ws */
	uint8_t inner_first[256]; /* bytes that start a keyword allowed in a word */
	uint8_t bi_inner[8192]; /* first-two-byte bits of every keyword that may
				 * start inside a word (the only check there) */
};

static inline unsigned ac_hash3(unsigned f0, unsigned f1, unsigned f2)
{
	return ((f0 << 16 | f1 << 8 | f2) * 0x9E3779B1u) >> AC_HASH_SHIFT;
}

static inline unsigned ac_hash4(unsigned f0, unsigned f1, unsigned f2, unsigned f3)
{
	return ((f0 << 24 | f1 << 16 | f2 << 8 | f3) * 0x85EBCA6Bu) >> AC_HASH_SHIFT;
}

static inline int ac_bit(const uint8_t *bm, unsigned i)
{
	return (bm[i >> 3] >> (i & 7)) & 1;
}

/* words[i] has length lens[i] > 0; word_start[i] != 0 when it can only
 * match at a word start. NULL with a message in err on error. */
struct ac *ac_new(const char *const *words, const size_t *lens,
		  const uint8_t *word_start, size_t n, char *err, size_t errlen);
void ac_free(struct ac *a);

/* 1 when a keyword may start at bytes c0..c3 (0 past the end). At a word
 * start the merged maps answer for both kinds of keyword in one load. */
static inline int ac_candidate(const struct ac *a, unsigned char c0, unsigned char c1,
			       unsigned char c2, unsigned char c3, int at_word_start)
{
	unsigned f0 = a->fold[c0], f1 = a->fold[c1], f2 = a->fold[c2];
	unsigned i2 = f0 << 8 | f1;
	if (ac_bit(at_word_start ? a->bi_w : a->bi_any, i2))
		return 1;
	unsigned h3 = ac_hash3(f0, f1, f2);
	if (ac_bit(at_word_start ? a->t3_w : a->t3_any, h3))
		return 1;
	unsigned h4 = ac_hash4(f0, f1, f2, a->fold[c3]);
	return ac_bit(at_word_start ? a->q4_w : a->q4_any, h4);
}

/* Inside a word only keywords without the word-start rule can begin. */
static inline int ac_candidate_inner(const struct ac *a, unsigned char c0, unsigned char c1,
				     unsigned char c2, unsigned char c3)
{
	if (!a->inner_first[c0])
		return 0;
	unsigned i2 = (unsigned)a->fold[c0] << 8 | a->fold[c1];
	return ac_bit(a->bi_inner, i2) && ac_candidate(a, c0, c1, c2, c3, 0);
}

static inline uint32_t ac_child(const struct ac *a, uint32_t st, unsigned char c)
{
	uint64_t h = a->hdr[AC_STATE(st)];
	unsigned n = (unsigned)(h & 0xff), cl = a->cls[c];
	uint32_t o = (uint32_t)(h >> 32);
	if (n == 1)
		return ((h >> 8) & 0xff) == cl ? o : 0;
	if (n == AC_DENSE)
		return a->dense[o + cl];
	for (unsigned i = 0; i < n; i++)
		if (a->kid_cls[o + i] == cl)
			return a->kid[o + i];
	return 0;
}

/* The words that end in state st (none for most states). */
static inline const uint32_t *ac_outputs(const struct ac *a, uint32_t st, size_t *n)
{
	st = AC_STATE(st);
	*n = a->out_off[st + 1] - a->out_off[st];
	return a->out_words + a->out_off[st];
}

#endif
