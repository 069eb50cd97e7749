/* Word-start keywords looked up by whole word in one hash table.
 *
 * Pass 1 of the scanner used to enter a per-byte trie at every word start
 * that a 2/3/4-byte filter let through. With ~2,200 keywords (1,229 given
 * names, ~400 stems, pronouns, titles) nearly every word start passed the
 * filter's first stages, and the trie walk was a chain of dependent loads
 * per byte. Here a keyword that must start a word and begins with a word
 * byte is found with at most a few probes per text word instead:
 *
 *  - WORD keys: the keyword's leading run of word bytes (its "first word").
 *    A keyword made only of word bytes with the word-end rule ("anna",
 *    "ich") matches exactly when the text word equals it; one with a
 *    non-word byte after its first word ("tel.", "ust-id") only where the
 *    text word equals that first word, and the rest is compared after the
 *    probe.
 *  - PHRASE keys: such a keyword of 8 bytes or more whose first word is
 *    shorter than 8 ("die linke", "Mit freundlichen Grüßen", "ust-idnr")
 *    is filed under its first 8 bytes, which hold the byte after the first
 *    word and some of the next, and the text word is probed with its first
 *    8 bytes. Filed under the first word, a phrase that begins with a
 *    common word made every occurrence of that word a probe that hits and
 *    then fails the comparison: "die" (of the parties "die linke" and "die
 *    grünen") cost 4 % of the benchmark's scan time; with the 8 bytes, "die
 *    Preise" misses at the Bloom map.
 *  - STEM keys: a keyword made only of word bytes without the word-end rule
 *    ("krebs" in "Krebserkrankung") matches where it is a prefix of the
 *    text word; it is filed under its first min(len, 4) bytes, and the text
 *    word is probed with its 1..4-byte prefixes (only the lengths present).
 *    A stem of 8 bytes or more is filed under its first 8 (STEM8) and the
 *    text word with 8 bytes or more probed with its first 8: filed under
 *    4, "transgender" made every "translate" a probe that hits and fails
 *    the comparison, and "sindicato", "sindacato" (5 stems) every "sind".
 *
 * Before any probe a text word passes the gate (struct kwhash.gate): one
 * 32-bit entry per (first 3 bytes, case of the first byte) that tells
 * which word lengths, first-word lengths of phrases and which stem kinds
 * can match; the vector paths of
 * the scanner compute every position's field while classifying a block.
 *
 * The AVX-512 scan of a text of more than SCAN_GATE4_MIN bytes uses a
 * second gate, gate4 (kwhash_gate4_field()), keyed on the first
 * min(length, 4) bytes instead of 3, of the fourth its low 5 bits (a
 * letter's in either case). Four bytes are exact for every kind but the
 * 3-byte stems: a WORD key or a phrase's first word of 1-3 bytes matches
 * only a text word of that length (whose fourth byte is then zero in the
 * field), and the other stems and the STEM8 keys are filed under 4 bytes
 * or more; a 3-byte stem is filed under all 32 values of the fourth
 * byte's bits (the defaults' 18 stems: ~1,100 of gate4's 32 K entries).
 * On `bench/policy 1 1` (456,037 word starts) 108,139 words pass the
 * 3-byte gate, with 124,449 probes of which 81,677 miss at the Bloom map;
 * 66,187 pass gate4, with 68,342 probes (31,359 Bloom misses, 20,522 of
 * them the phrases after "die", which only the word after "die" tells
 * apart), and the same 34,528 probes find a slot. The fourth byte costs
 * the block classification a few vector instructions, which a text of
 * one or two blocks does not earn back (the gateway's messages ran 3 %
 * slower per text), so those keep the 3-byte gate, and so do the AVX2
 * and the scalar paths.
 *
 * Keys are the first (up to) 8 bytes of the word, ASCII case-folded and
 * zero-padded, plus a tag (kind and length), so most probes are decided by
 * one 64-bit compare. Case folding is the trie's: A-Z only, bytes >= 0x80
 * are compared exactly. Keywords that may start inside a word stay in the
 * trie (policies/ac.h). */
#ifndef HAFEN_POLICIES_KWHASH_H
#define HAFEN_POLICIES_KWHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum kwhash_kind {
	KWHASH_KIND_WORD = 1,
	KWHASH_KIND_STEM = 2,
	KWHASH_KIND_PHRASE = 3,
	KWHASH_KIND_STEM8 = 4,
};

#define KWHASH_STEM_MAX 4   /* stems are filed under at most 4 bytes */
/* 16 K gate entries (64 KB) for the ~1,400 distinct gate keys (first
 * three bytes and case) of the defaults: with 8 K, 10 % more text words
 * passed a gate through a collision (118,947 against 108,140 on
 * `bench/policy 1 1`), and the scan ran 1-2 % slower per pair */
