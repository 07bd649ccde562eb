/*
 * numaplace/place.h - placement of a new guest: which nodes its memory and
 * vCPUs live on.
 *
 * Policies are pure functions of (host state, guest spec) -> placement,
 * deterministic, selected by name:
 *   "numaplace"  the default: load-, distance-, device- and group-aware,
 *                scales to 256 nodes and thousands of guests, explains
 *                itself (score terms and runners-up);
 *   "xl42"       a faithful model of Xen 4.2's libxl heuristic, kept to be
 *                compared against (see docs/placement.md for its rules);
 * and an exhaustive oracle under numaplace's objective for small hosts.
 */
#ifndef NUMAPLACE_PLACE_H
#define NUMAPLACE_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/vnuma.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_placement np_placement;

#define NP_PLACE_DEFAULT_POLICY "numaplace"
/* The oracle enumerates every node subset: 2^12 = 4096 sets at most. */
#define NP_PLACE_ORACLE_MAX_NODES 12u

size_t np_place_policy_count(void);
const char *np_place_policy_name(size_t i);
const char *np_place_policy_summary(size_t i);

/* Decide where `spec` goes on the host in `st` (which must not contain it).
 * policy NULL means the default. Returns
 *   0        and a placement (possibly a fallback: see np_placement_is_fallback)
 *   -EINVAL  bad spec (err says why), or unknown policy
 *   -ENOSPC  it fits nowhere; err->msg says what is missing
 *            ("needs 64 GiB on at most 2 nodes; the most any 2 nodes have is ..."). */
int np_place(const np_host_state *st, const np_guest_spec *spec, const char *policy,
             np_placement **out, np_error *err);
/* Exhaustive search under the default policy's objective; -E2BIG above
 * NP_PLACE_ORACLE_MAX_NODES nodes. */
int np_place_oracle(const np_host_state *st, const np_guest_spec *spec, np_placement **out,
                    np_error *err);

/* Placement of a guest that already has a vNUMA layout (resume,
 * restore, migration to other nodes or another host): np_vnuma_remap()
 * chooses the backing nodes, the guest's view stays as it was; memory per
 * node follows the virtual nodes and each vCPU goes to its virtual node's
 * node. Policy name "vnuma-remap"; cost and terms under numaplace's
 * objective. -ENOSPC when the layout fits nowhere. */
int np_place_keep_vnuma(const np_host_state *st, const np_guest_spec *spec,
                        const np_vnuma *layout, np_placement **out, np_error *err);

void np_placement_destroy(np_placement *pl);
const char *np_placement_policy(const np_placement *pl);

/* Chosen nodes (dense indices into the host topology, ascending). */
size_t np_placement_nr_nodes(const np_placement *pl);
size_t np_placement_node(const np_placement *pl, size_t i);
/* Memory the guest gets on a node (0 for nodes not chosen). Sums to maxmem
 * for the memory the hypervisor must be able to back. */
uint64_t np_placement_node_mem_bytes(const np_placement *pl, size_t node_idx);
/* Node of each vCPU (dense index). */
size_t np_placement_vcpu_node(const np_placement *pl, uint32_t vcpu);
/* Masks of CPU os_ids: hard is NULL unless affinity is hard; soft is NULL
 * when affinity is none. Per-vCPU masks follow the vCPU's node. */
const np_bitmap *np_placement_cpus_hard(const np_placement *pl);
const np_bitmap *np_placement_cpus_soft(const np_placement *pl);
const np_bitmap *np_placement_vcpu_hard(const np_placement *pl, uint32_t vcpu);
const np_bitmap *np_placement_vcpu_soft(const np_placement *pl, uint32_t vcpu);
/* Virtual NUMA layout when the guest spans nodes and vNUMA is not off. */
const np_vnuma *np_placement_vnuma(const np_placement *pl);

/* A fallback is what a hypervisor does when its policy gives up (xl42 above
 * 16 nodes or with no candidate: memory striped over all nodes). */
bool np_placement_is_fallback(const np_placement *pl);
const char *np_placement_note(const np_placement *pl); /* why, or "" */

/* Explanation: total cost (lower is better) and its terms, and the
 * runners-up with their cost or why they were rejected. */
double np_placement_cost(const np_placement *pl);
size_t np_placement_nr_terms(const np_placement *pl);
int np_placement_term(const np_placement *pl, size_t i, const char **name_out,
                      double *value_out);
typedef struct np_place_alt {
    const np_bitmap *nodes_os; /* node os_ids of the candidate */
    double cost;
    const char *why_not; /* "" when it only scored worse */
} np_place_alt;
size_t np_placement_nr_alternatives(const np_placement *pl);
int np_placement_alternative(const np_placement *pl, size_t i, np_place_alt *out);

/* Records the decision in the host state: adds the guest, claims its memory
 * per node (claimed until np_host_state_populate), sets vCPU affinities and
 * the expected demand. */
int np_placement_commit(np_host_state *st, const np_guest_spec *spec, const np_placement *pl,
                        size_t *gidx_out);


/* ---- standard metrics (std_metrics.c) ----------------------------------------
 * How a placement is judged without numaplace's own objective: the figures
 * `numaplace bench mixes` prints per policy. See docs/placement.md. */
typedef struct np_std_metrics {
    /* per guest, the mean over its vCPUs of sum over memory nodes m of
     * share(m) * (SLIT(vCPU node, m) / 10 - 1), averaged over guests; 0 ideal */
    double remote_weighted_distance;
    /* per guest, the mean over its vCPUs of the share of its memory on the
     * vCPU's node, averaged over guests; 1 ideal */
    double local_fraction;
    /* the largest vCPUs / logical CPUs of a node */
    double worst_cpu_overcommit;
    /* the largest guest memory / free memory at start of a node; above 1 a
     * placement that cannot exist (INFINITY: memory on a node with none free) */
    double worst_mem_over_free;
    /* guests refused so far: not computed from a state, the caller counts */
    size_t refusals;
} np_std_metrics;

/* The metrics of the guests in st. free_at_start_bytes has one entry per
 * node; NULL takes the state's measured free memory, else the node's size.
 * A vCPU counts on the nodes of its effective mask (soft & hard, else
 * hard, else every CPU) in proportion to the CPUs named there. refusals is
 * set to 0. Guests with no memory are left out of the means. */
int np_std_metrics_compute(const np_host_state *st, const uint64_t *free_at_start_bytes,
                           np_std_metrics *out);

/* The oracle of the standard metrics (oracle_metrics.c): every node subset
 * of a host of at most NP_PLACE_ORACLE_METRICS_MAX_NODES nodes, vCPUs split
 * over the subset's nodes with CPUs in proportion to their CPUs, memory
 * following the vCPUs within what each node has available (overflow to the
 * nearest node of the subset with room); the best by, in order: fits, memory
 * within free at start, least worst CPU over-commit, least remote-weighted
 * distance, fewest nodes. Policy name "oracle-metrics"; not in the policy
 * table (it is a yardstick, not a policy to deploy). -E2BIG above the limit,
 * -ENOSPC when no subset fits. */
#define NP_PLACE_ORACLE_METRICS_MAX_NODES 8u
int np_place_oracle_metrics(const np_host_state *st, const np_guest_spec *spec,
                            const uint64_t *free_at_start_bytes, np_placement **out,
                            np_error *err);

/* One guest's remote-weighted distance and local fraction (as above), for
 * guest gidx of st; a guest with no memory or no vCPUs gets 0 and 1. */
int np_std_metrics_guest(const np_host_state *st, size_t gidx, double *remote_weighted_distance_out,
                         double *local_fraction_out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_PLACE_H */
