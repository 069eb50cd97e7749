/* OpenAI request bodies: see engine/server_request.h.  Error messages name
 * the field and what was expected, never the value (it may be user text). */
#include "engine/server_request.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum server_request_num {
	SERVER_REQUEST_NUM_FLOAT,
	SERVER_REQUEST_NUM_INT32,
};

/* Sampling parameters accepted from a request, with their valid ranges
 * (OpenAI's API reference; top_k, min_p and repetition_penalty as llama.cpp's
 * server takes them). */
static const struct {
	const char *name;
	enum server_request_num type;
	size_t off;
	double lo, hi;
} server_request_params[] = {
	{ "temperature", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, temperature), 0, 2 },
	{ "top_p", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, top_p), 0, 1 },
	{ "top_k", SERVER_REQUEST_NUM_INT32, offsetof(struct sampler_params, top_k), 0, 1 << 30 },
	{ "min_p", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, min_p), 0, 1 },
	{ "presence_penalty", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, presence_penalty), -2, 2 },
	{ "frequency_penalty", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, frequency_penalty), -2, 2 },
	{ "repetition_penalty", SERVER_REQUEST_NUM_FLOAT, offsetof(struct sampler_params, repetition_penalty), 0.01, 10 },
};

/* Chat roles; "developer" is OpenAI's newer name for the system turn. */
static const struct {
	const char *name;
	const char *as;
} server_request_roles[] = {
	{ "system", "system" }, { "developer", "system" }, { "user", "user" }, { "assistant", "assistant" },
};

static int server_request_bad(struct server_request_error *e, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int server_request_bad(struct server_request_error *e, const char *param, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	e->param = param;
	return -1;
}

static int server_request_sampling(struct server_request *r, json_t *body, uint64_t seed,
    struct server_request_error *e)
{
	json_t *v;

	/* OpenAI's defaults: plain sampling at temperature 1 */
	sampler_params_default(&r->sp);
	r->sp.temperature = 1.0f;
	r->sp.top_k = 0;
	r->sp.top_p = 1.0f;
	r->sp.min_p = 0.0f;
	r->sp.seed = seed;
	for (size_t i = 0; i < sizeof server_request_params / sizeof server_request_params[0]; i++) {
		const char *name = server_request_params[i].name;
		v = json_object_get(body, name);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_number(v))
			return server_request_bad(e, name, "'%s' must be a number", name);
		double d = json_number_value(v);
		if (!(d >= server_request_params[i].lo && d <= server_request_params[i].hi))
			return server_request_bad(e, name, "'%s' must be from %g to %g", name,
			    server_request_params[i].lo, server_request_params[i].hi);
		char *field = (char *)&r->sp + server_request_params[i].off;
		if (server_request_params[i].type == SERVER_REQUEST_NUM_FLOAT) {
			float f = (float)d;
			memcpy(field, &f, sizeof f);
		} else {
			if (d != floor(d))
				return server_request_bad(e, name, "'%s' must be an integer", name);
			int32_t k = (int32_t)d;
			memcpy(field, &k, sizeof k);
		}
	}
	v = json_object_get(body, "seed");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v))
			return server_request_bad(e, "seed", "'seed' must be an integer");
		r->sp.seed = (uint64_t)json_integer_value(v);
	}
	char err[256];
	if (sampler_params_check(&r->sp, err, sizeof err) != 0)
		return server_request_bad(e, NULL, "%s", err);
	return 0;
}

