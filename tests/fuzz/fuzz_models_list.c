/* Fuzzes the parser of an upstream's GET /v1/models answer (model
 * discovery, gateway/router.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **ids, err[160];
	size_t n;
	if (router_models_parse((const char *)data, size, &ids, &n, err, sizeof err) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(ids[i]) == 0 || strlen(ids[i]) > 255)
			abort();
	router_models_free(ids, n);
	return 0;
}
