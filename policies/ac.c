/* Keyword trie and bigram filter (see ac.h for why this shape). */
#include "policies/ac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ac_set_error(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

void ac_free(struct ac *a)
{
	if (!a)
		return;
	free(a->dense);
	free(a->hdr);
	free(a->kid_cls);
	free(a->kid);
	free(a->out_off);
	free(a->out_words);
	free(a);
}

static void ac_set_bigram(uint8_t *bm, unsigned c0, unsigned c1)
{
	unsigned idx = c0 << 8 | c1;
	bm[idx >> 3] |= (uint8_t)(1u << (idx & 7));
}

/* Dense build table -> dense rows for busy states, lists for the rest,
 * one-child states inline in their header (ac.h). */
static int ac_compact(struct ac *a, const uint32_t *go, size_t nst)
{
	size_t ndense = 0, nlist = 0, ncls = a->ncls;

	a->hdr = calloc(nst, sizeof(*a->hdr));
	if (!a->hdr)
		return -1;
	for (size_t k = 0; k < nst; k++) {
		unsigned n = 0;
		uint32_t only = 0;
		size_t only_cls = 0;
		for (size_t c = 0; c < ncls; c++)
			if (go[k * ncls + c]) {
				n++;
				only = go[k * ncls + c];
				only_cls = c;
			}
		if (n >= AC_DENSE_MIN || k == 0) {
			a->hdr[k] = (uint64_t)(ndense++ * ncls) << 32 | AC_DENSE;
		} else if (n == 1) {
			a->hdr[k] = (uint64_t)only << 32 | (uint64_t)only_cls << 8 | 1;
		} else {
			a->hdr[k] = (uint64_t)nlist << 32 | n;
			nlist += n;
		}
	}
	a->dense = calloc(ndense * ncls, sizeof(*a->dense));
	a->kid_cls = malloc(nlist ? nlist : 1);
	a->kid = malloc((nlist ? nlist : 1) * sizeof(*a->kid));
	if (!a->dense || !a->kid_cls || !a->kid)
		return -1;
	for (size_t k = 0; k < nst; k++) {
		unsigned n = (unsigned)(a->hdr[k] & 0xff);
		size_t o = (size_t)(a->hdr[k] >> 32), q = 0;
		if (n == 1)
			continue;
		for (size_t c = 0; c < ncls; c++) {
			uint32_t v = go[k * ncls + c];
			if (n == AC_DENSE) {
				a->dense[o + c] = v;
			} else if (v) {
				a->kid_cls[o + q] = (uint8_t)c;
				a->kid[o + q] = v;
				q++;
			}
		}
	}
	return 0;
}