static int server_request_options(struct server_request *r, json_t *body, struct server_request_error *e)
{
	static const char *const max_names[] = { "max_completion_tokens", "max_tokens" };
	json_t *v;

	r->max_tokens = -1;
	for (size_t i = 0; i < 2 && r->max_tokens < 0; i++) {
		v = json_object_get(body, max_names[i]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return server_request_bad(e, max_names[i], "'%s' must be a positive integer", max_names[i]);
		r->max_tokens = json_integer_value(v) > (1 << 30) ? (1 << 30) : (long)json_integer_value(v);
	}
	v = json_object_get(body, "n");
	if (v && !json_is_null(v) && !(json_is_integer(v) && json_integer_value(v) == 1))
		return server_request_bad(e, "n", "only 'n': 1 is supported");

	v = json_object_get(body, "stop");
	if (v && !json_is_null(v)) {
		json_t *one = json_is_string(v) ? v : NULL;
		size_t n = one ? 1 : json_is_array(v) ? json_array_size(v) : (size_t)-1;
		if (n == (size_t)-1 || n > SERVER_REQUEST_MAX_STOPS)
			return server_request_bad(e, "stop", "'stop' must be a string or an array of at most %d strings",
			    SERVER_REQUEST_MAX_STOPS);
		for (size_t i = 0; i < n; i++) {
			json_t *s = one ? one : json_array_get(v, i);
			/* a NUL inside would cut the string short */
			if (!json_is_string(s) || json_string_length(s) == 0 ||
			    strlen(json_string_value(s)) != json_string_length(s))
				return server_request_bad(e, "stop", "'stop' entries must be non-empty strings");
			r->stops[r->n_stops] = strdup(json_string_value(s));
			if (!r->stops[r->n_stops])
				return server_request_bad(e, NULL, "out of memory");
			r->n_stops++;
		}
	}
	v = json_object_get(body, "stream");
	if (v && !json_is_null(v) && !json_is_boolean(v))
		return server_request_bad(e, "stream", "'stream' must be a boolean");
	r->stream = json_is_true(v);
	v = json_object_get(body, "stream_options");
	if (v && !json_is_null(v)) {
		json_t *u = json_is_object(v) ? json_object_get(v, "include_usage") : NULL;
		if (!json_is_object(v) || (u && !json_is_boolean(u)))
			return server_request_bad(e, "stream_options",
			    "'stream_options' must be an object with a boolean 'include_usage'");
		r->include_usage = json_is_true(u);
	}
	/* vLLM's switch for Qwen3 thinking */
	v = json_object_get(json_object_get(body, "chat_template_kwargs"), "enable_thinking");
	r->no_think = json_is_false(v);
	return 0;
}

/* A message's content: a string, or an array of {"type":"text","text":...}
 * parts (joined); null for an assistant turn that only called tools. */
static int server_request_content(struct server_request *r, json_t *c, size_t idx, struct server_request_error *e)
{
	struct chat_message *m = &r->msgs[idx];

	if (!c || json_is_null(c)) {
		m->content = "";
		m->content_len = 0;
		return 0;
	}
	if (json_is_string(c)) {
		m->content = json_string_value(c);
		m->content_len = json_string_length(c);
		return 0;
	}
	if (!json_is_array(c))
		return server_request_bad(e, "messages", "messages[%zu].content must be a string or an array of text parts", idx);
	size_t total = 0, i;
	json_t *p;
	json_array_foreach(c, i, p) {
		json_t *t = json_object_get(p, "text");
		const char *type = json_string_value(json_object_get(p, "type"));
		if (!type || strcmp(type, "text") != 0 || !json_is_string(t))
			return server_request_bad(e, "messages", "messages[%zu].content[%zu]: only text parts are supported", idx, i);
		total += json_string_length(t);
	}
	char *buf = malloc(total + 1);
	if (!buf)
		return server_request_bad(e, NULL, "out of memory");
	size_t k = 0;
	json_array_foreach(c, i, p) {
		json_t *t = json_object_get(p, "text");
		memcpy(buf + k, json_string_value(t), json_string_length(t));
		k += json_string_length(t);
	}
	buf[k] = '\0';
	r->owned[idx] = buf;
	m->content = buf;
	m->content_len = k;
	return 0;
}

static int server_request_messages(struct server_request *r, json_t *body, struct server_request_error *e)
{
	json_t *msgs = json_object_get(body, "messages"), *m;
	size_t n, i;

	if (!json_is_array(msgs) || json_array_size(msgs) == 0)
		return server_request_bad(e, "messages", "'messages' must be a non-empty array");
	n = json_array_size(msgs);
	r->msgs = calloc(n, sizeof *r->msgs);
	r->owned = calloc(n, sizeof *r->owned);
	if (!r->msgs || !r->owned)
		return server_request_bad(e, NULL, "out of memory");
	r->n_msgs = n;
	json_array_foreach(msgs, i, m) {
		const char *role = json_string_value(json_object_get(m, "role"));
		size_t ri = sizeof server_request_roles / sizeof server_request_roles[0];
		for (size_t k = 0; role && k < sizeof server_request_roles / sizeof server_request_roles[0]; k++)
			if (strcmp(role, server_request_roles[k].name) == 0)
				ri = k;
		if (ri == sizeof server_request_roles / sizeof server_request_roles[0])
			return server_request_bad(e, "messages",
			    "messages[%zu].role must be one of system, developer, user, assistant", i);
		r->msgs[i].role = server_request_roles[ri].as;
		r->has_system |= strcmp(r->msgs[i].role, "system") == 0;
		if (server_request_content(r, json_object_get(m, "content"), i, e) != 0)
			return -1;
	}
	return 0;
}

int server_request_parse(struct server_request *r, const char *body, size_t n, int chat,
    uint64_t seed, struct server_request_error *e)
{
	json_error_t jerr;

	memset(r, 0, sizeof *r);
	memset(e, 0, sizeof *e);
	r->chat = chat;
	json_t *root = json_loadb(body, n, 0, &jerr);
	r->body = root;
	/* the parser's own message can quote the input: give only the place */
	if (!root) {
		e->code = "invalid_json";
		return server_request_bad(e, NULL, "invalid JSON at line %d, column %d", jerr.line, jerr.column);
	}
	if (!json_is_object(root)) {
		e->code = "invalid_json";
		return server_request_bad(e, NULL, "the request body must be a JSON object");
	}
	if (server_request_sampling(r, root, seed, e) != 0 || server_request_options(r, root, e) != 0)
		return -1;
	if (chat)
		return server_request_messages(r, root, e);
	json_t *p = json_object_get(root, "prompt");
	/* a one-element array of strings is the same prompt */
	if (json_is_array(p) && json_array_size(p) == 1)
		p = json_array_get(p, 0);
	if (!json_is_string(p))
		return server_request_bad(e, "prompt", "'prompt' must be a string");
	r->prompt = json_string_value(p);
	r->prompt_len = json_string_length(p);
	return 0;
}

/* Overwrite every string of a JSON value in place (they hold user text). */
static void server_request_wipe(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
			server_request_wipe(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			server_request_wipe(x);
	}
}

void server_request_drop_text(struct server_request *r)
{
	for (size_t i = 0; r->owned && i < r->n_msgs; i++) {
		if (r->owned[i]) {
			explicit_bzero(r->owned[i], strlen(r->owned[i]));
			free(r->owned[i]);
		}
	}
	free(r->owned);
	free(r->msgs);
	r->owned = NULL;
	r->msgs = NULL;
	r->n_msgs = 0;
	r->prompt = NULL;
	r->prompt_len = 0;
	if (r->body) {
		server_request_wipe(r->body);
		json_decref(r->body);
	}
	r->body = NULL;
}

void server_request_free(struct server_request *r)
{
	server_request_drop_text(r);
	for (size_t i = 0; i < r->n_stops; i++) {
		explicit_bzero(r->stops[i], strlen(r->stops[i]));
		free(r->stops[i]);
	}
	r->n_stops = 0;
}
