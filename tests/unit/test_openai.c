/* Route table, body validation (400 cases), error shape, request ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http.h"
#include "gateway/openai.h"
#include "gateway/request_id.h"
#include "tests/tap.h"

static void bad(int route, const char *body, const char *want)
{
	char err[256] = "";
	int stream;
	json_t *j = openai_body_parse(openai_route_get(route), body, strlen(body), &stream, err, sizeof err);
	ok(j == NULL, "refused: %s", body);
	is_str(err, want, "message");
	json_decref(j);
	/* The tree-less path refuses it too, with the same message. */
	struct openai_body_info info;
	char err2[256] = "";
	ok(openai_body_check(openai_route_get(route), body, strlen(body), &info, err2, sizeof err2) < 0 &&
	    strcmp(err2, want) == 0, "tree-less check refuses it alike");
	ok(openai_scan_body(route, body, strlen(body), &info) == OPENAI_SCAN_INVALID, "scanner refuses it");
}

/* Scanner verdict, then the check's (scanner or jansson) against jansson. */
static void scan(int route, const char *body, size_t len, int want_rc, const char *what)
{
	struct openai_body_info info;
	char err[256];
	int stream;
	int rc = openai_scan_body(route, body, len, &info);
	ok(rc == want_rc, "scan: %s (got %d)", what, rc);
	json_t *j = openai_body_parse(openai_route_get(route), body, len, &stream, err, sizeof err);
	int crc = openai_body_check(openai_route_get(route), body, len, &info, err, sizeof err);
	ok((j != NULL) == (crc == 0), "check agrees with jansson: %s", what);
	if (want_rc != OPENAI_SCAN_DECLINED)
		ok((j != NULL) == (want_rc == OPENAI_SCAN_VALID), "jansson agrees: %s", what);
	json_decref(j);
}

static void scan_json(const char *buf, size_t len, int want, const char *what)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	ok(openai_scan_json(buf, len) == want, "json: %s", what);
	ok((j != NULL) == (want == 0), "json_loadb agrees: %s", what);
	json_decref(j);
}

/* ---- the texts recorded by the validating pass (one walk, not two) ---- */

/* The record against the walk it replaces: when the record holds, the walk
 * must take the body and give the same texts (and media, for requests). */
static int texts_match(const struct openai_texts *t, const char *body, size_t len, int request)
{
	struct json_span_text *sp;
	size_t ns;
	unsigned media = 0;
	int rc = request ? json_span_request_texts(body, len, NULL, 0, &sp, &ns, &media) :
	    json_span_answer_texts(body, len, &sp, &ns);
	if (rc < 0)
		return 0;
	int same = t->src == body && t->len == len && t->n == ns && t->media == media;
	for (size_t i = 0; same && i < ns; i++)
		same = t->v[i].start == sp[i].start && t->v[i].end == sp[i].end && t->v[i].kind == sp[i].kind &&
		    t->v[i].instruction == sp[i].instruction && t->v[i].escaped == sp[i].escaped;
	free(sp);
	return same;
}

static void rec_request(int route, const char *body, int want_ok, size_t want_n, const char *what)
{
	struct openai_body_info info;
	struct openai_texts t;
	char err[256];
	size_t len = strlen(body);
	int rc = openai_body_check_texts(openai_route_get(route), body, len, &info, &t, err, sizeof err);
	ok(rc == 0 && t.ok == want_ok, "request record %s: %s", want_ok ? "kept" : "left to the walk", what);
	if (want_ok)
		ok(t.ok && t.n == want_n && texts_match(&t, body, len, 1), "request record = walk (%zu texts): %s",
		    want_n, what);
}

static void rec_answer(const char *body, int want_ok, size_t want_n, const char *what)
{
	struct openai_texts t;
	size_t len = strlen(body);
	int rc = openai_scan_json_texts(body, len, &t);
	ok(rc == openai_scan_json(body, len) && t.ok == want_ok, "answer record %s: %s",
	    want_ok ? "kept" : "left to the walk", what);
	if (want_ok)
		ok(t.ok && t.n == want_n && texts_match(&t, body, len, 0), "answer record = walk (%zu texts): %s",
		    want_n, what);
}

