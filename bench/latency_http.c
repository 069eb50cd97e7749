/* HTTP/1.1 response framing for bench/latency (RFC 9112). Strict on
 * purpose: the tool measures servers of this project and their peers, and
 * an answer it cannot delimit exactly is a failed request, never a sample. */
#include "latency_http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

__attribute__((format(printf, 2, 3)))
static enum latency_http_result latency_http_fail(struct latency_http_response *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	return LATENCY_HTTP_RESULT_ERROR;
}

/* RFC 9110 section 5.6.2: tchar. */
static int latency_http_is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return 1;
	return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int latency_http_hex(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Does the comma-separated list v[0..n) hold the token tok (any case)? */
static int latency_http_list_has(const char *v, size_t n, const char *tok)
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

/* The last member of the list v[0..n), for Transfer-Encoding. */
static int latency_http_list_last_is(const char *v, size_t n, const char *tok)
{
	size_t e = n;
	while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	size_t s = e;
	while (s > 0 && v[s - 1] != ',' && v[s - 1] != ' ' && v[s - 1] != '\t')
		s--;
	return e - s == strlen(tok) && strncasecmp(v + s, tok, e - s) == 0;
}

/* One header field line: name ":" OWS value OWS (RFC 9112 section 5). */
static enum latency_http_result latency_http_field(const char *l, size_t n, int *have_keep_alive,
    struct latency_http_response *r)
{
	size_t c = 0;
	while (c < n && latency_http_is_tchar((unsigned char)l[c]))
		c++;
	if (c == 0 || c >= n || l[c] != ':')
		return latency_http_fail(r, "malformed header field line");
	const char *name = l;
	size_t name_len = c;
	size_t vs = c + 1, ve = n;
	while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
		vs++;
	while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;
	for (size_t i = vs; i < ve; i++)
		if (l[i] == '\r' || l[i] == '\n' || l[i] == 0)
			return latency_http_fail(r, "control character in a header field value");
	const char *v = l + vs;
	size_t vn = ve - vs;
	if (name_len == 14 && strncasecmp(name, "content-length", 14) == 0) {
		long long cl = 0;
		if (vn == 0 || vn > 15)
			return latency_http_fail(r, "bad Content-Length");
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return latency_http_fail(r, "bad Content-Length");
			cl = cl * 10 + (v[i] - '0');
		}
		if (r->content_length >= 0 && r->content_length != cl)
			return latency_http_fail(r, "conflicting Content-Length fields");
		r->content_length = cl;
	} else if (name_len == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
		if (!latency_http_list_last_is(v, vn, "chunked"))
			return latency_http_fail(r, "Transfer-Encoding without chunked last: no way to delimit the body");
		r->chunked = 1;
	} else if (name_len == 10 && strncasecmp(name, "connection", 10) == 0) {
		if (latency_http_list_has(v, vn, "close"))
			r->close = 1;
		if (latency_http_list_has(v, vn, "keep-alive"))
			*have_keep_alive = 1;
	}
	return LATENCY_HTTP_RESULT_DONE;
}

/* The chunked body from p[0..n) (RFC 9112 section 7.1): its coded length
 * in *used and its decoded length in *body when complete. */
