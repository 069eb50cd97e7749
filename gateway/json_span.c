/* Byte span of a value at a path in JSON source (see json_span.h).
 * Grammar: RFC 8259 sections 2-7. The input has been parsed by jansson
 * already, so only what the path needs is looked at; every step still
 * checks its bounds and returns -1 on anything unexpected. */
#include "json_span.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "policies/aiact.h"

/* RFC 8259 section 2: the four whitespace bytes. */
static size_t json_span_ws_run(const char *t, size_t len, size_t p)
{
	while (p < len && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
		p++;
	return p;
}

/* Compact JSON has no whitespace at all: one test inline, the loop only
 * where there is some. */
static inline size_t json_span_ws(const char *t, size_t len, size_t p)
{
	if (p < len && (unsigned char)t[p] > ' ')
		return p;
	return json_span_ws_run(t, len, p);
}

/* What a byte is to json_span_value's skipping: the end of a scalar (a
 * delimiter), a quote, an opening or a closing bracket. A table: one load
 * per byte instead of a chain of compares. */
enum json_span_byte {
	JSON_SPAN_BYTE_OTHER,
	JSON_SPAN_BYTE_QUOTE,
	JSON_SPAN_BYTE_OPEN,
	JSON_SPAN_BYTE_DELIM,  /* , and whitespace; from here on a number or literal ends */
	JSON_SPAN_BYTE_CLOSE,  /* ] } */
};

static const uint8_t json_span_byte_class[256] = {
	[','] = JSON_SPAN_BYTE_DELIM, [' '] = JSON_SPAN_BYTE_DELIM, ['\t'] = JSON_SPAN_BYTE_DELIM,
	['\n'] = JSON_SPAN_BYTE_DELIM, ['\r'] = JSON_SPAN_BYTE_DELIM,
	[']'] = JSON_SPAN_BYTE_CLOSE, ['}'] = JSON_SPAN_BYTE_CLOSE,
	['['] = JSON_SPAN_BYTE_OPEN, ['{'] = JSON_SPAN_BYTE_OPEN,
	['"'] = JSON_SPAN_BYTE_QUOTE,
};

/* Bit 7 of each byte of x that equals c (the lowest set one is exact;
 * "Bit Twiddling Hacks", determine if a word has a byte equal to n). */
static inline uint64_t json_span_bytes_eq(uint64_t x, unsigned char c)
{
	uint64_t y = x ^ (UINT64_C(0x0101010101010101) * c);
	return (y - UINT64_C(0x0101010101010101)) & ~y & UINT64_C(0x8080808080808080);
}

/* The first '"' or backslash at or after t[i], or len. Keys and short
 * values are read eight bytes at a time (a memchr call costs more than
 * they do); past 64 bytes memchr jumps to the next quote. */
static size_t json_span_stop(const char *t, size_t len, size_t i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t lim = len - i > 64 ? i + 64 : len;
	while (lim - i >= 8) {
		uint64_t w;
		memcpy(&w, t + i, 8);
		uint64_t m = json_span_bytes_eq(w, '"') | json_span_bytes_eq(w, '\\');
		if (m)
			return i + (size_t)__builtin_ctzll(m) / 8;
		i += 8;
	}
#else
	size_t lim = len - i > 64 ? i + 64 : len;
#endif
	while (i < lim && t[i] != '"' && t[i] != '\\')
		i++;
	if (i < lim || i >= len)
		return i;
	const char *q = memchr(t + i, '"', len - i);
	if (!q)
		return len;
	const char *bs = memchr(t + i, '\\', (size_t)(q - (t + i)));
	return (size_t)((bs ? bs : q) - t);
}

/* End (one past the closing quote) of a string whose bytes from t[i] on
 * are not yet read (i: after its opening quote or further, before any
 * backslash), or 0. *esc: the string holds a backslash (its bytes are not
 * its value). */
static size_t json_span_string_from(const char *t, size_t len, size_t i, int *esc)
{
	*esc = 0;
	for (;;) {
		i = json_span_stop(t, len, i);
		if (i >= len)
			return 0;
		if (t[i] == '"')
			return i + 1;
		/* a backslash escapes the byte after it (RFC 8259 section 7) */
		*esc = 1;
		if (len - i < 2)
			return 0;
		i += 2;
	}
}

/* The string opening at t[p], as above. The keys and short values most
 * strings are end within the first eight-byte words: read inline, with no
 * call; a backslash, a string longer than 128 bytes or the end of the text
 * near go on in the loop above from where this stopped. */
static inline size_t json_span_string(const char *t, size_t len, size_t p, int *esc)
{
#if defined(__SSE2__)
	/* sixteen bytes per step: two byte compares and one mask */
	size_t i = p + 1;
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	for (int k = 0; k < 8 && len - i >= 16; k++, i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
		    _mm_cmpeq_epi8(x, bslash)));
		if (m) {
			i += (size_t)__builtin_ctz(m);
			if (t[i] != '"')
				break; /* a backslash: the loop above from here */
			*esc = 0;
			return i + 1;
		}
	}
	return json_span_string_from(t, len, i, esc);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t i = p + 1;
	for (int k = 0; k < 16 && len - i >= 8; k++, i += 8) {
		uint64_t w;
		memcpy(&w, t + i, 8);
		uint64_t m = json_span_bytes_eq(w, '"') | json_span_bytes_eq(w, '\\');
		if (m) {
			i += (size_t)__builtin_ctzll(m) / 8;
			if (t[i] != '"')
				break; /* a backslash: the loop above from here */
			*esc = 0;
			return i + 1;
		}
	}
	return json_span_string_from(t, len, i, esc);
