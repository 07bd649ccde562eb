/*
 * emit/emit_buf.c - the emitters' growing text buffer (see emit_buf.h).
 */
#include "emit/emit_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation; fragments are usually a few hundred bytes. */
#define NP_EMIT_BUF_INITIAL 1024u

void np_emit_buf_init(np_emit_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void np_emit_buf_fini(np_emit_buf *b)
{
    free(b->text);
    memset(b, 0, sizeof(*b));
}

static bool reserve(np_emit_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : NP_EMIT_BUF_INITIAL;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *t = realloc(b->text, cap);
    if (!t) {
        b->failed = true;
        return false;
    }
    b->text = t;
    b->cap = cap;
    return true;
}

void np_emit_buf_printf(np_emit_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void np_emit_buf_bitmap(np_emit_buf *b, const np_bitmap *map)
{
    size_t n = np_bitmap_format(map, NULL, 0);
    if (!reserve(b, n))
        return;
    np_bitmap_format(map, b->text + b->len, n + 1);
    b->len += n;
}

int np_emit_buf_status(const np_emit_buf *b)
{
    return b->failed ? -ENOMEM : 0;
}

char *np_emit_buf_take(np_emit_buf *b)
{
    if (b->failed)
        return NULL;
    if (!b->text && !reserve(b, 0))
        return NULL;
    b->text[b->len] = '\0';
    char *t = b->text;
    memset(b, 0, sizeof(*b));
    return t;
}
