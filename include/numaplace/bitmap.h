/*
 * numaplace/bitmap.h - growable bit sets for CPU and node masks.
 *
 * A bitmap names CPUs or nodes by their OS ids (the kernel's or Xen's
 * numbers), so masks print exactly as `cpus="0-3,8"` in an xl.cfg or a
 * cpuset file. Bits beyond the allocated size read as zero; setting one
 * grows the map. The list syntax is the kernel's cpulist format:
 * comma-separated ids and inclusive ranges ("0-3,8,10-11"), "" for empty.
 */
#ifndef NUMAPLACE_BITMAP_H
#define NUMAPLACE_BITMAP_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_bitmap np_bitmap;

/* Largest id a bitmap accepts: 2^20 - 1 (more than any real CPU count). */
#define NP_BITMAP_MAX_ID ((1u << 20) - 1)

int np_bitmap_create(np_bitmap **out);
void np_bitmap_destroy(np_bitmap *map);
int np_bitmap_copy(const np_bitmap *src, np_bitmap **out);

int np_bitmap_set(np_bitmap *map, unsigned id);          /* -ERANGE above max */
int np_bitmap_set_range(np_bitmap *map, unsigned first, unsigned last);
void np_bitmap_clear(np_bitmap *map, unsigned id);
void np_bitmap_zero(np_bitmap *map);
bool np_bitmap_test(const np_bitmap *map, unsigned id);
unsigned np_bitmap_count(const np_bitmap *map);
bool np_bitmap_is_empty(const np_bitmap *map);
bool np_bitmap_equal(const np_bitmap *a, const np_bitmap *b);
bool np_bitmap_intersects(const np_bitmap *a, const np_bitmap *b);
/* dst |= src, dst &= src (dst may need to grow for or). */
int np_bitmap_or(np_bitmap *dst, const np_bitmap *src);
void np_bitmap_and(np_bitmap *dst, const np_bitmap *src);

/* First set id >= from, or -1 when there is none. Iterate with
 *   for (int i = np_bitmap_next(m, 0); i >= 0; i = np_bitmap_next(m, i + 1)) */
int np_bitmap_next(const np_bitmap *map, unsigned from);

/* Kernel cpulist text. np_bitmap_format returns the length it needed (like
 * snprintf) and always NUL-terminates when len > 0. */
size_t np_bitmap_format(const np_bitmap *map, char *buf, size_t len);
/* Parses "0-3,8"; on error returns -EINVAL and leaves map unchanged. */
int np_bitmap_parse(np_bitmap *map, const char *text);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_BITMAP_H */