#define KWHASH_GATE_BITS 14
/* gate4: 32 K entries (128 KB). With 16 K, 79,439 words passed it on
 * `bench/policy 1 1` instead of 66,187 (the 3-byte stems' 32 entries
 * each, and collisions) */
#define KWHASH_GATE4_BITS 15

/* Gate field bits: which probes a text word needs. The stems filed
 * under 4 bytes have two bits by their length, since a text word can
 * only start with a stem at least as long as the stem: on the
 * benchmark's text half of the words whose first 3 bytes begin such a
 * stem are shorter than every stem that begins so. */
enum kwhash_gate_bit {
	KWHASH_GATE_WORD = 0x1fff,     /* bit L - 1: a WORD key of L bytes (13: 13 or more) */
	KWHASH_GATE_STEM4S = 1u << 13, /* a stem of 4-6 bytes (filed under 4) */
	KWHASH_GATE_STEM3 = 1u << 14,  /* a 3-byte stem */
	KWHASH_GATE_STEM4 = 1u << 15,  /* a stem of 7 or more bytes (filed under 4) */
	KWHASH_GATE_SHORT = 1u << 16,  /* stems of 1-2 bytes: probe them (not in gate fields) */
	/* bit 16 + L: a PHRASE key whose first word has L bytes (1-7) */
	KWHASH_GATE_PHRASE = 0x7fu << 17,
	KWHASH_GATE_STEM8 = 1u << 24,  /* a stem of 8 bytes or more (filed under 8) */
};
#define KWHASH_STEM4_LONG 7   /* stems this long (up to 7): KWHASH_GATE_STEM4 */

struct kwhash_slot {
	uint64_t key;          /* folded, zero-padded first bytes */
	uint16_t tag;          /* kind << 8 | length (0: empty slot) */
	uint16_t n;            /* entries filed here: ent[off .. off + n) */
	uint32_t off;
};

/* Entries are stored grouped by slot, so a probe that hits reads the
 * slot and then one contiguous run of entries; the 8 bytes after the
 * part the key proved are kept here, so that most checks never touch
 * the keyword text itself. */
struct kwhash_entry {
	uint64_t next8;        /* folded bytes [covered, covered + 8), zero-padded */
	uint64_t next_mask;    /* which of them belong to the keyword */
	const uint8_t *fold;   /* the keyword, ASCII lower case */
	uint32_t len;
	uint32_t covered;      /* bytes the key already proved equal */
	uint32_t id;           /* caller's keyword id */
};

struct kwhash {
	struct kwhash_slot *slot;
	uint32_t mask;         /* slots - 1 */
	uint32_t shift;        /* 64 - log2(slots) */
	struct kwhash_entry *ent;
	uint8_t *fold_buf;
	size_t n_ent;
	unsigned stem_lens;    /* bit P set: some stem is filed under P bytes */
	/* bit (hash >> 48) set for every key: most text words are no
	 * keyword's key and are turned away by this 8 KB map, which stays in
	 * L1, instead of by a miss in the table */
	uint8_t bloom[1u << 13];
	/* The gate: one 32-bit load per text word, so that most text words
	 * are turned away before any probe and the probes that follow are
	 * mostly hits (predictable branches). Keyed by the word's first
	 * min(len, 3) bytes (folded) and whether its first byte is an ASCII
	 * capital (keywords with exact case, e.g. the given names, only
	 * match words whose first byte has their case). Bits
	 * (enum kwhash_gate_bit): for WORD keys the length of their first
	 * word (a WORD key matches only a text word of exactly that length),
	 * for PHRASE keys the length of their first word, and whether a
	 * 3-byte stem or a longer stem starts so. (16 bits were enough
	 * before the PHRASE keys, whose first-word lengths need 7 more; 16 K
	 * 16-bit entries and 8 K 32-bit ones ran at the same speed.) On the
	 * benchmark's text the words that enter a WORD probe go from 48 %
	 * (first 3 bytes only) to about 14 %, of which 12 % really are
	 * keywords ("Sie", "ich", "Im"). */
	uint32_t gate[1u << KWHASH_GATE_BITS];
	/* the same bits keyed by kwhash_gate4_field() (this file's top) */
	uint32_t gate4[1u << KWHASH_GATE4_BITS];
	uint32_t short_stems;  /* KWHASH_GATE_SHORT when stems of 1-2 bytes exist (custom terms) */
	/* kwhash_gate_len[min(wl, 15)] for wl = 0..64, the lengths a word
	 * that ends inside the scanner's 64-byte block can have: one load
	 * without the clamp; with short_stems, its bit for wl >= 1 (and in
	 * every gate entry) */
	uint32_t gate_len[65];
	uint8_t first[256];    /* byte can start a keyword (both cases) */
};

