/*
 * sim/calib.h - the memory-system calibration: latency ratio between
 * nodes, per-node bandwidth, and latency under load.
 *
 * The figures and their sources are in docs/simulator.md ("Calibration").
 */
#ifndef NP_SIM_CALIB_H
#define NP_SIM_CALIB_H

#include "sim/state.h"

/* Idle DRAM latency on a 2-socket Xeon Scalable host: 89 ns local, 139 ns
 * remote (qdpma.com, "The Case for Single Processor"). */
#define NP_SIM_LOCAL_LATENCY_NS 89.0
#define NP_SIM_REMOTE_LATENCY_NS 139.0
/* SLIT distance of the remote socket on such hosts. */
#define NP_SIM_REMOTE_SLIT 21.0
#define NP_SIM_LOCAL_SLIT 10.0
/* Latency ratio per SLIT unit above local: (139/89 - 1) / (21 - 10). */
#define NP_SIM_LATENCY_PER_DISTANCE ((NP_SIM_REMOTE_LATENCY_NS / NP_SIM_LOCAL_LATENCY_NS - 1.0) / \
                                     (NP_SIM_REMOTE_SLIT - NP_SIM_LOCAL_SLIT))
/* Per-node memory bandwidth without HMAT data: six DDR4-2666 channels
 * deliver ~90 GB/s in practice (Microway, "Performance characteristics of
 * common transports and buses"). */
#define NP_SIM_NODE_BANDWIDTH_BPS UINT64_C(90000000000)
/* Remote / local read bandwidth, Xeon Platinum 8160: ~34 / ~112 GB/s. */
#define NP_SIM_REMOTE_BANDWIDTH_RATIO (34.0 / 112.0)
/* One core streaming from memory: ~12 GB/s (single-thread STREAM on a
 * Skylake-SP core); a vCPU draws intensity x this while it runs. */
#define NP_SIM_CORE_BANDWIDTH_BPS UINT64_C(12000000000)
/* Loaded latency: factor 1 + K u / (1 - u), u capped at U_CAP. K is chosen
 * so that at U_CAP the factor matches Intel MLC's peak-injection latency
 * of 412.8 ns against 95.3 ns idle (4.33x). */
#define NP_SIM_CONTENTION_U_CAP 0.97
#define NP_SIM_CONTENTION_K ((412.8 / 95.3 - 1.0) * (1.0 - NP_SIM_CONTENTION_U_CAP) / \
                             NP_SIM_CONTENTION_U_CAP)

/* Fills sim->lat, sim->near and the nodes' bandwidth; -ENOMEM. */
int sim_calib_init(np_sim *sim);
/* Latency multiplier of a memory controller (or link) at utilisation u. */
double sim_contention(double u);

#endif
