/* The single-pass scanner (see scan.h, detector.h).
 *
 * Pass 1 walks the text once, 64 bytes at a time: byte classes (with
 * AVX2, or per byte) give the word starts, the positions where a trie
 * keyword may start, and the shape triggers of the block, and three short
 * loops visit only those. At a word start the word itself (and its
 * prefixes, for stems) is looked up in the word hash (policies/kwhash.h),
 * which holds every keyword that must start a word; the trie
 * (policies/ac.h) keeps the few that may start inside a word or begin
 * with a non-word byte ("krebs" in "Brustkrebs", "://", "-----BEGIN").
 * Shape recognition starts on digits, '@', ':' and '-' (the shape reader
 * looks ahead over the run and is not re-entered until the run ends).
 * Keyword hits become triggers and/or context entries; shapes become
 * triggers. The keywords of a few context groups (scan_lazy_groups) are
 * not looked for here but in a detector's window when it asks
 * (scan_context_near(), lazyctx.h).
 * Pass 2 walks only the (few) triggers and calls the detectors that asked
 * for them; pass 3 sorts the findings and resolves overlaps. Nothing is
 * allocated unless the caller's arrays must grow. */
#include "policies/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/ac.h"
#include "policies/kwhash.h"
#include "policies/lazyctx.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_HAVE_AVX2 1
#include <immintrin.h>
#else
#define SCAN_HAVE_AVX2 0
#endif

#define D SCAN_BYTE_DIGIT | SCAN_BYTE_HEX
#define UH SCAN_BYTE_UPPER | SCAN_BYTE_HEX
#define LH SCAN_BYTE_LOWER | SCAN_BYTE_HEX
const uint8_t scan_byte_class[256] = {
	['\t'] = SCAN_BYTE_SPACE, ['\n'] = SCAN_BYTE_SPACE, ['\v'] = SCAN_BYTE_SPACE,
	['\f'] = SCAN_BYTE_SPACE, ['\r'] = SCAN_BYTE_SPACE,
	[' '] = SCAN_BYTE_SPACE | SCAN_BYTE_NUMSEP,
	['-'] = SCAN_BYTE_NUMSEP, ['.'] = SCAN_BYTE_NUMSEP, ['/'] = SCAN_BYTE_NUMSEP,
	['('] = SCAN_BYTE_NUMSEP, [')'] = SCAN_BYTE_NUMSEP,
	['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
	['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
	['A'] = UH, ['B'] = UH, ['C'] = UH, ['D'] = UH, ['E'] = UH, ['F'] = UH,
	['G' ... 'Z'] = SCAN_BYTE_UPPER,
	['a'] = LH, ['b'] = LH, ['c'] = LH, ['d'] = LH, ['e'] = LH, ['f'] = LH,
	['g' ... 'z'] = SCAN_BYTE_LOWER,
	[0x80 ... 0xff] = SCAN_BYTE_HIGH,
};
#undef D
#undef UH
#undef LH

/* Bytes that may start a shape: digits, '@', ':', '-'. */
static const uint8_t scan_trigger_byte[256] = {
	['0' ... '9'] = 1, ['@'] = 1, [':'] = 1, ['-'] = 1,
};

/* One keyword of the automaton. */
struct scan_keyword {
	uint16_t det;        /* detector index */
	uint16_t kw;         /* index in that detector's keyword list */
	uint8_t flags;
	uint8_t context;
	uint32_t len;
	const char *word;
};

struct scan_shape_subs {
	uint16_t *det;
	size_t n;
};

#define SCAN_N_SHAPES 4
#define SCAN_NUM_UPTO 64

/* The NUMBER gate. Pass 2 reads a number run once into these facts (a
 * bit each) and calls only the detectors whose row below the run's
 * digit count and facts can satisfy: most of a text's number runs are
 * dates, amounts and references that no identifier's reader would take
 * past its first tests, and ~9 calls per run each re-read the run's
 * ends. Each row is a necessary condition taken from the detector's own
 * first tests (detect_*.c), so a detector left out would have returned
 * without a finding: the findings are the same. Keep a row in step when
 * its detector's NUMBER path changes. */
enum scan_num_fact {
	SCAN_NUM_FACT_PLUS = 1u << 0,           /* the run starts with '+' */
	SCAN_NUM_FACT_NO_PLUS = 1u << 1,        /* ... does not */
	SCAN_NUM_FACT_NO_PLUS_PAREN = 1u << 2,  /* ... with neither '+' nor '(' */
	SCAN_NUM_FACT_DIGIT_START = 1u << 3,    /* ... with a digit */
	SCAN_NUM_FACT_LEAD_1_8 = 1u << 4,       /* ... with '1'..'8' */
	SCAN_NUM_FACT_FIRST_0 = 1u << 5,        /* its first digit is '0' */
	SCAN_NUM_FACT_FIRST_1 = 1u << 6,        /* ... '1' */
	SCAN_NUM_FACT_FIRST_5_9 = 1u << 7,      /* ... '5'..'9' */
	SCAN_NUM_FACT_DOTS3 = 1u << 8,          /* three '.' or more inside */
	SCAN_NUM_FACT_UPPER2_BEFORE = 1u << 9,  /* two capitals right before ("DE89") */
	/* a capital right before, or before one ' ' ("DE 123", "ATU 1358") */
	SCAN_NUM_FACT_UPPER_BEFORE = 1u << 10,
	/* a capital right after, or after one '-', '.', ' ' ("12345678-Z") */
	SCAN_NUM_FACT_UPPER_AFTER = 1u << 11,
	/* "X-" (Y, Z) right before; a NUL byte counts as X, as strchr() in
	 * the NIE reader finds the terminator */
	SCAN_NUM_FACT_NIE_BEFORE = 1u << 12,
	SCAN_NUM_FACT_SPACE_BEFORE = 1u << 13,  /* ' ' right before, 3+ bytes in */
	SCAN_NUM_FACT_FIRST_2_9 = 1u << 14,     /* its first digit is '2'..'9' */
	SCAN_NUM_FACT_NO_DOTS = 1u << 15,       /* no '.' inside */
};

/* The facts scan_num_facts() reads together: a run's facts are read only
 * in the parts that some row of its digit count asks about (the others
 * stay 0, and no row of that count looks at them). */
#define SCAN_NUM_FACTS_FIRST (SCAN_NUM_FACT_FIRST_0 | SCAN_NUM_FACT_FIRST_1 | \
			      SCAN_NUM_FACT_FIRST_5_9 | SCAN_NUM_FACT_FIRST_2_9)
#define SCAN_NUM_FACTS_BEFORE (SCAN_NUM_FACT_UPPER2_BEFORE | SCAN_NUM_FACT_UPPER_BEFORE | \
			       SCAN_NUM_FACT_NIE_BEFORE | SCAN_NUM_FACT_SPACE_BEFORE)

/* The facts a run of some digit count most often lacks, rarest first (on
 * business text: dotted quads, '+', a country code before, a letter
 * after, trunk 0). For each digit count the builder takes one fact per
 * row from this list (or the row's context group); a run that has none
 * of them, and whose text holds none of those groups, passes no row, and
 * the rows are not walked. Rows with no such fact (the payment card's:
 * digit totals only) turn this off for their counts. */
static const uint16_t scan_num_rare[] = {
	SCAN_NUM_FACT_DOTS3, SCAN_NUM_FACT_PLUS, SCAN_NUM_FACT_UPPER2_BEFORE,
	SCAN_NUM_FACT_NIE_BEFORE, SCAN_NUM_FACT_UPPER_BEFORE, SCAN_NUM_FACT_UPPER_AFTER,
	SCAN_NUM_FACT_FIRST_0, SCAN_NUM_FACT_FIRST_1, SCAN_NUM_FACT_FIRST_5_9,
	SCAN_NUM_FACT_SPACE_BEFORE, SCAN_NUM_FACT_LEAD_1_8, SCAN_NUM_FACT_FIRST_2_9,
	SCAN_NUM_FACT_NO_DOTS, SCAN_NUM_FACT_DIGIT_START, SCAN_NUM_FACT_NO_PLUS_PAREN, SCAN_NUM_FACT_NO_PLUS,
};

#define SCAN_NUM_ANY (~UINT64_C(0))
#define SCAN_NUM_EQ(n) (UINT64_C(1) << (n))
#define SCAN_NUM_FROM(n) (~UINT64_C(0) << (n))

/* One way a run can reach a detector's reader: its digit count is a bit
 * of digits, it has all of facts, and (totals != 0) some bit of totals is
 * one of scan_trigger_digit_totals() of the run (computed once per run,
 * on the first row that asks, and shared with the detectors), and
 * (ctx != 0) a context word of group ctx is near the run the way
 * detect_national_id.c asks (SCAN_NUM_CTX_BEFORE / _AFTER bytes; the
 * window's groups are found once per run). Unused alternatives have
 * digits 0. */
struct scan_num_alt {
	uint64_t digits;
	uint16_t facts;
	uint8_t ctx;
	uint64_t totals;
};

/* DETECT_NATIONAL_BEFORE / _AFTER in detect_national_id.c */
#define SCAN_NUM_CTX_BEFORE 80
#define SCAN_NUM_CTX_AFTER 24

#define SCAN_NUM_ALTS 5

/* Builtin NUMBER detectors by id; one with no row here (and every
 * custom detector) is called for every run of its min_digits. */
static const struct {
	const char *id;
	struct scan_num_alt alt[SCAN_NUM_ALTS];
} scan_num_gates[] = {
	/* detect_contact_match_phone(): '+', trunk 0, or the 9-digit
	 * ES/PL (5-9), 10-digit NANP (area code 2-9; not the dotted quads
	 * "192.168.10.23") and 11-digit NANP (1) counts */
	{ "phone", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_PLUS },
		     { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_FIRST_0 },
		     { .digits = SCAN_NUM_EQ(9), .facts = SCAN_NUM_FACT_FIRST_5_9 },
		     { .digits = SCAN_NUM_EQ(10), .facts = SCAN_NUM_FACT_FIRST_2_9 },
		     { .digits = SCAN_NUM_EQ(11), .facts = SCAN_NUM_FACT_FIRST_1 } } },
	/* detect_contact_match_ipv4(): a dotted quad has three dots (the
	 * dates "31.03.2025" have two) */
	{ "ipv4", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_DOTS3 } } },
	/* detect_financial_match_card(): 13-19 digits over separators */
	{ "payment_card", { { .digits = SCAN_NUM_ANY, .facts = 0, .totals = UINT64_C(0x7f) << 13 } } },
	/* detect_financial_match_vat(): a prefix ending at most one ' ' or
	 * 'U' before the run, or PL/IT 10 or 11 digits with a VAT word in
	 * the run's window (it asks for one there, then 40 bytes before) */
	{ "vat_id", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_DIGIT_START | SCAN_NUM_FACT_UPPER_BEFORE },
		      { .digits = SCAN_NUM_EQ(10) | SCAN_NUM_EQ(11), .facts = SCAN_NUM_FACT_DIGIT_START,
			.ctx = SCAN_CONTEXT_VAT } } },
	/* detect_national_match_digits(): no international phone number */
	/* ... and a span of its digit count over separators, or, for the
	 * rows that need their context word and accept no free shape (BSN,
	 * PESEL, NHS, SSN), that word (asked first, as they do); the rows
	 * with a free shape (AT, BE) take a run without their word only when
	 * it holds exactly their digit count */
	{ "de_tax_id", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS, .totals = SCAN_NUM_EQ(11) } } },
	/* (AT without its word: "1237 010180", the run one span of its
	 * groups 4 and 6 over ' ', its only separator: no '.' in the run) */
	{ "at_social_security_number", {
		{ .digits = SCAN_NUM_EQ(10), .facts = SCAN_NUM_FACT_NO_PLUS | SCAN_NUM_FACT_NO_DOTS,
		  .totals = SCAN_NUM_EQ(10) },
		{ .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS, .totals = SCAN_NUM_EQ(10),
		  .ctx = SCAN_CONTEXT_SOCIAL_SECURITY } } },
	{ "nl_bsn", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS,
			.ctx = SCAN_CONTEXT_BSN } } },
	{ "pl_pesel", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS,
			  .ctx = SCAN_CONTEXT_PESEL } } },
	{ "be_national_number", {
		{ .digits = SCAN_NUM_EQ(11), .facts = SCAN_NUM_FACT_NO_PLUS, .totals = SCAN_NUM_EQ(11) },
		{ .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS, .totals = SCAN_NUM_EQ(11),
		  .ctx = SCAN_CONTEXT_BE_NATIONAL } } },
	{ "gb_nhs_number", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS,
			       .ctx = SCAN_CONTEXT_NHS } } },
	{ "us_ssn", { { .digits = SCAN_NUM_ANY, .facts = SCAN_NUM_FACT_NO_PLUS,
			.ctx = SCAN_CONTEXT_SSN } } },
	/* detect_national_match_nir(): 6 digits before 2A/2B, or a span of
	 * exactly 15 over the run's joins (card numbers and IBANs have none);
	 * from 6 digits its reader needs the 'A' or 'B' right after the run
	 * or after one ' ' (a digit there would have gone on with the run) */
	{ "fr_nir", { { .digits = SCAN_NUM_EQ(6),
			.facts = SCAN_NUM_FACT_LEAD_1_8 | SCAN_NUM_FACT_UPPER_AFTER },
		      { .digits = SCAN_NUM_FROM(15), .facts = SCAN_NUM_FACT_LEAD_1_8,
			.totals = SCAN_NUM_EQ(15) } } },
	/* detect_national_match_es(): the id's digits and its check letter */
	{ "es_dni", { { .digits = SCAN_NUM_EQ(8), .facts = SCAN_NUM_FACT_NO_PLUS_PAREN | SCAN_NUM_FACT_UPPER_AFTER } } },
	{ "es_nie", { { .digits = SCAN_NUM_EQ(7), .facts = SCAN_NUM_FACT_NIE_BEFORE | SCAN_NUM_FACT_UPPER_AFTER } } },
	/* detect_national_match_nino(): "AB 12 34 56 C", the prefix's
	 * second letter before the ' ' a capital (validate_gb_nino() wants a
	 * letter, the reader no lower case) */
	{ "gb_nino", { { .digits = SCAN_NUM_EQ(6),
			 .facts = SCAN_NUM_FACT_SPACE_BEFORE | SCAN_NUM_FACT_UPPER_BEFORE } } },
};

/* The ALNUM gate: the run lengths (end - start; bit 63: 63 or more) at
 * which a builtin detector's ALNUM reader can find anything, from its
 * first test in detect_*.c; one with no row here (and every custom
 * detector) is called for every alphanumeric run. Most such runs are
 * "DE89" (an IBAN's first group) and VAT ids, which the fixed-length
 * ids never take. */
#define SCAN_ALNUM_LEN(n) (UINT64_C(1) << (n))
static const struct {
	const char *id;
	uint64_t lens;
} scan_alnum_gates[] = {
	/* detect_financial_match_vat(): 9-14 characters */
	{ "vat_id", UINT64_C(0x3f) << 9 },
	/* detect_national_match_id_card(): 10 (with check digit) or 9 */
	{ "de_id_card", SCAN_ALNUM_LEN(9) | SCAN_ALNUM_LEN(10) },
	{ "de_pension_number", SCAN_ALNUM_LEN(12) },
	{ "de_health_insurance_number", SCAN_ALNUM_LEN(10) },
	{ "it_fiscal_code", SCAN_ALNUM_LEN(16) },
	/* special_match_icd10(): a letter and two digits */
	{ "health_icd10", SCAN_ALNUM_LEN(3) },
};

/* The ALNUM gate's second test: the bytes an alphanumeric run can begin
 * with for a builtin detector's ALNUM reader to find anything (the
 * run's first byte is the id's first character in each), from its first
 * test in detect_*.c; one with no row here takes any. The benchmark's
 * runs "DE89" and "DE136695976" begin no DNI, NIE or NINO. */
#define SCAN_ALNUM_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
static const struct {
	const char *id;
	const char *first;
} scan_alnum_first[] = {
	/* detect_financial_match_iban(): two capitals and two digits */
	{ "iban", SCAN_ALNUM_UPPER },
	/* detect_financial_match_vat(): a VAT prefix (two capitals) */
	{ "vat_id", SCAN_ALNUM_UPPER },
	/* detect_national_match_es(): a DNI's first digit, a NIE's X/Y/Z
	 * in either case */
	{ "es_dni", "0123456789" },
	{ "es_nie", "XYZxyz" },
	/* detect_national_match_nino(): a prefix letter HMRC issues (no D,
	 * F, I, Q, U, V) */
	{ "gb_nino", "ABCEGHJKLMNOPRSTWXYZ" },
};

