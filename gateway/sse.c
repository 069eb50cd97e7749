/* SSE event framing. Lines end in CRLF, LF or CR; a blank line ends the
 * event; "field: value" drops one space after the colon; lines starting
 * with ':' are comments; data lines are joined by LF. */
#include "sse.h"

#include <string.h>

int sse_parse_event(const char *buf, size_t len, struct sse_event *ev, char *data)
{
	size_t p = 0;
	ev->type = ev->id = NULL;
	ev->type_len = ev->id_len = 0;
	ev->data = data;
	ev->data_len = 0;
	ev->has_data = 0;
	ev->is_done = 0;
	for (;;) {
		size_t ls = p, le;
		while (p < len && buf[p] != '\n' && buf[p] != '\r') {
			if (buf[p] == '\0')
				return SSE_PARSE_ERROR;
			p++;
		}
		if (p >= len)
			return SSE_PARSE_AGAIN;
		le = p;
		if (buf[p] == '\r') {
			/* A CR at the end of what we have may be half of a CRLF. */
			if (p + 1 >= len)
				return SSE_PARSE_AGAIN;
			p += buf[p + 1] == '\n' ? 2 : 1;
		} else {
			p++;
		}
		if (le == ls) {
			ev->raw_len = p;
			ev->is_done = ev->has_data && ev->data_len == 6 && memcmp(data, "[DONE]", 6) == 0;
			return SSE_PARSE_EVENT;
		}
		if (buf[ls] == ':')
			continue;
		const char *colon = memchr(buf + ls, ':', le - ls);
		size_t nl = colon ? (size_t)(colon - (buf + ls)) : le - ls;
		size_t vs = colon ? (size_t)(colon - buf) + 1 : le;
		if (vs < le && buf[vs] == ' ')
			vs++;
		const char *v = buf + vs;
		size_t vl = le - vs;
		if (nl == 4 && memcmp(buf + ls, "data", 4) == 0) {
			if (ev->has_data)
				data[ev->data_len++] = '\n';
			memcpy(data + ev->data_len, v, vl);
			ev->data_len += vl;
			ev->has_data = 1;
		} else if (nl == 5 && memcmp(buf + ls, "event", 5) == 0) {
			ev->type = v;
			ev->type_len = vl;
		} else if (nl == 2 && memcmp(buf + ls, "id", 2) == 0) {
			ev->id = v;
			ev->id_len = vl;
		}
	}
}
