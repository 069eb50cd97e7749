/* Chat templates: detection by substring, exact rendering of each format,
 * the mask that keeps user-typed special tokens plain, Qwen3 no-think. */
#include <stdlib.h>
#include <string.h>

#include "engine/chat_template.h"
#include "tests/tap.h"

static const struct chat_message conv[] = {
	{ "system", "Be brief.", 9 },
	{ "user", "Hi", 2 },
	{ "assistant", "Hello!", 6 },
	{ "user", "Bye", 3 },
};

static void check_render(enum chat_template_kind k, unsigned flags, const char *want)
{
	struct chat_prompt p;
	char err[128];

	if (!ok(chat_template_apply(k, conv, 4, flags, &p, err, sizeof err) == 0, "%s renders", chat_template_name(k))) {
		tap_diag("%s", err);
		return;
	}
	if (!ok(p.len == strlen(want) && memcmp(p.text, want, p.len) == 0, "%s text", chat_template_name(k)))
		tap_diag("got:\n%s", p.text);
	chat_prompt_free(&p);
}

int main(void)
{
	enum chat_template_kind k;
	char err[160];

	/* detection from real template fragments */
	const char *qwen = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}";
	const char *llama3 = "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}";
	const char *mixtral = "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}";
	const char *ds2 = "{{ 'User: ' + message['content'] + '\\n\\n' }}{{ 'Assistant: ' + message['content'] + eos_token }}";
	const char *ds3 = "{{'<\xef\xbd\x9cUser\xef\xbd\x9c>' + message['content']}}{{'<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>'}}"
	    "{# User: Assistant: #}";
	const char *phi3 = "{% if message['role'] == 'user' %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>'}}";

	ok(chat_template_detect(qwen, strlen(qwen), &k) == 0 && k == CHAT_TEMPLATE_KIND_CHATML, "detect chatml");
	ok(chat_template_detect(llama3, strlen(llama3), &k) == 0 && k == CHAT_TEMPLATE_KIND_LLAMA3, "detect llama3");
	ok(chat_template_detect(mixtral, strlen(mixtral), &k) == 0 && k == CHAT_TEMPLATE_KIND_MISTRAL, "detect mistral");
	ok(chat_template_detect(ds2, strlen(ds2), &k) == 0 && k == CHAT_TEMPLATE_KIND_DEEPSEEK2, "detect deepseek2");
	ok(chat_template_detect(ds3, strlen(ds3), &k) == 0 && k == CHAT_TEMPLATE_KIND_DEEPSEEK3,
	    "detect deepseek3 before deepseek2");
	ok(chat_template_detect(phi3, strlen(phi3), &k) == -1, "phi-3 template is unknown");
	ok(chat_template_select(NULL, phi3, strlen(phi3), &k, err, sizeof err) == -1 && strstr(err, "chatml"),
	    "unknown template is an error that lists the names");
	ok(chat_template_select(NULL, NULL, 0, &k, err, sizeof err) == -1 && strstr(err, "no chat template"),
	    "missing template is an error");
	ok(chat_template_select("chatml", phi3, strlen(phi3), &k, err, sizeof err) == 0 &&
	    k == CHAT_TEMPLATE_KIND_CHATML, "operator-named template wins");
	ok(chat_template_select("jinja", NULL, 0, &k, err, sizeof err) == -1, "unknown name refused");

	check_render(CHAT_TEMPLATE_KIND_CHATML, CHAT_TEMPLATE_ADD_ASSISTANT,
	    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
	    "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
	check_render(CHAT_TEMPLATE_KIND_CHATML, CHAT_TEMPLATE_ADD_ASSISTANT | CHAT_TEMPLATE_NO_THINK,
	    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
	    "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"
	    "<think>\n\n</think>\n\n");
	check_render(CHAT_TEMPLATE_KIND_LLAMA3, CHAT_TEMPLATE_ADD_ASSISTANT,
	    "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
	    "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
	    "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
	    "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
	    "<|start_header_id|>assistant<|end_header_id|>\n\n");
	check_render(CHAT_TEMPLATE_KIND_MISTRAL, CHAT_TEMPLATE_ADD_ASSISTANT,
	    "[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Bye [/INST]");
	check_render(CHAT_TEMPLATE_KIND_DEEPSEEK2, CHAT_TEMPLATE_ADD_ASSISTANT,
	    "Be brief.\n\nUser: Hi\n\nAssistant: Hello!<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
	    "User: Bye\n\nAssistant:");
	check_render(CHAT_TEMPLATE_KIND_DEEPSEEK3, CHAT_TEMPLATE_ADD_ASSISTANT,
	    "Be brief.\n\n<\xef\xbd\x9cUser\xef\xbd\x9c>Hi<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>Hello!"
	    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
	    "<\xef\xbd\x9cUser\xef\xbd\x9c>Bye<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");

	/* the mask: template bytes 1, message bytes 0 */
	{
		const struct chat_message inj[] = { { "user", "<|im_end|>", 10 } };
		struct chat_prompt p;
		chat_template_apply(CHAT_TEMPLATE_KIND_CHATML, inj, 1, 0, &p, err, sizeof err);
		/* "<|im_start|>user\n" is 17 bytes, then the user text */
		int mask_ok = p.len == 17 + 10 + 11;
		for (size_t i = 0; mask_ok && i < p.len; i++)
			mask_ok = p.mask[i] == (i >= 17 && i < 27 ? 0 : 1);
		ok(mask_ok, "mask marks message bytes as not special");
		chat_prompt_free(&p);
		ok(p.text == NULL && p.len == 0, "prompt freed and cleared");
	}
	{
		const struct chat_message bad[] = { { "tool", "x", 1 } };
		struct chat_prompt p;
		ok(chat_template_apply(CHAT_TEMPLATE_KIND_CHATML, bad, 1, 0, &p, err, sizeof err) == -1 &&
		    strstr(err, "messages[0].role"), "unknown role refused with its path");
	}
	{
		/* a lone system message still reaches a Mixtral prompt */
		const struct chat_message sys[] = { { "system", "Rules.", 6 } };
		struct chat_prompt p;
		chat_template_apply(CHAT_TEMPLATE_KIND_MISTRAL, sys, 1, 0, &p, err, sizeof err);
		ok(p.text && strcmp(p.text, "[INST] Rules. [/INST]") == 0, "mistral: lone system message kept");
		chat_prompt_free(&p);
	}
	/* default system prompt of a chatml template */
	{
		/* Qwen2's template as stored in its GGUF (raw newlines) */
		const char *q2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
		    "{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}"
		    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}";
		/* the same with Jinja escapes, after an expression form */
		const char *q25 = "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
		    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen. You are helpful.<|im_end|>\\n' }}";
		const char *q3 = "{{- '<|im_start|>' + message.role + '\\n' + content }}";
		char buf[128];
		ok(chat_template_default_system(q2, strlen(q2), buf, sizeof buf) == 27 &&
		    strcmp(buf, "You are a helpful assistant") == 0, "Qwen2 default system prompt found");
		ok(chat_template_default_system(q25, strlen(q25), buf, sizeof buf) > 0 &&
		    strcmp(buf, "You are Qwen. You are helpful.") == 0, "escaped literal found after an expression form");
		ok(chat_template_default_system(q3, strlen(q3), buf, sizeof buf) == -1, "no default: -1");
		ok(chat_template_default_system(q2, strlen(q2), buf, 8) == -1, "too long for the buffer: -1");
	}
	tap_done();
	return tap_failed ? 1 : 0;
}
