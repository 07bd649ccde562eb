/*
 * numaplace/hoststate.h - the host's state as placement and balancing see
 * it: the guests already there, where their memory and vCPUs are, what
 * they demand, and what is claimed but not yet populated.
 *
 * This is numaplace's node-load measure. A node's load is not a count of
 * the vCPUs that may run there (libxl's measure) but
 *   - CPU: the measured demand of the vCPUs that run or prefer to run there
 *     (0..1 each), against the node's capacity, where a second hyper-thread
 *     of a core adds only a fraction of a core;
 *   - memory: bytes populated by guests, bytes claimed by creations in
 *     flight, head-room kept for balloon maximums, and the host's own
 *     reserve, against the node's size (or its measured free memory);
 *   - distance: how far the node is from where a guest's other memory and
 *     its group's members are (used by the policies through the topology).
 * Pure data: sensing code (backends, the simulator) fills it, policies read it.
 */
#ifndef NUMAPLACE_HOSTSTATE_H
#define NUMAPLACE_HOSTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_host_state np_host_state;

/* A hyper-thread beyond the first of a core adds this fraction of a core to
 * its node's CPU capacity. numad's default (its -t option, 20%): a sibling
 * thread mostly fills the stalls of the first, it does not double the core. */
#define NP_LOAD_SMT_THREAD_CAPACITY 0.2

/* What one node carries, in the units placement compares. */
typedef struct np_node_load {
    double cpu_capacity;           /* cores + SMT_CAPACITY * extra threads */
    double cpu_demand;             /* sum of vCPU demand attributed here */
    uint64_t mem_total_bytes;
    uint64_t mem_populated_bytes;  /* guests' memory on the node */
    uint64_t mem_claimed_bytes;    /* creations in flight */
    uint64_t mem_balloon_bytes;    /* head-room for guests' balloon maximums */
    uint64_t mem_reserved_bytes;   /* hypervisor / dom0 / host reserve */
    uint64_t mem_available_bytes;  /* what a new guest may still take:
                                    * min(size - populated, free) - reserved
                                    * - claimed - balloon, where free is the
                                    * live measure when set, else free at
                                    * start - populated */
} np_node_load;

/* Takes a reference to topo. Each node's free memory at start is the
 * topology's measured free figure (numactl -H, xl info -n, the live
 * reader; the size where the source has none), so no caller can place
 * above what the host had free: see mem_available_bytes. */
int np_host_state_create(np_topology *topo, np_host_state **out);
void np_host_state_destroy(np_host_state *st);
int np_host_state_copy(const np_host_state *st, np_host_state **out);
const np_topology *np_host_state_topology(const np_host_state *st);

/* Host memory the guests can never use on a node (hypervisor, dom0). */
int np_host_state_set_reserved(np_host_state *st, size_t node_idx, uint64_t bytes);
/* Measured free memory now, with the state's guests in place (a live
 * reading: their populated memory is already out of it); when set it
 * replaces the free-at-start figure as the node's ceiling. */
int np_host_state_set_node_free(np_host_state *st, size_t node_idx, uint64_t free_bytes);
/* Free memory before any guest of this state was placed (capped at the
 * node's size); every guest's memory comes off it. Set from the topology
 * at creation; this overrides it (a replay of a capture taken earlier). */
int np_host_state_set_node_free_at_start(np_host_state *st, size_t node_idx,
                                         uint64_t free_bytes);
uint64_t np_host_state_node_free_at_start(const np_host_state *st, size_t node_idx);
uint64_t np_host_state_reserved_bytes(const np_host_state *st, size_t node_idx);
/* The measured free memory of a node, -ENODATA when none was set. */
int np_host_state_node_free(const np_host_state *st, size_t node_idx, uint64_t *free_out);

/* Hugetlb pools. A hugetlb page moves only into a free page of the same
 * size on the target node (its pool: sysfs nodeN/hugepages/
 * hugepages-<size>kB/free_hugepages), never into ordinary free memory,
 * which the pool's free pages are not part of. Up to
 * NP_HOST_HUGE_SIZES_MAX page sizes per state (-ENOSPC beyond); sizes are
 * numbered 0..np_host_state_nr_huge_sizes()-1 in the order first set.
 * np_host_state_node_huge_free: -ENODATA when not measured. */
#define NP_HOST_HUGE_SIZES_MAX 4
int np_host_state_set_node_huge_free(np_host_state *st, size_t node_idx, uint64_t page_bytes,
                                     uint64_t free_bytes);
int np_host_state_node_huge_free(const np_host_state *st, size_t node_idx, uint64_t page_bytes,
                                 uint64_t *free_out);
