/* The single-pass scanner (see scan.h, detector.h).
 *
 * Pass 1 walks the text once. Per byte it does two table loads: the bigram
 * filter of the keyword matcher (policies/ac.h), which enters the keyword
 * trie only where a keyword can start, and the trigger class, which starts
 * shape recognition on digits, '@', ':' and '-' (the shape reader looks
 * ahead over the run and is not re-entered until the run ends). Keyword
 * hits become triggers and/or context entries; shapes become triggers.
 * Pass 2 walks only the (few) triggers and calls the detectors that asked
 * for them; pass 3 sorts the findings and resolves overlaps. Nothing is
 * allocated unless the caller's arrays must grow. */
#include "policies/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/ac.h"

#define D SCAN_BYTE_DIGIT | SCAN_BYTE_HEX
#define UH SCAN_BYTE_UPPER | SCAN_BYTE_HEX
#define LH SCAN_BYTE_LOWER | SCAN_BYTE_HEX
const uint8_t scan_byte_class[256] = {
	['\t'] = SCAN_BYTE_SPACE, ['\n'] = SCAN_BYTE_SPACE, ['\v'] = SCAN_BYTE_SPACE,
	['\f'] = SCAN_BYTE_SPACE, ['\r'] = SCAN_BYTE_SPACE,
	[' '] = SCAN_BYTE_SPACE | SCAN_BYTE_NUMSEP,
	['-'] = SCAN_BYTE_NUMSEP, ['.'] = SCAN_BYTE_NUMSEP, ['/'] = SCAN_BYTE_NUMSEP,
	['('] = SCAN_BYTE_NUMSEP, [')'] = SCAN_BYTE_NUMSEP,
	['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
	['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
	['A'] = UH, ['B'] = UH, ['C'] = UH, ['D'] = UH, ['E'] = UH, ['F'] = UH,
	['G' ... 'Z'] = SCAN_BYTE_UPPER,
	['a'] = LH, ['b'] = LH, ['c'] = LH, ['d'] = LH, ['e'] = LH, ['f'] = LH,
	['g' ... 'z'] = SCAN_BYTE_LOWER,
	[0x80 ... 0xff] = SCAN_BYTE_HIGH,
};
#undef D
#undef UH
#undef LH

/* Bytes that may start a shape: digits, '@', ':', '-'. */
static const uint8_t scan_trigger_byte[256] = {
	['0' ... '9'] = 1, ['@'] = 1, [':'] = 1, ['-'] = 1,
};

/* One keyword of the automaton. */
struct scan_keyword {
	uint16_t det;        /* detector index */
	uint16_t kw;         /* index in that detector's keyword list */
	uint8_t flags;
	uint8_t context;
	uint32_t len;
	const char *word;
};

struct scan_shape_subs {
	uint16_t *det;
	size_t n;
};

#define SCAN_N_SHAPES 4

struct policy_scanner {
	const struct detector **det;
	size_t n_det;
	struct scan_keyword *kw;
	size_t n_kw;
	struct ac *ac;
	struct scan_shape_subs shape[SCAN_N_SHAPES];
	uint32_t shape_mask;  /* union of all detectors' shapes */
	unsigned num_min_digits; /* shortest number run any detector wants */
	uint8_t byteinfo[256];   /* SCAN_INFO_* per byte */
};

/* Per-byte facts pass 1 needs, folded into one table per scanner. */
enum scan_info {
	SCAN_INFO_WORD = 1u << 0,    /* SCAN_BYTE_WORD */
	SCAN_INFO_TRIGGER = 1u << 1, /* may start a shape */
	SCAN_INFO_INNER = 1u << 2,   /* may start a keyword inside a word */
};

struct scan_event {
	uint32_t start, end;
	uint32_t id;          /* keyword id, or shape bit index */
	uint16_t digits;      /* NUMBER: digits in the run (saturated) */
	uint8_t is_shape;
};

struct scan_ctx_hit {
	uint32_t start, end;
	uint8_t context;
};

struct scan_scratch {
	struct scan_event *ev;
	size_t n_ev, cap_ev;
	struct scan_ctx_hit *ctx;
	size_t n_ctx, cap_ctx;
};

/* What scan_input.priv points to. */
struct scan_priv {
	const struct scan_ctx_hit *ctx;
	size_t n_ctx;
	size_t base;          /* out->n before the scan */
};

/* The builtin families. Each file: one table of rows. */
static const struct {
	const struct detector *table;
	const size_t *count;
} scan_families[] = {
	{ detect_contact_table, &detect_contact_count },
	{ detect_financial_table, &detect_financial_count },
	{ detect_national_id_table, &detect_national_id_count },
	{ detect_person_table, &detect_person_count },
	{ detect_secret_table, &detect_secret_count },
	{ detect_special_table, &detect_special_count },
};

void policy_findings_init(struct policy_findings *f)
{
	memset(f, 0, sizeof(*f));
}

void policy_findings_clear(struct policy_findings *f)
{
	f->n = 0;
	f->error = NULL;
}

void policy_findings_free(struct policy_findings *f)
{
	if (f->scratch) {
		struct scan_scratch *s = f->scratch;
		if (s->ev)
			explicit_bzero(s->ev, s->cap_ev * sizeof(*s->ev));
		if (s->ctx)
			explicit_bzero(s->ctx, s->cap_ctx * sizeof(*s->ctx));
		free(s->ev);
		free(s->ctx);
		free(s);
	}
	if (f->v)
		explicit_bzero(f->v, f->cap * sizeof(*f->v));
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int scan_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -1;
		ncap *= 2;
	}
	void *q = realloc(*p, ncap * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = ncap;
	return 0;
}

int policy_findings_add(struct policy_findings *f, const struct policy_finding *x)
{
	if (f->n >= f->cap &&
	    scan_grow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v)) < 0)
		return -1;
	f->v[f->n++] = *x;
	return 0;
}

