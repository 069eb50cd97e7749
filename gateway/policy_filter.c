/* The policy engine in the request path (see policy_filter.h and the top of
 * policies/policy.h for the calling contract). Per request: walk + scan +
 * decide + rewrite on the parsed body. Per answer: guard (secrets and
 * personal data the model produces) and then the restorer (pseudonyms back
 * to the originals), one of each per choice index in a stream. Nothing here
 * logs: messages name rule ids and entity types, never text. */
#include "policy_filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwconfig.h"
#include "json_span.h"
#include "openai.h"
#include "policies/aiact.h"
#include "policies/policy.h"
#include "policies/restore.h"
#include "purpose.h"

/* Streams with more choices than this (n > 16) are refused mid-stream
 * rather than relayed unguarded. */
#define POLICY_FILTER_CHOICES 16

struct policy_filter_set {
	struct policy_set *set;
	struct policy_scanner *scanner;
	const struct purpose_registry *purposes; /* the config's (outlives this set), NULL: none */
};

struct policy_filter_choice {
	struct restore_guard *guard;
	struct restore_stream *rs;
	int finished; /* held-back text already flushed (finish_reason seen) */
};

struct policy_filter_state {
	const struct policy_filter_set *p;
	struct policy_request *req;
	struct policy_scan_adapter adapter; /* per exchange: exchanges never share a thread's scan */
	struct policy_context ctx_req, ctx_resp;
	struct policy_filter_choice choice[POLICY_FILTER_CHOICES];
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

void policy_filter_free(struct policy_filter_set *p)
{
	if (!p)
		return;
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

static void policy_filter_state_free(struct policy_filter_state *st)
{
	for (size_t i = 0; i < POLICY_FILTER_CHOICES; i++) {
		restore_guard_free(st->choice[i].guard);
		restore_stream_free(st->choice[i].rs);
	}
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
	size_t ne = policy_set_entity_count(set);
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
	for (int a = POLICY_ACTION_FLAG; a < POLICY_ACTION_COUNT && pi->n_actions < 8; a++)
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

static int policy_filter_on_request(struct filter_exchange *x, void **state)
{
	if (!x->policy || !x->body || !x->key)
		return 0;
	const struct purpose *pp = purpose_registry_find(x->policy->purposes, x->key->purpose);
	/* A high-risk purpose whose mode is off is refused as such by the
	 * purpose gate, whatever the content: ask it now, before the rules
	 * could answer with a content refusal (aiact-annex3-4) instead. */
	if (pp && pp->high_risk && !pp->high_risk_enabled)
		return purpose_check_request(x->policy->purposes, x);
	const struct openai_route_def *rd = openai_route_get(x->route);
	struct policy_filter_state *st = calloc(1, sizeof *st);
	if (!st)
		return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
	*state = st;
	st->p = x->policy;
	st->adapter.scanner = x->policy->scanner;
	policy_findings_init(&st->adapter.findings);
	st->ctx_req = (struct policy_context){x->key->purpose, x->key->tenant, rd ? rd->path : "",
	    POLICY_DIRECTION_REQUEST, policy_filter_kinds(pp)};
	st->ctx_resp = st->ctx_req;
	st->ctx_resp.direction = POLICY_DIRECTION_RESPONSE;
	st->req = policy_request_new(x->policy->set, &st->ctx_req);
	if (!st->req)
		return policy_filter_refuse(x, 503, "server_error", "out of memory in the policy filter");
	char err[200];
	if (policy_request_apply(st->req, x->body, policy_scan_adapter_fn, &st->adapter, err, sizeof err) < 0)
		/* Fail closed: an unscanned request never leaves. */
		return policy_filter_refuse(x, 500, "server_error",
		    "the policy engine could not check this request (%s); it was not forwarded", err);
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

/* A whole JSON answer: every text field through guard + restorer. */
static int policy_filter_on_body(struct filter_exchange *x, void **state, struct evbuffer *body)
{
	struct policy_filter_state *st = *state;
	if (!st)
		return 0;
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
	struct policy_filter_choice *c = &st->choice[i];
	if (!c->guard || !c->rs) {
		restore_guard_free(c->guard);
		restore_stream_free(c->rs);
		c->guard = restore_guard_new(st->p->set, &st->ctx_resp, policy_scan_adapter_fn, &st->adapter);
		c->rs = policy_request_restorer(st->req);
		if (!c->guard || !c->rs)
			return NULL;
	}
	return c;
}

/* Guard, then restore, one piece of choice c into st->buf; with finish the
 * held-back text of both follows. */
static int policy_filter_pass(struct policy_filter_state *st, struct policy_filter_choice *c,
    const char *in, size_t n, int finish)
{
	const char *g, *r;
	size_t gl, rl;
	char err[200];
	st->len = 0;
	if (restore_guard_feed(c->guard, in, n, &g, &gl, err, sizeof err) < 0 ||
	    restore_stream_feed(c->rs, g, gl, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0)
		return -1;
	if (finish) {
		if (restore_guard_finish(c->guard, &g, &gl, err, sizeof err) < 0 ||
		    restore_stream_feed(c->rs, g, gl, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0 ||
		    restore_stream_finish(c->rs, &r, &rl) < 0 || policy_filter_append(st, r, rl) < 0)
			return -1;
		c->finished = 1;
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
		struct policy_filter_choice *c = &st->choice[i];
		if (!c->guard || c->finished)
			continue;
		if (policy_filter_pass(st, c, "", 0, 1) < 0)
			return -1;
		if (st->len == 0)
			continue;
		json_t *j = st->meta ? json_deep_copy(st->meta) : json_object();
		int chat = !json_is_string(json_object_get(j, "object")) ||
		    strcmp(json_string_value(json_object_get(j, "object")), "text_completion") != 0;
		json_t *ch = json_pack("{s:I, s:n}", "index", (json_int_t)i, "finish_reason");
		json_t *text = json_stringn(st->buf, st->len);
		if (!j || !ch || !text) {
			json_decref(j);
			json_decref(ch);
			json_decref(text);
			return -1;
		}
		if (chat)
			json_object_set_new(ch, "delta", json_pack("{s:o}", "content", text));
		else
			json_object_set_new(ch, "text", text);
		json_object_set_new(j, "choices", json_pack("[o]", ch));
		int rc = policy_filter_emit(NULL, j, out);
		json_decref(j);
		if (rc < 0)
			return -1;
	}
	return 0;
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
		return evbuffer_add(out, raw, raw_len);
	}
	if (ev->is_done) {
		if (policy_filter_flush(st, out) < 0)
			return -1;
		return evbuffer_add(out, raw, raw_len);
	}
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
	int changed = 0; /* choices whose text differs from what came in */
	json_t *set_field = NULL; /* the last one, when its string was replaced */
	struct json_span_step path[4];
	size_t npath = 0;
	json_array_foreach(choices, i, ch) {
		json_t *idx = json_object_get(ch, "index");
		json_int_t ci = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)i;
		struct policy_filter_choice *c = ci >= 0 ? policy_filter_choice_get(st, (size_t)ci) : NULL;
		if (!c || c->finished) {
			json_decref(j);
			return -1;
		}
		json_t *delta = json_object_get(ch, "delta");
		json_t *field = json_is_object(delta) ? json_object_get(delta, "content") : json_object_get(ch, "text");
		json_t *fin = json_object_get(ch, "finish_reason");
		int finish = json_is_string(fin);
		if (!json_is_string(field) && !finish)
			continue;
		const char *in = json_is_string(field) ? json_string_value(field) : "";
		size_t n = json_is_string(field) ? json_string_length(field) : 0;
		if (policy_filter_pass(st, c, in, n, finish) < 0) {
			json_decref(j);
			return -1;
		}
		if (json_is_string(field)) {
			if (st->len == n && (n == 0 || memcmp(st->buf, in, n) == 0))
				continue;
			json_string_setn(field, st->buf ? st->buf : "", st->len);
			set_field = field;
			path[0] = (struct json_span_step){"choices", 0};
			path[1] = (struct json_span_step){NULL, i};
			path[2] = (struct json_span_step){json_is_object(delta) ? "delta" : "text", 0};
			path[3] = (struct json_span_step){"content", 0};
			npath = json_is_object(delta) ? 4 : 3;
		} else if (st->len && json_is_object(delta)) {
			json_object_set_new(delta, "content", json_stringn(st->buf, st->len));
			set_field = NULL;
		} else if (st->len) {
			json_object_set_new(ch, "text", json_stringn(st->buf, st->len));
			set_field = NULL;
		} else {
			continue;
		}
		changed++;
	}
	if (!changed) {
		/* guard and restorer let every text through as it came (the
		 * usual case when nothing is held back): relay the upstream's
		 * event, not a re-serialization */
		json_decref(j);
		return evbuffer_add(out, raw, raw_len);
	}
	int rc = 1;
	if (changed == 1 && set_field)
		rc = policy_filter_emit_splice(ev, set_field, path, npath, out);
	if (rc == 1)
		rc = policy_filter_emit(ev, j, out);
	json_decref(j);
	return rc;
}

static void policy_filter_on_done(struct filter_exchange *x, void **state)
{
	if (*state)
		policy_filter_state_free(*state);
	*state = NULL;
}

const struct filter_ops policy_filter_ops = {
	.name = "policy",
	.on_request = policy_filter_on_request,
	.on_body = policy_filter_on_body,
	.on_event = policy_filter_on_event,
	.on_done = policy_filter_on_done,
};