struct ac *ac_new(const char *const *words, const size_t *lens,
		  const uint8_t *word_start, size_t n, char *err, size_t errlen)
{
	struct ac *a = calloc(1, sizeof(*a));
	uint32_t *go = NULL, *cnt = NULL;
	size_t cap = 64, nst = 1, i;
	uint32_t ncls = 1;

	if (!a)
		goto oom;
	for (unsigned c = 0; c < 256; c++)
		a->fold[c] = (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	for (i = 0; i < n; i++) {
		if (lens[i] == 0) {
			ac_set_error(err, errlen, "empty keyword");
			goto fail_out;
		}
		for (size_t j = 0; j < lens[i]; j++) {
			unsigned char c = a->fold[(unsigned char)words[i][j]];
			if (!a->cls[c])
				a->cls[c] = (uint8_t)ncls++;
			if (ncls > 255) {
				ac_set_error(err, errlen, "keyword alphabet too large");
				goto fail_out;
			}
		}
		int ws = word_start && word_start[i];
		unsigned c0 = a->fold[(unsigned char)words[i][0]];
		if (!ws) {
			a->inner_first[c0] = 1;
			if (c0 >= 'a' && c0 <= 'z')
				a->inner_first[c0 - 32] = 1;
			if (lens[i] == 1)
				for (unsigned c1 = 0; c1 < 256; c1++)
					ac_set_bigram(a->bi_inner, c0, c1);
			else
				ac_set_bigram(a->bi_inner, c0, a->fold[(unsigned char)words[i][1]]);
		}
		const unsigned char *w = (const unsigned char *)words[i];
		if (lens[i] == 1) {
			for (unsigned c1 = 0; c1 < 256; c1++)
				ac_set_bigram(ws ? a->bi_ws : a->bi_any, c0, c1);
		} else if (lens[i] == 2) {
			ac_set_bigram(ws ? a->bi_ws : a->bi_any, c0, a->fold[w[1]]);
		} else if (lens[i] == 3) {
			unsigned h = ac_hash3(c0, a->fold[w[1]], a->fold[w[2]]);
			uint8_t *bm = ws ? a->t3_ws : a->t3_any;
			bm[h >> 3] |= (uint8_t)(1u << (h & 7));
		} else {
			unsigned h = ac_hash4(c0, a->fold[w[1]], a->fold[w[2]], a->fold[w[3]]);
			uint8_t *bm = ws ? a->q4_ws : a->q4_any;
			bm[h >> 3] |= (uint8_t)(1u << (h & 7));
		}
	}
	for (size_t b = 0; b < sizeof(a->bi_w); b++)
		a->bi_w[b] = a->bi_any[b] | a->bi_ws[b];
	for (size_t b = 0; b < sizeof(a->t3_w); b++) {
		a->t3_w[b] = a->t3_any[b] | a->t3_ws[b];
		a->q4_w[b] = a->q4_any[b] | a->q4_ws[b];
	}
	for (unsigned c = 'A'; c <= 'Z'; c++)
		a->cls[c] = a->cls[c + 32];
	a->ncls = ncls;

	go = calloc(cap * ncls, sizeof(*go));
	cnt = calloc(cap, sizeof(*cnt));
	if (!go || !cnt)
		goto oom;
	/* trie: go[state * ncls + class] = child state */
	uint32_t *end_state = malloc((n ? n : 1) * sizeof(*end_state));
	if (!end_state)
		goto oom;
	for (i = 0; i < n; i++) {
		uint32_t s = 0;
		for (size_t j = 0; j < lens[i]; j++) {
			uint32_t c = a->cls[(unsigned char)words[i][j]];
			uint32_t t = go[(size_t)s * ncls + c];
			if (!t) {
				if (nst >= AC_MAX_STATES) {
					free(end_state);
					ac_set_error(err, errlen, "keyword automaton too large");
					goto fail_out;
				}
				if (nst == cap) {
					size_t ncap = cap * 2;
					uint32_t *g = realloc(go, ncap * ncls * sizeof(*g));
					uint32_t *h = g ? realloc(cnt, ncap * sizeof(*h)) : NULL;
					if (!g || !h) {
						if (g)
							go = g;
						free(end_state);
						goto oom;
					}
					go = g;
					cnt = h;
					memset(go + cap * ncls, 0, (ncap - cap) * ncls * sizeof(*go));
					memset(cnt + cap, 0, (ncap - cap) * sizeof(*cnt));
					cap = ncap;
				}
				t = (uint32_t)nst++;
				go[(size_t)s * ncls + c] = t;
			}
			s = t;
		}
		end_state[i] = s;
		cnt[s]++;
	}
	a->nstates = (uint32_t)nst;
	a->out_off = calloc(nst + 1, sizeof(*a->out_off));
	a->out_words = malloc((n ? n : 1) * sizeof(*a->out_words));
	if (!a->out_off || !a->out_words) {
		free(end_state);
		goto oom;
	}
	for (i = 0; i < nst; i++)
		a->out_off[i + 1] = a->out_off[i] + cnt[i];
	memset(cnt, 0, nst * sizeof(*cnt));
	for (i = 0; i < n; i++) {
		uint32_t k = end_state[i];
		a->out_words[a->out_off[k] + cnt[k]++] = (uint32_t)i;
	}
	free(end_state);
	/* flag the transitions into states where words end */
	for (i = 0; i < nst * ncls; i++)
		if (go[i] && cnt[go[i]])
			go[i] |= AC_HAS_OUTPUT;
	if (ac_compact(a, go, nst) < 0)
		goto oom;
	free(go);
	go = NULL;
	free(cnt);
	return a;
oom:
	ac_set_error(err, errlen, "out of memory building the keyword automaton");
fail_out:
	free(go);
	free(cnt);
	ac_free(a);
	return NULL;
}
