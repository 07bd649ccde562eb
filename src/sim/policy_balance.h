/*
 * sim/policy_balance.h - "numaplace-balance" with chosen balancer knobs.
 *
 * Selected by name (np_sim_policy_find), the policy makes its own state
 * with the default np_balance_config. A test or a benchmark that wants
 * other knobs makes the state here and hands it to np_sim_set_policy as
 * `self`; it then owns it and destroys it after the simulator.
 */
#ifndef NP_SIM_POLICY_BALANCE_H
#define NP_SIM_POLICY_BALANCE_H

#include <numaplace/balance.h>
#include <numaplace/sim.h>

extern const np_sim_policy np_sim_policy_numaplace_balance;

typedef struct np_sim_balance_policy np_sim_balance_policy;

/* cfg NULL = defaults. */
int np_sim_balance_policy_create(const np_balance_config *cfg, np_sim_balance_policy **out);
void np_sim_balance_policy_destroy(np_sim_balance_policy *self);
/* The balancer's state (hold-offs, homes), for inspection. */
const np_balance_state *np_sim_balance_policy_state(const np_sim_balance_policy *self);
/* Actions applied so far, and of them migrations and bytes moved. */
uint64_t np_sim_balance_policy_actions(const np_sim_balance_policy *self);
uint64_t np_sim_balance_policy_moved_bytes(const np_sim_balance_policy *self);

#endif
