/* json_span_find: the spans the policy filter splices (a chat chunk's
 * choices[i].delta.content, a completion's choices[i].text) are found in
 * compact and spaced JSON, and every form it must not compare by bytes (an
 * escaped key, a key twice, a missing member, an index past the end) is
 * refused rather than guessed. */
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
	tap_done();
	return tap_exit_status();
}
