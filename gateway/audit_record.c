/* Audit records: canonical serialization, strict decoding, JSON view.
 *
 * Layout (all integers big-endian):
 *   "HAR1" | seq u64 | prev[32] | kind u8            (45 bytes, fixed)
 *   then every field of audit_record_fields[], in table order:
 *   tag u8 | len u32 | payload
 * A string payload is its bytes (no NUL); an integer is 8 bytes; a string
 * list is u32 count + (u32 len + bytes)*; findings are u32 count +
 * (u32 len + bytes + u32 count)*, sorted by type. Because every field is
 * present exactly once, in one order, with one encoding of each value,
 * equal records give equal bytes and the leaf hash is well defined. The
 * content field (ciphertext only) is last so the writer can append it
 * after encrypting. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit.h"

#include <stdio.h>

enum audit_record_type {
	AUDIT_RECORD_TYPE_STR,
	AUDIT_RECORD_TYPE_U64,
	AUDIT_RECORD_TYPE_FINDINGS,
	AUDIT_RECORD_TYPE_ACTIONS,
	AUDIT_RECORD_TYPE_RULES,
	AUDIT_RECORD_TYPE_CONTENT,
};

struct audit_record_field {
	const char *name;
	enum audit_record_type type;
	size_t off; /* offsetof the member (string or integer) */
};

#define F_STR(m) { #m, AUDIT_RECORD_TYPE_STR, offsetof(struct audit_record, m) }
#define F_U64(m) { #m, AUDIT_RECORD_TYPE_U64, offsetof(struct audit_record, m) }

/* The tag of a field is its index + 1. Append new fields before content
 * and bump the magic: old records must keep hashing the same. */
static const struct audit_record_field audit_record_fields[] = {
	F_STR(request_id),
	F_U64(t_start),
	F_U64(t_first_byte),
	F_U64(t_end),
	F_STR(api_key_id),
	F_STR(tenant),
	F_STR(purpose),
	F_STR(subject),
	F_STR(client_addr),
	F_STR(endpoint),
	F_STR(model_requested),
	F_STR(model_served),
	F_STR(upstream_id),
	F_STR(upstream_location),
	F_STR(data_class),
	F_STR(policy_hash),
	F_STR(config_hash),
	{ "findings", AUDIT_RECORD_TYPE_FINDINGS, 0 },
	{ "actions", AUDIT_RECORD_TYPE_ACTIONS, 0 },
	F_STR(decision),
	{ "rule_ids", AUDIT_RECORD_TYPE_RULES, 0 },
	F_U64(status),
	F_U64(prompt_tokens),
	F_U64(completion_tokens),
	F_STR(error_class),
	F_STR(note),
	{ "content", AUDIT_RECORD_TYPE_CONTENT, 0 },
};
#define AUDIT_RECORD_NFIELDS (sizeof audit_record_fields / sizeof audit_record_fields[0])

static const char *const audit_record_kind_names[] = {
	[AUDIT_KIND_REQUEST] = "request",
	[AUDIT_KIND_ERASURE] = "erasure",
	[AUDIT_KIND_PURGE] = "purge",
	[AUDIT_KIND_HOLD] = "hold",
	[AUDIT_KIND_RELEASE] = "release",
	[AUDIT_KIND_OVERSIGHT] = "oversight",
};

/* Bound on any one string or list, so a decoder never trusts a huge length. */
#define AUDIT_RECORD_MAX_ITEMS 4096

const char *audit_record_kind_name(unsigned kind)
{
	if (kind == 0 || kind > AUDIT_KIND_MAX)
		return "unknown";
	return audit_record_kind_names[kind];
}

/* Growable (malloc'd), or fixed: the caller's buffer, where an overflow
 * only counts on so that the caller learns the size it needs. */
struct audit_record_buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
	int fixed;
};

static void audit_record_put_slow(struct audit_record_buf *b, const void *d, size_t n);

/* The common case inline (a record fits its buffer; tags, lengths and
 * integers are 1, 4 and 8 bytes: the copy compiles to a move): a record
 * makes about a hundred of these calls on the gateway's loop. */
static inline void audit_record_put(struct audit_record_buf *b, const void *d, size_t n)
{
	if (__builtin_expect(!b->oom && b->len <= b->cap && n <= b->cap - b->len, 1)) {
		memcpy(b->p + b->len, d, n);
		b->len += n;
		return;
	}
	audit_record_put_slow(b, d, n);
}

static void audit_record_put_slow(struct audit_record_buf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->fixed && (b->len + n > b->cap || b->len > b->cap)) {
		b->len += n;
		return;
	}
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 512;
		while (nc < b->len + n)
			nc *= 2;
		unsigned char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void audit_record_put_u32(struct audit_record_buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };
	audit_record_put(b, x, 4);
}

