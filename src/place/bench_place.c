/*
 * place/bench_place.c - timing the placement policies on a loaded host.
 *
 * The one file of the placement code that reads a clock. It builds a host
 * (built-in, from a file, or generated), fills it with a seeded random mix
 * of running guests placed by numaplace, then times a batch of decisions
 * of a policy for new guests of the same mix, none of them committed, so
 * every policy sees the same state and the same requests for a given
 * seed. The batch runs BENCH_REPEATS times and the fastest run counts.
 *
 * The mix: guests take 55% of the memory of the nodes with CPUs in total
 * (a quarter of them may also use CPU-less memory) and one vCPU per
 * host CPU (hyper-threads included), each vCPU busy 5% to 65% of the time
 * (35% on average), so nodes run at about 60% of their capacity on
 * average, some hotter: a busy consolidation host, not an overloaded one.
 * Sizes are drawn uniformly from a quarter to 1.75 times the mean, memory
 * in 256 MiB steps.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/bench.h>
#include <numaplace/place.h>

#include "util/error.h"

/* Generated hosts ("gen:N"): 8 cores x 2 threads and 64 GiB per node,
 * like one sub-NUMA cluster of a current server. */
#define BENCH_GEN_CORES 8u
#define BENCH_GEN_MEM_BYTES (UINT64_C(64) << 30)
/* The mix (see the top of the file). */
#define BENCH_MEM_FILL 0.55
#define BENCH_VCPUS_PER_CPU 1.0
#define BENCH_SIZE_STEP_MIB 256u
#define BENCH_DEMAND_MIN 0.05
#define BENCH_DEMAND_SPAN 0.6
#define BENCH_CPULESS_ONE_IN 4u /* guests that accept CPU-less memory */
/* Timed batches per policy; the fastest counts (the machine is shared:
 * the other tenants only ever add time). */
#define BENCH_REPEATS 5u

typedef struct bench_rng {
    uint64_t s;
} bench_rng;

