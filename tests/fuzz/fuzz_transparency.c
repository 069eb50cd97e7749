/* Fuzzes the transparency scanner (what decides where the Art. 50 marker
 * goes in an upstream's answer) and checks it against jansson: both must
 * agree on whether the input is one JSON object, and the reported spans
 * must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	return 0;
}