#else
	return json_span_string_from(t, len, p + 1, esc);
#endif
}

/* End of the value starting at t[p], or 0. */
static size_t json_span_value(const char *t, size_t len, size_t p)
{
	int esc;
	if (p >= len)
		return 0;
	if (t[p] == '"')
		return json_span_string(t, len, p, &esc);
	if (t[p] == '{' || t[p] == '[') {
		size_t depth = 0;
		for (size_t i = p; i < len; i++) {
			switch (json_span_byte_class[(unsigned char)t[i]]) {
			case JSON_SPAN_BYTE_QUOTE: {
				size_t e = json_span_string(t, len, i, &esc);
				if (!e)
					return 0;
				i = e - 1;
				break;
			}
			case JSON_SPAN_BYTE_OPEN:
				depth++;
				break;
			case JSON_SPAN_BYTE_CLOSE:
				if (--depth == 0)
					return i + 1;
				break;
			default:
				break;
			}
		}
		return 0;
	}
	/* number, true, false, null: up to a delimiter (a quote or an
	 * opening bracket does not end one either) */
	size_t i = p;
	while (i < len && json_span_byte_class[(unsigned char)t[i]] < JSON_SPAN_BYTE_DELIM)
		i++;
	return i > p ? i : 0;
}

/* The member `key` of the object at t[p]: its value's start, or 0 when it
 * is missing, there twice, or any key of this object has an escape. */
static size_t json_span_member(const char *t, size_t len, size_t p, const char *key)
{
	struct json_span_member m = { .key = key };
	if (p >= len || t[p] != '{' || json_span_members(t + p, len - p, &m, 1) < 0 || !m.found)
		return 0;
	return p + m.start;
}

/* Element `index` of the array at t[p]: its start, or 0. */
static size_t json_span_element(const char *t, size_t len, size_t p, size_t index)
{
	if (p >= len || t[p] != '[')
		return 0;
	p = json_span_ws(t, len, p + 1);
	if (p < len && t[p] == ']')
		return 0;
	for (size_t k = 0;; k++) {
		if (k == index)
			return p;
		size_t ve = json_span_value(t, len, p);
		if (!ve)
			return 0;
		p = json_span_ws(t, len, ve);
		if (p >= len || t[p] != ',')
			return 0;
		p = json_span_ws(t, len, p + 1);
	}
}

int json_span_find(const char *text, size_t len, const struct json_span_step *path,
    size_t npath, size_t *start, size_t *end)
{
	size_t p = json_span_ws(text, len, 0);

	if (npath > JSON_SPAN_MAX_PATH)
		return -1;
	/* a value never starts at offset 0 below the top, so 0 means "none" */
	for (size_t s = 0; s < npath; s++) {
		p = path[s].key ? json_span_member(text, len, p, path[s].key)
				: json_span_element(text, len, p, path[s].index);
		if (!p)
			return -1;
	}
	size_t e = json_span_value(text, len, p);
	if (!e)
		return -1;
	*start = p;
	*end = e;
	return 0;
}

/* ---- the answer's text strings, without a tree ---- */

/* One pass of recursive descent: every function below gets the start of a
 * value and returns its end (0: malformed, a form not compared, or out of
 * memory). Values on no path of interest are skipped by json_span_value. */

