/* libFuzzer target: the full scanner on arbitrary bytes, seeded with the
 * lexicon detectors' territory (names, dates of birth, addresses, PEM
 * blocks, JWTs, tokens, assignments, special-category sentences). The
 * lexicon detectors look backwards and forwards from their triggers, so
 * the properties checked are the ones a bad bound would break: the scan
 * succeeds, every finding lies inside the text, findings are sorted and do
 * not overlap. The input is copied to a buffer of exactly its size so that
 * ASan sees any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_scanner *fuzz_lexicon_scanner;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (!fuzz_lexicon_scanner) {
		fuzz_lexicon_scanner = policy_scanner_new(NULL, 0, err, sizeof err);
		if (!fuzz_lexicon_scanner)
			abort();
	}
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	struct policy_findings f;
	policy_findings_init(&f);
	if (policy_scan_text(fuzz_lexicon_scanner, text, size, &f) < 0)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		if (f.v[i].start >= f.v[i].end || f.v[i].end > size)
			abort();
		if (i > 0 && f.v[i].start < f.v[i - 1].end)
			abort();
	}
	policy_findings_free(&f);
	free(text);
	return 0;
}
