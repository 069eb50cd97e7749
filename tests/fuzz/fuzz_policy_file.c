/* libFuzzer target: the policy file parser and the custom pattern language.
 * A file that loads is then used: its custom detectors scan the input itself
 * and the decision runs over what they found. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct policy_set *set = policy_set_new();
	if (!set)
		return 0;
	if (policy_file_load_buffer(set, "fuzz.json", (const char *)data, size, err, sizeof err) == 0) {
		struct policy_finding *v = NULL;
		size_t n = 0, cap = 0;
		if (custom_scan_text(set, (const char *)data, size, &v, &n, &cap) == 0) {
			for (size_t i = 0; i < n; i++)
				if (v[i].start > v[i].end || v[i].end > size)
					abort();
			struct policy_verdict *verdicts = calloc(n ? n : 1, sizeof(*verdicts));
			struct policy_decision d;
			/* Every context kind on for odd sizes: context_actions get decided too. */
			struct policy_context ctx = { "support", NULL, NULL, POLICY_DIRECTION_REQUEST, size & 1 ? ~0u : 0 };
			if (verdicts && policy_decide(set, &ctx, v, n, verdicts, &d, err, sizeof err) == 0)
				policy_decision_clear(&d);
			free(verdicts);
		}
		free(v);
		if (strlen(policy_set_hash(set)) != 64)
			abort();
	} else if (err[0] == '\0') {
		abort(); /* every refusal says why */
	}
	policy_set_free(set);
	return 0;
}
