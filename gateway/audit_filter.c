/* One audit record per API request (docs/audit.md, "What a record holds"):
 * metadata only, findings by type and count, never prompt text. The record
 * is built when the exchange ends and queued with audit_submit(), which
 * never blocks on I/O; the writer thread commits in groups. Under "request"
 * durability (configured, or a confidential or restricted request) the
 * server holds the answer until the writer calls x->recorded (server.c,
 * conn_hold). When the log cannot be written, requests are refused with
 * 503 before they reach the upstream (AI Act Art. 12: no unlogged use). */
#include "audit_filter.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit.h"
#include "gwconfig.h"
#include "json_span.h"
#include "openai.h"
#include "policies/policy.h"

struct audit_filter_rt {
	struct audit_config acfg;
	json_t *section; /* the "audit" object it was parsed from */
	char config_hash[65]; /* SHA-256 (FIPS 180-4) of the config file's bytes */
};

/* Written once by audit_filter_start before the workers start, read by
 * them after: the thread start orders it. */
static struct audit_log *audit_filter_log;
static json_t *audit_filter_started; /* the section the log was opened with */

struct audit_filter_state {
	uint64_t t_start;
	char model[128];
	char subject[65];
	int has_subject;
	char model_served[128];
	uint64_t prompt_tokens, completion_tokens;
};

static uint64_t audit_filter_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int audit_filter_hash_file(const char *path, char out[65])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[8192], h[32];
	unsigned int hl = 0;
	size_t n;
	int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		if (EVP_DigestUpdate(md, buf, n) != 1)
			rc = -1;
	if (rc == 0 && (ferror(f) || EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32))
		rc = -1;
	EVP_MD_CTX_free(md);
	fclose(f);
	if (rc == 0)
		audit_crypto_hex(h, 32, out);
	return rc;
}

int audit_filter_load(const struct config *cfg, struct audit_filter_rt **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (!cfg->audit)
		return 0;
	struct audit_filter_rt *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "%s: audit: out of memory", cfg->file);
		return -1;
	}
	a->section = json_incref(cfg->audit);
	audit_config_defaults(&a->acfg);
	if (audit_config_parse(&a->acfg, cfg->audit, cfg->file, err, errlen) < 0) {
		audit_filter_free(a);
		return -1;
	}
	if (audit_filter_hash_file(cfg->file, a->config_hash) < 0)
		a->config_hash[0] = 0; /* config_load_string (tests): no file to hash */
	*out = a;
	return 0;
}

void audit_filter_free(struct audit_filter_rt *a)
{
	if (!a)
		return;
	audit_config_clear(&a->acfg);
	json_decref(a->section);
	free(a);
}

int audit_filter_start(const struct audit_filter_rt *rt, char *err, size_t errlen)
{
	if (!rt || audit_filter_log)
		return 0;
	char e[AUDIT_ERR_LEN];
	audit_filter_log = audit_open(&rt->acfg, e, sizeof e);
	if (!audit_filter_log) {
		snprintf(err, errlen, "audit: %s", e);
		return -1;
	}
	audit_filter_started = json_incref(rt->section);
	return 0;
}

void audit_filter_stop(void)
{
	if (audit_filter_log)
		audit_close(audit_filter_log);
	audit_filter_log = NULL;
	json_decref(audit_filter_started);
	audit_filter_started = NULL;
}

int audit_filter_changed(const struct config *cfg)
{
	if (!audit_filter_started || !cfg->audit)
		return !audit_filter_started != !cfg->audit;
	return !json_equal(audit_filter_started, cfg->audit);
}

int audit_filter_ready(void)
{
	if (!audit_filter_log)
		return 1;
	struct audit_health h;
	audit_get_health(audit_filter_log, &h);
	return h.ok;
}

