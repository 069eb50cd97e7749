/* The access log is buffered in memory and written in large blocks, by a
 * periodic flush or when the buffer fills, so the event loops do not pay
 * one write(2) per request. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF_SIZE 65536

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = 2;   /* -1: off */
static char log_buf[LOG_BUF_SIZE];
static size_t log_len;

static void log_stamp(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

void log_warnx(const char *fmt, ...)
{
	char line[1024], ts[40];
	va_list ap;
	log_stamp(ts, sizeof ts);
	int n = snprintf(line, sizeof line, "%s hafen: ", ts);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	ssize_t w = write(2, line, strlen(line));
	(void)w;
}

static void log_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk must not stop the gateway */
		p += w;
		n -= (size_t)w;
	}
}

static void log_flush_locked(void)
{
	if (log_len && log_fd >= 0)
		log_write_all(log_fd, log_buf, log_len);
	log_len = 0;
}

void log_access_flush(void)
{
	pthread_mutex_lock(&log_lock);
	log_flush_locked();
	pthread_mutex_unlock(&log_lock);
}

int log_access_open(const char *target, char *err, size_t errlen)
{
	int fd;
	if (strcmp(target, "off") == 0)
		fd = -1;
	else if (strcmp(target, "stderr") == 0)
		fd = 2;
	else {
		fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "access log %s: %s", target, strerror(errno));
			return -1;
		}
	}
	pthread_mutex_lock(&log_lock);
	log_flush_locked();
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

/* JSON string escaping for the few client-controlled fields (the path). */
static size_t log_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 7 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
	return o;
}

void log_access_write(const struct log_access *a)
{
	if (log_fd < 0)
		return;
	char ts[40], path[600], line[1200], ups[128];
	log_stamp(ts, sizeof ts);
	log_escape(path, sizeof path, a->path ? a->path : "", a->path ? (a->path_len > 256 ? 256 : a->path_len) : 0);
	if (a->upstream_ms >= 0)
		snprintf(ups, sizeof ups, "%.3f", a->upstream_ms);
	else
		snprintf(ups, sizeof ups, "null");
	char upn[160] = "null", key[160] = "null";
	if (a->upstream) {
		upn[0] = '"';
		size_t n = log_escape(upn + 1, sizeof upn - 2, a->upstream, strlen(a->upstream));
		upn[n + 1] = '"';
		upn[n + 2] = 0;
	}
	if (a->key) {
		key[0] = '"';
		size_t n = log_escape(key + 1, sizeof key - 2, a->key, strlen(a->key));
		key[n + 1] = '"';
		key[n + 2] = 0;
	}
	int n = snprintf(line, sizeof line,
	    "{\"time\":\"%s\",\"request_id\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,"
	    "\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration_ms\":%.3f,\"upstream_ms\":%s,"
	    "\"upstream\":%s,\"key\":%s}\n",
	    ts, a->request_id ? a->request_id : "", a->method ? a->method : "", path, a->status,
	    (unsigned long long)a->bytes_in, (unsigned long long)a->bytes_out, a->duration_ms, ups, upn, key);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	pthread_mutex_lock(&log_lock);
	if (log_len + (size_t)n > LOG_BUF_SIZE)
		log_flush_locked();
	memcpy(log_buf + log_len, line, (size_t)n);
	log_len += (size_t)n;
	pthread_mutex_unlock(&log_lock);
}
