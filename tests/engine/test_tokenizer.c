/* Tokenizer tests: pre-tokenizer splits worked out by hand from the regexes,
 * Unicode categories, and the real vocabularies in ../shared/data/vocab
 * (skipped when absent): published token ids, single-token words, merges by
 * rank, special tokens, round trips and streaming decode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gguf.h"
#include "engine/pretok.h"
#include "engine/tokenizer.h"
#include "engine/unicode.h"
#include "tests/tap.h"

/* --- pre-tokenizer ------------------------------------------------------ */

struct pieces {
	char buf[1024];
	size_t n;
};

static int collect(void *ctx, const char *piece, size_t len)
{
	struct pieces *p = ctx;

	if (p->n + len + 1 >= sizeof p->buf)
		return 1;
	memcpy(p->buf + p->n, piece, len);
	p->n += len;
	p->buf[p->n++] = '|';
	p->buf[p->n] = '\0';
	return 0;
}

/* Pieces joined with '|', each followed by one. */
static void check_split(enum pretok_kind kind, const char *text, const char *want)
{
	struct pieces p;

	p.n = 0;
	p.buf[0] = '\0';
	pretok_split(kind, text, strlen(text), collect, &p);
	if (!ok(strcmp(p.buf, want) == 0, "%s split of \"%s\"", pretok_kind_name(kind), text))
		tap_diag("got  %s\n# want %s", p.buf, want);
}