/* What pass 1 does with a number run of some digit count
 * (policy_scanner.num_keep). */
enum scan_num_keep {
	SCAN_NUM_KEEP_NONE = 0,   /* no detector takes the count */
	SCAN_NUM_KEEP_ALL = 1,    /* recorded */
	SCAN_NUM_KEEP_HINT = 2,   /* recorded when it has a fact of the count's hint */
};

/* One detector a run of some digit count may reach, and the facts it
 * needs; a detector with several alternatives has consecutive entries. */
struct scan_num_entry {
	uint16_t det;
	uint16_t facts;     /* enum scan_num_fact */
	uint8_t ctx;
	uint64_t totals;
};

struct policy_scanner {
	const struct detector **det;
	size_t n_det;
	struct scan_keyword *kw;
	size_t n_kw;
	struct ac *ac;           /* keywords that may start inside a word */
	uint32_t *ac_id;         /* ac word index -> keyword id */
	struct kwhash *kh;       /* keywords that start a word (kwhash.h) */
	struct scan_shape_subs shape[SCAN_N_SHAPES];
	uint32_t shape_mask;  /* union of all detectors' shapes */
	unsigned num_min_digits; /* shortest number run any detector wants */
	/* NUMBER subscribers (sorted by min_digits) that a run of d digits
	 * reaches, for d < SCAN_NUM_UPTO: pass 2 calls the first
	 * num_upto[d] without reading each detector's min_digits */
	uint8_t num_upto[SCAN_NUM_UPTO];
	uint8_t byteinfo[256];   /* SCAN_INFO_* per byte */
	/* Pass 1's position filter (see scan_build_filter): per byte class
	 * W = word byte, H = may start a word-hash keyword (kwhash.h), F =
	 * may start a trie keyword after a non-word byte, T = shape trigger.
	 * For ASCII bytes as nibble tables: bit (c >> 4) of lo_x[c & 15];
	 * bytes >= 0x80 are all word bytes and count as H / F when any of
	 * them is. */
	uint8_t lo_w[16], lo_h[16], lo_f[16], lo_t[16], lo_d[16];
	uint8_t high_h, high_f;
	/* In-word keyword starts, two bytes at a time (the bigrams of
	 * ac->bi_inner, both cases), as 8 buckets over the nibbles of the
	 * first and the second byte: a position passes when some bucket has
	 * both nibbles of both bytes. A superset of bi_inner, never less. */
	uint8_t in_lo0[16], in_hi0[16], in_lo1[16], in_hi1[16];
	/* the same for the third byte (any byte for keywords shorter than 3):
	 * most in-word bigram hits ("st", "we", "an" in German words) fail
	 * here instead of in the trie's maps */
	uint8_t in_lo2[16], in_hi2[16];
	/* and for the fourth (any byte for keywords shorter than 4): on the
	 * benchmark's text the in-word candidates that reach the trie's own
	 * test drop from ~13,000 to ~4,000 per 300 KB, of which ~270 pass it
	 * (the trie tests four bytes too, ac_candidate()) */
	uint8_t in_lo3[16], in_hi3[16];
	/* The same test with exact bytes for the AVX-512 VBMI step (a
	 * 128-byte table per position, which in_x64 folds to 64 entries for
	 * one vpermb each): the buckets of every trie keyword by its first
	 * byte, for its first four bytes (any byte past a shorter keyword's
	 * end); bytes >= 0x80 share one entry per position. ~4,000 -> ~1,200
	 * candidates per 300 KB of the benchmark's text, ~270 of which pass
	 * the trie's own test. */
	uint8_t in_x[4][128];
	uint8_t in_xhigh[4];
	size_t n_ac;             /* keywords in the trie */
	int use_avx2;
	int use_avx512;          /* AVX-512BW classification (64 bytes per step) */
	int use_vbmi;            /* with the VBMI in-word test (in_x) */
	/* the NUMBER gate (NULL with POLICY_SCANNER_FLAG_NO_NUM_GATE): for
	 * a run of d < SCAN_NUM_UPTO digits, entries
	 * num_gate[num_gate_off[d] .. num_gate_off[d + 1]) in call order
	 * (last: placed before byteinfo[], they made the scalar path ~7 %
	 * slower, docs/benchmarks.md round 6) */
	struct scan_num_entry *num_gate;
	uint32_t num_gate_off[SCAN_NUM_UPTO + 1];
	/* in_x folded to 64 entries for a one-table permute (vpermb: the
	 * two-table vpermt2b cost ~5 % of the scan's time on this Zen 4):
	 * entry k is in_x[q][k] | in_x[q][k + 64], so a byte shares its
	 * buckets with the one 64 away ('a' with '!', 'p' with '0', 'A'
	 * with a control byte): a superset, never less (at the end of the
	 * struct for the reason given at num_gate) */
	uint8_t in_x64[4][64];
	/* per digit count d < SCAN_NUM_UPTO (with num_gate): the facts its
	 * rows ask about (scan_num_facts() reads only those), and the
	 * shortcut of scan_num_rare[]: a run with none of the facts
	 * num_gate_hint[d] and none of the context groups num_gate_hctx[d]
	 * in its text passes no row (hint 0xffff: no shortcut) */
	uint16_t num_gate_need[SCAN_NUM_UPTO];
	uint16_t num_gate_hint[SCAN_NUM_UPTO];
	uint64_t num_gate_hctx[SCAN_NUM_UPTO];
	/* per ALNUM subscriber (shape[1].det order): scan_alnum_gates[]'s
	 * lengths, all ones without a row (NULL with NO_NUM_GATE) */
	uint64_t *alnum_lens;
	/* per digit count d < SCAN_NUM_UPTO (with num_gate): the entries of
	 * d without a context group, in the same order, at
	 * num_gate[num_gate_noctx[d] .. num_gate_noctx[d + 1]): what pass 2
	 * walks when none of num_gate_hctx[d] is in the text (most texts
	 * hold none of the national rows' words) */
	uint32_t num_gate_noctx[SCAN_NUM_UPTO + 1];
	/* the ALNUM gate by run length (bit 63: 63 or more): bit u is
	 * whether subscriber u takes a run of that length (alnum_lens[u]),
	 * for up to 64 subscribers (alnum_by_len_ok) */
	uint64_t alnum_by_len[64];
	int alnum_by_len_ok;
	/* the facts of the entries without context (num_gate_noctx), 16 per
	 * digit count, the unused ones 0xffff (no run has all facts: not
	 * both PLUS and NO_PLUS), for
	 * the digit counts d with at most 16 such entries (bit d of
	 * num_gate_nc16): pass 2 tests all 16 at once */
	uint16_t num_gate_ncfacts[SCAN_NUM_UPTO][16];
	uint64_t num_gate_nc16;
	/* per first byte of an alphanumeric run: bit u is whether
	 * subscriber u takes a run that begins so (scan_alnum_first[]),
	 * with alnum_by_len */
	uint64_t alnum_by_first[256];
	/* Pass 1's share of the NUMBER gate, per digit count d <
	 * SCAN_NUM_UPTO (enum scan_num_keep): whether pass 1 records a run
	 * of d digits. Where d has no context rows (below 9 digits with the
	 * defaults: years, dates, amounts), a run whose facts lack all of
	 * num_gate_hint[d] passes no row of pass 2, so pass 1 tests the hint
	 * and does not record it (~7,000 of ~11,700 runs per `bench/policy
	 * 1 1`): no event, no dispatch in pass 2 */
	uint8_t num_keep[SCAN_NUM_UPTO];
	/* the context groups looked up on demand (scan_lazy_groups) and
	 * their keywords, which pass 1 does not look for (0 and NULL with
	 * POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT) */
	uint64_t lazy_groups;
	struct lazyctx *lazy;
};

/* The context groups whose keywords are looked for only when a detector
 * asks about a window (lazyctx.h): the person references ("ich", "Sie",
 * "my", "elle"; detect_special.c), a third of the context hits of pass 1
 * on business text, asked about only by the special categories' terms.
 * Only keywords that are not triggers and start a word are left to the
 * lookup; a group some NUMBER gate row reads from the whole text's hits
 * (scan_ctx_groups) stays in pass 1. */
static const uint64_t scan_lazy_groups = UINT64_C(1) << SCAN_CONTEXT_PERSON_REF;

/* Per-byte facts pass 1 needs, folded into one table per scanner. */
enum scan_info {
	SCAN_INFO_WORD = 1u << 0,    /* SCAN_BYTE_WORD */
	SCAN_INFO_TRIGGER = 1u << 1, /* may start a shape */
	SCAN_INFO_INNER = 1u << 2,   /* may start a keyword inside a word */
	SCAN_INFO_FIRST = 1u << 3,   /* first byte of some keyword in the trie */
	SCAN_INFO_HFIRST = 1u << 4,  /* first byte of some word-start keyword (kwhash) */
};

struct scan_event {
	uint32_t start, end;
	uint32_t id;          /* keyword id, or shape bit index */
	uint16_t digits;      /* NUMBER: digits in the run (saturated) */
	uint8_t is_shape;
	uint8_t dots;         /* NUMBER: '.' in the run (saturated at 3), for the gate */
};

struct scan_ctx_hit {
	uint32_t start, end;
	uint8_t context;
};

struct scan_scratch {
	struct scan_event *ev;
	size_t n_ev, cap_ev;
	struct scan_ctx_hit *ctx;
	size_t n_ctx, cap_ctx;
};

/* What scan_input.priv points to. */
struct scan_priv {
	const struct scan_ctx_hit *ctx;
	size_t n_ctx;
	size_t base;          /* out->n before the scan */
	/* the groups of the last NUMBER run asked for (scan_trigger_groups):
	 * several digit-id detectors read the same run */
	uint32_t g_start, g_end;
	size_t g_n;
	struct scan_group g[SCAN_TRIGGER_GROUPS];
	uint64_t g_totals;     /* scan_trigger_digit_totals() of that run */
	/* the context groups present in the last window asked for
	 * (scan_context_near): the detectors of one trigger ask about the
	 * same window for several groups (a digit-id row up to 18 times) */
	size_t c_lo, c_hi, c_cur;
	uint64_t c_mask;
	int c_valid;
	/* the same for the groups looked up on demand (lazyctx.h), asked
	 * for in the window l_lo .. l_hi: l_mask */
	const struct lazyctx *lazy;
	uint64_t lazy_groups;
	size_t l_lo, l_hi;
	uint64_t l_mask;
	int l_valid;
};

_Static_assert(SCAN_CONTEXT_COUNT <= 64, "context groups are bits of a uint64_t");

/* The builtin families. Each file: one table of rows. */
static const struct {
	const struct detector *table;
	const size_t *count;
} scan_families[] = {
	{ detect_contact_table, &detect_contact_count },
	{ detect_financial_table, &detect_financial_count },
	{ detect_national_id_table, &detect_national_id_count },
	{ detect_person_table, &detect_person_count },
	{ detect_secret_table, &detect_secret_count },
	{ detect_special_table, &detect_special_count },
};

void policy_findings_init(struct policy_findings *f)
{
	memset(f, 0, sizeof(*f));
}

void policy_findings_clear(struct policy_findings *f)
{
	f->n = 0;
	f->error = NULL;
}

void policy_findings_free(struct policy_findings *f)
{
	if (f->scratch) {
		struct scan_scratch *s = f->scratch;
		if (s->ev)
			explicit_bzero(s->ev, s->cap_ev * sizeof(*s->ev));
		if (s->ctx)
			explicit_bzero(s->ctx, s->cap_ctx * sizeof(*s->ctx));
		free(s->ev);
		free(s->ctx);
		free(s);
	}
	if (f->v)
		explicit_bzero(f->v, f->cap * sizeof(*f->v));
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int scan_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -1;
		ncap *= 2;
	}
	void *q = realloc(*p, ncap * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = ncap;
	return 0;
}

int policy_findings_add(struct policy_findings *f, const struct policy_finding *x)
{
	if (f->n >= f->cap &&
	    scan_grow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v)) < 0)
		return -1;
	f->v[f->n++] = *x;
	return 0;
}

__attribute__((noinline, cold))
static int scan_grow_findings(struct policy_findings *f)
{
	return scan_grow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v));
}

int scan_add_finding(struct policy_findings *out, const struct scan_input *in,
		     size_t start, size_t end, unsigned confidence)
{
	const struct scan_priv *p = in->priv;
	struct policy_finding x;

	if (start >= end || end > in->len)
		return 0;   /* a detector bug must not become a bogus finding */
	if (out->n - p->base >= POLICY_SCAN_MAX_FINDINGS) {
		out->error = "too many findings in one text";
		return -1;
	}
	x.start = (uint32_t)start;
	x.end = (uint32_t)end;
	x.entity = in->det->entity;
	x.detector = in->det_index;
	x.data_class = in->det->data_class;
	x.confidence = (uint8_t)(confidence ? (confidence > 100 ? 100 : confidence)
					    : in->det->confidence);
	/* policy_findings_add() with its growth out of line (as events) */
	if (out->n >= out->cap && scan_grow_findings(out) < 0) {
		out->error = "out of memory";
		return -1;
	}
	out->v[out->n++] = x;
	return 0;
}

int scan_last_finding_at(const struct scan_input *in, const struct policy_findings *out,
			 size_t start)
{
	const struct scan_priv *p = in->priv;
	return out->n > p->base && out->v[out->n - 1].detector == in->det_index &&
	       out->v[out->n - 1].start == start;
}

int scan_context_near(const struct scan_input *in, unsigned ctx,
		      size_t start, size_t end, size_t before, size_t after)
{
	/* priv points to the scan's own (writable) state; the cast only
	 * undoes the read-only view detectors get */
	struct scan_priv *p = (struct scan_priv *)(uintptr_t)in->priv;
	size_t lo = start > before ? start - before : 0;
	size_t hi = end + after;

	if (!p->c_valid || p->c_lo != lo || p->c_hi != hi) {
		/* the first hit with start >= lo, from where the last window
		 * started (triggers come nearly in text order): steps of 1, 2,
		 * 4, ... to a bracket, then halving it without a branch on the
		 * comparisons (a binary search over all hits cost ~13 steps
		 * with a mispredicted branch in every other one: ~175
		 * instructions a lookup on the benchmark's text, where the
		 * window before is ~40 hits back) */
		const struct scan_ctx_hit *h = p->ctx;
		size_t a = p->c_cur, b, n = p->n_ctx;
		uint64_t mask = 0;
		if (a < n && h[a].start < lo) {
			/* forward: h[a] is before lo; the answer is in (a, b] */
			size_t step = 1;
			b = a + 1;
			while (b < n && h[b].start < lo) {
				a = b;
				step *= 2;
				b = n - a > step ? a + step : n;
			}
			a++;
		} else {
			/* backward: h[a] (or the end) is at or after lo; the
			 * answer is in [b, a] */
			size_t step = 1;
			b = a;
			while (b > 0 && h[b - 1].start >= lo) {
				b--;
				a = b;
				b = b > step ? b - step : 0;
				step *= 2;
			}
			size_t t = a;
			a = b;
			b = t;
		}
		/* the first in [a, b) with start >= lo, else b */
		for (size_t w = b - a; w > 0;) {
			size_t half = w / 2;
			/* (masks, not a conditional: the compiler made that a
			 * branch, mispredicted every other step) */
			size_t lt = (size_t)0 - (size_t)(h[a + half].start < lo);
			a += (half + 1) & lt;
			w = ((w - half - 1) & lt) | (half & ~lt);
		}
		p->c_cur = a;
		for (; a < p->n_ctx && p->ctx[a].start <= hi; a++)
			mask |= UINT64_C(1) << p->ctx[a].context;
		p->c_lo = lo;
		p->c_hi = hi;
		p->c_mask = mask;
		p->c_valid = 1;
	}
	if (ctx >= 64)
		return 0;
	if ((p->c_mask >> ctx) & 1)
		return 1;
	if (!((p->lazy_groups >> ctx) & 1))
		return 0;
	if (!p->l_valid || p->l_lo != lo || p->l_hi != hi) {
		p->l_mask = lazyctx_groups(p->lazy, (const unsigned char *)in->text, in->len, lo, hi,
					   p->lazy_groups);
		p->l_lo = lo;
		p->l_hi = hi;
		p->l_valid = 1;
	}
	return (p->l_mask >> ctx) & 1;
}

int detector_match_keyword(const struct scan_input *in,
			   const struct scan_trigger *t,
			   struct policy_findings *out)
{
	if (t->kind != SCAN_TRIGGER_KEYWORD)
		return 0;
	return scan_add_finding(out, in, t->start, t->end, 0);
}

