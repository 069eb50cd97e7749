/* The scanner end to end: findings, spans, overlaps, context, custom
 * detectors, limits. Texts are short realistic sentences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policies/entity.h"
#include "policies/lazyctx.h"
#include "policies/scan.h"
#include "tests/tap.h"

static struct policy_scanner *sc;
static struct policy_findings f;

/* Scans text; 1 when exactly the expected (entity, value) pairs are found
 * in order. expect: entity names and values alternating, NULL ended. */
static int check(const char *text, const char *const *expect)
{
	size_t k = 0;
	policy_findings_clear(&f);
	if (policy_scan_text(sc, text, strlen(text), &f) < 0)
		return 0;
	for (size_t i = 0; i < f.n; i++, k += 2) {
		const struct policy_finding *x = &f.v[i];
		const char *name = x->entity < ENTITY_BUILTIN_COUNT ? entity_info_get(x->entity)->name : "custom";
		if (!expect[k] || strcmp(expect[k], name) != 0 ||
		    strlen(expect[k + 1]) != x->end - x->start ||
		    memcmp(expect[k + 1], text + x->start, x->end - x->start) != 0) {
			tap_diag("got %s [%.*s]", name, (int)(x->end - x->start), text + x->start);
			return 0;
		}
	}
	if (expect[k])
		tap_diag("missing %s [%s]", expect[k], expect[k + 1]);
	return expect[k] == NULL;
}

/* Text for the filter test: every kind of trigger, keywords inside and at
 * the start of words, UTF-8, digits next to letters. */
static const char filter_text[] =
	"Sehr geehrter Herr Dr. Max M\xc3\xbcller, geb. 01.02.1980, Hauptstra\xc3\x9f" "e 12, "
	"80331 M\xc3\xbcnchen; Brustkrebs und Depression seit 2019. IBAN DE89 3704 0044 0532 0130 00, "
	"BIC COBADEFFXXX, Karte 4111 1111 1111 1111, mail anna.schmidt@firma-gmbh.de, Tel. +49 89 12345678, "
	"MAC 00:1A:2B:3C:4D:5E, fe80::1ff:fe23:4567:890a, password=Tr0ub4dor&3x, api_key: sk_live_abc123XYZ, "
	"postgres://app:geheim@db.internal:5432/app, Steuer-ID 86 095 742 719, DNI 12345678Z, "
	"-----BEGIN PRIVATE KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n"
	"Rechnung 2024-00815 \xc3\xbc" "ber 1.249,00 EUR, Projekt Falke, Am Lindenweg 3, stiftstra\xc3\x9f" "e7x ";

/* Findings of a and b on text[0..n) are the same; adds a's count. */
static int same_findings(struct policy_scanner *a, struct policy_scanner *b, const char *text, size_t n,
			 struct policy_findings *fa, struct policy_findings *fb, size_t *total)
{
	policy_findings_clear(fa);
	policy_findings_clear(fb);
	if (policy_scan_text(a, text, n, fa) < 0 || policy_scan_text(b, text, n, fb) < 0 || fa->n != fb->n)
		return 0;
	for (size_t i = 0; i < fa->n; i++)
		if (fa->v[i].start != fb->v[i].start || fa->v[i].end != fb->v[i].end ||
		    fa->v[i].detector != fb->v[i].detector || fa->v[i].confidence != fb->v[i].confidence)
			return 0;
	*total += fa->n;
	return 1;
}

/* The AVX2 position filter and the scalar one must give the same
 * findings at every alignment of the text to the 64-byte blocks (with the
 * scalar filter forced by POLICY_SCANNER_FLAG_NO_SIMD for a second scanner). */
static int filter_paths_agree(struct policy_scanner *scalar, size_t *total)
{
	char buf[sizeof(filter_text) + 64];
	struct policy_findings g;
	int same = 1;

	policy_findings_init(&g);
	*total = 0;
	for (size_t pad = 0; pad < 64 && same; pad++) {
		memset(buf, ' ', pad);
		memcpy(buf + pad, filter_text, sizeof(filter_text) - 1);
		size_t len = pad + sizeof(filter_text) - 1;
		for (size_t cut = len; cut + 70 > len && cut > 0 && same; cut--) {
			same = same_findings(sc, scalar, buf, cut, &f, &g, total);
		}
	}
	policy_findings_free(&g);
	return same;
}

