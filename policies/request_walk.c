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
#include "policies/policy-int.h"

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

/* Tool-call arguments are JSON inside a string. Scanning their decoded
 * values (not the JSON source) means offsets refer to decoded strings, a
 * value written with \u escapes is seen as the text it is, and a rewrite can
 * never split an escape sequence. Arguments that do not parse stay one text
 * field. */
static int request_walk_inner(struct request_walk *w, json_t *v, size_t depth)
{
	if (depth > 64)
		return 0; /* never reached: request_walk_expand refuses deeper values */
	if (json_is_string(v))
		return request_walk_add(w, v);
	const char *key;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
			if (request_walk_inner(w, e, depth + 1) < 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (request_walk_inner(w, e, depth + 1) < 0)
				return -1;
	}
	return 0;
}

static size_t request_walk_depth(json_t *v)
{
	size_t d = 0, m = 0;
	const char *key;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, e) {
			d = request_walk_depth(e);
			m = d > m ? d : m;
		}
		return m + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			d = request_walk_depth(e);
			m = d > m ? d : m;
		}
		return m + 1;
	}
	return 0;
}

int request_walk_expand(json_t **fields, const uint8_t *kinds, size_t n, json_t ***out,
			size_t **parent, size_t *n_out, struct request_walk_nested **nested,
			size_t *n_nested, char *err, size_t errlen)
{
	struct request_walk w = { 0 };
	size_t *par = NULL, par_cap = 0;
	struct request_walk_nested *nest = NULL;
	size_t nn = 0;
	*out = NULL;
	*parent = NULL;
	*n_out = 0;
	*nested = NULL;
	*n_nested = 0;
	for (size_t fi = 0; fi < n; fi++) {
		json_t *root = NULL;
		if (kinds[fi] == REQUEST_WALK_JSON)
			root = json_loadb(json_string_value(fields[fi]), json_string_length(fields[fi]),
					  JSON_DECODE_ANY, NULL);
		/* Too deep to walk safely: scan it as the text it is. */
		if (root && request_walk_depth(root) > 64) {
			json_decref(root);
			root = NULL;
		}
		size_t before = w.n;
		if (root) {
			struct request_walk_nested *nv = realloc(nest, (nn + 1) * sizeof(*nv));
			if (!nv) {
				json_decref(root);
				goto nomem;
			}
			nest = nv;
			nest[nn].outer = fields[fi];
			nest[nn].root = root;
			nest[nn].changed = 0;
			nn++;
			if (request_walk_inner(&w, root, 0) < 0)
				goto nomem;
		} else if (request_walk_add(&w, fields[fi]) < 0) {
			goto nomem;
		}
		if (w.n > par_cap) {
			size_t cap = w.cap;
			size_t *np = realloc(par, cap * sizeof(*np));
			if (!np)
				goto nomem;
			par = np;
			par_cap = cap;
		}
		for (size_t k = before; k < w.n; k++)
			par[k] = root ? nn - 1 : SIZE_MAX;
	}
	free(w.kind);
	*out = w.v;
	*parent = par;
	*n_out = w.n;
	*nested = nest;
	*n_nested = nn;
	return 0;
nomem:
	free(w.v);
	free(w.kind);
	free(par);
	request_walk_nested_free(nest, nn);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Fields as bytes: the same expansion as request_walk_expand, collecting
 * (pointer, length) pairs instead of string nodes. */
struct request_walk_texts {
	struct policy_text *v;
	size_t n, cap;
};

static int request_walk_text_add(struct request_walk_texts *w, const char *text, size_t len,
				 uint8_t instruction)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct policy_text *v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct policy_text){ text, len, REQUEST_WALK_TEXT, instruction };
	return 0;
}

/* request_walk_inner's order: strings depth first, members in order. */
static int request_walk_inner_texts(struct request_walk_texts *w, json_t *v)
{
	if (json_is_string(v))
		return request_walk_text_add(w, json_string_value(v), json_string_length(v), 0);
	const char *key;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
			if (request_walk_inner_texts(w, e) < 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (request_walk_inner_texts(w, e) < 0)
				return -1;
	}
	return 0;
}

int request_walk_expand_texts(const struct policy_text *in, size_t n, struct policy_text **out,
			      size_t *n_out, json_t ***roots, size_t *n_roots, char *err, size_t errlen)
{
	struct request_walk_texts w = { 0 };
	json_t **r = NULL;
	size_t nr = 0;
	*out = NULL;
	*n_out = 0;
	*roots = NULL;
	*n_roots = 0;
	size_t fi = 0;
	while (fi < n && in[fi].kind != REQUEST_WALK_JSON)
		fi++;
	if (fi == n)
		return 0; /* nothing to expand: the common case costs no allocation */
	for (fi = 0; fi < n; fi++) {
		json_t *root = NULL;
		if (in[fi].kind == REQUEST_WALK_JSON)
			root = json_loadb(in[fi].text, in[fi].len, JSON_DECODE_ANY, NULL);
		/* Too deep to walk safely: scan it as the text it is. */
		if (root && request_walk_depth(root) > 64) {
			json_decref(root);
			root = NULL;
		}
		if (root) {
			json_t **nv = realloc(r, (nr + 1) * sizeof(*nv));
			if (!nv) {
				json_decref(root);
				goto nomem;
			}
			r = nv;
			r[nr++] = root;
			if (request_walk_inner_texts(&w, root) < 0)
				goto nomem;
		} else if (request_walk_text_add(&w, in[fi].text, in[fi].len, in[fi].instruction) < 0) {
			goto nomem;
		}
	}
	*out = w.v;
	*n_out = w.n;
	*roots = r;
	*n_roots = nr;
	return 0;
nomem:
	free(w.v);
	for (size_t i = 0; i < nr; i++)
		json_decref(r[i]);
	free(r);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int request_walk_commit(struct request_walk_nested *nested, size_t n_nested, char *err, size_t errlen)
{
	json_malloc_t jm;
	json_free_t jf;
	json_get_alloc_funcs(&jm, &jf);
	for (size_t i = 0; i < n_nested; i++) {
		if (!nested[i].changed)
			continue; /* untouched arguments keep their exact text */
		char *s = json_dumps(nested[i].root, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s || json_string_set(nested[i].outer, s) < 0) {
			if (s) {
				explicit_bzero(s, strlen(s));
				jf(s);
			}
			snprintf(err, errlen, "cannot write back tool-call arguments");
			return -1;
		}
		explicit_bzero(s, strlen(s));
		jf(s);
	}
	return 0;
}

void request_walk_nested_free(struct request_walk_nested *nested, size_t n_nested)
{
	for (size_t i = 0; i < n_nested; i++)
		json_decref(nested[i].root);
	free(nested);
}
