/* Chat formats as the models' own Jinja templates render them (facts taken
 * from the templates shipped with Qwen, Mixtral, DeepSeek-V2/V3 and Llama 3,
 * and llama.cpp's llm_chat_apply_template):
 *
 *  chatml     <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
 *             Qwen3 with thinking off adds <think>\n\n</think>\n\n
 *  mistral    [INST] {system\n\n}{user} [/INST]{assistant}</s>   (BOS from the vocab)
 *  deepseek2  {system}\n\nUser: {user}\n\nAssistant: {assistant}<｜end▁of▁sentence｜> ... Assistant:
 *  deepseek3  {system}\n\n<｜User｜>{user}<｜Assistant｜>{assistant}<｜end▁of▁sentence｜> ... <｜Assistant｜>
 *  llama3     <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|> ...
 *
 * Message text is copied verbatim and marked in the mask so that special
 * tokens a user types stay plain text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/errmsg.h"
#include "engine/chat_template.h"

#define CHAT_TEMPLATE_DS_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
#define CHAT_TEMPLATE_DS_USER "<\xef\xbd\x9cUser\xef\xbd\x9c>"
#define CHAT_TEMPLATE_DS_ASSISTANT "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"

static const char *const chat_template_names[] = {
	[CHAT_TEMPLATE_KIND_CHATML] = "chatml",
	[CHAT_TEMPLATE_KIND_MISTRAL] = "mistral",
	[CHAT_TEMPLATE_KIND_DEEPSEEK2] = "deepseek2",
	[CHAT_TEMPLATE_KIND_DEEPSEEK3] = "deepseek3",
	[CHAT_TEMPLATE_KIND_LLAMA3] = "llama3",
};

/* Checked in order: a DeepSeek-V3 template also contains "Assistant", and
 * several templates mention [INST] only in comments after a more specific
 * marker, so the most specific markers come first. Both substrings of a
 * row must be present (NULL: only the first). */
static const struct {
	const char *a, *b;
	enum chat_template_kind kind;
} chat_template_markers[] = {
	{ "<|im_start|>", NULL, CHAT_TEMPLATE_KIND_CHATML },
	{ "<|start_header_id|>", NULL, CHAT_TEMPLATE_KIND_LLAMA3 },
	{ CHAT_TEMPLATE_DS_ASSISTANT, NULL, CHAT_TEMPLATE_KIND_DEEPSEEK3 },
	{ CHAT_TEMPLATE_DS_USER, NULL, CHAT_TEMPLATE_KIND_DEEPSEEK3 },
	{ "[INST]", NULL, CHAT_TEMPLATE_KIND_MISTRAL },
	{ "User: ", "Assistant:", CHAT_TEMPLATE_KIND_DEEPSEEK2 },
};

static int chat_template_contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (k > n)
		return 0;
	return memmem(hay, n, needle, k) != NULL;
}

int chat_template_detect(const char *tmpl, size_t len, enum chat_template_kind *kind)
{
	if (!tmpl)
		return -1;
	for (size_t i = 0; i < sizeof chat_template_markers / sizeof chat_template_markers[0]; i++) {
		if (!chat_template_contains(tmpl, len, chat_template_markers[i].a))
			continue;
		if (chat_template_markers[i].b && !chat_template_contains(tmpl, len, chat_template_markers[i].b))
			continue;
		*kind = chat_template_markers[i].kind;
		return 0;
	}
	return -1;
}

