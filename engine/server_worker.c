/* The serve worker: one thread running the model for up to n_parallel
 * sequences.  Each iteration gives every active slot exactly one step,
 * which keeps the time between tokens of concurrent streams equal: a new
 * slot gets a chunk of its prefill, and all slots that are decoding
 * sample their next token and then run one forward pass together
 * (model_forward_multi: continuous batching, each weight matrix read once
 * per step for all of them).  The slots' contexts share one thread pool (the first slot's), so
 * idle slots have no workers competing for the cores.  See engine/server.h
 * for the job protocol. */
#include "engine/server.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct server_slot {
	struct model_ctx *ctx;
	float *logits;
	struct sampler *smp;
	struct server_job *job;
	int prefilled;
	size_t fed;		/* prompt tokens through the model so far */
	struct tokenizer_stream st;
	char *out;		/* everything generated, for the stop strings */
	size_t out_len, out_cap, shown;
	long n_gen;
};

struct server_worker {
	struct model *model;
	const struct tokenizer *tok;
	uint32_t n_ctx, n_vocab;
	struct server_slot *slots;
	int n_slots;
	float *logits;		/* [n_slots][n_vocab]: slot i's row is i */
	/* one batched decoding step: the slots' contexts, tokens and rows */
	struct model_ctx **step_ctx;
	int32_t *step_tok, *step_row;
	char *piece;		/* tokenizer_max_piece + 8 */
	size_t piece_cap;

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct server_job *queue, **queue_tail;
};

static void server_worker_wake(struct server_job *j)
{
	event_active(j->ev, EV_READ, 0);
}

/* Append bytes to a job's published text; the caller holds the mutex. */
static int server_worker_publish(struct server_job *j, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (j->len + n + 1 > j->cap) {
		size_t nc = (j->len + n + 1) * 2;
		char *nt = malloc(nc);
		if (!nt)
			return -1;
		if (j->len)
			memcpy(nt, j->text, j->len);
		if (j->text)
			explicit_bzero(j->text, j->cap);
		free(j->text);
		j->text = nt;
		j->cap = nc;
	}
	memcpy(j->text + j->len, s, n);
	j->len += n;
	j->text[j->len] = '\0';
	return 0;
}

static void server_worker_slot_clear(struct server_slot *s)
{
	sampler_free(s->smp);
	s->smp = NULL;
	if (s->out)
		explicit_bzero(s->out, s->out_cap);
	free(s->out);
	s->out = NULL;
	s->out_len = s->out_cap = s->shown = 0;
	memset(&s->st, 0, sizeof s->st);
	s->n_gen = 0;
	s->prefilled = 0;
	s->fed = 0;
	s->job = NULL;
}

/* End a job: the last write the worker makes to it. */
static void server_worker_finish(struct server_worker *w, struct server_slot *s,
    enum server_finish why, const char *err)
{
	struct server_job *j = s->job;

	pthread_mutex_lock(&w->mu);
	j->finish = why;
	j->n_gen = s->n_gen;
	if (err)
		snprintf(j->err, sizeof j->err, "%s", err);
	j->done = 1;
	server_worker_wake(j);
	pthread_mutex_unlock(&w->mu);
	server_worker_slot_clear(s);
}

