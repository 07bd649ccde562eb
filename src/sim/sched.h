/*
 * sim/sched.h - the hypervisor CPU scheduler: a model of Xen's credit1
 * (xen/common/sched/credit.c) with its soft-affinity balancing steps.
 *
 * Every pCPU has a run queue ordered by priority (BOOST > UNDER > OVER),
 * FIFO within a priority. Credits are earned every accounting period
 * (the time slice, 30 ms) in proportion to the guests' weights and burnt
 * by running; a vCPU with credit left is UNDER, without it OVER, and a
 * vCPU that wakes while UNDER is boosted until its next tick. A pCPU
 * whose best local candidate is OVER or that has nothing to run steals
 * from other pCPUs' queues, node by node starting from its own, first
 * only vCPUs whose soft affinity includes it, then any whose hard affinity
 * does. A waking vCPU tickles an idle pCPU in its soft affinity, else in
 * its hard affinity; every tick re-picks a CPU for the running vCPU so
 * that a vCPU running outside its soft affinity returns when a preferred
 * CPU goes idle.
 */
#ifndef NP_SIM_SCHED_H
#define NP_SIM_SCHED_H

#include "sim/state.h"

int sim_sched_init(np_sim *sim);
/* Sets a vCPU's masks before it first runs (soft SIM_NONE = none). */
int sim_sched_init_vcpu_masks(np_sim *sim, sim_vcpu *v, uint32_t hard, uint32_t soft);
/* A blocked vCPU's wake timer fired (or its guest was admitted). */
void sim_sched_vcpu_wake(np_sim *sim, uint32_t vid);
/* A pCPU's timer fired: tick, end of slice or burst, or a tickle. */
void sim_sched_pcpu_timer(np_sim *sim, uint32_t cpu);
/* The accounting period: hand out credits, re-prioritise. */
void sim_sched_acct(np_sim *sim);
/* New affinity of a live vCPU; moves it when it must. */
int sim_sched_set_affinity(np_sim *sim, uint32_t vid, uint32_t hard, uint32_t soft);
/* Charge every running vCPU up to now (end of a run: metrics are exact). */
void sim_sched_settle(np_sim *sim);

#endif
