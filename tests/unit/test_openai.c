/* Route table, body validation (400 cases), error shape, request ids. */
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
	tap_done();
	return tap_exit_status();
}
