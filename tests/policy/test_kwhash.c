/* The scanner's keyword hits against a brute-force reference.
 *
 * Pass 1 finds keywords two ways (policies/kwhash.h: whole words and stems
 * at word starts; policies/ac.h: the trie for keywords that may start
 * inside a word or begin with a non-word byte). This test builds scanners
 * with a custom detector holding random keywords of every kind (word
 * bytes only, with '.', '-', ' ', ':' inside or first, UTF-8, digits,
 * 1-20 bytes, every combination of WORD_START / WORD_END / CASE) and
 * checks that the keyword triggers the detector receives are exactly the
 * ones a position-by-position comparison finds, on random texts, with the
 * AVX2 and the scalar position filter, whole and in short windows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/kwhash.h"
#include "policies/scan.h"
#include "tests/tap.h"

#define KW_MAX 400
#define HIT_MAX 200000

struct hit {
	uint32_t start, end, kw;
};

static struct hit got[HIT_MAX];
static size_t n_got;
static int got_overflow;

static int record(const struct scan_input *in, const struct scan_trigger *t,
		  struct policy_findings *out)
{
	(void)in;
	(void)out;
	if (t->kind != SCAN_TRIGGER_KEYWORD)
		return 0;
	if (n_got == HIT_MAX) {
		got_overflow = 1;
		return 0;
	}
	got[n_got++] = (struct hit){ t->start, t->end, t->keyword };
	return 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->kw < y->kw ? -1 : x->kw > y->kw;
}

static unsigned rng_state = 12345;

static unsigned rng(unsigned n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

/* Pieces keywords and texts are made of: letters of both cases, digits,
 * UTF-8 letters, separators. */
static const char *const pieces[] = {
	"a", "b", "e", "r", "s", "t", "A", "B", "E", "R", "S", "T", "1", "7",
	"\xc3\xa4", "\xc3\x84", "\xc3\x9f", ".", "-", " ", ":", "_", "@",
};
#define N_PIECES (sizeof(pieces) / sizeof(pieces[0]))

static char kw_text[KW_MAX][32];
static struct detector_keyword kws[KW_MAX + 1];
static size_t n_kw;

static int is_word(unsigned char c)
{
	return scan_is(c, SCAN_BYTE_WORD);
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Random keywords, plus fixed ones for the edge cases: 1 and 2 bytes,
 * longer than 8, first byte not a word byte, a phrase. */
static void make_keywords(void)
{
	static const char *const fixed[] = {
		"e", "Ab", "str.", "-----BEGIN ", "://", "Mit freundlichen Gr\xc3\xbc\xc3\x9f" "en",
		"\xc3\xa4rzt", "abcdefghijk", "tester", "t", "rest", "s1", "c/", "a.b.", NULL,
	};
	n_kw = 0;
	for (size_t i = 0; fixed[i]; i++)
		snprintf(kw_text[n_kw++], sizeof(kw_text[0]), "%s", fixed[i]);
	while (n_kw < KW_MAX) {
		size_t l = 0, parts = 1 + rng(rng(4) ? 5 : 12);
		kw_text[n_kw][0] = 0;
		for (size_t p = 0; p < parts; p++) {
			const char *pc = pieces[rng(rng(3) ? 14 : N_PIECES)];
			size_t pl = strlen(pc);
			if (l + pl >= sizeof(kw_text[0]))
				break;
			memcpy(kw_text[n_kw] + l, pc, pl + 1);
			l += pl;
		}
		n_kw++;
	}
	for (size_t i = 0; i < n_kw; i++) {
		unsigned fl = DETECTOR_KW_TRIGGER;
		unsigned r = rng(8);
		if (r & 1)
			fl |= DETECTOR_KW_WORD_START;
		if (r & 2)
			fl |= DETECTOR_KW_WORD_END;
		if ((r & 4) && rng(3) == 0)
			fl |= DETECTOR_KW_CASE;
		kws[i] = (struct detector_keyword){ kw_text[i], (uint8_t)fl, SCAN_CONTEXT_NONE };
	}
	kws[n_kw] = (struct detector_keyword){ NULL, 0, 0 };
}

/* Random text: keywords (sometimes in other case) and pieces. */
static size_t make_text(char *buf, size_t cap)
{
	size_t l = 0;
	while (l + 40 < cap) {
		if (rng(3) == 0) {
			const char *k = kw_text[rng((unsigned)n_kw)];
			size_t kl = strlen(k);
			for (size_t j = 0; j < kl; j++) {
				unsigned char c = (unsigned char)k[j];
				if (rng(4) == 0 && c >= 'a' && c <= 'z')
					c = (unsigned char)(c - 32);
				else if (rng(4) == 0 && c >= 'A' && c <= 'Z')
					c = (unsigned char)(c + 32);
				buf[l++] = (char)c;
			}
		} else {
			const char *pc = pieces[rng(N_PIECES)];
			memcpy(buf + l, pc, strlen(pc));
			l += strlen(pc);
		}
	}
	return l;
}

/* Every keyword at every position, by the rules in detector.h. */
static size_t reference(const char *text, size_t len, struct hit *out, size_t cap)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < n_kw; k++) {
			const unsigned char *w = (const unsigned char *)kws[k].word;
			size_t l = strlen((const char *)w), j;
			if (l > len - i)
				continue;
			for (j = 0; j < l; j++)
				if ((kws[k].flags & DETECTOR_KW_CASE) ? t[i + j] != w[j]
								      : fold(t[i + j]) != fold(w[j]))
					break;
			if (j < l)
				continue;
			if ((kws[k].flags & DETECTOR_KW_WORD_START) && i > 0 && is_word(t[i - 1]))
				continue;
			if ((kws[k].flags & DETECTOR_KW_WORD_END) && i + l < len && is_word(t[i + l]))
				continue;
			if (n < cap)
				out[n] = (struct hit){ (uint32_t)i, (uint32_t)(i + l), (uint32_t)k };
			n++;
		}
	}
	return n;
}

