/* See policy_request_diff.h. */
#include "tests/unit/policy_request_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/json_span.h"
#include "gateway/openai.h"
#include "gateway/policy_filter.h"
#include "gateway/sse.h"
#include "gateway/transparency.h"
#include "policies/aiact.h"
#include "policies/policy.h"

static struct policy_filter_set *diff_set;

struct policy_filter_set *policy_request_diff_packs(const char *who)
{
	static struct policy_filter_set *set;
	if (set)
		return set;
	openai_json_init();
	const char *top = getenv("top_srcdir");
	static const char *const names[] = {"gdpr-default.json", "secrets.json", "special-categories.json",
	    "ai-act.json"};
	char paths[4][1024];
	char *packs[4];
	for (int i = 0; i < 4; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/policies/packs/%s", top ? top : ".", names[i]);
		packs[i] = paths[i];
	}
	struct config cfg = {.file = "diff.json"};
	cfg.policy.packs = packs;
	cfg.policy.n_packs = 4;
	char err[512];
	if (policy_filter_load(&cfg, &set, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", who, err);
		abort();
	}
	return set;
}

static int diff_streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The AI Act screener over the span walk's instruction texts and media
 * against aiact_screen_request on the tree: the same features, media and
 * hits (parts are field indexes, the same both ways when the texts are). */
static int diff_aiact(const struct json_span_text *sp, size_t ns, unsigned media, json_t *tree, json_t *const *f,
    struct policy_request_diff_stats *st, char *why, size_t whylen)
{
	static struct aiact_model *m;
	char err[160];
	if (!m && !(m = aiact_model_new(err, sizeof err))) {
		fprintf(stderr, "policy_request_diff: %s\n", err);
		abort();
	}
	struct aiact_text *at = calloc(ns ? ns : 1, sizeof *at);
	if (!at)
		abort();
	for (size_t i = 0; i < ns; i++)
		if (sp[i].instruction) {
			/* the decoded span text, equal to the tree's (diff_texts) */
			at[i] = (struct aiact_text){json_string_value(f[i]), json_string_length(f[i])};
			st->instructions++;
		}
	struct aiact_result ra, rb, rr;
	aiact_screen_request(m, tree, f, ns, &ra);
	aiact_screen(m, at, ns, media, &rb);
	/* the screener's byte-class loop, the reference of its fast one */
	aiact_screen_reference(m, at, ns, media, &rr);
	free(at);
	int same = rr.features == rb.features && rr.media == rb.media;
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT && same; p++)
		same = rr.hits[p].found == rb.hits[p].found && (!rr.hits[p].found || (rr.hits[p].part == rb.hits[p].part &&
		    rr.hits[p].start == rb.hits[p].start && rr.hits[p].end == rb.hits[p].end));
	if (!same) {
		snprintf(why, whylen, "AI Act: the screener's fast loop and its reference differ");
		return 1;
	}
	st->media += media != 0;
	st->aiact_features += ra.features != 0;
	if (ra.features != rb.features || ra.media != rb.media) {
		snprintf(why, whylen, "AI Act features %#llx media %u by the tree, %#llx media %u by the spans",
		    (unsigned long long)ra.features, ra.media, (unsigned long long)rb.features, rb.media);
		return 1;
	}
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++)
		if (memcmp(&ra.hits[p], &rb.hits[p], sizeof ra.hits[p]) != 0 &&
		    (ra.hits[p].found || rb.hits[p].found)) {
			snprintf(why, whylen, "AI Act hit %s differs", aiact_practice_rule_id((enum aiact_practice)p));
			return 1;
		}
	return 0;
}

/* The texts the validating pass recorded against the span walk's: when
 * the record holds, the walk takes the body and finds the same. */
