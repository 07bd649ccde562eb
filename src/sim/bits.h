/*
 * sim/bits.h - fixed-size bit sets over uint64_t words, for the hot paths
 * of the scheduler (idle pCPUs, CPU masks, nodes with stealable work).
 *
 * np_bitmap is the public, growable set for masks that cross the API; the
 * simulator converts those once into these flat word arrays indexed by its
 * own dense numbering, where an intersection test is a loop over words.
 */
#ifndef NP_SIM_BITS_H
#define NP_SIM_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NP_BITS_WORD 64u

static inline size_t np_bits_words(size_t nbits)
{
    return (nbits + NP_BITS_WORD - 1) / NP_BITS_WORD;
}

static inline bool np_bits_test(const uint64_t *w, size_t i)
{
    return (w[i / NP_BITS_WORD] >> (i % NP_BITS_WORD)) & 1u;
}

static inline void np_bits_set(uint64_t *w, size_t i)
{
    w[i / NP_BITS_WORD] |= UINT64_C(1) << (i % NP_BITS_WORD);
}

static inline void np_bits_clear(uint64_t *w, size_t i)
{
    w[i / NP_BITS_WORD] &= ~(UINT64_C(1) << (i % NP_BITS_WORD));
}

/* First set bit in [from, to) of a AND b (b NULL = a alone), or `to`. */
static inline size_t np_bits_next_and(const uint64_t *a, const uint64_t *b, size_t from, size_t to)
{
    while (from < to) {
        size_t wi = from / NP_BITS_WORD;
        uint64_t word = a[wi] & (b ? b[wi] : ~UINT64_C(0));
        word &= ~UINT64_C(0) << (from % NP_BITS_WORD);
        if (word) {
            size_t i = wi * NP_BITS_WORD + (size_t)__builtin_ctzll(word);
            return i < to ? i : to;
        }
        from = (wi + 1) * NP_BITS_WORD;
    }
    return to;
}

/* First set bit in [from, to) of a OR b, or `to`. */
static inline size_t np_bits_next_or(const uint64_t *a, const uint64_t *b, size_t from, size_t to)
{
    while (from < to) {
        size_t wi = from / NP_BITS_WORD;
        uint64_t word = (a[wi] | b[wi]) & (~UINT64_C(0) << (from % NP_BITS_WORD));
        if (word) {
            size_t i = wi * NP_BITS_WORD + (size_t)__builtin_ctzll(word);
            return i < to ? i : to;
        }
        from = (wi + 1) * NP_BITS_WORD;
    }
    return to;
}

/* First set bit of a AND b in [lo, hi) at or after `start`, wrapping
 * around to lo; `hi` when there is none. */
static inline size_t np_bits_cycle_and(const uint64_t *a, const uint64_t *b, size_t lo, size_t hi,
                                       size_t start)
{
    if (start < lo || start >= hi)
        start = lo;
    size_t i = np_bits_next_and(a, b, start, hi);
    if (i < hi)
        return i;
    i = np_bits_next_and(a, b, lo, start);
    return i < start ? i : hi;
}

static inline bool np_bits_intersects(const uint64_t *a, const uint64_t *b, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        if (a[i] & b[i])
            return true;
    return false;
}

#endif
