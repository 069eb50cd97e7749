/* generate: complete a prompt (raw, or wrapped in the model's chat format
 * with --chat) and stream the answer to stdout as it is sampled. Stops at
 * an end-of-generation token, a stop string, -n tokens or a full context.
 * Statistics go to stderr. */
#include "engine/chat_template.h"
#include "engine/cmd.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GENERATE_MAX_STOPS 8

static int generate_usage(void)
{
	fprintf(stderr,
	    "usage: hafen-engine generate -m MODEL.gguf -p PROMPT [-n N] [--temp T] [--seed S]\n"
	    "    [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--presence-penalty P]\n"
	    "    [--frequency-penalty F] [--penalty-last-n N] [--stop S]... [--threads N] [--ctx N]\n"
	    "    [--chat [--system S] [--chat-template NAME] [--no-think]] [--ids] [--scalar]\n"
	    "  --ids: sampled token ids to stderr; --scalar: no SIMD kernels (for comparisons)\n");
	return 2;
}

static double generate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parse a number option strictly; -1 with a message on junk. */
static int generate_num(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end == v || *end || errno || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "hafen-engine generate: %s: expected a number from %g to %g\n", opt, lo, hi);
		return -1;
	}
	return 0;
}

struct generate_opts {
	const char *model, *prompt, *system, *tmpl_name;
	const char *stops[GENERATE_MAX_STOPS];
	size_t n_stops;
	long n_predict;
	int threads;
	long n_ctx;
	int chat, no_think, print_ids, scalar;
	struct sampler_params sp;
};

static int generate_parse(int argc, char **argv, struct generate_opts *o)
{
	double v;

	memset(o, 0, sizeof *o);
	sampler_params_default(&o->sp);
	o->n_predict = 128;
	o->threads = 1;
	o->n_ctx = 4096;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--chat") == 0) {
			o->chat = 1;
			continue;
		}
		if (strcmp(a, "--no-think") == 0) {
			o->no_think = 1;
			continue;
		}
		if (strcmp(a, "--ids") == 0) {
			o->print_ids = 1;
			continue;
		}
		if (strcmp(a, "--scalar") == 0) {
			o->scalar = 1;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *val = argv[++i];
		if (strcmp(a, "-m") == 0) {
			o->model = val;
		} else if (strcmp(a, "-p") == 0) {
			o->prompt = val;
		} else if (strcmp(a, "--system") == 0) {
			o->system = val;
		} else if (strcmp(a, "--chat-template") == 0) {
			o->tmpl_name = val;
		} else if (strcmp(a, "--stop") == 0) {
			if (o->n_stops == GENERATE_MAX_STOPS) {
				fprintf(stderr, "hafen-engine generate: at most %d --stop strings\n", GENERATE_MAX_STOPS);
				return -2;
			}
			o->stops[o->n_stops++] = val;
		} else if (strcmp(a, "-n") == 0) {
			if (generate_num(a, val, 0, 1 << 20, &v))
				return -2;
			o->n_predict = (long)v;
		} else if (strcmp(a, "--threads") == 0) {
			if (generate_num(a, val, 1, 256, &v))
				return -2;
			o->threads = (int)v;
		} else if (strcmp(a, "--ctx") == 0) {
			if (generate_num(a, val, 16, 1 << 20, &v))
				return -2;
			o->n_ctx = (long)v;
		} else if (strcmp(a, "--temp") == 0) {
			if (generate_num(a, val, 0, 2, &v))
				return -2;
			o->sp.temperature = (float)v;
		} else if (strcmp(a, "--seed") == 0) {
			char *end;
			errno = 0;
			o->sp.seed = strtoull(val, &end, 10);
			if (end == val || *end || errno) {
				fprintf(stderr, "hafen-engine generate: --seed: expected an unsigned integer\n");
				return -2;
			}
		} else if (strcmp(a, "--top-k") == 0) {
			if (generate_num(a, val, 0, 1 << 30, &v))
				return -2;
			o->sp.top_k = (int32_t)v;
		} else if (strcmp(a, "--top-p") == 0) {
			if (generate_num(a, val, 0, 1, &v))
				return -2;
			o->sp.top_p = (float)v;
		} else if (strcmp(a, "--min-p") == 0) {
			if (generate_num(a, val, 0, 1, &v))
				return -2;
			o->sp.min_p = (float)v;
		} else if (strcmp(a, "--repeat-penalty") == 0) {
			if (generate_num(a, val, 0, 10, &v))
				return -2;
			o->sp.repetition_penalty = (float)v;
		} else if (strcmp(a, "--presence-penalty") == 0) {
			if (generate_num(a, val, -2, 2, &v))
				return -2;
			o->sp.presence_penalty = (float)v;
		} else if (strcmp(a, "--frequency-penalty") == 0) {
			if (generate_num(a, val, -2, 2, &v))
				return -2;
			o->sp.frequency_penalty = (float)v;
		} else if (strcmp(a, "--penalty-last-n") == 0) {
			if (generate_num(a, val, 0, 1 << 20, &v))
				return -2;
			o->sp.penalty_last_n = (int32_t)v;
		} else {
			return -1;
		}
	}
	if (!o->model || !o->prompt)
		return -1;
	return 0;
}

