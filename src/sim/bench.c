/*
 * sim/bench.c - the engine benchmark: a big host (256 nodes x 16 CPUs by
 * default), thousands of guests with a mix of steady, bursty and idle
 * vCPUs, run for a stretch of simulated time; reports events per second
 * of wall time. It also times the event heap alone on the same number of
 * timers, to separate the queue's cost from the model's.
 *
 * This is the only code of the simulator that reads a clock, and only to
 * measure itself: nothing it reads reaches the model. The policy runs
 * behind a thin wrapper that adds up the CPU time of its decisions and
 * runtime steps, so the result separates the policy's cost (placement
 * searches at arrivals) from the engine's (events).
 */
#include <numaplace/sim.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/heap.h"
#include "sim/prng.h"
#include "sim/sense_cache.h"

/* Host of the benchmark: 128 GiB per node; SLIT 10 local, 16 within a
 * group of 4 nodes (a package), 22 within 32 nodes (a board), 32 beyond. */
#define BENCH_NODE_MEM_BYTES (UINT64_C(128) << 30)
#define BENCH_GROUP_NODES 4u
#define BENCH_BOARD_NODES 32u
#define BENCH_DIST_LOCAL 10u
#define BENCH_DIST_GROUP 16u
#define BENCH_DIST_BOARD 22u
#define BENCH_DIST_FAR 32u
/* Heap-only run: this many pops per timer. */
#define BENCH_HEAP_ROUNDS 200u
#define BENCH_HEAP_MEAN_DELAY_NS 10000000.0

void np_sim_bench_config_init(np_sim_bench_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nodes = 256;
    cfg->cpus_per_node = 16;
    cfg->guests = 4000;
    cfg->sim_ns = UINT64_C(60000000000);
    cfg->seed = 1;
    cfg->policy = "simple-soft";
}

static double clock_s(clockid_t which)
{
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a machine shared with other work the wall
 * time of a run says more about the neighbours than about the engine. */
static double cpu_now_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* The policy under test, timed: forwards every call to the real policy
 * with its own self, and adds up the CPU time spent in it. */
typedef struct bench_timed {
    const np_sim_policy *inner;
    void *inner_self;
    double cpu_s;
    uint64_t calls;
} bench_timed;

static int timed_place(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                       np_error *err)
{
    bench_timed *t = self;
    double c0 = cpu_now_s();
    int rc = t->inner->place(t->inner_self, sim, spec, plan, err);
    t->cpu_s += cpu_now_s() - c0;
    t->calls++;
    return rc;
}

static int timed_rebalance(void *self, np_backend *be)
{
    bench_timed *t = self;
    double c0 = cpu_now_s();
    int rc = t->inner->rebalance(t->inner_self, be);
    t->cpu_s += cpu_now_s() - c0;
    t->calls++;
    return rc;
}

static uint32_t distance(size_t a, size_t b)
{
    if (a == b)
        return BENCH_DIST_LOCAL;
    if (a / BENCH_GROUP_NODES == b / BENCH_GROUP_NODES)
        return BENCH_DIST_GROUP;
    if (a / BENCH_BOARD_NODES == b / BENCH_BOARD_NODES)
        return BENCH_DIST_BOARD;
    return BENCH_DIST_FAR;
}

static int build_host(const np_sim_bench_config *cfg, np_topology **out)
{
    np_topology_builder *b = NULL;
    np_error err = {{0}, 0, {0}};
    int rc = np_topology_builder_create(&b);
    uint32_t cpu = 0;

    if (rc)
        return rc;
    rc = np_topology_builder_set_name(b, "bench");
    for (size_t n = 0; n < cfg->nodes && !rc; n++) {
        rc = np_topology_builder_add_node(b, (uint32_t)n, BENCH_NODE_MEM_BYTES, BENCH_NODE_MEM_BYTES);
        for (size_t c = 0; c < cfg->cpus_per_node && !rc; c++, cpu++)
            rc = np_topology_builder_add_cpu(b, cpu, (uint32_t)n, (uint32_t)n, (uint32_t)c);
    }
    for (size_t i = 0; i < cfg->nodes && !rc; i++)
        for (size_t j = 0; j < cfg->nodes && !rc; j++)
            rc = np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, distance(i, j));
    if (!rc)
        rc = np_topology_builder_finish(b, out, &err);
    np_topology_builder_destroy(b);
    return rc;
}

/* The guest mix: 30% 1 vCPU, 30% 2, 30% 4, 10% 8; 2-8 GiB; vCPUs 20%
 * steady, 60% bursty (duty 0.3-0.7, 5-20 ms bursts), 20% idle; memory
 * intensity 0.1-0.6. About 0.5 CPU of demand per vCPU: ~1.4x overcommit
 * of the default host. */
static void make_guest(np_prng *r, size_t i, np_sim_guest *g)
{
    static const uint32_t vcpus[] = {1, 1, 1, 2, 2, 2, 4, 4, 4, 8};
    np_sim_guest_init(g);
    g->spec.vcpus = vcpus[np_prng_below(r, 10)];
    g->spec.mem_bytes = (UINT64_C(2) + np_prng_below(r, 7)) << 30;
    g->spec.maxmem_bytes = g->spec.mem_bytes;
    uint64_t kind = np_prng_below(r, 10);
    np_sim_pattern p = kind < 2 ? NP_SIM_STEADY : kind < 8 ? NP_SIM_BURSTY : NP_SIM_IDLE;
    np_sim_vcpu_load_init(&g->load, p);
    if (p == NP_SIM_BURSTY) {
        g->load.duty = 0.3 + 0.4 * np_prng_uniform(r);
        g->load.burst_work_ns = UINT64_C(5000000) + np_prng_below(r, UINT64_C(15000000));
    }
    g->load.mem_intensity = 0.1 + 0.5 * np_prng_uniform(r);
    g->spec.cpu_demand = p == NP_SIM_STEADY ? 1.0 : g->load.duty;
    (void)i;
}