static void test_pretok(void)
{
	enum pretok_kind k;

	ok(pretok_kind_from_name("qwen2", &k) == 0 && k == PRETOK_KIND_QWEN2, "name qwen2");
	ok(pretok_kind_from_name("deepseek-v3", &k) == 0 && k == PRETOK_KIND_DEEPSEEK3, "name deepseek-v3");
	ok(pretok_kind_from_name("gpt-4o", &k) == -1, "unknown pre-tokenizer refused");

	/* \p{L}+ with one leading non-letter; contractions; one digit each */
	check_split(PRETOK_KIND_QWEN2, "Hello world", "Hello| world|");
	check_split(PRETOK_KIND_QWEN2, "I'm 123", "I|'m| |1|2|3|");
	check_split(PRETOK_KIND_QWEN2, "Grüße, Welt!", "Grüße|,| Welt|!|");
	/* \s+(?!\S) leaves the last space to the word */
	check_split(PRETOK_KIND_QWEN2, "  hi", " | hi|");
	/* \s*[\r\n]+ ends after the last newline of the run */
	check_split(PRETOK_KIND_QWEN2, "x  \n y", "x|  \n| y|");
	check_split(PRETOK_KIND_QWEN2, "a\n\nb", "a|\n\n|b|");
	check_split(PRETOK_KIND_QWEN2, "hello   ", "hello|   |");
	check_split(PRETOK_KIND_QWEN2, "!!!abc", "!!!|abc|");
	check_split(PRETOK_KIND_QWEN2, "(x) = 1;\n", "(x|)| =| |1|;\n|");
	check_split(PRETOK_KIND_QWEN2, "\tfoo", "\tfoo|");
	/* U+3000 IDEOGRAPHIC SPACE is \s */
	check_split(PRETOK_KIND_QWEN2, "a\xe3\x80\x80\xe3\x80\x80" "b", "a|\xe3\x80\x80|\xe3\x80\x80" "b|");
	/* llama3: up to three digits */
	check_split(PRETOK_KIND_LLAMA3, "12345 'LL", "123|45| '|LL|");
	/* deepseek-v3: digits in threes first, CJK+kana runs, punct+ASCII word */
	check_split(PRETOK_KIND_DEEPSEEK3, "1234567", "123|456|7|");
	check_split(PRETOK_KIND_DEEPSEEK3, "hello.World", "hello|.World|");
	check_split(PRETOK_KIND_DEEPSEEK3, "\xe6\x97\xa5\xe6\x9c\xac\xe3\x83\x86\xe3\x82\xad ok",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe3\x83\x86\xe3\x82\xad| ok|");
	check_split(PRETOK_KIND_DEEPSEEK3, "a, b!!\n", "a|,| b|!!\n|");
	/* deepseek-llm: newlines alone, cased letters with one space,
	 * punctuation, trailing spaces, CJK, numbers */
	check_split(PRETOK_KIND_DEEPSEEK_LLM, "Hello, world!\n", "Hello|,| world|!|\n|");
	check_split(PRETOK_KIND_DEEPSEEK_LLM, "a 123", "a| |123|");
	check_split(PRETOK_KIND_DEEPSEEK_LLM, "ab  ", "ab|  |");
	/* GPT-2 (OLMoE): lower-case contractions only, one space leads
	 * letters, numbers or symbols; numbers are not split */
	ok(pretok_kind_from_name("olmo", &k) == 0 && k == PRETOK_KIND_GPT2, "name olmo is GPT-2's pattern");
	check_split(PRETOK_KIND_GPT2, "I'm fine, it's 2024!", "I|'m| fine|,| it|'s| 2024|!|");
	check_split(PRETOK_KIND_GPT2, "DON'T  stop\n\n", "DON|'|T| | stop|\n\n|");
	check_split(PRETOK_KIND_GPT2, "a \tb", "a| |\t|b|");
	check_split(PRETOK_KIND_GPT2, "x  ", "x|  |");
	/* invalid UTF-8 passes through as its own bytes */
	check_split(PRETOK_KIND_QWEN2, "a\xff\xfe" "b", "a|\xff\xfe|b|");
}

static void test_unicode(void)
{
	char b[4];
	uint32_t cp;

	ok(unicode_cat_of('A') == UNICODE_CAT_LETTER, "A is a letter");
	ok(unicode_cat_of(0xFC) == UNICODE_CAT_LETTER, "u-umlaut is a letter");
	ok(unicode_cat_of(0x4E2D) == UNICODE_CAT_LETTER, "CJK ideograph (range entry) is a letter");
	ok(unicode_cat_of(0xAC01) == UNICODE_CAT_LETTER, "Hangul syllable is a letter");
	ok(unicode_cat_of('7') == UNICODE_CAT_NUMBER && unicode_cat_of(0x0664) == UNICODE_CAT_NUMBER,
	    "ASCII and Arabic-Indic digits are numbers");
	ok(unicode_cat_of(0x00BD) == UNICODE_CAT_NUMBER, "one half is a number (No)");
	ok(unicode_cat_of(0x0301) == UNICODE_CAT_MARK, "combining acute is a mark");
	ok(unicode_cat_of(0x1F600) == UNICODE_CAT_SYMBOL, "emoji is a symbol");
	ok(unicode_cat_of(0x2014) == UNICODE_CAT_PUNCT, "em dash is punctuation");
	ok(unicode_cat_of(0x0378) == UNICODE_CAT_OTHER, "unassigned is other");
	ok(unicode_is_space(0x3000) && unicode_is_space('\n') && !unicode_is_space(0x200B),
	    "White_Space property");
	ok(unicode_utf8_decode("\xc0\xaf", 2, &cp) == 1 && cp == UNICODE_INVALID, "overlong rejected");
	ok(unicode_utf8_decode("\xed\xa0\x80", 3, &cp) == 1 && cp == UNICODE_INVALID, "surrogate rejected");
	ok(unicode_utf8_decode("\xf0\x9f\x98", 3, &cp) == 1 && cp == UNICODE_INVALID, "truncated rejected");
	ok(unicode_utf8_encode(0x1F600, b) == 4 && unicode_utf8_decode(b, 4, &cp) == 4 && cp == 0x1F600,
	    "encode/decode round trip");
	ok(unicode_utf8_complete_len("ab\xf0\x9f", 4) == 2, "incomplete tail held back");
	ok(unicode_utf8_complete_len("ab\xc3\xbc", 4) == 4, "complete tail passes");
}

static int ids_equal(const struct tokenizer_ids *got, const char *want);
static void show_ids(const struct tokenizer_ids *ids);

/* --- hand-worked merges on tiny vocabularies ---------------------------- */

struct mem {
	uint8_t *p;
	size_t n, cap;
};

static int mem_write(void *ctx, const void *buf, size_t n)
{
	struct mem *m = ctx;

	if (m->n + n > m->cap) {
		size_t nc = (m->n + n) * 2;
		uint8_t *np = realloc(m->p, nc);
		if (!np)
			return -1;
		m->p = np;
		m->cap = nc;
	}
	memcpy(m->p + m->n, buf, n);
	m->n += n;
	return 0;
}

static int mem_fill(void *ctx, size_t idx, void *buf, size_t size)
{
	(void)ctx;
	(void)idx;
	memset(buf, 0, size);
	return 0;
}

/* A vocab-only GGUF in memory: BPE with merges, or SPM with scores. */
static struct tokenizer *tiny_vocab(const char *model, const char *const *tok, size_t n,
    const int32_t *type, const float *score, const char *const *merges, size_t nm)
{
	struct gguf_writer *w = gguf_writer_new();
	struct mem m = { 0 };
	size_t len[300];
	char err[256];
	struct tokenizer *t = NULL;

	for (size_t i = 0; i < n; i++)
		len[i] = strlen(tok[i]);
	int r = gguf_writer_add_str(w, "tokenizer.ggml.model", model, strlen(model));
	if (strcmp(model, "gpt2") == 0)
		r |= gguf_writer_add_str(w, "tokenizer.ggml.pre", "qwen2", 5);
	r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tok, len, n);
	r |= gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	if (score)
		r |= gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", score, n);
	if (merges)
		r |= gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, NULL, nm);
	if (r == 0 && gguf_writer_write(w, mem_write, mem_fill, &m, err, sizeof err) == 0) {
		struct gguf_file *g = gguf_open_memory(m.p, m.n, err, sizeof err);
		if (g) {
			t = tokenizer_load(g, err, sizeof err);
			gguf_close(g);
		}
	}
	if (!t)
		tap_diag("tiny vocab: %s", err);
	gguf_writer_free(w);
	free(m.p);
	return t;
}

