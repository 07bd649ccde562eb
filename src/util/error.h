/*
 * util/error.h - filling an np_error from inside the library.
 */
#ifndef NP_UTIL_ERROR_H
#define NP_UTIL_ERROR_H

#include <numaplace/common.h>

/* Sets origin (when non-NULL), line and a printf-formatted message.
 * err may be NULL. Always returns -EINVAL so callers can write
 * `return np_error_set(err, ...)`. */
int np_error_set(np_error *err, const char *origin, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
