/* Usage accounting: requests and tokens per key, tenant, purpose, model
 * and upstream, summed in memory per minute and written to SQLite by a
 * writer thread, off the event loop (docs/keys.md). */
#ifndef HAFEN_GATEWAY_USAGE_H
#define HAFEN_GATEWAY_USAGE_H

#include <stddef.h>
#include <stdint.h>

struct config_key;
struct sqlite3;

/* Opens (creates) the usage table in path and starts the writer, which
 * flushes every flush_ms and reports write errors through warn. */
int usage_start(const char *path, long flush_ms, void (*warn)(const char *fmt, ...), char *err, size_t errlen);
/* Flushes what is left and stops the writer. */
void usage_stop(void);
int usage_active(void);
/* Adds one finished request. estimated: the token counts are estimates
 * (the upstream's answer carried no usage). */
void usage_record(const struct config_key *k, const char *model, const char *upstream, int status,
    uint64_t prompt_tokens, uint64_t completion_tokens, int estimated);
/* Creates the usage table when missing (hafenctl and tests). */
int usage_db_prepare(struct sqlite3 *db, char *err, size_t errlen);

/* A row of the filter chain (filter.c): keeps the requested model and
 * takes the token counts from a JSON answer's usage. */
extern const struct filter_ops usage_filter_ops;

#endif
