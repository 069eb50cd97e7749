/* Financial detectors: IBAN, payment cards, BIC, EU VAT ids. */
#include <string.h>

#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/scan.h"
#include "policies/validate.h"

#define W DETECTOR_KW_WORD
#define WS DETECTOR_KW_WORD_START

/* The window of context words that scan.c's NUMBER gate looks up for a
 * number run (80 bytes before it, 24 after; SCAN_NUM_CTX_BEFORE/_AFTER).
 * A rule that wants a smaller window around the run asks for this one
 * first: where the word is not in it, it is not in the smaller one, and
 * the lookup is the one the gate's rows share (the scanner caches the
 * last window), so the narrow one is looked up only where the word is. */
#define DETECT_FINANCIAL_RUN_BEFORE 80
#define DETECT_FINANCIAL_RUN_AFTER 24

static int detect_financial_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static int detect_financial_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int detect_financial_word(const struct scan_input *in, size_t i)
{
	return i < in->len && (scan_is((unsigned char)in->text[i], SCAN_BYTE_WORD) || in->text[i] == '_');
}

/* Reads up to `want` letters/digits from p, allowing one ' ' or '-'
 * between characters (print groups). Returns the end offset, or 0.
 * text[p, p + known) are letters or digits already (known <= want): copied
 * without the byte tests. */
static size_t detect_financial_collect(const struct scan_input *in, size_t p, char *buf,
				       size_t want, size_t known)
{
	/* the text and its length in locals: a store to buf (char) could
	 * alias *in, which would be reloaded on every byte */
	const unsigned char *s = (const unsigned char *)in->text;
	size_t len = in->len, n = 0, i = p;
	for (; n < known; n++)
		buf[n] = (char)s[p + n];
	i = p + known;
	while (i < len && n < want) {
		if (scan_is(s[i], SCAN_BYTE_ALNUM)) {
			buf[n++] = (char)s[i++];
			continue;
		}
		if (n && (s[i] == ' ' || s[i] == '-') && i + 1 < len &&
		    scan_is(s[i + 1], SCAN_BYTE_ALNUM)) {
			i++;
			continue;
		}
		break;
	}
	if (n != want || detect_financial_word(in, i))
		return 0;
	return i;
}

/* ---- IBAN (ISO 13616): country, check digits, BBAN; printed compact or
 * in groups of four. The mod-97 check and the per-country length make a
 * context word unnecessary. ---- */

static const struct detector_keyword detect_financial_iban_keywords[] = {
	{ "iban", W, SCAN_CONTEXT_IBAN },
	{ "konto", WS, SCAN_CONTEXT_IBAN },
	{ "account", WS, SCAN_CONTEXT_IBAN },
	{ NULL, 0, 0 },
};

static int detect_financial_match_iban(const struct scan_input *in,
				       const struct scan_trigger *t,
				       struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t p = t->start;
	char buf[40];

	/* Only alphanumeric runs: an IBAN begins a run of letters and digits
	 * ("DE89", "DE89370400440532013000"), and the scanner passes every such
	 * run that is not next to a byte >= 0x80. The number runs inside one
	 * ("89 3704 ...", the row's second shape before round 7) start the same
	 * reader at the same place, which depends only on it: they found the
	 * same IBAN a second time, or none, also where a byte >= 0x80 follows
	 * the first run (the reader stops there or sees a word byte). */
	if (t->shape != SCAN_SHAPE_ALNUM)
		return 0;
	if (p + 4 > in->len || !detect_financial_upper(s[p]) || !detect_financial_upper(s[p + 1]) ||
	    !detect_financial_digit(s[p + 2]) || !detect_financial_digit(s[p + 3]))
		return 0;
	if (p > 0 && detect_financial_word(in, p - 1))
		return 0;
	size_t want = validate_iban_length((const char *)s + p);
	if (!want)
		return 0;
	/* an alphanumeric run (the trigger is the whole run) longer than the
	 * country's IBAN, or shorter and not continued by ' ' or '-', is not
	 * one: the reader below would stop inside it or at its end
	 * ("DE136695976", a VAT id, is 11 of DE's 22) */
	size_t r = t->end - t->start;
	if (r > want || (r < want && (t->end >= in->len || (s[t->end] != ' ' && s[t->end] != '-'))))
		return 0;
	size_t e = detect_financial_collect(in, p, buf, want, r);
	/* buf: want letters and digits, the country's length, the first
	 * four checked above; what validate_iban() would still check is
	 * the mod-97 sum */
	if (!e || !validate_iban_mod97(buf, want))
		return 0;
	return scan_add_finding(out, in, p, e, 0);
}

