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

/* The AI Act corpus's requests reshaped where the screener reads roles,
 * parts and media (aiact_screen_request): roles rotated, removed or not
 * strings, texts moved into tool calls and tool results, into prompt and
 * input (strings, nested batches, message items with media), and parts of
 * other types. */
static const char *const aiact_roles[] = {"user", "system", "developer", "assistant", "tool", "", "USER", NULL};
static const char *const aiact_types[] = {"text", "input_text", "output_text", "refusal", "image_url", "input_image",
    "image", "input_audio", "audio", "audio_url", "video_url", "input_video", "video", "Image_url"};

/* Every text of the request's messages (content strings and text parts). */
static json_t *aiact_texts(json_t *req)
{
	json_t *out = json_array(), *m, *part;
	size_t i, k;
	json_array_foreach(json_object_get(req, "messages"), i, m) {
		json_t *c = json_object_get(m, "content");
		if (json_is_string(c))
			json_array_append(out, c);
		json_array_foreach(c, k, part)
			if (json_is_string(json_object_get(part, "text")))
				json_array_append(out, json_object_get(part, "text"));
	}
	return out;
}

static json_t *aiact_variant(json_t *req, size_t v, size_t line)
{
	json_t *r = json_deep_copy(req), *m, *part, *texts = aiact_texts(req);
	json_t *msgs = json_object_get(r, "messages");
	size_t i, k, nr = sizeof aiact_roles / sizeof aiact_roles[0], nt = sizeof aiact_types / sizeof aiact_types[0];
	switch (v) {
	case 0:
		break;
	case 1: /* roles: another one, none, or no string (completions takes any messages) */
		json_object_set_new(r, "prompt", json_string("Summary:"));
		json_array_foreach(msgs, i, m) {
			const char *role = aiact_roles[(line + i) % nr];
			if (role)
				json_object_set_new(m, "role", json_string(role));
			else if ((line + i) % 2)
				json_object_del(m, "role");
			else
				json_object_set_new(m, "role", json_integer(7));
		}
		break;
	case 2: /* the texts as tool-call arguments and tool results */
		json_array_clear(msgs);
		json_array_foreach(texts, i, m) {
			json_t *args = json_pack("{s:O}", "q", m);
			char *a = json_dumps(args, JSON_COMPACT);
			json_array_append_new(msgs, json_pack("{s:s, s:n, s:[{s:s, s:s, s:{s:s, s:s}}]}", "role", "assistant",
			    "content", "tool_calls", "id", "c", "type", "function", "function", "name", "f", "arguments", a));
			json_array_append_new(msgs, json_pack("{s:s, s:s, s:O}", "role", "tool", "tool_call_id", "c", "content", m));
			openai_json_free_string(a);
			json_decref(args);
		}
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", "Go on."));
		break;
	case 3: /* completions: the texts as prompt, a string or a batch */
		json_object_del(r, "messages");
		if (line % 2 && json_array_size(texts) == 1)
			json_object_set(r, "prompt", json_array_get(texts, 0));
		else
			json_object_set(r, "prompt", texts);
		break;
	case 4: /* embeddings: input, with a nested batch */
		json_object_del(r, "messages");
		json_array_append_new(texts, json_pack("[s, O]", "nested", json_array_get(texts, 0)));
		json_object_set(r, "input", texts);
		break;
	case 5: /* message items in a chat request's input, with media */
		json_object_set_new(r, "input", json_pack("[O, {s:s?, s:[{s:s, s:s}, {s:s, s:O}]}]", texts,
		    "role", aiact_roles[line % nr], "content", "type", aiact_types[4 + line % (nt - 4)], "url", "x", "type",
		    "input_text", "text", json_array_get(texts, 0)));
		json_object_set_new(r, "prompt", json_pack("[{s:[{s:s}]}]", "content", "type", "video"));
		break;
	default: /* parts of other types, media added */
		json_array_foreach(msgs, i, m) {
			json_t *c = json_object_get(m, "content");
			if (json_is_string(c))
				json_object_set_new(m, "content", json_pack("[{s:O, s:s}]", "text", c, "type", "text"));
			json_array_foreach(json_object_get(m, "content"), k, part)
				json_object_set_new(part, "type", json_string(aiact_types[(line + i + k) % nt]));
			json_array_append_new(json_object_get(m, "content"), json_pack("{s:s}", "type",
			    aiact_types[(line + 3 * i) % nt]));
		}
		break;
	}
	json_decref(texts);
	return r;
}

