/*
 * sim/sense_cache.h - a remembered host snapshot for the place.h policies
 * ("xl42-hard", "xl42-soft", "numaplace-soft").
 *
 * Sensing the whole host through the backend costs time in proportion to
 * the guests already running, so sensing at every arrival makes filling a
 * host quadratic: a 256-node host taking 1500 guests spent minutes in
 * np_backend_sense. With a cache passed as the policy's `self`, a policy
 * senses at most once per SIM_SENSE_REFRESH_NS of simulated time and
 * between two senses adds its own decisions to the snapshot
 * (np_placement_commit), which is what a placement daemon knows anyway.
 * Between refreshes it misses departures, balloon changes and demand
 * measured since; 100 ms is far below the seconds those take to matter.
 * A sensed state knows no specs (np_backend_sense marks every guest
 * no_autoplace), so the cache also keeps the spec of every guest it
 * placed and puts them back into each fresh snapshot
 * (np_balance_restate): without them an arriving guest placed right after
 * a refresh would not see its affinity group's members.
 * With self NULL the policies sense at every arrival and know no groups.
 */
#ifndef NP_SIM_SENSE_CACHE_H
#define NP_SIM_SENSE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/hoststate.h>
#include <numaplace/sim.h>

#include "sim/spec_table.h"

#define SIM_SENSE_REFRESH_NS UINT64_C(100000000) /* 100 ms of simulated time */

typedef struct sim_sense_cache {
    np_host_state *st; /* NULL until the first arrival */
    uint64_t sensed_ns;
    sim_spec_table specs; /* of the guests placed */
} sim_sense_cache;

/* Whether the policy takes a sim_sense_cache as its self. */
bool sim_policy_takes_sense_cache(const np_sim_policy *policy);
void sim_sense_cache_fini(sim_sense_cache *c);

#endif