/* ---- payment cards: Luhn (ISO/IEC 7812-1) plus issuer ranges and
 * lengths (validate_payment_card). Separators inside must be one kind of
 * ' ' or '-'. A card number embedded in a longer digit run needs a card
 * context word. ---- */

static const struct detector_keyword detect_financial_card_keywords[] = {
	{ "kreditkarte", WS, SCAN_CONTEXT_CARD },
	{ "karte", WS, SCAN_CONTEXT_CARD },
	{ "card", WS, SCAN_CONTEXT_CARD },
	{ "visa", W, SCAN_CONTEXT_CARD },
	{ "mastercard", W, SCAN_CONTEXT_CARD },
	{ "amex", W, SCAN_CONTEXT_CARD },
	{ "carte", WS, SCAN_CONTEXT_CARD },
	{ "carta", WS, SCAN_CONTEXT_CARD },
	{ "tarjeta", WS, SCAN_CONTEXT_CARD },
	{ "kaart", WS, SCAN_CONTEXT_CARD },
	{ "cb", W, SCAN_CONTEXT_CARD },
	{ NULL, 0, 0 },
};

static int detect_financial_match_card(const struct scan_input *in,
				       const struct scan_trigger *t,
				       struct policy_findings *out)
{
	const struct scan_group *g;
	size_t ng, best_a = 0, best_b = 0;
	int best_whole = 0;

	/* a card number is 13-19 digits over ' ' or '-' (a subset of what
	 * scan_trigger_digit_totals() allows) */
	if (t->digits < 13 || !((scan_trigger_digit_totals(in, t) >> 13) & 0x7f))
		return 0;
	g = scan_trigger_groups(in, t, &ng);
	/* a span that is not the whole run (groups 0 to ng - 1) needs a card
	 * word near it, and its window lies inside the run's: where the whole
	 * run holds more than 19 digits (an IBAN's "89 3704 0044 0532 0130
	 * 00") and no card word is near the run, nothing can be found */
	size_t all = 0;
	for (size_t i = 0; i < ng; i++)
		all += g[i].end - g[i].start;
	if (all > 19 &&
	    (!scan_context_near(in, SCAN_CONTEXT_CARD, t->start, t->end, DETECT_FINANCIAL_RUN_BEFORE,
				DETECT_FINANCIAL_RUN_AFTER) ||
	     !scan_context_near(in, SCAN_CONTEXT_CARD, t->start, t->end, 64, 16)))
		return 0;
	for (size_t i = 0; i < ng; i++) {
		size_t total = 0;
		char d[19 + 8];   /* a group of up to 8 is copied as 8 bytes */
		uint8_t sep = 0;
		/* no card number begins so: no span from here validates (most
		 * starts inside IBANs, phone numbers, long references) */
		if (!validate_payment_card_first(in->text[g[i].start]))
			continue;
		for (size_t j = i; j < ng; j++) {
			size_t gl = g[j].end - g[j].start;
			if (j > i) {
				if (g[j].sep != ' ' && g[j].sep != '-')
					break;
				if (sep && g[j].sep != sep)
					break;
				sep = g[j].sep;
				/* "4111 1111 1111 1111": separators are single bytes */
				if (g[j].start - g[j - 1].end != 1)
					break;
			}
			if (total + gl > 19)
				break;
			scan_copy_group(d + total, in->text, in->len, &g[j]);
			total += gl;
			if (total < 13 || !validate_payment_card(d, total))
				continue;
			if (g[j].end - g[i].start > best_b - best_a) {
				best_a = g[i].start;
				best_b = g[j].end;
				best_whole = i == 0 && j == ng - 1;
			}
		}
	}
	if (best_b == 0)
		return 0;
	if (detect_financial_word(in, best_b) || (best_a > 0 && detect_financial_word(in, best_a - 1)))
		return 0;
	if (!best_whole && !scan_context_near(in, SCAN_CONTEXT_CARD, best_a, best_b, 64, 16))
		return 0;
	return scan_add_finding(out, in, best_a, best_b, best_whole ? 0 : 80);
}

