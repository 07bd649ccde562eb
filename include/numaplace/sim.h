/*
 * numaplace/sim.h - a deterministic discrete-event simulator of a NUMA
 * virtualization host, for benchmarking placement and balancing policies
 * on hosts we do not own.
 *
 * What it models (docs/simulator.md has the formulas and their sources):
 *   - the host: the topology's nodes, CPUs and distances; memory per node
 *     in pages; memory bandwidth per node and between nodes, with
 *     contention; access latency from the distance matrix (or HMAT);
 *   - a hypervisor credit scheduler after Xen's credit1: per-pCPU run
 *     queues, weights and credits, 30 ms time slices, 10 ms ticks, boost on
 *     wake, idle stealing, and hard and soft affinity with the two-step
 *     (soft, then hard) balance;
 *   - memory: each guest's pages on nodes (from the placement, striped or
 *     first-touch), rate-limited page migration with a copy cost and a
 *     guest stall, per-vCPU hypervisor allocations on a node, ballooning,
 *     and page sharing within one node or across nodes;
 *   - workloads: per vCPU a CPU pattern (steady, bursty, idle), a memory
 *     intensity and a working set; traffic between guests whose cost grows
 *     with distance; IO-bound guests tied to a device's node.
 * Time is simulated, in ns; nothing reads the wall clock (only the engine
 * benchmark measures its own wall time). The same seed gives the same
 * results, bit for bit, and each vCPU draws its workload from its own
 * random stream, so every policy sees exactly the same demand.
 *
 * Policies plug into a slot (np_sim_policy): a placement function called
 * when a guest arrives and an optional periodic step that acts through the
 * simulator's np_backend, the same interface the Linux and Xen backends
 * implement.
 */
#ifndef NUMAPLACE_SIM_H
#define NUMAPLACE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/backend.h>
#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_sim np_sim;
typedef struct np_sim_plan np_sim_plan;

/* Largest host and load the simulator accepts. */
#define NP_SIM_MAX_GUESTS 65536u
#define NP_SIM_MAX_VCPUS_PER_GUEST 512u
#define NP_SIM_MAX_BALLOON_STEPS 1024u

/* ---- configuration ---------------------------------------------------------- */

typedef enum np_sim_share_mode {
    NP_SIM_SHARE_OFF = 0,
    NP_SIM_SHARE_NODE_LOCAL, /* identical pages merged only within a node (KSM merge_across_nodes=0, ESXi TPS) */
    NP_SIM_SHARE_CROSS_NODE, /* merged host-wide: one copy, remote for guests on other nodes */
} np_sim_share_mode;

/* Every knob, with the default np_sim_config_init() sets and why in
 * docs/simulator.md. Plain input data: fill from the defaults. */
typedef struct np_sim_config {
    uint64_t seed;

    /* credit scheduler (Xen credit1 defaults) */
    uint64_t tslice_ns;       /* time slice and accounting period: 30 ms */
    uint64_t tick_ns;         /* credit tick: 10 ms */
    uint32_t default_weight;  /* 256 */
    uint64_t wake_latency_ns; /* from a tickle (IPI) to the schedule on the target CPU */

    /* memory system */
    uint64_t page_bytes;            /* accounting granularity: 4096 */
    double local_latency_ns;        /* idle local DRAM latency */
    double latency_per_distance;    /* 0: the calibration's SLIT classes; > 0: ratio
                                       added per SLIT unit above local instead */
    uint64_t node_bandwidth_bps;    /* per node when HMAT gives none (bytes/s) */
    double remote_bandwidth_ratio;  /* bandwidth a node serves to other nodes / local */
    uint64_t core_bandwidth_bps;    /* drawn by one vCPU at memory intensity 1 */
    uint64_t epoch_ns;              /* bandwidth-contention averaging period */

    /* page migration */
    uint64_t migrate_limit_bps;   /* host-wide rate limit of page migration */
    uint64_t migrate_burst_bytes; /* token-bucket depth */
    uint64_t migrate_copy_bps;    /* copy speed of one migration */

    /* hypervisor-internal per-vCPU state (struct vcpu, VMCS/VMCB, ...) */
    uint64_t vcpu_internal_bytes;
    uint64_t ctxsw_base_ns;     /* a context switch without its memory misses */
    uint32_t ctxsw_misses;      /* cache misses into the vCPU's state per switch */
    bool internal_follow_plan;  /* place it where the plan says (else default node) */
    size_t internal_default_node; /* where it goes without a plan: the toolstack's node */

    /* guests with virtual NUMA */
    double vnuma_locality; /* share of a vCPU's accesses to its virtual node's memory */

    /* page sharing */
    np_sim_share_mode share_mode;
    uint64_t share_scan_ns;

    /* metrics and policy */
    uint64_t sample_ns;    /* time-series period, 0 = none */
    uint64_t rebalance_ns; /* period of the policy's runtime step */

    np_log_fn log; /* NULL = no logging */
    void *log_opaque;
} np_sim_config;