struct json_span_texts {
	struct json_span_text *v;
	size_t n, cap;
	/* Texts come out in the order of the names table (the tree walk's
	 * json_object_get order), not in document order: requests, whose
	 * text order numbers placeholders and names the first blocked
	 * finding. Members are walked as they come and reordered after. */
	int ordered;
	int own; /* v is malloc'd (else the caller's buffer, or NULL) */
	/* Requests, for the AI Act screener (json_span_request_texts): */
	int aiact;        /* a request walk: an escaped role or part type declines */
	int in_message;   /* walking an element of the request's messages[] */
	int screen;       /* texts pushed now are instructions (content, prompt, input) */
	int role;         /* the message's role is an instruction role, or it has none */
	int part;         /* the part's type: aiact_part_kind, -1 when absent or no string */
	unsigned msg_media, media; /* the message's media parts; those of instruction messages */
};

#define JSON_SPAN_NAMES 8 /* longest names table */

/* A member name of a walk's table, with its length (no name is empty). */
struct json_span_name {
	const char *s;
	size_t len;
};

#define JSON_SPAN_NAME_MAX 15 /* longest name; longer keys match none */

/* (a name longer than JSON_SPAN_NAME_MAX fails to compile: a negative
 * array size) */
#define JSON_SPAN_NAME(lit) {lit, sizeof lit - 1 + 0 * sizeof(char[sizeof lit - 1 <= JSON_SPAN_NAME_MAX ? 1 : -1])}

/* A walk's table: its names, and for each key length the bit set of the
 * names that long, so that a key is compared with those only (most keys
 * with none). Built by JSON_SPAN_TABLEn from the literals alone. */
struct json_span_names {
	struct json_span_name v[JSON_SPAN_NAMES];
	uint8_t by_len[JSON_SPAN_NAME_MAX + 1];
};

#define JSON_SPAN_IS_LEN(lit, L, i) ((sizeof lit - 1 == (L)) << (i))
#define JSON_SPAN_LEN1(L, a) JSON_SPAN_IS_LEN(a, L, 0)
#define JSON_SPAN_LEN2(L, a, b) (JSON_SPAN_LEN1(L, a) | JSON_SPAN_IS_LEN(b, L, 1))
#define JSON_SPAN_LEN3(L, a, b, c) (JSON_SPAN_LEN2(L, a, b) | JSON_SPAN_IS_LEN(c, L, 2))
#define JSON_SPAN_LEN6(L, a, b, c, d, e, f) (JSON_SPAN_LEN3(L, a, b, c) | JSON_SPAN_IS_LEN(d, L, 3) | \
	JSON_SPAN_IS_LEN(e, L, 4) | JSON_SPAN_IS_LEN(f, L, 5))
#define JSON_SPAN_BY_LEN(B, ...) {B(0, __VA_ARGS__), B(1, __VA_ARGS__), B(2, __VA_ARGS__), \
	B(3, __VA_ARGS__), B(4, __VA_ARGS__), B(5, __VA_ARGS__), B(6, __VA_ARGS__), B(7, __VA_ARGS__), \
	B(8, __VA_ARGS__), B(9, __VA_ARGS__), B(10, __VA_ARGS__), B(11, __VA_ARGS__), B(12, __VA_ARGS__), \
	B(13, __VA_ARGS__), B(14, __VA_ARGS__), B(15, __VA_ARGS__)}
#define JSON_SPAN_TABLE1(a) {{JSON_SPAN_NAME(a)}, JSON_SPAN_BY_LEN(JSON_SPAN_LEN1, a)}
#define JSON_SPAN_TABLE2(a, b) {{JSON_SPAN_NAME(a), JSON_SPAN_NAME(b)}, JSON_SPAN_BY_LEN(JSON_SPAN_LEN2, a, b)}
#define JSON_SPAN_TABLE3(a, b, c) {{JSON_SPAN_NAME(a), JSON_SPAN_NAME(b), JSON_SPAN_NAME(c)}, \
	JSON_SPAN_BY_LEN(JSON_SPAN_LEN3, a, b, c)}
#define JSON_SPAN_TABLE6(a, b, c, d, e, f) {{JSON_SPAN_NAME(a), JSON_SPAN_NAME(b), JSON_SPAN_NAME(c), \
	JSON_SPAN_NAME(d), JSON_SPAN_NAME(e), JSON_SPAN_NAME(f)}, \
	JSON_SPAN_BY_LEN(JSON_SPAN_LEN6, a, b, c, d, e, f)}

