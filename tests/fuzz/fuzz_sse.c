/* Fuzzes the SSE event parser the way the relay drives it: events are
 * taken off the front of the buffer until it needs more bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *scratch = malloc(size + 1);
	if (!scratch)
		return 0;
	size_t off = 0;
	for (;;) {
		struct sse_event ev;
		int rc = sse_parse_event((const char *)data + off, size - off, &ev, scratch);
		if (rc != SSE_PARSE_EVENT)
			break;
		if (ev.raw_len == 0 || ev.raw_len > size - off || ev.data_len > ev.raw_len)
			abort();
		off += ev.raw_len;
	}
	free(scratch);
	return 0;
}