static int encodes_to(struct tokenizer *t, const char *text, const char *want)
{
	struct tokenizer_ids ids = { 0 };
	char err[128];
	int r = tokenizer_encode(t, text, strlen(text), 0, &ids, err, sizeof err) == 0 && ids_equal(&ids, want);

	if (!r)
		show_ids(&ids);
	tokenizer_ids_free(&ids);
	return r;
}

static void test_tiny_merges(void)
{
	/* BPE: ids 0..3 = a b c d, then merge results */
	static const char *const tok[] = { "a", "b", "c", "d", "ab", "bc", "abc", "cd" };
	static const int32_t type[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	/* "abc": with "b c" ranked first, b+c merge, then a+bc (if ranked) */
	static const char *const m1[] = { "b c", "a b", "a bc" };
	static const char *const m2[] = { "a b", "b c" };
	static const char *const m3[] = { "b c", "a b" };
	/* "abcd": "c d" ranked before "b c" takes the c away from b */
	static const char *const m4[] = { "c d", "b c", "a b" };
	struct tokenizer *t;

	t = tiny_vocab("gpt2", tok, 8, type, NULL, m1, 3);
	ok(t && encodes_to(t, "abc", "6"), "BPE: b+c (rank 0) then a+bc (rank 2) gives abc");
	tokenizer_free(t);
	t = tiny_vocab("gpt2", tok, 8, type, NULL, m2, 2);
	ok(t && encodes_to(t, "abc", "4 2"), "BPE: a+b ranked first gives ab c");
	tokenizer_free(t);
	t = tiny_vocab("gpt2", tok, 8, type, NULL, m3, 2);
	ok(t && encodes_to(t, "abc", "0 5"), "BPE: b+c ranked first gives a bc");
	tokenizer_free(t);
	t = tiny_vocab("gpt2", tok, 8, type, NULL, m4, 3);
	ok(t && encodes_to(t, "abcd", "4 7"), "BPE: c+d first, then a+b: ab cd");
	tokenizer_free(t);
	{
		/* "aaa": the pairs (0,1) and (1,2) share a rank; the left
		 * one merges first, leaving aa a (not a aa) */
		static const char *const tok2[] = { "a", "aa" };
		static const char *const m5[] = { "a a" };
		t = tiny_vocab("gpt2", tok2, 2, type, NULL, m5, 1);
		ok(t && encodes_to(t, "aaa", "1 0"), "BPE: equal ranks merge leftmost first");
		ok(t && encodes_to(t, "aaaaa", "1 1 0"), "BPE: aaaaa is aa aa a");
		tokenizer_free(t);
	}

	/* SPM: scores decide; unknown characters fall back to bytes */
	static const char *spm_tok[3 + 256 + 6];
	static char bytes[256][8];
	int32_t spm_type[3 + 256 + 6];
	float spm_score[3 + 256 + 6];
	size_t n = 0;
	spm_tok[n] = "<unk>"; spm_type[n] = 2; spm_score[n++] = 0;
	spm_tok[n] = "<s>"; spm_type[n] = 3; spm_score[n++] = 0;
	spm_tok[n] = "</s>"; spm_type[n] = 3; spm_score[n++] = 0;
	for (int b = 0; b < 256; b++) {
		snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
		spm_tok[n] = bytes[b]; spm_type[n] = 6; spm_score[n++] = 0;
	}
	const size_t base = n;	/* 259: the pieces below */
	static const char *const pieces[] = { "\xe2\x96\x81", "a", "b", "c", "ab", "bc" };
	for (size_t i = 0; i < 6; i++) {
		spm_tok[n] = pieces[i]; spm_type[n] = 1; spm_score[n++] = -10;
	}
	char want[64];
	spm_score[base + 4] = -1.0f;	/* ab */
	spm_score[base + 5] = -0.5f;	/* bc: higher score, merges first */
	t = tiny_vocab("llama", spm_tok, n, spm_type, spm_score, NULL, 0);
	snprintf(want, sizeof want, "%zu %zu %zu", base, base + 1, base + 5);
	ok(t && encodes_to(t, "abc", want), "SPM: the higher-scoring pair bc wins: \u2581 a bc");
	/* 'e' with acute (C3 A9) is no piece: its two bytes */
	snprintf(want, sizeof want, "%zu %d %d", base + 1, 3 + 0xC3, 3 + 0xA9);
	{
		struct tokenizer_ids ids = { 0 };
		char err[64];
		tokenizer_encode(t, "a\xc3\xa9", 3, 0, &ids, err, sizeof err);
		/* leading \u2581 then a, then the byte fallback */
		ok(ids.n == 4 && ids.v[0] == (int32_t)base && ids.v[2] == 3 + 0xC3 && ids.v[3] == 3 + 0xA9,
		    "SPM: byte fallback for a character with no piece");
		size_t bl;
		char *back = tokenizer_decode(t, ids.v, ids.n, 0, &bl);
		ok(back && strcmp(back, "a\xc3\xa9") == 0, "SPM: byte tokens decode back to UTF-8");
		free(back);
		tokenizer_ids_free(&ids);
	}
	tokenizer_free(t);
	spm_score[base + 4] = -0.5f;
	spm_score[base + 5] = -1.0f;
	t = tiny_vocab("llama", spm_tok, n, spm_type, spm_score, NULL, 0);
	snprintf(want, sizeof want, "%zu %zu %zu", base, base + 4, base + 3);
	ok(t && encodes_to(t, "abc", want), "SPM: with ab scoring higher: \u2581 ab c");
	tokenizer_free(t);
}

/* --- real vocabularies -------------------------------------------------- */

/* Expected ids from llama.cpp's models/ggml-vocab-{qwen2,deepseek-llm,
 * phi-3}.gguf.inp/.out (test-tokenizer-0, produced with the reference HF
 * tokenizers, encoded without BOS). NULL: that file has no such case. */
struct published {
	const char *text;
	const char *qwen2, *deepseek_llm, *phi3;
};

#define EMOJI_LINE "\xf0\x9f\x9a\x80 (normal) \xf0\x9f\x98\xb6\u200d\xf0\x9f\x8c\xab\ufe0f " \
	"(multiple emojis concatenated) \xe2\x9c\x85 (only emoji that has its own token)"
#define KHMER "\u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785" \
	"\u1781\u179b\u1785\u17c1\u1789"

static const struct published published[] = {
	{ "ied 4 \xc2\xbd months", "1122 220 19 220 26062 3951", NULL, "474 287 29871 29946 29871 30226 7378" },
	{ "F\xc3\xbchrer", "37 50753 261", NULL, "383 4000 261" },
	{ "", "", "", "" },
	{ " ", "220", "207", "259" },
	{ "  ", "256", "243", "1678" },
	{ "   ", "262", "300", "268" },
	{ "\t", "197", "184", "29871 12" },
	{ "\n", "198", "185", "29871 13" },
	{ "\n\n", "271", "185 185", "29871 13 13" },
	{ "\n\n\n", "1406", "185 185 185", "29871 13 13 13" },
	{ "\t\n", "1572", "184 185", "29871 12 13" },
	{ "Hello world", "9707 1879", "17464 1843", "15043 3186" },
	{ " Hello world", "21927 1879", "37727 1843", "29871 15043 3186" },
	{ "Hello World", "9707 4337", "17464 5427", "15043 2787" },
	{ " Hello World", "21927 4337", "37727 5427", "29871 15043 2787" },
	{ " Hello World!", "21927 4337 0", "37727 5427 0", "29871 15043 2787 29991" },
	{ "Hello, world!", "9707 11 1879 0", "17464 11 1843 0", "15043 29892 3186 29991" },
	{ " Hello, world!", "21927 11 1879 0", "37727 11 1843 0", "29871 15043 29892 3186 29991" },
	{ " this is \xf0\x9f\xa6\x99.cpp", "419 374 11162 99 247 13 10821", "437 317 12356 99 234 13 14743",
	  "29871 445 338 29871 243 162 169 156 29889 8223" },
	{ "w048 7tuijk dsdfhu", "86 15 19 23 220 22 83 1963 41808 11472 2940 16739",
	  "86 15 19 23 207 22 83 3970 27519 26016 3944 14025",
	  "281 29900 29946 29947 29871 29955 9161 13535 18031 2176 6905" },
	{ "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438",
	  "78762 14144 1456 13073 63471 33594 3038 133178 79012", "1603 6476 620 91754",
	  "1538 4851 665 1386 29713 1305" },
	{ KHMER,
	  "146394 97529 241 44258 233 146568 44258 224 147603 20879 115 146280 44258 223 146280 147272 97529 227 "
	  "147805 148301 147270 44258 223 146848",
	  "71374 209 71374 114 71374 228 155 240 220 71374 224 155 240 211 71374 231 71374 115 71374 240 155 240 "
	  "210 71374 240 71374 95 71374 114 71374 214 71374 210 71374 236 71374 214 155 240 210 71374 218",
	  "29871 31849 31324 31934 228 162 142 228 161 146 228 162 133 228 161 153 228 161 186 31708 228 162 132 "
	  "31708 228 161 165 31324 228 161 136 228 161 132 228 161 158 228 161 136 228 162 132 228 161 140" },
	{ EMOJI_LINE,
	  "145836 320 8252 8 26525 114 378 235 149921 30543 320 35673 99066 97534 8 25521 227 320 3243 42365 429 "
	  "702 1181 1828 3950 8",
	  "10044 95300 334 8754 8 33701 114 350 222 10044 221 104 46713 334 34732 996 24250 262 80923 8 207 "
	  "37103 214 334 5956 89213 344 643 895 1377 10728 8",
	  "29871 243 162 157 131 313 8945 29897 29871 243 162 155 185 30722 243 162 143 174 30598 313 20787 953 "
	  "3848 275 16125 630 29897 29871 31681 313 6194 953 29877 2397 393 756 967 1914 5993 29897" },
	{ "Hello", "9707", "17464", "15043" },
	{ " Hello", "21927", "37727", "29871 15043" },
	{ "  Hello", "220 21927", "207 37727", "259 15043" },
	{ "   Hello", "256 21927", "243 37727", "1678 15043" },
	{ "    Hello", "262 21927", "300 37727", "268 15043" },
	{ "    Hello\n    Hello", "262 21927 198 262 21927", "300 37727 185 300 37727", "268 15043 13 1678 15043" },
	{ " (", "320", "334", "29871 313" },
	{ "\n =", "198 284", "185 403", "29871 13 353" },
	{ "' era", "6 11385", "6 2906", "525 3152" },
	{ "Hello, y'all! How are you \xf0\x9f\x98\x81 ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e",
	  "9707 11 379 64848 0 2585 525 498 26525 223 937 104100 18493 22377 99257 16 18 16 19 16 20 16 35727 21216",
	  "17464 11 320 6 436 0 1724 418 340 33701 210 3025 19017 612 9407 2681 16 18 16 19 16 20 16 1398 68940 239",
	  "15043 29892 343 29915 497 29991 1128 526 366 29871 243 162 155 132 1577 30672 31522 30505 11548 31041 "
	  "30732 29896 29941 29896 29946 29896 29945 29896 30408 30739" },
	{ "3", "18", "18", "29871 29941" },
	{ "333", "18 18 18", "18 18 18", "29871 29941 29941 29941" },
	{ "333333333", "18 18 18 18 18 18 18 18 18", "18 18 18 18 18 18 18 18 18",
	  "29871 29941 29941 29941 29941 29941 29941 29941 29941 29941" },
	{ "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\xf0\x9f\x9a\x80 (normal) \xf0\x9f\x98\xb6\u200d\xf0\x9f\x8c\xab\ufe0f "
	  "(multiple emojis concatenated) \xe2\x9c\x85 \xf0\x9f\xa6\x99\xf0\x9f\xa6\x99 3 33 333 3333 33333 333333 "
	  "3333333 33333333 3.3 3..3 3...3 "
	  "\u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785"
	  "\xf0\x9f\x98\x81 ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e ------======= "
	  "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438 "
	  "''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? "
	  "'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
	  "198 4710 14731 65497 7847 1572 2303 78672 10947 145836 320 8252 8 26525 114 378 235 149921 30543 320 "
	  "35673 99066 97534 8 25521 227 11162 99 247 149955 220 18 220 18 18 220 18 18 18 220 18 18 18 18 220 18 "
	  "18 18 18 18 220 18 18 18 18 18 18 220 18 18 18 18 18 18 18 220 18 18 18 18 18 18 18 18 220 18 13 18 220 "
	  "18 496 18 220 18 1112 18 220 146394 97529 241 44258 233 146568 44258 224 147603 20879 115 146280 44258 "
	  "223 146280 147272 97529 227 144534 937 104100 18493 22377 99257 16 18 16 19 16 20 16 35727 21216 55460 "
	  "53237 18658 14144 1456 13073 63471 33594 3038 133178 79012 3355 4605 4605 13874 13874 73594 3014 3014 "
	  "28149 17085 2928 26610 7646 358 3003 1012 364 83 813 566 594 1052 11 364 787 498 2704 30 364 44 537 "
	  "2704 358 3278 1281 432 11 364 35 498 1075 1045 15243 30 1205 6 42612 264 63866 43",
	  "185 207 185 185 207 185 185 185 207 11969 486 22504 185 243 185 300 185 251 185 663 185 10044 95300 334 "
	  "8754 8 33701 114 350 222 10044 221 104 46713 334 34732 996 24250 262 80923 8 207 37103 214 12356 99 234 "
	  "10044 99 234 207 18 207 18 18 207 18 18 18 207 18 18 18 18 207 18 18 18 18 18 207 18 18 18 18 18 18 207 "
	  "18 18 18 18 18 18 18 207 18 18 18 18 18 18 18 18 207 18 13 18 207 18 526 18 207 18 1204 18 207 71374 209 "
	  "71374 114 71374 228 155 240 220 71374 224 155 240 211 71374 231 71374 115 71374 240 155 240 210 71374 "
	  "240 71374 95 71374 114 71374 214 71899 210 3025 19017 612 9407 2681 16 18 16 19 16 20 16 1398 68940 239 "
	  "78827 55170 76659 620 91754 31116 36804 4885 4885 10897 4390 4390 41047 15278 3033 14986 5675 304 6 313 "
	  "803 655 33326 362 6 82 745 11 655 1374 340 2049 30 655 44 441 2049 304 6 647 1099 359 11 655 35 340 837 "
	  "742 10842 30 1003 6 10699 245 6 75 43",
	  "29871 13 29871 13 13 29871 13 13 13 29871 12 29871 12 12 29871 12 13 259 13 1678 13 268 13 418 13 243 "
	  "162 157 131 313 8945 29897 29871 243 162 155 185 30722 243 162 143 174 30598 313 20787 953 3848 275 "
	  "16125 630 29897 29871 31681 29871 243 162 169 156 243 162 169 156 29871 29941 29871 29941 29941 29871 "
	  "29941 29941 29941 29871 29941 29941 29941 29941 29871 29941 29941 29941 29941 29941 29871 29941 29941 "
	  "29941 29941 29941 29941 29871 29941 29941 29941 29941 29941 29941 29941 29871 29941 29941 29941 29941 "
	  "29941 29941 29941 29941 29871 29941 29889 29941 29871 29941 636 29941 29871 29941 856 29941 29871 31849 "
	  "31324 31934 228 162 142 228 161 146 228 162 133 228 161 153 228 161 186 31708 228 162 132 31708 228 161 "
	  "165 31324 228 161 136 243 162 155 132 1577 30672 31522 30505 11548 31041 30732 29896 29941 29896 29946 "
	  "29896 29945 29896 30408 30739 448 23648 2751 25512 1538 4851 665 1386 29713 1305 14550 4907 11120 16159 "
	  "16159 16159 15945 15945 3045 636 6824 6824 6824 8773 8773 8773 306 29915 345 1063 525 29873 1025 540 "
	  "29915 29879 727 29892 525 1525 366 1854 29973 525 29924 451 1854 306 29915 645 1207 372 29892 525 29928 "
	  "366 763 777 23429 29973 1334 29915 29963 29872 263 29915 29880 29931" },
};

static int ids_equal(const struct tokenizer_ids *got, const char *want)
{
	const char *p = want;
	size_t i = 0;

	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (i >= got->n || got->v[i] != v)
			return 0;
		i++;
		p = end;
	}
	return i == got->n;
}