static int diff_record(const struct openai_texts *t, const char *body, size_t len,
    struct policy_request_diff_stats *st, char *why, size_t whylen)
{
	struct json_span_text *sp;
	size_t ns;
	unsigned media;
	if (!t->ok)
		return 0;
	st->recorded++;
	if (json_span_request_texts(body, len, NULL, 0, &sp, &ns, &media) < 0) {
		snprintf(why, whylen, "the validating pass recorded texts of a body the span walk declines");
		return 1;
	}
	int same = t->src == body && t->len == len && t->n == ns && t->media == media;
	for (size_t i = 0; same && i < ns; i++)
		same = t->v[i].start == sp[i].start && t->v[i].end == sp[i].end && t->v[i].kind == sp[i].kind &&
		    t->v[i].instruction == sp[i].instruction && t->v[i].escaped == sp[i].escaped;
	free(sp);
	if (!same)
		snprintf(why, whylen, "the recorded texts differ from the span walk's (%zu / %zu)", t->n, ns);
	return !same;
}

/* The span walk's texts, decoded, against the tree walk's strings. */
static int diff_texts(const char *body, size_t len, json_t *tree, struct policy_request_diff_stats *st,
    char *why, size_t whylen)
{
	struct json_span_text *sp;
	size_t ns;
	json_t **f;
	uint8_t *k;
	size_t nf;
	char err[64];
	int rc = 0;
	unsigned media;
	if (json_span_request_texts(body, len, NULL, 0, &sp, &ns, &media) < 0) {
		st->span_declined++;
		return 0; /* declined: the filter takes the tree */
	}
	if (request_walk_collect_kinds(tree, &f, &k, &nf, err, sizeof err) < 0) {
		snprintf(why, whylen, "the span walk took a body the tree walk refuses (%s)", err);
		free(sp);
		return 1;
	}
	if (nf != ns) {
		snprintf(why, whylen, "texts: %zu by the spans, %zu by the tree", ns, nf);
		rc = 1;
	}
	for (size_t i = 0; i < ns && rc == 0; i++) {
		size_t rl = sp[i].end - sp[i].start - 2;
		char *d = malloc(rl + 1);
		size_t dl = d ? openai_scan_unescape(body + sp[i].start + 1, rl, d, rl + 1) : (size_t)-1;
		int kind = sp[i].kind == JSON_SPAN_KIND_JSON ? REQUEST_WALK_JSON : REQUEST_WALK_TEXT;
		if (dl == (size_t)-1 || dl != json_string_length(f[i]) || memcmp(d, json_string_value(f[i]), dl) != 0 ||
		    kind != k[i]) {
			snprintf(why, whylen, "text %zu differs (value or kind)", i);
			rc = 1;
		}
		free(d);
		st->texts_compared++;
	}
	if (rc == 0)
		rc = diff_aiact(sp, ns, media, tree, f, st, why, whylen);
	/* without media (a set that does not screen) the same spans */
	struct json_span_text *sq;
	size_t nq;
	if (rc == 0 && json_span_request_texts(body, len, NULL, 0, &sq, &nq, NULL) == 0) {
		for (size_t i = 0; i < ns && nq == ns && rc == 0; i++)
			rc = sq[i].start != sp[i].start || sq[i].end != sp[i].end || sq[i].kind != sp[i].kind;
		if (rc || nq != ns) {
			snprintf(why, whylen, "the span walk without media found other texts");
			rc = 1;
		}
		free(sq);
	}
	free(sp);
	free(f);
	free(k);
	return rc;
}

void policy_request_diff_exchange(struct filter_exchange *x, struct policy_filter_set *set, const char *request_id)
{
	static const struct config_key key = {.name = "k", .tenant = "t", .purpose = "chat"};
	memset(x, 0, sizeof *x);
	x->request_id = request_id;
	x->key = &key;
	x->route = OPENAI_ROUTE_CHAT;
	x->upstream = "engine";
	x->policy = set;
}

/* One run of the request filters; *x is left for the caller to compare
 * and then to finish with filter_run_done. */