void np_sim_config_init(np_sim_config *cfg);

/* ---- workloads ------------------------------------------------------------ */

typedef enum np_sim_pattern {
    NP_SIM_STEADY = 0, /* always runnable */
    NP_SIM_BURSTY,     /* bursts of work, then think time (closed loop) */
    NP_SIM_IDLE,       /* rare short bursts (timer ticks, housekeeping) */
} np_sim_pattern;

typedef struct np_sim_vcpu_load {
    np_sim_pattern pattern;
    double duty;              /* bursty/idle: busy fraction when running at full speed */
    uint64_t burst_work_ns;   /* mean work per burst, in ns at full local speed */
    double mem_intensity;     /* 0..1: time waiting on memory when all of it is local */
    uint64_t working_set_bytes; /* touched by this vCPU (first-touch, migration stalls) */
    uint64_t mem_bw_bps;      /* bandwidth drawn at full speed; 0 = intensity x core bw */
} np_sim_vcpu_load;

/* Defaults per pattern: steady; bursty duty 0.5, 5 ms bursts; idle duty
 * 0.01, 0.2 ms bursts; intensity 0.3, working set 256 MiB. */
void np_sim_vcpu_load_init(np_sim_vcpu_load *load, np_sim_pattern pattern);

typedef struct np_sim_guest {
    np_guest_spec spec;      /* name, vcpus, mem/maxmem, io node, demand, affinity wish */
    np_sim_vcpu_load load;   /* every vCPU's load (np_sim_set_vcpu_load overrides one) */
    uint64_t start_ns;       /* arrival: placement happens then */
    uint32_t weight;         /* credit weight, 0 = config default */
    double comm_fraction;    /* share of its time talking to peers (np_sim_add_traffic) */
    double io_fraction;      /* share of its time on IO to spec.io_node_os_id */
    uint32_t share_class;    /* 0 = nothing shareable; guests of one class share pages */
    double shareable_fraction; /* of its pages, identical across its class */
    const np_sim_plan *plan; /* explicit placement, bypassing the policy; copied */
} np_sim_guest;

/* Zeroes the guest, sets spec defaults (1 vCPU, 1 GiB, soft affinity,
 * demand 1.0, no io node) and a steady load. Does not need guest.h's
 * reader functions. */
void np_sim_guest_init(np_sim_guest *g);

/* ---- placement plans -------------------------------------------------------- */

typedef enum np_sim_mem_mode {
    NP_SIM_MEM_PLAN = 0,    /* per-node amounts from np_sim_plan_set_node_mem */
    NP_SIM_MEM_STRIPED,     /* round-robin over the node affinity (all nodes if none) */
    NP_SIM_MEM_FIRST_TOUCH, /* on the node where each vCPU first runs */
} np_sim_mem_mode;

/* A plan says where one guest's memory and vCPUs go. Masks are copied. */
int np_sim_plan_create(size_t nr_nodes, uint32_t nr_vcpus, np_sim_plan **out);
void np_sim_plan_destroy(np_sim_plan *plan);
int np_sim_plan_copy(const np_sim_plan *plan, np_sim_plan **out);
int np_sim_plan_set_mem_mode(np_sim_plan *plan, np_sim_mem_mode mode);
/* Relative amounts: the guest's memory is split in these proportions. */
int np_sim_plan_set_node_mem(np_sim_plan *plan, size_t node_idx, uint64_t bytes);
/* CPU os_id masks; hard NULL = all CPUs, soft NULL = none. */
int np_sim_plan_set_vcpu_affinity(np_sim_plan *plan, uint32_t vcpu, const np_bitmap *hard,
                                  const np_bitmap *soft);
int np_sim_plan_set_vcpu_internal_node(np_sim_plan *plan, uint32_t vcpu, size_t node_idx);
/* vNUMA: the node backing the vCPU's virtual node. A guest that sees its
 * NUMA layout keeps config.vnuma_locality of a vCPU's accesses on that
 * node; without vNUMA a guest's vCPUs access all of its memory alike. */
int np_sim_plan_set_vcpu_vnode_node(np_sim_plan *plan, uint32_t vcpu, size_t node_idx);
/* Node os_ids new memory comes from (balloon growth, striping); NULL = any. */
int np_sim_plan_set_node_affinity(np_sim_plan *plan, const np_bitmap *nodes);