static struct hit want[HIT_MAX];

/* 1 when the scanner's keyword triggers on text equal the reference. */
static int same_hits(struct policy_scanner *sc, struct policy_findings *f, int det,
		     const char *text, size_t len)
{
	(void)det;
	n_got = 0;
	got_overflow = 0;
	policy_findings_clear(f);
	if (policy_scan_text(sc, text, len, f) < 0) {
		tap_diag("scan failed: %s", f->error);
		return 0;
	}
	size_t n_want = reference(text, len, want, HIT_MAX);
	if (got_overflow || n_want > HIT_MAX)
		return 0;
	qsort(got, n_got, sizeof(got[0]), hit_cmp);
	qsort(want, n_want, sizeof(want[0]), hit_cmp);
	if (n_got != n_want) {
		tap_diag("%zu hits, reference %zu", n_got, n_want);
		for (size_t i = 0; i < n_want || i < n_got; i++) {
			if (i < n_want && (i >= n_got || hit_cmp(&got[i], &want[i]) != 0)) {
				tap_diag("first difference: reference has [%u,%u) keyword \"%s\"",
					 want[i].start, want[i].end, kws[want[i].kw].word);
				break;
			}
			if (i >= n_want) {
				tap_diag("extra [%u,%u) keyword \"%s\"", got[i].start, got[i].end,
					 kws[got[i].kw].word);
				break;
			}
		}
		return 0;
	}
	return memcmp(got, want, n_got * sizeof(got[0])) == 0;
}

/* The 4-byte gate (kwhash.h: gate4) by hand: keywords that share their
 * first three bytes and differ in the fourth, 3-byte words and stems
 * (one whose text words go on with a UTF-8 byte), 4-byte and 8-byte
 * stems, a phrase; hits against the reference on a text of more than
 * 128 bytes (gate4 on the AVX-512 paths) and in windows (gate), and the
 * gates' fields for single words. */
