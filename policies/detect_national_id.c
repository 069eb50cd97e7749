/* National identifiers. Two kinds of rows:
 * - digit ids found in number runs (Steuer-ID, AT SV-Nummer, BSN, PESEL,
 *   Belgian national number, NHS, SSN): one generic match over the digit
 *   groups of the run, parametrised by a struct detect_national_digits;
 * - alphanumeric ids found as ALNUM tokens (Personalausweis,
 *   Rentenversicherungsnummer, KVNR, DNI, NIE, codice fiscale, NINO).
 *
 * Context policy (why): a validator that accepts about 1 in 10 or 1 in 11
 * random numbers (BSN, NHS, PESEL, AT SV-Nummer, KVNR, SSN, which has no
 * checksum at all) cannot tell an identifier from an order number, so those
 * rows need a context word nearby (or, for AT and BE, their distinctive
 * printed grouping). The Steuer-ID (MOD 11,10 plus its digit-repetition
 * rule, about 1 in 260 random numbers pass), the NIR (mod 97 + structure),
 * DNI/NIE (mod 23 + letter shape), codice fiscale, the RVNR and the
 * Personalausweis number with check digit stand alone. */
#include <string.h>

#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/scan.h"
#include "policies/validate.h"

#define W DETECTOR_KW_WORD
#define WS DETECTOR_KW_WORD_START

#define DETECT_NATIONAL_BEFORE 80
#define DETECT_NATIONAL_AFTER 24

struct detect_national_digits {
	size_t ndigits;
	int (*validate)(const char *, size_t);
	unsigned ctx;              /* enum scan_context */
	int need_ctx;              /* context required unless free_shape matches */
	const char *seps;          /* separators allowed between groups */
	const char *free_shape;    /* group lengths accepted without context, or NULL */
};

/* Context groups that name some other kind of number: when one of them is
 * near and the row's own is not, a number accepted without context is
 * something else ("PESEL 95011236413", "Order 12345678901"). */
static const uint8_t detect_national_foreign[] = {
	SCAN_CONTEXT_PHONE, SCAN_CONTEXT_IBAN, SCAN_CONTEXT_CARD, SCAN_CONTEXT_VAT,
	SCAN_CONTEXT_TAX_ID, SCAN_CONTEXT_ID_CARD, SCAN_CONTEXT_PENSION,
	SCAN_CONTEXT_HEALTH_INSURANCE, SCAN_CONTEXT_SOCIAL_SECURITY, SCAN_CONTEXT_NATIONAL_ID,
	SCAN_CONTEXT_BSN, SCAN_CONTEXT_SSN, SCAN_CONTEXT_NHS, SCAN_CONTEXT_NINO,
	SCAN_CONTEXT_REFERENCE, SCAN_CONTEXT_PESEL, SCAN_CONTEXT_BE_NATIONAL,
};

static int detect_national_foreign_near(const struct scan_input *in, unsigned own,
					size_t a, size_t b)
{
	for (size_t i = 0; i < sizeof(detect_national_foreign); i++)
		if (detect_national_foreign[i] != own &&
		    scan_context_near(in, detect_national_foreign[i], a, b, DETECT_NATIONAL_BEFORE,
				      DETECT_NATIONAL_AFTER))
			return 1;
	return 0;
}

static int detect_national_word(const struct scan_input *in, size_t i)
{
	return i < in->len && (scan_is((unsigned char)in->text[i], SCAN_BYTE_WORD) ||
			       in->text[i] == '_');
}

/* strchr() without the call: seps has a handful of bytes; NUL is no
 * separator. */
static int detect_national_is_sep(const char *seps, uint8_t c)
{
	if (!c)
		return 0;
	for (; *seps; seps++)
		if ((uint8_t)*seps == c)
			return 1;
	return 0;
}

/* 1 when the groups are exactly shape (their digit counts as '0' + n,
 * the way the row loop spells a span's shape); 0 without a shape. */
static int detect_national_run_is_shape(const struct scan_group *g, size_t ng, const char *shape)
{
	if (!shape)
		return 0;
	/* (no strlen: the shape's NUL, read as a length, matches no group) */
	for (size_t k = 0; k < ng; k++)
		if (!shape[k] || g[k].end - g[k].start != (size_t)(shape[k] - '0'))
			return 0;
	return shape[ng] == 0;
}

