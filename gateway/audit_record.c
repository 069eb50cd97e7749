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

_Static_assert(AUDIT_RECORD_NFIELDS == AUDIT_RECORD_FIELDS, "audit.h: AUDIT_RECORD_FIELDS");

static unsigned char *audit_record_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *audit_record_put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
	return p + 8;
}

static unsigned char *audit_record_put(unsigned char *p, const void *d, size_t n)
{
	if (n)
		memcpy(p, d, n);
	return p + n;
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

/* Payload bytes of a string list, or SIZE_MAX when it is too long. */
static size_t audit_record_strlist_len(const char *const *l, size_t n)
{
	if (n > AUDIT_RECORD_MAX_ITEMS || (n && !l))
		return SIZE_MAX;
	size_t len = 4;
	for (size_t i = 0; i < n; i++) {
		size_t sl = l[i] ? strlen(l[i]) : 0;
		if (sl > UINT32_MAX - 4)
			return SIZE_MAX;
		len += 4 + sl;
	}
	return len;
}

static unsigned char *audit_record_put_strlist(unsigned char *p, const char *const *l, size_t n)
{
	p = audit_record_put_u32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *s = l[i] ? l[i] : "";
		size_t sl = strlen(s);
		p = audit_record_put_u32(p, (uint32_t)sl);
		p = audit_record_put(p, s, sl);
	}
	return p;
}

void audit_record_plan_clear(struct audit_record_plan *pl)
{
	if (pl->sorted != pl->stack)
		free(pl->sorted);
	pl->sorted = NULL;
}

/* The encoding is written in two passes: this one checks the record,
 * sorts its findings and adds up every field's length, so that the
 * second (audit_record_write) copies into a buffer of exactly that size
 * without a bounds check per field. On the gateway's loop this is the
 * whole cost of a record: a strlen and a copy per field. */
int audit_record_measure(const struct audit_record *rec, struct audit_record_plan *pl,
    char *err, size_t errlen)
{
	size_t len = AUDIT_RECORD_HEADER_LEN + 5 * AUDIT_RECORD_NFIELDS, fl;
	pl->sorted = NULL;
	if (rec->kind == 0 || rec->kind > AUDIT_KIND_MAX) {
		snprintf(err, errlen, "%s: unknown record kind %u", __func__, rec->kind);
		return -1;
	}
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		const char *base = (const char *)rec + f->off;
		switch (f->type) {
		case AUDIT_RECORD_TYPE_STR: {
			const char *s = *(const char *const *)base;
			fl = s ? strlen(s) : 0;
			break;
		}
		case AUDIT_RECORD_TYPE_U64:
			fl = 8;
			break;
		case AUDIT_RECORD_TYPE_FINDINGS:
			if (rec->n_findings > AUDIT_RECORD_MAX_ITEMS || (rec->n_findings && !rec->findings))
				goto bad_list;
			pl->sorted = rec->n_findings <= AUDIT_RECORD_SORT_STACK ? pl->stack :
			    malloc(rec->n_findings * sizeof *pl->sorted);
			if (!pl->sorted) {
				snprintf(err, errlen, "%s: out of memory", __func__);
				return -1;
			}
			fl = 4;
			for (size_t k = 0; k < rec->n_findings; k++) {
				pl->sorted[k] = &rec->findings[k];
				fl += 8 + (rec->findings[k].type ? strlen(rec->findings[k].type) : 0);
			}
			if (rec->n_findings > 1)
				qsort(pl->sorted, rec->n_findings, sizeof *pl->sorted, audit_record_cmp_finding);
			for (size_t k = 1; k < rec->n_findings; k++) {
				if (strcmp(pl->sorted[k]->type ? pl->sorted[k]->type : "",
				        pl->sorted[k - 1]->type ? pl->sorted[k - 1]->type : "") == 0) {
					snprintf(err, errlen, "%s: finding type listed twice", __func__);
					audit_record_plan_clear(pl);
					return -1;
				}
			}
			break;
		case AUDIT_RECORD_TYPE_ACTIONS:
			fl = audit_record_strlist_len(rec->actions, rec->n_actions);
			break;
		case AUDIT_RECORD_TYPE_RULES:
			fl = audit_record_strlist_len(rec->rule_ids, rec->n_rule_ids);
			break;
		case AUDIT_RECORD_TYPE_CONTENT:
		default:
			fl = rec->content_len;
			break;
		}
		if (fl > UINT32_MAX || fl > SIZE_MAX / 2 - len)
			goto bad_list;
		pl->field_len[i] = (uint32_t)fl;
		len += fl;
	}
	pl->len = len;
	return 0;