typedef size_t (*json_span_member_fn)(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p);

/* A string value is recorded; anything else is skipped (no text, as in
 * the tree walk). */
static size_t json_span_push(struct json_span_texts *a, const char *t, size_t len, size_t p,
    enum json_span_kind kind)
{
	int esc;
	if (t[p] != '"')
		return json_span_value(t, len, p);
	size_t e = json_span_string(t, len, p, &esc);
	if (!e)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		/* the first array may be the caller's (json_span_request_texts) */
		struct json_span_text *v = a->own ? realloc(a->v, cap * sizeof *v) : malloc(cap * sizeof *v);
		if (!v)
			return 0;
		if (!a->own && a->n)
			memcpy(v, a->v, a->n * sizeof *v);
		a->v = v;
		a->cap = cap;
		a->own = 1;
	}
	a->v[a->n++] = (struct json_span_text){p, e, kind, a->screen, esc};
	return e;
}

/* Which of names[] the key [ks, ks + kl) is, or -1; a name seen twice in one
 * object (*seen) is -2: jansson keeps the last, a client may read the first. */
static int json_span_which(const char *t, size_t ks, size_t kl, const struct json_span_names *names,
    unsigned *seen)
{
	if (kl > JSON_SPAN_NAME_MAX)
		return -1;
	for (unsigned c = names->by_len[kl]; c; c &= c - 1) {
		unsigned i = (unsigned)__builtin_ctz(c);
		const char *s = names->v[i].s;
		size_t j = 0;
		while (j < kl && s[j] == t[ks + j])
			j++;
		if (j < kl)
			continue;
		if (*seen & (1u << i))
			return -2;
		*seen |= 1u << i;
		return (int)i;
	}
	return -1;
}

/* The texts one wanted member of an object added: v[from, to). */
struct json_span_block {
	int w;
	size_t from, to;
};

/* The blocks (contiguous, in document order) rewritten in table order:
 * each name occurs once in an object, so sorting by w is total. */
static int json_span_reorder(struct json_span_texts *a, const struct json_span_block *blk, size_t nb)
{
	size_t from = blk[0].from, n = blk[nb - 1].to - from;
	struct json_span_text stackbuf[32], *tmp = n <= 32 ? stackbuf : malloc(n * sizeof *tmp);
	if (!tmp)
		return -1;
	memcpy(tmp, a->v + from, n * sizeof *tmp);
	size_t out = from;
	for (int w = 0; w < JSON_SPAN_NAMES; w++)
		for (size_t k = 0; k < nb; k++)
			if (blk[k].w == w) {
				size_t m = blk[k].to - blk[k].from;
				memcpy(a->v + out, tmp + (blk[k].from - from), m * sizeof *tmp);
				out += m;
			}
	if (tmp != stackbuf)
		free(tmp);
	return 0;
}

/* The object at t[p] (anything else is skipped): members named in names[]
 * go to fn with their index, the others are skipped. */
static size_t json_span_object(struct json_span_texts *a, const char *t, size_t len, size_t p,
    const struct json_span_names *names, json_span_member_fn fn)
{
	if (t[p] != '{')
		return json_span_value(t, len, p);
	unsigned seen = 0;
	/* ordered: the texts each wanted member added, to be put in table
	 * order when the document has the members in another */
	struct json_span_block blk[JSON_SPAN_NAMES];
	size_t nb = 0;
	int sorted = 1, last = -1;
	p = json_span_ws(t, len, p + 1);
	if (p < len && t[p] == '}')
		return p + 1;
	for (;;) {
		int esc;
		if (p >= len || t[p] != '"')
			return 0;
		size_t ke = json_span_string(t, len, p, &esc);
		if (!ke || esc)
			return 0;
		size_t ks = p + 1, kl = ke - p - 2;
		p = json_span_ws(t, len, ke);
		if (p >= len || t[p] != ':')
			return 0;
		p = json_span_ws(t, len, p + 1);
		if (p >= len)
			return 0;
		int w = json_span_which(t, ks, kl, names, &seen);
		if (w == -2)
			return 0;
		size_t from = a->n;
		size_t e = w >= 0 ? fn(a, t, len, w, p) : json_span_value(t, len, p);
		if (!e)
			return 0;
		/* a member that added no text (a role, a type) has nothing to
		 * put in order: "role" before "content" is no reordering */
		if (w >= 0 && a->ordered && a->n > from) {
			sorted &= w > last;
			last = w;
			blk[nb++] = (struct json_span_block){w, from, a->n};
		}
		p = json_span_ws(t, len, e);
		if (p < len && t[p] == ',') {
			p = json_span_ws(t, len, p + 1);
			continue;
		}
		if (p >= len || t[p] != '}')
			return 0;
		break;
	}
	if (!sorted && json_span_reorder(a, blk, nb) < 0)
		return 0;
	return p + 1;
}