static int diff_run(struct filter_exchange *x, const struct config_key *key, int route, json_t *tree,
    const char *body, size_t len, const struct openai_texts *texts)
{
	policy_request_diff_exchange(x, diff_set, "diff");
	x->key = key;
	x->route = route;
	x->body = tree;
	x->body_src = body;
	x->body_src_len = len;
	x->body_texts = texts; /* the bytes run as the server does it */
	int rc = filter_run_request(x);
	x->body_texts = NULL;
	return rc;
}

static int diff_info(const struct filter_policy_info *a, const struct filter_policy_info *b)
{
	if (a->policy_hash != b->policy_hash || !diff_streq(a->decision, b->decision) || a->n_types != b->n_types ||
	    a->n_rules != b->n_rules || a->n_actions != b->n_actions)
		return 1;
	for (size_t i = 0; i < a->n_types; i++)
		if (!diff_streq(a->type[i], b->type[i]) || a->count[i] != b->count[i])
			return 1;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!diff_streq(a->rule_id[i], b->rule_id[i]))
			return 1;
	for (size_t i = 0; i < a->n_actions; i++)
		if (!diff_streq(a->action[i], b->action[i]))
			return 1;
	return 0;
}

int policy_request_diff(const char *body, size_t len, struct policy_request_diff_stats *st, char *why,
    size_t whylen)
{
	static const struct config_key key = {.name = "k", .tenant = "t", .purpose = "chat"};
	static const int routes[] = {OPENAI_ROUTE_CHAT, OPENAI_ROUTE_COMPLETIONS, OPENAI_ROUTE_EMBEDDINGS};
	diff_set = policy_request_diff_packs("policy_request_diff");
	const struct openai_route_def *rd = NULL;
	struct openai_body_info bi;
	struct openai_texts rec;
	char err[256];
	for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !rd; i++) {
		const struct openai_route_def *r = openai_route_get(routes[i]);
		if (openai_body_check_texts(r, body, len, &bi, &rec, err, sizeof err) == 0)
			rd = r;
	}
	if (!rd)
		return -1;
	int stream;
	json_t *tree = openai_body_parse(rd, body, len, &stream, err, sizeof err);
	if (!tree)
		return -1; /* the two validators disagree: fuzz_openai_scan's business */
	int rc = diff_texts(body, len, tree, st, why, whylen);
	if (rc == 0)
		rc = diff_record(&rec, body, len, st, why, whylen);
	struct filter_exchange a, b;
	int ra = diff_run(&a, &key, rd->route, tree, body, len, NULL);
	int rb = diff_run(&b, &key, rd->route, NULL, body, len, &rec);
	char *sa = a.body_rewritten && ra == 0 ? json_dumps(tree, JSON_COMPACT) : NULL;
	if (rc == 0 && (ra != rb || a.status != b.status || !diff_streq(a.error_type, b.error_type) ||
	    strcmp(a.message, b.message) != 0)) {
		snprintf(why, whylen, "outcome: tree %d/%d, bytes %d/%d", ra, a.status, rb, b.status);
		rc = 1;
	}
	if (rc == 0 && (a.data_class != b.data_class || diff_info(&a.policy_info, &b.policy_info))) {
		snprintf(why, whylen, "decision, class or audit info differ");
		rc = 1;
	}
	if (rc == 0 && a.body_rewritten != b.body_rewritten) {
		snprintf(why, whylen, "body_rewritten: tree %d, bytes %d", a.body_rewritten, b.body_rewritten);
		rc = 1;
	}
	if (rc == 0 && ra == 0 && (sa ? !b.body_out || strcmp(sa, b.body_out) != 0 : b.body_out != NULL)) {
		snprintf(why, whylen, "the rewritten body differs");
		rc = 1;
	}
	st->compared++;
	st->rewritten += sa != NULL;
	st->blocked += ra < 0;
	st->findings += a.policy_info.n_types > 0;
	if (sa)
		openai_json_free_string(sa);
	if (b.body_out)
		openai_json_free_string(b.body_out);
	a.status = b.status = 200;
	filter_run_done(&a);
	filter_run_done(&b);
	json_decref(tree);
	return rc;
}

/* ---- SSE answers: tree against bytes ---- */

