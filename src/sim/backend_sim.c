/*
 * sim/backend_sim.c - the simulator as an np_backend: what a policy's
 * runtime step sees and does through the same operations the Linux and
 * Xen backends implement. Guest ids are guest indices; only running
 * guests are listed. The clock is simulated time and the random numbers
 * come from the policy's own seeded stream, so a balancer driven through
 * this backend is as deterministic as the rest of the simulation.
 */
#include "sim/backend_sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bits.h"
#include "sim/guest.h"
#include "sim/mask.h"
#include "sim/memory.h"
#include "sim/sched.h"

static sim_guest *running_guest(np_sim *sim, uint64_t id)
{
    if (id >= sim->nr_guests || sim->guests[id].status != NP_SIM_GUEST_RUNNING)
        return NULL;
    return &sim->guests[id];
}

static int op_topology(void *impl, np_topology **out)
{
    np_sim *sim = impl;
    *out = np_topology_ref(sim->topo);
    return 0;
}

static int copy_mask(np_sim *sim, uint32_t id, np_bitmap **out)
{
    const np_bitmap *os = sim_mask_os(sim, id);
    if (!os)
        return -ENOMEM;
    return np_bitmap_copy(os, out);
}

static int fill_guest(np_sim *sim, uint32_t gidx, np_backend_guest *out)
{
    const sim_guest *g = &sim->guests[gidx];
    int rc = np_backend_guest_alloc(out, g->nr_vcpus, sim->nr_nodes);
    if (rc)
        return rc;
    out->id = gidx;
    snprintf(out->name, sizeof(out->name), "%s", g->spec.name);
    for (size_t k = 0; k < sim->nr_nodes; k++)
        out->node_mem_bytes[k] = g->node_pages[k] * sim->cfg.page_bytes;
    out->mem_target_bytes = (g->total_pages + g->pending_pages) * sim->cfg.page_bytes;
    out->maxmem_bytes = g->spec.maxmem_bytes;
    out->start_ns = g->admitted_ns;
    for (uint32_t i = 0; i < g->nr_vcpus; i++) {
        const sim_vcpu *v = &sim->vcpus[g->first_vcpu + i];
        np_backend_vcpu *bv = &out->vcpus[i];
        bv->cpu_time_ns = v->cpu_ns;
        if (v->state == SIM_V_RUNNING)
            bv->cpu_time_ns += sim->now_ns - v->run_start_ns;
        bv->last_cpu_os_id = v->last_run_cpu != SIM_NONE ? (int32_t)sim->pcpus[v->last_run_cpu].os_id : -1;
        if (v->hard != SIM_MASK_ALL && (rc = copy_mask(sim, v->hard, &bv->hard)))
            return rc;
        if (v->soft != SIM_NONE && (rc = copy_mask(sim, v->soft, &bv->soft)))
            return rc;
    }
    return 0;
}

static int op_list_guests(void *impl, np_backend_guest **guests_out, size_t *nr_out)
{
    np_sim *sim = impl;
    np_backend_guest *list = NULL;
    size_t nr = 0, n = 0;
    int rc;

    for (size_t i = 0; i < sim->nr_guests; i++)
        nr += sim->guests[i].status == NP_SIM_GUEST_RUNNING;
    rc = np_backend_guests_alloc(nr, &list);
    if (rc)
        return rc;
    for (size_t i = 0; i < sim->nr_guests && !rc; i++) {
        if (sim->guests[i].status != NP_SIM_GUEST_RUNNING)
            continue;
        rc = fill_guest(sim, (uint32_t)i, &list[n++]);
    }
    if (rc) {
        np_backend_guests_free(list, n);
        return rc;
    }
    *guests_out = list;
    *nr_out = nr;
    return 0;
}

static int op_node_free_bytes(void *impl, size_t node_idx, uint64_t *free_out)
{
    np_sim *sim = impl;
    if (node_idx >= sim->nr_nodes)
        return -EINVAL;
    *free_out = sim_node_free_pages(sim, (uint32_t)node_idx) * sim->cfg.page_bytes;
    return 0;
}

static int op_set_vcpu_affinity(void *impl, uint64_t guest_id, uint32_t vcpu,
                                const np_bitmap *hard, const np_bitmap *soft)
{
    np_sim *sim = impl;
    sim_guest *g = running_guest(sim, guest_id);
    uint32_t h = SIM_MASK_ALL, s = SIM_NONE;
    int rc;

    if (!g || vcpu >= g->nr_vcpus)
        return -ENOENT;
    rc = sim_mask_from_bitmap(sim, hard, &h);
    if (rc)
        return rc; /* a hard mask without a CPU of this host is refused */
    if (soft && !np_bitmap_is_empty(soft) && sim_mask_from_bitmap(sim, soft, &s))
        s = SIM_NONE;
    return sim_sched_set_affinity(sim, g->first_vcpu + vcpu, h, s);
}

static int op_set_guest_node_affinity(void *impl, uint64_t guest_id, const np_bitmap *nodes)
{
    np_sim *sim = impl;
    sim_guest *g = running_guest(sim, guest_id);
    uint64_t *bits = NULL;
    bool any = false;

    if (!g)
        return -ENOENT;
    if (nodes) {
        bits = calloc(sim->node_words, sizeof(*bits));
        if (!bits)
            return -ENOMEM;
        for (int id = np_bitmap_next(nodes, 0); id >= 0; id = np_bitmap_next(nodes, (unsigned)id + 1)) {
            size_t idx;
            if (!np_topology_node_idx(sim->topo, (uint32_t)id, &idx)) {
                np_bits_set(bits, idx);
                any = true;
            }
        }
        if (!any) {
            free(bits);
            return -EINVAL;
        }
    }
    free(g->node_aff);
    g->node_aff = bits;
    return 0;
}

static int op_migrate_memory(void *impl, uint64_t guest_id, size_t from_node_idx,
                             size_t to_node_idx, uint64_t bytes, uint64_t *moved_out)
{
    np_sim *sim = impl;
    if (!running_guest(sim, guest_id))
        return -ENOENT;
    return sim_mem_migrate(sim, (uint32_t)guest_id, (uint32_t)from_node_idx, (uint32_t)to_node_idx,
                           bytes, moved_out);
}

static int op_now_ns(void *impl, uint64_t *now_out)
{
    const np_sim *sim = impl;
    *now_out = sim->now_ns;
    return 0;
}

static int op_random(void *impl, uint64_t *out)
{
    np_sim *sim = impl;
    *out = np_prng_next(&sim->policy_rng);
    return 0;
}

static void op_log(void *impl, np_log_level level, const char *subsys, const char *msg)
{
    np_sim *sim = impl;
    if (sim->cfg.log)
        sim->cfg.log(sim->cfg.log_opaque, level, subsys, msg);
}

static const struct np_backend_ops sim_backend_ops = {
    .version = NP_BACKEND_OPS_VERSION,
    .name = "sim",
    .topology = op_topology,
    .list_guests = op_list_guests,
    .node_free_bytes = op_node_free_bytes,
    .set_vcpu_affinity = op_set_vcpu_affinity,
    .set_guest_node_affinity = op_set_guest_node_affinity,
    .migrate_memory = op_migrate_memory,
    .now_ns = op_now_ns,
    .random = op_random,
    .log = op_log,
};

int sim_backend_create(np_sim *sim, np_backend **out)
{
    return np_backend_create(&sim_backend_ops, sim, out);
}
