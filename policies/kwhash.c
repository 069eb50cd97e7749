/* Word-start keyword table (see kwhash.h): built once per scanner. */
#include "policies/kwhash.h"

#include <stdio.h>
#include <stdlib.h>

void kwhash_free(struct kwhash *h)
{
	if (!h)
		return;
	free(h->slot);
	free(h->ent);
	free(h->fold_buf);
	free(h);
}

static void kwhash_set_error(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
}

/* The key and tag keyword e is filed under. */
static void kwhash_key_of(const struct kwhash_entry *e, const uint8_t *is_word, int word_end,
			  uint64_t *key, uint32_t *tag, uint32_t *covered)
{
	size_t p = 0;
	while (p < e->len && is_word[e->fold[p]])
		p++;
	uint64_t x = kwhash_load(e->fold, e->len);
	if (p == e->len && !word_end && e->len >= 8) {
		*key = x;   /* the first 8 bytes (kwhash.h: STEM8 keys) */
		*tag = kwhash_tag(KWHASH_KIND_STEM8, 8);
		*covered = 8;
	} else if (p == e->len && !word_end) {
		size_t P = e->len < KWHASH_STEM_MAX ? e->len : KWHASH_STEM_MAX;
		*key = kwhash_prefix(x, P);
		*tag = kwhash_tag(KWHASH_KIND_STEM, P);
		*covered = (uint32_t)P;
	} else if (p < e->len && p < 8 && e->len >= 8) {
		*key = x;   /* the first 8 bytes (kwhash.h: PHRASE keys) */
		*tag = kwhash_tag(KWHASH_KIND_PHRASE, p);
		*covered = 8;
	} else {
		*key = kwhash_prefix(x, p);
		*tag = kwhash_tag(KWHASH_KIND_WORD, p);
		*covered = (uint32_t)(p < 8 ? p : 8);
	}
}

/* Files keyword e (key, tag) in both gates, under the cases of its first
 * byte it can match (c0w: that byte as written): with exact case only
 * its own, folded both when it starts with a letter. The gates see the
 * text word's first min(length, 3) bytes (gate) or min(length, 4)
 * (gate4) and the case of its first byte: a word key's first word, or a
 * stem's prefix, cut to 3 or 4: the bytes that a text word that can
 * match it has there, since a WORD key or a phrase's first word matches
 * only a text word of its length and a stem only one at least as long.
 * A 3-byte stem does not know the fourth byte: in gate4 it is filed
 * under all 32 values the field takes from it (0 included, the text
 * word of 3 bytes). */
static void kwhash_gate_add(struct kwhash *h, const struct kwhash_entry *e, uint64_t key,
			    uint32_t tag, unsigned c0w, int exact_case)
{
	size_t klen = tag & 0xff;
	unsigned kind = tag >> 8;
	unsigned c0 = e->fold[0];
	int letter = (c0 >= 'a' && c0 <= 'z');
	unsigned up_lo = exact_case ? (c0w >= 'A' && c0w <= 'Z') : 0;
	unsigned up_hi = exact_case ? up_lo : (unsigned)letter;
	uint32_t bit;
	if (kind == KWHASH_KIND_WORD)
		bit = 1u << ((klen < 13 ? klen : 13) - 1);
	else if (kind == KWHASH_KIND_PHRASE)
		bit = 1u << (16 + klen);
	else if (kind == KWHASH_KIND_STEM8)
		bit = KWHASH_GATE_STEM8;
	else if (klen < 3) {
		h->short_stems = KWHASH_GATE_SHORT;
		return;
	} else
		bit = klen == 3 ? KWHASH_GATE_STEM3
		    : e->len < KWHASH_STEM4_LONG ? KWHASH_GATE_STEM4S : KWHASH_GATE_STEM4;
	for (unsigned up = up_lo; up <= up_hi; up++) {
		h->gate[kwhash_gate_field(kwhash_prefix(key, klen < 3 ? klen : 3), up)] |= bit;
		if (kind == KWHASH_KIND_STEM && klen == 3)
			for (uint64_t b3 = 0; b3 < 32; b3++)
				h->gate4[kwhash_gate4_field(key | b3 << 24, up)] |= bit;
		else
			h->gate4[kwhash_gate4_field(kwhash_prefix(key, klen < 4 ? klen : 4), up)] |= bit;
	}
}

