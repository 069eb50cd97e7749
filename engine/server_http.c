/* The serve event loop: OpenAI-compatible routes over libevent's evhttp.
 * Requests are validated, rendered and tokenized here, then handed to the
 * worker (server_worker.c); the replies come back through one event per job.
 * Nothing here logs request or response text. */
#include "engine/chat_template.h"
#include "engine/server.h"

#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>

#define SERVER_HTTP_MAX_BODY	(8u << 20)
#define SERVER_HTTP_MAX_HEADERS	(64u << 10)
/* Backpressure: a stream's slot pauses while more than HIGH bytes wait
 * for its client and resumes below LOW (checked every DRAIN_MS). */
#define SERVER_HTTP_OUT_HIGH	(256u << 10)
#define SERVER_HTTP_OUT_LOW	(64u << 10)
#define SERVER_HTTP_DRAIN_MS	20

struct server {
	const struct server_config *cfg;
	struct event_base *base;
	struct evhttp *http;
	struct model *model;
	struct tokenizer *tok;
	struct server_worker *worker;
	enum chat_template_kind kind;
	int tmpl_named;
	char def_system[1024];
	long def_system_len;	/* -1: none */
	struct server_job *live;	/* every job not freed yet */
	unsigned long n_ids;
	long long started;
};

static const char *const server_http_finish_names[] = {
	[SERVER_FINISH_NONE] = NULL,
	[SERVER_FINISH_STOP] = "stop",
	[SERVER_FINISH_LENGTH] = "length",
	[SERVER_FINISH_ERROR] = NULL,
	[SERVER_FINISH_CANCELLED] = NULL,
};

/* ---- replies ---------------------------------------------------------- */

/* Send a JSON body and free it; the text may hold generated output. */
static void server_http_send_json(struct evhttp_request *req, int code, const char *reason, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);
	struct evbuffer *b = evbuffer_new();

	json_decref(body);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	if (s && b) {
		size_t n = strlen(s);
		evbuffer_add(b, s, n);
		evbuffer_add(b, "\n", 1);
		explicit_bzero(s, n);
		evhttp_send_reply(req, code, reason, b);
	} else {
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	}
	free(s);
	if (b)
		evbuffer_free(b);
}

/* OpenAI-style error: {"error":{"message","type","param","code"}}. */
static void server_http_send_error(struct evhttp_request *req, int code, const char *type,
    const char *ecode, const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void server_http_send_error(struct evhttp_request *req, int code, const char *type,
    const char *ecode, const char *param, const char *fmt, ...)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{ 400, "Bad Request" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 413, "Payload Too Large" }, { 500, "Internal Server Error" }, { 503, "Service Unavailable" },
	};
	const char *reason = "Error";
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == code)
			reason = reasons[i].reason;
	server_http_send_json(req, code, reason, json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error",
	    "message", msg, "type", type, "param", param, "code", ecode));
}

/* Replace invalid UTF-8 with U+FFFD so the text is a valid JSON string
 * (a random-weight model can emit any bytes). */
static json_t *server_http_string(const char *s, size_t n)
{
	char *o = malloc(n * 3 + 1);
	size_t k = 0;
	json_t *r;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		int okay = len > 0 && i + len <= n && c != 0;
		for (size_t t = 1; okay && t < len; t++)
			okay = ((unsigned char)s[i + t] & 0xC0) == 0x80;
		if (okay && len == 2)
			okay = c >= 0xC2;
		if (okay && len == 3) {
			unsigned char d = (unsigned char)s[i + 1];
			okay = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
		}
		if (okay && len == 4) {
			unsigned char d = (unsigned char)s[i + 1];
			okay = c <= 0xF4 && !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
		}
		if (okay) {
			memcpy(o + k, s + i, len);
			k += len;
			i += len;
		} else {
			memcpy(o + k, "\xEF\xBF\xBD", 3);
			k += 3;
			i++;
		}
	}
	r = json_stringn(o, k);
	explicit_bzero(o, n * 3 + 1);
	free(o);
	return r;
}

static json_t *server_http_usage(const struct server_job *j)
{
	return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)j->prompt.n,
	    "completion_tokens", (json_int_t)j->n_gen, "total_tokens", (json_int_t)(j->prompt.n + (size_t)j->n_gen));
}

