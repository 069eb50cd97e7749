/* Chat templates: turn a list of messages into the prompt text a model was
 * trained on. Detected from tokenizer.chat_template by substring (a Jinja
 * interpreter is not needed for the formats we serve); an unknown template
 * is an error unless the operator names the format. */
#ifndef HAFEN_ENGINE_CHAT_TEMPLATE_H
#define HAFEN_ENGINE_CHAT_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

enum chat_template_kind {
	CHAT_TEMPLATE_KIND_CHATML = 0,	/* Qwen2/3, Qwen-MoE: <|im_start|> */
	CHAT_TEMPLATE_KIND_MISTRAL,	/* Mixtral: [INST] ... [/INST] */
	CHAT_TEMPLATE_KIND_DEEPSEEK2,	/* DeepSeek-V2: User: / Assistant: */
	CHAT_TEMPLATE_KIND_DEEPSEEK3,	/* DeepSeek-V3/R1: <｜User｜> / <｜Assistant｜> */
	CHAT_TEMPLATE_KIND_LLAMA3,	/* <|start_header_id|> */
};

/* Apply flags. */
#define CHAT_TEMPLATE_ADD_ASSISTANT	0x1u	/* end with the assistant's turn opener */
#define CHAT_TEMPLATE_NO_THINK		0x2u	/* Qwen3: empty <think></think> block */

struct chat_message {
	const char *role;	/* "system", "user" or "assistant" */
	const char *content;
	size_t content_len;
};

/* The rendered prompt; mask[i] is 1 where text[i] came from the template
 * (special tokens allowed there), 0 where it came from a message. */
struct chat_prompt {
	char *text;
	uint8_t *mask;
	size_t len;
	size_t cap;
};

/* Detect the format of a tokenizer.chat_template string. -1 if unknown. */
int chat_template_detect(const char *tmpl, size_t len, enum chat_template_kind *kind);
/* Format by name (chatml, mistral, deepseek2, deepseek3, llama3). */
int chat_template_from_name(const char *name, enum chat_template_kind *kind);
const char *chat_template_name(enum chat_template_kind kind);
/* Choose: a named format wins; else detect from the template text; error
 * with a message listing the names when neither gives one. */
int chat_template_select(const char *name, const char *tmpl, size_t tmpl_len,
    enum chat_template_kind *kind, char *err, size_t errlen);

/* The system prompt a chatml template inserts when a conversation has
 * none (Qwen2: "You are a helpful assistant"), found as a string literal
 * '<|im_start|>system\n...<|im_end|>' in the template. Returns its length
 * (copied to out, NUL-terminated) or -1 when the template has none or it
 * does not fit cap. */
long chat_template_default_system(const char *tmpl, size_t len, char *out, size_t cap);

int chat_template_apply(enum chat_template_kind kind, const struct chat_message *msgs,
    size_t n_msgs, unsigned flags, struct chat_prompt *out, char *err, size_t errlen);
/* Wipes the prompt text (it holds user data) and frees it. */
void chat_prompt_free(struct chat_prompt *p);

#endif