/* openai_scan_json_members against openai_scan_json + json_span_members. */
static void top_members(const char *body, int want, const char *what)
{
	size_t len = strlen(body);
	struct json_span_member a[] = {{.key = "choices"}, {.key = "usage"}};
	struct json_span_member b[] = {{.key = "choices"}, {.key = "usage"}};
	int rc = openai_scan_json_members(body, len, a, 2);
	int ref = openai_scan_json(body, len) < 0 ? -1 : json_span_members(body, len, b, 2) < 0 ? 1 : 0;
	int same = rc == ref;
	for (size_t i = 0; same && rc == 0 && i < 2; i++)
		same = a[i].found == b[i].found && a[i].start == b[i].start && a[i].end == b[i].end;
	ok(rc == want && same, "top members in the validating pass (%d): %s", want, what);
}

/* openai_json_quote against json_dumps(json_stringn()) on random strings
 * of controls, quotes, backslashes, ASCII, valid and broken UTF-8, NUL. */
static int quote_one(const char *t, size_t n)
{
	char out[6 * 64 + 2];
	size_t ql = openai_json_quote(t, n, out, sizeof out);
	json_t *v = json_stringn(t, n);
	char *d = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	json_decref(v);
	int same = d ? ql == strlen(d) && memcmp(out, d, ql) == 0 : ql == (size_t)-1;
	free(d);
	return same;
}

static void quote_cases(void)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa4", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf5\x80\x80\x80",
		"\xe0\x80\x80", "\x80", "\xff",
	};
	const size_t np = sizeof pieces / sizeof pieces[0];
	unsigned seed = 12345;
	int bad = 0;
	size_t invalid = 0;
	for (int r = 0; r < 5000; r++) {
		char t[64];
		size_t n = 0;
		int k = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		for (int i = 0; i < k; i++) {
			const char *pc = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % np];
			size_t pl = strlen(pc);
			if (n + pl > sizeof t)
				break;
			memcpy(t + n, pc, pl);
			n += pl;
		}
		if (r % 7 == 0 && n < sizeof t)
			t[n++] = 0; /* a NUL inside: \u0000 */
		json_t *v = json_stringn(t, n);
		invalid += v == NULL;
		json_decref(v);
		bad += !quote_one(t, n);
	}
	ok(bad == 0 && invalid > 100 && invalid < 4900, "openai_json_quote = json_dumps(json_stringn) on 5000 strings "
	   "(%d differ, %zu not UTF-8)", bad, invalid);
	char small[4];
	ok(openai_json_quote("abc", 3, small, sizeof small) == (size_t)-1, "openai_json_quote: a short buffer is refused");
}

static void top_member_cases(void)
{
	top_members("{\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
	    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\\"x\\\"\"},\"finish_reason\":null}]}", 0,
	    "a chunk");
	top_members(" {\"usage\" : {\"prompt_tokens\":1} , \"choices\" : [ ] } ", 0, "spaces, usage first");
	top_members("{\"a\":{\"choices\":1},\"b\":[{\"usage\":2}]}", 0, "nested members are not the top's");
	top_members("{}", 0, "empty object");
	top_members("[{\"choices\":[]}]", 1, "an array at the top");
	top_members("{\"ch\\u006fices\":[]}", 1, "an escaped key");
	top_members("{\"x\\n\":1,\"choices\":[]}", 1, "an escaped key that is not wanted");
	top_members("{\"choices\":[],\"choices\":[1]}", 1, "a wanted key twice");
	top_members("{\"choices\":[1,]}", -1, "invalid JSON");
	top_members("{\"choices\":[]} x", -1, "trailing bytes");
	top_members("", -1, "empty");
}

