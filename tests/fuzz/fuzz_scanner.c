/* libFuzzer target for the scanner: any bytes scan without crashing, and
 * the findings obey the contract of policy_scan_text (in bounds, sorted,
 * no overlaps, known detector). A second scanner built with the scalar
 * position filter (POLICY_SCANNER_FLAG_NO_SIMD) and a third with the AVX2
 * classification (POLICY_SCANNER_FLAG_NO_AVX512) must find exactly the
 * same, and so must a fourth that calls every NUMBER detector on every
 * number run (POLICY_SCANNER_FLAG_NO_NUM_GATE) and a fifth with AVX-512
 * but the nibble in-word test (POLICY_SCANNER_FLAG_NO_VBMI; like the
 * default, it gates texts over 128 bytes by four bytes, kwhash.h), and a
 * sixth that records the special categories' person references in pass
 * 1 instead of looking them up when a term asks
 * (POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT, lazyctx.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_findings f, g;

/* Aborts unless scanner o finds exactly f (the default scanner's). */
static void fuzz_scanner_same(const struct policy_scanner *o, const char *text, size_t size)
{
	policy_findings_clear(&g);
	if (policy_scan_text(o, text, size, &g) < 0 || g.n != f.n)
		abort();
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].start != g.v[i].start || f.v[i].end != g.v[i].end ||
		    f.v[i].detector != g.v[i].detector || f.v[i].confidence != g.v[i].confidence)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_scanner *sc, *scalar, *avx2, *nogate, *novbmi, *eager;
	char err[256];

	if (!sc) {
		sc = policy_scanner_new(NULL, 0, err, sizeof(err));
		scalar = policy_scanner_new_flags(NULL, 0, POLICY_SCANNER_FLAG_NO_SIMD,
						  err, sizeof(err));
		avx2 = policy_scanner_new_flags(NULL, 0, POLICY_SCANNER_FLAG_NO_AVX512,
						err, sizeof(err));
		nogate = policy_scanner_new_flags(NULL, 0, POLICY_SCANNER_FLAG_NO_NUM_GATE,
						  err, sizeof(err));
		novbmi = policy_scanner_new_flags(NULL, 0, POLICY_SCANNER_FLAG_NO_VBMI,
						  err, sizeof(err));
		eager = policy_scanner_new_flags(NULL, 0, POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT,
						 err, sizeof(err));
		if (!sc || !scalar || !avx2 || !nogate || !novbmi || !eager)
			abort();
		policy_findings_init(&f);
		policy_findings_init(&g);
	}
	/* scan a private copy: the scanner must not read past len */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	policy_findings_clear(&f);
	if (policy_scan_text(sc, text, size, &f) < 0) {
		free(text);
		return 0;   /* out of memory or a limit: fail closed is allowed */
	}
	fuzz_scanner_same(scalar, text, size);
	fuzz_scanner_same(avx2, text, size);
	fuzz_scanner_same(nogate, text, size);
	fuzz_scanner_same(novbmi, text, size);
	fuzz_scanner_same(eager, text, size);
	for (size_t i = 0; i < f.n; i++) {
		const struct policy_finding *x = &f.v[i];
		if (x->start >= x->end || x->end > size ||
		    x->detector >= policy_scanner_detector_count(sc))
			abort();
		if (i && x->start < f.v[i - 1].end)
			abort();
	}
	free(text);
	return 0;
}