static void audit_record_put_u64(struct audit_record_buf *b, uint64_t v)
{
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (56 - 8 * i));
	audit_record_put(b, x, 8);
}

static uint32_t audit_record_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t audit_record_get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int audit_record_cmp_finding(const void *a, const void *b)
{
	const struct audit_finding *x = *(const struct audit_finding *const *)a;
	const struct audit_finding *y = *(const struct audit_finding *const *)b;
	return strcmp(x->type ? x->type : "", y->type ? y->type : "");
}

/* Patches a field's length once its payload is written. */
static void audit_record_fix_len(struct audit_record_buf *b, size_t at)
{
	if (b->oom || b->len > b->cap)
		return;
	uint32_t v = (uint32_t)(b->len - at - 4);
	b->p[at] = v >> 24;
	b->p[at + 1] = v >> 16;
	b->p[at + 2] = v >> 8;
	b->p[at + 3] = v;
}

static int audit_record_put_strlist(struct audit_record_buf *b,
    const char *const *l, size_t n)
{
	if (n > AUDIT_RECORD_MAX_ITEMS || (n && !l))
		return -1;
	audit_record_put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *s = l[i] ? l[i] : "";
		audit_record_put_u32(b, (uint32_t)strlen(s));
		audit_record_put(b, s, strlen(s));
	}
	return 0;
}

/* Sorting the findings needs no allocation up to this many. */
#define AUDIT_RECORD_SORT_STACK 32

static int audit_record_encode_buf(const struct audit_record *rec, struct audit_record_buf *bp,
    char *err, size_t errlen)
{
	struct audit_record_buf b = *bp;
	const struct audit_finding *stack[AUDIT_RECORD_SORT_STACK], **sorted = NULL;

	if (rec->kind == 0 || rec->kind > AUDIT_KIND_MAX) {
		snprintf(err, errlen, "%s: unknown record kind %u", __func__, rec->kind);
		return -1;
	}
	audit_record_put(&b, "HAR1", 4);
	audit_record_put_u64(&b, rec->seq);
	audit_record_put(&b, rec->prev, AUDIT_HASH_LEN);
	audit_record_put(&b, &rec->kind, 1);
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		const char *base = (const char *)rec + f->off;
		unsigned char tag = (unsigned char)(i + 1);
		size_t at;

		audit_record_put(&b, &tag, 1);
		at = b.len;
		audit_record_put_u32(&b, 0);
		switch (f->type) {
		case AUDIT_RECORD_TYPE_STR: {
			const char *s = *(const char *const *)base;
			if (s)
				audit_record_put(&b, s, strlen(s));
			break;
		}
		case AUDIT_RECORD_TYPE_U64:
			audit_record_put_u64(&b, *(const uint64_t *)base);
			break;
		case AUDIT_RECORD_TYPE_FINDINGS:
			if (rec->n_findings > AUDIT_RECORD_MAX_ITEMS || (rec->n_findings && !rec->findings))
				goto bad_list;
			sorted = rec->n_findings <= AUDIT_RECORD_SORT_STACK ? stack :
			    malloc(rec->n_findings * sizeof *sorted);
			if (!sorted)
				goto oom;
			for (size_t k = 0; k < rec->n_findings; k++)
				sorted[k] = &rec->findings[k];
			qsort(sorted, rec->n_findings, sizeof *sorted, audit_record_cmp_finding);
			audit_record_put_u32(&b, (uint32_t)rec->n_findings);
			for (size_t k = 0; k < rec->n_findings; k++) {
				const char *t = sorted[k]->type ? sorted[k]->type : "";
				if (k && strcmp(t, sorted[k - 1]->type ? sorted[k - 1]->type : "") == 0) {
					snprintf(err, errlen, "%s: finding type listed twice", __func__);
					goto fail;
				}
				audit_record_put_u32(&b, (uint32_t)strlen(t));
				audit_record_put(&b, t, strlen(t));
				audit_record_put_u32(&b, sorted[k]->count);
			}
			if (sorted != stack)
				free(sorted);
			sorted = NULL;
			break;
		case AUDIT_RECORD_TYPE_ACTIONS:
			if (audit_record_put_strlist(&b, rec->actions, rec->n_actions) < 0)
				goto bad_list;
			break;
		case AUDIT_RECORD_TYPE_RULES:
			if (audit_record_put_strlist(&b, rec->rule_ids, rec->n_rule_ids) < 0)
				goto bad_list;
			break;
		case AUDIT_RECORD_TYPE_CONTENT:
			if (rec->content_len)
				audit_record_put(&b, rec->content, rec->content_len);
			break;
		}
		audit_record_fix_len(&b, at);
	}
	if (b.oom)
		goto oom;
	*bp = b;
	return 0;
bad_list:
	snprintf(err, errlen, "%s: list too long or missing", __func__);
	goto fail;
