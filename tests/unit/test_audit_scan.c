/* The audit filter's shortcut for bodies without an end user
 * (json_span_key_absent): absent only when jansson finds no such member
 * either; every way of spelling the key (plain, spaced, escaped, nested)
 * makes it "may have one". */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "gateway/json_span.h"
#include "tests/tap.h"

struct audit_scan_case {
	const char *body;
	int absent; /* expected json_span_key_absent(body, "user") */
};

static const struct audit_scan_case audit_scan_cases[] = {
	{ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 1 },
	{ "{\"model\":\"m\",\"user\":\"alice\",\"messages\":[]}", 0 },
	{ "{\"model\":\"m\",\"user\" \t\n: \"alice\"}", 0 },
	{ "{\"\\u0075ser\":\"alice\"}", 0 },
	{ "{\"us\\u0065r\":\"alice\"}", 0 },
	{ "{\"us\\u0045r\":\"alice\"}", 1 },  /* \u0045 is 'E', not in "user" */
	{ "{\"metadata\":{\"user\":1}}", 0 }, /* nested: conservative */
	{ "{\"messages\":[{\"role\":\"user\",\"content\":\"say \\\"user\\\": x\"}]}", 1 },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":\"\\u00fcber\"}]}", 1 },
	{ "{\"messages\":[{\"role\":\"user\",\"content\":\"C:\\\\users\"}]}", 1 },
	{ "{\"x\":\"\\u", 1 },                /* truncated: not JSON, no member */
	{ "{\"x\":\"\\\\u0075\",\"a\":1}", 0 }, /* an escaped backslash, then u0075: may (conservative) */
	{ "{\"user\"", 1 },                   /* no colon: not a member */
	{ "", 1 },
	{ "{\"a\":\"\",\"user\":\"\"}", 0 },
};

int main(void)
{
	size_t n = sizeof audit_scan_cases / sizeof audit_scan_cases[0];
	for (size_t i = 0; i < n; i++) {
		const struct audit_scan_case *c = &audit_scan_cases[i];
		int got = json_span_key_absent(c->body, strlen(c->body), "user");
		ok(got == c->absent, "case %zu: %s: %s", i, c->absent ? "absent" : "may have one", c->body);
		/* never absent where jansson sees a top-level user */
		json_t *j = json_loads(c->body, 0, NULL);
		ok(!(got && json_object_get(j, "user")), "case %zu agrees with jansson", i);
		json_decref(j);
	}
	/* a member past the first eight-byte window, at every offset */
	char buf[128];
	int missed = 0;
	for (int pad = 0; pad < 24; pad++) {
		snprintf(buf, sizeof buf, "{\"a\":\"%.*s\",\"user\":1}", pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		missed += json_span_key_absent(buf, strlen(buf), "user");
	}
	is_int(missed, 0, "a user member after 0-23 bytes of padding is never called absent");
	tap_done();
	return tap_exit_status();
}
