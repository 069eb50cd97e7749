/* Contact detectors: e-mail, phone, IPv4/IPv6, MAC. */
#include <string.h>

#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/scan.h"

#define W DETECTOR_KW_WORD
#define WS DETECTOR_KW_WORD_START

/* ---- e-mail: RFC 5321 4.5.3.1 limits (local part <= 64, domain <= 255,
 * path <= 256 incl. brackets, so address <= 254), RFC 5322 atext. ---- */

/* RFC 5322 atext without the characters that in prose, templates and
 * configuration delimit rather than belong to an address ($ { } / = ...):
 * real mailboxes use them almost never, "${USER}@host" uses them often. */
static int detect_contact_is_atext(unsigned char c)
{
	/* (compares, not strchr(): every local part's bytes are asked) */
	return scan_is(c, SCAN_BYTE_ALNUM) || c == '%' || c == '\'' || c == '+' || c == '_' ||
	       c == '.' || c == '-';
}

/* The bytes before a local part that make it a template or a path:
 * "${DB_PASSWORD}@db", "$pw@host", "//user@host" */
static int detect_contact_is_delim(unsigned char c)
{
	switch (c) {
	case '$': case '}': case '{': case '/': case '=': case '\\': case '#': case '!':
	case '*': case '&': case '?': case '|': case '~': case '^': case '`': case '@':
		return 1;
	default:
		return 0;
	}
}

/* "scheme://user:pass@host": the part before '@' is URL userinfo. */
static int detect_contact_in_url(const unsigned char *s, size_t a)
{
	for (size_t i = a, n = 0; i >= 3 && n < 256; i--, n++) {
		if (scan_is(s[i - 1], SCAN_BYTE_SPACE) || s[i - 1] == '"' || s[i - 1] == '<')
			return 0;
		if (s[i - 1] == '/' && s[i - 2] == '/' && s[i - 3] == ':')
			return 1;
	}
	return 0;
}

static int detect_contact_is_ldh(unsigned char c)
{
	return scan_is(c, SCAN_BYTE_ALNUM) || c == '-';
}

