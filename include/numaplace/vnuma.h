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

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_vnuma np_vnuma;
struct np_host_state;
struct np_guest_spec;

/* Granularity of vnode sizes: guests and xl.cfg want whole MiB. */
#define NP_VNUMA_ALIGN_BYTES (UINT64_C(1) << 20)

void np_vnuma_destroy(np_vnuma *v);
int np_vnuma_copy(const np_vnuma *v, np_vnuma **out);

size_t np_vnuma_nr_vnodes(const np_vnuma *v);
uint64_t np_vnuma_mem_bytes(const np_vnuma *v, size_t vnode);
const np_bitmap *np_vnuma_vcpus(const np_vnuma *v, size_t vnode); /* vCPU numbers */
uint32_t np_vnuma_pnode_os_id(const np_vnuma *v, size_t vnode);
uint32_t np_vnuma_distance(const np_vnuma *v, size_t from_vnode, size_t to_vnode);
/* vnode of a vCPU, or -ENOENT. */
int np_vnuma_vcpu_vnode(const np_vnuma *v, uint32_t vcpu, size_t *vnode_out);

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
