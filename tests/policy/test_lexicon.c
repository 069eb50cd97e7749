/* Valid and invalid vectors for the lexicon detectors: person names, dates
 * of birth, postal addresses, secrets, GDPR Art. 9/10 special categories.
 * Each vector runs through the real scanner (policy_scanner_new), so the
 * keywords, the automaton and the overlap resolution are exercised too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/lexicon.h"
#include "policies/scan.h"
#include "tests/tap.h"

/* A vector: in `text`, entity `entity` must be found exactly on `want`
 * (a substring of text), or, when want is NULL, not at all. */
struct lexicon_vector {
	const char *entity;
	const char *text;
	const char *want;
};

#define PEM_RSA \
	"-----BEGIN RSA PRIVATE KEY-----\n" \
	"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" \
	"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n" \
	"-----END RSA PRIVATE KEY-----"
/* header {"alg":"HS256","typ":"JWT"}, payload {"sub":"1234567890"} */
#define JWT_OK "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
#define AZURE_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static const struct lexicon_vector lexicon_vectors[] = {
	/* person: salutations, titles, labels, signatures, given names */
	{ "person", "Bitte rufen Sie Herrn Dr. Thomas Weber morgen an.", "Thomas Weber" },
	{ "person", "Sehr geehrte Frau Schneider-Lüdenscheid, vielen Dank.", "Schneider-Lüdenscheid" },
	{ "person", "Please forward this to Mr. O'Brien before Friday.", "O'Brien" },
	{ "person", "Rendez-vous avec Mme Lefèvre à 10h.", "Lefèvre" },
	{ "person", "La Sra. García de la Vega llamó ayer.", "García de la Vega" },
	{ "person", "Il Dott. Rossi ha confermato.", "Rossi" },
	{ "person", "Name: Müller, Hans\nAbteilung: Einkauf", "Müller, Hans" },
	{ "person", "Mit freundlichen Grüßen\nKatharina Vogel", "Katharina Vogel" },
	{ "person", "Best regards,\nJonathan Pryce", "Jonathan Pryce" },
	{ "person", "Gestern hat Anna Schmidt den Vertrag unterschrieben.", "Anna Schmidt" },
	{ "person", "Ich habe mit Ursula von der Leyen gesprochen.", "Ursula von der Leyen" },
	{ "person", "Die Patientin Kowalski wurde entlassen.", "Kowalski" },
	{ "person", "Die Frau am Empfang war freundlich.", NULL },
	{ "person", "Der Herr der Ringe läuft heute.", NULL },
	{ "person", "Anna hat angerufen.", NULL },
	{ "person", "Mit freundlichen Grüßen\nIhr Vertriebsteam", NULL },
	{ "person", "Die Maria Hilf Apotheke", "Maria Hilf Apotheke" },   /* a known false positive: shop names */
	{ "person", "Hi Ben, kannst du kurz drüberschauen?", "Ben" },      /* greeting + lexicon name */
	{ "person", "Hello World, this is my first program.", NULL },   /* greeting, no given name */
	{ "person", "VG Stefan", "Stefan" },
	/* the ends of detect_person.c's sorted particle and stopword tables */
	{ "person", "Bitte an Herrn Khalid bin Salman weiterleiten.", "Khalid bin Salman" },
	{ "person", "Sehr geehrter Herr Peter von zur Mühlen,", "Peter von zur Mühlen" },
	{ "person", "Frau Fatima al Hassan hat angerufen.", "Fatima al Hassan" },
	{ "person", "Herr Vincent van Gogh malt.", "Vincent van Gogh" },
	{ "person", "Mit freundlichen Grüßen\nKundenservice", NULL },
	{ "person", "Termin mit Herrn Wednesday", NULL },
	/* dates of birth */
	{ "date_of_birth", "Frau Berger, geb. 12.03.1985, wohnt in Köln.", "12.03.1985" },
	{ "date_of_birth", "Patient born on March 4, 1979 in Leeds.", "March 4, 1979" },
	{ "date_of_birth", "DOB: 1990-07-21", "1990-07-21" },
	{ "date_of_birth", "Née le 3 février 1964 à Lyon.", "3 février 1964" },
	{ "date_of_birth", "Nacida el 12 de marzo de 1985 en Sevilla.", "12 de marzo de 1985" },
	{ "date_of_birth", "Nato a Roma il 05/11/1972.", "05/11/1972" },
	{ "date_of_birth", "Geburtsdatum: 31.02.1985", NULL },   /* no 31 February */
	{ "date_of_birth", "Rechnungsdatum: 12.03.2024", NULL },
	{ "date_of_birth", "geboren wird das Projekt am Montag", NULL },
	{ "date_of_birth", "geb. 29.02.1988", "29.02.1988" },     /* leap year */
	{ "date_of_birth", "geb. 29.02.1989", NULL },             /* not a leap year */
	{ "date_of_birth", "geb. 07.08.64 in Gera", "07.08.64" }, /* two-digit year */
	{ "date_of_birth", "DOB: 1890-01-01", NULL },             /* before 1900 */
	{ "date_of_birth", "born 31st December 1999 in York", "31st December 1999" },
	{ "date_of_birth", "Sie wurde am 2. Januar 1943 geboren.", "2. Januar 1943" },
	{ "date_of_birth", "born out of feedback; it ships 22/11/2021", NULL },
	{ "date_of_birth", "Patient DOB 02/29/1988, allergies: none.", "02/29/1988" }, /* US order */
	{ "date_of_birth", "DOB 13/13/1988", NULL },
	/* postal addresses */
	{ "postal_address", "Lieferung an Hauptstraße 12, 10115 Berlin bitte.", "Hauptstraße 12, 10115 Berlin" },
	{ "postal_address", "Anschrift: Berliner Straße 5a, D-60311 Frankfurt am Main", "Berliner Straße 5a, D-60311 Frankfurt am Main" },
	{ "postal_address", "Wohnhaft Mariahilfer Str. 45, 1060 Wien.", "Mariahilfer Str. 45, 1060 Wien" },
	{ "postal_address", "Büro: Bahnhofplatz 3\n8001 Zürich", "Bahnhofplatz 3\n8001 Zürich" },
	{ "postal_address", "Sede in Via Giuseppe Verdi 12, 20121 Milano.", "Via Giuseppe Verdi 12, 20121 Milano" },
	{ "postal_address", "Domicilio: Calle Mayor 5, 28013 Madrid", "Calle Mayor 5, 28013 Madrid" },
	{ "postal_address", "Adresse : 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris" },
	{ "postal_address", "Die Hauptstraße ist gesperrt.", NULL },
	{ "postal_address", "Auf dem Heimweg 2024 war viel los.", NULL },
	{ "postal_address", "Der Ring 5 ist noch frei.", NULL },
	{ "postal_address", "Firma: Seestrasse 18, CH-8002 Zürich", "Seestrasse 18, CH-8002 Zürich" },
	{ "postal_address", "Hauptstraße 12 10115 Berlin", "Hauptstraße 12 10115 Berlin" }, /* blank as separator */
	{ "postal_address", "Hauptstraße 12, 123456 Berlin", NULL }, /* no such postcode */
	{ "postal_address", "Lieferung an Am Stadtpark 4, 90409 Nürnberg", "Am Stadtpark 4, 90409 Nürnberg" },
	{ "postal_address", "Am Montag 5 Leute, 12 Stühle.", NULL },
	{ "postal_address", "Residente in Via dei Fiori 3, 40121 Bologna.", "Via dei Fiori 3, 40121 Bologna" },
	/* secrets */
	{ "private_key", "key:\n" PEM_RSA "\nthanks", PEM_RSA },
	{ "private_key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----", NULL },
	{ "private_key", "Paste it as -----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----", NULL },
	{ "jwt", "Authorization: Bearer " JWT_OK, JWT_OK },
	{ "jwt", "eyJub3Rqc29uIjoxfQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", NULL }, /* no "alg" */
	{ "aws_access_key", "aws_access_key_id = AKIAZ7Q2LRX4M5N6P3QW", "AKIAZ7Q2LRX4M5N6P3QW" },
	{ "aws_access_key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", NULL },
	{ "aws_access_key", "AKIA1234", NULL },
	{ "github_token", "token ghp_R8zT4kLm2QwX9vB7nJ3pY6cH1sD5fG0aE4uK", "ghp_R8zT4kLm2QwX9vB7nJ3pY6cH1sD5fG0aE4uK" },
	{ "github_token", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL },
	{ "gitlab_token", "GITLAB_TOKEN=glpat-Xk3m9QpL2vR7tY1wZ8bN", "glpat-Xk3m9QpL2vR7tY1wZ8bN" },
	{ "slack_token", "xoxb-2817364590-4829103746-aB3dE5fG7hJ9kL1mN3pQ5rS7", "xoxb-2817364590-4829103746-aB3dE5fG7hJ9kL1mN3pQ5rS7" },
	{ "openai_key", "OPENAI_API_KEY=sk-proj-Hq7Lm2Xz9Rt4Vb1Nc8Kp3Wd6Ys0Fg5Je2Ua7Ti9Ob4", "sk-proj-Hq7Lm2Xz9Rt4Vb1Nc8Kp3Wd6Ys0Fg5Je2Ua7Ti9Ob4" },
	{ "openai_key", "pip install sk-learn-extensions-toolkit-for-everyone", NULL },
	{ "google_api_key", "key=AIzaSyD3kF9mQ2xL7pR4tV8wB1nC6hJ0sE5gU2y", "AIzaSyD3kF9mQ2xL7pR4tV8wB1nC6hJ0sE5gU2y" },
	{ "azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" AZURE_KEY ";EndpointSuffix=core.windows.net", AZURE_KEY },
	{ "azure_storage_key", "AccountKey=<your-key>;", NULL },
	{ "password", "DATABASE_URL=postgres://app:Tr0ub4dor&3x@dbhost:5432/app", "Tr0ub4dor&3x" },
	{ "password", "postgres://app:${DB_PASSWORD}@db.internal/app", NULL },
	{ "password", "Server=sql1;User Id=sa;Password=Sommer2024!;", "Sommer2024!" },
	{ "password", "Das Passwort: \"K8#mq!2zLp\" bitte ändern.", "K8#mq!2zLp" },
	{ "password", "password=changeme", NULL },
	{ "password", "Passwort: vergessen? Klicken Sie hier.", NULL },
	{ "password", "password: ********", NULL },
	{ "generic_secret", "client_secret: 9fK2xQ7mL4vP8rT1wZ6bN3cH5jD0sG", "9fK2xQ7mL4vP8rT1wZ6bN3cH5jD0sG" },
	{ "generic_secret", "secret: production-cluster-name", NULL },
	{ "generic_secret", "token: <insert token here>", NULL },
	{ "github_token", "github_pat_11ABCDEFG0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "github_pat_11ABCDEFG0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ" },
	{ "slack_token", "xoxb-your-token-here", NULL },
	{ "openai_key", "key sk-Zq8Xv2Lm4Np6Rt8Wy1Bc3Df5Gh7Jk9Ms2Qu4Ve6Xg8Ah0Cj2El4 ok", "sk-Zq8Xv2Lm4Np6Rt8Wy1Bc3Df5Gh7Jk9Ms2Qu4Ve6Xg8Ah0Cj2El4" },
	{ "openai_key", "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL },
	{ "google_api_key", "key=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", NULL },
	{ "private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----" },
	{ "password", "Le mot de passe est \"Fromage#42x\".", "Fromage#42x" },
	{ "generic_secret", "api_key = \"${API_KEY}\"", NULL },
	{ "generic_secret", "token: 1234567890123456", NULL },     /* digits only: an id */
	/* special categories: about a person or not */
	{ "health", "Meine Tochter hat seit 2019 Diabetes.", "Diabetes" },
	{ "health", "Herr Krause ist seit März krankgeschrieben.", "krankgeschrieben" },
	{ "health", "She was diagnosed with breast cancer last year.", "diagnosed with" },
	{ "health", "Diagnose der Patientin: ICD-10 F32.1", "F32.1" },
	{ "health", "The hospital's IT budget for diabetes research grows.", NULL },
	{ "health", "Der ICD-10-Code E11 bezeichnet Diabetes mellitus Typ 2.", NULL },
	{ "religion", "Mon collègue est musulman et fait le ramadan.", "musulman" },
	{ "religion", "Die katholische Kirche feiert Ostern.", NULL },
	{ "political_opinion", "Er ist seit 2015 Parteimitglied der SPD.", "Parteimitglied" },
	{ "political_opinion", "Die SPD hat den Haushalt beschlossen.", NULL },
	{ "trade_union", "Ich bin Mitglied der IG Metall.", "IG Metall" },
	{ "trade_union", "Gewerkschaftstarif für 2025 veröffentlicht.", NULL },
	{ "ethnic_origin", "Sie hat einen Migrationshintergrund.", "Migrationshintergrund" },
	{ "sexual_orientation", "My colleague told me he is gay.", "gay" },
	{ "sexual_orientation", "The report covers sexual orientation statistics in the EU.", NULL },
	{ "genetic", "Ihr Gentest zeigte eine BRCA1-Mutation.", "Gentest" },
	{ "biometric", "Wir speichern seinen Fingerabdruck für die Zeiterfassung.", "Fingerabdruck" },
	{ "criminal", "Der Bewerber ist vorbestraft.", "vorbestraft" },
	{ "criminal", "Das Gefängnis wird renoviert.", NULL },
	{ "health", "Meine Mutter hatte Brustkrebs.", "Brustkrebs" },         /* compound */
	{ "health", "Ich bin seit gestern arbeitsunfähig.", "arbeitsunfähig" },
	{ "health", "Diagnose: E11.9G bei meinem Vater", "E11.9G" },          /* ICD-10-GM certainty */
	{ "health", "Mein Sohn hat ICD-10 U07.1", NULL },                     /* U is reserved */
	{ "political_opinion", "ich mag die spd nicht", NULL },              /* acronyms in capitals only */
	{ "trade_union", "Ich lese den Gewerkschaftstarif.", NULL },          /* suffix too long */
	{ "sexual_orientation", "Él es gay.", "gay" },                        /* capital UTF-8 pronoun */
	{ "religion", "Er ist Christian Weber.", NULL },
	{ "health", "Tengo asma desde pequeño.", "asma" },
	{ "biometric", "I replaced the fingerprint sensor on his laptop.", NULL }, /* a thing's modifier */
	{ "biometric", "His fingerprint unlocks the door.", "fingerprint" },
	{ "health", "Ich teste unsere Diabetes-Software.", NULL },
	{ "political_opinion", "Ich habe die SPD-Pressemitteilung gelesen.", NULL },
	{ "religion", "Er ist Zeuge Jehovas.", "Zeuge Jehovas" },                     /* a given name, not a belief */
	/* party names filed under their second word, "die " tested before it */
	{ "political_opinion", "Ich w\xc3\xa4hle seit Jahren die Gr\xc3\xbcnen.", "die Gr\xc3\xbcnen" },
	{ "political_opinion", "Er ist Mitglied in Die Linke.", "Die Linke" },
	{ "political_opinion", "Sie w\xc3\xa4hlt DIE LINKE.", "DIE LINKE" },
	{ "political_opinion", "Er: die Linke", "die Linke" },
	{ "political_opinion", "Sie findet die Studie linke Politik gut.", NULL },   /* "die" inside a word */
	{ "political_opinion", "Sie w\xc3\xa4hlte xdie Linke.", NULL },
	{ "political_opinion", "Er mag die  Linke.", NULL },                      /* two blanks */
	{ "political_opinion", "Er w\xc3\xa4hlt die linken Kandidaten.", NULL },      /* no suffix */
	{ "political_opinion", "Linke w\xc3\xa4hlt er.", NULL },
	/* terms that allow no suffix end a word */
	{ "trade_union", "Er ist Mitglied der GEW.", "GEW" },
	{ "trade_union", "Er hat GEWinne gemacht, sagt er.", NULL },
	{ "health", "Ich bin HIV-positiv.", "HIV" },
	{ "health", "Sie hat HIVx.", NULL },
	{ "political_opinion", "Er ist seit 2015 in der SPDler.", NULL },
	{ "sexual_orientation", "ich bin gay", "gay" },
	{ "sexual_orientation", "ich bin gaya", NULL },
};

static const struct policy_finding *lexicon_find(const struct policy_findings *f, int entity,
						 size_t *count)
{
	const struct policy_finding *first = NULL;
	*count = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].entity == entity) {
			if (!first)
				first = &f->v[i];
			(*count)++;
		}
	return first;
}