/* xorshift64*: seeded, the same sequence on every platform. */
static uint64_t rng_next(bench_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

static double rng_unit(bench_rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

typedef struct bench_mix {
    double mean_mib;
    double mean_vcpus;
    uint32_t max_vcpus;
} bench_mix;

static np_guest_spec random_guest(bench_rng *r, const bench_mix *mix, const char *prefix,
                                  size_t id)
{
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s%zu", prefix, id);
    double mib = mix->mean_mib * (0.25 + 1.5 * rng_unit(r));
    uint64_t steps = (uint64_t)(mib / BENCH_SIZE_STEP_MIB);
    s.mem_bytes = (steps ? steps : 1) * BENCH_SIZE_STEP_MIB * (UINT64_C(1) << 20);
    double v = mix->mean_vcpus * (0.25 + 1.5 * rng_unit(r));
    uint32_t vcpus = v < 1.0 ? 1 : (uint32_t)lround(v);
    s.vcpus = vcpus > mix->max_vcpus ? mix->max_vcpus : vcpus;
    s.cpu_demand = BENCH_DEMAND_MIN + BENCH_DEMAND_SPAN * rng_unit(r);
    s.allow_cpuless_memory = rng_next(r) % BENCH_CPULESS_ONE_IN == 0;
    return s;
}

int np_bench_open_host(const char *host, np_topology **out, np_error *err)
{
    if (strncmp(host, "gen:", 4) == 0) {
        char *end = NULL;
        unsigned long nodes = strtoul(host + 4, &end, 10);
        if (!end || *end || nodes == 0 || nodes > NP_TOPO_MAX_NODES)
            return np_error_set(err, host, 0, "expected gen:NODES with 1..%u nodes",
                                NP_TOPO_MAX_NODES);
        np_topo_gen g;
        np_topo_gen_init(&g, nodes, BENCH_GEN_CORES, BENCH_GEN_MEM_BYTES);
        g.name = host;
        return np_topology_generate(&g, out, err);
    }
    if (strchr(host, ':') || strchr(host, '/') || strcmp(host, "-") == 0)
        return np_topology_open(host, NP_TOPO_FMT_AUTO, out, err);
    return np_topology_builtin(host, out, err);
}

/* CPU time of the calling thread: the decisions are single-threaded and
 * pure, and on a shared machine wall-clock time would count the other
 * tenants' work. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int np_bench_place(const char *host, size_t nr_guests, size_t decisions, const char *policy,
                   unsigned seed, np_bench_place_result *out, np_error *err)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_guest_spec *specs = NULL;
    np_placement **pls = NULL;
    int *rcs = NULL;
    int rc;

    if (!host || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    rc = np_bench_open_host(host, &topo, err);
    if (rc < 0)
        return rc;
    rc = np_host_state_create(topo, &st);
    if (rc < 0)
        goto out;
    size_t n = np_topology_nr_nodes(topo);
    snprintf(out->host, sizeof(out->host), "%s", host);
    out->nr_nodes = n;
    /* Default: NP_BENCH_GUESTS_PER_NODE per node, but no more guests than
     * CPUs, so hosts with small nodes are not loaded past their CPUs by
     * one-vCPU guests alone. */
    if (nr_guests == 0) {
        nr_guests = NP_BENCH_GUESTS_PER_NODE * n;
        if (nr_guests > np_topology_nr_cpus(topo))
            nr_guests = np_topology_nr_cpus(topo);
    }
    if (decisions == 0)
        decisions = NP_BENCH_DECISIONS;

    uint32_t max_node_cpus = 0;
    uint64_t cpu_node_mem = 0;
    for (size_t i = 0; i < n; i++) {
        const np_node_info *ni = np_topology_node(topo, i);
        max_node_cpus = ni->nr_cpus > max_node_cpus ? ni->nr_cpus : max_node_cpus;
        cpu_node_mem += ni->nr_cpus ? ni->mem_total_bytes : 0;
    }
    bench_mix mix = {
        .mean_mib = BENCH_MEM_FILL * (double)(cpu_node_mem >> 20) / (double)nr_guests,
        .mean_vcpus = BENCH_VCPUS_PER_CPU * (double)np_topology_nr_cpus(topo) /
                      (double)nr_guests,
        .max_vcpus = max_node_cpus ? max_node_cpus : 1,
    };
    bench_rng r = {((uint64_t)seed << 1 | 1) * UINT64_C(0x9e3779b97f4a7c15)};

    /* The running guests. */
    for (size_t i = 0; i < nr_guests; i++) {
        np_guest_spec s = random_guest(&r, &mix, "run", i);
        np_placement *pl = NULL;
        size_t g;
        if (np_place(st, &s, "numaplace", &pl, NULL) == 0 &&
            np_placement_commit(st, &s, pl, &g) == 0) {
            np_host_state_populate(st, g);
            out->nr_guests++;
        }
        np_placement_destroy(pl);
    }

    /* The timed decisions: the batch of new guests is placed
     * BENCH_REPEATS times and the fastest batch counts; the clock is
     * read around the batch, not around each decision (a read costs a
     * system call, about half a microsecond here: as much as a decision
     * on a two-node host), and the placements are destroyed after it. */
    specs = malloc(decisions * sizeof(*specs));
    pls = calloc(decisions, sizeof(*pls));
    rcs = malloc(decisions * sizeof(*rcs));
    if (!specs || !pls || !rcs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < decisions; i++)
        specs[i] = random_guest(&r, &mix, "new", i);
    double best_ns = INFINITY, cost = 0.0;
    for (unsigned rep = 0; rep < BENCH_REPEATS; rep++) {
        double t0 = now_ns();
        for (size_t i = 0; i < decisions; i++)
            rcs[i] = np_place(st, &specs[i], policy, &pls[i], NULL);
        double batch_ns = now_ns() - t0;
        best_ns = batch_ns < best_ns ? batch_ns : best_ns;
        for (size_t i = 0; i < decisions && rep == 0; i++) {
            if (rcs[i] == 0 && np_placement_is_fallback(pls[i])) {
                out->fallbacks++;
                cost += np_placement_cost(pls[i]);
            } else if (rcs[i] == 0) {
                out->placed++;
                cost += np_placement_cost(pls[i]);
            } else if (rcs[i] == -ENOSPC) {
                out->failed++;
            } else if (rc == 0) {
                /* the decision again, for its message (decisions are pure) */
                np_placement *again = NULL;
                rc = np_place(st, &specs[i], policy, &again, err);
                np_placement_destroy(again);
                rc = rc < 0 ? rc : rcs[i];
            }
        }
        for (size_t i = 0; i < decisions; i++) {
            np_placement_destroy(pls[i]);
            pls[i] = NULL;
        }
        if (rc < 0)
            goto out;
    }
    out->decisions = decisions;
    out->ns_per_decision = best_ns / (double)decisions;
    size_t scored = out->placed + out->fallbacks;
    out->mean_cost = scored ? cost / (double)scored : 0.0;
out:
    if (pls)
        for (size_t i = 0; i < decisions; i++)
            np_placement_destroy(pls[i]);
    free(pls);
    free(specs);
    free(rcs);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
    return rc;
}
