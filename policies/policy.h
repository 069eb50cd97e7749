/* Policy sets: load (policy_file.c), hash, decide, and the per-request
 * pipeline the gateway calls (walk + scan + decide + rewrite).
 *
 * How the gateway calls the policy engine
 * ---------------------------------------
 * At start-up (and on reload):
 *     struct policy_set *set = policy_set_new();
 *     policy_file_load(set, "policies/packs/gdpr-default.json", err, sizeof err);
 *     ... more packs, then the site file ...
 *     policy_set_hash(set)      -> 64 hex chars for every audit record (Art. 5(2))
 *   The set is immutable once loaded and may be shared by all threads.
 *
 *     struct policy_scanner *sc = policy_set_scanner_new(set, err, sizeof err);
 *       (builtin + the set's custom detectors, one pass; shared by threads)
 *
 * Per thread: struct policy_scan_adapter a = { sc }; policy_findings_init(&a.findings);
 *   scan_fn = policy_scan_adapter_fn, scan_arg = &a.
 *
 * Per request (on the thread that owns the request):
 *     struct policy_context ctx = { purpose, tenant, "/v1/chat/completions",
 *                                   POLICY_DIRECTION_REQUEST };
 *     struct policy_request *r = policy_request_new(set, &ctx);
 *     policy_request_apply(r, body, scan_fn, scan_arg, err, sizeof err);
 *       - finds every text field (request_walk.c), scans each with scan_fn
 *         (the scanner, custom detectors included),
 *         decides over the findings of ALL fields together, and, unless the
 *         decision is BLOCK, rewrites the fields in the jansson tree in place.
 *       - -1: fail closed (500/403 with err, which never holds prompt text).
 *     d = policy_request_decision(r):
 *       d->action == POLICY_ACTION_BLOCK  -> 403 naming d->block_rule's id
 *         (policy_set_rule_id) and the entity name, never the value.
 *       d->data_class                      -> routing (upstream max class)
 *       d->fired / counts                  -> audit record (types and counts only)
 *
 * Per response (JSON or SSE):
 *     struct restore_stream *rs = policy_request_restorer(r);  (restore.h)
 *     struct restore_guard *g = restore_guard_new(set, &ctx_response, scan_fn, arg);
 *   for each upstream delta text (choices[].delta.content):
 *       restore_guard_feed(g, piece)   -> text safe to release (leaked
 *                                         secrets redacted, bounded hold-back)
 *       restore_stream_feed(rs, that)  -> text with originals put back
 *       send what came out (may be empty) as the client's delta;
 *   at the end of the stream: restore_guard_finish, then restore_stream_finish,
 *   and send the rest. Use one guard and one restorer per choice index
 *   (n > 1 streams interleave), and for streamed tool-call arguments a
 *   restore_stream_new_json per tool call (originals are escaped there). A non-streamed answer:
 *   policy_request_restore_answer(r, answer_json, scan_fn, arg, &stats, ...).
 *     policy_request_free(r)  -> wipes the placeholder map.
 */
#ifndef HAFEN_POLICIES_POLICY_H
#define HAFEN_POLICIES_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policies/entity.h"
#include "policies/policy-t.h"
#include "policies/scan.h"

/* Bits: a rule's direction is REQUEST, RESPONSE or BOTH. */
enum policy_direction {
	POLICY_DIRECTION_REQUEST = 1,
	POLICY_DIRECTION_RESPONSE = 2,
	POLICY_DIRECTION_BOTH = 3,
};

struct policy_set;

struct policy_set *policy_set_new(void);
void policy_set_free(struct policy_set *set);

/* Parses one policy file (JSON) and adds its detectors and rules to the set.
 * name is what errors start with ("gdpr.json: rules[3].action: expected one
 * of ..."). On error the set is unchanged. */
int policy_file_load_buffer(struct policy_set *set, const char *name, const char *buf,
			   size_t len, char *err, size_t errlen);
/* Reads path and calls policy_file_load_buffer with its base name. */
int policy_file_load(struct policy_set *set, const char *path, char *err, size_t errlen);

/* SHA-256 (FIPS 180-4) over the canonical serialization of every file loaded
 * (compact JSON, keys sorted, load order), as 64 lower-case hex digits. */
const char *policy_set_hash(const struct policy_set *set);

size_t policy_set_rule_count(const struct policy_set *set);
/* 1 when a rule selects an AI Act entity, so requests are screened
 * (aiact.h): policy_request_scan_texts then needs instruction marks. */
int policy_set_screens_aiact(const struct policy_set *set);
const char *policy_set_rule_id(const struct policy_set *set, size_t rule);
/* What the rule does that its file does not say (for `hafenctl policy
 * lint`), or NULL: a response-direction pseudonymize redacts in answers. */
const char *policy_set_rule_note(const struct policy_set *set, size_t rule);

