/*
 * sim/prng.c - xoshiro256** with splitmix64 seeding (see prng.h).
 *
 * Written from the published algorithm description: state update by
 * shifts, xor and a 45-bit rotation; output scrambler rotl(s1 * 5, 7) * 9.
 */
#include "sim/prng.h"

#include <math.h>

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: a 64-bit counter through a bijective mixer; good for
 * expanding one seed into the 256 bits of xoshiro state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void np_prng_seed(np_prng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream number in first so that (seed, stream) pairs that sum
     * alike still get unrelated states. */
    uint64_t x = seed;
    uint64_t salt = splitmix64(&x) ^ (stream * UINT64_C(0xd1b54a32d192ed03));
    x = salt;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is the one fixed point */
}

uint64_t np_prng_next(np_prng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double np_prng_uniform(np_prng *r)
{
    return (double)(np_prng_next(r) >> 11) * 0x1.0p-53;
}

double np_prng_exp(np_prng *r, double mean)
{
    if (!(mean > 0.0))
        return 0.0;
    /* 1 - u is in (0, 1], so the log is finite. */
    return -mean * log(1.0 - np_prng_uniform(r));
}

uint64_t np_prng_below(np_prng *r, uint64_t n)
{
    /* Rejection on the top of the range keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = np_prng_next(r);
    } while (x >= limit);
    return x % n;
}
