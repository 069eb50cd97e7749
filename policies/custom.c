/* Custom detectors declared in policy files: literal lists (customer names,
 * project code names; ASCII case-insensitive, word-bounded) and patterns in
 * a small language that cannot backtrack:
 *
 *   pattern  = prefix item*          prefix: >= 2 literal bytes, matched exactly
 *   item     = atom [ "{" n "}" | "{" n "," m "}" | "?" ]   0 <= n <= m <= 64, m >= 1
 *   atom     = byte | "\" special | "\d" | "\a" | "\w" | "\u" | "\l" | "[" set "]"
 *   set      = ( byte | byte "-" byte | "\" special | "\d" | "\a" | "\w" | "\u" | "\l" )+
 *
 * \d digit, \a ASCII letter, \w letter or digit, \u upper, \l lower. Every
 * item is matched possessively (it takes as many bytes as it can, up to m,
 * and never gives them back), so a match costs at most the pattern's total
 * count, whatever the text. The prefix is what the scan looks for; the
 * match must start and end on a word boundary. */
#include "policies/policy-int.h"
#include "policies/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int custom_is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '_' || c >= 0x80;
}

static unsigned char custom_fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static void custom_set_add(uint8_t *set, unsigned char lo, unsigned char hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int custom_set_has(const uint8_t *set, unsigned char c)
{
	return (set[c >> 3] >> (c & 7)) & 1;
}

/* Named classes after a backslash. */
static const struct {
	char name;
	const char *ranges; /* pairs lo,hi */
} custom_classes[] = {
	{ 'd', "09" },
	{ 'a', "AZaz" },
	{ 'w', "AZaz09" },
	{ 'u', "AZ" },
	{ 'l', "az" },
};

static const char custom_specials[] = "\\[]{}?-";

/* Parses a backslash escape at src[*i] (just after the '\') into set. */
static int custom_parse_escape(const char *src, size_t len, size_t *i, uint8_t *set,
			       int *single, char *err, size_t errlen)
{
	if (*i >= len) {
		snprintf(err, errlen, "pattern ends after '\\'");
		return -1;
	}
	char c = src[(*i)++];
	for (size_t k = 0; k < sizeof custom_classes / sizeof custom_classes[0]; k++) {
		if (custom_classes[k].name != c)
			continue;
		for (const char *r = custom_classes[k].ranges; *r; r += 2)
			custom_set_add(set, (unsigned char)r[0], (unsigned char)r[1]);
		*single = 0;
		return 0;
	}
	if (!strchr(custom_specials, c) || c == '\0') {
		snprintf(err, errlen, "pattern byte %zu: unknown escape '\\%c' (use \\d \\a \\w \\u \\l or escape one of \\ [ ] { } ? -)",
			 *i - 1, c >= 0x20 && c < 0x7f ? c : '?');
		return -1;
	}
	custom_set_add(set, (unsigned char)c, (unsigned char)c);
	*single = 1;
	return 0;
}

static int custom_parse_bracket(const char *src, size_t len, size_t *i, uint8_t *set,
				char *err, size_t errlen)
{
	size_t open = *i - 1;
	int members = 0;
	while (*i < len && src[*i] != ']') {
		unsigned char lo = (unsigned char)src[*i];
		int single = 1;
		if (lo == '\\') {
			(*i)++;
			uint8_t tmp[32] = { 0 };
			if (custom_parse_escape(src, len, i, tmp, &single, err, errlen) < 0)
				return -1;
			for (int k = 0; k < 32; k++)
				set[k] |= tmp[k];
			members++;
			continue;
		}
		if (lo == '[') {
			snprintf(err, errlen, "pattern byte %zu: '[' inside a set (escape it)", *i);
			return -1;
		}
		(*i)++;
		if (*i + 1 < len && src[*i] == '-' && src[*i + 1] != ']') {
			unsigned char hi = (unsigned char)src[*i + 1];
			if (hi < lo) {
				snprintf(err, errlen, "pattern byte %zu: range end before its start", *i + 1);
				return -1;
			}
			custom_set_add(set, lo, hi);
			*i += 2;
		} else {
			custom_set_add(set, lo, lo);
		}
		members++;
	}
	if (*i >= len) {
		snprintf(err, errlen, "pattern byte %zu: '[' without ']'", open);
		return -1;
	}
	if (!members) {
		snprintf(err, errlen, "pattern byte %zu: empty set", open);
		return -1;
	}
	(*i)++;
	return 0;
}

static int custom_parse_number(const char *src, size_t len, size_t *i, unsigned *out)
{
	size_t start = *i;
	unsigned v = 0;
	while (*i < len && src[*i] >= '0' && src[*i] <= '9' && *i - start < 3)
		v = v * 10 + (unsigned)(src[(*i)++] - '0');
	*out = v;
	return *i > start ? 0 : -1;
}

static int custom_parse_quantifier(const char *src, size_t len, size_t *i,
				   struct custom_item *it, int *quantified, char *err, size_t errlen)
{
	*quantified = 0;
	it->min = it->max = 1;
	if (*i >= len)
		return 0;
	if (src[*i] == '?') {
		(*i)++;
		it->min = 0;
		*quantified = 1;
		return 0;
	}
	if (src[*i] != '{')
		return 0;
	size_t open = (*i)++;
	unsigned lo, hi;
	if (custom_parse_number(src, len, i, &lo) < 0)
		goto bad;
	hi = lo;
	if (*i < len && src[*i] == ',') {
		(*i)++;
		if (custom_parse_number(src, len, i, &hi) < 0)
			goto bad;
	}
	if (*i >= len || src[*i] != '}')
		goto bad;
	(*i)++;
	if (hi > CUSTOM_REPEAT_MAX || lo > hi || hi == 0) {
		snprintf(err, errlen, "pattern byte %zu: count must be {n} or {n,m} with n <= m, 1 <= m <= %d",
			 open, CUSTOM_REPEAT_MAX);
		return -1;
	}
	it->min = (uint8_t)lo;
	it->max = (uint8_t)hi;
	*quantified = 1;
	return 0;
bad:
	snprintf(err, errlen, "pattern byte %zu: expected {n} or {n,m}", open);
	return -1;
}

int custom_pattern_compile(struct custom_pattern *p, const char *src, size_t len,
			   char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (len == 0 || len > CUSTOM_PATTERN_MAX) {
		snprintf(err, errlen, "pattern must be 1 to %d bytes", CUSTOM_PATTERN_MAX);
		return -1;
	}
	p->items = calloc(len, sizeof(*p->items));
	if (!p->items) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int in_prefix = 1;
	size_t i = 0;
	while (i < len) {
		struct custom_item it;
		memset(&it, 0, sizeof(it));
		unsigned char c = (unsigned char)src[i++];
		int single = 1;
		if (c == '\\') {
			if (custom_parse_escape(src, len, &i, it.set, &single, err, errlen) < 0)
				goto fail;
		} else if (c == '[') {
			single = 0;
			if (custom_parse_bracket(src, len, &i, it.set, err, errlen) < 0)
				goto fail;
		} else if (c == ']' || c == '{' || c == '}' || c == '?') {
			snprintf(err, errlen, "pattern byte %zu: unexpected '%c' (escape it with '\\')", i - 1, c);
			goto fail;
		} else {
			custom_set_add(it.set, c, c);
		}
		int quantified;
		if (custom_parse_quantifier(src, len, &i, &it, &quantified, err, errlen) < 0)
			goto fail;
		if (in_prefix && single && !quantified) {
			for (unsigned b = 0; b < 256; b++)
				if (custom_set_has(it.set, (unsigned char)b))
					p->prefix[p->prefix_len++] = (char)b;
			continue;
		}
		in_prefix = 0;
		p->items[p->n_items++] = it;
	}
	if (p->prefix_len < 2) {
		snprintf(err, errlen, "pattern must start with at least 2 literal bytes (the prefix the scan looks for)");
		goto fail;
	}
	return 0;
fail:
	custom_pattern_free(p);
	return -1;
}

void custom_pattern_free(struct custom_pattern *p)
{
	free(p->items);
	p->items = NULL;
	p->n_items = 0;
}

size_t custom_pattern_match(const struct custom_pattern *p, const char *text, size_t len,
			    size_t at)
{
	if (at > len || len - at < p->prefix_len || memcmp(text + at, p->prefix, p->prefix_len) != 0)
		return 0;
	if (at > 0 && custom_is_word((unsigned char)text[at - 1]) && custom_is_word((unsigned char)p->prefix[0]))
		return 0;
	size_t pos = at + p->prefix_len;
	for (size_t k = 0; k < p->n_items; k++) {
		const struct custom_item *it = &p->items[k];
		unsigned count = 0;
		while (count < it->max && pos < len && custom_set_has(it->set, (unsigned char)text[pos])) {
			count++;
			pos++;
		}
		if (count < it->min)
			return 0;
	}
	if (pos < len && custom_is_word((unsigned char)text[pos]) && custom_is_word((unsigned char)text[pos - 1]))
		return 0;
	return pos - at;
}

void custom_detector_free(struct policy_custom_detector *d)
{
	free(d->id);
	for (size_t i = 0; i < d->n_literals; i++)
		free(d->literals[i]);
	free(d->literals);
	free(d->literal_lens);
	custom_pattern_free(&d->pattern);
	memset(d, 0, sizeof(*d));
}

void custom_rows_free(struct policy_set *set)
{
	free(set->rows);
	free(set->row_ptrs);
	free(set->keywords);
	set->rows = NULL;
	set->row_ptrs = NULL;
	set->keywords = NULL;
}

/* The scanner calls this for a pattern detector at each hit of its prefix. */
static int custom_match_pattern(const struct scan_input *in, const struct scan_trigger *t,
				struct policy_findings *out)
{
	const struct policy_custom_detector *d = in->det->arg;
	if (t->kind != SCAN_TRIGGER_KEYWORD)
		return 0;
	size_t m = custom_pattern_match(&d->pattern, in->text, in->len, t->start);
	return m ? scan_add_finding(out, in, t->start, t->start + m, 0) : 0;
}

int custom_index_build(struct policy_set *set)
{
	memset(set->literal_first, 0, sizeof(set->literal_first));
	custom_rows_free(set);
	size_t n_kw = 0;
	for (size_t i = 0; i < set->n_detectors; i++) {
		const struct policy_custom_detector *d = &set->detectors[i];
		n_kw += (d->kind == CUSTOM_KIND_LITERALS ? d->n_literals : 1) + 1;
		for (size_t k = 0; k < d->n_literals; k++) {
			unsigned char c = (unsigned char)d->literals[k][0];
			set->literal_first[c >> 3] |= (uint8_t)(1u << (c & 7));
		}
	}
	if (set->n_detectors == 0)
		return 0;
	set->rows = calloc(set->n_detectors, sizeof(*set->rows));
	set->row_ptrs = calloc(set->n_detectors, sizeof(*set->row_ptrs));
	set->keywords = calloc(n_kw, sizeof(*set->keywords));
	if (!set->rows || !set->row_ptrs || !set->keywords) {
		custom_rows_free(set);
		return -1;
	}
	struct detector_keyword *kw = set->keywords;
	for (size_t i = 0; i < set->n_detectors; i++) {
		const struct policy_custom_detector *d = &set->detectors[i];
		struct detector *row = &set->rows[i];
		row->id = d->id;
		row->entity = (uint16_t)d->entity;
		row->data_class = (uint8_t)d->data_class;
		row->confidence = d->confidence;
		row->keywords = kw;
		row->arg = d;
		if (d->kind == CUSTOM_KIND_LITERALS) {
			/* Case-insensitive and word-bounded: the scanner's keyword
			 * hit is the finding. */
			for (size_t k = 0; k < d->n_literals; k++)
				*kw++ = (struct detector_keyword){ d->literals[k],
					DETECTOR_KW_WORD | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_NONE };
			row->match = detector_match_keyword;
		} else {
			uint8_t flags = DETECTOR_KW_CASE | DETECTOR_KW_TRIGGER;
			if (custom_is_word((unsigned char)d->pattern.prefix[0]))
				flags |= DETECTOR_KW_WORD_START;
			*kw++ = (struct detector_keyword){ d->pattern.prefix, flags, SCAN_CONTEXT_NONE };
			row->match = custom_match_pattern;
		}
		kw++; /* the NULL word ends the list */
		set->row_ptrs[i] = row;
	}
	return 0;
}

size_t custom_detector_rows(const struct policy_set *set, const struct detector *const **rows)
{
	*rows = set->row_ptrs;
	return set->n_detectors;
}

static int custom_push(struct policy_finding **v, size_t *n, size_t *cap,
		       const struct policy_finding *f)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct policy_finding *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *f;
	return 0;
}