static void test_gate4(struct policy_findings *f)
{
	static const struct {
		const char *w;
		unsigned fl;
	} fx[] = {
		{ "prei", DETECTOR_KW_WORD_START | DETECTOR_KW_WORD_END },
		{ "preis", DETECTOR_KW_WORD_START },
		{ "prexy", DETECTOR_KW_WORD_START | DETECTOR_KW_WORD_END },
		{ "fax", DETECTOR_KW_WORD_START },
		{ "gew", DETECTOR_KW_WORD_START },
		{ "Sie", DETECTOR_KW_WORD_START | DETECTOR_KW_WORD_END | DETECTOR_KW_CASE },
		{ "tran", DETECTOR_KW_WORD_START },
		{ "transgender", DETECTOR_KW_WORD_START },
		{ "die linke", DETECTOR_KW_WORD_START | DETECTOR_KW_WORD_END },
	};
	static const char text[] =
		"Die Preise, prei, PREIS und prexy; Prex, prexyz, preiswert. Fax, faxe, FAX1, fa, "
		"Faxnummer: Sie, sie, Sieb, SIE. Transport, tran, trans, Transgenderfrage, die Linke, "
		"die linken, die Linie, gew\xc3\xa4hlt, Gew, gewxyz, ge, Prei-Liste und Preis\xc3\xa4nderung.";
	char err[256];
	size_t n = sizeof(fx) / sizeof(fx[0]);
	n_kw = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(kw_text[n_kw], sizeof(kw_text[0]), "%s", fx[i].w);
		kws[n_kw] = (struct detector_keyword){ kw_text[n_kw], (uint8_t)(fx[i].fl | DETECTOR_KW_TRIGGER),
						       SCAN_CONTEXT_NONE };
		n_kw++;
	}
	kws[n_kw] = (struct detector_keyword){ NULL, 0, 0 };
	struct detector d = {
		.id = "kwgate4", .entity = ENTITY_BUILTIN_COUNT, .confidence = 50,
		.keywords = kws, .match = record,
	};
	const struct detector *extra[] = { &d };
	static const unsigned flags[4] = { 0, POLICY_SCANNER_FLAG_NO_SIMD, POLICY_SCANNER_FLAG_NO_AVX512,
					   POLICY_SCANNER_FLAG_NO_VBMI };
	size_t len = strlen(text);
	for (unsigned p = 0; p < 4; p++) {
		struct policy_scanner *sc = policy_scanner_new_flags(extra, 1, flags[p], err, sizeof(err));
		int good = sc && same_hits(sc, f, 0, text, len);
		for (size_t off = 0; good && off < len; off += 7)
			good = same_hits(sc, f, 0, text + off, len - off < 40 ? len - off : 40);
		ok(good, "gate4 keywords, scanner flags %u: hits equal the reference (%zu bytes, 40-byte windows)",
		   flags[p], len);
		policy_scanner_free(sc);
	}

	/* the gates themselves */
	const char *words[16];
	size_t lens[16];
	uint8_t wend[16], wcase[16], isw[256];
	uint32_t ids[16];
	for (size_t i = 0; i < n; i++) {
		words[i] = fx[i].w;
		lens[i] = strlen(fx[i].w);
		wend[i] = (fx[i].fl & DETECTOR_KW_WORD_END) != 0;
		wcase[i] = (fx[i].fl & DETECTOR_KW_CASE) != 0;
		ids[i] = (uint32_t)i;
	}
	for (unsigned c = 0; c < 256; c++)
		isw[c] = (uint8_t)is_word((unsigned char)c);
	struct kwhash *kh = kwhash_new(words, lens, wend, wcase, ids, n, isw, err, sizeof(err));
	if (!ok(kh != NULL, "kwhash with the gate4 keywords")) {
		tap_diag("%s", err);
		return;
	}
	static const struct {
		const char *word;
		unsigned need;   /* gate bits both gates must give */
		int tighter;     /* 1: gate passes it, gate4 turns it away */
	} gw[] = {
		{ "prei", 1u << 3, 0 },
		{ "preiswert", KWHASH_GATE_STEM4S, 0 },
		{ "prexy", 1u << 4, 0 },
		{ "prex", 0, 1 },        /* shares "pre" with "prei", not its fourth byte */
		{ "preuss", 0, 1 },      /* 6 bytes like no key; "prei"'s stem bit by 3 bytes */
		{ "fax", KWHASH_GATE_STEM3, 0 },
		{ "faxe", KWHASH_GATE_STEM3, 0 },
		{ "Faxnummer", KWHASH_GATE_STEM3, 0 },
		{ "gew\xc3\xa4hlt", KWHASH_GATE_STEM3, 0 },
		{ "Sie", 1u << 2, 0 },
		{ "tran", KWHASH_GATE_STEM4S, 0 },
		{ "Transport", KWHASH_GATE_STEM4S, 0 },
		{ "transgenderfrage", KWHASH_GATE_STEM8, 0 },
		{ "die", 1u << 19, 0 },  /* PHRASE bit of a 3-byte first word */
	};
	for (size_t i = 0; i < sizeof(gw) / sizeof(gw[0]); i++) {
		size_t wl = strlen(gw[i].word);
		uint64_t x = kwhash_fold8(kwhash_load((const unsigned char *)gw[i].word, wl));
		unsigned up = (unsigned)(gw[i].word[0] - 'A') < 26;
		unsigned g3 = kwhash_gate(kh, x, wl, up), g4 = kwhash_gate4(kh, x, wl, up);
		if (gw[i].tighter)
			ok(g3 != 0 && g4 == 0, "\"%s\": the 3-byte gate passes it (0x%x), gate4 does not (0x%x)",
			   gw[i].word, g3, g4);
		else
			ok((g3 & gw[i].need) == gw[i].need && (g4 & gw[i].need) == gw[i].need,
			   "\"%s\": both gates give 0x%x (0x%x, 0x%x)", gw[i].word, gw[i].need, g3, g4);
	}
	kwhash_free(kh);
}