/* Texts that end where the next page is unreadable: the last block's
 * loads must not touch a byte past the text (the AVX-512 path masks
 * them, the AVX2 path copies), and the findings must be the scalar
 * path's. -1 when the pages cannot be set up. */
static int page_end_agrees(struct policy_scanner *scalar, size_t *total)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct policy_findings g;
	int same = 1;

	if (pg <= 0)
		return -1;
	unsigned char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m + pg, (size_t)pg, PROT_NONE) < 0) {
		munmap(m, 2 * (size_t)pg);
		return -1;
	}
	policy_findings_init(&g);
	*total = 0;
	size_t tl = sizeof(filter_text) - 1;
	for (size_t n = 1; n <= 200 && n <= tl && same; n++) {
		char *text = (char *)m + pg - n;
		memcpy(text, filter_text + tl - n, n);
		policy_findings_clear(&f);
		policy_findings_clear(&g);
		if (policy_scan_text(sc, text, n, &f) < 0 || policy_scan_text(scalar, text, n, &g) < 0 ||
		    f.n != g.n) {
			same = 0;
			break;
		}
		for (size_t i = 0; i < f.n; i++)
			if (f.v[i].start != g.v[i].start || f.v[i].end != g.v[i].end ||
			    f.v[i].detector != g.v[i].detector)
				same = 0;
		*total += f.n;
	}
	policy_findings_free(&g);
	munmap(m, 2 * (size_t)pg);
	return same;
}

/* Windows of 1-100 bytes (the gateway's messages are mostly 20-100)
 * at every offset of the texts below, each in a heap buffer of its
 * exact length: scanner a's findings must be scanner b's. Covers the
 * last-block paths of tiny texts (AVX2: one half for <= 32 bytes, a
 * 65-66-byte text's first block through the copy). */
static const char *const window_texts[] = {
	filter_text,
	/* special categories that count only through a given name up to
	 * ~60 bytes on: in a 65- or 66-byte window the name can start at
	 * byte 62 or 63, where the gate reads the first bytes past the
	 * block (a copy of 64 bytes instead of 66 lost both findings) */
	"Er war wegen Betrug im Gef\xc3\xa4ngnis und geht jetzt jeden Freitag in die Synagoge, "
	"sagt Ewa. Sie hat Diabetes, meint Eva. Gestern Asthma bei Anna.",
	/* person references at the ends of a term's sentence, in words,
	 * in other case, after a sentence end (looked up on demand) */
	"Asthma: ich. Ich? Asthma! Sieger hat Asthma. i have asthma, I have asthma; "
	"Diabetes hat sie.\n\xc3\x89l tiene asma. J'ai le diab\xc3\xa8te, moi. Mein Diabetes",
};

static int short_windows_agree(struct policy_scanner *a, struct policy_scanner *b, size_t *total)
{
	struct policy_findings fa, fb;
	int same = 1;

	policy_findings_init(&fa);
	policy_findings_init(&fb);
	*total = 0;
	for (size_t k = 0; k < sizeof(window_texts) / sizeof(window_texts[0]); k++)
		for (size_t off = 0, tl = strlen(window_texts[k]); off < tl && same; off++)
			for (size_t n = 1; n <= 100 && off + n <= tl && same; n++) {
				char *w = malloc(n);
				if (!w) {
					same = 0;
					break;
				}
				memcpy(w, window_texts[k] + off, n);
				same = same_findings(a, b, w, n, &fa, &fb, total);
				if (!same)
					tap_diag("window at %zu, %zu bytes: %zu against %zu findings", off, n, fa.n, fb.n);
				free(w);
			}
	policy_findings_free(&fa);
	policy_findings_free(&fb);
	return same;
}

