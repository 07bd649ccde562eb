/*
 * test_sim_engine.c - the simulator's engine: the timer heap against a
 * slow oracle (a linear scan for the minimum), the seeded random streams,
 * and the engine benchmark on a small host.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "np_test.h"
#include "sim/heap.h"
#include "sim/prng.h"
#include "sim_test_util.h"

#define ORACLE_HANDLES 97u
#define ORACLE_STEPS 20000u

/* The oracle: per handle, armed?, time and the order it was armed in. */
typedef struct oracle {
    int armed[ORACLE_HANDLES];
    uint64_t time[ORACLE_HANDLES];
    uint64_t seq[ORACLE_HANDLES];
    uint64_t next_seq;
} oracle;

static int oracle_min(const oracle *o)
{
    int best = -1;
    for (int h = 0; h < (int)ORACLE_HANDLES; h++) {
        if (!o->armed[h])
            continue;
        if (best < 0 || o->time[h] < o->time[best] ||
            (o->time[h] == o->time[best] && o->seq[h] < o->seq[best]))
            best = h;
    }
    return best;
}

enum { SPREAD_NONE, SPREAD_MIXED, SPREAD_BUCKETS };

/* A timer's time: `unit` ns times 0..7 from now, so ties are frequent;
 * SPREAD_MIXED adds delays across the wheel's buckets (262 us wide, 1 024
 * of them), beyond its horizon (268 ms) and before the present;
 * SPREAD_BUCKETS puts timers 0-2 ns into any of the next 2 100 buckets, so
 * a bucket first reached from beyond the horizon (in the heap) gets timers
 * in the wheel later. */
static uint64_t oracle_time(np_prng *r, uint64_t now, uint64_t unit, int spread)
{
    uint64_t t = now + unit * np_prng_below(r, 8);
    if (spread == SPREAD_NONE)
        return t;
    if (spread == SPREAD_BUCKETS) {
        t = (now >> 18) + np_prng_below(r, 2100);
        return (t << 18) + np_prng_below(r, 3);
    }
    switch (np_prng_below(r, 7)) {
    case 0:
        return t + np_prng_below(r, UINT64_C(1) << 28); /* within the horizon */
    case 1:
        return t + (UINT64_C(1) << 28) + np_prng_below(r, UINT64_C(1) << 30); /* beyond */
    case 2:
        return t + (UINT64_C(1) << 18) * np_prng_below(r, 1030); /* bucket edges */
    case 3: /* about the horizon: the same buckets land in the heap and the wheel */
        return t + (UINT64_C(1) << 18) * (1016 + np_prng_below(r, 16));
    case 4:
        return now >= 1000 ? now - np_prng_below(r, 1000) : now; /* the past */
    default:
        return t;
    }
}

