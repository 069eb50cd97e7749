/* mock-upstream: a stand-in for an OpenAI-compatible inference engine.
 *
 * It exists for two reasons: the gateway's black-box tests need an upstream
 * whose behaviour they can steer per request (slow streams, failures at a
 * chosen point), and the gateway benchmark needs an upstream that costs far
 * less than the proxies in front of it. Hence our own small HTTP/1.1 parser on
 * bufferevents rather than evhttp: every failure mode (close before the
 * headers, close mid-stream, stall after the headers) must be exact, and the
 * fast path does one JSON parse and a few evbuffer appends per request.
 *
 * Per-request behaviour comes from a "mock" object in the JSON body (the
 * gateway passes unknown fields through); its defaults come from the command
 * line. See mock_usage() for both. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Requests larger than this are refused with 413: the gateway's default
 * max_body_bytes is 8 MiB, so anything legitimate fits. */
#define MOCK_MAX_HEADER_BYTES (64 * 1024)
#define MOCK_MAX_BODY_BYTES (64 * 1024 * 1024)
#define MOCK_MAX_EVENTS 100000
#define MOCK_MAX_DELAY_MS 600000
#define MOCK_EMBEDDING_DIM 8

/* Append a string literal without counting its length by hand. */
#define MOCK_ADD_LIT(buf, lit) evbuffer_add((buf), (lit), sizeof(lit) - 1)

enum mock_fail {
	MOCK_FAIL_NONE,
	MOCK_FAIL_CLOSE_MID_STREAM,
	MOCK_FAIL_STALL,
	MOCK_FAIL_STALL_HEADERS,
	MOCK_FAIL_INVALID_JSON,
	MOCK_FAIL_STATUS_500,
	MOCK_FAIL_STATUS_503,
	MOCK_FAIL_CLOSE_IMMEDIATELY,
};

enum mock_answer_as {
	MOCK_ANSWER_AS_CONTENT,
	MOCK_ANSWER_AS_TOOL_CALL,
	MOCK_ANSWER_AS_FUNCTION_CALL,
	/* streams: two tool calls (index 0 and 1) with the same arguments,
	 * their pieces interleaved (0, 1, 0, 1, ...); else as TOOL_CALL */
	MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED,
};

static const struct mock_answer_as_name {
	const char *name;
	enum mock_answer_as as;
} mock_answer_as_names[] = {
	{ "content", MOCK_ANSWER_AS_CONTENT },
	{ "tool_call", MOCK_ANSWER_AS_TOOL_CALL },
	{ "function_call", MOCK_ANSWER_AS_FUNCTION_CALL },
	{ "tool_calls_interleaved", MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED },
};

static const struct mock_fail_name {
	const char *name;
	enum mock_fail fail;
} mock_fail_names[] = {
	{ "none", MOCK_FAIL_NONE },
	{ "close_mid_stream", MOCK_FAIL_CLOSE_MID_STREAM },
	{ "stall", MOCK_FAIL_STALL },
	{ "stall_headers", MOCK_FAIL_STALL_HEADERS },
	{ "invalid_json", MOCK_FAIL_INVALID_JSON },
	{ "status_500", MOCK_FAIL_STATUS_500 },
	{ "status_503", MOCK_FAIL_STATUS_503 },
	{ "close_immediately", MOCK_FAIL_CLOSE_IMMEDIATELY },
};

enum mock_endpoint {
	MOCK_ENDPOINT_CHAT,
	MOCK_ENDPOINT_COMPLETIONS,
	MOCK_ENDPOINT_EMBEDDINGS,
	MOCK_ENDPOINT_MODELS,
	MOCK_ENDPOINT_STATS,
	MOCK_ENDPOINT_RESET,
};

struct mock_conn;
typedef void (*mock_handler_fn)(struct mock_conn *);

static void mock_handle_chat(struct mock_conn *c);
static void mock_handle_completions(struct mock_conn *c);
static void mock_handle_embeddings(struct mock_conn *c);
static void mock_handle_models(struct mock_conn *c);
static void mock_handle_stats(struct mock_conn *c);
static void mock_handle_reset(struct mock_conn *c);

/* The routes: one row per endpoint. A path that matches with another method
 * answers 405, an unknown path 404. */
static const struct mock_route {
	const char *method;
	const char *path;
	enum mock_endpoint endpoint;
	bool needs_json;
	mock_handler_fn handler;
} mock_routes[] = {
	{ "POST", "/v1/chat/completions", MOCK_ENDPOINT_CHAT, true, mock_handle_chat },
	{ "POST", "/v1/completions", MOCK_ENDPOINT_COMPLETIONS, true, mock_handle_completions },
	{ "POST", "/v1/embeddings", MOCK_ENDPOINT_EMBEDDINGS, true, mock_handle_embeddings },
	{ "GET", "/v1/models", MOCK_ENDPOINT_MODELS, false, mock_handle_models },
	{ "GET", "/__mock/stats", MOCK_ENDPOINT_STATS, false, mock_handle_stats },
	{ "POST", "/__mock/reset", MOCK_ENDPOINT_RESET, false, mock_handle_reset },
};

/* Defaults, from the command line. */
static struct {
	int events;
	int delay_ms;
	enum mock_fail fail;
	const char *reply;
	const char *model;
	const char *record_path;
	const char *port_file;
	const char *listen;
	const char *tls_cert;
	const char *tls_key;
	bool quiet;
} mock_opt = {
	.events = 4,
	.listen = "127.0.0.1:0",
	.model = "mock-model",
};

static struct {
	uint64_t connections;
	uint64_t open_connections;
	uint64_t requests;
	uint64_t chat_completions;
	uint64_t completions;
	uint64_t embeddings;
	uint64_t models;
	uint64_t bad_requests;
	uint64_t streams_started;
	uint64_t streams_completed;
	uint64_t streams_cancelled;
	uint64_t failures_injected;
	uint64_t tls_handshakes_failed;
} mock_stats;

static struct event_base *mock_base;
static SSL_CTX *mock_ssl_ctx;
static FILE *mock_record;
static struct mock_conn *mock_conns;
static uint64_t mock_next_id = 1;

enum mock_state {
	MOCK_STATE_READ_HEAD,	/* waiting for a complete header block */
	MOCK_STATE_READ_BODY,	/* Content-Length body */
	MOCK_STATE_READ_CHUNKED,	/* chunked request body */
	MOCK_STATE_RESPONDING,	/* a response is being produced (timers) */
	MOCK_STATE_STALLED,	/* nothing more will be sent */
	MOCK_STATE_CLOSING,	/* close once the output is flushed */
};

struct mock_conn {
	struct mock_conn *prev, *next;	/* all open connections, freed at exit */
	struct bufferevent *bev;
	struct event *timer;
	enum mock_state state;
	bool tls;
	bool keep_alive;
	bool is_head;
	unsigned served;	/* requests seen on this connection */
	/* the request being served */
	char method[16];
	char path[512];
	size_t content_length;
	struct evbuffer *body;
	json_t *json;
	enum mock_endpoint endpoint;
	const struct mock_route *route;
	/* the behaviour chosen for it */
	int events;
	int delay_ms;
	int split_ms;		/* >0: each event in two HTTP chunks, this far apart */
	struct evbuffer *pending;	/* the second half of a split event */
	enum mock_fail fail;
	bool stream;
	bool include_usage;
	/* answer as a tool call (or the legacy function_call) whose
	 * arguments, {"text": REPLY}, are what is streamed piece by piece */
	enum mock_answer_as answer_as;
	int split_at;		/* >=0: two pieces, the first ends at this byte */
	char *reply;		/* owned */
	size_t reply_len;
	char *model_json;	/* model name as a JSON string literal, owned */
	uint64_t id;
	long created;
	/* stream progress */
	bool stream_active;
	int event_index;
	size_t reply_pos;
	int prompt_tokens;
	/* headers kept for --record */
	json_t *record_headers;
};