size_t np_host_state_nr_huge_sizes(const np_host_state *st);
uint64_t np_host_state_huge_size(const np_host_state *st, size_t i);

/* Guests. Names are unique; -EEXIST for a duplicate. */
int np_host_state_add_guest(np_host_state *st, const np_guest_spec *spec, size_t *gidx_out);
int np_host_state_remove_guest(np_host_state *st, const char *name);
int np_host_state_find_guest(const np_host_state *st, const char *name, size_t *gidx_out);
size_t np_host_state_nr_guests(const np_host_state *st);
const np_guest_spec *np_host_state_guest_spec(const np_host_state *st, size_t gidx);

/* Memory of a guest on a node: populated and claimed (in flight). */
int np_host_state_set_guest_mem(np_host_state *st, size_t gidx, size_t node_idx,
                                uint64_t populated_bytes, uint64_t claimed_bytes);
uint64_t np_host_state_guest_mem_bytes(const np_host_state *st, size_t gidx, size_t node_idx);
uint64_t np_host_state_guest_claimed_bytes(const np_host_state *st, size_t gidx,
                                           size_t node_idx);
/* Of a guest's populated memory on a node, the bytes in hugetlb pages of
 * one size (set after np_host_state_set_guest_mem; -ERANGE when the
 * hugetlb bytes there would exceed the populated bytes). */
int np_host_state_set_guest_huge_mem(np_host_state *st, size_t gidx, size_t node_idx,
                                     uint64_t page_bytes, uint64_t bytes);
uint64_t np_host_state_guest_huge_mem_bytes(const np_host_state *st, size_t gidx,
                                            size_t node_idx, uint64_t page_bytes);
/* The share of a guest's balloon maximum kept for it on a node (what its
 * placement set aside there). The node's balloon head-room for the guest is
 * then max - populated - claimed. For a guest with no share recorded on any
 * node (one found running), the head-room maxmem - (populated + claimed) is
 * spread over its nodes in proportion to its memory there. */
int np_host_state_set_guest_mem_max(np_host_state *st, size_t gidx, size_t node_idx,
                                    uint64_t max_bytes);
uint64_t np_host_state_guest_mem_max_bytes(const np_host_state *st, size_t gidx,
                                           size_t node_idx);
/* Turn all of a guest's claims into populated memory (creation finished). */
int np_host_state_populate(np_host_state *st, size_t gidx);
/* Balloon target (current size); the spec's maxmem is the ceiling. */
int np_host_state_set_balloon_target(np_host_state *st, size_t gidx, uint64_t target_bytes);
/* Placement keeps memory up to the balloon maximum on the guest's nodes
 * whatever the target, so the target never makes room for another guest;
 * it is kept for balancing and reporting. Starts at the spec's mem_bytes. */
uint64_t np_host_state_balloon_target(const np_host_state *st, size_t gidx);

/* vCPU facts: affinity (NULL hard = all CPUs, NULL soft = none), measured
 * demand 0..1, and the CPU it last ran on (-1 unknown). */
int np_host_state_set_vcpu_affinity(np_host_state *st, size_t gidx, uint32_t vcpu,
                                    const np_bitmap *hard, const np_bitmap *soft);
int np_host_state_set_vcpu_demand(np_host_state *st, size_t gidx, uint32_t vcpu, double demand);
int np_host_state_set_vcpu_cpu(np_host_state *st, size_t gidx, uint32_t vcpu, int32_t cpu_os_id);
const np_bitmap *np_host_state_vcpu_hard(const np_host_state *st, size_t gidx, uint32_t vcpu);
const np_bitmap *np_host_state_vcpu_soft(const np_host_state *st, size_t gidx, uint32_t vcpu);
double np_host_state_vcpu_demand(const np_host_state *st, size_t gidx, uint32_t vcpu);
int32_t np_host_state_vcpu_cpu(const np_host_state *st, size_t gidx, uint32_t vcpu);

/* Where a vCPU's demand is attributed. Its effective mask is soft & hard
 * when the soft mask is set and meets the hard one (Xen's rule: soft
 * affinity is only a preference inside the hard one), else hard. A mask
 * naming some CPUs splits the demand over their nodes in proportion to the
 * CPUs named there. A vCPU free to run anywhere counts on the node of the
 * CPU it last ran on when known, else on every node in proportion to its
 * CPU capacity. */

/* The load measure of one node. */
int np_host_state_node_load(const np_host_state *st, size_t node_idx, np_node_load *out);
/* The load measure of every node at once (loads_out has one entry per
 * node): O(nodes), from running sums that every write to the state keeps
 * up to date. Policies call it once per decision. */
int np_host_state_node_loads(const np_host_state *st, np_node_load *loads_out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_HOSTSTATE_H */