static json_t *server_http_envelope(const struct server_job *j, const char *object, json_t *choices)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:o}", "id", j->id, "object", object, "created",
	    (json_int_t)j->created, "model", j->srv->cfg->model_name, "choices", choices);
}

/* One choice: chat delta / message or completion text. */
static json_t *server_http_choice(const struct server_job *j, const char *text, size_t n, int with_role,
    const char *finish, int is_final_json)
{
	json_t *c = json_pack("{s:i}", "index", 0);
	json_t *str = text ? server_http_string(text, n) : NULL;

	if (!c)
		return NULL;
	if (j->rq.chat) {
		json_t *m = json_object();
		if (with_role)
			json_object_set_new(m, "role", json_string("assistant"));
		if (str)
			json_object_set_new(m, "content", str);
		json_object_set_new(c, is_final_json ? "message" : "delta", m);
	} else {
		json_object_set_new(c, "text", str ? str : json_string(""));
		json_object_set_new(c, "logprobs", json_null());
	}
	json_object_set_new(c, "finish_reason", finish ? json_string(finish) : json_null());
	return c;
}

static void server_http_send_event(struct evhttp_request *req, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	struct evbuffer *b = evbuffer_new();

	json_decref(obj);
	if (s && b) {
		size_t n = strlen(s);
		evbuffer_add_printf(b, "data: %s\n\n", s);
		explicit_bzero(s, n);
		evhttp_send_reply_chunk(req, b);
	}
	free(s);
	if (b) {
		evbuffer_free(b);
	}
}

/* ---- job lifetime ----------------------------------------------------- */

static void server_http_job_free(struct server_job *j)
{
	struct server *srv = j->srv;

	if (j->live_prev)
		j->live_prev->live_next = j->live_next;
	else if (srv->live == j)
		srv->live = j->live_next;
	if (j->live_next)
		j->live_next->live_prev = j->live_prev;
	if (j->ev)
		event_free(j->ev);
	if (j->drain_ev)
		event_free(j->drain_ev);
	if (j->watch_ev)
		event_free(j->watch_ev);
	if (j->prompt.v)
		explicit_bzero(j->prompt.v, j->prompt.cap * sizeof *j->prompt.v);
	tokenizer_ids_free(&j->prompt);
	server_request_free(&j->rq);
	if (j->text)
		explicit_bzero(j->text, j->cap);
	free(j->text);
	free(j);
}

static void server_http_unwatch(struct server_job *j)
{
	if (j->watch_ev)
		event_free(j->watch_ev);
	j->watch_ev = NULL;
}

/* The client's connection closed before its answer was complete. */
static void server_http_closed(struct evhttp_connection *evcon, void *arg)
{
	struct server_job *j = arg;
	struct evhttp_request *req = j->http;

	(void)evcon;
	server_http_unwatch(j);
	j->http = NULL;
	/* libevent detaches a request the handler has not finished when its
	 * client goes away (evcon NULL) and leaves freeing it to us; one still
	 * attached (server shutdown) is freed with its connection */
	if (req && !evhttp_request_get_connection(req))
		evhttp_request_free(req);
	server_worker_cancel(j->srv->worker, j);
}

/* evhttp reads nothing from a connection while its request is being
 * answered, so a client that hangs up during a (non-streamed) generation
 * would go unnoticed until the answer is written.  The job watches the
 * socket itself: readable with nothing to read is the hang-up. */
static void server_http_on_client(evutil_socket_t fd, short what, void *arg)
{
	struct server_job *j = arg;
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)what;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	server_http_unwatch(j);
	if (r > 0 || !j->http)
		return;	/* a pipelined request: evhttp reads it after this answer */
	struct evhttp_connection *evcon = evhttp_request_get_connection(j->http);
	if (evcon)
		evhttp_connection_free(evcon);	/* calls server_http_closed */
	if (j->http) {
		j->http = NULL;
		server_worker_cancel(j->srv->worker, j);
	}
}

static void server_http_watch(struct server_job *j)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(j->http);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;

	if (fd < 0)
		return;
	j->watch_ev = event_new(j->srv->base, fd, EV_READ | EV_PERSIST, server_http_on_client, j);
	if (j->watch_ev && event_add(j->watch_ev, NULL) != 0)
		server_http_unwatch(j);
}

