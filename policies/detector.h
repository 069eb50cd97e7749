/* A detector is one table row plus its match function.
 *
 * The scanner (policies/scan.c) makes ONE pass over the text. In that pass it
 * finds every detector's keywords, ASCII case-folded (policies/kwhash.c: a
 * hash of whole words and stem prefixes for keywords that start a word;
 * policies/ac.c: a byte filter plus a trie for the others), and it
 * recognises a few "shapes" with a byte class table. Each keyword hit and each shape is a trigger. After the pass,
 * every detector that asked for a trigger gets its match() called once per
 * trigger; match() looks around the trigger in the text, validates
 * (checksums in policies/validate.c) and appends findings with
 * scan_add_finding(). Matches that fail validation are not findings.
 *
 * Context words ("IBAN", "geb.", "Tel.", "Patient") are keywords in the same
 * automaton tagged with a context group; match() asks scan_context_near()
 * whether one occurred within N bytes, without rescanning (the groups of
 * scan.c's scan_lazy_groups, frequent words that rare triggers ask about,
 * are looked for in the window when asked: lazyctx.h).
 *
 * Families, one file each: detect_contact.c, detect_financial.c,
 * detect_national_id.c (scanner), detect_person.c, detect_secret.c,
 * detect_special.c (lexicon). Each file defines its table (see the
 * DETECT_FAMILY declarations at the end); scan.c lists the families. */
#ifndef HAFEN_POLICIES_DETECTOR_H
#define HAFEN_POLICIES_DETECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policies/policy-t.h"

struct policy_findings;   /* policies/scan.h */
struct policy_scanner;

/* Context groups. A keyword with a group != SCAN_CONTEXT_NONE is recorded as
 * context; scan_context_near() asks for it by group. Append new groups just
 * before SCAN_CONTEXT_COUNT (max 255). */
enum scan_context {
	SCAN_CONTEXT_NONE = 0,
	/* contact */
	SCAN_CONTEXT_PHONE,          /* Tel., Telefon, phone, mobile, Handy, Fax, tél., telefono */
	SCAN_CONTEXT_EMAIL,
	SCAN_CONTEXT_IP,
	SCAN_CONTEXT_MAC,
	/* financial */
	SCAN_CONTEXT_IBAN,           /* IBAN, Konto, account */
	SCAN_CONTEXT_BIC,            /* BIC, SWIFT */
	SCAN_CONTEXT_CARD,           /* Kreditkarte, card, Visa, Mastercard */
	SCAN_CONTEXT_VAT,            /* USt-IdNr, VAT, TVA, IVA, BTW */
	/* national identifiers */
	SCAN_CONTEXT_TAX_ID,         /* Steuer-ID, IdNr, Steueridentifikationsnummer */
	SCAN_CONTEXT_ID_CARD,        /* Personalausweis, Ausweisnummer */
	SCAN_CONTEXT_PENSION,        /* Rentenversicherungsnummer, RVNR, SV-Nummer (DE) */
	SCAN_CONTEXT_HEALTH_INSURANCE, /* Krankenversichertennummer, KVNR, Versichertennummer */
	SCAN_CONTEXT_SOCIAL_SECURITY, /* SV-Nummer, Sozialversicherungsnummer, sécurité sociale, NIR */
	SCAN_CONTEXT_NATIONAL_ID,    /* DNI, NIE, codice fiscale, PESEL, Rijksregisternummer */
	SCAN_CONTEXT_BSN,            /* BSN, burgerservicenummer, sofinummer */
	SCAN_CONTEXT_SSN,            /* SSN, social security */
	SCAN_CONTEXT_NHS,            /* NHS */
	SCAN_CONTEXT_NINO,           /* National Insurance, NINO, NI number */
	/* people (lexicon) */
	SCAN_CONTEXT_DOB,            /* geb., born, DOB, Geburtsdatum, né le */
	SCAN_CONTEXT_PERSON_TITLE,   /* Herr, Frau, Mr, Ms, Dr */
	SCAN_CONTEXT_PERSON_LABEL,   /* Name:, Ansprechpartner, Mit freundlichen Grüßen */
	SCAN_CONTEXT_ADDRESS,        /* Straße, Str., street, Anschrift, PLZ */
	SCAN_CONTEXT_PATIENT,        /* Patient, Diagnose, Befund */
	/* secrets (lexicon) */
	SCAN_CONTEXT_SECRET,         /* secret, token, api_key */
	SCAN_CONTEXT_PASSWORD,       /* password, passwd, Passwort, pwd */
	/* negative context: numbers that are references, not identifiers */
	SCAN_CONTEXT_REFERENCE,      /* Bestellnummer, order, invoice, Rechnung, Ticket, Kundennr. */
	/* added by lexicon (detect_person.c, detect_special.c) */
	SCAN_CONTEXT_PERSON_REF,     /* ich, mein, er, she, his, je, mon, yo, io, employee, Kollegin */
	SCAN_CONTEXT_GIVEN_NAME,     /* the given-name lexicon (Anna, Jean, Giulia) */
	/* national identifiers that share a digit shape need their own words */
	SCAN_CONTEXT_PESEL,          /* PESEL */
	SCAN_CONTEXT_BE_NATIONAL,    /* Rijksregisternummer, numéro national, NISS, INSZ */
	SCAN_CONTEXT_COUNT
};