/* The elements of the array at t[p] (anything else is skipped) through fn. */
static size_t json_span_array(struct json_span_texts *a, const char *t, size_t len, size_t p,
    json_span_member_fn fn)
{
	if (t[p] != '[')
		return json_span_value(t, len, p);
	p = json_span_ws(t, len, p + 1);
	if (p < len && t[p] == ']')
		return p + 1;
	for (;;) {
		if (p >= len)
			return 0;
		size_t e = fn(a, t, len, 0, p);
		if (!e)
			return 0;
		p = json_span_ws(t, len, e);
		if (p < len && t[p] == ',') {
			p = json_span_ws(t, len, p + 1);
			continue;
		}
		return p < len && t[p] == ']' ? p + 1 : 0;
	}
}

static size_t json_span_text_fn(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	(void)which;
	return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
}

static size_t json_span_arguments(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	(void)which;
	return json_span_push(a, t, len, p, JSON_SPAN_KIND_JSON);
}

/* The texts v[from, to) are not instructions after all (a part that is no
 * text part, a message whose role is not an instruction role). */
static void json_span_unscreen(struct json_span_texts *a, size_t from)
{
	for (size_t k = from; k < a->n; k++)
		a->v[k].instruction = 0;
}

/* A role or a part type: a string's bytes as the screener compares them
 * (aiact.h); an escape in one declines a request walk (the tree decodes
 * it). *s = NULL when the value is no string. */
static size_t json_span_name(struct json_span_texts *a, const char *t, size_t len, size_t p,
    const char **s, size_t *sl)
{
	int esc;
	*s = NULL;
	if (t[p] != '"')
		return json_span_value(t, len, p);
	size_t e = json_span_string(t, len, p, &esc);
	if (!e || (esc && a->aiact))
		return 0;
	*s = t + p + 1;
	*sl = e - p - 2;
	return e;
}

/* A message's role: none, or one that is no string, counts as an
 * instruction role too (aiact_screen_request). */
static size_t json_span_role(struct json_span_texts *a, const char *t, size_t len, size_t p)
{
	const char *s;
	size_t sl = 0;
	if (!a->aiact)
		return json_span_value(t, len, p); /* answers, sets without AI Act rules */
	size_t e = json_span_name(a, t, len, p, &s, &sl);
	a->role = !s || aiact_role_instruction(s, sl);
	return e;
}

/* A content part's type (aiact_part_kind). */
static size_t json_span_type(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	const char *s;
	size_t sl = 0;
	(void)which;
	if (!a->aiact)
		return json_span_value(t, len, p);
	size_t e = json_span_name(a, t, len, p, &s, &sl);
	a->part = s ? aiact_part_kind(s, sl) : -1;
	return e;
}

/* The members of a part object: its text (an instruction in a text part
 * of an instruction message), refusal (never one) and type. */
static size_t json_span_part_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	int screen = a->screen;
	size_t e;
	switch (which) {
	case 0: /* text */
		return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
	case 1: /* refusal */
		a->screen = 0;
		e = json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
		a->screen = screen;
		return e;
	default:
		return json_span_type(a, t, len, 0, p);
	}
}

/* A content part: a string, or an object whose text or refusal is text.
 * Its type says whether the text is screened, or which medium it is. */
static size_t json_span_part(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	static const struct json_span_names names = JSON_SPAN_TABLE3("text", "refusal", "type");
	(void)which;
	if (t[p] == '"')
		return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
	size_t from = a->n;
	a->part = -1;
	size_t e = json_span_object(a, t, len, p, &names, json_span_part_member);
	if (e && a->screen && t[p] == '{') {
		if (a->part != 0)
			json_span_unscreen(a, from);
		if (a->part > 0)
			a->msg_media |= (unsigned)a->part;
	}
	return e;
}

/* {"arguments": "..."}: a function object, or the legacy function_call. */
static size_t json_span_function(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	static const struct json_span_names args = JSON_SPAN_TABLE1("arguments");
	(void)which;
	return json_span_object(a, t, len, p, &args, json_span_arguments);
}

