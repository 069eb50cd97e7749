/* json_span_find: the spans the policy filter splices (a chat chunk's
 * choices[i].delta.content, a completion's choices[i].text) are found in
 * compact and spaced JSON, and every form it must not compare by bytes (an
 * escaped key, a key twice, a missing member, an index past the end) is
 * refused rather than guessed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/json_span.h"
#include "tests/tap.h"

static const struct json_span_step chat0[] = {{"choices", 0}, {NULL, 0}, {"delta", 0}, {"content", 0}};
static const struct json_span_step chat1[] = {{"choices", 0}, {NULL, 1}, {"delta", 0}, {"content", 0}};
static const struct json_span_step text1[] = {{"choices", 0}, {NULL, 1}, {"text", 0}};

/* The span's bytes, or "-" when refused. */
static const char *span(const char *json, const struct json_span_step *p, size_t n)
{
	static char buf[256];
	size_t a, b;
	if (json_span_find(json, strlen(json), p, n, &a, &b) < 0)
		return "-";
	memcpy(buf, json + a, b - a);
	buf[b - a] = 0;
	return buf;
}

/* json_span_answer_texts: "T:<bytes>" / "J:<bytes>" per string joined by
 * "|", or "-" when the walk refuses the text. */
static const char *texts(const char *json)
{
	static char buf[512];
	struct json_span_text *v;
	size_t n, at = 0;
	if (json_span_answer_texts(json, strlen(json), &v, &n) < 0)
		return "-";
	buf[0] = 0;
	for (size_t i = 0; i < n && at < sizeof buf - 1; i++)
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s:%.*s", i ? "|" : "",
		    v[i].kind == JSON_SPAN_KIND_JSON ? "J" : "T", (int)(v[i].end - v[i].start), json + v[i].start);
	free(v);
	return buf;
}

/* json_span_members: members found, absent, or left to the tree. */
static int scan_str(const char *text, const char *key, const char *want)
{
	struct json_span_member m = { .key = key };
	if (json_span_members(text, strlen(text), &m, 1) < 0)
		return want == NULL ? 1 : 0;
	if (!want)
		return 0;
	if (!*want)
		return !m.found;
	return m.found && m.end - m.start == strlen(want) && memcmp(text + m.start, want, strlen(want)) == 0;
}

static void test_members(void)
{
	ok(scan_str("{\"model\":\"m\",\"user\":\"al\\\"ice\"}", "user", "\"al\\\"ice\""),
	    "scan: a string with an escaped quote, whole");
	ok(scan_str(" { \"a\" : [1, {\"user\": \"x\"}, \"]}\"] ,\r\n\"user\"\t:\t\"bob\" } ", "user", "\"bob\""),
	    "scan: a nested member of the same name and brackets in strings are skipped");
	ok(scan_str("{\"model\":\"m\",\"messages\":[]}", "user", ""), "scan: an absent member is known absent");
	ok(scan_str("{}", "user", ""), "scan: empty object");
	ok(scan_str("{\"user\":null}", "user", "null"), "scan: a literal value");
	ok(scan_str("{\"u\":1,\"user\":{\"a\":[]}}", "user", "{\"a\":[]}"), "scan: an object value");
	ok(scan_str("{\"\\u0075ser\":\"x\"}", "user", NULL), "scan: a key with an escape goes to the tree");
	ok(scan_str("{\"user\":\"a\",\"user\":\"b\"}", "user", NULL), "scan: a member twice goes to the tree");
	ok(scan_str("[\"user\"]", "user", NULL) && scan_str("{\"user\":\"a\"", "user", NULL) &&
	    scan_str("{\"user\":\"a\",}", "user", NULL) && scan_str("{\"user\" \"a\"}", "user", NULL) &&
	    scan_str("{\"user\":\"a}", "user", NULL) && scan_str("", "user", NULL),
	    "scan: not an object, truncated or malformed: -1");
	struct json_span_member m[2] = { { .key = "prompt_tokens" }, { .key = "completion_tokens" } };
	const char *u = "{\"prompt_tokens\":12,\"completion_tokens\":0,\"total_tokens\":12}";
	uint64_t a = 7, b = 7, c;
	ok(json_span_members(u, strlen(u), m, 2) == 0 && m[0].found && m[1].found &&
	    json_span_uint(u, m[0].start, m[0].end, &a) == 0 && json_span_uint(u, m[1].start, m[1].end, &b) == 0 &&
	    a == 12 && b == 0, "scan: two members and their integers");
	const char *bad[] = { "-1", "1.0", "1e3", "01", "1234567890123456789", "" };
	int all = 1;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		all &= json_span_uint(bad[i], 0, strlen(bad[i]), &c) < 0;
	ok(all && json_span_uint("999999999999999999", 0, 18, &c) == 0 && c == 999999999999999999ull,
	    "scan: only plain integers below 10^18; other forms go to the tree");
}

