/* Per purpose Art. 50 settings in the purpose registry
 * (purposes.ID.transparency) next to the transparency section's
 * transparency.purposes.ID (gateway/transparency.c): each place alone
 * works, where both set a field the registry wins, a field only the
 * section sets stays, and bad entries are refused with their path. Runs
 * the real config loader and the filter chain (request + head). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <event2/buffer.h>

#include "gateway/filter.h"
#include "gateway/gwconfig.h"
#include "gateway/openai.h"
#include "gateway/transparency.h"
#include "tests/tap.h"

#define KEY_HASH "\"0000000000000000000000000000000000000000000000000000000000000000\""
#define KEY_HASH2 "\"1111111111111111111111111111111111111111111111111111111111111111\""

/* A config with keys for the purposes "chat" and "support"; purposes and
 * section are JSON members (may be empty). */
static int load(const char *purposes, const char *section, struct config **cfg, struct transparency_rt **rt,
    char *err, size_t errlen)
{
	char text[4096];
	snprintf(text, sizeof text,
	    "{\"listeners\":[{\"address\":\"127.0.0.1\",\"port\":1,\"plain\":true}],"
	    "\"upstreams\":[{\"name\":\"up\",\"url\":\"http://127.0.0.1:2\"}],"
	    "\"keys\":[{\"name\":\"c\",\"tenant\":\"t\",\"purpose\":\"chat\",\"sha256\":" KEY_HASH "},"
	    "{\"name\":\"s\",\"tenant\":\"t\",\"purpose\":\"support\",\"sha256\":" KEY_HASH2 "}]"
	    "%s%s%s%s}", purposes[0] ? "," : "", purposes, section[0] ? "," : "", section);
	*rt = NULL;
	*cfg = config_load_string(text, strlen(text), "t.json", ".", err, errlen);
	if (!*cfg)
		return -1;
	if (transparency_load(*cfg, rt, err, errlen) < 0) {
		config_unref(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

struct seen {
	int body_field; /* the filter asked to rewrite the answer (x.relay) */
	char notice[512];
};

/* One chat request of key k through the filters; what the answer gets. */
static void run(const struct config *cfg, const struct transparency_rt *rt, size_t k, struct seen *s)
{
	json_t *req = json_pack("{s:s}", "model", "m");
	struct filter_exchange x;
	memset(&x, 0, sizeof x);
	memset(s, 0, sizeof *s);
	x.key = &cfg->keys[k];
	x.route = OPENAI_ROUTE_CHAT;
	x.upstream = "up";
	x.body = req;
	x.transparency = rt;
	if (filter_run_request(&x) == 0) {
		s->body_field = x.relay;
		x.upstream_answer = 1;
		x.status = 200;
		struct evbuffer *out = evbuffer_new();
		if (out && filter_run_head(&x, out) == 0) {
			size_t n = evbuffer_get_length(out);
			char head[2048];
			if (n >= sizeof head)
				n = sizeof head - 1;
			evbuffer_copyout(out, head, n);
			head[n] = 0;
			const char *h = strstr(head, "X-Hafen-Notice: ");
			if (h) {
				h += strlen("X-Hafen-Notice: ");
				size_t l = strcspn(h, "\r");
				snprintf(s->notice, sizeof s->notice, "%.*s", (int)l, h);
			}
		}
		evbuffer_free(out);
	}
	filter_run_done(&x);
	json_decref(req);
}

#define CHAT "\"chat\":{\"description\":\"assistant\",\"lawful_basis\":\"f\",\"data_classes\":[\"public\"],\"retention_days\":30"
#define SUPPORT "\"support\":{\"description\":\"support\",\"lawful_basis\":\"b\",\"data_classes\":[\"public\"],\"retention_days\":30"

int main(void)
{
	char err[512] = "";
	struct config *cfg = NULL;
	struct transparency_rt *rt = NULL;
	struct seen s;

	/* The registry alone. */
	ok(load("\"purposes\":{" CHAT ",\"transparency\":{\"body_field\":false,\"notice\":\"Hallo KI\"}}," SUPPORT "}}",
	    "", &cfg, &rt, err, sizeof err) == 0, "purposes.chat.transparency loads (%s)", err);
	if (cfg) {
		run(cfg, rt, 0, &s);
		ok(!s.body_field, "registry: body_field false turns the body member off for chat");
		is_str(s.notice, "UTF-8''Hallo%20KI", "registry: chat's notice, RFC 8187 encoded");
		run(cfg, rt, 1, &s);
		ok(s.body_field && !s.notice[0], "registry: support keeps the defaults (body member, no notice)");
		transparency_free(rt);
		config_unref(cfg);
	}

	/* The section alone still works. */
	ok(load("", "\"transparency\":{\"purposes\":{\"chat\":{\"body_field\":false,\"notice\":\"sec\"}}}",
	    &cfg, &rt, err, sizeof err) == 0, "transparency.purposes.chat loads (%s)", err);
	if (cfg) {
		run(cfg, rt, 0, &s);
		ok(!s.body_field, "section: body_field false for chat");
		is_str(s.notice, "UTF-8''sec", "section: chat's notice");
		transparency_free(rt);
		config_unref(cfg);
	}

	/* Both: the registry wins field by field; the section's other field stays. */
	ok(load("\"purposes\":{" CHAT ",\"transparency\":{\"notice\":\"reg\"}}," SUPPORT ",\"transparency\":{\"body_field\":true}}}",
	    "\"transparency\":{\"body_field\":true,\"purposes\":{\"chat\":{\"body_field\":false,\"notice\":\"sec\"},"
	    "\"support\":{\"body_field\":false,\"notice\":\"sec2\"}}}",
	    &cfg, &rt, err, sizeof err) == 0, "both places load (%s)", err);
	if (cfg) {
		run(cfg, rt, 0, &s);
		is_str(s.notice, "UTF-8''reg", "both: the registry's notice wins for chat");
		ok(!s.body_field, "both: the section's body_field stays where the registry sets none");
		run(cfg, rt, 1, &s);
		ok(s.body_field, "both: the registry's body_field true wins over the section's false");
		is_str(s.notice, "UTF-8''sec2", "both: the section's notice stays where the registry sets none");
		transparency_free(rt);
		config_unref(cfg);
	}

	/* Bad entries: refused with their path. */
	static const char *const bad[][2] = {
		{ "\"purposes\":{" CHAT ",\"transparency\":{\"notice\":\"\"}}}", "t.json: purposes.chat.transparency.notice: expected a non-empty string" },
		{ "\"purposes\":{" CHAT ",\"transparency\":{\"body_field\":1}}}", "t.json: purposes.chat.transparency.body_field: expected true or false" },
		{ "\"purposes\":{" CHAT ",\"transparency\":{\"headers\":false}}}", "t.json: purposes.chat.transparency.headers: unknown key" },
		{ "\"purposes\":{" CHAT ",\"transparency\":\"off\"}}", "purposes.chat.transparency: expected an object" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		int rc = load(bad[i][0], "", &cfg, &rt, err, sizeof err);
		ok(rc < 0 && strstr(err, bad[i][1]) != NULL, "bad entry %zu refused: %s", i, err);
		if (rc == 0) {
			transparency_free(rt);
			config_unref(cfg);
		}
	}
	tap_done();
	return tap_exit_status();
}
