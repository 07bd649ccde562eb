/*
 * test_emit_common.h - emit models the emitter tests share, built directly
 * (src/emit/emit_model.h) so they cover layouts before and beyond what a
 * placement policy produces. Not a test program itself (no test_*.c).
 */
#ifndef TEST_EMIT_COMMON_H
#define TEST_EMIT_COMMON_H

#include <string.h>

#include "emit/emit_model.h"

#define T_MIB (UINT64_C(1) << 20)

/* A mask from a cpulist; NULL text gives NULL. */
static inline np_bitmap *t_mask(const char *text)
{
    np_bitmap *m = NULL;
    if (!text || np_bitmap_create(&m) < 0)
        return NULL;
    if (np_bitmap_parse(m, text) < 0) {
        np_bitmap_destroy(m);
        return NULL;
    }
    return m;
}

/* Four vCPUs on host nodes 1 and 3 (6 GiB each), two vnodes (vCPUs 0-1 on
 * node 1, 2-3 on node 3), per-vCPU hard and soft masks that differ by node,
 * memory 8 GiB of 12 GiB. pnode_override >= 0 puts everything on that node
 * instead (for QEMU on a one-node machine), with mib per vnode. */
static inline int t_model_vnuma(np_emit_model *m, np_affinity_mode aff, int pnode_override,
                                uint64_t vnode_mib)
{
    int rc = np_emit_model_init(m, 4, pnode_override >= 0 ? 1 : 2, 2);
    if (rc < 0)
        return rc;
    snprintf(m->name, sizeof(m->name), "web");
    snprintf(m->policy, sizeof(m->policy), "numaplace");
    m->affinity = aff;
    m->maxmem_bytes = 2 * vnode_mib * T_MIB;
    m->mem_bytes = m->maxmem_bytes / 3 * 2;
    if (pnode_override >= 0) {
        m->node_os_id[0] = (uint32_t)pnode_override;
        m->node_mem_bytes[0] = m->maxmem_bytes;
    } else {
        m->node_os_id[0] = 1;
        m->node_os_id[1] = 3;
        m->node_mem_bytes[0] = m->node_mem_bytes[1] = vnode_mib * T_MIB;
    }
    for (uint32_t v = 0; v < 4; v++) {
        const char *cpus = v < 2 ? "8-15" : "24-27,30";
        if (aff == NP_AFFINITY_HARD)
            m->vcpu_hard[v] = t_mask(cpus);
        if (aff != NP_AFFINITY_NONE)
            m->vcpu_soft[v] = t_mask(cpus);
    }
    for (size_t i = 0; i < 2; i++) {
        m->vnodes[i].pnode_os_id = pnode_override >= 0 ? (uint32_t)pnode_override
                                                       : (i ? 3u : 1u);
        m->vnodes[i].mem_bytes = vnode_mib * T_MIB;
        np_bitmap_set_range(m->vnodes[i].vcpus, (unsigned)(2 * i), (unsigned)(2 * i + 1));
    }
    m->vdistance[0] = m->vdistance[3] = 10;
    m->vdistance[1] = m->vdistance[2] = 21;
    return 0;
}

/* Two vCPUs and two vnodes of `mib` MiB: vnode 0 holds both vCPUs on host
 * node 1, vnode 1 is memory only on host node 3 (a CPU-less CXL node, say);
 * mem = maxmem. pnode_override >= 0 backs both by that node instead (QEMU
 * on a one-node machine). */
static inline int t_model_memory_only(np_emit_model *m, np_affinity_mode aff, int pnode_override,
                                      uint64_t mib)
{
    int rc = np_emit_model_init(m, 2, pnode_override >= 0 ? 1 : 2, 2);
    if (rc < 0)
        return rc;
    snprintf(m->name, sizeof(m->name), "tier");
    snprintf(m->policy, sizeof(m->policy), "numaplace");
    m->affinity = aff;
    m->mem_bytes = m->maxmem_bytes = 2 * mib * T_MIB;
    if (pnode_override >= 0) {
        m->node_os_id[0] = (uint32_t)pnode_override;
        m->node_mem_bytes[0] = m->maxmem_bytes;
    } else {
        m->node_os_id[0] = 1;
        m->node_os_id[1] = 3;
        m->node_mem_bytes[0] = m->node_mem_bytes[1] = mib * T_MIB;
    }
    for (uint32_t v = 0; v < 2; v++) {
        if (aff == NP_AFFINITY_HARD)
            m->vcpu_hard[v] = t_mask("8-15");
        if (aff != NP_AFFINITY_NONE)
            m->vcpu_soft[v] = t_mask("8-15");
    }
    for (size_t i = 0; i < 2; i++) {
        m->vnodes[i].pnode_os_id = pnode_override >= 0 ? (uint32_t)pnode_override : (i ? 3u : 1u);
        m->vnodes[i].mem_bytes = mib * T_MIB;
    }
    np_bitmap_set_range(m->vnodes[0].vcpus, 0, 1);
    m->vdistance[0] = m->vdistance[3] = 10;
    m->vdistance[1] = m->vdistance[2] = 24;
    return 0;
}

/* Two vCPUs without vNUMA on the given nodes (ascending), every vCPU with
 * the same mask `cpus`, mem = maxmem = mib. */
static inline int t_model_flat(np_emit_model *m, np_affinity_mode aff, const uint32_t *nodes,
                               size_t nr_nodes, const char *cpus, uint64_t mib)
{
    int rc = np_emit_model_init(m, 2, nr_nodes, 0);
    if (rc < 0)
        return rc;
    snprintf(m->name, sizeof(m->name), "db");
    m->affinity = aff;
    m->mem_bytes = m->maxmem_bytes = mib * T_MIB;
    for (size_t i = 0; i < nr_nodes; i++) {
        m->node_os_id[i] = nodes[i];
        m->node_mem_bytes[i] = mib * T_MIB / nr_nodes;
    }
    for (uint32_t v = 0; v < 2; v++) {
        if (aff == NP_AFFINITY_HARD)
            m->vcpu_hard[v] = t_mask(cpus);
        if (aff != NP_AFFINITY_NONE)
            m->vcpu_soft[v] = t_mask(cpus);
    }
    return 0;
}

#endif