#define AIACT_VARIANTS 7

/* A JSON-lines file of a labelled corpus: member of each line turned
 * into `variants` request bodies by make, each serialized with one of
 * flags (rotating), through both ways. */
struct jsonl_run {
	const char *dir, *member;
	size_t variants;
	json_t *(*make)(json_t *src, size_t variant, size_t line);
	const size_t *flags;
	size_t n_flags;
	const char *unit, *variant_word;
};

static void run_jsonl_file(const char *top, const struct jsonl_run *k, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/%s/%s", top, k->dir, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		ok(0, "open %s", path);
		return;
	}
	char *line = NULL;
	size_t cap = 0, n = 0, before = n_diff;
	ssize_t l;
	while ((l = getline(&line, &cap, f)) > 0) {
		json_t *j = json_loadb(line, (size_t)l, 0, NULL);
		json_t *src = json_object_get(j, k->member);
		for (size_t v = 0; src && v < k->variants; v++) {
			json_t *r = k->make(src, v, n);
			char *body = r ? json_dumps(r, k->flags[(n + v) % k->n_flags]) : NULL;
			char where[600];
			snprintf(where, sizeof where, "%s line %zu %s %zu", name, n + 1, k->variant_word, v);
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
	ok(n > 0 && n_diff == before, "%s: %zu %s x %zu %ss, the same outcome both ways%s%s", name, n, k->unit,
	    k->variants, k->variant_word, n_diff == before ? "" : " -- ", n_diff == before ? "" : first_why);
}

static json_t *pii_variant(json_t *text, size_t shape, size_t line)
{
	(void)line;
	return json_is_string(text) ? wrap(shape, json_string_value(text)) : NULL;
}

static const size_t pii_flags[] = {JSON_COMPACT, JSON_INDENT(2), JSON_COMPACT | JSON_ENSURE_ASCII};
static const struct jsonl_run pii_run = {"pii", "text", 5, pii_variant, pii_flags, 3, "lines", "shape"};
static const size_t aiact_flags[] = {JSON_COMPACT, JSON_INDENT(2), JSON_COMPACT | JSON_ENSURE_ASCII,
    JSON_COMPACT | JSON_SORT_KEYS};
static const struct jsonl_run aiact_run = {"aiact", "request", AIACT_VARIANTS, aiact_variant, aiact_flags, 4,
    "requests", "variant"};


/* ---- SSE answers, events by tree and by bytes (policy_events_diff) ---- */

static struct policy_events_diff_stats est;
static unsigned long n_ediff;
static char first_ewhy[512];

static void check_stream(const char *prompt, size_t plen, const char *s, size_t sl, const char *where)
{
	char why[256];
	if (policy_events_diff(prompt, plen, s, sl, &est, why, sizeof why) == 1 && n_ediff++ == 0)
		snprintf(first_ewhy, sizeof first_ewhy, "%s: %s", where, why);
	if (policy_chain_diff(prompt, plen, s, sl, &est, why, sizeof why) == 1 && n_ediff++ == 0)
		snprintf(first_ewhy, sizeof first_ewhy, "%s (chain): %s", where, why);
}

/* Events written compact or with spaces (jansson's default, one line):
 * where the tree path serializes an event again, the spaced form makes
 * its bytes differ from the byte path's splice. */
static void add_event(json_t *ev, json_t *stream, size_t flags)
{
	char *s = ev ? json_dumps(ev, flags) : NULL;
	if (s)
		json_array_append_new(stream, json_sprintf("data: %s\n\n", s));
	openai_json_free_string(s);
	json_decref(ev);
}

/* An event of shape v whose texts are p, finishing with fin (NULL: null). */
static json_t *stream_shape(size_t v, json_t *p, const char *fin)
{
	switch (v) {
	case 0: /* content */
		return json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:O}, s:s?}]}", "id", "c", "object", "chat.completion.chunk",
		    "created", 1, "model", "m", "choices", "index", 0, "delta", "content", p, "finish_reason", fin);
	case 1: /* tool-call arguments (JSON text), and the legacy function_call */
		return json_pack("{s:s, s:[{s:i, s:{s:[{s:i, s:s, s:{s:s, s:O}}], s:{s:O}}, s:s?}]}", "object",
		    "chat.completion.chunk", "choices", "index", 0, "delta", "tool_calls", "index", 1, "type", "function",
		    "function", "name", "f", "arguments", p, "function_call", "arguments", p, "finish_reason", fin);
	case 2: /* two choices in one event, tool calls before content in the document */
		return json_pack("{s:s, s:[{s:{s:[{s:{s:O}}], s:O}, s:i, s:s?}, {s:i, s:{s:O}}]}", "object",
		    "chat.completion.chunk", "choices", "delta", "tool_calls", "function", "arguments", p, "content", p,
		    "index", 1, "finish_reason", fin, "index", 0, "delta", "content", p);
	default: /* completions */
		return json_pack("{s:s, s:[{s:i, s:O, s:s?}]}", "object", "text_completion", "choices", "index", 0, "text",
		    p, "finish_reason", fin);
	}
}

