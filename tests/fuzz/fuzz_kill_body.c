/* Fuzzes the admin API's kill switch bodies ({"upstream": NAME} or
 * {"model": ALIAS}) and, for a body that parses, the switch table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/killswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[KILLSWITCH_NAME_MAX], err[256];
	int kind;
	if (killswitch_parse_body((const char *)data, size, &kind, name, sizeof name, err, sizeof err) < 0)
		return 0;
	if (strlen(name) == 0 || strlen(name) >= sizeof name)
		abort();
	killswitch_set(kind, name, "fuzz", 1, 1);
	if (!killswitch_is_on(kind, name))
		abort();
	killswitch_set(kind, name, "fuzz", 0, 2);
	if (killswitch_is_on(kind, name))
		abort();
	return 0;
}
