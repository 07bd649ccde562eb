/*
 * sim/plan.c - np_sim_plan: what a placement policy hands the simulator
 * for one guest (memory per node, vCPU masks, where the hypervisor keeps
 * each vCPU's state, the node affinity for later allocations).
 */
#include "sim/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int np_sim_plan_create(size_t nr_nodes, uint32_t nr_vcpus, np_sim_plan **out)
{
    np_sim_plan *p;

    if (!out || !nr_nodes || !nr_vcpus || nr_vcpus > NP_SIM_MAX_VCPUS_PER_GUEST ||
        nr_nodes > NP_TOPO_MAX_NODES)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->nr_nodes = nr_nodes;
    p->nr_vcpus = nr_vcpus;
    p->mode = NP_SIM_MEM_PLAN;
    p->node_bytes = calloc(nr_nodes, sizeof(*p->node_bytes));
    p->hard = calloc(nr_vcpus, sizeof(*p->hard));
    p->soft = calloc(nr_vcpus, sizeof(*p->soft));
    p->internal_node = malloc(nr_vcpus * sizeof(*p->internal_node));
    p->vnode_node = malloc(nr_vcpus * sizeof(*p->vnode_node));
    if (!p->node_bytes || !p->hard || !p->soft || !p->internal_node || !p->vnode_node) {
        np_sim_plan_destroy(p);
        return -ENOMEM;
    }
    for (uint32_t v = 0; v < nr_vcpus; v++)
        p->internal_node[v] = p->vnode_node[v] = UINT32_MAX;
    *out = p;
    return 0;
}

void np_sim_plan_destroy(np_sim_plan *p)
{
    if (!p)
        return;
    for (uint32_t v = 0; p->hard && v < p->nr_vcpus; v++)
        np_bitmap_destroy(p->hard[v]);
    for (uint32_t v = 0; p->soft && v < p->nr_vcpus; v++)
        np_bitmap_destroy(p->soft[v]);
    free(p->hard);
    free(p->soft);
    free(p->node_bytes);
    free(p->internal_node);
    free(p->vnode_node);
    np_bitmap_destroy(p->node_aff);
    free(p);
}

/* dst = copy of src (NULL stays NULL). */
static int copy_map(const np_bitmap *src, np_bitmap **dst)
{
    np_bitmap *c = NULL;
    if (src) {
        int rc = np_bitmap_copy(src, &c);
        if (rc)
            return rc;
    }
    np_bitmap_destroy(*dst);
    *dst = c;
    return 0;
}

int np_sim_plan_copy(const np_sim_plan *src, np_sim_plan **out)
{
    np_sim_plan *p = NULL;
    int rc;

    if (!src || !out)
        return -EINVAL;
    rc = np_sim_plan_create(src->nr_nodes, src->nr_vcpus, &p);
    if (rc)
        return rc;
    p->mode = src->mode;
    memcpy(p->node_bytes, src->node_bytes, src->nr_nodes * sizeof(*p->node_bytes));
    memcpy(p->internal_node, src->internal_node, src->nr_vcpus * sizeof(*p->internal_node));
    memcpy(p->vnode_node, src->vnode_node, src->nr_vcpus * sizeof(*p->vnode_node));
    for (uint32_t v = 0; v < src->nr_vcpus && !rc; v++) {
        rc = copy_map(src->hard[v], &p->hard[v]);
        if (!rc)
            rc = copy_map(src->soft[v], &p->soft[v]);
    }
    if (!rc)
        rc = copy_map(src->node_aff, &p->node_aff);
    if (rc) {
        np_sim_plan_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

int np_sim_plan_set_mem_mode(np_sim_plan *p, np_sim_mem_mode mode)
{
    if (!p || (mode != NP_SIM_MEM_PLAN && mode != NP_SIM_MEM_STRIPED &&
               mode != NP_SIM_MEM_FIRST_TOUCH))
        return -EINVAL;
    p->mode = mode;
    return 0;
}

int np_sim_plan_set_node_mem(np_sim_plan *p, size_t node_idx, uint64_t bytes)
{
    if (!p || node_idx >= p->nr_nodes)
        return -EINVAL;
    p->node_bytes[node_idx] = bytes;
    return 0;
}

int np_sim_plan_set_vcpu_affinity(np_sim_plan *p, uint32_t vcpu, const np_bitmap *hard,
                                  const np_bitmap *soft)
{
    int rc;
    if (!p || vcpu >= p->nr_vcpus)
        return -EINVAL;
    if ((hard && np_bitmap_is_empty(hard)))
        return -EINVAL;
    rc = copy_map(hard, &p->hard[vcpu]);
    if (!rc)
        rc = copy_map(soft && !np_bitmap_is_empty(soft) ? soft : NULL, &p->soft[vcpu]);
    return rc;
}

int np_sim_plan_set_vcpu_internal_node(np_sim_plan *p, uint32_t vcpu, size_t node_idx)
{
    if (!p || vcpu >= p->nr_vcpus || node_idx >= p->nr_nodes)
        return -EINVAL;
    p->internal_node[vcpu] = (uint32_t)node_idx;
    return 0;
}

int np_sim_plan_set_vcpu_vnode_node(np_sim_plan *p, uint32_t vcpu, size_t node_idx)
{
    if (!p || vcpu >= p->nr_vcpus || node_idx >= p->nr_nodes)
        return -EINVAL;
    p->vnode_node[vcpu] = (uint32_t)node_idx;
    return 0;
}

int np_sim_plan_set_node_affinity(np_sim_plan *p, const np_bitmap *nodes)
{
    if (!p)
        return -EINVAL;
    return copy_map(nodes && !np_bitmap_is_empty(nodes) ? nodes : NULL, &p->node_aff);
}
