/*
 * numaplace/bench.h - measuring placement: a generator of regular test
 * hosts of any size, and a timing harness for the placement policies.
 *
 * The harness is the only part of the placement code that reads a clock;
 * the policies themselves stay pure. `numaplace bench place` prints what
 * np_bench_place() measures; docs/placement.md has the figures.
 */
#ifndef NUMAPLACE_BENCH_H
#define NUMAPLACE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>
#include <numaplace/topology.h>
#include <numaplace/place.h>
#include <numaplace/scenario.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A regular host: `nodes` nodes of cores_per_node cores with
 * threads_per_core threads and mem_per_node_bytes each; nodes_per_package
 * nodes share a package (distance dist_package between them), packages
 * are grouped packages_per_group at a time (dist_group), and groups are
 * dist_far apart. 0 for packages_per_group means one group. */
typedef struct np_topo_gen {
    const char *name;
    size_t nodes;
    uint32_t cores_per_node;
    uint32_t threads_per_core;
    uint64_t mem_per_node_bytes;
    size_t nodes_per_package;
    size_t packages_per_group;
    uint32_t dist_package;
    uint32_t dist_group;
    uint32_t dist_far;
} np_topo_gen;

/* Defaults: 2 threads per core, 2 nodes per package (distance 12), 4
 * packages per group (21), groups 32 apart. */
void np_topo_gen_init(np_topo_gen *g, size_t nodes, uint32_t cores_per_node,
                      uint64_t mem_per_node_bytes);
int np_topology_generate(const np_topo_gen *g, np_topology **out, np_error *err);

/* Runs `decisions` placements of random new guests (never committed) on a
 * host carrying `nr_guests` running guests of a seeded random mix (placed
 * by numaplace and committed first, so every policy is timed on the same
 * state), and reports the time per decision: CPU time of the whole batch
 * (one clock read before and after it), the fastest of a few runs. host is a built-in name, a
 * source np_topology_open() understands ("builtin:NAME", a file), or
 * "gen:N" for a generated host of N nodes (8 cores x 2 threads and 64 GiB
 * per node). nr_guests 0 means NP_BENCH_GUESTS_PER_NODE per node, at most
 * one per host CPU. */
#define NP_BENCH_GUESTS_PER_NODE 15u
#define NP_BENCH_DECISIONS 200u

typedef struct np_bench_place_result {
    char host[64];
    size_t nr_nodes;
    size_t nr_guests; /* running guests actually placed */
    size_t decisions; /* timed decisions */
    size_t placed;    /* of which found a place (not a fallback) */
    size_t fallbacks; /* the policy gave up (xl42) */
    size_t failed;    /* -ENOSPC */
    double ns_per_decision;
    double mean_cost; /* numaplace's objective, over placed decisions and
                         fallbacks (which stripe over every node) */
} np_bench_place_result;

int np_bench_place(const char *host, size_t nr_guests, size_t decisions, const char *policy,
                   unsigned seed, np_bench_place_result *out, np_error *err);

/* ---- bench mixes (bench_mixes.c) ---------------------------------------------
 * Replays an arrival/departure mix (a scenario file, bench/mixes/) on a host
 * under one policy and judges the states by the standard metrics
 * (np_std_metrics, place.h). Mixes are sized for a reference host of
 * NP_BENCH_MIX_REF_CPUS logical CPUs and NP_BENCH_MIX_REF_MEM_BYTES
 * (4 nodes of 8 CPUs and 32 GiB); a larger host replays several copies,
 * interleaved, so each CPU and byte carries the load the mix meant. */
#define NP_BENCH_MIX_REF_CPUS 32u
#define NP_BENCH_MIX_REF_MEM_BYTES (UINT64_C(128) << 30)
/* The policy name of np_place_oracle_metrics() in the replay. */
#define NP_BENCH_MIX_ORACLE_METRICS "oracle-metrics"

/* What the standard metrics do not see: the groups and devices guests ask
 * for (np_guest_spec group, group_rule, devices, io node). Each figure is a
 * mean over what it counts; a count of 0 means there was nothing to count
 * (a mix without groups or devices, or a host without device nodes). */
