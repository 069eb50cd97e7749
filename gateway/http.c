/* HTTP/1.1 request and response heads, chunked coding (RFC 9112).
 * Strict on purpose: a gateway that accepts what its upstream reads
 * differently is a request-smuggling hole (RFC 9112 section 6.3, 11.2). So
 * lines end in CRLF, obs-fold is refused, Content-Length must be one
 * unambiguous number, and Transfer-Encoding together with Content-Length is
 * an error. */
#include "http.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 section 5.6.2: tchar. */
static const unsigned char http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
	['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static const struct {
	const char *name;
	int method;
} http_methods[] = {
	{"GET", HTTP_METHOD_GET},
	{"HEAD", HTTP_METHOD_HEAD},
	{"POST", HTTP_METHOD_POST},
	{"PUT", HTTP_METHOD_PUT},
	{"DELETE", HTTP_METHOD_DELETE},
	{"OPTIONS", HTTP_METHOD_OPTIONS},
	{"PATCH", HTTP_METHOD_PATCH},
};

static const struct {
	int status;
	const char *reason;
} http_reasons[] = {
	{100, "Continue"}, {200, "OK"}, {201, "Created"}, {204, "No Content"},
	{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
	{405, "Method Not Allowed"}, {408, "Request Timeout"}, {411, "Length Required"},
	{413, "Content Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Content"},
	{429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
	{503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
};

const char *http_status_reason(int status)
{
	for (size_t i = 0; i < sizeof http_reasons / sizeof http_reasons[0]; i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return "Unknown";
}

struct http_out {
	char *p, *end;
};

static int http_out_put(struct http_out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		return -1;
	memcpy(o->p, s, n);
	o->p += n;
	return 0;
}

static int http_out_str(struct http_out *o, const char *s)
{
	return http_out_put(o, s, strlen(s));
}

static int http_out_num(struct http_out *o, long long v)
{
	char d[24];
	size_t n = sizeof d;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		d[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--n] = '-';
	return http_out_put(o, d + n, sizeof d - n);
}

size_t http_head_format(char *buf, size_t cap, int status, const char *content_type, long long body_len,
    int chunked, const char *request_id, const char *const *extra)
{
	struct http_out o = {buf, buf + cap};
	int rc = http_out_str(&o, "HTTP/1.1 ") | http_out_num(&o, status) | http_out_str(&o, " ") |
	    http_out_str(&o, http_status_reason(status)) | http_out_str(&o, "\r\nContent-Type: ") |
	    http_out_str(&o, content_type) | http_out_str(&o, "\r\n");
	if (body_len >= 0)
		rc |= http_out_str(&o, "Content-Length: ") | http_out_num(&o, body_len) | http_out_str(&o, "\r\n");
	else if (chunked)
		rc |= http_out_str(&o, "Transfer-Encoding: chunked\r\n");
	rc |= http_out_str(&o, "X-Request-Id: ") | http_out_str(&o, request_id) | http_out_str(&o, "\r\n");
	for (size_t i = 0; extra && extra[i]; i++)
		rc |= http_out_str(&o, extra[i]);
	return rc ? 0 : (size_t)(o.p - buf);
}

int http_span_eq(const char *buf, struct http_span s, const char *name)
{
	size_t n = strlen(name);
	return s.len == n && strncasecmp(buf + s.off, name, n) == 0;
}

static struct http_span http_span_make(size_t off, size_t len)
{
	struct http_span s = {(uint32_t)off, (uint32_t)len};
	return s;
}

/* Finds CRLFCRLF, resuming where the last call stopped. Returns the head
 * length or 0. */
static size_t http_find_head_end(size_t *scanned, const char *buf, size_t len)
{
	size_t i = *scanned > 3 ? *scanned - 3 : 0;
	for (; i + 4 <= len; i++) {
		const char *p = memchr(buf + i, '\r', len - i);
		if (!p)
			break;
		i = (size_t)(p - buf);
		if (i + 4 <= len && p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
			return i + 4;
	}
	*scanned = len;
	return 0;
}

/* Does a comma-separated header value contain token tok? */
static int http_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* Parses header lines from p (just after the start line) up to end (the
 * blank line). Returns 0 or an error message. */
static const char *http_parse_headers(const char *buf, size_t p, size_t end,
    struct http_header *hs, int *n_out)
{
	int n = 0;
	while (p < end) {
		size_t ls = p;
		const char *cr = memchr(buf + p, '\r', end - p);
		if (!cr || cr[1] != '\n')
			return "header line not ended by CRLF";
		size_t le = (size_t)(cr - buf);
		if (le == ls)
			break; /* the blank line */
		if (buf[ls] == ' ' || buf[ls] == '\t')
			return "obsolete line folding";
		size_t q = ls;
		while (q < le && http_tchar[(unsigned char)buf[q]])
			q++;
		if (q == ls || q >= le || buf[q] != ':')
			return "malformed header name";
		size_t vs = q + 1, ve = le;
		while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t'))
			vs++;
		while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
			ve--;
		for (size_t k = vs; k < ve; k++) {
			unsigned char c = (unsigned char)buf[k];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return "control character in header value";
		}
		if (n == HTTP_MAX_HEADERS)
			return "too many header fields";
		hs[n].name = http_span_make(ls, q - ls);
		hs[n].value = http_span_make(vs, ve - vs);
		n++;
		p = le + 2;
	}
	*n_out = n;
	return NULL;
}

/* Content-Length: 1*DIGIT; a repeated field must repeat the same value. */
static int http_parse_length(const char *v, size_t n, long long *out)
{
	if (n == 0 || n > 18)
		return -1;
	long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (*out >= 0 && *out != x)
		return -1;
	*out = x;
	return 0;
}

/* Framing common to both directions. Returns an error message or NULL. */
static const char *http_parse_framing(const char *buf, const struct http_header *hs, int n,
    long long *content_length, int *chunked, int *conn_close, int *conn_keep, int *te_other)
{
	int te = 0;
	*content_length = -1;
	*chunked = 0;
	*te_other = 0;
	for (int i = 0; i < n; i++) {
		const char *v = buf + hs[i].value.off;
		size_t vl = hs[i].value.len;
		if (http_span_eq(buf, hs[i].name, "content-length")) {
			if (http_parse_length(v, vl, content_length) < 0)
				return "invalid Content-Length";
		} else if (http_span_eq(buf, hs[i].name, "transfer-encoding")) {
			te = 1;
			/* Only "chunked" alone is understood (RFC 9112 section 6.1). */
			if (vl == 7 && strncasecmp(v, "chunked", 7) == 0 && !*chunked)
				*chunked = 1;
			else
				*te_other = 1;
		} else if (http_span_eq(buf, hs[i].name, "connection")) {
			if (http_has_token(v, vl, "close"))
				*conn_close = 1;
			if (http_has_token(v, vl, "keep-alive"))
				*conn_keep = 1;
		}
	}
	if (te && *content_length >= 0)
		return "both Transfer-Encoding and Content-Length";
	return NULL;
}

void http_request_init(struct http_request *r)
{
	r->scanned = 0;
	r->n_headers = 0;
	r->status = 0;
	r->error = NULL;
}

static int http_request_fail(struct http_request *r, int status, const char *why)
{
	r->status = status;
	r->error = why;
	return HTTP_PARSE_ERROR;
}

int http_parse_request(struct http_request *r, const char *buf, size_t len,
    size_t max_head, long long max_body)
{
	/* A client may send CRLFs between requests (RFC 9112 section 2.2)
	 * but only leading ones; the caller drops them first. */
	size_t end = http_find_head_end(&r->scanned, buf, len);
	if (end == 0) {
		if (len > max_head)
			return http_request_fail(r, 431, "request head too large");
		/* Fail early on garbage instead of waiting for max_head bytes. */
		for (size_t i = 0; i < len && i < 16; i++) {
			unsigned char c = (unsigned char)buf[i];
			if (c == ' ')
				break;
			if (!http_tchar[c])
				return http_request_fail(r, 400, "malformed request line");
		}
		return HTTP_PARSE_AGAIN;
	}
	if (end > max_head)
		return http_request_fail(r, 431, "request head too large");
	r->head_len = end;
	/* Request line: method SP request-target SP HTTP-version CRLF. */
	const char *cr = memchr(buf, '\r', end);
	size_t le = (size_t)(cr - buf);
	if (cr[1] != '\n')
		return http_request_fail(r, 400, "request line not ended by CRLF");
	size_t p = 0;
	while (p < le && http_tchar[(unsigned char)buf[p]])
		p++;
	if (p == 0 || p >= le || buf[p] != ' ')
		return http_request_fail(r, 400, "malformed request line");
	r->method_name = http_span_make(0, p);
	r->method = HTTP_METHOD_OTHER;
	for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++)
		if (strlen(http_methods[i].name) == p && memcmp(buf, http_methods[i].name, p) == 0)
			r->method = http_methods[i].method;
	size_t ts = ++p;
	while (p < le && (unsigned char)buf[p] > ' ' && buf[p] != 0x7f)
		p++;
	if (p == ts || p >= le || buf[p] != ' ')
		return http_request_fail(r, 400, "malformed request target");
	r->target = http_span_make(ts, p - ts);
	const char *q = memchr(buf + ts, '?', p - ts);
	r->path = http_span_make(ts, q ? (size_t)(q - buf) - ts : p - ts);
	p++;
	if (le - p != 8 || memcmp(buf + p, "HTTP/1.", 7) != 0 || buf[p + 7] < '0' || buf[p + 7] > '9') {
		if (le - p == 8 && memcmp(buf + p, "HTTP/", 5) == 0)
			return http_request_fail(r, 505, "unsupported HTTP version");
		return http_request_fail(r, 400, "malformed HTTP version");
	}
	r->version_minor = buf[p + 7] - '0';
	const char *e = http_parse_headers(buf, le + 2, end, r->headers, &r->n_headers);
	if (e)
		return http_request_fail(r, 400, e);
	int conn_close = 0, conn_keep = 0, te_other = 0, hosts = 0;
	e = http_parse_framing(buf, r->headers, r->n_headers, &r->content_length, &r->chunked,
	    &conn_close, &conn_keep, &te_other);
	if (e)
		return http_request_fail(r, 400, e);
	if (te_other)
		return http_request_fail(r, 501, "unsupported Transfer-Encoding");
	r->authorization = http_span_make(0, 0);
	r->request_id = http_span_make(0, 0);
	r->expect_continue = 0;
	for (int i = 0; i < r->n_headers; i++) {
		struct http_header *h = &r->headers[i];
		if (http_span_eq(buf, h->name, "authorization"))
			r->authorization = h->value;
		else if (http_span_eq(buf, h->name, "x-request-id"))
			r->request_id = h->value;
		else if (http_span_eq(buf, h->name, "host"))
			hosts++;
		else if (http_span_eq(buf, h->name, "expect") && http_span_eq(buf, h->value, "100-continue"))
			r->expect_continue = 1;
	}
	/* RFC 9112 section 3.2: HTTP/1.1 requests carry exactly one Host. */
	if (hosts > 1 || (hosts == 0 && r->version_minor >= 1))
		return http_request_fail(r, 400, "missing or repeated Host header");
	if (r->content_length > max_body)
		return http_request_fail(r, 413, "request body too large");
	r->keep_alive = r->version_minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	return HTTP_PARSE_DONE;
}

void http_response_init(struct http_response *r)
{
	r->scanned = 0;
	r->n_headers = 0;
	r->error = NULL;
}

int http_parse_response(struct http_response *r, const char *buf, size_t len, size_t max_head)
{
	size_t end = http_find_head_end(&r->scanned, buf, len);
	if (end == 0) {
		if (len > max_head) {
			r->error = "response head too large";
			return HTTP_PARSE_ERROR;
		}
		if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0) {
			r->error = "not an HTTP response";
			return HTTP_PARSE_ERROR;
		}
		return HTTP_PARSE_AGAIN;
	}
	if (end > max_head) {
		r->error = "response head too large";
		return HTTP_PARSE_ERROR;
	}
	r->head_len = end;
	const char *cr = memchr(buf, '\r', end);
	size_t le = (size_t)(cr - buf);
	/* HTTP/1.x SP 3DIGIT SP reason */
	if (le < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' || buf[8] != ' ' ||
	    buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
	    buf[11] > '9' || (le > 12 && buf[12] != ' ')) {
		r->error = "malformed status line";
		return HTTP_PARSE_ERROR;
	}
	r->version_minor = buf[7] - '0';
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	const char *e = http_parse_headers(buf, le + 2, end, r->headers, &r->n_headers);
	if (e) {
		r->error = e;
		return HTTP_PARSE_ERROR;
	}
	int conn_close = 0, conn_keep = 0, te_other = 0;
	e = http_parse_framing(buf, r->headers, r->n_headers, &r->content_length, &r->chunked,
	    &conn_close, &conn_keep, &te_other);
	if (e || te_other) {
		r->error = e ? e : "unsupported Transfer-Encoding";
		return HTTP_PARSE_ERROR;
	}
	r->keep_alive = r->version_minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	r->event_stream = 0;
	for (int i = 0; i < r->n_headers; i++)
		if (http_span_eq(buf, r->headers[i].name, "content-type")) {
			const char *v = buf + r->headers[i].value.off;
			size_t vl = r->headers[i].value.len;
			r->event_stream = vl >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
		}
	/* No body for 1xx, 204, 304: the caller treats those as length 0. */
	if (r->status == 204 || r->status == 304 || r->status < 200) {
		r->content_length = 0;
		r->chunked = 0;
	}
	return HTTP_PARSE_DONE;
}

/* ---- chunked coding, RFC 9112 section 7.1 ---- */

enum http_chunked_state {
	HTTP_CHUNKED_SIZE,
	HTTP_CHUNKED_EXT,
	HTTP_CHUNKED_SIZE_LF,
	HTTP_CHUNKED_DATA,
	HTTP_CHUNKED_DATA_CR,
	HTTP_CHUNKED_DATA_LF,
	HTTP_CHUNKED_TRAILER_START,
	HTTP_CHUNKED_TRAILER_LINE,
	HTTP_CHUNKED_TRAILER_LF,
	HTTP_CHUNKED_END_LF,
	HTTP_CHUNKED_DONE,
};

void http_chunked_init(struct http_chunked *c)
{
	c->state = HTTP_CHUNKED_SIZE;
	c->remaining = 0;
	c->digits = 0;
}

static int http_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int http_chunked_decode(struct http_chunked *c, const char *in, size_t inlen,
    size_t *consumed, char *out, size_t *outlen)
{
	size_t i = 0, o = 0;
	int rc = HTTP_PARSE_AGAIN;
	while (i < inlen && rc == HTTP_PARSE_AGAIN) {
		char ch = in[i];
		switch (c->state) {
		case HTTP_CHUNKED_SIZE: {
			int v = http_hexval(ch);
			if (v >= 0) {
				/* 15 hex digits = 2^60: no overflow, far above any limit. */
				if (++c->digits > 15)
					goto fail;
				c->remaining = c->remaining * 16 + (uint64_t)v;
				i++;
			} else if (c->digits == 0) {
				goto fail;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = HTTP_CHUNKED_EXT;
				i++;
			} else if (ch == '\r') {
				c->state = HTTP_CHUNKED_SIZE_LF;
				i++;
			} else {
				goto fail;
			}
			break;
		}
		case HTTP_CHUNKED_EXT:
			if (ch == '\r')
				c->state = HTTP_CHUNKED_SIZE_LF;
			else if ((unsigned char)ch < 0x20 && ch != '\t')
				goto fail;
			i++;
			break;
		case HTTP_CHUNKED_SIZE_LF:
			if (ch != '\n')
				goto fail;
			i++;
			c->state = c->remaining ? HTTP_CHUNKED_DATA : HTTP_CHUNKED_TRAILER_START;
			break;
		case HTTP_CHUNKED_DATA: {
			size_t n = inlen - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = HTTP_CHUNKED_DATA_CR;
			break;
		}
		case HTTP_CHUNKED_DATA_CR:
			if (ch != '\r')
				goto fail;
			i++;
			c->state = HTTP_CHUNKED_DATA_LF;
			break;
		case HTTP_CHUNKED_DATA_LF:
			if (ch != '\n')
				goto fail;
			i++;
			c->state = HTTP_CHUNKED_SIZE;
			c->digits = 0;
			c->remaining = 0;
			break;
		case HTTP_CHUNKED_TRAILER_START:
			i++;
			c->state = ch == '\r' ? HTTP_CHUNKED_END_LF : HTTP_CHUNKED_TRAILER_LINE;
			if (ch == '\n')
				goto fail;
			break;
		case HTTP_CHUNKED_TRAILER_LINE:
			if (ch == '\r')
				c->state = HTTP_CHUNKED_TRAILER_LF;
			i++;
			break;
		case HTTP_CHUNKED_TRAILER_LF:
			if (ch != '\n')
				goto fail;
			i++;
			c->state = HTTP_CHUNKED_TRAILER_START;
			break;
		case HTTP_CHUNKED_END_LF:
			if (ch != '\n')
				goto fail;
			i++;
			c->state = HTTP_CHUNKED_DONE;
			rc = HTTP_PARSE_DONE;
			break;
		default:
			rc = HTTP_PARSE_DONE;
			break;
		}
	}
	*consumed = i;
	*outlen = o;
	return rc;
fail:
	*consumed = i;
	*outlen = o;
	return HTTP_PARSE_ERROR;
}
