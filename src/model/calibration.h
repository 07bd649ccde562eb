/*
 * model/calibration.h - the constants of numaplace's cost model, shared by
 * placement (src/place/objective.c) and the simulator (src/sim/).
 *
 * The documented source of truth is data/calibration.conf: each constant
 * there has its unit, whether it is measured, derived or assumed, and its
 * source. The table in calibration.c repeats the values so the library
 * needs no file at run time; tests/unit/test_calibration.c parses the text
 * file and fails when the two differ.
 *
 * The unit of the objective is the expected slowdown of a guest: the
 * fraction of its work lost against running alone with all memory local.
 */
#ifndef NP_MODEL_CALIBRATION_H
#define NP_MODEL_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#include <numaplace/topology.h>

/* Memory latency ratio (remote / local) by SLIT distance class. */
#define NP_CALIB_LAT_RATIO_NEAR 1.10   /* SLIT 11-19: same package */
#define NP_CALIB_LAT_RATIO_SOCKET 1.5618 /* SLIT 20-29: other socket */
#define NP_CALIB_LAT_RATIO_FAR 2.12    /* SLIT 30+: two hops */
/* Class boundaries, as SLIT distances relative to a local 10. */
#define NP_CALIB_SLIT_LOCAL 10u
#define NP_CALIB_SLIT_SOCKET 20u
#define NP_CALIB_SLIT_FAR 30u

#define NP_CALIB_REMOTE_BW_RATIO 0.30
#define NP_CALIB_NODE_BW_GBPS 90.0
#define NP_CALIB_CORE_BW_GBPS 12.0
#define NP_CALIB_LOCAL_LATENCY_NS 89.0
#define NP_CALIB_LOADED_LATENCY_RATIO 4.33

/* A second hyper-thread adds this much of a core. */
#define NP_CALIB_SMT_THREAD_YIELD 0.20
#define NP_CALIB_CTXSW_BASE_NS 1000.0
#define NP_CALIB_CTXSW_MISSES 8.0

#define NP_CALIB_MEM_STALL_FRACTION 0.30
#define NP_CALIB_VNUMA_CROSS_FRACTION 0.10
#define NP_CALIB_DEVICE_IO_FRACTION 0.30
#define NP_CALIB_HEADROOM_WEIGHT 0.01

typedef enum np_calib_status {
    NP_CALIB_MEASURED = 0,
    NP_CALIB_DERIVED,
    NP_CALIB_ASSUMED,
} np_calib_status;

typedef struct np_calib_entry {
    const char *name; /* as in data/calibration.conf */
    double value;
    const char *unit;
    np_calib_status status;
} np_calib_entry;

/* The table, in the file's order. */
size_t np_calib_count(void);
const np_calib_entry *np_calib_entry_at(size_t i);
const char *np_calib_status_name(np_calib_status s);

/* Latency ratio of a SLIT distance d against the target's local distance
 * (10 on every firmware we know): 1 for local, else the class's ratio.
 * Distances are scaled to a local 10 first, so hwloc's scaled matrices
 * fall in the same classes. */
double np_calib_slit_ratio(uint32_t d, uint32_t local);
/* Latency ratio from node i's CPUs to node j's memory: HMAT latencies when
 * the topology has both lat(i,j) and lat(i,i), else the SLIT class.
 * Never below 1. */
double np_calib_latency_ratio(const np_topology *topo, size_t i, size_t j);
/* The topology keeps np_calib_latency_ratio(topo, i, j) for every pair in
 * a table (row i, column j) when it has at most this many nodes (a 512-node
 * table is 2 MiB); np_topology_latency_table() returns it, or NULL. */
#define NP_CALIB_LATENCY_TABLE_MAX_NODES 512u
const double *np_topology_latency_table(const np_topology *topo);
/* Speed of one of a core's two threads while the other is busy:
 * (1 + yield) / 2. */
double np_calib_smt_shared_speed(void);

#endif