static int server_worker_out_add(struct server_slot *s, const char *p, size_t n)
{
	if (s->out_len + n + 1 > s->out_cap) {
		size_t nc = (s->out_len + n + 1) * 2;
		char *nt = malloc(nc);
		if (!nt)
			return -1;
		if (s->out_len)
			memcpy(nt, s->out, s->out_len);
		if (s->out)
			explicit_bzero(s->out, s->out_cap);
		free(s->out);
		s->out = nt;
		s->out_cap = nc;
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	return 0;
}

/* Do not end a published piece inside a UTF-8 sequence: clients decode
 * each streamed chunk on its own. */
static size_t server_worker_utf8_cut(const char *s, size_t from, size_t to)
{
	size_t i = to, back = 0;

	while (i > from && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		back++;
	}
	if (i > from) {
		unsigned char c = (unsigned char)s[i - 1];
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (need > back + 1)
			return i - 1;
	}
	return to;
}

/* Publish what no stop string can still claim; 1 when one matched. */
static int server_worker_flush(struct server_worker *w, struct server_slot *s, int final)
{
	struct server_job *j = s->job;
	size_t safe = s->out_len;
	long at = -1;
	int r = 0;

	if (j->rq.n_stops)
		at = sampler_stop_find(s->out, s->out_len, (const char *const *)j->rq.stops, j->rq.n_stops, &safe);
	if (at >= 0)
		safe = (size_t)at;
	else if (final)
		safe = s->out_len;
	else
		safe = server_worker_utf8_cut(s->out, s->shown, safe);
	if (safe > s->shown) {
		pthread_mutex_lock(&w->mu);
		r = server_worker_publish(j, s->out + s->shown, safe - s->shown);
		if (r == 0)
			server_worker_wake(j);
		pthread_mutex_unlock(&w->mu);
		if (r != 0)
			return -1;
		s->shown = safe;
	}
	return at >= 0;
}

/* Prompt tokens per iteration: a long prompt is fed in chunks so that the
 * other slots keep streaming (one token each per chunk) meanwhile; chunks
 * of the model's batch size compute exactly what one call would. */
#define SERVER_WORKER_PREFILL_CHUNK 64

static void server_worker_prefill(struct server_worker *w, struct server_slot *s)
{
	struct server_job *j = s->job;
	char err[256];

	if (s->fed == 0) {
		model_ctx_reset(s->ctx);
		s->smp = sampler_new(&j->rq.sp, (int32_t)w->n_vocab, err, sizeof err);
		if (!s->smp) {
			server_worker_finish(w, s, SERVER_FINISH_ERROR, err);
			return;
		}
		for (size_t i = 0; i < j->prompt.n; i++)
			sampler_accept(s->smp, j->prompt.v[i]);
	}
	size_t k = j->prompt.n - s->fed;
	if (k > SERVER_WORKER_PREFILL_CHUNK)
		k = SERVER_WORKER_PREFILL_CHUNK;
	if (model_forward(s->ctx, j->prompt.v + s->fed, (uint32_t)k, s->logits, 0, err, sizeof err) != 0) {
		server_worker_finish(w, s, SERVER_FINISH_ERROR, err);
		return;
	}
	s->fed += k;
	s->prefilled = s->fed == j->prompt.n;
}

/* One token: sample, publish, check the ends.  1 when the slot goes on
 * and needs the forward pass of *next (batched by the caller). */
static int server_worker_sample(struct server_worker *w, struct server_slot *s, int32_t *next)
{
	struct server_job *j = s->job;
	int32_t id = sampler_sample(s->smp, s->logits);
	size_t k;
	int r;

	if (tokenizer_is_eog(w->tok, id)) {
		k = tokenizer_stream_flush(&s->st, w->piece);
		if (server_worker_out_add(s, w->piece, k) != 0 || server_worker_flush(w, s, 1) < 0)
			goto oom;
		server_worker_finish(w, s, SERVER_FINISH_STOP, NULL);
		return 0;
	}
	sampler_accept(s->smp, id);
	s->n_gen++;
	k = tokenizer_stream_push(w->tok, &s->st, id, 0, w->piece);
	if (server_worker_out_add(s, w->piece, k) != 0)
		goto oom;
	int last = s->n_gen >= j->rq.max_tokens || model_ctx_pos(s->ctx) >= w->n_ctx;
	if (last) {
		k = tokenizer_stream_flush(&s->st, w->piece);
		if (server_worker_out_add(s, w->piece, k) != 0)
			goto oom;
	}
	r = server_worker_flush(w, s, last);
	if (r < 0)
		goto oom;
	if (r > 0) {
		server_worker_finish(w, s, SERVER_FINISH_STOP, NULL);
		return 0;
	}
	if (last) {
		server_worker_finish(w, s, SERVER_FINISH_LENGTH, NULL);
		return 0;
	}
	*next = id;
	return 1;
oom:
	server_worker_finish(w, s, SERVER_FINISH_ERROR, "out of memory");
	return 0;
}

/* The forward pass of the tokens sampled in this iteration, all slots at
 * once; a failure ends each of them with the error. */
static void server_worker_decode(struct server_worker *w, int n)
{
	char err[256];
	if (n == 0 || model_forward_multi(w->step_ctx, w->step_tok, (uint32_t)n, w->logits, w->step_row, err,
			      sizeof err) == 0)
		return;
	for (int i = 0; i < n; i++)
		server_worker_finish(w, &w->slots[w->step_row[i]], SERVER_FINISH_ERROR, err);
}

/* Whether a slot has work: a job that is not paused (or is cancelled). */
static int server_worker_runnable(const struct server_worker *w)
{
	for (int i = 0; i < w->n_slots; i++) {
		const struct server_job *j = w->slots[i].job;
		if (j && (!atomic_load(&j->paused) || atomic_load(&j->cancelled)))
			return 1;
	}
	return 0;
}

static int server_worker_has_free_slot(const struct server_worker *w)
{
	for (int i = 0; i < w->n_slots; i++)
		if (!w->slots[i].job)
			return 1;
	return 0;
}

static void *server_worker_main(void *arg)
{
	struct server_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !(w->queue && server_worker_has_free_slot(w)) && !server_worker_runnable(w))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		/* admit queued jobs into free slots, oldest first */
		for (int i = 0; i < w->n_slots && w->queue; i++) {
			if (w->slots[i].job)
				continue;
			struct server_job *j = w->queue;
			w->queue = j->next;
			if (!w->queue)
				w->queue_tail = &w->queue;
			j->next = NULL;
			w->slots[i].job = j;
		}
		pthread_mutex_unlock(&w->mu);
		int n = 0;
		for (int i = 0; i < w->n_slots; i++) {
			struct server_slot *s = &w->slots[i];
			if (!s->job)
				continue;
			if (atomic_load(&s->job->cancelled))
				server_worker_finish(w, s, SERVER_FINISH_CANCELLED, NULL);
			else if (atomic_load(&s->job->paused))
				continue;
			else if (!s->prefilled)
				server_worker_prefill(w, s);
			else if (server_worker_sample(w, s, &w->step_tok[n])) {
				w->step_ctx[n] = s->ctx;
				w->step_row[n++] = i;
			}
		}
		server_worker_decode(w, n);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct server_worker *server_worker_new(struct model *m, const struct tokenizer *t,
    int n_parallel, uint32_t n_ctx, int n_threads, char *err, size_t errlen)
{
	struct server_worker *w = calloc(1, sizeof *w);

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->model = m;
	w->tok = t;
	w->n_ctx = n_ctx;
	w->n_vocab = model_hparams(m)->n_vocab;
	w->queue_tail = &w->queue;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->piece_cap = tokenizer_max_piece(t) + 8;
	w->piece = malloc(w->piece_cap);
	w->slots = calloc((size_t)n_parallel, sizeof *w->slots);
	w->logits = malloc((size_t)n_parallel * w->n_vocab * sizeof *w->logits);
	w->step_ctx = calloc((size_t)n_parallel, sizeof *w->step_ctx);
	w->step_tok = calloc((size_t)n_parallel, sizeof *w->step_tok);
	w->step_row = calloc((size_t)n_parallel, sizeof *w->step_row);
	if (!w->piece || !w->slots || !w->logits || !w->step_ctx || !w->step_tok || !w->step_row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w->n_slots = n_parallel;
	for (int i = 0; i < n_parallel; i++) {
		struct server_slot *s = &w->slots[i];
		s->ctx = i == 0 ? model_ctx_new(m, n_ctx, n_threads, err, errlen) :
			model_ctx_new_sharing(m, n_ctx, w->slots[0].ctx, err, errlen);
		if (!s->ctx)
			goto fail;
		s->logits = w->logits + (size_t)i * w->n_vocab;
	}
	if (pthread_create(&w->thread, NULL, server_worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start the worker thread");
		goto fail;
	}
	w->started = 1;
	return w;
fail:
	server_worker_free(w);
	return NULL;
}

int server_worker_submit(struct server_worker *w, struct server_job *j)
{
	pthread_mutex_lock(&w->mu);
	j->next = NULL;
	*w->queue_tail = j;
	w->queue_tail = &j->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void server_worker_cancel(struct server_worker *w, struct server_job *j)
{
	atomic_store(&j->cancelled, 1);
	pthread_mutex_lock(&w->mu);
	/* a job still queued ends here, without waiting for a slot */
	for (struct server_job **p = &w->queue; *p; p = &(*p)->next) {
		if (*p != j)
			continue;
		*p = j->next;
		if (!*p)
			w->queue_tail = p;
		j->finish = SERVER_FINISH_CANCELLED;
		j->done = 1;
		server_worker_wake(j);
		break;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void server_worker_pause(struct server_worker *w, struct server_job *j, int paused)
{
	pthread_mutex_lock(&w->mu);
	atomic_store(&j->paused, paused);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

char *server_worker_take(struct server_worker *w, struct server_job *j, size_t *n, int *done)
{
	char *copy = NULL;

	pthread_mutex_lock(&w->mu);
	*n = 0;
	if (j->len > j->sent) {
		copy = malloc(j->len - j->sent + 1);
		if (copy) {
			*n = j->len - j->sent;
			memcpy(copy, j->text + j->sent, *n);
			copy[*n] = '\0';
			j->sent = j->len;
		}
	}
	*done = j->done && (copy || j->len == j->sent);
	pthread_mutex_unlock(&w->mu);
	return copy;
}

int server_worker_done(struct server_worker *w, struct server_job *j)
{
	int d;

	pthread_mutex_lock(&w->mu);
	d = j->done;
	pthread_mutex_unlock(&w->mu);
	return d;
}

void server_worker_stats(struct server_worker *w, int *busy, int *queued, int *paused)
{
	pthread_mutex_lock(&w->mu);
	*busy = 0;
	*queued = 0;
	*paused = 0;
	for (int i = 0; i < w->n_slots; i++) {
		*busy += w->slots[i].job != NULL;
		*paused += w->slots[i].job && atomic_load(&w->slots[i].job->paused);
	}
	for (struct server_job *j = w->queue; j; j = j->next)
		(*queued)++;
	pthread_mutex_unlock(&w->mu);
}

void server_worker_free(struct server_worker *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	for (struct server_job *j = w->queue; j; j = j->next) {
		j->finish = SERVER_FINISH_CANCELLED;
		j->done = 1;
	}
	/* the last slots first: they borrow the first one's thread pool */
	for (int i = w->slots ? w->n_slots - 1 : -1; i >= 0; i--) {
		struct server_slot *s = &w->slots[i];
		if (s->job) {
			s->job->finish = SERVER_FINISH_CANCELLED;
			s->job->done = 1;
		}
		server_worker_slot_clear(s);
		model_ctx_free(s->ctx);
	}
	free(w->slots);
	free(w->logits);
	free(w->step_ctx);
	free(w->step_tok);
	free(w->step_row);
	if (w->piece)
		explicit_bzero(w->piece, w->piece_cap);
	free(w->piece);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