/* is_word(c) tells which bytes are word bytes (the scanner's definition).
 * words[i] must start with a word byte; word_end[i] != 0 when keyword i
 * must end a word; exact_case[i] != 0 when it matches only with its own
 * case (the gates use its first byte's case). ids[i] is returned by the
 * lookups. NULL with a message
 * in err on error. */
struct kwhash *kwhash_new(const char *const *words, const size_t *lens,
			  const uint8_t *word_end, const uint8_t *exact_case,
			  const uint32_t *ids, size_t n,
			  const uint8_t *is_word, char *err, size_t errlen);
void kwhash_free(struct kwhash *h);

/* The first 8 bytes at p (avail of them readable), zero-padded, as a
 * little-endian number: byte j in bits 8j..8j+7 on every machine, so that
 * kwhash_mask[n] selects the first n bytes. */
static inline uint64_t kwhash_load(const unsigned char *p, size_t avail)
{
	uint64_t x = 0;
	if (avail >= 8)
		memcpy(&x, p, 8);
	else
		memcpy(&x, p, avail);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* ASCII case folding of 8 bytes at once (A-Z -> a-z, nothing else): per
 * byte, the low 7 bits plus 0x80 - 'A' carry into bit 7 exactly when
 * they are >= 'A', plus 0x80 - 'Z' - 1 when > 'Z'; no byte overflows into
 * the next. Bytes with bit 7 set are left alone. */
static inline uint64_t kwhash_fold8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t low = x & (ones * 0x7f);
	uint64_t ge_a = low + ones * (0x80 - 'A');
	uint64_t gt_z = low + ones * (0x80 - 'Z' - 1);
	uint64_t upper = ge_a & ~gt_z & ~x & (ones * 0x80);
	return x | (upper >> 2);
}

/* kwhash_mask[n]: the first n bytes of a little-endian load (n <= 8). */
static const uint64_t kwhash_mask[9] = {
	0, 0xff, 0xffff, 0xffffff, 0xffffffff, UINT64_C(0xffffffffff),
	UINT64_C(0xffffffffffff), UINT64_C(0xffffffffffffff), UINT64_C(0xffffffffffffffff),
};

static inline uint64_t kwhash_prefix(uint64_t x, size_t n)
{
	return x & kwhash_mask[n < 8 ? n : 8];
}

static inline uint32_t kwhash_tag(unsigned kind, size_t len)
{
	return (uint32_t)(kind << 8 | (len > 255 ? 255 : len));
}

/* The gate field of the keys whose first min(len, 3) bytes are k3
 * (folded), up 1 when their first byte must be 'A'..'Z'. The hash is a
 * sum of products in 16-bit arithmetic, so that a vector unit computes
 * it for 32 positions at once (vpmullw; scan.c does so for every byte
 * of a block while it classifies the block). */
#define KWHASH_GATE_M0 0x9E35u
#define KWHASH_GATE_M1 0x7F4Bu
#define KWHASH_GATE_M2 0x5BD1u
#define KWHASH_GATE_MU 0x2F3Du

/* The sum of products of the first 3 bytes of k and the case bit, in
 * 16-bit arithmetic (both gates' fields start from it). */
static inline unsigned kwhash_gate_sum(uint64_t k, unsigned up)
{
	return (unsigned)(k & 0xff) * KWHASH_GATE_M0 + (unsigned)(k >> 8 & 0xff) * KWHASH_GATE_M1 +
	       (unsigned)(k >> 16 & 0xff) * KWHASH_GATE_M2 + up * KWHASH_GATE_MU;
}

static inline unsigned kwhash_gate_field(uint64_t k3, unsigned up)
{
	return (kwhash_gate_sum(k3, up) & 0xffff) >> (16 - KWHASH_GATE_BITS);
}

/* The gate4 field of the keys whose first min(len, 4) bytes are k4
 * (folded, zero-padded): kwhash_gate_field()'s sum with the low 5 bits
 * of the fourth byte's product added (the same for a byte and its
 * folded form, so that the vector paths need not fold it), 15 bits. */
#define KWHASH_GATE_M3 0x3A6Du

static inline unsigned kwhash_gate4_field(uint64_t k4, unsigned up)
{
	unsigned hv = kwhash_gate_sum(k4, up) + (unsigned)(k4 >> 24 & 0x1f) * KWHASH_GATE_M3;
	return (hv & 0xffff) >> (16 - KWHASH_GATE4_BITS);
}

/* The gate bits a text word of wl bytes can use (index min(wl, 15)):
 * its length's WORD bit, STEM3 from 3 bytes on, STEM4S from 4 on, STEM4
 * from KWHASH_STEM4_LONG on, STEM8 from 8 on, its length's PHRASE bit
 * below 8. */