size_t scan_collect_digits(const char *text, size_t start, size_t end,
			   char *dst, uint32_t *pos, size_t max)
{
	size_t n = 0;
	for (size_t i = start; i < end; i++) {
		if (text[i] < '0' || text[i] > '9')
			continue;
		if (n == max)
			return max + 1;
		dst[n] = text[i];
		if (pos)
			pos[n] = (uint32_t)i;
		n++;
	}
	return n;
}

/* Bit 7 of each byte of x (8 bytes, little-endian) that is no ASCII
 * digit: b ^ '0' is 0-9 for a digit; adding 0x76 to its low 7 bits
 * reaches bit 7 from 10 on (and carries into no other byte), and bit 7
 * of b ^ '0' itself marks the bytes >= 0x80. */
static inline uint64_t scan_nondigit8(uint64_t x)
{
	const uint64_t k = UINT64_C(0x0101010101010101);
	uint64_t y = x ^ (k * '0');
	return (((y & (k * 0x7f)) + k * 0x76) | y) & (k * 0x80);
}

/* scan_number_groups(), and in the same walk the digit totals of the
 * groups (scan_trigger_digit_totals()): cur holds the totals of the
 * joined spans that end with the current group (bit N: N digits); a
 * group joined to the one before (one byte between them, ' ', '-', '.'
 * or '/') shifts them by its length, any other starts afresh. Totals
 * over 63 fall off the top, as they are not asked for. */
static inline __attribute__((always_inline)) size_t
scan_groups_totals(const char *text, size_t start, size_t end, struct scan_group *g, size_t max,
		   uint64_t *totals)
{
	size_t n = 0, i = start, prev_end = 0;
	uint8_t sep = 0;
	uint64_t m = 0, cur = 0;
	while (i < end && n < max) {
		if (text[i] < '0' || text[i] > '9') {
			sep = (uint8_t)text[i++];
			continue;
		}
		size_t a = i++;
		/* the group's end 8 bytes at a time (groups of 3-4 digits and
		 * an IBAN's 20: one step mostly), then the last bytes of the run */
		for (; i + 8 <= end; i += 8) {
			uint64_t x;
			memcpy(&x, text + i, 8);
			uint64_t nd = scan_nondigit8(x);
			if (nd) {
				i += (size_t)__builtin_ctzll(nd) >> 3;
				goto group_end;
			}
		}
		while (i < end && text[i] >= '0' && text[i] <= '9')
			i++;
group_end:
		g[n] = (struct scan_group){ (uint32_t)a, (uint32_t)i, n ? sep : 0 };
		size_t gl = i - a;
		/* bits 0, 13, 14, 15 of 0xe001: ' ', '-', '.', '/' less 0x20 */
		unsigned sj = (unsigned)sep - 0x20;
		int joined = n > 0 && a - prev_end == 1 && sj < 16 && ((0xe001u >> sj) & 1);
		if (gl > 63)
			cur = 0;
		else
			cur = (joined ? cur << gl : 0) | UINT64_C(1) << gl;
		m |= cur;
		prev_end = i;
		n++;
		sep = 0;
	}
	*totals = m;
	return n;
}

/* scan_groups_totals() for a run of at most 64 bytes whose 8-byte
 * words can be read within the text (len): the run's digits as a bit
 * mask (each word's digit bytes gathered by one multiply: bit 8i times
 * 2^(7j+7) lands at bit 56 + i for i + j = 7, every other product below
 * bit 56 or above bit 63, all at distinct bits, so nothing carries), then
 * a group is two counts. On the benchmark's runs ~4.5 groups of 3-4
 * digits: ~65 instructions a group by bytes. */
static inline __attribute__((always_inline)) size_t
scan_groups_totals_mask(const char *text, size_t start, size_t end, struct scan_group *g,
			size_t max, uint64_t *totals)
{
	const uint64_t k1 = UINT64_C(0x0101010101010101);
	size_t L = end - start, n = 0, prev_end = 0;
	uint64_t dm = 0, m = 0, cur = 0;

	for (size_t k = 0; k < L; k += 8) {
		uint64_t x;
		memcpy(&x, text + start + k, 8);
		uint64_t dig = (~scan_nondigit8(x) >> 7) & k1;
		dm |= ((dig * UINT64_C(0x0102040810204080)) >> 56) << k;
	}
	if (L < 64)
		dm &= (UINT64_C(1) << L) - 1;
	while (dm && n < max) {
		unsigned s0 = (unsigned)__builtin_ctzll(dm);
		uint64_t inv = ~dm >> s0;
		unsigned gl = inv ? (unsigned)__builtin_ctzll(inv) : 64 - s0;
		size_t a = start + s0, e = a + gl;
		uint8_t sep = n ? (uint8_t)text[a - 1] : 0;
		g[n] = (struct scan_group){ (uint32_t)a, (uint32_t)e, sep };
		unsigned sj = (unsigned)sep - 0x20;
		int joined = n > 0 && a - prev_end == 1 && sj < 16 && ((0xe001u >> sj) & 1);
		if (gl > 63)   /* 64 digits in a row */
			cur = 0;
		else
			cur = (joined ? cur << gl : 0) | UINT64_C(1) << gl;
		m |= cur;
		prev_end = e;
		n++;
		dm = s0 + gl >= 64 ? 0 : dm & (~UINT64_C(0) << (s0 + gl));
	}
	*totals = m;
	return n;
}

size_t scan_number_groups(const char *text, size_t start, size_t end,
			  struct scan_group *g, size_t max)
{
	uint64_t totals;
	return scan_groups_totals(text, start, end, g, max, &totals);
}

const struct scan_group *scan_trigger_groups(const struct scan_input *in,
					     const struct scan_trigger *t, size_t *n)
{
	/* priv points to the scan's own (writable) state; the cast only
	 * undoes the read-only view detectors get */
	struct scan_priv *p = (struct scan_priv *)(uintptr_t)in->priv;

	if (p->g_start != t->start || p->g_end != t->end) {
		size_t rl = t->end - t->start;
		if (rl <= 64 && t->start + ((rl + 7) & ~(size_t)7) <= in->len)
			p->g_n = scan_groups_totals_mask(in->text, t->start, t->end, p->g,
							 SCAN_TRIGGER_GROUPS, &p->g_totals);
		else
			p->g_n = scan_groups_totals(in->text, t->start, t->end, p->g,
						    SCAN_TRIGGER_GROUPS, &p->g_totals);
		p->g_start = t->start;
		p->g_end = t->end;
	}
	*n = p->g_n;
	return p->g;
}

uint64_t scan_trigger_digit_totals(const struct scan_input *in, const struct scan_trigger *t)
{
	const struct scan_priv *p = in->priv;
	size_t ng;

	/* the groups' walk takes the totals too (scan_groups_totals) */
	(void)scan_trigger_groups(in, t, &ng);
	return p->g_totals;
}

/* The gate row of builtin detector d (index < n_builtin), or NULL. */
static const struct scan_num_alt *scan_num_gate_row(const struct detector *d, size_t idx,
						     size_t n_builtin)
{
	if (idx >= n_builtin)
		return NULL;
	for (size_t r = 0; r < sizeof(scan_num_gates) / sizeof(scan_num_gates[0]); r++)
		if (strcmp(scan_num_gates[r].id, d->id) == 0)
			return scan_num_gates[r].alt;
	return NULL;
}

/* Fills s->num_gate from the NUMBER subscribers (already in call order:
 * by min_digits, stable). Two rounds: count, then fill. 0 or -1 (out of
 * memory). */
static int scan_build_num_gate(struct policy_scanner *s, size_t n_builtin)
{
	const struct scan_shape_subs *sub = &s->shape[0];
	size_t n = 0;

	for (int fill = 0; fill < 2; fill++) {
		n = 0;
		for (unsigned d = 0; d < SCAN_NUM_UPTO; d++) {
			s->num_gate_off[d] = (uint32_t)n;
			for (size_t u = 0; u < sub->n; u++) {
				uint16_t idx = sub->det[u];
				const struct detector *det = s->det[idx];
				if (det->min_digits > d)
					continue;
				const struct scan_num_alt *alt = scan_num_gate_row(det, idx, n_builtin);
				if (!alt) {
					if (fill)
						s->num_gate[n] = (struct scan_num_entry){ idx, 0, 0, 0 };
					n++;
					continue;
				}
				for (size_t a = 0; a < SCAN_NUM_ALTS; a++) {
					if (!((alt[a].digits >> d) & 1))
						continue;
					/* a run of d digits has no joined span of more
					 * than d: a row that wants only longer totals
					 * (the card's 13-19 at 10-12 digits) passes
					 * no run of this count */
					if (alt[a].totals && !(alt[a].totals & ((UINT64_C(2) << d) - 1)))
						continue;
					if (fill)
						s->num_gate[n] = (struct scan_num_entry){
							idx, alt[a].facts, alt[a].ctx, alt[a].totals };
					n++;
				}
			}
		}
		s->num_gate_off[SCAN_NUM_UPTO] = (uint32_t)n;
		if (!fill) {
			/* room for the lists without context rows behind */
			s->num_gate = calloc(2 * n + 1, sizeof(*s->num_gate));
			if (!s->num_gate)
				return -1;
		}
	}
	for (unsigned d = 0; d < SCAN_NUM_UPTO; d++) {
		s->num_gate_noctx[d] = (uint32_t)n;
		for (uint32_t k = s->num_gate_off[d]; k < s->num_gate_off[d + 1]; k++)
			if (!s->num_gate[k].ctx)
				s->num_gate[n++] = s->num_gate[k];
	}
	s->num_gate_noctx[SCAN_NUM_UPTO] = (uint32_t)n;
	for (unsigned d = 0; d < SCAN_NUM_UPTO; d++) {
		uint32_t k0 = s->num_gate_noctx[d], k1 = s->num_gate_noctx[d + 1];
		for (unsigned q = 0; q < 16; q++)
			s->num_gate_ncfacts[d][q] = k0 + q < k1 ? s->num_gate[k0 + q].facts : 0xffff;
		if (k1 - k0 <= 16)
			s->num_gate_nc16 |= UINT64_C(1) << d;
	}
	for (unsigned d = 0; d < SCAN_NUM_UPTO; d++) {
		uint16_t need = 0, hint = 0;
		uint64_t hctx = 0;
		for (uint32_t k = s->num_gate_off[d]; k < s->num_gate_off[d + 1]; k++) {
			const struct scan_num_entry *e = &s->num_gate[k];
			size_t r = 0;
			need |= e->facts;
			if (e->ctx) {
				hctx |= UINT64_C(1) << e->ctx;
				continue;
			}
			while (r < sizeof(scan_num_rare) / sizeof(scan_num_rare[0]) &&
			       !(e->facts & scan_num_rare[r]))
				r++;
			if (r == sizeof(scan_num_rare) / sizeof(scan_num_rare[0]))
				hint = 0xffff;   /* a row that needs no fact */
			else
				hint |= scan_num_rare[r];
		}
		s->num_gate_need[d] = need;
		s->num_gate_hint[d] = hint;
		s->num_gate_hctx[d] = hctx;
	}
	/* the ALNUM gate's lengths, per subscriber */
	const struct scan_shape_subs *al = &s->shape[1];
	s->alnum_lens = calloc(al->n + 1, sizeof(*s->alnum_lens));
	if (!s->alnum_lens)
		return -1;
	for (size_t u = 0; u < al->n; u++) {
		s->alnum_lens[u] = SCAN_NUM_ANY;
		if (al->det[u] >= n_builtin)
			continue;
		for (size_t r = 0; r < sizeof(scan_alnum_gates) / sizeof(scan_alnum_gates[0]); r++)
			if (strcmp(scan_alnum_gates[r].id, s->det[al->det[u]]->id) == 0)
				s->alnum_lens[u] = scan_alnum_gates[r].lens;
	}
	s->alnum_by_len_ok = al->n <= 64;
	for (unsigned b = 0; b < 64 && s->alnum_by_len_ok; b++)
		for (size_t u = 0; u < al->n; u++)
			s->alnum_by_len[b] |= ((s->alnum_lens[u] >> b) & 1) << u;
	for (size_t u = 0; u < al->n && s->alnum_by_len_ok; u++) {
		const char *first = NULL;
		for (size_t r = 0; al->det[u] < n_builtin &&
				   r < sizeof(scan_alnum_first) / sizeof(scan_alnum_first[0]); r++)
			if (strcmp(scan_alnum_first[r].id, s->det[al->det[u]]->id) == 0)
				first = scan_alnum_first[r].first;
		for (unsigned c = 0; c < 256; c++)
			if (!first || (c && strchr(first, (int)c)))
				s->alnum_by_first[c] |= UINT64_C(1) << u;
	}
	return 0;
}

/* The facts (enum scan_num_fact) of the number run t[a, e), which the
 * scanner found: it starts with '+', '(' or a digit and holds a digit;
 * dots: its '.' as scan_number_run() counted them (saturated at 3). */
static inline __attribute__((always_inline)) unsigned
scan_num_facts(const unsigned char *t, size_t len, size_t a, size_t e, unsigned dots,
	       unsigned need)
{
	unsigned f = 0;
	unsigned char c = t[a];
	size_t p = a;

	f |= c == '+' ? SCAN_NUM_FACT_PLUS : SCAN_NUM_FACT_NO_PLUS;
	if (c >= '0' && c <= '9') {
		f |= SCAN_NUM_FACT_DIGIT_START | SCAN_NUM_FACT_NO_PLUS_PAREN;
		if (c >= '1' && c <= '8')
			f |= SCAN_NUM_FACT_LEAD_1_8;
	} else if (c != '+' && c != '(') {
		f |= SCAN_NUM_FACT_NO_PLUS_PAREN;
	}
	if (dots >= 3)
		f |= SCAN_NUM_FACT_DOTS3;
	if (dots == 0)
		f |= SCAN_NUM_FACT_NO_DOTS;
	if (need & SCAN_NUM_FACTS_FIRST) {
		while (p < e && !(t[p] >= '0' && t[p] <= '9'))
			p++;
		if (p < e) {
			if (t[p] == '0')
				f |= SCAN_NUM_FACT_FIRST_0;
			else if (t[p] == '1')
				f |= SCAN_NUM_FACT_FIRST_1;
			else
				f |= t[p] >= '5' ? SCAN_NUM_FACT_FIRST_5_9 | SCAN_NUM_FACT_FIRST_2_9
						 : SCAN_NUM_FACT_FIRST_2_9;
		}
	}
	if (a >= 1 && (need & SCAN_NUM_FACTS_BEFORE)) {
		unsigned char b1 = t[a - 1], b2 = a >= 2 ? t[a - 2] : 0;
		int u1 = b1 >= 'A' && b1 <= 'Z', u2 = a >= 2 && b2 >= 'A' && b2 <= 'Z';
		if (u1 || (b1 == ' ' && u2))
			f |= SCAN_NUM_FACT_UPPER_BEFORE;
		if (u1 && u2)
			f |= SCAN_NUM_FACT_UPPER2_BEFORE;
		if (a >= 2 && b1 == '-' && (b2 == 'X' || b2 == 'Y' || b2 == 'Z' || b2 == 0))
			f |= SCAN_NUM_FACT_NIE_BEFORE;
		if (a >= 3 && b1 == ' ')
			f |= SCAN_NUM_FACT_SPACE_BEFORE;
	}
	if (!(need & SCAN_NUM_FACT_UPPER_AFTER))
		return f;
	c = e < len ? t[e] : 0;
	if ((c == '-' || c == '.' || c == ' ') && e + 1 < len)
		c = t[e + 1];
	if (c >= 'A' && c <= 'Z')
		f |= SCAN_NUM_FACT_UPPER_AFTER;
	return f;
}


/* Bit q: entry q of a digit count's 16 (num_gate_ncfacts) has all its
 * facts in f. A test per entry and a branch on it cost a mispredicted
 * branch per two or three entries on the benchmark's runs (its dates,
 * ids and amounts pass different rows); SSE2 (every x86-64) takes the
 * 16 in a few instructions. */
static inline __attribute__((always_inline)) unsigned
scan_num_pass16(const uint16_t *facts, unsigned f)
{
#if SCAN_HAVE_AVX2
	const __m128i nf = _mm_set1_epi16((short)(uint16_t)~f), z = _mm_setzero_si128();
	__m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)facts);
	__m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(facts + 8));
	__m128i c0 = _mm_cmpeq_epi16(_mm_and_si128(a0, nf), z);
	__m128i c1 = _mm_cmpeq_epi16(_mm_and_si128(a1, nf), z);
	return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(c0, c1));
#else
	unsigned pass = 0;
	for (unsigned q = 0; q < 16; q++)
		pass |= (unsigned)((facts[q] & ~f & 0xffffu) == 0) << q;
	return pass;
#endif
}

