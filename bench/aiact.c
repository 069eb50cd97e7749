/* bench/aiact: cost of the AI Act screener (policies/aiact.c) per prompt of
 * 1 KB and 32 KB, next to peers measured in the same run on the same text:
 * the PII scanner (policy_scan_text, all default detectors) and a memchr
 * pass. The text mixes business sentences in DE, EN, FR, ES and IT, many of
 * them with lexicon words (employees, video, score, candidates, ...), so
 * the screener walks its hash chains, but no practice is found. A second
 * figure screens a whole chat request body the way the pipeline does
 * (request_walk + aiact_screen_request) for a 1 KB prompt.
 *
 * Usage: bench/aiact [runs]   (default 9; medians; thread CPU time) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "policies/aiact.h"
#include "policies/policy.h"
#include "policies/scan.h"

static const char *const bench_sentences[] = {
	"Sehr geehrte Damen und Herren, anbei das Angebot für die Wartung der Anlagen im zweiten Quartal. ",
	"Das Team der Mitarbeiter hat die Präsentation und das Video für den Lenkungskreis überarbeitet. ",
	"Please summarise the meeting notes and list the open action items for the employees and candidates. ",
	"Our revenue grew 12.5 % year over year; the score of the customer survey improved as well. ",
	"Merci de traduire ce paragraphe en allemand en gardant le ton formel de l'original pour l'équipe. ",
	"Les employés recevront la vidéo de formation sur la sécurité informatique la semaine prochaine. ",
	"Por favor, resume el informe trimestral y prepara una tabla con los datos de ventas por región. ",
	"Los candidatos seleccionados recibirán una invitación para la entrevista por correo electrónico. ",
	"Per favore, riassumi il verbale della riunione e indica le prossime scadenze per i dipendenti. ",
	"Il punteggio della valutazione dei fornitori è disponibile nella cartella condivisa del progetto. ",
	"Die Kunden erhalten die Rechnung 2024-00815 über 1.249,00 EUR mit der nächsten Lieferung. ",
	"The onboarding checklist covers laptop setup, VPN access, and the security awareness training. ",
};

static void bench_fill(char *buf, size_t len)
{
	size_t pos = 0;
	unsigned seed = 4711;
	while (pos < len) {
		seed = seed * 1103515245u + 12345u;
		const char *s = bench_sentences[(seed >> 8) % (sizeof bench_sentences / sizeof bench_sentences[0])];
		size_t l = strlen(s);
		if (l > len - pos)
			l = len - pos;
		memcpy(buf + pos, s, l);
		pos += l;
	}
	/* do not end inside a UTF-8 sequence */
	while (len > 0 && ((unsigned char)buf[len - 1] & 0xC0) == 0x80)
		buf[--len] = ' ';
	if (len > 0 && (unsigned char)buf[len - 1] >= 0xC0)
		buf[len - 1] = ' ';
}

static volatile size_t bench_sink;

#define BENCH_RUNS_MAX 32
#define BENCH_REPEAT_1K 2000
#define BENCH_REPEAT_32K 100

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 9;
	if (runs < 1 || runs > BENCH_RUNS_MAX) {
		fprintf(stderr, "usage: %s [runs<=%d]\n", argv[0], BENCH_RUNS_MAX);
		return 2;
	}
	char err[256];
	struct aiact_model *m = aiact_model_new(err, sizeof err);
	struct policy_scanner *sc = policy_scanner_new(NULL, 0, err, sizeof err);
	static char p1[1024 + 1], p32[32768 + 1];
	if (!m || !sc) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	bench_fill(p1, 1024);
	bench_fill(p32, 32768);
	struct aiact_text t1 = { p1, 1024 }, t32 = { p32, 32768 };
	struct aiact_result r;
	struct policy_findings f;
	policy_findings_init(&f);

	/* the same 1 KB prompt as a chat request body */
	json_t *body = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "model", "m", "messages",
				 "role", "system", "content", "You are a helpful assistant.",
				 "role", "user", "content", p1);
	json_t **fields = NULL;
	size_t nf = 0;
	if (!body) {
		fprintf(stderr, "setup: request body\n");
		return 1;
	}

	double a1[BENCH_RUNS_MAX], a32[BENCH_RUNS_MAX], s1[BENCH_RUNS_MAX], s32[BENCH_RUNS_MAX];
	double m1[BENCH_RUNS_MAX], m32[BENCH_RUNS_MAX], req1[BENCH_RUNS_MAX];
	unsigned found = 0;
	for (int k = 0; k < runs; k++) {
		double t0 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_1K; i++) {
			aiact_screen(m, &t1, 1, 0, &r);
			found += r.hits[AIACT_PRACTICE_5_1_F].found;
		}
		double t1e = bench_now();
		for (int i = 0; i < BENCH_REPEAT_32K; i++) {
			aiact_screen(m, &t32, 1, 0, &r);
			found += r.hits[AIACT_PRACTICE_5_1_F].found;
		}
		double t2 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_1K; i++) {
			policy_findings_clear(&f);
			policy_scan_text(sc, p1, 1024, &f);
		}
		double t3 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_32K; i++) {
			policy_findings_clear(&f);
			policy_scan_text(sc, p32, 32768, &f);
		}
		double t4 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_1K; i++)
			bench_sink += (size_t)(memchr(p1, '\x01', 1024) != NULL);
		double t5 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_32K; i++)
			bench_sink += (size_t)(memchr(p32, '\x01', 32768) != NULL);
		double t6 = bench_now();
		for (int i = 0; i < BENCH_REPEAT_1K; i++) {
			request_walk_collect(body, &fields, &nf, err, sizeof err);
			aiact_screen_request(m, body, fields, nf, &r);
			free(fields);
		}
		double t7 = bench_now();
		a1[k] = (t1e - t0) / BENCH_REPEAT_1K;
		a32[k] = (t2 - t1e) / BENCH_REPEAT_32K;
		s1[k] = (t3 - t2) / BENCH_REPEAT_1K;
		s32[k] = (t4 - t3) / BENCH_REPEAT_32K;
		m1[k] = (t5 - t4) / BENCH_REPEAT_1K;
		m32[k] = (t6 - t5) / BENCH_REPEAT_32K;
		req1[k] = (t7 - t6) / BENCH_REPEAT_1K;
	}
	size_t n = (size_t)runs;
	printf("prompts: 1 KB and 32 KB of DE/EN/FR/ES/IT business text, practices found: %u, median of %d runs\n",
	       found, runs);
	printf("                      1 KB        32 KB\n");
	printf("aiact_screen:     %8.2f us  %8.2f us\n", bench_median(a1, n) * 1e6, bench_median(a32, n) * 1e6);
	printf("peer policy_scan: %8.2f us  %8.2f us\n", bench_median(s1, n) * 1e6, bench_median(s32, n) * 1e6);
	printf("peer memchr:      %8.2f us  %8.2f us\n", bench_median(m1, n) * 1e6, bench_median(m32, n) * 1e6);
	printf("chat body, walk + aiact_screen_request (1 KB prompt): %.2f us\n", bench_median(req1, n) * 1e6);
	json_decref(body);
	policy_findings_free(&f);
	policy_scanner_free(sc);
	aiact_model_free(m);
	return 0;
}
