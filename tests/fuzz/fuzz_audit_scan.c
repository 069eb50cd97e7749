/* libFuzzer target: the audit filter's member scan (json_span_members),
 * which reads the end user, the model and the usage from request and
 * answer bytes without a tree. Differential: whenever jansson accepts the
 * input as an object and the scan answers, the scan must find exactly the
 * members jansson has, with the same values; spans stay inside the input
 * whatever it is. json_span_key_absent must never call a member absent
 * that jansson finds. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/json_span.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct json_span_member m[3] = { { .key = "user" }, { .key = "model" }, { .key = "usage" } };
	/* the audit filter's shortcut: "no user member" must hold for jansson too */
	if (json_span_key_absent(t, size, "user")) {
		json_t *r = json_loadb(t, size, 0, NULL);
		if (json_object_get(r, "user"))
			abort();
		json_decref(r);
	}
	if (json_span_members(t, size, m, 3) < 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (m[i].found && !(m[i].start < m[i].end && m[i].end <= size))
			abort();
	json_t *root = json_loadb(t, size, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		json_t *want = json_object_get(root, m[i].key);
		if (!want != !m[i].found)
			abort();
		if (!want)
			continue;
		json_t *got = json_loadb(t + m[i].start, m[i].end - m[i].start, JSON_DECODE_ANY, NULL);
		if (!got || !json_equal(got, want))
			abort();
		json_decref(got);
		uint64_t v;
		if (json_span_uint(t, m[i].start, m[i].end, &v) == 0 &&
		    !(json_is_integer(want) && (uint64_t)json_integer_value(want) == v))
			abort();
	}
	json_decref(root);
	return 0;
}