/* Whether a number run t[a, e) of nd digits (num_keep[nd] is
 * SCAN_NUM_KEEP_HINT: the count has no context rows) has a fact of the
 * gate's hint for nd, as pass 2 asks (scan_finish): without one it
 * passes no row there. Out of line: pass 1's block loop keeps its
 * registers. */
__attribute__((noinline))
static unsigned scan_num_keep_hint(const struct policy_scanner *s, const unsigned char *t,
				   size_t len, size_t a, size_t e, unsigned nd, unsigned dots)
{
	unsigned hint = s->num_gate_hint[nd];
	return (scan_num_facts(t, len, a, e, dots, hint) & hint) != 0;
}

/* "detector ID: what" (or just "what" without an id). */
static void scan_set_error(char *err, size_t errlen, const char *id, const char *what)
{
	if (!err || !errlen)
		return;
	if (id)
		snprintf(err, errlen, "detector %s: %s", id, what);
	else
		snprintf(err, errlen, "%s", what);
}

/* The position filter of pass 1. A byte position needs a look only when
 * a keyword can start there or a shape trigger sits there: a word start
 * whose byte begins a word-hash keyword; after a non-word byte, a byte
 * that begins a trie keyword (the trie's root has a child for it); at a
 * word byte or after one, a byte where an in-word keyword's first three
 * bytes may stand (buckets over nibbles, a superset); a trigger.
 * Everything else (most letters inside words, and spaces) is skipped 32
 * bytes at a time. Skipping is exact: a look at a skipped position would
 * find nothing (the anchored walk fails at its first byte,
 * ac_candidate_inner() refuses it), so results are identical with or
 * without the filter, and with or without AVX2 (tests/policy/test_scan,
 * test_kwhash, fuzz_scanner). */
/* The entry of ASCII byte c in in_x64: its low 5 bits and bit 6 as bit
 * 5, so that a letter shares it with its other case (which has the same
 * buckets: the trie folds case), and only punctuation shares with
 * control bytes. */
static unsigned scan_x64_index(unsigned c)
{
	return (c & 0x1f) | ((c >> 1) & 0x20);
}

static void scan_build_filter(struct policy_scanner *s, unsigned flags)
{
	const struct ac *ac = s->ac;
	uint8_t bucket[256];
	unsigned nb = 0;

	memset(bucket, 0xff, sizeof(bucket));
	for (unsigned c = 0; c < 256; c++) {
		unsigned info = s->byteinfo[c];
		if (ac_child(ac, 0, (unsigned char)c))
			info |= SCAN_INFO_FIRST;
		if (s->kh->first[c])
			info |= SCAN_INFO_HFIRST;
		s->byteinfo[c] = (uint8_t)info;
		int w = (info & SCAN_INFO_WORD) != 0;
		int h = (info & SCAN_INFO_HFIRST) != 0;
		int f = (info & SCAN_INFO_FIRST) != 0;
		int t = (info & SCAN_INFO_TRIGGER) != 0;
		if (c >= 0x80) {
			s->high_h |= (uint8_t)h;
			s->high_f |= (uint8_t)f;
			continue;   /* word bytes, never triggers */
		}
		s->lo_w[c & 15] |= (uint8_t)(w << (c >> 4));
		s->lo_h[c & 15] |= (uint8_t)(h << (c >> 4));
		s->lo_f[c & 15] |= (uint8_t)(f << (c >> 4));
		s->lo_t[c & 15] |= (uint8_t)(t << (c >> 4));
		s->lo_d[c & 15] |= (uint8_t)((c >= '0' && c <= '9') << (c >> 4));
	}
	/* bi_inner is indexed by folded bytes; a text byte folds to f when it
	 * is f or (for a-z) f - 32 */
	for (unsigned f0 = 0; f0 < 256; f0++) {
		for (unsigned f1 = 0; f1 < 256; f1++) {
			if (!ac_bit(ac->bi_inner, f0 << 8 | f1))
				continue;
			if (bucket[f0] == 0xff)
				bucket[f0] = (uint8_t)(nb++ % 8);
			unsigned bit = 1u << bucket[f0];
			for (unsigned u = 0; u < 2; u++) {
				unsigned c0 = u && f0 >= 'a' && f0 <= 'z' ? f0 - 32 : f0;
				unsigned c1 = u && f1 >= 'a' && f1 <= 'z' ? f1 - 32 : f1;
				s->in_lo0[c0 & 15] |= (uint8_t)bit;
				s->in_hi0[c0 >> 4] |= (uint8_t)bit;
				s->in_lo1[c1 & 15] |= (uint8_t)bit;
				s->in_hi1[c1 >> 4] |= (uint8_t)bit;
			}
		}
	}
	for (size_t k = 0; k < s->n_ac; k++) {
		const struct scan_keyword *kw = &s->kw[s->ac_id[k]];
		unsigned f0 = ac->fold[(unsigned char)kw->word[0]];
		if (bucket[f0] == 0xff)
			continue;   /* not an in-word keyword (never in bi_inner) */
		unsigned bit = 1u << bucket[f0];
		for (unsigned c2 = 0; c2 < 256; c2++) {
			if (kw->len >= 3 && ac->fold[c2] != ac->fold[(unsigned char)kw->word[2]])
				continue;
			s->in_lo2[c2 & 15] |= (uint8_t)bit;
			s->in_hi2[c2 >> 4] |= (uint8_t)bit;
		}
		for (unsigned c3 = 0; c3 < 256; c3++) {
			if (kw->len >= 4 && ac->fold[c3] != ac->fold[(unsigned char)kw->word[3]])
				continue;
			s->in_lo3[c3 & 15] |= (uint8_t)bit;
			s->in_hi3[c3 >> 4] |= (uint8_t)bit;
		}
	}
	uint8_t xbucket[256];
	unsigned nx = 0;
	memset(xbucket, 0xff, sizeof(xbucket));
	for (size_t k = 0; k < s->n_ac; k++) {
		const struct scan_keyword *kw = &s->kw[s->ac_id[k]];
		unsigned f0 = ac->fold[(unsigned char)kw->word[0]];
		if (xbucket[f0] == 0xff)
			xbucket[f0] = (uint8_t)(nx++ % 8);
		unsigned bit = 1u << xbucket[f0];
		for (unsigned q = 0; q < 4; q++)
			for (unsigned c = 0; c < 256; c++) {
				if (q < kw->len && ac->fold[c] != ac->fold[(unsigned char)kw->word[q]])
					continue;
				if (c < 128)
					s->in_x[q][c] |= (uint8_t)bit;
				else
					s->in_xhigh[q] |= (uint8_t)bit;
			}
	}
	for (unsigned q = 0; q < 4; q++)
		for (unsigned c = 0; c < 128; c++)
			s->in_x64[q][scan_x64_index(c)] |= s->in_x[q][c];
#if SCAN_HAVE_AVX2
	/* (the vector paths' scan is compiled for BMI1/BMI2 too: see
	 * scan_text_vec) */
	s->use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		      __builtin_cpu_supports("bmi2") && !(flags & POLICY_SCANNER_FLAG_NO_SIMD);
	s->use_avx512 = s->use_avx2 && __builtin_cpu_supports("avx512bw") &&
			!(flags & POLICY_SCANNER_FLAG_NO_AVX512);
	s->use_vbmi = s->use_avx512 && __builtin_cpu_supports("avx512vbmi") &&
		      !(flags & POLICY_SCANNER_FLAG_NO_VBMI);
#else
	(void)flags;
#endif
}

/* The same test as the AVX2 buckets, for one position (c1, c2, c3 = 0
 * past the end, as ac_candidate_inner() sees them). */
static int scan_inner_pass(const struct policy_scanner *s, unsigned char c0, unsigned char c1,
			   unsigned char c2, unsigned char c3)
{
	unsigned m = s->in_lo0[c0 & 15] & s->in_hi0[c0 >> 4] & s->in_lo1[c1 & 15] &
		     s->in_hi1[c1 >> 4];
	/* most positions fail on the first two bytes */
	return m && (m & s->in_lo2[c2 & 15] & s->in_hi2[c2 >> 4] & s->in_lo3[c3 & 15] &
		     s->in_hi3[c3 >> 4]) != 0;
}

void policy_scanner_free(struct policy_scanner *s)
{
	if (!s)
		return;
	ac_free(s->ac);
	kwhash_free(s->kh);
	lazyctx_free(s->lazy);
	free(s->ac_id);
	for (size_t i = 0; i < SCAN_N_SHAPES; i++)
		free(s->shape[i].det);
	free(s->kw);
	free(s->num_gate);
	free(s->alnum_lens);
	free(s->det);
	free(s);
}

struct policy_scanner *policy_scanner_new(const struct detector *const *extra,
					  size_t n_extra, char *err, size_t errlen)
{
	return policy_scanner_new_flags(extra, n_extra, 0, err, errlen);
}

struct policy_scanner *policy_scanner_new_flags(const struct detector *const *extra,
						size_t n_extra, unsigned flags,
						char *err, size_t errlen)
{
	struct policy_scanner *s = calloc(1, sizeof(*s));
	const char **words = NULL;
	size_t *lens = NULL;
	size_t n_builtin = 0, i;

	if (!s)
		goto oom;
	for (i = 0; i < sizeof(scan_families) / sizeof(scan_families[0]); i++)
		n_builtin += *scan_families[i].count;
	if (n_extra > UINT16_MAX || n_builtin + n_extra > UINT16_MAX) {
		scan_set_error(err, errlen, NULL, "too many detectors");
		goto fail;
	}
	s->det = calloc(n_builtin + n_extra + 1, sizeof(*s->det));
	if (!s->det)
		goto oom;
	for (i = 0; i < sizeof(scan_families) / sizeof(scan_families[0]); i++)
		for (size_t j = 0; j < *scan_families[i].count; j++)
			s->det[s->n_det++] = &scan_families[i].table[j];
	for (i = 0; i < n_extra; i++)
		s->det[s->n_det++] = extra[i];

	/* Collect keywords and shape subscriptions. */
	for (i = 0; i < s->n_det; i++) {
		const struct detector *d = s->det[i];
		if (!d || !d->id || !d->match) {
			scan_set_error(err, errlen, d && d->id ? d->id : "?",
				       "missing id or match function");
			goto fail;
		}
		for (size_t j = 0; d->keywords && d->keywords[j].word; j++)
			s->n_kw++;
		if (d->shapes & ~(uint32_t)((1u << SCAN_N_SHAPES) - 1)) {
			scan_set_error(err, errlen, d->id, "unknown shape");
			goto fail;
		}
		for (unsigned b = 0; b < SCAN_N_SHAPES; b++)
			if (d->shapes & (1u << b))
				s->shape[b].n++;
		if (d->shapes & SCAN_SHAPE_NUMBER) {
			unsigned m = d->min_digits > 2 ? d->min_digits : 2;
			if (!(s->shape_mask & SCAN_SHAPE_NUMBER) || m < s->num_min_digits)
				s->num_min_digits = m;
		}
		s->shape_mask |= d->shapes;
	}
	for (unsigned b = 0; b < SCAN_N_SHAPES; b++) {
		s->shape[b].det = calloc(s->shape[b].n + 1, sizeof(uint16_t));
		if (!s->shape[b].det)
			goto oom;
		s->shape[b].n = 0;
	}
	s->kw = calloc(s->n_kw + 1, sizeof(*s->kw));
	words = calloc(s->n_kw + 1, sizeof(*words));
	lens = calloc(s->n_kw + 1, sizeof(*lens));
	if (!s->kw || !words || !lens)
		goto oom;
	size_t k = 0;
	for (i = 0; i < s->n_det; i++) {
		const struct detector *d = s->det[i];
		for (unsigned b = 0; b < SCAN_N_SHAPES; b++)
			if (d->shapes & (1u << b))
				s->shape[b].det[s->shape[b].n++] = (uint16_t)i;
		for (size_t j = 0; d->keywords && d->keywords[j].word; j++) {
			const struct detector_keyword *w = &d->keywords[j];
			size_t len = strlen(w->word);
			if (len == 0 || len > 255 || j > UINT16_MAX) {
				scan_set_error(err, errlen, d->id, "keyword empty or too long");
				goto fail;
			}
			if (w->context >= SCAN_CONTEXT_COUNT) {
				scan_set_error(err, errlen, d->id, "unknown context group");
				goto fail;
			}
			s->kw[k] = (struct scan_keyword){ (uint16_t)i, (uint16_t)j, w->flags,
							  w->context, (uint32_t)len, w->word };
			words[k] = w->word;
			lens[k] = len;
			k++;
		}
	}
	/* Keywords that must start a word and begin with a word byte go to
	 * the word hash (kwhash.h); the others (they may start inside a word,
	 * or begin with '-', ':') to the trie. */
	/* NUMBER subscribers by their minimum digit count (stable), so pass 2
	 * stops at the first one a run is too short for */
	for (size_t a = 1; a < s->shape[0].n; a++) {
		uint16_t x = s->shape[0].det[a];
		size_t q = a;
		while (q > 0 && s->det[s->shape[0].det[q - 1]]->min_digits > s->det[x]->min_digits) {
			s->shape[0].det[q] = s->shape[0].det[q - 1];
			q--;
		}
		s->shape[0].det[q] = x;
	}
	for (unsigned d = 0; d < SCAN_NUM_UPTO; d++) {
		size_t u = 0;
		while (u < s->shape[0].n && s->det[s->shape[0].det[u]]->min_digits <= d)
			u++;
		s->num_upto[d] = (uint8_t)(u < 255 ? u : 255);
	}
	if (!(flags & POLICY_SCANNER_FLAG_NO_NUM_GATE) && scan_build_num_gate(s, n_builtin) < 0)
		goto oom;
	for (unsigned d = s->num_min_digits; d < SCAN_NUM_UPTO; d++) {
		if (!s->num_gate || s->num_gate_hctx[d] || s->num_gate_hint[d] == 0xffff)
			s->num_keep[d] = SCAN_NUM_KEEP_ALL;
		else if (s->num_gate_hint[d])
			s->num_keep[d] = SCAN_NUM_KEEP_HINT;
	}
	char acerr[128];
	uint8_t is_word[256], *wend = calloc(s->n_kw + 1, 1), *wcase = calloc(s->n_kw + 1, 1);
	uint32_t *hid = calloc(s->n_kw + 1, sizeof(*hid));
	const char **hw = calloc(s->n_kw + 1, sizeof(*hw));
	size_t *hl = calloc(s->n_kw + 1, sizeof(*hl)), nh = 0, na = 0, nl = 0;
	struct lazyctx_word *lw = calloc(s->n_kw + 1, sizeof(*lw));
	s->ac_id = calloc(s->n_kw + 1, sizeof(*s->ac_id));
	if (!wend || !wcase || !hid || !hw || !hl || !lw || !s->ac_id) {
		free(wend);
		free(wcase);
		free(hid);
		free(hw);
		free(hl);
		free(lw);
		goto oom;
	}
	for (unsigned c = 0; c < 256; c++)
		is_word[c] = scan_is((unsigned char)c, SCAN_BYTE_WORD) != 0;
	/* the groups looked up on demand, less those a NUMBER gate row
	 * takes from the whole text's hits */
	if (!(flags & POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT)) {
		s->lazy_groups = scan_lazy_groups;
		for (unsigned d = 0; s->num_gate && d < SCAN_NUM_UPTO; d++)
			s->lazy_groups &= ~s->num_gate_hctx[d];
	}
	for (k = 0; k < s->n_kw; k++) {
		int word_start = (s->kw[k].flags & DETECTOR_KW_WORD_START) && is_word[(unsigned char)words[k][0]];
		if (word_start && ((s->lazy_groups >> s->kw[k].context) & 1) &&
		    !(s->kw[k].flags & DETECTOR_KW_TRIGGER)) {
			lw[nl++] = (struct lazyctx_word){ words[k], (uint8_t)lens[k], s->kw[k].flags,
							  s->kw[k].context };
		} else if (word_start) {
			hw[nh] = words[k];
			hl[nh] = lens[k];
			wend[nh] = (s->kw[k].flags & DETECTOR_KW_WORD_END) != 0;
			wcase[nh] = (s->kw[k].flags & DETECTOR_KW_CASE) != 0;
			hid[nh++] = (uint32_t)k;
		} else {
			words[na] = words[k];
			lens[na] = lens[k];
			s->ac_id[na++] = (uint32_t)k;
		}
	}
	s->kh = kwhash_new(hw, hl, wend, wcase, hid, nh, is_word, acerr, sizeof(acerr));
	s->lazy = lazyctx_new(lw, nl);
	free(lw);
	free(wend);
	free(wcase);
	free(hid);
	free(hw);
	free(hl);
	if (!s->kh) {
		scan_set_error(err, errlen, NULL, acerr);
		goto fail;
	}
	if (!s->lazy)
		goto oom;
	s->n_ac = na;
	s->ac = ac_new(words, lens, NULL, na, acerr, sizeof(acerr));
	if (s->ac)
		for (unsigned c = 0; c < 256; c++)
			s->byteinfo[c] = (uint8_t)((scan_is((unsigned char)c, SCAN_BYTE_WORD) ? SCAN_INFO_WORD : 0) |
						   (scan_trigger_byte[c] ? SCAN_INFO_TRIGGER : 0) |
						   (s->ac->inner_first[c] ? SCAN_INFO_INNER : 0));
	if (!s->ac) {
		scan_set_error(err, errlen, NULL, acerr);
		goto fail;
	}
	scan_build_filter(s, flags);
	free(words);
	free(lens);
	return s;
oom:
	scan_set_error(err, errlen, NULL, "out of memory");
fail:
	free(words);
	free(lens);
	policy_scanner_free(s);
	return NULL;
}

