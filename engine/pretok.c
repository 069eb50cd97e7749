/* Pre-tokenizer splitters, one per tokenizer.ggml.pre family.
 *
 * Each family is a list of regexes applied in sequence, as llama.cpp does
 * (src/llama-vocab.cpp, unicode.cpp): regex k runs over every piece left by
 * regex k-1, and both the matches and the unmatched gaps between them become
 * pieces. Each regex here is a hand-written matcher that returns the length
 * of the leftmost-first (ECMAScript alternation order, greedy with
 * backtracking) match at a position, or 0. The patterns, from llama.cpp:
 *
 * qwen2:  (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
 *         |[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
 *         |\s*[\r\n]+|\s+(?!\S)|\s+
 * llama3: the same with \p{N}{1,3}
 * deepseek-llm: [\r\n] ; \s?[cased letters]+ ; \s?[ASCII and CJK punct]+ ;
 *         \s+$ ; [CJK and Hangul]+ ; \p{N}+
 * deepseek-v3: \p{N}{1,3} ; [CJK, Hiragana, Katakana]+ ;
 *         [ASCII punct][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
 *         | ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * gpt2 (OLMo, OLMoE, MPT; Radford et al. 2019, openai/gpt-2 encoder.py):
 *         's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
 *         |\s+(?!\S)|\s+
 *
 * Positions are byte offsets; malformed UTF-8 bytes are single "other"
 * characters, so the pieces always tile the input exactly. */
#include <string.h>

#include "engine/pretok.h"
#include "engine/unicode.h"

typedef size_t (*pretok_match_fn)(const char *s, size_t n, size_t pos);

static uint32_t pretok_cp(const char *s, size_t n, size_t pos, size_t *len)
{
	uint32_t cp;

	*len = unicode_utf8_decode(s + pos, n - pos, &cp);
	return cp;
}

static int pretok_is_letter(uint32_t cp) { return unicode_cat_of(cp) == UNICODE_CAT_LETTER; }
static int pretok_is_number(uint32_t cp) { return unicode_cat_of(cp) == UNICODE_CAT_NUMBER; }
static int pretok_is_nl(uint32_t cp) { return cp == '\r' || cp == '\n'; }

/* The whitespace tail shared by the GPT-2 style patterns:
 * \s*[\r\n]+ | \s+(?!\S) | \s+  -- s[pos] is known to be whitespace. */
static size_t pretok_match_space(const char *s, size_t n, size_t pos)
{
	size_t p = pos, len, last_start = pos, after_nl = 0;

	while (p < n) {
		uint32_t cp = pretok_cp(s, n, p, &len);
		if (!unicode_is_space(cp))
			break;
		if (pretok_is_nl(cp))
			after_nl = p + len;
		last_start = p;
		p += len;
	}
	/* \s*[\r\n]+ : backtracking \s* ends the match after the last
	 * newline of the run. */
	if (after_nl)
		return after_nl - pos;
	/* \s+(?!\S) : the whole run at the end of the piece, otherwise all
	 * but the last space, which then leads the next word. */
	if (p == n || last_start == pos)
		return p - pos;
	return last_start - pos;
}

/* 'Contractions of the GPT-2 / llama3 patterns, ASCII case-insensitive. */
static size_t pretok_match_contraction(const char *s, size_t n, size_t pos)
{
	char c1, c2;

	if (s[pos] != '\'' || pos + 1 >= n)
		return 0;
	c1 = (char)(s[pos + 1] | 0x20);
	if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
		return 2;
	if (pos + 2 >= n)
		return 0;
	c2 = (char)(s[pos + 2] | 0x20);
	if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
		return 3;
	return 0;
}