/* Case-insensitive, word-bounded literal at text[at..): its length or 0. */
static size_t custom_literal_match(const char *lit, size_t llen, const char *text, size_t len,
				   size_t at)
{
	if (len - at < llen)
		return 0;
	for (size_t k = 0; k < llen; k++)
		if (custom_fold((unsigned char)text[at + k]) != (unsigned char)lit[k])
			return 0;
	if (at + llen < len && custom_is_word((unsigned char)text[at + llen]) &&
	    custom_is_word((unsigned char)lit[llen - 1]))
		return 0;
	return llen;
}

int custom_scan_text(const struct policy_set *set, const char *text, size_t len,
			   struct policy_finding **v, size_t *n, size_t *cap)
{
	if (!set || len > UINT32_MAX)
		return set ? -1 : 0;
	for (size_t di = 0; di < set->n_detectors; di++) {
		const struct policy_custom_detector *d = &set->detectors[di];
		if (d->kind != CUSTOM_KIND_PATTERN)
			continue;
		const struct custom_pattern *p = &d->pattern;
		size_t at = 0;
		while (at + p->prefix_len <= len) {
			const char *hit = memmem(text + at, len - at, p->prefix, p->prefix_len);
			if (!hit)
				break;
			size_t pos = (size_t)(hit - text);
			size_t m = custom_pattern_match(p, text, len, pos);
			if (m) {
				struct policy_finding f = {
					.start = (uint32_t)pos, .end = (uint32_t)(pos + m),
					.entity = (uint16_t)d->entity,
					.detector = (uint16_t)(CUSTOM_DETECTOR_BASE + di),
					.data_class = (uint8_t)d->data_class, .confidence = d->confidence,
				};
				if (custom_push(v, n, cap, &f) < 0)
					return -1;
				at = pos + m;
			} else {
				at = pos + 1;
			}
		}
	}
	/* Literal lists: try every word start whose first byte begins a literal;
	 * the longest literal wins there. */
	for (size_t at = 0; at < len; at++) {
		unsigned char c = custom_fold((unsigned char)text[at]);
		if (!((set->literal_first[c >> 3] >> (c & 7)) & 1))
			continue;
		if (at > 0 && custom_is_word((unsigned char)text[at - 1]) && custom_is_word(c))
			continue;
		size_t best = 0, best_d = 0;
		for (size_t di = 0; di < set->n_detectors; di++) {
			const struct policy_custom_detector *d = &set->detectors[di];
			for (size_t k = 0; k < d->n_literals; k++) {
				size_t m = custom_literal_match(d->literals[k], d->literal_lens[k], text, len, at);
				if (m > best) {
					best = m;
					best_d = di;
				}
			}
		}
		if (!best)
			continue;
		const struct policy_custom_detector *d = &set->detectors[best_d];
		struct policy_finding f = {
			.start = (uint32_t)at, .end = (uint32_t)(at + best),
			.entity = (uint16_t)d->entity,
			.detector = (uint16_t)(CUSTOM_DETECTOR_BASE + best_d),
			.data_class = (uint8_t)d->data_class, .confidence = d->confidence,
		};
		if (custom_push(v, n, cap, &f) < 0)
			return -1;
		at += best - 1;
	}
	return 0;
}