/* Entities: the built-in table (entity.h) followed by the custom entities
 * the loaded files declare, numbered from ENTITY_BUILTIN_COUNT. */
size_t policy_set_entity_count(const struct policy_set *set);
const char *policy_set_entity_name(const struct policy_set *set, unsigned entity);
const char *policy_set_entity_label(const struct policy_set *set, unsigned entity);
enum data_class policy_set_entity_class(const struct policy_set *set, unsigned entity);
/* -1 when unknown. */
int policy_set_entity_find(const struct policy_set *set, const char *name);

/* The id of a custom detector from a finding's detector field (custom
 * findings carry 0x8000 + index), or NULL when it is not a custom one. */
const char *policy_set_custom_detector_id(const struct policy_set *set, unsigned detector);

const char *policy_action_name(enum policy_action action);
const char *policy_data_class_name(enum data_class c);

/* What the caller knows about the request's purpose that a rule may act
 * on ("context_actions" in a policy file, docs/policies.md). The library
 * knows no gateway types: the caller sets the bits. */
enum policy_context_kind {
	/* The purpose is an Annex III point 4 (employment) use whose high-risk
	 * mode is enabled with its preconditions met (AI Act Art. 6(2), 14,
	 * 26(7)): an employment decision is then its legitimate use. */
	POLICY_CONTEXT_KIND_EMPLOYMENT_HIGH_RISK = 0,
	POLICY_CONTEXT_KIND_COUNT
};

struct policy_context {
	const char *purpose;   /* NULL: matches only rules for all purposes */
	const char *tenant;
	const char *endpoint;  /* "/v1/chat/completions" */
	enum policy_direction direction; /* REQUEST or RESPONSE */
	unsigned kinds;        /* bits (1u << enum policy_context_kind); 0: none */
};


/* What the decision says about one finding. */
struct policy_verdict {
	enum policy_action action;
	int rule; /* index of the rule that set the action, -1 when none */
};

struct policy_decision {
	enum policy_action action;   /* strongest action over all findings */
	enum data_class data_class;  /* max of finding classes and classify rules */
	int block_rule;              /* rule index when action is BLOCK, else -1 */
	unsigned block_entity;       /* the entity that rule blocked */
	size_t n_fired;
	uint16_t *fired;             /* indices of the rules that fired, ascending */
	size_t n_findings;
	uint32_t *entity_counts;     /* [policy_set_entity_count]: findings per type */
};

/* Decides over the findings of all text fields of one request (or answer).
 * Precedence where rules overlap: block > pseudonymize > redact > classify
 * > flag; among equal actions the rule loaded first wins. verdicts (n
 * entries) receives the per-finding result; out must be released with
 * policy_decision_clear. */
int policy_decide(const struct policy_set *set, const struct policy_context *ctx,
		  const struct policy_finding *findings, size_t n,
		  struct policy_verdict *verdicts, struct policy_decision *out,
		  char *err, size_t errlen);
void policy_decision_clear(struct policy_decision *d);

/* The scanner, as the pipeline sees it: findings for text[0..len) are
 * returned in *findings (owned by the callee, valid until its next call). */
typedef int (*policy_scan_fn)(void *arg, const char *text, size_t len,
			      const struct policy_finding **findings, size_t *n);

/* The scanner for this set: every builtin detector plus the set's custom
 * detectors (custom.c) in the same single pass. Build it after the last
 * load (it points into the set) and free it before the set. */
struct policy_scanner *policy_set_scanner_new(const struct policy_set *set, char *err, size_t errlen);
/* The custom detectors as scanner rows (owned by the set). */
size_t custom_detector_rows(const struct policy_set *set, const struct detector *const **rows);

/* The scanner as a policy_scan_fn: arg is a struct policy_scan_adapter
 * (one per thread: it holds the reusable findings array). */
struct policy_scan_adapter {
	const struct policy_scanner *scanner;
	struct policy_findings findings; /* policy_findings_init before use, _free after */
};
int policy_scan_adapter_fn(void *arg, const char *text, size_t len,
			   const struct policy_finding **findings, size_t *n);

/* Custom detectors of the set in a pass of their own, for callers without
 * a scanner: the pipeline and the guard use it only when scan_fn is NULL
 * (with a scanner from policy_set_scanner_new they run inside its pass).
 * Appends to a growable array. 0 / -1 (out of memory). */
int custom_scan_text(const struct policy_set *set, const char *text, size_t len,
			   struct policy_finding **v, size_t *n, size_t *cap);

/* Every place text can hide in an OpenAI request or answer (request_walk.c):
 * messages[].content (string, or parts' text), messages[].name, tool_calls
 * and function_call arguments, prompt, input, choices[].message / .delta /
 * .text. *fields receives the jansson string nodes (borrowed references,
 * malloc'd array), which json_string_setn can rewrite in place. */