/* ---- policies ------------------------------------------------------------------ */

typedef struct np_sim_policy {
    const char *name;
    const char *summary;
    /* Where a new guest goes: fill `plan` (sized for the guest, memory mode
     * PLAN with no amounts = striped). NULL place = striped, no affinity. */
    int (*place)(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                 np_error *err);
    /* Runtime step every config.rebalance_ns, acting through the backend
     * (NULL = none). */
    int (*rebalance)(void *self, np_backend *be);
    /* A policy that keeps state between calls (a balancer's hold-off)
     * makes it here when np_sim_set_policy gets self = NULL, as the bench
     * and the CLI pass when they select a policy by name; destroy frees it
     * when the policy is replaced or the simulator destroyed. NULL = none. */
    int (*create)(np_sim *sim, void **self_out);
    void (*destroy)(void *self);
} np_sim_policy;

/* Built-in policies: "none" (striped memory, no affinity: Xen before 4.2),
 * "first-touch" (Linux without numad), "simple-hard"/"simple-soft" (one
 * node when it fits, by free memory and planned vCPUs: a cheap stand-in for
 * tests and the engine benchmark), and place.h's policies on the host as
 * sensed through the backend: "xl42-hard" (Xen 4.2), "xl42-soft" (Xen
 * 4.3+), "numaplace-soft"; and "numaplace-balance" (numaplace-soft at
 * arrival, then the balancer of balance.h every rebalance period). */
size_t np_sim_policy_count(void);
const np_sim_policy *np_sim_policy_get(size_t i);
int np_sim_policy_find(const char *name, const np_sim_policy **out);

/* ---- the simulator ------------------------------------------------------------- */

/* Takes a reference to topo. -EINVAL for a bad config. */
int np_sim_create(np_topology *topo, const np_sim_config *cfg, np_sim **out);
void np_sim_destroy(np_sim *sim);
/* The policy table must outlive the simulator. Default: "none". */
int np_sim_set_policy(np_sim *sim, const np_sim_policy *policy, void *self);

/* Adds a guest arriving at g->start_ns (>= now). -EINVAL with err->msg for a
 * bad guest, -E2BIG past the limits, -EBUSY from inside np_sim_run (a
 * policy callback). */
int np_sim_add_guest(np_sim *sim, const np_sim_guest *g, size_t *gidx_out, np_error *err);
int np_sim_set_vcpu_load(np_sim *sim, size_t gidx, uint32_t vcpu, const np_sim_vcpu_load *load);
/* Guests a and b talk; weight is the share of a's (and b's) traffic. */
int np_sim_add_traffic(np_sim *sim, size_t a, size_t b, double weight);
/* At at_ns the guest's balloon target becomes target_bytes (<= maxmem). */
int np_sim_balloon_at(np_sim *sim, size_t gidx, uint64_t at_ns, uint64_t target_bytes);

/* At at_ns (>= its arrival) the guest leaves the host: its memory is
 * freed at once, its vCPUs stop at the end of their current run. -EBUSY
 * from a policy callback. */
int np_sim_depart_at(np_sim *sim, size_t gidx, uint64_t at_ns);

/* Runs until until_ns (may be called again to go on); -EBUSY when called
 * from a policy callback. */
int np_sim_run(np_sim *sim, uint64_t until_ns);
uint64_t np_sim_now_ns(const np_sim *sim);
uint64_t np_sim_events(const np_sim *sim);

/* The simulator as a backend (borrowed; lives as long as the simulator).
 * Guest ids are guest indices. */
np_backend *np_sim_backend(np_sim *sim);
const np_topology *np_sim_topology(const np_sim *sim);
size_t np_sim_nr_guests(const np_sim *sim);

/* What a placement policy may look at. */
uint64_t np_sim_node_free_bytes(const np_sim *sim, size_t node_idx);
/* Sum of expected demand (spec.cpu_demand) of vCPUs placed on a node. */
double np_sim_node_planned_demand(const np_sim *sim, size_t node_idx);

/* ---- metrics ------------------------------------------------------------------- */

typedef enum np_sim_guest_status {
    NP_SIM_GUEST_PENDING = 0, /* not arrived yet */
    NP_SIM_GUEST_RUNNING,
    NP_SIM_GUEST_REJECTED, /* placement failed or the host had no memory */
    NP_SIM_GUEST_DEPARTED, /* left the host (np_sim_depart_at) */
} np_sim_guest_status;

