/*
 * place/std_metrics.c - standard locality metrics of a set of placements
 * (place.h, np_std_metrics): remote-weighted distance, local fraction,
 * worst CPU over-commit, worst memory use over free, refusals.
 *
 * They judge placements by measures numaplace's objective did not choose,
 * so `numaplace demo` and the benchmarks compare policies on neutral
 * ground. Pure: host state and placements in, figures out; O(guests x
 * vCPUs x nodes of the guest) plus O(nodes) per placement.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/hoststate_int.h"
#include "place/place_int.h"

/* A node's SLIT distance to m relative to m's own, minus 1: 0 local,
 * 1.1 for 21 against 10. */
static double excess(const np_topology *t, size_t from, size_t m)
{
    double local = (double)np_topology_distance(t, m, m);
    double d = (double)np_topology_distance(t, from, m);
    return local > 0.0 ? d / local - 1.0 : 0.0;
}

/* The guest's figures as seen from one vCPU node `i`. */
static void from_node(const np_topology *t, const np_placement *pl, uint64_t total, size_t i,
                      double *rwd, double *local)
{
    size_t n = np_topology_nr_nodes(t);
    *rwd = 0.0;
    *local = 0.0;
    for (size_t m = 0; m < n; m++) {
        uint64_t b = np_placement_node_mem_bytes(pl, m);
        if (!b)
            continue;
        double share = (double)b / (double)total;
        *rwd += share * excess(t, i, m);
        if (m == i)
            *local = share;
    }
}

int np_std_metrics_guest(const np_host_state *start, const np_placement *pl,
                         double *remote_weighted_distance_out, double *local_fraction_out)
{
    if (!start || !pl || !remote_weighted_distance_out || !local_fraction_out)
        return -EINVAL;
    const np_topology *t = np_host_state_topology(start);
    size_t n = np_topology_nr_nodes(t);
    if (pl->nr_topo_nodes != n)
        return -EINVAL;
    uint64_t total = 0;
    for (size_t m = 0; m < n; m++)
        total += np_placement_node_mem_bytes(pl, m);
    double rwd = 0.0, local = 0.0;
    if (total == 0 || pl->nr_vcpus == 0)
        goto out;
    if (np_placement_is_fallback(pl)) {
        /* floating vCPUs: every node with CPUs, weighted by its CPUs */
        double cpus = 0.0;
        for (size_t i = 0; i < n; i++) {
            double w = (double)np_topology_node(t, i)->nr_cpus, r, l;
            if (w == 0.0)
                continue;
            from_node(t, pl, total, i, &r, &l);
            rwd += w * r;
            local += w * l;
            cpus += w;
        }
        if (cpus > 0.0) {
            rwd /= cpus;
            local /= cpus;
        }
        goto out;
    }
    for (uint32_t v = 0; v < pl->nr_vcpus; v++) {
        double r, l;
        from_node(t, pl, total, np_placement_vcpu_node(pl, v), &r, &l);
        rwd += r;
        local += l;
    }
    rwd /= (double)pl->nr_vcpus;
    local /= (double)pl->nr_vcpus;
out:
    *remote_weighted_distance_out = rwd;
    *local_fraction_out = local;
    return 0;
}

int np_std_metrics_compute(const np_host_state *start, const np_placement *const *placements,
                           size_t nr_placements, size_t refusals, np_std_metrics *out)
{
    np_node_load *load = NULL;
    double *vcpus = NULL, *mem = NULL;
    int rc = 0;

    if (!start || !out || (nr_placements && !placements))
        return -EINVAL;
    const np_topology *t = np_host_state_topology(start);
    size_t n = np_topology_nr_nodes(t);
    load = malloc(n * sizeof(*load));
    vcpus = calloc(n, sizeof(*vcpus));
    mem = calloc(n, sizeof(*mem));
    if (!load || !vcpus || !mem) {
        rc = -ENOMEM;
        goto out;
    }
    rc = np_host_state_node_loads(start, load);
    if (rc < 0)
        goto out;
    memset(out, 0, sizeof(*out));
    out->refusals = refusals;
    double all_cpus = 0.0;
    for (size_t i = 0; i < n; i++) {
        vcpus[i] = load[i].cpu_demand;
        all_cpus += (double)np_topology_node(t, i)->nr_cpus;
    }
    size_t guests = 0;
    for (size_t g = 0; g < nr_placements; g++) {
        const np_placement *pl = placements[g];
        if (!pl)
            continue;
        double rwd, local;
        rc = np_std_metrics_guest(start, pl, &rwd, &local);
        if (rc < 0)
            goto out;
        out->remote_weighted_distance += rwd;
        out->local_fraction += local;
        guests++;
        for (size_t m = 0; m < n; m++)
            mem[m] += (double)np_placement_node_mem_bytes(pl, m);
        if (np_placement_is_fallback(pl)) {
            for (size_t i = 0; i < n && all_cpus > 0.0; i++)
                vcpus[i] += (double)pl->nr_vcpus * np_topology_node(t, i)->nr_cpus / all_cpus;
        } else {
            for (uint32_t v = 0; v < pl->nr_vcpus; v++)
                vcpus[np_placement_vcpu_node(pl, v)] += 1.0;
        }
    }
    if (guests) {
        out->remote_weighted_distance /= (double)guests;
        out->local_fraction /= (double)guests;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t cpus = np_topology_node(t, i)->nr_cpus;
        if (cpus > 0 && vcpus[i] / cpus > out->worst_cpu_overcommit)
            out->worst_cpu_overcommit = vcpus[i] / cpus;
        if (mem[i] > 0.0) {
            /* a node with nothing available that still got memory counts
             * as if one byte had been free: far above 1 */
            double avail = load[i].mem_available_bytes ? (double)load[i].mem_available_bytes : 1.0;
            if (mem[i] / avail > out->worst_mem_over_free)
                out->worst_mem_over_free = mem[i] / avail;
        }
    }
out:
    free(load);
    free(vcpus);
    free(mem);
    return rc;
}
