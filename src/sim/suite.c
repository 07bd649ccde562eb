/*
 * sim/suite.c - plays a scenario (simsuite.h) in the simulator under one
 * policy, and the built-in suite: the embedded bench/scenarios/NN-NAME.json.
 *
 * A run builds the host, adds every guest instance with its arrival,
 * departure, traffic and balloon schedule before the clock starts, runs
 * to the scenario's end and reads the host's figures and time series.
 * Throughput is work done over the whole run divided by its length, in
 * vCPU-equivalents at full local speed; every policy sees the same
 * guests, the same arrival times and the same per-vCPU random demand
 * (the simulator draws it from the seed), so the ratio of two policies'
 * throughput measures placement alone.
 */
#include <numaplace/simsuite.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/bench.h>
#include <numaplace/sim.h>
#include <numaplace/topology.h>

#include "sim/builtin_scenarios.h"
#include "sim/scenario_int.h"
#include "sim/sense_cache.h"
#include "util/error.h"

/* Generated hosts ("gen:N"), as in `numaplace bench place`: 8 cores x 2
 * threads and 64 GiB per node, one sub-NUMA cluster of a current server. */
#define SUITE_GEN_CORES 8u
#define SUITE_GEN_MEM_BYTES (UINT64_C(64) << 30)
#define SUITE_POLICY_BALANCE "numaplace-balance"

static const char *const suite_policies[] = {
    "none", "xl42-hard", "xl42-soft", "numaplace-soft", SUITE_POLICY_BALANCE,
};
#define NR_SUITE_POLICIES (sizeof(suite_policies) / sizeof(suite_policies[0]))

size_t np_sim_suite_policies(const char **names_out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < NR_SUITE_POLICIES; i++) {
        const np_sim_policy *p;
        if (np_sim_policy_find(suite_policies[i], &p) != 0)
            continue; /* the balancer's policy, before it exists */
        if (names_out && n < max)
            names_out[n] = suite_policies[i];
        n++;
    }
    return n;
}

size_t np_sim_builtin_count(void)
{
    return np_nr_embedded_scenarios;
}

/* A built-in's name is its file's without the order prefix "NN-" and
 * ".json"; the scenario's "name" key says the same (a unit test checks). */
const char *np_sim_builtin_name(size_t i)
{
    return i < np_nr_embedded_scenarios ? np_embedded_scenarios[i].name : NULL;
}

int np_sim_scenario_open(const char *name_or_path, np_sim_scenario **out, np_error *err)
{
    if (!name_or_path || !out)
        return -EINVAL;
    for (size_t i = 0; i < np_nr_embedded_scenarios; i++) {
        if (strcmp(np_embedded_scenarios[i].name, name_or_path) == 0)
            return np_sim_scenario_parse(np_embedded_scenarios[i].text,
                                         np_embedded_scenarios[i].len,
                                         np_embedded_scenarios[i].file, out, err);
    }
    int rc = np_sim_scenario_load(name_or_path, out, err);
    /* A bare word that is no file was meant as a built-in's name. */
    if (rc == -ENOENT && !strchr(name_or_path, '/') && !strstr(name_or_path, ".json"))
        return np_error_set(err, name_or_path, 0,
                            "no built-in scenario of that name (numaplace bench --list)");
    return rc;
}

static int open_host(const char *host, np_topology **out, np_error *err)
{
    if (strncmp(host, "gen:", 4) == 0) {
        char *end = NULL;
        unsigned long nodes = strtoul(host + 4, &end, 10);
        if (!end || *end || nodes == 0 || nodes > NP_TOPO_MAX_NODES)
            return np_error_set(err, host, 0, "expected gen:NODES with 1..%u nodes",
                                NP_TOPO_MAX_NODES);
        np_topo_gen g;
        np_topo_gen_init(&g, nodes, SUITE_GEN_CORES, SUITE_GEN_MEM_BYTES);
        g.name = host;
        return np_topology_generate(&g, out, err);
    }
    if (strchr(host, ':') || strchr(host, '/'))
        return np_topology_open(host, NP_TOPO_FMT_AUTO, out, err);
    return np_topology_builtin(host, out, err);
}

/* Instances of one talk group talk all-pairs, each pair with an equal
 * share of the guest's traffic. Groups are consecutive instances. */