static void record_cases(void)
{
	char terr[200] = "";
	ok(openai_scan_tables_check(terr, sizeof terr) == 0, "the scanner's member tables are consistent %s", terr);
	const int C = OPENAI_ROUTE_CHAT;
	rec_request(C, "{\"model\":\"m\",\"stream\":false,\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},"
	    "{\"role\":\"user\",\"content\":\"Summarise the minutes.\"}]}", 1, 2, "system and user");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"a\"},"
	    "{\"content\":\"b\",\"role\":\"tool\"},{\"content\":\"c\",\"role\":\"user\"}]}", 1, 3,
	    "roles that are no instruction, role after content");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
	    "{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}},{\"text\":\"b\",\"type\":\"input_audio\"}]},"
	    "{\"role\":\"assistant\",\"content\":[{\"type\":\"image_url\"}]},{\"role\":\"user\",\"content\":null}]}",
	    1, 2, "parts, media in user and assistant messages, null content");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 \\\"x\\\"\"}]}", 1, 1,
	    "escapes in a text");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"a\",\"tool_call_id\":\"t\"}],"
	    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"user\":\"u\"}", 1, 1,
	    "members no walk reads");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
	    "[{\"function\":{\"arguments\":\"{}\"}}]}]}", 0, 0, "tool calls");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"name\":\"n\",\"content\":\"a\"}]}", 0, 0,
	    "a name");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"us\\u0065r\",\"content\":\"a\"}]}", 0, 0,
	    "an escaped role");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"te\\u0078t\",\"text\":\"a\"}]}]}",
	    0, 0, "an escaped part type");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"refusal\":\"r\",\"text\":\"a\"}]}]}",
	    0, 0, "a refusal in a part");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"prompt\":\"p\"}", 0, 0,
	    "a prompt in a chat body");
	rec_request(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"c\\u006fntent\":\"a\"}]}", 0, 0,
	    "an escaped key (the tree validates)");
	rec_request(OPENAI_ROUTE_COMPLETIONS, "{\"model\":\"m\",\"prompt\":\"p\"}", 0, 0, "completions");
	char many[2048] = "{\"model\":\"m\",\"messages\":[";
	for (int i = 0; i < OPENAI_TEXTS_MAX + 1; i++)
		strcat(many, i ? ",{\"role\":\"user\",\"content\":\"x\"}" : "{\"role\":\"user\",\"content\":\"x\"}");
	strcat(many, "]}");
	rec_request(C, many, 0, 0, "more texts than the record holds");

	rec_answer("{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
	    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1}}", 1, 1, "a chat answer");
	rec_answer("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"t\",\"function\":{\"name\":\"f\","
	    "\"arguments\":\"{\\\"a\\\":1}\"}}],\"function_call\":{\"arguments\":\"{}\"},\"refusal\":\"no\",\"name\":\"n\"}},"
	    "{\"text\":\"t\",\"delta\":{\"content\":[\"s\",{\"refusal\":\"r\",\"type\":\"x\",\"text\":\"a\"},3]}}]}", 1, 8,
	    "tool calls, parts, text, delta, document order");
	rec_answer("  [1,2]", 0, 0, "an array at the top");
	rec_answer("{\"choices\":[],\"messages\":[]}", 0, 0, "request members at the top");
	rec_answer("{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":\"b\"}}]}", 0, 0, "a wanted key twice");
	rec_answer("{\"choices\":[{\"message\":{\"role\":\"a\",\"role\":\"b\",\"content\":\"c\"}}]}", 0, 0,
	    "a compared key twice");
	rec_answer("{\"choices\":[{\"m\\u0065ssage\":{\"content\":\"a\"}}]}", 0, 0, "an escaped key on the walk");
	rec_answer("{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":{\"p\\u0072\":1,\"x\":1,\"x\":2}}", 1, 1,
	    "an escaped key and a key twice off the walk");
	rec_answer("{\"choices\":{\"message\":{\"content\":\"a\"}},\"x\":[{\"message\":{\"content\":\"b\"}}]}", 1, 0,
	    "choices not an array");
}

#define MSG_PLAIN "\"messages\":[{\"role\":\"u\"}]"