/* Stop watching the connection: the job is answered. */
static void server_http_detach(struct server_job *j)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(j->http);

	server_http_unwatch(j);
	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
}

static void server_http_finish_stream(struct server_job *j)
{
	const char *fin = server_http_finish_names[j->finish];
	const char *object = j->rq.chat ? "chat.completion.chunk" : "text_completion";

	if (j->finish == SERVER_FINISH_ERROR) {
		server_http_send_event(j->http, json_pack("{s:{s:s,s:s,s:n,s:n}}", "error",
		    "message", j->err, "type", "server_error", "param", "code"));
	} else {
		server_http_send_event(j->http, server_http_envelope(j, object,
		    json_pack("[o]", server_http_choice(j, NULL, 0, 0, fin, 0))));
		if (j->rq.include_usage) {
			json_t *u = server_http_envelope(j, object, json_array());
			json_object_set_new(u, "usage", server_http_usage(j));
			server_http_send_event(j->http, u);
		}
	}
	struct evbuffer *b = evbuffer_new();
	if (b) {
		evbuffer_add_printf(b, "data: [DONE]\n\n");
		evhttp_send_reply_chunk(j->http, b);
		evbuffer_free(b);
	}
	server_http_detach(j);
	evhttp_send_reply_end(j->http);
	j->http = NULL;
}

static void server_http_finish_json(struct server_job *j, const char *text, size_t n)
{
	if (j->finish == SERVER_FINISH_ERROR) {
		server_http_detach(j);
		server_http_send_error(j->http, 500, "server_error", NULL, NULL, "%s", j->err);
		j->http = NULL;
		return;
	}
	json_t *body = server_http_envelope(j, j->rq.chat ? "chat.completion" : "text_completion",
	    json_pack("[o]", server_http_choice(j, text, n, 1, server_http_finish_names[j->finish], 1)));
	if (body)
		json_object_set_new(body, "usage", server_http_usage(j));
	server_http_detach(j);
	if (!body)
		server_http_send_error(j->http, 500, "server_error", NULL, NULL, "out of memory");
	else
		server_http_send_json(j->http, 200, "OK", body);
	j->http = NULL;
}

/* Bytes waiting to go out to the job's client. */
static size_t server_http_out_len(const struct server_job *j)
{
	struct evhttp_connection *evcon = j->http ? evhttp_request_get_connection(j->http) : NULL;
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void server_http_on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct server_job *j = arg;
	struct timeval tv = { 0, SERVER_HTTP_DRAIN_MS * 1000 };

	(void)fd;
	(void)what;
	if (!j->http || server_http_out_len(j) < SERVER_HTTP_OUT_LOW)
		server_worker_pause(j->srv->worker, j, 0);
	else
		evtimer_add(j->drain_ev, &tv);
}

/* Pause the slot while its client lags behind. */
static void server_http_backpressure(struct server_job *j)
{
	struct timeval tv = { 0, SERVER_HTTP_DRAIN_MS * 1000 };

	if (atomic_load(&j->paused) || server_http_out_len(j) <= SERVER_HTTP_OUT_HIGH)
		return;
	if (!j->drain_ev)
		j->drain_ev = evtimer_new(j->srv->base, server_http_on_drain, j);
	if (!j->drain_ev)
		return;
	server_worker_pause(j->srv->worker, j, 1);
	evtimer_add(j->drain_ev, &tv);
}

/* The worker published text or finished a job. */
static void server_http_on_job(evutil_socket_t fd, short what, void *arg)
{
	struct server_job *j = arg;
	size_t n;
	int done;
	char *text;

	(void)fd;
	(void)what;
	if (j->rq.stream) {
		text = server_worker_take(j->srv->worker, j, &n, &done);
		if (text && j->http)
			server_http_send_event(j->http, server_http_envelope(j, j->rq.chat ? "chat.completion.chunk" :
			    "text_completion", json_pack("[o]", server_http_choice(j, text, n, 0, NULL, 0))));
		if (j->http && !done)
			server_http_backpressure(j);
	} else {
		/* the whole answer at once; once done is set the worker no
		 * longer touches the text */
		done = server_worker_done(j->srv->worker, j);
		text = done ? j->text : NULL;
		n = done ? j->len : 0;
	}
	if (done && j->http) {
		if (j->rq.stream)
			server_http_finish_stream(j);
		else
			server_http_finish_json(j, text, n);
	}
	if (j->rq.stream && text) {
		explicit_bzero(text, n);
		free(text);
	}
	if (done)
		server_http_job_free(j);
}