int scan_add_finding(struct policy_findings *out, const struct scan_input *in,
		     size_t start, size_t end, unsigned confidence)
{
	const struct scan_priv *p = in->priv;
	struct policy_finding x;

	if (start >= end || end > in->len)
		return 0;   /* a detector bug must not become a bogus finding */
	if (out->n - p->base >= POLICY_SCAN_MAX_FINDINGS) {
		out->error = "too many findings in one text";
		return -1;
	}
	x.start = (uint32_t)start;
	x.end = (uint32_t)end;
	x.entity = in->det->entity;
	x.detector = in->det_index;
	x.data_class = in->det->data_class;
	x.confidence = (uint8_t)(confidence ? (confidence > 100 ? 100 : confidence)
					    : in->det->confidence);
	if (policy_findings_add(out, &x) < 0) {
		out->error = "out of memory";
		return -1;
	}
	return 0;
}

int scan_context_near(const struct scan_input *in, unsigned ctx,
		      size_t start, size_t end, size_t before, size_t after)
{
	const struct scan_priv *p = in->priv;
	size_t lo = start > before ? start - before : 0;
	size_t hi = end + after;
	size_t a = 0, b = p->n_ctx;

	while (a < b) {   /* first hit with start >= lo */
		size_t m = a + (b - a) / 2;
		if (p->ctx[m].start < lo)
			a = m + 1;
		else
			b = m;
	}
	for (; a < p->n_ctx && p->ctx[a].start <= hi; a++)
		if (p->ctx[a].context == ctx)
			return 1;
	return 0;
}

int detector_match_keyword(const struct scan_input *in,
			   const struct scan_trigger *t,
			   struct policy_findings *out)
{
	if (t->kind != SCAN_TRIGGER_KEYWORD)
		return 0;
	return scan_add_finding(out, in, t->start, t->end, 0);
}

size_t scan_collect_digits(const char *text, size_t start, size_t end,
			   char *dst, uint32_t *pos, size_t max)
{
	size_t n = 0;
	for (size_t i = start; i < end; i++) {
		if (text[i] < '0' || text[i] > '9')
			continue;
		if (n == max)
			return max + 1;
		dst[n] = text[i];
		if (pos)
			pos[n] = (uint32_t)i;
		n++;
	}
	return n;
}

size_t scan_number_groups(const char *text, size_t start, size_t end,
			  struct scan_group *g, size_t max)
{
	size_t n = 0, i = start;
	uint8_t sep = 0;
	while (i < end && n < max) {
		if (text[i] < '0' || text[i] > '9') {
			sep = (uint8_t)text[i++];
			continue;
		}
		size_t a = i;
		while (i < end && text[i] >= '0' && text[i] <= '9')
			i++;
		g[n] = (struct scan_group){ (uint32_t)a, (uint32_t)i, n ? sep : 0 };
		n++;
		sep = 0;
	}
	return n;
}

