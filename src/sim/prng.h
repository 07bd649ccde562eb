/*
 * sim/prng.h - the simulator's seeded random streams.
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, so a
 * 64-bit seed and a stream number give an independent, reproducible
 * stream. Every vCPU owns one stream, the policy slot another: the
 * workload a guest sees never depends on the order in which the scheduler
 * happened to run things, so two policies are compared on identical demand.
 */
#ifndef NP_SIM_PRNG_H
#define NP_SIM_PRNG_H

#include <stdint.h>

typedef struct np_prng {
    uint64_t s[4];
} np_prng;

/* Stream `stream` of `seed`: different streams never share state. */
void np_prng_seed(np_prng *r, uint64_t seed, uint64_t stream);
uint64_t np_prng_next(np_prng *r);
/* Uniform in [0, 1), 53 random bits. */
double np_prng_uniform(np_prng *r);
/* Exponentially distributed with the given mean (>= 0); mean 0 gives 0. */
double np_prng_exp(np_prng *r, double mean);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t np_prng_below(np_prng *r, uint64_t n);

#endif
