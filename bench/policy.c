/* bench/policy: scanner throughput on mixed German/English business text
 * with scattered identifiers, all default detectors on, next to a peer
 * measured in the same run: a memchr pass and a strlen pass over the same
 * buffer (the memory-speed bound of touching every byte once).
 *
 * Usage: bench/policy [MB] [runs] [scalar|avx2|avx512]   (defaults: 8 MB,
 * 7 runs; medians; "scalar": the portable position filter instead of the
 * vector one; "avx2": the AVX2 block classification where the CPU has
 * AVX-512; "avx512": AVX-512BW without the VBMI in-word test)
 *        bench/policy short [runs] [scalar|avx2|avx512]   (the gateway's case:
 * 100,000 messages of 50-300 bytes, the scanner's fixed cost per call;
 * peer: memchr over the same messages)
 *        bench/policy tiny [runs] [scalar|avx2|avx512]   (the three texts
 * bench/gateway.sh makes the gateway scan per request: the system and the
 * user message of its request and the mock upstream's answer, which echoes
 * the user message; 28-72 bytes, 1,000,000 rounds; peer: memchr)
 *        bench/policy special [runs] [scalar|avx2|avx512]   (2 MB where every
 * other sentence is about a person's health, beliefs, union membership or
 * convictions, in DE/EN/FR/ES/IT: the special categories' detectors and
 * their person context on every sentence, an HR or clinic workload) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "policies/scan.h"

static const char *const bench_sentences[] = {
	"Sehr geehrte Damen und Herren, anbei erhalten Sie das Angebot für die Wartung der Anlagen im zweiten Quartal. ",
	"Bitte prüfen Sie die Positionen 3 bis 7, die Preise gelten bis zum 31.03.2025 zuzüglich Mehrwertsteuer. ",
	"Thanks for the quick turnaround on the contract draft; legal will send comments by Friday. ",
	"Die Lieferung der 250 Einheiten erfolgt voraussichtlich in KW 14, Teillieferungen sind möglich. ",
	"Could you summarise the meeting notes and list the open action items with owners and due dates? ",
	"Das Projektteam hat die Anforderungen überarbeitet; die neue Version 2.3 liegt im Sharepoint. ",
	"Our revenue grew 12.5 % year over year, driven by the service business in DACH and Benelux. ",
	"Für Rückfragen stehe ich Ihnen gerne zur Verfügung. Mit freundlichen Grüßen aus München. ",
	"Please translate the following paragraph into German and keep the formal tone of the original. ",
	"Rechnung 2024-00815 über 1.249,00 EUR ist seit 14 Tagen fällig, bitte um kurze Rückmeldung. ",
	"The onboarding checklist covers laptop setup, VPN access, and the security awareness training. ",
	"Im Anhang finden Sie die Präsentation für den Lenkungskreis am Donnerstag um 10:30 Uhr. ",
};

static const char *const bench_ids[] = {
	"Kontakt: anna.schmidt@firma-gmbh.de, Tel. +49 89 12345678. ",
	"Bitte überweisen Sie auf DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX). ",
	"Card 4111 1111 1111 1111 was charged twice. ",
	"Steuer-ID 86 095 742 719 für die Lohnabrechnung. ",
	"Server 192.168.10.23 antwortet nicht. ",
	"USt-IdNr. DE136695976 auf der Rechnung ergänzen. ",
};

/* Sentences about a person with a special category (GDPR Art. 9, 10),
 * and one about a thing. */
static const char *const bench_special[] = {
	"Meine Mutter wurde letzte Woche wegen Asthma behandelt. ",
	"He told me his son has epilepsy and needs a quiet desk. ",
	"Ich bin Mitglied der IG Metall und sitze im Betriebsrat. ",
	"Sie ist seit M\xc3\xa4rz krankgeschrieben, die Diagnose lautet Depression. ",
	"My colleague mentioned that she is pregnant and will go on leave in May. ",
	"Mon fr\xc3\xa8re est diab\xc3\xa9tique et suit un traitement. ",
	"Er ist Muslim und fastet w\xc3\xa4hrend des Ramadan. ",
	"Su padre tiene c\xc3\xa1ncer de pulm\xc3\xb3n desde el a\xc3\xb1o pasado. ",
	"The candidate disclosed a criminal conviction for fraud in 2019. ",
	"Mia sorella \xc3\xa8 in cura per la sclerosi multipla. ",
	"Die Kollegin ist schwerbehindert und braucht einen barrierefreien Arbeitsplatz. ",
	"The hospital's IT budget for diabetes research grows next year. ",
};

/* Fills buf with sentences; every ~8th sentence carries an identifier,
 * and with special every other one is from bench_special. */
static void bench_fill(char *buf, size_t len, int special)
{
	size_t pos = 0;
	unsigned seed = 12345;
	while (pos < len) {
		seed = seed * 1103515245u + 12345u;
		const char *s = special && (seed >> 20) % 2 == 0
			? bench_special[(seed >> 8) % (sizeof(bench_special) / sizeof(bench_special[0]))]
			: (seed >> 16) % 8 == 0
			? bench_ids[(seed >> 8) % (sizeof(bench_ids) / sizeof(bench_ids[0]))]
			: bench_sentences[(seed >> 8) % (sizeof(bench_sentences) / sizeof(bench_sentences[0]))];
		size_t l = strlen(s);
		if (l > len - pos)
			l = len - pos;
		memcpy(buf + pos, s, l);
		pos += l;
	}
}

