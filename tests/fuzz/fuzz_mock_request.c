/* Fuzz the mock upstream's HTTP/1.1 request parsing: the header block
 * (request line, Content-Length, Transfer-Encoding, Connection, the headers
 * kept for --record) and the chunked body decoder. The mock faces hafen in
 * every black-box test and the benchmark, so a crash there would show up as
 * a false gateway failure. */
#include "config.h"

/* The mock's start-up helpers are unused here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#define MOCK_UPSTREAM_NO_MAIN 1
#include "tests/mock_upstream.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mock_conn c;
	const uint8_t *end = memmem(data, size, "\r\n\r\n", 4);
	size_t head_len = end ? (size_t)(end - data) : size;
	char *head;

	if (head_len > MOCK_MAX_HEADER_BYTES)
		return 0;
	/* --record on, so that header recording is parsed too */
	if (mock_record == NULL)
		mock_record = fopen("/dev/null", "w");
	memset(&c, 0, sizeof(c));
	c.body = evbuffer_new();
	head = malloc(head_len ? head_len : 1);
	if (c.body == NULL || head == NULL)
		goto out;
	memcpy(head, data, head_len);
	if (mock_parse_head(&c, head, head_len) == 0 && end != NULL &&
	    c.state == MOCK_STATE_READ_CHUNKED) {
		struct evbuffer *in = evbuffer_new();

		if (in) {
			evbuffer_add(in, end + 4, size - head_len - 4);
			(void)mock_read_chunked(&c, in);
			evbuffer_free(in);
		}
	}
out:
	free(head);
	if (c.record_headers)
		json_decref(c.record_headers);
	if (c.body)
		evbuffer_free(c.body);
	return 0;
}