static int add_traffic(np_sim *sim, const np_sim_scenario *sc, const size_t *gidx)
{
    size_t i = 0;
    while (i < sc->nr_guests) {
        size_t j = i + 1;
        uint32_t grp = sc->guests[i].talk_group;
        while (grp && j < sc->nr_guests && sc->guests[j].talk_group == grp)
            j++;
        double w = j - i > 1 ? 1.0 / (double)(j - i - 1) : 0;
        for (size_t a = i; a < j && grp; a++) {
            for (size_t b = a + 1; b < j; b++) {
                int rc = np_sim_add_traffic(sim, gidx[a], gidx[b], w);
                if (rc)
                    return rc;
            }
        }
        i = j;
    }
    return 0;
}

static int collect(np_sim *sim, const np_sim_scenario *sc, np_sim_run_result *out)
{
    np_sim_host_metrics hm;
    int rc = np_sim_host_metrics_get(sim, &hm);
    if (rc)
        return rc;
    out->throughput = hm.work_ns / (double)sc->duration_ns;
    out->remote_ratio = hm.remote_ratio;
    out->cpu_util = hm.cpu_util;
    out->fairness = hm.fairness_progress;
    out->guests_rejected = hm.guests_rejected;
    out->node_migrations = hm.node_migrations;
    out->pages_migrated = hm.pages_migrated;
    out->events = hm.events;
    size_t n = np_sim_nr_samples(sim);
    out->t_s = calloc(n ? n : 1, sizeof(double));
    out->work_rate = calloc(n ? n : 1, sizeof(double));
    out->remote_series = calloc(n ? n : 1, sizeof(double));
    if (!out->t_s || !out->work_rate || !out->remote_series)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        np_sim_sample s;
        rc = np_sim_sample_get(sim, i, &s);
        if (rc)
            return rc;
        out->t_s[i] = (double)s.t_ns / 1e9;
        out->work_rate[i] = s.work_rate;
        out->remote_series[i] = s.remote_ratio;
    }
    out->nr_samples = n;
    return 0;
}

int np_sim_scenario_run(const np_sim_scenario *sc, const char *policy, uint64_t seed,
                        np_sim_run_result *out, np_error *err)
{
    np_topology *topo = NULL;
    np_sim *sim = NULL;
    size_t *gidx = NULL;
    const np_sim_policy *pol = NULL;
    sim_sense_cache cache = {0};
    np_sim_config cfg;
    int rc;

    if (!sc || !policy || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    rc = np_sim_policy_find(policy, &pol);
    if (rc) {
        np_error_set(err, policy, 0, "no simulator policy of that name");
        return -ENOENT;
    }
    rc = open_host(sc->host, &topo, err);
    if (rc)
        goto out;
    np_sim_config_init(&cfg);
    cfg.seed = seed ? seed : sc->seed;
    cfg.share_mode = sc->share;
    cfg.sample_ns = sc->sample_ns;
    rc = np_sim_create(topo, &cfg, &sim);
    if (!rc)
        rc = np_sim_set_policy(sim, pol, sim_policy_takes_sense_cache(pol) ? &cache : NULL);
    gidx = calloc(sc->nr_guests ? sc->nr_guests : 1, sizeof(*gidx));
    if (!rc && !gidx)
        rc = -ENOMEM;
    for (size_t i = 0; i < sc->nr_guests && !rc; i++) {
        const sc_guest *g = &sc->guests[i];
        rc = np_sim_add_guest(sim, &g->g, &gidx[i], err);
        if (rc == -EINVAL)
            np_error_set(err, sc->name, 0, "guest %s: %s", g->g.spec.name, err ? err->msg : "");
        for (size_t b = 0; b < g->nr_balloon && !rc; b++)
            rc = np_sim_balloon_at(sim, gidx[i], g->balloon[b].at_ns, g->balloon[b].mem_bytes);
        if (!rc && g->leave_ns && g->leave_ns < sc->duration_ns)
            rc = np_sim_depart_at(sim, gidx[i], g->leave_ns);
    }
    if (!rc)
        rc = add_traffic(sim, sc, gidx);
    if (!rc)
        rc = np_sim_run(sim, sc->duration_ns);
    if (!rc)
        rc = collect(sim, sc, out);
out:
    if (rc)
        np_sim_run_result_fini(out);
    free(gidx);
    np_sim_destroy(sim);
    sim_sense_cache_fini(&cache);
    np_topology_destroy(topo);
    return rc;
}

void np_sim_run_result_fini(np_sim_run_result *r)
{
    if (!r)
        return;
    free(r->t_s);
    free(r->work_rate);
    free(r->remote_series);
    memset(r, 0, sizeof(*r));
}
