/*
 * util/error.c - error text for numaplace's negative-errno convention and
 * parse errors that carry an origin and a line.
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "np_version.h"

int np_error_set(np_error *err, const char *origin, unsigned line, const char *fmt, ...)
{
    if (!err)
        return -EINVAL;
    if (origin)
        snprintf(err->origin, sizeof(err->origin), "%s", origin);
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *np_error_format(const np_error *err, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    if (!err) {
        snprintf(buf, len, "unknown error");
        return buf;
    }
    if (err->origin[0] && err->line)
        snprintf(buf, len, "%s:%u: %s", err->origin, err->line, err->msg);
    else if (err->origin[0])
        snprintf(buf, len, "%s: %s", err->origin, err->msg);
    else
        snprintf(buf, len, "%s", err->msg);
    return buf;
}

const char *np_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0)
        rc = -rc;
    return strerror(rc);
}

const char *np_version(void)
{
    return NP_VERSION_STRING;
}