static void show_ids(const struct tokenizer_ids *ids)
{
	char line[2048];
	size_t k = 0;

	for (size_t i = 0; i < ids->n && k + 16 < sizeof line; i++)
		k += (size_t)snprintf(line + k, sizeof line - k, " %d", ids->v[i]);
	line[k] = '\0';
	tap_diag("got%s", line);
}

static const char *const round_trip_texts[] = {
	"Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen: \xc3\x84pfel, \xc3\x96l, \xc3\x9c" "berma\xc3\x9f \xe2\x80\x94 Stra\xc3\x9f" "e!",
	"Die Stra\xc3\x9f" "enbahn f\xc3\xa4hrt um 7:45 Uhr ab (\xe2\x82\xac 2,90).",
	"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd family \xf0\x9f\x91\xa8\u200d\xf0\x9f\x91\xa9\u200d\xf0\x9f\x91\xa7 \xf0\x9f\x87\xa9\xf0\x9f\x87\xaa",
	"\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u4e2d\u6587\uff0c\ud55c\uad6d\uc5b4\u3002",
	"int main(void) {\n\treturn 0;\n}\n",
	"a  \t\t  \n\n\n   b   ",
	"    indented\r\n\r\n  code();  ",
	"caf\x65\xcc\x81 na\xc3\xafve r\xc3\xa9sum\xc3\xa9",
	"\xff\xfe raw bytes \xc3 and \xe2\x82",
	"1234567890 3.14159 -42 1e10",
	"<|im_start|> is text here",
	"",
};