static double bench_heap(uint32_t nr_timers, uint64_t seed)
{
    np_timerq *q = NULL;
    np_prng r;
    uint64_t t, pops = (uint64_t)nr_timers * BENCH_HEAP_ROUNDS;
    uint32_t h;

    if (!nr_timers || np_timerq_create(nr_timers, &q))
        return 0;
    np_prng_seed(&r, seed, 0);
    for (uint32_t i = 0; i < nr_timers; i++)
        np_timerq_set(q, i, (uint64_t)np_prng_exp(&r, BENCH_HEAP_MEAN_DELAY_NS));
    double t0 = wall_now_s();
    for (uint64_t i = 0; i < pops; i++) {
        np_timerq_pop(q, &h, &t);
        np_timerq_set(q, h, t + 1 + (uint64_t)np_prng_exp(&r, BENCH_HEAP_MEAN_DELAY_NS));
    }
    double dt = wall_now_s() - t0;
    np_timerq_destroy(q);
    return dt > 0 ? (double)pops / dt : 0;
}

int np_sim_bench_engine(const np_sim_bench_config *cfg, np_sim_bench_result *out)
{
    np_topology *topo = NULL;
    np_sim *sim = NULL;
    const np_sim_policy *policy = NULL;
    np_sim_config sc;
    np_sim_host_metrics hm;
    np_prng r;
    /* The place.h policies sense the host through the backend; without a
     * cache they sense at every arrival, which makes filling the host
     * quadratic in its guests (sense_cache.h). The suite passes one too. */
    sim_sense_cache cache = {0};
    bench_timed timed = {0};
    np_sim_policy wrapper = {0};
    int rc;

    if (!cfg || !out || !cfg->nodes || !cfg->cpus_per_node || !cfg->sim_ns)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    rc = np_sim_policy_find(cfg->policy ? cfg->policy : "simple-soft", &policy);
    if (!rc)
        rc = build_host(cfg, &topo);
    if (rc)
        return rc;
    np_sim_config_init(&sc);
    sc.seed = cfg->seed;
    rc = np_sim_create(topo, &sc, &sim);
    /* the real policy's self: the sense cache for the place.h policies,
     * or what the policy makes for itself */
    timed.inner = policy;
    if (!rc && sim_policy_takes_sense_cache(policy))
        timed.inner_self = &cache;
    else if (!rc && policy->create)
        rc = policy->create(sim, &timed.inner_self);
    wrapper.name = policy->name;
    wrapper.summary = policy->summary;
    wrapper.place = policy->place ? timed_place : NULL;
    wrapper.rebalance = policy->rebalance ? timed_rebalance : NULL;
    if (!rc)
        rc = np_sim_set_policy(sim, &wrapper, &timed);
    np_prng_seed(&r, cfg->seed, UINT64_C(0xbe4c4));
    for (size_t i = 0; i < cfg->guests && !rc; i++) {
        np_sim_guest g;
        make_guest(&r, i, &g);
        rc = np_sim_add_guest(sim, &g, NULL, NULL);
        out->vcpus += g.spec.vcpus;
    }
    if (rc)
        goto out;

    double t0 = wall_now_s(), c0 = cpu_now_s();
    rc = np_sim_run(sim, cfg->sim_ns);
    out->wall_s = wall_now_s() - t0;
    out->cpu_s = cpu_now_s() - c0;
    if (rc)
        goto out;
    rc = np_sim_host_metrics_get(sim, &hm);
    if (rc)
        goto out;
    out->events = hm.events;
    out->sim_ns = hm.now_ns;
    out->guests_running = hm.guests_running;
    out->events_per_s = out->wall_s > 0 ? (double)out->events / out->wall_s : 0;
    out->events_per_cpu_s = out->cpu_s > 0 ? (double)out->events / out->cpu_s : 0;
    out->policy_cpu_s = timed.cpu_s;
    out->policy_calls = timed.calls;
    double engine_s = out->cpu_s - timed.cpu_s;
    out->engine_events_per_cpu_s = engine_s > 0 ? (double)out->events / engine_s : 0;
    out->work_rate = hm.now_ns ? hm.work_ns / (double)hm.now_ns : 0;
    out->remote_ratio = hm.remote_ratio;
    out->cpu_util = hm.cpu_util;
    out->fairness_progress = hm.fairness_progress;
    out->node_migrations = hm.node_migrations;
    out->heap_events_per_s =
        bench_heap((uint32_t)(cfg->nodes * cfg->cpus_per_node + out->vcpus + cfg->guests), cfg->seed);
out:
    np_sim_destroy(sim);
    if (timed.inner_self && timed.inner_self != &cache && policy && policy->destroy)
        policy->destroy(timed.inner_self);
    sim_sense_cache_fini(&cache);
    np_topology_destroy(topo);
    return rc;
}
