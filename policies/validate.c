/* Checksum validators. Each cites the definition it implements; the
 * algorithms were written from those definitions (python-stdnum's
 * documentation summarises most of them). */
#include "policies/validate.h"

#include <stdint.h>
#include <string.h>

static int validate_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int validate_is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char validate_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

static int validate_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!validate_is_digit(s[i]))
			return 0;
	return n > 0;
}

/* Number of the first n digits (n <= 18). */
static unsigned long long validate_number(const char *s, size_t n)
{
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/* ISO/IEC 7812-1 Annex B (Luhn): double every second digit from the right. */
int validate_luhn(const char *d, size_t n)
{
	/* every second digit from the right doubled, digit sum taken (a
	 * table: the payment-card row asks at every prefix of a long run);
	 * from the right two digits a step, the doubled one second */
	static const unsigned char doubled[10] = { 0, 2, 4, 6, 8, 1, 3, 5, 7, 9 };
	unsigned sum = 0;
	size_t i = n;
	if (!n)
		return 0;
	while (i >= 2) {
		unsigned a = (unsigned)(unsigned char)d[i - 1] - '0';
		unsigned b = (unsigned)(unsigned char)d[i - 2] - '0';
		if (a > 9 || b > 9)
			return 0;
		sum += a + doubled[b];
		i -= 2;
	}
	if (i) {
		unsigned a = (unsigned)(unsigned char)d[0] - '0';
		if (a > 9)
			return 0;
		sum += a;
	}
	return sum % 10 == 0;
}

/* ISO 7064 MOD 11,10 (hybrid system): the last digit is the check. One
 * step takes p (1..10, 10 at the start) and a digit d to 2s mod 11, where
 * s = (p + d) mod 10 with 0 read as 10; it depends only on p + d (1..19),
 * so it is a table over p + d (one add and one load per digit instead of
 * two remainders, or two conditional subtractions, in a dependent chain). */
static const uint8_t validate_mod11_10_next[20] = {
	9, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 2, 4, 6, 8, 10, 1, 3, 5, 7,
};

/* Whether the character last is the check digit of MOD 11,10 after the
 * steps that left p: 11 - p, with 10 written as 0. */
static int validate_mod11_10_check(unsigned p, char last)
{
	unsigned c = 11 - p, v = (unsigned)(unsigned char)last - '0';
	return v <= 9 && (c == 10 ? 0 : c) == v;
}

int validate_iso7064_mod11_10(const char *d, size_t n)
{
	unsigned p = 10;
	if (n < 2)
		return 0;
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned v = (unsigned)(unsigned char)d[i] - '0';
		if (v > 9)
			return 0;
		p = validate_mod11_10_next[p + v];
	}
	return validate_mod11_10_check(p, d[n - 1]);
}

/* Issuer ranges (ISO/IEC 7812 IINs as published by the networks), each
 * written on the first four digits (Visa "4" is 4000-4999), with the
 * lengths it allows as a bit mask (bit n: n digits). The range that
 * holds the number's prefix decides with its lengths; the prefix is read
 * once and before the Luhn sum, which most candidates (digit spans of
 * IBANs, phone numbers and references) never reach. */
#define VALIDATE_LENS(a, b) ((UINT32_C(2) << (b)) - (UINT32_C(1) << (a)))
struct validate_card_range {
	uint16_t lo, hi;
	uint32_t lens;
};

static const struct validate_card_range validate_card_ranges[] = {
	{ 2221, 2720, VALIDATE_LENS(16, 16) },    /* Mastercard 2-series (since 2017) */
	{ 3000, 3059, VALIDATE_LENS(14, 19) },    /* Diners Club */
	{ 3400, 3499, VALIDATE_LENS(15, 15) },    /* American Express */
	{ 3528, 3589, VALIDATE_LENS(16, 19) },    /* JCB */
	{ 3600, 3699, VALIDATE_LENS(14, 19) },    /* Diners Club */
	{ 3700, 3799, VALIDATE_LENS(15, 15) },    /* American Express */
	{ 3800, 3999, VALIDATE_LENS(16, 19) },    /* Diners Club */
	{ 4000, 4999, 1u << 13 | 1u << 16 | 1u << 19 },   /* Visa */
	{ 5100, 5599, VALIDATE_LENS(16, 16) },    /* Mastercard */
	{ 6011, 6011, VALIDATE_LENS(16, 19) },    /* Discover */
	{ 6440, 6499, VALIDATE_LENS(16, 19) },
	{ 6500, 6599, VALIDATE_LENS(16, 19) },
};
/* The ranges above are sorted and do not overlap, so the one range that
 * holds a prefix is among those of its first digit d:
 * validate_card_ranges[validate_card_from[d] .. validate_card_from[d + 1]). */
