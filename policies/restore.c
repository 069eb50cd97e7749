/* Streaming restorer and answer guard (see restore.h for the contract). */
#include "policies/restore.h"
#include "policies/wipebuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- restorer ---- */

struct restore_stream {
	const struct rewrite_map *map;
	int json; /* escape originals for a JSON string context */
	struct wipebuf held; /* proper prefix of a placeholder, < REWRITE_PLACEHOLDER_MAX */
	struct wipebuf work;
	struct wipebuf out;
};

struct restore_stream *restore_stream_new(const struct rewrite_map *map)
{
	struct restore_stream *rs = calloc(1, sizeof(*rs));
	if (rs)
		rs->map = map;
	return rs;
}

struct restore_stream *restore_stream_new_json(const struct rewrite_map *map)
{
	struct restore_stream *rs = restore_stream_new(map);
	if (rs)
		rs->json = 1;
	return rs;
}

/* An original inside a JSON string: '"', '\\' and control bytes escaped
 * (RFC 8259 section 7); UTF-8 passes through. */
static int restore_put_json(struct wipebuf *b, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (wipebuf_put(b, esc, 2) < 0)
				return -1;
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			if (wipebuf_put(b, esc, 6) < 0)
				return -1;
		} else if (wipebuf_put(b, v + i, 1) < 0) {
			return -1;
		}
	}
	return 0;
}

void restore_stream_free(struct restore_stream *rs)
{
	if (!rs)
		return;
	wipebuf_wipe(&rs->held);
	wipebuf_wipe(&rs->work);
	wipebuf_wipe(&rs->out);
	free(rs);
}

int restore_stream_feed(struct restore_stream *rs, const char *in, size_t len,
			const char **out, size_t *outlen)
{
	const char *s = in;
	size_t n = len;
	rs->out.n = 0;
	if (wipebuf_reserve(&rs->out, len + rs->held.n) < 0)
		return -1;
	if (rs->held.n) {
		rs->work.n = 0;
		if (wipebuf_put(&rs->work, rs->held.p, rs->held.n) < 0 ||
		    wipebuf_put(&rs->work, in, len) < 0)
			return -1;
		wipebuf_consume(&rs->held, rs->held.n);
		s = rs->work.p;
		n = rs->work.n;
	}
	size_t i = 0;
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i);
		if (!lt) {
			if (wipebuf_put(&rs->out, s + i, n - i) < 0)
				return -1;
			break;
		}
		size_t at = (size_t)(lt - s);
		if (wipebuf_put(&rs->out, s + i, at - i) < 0)
			return -1;
		size_t window = n - at < REWRITE_PLACEHOLDER_MAX ? n - at : REWRITE_PLACEHOLDER_MAX;
		const char *gt = memchr(lt, '>', window);
		if (gt) {
			size_t vlen;
			const char *v = rewrite_map_lookup(rs->map, lt, (size_t)(gt - lt) + 1, &vlen);
			if (v) {
				if ((rs->json ? restore_put_json(&rs->out, v, vlen)
					      : wipebuf_put(&rs->out, v, vlen)) < 0)
					return -1;
				i = (size_t)(gt - s) + 1;
				continue;
			}
		} else if (rewrite_map_is_partial(rs->map, lt, n - at)) {
			/* Could still become a placeholder: the only thing held back. */
			if (wipebuf_put(&rs->held, lt, n - at) < 0)
				return -1;
			break;
		}
		if (wipebuf_put(&rs->out, "<", 1) < 0)
			return -1;
		i = at + 1;
	}
	if (rs->work.n) {
		explicit_bzero(rs->work.p, rs->work.n);
		rs->work.n = 0;
	}
	*out = rs->out.p ? rs->out.p : "";
	*outlen = rs->out.n;
	return 0;
}

int restore_stream_finish(struct restore_stream *rs, const char **out, size_t *outlen)
{
	rs->out.n = 0;
	if (wipebuf_put(&rs->out, rs->held.p ? rs->held.p : "", rs->held.n) < 0)
		return -1;
	wipebuf_consume(&rs->held, rs->held.n);
	*out = rs->out.p;
	*outlen = rs->out.n;
	return 0;
}

/* ---- guard ---- */