int main(void)
{
	is_str(span("{\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hallo <PER\"},"
		    "\"finish_reason\":null}]}", chat0, 4), "\"Hallo <PER\"", "chat chunk: delta.content");
	is_str(span("{ \"choices\" : [ {\"delta\":{}} , { \"delta\" : { \"content\" : \"a \\\"b\\\" \\u00fc\" } } ] }",
		    chat1, 4), "\"a \\\"b\\\" \\u00fc\"", "spaced JSON, escapes inside the value, second choice");
	is_str(span("{\"choices\":[{\"text\":\"x\"},{\"text\":\"}]\\\\\",\"index\":1}]}", text1, 3), "\"}]\\\\\"",
	       "completion: text with brackets and an escaped backslash");
	is_str(span("{\"meta\":{\"choices\":1},\"choices\":[{\"delta\":{\"content\":7}}]}", chat0, 4), "7",
	       "a number value (the caller checks for a string)");
	is_str(span("{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}", chat0, 4), "-",
	       "refused: the key twice (jansson keeps the last)");
	is_str(span("{\"cho\\u0069ces\":[{\"delta\":{\"content\":\"a\"}}]}", chat0, 4), "-",
	       "refused: an escaped key on the path");
	is_str(span("{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}", chat1, 4), "-", "refused: index past the end");
	is_str(span("{\"choices\":[{\"delta\":{\"role\":\"a\"}}]}", chat0, 4), "-", "refused: member missing");
	is_str(span("{\"choices\":{\"delta\":{\"content\":\"a\"}}}", chat0, 4), "-", "refused: object where an array is");
	is_str(span("{\"choices\":[{\"delta\":{\"content\":\"a", chat0, 4), "-", "refused: truncated");

	/* every answer text, without a tree */
	is_str(texts("{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi <PERSON_1>\"},"
		     "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3}}"),
	       "T:\"Hi <PERSON_1>\"", "answer: message.content");
	is_str(texts("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\","
		     "\"arguments\":\"{\\\"q\\\":1}\"}},{\"function\":{\"arguments\":\"{}\"}}],\"function_call\":{\"arguments\":\"[]\"}}}]}"),
	       "J:\"{\\\"q\\\":1}\"|J:\"{}\"|J:\"[]\"", "answer: tool-call and function_call arguments are JSON text");
	is_str(texts("{ \"choices\" : [ {\"text\": \"a\"}, {\"message\": {\"content\": [\"p\", {\"type\":\"text\",\"text\":\"q\"},"
		     " {\"refusal\":\"r\"}], \"name\": \"n\", \"refusal\": 5}} ] }"),
	       "T:\"a\"|T:\"p\"|T:\"q\"|T:\"r\"|T:\"n\"", "answer: text, content parts, name; numbers are not text");
	is_str(texts("{\"object\":\"list\",\"data\":[{\"embedding\":[0.1]}]}"), "", "answer without choices: no text");
	is_str(texts("{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":\"b\"}}]}"), "-",
	       "refused: a text key twice in one object");
	is_str(texts("{\"choices\":[{\"message\":{\"c\\u006fntent\":\"a\"}}]}"), "-", "refused: an escaped key");
	is_str(texts("{\"choices\":[],\"messages\":[{\"content\":\"a\"}]}"), "-", "refused: request members at the top");
	is_str(texts("[1]"), "-", "refused: not an object");
	is_str(texts("{\"choices\":[{\"text\":\"a"), "-", "refused: truncated");
	test_members();
	tap_done();
	return tap_exit_status();
}
