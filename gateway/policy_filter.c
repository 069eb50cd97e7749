/* The policy engine in the request path (see policy_filter.h and the top of
 * policies/policy.h for the calling contract). Per request: walk + scan +
 * decide + rewrite on the parsed body. Per answer: guard (secrets and
 * personal data the model produces) and then the restorer (pseudonyms back
 * to the originals), one of each per choice index in a stream. Nothing here
 * logs: messages name rule ids and entity types, never text. */
#include "policy_filter.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwconfig.h"
#include "json_span.h"
#include "openai.h"
#include "sse.h"
#include "policies/aiact.h"
#include "policies/policy.h"
#include "policies/restore.h"
#include "purpose.h"

/* Streams with more choices than this (n > 16) are refused mid-stream
 * rather than relayed unguarded. */
#define POLICY_FILTER_CHOICES 16
/* Tool calls per choice in a stream (delta.tool_calls[].index); a stream
 * with more is refused mid-stream for the same reason. */
#define POLICY_FILTER_TOOLS 8
/* Parked exchange states per policy set (policy_filter_on_done). */
#define POLICY_FILTER_SPARES 32

struct policy_filter_state;

struct policy_filter_set {
	struct policy_set *set;
	struct policy_scanner *scanner;
	const struct purpose_registry *purposes; /* the config's (outlives this set), NULL: none */
	/* Finished exchanges' states, parked for the next ones (on any
	 * worker; as many slots as exchanges are commonly in flight): their
	 * request objects, findings arrays and buffers are used again instead
	 * of allocated per request. Everything in them that held text is
	 * wiped when they are parked. The set's one mutable member. */
	_Atomic(struct policy_filter_state *) spare[POLICY_FILTER_SPARES];
	/* tests only (policy_filter_set_event_tree) */
	int event_tree, event_count;
	_Atomic unsigned long events_by_bytes;
};

/* One text of the answer that arrives in pieces: guard, then restorer. */
struct policy_filter_stream {
	struct restore_guard *guard;
	struct restore_stream *rs;
	int done; /* finished: what they held went out */
};

struct policy_filter_choice {
	struct policy_filter_stream content; /* delta.content or text */
	/* tool[k]: delta.tool_calls[] with index k, arguments (JSON text, so
	 * originals go back escaped); tool[POLICY_FILTER_TOOLS]: the legacy
	 * delta.function_call.arguments */
	struct policy_filter_stream tool[POLICY_FILTER_TOOLS + 1];
	int finished; /* held-back text already flushed (finish_reason seen) */
};

struct policy_filter_state {
	const struct policy_filter_set *p;
	struct policy_request *req;
	struct policy_scan_adapter adapter; /* per exchange: exchanges never share a thread's scan */
	struct policy_context ctx_req, ctx_resp;
	/* [POLICY_FILTER_CHOICES], made by the first event of a stream: an
	 * exchange with a whole answer never needs them */
	struct policy_filter_choice *choice;
	json_t *meta; /* id, object, created, model of the last chunk: for the flush event */
	/* Answer text on its way to the client (wiped when freed). */
	char *buf;
	size_t len, cap;
};

int policy_filter_load(const struct config *cfg, struct policy_filter_set **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (cfg->policy.n_packs == 0)
		return 0;
	struct policy_filter_set *p = calloc(1, sizeof *p);
	if (!p || !(p->set = policy_set_new())) {
		free(p);
		snprintf(err, errlen, "%s: policy: out of memory", cfg->file);
		return -1;
	}
	char e[512];
	for (size_t i = 0; i < cfg->policy.n_packs; i++)
		if (policy_file_load(p->set, cfg->policy.packs[i], e, sizeof e) < 0) {
			snprintf(err, errlen, "%s: policy.packs[%zu]: %s", cfg->file, i, e);
			policy_filter_free(p);
			return -1;
		}
	if (!(p->scanner = policy_set_scanner_new(p->set, e, sizeof e))) {
		snprintf(err, errlen, "%s: policy: %s", cfg->file, e);
		policy_filter_free(p);
		return -1;
	}
	p->purposes = cfg->purposes;
	*out = p;
	return 0;
}

static void policy_filter_state_free(struct policy_filter_state *st);

void policy_filter_free(struct policy_filter_set *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < POLICY_FILTER_SPARES; i++) {
		struct policy_filter_state *spare = atomic_exchange(&p->spare[i], NULL);
		if (spare)
			policy_filter_state_free(spare);
	}
	policy_scanner_free(p->scanner);
	policy_set_free(p->set);
	free(p);
}

const char *policy_filter_hash(const struct policy_filter_set *p)
{
	return p ? policy_set_hash(p->set) : NULL;
}

static int policy_filter_refuse(struct filter_exchange *x, int status, const char *type,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int policy_filter_refuse(struct filter_exchange *x, int status, const char *type,
    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->message, sizeof x->message, fmt, ap);
	va_end(ap);
	x->status = status;
	x->error_type = type;
	return -1;
}

/* The per-choice restorers and guards of an answer, freed. */
static void policy_filter_choices_free(struct policy_filter_state *st)
{
	for (size_t i = 0; st->choice && i < POLICY_FILTER_CHOICES; i++) {
		restore_guard_free(st->choice[i].content.guard);
		restore_stream_free(st->choice[i].content.rs);
		for (size_t k = 0; k <= POLICY_FILTER_TOOLS; k++) {
			restore_guard_free(st->choice[i].tool[k].guard);
			restore_stream_free(st->choice[i].tool[k].rs);
		}
	}
	free(st->choice);
	st->choice = NULL;
}

static void policy_filter_state_free(struct policy_filter_state *st)
{
	policy_filter_choices_free(st);
	policy_request_free(st->req);
	policy_findings_free(&st->adapter.findings);
	json_decref(st->meta);
	if (st->buf) {
		explicit_bzero(st->buf, st->cap);
		free(st->buf);
	}
	free(st);
}

