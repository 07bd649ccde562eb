/*
 * sim/state.h - the simulator's data model: host nodes, pCPUs, guests,
 * vCPUs and the engine state that ties them together.
 *
 * This header holds only data; each module (sched.c, memory.c, workload.c,
 * metrics.c, ...) declares its functions in its own header. Everything is
 * addressed by dense indices: node_idx as in the topology, `cpu` is the
 * simulator's scheduling index (CPUs sorted by node, then OS id, so the
 * CPUs of a node form one contiguous range), vCPU ids are global indices
 * into np_sim.vcpus. Indices, not pointers, so arrays can grow while the
 * simulation runs.
 */
#ifndef NP_SIM_STATE_H
#define NP_SIM_STATE_H

#include <numaplace/sim.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/heap.h"
#include "sim/prng.h"

/* Credit1 priorities, larger is more urgent (Xen's values). */
#define SIM_PRI_BOOST 0
#define SIM_PRI_UNDER (-1)
#define SIM_PRI_OVER (-2)
#define SIM_PRI_IDLE (-64)

#define SIM_NONE UINT32_MAX /* no mask, no node, no vCPU */
#define SIM_OWNER_VCPU 0x80000000u /* tag of vCPU ids in np_sim.owner */

typedef enum sim_vstate {
    SIM_V_OFFLINE = 0, /* guest not admitted (or rejected) */
    SIM_V_BLOCKED,     /* thinking: waits for its wake timer */
    SIM_V_QUEUED,      /* runnable, on a pCPU's run queue */
    SIM_V_RUNNING,
} sim_vstate;

/* vCPU flags */
#define SIM_VF_ACTIVE 0x1u    /* on the credit accounting list */
#define SIM_VF_MIGRATING 0x2u /* moved by the scheduler: no boost on this wake */
#define SIM_VF_TOUCHED 0x4u   /* first-touch allocation done */
#define SIM_VF_GONE 0x8u      /* its guest departed: blocks for good at the end of its run */

/* An interned CPU mask over scheduling indices. */
typedef struct sim_mask {
    uint64_t *cpus;
    uint64_t *nodes;      /* nodes with at least one CPU in the mask */
    uint32_t nr_cpus;
    uint32_t single_node; /* the node when all CPUs are on one, else SIM_NONE */
    uint64_t hash;
    np_bitmap *os;        /* CPU os_ids, built on first report */
} sim_mask;

/* A vCPU's speed on one node, valid for one generation of the host's
 * memory layout (any guest's pages moving bumps it: peers' homes matter
 * too). Kept in the vCPU, which the event touches anyway, instead of a
 * guest x node table that would miss the cache. When all of the guest's
 * memory is on one node (the usual case after placement) the entry keeps
 * the speed as base + coef x contention(mem_node), so a new contention
 * epoch costs one multiplication, not a recomputation from the guest. */
typedef struct sim_rate {
    uint32_t node;
    uint32_t gen;
    uint32_t epoch;     /* for entries without a single memory node */
    uint32_t mem_node;  /* the single memory node, or SIM_NONE */
    double base;        /* per-work time that does not depend on contention */
    double coef;        /* x contention factor of mem_node */
    double rate;        /* work per ns */
    double remote_frac; /* share of its accesses that leave the node */
} sim_rate;

#define SIM_RATE_CACHE 2 /* nodes remembered per vCPU: home and one other */

/* Fields are grouped by when they are touched, in 64-byte lines (the
 * array is 64-byte aligned, sim_vcpu a multiple of 64 bytes): lines 0-3 by
 * every event of a running vCPU (scheduling, the run interval, what each
 * accounting adds up, dispatch), line 4 by the rate cache, lines 5-6 by
 * a wake (its random stream and load), the rest when metrics are read. */
