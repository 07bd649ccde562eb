/*
 * model/hoststate_int.h - read access to a host state's per-guest memory
 * entries for the policies (placement, balancing), below the public API.
 *
 * A guest's memory is kept sparse: one entry per node it has memory on
 * (most guests sit on one or two nodes of hosts that may have hundreds), so
 * a policy that scans every guest pays for the nodes each guest uses, not
 * for every node of the host.
 */
#ifndef NP_MODEL_HOSTSTATE_INT_H
#define NP_MODEL_HOSTSTATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/hoststate.h>

typedef struct np_hs_mem {
    uint32_t node_idx;
    uint64_t populated_bytes;
    uint64_t claimed_bytes;
    uint64_t max_bytes; /* share of the balloon maximum kept here */
    bool has_max;
    /* of populated_bytes, in hugetlb pages of the state's size slot i
     * (np_host_state_huge_size) */
    uint64_t huge_bytes[NP_HOST_HUGE_SIZES_MAX];
} np_hs_mem;

/* Entries of a guest, in the order they were first set (not sorted). */
size_t np_hs_guest_nr_mem(const np_host_state *st, size_t gidx);
const np_hs_mem *np_hs_guest_mem(const np_host_state *st, size_t gidx, size_t i);

/* What a guest holds on the node of entry i: populated + claimed + its
 * balloon head-room there (the same figure np_host_state_node_loads adds). */
uint64_t np_hs_guest_mem_held_bytes(const np_host_state *st, size_t gidx, size_t i);

/* What the hypervisor would report free on a node now (libxl's view, for
 * xl42): the live measure when set, else free at start - reserved -
 * `populated_bytes` (the guests' populated memory there). Claims and
 * balloon head-room are not in it. */
uint64_t np_hs_node_free_now_bytes(const np_host_state *st, size_t node_idx,
                                   uint64_t populated_bytes);

/* CPU capacity of a node (cores + NP_LOAD_SMT_THREAD_CAPACITY per extra
 * thread), precomputed at creation. */
double np_hs_node_capacity(const np_host_state *st, size_t node_idx);

/* Nodes ordered by distance from `node_idx` (itself first, ties by index),
 * precomputed at creation for the policies that grow node sets outwards. */
const uint32_t *np_hs_nodes_by_distance(const np_host_state *st, size_t node_idx);

/* Per node, the vCPUs the standard metrics count there (place/std_metrics.c):
 * a vCPU counts on the nodes of its effective mask (soft & hard when they
 * meet, else soft without a hard mask, else hard), in proportion to the
 * mask's CPUs on each; a vCPU without a mask on every node in proportion to
 * its CPUs. A running sum every write keeps (fixed point, 2^-40 of a vCPU),
 * read in O(nodes). */
void np_hs_vcpu_counts(const np_host_state *st, double *vcpus_out);

/* Per node, the vCPUs Xen counts there when libxl places a domain
 * (nr_vcpus_on_nodes, place/xl42.c): each vCPU of each guest once on every
 * node with CPUs its hard mask touches (all without one) that is in the
 * guest's node affinity (the nodes the CPUs of both its masks touch, or of
 * its hard masks when that is none; a missing soft mask is all CPUs). A
 * running count every write keeps, O(nodes) to read; -E2BIG on a host of
 * more than 32 nodes, where it is not kept. */
int np_hs_xen_vcpus(const np_host_state *st, uint64_t *vcpus_out);

#endif
