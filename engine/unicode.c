/* Unicode properties: binary search over the generated General_Category
 * ranges, a direct table for ASCII, and strict UTF-8 (RFC 3629). */
#include <pthread.h>

#include "engine/unicode.h"

/* ASCII categories, checked first because most text is ASCII; filled
 * once from the same table so there is one source of truth. */
static uint8_t unicode_ascii_cat[128];
static pthread_once_t unicode_ascii_once = PTHREAD_ONCE_INIT;

static enum unicode_cat unicode_cat_search(uint32_t cp)
{
	size_t lo = 0, hi = unicode_n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < unicode_ranges[mid].first)
			hi = mid;
		else if (cp > unicode_ranges[mid].last)
			lo = mid + 1;
		else
			return (enum unicode_cat)unicode_ranges[mid].cat;
	}
	return UNICODE_CAT_OTHER;
}

static void unicode_ascii_init(void)
{
	for (uint32_t c = 0; c < 128; c++)
		unicode_ascii_cat[c] = (uint8_t)unicode_cat_search(c);
}

enum unicode_cat unicode_cat_of(uint32_t cp)
{
	if (cp < 128) {
		pthread_once(&unicode_ascii_once, unicode_ascii_init);
		return (enum unicode_cat)unicode_ascii_cat[cp];
	}
	if (cp == UNICODE_INVALID)
		return UNICODE_CAT_OTHER;
	return unicode_cat_search(cp);
}

/* White_Space=yes in PropList.txt (Unicode 15.0): a short, stable list. */
static const uint32_t unicode_space_list[][2] = {
	{ 0x0009, 0x000D }, { 0x0020, 0x0020 }, { 0x0085, 0x0085 },
	{ 0x00A0, 0x00A0 }, { 0x1680, 0x1680 }, { 0x2000, 0x200A },
	{ 0x2028, 0x2029 }, { 0x202F, 0x202F }, { 0x205F, 0x205F },
	{ 0x3000, 0x3000 },
};

int unicode_is_space(uint32_t cp)
{
	if (cp == ' ')
		return 1;
	if (cp < 0x09)
		return 0;
	for (size_t i = 0; i < sizeof unicode_space_list / sizeof unicode_space_list[0]; i++)
		if (cp >= unicode_space_list[i][0] && cp <= unicode_space_list[i][1])
			return 1;
	return 0;
}

size_t unicode_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t len;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0) {
		len = 2; c = u[0] & 0x1F; min = 0x80;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3; c = u[0] & 0x0F; min = 0x800;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4; c = u[0] & 0x07; min = 0x10000;
	} else {
		*cp = UNICODE_INVALID;
		return 1;
	}
	if (len > n) {
		*cp = UNICODE_INVALID;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*cp = UNICODE_INVALID;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = UNICODE_INVALID;
		return 1;
	}
	*cp = c;
	return len;
}

size_t unicode_utf8_encode(uint32_t cp, char *out)
{
	unsigned char *u = (unsigned char *)out;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cp <= 0x10FFFF) {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		return 4;
	}
	return 0;
}

size_t unicode_utf8_complete_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t back, start, need;

	/* Look at most 3 bytes back for the lead byte of a final sequence. */
	for (back = 1; back <= 3 && back <= n; back++) {
		start = n - back;
		if ((u[start] & 0xC0) == 0x80)
			continue;	/* continuation byte: keep looking */
		if ((u[start] & 0xE0) == 0xC0)
			need = 2;
		else if ((u[start] & 0xF0) == 0xE0)
			need = 3;
		else if ((u[start] & 0xF8) == 0xF0)
			need = 4;
		else
			return n;	/* ASCII or invalid lead: nothing to wait for */
		return back < need ? start : n;
	}
	return n;
}