size_t policy_scanner_detector_count(const struct policy_scanner *s)
{
	return s->n_det;
}

const struct detector *policy_scanner_detector(const struct policy_scanner *s,
					       size_t index)
{
	return index < s->n_det ? s->det[index] : NULL;
}

int policy_scanner_find_detector(const struct policy_scanner *s, const char *id)
{
	for (size_t i = 0; i < s->n_det; i++)
		if (strcmp(s->det[i]->id, id) == 0)
			return (int)i;
	return -1;
}

/* Out of line: with the growth inlined, every push saved and restored
 * five registers for it (39 instructions a push, ~1 % of the scan). */
__attribute__((noinline, cold))
static int scan_grow_events(struct scan_scratch *sc)
{
	return scan_grow((void **)&sc->ev, &sc->cap_ev, sc->n_ev + 1, sizeof(*sc->ev));
}

/* noinline: now small enough to be inlined, it took registers of the
 * scalar path's per-byte loop (+7 % instructions there) */
__attribute__((noinline))
static int scan_push_event(struct scan_scratch *sc, size_t start, size_t end,
			   uint32_t id, int is_shape)
{
	if (sc->n_ev == sc->cap_ev && scan_grow_events(sc) < 0)
		return -1;
	sc->ev[sc->n_ev++] = (struct scan_event){ (uint32_t)start, (uint32_t)end, id, 0,
						  (uint8_t)is_shape, 0 };
	return 0;
}

static int scan_is_word(const char *t, size_t len, size_t i)
{
	return i < len && scan_is((unsigned char)t[i], SCAN_BYTE_WORD);
}

/* Keyword `id` occupies [start, end): check its flags, record it. */
static inline __attribute__((always_inline)) int
scan_keyword_hit(const struct policy_scanner *s, struct scan_scratch *sc,
			    const char *t, size_t len, uint32_t id, size_t start, size_t end)
{
	const struct scan_keyword *k = &s->kw[id];

	if ((k->flags & DETECTOR_KW_WORD_START) && start > 0 && scan_is_word(t, len, start - 1))
		return 0;
	if ((k->flags & DETECTOR_KW_WORD_END) && scan_is_word(t, len, end))
		return 0;
	if ((k->flags & DETECTOR_KW_CASE) && memcmp(t + start, k->word, k->len) != 0)
		return 0;
	if (k->context != SCAN_CONTEXT_NONE) {
		if (sc->n_ctx == sc->cap_ctx &&
		    scan_grow((void **)&sc->ctx, &sc->cap_ctx, sc->n_ctx + 1, sizeof(*sc->ctx)) < 0)
			return -1;
		sc->ctx[sc->n_ctx++] = (struct scan_ctx_hit){ (uint32_t)start, (uint32_t)end,
							      k->context };
	}
	if (k->flags & DETECTOR_KW_TRIGGER)
		return scan_push_event(sc, start, end, id, 0);
	return 0;
}

static int scan_finding_cmp(const void *a, const void *b)
{
	const struct policy_finding *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	return (int)x->detector - (int)y->detector;
}

/* Insertion sort of v[from..n) into the sorted v[0..from): findings are
 * out of order only locally (within a 64-byte block's events, or a
 * detector reporting a little before its trigger), where this is linear
 * and allocates nothing, unlike qsort (glibc: a merge sort through a
 * temporary buffer; ~1 % of the benchmark's instructions). -1 once the
 * moves exceed a budget linear in n (far-apart disorder): the caller
 * then sorts with qsort, which sees a permutation of the same array;
 * the order is total on distinct findings, so both give the same. */
static int scan_sort_near(struct policy_finding *v, size_t from, size_t n)
{
	size_t budget = 16 * n + 64;
	for (size_t i = from; i < n; i++) {
		struct policy_finding x = v[i];
		size_t j = i;
		while (j > 0 && scan_finding_cmp(&v[j - 1], &x) > 0) {
			v[j] = v[j - 1];
			j--;
			if (--budget == 0) {
				v[j] = x;
				return -1;
			}
		}
		v[j] = x;
	}
	return 0;
}

/* The digit masks of the block pass around a shape trigger: bit k of
 * (d0, d1) is whether t[base + k] is an ASCII digit (0 past the text). */
struct scan_win {
	size_t base;
	uint64_t d0, d1;
};

/* The first byte at or after j that is not an ASCII digit. With the
 * block pass's masks (w != NULL) a run that starts in the block is one
 * count instead of a loop over its bytes (a number run's groups and an
 * alphanumeric run's digits are read so: ~3 bytes a group on the
 * benchmark's text, ~5 instructions a byte). */
static inline __attribute__((always_inline)) size_t
scan_digit_end(const unsigned char *t, size_t len, size_t j, const struct scan_win *w)
{
	if (w && j - w->base < 64) {
		unsigned r = (unsigned)(j - w->base);
		uint64_t x = r ? w->d0 >> r | w->d1 << (64 - r) : w->d0;
		if (x != ~UINT64_C(0))
			return j + (size_t)__builtin_ctzll(~x);
		j += 64;
	}
	while (j < len && t[j] >= '0' && t[j] <= '9')
		j++;
	return j;
}

/* Whether bytes r + 1 and r + 2 of the window (r + 2 < 128) hold a digit. */
static inline __attribute__((always_inline)) int
scan_digits_after(const struct scan_win *w, size_t r)
{
	uint64_t x = r < 63 ? w->d0 >> (r + 1) | w->d1 << (63 - r) : w->d1 >> (r - 63);
	return (x & 3) != 0;
}

/* A number run starting at digit i, whose first group of digits ends at
 * e1 (scan_digit_end()); returns its end. *ndots: the '.' between its
 * digit groups (the NUMBER gate's IPv4 test), counted here where the
 * separators are read anyway instead of in a second walk. */
static inline __attribute__((always_inline)) size_t
scan_number_run(const char *text, size_t len, size_t i, size_t e1, const struct scan_win *w,
		size_t *startp, unsigned *ndigits, unsigned *ndots)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t start = i, j = e1;
	unsigned nd = (unsigned)(e1 - i), dots = 0;

	if (start > 0 && t[start - 1] == '(')
		start--;
	if (start > 0 && t[start - 1] == '+')
		start--;
	for (;;) {
		/* the run goes on only with a digit one or two bytes on (after
		 * one or two separators, or ") "): most runs end here on the
		 * digit mask, without reading their separators */
		if (w && j + 2 - w->base < 128 && !scan_digits_after(w, j - w->base))
			break;
		size_t k = j;
		while (k < len && k - j < 2 && scan_is((unsigned char)t[k], SCAN_BYTE_NUMSEP))
			k++;
		if (k > j && k < len && t[k] >= '0' && t[k] <= '9') {
			dots += (t[j] == '.') + (k - j == 2 && t[j + 1] == '.');
			j = scan_digit_end(t, len, k + 1, w);
			nd += (unsigned)(j - k);
		} else {
			/* "(0)30": a closing parenthesis directly after a digit */
			if (j < len && t[j] == ')' && j + 1 < len && t[j + 1] == ' ' &&
			    j + 2 < len && t[j + 2] >= '0' && t[j + 2] <= '9') {
				size_t g = j + 2;
				j = scan_digit_end(t, len, g + 1, w);
				nd += (unsigned)(j - g);
				continue;
			}
			break;
		}
	}
	*startp = start;
	*ndigits = nd;
	*ndots = dots;
	return j;
}

static size_t scan_number_run_scalar(const char *text, size_t len, size_t i, size_t e1,
				     size_t *startp, unsigned *ndigits, unsigned *ndots);

static int scan_is_hexgroup_byte(unsigned char c)
{
	return scan_is(c, SCAN_BYTE_HEX) || c == ':' || c == '.' || c == '-';
}

/* Whether a text of len bytes is gated by gate4 (kwhash.h): on the
 * AVX-512 paths, texts of more than two blocks. The fourth byte's vector
 * work per block cost the gateway's texts (one or two blocks each) more
 * than their fewer probes saved: 0.97 per pair on `bench/policy tiny`. */
#define SCAN_GATE4_MIN 128

static inline int scan_gate4_on(const struct policy_scanner *s, size_t len)
{
	return s->use_avx512 && len > SCAN_GATE4_MIN;
}

/* Where shape runs already read end (a run is not re-entered). */
struct scan_pos {
	size_t num_end, alnum_end, hex_end;
};

/* The filter bits of one block (bit j: byte j). */
/* explicit_bzero() of a small buffer whose size the compiler knows,
 * inlined: glibc's explicit_bzero is a memset followed by a compiler
 * barrier that makes the zeroes observable; a call to it costs ~25
 * instructions for 72 bytes and pass 1 wipes three such buffers per
 * scan, which is a sixth of a tiny text's scan. The barrier (an asm that
 * may read any memory through p) keeps the stores from being removed as
 * dead. */
static inline __attribute__((always_inline)) void scan_wipe(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

struct scan_block {
	uint64_t w;      /* word byte */
	uint64_t h;      /* may start a word-hash keyword */
	uint64_t f;      /* may start a trie keyword after a non-word byte */
	uint64_t in;     /* may start an in-word trie keyword (bucket test) */
	uint64_t t;      /* shape trigger */
	uint64_t d;      /* ASCII digit */
	/* kwhash_gate_field() of the word that would start at byte j (its
	 * first min(length, 3) bytes, folded, and the case of its first
	 * byte), for every j; computed by the vector classification; for a
	 * text that scan_gate4_on() gives to gate4, kwhash_gate4_field() */
	uint16_t field[64];
	/* the block's bytes folded like kwhash_fold8() (A-Z -> a-z), then
	 * the next block's first 8 (zero past the text): a gated word's
	 * first 8 bytes are one load from here, not a load and a fold of
	 * the text; prompt text, so wiped after pass 1 */
	uint8_t fold[64 + 8];
};

#if SCAN_HAVE_AVX2
__attribute__((target("avx2")))
static inline __m256i scan_tab(const uint8_t *tab)
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tab));
}

/* 32 bytes: bit j set when byte j is in the class given by the nibble
 * table lo (ASCII) or, for bytes >= 0x80, when high is set. */
__attribute__((target("avx2")))
static inline uint32_t scan_class32(__m256i v, __m256i lo_nib, __m256i hi_bit,
				    const uint8_t *lo, int high)
{
	__m256i hit = _mm256_and_si256(_mm256_shuffle_epi8(scan_tab(lo), lo_nib), hi_bit);
	uint32_t m = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hit, _mm256_setzero_si256()));
	if (high)
		m |= (uint32_t)_mm256_movemask_epi8(v);
	return m;
}

/* Bytes of v that are in the class of nibble table tab (0xff / 0). */
__attribute__((target("avx2")))
static inline __m256i scan_class_bytes(__m256i v, __m256i lo, __m256i hi, const uint8_t *tab, int high)
{
	const __m256i bits = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128, 0, 0, 0, 0, 0, 0, 0, 0,
					      1, 2, 4, 8, 16, 32, 64, (char)128, 0, 0, 0, 0, 0, 0, 0, 0);
	__m256i hit = _mm256_and_si256(_mm256_shuffle_epi8(scan_tab(tab), lo), _mm256_shuffle_epi8(bits, hi));
	__m256i m = _mm256_xor_si256(_mm256_cmpeq_epi8(hit, _mm256_setzero_si256()), _mm256_set1_epi8(-1));
	return high ? _mm256_or_si256(m, _mm256_cmpgt_epi8(_mm256_setzero_si256(), v)) : m;
}

/* v with A-Z folded to a-z; *up gets the bytes that were A-Z. */
__attribute__((target("avx2")))
static inline __m256i scan_fold_bytes(__m256i v, __m256i *up)
{
	__m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('A'));
	__m256i u = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(25)), d);
	if (up)
		*up = u;
	return _mm256_add_epi8(v, _mm256_and_si256(u, _mm256_set1_epi8(0x20)));
}

/* kwhash_gate_field() of the word that would start at each of the 32
 * bytes of v (v1, v2: the same shifted by one and two bytes), as the
 * AVX-512 classification computes them (see there). */
__attribute__((target("avx2")))
static inline __attribute__((always_inline)) void scan_fields_avx2(const struct policy_scanner *s, __m256i v, __m256i v1, __m256i v2,
			     __m256i lo1, __m256i hi1, __m256i lo2, __m256i hi2, uint16_t *field,
			     uint8_t *fold)
{
	__m256i up;
	__m256i w1 = scan_class_bytes(v1, lo1, hi1, s->lo_w, 1);
	__m256i w2 = _mm256_and_si256(w1, scan_class_bytes(v2, lo2, hi2, s->lo_w, 1));
	__m256i f0 = scan_fold_bytes(v, &up);
	_mm256_storeu_si256((__m256i *)fold, f0);
	__m256i f1 = _mm256_and_si256(scan_fold_bytes(v1, NULL), w1);
	__m256i f2 = _mm256_and_si256(scan_fold_bytes(v2, NULL), w2);
	const __m256i m0 = _mm256_set1_epi16((short)KWHASH_GATE_M0);
	const __m256i m1 = _mm256_set1_epi16((short)KWHASH_GATE_M1);
	const __m256i m2 = _mm256_set1_epi16((short)KWHASH_GATE_M2);
	const __m256i mu = _mm256_set1_epi16((short)KWHASH_GATE_MU);
	for (unsigned q = 0; q < 2; q++) {
		__m128i a0 = q ? _mm256_extracti128_si256(f0, 1) : _mm256_castsi256_si128(f0);
		__m128i a1 = q ? _mm256_extracti128_si256(f1, 1) : _mm256_castsi256_si128(f1);
		__m128i a2 = q ? _mm256_extracti128_si256(f2, 1) : _mm256_castsi256_si128(f2);
		__m128i au = q ? _mm256_extracti128_si256(up, 1) : _mm256_castsi256_si128(up);
		__m256i hv = _mm256_add_epi16(
			_mm256_add_epi16(_mm256_mullo_epi16(_mm256_cvtepu8_epi16(a0), m0),
					 _mm256_mullo_epi16(_mm256_cvtepu8_epi16(a1), m1)),
			_mm256_mullo_epi16(_mm256_cvtepu8_epi16(a2), m2));
		hv = _mm256_add_epi16(hv, _mm256_and_si256(_mm256_cvtepi8_epi16(au), mu));
		_mm256_storeu_si256((__m256i *)(field + 16 * q),
				    _mm256_srli_epi16(hv, 16 - KWHASH_GATE_BITS));
	}
}

/* 32 * halves bytes from p (halves: 1 or 2); p[32 * halves] to
 * p[32 * halves + 2] must be readable (the second to fourth byte of the
 * last in-word candidate). With one half the second half's bits are 0
 * and its fields are not computed: only a text's last block of at most
 * 32 bytes is classified so (a tiny text's fixed cost; see
 * scan_classify_block). */