/* One run of an exchange; the events' return codes go to rcs (up to the
 * first refusal), their output to out. -1 when the request did not pass. */
static int events_run(const char *prompt, size_t plen, const char *stream, size_t slen, int tree, int *rcs,
    size_t *nrc, struct evbuffer *out)
{
	struct filter_exchange x;
	policy_request_diff_exchange(&x, diff_set, "diff");
	policy_filter_set_event_tree(diff_set, tree);
	x.body = json_pack("{s:s, s:[{s:s, s:s%}], s:b}", "model", "m", "messages", "role", "user", "content", prompt,
	    plen, "stream", 1);
	if (!x.body)
		return -1;
	int rc = filter_run_request(&x);
	char *scratch = rc == 0 ? malloc(slen + 1) : NULL;
	size_t off = 0;
	*nrc = 0;
	while (scratch && off < slen) {
		struct sse_event ev;
		if (sse_parse_event(stream + off, slen - off, &ev, scratch) != SSE_PARSE_EVENT)
			break;
		int frc = filter_run_event(&x, stream + off, ev.raw_len, &ev, out);
		rcs[(*nrc)++] = frc;
		off += ev.raw_len;
		if (frc < 0 || *nrc == 4096)
			break;
	}
	free(scratch);
	x.status = 200;
	filter_run_done(&x);
	json_decref(x.body);
	return rc == 0 ? 0 : -1;
}

/* The two outputs event by event: the same fields, data equal as JSON
 * (or as bytes when it is no JSON: [DONE]). */
static int events_same(const char *a, size_t al, const char *b, size_t bl, unsigned long *changed, char *why,
    size_t whylen)
{
	char *sa = malloc(al + 1), *sb = malloc(bl + 1);
	size_t oa = 0, ob = 0, k = 0;
	int rc = 0;
	while (sa && sb && rc == 0) {
		struct sse_event ea, eb;
		int ra = oa < al ? sse_parse_event(a + oa, al - oa, &ea, sa) : SSE_PARSE_AGAIN;
		int rb = ob < bl ? sse_parse_event(b + ob, bl - ob, &eb, sb) : SSE_PARSE_AGAIN;
		if (ra != rb) {
			snprintf(why, whylen, "output event %zu: there one way only", k);
			rc = 1;
			break;
		}
		if (ra != SSE_PARSE_EVENT)
			break;
		json_t *ja = json_loadb(ea.data, ea.data_len, 0, NULL), *jb = json_loadb(eb.data, eb.data_len, 0, NULL);
		int same = ea.has_data == eb.has_data && ea.type_len == eb.type_len && ea.id_len == eb.id_len &&
		    (!ea.type_len || memcmp(ea.type, eb.type, ea.type_len) == 0) &&
		    (!ea.id_len || memcmp(ea.id, eb.id, ea.id_len) == 0) &&
		    (ja || jb ? ja && jb && json_equal(ja, jb)
			      : ea.data_len == eb.data_len && memcmp(ea.data, eb.data, ea.data_len) == 0);
		json_decref(ja);
		json_decref(jb);
		if (!same) {
			snprintf(why, whylen, "output event %zu differs", k);
			rc = 1;
		}
		*changed += ea.raw_len != eb.raw_len || memcmp(a + oa, b + ob, ea.raw_len) != 0;
		oa += ea.raw_len;
		ob += eb.raw_len;
		k++;
	}
	/* what is not a whole event (relayed as it came) must be the same */
	if (rc == 0 && (al - oa != bl - ob || (al > oa && memcmp(a + oa, b + ob, al - oa) != 0))) {
		snprintf(why, whylen, "output: %zu of %zu bytes read as events by the tree, %zu of %zu by bytes, the "
		    "rest differs", oa, al, ob, bl);
		rc = 1;
	}
	free(sa);
	free(sb);
	return rc;
}

