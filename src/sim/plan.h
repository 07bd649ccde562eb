/*
 * sim/plan.h - the inside of np_sim_plan, for the code that applies a
 * plan to a newly admitted guest.
 */
#ifndef NP_SIM_PLAN_H
#define NP_SIM_PLAN_H

#include <numaplace/sim.h>

struct np_sim_plan {
    size_t nr_nodes;
    uint32_t nr_vcpus;
    np_sim_mem_mode mode;
    uint64_t *node_bytes;    /* relative amounts for NP_SIM_MEM_PLAN */
    np_bitmap **hard, **soft; /* per vCPU, NULL = all / none */
    uint32_t *internal_node; /* per vCPU, UINT32_MAX = not said */
    uint32_t *vnode_node;    /* per vCPU, node backing its virtual node, UINT32_MAX = no vNUMA */
    np_bitmap *node_aff;     /* node os_ids, NULL = any */
};

#endif
