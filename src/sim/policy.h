/*
 * sim/policy.h - the built-in policies of the simulator's policy slot.
 *
 * A policy is one file defining a `const np_sim_policy`; adding it to the
 * table in policy.c makes it selectable by name. Policies see the host
 * only through the public API (np_sim_* queries, np_backend operations).
 */
#ifndef NP_SIM_POLICY_H
#define NP_SIM_POLICY_H

#include <numaplace/balance.h>
#include <numaplace/sim.h>

extern const np_sim_policy np_sim_policy_none;
extern const np_sim_policy np_sim_policy_first_touch;
extern const np_sim_policy np_sim_policy_simple_hard;
extern const np_sim_policy np_sim_policy_simple_soft;
extern const np_sim_policy np_sim_policy_xl42_hard;
extern const np_sim_policy np_sim_policy_xl42_soft;
extern const np_sim_policy np_sim_policy_numaplace_soft;

/* numaplace's placement with soft affinity on a fresh sense whose guests'
 * specs are put back with lookup (np_balance_restate): a sensed state
 * knows no specs, so without them the new guest would not see its
 * affinity group's members and colocation would be lost. */
int sim_place_numaplace_restated(np_sim *sim, const np_guest_spec *spec,
                                 np_balance_spec_lookup lookup, void *opaque, np_sim_plan *plan,
                                 np_error *err);

#endif
