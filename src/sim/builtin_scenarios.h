/*
 * sim/builtin_scenarios.h - the built-in benchmark suite: the bytes of
 * bench/scenarios/NN-NAME.json, compiled in by cmake/embed-scenarios.cmake
 * (the generated np_scenarios.c defines the table).
 */
#ifndef NP_SIM_BUILTIN_SCENARIOS_H
#define NP_SIM_BUILTIN_SCENARIOS_H

#include <stddef.h>

typedef struct np_embedded_scenario {
    const char *file; /* base name under bench/scenarios/ */
    const char *name; /* the file's name without its order prefix "NN-" and ".json" */
    const char *text;
    size_t len;
} np_embedded_scenario;

extern const np_embedded_scenario np_embedded_scenarios[];
extern const size_t np_nr_embedded_scenarios;

#endif