oom:
	snprintf(err, errlen, "%s: out of memory", __func__);
fail:
	if (sorted != stack)
		free(sorted);
	if (!b.fixed)
		free(b.p);
	return -1;
}

int audit_record_encode(const struct audit_record *rec, unsigned char **out,
    size_t *out_len, char *err, size_t errlen)
{
	struct audit_record_buf b = { 0 };
	if (audit_record_encode_buf(rec, &b, err, errlen) < 0)
		return -1;
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int audit_record_encode_to(const struct audit_record *rec, unsigned char *buf, size_t cap,
    size_t *out_len, char *err, size_t errlen)
{
	struct audit_record_buf b = { .p = buf, .cap = cap, .fixed = 1 };
	if (audit_record_encode_buf(rec, &b, err, errlen) < 0)
		return -1;
	*out_len = b.len;
	return b.len > cap ? 1 : 0;
}

int audit_record_peek(const unsigned char *buf, size_t len, uint64_t *seq,
    unsigned char prev[AUDIT_HASH_LEN])
{
	if (len < AUDIT_RECORD_HEADER_LEN || memcmp(buf, "HAR1", 4) != 0)
		return -1;
	*seq = audit_record_get_u64(buf + 4);
	memcpy(prev, buf + 12, AUDIT_HASH_LEN);
	return 0;
}

int audit_record_index(const unsigned char *buf, size_t len, unsigned max_tag,
    const unsigned char **val, size_t *val_len)
{
	size_t at = AUDIT_RECORD_HEADER_LEN;
	if (len < AUDIT_RECORD_HEADER_LEN || max_tag > AUDIT_RECORD_NFIELDS)
		return -1;
	for (unsigned tag = 1; tag <= max_tag; tag++) {
		if (len - at < 5 || buf[at] != tag)
			return -1;
		uint32_t n = audit_record_get_u32(buf + at + 1);
		at += 5;
		if (n > len - at)
			return -1;
		val[tag] = buf + at;
		val_len[tag] = n;
		at += n;
	}
	return 0;
}

void audit_record_set_chain(unsigned char *buf, uint64_t seq,
    const unsigned char prev[AUDIT_HASH_LEN])
{
	for (int i = 0; i < 8; i++)
		buf[4 + i] = (unsigned char)(seq >> (56 - 8 * i));
	memcpy(buf + 12, prev, AUDIT_HASH_LEN);
}

static void audit_record_free_strlist(const char *const *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free((char *)l[i]);
	free((void *)l);
}

void audit_record_clear(struct audit_record *rec)
{
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		if (f->type == AUDIT_RECORD_TYPE_STR)
			free(*(char **)((char *)rec + f->off));
	}
	for (size_t k = 0; rec->findings && k < rec->n_findings; k++)
		free((char *)rec->findings[k].type);
	free((void *)rec->findings);
	audit_record_free_strlist(rec->actions, rec->n_actions);
	audit_record_free_strlist(rec->rule_ids, rec->n_rule_ids);
	free((void *)rec->content);
	memset(rec, 0, sizeof *rec);
}