typedef struct sim_vcpu {
    /* scheduling state (line 0) */
    _Alignas(64) uint32_t guest;
    uint8_t state;
    int8_t pri;
    uint8_t flags;
    bool plain;          /* its guest neither talks to peers nor does IO */
    uint32_t cpu;       /* pCPU it runs or waits on; last one when blocked; SIM_NONE never */
    uint32_t last_run_cpu; /* where it last ran, SIM_NONE never */
    uint32_t rq_prev, rq_next;
    uint32_t hard;      /* mask id, always set (0 = all CPUs) */
    uint32_t soft_eff;  /* soft & hard when it restricts anything, else SIM_NONE */
    uint32_t hard_node; /* the node of all of `hard`'s CPUs, or SIM_NONE */
    uint32_t soft_node; /* the same for soft_eff */
    uint32_t timer;     /* handle of its wake timer */
    uint32_t internal_node;
    uint32_t vnode_node; /* node backing its virtual node (vNUMA), SIM_NONE */
    uint32_t mem_node1;  /* its guest's only memory node, SIM_NONE when 0 or several */
    uint32_t run_node;  /* node of run_node_ns, not yet added to the guest's */
    uint32_t active_pos;
    /* the current run interval (line 1) */
    int64_t credit_ns;
    uint64_t run_start_ns;
    uint64_t slice_end_ns;
    uint64_t stall_ns;  /* CPU time owed to non-productive work */
    double rate;        /* work per ns in the current run interval */
    double smt_speed;   /* 1, or (1 + SMT yield) / 2 while its core's other thread runs */
    double remote_frac; /* of the current run interval */
    double remaining;   /* work left in the current burst (INFINITY: steady) */
    /* accumulated by every accounting (lines 2 and 3) */
    double bw_per_work; /* bytes drawn per ns of work */
    double intensity;   /* = load.mem_intensity, kept beside its users */
    double work_ns;
    double acc_total, acc_remote; /* memory accesses, in work-weighted units */
    double epoch_bytes, epoch_remote_bytes;
    uint64_t run_node_ns;
    uint64_t cpu_ns, stall_total_ns;
    /* dispatch (line 3) */
    uint64_t queued_since_ns;
    uint64_t wait_ns;
    uint64_t migrations, node_migrations, switches, switches_remote;
    /* rates (line 4 and a bit of 5), wake (lines 5-6), the rest */
    sim_rate cache[SIM_RATE_CACHE];
    np_prng rng;
    np_sim_vcpu_load load;
    uint32_t soft;      /* mask id as given, SIM_NONE */
    uint32_t idx;       /* vCPU number within the guest */
} sim_vcpu;
_Static_assert(offsetof(sim_vcpu, credit_ns) == 64 && offsetof(sim_vcpu, bw_per_work) == 128 &&
                   offsetof(sim_vcpu, cache) == 256,
               "sim_vcpu: the lines an event touches are the first four (see above)");
#define SIM_LINE_BYTES 64u /* alignment of the vCPU and pCPU arrays */

typedef struct sim_balloon_step {
    uint64_t at_ns;
    uint64_t target_bytes;
} sim_balloon_step;

typedef struct sim_guest {
    np_guest_spec spec;
    uint8_t status; /* np_sim_guest_status */
    uint32_t first_vcpu, nr_vcpus;
    uint32_t timer;  /* handle: arrival and balloon steps */
    uint32_t weight;
    uint64_t start_ns, admitted_ns;
    np_sim_plan *plan; /* explicit plan (owned copy) or NULL */
    np_sim_mem_mode mem_mode;

    /* credit accounting */
    uint32_t n_active;
    uint32_t active_pos;
    int64_t acct_fair_ns; /* per-vCPU credit of the running accounting pass */

    /* memory */
    uint64_t *node_pages;   /* per node */
    uint32_t *mem_nodes;    /* nodes with pages, ascending */
    uint32_t nr_mem_nodes;
    uint64_t total_pages;   /* on nodes */
    uint64_t pending_pages; /* first-touch pages not touched yet */
    uint64_t boot_pages;    /* of those, the part vCPU 0 touches at boot */
    uint64_t max_pages;
    uint64_t *node_aff;     /* node bits new memory comes from, NULL = any */
    uint32_t home_node;     /* node holding most of its pages */
    int32_t share_node;     /* cross-node sharing: node of its class's copy, -1 */

    /* workload */
    double comm_frac, io_frac;
    uint32_t io_node; /* SIM_NONE */
    uint32_t share_class;
    double shareable;
    uint32_t *peers;
    double *peer_w;
    uint32_t nr_peers;
    double peer_w_sum;

    sim_balloon_step *balloon;
    uint32_t nr_balloon, next_balloon;
    uint64_t depart_ns; /* when it leaves the host, UINT64_MAX = never */

    /* metrics */
    uint64_t *node_run_ns; /* flushed from the vCPUs' run_node_ns */
    uint64_t pages_migrated;
} sim_guest;

typedef struct sim_pcpu {
    uint32_t node;
    uint32_t os_id;
    uint32_t sibling;    /* the other hyper-thread of its core, SIM_NONE without SMT */
    uint32_t curr;       /* running vCPU or SIM_NONE (idle) */
    uint32_t rq_head, rq_tail;
    uint32_t nr_queued;
    int head_pri;        /* priority of rq_head, SIM_PRI_IDLE when empty */
    uint32_t runq_sort_last;
    bool need_resched;
    bool migrate_curr;   /* move the running vCPU elsewhere at the next schedule */
    uint64_t resched_at_ns;
    uint64_t next_tick_ns;
    uint64_t busy_ns;
} sim_pcpu;