/* One event of shape v holding piece (NULL: the finishing one). */
static json_t *stream_chunk(size_t v, json_t *piece)
{
	json_t *empty = json_string(""), *r = stream_shape(v, piece ? piece : empty, piece ? NULL : "stop");
	json_decref(empty);
	return r;
}

/* The answer text split at every byte position into two events (between
 * a first event and a finishing one), in four shapes: placeholders the
 * request sent and a secret the guard redacts, cut anywhere. */
static void run_streams(void)
{
	static const char prompt[] = "Bitte an Max Mustermann, IBAN DE89 3704 0044 0532 0130 00, Tel. +49 30 1234567.";
	static const char answer[] = "Hallo <PERSON_1>, \"IBAN\" <IBAN_1> notiert.\nKey AKIAIOSFODNN7EXAMPLE <PHONE_1> ok";
	size_t n = strlen(answer), before = n_ediff, streams = 0;
	for (size_t v = 0; v < 4; v++)
		for (size_t k = 0; k <= n; k++) {
			json_t *stream = json_array();
			json_t *a = json_stringn(answer, k), *b = json_stringn(answer + k, n - k);
			json_t *empty = json_string("");
			add_event(stream_chunk(v, empty), stream, k % 2 ? 0 : JSON_COMPACT);
			json_decref(empty);
			add_event(stream_chunk(v, a), stream, k % 2 ? 0 : JSON_COMPACT);
			add_event(stream_chunk(v, b), stream, k % 2 ? 0 : JSON_COMPACT);
			add_event(stream_chunk(v, NULL), stream, k % 2 ? 0 : JSON_COMPACT);
			json_array_append_new(stream, json_string("data: [DONE]\n\n"));
			char *all = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&all, &len);
			size_t i;
			json_t *e;
			json_array_foreach(stream, i, e)
				fputs(json_string_value(e), m);
			fclose(m);
			char where[64];
			snprintf(where, sizeof where, "shape %zu split at %zu", v, k);
			check_stream(prompt, sizeof prompt - 1, all, len, where);
			streams++;
			free(all);
			json_decref(a);
			json_decref(b);
			json_decref(stream);
		}
	ok(n_ediff == before, "%zu streams split at every byte in 4 shapes, the same events both ways%s%s", streams,
	    n_ediff == before ? "" : " -- ", n_ediff == before ? "" : first_ewhy);
}

/* Calls fn on every file of tests/fuzz/corpus/NAME (at most 64 KiB of
 * each); returns how many it read, -1 when the folder cannot be opened. */
static long for_each_corpus_file(const char *top, const char *name,
				 void (*fn)(const char *buf, size_t len, const char *path, void *arg), void *arg)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top, name);
	DIR *d = opendir(dir);
	if (!d) {
		ok(0, "open %s", dir);
		return -1;
	}
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static char buf[65536];
		size_t len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		fn(buf, len, path, arg);
		n++;
	}
	closedir(d);
	return n;
}

/* A stream file of fuzz_policy_filter's corpus (first line the prompt,
 * arg non-NULL) or of plain SSE (a prompt of names and an IBAN). */
