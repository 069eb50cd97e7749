/* Fuzz the serve request parser (engine/server_request.c) with untrusted
 * request bodies, as a chat and as a completion request.  Invariants: a
 * refusal has a message; an accepted request has sampling parameters that
 * pass the sampler's own check, at most the stop strings allowed, and
 * messages or a prompt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/server_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int chat = 0; chat < 2; chat++) {
		struct server_request r;
		struct server_request_error e;
		char err[256];

		if (server_request_parse(&r, (const char *)data, size, chat, 1, &e) != 0) {
			if (e.message[0] == '\0')
				abort();
		} else {
			if (sampler_params_check(&r.sp, err, sizeof err) != 0 || r.n_stops > SERVER_REQUEST_MAX_STOPS)
				abort();
			if (chat ? r.n_msgs == 0 || !r.msgs : !r.prompt)
				abort();
			for (size_t i = 0; i < r.n_msgs; i++)
				if (!r.msgs[i].role || !r.msgs[i].content)
					abort();
			if (r.max_tokens == 0 || r.max_tokens < -1)
				abort();
		}
		server_request_free(&r);
	}
	return 0;
}