/* Returns a NUL-terminated copy, refusing embedded NULs. */
static char *audit_record_dup(const unsigned char *p, size_t n)
{
	if (memchr(p, 0, n))
		return NULL;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

/* Decodes a string list payload [p, p+n). */
static int audit_record_get_strlist(const unsigned char *p, size_t n,
    const char *const **out, size_t *count)
{
	if (n < 4)
		return -1;
	uint32_t c = audit_record_get_u32(p);
	if (c > AUDIT_RECORD_MAX_ITEMS || c > (n - 4) / 4)
		return -1;
	char **l = calloc(c + 1, sizeof *l);
	if (!l)
		return -1;
	*out = (const char *const *)l;
	*count = c;
	size_t at = 4;
	for (uint32_t i = 0; i < c; i++) {
		if (n - at < 4)
			return -1;
		uint32_t sl = audit_record_get_u32(p + at);
		at += 4;
		if (sl > n - at || !(l[i] = audit_record_dup(p + at, sl)))
			return -1;
		at += sl;
	}
	return at == n ? 0 : -1;
}

static int audit_record_get_findings(const unsigned char *p, size_t n,
    struct audit_record *rec)
{
	if (n < 4)
		return -1;
	uint32_t c = audit_record_get_u32(p);
	if (c > AUDIT_RECORD_MAX_ITEMS || c > (n - 4) / 8)
		return -1;
	struct audit_finding *f = calloc(c + 1, sizeof *f);
	if (!f)
		return -1;
	rec->findings = f;
	rec->n_findings = c;
	size_t at = 4;
	for (uint32_t i = 0; i < c; i++) {
		if (n - at < 4)
			return -1;
		uint32_t sl = audit_record_get_u32(p + at);
		at += 4;
		if (sl > n - at || n - at - sl < 4 || !(f[i].type = audit_record_dup(p + at, sl)))
			return -1;
		at += sl;
		f[i].count = audit_record_get_u32(p + at);
		at += 4;
		/* canonical: strictly ascending types */
		if (i && strcmp(f[i - 1].type, f[i].type) >= 0)
			return -1;
	}
	return at == n ? 0 : -1;
}

int audit_record_decode(const unsigned char *buf, size_t len,
    struct audit_record *rec, char *err, size_t errlen)
{
	size_t at = AUDIT_RECORD_HEADER_LEN;

	memset(rec, 0, sizeof *rec);
	if (audit_record_peek(buf, len, &rec->seq, rec->prev) < 0) {
		snprintf(err, errlen, "not an audit record (bad magic or short)");
		return -1;
	}
	rec->kind = buf[44];
	if (rec->kind == 0 || rec->kind > AUDIT_KIND_MAX) {
		snprintf(err, errlen, "record %llu: unknown kind %u",
		    (unsigned long long)rec->seq, rec->kind);
		return -1;
	}
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		char *base = (char *)rec + f->off;
		if (len - at < 5 || buf[at] != i + 1) {
			snprintf(err, errlen, "record %llu: field %s missing or out of order",
			    (unsigned long long)rec->seq, f->name);
			goto fail;
		}
		uint32_t n = audit_record_get_u32(buf + at + 1);
		at += 5;
		if (n > len - at) {
			snprintf(err, errlen, "record %llu: field %s longer than the record",
			    (unsigned long long)rec->seq, f->name);
			goto fail;
		}
		const unsigned char *p = buf + at;
		int bad = 0;
		switch (f->type) {
		case AUDIT_RECORD_TYPE_STR:
			bad = !(*(char **)base = audit_record_dup(p, n));
			break;
		case AUDIT_RECORD_TYPE_U64:
			bad = n != 8;
			if (!bad)
				*(uint64_t *)base = audit_record_get_u64(p);
			break;
		case AUDIT_RECORD_TYPE_FINDINGS:
			bad = audit_record_get_findings(p, n, rec) < 0;
			break;
		case AUDIT_RECORD_TYPE_ACTIONS:
			bad = audit_record_get_strlist(p, n, &rec->actions, &rec->n_actions) < 0;
			break;
		case AUDIT_RECORD_TYPE_RULES:
			bad = audit_record_get_strlist(p, n, &rec->rule_ids, &rec->n_rule_ids) < 0;
			break;
		case AUDIT_RECORD_TYPE_CONTENT:
			if (n) {
				unsigned char *c = malloc(n);
				bad = !c;
				if (c)
					memcpy(c, p, n);
				rec->content = c;
				rec->content_len = n;
			}
			break;
		}
		if (bad) {
			snprintf(err, errlen, "record %llu: field %s malformed",
			    (unsigned long long)rec->seq, f->name);
			goto fail;
		}
		at += n;
	}
	if (at != len) {
		snprintf(err, errlen, "record %llu: trailing bytes", (unsigned long long)rec->seq);
		goto fail;
	}
	return 0;
fail:
	audit_record_clear(rec);
	return -1;
}

static json_t *audit_record_strlist_json(const char *const *l, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(l[i] ? l[i] : ""));
	return a;
}

json_t *audit_record_to_json(const struct audit_record *rec)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "seq", json_integer((json_int_t)rec->seq));
	json_object_set_new(o, "kind", json_string(audit_record_kind_name(rec->kind)));
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		const char *base = (const char *)rec + f->off;
		const char *name = f->name;
		json_t *v = NULL;
		switch (f->type) {
		case AUDIT_RECORD_TYPE_STR: {
			const char *s = *(const char *const *)base;
			v = json_string(s ? s : "");
			if (!v) /* not UTF-8: say so, never drop the field */
				v = json_string("(invalid UTF-8)");
			break;
		}
		case AUDIT_RECORD_TYPE_U64:
			v = json_integer((json_int_t) * (const uint64_t *)base);
			break;
		case AUDIT_RECORD_TYPE_FINDINGS:
			v = json_object();
			for (size_t k = 0; v && k < rec->n_findings; k++)
				json_object_set_new(v, rec->findings[k].type ? rec->findings[k].type : "",
				    json_integer(rec->findings[k].count));
			break;
		case AUDIT_RECORD_TYPE_ACTIONS:
			v = audit_record_strlist_json(rec->actions, rec->n_actions);
			break;
		case AUDIT_RECORD_TYPE_RULES:
			v = audit_record_strlist_json(rec->rule_ids, rec->n_rule_ids);
			break;
		case AUDIT_RECORD_TYPE_CONTENT:
			v = json_boolean(rec->content_len > 0);
			name = "content_captured";
			break;
		}
		if (v)
			json_object_set_new(o, name, v);
	}
	return o;
}