static int detect_contact_match_email(const struct scan_input *in,
				      const struct scan_trigger *t,
				      struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t at = t->start, a = at, b, last_label, labels = 0;

	while (a > 0 && detect_contact_is_atext(s[a - 1]) && at - a <= 64)
		a--;
	if (at - a > 64)
		return 0;
	while (a < at && (s[a] == '.' || s[a] == '\''))  /* prose quote or dot */
		a++;
	if (a == at || s[at - 1] == '.')
		return 0;
	/* "${DB_PASSWORD}@db", "$pw@host", "//user@host" */
	if (a > 0 && detect_contact_is_delim(s[a - 1]))
		return 0;
	if (detect_contact_in_url(s, a))
		return 0;
	for (size_t i = a; i + 1 < at; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	/* domain: LDH labels separated by dots (RFC 1035 2.3.1) */
	b = at + 1;
	last_label = b;
	for (;;) {
		size_t l = b;
		while (b < in->len && detect_contact_is_ldh(s[b]) && b - l <= 63)
			b++;
		if (b == l || b - l > 63 || s[l] == '-' || s[b - 1] == '-')
			return 0;
		labels++;
		last_label = l;
		if (b + 1 < in->len && s[b] == '.' && detect_contact_is_ldh(s[b + 1])) {
			b++;
			continue;
		}
		break;
	}
	if (labels < 2 || b - (at + 1) > 255 || b - a > 254)
		return 0;
	/* top-level domain: letters only (or an IDN "xn--" label) */
	if (b - last_label < 2)
		return 0;
	if (!(b - last_label > 4 && strncmp((const char *)s + last_label, "xn--", 4) == 0))
		for (size_t i = last_label; i < b; i++)
			if (!scan_is(s[i], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER))
				return 0;
	if (b < in->len && (s[b] == '@' || s[b] == '_' || scan_is(s[b], SCAN_BYTE_HIGH)))
		return 0;
	return scan_add_finding(out, in, a, b, 0);
}

/* ---- IPv4 (dotted quad, RFC 791 / inet_aton without the short forms) ---- */

/* Parses exactly a.b.c.d in s[0..n); 1 when valid. */
static int detect_contact_parse_ipv4(const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t st = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - st < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
			return 0;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

static const struct detector_keyword detect_contact_ip_keywords[] = {
	{ "version", WS, SCAN_CONTEXT_REFERENCE },
	{ "release", W, SCAN_CONTEXT_REFERENCE },
	{ "build", W, SCAN_CONTEXT_REFERENCE },
	{ "ip", W, SCAN_CONTEXT_IP },
	{ "ipv4", W, SCAN_CONTEXT_IP },
	{ "ipv6", W, SCAN_CONTEXT_IP },
	{ "adresse", WS, SCAN_CONTEXT_IP },
	{ "address", WS, SCAN_CONTEXT_IP },
	{ "server", WS, SCAN_CONTEXT_IP },
	{ "host", WS, SCAN_CONTEXT_IP },
	{ NULL, 0, 0 },
};

static int detect_contact_match_ipv4(const struct scan_input *in,
				     const struct scan_trigger *t,
				     struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t i = t->start;

	if (t->digits < 4 || !memchr(s + t->start, '.', t->end - t->start))
		return 0;
	while (i < t->end) {
		/* maximal [0-9.] stretch inside the run */
		while (i < t->end && !(s[i] >= '0' && s[i] <= '9'))
			i++;
		size_t a = i;
		while (i < t->end && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			i++;
		size_t b = i;
		while (b > a && s[b - 1] == '.')
			b--;
		if (b - a < 7 || !detect_contact_parse_ipv4(s + a, b - a))
			continue;
		/* 0.0.0.0/8 ("this network"), 127/8 (loopback) and the limited
		 * broadcast (RFC 1122 3.2.1.3) identify no one */
		if (s[a] == '0' || (b - a >= 4 && memcmp(s + a, "127.", 4) == 0) ||
		    (b - a == 15 && memcmp(s + a, "255.255.255.255", 15) == 0))
			continue;
		if (a > 0 && (s[a - 1] == 'v' || s[a - 1] == 'V' || s[a - 1] == '.'))
			continue;
		if (b < in->len && scan_is(s[b], SCAN_BYTE_ALNUM))
			continue;
		/* "Version 1.2.3.4": a version number, unless it says IP. The
		 * reference word is first looked for around the whole run in
		 * the window scan.c's NUMBER gate shares (80 bytes before, 24
		 * after): it holds this one, and is mostly cached already or
		 * needed next */
		if (scan_context_near(in, SCAN_CONTEXT_REFERENCE, t->start, t->end, 80, 24) &&
		    scan_context_near(in, SCAN_CONTEXT_REFERENCE, a, b, 24, 0) &&
		    !scan_context_near(in, SCAN_CONTEXT_IP, a, b, 24, 0))
			continue;
		if (scan_add_finding(out, in, a, b, 0) < 0)
			return -1;
	}
	return 0;
}

/* ---- IPv6 (RFC 4291 2.2 text forms) ---- */

static int detect_contact_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 when s[0..n) is a complete IPv6 address. */
static int detect_contact_parse_ipv6(const unsigned char *s, size_t n)
{
	size_t i = 0;
	int groups = 0, gap = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 1;
		i = 2;
		if (i == n)
			return 1;
	} else if (n && s[0] == ':') {
		return 0;
	}
	while (i < n) {
		size_t st = i;
		while (i < n && detect_contact_hexval(s[i]) >= 0 && i - st < 5)
			i++;
		if (i == st || i - st > 4)
			return 0;
		if (i < n && s[i] == '.') {
			/* embedded IPv4 in the last 32 bits */
			if (!detect_contact_parse_ipv4(s + st, n - st))
				return 0;
			groups += 2;
			i = n;
			break;
		}
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return 0;
		i++;
		if (i < n && s[i] == ':') {
			if (gap)
				return 0;
			gap = 1;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return 0;
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

static int detect_contact_match_ipv6(const struct scan_input *in,
				     const struct scan_trigger *t,
				     struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t i = t->start;

	while (i < t->end) {
		while (i < t->end && !(detect_contact_hexval(s[i]) >= 0 || s[i] == ':'))
			i++;
		size_t a = i;
		unsigned colons = 0;
		while (i < t->end && (detect_contact_hexval(s[i]) >= 0 || s[i] == ':' || s[i] == '.')) {
			colons += s[i] == ':';
			i++;
		}
		size_t b = i;
		while (b > a && s[b - 1] == '.')
			b--;
		if (b > a + 1 && s[b - 1] == ':' && s[b - 2] != ':')
			b--;   /* "fe80::1:" at the end of a clause */
		if (colons < 2 || b - a < 3)
			continue;
		if ((a > 0 && (scan_is(s[a - 1], SCAN_BYTE_WORD) || s[a - 1] == '_' || s[a - 1] == ':')) ||
		    (b < in->len && (scan_is(s[b], SCAN_BYTE_WORD) || s[b] == '_')))
			continue;
		if (!detect_contact_parse_ipv6(s + a, b - a))
			continue;
		if (scan_add_finding(out, in, a, b, 0) < 0)
			return -1;
	}
	return 0;
}

/* ---- MAC (IEEE 802 EUI-48 in the colon or hyphen form) ---- */

static int detect_contact_match_mac(const struct scan_input *in,
				    const struct scan_trigger *t,
				    struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;

	for (size_t a = t->start; a + 17 <= t->end; a++) {
		if (a > 0 && (scan_is(s[a - 1], SCAN_BYTE_WORD) || s[a - 1] == ':' || s[a - 1] == '-'))
			continue;
		unsigned char sep = s[a + 2];
		if (sep != ':' && sep != '-')
			continue;
		int okk = 1;
		for (int g = 0; g < 6 && okk; g++) {
			size_t p = a + (size_t)g * 3;
			okk = detect_contact_hexval(s[p]) >= 0 && detect_contact_hexval(s[p + 1]) >= 0 &&
			      (g == 5 || s[p + 2] == sep);
		}
		if (!okk)
			continue;
		size_t b = a + 17;
		if (b < in->len && (scan_is(s[b], SCAN_BYTE_WORD) || s[b] == sep ||
				    (s[b] == ':' && b + 1 < in->len && detect_contact_hexval(s[b + 1]) >= 0)))
			continue;
		if (scan_add_finding(out, in, a, b, 0) < 0)
			return -1;
		a = b - 1;
	}
	return 0;
}

/* ---- phone numbers ----
 * E.164 (ITU-T E.164: country code + national significant number, at most
 * 15 digits) written with "+" or "00", and national formats with a trunk
 * prefix "0". National lengths per country follow the national numbering
 * plans (as summarised by libphonenumber's metadata): a number must fit its
 * country's range. National numbers without "+" need a phone context word
 * nearby ("Tel.", "phone", "Mobil", ...), or the unambiguous US
 * "(ddd) ddd-dddd" shape; a reference word ("Rechnung", "order", ...) right
 * before vetoes them. Dates (dd.mm.yyyy, yyyy-mm-dd) are never phones. */

struct detect_contact_cc {
	const char *cc;
	unsigned nsn_min, nsn_max;   /* national significant number length */
};

static const struct detect_contact_cc detect_contact_cc_table[] = {
	{ "49", 6, 13 },  /* DE */
	{ "43", 4, 13 },  /* AT */
	{ "41", 9, 9 },   /* CH */
	{ "33", 9, 9 },   /* FR */
	{ "39", 6, 11 },  /* IT (fixed lines keep the leading 0) */
	{ "34", 9, 9 },   /* ES */
	{ "31", 9, 9 },   /* NL */
	{ "32", 8, 9 },   /* BE */
	{ "48", 9, 9 },   /* PL */
	{ "44", 9, 10 },  /* GB */
	{ "1", 10, 10 },  /* NANP: US, CA */
	{ "352", 4, 11 }, /* LU */
	{ "45", 8, 8 },   /* DK */
	{ "46", 7, 13 },  /* SE */
	{ "47", 8, 8 },   /* NO */
	{ "353", 7, 11 }, /* IE */
	{ "351", 9, 9 },  /* PT */
	{ "420", 9, 9 },  /* CZ */
	{ NULL, 0, 0 },
};

static const struct detector_keyword detect_contact_phone_keywords[] = {
	{ "tel", W, SCAN_CONTEXT_PHONE },
	{ "tel.", WS, SCAN_CONTEXT_PHONE },
	{ "telefon", WS, SCAN_CONTEXT_PHONE },
	{ "telephone", WS, SCAN_CONTEXT_PHONE },
	{ "t\xc3\xa9l", WS, SCAN_CONTEXT_PHONE },
	{ "phone", WS, SCAN_CONTEXT_PHONE },
	{ "mobil", WS, SCAN_CONTEXT_PHONE },
	{ "handy", W, SCAN_CONTEXT_PHONE },
	{ "fax", WS, SCAN_CONTEXT_PHONE },
	{ "cell", WS, SCAN_CONTEXT_PHONE },
	{ "call", WS, SCAN_CONTEXT_PHONE },
	{ "ruf", WS, SCAN_CONTEXT_PHONE },
	{ "rufnummer", WS, SCAN_CONTEXT_PHONE },
	{ "durchwahl", WS, SCAN_CONTEXT_PHONE },
	{ "erreichbar", WS, SCAN_CONTEXT_PHONE },
	{ "anrufen", WS, SCAN_CONTEXT_PHONE },
	{ "whatsapp", WS, SCAN_CONTEXT_PHONE },
	{ "portable", WS, SCAN_CONTEXT_PHONE },
	{ "appeler", WS, SCAN_CONTEXT_PHONE },
	{ "joindre", WS, SCAN_CONTEXT_PHONE },
	{ "telefono", WS, SCAN_CONTEXT_PHONE },
	{ "tel\xc3\xa9" "fono", WS, SCAN_CONTEXT_PHONE },
	{ "cellulare", WS, SCAN_CONTEXT_PHONE },
	{ "chiamare", WS, SCAN_CONTEXT_PHONE },
	{ "m\xc3\xb3vil", WS, SCAN_CONTEXT_PHONE },
	{ "llamar", WS, SCAN_CONTEXT_PHONE },
	{ "telefoon", WS, SCAN_CONTEXT_PHONE },
	{ "mobiel", WS, SCAN_CONTEXT_PHONE },
	{ "bellen", WS, SCAN_CONTEXT_PHONE },
	{ "bel ", WS, SCAN_CONTEXT_PHONE },
	{ "numer telefonu", WS, SCAN_CONTEXT_PHONE },
	{ "hotline", WS, SCAN_CONTEXT_PHONE },
	/* references: the number is an id, not a phone */
	{ "rechnung", WS, SCAN_CONTEXT_REFERENCE },
	{ "bestell", WS, SCAN_CONTEXT_REFERENCE },
	{ "auftrag", WS, SCAN_CONTEXT_REFERENCE },
	{ "kundennummer", WS, SCAN_CONTEXT_REFERENCE },
	{ "kunden-nr", WS, SCAN_CONTEXT_REFERENCE },
	{ "vorgang", WS, SCAN_CONTEXT_REFERENCE },
	{ "aktenzeichen", WS, SCAN_CONTEXT_REFERENCE },
	{ "az.", WS, SCAN_CONTEXT_REFERENCE },
	{ "invoice", WS, SCAN_CONTEXT_REFERENCE },
	{ "order", WS, SCAN_CONTEXT_REFERENCE },
	{ "ticket", WS, SCAN_CONTEXT_REFERENCE },
	{ "tracking", WS, SCAN_CONTEXT_REFERENCE },
	{ "sendungsnummer", WS, SCAN_CONTEXT_REFERENCE },
	{ "artikel", WS, SCAN_CONTEXT_REFERENCE },
	{ "serial", WS, SCAN_CONTEXT_REFERENCE },
	{ "seriennummer", WS, SCAN_CONTEXT_REFERENCE },
	{ "facture", WS, SCAN_CONTEXT_REFERENCE },
	{ "commande", WS, SCAN_CONTEXT_REFERENCE },
	{ "fattura", WS, SCAN_CONTEXT_REFERENCE },
	{ "ordine", WS, SCAN_CONTEXT_REFERENCE },
	{ "factura", WS, SCAN_CONTEXT_REFERENCE },
	{ "pedido", WS, SCAN_CONTEXT_REFERENCE },
	{ "factuur", WS, SCAN_CONTEXT_REFERENCE },
	{ "bestelling", WS, SCAN_CONTEXT_REFERENCE },
	{ "faktura", WS, SCAN_CONTEXT_REFERENCE },
	{ "zam\xc3\xb3wienie", WS, SCAN_CONTEXT_REFERENCE },
	{ "referenz", WS, SCAN_CONTEXT_REFERENCE },
	{ "reference", WS, SCAN_CONTEXT_REFERENCE },
	{ NULL, 0, 0 },
};

static int detect_contact_is_date(const unsigned char *s, size_t a, size_t b)
{
	size_t n = b - a;
	/* dd.mm.yyyy, dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, dd.mm.yy */
	if (n == 10 && (s[a + 2] == '.' || s[a + 2] == '/' || s[a + 2] == '-') && s[a + 5] == s[a + 2])
		return 1;
	if (n == 10 && s[a + 4] == '-' && s[a + 7] == '-')
		return 1;
	if (n == 8 && s[a + 2] == '.' && s[a + 5] == '.')
		return 1;
	return 0;
}

static int detect_contact_match_phone(const struct scan_input *in,
				      const struct scan_trigger *t,
				      struct policy_findings *out)
{
	const unsigned char *s = (const unsigned char *)in->text;
	size_t a = t->start, b = t->end;
	char d[24];
	size_t nd;
	int intl = 0, conf = 0;

	if (t->digits < 6)
		return 0;
	/* without '+' and trunk 0 only the 9-digit ES/PL and the 10- and
	 * 11-digit NANP shapes below remain (the digits collected below are
	 * the run's): most number runs (dates, amounts) end here */
	if (s[a] != '+') {
		size_t f = a;
		while (f < b && !(s[f] >= '0' && s[f] <= '9'))
			f++;
		unsigned n = t->digits;
		/* (NANP's 10 digits begin with an area code 2-9: the branch
		 * below needs d[0] >= '2') */
		if (f < b && s[f] != '0' &&
		    !((n == 9 && s[f] >= '5') || (n == 10 && s[f] >= '2') || (n == 11 && s[f] == '1')))
			return 0;
	}
	while (b > a && !(s[b - 1] >= '0' && s[b - 1] <= '9'))
		b--;
	if (b <= a || detect_contact_is_date(s, a, b))
		return 0;
	/* part of a longer token ("Art.-Nr. AB-0301 234", "x0301...") */
	if (a > 0 && (scan_is(s[a - 1], SCAN_BYTE_ALNUM) || s[a - 1] == '-' || s[a - 1] == '_' ||
		      s[a - 1] == '.' || s[a - 1] == '#' || s[a - 1] == '/'))
		return 0;
	if (b < in->len && (scan_is(s[b], SCAN_BYTE_ALNUM) || s[b] == '_'))
		return 0;
	nd = scan_collect_digits(in->text, a, b, d, NULL, 20);   /* (positions unused) */
	if (nd > 20 || nd < 6)
		return 0;
	if (s[a] == '+' || (nd > 2 && d[0] == '0' && d[1] == '0' && d[2] != '0')) {
		size_t cc0 = s[a] == '+' ? 0 : 2;
		intl = 1;
		for (const struct detect_contact_cc *c = detect_contact_cc_table; c->cc; c++) {
			size_t l = strlen(c->cc);
			if (nd < cc0 + l || memcmp(d + cc0, c->cc, l) != 0)
				continue;
			size_t nsn = nd - cc0 - l;
			/* "+49 (0)30 ...": the trunk 0 in parentheses is not dialled */
			if (nsn > 0 && d[cc0 + l] == '0')
				nsn--;
			if (nsn >= c->nsn_min && nsn <= c->nsn_max)
				conf = 90;
			break;
		}
		if (!conf && nd - cc0 >= 8 && nd - cc0 <= 15 && d[cc0] != '0' &&
		    scan_context_near(in, SCAN_CONTEXT_PHONE, a, b, 48, 8))
			conf = 70;   /* other country code, with context */
	} else if (d[0] == '0' && d[1] != '0') {
		/* national with trunk prefix: DE/AT/CH/FR/IT/NL/BE/GB shapes,
		 * 9..12 digits including the 0 (FR, NL, BE, CH: 10; DE: 8..12) */
		if (nd >= 8 && nd <= 12 && scan_context_near(in, SCAN_CONTEXT_PHONE, a, b, 48, 8))
			conf = 80;
	} else if (nd == 9 && (d[0] == '6' || d[0] == '7' || d[0] == '9' || d[0] == '5' || d[0] == '8')) {
		/* ES and PL have no trunk prefix: 9 digits, context required */
		if (scan_context_near(in, SCAN_CONTEXT_PHONE, a, b, 48, 8))
			conf = 70;
	} else if (nd == 10 || (nd == 11 && d[0] == '1')) {
		/* NANP: NXX-NXX-XXXX (area and exchange codes start 2-9) */
		size_t o = nd == 11 ? 1 : 0;
		int shape_paren = s[a] == '(' || (o && memchr(s + a, '(', b - a));
		if (d[o] >= '2' && d[o + 3] >= '2' &&
		    (shape_paren || scan_context_near(in, SCAN_CONTEXT_PHONE, a, b, 48, 8)))
			conf = shape_paren ? 80 : 70;
	}
	if (!conf)
		return 0;
	if (!intl && scan_context_near(in, SCAN_CONTEXT_REFERENCE, a, b, 32, 0) &&
	    !scan_context_near(in, SCAN_CONTEXT_PHONE, a, b, 16, 0))
		return 0;
	return scan_add_finding(out, in, a, b, (unsigned)conf);
}

static const struct detector_keyword detect_contact_email_keywords[] = {
	{ NULL, 0, 0 },
};

const struct detector detect_contact_table[] = {
	{ "email", ENTITY_EMAIL, DATA_CLASS_CONFIDENTIAL, 95, SCAN_SHAPE_AT,
	  detect_contact_email_keywords, detect_contact_match_email, NULL, 0 },
	{ "phone", ENTITY_PHONE, DATA_CLASS_CONFIDENTIAL, 80, SCAN_SHAPE_NUMBER,
	  detect_contact_phone_keywords, detect_contact_match_phone, NULL, 6 },
	{ "ipv4", ENTITY_IP_ADDRESS, DATA_CLASS_CONFIDENTIAL, 85, SCAN_SHAPE_NUMBER,
	  detect_contact_ip_keywords, detect_contact_match_ipv4, NULL, 4 },
	{ "ipv6", ENTITY_IP_ADDRESS, DATA_CLASS_CONFIDENTIAL, 90, SCAN_SHAPE_HEXGROUP,
	  NULL, detect_contact_match_ipv6, NULL, 0 },
	{ "mac_address", ENTITY_MAC_ADDRESS, DATA_CLASS_CONFIDENTIAL, 90, SCAN_SHAPE_HEXGROUP,
	  NULL, detect_contact_match_mac, NULL, 0 },
};
const size_t detect_contact_count = sizeof(detect_contact_table) / sizeof(detect_contact_table[0]);