/* Generated text so far; stop strings are searched in it and only the part
 * that cannot start a stop string has been written out. */
struct generate_out {
	char *text;
	size_t len, cap, shown;
};

static int generate_out_add(struct generate_out *g, const char *s, size_t n)
{
	if (g->len + n + 1 > g->cap) {
		size_t nc = (g->len + n + 1) * 2;
		char *nt = malloc(nc);
		if (!nt)
			return -1;
		if (g->len)
			memcpy(nt, g->text, g->len);
		if (g->text)
			explicit_bzero(g->text, g->cap);
		free(g->text);
		g->text = nt;
		g->cap = nc;
	}
	memcpy(g->text + g->len, s, n);
	g->len += n;
	return 0;
}

/* Write out what is safe; 1 when a stop string ended the answer. */
static int generate_out_flush(struct generate_out *g, const struct generate_opts *o, int final)
{
	size_t safe = g->len;
	long at = -1;

	if (o->n_stops)
		at = sampler_stop_find(g->text, g->len, o->stops, o->n_stops, &safe);
	if (final && at < 0)
		safe = g->len;
	if (safe > g->shown) {
		fwrite(g->text + g->shown, 1, safe - g->shown, stdout);
		fflush(stdout);
		g->shown = safe;
	}
	return at >= 0;
}

