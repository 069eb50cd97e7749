/* Byte span of a value at a path in JSON source (see json_span.h).
 * Grammar: RFC 8259 sections 2-7. The input has been parsed by jansson
 * already, so only what the path needs is looked at; every step still
 * checks its bounds and returns -1 on anything unexpected. */
#include "json_span.h"

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
