/* People: person names, dates of birth, postal addresses.
 *
 * None of these has a checksum, so every rule needs context from the same
 * automaton pass: a salutation or title ("Herr", "Mme", "Sra."), a label
 * ("Name:", "Patient", "employee"), a closing formula before a signature
 * ("Mit freundlichen Grüßen\nMax Müller"), a given name from the lexicon
 * (lexicon_names.c) followed by a capitalised surname, a birth keyword
 * ("geb.", "DOB", "née le", "nato il") before a date, a street suffix
 * ("-straße", "-gasse", "Via", "rue") followed by number, postcode and town.
 *
 * Span conventions (the corpus uses the same): a name without its
 * salutation or title, the date without its keyword, the address from the
 * street to the town. */
#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/lexicon.h"
#include "policies/scan.h"

#include <string.h>
#include <strings.h>

#define KT  (DETECTOR_KW_TRIGGER)
#define KTC (DETECTOR_KW_TRIGGER | DETECTOR_KW_CASE)
#define KW  DETECTOR_KW_WORD

/* ---- name tokens ---- */

/* Length of the UTF-8 upper-case letter at p (Latin-1 supplement and
 * Latin Extended-A, which cover the seven languages), or 0. */
static size_t person_upper_at(const char *s, size_t len, size_t p)
{
	unsigned char c = (unsigned char)s[p];
	if (c >= 'A' && c <= 'Z')
		return 1;
	if (p + 1 >= len)
		return 0;
	unsigned char d = (unsigned char)s[p + 1];
	if (c == 0xc3 && d >= 0x80 && d <= 0x9e && d != 0x97)
		return 2;   /* U+00C0..U+00DE without U+00D7 */
	if (c == 0xc4 || c == 0xc5) {
		unsigned cp = ((c & 0x1fu) << 6) | (d & 0x3fu);
		if ((cp <= 0x137 && cp % 2 == 0) || (cp >= 0x139 && cp <= 0x148 && cp % 2 == 1) ||
		    (cp >= 0x14a && cp <= 0x177 && cp % 2 == 0) || cp == 0x178 || cp == 0x179 ||
		    cp == 0x17b || cp == 0x17d)
			return 2;
	}
	return 0;
}

static int person_lower_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* Capitalised words that follow titles or names but are not names,
 * sorted by (length, bytes) for person_is_stopword()'s binary search:
 * every name word candidate is looked up, and a scan of the whole list
 * (strlen and compare per entry) was 2 % of the scanner's instructions. */
struct person_word {
	const char *s;
	size_t n;
};
#define PW(w) { w, sizeof(w) - 1 }
static const struct person_word person_stopwords[] = {
	PW("E"), PW("Y"), PW("AG"), PW("Am"), PW("An"), PW("Co"), PW("El"), PW("Er"), PW("Es"),
	PW("Et"), PW("He"), PW("Hi"), PW("Il"), PW("Im"), PW("In"), PW("It"), PW("KG"),
	PW("La"), PW("Le"), PW("Lo"), PW("Of"), PW("Or"), PW("Un"), PW("We"), PW("Zu"),
	PW("And"), PW("Auf"), PW("Bei"), PW("Con"), PW("Das"), PW("Dem"), PW("Den"), PW("Der"),
	PW("Des"), PW("Die"), PW("Ein"), PW("For"), PW("Gli"), PW("Ich"), PW("Ihr"), PW("Inc"),
	PW("Las"), PW("Les"), PW("Los"), PW("Ltd"), PW("Mit"), PW("Per"), PW("Por"), PW("She"),
	PW("Sie"), PW("The"), PW("Una"), PW("Und"), PW("Von"), PW("Wir"), PW("You"),
	PW("Best"), PW("Cher"), PW("Ciao"), PW("Dank"), PW("Dear"), PW("Eine"), PW("Ende"),
	PW("Frau"), PW("From"), PW("GmbH"), PW("Herr"), PW("Hola"), PW("Ihre"), PW("Kind"),
	PW("Nach"), PW("Nous"), PW("Oder"), PW("Para"), PW("Sehr"), PW("Seit"), PW("Team"),
	PW("They"), PW("Vous"), PW("With"), PW("Bitte"), PW("Danke"), PW("Einen"), PW("Gruß"),
	PW("Hallo"), PW("Hello"), PW("Heute"), PW("Liebe"), PW("Mitte"), PW("Thank"),
	PW("Viele"), PW("Anfang"), PW("Chère"), PW("Friday"), PW("Lieber"), PW("Monday"),
	PW("Montag"), PW("Morgen"), PW("Sunday"), PW("Thanks"), PW("Bonjour"), PW("Freitag"),
	PW("Gentile"), PW("Grüße"), PW("Regards"), PW("Samstag"), PW("Service"), PW("Sonntag"),
	PW("Support"), PW("Tuesday"), PW("Customer"), PW("Dienstag"), PW("Estimada"),
	PW("Estimado"), PW("Mittwoch"), PW("Saturday"), PW("Thursday"), PW("Vertrieb"),
	PW("Abteilung"), PW("Wednesday"), PW("Buongiorno"), PW("Donnerstag"),
	PW("Kundenservice")
};

/* memcmp() for the few bytes of a word, without the call (the words
 * here are 1-15 bytes) */
static int person_bytes_cmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return 0;
}

