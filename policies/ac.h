/* Aho-Corasick automaton over ASCII case-folded keywords, compiled to a full
 * DFA over a compressed alphabet (Aho & Corasick, CACM 18(6), 1975).
 *
 * Built once, immutable, shareable between threads. The transition table is
 * premultiplied (a state is stored as its row offset) and the states that
 * report words are numbered last, so the hot loop is one load and one
 * compare per byte:
 *
 *	st = ac_step(a, st, byte);
 *	if (ac_has_output(a, st)) ... ac_outputs(a, st, &n) ...
 */
#ifndef HAFEN_POLICIES_AC_H
#define HAFEN_POLICIES_AC_H

#include <stddef.h>
#include <stdint.h>

/* Patterns with more states than this are refused. */
#define AC_MAX_STATES (1u << 20)

struct ac {
	uint32_t *delta;       /* [state_row + cls] -> next state_row */
	uint32_t ncls;         /* alphabet classes (row length) */
	uint32_t nstates;
	uint32_t first_out;    /* row offset of the first state with output */
	uint32_t *out_off;     /* per state number: out_words[out_off[k]..out_off[k+1]) */
	uint32_t *out_words;   /* word ids ending in that state (suffixes included) */
	uint8_t cls[256];      /* byte -> class; 0 = in no word */
};

/* words[i] has length lens[i] > 0; matched ASCII case-insensitively.
 * NULL with a message in err on error (empty word, too many states, OOM). */
struct ac *ac_new(const char *const *words, const size_t *lens, size_t n,
		  char *err, size_t errlen);
void ac_free(struct ac *a);

static inline uint32_t ac_step(const struct ac *a, uint32_t st, unsigned char c)
{
	return a->delta[st + a->cls[c]];
}

static inline int ac_has_output(const struct ac *a, uint32_t st)
{
	return st >= a->first_out;
}

/* The word ids that end at the current byte in state st. */
static inline const uint32_t *ac_outputs(const struct ac *a, uint32_t st, size_t *n)
{
	uint32_t k = st / a->ncls;
	*n = a->out_off[k + 1] - a->out_off[k];
	return a->out_words + a->out_off[k];
}

#endif