static const uint8_t validate_card_from[11] = { 0, 0, 0, 1, 7, 8, 9, 12, 12, 12, 12 };

/* validate_payment_card_first() (validate.h) holds the first digits of
 * these ranges. */

int validate_payment_card(const char *d, size_t n)
{
	unsigned p = 0;
	if (n < 13 || n > 19)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		unsigned v = (unsigned)(unsigned char)d[i] - '0';
		if (v > 9)
			return 0;   /* (the Luhn sum refuses it too) */
		p = p * 10 + v;
	}
	unsigned d0 = p / 1000;
	for (size_t i = validate_card_from[d0]; i < validate_card_from[d0 + 1]; i++) {
		const struct validate_card_range *r = &validate_card_ranges[i];
		if (p >= r->lo && p <= r->hi && ((r->lens >> n) & 1))
			return validate_luhn(d, n);
	}
	return 0;
}

/* IBAN lengths per country: SWIFT IBAN Registry (release 2024), indexed
 * by the two letters (0: no IBAN country). A lookup instead of a search:
 * every IBAN candidate and every BIC asks. */
#define I(a, b, n) [(a) - 'A'][(b) - 'A'] = (n)
static const uint8_t validate_iban_table[26][26] = {
	I('A', 'D', 24), I('A', 'E', 23), I('A', 'L', 28), I('A', 'T', 20), I('A', 'Z', 28),
	I('B', 'A', 20), I('B', 'E', 16), I('B', 'G', 22), I('B', 'H', 22), I('B', 'R', 29),
	I('C', 'H', 21), I('C', 'R', 22), I('C', 'Y', 28), I('C', 'Z', 24), I('D', 'E', 22),
	I('D', 'K', 18), I('D', 'O', 28), I('E', 'E', 20), I('E', 'G', 29), I('E', 'S', 24),
	I('F', 'I', 18), I('F', 'O', 18), I('F', 'R', 27), I('G', 'B', 22), I('G', 'E', 22),
	I('G', 'I', 23), I('G', 'L', 18), I('G', 'R', 27), I('G', 'T', 28), I('H', 'R', 21),
	I('H', 'U', 28), I('I', 'E', 22), I('I', 'L', 23), I('I', 'S', 26), I('I', 'T', 27),
	I('J', 'O', 30), I('K', 'W', 30), I('K', 'Z', 20), I('L', 'B', 28), I('L', 'I', 21),
	I('L', 'T', 20), I('L', 'U', 20), I('L', 'V', 21), I('M', 'C', 27), I('M', 'D', 24),
	I('M', 'E', 22), I('M', 'K', 19), I('M', 'R', 27), I('M', 'T', 31), I('M', 'U', 30),
	I('N', 'L', 18), I('N', 'O', 15), I('P', 'K', 24), I('P', 'L', 28), I('P', 'S', 29),
	I('P', 'T', 25), I('Q', 'A', 29), I('R', 'O', 24), I('R', 'S', 22), I('S', 'A', 24),
	I('S', 'E', 24), I('S', 'I', 19), I('S', 'K', 24), I('S', 'M', 27), I('T', 'N', 24),
	I('T', 'R', 26), I('U', 'A', 29), I('V', 'G', 24), I('X', 'K', 20)
};
#undef I

size_t validate_iban_length(const char *cc)
{
	unsigned a = (unsigned)(unsigned char)validate_upper(cc[0]) - 'A';
	unsigned b = (unsigned)(unsigned char)validate_upper(cc[1]) - 'A';
	return a < 26 && b < 26 ? validate_iban_table[a][b] : 0;
}

