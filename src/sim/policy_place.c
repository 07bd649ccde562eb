/*
 * sim/policy_place.c - the placement policies of place.h in the
 * simulator's policy slot:
 *   "xl42-hard"       Xen 4.2's libxl heuristic, vCPUs pinned (Xen 4.2);
 *   "xl42-soft"       the same nodes as soft affinity (Xen 4.3 and later);
 *   "numaplace-soft"  numaplace's placement, soft affinity unless the host
 *                     has no idle CPU left to offer (choose_affinity()).
 * Each arrival senses the host through the simulator's backend, exactly
 * as the daemon senses a real host (np_backend_sense), asks np_place()
 * and copies the placement into the simulator's plan: memory per node,
 * each vCPU's hard and soft masks, each vCPU's hypervisor state on the
 * vCPU's node, the chosen nodes as node affinity, and with a vNUMA layout
 * the node behind each vCPU's virtual node. A fallback (xl42 gives
 * up above 16 nodes or without a candidate) is what the hypervisor then
 * does: memory striped over every node, no affinity.
 * With a sim_sense_cache as self (sense_cache.h) the snapshot is reused
 * for SIM_SENSE_REFRESH_NS and the policy's own decisions are committed
 * into it; the cache also puts the specs of the guests it placed back into every
 * fresh snapshot, since a sensed state knows no specs and so no affinity
 * groups. sim_place_numaplace_restated() does the same for a caller that
 * keeps its own specs (the "numaplace-balance" policy).
 */
#include "sim/policy.h"
#include "sim/sense_cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/balance.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>

static int copy_placement(np_sim *sim, const np_guest_spec *spec, const np_placement *pl,
                          np_sim_plan *plan)
{
    const np_topology *topo = np_sim_topology(sim);
    np_bitmap *nodes = NULL;
    int rc;

    if (np_placement_is_fallback(pl))
        return np_sim_plan_set_mem_mode(plan, NP_SIM_MEM_STRIPED);
    rc = np_bitmap_create(&nodes);
    for (size_t i = 0; i < np_placement_nr_nodes(pl) && !rc; i++) {
        size_t k = np_placement_node(pl, i);
        rc = np_sim_plan_set_node_mem(plan, k, np_placement_node_mem_bytes(pl, k));
        if (!rc)
            rc = np_bitmap_set(nodes, np_topology_node(topo, k)->os_id);
    }
    if (!rc)
        rc = np_sim_plan_set_node_affinity(plan, nodes);
    const np_vnuma *vn = np_placement_vnuma(pl);
    for (uint32_t v = 0; v < spec->vcpus && !rc; v++) {
        rc = np_sim_plan_set_vcpu_affinity(plan, v, np_placement_vcpu_hard(pl, v),
                                           np_placement_vcpu_soft(pl, v));
        if (!rc)
            rc = np_sim_plan_set_vcpu_internal_node(plan, v, np_placement_vcpu_node(pl, v));
        size_t vnode, pnode;
        if (!rc && vn && !np_vnuma_vcpu_vnode(vn, v, &vnode) &&
            !np_topology_node_idx(topo, np_vnuma_pnode_os_id(vn, vnode), &pnode))
            rc = np_sim_plan_set_vcpu_vnode_node(plan, v, pnode);
    }
    np_bitmap_destroy(nodes);
    return rc;
}

static const np_guest_spec *cache_lookup(void *opaque, const char *name)
{
    const sim_sense_cache *c = opaque;
    return sim_spec_table_find(&c->specs, name);
}

/* The host as sensed now, or the cached snapshot while it is fresh. A
 * fresh snapshot gets the specs of the guests this cache placed back. */
static int sensed_state(np_sim *sim, sim_sense_cache *cache, np_host_state **st_out)
{
    uint64_t now = np_sim_now_ns(sim);
    np_host_state *sensed = NULL, *st = NULL;
    if (cache && cache->st && now - cache->sensed_ns < SIM_SENSE_REFRESH_NS) {
        *st_out = cache->st;
        return 0;
    }
    int rc = np_backend_sense(np_sim_backend(sim), &sensed);
    if (rc || !cache) {
        *st_out = sensed;
        return rc;
    }
    rc = np_balance_restate(sensed, cache_lookup, cache, &st);
    np_host_state_destroy(sensed);
    if (rc)
        return rc;
    np_host_state_destroy(cache->st);
    cache->st = st;
    cache->sensed_ns = now;
    *st_out = st;
    return 0;
}

/* Soft or hard affinity for one guest. Soft affinity is worth something
 * when the guest's nodes are busy while another node has an idle CPU: the
 * scheduler runs the vCPU there, slower (its memory is remote) but
 * running. When the host as a whole, with this guest, has at least as
 * much demand as capacity (cores, plus the calibration's 0.2 of a core per
 * extra hyper-thread: the figure placement and the simulator use), no
 * core stays idle to offer that; what remains of
 * soft affinity is credit1's balancing, which steals UNDER vCPUs across
 * nodes for fairness and leaves them running away from their memory (the
 * suite's overcommit and churn rows: soft lost 3-5% to pinning there). So
 * such a guest is pinned to its nodes. A guest placed on a host with spare
 * CPUs keeps soft affinity (strand-cpu-4n: soft beats pinning when
 * departures leave CPUs idle elsewhere). */