/* Types, counts, rule ids and actions for the audit record (filter.h). */
static void policy_filter_note(struct filter_exchange *x, const struct policy_request *r,
    const struct policy_decision *d)
{
	const struct policy_set *set = x->policy->set;
	struct filter_policy_info *pi = &x->policy_info;
	pi->policy_hash = policy_set_hash(set);
	pi->decision = policy_action_name(d->action);
	size_t ne = d->n_findings ? policy_set_entity_count(set) : 0; /* no findings: no types */
	for (size_t e = 0; d->entity_counts && e < ne && pi->n_types < FILTER_FINDING_TYPES; e++)
		if (d->entity_counts[e]) {
			pi->type[pi->n_types] = policy_set_entity_name(set, (unsigned)e);
			pi->count[pi->n_types++] = d->entity_counts[e];
		}
	for (size_t i = 0; i < d->n_fired && pi->n_rules < FILTER_RULE_IDS; i++)
		pi->rule_id[pi->n_rules++] = policy_set_rule_id(set, d->fired[i]);
	const struct policy_finding *f;
	const struct policy_verdict *v;
	const size_t *field_of;
	size_t n = policy_request_findings(r, &f, &v, &field_of);
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++)
		seen |= 1u << v[i].action;
	if (d->action == POLICY_ACTION_BLOCK)
		seen |= 1u << POLICY_ACTION_BLOCK;
	/* in the enum's order, ending with the last action seen (none: no loop) */
	for (int a = POLICY_ACTION_FLAG; (seen >> a) && a < POLICY_ACTION_COUNT && pi->n_actions < 8; a++)
		if (seen & (1u << a))
			pi->action[pi->n_actions++] = policy_action_name((enum policy_action)a);
}

/* The context kinds the purpose registry vouches for (policy.h). An
 * Annex III point 4 purpose whose high-risk mode is on (purpose.c refuses
 * to load one without workers informed, an overseer and 180 days of logs)
 * makes an employment decision its legitimate use (AI Act Art. 6(2), 26). */
static unsigned policy_filter_kinds(const struct purpose *p)
{
	unsigned kinds = 0;
	if (p && p->area != PURPOSE_AREA_NONE && p->high_risk_enabled && p->workers_informed[0] && p->overseer &&
	    p->retention_days >= PURPOSE_HIGH_RISK_MIN_RETENTION_DAYS)
		kinds |= 1u << POLICY_CONTEXT_KIND_EMPLOYMENT_HIGH_RISK;
	return kinds;
}

/* The request's text fields read from the client's bytes (no tree):
 * json_span_request_texts finds them in the tree walk's order, with what
 * the AI Act screener reads (instruction texts, media parts), escaped
 * strings are decoded into one buffer (a JSON escape never decodes to
 * more bytes than it takes), and policy_request_scan_texts screens, scans
 * and decides. 0 (and *rewrite); 1: this body needs the tree (a form the
 * span walk does not take); -1 with err. */
static int policy_filter_request_texts(struct filter_exchange *x, struct policy_filter_state *st,
    int *rewrite, char *err, size_t errlen)
{
	enum { POLICY_FILTER_TEXTS = 16 };
	struct json_span_text spbuf[POLICY_FILTER_TEXTS], *sp;
	struct policy_text txbuf[POLICY_FILTER_TEXTS], *tx = txbuf;
	size_t ns, need = 0, used = 0;
	unsigned media = 0;
	/* instruction marks and media only for a set that screens */
	unsigned *mp = policy_set_screens_aiact(st->p->set) ? &media : NULL;
	const char *src = x->body_src;
	char *dec = NULL;
	int rc = 1;
	const struct openai_texts *bt = x->body_texts;
	if (bt && bt->ok && bt->src == src && bt->len == x->body_src_len) {
		/* the validating pass recorded the walk's texts already */
		sp = (struct json_span_text *)bt->v;
		ns = bt->n;
		media = mp ? bt->media : 0;
	} else if (json_span_request_texts(src, x->body_src_len, spbuf, POLICY_FILTER_TEXTS, &sp, &ns, mp) < 0) {
		return 1;
	}
	if (ns > POLICY_FILTER_TEXTS && !(tx = malloc(ns * sizeof *tx)))
		goto out;
	for (size_t i = 0; i < ns; i++)
		if (sp[i].escaped)
			need += sp[i].end - sp[i].start - 2;
	if (need && !(dec = malloc(need)))
		goto out;
	for (size_t i = 0; i < ns; i++) {
		const char *raw = src + sp[i].start + 1;
		size_t rl = sp[i].end - sp[i].start - 2;
		uint8_t kind = sp[i].kind == JSON_SPAN_KIND_JSON ? REQUEST_WALK_JSON : REQUEST_WALK_TEXT;
		uint8_t ins = (uint8_t)sp[i].instruction;
		if (!sp[i].escaped) {
			tx[i] = (struct policy_text){raw, rl, kind, ins};
			continue;
		}
		size_t dl = openai_scan_unescape(raw, rl, dec + used, need - used);
		if (dl == (size_t)-1)
			goto out;
		tx[i] = (struct policy_text){dec + used, dl, kind, ins};
		used += dl;
	}
	rc = policy_request_scan_texts(st->req, tx, ns, media, policy_scan_adapter_fn, &st->adapter, rewrite,
	    err, errlen);
out:
	if (dec) {
		explicit_bzero(dec, need);
		free(dec);
	}
	if (tx != txbuf)
		free(tx);
	if (sp != spbuf && !(bt && sp == bt->v))
		free(sp);
	return rc;
}

