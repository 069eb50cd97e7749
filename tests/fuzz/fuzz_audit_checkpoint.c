/* libFuzzer target: the checkpoint line parser (checkpoint files come back
 * from WORM storage or a witness). A parsed line must format back to
 * itself: one spelling per checkpoint. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_checkpoint cp;
	char err[AUDIT_ERR_LEN], line[512];
	if (audit_checkpoint_parse((const char *)data, size, &cp, err, sizeof err) < 0)
		return 0;
	if (audit_checkpoint_format(&cp, line, sizeof line) < 0)
		abort();
	size_t n = strlen(line);
	/* the input may lack the final newline */
	if (!(n == size || (n == size + 1 && line[n - 1] == '\n')) || memcmp(line, data, size) != 0)
		abort();
	return 0;
}
