/*
 * vnuma/vnuma_int.h - the layout structure, shared by the builder and the
 * remapper.
 */
#ifndef NP_VNUMA_INT_H
#define NP_VNUMA_INT_H

#include <numaplace/vnuma.h>

struct np_vnuma {
    size_t nr;              /* virtual nodes */
    uint64_t *mem_bytes;    /* per vnode */
    np_bitmap **vcpus;      /* per vnode: vCPU numbers */
    uint32_t *pnode_os;     /* per vnode: backing physical node (OS id) */
    uint32_t *dist;         /* nr * nr, row = from */
    uint32_t nr_vcpus;
    uint32_t *vcpu_vnode;   /* per vCPU */
};

/* An empty layout of nr vnodes and nr_vcpus vCPUs (bitmaps allocated). */
int np_vnuma_alloc(size_t nr, uint32_t nr_vcpus, np_vnuma **out);

#endif
