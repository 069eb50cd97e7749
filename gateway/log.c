/* The access log is buffered in memory and written in large blocks, by a
 * periodic flush or when the buffer fills, so the event loops do not pay
 * one write(2) per request. The write(2) itself happens on a writer
 * thread of its own, outside the lock: a worker that fills a block only
 * hands it over, so a slow disk or a full stderr pipe (journald) stalls
 * the writer, not the next request on that worker (before, the worker
 * wrote 64 KiB inline about every 200 requests, and the periodic flush held
 * the lock for its whole write(2)). Only when every block waits for the
 * disk does a worker wait too: the log loses no line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF_SIZE 65536
/* One block filling, the others written or waiting for the writer. */
#define LOG_N_BLOCKS 4

struct log_block {
	size_t len;
	char data[LOG_BUF_SIZE];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_work = PTHREAD_COND_INITIALIZER;	/* a block was queued */
static pthread_cond_t log_done = PTHREAD_COND_INITIALIZER;	/* a block was written */
static int log_fd = 2;   /* -1: off */
static struct log_block log_blocks[LOG_N_BLOCKS];
static struct log_block *log_cur = &log_blocks[0];	/* the one filling */
static struct log_block *log_free[LOG_N_BLOCKS];
static size_t log_n_free = (size_t)-1;	/* the free list is set up on first use */
static struct log_block *log_queue[LOG_N_BLOCKS];	/* FIFO: lines stay in order */
static size_t log_q_head, log_q_n;
static int log_writing;		/* the writer holds a block outside the lock */
static int log_writer;		/* 1 running, -1 could not start (write inline) */

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

static void *log_writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&log_lock);
	for (;;) {
		while (log_q_n == 0)
			pthread_cond_wait(&log_work, &log_lock);
		struct log_block *b = log_queue[log_q_head];
		log_q_head = (log_q_head + 1) % LOG_N_BLOCKS;
		log_q_n--;
		/* log_access_open drains the queue before it changes the fd */
		int fd = log_fd;
		log_writing = 1;
		pthread_mutex_unlock(&log_lock);
		if (fd >= 0)
			log_write_all(fd, b->data, b->len);
		pthread_mutex_lock(&log_lock);
		b->len = 0;
		log_free[log_n_free++] = b;
		log_writing = 0;
		pthread_cond_broadcast(&log_done);
	}
	return NULL;
}

/* Started on the first full block, with every signal blocked: signals
 * stay with the threads that handle them. */
static void log_writer_start_locked(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	sigfillset(&all);
	log_writer = -1;
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &attr, log_writer_main, NULL) == 0)
		log_writer = 1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* Queues the filling block for the writer and takes an empty one. */
static void log_hand_over_locked(void)
{
	if (log_n_free == (size_t)-1) {
		log_n_free = 0;
		for (size_t i = 1; i < LOG_N_BLOCKS; i++)
			log_free[log_n_free++] = &log_blocks[i];
	}
	if (log_cur->len == 0)
		return;
	if (log_writer == 0)
		log_writer_start_locked();
	if (log_writer < 0) {
		if (log_fd >= 0)
			log_write_all(log_fd, log_cur->data, log_cur->len);
		log_cur->len = 0;
		return;
	}
	while (log_n_free == 0)
		pthread_cond_wait(&log_done, &log_lock);
	log_queue[(log_q_head + log_q_n) % LOG_N_BLOCKS] = log_cur;
	log_q_n++;
	log_cur = log_free[--log_n_free];
	pthread_cond_signal(&log_work);
}

/* Everything appended so far is written when this returns. */
static void log_flush_locked(void)
{
	log_hand_over_locked();
	while (log_q_n > 0 || log_writing)
		pthread_cond_wait(&log_done, &log_lock);
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
	if (log_cur->len + n > LOG_BUF_SIZE)
		log_hand_over_locked();
	memcpy(log_cur->data + log_cur->len, line, n);
	log_cur->len += n;
	pthread_mutex_unlock(&log_lock);
}