int main(void)
{
	static char text[6000];
	struct policy_findings f;
	char err[256];

	policy_findings_init(&f);
	for (unsigned round = 0; round < 6; round++) {
		make_keywords();
		struct detector d = {
			.id = "kwtest", .entity = ENTITY_BUILTIN_COUNT, .data_class = 0,
			.confidence = 50, .shapes = 0, .keywords = kws, .match = record,
		};
		const struct detector *extra[] = { &d };
		struct policy_scanner *sc[4] = {
			policy_scanner_new_flags(extra, 1, 0, err, sizeof(err)),
			policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_SIMD, err, sizeof(err)),
			policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_AVX512, err, sizeof(err)),
			policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_VBMI, err, sizeof(err)),
		};
		static const char *const path[4] = { "default", "scalar", "AVX2", "AVX-512 without VBMI" };
		if (!ok(sc[0] && sc[1] && sc[2] && sc[3], "round %u: scanners with %zu random keywords",
			round, n_kw)) {
			tap_diag("%s", err);
			break;
		}
		size_t len = make_text(text, sizeof(text));
		for (unsigned p = 0; p < 4; p++) {
			ok(same_hits(sc[p], &f, 0, text, len),
			   "round %u, %s filter: keyword hits equal the reference on %zu bytes",
			   round, path[p], len);
			int windows = 1;
			for (size_t off = 0; off < 1500 && windows; off += 1 + rng(40))
				windows = same_hits(sc[p], &f, 0, text + off, 1 + rng(130));
			ok(windows, "round %u, %s filter: the same in short windows", round, path[p]);
		}
		policy_scanner_free(sc[0]);
		policy_scanner_free(sc[1]);
		policy_scanner_free(sc[2]);
		policy_scanner_free(sc[3]);
	}
	test_gate4(&f);
	/* 65,536 keywords with the same first word do not fit one slot's
	 * count: refused with a message, not truncated */
	{
		size_t nbig = 65536;
		struct detector_keyword *big = calloc(nbig + 1, sizeof(*big));
		struct detector d = {
			.id = "kwbig", .entity = ENTITY_BUILTIN_COUNT, .confidence = 50,
			.keywords = big, .match = record,
		};
		const struct detector *extra[] = { &d };
		for (size_t i = 0; big && i < nbig; i++)
			big[i] = (struct detector_keyword){ "zzqx", DETECTOR_KW_WORD | DETECTOR_KW_TRIGGER,
							    SCAN_CONTEXT_NONE };
		err[0] = 0;
		struct policy_scanner *sb = big ? policy_scanner_new_flags(extra, 1, 0, err, sizeof(err)) : NULL;
		ok(big && !sb && strstr(err, "same first word") != NULL,
		   "65536 keywords under one key: refused (%s)", err);
		policy_scanner_free(sb);
		free(big);
	}
	policy_findings_free(&f);
	tap_done();
	return tap_failed != 0;
}
