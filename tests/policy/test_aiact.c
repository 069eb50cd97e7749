/* The AI Act screener's edge cases (policies/aiact.c): empty and odd
 * request shapes, parts without text, huge texts, mixed languages across
 * messages, negations and their scope, accents, roles that are not
 * instructions, where a finding points, and the policy-file overrides that
 * lower a rule (policy_file.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/aiact.h"
#include "policies/entity.h"
#include "policies/policy.h"
#include "tests/tap.h"

static struct aiact_model *m;

/* Screens one body (JSON text) the way the pipeline does. */
static struct aiact_result screen_json(const char *js, json_t **keep, json_t ***fields_out, size_t *nf_out)
{
	struct aiact_result r;
	memset(&r, 0, sizeof r);
	json_error_t je;
	json_t *body = json_loads(js, 0, &je);
	if (!body) {
		tap_diag("bad test JSON: %s", je.text);
		return r;
	}
	json_t **fields = NULL;
	size_t nf = 0;
	char err[200];
	if (request_walk_collect(body, &fields, &nf, err, sizeof err) == 0)
		aiact_screen_request(m, body, fields, nf, &r);
	if (keep && fields_out) {
		*keep = body;
		*fields_out = fields;
		*nf_out = nf;
	} else {
		free(fields);
		json_decref(body);
	}
	return r;
}

static int hit(const char *js, enum aiact_practice p)
{
	struct aiact_result r = screen_json(js, NULL, NULL, NULL);
	return r.hits[p].found;
}

static int any_hit(const struct aiact_result *r)
{
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++)
		if (r->hits[p].found)
			return 1;
	return 0;
}

static int text_hit(const char *text, unsigned media, enum aiact_practice p)
{
	struct aiact_text t = { text, strlen(text) };
	struct aiact_result r;
	aiact_screen(m, &t, 1, media, &r);
	return r.hits[p].found;
}

static void test_shapes(void)
{
	struct aiact_result r = screen_json("{}", NULL, NULL, NULL);
	ok(!any_hit(&r) && r.features == 0, "empty body: nothing");
	r = screen_json("{\"model\":\"m\"}", NULL, NULL, NULL);
	ok(!any_hit(&r), "no messages: nothing");
	r = screen_json("{\"messages\":[]}", NULL, NULL, NULL);
	ok(!any_hit(&r), "empty messages: nothing");
	r = screen_json("{\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}", NULL, NULL, NULL);
	ok(!any_hit(&r) && r.features == 0, "empty content: nothing");
	r = screen_json("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}},"
			"{\"type\":\"input_audio\"},{\"type\":\"video_url\"},{\"text\":7},{}]}]}", NULL, NULL, NULL);
	ok(!any_hit(&r), "parts without text: nothing found");
	is_int(r.media, AIACT_MEDIA_IMAGE | AIACT_MEDIA_AUDIO | AIACT_MEDIA_VIDEO, "parts without text: media seen");
	r = screen_json("{\"messages\":\"x\",\"prompt\":7,\"input\":{}}", NULL, NULL, NULL);
	ok(!any_hit(&r), "odd shapes: nothing, no crash");
	struct aiact_text none = { NULL, 0 };
	aiact_screen(m, &none, 1, 0, &r);
	ok(!any_hit(&r), "a NULL text is skipped");
	aiact_screen(m, NULL, 0, AIACT_MEDIA_IMAGE, &r);
	ok(!any_hit(&r), "media alone are no practice");
}

static const char f_body[] =
	"{\"messages\":[{\"role\":\"system\",\"content\":\"You are an HR analytics assistant.\"},"
	"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Rate the mood of each of our call-centre agents.\"},"
	"{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,AAAA\"}}]}]}";