int cmd_generate_main(int argc, char **argv)
{
	struct generate_opts o;
	char err[512];
	int rc = 1, r;
	struct model *m = NULL;
	struct model_ctx *c = NULL;
	struct tokenizer *t = NULL;
	struct sampler *s = NULL;
	struct tokenizer_ids ids = { 0 };
	struct chat_prompt cp = { 0 };
	struct tokenizer_stream st = { 0 };
	struct generate_out out = { 0 };
	float *logits = NULL;
	char *piece = NULL;
	long n_gen = 0;
	double t0, t1, t2;

	r = generate_parse(argc, argv, &o);
	if (r == -1)
		return generate_usage();
	if (r < 0)
		return 2;
	if (sampler_params_check(&o.sp, err, sizeof err) != 0)
		goto fail;
	m = model_load(o.model, err, sizeof err);
	if (!m)
		goto fail;
	t = tokenizer_load(model_gguf(m), err, sizeof err);
	if (!t)
		goto fail;
	const struct model_hparams *hp = model_hparams(m);
	if ((uint32_t)tokenizer_n_vocab(t) > hp->n_vocab) {
		snprintf(err, sizeof err, "the vocabulary (%d tokens) is larger than the model's output (%u)",
		    tokenizer_n_vocab(t), hp->n_vocab);
		goto fail;
	}
	if (o.chat) {
		enum chat_template_kind kind;
		struct chat_message msgs[2];
		size_t n_msgs = 0, tl;
		const char *tmpl = tokenizer_chat_template(t, &tl);
		if (chat_template_select(o.tmpl_name, tmpl, tl, &kind, err, sizeof err) != 0)
			goto fail;
		char def_system[1024];
		long dl = -1;
		/* like the template itself: its default system turn when the
		 * user gives none (Qwen2: "You are a helpful assistant") */
		if (!o.system && kind == CHAT_TEMPLATE_KIND_CHATML && !o.tmpl_name)
			dl = chat_template_default_system(tmpl, tl, def_system, sizeof def_system);
		if (o.system)
			msgs[n_msgs++] = (struct chat_message){ "system", o.system, strlen(o.system) };
		else if (dl > 0)
			msgs[n_msgs++] = (struct chat_message){ "system", def_system, (size_t)dl };
		msgs[n_msgs++] = (struct chat_message){ "user", o.prompt, strlen(o.prompt) };
		if (chat_template_apply(kind, msgs, n_msgs, CHAT_TEMPLATE_ADD_ASSISTANT |
		    (o.no_think ? CHAT_TEMPLATE_NO_THINK : 0), &cp, err, sizeof err) != 0)
			goto fail;
		if (tokenizer_encode_masked(t, cp.text, cp.len, TOKENIZER_ENCODE_ADD_SPECIAL |
		    TOKENIZER_ENCODE_PARSE_SPECIAL, cp.mask, &ids, err, sizeof err) != 0)
			goto fail;
	} else if (tokenizer_encode(t, o.prompt, strlen(o.prompt), TOKENIZER_ENCODE_ADD_SPECIAL |
	    TOKENIZER_ENCODE_PARSE_SPECIAL, &ids, err, sizeof err) != 0) {
		goto fail;
	}
	if (ids.n == 0) {
		snprintf(err, sizeof err, "the prompt has no tokens");
		goto fail;
	}
	if (ids.n >= (size_t)o.n_ctx) {
		snprintf(err, sizeof err, "the prompt (%zu tokens) does not fit the context (--ctx %ld)", ids.n, o.n_ctx);
		goto fail;
	}
	c = model_ctx_new(m, (uint32_t)o.n_ctx, o.threads, err, sizeof err);
	if (!c)
		goto fail;
	model_ctx_set_scalar(c, o.scalar);
	s = sampler_new(&o.sp, (int32_t)hp->n_vocab, err, sizeof err);
	if (!s)
		goto fail;
	logits = malloc((size_t)hp->n_vocab * sizeof *logits);
	piece = malloc(tokenizer_max_piece(t) + 8);
	if (!logits || !piece) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ids.n; i++)
		sampler_accept(s, ids.v[i]);

	t0 = generate_now();
	if (model_forward(c, ids.v, (uint32_t)ids.n, logits, 0, err, sizeof err) != 0)
		goto fail;
	t1 = generate_now();
	for (n_gen = 0; n_gen < o.n_predict; n_gen++) {
		int32_t id = sampler_sample(s, logits);
		if (o.print_ids)
			fprintf(stderr, "%d%s", id, n_gen + 1 < o.n_predict ? " " : "");
		if (tokenizer_is_eog(t, id))
			break;
		sampler_accept(s, id);
		size_t k = tokenizer_stream_push(t, &st, id, 0, piece);
		if (generate_out_add(&out, piece, k) != 0) {
			snprintf(err, sizeof err, "out of memory");
			goto fail;
		}
		if (generate_out_flush(&out, &o, 0)) {
			n_gen++;
			goto finished;
		}
		if (n_gen + 1 == o.n_predict) {
			n_gen++;	/* the last one needs no forward pass */
			break;
		}
		if (model_ctx_pos(c) >= (uint32_t)o.n_ctx) {
			fprintf(stderr, "hafen-engine generate: context full (%ld tokens)\n", o.n_ctx);
			break;
		}
		if (model_forward(c, &id, 1, logits, 0, err, sizeof err) != 0)
			goto fail;
	}
	{
		size_t k = tokenizer_stream_flush(&st, piece);
		if (generate_out_add(&out, piece, k) != 0) {
			snprintf(err, sizeof err, "out of memory");
			goto fail;
		}
	}
	generate_out_flush(&out, &o, 1);
finished:
	t2 = generate_now();
	putchar('\n');
	fflush(stdout);
	if (o.print_ids)
		fputc('\n', stderr);
	fprintf(stderr, "hafen-engine generate: prompt %zu tokens in %.3f s (%.1f tok/s), "
	    "generated %ld tokens in %.3f s (%.1f tok/s)\n", ids.n, t1 - t0,
	    t1 > t0 ? (double)ids.n / (t1 - t0) : 0.0, n_gen, t2 - t1,
	    t2 > t1 ? (double)n_gen / (t2 - t1) : 0.0);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "hafen-engine generate: %s\n", err);
done:
	if (out.text)
		explicit_bzero(out.text, out.cap);
	free(out.text);
	free(logits);
	if (piece)
		explicit_bzero(piece, tokenizer_max_piece(t) + 8);
	free(piece);
	chat_prompt_free(&cp);
	tokenizer_ids_free(&ids);
	sampler_free(s);
	tokenizer_free(t);
	model_ctx_free(c);
	model_free(m);
	return rc;
}