static void scanner_cases(void)
{
	const int C = OPENAI_ROUTE_CHAT, V = OPENAI_SCAN_VALID, I = OPENAI_SCAN_INVALID, D = OPENAI_SCAN_DECLINED;
#define S(route, lit, rc, what) scan(route, lit, sizeof lit - 1, rc, what)
#define MSG "\"messages\":[{\"role\":\"u\"}]"
	S(C, "{\"model\":\"m\"," MSG "}", V, "minimal chat");
	S(C, " \t\r\n{\"model\":\"m\"," MSG "} \n", V, "whitespace around");
	S(C, "{\"model\":\"m\"," MSG "}x", I, "trailing data");
	S(C, "{\"model\":\"m\"," MSG ",}", I, "trailing comma in object");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":[1,]}", I, "trailing comma in array");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":01}", I, "leading zero");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":-}", I, "lone minus");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":1.}", I, "no fraction digits");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":1e+}", I, "no exponent digits");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":[-0,0.5e-3,1E+2]}", V, "number forms");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":9223372036854775807}", V, "largest integer");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":-9223372036854775808}", V, "smallest integer");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":9223372036854775808}", I, "integer overflow");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":-9223372036854775809}", I, "negative integer overflow");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":1e308}", V, "large real");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":1e309}", I, "real overflow");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":1e-400}", V, "real underflow is accepted");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":[true,false,null]}", V, "literals");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":True}", I, "capitalised literal");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":nulls}", I, "literal with trailing letters");
	S(C, "{\"model\":\"m\"," MSG ",\"n\":1\0}", V, "NUL after a number (jansson skips it)");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":[true\0]}", V, "NUL after a literal");
	S(C, "{\"model\":\"m\"," MSG ",\"n\":1\0\0}", I, "two NULs after a number");
	S(C, "{\"model\":\"m\"," MSG "}\0", I, "NUL after the document");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"a\\u0000\"}", I, "escaped NUL in a value");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"a\tb\"}", I, "raw control character");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\ud83d\\ude00\"}", V, "surrogate pair");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\ud83d\"}", I, "lone high surrogate");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\ude00\"}", I, "lone low surrogate");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\ud83d\\n\"}", I, "high surrogate then another escape");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\x\"}", I, "unknown escape");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\\u12G4\"}", I, "bad hex digit");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\"}", V, "UTF-8");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\xc0\xaf\"}", I, "overlong UTF-8");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\xed\xa0\x80\"}", I, "UTF-8 surrogate");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\xf4\x90\x80\x80\"}", I, "above U+10FFFF");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":\"\xe2\x82\"}", I, "truncated UTF-8");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":{\"a\":1,\"b\":{\"a\":2}}}", V, "same key in nested objects");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":{\"a\":1,\"a\":2}}", I, "duplicate nested key");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":{\"a\":1,\"\\u0061\":2}}", D, "escaped key: left to jansson");
	S(C, "{\"model\":\"m\"," MSG ",\"x\":{\"\\u0000\":2}}", I, "NUL in a key");
	S(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\",\"content\":[{\"text\":\"x\"}]}]}", I,
	    "content part without type");
	S(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"\"}]}", I, "empty role");
	S(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"stream\":null}", I, "null stream");
	S(C, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"seed\":null,\"top_p\":1}", V,
	    "null integer, integer number");
	S(OPENAI_ROUTE_COMPLETIONS, "{\"model\":\"m\",\"prompt\":[]}", V, "empty prompt array");
	S(OPENAI_ROUTE_COMPLETIONS, "{\"model\":\"m\",\"prompt\":[[1,\"a\"]]}", I, "string among token ids");
	S(OPENAI_ROUTE_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"\"}", V, "empty input string");
	S(OPENAI_ROUTE_EMBEDDINGS, "{\"model\":\"m\",\"input\":[{}]}", I, "object input element");
	S(C, "[]", I, "an array");