static volatile size_t bench_sink;

/* Short texts: n messages of 50-300 bytes cut from buf (lengths and
 * offsets from a fixed LCG, so every build scans the same messages). */
static int bench_short(struct policy_scanner *sc, const char *buf, size_t len, int runs)
{
	enum { BENCH_SHORT_N = 100000 };
	static uint32_t off[BENCH_SHORT_N], lens[BENCH_SHORT_N];
	double t_scan[32], t_memchr[32];
	unsigned seed = 4242;
	size_t bytes = 0, findings = 0;
	struct policy_findings f;

	for (size_t i = 0; i < BENCH_SHORT_N; i++) {
		seed = seed * 1103515245u + 12345u;
		lens[i] = 50 + (seed >> 8) % 251;
		seed = seed * 1103515245u + 12345u;
		off[i] = (uint32_t)((seed >> 4) % (len - 300));
		bytes += lens[i];
	}
	policy_findings_init(&f);
	for (int r = 0; r < runs; r++) {
		double t0 = bench_now();
		size_t hits = 0;
		for (size_t i = 0; i < BENCH_SHORT_N; i++)
			hits += memchr(buf + off[i], '\x01', lens[i]) != NULL;
		bench_sink = hits;
		double t1 = bench_now();
		findings = 0;
		for (size_t i = 0; i < BENCH_SHORT_N; i++) {
			policy_findings_clear(&f);
			if (policy_scan_text(sc, buf + off[i], lens[i], &f) < 0) {
				fprintf(stderr, "scan failed: %s\n", f.error);
				return 1;
			}
			findings += f.n;
		}
		double t2 = bench_now();
		t_memchr[r] = t1 - t0;
		t_scan[r] = t2 - t1;
	}
	double s = bench_median(t_scan, (size_t)runs), m = bench_median(t_memchr, (size_t)runs);
	printf("short texts: %d messages of 50-300 bytes (%zu bytes, mean %.0f), %zu findings, median of %d runs\n",
	       BENCH_SHORT_N, bytes, (double)bytes / BENCH_SHORT_N, findings, runs);
	printf("peer memchr:   %8.1f ns per message\n", m / BENCH_SHORT_N * 1e9);
	printf("policy_scan:   %8.1f ns per message, %.1f MB/s\n", s / BENCH_SHORT_N * 1e9,
	       (double)bytes / 1e6 / s);
	policy_findings_free(&f);
	return 0;
}

/* The gateway's texts per request (bench/gateway.sh's wrk.body; the mock
 * upstream answers with the last user message). */
static const char *const bench_tiny_texts[] = {
	"You are a helpful assistant.",
	"Please summarise the minutes of the Tuesday meeting in three sentences.",
	"Please summarise the minutes of the Tuesday meeting in three sentences.",
};

/* Tiny texts: the scanner's fixed cost per call. Each text is copied to
 * its own heap allocation of exactly its length (as the gateway's are
 * decoded into buffers of their own), so a read past the end is ASan's. */
static int bench_tiny(struct policy_scanner *sc, int runs)
{
	enum { BENCH_TINY_ROUNDS = 100000, BENCH_TINY_N = 3 };
	char *txt[BENCH_TINY_N];
	size_t lens[BENCH_TINY_N], findings = 0;
	double t_scan[32], t_memchr[32];
	struct policy_findings f;
	int rc = 0;

	for (size_t k = 0; k < BENCH_TINY_N; k++) {
		lens[k] = strlen(bench_tiny_texts[k]);
		txt[k] = malloc(lens[k]);
		if (!txt[k]) {
			fprintf(stderr, "setup: out of memory\n");
			return 1;
		}
		memcpy(txt[k], bench_tiny_texts[k], lens[k]);
	}
	policy_findings_init(&f);
	for (int r = 0; r < runs && rc == 0; r++) {
		double t0 = bench_now();
		size_t hits = 0;
		for (size_t i = 0; i < BENCH_TINY_ROUNDS; i++)
			for (size_t k = 0; k < BENCH_TINY_N; k++)
				hits += memchr(txt[k], '\x01', lens[k]) != NULL;
		bench_sink = hits;
		double t1 = bench_now();
		findings = 0;
		for (size_t i = 0; i < BENCH_TINY_ROUNDS && rc == 0; i++)
			for (size_t k = 0; k < BENCH_TINY_N; k++) {
				policy_findings_clear(&f);
				if (policy_scan_text(sc, txt[k], lens[k], &f) < 0) {
					fprintf(stderr, "scan failed: %s\n", f.error);
					rc = 1;
					break;
				}
				findings += f.n;
			}
		double t2 = bench_now();
		t_memchr[r] = t1 - t0;
		t_scan[r] = t2 - t1;
	}
	if (rc == 0) {
		double s = bench_median(t_scan, (size_t)runs), m = bench_median(t_memchr, (size_t)runs);
		double calls = (double)BENCH_TINY_ROUNDS * BENCH_TINY_N;
		printf("tiny texts: the gateway's %d texts of %zu, %zu and %zu bytes, %d rounds, %zu findings, median of %d runs\n",
		       BENCH_TINY_N, lens[0], lens[1], lens[2], BENCH_TINY_ROUNDS, findings, runs);
		printf("peer memchr:   %8.1f ns per text\n", m / calls * 1e9);
		printf("policy_scan:   %8.1f ns per text\n", s / calls * 1e9);
	}
	policy_findings_free(&f);
	for (size_t k = 0; k < BENCH_TINY_N; k++)
		free(txt[k]);
	return rc;
}

