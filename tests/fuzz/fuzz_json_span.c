/* libFuzzer target for gateway/json_span.c, differential against jansson:
 * for any input jansson accepts, every path to a value (up to the finder's
 * depth) either is refused or yields a span that (1) parses to the value
 * jansson has at that path and (2) when replaced by another string gives a
 * text jansson parses to the tree with exactly that value replaced. The
 * input's paths are walked in tree order; the policy filter's own paths
 * (choices[i].delta.content, choices[i].text) are among them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/json_span.h"
#include "policies/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_span_check(const char *text, size_t len, json_t *root, json_t *v,
    struct json_span_step *path, size_t depth)
{
	size_t a, b;
	if (json_span_find(text, len, path, depth, &a, &b) == 0) {
		if (a > b || b > len)
			abort();
		json_t *got = json_loadb(text + a, b - a, JSON_DECODE_ANY, NULL);
		if (!got || !json_equal(got, v))
			abort();
		json_decref(got);
		/* an array's elements one by one (json_span_next): as many as
		 * jansson has, each the same value */
		if (json_is_array(v)) {
			size_t it = a, es, ee, k = 0;
			int r;
			while ((r = json_span_next(text, len, &it, &es, &ee)) == 1) {
				json_t *e = json_loadb(text + es, ee - es, JSON_DECODE_ANY, NULL);
				if (!e || !json_equal(e, json_array_get(v, k)))
					abort();
				json_decref(e);
				k++;
			}
			if (r < 0 || k != json_array_size(v))
				abort();
		}
		if (depth == 0)
			goto children; /* the top value itself: nothing to splice into */
		/* splice a string in and compare with jansson's own replacement */
		static const char repl[] = "\"<PERSON_1> \\\"x\\u00fc\"";
		size_t rl = sizeof(repl) - 1;
		char *s = malloc(len - (b - a) + rl);
		if (!s)
			return;
		memcpy(s, text, a);
		memcpy(s + a, repl, rl);
		memcpy(s + a + rl, text + b, len - b);
		json_t *spliced = json_loadb(s, len - (b - a) + rl, 0, NULL);
		free(s);
		json_t *want = json_deep_copy(root);
		json_t *parent = want;
		for (size_t k = 0; want && k + 1 < depth; k++)
			parent = path[k].key ? json_object_get(parent, path[k].key) : json_array_get(parent, path[k].index);
		json_t *r = json_string("<PERSON_1> \"x\xc3\xbc");
		int set = -1;
		if (parent && r)
			set = path[depth - 1].key ? json_object_set(parent, path[depth - 1].key, r)
						  : json_array_set(parent, path[depth - 1].index, r);
		json_decref(r);
		if (!spliced || set < 0 || !json_equal(spliced, want))
			abort();
		json_decref(spliced);
		json_decref(want);
	}
children:
	if (depth == JSON_SPAN_MAX_PATH)
		return;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach(v, k, c) {
			path[depth] = (struct json_span_step){k, 0};
			fuzz_span_check(text, len, root, c, path, depth + 1);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c) {
			path[depth] = (struct json_span_step){NULL, i};
			fuzz_span_check(text, len, root, c, path, depth + 1);
		}
	}
}

/* json_span_answer_texts against the tree walk the policy filter used
 * before (request_walk_collect_kinds): when the walk takes the text, it
 * finds exactly the tree's text fields (same kinds, same decoded strings,
 * each once), so a text jansson would show a client is never left
 * unguarded. */
static void fuzz_answer_check(const char *text, size_t len, json_t *root)
{
	struct json_span_text *v;
	size_t n;
	if (json_span_answer_texts(text, len, &v, &n) < 0)
		return;
	json_t **fields;
	uint8_t *kinds;
	size_t nf;
	char err[64];
	if (request_walk_collect_kinds(root, &fields, &kinds, &nf, err, sizeof err) < 0 || nf != n)
		abort();
	char *used = calloc(nf ? nf : 1, 1);
	for (size_t i = 0; used && i < n; i++) {
		if (v[i].start >= v[i].end || v[i].end > len || text[v[i].start] != '"')
			abort();
		json_t *s = json_loadb(text + v[i].start, v[i].end - v[i].start, JSON_DECODE_ANY, NULL);
		size_t k;
		for (k = 0; k < nf; k++)
			if (!used[k] && (int)kinds[k] == (int)v[i].kind && json_equal(fields[k], s))
				break;
		if (k == nf)
			abort();
		used[k] = 1;
		json_decref(s);
	}
	free(used);
	free(fields);
	free(kinds);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	if (!root)
		return 0;
	/* a private copy: the finder must not read past len */
	char *text = malloc(size ? size : 1);
	if (text) {
		memcpy(text, data, size);
		struct json_span_step path[JSON_SPAN_MAX_PATH];
		fuzz_span_check(text, size, root, root, path, 0);
		fuzz_answer_check(text, size, root);
		/* paths that need not exist in the tree */
		static const struct json_span_step chat[] = {{"choices", 0}, {NULL, 0}, {"delta", 0}, {"content", 0}};
		static const struct json_span_step comp[] = {{"choices", 0}, {NULL, 1}, {"text", 0}};
		size_t a, b;
		if (json_span_find(text, size, chat, 4, &a, &b) == 0 && (a > b || b > size))
			abort();
		if (json_span_find(text, size, comp, 3, &a, &b) == 0 && (a > b || b > size))
			abort();
		free(text);
	}
	json_decref(root);
	return 0;
}
