/* Fuzzes the transparency scanner (what decides where the Art. 50 marker
 * goes in an upstream's answer) and checks it against jansson: both must
 * agree on whether the input is one JSON object, and the reported spans
 * must lie inside the input. An input that is a JSON object is also fed
 * to the "transparency" section parser, and every input to the RFC 8187
 * encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gateway/gwconfig.h"
#include "gateway/transparency.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct transparency_scan s;
	int rc = transparency_scan_object(p, size, &s);
	if (rc == 0) {
		if (s.open >= size || p[s.open] != '{')
			abort();
		if (s.model && (s.model < p || s.model + s.model_len > p + size))
			abort();
	}
	/* jansson validates UTF-8 and the scanner does not (it never decodes
	 * text), and jansson limits depth differently: compare on ASCII
	 * inputs without deep nesting only. */
	int ascii = 1, depth = 0, maxd = 0;
	for (size_t i = 0; i < size; i++) {
		if (data[i] >= 0x80 || data[i] == 0)
			ascii = 0;
		if (data[i] == '{' || data[i] == '[')
			depth++, maxd = depth > maxd ? depth : maxd;
		else if (data[i] == '}' || data[i] == ']')
			depth--;
	}
	if (ascii && maxd < 64) {
		json_t *j = json_loadb(p, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		int want = j && json_is_object(j) ? 0 : -1;
		json_decref(j);
		if (want != rc)
			abort();
	}
	json_t *section = json_loadb(p, size, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(section)) {
		struct config cfg;
		struct transparency_rt *rt = NULL;
		char err[512];
		memset(&cfg, 0, sizeof cfg);
		cfg.file = (char *)"fuzz.json";
		cfg.transparency = section;
		int lr = transparency_load(&cfg, &rt, err, sizeof err);
		if ((lr == 0) != (rt != NULL) || (lr < 0 && !memchr(err, 0, sizeof err)))
			abort();
		transparency_free(rt);
	}
	json_decref(section);
	size_t cap = 7 + 3 * size + 1;
	char *ev = malloc(cap);
	if (ev) {
		int l = transparency_ext_value(p, size, ev, cap);
		if (l < 0 || (size_t)l >= cap || strlen(ev) != (size_t)l)
			abort();
		free(ev);
	}
	return 0;
}
