/*
 * place/topogen.c - regular test hosts of any size, for tests and
 * benchmarks of the placement policies on hosts nobody has at hand (16,
 * 64, 256 nodes).
 *
 * The distance matrix has three levels, like the large machines it stands
 * for: nodes of one package (sub-NUMA clusters, 12), packages on one board
 * or ring (21), and boards behind a fabric (32). CPUs are numbered node by
 * node, first threads of all cores, then their siblings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numaplace/bench.h>

#include "util/error.h"

/* Defaults of np_topo_gen_init(), in SLIT units. */
#define GEN_DIST_PACKAGE 12u
#define GEN_DIST_GROUP 21u
#define GEN_DIST_FAR 32u

void np_topo_gen_init(np_topo_gen *g, size_t nodes, uint32_t cores_per_node,
                      uint64_t mem_per_node_bytes)
{
    memset(g, 0, sizeof(*g));
    g->name = "generated";
    g->nodes = nodes;
    g->cores_per_node = cores_per_node;
    g->threads_per_core = 2;
    g->mem_per_node_bytes = mem_per_node_bytes;
    g->nodes_per_package = 2;
    g->packages_per_group = 4;
    g->dist_package = GEN_DIST_PACKAGE;
    g->dist_group = GEN_DIST_GROUP;
    g->dist_far = GEN_DIST_FAR;
}

int np_topology_generate(const np_topo_gen *g, np_topology **out, np_error *err)
{
    np_topology_builder *b = NULL;
    int rc = 0;

    if (!g || !out || g->nodes == 0 || g->nodes > NP_TOPO_MAX_NODES || g->cores_per_node == 0 ||
        g->threads_per_core == 0 || g->nodes_per_package == 0 ||
        (uint64_t)g->nodes * g->cores_per_node * g->threads_per_core > NP_TOPO_MAX_CPUS)
        return np_error_set(err, NULL, 0, "generated host: need 1..%u nodes, cores and threads "
                            "per node, and at most %u CPUs", NP_TOPO_MAX_NODES,
                            NP_TOPO_MAX_CPUS);
    rc = np_topology_builder_create(&b);
    if (rc < 0)
        return rc;
    rc = np_topology_builder_set_name(b, g->name ? g->name : "generated");
    uint32_t per_node = g->cores_per_node * g->threads_per_core;
    for (size_t i = 0; i < g->nodes && rc == 0; i++) {
        rc = np_topology_builder_add_node(b, (uint32_t)i, g->mem_per_node_bytes,
                                          g->mem_per_node_bytes);
        uint32_t pkg = (uint32_t)(i / g->nodes_per_package);
        uint32_t core_base = (uint32_t)(i % g->nodes_per_package) * g->cores_per_node;
        for (uint32_t t = 0; t < g->threads_per_core && rc == 0; t++)
            for (uint32_t c = 0; c < g->cores_per_node && rc == 0; c++)
                rc = np_topology_builder_add_cpu(b, (uint32_t)i * per_node +
                                                        t * g->cores_per_node + c,
                                                 (uint32_t)i, pkg, core_base + c);
    }
    size_t per_group = g->packages_per_group ? g->packages_per_group * g->nodes_per_package
                                             : g->nodes;
    for (size_t i = 0; i < g->nodes && rc == 0; i++) {
        for (size_t j = 0; j < g->nodes && rc == 0; j++) {
            uint32_t d = g->dist_far;
            if (i == j)
                d = 10;
            else if (i / g->nodes_per_package == j / g->nodes_per_package)
                d = g->dist_package;
            else if (i / per_group == j / per_group)
                d = g->dist_group;
            rc = np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, d);
        }
    }
    if (rc == 0)
        rc = np_topology_builder_finish(b, out, err);
    np_topology_builder_destroy(b);
    return rc;
}