/* ---- request parsing -------------------------------------------------- */

/* Copy the request body out of libevent's buffer (wiped afterwards). */
static char *server_http_body(struct evhttp_request *req, size_t *n)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *b = malloc(len + 1);

	if (!b)
		return NULL;
	evbuffer_remove(in, b, len);
	b[len] = '\0';
	*n = len;
	return b;
}

/* Render the messages with the chat template (or take the raw prompt) and
 * tokenize; -1 with a message for the client. */
static int server_http_tokenize(struct server *srv, struct server_job *j, char *err, size_t errlen)
{
	struct server_request *r = &j->rq;
	struct chat_prompt cp = { 0 };
	struct chat_message *all = NULL;
	int rc;

	if (!r->chat)
		return tokenizer_encode(srv->tok, r->prompt, r->prompt_len, TOKENIZER_ENCODE_ADD_SPECIAL |
		    TOKENIZER_ENCODE_PARSE_SPECIAL, &j->prompt, err, errlen);
	const struct chat_message *msgs = r->msgs;
	size_t n = r->n_msgs;
	/* as the template itself does: its default system turn when none is given */
	if (!r->has_system && srv->def_system_len > 0) {
		all = calloc(n + 1, sizeof *all);
		if (!all) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		all[0] = (struct chat_message){ "system", srv->def_system, (size_t)srv->def_system_len };
		memcpy(all + 1, r->msgs, n * sizeof *all);
		msgs = all;
		n++;
	}
	rc = chat_template_apply(srv->kind, msgs, n, CHAT_TEMPLATE_ADD_ASSISTANT |
	    (r->no_think ? CHAT_TEMPLATE_NO_THINK : 0), &cp, err, errlen);
	if (rc == 0)
		rc = tokenizer_encode_masked(srv->tok, cp.text, cp.len, TOKENIZER_ENCODE_ADD_SPECIAL |
		    TOKENIZER_ENCODE_PARSE_SPECIAL, cp.mask, &j->prompt, err, errlen);
	chat_prompt_free(&cp);
	free(all);
	return rc;
}

static void server_http_generate(struct server *srv, struct evhttp_request *req, int chat)
{
	struct server_request_error e;
	struct server_job *j;
	size_t n = 0;
	char *raw;
	char err[256];
	int rc, busy, queued, paused;

	/* a bounded queue: a flood of requests gets 503s, not unbounded memory */
	server_worker_stats(srv->worker, &busy, &queued, &paused);
	if (busy == srv->cfg->n_parallel && queued >= srv->cfg->max_queue) {
		server_http_send_error(req, 503, "server_error", "server_overloaded", NULL,
		    "all %d slots are busy and %d requests are waiting; retry later", busy, queued);
		return;
	}
	raw = server_http_body(req, &n);
	j = calloc(1, sizeof *j);
	if (!raw || !j) {
		free(raw);
		free(j);
		server_http_send_error(req, 500, "server_error", NULL, NULL, "out of memory");
		return;
	}
	j->srv = srv;
	srv->n_ids++;
	rc = server_request_parse(&j->rq, raw, n, chat, (uint64_t)time(NULL) * 2654435761u ^ srv->n_ids, &e);
	explicit_bzero(raw, n);
	free(raw);
	if (rc != 0) {
		server_http_send_error(req, 400, "invalid_request_error", e.code, e.param, "%s", e.message);
		goto fail;
	}
	if (server_http_tokenize(srv, j, err, sizeof err) != 0) {
		server_http_send_error(req, 400, "invalid_request_error", NULL, chat ? "messages" : "prompt", "%s", err);
		goto fail;
	}
	server_request_drop_text(&j->rq);
	uint32_t n_ctx = srv->cfg->n_ctx;
	long max = j->rq.max_tokens;
	if (j->prompt.n == 0) {
		server_http_send_error(req, 400, "invalid_request_error", NULL, NULL, "the prompt has no tokens");
		goto fail;
	}
	if (j->prompt.n >= n_ctx || (max > 0 && j->prompt.n + (size_t)max > n_ctx)) {
		server_http_send_error(req, 400, "invalid_request_error", "context_length_exceeded",
		    chat ? "messages" : "prompt",
		    "this model's context is %u tokens; the prompt has %zu and %ld more were asked for",
		    n_ctx, j->prompt.n, max > 0 ? max : 1L);
		goto fail;
	}
	if (max < 0)
		j->rq.max_tokens = (long)(n_ctx - j->prompt.n);
	j->ev = event_new(srv->base, -1, 0, server_http_on_job, j);
	if (!j->ev) {
		server_http_send_error(req, 500, "server_error", NULL, NULL, "out of memory");
		goto fail;
	}
	snprintf(j->id, sizeof j->id, "%s-%llx%06lx", chat ? "chatcmpl" : "cmpl",
	    (unsigned long long)time(NULL), srv->n_ids & 0xFFFFFFul);
	j->created = (long long)time(NULL);
	j->http = req;
	j->live_next = srv->live;
	if (srv->live)
		srv->live->live_prev = j;
	srv->live = j;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), server_http_closed, j);
	server_http_watch(j);
	if (j->rq.stream) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Content-Type", "text/event-stream");
		evhttp_add_header(h, "Cache-Control", "no-cache");
		evhttp_send_reply_start(req, 200, "OK");
		/* the role comes first, as OpenAI streams it */
		if (chat)
			server_http_send_event(req, server_http_envelope(j, "chat.completion.chunk",
			    json_pack("[o]", server_http_choice(j, "", 0, 1, NULL, 0))));
	}
	server_worker_submit(srv->worker, j);
	return;