/* "detector ID: what" (or just "what" without an id). */
static void scan_set_error(char *err, size_t errlen, const char *id, const char *what)
{
	if (!err || !errlen)
		return;
	if (id)
		snprintf(err, errlen, "detector %s: %s", id, what);
	else
		snprintf(err, errlen, "%s", what);
}

void policy_scanner_free(struct policy_scanner *s)
{
	if (!s)
		return;
	ac_free(s->ac);
	for (size_t i = 0; i < SCAN_N_SHAPES; i++)
		free(s->shape[i].det);
	free(s->kw);
	free(s->det);
	free(s);
}

struct policy_scanner *policy_scanner_new(const struct detector *const *extra,
					  size_t n_extra, char *err, size_t errlen)
{
	struct policy_scanner *s = calloc(1, sizeof(*s));
	const char **words = NULL;
	size_t *lens = NULL;
	size_t n_builtin = 0, i;

	if (!s)
		goto oom;
	for (i = 0; i < sizeof(scan_families) / sizeof(scan_families[0]); i++)
		n_builtin += *scan_families[i].count;
	if (n_extra > UINT16_MAX || n_builtin + n_extra > UINT16_MAX) {
		scan_set_error(err, errlen, NULL, "too many detectors");
		goto fail;
	}
	s->det = calloc(n_builtin + n_extra + 1, sizeof(*s->det));
	if (!s->det)
		goto oom;
	for (i = 0; i < sizeof(scan_families) / sizeof(scan_families[0]); i++)
		for (size_t j = 0; j < *scan_families[i].count; j++)
			s->det[s->n_det++] = &scan_families[i].table[j];
	for (i = 0; i < n_extra; i++)
		s->det[s->n_det++] = extra[i];

	/* Collect keywords and shape subscriptions. */
	for (i = 0; i < s->n_det; i++) {
		const struct detector *d = s->det[i];
		if (!d || !d->id || !d->match) {
			scan_set_error(err, errlen, d && d->id ? d->id : "?",
				       "missing id or match function");
			goto fail;
		}
		for (size_t j = 0; d->keywords && d->keywords[j].word; j++)
			s->n_kw++;
		if (d->shapes & ~(uint32_t)((1u << SCAN_N_SHAPES) - 1)) {
			scan_set_error(err, errlen, d->id, "unknown shape");
			goto fail;
		}
		for (unsigned b = 0; b < SCAN_N_SHAPES; b++)
			if (d->shapes & (1u << b))
				s->shape[b].n++;
		if (d->shapes & SCAN_SHAPE_NUMBER) {
			unsigned m = d->min_digits > 2 ? d->min_digits : 2;
			if (!(s->shape_mask & SCAN_SHAPE_NUMBER) || m < s->num_min_digits)
				s->num_min_digits = m;
		}
		s->shape_mask |= d->shapes;
	}
	for (unsigned b = 0; b < SCAN_N_SHAPES; b++) {
		s->shape[b].det = calloc(s->shape[b].n + 1, sizeof(uint16_t));
		if (!s->shape[b].det)
			goto oom;
		s->shape[b].n = 0;
	}
	s->kw = calloc(s->n_kw + 1, sizeof(*s->kw));
	words = calloc(s->n_kw + 1, sizeof(*words));
	lens = calloc(s->n_kw + 1, sizeof(*lens));
	if (!s->kw || !words || !lens)
		goto oom;
	size_t k = 0;
	for (i = 0; i < s->n_det; i++) {
		const struct detector *d = s->det[i];
		for (unsigned b = 0; b < SCAN_N_SHAPES; b++)
			if (d->shapes & (1u << b))
				s->shape[b].det[s->shape[b].n++] = (uint16_t)i;
		for (size_t j = 0; d->keywords && d->keywords[j].word; j++) {
			const struct detector_keyword *w = &d->keywords[j];
			size_t len = strlen(w->word);
			if (len == 0 || len > 255 || j > UINT16_MAX) {
				scan_set_error(err, errlen, d->id, "keyword empty or too long");
				goto fail;
			}
			if (w->context >= SCAN_CONTEXT_COUNT) {
				scan_set_error(err, errlen, d->id, "unknown context group");
				goto fail;
			}
			s->kw[k] = (struct scan_keyword){ (uint16_t)i, (uint16_t)j, w->flags,
							  w->context, (uint32_t)len, w->word };
			words[k] = w->word;
			lens[k] = len;
			k++;
		}
	}
	char acerr[128];
	uint8_t *ws = calloc(s->n_kw + 1, 1);
	if (!ws)
		goto oom;
	for (k = 0; k < s->n_kw; k++)
		ws[k] = (s->kw[k].flags & DETECTOR_KW_WORD_START) &&
			scan_is((unsigned char)words[k][0], SCAN_BYTE_WORD);
	s->ac = ac_new(words, lens, ws, s->n_kw, acerr, sizeof(acerr));
	free(ws);
	if (s->ac)
		for (unsigned c = 0; c < 256; c++)
			s->byteinfo[c] = (uint8_t)((scan_is((unsigned char)c, SCAN_BYTE_WORD) ? SCAN_INFO_WORD : 0) |
						   (scan_trigger_byte[c] ? SCAN_INFO_TRIGGER : 0) |
						   (s->ac->inner_first[c] ? SCAN_INFO_INNER : 0));
	if (!s->ac) {
		scan_set_error(err, errlen, NULL, acerr);
		goto fail;
	}
	free(words);
	free(lens);
	return s;
oom:
	scan_set_error(err, errlen, NULL, "out of memory");
fail:
	free(words);
	free(lens);
	policy_scanner_free(s);
	return NULL;
}

