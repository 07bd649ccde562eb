/*
 * sim/calib.c - latency ratios and bandwidths from the topology.
 *
 * Latency: np_calib_latency_ratio(), the function placement uses too:
 * HMAT lat(i,j)/lat(i,i) when the topology carries ACPI HMAT latencies,
 * else the ratio of the SLIT distance's class (data/calibration.conf:
 * 1.10 same package, 1.56 other socket, 2.12 two hops). A positive
 * config.latency_per_distance replaces the classes by
 *     1 + latency_per_distance * (d(i,j) - d(i,i)).
 * Bandwidth: HMAT local bandwidth when present, else the configured
 * default; the bandwidth a node serves to remote CPUs is a fixed share of
 * it (remote_bandwidth_ratio).
 */
#include "sim/calib.h"

#include <errno.h>
#include <stdlib.h>

/* Nodes by increasing latency ratio from `from`, by insertion sort: fine
 * for the sizes involved (256 nodes: ~32k steps per row, once). */
static void sort_row_by_distance(const np_sim *sim, uint32_t from, uint32_t *row)
{
    size_t n = sim->nr_nodes;
    for (size_t i = 0; i < n; i++)
        row[i] = (uint32_t)i;
    for (size_t i = 1; i < n; i++) {
        uint32_t x = row[i];
        double dx = sim_lat(sim, from, x);
        size_t j = i;
        /* Nearer first; equal ratios keep index order (stable key). */
        while (j > 0 && sim_lat(sim, from, row[j - 1]) > dx) {
            row[j] = row[j - 1];
            j--;
        }
        row[j] = x;
    }
}

int sim_calib_init(np_sim *sim)
{
    size_t n = sim->nr_nodes;
    const np_topology *topo = sim->topo;

    sim->lat = malloc(n * n * sizeof(*sim->lat));
    sim->near = malloc(n * n * sizeof(*sim->near));
    if (!sim->lat || !sim->near)
        return -ENOMEM;

    for (size_t i = 0; i < n; i++) {
        uint32_t dii = np_topology_distance(topo, i, i);
        for (size_t j = 0; j < n; j++) {
            double r;
            if (sim->cfg.latency_per_distance > 0.0) {
                double d = (double)np_topology_distance(topo, i, j) - (double)dii;
                r = 1.0 + sim->cfg.latency_per_distance * (d > 0 ? d : 0);
            } else {
                r = np_calib_latency_ratio(topo, i, j);
            }
            sim->lat[i * n + j] = r < 1.0 ? 1.0 : r;
        }
    }
    for (size_t i = 0; i < n; i++)
        sort_row_by_distance(sim, (uint32_t)i, &sim->near[i * n]);

    for (size_t i = 0; i < n; i++) {
        np_memattr a = {0};
        double bps = (double)sim->cfg.node_bandwidth_bps;
        if (np_topology_memattr(topo, i, i, &a) == 0 && a.bandwidth_mbps > 0)
            bps = (double)a.bandwidth_mbps * 1e6; /* hwloc reports MB/s */
        sim->nodes[i].bw_bytes_per_ns = bps / 1e9;
        sim->nodes[i].link_bytes_per_ns = bps * sim->cfg.remote_bandwidth_ratio / 1e9;
        sim->nodes[i].cont_local = 1.0;
        sim->nodes[i].cont_remote = 1.0;
    }
    return 0;
}

double sim_contention(double u)
{
    double over = u > 1.0 ? u : 1.0;
    if (u > NP_SIM_CONTENTION_U_CAP)
        u = NP_SIM_CONTENTION_U_CAP;
    if (u < 0)
        u = 0;
    /* Past saturation the queue grows without bound; requests then take
     * longer in proportion to the excess demand. */
    return (1.0 + NP_SIM_CONTENTION_K * u / (1.0 - u)) * over;
}
