/* The single-pass scanner: multi-literal keyword prefilter plus shape
 * recognition in one pass, then exact validators (policies/detector.h).
 *
 * A scanner is built once (from the builtin detector table plus custom
 * detectors from policy files) and is immutable afterwards: share it between
 * threads freely. Each thread owns its struct policy_findings and reuses it
 * across scans; a scan allocates only when that array has to grow. */
#ifndef HAFEN_POLICIES_SCAN_H
#define HAFEN_POLICIES_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "policies/detector.h"
#include "policies/policy-t.h"

/* Texts longer than this are refused (offsets are 32-bit). */
#define POLICY_SCAN_MAX_LEN      ((size_t)1 << 30)
/* One scan appends at most this many findings; more fails the scan. */
#define POLICY_SCAN_MAX_FINDINGS ((size_t)1 << 20)

struct scan_scratch;           /* scanner-internal, reused between scans */

struct policy_findings {
	struct policy_finding *v;  /* v[0..n) */
	size_t n, cap;
	const char *error;         /* static message after a failed scan */
	struct scan_scratch *scratch;
};

void policy_findings_init(struct policy_findings *f);
/* Forget the findings, keep the memory. */
void policy_findings_clear(struct policy_findings *f);
/* Free everything (scratch buffers that held offsets are wiped). */
void policy_findings_free(struct policy_findings *f);
/* Append one finding (used by scan_add_finding and by callers merging
 * results). 0 or -1 on out of memory. */
int policy_findings_add(struct policy_findings *f, const struct policy_finding *x);

/* Builds the scanner from every builtin detector plus n_extra custom ones
 * (which must outlive the scanner). NULL with a message in err on error. */
struct policy_scanner *policy_scanner_new(const struct detector *const *extra,
					  size_t n_extra, char *err, size_t errlen);

/* Options for policy_scanner_new_flags. */
enum policy_scanner_flag {
	/* Use the portable byte-by-byte position filter even where the CPU
	 * has AVX2 (tests compare both paths; findings are identical). */
	POLICY_SCANNER_FLAG_NO_SIMD = 1u << 0,
	/* Use the AVX2 block classification even where the CPU has
	 * AVX-512BW (tests compare it with the AVX-512 one). */
	POLICY_SCANNER_FLAG_NO_AVX512 = 1u << 1,
	/* Use the AVX-512BW classification without its AVX-512 VBMI test
	 * of in-word keyword starts where the CPU has VBMI (tests compare
	 * both). */
	POLICY_SCANNER_FLAG_NO_VBMI = 1u << 2,
	/* Call every NUMBER detector on every number run of its digit count
	 * and every ALNUM detector on every alphanumeric run, without the
	 * NUMBER and ALNUM gates' tables of what each detector's first tests
	 * accept (tests and fuzz_scanner hold those tables to the detectors:
	 * the findings must be identical). */
	POLICY_SCANNER_FLAG_NO_NUM_GATE = 1u << 3,
	/* Look for every context word in pass 1, also those that are
	 * otherwise looked up only when a detector asks about a window (the
	 * special categories' person references, scan.c scan_lazy_groups;
	 * tests and fuzz_scanner compare both: the findings must be
	 * identical). */
	POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT = 1u << 4,
};

/* policy_scanner_new with options (a mask of enum policy_scanner_flag). */
struct policy_scanner *policy_scanner_new_flags(const struct detector *const *extra,
						size_t n_extra, unsigned flags,
						char *err, size_t errlen);
void policy_scanner_free(struct policy_scanner *s);

/* One pass over text[0..len). Appends the findings after what `out` holds,
 * sorted by start, overlaps resolved (the longer, then the higher
 * confidence, then the earlier detector wins). 0, or -1 with out->error set
 * (limit hit, out of memory): the caller must fail closed. */
int policy_scan_text(const struct policy_scanner *s, const char *text,
		     size_t len, struct policy_findings *out);

/* The detector table the scanner uses: index = policy_finding.detector. */
size_t policy_scanner_detector_count(const struct policy_scanner *s);
const struct detector *policy_scanner_detector(const struct policy_scanner *s,
					       size_t index);
/* Index of the detector with this id, or -1. */
int policy_scanner_find_detector(const struct policy_scanner *s, const char *id);

#endif
