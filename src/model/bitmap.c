/*
 * model/bitmap.c - growable bit sets (CPU and node masks by OS id).
 *
 * Words are 64 bits; the map grows on set and never shrinks, and bits past
 * the last word read as zero, so two maps of different sizes compare by
 * their set bits alone.
 */
#include <numaplace/bitmap.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

struct np_bitmap {
    uint64_t *words;
    size_t nr_words;
};

#define WORD_BITS 64u

int np_bitmap_create(np_bitmap **out)
{
    np_bitmap *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    *out = m;
    return 0;
}

void np_bitmap_destroy(np_bitmap *map)
{
    if (!map)
        return;
    free(map->words);
    free(map);
}

static int grow(np_bitmap *m, size_t nr_words)
{
    if (nr_words <= m->nr_words)
        return 0;
    uint64_t *w = realloc(m->words, nr_words * sizeof(*w));
    if (!w)
        return -ENOMEM;
    memset(w + m->nr_words, 0, (nr_words - m->nr_words) * sizeof(*w));
    m->words = w;
    m->nr_words = nr_words;
    return 0;
}

int np_bitmap_copy(const np_bitmap *src, np_bitmap **out)
{
    np_bitmap *m = NULL;
    int rc = np_bitmap_create(&m);
    if (rc < 0)
        return rc;
    rc = grow(m, src->nr_words);
    if (rc < 0) {
        np_bitmap_destroy(m);
        return rc;
    }
    if (src->nr_words)
        memcpy(m->words, src->words, src->nr_words * sizeof(*m->words));
    *out = m;
    return 0;
}

int np_bitmap_set(np_bitmap *map, unsigned id)
{
    if (id > NP_BITMAP_MAX_ID)
        return -ERANGE;
    int rc = grow(map, id / WORD_BITS + 1);
    if (rc < 0)
        return rc;
    map->words[id / WORD_BITS] |= UINT64_C(1) << (id % WORD_BITS);
    return 0;
}

int np_bitmap_set_range(np_bitmap *map, unsigned first, unsigned last)
{
    if (first > last || last > NP_BITMAP_MAX_ID)
        return -ERANGE;
    int rc = grow(map, last / WORD_BITS + 1);
    if (rc < 0)
        return rc;
    for (unsigned id = first; id <= last; id++)
        map->words[id / WORD_BITS] |= UINT64_C(1) << (id % WORD_BITS);
    return 0;
}

void np_bitmap_clear(np_bitmap *map, unsigned id)
{
    if (id / WORD_BITS < map->nr_words)
        map->words[id / WORD_BITS] &= ~(UINT64_C(1) << (id % WORD_BITS));
}

void np_bitmap_zero(np_bitmap *map)
{
    if (map->nr_words)
        memset(map->words, 0, map->nr_words * sizeof(*map->words));
}

bool np_bitmap_test(const np_bitmap *map, unsigned id)
{
    if (id / WORD_BITS >= map->nr_words)
        return false;
    return (map->words[id / WORD_BITS] >> (id % WORD_BITS)) & 1u;
}

unsigned np_bitmap_count(const np_bitmap *map)
{
    unsigned n = 0;
    for (size_t i = 0; i < map->nr_words; i++)
        n += (unsigned)__builtin_popcountll(map->words[i]);
    return n;
}

bool np_bitmap_is_empty(const np_bitmap *map)
{
    for (size_t i = 0; i < map->nr_words; i++)
        if (map->words[i])
            return false;
    return true;
}

bool np_bitmap_equal(const np_bitmap *a, const np_bitmap *b)
{
    size_t n = a->nr_words > b->nr_words ? a->nr_words : b->nr_words;
    for (size_t i = 0; i < n; i++) {
        uint64_t wa = i < a->nr_words ? a->words[i] : 0;
        uint64_t wb = i < b->nr_words ? b->words[i] : 0;
        if (wa != wb)
            return false;
    }
    return true;
}

bool np_bitmap_intersects(const np_bitmap *a, const np_bitmap *b)
{
    size_t n = a->nr_words < b->nr_words ? a->nr_words : b->nr_words;
    for (size_t i = 0; i < n; i++)
        if (a->words[i] & b->words[i])
            return true;
    return false;
}

int np_bitmap_or(np_bitmap *dst, const np_bitmap *src)
{
    int rc = grow(dst, src->nr_words);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < src->nr_words; i++)
        dst->words[i] |= src->words[i];
    return 0;
}

void np_bitmap_and(np_bitmap *dst, const np_bitmap *src)
{
    for (size_t i = 0; i < dst->nr_words; i++)
        dst->words[i] &= i < src->nr_words ? src->words[i] : 0;
}

int np_bitmap_next(const np_bitmap *map, unsigned from)
{
    size_t w = from / WORD_BITS;
    if (w >= map->nr_words)
        return -1;
    uint64_t bits = map->words[w] & (~UINT64_C(0) << (from % WORD_BITS));
    for (;;) {
        if (bits)
            return (int)(w * WORD_BITS + (unsigned)__builtin_ctzll(bits));
        if (++w >= map->nr_words)
            return -1;
        bits = map->words[w];
    }
}

size_t np_bitmap_format(const np_bitmap *map, char *buf, size_t len)
{
    size_t need = 0;
    char tmp[32];
    if (len)
        buf[0] = '\0';
    int i = np_bitmap_next(map, 0);
    while (i >= 0) {
        int last = i;
        while (np_bitmap_test(map, (unsigned)last + 1))
            last++;
        int n = last > i ? snprintf(tmp, sizeof(tmp), "%s%d-%d", need ? "," : "", i, last)
                         : snprintf(tmp, sizeof(tmp), "%s%d", need ? "," : "", i);
        if (need + (size_t)n < len)
            memcpy(buf + need, tmp, (size_t)n + 1);
        else if (len)
            buf[need < len ? need : len - 1] = '\0';
        need += (size_t)n;
        i = np_bitmap_next(map, (unsigned)last + 1);
    }
    return need;
}

int np_bitmap_parse(np_bitmap *map, const char *text)
{
    np_bitmap *tmp = NULL;
    int rc = np_bitmap_create(&tmp);
    if (rc < 0)
        return rc;
    const char *p = np_skip_ws(text);
    while (*p) {
        uint64_t a, b;
        rc = np_parse_u64(&p, NP_BITMAP_MAX_ID, &a);
        if (rc < 0)
            goto out;
        b = a;
        if (*p == '-') {
            p++;
            rc = np_parse_u64(&p, NP_BITMAP_MAX_ID, &b);
            if (rc < 0)
                goto out;
            if (b < a) {
                rc = -EINVAL;
                goto out;
            }
        }
        rc = np_bitmap_set_range(tmp, (unsigned)a, (unsigned)b);
        if (rc < 0)
            goto out;
        p = np_skip_ws(p);
        if (*p == ',') {
            p = np_skip_ws(p + 1);
            if (!*p) {
                rc = -EINVAL;
                goto out;
            }
        } else if (*p) {
            rc = -EINVAL;
            goto out;
        }
    }
    /* Commit: swap storage so the caller's map is untouched on error. */
    uint64_t *w = map->words;
    size_t n = map->nr_words;
    map->words = tmp->words;
    map->nr_words = tmp->nr_words;
    tmp->words = w;
    tmp->nr_words = n;
    rc = 0;
out:
    np_bitmap_destroy(tmp);
    return rc == -ERANGE ? -EINVAL : rc;
}
