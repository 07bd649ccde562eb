/*
 * sim/workload.h - how fast a vCPU progresses where it runs, and the
 * demand it generates.
 *
 * Progress model: a vCPU does "work" measured in ns of CPU at full local
 * speed. Running on node n it spends, per unit of work,
 *     (1 - c - i) * ((1 - m) + m * M(n))  +  c * C(n)  +  i * I(n)
 * ns, where m is its memory intensity, c and i its guest's communication
 * and IO shares, M(n) the average memory latency it sees relative to idle
 * local (its pages' nodes, the distance ratios and contention), C(n) the
 * relative cost of talking to its peers and I(n) that of reaching its IO
 * device. Its rate is the inverse. All local and idle: rate 1.
 */
#ifndef NP_SIM_WORKLOAD_H
#define NP_SIM_WORKLOAD_H

#include "sim/state.h"

/* Share of the guest's accesses that go to node k (pages, and page
 * sharing's redirection to another node's copy). */
double sim_guest_access_frac(const np_sim *sim, const sim_guest *g, uint32_t k);
/* The vCPU's rate on `node` (and the share of its accesses that leave
 * the node), computed now. */
double sim_vcpu_rate_on(np_sim *sim, const sim_vcpu *v, uint32_t node, double *remote_out);
/* Sets v->rate and v->remote_frac for running on `node` (cached). */
void sim_vcpu_refresh_rate(np_sim *sim, sim_vcpu *v, uint32_t node);
/* Adds the vCPU's pending per-node run time to its guest's table. */
void sim_vcpu_flush_run_node(np_sim *sim, sim_vcpu *v);
/* Charges `elapsed_ns` of CPU on `node`: stall first, then work at the
 * current rate; credits, metrics and bandwidth demand follow. */
void sim_vcpu_account(np_sim *sim, sim_vcpu *v, uint32_t node, uint64_t elapsed_ns);
/* Time until the current burst ends if it keeps running: stall + work. */
uint64_t sim_vcpu_time_to_finish(const sim_vcpu *v);
/* A new burst (work) and a think time, from the vCPU's own stream. */
void sim_vcpu_new_burst(sim_vcpu *v);
uint64_t sim_vcpu_think_ns(sim_vcpu *v);
/* A burst counts as finished below this much work (float rounding). */
#define SIM_WORK_EPS 0.5

#endif
