/* Aho-Corasick keyword automaton (see ac.h). Construction follows the
 * original paper: a trie (goto), failure links computed breadth first, and
 * the failure links folded into a full DFA so the scan never follows them. */
#include "policies/ac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char ac_fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static void ac_set_error(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

void ac_free(struct ac *a)
{
	if (!a)
		return;
	free(a->delta);
	free(a->out_off);
	free(a->out_words);
	free(a);
}

struct ac *ac_new(const char *const *words, const size_t *lens, size_t n,
		  char *err, size_t errlen)
{
	struct ac *a = calloc(1, sizeof(*a));
	uint32_t *go = NULL, *fail = NULL, *queue = NULL, *cnt = NULL;
	uint32_t *own_head = NULL, *own_next = NULL, *renum = NULL;
	size_t cap = 64, nst = 1, i;
	uint32_t ncls = 1;

	if (!a)
		goto oom;
	/* Alphabet: one class per distinct folded byte used by any word. */
	for (i = 0; i < n; i++) {
		if (lens[i] == 0) {
			ac_set_error(err, errlen, "empty keyword");
			goto fail_out;
		}
		for (size_t j = 0; j < lens[i]; j++) {
			unsigned char c = ac_fold((unsigned char)words[i][j]);
			if (!a->cls[c])
				a->cls[c] = (uint8_t)ncls++;
		}
	}
	if (ncls > 256) {
		ac_set_error(err, errlen, "keyword alphabet too large");
		goto fail_out;
	}
	for (unsigned c = 'A'; c <= 'Z'; c++)
		a->cls[c] = a->cls[c + 32];
	a->ncls = ncls;

	go = calloc(cap * ncls, sizeof(*go));
	own_head = malloc(cap * sizeof(*own_head));
	own_next = malloc((n ? n : 1) * sizeof(*own_next));
	if (!go || !own_head || !own_next)
		goto oom;
	own_head[0] = UINT32_MAX;
	for (i = 0; i < n; i++) {
		uint32_t s = 0;
		for (size_t j = 0; j < lens[i]; j++) {
			uint32_t c = a->cls[(unsigned char)words[i][j]];
			uint32_t t = go[(size_t)s * ncls + c];
			if (!t) {
				if (nst >= AC_MAX_STATES) {
					ac_set_error(err, errlen, "keyword automaton too large");
					goto fail_out;
				}
				if (nst == cap) {
					size_t ncap = cap * 2;
					uint32_t *g = realloc(go, ncap * ncls * sizeof(*g));
					if (!g)
						goto oom;
					go = g;
					memset(go + cap * ncls, 0, (ncap - cap) * ncls * sizeof(*go));
					uint32_t *h = realloc(own_head, ncap * sizeof(*h));
					if (!h)
						goto oom;
					own_head = h;
					cap = ncap;
				}
				t = (uint32_t)nst++;
				own_head[t] = UINT32_MAX;
				go[(size_t)s * ncls + c] = t;
			}
			s = t;
		}
		own_next[i] = own_head[s];
		own_head[s] = (uint32_t)i;
	}

	/* Breadth first: failure links, DFA rows, output counts. */
	fail = calloc(nst, sizeof(*fail));
	queue = malloc(nst * sizeof(*queue));
	cnt = calloc(nst, sizeof(*cnt));
	renum = malloc(nst * sizeof(*renum));
	if (!fail || !queue || !cnt || !renum)
		goto oom;
	size_t qh = 0, qt = 0;
	queue[qt++] = 0;
	while (qh < qt) {
		uint32_t s = queue[qh++];
		uint32_t own = 0;
		for (uint32_t w = own_head[s]; w != UINT32_MAX; w = own_next[w])
			own++;
		cnt[s] = own + (s ? cnt[fail[s]] : 0);
		for (uint32_t c = 0; c < ncls; c++) {
			uint32_t *slot = &go[(size_t)s * ncls + c];
			if (*slot && c) {
				uint32_t t = *slot;
				fail[t] = s ? go[(size_t)fail[s] * ncls + c] : 0;
				queue[qt++] = t;
			} else {
				*slot = s ? go[(size_t)fail[s] * ncls + c] : 0;
			}
		}
	}

	/* Renumber: states without output first, so "has output" is a compare. */
	uint32_t k = 0;
	for (i = 0; i < nst; i++)
		if (!cnt[i])
			renum[i] = k++;
	a->first_out = k * ncls;
	size_t total = 0;
	for (i = 0; i < nst; i++)
		if (cnt[i]) {
			renum[i] = k++;
			total += cnt[i];
		}
	a->nstates = (uint32_t)nst;
	a->delta = malloc(nst * ncls * sizeof(*a->delta));
	a->out_off = calloc(nst + 1, sizeof(*a->out_off));
	a->out_words = malloc((total ? total : 1) * sizeof(*a->out_words));
	if (!a->delta || !a->out_off || !a->out_words)
		goto oom;
	for (i = 0; i < nst; i++)
		for (uint32_t c = 0; c < ncls; c++)
			a->delta[(size_t)renum[i] * ncls + c] = renum[go[i * ncls + c]] * ncls;
	for (i = 0; i < nst; i++)
		a->out_off[renum[i] + 1] = cnt[i];
	for (i = 0; i < nst; i++)
		a->out_off[i + 1] += a->out_off[i];
	for (i = 0; i < nst; i++) {
		uint32_t pos = a->out_off[renum[i]];
		/* own words, then those of the failure chain */
		for (uint32_t s = (uint32_t)i;; s = fail[s]) {
			for (uint32_t w = own_head[s]; w != UINT32_MAX; w = own_next[w])
				a->out_words[pos++] = w;
			if (!s)
				break;
		}
	}
	free(go);
	free(fail);
	free(queue);
	free(cnt);
	free(own_head);
	free(own_next);
	free(renum);
	return a;
oom:
	ac_set_error(err, errlen, "out of memory building the keyword automaton");
fail_out:
	free(go);
	free(fail);
	free(queue);
	free(cnt);
	free(own_head);
	free(own_next);
	free(renum);
	ac_free(a);
	return NULL;
}