size_t policy_scanner_detector_count(const struct policy_scanner *s)
{
	return s->n_det;
}

const struct detector *policy_scanner_detector(const struct policy_scanner *s,
					       size_t index)
{
	return index < s->n_det ? s->det[index] : NULL;
}

int policy_scanner_find_detector(const struct policy_scanner *s, const char *id)
{
	for (size_t i = 0; i < s->n_det; i++)
		if (strcmp(s->det[i]->id, id) == 0)
			return (int)i;
	return -1;
}

static int scan_push_event(struct scan_scratch *sc, size_t start, size_t end,
			   uint32_t id, int is_shape)
{
	if (sc->n_ev == sc->cap_ev &&
	    scan_grow((void **)&sc->ev, &sc->cap_ev, sc->n_ev + 1, sizeof(*sc->ev)) < 0)
		return -1;
	sc->ev[sc->n_ev++] = (struct scan_event){ (uint32_t)start, (uint32_t)end, id, 0,
						  (uint8_t)is_shape };
	return 0;
}

static int scan_is_word(const char *t, size_t len, size_t i)
{
	return i < len && scan_is((unsigned char)t[i], SCAN_BYTE_WORD);
}

/* Keyword `id` occupies [start, end): check its flags, record it. */
static int scan_keyword_hit(const struct policy_scanner *s, struct scan_scratch *sc,
			    const char *t, size_t len, uint32_t id, size_t start, size_t end)
{
	const struct scan_keyword *k = &s->kw[id];

	if ((k->flags & DETECTOR_KW_WORD_START) && start > 0 && scan_is_word(t, len, start - 1))
		return 0;
	if ((k->flags & DETECTOR_KW_WORD_END) && scan_is_word(t, len, end))
		return 0;
	if ((k->flags & DETECTOR_KW_CASE) && memcmp(t + start, k->word, k->len) != 0)
		return 0;
	if (k->context != SCAN_CONTEXT_NONE) {
		if (sc->n_ctx == sc->cap_ctx &&
		    scan_grow((void **)&sc->ctx, &sc->cap_ctx, sc->n_ctx + 1, sizeof(*sc->ctx)) < 0)
			return -1;
		sc->ctx[sc->n_ctx++] = (struct scan_ctx_hit){ (uint32_t)start, (uint32_t)end,
							      k->context };
	}
	if (k->flags & DETECTOR_KW_TRIGGER)
		return scan_push_event(sc, start, end, id, 0);
	return 0;
}

static int scan_finding_cmp(const void *a, const void *b)
{
	const struct policy_finding *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	return (int)x->detector - (int)y->detector;
}

/* A number run starting at digit i; returns its end. */
static size_t scan_number_run(const char *t, size_t len, size_t i, size_t *startp,
			      unsigned *ndigits)
{
	size_t start = i, j = i;
	unsigned nd = 0;

	if (start > 0 && t[start - 1] == '(')
		start--;
	if (start > 0 && t[start - 1] == '+')
		start--;
	for (;;) {
		while (j < len && t[j] >= '0' && t[j] <= '9') {
			j++;
			nd++;
		}
		size_t k = j;
		while (k < len && k - j < 2 && scan_is((unsigned char)t[k], SCAN_BYTE_NUMSEP))
			k++;
		if (k > j && k < len && t[k] >= '0' && t[k] <= '9')
			j = k;
		else {
			/* "(0)30": a closing parenthesis directly after a digit */
			if (j < len && t[j] == ')' && j + 1 < len && t[j + 1] == ' ' &&
			    j + 2 < len && t[j + 2] >= '0' && t[j + 2] <= '9') {
				j += 2;
				continue;
			}
			break;
		}
	}
	*startp = start;
	*ndigits = nd;
	return j;
}