typedef struct sim_node {
    uint32_t first_cpu, nr_cpus; /* scheduling-index range */
    uint64_t total_pages, guest_pages, internal_pages;
    int64_t saved_pages; /* page sharing: guests' pages minus what the node holds */
    double bw_bytes_per_ns, link_bytes_per_ns;
    double epoch_bytes, epoch_remote_bytes;
    double cont_local, cont_remote; /* latency multipliers from contention */
    uint32_t nr_idle;
    uint32_t mobile_any, mobile_hi; /* queued vCPUs that may leave the node */
    uint32_t soft_any, soft_hi;     /* ... whose soft affinity spans several nodes */
    uint32_t queued_hi;             /* queued UNDER/BOOST vCPUs, mobile or not */
    uint32_t balance_bias;
    double planned_demand;
    /* metrics */
    uint64_t busy_ns;
    double bw_util_ns;      /* integral of bandwidth utilisation over time */
    uint64_t sample_busy_ns; /* at the last sample */
    double sample_bw_util_ns;
} sim_node;

/* Fixed timer handles; pCPUs follow, then each guest's block. */
enum sim_global_timer {
    SIM_T_ACCT = 0,
    SIM_T_EPOCH,
    SIM_T_SAMPLE,
    SIM_T_SHARE,
    SIM_T_POLICY,
    SIM_T_NR_GLOBAL,
};

typedef struct sim_totals {
    double work_ns, acc_total, acc_remote;
    uint64_t vcpu_migrations, node_migrations, pages_migrated;
    /* at the last sample */
    uint64_t s_t_ns;
    double s_work_ns, s_acc_total, s_acc_remote;
} sim_totals;

struct np_sim {
    np_sim_config cfg;
    np_topology *topo;
    size_t nr_nodes, nr_cpus;
    sim_node *nodes;
    sim_pcpu *pcpus;
    uint32_t *cpu_of_os; /* CPU os_id -> scheduling index */
    uint32_t cpu_id_limit;
    double *lat;         /* nr_nodes^2 latency ratios, row = CPU's node */
    uint32_t *near;      /* nr_nodes^2: for each node, nodes by distance */

    /* masks */
    sim_mask *masks;
    size_t nr_masks, cap_masks;
    uint32_t *mask_ht; /* open addressing, SIM_NONE = empty */
    size_t mask_ht_cap;
    size_t cpu_words, node_words;

    /* scheduler */
    uint64_t *idlers;      /* idle pCPUs not yet tickled */
    uint64_t *idle_cores;  /* idlers whose sibling (if any) is an idler too */
    uint64_t *queued_cpus; /* pCPUs with a non-empty run queue */
    uint64_t *nodes_mobile_any, *nodes_mobile_hi; /* nodes with such counters > 0 */
    uint64_t *nodes_soft_any, *nodes_soft_hi;
    /* vCPUs whose soft affinity is one node H, queued on another node Q:
     * counts [H * nr_nodes + Q] and, per H, bit sets of such Q (node_words
     * words per row). A soft-step stealer on H looks only there. */
    uint32_t *exile_any, *exile_hi;
    uint64_t *exile_any_bits, *exile_hi_bits;
    uint32_t nr_idle;
    uint32_t mobile_any_total;
    uint32_t *active_vcpus;
    size_t nr_active, cap_active;
    uint32_t *active_guests;
    size_t nr_active_guests, cap_active_guests;
    uint64_t weight_total;
    int64_t credit_balance;
    uint32_t runq_sort;
    uint32_t last_tickle;
    uint32_t rr_cpu;

    /* guests and vCPUs */
    sim_guest *guests;
    size_t nr_guests, cap_guests;
    sim_vcpu *vcpus;
    size_t nr_vcpus, cap_vcpus;

    /* engine */
    np_timerq *tq;
    uint32_t *owner; /* timer handle -> guest, or vCPU id | SIM_OWNER_VCPU */
    uint32_t nr_handles, cap_handles;
    uint64_t now_ns;
    uint64_t events;
    bool in_run; /* inside np_sim_run: arrays must not move */
    uint32_t epoch;   /* contention epoch; bumping it invalidates every rate */
    uint32_t mem_gen; /* bumped whenever any guest's pages move */
    np_prng policy_rng;

    /* page migration token bucket */
    double mig_tokens_bytes;
    uint64_t mig_last_ns;

    /* policy and backend */
    const np_sim_policy *policy;
    void *policy_self;
    bool policy_self_owned; /* made by policy->create, freed by policy->destroy */
    np_backend *backend;

    /* metrics */
    sim_totals tot;
    np_sim_sample *samples;
    size_t nr_samples, cap_samples;
    int64_t shared_saved_pages;
};

static inline uint32_t sim_pcpu_handle(const np_sim *sim, uint32_t cpu)
{
    (void)sim;
    return SIM_T_NR_GLOBAL + cpu;
}

static inline uint32_t sim_vcpu_handle(const np_sim *sim, uint32_t vid)
{
    return sim->vcpus[vid].timer;
}

static inline double sim_lat(const np_sim *sim, uint32_t from, uint32_t to)
{
    return sim->lat[(size_t)from * sim->nr_nodes + to];
}

#endif