fail:
	server_http_job_free(j);
}

/* ---- routes ----------------------------------------------------------- */

static void server_http_chat(struct server *srv, struct evhttp_request *req)
{
	server_http_generate(srv, req, 1);
}

static void server_http_completions(struct server *srv, struct evhttp_request *req)
{
	server_http_generate(srv, req, 0);
}

static void server_http_models(struct server *srv, struct evhttp_request *req)
{
	server_http_send_json(req, 200, "OK", json_pack("{s:s,s:[{s:s,s:s,s:I,s:s,s:{s:I}}]}", "object", "list",
	    "data", "id", srv->cfg->model_name, "object", "model", "created", (json_int_t)srv->started,
	    "owned_by", "hafen", "meta", "n_ctx", (json_int_t)srv->cfg->n_ctx));
}

static void server_http_health(struct server *srv, struct evhttp_request *req)
{
	int busy, queued, paused;

	server_worker_stats(srv->worker, &busy, &queued, &paused);
	server_http_send_json(req, 200, "OK", json_pack("{s:s,s:i,s:i,s:i,s:i}", "status", "ok",
	    "slots_idle", srv->cfg->n_parallel - busy, "slots_processing", busy, "slots_paused", paused,
	    "requests_queued", queued));
}

static const struct {
	const char *path;
	enum evhttp_cmd_type method;
	void (*handle)(struct server *, struct evhttp_request *);
} server_http_routes[] = {
	{ "/v1/chat/completions", EVHTTP_REQ_POST, server_http_chat },
	{ "/v1/completions", EVHTTP_REQ_POST, server_http_completions },
	{ "/v1/models", EVHTTP_REQ_GET, server_http_models },
	{ "/health", EVHTTP_REQ_GET, server_http_health },
};

static void server_http_dispatch(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = strcspn(uri, "?#");
	int path_found = 0;

	for (size_t i = 0; i < sizeof server_http_routes / sizeof server_http_routes[0]; i++) {
		if (strlen(server_http_routes[i].path) != plen || strncmp(uri, server_http_routes[i].path, plen) != 0)
			continue;
		path_found = 1;
		if (evhttp_request_get_command(req) == server_http_routes[i].method) {
			server_http_routes[i].handle(srv, req);
			return;
		}
	}
	if (path_found)
		server_http_send_error(req, 405, "invalid_request_error", "method_not_allowed", NULL, "method not allowed here");
	else
		server_http_send_error(req, 404, "invalid_request_error", "not_found", NULL, "no such endpoint");
}

static void server_http_on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* ---- start-up --------------------------------------------------------- */