int main(int argc, char **argv)
{
	int tinymode = argc > 1 && strcmp(argv[1], "tiny") == 0;
	int shortmode = tinymode || (argc > 1 && strcmp(argv[1], "short") == 0);
	int specialmode = argc > 1 && strcmp(argv[1], "special") == 0;
	size_t mb = shortmode ? 1 : specialmode ? 2 : argc > 1 ? (size_t)atoi(argv[1]) : 8;
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	char err[256];
	struct policy_findings f;
	double t_scan[32], t_memchr[32], t_strlen[32], t_1k[32], t_32k[32];
	size_t len = mb << 20, findings = 0;

	if (mb == 0 || runs < 1 || runs > 32) {
		fprintf(stderr, "usage: %s [MB|short|tiny|special] [runs<=32] [scalar|avx2|avx512]\n", argv[0]);
		return 2;
	}
	char *buf = malloc(len + 1);
	unsigned flags = argc > 3 && strcmp(argv[3], "scalar") == 0 ? POLICY_SCANNER_FLAG_NO_SIMD
			 : argc > 3 && strcmp(argv[3], "avx2") == 0 ? POLICY_SCANNER_FLAG_NO_AVX512
			 : argc > 3 && strcmp(argv[3], "avx512") == 0 ? POLICY_SCANNER_FLAG_NO_VBMI : 0;
	struct policy_scanner *sc = policy_scanner_new_flags(NULL, 0, flags, err, sizeof(err));
	if (!buf || !sc) {
		fprintf(stderr, "setup: %s\n", sc ? "out of memory" : err);
		return 1;
	}
	bench_fill(buf, len, specialmode);
	buf[len] = 0;
	if (shortmode) {
		int rc = tinymode ? bench_tiny(sc, runs) : bench_short(sc, buf, len, runs);
		policy_scanner_free(sc);
		free(buf);
		return rc;
	}
	policy_findings_init(&f);

	for (int r = 0; r < runs; r++) {
		double t0 = bench_now();
		bench_sink = (size_t)(memchr(buf, '\x01', len) != NULL);
		double t1 = bench_now();
		bench_sink = strlen(buf);
		double t2 = bench_now();
		policy_findings_clear(&f);
		if (policy_scan_text(sc, buf, len, &f) < 0) {
			fprintf(stderr, "scan failed: %s\n", f.error);
			return 1;
		}
		double t3 = bench_now();
		findings = f.n;
		/* prompts: consecutive 1 KB / 32 KB slices of the buffer */
		size_t n1 = 0, n32 = 0;
		for (size_t off = 0; off + 1024 <= len && n1 < 4096; off += 1024, n1++) {
			policy_findings_clear(&f);
			policy_scan_text(sc, buf + off, 1024, &f);
		}
		double t4 = bench_now();
		for (size_t off = 0; off + 32768 <= len && n32 < 256; off += 32768, n32++) {
			policy_findings_clear(&f);
			policy_scan_text(sc, buf + off, 32768, &f);
		}
		double t5 = bench_now();
		t_memchr[r] = t1 - t0;
		t_strlen[r] = t2 - t1;
		t_scan[r] = t3 - t2;
		t_1k[r] = (t4 - t3) / (double)n1;
		t_32k[r] = (t5 - t4) / (double)n32;
	}
	double mbs = (double)len / 1e6;
	double s = bench_median(t_scan, (size_t)runs), m = bench_median(t_memchr, (size_t)runs);
	double l = bench_median(t_strlen, (size_t)runs);
	printf("buffer: %zu MB %s, %zu findings, %zu detectors, median of %d runs\n", mb,
	       specialmode ? "DE/EN business text, every other sentence a special category about a person"
			   : "mixed DE/EN business text",
	       findings, policy_scanner_detector_count(sc), runs);
	printf("peer memchr:   %8.1f MB/s\n", mbs / m);
	printf("peer strlen:   %8.1f MB/s\n", mbs / l);
	printf("policy_scan:   %8.1f MB/s  (%.2fx memchr time)\n", mbs / s, s / m);
	printf("prompt 1 KB:   %8.2f us\n", bench_median(t_1k, (size_t)runs) * 1e6);
	printf("prompt 32 KB:  %8.2f us\n", bench_median(t_32k, (size_t)runs) * 1e6);
	policy_findings_free(&f);
	policy_scanner_free(sc);
	free(buf);
	return 0;
}
