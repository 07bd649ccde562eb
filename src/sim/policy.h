/*
 * sim/policy.h - the built-in policies of the simulator's policy slot.
 *
 * A policy is one file defining a `const np_sim_policy`; adding it to the
 * table in policy.c makes it selectable by name. Policies see the host
 * only through the public API (np_sim_* queries, np_backend operations).
 */
#ifndef NP_SIM_POLICY_H
#define NP_SIM_POLICY_H

#include <numaplace/sim.h>

extern const np_sim_policy np_sim_policy_none;
extern const np_sim_policy np_sim_policy_first_touch;
extern const np_sim_policy np_sim_policy_simple_hard;
extern const np_sim_policy np_sim_policy_simple_soft;
extern const np_sim_policy np_sim_policy_xl42_hard;
extern const np_sim_policy np_sim_policy_xl42_soft;
extern const np_sim_policy np_sim_policy_numaplace_soft;

#endif
