/*
 * balance/restate.c - np_balance_restate(): a sensed host state with the
 * guests' real specs put back.
 *
 * A backend reports what runs, not what was asked: np_backend_sense()
 * marks every guest no_autoplace with default affinity and no group. The
 * caller that placed the guests (the daemon, the simulator's policy) knows
 * their specs, and the balancer needs them for opt-out, pinning and group
 * rules. Everything measured (memory per node, balloon target, affinity,
 * demand, last CPU, free memory) is copied from the sensed state.
 */
#include <numaplace/balance.h>

#include <errno.h>
#include <string.h>

static int copy_guest(const np_host_state *in, size_t gi, const np_guest_spec *spec,
                      np_host_state *out)
{
    const np_topology *topo = np_host_state_topology(in);
    size_t g;
    int rc = np_host_state_add_guest(out, spec, &g);

    for (size_t k = 0; k < np_topology_nr_nodes(topo) && !rc; k++) {
        uint64_t pop = np_host_state_guest_mem_bytes(in, gi, k);
        uint64_t claim = np_host_state_guest_claimed_bytes(in, gi, k);
        if (pop || claim)
            rc = np_host_state_set_guest_mem(out, g, k, pop, claim);
    }
    if (!rc)
        rc = np_host_state_set_balloon_target(out, g, np_host_state_balloon_target(in, gi));
    for (uint32_t v = 0; v < spec->vcpus && !rc; v++) {
        rc = np_host_state_set_vcpu_affinity(out, g, v, np_host_state_vcpu_hard(in, gi, v),
                                             np_host_state_vcpu_soft(in, gi, v));
        if (!rc)
            rc = np_host_state_set_vcpu_demand(out, g, v, np_host_state_vcpu_demand(in, gi, v));
        if (!rc)
            rc = np_host_state_set_vcpu_cpu(out, g, v, np_host_state_vcpu_cpu(in, gi, v));
    }
    return rc;
}

int np_balance_restate(const np_host_state *sensed, np_balance_spec_lookup lookup, void *opaque,
                       np_host_state **out)
{
    np_host_state *st = NULL;
    np_topology *topo;
    int rc;

    if (!sensed || !out)
        return -EINVAL;
    topo = (np_topology *)(uintptr_t)np_host_state_topology(sensed);
    rc = np_host_state_create(topo, &st); /* takes its own reference */
    for (size_t k = 0; k < np_topology_nr_nodes(topo) && !rc; k++) {
        uint64_t free_bytes;
        rc = np_host_state_set_reserved(st, k, np_host_state_reserved_bytes(sensed, k));
        if (!rc && !np_host_state_node_free(sensed, k, &free_bytes))
            rc = np_host_state_set_node_free(st, k, free_bytes);
    }
    for (size_t i = 0; i < np_host_state_nr_guests(sensed) && !rc; i++) {
        const np_guest_spec *have = np_host_state_guest_spec(sensed, i);
        const np_guest_spec *want = lookup ? lookup(opaque, have->name) : NULL;
        np_guest_spec spec = *have;
        if (want && want->vcpus == have->vcpus) {
            spec = *want;
            /* The sensed name (unique) and sizes stand: they are facts. */
            memcpy(spec.name, have->name, sizeof(spec.name));
            spec.mem_bytes = have->mem_bytes;
            spec.maxmem_bytes = have->maxmem_bytes;
        }
        rc = copy_guest(sensed, i, &spec, st);
    }
    if (rc) {
        np_host_state_destroy(st);
        return rc;
    }
    *out = st;
    return 0;
}