/* 0 when the digit groups of the run text[a, e) (digit runs between the
 * other bytes, as scan_number_groups() splits them) are not exactly shape;
 * read in place, before the run's shared groups and totals, for the rows
 * that without their context word take only a run of their free shape
 * ("192.168.10.23" is no "46", "86 095 742 719" no "22232"). */
static int detect_national_run_may_be_shape(const char *text, size_t a, size_t e, const char *shape)
{
	size_t k = 0, i = a;
	while (i < e) {
		if (text[i] < '0' || text[i] > '9') {
			i++;
			continue;
		}
		size_t g = i;
		while (i < e && text[i] >= '0' && text[i] <= '9')
			i++;
		if (!shape[k] || i - g != (size_t)(shape[k] - '0'))
			return 0;
		k++;
	}
	return shape[k] == 0;
}

static int detect_national_match_digits(const struct scan_input *in,
					const struct scan_trigger *t,
					struct policy_findings *out)
{
	const struct detect_national_digits *r = in->det->arg;
	size_t ng;

	if (t->digits < r->ndigits || in->text[t->start] == '+')
		return 0;   /* too short, or an international phone number */
	/* a row that needs its context word: asked first (a lookup the rows
	 * of one run share), before the run's digit totals and groups, which
	 * "2024-00815" after "Rechnung" needs for no row. Without the word,
	 * a row with no free shape finds nothing, and one with a free shape
	 * only a whole run of it (see below): exactly its digit count. */
	int ctx_run = 0;
	if (r->need_ctx) {
		ctx_run = scan_context_near(in, r->ctx, t->start, t->end, DETECT_NATIONAL_BEFORE,
					    DETECT_NATIONAL_AFTER);
		if (!ctx_run && (!r->free_shape || t->digits != r->ndigits ||
				 !detect_national_run_may_be_shape(in->text, t->start, t->end, r->free_shape)))
			return 0;
	}
	/* no span of ndigits over separators (every row's separators are
	 * among the ones scan_trigger_digit_totals() allows): most long runs
	 * (dates, amounts, IBANs, IPs) end here for most rows */
	if (!((scan_trigger_digit_totals(in, t) >> r->ndigits) & 1))
		return 0;
	const struct scan_group *g = scan_trigger_groups(in, t, &ng);
	/* every span's context window lies inside the run's: with no context
	 * word near the run, a row that needs one finds only a whole run of
	 * its free shape (most rows have none); exact, and on the benchmark's
	 * text the 9-11-digit rows' calls do a third of the work */
	if (r->need_ctx && !ctx_run && !detect_national_run_is_shape(g, ng, r->free_shape))
		return 0;
	for (size_t i = 0; i < ng; i++) {
		size_t total = 0;
		char d[20 + 8];   /* up to 20 digits, the last copied as 8 bytes */
		for (size_t j = i; j < ng && j - i < 16; j++) {
			size_t gl = g[j].end - g[j].start;
			if (total + gl > r->ndigits)
				break;
			if (j > i && (g[j].start - g[j - 1].end != 1 ||
				      !detect_national_is_sep(r->seps, g[j].sep)))
				break;
			total += gl;
			if (total != r->ndigits)
				continue;
			/* groups i..j hold exactly ndigits (most runs never get
			 * here): first the boundary tests, which need no copy */
			size_t a = g[i].start, b = g[j].end;
			/* not part of a longer number, word or dotted chain */
			if (detect_national_word(in, b) || (a > 0 && detect_national_word(in, a - 1)))
				break;
			if (b + 1 < in->len && (in->text[b] == '.' || in->text[b] == '-' || in->text[b] == '/') &&
			    in->text[b + 1] >= '0' && in->text[b + 1] <= '9')
				break;
			if (a > 1 && (in->text[a - 1] == '.' || in->text[a - 1] == '-' || in->text[a - 1] == '/') &&
			    in->text[a - 2] >= '0' && in->text[a - 2] <= '9')
				break;
			/* the digits (scan_copy_group: d has room) */
			for (size_t k = i, o = 0; k <= j; k++) {
				scan_copy_group(d + o, in->text, in->len, &g[k]);
				o += g[k].end - g[k].start;
			}
			if (!r->validate(d, total))
				break;
			int ctx = scan_context_near(in, r->ctx, a, b, DETECT_NATIONAL_BEFORE,
						    DETECT_NATIONAL_AFTER);
			int whole = i == 0 && j == ng - 1;
			int free = r->free_shape ? detect_national_run_is_shape(g + i, j - i + 1, r->free_shape)
						 : !r->need_ctx;
			if (!ctx && !(whole && free && !detect_national_foreign_near(in, r->ctx, a, b)))
				break;
			if (scan_add_finding(out, in, a, b, ctx ? 95 : 0) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* ---- alphanumeric ids ---- */

static int detect_national_match_id_card(const struct scan_input *in,
					 const struct scan_trigger *t,
					 struct policy_findings *out)
{
	const char *s = in->text + t->start;
	size_t n = t->end - t->start;

	if (n == 10 && validate_de_id_card(s, n)) {
		/* letter + 9 digits is also the shape of a KVNR and of many
		 * product codes: then only with an ID-card word */
		int letters = 0;
		for (size_t i = 1; i < 9; i++)
			letters += !(s[i] >= '0' && s[i] <= '9');
		if (letters || scan_context_near(in, SCAN_CONTEXT_ID_CARD, t->start, t->end,
						 DETECT_NATIONAL_BEFORE, DETECT_NATIONAL_AFTER))
			return scan_add_finding(out, in, t->start, t->end, 0);
		return 0;
	}
	/* the 9-character number as printed on the card (no check digit):
	 * only with a context word */
	if (n == 9 && strchr("LMNPRTVWXY", s[0])) {
		for (size_t i = 0; i < 9; i++)
			if (!(s[i] >= '0' && s[i] <= '9') && !strchr("CFGHJKLMNPRTVWXYZ", s[i]))
				return 0;
		if (scan_context_near(in, SCAN_CONTEXT_ID_CARD, t->start, t->end,
				      DETECT_NATIONAL_BEFORE, DETECT_NATIONAL_AFTER))
			return scan_add_finding(out, in, t->start, t->end, 75);
	}
	return 0;
}

static int detect_national_match_pension(const struct scan_input *in,
					 const struct scan_trigger *t,
					 struct policy_findings *out)
{
	if (t->end - t->start == 12 && validate_de_pension_number(in->text + t->start, 12))
		return scan_add_finding(out, in, t->start, t->end, 0);
	return 0;
}

static int detect_national_match_health(const struct scan_input *in,
					const struct scan_trigger *t,
					struct policy_findings *out)
{
	if (t->end - t->start != 10 || !(in->text[t->start] >= 'A' && in->text[t->start] <= 'Z') ||
	    !validate_de_health_insurance_number(in->text + t->start, 10))
		return 0;
	if (!scan_context_near(in, SCAN_CONTEXT_HEALTH_INSURANCE, t->start, t->end,
			       DETECT_NATIONAL_BEFORE, DETECT_NATIONAL_AFTER))
		return 0;
	return scan_add_finding(out, in, t->start, t->end, 0);
}

/* DNI "12345678Z", "12345678-Z", "12.345.678-Z"; NIE "X1234567L", "X-1234567-L". */
static int detect_national_match_es(const struct scan_input *in,
				    const struct scan_trigger *t,
				    struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	int nie = in->det->entity == ENTITY_ES_NIE;
	char buf[9];
	size_t a = t->start, i, n = 0;

	if (t->shape == SCAN_SHAPE_NUMBER) {
		/* the number run holds exactly the id's digits (8, NIE 7): a
		 * further digit of the run would be read as the check letter */
		if (t->digits != (nie ? 7 : 8))
			return 0;
		/* the check letter: right after the run's last digit or after
		 * one '-', '.', ' ' (the reader below takes no other path to a
		 * ninth character: a digit there would have continued the run);
		 * most 7- and 8-digit runs (dates, amounts) end here */
		size_t e = t->end;
		unsigned char c = e < in->len ? s[e] : 0;
		if ((c == '-' || c == '.' || c == ' ') && e + 1 < in->len)
			c = s[e + 1];
		if (!(c >= 'A' && c <= 'Z'))
			return 0;
		if (nie) {
			if (a < 2 || s[a - 1] != '-' || !strchr("XYZ", s[a - 2]))
				return 0;
			a -= 2;
		} else if (s[a] == '+' || s[a] == '(') {
			return 0;
		}
	} else if (nie ? !(s[a] == 'X' || s[a] == 'Y' || s[a] == 'Z' ||
			   s[a] == 'x' || s[a] == 'y' || s[a] == 'z')
		       : !(s[a] >= '0' && s[a] <= '9')) {
		/* the run's first byte is the id's first character: a DNI's
		 * first digit, a NIE's X/Y/Z (either case, as validate_es_nie()
		 * reads it); most alphanumeric runs ("DE89", "KW14") end here */
		return 0;
	}
	if (a > 0 && detect_national_word(in, a - 1))
		return 0;
	for (i = a; i < in->len && n < 9; i++) {
		if (scan_is(s[i], SCAN_BYTE_ALNUM))
			buf[n++] = (char)s[i];
		else if (!((s[i] == '-' || s[i] == '.' || s[i] == ' ') && n && i + 1 < in->len &&
			   scan_is(s[i + 1], SCAN_BYTE_ALNUM) && (s[i] != ' ' || n == 8)))
			break;
	}
	if (n != 9 || detect_national_word(in, i))
		return 0;
	if (!(buf[8] >= 'A' && buf[8] <= 'Z'))
		return 0;
	if (nie ? !validate_es_nie(buf, 9) : !validate_es_dni(buf, 9))
		return 0;
	return scan_add_finding(out, in, a, i, 0);
}

static int detect_national_match_it_cf(const struct scan_input *in,
				       const struct scan_trigger *t,
				       struct policy_findings *out)
{
	if (t->end - t->start == 16 && validate_it_fiscal_code(in->text + t->start, 16))
		return scan_add_finding(out, in, t->start, t->end, 0);
	return 0;
}

/* NINO "AB123456C" or "AB 12 34 56 C". */
static int detect_national_match_nino(const struct scan_input *in,
				      const struct scan_trigger *t,
				      struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	char buf[9];
	size_t a = t->start, i, n = 0;

	if (t->shape == SCAN_SHAPE_NUMBER) {
		/* "AB 12 34 56 C": the reader's six digits are the run's, and
		 * a letter ends both; a run of any other count has no NINO */
		if (t->digits != 6 || a < 3 || s[a - 1] != ' ')
			return 0;
		a -= 3;
	}
	/* the first character is the first prefix letter: a capital that
	 * HMRC issues (not D F I Q U V, validate_gb_nino()); most
	 * alphanumeric runs ("DE89", "DE136695976") end here */
	if (!(s[a] >= 'A' && s[a] <= 'Z') || s[a] == 'D' || s[a] == 'F' || s[a] == 'I' ||
	    s[a] == 'Q' || s[a] == 'U' || s[a] == 'V')
		return 0;
	if (a > 0 && detect_national_word(in, a - 1))
		return 0;
	for (i = a; i < in->len && n < 9; i++) {
		if (scan_is(s[i], SCAN_BYTE_ALNUM))
			buf[n++] = (char)s[i];
		else if (!(s[i] == ' ' && n && i + 1 < in->len && scan_is(s[i + 1], SCAN_BYTE_ALNUM)))
			break;
	}
	if (n != 9 || detect_national_word(in, i))
		return 0;
	for (size_t k = 0; k < 9; k++)
		if (scan_is((unsigned char)buf[k], SCAN_BYTE_LOWER))
			return 0;
	if (!validate_gb_nino(buf, 9))
		return 0;
	int ctx = scan_context_near(in, SCAN_CONTEXT_NINO, a, i, DETECT_NATIONAL_BEFORE,
				    DETECT_NATIONAL_AFTER);
	return scan_add_finding(out, in, a, i, ctx ? 95 : 0);
}

/* FR NIR: 13 digits + 2-digit key, usually printed "1 85 05 78 006 084 36";
 * Corsican department 2A / 2B breaks the digit run, so collect directly. */
static int detect_national_match_nir(const struct scan_input *in,
				     const struct scan_trigger *t,
				     struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	char buf[15];
	size_t a = t->start, i, n = 0;

	/* the reader below crosses only single spaces, which the number run
	 * crosses too: 15 digits are all in the run, or with department
	 * 2A/2B the run ends at the letter after exactly 6 */
	if ((t->digits != 6 && t->digits < 15) || !(s[a] >= '1' && s[a] <= '8') ||
	    (a > 0 && detect_national_word(in, a - 1)))
		return 0;
	/* from a run of 15 or more digits the reader takes the first groups
	 * over single spaces, and its 15th digit must end a group (a digit
	 * after it is a word byte): a span of exactly 15 over such joins,
	 * which the run's digit totals (shared, mostly taken by the gate
	 * already) know of. Card numbers and IBANs end here. */
	if (t->digits >= 15 && !((scan_trigger_digit_totals(in, t) >> 15) & 1))
		return 0;
	for (i = a; i < in->len && n < 15; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			buf[n++] = (char)s[i];
		else if (n == 6 && (s[i] == 'A' || s[i] == 'B') && buf[5] == '2')
			buf[n++] = (char)s[i];
		else if (!(s[i] == ' ' && n && i + 1 < in->len && scan_is(s[i + 1], SCAN_BYTE_ALNUM)))
			break;
	}
	if (n != 15 || detect_national_word(in, i))
		return 0;
	if (!validate_fr_nir(buf, 15))
		return 0;
	return scan_add_finding(out, in, a, i, 0);
}

/* ---- rows ---- */

static const struct detect_national_digits detect_national_tax_id = {
	11, validate_de_tax_id, SCAN_CONTEXT_TAX_ID, 0, " /", NULL };
static const struct detect_national_digits detect_national_at_ssn = {
	10, validate_at_social_security_number, SCAN_CONTEXT_SOCIAL_SECURITY, 1, " ", "46" };
static const struct detect_national_digits detect_national_bsn = {
	9, validate_nl_bsn, SCAN_CONTEXT_BSN, 1, " .-", NULL };
static const struct detect_national_digits detect_national_pesel = {
	11, validate_pl_pesel, SCAN_CONTEXT_PESEL, 1, " ", NULL };
static const struct detect_national_digits detect_national_be = {
	11, validate_be_national_number, SCAN_CONTEXT_BE_NATIONAL, 1, ".- ", "22232" };
static const struct detect_national_digits detect_national_nhs = {
	10, validate_gb_nhs_number, SCAN_CONTEXT_NHS, 1, " -", NULL };
static const struct detect_national_digits detect_national_ssn = {
	9, validate_us_ssn, SCAN_CONTEXT_SSN, 1, "- ", NULL };

static const struct detector_keyword detect_national_tax_kw[] = {
	{ "steuer-id", WS, SCAN_CONTEXT_TAX_ID },
	{ "steuer-idnr", WS, SCAN_CONTEXT_TAX_ID },
	{ "steuerid", WS, SCAN_CONTEXT_TAX_ID },
	{ "steueridentifikationsnummer", WS, SCAN_CONTEXT_TAX_ID },
	{ "identifikationsnummer", WS, SCAN_CONTEXT_TAX_ID },
	{ "steuerliche", WS, SCAN_CONTEXT_TAX_ID },
	{ "idnr", W, SCAN_CONTEXT_TAX_ID },
	{ "tin", W, SCAN_CONTEXT_TAX_ID },
	{ "tax id", WS, SCAN_CONTEXT_TAX_ID },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_id_card_kw[] = {
	{ "personalausweis", WS, SCAN_CONTEXT_ID_CARD },
	{ "ausweis", WS, SCAN_CONTEXT_ID_CARD },
	{ "ausweisnummer", WS, SCAN_CONTEXT_ID_CARD },
	{ "id card", WS, SCAN_CONTEXT_ID_CARD },
	{ "identity card", WS, SCAN_CONTEXT_ID_CARD },
	{ "carte d'identit", WS, SCAN_CONTEXT_ID_CARD },
	{ "documento", WS, SCAN_CONTEXT_ID_CARD },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_health_kw[] = {
	{ "krankenversichertennummer", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "versichertennummer", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "versicherten-nr", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "krankenkasse", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "krankenversicherung", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "kvnr", W, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "egk", W, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "gesundheitskarte", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "health insurance", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ "insurance number", WS, SCAN_CONTEXT_HEALTH_INSURANCE },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_at_kw[] = {
	{ "sv-nummer", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "sv-nr", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "svnr", W, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "vsnr", W, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "sozialversicherungsnummer", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "versicherungsnummer", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "e-card", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ "social security", WS, SCAN_CONTEXT_SOCIAL_SECURITY },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_bsn_kw[] = {
	{ "bsn", W, SCAN_CONTEXT_BSN },
	{ "burgerservicenummer", WS, SCAN_CONTEXT_BSN },
	{ "burgerservice", WS, SCAN_CONTEXT_BSN },
	{ "sofinummer", WS, SCAN_CONTEXT_BSN },
	{ "sofi-nummer", WS, SCAN_CONTEXT_BSN },
	{ "citizen service number", WS, SCAN_CONTEXT_BSN },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_pesel_kw[] = {
	{ "pesel", W, SCAN_CONTEXT_PESEL },
	{ "numer ewidencyjny", WS, SCAN_CONTEXT_PESEL },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_be_kw[] = {
	{ "rijksregisternummer", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "rijksregister", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "registre national", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "num\xc3\xa9ro national", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "numero national", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "niss", W, SCAN_CONTEXT_BE_NATIONAL },
	{ "insz", W, SCAN_CONTEXT_BE_NATIONAL },
	{ "belgian national number", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ "national register", WS, SCAN_CONTEXT_BE_NATIONAL },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_nhs_kw[] = {
	{ "nhs", W, SCAN_CONTEXT_NHS },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_nino_kw[] = {
	{ "national insurance", WS, SCAN_CONTEXT_NINO },
	{ "nino", W, SCAN_CONTEXT_NINO },
	{ "ni number", WS, SCAN_CONTEXT_NINO },
	{ NULL, 0, 0 },
};
static const struct detector_keyword detect_national_ssn_kw[] = {
	{ "ssn", W, SCAN_CONTEXT_SSN },
	{ "social security", WS, SCAN_CONTEXT_SSN },
	{ "ss#", WS, SCAN_CONTEXT_SSN },
	{ NULL, 0, 0 },
};

#define R DATA_CLASS_RESTRICTED
#define SN SCAN_SHAPE_NUMBER
#define SA SCAN_SHAPE_ALNUM

const struct detector detect_national_id_table[] = {
	{ "de_tax_id", ENTITY_DE_TAX_ID, R, 85, SN, detect_national_tax_kw,
	  detect_national_match_digits, &detect_national_tax_id, 11 },
	{ "de_id_card", ENTITY_DE_ID_CARD, R, 90, SA, detect_national_id_card_kw,
	  detect_national_match_id_card, NULL, 0 },
	{ "de_pension_number", ENTITY_DE_PENSION_NUMBER, R, 95, SA, NULL,
	  detect_national_match_pension, NULL, 0 },
	{ "de_health_insurance_number", ENTITY_DE_HEALTH_INSURANCE_NUMBER, R, 90, SA,
	  detect_national_health_kw, detect_national_match_health, NULL, 0 },
	{ "at_social_security_number", ENTITY_AT_SOCIAL_SECURITY_NUMBER, R, 85, SN,
	  detect_national_at_kw, detect_national_match_digits, &detect_national_at_ssn, 10 },
	{ "fr_nir", ENTITY_FR_NIR, R, 95, SN, NULL, detect_national_match_nir, NULL, 6 },
	{ "es_dni", ENTITY_ES_DNI, R, 90, SA | SN, NULL, detect_national_match_es, NULL, 8 },
	{ "es_nie", ENTITY_ES_NIE, R, 95, SA | SN, NULL, detect_national_match_es, NULL, 7 },
	{ "it_fiscal_code", ENTITY_IT_FISCAL_CODE, R, 95, SA, NULL,
	  detect_national_match_it_cf, NULL, 0 },
	{ "nl_bsn", ENTITY_NL_BSN, R, 90, SN, detect_national_bsn_kw,
	  detect_national_match_digits, &detect_national_bsn, 9 },
	{ "pl_pesel", ENTITY_PL_PESEL, R, 90, SN, detect_national_pesel_kw,
	  detect_national_match_digits, &detect_national_pesel, 11 },
	{ "be_national_number", ENTITY_BE_NATIONAL_NUMBER, R, 85, SN, detect_national_be_kw,
	  detect_national_match_digits, &detect_national_be, 11 },
	{ "gb_nino", ENTITY_GB_NINO, R, 85, SA | SN, detect_national_nino_kw,
	  detect_national_match_nino, NULL, 6 },
	{ "gb_nhs_number", ENTITY_GB_NHS_NUMBER, R, 90, SN, detect_national_nhs_kw,
	  detect_national_match_digits, &detect_national_nhs, 10 },
	{ "us_ssn", ENTITY_US_SSN, R, 90, SN, detect_national_ssn_kw,
	  detect_national_match_digits, &detect_national_ssn, 9 },
};
const size_t detect_national_id_count = sizeof(detect_national_id_table) / sizeof(detect_national_id_table[0]);
