/* Types shared by the policy engine and its users (gateway, audit, tests).
 * Functions live in policies/policy.h and friends; this header has none. */
#ifndef HAFEN_POLICIES_POLICY_T_H
#define HAFEN_POLICIES_POLICY_T_H

#include <stddef.h>
#include <stdint.h>

/* Ordered: a request's class is the maximum over everything that applies.
 * architecture.md "Data classes". */
enum data_class {
	DATA_CLASS_PUBLIC = 0,
	DATA_CLASS_INTERNAL,
	DATA_CLASS_CONFIDENTIAL, /* personal data */
	DATA_CLASS_RESTRICTED,   /* special categories, national ids, health, credentials */
	DATA_CLASS_COUNT
};

/* What a policy rule does with a finding. */
enum policy_action {
	POLICY_ACTION_NONE = 0,
	POLICY_ACTION_FLAG,         /* record only */
	POLICY_ACTION_CLASSIFY,     /* raise the request's data class */
	POLICY_ACTION_REDACT,       /* irreversible "[EMAIL]" replacement */
	POLICY_ACTION_PSEUDONYMIZE, /* "<PERSON_1>", restored in the answer */
	POLICY_ACTION_BLOCK,        /* 403, rule id and entity type, never the value */
	POLICY_ACTION_COUNT
};

/* One match that passed its validator. Offsets are byte offsets into the
 * scanned (decoded, UTF-8) string: [start, end). The value itself is never
 * copied into a finding, so findings can be logged and audited. */
struct policy_finding {
	uint32_t start;
	uint32_t end;
	uint16_t entity;          /* index into the entity table (policy_entity_name) */
	uint16_t detector;        /* index into the detector table */
	uint8_t data_class;       /* enum data_class */
	uint8_t confidence;       /* 0..100 */
};

#endif