static void heap_matches_oracle(uint64_t seed, uint64_t unit, int spread)
{
    np_timerq *q = NULL;
    oracle o;
    np_prng r;
    uint64_t now = 0;

    memset(&o, 0, sizeof(o));
    np_prng_seed(&r, seed, 0);
    ASSERT_EQ(np_timerq_create(ORACLE_HANDLES, &q), 0);
    for (unsigned step = 0; step < ORACLE_STEPS; step++) {
        uint32_t h = (uint32_t)np_prng_below(&r, ORACLE_HANDLES);
        uint64_t op = np_prng_below(&r, 10);
        if (op < 5) {
            uint64_t t = oracle_time(&r, now, unit, spread);
            np_timerq_set(q, h, t);
            o.armed[h] = 1;
            o.time[h] = t;
            o.seq[h] = o.next_seq++;
        } else if (op < 6) {
            np_timerq_cancel(q, h);
            o.armed[h] = 0;
        } else {
            uint32_t got;
            uint64_t t;
            int want = oracle_min(&o);
            bool popped;
            if (op < 8) {
                popped = np_timerq_pop(q, &got, &t);
            } else {
                /* with a deadline: before the earliest entry (or at it,
                 * even when the queue is empty), then at or after it */
                uint64_t due = want >= 0 ? o.time[want] : now;
                uint64_t before = due > 0 ? due - 1 - np_prng_below(&r, 3) % due : 0;
                if (want >= 0 && due > 0)
                    ASSERT_TRUE(!np_timerq_pop_until(q, before, &got, &t));
                uint64_t until = op == 8 ? due : due + np_prng_below(&r, 1000);
                popped = np_timerq_pop_until(q, until, &got, &t);
            }
            ASSERT_EQ(popped, want >= 0);
            if (want >= 0 && popped) {
                ASSERT_EQ(got, want);
                ASSERT_U64_EQ(t, o.time[want]);
                o.armed[want] = 0;
                now = t;
            }
        }
        size_t armed = 0;
        for (unsigned i = 0; i < ORACLE_HANDLES; i++)
            armed += (size_t)o.armed[i];
        ASSERT_EQ(np_timerq_size(q), armed);
        ASSERT_EQ(np_timerq_armed(q, h), o.armed[h]);
        /* peek sees the next entry also while a pop awaits its refill */
        int next = oracle_min(&o);
        uint64_t peeked = 0;
        ASSERT_EQ(np_timerq_peek(q, &peeked), next >= 0);
        ASSERT_EQ(np_timerq_peek_handle(q), next >= 0 ? (uint32_t)next : UINT32_MAX);
        if (next >= 0)
            ASSERT_U64_EQ(peeked, o.time[next]);
        if (o.armed[h])
            ASSERT_U64_EQ(np_timerq_when(q, h), o.time[h]);
    }
    np_timerq_destroy(q);
}

/* The heap and its timer wheel pop in the oracle's order, ties included:
 * timers close together (all in the heap), timers a bucket apart or more
 * (in the wheel), and a mix with timers beyond the wheel and in the past. */
static void test_heap_matches_oracle(void)
{
    heap_matches_oracle(7, 1, SPREAD_NONE);
    heap_matches_oracle(8, UINT64_C(1) << 17, SPREAD_NONE);
    heap_matches_oracle(9, UINT64_C(1) << 20, SPREAD_NONE);
    heap_matches_oracle(10, 1, SPREAD_MIXED);
    heap_matches_oracle(11, UINT64_C(1) << 16, SPREAD_MIXED);
    heap_matches_oracle(12, 1, SPREAD_BUCKETS);
}

static void test_heap_grows_and_keeps_order(void)
{
    np_timerq *q = NULL;
    uint32_t h;
    uint64_t t, last = 0;

    ASSERT_EQ(np_timerq_create(4, &q), 0);
    for (uint32_t i = 0; i < 4; i++)
        np_timerq_set(q, i, 100 - i);
    /* grow while a pop is pending (its root not yet refilled) */
    ASSERT_TRUE(np_timerq_pop(q, &h, &t));
    ASSERT_EQ(h, 3);
    ASSERT_U64_EQ(t, 97);
    ASSERT_EQ(np_timerq_grow(q, 1000), 0);
    ASSERT_EQ(np_timerq_size(q), 3);
    np_timerq_set(q, 3, 97);
    for (uint32_t i = 4; i < 1000; i++)
        np_timerq_set(q, i, (i * 7919u) % 1000);
    ASSERT_EQ(np_timerq_size(q), 1000);
    for (int i = 0; i < 1000; i++) {
        ASSERT_TRUE(np_timerq_pop(q, &h, &t));
        ASSERT_TRUE(t >= last);
        last = t;
    }
    ASSERT_TRUE(!np_timerq_pop(q, &h, &t));
    ASSERT_TRUE(!np_timerq_peek(q, &t));
    np_timerq_destroy(q);
}

static void test_prng_streams_are_reproducible_and_distinct(void)
{
    np_prng a, b, c;
    np_prng_seed(&a, 123, 5);
    np_prng_seed(&b, 123, 5);
    np_prng_seed(&c, 123, 6);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = np_prng_next(&a), y = np_prng_next(&b), z = np_prng_next(&c);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    ASSERT_TRUE(same_ab);
    ASSERT_TRUE(!same_ac);
}