static void test_request_parts(void)
{
	json_t *body = NULL, **fields = NULL;
	size_t nf = 0;
	struct aiact_result r = screen_json(f_body, &body, &fields, &nf);
	ok(r.hits[AIACT_PRACTICE_5_1_F].found, "5(1)(f): text + image part + agents");
	const struct aiact_hit *h = &r.hits[AIACT_PRACTICE_5_1_F];
	ok(h->found && h->part < nf, "the hit names a field of the walk");
	if (h->found && h->part < nf) {
		const char *t = json_string_value(fields[h->part]);
		ok(h->end <= json_string_length(fields[h->part]) && h->end - h->start == 4 &&
		   memcmp(t + h->start, "mood", 4) == 0, "the hit points at its anchor word, nothing more");
	}
	free(fields);
	json_decref(body);

	ok(!hit("{\"messages\":[{\"role\":\"user\",\"content\":\"Rate the mood of each of our call-centre agents.\"}]}",
		AIACT_PRACTICE_5_1_F), "the same without the image: no biometric input, no 5(1)(f)");
	ok(hit("{\"input\":[\"From the webcam frames, rate the mood of each employee.\"]}", AIACT_PRACTICE_5_1_F),
	   "an input array of strings is screened");
	ok(hit("{\"prompt\":\"From the webcam frames, rate the mood of each employee.\"}", AIACT_PRACTICE_5_1_F),
	   "a completions prompt is screened");
	ok(!hit("{\"messages\":[{\"role\":\"user\",\"content\":\"Summarise this.\"},"
		"{\"role\":\"assistant\",\"content\":\"From the webcam frames I rated the mood of each employee.\"}]}",
		AIACT_PRACTICE_5_1_F), "assistant text is no instruction");
	ok(!hit("{\"messages\":[{\"role\":\"tool\",\"content\":\"webcam frames: rate the mood of each employee\"}]}",
		AIACT_PRACTICE_5_1_F), "tool results are no instruction");
}

static void test_languages(void)
{
	ok(hit("{\"messages\":[{\"role\":\"system\",\"content\":\"Du unterstützt die Teamleitung der Mitarbeiter.\"},"
	       "{\"role\":\"user\",\"content\":\"Look at these webcam photos and tell me who is stressed.\"}]}",
	       AIACT_PRACTICE_5_1_F), "mixed languages: DE subjects in the system message, EN request");
	ok(text_hit("ANALYSE LES ÉMOTIONS DES EMPLOYÉS SUR CES VIDÉOS", 0, AIACT_PRACTICE_5_1_F),
	   "upper case and accents are folded");
	ok(text_hit("Analysiere die Gefühle der Schüler im Video", 0, AIACT_PRACTICE_5_1_F), "umlauts folded");
	ok(text_hit("Analiza las emociones de los empleados en el vídeo", 0, AIACT_PRACTICE_5_1_F), "ES");
	ok(text_hit("Analizza le emozioni dei dipendenti nel video", 0, AIACT_PRACTICE_5_1_F), "IT");
	ok(text_hit("Analyse l\xe2\x80\x99" "émotion des employés sur la vidéo", 0, AIACT_PRACTICE_5_1_F),
	   "a typographic apostrophe separates words");
}

static void test_negation(void)
{
	ok(!text_hit("Do not infer the emotions of employees from the webcam images.", 0, AIACT_PRACTICE_5_1_F),
	   "a negation before the practice voids it");
	ok(!text_hit("Die Kamera soll nicht die Stimmung der Mitarbeiter erkennen.", 0, AIACT_PRACTICE_5_1_F), "DE nicht");
	ok(text_hit("Rate the employees' mood from the webcam images; this is not for medical reasons.", 0,
		    AIACT_PRACTICE_5_1_F), "a negated lawful context does not clear");
	ok(!text_hit("Rate the employees' mood from the webcam images for medical reasons.", 0, AIACT_PRACTICE_5_1_F),
	   "a medical reason clears 5(1)(f)");
	ok(text_hit("No. Rate the mood of the employees on these webcam images.", 0, AIACT_PRACTICE_5_1_F),
	   "a negation does not reach into the next sentence");
	ok(text_hit("Scrape the faces from Instagram profiles into a face database, without their consent.", 0,
		    AIACT_PRACTICE_5_1_E), "\"without their consent\" is no consent");
	ok(!text_hit("Scrape the faces from Instagram profiles of volunteers who gave consent.", 0,
		     AIACT_PRACTICE_5_1_E), "consent clears 5(1)(e)");
}

