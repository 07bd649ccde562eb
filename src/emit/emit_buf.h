/*
 * emit/emit_buf.h - a growing text buffer for the emitters.
 *
 * Appends never fail visibly: the first allocation failure sets `failed`,
 * later appends do nothing, and the emitter checks once at the end, so the
 * writers read as straight-line text.
 */
#ifndef NP_EMIT_BUF_H
#define NP_EMIT_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include <numaplace/bitmap.h>

typedef struct np_emit_buf {
    char *text;
    size_t len;
    size_t cap;
    bool failed;
} np_emit_buf;

void np_emit_buf_init(np_emit_buf *b);
void np_emit_buf_fini(np_emit_buf *b);
void np_emit_buf_printf(np_emit_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A mask in cpulist form ("0-3,8"). */
void np_emit_buf_bitmap(np_emit_buf *b, const np_bitmap *map);
/* 0, or -ENOMEM when an append failed. */
int np_emit_buf_status(const np_emit_buf *b);
/* Hands the text over (caller frees); "" when nothing was written. */
char *np_emit_buf_take(np_emit_buf *b);

#endif