bad_list:
	snprintf(err, errlen, "%s: list or field too long or missing", __func__);
	audit_record_plan_clear(pl);
	return -1;
}

void audit_record_write(const struct audit_record *rec, const struct audit_record_plan *pl,
    unsigned char *out)
{
	unsigned char *p = out;
	p = audit_record_put(p, "HAR1", 4);
	p = audit_record_put_u64(p, rec->seq);
	p = audit_record_put(p, rec->prev, AUDIT_HASH_LEN);
	*p++ = rec->kind;
	for (size_t i = 0; i < AUDIT_RECORD_NFIELDS; i++) {
		const struct audit_record_field *f = &audit_record_fields[i];
		const char *base = (const char *)rec + f->off;
		*p++ = (unsigned char)(i + 1); /* the tag */
		p = audit_record_put_u32(p, pl->field_len[i]);
		switch (f->type) {
		case AUDIT_RECORD_TYPE_STR:
			p = audit_record_put(p, *(const char *const *)base, pl->field_len[i]);
			break;
		case AUDIT_RECORD_TYPE_U64:
			p = audit_record_put_u64(p, *(const uint64_t *)base);
			break;
		case AUDIT_RECORD_TYPE_FINDINGS:
			p = audit_record_put_u32(p, (uint32_t)rec->n_findings);
			for (size_t k = 0; k < rec->n_findings; k++) {
				const char *t = pl->sorted[k]->type ? pl->sorted[k]->type : "";
				size_t tl = strlen(t);
				p = audit_record_put_u32(p, (uint32_t)tl);
				p = audit_record_put(p, t, tl);
				p = audit_record_put_u32(p, pl->sorted[k]->count);
			}
			break;
		case AUDIT_RECORD_TYPE_ACTIONS:
			p = audit_record_put_strlist(p, rec->actions, rec->n_actions);
			break;
		case AUDIT_RECORD_TYPE_RULES:
			p = audit_record_put_strlist(p, rec->rule_ids, rec->n_rule_ids);
			break;
		case AUDIT_RECORD_TYPE_CONTENT:
			p = audit_record_put(p, rec->content, rec->content_len);
			break;
		}
	}
}

int audit_record_encode(const struct audit_record *rec, unsigned char **out,
    size_t *out_len, char *err, size_t errlen)
{
	struct audit_record_plan pl;
	if (audit_record_measure(rec, &pl, err, errlen) < 0)
		return -1;
	unsigned char *b = malloc(pl.len);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", __func__);
		audit_record_plan_clear(&pl);
		return -1;
	}
	audit_record_write(rec, &pl, b);
	audit_record_plan_clear(&pl);
	*out = b;
	*out_len = pl.len;
	return 0;
}

int audit_record_encode_to(const struct audit_record *rec, unsigned char *buf, size_t cap,
    size_t *out_len, char *err, size_t errlen)
{
	struct audit_record_plan pl;
	if (audit_record_measure(rec, &pl, err, errlen) < 0)
		return -1;
	*out_len = pl.len;
	if (pl.len <= cap)
		audit_record_write(rec, &pl, buf);
	audit_record_plan_clear(&pl);
	return pl.len > cap ? 1 : 0;
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
