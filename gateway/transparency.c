/* AI Act Art. 50 transparency (see transparency.h).
 *
 * Art. 50(2) asks that output of an AI system be "marked in a
 * machine-readable format and detectable as artificially generated". The
 * marker is:
 *   - three response headers on every answer an upstream gave to a
 *     generating endpoint (chat, completions, embeddings), whatever its
 *     status: X-Hafen-AI-Generated: true, X-Hafen-Model, X-Hafen-Upstream.
 *     Answers hafen makes itself (auth, policy refusals, timeouts) and the
 *     model list carry X-Hafen-AI-Generated: false, so a client can rely on
 *     the header being there on every response.
 *   - a member "hafen": {"ai_generated": true, "model", "upstream"} as the
 *     first member of the JSON object, in whole answers and in every SSE
 *     chunk but [DONE]. It is inserted as text after the opening brace of
 *     an object that transparency_scan_object checked in one pass: the
 *     answer is never parsed into a tree for it, so the cost is a scan and
 *     a copy. Purposes whose clients reject unknown fields turn it off.
 * "model" is the model the upstream reported in that answer or chunk, else
 * the one requested. A streamed answer's head leaves before the first
 * chunk, so its X-Hafen-Model is the requested model; each chunk's body
 * field names the reported one.
 *
 * The notice (Art. 50(1), GDPR Art. 13) is a per purpose text sent as
 * X-Hafen-Notice in RFC 8187 ext-value form (UTF-8''percent-encoded: any
 * language, one unambiguous form) on the first marked answer of each end
 * user (tenant + X-Hafen-User) under that purpose. Users are remembered as
 * truncated HMAC-SHA-256 values under a key drawn at process start, never
 * as ids, in a table of fixed size; when it fills up, or after a restart,
 * it starts over and users get the notice once more. Without X-Hafen-User
 * hafen cannot tell users apart, so every marked answer carries it.
 *
 * Per purpose settings live in transparency.purposes.ID or, next to the
 * rest of the purpose, in purposes.ID.transparency of the purpose registry
 * (gateway/purpose.c); where both set a field, the registry's wins. */
#include "transparency.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "gwconfig.h"
#include "openai.h"
#include "purpose.h"

#define TRANSPARENCY_NOTICE_MAX 1024    /* bytes of notice text */
#define TRANSPARENCY_MODEL_HEADER_MAX 1024 /* encoded bytes; longer reported names: the requested one */
#define TRANSPARENCY_USERS 65536        /* remembered end users (16 bytes each), a power of two */
#define TRANSPARENCY_BAD SIZE_MAX

struct transparency_purpose {
	char *id;
	int body_field; /* -1: the section's setting */
	char *notice;   /* ext-value, NULL: none */
};

struct transparency_rt {
	int body_field;
	int headers;
	struct transparency_purpose *purposes;
	size_t n_purposes;
};

/* Which endpoints answer with model output (Art. 50(2) "synthetic ...
 * content"). The model list is metadata about the service, not output. */
static const unsigned char transparency_generated[OPENAI_ROUTE_COUNT] = {
	[OPENAI_ROUTE_CHAT] = 1,
	[OPENAI_ROUTE_COMPLETIONS] = 1,
	[OPENAI_ROUTE_EMBEDDINGS] = 1,
	[OPENAI_ROUTE_MODELS] = 0,
};

struct transparency_state {
	int body_field;
	const char *notice;
	char *req_model;   /* as requested, raw */
	size_t req_model_len;
	char *req_json;    /* requested model, JSON-escaped */
	char *up_json;     /* upstream name, JSON-escaped */
	char *model_hdr;   /* reported model of a whole answer, header-encoded */
	char *scratch;     /* SSE data of events the event filter wrote */
	size_t scratch_cap;
};

/* ---- configuration ---- */

enum transparency_key_type {
	TRANSPARENCY_KEY_BOOL,
	TRANSPARENCY_KEY_TRUE,     /* only true is valid */
	TRANSPARENCY_KEY_NOTICE,
	TRANSPARENCY_KEY_PURPOSES,
};

struct transparency_key {
	const char *name;
	enum transparency_key_type type;
	size_t offset;
};