static struct tokenizer *load_vocab(const char *dir, const char *name)
{
	char path[1024], err[256];
	struct gguf_file *g;
	struct tokenizer *t;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	g = gguf_open(path, err, sizeof err);
	if (!g) {
		tap_diag("%s: %s", name, err);
		return NULL;
	}
	t = tokenizer_load(g, err, sizeof err);
	if (!t)
		tap_diag("%s: %s", name, err);
	gguf_close(g);	/* the tokenizer keeps its own copies */
	return t;
}

static void test_round_trip(struct tokenizer *t, const char *vname, int exact_bytes)
{
	for (size_t i = 0; i < sizeof round_trip_texts / sizeof round_trip_texts[0]; i++) {
		const char *s = round_trip_texts[i];
		struct tokenizer_ids ids = { 0 };
		char err[128], *back, stream[65536];
		size_t blen, sl = 0;
		struct tokenizer_stream st;
		char *piece;
		int partial_ok = 1;

		if (!exact_bytes && strchr(s, '\xff'))
			continue;
		piece = malloc(tokenizer_max_piece(t) + 8);
		tokenizer_encode(t, s, strlen(s), 0, &ids, err, sizeof err);
		back = tokenizer_decode(t, ids.v, ids.n, 0, &blen);
		ok(back && blen == strlen(s) && memcmp(back, s, blen) == 0, "%s round trip #%zu", vname, i);
		memset(&st, 0, sizeof st);
		for (size_t j = 0; j < ids.n; j++) {
			size_t k = tokenizer_stream_push(t, &st, ids.v[j], 0, piece);
			/* every chunk except the end is whole UTF-8 (or the
			 * text's own invalid bytes) */
			if (k && unicode_utf8_complete_len(piece, k) != k)
				partial_ok = 0;
			memcpy(stream + sl, piece, k);
			sl += k;
		}
		sl += tokenizer_stream_flush(&st, stream + sl);
		ok(partial_ok && sl == strlen(s) && memcmp(stream, s, sl) == 0,
		    "%s streaming decode #%zu", vname, i);
		free(back);
		free(piece);
		tokenizer_ids_free(&ids);
	}
}

