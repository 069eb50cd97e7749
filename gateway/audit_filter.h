/* The audit log as a filter (filter.h): one record per API request, served
 * or refused, submitted when the exchange ends. The log itself (writer
 * thread, SQLite, checkpoints) is process-wide: opened once at start-up by
 * hafen.c; a reload re-checks the "audit" section but keeps the open log
 * (changing the database or keys needs a restart). */
#ifndef HAFEN_GATEWAY_AUDIT_FILTER_H
#define HAFEN_GATEWAY_AUDIT_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

struct config;
struct audit_filter_rt;

/* Per runtime: parses cfg->audit with the audit library's parser and hashes
 * the config file (SHA-256, for the records). *out is NULL when the config
 * has no "audit" section. -1 with "FILE: audit.KEY: ..." in err. */
int audit_filter_load(const struct config *cfg, struct audit_filter_rt **out, char *err,
    size_t errlen);
void audit_filter_free(struct audit_filter_rt *a);

/* Opens the process-wide log from rt's settings (no-op when rt is NULL). */
int audit_filter_start(const struct audit_filter_rt *rt, char *err, size_t errlen);
/* Commits what is queued, signs the last checkpoint, closes. */
void audit_filter_stop(void);
/* 1 when cfg's "audit" section differs from the one the open log was
 * started with (the caller warns: it takes effect at restart). */
int audit_filter_changed(const struct config *cfg);
/* 1 when no log is configured or the log can be written. */
int audit_filter_ready(void);
/* Appends the audit counters to a /metrics answer (Prometheus text). */
int audit_filter_metrics(struct evbuffer *out);

/* Records an oversight event (AI Act Art. 14 kill switch; note names the
 * target and the operator, never content). 0 queued, 1 no audit log
 * configured, -1 the log refused it. */
int audit_filter_oversight(const char *note);
/* 1 when the exchange's answer must wait for its record ("request"
 * durability: configured, or a confidential or restricted request). The
 * caller then sets x->recorded before on_done and releases the answer
 * when it is called. */
int audit_filter_holds(const struct filter_exchange *x);

extern const struct filter_ops audit_filter_ops;

#endif