static int policy_filter_on_request(struct filter_exchange *x, void **state)
{
	if (!x->policy || (!x->body && !x->body_src) || !x->key)
		return 0;
	const struct purpose *pp = purpose_registry_find(x->policy->purposes, x->key->purpose);
	/* A high-risk purpose whose mode is off is refused as such by the
	 * purpose gate, whatever the content: ask it now, before the rules
	 * could answer with a content refusal (aiact-annex3-4) instead. */
	if (pp && pp->high_risk && !pp->high_risk_enabled)
		return purpose_check_request(x->policy->purposes, x);
	const struct openai_route_def *rd = openai_route_get(x->route);
	/* the parked state of an earlier exchange, else a new one */
	struct policy_filter_set *ps = (struct policy_filter_set *)x->policy;
	struct policy_filter_state *st = NULL;
	for (size_t i = 0; !st && i < POLICY_FILTER_SPARES; i++)
		if (atomic_load_explicit(&ps->spare[i], memory_order_relaxed))
			st = atomic_exchange(&ps->spare[i], NULL);
	if (!st && (st = calloc(1, sizeof *st)))
		policy_findings_init(&st->adapter.findings);
	if (!st)
		return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
	*state = st;
	st->p = x->policy;
	st->adapter.scanner = x->policy->scanner;
	st->ctx_req = (struct policy_context){x->key->purpose, x->key->tenant, rd ? rd->path : "",
	    POLICY_DIRECTION_REQUEST, policy_filter_kinds(pp)};
	st->ctx_resp = st->ctx_req;
	st->ctx_resp.direction = POLICY_DIRECTION_RESPONSE;
	if (st->req)
		policy_request_reset(st->req, x->policy->set, &st->ctx_req);
	else
		st->req = policy_request_new(x->policy->set, &st->ctx_req);
	if (!st->req)
		return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
	char err[200];
	int rewrite = 0, rc = x->body ? 1 : policy_filter_request_texts(x, st, &rewrite, err, sizeof err);
	json_t *tree = NULL; /* parsed here: the bytes must be rewritten, or the span walk declined */
	if (!x->body && (rc == 1 || (rc == 0 && rewrite))) {
		int stream;
		tree = rd ? openai_body_parse(rd, x->body_src, x->body_src_len, &stream, err, sizeof err) : NULL;
		rc = tree ? 1 : -1;
		if (!rd)
			snprintf(err, sizeof err, "no route");
	}
	if (rc == 1)
		rc = policy_request_apply(st->req, tree ? tree : x->body, policy_scan_adapter_fn, &st->adapter, err,
		    sizeof err);
	if (rc < 0) {
		json_decref(tree);
		/* Fail closed: an unscanned request never leaves. */
		return policy_filter_refuse(x, 500, "server_error",
		    "the policy engine could not check this request (%s); it was not forwarded", err);
	}
	const struct policy_decision *d = policy_request_decision(st->req);
	x->data_class = (int)d->data_class;
	policy_filter_note(x, st->req, d);
	/* Only redact and pseudonymize change text; without either the body
	 * is forwarded as the client sent it (server.c, no re-serialization). */
	const struct policy_finding *f;
	const struct policy_verdict *v;
	const size_t *field_of;
	size_t nf = policy_request_findings(st->req, &f, &v, &field_of);
	for (size_t i = 0; i < nf; i++)
		if (v[i].action == POLICY_ACTION_REDACT || v[i].action == POLICY_ACTION_PSEUDONYMIZE)
			x->body_rewritten = 1;
	if (tree && !x->body) {
		/* the server has no tree to serialize: the filter does it */
		if (x->body_rewritten && d->action != POLICY_ACTION_BLOCK && !(x->body_out = json_dumps(tree, JSON_COMPACT))) {
			json_decref(tree);
			return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
		}
		json_decref(tree);
	}
	if (d->action == POLICY_ACTION_BLOCK) {
		const char *rule = d->block_rule >= 0 ? policy_set_rule_id(x->policy->set, (size_t)d->block_rule) : NULL;
		const char *ent = policy_set_entity_name(x->policy->set, d->block_entity);
		/* An AI Act finding names the article it screens for (Art. 5(1)(f)). */
		const char *art = aiact_entity_article(d->block_entity);
		if (art)
			return policy_filter_refuse(x, 403, "policy_violation",
			    "request blocked by policy rule %s (%s): the request asks for a practice the rule refuses",
			    rule ? rule : "(unnamed)", art);
		return policy_filter_refuse(x, 403, "policy_violation",
		    "request blocked by policy rule %s: it contains %s", rule ? rule : "(unnamed)",
		    ent ? ent : "a protected entity");
	}
	return 0;
}

static int policy_filter_pass(struct policy_filter_state *st, struct policy_filter_stream *s,
    int json, const char *in, size_t n, int finish);

/* The JSON form of a text as json_dumps writes it, without a tree, in
 * jansson's (wiping) allocator like a tree's strings (free it with
 * openai_json_free_string); NULL when out of memory or not UTF-8. */
static char *policy_filter_quote(const char *text, size_t len)
{
	char qbuf[1024];
	size_t cap = len < (SIZE_MAX - 2) / 6 ? 6 * len + 2 : SIZE_MAX;
	char *q = cap <= sizeof qbuf ? qbuf : malloc(cap);
	size_t ql = q ? openai_json_quote(text ? text : "", len, q, cap) : (size_t)-1;
	char *out = ql != (size_t)-1 ? openai_json_copy_string(q, ql) : NULL;
	if (q) {
		explicit_bzero(q, ql != (size_t)-1 ? ql : (q == qbuf ? sizeof qbuf : cap));
		if (q != qbuf)
			free(q);
	}
	return out;
}

/* One text of a whole answer (src, the string's JSON source with its
 * quotes; escaped: it holds a backslash) through the guard and the
 * restorer (policy_request_answer_text): *changed says whether the result
 * differs, and then *out holds its JSON form (policy_filter_quote). */
static int policy_filter_body_text(struct filter_exchange *x, struct policy_filter_state *st,
    const char *src, size_t srclen, int escaped, int json, int *changed, char **out)
{
	*changed = 0;
	*out = NULL;
	json_t *dec = NULL;
	const char *in = src + 1;
	size_t n = srclen - 2;
	if (escaped) {
		/* escapes: let jansson decode this one string */
		if (!(dec = json_loadb(src, srclen, JSON_DECODE_ANY, NULL)) || !json_is_string(dec)) {
			json_decref(dec);
			return -1;
		}
		in = json_string_value(dec);
		n = json_string_length(dec);
	}
	struct restore_guard_stats gs = {.block_rule = -1};
	const char *o;
	size_t on;
	char err[200];
	int rc = policy_request_answer_text(st->req, in, n, json, policy_scan_adapter_fn, &st->adapter, &o, &on,
	    changed, &gs, err, sizeof err);
	if (rc == 0 && (int)gs.data_class > x->data_class)
		x->data_class = (int)gs.data_class;
	if (rc == 0 && *changed) {
		*out = policy_filter_quote(o, on);
		rc = *out ? 0 : -1;
	}
	json_decref(dec);
	return rc;
}

/* The whole answer without a tree (json_span_answer_texts): each text
 * guarded and restored; only changed strings are replaced in the
 * upstream's bytes. 0; 1: the walk does not take this answer (the caller
 * uses the tree); -1: refused. */