static void mock_conn_free(struct mock_conn *c);
static void mock_conn_process(struct mock_conn *c);

static void mock_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mock_log(const char *fmt, ...)
{
	va_list ap;

	if (mock_opt.quiet)
		return;
	va_start(ap, fmt);
	fputs("mock-upstream: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- output helpers ---- */

/* Append s as the body of a JSON string literal (without quotes). */
static void mock_json_escape(struct evbuffer *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];

		switch (ch) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (ch >= 0x20)
				continue;
			u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
			u[4] = hex[ch >> 4]; u[5] = hex[ch & 15];
			break;
		}
		if (i > start)
			evbuffer_add(out, s + start, i - start);
		if (esc)
			evbuffer_add(out, esc, strlen(esc));
		else
			evbuffer_add(out, u, sizeof(u));
		start = i + 1;
	}
	if (n > start)
		evbuffer_add(out, s + start, n - start);
}

static const char *mock_status_text(int status)
{
	static const struct { int status; const char *text; } texts[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 411, "Length Required" },
		{ 413, "Payload Too Large" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "Unknown";
}

static void mock_add_head(struct mock_conn *c, int status, const char *ctype, long long length)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status,
	    mock_status_text(status), ctype);
	if (length >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n", length);
	else
		MOCK_ADD_LIT(out, "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n");
	if (!c->keep_alive)
		MOCK_ADD_LIT(out, "Connection: close\r\n");
	MOCK_ADD_LIT(out, "\r\n");
}

/* Send a complete response whose body is in `body` (drained). */
static void mock_send(struct mock_conn *c, int status, const char *ctype, struct evbuffer *body)
{
	size_t n = evbuffer_get_length(body);

	mock_add_head(c, status, ctype, (long long)n);
	if (!c->is_head)
		evbuffer_add_buffer(bufferevent_get_output(c->bev), body);
	else
		evbuffer_drain(body, n);
}

static void mock_response_done(struct mock_conn *c)
{
	if (!c->keep_alive) {
		c->state = MOCK_STATE_CLOSING;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			mock_conn_free(c);
		return;
	}
	c->state = MOCK_STATE_READ_HEAD;
	/* A pipelined request may already be waiting. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		mock_conn_process(c);
}

/* OpenAI-shaped error; used for the mock's own validation and for the
 * injected status_500 / status_503. */
static void mock_send_error(struct mock_conn *c, int status, const char *type, const char *code,
    const char *message)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	evbuffer_add_printf(b, "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":\"%s\"}}",
	    message, type, code);
	mock_send(c, status, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

/* ---- request bookkeeping ---- */

static void mock_request_reset(struct mock_conn *c)
{
	if (c->json) {
		json_decref(c->json);
		c->json = NULL;
	}
	if (c->record_headers) {
		json_decref(c->record_headers);
		c->record_headers = NULL;
	}
	free(c->reply);
	c->reply = NULL;
	free(c->model_json);
	c->model_json = NULL;
	evbuffer_drain(c->body, evbuffer_get_length(c->body));
	c->content_length = 0;
	c->stream = false;
	c->stream_active = false;
	c->include_usage = false;
	c->event_index = 0;
	c->reply_pos = 0;
	c->is_head = false;
	c->route = NULL;
}

static void mock_conn_free(struct mock_conn *c)
{
	if (c->stream_active)
		mock_stats.streams_cancelled++;
	c->stream_active = false;
	mock_request_reset(c);
	if (c->timer)
		event_free(c->timer);
	if (c->pending)
		evbuffer_free(c->pending);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->body)
		evbuffer_free(c->body);
	mock_stats.open_connections--;
	if (c->prev)
		c->prev->next = c->next;
	else if (mock_conns == c)
		mock_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}


static void mock_record_request(struct mock_conn *c)
{
	json_t *line;
	const char *body;
	size_t n;
	char *text;

	if (mock_record == NULL)
		return;
	n = evbuffer_get_length(c->body);
	body = n ? (const char *)evbuffer_pullup(c->body, -1) : "";
	line = json_object();
	json_object_set_new(line, "method", json_string(c->method));
	json_object_set_new(line, "path", json_string(c->path));
	json_object_set(line, "headers", c->record_headers ? c->record_headers : json_object());
	json_object_set_new(line, "body", json_stringn_nocheck(body, n));
	text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text) {
		fprintf(mock_record, "%s\n", text);
		fflush(mock_record);
		free(text);
	}
	json_decref(line);
}

/* ---- the behaviour of one request ---- */

/* Text of a message "content": a string, or an array of parts of which the
 * "text" ones count. The result is malloc'ed. */
static char *mock_content_text(json_t *content)
{
	if (json_is_string(content))
		return strndup(json_string_value(content), json_string_length(content));
	if (json_is_array(content)) {
		struct evbuffer *b = evbuffer_new();
		size_t i;
		json_t *part;
		char *s;
		size_t n;

		if (b == NULL)
			return NULL;
		json_array_foreach(content, i, part) {
			json_t *t = json_object_get(part, "text");
			if (json_is_string(t))
				evbuffer_add(b, json_string_value(t), json_string_length(t));
		}
		n = evbuffer_get_length(b);
		s = malloc(n + 1);
		if (s) {
			evbuffer_remove(b, s, n);
			s[n] = '\0';
		}
		evbuffer_free(b);
		return s;
	}
	return NULL;
}