#undef S
#undef MSG

	/* Many members: declined, jansson decides. */
	char big[2048];
	size_t n = (size_t)snprintf(big, sizeof big, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}]");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, ",\"k%d\":%d", i, i);
	n += (size_t)snprintf(big + n, sizeof big - n, "}");
	scan(C, big, n, D, "40 members");
	big[n - 1] = 0;
	n = strlen(big);
	n += (size_t)snprintf(big + n, sizeof big - n, ",\"k7\":1}");
	scan(C, big, n, D, "40 members with a duplicate");

	/* Depth: jansson counts every value, the document is depth 1. */
	static char deep[8192];
	for (int arrays = 2046; arrays <= 2047; arrays++) {
		size_t d = (size_t)snprintf(deep, sizeof deep, "{\"model\":\"m\"," MSG_PLAIN ",\"x\":");
		memset(deep + d, '[', (size_t)arrays);
		d += (size_t)arrays;
		deep[d++] = '1';
		memset(deep + d, ']', (size_t)arrays);
		d += (size_t)arrays;
		deep[d++] = '}';
		scan(C, deep, d, arrays == 2046 ? V : I, arrays == 2046 ? "2048 values deep" : "2049 values deep");
	}

	/* What the scan reports. */
	struct openai_body_info info;
	const char *b = "{\"stream\":true,\"model\":\"gpt-x\",\"messages\":[{\"role\":\"u\",\"model\":\"no\"}]}";
	ok(openai_scan_body(C, b, strlen(b), &info) == V && info.stream == 1 && info.model_len == 5 &&
	    memcmp(info.model, "gpt-x", 5) == 0 && info.model >= b && info.model < b + strlen(b),
	    "stream flag and model (in the body)");
	b = "{\"model\":\"m\\u00fc\\ud83d\\ude00\\n\",\"stream\":false,\"messages\":[{\"role\":\"u\"}]}";
	ok(openai_scan_body(C, b, strlen(b), &info) == V && info.stream == 0 && info.model == info.model_buf &&
	    strcmp(info.model_buf, "m\xc3\xbc\xf0\x9f\x98\x80\n") == 0 && info.model_len == 8,
	    "escaped model decoded into model_buf");
	char out[4];
	ok(openai_scan_unescape("abcd", 4, out, 4) == 4 && openai_scan_unescape("abcde", 5, out, 4) == (size_t)-1 &&
	    openai_scan_unescape("\\u20ac", 6, out, 2) == (size_t)-1, "unescape respects the output size");

	/* Upstream answers: any JSON object or array, duplicates allowed. */
#define J(lit, want, what) scan_json(lit, sizeof lit - 1, want, what)
	J("{\"a\":1,\"a\":2}", 0, "duplicate keys allowed");
	J("[1,\"x\",{\"\\u0061\":[]}]", 0, "array document");
	J("\"x\"", -1, "a bare string");
	J("", -1, "empty");
	J("{\"a\":\"\\u0000\"}", -1, "escaped NUL");
	J("{\"a\":1", -1, "truncated");
	ok(openai_scan_json(NULL, 0) == -1, "json: no buffer (an empty evbuffer's pullup)");
	ok(openai_scan_body(OPENAI_ROUTE_CHAT, NULL, 0, &info) == OPENAI_SCAN_INVALID, "scan: no body");
#undef J
}