int policy_events_diff(const char *prompt, size_t plen, const char *stream, size_t slen,
    struct policy_events_diff_stats *st, char *why, size_t whylen)
{
	diff_set = policy_request_diff_packs("policy_events_diff");
	enum { EVENTS_MAX = 4096 };
	static int ra[EVENTS_MAX], rb[EVENTS_MAX];
	size_t na = 0, nb = 0;
	struct evbuffer *oa = evbuffer_new(), *ob = evbuffer_new();
	if (!oa || !ob)
		abort();
	int qa = events_run(prompt, plen, stream, slen, 1, ra, &na, oa);
	int qb = events_run(prompt, plen, stream, slen, 0, rb, &nb, ob);
	unsigned long by_bytes = policy_filter_events_by_bytes(diff_set);
	policy_filter_set_event_tree(diff_set, 0);
	int rc = 0;
	if (qa < 0 || qb < 0) {
		rc = qa == qb ? -1 : 1;
		if (rc == 1)
			snprintf(why, whylen, "the request passed one way only");
	} else if (na != nb || memcmp(ra, rb, na * sizeof *ra) != 0) {
		snprintf(why, whylen, "event results: %zu events by the tree, %zu by bytes, or a code differs", na, nb);
		rc = 1;
	} else {
		size_t la = evbuffer_get_length(oa), lb = evbuffer_get_length(ob);
		rc = events_same((const char *)evbuffer_pullup(oa, -1), la, (const char *)evbuffer_pullup(ob, -1), lb,
		    &st->bytes_differ, why, whylen);
	}
	if (rc >= 0) {
		st->streams++;
		st->events += na;
		st->by_bytes += by_bytes;
		st->refused += na && ra[na - 1] < 0;
	}
	evbuffer_free(oa);
	evbuffer_free(ob);
	return rc;
}

/* ---- the filter chain: policy then transparency, against the two apart ---- */

/* The Art. 50 settings of a config with no transparency section (the
 * marker in every chunk), loaded once. */
static struct transparency_rt *chain_transparency(void)
{
	static struct transparency_rt *rt;
	static const char text[] =
		"{\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":1,\"plain\":true}],"
		"\"upstreams\":[{\"name\":\"engine\",\"url\":\"http://127.0.0.1:2\"}],"
		"\"keys\":[{\"name\":\"k\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
	if (rt)
		return rt;
	char err[256];
	struct config *cfg = config_load_string(text, sizeof text - 1, "chain.json", ".", err, sizeof err);
	if (!cfg || transparency_load(cfg, &rt, err, sizeof err) < 0) {
		fprintf(stderr, "policy_chain_diff: %s\n", err);
		abort();
	}
	config_unref(cfg);
	return rt;
}

/* The events of s through the filters as upstream.c hands them on: one
 * new buffer per event (fresh) or one buffer for all, appended to all; a
 * tail that is no whole event goes as a data-less event. Counts the
 * events the event filter passed on (event_pass). 0, or -1 at the first
 * refusal (what that event wrote is not kept). */
static int chain_feed(struct filter_exchange *x, const char *s, size_t sl, int fresh, struct evbuffer *all,
    unsigned long *passed)
{
	char *scratch = malloc(sl + 1);
	int rc = scratch ? 0 : -1;
	for (size_t off = 0; rc == 0 && off < sl;) {
		struct sse_event ev;
		int pr = sse_parse_event(s + off, sl - off, &ev, scratch);
		if (pr == SSE_PARSE_ERROR) {
			rc = -1;
			break;
		}
		if (pr == SSE_PARSE_AGAIN) {
			ev.raw_len = sl - off;
			ev.has_data = 0;
		}
		struct evbuffer *piece = fresh ? evbuffer_new() : all;
		if (!piece)
			abort();
		rc = filter_run_event(x, s + off, ev.raw_len, &ev, piece);
		*passed += x->event_pass != 0;
		if (fresh) {
			if (rc == 0)
				evbuffer_add_buffer(all, piece);
			evbuffer_free(piece);
		}
		off += ev.raw_len;
	}
	free(scratch);
	return rc;
}