static int mock_count_words(const char *s)
{
	int n = 0;
	bool in = false;

	for (; s && *s; s++) {
		bool sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

/* Read the "mock" object over the command-line defaults; -1 with a message
 * on a malformed one (the test that sent it is wrong, so say so loudly). */
/* mock.NAME, when present: an integer in [lo, hi] stored in *out. */
static int mock_read_int(json_t *m, const char *name, long lo, long hi, int *out, const char **why)
{
	static char msg[96];
	json_t *v = json_object_get(m, name);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(msg, sizeof msg, "mock.%s: expected an integer from %ld to %ld", name, lo, hi);
		*why = msg;
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int mock_read_behaviour(struct mock_conn *c, const char **why)
{
	json_t *m, *v;

	c->events = mock_opt.events;
	c->delay_ms = mock_opt.delay_ms;
	c->split_ms = 0;
	c->split_at = -1;
	c->answer_as = MOCK_ANSWER_AS_CONTENT;
	c->fail = mock_opt.fail;
	if (mock_opt.reply) {
		c->reply = strdup(mock_opt.reply);
		if (c->reply == NULL)
			return -1;
	}
	m = c->json ? json_object_get(c->json, "mock") : NULL;
	if (m == NULL)
		return 0;
	if (!json_is_object(m)) {
		*why = "mock: expected an object";
		return -1;
	}
	if (mock_read_int(m, "events", 1, MOCK_MAX_EVENTS, &c->events, why) < 0 ||
	    mock_read_int(m, "delay_ms", 0, MOCK_MAX_DELAY_MS, &c->delay_ms, why) < 0 ||
	    mock_read_int(m, "split_ms", 0, MOCK_MAX_DELAY_MS, &c->split_ms, why) < 0 ||
	    mock_read_int(m, "split_at", 0, MOCK_MAX_BODY_BYTES, &c->split_at, why) < 0)
		return -1;
	if (c->split_at >= 0)
		c->events = 2;
	if ((v = json_object_get(m, "answer_as")) != NULL) {
		size_t i;

		if (!json_is_string(v)) {
			*why = "mock.answer_as: expected a string";
			return -1;
		}
		for (i = 0; i < sizeof(mock_answer_as_names) / sizeof(mock_answer_as_names[0]); i++)
			if (strcmp(mock_answer_as_names[i].name, json_string_value(v)) == 0)
				break;
		if (i == sizeof(mock_answer_as_names) / sizeof(mock_answer_as_names[0])) {
			*why = "mock.answer_as: expected content, tool_call, function_call or tool_calls_interleaved";
			return -1;
		}
		c->answer_as = mock_answer_as_names[i].as;
	}
	if ((v = json_object_get(m, "fail")) != NULL) {
		size_t i;

		if (!json_is_string(v)) {
			*why = "mock.fail: expected a string";
			return -1;
		}
		for (i = 0; i < sizeof(mock_fail_names) / sizeof(mock_fail_names[0]); i++)
			if (strcmp(mock_fail_names[i].name, json_string_value(v)) == 0)
				break;
		if (i == sizeof(mock_fail_names) / sizeof(mock_fail_names[0])) {
			*why = "mock.fail: unknown failure mode";
			return -1;
		}
		c->fail = mock_fail_names[i].fail;
	}
	if ((v = json_object_get(m, "reply")) != NULL) {
		if (!json_is_string(v)) {
			*why = "mock.reply: expected a string";
			return -1;
		}
		free(c->reply);
		c->reply = strndup(json_string_value(v), json_string_length(v));
		if (c->reply == NULL)
			return -1;
	}
	return 0;
}

/* A tool call's arguments are JSON text: the reply becomes {"text":"..."}
 * with the reply escaped, and that is what the answer carries and streams. */
static int mock_wrap_arguments(struct mock_conn *c)
{
	struct evbuffer *b = evbuffer_new();
	char *s;
	size_t n;

	if (b == NULL)
		return -1;
	MOCK_ADD_LIT(b, "{\"text\":\"");
	mock_json_escape(b, c->reply, c->reply_len);
	MOCK_ADD_LIT(b, "\"}");
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	if (s == NULL) {
		evbuffer_free(b);
		return -1;
	}
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	free(c->reply);
	c->reply = s;
	c->reply_len = n;
	return 0;
}

/* Common preparation of chat and completions: model, stream flag,
 * behaviour, reply text (default: the prompt echoed back). */
static int mock_prepare_generation(struct mock_conn *c, char *echo)
{
	json_t *model = json_object_get(c->json, "model");
	json_t *stream = json_object_get(c->json, "stream");
	json_t *opts = json_object_get(c->json, "stream_options");
	const char *why = "invalid mock behaviour";
	struct evbuffer *b;
	size_t n;

	if (mock_read_behaviour(c, &why) < 0) {
		free(echo);
		mock_stats.bad_requests++;
		mock_send_error(c, 400, "invalid_request_error", "mock_behaviour", why);
		return -1;
	}
	c->stream = json_is_true(stream);
	c->include_usage = json_is_true(json_object_get(opts, "include_usage"));
	if (c->reply == NULL)
		c->reply = echo ? echo : strdup("This is the mock upstream.");
	else
		free(echo);
	if (c->reply == NULL) {
		mock_conn_free(c);
		return -1;
	}
	c->reply_len = strlen(c->reply);
	if (c->answer_as != MOCK_ANSWER_AS_CONTENT && c->endpoint == MOCK_ENDPOINT_CHAT &&
	    mock_wrap_arguments(c) < 0) {
		mock_conn_free(c);
		return -1;
	}
	b = evbuffer_new();
	if (b == NULL) {
		mock_conn_free(c);
		return -1;
	}
	MOCK_ADD_LIT(b, "\"");
	if (json_is_string(model))
		mock_json_escape(b, json_string_value(model), json_string_length(model));
	else
		evbuffer_add(b, mock_opt.model, strlen(mock_opt.model));
	MOCK_ADD_LIT(b, "\"");
	n = evbuffer_get_length(b);
	c->model_json = malloc(n + 1);
	if (c->model_json == NULL) {
		evbuffer_free(b);
		mock_conn_free(c);
		return -1;
	}
	evbuffer_remove(b, c->model_json, n);
	c->model_json[n] = '\0';
	evbuffer_free(b);
	c->id = mock_next_id++;
	c->created = (long)time(NULL);
	return 0;
}

/* Byte offset where piece `i` of `n` ends: pieces split the reply evenly,
 * never inside a UTF-8 sequence, so each event's content is valid text. */
static size_t mock_piece_end(const struct mock_conn *c, int i)
{
	size_t end;

	if (i + 1 >= c->events)
		return c->reply_len;
	end = c->reply_len * (size_t)(i + 1) / (size_t)c->events;
	if (c->split_at >= 0)
		end = (size_t)c->split_at < c->reply_len ? (size_t)c->split_at : c->reply_len;
	while (end < c->reply_len && ((unsigned char)c->reply[end] & 0xC0) == 0x80)
		end++;
	if (end < c->reply_pos)
		end = c->reply_pos;
	return end;
}

/* Content events of a stream (interleaved tool calls: two per piece). */
static int mock_content_events(const struct mock_conn *c)
{
	return c->events * (c->answer_as == MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED ? 2 : 1);
}

static const char *mock_finish_reason(const struct mock_conn *c)
{
	if (c->endpoint != MOCK_ENDPOINT_CHAT)
		return "stop";
	if (c->answer_as == MOCK_ANSWER_AS_TOOL_CALL || c->answer_as == MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED)
		return "tool_calls";
	return c->answer_as == MOCK_ANSWER_AS_FUNCTION_CALL ? "function_call" : "stop";
}

static void mock_add_usage(struct mock_conn *c, struct evbuffer *b, int completion_tokens)
{
	evbuffer_add_printf(b, "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
	    "\"total_tokens\":%d}", c->prompt_tokens, completion_tokens,
	    c->prompt_tokens + completion_tokens);
}

/* Frame `b` as one HTTP chunk on the output. */
static void mock_add_chunk(struct mock_conn *c, struct evbuffer *b)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n = evbuffer_get_length(b);

	if (n == 0)
		return;
	evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, b);
	MOCK_ADD_LIT(out, "\r\n");
}

/* One SSE event carrying the next piece of the reply (or, past the last
 * piece, the finish event, usage and [DONE]). */
static void mock_stream_event(struct mock_conn *c)
{
	struct evbuffer *b = evbuffer_new();
	bool chat = c->endpoint == MOCK_ENDPOINT_CHAT;
	const char *prefix = chat ? "chatcmpl" : "cmpl";
	const char *object = chat ? "chat.completion.chunk" : "text_completion";

	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	if (c->fail == MOCK_FAIL_INVALID_JSON) {
		mock_stats.failures_injected++;
		evbuffer_add_printf(b, "data: {\"id\": \"%s-mock-%" PRIu64 "\", this is not json\n\n",
		    prefix, c->id);
		c->event_index = mock_content_events(c);
	} else if (c->event_index < mock_content_events(c)) {
		int two = c->answer_as == MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED;
		int piece = two ? c->event_index / 2 : c->event_index, call = two ? c->event_index % 2 : 0;
		size_t end = mock_piece_end(c, piece);

		evbuffer_add_printf(b, "data: {\"id\":\"%s-mock-%" PRIu64 "\",\"object\":\"%s\","
		    "\"created\":%ld,\"model\":%s,\"choices\":[{\"index\":0,", prefix, c->id, object,
		    c->created, c->model_json);
		const char *tail = chat ? "}" : "";

		if (chat && (c->answer_as == MOCK_ANSWER_AS_TOOL_CALL || two)) {
			if (piece == 0)
				evbuffer_add_printf(b, "\"delta\":{%s\"tool_calls\":[{\"index\":%d,\"id\":\"call_mock_%d\","
				    "\"type\":\"function\",\"function\":{\"name\":\"echo\",\"arguments\":\"",
				    call == 0 ? "\"role\":\"assistant\",\"content\":null," : "", call, call + 1);
			else
				evbuffer_add_printf(b, "\"delta\":{\"tool_calls\":[{\"index\":%d,"
				    "\"function\":{\"arguments\":\"", call);
			tail = "}}]}";
		} else if (chat && c->answer_as == MOCK_ANSWER_AS_FUNCTION_CALL) {
			evbuffer_add_printf(b, "\"delta\":{%s\"function_call\":{%s\"arguments\":\"",
			    c->event_index == 0 ? "\"role\":\"assistant\",\"content\":null," : "",
			    c->event_index == 0 ? "\"name\":\"echo\"," : "");
			tail = "}}";
		} else if (chat) {
			evbuffer_add_printf(b, "\"delta\":{%s\"content\":\"",
			    c->event_index == 0 ? "\"role\":\"assistant\"," : "");
		} else {
			MOCK_ADD_LIT(b, "\"text\":\"");
		}
		mock_json_escape(b, c->reply + c->reply_pos, end - c->reply_pos);
		evbuffer_add_printf(b, "\"%s,\"finish_reason\":null}]}\n\n", tail);
		if (!two || call == 1) /* both calls carry this piece */
			c->reply_pos = end;
		c->event_index++;
		if (c->split_ms > 0 && (c->pending || (c->pending = evbuffer_new()) != NULL)) {
			/* Cut the event (and so its JSON) in two: the gateway's SSE
			 * parser must put it back together. */
			evbuffer_remove_buffer(b, c->pending, evbuffer_get_length(b) - evbuffer_get_length(b) / 2);
			mock_add_chunk(c, c->pending);
			evbuffer_add_buffer(c->pending, b);
		} else {
			mock_add_chunk(c, b);
		}
		evbuffer_free(b);
		return;
	} else {
		evbuffer_add_printf(b, "data: {\"id\":\"%s-mock-%" PRIu64 "\",\"object\":\"%s\","
		    "\"created\":%ld,\"model\":%s,\"choices\":[{\"index\":0,%s,"
		    "\"finish_reason\":\"%s\"}]", prefix, c->id, object, c->created, c->model_json,
		    chat ? "\"delta\":{}" : "\"text\":\"\"", mock_finish_reason(c));
		if (c->include_usage) {
			MOCK_ADD_LIT(b, ",");
			mock_add_usage(c, b, c->events);
		}
		MOCK_ADD_LIT(b, "}\n\n");
	}
	MOCK_ADD_LIT(b, "data: [DONE]\n\n");
	mock_add_chunk(c, b);
	evbuffer_free(b);
	MOCK_ADD_LIT(bufferevent_get_output(c->bev), "0\r\n\r\n");
	c->event_index = mock_content_events(c) + 1;
	c->stream_active = false;
	mock_stats.streams_completed++;
}

static void mock_arm_timer(struct mock_conn *c, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* Called by the timer (or directly when there is no delay): send the next
 * event(s) until the stream ends, a delay is due or a failure triggers. */
static void mock_stream_step(struct mock_conn *c)
{
	for (;;) {
		if (c->pending && evbuffer_get_length(c->pending) > 0) {
			mock_add_chunk(c, c->pending);
			if (c->delay_ms > 0) {
				mock_arm_timer(c, c->delay_ms);
				return;
			}
		}
		/* close_mid_stream: half the content events, then a hard close. */
		if (c->fail == MOCK_FAIL_CLOSE_MID_STREAM && c->event_index >= (c->events + 1) / 2 &&
		    c->event_index >= 1) {
			c->state = MOCK_STATE_CLOSING;
			c->keep_alive = false;
			mock_stats.failures_injected++;
			/* Counted as injected, not as cancelled by the client. */
			c->stream_active = false;
			if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
				mock_conn_free(c);
			return;
		}
		if (c->fail == MOCK_FAIL_STALL && c->event_index >= 1) {
			c->state = MOCK_STATE_STALLED;
			mock_stats.failures_injected++;
			return;
		}
		mock_stream_event(c);
		if (c->event_index > mock_content_events(c)) {
			mock_response_done(c);
			return;
		}
		if (c->pending && evbuffer_get_length(c->pending) > 0) {
			mock_arm_timer(c, c->split_ms);
			return;
		}
		if (c->delay_ms > 0) {
			mock_arm_timer(c, c->delay_ms);
			return;
		}
	}
}

static void mock_send_generation(struct mock_conn *c)
{
	bool chat = c->endpoint == MOCK_ENDPOINT_CHAT;
	struct evbuffer *b;
	int completion_tokens;

	if (c->stream) {
		mock_add_head(c, 200, "text/event-stream", -1);
		mock_stats.streams_started++;
		c->stream_active = true;
		mock_stream_step(c);
		return;
	}
	b = evbuffer_new();
	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	if (c->fail == MOCK_FAIL_INVALID_JSON) {
		mock_stats.failures_injected++;
		evbuffer_add_printf(b, "{\"id\": \"mock-%" PRIu64 "\", \"choices\": [ this is not json",
		    c->id);
		mock_send(c, 200, "application/json", b);
		evbuffer_free(b);
		mock_response_done(c);
		return;
	}
	completion_tokens = mock_count_words(c->reply);
	evbuffer_add_printf(b, "{\"id\":\"%s-mock-%" PRIu64 "\",\"object\":\"%s\",\"created\":%ld,"
	    "\"model\":%s,\"choices\":[{\"index\":0,", chat ? "chatcmpl" : "cmpl", c->id,
	    chat ? "chat.completion" : "text_completion", c->created, c->model_json);
	const char *tail = chat ? "}" : "";

	if (chat && (c->answer_as == MOCK_ANSWER_AS_TOOL_CALL || c->answer_as == MOCK_ANSWER_AS_TOOL_CALLS_INTERLEAVED)) {
		MOCK_ADD_LIT(b, "\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
		    "[{\"id\":\"call_mock_1\",\"type\":\"function\",\"function\":{\"name\":\"echo\","
		    "\"arguments\":\"");
		tail = "}}]}";
	} else if (chat && c->answer_as == MOCK_ANSWER_AS_FUNCTION_CALL) {
		MOCK_ADD_LIT(b, "\"message\":{\"role\":\"assistant\",\"content\":null,"
		    "\"function_call\":{\"name\":\"echo\",\"arguments\":\"");
		tail = "}}";
	} else if (chat) {
		MOCK_ADD_LIT(b, "\"message\":{\"role\":\"assistant\",\"content\":\"");
	} else {
		MOCK_ADD_LIT(b, "\"text\":\"");
	}
	mock_json_escape(b, c->reply, c->reply_len);
	evbuffer_add_printf(b, "\"%s,%s\"finish_reason\":\"%s\"}],", tail,
	    chat ? "" : "\"logprobs\":null,", mock_finish_reason(c));
	mock_add_usage(c, b, completion_tokens);
	MOCK_ADD_LIT(b, "}");
	if (c->fail == MOCK_FAIL_CLOSE_MID_STREAM || c->fail == MOCK_FAIL_STALL) {
		/* The head and half the body, then close or go silent. */
		size_t n = evbuffer_get_length(b);
		struct evbuffer *out = bufferevent_get_output(c->bev);

		mock_stats.failures_injected++;
		mock_add_head(c, 200, "application/json", (long long)n);
		evbuffer_remove_buffer(b, out, n / 2);
		evbuffer_free(b);
		if (c->fail == MOCK_FAIL_STALL) {
			c->state = MOCK_STATE_STALLED;
			return;
		}
		c->keep_alive = false;
		c->state = MOCK_STATE_CLOSING;
		return;
	}
	mock_send(c, 200, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

/* Apply the failure modes that act before any response byte. Returns 1 when
 * the request has been dealt with. */
static int mock_fail_early(struct mock_conn *c)
{
	switch (c->fail) {
	case MOCK_FAIL_CLOSE_IMMEDIATELY:
		mock_stats.failures_injected++;
		mock_conn_free(c);
		return 1;
	case MOCK_FAIL_STALL_HEADERS:
		mock_stats.failures_injected++;
		c->state = MOCK_STATE_STALLED;
		return 1;
	case MOCK_FAIL_STATUS_500:
		mock_stats.failures_injected++;
		mock_send_error(c, 500, "server_error", "mock_failure", "injected failure: status_500");
		return 1;
	case MOCK_FAIL_STATUS_503:
		mock_stats.failures_injected++;
		mock_send_error(c, 503, "server_error", "mock_overloaded",
		    "injected failure: status_503");
		return 1;
	default:
		return 0;
	}
}

static void mock_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mock_conn *c = arg;

	if (c->stream_active) {
		mock_stream_step(c);
		return;
	}
	/* delay before a non-streamed answer (or before the stream's head) */
	if (mock_fail_early(c))
		return;
	mock_send_generation(c);
}

static void mock_start_generation(struct mock_conn *c)
{
	c->state = MOCK_STATE_RESPONDING;
	/* close_immediately and stall_headers do not wait for the delay. */
	if (c->fail == MOCK_FAIL_CLOSE_IMMEDIATELY || c->fail == MOCK_FAIL_STALL_HEADERS) {
		mock_fail_early(c);
		return;
	}
	if (!c->stream && c->delay_ms > 0) {
		mock_arm_timer(c, c->delay_ms);
		return;
	}
	if (mock_fail_early(c))
		return;
	mock_send_generation(c);
}

static void mock_handle_chat(struct mock_conn *c)
{
	json_t *messages = json_object_get(c->json, "messages");
	char *echo = NULL;
	size_t i;
	json_t *m;

	mock_stats.chat_completions++;
	if (!json_is_array(messages)) {
		mock_stats.bad_requests++;
		mock_send_error(c, 400, "invalid_request_error", "invalid_messages",
		    "messages: expected an array");
		return;
	}
	c->prompt_tokens = 0;
	json_array_foreach(messages, i, m) {
		json_t *role = json_object_get(m, "role");
		char *text = mock_content_text(json_object_get(m, "content"));

		c->prompt_tokens += mock_count_words(text);
		if (text && json_is_string(role) && strcmp(json_string_value(role), "user") == 0) {
			free(echo);
			echo = text;
		} else {
			free(text);
		}
	}
	if (mock_prepare_generation(c, echo) < 0)
		return;
	mock_start_generation(c);
}

static void mock_handle_completions(struct mock_conn *c)
{
	json_t *prompt = json_object_get(c->json, "prompt");
	char *echo = NULL;

	mock_stats.completions++;
	if (json_is_string(prompt))
		echo = strndup(json_string_value(prompt), json_string_length(prompt));
	else if (json_is_array(prompt) && json_is_string(json_array_get(prompt, 0)))
		echo = strdup(json_string_value(json_array_get(prompt, 0)));
	else {
		mock_stats.bad_requests++;
		mock_send_error(c, 400, "invalid_request_error", "invalid_prompt",
		    "prompt: expected a string or an array of strings");
		return;
	}
	c->prompt_tokens = mock_count_words(echo);
	if (mock_prepare_generation(c, echo) < 0)
		return;
	mock_start_generation(c);
}

/* A deterministic unit-free vector per input (FNV-1a over the text), so a
 * test can check that the same input yields the same embedding. */
static void mock_add_embedding(struct evbuffer *b, const char *s, size_t n, size_t index)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	evbuffer_add_printf(b, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":[",
	    index ? "," : "", index);
	for (int d = 0; d < MOCK_EMBEDDING_DIM; d++) {
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ULL;
		evbuffer_add_printf(b, "%s%.6f", d ? "," : "", (double)(h >> 40) / (double)(1 << 24) - 0.5);
	}
	MOCK_ADD_LIT(b, "]}");
}

static void mock_handle_embeddings(struct mock_conn *c)
{
	json_t *input = json_object_get(c->json, "input");
	json_t *model = json_object_get(c->json, "model");
	const char *why = "invalid mock behaviour";
	struct evbuffer *b;
	int tokens = 0;

	mock_stats.embeddings++;
	if (!json_is_string(input) && !json_is_array(input)) {
		mock_stats.bad_requests++;
		mock_send_error(c, 400, "invalid_request_error", "invalid_input",
		    "input: expected a string or an array of strings");
		return;
	}
	if (mock_read_behaviour(c, &why) < 0) {
		mock_stats.bad_requests++;
		mock_send_error(c, 400, "invalid_request_error", "mock_behaviour", why);
		return;
	}
	c->state = MOCK_STATE_RESPONDING;
	if (mock_fail_early(c))
		return;
	b = evbuffer_new();
	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	if (c->fail == MOCK_FAIL_INVALID_JSON) {
		mock_stats.failures_injected++;
		MOCK_ADD_LIT(b, "{\"object\": \"list\", \"data\": [");
		mock_send(c, 200, "application/json", b);
		evbuffer_free(b);
		mock_response_done(c);
		return;
	}
	MOCK_ADD_LIT(b, "{\"object\":\"list\",\"data\":[");
	if (json_is_string(input)) {
		mock_add_embedding(b, json_string_value(input), json_string_length(input), 0);
		tokens = mock_count_words(json_string_value(input));
	} else {
		size_t i;
		json_t *s;

		json_array_foreach(input, i, s) {
			if (json_is_string(s)) {
				mock_add_embedding(b, json_string_value(s), json_string_length(s), i);
				tokens += mock_count_words(json_string_value(s));
			} else {
				/* token arrays: hash their JSON text */
				char *t = json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
				mock_add_embedding(b, t ? t : "", t ? strlen(t) : 0, i);
				tokens += (int)json_array_size(s);
				free(t);
			}
		}
	}
	MOCK_ADD_LIT(b, "],\"model\":\"");
	if (json_is_string(model))
		mock_json_escape(b, json_string_value(model), json_string_length(model));
	else
		evbuffer_add(b, mock_opt.model, strlen(mock_opt.model));
	evbuffer_add_printf(b, "\",\"usage\":{\"prompt_tokens\":%d,\"total_tokens\":%d}}", tokens,
	    tokens);
	mock_send(c, 200, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

static void mock_handle_models(struct mock_conn *c)
{
	struct evbuffer *b = evbuffer_new();

	mock_stats.models++;
	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	MOCK_ADD_LIT(b, "{\"object\":\"list\",\"data\":[{\"id\":\"");
	mock_json_escape(b, mock_opt.model, strlen(mock_opt.model));
	evbuffer_add_printf(b, "\",\"object\":\"model\",\"created\":%ld,\"owned_by\":\"mock\"}]}",
	    (long)time(NULL));
	mock_send(c, 200, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

/* Counter table for /__mock/stats: one row per counter. */
static const struct mock_counter {
	const char *name;
	const uint64_t *value;
} mock_counters[] = {
	{ "connections", &mock_stats.connections },
	{ "open_connections", &mock_stats.open_connections },
	{ "requests", &mock_stats.requests },
	{ "chat_completions", &mock_stats.chat_completions },
	{ "completions", &mock_stats.completions },
	{ "embeddings", &mock_stats.embeddings },
	{ "models", &mock_stats.models },
	{ "bad_requests", &mock_stats.bad_requests },
	{ "streams_started", &mock_stats.streams_started },
	{ "streams_completed", &mock_stats.streams_completed },
	{ "streams_cancelled", &mock_stats.streams_cancelled },
	{ "failures_injected", &mock_stats.failures_injected },
	{ "tls_handshakes_failed", &mock_stats.tls_handshakes_failed },
};

static void mock_handle_stats(struct mock_conn *c)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	for (size_t i = 0; i < sizeof(mock_counters) / sizeof(mock_counters[0]); i++)
		evbuffer_add_printf(b, "%s\"%s\":%" PRIu64, i ? "," : "{", mock_counters[i].name,
		    *mock_counters[i].value);
	MOCK_ADD_LIT(b, "}");
	mock_send(c, 200, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

static void mock_handle_reset(struct mock_conn *c)
{
	uint64_t open = mock_stats.open_connections;
	struct evbuffer *b = evbuffer_new();

	memset(&mock_stats, 0, sizeof(mock_stats));
	mock_stats.open_connections = open;
	if (b == NULL) {
		mock_conn_free(c);
		return;
	}
	MOCK_ADD_LIT(b, "{}");
	mock_send(c, 200, "application/json", b);
	evbuffer_free(b);
	mock_response_done(c);
}

/* ---- HTTP/1.1 request parsing ---- */

static bool mock_token_eq(const char *a, size_t an, const char *b)
{
	return strlen(b) == an && strncasecmp(a, b, an) == 0;
}

/* Whether the (not NUL-terminated) value [v, v+n) contains `word`, ignoring
 * case: enough for the Connection header's comma-separated options. */
static bool mock_has_word(const char *v, size_t n, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= n; i++)
		if (strncasecmp(v + i, word, wl) == 0)
			return true;
	return false;
}

/* Parse the header block [p, p+n) (request line, headers, no final CRLF
 * CRLF). Returns 0, or an HTTP status to answer with. */
static int mock_parse_head(struct mock_conn *c, char *p, size_t n)
{
	char *end = p + n, *line, *eol, *sp1, *sp2;
	bool http10, have_cl = false, chunked = false, conn_close = false, conn_keep = false;

	eol = memmem(p, n, "\r\n", 2);
	if (eol == NULL)
		eol = end;
	line = p;
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	if (sp1 == NULL)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || (size_t)(sp1 - line) >= sizeof(c->method) ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(c->path) || sp2 == sp1 + 1)
		return 400;
	memcpy(c->method, line, (size_t)(sp1 - line));
	c->method[sp1 - line] = '\0';
	memcpy(c->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	c->path[sp2 - sp1 - 1] = '\0';
	if (mock_token_eq(sp2 + 1, (size_t)(eol - sp2 - 1), "HTTP/1.1"))
		http10 = false;
	else if (mock_token_eq(sp2 + 1, (size_t)(eol - sp2 - 1), "HTTP/1.0"))
		http10 = true;
	else
		return 400;
	if (mock_record)
		c->record_headers = json_object();
	for (line = eol + 2; line < end; line = eol + 2) {
		char *colon, *v, *vend;
		size_t nlen;

		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || colon == line)
			return 400;
		nlen = (size_t)(colon - line);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (vend = eol; vend > v && (vend[-1] == ' ' || vend[-1] == '\t'); vend--)
			;
		if (mock_token_eq(line, nlen, "content-length")) {
			char num[24];
			char *e;
			unsigned long long cl;

			if (have_cl || vend - v == 0 || (size_t)(vend - v) >= sizeof(num))
				return 400;
			memcpy(num, v, (size_t)(vend - v));
			num[vend - v] = '\0';
			if (num[0] < '0' || num[0] > '9')
				return 400;
			errno = 0;
			cl = strtoull(num, &e, 10);
			if (*e || errno)
				return 400;
			if (cl > MOCK_MAX_BODY_BYTES)
				return 413;
			c->content_length = (size_t)cl;
			have_cl = true;
		} else if (mock_token_eq(line, nlen, "transfer-encoding")) {
			if (!mock_token_eq(v, (size_t)(vend - v), "chunked"))
				return 501;
			chunked = true;
		} else if (mock_token_eq(line, nlen, "connection")) {
			if (mock_has_word(v, (size_t)(vend - v), "close"))
				conn_close = true;
			if (mock_has_word(v, (size_t)(vend - v), "keep-alive"))
				conn_keep = true;
		}
		if (c->record_headers) {
			char name[128];
			size_t k;
			bool auth = mock_token_eq(line, nlen, "authorization");

			if (nlen >= sizeof(name))
				continue;
			for (k = 0; k < nlen; k++)
				name[k] = (char)((line[k] >= 'A' && line[k] <= 'Z') ? line[k] + 32 : line[k]);
			name[k] = '\0';
			/* Keep that a credential was sent, never its value. */
			json_object_set_new(c->record_headers, name, auth ?
			    json_string("[redacted]") :
			    json_stringn_nocheck(v, (size_t)(vend - v)));
		}
	}
	if (have_cl && chunked)
		return 400;
	c->keep_alive = http10 ? conn_keep : !conn_close;
	c->is_head = strcmp(c->method, "HEAD") == 0;
	if (chunked)
		c->state = MOCK_STATE_READ_CHUNKED;
	else
		c->state = MOCK_STATE_READ_BODY;
	return 0;
}

/* Incremental chunked body decoding. Returns 1 when complete, 0 for more
 * input, -1 on malformed framing. */
static int mock_read_chunked(struct mock_conn *c, struct evbuffer *in)
{
	for (;;) {
		struct evbuffer_ptr crlf = evbuffer_search(in, "\r\n", 2, NULL);
		char line[32];
		char *e;
		unsigned long long size;
		size_t len;

		if (crlf.pos < 0)
			return evbuffer_get_length(in) > sizeof(line) ? -1 : 0;
		if ((size_t)crlf.pos >= sizeof(line))
			return -1;
		len = (size_t)crlf.pos;
		evbuffer_copyout(in, line, len);
		line[len] = '\0';
		errno = 0;
		size = strtoull(line, &e, 16);
		if (e == line || (*e && *e != ';') || errno)
			return -1;
		if (size > MOCK_MAX_BODY_BYTES || evbuffer_get_length(c->body) + size > MOCK_MAX_BODY_BYTES)
			return -1;
		if (size == 0) {
			/* no trailers supported: expect the final CRLF */
			if (evbuffer_get_length(in) < len + 4)
				return 0;
			evbuffer_drain(in, len + 4);
			return 1;
		}
		if (evbuffer_get_length(in) < len + 2 + size + 2)
			return 0;
		evbuffer_drain(in, len + 2);
		evbuffer_remove_buffer(in, c->body, (size_t)size);
		evbuffer_drain(in, 2);
	}
}

static void mock_dispatch(struct mock_conn *c)
{
	char *q = strchr(c->path, '?');
	size_t plen = q ? (size_t)(q - c->path) : strlen(c->path);
	const struct mock_route *path_match = NULL;

	mock_stats.requests++;
	c->served++;
	for (size_t i = 0; i < sizeof(mock_routes) / sizeof(mock_routes[0]); i++) {
		const struct mock_route *r = &mock_routes[i];

		if (strlen(r->path) != plen || strncmp(r->path, c->path, plen) != 0)
			continue;
		path_match = r;
		if (strcmp(r->method, c->method) == 0 ||
		    (c->is_head && strcmp(r->method, "GET") == 0)) {
			c->route = r;
			break;
		}
	}
	mock_record_request(c);
	if (c->route == NULL) {
		mock_stats.bad_requests++;
		if (path_match)
			mock_send_error(c, 405, "invalid_request_error", "method_not_allowed",
			    "method not allowed");
		else
			mock_send_error(c, 404, "invalid_request_error", "not_found", "no such endpoint");
		return;
	}
	c->endpoint = c->route->endpoint;
	if (c->route->needs_json) {
		size_t n = evbuffer_get_length(c->body);
		json_error_t err;

		c->json = n ? json_loadb((const char *)evbuffer_pullup(c->body, -1), n, 0, &err) : NULL;
		if (!json_is_object(c->json)) {
			mock_stats.bad_requests++;
			mock_send_error(c, 400, "invalid_request_error", "invalid_json",
			    "request body: expected a JSON object");
			return;
		}
	}
	c->route->handler(c);
}

/* Parse and serve as many complete requests as the input holds. */
static void mock_conn_process(struct mock_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state == MOCK_STATE_READ_HEAD || c->state == MOCK_STATE_READ_BODY ||
	    c->state == MOCK_STATE_READ_CHUNKED) {
		if (c->state == MOCK_STATE_READ_HEAD) {
			struct evbuffer_ptr pos;
			char *head;
			int status;

			/* tolerate empty lines between requests (RFC 9112 2.2) */
			while (evbuffer_get_length(in) >= 2) {
				char two[2];
				evbuffer_copyout(in, two, 2);
				if (two[0] != '\r' || two[1] != '\n')
					break;
				evbuffer_drain(in, 2);
			}
			pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (pos.pos < 0) {
				if (evbuffer_get_length(in) > MOCK_MAX_HEADER_BYTES) {
					c->keep_alive = false;
					mock_stats.bad_requests++;
					mock_send_error(c, 431, "invalid_request_error", "headers_too_large",
					    "request headers too large");
				}
				return;
			}
			if ((size_t)pos.pos > MOCK_MAX_HEADER_BYTES) {
				c->keep_alive = false;
				mock_stats.bad_requests++;
				mock_send_error(c, 431, "invalid_request_error", "headers_too_large",
				    "request headers too large");
				return;
			}
			mock_request_reset(c);
			head = (char *)evbuffer_pullup(in, pos.pos + 4);
			status = mock_parse_head(c, head, (size_t)pos.pos);
			evbuffer_drain(in, (size_t)pos.pos + 4);
			if (status) {
				c->keep_alive = false;
				mock_stats.bad_requests++;
				mock_send_error(c, status, "invalid_request_error", "bad_request",
				    "malformed request");
				return;
			}
			continue;
		}
		if (c->state == MOCK_STATE_READ_BODY) {
			if (evbuffer_get_length(in) < c->content_length)
				return;
			evbuffer_remove_buffer(in, c->body, c->content_length);
		} else {
			int r = mock_read_chunked(c, in);

			if (r == 0)
				return;
			if (r < 0) {
				c->keep_alive = false;
				mock_stats.bad_requests++;
				mock_send_error(c, 400, "invalid_request_error", "bad_chunk",
				    "malformed chunked body");
				return;
			}
		}
		c->state = MOCK_STATE_RESPONDING;
		/* mock_dispatch may free c (close_immediately) or start timers;
		 * either way it owns what happens next. */
		mock_dispatch(c);
		return;
	}
}

static void mock_read_cb(struct bufferevent *bev, void *arg)
{
	mock_conn_process(arg);
}

static void mock_write_cb(struct bufferevent *bev, void *arg)
{
	struct mock_conn *c = arg;

	if (c->state == MOCK_STATE_CLOSING)
		mock_conn_free(c);
}

static void mock_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mock_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (c->tls && (what & BEV_EVENT_ERROR) && bufferevent_get_openssl_error(bev) &&
	    c->served == 0)
		mock_stats.tls_handshakes_failed++;
	while (c->tls && bufferevent_get_openssl_error(bev))
		;
	mock_conn_free(c);
}

static void mock_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct mock_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (c == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->body = evbuffer_new();
	c->timer = evtimer_new(mock_base, mock_timer_cb, c);
	if (mock_ssl_ctx) {
		SSL *ssl = SSL_new(mock_ssl_ctx);

		c->tls = true;
		c->bev = ssl ? bufferevent_openssl_socket_new(mock_base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
		if (c->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		else if (ssl)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(mock_base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	mock_stats.connections++;
	mock_stats.open_connections++;
	c->next = mock_conns;
	if (mock_conns)
		mock_conns->prev = c;
	mock_conns = c;
	if (c->bev == NULL || c->body == NULL || c->timer == NULL) {
		if (c->bev == NULL)
			close(fd);
		mock_conn_free(c);
		return;
	}
	c->state = MOCK_STATE_READ_HEAD;
	c->keep_alive = true;
	bufferevent_setcb(c->bev, mock_read_cb, mock_write_cb, mock_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- start-up ---- */

static void mock_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(mock_base);
}

static int mock_write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	/* rename: a test polling for the file never reads half of it */
	return rename(tmp, path);
}

static int mock_parse_listen(const char *s, struct sockaddr_storage *ss, int *len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	char *e;
	long port;
	size_t hlen;

	if (colon == NULL)
		return -1;
	port = strtol(colon + 1, &e, 10);
	if (*e || port < 0 || port > 65535 || colon[1] == '\0')
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, hlen ? host : "0.0.0.0", &a->sin_addr) != 1)
			return -1;
		*len = sizeof(*a);
	}
	return 0;
}

static void mock_usage(FILE *f)
{
	fprintf(f,
	    "usage: mock-upstream [options]\n"
	    "  --listen ADDR:PORT   listen address (default 127.0.0.1:0)\n"
	    "  --port-file FILE     write the bound port to FILE once listening\n"
	    "  --record FILE        append every request as a JSON line\n"
	    "  --tls-cert FILE --tls-key FILE   speak HTTPS\n"
	    "  --events N           default SSE content events per stream (4)\n"
	    "  --delay-ms D         default delay between events / before an answer (0)\n"
	    "  --fail MODE          default failure: none close_mid_stream stall stall_headers\n"
	    "                       invalid_json status_500 status_503 close_immediately\n"
	    "  --reply TEXT         default answer (default: echo the last user message)\n"
	    "  --model NAME         model listed by /v1/models (mock-model)\n"
	    "  --quiet              no start-up message\n"
	    "Per request, a \"mock\" object in the JSON body overrides: events, delay_ms,\n"
	    "fail, reply, split_ms (each SSE event in two chunks, this many ms\n"
	    "apart), split_at (two pieces, the first ending at this byte) and answer_as\n"
	    "(content, tool_call or function_call: chat answers as a call whose\n"
	    "arguments are {\"text\": REPLY}; tool_calls_interleaved: a stream with two\n"
	    "such calls whose pieces alternate). GET /__mock/stats returns counters, POST /__mock/reset zeroes them.\n");
}

static int mock_parse_int(const char *s, int lo, int hi, int *out)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (*s == '\0' || *e || errno || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int mock_parse_args(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_PORT_FILE, O_RECORD, O_CERT, O_KEY, O_EVENTS, O_DELAY, O_FAIL,
		O_REPLY, O_MODEL, O_QUIET, O_HELP };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port-file", required_argument, NULL, O_PORT_FILE },
		{ "record", required_argument, NULL, O_RECORD },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "delay-ms", required_argument, NULL, O_DELAY },
		{ "fail", required_argument, NULL, O_FAIL },
		{ "reply", required_argument, NULL, O_REPLY },
		{ "model", required_argument, NULL, O_MODEL },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_LISTEN: mock_opt.listen = optarg; break;
		case O_PORT_FILE: mock_opt.port_file = optarg; break;
		case O_RECORD: mock_opt.record_path = optarg; break;
		case O_CERT: mock_opt.tls_cert = optarg; break;
		case O_KEY: mock_opt.tls_key = optarg; break;
		case O_EVENTS:
			if (mock_parse_int(optarg, 1, MOCK_MAX_EVENTS, &mock_opt.events) < 0) {
				fprintf(stderr, "mock-upstream: --events: expected 1..%d\n", MOCK_MAX_EVENTS);
				return -1;
			}
			break;
		case O_DELAY:
			if (mock_parse_int(optarg, 0, MOCK_MAX_DELAY_MS, &mock_opt.delay_ms) < 0) {
				fprintf(stderr, "mock-upstream: --delay-ms: expected 0..%d\n", MOCK_MAX_DELAY_MS);
				return -1;
			}
			break;
		case O_FAIL: {
			size_t i, n = sizeof(mock_fail_names) / sizeof(mock_fail_names[0]);

			for (i = 0; i < n; i++)
				if (strcmp(mock_fail_names[i].name, optarg) == 0)
					break;
			if (i == n) {
				fprintf(stderr, "mock-upstream: --fail: unknown mode '%s'\n", optarg);
				return -1;
			}
			mock_opt.fail = mock_fail_names[i].fail;
			break;
		}
		case O_REPLY: mock_opt.reply = optarg; break;
		case O_MODEL: mock_opt.model = optarg; break;
		case O_QUIET: mock_opt.quiet = true; break;
		case O_HELP: mock_usage(stdout); exit(0);
		default: mock_usage(stderr); return -1;
		}
	}
	if (optind != argc || (!mock_opt.tls_cert != !mock_opt.tls_key)) {
		mock_usage(stderr);
		return -1;
	}
	return 0;
}

static int mock_setup_tls(void)
{
	mock_ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (mock_ssl_ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(mock_ssl_ctx, mock_opt.tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(mock_ssl_ctx, mock_opt.tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(mock_ssl_ctx) != 1) {
		unsigned long e = ERR_get_error();
		char msg[256];

		ERR_error_string_n(e, msg, sizeof(msg));
		fprintf(stderr, "mock-upstream: TLS setup (%s, %s): %s\n", mock_opt.tls_cert,
		    mock_opt.tls_key, msg);
		return -1;
	}
	SSL_CTX_set_min_proto_version(mock_ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(mock_ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* tests/fuzz/fuzz_mock_request.c includes this file for its parsers and
 * brings its own entry point. */
#ifndef MOCK_UPSTREAM_NO_MAIN
int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	int sslen;
	struct evconnlistener *l;
	struct event *sigterm, *sigint;
	int port;

	if (mock_parse_args(argc, argv) < 0)
		return 2;
	if (mock_parse_listen(mock_opt.listen, &ss, &sslen) < 0) {
		fprintf(stderr, "mock-upstream: --listen %s: expected ADDR:PORT\n", mock_opt.listen);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mock_opt.tls_cert && mock_setup_tls() < 0)
		return 1;
	if (mock_opt.record_path) {
		mock_record = fopen(mock_opt.record_path, "a");
		if (mock_record == NULL) {
			fprintf(stderr, "mock-upstream: --record %s: %s\n", mock_opt.record_path,
			    strerror(errno));
			return 1;
		}
	}
	mock_base = event_base_new();
	if (mock_base == NULL)
		return 1;
	l = evconnlistener_new_bind(mock_base, mock_accept_cb, NULL,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		fprintf(stderr, "mock-upstream: listen on %s: %s\n", mock_opt.listen, strerror(errno));
		return 1;
	}
	{
		struct sockaddr_storage bound;
		socklen_t blen = sizeof(bound);

		if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&bound, &blen) < 0)
			return 1;
		port = ntohs(bound.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
	}
	if (mock_opt.port_file && mock_write_port_file(mock_opt.port_file, port) < 0) {
		fprintf(stderr, "mock-upstream: --port-file %s: %s\n", mock_opt.port_file,
		    strerror(errno));
		return 1;
	}
	sigterm = evsignal_new(mock_base, SIGTERM, mock_signal_cb, NULL);
	sigint = evsignal_new(mock_base, SIGINT, mock_signal_cb, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	mock_log("listening on port %d (%s)", port, mock_ssl_ctx ? "https" : "http");
	event_base_dispatch(mock_base);
	while (mock_conns)
		mock_conn_free(mock_conns);
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(mock_base);
	if (mock_record)
		fclose(mock_record);
	SSL_CTX_free(mock_ssl_ctx);
	return 0;
}
#endif