#define KWHASH_GL3 KWHASH_GATE_STEM3
#define KWHASH_GL4 (KWHASH_GATE_STEM3 | KWHASH_GATE_STEM4S)
#define KWHASH_GL7 (KWHASH_GATE_STEM3 | KWHASH_GATE_STEM4S | KWHASH_GATE_STEM4)
#define KWHASH_GL8 (KWHASH_GL7 | KWHASH_GATE_STEM8)
#define KWHASH_GP(l) (1u << (16 + (l)))
static const uint32_t kwhash_gate_len[16] = {
	0, 1u << 0 | KWHASH_GP(1), 1u << 1 | KWHASH_GP(2), 1u << 2 | KWHASH_GL3 | KWHASH_GP(3),
	1u << 3 | KWHASH_GL4 | KWHASH_GP(4), 1u << 4 | KWHASH_GL4 | KWHASH_GP(5),
	1u << 5 | KWHASH_GL4 | KWHASH_GP(6), 1u << 6 | KWHASH_GL7 | KWHASH_GP(7),
	1u << 7 | KWHASH_GL8, 1u << 8 | KWHASH_GL8, 1u << 9 | KWHASH_GL8, 1u << 10 | KWHASH_GL8,
	1u << 11 | KWHASH_GL8, 1u << 12 | KWHASH_GL8, 1u << 12 | KWHASH_GL8, 1u << 12 | KWHASH_GL8,
};
#undef KWHASH_GP
#undef KWHASH_GL8
#undef KWHASH_GL3
#undef KWHASH_GL4
#undef KWHASH_GL7

/* The probes a text word of wl bytes needs (enum kwhash_gate_bit; 0:
 * none), by the field of gate (h->gate or h->gate4) computed already
 * (by the vector unit). No branch: callers gate the words of a block
 * first and probe after. */
static inline unsigned kwhash_gate_at(const struct kwhash *h, const uint32_t *gate, unsigned field,
				      size_t wl)
{
	return (gate[field] & kwhash_gate_len[wl < 15 ? wl : 15]) | h->short_stems;
}

/* The same by the 3-byte gate: x the word's first 8 bytes (folded), up
 * 1 when its first byte is 'A'..'Z'. */
static inline unsigned kwhash_gate(const struct kwhash *h, uint64_t x, size_t wl, unsigned up)
{
	return kwhash_gate_at(h, h->gate, kwhash_gate_field(x & kwhash_mask[wl < 3 ? wl : 3], up), wl);
}

/* The same by gate4 (a subset of kwhash_gate()'s probes: the same
 * keywords, fewer words). */
static inline unsigned kwhash_gate4(const struct kwhash *h, uint64_t x, size_t wl, unsigned up)
{
	return kwhash_gate_at(h, h->gate4, kwhash_gate4_field(x & kwhash_mask[wl < 4 ? wl : 4], up), wl);
}

static inline uint64_t kwhash_hash(uint64_t key, uint32_t tag)
{
	return (key ^ (uint64_t)tag << 48) * UINT64_C(0x9E3779B97F4A7C15);
}

/* The entries filed under (key, tag); *n = 0 when none. */
static inline const struct kwhash_entry *kwhash_find(const struct kwhash *h, uint64_t key,
						     uint32_t tag, uint32_t *n)
{
	uint64_t hv = kwhash_hash(key, tag);
	unsigned b = (unsigned)(hv >> 48);
	if (!((h->bloom[b >> 3] >> (b & 7)) & 1)) {
		*n = 0;
		return NULL;
	}
	uint32_t i = (uint32_t)(hv >> h->shift);
	for (;;) {
		const struct kwhash_slot *sl = &h->slot[i];
		if (sl->tag == tag && sl->key == key) {
			*n = sl->n;
			return &h->ent[sl->off];
		}
		if (sl->tag == 0) {
			*n = 0;
			return NULL;
		}
		i = (i + 1) & h->mask;
	}
}

/* 1 when the text at p (avail bytes readable) starts with entry e, case
 * folded like the key; the first e->covered bytes are known equal. */
static inline int kwhash_verify(const struct kwhash_entry *e, const unsigned char *p,
				size_t avail)
{
	if (e->len > avail)
		return 0;
	if (e->covered >= e->len)
		return 1;
	size_t cov = e->covered;
	if ((kwhash_fold8(kwhash_load(p + cov, avail - cov)) & e->next_mask) != e->next8)
		return 0;
	for (size_t j = cov + 8; j < e->len; j++) {
		unsigned c = p[j];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != e->fold[j])
			return 0;
	}
	return 1;
}

#endif