typedef struct np_bench_mix_asked {
    /* colocate groups: per pair of members placed, sum over their memory
     * nodes i, j of share_a(i) * share_b(j) * (SLIT(i, j) / 10 - 1), the
     * mean over pairs; 0 = every pair's memory on the same node */
    double colocate_distance;
    size_t colocate_pairs;
    /* spread groups: the share of member pairs with memory on a common
     * node; 0 = every pair apart */
    double spread_shared;
    size_t spread_pairs;
    /* guests with a device or io node on a known node: per guest, the
     * mean over its vCPUs of the remote-weighted distance to each device's
     * node (SLIT / 10 - 1, vCPUs counted as the metrics count them), mean
     * over its devices; the mean over guests; 0 = every vCPU on its
     * devices' node */
    double device_distance;
    size_t device_guests;
} np_bench_mix_asked;

typedef struct np_bench_mix_result {
    char policy[32];
    size_t nr_nodes;
    size_t copies;
    size_t arrivals; /* decisions taken */
    size_t placed;
    size_t invalid;               /* of the refusals: specs the host cannot take at all */
    bool skipped;                 /* the policy does not run on a host this large (-E2BIG) */
    np_std_metrics final_metrics; /* the state after the last event */
    np_std_metrics mean_metrics;  /* the mean over the states after each arrival */
    double ns_per_decision;       /* CPU time of the calling thread, mean */
    /* The per-arrival metrics are kept incrementally; this is their largest
     * difference from a full np_std_metrics_compute at the final state. */
    double incremental_error;
    /* the largest worst_mem_over_free of any state after an arrival */
    double max_mem_over_free;
    /* groups and devices in the state after the last event */
    np_bench_mix_asked final_asked;
    /* each figure's mean over the states after an arrival that had
     * something to count; its count is the number of such states */
    np_bench_mix_asked mean_asked;
} np_bench_mix_result;

/* A host by name: "gen:N" (a generated host of N nodes, as np_bench_place
 * uses), a source np_topology_open() understands (with ':' or '/', or "-"),
 * else a built-in name. */
int np_bench_open_host(const char *host, np_topology **out, np_error *err);
/* How many copies of a mix a host takes: its CPUs and its free memory over
 * the reference host's, the smaller, rounded, at least 1. */
size_t np_bench_mix_auto_copies(const np_topology *topo);
/* policy: a name np_place() knows, or NP_BENCH_MIX_ORACLE_METRICS. */
int np_bench_mix_replay(np_topology *topo, const np_scenario *mix, size_t copies,
                        const char *policy, np_bench_mix_result *out, np_error *err);

/* One arrival of a traced replay: what the policy did and the state after
 * it, so two policies' replays can be read side by side and the first
 * arrival where they part found. The arrays have nr_nodes entries and are
 * valid only during the call. */
typedef struct np_bench_mix_step {
    size_t arrival;    /* 0-based, over every copy */
    const char *guest; /* its name in the replay (".cJ" with copies) */
    bool placed;       /* false: refused */
    size_t nr_nodes;
    const double *guest_vcpus;       /* the guest's vCPUs per node, as the metrics count them */
    const uint64_t *guest_mem_bytes; /* the guest's memory per node */
    const double *host_vcpus;        /* every guest's vCPUs per node after it */
    double guest_rwd;                /* the guest's remote-weighted distance (0 if refused) */
    np_std_metrics metrics;          /* the host's metrics after the arrival */
} np_bench_mix_step;
typedef void (*np_bench_mix_trace_fn)(const np_bench_mix_step *step, void *ctx);

/* np_bench_mix_replay calling trace (when not NULL) after every arrival. */
int np_bench_mix_replay_traced(np_topology *topo, const np_scenario *mix, size_t copies,
                               const char *policy, np_bench_mix_trace_fn trace, void *ctx,
                               np_bench_mix_result *out, np_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_BENCH_H */