static np_affinity_mode choose_affinity(const np_host_state *st, const np_guest_spec *spec)
{
    const np_topology *topo = np_host_state_topology(st);
    size_t n = np_topology_nr_nodes(topo);
    np_node_load *loads = malloc((n ? n : 1) * sizeof(*loads));
    np_affinity_mode mode = NP_AFFINITY_SOFT;
    if (!loads || np_host_state_node_loads(st, loads) < 0)
        goto out;
    double demand = (double)spec->vcpus * spec->cpu_demand, capacity = 0.0;
    for (size_t i = 0; i < n; i++) {
        demand += loads[i].cpu_demand;
        capacity += loads[i].cpu_capacity;
    }
    if (demand >= capacity)
        mode = NP_AFFINITY_HARD;
out:
    free(loads);
    return mode;
}

/* affinity NP_AFFINITY_NONE here means "choose_affinity() decides". */
static int place_with(sim_sense_cache *cache, np_sim *sim, const np_guest_spec *spec,
                      const char *policy, np_affinity_mode affinity, np_sim_plan *plan,
                      np_error *err)
{
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_guest_spec s = *spec;
    bool choose = affinity == NP_AFFINITY_NONE;
    int rc;

    s.affinity = choose ? NP_AFFINITY_SOFT : affinity;
    s.no_autoplace = false;
    rc = sensed_state(sim, cache, &st);
    if (!rc && choose)
        s.affinity = choose_affinity(st, &s);
    if (!rc && cache)
        rc = sim_spec_table_record(&cache->specs, &s);
    if (!rc)
        rc = np_place(st, &s, policy, &pl, err);
    if (!rc)
        rc = copy_placement(sim, &s, pl, plan);
    /* Remember the decision until the next sense; a snapshot that cannot
     * take it (a name seen twice) is dropped and sensed again. */
    if (!rc && cache && !np_placement_is_fallback(pl) &&
        np_placement_commit(st, &s, pl, NULL) != 0) {
        np_host_state_destroy(cache->st);
        cache->st = NULL;
    }
    np_placement_destroy(pl);
    if (!cache)
        np_host_state_destroy(st);
    return rc;
}

int sim_place_numaplace_restated(np_sim *sim, const np_guest_spec *spec,
                                 np_balance_spec_lookup lookup, void *opaque, np_sim_plan *plan,
                                 np_error *err)
{
    np_host_state *sensed = NULL, *st = NULL;
    np_placement *pl = NULL;
    np_guest_spec s = *spec;
    int rc;

    s.affinity = NP_AFFINITY_SOFT;
    s.no_autoplace = false;
    rc = np_backend_sense(np_sim_backend(sim), &sensed);
    if (!rc)
        rc = np_balance_restate(sensed, lookup, opaque, &st);
    if (!rc)
        s.affinity = choose_affinity(st, &s); /* as numaplace-soft */
    if (!rc)
        rc = np_place(st, &s, "numaplace", &pl, err);
    if (!rc)
        rc = copy_placement(sim, &s, pl, plan);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_host_state_destroy(sensed);
    return rc;
}

static int place_xl42_hard(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                           np_error *err)
{
    return place_with(self, sim, spec, "xl42", NP_AFFINITY_HARD, plan, err);
}

static int place_xl42_soft(void *self, np_sim *sim, const np_guest_spec *spec, np_sim_plan *plan,
                           np_error *err)
{
    return place_with(self, sim, spec, "xl42", NP_AFFINITY_SOFT, plan, err);
}

static int place_numaplace_soft(void *self, np_sim *sim, const np_guest_spec *spec,
                                np_sim_plan *plan, np_error *err)
{
    return place_with(self, sim, spec, "numaplace", NP_AFFINITY_NONE, plan, err);
}

const np_sim_policy np_sim_policy_xl42_hard = {
    .name = "xl42-hard",
    .summary = "Xen 4.2's libxl placement, vCPUs pinned to its nodes",
    .place = place_xl42_hard,
};

const np_sim_policy np_sim_policy_xl42_soft = {
    .name = "xl42-soft",
    .summary = "Xen 4.2's libxl placement as soft affinity (Xen 4.3+)",
    .place = place_xl42_soft,
};

const np_sim_policy np_sim_policy_numaplace_soft = {
    .name = "numaplace-soft",
    .summary = "numaplace placement, soft affinity (hard once the host's CPUs are all taken)",
    .place = place_numaplace_soft,
};

bool sim_policy_takes_sense_cache(const np_sim_policy *policy)
{
    return policy == &np_sim_policy_xl42_hard || policy == &np_sim_policy_xl42_soft ||
           policy == &np_sim_policy_numaplace_soft;
}

void sim_sense_cache_fini(sim_sense_cache *c)
{
    if (!c)
        return;
    np_host_state_destroy(c->st);
    sim_spec_table_fini(&c->specs);
    memset(c, 0, sizeof(*c));
}
