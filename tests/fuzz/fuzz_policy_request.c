/* libFuzzer target: the policy filter's request side on the client's bytes
 * against the same on the jansson tree (tests/unit/policy_request_diff.c):
 * the same texts, findings, decision, audit info and rewritten body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/policy_request_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_request_diff_stats st = {0};
	char why[256];
	if (policy_request_diff((const char *)data, size, &st, why, sizeof why) == 1) {
		fprintf(stderr, "fuzz_policy_request: %s\n", why);
		abort();
	}
	return 0;
}
