/*
 * numaplace/vnuma.h - virtual NUMA layouts for guests that span nodes.
 *
 * A layout is what the guest sees: virtual nodes with their memory sizes,
 * their vCPUs and a distance matrix mirroring the physical one, plus, for
 * the host, the physical node (by OS id) that backs each virtual node.
 * What the guest sees (sizes, vCPUs, distances) never changes once the guest
 * has booted; np_vnuma_remap() only chooses new backing nodes, so a layout
 * survives resume, save/restore and migration to other nodes or hosts.
 */
#ifndef NUMAPLACE_VNUMA_H
#define NUMAPLACE_VNUMA_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_vnuma np_vnuma;
struct np_host_state;
struct np_guest_spec;

/* Granularity of vnode sizes: guests and xl.cfg want whole MiB. */
#define NP_VNUMA_ALIGN_BYTES (UINT64_C(1) << 20)
/* Guest-visible distance between two virtual nodes backed by the same
 * physical node. The physical figure would be 10, but a guest's SLIT must
 * have more than 10 off the diagonal (Linux's slit_valid() rejects the
 * table otherwise), so the smallest legal remote distance. */
#define NP_VNUMA_SAME_PNODE_DISTANCE 11u
/* Local distance on the diagonal. */
#define NP_VNUMA_LOCAL_DISTANCE 10u

/* Builds the layout of a guest placed on nr_pnodes physical nodes (dense
 * indices, ascending) with mem_bytes (whole MiB) and vcpus on each; the
 * vCPUs are numbered contiguously node after node. spec->vnuma_nodes says
 * how many virtual nodes: NP_VNUMA_AUTO one per node given memory, N
 * exactly N (spread over the nodes in proportion to their vCPUs, each node
 * with memory at least one). vCPUs of a node given no memory join the
 * virtual node of the nearest node with memory. Distances mirror the
 * physical ones. -EINVAL when the split cannot make the layout (sizes not
 * whole MiB, fewer MiB than virtual nodes on a node, N smaller than the
 * nodes with memory). */
int np_vnuma_build(const np_topology *topo, const struct np_guest_spec *spec, size_t nr_pnodes,
                   const size_t *pnode_idx, const uint64_t *mem_bytes, const uint32_t *vcpus,
                   np_vnuma **out);

void np_vnuma_destroy(np_vnuma *v);
int np_vnuma_copy(const np_vnuma *v, np_vnuma **out);

size_t np_vnuma_nr_vnodes(const np_vnuma *v);
uint64_t np_vnuma_mem_bytes(const np_vnuma *v, size_t vnode);
const np_bitmap *np_vnuma_vcpus(const np_vnuma *v, size_t vnode); /* vCPU numbers */
uint32_t np_vnuma_pnode_os_id(const np_vnuma *v, size_t vnode);
uint32_t np_vnuma_distance(const np_vnuma *v, size_t from_vnode, size_t to_vnode);
/* vnode of a vCPU, or -ENOENT. */
int np_vnuma_vcpu_vnode(const np_vnuma *v, uint32_t vcpu, size_t *vnode_out);
/* Sum of the vnode sizes, and the number of vCPUs. */
uint64_t np_vnuma_total_mem_bytes(const np_vnuma *v);
uint32_t np_vnuma_nr_vcpus(const np_vnuma *v);

/* Same guest-visible layout on new backing nodes chosen for the host state
 * (the guest is not yet in it): each vnode's memory must fit on its new
 * node, vnodes that were on one node stay together, and the physical
 * distances between the new nodes should order like the old virtual ones.
 * -ENOSPC with err->msg when no mapping fits. */
int np_vnuma_remap(const np_vnuma *old, const struct np_host_state *st,
                   const struct np_guest_spec *spec, np_vnuma **out, np_error *err);

/* True when a and b look the same from inside the guest. */
int np_vnuma_same_guest_view(const np_vnuma *a, const np_vnuma *b);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_VNUMA_H */