int main(void)
{
	char err[256];
	struct policy_scanner *s = policy_scanner_new(NULL, 0, err, sizeof err);
	if (!s) {
		ok(0, "scanner: %s", err);
		tap_done();
		return 1;
	}
	ok(lexicon_person_tables_check() == 0, "detect_person.c's stopword and particle tables keep their search order");
	/* every lexicon detector is in the default scanner's table */
	int wired = 1;
	for (size_t i = 0; i < detect_person_count; i++)
		wired &= policy_scanner_find_detector(s, detect_person_table[i].id) >= 0;
	for (size_t i = 0; i < detect_secret_count; i++)
		wired &= policy_scanner_find_detector(s, detect_secret_table[i].id) >= 0;
	for (size_t i = 0; i < detect_special_count; i++)
		wired &= policy_scanner_find_detector(s, detect_special_table[i].id) >= 0;
	ok(wired, "the %zu lexicon detectors are in the default scanner",
	   detect_person_count + detect_secret_count + detect_special_count);

	struct policy_findings f;
	policy_findings_init(&f);
	for (size_t i = 0; i < sizeof lexicon_vectors / sizeof lexicon_vectors[0]; i++) {
		const struct lexicon_vector *v = &lexicon_vectors[i];
		int e = entity_find_by_name(v->entity);
		policy_findings_clear(&f);
		if (e < 0 || policy_scan_text(s, v->text, strlen(v->text), &f) < 0) {
			ok(0, "vector %zu (%s): scan failed", i, v->entity);
			continue;
		}
		size_t n;
		const struct policy_finding *x = lexicon_find(&f, e, &n);
		if (!v->want) {
			if (!ok(n == 0, "vector %zu: no %s", i, v->entity))
				tap_diag("found [%u, %u)", x->start, x->end);
			continue;
		}
		const char *w = strstr(v->text, v->want);
		size_t ws = (size_t)(w - v->text), we = ws + strlen(v->want);
		int hit = 0;
		for (size_t k = 0; k < f.n; k++)
			if (f.v[k].entity == e && f.v[k].start == ws && f.v[k].end == we)
				hit = 1;
		if (!ok(hit, "vector %zu: %s found exactly", i, v->entity)) {
			for (size_t k = 0; k < f.n; k++)
				tap_diag("got %s [%u, %u) want [%zu, %zu)",
					 entity_info_get(f.v[k].entity)->name, f.v[k].start, f.v[k].end, ws, we);
		}
	}

	/* robustness: every prefix of every vector scans without error (the
	 * detectors look around triggers and must respect the text's end) */
	int prefixes_ok = 1;
	for (size_t i = 0; i < sizeof lexicon_vectors / sizeof lexicon_vectors[0]; i++) {
		const char *t = lexicon_vectors[i].text;
		size_t len = strlen(t);
		for (size_t k = 0; k <= len; k++) {
			char *copy = malloc(k ? k : 1);
			memcpy(copy, t, k);
			policy_findings_clear(&f);
			if (policy_scan_text(s, copy, k, &f) < 0)
				prefixes_ok = 0;
			for (size_t j = 0; j < f.n; j++)
				if (f.v[j].end > k || f.v[j].start >= f.v[j].end)
					prefixes_ok = 0;
			free(copy);
		}
	}
	ok(prefixes_ok, "every prefix of every vector scans, findings stay inside the text");

	/* adversarial repetitions: every piece is a trigger whose match looks
	 * ahead; with a look-ahead that is not bounded by the match's own
	 * length these take minutes (quadratic), bounded they take
	 * milliseconds. No timing is asserted: the suite's timeout is the
	 * guard, and the findings must stay sane. */
	static const char *const pieces[] = {
		"-----BEGIN PRIVATE KEY-----\nMIIE", "eyJ-", "eyJhbGciOiJIUzI1NiJ9.", "xoxb-",
		"sk-proj-", "AccountKey=", "glpat-", "Herr ", "geb. ", "Stra\xc3\x9f" "e ",
		"password=", "postgres://a:", "Diabetes ich ", "str.", "M\xc3\xbcller ",
	};
	size_t big = 256 * 1024;
	char *buf = malloc(big);
	int adv_ok = buf != NULL;
	for (size_t k = 0; adv_ok && k < sizeof pieces / sizeof pieces[0]; k++) {
		size_t m = strlen(pieces[k]), n = 0;
		while (n + m <= big) {
			memcpy(buf + n, pieces[k], m);
			n += m;
		}
		policy_findings_clear(&f);
		if (policy_scan_text(s, buf, n, &f) < 0)
			adv_ok = 0;
		for (size_t j = 0; j < f.n; j++)
			if (f.v[j].end > n)
				adv_ok = 0;
	}
	free(buf);
	ok(adv_ok, "256 KiB of repeated triggers (PEM, JWT, tokens, titles, stems) scan");

	policy_findings_free(&f);
	policy_scanner_free(s);
	tap_done();
	return tap_failed ? 1 : 0;
}
