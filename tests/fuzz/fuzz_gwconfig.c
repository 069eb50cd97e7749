/* Fuzzes the gateway's config loader (JSON walk, tables, URL splitting). */
#include <stdint.h>
#include <stdlib.h>

#include "gateway/gwconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct config *c = config_load_string((const char *)data, size, "fuzz.json", "/etc/hafen", err, sizeof err);
	config_unref(c);
	return 0;
}
