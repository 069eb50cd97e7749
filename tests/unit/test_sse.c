/* SSE event parser: framing by blank lines with every line ending, field
 * handling, and incremental feeding. */
#include <string.h>

#include "gateway/sse.h"
#include "tests/tap.h"

int main(void)
{
	char data[512];
	struct sse_event ev;
	const char *s = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
	int rc = sse_parse_event(s, strlen(s), &ev, data);
	is_int(rc, SSE_PARSE_EVENT, "first event");
	is_int(ev.raw_len, 15, "raw length includes the blank line");
	ok(ev.data_len == 7 && memcmp(ev.data, "{\"a\":1}", 7) == 0, "data without the leading space");
	ok(!ev.is_done, "not the end marker");
	rc = sse_parse_event(s + ev.raw_len, strlen(s) - ev.raw_len, &ev, data);
	ok(rc == SSE_PARSE_EVENT && ev.is_done, "[DONE] recognised");

	s = "event: delta\r\nid: 42\r\ndata: a\r\ndata:b\r\n\r\n";
	rc = sse_parse_event(s, strlen(s), &ev, data);
	is_int(rc, SSE_PARSE_EVENT, "CRLF event");
	ok(ev.type_len == 5 && memcmp(ev.type, "delta", 5) == 0, "event type");
	ok(ev.id_len == 2 && memcmp(ev.id, "42", 2) == 0, "event id");
	ok(ev.data_len == 3 && memcmp(ev.data, "a\nb", 3) == 0, "data lines joined by LF");
	is_int(ev.raw_len, strlen(s), "whole CRLF event used");

	s = "data: x\r\rdata: y\r\r";
	rc = sse_parse_event(s, strlen(s), &ev, data);
	ok(rc == SSE_PARSE_EVENT && ev.raw_len == 9, "CR-only line ends");

	s = ": keep-alive\n\n";
	rc = sse_parse_event(s, strlen(s), &ev, data);
	ok(rc == SSE_PARSE_EVENT && !ev.has_data, "comment-only event has no data");

	s = "data: x\r";
	is_int(sse_parse_event(s, strlen(s), &ev, data), SSE_PARSE_AGAIN, "trailing CR waits for a possible LF");
	s = "data: x\n";
	is_int(sse_parse_event(s, strlen(s), &ev, data), SSE_PARSE_AGAIN, "no blank line yet");
	is_int(sse_parse_event("data: a\0b\n\n", 11, &ev, data), SSE_PARSE_ERROR, "NUL refused");

	/* Byte by byte: the event appears exactly when its blank line does. */
	s = "data: hello\n\n";
	size_t n = strlen(s), first = 0;
	for (size_t i = 1; i <= n; i++)
		if (sse_parse_event(s, i, &ev, data) == SSE_PARSE_EVENT && !first)
			first = i;
	is_int(first, n, "incremental: complete only at the blank line");
	s = "data\n\n";
	rc = sse_parse_event(s, strlen(s), &ev, data);
	ok(rc == SSE_PARSE_EVENT && ev.has_data && ev.data_len == 0, "field without colon: empty data");
	tap_done();
	return tap_exit_status();
}
