/*
 * sim/scenario_int.h - a parsed simulator scenario (simsuite.h): the
 * host, the run and every guest instance, "count" already expanded, all
 * times in ns and sizes in bytes. Shared by the reader (scenario_file.c)
 * and the runner (suite.c).
 */
#ifndef NP_SIM_SCENARIO_INT_H
#define NP_SIM_SCENARIO_INT_H

#include <numaplace/guest.h>
#include <numaplace/sim.h>
#include <numaplace/simsuite.h>

#define SC_NAME_MAX 64
#define SC_SUMMARY_MAX 256
#define SC_HOST_MAX 256

typedef struct sc_balloon {
    uint64_t at_ns;
    uint64_t mem_bytes;
} sc_balloon;

typedef struct sc_guest {
    np_sim_guest g;       /* spec, load, start_ns, fractions, sharing */
    uint64_t leave_ns;    /* 0 = stays */
    uint32_t talk_group;  /* 0 = none; instances with one id talk all-pairs */
    sc_balloon *balloon;  /* owned */
    size_t nr_balloon;
} sc_guest;

struct np_sim_scenario {
    char name[SC_NAME_MAX];
    char summary[SC_SUMMARY_MAX];
    char host[SC_HOST_MAX];
    uint64_t duration_ns;
    uint64_t sample_ns;
    uint64_t seed;
    np_sim_share_mode share;
    sc_guest *guests;
    size_t nr_guests;
};

#endif