static void check_stream_file(const char *buf, size_t len, const char *path, void *prompt_line)
{
	static const char prompt[] = "Max Mustermann, IBAN DE89 3704 0044 0532 0130 00";
	const char *nl = prompt_line ? memchr(buf, '\n', len) : NULL;
	if (prompt_line && !nl)
		return;
	if (nl)
		check_stream(buf, (size_t)(nl - buf), nl + 1, len - (size_t)(nl - buf) - 1, path);
	else
		check_stream(prompt, sizeof prompt - 1, buf, len, path);
}

static void run_stream_corpus(const char *top, const char *name, int prompt_line)
{
	size_t before = n_ediff;
	long n = for_each_corpus_file(top, name, check_stream_file, prompt_line ? (void *)name : NULL);
	if (n >= 0)
		ok(n > 0 && n_ediff == before, "corpus %s: %ld streams, the same events both ways%s%s", name, n,
		    n_ediff == before ? "" : " -- ", n_ediff == before ? "" : first_ewhy);
}

static void check_body_file(const char *buf, size_t len, const char *path, void *arg)
{
	(void)arg;
	check_body(buf, len, path);
}

static void run_corpus(const char *top, const char *name)
{
	size_t before = n_diff;
	long n = for_each_corpus_file(top, name, check_body_file, NULL);
	if (n >= 0)
		ok(n > 0 && n_diff == before, "corpus %s: %ld inputs, the same outcome both ways%s%s", name, n,
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
		run_jsonl_file(top, &pii_run, files[i]);
	static const char *const aiact[] = {"a.jsonl", "b.jsonl", "c.jsonl", "d.jsonl", "e.jsonl", "f.jsonl", "g.jsonl",
	    "annex3-4.jsonl", "f-heldout.jsonl", "g-heldout.jsonl"};
	unsigned long blocked_before = st.blocked;
	for (size_t i = 0; i < sizeof aiact / sizeof aiact[0]; i++)
		run_jsonl_file(top, &aiact_run, aiact[i]);
	ok(st.blocked - blocked_before > 500, "%lu AI Act requests and variants were blocked", st.blocked - blocked_before);
	static const char *const corpora[] = {"fuzz_policy_request", "fuzz_request_walk", "fuzz_openai_scan",
	    "fuzz_server_request", "fuzz_aiact"};
	for (size_t i = 0; i < sizeof corpora / sizeof corpora[0]; i++)
		run_corpus(top, corpora[i]);
	run_streams();
	run_stream_corpus(top, "fuzz_policy_filter", 1);
	run_stream_corpus(top, "fuzz_sse", 0);
	ok(est.by_bytes > est.streams * 3 / 2 && est.bytes_differ > 50 && est.refused > 0,
	    "SSE: %lu streams, %lu events, %lu of them by bytes, %lu written otherwise than by the tree (spliced), %lu "
	    "streams refused", est.streams, est.events, est.by_bytes, est.bytes_differ, est.refused);
	ok(est.chain_streams > 300 && est.chain_passed > est.chain_streams && est.chain_refused > 0,
	    "policy and marker chained: %lu streams, %lu events passed on as parsed, %lu streams refused",
	    est.chain_streams, est.chain_passed, est.chain_refused);
	/* Both ways of the filter were taken, so the comparisons above can fail. */
	ok(st.rewritten > 1000, "%lu bodies were rewritten (the tree path after the byte scan)", st.rewritten);
	ok(st.blocked > 100, "%lu bodies were blocked", st.blocked);
	ok(st.compared > st.rewritten + st.blocked + 1000, "%lu compared, most of them neither rewritten nor blocked",
	    st.compared);
	ok(st.texts_compared > 20000, "%lu texts compared with the tree walk's (%lu bodies declined by the span walk)",
	    st.texts_compared, st.span_declined);
	ok(st.recorded > 5000, "%lu bodies' texts recorded by the validating pass, the same as the span walk's",
	    st.recorded);
	ok(st.instructions > 20000 && st.media > 200 && st.aiact_features > 2000,
	    "AI Act screening compared: %lu instruction texts, %lu bodies with media, %lu with features", st.instructions,
	    st.media, st.aiact_features);
	tap_done();
	return tap_exit_status();
}