int chat_template_from_name(const char *name, enum chat_template_kind *kind)
{
	for (size_t i = 0; i < sizeof chat_template_names / sizeof chat_template_names[0]; i++) {
		if (strcmp(name, chat_template_names[i]) == 0) {
			*kind = (enum chat_template_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *chat_template_name(enum chat_template_kind kind)
{
	if ((size_t)kind >= sizeof chat_template_names / sizeof chat_template_names[0])
		return "?";
	return chat_template_names[kind];
}

int chat_template_select(const char *name, const char *tmpl, size_t tmpl_len,
    enum chat_template_kind *kind, char *err, size_t errlen)
{
	if (name) {
		if (chat_template_from_name(name, kind) == 0)
			return 0;
		engine_errf(err, errlen, "unknown chat template name '%.32s' "
		    "(known: chatml, mistral, deepseek2, deepseek3, llama3)", name);
		return -1;
	}
	if (chat_template_detect(tmpl, tmpl_len, kind) == 0)
		return 0;
	engine_errf(err, errlen, "%s; name the format (chatml, mistral, deepseek2, deepseek3, llama3)",
	    tmpl ? "the model's chat template is not one we recognise" : "the model has no chat template");
	return -1;
}

long chat_template_default_system(const char *tmpl, size_t len, char *out, size_t cap)
{
	static const char open[] = "<|im_start|>system", close[] = "<|im_end|>";
	const char *p = tmpl, *end = tmpl ? tmpl + len : NULL;

	while (p && (p = memmem(p, (size_t)(end - p), open, sizeof open - 1)) != NULL) {
		const char *q = p + sizeof open - 1;
		size_t k = 0;
		int literal = p > tmpl && (p[-1] == '\'' || p[-1] == '"');

		p = q;
		/* a newline, raw or as the Jinja escape \n */
		if (q < end && *q == '\n')
			q++;
		else if (end - q >= 2 && q[0] == '\\' && q[1] == 'n')
			q += 2;
		else
			continue;
		/* literal text up to <|im_end|>: no quotes, braces or other
		 * escapes, which would mean an expression, not a constant */
		while (literal && q < end && !(end - q >= (long)sizeof close - 1 &&
		    memcmp(q, close, sizeof close - 1) == 0)) {
			char c = *q;
			if (c == '\'' || c == '"' || c == '{' || c == '}') {
				literal = 0;
				break;
			}
			if (c == '\\') {
				if (end - q < 2 || q[1] != 'n') {
					literal = 0;
					break;
				}
				c = '\n';
				q++;
			}
			if (k + 1 >= cap) {
				literal = 0;
				break;
			}
			out[k++] = c;
			q++;
		}
		if (literal && q < end && k > 0) {
			out[k] = '\0';
			return (long)k;
		}
	}
	return -1;
}

/* --- rendering ---------------------------------------------------------- */

static int chat_template_put(struct chat_prompt *p, const char *s, size_t n, uint8_t special)
{
	if (n > SIZE_MAX / 2 - p->len - 1)
		return -1;
	if (p->len + n + 1 > p->cap) {
		size_t nc = (p->len + n + 1) * 2;
		char *nt = malloc(nc);
		uint8_t *nm = malloc(nc);
		if (!nt || !nm) {
			free(nt);
			free(nm);
			return -1;
		}
		if (p->len) {
			memcpy(nt, p->text, p->len);
			memcpy(nm, p->mask, p->len);
		}
		/* the old buffer held user text: wipe before freeing */
		if (p->text)
			explicit_bzero(p->text, p->cap);
		free(p->text);
		free(p->mask);
		p->text = nt;
		p->mask = nm;
		p->cap = nc;
	}
	memcpy(p->text + p->len, s, n);
	memset(p->mask + p->len, special, n);
	p->len += n;
	p->text[p->len] = '\0';
	return 0;
}

static int chat_template_text(struct chat_prompt *p, const char *s)
{
	return chat_template_put(p, s, strlen(s), 1);
}

static int chat_template_msg(struct chat_prompt *p, const struct chat_message *m)
{
	return chat_template_put(p, m->content, m->content_len, 0);
}

enum chat_template_role {
	CHAT_TEMPLATE_ROLE_SYSTEM,
	CHAT_TEMPLATE_ROLE_USER,
	CHAT_TEMPLATE_ROLE_ASSISTANT,
};

static int chat_template_role_of(const char *role, enum chat_template_role *r)
{
	static const char *const names[] = { "system", "user", "assistant" };

	for (size_t i = 0; i < 3; i++) {
		if (role && strcmp(role, names[i]) == 0) {
			*r = (enum chat_template_role)i;
			return 0;
		}
	}
	return -1;
}

/* Llama 3's template trims each message's content. */
static void chat_template_trim(const struct chat_message *m, struct chat_message *out)
{
	const char *s = m->content;
	size_t n = m->content_len;

	while (n && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	*out = *m;
	out->content = s;
	out->content_len = n;
}

static int chat_template_render_one(enum chat_template_kind kind, const struct chat_message *m,
    enum chat_template_role role, const struct chat_message *pending_system, struct chat_prompt *p)
{
	struct chat_message tm;
	int rc = 0;

	switch (kind) {
	case CHAT_TEMPLATE_KIND_CHATML:
		rc |= chat_template_text(p, "<|im_start|>");
		rc |= chat_template_text(p, m->role);
		rc |= chat_template_text(p, "\n");
		rc |= chat_template_msg(p, m);
		rc |= chat_template_text(p, "<|im_end|>\n");
		break;
	case CHAT_TEMPLATE_KIND_LLAMA3:
		chat_template_trim(m, &tm);
		rc |= chat_template_text(p, "<|start_header_id|>");
		rc |= chat_template_text(p, m->role);
		rc |= chat_template_text(p, "<|end_header_id|>\n\n");
		rc |= chat_template_msg(p, &tm);
		rc |= chat_template_text(p, "<|eot_id|>");
		break;
	case CHAT_TEMPLATE_KIND_MISTRAL:
		if (role == CHAT_TEMPLATE_ROLE_USER) {
			rc |= chat_template_text(p, "[INST] ");
			if (pending_system) {
				rc |= chat_template_msg(p, pending_system);
				rc |= chat_template_text(p, "\n\n");
			}
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, " [/INST]");
		} else if (role == CHAT_TEMPLATE_ROLE_ASSISTANT) {
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, "</s>");
		}
		break;
	case CHAT_TEMPLATE_KIND_DEEPSEEK2:
		if (role == CHAT_TEMPLATE_ROLE_SYSTEM) {
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, "\n\n");
		} else if (role == CHAT_TEMPLATE_ROLE_USER) {
			rc |= chat_template_text(p, "User: ");
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, "\n\n");
		} else {
			rc |= chat_template_text(p, "Assistant: ");
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, CHAT_TEMPLATE_DS_EOS);
		}
		break;
	case CHAT_TEMPLATE_KIND_DEEPSEEK3:
		if (role == CHAT_TEMPLATE_ROLE_SYSTEM) {
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, "\n\n");
		} else if (role == CHAT_TEMPLATE_ROLE_USER) {
			rc |= chat_template_text(p, CHAT_TEMPLATE_DS_USER);
			rc |= chat_template_msg(p, m);
		} else {
			rc |= chat_template_text(p, CHAT_TEMPLATE_DS_ASSISTANT);
			rc |= chat_template_msg(p, m);
			rc |= chat_template_text(p, CHAT_TEMPLATE_DS_EOS);
		}
		break;
	}
	return rc ? -1 : 0;
}

