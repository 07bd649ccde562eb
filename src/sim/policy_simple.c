/*
 * sim/policy_simple.c - "simple-hard" and "simple-soft": a small
 * placement heuristic for the simulator's own tests and benchmark, until
 * the policies of place.h (numaplace, xl42) are wired into the slot.
 *
 * It puts a guest on the least loaded node (planned vCPU demand per CPU)
 * that has room for its memory; a guest too big for one node gets the
 * node with most free memory plus its nearest neighbours until the memory
 * fits. Memory is split over the chosen nodes in proportion to their free
 * memory, vCPUs are dealt round-robin over them, each vCPU's affinity
 * (hard or soft) is its node's CPUs, and the hypervisor keeps its state
 * there. Nothing fits: striped and unpinned, as a hypervisor falls back.
 * Uses only the public API, as any policy file should.
 */
#include "sim/policy.h"

#include <errno.h>
#include <stdlib.h>

static bool node_has_cpus(const np_topology *topo, size_t k)
{
    return np_topology_node(topo, k)->nr_cpus > 0;
}

static int place_simple(np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan, bool hard)
{
    const np_topology *topo = np_sim_topology(sim);
    size_t nn = np_topology_nr_nodes(topo);
    uint64_t need = spec->mem_bytes;
    size_t *chosen = NULL, nr_chosen = 0;
    np_bitmap *nodes_os = NULL;
    size_t best = SIZE_MAX;
    double best_load = 0;
    uint64_t best_free = 0;
    int rc = 0;

    chosen = malloc(nn * sizeof(*chosen));
    if (!chosen)
        return -ENOMEM;
    for (size_t k = 0; k < nn; k++) {
        if (!node_has_cpus(topo, k))
            continue;
        uint64_t free_bytes = np_sim_node_free_bytes(sim, k);
        if (free_bytes < need)
            continue;
        double load = np_sim_node_planned_demand(sim, k) / np_topology_node(topo, k)->nr_cpus;
        /* Least loaded; then most free memory; then lowest index. */
        if (best == SIZE_MAX || load < best_load ||
            (load == best_load && free_bytes > best_free)) {
            best = k;
            best_load = load;
            best_free = free_bytes;
        }
    }
    if (best != SIZE_MAX) {
        chosen[nr_chosen++] = best;
    } else {
        /* Too big for one node: the roomiest node and its nearest. */
        uint64_t sum = 0;
        size_t start = 0;
        for (size_t k = 1; k < nn; k++)
            if (np_sim_node_free_bytes(sim, k) > np_sim_node_free_bytes(sim, start))
                start = k;
        chosen[nr_chosen++] = start;
        sum = np_sim_node_free_bytes(sim, start);
        while (sum < need && nr_chosen < nn) {
            size_t next = SIZE_MAX;
            for (size_t k = 0; k < nn; k++) {
                bool taken = false;
                for (size_t i = 0; i < nr_chosen; i++)
                    taken |= chosen[i] == k;
                if (taken || !np_sim_node_free_bytes(sim, k))
                    continue;
                if (next == SIZE_MAX ||
                    np_sim_latency_ratio(sim, start, k) < np_sim_latency_ratio(sim, start, next))
                    next = k;
            }
            if (next == SIZE_MAX)
                break;
            chosen[nr_chosen++] = next;
            sum += np_sim_node_free_bytes(sim, next);
        }
        if (sum < need) {
            rc = np_sim_plan_set_mem_mode(plan, NP_SIM_MEM_STRIPED);
            goto out;
        }
    }

    rc = np_bitmap_create(&nodes_os);
    for (size_t i = 0; i < nr_chosen && !rc; i++) {
        rc = np_sim_plan_set_node_mem(plan, chosen[i], np_sim_node_free_bytes(sim, chosen[i]));
        if (!rc)
            rc = np_bitmap_set(nodes_os, np_topology_node(topo, chosen[i])->os_id);
    }
    if (!rc)
        rc = np_sim_plan_set_node_affinity(plan, nodes_os);
    for (uint32_t v = 0; v < spec->vcpus && !rc; v++) {
        size_t k = chosen[v % nr_chosen];
        const np_bitmap *cpus = np_topology_node_cpuset(topo, k);
        if (!node_has_cpus(topo, k))
            cpus = NULL;
        rc = np_sim_plan_set_vcpu_affinity(plan, v, hard ? cpus : NULL, hard ? NULL : cpus);
        if (!rc)
            rc = np_sim_plan_set_vcpu_internal_node(plan, v, k);
    }
out:
    np_bitmap_destroy(nodes_os);
    free(chosen);
    return rc;
}

static int place_simple_hard(void *self, np_sim *sim, const np_guest_spec *spec,
                             np_sim_plan *plan, np_error *err)
{
    (void)self;
    (void)err;
    return place_simple(sim, spec, plan, true);
}

static int place_simple_soft(void *self, np_sim *sim, const np_guest_spec *spec,
                             np_sim_plan *plan, np_error *err)
{
    (void)self;
    (void)err;
    return place_simple(sim, spec, plan, false);
}

const np_sim_policy np_sim_policy_simple_hard = {
    .name = "simple-hard",
    .summary = "least-loaded node that fits, vCPUs pinned there (test stand-in)",
    .place = place_simple_hard,
};

const np_sim_policy np_sim_policy_simple_soft = {
    .name = "simple-soft",
    .summary = "least-loaded node that fits, soft affinity to it (test stand-in)",
    .place = place_simple_soft,
};
