/* json_span_find: the spans the policy filter splices (a chat chunk's
 * choices[i].delta.content, a completion's choices[i].text) are found in
 * compact and spaced JSON, and every form it must not compare by bytes (an
 * escaped key, a key twice, a missing member, an index past the end) is
 * refused rather than guessed. */
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
	tap_done();
	return tap_exit_status();
}