struct restore_guard {
	const struct policy_set *set;
	struct policy_context ctx;
	policy_scan_fn scan;
	void *scan_arg;
	struct wipebuf pending; /* received, not yet released */
	struct wipebuf carry;   /* last RESTORE_GUARD_CARRY released bytes (original text) */
	struct wipebuf scanbuf; /* carry + region being released */
	struct wipebuf out;
	struct policy_finding *f;   /* scratch: findings of one region */
	size_t nf, capf;
	struct policy_verdict *verdicts;
	size_t cap_verdicts;
	struct restore_guard_stats stats;
	int wrong_scanner; /* built without the set's custom detectors */
};

struct restore_guard *restore_guard_new(const struct policy_set *set,
					const struct policy_context *ctx,
					policy_scan_fn scan, void *scan_arg)
{
	struct restore_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->set = set;
	g->ctx = *ctx;
	g->scan = scan;
	g->scan_arg = scan_arg;
	g->stats.block_rule = -1;
	const struct detector *const *rows;
	if (scan == policy_scan_adapter_fn && custom_detector_rows(set, &rows) &&
	    policy_scanner_find_detector(((struct policy_scan_adapter *)scan_arg)->scanner, rows[0]->id) < 0)
		g->wrong_scanner = 1;
	return g;
}

void restore_guard_free(struct restore_guard *g)
{
	if (!g)
		return;
	wipebuf_wipe(&g->pending);
	wipebuf_wipe(&g->carry);
	wipebuf_wipe(&g->scanbuf);
	wipebuf_wipe(&g->out);
	free(g->f);
	free(g->verdicts);
	free(g);
}

static int restore_is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int restore_is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Offset of the first "-----BEGIN" whose block has no complete "-----END
 * ...-----" line before the next BEGIN (or the end), else SIZE_MAX. The
 * first one, so that an unterminated block is never released because a
 * later block is complete. */
/* The first "-----BEGIN" in p[0, n), or NULL. Most answers hold no dash
 * at all: memchr (vectorised in libc) rejects them for far fewer
 * instructions than memmem's setup costs on a short text; a dash is
 * then compared in place. */
static const char *restore_pem_begin(const char *p, size_t n)
{
	const char *q = p, *e = p + n;
	while ((size_t)(e - q) >= 10) {
		q = memchr(q, '-', (size_t)(e - q) - 9);
		if (!q)
			return NULL;
		if (memcmp(q, "-----BEGIN", 10) == 0)
			return q;
		q++;
	}
	return NULL;
}

static size_t restore_pem_open(const char *p, size_t n)
{
	const char *at = p;
	for (;;) {
		size_t left = n - (size_t)(at - p);
		const char *begin = restore_pem_begin(at, left);
		if (!begin)
			return SIZE_MAX;
		size_t b = (size_t)(begin - p);
		const char *next = restore_pem_begin(begin + 10, n - b - 10);
		size_t lim = next ? (size_t)(next - p) : n;
		const char *end = memmem(begin, lim - b, "-----END", 8);
		const char *close = end && lim - (size_t)(end + 8 - p) >= 5 ?
			memmem(end + 8, lim - (size_t)(end + 8 - p), "-----", 5) : NULL;
		if (!close)
			return b;
		if (!next)
			return SIZE_MAX;
		at = next;
	}
}

/* How many bytes of pending may be released now (the rest is held back).
 * *pem_cut is set when an unterminated PEM block hit its bound. */
static size_t restore_guard_release_point(const struct restore_guard *g, size_t *pem_from)
{
	const char *p = g->pending.p;
	size_t n = g->pending.n;
	*pem_from = SIZE_MAX;
	size_t b = restore_pem_open(p, n);
	if (b != SIZE_MAX) {
		if (n - b < RESTORE_GUARD_PEM_MAX)
			return b;
		*pem_from = b;
		return n;
	}
	size_t r = n;
	while (r > 0 && !restore_is_space(p[r - 1]))
		r--;
	if (n - r > RESTORE_GUARD_TOKEN_MAX)
		return n;
	/* Extend over short digit groups: "DE89 3704 0044 05" arrives in pieces. */
	while (r >= 2 && p[r - 1] == ' ' && n - r < 64) {
		size_t t = r - 1, k = t;
		int digit = 0;
		while (k > 0 && restore_is_alnum(p[k - 1]) && t - k < 7) {
			digit |= p[k - 1] >= '0' && p[k - 1] <= '9';
			k--;
		}
		if (k == t || t - k > 6 || !digit || (k > 0 && !restore_is_space(p[k - 1])))
			break;
		r = k;
	}
	return r;
}