/* A tool_calls element: {"function": {...}}. */
static size_t json_span_call(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	static const struct json_span_names fn = JSON_SPAN_TABLE1("function");
	(void)which;
	return json_span_object(a, t, len, p, &fn, json_span_function);
}

/* A message or delta: content (string or parts), name, refusal,
 * tool_calls[].function.arguments, function_call.arguments
 * (policies/request_walk.c, request_walk_message). */
static size_t json_span_message_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	size_t e;
	switch (which) {
	case 0: /* content: instructions when the role says so (json_span_request_message) */
		a->screen = a->in_message;
		if (t[p] == '[')
			e = json_span_array(a, t, len, p, json_span_part);
		else
			e = json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
		a->screen = 0;
		return e;
	case 5: /* role */
		return json_span_role(a, t, len, p);
	case 1: /* name */
	case 2: /* refusal */
		return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
	case 3: /* tool_calls */
		return json_span_array(a, t, len, p, json_span_call);
	default: /* function_call */
		return json_span_function(a, t, len, 0, p);
	}
}

static size_t json_span_message(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	static const struct json_span_names names = JSON_SPAN_TABLE6("content", "name", "refusal",
	    "tool_calls", "function_call", "role");
	(void)which;
	return json_span_object(a, t, len, p, &names, json_span_message_member);
}

static size_t json_span_choice_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	if (which == 2) /* text */
		return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
	return json_span_message(a, t, len, 0, p);
}

static size_t json_span_choice(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	static const struct json_span_names names = JSON_SPAN_TABLE3("message", "delta", "text");
	(void)which;
	return json_span_object(a, t, len, p, &names, json_span_choice_member);
}

/* Top level: choices[] is walked; the request-side members the tree walk
 * also reads (messages, prompt, input, suffix, instructions) are not
 * expected in an answer, so their presence sends the caller to the tree. */
static size_t json_span_top_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	if (which > 0)
		return 0;
	return json_span_array(a, t, len, p, json_span_choice);
}

/* The texts of the top-level object's members named in names (walked by
 * member): into buf while nbuf entries suffice, else malloc'd. */
static int json_span_top_texts(const char *text, size_t len, struct json_span_text *buf, size_t nbuf,
    struct json_span_text **out, size_t *n, const struct json_span_names *names, int ordered,
    json_span_member_fn member, unsigned *media)
{
	struct json_span_texts a = {buf, 0, buf ? nbuf : 0, ordered, 0, .aiact = media != NULL};
	*out = NULL;
	*n = 0;
	if (media)
		*media = 0;
	size_t p = json_span_ws(text, len, 0);
	if (p >= len || text[p] != '{' || !json_span_object(&a, text, len, p, names, member)) {
		if (a.own)
			free(a.v);
		return -1;
	}
	*out = a.v;
	*n = a.n;
	if (media)
		*media = a.media;
	return 0;
}

int json_span_answer_texts_buf(const char *text, size_t len, struct json_span_text *buf, size_t nbuf,
    struct json_span_text **out, size_t *n)
{
	static const struct json_span_names names = JSON_SPAN_TABLE6("choices", "messages", "prompt",
	    "input", "suffix", "instructions");
	return json_span_top_texts(text, len, buf, nbuf, out, n, &names, 0, json_span_top_member, NULL);
}

int json_span_answer_texts(const char *text, size_t len, struct json_span_text **out, size_t *n)
{
	return json_span_answer_texts_buf(text, len, NULL, 0, out, n);
}

/* ---- the request's text strings, in the tree walk's order ---- */

/* An element of messages[]: a message whose content the AI Act screener
 * reads when its role is an instruction role, with its media parts. */
static size_t json_span_request_message(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	(void)which;
	if (t[p] != '{')
		return json_span_value(t, len, p);
	size_t from = a->n;
	a->in_message = 1;
	a->role = 1;
	a->msg_media = 0;
	size_t e = json_span_message(a, t, len, 0, p);
	a->in_message = 0;
	if (e && a->role)
		a->media |= a->msg_media;
	else if (e)
		json_span_unscreen(a, from);
	return e;
}

/* A part of a message item in prompt or input: only its medium counts
 * (its text is no text field of the walk, so the screener skips it). */
