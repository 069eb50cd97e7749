/* Context words looked up on demand (scan.c, scan_context_near()).
 *
 * Pass 1 records every context word it meets, so that a detector's
 * question "is an 'IBAN' near this number?" is answered from a list.
 * Some groups are words that every text is full of but that only rare
 * triggers ask about: the person references of the special categories
 * ("ich", "Sie", "my", "elle") are ~1 in 3 of all context hits on
 * business text, and only a health or religion term asks whether one is
 * in its sentence. Those keywords are kept out of pass 1 and looked for
 * here, in the window a detector asks about, only when it asks.
 *
 * A keyword here starts a word and begins with a word byte (the keyword
 * hash's kind, kwhash.h); it matches where pass 1 would record it: at a
 * word start, its bytes equal to the text's with ASCII letters folded
 * (exactly with DETECTOR_KW_CASE), and followed by a non-word byte with
 * DETECTOR_KW_WORD_END. No allocation after lazyctx_new(). */
#ifndef HAFEN_POLICIES_LAZYCTX_H
#define HAFEN_POLICIES_LAZYCTX_H

#include <stddef.h>
#include <stdint.h>

struct lazyctx;

/* One keyword: word[0, len) (len 1..255; word must outlive the table),
 * its DETECTOR_KW_* flags and its context group (< 64). */
struct lazyctx_word {
	const char *word;
	uint8_t len;
	uint8_t flags;
	uint8_t group;
};

/* The table of n keywords (copied; the words are not). NULL on out of
 * memory. */
struct lazyctx *lazyctx_new(const struct lazyctx_word *w, size_t n);
void lazyctx_free(struct lazyctx *lc);

/* The groups among `want` (bit g: group g) that have a keyword starting
 * at a position in [lo, hi] of text[0, len) (hi may lie past the end). */
uint64_t lazyctx_groups(const struct lazyctx *lc, const unsigned char *text, size_t len,
			size_t lo, size_t hi, uint64_t want);

#endif
