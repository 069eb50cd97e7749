/* Finds every text field of an OpenAI request or answer, so that nothing is
 * sent upstream unscanned. One walker for all endpoints: a field that an
 * endpoint does not use is simply absent. Where text can hide:
 *   requests:  messages[].content (string, or parts[].text), messages[].name,
 *              messages[].tool_calls[].function.arguments,
 *              messages[].function_call.arguments (legacy), tool results
 *              (role "tool": content), prompt (string or array of strings),
 *              input (string or array of strings; embeddings, moderations)
 *   answers:   choices[].message.{content,tool_calls,function_call},
 *              choices[].delta.{content,tool_calls} (stream chunks),
 *              choices[].text (completions)
 * Token-id arrays (prompt or input given as integers) hold no text. */
#include "policies/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request_walk {
	json_t **v;
	uint8_t *kind; /* enum request_walk_kind per field */
	size_t n, cap;
};

static int request_walk_add_kind(struct request_walk *w, json_t *s, enum request_walk_kind kind)
{
	if (!json_is_string(s))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		json_t **v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -1;
		w->v = v;
		uint8_t *k = realloc(w->kind, cap);
		if (!k)
			return -1;
		w->kind = k;
		w->cap = cap;
	}
	w->kind[w->n] = (uint8_t)kind;
	w->v[w->n++] = s;
	return 0;
}

static int request_walk_add(struct request_walk *w, json_t *s)
{
	return request_walk_add_kind(w, s, REQUEST_WALK_TEXT);
}

/* A string, or an array whose strings count (nested arrays of token ids,
 * or of strings, one level deep for batched inputs). */
static int request_walk_strings(struct request_walk *w, json_t *v)
{
	if (json_is_string(v))
		return request_walk_add(w, v);
	if (!json_is_array(v))
		return 0;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (json_is_string(e) && request_walk_add(w, e) < 0)
			return -1;
		if (json_is_array(e)) {
			size_t k;
			json_t *x;
			json_array_foreach(e, k, x)
				if (request_walk_add(w, x) < 0)
					return -1;
		}
	}
	return 0;
}

/* content: a string, or an array of parts whose "text" (type "text",
 * "input_text", "output_text", "refusal") carries text. */
static int request_walk_content(struct request_walk *w, json_t *content)
{
	if (json_is_string(content))
		return request_walk_add(w, content);
	if (!json_is_array(content))
		return 0;
	size_t i;
	json_t *part;
	json_array_foreach(content, i, part) {
		if (json_is_string(part)) {
			if (request_walk_add(w, part) < 0)
				return -1;
			continue;
		}
		if (!json_is_object(part))
			continue;
		static const char *const keys[] = { "text", "refusal" };
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (request_walk_add(w, json_object_get(part, keys[k])) < 0)
				return -1;
	}
	return 0;
}

static int request_walk_calls(struct request_walk *w, json_t *msg)
{
	json_t *calls = json_object_get(msg, "tool_calls");
	size_t i;
	json_t *call;
	if (json_is_array(calls))
		json_array_foreach(calls, i, call) {
			json_t *fn = json_object_get(call, "function");
			if (json_is_object(fn) &&
			    request_walk_add_kind(w, json_object_get(fn, "arguments"), REQUEST_WALK_JSON) < 0)
				return -1;
		}
	json_t *fc = json_object_get(msg, "function_call");
	if (json_is_object(fc) &&
	    request_walk_add_kind(w, json_object_get(fc, "arguments"), REQUEST_WALK_JSON) < 0)
		return -1;
	return 0;
}

/* A chat message, an answer's message or a stream delta. */
static int request_walk_message(struct request_walk *w, json_t *msg)
{
	if (!json_is_object(msg))
		return 0;
	if (request_walk_content(w, json_object_get(msg, "content")) < 0 ||
	    request_walk_add(w, json_object_get(msg, "name")) < 0 ||
	    request_walk_add(w, json_object_get(msg, "refusal")) < 0 ||
	    request_walk_calls(w, msg) < 0)
		return -1;
	return 0;
}

int request_walk_collect(json_t *root, json_t ***fields, size_t *n, char *err, size_t errlen)
{
	uint8_t *kinds = NULL;
	int rc = request_walk_collect_kinds(root, fields, &kinds, n, err, errlen);
	free(kinds);
	return rc;
}

int request_walk_collect_kinds(json_t *root, json_t ***fields, uint8_t **kinds, size_t *n,
			       char *err, size_t errlen)
{
	struct request_walk w = { 0 };
	*fields = NULL;
	*kinds = NULL;
	*n = 0;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return -1;
	}
	json_t *messages = json_object_get(root, "messages");
	if (messages && !json_is_array(messages)) {
		snprintf(err, errlen, "messages: expected an array");
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(messages, i, e)
		if (request_walk_message(&w, e) < 0)
			goto nomem;
	if (request_walk_strings(&w, json_object_get(root, "prompt")) < 0 ||
	    request_walk_strings(&w, json_object_get(root, "input")) < 0 ||
	    request_walk_strings(&w, json_object_get(root, "suffix")) < 0 ||
	    request_walk_strings(&w, json_object_get(root, "instructions")) < 0)
		goto nomem;
	json_t *choices = json_object_get(root, "choices");
	json_array_foreach(choices, i, e) {
		if (!json_is_object(e))
			continue;
		if (request_walk_message(&w, json_object_get(e, "message")) < 0 ||
		    request_walk_message(&w, json_object_get(e, "delta")) < 0 ||
		    request_walk_add(&w, json_object_get(e, "text")) < 0)
			goto nomem;
	}
	*fields = w.v;
	*kinds = w.kind;
	*n = w.n;
	return 0;
nomem:
	free(w.v);
	free(w.kind);
	snprintf(err, errlen, "out of memory");
	return -1;
}
