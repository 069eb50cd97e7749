/* The access log is buffered in memory and written in large blocks, by a
 * periodic flush or when the buffer fills, so the event loops do not pay
 * one write(2) per request. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
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

/* The access line is built by hand: snprintf with a dozen conversions,
 * strftime and gmtime_r cost about 1 µs per request, several times what
 * appending the fields does. Each worker keeps the date and time of the
 * current second, so only the milliseconds change between lines. */
struct log_line {
	char *p, *end; /* end leaves room for the newline */
	int full;
};

static void log_put(struct log_line *l, const char *s, size_t n)
{
	if (l->full || (size_t)(l->end - l->p) < n) {
		l->full = 1;
		return;
	}
	memcpy(l->p, s, n);
	l->p += n;
}

#define log_put_lit(l, lit) log_put(l, lit, sizeof lit - 1)

static void log_put_u64(struct log_line *l, uint64_t v)
{
	char d[20];
	size_t n = sizeof d;
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	log_put(l, d + n, sizeof d - n);
}

/* A JSON string with the few client-controlled bytes escaped. */
static void log_put_str(struct log_line *l, const char *s, size_t n)
{
	char buf[600];
	log_put_lit(l, "\"");
	log_put(l, buf, log_escape(buf, sizeof buf, s, n));
	log_put_lit(l, "\"");
}

/* Milliseconds with three decimals, as "%.3f" prints them. */
static void log_put_ms(struct log_line *l, double ms)
{
	if (!(ms >= 0 && ms < 1e12)) {
		char buf[64];
		int n = snprintf(buf, sizeof buf, "%.3f", ms);
		if (n > 0 && (size_t)n < sizeof buf)
			log_put(l, buf, (size_t)n);
		return;
	}
	uint64_t us = (uint64_t)(ms * 1000.0 + 0.5);
	char frac[4] = {(char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10), 0};
	log_put_u64(l, us / 1000);
	log_put_lit(l, ".");
	log_put(l, frac, 3);
}

static _Thread_local time_t log_stamp_sec = (time_t)-1;
static _Thread_local char log_stamp_text[32]; /* "YYYY-MM-DDTHH:MM:SS" */
static _Thread_local size_t log_stamp_len;

static void log_put_stamp(struct log_line *l)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != log_stamp_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		log_stamp_len = strftime(log_stamp_text, sizeof log_stamp_text, "%Y-%m-%dT%H:%M:%S", &tm);
		log_stamp_sec = ts.tv_sec;
	}
	unsigned ms = (unsigned)(ts.tv_nsec / 1000000) % 1000;
	char frac[6] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z', 0};
	log_put(l, log_stamp_text, log_stamp_len);
	log_put(l, frac, 5);
}

void log_access_write(const struct log_access *a)
{
	if (log_fd < 0)
		return;
	char line[1200];
	struct log_line l = {line, line + sizeof line - 1, 0};
	log_put_lit(&l, "{\"time\":\"");
	log_put_stamp(&l);
	log_put_lit(&l, "\",\"request_id\":\"");
	if (a->request_id)
		log_put(&l, a->request_id, strlen(a->request_id));
	log_put_lit(&l, "\",\"method\":\"");
	if (a->method)
		log_put(&l, a->method, strlen(a->method));
	log_put_lit(&l, "\",\"path\":");
	log_put_str(&l, a->path ? a->path : "", a->path ? (a->path_len > 256 ? 256 : a->path_len) : 0);
	log_put_lit(&l, ",\"status\":");
	if (a->status < 0) {
		log_put_lit(&l, "-");
		log_put_u64(&l, (uint64_t)-(int64_t)a->status);
	} else {
		log_put_u64(&l, (uint64_t)a->status);
	}
	log_put_lit(&l, ",\"bytes_in\":");
	log_put_u64(&l, a->bytes_in);
	log_put_lit(&l, ",\"bytes_out\":");
	log_put_u64(&l, a->bytes_out);
	log_put_lit(&l, ",\"duration_ms\":");
	log_put_ms(&l, a->duration_ms);
	log_put_lit(&l, ",\"upstream_ms\":");
	if (a->upstream_ms >= 0)
		log_put_ms(&l, a->upstream_ms);
	else
		log_put_lit(&l, "null");
	log_put_lit(&l, ",\"upstream\":");
	if (a->upstream)
		log_put_str(&l, a->upstream, strlen(a->upstream) > 150 ? 150 : strlen(a->upstream));
	else
		log_put_lit(&l, "null");
	log_put_lit(&l, ",\"key\":");
	if (a->key)
		log_put_str(&l, a->key, strlen(a->key) > 150 ? 150 : strlen(a->key));
	else
		log_put_lit(&l, "null");
	log_put_lit(&l, "}");
	if (l.full)
		return;
	*l.p++ = '\n';
	size_t n = (size_t)(l.p - line);
	pthread_mutex_lock(&log_lock);
	if (log_len + n > LOG_BUF_SIZE)
		log_flush_locked();
	memcpy(log_buf + log_len, line, n);
	log_len += n;
	pthread_mutex_unlock(&log_lock);
}
