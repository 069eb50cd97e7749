/* Fuzzes the request path's parsing: the HTTP head parser fed in two
 * pieces (incremental resume), chunked body decoding, and JSON body
 * validation for every route. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http.h"
#include "gateway/openai.h"
#include "gateway/request_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	static struct http_request r;
	http_request_init(&r);
	size_t split = size ? data[0] % (size + 1) : 0;
	int rc = http_parse_request(&r, buf, split, 4096, 1 << 20);
	if (rc == HTTP_PARSE_AGAIN)
		rc = http_parse_request(&r, buf, size, 4096, 1 << 20);
	if (rc == HTTP_PARSE_DONE) {
		/* Every span must lie inside the head. */
		for (int i = 0; i < r.n_headers; i++)
			if (r.headers[i].value.off + r.headers[i].value.len > r.head_len)
				abort();
		request_id_valid(buf + r.request_id.off, r.request_id.len);
		const char *body = buf + r.head_len;
		size_t blen = size - r.head_len;
		char *dec = malloc(blen + 1);
		if (r.chunked && dec) {
			struct http_chunked ch;
			size_t used = 0, outlen = 0;
			http_chunked_init(&ch);
			if (http_chunked_decode(&ch, body, blen, &used, dec, &outlen) != HTTP_PARSE_ERROR &&
			    (used > blen || outlen > used))
				abort();
			body = dec;
			blen = outlen;
		}
		int st;
		const struct openai_route_def *route = openai_route_find(buf + r.path.off, r.path.len, r.method, &st);
		if (!route)
			route = openai_route_get(data[0] % OPENAI_ROUTE_COUNT);
		char err[256];
		int stream;
		json_t *j = openai_body_parse(route, body, blen, &stream, err, sizeof err);
		json_decref(j);
		free(dec);
	}
	/* The response parser and the chunked decoder on the raw input too. */
	struct http_response resp;
	http_response_init(&resp);
	http_parse_response(&resp, buf, size, 4096);
	char *out = malloc(size + 1);
	if (out) {
		struct http_chunked ch;
		size_t used = 0, outlen = 0;
		http_chunked_init(&ch);
		http_chunked_decode(&ch, buf, size, &used, out, &outlen);
		if (used > size || outlen > size)
			abort();
		free(out);
	}
	return 0;
}
