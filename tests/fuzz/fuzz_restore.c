/* libFuzzer target: the streaming restorer and the answer guard.
 * Input: byte 0 = number of placeholders to register (mod 8), then the
 * answer text; the text is cut into pieces at positions derived from its
 * own bytes. Property: the streamed result equals the one-piece result,
 * and what is held back is never more than a partial placeholder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/restore.h"
#include "policies/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_labels[] = { "PERSON", "EMAIL", "IBAN", "P" };

static char *fuzz_restore_run(const struct rewrite_map *m, const char *text, size_t len,
			      size_t step_seed, size_t *outlen)
{
	struct restore_stream *rs = restore_stream_new(m);
	char *acc = malloc(len * 64 + 64);
	size_t n = 0;
	if (!rs || !acc)
		abort();
	size_t i = 0;
	while (i < len) {
		size_t k = step_seed ? 1 + (size_t)(unsigned char)text[i] % step_seed : len - i;
		if (k > len - i)
			k = len - i;
		const char *out;
		size_t on;
		if (restore_stream_feed(rs, text + i, k, &out, &on) < 0)
			abort();
		memcpy(acc + n, out, on);
		n += on;
		i += k;
	}
	const char *out;
	size_t on;
	if (restore_stream_finish(rs, &out, &on) < 0)
		abort();
	if (on >= REWRITE_PLACEHOLDER_MAX || (on && !rewrite_map_is_partial(m, out, on)))
		abort();
	memcpy(acc + n, out, on);
	n += on;
	restore_stream_free(rs);
	*outlen = n;
	return acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct rewrite_map *m = rewrite_map_new();
	unsigned n_ph = data[0] % 8;
	for (unsigned i = 0; i < n_ph; i++) {
		char v[32];
		int vl = snprintf(v, sizeof v, "value-%u-%s", i, i % 2 ? "x" : "with <PERSON_1> inside");
		rewrite_map_placeholder(m, fuzz_labels[i % 4], v, (size_t)vl);
	}
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	size_t whole_len, split_len, byte_len;
	char *whole = fuzz_restore_run(m, text, len, 0, &whole_len);
	char *split = fuzz_restore_run(m, text, len, 7, &split_len);
	char *bytes = fuzz_restore_run(m, text, len, 1, &byte_len);
	if (whole_len != split_len || memcmp(whole, split, whole_len) != 0 ||
	    whole_len != byte_len || memcmp(whole, bytes, whole_len) != 0)
		abort();
	free(whole);
	free(split);
	free(bytes);

	/* The guard with an empty policy: must release every byte unchanged. */
	struct policy_set *set = policy_set_new();
	struct policy_context ctx = { NULL, NULL, NULL, POLICY_DIRECTION_RESPONSE, 0 };
	struct restore_guard *g = restore_guard_new(set, &ctx, NULL, NULL);
	char err[128];
	int pem = memmem(text, len, "-----BEGIN", 10) != NULL;
	size_t got = 0;
	for (size_t i = 0; i < len;) {
		size_t k = 1 + (size_t)(unsigned char)text[i] % 13;
		if (k > len - i)
			k = len - i;
		const char *out;
		size_t on;
		if (restore_guard_feed(g, text + i, k, &out, &on, err, sizeof err) < 0)
			abort();
		if (!pem && (on > len - got || memcmp(out, text + got, on) != 0))
			abort();
		got += on;
		i += k;
	}
	const char *out;
	size_t on;
	if (restore_guard_finish(g, &out, &on, err, sizeof err) < 0)
		abort();
	/* An unterminated PEM block is the one thing an empty policy still cuts. */
	if (!pem && (got + on != len || memcmp(out, text + got, on) != 0))
		abort();
	restore_guard_free(g);
	policy_set_free(set);
	rewrite_map_free(m);
	return 0;
}
