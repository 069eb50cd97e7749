/* HTTP request parser: complete heads, byte-by-byte feeding, limits,
 * pipelining, smuggling defences; response parser; chunked decoding. */
#include <stdio.h>
#include <string.h>

#include "gateway/http.h"
#include "tests/tap.h"

static int parse(const char *s, struct http_request *r)
{
	http_request_init(r);
	return http_parse_request(r, s, strlen(s), 16384, 1 << 20);
}

static void bad(const char *s, int status, const char *name)
{
	struct http_request r;
	int rc = parse(s, &r);
	ok(rc == HTTP_PARSE_ERROR && r.status == status, "%s -> %d", name, status);
	if (rc == HTTP_PARSE_ERROR && r.status != status)
		tap_diag("got %d (%s)", r.status, r.error);
}

/* http_head_format against the printf it replaced in server_send_head. */
static void head_case(int status, const char *ctype, long long body_len, int chunked, const char *rid,
    int keep_alive)
{
	char want[768], got[768], len[48] = "";
	if (body_len >= 0)
		snprintf(len, sizeof len, "Content-Length: %lld\r\n", body_len);
	else if (chunked)
		snprintf(len, sizeof len, "Transfer-Encoding: chunked\r\n");
	const char *a = status == 401 ? "WWW-Authenticate: Bearer realm=\"hafen\"\r\n" : "";
	const char *b = body_len < 0 ? "Cache-Control: no-cache\r\n" : "";
	const char *c = keep_alive ? "" : "Connection: close\r\n";
	int n = snprintf(want, sizeof want, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sX-Request-Id: %s\r\n%s%s%s",
	    status, http_status_reason(status), ctype, len, rid, a, b, c);
	const char *const extra[] = {a, b, c, NULL};
	size_t m = http_head_format(got, sizeof got, status, ctype, body_len, chunked, rid, extra);
	ok(m == (size_t)n && memcmp(got, want, m) == 0, "head %d, length %lld, chunked %d, keep-alive %d", status,
	    body_len, chunked, keep_alive);
	ok(http_head_format(got, (size_t)n - 1, status, ctype, body_len, chunked, rid, extra) == 0,
	    "head one byte too long for the buffer: 0");
}

