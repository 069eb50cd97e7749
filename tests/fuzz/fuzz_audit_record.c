/* libFuzzer target: the strict audit record decoder (it reads rows of a
 * database an attacker may have edited). A decoded record must re-encode
 * to the same bytes: the encoding is canonical. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_record rec;
	char err[AUDIT_ERR_LEN];
	const unsigned char *val[AUDIT_TAG_DATA_CLASS + 1];
	size_t vlen[AUDIT_TAG_DATA_CLASS + 1];
	uint64_t seq;
	unsigned char prev[AUDIT_HASH_LEN];
	/* the non-decoding readers used by verify see the same bytes */
	(void)audit_record_peek(data, size, &seq, prev);
	if (audit_record_index(data, size, AUDIT_TAG_DATA_CLASS, val, vlen) == 0)
		for (unsigned t = 1; t <= AUDIT_TAG_DATA_CLASS; t++)
			if (val[t] < data || val[t] + vlen[t] > data + size)
				abort();
	if (audit_record_decode(data, size, &rec, err, sizeof err) < 0)
		return 0;
	unsigned char *out;
	size_t len;
	if (audit_record_encode(&rec, &out, &len, err, sizeof err) == 0) {
		if (len != size || memcmp(out, data, size) != 0)
			abort(); /* two encodings of one record */
		free(out);
	}
	json_t *j = audit_record_to_json(&rec);
	json_decref(j);
	audit_record_clear(&rec);
	return 0;
}
