/* Kill switches for human oversight (AI Act Art. 14): an operator turns
 * off an upstream pool or a model alias and the next request to it is
 * refused. Process-wide (outlives reloads), read by every worker on the
 * request path, changed by the admin API. The state is persisted in a
 * small JSON file (config "kill_state_file"), written by a thread of its
 * own so the admin loop never waits on the disk. */
#ifndef HAFEN_GATEWAY_KILLSWITCH_H
#define HAFEN_GATEWAY_KILLSWITCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define KILLSWITCH_MAX 256
#define KILLSWITCH_NAME_MAX 128
#define KILLSWITCH_OPERATOR_MAX 64

enum killswitch_kind {
	KILLSWITCH_KIND_UPSTREAM,
	KILLSWITCH_KIND_MODEL,
	KILLSWITCH_KIND_COUNT,
};

const char *killswitch_kind_name(int kind);

/* Pulls (on = 1) or releases a switch. 0: changed, 1: already so, -1: full. */
int killswitch_set(int kind, const char *name, const char *by, int on, uint64_t now_s);
/* 1 when the switch for name is pulled. Lock-free when none is. */
int killswitch_is_on(int kind, const char *name);
/* [{"kind","name","by","since"}] (caller decrefs). */
json_t *killswitch_list(void);
void killswitch_clear_all(void);

/* An admin request body {"upstream": NAME} or {"model": ALIAS}: exactly
 * one key, a non-empty printable name. -1 with a message in err. */
int killswitch_parse_body(const char *body, size_t len, int *kind, char *name, size_t cap,
    char *err, size_t errlen);
/* An operator name (X-Hafen-Operator): 1..64 printable ASCII, no quotes. */
int killswitch_valid_operator(const char *s, size_t len);

/* The state file: loaded once at start-up (blocking, before the loops
 * run), saved after every change off the caller's thread. */
int killswitch_load(const char *file, char *err, size_t errlen);
int killswitch_save_async(const char *file);
/* Waits for pending saves (shutdown and tests). */
void killswitch_save_wait(void);

#endif
