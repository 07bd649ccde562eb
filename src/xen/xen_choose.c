/*
 * xen/xen_choose.c - the nodes `numaplace create` gives a guest it places
 * itself on a Xen host: what Xen can give, what the standard metrics
 * (remote-weighted distance, local fraction; docs/xen-placement.md)
 * reward. Pure: per-node figures in, a node set out.
 *
 * Why not `numaplace place` as it is: its objective weighs CPU over-commit
 * against remote memory and spreads a guest with more vCPUs than a node
 * has CPUs over several nodes. Without vNUMA (PV) Xen splits such a guest
 * evenly over its node affinity, and even with vNUMA every vCPU then has
 * most of its memory remote. Measured on the Xen 4.17 test host (4 nodes x
 * 2 CPUs): a PVH 4-vCPU 512 MiB guest spread over 4 vnodes scored RWD 1.11
 * / local 0.25 where xl, on one node pair, had 1.00 / 0.50; a PVH 2-vCPU
 * 384 MiB guest on 2 vnodes 0.50 / 0.50 where xl's one node had 0.00 /
 * 1.00. So, in order:
 *   1. a node whose usable memory holds the whole guest: one node, the one
 *      with CPUs for the guest's vCPUs (else the least over-committed),
 *      nearest the guest's device, then the least loaded, then the most
 *      memory;
 *   2. else the fewest nodes that hold the memory (evenly when the guest
 *      gets no vNUMA: Xen's allocator round-robins over the node affinity)
 *      and have CPUs for the vCPUs, else the fewest that hold the memory
 *      with the least over-commit; among them the nodes nearest each
 *      other, then nearest the device, then the least loaded; vNUMA when
 *      the guest can have it.
 * The caller then builds the placement on those nodes (np_xen_place_on).
 *
 * What a node can give (np_xen_usable_node) and whether one node alone
 * takes a whole domain (np_xen_node_takes) live here too: create's choice
 * and the save/restore move (`numaplace migrate`) judge a node by the same
 * model, measured free memory above the DMA zone minus head-room.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/hoststate.h>
#include <numaplace/xen.h>

/* What one candidate node set offers. */
typedef struct choice_eval {
    unsigned mask;
    size_t k;
    bool mem_fits, cpu_fits;
    double overcommit; /* (demand there + the guest's) / capacity */
    uint64_t spread;   /* sum of the distances between its nodes */
    uint32_t dev_dist; /* the device's distance to the nearest node, 0 without */
    uint64_t usable_bytes;
} choice_eval;

#define CHOICE_EPS 1e-9

static void evaluate(const np_xen_choice_node *nodes, size_t nr, const uint32_t *distance,
                     int device_idx, double demand, uint64_t mem_bytes, bool even,
                     unsigned mask, choice_eval *e)
{
    double cap = 0, load = 0;
    uint64_t least = UINT64_MAX;
    memset(e, 0, sizeof(*e));
    e->mask = mask;
    e->dev_dist = device_idx >= 0 ? UINT32_MAX : 0;
    for (size_t i = 0; i < nr; i++) {
        if (!(mask & (1u << i)))
            continue;
        e->k++;
        cap += nodes[i].cpu_capacity;
        load += nodes[i].cpu_demand;
        e->usable_bytes += nodes[i].usable_bytes;
        if (nodes[i].usable_bytes < least)
            least = nodes[i].usable_bytes;
        for (size_t j = i + 1; j < nr; j++)
            if (mask & (1u << j))
                e->spread += distance[i * nr + j];
        if (device_idx >= 0 && distance[(size_t)device_idx * nr + i] < e->dev_dist)
            e->dev_dist = distance[(size_t)device_idx * nr + i];
    }
    /* without vNUMA Xen gives every node of the affinity an even share */
    e->mem_fits = even ? least >= (mem_bytes + e->k - 1) / e->k : e->usable_bytes >= mem_bytes;
    e->cpu_fits = cap > 0 && load + demand <= cap + CHOICE_EPS;
    e->overcommit = cap > 0 ? (load + demand) / cap : 1e300;
}