static int scan_is_hexgroup_byte(unsigned char c)
{
	return scan_is(c, SCAN_BYTE_HEX) || c == ':' || c == '.' || c == '-';
}

int policy_scan_text(const struct policy_scanner *s, const char *text,
		     size_t len, struct policy_findings *out)
{
	const unsigned char *t = (const unsigned char *)text;
	const struct ac *ac = s->ac;
	struct scan_scratch *sc;
	size_t base = out->n;
	size_t num_end = 0, alnum_end = 0, hex_end = 0;
	const uint32_t want_num = s->shape_mask & SCAN_SHAPE_NUMBER;
	const uint32_t want_alnum = s->shape_mask & SCAN_SHAPE_ALNUM;
	const uint32_t want_at = s->shape_mask & SCAN_SHAPE_AT;
	const uint32_t want_hex = s->shape_mask & SCAN_SHAPE_HEXGROUP;

	out->error = NULL;
	if (len > POLICY_SCAN_MAX_LEN) {
		out->error = "text too long to scan";
		return -1;
	}
	if (!out->scratch) {
		out->scratch = calloc(1, sizeof(*out->scratch));
		if (!out->scratch) {
			out->error = "out of memory";
			return -1;
		}
	}
	sc = out->scratch;
	sc->n_ev = 0;
	sc->n_ctx = 0;

	/* Pass 1. One table load per byte decides whether anything can start
	 * here: a word start, a byte that starts an in-word keyword, or a
	 * shape trigger; most bytes inside words need nothing more. */
	int prev_word = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = t[i];
		unsigned info = s->byteinfo[c];
		int cand = 0;
		if (!prev_word || (info & SCAN_INFO_INNER)) {
			unsigned char c1, c2, c3;
			if (__builtin_expect(i + 3 < len, 1)) {
				c1 = t[i + 1];
				c2 = t[i + 2];
				c3 = t[i + 3];
			} else {
				c1 = i + 1 < len ? t[i + 1] : 0;
				c2 = i + 2 < len ? t[i + 2] : 0;
				c3 = 0;
			}
			cand = prev_word ? ac_candidate_inner(ac, c, c1, c2, c3)
					 : ac_candidate(ac, c, c1, c2, c3, 1);
		}
		if (__builtin_expect(cand, 0)) {
			/* walk the trie anchored at i */
			uint32_t st = 0;
			for (size_t j = i; j < len; j++) {
				st = ac_child(ac, st, t[j]);
				if (!st)
					break;
				if (!(st & AC_HAS_OUTPUT))
					continue;
				size_t n;
				const uint32_t *w = ac_outputs(ac, st, &n);
				for (size_t q = 0; q < n; q++) {
					if ((s->kw[w[q]].flags & DETECTOR_KW_WORD_START) && prev_word)
						continue;
					if (scan_keyword_hit(s, sc, text, len, w[q], i, j + 1) < 0)
						goto oom;
				}
			}
		}
		prev_word = info & SCAN_INFO_WORD;
		if (__builtin_expect(!(info & SCAN_INFO_TRIGGER), 1))
			continue;
		if (c == '@') {
			if (want_at && scan_push_event(sc, i, i + 1, 2, 1) < 0)
				goto oom;
			continue;
		}
		if ((c == ':' || c == '-') && want_hex && i >= hex_end &&
		    i > 0 && i + 1 < len && scan_is_hexgroup_byte(t[i - 1]) &&
		    (scan_is(t[i + 1], SCAN_BYTE_HEX) || t[i + 1] == ':')) {
			size_t a = i, b = i;
			unsigned colons = 0, dashes = 0;
			while (a > 0 && scan_is_hexgroup_byte(t[a - 1]))
				a--;
			while (b < len && scan_is_hexgroup_byte(t[b])) {
				colons += t[b] == ':';
				dashes += t[b] == '-';
				b++;
			}
			for (size_t q = a; q < i; q++) {
				colons += t[q] == ':';
				dashes += t[q] == '-';
			}
			hex_end = b;
			if ((colons >= 2 || dashes >= 5) && scan_push_event(sc, a, b, 3, 1) < 0)
				goto oom;
			continue;
		}
		if (!(scan_byte_class[c] & SCAN_BYTE_DIGIT))
			continue;
		if (want_alnum && i >= alnum_end) {
			size_t a = i, b = i + 1;
			int letters = 0;
			while (a > 0 && scan_is(t[a - 1], SCAN_BYTE_ALNUM)) {
				a--;
				letters |= !scan_is(t[a], SCAN_BYTE_DIGIT);
			}
			while (b < len && scan_is(t[b], SCAN_BYTE_ALNUM)) {
				letters |= !scan_is(t[b], SCAN_BYTE_DIGIT);
				b++;
			}
			alnum_end = b;
			if (letters && !(a > 0 && scan_is(t[a - 1], SCAN_BYTE_HIGH)) &&
			    !(b < len && scan_is(t[b], SCAN_BYTE_HIGH)) &&
			    scan_push_event(sc, a, b, 1, 1) < 0)
				goto oom;
		}
		if (want_num && i >= num_end) {
			size_t a;
			unsigned nd;
			size_t b = scan_number_run(text, len, i, &a, &nd);
			num_end = b;
			if (nd >= s->num_min_digits) {
				if (scan_push_event(sc, a, b, 0, 1) < 0)
					goto oom;
				sc->ev[sc->n_ev - 1].digits = (uint16_t)(nd > UINT16_MAX ? UINT16_MAX : nd);
			}
		}
	}

	/* Context hits arrive ordered by start already; keep the insertion
	 * sort as a guard (it does no work on sorted input). */
	for (size_t i = 1; i < sc->n_ctx; i++) {
		struct scan_ctx_hit h = sc->ctx[i];
		size_t j = i;
		while (j > 0 && sc->ctx[j - 1].start > h.start) {
			sc->ctx[j] = sc->ctx[j - 1];
			j--;
		}
		sc->ctx[j] = h;
	}

	/* Pass 2: run the detectors on their triggers. */
	struct scan_priv priv = { sc->ctx, sc->n_ctx, base };
	struct scan_input in = { text, len, NULL, 0, &priv };
	for (size_t e = 0; e < sc->n_ev; e++) {
		const struct scan_event *ev = &sc->ev[e];
		struct scan_trigger tr = { SCAN_TRIGGER_KEYWORD, ev->start, ev->end, 0, 0, ev->digits };
		if (!ev->is_shape) {
			const struct scan_keyword *k = &s->kw[ev->id];
			in.det = s->det[k->det];
			in.det_index = k->det;
			tr.keyword = k->kw;
			if (in.det->match(&in, &tr, out) < 0)
				goto fail;
			continue;
		}
		tr.kind = SCAN_TRIGGER_SHAPE;
		tr.shape = (uint16_t)(1u << ev->id);
		const struct scan_shape_subs *sub = &s->shape[ev->id];
		for (size_t d = 0; d < sub->n; d++) {
			in.det = s->det[sub->det[d]];
			if (ev->id == 0 && in.det->min_digits > ev->digits)
				continue;
			in.det_index = sub->det[d];
			if (in.det->match(&in, &tr, out) < 0)
				goto fail;
		}
	}

	/* Pass 3: sort by start, longer first; then keep a finding unless it
	 * overlaps a kept one that beats it (longer, then more confident, then
	 * the earlier detector). */
	/* out->v is NULL until the first finding of a fresh array: NULL + 0 is
	 * undefined (C11 6.5.6p8), so no arithmetic on it. */
	struct policy_finding *v = out->v ? out->v + base : NULL;
	size_t n = out->n - base;
	if (n > 1)
		qsort(v, n, sizeof(*v), scan_finding_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && v[i].start < v[kept - 1].end) {
			struct policy_finding *p = &v[kept - 1];
			uint32_t lp = p->end - p->start, li = v[i].end - v[i].start;
			int better = li > lp || (li == lp && (v[i].confidence > p->confidence ||
				     (v[i].confidence == p->confidence && v[i].detector < p->detector)));
			if (better)
				*p = v[i];
			continue;
		}
		v[kept++] = v[i];
	}
	out->n = base + kept;
	return 0;
oom:
	out->error = "out of memory";
fail:
	if (!out->error)
		out->error = "scan failed";
	out->n = base;
	return -1;
}