__attribute__((target("avx2")))
static inline __attribute__((always_inline)) void
scan_classify_avx2_halves(const struct policy_scanner *s, const unsigned char *p,
			  struct scan_block *b, unsigned halves)
{
	/* bit (c >> 4) for ASCII high nibbles 0-7; 0 for 8-15 (bytes >= 0x80
	 * are handled by their sign bit) */
	const __m256i bits = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128,
					      0, 0, 0, 0, 0, 0, 0, 0,
					      1, 2, 4, 8, 16, 32, 64, (char)128,
					      0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	const __m256i zero = _mm256_setzero_si256();
	uint64_t rw = 0, rh = 0, rf = 0, rt = 0, rd = 0, rin = 0;
	for (unsigned h = 0; h < halves; h++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * h));
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32 * h + 1));
		__m256i v2 = _mm256_loadu_si256((const __m256i *)(p + 32 * h + 2));
		__m256i v3 = _mm256_loadu_si256((const __m256i *)(p + 32 * h + 3));
		__m256i lo = _mm256_and_si256(v, nib);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
		__m256i lo1 = _mm256_and_si256(v1, nib);
		__m256i hi1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), nib);
		__m256i lo2 = _mm256_and_si256(v2, nib);
		__m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(v2, 4), nib);
		__m256i lo3 = _mm256_and_si256(v3, nib);
		__m256i hi3 = _mm256_and_si256(_mm256_srli_epi16(v3, 4), nib);
		__m256i hb = _mm256_shuffle_epi8(bits, hi);
		__m256i in = _mm256_and_si256(
			_mm256_and_si256(_mm256_shuffle_epi8(scan_tab(s->in_lo0), lo),
					 _mm256_shuffle_epi8(scan_tab(s->in_hi0), hi)),
			_mm256_and_si256(_mm256_shuffle_epi8(scan_tab(s->in_lo1), lo1),
					 _mm256_shuffle_epi8(scan_tab(s->in_hi1), hi1)));
		in = _mm256_and_si256(in, _mm256_and_si256(_mm256_shuffle_epi8(scan_tab(s->in_lo2), lo2),
							   _mm256_shuffle_epi8(scan_tab(s->in_hi2), hi2)));
		in = _mm256_and_si256(in, _mm256_and_si256(_mm256_shuffle_epi8(scan_tab(s->in_lo3), lo3),
							   _mm256_shuffle_epi8(scan_tab(s->in_hi3), hi3)));
		uint32_t inner = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(in, zero));
		rw |= (uint64_t)scan_class32(v, lo, hb, s->lo_w, 1) << (32 * h);
		rh |= (uint64_t)scan_class32(v, lo, hb, s->lo_h, s->high_h) << (32 * h);
		rf |= (uint64_t)scan_class32(v, lo, hb, s->lo_f, s->high_f) << (32 * h);
		rt |= (uint64_t)scan_class32(v, lo, hb, s->lo_t, 0) << (32 * h);
		rd |= (uint64_t)scan_class32(v, lo, hb, s->lo_d, 0) << (32 * h);
		rin |= (uint64_t)inner << (32 * h);
		scan_fields_avx2(s, v, v1, v2, lo1, hi1, lo2, hi2, b->field + 32 * h, b->fold + 32 * h);
	}
	b->w = rw;
	b->h = rh;
	b->f = rf;
	b->in = rin;
	b->t = rt;
	b->d = rd;
}

/* A whole block, and the one half of a short last block: two functions
 * with a constant count (a variable one cost the whole-buffer scan ~1 %
 * instructions: the loop was no longer specialised). */
__attribute__((target("avx2")))
static void scan_classify_avx2(const struct policy_scanner *s, const unsigned char *p,
			       struct scan_block *b)
{
	scan_classify_avx2_halves(s, p, b, 2);
}

__attribute__((target("avx2")))
static void scan_classify_avx2_half(const struct policy_scanner *s, const unsigned char *p,
				    struct scan_block *b)
{
	scan_classify_avx2_halves(s, p, b, 1);
}

/* The same 64 bytes in one step with AVX-512BW: the nibble tables are the
 * AVX2 ones (vpshufb works per 128-bit lane either way) and each class
 * test yields its 64-bit mask directly, without movemask, shifts and ors
 * (about a third of the AVX2 step's instructions). */
__attribute__((target("avx512f,avx512bw")))
static inline __m512i scan_tab512(const uint8_t *tab)
{
	return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)tab));
}

/* The bytes of the 64 at p that lie before p + avail (all of them from
 * 64 on). */
static inline uint64_t scan_avail_mask(size_t avail)
{
	return avail >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << avail) - 1;
}

/* The four loads of a step: the 64 bytes at p and the same one, two and
 * three bytes on, masked past avail. */
__attribute__((target("avx512f,avx512bw")))
static inline __attribute__((always_inline)) void
scan_load512(const unsigned char *p, size_t avail, __m512i *v0, __m512i *v1, __m512i *v2,
	     __m512i *v3)
{
	if (__builtin_expect(avail > 66, 1)) {
		*v0 = _mm512_loadu_si512((const void *)p);
		*v1 = _mm512_loadu_si512((const void *)(p + 1));
		*v2 = _mm512_loadu_si512((const void *)(p + 2));
		*v3 = _mm512_loadu_si512((const void *)(p + 3));
	} else {
		*v0 = _mm512_maskz_loadu_epi8(scan_avail_mask(avail), p);
		*v1 = _mm512_maskz_loadu_epi8(scan_avail_mask(avail - 1), p + 1);
		*v2 = _mm512_maskz_loadu_epi8(scan_avail_mask(avail > 2 ? avail - 2 : 0), p + 2);
		*v3 = _mm512_maskz_loadu_epi8(scan_avail_mask(avail > 3 ? avail - 3 : 0), p + 3);
	}
}

/* In-word keyword starts by the nibble buckets (in_lo0 ... in_hi3). */
__attribute__((target("avx512f,avx512bw")))
static inline __attribute__((always_inline)) __m512i
scan_in_nibble1(__m512i v, const uint8_t *lo_t, const uint8_t *hi_t)
{
	const __m512i nib = _mm512_set1_epi8(0x0f);
	__m512i lo = _mm512_and_si512(v, nib);
	__m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
	return _mm512_and_si512(_mm512_shuffle_epi8(scan_tab512(lo_t), lo),
				_mm512_shuffle_epi8(scan_tab512(hi_t), hi));
}

__attribute__((target("avx512f,avx512bw")))
static inline __attribute__((always_inline)) uint64_t
scan_in_nibble512(const struct policy_scanner *s, __m512i v0, __m512i v1, __m512i v2, __m512i v3)
{
	__m512i in = _mm512_and_si512(_mm512_and_si512(scan_in_nibble1(v0, s->in_lo0, s->in_hi0),
						       scan_in_nibble1(v1, s->in_lo1, s->in_hi1)),
				      _mm512_and_si512(scan_in_nibble1(v2, s->in_lo2, s->in_hi2),
						       scan_in_nibble1(v3, s->in_lo3, s->in_hi3)));
	return _mm512_test_epi8_mask(in, in);
}

/* The same by exact bytes (in_x, as in_x64): one 64-entry table lookup
 * per load, bytes >= 0x80 from in_xhigh. */
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static inline __attribute__((always_inline)) __m512i
scan_in_vbmi1(__m512i v, const uint8_t *tab, uint8_t high)
{
	/* scan_x64_index(): bits 0-4 of v, bit 6 moved to 5 (vpermb reads
	 * bits 0-5 of each index byte; the 16-bit shift's carry from the
	 * next byte lands in bit 7) */
	__m512i idx = _mm512_ternarylogic_epi32(_mm512_set1_epi8(0x1f), v, _mm512_srli_epi16(v, 1), 0xca);
	__m512i x = _mm512_permutexvar_epi8(idx, _mm512_loadu_si512((const void *)tab));
	return _mm512_mask_mov_epi8(x, _mm512_movepi8_mask(v), _mm512_set1_epi8((char)high));
}

__attribute__((target("avx512f,avx512bw,avx512vbmi")))
static inline __attribute__((always_inline)) uint64_t
scan_in_vbmi512(const struct policy_scanner *s, __m512i v0, __m512i v1, __m512i v2, __m512i v3)
{
	__m512i in = _mm512_and_si512(_mm512_and_si512(scan_in_vbmi1(v0, s->in_x64[0], s->in_xhigh[0]),
						       scan_in_vbmi1(v1, s->in_x64[1], s->in_xhigh[1])),
				      _mm512_and_si512(scan_in_vbmi1(v2, s->in_x64[2], s->in_xhigh[2]),
						       scan_in_vbmi1(v3, s->in_x64[3], s->in_xhigh[3])));
	return _mm512_test_epi8_mask(in, in);
}

/* The rest of a step, with the in-word starts given; bits past the text
 * are cleared. four (a constant): the fields of gate4, else of gate. */
__attribute__((target("avx512f,avx512bw")))
static inline __attribute__((always_inline)) void
scan_classify512_rest(const struct policy_scanner *s, __m512i v, __m512i v1, __m512i v2,
		      __m512i v3, uint64_t inner, size_t avail, struct scan_block *b, int four)
{
	const __m512i bits = _mm512_broadcast_i32x4(_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128,
								  0, 0, 0, 0, 0, 0, 0, 0));
	const __m512i nib = _mm512_set1_epi8(0x0f);
	__m512i lo = _mm512_and_si512(v, nib);
	__m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
	__m512i lo1 = _mm512_and_si512(v1, nib);
	__m512i hi1 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), nib);
	__m512i lo2 = _mm512_and_si512(v2, nib);
	__m512i hi2 = _mm512_and_si512(_mm512_srli_epi16(v2, 4), nib);
	__m512i hb = _mm512_shuffle_epi8(bits, hi);
	uint64_t high = _mm512_movepi8_mask(v);
	b->in = inner;
	b->w = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_w), lo), hb) | high;
	b->h = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_h), lo), hb) |
	       (s->high_h ? high : 0);
	b->f = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_f), lo), hb) |
	       (s->high_f ? high : 0);
	b->t = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_t), lo), hb);
	b->d = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_d), lo), hb);
	/* the gate field of a word starting at each byte: bytes 2 and 3
	 * count while the word goes on, folded A-Z -> a-z (and for gate4
	 * byte 4's low 5 bits, which folding leaves alone); the word-byte
	 * test of the shifted loads is the one of b->w */
	uint64_t w1 = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_w), lo1),
					    _mm512_shuffle_epi8(bits, hi1)) | _mm512_movepi8_mask(v1);
	uint64_t w2 = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_w), lo2),
					    _mm512_shuffle_epi8(bits, hi2)) | _mm512_movepi8_mask(v2);
	const __m512i az = _mm512_set1_epi8('A'), z25 = _mm512_set1_epi8(25);
	const __m512i x20 = _mm512_set1_epi8(0x20);
	uint64_t up = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, az), z25);
	__m512i f0 = _mm512_mask_add_epi8(v, up, v, x20);
	_mm512_storeu_si512((void *)b->fold, f0);
	__m512i f1 = _mm512_maskz_add_epi8(w1, v1, _mm512_maskz_mov_epi8(
		_mm512_cmple_epu8_mask(_mm512_sub_epi8(v1, az), z25), x20));
	__m512i f2 = _mm512_maskz_add_epi8(w1 & w2, v2, _mm512_maskz_mov_epi8(
		_mm512_cmple_epu8_mask(_mm512_sub_epi8(v2, az), z25), x20));
	__m512i f3 = _mm512_setzero_si512();
	if (four) {
		__m512i lo3 = _mm512_and_si512(v3, nib);
		__m512i hi3 = _mm512_and_si512(_mm512_srli_epi16(v3, 4), nib);
		uint64_t w3 = _mm512_test_epi8_mask(_mm512_shuffle_epi8(scan_tab512(s->lo_w), lo3),
						    _mm512_shuffle_epi8(bits, hi3)) | _mm512_movepi8_mask(v3);
		f3 = _mm512_maskz_mov_epi8(w1 & w2 & w3, _mm512_and_si512(v3, _mm512_set1_epi8(0x1f)));
	}
	const __m512i m0 = _mm512_set1_epi16((short)KWHASH_GATE_M0);
	const __m512i m1 = _mm512_set1_epi16((short)KWHASH_GATE_M1);
	const __m512i m2 = _mm512_set1_epi16((short)KWHASH_GATE_M2);
	const __m512i m3 = _mm512_set1_epi16((short)KWHASH_GATE_M3);
	const __m512i mu = _mm512_set1_epi16((short)KWHASH_GATE_MU);
	for (unsigned h = 0; h < 2; h++) {
		__m256i a0 = h ? _mm512_extracti64x4_epi64(f0, 1) : _mm512_castsi512_si256(f0);
		__m256i a1 = h ? _mm512_extracti64x4_epi64(f1, 1) : _mm512_castsi512_si256(f1);
		__m256i a2 = h ? _mm512_extracti64x4_epi64(f2, 1) : _mm512_castsi512_si256(f2);
		__m512i p2 = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(a2), m2);
		if (four) {
			__m256i a3 = h ? _mm512_extracti64x4_epi64(f3, 1) : _mm512_castsi512_si256(f3);
			p2 = _mm512_add_epi16(p2, _mm512_mullo_epi16(_mm512_cvtepu8_epi16(a3), m3));
		}
		__m512i hv = _mm512_add_epi16(
			_mm512_add_epi16(_mm512_mullo_epi16(_mm512_cvtepu8_epi16(a0), m0),
					 _mm512_mullo_epi16(_mm512_cvtepu8_epi16(a1), m1)), p2);
		hv = _mm512_mask_add_epi16(hv, (__mmask32)(up >> (32 * h)), hv, mu);
		_mm512_storeu_si512((void *)(b->field + 32 * h),
				    _mm512_srli_epi16(hv, 16 - (four ? KWHASH_GATE4_BITS : KWHASH_GATE_BITS)));
	}
	if (avail < 64) {
		uint64_t keep = scan_avail_mask(avail);
		b->w &= keep;
		b->h &= keep;
		b->f &= keep;
		b->in &= keep;
		b->t &= keep;
		b->d &= keep;
	}
}

/* The 64 bytes at p, of which avail (>= 1) are the text's: the last
 * block's loads are masked (masked-off bytes read as zero, what the
 * scalar bits assume past the end, and are not accessed, so they cannot
 * fault), instead of going through a zero-padded copy that must be
 * wiped. One function per in-word test (the nibble buckets, or the
 * exact one of AVX-512 VBMI) and gate (four: gate4's fields), so that
 * each is compiled for its own instructions with `four` a constant. */
#define SCAN_CLASSIFY512_FN(name, tgt, in_test, four)                                             \
	__attribute__((target(tgt))) static void name(const struct policy_scanner *s,               \
						      const unsigned char *p, size_t avail,         \
						      struct scan_block *b)                         \
	{                                                                                           \
		__m512i v0, v1, v2, v3;                                                             \
		scan_load512(p, avail, &v0, &v1, &v2, &v3);                                         \
		scan_classify512_rest(s, v0, v1, v2, v3, in_test(s, v0, v1, v2, v3), avail, b, four); \
	}
SCAN_CLASSIFY512_FN(scan_classify_avx512, "avx512f,avx512bw", scan_in_nibble512, 0)
SCAN_CLASSIFY512_FN(scan_classify_avx512_4, "avx512f,avx512bw", scan_in_nibble512, 1)
SCAN_CLASSIFY512_FN(scan_classify_avx512vbmi, "avx512f,avx512bw,avx512vbmi", scan_in_vbmi512, 0)
SCAN_CLASSIFY512_FN(scan_classify_avx512vbmi_4, "avx512f,avx512bw,avx512vbmi", scan_in_vbmi512, 1)
#undef SCAN_CLASSIFY512_FN
#endif

/* One probe of the word hash: record the entries under (key, tag) that
 * the text at i really starts with. */
static inline __attribute__((always_inline)) int
scan_word_probe(const struct policy_scanner *s, struct scan_scratch *sc,
		const unsigned char *t, size_t len, size_t i, uint64_t key, uint32_t tag)
{
	const struct kwhash *kh = s->kh;
	uint32_t n;
	const struct kwhash_entry *l = kwhash_find(kh, key, tag, &n);
	for (uint32_t k = 0; k < n; k++) {
		const struct kwhash_entry *e = &l[k];
		if (kwhash_verify(e, t + i, len - i) &&
		    scan_keyword_hit(s, sc, (const char *)t, len, e->id, i, i + e->len) < 0)
			return -1;
	}
	return 0;
}

/* The word at the word start i: its length and the gates it passes
 * (kwhash_gate(); with field >= 0 the field of gate computed already by
 * the block classification). wrun: the word-byte bits from i on (bit 0:
 * t[i]), of which the first `known` are known (>= 1); the word ends at
 * the first clear bit among them, else it is read on. */
static inline __attribute__((always_inline)) unsigned
scan_word_gate(const struct policy_scanner *s, const unsigned char *t, size_t len, size_t i,
	       uint64_t wrun, unsigned known, const uint32_t *gate, int field, uint32_t *wlp)
{
	unsigned k = (unsigned)__builtin_ctzll(~wrun | UINT64_C(1) << 63);
	size_t e = i + k;
	if (k >= known)
		while (e < len && (s->byteinfo[t[e]] & SCAN_INFO_WORD))
			e++;
	size_t wl = e - i;
	*wlp = (uint32_t)wl;
	if (field >= 0)
		return kwhash_gate_at(s->kh, gate, (unsigned)field, wl);
	return kwhash_gate(s->kh, kwhash_fold8(kwhash_load(t + i, len - i)), wl,
			   (unsigned)(t[i] - 'A') < 26);
}