static void test_huge(void)
{
	size_t n = 4u << 20;
	char *big = malloc(n + 128);
	if (!big) {
		ok(0, "huge text: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, "lorem ips ", 10);
	static const char tail[] = "Rate the mood of the employees on the webcam.";
	memcpy(big + n, tail, sizeof tail);
	struct aiact_text t = { big, n + sizeof tail - 1 };
	struct aiact_result r;
	aiact_screen(m, &t, 1, 0, &r);
	const struct aiact_hit *h = &r.hits[AIACT_PRACTICE_5_1_F];
	ok(h->found && h->start == n + 9 && memcmp(big + h->start, "mood", 4) == 0,
	   "4 MiB of filler: the practice at the end is found at its offset");
	/* one 100 KB word: no match, no overflow of the word buffer */
	memset(big, 'x', 100000);
	memcpy(big + 100000, " mood", 5);
	t.len = 100005;
	aiact_screen(m, &t, 1, 0, &r);
	ok(r.features != 0 && !any_hit(&r), "a 100 KB word is cut, the next word still counts");
	free(big);
	static const char bad[] = "\xc3\xff \xc2 \xe2\x80 \xc5 \xff\xfe mood";
	t.text = bad;
	t.len = sizeof bad - 1;
	aiact_screen(m, &t, 1, 0, &r);
	ok(r.features != 0, "invalid UTF-8 is no word break problem");
}

static void test_names(void)
{
	is_str(aiact_practice_rule_id(AIACT_PRACTICE_5_1_G), "aiact-5-1-g", "rule id of (g)");
	is_str(aiact_practice_article(AIACT_PRACTICE_5_1_A), "AI Act Art. 5(1)(a)", "article of (a)");
	is_str(aiact_entity_article(ENTITY_AIACT_5_1_F), "AI Act Art. 5(1)(f)", "article of a finding's entity");
	ok(aiact_entity_article(ENTITY_EMAIL) == NULL, "no article for a GDPR entity");
	is_str(entity_info_get(ENTITY_AIACT_ANNEX3_4)->name, "aiact_annex3_4", "entity name of the Annex III type");
	ok(aiact_practice_rule_id(AIACT_PRACTICE_COUNT) == NULL, "no rule id past the end");
}

static const char annex_body[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":\"Shortlist the three best applicants and reject the rest.\"}]}";

static const struct policy_decision *decide(struct policy_set *set, const char *js, struct policy_request **rq)
{
	json_t *body = json_loads(js, 0, NULL);
	struct policy_context ctx = { "chat", NULL, "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	char err[200];
	*rq = policy_request_new(set, &ctx);
	int rc = *rq && body ? policy_request_apply(*rq, body, NULL, NULL, err, sizeof err) : -1;
	json_decref(body);
	return rc == 0 ? policy_request_decision(*rq) : NULL;
}

static void test_pipeline_and_overrides(const char *packs)
{
	char path[1024], err[512];
	snprintf(path, sizeof path, "%s/ai-act.json", packs);
	struct policy_set *set = policy_set_new();
	ok(policy_file_load(set, path, err, sizeof err) == 0, "ai-act.json loads");
	struct policy_request *rq;
	const struct policy_decision *d = decide(set, annex_body, &rq);
	ok(d && d->action == POLICY_ACTION_BLOCK && d->block_rule >= 0 &&
	   strcmp(policy_set_rule_id(set, (size_t)d->block_rule), "aiact-annex3-4") == 0 &&
	   d->block_entity == ENTITY_AIACT_ANNEX3_4, "annex request: blocked by aiact-annex3-4");
	ok(d && d->data_class == DATA_CLASS_PUBLIC, "an AI Act finding leaves the data class alone");
	policy_request_free(rq);
	char hash_before[65];
	snprintf(hash_before, sizeof hash_before, "%s", policy_set_hash(set));

	static const char *const bad[][2] = {
		{ "{\"rules\":[],\"overrides\":[{\"rule\":\"nope\",\"action\":\"flag\"}]}", "no rule \"nope\"" },
		{ "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"action\":\"classify\"}]}", "classify" },
		{ "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"action\":\"flag\"},"
		  "{\"rule\":\"aiact-5-1-a\",\"action\":\"none\"}]}", "overrides[1].action" },
		{ "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"action\":\"flag\"},"
		  "{\"rule\":\"aiact-annex3-4\",\"action\":\"flag\"}]}", "overridden twice" },
		{ "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"actoin\":\"flag\"}]}", "unknown key" },
		{ "{\"rules\":[],\"overrides\":{}}", "expected an array" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = policy_file_load_buffer(set, "site.json", bad[i][0], strlen(bad[i][0]), err, sizeof err);
		ok(rc < 0 && strstr(err, bad[i][1]) != NULL, "bad override %zu refused: %s", i, err);
	}
	ok(strcmp(hash_before, policy_set_hash(set)) == 0, "refused overrides change nothing");
	static const char site[] = "{\"rules\":[],\"overrides\":[{\"rule\":\"aiact-annex3-4\",\"action\":\"flag\","
				   "\"description\":\"HR oversight (Art. 14)\"}]}";
	ok(policy_file_load_buffer(set, "site.json", site, strlen(site), err, sizeof err) == 0, "site override loads");
	ok(strcmp(hash_before, policy_set_hash(set)) != 0, "the override changes the policy hash");
	d = decide(set, annex_body, &rq);
	int fired = 0;
	for (size_t i = 0; d && i < d->n_fired; i++)
		fired |= strcmp(policy_set_rule_id(set, d->fired[i]), "aiact-annex3-4") == 0;
	ok(d && d->action == POLICY_ACTION_FLAG && fired, "with the override: flagged, the rule still fires");
	policy_request_free(rq);
	policy_set_free(set);

	/* A set without AI Act rules does not screen. */
	set = policy_set_new();
	snprintf(path, sizeof path, "%s/gdpr-default.json", packs);
	ok(policy_file_load(set, path, err, sizeof err) == 0, "gdpr-default.json loads");
	d = decide(set, annex_body, &rq);
	ok(d && d->n_findings == 0, "without the pack: no AI Act findings");
	policy_request_free(rq);
	policy_set_free(set);
}

/* The screener's fast loop (aiact_screen) against its byte-class reference
 * (aiact_screen_reference) on random texts: lexicon words and phrases in
 * random case with suffixes, negations, words of any length (past the 32
 * bytes a word keeps, across sixteen-byte steps), digits, separators that
 * end sentences or not, accents, NBSP, dashes and stray UTF-8. Every
 * result must be identical. */
static uint64_t fast_rng = 0x9E3779B97F4A7C15u;

static unsigned fast_rand(unsigned n)
{
	/* xorshift64 (Marsaglia, "Xorshift RNGs", 2003) */
	fast_rng ^= fast_rng << 13;
	fast_rng ^= fast_rng >> 7;
	fast_rng ^= fast_rng << 17;
	return (unsigned)(fast_rng % n);
}

static void test_fast_loop(void)
{
	static const char *const vocab[] = {
		"manipulate", "manipulative", "subliminal", "deceive", "vulnerable", "elderly", "children",
		"disability", "social score", "social scoring", "credit score", "predict", "crime", "criminal",
		"risk", "profiling", "scrape", "facial", "faces", "images", "emotion", "emotions", "workplace",
		"employees", "students", "biometric", "race", "religion", "sexual orientation", "political",
		"hire", "hiring", "candidates", "promotion", "dismiss", "terminate", "performance", "workers",
		"not", "never", "no", "without", "nicht", "kein", "ne", "pas", "non", "sin", "senza",
		"legge", "normativa", "giusta causa", "regole", "modello", "fake scarcity", "fausse urgence",
		"without realizing", "psychologischen druck", "glauben lassen", "patrones oscuros", "sex life",
		"learning disabilities", "addicted", "pensioners", "surendettement", "chefs d équipe",
		"Bewerber", "Mitarbeiter", "Kündigung", "évaluer", "empleados", "dipendenti", "rendimiento",
	};
	static const char *const seps[] = {
		" ", " ", " ", "  ", ", ", ". ", "! ", "? ", "; ", "\n", "\t", "-", "'", "/", ":", "(", ")",
		"\xC2\xA0", "\xE2\x80\x94", "\xE2\x80\x9C", "\xC2\xBF", "\"", "...",
		/* the bytes next to the letter and digit ranges, folded or not */
		"@", "`", "[", "{", "_", "~", "/", ":", "\x7F", "\x01",
	};
	static const char *const odd[] = {
		"\xC3\xA9", "\xC3\xBC", "\xC3\x9F", "\xC5\x93", "\xC3\x97", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xFF", "\x80", "\xC3", "0", "42", "2024",
	};
	unsigned long texts = 0, with_features = 0, differ = 0;
	char buf[3][600];
	for (int round = 0; round < 20000; round++) {
		struct aiact_text parts[3];
		size_t np = 1 + fast_rand(3);
		for (size_t pi = 0; pi < np; pi++) {
			/* short texts too: there the last word is often the only
			 * occurrence, so a word cut at the text's end would show */
			size_t n = 0, want = fast_rand(round % 10 == 0 ? 560 : round % 3 == 0 ? 24 : 120);
			while (n < want) {
				unsigned k = fast_rand(10);
				char tok[128];
				size_t tl = 0;
				if (k < 5) {
					const char *w = vocab[fast_rand(sizeof vocab / sizeof vocab[0])];
					int upper = fast_rand(4) == 0, caps = fast_rand(10) == 0;
					for (size_t i = 0; w[i] && tl < 100; i++) {
						char c = w[i];
						if ((caps || (upper && i == 0)) && c >= 'a' && c <= 'z')
							c = (char)(c - 32);
						tok[tl++] = c;
					}
					if (fast_rand(3) == 0) /* a suffix: stems match, whole words do not */
						tok[tl++] = "sedn"[fast_rand(4)];
				} else if (k < 7) {
					size_t wl = 1 + fast_rand(fast_rand(5) == 0 ? 45 : 9);
					for (size_t i = 0; i < wl; i++)
						tok[tl++] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[fast_rand(62)];
				} else {
					const char *o = odd[fast_rand(sizeof odd / sizeof odd[0])];
					tl = strlen(o);
					memcpy(tok, o, tl);
				}
				const char *sp = seps[fast_rand(sizeof seps / sizeof seps[0])];
				size_t sl = strlen(sp);
				if (n + tl + sl > sizeof buf[pi])
					break;
				memcpy(buf[pi] + n, tok, tl);
				n += tl;
				if (fast_rand(8) != 0) { /* sometimes no separator: words run together */
					memcpy(buf[pi] + n, sp, sl);
					n += sl;
				}
			}
			/* often a lexicon word ends the text, with no separator after it */
			const char *last = vocab[fast_rand(sizeof vocab / sizeof vocab[0])];
			if (fast_rand(2) == 0 && n + strlen(last) <= sizeof buf[pi]) {
				memcpy(buf[pi] + n, last, strlen(last));
				n += strlen(last);
			}
			parts[pi] = (struct aiact_text){buf[pi], n};
		}
		unsigned media = fast_rand(4) == 0 ? (unsigned)fast_rand(8) : 0;
		struct aiact_result a, b;
		aiact_screen(m, parts, np, media, &a);
		aiact_screen_reference(m, parts, np, media, &b);
		int same = a.features == b.features && a.media == b.media;
		for (unsigned p = 0; p < AIACT_PRACTICE_COUNT && same; p++)
			same = a.hits[p].found == b.hits[p].found && (!a.hits[p].found ||
			    (a.hits[p].part == b.hits[p].part && a.hits[p].start == b.hits[p].start &&
			    a.hits[p].end == b.hits[p].end));
		differ += !same;
		texts++;
		with_features += b.features != 0;
	}
	ok(differ == 0, "fast loop = byte-class reference on %lu random requests (%lu differ)", texts, differ);
	ok(with_features > 2000, "%lu of them with AI Act features", with_features);
}

int main(void)
{
	char err[200];
	m = aiact_model_new(err, sizeof err);
	ok(m != NULL, "the lexicons compile (%s)", m ? "ok" : err);
	if (!m) {
		tap_done();
		return tap_exit_status();
	}
	test_shapes();
	test_request_parts();
	test_languages();
	test_negation();
	test_huge();
	test_names();
	test_fast_loop();
	const char *src = getenv("top_srcdir");
	char packs[900];
	snprintf(packs, sizeof packs, "%s/policies/packs", src ? src : "..");
	test_pipeline_and_overrides(packs);
	aiact_model_free(m);
	tap_done();
	return tap_exit_status();
}
