/*
 * sim/guest.h - guests' life in the simulator: arrival, placement through
 * the policy slot (or an explicit plan), balloon steps.
 */
#ifndef NP_SIM_GUEST_H
#define NP_SIM_GUEST_H

#include "sim/state.h"

/* The guest's timer fired: arrival and/or balloon steps that are due. */
void sim_guest_timer(np_sim *sim, uint32_t gidx);
/* Frees what a guest owns (not the guest slot itself). */
void sim_guest_fini(sim_guest *g);
/* A log line through config.log. */
void sim_log(np_sim *sim, np_log_level level, const char *msg);

#endif
