/* hafen-engine serve: an OpenAI-compatible HTTP server over the engine.
 *
 * Two threads.  The event loop (server_http.c, libevent evhttp) parses
 * requests, renders and tokenizes prompts, answers errors and writes the
 * replies; it never runs the model.  The worker (server_worker.c) owns
 * --parallel slots, each with its own model context (KV cache) and sampler,
 * all on one thread pool, and interleaves them: every iteration admits
 * queued jobs into free slots and gives each active slot one step (a chunk
 * of up to 64 prompt tokens, or one sampled token; the sampled tokens of
 * all slots go through one batched forward pass), so concurrent clients
 * share the model fairly.
 *
 * A job is shared by the two threads.  The loop fills it before
 * server_worker_submit and only reads it afterwards; the worker appends
 * text and finally sets done, both under the worker's mutex, and wakes the
 * loop with event_active on job->ev.  After setting done the worker never
 * touches the job again, and the loop frees it when it sees done.  A client
 * that goes away sets cancelled; the worker then frees the slot at its next
 * iteration and reports done like for any other end.  A streaming client
 * that reads slower than the model writes gets its slot paused while its
 * output buffer is above a high watermark (backpressure) and resumed below
 * a low one; the other slots go on.
 */
#ifndef HAFEN_ENGINE_SERVER_H
#define HAFEN_ENGINE_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/server_request.h"
#include "engine/tokenizer.h"

struct event;
struct evhttp_request;

enum server_finish {
	SERVER_FINISH_NONE = 0,
	SERVER_FINISH_STOP,	/* end-of-generation token or stop string */
	SERVER_FINISH_LENGTH,	/* max_tokens or a full context */
	SERVER_FINISH_ERROR,	/* the model failed: err says why */
	SERVER_FINISH_CANCELLED,	/* the client went away */
};

struct server_job {
	/* Set by the loop before submitting; read-only afterwards. */
	struct server_request rq;	/* settings; its text is dropped once tokenized */
	struct tokenizer_ids prompt;
	struct event *ev;	/* the loop's wake-up for this job */
	struct event *drain_ev;	/* loop: polls a paused client's output */
	struct event *watch_ev;	/* loop: notices the client hanging up */

	/* Shared: written by the worker under its mutex. */
	char *text;		/* generated text published so far */
	size_t len, cap;
	int done;
	enum server_finish finish;
	long n_gen;		/* tokens sampled (end-of-generation excluded) */
	char err[256];
	atomic_int cancelled;	/* set by the loop, read by the worker */
	atomic_int paused;	/* the client reads slower than we generate */

	/* Worker only: the pending queue. */
	struct server_job *next;

	/* Loop only (server_http.c). */
	struct server *srv;
	struct evhttp_request *http;	/* NULL once answered or disconnected */
	struct server_job *live_prev, *live_next;
	size_t sent;		/* bytes of text streamed so far */
	char id[40];
	long long created;
};

struct server_worker;

/* n_parallel slots of n_ctx tokens, each context with n_threads threads. */
struct server_worker *server_worker_new(struct model *m, const struct tokenizer *t,
    int n_parallel, uint32_t n_ctx, int n_threads, char *err, size_t errlen);
/* Queue a job; it is picked up in order as slots free up. */
int server_worker_submit(struct server_worker *w, struct server_job *j);
/* The client went away: free the job's slot at the next step. */
void server_worker_cancel(struct server_worker *w, struct server_job *j);
/* Pause a job's slot (the client's output buffer is full) or resume it. */
void server_worker_pause(struct server_worker *w, struct server_job *j, int paused);
/* Copy the text published after *sent and the done state, under the lock.
 * Returns a malloc'd copy (or NULL when there is nothing new) of *n bytes. */
char *server_worker_take(struct server_worker *w, struct server_job *j, size_t *n, int *done);
/* Whether the worker has finished with the job (under the lock). */
int server_worker_done(struct server_worker *w, struct server_job *j);
/* Slots in use and jobs waiting for one. */
void server_worker_stats(struct server_worker *w, int *busy, int *queued, int *paused);
/* Stops and joins the worker; jobs it still held are marked done (not freed). */
void server_worker_free(struct server_worker *w);

struct server_config {
	const char *model_path;
	const char *model_name;	/* the id /v1/models reports */
	const char *host;
	int port;		/* 0: any free port (printed on stderr) */
	int n_threads;
	uint32_t n_ctx;
	int n_parallel;
	int max_queue;		/* requests waiting for a slot before 503s */
	const char *chat_template;	/* NULL: detect from the model */
	enum gguf_load load;	/* how the file is brought into memory (0: GGUF_LOAD_AUTO) */
};

/* Load the model, listen and serve until SIGINT or SIGTERM.  Returns 0 on a
 * clean shutdown, -1 with a message when start-up fails. */
int server_http_run(const struct server_config *cfg, char *err, size_t errlen);

#endif
