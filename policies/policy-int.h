/* Internals of a policy set, shared by policy.c, policy_file.c and custom.c.
 * Not for users of the library: they go through policy.h. */
#ifndef HAFEN_POLICIES_POLICY_INT_H
#define HAFEN_POLICIES_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "policies/aiact.h"
#include "policies/detector.h"
#include "policies/policy.h"

#define POLICY_RULES_MAX 4096
#define POLICY_ENTITIES_MAX 4096 /* custom entities per set */
#define POLICY_LIST_MAX 1024     /* purposes, entities, literals per list */
#define POLICY_STRING_MAX 255    /* ids, names, literals (scanner keywords are <= 255 bytes) */
#define CUSTOM_PATTERN_MAX 256   /* source bytes of one pattern */
#define CUSTOM_REPEAT_MAX 64     /* largest {n,m} count */
/* Findings of custom detectors carry detector = CUSTOM_DETECTOR_BASE + index. */
#define CUSTOM_DETECTOR_BASE 0x8000u

struct policy_rule {
	char *id;
	uint16_t *entities;
	size_t n_entities;
	unsigned group_mask;          /* bit (1u << enum entity_group) */
	unsigned min_count;           /* >= 1 */
	unsigned min_confidence;      /* 0..100 */
	char **purposes, **tenants, **endpoints; /* empty lists: all */
	size_t n_purposes, n_tenants, n_endpoints;
	enum policy_direction direction;
	enum policy_action action;
	enum data_class data_class;   /* classify: the class to raise to */
	/* The action instead of action when the request's context has that
	 * kind (policy_context.kinds); POLICY_ACTION_NONE: action applies. */
	enum policy_action context_action[POLICY_CONTEXT_KIND_COUNT];
	uint8_t *select_bits;         /* entities selected (entities + groups), rebuilt by policy_set_refresh */
};

struct policy_custom_entity {
	char *name;
	char *label;
	enum data_class data_class;
};

/* One item of a compiled pattern: a byte set repeated min..max times,
 * matched possessively (as many as possible, never given back). */
struct custom_item {
	uint8_t set[32]; /* bitmap over bytes */
	uint8_t min, max;
};

struct custom_pattern {
	char prefix[CUSTOM_PATTERN_MAX + 1]; /* literal prefix (>= 2 bytes), case-sensitive, NUL-terminated */
	size_t prefix_len;
	struct custom_item *items;
	size_t n_items;
};

enum custom_kind {
	CUSTOM_KIND_LITERALS,
	CUSTOM_KIND_PATTERN,
};

struct policy_custom_detector {
	char *id;
	unsigned entity;
	enum data_class data_class;
	uint8_t confidence;
	enum custom_kind kind;
	char **literals;    /* case-folded (ASCII) */
	size_t *literal_lens;
	size_t n_literals;
	struct custom_pattern pattern;
};

struct policy_set {
	struct policy_rule *rules;
	size_t n_rules;
	struct policy_custom_entity *entities;
	size_t n_entities;
	struct policy_custom_detector *detectors;
	size_t n_detectors;
	char *canon;        /* canonical serialization of every loaded file */
	size_t canon_len;
	char hash[65];
	/* labels[e] for every entity, rebuilt after each load (rewrite_text). */
	const char **labels;
	/* literal first bytes (case-folded) of all literal detectors */
	uint8_t literal_first[32];
	/* The custom detectors as scanner rows (detector.h), rebuilt after each
	 * load: keywords = the literals, or the pattern's prefix. */
	struct detector *rows;
	const struct detector **row_ptrs;
	struct detector_keyword *keywords;
	/* The AI Act screener (aiact.c), built when a rule selects one of its
	 * entities: requests of sets without such rules do not pay for it. */
	struct aiact_model *aiact;
};

/* policy.c: builds set->aiact once a rule selects an AI Act type. 0 / -1 (out of memory). */
int policy_set_refresh_aiact(struct policy_set *set);

/* custom.c */
/* Compiles src; on error returns -1 with a message about the pattern. */
int custom_pattern_compile(struct custom_pattern *p, const char *src, size_t len,
			   char *err, size_t errlen);
void custom_pattern_free(struct custom_pattern *p);
/* Length of the match at text[at..) (prefix included), 0 when none. */
size_t custom_pattern_match(const struct custom_pattern *p, const char *text, size_t len,
			    size_t at);
void custom_detector_free(struct policy_custom_detector *d);
/* Rebuilds literal_first and the scanner rows. 0 / -1 (out of memory). */
int custom_index_build(struct policy_set *set);
void custom_rows_free(struct policy_set *set);

/* request_walk.c: tool-call arguments that parse as JSON are replaced by
 * the strings inside them; after rewriting, changed ones are serialized
 * back into their outer string. */
struct request_walk_nested {
	json_t *outer;  /* the arguments string in the body */
	json_t *root;   /* its parsed value (owned) */
	int changed;
};
int request_walk_expand(json_t **fields, const uint8_t *kinds, size_t n, json_t ***out,
			size_t **parent, size_t *n_out, struct request_walk_nested **nested,
			size_t *n_nested, char *err, size_t errlen);
/* The same for fields given as bytes (policy_request_scan_texts): *out
 * holds the expanded fields, whose inner strings live in the trees of
 * *roots (json_decref each, then free both arrays). Both NULL when no
 * field is REQUEST_WALK_JSON: the fields are in as they are. */
int request_walk_expand_texts(const struct policy_text *in, size_t n, struct policy_text **out,
			      size_t *n_out, json_t ***roots, size_t *n_roots, char *err, size_t errlen);
int request_walk_commit(struct request_walk_nested *nested, size_t n_nested, char *err, size_t errlen);
void request_walk_nested_free(struct request_walk_nested *nested, size_t n_nested);

void policy_rule_free(struct policy_rule *r);
/* Rebuilds labels and the hash after a successful load. */
int policy_set_refresh(struct policy_set *set);

#endif
