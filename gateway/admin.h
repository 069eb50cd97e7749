/* The admin listener: /healthz, /readyz, /metrics and the kill switches
 * (/admin/kill, /admin/release); loopback by default. */
#ifndef HAFEN_GATEWAY_ADMIN_H
#define HAFEN_GATEWAY_ADMIN_H

#include <event2/event.h>

/* fd: a bound, listening socket. ready() says whether /readyz passes. */
int admin_start(struct event_base *base, int fd, int (*ready)(void));
void admin_stop(void);

#endif
