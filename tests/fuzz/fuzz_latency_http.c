/* Fuzzes bench/latency's response framing: whatever the bytes, a complete
 * answer lies inside them and its parts add up; a prefix of a complete
 * answer is never complete itself or an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/latency_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	struct latency_http_response r;
	enum latency_http_result rc = latency_http_parse(p, size, 4096, &r);
	if (rc == LATENCY_HTTP_RESULT_DONE) {
		if (r.total_len > size || r.head_len > r.total_len || r.status < 200 || r.status > 599 ||
		    r.body_len > 4096 || r.body_len > r.total_len - r.head_len)
			abort();
		/* the same answer with one byte less is incomplete */
		if (r.total_len > 0) {
			struct latency_http_response s;
			if (latency_http_parse(p, r.total_len - 1, 4096, &s) != LATENCY_HTTP_RESULT_AGAIN)
				abort();
		}
	} else if (rc == LATENCY_HTTP_RESULT_ERROR && r.error[0] == 0) {
		abort();
	}
	free(p);
	return 0;
}
