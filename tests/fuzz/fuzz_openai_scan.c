/* Differential target: the single-pass body scanner (gateway/openai_scan.c)
 * against the tree path it replaces (jansson + openai.c's validators).
 * For every route, both must accept and refuse the same bodies and agree
 * on the stream flag and the model name; openai_body_check must give the
 * tree path's error message; and openai_scan_json must accept exactly
 * what json_loadb(..., 0) accepts. The texts the two passes record
 * (openai_texts) must be exactly those of the span walks they spare
 * (json_span_request_texts, json_span_answer_texts) whenever they hold;
 * openai_scan_json_members must find the members json_span_members finds,
 * and openai_json_quote must write what json_dumps writes for a string.
 * Any difference aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_openai_scan_fail(const char *what, int route)
{
	fprintf(stderr, "fuzz_openai_scan: %s (route %d)\n", what, route);
	abort();
}

/* A record that holds must equal the walk's texts (and media). */
static void fuzz_openai_scan_texts(const struct openai_texts *t, const char *body, size_t size, int request,
    int route)
{
	struct json_span_text *sp;
	size_t ns;
	unsigned media = 0;
	if (!t->ok)
		return;
	int rc = request ? json_span_request_texts(body, size, NULL, 0, &sp, &ns, &media) :
	    json_span_answer_texts(body, size, &sp, &ns);
	if (rc < 0)
		fuzz_openai_scan_fail("texts recorded where the span walk declines", route);
	int same = t->src == body && t->len == size && t->n == ns && t->media == media;
	for (size_t i = 0; same && i < ns; i++)
		same = t->v[i].start == sp[i].start && t->v[i].end == sp[i].end && t->v[i].kind == sp[i].kind &&
		    t->v[i].instruction == sp[i].instruction && t->v[i].escaped == sp[i].escaped;
	free(sp);
	if (!same)
		fuzz_openai_scan_fail("recorded texts differ from the span walk's", route);
}

static void fuzz_openai_scan_route(int route, const char *body, size_t size)
{
	const struct openai_route_def *r = openai_route_get(route);
	char err_tree[256] = "", err_check[256] = "";
	int stream = -1;
	json_t *tree = openai_body_parse(r, body, size, &stream, err_tree, sizeof err_tree);

	struct openai_body_info info;
	int rc = openai_scan_body(route, body, size, &info);
	if (rc != OPENAI_SCAN_DECLINED) {
		if ((rc == OPENAI_SCAN_VALID) != (tree != NULL))
			fuzz_openai_scan_fail(tree ? "scanner refused what jansson accepts" :
			    "scanner accepted what jansson refuses", route);
		if (tree) {
			if (info.stream != stream)
				fuzz_openai_scan_fail("stream flag differs", route);
			json_t *m = json_object_get(tree, "model");
			size_t ml = json_string_length(m);
			if (info.model && (!json_is_string(m) || info.model_len != ml || memcmp(info.model, json_string_value(m), ml) != 0))
				fuzz_openai_scan_fail("model differs", route);
			if (!info.model && json_is_string(m) && ml < sizeof info.model_buf)
				fuzz_openai_scan_fail("model missing", route);
		}
	}

	struct openai_body_info info2;
	int crc = openai_body_check(r, body, size, &info2, err_check, sizeof err_check);
	if ((crc == 0) != (tree != NULL))
		fuzz_openai_scan_fail("openai_body_check disagrees with jansson", route);
	if (tree && info2.stream != stream)
		fuzz_openai_scan_fail("openai_body_check stream flag differs", route);
	if (!tree && strcmp(err_tree, err_check) != 0)
		fuzz_openai_scan_fail("openai_body_check message differs", route);
	struct openai_texts rec;
	int trc = openai_body_check_texts(r, body, size, &info2, &rec, err_check, sizeof err_check);
	if (trc != crc)
		fuzz_openai_scan_fail("openai_body_check_texts disagrees with openai_body_check", route);
	if (trc == 0)
		fuzz_openai_scan_texts(&rec, body, size, 1, route);
	json_decref(tree);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	for (int route = 0; route < OPENAI_ROUTE_COUNT; route++)
		fuzz_openai_scan_route(route, body, size);
	json_t *j = json_loadb(body, size, 0, NULL);
	if ((openai_scan_json(body, size) == 0) != (j != NULL))
		fuzz_openai_scan_fail("openai_scan_json disagrees with json_loadb", -1);
	struct openai_texts rec;
	if ((openai_scan_json_texts(body, size, &rec) == 0) != (j != NULL))
		fuzz_openai_scan_fail("openai_scan_json_texts disagrees with json_loadb", -1);
	if (j)
		fuzz_openai_scan_texts(&rec, body, size, 0, -1);
	/* The members found while validating: json_span_members' on a valid
	 * document, declined where it declines. */
	struct json_span_member a[] = {{.key = "choices"}, {.key = "usage"}, {.key = "id"}};
	struct json_span_member b[] = {{.key = "choices"}, {.key = "usage"}, {.key = "id"}};
	int mrc = openai_scan_json_members(body, size, a, 3);
	if ((mrc >= 0) != (j != NULL))
		fuzz_openai_scan_fail("openai_scan_json_members disagrees with json_loadb", -1);
	if (mrc >= 0 && (mrc == 0) != (json_span_members(body, size, b, 3) == 0))
		fuzz_openai_scan_fail("openai_scan_json_members declines otherwise than json_span_members", -1);
	for (size_t i = 0; mrc == 0 && i < 3; i++)
		if (a[i].found != b[i].found || a[i].start != b[i].start || a[i].end != b[i].end)
			fuzz_openai_scan_fail("openai_scan_json_members finds other members than json_span_members", -1);
	/* The input as a string's text: openai_json_quote writes what
	 * json_dumps(json_stringn()) writes, and refuses what it refuses. */
	if (size <= 4096) {
		static char q[6 * 4096 + 2];
		size_t ql = openai_json_quote(body, size, q, sizeof q);
		json_t *v = json_stringn(body, size);
		char *d = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		json_decref(v);
		if (d ? ql != strlen(d) || memcmp(q, d, ql) != 0 : ql != (size_t)-1)
			fuzz_openai_scan_fail("openai_json_quote differs from json_dumps", -1);
		free(d);
	}
	json_decref(j);
	free(body);
	return 0;
}
