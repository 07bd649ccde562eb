/*
 * numaplace/simsuite.h - simulator scenarios as files and the standard
 * benchmark suite that compares placement policies on them.
 *
 * A scenario (JSON, schema "numaplace.sim-scenario/1", documented in
 * docs/benchmarking.md) names a host, a duration, a seed and the guests
 * that arrive and leave: their size, workload, traffic, IO device node,
 * balloon schedule and page sharing. np_sim_scenario_run() plays one
 * scenario under one simulator policy and returns throughput and the
 * remote-access ratio, in total and as a time series. The built-in suite
 * is the JSON files of bench/scenarios/, compiled into the library, so an
 * installed numaplace runs it without its source tree.
 *
 * Everything is simulated time: the same scenario, policy and seed give
 * the same numbers, bit for bit.
 */
#ifndef NUMAPLACE_SIMSUITE_H
#define NUMAPLACE_SIMSUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NP_SIM_SCENARIO_SCHEMA "numaplace.sim-scenario/1"

typedef struct np_sim_scenario np_sim_scenario;

/* Parses a scenario; errors name origin and the line of the bad value. */
int np_sim_scenario_parse(const char *text, size_t len, const char *origin,
                          np_sim_scenario **out, np_error *err);
int np_sim_scenario_load(const char *path, np_sim_scenario **out, np_error *err);
void np_sim_scenario_destroy(np_sim_scenario *sc);
const char *np_sim_scenario_name(const np_sim_scenario *sc);
const char *np_sim_scenario_summary(const np_sim_scenario *sc);
const char *np_sim_scenario_host(const np_sim_scenario *sc);
/* Guests after expanding "count" (instances). */
size_t np_sim_scenario_nr_guests(const np_sim_scenario *sc);
uint64_t np_sim_scenario_duration_ns(const np_sim_scenario *sc);
uint64_t np_sim_scenario_seed(const np_sim_scenario *sc);

/* The built-in suite, in its fixed order. */
size_t np_sim_builtin_count(void);
const char *np_sim_builtin_name(size_t i);
/* A built-in by name, or (when `name_or_path` names none) a file. */
int np_sim_scenario_open(const char *name_or_path, np_sim_scenario **out, np_error *err);

/* The policies the suite compares, in column order: "none", "xl42-hard",
 * "xl42-soft", "numaplace-soft" and "numaplace-balance" when the
 * simulator's policy table has it. */
size_t np_sim_suite_policies(const char **names_out, size_t max);

typedef struct np_sim_run_result {
    double throughput;     /* mean work rate: vCPU-equivalents at full local speed */
    double remote_ratio;   /* remote memory accesses / all, whole run */
    double cpu_util;
    double fairness;       /* Jain index of the guests' progress */
    size_t guests_rejected;
    uint64_t node_migrations; /* vCPU moves across nodes */
    uint64_t pages_migrated;
    uint64_t events;
    size_t nr_samples;     /* time series, every sample period */
    double *t_s;           /* end of each period, seconds */
    double *work_rate;     /* vCPU-equivalents in the period */
    double *remote_series; /* remote ratio in the period */
} np_sim_run_result;

/* Plays the scenario under the policy. seed 0 = the scenario's own seed.
 * -ENOENT (and err) for an unknown policy. */
int np_sim_scenario_run(const np_sim_scenario *sc, const char *policy, uint64_t seed,
                        np_sim_run_result *out, np_error *err);
void np_sim_run_result_fini(np_sim_run_result *r);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_SIMSUITE_H */