/* Keyword flags. Matching is ASCII case-insensitive unless DETECTOR_KW_CASE;
 * bytes >= 0x80 (UTF-8) always match exactly. A "word" byte is an ASCII
 * letter or digit or any byte >= 0x80. */
enum detector_kw_flag {
	DETECTOR_KW_WORD_START = 1u << 0, /* the byte before is not a word byte */
	DETECTOR_KW_WORD_END   = 1u << 1, /* the byte after is not a word byte */
	DETECTOR_KW_WORD       = DETECTOR_KW_WORD_START | DETECTOR_KW_WORD_END,
	DETECTOR_KW_TRIGGER    = 1u << 2, /* call the detector's match() on a hit */
	DETECTOR_KW_CASE       = 1u << 3, /* exact case */
};

struct detector_keyword {
	const char *word;     /* NULL ends the list */
	uint8_t flags;        /* enum detector_kw_flag */
	uint8_t context;      /* enum scan_context; SCAN_CONTEXT_NONE: trigger only */
};

/* Shapes the scanner finds in its pass (bit set in detector.shapes).
 * Each trigger covers the maximal run [start, end). */
enum scan_shape {
	/* digits with separators between them: ' ', '-', '.', '/', '(', ')' (at
	 * most 2 separator bytes in a row); a '+' or '(' directly before the
	 * first digit is included. At least 2 digits. "+49 (0)30 1234567",
	 * "4111 1111 1111 1111", "192.168.0.1", "123-45-6789". Letters end the
	 * run: "DE89 3704..." starts at "89". */
	SCAN_SHAPE_NUMBER   = 1u << 0,
	/* ASCII letters and digits, at least one of each, not inside a longer
	 * word ("DE89370400440532013000", "RSSMRA85T10A562S", "12345678Z"). */
	SCAN_SHAPE_ALNUM    = 1u << 1,
	/* one '@' byte: [start, start + 1). */
	SCAN_SHAPE_AT       = 1u << 2,
	/* hex digits, ':', '.', '-' with at least two ':' or five '-'
	 * ("fe80::1", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E"). */
	SCAN_SHAPE_HEXGROUP = 1u << 3,
};

enum scan_trigger_kind {
	SCAN_TRIGGER_KEYWORD,
	SCAN_TRIGGER_SHAPE,
};

struct scan_trigger {
	enum scan_trigger_kind kind;
	uint32_t start, end;   /* bytes of the keyword or of the shape run */
	uint16_t keyword;      /* KEYWORD: index into the detector's keyword list */
	uint16_t shape;        /* SHAPE: one enum scan_shape bit */
	uint16_t digits;       /* SHAPE NUMBER: digits in the run (saturates) */
};

/* What match() sees. Read-only; the scanner fills it. */
struct scan_input {
	const char *text;
	size_t len;
	const struct detector *det;  /* the detector being run */
	uint16_t det_index;          /* its index in the scanner's table */
	const void *priv;            /* scanner-internal (context index) */
};

/* Returns 0, or -1 on out of memory / finding limit (the scan fails closed). */
typedef int (*detector_match_fn)(const struct scan_input *in,
				 const struct scan_trigger *t,
				 struct policy_findings *out);

struct detector {
	const char *id;            /* stable: "email", "iban", "de_tax_id" */
	uint16_t entity;           /* enum entity, or >= ENTITY_BUILTIN_COUNT for custom */
	uint8_t data_class;        /* enum data_class of its findings */
	uint8_t confidence;        /* default confidence 0..100 */
	uint32_t shapes;           /* enum scan_shape bits it wants as triggers */
	const struct detector_keyword *keywords; /* NULL-word terminated, or NULL */
	detector_match_fn match;
	const void *arg;           /* private data, e.g. of a custom detector */
	/* SCAN_SHAPE_NUMBER: runs with fewer digits are not passed to match()
	 * (0: any). Number runs (dates, amounts, counts) are the most frequent
	 * trigger in business text; most detectors need long ones. */
	uint16_t min_digits;
};

/* --- helpers for match() functions (implemented in scan.c) --- */

/* Appends a finding [start, end) for in->det. confidence 0 means the
 * detector's default. 0 or -1 (out of memory / limit). */