/* Scanners a and b must find the same on the lines of the labelled
 * corpus files (every type of them, with its near-misses), as they are
 * and with each line mutated 8 times: a few bytes at or next to a byte
 * of class `at_class` (scan_is) changed to one of mutate_to (a
 * fixed-seed generator: the same texts every run). -1 when the corpus is
 * not there. */
static int corpus_agrees(struct policy_scanner *gated, struct policy_scanner *all,
			 const char *const *files, size_t n_files, unsigned at_class,
			 const char *mutate_to, size_t *lines, size_t *total)
{
	const char *srcdir = getenv("top_srcdir");
	size_t n_to = strlen(mutate_to);
	struct policy_findings fa, fb;
	unsigned seed = 20261124;
	char line[4096], path[1024];
	int same = 1;

	*lines = *total = 0;
	policy_findings_init(&fa);
	policy_findings_init(&fb);
	for (size_t k = 0; k < n_files && same; k++) {
		snprintf(path, sizeof(path), "%s/tests/data/pii/%s", srcdir ? srcdir : ".", files[k]);
		FILE *fp = fopen(path, "r");
		if (!fp) {
			same = -1;
			break;
		}
		while (same == 1 && fgets(line, sizeof(line), fp)) {
			size_t n = strlen(line);
			same = same_findings(gated, all, line, n, &fa, &fb, total);
			for (int m = 0; m < 8 && same; m++) {
				/* change a few digits or the bytes next to them */
				for (int c = 0; c < 3; c++) {
					seed = seed * 1103515245u + 12345u;
					size_t at = (seed >> 8) % n;
					while (at < n && !scan_is((unsigned char)line[at], at_class))
						at++;
					if (at == n)
						break;
					seed = seed * 1103515245u + 12345u;
					at += (seed >> 12) % 3;
					if (at > 0 && at < n)
						line[at - ((seed >> 20) & 1)] = mutate_to[(seed >> 16) % n_to];
				}
				same = same_findings(gated, all, line, n, &fa, &fb, total);
			}
			if (!same)
				tap_diag("%s: differs on %.*s", files[k], (int)n, line);
			(*lines)++;
		}
		fclose(fp);
	}
	policy_findings_free(&fa);
	policy_findings_free(&fb);
	return same;
}

/* The NUMBER gate (scan.c) calls a detector on a number run only where
 * the run can pass that detector's first tests; a scanner built with
 * POLICY_SCANNER_FLAG_NO_NUM_GATE calls every one. They must find the
 * same on the identifier lines, also with digits, separators and
 * capitals changed. */
static int num_gate_agrees(struct policy_scanner *gated, struct policy_scanner *all, size_t *lines,
			   size_t *total)
{
	static const char *const files[] = { "contact.jsonl", "financial.jsonl", "national_id.jsonl",
					     "scanner_heldout.jsonl" };
	return corpus_agrees(gated, all, files, sizeof(files) / sizeof(files[0]), SCAN_BYTE_DIGIT,
			     "0123456789 .-/+XYZABCDE", lines, total);
}

/* The special categories' person references are looked for only when a
 * term asks about its sentence (scan.c, lazyctx.h); a scanner built with
 * POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT records them in pass 1. They must
 * find the same on the special-category and person lines, also with
 * letters changed in case, to sentence ends and word breaks, and to the
 * letters that make pronouns ("ich" / "Ich" / "Sich", "I" / "i"). */
static int lazy_context_agrees(struct policy_scanner *lazy, struct policy_scanner *eager,
			       size_t *lines, size_t *total)
{
	static const char *const files[] = { "special.jsonl", "special_heldout.jsonl", "person.jsonl",
					     "person_heldout.jsonl" };
	return corpus_agrees(lazy, eager, files, sizeof(files) / sizeof(files[0]),
			     SCAN_BYTE_UPPER | SCAN_BYTE_LOWER, " .!?\n-'IiSsEeHhRrMm\xc3", lines, total);
}

/* A scanner built without one of the default scanner's shortcuts (flags)
 * against the default one: the same findings on the corpus (agrees, with
 * more than min_total findings) and in the short windows. */