static size_t json_span_item_part(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	static const struct json_span_names names = JSON_SPAN_TABLE1("type");
	(void)which;
	a->part = -1;
	size_t e = json_span_object(a, t, len, p, &names, json_span_type);
	if (e && t[p] == '{' && a->part > 0)
		a->msg_media |= (unsigned)a->part;
	return e;
}

static size_t json_span_item_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	if (which == 0)
		return json_span_role(a, t, len, p);
	return json_span_array(a, t, len, p, json_span_item_part);
}

/* A message item (an object) in a prompt or input array: the screener
 * takes it as a message (Responses API input items), for its media. */
static size_t json_span_item(struct json_span_texts *a, const char *t, size_t len, size_t p)
{
	static const struct json_span_names names = JSON_SPAN_TABLE2("role", "content");
	a->role = 1;
	a->msg_media = 0;
	size_t e = json_span_object(a, t, len, p, &names, json_span_item_member);
	if (e && a->role)
		a->media |= a->msg_media;
	return e;
}

/* An element of a batched input: a string, or an array whose strings
 * count (one level, policies/request_walk.c request_walk_strings). In
 * prompt and input (a->screen) strings are instructions, nested arrays
 * are not, and objects are message items. */
static size_t json_span_batch_element(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	(void)which;
	if (t[p] == '[') {
		int screen = a->screen;
		a->screen = 0;
		size_t e = json_span_array(a, t, len, p, json_span_text_fn);
		a->screen = screen;
		return e;
	}
	if (t[p] == '{' && a->screen)
		return json_span_item(a, t, len, p);
	return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
}

/* prompt, input, ...: a string or an array of batch elements. */
static size_t json_span_batch(struct json_span_texts *a, const char *t, size_t len, int which, size_t p)
{
	(void)which;
	if (t[p] == '[')
		return json_span_array(a, t, len, p, json_span_batch_element);
	return json_span_push(a, t, len, p, JSON_SPAN_KIND_TEXT);
}

/* messages[] are messages; prompt, input, suffix and instructions are a
 * string or an array of them; choices[] as in an answer. A messages that
 * is not an array is an error of the tree walk: the caller goes there. */
static size_t json_span_request_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t p)
{
	size_t e;
	switch (which) {
	case 0: /* messages */
		return t[p] == '[' ? json_span_array(a, t, len, p, json_span_request_message) : 0;
	case 1: /* prompt */
	case 2: /* input: both read by the AI Act screener */
		a->screen = 1;
		e = json_span_batch(a, t, len, 0, p);
		a->screen = 0;
		return e;
	case 5: /* choices */
		return json_span_array(a, t, len, p, json_span_choice);
	default:
		return json_span_batch(a, t, len, 0, p);
	}
}

int json_span_request_texts(const char *text, size_t len, struct json_span_text *buf, size_t nbuf,
    struct json_span_text **out, size_t *n, unsigned *media)
{
	static const struct json_span_names names = JSON_SPAN_TABLE6("messages", "prompt", "input",
	    "suffix", "instructions", "choices");
	return json_span_top_texts(text, len, buf, nbuf, out, n, &names, 1, json_span_request_member, media);
}

int json_span_members(const char *t, size_t len, struct json_span_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m[i].found = 0, m[i].start = m[i].end = 0;
	size_t p = json_span_ws(t, len, 0);
	if (p >= len || t[p] != '{')
		return -1;
	p = json_span_ws(t, len, p + 1);
	if (p < len && t[p] == '}')
		return 0;
	for (;;) {
		int esc;
		if (p >= len || t[p] != '"')
			return -1;
		size_t ke = json_span_string(t, len, p, &esc);
		if (!ke || esc)
			return -1; /* "\u0075ser" is "user" too: the tree decides */
		size_t ks = p + 1, kl = ke - p - 2;
		p = json_span_ws(t, len, ke);
		if (p >= len || t[p] != ':')
			return -1;
		p = json_span_ws(t, len, p + 1);
		size_t ve = json_span_value(t, len, p);
		if (!ve)
			return -1;
		for (size_t i = 0; i < n; i++) {
			/* the key's bytes up to its NUL, no strlen per member (SSE
			 * events call this three times each) */
			const char *k = m[i].key;
			size_t j = 0;
			while (j < kl && k[j] && k[j] == t[ks + j])
				j++;
			if (j != kl || k[kl])
				continue;
			if (m[i].found)
				return -1; /* twice: jansson keeps the last, a client may read the first */
			m[i].found = 1;
			m[i].start = p;
			m[i].end = ve;
		}
		p = json_span_ws(t, len, ve);
		if (p < len && t[p] == ',') {
			p = json_span_ws(t, len, p + 1);
			continue;
		}
		if (p < len && t[p] == '}')
			return 0;
		return -1;
	}
}

