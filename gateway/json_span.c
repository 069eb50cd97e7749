/* Byte span of a value at a path in JSON source (see json_span.h).
 * Grammar: RFC 8259 sections 2-7. The input has been parsed by jansson
 * already, so only what the path needs is looked at; every step still
 * checks its bounds and returns -1 on anything unexpected. */
#include "json_span.h"

#include <stdlib.h>
#include <string.h>

/* RFC 8259 section 2: the four whitespace bytes. */
static size_t json_span_ws(const char *t, size_t len, size_t p)
{
	while (p < len && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
		p++;
	return p;
}

/* End (one past the closing quote) of the string opening at t[p], or 0.
 * *esc: the string holds a backslash (its bytes are not its value). */
static size_t json_span_string(const char *t, size_t len, size_t p, int *esc)
{
	*esc = 0;
	for (size_t i = p + 1; i < len; i++) {
		if (t[i] == '\\') {
			*esc = 1;
			i++;
			continue;
		}
		if (t[i] == '"')
			return i + 1;
	}
	return 0;
}

static int json_span_delim(char c)
{
	return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
			if (t[i] == '"') {
				size_t e = json_span_string(t, len, i, &esc);
				if (!e)
					return 0;
				i = e - 1;
			} else if (t[i] == '{' || t[i] == '[') {
				depth++;
			} else if (t[i] == '}' || t[i] == ']') {
				if (--depth == 0)
					return i + 1;
			}
		}
		return 0;
	}
	/* number, true, false, null */
	size_t i = p;
	while (i < len && !json_span_delim(t[i]))
		i++;
	return i > p ? i : 0;
}

/* The member `key` of the object at t[p]: its value's start, or 0 when it
 * is missing, there twice, or any key of this object has an escape. */
static size_t json_span_member(const char *t, size_t len, size_t p, const char *key)
{
	size_t klen = strlen(key), found = 0;
	int nfound = 0;

	if (p >= len || t[p] != '{')
		return 0;
	p = json_span_ws(t, len, p + 1);
	if (p < len && t[p] == '}')
		return 0;
	for (;;) {
		int esc;
		if (p >= len || t[p] != '"')
			return 0;
		size_t ke = json_span_string(t, len, p, &esc);
		if (!ke || esc)
			return 0;
		int match = ke - p - 2 == klen && memcmp(t + p + 1, key, klen) == 0;
		p = json_span_ws(t, len, ke);
		if (p >= len || t[p] != ':')
			return 0;
		p = json_span_ws(t, len, p + 1);
		size_t ve = json_span_value(t, len, p);
		if (!ve)
			return 0;
		if (match) {
			found = p;
			nfound++;
		}
		p = json_span_ws(t, len, ve);
		if (p < len && t[p] == ',') {
			p = json_span_ws(t, len, p + 1);
			continue;
		}
		if (p < len && t[p] == '}')
			break;
		return 0;
	}
	return nfound == 1 ? found : 0;
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

/* A cursor over the members of an object or the elements of an array. */
struct json_span_iter {
	const char *t;
	size_t len, p;
	char close;
	int done;
};

/* t[p] must be open ('{' or '['); -1 when it is not. */
static int json_span_iter_open(struct json_span_iter *it, const char *t, size_t len, size_t p, char open)
{
	if (p >= len || t[p] != open)
		return -1;
	it->t = t;
	it->len = len;
	it->close = open == '{' ? '}' : ']';
	it->p = json_span_ws(t, len, p + 1);
	it->done = it->p < len && t[it->p] == it->close;
	return 0;
}

/* The next value [*vs, *ve) (with its key [*ks, *ks + *kl) for objects,
 * quotes left out): 1; 0 at the end; -1 on anything the finder does not
 * compare (a key with an escape) or malformed text. */
static int json_span_iter_next(struct json_span_iter *it, size_t *ks, size_t *kl, size_t *vs, size_t *ve)
{
	const char *t = it->t;
	size_t len = it->len, p = it->p;
	if (it->done)
		return 0;
	if (it->close == '}') {
		int esc;
		if (p >= len || t[p] != '"')
			return -1;
		size_t ke = json_span_string(t, len, p, &esc);
		if (!ke || esc)
			return -1;
		*ks = p + 1;
		*kl = ke - p - 2;
		p = json_span_ws(t, len, ke);
		if (p >= len || t[p] != ':')
			return -1;
		p = json_span_ws(t, len, p + 1);
	}
	size_t e = json_span_value(t, len, p);
	if (!e)
		return -1;
	*vs = p;
	*ve = e;
	p = json_span_ws(t, len, e);
	if (p < len && t[p] == ',')
		p = json_span_ws(t, len, p + 1);
	else if (p < len && t[p] == it->close)
		it->done = 1;
	else
		return -1;
	it->p = p;
	return 1;
}

struct json_span_texts {
	struct json_span_text *v;
	size_t n, cap;
};

static int json_span_push(struct json_span_texts *a, const char *t, size_t vs, size_t ve,
    enum json_span_kind kind)
{
	if (t[vs] != '"')
		return 0; /* not a string: no text (as the tree walk) */
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct json_span_text *v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (struct json_span_text){vs, ve, kind};
	return 0;
}

/* Which of names[] the key [ks, ks + kl) is, or -1; a name seen twice in one
 * object (*seen) is -2: jansson keeps the last, a client may read the first. */
static int json_span_which(const char *t, size_t ks, size_t kl, const char *const *names, size_t nn,
    unsigned *seen)
{
	for (size_t i = 0; i < nn; i++)
		if (strlen(names[i]) == kl && memcmp(t + ks, names[i], kl) == 0) {
			if (*seen & (1u << i))
				return -2;
			*seen |= 1u << i;
			return (int)i;
		}
	return -1;
}

/* The object at t[p] (anything else: no text); in it, the members named in
 * names[] go to fn with their index. */
typedef int (*json_span_member_fn)(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve);

static int json_span_object(struct json_span_texts *a, const char *t, size_t len, size_t p,
    const char *const *names, size_t nn, json_span_member_fn fn)
{
	struct json_span_iter it;
	if (t[p] != '{')
		return 0;
	if (json_span_iter_open(&it, t, len, p, '{') < 0)
		return -1;
	unsigned seen = 0;
	size_t ks, kl, vs, ve;
	int r;
	while ((r = json_span_iter_next(&it, &ks, &kl, &vs, &ve)) == 1) {
		int w = json_span_which(t, ks, kl, names, nn, &seen);
		if (w == -2 || (w >= 0 && fn(a, t, len, w, vs, ve) < 0))
			return -1;
	}
	return r;
}

/* The elements of the array at t[p] (anything else: none) through fn. */
static int json_span_array(struct json_span_texts *a, const char *t, size_t len, size_t p,
    json_span_member_fn fn, int which)
{
	struct json_span_iter it;
	if (t[p] != '[')
		return 0;
	if (json_span_iter_open(&it, t, len, p, '[') < 0)
		return -1;
	size_t ks, kl, vs, ve;
	int r;
	while ((r = json_span_iter_next(&it, &ks, &kl, &vs, &ve)) == 1)
		if (fn(a, t, len, which, vs, ve) < 0)
			return -1;
	return r;
}

/* A content part: a string, or an object whose text or refusal is text. */
static int json_span_part_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	(void)len;
	(void)which;
	return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_TEXT);
}