static void shortcut_off_agrees(const struct detector *const *extra, unsigned flags,
				int (*agrees)(struct policy_scanner *, struct policy_scanner *, size_t *,
					      size_t *),
				const char *what, size_t min_total)
{
	char err[256];
	struct policy_scanner *off = policy_scanner_new_flags(extra, 1, flags, err, sizeof(err));
	size_t lines = 0, total = 0, wtotal = 0;
	int c = off ? agrees(sc, off, &lines, &total) : 0;
	int w = off && short_windows_agree(sc, off, &wtotal);

	if (c < 0)
		ok(1, "# SKIP %s on the corpus: tests/data/pii not found (set top_srcdir)", what);
	else
		ok(c && lines > 500 && total > min_total,
		   "%s: same findings on %zu corpus lines, 9 variants each (%zu)", what, lines, total);
	ok(w && wtotal > 1000, "%s: same findings in windows of 1-100 bytes (%zu)", what, wtotal);
	policy_scanner_free(off);
}

/* lazyctx_groups() on its own: word starts only, the window's ends
 * (hi past the text), case, word ends, stems, bytes >= 0x80 exact, and
 * words across its 64-byte steps. */
#define S10 "          "
#define S60 S10 S10 S10 S10 S10 S10
static void lazyctx_vectors(void)
{
	static const struct lazyctx_word words[] = {
		{ "ich", 3, DETECTOR_KW_WORD, 3 },
		{ "I", 1, DETECTOR_KW_WORD | DETECTOR_KW_CASE, 3 },
		{ "mein", 4, DETECTOR_KW_WORD_START, 5 },
		{ "j'", 2, DETECTOR_KW_WORD, 3 },
		{ "\xc3\x89l", 3, DETECTOR_KW_WORD, 3 },
	};
	static const struct {
		const char *text;
		size_t lo, hi;
		uint64_t want, found;
	} v[] = {
		{ "Ich habe", 0, 0, 0x28, 0x08 },
		{ "Ich habe", 1, 8, 0x28, 0 },          /* from inside the word */
		{ "sich", 0, 3, 0x28, 0 },
		{ "ich", 0, 100, 0x28, 0x08 },          /* hi past the end */
		{ "x Ich", 2, 2, 0x28, 0x08 },
		{ "x Ich", 3, 9, 0x28, 0 },
		{ "x Ich", 0, 1, 0x28, 0 },             /* starts after hi */
		{ "i have", 0, 5, 0x28, 0 },            /* "I" in exact case */
		{ "so I have", 0, 8, 0x28, 0x08 },
		{ "ichs", 0, 3, 0x28, 0 },              /* no word end */
		{ "Meinetwegen, ich", 0, 15, 0x28, 0x28 }, /* a stem, and a word */
		{ "Meinetwegen", 0, 10, 0x08, 0 },      /* not wanted */
		{ "j'ai", 0, 3, 0x28, 0 },              /* "j'" then a word byte */
		{ "j' ai", 0, 4, 0x28, 0x08 },
		{ "\xc3\x89l es", 0, 5, 0x28, 0x08 },
		{ "\xc3\xa9l es", 0, 5, 0x28, 0 },     /* UTF-8 is not folded */
		{ "", 0, 0, 0x28, 0 },
		{ "ich", 5, 9, 0x28, 0 },               /* lo past the end */
		{ S60 "  ich", 0, 99, 0x28, 0x08 },     /* bytes 62-64 */
		{ S60 "    ich!", 0, 99, 0x28, 0x08 },  /* from byte 64 */
		{ S60 "  ich", 10, 62, 0x28, 0x08 },
		{ S60 "  ich", 10, 61, 0x28, 0 },
		{ S60 "  ichs", 10, 99, 0x28, 0 },
		{ S60 "  ICH" S60 S60 "x", 0, 999, 0x28, 0x08 },
		{ S60 "   mein" "etwegen" S10 S10 S10 "x", 0, 999, 0x28, 0x20 },  /* a run of 48 */
		{ "x" S60 S60 "abc mein", 0, 999, 0x28, 0x20 },   /* in the third step */
		{ "ichich" S60 "ichich", 0, 999, 0x28, 0 },
	};
	struct lazyctx *lc = lazyctx_new(words, sizeof(words) / sizeof(words[0]));
	if (!ok(lc != NULL, "lazyctx table builds"))
		return;
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		uint64_t g = lazyctx_groups(lc, (const unsigned char *)v[k].text, strlen(v[k].text),
					   v[k].lo, v[k].hi, v[k].want);
		ok(g == v[k].found, "lazyctx \"%s\" [%zu, %zu]: groups 0x%llx (0x%llx)", v[k].text, v[k].lo,
		   v[k].hi, (unsigned long long)g, (unsigned long long)v[k].found);
	}
	lazyctx_free(lc);
}
#undef S60
#undef S10

