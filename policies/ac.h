/* The keyword matcher: a trie over ASCII case-folded keywords compiled to a
 * dense table over a compressed alphabet, entered only at candidate
 * positions that a bigram filter lets through.
 *
 * Why not a full Aho-Corasick DFA stepped on every byte: with ~1,800
 * keywords (given names, special-category stems, context words) that DFA
 * has ~8,000 states x 68 classes (2 MB) and reports ~0.12 outputs per byte
 * of business text; measured at 159 MB/s before any detector ran, far
 * below the 500 MB/s floor. The filter below costs two L1 loads per byte
 * and no dependent chain; the trie walk then runs at ~1 in 20 positions.
 *
 * Filter: a keyword of three or more bytes sets one bit, chosen by a hash
 * of its first three folded bytes, in a 65,536-bit map; a shorter one sets
 * the bit of its two bytes in an exact bigram map (a one-byte keyword sets
 * its whole row). Keywords that must start a word go to a second pair of
 * maps consulted only at word starts, so "er" (a pronoun, WORD) does not
 * fire inside "der". */
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
 * state number, 0 = none, with AC_HAS_OUTPUT set when words end there. */
#define AC_DENSE_MIN 8         /* children from which a state gets a row */
#define AC_DENSE 0xffu

struct ac {
	uint32_t *dense;       /* rows of ncls children */
	uint32_t *off;         /* per state: row start in dense, or list start */
	uint8_t *nkids;        /* per state: list length, or AC_DENSE */
	uint8_t *kid_cls;      /* lists: class of each child */
	uint32_t *kid;         /* lists: the child */
	uint32_t ncls;
	uint32_t nstates;
	uint32_t *out_off;     /* per state: out_words[out_off[k]..out_off[k+1]) */
	uint32_t *out_words;   /* ids of the words that end at that state */
	uint8_t cls[256];      /* byte -> class; 0 = in no word */
	uint8_t fold[256];     /* ASCII lower case */
	uint8_t tri_any[8192]; /* trigram-hash bits, any position */
	uint8_t tri_ws[8192];  /* trigram-hash bits, word starts only */
	uint8_t bi_any[8192];  /* bigram bits of keywords shorter than 3 */
	uint8_t bi_ws[8192];
	uint8_t bi_inner[8192]; /* first-two-byte bits of every keyword that may
				 * start inside a word (the only check there) */
};

static inline unsigned ac_hash3(unsigned f0, unsigned f1, unsigned f2)
{
	return ((f0 << 16 | f1 << 8 | f2) * 0x9E3779B1u) >> 16;
}

/* words[i] has length lens[i] > 0; word_start[i] != 0 when it can only
 * match at a word start. NULL with a message in err on error. */
struct ac *ac_new(const char *const *words, const size_t *lens,
		  const uint8_t *word_start, size_t n, char *err, size_t errlen);
void ac_free(struct ac *a);

/* Inside a word only keywords without the word-start rule can begin. */
static inline int ac_candidate_inner(const struct ac *a, unsigned char c0, unsigned char c1)
{
	unsigned i2 = (unsigned)a->fold[c0] << 8 | a->fold[c1];
	return (a->bi_inner[i2 >> 3] >> (i2 & 7)) & 1;
}

/* 1 when a keyword may start at bytes c0 c1 c2 (0 past the end). */
static inline int ac_candidate(const struct ac *a, unsigned char c0, unsigned char c1,
			       unsigned char c2, int at_word_start)
{
	unsigned f0 = a->fold[c0], f1 = a->fold[c1];
	unsigned i2 = f0 << 8 | f1, i3 = ac_hash3(f0, f1, a->fold[c2]);
	unsigned ws = at_word_start ? 0xff : 0;
	unsigned b2 = a->bi_any[i2 >> 3] | (a->bi_ws[i2 >> 3] & ws);
	unsigned b3 = a->tri_any[i3 >> 3] | (a->tri_ws[i3 >> 3] & ws);
	return ((b2 >> (i2 & 7)) | (b3 >> (i3 & 7))) & 1;
}

static inline uint32_t ac_child(const struct ac *a, uint32_t st, unsigned char c)
{
	uint32_t k = AC_STATE(st), o = a->off[k];
	unsigned n = a->nkids[k], cl = a->cls[c];
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
