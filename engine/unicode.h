/* Unicode code point properties and UTF-8 helpers for the tokenizers.
 * The General_Category table is generated (tools/gen-unicode-tables.py). */
#ifndef HAFEN_ENGINE_UNICODE_H
#define HAFEN_ENGINE_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Major General_Category classes (UAX #44, 5.7.1): the first letter of the
 * two-letter category. Everything not listed (C*, unassigned) is OTHER. */
enum unicode_cat {
	UNICODE_CAT_OTHER = 0,
	UNICODE_CAT_LETTER,	/* L* */
	UNICODE_CAT_MARK,	/* M* */
	UNICODE_CAT_NUMBER,	/* N* */
	UNICODE_CAT_PUNCT,	/* P* */
	UNICODE_CAT_SYMBOL,	/* S* */
	UNICODE_CAT_SEPARATOR,	/* Z* */
};

struct unicode_range {
	uint32_t first;
	uint32_t last;
	uint8_t cat;	/* enum unicode_cat */
};

extern const struct unicode_range unicode_ranges[];
extern const size_t unicode_n_ranges;

/* Code point returned for bytes that do not start a valid UTF-8 sequence. */
#define UNICODE_INVALID 0xFFFFFFFFu

enum unicode_cat unicode_cat_of(uint32_t cp);
/* The White_Space property (PropList.txt): what regex \s matches. */
int unicode_is_space(uint32_t cp);

/* Decode one code point from s[0..n) (n >= 1). Returns the bytes consumed
 * (1..4); a malformed, overlong, surrogate or truncated sequence consumes one
 * byte and yields UNICODE_INVALID, so callers never lose or misread bytes. */
size_t unicode_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encode cp (<= 0x10FFFF) into out (4 bytes room). Returns the length, 0 for
 * an invalid code point. */
size_t unicode_utf8_encode(uint32_t cp, char *out);
/* Length of the longest prefix of s[0..n) that does not end inside an
 * incomplete (but so far valid) UTF-8 sequence: for streaming output. */
size_t unicode_utf8_complete_len(const char *s, size_t n);

#endif
