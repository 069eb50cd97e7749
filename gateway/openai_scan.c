/* Single-pass validation of request bodies without building a JSON tree.
 *
 * Without a policy or an audit log nothing reads the parsed body: the
 * gateway forwards the client's bytes as they came. Building a jansson
 * tree (one allocation per value, wiped on free) only to throw it away
 * was the largest user-space cost per request, so this scanner walks the
 * bytes once and checks, in the same pass, both what jansson's decoder
 * accepts and the OpenAI shape that openai.c's validators check on the
 * tree. It must accept exactly what `json_loadb(..., JSON_REJECT_DUPLICATES)`
 * plus those validators accept; tests/fuzz/fuzz_openai_scan.c checks that
 * against jansson itself (libjansson 2.14, src/load.c), including its
 * corner cases:
 *   - strings: no control characters (< 0x20), escapes limited to
 *     \" \\ \/ \b \f \n \r \t \uXXXX, UTF-16 surrogates only as a
 *     high-low pair, no \u0000 anywhere (JSON_ALLOW_NUL is not set), and
 *     bytes >= 0x80 must be well-formed UTF-8 (RFC 3629: no overlongs, no
 *     surrogates, nothing above U+10FFFF);
 *   - numbers: RFC 8259 section 6 syntax; an integer must fit a long long
 *     (json_int_t) and a real must not overflow a double;
 *   - nesting: at most JSON_PARSER_MAX_DEPTH (2048) values deep, counting
 *     scalars;
 *   - one byte NUL right after a number or a literal is skipped: jansson's
 *     stream "ungets" that byte into a buffer slot whose NUL means "empty",
 *     so it reads past it. Refusing here would make the scanner stricter
 *     than the tree path, which the fuzz target would flag.
 * Objects with escaped keys or many members make the scanner decline
 * (OPENAI_SCAN_DECLINED): duplicate keys are then checked by jansson's
 * hash table instead of a linear search here. */
#include "openai.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "policies/aiact.h"

#define OPENAI_SCAN_MAX_DEPTH 2048  /* jansson_config.h: JSON_PARSER_MAX_DEPTH */
#define OPENAI_SCAN_OBJECT_KEYS 32  /* members per object checked for duplicates here */
#define OPENAI_SCAN_OPEN_KEYS 256   /* keys of all open objects together */

/* JSON value types, as bits for a shape's accepted set. */
enum openai_scan_type {
	OPENAI_SCAN_TYPE_OBJECT = 1u << 0,
	OPENAI_SCAN_TYPE_ARRAY = 1u << 1,
	OPENAI_SCAN_TYPE_STRING = 1u << 2,
	OPENAI_SCAN_TYPE_INTEGER = 1u << 3,
	OPENAI_SCAN_TYPE_REAL = 1u << 4,
	OPENAI_SCAN_TYPE_TRUE = 1u << 5,
	OPENAI_SCAN_TYPE_FALSE = 1u << 6,
	OPENAI_SCAN_TYPE_NULL = 1u << 7,
};

/* What a member's value is recorded as in struct openai_body_info, or,
 * from TEXT on, in struct openai_texts (only while one is recorded). */
enum openai_scan_capture {
	OPENAI_SCAN_CAPTURE_NONE,
	OPENAI_SCAN_CAPTURE_MODEL,
	OPENAI_SCAN_CAPTURE_STREAM,
	OPENAI_SCAN_CAPTURE_TEXT,    /* a string: a text (JSON_SPAN_KIND_TEXT) */
	OPENAI_SCAN_CAPTURE_JSON,    /* a string: JSON source (tool-call arguments) */
	OPENAI_SCAN_CAPTURE_FAIL,    /* any value: a form the record does not take */
	OPENAI_SCAN_CAPTURE_ROLE,    /* a request message's role */
	OPENAI_SCAN_CAPTURE_TYPE,    /* a request content part's type */
	OPENAI_SCAN_CAPTURE_MESSAGE, /* an element of a request's messages[] */
	OPENAI_SCAN_CAPTURE_PART,    /* an element of a request message's content[] */
};

struct openai_scan_member;

/* What a value must look like: its type, non-emptiness, the shape of an
 * array's elements and the known members of an object (others: any). */
struct openai_scan_shape {
	unsigned types;                           /* accepted enum openai_scan_type bits */
	unsigned nonempty;                        /* of those, the types that must not be empty */
	const struct openai_scan_shape *elem;     /* array elements; NULL: any value */
	const struct openai_scan_member *members; /* ends with a NULL key; NULL: none */
	unsigned required;                        /* bit i: members[i] must be present */
	int elem_capture;                         /* enum openai_scan_capture of array elements */
	/* a bit per member's name (OPENAI_SCAN_KEY_BIT of its length and
	 * first byte), so that most other keys are passed over without a
	 * compare; 0: compare all. Derived from members once, for the
	 * shapes of openai_scan_lens_shapes (openai_scan_lens_init). */
	uint64_t lens;
};

/* A key's bit in a shape's lens: its length and first byte, three bits
 * of each (a key that shares them with a name is compared, no more). */
#define OPENAI_SCAN_KEY_BIT(len, c) (UINT64_C(1) << (((len) & 7u) << 3 | ((unsigned)(c) & 7u)))

struct openai_scan_member {
	const char *key;
	size_t key_len;
	const struct openai_scan_shape *shape;
	int capture; /* enum openai_scan_capture */
};

#define OPENAI_SCAN_MEMBER(k, shape, capture) {k, sizeof k - 1, shape, capture}