int json_span_next(const char *t, size_t len, size_t *it, size_t *start, size_t *end)
{
	/* *it is on the '[', or on the ',' or ']' after the last element given */
	size_t p = *it;
	if (p >= len || t[p] == ']')
		return 0;
	if (t[p] != '[' && t[p] != ',')
		return -1;
	int first = t[p] == '[';
	p = json_span_ws(t, len, p + 1);
	if (first && p < len && t[p] == ']') {
		*it = p;
		return 0;
	}
	size_t e = json_span_value(t, len, p);
	if (!e)
		return -1;
	size_t q = json_span_ws(t, len, e);
	if (q >= len || (t[q] != ',' && t[q] != ']'))
		return -1;
	*start = p;
	*end = e;
	*it = q;
	return 1;
}

int json_span_uint(const char *t, size_t start, size_t end, uint64_t *v)
{
	/* RFC 8259 section 6: int = zero / ( digit1-9 *DIGIT ); a fraction,
	 * an exponent or a sign is left to the tree (jansson's rules). */
	if (start >= end || end - start > 18 || (t[start] == '0' && end - start > 1))
		return -1;
	uint64_t x = 0;
	for (size_t i = start; i < end; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(t[i] - '0');
	}
	*v = x;
	return 0;
}

/* The first p >= i where t[p..p+2) is a1 b1 or a2 b2, or len: eight
 * positions per step (a byte compare of t[p..p+8) and t[p+1..p+9)); a
 * word's lowest match bit is exact, later ones are checked bytewise. */
static size_t json_span_pair(const char *t, size_t len, size_t i, const char pairs[4])
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (len - i >= 9) {
		uint64_t a, b;
		memcpy(&a, t + i, 8);
		memcpy(&b, t + i + 1, 8);
		uint64_t m = (json_span_bytes_eq(a, (unsigned char)pairs[0]) & json_span_bytes_eq(b, (unsigned char)pairs[1])) |
		    (json_span_bytes_eq(a, (unsigned char)pairs[2]) & json_span_bytes_eq(b, (unsigned char)pairs[3]));
		for (; m; m &= m - 1) {
			size_t p = i + (size_t)__builtin_ctzll(m) / 8;
			if ((t[p] == pairs[0] && t[p + 1] == pairs[1]) || (t[p] == pairs[2] && t[p + 1] == pairs[3]))
				return p;
		}
		i += 8;
	}
#endif
	for (; i + 1 < len; i++)
		if ((t[i] == pairs[0] && t[i + 1] == pairs[1]) || (t[i] == pairs[2] && t[i + 1] == pairs[3]))
			return i;
	return len;
}

/* A key spelled plainly is its bytes between quotes, then optional
 * whitespace and a colon (RFC 8259 section 4); spelled with escapes, it
 * holds a \uXXXX naming one of its characters (the two-character escapes
 * only make quotes, slashes and control characters). One pass finds both:
 * a quote before the key's first byte, a backslash before a 'u'. */
int json_span_key_absent(const char *t, size_t len, const char *key)
{
	size_t kl = strlen(key);
	if (kl == 0 || strpbrk(key, "\"\\"))
		return 0;
	const char pairs[4] = { '"', key[0], '\\', 'u' };
	for (size_t p = json_span_pair(t, len, 0, pairs); p < len; p = json_span_pair(t, len, p + 1, pairs)) {
		if (t[p] == '"') {
			if (len - p - 1 > kl && memcmp(t + p + 1, key, kl) == 0 && t[p + 1 + kl] == '"') {
				size_t q = json_span_ws(t, len, p + kl + 2);
				if (q < len && t[q] == ':')
					return 0;
			}
			continue;
		}
		/* no four hex digits: not an escape but an escaped backslash and
		 * a 'u' ("C:\\users"); in text that is not JSON at all, jansson
		 * finds no member either */
		unsigned v = 0, d = 0;
		for (size_t k = p + 2; k < p + 6 && k < len && d < 16; k++) {
			char c = t[k];
			d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			    c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
			    c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
			v = v << 4 | d;
		}
		if (d < 16 && len - p >= 6 && v && v < 128 && memchr(key, (int)v, kl))
			return 0;
	}
	return 1;
}
