/*
 * model/calibration.c - the calibration table (data/calibration.conf in C)
 * and the latency ratio both placement and the simulator use.
 *
 * Why classes, not a formula in the SLIT distance: firmware writes SLIT
 * values by hop class (10 local, 11-19 same package, 20-22 one socket hop,
 * 30+ two), and the measured penalty of a class differs by platform more
 * than the distance within a class says. A table per class keeps each
 * figure next to its measurement; HMAT latencies, when the topology has
 * them, replace it.
 */
#include "model/calibration.h"

static const np_calib_entry table[] = {
    {"lat_ratio_near", NP_CALIB_LAT_RATIO_NEAR, "ratio", NP_CALIB_ASSUMED},
    {"lat_ratio_socket", NP_CALIB_LAT_RATIO_SOCKET, "ratio", NP_CALIB_MEASURED},
    {"lat_ratio_far", NP_CALIB_LAT_RATIO_FAR, "ratio", NP_CALIB_DERIVED},
    {"remote_bw_ratio", NP_CALIB_REMOTE_BW_RATIO, "ratio", NP_CALIB_MEASURED},
    {"node_bw_gbps", NP_CALIB_NODE_BW_GBPS, "GB/s", NP_CALIB_MEASURED},
    {"core_bw_gbps", NP_CALIB_CORE_BW_GBPS, "GB/s", NP_CALIB_MEASURED},
    {"local_latency_ns", NP_CALIB_LOCAL_LATENCY_NS, "ns", NP_CALIB_MEASURED},
    {"loaded_latency_ratio", NP_CALIB_LOADED_LATENCY_RATIO, "ratio", NP_CALIB_MEASURED},
    {"smt_thread_yield", NP_CALIB_SMT_THREAD_YIELD, "core", NP_CALIB_MEASURED},
    {"ctxsw_base_ns", NP_CALIB_CTXSW_BASE_NS, "ns", NP_CALIB_ASSUMED},
    {"ctxsw_misses", NP_CALIB_CTXSW_MISSES, "misses", NP_CALIB_ASSUMED},
    {"mem_stall_fraction", NP_CALIB_MEM_STALL_FRACTION, "share", NP_CALIB_ASSUMED},
    {"vnuma_cross_fraction", NP_CALIB_VNUMA_CROSS_FRACTION, "share", NP_CALIB_ASSUMED},
    {"device_io_fraction", NP_CALIB_DEVICE_IO_FRACTION, "share", NP_CALIB_ASSUMED},
    {"headroom_weight", NP_CALIB_HEADROOM_WEIGHT, "share", NP_CALIB_ASSUMED},
};

size_t np_calib_count(void)
{
    return sizeof(table) / sizeof(table[0]);
}

const np_calib_entry *np_calib_entry_at(size_t i)
{
    return i < np_calib_count() ? &table[i] : NULL;
}

const char *np_calib_status_name(np_calib_status s)
{
    switch (s) {
    case NP_CALIB_MEASURED: return "measured";
    case NP_CALIB_DERIVED: return "derived";
    case NP_CALIB_ASSUMED: return "assumed";
    }
    return "assumed";
}

double np_calib_slit_ratio(uint32_t d, uint32_t local)
{
    if (local == 0 || d <= local)
        return 1.0;
    /* d scaled to a local distance of 10, in whole SLIT units (rounded
     * down: a scaled 20.5 is still the socket class). */
    uint64_t scaled = (uint64_t)d * NP_CALIB_SLIT_LOCAL / local;
    if (scaled >= NP_CALIB_SLIT_FAR)
        return NP_CALIB_LAT_RATIO_FAR;
    if (scaled >= NP_CALIB_SLIT_SOCKET)
        return NP_CALIB_LAT_RATIO_SOCKET;
    return NP_CALIB_LAT_RATIO_NEAR;
}

double np_calib_latency_ratio(const np_topology *topo, size_t i, size_t j)
{
    const double *lat = np_topology_latency_table(topo);
    size_t n = np_topology_nr_nodes(topo);
    if (lat && i < n && j < n)
        return lat[i * n + j];
    np_memattr local = {0}, a = {0};
    if (np_topology_memattr(topo, i, i, &local) == 0 && local.latency_ns > 0 &&
        np_topology_memattr(topo, i, j, &a) == 0 && a.latency_ns > 0) {
        double r = (double)a.latency_ns / (double)local.latency_ns;
        return r > 1.0 ? r : 1.0;
    }
    return np_calib_slit_ratio(np_topology_distance(topo, i, j), np_topology_distance(topo, j, j));
}

double np_calib_smt_shared_speed(void)
{
    return (1.0 + NP_CALIB_SMT_THREAD_YIELD) / 2.0;
}
