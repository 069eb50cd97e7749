/* OpenAI API routes and body validation. The gateway re-serializes every
 * body it forwards (the policy engine rewrites the JSON in between), so
 * validation checks only what hafen relies on and leaves unknown fields
 * for the upstream to judge. */
#include "openai.h"
#include "http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int openai_check_common(json_t *b, char *err, size_t errlen)
{
	json_t *m = json_object_get(b, "model");
	if (!m) {
		snprintf(err, errlen, "missing required field: model");
		return -1;
	}
	if (!json_is_string(m) || json_string_length(m) == 0) {
		snprintf(err, errlen, "model: expected a non-empty string");
		return -1;
	}
	json_t *s = json_object_get(b, "stream");
	if (s && !json_is_boolean(s)) {
		snprintf(err, errlen, "stream: expected a boolean");
		return -1;
	}
	static const char *const ints[] = {"max_tokens", "max_completion_tokens", "n", "seed", NULL};
	for (int i = 0; ints[i]; i++) {
		json_t *v = json_object_get(b, ints[i]);
		if (v && !json_is_null(v) && !json_is_integer(v)) {
			snprintf(err, errlen, "%s: expected an integer", ints[i]);
			return -1;
		}
	}
	static const char *const nums[] = {"temperature", "top_p", "presence_penalty", "frequency_penalty", NULL};
	for (int i = 0; nums[i]; i++) {
		json_t *v = json_object_get(b, nums[i]);
		if (v && !json_is_null(v) && !json_is_number(v)) {
			snprintf(err, errlen, "%s: expected a number", nums[i]);
			return -1;
		}
	}
	return 0;
}

/* A message's content: a string, null (assistant with tool calls) or an
 * array of parts each with a string "type". */
static int openai_check_content(json_t *c, size_t i, char *err, size_t errlen)
{
	if (json_is_string(c) || json_is_null(c))
		return 0;
	if (json_is_array(c)) {
		size_t j;
		json_t *part;
		json_array_foreach(c, j, part) {
			json_t *t = json_object_get(part, "type");
			if (!json_is_object(part) || !json_is_string(t)) {
				snprintf(err, errlen, "messages[%zu].content[%zu]: expected an object with a string type", i, j);
				return -1;
			}
		}
		return 0;
	}
	snprintf(err, errlen, "messages[%zu].content: expected a string, an array of parts or null", i);
	return -1;
}

