/*
 * backend/sense.c - np_backend_sense(): one snapshot of a host, through
 * any backend, as the host state placement and balancing read.
 *
 * This is the "sense" half of sense -> decide -> act: the same function
 * turns the simulator, a Linux host or a Xen host into an np_host_state,
 * so a policy tested on the simulator sees exactly what it would see on a
 * real host. Demand is measured, not assumed: a vCPU that used 30% of the
 * time it has been alive demands 0.3 (numad measures CPU use the same way,
 * from CPU time deltas).
 */
#include <numaplace/backend.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/hoststate.h>

/* The guest's spec as far as a running guest shows it. */
static void spec_of(const np_backend_guest *bg, const np_host_state *st, np_guest_spec *spec)
{
    uint64_t populated = 0;

    np_guest_spec_init(spec);
    snprintf(spec->name, sizeof(spec->name), "%s", bg->name);
    if (!spec->name[0] || np_host_state_find_guest(st, spec->name, NULL) == 0)
        snprintf(spec->name, sizeof(spec->name), "%.40s#%llu", bg->name,
                 (unsigned long long)bg->id);
    spec->vcpus = bg->nr_vcpus;
    for (size_t k = 0; k < bg->nr_nodes; k++)
        populated += bg->node_mem_bytes[k];
    spec->mem_bytes = bg->mem_target_bytes > populated ? bg->mem_target_bytes : populated;
    if (!spec->mem_bytes)
        spec->mem_bytes = 1; /* a guest with nothing yet still counts as one */
    spec->maxmem_bytes = bg->maxmem_bytes > spec->mem_bytes ? bg->maxmem_bytes : spec->mem_bytes;
    /* It is running where it runs: placement must not move it. */
    spec->no_autoplace = true;
    if (bg->group[0] && bg->group_rule != NP_GROUP_NONE) {
        memcpy(spec->group, bg->group, sizeof(spec->group));
        spec->group[sizeof(spec->group) - 1] = '\0';
        spec->group_rule = bg->group_rule;
        spec->group_weight = bg->group_weight ? bg->group_weight : NP_GROUP_WEIGHT_DEFAULT;
    }
    if (bg->io_node_set)
        spec->io_node_os_id = bg->io_node_os_id;
    /* Its passthrough devices the host's topology places (a device without
     * a node says nothing about where the guest belongs). */
    const np_topology *topo = np_host_state_topology(st);
    for (size_t i = 0; i < bg->nr_devices && spec->nr_devices < NP_GUEST_MAX_DEVICES; i++) {
        size_t idx;
        if (np_topology_device_find(topo, bg->devices[i], &idx) == 0)
            snprintf(spec->devices[spec->nr_devices++], sizeof(spec->devices[0]), "%s",
                     bg->devices[i]);
    }
}

static double measured_demand(const np_backend_vcpu *v, uint64_t age_ns)
{
    if (v->demand_measured)
        return v->demand < 0 ? 0.0 : v->demand > 1.0 ? 1.0 : v->demand;
    if (age_ns < NP_SENSE_MIN_AGE_NS)
        return 1.0;
    double d = (double)v->cpu_time_ns / (double)age_ns;
    return d > 1.0 ? 1.0 : d;
}

static int add_guest(np_host_state *st, const np_backend_guest *bg, uint64_t now_ns)
{
    np_guest_spec spec;
    size_t g;
    int rc;

    spec_of(bg, st, &spec);
    rc = np_host_state_add_guest(st, &spec, &g);
    if (rc)
        return rc;
    for (size_t k = 0; k < bg->nr_nodes && !rc; k++)
        if (bg->node_mem_bytes[k])
            rc = np_host_state_set_guest_mem(st, g, k, bg->node_mem_bytes[k], 0);
    for (size_t i = 0; i < NP_HOST_HUGE_SIZES_MAX && !rc; i++)
        for (size_t k = 0; k < bg->nr_nodes && !rc && bg->huge_page_bytes[i]; k++) {
            uint64_t h = bg->node_huge_bytes[k * NP_HOST_HUGE_SIZES_MAX + i];
            if (h)
                rc = np_host_state_set_guest_huge_mem(st, g, k, bg->huge_page_bytes[i], h);
        }
    if (!rc)
        rc = np_host_state_set_balloon_target(st, g, bg->mem_target_bytes ? bg->mem_target_bytes
                                                                           : spec.mem_bytes);
    uint64_t age = bg->start_ns != NP_BACKEND_TIME_UNKNOWN && now_ns > bg->start_ns
                       ? now_ns - bg->start_ns
                       : 0;
    for (uint32_t v = 0; v < bg->nr_vcpus && !rc; v++) {
        const np_backend_vcpu *bv = &bg->vcpus[v];
        rc = np_host_state_set_vcpu_affinity(st, g, v, bv->hard, bv->soft);
        if (!rc)
            rc = np_host_state_set_vcpu_cpu(st, g, v, bv->last_cpu_os_id);
        if (!rc)
            rc = np_host_state_set_vcpu_demand(st, g, v, measured_demand(bv, age));
    }
    return rc;
}

int np_backend_sense_guests(np_backend *be, const np_backend_guest *guests, size_t nr,
                            np_host_state **out)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    uint64_t now = 0;
    int rc;

    if (!be || !out || (nr && !guests))
        return -EINVAL;
    rc = np_backend_topology(be, &topo);
    if (rc)
        goto out;
    rc = np_host_state_create(topo, &st);
    if (rc)
        goto out;
    for (size_t k = 0; k < np_topology_nr_nodes(topo); k++) {
        uint64_t free_bytes;
        int r = np_backend_node_free_bytes(be, k, &free_bytes);
        if (r == -ENOSYS)
            break; /* no measurement: the topology's sizes stand */
        rc = r ? r : np_host_state_set_node_free(st, k, free_bytes);
        if (rc)
            goto out;
    }
    if (np_backend_now_ns(be, &now))
        now = 0; /* no clock: every guest's age is unknown */
    for (size_t i = 0; i < nr && !rc; i++)
        rc = add_guest(st, &guests[i], now);
    if (rc)
        goto out;
    /* The pools of the page sizes the guests use. */
    for (size_t s = 0; s < np_host_state_nr_huge_sizes(st) && !rc; s++)
        for (size_t k = 0; k < np_topology_nr_nodes(topo) && !rc; k++) {
            uint64_t page = np_host_state_huge_size(st, s), free_bytes;
            int r = np_backend_node_huge_free_bytes(be, k, page, &free_bytes);
            if (r == -ENOSYS || r == -ENOENT)
                continue; /* unmeasured: no room known there */
            rc = r ? r : np_host_state_set_node_huge_free(st, k, page, free_bytes);
        }
    if (rc)
        goto out;
    *out = st;
    st = NULL;
out:
    np_host_state_destroy(st);
    np_topology_destroy(topo);
    return rc;
}

int np_backend_sense(np_backend *be, np_host_state **out)
{
    np_backend_guest *guests = NULL;
    size_t nr = 0;
    int rc;

    if (!be || !out)
        return -EINVAL;
    rc = np_backend_list_guests(be, &guests, &nr);
    if (rc == 0)
        rc = np_backend_sense_guests(be, guests, nr, out);
    np_backend_guests_free(guests, nr);
    return rc;
}