static int restore_guard_push_finding(struct restore_guard *g, const struct policy_finding *f)
{
	if (g->nf == g->capf) {
		size_t cap = g->capf ? g->capf * 2 : 16;
		struct policy_finding *v = realloc(g->f, cap * sizeof(*v));
		if (!v)
			return -1;
		g->f = v;
		g->capf = cap;
	}
	g->f[g->nf++] = *f;
	return 0;
}

/* Scans carry + pending[0, r), appends the released (redacted) text to out. */
static int restore_guard_release(struct restore_guard *g, size_t r, size_t pem_from,
				 char *err, size_t errlen)
{
	if (g->wrong_scanner) {
		snprintf(err, errlen, "the scanner was not built for this policy set (use policy_set_scanner_new)");
		return -1;
	}
	if (r == 0)
		return 0;
	g->scanbuf.n = 0;
	if (wipebuf_put(&g->scanbuf, g->carry.p ? g->carry.p : "", g->carry.n) < 0 ||
	    wipebuf_put(&g->scanbuf, g->pending.p, r) < 0)
		goto nomem;
	size_t base = g->carry.n;
	const char *text = g->scanbuf.p;
	size_t len = g->scanbuf.n;
	size_t keep;

	g->nf = 0;
	if (g->scan) {
		const struct policy_finding *sf = NULL;
		size_t sn = 0;
		if (g->scan(g->scan_arg, text, len, &sf, &sn) < 0) {
			snprintf(err, errlen, "answer scan failed");
			return -1;
		}
		for (size_t i = 0; i < sn; i++)
			if (restore_guard_push_finding(g, &sf[i]) < 0)
				goto nomem;
	}
	if (!g->scan && custom_scan_text(g->set, text, len, &g->f, &g->nf, &g->capf) < 0)
		goto nomem;
	if (pem_from != SIZE_MAX) {
		struct policy_finding pf = {
			.start = (uint32_t)(base + pem_from), .end = (uint32_t)len,
			.entity = ENTITY_PRIVATE_KEY, .detector = UINT16_MAX,
			.data_class = DATA_CLASS_RESTRICTED, .confidence = 100,
		};
		if (restore_guard_push_finding(g, &pf) < 0)
			goto nomem;
	}
	/* Findings wholly inside the carry were handled when it was released. */
	size_t k = 0;
	for (size_t i = 0; i < g->nf; i++)
		if (g->f[i].end > base)
			g->f[k++] = g->f[i];
	g->nf = k;

	if (g->nf == 0) {
		/* The common case: nothing to decide, release the region as it is. */
		if (wipebuf_put(&g->out, text + base, len - base) < 0)
			goto nomem;
		goto carry;
	}
	if (g->nf > g->cap_verdicts) {
		struct policy_verdict *v = realloc(g->verdicts, g->nf * sizeof(*v));
		if (!v)
			goto nomem;
		g->verdicts = v;
		g->cap_verdicts = g->nf;
	}
	struct policy_decision d;
	if (policy_decide(g->set, &g->ctx, g->f, g->nf, g->verdicts, &d, err, errlen) < 0)
		return -1;
	g->stats.n_findings += g->nf;
	if (d.data_class > g->stats.data_class)
		g->stats.data_class = d.data_class;
	if (d.action == POLICY_ACTION_BLOCK && !g->stats.blocked) {
		g->stats.blocked = 1;
		g->stats.block_rule = d.block_rule;
	}
	policy_decision_clear(&d);

	/* Write the new part, replacing what the rules take out. Findings are
	 * applied in start order; an overlapped one is covered by the first. */
	size_t cursor = base;
	for (;;) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < g->nf; i++) {
			enum policy_action a = g->verdicts[i].action;
			if (a != POLICY_ACTION_REDACT && a != POLICY_ACTION_PSEUDONYMIZE &&
			    a != POLICY_ACTION_BLOCK && g->f[i].detector != UINT16_MAX)
				continue;
			if (g->f[i].end <= cursor)
				continue;
			if (best == SIZE_MAX || g->f[i].start < g->f[best].start)
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		const struct policy_finding *f = &g->f[best];
		size_t s = f->start > cursor ? f->start : cursor;
		if (wipebuf_put(&g->out, text + cursor, s - cursor) < 0)
			goto nomem;
		const char *label = policy_set_entity_label(g->set, f->entity);
		if (!label)
			label = "REDACTED";
		if (wipebuf_put(&g->out, "[", 1) < 0 ||
		    wipebuf_put(&g->out, label, strlen(label)) < 0 ||
		    wipebuf_put(&g->out, "]", 1) < 0)
			goto nomem;
		g->stats.n_redacted++;
		cursor = f->end;
	}
	if (wipebuf_put(&g->out, text + cursor, len - cursor) < 0)
		goto nomem;