/* The keywords of the word hash at the word [i, i + wl) that passed the
 * gates `kinds`: the whole word, and its 1-4-byte prefixes for the stems
 * (kwhash.h), in that order. x: the word's first 8 bytes,
 * kwhash_fold8(kwhash_load(t + i, len - i)). */
static inline __attribute__((always_inline)) int
scan_word_keywords(const struct policy_scanner *s, struct scan_scratch *sc,
		   const unsigned char *t, size_t len, size_t i, size_t wl, unsigned kinds,
		   uint64_t x)
{
	const struct kwhash *kh = s->kh;

	if ((kinds & KWHASH_GATE_WORD) && wl <= 255 &&
	    scan_word_probe(s, sc, t, len, i, x & kwhash_mask[wl < 8 ? wl : 8],
			    (uint32_t)(KWHASH_KIND_WORD << 8 | wl)) < 0)
		return -1;
	/* (kwhash_gate_len: PHRASE bits for words of 1-7 bytes only) */
	if ((kinds & KWHASH_GATE_PHRASE) &&
	    scan_word_probe(s, sc, t, len, i, x, (uint32_t)(KWHASH_KIND_PHRASE << 8 | wl)) < 0)
		return -1;
	if (kinds & KWHASH_GATE_SHORT)
		for (unsigned p = 1; p <= 2 && p <= wl; p++)
			if (((kh->stem_lens >> p) & 1) &&
			    scan_word_probe(s, sc, t, len, i, x & kwhash_mask[p],
					    kwhash_tag(KWHASH_KIND_STEM, p)) < 0)
				return -1;
	if ((kinds & KWHASH_GATE_STEM3) &&
	    scan_word_probe(s, sc, t, len, i, x & kwhash_mask[3], kwhash_tag(KWHASH_KIND_STEM, 3)) < 0)
		return -1;
	/* (most gated words end here: one test for the two kinds below) */
	if (!(kinds & (KWHASH_GATE_STEM4S | KWHASH_GATE_STEM4 | KWHASH_GATE_STEM8)))
		return 0;
	if ((kinds & (KWHASH_GATE_STEM4S | KWHASH_GATE_STEM4)) &&
	    scan_word_probe(s, sc, t, len, i, x & kwhash_mask[4], kwhash_tag(KWHASH_KIND_STEM, 4)) < 0)
		return -1;
	if ((kinds & KWHASH_GATE_STEM8) &&
	    scan_word_probe(s, sc, t, len, i, x, kwhash_tag(KWHASH_KIND_STEM8, 8)) < 0)
		return -1;
	return 0;
}

/* Trie keywords anchored at i (the candidate test passed or is done
 * here): prev_word: whether t[i - 1] is a word byte. */
static inline __attribute__((always_inline)) int
scan_trie_at(const struct policy_scanner *s, struct scan_scratch *sc,
	     const unsigned char *t, size_t len, size_t i, int prev_word)
{
	const struct ac *ac = s->ac;
	unsigned char c = t[i], c1, c2, c3;
	unsigned info = s->byteinfo[c];

	if (__builtin_expect(i + 3 < len, 1)) {
		c1 = t[i + 1];
		c2 = t[i + 2];
		c3 = t[i + 3];
	} else {
		c1 = i + 1 < len ? t[i + 1] : 0;
		c2 = i + 2 < len ? t[i + 2] : 0;
		c3 = 0;
	}
	/* at a word byte only keywords that may start inside a word can
	 * begin (the others are in the word hash) */
	if (!(prev_word || (info & SCAN_INFO_WORD) ? ac_candidate_inner(ac, c, c1, c2, c3)
						   : ac_candidate(ac, c, c1, c2, c3, 1)))
		return 0;
	uint32_t q = 0;
	for (size_t j = i; j < len; j++) {
		q = ac_child(ac, q, t[j]);
		if (!q)
			break;
		if (!(q & AC_HAS_OUTPUT))
			continue;
		size_t n;
		const uint32_t *wd = ac_outputs(ac, q, &n);
		for (size_t k = 0; k < n; k++) {
			uint32_t id = s->ac_id[wd[k]];
			if ((s->kw[id].flags & DETECTOR_KW_WORD_START) && prev_word)
				continue;
			if (scan_keyword_hit(s, sc, (const char *)t, len, id, i, j + 1) < 0)
				return -1;
		}
	}
	return 0;
}

/* A shape that starts at the trigger byte t[i]. */
static inline __attribute__((always_inline)) int
scan_shape_at(const struct policy_scanner *s, struct scan_scratch *sc,
	      const unsigned char *t, size_t len, size_t i, struct scan_pos *ps,
	      const struct scan_win *w)
{
	const char *text = (const char *)t;
	unsigned char c = t[i];

	if (c == '@')
		return (s->shape_mask & SCAN_SHAPE_AT) ? scan_push_event(sc, i, i + 1, 2, 1) : 0;
	if ((c == ':' || c == '-') && (s->shape_mask & SCAN_SHAPE_HEXGROUP) && i >= ps->hex_end &&
	    i > 0 && i + 1 < len && scan_is_hexgroup_byte(t[i - 1]) &&
	    (scan_is(t[i + 1], SCAN_BYTE_HEX) || t[i + 1] == ':')) {
		size_t a = i, b = i;
		unsigned colons = 0, dashes = 0;
		while (a > 0 && scan_is_hexgroup_byte(t[a - 1]))
			a--;
		while (b < len && scan_is_hexgroup_byte(t[b])) {
			colons += t[b] == ':';
			dashes += t[b] == '-';
			b++;
		}
		for (size_t q = a; q < i; q++) {
			colons += t[q] == ':';
			dashes += t[q] == '-';
		}
		ps->hex_end = b;
		if (colons >= 2 || dashes >= 5)
			return scan_push_event(sc, a, b, 3, 1);
		return 0;
	}
	if (!(scan_byte_class[c] & SCAN_BYTE_DIGIT))
		return 0;
	int alnum = (s->shape_mask & SCAN_SHAPE_ALNUM) && i >= ps->alnum_end;
	int number = (s->shape_mask & SCAN_SHAPE_NUMBER) && i >= ps->num_end;
	if (!alnum && !number)
		return 0;
	/* the digits from i: the alphanumeric run's first bytes (digits,
	 * no letter among them) and the number run's first group */
	size_t e1 = scan_digit_end(t, len, i + 1, w);
	if (alnum) {
		size_t a = i, b = e1;
		int letters = 0;
		while (a > 0 && scan_is(t[a - 1], SCAN_BYTE_ALNUM)) {
			a--;
			letters |= !scan_is(t[a], SCAN_BYTE_DIGIT);
		}
		while (b < len && scan_is(t[b], SCAN_BYTE_ALNUM)) {
			letters |= !scan_is(t[b], SCAN_BYTE_DIGIT);
			b++;
		}
		ps->alnum_end = b;
		if (letters && !(a > 0 && scan_is(t[a - 1], SCAN_BYTE_HIGH)) &&
		    !(b < len && scan_is(t[b], SCAN_BYTE_HIGH)) &&
		    scan_push_event(sc, a, b, 1, 1) < 0)
			return -1;
	}
	if (number) {
		size_t a;
		unsigned nd, dots;
		size_t b = w ? scan_number_run(text, len, i, e1, w, &a, &nd, &dots)
			     : scan_number_run_scalar(text, len, i, e1, &a, &nd, &dots);
		ps->num_end = b;
		/* runs that no row of the gate can pass are not recorded
		 * (s->num_keep) */
		unsigned keep = nd < SCAN_NUM_UPTO ? s->num_keep[nd] : nd >= s->num_min_digits;
		if (keep == SCAN_NUM_KEEP_HINT)
			keep = scan_num_keep_hint(s, t, len, a, b, nd, dots);
		if (keep) {
			if (scan_push_event(sc, a, b, 0, 1) < 0)
				return -1;
			sc->ev[sc->n_ev - 1].digits = (uint16_t)(nd > UINT16_MAX ? UINT16_MAX : nd);
			sc->ev[sc->n_ev - 1].dots = (uint8_t)(dots < 3 ? dots : 3);
		}
	}
	return 0;
}

/* The lowest set bit of m != 0, for pass 1's bit loops. tzcnt written
 * out on the vector paths (which need BMI1): the compiler's adds a
 * zeroing of its destination per use, against a false dependency that
 * only older Intel cores have (one instruction of the gate loop's 19
 * per word start). */
static inline __attribute__((always_inline)) size_t scan_ctz(uint64_t m)
{
#if SCAN_HAVE_AVX2
	size_t bit;
	__asm__("tzcntq %1, %0" : "=r"(bit) : "r"(m) : "cc");
	return bit;
#else
	return (size_t)(unsigned)__builtin_ctzll(m);
#endif
}

/* The scalar pass 1 (defined at the end of the file: placed here, the
 * functions of the scalar path moved the vector path's code, which then
 * ran 1 % slower on the same instructions) */
static int scan_pass1_scalar(const struct policy_scanner *s, struct scan_scratch *sc,
			     const unsigned char *t, size_t len, struct scan_pos *ps);

/* n <= 32 bytes from src to dst by two overlapping loads and stores of
 * the widest size that fits: ~8 instructions instead of a variable-length
 * memcpy's ~27 (the tail copy of a tiny text). */