/* ---- BIC (ISO 9362) with a context word: 8 or 11 upper-case
 * alphanumerics after "BIC" / "SWIFT". Without the word, any 8-letter
 * upper-case word ("DEUTSCHE") would be a candidate. ---- */

static const struct detector_keyword detect_financial_bic_keywords[] = {
	{ "bic", W | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_BIC },
	{ "swift", W | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_BIC },
	{ "swift-code", W | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_BIC },
	{ "swift/bic", W | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_BIC },
	{ "bic/swift", W | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_BIC },
	{ NULL, 0, 0 },
};

static int detect_financial_match_bic(const struct scan_input *in,
				      const struct scan_trigger *t,
				      struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t i = t->end, lim = t->end + 48;

	if (lim > in->len)
		lim = in->len;
	for (int tok = 0; tok < 4 && i < lim; tok++) {
		while (i < lim && !scan_is(s[i], SCAN_BYTE_ALNUM))
			i++;
		size_t a = i;
		while (i < in->len && scan_is(s[i], SCAN_BYTE_ALNUM))
			i++;
		if (a == i)
			break;
		if ((i - a == 8 || i - a == 11) && !detect_financial_word(in, i) &&
		    !scan_is(s[a - 1], SCAN_BYTE_HIGH) && validate_bic((const char *)s + a, i - a))
			return scan_add_finding(out, in, a, i, 0);
	}
	return 0;
}

/* ---- VAT ids (EU VIES formats; check digits in validate.c). The country
 * prefix is part of the id; spaced forms ("DE 123 456 789") are joined.
 * Polish NIP and Italian partita IVA are also written without prefix: then
 * a context word ("NIP", "P.IVA") is required. ---- */

static const struct detector_keyword detect_financial_vat_keywords[] = {
	{ "ust-idnr", WS, SCAN_CONTEXT_VAT },
	{ "ust-id", WS, SCAN_CONTEXT_VAT },
	{ "umsatzsteuer", WS, SCAN_CONTEXT_VAT },
	{ "uid", W, SCAN_CONTEXT_VAT },
	{ "vat", W, SCAN_CONTEXT_VAT },
	{ "tva", W, SCAN_CONTEXT_VAT },
	{ "iva", W, SCAN_CONTEXT_VAT },
	{ "p.iva", W, SCAN_CONTEXT_VAT },
	{ "partita iva", W, SCAN_CONTEXT_VAT },
	{ "btw", WS, SCAN_CONTEXT_VAT },
	{ "nip", W, SCAN_CONTEXT_VAT },
	{ NULL, 0, 0 },
};

/* The prefixes validate_vat_id() knows (DE AT FR IT ES NL BE PL), in
 * capitals: bit (second letter - 'A') of the row of the first letter. */
#define CC(a, b) [(a) - 'A'] = 1u << ((b) - 'A')
static const uint32_t detect_financial_vat_cc[26] = {
	CC('D', 'E'), CC('A', 'T'), CC('F', 'R'), CC('I', 'T'),
	CC('E', 'S'), CC('N', 'L'), CC('B', 'E'), CC('P', 'L'),
};
#undef CC

static int detect_financial_vat_prefix(const unsigned char *s)
{
	unsigned a = (unsigned)s[0] - 'A', b = (unsigned)s[1] - 'A';
	return a < 26 && b < 26 && ((detect_financial_vat_cc[a] >> b) & 1);
}