static enum latency_http_result latency_http_chunked(const char *p, size_t n, size_t max_body,
    size_t *used, size_t *body, struct latency_http_response *r)
{
	size_t i = 0, total = 0;
	for (;;) {
		size_t size = 0, digits = 0;
		int h;
		while (i < n && (h = latency_http_hex((unsigned char)p[i])) >= 0) {
			if (++digits > 15)
				return latency_http_fail(r, "chunk size too long");
			size = size * 16 + (size_t)h;
			i++;
		}
		if (i >= n)
			return LATENCY_HTTP_RESULT_AGAIN;
		if (digits == 0)
			return latency_http_fail(r, "malformed chunk size");
		/* chunk-ext (skipped), then CRLF */
		while (i < n && p[i] != '\r' && p[i] != '\n') {
			if (p[i] != ';' && p[i] != ' ' && p[i] != '\t' && p[i] != '=' && p[i] != '"' &&
			    !latency_http_is_tchar((unsigned char)p[i]))
				return latency_http_fail(r, "malformed chunk extension");
			i++;
		}
		if (i + 2 > n)
			return LATENCY_HTTP_RESULT_AGAIN;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return latency_http_fail(r, "chunk size line not ended by CRLF");
		i += 2;
		if (size == 0)
			break;
		if (size > max_body - total)
			return latency_http_fail(r, "body larger than %zu bytes", max_body);
		total += size;
		if (n - i < size + 2)
			return LATENCY_HTTP_RESULT_AGAIN;
		i += size;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return latency_http_fail(r, "chunk data not ended by CRLF");
		i += 2;
	}
	/* trailer section: field lines up to an empty line */
	for (;;) {
		const char *eol = memchr(p + i, '\n', n - i);
		if (!eol) {
			if (n - i > LATENCY_HTTP_MAX_HEAD)
				return latency_http_fail(r, "trailer section too large");
			return LATENCY_HTTP_RESULT_AGAIN;
		}
		size_t len = (size_t)(eol - (p + i));
		if (len == 0 || p[i + len - 1] != '\r')
			return latency_http_fail(r, "trailer line not ended by CRLF");
		i += len + 1;
		if (len == 1)
			break;
	}
	*used = i;
	*body = total;
	return LATENCY_HTTP_RESULT_DONE;
}

enum latency_http_result latency_http_parse(const char *p, size_t n, size_t max_body,
    struct latency_http_response *r)
{
	memset(r, 0, sizeof *r);
	r->content_length = -1;
	size_t scan = n < LATENCY_HTTP_MAX_HEAD ? n : LATENCY_HTTP_MAX_HEAD;
	const char *end = memmem(p, scan, "\r\n\r\n", 4);
	if (!end)
		return n >= LATENCY_HTTP_MAX_HEAD ? latency_http_fail(r, "response head over %d bytes",
		    LATENCY_HTTP_MAX_HEAD) : LATENCY_HTTP_RESULT_AGAIN;
	r->head_len = (size_t)(end - p) + 4;
	/* status-line = HTTP-version SP status-code SP [reason-phrase] */
	if (r->head_len < 16 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
	    (p[12] != ' ' && p[12] != '\r'))
		return latency_http_fail(r, "malformed status line");
	int http10 = p[7] == '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	const char *line = memchr(p, '\n', r->head_len);
	int keep_alive = 0;
	if (!line || line[-1] != '\r')
		return latency_http_fail(r, "status line not ended by CRLF");
	line++;
	while (line < end + 2) {
		const char *eol = memchr(line, '\n', (size_t)(end + 4 - line));
		if (!eol || eol == line || eol[-1] != '\r')
			return latency_http_fail(r, "header line not ended by CRLF");
		size_t len = (size_t)(eol - line) - 1;
		if (len == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return latency_http_fail(r, "obsolete line folding");
		if (latency_http_field(line, len, &keep_alive, r) < 0)
			return LATENCY_HTTP_RESULT_ERROR;
		line = eol + 1;
	}
	if (http10 && !keep_alive)
		r->close = 1;
	if (r->status < 200)
		return latency_http_fail(r, "interim response %d (no Expect was sent)", r->status);
	size_t rest = n - r->head_len;
	if (r->status == 204 || r->status == 304) {
		r->total_len = r->head_len;
		return LATENCY_HTTP_RESULT_DONE;
	}
	if (r->chunked) {
		if (r->content_length >= 0)
			return latency_http_fail(r, "both Content-Length and Transfer-Encoding");
		size_t used = 0;
		enum latency_http_result rc = latency_http_chunked(p + r->head_len, rest, max_body, &used,
		    &r->body_len, r);
		if (rc == LATENCY_HTTP_RESULT_DONE)
			r->total_len = r->head_len + used;
		return rc;
	}
	if (r->content_length < 0)
		return latency_http_fail(r, "neither Content-Length nor chunked: the body ends only at close");
	if ((unsigned long long)r->content_length > max_body)
		return latency_http_fail(r, "body larger than %zu bytes", max_body);
	if (rest < (size_t)r->content_length)
		return LATENCY_HTTP_RESULT_AGAIN;
	r->body_len = (size_t)r->content_length;
	r->total_len = r->head_len + r->body_len;
	return LATENCY_HTTP_RESULT_DONE;
}