#define CHECK(text, ...) ok(check(text, (const char *const[]){ __VA_ARGS__, NULL }), "%s", text)
#define NONE(text) ok(check(text, (const char *const[]){ NULL }), "nothing in: %s", text)

static const struct detector_keyword custom_kw[] = {
	{ "projekt falke", DETECTOR_KW_WORD | DETECTOR_KW_TRIGGER, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 },
};
static const struct detector custom = {
	"codename", ENTITY_BUILTIN_COUNT, DATA_CLASS_INTERNAL, 100, 0, custom_kw,
	detector_match_keyword, NULL, 0,
};

int main(void)
{
	char err[256];
	const struct detector *extra[] = { &custom };

	sc = policy_scanner_new(extra, 1, err, sizeof(err));
	if (!ok(sc != NULL, "scanner builds")) {
		tap_diag("%s", err);
		tap_done();
		return 1;
	}
	policy_findings_init(&f);

	CHECK("Bitte an max.mustermann@example.de schreiben.", "email", "max.mustermann@example.de");
	CHECK("Mail: anna-lena.o'brien+crm@mail.kunde-gmbh.co.uk, danke", "email",
	      "anna-lena.o'brien+crm@mail.kunde-gmbh.co.uk");
	NONE("Treffen @ 10 Uhr, siehe user@localhost und a@b.c");
	CHECK("Ruf mich an: +49 30 12345678 oder Tel. 030 1234567.", "phone", "+49 30 12345678",
	      "phone", "030 1234567");
	CHECK("Tel.: +49 (0)89 123456-78", "phone", "+49 (0)89 123456-78");
	NONE("Rechnung 0301234567 vom 01.02.2024 über 1.234,56 EUR");
	NONE("Bestellnummer 04711 2345 678, Lieferung am 12.03.2024");
	CHECK("Call me at (212) 555-0187 tomorrow.", "phone", "(212) 555-0187");
	/* 10 digits without '(' or trunk 0: the NUMBER gate's "first digit
	 * 2-9" row (an area code 2-9) */
	CHECK("phone 202.555.0187 or later", "phone", "202.555.0187");
	NONE("phone 102.555.0187 or later");
	CHECK("Server 192.168.10.23 und fe80::1ff:fe23:4567:890a sind down", "ip_address",
	      "192.168.10.23", "ip_address", "fe80::1ff:fe23:4567:890a");
	NONE("Version 1.2.3.4 ist raus; 10:30:00 Uhr; std::vector; 999.1.1.1");
	CHECK("MAC 00:1A:2B:3C:4D:5E am Switch", "mac_address", "00:1A:2B:3C:4D:5E");
	CHECK("IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX", "iban",
	      "DE89 3704 0044 0532 0130 00", "bic", "COBADEFFXXX");
	CHECK("Überweisung auf DE89370400440532013000 bitte.", "iban", "DE89370400440532013000");
	NONE("Konto DE89370400440532013001 (Tippfehler) und DEUTSCHE Bank");
	CHECK("Karte 4111 1111 1111 1111, gültig 12/27", "payment_card", "4111 1111 1111 1111");
	CHECK("Mastercard 2221526018159080 belastet", "payment_card", "2221526018159080");
	NONE("Auftrag 4111 1111 1111 1112 storniert");
	CHECK("USt-IdNr.: DE136695976", "vat_id", "DE136695976");
	CHECK("Steuer-ID 86 095 742 719 liegt vor", "de_tax_id", "86 095 742 719");
	CHECK("Ausweis T220001293", "de_id_card", "T220001293");
	CHECK("RVNR 65170839J003", "de_pension_number", "65170839J003");
	CHECK("Versichertennummer A123456780", "de_health_insurance_number", "A123456780");
	NONE("Artikel A123456780 ist nicht lieferbar");
	CHECK("SV-Nummer 1237 010180", "at_social_security_number", "1237 010180");
	/* without its word only the whole run of the free shape over ' '
	 * (the gate's NO_DOTS fact): not over '.' */
	CHECK("Bitte 1237 010180 eintragen", "at_social_security_number", "1237 010180");
	NONE("Bitte 1237.010180 eintragen");
	CHECK("NIR 2 91 07 94 685 356 45 ok", "fr_nir", "2 91 07 94 685 356 45");
	CHECK("NIR 1 59 06 2A 173 626 41", "fr_nir", "1 59 06 2A 173 626 41");
	CHECK("DNI 12345678Z y NIE X1234567L", "es_dni", "12345678Z", "es_nie", "X1234567L");
	/* runs of 4-8 digits: pass 1 records them only with a fact of the
	 * gate's hint for their count (three dots, a capital before or
	 * after, "X-" before, '+', trunk 0) */
	CHECK("Host 10.0.0.1 antwortet", "ip_address", "10.0.0.1");
	CHECK("DNI 12.345.678-Z y NIE X-1234567-L", "es_dni", "12.345.678-Z", "es_nie", "X-1234567-L");
	NONE("Am 31.03.2025 um 10.30 Uhr, 2025 Stück zu 1.234,56 EUR");
	/* six digits: the NIR's 2A/2B after one ' ', the NINO's prefix */
	CHECK("NIR 1 59 06 2 A 173 626 41", "fr_nir", "1 59 06 2 A 173 626 41");
	NONE("NIR 1 59 06 2.A 173 626 41 und 1 59 06 2 a 173 626 41");
	NONE("Kundennummer 123456, NI ab 12 34 56 C");
	CHECK("codice fiscale RSSMRA85T10A562S", "it_fiscal_code", "RSSMRA85T10A562S");
	CHECK("Mijn BSN is 111222333.", "nl_bsn", "111222333");
	NONE("Ordernummer 111222333 is verzonden.");
	CHECK("PESEL: 44051401359", "pl_pesel", "44051401359");
	CHECK("Rijksregisternummer 85.07.30-033.28", "be_national_number", "85.07.30-033.28");
	CHECK("NI number AB 12 34 56 C", "gb_nino", "AB 12 34 56 C");
	/* the ALNUM gate's first bytes (scan_alnum_first[]): a NIE's x in
	 * lower case, a compact NINO */
	CHECK("NIE x1234567L bitte", "es_nie", "x1234567L");
	CHECK("NI number AB123456C", "gb_nino", "AB123456C");
	CHECK("NHS number 943 476 5919", "gb_nhs_number", "943 476 5919");
	NONE("Reference 943 476 5919");
	CHECK("SSN 536-90-4399", "us_ssn", "536-90-4399");
	NONE("Order 536-90-4399");
	CHECK("Das Projekt Falke startet.", "custom", "Projekt Falke");

	/* appends after existing findings; sorted; errors fail closed */
	policy_findings_clear(&f);
	const char *t = "a@example.org b@example.org";
	ok(policy_scan_text(sc, t, strlen(t), &f) == 0 && f.n == 2 &&
	   policy_scan_text(sc, t, strlen(t), &f) == 0 && f.n == 4 && f.v[2].start == 0,
	   "findings are appended");
	ok(f.v[0].detector == (uint16_t)policy_scanner_find_detector(sc, "email") &&
	   policy_scanner_detector(sc, f.v[0].detector) != NULL, "detector index resolves");
	ok(policy_scanner_find_detector(sc, "nope") == -1, "unknown detector id");

	/* a bad custom detector is refused with a message */
	struct detector bad = custom;
	const struct detector *extra2[] = { &bad };
	bad.match = NULL;
	ok(policy_scanner_new(extra2, 1, err, sizeof(err)) == NULL && strstr(err, "codename"),
	   "detector without match refused: %s", err);

	/* both position filters agree (on a machine without AVX2 both are
	 * scalar and this only checks determinism) */
	struct policy_scanner *scalar = policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_SIMD,
								 err, sizeof(err));
	size_t total = 0;
	int agree = scalar && filter_paths_agree(scalar, &total);
	ok(agree && total > 64 * 70 * 10,
	   "SIMD and scalar position filters: same findings at every alignment (%zu)", total);
	policy_scanner_free(scalar);
	/* the AVX2 classification against the default one (AVX-512 where
	 * the CPU has it, else the same AVX2 path) */
	struct policy_scanner *avx2 = policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_AVX512,
							       err, sizeof(err));
	agree = avx2 && filter_paths_agree(avx2, &total);
	ok(agree && total > 64 * 70 * 10,
	   "AVX-512 and AVX2 classification: same findings at every alignment (%zu)", total);
	policy_scanner_free(avx2);
	/* the AVX-512 step without its VBMI in-word test against the default
	 * one (the same path where the CPU has no VBMI) */
	struct policy_scanner *novbmi = policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_VBMI,
								 err, sizeof(err));
	agree = novbmi && filter_paths_agree(novbmi, &total);
	ok(agree && total > 64 * 70 * 10,
	   "AVX-512 with and without VBMI: same findings at every alignment (%zu)", total);
	policy_scanner_free(novbmi);
	/* texts that end at an unreadable page, default and AVX2 paths
	 * against the scalar one */
	scalar = policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_SIMD, err, sizeof(err));
	avx2 = policy_scanner_new_flags(extra, 1, POLICY_SCANNER_FLAG_NO_AVX512, err, sizeof(err));
	int pe = scalar ? page_end_agrees(scalar, &total) : 0;
	ok(pe == 1 && total > 100, "text at a page end (default path): same findings, no fault (%zu)", total);
	struct policy_scanner *dflt = sc;
	sc = avx2;
	pe = scalar && avx2 ? page_end_agrees(scalar, &total) : 0;
	sc = dflt;
	ok(pe == 1 && total > 100, "text at a page end (AVX2 path): same findings, no fault (%zu)", total);
	/* tiny texts: default and AVX2 paths against the scalar one */
	pe = scalar && short_windows_agree(sc, scalar, &total);
	ok(pe && total > 1000, "windows of 1-100 bytes (default path): same findings as scalar (%zu)", total);
	pe = scalar && avx2 && short_windows_agree(avx2, scalar, &total);
	ok(pe && total > 1000, "windows of 1-100 bytes (AVX2 path): same findings as scalar (%zu)", total);
	policy_scanner_free(avx2);
	policy_scanner_free(scalar);

	/* the NUMBER gate against calling every NUMBER detector */
	shortcut_off_agrees(extra, POLICY_SCANNER_FLAG_NO_NUM_GATE, num_gate_agrees,
			    "NUMBER gate and every NUMBER detector", 2000);
	/* person references looked up on demand against recorded in pass 1 */
	shortcut_off_agrees(extra, POLICY_SCANNER_FLAG_NO_LAZY_CONTEXT, lazy_context_agrees,
			    "person references on demand and in pass 1", 500);

	lazyctx_vectors();

	/* empty and binary input */
	policy_findings_clear(&f);
	ok(policy_scan_text(sc, "", 0, &f) == 0 && f.n == 0, "empty text");
	char bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (char)i;
	ok(policy_scan_text(sc, bin, sizeof(bin), &f) == 0, "binary text scans");

	policy_findings_free(&f);
	policy_scanner_free(sc);
	tap_done();
	return tap_failed ? 1 : 0;
}
