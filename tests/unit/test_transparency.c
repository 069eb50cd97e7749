/* The transparency scanner (one pass, no tree) against jansson on valid
 * and invalid JSON, the top-level "model" and "hafen" members it reports,
 * and the RFC 8187 encoding of notices. */
#include <string.h>

#include <jansson.h>

#include "gateway/transparency.h"
#include "tests/tap.h"

static int scan(const char *s, struct transparency_scan *t)
{
	return transparency_scan_object(s, strlen(s), t);
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

	char out[128];
	int l = transparency_ext_value("Hinweis: KI ä", strlen("Hinweis: KI ä"), out, sizeof out);
	is_str(out, "UTF-8''Hinweis%3A%20KI%20%C3%A4", "RFC 8187 ext-value");
	is_int(l, (int)strlen(out), "length returned");
	is_int(transparency_ext_value("abc", 3, out, 10), -1, "too small a buffer is an error");
	tap_done();
	return tap_exit_status();
}