/* One exchange: the policy (set) and the marker (rt) each on or off; -2
 * when the request did not pass. */
static int chain_run(const char *prompt, size_t plen, const char *s, size_t sl, struct policy_filter_set *set,
    struct transparency_rt *rt, int fresh, struct evbuffer *all, unsigned long *passed)
{
	struct filter_exchange x;
	policy_request_diff_exchange(&x, set, "chain");
	x.model = "m";
	x.transparency = rt;
	x.body = json_pack("{s:s, s:[{s:s, s:s%}], s:b}", "model", "m", "messages", "role", "user", "content", prompt,
	    plen, "stream", 1);
	if (!x.body)
		return -2; /* not UTF-8: the gateway's parser refuses it */
	int rc = filter_run_request(&x) < 0 ? -2 : chain_feed(&x, s, sl, fresh, all, passed);
	x.status = 200;
	filter_run_done(&x);
	json_decref(x.body);
	return rc;
}

int policy_chain_diff(const char *prompt, size_t plen, const char *stream, size_t slen,
    struct policy_events_diff_stats *st, char *why, size_t whylen)
{
	struct policy_filter_set *set = policy_request_diff_packs("policy_chain_diff");
	struct transparency_rt *rt = chain_transparency();
	policy_filter_set_event_tree(set, 0);
	struct evbuffer *chain = evbuffer_new(), *one = evbuffer_new(), *pol = evbuffer_new(), *ref = evbuffer_new();
	if (!chain || !one || !pol || !ref)
		abort();
	unsigned long passed = 0, ignored = 0;
	int rc = 0;
	/* the chain, as the relay runs it */
	int qc = chain_run(prompt, plen, stream, slen, set, rt, 1, chain, &passed);
	/* the reference: the policy alone, then the marker alone on what the
	 * policy wrote (parsed again, as the chain did before it took passed
	 * events as parsed) */
	int qp = chain_run(prompt, plen, stream, slen, set, NULL, 1, pol, &ignored);
	size_t pl = evbuffer_get_length(pol);
	int qr = qp == -2 ? -2 :
	    chain_run("", 0, pl ? (const char *)evbuffer_pullup(pol, -1) : "", pl, NULL, rt, 1, ref, &ignored);
	size_t cl = evbuffer_get_length(chain), rl = evbuffer_get_length(ref);
	if (qp == -2 || qc == -2) {
		rc = qp == qc ? -1 : 1;
		if (rc == 1)
			snprintf(why, whylen, "the request passed one way only");
	} else if ((qc < 0) != (qp < 0 || qr < 0)) {
		snprintf(why, whylen, "the chain %s, policy then marker apart %s", qc < 0 ? "refused" : "did not refuse",
		    qp < 0 || qr < 0 ? "refused" : "did not");
		rc = 1;
	} else if (cl != rl || (cl && memcmp(evbuffer_pullup(chain, -1), evbuffer_pullup(ref, -1), cl) != 0)) {
		snprintf(why, whylen, "the chain wrote %zu bytes, policy then marker apart %zu, or other bytes", cl, rl);
		rc = 1;
	} else if (qc == 0) {
		/* one buffer for all the events (the event filter then writes
		 * into a buffer of its own): the same bytes */
		int qo = chain_run(prompt, plen, stream, slen, set, rt, 0, one, &ignored);
		size_t ol = evbuffer_get_length(one);
		if (qo != 0 || ol != cl || (cl && memcmp(evbuffer_pullup(chain, -1), evbuffer_pullup(one, -1), cl) != 0)) {
			snprintf(why, whylen, "the chain into one buffer: %s, %zu bytes against %zu", qo ? "refused" : "passed",
			    ol, cl);
			rc = 1;
		}
	}
	if (rc >= 0) {
		st->chain_streams++;
		st->chain_passed += passed;
		st->chain_refused += qc < 0;
	}
	evbuffer_free(chain);
	evbuffer_free(one);
	evbuffer_free(pol);
	evbuffer_free(ref);
	return rc;
}
