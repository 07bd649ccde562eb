/*
 * spec/tmp_guest_spec_init.c - TEMPORARY stand-ins for np_guest_spec_init,
 * np_guest_spec_validate, np_affinity_mode_name and np_group_rule_name so
 * the spec readers build and test before src/spec/guest_spec.c lands from
 * its own branch. The merge deletes this file; nothing else refers to it.
 *
 * It also holds inert stand-ins for the placement and vNUMA accessors the
 * emitters' adapter (src/emit/emit_model.c) calls, so the library links;
 * no np_placement can exist before np_place() lands, so they never run.
 */
#include <numaplace/guest.h>

#include <errno.h>
#include <string.h>

#include <numaplace/place.h>
#include <numaplace/vnuma.h>

#include "util/error.h"

void np_guest_spec_init(np_guest_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->io_node_os_id = -1;
    spec->group_rule = NP_GROUP_NONE;
    spec->group_weight = NP_GROUP_WEIGHT_DEFAULT;
    spec->vnuma_nodes = NP_VNUMA_AUTO;
    spec->affinity = NP_AFFINITY_SOFT;
    spec->cpu_demand = 1.0;
}

int np_guest_spec_validate(const np_guest_spec *spec, const np_topology *topo, np_error *err)
{
    (void)topo;
    if (spec->vcpus < 1)
        return np_error_set(err, NULL, 0, "a guest needs at least 1 vCPU");
    if (spec->mem_bytes == 0)
        return np_error_set(err, NULL, 0, "a guest needs memory > 0");
    if (spec->maxmem_bytes < spec->mem_bytes)
        return np_error_set(err, NULL, 0, "maxmem must be >= memory");
    return 0;
}

const char *np_affinity_mode_name(np_affinity_mode mode)
{
    switch (mode) {
    case NP_AFFINITY_SOFT: return "soft";
    case NP_AFFINITY_HARD: return "hard";
    case NP_AFFINITY_NONE: return "none";
    }
    return "unknown";
}

const char *np_group_rule_name(np_group_rule rule)
{
    switch (rule) {
    case NP_GROUP_NONE: return "none";
    case NP_GROUP_COLOCATE: return "colocate";
    case NP_GROUP_SPREAD: return "spread";
    }
    return "unknown";
}

/* ---- placement / vNUMA stand-ins (never called: no placement exists yet) ---- */

const char *np_placement_policy(const np_placement *pl)
{
    (void)pl;
    return "";
}

uint64_t np_placement_node_mem_bytes(const np_placement *pl, size_t node_idx)
{
    (void)pl;
    (void)node_idx;
    return 0;
}

const np_bitmap *np_placement_vcpu_hard(const np_placement *pl, uint32_t vcpu)
{
    (void)pl;
    (void)vcpu;
    return NULL;
}

const np_bitmap *np_placement_vcpu_soft(const np_placement *pl, uint32_t vcpu)
{
    (void)pl;
    (void)vcpu;
    return NULL;
}

const np_vnuma *np_placement_vnuma(const np_placement *pl)
{
    (void)pl;
    return NULL;
}

size_t np_vnuma_nr_vnodes(const np_vnuma *v)
{
    (void)v;
    return 0;
}

uint64_t np_vnuma_mem_bytes(const np_vnuma *v, size_t vnode)
{
    (void)v;
    (void)vnode;
    return 0;
}

const np_bitmap *np_vnuma_vcpus(const np_vnuma *v, size_t vnode)
{
    (void)v;
    (void)vnode;
    return NULL;
}

uint32_t np_vnuma_pnode_os_id(const np_vnuma *v, size_t vnode)
{
    (void)v;
    (void)vnode;
    return 0;
}

uint32_t np_vnuma_distance(const np_vnuma *v, size_t from_vnode, size_t to_vnode)
{
    (void)v;
    (void)from_vnode;
    (void)to_vnode;
    return 0;
}
