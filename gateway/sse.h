/* Server-sent events (WHATWG HTML, "Server-sent events", event stream
 * interpretation) as a pure parser over a buffer: the relay needs each
 * event whole so later stages (pseudonym restoring) see events, not
 * arbitrary TCP pieces. */
#ifndef HAFEN_GATEWAY_SSE_H
#define HAFEN_GATEWAY_SSE_H

#include <stddef.h>

enum sse_parse {
	SSE_PARSE_ERROR = -1,
	SSE_PARSE_AGAIN = 0,
	SSE_PARSE_EVENT = 1,
};

struct sse_event {
	size_t raw_len;   /* bytes of buf this event used, blank line included */
	const char *type; /* "event:" value (points into buf), or NULL */
	size_t type_len;
	const char *id;
	size_t id_len;
	char *data;       /* caller's buffer: data lines joined by \n */
	size_t data_len;
	int has_data;
	int is_done;      /* data is exactly "[DONE]" (OpenAI's end marker) */
};

/* Looks for one complete event at the start of buf. data must have room
 * for len bytes. Returns SSE_PARSE_EVENT (ev filled), SSE_PARSE_AGAIN (the
 * event is not complete yet) or SSE_PARSE_ERROR (NUL byte in the stream,
 * which no conforming server sends). Events holding only comments or
 * unknown fields come back with has_data = 0: relay them, they are
 * keep-alives. */
int sse_parse_event(const char *buf, size_t len, struct sse_event *ev, char *data);

#endif
