/* The transparency scanner (one pass, no tree) against jansson on valid
 * and invalid JSON, the top-level "model" and "hafen" members it reports,
 * and the RFC 8187 encoding of notices. */
#include <string.h>

#include <jansson.h>
#include <event2/buffer.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/openai.h"
#include "gateway/sse.h"
#include "gateway/transparency.h"
#include "tests/tap.h"

static int scan(const char *s, struct transparency_scan *t)
{
	return transparency_scan_object(s, strlen(s), t);
}

/* Every framing sse.c accepts: the marked event must parse to the same
 * JSON plus the hafen member, first. */
static void test_framings(void)
{
	static const char cfgtext[] =
		"{\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":1,\"plain\":true}],"
		"\"upstreams\":[{\"name\":\"up\\\"1\",\"url\":\"http://127.0.0.1:2\"}],"
		"\"keys\":[{\"name\":\"k\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
	static const char *const events[] = {
		"data: {\"model\":\"m1\",\"x\":1}\n\n",
		"data:{\"x\":1}\r\n\r\n",
		"event: delta\rid: 7\rdata: {}\r\r\n",
		": keep\ndata:  \t{\"x\":[1,\ndata: 2]}\n\n",
		"data\ndata: {\"model\":\"m\\u00e4\"}\n\n",
		"data: \ndata:\n data: no\ndata: { \"a\" : \"b\" }\n\n",
	};
	char err[256];
	struct config *cfg = config_load_string(cfgtext, sizeof cfgtext - 1, "t.json", ".", err, sizeof err);
	struct transparency_rt *rt = NULL;
	if (!ok(cfg && transparency_load(cfg, &rt, err, sizeof err) == 0, "config loads"))
		return;
	json_t *req = json_pack("{s:s}", "model", "req-model");
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
		struct filter_exchange x;
		memset(&x, 0, sizeof x);
		x.key = &cfg->keys[0];
		x.route = OPENAI_ROUTE_CHAT;
		x.upstream = cfg->upstreams[0].name;
		x.body = req;
		x.model = "req-model";
		x.transparency = rt;
		filter_run_request(&x);
		struct evbuffer *out = evbuffer_new();
		size_t n = strlen(events[i]);
		char data[256], data2[512];
		struct sse_event ev, ev2;
		sse_parse_event(events[i], n, &ev, data);
		int rc = filter_run_event(&x, events[i], n, &ev, out);
		size_t on = evbuffer_get_length(out);
		const char *o = (const char *)evbuffer_pullup(out, -1);
		int parsed = rc == 0 && on < sizeof data2 && sse_parse_event(o, on, &ev2, data2) == SSE_PARSE_EVENT &&
		    ev2.raw_len == on;
		json_t *a = json_loadb(ev.data, ev.data_len, 0, NULL);
		json_t *b = parsed ? json_loadb(ev2.data, ev2.data_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
		json_t *h = json_object_get(b, "hafen");
		const char *model = json_string_value(json_object_get(a, "model"));
		int same = a && b && json_object_size(b) == json_object_size(a) + 1 &&
		    strncmp(ev2.data + strspn(ev2.data, " \t\n{"), "\"hafen\"", 7) == 0 &&
		    json_equal(json_object_get(h, "ai_generated"), json_true()) &&
		    strcmp(json_string_value(json_object_get(h, "model")), model ? model : "req-model") == 0 &&
		    strcmp(json_string_value(json_object_get(h, "upstream")), "up\"1") == 0;
		json_object_del(b, "hafen");
		ok(same && json_equal(a, b), "framing %zu: marked first, model and upstream right, the rest intact", i);
		json_decref(a);
		json_decref(b);
		evbuffer_free(out);
		filter_run_done(&x);
	}
	json_decref(req);
	transparency_free(rt);
	config_unref(cfg);
}

int main(void)
{
	struct transparency_scan t;
	is_int(scan("{\"id\":\"x\",\"model\":\"qwen\\/3\",\"choices\":[{\"model\":\"inner\"}]}", &t), 0, "object");
	ok(t.model && t.model_len == 7 && memcmp(t.model, "qwen\\/3", 7) == 0, "top-level model, as escaped");
	ok(!t.empty && !t.has_hafen && t.open == 0, "not empty, no hafen member, brace at 0");
	is_int(scan(" \r\n{}\n", &t), 0, "empty object with whitespace");
	ok(t.empty && t.open == 3 && !t.model, "empty, brace offset after the whitespace");
	is_int(scan("{\"a\":{\"model\":\"deep\"},\"hafen\":1}", &t), 0, "nested model");
	ok(!t.model && t.has_hafen, "a nested model is not the answer's; a top-level hafen is seen");
	is_int(scan("{\"model\":{\"name\":\"x\"}}", &t), 0, "model that is an object");
	ok(!t.model, "only a string model is reported");

	/* Each case: the scanner must agree with jansson (objects only). */
	static const char *const cases[] = {
		"{\"a\":[1,-2.5e+3,true,false,null,\"\\u00e4\\n\"]}", "{\"a\":0}", "{\"a\":-0.0E-1}",
		"[1]", "\"s\"", "1", "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":[1,]}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12g4\"}", "{\"a\":\"tab\there\"}", "{\"a\":1}{}", "{\"a\":1} x", "{a:1}",
		"{\"a\":[}", "{\"a\":{]}", "{\"a\" 1}", "{\"a\":[[[]]],\"b\":{\"c\":{}}}", "{\"a\":\"unterminated}",
		"{\"a\":nul}", "{\"a\":-}", "{\"a\":[1 2]}", "{\"a\":1 \"b\":2}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_loads(cases[i], JSON_DECODE_ANY, NULL);
		int want = j && json_is_object(j) ? 0 : -1;
		json_decref(j);
		is_int(scan(cases[i], &t), want, cases[i]);
	}
	/* Depth: at the limit accepted, past it refused (no recursion). */
	static char deep[2 * TRANSPARENCY_MAX_DEPTH + 16];
	for (int d = TRANSPARENCY_MAX_DEPTH - 1; d <= TRANSPARENCY_MAX_DEPTH; d++) {
		size_t n = 0;
		memcpy(deep, "{\"a\":", 5);
		n = 5;
		for (int i = 0; i < d; i++)
			deep[n++] = '[';
		for (int i = 0; i < d; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		is_int(transparency_scan_object(deep, n, &t), d < TRANSPARENCY_MAX_DEPTH ? 0 : -1,
		    d < TRANSPARENCY_MAX_DEPTH ? "nesting at the limit" : "one level deeper: refused");
	}
	is_int(transparency_scan_object("{\"a\":\"\0\"}", 8, &t), -1, "NUL inside a string refused");

	test_framings();

	char out[128];
	int l = transparency_ext_value("Hinweis: KI ä", strlen("Hinweis: KI ä"), out, sizeof out);
	is_str(out, "UTF-8''Hinweis%3A%20KI%20%C3%A4", "RFC 8187 ext-value");
	is_int(l, (int)strlen(out), "length returned");
	is_int(transparency_ext_value("abc", 3, out, 10), -1, "too small a buffer is an error");
	tap_done();
	return tap_exit_status();
}
