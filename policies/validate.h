/* Checksum and structure validators: pure functions, no state, no I/O.
 * Each takes the compact value (separators removed, except where noted),
 * and returns 1 when valid, 0 when not. Upper-case letters are expected
 * where a format has letters; the functions accept lower case too. */
#ifndef HAFEN_POLICIES_VALIDATE_H
#define HAFEN_POLICIES_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

int validate_luhn(const char *digits, size_t n);
int validate_iso7064_mod11_10(const char *digits, size_t n);
int validate_payment_card(const char *digits, size_t n);
/* 0 when no card number can begin with the digit d0 (then
 * validate_payment_card() refuses every number that does). Bit d: some
 * issuer range in validate.c begins with the digit d (Visa 4, Mastercard
 * 5 and 2, Amex, JCB and Diners 3, Discover 6); tests/policy/test_validate
 * checks it against validate_payment_card() for every first digit. Inline:
 * the card row asks at every digit group of a long run. */
#define VALIDATE_CARD_FIRST_DIGITS (1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6)
static inline int validate_payment_card_first(char d0)
{
	unsigned c = (unsigned)(d0 - '0');
	return c < 10 && ((VALIDATE_CARD_FIRST_DIGITS >> c) & 1);
}
/* Spaces are skipped. */
int validate_iban(const char *s, size_t n);
/* ISO 7064 MOD 97-10 as ISO 13616 applies it: s holds n (>= 5) ASCII
 * letters (either case) and digits, no spaces; 1 when the value with the
 * first four moved to the end is 1 mod 97. The length and the country
 * are not checked (validate_iban() does both). */
int validate_iban_mod97(const char *s, size_t n);
/* Expected IBAN length for a country ("DE" -> 22), 0 when unknown. */
size_t validate_iban_length(const char *cc);
int validate_bic(const char *s, size_t n);
/* With its two-letter prefix: "DE123456789", "ATU13585627", ... */
int validate_vat_id(const char *s, size_t n);
/* Bit n set when validate_vat_id() can accept an id of n characters
 * whose prefix is s[0..1] (either case); 0 for a prefix it does not know. */
uint32_t validate_vat_lengths(const char *s);
/* The longest value validate_vat_id() accepts ("NL" + 12). */
#define VALIDATE_VAT_MAX_LEN 14
int validate_de_tax_id(const char *digits, size_t n);
/* 10 chars: 9-char document number + check digit (ICAO 9303 7-3-1). */
int validate_de_id_card(const char *s, size_t n);
int validate_de_pension_number(const char *s, size_t n);
int validate_de_health_insurance_number(const char *s, size_t n);
int validate_at_social_security_number(const char *digits, size_t n);
int validate_fr_nir(const char *s, size_t n);
int validate_es_dni(const char *s, size_t n);
int validate_es_nie(const char *s, size_t n);
int validate_it_fiscal_code(const char *s, size_t n);
int validate_nl_bsn(const char *digits, size_t n);
int validate_pl_pesel(const char *digits, size_t n);
int validate_be_national_number(const char *digits, size_t n);
int validate_gb_nino(const char *s, size_t n);
int validate_gb_nhs_number(const char *digits, size_t n);
/* 9 digits AAAGGSSSS */
int validate_us_ssn(const char *digits, size_t n);

#endif