/* a better than b, both holding the memory with as many nodes */
static bool better(const choice_eval *a, const choice_eval *b)
{
    if (a->cpu_fits != b->cpu_fits)
        return a->cpu_fits;
    if (!a->cpu_fits && a->overcommit < b->overcommit - CHOICE_EPS)
        return true;
    if (!a->cpu_fits && a->overcommit > b->overcommit + CHOICE_EPS)
        return false;
    if (a->spread != b->spread)
        return a->spread < b->spread;
    if (a->dev_dist != b->dev_dist)
        return a->dev_dist < b->dev_dist;
    if (a->overcommit < b->overcommit - CHOICE_EPS || a->overcommit > b->overcommit + CHOICE_EPS)
        return a->overcommit < b->overcommit;
    if (a->usable_bytes != b->usable_bytes)
        return a->usable_bytes > b->usable_bytes;
    return false; /* the earlier mask (lower nodes) stays */
}

int np_xen_choose_nodes(const np_xen_choice_node *nodes, size_t nr, const uint32_t *distance,
                        int device_idx, double demand, uint64_t mem_bytes, bool can_vnuma,
                        np_xen_choice *out)
{
    choice_eval best, e;
    bool found = false, best_cpu = false;

    if (!nodes || !distance || !out || nr == 0 || mem_bytes == 0 || demand <= 0 ||
        device_idx >= (int)nr)
        return -EINVAL;
    if (nr > NP_XEN_CHOOSE_MAX_NODES)
        return -E2BIG;
    memset(&best, 0, sizeof(best));
    /* one node first, then pairs, ...: the fewest nodes that hold the
     * memory; past one node, the fewest that also have the CPUs when any
     * set does */
    for (size_t k = 1; k <= nr; k++) {
        for (unsigned mask = 1; mask < (1u << nr); mask++) {
            if ((size_t)__builtin_popcount(mask) != k)
                continue;
            evaluate(nodes, nr, distance, device_idx, demand, mem_bytes, k > 1 && !can_vnuma,
                     mask, &e);
            if (!e.mem_fits)
                continue;
            if (!found || better(&e, &best))
                best = e;
            found = true;
            best_cpu = best_cpu || e.cpu_fits;
        }
        if (found && (k == 1 || best_cpu))
            break;
    }
    if (!found)
        return -ENOSPC;
    if (best.k > 1 && !best_cpu) {
        /* no set has the CPUs: the fewest nodes holding the memory, least
         * over-committed (the loop went on to the largest set; go back) */
        found = false;
        for (size_t k = 2; k <= nr && !found; k++)
            for (unsigned mask = 1; mask < (1u << nr); mask++) {
                if ((size_t)__builtin_popcount(mask) != k)
                    continue;
                evaluate(nodes, nr, distance, device_idx, demand, mem_bytes, !can_vnuma, mask,
                         &e);
                if (e.mem_fits && (!found || better(&e, &best)))
                    best = e;
                found = found || e.mem_fits;
            }
    }
    out->nr_nodes = 0;
    for (size_t i = 0; i < nr; i++)
        if (best.mask & (1u << i))
            out->node[out->nr_nodes++] = i;
    out->vnuma = can_vnuma && out->nr_nodes > 1;
    return 0;
}

void np_xen_usable_node(uint32_t os_id, uint64_t free_bytes, uint64_t dma_free_bytes,
                        uint64_t inflight_bytes, np_xen_alloc_node *out)
{
    uint64_t dma = dma_free_bytes < free_bytes ? dma_free_bytes : free_bytes;
    uint64_t above = free_bytes - dma;
    uint64_t left = above > inflight_bytes ? above - inflight_bytes : 0;
    out->os_id = os_id;
    out->free_bytes = left > NP_XEN_NODE_HEADROOM_BYTES ? left - NP_XEN_NODE_HEADROOM_BYTES : 0;
    out->headroom_bytes = left - out->free_bytes;
    out->dma_free_bytes = dma;
    out->in_mask = false;
}

int np_xen_node_takes(const np_xen_alloc_node *nodes, size_t nr, size_t to, size_t avoid,
                      uint64_t bytes, uint64_t *predicted, size_t *alt_out)
{
    np_xen_alloc_node *an = NULL;
    int rc;

    if (!nodes || !predicted || !alt_out || to >= nr || bytes == 0)
        return -EINVAL;
    *alt_out = SIZE_MAX;
    for (size_t k = 0; k < nr; k++)
        predicted[k] = k == to ? bytes : 0;
    if (nodes[to].free_bytes >= bytes)
        return 0;
    for (size_t k = 0; k < nr; k++)
        if (k != to && k != avoid && nodes[k].free_bytes >= bytes &&
            (*alt_out == SIZE_MAX || nodes[k].free_bytes > nodes[*alt_out].free_bytes))
            *alt_out = k;
    /* where the allocator would really put it: create's prediction, the
     * head-room given back */
    an = calloc(nr, sizeof(*an));
    if (!an)
        return -ENOMEM;
    for (size_t k = 0; k < nr; k++) {
        an[k] = nodes[k];
        an[k].free_bytes += nodes[k].headroom_bytes;
        an[k].in_mask = k == to;
    }
    rc = np_xen_alloc_predict(an, nr, bytes, NP_XEN_ALLOC_CHUNK_BYTES, predicted);
    if (rc == -ENOSPC)
        for (size_t k = 0; k < nr; k++)
            predicted[k] = 0; /* the host cannot hold it at all */
    free(an);
    return rc == 0 || rc == -ENOSPC ? -ENOSPC : rc;
}

