/* HTTP/1.1 parsing as pure functions over a buffer (no I/O): the request
 * head, the upstream's response head, and chunked transfer coding
 * (RFC 9112). The server feeds whatever bytes it has; the parsers say
 * "done", "need more" or "error" with the status to answer. */
#ifndef HAFEN_GATEWAY_HTTP_H
#define HAFEN_GATEWAY_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum http_parse {
	HTTP_PARSE_ERROR = -1,
	HTTP_PARSE_AGAIN = 0,
	HTTP_PARSE_DONE = 1,
};

enum http_method {
	HTTP_METHOD_OTHER,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_PATCH,
};

/* Offsets into the caller's buffer; len 0 with off 0 means absent. */
struct http_span {
	uint32_t off;
	uint32_t len;
};

#define HTTP_MAX_HEADERS 100

struct http_header {
	struct http_span name;
	struct http_span value;
};

struct http_request {
	/* Incremental state: how far the end of the head was searched. */
	size_t scanned;
	/* Results, valid after HTTP_PARSE_DONE. */
	int method; /* enum http_method */
	struct http_span method_name;
	struct http_span target;
	struct http_span path; /* target without ?query */
	int version_minor;     /* HTTP/1.<n> */
	struct http_header headers[HTTP_MAX_HEADERS];
	int n_headers;
	size_t head_len;         /* bytes of the head including the blank line */
	long long content_length; /* -1 when absent */
	int chunked;
	int keep_alive;
	int expect_continue;
	struct http_span authorization;
	struct http_span request_id;
	/* On HTTP_PARSE_ERROR: the status to answer and why (no input bytes). */
	int status;
	const char *error;
};

struct http_response {
	size_t scanned;
	int status;
	int version_minor;
	size_t head_len;
	long long content_length;
	int chunked;
	int keep_alive;
	int event_stream; /* Content-Type: text/event-stream */
	struct http_header headers[HTTP_MAX_HEADERS];
	int n_headers;
	const char *error;
};

struct http_chunked {
	int state;
	uint64_t remaining;
	int digits;
};

void http_request_init(struct http_request *r);
/* Parses the request head in buf[0..len). AGAIN: feed more bytes (the same
 * buffer, grown); DONE: r describes the head (r->head_len bytes); ERROR:
 * r->status (400, 413, 431, 501, 505) and r->error. max_body is checked
 * against Content-Length. */
int http_parse_request(struct http_request *r, const char *buf, size_t len,
    size_t max_head, long long max_body);

void http_response_init(struct http_response *r);
int http_parse_response(struct http_response *r, const char *buf, size_t len, size_t max_head);

void http_chunked_init(struct http_chunked *c);
/* Decodes chunked coding from in[0..inlen): copies payload bytes to out
 * (which has room for inlen bytes), sets *consumed and *outlen. Returns
 * DONE after the last chunk and trailers, AGAIN for more, ERROR. */
int http_chunked_decode(struct http_chunked *c, const char *in, size_t inlen,
    size_t *consumed, char *out, size_t *outlen);

/* Case-insensitive header name compare against a NUL-terminated name. */
int http_span_eq(const char *buf, struct http_span s, const char *name);
const char *http_status_reason(int status);

/* Writes a response head into buf without printf (once per response):
 * "HTTP/1.1 <status> <reason>", Content-Type, the framing (Content-Length
 * when body_len >= 0, else Transfer-Encoding: chunked when chunked),
 * X-Request-Id, the extra lines (each ending in CRLF; the list ends with
 * NULL); not the blank line, which the caller adds after the filters'
 * fields. Returns the length, or 0 when it does not fit cap bytes. */
size_t http_head_format(char *buf, size_t cap, int status, const char *content_type, long long body_len,
    int chunked, const char *request_id, const char *const *extra);

#endif