int audit_filter_metrics(struct evbuffer *out)
{
	if (!audit_filter_log)
		return 0;
	struct audit_health h;
	audit_get_health(audit_filter_log, &h);
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} rows[] = {
		{"hafen_audit_records_committed_total", "counter", "Audit records committed.",
		    offsetof(struct audit_health, committed)},
		{"hafen_audit_records_failed_total", "counter", "Audit records that could not be written.",
		    offsetof(struct audit_health, failed)},
		{"hafen_audit_records_rejected_total", "counter", "Audit submits refused (queue full or closed).",
		    offsetof(struct audit_health, rejected)},
		{"hafen_audit_checkpoints_total", "counter", "Audit checkpoints signed.",
		    offsetof(struct audit_health, checkpoints)},
		{"hafen_audit_checkpoint_errors_total", "counter", "Audit checkpoints that failed.",
		    offsetof(struct audit_health, checkpoint_errors)},
		{"hafen_audit_queue", "gauge", "Audit records waiting to be committed.",
		    offsetof(struct audit_health, queued)},
		{"hafen_audit_tree_size", "gauge", "Records in the audit Merkle tree.",
		    offsetof(struct audit_health, tree_size)},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", rows[i].name, rows[i].help,
		    rows[i].name, rows[i].type, rows[i].name,
		    (unsigned long long)*(const uint64_t *)((const char *)&h + rows[i].off));
	evbuffer_add_printf(out, "# HELP hafen_audit_healthy 1 when the audit log can be written.\n"
	    "# TYPE hafen_audit_healthy gauge\nhafen_audit_healthy %d\n", h.ok ? 1 : 0);
	return 0;
}

static void audit_filter_copy(char *dst, size_t cap, json_t *v)
{
	if (json_is_string(v) && json_string_length(v) < cap &&
	    strlen(json_string_value(v)) == json_string_length(v))
		memcpy(dst, json_string_value(v), json_string_length(v) + 1);
}

static struct audit_filter_state *audit_filter_state_get(void **state)
{
	struct audit_filter_state *st = *state;
	if (!st && (st = malloc(sizeof *st)) != NULL) {
		/* the strings are set before they are read: no need to clear
		 * the whole state on every request */
		st->t_start = st->prompt_tokens = st->completion_tokens = 0;
		st->model[0] = st->subject[0] = st->model_served[0] = 0;
		st->has_subject = 0;
		*state = st;
	}
	return st;
}

/* The end user's pseudonym from the body's `user` string. */
static void audit_filter_subject(struct audit_filter_state *st, const char *u, size_t ulen)
{
	char stack[256], *buf = ulen < sizeof stack ? stack : malloc(ulen + 1);
	if (!buf)
		return;
	size_t n = openai_scan_unescape(u, ulen, buf, ulen);
	if (n != (size_t)-1 && n && !memchr(buf, 0, n)) {
		buf[n] = 0;
		if (audit_pseudonym(audit_filter_log, buf, st->subject) == 0)
			st->has_subject = 1;
	}
	explicit_bzero(buf, ulen + 1); /* an end user's id */
	if (buf != stack)
		free(buf);
}

/* The request's `user` without a tree: 1 done, 0 the tree must decide. */
static int audit_filter_user_scan(struct filter_exchange *x, struct audit_filter_state *st)
{
	struct json_span_member m = { .key = "user" };
	if (!x->body_src)
		return 0;
	/* most bodies have no end user: a search for the key is cheaper
	 * than walking every member */
	if (json_span_key_absent(x->body_src, x->body_src_len, "user"))
		return 1;
	if (json_span_members(x->body_src, x->body_src_len, &m, 1) < 0)
		return 0;
	if (m.found && x->body_src[m.start] == '"' && m.end - m.start >= 2)
		audit_filter_subject(st, x->body_src + m.start + 1, m.end - m.start - 2);
	return 1;
}

static int audit_filter_on_request(struct filter_exchange *x, void **state)
{
	if (!audit_filter_log)
		return 0;
	if (!audit_writable(audit_filter_log)) {
		x->status = 503;
		x->error_type = "audit_unavailable";
		snprintf(x->message, sizeof x->message,
		    "the audit log cannot be written; requests are refused until it can");
		return -1;
	}
	struct audit_filter_state *st = audit_filter_state_get(state);
	if (!st)
		return 0; /* out of memory: on_done still records what it can */
	st->t_start = audit_filter_now_us();
	/* the server decoded the body's "model" (NULL: none, or too long) */
	if (x->model && strlen(x->model) < sizeof st->model)
		memcpy(st->model, x->model, strlen(x->model) + 1);
	/* The header (set by the application for its end user) wins over the
	 * body's `user`; either becomes an HMAC pseudonym, never stored as is. */
	if (x->user[0]) {
		if (audit_pseudonym(audit_filter_log, x->user, st->subject) == 0)
			st->has_subject = 1;
		return 0;
	}
	/* The server builds no tree (filter.h): `user` is found in the
	 * validated bytes; a key the scan does not compare exactly (an
	 * escape) sends it to jansson, as the tree would have. */
	if (!x->body && audit_filter_user_scan(x, st))
		return 0;
	json_t *own = x->body || !x->body_src ? NULL : json_loadb(x->body_src, x->body_src_len, 0, NULL);
	json_t *user = json_object_get(x->body ? x->body : own, "user");
	const char *u = json_is_string(user) ? json_string_value(user) : NULL;
	if (u && *u && audit_pseudonym(audit_filter_log, u, st->subject) == 0)
		st->has_subject = 1;
	json_decref(own);
	return 0;
}