static size_t pretok_match_gpt2_style(const char *s, size_t n, size_t pos, size_t max_digits)
{
	size_t len, l2, p, k;
	uint32_t cp = pretok_cp(s, n, pos, &len), c2;

	if ((k = pretok_match_contraction(s, n, pos)) != 0)
		return k;
	/* [^\r\n\p{L}\p{N}]?\p{L}+ */
	p = pos;
	if (!pretok_is_letter(cp) && !pretok_is_nl(cp) && !pretok_is_number(cp))
		p = pos + len;
	if (p < n) {
		c2 = pretok_cp(s, n, p, &l2);
		if (pretok_is_letter(c2)) {
			while (p < n && pretok_is_letter(pretok_cp(s, n, p, &l2)))
				p += l2;
			return p - pos;
		}
	}
	/* \p{N}{1,max} */
	if (pretok_is_number(cp)) {
		p = pos;
		for (k = 0; k < max_digits && p < n && pretok_is_number(pretok_cp(s, n, p, &l2)); k++)
			p += l2;
		return p - pos;
	}
	/* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
	p = cp == ' ' ? pos + 1 : pos;
	k = p;
	while (p < n) {
		c2 = pretok_cp(s, n, p, &l2);
		if (unicode_is_space(c2) || pretok_is_letter(c2) || pretok_is_number(c2))
			break;
		p += l2;
	}
	if (p > k) {
		while (p < n && (s[p] == '\r' || s[p] == '\n'))
			p++;
		return p - pos;
	}
	if (unicode_is_space(cp))
		return pretok_match_space(s, n, pos);
	return 0;
}

static size_t pretok_match_qwen2(const char *s, size_t n, size_t pos)
{
	return pretok_match_gpt2_style(s, n, pos, 1);
}

static size_t pretok_match_llama3(const char *s, size_t n, size_t pos)
{
	return pretok_match_gpt2_style(s, n, pos, 3);
}

/* GPT-2: contractions are lower case only; one optional space (U+0020)
 * leads a run of letters, of numbers, or of anything else. */
static size_t pretok_match_gpt2(const char *s, size_t n, size_t pos)
{
	size_t len, l2, p;
	uint32_t cp = pretok_cp(s, n, pos, &len), c2;

	if (s[pos] == '\'' && pos + 1 < n) {
		char c1 = s[pos + 1];
		if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
			return 2;
		if (pos + 2 < n && ((c1 == 'r' && s[pos + 2] == 'e') || (c1 == 'v' && s[pos + 2] == 'e') ||
		    (c1 == 'l' && s[pos + 2] == 'l')))
			return 3;
	}
	p = cp == ' ' ? pos + 1 : pos;
	if (p < n) {
		c2 = pretok_cp(s, n, p, &l2);
		if (pretok_is_letter(c2)) {
			while (p < n && pretok_is_letter(pretok_cp(s, n, p, &l2)))
				p += l2;
			return p - pos;
		}
		if (pretok_is_number(c2)) {
			while (p < n && pretok_is_number(pretok_cp(s, n, p, &l2)))
				p += l2;
			return p - pos;
		}
		if (!unicode_is_space(c2)) {
			while (p < n) {
				c2 = pretok_cp(s, n, p, &l2);
				if (unicode_is_space(c2) || pretok_is_letter(c2) || pretok_is_number(c2))
					break;
				p += l2;
			}
			return p - pos;
		}
	}
	if (!unicode_is_space(cp))
		return 0;
	/* \s+(?!\S) | \s+ : all of the run at the end or before one
	 * character; otherwise all but its last space */
	{
		size_t last_start = pos;
		p = pos;
		while (p < n && unicode_is_space(pretok_cp(s, n, p, &l2))) {
			last_start = p;
			p += l2;
		}
		if (p == n || last_start == pos)
			return p - pos;
		return last_start - pos;
	}
}

/* --- deepseek-llm ------------------------------------------------------ */

/* The cased letters (Lu, Ll, Lt) of deepseek-llm's second regex. */
static const uint32_t pretok_dsl_letters[][2] = {
	{ 0x41, 0x5A }, { 0x61, 0x7A }, { 0xB5, 0xB5 }, { 0xC0, 0xD6 },
	{ 0xD8, 0xF6 }, { 0xF8, 0x1BA }, { 0x1BC, 0x1BF }, { 0x1C4, 0x293 },
	{ 0x295, 0x2AF }, { 0x370, 0x373 }, { 0x376, 0x377 }, { 0x37B, 0x37D },
	{ 0x37F, 0x37F }, { 0x386, 0x386 }, { 0x388, 0x38A }, { 0x38C, 0x38C },
	{ 0x38E, 0x3A1 }, { 0x3A3, 0x3F5 }, { 0x3F7, 0x481 }, { 0x48A, 0x52F },
	{ 0x531, 0x556 }, { 0x10A0, 0x10C5 }, { 0x13A0, 0x13F5 }, { 0x13F8, 0x13FD },
	{ 0x1C90, 0x1CBA }, { 0x1CBD, 0x1CBF }, { 0x1D00, 0x1D2B }, { 0x1D6B, 0x1D77 },
	{ 0x1D79, 0x1D9A }, { 0x1E00, 0x1F15 }, { 0x1F18, 0x1F1D }, { 0x1F20, 0x1F45 },
	{ 0x1F48, 0x1F4D }, { 0x1F50, 0x1F57 }, { 0x1F59, 0x1F59 }, { 0x1F5B, 0x1F5B },
	{ 0x1F5D, 0x1F5D }, { 0x1F5F, 0x1F7D }, { 0x1F80, 0x1FB4 }, { 0x1FB6, 0x1FBC },
	{ 0x1FBE, 0x1FBE }, { 0x1FC2, 0x1FC4 }, { 0x1FC6, 0x1FCC }, { 0x1FD0, 0x1FD3 },
	{ 0x1FD6, 0x1FDB }, { 0x1FE0, 0x1FEC }, { 0x1FF2, 0x1FF4 }, { 0x1FF6, 0x1FFC },
	{ 0x2102, 0x2102 }, { 0x2107, 0x2107 }, { 0x210A, 0x2113 }, { 0x2115, 0x2115 },
	{ 0x2119, 0x211D }, { 0x2124, 0x2124 }, { 0x2126, 0x2126 }, { 0x2128, 0x2128 },
	{ 0x212A, 0x212D }, { 0x212F, 0x2134 }, { 0x2139, 0x2139 }, { 0x213C, 0x213F },
	{ 0x2145, 0x2149 }, { 0x214E, 0x214E }, { 0x2183, 0x2184 }, { 0x2C00, 0x2C7B },
	{ 0x2C7E, 0x2CE4 }, { 0x2CEB, 0x2CEE }, { 0x2CF2, 0x2CF3 }, { 0xA640, 0xA66D },
	{ 0xA680, 0xA69B }, { 0xA722, 0xA76F }, { 0xA771, 0xA787 }, { 0xA78B, 0xA78E },
	{ 0xAB70, 0xABBF }, { 0xFB00, 0xFB06 }, { 0xFB13, 0xFB17 }, { 0xFF21, 0xFF3A },
	{ 0xFF41, 0xFF5A }, { 0x10400, 0x1044F }, { 0x104B0, 0x104D3 }, { 0x104D8, 0x104FB },
	{ 0x10C80, 0x10CB2 }, { 0x10CC0, 0x10CF2 }, { 0x118A0, 0x118DF }, { 0x1E900, 0x1E943 },
};

/* [!-/:-~！-／：-～‘-‟　-。] */
static const uint32_t pretok_dsl_punct[][2] = {
	{ 0x21, 0x2F }, { 0x3A, 0x7E }, { 0xFF01, 0xFF0F }, { 0xFF1A, 0xFF5E },
	{ 0x2018, 0x201F }, { 0x3000, 0x3002 },
};

/* [一-龥ࠀ-一가-퟿] */
static const uint32_t pretok_dsl_cjk[][2] = {
	{ 0x4E00, 0x9FA5 }, { 0x0800, 0x4E00 }, { 0xAC00, 0xD7FF },
};

/* [一-龥぀-ゟ゠-ヿ] */
static const uint32_t pretok_ds3_cjk[][2] = {
	{ 0x4E00, 0x9FA5 }, { 0x3040, 0x309F }, { 0x30A0, 0x30FF },
};

static int pretok_in(const uint32_t (*set)[2], size_t n_set, uint32_t cp)
{
	for (size_t i = 0; i < n_set; i++)
		if (cp >= set[i][0] && cp <= set[i][1])
			return 1;
	return 0;
}


static size_t pretok_match_nl_char(const char *s, size_t n, size_t pos)
{
	(void)n;
	return s[pos] == '\r' || s[pos] == '\n';
}

/* \s?[set]+ shared by deepseek-llm's letter and punctuation regexes. */
static size_t pretok_match_space_opt_run(const char *s, size_t n, size_t pos,
    const uint32_t (*set)[2], size_t n_set)
{
	size_t len, p = pos;
	uint32_t cp = pretok_cp(s, n, pos, &len);

	if (!pretok_in(set, n_set, cp)) {
		if (!unicode_is_space(cp) || pos + len >= n)
			return 0;
		p = pos + len;
		if (!pretok_in(set, n_set, pretok_cp(s, n, p, &len)))
			return 0;
	}
	while (p < n && pretok_in(set, n_set, pretok_cp(s, n, p, &len)))
		p += len;
	return p - pos;
}

static size_t pretok_match_dsl_letters(const char *s, size_t n, size_t pos)
{
	return pretok_match_space_opt_run(s, n, pos, pretok_dsl_letters,
	    sizeof pretok_dsl_letters / sizeof pretok_dsl_letters[0]);
}

static size_t pretok_match_dsl_punct(const char *s, size_t n, size_t pos)
{
	return pretok_match_space_opt_run(s, n, pos, pretok_dsl_punct,
	    sizeof pretok_dsl_punct / sizeof pretok_dsl_punct[0]);
}

static size_t pretok_match_run(const char *s, size_t n, size_t pos,
    const uint32_t (*set)[2], size_t n_set, size_t max)
{
	size_t len, p = pos, k = 0;

	while (p < n && k < max && pretok_in(set, n_set, pretok_cp(s, n, p, &len))) {
		p += len;
		k++;
	}
	return p - pos;
}

static size_t pretok_match_dsl_cjk(const char *s, size_t n, size_t pos)
{
	return pretok_match_run(s, n, pos, pretok_dsl_cjk,
	    sizeof pretok_dsl_cjk / sizeof pretok_dsl_cjk[0], (size_t)-1);
}

static size_t pretok_match_numbers(const char *s, size_t n, size_t pos, size_t max)
{
	size_t len, p = pos, k = 0;

	while (p < n && k < max && pretok_is_number(pretok_cp(s, n, p, &len))) {
		p += len;
		k++;
	}
	return p - pos;
}

static size_t pretok_match_dsl_numbers(const char *s, size_t n, size_t pos)
{
	return pretok_match_numbers(s, n, pos, (size_t)-1);
}

/* --- deepseek-v3 ------------------------------------------------------- */

static size_t pretok_match_ds3_numbers(const char *s, size_t n, size_t pos)
{
	return pretok_match_numbers(s, n, pos, 3);
}

static size_t pretok_match_ds3_cjk(const char *s, size_t n, size_t pos)
{
	return pretok_match_run(s, n, pos, pretok_ds3_cjk,
	    sizeof pretok_ds3_cjk / sizeof pretok_ds3_cjk[0], (size_t)-1);
}

static int pretok_is_ascii_punct(uint32_t cp)
{
	return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
	    (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
}

static int pretok_is_ascii_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int pretok_is_p_or_s(uint32_t cp)
{
	enum unicode_cat c = unicode_cat_of(cp);
	return c == UNICODE_CAT_PUNCT || c == UNICODE_CAT_SYMBOL;
}

static int pretok_is_l_or_m(uint32_t cp)
{
	enum unicode_cat c = unicode_cat_of(cp);
	return c == UNICODE_CAT_LETTER || c == UNICODE_CAT_MARK;
}

static size_t pretok_match_ds3_main(const char *s, size_t n, size_t pos)
{
	size_t len, l2, p, k;
	uint32_t cp = pretok_cp(s, n, pos, &len);

	/* [ASCII punct][A-Za-z]+ */
	if (pretok_is_ascii_punct(cp) && pos + 1 < n && pretok_is_ascii_letter(s[pos + 1])) {
		p = pos + 1;
		while (p < n && pretok_is_ascii_letter(s[p]))
			p++;
		return p - pos;
	}
	/* [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ : when s[pos] is a mark,
	 * taking it as the optional char or as the first of the run ends
	 * the match at the same place. */
	p = pos;
	if (!pretok_is_l_or_m(cp) && !pretok_is_nl(cp) && !pretok_is_p_or_s(cp))
		p = pos + len;
	if (p < n && pretok_is_l_or_m(pretok_cp(s, n, p, &l2))) {
		while (p < n && pretok_is_l_or_m(pretok_cp(s, n, p, &l2)))
			p += l2;
		return p - pos;
	}
	/* ' ?[\p{P}\p{S}]+[\r\n]*' */
	p = cp == ' ' ? pos + 1 : pos;
	k = p;
	while (p < n && pretok_is_p_or_s(pretok_cp(s, n, p, &l2)))
		p += l2;
	if (p > k) {
		while (p < n && (s[p] == '\r' || s[p] == '\n'))
			p++;
		return p - pos;
	}
	if (unicode_is_space(cp))
		return pretok_match_space(s, n, pos);
	return 0;
}

/* --- driver ------------------------------------------------------------ */

/* A stage either matches at a position (regex search) or, for \s+$,
 * which only ever matches the trailing run, splits directly. */
struct pretok_stage {
	pretok_match_fn match;	/* NULL: the "\s+$" stage */
};

struct pretok_family {
	const char *name;
	const struct pretok_stage *stages;
	size_t n_stages;
};

static const struct pretok_stage pretok_qwen2_stages[] = { { pretok_match_qwen2 } };
static const struct pretok_stage pretok_llama3_stages[] = { { pretok_match_llama3 } };
static const struct pretok_stage pretok_dsl_stages[] = {
	{ pretok_match_nl_char }, { pretok_match_dsl_letters }, { pretok_match_dsl_punct },
	{ NULL }, { pretok_match_dsl_cjk }, { pretok_match_dsl_numbers },
};
static const struct pretok_stage pretok_gpt2_stages[] = { { pretok_match_gpt2 } };
static const struct pretok_stage pretok_ds3_stages[] = {
	{ pretok_match_ds3_numbers }, { pretok_match_ds3_cjk }, { pretok_match_ds3_main },
};

#define PRETOK_FAMILY(name, st) { name, st, sizeof st / sizeof st[0] }

/* Indexed by enum pretok_kind. */
static const struct pretok_family pretok_families[] = {
	[PRETOK_KIND_QWEN2] = PRETOK_FAMILY("qwen2", pretok_qwen2_stages),
	[PRETOK_KIND_LLAMA3] = PRETOK_FAMILY("llama3", pretok_llama3_stages),
	[PRETOK_KIND_DEEPSEEK_LLM] = PRETOK_FAMILY("deepseek-llm", pretok_dsl_stages),
	[PRETOK_KIND_DEEPSEEK3] = PRETOK_FAMILY("deepseek-v3", pretok_ds3_stages),
	[PRETOK_KIND_GPT2] = PRETOK_FAMILY("gpt2", pretok_gpt2_stages),
};

/* tokenizer.ggml.pre values (as written by llama.cpp's converter) that
 * share one of our splitters. */
static const struct {
	const char *name;
	enum pretok_kind kind;
} pretok_names[] = {
	{ "qwen2", PRETOK_KIND_QWEN2 },
	{ "llama3", PRETOK_KIND_LLAMA3 },
	{ "llama-v3", PRETOK_KIND_LLAMA3 },
	{ "llama-bpe", PRETOK_KIND_LLAMA3 },
	{ "dbrx", PRETOK_KIND_LLAMA3 },
	{ "smaug-bpe", PRETOK_KIND_LLAMA3 },
	{ "deepseek-llm", PRETOK_KIND_DEEPSEEK_LLM },
	{ "deepseek-v3", PRETOK_KIND_DEEPSEEK3 },
	{ "gpt-2", PRETOK_KIND_GPT2 },
	{ "olmo", PRETOK_KIND_GPT2 },
	{ "mpt", PRETOK_KIND_GPT2 },
};

int pretok_kind_from_name(const char *name, enum pretok_kind *kind)
{
	for (size_t i = 0; i < sizeof pretok_names / sizeof pretok_names[0]; i++) {
		if (strcmp(name, pretok_names[i].name) == 0) {
			*kind = pretok_names[i].kind;
			return 0;
		}
	}
	return -1;
}

const char *pretok_kind_name(enum pretok_kind kind)
{
	if ((size_t)kind >= sizeof pretok_families / sizeof pretok_families[0])
		return "?";
	return pretok_families[kind].name;
}

struct pretok_run {
	const struct pretok_family *fam;
	pretok_piece_fn fn;
	void *ctx;
};

static int pretok_stage_run(const struct pretok_run *r, size_t k, const char *s, size_t n);

static int pretok_emit(const struct pretok_run *r, size_t k, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (k + 1 < r->fam->n_stages)
		return pretok_stage_run(r, k + 1, s, n);
	return r->fn(r->ctx, s, n);
}

static int pretok_stage_run(const struct pretok_run *r, size_t k, const char *s, size_t n)
{
	const struct pretok_stage *st = &r->fam->stages[k];
	size_t pos = 0, gap = 0, len, m;
	uint32_t cp;
	int rc;

	if (st->match == NULL) {
		/* \s+$ : split off the trailing whitespace run. */
		size_t tail = n;
		for (pos = 0; pos < n; pos += len) {
			len = unicode_utf8_decode(s + pos, n - pos, &cp);
			if (!unicode_is_space(cp))
				tail = n;
			else if (tail == n)
				tail = pos;
		}
		if ((rc = pretok_emit(r, k, s, tail)) != 0)
			return rc;
		return pretok_emit(r, k, s + tail, n - tail);
	}
	while (pos < n) {
		m = st->match(s, n, pos);
		if (m == 0) {
			pos += unicode_utf8_decode(s + pos, n - pos, &cp);
			continue;
		}
		if ((rc = pretok_emit(r, k, s + gap, pos - gap)) != 0)
			return rc;
		if ((rc = pretok_emit(r, k, s + pos, m)) != 0)
			return rc;
		pos += m;
		gap = pos;
	}
	return pretok_emit(r, k, s + gap, n - gap);
}

int pretok_split(enum pretok_kind kind, const char *text, size_t n,
    pretok_piece_fn fn, void *ctx)
{
	struct pretok_run r;

	if ((size_t)kind >= sizeof pretok_families / sizeof pretok_families[0])
		return -1;
	r.fam = &pretok_families[kind];
	r.fn = fn;
	r.ctx = ctx;
	return pretok_stage_run(&r, 0, text, n);
}