static int person_is_stopword(const char *s, size_t n)
{
	size_t lo = 0, hi = sizeof person_stopwords / sizeof person_stopwords[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct person_word *w = &person_stopwords[mid];
		int c = w->n != n ? (w->n < n ? -1 : 1) : person_bytes_cmp(w->s, s, n);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* One capitalised name word at p ("Müller", "O'Brien", "Müller-Lüdenscheidt",
 * "McDonald"); returns its end or 0. At least one lower-case letter after
 * the capital: "GmbH" passes this test but is a stopword, "IBM" fails. */
static size_t person_name_word(const char *s, size_t len, size_t p)
{
	size_t u = p < len ? person_upper_at(s, len, p) : 0;
	if (!u)
		return 0;
	size_t q = p + u, lower = 0;
	while (q < len) {
		unsigned char c = (unsigned char)s[q];
		if (person_lower_byte(c)) {
			lower++;
			q++;
		} else if (c >= 'A' && c <= 'Z' && lower) {
			q++;   /* McDonald, DiCaprio */
		} else if ((c == '-' || c == '\'') && q + 1 < len && person_upper_at(s, len, q + 1)) {
			q += 1 + person_upper_at(s, len, q + 1);
			lower = 0;
		} else {
			break;
		}
	}
	if (!lower || (q < len && scan_is((unsigned char)s[q], SCAN_BYTE_DIGIT)))
		return 0;
	if (person_is_stopword(s + p, q - p))
		return 0;
	return q;
}

/* Lower-case particles inside a name: "von der Leyen", "da Silva",
 * "van den Berg". Those with follow_only only continue a chain (German
 * "der"/"den" alone are articles: "Herr der Ringe"). Each starts with an
 * ASCII lower-case letter (person_particle() turns everything else away
 * before the list: most calls are at capitals). Sorted by first letter:
 * person_particle_from[c - 'a'] .. person_particle_from[c - 'a' + 1] are
 * the ones that begin with c, so that a lower-case word after a name or
 * a street keyword ("im zweiten", "Thanks for") meets at most a few. */
static const struct person_particle_word {
	const char *s;
	size_t n;
	int follow_only;
} person_particles[] = {
#define PP(w, f) { w, sizeof(w) - 1, f }
	PP("al", 0), PP("bin", 0), PP("de", 0), PP("di", 0), PP("da", 0), PP("del", 0),
	PP("della", 0), PP("dei", 0), PP("degli", 0), PP("delle", 0), PP("dello", 0),
	PP("dos", 0), PP("das", 0), PP("du", 0), PP("der", 1), PP("den", 1), PP("le", 0),
	PP("la", 1), PP("los", 1), PP("las", 1), PP("ten", 0), PP("ter", 0), PP("von", 0),
	PP("van", 0), PP("zu", 0), PP("zum", 1), PP("zur", 1),
#undef PP
};
static const uint8_t person_particle_from[27] = {
	0, 1, 2, 2, 16, 16, 16, 16, 16, 16, 16, 16, 20,   /* a .. m */
	20, 20, 20, 20, 20, 20, 20, 22, 22, 24, 24, 24, 24, 27, /* n .. z, end */
};

static size_t person_particle(const char *s, size_t len, size_t p, int follow)
{
	unsigned c;
	if (p >= len || (c = (unsigned char)s[p] - (unsigned)'a') > 'z' - 'a')
		return 0;
	for (size_t i = person_particle_from[c]; i < person_particle_from[c + 1]; i++) {
		const struct person_particle_word *w = &person_particles[i];
		if (w->follow_only && !follow)
			continue;
		size_t m = w->n;
		if (len - p > m && s[p + m] == ' ' && person_bytes_cmp(s + p, w->s, m) == 0)
			return p + m + 1;
	}
	return 0;
}

static int person_particles_check(void)
{
	size_t n = sizeof person_particles / sizeof person_particles[0];
	if (person_particle_from[0] != 0 || person_particle_from[26] != n)
		return -1;
	for (unsigned c = 0; c < 26; c++)
		for (size_t i = person_particle_from[c]; i < person_particle_from[c + 1]; i++)
			if (i >= n || (unsigned char)person_particles[i].s[0] != 'a' + c)
				return -1;
	return 0;
}

int lexicon_person_tables_check(void)
{
	for (size_t i = 1; i < sizeof person_stopwords / sizeof person_stopwords[0]; i++) {
		const struct person_word *a = &person_stopwords[i - 1], *b = &person_stopwords[i];
		if (a->n > b->n || (a->n == b->n && memcmp(a->s, b->s, a->n) >= 0))
			return -1;
	}
	return person_particles_check();
}

/* A name of 1..max_words words starting at p, words separated by one space;
 * particles and middle initials ("Thomas J. Watson") may sit between words.
 * Returns the end or 0. */
static size_t person_name_run(const char *s, size_t len, size_t p, int max_words)
{
	size_t end = 0, q = p;
	int words = 0;
	while (q < len && words < max_words) {
		size_t r = q, pp;
		while ((pp = person_particle(s, len, r, r != q)) != 0)
			r = pp;
		size_t e = person_name_word(s, len, r);
		if (!e) {
			/* middle initial "J." followed by a word */
			if (words && r + 2 < len && person_upper_at(s, len, r) == 1 && s[r + 1] == '.' &&
			    s[r + 2] == ' ') {
				q = r + 3;
				continue;
			}
			break;
		}
		end = e;
		words++;
		if (e < len && s[e] == ' ')
			q = e + 1;
		else
			break;
	}
	return end;
}

/* Skips blanks (not newlines) from p. */
static size_t person_skip_blanks(const char *s, size_t len, size_t p)
{
	while (p < len && (s[p] == ' ' || s[p] == '\t'))
		p++;
	return p;
}

/* Academic and honorific titles that may follow a salutation. */
static const struct person_word person_titles[] = {
	PW("Dr. med. dent. "), PW("Dr. med. "), PW("Dr. rer. nat. "), PW("Dr. phil. "),
	PW("Dr.-Ing. "), PW("Dr. "), PW("Prof. "), PW("Dipl.-Ing. "), PW("Dipl.-Kfm. "),
	PW("Mag. "), PW("Ing. "), PW("Dott. "), PW("Dott.ssa "), PW("Avv. "), PW("Me "),
	PW("Maître "), PW("Sir "), PW("Dame "), PW("Lic. "),
};
/* Their first letters (bit c - 'A'): the list is only read at one of them. */
#define PERSON_UBIT(c) (1u << ((c) - 'A'))
#define PERSON_TITLE_FIRST (PERSON_UBIT('A') | PERSON_UBIT('D') | PERSON_UBIT('I') | \
			    PERSON_UBIT('L') | PERSON_UBIT('M') | PERSON_UBIT('P') | PERSON_UBIT('S'))

static size_t person_skip_titles(const char *s, size_t len, size_t p)
{
	for (int again = 1; again;) {
		again = 0;
		unsigned c;
		if (p >= len || (c = (unsigned char)s[p] - (unsigned)'A') > 'Z' - 'A' ||
		    !((PERSON_TITLE_FIRST >> c) & 1))
			break;
		for (size_t i = 0; i < sizeof person_titles / sizeof person_titles[0]; i++) {
			const struct person_word *w = &person_titles[i];
			if (w->s[0] != s[p])
				continue;
			size_t m = w->n;
			if (len - p >= m && memcmp(s + p, w->s, m) == 0) {
				p += m;
				again = 1;
				break;
			}
		}
	}
	return p;
}

/* ---- salutations and titles: "Herr Müller", "Mme Dubois", "Sra. García" ---- */

static const struct detector_keyword person_kw_title[] = {
	{ "Herr", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Herrn", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Frau", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Hr.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Fr.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Mr", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Mrs", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Ms", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Miss", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Dr", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Prof", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Professor", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Professorin", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "M.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Mme", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Mlle", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Monsieur", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Madame", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Sig.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Sig.ra", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Signor", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Signora", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Dott.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Dott.ssa", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Sr.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Sra.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Srta.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Se\xc3\xb1or", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Se\xc3\xb1ora", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Don", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Do\xc3\xb1" "a", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Dhr.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Mevr.", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_PERSON_TITLE },
	{ "Pan", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ "Pani", KTC | KW, SCAN_CONTEXT_PERSON_TITLE },
	{ NULL, 0, 0 }
};

static int person_match_title(const struct scan_input *in, const struct scan_trigger *t,
			      struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->end;
	/* "Mr." / "Dr." / "Prof." with the optional full stop */
	if (p < len && s[p] == '.' && s[p - 1] != '.')
		p++;
	if (p >= len || s[p] != ' ')
		return 0;
	p = person_skip_titles(s, len, p + 1);
	size_t e = person_name_run(s, len, p, 3);
	if (!e)
		return 0;
	return scan_add_finding(out, in, p, e, 0);
}

/* ---- labels and roles: "Name: Max Müller", "Patientin Schmidt" ---- */

static const struct detector_keyword person_kw_label[] = {
	{ "Name", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Vorname", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Nachname", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Full name", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Nom", KTC | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Nombre", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Apellidos", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Nome", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Cognome", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Ansprechpartner", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Ansprechpartnerin", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Kontaktperson", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Contact person", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Patient", KTC | KW, SCAN_CONTEXT_PATIENT },
	{ "Patientin", KTC | KW, SCAN_CONTEXT_PATIENT },
	{ "patient", KTC | KW, SCAN_CONTEXT_PATIENT },
	{ "patiente", KTC | KW, SCAN_CONTEXT_PATIENT },
	{ "paciente", KT | KW, SCAN_CONTEXT_PATIENT },
	{ "paziente", KT | KW, SCAN_CONTEXT_PATIENT },
	{ "Mitarbeiter", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Mitarbeiterin", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Kollege", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Kollegin", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "employee", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "colleague", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Bewerber", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Bewerberin", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "applicant", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "candidate", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "employ\xc3\xa9", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "employ\xc3\xa9" "e", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "coll\xc3\xa8gue", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "empleado", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "empleada", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "dipendente", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "collega", KT | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Kunde", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ "Kundin", KTC | KW, SCAN_CONTEXT_PERSON_REF },
	{ NULL, 0, 0 }
};

static int person_match_label(const struct scan_input *in, const struct scan_trigger *t,
			      struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = person_skip_blanks(s, len, t->end);
	if (p < len && s[p] == ':')
		p = person_skip_blanks(s, len, p + 1);
	else if (p == t->end)
		return 0;
	p = person_skip_titles(s, len, p);
	size_t e = person_name_run(s, len, p, 3);
	if (!e)
		return 0;
	/* "Name: Müller, Hans" */
	if (len - e > 2 && s[e] == ',' && s[e + 1] == ' ') {
		size_t e2 = person_name_run(s, len, e + 2, 2);
		if (e2 && (e2 >= len || s[e2] == '\n' || s[e2] == ',' || s[e2] == ';'))
			e = e2;
	}
	return scan_add_finding(out, in, p, e, 0);
}

/* ---- closing formulas before a signature ---- */

static const struct detector_keyword person_kw_signature[] = {
	{ "Mit freundlichen Gr\xc3\xbc\xc3\x9f" "en", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Freundliche Gr\xc3\xbc\xc3\x9f" "e", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Viele Gr\xc3\xbc\xc3\x9f" "e", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Beste Gr\xc3\xbc\xc3\x9f" "e", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Liebe Gr\xc3\xbc\xc3\x9f" "e", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Herzliche Gr\xc3\xbc\xc3\x9f" "e", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Gru\xc3\x9f", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Best regards", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Kind regards", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Regards", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Sincerely", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Yours sincerely", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Cheers", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Cordialement", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Bien \xc3\xa0 vous", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Salutations", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Saludos", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Un saludo", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Atentamente", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Cordiali saluti", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Distinti saluti", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Saluti", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ "Met vriendelijke groet", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	/* greetings and short closings: only followed by a given name from
	 * the lexicon ("Hi Ben", "VG Stefan"; not "Hello World") */
	{ "Hi", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Hallo", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Hello", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Hey", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Dear", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Liebe", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Lieber", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Bonjour", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Salut", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Hola", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Ciao", KTC | KW, SCAN_CONTEXT_NONE },
	{ "VG", KTC | KW, SCAN_CONTEXT_NONE },
	{ "LG", KTC | KW, SCAN_CONTEXT_NONE },
	{ "MfG", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Gr\xc3\xbc\xc3\x9f" "e", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Thanks", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Best", KTC | KW, SCAN_CONTEXT_NONE },
	{ "A presto", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Z powa\xc5\xbc" "aniem", KT | KW, SCAN_CONTEXT_PERSON_LABEL },
	{ NULL, 0, 0 }
};

static int person_match_signature(const struct scan_input *in, const struct scan_trigger *t,
				  struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->end;
	/* the common end at once: one space and a lower-case word that is
	 * no particle ("Thanks for the quick ...", "Grüßen aus München") is
	 * what the test below refuses, after the blanks and newlines it would
	 * skip (none) */
	if (p + 1 < len && s[p] == ' ') {
		unsigned c1 = (unsigned char)s[p + 1];
		if (c1 >= 'a' && c1 <= 'z' &&
		    (person_particle_from[c1 - 'a' + 1] == person_particle_from[c1 - 'a'] ||
		     !person_particle(s, len, p + 1, 0)))
			return 0;
	}
	if (p < len && (s[p] == ',' || s[p] == '!'))
		p++;
	/* the name follows on the next line (or, in chat, after ", ") */
	size_t q = person_skip_blanks(s, len, p);
	int nl = 0;
	while (q < len && (s[q] == '\n' || s[q] == '\r') && nl < 3) {
		if (s[q] == '\n')
			nl++;
		q = person_skip_blanks(s, len, q + 1);
	}
	if (!nl && q == p)
		return 0;
	/* a name starts with a capital (ASCII, or a UTF-8 lead byte) or a
	 * particle ("von", "de"); any other ASCII byte starts no title and
	 * no name ("Mit freundlichen Grüßen aus München", "Thanks for"):
	 * what person_skip_titles() and person_name_run() would find, without
	 * their calls */
	if (q >= len)
		return 0;
	unsigned char c = (unsigned char)s[q];
	if (c < 0x80 && !(c >= 'A' && c <= 'Z') &&
	    !(c >= 'a' && c <= 'z' && person_particle_from[c - 'a' + 1] > person_particle_from[c - 'a'] &&
	      person_particle(s, len, q, 0)))
		return 0;
	q = person_skip_titles(s, len, q);
	size_t e = person_name_run(s, len, q, 3);
	if (!e)
		return 0;
	/* a greeting (no context group) vouches only for a lexicon given name */
	if (in->det->keywords[t->keyword].context == SCAN_CONTEXT_NONE &&
	    !scan_context_near(in, SCAN_CONTEXT_GIVEN_NAME, q, q, 0, 0))
		return 0;
	return scan_add_finding(out, in, q, e, 0);
}

/* ---- a given name from the lexicon followed by a capitalised surname ---- */

static int person_match_given(const struct scan_input *in, const struct scan_trigger *t,
			      struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len;
	/* the given name must not continue into a longer word ("Annabell" is
	 * handled by WORD flags); a surname must follow */
	if (t->end >= len || s[t->end] != ' ')
		return 0;
	size_t e = person_name_run(s, len, t->end + 1, 2);
	if (!e)
		return 0;
	return scan_add_finding(out, in, t->start, e, 0);
}

/* ---- dates of birth ---- */

static const struct detector_keyword person_kw_dob[] = {
	{ "geb.", KT | DETECTOR_KW_WORD_START, SCAN_CONTEXT_DOB },
	{ "geboren", KT | KW, SCAN_CONTEXT_DOB },
	{ "Geburtsdatum", KT | KW, SCAN_CONTEXT_DOB },
	{ "Geb.-Datum", KT | DETECTOR_KW_WORD_START, SCAN_CONTEXT_DOB },
	{ "Geburtstag", KT | KW, SCAN_CONTEXT_DOB },
	{ "born", KT | KW, SCAN_CONTEXT_DOB },
	{ "DOB", KT | KW, SCAN_CONTEXT_DOB },
	{ "D.O.B.", KT | DETECTOR_KW_WORD_START, SCAN_CONTEXT_DOB },
	{ "date of birth", KT | KW, SCAN_CONTEXT_DOB },
	{ "birth date", KT | KW, SCAN_CONTEXT_DOB },
	{ "birthdate", KT | KW, SCAN_CONTEXT_DOB },
	{ "n\xc3\xa9", KT | KW, SCAN_CONTEXT_DOB },
	{ "n\xc3\xa9" "e", KT | KW, SCAN_CONTEXT_DOB },
	{ "date de naissance", KT | KW, SCAN_CONTEXT_DOB },
	{ "nacido", KT | KW, SCAN_CONTEXT_DOB },
	{ "nacida", KT | KW, SCAN_CONTEXT_DOB },
	{ "fecha de nacimiento", KT | KW, SCAN_CONTEXT_DOB },
	{ "nato", KT | KW, SCAN_CONTEXT_DOB },
	{ "nata", KT | KW, SCAN_CONTEXT_DOB },
	{ "data di nascita", KT | KW, SCAN_CONTEXT_DOB },
	{ "geboortedatum", KT | KW, SCAN_CONTEXT_DOB },
	{ "data urodzenia", KT | KW, SCAN_CONTEXT_DOB },
	{ NULL, 0, 0 }
};

/* Month names (prefixes of at least 3 letters also match: "Jan.", "Sept",
 * "févr."); UTF-8 as written. */
static const struct { const char *name; uint8_t month; } person_months[] = {
	{ "januar", 1 }, { "january", 1 }, { "janvier", 1 }, { "enero", 1 }, { "gennaio", 1 }, { "j\xc3\xa4nner", 1 },
	{ "februar", 2 }, { "february", 2 }, { "f\xc3\xa9vrier", 2 }, { "febrero", 2 }, { "febbraio", 2 },
	{ "m\xc3\xa4rz", 3 }, { "march", 3 }, { "mars", 3 }, { "marzo", 3 },
	{ "april", 4 }, { "avril", 4 }, { "abril", 4 }, { "aprile", 4 },
	{ "mai", 5 }, { "may", 5 }, { "mayo", 5 }, { "maggio", 5 },
	{ "juni", 6 }, { "june", 6 }, { "juin", 6 }, { "junio", 6 }, { "giugno", 6 },
	{ "juli", 7 }, { "july", 7 }, { "juillet", 7 }, { "julio", 7 }, { "luglio", 7 },
	{ "august", 8 }, { "ao\xc3\xbbt", 8 }, { "agosto", 8 },
	{ "september", 9 }, { "septembre", 9 }, { "septiembre", 9 }, { "settembre", 9 },
	{ "oktober", 10 }, { "october", 10 }, { "octobre", 10 }, { "octubre", 10 }, { "ottobre", 10 },
	{ "november", 11 }, { "novembre", 11 }, { "noviembre", 11 },
	{ "dezember", 12 }, { "december", 12 }, { "d\xc3\xa9" "cembre", 12 }, { "diciembre", 12 }, { "dicembre", 12 },
};

/* A month name at p; returns its end (with an abbreviation's '.') and sets
 * *month, or 0. */
static size_t person_month_at(const char *s, size_t len, size_t p, int *month)
{
	size_t q = p;
	while (q < len && (scan_is((unsigned char)s[q], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER | SCAN_BYTE_HIGH)))
		q++;
	size_t n = q - p;
	if (n < 3 || n > 10)
		return 0;
	unsigned char first = (unsigned char)(s[p] | 0x20);
	for (size_t i = 0; i < sizeof person_months / sizeof person_months[0]; i++) {
		if ((unsigned char)person_months[i].name[0] != first)
			continue;
		size_t m = strlen(person_months[i].name);
		/* full name, or an abbreviation of 3..m-1 letters ending in '.' */
		if (n > m || strncasecmp(s + p, person_months[i].name, n) != 0)
			continue;
		if (n < m && !(n >= 3 && q < len && s[q] == '.') && n != 3)
			continue;
		*month = person_months[i].month;
		return (n < m && q < len && s[q] == '.') ? q + 1 : q;
	}
	return 0;
}

static size_t person_digits(const char *s, size_t len, size_t p, int max, int *val)
{
	int v = 0, n = 0;
	while (p + (size_t)n < len && n < max + 1 && s[p + n] >= '0' && s[p + n] <= '9') {
		v = v * 10 + (s[p + n] - '0');
		n++;
	}
	if (n == 0 || n > max)
		return 0;
	*val = v;
	return (size_t)n;
}

static int person_valid_date(int d, int m, int y, int ydigits)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (ydigits == 4 && (y < 1900 || y > 2026))
		return 0;
	if (ydigits != 4 && ydigits != 2)
		return 0;
	if (m == 2 && d == 29 && ydigits == 4 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

/* A date at p in one of the usual forms; returns its end or 0.
 *   31.12.1985  31/12/1985  31-12-1985  31.12.85  1985-12-31
 *   31. Dezember 1985  31 December 1985  31st December 1985
 *   December 31, 1985  12 de marzo de 1985  1er mars 1985 */
static size_t person_date_at(const char *s, size_t len, size_t p)
{
	int d = 0, m = 0, y = 0;
	size_t n, q = p;
	if (p < len && s[p] >= '0' && s[p] <= '9') {
		if ((n = person_digits(s, len, q, 4, &d)) == 4) {
			/* ISO 8601: yyyy-mm-dd */
			y = d;
			q += 4;
			if (q >= len || s[q] != '-' || !(n = person_digits(s, len, q + 1, 2, &m)))
				return 0;
			q += 1 + n;
			if (q >= len || s[q] != '-' || !(n = person_digits(s, len, q + 1, 2, &d)))
				return 0;
			q += 1 + n;
			return person_valid_date(d, m, y, 4) ? q : 0;
		}
		if (!n || n > 2)
			return 0;
		q += n;
		if (q < len && (s[q] == '.' || s[q] == '/' || s[q] == '-') && q + 1 < len &&
		    s[q + 1] >= '0' && s[q + 1] <= '9') {
			char sep = s[q];
			if (!(n = person_digits(s, len, q + 1, 2, &m)))
				return 0;
			q += 1 + n;
			if (q >= len || s[q] != sep)
				return 0;
			size_t yn = person_digits(s, len, q + 1, 4, &y);
			if (yn != 2 && yn != 4)
				return 0;
			q += 1 + yn;
			if (person_valid_date(d, m, y, (int)yn))
				return q;
			/* US order "02/29/1988": month first, only with '/' and
			 * only when the day-first reading is impossible */
			return sep == '/' && person_valid_date(m, d, y, (int)yn) ? q : 0;
		}
		/* day, then a month name: "31. Dezember", "31 December",
		 * "31st", "1er", "12 de marzo de" */
		if (q < len && s[q] == '.')
			q++;
		else if (len - q >= 2 && (!strncasecmp(s + q, "st", 2) || !strncasecmp(s + q, "nd", 2) ||
					  !strncasecmp(s + q, "rd", 2) || !strncasecmp(s + q, "th", 2) ||
					  !strncasecmp(s + q, "er", 2)))
			q += 2;
		if (q >= len || s[q] != ' ')
			return 0;
		q++;
		if (len - q >= 3 && memcmp(s + q, "de ", 3) == 0)
			q += 3;
		size_t me = person_month_at(s, len, q, &m);
		if (!me)
			return 0;
		q = me;
		if (len - q >= 4 && memcmp(s + q, " de ", 4) == 0)
			q += 3;
		else if (len - q >= 5 && memcmp(s + q, " del ", 5) == 0)
			q += 4;
		if (q >= len || s[q] != ' ')
			return 0;
		size_t yn = person_digits(s, len, q + 1, 4, &y);
		if (yn != 4)
			return 0;
		q += 1 + yn;
		return person_valid_date(d, m, y, 4) ? q : 0;
	}
	/* "December 31, 1985" */
	size_t me = person_month_at(s, len, p, &m);
	if (!me || me >= len || s[me] != ' ')
		return 0;
	q = me + 1;
	if (!(n = person_digits(s, len, q, 2, &d)))
		return 0;
	q += n;
	if (len - q >= 2 && (!strncasecmp(s + q, "st", 2) || !strncasecmp(s + q, "nd", 2) ||
			     !strncasecmp(s + q, "rd", 2) || !strncasecmp(s + q, "th", 2)))
		q += 2;
	if (q < len && s[q] == ',')
		q++;
	if (q >= len || s[q] != ' ')
		return 0;
	size_t yn = person_digits(s, len, q + 1, 4, &y);
	if (yn != 4)
		return 0;
	q += 1 + yn;
	return person_valid_date(d, m, y, 4) ? q : 0;
}

/* The date follows the keyword within a short window ("geb. am", "born on",
 * "nato a Roma il", "DOB:"). A sentence end stops the search. */
#define PERSON_DOB_WINDOW 40

static int person_match_dob(const struct scan_input *in, const struct scan_trigger *t,
			    struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, lim = t->end + PERSON_DOB_WINDOW;
	if (lim > len)
		lim = len;
	for (size_t p = t->end; p < lim; p++) {
		unsigned char c = (unsigned char)s[p];
		/* a clause ends the search: "born out of feedback; it ships
		 * 22/11/2021", "geboren, als das Projekt am ..." */
		if (c == '\n' || c == ';' || c == ',' ||
		    ((c == '.' || c == '!' || c == '?') && p + 1 < len && s[p + 1] == ' ' &&
		     p > t->end && !scan_is((unsigned char)s[p - 1], SCAN_BYTE_DIGIT) && p - t->end > 3))
			break;
		if (p > 0 && scan_is((unsigned char)s[p - 1], SCAN_BYTE_WORD))
			continue;   /* only at word starts */
		if (!scan_is(c, SCAN_BYTE_WORD))
			continue;
		size_t e = person_date_at(s, len, p);
		if (e && !(e < len && scan_is((unsigned char)s[e], SCAN_BYTE_DIGIT)))
			return scan_add_finding(out, in, p, e, 0);
	}
	/* the date before the keyword: "wurde am 2. Januar 1943 geboren",
	 * "12.03.1985 geboren" (the date ends at most 4 bytes before) */
	size_t lo = t->start > PERSON_DOB_WINDOW ? t->start - PERSON_DOB_WINDOW : 0;
	for (size_t p = lo; p < t->start; p++) {
		if ((p > 0 && scan_is((unsigned char)s[p - 1], SCAN_BYTE_WORD)) ||
		    !scan_is((unsigned char)s[p], SCAN_BYTE_WORD))
			continue;
		size_t e = person_date_at(s, len, p);
		if (e && e <= t->start && t->start - e <= 4)
			return scan_add_finding(out, in, p, e, 0);
	}
	return 0;
}

/* ---- postal addresses (DE/AT/CH; IT/ES/FR street types too) ---- */

/* Street suffixes of German compounds ("Hauptstraße") and free-standing
 * street words ("Berliner Straße"). "-ring", "-markt" and "-kai" are left
 * out on purpose: as word endings they fire on every English "during",
 * "string", "offering" and cost more scan time than the few streets
 * ("Kaiserring") they would add. "Am Ring 5" is not covered either. */
static const struct detector_keyword person_kw_address[] = {
	{ "stra\xc3\x9f" "e", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "strasse", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "str.", KT, SCAN_CONTEXT_ADDRESS },
	{ "weg", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "gasse", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "platz", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "allee", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "damm", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "ufer", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "chaussee", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "steig", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "pfad", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	{ "graben", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_ADDRESS },
	/* German streets named by a preposition: "Am Stadtpark 4", "An der
	 * Alster 12", "Im Winkel 3"; parsed like the Italian "Via ..." */
	{ "Am", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Im", KTC | KW, SCAN_CONTEXT_NONE },
	{ "An der", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Auf der", KTC | KW, SCAN_CONTEXT_NONE },
	{ "In der", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Zum", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Zur", KTC | KW, SCAN_CONTEXT_NONE },
	{ "Via", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Viale", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Piazza", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Corso", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Calle", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Avenida", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Plaza", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "Paseo", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "C/", KTC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_ADDRESS },
	{ "rue", KT | KW, SCAN_CONTEXT_ADDRESS },
	{ "avenue", KT | KW, SCAN_CONTEXT_ADDRESS },
	{ "boulevard", KT | KW, SCAN_CONTEXT_ADDRESS },
	{ "place", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "all\xc3\xa9" "e", KTC | KW, SCAN_CONTEXT_ADDRESS },
	{ "chemin", KT | KW, SCAN_CONTEXT_ADDRESS },
	{ NULL, 0, 0 }
};

/* House number: "12", "12a", "12 a", "12-14", "12/3". Returns end or 0. */
static size_t person_house_number(const char *s, size_t len, size_t p)
{
	int v;
	size_t n = person_digits(s, len, p, 4, &v);
	if (!n || v == 0)
		return 0;
	p += n;
	if (p < len && (s[p] == '-' || s[p] == '/') && p + 1 < len && s[p + 1] >= '0' && s[p + 1] <= '9') {
		n = person_digits(s, len, p + 1, 4, &v);
		if (n)
			p += 1 + n;
	}
	if (p < len && s[p] >= 'a' && s[p] <= 'z' && !(p + 1 < len && scan_is((unsigned char)s[p + 1], SCAN_BYTE_WORD)))
		p++;
	if (p < len && scan_is((unsigned char)s[p], SCAN_BYTE_WORD))
		return 0;
	return p;
}

/* ", 10115 Berlin", "\n1010 Wien", " D-80331 München", ", CH-8001 Zürich",
 * "; 00184 Roma". Returns the town's end or 0. */
static size_t person_postcode_town(const char *s, size_t len, size_t p)
{
	if (p < len && (s[p] == ',' || s[p] == ';'))
		p++;
	size_t q = p;
	while (q < len && (s[q] == ' ' || s[q] == '\n' || s[q] == '\r' || s[q] == '\t') && q - p < 4)
		q++;
	if (q == p && !(p > 0 && s[p - 1] == ','))
		return 0;
	static const char *const cc[] = { "D-", "A-", "CH-", "I-", "E-", "F-", "DE-", "AT-", NULL };
	for (size_t i = 0; cc[i]; i++) {
		size_t m = strlen(cc[i]);
		if (len - q > m && memcmp(s + q, cc[i], m) == 0) {
			q += m;
			break;
		}
	}
	int v;
	size_t n = person_digits(s, len, q, 5, &v);
	if (n != 4 && n != 5)
		return 0;
	q += n;
	if (q >= len || s[q] != ' ')
		return 0;
	size_t e = person_name_run(s, len, q + 1, 1);
	if (!e)
		return 0;
	/* "Frankfurt am Main", "Halle (Saale)", "Rothenburg ob der Tauber" */
	static const char *const tails[] = { " am ", " an der ", " ob der ", " im ", " in ", " bei ", NULL };
	for (size_t i = 0; tails[i]; i++) {
		size_t m = strlen(tails[i]);
		if (len - e > m && memcmp(s + e, tails[i], m) == 0) {
			size_t e2 = person_name_word(s, len, e + m);
			if (e2)
				e = e2;
			break;
		}
	}
	if (len - e > 2 && s[e] == ' ' && s[e + 1] == '(') {
		size_t e2 = person_name_word(s, len, e + 2);
		if (e2 && e2 < len && s[e2] == ')')
			e = e2 + 1;
	}
	return e;
}

/* Whether the street words after a capitalised street type ("Via", "Am")
 * from q on can lead to a house number, by their first bytes only: the
 * words are separated by single spaces, each begins a name (a capital or
 * a byte >= 0x80), a particle (a lower-case letter some particle begins
 * with) or "n. "; the first word that begins with a digit ends them. A
 * word that begins otherwise ("Im Anhang finden Sie") ends the rule
 * without a finding wherever it stands before that digit: person_name_word()
 * and person_particle() refuse it, and the house number needs a digit.
 * 1 also when undecided (end of text, many words): the full rule decides. */
static int person_street_words_possible(const char *s, size_t len, size_t q)
{
	for (int w = 0; w < 16 && q < len; w++) {
		unsigned c = (unsigned char)s[q];
		if (c >= '0' && c <= '9')
			return 1;
		if (!((c >= 'A' && c <= 'Z') || c >= 0x80 || c == 'n' ||
		      (c >= 'a' && c <= 'z' &&
		       person_particle_from[c - 'a' + 1] > person_particle_from[c - 'a'])))
			return 0;
		while (q < len && s[q] != ' ')
			q++;
		q++;
	}
	return 1;
}

static int person_match_address(const struct scan_input *in, const struct scan_trigger *t,
				 struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, start = t->start, p = t->end;
	/* the keyword's spelling tells the family: capitalised street types
	 * come first (IT/ES), lower-case "rue"-like ones after the number (FR),
	 * the rest are German suffixes */
	const char *kw = in->det->keywords[t->keyword].word;
	int prefix_type = kw[0] >= 'A' && kw[0] <= 'Z';
	int french = 0;
	static const char *const fr[] = { "rue", "avenue", "boulevard", "chemin", "place", "all\xc3\xa9" "e", NULL };
	/* (all lower case: a capitalised street type is none of them) */
	for (size_t i = 0; !prefix_type && fr[i]; i++)
		if (kw[0] == fr[i][0] && strcmp(kw, fr[i]) == 0)
			french = 1;
	if (french) {
		/* "12 rue de la Paix, 75002 Paris", "3 bis, avenue Foch" */
		size_t b = t->start;
		if (b >= 2 && s[b - 1] == ' ' && s[b - 2] == ',')
			b--;
		if (b < 2 || s[b - 1] != ' ')
			return 0;
		b--;
		if (b >= 4 && memcmp(s + b - 4, " bis", 4) == 0)
			b -= 4;
		if (b > 0 && s[b - 1] == ',')
			b--;
		size_t d = b;
		while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9' && b - d < 4)
			d--;
		if (d == b || (d > 0 && scan_is((unsigned char)s[d - 1], SCAN_BYTE_WORD)))
			return 0;
		start = d;
		/* street name up to the comma: words and particles */
		size_t q = p;
		while (q < len && q - p < 60 && s[q] != ',' && s[q] != '\n')
			q++;
		if (q >= len || q == p)
			return 0;
		size_t e = person_postcode_town(s, len, q);
		if (!e)
			return 0;
		return scan_add_finding(out, in, start, e, 0);
	}
	if (prefix_type) {
		/* "Via Giuseppe Verdi 12, 20121 Milano", "Calle Mayor 5, 28013 Madrid" */
		if (p >= len || s[p] != ' ')
			return 0;
		size_t q = p + 1;
		int words = 0;
		if (!person_street_words_possible(s, len, q))
			return 0;
		while (q < len && words < 6) {
			size_t r = q, pp;
			while ((pp = person_particle(s, len, r, r != q)) != 0)
				r = pp;
			/* "dell'Indipendenza", "de la" */
			if (len - r > 5 && s[r] == 'd' && !person_bytes_cmp(s + r, "dell'", 5))
				r += 5;
			size_t e = person_name_word(s, len, r);
			if (!e && r < len && s[r] >= '0' && s[r] <= '9' && words)
				break;
			if (!e)
				return 0;
			words++;
			if (e >= len || s[e] != ' ')
				return 0;
			q = e + 1;
		}
		if (len - q > 4 && !memcmp(s + q, "n. ", 3))
			q += 3;
		size_t h = person_house_number(s, len, q);
		if (!h)
			return 0;
		size_t e = person_postcode_town(s, len, h);
		if (!e)
			return 0;
		return scan_add_finding(out, in, start, e, 0);
	}
	/* German: the suffix ends a compound ("Hauptstraße") or is its own word
	 * after an adjective ("Berliner Straße", "Am Alten Markt") */
	while (start > 0 && (person_lower_byte((unsigned char)s[start - 1]) ||
			     scan_is((unsigned char)s[start - 1], SCAN_BYTE_UPPER) || s[start - 1] == '-'))
		start--;
	if (!person_upper_at(s, len, start))
		return 0;
	if (start == t->start) {
		/* "Straße" alone: include the word before ("Berliner Straße") */
		size_t b = start;
		if (b >= 2 && s[b - 1] == ' ') {
			size_t w = b - 1;
			while (w > 0 && (person_lower_byte((unsigned char)s[w - 1]) ||
					 scan_is((unsigned char)s[w - 1], SCAN_BYTE_UPPER) || s[w - 1] == '-'))
				w--;
			if (w < b - 1 && person_upper_at(s, len, w))
				start = w;
			else
				return 0;
		} else {
			return 0;
		}
	}
	if (p >= len || s[p] != ' ')
		return 0;
	size_t h = person_house_number(s, len, p + 1);
	if (!h)
		return 0;
	size_t e = person_postcode_town(s, len, h);
	if (!e)
		return 0;
	return scan_add_finding(out, in, start, e, 0);
}

#define C DATA_CLASS_CONFIDENTIAL
const struct detector detect_person_table[] = {
	{ .id = "person_title", .entity = ENTITY_PERSON, .data_class = C, .confidence = 85, .shapes = 0,
	  .keywords = person_kw_title, .match = person_match_title, .arg = NULL },
	{ .id = "person_label", .entity = ENTITY_PERSON, .data_class = C, .confidence = 80, .shapes = 0,
	  .keywords = person_kw_label, .match = person_match_label, .arg = NULL },
	{ .id = "person_signature", .entity = ENTITY_PERSON, .data_class = C, .confidence = 75, .shapes = 0,
	  .keywords = person_kw_signature, .match = person_match_signature, .arg = NULL },
	{ .id = "person_given_name", .entity = ENTITY_PERSON, .data_class = C, .confidence = 70, .shapes = 0,
	  .keywords = lexicon_given_names, .match = person_match_given, .arg = NULL },
	{ .id = "date_of_birth", .entity = ENTITY_DATE_OF_BIRTH, .data_class = C, .confidence = 85, .shapes = 0,
	  .keywords = person_kw_dob, .match = person_match_dob, .arg = NULL },
	{ .id = "postal_address", .entity = ENTITY_POSTAL_ADDRESS, .data_class = C, .confidence = 85, .shapes = 0,
	  .keywords = person_kw_address, .match = person_match_address, .arg = NULL },
};
#undef C
const size_t detect_person_count = sizeof detect_person_table / sizeof detect_person_table[0];
