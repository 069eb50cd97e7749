/* Where a value sits in JSON source: the byte span of the value at a short
 * path (object keys and array positions), so that a filter can replace one
 * string of an upstream's SSE event without serializing the whole event
 * again (gateway/policy_filter.c).
 *
 * The text must be JSON that jansson has already accepted (RFC 8259; the
 * caller keeps the parsed tree). The finder is conservative: whenever the
 * raw bytes could name the path in a way it does not compare exactly (a key
 * with an escape in an object on the path, the same key twice), it answers
 * "not found" and the caller serializes the tree as before. */
#ifndef HAFEN_GATEWAY_JSON_SPAN_H
#define HAFEN_GATEWAY_JSON_SPAN_H

#include <stddef.h>
#include <stdint.h>

#define JSON_SPAN_MAX_PATH 8

struct json_span_step {
	const char *key; /* object member with this key; NULL: array element */
	size_t index;    /* array position when key is NULL */
};

/* 0 and [*start, *end) = the value's bytes (a string's quotes included),
 * or -1: not found, not unique, or not a form the finder compares. */
int json_span_find(const char *text, size_t len, const struct json_span_step *path,
    size_t npath, size_t *start, size_t *end);

/* Every text string of an OpenAI answer, in document order, found in its
 * source without building a tree: choices[].message and .delta (content as
 * a string or parts[].text / .refusal, name, refusal,
 * tool_calls[].function.arguments, function_call.arguments) and
 * choices[].text, exactly the answer fields of policies/request_walk.c.
 * The policy filter guards and restores these and splices the changed
 * ones back. -1 (out of memory, or a form the walk does not compare: a key
 * with an escape or a wanted key twice in one object, request members at
 * the top, text that is not JSON) sends the caller to the tree. */
enum json_span_kind {
	JSON_SPAN_KIND_TEXT = 0,
	JSON_SPAN_KIND_JSON = 1, /* JSON source in a string (tool-call arguments) */
};

struct json_span_text {
	size_t start, end; /* the string's bytes, quotes included */
	enum json_span_kind kind;
	/* requests: a text the AI Act screener reads as an instruction
	 * (policies/aiact.h, aiact_screen_request): the content of a message
	 * with an instruction role or none, as a string or text parts, and
	 * the strings of prompt and input; 0 in answers */
	int instruction;
	int escaped; /* the string's bytes hold a backslash (its value must be decoded) */
};

/* *out is malloc'd (NULL when there are none). */
int json_span_answer_texts(const char *text, size_t len, struct json_span_text **out, size_t *n);
/* The same into buf while nbuf entries suffice (*out is buf then; the
 * caller frees *out only when it is not buf). */
int json_span_answer_texts_buf(const char *text, size_t len, struct json_span_text *buf, size_t nbuf,
    struct json_span_text **out, size_t *n);

/* Every text string of an OpenAI request (a body openai_body_check has
 * accepted), in the order of policies/request_walk.c: messages[] (content
 * as a string or parts' text and refusal, name, refusal, tool-call and
 * function_call arguments as JSON_SPAN_KIND_JSON), then prompt, input,
 * suffix, instructions (a string or an array of strings, batches one level
 * deep), then choices[]; within an object in that table order, whatever
 * the document order. *out is buf while nbuf entries suffice, else
 * malloc'd (the caller frees it when it is not buf). Each text says
 * whether the AI Act screener reads it (instruction), and *media gets the
 * enum aiact_media bits of the image, audio and video parts of the
 * messages (and of message items in prompt or input) whose role is an
 * instruction role, exactly as aiact_screen_request reads them from the
 * tree (media NULL: the caller does not screen, the marks mean nothing).
 * -1 as above (also, with media: a role or part type with an escape):
 * the caller walks the tree instead. */
int json_span_request_texts(const char *text, size_t len, struct json_span_text *buf, size_t nbuf,
    struct json_span_text **out, size_t *n, unsigned *media);

/* The few top-level members a filter needs (the audit record's end user,
 * model served and token usage), found in one pass over the top-level
 * object instead of building a tree per request. */
struct json_span_member {
	const char *key; /* in: the member's name */
	int found;       /* out: the member is there, its value at [start, end) */
	size_t start, end;
};
/* 0 with every wanted member found or known absent, or -1 (not an object,
 * a key with an escape, a wanted key twice, malformed): parse a tree. */
int json_span_members(const char *text, size_t len, struct json_span_member *m, size_t n);
/* The elements of the array at text[*it] one at a time: *it starts at the
 * '[' and is advanced by each call. 1 and the next element at [*start,
 * *end); 0 after the last; -1 when it is no array or malformed. */
int json_span_next(const char *text, size_t len, size_t *it, size_t *start, size_t *end);
/* The JSON integer at [start, end) if it is plain digits below 10^18. */
int json_span_uint(const char *text, size_t start, size_t end, uint64_t *v);
/* 1 when text certainly has no member named key, at any depth: neither the
 * key's bytes in quotes followed by a colon nor a \u escape of one of its
 * characters occur (a string value equal to the key, "role":"user", does
 * not count). 0: it may have one (scan it). key: plain ASCII, no quote or
 * backslash. Lets the audit filter skip its `user` scan for the many
 * bodies that have no such member. */
int json_span_key_absent(const char *text, size_t len, const char *key);

#endif