static int policy_filter_body_spans(struct filter_exchange *x, struct policy_filter_state *st,
    struct evbuffer *body)
{
	size_t n = evbuffer_get_length(body);
	const char *t = (const char *)evbuffer_pullup(body, -1);
	struct json_span_text spbuf[8], *sp;
	size_t ns;
	const struct openai_texts *at = x->answer_texts;
	if (t && at && at->ok && at->src == t && at->len == n) {
		/* the check of the answer (upstream.c) recorded its texts */
		sp = (struct json_span_text *)at->v;
		ns = at->n;
	} else if (!t || json_span_answer_texts_buf(t, n, spbuf, 8, &sp, &ns) < 0) {
		return 1;
	}
	struct evbuffer *nb = NULL;
	size_t done = 0; /* bytes of t already in nb */
	int rc = 0;
	for (size_t i = 0; i < ns && rc == 0; i++) {
		int changed;
		char *s;
		if (policy_filter_body_text(x, st, t + sp[i].start, sp[i].end - sp[i].start, sp[i].escaped,
		    sp[i].kind == JSON_SPAN_KIND_JSON, &changed, &s) < 0) {
			rc = policy_filter_refuse(x, 502, "server_error",
			    "the policy engine could not check the answer; it was withheld");
			break;
		}
		if (!changed)
			continue;
		if (!nb && !(nb = evbuffer_new()))
			rc = -1;
		if (rc == 0 && (evbuffer_add(nb, t + done, sp[i].start - done) < 0 ||
		    evbuffer_add(nb, s, strlen(s)) < 0))
			rc = -1;
		done = sp[i].end;
		openai_json_free_string(s);
	}
	if (sp != spbuf && !(at && sp == at->v))
		free(sp);
	if (rc == 0 && nb) {
		/* the new answer replaces the old; the old bytes held answer
		 * text and are wiped on the way out */
		if (evbuffer_add(nb, t + done, n - done) < 0) {
			rc = -1;
		} else {
			explicit_bzero((char *)t, n);
			evbuffer_drain(body, n);
			rc = evbuffer_add_buffer(body, nb);
		}
	}
	if (nb)
		evbuffer_free(nb);
	return rc;
}

/* A whole JSON answer: every text field through guard + restorer. */
static int policy_filter_on_body(struct filter_exchange *x, void **state, struct evbuffer *body)
{
	struct policy_filter_state *st = *state;
	if (!st)
		return 0;
	int sr = policy_filter_body_spans(x, st, body);
	if (sr != 1)
		return sr;
	size_t n = evbuffer_get_length(body);
	json_t *j = json_loadb((const char *)evbuffer_pullup(body, -1), n, 0, NULL);
	if (!j)
		return 0; /* not JSON (an upstream error page): it carries no answer text */
	char err[200];
	struct restore_guard_stats gs;
	if (policy_request_restore_answer(st->req, j, policy_scan_adapter_fn, &st->adapter, &gs, err,
	    sizeof err) < 0) {
		json_decref(j);
		return policy_filter_refuse(x, 502, "server_error",
		    "the policy engine could not check the answer (%s); it was withheld", err);
	}
	if ((int)gs.data_class > x->data_class)
		x->data_class = (int)gs.data_class;
	if (gs.n_changed == 0) {
		/* nothing restored or redacted: the upstream's bytes go out as
		 * they came, not serialized again */
		json_decref(j);
		return 0;
	}
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
	evbuffer_drain(body, n);
	int rc = evbuffer_add(body, s, strlen(s));
	openai_json_free_string(s);
	return rc;
}

static int policy_filter_append(struct policy_filter_state *st, const char *s, size_t n)
{
	if (st->len + n > st->cap) {
		size_t cap = st->cap ? st->cap : 256;
		while (cap < st->len + n)
			cap *= 2;
		char *b = malloc(cap);
		if (!b)
			return -1;
		if (st->buf) {
			memcpy(b, st->buf, st->len);
			explicit_bzero(st->buf, st->cap);
			free(st->buf);
		}
		st->buf = b;
		st->cap = cap;
	}
	if (n)
		memcpy(st->buf + st->len, s, n);
	st->len += n;
	return 0;
}

static struct policy_filter_choice *policy_filter_choice_get(struct policy_filter_state *st, size_t i)
{
	if (i >= POLICY_FILTER_CHOICES)
		return NULL;
	if (!st->choice && !(st->choice = calloc(POLICY_FILTER_CHOICES, sizeof *st->choice)))
		return NULL;
	return &st->choice[i];
}

/* Guard, then restore, one piece of the text s into st->buf; with finish
 * the held-back text of both follows. The pair is made on the first piece
 * (json: the text is JSON source, tool-call arguments). */