/* s[a, b) into the running value *v of ISO 7064 MOD 97-10 as ISO 13616
 * reads it: a digit is one decimal digit, a letter (either case) the two
 * of 10..35. The value stays below 2^56 before each step (reduced mod 97
 * only then), so a step never overflows. -1 at any other byte. (Four
 * digits as one 32-bit step were tried: no fewer instructions.) */
static int validate_mod97_add(uint64_t *v, const char *s, size_t a, size_t b)
{
	uint64_t x = *v;
	for (size_t i = a; i < b; i++) {
		unsigned c = (unsigned char)s[i];
		unsigned d = c - '0';
		if (d < 10) {
			x = x * 10 + d;
		} else {
			unsigned l = (c | 0x20) - 'a';
			if (l >= 26)
				return -1;
			x = x * 100 + l + 10;
		}
		if (x >= UINT64_C(1) << 56)
			x %= 97;
	}
	*v = x;
	return 0;
}

int validate_iban_mod97(const char *s, size_t n)
{
	uint64_t v = 0;
	if (n < 5 || validate_mod97_add(&v, s, 4, n) < 0 || validate_mod97_add(&v, s, 0, 4) < 0)
		return 0;
	return v % 97 == 1;
}

/* ISO 13616-1: move the first four characters to the end, letters become
 * 10..35, the number mod 97 must be 1 (ISO 7064 MOD 97-10). */
int validate_iban(const char *s, size_t n)
{
	char c[34];
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ')
			continue;
		if (m == sizeof(c))
			return 0;
		c[m++] = validate_upper(s[i]);
	}
	if (m < 15 || !validate_is_alpha(c[0]) || !validate_is_alpha(c[1]) ||
	    !validate_is_digit(c[2]) || !validate_is_digit(c[3]))
		return 0;
	if (validate_iban_length(c) != m)
		return 0;
	return validate_iban_mod97(c, m);
}

/* ISO 9362: 4 letters (institution), 2 letters (ISO 3166 country),
 * 2 alphanumerics (location; second char '0' marks a test BIC), optional
 * 3 alphanumerics (branch). The country must be one we know (IBAN table or
 * a few non-IBAN countries) so that 8-letter words do not pass. */