static const char *const chat_template_openers[] = {
	[CHAT_TEMPLATE_KIND_CHATML] = "<|im_start|>assistant\n",
	[CHAT_TEMPLATE_KIND_MISTRAL] = "",
	[CHAT_TEMPLATE_KIND_DEEPSEEK2] = "Assistant:",
	[CHAT_TEMPLATE_KIND_DEEPSEEK3] = CHAT_TEMPLATE_DS_ASSISTANT,
	[CHAT_TEMPLATE_KIND_LLAMA3] = "<|start_header_id|>assistant<|end_header_id|>\n\n",
};

int chat_template_apply(enum chat_template_kind kind, const struct chat_message *msgs,
    size_t n_msgs, unsigned flags, struct chat_prompt *out, char *err, size_t errlen)
{
	const struct chat_message *pending_system = NULL;

	memset(out, 0, sizeof *out);
	if ((size_t)kind >= sizeof chat_template_names / sizeof chat_template_names[0]) {
		engine_errf(err, errlen, "unknown chat template kind");
		return -1;
	}
	for (size_t i = 0; i < n_msgs; i++) {
		enum chat_template_role role;
		if (chat_template_role_of(msgs[i].role, &role) != 0) {
			engine_errf(err, errlen, "messages[%zu].role: expected one of system, user, assistant", i);
			goto fail;
		}
		if (!msgs[i].content && msgs[i].content_len) {
			engine_errf(err, errlen, "messages[%zu].content: missing", i);
			goto fail;
		}
		/* Mixtral has no system turn: fold it into the next user turn */
		if (kind == CHAT_TEMPLATE_KIND_MISTRAL && role == CHAT_TEMPLATE_ROLE_SYSTEM) {
			pending_system = &msgs[i];
			continue;
		}
		if (chat_template_render_one(kind, &msgs[i], role, pending_system, out) != 0)
			goto oom;
		if (role == CHAT_TEMPLATE_ROLE_USER)
			pending_system = NULL;
	}
	if (pending_system) {
		/* a system message with no user turn after it still reaches
		 * the model, as an instruction turn of its own */
		struct chat_message sys = *pending_system;
		sys.role = "user";
		if (chat_template_render_one(kind, &sys, CHAT_TEMPLATE_ROLE_USER, NULL, out) != 0)
			goto oom;
	}
	if (flags & CHAT_TEMPLATE_ADD_ASSISTANT) {
		if (chat_template_text(out, chat_template_openers[kind]) != 0)
			goto oom;
		if ((flags & CHAT_TEMPLATE_NO_THINK) && kind == CHAT_TEMPLATE_KIND_CHATML &&
		    chat_template_text(out, "<think>\n\n</think>\n\n") != 0)
			goto oom;
	}
	if (out->text == NULL && chat_template_put(out, "", 0, 1) != 0)
		goto oom;
	return 0;
oom:
	engine_errf(err, errlen, "out of memory rendering the chat prompt");
fail:
	chat_prompt_free(out);
	return -1;
}

void chat_prompt_free(struct chat_prompt *p)
{
	if (p->text)
		explicit_bzero(p->text, p->cap);
	free(p->text);
	free(p->mask);
	memset(p, 0, sizeof *p);
}