static int openai_validate_chat(json_t *b, char *err, size_t errlen)
{
	if (openai_check_common(b, err, errlen) < 0)
		return -1;
	json_t *msgs = json_object_get(b, "messages");
	if (!msgs) {
		snprintf(err, errlen, "missing required field: messages");
		return -1;
	}
	if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
		snprintf(err, errlen, "messages: expected a non-empty array");
		return -1;
	}
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		if (!json_is_object(m)) {
			snprintf(err, errlen, "messages[%zu]: expected an object", i);
			return -1;
		}
		json_t *role = json_object_get(m, "role");
		if (!json_is_string(role) || json_string_length(role) == 0) {
			snprintf(err, errlen, "messages[%zu].role: expected a non-empty string", i);
			return -1;
		}
		json_t *c = json_object_get(m, "content");
		if (c && openai_check_content(c, i, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* prompt: string, array of strings, array of token ids, or array of arrays of token ids. */
static int openai_validate_completions(json_t *b, char *err, size_t errlen)
{
	if (openai_check_common(b, err, errlen) < 0)
		return -1;
	json_t *p = json_object_get(b, "prompt");
	if (!p) {
		snprintf(err, errlen, "missing required field: prompt");
		return -1;
	}
	if (json_is_string(p))
		return 0;
	if (json_is_array(p)) {
		size_t i;
		json_t *e;
		json_array_foreach(p, i, e) {
			if (json_is_string(e) || json_is_integer(e))
				continue;
			if (json_is_array(e)) {
				size_t j;
				json_t *t;
				json_array_foreach(e, j, t)
					if (!json_is_integer(t))
						goto bad;
				continue;
			}
			goto bad;
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "prompt: expected a string, an array of strings or an array of token ids");
	return -1;
}

static int openai_validate_embeddings(json_t *b, char *err, size_t errlen)
{
	if (openai_check_common(b, err, errlen) < 0)
		return -1;
	json_t *in = json_object_get(b, "input");
	if (!in) {
		snprintf(err, errlen, "missing required field: input");
		return -1;
	}
	if (json_is_string(in))
		return 0;
	if (json_is_array(in) && json_array_size(in) > 0) {
		size_t i;
		json_t *e;
		json_array_foreach(in, i, e)
			if (!json_is_string(e) && !json_is_integer(e) && !json_is_array(e))
				goto bad;
		return 0;
	}
bad:
	snprintf(err, errlen, "input: expected a string or a non-empty array");
	return -1;
}

/* The route table: one row per endpoint. */
static const struct openai_route_def openai_routes[OPENAI_ROUTE_COUNT] = {
	{"/v1/chat/completions", HTTP_METHOD_POST, OPENAI_ROUTE_CHAT, "chat", 1, openai_validate_chat},
	{"/v1/completions", HTTP_METHOD_POST, OPENAI_ROUTE_COMPLETIONS, "completions", 1, openai_validate_completions},
	{"/v1/embeddings", HTTP_METHOD_POST, OPENAI_ROUTE_EMBEDDINGS, "embeddings", 1, openai_validate_embeddings},
	{"/v1/models", HTTP_METHOD_GET, OPENAI_ROUTE_MODELS, "models", 0, NULL},
};

const struct openai_route_def *openai_route_get(int route)
{
	return route >= 0 && route < OPENAI_ROUTE_COUNT ? &openai_routes[route] : NULL;
}

const struct openai_route_def *openai_route_find(const char *path, size_t len, int method, int *status)
{
	*status = 404;
	for (size_t i = 0; i < OPENAI_ROUTE_COUNT; i++) {
		const struct openai_route_def *r = &openai_routes[i];
		if (strlen(r->path) != len || memcmp(r->path, path, len) != 0)
			continue;
		if (r->method == method)
			return r;
		*status = 405;
	}
	return NULL;
}

json_t *openai_body_parse(const struct openai_route_def *r, const char *body, size_t len,
    int *stream, char *err, size_t errlen)
{
	json_error_t je;
	*stream = 0;
	if (len == 0) {
		snprintf(err, errlen, "request body is empty, expected a JSON object");
		return NULL;
	}
	/* Duplicate keys are refused: the policy engine and the upstream must
	 * not see different values for one field. */
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		/* je.text may quote the input; report the position only. */
		snprintf(err, errlen, "malformed JSON at line %d column %d", je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "expected a JSON object");
		json_decref(j);
		return NULL;
	}
	if (r->validate && r->validate(j, err, errlen) < 0) {
		json_decref(j);
		return NULL;
	}
	*stream = json_is_true(json_object_get(j, "stream"));
	return j;
}

int openai_body_check(const struct openai_route_def *r, const char *body, size_t len,
    struct openai_body_info *info, char *err, size_t errlen)
{
	return openai_body_check_texts(r, body, len, info, NULL, err, errlen);
}

int openai_body_check_texts(const struct openai_route_def *r, const char *body, size_t len,
    struct openai_body_info *info, struct openai_texts *texts, char *err, size_t errlen)
{
	if (texts)
		texts->ok = 0; /* the tree path below records nothing */
	int rc = len ? openai_scan_body_texts(r->route, body, len, info, texts) : OPENAI_SCAN_INVALID;
	if (rc == OPENAI_SCAN_VALID)
		return 0;
	if (texts)
		texts->ok = 0;
	/* Refused or declined: the tree path decides. A refusal is rare and
	 * jansson's message says where the JSON broke; a body the scanner
	 * refused but jansson accepts would be a scanner bug (the kind
	 * fuzz_openai_scan looks for), and jansson is the reference. */
	int stream;
	json_t *j = openai_body_parse(r, body, len, &stream, err, errlen);
	if (!j)
		return -1;
	memset(info, 0, sizeof *info);
	info->stream = stream;
	json_t *m = json_object_get(j, "model");
	size_t ml = json_string_length(m);
	if (json_is_string(m) && ml < sizeof info->model_buf) {
		memcpy(info->model_buf, json_string_value(m), ml + 1);
		info->model = info->model_buf;
		info->model_len = ml;
	}
	json_decref(j);
	return 0;
}

char *openai_error_json(const char *message, const char *type, const char *code, size_t *len)
{
	json_t *e = json_pack("{s:{s:s,s:s,s:s?}}", "error", "message", message, "type", type, "code", code);
	char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	if (s)
		*len = strlen(s);
	return s;
}

/* jansson allocations hold prompt text: wipe them before freeing. The
 * size is kept in a header word because free() does not know it. */
static void *openai_json_malloc(size_t n)
{
	if (n > SIZE_MAX - 16)
		return NULL;
	size_t *p = malloc(n + 16);
	if (!p)
		return NULL;
	p[0] = n;
	return (char *)p + 16;
}

static void openai_json_free(void *ptr)
{
	if (!ptr)
		return;
	size_t *p = (size_t *)((char *)ptr - 16);
	explicit_bzero(ptr, p[0]);
	free(p);
}

void openai_json_free_string(void *s)
{
	openai_json_free(s);
}

char *openai_json_copy_string(const char *body, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *s = openai_json_malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, body, len);
	s[len] = 0;
	return s;
}

void openai_json_init(void)
{
	json_set_alloc_funcs(openai_json_malloc, openai_json_free);
}
