/* A parsed OpenAI request body (/v1/chat/completions, /v1/completions):
 * sampling parameters checked against their ranges, stop strings, stream
 * options, and the messages or the prompt.  No model or tokenizer needed,
 * so the parser can be fuzzed on its own (tests/fuzz/fuzz_server_request.c). */
#ifndef HAFEN_ENGINE_SERVER_REQUEST_H
#define HAFEN_ENGINE_SERVER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/chat_template.h"
#include "engine/sampler.h"

#define SERVER_REQUEST_MAX_STOPS 8

struct json_t;

struct server_request {
	int chat;
	struct sampler_params sp;
	long max_tokens;	/* -1: until the context is full */
	char *stops[SERVER_REQUEST_MAX_STOPS];
	size_t n_stops;
	int stream, include_usage, no_think;

	/* chat: the messages (content points into body or owned) */
	struct chat_message *msgs;
	size_t n_msgs;
	int has_system;
	char **owned;
	/* completion: the prompt (points into body) */
	const char *prompt;
	size_t prompt_len;
	struct json_t *body;
};

/* Why a request was refused: OpenAI's error fields. */
struct server_request_error {
	char message[512];
	const char *param;	/* the offending field or NULL */
	const char *code;	/* "invalid_json" or NULL */
};

/* Parse body[0..n); seed is used when the request names none.  On error
 * -1 with e filled; r must be freed either way. */
int server_request_parse(struct server_request *r, const char *body, size_t n, int chat,
    uint64_t seed, struct server_request_error *e);
/* Free the messages and prompt (user text, wiped) but keep the settings. */
void server_request_drop_text(struct server_request *r);
void server_request_free(struct server_request *r);

#endif
