/* The HTTP/1.1 response parser of bench/latency: finds where one complete
 * response ends in the bytes read so far, so that the tool can stop its
 * clock on the last byte and keep the connection for the next request. */
#ifndef HAFEN_BENCH_LATENCY_HTTP_H
#define HAFEN_BENCH_LATENCY_HTTP_H

#include <stddef.h>

enum latency_http_result {
	LATENCY_HTTP_RESULT_ERROR = -1,	/* malformed, or nothing we can delimit */
	LATENCY_HTTP_RESULT_AGAIN = 0,	/* a prefix of a response: read more */
	LATENCY_HTTP_RESULT_DONE = 1,	/* one whole response in p[0..total_len) */
};

/* The largest response head we accept. */
#define LATENCY_HTTP_MAX_HEAD 16384

struct latency_http_response {
	int status;
	int chunked;
	int close;		/* "Connection: close" (or HTTP/1.0 without keep-alive) */
	long long content_length; /* -1 when absent */
	size_t head_len;
	size_t body_len;	/* decoded body bytes, when DONE */
	size_t total_len;	/* head + coded body, when DONE */
	char error[128];
};

/* Parses the response at the start of p[0..n). Stateless: called again
 * with more bytes it starts over (the answers measured are a few hundred
 * bytes). A body over max_body bytes is an error. */
enum latency_http_result latency_http_parse(const char *p, size_t n, size_t max_body,
    struct latency_http_response *r);

#endif
