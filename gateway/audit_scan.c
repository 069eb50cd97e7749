/* The few members an audit record needs from a request or an answer (the
 * end user, the model served, the token usage), found in the JSON source
 * in one pass over the top-level object instead of building a tree per
 * request: the tree cost the gateway's loop more than the rest of the
 * record (docs/benchmarks.md, "Gateway with policy and audit").
 * Grammar: RFC 8259 sections 2-7. The caller passes text a JSON parser
 * has accepted; every step still checks its bounds, and anything this scan
 * does not compare exactly (a key with an escape, a wanted key twice, a
 * form it does not expect) returns -1 so the caller parses a tree. */
#include "config.h"

#include <string.h>

#include "gateway/audit.h"

/* RFC 8259 section 2: the four whitespace bytes. */
static size_t audit_scan_ws(const char *t, size_t len, size_t p)
{
	while (p < len && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
		p++;
	return p;
}

/* End (one past the closing quote) of the string opening at t[p], or 0;
 * *esc: it holds a backslash (its bytes are not its value). */
static size_t audit_scan_string(const char *t, size_t len, size_t p, int *esc)
{
	*esc = 0;
	/* memchr to the next quote: it ends the string unless an odd number
	 * of backslashes right before it escapes it */
	for (size_t i = p + 1; i < len;) {
		const char *q = memchr(t + i, '"', len - i);
		if (!q)
			return 0;
		size_t e = (size_t)(q - t), b = e;
		while (b > p + 1 && t[b - 1] == '\\')
			b--;
		if (!*esc && memchr(t + i, '\\', e - i))
			*esc = 1;
		if ((e - b) % 2 == 0)
			return e + 1;
		i = e + 1;
	}
	return 0;
}

/* End of the value at t[p], or 0. Containers are skipped by depth; the
 * strings inside are skipped whole so that brackets in them do not count. */
static size_t audit_scan_value(const char *t, size_t len, size_t p)
{
	int esc;
	if (p >= len)
		return 0;
	if (t[p] == '"')
		return audit_scan_string(t, len, p, &esc);
	if (t[p] == '{' || t[p] == '[') {
		size_t depth = 0;
		for (size_t i = p; i < len; i++) {
			if (t[i] == '"') {
				size_t e = audit_scan_string(t, len, i, &esc);
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
	/* number, true, false, null: up to the next delimiter */
	size_t i = p;
	while (i < len && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' &&
	    t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
		i++;
	return i > p ? i : 0;
}

int audit_scan_members(const char *t, size_t len, struct audit_scan_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m[i].found = 0, m[i].start = m[i].end = 0;
	size_t p = audit_scan_ws(t, len, 0);
	if (p >= len || t[p] != '{')
		return -1;
	p = audit_scan_ws(t, len, p + 1);
	if (p < len && t[p] == '}')
		return 0;
	for (;;) {
		int esc;
		if (p >= len || t[p] != '"')
			return -1;
		size_t ke = audit_scan_string(t, len, p, &esc);
		if (!ke || esc)
			return -1; /* "\u0075ser" is "user" too: the tree decides */
		size_t ks = p + 1, kl = ke - p - 2;
		p = audit_scan_ws(t, len, ke);
		if (p >= len || t[p] != ':')
			return -1;
		p = audit_scan_ws(t, len, p + 1);
		size_t ve = audit_scan_value(t, len, p);
		if (!ve)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (strlen(m[i].key) != kl || memcmp(t + ks, m[i].key, kl) != 0)
				continue;
			if (m[i].found)
				return -1; /* twice: jansson keeps the last, a client may read the first */
			m[i].found = 1;
			m[i].start = p;
			m[i].end = ve;
		}
		p = audit_scan_ws(t, len, ve);
		if (p < len && t[p] == ',') {
			p = audit_scan_ws(t, len, p + 1);
			continue;
		}
		if (p < len && t[p] == '}')
			return 0;
		return -1;
	}
}

int audit_scan_uint(const char *t, size_t start, size_t end, uint64_t *v)
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