/* The answer's model and usage from its bytes: 0, or -1 (the tree decides). */
static int audit_filter_answer_scan(struct audit_filter_state *st, const char *p, size_t n,
    int checked)
{
	struct json_span_member m[2] = { { .key = "model" }, { .key = "usage" } };
	struct json_span_member u[2] = { { .key = "prompt_tokens" }, { .key = "completion_tokens" } };
	uint64_t v[2] = { 0, 0 };
	/* a 2xx answer was checked by the upstream side; an error page is
	 * read only if it is JSON, as jansson would */
	if ((!checked && openai_scan_json(p, n) < 0) || json_span_members(p, n, m, 2) < 0)
		return -1;
	if (m[1].found && p[m[1].start] == '{') {
		if (json_span_members(p + m[1].start, m[1].end - m[1].start, u, 2) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			const char *q = p + m[1].start;
			/* a number in another form (1.0, 1e3, -1) is jansson's call */
			if (u[i].found && q[u[i].start] >= '0' && q[u[i].start] <= '9' &&
			    json_span_uint(q, u[i].start, u[i].end, &v[i]) < 0)
				return -1;
		}
	}
	if (m[0].found && p[m[0].start] == '"' && m[0].end - m[0].start >= 2) {
		char buf[sizeof st->model_served];
		size_t l = openai_scan_unescape(p + m[0].start + 1, m[0].end - m[0].start - 2, buf, sizeof buf - 1);
		if (l != (size_t)-1 && !memchr(buf, 0, l)) {
			memcpy(st->model_served, buf, l);
			st->model_served[l] = 0;
		}
	}
	if (v[0])
		st->prompt_tokens = v[0];
	if (v[1])
		st->completion_tokens = v[1];
	return 0;
}

/* A JSON answer: the model that served it and its usage. */
static int audit_filter_on_body(struct filter_exchange *x, void **state, struct evbuffer *body)
{
	struct audit_filter_state *st = *state;
	if (!audit_filter_log || !st)
		return 0;
	size_t n = evbuffer_get_length(body);
	const char *p = n ? (const char *)evbuffer_pullup(body, -1) : NULL;
	if (!x->answer && p && audit_filter_answer_scan(st, p, n, x->answer_checked) == 0)
		return 0;
	json_t *j = x->answer ? json_incref(x->answer) : p ? json_loadb(p, n, 0, NULL) : NULL;
	if (!j)
		return 0;
	audit_filter_copy(st->model_served, sizeof st->model_served, json_object_get(j, "model"));
	json_t *u = json_object_get(j, "usage");
	json_t *pt = json_object_get(u, "prompt_tokens"), *ct = json_object_get(u, "completion_tokens");
	if (json_is_integer(pt) && json_integer_value(pt) >= 0)
		st->prompt_tokens = (uint64_t)json_integer_value(pt);
	if (json_is_integer(ct) && json_integer_value(ct) >= 0)
		st->completion_tokens = (uint64_t)json_integer_value(ct);
	json_decref(j);
	return 0;
}

/* The data class as the record names it: only a policy scan decides one. */
static const char *audit_filter_data_class(const struct filter_exchange *x)
{
	/* The final class of every request that got that far (AI Act
	 * Art. 12, GDPR Art. 30), not only when a policy computed it. */
	return x->policy_info.policy_hash || x->class_final ?
	    policy_data_class_name((enum data_class)x->data_class) : NULL;
}