static void test_prng_distributions(void)
{
    np_prng r;
    double sum = 0, sum_exp = 0;
    unsigned buckets[10] = {0};
    const int n = 200000;

    np_prng_seed(&r, 99, 0);
    for (int i = 0; i < n; i++) {
        double u = np_prng_uniform(&r);
        ASSERT_TRUE(u >= 0.0 && u < 1.0);
        sum += u;
        buckets[(int)(u * 10)]++;
        sum_exp += np_prng_exp(&r, 5.0);
        ASSERT_TRUE(np_prng_below(&r, 7) < 7);
    }
    /* Means within 5 standard errors. */
    ASSERT_TRUE(fabs(sum / n - 0.5) < 5 * sqrt(1.0 / 12 / n));
    ASSERT_TRUE(fabs(sum_exp / n - 5.0) < 5 * 5.0 / sqrt(n));
    for (int i = 0; i < 10; i++)
        ASSERT_TRUE(buckets[i] > n / 10 * 0.95 && buckets[i] < n / 10 * 1.05);
    ASSERT_TRUE(np_prng_exp(&r, 0.0) == 0.0);
}

static void test_time_only_moves_forward(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = NULL;
    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    ASSERT_EQ(np_sim_run(sim, 5 * MS), 0);
    ASSERT_U64_EQ(np_sim_now_ns(sim), 5 * MS);
    ASSERT_EQ(np_sim_run(sim, 1 * MS), -EINVAL);
    ASSERT_U64_EQ(np_sim_now_ns(sim), 5 * MS);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_bad_config_is_refused(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = NULL;
    np_sim_config c;

    np_sim_config_init(&c);
    c.tslice_ns = 0;
    ASSERT_EQ(np_sim_create(t, &c, &sim), -EINVAL);
    np_sim_config_init(&c);
    c.page_bytes = 3000; /* not a power of two */
    ASSERT_EQ(np_sim_create(t, &c, &sim), -EINVAL);
    np_sim_config_init(&c);
    c.internal_default_node = 2;
    ASSERT_EQ(np_sim_create(t, &c, &sim), -EINVAL);
    np_sim_config_init(&c);
    c.tick_ns = c.tslice_ns * 2;
    ASSERT_EQ(np_sim_create(t, &c, &sim), -EINVAL);
    ASSERT_TRUE(sim == NULL);
    np_topology_destroy(t);
}

static void test_bench_engine_small(void)
{
    np_sim_bench_config cfg;
    np_sim_bench_result res;

    np_sim_bench_config_init(&cfg);
    ASSERT_EQ(cfg.nodes, 256);
    ASSERT_EQ(cfg.guests, 4000);
    ASSERT_U64_EQ(cfg.sim_ns, 60 * SEC);
    cfg.nodes = 4;
    cfg.cpus_per_node = 4;
    cfg.guests = 30;
    cfg.sim_ns = 1 * SEC;
    ASSERT_EQ(np_sim_bench_engine(&cfg, &res), 0);
    ASSERT_TRUE(res.events > 1000);
    ASSERT_U64_EQ(res.sim_ns, 1 * SEC);
    ASSERT_EQ(res.guests_running, 30);
    ASSERT_TRUE(res.vcpus >= 30);
    ASSERT_TRUE(res.events_per_s > 0 && res.heap_events_per_s > 0);
    cfg.policy = "no-such-policy";
    ASSERT_EQ(np_sim_bench_engine(&cfg, &res), -ENOENT);
}

int main(void)
{
    NP_RUN(test_heap_matches_oracle);
    NP_RUN(test_heap_grows_and_keeps_order);
    NP_RUN(test_prng_streams_are_reproducible_and_distinct);
    NP_RUN(test_prng_distributions);
    NP_RUN(test_time_only_moves_forward);
    NP_RUN(test_bad_config_is_refused);
    NP_RUN(test_bench_engine_small);
    return np_test_summary();
}
