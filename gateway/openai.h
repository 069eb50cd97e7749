/* The OpenAI API surface: the route table, request body validation and
 * the error shape {"error":{"message","type","code"}}. */
#ifndef HAFEN_GATEWAY_OPENAI_H
#define HAFEN_GATEWAY_OPENAI_H

#include <stddef.h>

#include <jansson.h>

#include "json_span.h"

enum openai_route {
	OPENAI_ROUTE_CHAT,
	OPENAI_ROUTE_COMPLETIONS,
	OPENAI_ROUTE_EMBEDDINGS,
	OPENAI_ROUTE_MODELS,
	OPENAI_ROUTE_COUNT,
};

struct openai_route_def {
	const char *path;
	int method;   /* enum http_method */
	int route;    /* enum openai_route */
	const char *name; /* metrics label */
	int has_body; /* a JSON body is required and validated */
	int (*validate)(json_t *body, char *err, size_t errlen);
};

/* Finds the route for path; on failure returns NULL and sets *status to
 * 404 (no such path) or 405 (path known, method not). */
const struct openai_route_def *openai_route_find(const char *path, size_t len, int method, int *status);
const struct openai_route_def *openai_route_get(int route);

/* Parses and validates a body. Returns the JSON (caller decrefs) or NULL
 * with a message naming the field, never quoting the content. */
json_t *openai_body_parse(const struct openai_route_def *r, const char *body, size_t len,
    int *stream, char *err, size_t errlen);

/* Serializes an OpenAI error object; returns a malloc'ed string. */
char *openai_error_json(const char *message, const char *type, const char *code, size_t *len);

/* jansson with wiping allocators: parsed prompts are zeroed on free. */
void openai_json_init(void);
/* Frees a string from json_dumps() after openai_json_init(). */
void openai_json_free_string(void *s);
/* A NUL-terminated copy of body[0..len) that openai_json_free_string()
 * frees (and wipes); NULL when out of memory. */
char *openai_json_copy_string(const char *body, size_t len);

/* ---- validation without a tree (openai_scan.c) ---- */

#define OPENAI_MODEL_BUF 256

/* What validating a body found out, for callers that need no tree. */
struct openai_body_info {
	int stream;        /* "stream": true */
	/* The "model" string, decoded, not NUL-terminated when it points
	 * into the body: there when it has no escapes, else in model_buf.
	 * NULL when the decoded name does not fit model_buf. */
	const char *model;
	size_t model_len;
	char model_buf[OPENAI_MODEL_BUF];
};

enum openai_scan_result {
	OPENAI_SCAN_VALID = 0,
	OPENAI_SCAN_INVALID = -1,
	OPENAI_SCAN_DECLINED = 1, /* not decided here (escaped or many keys): use the tree */
};

/* Validates body for route (enum openai_route) in one pass, accepting
 * exactly what openai_body_parse() accepts; fills info on success.
 * Returns an enum openai_scan_result. */
int openai_scan_body(int route, const char *body, size_t len, struct openai_body_info *info);
/* 0 when json_loadb(buf, len, 0, ...) would accept buf (an object or an
 * array; duplicate keys allowed), else -1. For upstream answers. */
int openai_scan_json(const char *buf, size_t len);
/* openai_scan_json that also finds the members m[0, n) of the object at
 * the top in the same pass, as json_span_members does (offsets from buf):
 * -1 invalid (what openai_scan_json refuses), 1 valid but not readable
 * so (not an object, an escaped key, a wanted key twice), 0 valid and m
 * filled. */
int openai_scan_json_members(const char *buf, size_t len, struct json_span_member *m, size_t n);
/* Decodes a JSON string's contents (between its quotes, already
 * validated) into out; returns the length, or (size_t)-1 when it does
 * not fit out_size bytes. */
size_t openai_scan_unescape(const char *raw, size_t raw_len, char *out, size_t out_size);
/* text[0, len) as a JSON string, quotes included, exactly as
 * json_dumps(json_stringn(text, len), JSON_ENCODE_ANY) writes it, into
 * out (no NUL); its length, or (size_t)-1 when text is not UTF-8 (which
 * json_stringn refuses) or out_size is short (6 * len + 2 always does). */
size_t openai_json_quote(const char *text, size_t len, char *out, size_t out_size);


/* Validates a body like openai_body_parse() without building a tree when
 * it can (openai_scan_body, then jansson when the scan declines). 0, or
 * -1 with the same message openai_body_parse() gives. */
int openai_body_check(const struct openai_route_def *r, const char *body, size_t len,
    struct openai_body_info *info, char *err, size_t errlen);

/* ---- the texts found while validating (one pass instead of two) ---- */

#define OPENAI_TEXTS_MAX 16

/* The text strings the policy filter reads, recorded by the validating
 * pass so that the filter need not walk the same bytes again. When ok is
 * 1, v[0..n) and media are exactly what json_span_request_texts (with
 * media) or json_span_answer_texts give for src[0..len); 0: the pass did
 * not record them (a form it does not take: more than OPENAI_TEXTS_MAX
 * texts, a member such as tool_calls in a request, an escaped key, role
 * or part type, another route than chat), and the caller walks the bytes
 * itself. Records only what the walks record; never more. */
struct openai_texts {
	int ok;
	const char *src;   /* the bytes validated */
	size_t len;
	size_t n;
	unsigned media;    /* requests: enum aiact_media bits of instruction messages */
	struct json_span_text v[OPENAI_TEXTS_MAX];
};

/* 0 when the scanner's member tables are consistent (each shape's
 * length mask matches its members), else -1 with err (for the tests). */
int openai_scan_tables_check(char *err, size_t errlen);
/* openai_scan_body that also fills *texts (see above). */
int openai_scan_body_texts(int route, const char *body, size_t len, struct openai_body_info *info,
    struct openai_texts *texts);
/* openai_body_check that also fills *texts (the request walk's texts;
 * texts->ok 0 unless the one pass recorded them). */
int openai_body_check_texts(const struct openai_route_def *r, const char *body, size_t len,
    struct openai_body_info *info, struct openai_texts *texts, char *err, size_t errlen);
/* openai_scan_json that also fills *texts (the answer walk's texts). */
int openai_scan_json_texts(const char *buf, size_t len, struct openai_texts *texts);

#endif