static void test_published(struct tokenizer *t, const char *vname, size_t which)
{
	for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
		const struct published *c = &published[i];
		const char *want = which == 0 ? c->qwen2 : which == 1 ? c->deepseek_llm : c->phi3;
		struct tokenizer_ids ids = { 0 };
		char err[128];

		if (!want)
			continue;
		int rc = tokenizer_encode(t, c->text, strlen(c->text), 0, &ids, err, sizeof err);
		if (!ok(rc == 0 && ids_equal(&ids, want), "%s published ids, case %zu", vname, i)) {
			show_ids(&ids);
			tap_diag("want %s", want);
		}
		tokenizer_ids_free(&ids);
	}
}

static int32_t single(struct tokenizer *t, const char *s, unsigned flags)
{
	struct tokenizer_ids ids = { 0 };
	char err[128];
	int32_t r = -2;

	if (tokenizer_encode(t, s, strlen(s), flags, &ids, err, sizeof err) == 0 && ids.n == 1)
		r = ids.v[0];
	tokenizer_ids_free(&ids);
	return r;
}

static void test_qwen2(struct tokenizer *t)
{
	struct tokenizer_ids ids = { 0 };
	char err[128];
	const char *im = "<|im_start|>user\nHi<|im_end|>";

	ok(tokenizer_n_vocab(t) == 151936, "qwen2: 151936 tokens");
	/* single-token words, looked up by their byte-level text */
	ok(single(t, "Hello", 0) == tokenizer_find(t, "Hello", 5) && single(t, "Hello", 0) >= 0,
	    "qwen2: Hello is the single token Hello");
	ok(single(t, " world", 0) == tokenizer_find(t, "\xc4\xa0world", 7), "qwen2: ' world' is \\u0120world");
	/* merges by rank: "\u0120 \u0120" is rank 0 and "\u0120\u0120 \u0120\u0120"
	 * rank 1, so four trailing spaces become one token */
	ok(single(t, "a    ", 0) == -2 && single(t, "    ", 0) == tokenizer_find(t, "\xc4\xa0\xc4\xa0\xc4\xa0\xc4\xa0", 8),
	    "qwen2: four spaces merge to one token by rank");
	/* special tokens */
	tokenizer_encode(t, im, strlen(im), TOKENIZER_ENCODE_PARSE_SPECIAL, &ids, err, sizeof err);
	ok(ids.n >= 3 && ids.v[0] == 151644 && ids.v[ids.n - 1] == 151645,
	    "qwen2: <|im_start|> and <|im_end|> parsed as special tokens");
	tokenizer_ids_free(&ids);
	tokenizer_encode(t, im, strlen(im), 0, &ids, err, sizeof err);
	int found = 0;
	for (size_t i = 0; i < ids.n; i++)
		found |= ids.v[i] == 151644 || ids.v[i] == 151645;
	ok(!found, "qwen2: control tokens are plain text unless asked for");
	tokenizer_ids_free(&ids);
	{
		/* masked: the template's <|im_start|> is special, the same
		 * text inside the message (mask 0) is not */
		const char *txt = "<|im_start|>user\n<|im_start|>hi";
		uint8_t mask[64];
		memset(mask, 1, sizeof mask);
		memset(mask + 17, 0, 14);
		tokenizer_encode_masked(t, txt, strlen(txt), TOKENIZER_ENCODE_PARSE_SPECIAL, mask, &ids, err, sizeof err);
		int n_special = 0;
		for (size_t i = 0; i < ids.n; i++)
			n_special += ids.v[i] == 151644;
		ok(ids.n > 3 && ids.v[0] == 151644 && n_special == 1, "qwen2: special tokens only where the mask allows");
		tokenizer_ids_free(&ids);
	}
	ok(tokenizer_is_eog(t, 151645) && tokenizer_is_eog(t, 151643) && !tokenizer_is_eog(t, 9707),
	    "qwen2: <|im_end|> and <|endoftext|> end generation");
	{
		char buf[32];
		ok(tokenizer_token_to_piece(t, 151645, 0, buf, sizeof buf) == 0 &&
		    tokenizer_token_to_piece(t, 151645, TOKENIZER_DECODE_SPECIAL, buf, sizeof buf) == 10,
		    "qwen2: control text only when asked for");
	}
	size_t tl;
	ok(tokenizer_chat_template(t, &tl) != NULL && tl > 0, "qwen2: chat template present");
}