carry:
	/* New carry: the tail of what was just scanned (original bytes). */
	keep = len < RESTORE_GUARD_CARRY ? len : RESTORE_GUARD_CARRY;
	wipebuf_consume(&g->carry, g->carry.n);
	if (wipebuf_put(&g->carry, text + len - keep, keep) < 0)
		goto nomem;
	wipebuf_consume(&g->pending, r);
	explicit_bzero(g->scanbuf.p, g->scanbuf.n);
	g->scanbuf.n = 0;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void restore_guard_reset_out(struct restore_guard *g)
{
	if (g->out.n)
		explicit_bzero(g->out.p, g->out.n);
	g->out.n = 0;
}

int restore_guard_feed(struct restore_guard *g, const char *in, size_t len,
		       const char **out, size_t *outlen, char *err, size_t errlen)
{
	restore_guard_reset_out(g);
	if (wipebuf_put(&g->pending, in, len) < 0 || wipebuf_reserve(&g->out, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t pem_from;
	size_t r = restore_guard_release_point(g, &pem_from);
	if (restore_guard_release(g, r, pem_from, err, errlen) < 0)
		return -1;
	*out = g->out.p;
	*outlen = g->out.n;
	return 0;
}

int restore_guard_finish(struct restore_guard *g, const char **out, size_t *outlen,
			 char *err, size_t errlen)
{
	restore_guard_reset_out(g);
	if (wipebuf_reserve(&g->out, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t pem_from = SIZE_MAX;
	/* An unterminated PEM block at the end is redacted whole. */
	if (g->pending.n)
		pem_from = restore_pem_open(g->pending.p, g->pending.n);
	if (restore_guard_release(g, g->pending.n, pem_from, err, errlen) < 0)
		return -1;
	*out = g->out.p;
	*outlen = g->out.n;
	return 0;
}

int restore_guard_clean(const struct policy_set *set, policy_scan_fn scan, void *scan_arg, const char *in,
			size_t len, char *err, size_t errlen)
{
	const struct detector *const *rows;
	if (!scan || restore_pem_open(in, len) != SIZE_MAX)
		return 0;
	if (scan == policy_scan_adapter_fn && custom_detector_rows(set, &rows) &&
	    policy_scanner_find_detector(((struct policy_scan_adapter *)scan_arg)->scanner, rows[0]->id) < 0)
		return 0; /* the guard refuses it with its message */
	const struct policy_finding *sf = NULL;
	size_t sn = 0;
	if (scan(scan_arg, in, len, &sf, &sn) < 0) {
		snprintf(err, errlen, "answer scan failed");
		return -1;
	}
	return sn == 0;
}

int restore_guard_whole(struct restore_guard *g, const char *in, size_t len,
			const char **out, size_t *outlen, char *err, size_t errlen)
{
	if (g->pending.n || g->carry.n) {
		snprintf(err, errlen, "the guard has seen text before");
		return -1;
	}
	if (g->wrong_scanner) {
		snprintf(err, errlen, "the scanner was not built for this policy set (use policy_set_scanner_new)");
		return -1;
	}
	restore_guard_reset_out(g);
	/* The common case, most answers: nothing found, nothing to hold or cut. */
	if (g->scan && restore_pem_open(in, len) == SIZE_MAX) {
		const struct policy_finding *sf = NULL;
		size_t sn = 0;
		if (g->scan(g->scan_arg, in, len, &sf, &sn) < 0) {
			snprintf(err, errlen, "answer scan failed");
			return -1;
		}
		if (sn == 0) {
			*out = in;
			*outlen = len;
			return 0;
		}
	}
	if (wipebuf_put(&g->pending, in, len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return restore_guard_finish(g, out, outlen, err, errlen);
}

void restore_guard_get_stats(const struct restore_guard *g, struct restore_guard_stats *st)
{
	*st = g->stats;
}