struct kwhash *kwhash_new(const char *const *words, const size_t *lens,
			  const uint8_t *word_end, const uint8_t *exact_case,
			  const uint32_t *ids, size_t n,
			  const uint8_t *is_word, char *err, size_t errlen)
{
	struct kwhash *h = calloc(1, sizeof(*h));
	struct kwhash_entry *tmp = NULL;
	uint32_t *slot_of = NULL;
	size_t total = 0, nslots = 16, bits = 4;

	if (!h)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] > 255 || !is_word[(unsigned char)words[i][0]]) {
			kwhash_set_error(err, errlen, "keyword empty, too long or not starting a word");
			goto fail;
		}
		total += lens[i];
	}
	while (nslots < 2 * n + 2 || nslots < 1024) {
		nslots *= 2;
		bits++;
	}
	h->slot = calloc(nslots, sizeof(*h->slot));
	h->ent = calloc(n + 1, sizeof(*h->ent));
	h->fold_buf = malloc(total + 8);
	tmp = calloc(n + 1, sizeof(*tmp));
	slot_of = calloc(n + 1, sizeof(*slot_of));
	if (!h->slot || !h->ent || !h->fold_buf || !tmp || !slot_of)
		goto oom;
	for (size_t l = 0; l < sizeof(h->gate_len) / sizeof(h->gate_len[0]); l++)
		h->gate_len[l] = kwhash_gate_len[l < 15 ? l : 15];
	h->mask = (uint32_t)(nslots - 1);
	h->shift = (uint32_t)(64 - bits);
	h->n_ent = n;

	/* entries and their slots; then the entries grouped by slot */
	size_t fo = 0;
	for (size_t i = 0; i < n; i++) {
		struct kwhash_entry *e = &tmp[i];
		uint8_t *f = h->fold_buf + fo;
		for (size_t j = 0; j < lens[i]; j++) {
			unsigned c = (unsigned char)words[i][j];
			f[j] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		fo += lens[i];
		e->fold = f;
		e->len = (uint32_t)lens[i];
		e->id = ids[i];
		unsigned c0 = f[0];
		h->first[c0] = 1;
		if (c0 >= 'a' && c0 <= 'z')
			h->first[c0 - 32] = 1;
		uint64_t key;
		uint32_t tag;
		kwhash_key_of(e, is_word, word_end[i], &key, &tag, &e->covered);
		if (e->covered < e->len) {
			size_t rest = e->len - e->covered;
			e->next_mask = kwhash_mask[rest < 8 ? rest : 8];
			e->next8 = kwhash_load(f + e->covered, rest) & e->next_mask;
		}
		if ((tag >> 8) == KWHASH_KIND_STEM)
			h->stem_lens |= 1u << (tag & 0xff);
		kwhash_gate_add(h, e, key, tag, (unsigned char)words[i][0], exact_case[i]);
		uint64_t hv = kwhash_hash(key, tag);
		unsigned b = (unsigned)(hv >> 48);
		h->bloom[b >> 3] |= (uint8_t)(1u << (b & 7));
		uint32_t s = (uint32_t)(hv >> h->shift);
		while (h->slot[s].tag && !(h->slot[s].tag == tag && h->slot[s].key == key))
			s = (s + 1) & h->mask;
		if (h->slot[s].n == UINT16_MAX) {
			kwhash_set_error(err, errlen, "too many keywords with the same first word");
			goto fail;
		}
		h->slot[s].key = key;
		h->slot[s].tag = (uint16_t)tag;
		h->slot[s].n++;
		slot_of[i] = s;
	}
	/* stems of 1-2 bytes (custom terms): every text word probes them;
	 * the bit in every gate entry and in gate_len, so that the scanner's
	 * block loop gates a word with one and (kwhash_gate() and
	 * kwhash_gate_at() add short_stems themselves) */
	if (h->short_stems) {
		for (size_t g = 0; g < sizeof(h->gate) / sizeof(h->gate[0]); g++)
			h->gate[g] |= KWHASH_GATE_SHORT;
		for (size_t g = 0; g < sizeof(h->gate4) / sizeof(h->gate4[0]); g++)
			h->gate4[g] |= KWHASH_GATE_SHORT;
		for (size_t l = 1; l < sizeof(h->gate_len) / sizeof(h->gate_len[0]); l++)
			h->gate_len[l] |= KWHASH_GATE_SHORT;
	}
	size_t o = 0;
	for (size_t s = 0; s < nslots; s++) {
		h->slot[s].off = (uint32_t)o;
		o += h->slot[s].n;
		h->slot[s].n = 0;   /* counted again while placing */
	}
	for (size_t i = 0; i < n; i++) {
		struct kwhash_slot *sl = &h->slot[slot_of[i]];
		h->ent[sl->off + sl->n++] = tmp[i];
	}
	free(tmp);
	free(slot_of);
	return h;
oom:
	kwhash_set_error(err, errlen, "out of memory");
fail:
	free(tmp);
	free(slot_of);
	kwhash_free(h);
	return NULL;
}