static int json_span_part(struct json_span_texts *a, const char *t, size_t len, int which, size_t vs,
    size_t ve)
{
	static const char *const names[] = {"text", "refusal"};
	(void)which;
	if (t[vs] == '"')
		return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_TEXT);
	return json_span_object(a, t, len, vs, names, 2, json_span_part_member);
}

static int json_span_arguments(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	(void)len;
	(void)which;
	return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_JSON);
}

/* {"arguments": "..."}: a function object, or the legacy function_call. */
static int json_span_function(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	static const char *const args[] = {"arguments"};
	(void)which;
	(void)ve;
	return json_span_object(a, t, len, vs, args, 1, json_span_arguments);
}

/* A tool_calls element: {"function": {...}}. */
static int json_span_call(struct json_span_texts *a, const char *t, size_t len, int which, size_t vs,
    size_t ve)
{
	static const char *const fn[] = {"function"};
	(void)which;
	(void)ve;
	return json_span_object(a, t, len, vs, fn, 1, json_span_function);
}

/* A message or delta: content (string or parts), name, refusal,
 * tool_calls[].function.arguments, function_call.arguments
 * (policies/request_walk.c, request_walk_message). */
static int json_span_message_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	switch (which) {
	case 0: /* content */
		if (t[vs] == '[')
			return json_span_array(a, t, len, vs, json_span_part, 0);
		return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_TEXT);
	case 1: /* name */
	case 2: /* refusal */
		return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_TEXT);
	case 3: /* tool_calls */
		return json_span_array(a, t, len, vs, json_span_call, 0);
	default: /* function_call */
		return json_span_function(a, t, len, 0, vs, ve);
	}
}

static int json_span_choice_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	static const char *const names[] = {"content", "name", "refusal", "tool_calls", "function_call"};
	if (which == 2) /* text */
		return json_span_push(a, t, vs, ve, JSON_SPAN_KIND_TEXT);
	return json_span_object(a, t, len, vs, names, 5, json_span_message_member);
}

static int json_span_choice(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	static const char *const names[] = {"message", "delta", "text"};
	(void)which;
	(void)ve;
	return json_span_object(a, t, len, vs, names, 3, json_span_choice_member);
}

/* Top level: choices[] is walked; the request-side members the tree walk
 * also reads (messages, prompt, input, suffix, instructions) are not
 * expected in an answer, so their presence sends the caller to the tree. */
static int json_span_top_member(struct json_span_texts *a, const char *t, size_t len, int which,
    size_t vs, size_t ve)
{
	(void)ve;
	if (which > 0)
		return -1;
	return json_span_array(a, t, len, vs, json_span_choice, 0);
}

int json_span_answer_texts(const char *text, size_t len, struct json_span_text **out, size_t *n)
{
	static const char *const names[] = {"choices", "messages", "prompt", "input", "suffix",
	    "instructions"};
	struct json_span_texts a = {0};
	*out = NULL;
	*n = 0;
	size_t p = json_span_ws(text, len, 0);
	if (p >= len || text[p] != '{' ||
	    json_span_object(&a, text, len, p, names, 6, json_span_top_member) < 0) {
		free(a.v);
		return -1;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}
