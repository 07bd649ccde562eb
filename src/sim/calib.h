/*
 * sim/calib.h - the memory-system calibration: latency ratio between
 * nodes, per-node bandwidth, and latency under load.
 *
 * The figures and their sources are in docs/simulator.md ("Calibration").
 */
#ifndef NP_SIM_CALIB_H
#define NP_SIM_CALIB_H

#include "model/calibration.h"
#include "sim/state.h"

/* The figures live in data/calibration.conf (source and status of each),
 * compiled in by src/model/calibration.h, which placement reads too. */
#define NP_SIM_LOCAL_LATENCY_NS NP_CALIB_LOCAL_LATENCY_NS
/* 0: latency ratios by the calibration's SLIT classes (as placement);
 * a positive config.latency_per_distance replaces them by
 * 1 + slope x (d - local), for experiments. */
#define NP_SIM_LATENCY_PER_DISTANCE 0.0
#define NP_SIM_NODE_BANDWIDTH_BPS ((uint64_t)(NP_CALIB_NODE_BW_GBPS * 1e9))
#define NP_SIM_REMOTE_BANDWIDTH_RATIO NP_CALIB_REMOTE_BW_RATIO
#define NP_SIM_CORE_BANDWIDTH_BPS ((uint64_t)(NP_CALIB_CORE_BW_GBPS * 1e9))
/* Loaded latency: factor 1 + K u / (1 - u), u capped at U_CAP. K is chosen
 * so that at U_CAP the factor matches the calibration's peak-injection
 * latency ratio (Intel MLC 412.8 ns against 95.3 ns idle, 4.33x). */
#define NP_SIM_CONTENTION_U_CAP 0.97
#define NP_SIM_CONTENTION_K ((NP_CALIB_LOADED_LATENCY_RATIO - 1.0) * \
                             (1.0 - NP_SIM_CONTENTION_U_CAP) / NP_SIM_CONTENTION_U_CAP)

/* Fills sim->lat, sim->near and the nodes' bandwidth; -ENOMEM. */
int sim_calib_init(np_sim *sim);
/* Latency multiplier of a memory controller (or link) at utilisation u. */
double sim_contention(double u);

#endif
