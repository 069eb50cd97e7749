/* The access log line: valid JSON with every field, escapes, nulls and
 * the millisecond figures as "%.3f" prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gateway/log.h"
#include "tests/tap.h"

int main(void)
{
	char path[] = "/tmp/hafen-test-log.XXXXXX", err[256];
	int fd = mkstemp(path);
	ok(fd >= 0, "temporary file");
	close(fd);
	ok(log_access_open(path, err, sizeof err) == 0, "access log opened");
	struct log_access a = {.request_id = "0123456789abcdef0123456789abcdef", .method = "POST",
	    .path = "/v1/chat/completions", .path_len = 20, .status = 200, .bytes_in = 412,
	    .bytes_out = 9223372036854775807ull, .duration_ms = 0.1835, .upstream_ms = 12345.6789,
	    .upstream = "engine", .key = "bench"};
	log_access_write(&a);
	struct log_access b = {.request_id = "r", .method = "GET", .path = "/a\"b\\c\x01\xff", .path_len = 8,
	    .status = 404, .duration_ms = 0, .upstream_ms = -1};
	log_access_write(&b);
	log_access_flush();
	ok(log_access_open("off", err, sizeof err) == 0, "access log off");

	FILE *f = fopen(path, "r");
	char line[2048];
	json_t *j = f && fgets(line, sizeof line, f) ? json_loads(line, 0, NULL) : NULL;
	ok(j != NULL, "first line is JSON");
	is_str(json_string_value(json_object_get(j, "request_id")), "0123456789abcdef0123456789abcdef", "request_id");
	is_str(json_string_value(json_object_get(j, "method")), "POST", "method");
	is_str(json_string_value(json_object_get(j, "path")), "/v1/chat/completions", "path");
	is_int((int)json_integer_value(json_object_get(j, "status")), 200, "status");
	ok(json_integer_value(json_object_get(j, "bytes_in")) == 412, "bytes_in");
	ok(strstr(line, "\"bytes_out\":9223372036854775807,") != NULL, "bytes_out, 63 bits");
	ok(strstr(line, "\"duration_ms\":0.184,") != NULL || strstr(line, "\"duration_ms\":0.183,") != NULL,
	    "duration_ms with three decimals");
	ok(strstr(line, "\"upstream_ms\":12345.679,") != NULL, "upstream_ms rounded");
	is_str(json_string_value(json_object_get(j, "upstream")), "engine", "upstream");
	is_str(json_string_value(json_object_get(j, "key")), "bench", "key");
	const char *t = json_string_value(json_object_get(j, "time"));
	ok(t && strlen(t) == 24 && t[10] == 'T' && t[19] == '.' && t[23] == 'Z', "time: ISO 8601 UTC with milliseconds");
	json_decref(j);
	j = f && fgets(line, sizeof line, f) ? json_loads(line, 0, NULL) : NULL;
	ok(j != NULL, "second line is JSON");
	is_str(json_string_value(json_object_get(j, "path")), "/a\"b\\c\x01\xc3\xbf", "path escaped (bytes as \\u00XX)");
	ok(json_is_null(json_object_get(j, "upstream_ms")) && json_is_null(json_object_get(j, "upstream")) &&
	    json_is_null(json_object_get(j, "key")), "nulls");
	ok(strstr(line, "\"duration_ms\":0.000,") != NULL, "zero duration");
	json_decref(j);
	ok(f && !fgets(line, sizeof line, f), "two lines");
	if (f)
		fclose(f);
	unlink(path);

	/* Many blocks' worth: every line arrives, whole and in order, though
	 * the writer thread writes them while more are appended. */
	char path2[] = "/tmp/hafen-test-log.XXXXXX";
	fd = mkstemp(path2);
	ok(fd >= 0 && log_access_open(path2, err, sizeof err) == 0, "second access log opened");
	if (fd >= 0)
		close(fd);
	enum { N_LINES = 5000 };
	for (int i = 0; i < N_LINES; i++) {
		char id[16];
		snprintf(id, sizeof id, "%d", i);
		struct log_access c = a;
		c.request_id = id;
		log_access_write(&c);
	}
	log_access_flush();
	f = fopen(path2, "r");
	int n_lines = 0, in_order = 1;
	while (f && fgets(line, sizeof line, f)) {
		char want[48];
		snprintf(want, sizeof want, "\"request_id\":\"%d\",", n_lines);
		if (!strstr(line, want) || line[strlen(line) - 1] != '\n')
			in_order = 0;
		n_lines++;
	}
	is_int(n_lines, N_LINES, "every line written after the flush");
	ok(in_order, "lines whole and in order");
	if (f)
		fclose(f);
	ok(log_access_open("off", err, sizeof err) == 0, "access log off again");
	unlink(path2);
	tap_done();
	return tap_exit_status();
}