static int policy_filter_pass(struct policy_filter_state *st, struct policy_filter_stream *s,
    int json, const char *in, size_t n, int finish)
{
	const char *g, *r;
	size_t gl, rl;
	char err[200];
	st->len = 0;
	if (s->done)
		return -1; /* text after the end: not ours to pass unguarded */
	if (!s->guard) {
		if (n == 0 && finish) {
			s->done = 1;
			return 0;
		}
		restore_stream_free(s->rs);
		s->guard = restore_guard_new(st->p->set, &st->ctx_resp, policy_scan_adapter_fn, &st->adapter);
		s->rs = json ? policy_request_restorer_json(st->req) : policy_request_restorer(st->req);
		if (!s->guard || !s->rs) {
			restore_guard_free(s->guard);
			s->guard = NULL;
			return -1;
		}
	}
	if (restore_guard_feed(s->guard, in, n, &g, &gl, err, sizeof err) < 0 ||
	    restore_stream_feed(s->rs, g, gl, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0)
		return -1;
	if (finish) {
		if (restore_guard_finish(s->guard, &g, &gl, err, sizeof err) < 0 ||
		    restore_stream_feed(s->rs, g, gl, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0 ||
		    restore_stream_finish(s->rs, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0)
			return -1;
		s->done = 1;
	}
	return 0;
}

/* A choice ends: the tool-call arguments its guards and restorers still
 * hold go into delta (an object of the client's chunk) as tool_calls
 * entries with their index, or as function_call.arguments. *added counts
 * the texts added. */
static int policy_filter_finish_tools(struct policy_filter_state *st, struct policy_filter_choice *c,
    json_t *delta, int *added)
{
	for (size_t k = 0; k <= POLICY_FILTER_TOOLS; k++) {
		struct policy_filter_stream *s = &c->tool[k];
		if (!s->guard || s->done)
			continue;
		if (policy_filter_pass(st, s, 1, "", 0, 1) < 0)
			return -1;
		if (st->len == 0)
			continue;
		json_t *args = json_stringn(st->buf, st->len);
		if (!args)
			return -1;
		if (k == POLICY_FILTER_TOOLS) {
			json_t *fc = json_object_get(delta, "function_call");
			if (!json_is_object(fc)) {
				fc = json_object();
				if (!fc || json_object_set_new(delta, "function_call", fc) < 0) {
					json_decref(args);
					return -1;
				}
			}
			if (json_object_set_new(fc, "arguments", args) < 0)
				return -1;
		} else {
			json_t *calls = json_object_get(delta, "tool_calls");
			if (!json_is_array(calls)) {
				calls = json_array();
				if (!calls || json_object_set_new(delta, "tool_calls", calls) < 0) {
					json_decref(args);
					return -1;
				}
			}
			json_t *tc = json_pack("{s:I, s:{s:o}}", "index", (json_int_t)k, "function",
			    "arguments", args);
			if (!tc || json_array_append_new(calls, tc) < 0)
				return -1;
		}
		(*added)++;
	}
	return 0;
}

static int policy_filter_emit(const struct sse_event *ev, json_t *j, struct evbuffer *out)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return -1;
	int rc = 0;
	if (ev && ev->type)
		rc |= evbuffer_add_printf(out, "event: %.*s\n", (int)ev->type_len, ev->type) < 0;
	if (ev && ev->id)
		rc |= evbuffer_add_printf(out, "id: %.*s\n", (int)ev->id_len, ev->id) < 0;
	rc |= evbuffer_add(out, "data: ", 6);
	rc |= evbuffer_add(out, s, strlen(s));
	rc |= evbuffer_add(out, "\n\n", 2);
	openai_json_free_string(s);
	return rc ? -1 : 0;
}

/* One string of the event changed (the usual case while the guard holds
 * back each event's last word): put its new JSON form into the upstream's
 * data bytes instead of serializing the whole event again. 0; 1 when the
 * span cannot be found exactly (json_span.h) or the data spans several
 * lines, nothing written: the caller serializes the tree; -1 on error. */
static int policy_filter_emit_splice(const struct sse_event *ev, json_t *field,
    const struct json_span_step *path, size_t npath, struct evbuffer *out)
{
	size_t a, b;
	if (memchr(ev->data, '\n', ev->data_len) || memchr(ev->data, '\r', ev->data_len) ||
	    json_span_find(ev->data, ev->data_len, path, npath, &a, &b) < 0 || ev->data[a] != '"')
		return 1;
	char *s = json_dumps(field, JSON_ENCODE_ANY);
	if (!s)
		return -1;
	int rc = 0;
	if (ev->type)
		rc |= evbuffer_add_printf(out, "event: %.*s\n", (int)ev->type_len, ev->type) < 0;
	if (ev->id)
		rc |= evbuffer_add_printf(out, "id: %.*s\n", (int)ev->id_len, ev->id) < 0;
	rc |= evbuffer_add(out, "data: ", 6);
	rc |= evbuffer_add(out, ev->data, a);
	rc |= evbuffer_add(out, s, strlen(s));
	rc |= evbuffer_add(out, ev->data + b, ev->data_len - b);
	rc |= evbuffer_add(out, "\n\n", 2);
	openai_json_free_string(s);
	/* a failed add leaves a partial event in out: the stream is cut */
	return rc ? -1 : 0;
}

/* End of stream: what the guards and restorers still hold goes out in one
 * last chunk per choice, shaped like the upstream's chunks. */
static int policy_filter_flush(struct policy_filter_state *st, struct evbuffer *out)
{
	for (size_t i = 0; i < POLICY_FILTER_CHOICES; i++) {
		if (!st->choice)
			break; /* no event had a choice: nothing is held */
		struct policy_filter_choice *c = &st->choice[i];
		int any = c->content.guard != NULL;
		for (size_t k = 0; k <= POLICY_FILTER_TOOLS; k++)
			any |= c->tool[k].guard != NULL;
		if (c->finished || !any)
			continue;
		c->finished = 1;
		json_t *j = st->meta ? json_deep_copy(st->meta) : json_object();
		int chat = !json_is_string(json_object_get(j, "object")) ||
		    strcmp(json_string_value(json_object_get(j, "object")), "text_completion") != 0;
		json_t *ch = json_pack("{s:I, s:n}", "index", (json_int_t)i, "finish_reason");
		json_t *delta = json_object();
		if (!j || !ch || !delta) {
			json_decref(j);
			json_decref(ch);
			json_decref(delta);
			return -1;
		}
		int added = 0, rc = 0;
		if (policy_filter_pass(st, &c->content, 0, "", 0, 1) < 0)
			rc = -1;
		else if (st->len) {
			json_t *text = json_stringn(st->buf, st->len);
			rc = !text || json_object_set_new(chat ? delta : ch, chat ? "content" : "text", text) < 0 ? -1 : 0;
			added++;
		}
		if (rc == 0 && chat)
			rc = policy_filter_finish_tools(st, c, delta, &added);
		if (rc == 0 && added && chat)
			rc = json_object_set(ch, "delta", delta);
		if (rc == 0 && added)
			rc = json_object_set_new(j, "choices", json_pack("[O]", ch));
		if (rc == 0 && added)
			rc = policy_filter_emit(NULL, j, out);
		json_decref(delta);
		json_decref(ch);
		json_decref(j);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* What one event's texts became: changed counts the texts that differ
 * from what came in; set_field is the last one when a string was replaced
 * in place (path: where it sits in the event), NULL when members were
 * added (then only a re-serialization will do). */
struct policy_filter_edit {
	int changed;
	json_t *set_field;
	struct json_span_step path[JSON_SPAN_MAX_PATH];
	size_t npath;
};

/* One string piece of an answer text (field, a jansson string) through its
 * guard and restorer, replaced in place when it changed. */
static int policy_filter_text(struct policy_filter_state *st, struct policy_filter_stream *s, int json,
    json_t *field, int finish, struct policy_filter_edit *ed, const struct json_span_step *path,
    size_t npath)
{
	const char *in = json_string_value(field);
	size_t n = json_string_length(field);
	if (policy_filter_pass(st, s, json, in, n, finish) < 0)
		return -1;
	if (st->len == n && (n == 0 || memcmp(st->buf, in, n) == 0))
		return 0;
	if (json_string_setn(field, st->buf ? st->buf : "", st->len) < 0)
		return -1;
	ed->set_field = field;
	memcpy(ed->path, path, npath * sizeof *path);
	ed->npath = npath;
	ed->changed++;
	return 0;
}

/* Tool-call arguments in a chunk's delta: delta.tool_calls[].function.arguments
 * (one stream per tool-call index) and the legacy delta.function_call.arguments.
 * Arguments that are there but not a string could carry text: refused. */
static int policy_filter_tools_event(struct policy_filter_state *st, struct policy_filter_choice *c,
    json_t *delta, size_t i, int finish, struct policy_filter_edit *ed)
{
	json_t *calls = json_object_get(delta, "tool_calls");
	if (calls && !json_is_array(calls) && !json_is_null(calls))
		return -1;
	size_t k;
	json_t *tc;
	json_array_foreach(calls, k, tc) {
		json_t *idx = json_object_get(tc, "index");
		json_int_t ti = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)k;
		json_t *args = json_object_get(json_object_get(tc, "function"), "arguments");
		if (!args || json_is_null(args))
			continue;
		if (!json_is_string(args) || ti < 0 || ti >= POLICY_FILTER_TOOLS)
			return -1;
		const struct json_span_step path[] = {{"choices", 0}, {NULL, i}, {"delta", 0},
		    {"tool_calls", 0}, {NULL, k}, {"function", 0}, {"arguments", 0}};
		if (policy_filter_text(st, &c->tool[ti], 1, args, finish, ed, path, 7) < 0)
			return -1;
	}
	json_t *args = json_object_get(json_object_get(delta, "function_call"), "arguments");
	if (args && !json_is_null(args)) {
		if (!json_is_string(args))
			return -1;
		const struct json_span_step path[] = {{"choices", 0}, {NULL, i}, {"delta", 0},
		    {"function_call", 0}, {"arguments", 0}};
		if (policy_filter_text(st, &c->tool[POLICY_FILTER_TOOLS], 1, args, finish, ed, path, 5) < 0)
			return -1;
	}
	return 0;
}

/* One element of an event's choices[]: its content (or completion text)
 * and tool-call arguments; with finish_reason, what is still held for the
 * choice goes into this event. */
static int policy_filter_choice_event(struct policy_filter_state *st, json_t *ch, size_t i,
    struct policy_filter_edit *ed)
{
	json_t *idx = json_object_get(ch, "index");
	json_int_t ci = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)i;
	struct policy_filter_choice *c = ci >= 0 ? policy_filter_choice_get(st, (size_t)ci) : NULL;
	if (!c || c->finished)
		return -1;
	json_t *delta = json_object_get(ch, "delta");
	int chat = json_is_object(delta);
	json_t *field = chat ? json_object_get(delta, "content") : json_object_get(ch, "text");
	int finish = json_is_string(json_object_get(ch, "finish_reason"));
	if (json_is_string(field)) {
		const struct json_span_step path[] = {{"choices", 0}, {NULL, i},
		    {chat ? "delta" : "text", 0}, {"content", 0}};
		if (policy_filter_text(st, &c->content, 0, field, finish, ed, path, chat ? 4 : 3) < 0)
			return -1;
	} else if (finish) {
		if (policy_filter_pass(st, &c->content, 0, "", 0, 1) < 0)
			return -1;
		if (st->len) {
			if (json_object_set_new(chat ? delta : ch, chat ? "content" : "text",
			    json_stringn(st->buf, st->len)) < 0)
				return -1;
			ed->set_field = NULL;
			ed->changed++;
		}
	}
	if (chat && policy_filter_tools_event(st, c, delta, i, finish, ed) < 0)
		return -1;
	if (finish) {
		int added = 0;
		if (chat && policy_filter_finish_tools(st, c, delta, &added) < 0)
			return -1;
		if (added) {
			ed->set_field = NULL;
			ed->changed += added;
		}
		c->finished = 1;
	}
	return 0;
}

void policy_filter_set_event_tree(struct policy_filter_set *p, int tree)
{
	p->event_tree = tree;
	p->event_count = 1;
	atomic_store(&p->events_by_bytes, 0);
}

unsigned long policy_filter_events_by_bytes(const struct policy_filter_set *p)
{
	return atomic_load(&p->events_by_bytes);
}

/* Answer texts of one event found in its bytes: at most this many per
 * event (more go to the tree). */
#define POLICY_FILTER_PIECES 16

struct policy_filter_piece {
	size_t start, end; /* the string in the event's data, quotes included */
	struct policy_filter_stream *s;
	int json;          /* tool-call arguments */
	char *out;         /* its new JSON form (policy_filter_quote); NULL: unchanged */
};

struct policy_filter_pieces {
	struct policy_filter_piece v[POLICY_FILTER_PIECES];
	size_t n;
};

/* The value at m as jansson's json_is_integer and json_integer_value read
 * it (RFC 8259 int: no fraction, no exponent): 1 and *v; 0 when it is no
 * integer (the element's position counts then); -1 for an integer this
 * does not read (negative, 18 digits or more): the tree decides. */
static int policy_filter_span_index(const char *t, const struct json_span_member *m, size_t *v)
{
	if (!m->found || (t[m->start] != '-' && (t[m->start] < '0' || t[m->start] > '9')))
		return 0;
	for (size_t i = m->start; i < m->end; i++)
		if (t[i] == '.' || t[i] == 'e' || t[i] == 'E')
			return 0;
	uint64_t u;
	if (json_span_uint(t, m->start, m->end, &u) < 0)
		return -1;
	*v = (size_t)u;
	return 1;
}

/* The members of the object at t[start, end), offsets made absolute. */
static int policy_filter_span_members(const char *t, size_t start, size_t end, struct json_span_member *m,
    size_t n)
{
	if (json_span_members(t + start, end - start, m, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (m[i].found)
			m[i].start += start, m[i].end += start;
	return 0;
}

static int policy_filter_span_push(struct policy_filter_pieces *pc, size_t start, size_t end,
    struct policy_filter_stream *s, int json)
{
	if (pc->n == POLICY_FILTER_PIECES)
		return -1;
	pc->v[pc->n++] = (struct policy_filter_piece){start, end, s, json, NULL};
	return 0;
}

/* Arguments at function (an object): absent or null is none (0), a
 * string a piece, anything else could carry text: refused (-1, as the
 * tree walk does). 1: the tree decides. */
static int policy_filter_span_arguments(const char *t, const struct json_span_member *function,
    struct policy_filter_pieces *pc, struct policy_filter_stream *s)
{
	struct json_span_member am = {.key = "arguments"};
	if (policy_filter_span_members(t, function->start, function->end, &am, 1) < 0)
		return 1;
	if (!am.found || t[am.start] == 'n')
		return 0;
	if (t[am.start] != '"' || !s)
		return -1;
	return policy_filter_span_push(pc, am.start, am.end, s, 1) < 0 ? 1 : 0;
}

/* One element of the event's choices[] (at t[cs, ce), position i): its
 * pieces in the order policy_filter_choice_event takes them (content or
 * text, tool_calls[] arguments, function_call arguments) and the same
 * refusals. 0; 1: for the tree (a finish_reason, whose held-back text
 * adds members; a form not compared); -1: refused. */
static int policy_filter_span_choice(struct policy_filter_state *st, const char *t, size_t len, size_t cs,
    size_t ce, size_t i, struct policy_filter_pieces *pc)
{
	struct json_span_member m[] = {{.key = "index"}, {.key = "delta"}, {.key = "text"}, {.key = "finish_reason"}};
	size_t ci = i;
	int obj = t[cs] == '{';
	if (obj && (policy_filter_span_members(t, cs, ce, m, 4) < 0 || policy_filter_span_index(t, &m[0], &ci) < 0))
		return 1;
	struct policy_filter_choice *c = policy_filter_choice_get(st, ci);
	if (!c || c->finished)
		return -1;
	if (!obj)
		return 0;
	if (m[3].found && t[m[3].start] == '"')
		return 1;
	int chat = m[1].found && t[m[1].start] == '{';
	struct json_span_member d[] = {{.key = "content"}, {.key = "tool_calls"}, {.key = "function_call"}};
	if (chat && policy_filter_span_members(t, m[1].start, m[1].end, d, 3) < 0)
		return 1;
	const struct json_span_member *field = chat ? &d[0] : &m[2];
	if (field->found && t[field->start] == '"' &&
	    policy_filter_span_push(pc, field->start, field->end, &c->content, 0) < 0)
		return 1;
	if (!chat)
		return 0;
	if (d[1].found && t[d[1].start] != '[' && t[d[1].start] != 'n')
		return -1;
	if (d[1].found && t[d[1].start] == '[') {
		size_t it = d[1].start, es, ee;
		int r;
		for (size_t k = 0; (r = json_span_next(t, len, &it, &es, &ee)) == 1; k++) {
			struct json_span_member tm[] = {{.key = "index"}, {.key = "function"}};
			size_t ti = k;
			if (t[es] != '{')
				continue;
			if (policy_filter_span_members(t, es, ee, tm, 2) < 0 || policy_filter_span_index(t, &tm[0], &ti) < 0)
				return 1;
			if (!tm[1].found || t[tm[1].start] != '{')
				continue;
			int a = policy_filter_span_arguments(t, &tm[1], pc, ti < POLICY_FILTER_TOOLS ? &c->tool[ti] : NULL);
			if (a != 0)
				return a;
		}
		if (r < 0)
			return 1;
	}
	if (d[2].found && t[d[2].start] == '{')
		return policy_filter_span_arguments(t, &d[2], pc, &c->tool[POLICY_FILTER_TOOLS]);
	return 0;
}

/* The event's pieces through their guards and restorers, in order; a
 * piece that changed gets its new JSON form. *changed counts them. */
static int policy_filter_span_feed(struct policy_filter_state *st, const char *t, struct policy_filter_pieces *pc,
    int *changed)
{
	char stackbuf[512];
	for (size_t k = 0; k < pc->n; k++) {
		struct policy_filter_piece *p = &pc->v[k];
		const char *in = t + p->start + 1;
		size_t n = p->end - p->start - 2;
		char *dec = NULL;
		if (memchr(in, '\\', n)) {
			/* escapes decode to no more bytes than they take (validated) */
			dec = n <= sizeof stackbuf ? stackbuf : malloc(n);
			size_t dl = dec ? openai_scan_unescape(in, n, dec, n) : (size_t)-1;
			if (dl == (size_t)-1) {
				if (dec && dec != stackbuf)
					free(dec);
				return -1;
			}
			in = dec;
			n = dl;
		}
		int rc = policy_filter_pass(st, p->s, p->json, in, n, 0);
		int same = rc == 0 && st->len == n && (n == 0 || memcmp(st->buf, in, n) == 0);
		if (dec) {
			explicit_bzero(dec, n);
			if (dec != stackbuf)
				free(dec);
		}
		if (rc < 0)
			return -1;
		if (same)
			continue;
		if (!(p->out = policy_filter_quote(st->buf, st->len)))
			return -1;
		(*changed)++;
	}
	return 0;
}

/* The event with its changed strings replaced, in document order. */
static int policy_filter_span_emit(const struct sse_event *ev, struct policy_filter_pieces *pc,
    struct evbuffer *out)
{
	/* insertion sort by position: a few pieces, in document order already
	 * unless a delta lists tool_calls before content */
	for (size_t k = 1; k < pc->n; k++)
		for (size_t j = k; j > 0 && pc->v[j - 1].start > pc->v[j].start; j--) {
			struct policy_filter_piece tmp = pc->v[j];
			pc->v[j] = pc->v[j - 1];
			pc->v[j - 1] = tmp;
		}
	int rc = 0;
	size_t done = 0;
	if (ev->type)
		rc |= evbuffer_add_printf(out, "event: %.*s\n", (int)ev->type_len, ev->type) < 0;
	if (ev->id)
		rc |= evbuffer_add_printf(out, "id: %.*s\n", (int)ev->id_len, ev->id) < 0;
	rc |= evbuffer_add(out, "data: ", 6);
	for (size_t k = 0; k < pc->n; k++) {
		if (!pc->v[k].out)
			continue;
		rc |= evbuffer_add(out, ev->data + done, pc->v[k].start - done);
		rc |= evbuffer_add(out, pc->v[k].out, strlen(pc->v[k].out));
		done = pc->v[k].end;
	}
	rc |= evbuffer_add(out, ev->data + done, ev->data_len - done);
	rc |= evbuffer_add(out, "\n\n", 2);
	/* a failed add leaves a partial event in out: the stream is cut */
	return rc ? -1 : 0;
}

/* One event without a tree, the usual chunk (the stream's first event,
 * which keeps the chunk's id and model for the flush, one with usage
 * and one with a finish_reason take the tree): the answer texts are found
 * in the data's bytes, passed in the order the tree walk takes them, and
 * only the strings that changed are replaced. 0 done; 1 not taken here,
 * nothing fed (the caller parses the event); -1 refused. */
static int policy_filter_event_spans(struct filter_exchange *x, struct policy_filter_state *st,
    const struct sse_event *ev, struct evbuffer *out)
{
	const char *t = ev->data;
	size_t n = ev->data_len;
	if (!st->meta || st->p->event_tree || memchr(t, '\n', n) || memchr(t, '\r', n))
		return 1;
	/* what json_loadb would refuse is refused: fail closed; the pass
	 * that validates finds the top members too */
	struct json_span_member top[] = {{.key = "choices"}, {.key = "usage"}};
	int vr = openai_scan_json_members(t, n, top, 2);
	if (vr < 0)
		return -1;
	if (vr > 0 || (top[1].found && t[top[1].start] == '{'))
		return 1;
	if (top[0].found && t[top[0].start] != '[')
		return -1;
	struct policy_filter_pieces pc;
	pc.n = 0;
	if (top[0].found) {
		size_t it = top[0].start, cs, ce;
		int r;
		for (size_t i = 0; (r = json_span_next(t, n, &it, &cs, &ce)) == 1; i++) {
			int c = policy_filter_span_choice(st, t, n, cs, ce, i, &pc);
			if (c != 0)
				return c;
		}
		if (r < 0)
			return 1;
	}
	if (st->p->event_count)
		atomic_fetch_add_explicit(&((struct policy_filter_set *)st->p)->events_by_bytes, 1, memory_order_relaxed);
	int changed = 0;
	int rc = policy_filter_span_feed(st, t, &pc, &changed);
	if (rc == 0 && !changed)
		x->event_pass = 1; /* the upstream's event goes on as it came */
	else if (rc == 0)
		rc = policy_filter_span_emit(ev, &pc, out);
	for (size_t k = 0; k < pc.n; k++)
		if (pc.v[k].out)
			openai_json_free_string(pc.v[k].out);
	return rc;
}

static int policy_filter_on_event(struct filter_exchange *x, void **state, const char *raw,
    size_t raw_len, const struct sse_event *ev, struct evbuffer *out)
{
	struct policy_filter_state *st = *state;
	if (!st)
		return evbuffer_add(out, raw, raw_len);
	if (!ev->has_data) {
		/* Keep-alives and comments pass; the unterminated tail of a stream
		 * that ended mid-event (the relay's flush) may hold answer text
		 * nobody guarded: it is dropped, not relayed. */
		if (memmem(raw, raw_len, "data", 4))
			return 0;
		x->event_pass = 1;
		return 0;
	}
	if (ev->is_done) {
		if (policy_filter_flush(st, out) < 0)
			return -1;
		x->event_pass = 1; /* after the held-back text */
		return 0;
	}
	int sr = policy_filter_event_spans(x, st, ev, out);
	if (sr != 1)
		return sr;
	/* Anything we cannot read could carry text: fail closed. */
	json_t *j = json_loadb(ev->data, ev->data_len, 0, NULL);
	json_t *choices = json_object_get(j, "choices");
	if (!json_is_object(j) || (choices && !json_is_array(choices))) {
		json_decref(j);
		return -1;
	}
	if (!st->meta) {
		static const char *const keep[] = {"id", "object", "created", "model"};
		st->meta = json_object();
		for (size_t k = 0; st->meta && k < sizeof keep / sizeof keep[0]; k++) {
			json_t *v = json_object_get(j, keep[k]);
			if (v && !json_is_object(v) && !json_is_array(v))
				json_object_set(st->meta, keep[k], v);
		}
	}
	json_t *usage = json_object_get(j, "usage");
	if (json_is_object(usage)) {
		json_t *pt = json_object_get(usage, "prompt_tokens"), *ct = json_object_get(usage, "completion_tokens");
		if (json_is_integer(pt) && json_integer_value(pt) >= 0)
			x->policy_info.prompt_tokens = (uint64_t)json_integer_value(pt);
		if (json_is_integer(ct) && json_integer_value(ct) >= 0)
			x->policy_info.completion_tokens = (uint64_t)json_integer_value(ct);
	}
	size_t i;
	json_t *ch;
	struct policy_filter_edit ed = {0};
	json_array_foreach(choices, i, ch) {
		if (policy_filter_choice_event(st, ch, i, &ed) < 0) {
			json_decref(j);
			return -1;
		}
	}
	int changed = ed.changed;
	if (!changed) {
		/* guard and restorer let every text through as it came (the
		 * usual case when nothing is held back): relay the upstream's
		 * event, not a re-serialization */
		json_decref(j);
		x->event_pass = 1;
		return 0;
	}
	int rc = 1;
	if (changed == 1 && ed.set_field)
		rc = policy_filter_emit_splice(ev, ed.set_field, ed.path, ed.npath, out);
	if (rc == 1)
		rc = policy_filter_emit(ev, j, out);
	json_decref(j);
	return rc;
}

/* The state after its exchange, made ready for the next: what held text
 * (placeholder map, answer text, held-back stream text) is wiped and
 * freed, the arrays of offsets stay. */
static void policy_filter_park(struct policy_filter_state *st)
{
	policy_filter_choices_free(st);
	json_decref(st->meta);
	st->meta = NULL;
	if (st->buf)
		explicit_bzero(st->buf, st->cap);
	st->len = 0;
	policy_request_reset(st->req, st->p->set, &st->ctx_req);
	policy_findings_clear(&st->adapter.findings);
}

static void policy_filter_on_done(struct filter_exchange *x, void **state)
{
	struct policy_filter_state *st = *state;
	(void)x;
	*state = NULL;
	if (!st)
		return;
	if (!st->req) {
		policy_filter_state_free(st);
		return;
	}
	policy_filter_park(st);
	struct policy_filter_set *ps = (struct policy_filter_set *)st->p;
	for (size_t i = 0; i < POLICY_FILTER_SPARES; i++) {
		struct policy_filter_state *none = NULL;
		if (!atomic_load_explicit(&ps->spare[i], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&ps->spare[i], &none, st))
			return;
	}
	policy_filter_state_free(st); /* every slot taken */
}

const struct filter_ops policy_filter_ops = {
	.name = "policy",
	.on_request = policy_filter_on_request,
	.on_body = policy_filter_on_body,
	.on_event = policy_filter_on_event,
	.on_done = policy_filter_on_done,
};