int main(void)
{
	int st;
	const struct openai_route_def *r = openai_route_find("/v1/chat/completions", 20, HTTP_METHOD_POST, &st);
	ok(r && r->route == OPENAI_ROUTE_CHAT, "chat route");
	r = openai_route_find("/v1/chat/completions", 20, HTTP_METHOD_GET, &st);
	ok(!r && st == 405, "GET on chat: 405");
	r = openai_route_find("/v1/nothing", 11, HTTP_METHOD_POST, &st);
	ok(!r && st == 404, "unknown path: 404");
	r = openai_route_find("/v1/models", 10, HTTP_METHOD_GET, &st);
	ok(r && r->route == OPENAI_ROUTE_MODELS && !r->has_body, "models route");
	r = openai_route_find("/v1/embeddings", 14, HTTP_METHOD_POST, &st);
	ok(r && r->route == OPENAI_ROUTE_EMBEDDINGS, "embeddings route");

	top_member_cases();
	quote_cases();

	char err[256];
	int stream = -1;
	const char *good = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
	    "\"x_unknown\":{\"keep\":[1,2]}}";
	json_t *j = openai_body_parse(openai_route_get(OPENAI_ROUTE_CHAT), good, strlen(good), &stream, err, sizeof err);
	ok(j != NULL && stream == 1, "valid streaming chat");
	ok(j && json_object_get(j, "x_unknown") != NULL, "unknown field kept");
	json_decref(j);
	const char *parts = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]},"
	    "{\"role\":\"assistant\",\"content\":null}]}";
	j = openai_body_parse(openai_route_get(OPENAI_ROUTE_CHAT), parts, strlen(parts), &stream, err, sizeof err);
	ok(j != NULL && stream == 0, "content parts and null content");
	json_decref(j);
	const char *comp = "{\"model\":\"m\",\"prompt\":[[1,2,3]]}";
	j = openai_body_parse(openai_route_get(OPENAI_ROUTE_COMPLETIONS), comp, strlen(comp), &stream, err, sizeof err);
	ok(j != NULL, "token id prompt");
	json_decref(j);

	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",", "malformed JSON at line 1 column 13");
	bad(OPENAI_ROUTE_CHAT, "[]", "expected a JSON object");
	bad(OPENAI_ROUTE_CHAT, "", "request body is empty, expected a JSON object");
	bad(OPENAI_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "missing required field: model");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":7,\"messages\":[]}", "model: expected a non-empty string");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\"}", "missing required field: messages");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[]}", "messages: expected a non-empty array");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[1]}", "messages[0]: expected an object");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages[0].role: expected a non-empty string");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
	    "messages[0].content: expected a string, an array of parts or null");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"stream\":\"yes\"}", "stream: expected a boolean");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"max_tokens\":1.5}", "max_tokens: expected an integer");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"temperature\":\"hot\"}", "temperature: expected a number");
	bad(OPENAI_ROUTE_CHAT, "{\"model\":\"m\",\"model\":\"n\",\"messages\":[{\"role\":\"u\"}]}", "malformed JSON at line 1 column 20");
	bad(OPENAI_ROUTE_COMPLETIONS, "{\"model\":\"m\"}", "missing required field: prompt");
	bad(OPENAI_ROUTE_COMPLETIONS, "{\"model\":\"m\",\"prompt\":{}}",
	    "prompt: expected a string, an array of strings or an array of token ids");
	bad(OPENAI_ROUTE_EMBEDDINGS, "{\"model\":\"m\"}", "missing required field: input");
	bad(OPENAI_ROUTE_EMBEDDINGS, "{\"model\":\"m\",\"input\":[]}", "input: expected a string or a non-empty array");

	/* A secret in a malformed body never shows up in the message. */
	const char *secret = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"SECRET-4711\"}";
	j = openai_body_parse(openai_route_get(OPENAI_ROUTE_CHAT), secret, strlen(secret), &stream, err, sizeof err);
	ok(!j && !strstr(err, "SECRET"), "error message does not quote the body");

	size_t len;
	char *e = openai_error_json("bad \"thing\"", "invalid_request_error", NULL, &len);
	is_str(e, "{\"error\":{\"message\":\"bad \\\"thing\\\"\",\"type\":\"invalid_request_error\",\"code\":null}}",
	    "error JSON shape, escaped, null code");
	free(e);

	ok(request_id_valid("abc-DEF_1.2", 11), "request id alphabet");
	ok(!request_id_valid("a b", 3), "space refused");
	ok(!request_id_valid("", 0), "empty refused");
	ok(!request_id_valid("a\"", 2), "quote refused");
	char long_id[130];
	memset(long_id, 'a', sizeof long_id);
	ok(request_id_valid(long_id, 128), "128 chars accepted");
	ok(!request_id_valid(long_id, 129), "129 chars refused");
	char id1[33], id2[33];
	ok(request_id_generate(id1) == 0 && request_id_generate(id2) == 0, "ids generated");
	ok(strlen(id1) == 32 && request_id_valid(id1, 32) && strcmp(id1, id2) != 0, "32 hex digits, distinct");
	scanner_cases();
	record_cases();
	tap_done();
	return tap_exit_status();
}