typedef struct np_sim_guest_metrics {
    np_sim_guest_status status;
    double work_ns;          /* work done, in ns at full local speed */
    double throughput;       /* work per second alive, in vCPU-equivalents */
    uint64_t cpu_ns;         /* CPU time received */
    uint64_t wait_ns;        /* runnable but waiting for a CPU */
    uint64_t stall_ns;       /* CPU time without progress (switches, migration stalls) */
    double remote_ratio;     /* memory accesses to other nodes / all */
    double internal_remote_ratio; /* context switches whose vCPU state was remote */
    uint64_t vcpu_migrations;     /* runs on a different pCPU than the last */
    uint64_t node_migrations;     /* ... on a different node */
    uint64_t pages_migrated;
    uint64_t mem_pages;           /* pages it has now */
} np_sim_guest_metrics;

typedef struct np_sim_host_metrics {
    uint64_t now_ns;
    uint64_t events;
    double work_ns;
    double remote_ratio;
    double cpu_util;       /* busy fraction of all pCPUs */
    double cpu_imbalance;  /* max node busy fraction / mean - 1 */
    double bw_imbalance;   /* max node bandwidth utilisation / mean - 1 */
    double fairness_cpu;   /* Jain index of guests' run/(run+wait) */
    double fairness_progress; /* Jain index of guests' work/(run+wait) */
    uint64_t vcpu_migrations, node_migrations, pages_migrated;
    int64_t pages_shared_saved;
    size_t guests_running, guests_rejected;
} np_sim_host_metrics;

/* One point of the time series, over the period that ends at t_ns. */
typedef struct np_sim_sample {
    uint64_t t_ns;
    double work_rate;     /* work per ns: vCPU-equivalents at full speed */
    double remote_ratio;
    double cpu_util;
    double cpu_imbalance;
    double bw_imbalance;
    uint64_t vcpu_migrations; /* cumulative */
    uint64_t pages_migrated;  /* cumulative */
} np_sim_sample;

typedef struct np_sim_node_mem {
    uint64_t total_pages;
    uint64_t guest_pages;    /* guests' pages before sharing */
    uint64_t internal_pages; /* hypervisor per-vCPU state */
    int64_t shared_saved_pages;
    uint64_t free_pages;
} np_sim_node_mem;

int np_sim_guest_metrics_get(const np_sim *sim, size_t gidx, np_sim_guest_metrics *out);
int np_sim_host_metrics_get(const np_sim *sim, np_sim_host_metrics *out);
size_t np_sim_nr_samples(const np_sim *sim);
int np_sim_sample_get(const np_sim *sim, size_t i, np_sim_sample *out);
int np_sim_node_mem_get(const np_sim *sim, size_t node_idx, np_sim_node_mem *out);
uint64_t np_sim_guest_node_pages(const np_sim *sim, size_t gidx, size_t node_idx);
/* CPU time the guest's vCPUs got on a node's CPUs. */
uint64_t np_sim_guest_node_run_ns(const np_sim *sim, size_t gidx, size_t node_idx);
/* Idle-latency ratio remote/local the model uses from node a to memory on b. */
double np_sim_latency_ratio(const np_sim *sim, size_t from_node_idx, size_t to_node_idx);

/* ---- engine benchmark ------------------------------------------------------------ */

typedef struct np_sim_bench_config {
    size_t nodes;          /* 256 */
    size_t cpus_per_node;  /* 16 */
    size_t guests;         /* 4000 */
    uint64_t sim_ns;       /* 60 s */
    uint64_t seed;
    const char *policy;    /* "simple-soft" */
} np_sim_bench_config;

typedef struct np_sim_bench_result {
    uint64_t events;
    uint64_t sim_ns;
    double wall_s;         /* of the run alone (not building the host) */
    double cpu_s;          /* CPU time of the process during the run */
    double events_per_s;   /* per wall-clock second */
    double events_per_cpu_s;
    size_t vcpus;
    size_t guests_running;
    double heap_events_per_s; /* the event heap alone, same mix of timers */
    /* what the run produced, to compare policies on the same mix */
    double work_rate;     /* vCPU-equivalents of work at full local speed */
    double remote_ratio;
    double cpu_util;
    double fairness_progress;
    uint64_t node_migrations;
    /* the policy's share: CPU time inside its place and rebalance calls
     * (placement searches at arrivals), how many, and the events per CPU
     * second of the rest (the engine's own rate) */
    double policy_cpu_s;
    uint64_t policy_calls;
    double engine_events_per_cpu_s;
} np_sim_bench_result;

void np_sim_bench_config_init(np_sim_bench_config *cfg);
/* Builds the host and guests, runs, and measures the wall time (the only
 * place numaplace reads a clock for the simulator; it never feeds the model). */
int np_sim_bench_engine(const np_sim_bench_config *cfg, np_sim_bench_result *out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_SIM_H */
