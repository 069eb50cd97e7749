/* Operational messages (stderr) and the access log (JSON lines). Neither
 * ever carries request or response bodies, keys or matched values. */
#ifndef HAFEN_GATEWAY_LOG_H
#define HAFEN_GATEWAY_LOG_H

#include <stddef.h>
#include <stdint.h>

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_info log_warnx

struct log_access {
	const char *request_id;
	const char *method;
	const char *path;
	size_t path_len;
	int status;
	uint64_t bytes_in;
	uint64_t bytes_out;
	double duration_ms;
	double upstream_ms; /* < 0: no upstream involved */
	const char *upstream;
	const char *key;
};

/* "stderr", "off" or a file path (appended). Replaces the current target;
 * on failure the old one stays and -1 is returned with err set. */
int log_access_open(const char *target, char *err, size_t errlen);
void log_access_write(const struct log_access *a);
/* Writes out what is buffered; called by a timer and at exit. */
void log_access_flush(void);

#endif