int request_walk_collect(json_t *root, json_t ***fields, size_t *n, char *err, size_t errlen);
/* The same, with what each field holds: tool-call arguments are JSON text
 * inside a string, so an original put back into them must be escaped. */
enum request_walk_kind {
	REQUEST_WALK_TEXT = 0,
	REQUEST_WALK_JSON = 1,
};
int request_walk_collect_kinds(json_t *root, json_t ***fields, uint8_t **kinds, size_t *n,
			       char *err, size_t errlen);

struct policy_request;
struct restore_stream;
struct restore_guard_stats;

struct policy_request *policy_request_new(const struct policy_set *set,
					  const struct policy_context *ctx);
/* Walk, scan, decide, rewrite (see the top of this file). */
int policy_request_apply(struct policy_request *r, json_t *body, policy_scan_fn scan,
			 void *scan_arg, char *err, size_t errlen);
const struct policy_decision *policy_request_decision(const struct policy_request *r);
/* All findings of the request, field by field; field_of[i] is the index of
 * the text field finding i belongs to; verdicts[i] its action. */
size_t policy_request_findings(const struct policy_request *r,
			       const struct policy_finding **findings,
			       const struct policy_verdict **verdicts,
			       const size_t **field_of);
/* A restorer for the answer, using this request's placeholder map; free it
 * before the request. NULL when out of memory. */
struct restore_stream *policy_request_restorer(const struct policy_request *r);
/* The same for JSON text (streamed tool-call arguments): originals are put
 * back escaped (restore_stream_new_json). */
struct restore_stream *policy_request_restorer_json(const struct policy_request *r);
/* A whole (non-streamed) answer: every text field of answer (choices[]
 * message / text / delta) goes through a guard (response rules, with scan)
 * and then the restorer, and is set back in place. st (may be NULL)
 * receives what the guard found, summed over the fields. -1: fail closed. */
int policy_request_restore_answer(struct policy_request *r, json_t *answer, policy_scan_fn scan,
				  void *scan_arg, struct restore_guard_stats *st, char *err, size_t errlen);
/* One whole text of a non-streamed answer (json: tool-call arguments):
 * the guard scans it once as a whole (restore_guard_whole), then the
 * restorer puts the originals back (skipped when the request has no
 * placeholders). *out is in itself when nothing changed (*changed 0),
 * else r's buffer, valid until the next call. st (may be NULL) gets the
 * guard's findings added and n_changed counted. -1: fail closed. */
int policy_request_answer_text(struct policy_request *r, const char *in, size_t n, int json,
			       policy_scan_fn scan, void *scan_arg, const char **out, size_t *outlen,
			       int *changed, struct restore_guard_stats *st, char *err, size_t errlen);
/* Wipes the placeholder map and frees everything. */
void policy_request_free(struct policy_request *r);
/* Makes r as policy_request_new(set, ctx) would, for the next request:
 * the placeholder map and the answer text are wiped, the arrays (which
 * hold offsets and types, never text) keep their memory. */
void policy_request_reset(struct policy_request *r, const struct policy_set *set,
			  const struct policy_context *ctx);

/* A text field given as bytes: a decoded string value of the body. */
struct policy_text {
	const char *text;
	size_t len;
	uint8_t kind; /* enum request_walk_kind */
	/* the AI Act screener reads it as an instruction (aiact.h,
	 * aiact_screen_request: the content of a system, developer or user
	 * message or of one without a role, prompt, input) */
	uint8_t instruction;
};

/* The tree-less first step for a request the caller has not parsed:
 * texts are the body's text fields exactly as request_walk_collect_kinds
 * would find them (same order, decoded values, tool-call arguments as
 * REQUEST_WALK_JSON), each marked as an instruction where
 * aiact_screen_request would read it, and media the enum aiact_media bits
 * it would find. Expands, screens (when the set has AI Act rules), scans
 * and decides like policy_request_apply but rewrites nothing. 0: findings
 * and decision as policy_request_apply would leave them, with *rewrite = 0
 * when the body stays as it is, or 1 when a finding must be redacted or
 * pseudonymized (then call policy_request_apply on the parsed body: it
 * decides again and rewrites). -1: fail closed. */
int policy_request_scan_texts(struct policy_request *r, const struct policy_text *texts, size_t n,
			      unsigned media, policy_scan_fn scan, void *scan_arg, int *rewrite, char *err,
			      size_t errlen);

/* Makes jansson wipe every block it frees (explicit_bzero): the strings of
 * a request body hold prompt text, and json_string_setn frees the old value.
 * Process-wide; call once at start-up before any JSON is parsed. After it,
 * memory that jansson hands out (json_dumps) must be released with the free
 * function from json_get_alloc_funcs, never with free(). */
void policy_json_use_wiping_allocator(void);

#endif