int scan_add_finding(struct policy_findings *out, const struct scan_input *in,
		     size_t start, size_t end, unsigned confidence);

/* 1 when the last finding of this scan so far is in->det's and starts
 * at start: a detector whose result depends only on where it starts
 * (and the text) may skip a second trigger that leads to the same
 * place (pass 3 would drop the identical duplicate anyway). */
int scan_last_finding_at(const struct scan_input *in, const struct policy_findings *out,
			 size_t start);

/* 1 when a context keyword of group ctx starts within `before` bytes before
 * `start` or within `after` bytes after `end` (or inside [start, end)),
 * else 0. */
int scan_context_near(const struct scan_input *in, unsigned ctx,
		      size_t start, size_t end, size_t before, size_t after);

/* Generic match(): the keyword hit itself is the finding (custom term lists
 * from policy files). Honours the detector's default confidence. */
int detector_match_keyword(const struct scan_input *in,
			   const struct scan_trigger *t,
			   struct policy_findings *out);

/* Copies the ASCII digits of text[start, end) to dst (at most max) and their
 * offsets to pos (may be NULL). Returns the number of digits, max + 1 when
 * there were more. */
size_t scan_collect_digits(const char *text, size_t start, size_t end,
			   char *dst, uint32_t *pos, size_t max);

/* The digit groups of a number run: text[start, end) are digits, sep is the
 * separator byte before the group (0 for the first; the last one when there
 * were two). Returns the number of groups, at most max. */
struct scan_group {
	uint32_t start, end;
	uint8_t sep;
};
size_t scan_number_groups(const char *text, size_t start, size_t end,
			  struct scan_group *g, size_t max);
/* Copies the digits of group g of in's text to dst, which has room for
 * 8 bytes from dst even for a shorter group: groups are short ("4111"),
 * so one 8-byte copy where the text has the bytes (what follows the
 * group is overwritten or not read), else a byte loop; no memcpy call
 * of a variable length. */
static inline void scan_copy_group(char *dst, const char *text, size_t len,
				   const struct scan_group *g)
{
	size_t gl = g->end - g->start;
	if (gl <= 8 && g->start + 8 <= len)
		memcpy(dst, text + g->start, 8);
	else
		for (size_t q = 0; q < gl; q++)
			dst[q] = text[g->start + q];
}
/* The same for a NUMBER trigger's run with max = SCAN_TRIGGER_GROUPS,
 * split once per trigger and shared by the detectors that read it. The
 * array stays valid until the detector returns. */
#define SCAN_TRIGGER_GROUPS 16
const struct scan_group *scan_trigger_groups(const struct scan_input *in,
					     const struct scan_trigger *t, size_t *n);
/* Bit N set when some consecutive groups of that run hold N digits in
 * all (N < 64), joined by single ' ', '-', '.' or '/' bytes: a detector
 * that wants N digits over such separators has nothing to do in a run
 * without bit N. Computed once per run and shared. */
uint64_t scan_trigger_digit_totals(const struct scan_input *in, const struct scan_trigger *t);

/* Byte classes shared by the scanner and the detectors. */
enum scan_byte_class {
	SCAN_BYTE_DIGIT = 1u << 0,
	SCAN_BYTE_UPPER = 1u << 1,
	SCAN_BYTE_LOWER = 1u << 2,
	SCAN_BYTE_HEX   = 1u << 3,
	SCAN_BYTE_SPACE = 1u << 4,   /* ' ' \t \r \n \v \f */
	SCAN_BYTE_HIGH  = 1u << 5,   /* >= 0x80 */
	SCAN_BYTE_NUMSEP = 1u << 6,  /* ' ' - . / ( ) inside a number run */
	SCAN_BYTE_WORD  = SCAN_BYTE_DIGIT | SCAN_BYTE_UPPER | SCAN_BYTE_LOWER | SCAN_BYTE_HIGH,
	SCAN_BYTE_ALNUM = SCAN_BYTE_DIGIT | SCAN_BYTE_UPPER | SCAN_BYTE_LOWER,
};
extern const uint8_t scan_byte_class[256];

static inline int scan_is(unsigned char c, unsigned cls)
{
	return (scan_byte_class[c] & cls) != 0;
}

/* --- the families: each file defines NAME_table[] and NAME_count --- */
#define DETECT_FAMILY(name) \
	extern const struct detector name##_table[]; \
	extern const size_t name##_count
DETECT_FAMILY(detect_contact);
DETECT_FAMILY(detect_financial);
DETECT_FAMILY(detect_national_id);
DETECT_FAMILY(detect_person);
DETECT_FAMILY(detect_secret);
DETECT_FAMILY(detect_special);
#undef DETECT_FAMILY

#endif