static const struct transparency_key transparency_section_keys[] = {
	{"body_field", TRANSPARENCY_KEY_BOOL, offsetof(struct transparency_rt, body_field)},
	/* Art. 50(2): the headers are the marker every client gets. */
	{"headers", TRANSPARENCY_KEY_TRUE, offsetof(struct transparency_rt, headers)},
	{"purposes", TRANSPARENCY_KEY_PURPOSES, 0},
	{NULL, 0, 0},
};

static const struct transparency_key transparency_purpose_keys[] = {
	{"body_field", TRANSPARENCY_KEY_BOOL, offsetof(struct transparency_purpose, body_field)},
	{"notice", TRANSPARENCY_KEY_NOTICE, offsetof(struct transparency_purpose, notice)},
	{NULL, 0, 0},
};

/* RFC 8187 section 3.2.1 attr-char: sent as is, everything else as %XX. */
static int transparency_attr_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c && strchr("!#$&+-.^_`|~", c));
}

int transparency_ext_value(const char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	if (cap < 8)
		return -1;
	memcpy(out, "UTF-8''", 7);
	o = 7;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 4 > cap)
			return -1;
		if (transparency_attr_char(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return (int)o;
}

static int transparency_fail(char *err, size_t errlen, const char *file, const char *path,
    const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", file, path, what);
	return -1;
}

static int transparency_read_purposes(struct transparency_rt *t, json_t *v, const char *file,
    char *err, size_t errlen);

static int transparency_read(const struct transparency_key *keys, json_t *j, void *obj,
    const char *path, struct transparency_rt *t, const char *file, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	char p[256];
	json_object_foreach(j, name, v) {
		const struct transparency_key *k = keys;
		while (k->name && strcmp(k->name, name) != 0)
			k++;
		snprintf(p, sizeof p, "%s.%s", path, name);
		if (!k->name)
			return transparency_fail(err, errlen, file, p, "unknown key");
		int *flag = (int *)((char *)obj + k->offset);
		switch (k->type) {
		case TRANSPARENCY_KEY_BOOL:
			if (!json_is_boolean(v))
				return transparency_fail(err, errlen, file, p, "expected true or false");
			*flag = json_is_true(v);
			break;
		case TRANSPARENCY_KEY_TRUE:
			if (!json_is_true(v))
				return transparency_fail(err, errlen, file, p,
				    "expected true (AI Act Art. 50(2): every answer carries the marker headers)");
			*flag = 1;
			break;
		case TRANSPARENCY_KEY_NOTICE: {
			size_t n = json_is_string(v) ? json_string_length(v) : 0;
			if (n == 0 || n > TRANSPARENCY_NOTICE_MAX || strlen(json_string_value(v)) != n)
				return transparency_fail(err, errlen, file, p,
				    "expected a non-empty string of at most 1024 bytes without NUL");
			size_t cap = 7 + 3 * n + 1;
			char **dst = (char **)((char *)obj + k->offset);
			free(*dst);
			if (!(*dst = malloc(cap)) || transparency_ext_value(json_string_value(v), n, *dst, cap) < 0)
				return transparency_fail(err, errlen, file, p, "out of memory");
			break;
		}
		case TRANSPARENCY_KEY_PURPOSES:
			if (transparency_read_purposes(t, v, file, err, errlen) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* purposes.ID.transparency of the purpose registry, after the section's
 * entries: transparency_on_request applies entries in order, so for each
 * field the registry's setting wins over transparency.purposes.ID. */
static int transparency_read_registry(struct transparency_rt *t, const struct purpose_registry *reg,
    const char *file, char *err, size_t errlen)
{
	size_t n = 0;
	for (size_t i = 0; reg && i < reg->n; i++)
		n += reg->purposes[i].transparency != NULL;
	if (n == 0)
		return 0;
	struct transparency_purpose *v = realloc(t->purposes, (t->n_purposes + n) * sizeof *v);
	if (!v)
		return transparency_fail(err, errlen, file, "purposes", "out of memory");
	t->purposes = v;
	for (size_t i = 0; i < reg->n; i++) {
		const struct purpose *p = &reg->purposes[i];
		if (!p->transparency)
			continue;
		char path[256];
		snprintf(path, sizeof path, "purposes.%s.transparency", p->id);
		struct transparency_purpose *tp = &t->purposes[t->n_purposes++];
		memset(tp, 0, sizeof *tp);
		tp->body_field = -1;
		if (!(tp->id = strdup(p->id)))
			return transparency_fail(err, errlen, file, path, "out of memory");
		if (transparency_read(transparency_purpose_keys, p->transparency, tp, path, t, file, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int transparency_read_purposes(struct transparency_rt *t, json_t *v, const char *file,
    char *err, size_t errlen)
{
	const char *id;
	json_t *pv;
	if (!json_is_object(v))
		return transparency_fail(err, errlen, file, "transparency.purposes",
		    "expected an object of purpose ids");
	size_t n = json_object_size(v);
	t->purposes = n ? calloc(n, sizeof *t->purposes) : NULL;
	if (n && !t->purposes)
		return transparency_fail(err, errlen, file, "transparency.purposes", "out of memory");
	json_object_foreach(v, id, pv) {
		char p[256];
		snprintf(p, sizeof p, "transparency.purposes.%s", id);
		struct transparency_purpose *tp = &t->purposes[t->n_purposes++];
		tp->body_field = -1;
		if (!(tp->id = strdup(id)))
			return transparency_fail(err, errlen, file, p, "out of memory");
		if (!json_is_object(pv))
			return transparency_fail(err, errlen, file, p, "expected an object");
		if (transparency_read(transparency_purpose_keys, pv, tp, p, t, file, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int transparency_load(const struct config *cfg, struct transparency_rt **out, char *err,
    size_t errlen)
{
	struct transparency_rt *t = calloc(1, sizeof *t);
	*out = NULL;
	if (!t)
		return transparency_fail(err, errlen, cfg->file, "transparency", "out of memory");
	t->body_field = 1;
	t->headers = 1;
	if ((cfg->transparency && transparency_read(transparency_section_keys, cfg->transparency, t,
	    "transparency", t, cfg->file, err, errlen) < 0) ||
	    transparency_read_registry(t, cfg->purposes, cfg->file, err, errlen) < 0) {
		transparency_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void transparency_free(struct transparency_rt *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_purposes; i++) {
		free(t->purposes[i].id);
		free(t->purposes[i].notice);
	}
	free(t->purposes);
	free(t);
}

/* ---- the scanner ---- */

static size_t transparency_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

static int transparency_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* p[i] is '"': the offset after the closing quote (RFC 8259 section 7). */
static size_t transparency_string(const char *p, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return TRANSPARENCY_BAD;
		if (c != '\\')
			continue;
		if (++i >= n)
			return TRANSPARENCY_BAD;
		if (p[i] == 'u') {
			if (n - i < 5 || !transparency_hex(p[i + 1]) || !transparency_hex(p[i + 2]) ||
			    !transparency_hex(p[i + 3]) || !transparency_hex(p[i + 4]))
				return TRANSPARENCY_BAD;
			i += 4;
		} else if (!strchr("\"\\/bfnrt", p[i]) || !p[i]) {
			return TRANSPARENCY_BAD;
		}
	}
	return TRANSPARENCY_BAD;
}

static size_t transparency_digits(const char *p, size_t i, size_t n)
{
	if (i >= n || p[i] < '0' || p[i] > '9')
		return TRANSPARENCY_BAD;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i;
}

/* RFC 8259 section 6. */
static size_t transparency_number(const char *p, size_t i, size_t n)
{
	if (p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if ((i = transparency_digits(p, i, n)) == TRANSPARENCY_BAD)
		return i;
	if (i < n && p[i] == '.' && (i = transparency_digits(p, i + 1, n)) == TRANSPARENCY_BAD)
		return i;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		i = transparency_digits(p, i, n);
	}
	return i;
}

static size_t transparency_literal(const char *p, size_t i, size_t n)
{
	static const char *const lits[] = {"true", "false", "null"};
	for (size_t k = 0; k < 3; k++) {
		size_t l = strlen(lits[k]);
		if (n - i >= l && memcmp(p + i, lits[k], l) == 0)
			return i + l;
	}
	return TRANSPARENCY_BAD;
}

enum transparency_expect {
	TRANSPARENCY_EXPECT_VALUE,
	TRANSPARENCY_EXPECT_FIRST_VALUE, /* after '[': a value or ']' */
	TRANSPARENCY_EXPECT_FIRST_KEY,   /* after '{': a key or '}' */
	TRANSPARENCY_EXPECT_KEY,
	TRANSPARENCY_EXPECT_AFTER,       /* after a value: ',' or a closing bracket */
};

int transparency_scan_object(const char *p, size_t n, struct transparency_scan *s)
{
	char stack[TRANSPARENCY_MAX_DEPTH];
	size_t depth = 0, i, e;
	int expect = TRANSPARENCY_EXPECT_VALUE, top_model = 0;
	memset(s, 0, sizeof *s);
	i = transparency_ws(p, 0, n);
	if (i >= n || p[i] != '{')
		return -1;
	s->open = i;
	for (;;) {
		i = transparency_ws(p, i, n);
		if (depth == 0 && expect == TRANSPARENCY_EXPECT_AFTER)
			return i == n ? 0 : -1; /* nothing may follow the object */
		if (i >= n)
			return -1;
		char c = p[i];
		switch (expect) {
		case TRANSPARENCY_EXPECT_FIRST_VALUE:
			if (c == ']') {
				depth--;
				i++;
				expect = TRANSPARENCY_EXPECT_AFTER;
				break;
			}
			/* fall through */
		case TRANSPARENCY_EXPECT_VALUE:
			if (c == '{' || c == '[') {
				if (depth == TRANSPARENCY_MAX_DEPTH)
					return -1;
				stack[depth++] = c;
				i++;
				top_model = 0;
				expect = c == '{' ? TRANSPARENCY_EXPECT_FIRST_KEY : TRANSPARENCY_EXPECT_FIRST_VALUE;
				break;
			}
			if (c == '"') {
				e = transparency_string(p, i, n);
				if (top_model && e != TRANSPARENCY_BAD) {
					s->model = p + i + 1;
					s->model_len = e - i - 2;
				}
			} else if (c == '-' || (c >= '0' && c <= '9')) {
				e = transparency_number(p, i, n);
			} else {
				e = transparency_literal(p, i, n);
			}
			if (e == TRANSPARENCY_BAD)
				return -1;
			top_model = 0;
			i = e;
			expect = TRANSPARENCY_EXPECT_AFTER;
			break;
		case TRANSPARENCY_EXPECT_FIRST_KEY:
			if (c == '}') {
				depth--;
				i++;
				expect = TRANSPARENCY_EXPECT_AFTER;
				if (depth == 0)
					s->empty = 1;
				break;
			}
			/* fall through */
		case TRANSPARENCY_EXPECT_KEY:
			if (c != '"' || (e = transparency_string(p, i, n)) == TRANSPARENCY_BAD)
				return -1;
			if (depth == 1) {
				size_t kl = e - i - 2;
				top_model = kl == 5 && memcmp(p + i + 1, "model", 5) == 0;
				if (kl == 5 && memcmp(p + i + 1, "hafen", 5) == 0)
					s->has_hafen = 1;
			}
			i = transparency_ws(p, e, n);
			if (i >= n || p[i] != ':')
				return -1;
			i++;
			expect = TRANSPARENCY_EXPECT_VALUE;
			break;
		default: /* TRANSPARENCY_EXPECT_AFTER, inside a container */
			if (c == ',') {
				i++;
				expect = stack[depth - 1] == '{' ? TRANSPARENCY_EXPECT_KEY : TRANSPARENCY_EXPECT_VALUE;
			} else if ((c == '}' && stack[depth - 1] == '{') || (c == ']' && stack[depth - 1] == '[')) {
				depth--;
				i++;
			} else {
				return -1;
			}
			break;
		}
	}
}

/* ---- encodings ---- */

/* s[0..n) as the inside of a JSON string (RFC 8259 section 7). */
static char *transparency_json_escape(const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = malloc(6 * n + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*q++ = '\\';
			*q++ = (char)c;
		} else if (c < 0x20) {
			memcpy(q, "\\u00", 4);
			q[4] = hex[c >> 4];
			q[5] = hex[c & 15];
			q += 6;
		} else {
			*q++ = (char)c;
		}
	}
	*q = 0;
	return o;
}

/* A model name as a header value: visible ASCII but '%' as is, every other
 * byte (UTF-8 included) as %XX, so no name can break the head. */
static char *transparency_header_value(const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = malloc(3 * n + 1), *q = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '%') {
			*q++ = (char)s[i];
		} else {
			*q++ = '%';
			*q++ = hex[s[i] >> 4];
			*q++ = hex[s[i] & 15];
		}
	}
	*q = 0;
	return o;
}

static unsigned transparency_hex4(const char *p)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* The escaped JSON string text p[0..n) (checked by the scanner) decoded to
 * UTF-8 into out (room for n bytes: an escape never gets longer); lone
 * surrogates become U+FFFD. Returns the length. */
static size_t transparency_json_unescape(const char *p, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\') {
			out[o++] = (unsigned char)p[i];
			continue;
		}
		char c = p[++i];
		if (c != 'u') {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *f = strchr(from, c);
			out[o++] = (unsigned char)(f ? to[f - from] : c);
			continue;
		}
		unsigned u = transparency_hex4(p + i + 1);
		i += 4;
		if (u >= 0xd800 && u < 0xdc00 && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
			unsigned lo = transparency_hex4(p + i + 3);
			if (lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
		}
		if (u >= 0xd800 && u < 0xe000)
			u = 0xfffd;
		if (u < 0x80) {
			out[o++] = (unsigned char)u;
		} else if (u < 0x800) {
			out[o++] = (unsigned char)(0xc0 | u >> 6);
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			out[o++] = (unsigned char)(0xe0 | u >> 12);
			out[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else {
			out[o++] = (unsigned char)(0xf0 | u >> 18);
			out[o++] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
			out[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			out[o++] = (unsigned char)(0x80 | (u & 0x3f));
		}
	}
	return o;
}

/* ---- end users who got the notice ---- */

static pthread_once_t transparency_seen_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t transparency_seen_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char transparency_seen_key[32];
static int transparency_seen_keyed;
static uint64_t (*transparency_seen)[2];
static size_t transparency_seen_used;

static void transparency_seen_init(void)
{
	transparency_seen_keyed = RAND_bytes(transparency_seen_key, sizeof transparency_seen_key) == 1;
}

/* 1 when (purpose, tenant, user) gets the notice now, 0 when it did
 * before. Errors answer 1: showing a notice twice is the safe mistake. */
static int transparency_seen_first(const char *purpose, const char *tenant, const char *user)
{
	unsigned char mac[32];
	unsigned int ml = sizeof mac;
	pthread_once(&transparency_seen_once, transparency_seen_init);
	if (!transparency_seen_keyed)
		return 1;
	/* HMAC-SHA-256 (RFC 2104) over purpose NUL tenant NUL user. */
	size_t lp = strlen(purpose) + 1, lt = strlen(tenant) + 1, lu = strlen(user);
	unsigned char buf[512];
	if (lp + lt + lu > sizeof buf)
		return 1;
	memcpy(buf, purpose, lp);
	memcpy(buf + lp, tenant, lt);
	memcpy(buf + lp + lt, user, lu);
	unsigned char *r = HMAC(EVP_sha256(), transparency_seen_key, sizeof transparency_seen_key, buf,
	    lp + lt + lu, mac, &ml);
	explicit_bzero(buf, sizeof buf);
	if (!r)
		return 1;
	uint64_t h[2];
	memcpy(h, mac, sizeof h);
	explicit_bzero(mac, sizeof mac);
	if (!h[0] && !h[1])
		h[0] = 1; /* all zero marks a free slot */
	int first = 1;
	pthread_mutex_lock(&transparency_seen_mu);
	if (!transparency_seen)
		transparency_seen = calloc(TRANSPARENCY_USERS, sizeof *transparency_seen);
	if (transparency_seen) {
		if (transparency_seen_used >= TRANSPARENCY_USERS / 4 * 3) {
			memset(transparency_seen, 0, TRANSPARENCY_USERS * sizeof *transparency_seen);
			transparency_seen_used = 0;
		}
		size_t k = (size_t)h[0] & (TRANSPARENCY_USERS - 1);
		while (transparency_seen[k][0] || transparency_seen[k][1]) {
			if (transparency_seen[k][0] == h[0] && transparency_seen[k][1] == h[1]) {
				first = 0;
				break;
			}
			k = (k + 1) & (TRANSPARENCY_USERS - 1);
		}
		if (first) {
			transparency_seen[k][0] = h[0];
			transparency_seen[k][1] = h[1];
			transparency_seen_used++;
		}
	}
	pthread_mutex_unlock(&transparency_seen_mu);
	return first;
}

/* ---- the filter ---- */

static void transparency_state_free(struct transparency_state *st)
{
	if (!st)
		return;
	free(st->req_model);
	free(st->req_json);
	free(st->up_json);
	free(st->model_hdr);
	if (st->scratch) {
		explicit_bzero(st->scratch, st->scratch_cap);
		free(st->scratch);
	}
	free(st);
}

static int transparency_refuse(struct filter_exchange *x, int status, const char *msg)
{
	snprintf(x->message, sizeof x->message, "%s", msg);
	x->status = status;
	x->error_type = "server_error";
	return -1;
}

static int transparency_on_request(struct filter_exchange *x, void **state)
{
	const struct transparency_rt *t = x->transparency;
	if (!t || !x->key || x->route < 0 || x->route >= OPENAI_ROUTE_COUNT ||
	    !transparency_generated[x->route])
		return 0;
	/* malloc and every field set, not calloc: glibc's calloc skips the
	 * per-thread cache and takes the arena's path, about 0.45 k
	 * instructions a request against 0.05 k (callgrind); gcc turns a
	 * malloc and a memset to zero into calloc */
	struct transparency_state *st = malloc(sizeof *st);
	if (!st)
		return transparency_refuse(x, 503, "out of memory in the transparency filter");
	*st = (struct transparency_state){.body_field = t->body_field};
	*state = st;
	/* Section entries first, then the registry's: a later setting wins. */
	for (size_t i = 0; i < t->n_purposes; i++)
		if (strcmp(t->purposes[i].id, x->key->purpose) == 0) {
			if (t->purposes[i].body_field >= 0)
				st->body_field = t->purposes[i].body_field;
			if (t->purposes[i].notice)
				st->notice = t->purposes[i].notice;
		}
	const char *mv = x->model ? x->model : "";
	st->req_model_len = strlen(mv);
	st->req_model = malloc(st->req_model_len + 1);
	st->req_json = transparency_json_escape(mv, st->req_model_len);
	if (!st->req_model || !st->req_json)
		return transparency_refuse(x, 503, "out of memory in the transparency filter");
	memcpy(st->req_model, mv, st->req_model_len);
	st->req_model[st->req_model_len] = 0;
	if (st->body_field)
		x->relay = 1;
	return 0;
}

/* "hafen":{...} for one answer or chunk; model is escaped JSON text. The
 * upstream is read when the answer is there: routing may pick it after
 * the request filters ran. */
static int transparency_add_marker(const struct filter_exchange *x, struct evbuffer *out,
    struct transparency_state *st, const char *model, size_t model_len, int comma)
{
	static const char a[] = "\"hafen\":{\"ai_generated\":true,\"model\":\"";
	static const char b[] = "\",\"upstream\":\"";
	if (!st->up_json) {
		const char *up = x->upstream ? x->upstream : "";
		if (!(st->up_json = transparency_json_escape(up, strlen(up))))
			return -1;
	}
	if (!model || !model_len) {
		model = st->req_json;
		model_len = strlen(st->req_json);
	}
	int rc = evbuffer_add(out, a, sizeof a - 1);
	rc |= evbuffer_add(out, model, model_len);
	rc |= evbuffer_add(out, b, sizeof b - 1);
	rc |= evbuffer_add(out, st->up_json, strlen(st->up_json));
	rc |= evbuffer_add(out, comma ? "\"}," : "\"}", comma ? 3 : 2);
	return rc ? -1 : 0;
}

static int transparency_on_body(struct filter_exchange *x, void **state, struct evbuffer *body)
{
	struct transparency_state *st = *state;
	if (!st)
		return 0;
	size_t n = evbuffer_get_length(body);
	const char *p = n ? (const char *)evbuffer_pullup(body, -1) : "";
	struct transparency_scan s;
	if (transparency_scan_object(p, n, &s) < 0)
		return 0; /* not a JSON object (an upstream's error page): the headers mark it */
	if (s.model && s.model_len) {
		unsigned char *u = malloc(s.model_len);
		if (!u)
			return transparency_refuse(x, 503, "out of memory in the transparency filter");
		size_t ul = transparency_json_unescape(s.model, s.model_len, u);
		free(st->model_hdr);
		st->model_hdr = NULL;
		if (3 * ul <= TRANSPARENCY_MODEL_HEADER_MAX)
			st->model_hdr = transparency_header_value(u, ul);
		free(u);
	}
	if (!st->body_field)
		return 0;
	if (s.has_hafen)
		return transparency_refuse(x, 502, "the upstream's answer already has a \"hafen\" member, "
		    "which would make the transparency marker ambiguous; it was withheld");
	struct evbuffer *head = evbuffer_new();
	if (!head)
		return transparency_refuse(x, 503, "out of memory in the transparency filter");
	int rc = evbuffer_add(head, "{", 1);
	rc |= transparency_add_marker(x, head, st, s.model, s.model_len, !s.empty);
	if (rc == 0) {
		evbuffer_drain(body, s.open + 1);
		rc = evbuffer_prepend_buffer(body, head);
	}
	evbuffer_free(head);
	return rc ? transparency_refuse(x, 503, "out of memory in the transparency filter") : 0;
}

/* Offset in raw of byte k of the event's data (data lines joined by LF,
 * the framing rules of sse.c), or TRANSPARENCY_BAD. The usual case, the
 * object's brace at the start of the first data line, takes no scan. */
static size_t transparency_raw_offset(const char *raw, size_t n, size_t k)
{
	size_t i = 0, doff = 0;
	while (i < n) {
		size_t ls = i, le, vs = 0;
		int data = n - ls >= 4 && memcmp(raw + ls, "data", 4) == 0 &&
		    (n - ls == 4 || raw[ls + 4] == ':' || raw[ls + 4] == '\r' || raw[ls + 4] == '\n');
		if (data) {
			vs = ls + 4;
			if (vs < n && raw[vs] == ':' && ++vs < n && raw[vs] == ' ')
				vs++;
			size_t at = vs + (k - doff), j = vs;
			while (j < at && j < n && raw[j] != '\n' && raw[j] != '\r')
				j++;
			if (j == at && at < n && raw[at] != '\n' && raw[at] != '\r')
				return at;
		}
		while (i < n && raw[i] != '\n' && raw[i] != '\r')
			i++;
		le = i;
		if (i < n)
			i += raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n' ? 2 : 1;
		if (data)
			doff += (vs < le ? le - vs : 0) + 1;
	}
	return TRANSPARENCY_BAD;
}

/* One whole event: a data event gets the marker after its object's
 * opening brace; [DONE] and keep-alives pass. */
static int transparency_mark_event(struct filter_exchange *x, struct transparency_state *st,
    const char *raw, size_t n, const struct sse_event *ev, struct evbuffer *out)
{
	if (!ev->has_data) {
		/* The relay's unterminated tail (a stream cut mid-event) comes as a
		 * data-less event; clients drop an incomplete event anyway
		 * (WHATWG HTML, "event stream interpretation"), and it would go
		 * out unmarked: dropped. Comments and keep-alives pass. */
		if (memmem(raw, n, "data", 4))
			return 0;
		return evbuffer_add(out, raw, n);
	}
	if (ev->is_done)
		return evbuffer_add(out, raw, n);
	struct transparency_scan s;
	/* Fail closed: a chunk that cannot carry the marker is not relayed. */
	if (transparency_scan_object(ev->data, ev->data_len, &s) < 0 || s.has_hafen)
		return -1;
	size_t at = transparency_raw_offset(raw, n, s.open);
	if (at == TRANSPARENCY_BAD || at >= n || raw[at] != '{')
		return -1;
	at++;
	int rc = evbuffer_add(out, raw, at);
	rc |= transparency_add_marker(x, out, st, s.model, s.model_len, !s.empty);
	rc |= evbuffer_add(out, raw + at, n - at);
	return rc ? -1 : 0;
}

static int transparency_on_relay(struct filter_exchange *x, void **state, const char *bytes,
    size_t n, const struct sse_event *ev, struct evbuffer *out)
{
	struct transparency_state *st = *state;
	if (!st || !st->body_field)
		return n ? evbuffer_add(out, bytes, n) : 0;
	if (ev)
		return transparency_mark_event(x, st, bytes, n, ev, out);
	/* The usual write, one event of one data line ("data: " + JSON + LF
	 * LF, as the policy filter writes a chunk it changed): read in place.
	 * With no CR, LF or NUL inside it is what sse_parse_event finds. */
	if (n > 8 && memcmp(bytes, "data: ", 6) == 0 && bytes[n - 2] == '\n' && bytes[n - 1] == '\n' &&
	    !memchr(bytes + 6, '\n', n - 8) && !memchr(bytes + 6, '\r', n - 8) && !memchr(bytes + 6, 0, n - 8)) {
		struct sse_event e = {.raw_len = n, .data = (char *)bytes + 6, .data_len = n - 8, .has_data = 1};
		e.is_done = e.data_len == 6 && memcmp(e.data, "[DONE]", 6) == 0;
		return transparency_mark_event(x, st, bytes, n, &e, out);
	}
	/* Events the event filter wrote: whole, one after another. */
	size_t off = 0;
	if (st->scratch_cap < n) {
		char *s = malloc(n);
		if (!s)
			return -1;
		if (st->scratch) {
			explicit_bzero(st->scratch, st->scratch_cap);
			free(st->scratch);
		}
		st->scratch = s;
		st->scratch_cap = n;
	}
	while (off < n) {
		struct sse_event e;
		if (sse_parse_event(bytes + off, n - off, &e, st->scratch) != SSE_PARSE_EVENT)
			return -1;
		if (transparency_mark_event(x, st, bytes + off, e.raw_len, &e, out) < 0)
			return -1;
		off += e.raw_len;
	}
	return 0;
}

static int transparency_on_head(struct filter_exchange *x, void **state, struct evbuffer *out)
{
	struct transparency_state *st = *state;
	int generated = x->upstream_answer && x->route >= 0 && x->route < OPENAI_ROUTE_COUNT &&
	    transparency_generated[x->route];
	if (!generated) {
		static const char no[] = "X-Hafen-AI-Generated: false\r\n";
		return evbuffer_add(out, no, sizeof no - 1);
	}
	static const char yes[] = "X-Hafen-AI-Generated: true\r\n";
	int rc = evbuffer_add(out, yes, sizeof yes - 1);
	char *fallback = NULL;
	const char *model = st ? st->model_hdr : NULL;
	if (!model && st && st->req_model_len)
		model = fallback = transparency_header_value((const unsigned char *)st->req_model,
		    st->req_model_len);
	if (model)
		rc |= evbuffer_add_printf(out, "X-Hafen-Model: %s\r\n", model) < 0;
	free(fallback);
	if (x->upstream) {
		char *up = transparency_header_value((const unsigned char *)x->upstream, strlen(x->upstream));
		if (up)
			rc |= evbuffer_add_printf(out, "X-Hafen-Upstream: %s\r\n", up) < 0;
		free(up);
	}
	if (st && st->notice && x->key &&
	    (!x->user[0] || transparency_seen_first(x->key->purpose, x->key->tenant, x->user)))
		rc |= evbuffer_add_printf(out, "X-Hafen-Notice: %s\r\n", st->notice) < 0;
	return rc ? -1 : 0;
}

static void transparency_on_done(struct filter_exchange *x, void **state)
{
	(void)x;
	transparency_state_free(*state);
	*state = NULL;
}

const struct filter_ops transparency_filter_ops = {
	.name = "transparency",
	.on_request = transparency_on_request,
	.on_body = transparency_on_body,
	.on_head = transparency_on_head,
	.on_relay = transparency_on_relay,
	.on_done = transparency_on_done,
};