int audit_filter_holds(const struct filter_exchange *x)
{
	return audit_filter_log &&
	    audit_durability_for(audit_filter_log, audit_filter_data_class(x)) == AUDIT_DURABILITY_REQUEST;
}

static void audit_filter_on_done(struct filter_exchange *x, void **state)
{
	struct audit_filter_state *st = *state;
	*state = NULL;
	if (!audit_filter_log) {
		free(st);
		return;
	}
	const struct filter_policy_info *pi = &x->policy_info;
	const struct openai_route_def *rd = openai_route_get(x->route);
	struct audit_finding findings[FILTER_FINDING_TYPES];
	for (size_t i = 0; i < pi->n_types; i++)
		findings[i] = (struct audit_finding){pi->type[i], pi->count[i]};
	char addr[64];
	audit_client_addr(audit_filter_log, x->client_addr[0] ? x->client_addr : NULL, addr, sizeof addr);
	uint64_t now = audit_filter_now_us();
	struct audit_record rec = {
		.kind = AUDIT_KIND_REQUEST,
		.request_id = x->request_id,
		.t_start = st && st->t_start ? st->t_start : now,
		.t_first_byte = x->t_first_byte,
		.t_end = now,
		.api_key_id = x->key ? x->key->name : NULL,
		.tenant = x->key ? x->key->tenant : NULL,
		.purpose = x->key ? x->key->purpose : NULL,
		.subject = st && st->has_subject ? st->subject : NULL,
		.client_addr = addr,
		.endpoint = rd ? rd->path : NULL,
		.model_requested = st && st->model[0] ? st->model : NULL,
		.model_served = st && st->model_served[0] ? st->model_served : NULL,
		/* A blocked request never left the gateway. */
		.upstream_id = pi->decision && strcmp(pi->decision, "block") == 0 ? NULL : x->upstream,
		.upstream_location = pi->decision && strcmp(pi->decision, "block") == 0 ? NULL : x->upstream_location,
		.data_class = audit_filter_data_class(x),
		.policy_hash = pi->policy_hash,
		.config_hash = x->audit && x->audit->config_hash[0] ? x->audit->config_hash : NULL,
		.findings = findings,
		.n_findings = pi->n_types,
		.actions = pi->action,
		.n_actions = pi->n_actions,
		.decision = pi->decision,
		.rule_ids = pi->rule_id,
		.n_rule_ids = pi->n_rules,
		.status = x->status > 0 ? (uint64_t)x->status : 0,
		.prompt_tokens = st && st->prompt_tokens ? st->prompt_tokens : pi->prompt_tokens,
		.completion_tokens = st && st->completion_tokens ? st->completion_tokens : pi->completion_tokens,
		.error_class = x->status >= 400 ? x->error_type : NULL,
	};
	/* A record that cannot be queued is counted by the log (rejected) and
	 * turns /readyz and the next requests away when the log is unhealthy.
	 * Under "request" durability the server holds the answer until the
	 * writer calls back; a record that is not even queued fails it now. */
	enum audit_durability d = audit_durability_for(audit_filter_log, rec.data_class);
	audit_done_fn done = d == AUDIT_DURABILITY_REQUEST ? x->recorded : NULL;
	void *arg = x->recorded_arg;
	x->recorded = NULL;
	x->recorded_arg = NULL;
	if (audit_submit(audit_filter_log, &rec, NULL, 0, d, done, arg) < 0 && done)
		done(arg, -1, 0);
	free(st);
}

const struct filter_ops audit_filter_ops = {
	.name = "audit",
	.on_request = audit_filter_on_request,
	.on_body = audit_filter_on_body,
	.on_done = audit_filter_on_done,
};

int audit_filter_oversight(const char *note)
{
	if (!audit_filter_log)
		return 1;
	uint64_t now = audit_filter_now_us();
	struct audit_record rec = {
		.kind = AUDIT_KIND_OVERSIGHT,
		.t_start = now,
		.t_end = now,
		.note = note,
	};
	/* Request durability: the writer commits it at once, not with a batch. */
	return audit_submit(audit_filter_log, &rec, NULL, 0, AUDIT_DURABILITY_REQUEST, NULL, NULL) < 0 ? -1 : 0;
}
