/* libFuzzer target: the AI Act screener (policies/aiact.c) on arbitrary
 * bytes, as raw text cut into parts at NUL bytes, and, when the bytes parse
 * as JSON, as a request body through the pipeline's walk and through the
 * whole policy pipeline with the ai-act pack. Properties: no crash, every
 * hit lies inside its part and starts a word, a practice found in the
 * body is found again when the same body is screened twice, and the
 * screener's fast loop gives exactly what its byte-class reference
 * (aiact_screen_reference) gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/aiact.h"
#include "policies/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct aiact_model *fuzz_model;
static struct policy_set *fuzz_set;
static struct policy_scanner *fuzz_scanner;

static const char fuzz_pack[] =
	"{\"rules\":["
	"{\"id\":\"f\",\"entities\":[\"aiact_5_1_a\",\"aiact_5_1_b\",\"aiact_5_1_c\",\"aiact_5_1_d\","
	"\"aiact_5_1_e\",\"aiact_5_1_f\",\"aiact_5_1_g\",\"aiact_annex3_4\"],\"action\":\"block\"},"
	"{\"id\":\"p\",\"groups\":[\"person\",\"contact\"],\"action\":\"pseudonymize\"}]}";

static void fuzz_init(void)
{
	char err[256];
	fuzz_model = aiact_model_new(err, sizeof err);
	fuzz_set = policy_set_new();
	if (!fuzz_model || !fuzz_set ||
	    policy_file_load_buffer(fuzz_set, "fuzz.json", fuzz_pack, strlen(fuzz_pack), err, sizeof err) < 0)
		abort();
	fuzz_scanner = policy_set_scanner_new(fuzz_set, err, sizeof err);
	if (!fuzz_scanner)
		abort();
}

static void fuzz_check(const struct aiact_result *r, const struct aiact_text *parts, size_t n)
{
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++) {
		const struct aiact_hit *h = &r->hits[p];
		if (!h->found)
			continue;
		if (h->part >= n || h->start >= h->end || h->end > parts[h->part].len)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_model)
		fuzz_init();
	if (size > 1 << 20)
		return 0;

	/* Raw text: parts separated by NUL bytes, media bits from the first byte. */
	struct aiact_text parts[8];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < 8; i++)
		if (i == size || data[i] == 0) {
			parts[n].text = (const char *)data + start;
			parts[n].len = i - start;
			n++;
			start = i + 1;
		}
	struct aiact_result r, ref;
	aiact_screen(fuzz_model, parts, n, size ? data[0] & 7u : 0, &r);
	fuzz_check(&r, parts, n);
	/* the fast loop against the byte-class reference: identical */
	aiact_screen_reference(fuzz_model, parts, n, size ? data[0] & 7u : 0, &ref);
	if (r.features != ref.features || r.media != ref.media)
		abort();
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++)
		if (r.hits[p].found != ref.hits[p].found || (r.hits[p].found && (r.hits[p].part != ref.hits[p].part ||
		    r.hits[p].start != ref.hits[p].start || r.hits[p].end != ref.hits[p].end)))
			abort();

	/* A request body. */
	json_t *body = json_loadb((const char *)data, size, 0, NULL);
	if (!body)
		return 0;
	json_t **fields = NULL;
	size_t nf = 0;
	char err[200];
	if (request_walk_collect(body, &fields, &nf, err, sizeof err) == 0) {
		struct aiact_result a, b;
		aiact_screen_request(fuzz_model, body, fields, nf, &a);
		aiact_screen_request(fuzz_model, body, fields, nf, &b);
		if (memcmp(a.hits, b.hits, sizeof a.hits) != 0 || a.features != b.features)
			abort();
		struct aiact_text *fp = calloc(nf ? nf : 1, sizeof(*fp));
		if (!fp)
			abort();
		for (size_t i = 0; i < nf; i++) {
			fp[i].text = json_string_value(fields[i]);
			fp[i].len = json_string_length(fields[i]);
		}
		fuzz_check(&a, fp, nf);
		free(fp);
	}
	free(fields);

	struct policy_context ctx = { "chat", NULL, "/v1/chat/completions", POLICY_DIRECTION_REQUEST, 0 };
	struct policy_request *req = policy_request_new(fuzz_set, &ctx);
	struct policy_scan_adapter ad = { .scanner = fuzz_scanner };
	policy_findings_init(&ad.findings);
	if (req)
		(void)policy_request_apply(req, body, policy_scan_adapter_fn, &ad, err, sizeof err);
	policy_findings_free(&ad.findings);
	policy_request_free(req);
	json_decref(body);
	return 0;
}
