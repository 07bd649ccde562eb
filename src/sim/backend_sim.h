/*
 * sim/backend_sim.h - the simulator behind the np_backend interface.
 */
#ifndef NP_SIM_BACKEND_SIM_H
#define NP_SIM_BACKEND_SIM_H

#include "sim/state.h"

int sim_backend_create(np_sim *sim, np_backend **out);

#endif