int main(void)
{
	static struct http_request r;
	const char *req = "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer k1\r\n"
	    "Content-Length: 11\r\nX-Request-Id: abc\r\n\r\n{\"model\":1}";
	int rc = parse(req, &r);
	is_int(rc, HTTP_PARSE_DONE, "complete request head");
	is_int(r.method, HTTP_METHOD_POST, "method");
	ok(http_span_eq(req, r.path, "/v1/chat/completions"), "path without query");
	ok(r.target.len == 24, "target with query");
	is_int(r.content_length, 11, "Content-Length");
	ok(r.keep_alive, "HTTP/1.1 keeps alive by default");
	ok(http_span_eq(req, r.authorization, "Bearer k1"), "Authorization value");
	ok(http_span_eq(req, r.request_id, "abc"), "X-Request-Id value");
	is_int(r.n_headers, 4, "header count");
	is_int(r.head_len, strlen(req) - 11, "head length stops at the body");

	/* Byte by byte: AGAIN until the last byte of the head. */
	size_t hl = strlen(req) - 11, done_at = 0;
	int errors = 0;
	http_request_init(&r);
	for (size_t i = 1; i <= strlen(req); i++) {
		rc = http_parse_request(&r, req, i, 16384, 1 << 20);
		if (rc == HTTP_PARSE_ERROR)
			errors++;
		if (rc == HTTP_PARSE_DONE) {
			done_at = i;
			break;
		}
	}
	ok(errors == 0 && done_at == hl, "byte by byte: done exactly at the end of the head");

	/* Pipelined: two heads back to back, parsed one after the other. */
	const char *two = "GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
	rc = parse(two, &r);
	size_t first = r.head_len;
	ok(rc == HTTP_PARSE_DONE && r.keep_alive && r.content_length == -1, "first pipelined request");
	rc = parse(two + first, &r);
	ok(rc == HTTP_PARSE_DONE && !r.keep_alive && first + r.head_len == strlen(two), "second pipelined request, close");

	rc = parse("GET / HTTP/1.0\r\n\r\n", &r);
	ok(rc == HTTP_PARSE_DONE && !r.keep_alive && r.version_minor == 0, "HTTP/1.0 without Host, no keep-alive");
	rc = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	ok(rc == HTTP_PARSE_DONE && r.keep_alive, "HTTP/1.0 keep-alive");
	rc = parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", &r);
	ok(rc == HTTP_PARSE_DONE && r.chunked && r.expect_continue, "chunked with Expect");
	rc = parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &r);
	ok(rc == HTTP_PARSE_DONE && r.content_length == 5, "repeated identical Content-Length");
	rc = parse("GET / HTTP/1.1\r\nHost: a\r\n", &r);
	is_int(rc, HTTP_PARSE_AGAIN, "incomplete head");

	bad("GET / HTTP/1.1\r\n\r\n", 400, "missing Host");
	bad("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "two Host headers");
	bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "conflicting Content-Length");
	bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "negative Content-Length");
	bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "CL and TE (smuggling)");
	bad("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "unknown transfer coding");
	bad("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obs-fold");
	bad("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, "space in header name");
	bad("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400, "bare LF");
	bad("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 request line");
	bad("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, "double space");
	bad("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413, "body over the limit");
	bad("\x01GET / HTTP/1.1\r\n", 400, "garbage fails before the head is complete");
	bad("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400, "control character in value");

	/* Head size limit: too long without an end, and complete but too long. */
	static char big[20000];
	memset(big, 'a', sizeof big - 1);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	http_request_init(&r);
	rc = http_parse_request(&r, big, strlen(big), 16384, 1 << 20);
	ok(rc == HTTP_PARSE_ERROR && r.status == 431, "endless head -> 431");
	memcpy(big + 17000, "\r\n\r\n", 5);
	http_request_init(&r);
	rc = http_parse_request(&r, big, strlen(big), 16384, 1 << 20);
	ok(rc == HTTP_PARSE_ERROR && r.status == 431, "complete but oversized head -> 431");

	/* Response heads. */
	struct http_response resp;
	const char *rs = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
	http_response_init(&resp);
	rc = http_parse_response(&resp, rs, strlen(rs), 65536);
	ok(rc == HTTP_PARSE_DONE && resp.status == 200 && resp.chunked && resp.event_stream && resp.keep_alive,
	    "streaming response head");
	rs = "HTTP/1.0 502 Bad Gateway\r\n\r\n";
	http_response_init(&resp);
	rc = http_parse_response(&resp, rs, strlen(rs), 65536);
	ok(rc == HTTP_PARSE_DONE && resp.status == 502 && resp.content_length == -1 && !resp.keep_alive,
	    "HTTP/1.0 close-delimited response");
	http_response_init(&resp);
	ok(http_parse_response(&resp, "SSH-2.0-x\r\n", 11, 65536) == HTTP_PARSE_ERROR, "not HTTP");
	http_response_init(&resp);
	ok(http_parse_response(&resp, "HTTP/1.1 99 X\r\n\r\n", 17, 65536) == HTTP_PARSE_ERROR, "bad status code");
	http_response_init(&resp);
	ok(http_parse_response(&resp, "HTTP/1.1 204 No Content\r\n\r\n", 27, 65536) == HTTP_PARSE_DONE &&
	    resp.content_length == 0, "204 has no body");

	/* Chunked: whole, then byte by byte with the same result. */
	const char *ch = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	struct http_chunked c;
	char out[64];
	size_t used, outlen;
	http_chunked_init(&c);
	rc = http_chunked_decode(&c, ch, strlen(ch), &used, out, &outlen);
	ok(rc == HTTP_PARSE_DONE && outlen == 11 && memcmp(out, "hello world", 11) == 0, "chunked decode");
	is_int(used, strlen(ch) - 4, "stops after the trailers");
	http_chunked_init(&c);
	size_t total = 0, pos = 0;
	rc = HTTP_PARSE_AGAIN;
	while (rc == HTTP_PARSE_AGAIN && pos < strlen(ch)) {
		rc = http_chunked_decode(&c, ch + pos, 1, &used, out + total, &outlen);
		pos += used;
		total += outlen;
	}
	ok(rc == HTTP_PARSE_DONE && total == 11 && memcmp(out, "hello world", 11) == 0, "chunked byte by byte");
	http_chunked_init(&c);
	ok(http_chunked_decode(&c, "zz\r\n", 4, &used, out, &outlen) == HTTP_PARSE_ERROR, "bad chunk size");
	http_chunked_init(&c);
	ok(http_chunked_decode(&c, "3\r\nabcX", 7, &used, out, &outlen) == HTTP_PARSE_ERROR, "missing CRLF after data");
	http_chunked_init(&c);
	ok(http_chunked_decode(&c, "1000000000000000\r\n", 18, &used, out, &outlen) == HTTP_PARSE_ERROR, "oversized chunk size");
	head_case(200, "application/json", 471, 0, "0123456789abcdef0123456789abcdef", 1);
	head_case(200, "text/event-stream", -1, 1, "r", 1);
	head_case(200, "text/event-stream", -1, 0, "r", 0);
	head_case(401, "application/json", 0, 0, "id-1", 1);
	head_case(599, "application/json", 9223372036854775807ll, 0, "x", 0);
	head_case(42, "a", 1, 0, "x", 1);
	tap_done();
	return tap_exit_status();
}