void np_xen_spec_for_xl(np_guest_spec *spec)
{
    if (!spec->allow_cpuless_memory)
        spec->cpuless_memory_refused = true;
}

int np_xen_place_on(const np_host_state *st, const np_guest_spec *spec, const np_xen_choice *ch,
                    np_placement **out, np_error *err)
{
    const np_topology *topo = np_host_state_topology(st);
    np_host_state *on = NULL;
    np_guest_spec s = *spec;
    bool in[NP_XEN_CHOOSE_MAX_NODES] = {false};
    int rc;

    *out = NULL;
    if (ch->nr_nodes == 0 || np_topology_nr_nodes(topo) > NP_XEN_CHOOSE_MAX_NODES)
        return -EINVAL;
    for (size_t i = 0; i < ch->nr_nodes; i++) {
        if (ch->node[i] >= np_topology_nr_nodes(topo))
            return -EINVAL;
        in[ch->node[i]] = true;
    }
    if ((rc = np_host_state_copy(st, &on)))
        return rc;
    /* memory only on the chosen nodes: the placement cannot leave them */
    for (size_t k = 0; k < np_topology_nr_nodes(topo) && rc == 0; k++)
        if (!in[k])
            rc = np_host_state_set_node_free(on, k, 0);
    s.vnuma_nodes = ch->vnuma ? (int32_t)ch->nr_nodes : NP_VNUMA_OFF;
    if (rc == 0)
        rc = np_place(on, &s, NULL, out, err);
    if (rc == 0 && (np_placement_is_fallback(*out) || np_placement_nr_nodes(*out) != ch->nr_nodes))
        rc = -EAGAIN;
    for (size_t i = 0; rc == 0 && i < ch->nr_nodes; i++)
        if (np_placement_node(*out, i) != ch->node[i])
            rc = -EAGAIN;
    if (rc == -EAGAIN)
        snprintf(err->msg, sizeof(err->msg),
                 "the placement did not keep to the %zu chosen node(s)", ch->nr_nodes);
    if (rc) {
        np_placement_destroy(*out);
        *out = NULL;
    }
    np_host_state_destroy(on);
    return rc;
}

int np_xen_vcpu_load(const np_host_state *st, double *per_node)
{
    const np_topology *topo = np_host_state_topology(st);
    size_t nr = np_topology_nr_nodes(topo), nr_cpus = np_topology_nr_cpus(topo);
    double *share = calloc(nr, sizeof(*share));
    if (!share)
        return -ENOMEM;
    for (size_t k = 0; k < nr; k++)
        per_node[k] = 0;
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        uint32_t vcpus = np_host_state_guest_spec(st, g)->vcpus;
        for (uint32_t v = 0; v < vcpus; v++) {
            const np_bitmap *hard = np_host_state_vcpu_hard(st, g, v);
            const np_bitmap *soft = np_host_state_vcpu_soft(st, g, v);
            bool use_soft = soft && !np_bitmap_is_empty(soft) &&
                            (!hard || np_bitmap_intersects(soft, hard));
            double named = 0;
            for (size_t k = 0; k < nr; k++)
                share[k] = 0;
            /* the effective mask: soft & hard when they meet, else hard,
             * else every CPU (Xen's rule, as np_host_state's load) */
            for (size_t i = 0; i < nr_cpus; i++) {
                const np_cpu_info *cpu = np_topology_cpu(topo, i);
                bool in = (!hard || np_bitmap_is_empty(hard) || np_bitmap_test(hard, cpu->os_id)) &&
                          (!use_soft || np_bitmap_test(soft, cpu->os_id));
                if (in) {
                    share[cpu->node_idx] += 1;
                    named += 1;
                }
            }
            for (size_t k = 0; named > 0 && k < nr; k++)
                per_node[k] += share[k] / named;
        }
    }
    free(share);
    return 0;
}
