/*
 * sim_test_util.h - small hosts and guests for the simulator's tests.
 *
 * Hosts are built with the topology builder: `nodes` nodes of `cpus` CPUs
 * and `mem_gib` GiB each, CPUs numbered node by node, SLIT 10 local and
 * `remote` between any two nodes (or a custom matrix).
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <numaplace/sim.h>
#include <numaplace/topology.h>

#include <stdio.h>
#include <stdlib.h>

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)
#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* dist: nodes*nodes matrix, or NULL for 10/remote. */
static inline np_topology *sim_test_topo_dist(unsigned nodes, unsigned cpus, unsigned mem_gib,
                                               const unsigned *dist, unsigned remote)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {{0}, 0, {0}};
    unsigned cpu = 0;

    if (np_topology_builder_create(&b))
        return NULL;
    for (unsigned n = 0; n < nodes; n++) {
        np_topology_builder_add_node(b, n, (uint64_t)mem_gib * GIB, (uint64_t)mem_gib * GIB);
        for (unsigned c = 0; c < cpus; c++, cpu++)
            np_topology_builder_add_cpu(b, cpu, n, n, c);
    }
    for (unsigned i = 0; i < nodes; i++)
        for (unsigned j = 0; j < nodes; j++)
            np_topology_builder_set_distance(b, i, j,
                                             dist ? dist[i * nodes + j] : (i == j ? 10 : remote));
    if (np_topology_builder_finish(b, &t, &err))
        t = NULL;
    np_topology_builder_destroy(b);
    return t;
}

static inline np_topology *sim_test_topo(unsigned nodes, unsigned cpus, unsigned mem_gib)
{
    return sim_test_topo_dist(nodes, cpus, mem_gib, NULL, 21);
}

/* CPU os_ids of a node as a new bitmap (caller destroys). */
static inline np_bitmap *sim_test_node_cpus(const np_topology *t, size_t node)
{
    np_bitmap *m = NULL;
    if (np_bitmap_copy(np_topology_node_cpuset(t, node), &m))
        return NULL;
    return m;
}

/* A plan: memory on `mem_node`, every vCPU hard-pinned (hard=1) or soft
 * (hard=0) to `cpu_node`'s CPUs, or free (cpu_node < 0); hypervisor state
 * of each vCPU on cpu_node (or mem_node). */
static inline np_sim_plan *sim_test_plan(const np_topology *t, uint32_t vcpus, size_t mem_node,
                                         int cpu_node, int hard)
{
    np_sim_plan *p = NULL;
    if (np_sim_plan_create(np_topology_nr_nodes(t), vcpus, &p))
        return NULL;
    np_sim_plan_set_node_mem(p, mem_node, 1);
    for (uint32_t v = 0; v < vcpus; v++) {
        if (cpu_node >= 0) {
            const np_bitmap *cpus = np_topology_node_cpuset(t, (size_t)cpu_node);
            np_sim_plan_set_vcpu_affinity(p, v, hard ? cpus : NULL, hard ? NULL : cpus);
        }
        np_sim_plan_set_vcpu_internal_node(p, v, cpu_node >= 0 ? (size_t)cpu_node : mem_node);
    }
    return p;
}

/* A steady guest with a given memory intensity that draws almost no
 * bandwidth (so contention stays out of known-answer arithmetic). */
static inline void sim_test_guest(np_sim_guest *g, const char *name, uint32_t vcpus,
                                  uint64_t mem, double intensity)
{
    np_sim_guest_init(g);
    snprintf(g->spec.name, sizeof(g->spec.name), "%s", name);
    g->spec.vcpus = vcpus;
    g->spec.mem_bytes = mem;
    g->spec.maxmem_bytes = mem;
    g->load.mem_intensity = intensity;
    g->load.mem_bw_bps = 1;
}

static inline double rel_diff(double a, double b)
{
    double d = a > b ? a - b : b - a;
    double m = a > b ? a : b;
    return m > 0 ? d / m : d;
}

#endif