int main(void)
{
	const char *dir = getenv("HAFEN_VOCAB_DIR");
	char def[1024];
	struct tokenizer *t;

	test_unicode();
	test_pretok();
	test_tiny_merges();

	if (!dir) {
		const char *top = getenv("top_srcdir");
		snprintf(def, sizeof def, "%s/../shared/data/vocab", top ? top : ".");
		dir = def;
	}
	t = load_vocab(dir, "ggml-vocab-qwen2.gguf");
	if (t) {
		test_published(t, "qwen2", 0);
		test_qwen2(t);
		test_round_trip(t, "qwen2", 1);
		tokenizer_free(t);
	} else {
		tap_diag("qwen2 vocab not found in %s: skipping its checks", dir);
	}
	t = load_vocab(dir, "ggml-vocab-deepseek-llm.gguf");
	if (t) {
		test_published(t, "deepseek-llm", 1);
		ok(tokenizer_bos(t) == 100000 && tokenizer_is_eog(t, 100001), "deepseek-llm: BOS/EOS");
		ok(single(t, "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
		    TOKENIZER_ENCODE_PARSE_SPECIAL) == 100000, "deepseek-llm: BOS text parses as special");
		struct tokenizer_ids ids = { 0 };
		char err[64];
		tokenizer_encode(t, "Hi", 2, TOKENIZER_ENCODE_ADD_SPECIAL, &ids, err, sizeof err);
		ok(ids.n == 2 && ids.v[0] == 100000, "deepseek-llm: add_bos_token honoured");
		tokenizer_ids_free(&ids);
		/* Not byte-exact: this vocab has no normal token for some
		 * lone bytes (0xF8-0xFF...); their byte-level letters are
		 * USER_DEFINED tokens ("\u00ff") that decode as their UTF-8
		 * text, as in the HF tokenizer. Valid UTF-8 round-trips. */
		test_round_trip(t, "deepseek-llm", 0);
		tokenizer_free(t);
	} else {
		tap_diag("deepseek-llm vocab not found: skipping its checks");
	}
	t = load_vocab(dir, "ggml-vocab-phi-3.gguf");
	if (t) {
		test_published(t, "phi-3", 2);
		ok(tokenizer_model_of(t) == TOKENIZER_MODEL_SPM, "phi-3: SentencePiece");
		ok(single(t, "<|user|>", TOKENIZER_ENCODE_PARSE_SPECIAL) == 32010, "phi-3: <|user|> special");
		ok(tokenizer_is_eog(t, 32007), "phi-3: <|end|> ends generation");
		test_round_trip(t, "phi-3", 1);
		tokenizer_free(t);
	} else {
		tap_diag("phi-3 vocab not found: skipping its checks");
	}
	tap_done();
	return tap_failed ? 1 : 0;
}
