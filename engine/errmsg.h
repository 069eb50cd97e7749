/* Error messages of the engine library: functions that can fail take a
 * caller's buffer (err, errlen) and fill it once, where the failure is found.
 * The library never prints; the caller decides where the message goes. */
#ifndef HAFEN_ENGINE_ERRMSG_H
#define HAFEN_ENGINE_ERRMSG_H

#include <stddef.h>

/* Formats into err (when err is non-NULL and errlen > 0), truncating. */
void engine_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
