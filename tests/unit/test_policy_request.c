/* The policy filter's request side on the client's bytes against the same
 * on the jansson tree (policy_request_diff.c), over the labelled corpus
 * (tests/data/pii, every line wrapped in chat, tool-call, completions and
 * embeddings requests, written compact, indented and ASCII-escaped) and
 * over the request fuzz corpora. Every outcome must be the same. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/openai.h"
#include "tests/tap.h"
#include "tests/unit/policy_request_diff.h"

static struct policy_request_diff_stats st;
static unsigned long n_diff;
static char first_why[512];

static void check_body(const char *body, size_t len, const char *where)
{
	char why[256];
	if (policy_request_diff(body, len, &st, why, sizeof why) == 1 && n_diff++ == 0)
		snprintf(first_why, sizeof first_why, "%s: %s", where, why);
}

/* The shapes a text is wrapped in (request_walk.c's places). */
static json_t *wrap(size_t shape, const char *text)
{
	json_t *args = json_pack("{s:s, s:[s, i]}", "note", text, "more", text, 1);
	char *a = args ? json_dumps(args, JSON_COMPACT) : NULL;
	json_decref(args);
	json_t *r = NULL;
	switch (shape) {
	case 0:
		r = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "model", "m", "messages", "role", "system",
		    "content", "You are a helpful assistant.", "role", "user", "content", text);
		break;
	case 1:
		r = json_pack("{s:[{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}], s:s, s:b}", "messages", "role", "user",
		    "name", "alice", "content", "type", "text", "text", text, "type", "text", "text", "und IBAN?",
		    "model", "m", "stream", 1);
		break;
	case 2:
		r = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:n, s:[{s:s, s:s, s:{s:s, s:s}}]}, {s:s, s:s, s:s}]}",
		    "model", "m", "messages", "role", "user", "content", "look it up", "role", "assistant", "content",
		    "tool_calls", "id", "c1", "type", "function", "function", "name", "lookup", "arguments",
		    a ? a : "{}", "role", "tool", "tool_call_id", "c1", "content", text);
		break;
	case 3:
		r = json_pack("{s:s, s:[s, s]}", "model", "m", "prompt", text, "Summary:");
		break;
	default:
		r = json_pack("{s:s, s:[s]}", "model", "m", "input", text);
		break;
	}
	openai_json_free_string(a);
	return r;
}

static void run_jsonl(const char *top, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/pii/%s", top, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		ok(0, "open %s", path);
		return;
	}
	static const size_t flags[] = {JSON_COMPACT, JSON_INDENT(2), JSON_COMPACT | JSON_ENSURE_ASCII};
	char *line = NULL;
	size_t cap = 0, n = 0, before = n_diff;
	ssize_t l;
	while ((l = getline(&line, &cap, f)) > 0) {
		json_t *j = json_loadb(line, (size_t)l, 0, NULL);
		const char *text = json_string_value(json_object_get(j, "text"));
		for (size_t s = 0; text && s < 5; s++) {
			json_t *r = wrap(s, text);
			char *body = r ? json_dumps(r, flags[(n + s) % 3]) : NULL;
			char where[600];
			snprintf(where, sizeof where, "%s line %zu shape %zu", name, n + 1, s);
			if (body)
				check_body(body, strlen(body), where);
			openai_json_free_string(body);
			json_decref(r);
		}
		json_decref(j);
		n++;
	}
	free(line);
	fclose(f);
	ok(n > 0 && n_diff == before, "%s: %zu lines x 5 shapes, the same outcome both ways%s%s", name, n,
	    n_diff == before ? "" : " -- ", n_diff == before ? "" : first_why);
}

static void run_corpus(const char *top, const char *name)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top, name);
	DIR *d = opendir(dir);
	if (!d) {
		ok(0, "open %s", dir);
		return;
	}
	size_t n = 0, before = n_diff;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		char buf[65536];
		size_t len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		check_body(buf, len, path);
		n++;
	}
	closedir(d);
	ok(n > 0 && n_diff == before, "corpus %s: %zu inputs, the same outcome both ways%s%s", name, n,
	    n_diff == before ? "" : " -- ", n_diff == before ? "" : first_why);
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	if (!top)
		top = ".";
	/* the first call loads the packs and installs the wiping allocator,
	 * so every json_dumps below is released with openai_json_free_string */
	check_body("{}", 2, "init");
	static const char *const files[] = {"contact.jsonl", "financial.jsonl", "national_id.jsonl", "person.jsonl",
	    "secret.jsonl", "special.jsonl"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		run_jsonl(top, files[i]);
	static const char *const corpora[] = {"fuzz_policy_request", "fuzz_request_walk", "fuzz_openai_scan",
	    "fuzz_server_request"};
	for (size_t i = 0; i < sizeof corpora / sizeof corpora[0]; i++)
		run_corpus(top, corpora[i]);
	/* Both ways of the filter were taken, so the comparisons above can fail. */
	ok(st.rewritten > 1000, "%lu bodies were rewritten (the tree path after the byte scan)", st.rewritten);
	ok(st.blocked > 100, "%lu bodies were blocked", st.blocked);
	ok(st.compared > st.rewritten + st.blocked + 1000, "%lu compared, most of them neither rewritten nor blocked",
	    st.compared);
	ok(st.texts_compared > 20000, "%lu texts compared with the tree walk's (%lu bodies declined by the span walk)",
	    st.texts_compared, st.span_declined);
	tap_done();
	return tap_exit_status();
}