static int server_http_load(struct server *srv, char *err, size_t errlen)
{
	const struct server_config *cfg = srv->cfg;
	size_t tl;

	srv->model = model_load_mode(cfg->model_path, cfg->load, err, errlen);
	if (!srv->model)
		return -1;
	srv->tok = tokenizer_load(model_gguf(srv->model), err, errlen);
	if (!srv->tok)
		return -1;
	if ((uint32_t)tokenizer_n_vocab(srv->tok) > model_hparams(srv->model)->n_vocab) {
		snprintf(err, errlen, "the vocabulary (%d tokens) is larger than the model's output (%u)",
		    tokenizer_n_vocab(srv->tok), model_hparams(srv->model)->n_vocab);
		return -1;
	}
	const char *tmpl = tokenizer_chat_template(srv->tok, &tl);
	if (chat_template_select(cfg->chat_template, tmpl, tl, &srv->kind, err, errlen) != 0)
		return -1;
	srv->def_system_len = -1;
	if (!cfg->chat_template && srv->kind == CHAT_TEMPLATE_KIND_CHATML)
		srv->def_system_len = chat_template_default_system(tmpl, tl, srv->def_system, sizeof srv->def_system);
	srv->worker = server_worker_new(srv->model, srv->tok, cfg->n_parallel, cfg->n_ctx, cfg->n_threads, err, errlen);
	return srv->worker ? 0 : -1;
}

static int server_http_listen(struct server *srv, char *err, size_t errlen)
{
	const struct server_config *cfg = srv->cfg;
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	srv->http = evhttp_new(srv->base);
	if (!srv->http) {
		snprintf(err, errlen, "cannot create the HTTP server");
		return -1;
	}
	evhttp_set_max_body_size(srv->http, SERVER_HTTP_MAX_BODY);
	evhttp_set_max_headers_size(srv->http, SERVER_HTTP_MAX_HEADERS);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	evhttp_set_timeout(srv->http, 600);
	evhttp_set_gencb(srv->http, server_http_dispatch, srv);
	bs = evhttp_bind_socket_with_handle(srv->http, cfg->host, (ev_uint16_t)cfg->port);
	if (!bs) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->host, cfg->port, strerror(errno));
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
			port = ntohs(a->sin6_port);
		}
	}
	fprintf(stderr, "hafen-engine serve: listening on http://%s:%d (model %s, %d slots of %u tokens)\n",
	    host, port, cfg->model_name, cfg->n_parallel, cfg->n_ctx);
	return 0;
}

/* jansson's buffers hold request and answer text: wipe them when freed. */
static void *server_http_json_malloc(size_t n)
{
	return malloc(n);
}

static void server_http_json_free(void *p)
{
	if (p)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

int server_http_run(const struct server_config *cfg, char *err, size_t errlen)
{
	struct server srv = { .cfg = cfg, .started = (long long)time(NULL) };
	struct event *sigint = NULL, *sigterm = NULL;
	int rc = -1;

	/* the worker wakes the loop from its own thread */
	if (evthread_use_pthreads() != 0) {
		snprintf(err, errlen, "libevent has no thread support");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	json_set_alloc_funcs(server_http_json_malloc, server_http_json_free);
	srv.base = event_base_new();
	if (!srv.base) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	if (server_http_load(&srv, err, errlen) != 0 || server_http_listen(&srv, err, errlen) != 0)
		goto done;
	sigint = evsignal_new(srv.base, SIGINT, server_http_on_signal, srv.base);
	sigterm = evsignal_new(srv.base, SIGTERM, server_http_on_signal, srv.base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0) {
		snprintf(err, errlen, "cannot watch signals");
		goto done;
	}
	if (event_base_dispatch(srv.base) < 0) {
		snprintf(err, errlen, "the event loop failed");
		goto done;
	}
	fprintf(stderr, "hafen-engine serve: shutting down\n");
	rc = 0;
done:
	/* closing the connections cancels their jobs; then the worker stops and
	 * whatever jobs are left are freed here */
	if (srv.http)
		evhttp_free(srv.http);
	server_worker_free(srv.worker);
	while (srv.live)
		server_http_job_free(srv.live);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	tokenizer_free(srv.tok);
	model_free(srv.model);
	event_base_free(srv.base);
	explicit_bzero(srv.def_system, sizeof srv.def_system);
	return rc;
}
