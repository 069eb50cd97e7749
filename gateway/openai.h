/* The OpenAI API surface: the route table, request body validation and
 * the error shape {"error":{"message","type","code"}}. */
#ifndef HAFEN_GATEWAY_OPENAI_H
#define HAFEN_GATEWAY_OPENAI_H

#include <stddef.h>

#include <jansson.h>

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

#endif