static int detect_financial_match_vat(const struct scan_input *in,
				      const struct scan_trigger *t,
				      struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	char buf[24];

	if (t->shape == SCAN_SHAPE_ALNUM) {
		size_t n = t->end - t->start;
		if (n < 9 || n > 14 || !detect_financial_vat_prefix(s + t->start) ||
		    !((validate_vat_lengths((const char *)s + t->start) >> n) & 1))
			return 0;
		if (!validate_vat_id((const char *)s + t->start, n))
			return 0;
		return scan_add_finding(out, in, t->start, t->end, 0);
	}
	/* spaced: "DE 123 456 789", "ATU 1358 5627", or no prefix with context */
	size_t p = t->start;
	if (!detect_financial_digit(s[p]))
		return 0;
	size_t q = p;
	if (q >= 1 && s[q - 1] == 'U')
		q--;
	if (q >= 1 && s[q - 1] == ' ')
		q--;
	if (q >= 2 && detect_financial_vat_prefix(s + q - 2) && !(q >= 3 && detect_financial_word(in, q - 3))) {
		/* the reader below depends only on where it starts; the
		 * alphanumeric run "DE136695976" that starts there came first
		 * and found the same id, or this reader finds none (it stops
		 * at the run's end, where a '_' is a word byte): a duplicate */
		if (scan_last_finding_at(in, out, q - 2))
			return 0;
		size_t n = 0, i = q - 2, len = in->len;
		/* the lengths the prefix's check accepts: asked only there, and
		 * read no further than the longest (no VAT id is longer than
		 * VALIDATE_VAT_MAX_LEN: an IBAN after "DE" stops at 11) */
		uint32_t lens = validate_vat_lengths((const char *)s + q - 2);
		size_t hi = lens ? 31 - (size_t)__builtin_clz(lens) : 0;
		if (hi > VALIDATE_VAT_MAX_LEN)
			hi = VALIDATE_VAT_MAX_LEN;
		while (i < len && n < hi) {
			if (scan_is(s[i], SCAN_BYTE_ALNUM))
				buf[n++] = (char)s[i++];
			else if ((s[i] == ' ' || s[i] == '.') && i + 1 < len && scan_is(s[i + 1], SCAN_BYTE_ALNUM) && n)
				i++;
			else
				break;
			/* the boundary first: inside an IBAN ("DE89 3704 004|4")
			 * the check is not needed */
			if (((lens >> n) & 1) && !detect_financial_word(in, i) && validate_vat_id(buf, n))
				return scan_add_finding(out, in, q - 2, i, 0);
		}
		return 0;
	}
	/* PL / IT numbers without prefix: 10 or 11 digits (the run's digit
	 * count, known before the context lookup) */
	if ((t->digits != 10 && t->digits != 11) ||
	    !scan_context_near(in, SCAN_CONTEXT_VAT, t->start, t->end, DETECT_FINANCIAL_RUN_BEFORE,
			       DETECT_FINANCIAL_RUN_AFTER) ||
	    !scan_context_near(in, SCAN_CONTEXT_VAT, t->start, t->end, 40, 0))
		return 0;
	char d[16];
	size_t nd = scan_collect_digits(in->text, t->start, t->end, d + 2, NULL, 12);
	if (nd != 10 && nd != 11)
		return 0;
	memcpy(d, nd == 10 ? "PL" : "IT", 2);
	if (!validate_vat_id(d, nd + 2))
		return 0;
	return scan_add_finding(out, in, t->start, t->end, 85);
}

const struct detector detect_financial_table[] = {
	{ "iban", ENTITY_IBAN, DATA_CLASS_CONFIDENTIAL, 95, SCAN_SHAPE_ALNUM,
	  detect_financial_iban_keywords, detect_financial_match_iban, NULL, 0 },
	{ "payment_card", ENTITY_PAYMENT_CARD, DATA_CLASS_RESTRICTED, 90, SCAN_SHAPE_NUMBER,
	  detect_financial_card_keywords, detect_financial_match_card, NULL, 13 },
	{ "bic", ENTITY_BIC, DATA_CLASS_CONFIDENTIAL, 90, 0,
	  detect_financial_bic_keywords, detect_financial_match_bic, NULL, 0 },
	{ "vat_id", ENTITY_VAT_ID, DATA_CLASS_CONFIDENTIAL, 95, SCAN_SHAPE_ALNUM | SCAN_SHAPE_NUMBER,
	  detect_financial_vat_keywords, detect_financial_match_vat, NULL, 8 },
};
const size_t detect_financial_count = sizeof(detect_financial_table) / sizeof(detect_financial_table[0]);