int validate_bic(const char *s, size_t n)
{
	static const char *const extra_cc[] = { "US", "CA", "JP", "CN", "AU", "IN", "SG", "HK", NULL };
	char cc[2];
	int known = 0;

	if (n != 8 && n != 11)
		return 0;
	for (size_t i = 0; i < 6; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z'))
			return 0;
	for (size_t i = 6; i < n; i++)
		if (!(validate_is_digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	cc[0] = s[4];
	cc[1] = s[5];
	known = validate_iban_length(cc) != 0;
	for (size_t i = 0; !known && extra_cc[i]; i++)
		known = extra_cc[i][0] == cc[0] && extra_cc[i][1] == cc[1];
	return known;
}

/* German Steueridentifikationsnummer (§ 139b AO): 11 digits, first not 0;
 * in the first ten, exactly one digit occurs twice or three times and the
 * others at most once (three identical digits never adjacent); ISO 7064
 * MOD 11,10 check digit. */
int validate_de_tax_id(const char *d, size_t n)
{
	/* cnt: how often each digit k occurs among the first ten, in the
	 * nibble at bit 4k (at most 10, no nibble overflows); one walk with
	 * the MOD 11,10 steps (validate_iso7064_mod11_10()) and the test for
	 * three equal digits side by side */
	uint64_t cnt = 0;
	unsigned p = 10;

	if (n != 11 || d[0] == '0')
		return 0;
	for (size_t i = 0; i < 10; i++) {
		unsigned v = (unsigned)(unsigned char)d[i] - '0';
		if (v > 9)
			return 0;
		if (i >= 2 && d[i] == d[i - 1] && d[i] == d[i - 2])
			return 0;
		cnt += UINT64_C(1) << (4 * v);
		p = validate_mod11_10_next[p + v];
	}
	/* no digit four times or more (bit 2 or 3 of a nibble); exactly one
	 * digit twice or three times (one nibble >= 2) */
	const uint64_t nib = UINT64_C(0x1111111111);
	uint64_t twice = ((cnt >> 1) | (cnt >> 2) | (cnt >> 3)) & nib;
	if ((cnt & (nib * 0xC)) || !twice || (twice & (twice - 1)))
		return 0;
	return validate_mod11_10_check(p, d[10]);
}

/* Character value for ICAO 9303 check digits: 0-9, A=10..Z=35. */
static int validate_icao_value(char c)
{
	c = validate_upper(c);
	if (validate_is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

/* German Personalausweis document number + check digit (ICAO Doc 9303
 * part 3, 4.9: weights 7, 3, 1 repeating, sum mod 10). Since 11/2010 the
 * number uses the digits and C F G H J K L M N P R T V W X Y Z. */
int validate_de_id_card(const char *s, size_t n)
{
	static const int w[3] = { 7, 3, 1 };
	int sum = 0;

	if (n != 10 || !validate_is_digit(s[9]))
		return 0;
	for (size_t i = 0; i < 9; i++) {
		char c = validate_upper(s[i]);
		if (!validate_is_digit(c) && !strchr("CFGHJKLMNPRTVWXYZ", c))
			return 0;
		int v = validate_icao_value(c);
		if (v < 0)
			return 0;
		sum += v * w[i % 3];
	}
	return sum % 10 == s[9] - '0';
}

static unsigned validate_digit_sum(unsigned v)
{
	return v / 10 + v % 10;
}

/* German Rentenversicherungsnummer (VKVV § 2): area (2 digits), birth date
 * ddmmyy, initial letter, serial (2 digits), check digit. The letter becomes
 * its alphabet position (01..26); weights 2,1,2,5,7,1,2,1,2,1,2,1 over the 12
 * digits; the digit sums of the products, mod 10, give the check digit. */
int validate_de_pension_number(const char *s, size_t n)
{
	static const unsigned w[12] = { 2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1 };
	unsigned d[12], sum = 0;
	char L;

	if (n != 12 || !validate_all_digits(s, 8) || !validate_all_digits(s + 9, 3))
		return 0;
	L = validate_upper(s[8]);
	if (L < 'A' || L > 'Z')
		return 0;
	unsigned day = (unsigned)validate_number(s + 2, 2), mon = (unsigned)validate_number(s + 4, 2);
	if (day > 50)
		day -= 50;  /* VKVV: +50 on the day when the number was reissued */
	if (day < 1 || day > 31 || mon < 1 || mon > 12)
		return 0;
	for (size_t i = 0; i < 8; i++)
		d[i] = (unsigned)(s[i] - '0');
	d[8] = (unsigned)(L - 'A' + 1) / 10;
	d[9] = (unsigned)(L - 'A' + 1) % 10;
	d[10] = (unsigned)(s[9] - '0');
	d[11] = (unsigned)(s[10] - '0');
	for (size_t i = 0; i < 12; i++)
		sum += validate_digit_sum(d[i] * w[i]);
	return sum % 10 == (unsigned)(s[11] - '0');
}

/* German Krankenversichertennummer (unveränderbarer Teil, § 290 SGB V and
 * the GKV-Spitzenverband's Richtlinien): letter + 8 digits + check digit.
 * The letter becomes 01..26; weights 1,2,1,2,... over the 10 digits; the
 * digit sums of the products, mod 10, give the check digit. */
int validate_de_health_insurance_number(const char *s, size_t n)
{
	unsigned d[10], sum = 0;
	char L;

	if (n != 10 || !validate_all_digits(s + 1, 9))
		return 0;
	L = validate_upper(s[0]);
	if (L < 'A' || L > 'Z')
		return 0;
	d[0] = (unsigned)(L - 'A' + 1) / 10;
	d[1] = (unsigned)(L - 'A' + 1) % 10;
	for (size_t i = 0; i < 8; i++)
		d[2 + i] = (unsigned)(s[1 + i] - '0');
	for (size_t i = 0; i < 10; i++)
		sum += validate_digit_sum(d[i] * ((i & 1) ? 2 : 1));
	return sum % 10 == (unsigned)(s[9] - '0');
}

/* Austrian Sozialversicherungsnummer: 3-digit serial, check digit, birth
 * date ddmmyy; weights 3,7,9,-,5,8,4,2,1,6, sum mod 11 is the check (10 is
 * never issued). */
int validate_at_social_security_number(const char *d, size_t n)
{
	static const unsigned w[10] = { 3, 7, 9, 0, 5, 8, 4, 2, 1, 6 };
	unsigned sum = 0;

	if (n != 10 || !validate_all_digits(d, n) || d[0] == '0')
		return 0;
	for (size_t i = 0; i < 10; i++)
		sum += (unsigned)(d[i] - '0') * w[i];
	unsigned mon = (unsigned)validate_number(d + 6, 2);
	if (mon < 1 || mon > 12)
		return 0;
	return sum % 11 != 10 && sum % 11 == (unsigned)(d[3] - '0');
}

/* French NIR (numéro d'inscription au répertoire, INSEE): sex (1, 2, or 3,
 * 4, 7, 8 for temporary numbers), yy, mm, department (2A/2B for Corsica,
 * counted as 19/18 in the key), commune, order, key = 97 - (13 digits mod
 * 97). */
int validate_fr_nir(const char *s, size_t n)
{
	char d[13];
	unsigned long long v;

	if (n != 15)
		return 0;
	memcpy(d, s, 13);
	int corsica = 0;
	if (d[5] == '2' && (validate_upper(d[6]) == 'A' || validate_upper(d[6]) == 'B')) {
		corsica = validate_upper(d[6]) == 'A' ? 1 : 2;
		d[6] = '0';
	}
	if (!validate_all_digits(d, 13) || !validate_all_digits(s + 13, 2))
		return 0;
	if (!strchr("123478", d[0]))
		return 0;
	unsigned mon = (unsigned)validate_number(d + 3, 2);
	if (!((mon >= 1 && mon <= 12) || (mon >= 20 && mon <= 42) || (mon >= 50 && mon <= 99)))
		return 0;
	v = validate_number(d, 13);
	if (corsica)   /* 2A -> 19, 2B -> 18 in the key computation */
		v -= corsica == 1 ? 1000000ULL : 2000000ULL;
	return 97 - v % 97 == validate_number(s + 13, 2);
}

/* Spanish DNI (Real Decreto 1553/2005): 8 digits and the letter
 * "TRWAGMYFPDXBNJZSQVHLCKE"[number mod 23]. */
static const char validate_es_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

int validate_es_dni(const char *s, size_t n)
{
	if (n != 9 || !validate_all_digits(s, 8))
		return 0;
	return validate_upper(s[8]) == validate_es_letters[validate_number(s, 8) % 23];
}

/* Spanish NIE: X/Y/Z (= 0/1/2) + 7 digits + the DNI letter. */
int validate_es_nie(const char *s, size_t n)
{
	char p;
	if (n != 9 || !validate_all_digits(s + 1, 7))
		return 0;
	p = validate_upper(s[0]);
	if (p != 'X' && p != 'Y' && p != 'Z')
		return 0;
	unsigned long long v = (unsigned long long)(p - 'X') * 10000000ULL + validate_number(s + 1, 7);
	return validate_upper(s[8]) == validate_es_letters[v % 23];
}

/* Italian codice fiscale (DM 23/12/1976): 6 letters, yy, month letter,
 * dd (+40 for women), municipality letter + 3 digits, check letter. Digits
 * may be replaced by LMNPQRSTUV (omocodia). Check: odd positions through
 * the table below, even positions by value (0-9, A-Z = 0-25), sum mod 26. */
int validate_it_fiscal_code(const char *s, size_t n)
{
	static const unsigned odd[26] = { 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18,
					  20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23 };
	static const size_t digit_pos[7] = { 6, 7, 9, 10, 12, 13, 14 };
	char c[16];
	unsigned sum = 0;

	if (n != 16)
		return 0;
	for (size_t i = 0; i < 16; i++)
		c[i] = validate_upper(s[i]);
	for (size_t i = 0; i < 6; i++)
		if (!(c[i] >= 'A' && c[i] <= 'Z'))
			return 0;
	for (size_t i = 0; i < 7; i++) {
		char ch = c[digit_pos[i]];
		if (!validate_is_digit(ch) && !strchr("LMNPQRSTUV", ch))
			return 0;
	}
	if (!strchr("ABCDEHLMPRST", c[8]) || !(c[11] >= 'A' && c[11] <= 'Z') ||
	    !(c[15] >= 'A' && c[15] <= 'Z'))
		return 0;
	/* day: 01-31 or 41-71 after undoing omocodia */
	unsigned day = 0;
	for (size_t i = 9; i <= 10; i++) {
		char ch = c[i];
		unsigned v = validate_is_digit(ch) ? (unsigned)(ch - '0')
						   : (unsigned)(strchr("LMNPQRSTUV", ch) - "LMNPQRSTUV");
		day = day * 10 + v;
	}
	if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71)))
		return 0;
	for (size_t i = 0; i < 15; i++) {
		unsigned v = validate_is_digit(c[i]) ? (unsigned)(c[i] - '0') : (unsigned)(c[i] - 'A');
		sum += (i % 2 == 0) ? odd[v] : v;
	}
	return c[15] == (char)('A' + sum % 26);
}

/* Dutch BSN: the "11-proef": sum (9..2) * d_i - d_9 == 0 mod 11. */
int validate_nl_bsn(const char *d, size_t n)
{
	long sum = 0;
	if (n != 9 || !validate_all_digits(d, n) || memcmp(d, "000000000", 9) == 0)
		return 0;
	for (size_t i = 0; i < 8; i++)
		sum += (long)(9 - i) * (d[i] - '0');
	sum -= d[8] - '0';
	return sum % 11 == 0;
}

/* Polish PESEL: yymmdd (month + 20/40/60/80 for 2000s/2100s/2200s/1800s),
 * serial, check = (10 - sum(w_i d_i) mod 10) mod 10, w = 1,3,7,9,... */
int validate_pl_pesel(const char *d, size_t n)
{
	static const unsigned w[10] = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 };
	unsigned sum = 0;

	if (n != 11 || !validate_all_digits(d, n))
		return 0;
	unsigned mon = (unsigned)validate_number(d + 2, 2) % 20;
	unsigned day = (unsigned)validate_number(d + 4, 2);
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	for (size_t i = 0; i < 10; i++)
		sum += w[i] * (unsigned)(d[i] - '0');
	return (10 - sum % 10) % 10 == (unsigned)(d[10] - '0');
}

/* Belgian national number (Rijksregisternummer / numéro de registre
 * national): yymmdd + serial (3) + check (2) = 97 - (first 9 mod 97); for
 * people born from 2000 on, 2 is prefixed to the 9 digits first. */
int validate_be_national_number(const char *d, size_t n)
{
	if (n != 11 || !validate_all_digits(d, n))
		return 0;
	unsigned mon = (unsigned)validate_number(d + 2, 2), day = (unsigned)validate_number(d + 4, 2);
	if (mon > 12 || day > 31)   /* 00 is allowed: date partly unknown */
		return 0;
	unsigned long long v = validate_number(d, 9), check = validate_number(d + 9, 2);
	return 97 - v % 97 == check || 97 - (2000000000ULL + v) % 97 == check;
}

/* UK National Insurance number (HMRC NIM39110): two prefix letters (first
 * not D F I Q U V, second not D F I O Q U V; BG GB KN NK NT TN ZZ never
 * issued), six digits, suffix A-D. */
int validate_gb_nino(const char *s, size_t n)
{
	static const char *const bad[] = { "BG", "GB", "KN", "NK", "NT", "TN", "ZZ", NULL };
	char a, b, x;

	if (n != 9 || !validate_all_digits(s + 2, 6))
		return 0;
	a = validate_upper(s[0]);
	b = validate_upper(s[1]);
	x = validate_upper(s[8]);
	if (!validate_is_alpha(a) || !validate_is_alpha(b) || x < 'A' || x > 'D')
		return 0;
	if (strchr("DFIQUV", a) || strchr("DFIOQUV", b))
		return 0;
	for (size_t i = 0; bad[i]; i++)
		if (bad[i][0] == a && bad[i][1] == b)
			return 0;
	return 1;
}

/* NHS number (NHS Data Dictionary): weights 10..2 over the first nine
 * digits, check = 11 - sum mod 11 (11 -> 0, 10 never issued). */
int validate_gb_nhs_number(const char *d, size_t n)
{
	unsigned sum = 0;
	if (n != 10 || !validate_all_digits(d, n))
		return 0;
	for (size_t i = 0; i < 9; i++)
		sum += (unsigned)(10 - i) * (unsigned)(d[i] - '0');
	unsigned c = 11 - sum % 11;
	if (c == 11)
		c = 0;
	return c != 10 && c == (unsigned)(d[9] - '0');
}

/* US SSN (SSA, Program Operations Manual RM 10201.045 and the 2011
 * randomization): area 001-899 except 666, group 01-99, serial 0001-9999;
 * a few numbers used in advertising are invalid. */
int validate_us_ssn(const char *d, size_t n)
{
	if (n != 9 || !validate_all_digits(d, n))
		return 0;
	unsigned area = (unsigned)validate_number(d, 3), group = (unsigned)validate_number(d + 3, 2);
	unsigned serial = (unsigned)validate_number(d + 5, 4);
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	if (memcmp(d, "078051120", 9) == 0 || memcmp(d, "219099999", 9) == 0 ||
	    memcmp(d, "123456789", 9) == 0)
		return 0;
	return 1;
}

/* ---- VAT identification numbers (EU VIES formats) ---- */

static int validate_vat_de(const char *s, size_t n)
{
	/* 9 digits, ISO 7064 MOD 11,10 */
	return n == 9 && s[0] != '0' && validate_iso7064_mod11_10(s, n);
}

static int validate_vat_at(const char *s, size_t n)
{
	/* U + 8 digits; Luhn-like over digits 1-7, check = (10 - (sum + 4) mod 10) mod 10 */
	unsigned sum = 0;
	if (n != 9 || validate_upper(s[0]) != 'U' || !validate_all_digits(s + 1, 8))
		return 0;
	for (size_t i = 0; i < 7; i++) {
		unsigned v = (unsigned)(s[1 + i] - '0');
		sum += (i & 1) ? validate_digit_sum(2 * v) : v;
	}
	return (10 - (sum + 4) % 10) % 10 == (unsigned)(s[8] - '0');
}

static int validate_vat_fr(const char *s, size_t n)
{
	/* 2-digit key + SIREN (9 digits): key = (12 + 3 * (SIREN mod 97)) mod 97 */
	if (n != 11 || !validate_all_digits(s, 11))
		return 0;
	unsigned long long siren = validate_number(s + 2, 9);
	return (12 + 3 * (siren % 97)) % 97 == validate_number(s, 2);
}

static int validate_vat_it(const char *s, size_t n)
{
	/* partita IVA: 11 digits, Luhn */
	return n == 11 && validate_luhn(s, n) && memcmp(s, "0000000", 7) != 0;
}

static int validate_vat_es(const char *s, size_t n)
{
	char c0;
	if (n != 9)
		return 0;
	c0 = validate_upper(s[0]);
	if (validate_is_digit(c0))
		return validate_es_dni(s, n);
	if (c0 == 'X' || c0 == 'Y' || c0 == 'Z')
		return validate_es_nie(s, n);
	if (!validate_all_digits(s + 1, 7))
		return 0;
	if (c0 == 'K' || c0 == 'L' || c0 == 'M')
		return validate_upper(s[8]) == validate_es_letters[validate_number(s + 1, 7) % 23];
	if (!strchr("ABCDEFGHJNPQRSUVW", c0))
		return 0;
	/* CIF (Orden EHA/451/2008): even positions summed, odd ones doubled
	 * and their digit sums added; control = (10 - sum mod 10) mod 10 as a
	 * digit or the letter "JABCDEFGHI"[control]. */
	unsigned sum = 0;
	for (size_t i = 0; i < 7; i++) {
		unsigned v = (unsigned)(s[1 + i] - '0');
		sum += (i % 2 == 0) ? validate_digit_sum(2 * v) : v;
	}
	unsigned c = (10 - sum % 10) % 10;
	char last = validate_upper(s[8]);
	return last == (char)('0' + c) || last == "JABCDEFGHI"[c];
}

static int validate_vat_nl(const char *s, size_t n)
{
	/* 9 digits + B + 2 digits; the 11-proef on the 9 digits, or (since
	 * 2020, sole traders) ISO 7064 MOD 97-10 over "NL" + the number */
	if (n != 12 || !validate_all_digits(s, 9) || validate_upper(s[9]) != 'B' ||
	    !validate_all_digits(s + 10, 2))
		return 0;
	long sum = 0;
	for (size_t i = 0; i < 8; i++)
		sum += (long)(9 - i) * (s[i] - '0');
	sum -= s[8] - '0';
	if (sum % 11 == 0 && memcmp(s, "000000000", 9) != 0)
		return 1;
	unsigned rem = (23 * 100 + 21) % 97;   /* N = 23, L = 21 */
	for (size_t i = 0; i < 12; i++)
		rem = validate_is_digit(s[i]) ? (rem * 10 + (unsigned)(s[i] - '0')) % 97
					      : (rem * 100 + 11) % 97;
	return rem == 1;
}

static int validate_vat_be(const char *s, size_t n)
{
	/* 10 digits (leading 0 or 1): 97 - (first 8 mod 97) == last 2 */
	if (n == 9 && validate_all_digits(s, 9)) {
		char t[10] = { '0' };
		memcpy(t + 1, s, 9);
		return validate_vat_be(t, 10);
	}
	if (n != 10 || !validate_all_digits(s, 10) || (s[0] != '0' && s[0] != '1'))
		return 0;
	return 97 - validate_number(s, 8) % 97 == validate_number(s + 8, 2);
}

static int validate_vat_pl(const char *s, size_t n)
{
	/* NIP: weights 6,5,7,2,3,4,5,6,7; sum mod 11 is the 10th digit */
	static const unsigned w[9] = { 6, 5, 7, 2, 3, 4, 5, 6, 7 };
	unsigned sum = 0;
	if (n != 10 || !validate_all_digits(s, 10))
		return 0;
	for (size_t i = 0; i < 9; i++)
		sum += w[i] * (unsigned)(s[i] - '0');
	return sum % 11 != 10 && sum % 11 == (unsigned)(s[9] - '0');
}

/* lens: bit n when the check can accept an id of n characters with its
 * prefix (validate_vat_lengths(); tests/policy/test_validate compares it
 * with the checks for every length) */
struct validate_vat_row {
	char cc[3];
	int (*check)(const char *, size_t);
	uint32_t lens;
};

static const struct validate_vat_row validate_vat_table[] = {
	{ "DE", validate_vat_de, 1u << 11 }, { "AT", validate_vat_at, 1u << 11 },
	{ "FR", validate_vat_fr, 1u << 13 }, { "IT", validate_vat_it, 1u << 13 },
	{ "ES", validate_vat_es, 1u << 11 }, { "NL", validate_vat_nl, 1u << 14 },
	{ "BE", validate_vat_be, 1u << 11 | 1u << 12 }, { "PL", validate_vat_pl, 1u << 12 },
};

/* The row of the prefix s[0..1] (either case), or NULL. */
static const struct validate_vat_row *validate_vat_find(const char *s)
{
	char a = validate_upper(s[0]), b = validate_upper(s[1]);
	for (size_t i = 0; i < sizeof(validate_vat_table) / sizeof(validate_vat_table[0]); i++)
		if (validate_vat_table[i].cc[0] == a && validate_vat_table[i].cc[1] == b)
			return &validate_vat_table[i];
	return NULL;
}

int validate_vat_id(const char *s, size_t n)
{
	if (n < 4)
		return 0;
	const struct validate_vat_row *r = validate_vat_find(s);
	return r ? r->check(s + 2, n - 2) : 0;
}

uint32_t validate_vat_lengths(const char *s)
{
	const struct validate_vat_row *r = validate_vat_find(s);
	return r ? r->lens : 0;
}