/* The shapes below mirror the validators in openai.c row by row. */
static const struct openai_scan_shape openai_scan_any_string = {OPENAI_SCAN_TYPE_STRING, 0, NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_model = {OPENAI_SCAN_TYPE_STRING, OPENAI_SCAN_TYPE_STRING,
	NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_bool = {OPENAI_SCAN_TYPE_TRUE | OPENAI_SCAN_TYPE_FALSE, 0,
	NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_int_or_null = {OPENAI_SCAN_TYPE_INTEGER | OPENAI_SCAN_TYPE_NULL,
	0, NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_number_or_null = {OPENAI_SCAN_TYPE_INTEGER |
	OPENAI_SCAN_TYPE_REAL | OPENAI_SCAN_TYPE_NULL, 0, NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_int = {OPENAI_SCAN_TYPE_INTEGER, 0, NULL, NULL, 0, 0, 0};

/* The members every body route checks (openai_check_common). */
#define OPENAI_SCAN_COMMON_MEMBERS \
	OPENAI_SCAN_MEMBER("model", &openai_scan_model, OPENAI_SCAN_CAPTURE_MODEL), \
	OPENAI_SCAN_MEMBER("stream", &openai_scan_bool, OPENAI_SCAN_CAPTURE_STREAM), \
	OPENAI_SCAN_MEMBER("max_tokens", &openai_scan_int_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("max_completion_tokens", &openai_scan_int_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("n", &openai_scan_int_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("seed", &openai_scan_int_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("temperature", &openai_scan_number_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("top_p", &openai_scan_number_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("presence_penalty", &openai_scan_number_or_null, OPENAI_SCAN_CAPTURE_NONE), \
	OPENAI_SCAN_MEMBER("frequency_penalty", &openai_scan_number_or_null, OPENAI_SCAN_CAPTURE_NONE)
#define OPENAI_SCAN_COMMON_COUNT 10
#define OPENAI_SCAN_REQUIRED_MODEL (1u << 0)
#define OPENAI_SCAN_REQUIRED_OWN (1u << OPENAI_SCAN_COMMON_COUNT) /* the first route-specific member */

/* chat: messages[i] = {"role": non-empty string, "content": string, null
 * or [{"type": string, ...}, ...]} */
static const struct openai_scan_member openai_scan_part_members[] = {
	OPENAI_SCAN_MEMBER("type", &openai_scan_any_string, OPENAI_SCAN_CAPTURE_TYPE),
	/* recorded texts (json_span_request_texts): a part's text; a refusal
	 * would come after it in table order whatever the document's */
	OPENAI_SCAN_MEMBER("text", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("refusal", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_part = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL,
	openai_scan_part_members, 1u << 0, 0, 0};
static const struct openai_scan_shape openai_scan_content = {OPENAI_SCAN_TYPE_STRING | OPENAI_SCAN_TYPE_NULL |
	OPENAI_SCAN_TYPE_ARRAY, 0, &openai_scan_part, NULL, 0, OPENAI_SCAN_CAPTURE_PART, 0};
/* Besides role and content, the members the request walk reads as text
 * (name, refusal, tool-call and function_call arguments) are left to it:
 * their table order may differ from the document's. */
static const struct openai_scan_member openai_scan_message_members[] = {
	OPENAI_SCAN_MEMBER("role", &openai_scan_model, OPENAI_SCAN_CAPTURE_ROLE), /* a non-empty string too */
	OPENAI_SCAN_MEMBER("content", &openai_scan_content, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("name", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("refusal", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("tool_calls", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("function_call", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_message = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL,
	openai_scan_message_members, 1u << 0, 0, 0};
static const struct openai_scan_shape openai_scan_messages = {OPENAI_SCAN_TYPE_ARRAY, OPENAI_SCAN_TYPE_ARRAY,
	&openai_scan_message, NULL, 0, OPENAI_SCAN_CAPTURE_MESSAGE, 0};
/* The other top-level members the request walk reads are left to it. */
static const struct openai_scan_member openai_scan_chat_members[] = {
	OPENAI_SCAN_COMMON_MEMBERS,
	OPENAI_SCAN_MEMBER("messages", &openai_scan_messages, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("prompt", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("input", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("suffix", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("instructions", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("choices", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	{NULL, 0, NULL, 0},
};

/* completions: prompt = string or [string | integer | [integer, ...], ...]; the
 * element shape's elem applies only when the element is an array. */
static const struct openai_scan_shape openai_scan_prompt_elem = {OPENAI_SCAN_TYPE_STRING |
	OPENAI_SCAN_TYPE_INTEGER | OPENAI_SCAN_TYPE_ARRAY, 0, &openai_scan_int, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_prompt = {OPENAI_SCAN_TYPE_STRING | OPENAI_SCAN_TYPE_ARRAY, 0,
	&openai_scan_prompt_elem, NULL, 0, 0, 0};
static const struct openai_scan_member openai_scan_completions_members[] = {
	OPENAI_SCAN_COMMON_MEMBERS,
	OPENAI_SCAN_MEMBER("prompt", &openai_scan_prompt, OPENAI_SCAN_CAPTURE_NONE),
	{NULL, 0, NULL, 0},
};

/* embeddings: input = string or a non-empty [string | integer | array, ...] */
static const struct openai_scan_shape openai_scan_input_elem = {OPENAI_SCAN_TYPE_STRING |
	OPENAI_SCAN_TYPE_INTEGER | OPENAI_SCAN_TYPE_ARRAY, 0, NULL, NULL, 0, 0, 0};
static const struct openai_scan_shape openai_scan_input = {OPENAI_SCAN_TYPE_STRING | OPENAI_SCAN_TYPE_ARRAY,
	OPENAI_SCAN_TYPE_ARRAY, &openai_scan_input_elem, NULL, 0, 0, 0};
static const struct openai_scan_member openai_scan_embeddings_members[] = {
	OPENAI_SCAN_COMMON_MEMBERS,
	OPENAI_SCAN_MEMBER("input", &openai_scan_input, OPENAI_SCAN_CAPTURE_NONE),
	{NULL, 0, NULL, 0},
};

/* /v1/models takes no body; should one come, it is only captured. */
static const struct openai_scan_member openai_scan_models_members[] = {
	OPENAI_SCAN_MEMBER("model", NULL, OPENAI_SCAN_CAPTURE_MODEL),
	OPENAI_SCAN_MEMBER("stream", NULL, OPENAI_SCAN_CAPTURE_STREAM),
	{NULL, 0, NULL, 0},
};

/* The body of each route: an object with these members. */
static struct openai_scan_shape openai_scan_routes[OPENAI_ROUTE_COUNT] = {
	[OPENAI_ROUTE_CHAT] = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL, openai_scan_chat_members,
		OPENAI_SCAN_REQUIRED_MODEL | OPENAI_SCAN_REQUIRED_OWN, 0, 0},
	[OPENAI_ROUTE_COMPLETIONS] = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL, openai_scan_completions_members,
		OPENAI_SCAN_REQUIRED_MODEL | OPENAI_SCAN_REQUIRED_OWN, 0, 0},
	[OPENAI_ROUTE_EMBEDDINGS] = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL, openai_scan_embeddings_members,
		OPENAI_SCAN_REQUIRED_MODEL | OPENAI_SCAN_REQUIRED_OWN, 0, 0},
	[OPENAI_ROUTE_MODELS] = {OPENAI_SCAN_TYPE_OBJECT, 0, NULL, openai_scan_models_members, 0, 0, 0},
};

/* An answer (openai_scan_json_texts): the fields json_span_answer_texts
 * reads, in document order as it gives them. Every shape accepts every
 * type, so validation is the same as with no shape; members and elements
 * only say what is recorded. Members the walk compares but does not record
 * (role, type) are listed too: the walk declines a wanted key twice. */
#define OPENAI_SCAN_TYPE_ANY 0xFFu
static const struct openai_scan_member openai_scan_answer_function_members[] = {
	OPENAI_SCAN_MEMBER("arguments", NULL, OPENAI_SCAN_CAPTURE_JSON),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer_function = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_function_members, 0, 0, 0};
static const struct openai_scan_member openai_scan_answer_call_members[] = {
	OPENAI_SCAN_MEMBER("function", &openai_scan_answer_function, OPENAI_SCAN_CAPTURE_NONE),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer_call = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_call_members, 0, 0, 0};
static const struct openai_scan_shape openai_scan_answer_calls = {OPENAI_SCAN_TYPE_ANY, 0,
	&openai_scan_answer_call, NULL, 0, 0, 0};
static const struct openai_scan_member openai_scan_answer_part_members[] = {
	OPENAI_SCAN_MEMBER("text", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("refusal", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("type", NULL, OPENAI_SCAN_CAPTURE_NONE),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer_part = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_part_members, 0, 0, 0};
/* content: a string, or parts, each a string or an object */
static const struct openai_scan_shape openai_scan_answer_content = {OPENAI_SCAN_TYPE_ANY, 0,
	&openai_scan_answer_part, NULL, 0, OPENAI_SCAN_CAPTURE_TEXT, 0};
static const struct openai_scan_member openai_scan_answer_message_members[] = {
	OPENAI_SCAN_MEMBER("content", &openai_scan_answer_content, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("name", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("refusal", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	OPENAI_SCAN_MEMBER("tool_calls", &openai_scan_answer_calls, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("function_call", &openai_scan_answer_function, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("role", NULL, OPENAI_SCAN_CAPTURE_NONE),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer_message = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_message_members, 0, 0, 0};
static const struct openai_scan_member openai_scan_answer_choice_members[] = {
	OPENAI_SCAN_MEMBER("message", &openai_scan_answer_message, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("delta", &openai_scan_answer_message, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("text", NULL, OPENAI_SCAN_CAPTURE_TEXT),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer_choice = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_choice_members, 0, 0, 0};
static const struct openai_scan_shape openai_scan_answer_choices = {OPENAI_SCAN_TYPE_ANY, 0,
	&openai_scan_answer_choice, NULL, 0, 0, 0};
/* request members at the top send the walk to the tree */
static const struct openai_scan_member openai_scan_answer_members[] = {
	OPENAI_SCAN_MEMBER("choices", &openai_scan_answer_choices, OPENAI_SCAN_CAPTURE_NONE),
	OPENAI_SCAN_MEMBER("messages", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("prompt", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("input", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("suffix", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	OPENAI_SCAN_MEMBER("instructions", NULL, OPENAI_SCAN_CAPTURE_FAIL),
	{NULL, 0, NULL, 0},
};
static struct openai_scan_shape openai_scan_answer = {OPENAI_SCAN_TYPE_ANY, 0, NULL,
	openai_scan_answer_members, 0, 0, 0};

struct openai_scan_key {
	const char *p;
	size_t len;
};

struct openai_scan {
	const unsigned char *p, *end;
	size_t depth;
	int dups;                  /* refuse duplicate keys (JSON_REJECT_DUPLICATES) */
	struct openai_body_info *info;
	const char *model;         /* raw model string (between the quotes) */
	size_t model_len;
	int model_escaped;
	size_t n_keys;             /* keys of the open objects, innermost last */
	/* The texts being recorded (NULL: none), and the request message
	 * and part they are in (messages do not nest in a request's shape). */
	struct openai_texts *rec;
	int in_message;            /* texts pushed now are instructions until the role says otherwise */
	int role_instr;            /* the message's role is an instruction role */
	int part_kind;             /* the part's type: aiact_part_kind, -1 none */
	size_t msg_from, part_from; /* first text of the message, of the part */
	unsigned msg_media;        /* media parts of the message */
	struct openai_scan_key keys[OPENAI_SCAN_OPEN_KEYS];
	/* Members of the top object to report (openai_scan_json_members;
	 * NULL: none), offsets from top_base; top_declined when they cannot
	 * be read raw (an escaped key, a wanted key twice). */
	struct json_span_member *top;
	size_t n_top;
	const unsigned char *top_base;
	int top_declined;
};

static int openai_scan_value(struct openai_scan *s, const struct openai_scan_shape *sh, int capture);

static void openai_scan_ws(struct openai_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int openai_scan_hex4(const unsigned char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* One well-formed UTF-8 sequence of 2-4 bytes at p (RFC 3629 section 4);
 * returns its length or 0. */
static size_t openai_scan_utf8(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* Does any of the 8 bytes at p need a closer look inside a string: a
 * control character, a quote, a backslash or a byte >= 0x80? The tests
 * are the exact "some byte < n" and "some byte is zero" word tricks
 * (Hacker's Delight, 6-1), so no byte is missed and a hit only sends the
 * caller to its byte loop. */
static int openai_scan_special8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t x;
	memcpy(&x, p, 8);
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
	uint64_t hit = ((x - ones * 0x20) & ~x) | x | ((q - ones) & ~q) | ((b - ones) & ~b);
	return (hit & high) != 0;
}

/* A string, s->p at its opening quote. Sets the raw span between the quotes. */
static int openai_scan_string(struct openai_scan *s, const char **raw, size_t *raw_len, int *escaped)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	*escaped = 0;
	for (;;) {
		/* The common case first: printable ASCII, 16 bytes at a time
		 * with SSE2 (a signed compare below 0x20 also takes the bytes
		 * >= 0x80), then 8 at a time, then bytes near the end. */
		int at_special = 0;
#if defined(__SSE2__)
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
		while (end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
						  _mm_cmplt_epi8(x, space));
			unsigned m = (unsigned)_mm_movemask_epi8(sp);
			if (m) {
				p += __builtin_ctz(m);
				at_special = 1;
				break;
			}
			p += 16;
		}
#endif
		if (!at_special) {
			while (end - p >= 8 && !openai_scan_special8(p))
				p += 8;
			while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
				p++;
		}
		if (p >= end)
			return OPENAI_SCAN_INVALID;
		unsigned c = *p;
		if (c == '"')
			break;
		if (c < 0x20)
			return OPENAI_SCAN_INVALID;
		if (c >= 0x80) {
			size_t n = openai_scan_utf8(p, end);
			if (!n)
				return OPENAI_SCAN_INVALID;
			p += n;
			continue;
		}
		/* A backslash. */
		*escaped = 1;
		if (end - p < 2)
			return OPENAI_SCAN_INVALID;
		c = p[1];
		if (c != 'u') {
			if (!memchr("\"\\/bfnrt", (int)c, 8))
				return OPENAI_SCAN_INVALID;
			p += 2;
			continue;
		}
		if (end - p < 6)
			return OPENAI_SCAN_INVALID;
		int v = openai_scan_hex4(p + 2);
		p += 6;
		if (v <= 0) /* bad hex, or \u0000 */
			return OPENAI_SCAN_INVALID;
		if (v >= 0xDC00 && v <= 0xDFFF) /* a low surrogate alone */
			return OPENAI_SCAN_INVALID;
		if (v >= 0xD800 && v <= 0xDBFF) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return OPENAI_SCAN_INVALID;
			int lo = openai_scan_hex4(p + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return OPENAI_SCAN_INVALID;
			p += 6;
		}
	}
	*raw = (const char *)s->p + 1;
	*raw_len = (size_t)(p - (s->p + 1));
	s->p = p + 1;
	return OPENAI_SCAN_VALID;
}

static int openai_scan_isdigit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* A number: its syntax, then the range jansson enforces (strtoll's for
 * integers, no overflow to HUGE_VAL for reals). */
static int openai_scan_number(struct openai_scan *s, unsigned *type)
{
	const unsigned char *start = s->p, *p = s->p, *end = s->end;
	if (*p == '-')
		p++;
	const unsigned char *digits = p;
	if (p < end && *p == '0') {
		p++;
		if (openai_scan_isdigit(p, end))
			return OPENAI_SCAN_INVALID;
	} else if (openai_scan_isdigit(p, end)) {
		while (openai_scan_isdigit(p, end))
			p++;
	} else {
		return OPENAI_SCAN_INVALID;
	}
	size_t n_int = (size_t)(p - digits);
	int real = 0;
	if (p < end && *p == '.') {
		p++;
		if (!openai_scan_isdigit(p, end))
			return OPENAI_SCAN_INVALID;
		while (openai_scan_isdigit(p, end))
			p++;
		real = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!openai_scan_isdigit(p, end))
			return OPENAI_SCAN_INVALID;
		while (openai_scan_isdigit(p, end))
			p++;
		real = 1;
	}
	size_t len = (size_t)(p - start);
	s->p = p;
	if (!real) {
		*type = OPENAI_SCAN_TYPE_INTEGER;
		if (n_int < 19) /* below 10^18: fits */
			return OPENAI_SCAN_VALID;
		if (n_int > 19) /* no leading zeros: at least 10^19 */
			return OPENAI_SCAN_INVALID;
		char buf[24];
		memcpy(buf, start, len);
		buf[len] = 0;
		errno = 0;
		(void)strtoll(buf, NULL, 10);
		return errno == ERANGE ? OPENAI_SCAN_INVALID : OPENAI_SCAN_VALID;
	}
	*type = OPENAI_SCAN_TYPE_REAL;
	char small[64], *buf = len < sizeof small ? small : malloc(len + 1);
	if (!buf)
		return OPENAI_SCAN_DECLINED;
	memcpy(buf, start, len);
	buf[len] = 0;
	errno = 0;
	double d = strtod(buf, NULL);
	int overflow = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
	if (buf != small)
		free(buf);
	return overflow ? OPENAI_SCAN_INVALID : OPENAI_SCAN_VALID;
}

/* true, false or null: jansson reads the whole run of letters first. */
static int openai_scan_literal(struct openai_scan *s, unsigned *type)
{
	static const struct {
		const char *word;
		size_t len;
		unsigned type;
	} words[] = {
		{"true", 4, OPENAI_SCAN_TYPE_TRUE},
		{"false", 5, OPENAI_SCAN_TYPE_FALSE},
		{"null", 4, OPENAI_SCAN_TYPE_NULL},
	};
	const unsigned char *p = s->p;
	while (p < s->end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		p++;
	size_t len = (size_t)(p - s->p);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (len == words[i].len && memcmp(s->p, words[i].word, len) == 0) {
			*type = words[i].type;
			s->p = p;
			return OPENAI_SCAN_VALID;
		}
	return OPENAI_SCAN_INVALID;
}

/* A member of the top object was read (its value at vstart, up to s->p):
 * noted where it is wanted, as json_span_members would note it. */
static void openai_scan_top_member(struct openai_scan *s, const char *key, size_t key_len, int escaped,
				   const unsigned char *vstart)
{
	if (escaped) {
		s->top_declined = 1; /* "\u0075ser" is "user" too */
		return;
	}
	for (size_t i = 0; i < s->n_top; i++) {
		const char *k = s->top[i].key;
		size_t j = 0;
		while (j < key_len && k[j] && k[j] == key[j])
			j++;
		if (j != key_len || k[key_len])
			continue;
		if (s->top[i].found)
			s->top_declined = 1; /* twice: jansson keeps the last, a client may read the first */
		s->top[i].found = 1;
		s->top[i].start = (size_t)(vstart - s->top_base);
		s->top[i].end = (size_t)(s->p - s->top_base);
	}
}

static int openai_scan_object(struct openai_scan *s, const struct openai_scan_shape *sh)
{
	size_t base = s->n_keys;
	unsigned found = 0;
	int rc = OPENAI_SCAN_INVALID;
	s->p++;
	openai_scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		goto done;
	}
	for (;;) {
		const char *key;
		size_t key_len;
		int escaped;
		if (s->p >= s->end || *s->p != '"' || openai_scan_string(s, &key, &key_len, &escaped) != 0)
			goto out;
		if (s->dups) {
			/* Escaped keys would need decoding before comparing; big
			 * objects a hash table: both are left to jansson. */
			if (escaped || s->n_keys - base >= OPENAI_SCAN_OBJECT_KEYS || s->n_keys >= OPENAI_SCAN_OPEN_KEYS) {
				rc = OPENAI_SCAN_DECLINED;
				goto out;
			}
			for (size_t i = base; i < s->n_keys; i++)
				if (s->keys[i].len == key_len && memcmp(s->keys[i].p, key, key_len) == 0)
					goto out;
			s->keys[s->n_keys].p = key;
			s->keys[s->n_keys].len = key_len;
			s->n_keys++;
		}
		openai_scan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			goto out;
		s->p++;
		openai_scan_ws(s);
		/* Member rules exist only where keys are compared raw (dups
		 * mode declines escaped keys above). */
		const struct openai_scan_member *m = NULL;
		size_t mi = 0;
		if (sh && sh->members) {
			if (!sh->lens || (sh->lens & OPENAI_SCAN_KEY_BIT(key_len, key[0])))
				for (mi = 0; sh->members[mi].key; mi++)
					/* the first byte first: most names differ there,
					 * and a memcmp call costs more than a short key */
					if (sh->members[mi].key_len == key_len && sh->members[mi].key[0] == key[0] &&
					    memcmp(sh->members[mi].key, key, key_len) == 0) {
						m = &sh->members[mi];
						break;
					}
			/* The walks decline an object they read that has an
			 * escaped key or a wanted key twice (answers: no dups
			 * mode); so does the record. */
			if (s->rec && (escaped || (m && (found & 1u << mi))))
				s->rec->ok = 0;
		}
		const unsigned char *vstart = s->p;
		int vrc = openai_scan_value(s, m ? m->shape : NULL, m ? m->capture : OPENAI_SCAN_CAPTURE_NONE);
		if (vrc != OPENAI_SCAN_VALID) {
			rc = vrc;
			goto out;
		}
		if (s->top && s->depth == 1)
			openai_scan_top_member(s, key, key_len, escaped, vstart);
		if (m)
			found |= 1u << mi;
		openai_scan_ws(s);
		if (s->p >= s->end)
			goto out;
		if (*s->p == '}') {
			s->p++;
			break;
		}
		if (*s->p != ',')
			goto out;
		s->p++;
		openai_scan_ws(s);
	}
done:
	if (!sh || (found & sh->required) == sh->required)
		rc = OPENAI_SCAN_VALID;
out:
	s->n_keys = base;
	return rc;
}

static int openai_scan_array(struct openai_scan *s, const struct openai_scan_shape *sh, size_t *count)
{
	size_t n = 0;
	s->p++;
	openai_scan_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		*count = 0;
		return OPENAI_SCAN_VALID;
	}
	for (;;) {
		int rc = openai_scan_value(s, sh ? sh->elem : NULL, sh ? sh->elem_capture : OPENAI_SCAN_CAPTURE_NONE);
		if (rc != OPENAI_SCAN_VALID)
			return rc;
		n++;
		openai_scan_ws(s);
		if (s->p >= s->end)
			return OPENAI_SCAN_INVALID;
		if (*s->p == ']') {
			s->p++;
			*count = n;
			return OPENAI_SCAN_VALID;
		}
		if (*s->p != ',')
			return OPENAI_SCAN_INVALID;
		s->p++;
		openai_scan_ws(s);
	}
}

/* The texts v[from, n) are not instructions after all (json_span.c,
 * json_span_unscreen). */
static void openai_scan_unscreen(struct openai_texts *t, size_t from)
{
	for (size_t k = from; k < t->n; k++)
		t->v[k].instruction = 0;
}

/* An object recorded as a request message or content part: what the
 * request walk (json_span_request_message, json_span_part) does before
 * and after it. Messages do not nest inside one another in a request's
 * shape. (Two hooks around the one call of openai_scan_object, which the
 * compiler then keeps inline.) */
static void openai_scan_record_open(struct openai_scan *s, int capture)
{
	if (capture == OPENAI_SCAN_CAPTURE_MESSAGE) {
		s->in_message = 1;
		s->role_instr = 1; /* no role counts as an instruction role */
		s->msg_media = 0;
		s->msg_from = s->rec->n;
	} else {
		s->part_kind = -1;
		s->part_from = s->rec->n;
	}
}

static void openai_scan_record_close(struct openai_scan *s, int capture)
{
	struct openai_texts *t = s->rec;
	if (capture == OPENAI_SCAN_CAPTURE_MESSAGE) {
		s->in_message = 0;
		if (s->role_instr)
			t->media |= s->msg_media;
		else
			openai_scan_unscreen(t, s->msg_from);
	} else if (s->in_message) {
		if (s->part_kind != 0)
			openai_scan_unscreen(t, s->part_from);
		if (s->part_kind > 0)
			s->msg_media |= (unsigned)s->part_kind;
	}
}

static int openai_scan_value_rec(struct openai_scan *s, const struct openai_scan_shape *sh, int capture);

static int openai_scan_value(struct openai_scan *s, const struct openai_scan_shape *sh, int capture)
{
	/* a value the record wants: out of line, so that validating without
	 * a record costs one compare per value */
	if (capture >= OPENAI_SCAN_CAPTURE_TEXT && s->rec && s->rec->ok)
		return openai_scan_value_rec(s, sh, capture);
	if (++s->depth > OPENAI_SCAN_MAX_DEPTH || s->p >= s->end)
		return OPENAI_SCAN_INVALID;
	unsigned type;
	int empty = 0, rc;
	unsigned c = *s->p;
	if (c == '{') {
		type = OPENAI_SCAN_TYPE_OBJECT;
		if (sh && !(sh->types & type))
			return OPENAI_SCAN_INVALID;
		rc = openai_scan_object(s, sh);
	} else if (c == '[') {
		type = OPENAI_SCAN_TYPE_ARRAY;
		if (sh && !(sh->types & type))
			return OPENAI_SCAN_INVALID;
		size_t n = 0;
		rc = openai_scan_array(s, sh, &n);
		empty = n == 0;
	} else if (c == '"') {
		const char *raw;
		size_t raw_len;
		int escaped;
		type = OPENAI_SCAN_TYPE_STRING;
		rc = openai_scan_string(s, &raw, &raw_len, &escaped);
		empty = raw_len == 0;
		if (rc == OPENAI_SCAN_VALID && capture == OPENAI_SCAN_CAPTURE_MODEL) {
			s->model = raw;
			s->model_len = raw_len;
			s->model_escaped = escaped;
		}
	} else {
		if (c == '-' || (c >= '0' && c <= '9'))
			rc = openai_scan_number(s, &type);
		else
			rc = openai_scan_literal(s, &type);
		/* jansson skips a NUL that ends a number or a literal (see the
		 * comment at the top). */
		if (rc == OPENAI_SCAN_VALID && s->p < s->end && *s->p == 0)
			s->p++;
		if (rc == OPENAI_SCAN_VALID && capture == OPENAI_SCAN_CAPTURE_STREAM)
			s->info->stream = type == OPENAI_SCAN_TYPE_TRUE;
	}
	if (rc != OPENAI_SCAN_VALID)
		return rc;
	if (sh && (!(sh->types & type) || (empty && (sh->nonempty & type))))
		return OPENAI_SCAN_INVALID;
	s->depth--;
	return OPENAI_SCAN_VALID;
}

/* A value the record wants (capture >= OPENAI_SCAN_CAPTURE_TEXT, s->rec
 * ok): validated by openai_scan_value as any other, recorded around it. A
 * string value ends right after its closing quote. */
static int openai_scan_value_rec(struct openai_scan *s, const struct openai_scan_shape *sh, int capture)
{
	struct openai_texts *t = s->rec;
	const unsigned char *start = s->p;
	int rc;
	if (start >= s->end)
		return OPENAI_SCAN_INVALID;
	switch (capture) {
	case OPENAI_SCAN_CAPTURE_MESSAGE:
	case OPENAI_SCAN_CAPTURE_PART:
		if (*start != '{')
			break;
		openai_scan_record_open(s, capture);
		rc = openai_scan_value(s, sh, OPENAI_SCAN_CAPTURE_NONE);
		if (rc == OPENAI_SCAN_VALID)
			openai_scan_record_close(s, capture);
		return rc;
	case OPENAI_SCAN_CAPTURE_FAIL:
		t->ok = 0;
		break;
	default:
		if (*start != '"')
			break;
		/* openai_scan_value's string case, without a second call */
		if (++s->depth > OPENAI_SCAN_MAX_DEPTH)
			return OPENAI_SCAN_INVALID;
		const char *raw;
		size_t raw_len;
		int escaped;
		rc = openai_scan_string(s, &raw, &raw_len, &escaped);
		if (rc != OPENAI_SCAN_VALID)
			return rc;
		if (sh && (!(sh->types & OPENAI_SCAN_TYPE_STRING) ||
		    (raw_len == 0 && (sh->nonempty & OPENAI_SCAN_TYPE_STRING))))
			return OPENAI_SCAN_INVALID;
		s->depth--;
		if (capture == OPENAI_SCAN_CAPTURE_TEXT || capture == OPENAI_SCAN_CAPTURE_JSON) {
			if (t->n == OPENAI_TEXTS_MAX) {
				t->ok = 0;
				return rc;
			}
			t->v[t->n++] = (struct json_span_text){(size_t)((const char *)start - t->src),
			    (size_t)((const char *)s->p - t->src),
			    capture == OPENAI_SCAN_CAPTURE_JSON ? JSON_SPAN_KIND_JSON : JSON_SPAN_KIND_TEXT,
			    s->in_message, escaped};
		} else if (escaped) {
			t->ok = 0; /* a role or type the screener compares decoded: the walk decides */
		} else if (capture == OPENAI_SCAN_CAPTURE_ROLE) {
			s->role_instr = aiact_role_instruction(raw, raw_len);
		} else {
			s->part_kind = aiact_part_kind(raw, raw_len);
		}
		return rc;
	}
	return openai_scan_value(s, sh, OPENAI_SCAN_CAPTURE_NONE);
}

static int openai_scan_document(struct openai_scan *s, const struct openai_scan_shape *sh)
{
	openai_scan_ws(s);
	/* Like json_loadb without JSON_DECODE_ANY: an object or an array. */
	if (s->p >= s->end || (*s->p != '{' && *s->p != '['))
		return OPENAI_SCAN_INVALID;
	int rc = openai_scan_value(s, sh, OPENAI_SCAN_CAPTURE_NONE);
	if (rc != OPENAI_SCAN_VALID)
		return rc;
	openai_scan_ws(s);
	return s->p == s->end ? OPENAI_SCAN_VALID : OPENAI_SCAN_INVALID;
}

/* The shapes whose members are looked up often enough to carry lens
 * (the chat body, its messages and parts, the answer's objects). */
static struct openai_scan_shape *const openai_scan_lens_shapes[] = {
	&openai_scan_routes[OPENAI_ROUTE_CHAT], &openai_scan_message, &openai_scan_part,
	&openai_scan_answer, &openai_scan_answer_choice, &openai_scan_answer_message, &openai_scan_answer_part,
	&openai_scan_answer_call, &openai_scan_answer_function,
};

static pthread_once_t openai_scan_lens_once = PTHREAD_ONCE_INIT;

static void openai_scan_lens_init(void)
{
	for (size_t i = 0; i < sizeof openai_scan_lens_shapes / sizeof openai_scan_lens_shapes[0]; i++) {
		uint64_t lens = 0;
		for (const struct openai_scan_member *m = openai_scan_lens_shapes[i]->members; m && m->key; m++)
			lens |= OPENAI_SCAN_KEY_BIT(m->key_len, m->key[0]);
		openai_scan_lens_shapes[i]->lens = lens;
	}
}

int openai_scan_tables_check(char *err, size_t errlen)
{
	pthread_once(&openai_scan_lens_once, openai_scan_lens_init);
	for (size_t i = 0; i < sizeof openai_scan_lens_shapes / sizeof openai_scan_lens_shapes[0]; i++) {
		const struct openai_scan_shape *sh = openai_scan_lens_shapes[i];
		uint64_t want = 0;
		for (const struct openai_scan_member *m = sh->members; m && m->key; m++) {
			if (m->key_len == 0 || m->key_len != strlen(m->key)) {
				snprintf(err, errlen, "shape %zu: member \"%s\" has a wrong length", i, m->key);
				return -1;
			}
			want |= OPENAI_SCAN_KEY_BIT(m->key_len, m->key[0]);
		}
		if (sh->lens != want) {
			snprintf(err, errlen, "shape %zu: lens %#llx, its members give %#llx", i,
			    (unsigned long long)sh->lens, (unsigned long long)want);
			return -1;
		}
	}
	return 0;
}

size_t openai_json_quote(const char *text, size_t len, char *out, size_t out_size)
{
	/* json_dumps(json_stringn(text, len), JSON_ENCODE_ANY): the same
	 * UTF-8 test as json_stringn (openai_scan_utf8 is jansson's), the
	 * two-letter escapes where JSON has one, \u%04X for the other
	 * control characters, every other character as it is. */
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t o = 0;
	if (out_size < 2)
		return (size_t)-1;
	out[o++] = '"';
	while (p < end) {
		unsigned c = *p;
		if (c >= 0x80) {
			size_t n = openai_scan_utf8(p, end);
			if (!n || out_size - o < n + 1)
				return (size_t)-1;
			memcpy(out + o, p, n);
			o += n;
			p += n;
			continue;
		}
		char e = 0;
		switch (c) {
		case '"': e = '"'; break;
		case '\\': e = '\\'; break;
		case '\b': e = 'b'; break;
		case '\f': e = 'f'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		default: break;
		}
		if (e) {
			if (out_size - o < 3)
				return (size_t)-1;
			out[o++] = '\\';
			out[o++] = e;
		} else if (c < 0x20) {
			if (out_size - o < 7)
				return (size_t)-1;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
		} else {
			if (out_size - o < 2)
				return (size_t)-1;
			out[o++] = (char)c;
		}
		p++;
	}
	out[o++] = '"';
	return o;
}

size_t openai_scan_unescape(const char *raw, size_t raw_len, char *out, size_t out_size)
{
	const unsigned char *p = (const unsigned char *)raw, *end = p + raw_len;
	size_t n = 0;
	while (p < end) {
		uint32_t v;
		if (*p != '\\') {
			v = *p++;
			if (n >= out_size)
				return (size_t)-1;
			out[n++] = (char)v;
			continue;
		}
		if (end - p < 2)
			return (size_t)-1;
		unsigned c = p[1];
		if (c != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *f = memchr(from, (int)c, sizeof from - 1);
			if (!f || n >= out_size)
				return (size_t)-1;
			out[n++] = to[f - from];
			p += 2;
			continue;
		}
		int hi = end - p >= 6 ? openai_scan_hex4(p + 2) : -1;
		if (hi < 0)
			return (size_t)-1;
		p += 6;
		v = (uint32_t)hi;
		if (hi >= 0xD800 && hi <= 0xDBFF) {
			int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? openai_scan_hex4(p + 2) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return (size_t)-1;
			p += 6;
			v = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
		}
		/* UTF-8 encoding, RFC 3629 section 3. */
		size_t k = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;
		if (k > out_size - n)
			return (size_t)-1;
		if (k == 1) {
			out[n++] = (char)v;
		} else {
			static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
			for (size_t i = k - 1; i > 0; i--) {
				out[n + i] = (char)(0x80 | (v & 0x3F));
				v >>= 6;
			}
			out[n] = (char)(lead[k] | v);
			n += k;
		}
	}
	return n;
}

/* Starts a record of the texts in buf[0..len): ok until the pass meets a
 * form it does not take. */
/* The scan state for one document; the open keys need no zeroing (each
 * is written before it is read) and the callers set what they record. */
static void openai_scan_begin(struct openai_scan *s, const char *buf, size_t len, struct openai_body_info *info,
    int dups)
{
	pthread_once(&openai_scan_lens_once, openai_scan_lens_init);
	s->p = (const unsigned char *)buf;
	s->end = s->p + len;
	s->depth = 0;
	s->dups = dups;
	s->info = info;
	s->model = NULL;
	s->model_len = 0;
	s->model_escaped = 0;
	s->n_keys = 0;
	s->rec = NULL;
	s->top = NULL;
}

static void openai_scan_record_start(struct openai_scan *s, struct openai_texts *t, const char *buf, size_t len,
    int ok)
{
	s->rec = t;
	if (!t)
		return;
	s->in_message = 0;
	s->role_instr = 1;
	s->part_kind = -1;
	s->msg_from = s->part_from = 0;
	s->msg_media = 0;
	t->ok = ok;
	t->src = buf;
	t->len = len;
	t->n = 0;
	t->media = 0;
}

static int openai_scan_body_rec(int route, const char *body, size_t len, struct openai_body_info *info,
    struct openai_texts *texts)
{
	memset(info, 0, sizeof *info);
	if (texts)
		texts->ok = 0;
	if (route < 0 || route >= OPENAI_ROUTE_COUNT || !body || !len)
		return OPENAI_SCAN_INVALID; /* jansson refuses an empty document too */
	struct openai_scan s;
	openai_scan_begin(&s, body, len, info, 1);
	/* Only the chat route's shape records texts (a request walk must
	 * also see an object at the top, which the route shapes demand). */
	openai_scan_record_start(&s, texts, body, len, route == OPENAI_ROUTE_CHAT);
	int rc = openai_scan_document(&s, &openai_scan_routes[route]);
	if (rc != OPENAI_SCAN_VALID && texts)
		texts->ok = 0;
	if (rc != OPENAI_SCAN_VALID) {
		info->stream = 0;
		return rc;
	}
	if (s.model && !s.model_escaped) {
		info->model = s.model;
		info->model_len = s.model_len;
	} else if (s.model) {
		size_t n = openai_scan_unescape(s.model, s.model_len, info->model_buf, sizeof info->model_buf - 1);
		if (n != (size_t)-1) {
			info->model_buf[n] = 0;
			info->model = info->model_buf;
			info->model_len = n;
		}
	}
	return OPENAI_SCAN_VALID;
}

int openai_scan_body(int route, const char *body, size_t len, struct openai_body_info *info)
{
	return openai_scan_body_rec(route, body, len, info, NULL);
}

int openai_scan_body_texts(int route, const char *body, size_t len, struct openai_body_info *info,
    struct openai_texts *texts)
{
	return openai_scan_body_rec(route, body, len, info, texts);
}

int openai_scan_json_texts(const char *buf, size_t len, struct openai_texts *texts)
{
	struct openai_scan s;
	struct openai_body_info info;
	if (texts)
		texts->ok = 0;
	if (!buf || !len) /* evbuffer_pullup of an empty buffer gives NULL */
		return -1;
	openai_scan_begin(&s, buf, len, &info, 0);
	/* The answer walk takes an object at the top only; with a record the
	 * answer's shapes say what to record (they accept every type, so the
	 * verdict is the same). */
	if (texts) {
		size_t i = 0;
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
			i++;
		openai_scan_record_start(&s, texts, buf, len, i < len && buf[i] == '{');
	}
	int rc = openai_scan_document(&s, texts ? &openai_scan_answer : NULL);
	if (rc != OPENAI_SCAN_VALID) {
		if (texts)
			texts->ok = 0;
		return -1;
	}
	return 0;
}

int openai_scan_json(const char *buf, size_t len)
{
	return openai_scan_json_texts(buf, len, NULL);
}

int openai_scan_json_members(const char *buf, size_t len, struct json_span_member *m, size_t n)
{
	struct openai_scan s;
	struct openai_body_info info;
	for (size_t i = 0; i < n; i++)
		m[i].found = 0, m[i].start = m[i].end = 0;
	if (!buf || !len)
		return -1;
	openai_scan_begin(&s, buf, len, &info, 0);
	s.top = m;
	s.n_top = n;
	s.top_base = s.p;
	s.top_declined = 0;
	if (openai_scan_document(&s, NULL) != OPENAI_SCAN_VALID)
		return -1;
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	return s.top_declined || buf[i] != '{' ? 1 : 0;
}