static inline __attribute__((always_inline)) void
scan_copy_short(unsigned char *dst, const unsigned char *src, size_t n)
{
	if (n >= 16) {
		uint64_t a[2], z[2];
		memcpy(a, src, 16);
		memcpy(z, src + n - 16, 16);
		memcpy(dst, a, 16);
		memcpy(dst + n - 16, z, 16);
	} else if (n >= 8) {
		uint64_t a, z;
		memcpy(&a, src, 8);
		memcpy(&z, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &z, 8);
	} else if (n >= 4) {
		uint32_t a, z;
		memcpy(&a, src, 4);
		memcpy(&z, src + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &z, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

#if SCAN_HAVE_AVX2
/* The AVX2 classification of a text's last block (len - blk <= 66):
 * through a zero-padded copy (zero is what the scalar bits assume past
 * the end), since the scalar bits cost ~5x per byte and a 1 KB prompt's
 * last block is 6 % of it. A function of its own: its buffer and branches
 * in scan_classify_block() cost every block two more saved registers. */
__attribute__((noinline)) static void
scan_classify_tail(const struct policy_scanner *s, const unsigned char *t, size_t len,
		   size_t blk, struct scan_block *b)
{
	size_t n = len - blk < 64 ? len - blk : 64;
	unsigned char tail[96];
	if (n <= 32) {
		/* one half: a tiny text (the gateway's messages are 20-100
		 * bytes) or a short last block pays half the classification;
		 * the half reads tail[0..34], fold[32..39] is the zero the
		 * second half would have folded */
		memset(tail, 0, 40);
		scan_copy_short(tail, t + blk, n);
		scan_classify_avx2_half(s, tail, b);
		memset(b->fold + 32, 0, 8);
		scan_wipe(tail, 40);
	} else {
		/* len - blk, not n: up to 66 bytes, the two after the
		 * block are the next block's first (the fields and the
		 * in-word test of bytes 62 and 63 read them) */
		memset(tail, 0, sizeof(tail));
		memcpy(tail, t + blk, len - blk);
		scan_classify_avx2(s, tail, b);
		scan_wipe(tail, sizeof(tail));
	}
	uint64_t keep = n < 64 ? (UINT64_C(1) << n) - 1 : ~UINT64_C(0);
	b->w &= keep;
	b->h &= keep;
	b->f &= keep;
	b->in &= keep;
	b->t &= keep;
	b->d &= keep;
}
#endif

/* The filter bits of the block at blk (AVX2 scanners only). */
static void scan_classify_block(const struct policy_scanner *s, const unsigned char *t, size_t len,
				size_t blk, struct scan_block *b)
{
#if SCAN_HAVE_AVX2
	if (s->use_vbmi) {
		if (scan_gate4_on(s, len))
			scan_classify_avx512vbmi_4(s, t + blk, len - blk, b);
		else
			scan_classify_avx512vbmi(s, t + blk, len - blk, b);
		return;
	}
	if (s->use_avx512) {
		if (scan_gate4_on(s, len))
			scan_classify_avx512_4(s, t + blk, len - blk, b);
		else
			scan_classify_avx512(s, t + blk, len - blk, b);
		return;
	}
	if (len - blk > 66) {
		scan_classify_avx2(s, t + blk, b);
		return;
	}
	scan_classify_tail(s, t, len, blk, b);
#else
	/* not reached: without AVX2 pass 1 runs scan_pass1_scalar() */
	(void)s;
	(void)t;
	(void)len;
	(void)blk;
	memset(b, 0, sizeof(*b));
#endif
}

/* The context groups of a scan's hits (bit g: some hit of group g). */
static uint64_t scan_ctx_groups(const struct scan_scratch *sc)
{
	uint64_t m = 0;
	for (size_t k = 0; k < sc->n_ctx; k++)
		m |= UINT64_C(1) << sc->ctx[k].context;
	return m;
}

/* Passes 2 and 3 of a scan whose pass 1 found triggers (scan_text). */
__attribute__((noinline))
static int scan_finish(const struct policy_scanner *s, struct scan_scratch *sc, const char *text,
		       size_t len, struct policy_findings *out, size_t base)
{
	/* Pass 2: run the detectors on their triggers. */
	/* field by field: an initializer would zero the group array (~200
	 * bytes, ~50 instructions) on every call; the groups are read only
	 * after scan_trigger_groups() filled them (no trigger spans [0, 0)) */
	struct scan_priv priv;
	priv.ctx = sc->ctx;
	priv.n_ctx = sc->n_ctx;
	priv.base = base;
	priv.g_start = 0;
	priv.g_end = 0;
	priv.g_n = 0;
	priv.g_totals = 0;
	priv.c_lo = 0;
	priv.c_hi = 0;
	priv.c_cur = 0;
	priv.c_mask = 0;
	priv.c_valid = 0;
	priv.lazy = s->lazy;
	priv.lazy_groups = s->lazy_groups;
	priv.l_valid = 0;
	struct scan_input in = { text, len, NULL, 0, &priv };
	/* the context groups of the whole text (bit g: some hit of group g),
	 * read when a gate row first needs a group: most texts hold none of
	 * the groups the national digit rows need, and then no run looks up
	 * its window for them */
	uint64_t ctx_all = 0;
	int have_all = 0;
	for (size_t e = 0; e < sc->n_ev; e++) {
		const struct scan_event *ev = &sc->ev[e];
		struct scan_trigger tr = { SCAN_TRIGGER_KEYWORD, ev->start, ev->end, 0, 0, ev->digits };
		if (!ev->is_shape) {
			const struct scan_keyword *k = &s->kw[ev->id];
			in.det = s->det[k->det];
			in.det_index = k->det;
			tr.keyword = k->kw;
			if (in.det->match(&in, &tr, out) < 0)
				goto fail;
			continue;
		}
		tr.kind = SCAN_TRIGGER_SHAPE;
		tr.shape = (uint16_t)(1u << ev->id);
		const struct scan_shape_subs *sub = &s->shape[ev->id];
		if (ev->id == 0 && ev->digits < SCAN_NUM_UPTO && s->num_gate) {
			/* the NUMBER gate: read the run once, call the
			 * detectors whose readers it can reach */
			unsigned f = scan_num_facts((const unsigned char *)text, len, ev->start, ev->end,
						    ev->dots, s->num_gate_need[ev->digits]);
			uint64_t hc = s->num_gate_hctx[ev->digits];
			if (!(f & s->num_gate_hint[ev->digits])) {
				if (hc && !have_all) {
					ctx_all = scan_ctx_groups(sc);
					have_all = 1;
				}
				if (!(hc & ctx_all))
					continue;
			}
			/* the list without the context rows where none of their
			 * groups is in the text (they would all be skipped) */
			const uint32_t *off = s->num_gate_off;
			if (hc) {
				if (!have_all) {
					ctx_all = scan_ctx_groups(sc);
					have_all = 1;
				}
				if (!(hc & ctx_all))
					off = s->num_gate_noctx;
			}
			const struct scan_num_entry *g = s->num_gate + off[ev->digits];
			const struct scan_num_entry *ge = s->num_gate + off[ev->digits + 1];
			uint32_t called = UINT32_MAX;
			uint64_t tot = 0, cmask = 0;
			int have_tot = 0, have_ctx = 0;
			if (off == s->num_gate_noctx && ((s->num_gate_nc16 >> ev->digits) & 1)) {
				/* the same walk over the entries whose facts the run
				 * has (no context rows here), found at once */
				for (unsigned pass = scan_num_pass16(s->num_gate_ncfacts[ev->digits], f); pass;
				     pass &= pass - 1) {
					const struct scan_num_entry *x = g + __builtin_ctz(pass);
					if (x->det == called)
						continue;
					if (x->totals) {
						if (!have_tot) {
							tot = scan_trigger_digit_totals(&in, &tr);
							have_tot = 1;
						}
						if (!(tot & x->totals))
							continue;
					}
					called = x->det;
					in.det = s->det[x->det];
					in.det_index = x->det;
					if (in.det->match(&in, &tr, out) < 0)
						goto fail;
				}
				continue;
			}
			for (; g < ge; g++) {
				if ((g->facts & ~f) || g->det == called)
					continue;
				if (g->ctx) {   /* the cheap test first */
					if (!have_all) {
						ctx_all = scan_ctx_groups(sc);
						have_all = 1;
					}
					if (!((ctx_all >> g->ctx) & 1))
						continue;
				}
				if (g->totals) {
					if (!have_tot) {
						tot = scan_trigger_digit_totals(&in, &tr);
						have_tot = 1;
					}
					if (!(tot & g->totals))
						continue;
				}
				if (g->ctx) {
					if (!have_ctx) {
						/* fills priv's window cache: its groups */
						scan_context_near(&in, SCAN_CONTEXT_NONE, ev->start, ev->end,
								  SCAN_NUM_CTX_BEFORE, SCAN_NUM_CTX_AFTER);
						cmask = priv.c_mask;
						have_ctx = 1;
					}
					if (!((cmask >> g->ctx) & 1))
						continue;
				}
				called = g->det;
				in.det = s->det[g->det];
				in.det_index = g->det;
				if (in.det->match(&in, &tr, out) < 0)
					goto fail;
			}
			continue;
		}
		size_t upto = sub->n;
		if (ev->id == 0) {   /* sorted by min_digits */
			if (ev->digits < SCAN_NUM_UPTO && s->num_upto[ev->digits] < 255)
				upto = s->num_upto[ev->digits];
			else
				for (upto = 0; upto < sub->n &&
					       s->det[sub->det[upto]]->min_digits <= ev->digits; upto++)
					;
		}
		if (ev->id == 1 && s->alnum_lens) {
			/* the ALNUM gate: only the readers that take a run of
			 * this length */
			size_t rl = ev->end - ev->start;
			unsigned bit = rl < 63 ? (unsigned)rl : 63;
			if (s->alnum_by_len_ok) {
				/* the subscribers that take this length and first
				 * byte, in order, without a test per subscriber (the
				 * benchmark's runs reach 1 or 2 of its 10) */
				for (uint64_t m = s->alnum_by_len[bit] &
						  s->alnum_by_first[(unsigned char)text[ev->start]];
				     m; m &= m - 1) {
					size_t d = (size_t)__builtin_ctzll(m);
					in.det = s->det[sub->det[d]];
					in.det_index = sub->det[d];
					if (in.det->match(&in, &tr, out) < 0)
						goto fail;
				}
				continue;
			}
			for (size_t d = 0; d < upto; d++) {
				if (!((s->alnum_lens[d] >> bit) & 1))
					continue;
				in.det = s->det[sub->det[d]];
				in.det_index = sub->det[d];
				if (in.det->match(&in, &tr, out) < 0)
					goto fail;
			}
			continue;
		}
		for (size_t d = 0; d < upto; d++) {
			in.det = s->det[sub->det[d]];
			in.det_index = sub->det[d];
			if (in.det->match(&in, &tr, out) < 0)
				goto fail;
		}
	}

	/* Pass 3: sort by start, longer first; then keep a finding unless it
	 * overlaps a kept one that beats it (longer, then more confident, then
	 * the earlier detector). */
	size_t n = out->n - base;
	struct policy_finding *v = n ? out->v + base : NULL;   /* v is NULL before any finding */
	/* findings mostly arrive in order already (triggers are in text
	 * order); the order is total on distinct findings, so skipping the
	 * sort of a sorted array changes nothing */
	size_t sorted = 1;
	while (sorted < n && scan_finding_cmp(&v[sorted - 1], &v[sorted]) <= 0)
		sorted++;
	if (sorted < n && scan_sort_near(v, sorted, n) < 0)
		qsort(v, n, sizeof(*v), scan_finding_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && v[i].start < v[kept - 1].end) {
			struct policy_finding *p = &v[kept - 1];
			uint32_t lp = p->end - p->start, li = v[i].end - v[i].start;
			int better = li > lp || (li == lp && (v[i].confidence > p->confidence ||
				     (v[i].confidence == p->confidence && v[i].detector < p->detector)));
			if (better)
				*p = v[i];
			continue;
		}
		v[kept++] = v[i];
	}
	out->n = base + kept;
	return 0;
fail:
	if (!out->error)
		out->error = "scan failed";
	out->n = base;
	return -1;
}

/* The scan, with pass 1 by blocks (vec) or byte by byte; inlined twice
 * (policy_scan_text). */
static inline __attribute__((always_inline)) int
scan_text(const struct policy_scanner *s, const char *text, size_t len,
	  struct policy_findings *out, int vec)
{
	const unsigned char *t = (const unsigned char *)text;
	struct scan_scratch *sc;

	out->error = NULL;
	if (len > POLICY_SCAN_MAX_LEN) {
		out->error = "text too long to scan";
		return -1;
	}
	if (!out->scratch) {
		out->scratch = calloc(1, sizeof(*out->scratch));
		if (!out->scratch) {
			out->error = "out of memory";
			return -1;
		}
	}
	sc = out->scratch;
	sc->n_ev = 0;
	sc->n_ctx = 0;

	/* Pass 1. The position filter (scan_build_filter) picks the positions
	 * where a keyword or a shape can start; only those are looked at.
	 * With AVX2 64 bytes at a time (the tail through the scalar bits),
	 * otherwise byte by byte. */
	struct scan_pos st = { 0, 0, 0 }, *ps = &st;
	/* (ps opaque: the ends of the shape runs stay in memory instead of
	 * taking three registers from the block loop, where they are read
	 * only at shape triggers) */
	__asm__("" : "+r"(ps));
	if (!vec && scan_pass1_scalar(s, sc, t, len, ps) < 0)
		goto oom;
	/* two block buffers, swapped (not copied: the gate fields the
	 * classification stored are read from where they were stored) */
	struct scan_block blocks[2];
	if (vec) {
		uint64_t carry = 0, dcarry = 0;
		struct scan_block *b = &blocks[0], *nb = &blocks[1];
		if (len)
			scan_classify_block(s, t, len, 0, nb);
		for (size_t blk = 0; blk < len; blk += 64) {
			size_t n = len - blk < 64 ? len - blk : 64;
			/* the next block is classified one step ahead: a word that
			 * runs over the block end ends in its word mask, instead of
			 * in a byte loop behind an unpredictable branch (measured:
			 * ~10 % of the scan's time) */
			struct scan_block *tmp = b;
			b = nb;
			nb = tmp;
			if (len - blk > 64) {
				scan_classify_block(s, t, len, blk + 64, nb);
				memcpy(b->fold + 64, nb->fold, 8);
			} else {
				/* the last block: only its word and digit masks are read */
				nb->w = 0;
				nb->d = 0;
				memset(b->fold + 64, 0, 8);
			}
			uint64_t prevw = b->w << 1 | carry;
			carry = b->w >> 63;
			uint64_t live = n < 64 ? (UINT64_C(1) << n) - 1 : ~UINT64_C(0);
			/* three lean loops instead of one that asks per position what
			 * to do: word starts, trie candidates, shape triggers. Events
			 * of one block arrive out of order; pass 2 does not depend on
			 * their order and pass 3 sorts the findings. */
			/* word starts: gate all of the block's first (no branch on
			 * the gates, whose outcome is random), then probe the few
			 * that passed, which are mostly keywords */
			uint64_t m = b->w & ~prevw & b->h & live;
			/* the gated words: start in the block, length - 1, gates
			 * passed (three arrays, so that each store is one scaled
			 * address; the start and length as the counts give them,
			 * one instruction less each per gated word) */
			uint32_t wbit[64], wlen1[64], wkinds[64];
			size_t nw = 0;
			/* (the word masks, the gate and the fields in locals: the
			 * stores to the arrays could alias them, and they would be
			 * reloaded per word) */
			const uint64_t bw = b->w, nbw = nb->w;
			const uint32_t *gate = scan_gate4_on(s, len) ? s->kh->gate4 : s->kh->gate;
			const uint32_t *glen = s->kh->gate_len;
			const uint16_t *field = b->field;
			/* word ends: a word byte whose next byte is not one (bit 63
			 * asks the next block); a word's length is then one shift and
			 * one count from its start, instead of a 64-bit window of the
			 * two blocks' masks per word */
			const uint64_t ends = bw & ~(bw >> 1 | nbw << 63);
			/* the next block's word ends, its byte 63 counted as one:
			 * a word's 64 bits from its start in the two blocks' ends
			 * never reach that bit (bit <= 63), and a word that runs
			 * into the next block then ends in them without a branch
			 * (~7 in 10 blocks end inside a word) */
			const uint64_t nends2 = (nbw & ~(nbw >> 1)) << 1;
			while (m) {   /* the block classification computed the gate fields */
				/* (64-bit counts: an int count is sign-extended
				 * before it indexes) */
				size_t bit = scan_ctz(m);
				m &= m - 1;
				uint64_t er = ends >> bit | nends2 << (63 - bit);
				if (__builtin_expect(er != 0, 1)) {
					/* kwhash_gate_at() for a length of 1..64
					 * (short_stems is in gate[] and glen[]) */
					size_t wl1 = (size_t)(unsigned)__builtin_ctzll(er);
					unsigned kinds = gate[field[bit]] & glen[wl1 + 1];
					wbit[nw] = (uint32_t)bit;
					wlen1[nw] = (uint32_t)wl1;
					wkinds[nw] = kinds;
					nw += kinds != 0;
					continue;
				}
				/* the word runs into the next block */
				uint64_t wrun = bit ? bw >> bit | nbw << (64 - bit) : bw;
				uint32_t wl;
				wbit[nw] = (uint32_t)bit;
				wkinds[nw] = scan_word_gate(s, t, len, blk + bit, wrun, 63, gate, field[bit], &wl);
				wlen1[nw] = wl - 1;
				nw += wkinds[nw] != 0;
			}
			for (size_t q = 0; q < nw; q++) {
				uint64_t x;
				memcpy(&x, b->fold + wbit[q], 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
				x = __builtin_bswap64(x);
#endif
				if (scan_word_keywords(s, sc, t, len, blk + wbit[q], (size_t)wlen1[q] + 1,
						       wkinds[q], x) < 0)
					goto oom_blocks;
			}
			m = ((~prevw & ~b->w & b->f) | ((prevw | b->w) & b->in)) & live;
			while (m) {
				size_t bit = scan_ctz(m);
				m &= m - 1;
				if (scan_trie_at(s, sc, t, len, blk + bit, (prevw >> bit) & 1) < 0)
					goto oom_blocks;
			}
			/* a digit right after a digit is inside the number and
			 * alphanumeric runs the first digit's visit read already
			 * (scan_shape_at() would refuse it by ps), so it is skipped */
			uint64_t prevd = b->d << 1 | dcarry;
			dcarry = b->d >> 63;
			m = b->t & ~(b->d & prevd) & live;
			const struct scan_win win = { blk, b->d, nb->d };
			while (m) {
				size_t bit = scan_ctz(m);
				m &= m - 1;
				if (scan_shape_at(s, sc, t, len, blk + bit, ps, &win) < 0)
					goto oom_blocks;
			}
		}

		/* the block buffers held folded prompt text */
		scan_wipe(blocks[0].fold, sizeof(blocks[0].fold));
		scan_wipe(blocks[1].fold, sizeof(blocks[1].fold));
	}

	/* Context hits arrive ordered by start except within a block (the
	 * word loop's before the trie loop's), so an insertion sort moves each
	 * at most across one block's hits: linear in the text. */
	for (size_t i = 1; i < sc->n_ctx; i++) {
		struct scan_ctx_hit h = sc->ctx[i];
		size_t j = i;
		while (j > 0 && sc->ctx[j - 1].start > h.start) {
			sc->ctx[j] = sc->ctx[j - 1];
			j--;
		}
		sc->ctx[j] = h;
	}

	/* no trigger (most of a gateway's short messages): no detector to
	 * run and no finding to sort; pass 1 adds no finding itself */
	if (sc->n_ev == 0)
		return 0;

	/* (pass 1 adds no finding: out->n is still where this scan's
	 * findings start, and no register holds it through pass 1) */
	return scan_finish(s, sc, text, len, out, out->n);
oom_blocks:
	scan_wipe(blocks[0].fold, sizeof(blocks[0].fold));
	scan_wipe(blocks[1].fold, sizeof(blocks[1].fold));
oom:
	out->error = "out of memory";
	return -1;
}

#if SCAN_HAVE_AVX2
/* The scan with the vector classification, compiled for BMI1/BMI2
 * (which every CPU the vector paths run on has; checked with AVX2 when
 * the scanner is built): pass 1's word, trie and shape loops are bit
 * loops over the block's masks, and without BMI a variable shift ties
 * up %cl with two moves around it, a trailing-zero count breaks its
 * false dependency with an extra xor, and a lowest-bit clear takes two
 * instructions (~29 instructions per gated word start where ~22 do).
 * Pass 1 is inlined here, not called: a call costs the gateway's tiny
 * texts 4 %; passes 2 and 3 (scan_finish) are called, only for a text
 * with triggers. */
__attribute__((target("avx2,bmi,bmi2"), noinline))
static int scan_text_vec(const struct policy_scanner *s, const char *text, size_t len,
			 struct policy_findings *out)
{
	return scan_text(s, text, len, out, 1);
}
#endif

static int scan_text_scalar(const struct policy_scanner *s, const char *text, size_t len,
			    struct policy_findings *out);

/* Two tail calls: with the scalar scan inlined here, every call saved six
 * registers before it knew which path it takes (~20 instructions, 2 % of
 * a tiny text's scan). */
int policy_scan_text(const struct policy_scanner *s, const char *text,
		     size_t len, struct policy_findings *out)
{
#if SCAN_HAVE_AVX2
	if (s->use_avx2)
		return scan_text_vec(s, text, len, out);
#endif
	return scan_text_scalar(s, text, len, out);
}

/* scan_number_run() for the scalar pass, out of line: inlined into its
 * per-byte loop, the run's reader took registers from it (+5
 * instructions a byte, 15 % of the scalar path's speed). */
__attribute__((noinline))
static size_t scan_number_run_scalar(const char *text, size_t len, size_t i, size_t e1,
				     size_t *startp, unsigned *ndigits, unsigned *ndots)
{
	return scan_number_run(text, len, i, e1, NULL, startp, ndigits, ndots);
}

/* scan_shape_at() for the scalar pass, out of line (see
 * scan_number_run_scalar). */
__attribute__((noinline))
static int scan_shape_at_scalar(const struct policy_scanner *s, struct scan_scratch *sc,
				const unsigned char *t, size_t len, size_t i, struct scan_pos *ps)
{
	return scan_shape_at(s, sc, t, len, i, ps, NULL);
}

/* Pass 1 without AVX2: the same tests, one byte at a time. */
__attribute__((noinline))
static int scan_pass1_scalar(const struct policy_scanner *s, struct scan_scratch *sc,
			     const unsigned char *t, size_t len, struct scan_pos *ps)
{
	int prev = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned info = s->byteinfo[t[i]];
		uint32_t wl;
		unsigned kinds;
		if (!prev && (info & SCAN_INFO_HFIRST) &&
		    (kinds = scan_word_gate(s, t, len, i, 1, 1, NULL, -1, &wl)) != 0 &&
		    scan_word_keywords(s, sc, t, len, i, wl, kinds,
				       kwhash_fold8(kwhash_load(t + i, len - i))) < 0)
			return -1;
		int trie = (info & SCAN_INFO_WORD) || prev
			? (info & SCAN_INFO_INNER) &&
			  scan_inner_pass(s, t[i], i + 1 < len ? t[i + 1] : 0, i + 2 < len ? t[i + 2] : 0,
					  i + 3 < len ? t[i + 3] : 0)
			: (info & SCAN_INFO_FIRST) != 0;
		if (trie && scan_trie_at(s, sc, t, len, i, prev) < 0)
			return -1;
		if ((info & SCAN_INFO_TRIGGER) && scan_shape_at_scalar(s, sc, t, len, i, ps) < 0)
			return -1;
		prev = (info & SCAN_INFO_WORD) != 0;
	}
	return 0;
}

/* The scan without the vector classification (policy_scan_text). */
__attribute__((noinline))
static int scan_text_scalar(const struct policy_scanner *s, const char *text, size_t len,
			    struct policy_findings *out)
{
	return scan_text(s, text, len, out, 0);
}
