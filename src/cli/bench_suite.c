/*
 * cli/bench_suite.c - `numaplace bench [suite]`: plays simulator scenarios
 * (the built-in suite, or named ones, or files) under each placement
 * policy and prints a table, rows scenarios and columns policies, each
 * cell the throughput relative to no placement and the remote-access
 * ratio; optionally JSON, a CSV and SVG charts. And `numaplace bench
 * engine`: the simulator's own speed. docs/benchmarking.md explains the
 * method and how to read the output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/sim.h>
#include <numaplace/simsuite.h>

#include "bench_suite.h"
#include "cli.h"

#define SUITE_MAX_SCENARIOS 64
#define SUITE_MAX_POLICIES 16
#define SUITE_REF_POLICY "none" /* throughput is relative to no placement */
#define SUITE_PROGRESS_WIDTH 30 /* characters of the progress bar */
#define SUITE_PATH_MAX 4096

void bench_suite_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace bench [suite] [--scenario NAME|FILE]... [--policy P]...\n"
            "                       [--seed N] [--json] [--csv FILE] [--svg DIR]\n"
            "       numaplace bench --list\n\n"
            "Play simulator scenarios under each placement policy: rows are scenarios,\n"
            "columns policies, each cell the throughput relative to no placement (x) and\n"
            "the share of memory accesses that were remote.\n\n"
            "  --list            print the built-in scenarios, one per line\n"
            "  --scenario S      a built-in scenario's name or a scenario file\n"
            "                    (numaplace.sim-scenario/1); repeat for several.\n"
            "                    Default: the whole built-in suite\n"
            "  --policy P        a simulator policy; repeat for several. Default: none,\n"
            "                    xl42-hard, xl42-soft, numaplace-soft and, when built in,\n"
            "                    numaplace-balance\n"
            "  --seed N          replaces every scenario's seed (default: the scenario's)\n"
            "  --json            machine-readable output (schema numaplace.bench-suite/1)\n"
            "  --csv FILE        also write one row per scenario and policy\n"
            "  --svg DIR         also write charts: throughput.svg, remote.svg and\n"
            "                    remote-time-SCENARIO.svg, and timeseries.csv\n\n"
            "Everything is simulated: the same seed gives the same numbers on any machine.\n");
}

typedef struct suite_run {
    np_sim_scenario *sc[SUITE_MAX_SCENARIOS];
    size_t nr_sc;
    const char *pol[SUITE_MAX_POLICIES];
    size_t nr_pol;
    size_t ref;      /* index of the reference policy in res columns */
    bool ref_extra;  /* the reference was not asked for: run, not shown */
    np_sim_run_result *res; /* [sc][nr_pol + ref_extra] */
    uint64_t seed;
} suite_run;

static size_t cols(const suite_run *s)
{
    return s->nr_pol + (s->ref_extra ? 1 : 0);
}

static np_sim_run_result *cell(const suite_run *s, size_t i, size_t p)
{
    return &s->res[i * cols(s) + p];
}

static double rel(const suite_run *s, size_t i, size_t p)
{
    double ref = cell(s, i, s->ref)->throughput;
    return ref > 0 ? cell(s, i, p)->throughput / ref : 0;
}

static void progress(size_t done, size_t total, const char *sc, const char *pol)
{
    int fill = (int)(SUITE_PROGRESS_WIDTH * done / (total ? total : 1));
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-20.20s %-18.18s", fill,
            "##############################", SUITE_PROGRESS_WIDTH - fill, "", done, total,
            sc ? sc : "", pol ? pol : "");
    if (done == total)
        fprintf(stderr, "\r%*s\r", SUITE_PROGRESS_WIDTH + 50, "");
    fflush(stderr);
}

static int write_csv(const suite_run *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_errorf("%s: %s", path, strerror(errno));
        return NP_EXIT_USAGE;
    }
    fprintf(f, "scenario,host,guests,policy,seed,throughput,throughput_rel,remote_ratio,"
               "cpu_util,fairness,rejected,node_migrations,pages_migrated,events\n");
    for (size_t i = 0; i < s->nr_sc; i++) {
        for (size_t p = 0; p < s->nr_pol; p++) {
            const np_sim_run_result *r = cell(s, i, p);
            fprintf(f, "%s,%s,%zu,%s,%" PRIu64 ",%.6f,%.6f,%.6f,%.6f,%.6f,%zu,%" PRIu64
                       ",%" PRIu64 ",%" PRIu64 "\n",
                    np_sim_scenario_name(s->sc[i]), np_sim_scenario_host(s->sc[i]),
                    np_sim_scenario_nr_guests(s->sc[i]), s->pol[p],
                    s->seed ? s->seed : np_sim_scenario_seed(s->sc[i]), r->throughput,
                    rel(s, i, p), r->remote_ratio, r->cpu_util, r->fairness, r->guests_rejected,
                    r->node_migrations, r->pages_migrated, r->events);
        }
    }
    if (fclose(f) != 0) {
        cli_errorf("%s: %s", path, strerror(errno));
        return NP_EXIT_USAGE;
    }
    return NP_EXIT_OK;
}

static int write_svgs(const suite_run *s, const char *dir)
{
    char path[SUITE_PATH_MAX];
    const char *groups[SUITE_MAX_SCENARIOS];
    size_t n = s->nr_sc * s->nr_pol;
    double *tp = calloc(n ? n : 1, sizeof(double));
    double *rr = calloc(n ? n : 1, sizeof(double));
    int rc = NP_EXIT_OK;

    if (!tp || !rr) {
        rc = NP_EXIT_INTERNAL;
        goto out;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_errorf("%s: %s", dir, strerror(errno));
        rc = NP_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < s->nr_sc; i++) {
        groups[i] = np_sim_scenario_name(s->sc[i]);
        for (size_t p = 0; p < s->nr_pol; p++) {
            tp[i * s->nr_pol + p] = rel(s, i, p);
            rr[i * s->nr_pol + p] = cell(s, i, p)->remote_ratio;
        }
    }
    snprintf(path, sizeof(path), "%s/throughput.svg", dir);
    if (bench_svg_bars(path, "Throughput relative to no placement (higher is better)",
                       "throughput / none", groups, s->nr_sc, s->pol, s->nr_pol, tp, 1.0))
        goto fail;
    snprintf(path, sizeof(path), "%s/remote.svg", dir);
    if (bench_svg_bars(path, "Remote-access ratio over the whole run (lower is better)",
                       "remote accesses / all", groups, s->nr_sc, s->pol, s->nr_pol, rr, 0))
        goto fail;
    for (size_t i = 0; i < s->nr_sc; i++) {
        const double *xs[SUITE_MAX_POLICIES], *ys[SUITE_MAX_POLICIES];
        size_t lens[SUITE_MAX_POLICIES];
        char title[160];
        for (size_t p = 0; p < s->nr_pol; p++) {
            xs[p] = cell(s, i, p)->t_s;
            ys[p] = cell(s, i, p)->remote_series;
            lens[p] = cell(s, i, p)->nr_samples;
        }
        snprintf(title, sizeof(title), "%s: remote-access ratio over time", groups[i]);
        snprintf(path, sizeof(path), "%s/remote-time-%s.svg", dir, groups[i]);
        if (bench_svg_lines(path, title, "remote accesses / all", s->pol, s->nr_pol, xs, ys,
                            lens, 0.1))
            goto fail;
    }
    snprintf(path, sizeof(path), "%s/timeseries.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        goto fail;
    fprintf(f, "scenario,policy,t_s,work_rate,remote_ratio\n");
    for (size_t i = 0; i < s->nr_sc; i++)
        for (size_t p = 0; p < s->nr_pol; p++)
            for (size_t k = 0; k < cell(s, i, p)->nr_samples; k++)
                fprintf(f, "%s,%s,%.3f,%.6f,%.6f\n", groups[i], s->pol[p], cell(s, i, p)->t_s[k],
                        cell(s, i, p)->work_rate[k], cell(s, i, p)->remote_series[k]);
    if (fclose(f) != 0)
        goto fail;
    goto out;
fail:
    cli_errorf("%s: %s", path, strerror(errno));
    rc = NP_EXIT_USAGE;
out:
    free(tp);
    free(rr);
    return rc;
}

static void print_table(const suite_run *s)
{
    printf("%-20s", "scenario");
    for (size_t p = 0; p < s->nr_pol; p++)
        printf(" %17s", s->pol[p]);
    printf("\n");
    for (size_t i = 0; i < s->nr_sc; i++) {
        printf("%-20s", np_sim_scenario_name(s->sc[i]));
        for (size_t p = 0; p < s->nr_pol; p++)
            printf("      %5.3fx %5.3f", rel(s, i, p), cell(s, i, p)->remote_ratio);
        printf("\n");
    }
    printf("cells: throughput relative to %s (x), then the remote-access ratio (0..1).\n",
           SUITE_REF_POLICY);
}

static int print_json(const suite_run *s, const char *skipped)
{
    json_t *root = json_object(), *pols = json_array(), *rows = json_array();
    json_object_set_new(root, "schema", json_string("numaplace.bench-suite/1"));
    json_object_set_new(root, "seed", s->seed ? json_integer((json_int_t)s->seed) : json_null());
    for (size_t p = 0; p < s->nr_pol; p++)
        json_array_append_new(pols, json_string(s->pol[p]));
    json_object_set_new(root, "policies", pols);
    json_object_set_new(root, "skipped", skipped ? json_string(skipped) : json_null());
    for (size_t i = 0; i < s->nr_sc; i++) {
        json_t *row = json_object(), *res = json_array();
        json_object_set_new(row, "scenario", json_string(np_sim_scenario_name(s->sc[i])));
        json_object_set_new(row, "host", json_string(np_sim_scenario_host(s->sc[i])));
        json_object_set_new(row, "seed", json_integer((json_int_t)(
                                             s->seed ? s->seed : np_sim_scenario_seed(s->sc[i]))));
        json_object_set_new(row, "guests",
                            json_integer((json_int_t)np_sim_scenario_nr_guests(s->sc[i])));
        json_object_set_new(row, "duration_s",
                            json_real((double)np_sim_scenario_duration_ns(s->sc[i]) / 1e9));
        for (size_t p = 0; p < s->nr_pol; p++) {
            const np_sim_run_result *r = cell(s, i, p);
            json_t *o = json_object();
            json_object_set_new(o, "policy", json_string(s->pol[p]));
            json_object_set_new(o, "throughput", json_real(r->throughput));
            json_object_set_new(o, "throughput_rel", json_real(rel(s, i, p)));
            json_object_set_new(o, "remote_ratio", json_real(r->remote_ratio));
            json_object_set_new(o, "cpu_util", json_real(r->cpu_util));
            json_object_set_new(o, "fairness", json_real(r->fairness));
            json_object_set_new(o, "rejected", json_integer((json_int_t)r->guests_rejected));
            json_object_set_new(o, "node_migrations", json_integer((json_int_t)r->node_migrations));
            json_object_set_new(o, "pages_migrated", json_integer((json_int_t)r->pages_migrated));
            json_object_set_new(o, "events", json_integer((json_int_t)r->events));
            json_array_append_new(res, o);
        }
        json_object_set_new(row, "results", res);
        json_array_append_new(rows, row);
    }
    json_object_set_new(root, "scenarios", rows);
    return cli_print_json(root);
}

static int run_all(suite_run *s, bool show_progress)
{
    size_t total = s->nr_sc * cols(s), done = 0;
    for (size_t i = 0; i < s->nr_sc; i++) {
        for (size_t p = 0; p < cols(s); p++) {
            const char *pol = p < s->nr_pol ? s->pol[p] : SUITE_REF_POLICY;
            np_error err = {0};
            if (show_progress)
                progress(done, total, np_sim_scenario_name(s->sc[i]), pol);
            int rc = np_sim_scenario_run(s->sc[i], pol, s->seed, cell(s, i, p), &err);
            if (rc) {
                if (show_progress)
                    fprintf(stderr, "\n");
                return cli_fail(rc, &err);
            }
            done++;
        }
    }
    if (show_progress)
        progress(done, total, NULL, NULL);
    return NP_EXIT_OK;
}

int bench_suite(int argc, char **argv)
{
    static const struct option opts[] = {
        {"list", no_argument, NULL, 'l'},      {"scenario", required_argument, NULL, 'S'},
        {"policy", required_argument, NULL, 'p'}, {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},      {"csv", required_argument, NULL, 'c'},
        {"svg", required_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *names[SUITE_MAX_SCENARIOS];
    size_t nr_names = 0;
    suite_run s = {0};
    const char *csv = NULL, *svg = NULL, *skipped = NULL;
    bool json = false, list = false;
    int c, rc = NP_EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "lS:p:s:jc:v:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': list = true; break;
        case 'S':
            if (nr_names == SUITE_MAX_SCENARIOS) {
                cli_errorf("bench: at most %d --scenario options", SUITE_MAX_SCENARIOS);
                return NP_EXIT_USAGE;
            }
            names[nr_names++] = optarg;
            break;
        case 'p': {
            const np_sim_policy *pol;
            if (s.nr_pol == SUITE_MAX_POLICIES) {
                cli_errorf("bench: at most %d --policy options", SUITE_MAX_POLICIES);
                return NP_EXIT_USAGE;
            }
            if (np_sim_policy_find(optarg, &pol) != 0) {
                cli_errorf("bench: no simulator policy '%s'", optarg);
                return NP_EXIT_USAGE;
            }
            s.pol[s.nr_pol++] = pol->name;
            break;
        }
        case 's':
            if (cli_parse_uint(optarg, "--seed", 1, UINT32_MAX, &s.seed) < 0)
                return NP_EXIT_USAGE;
            break;
        case 'j': json = true; break;
        case 'c': csv = optarg; break;
        case 'v': svg = optarg; break;
        case 'h': bench_suite_usage(stdout); return NP_EXIT_OK;
        default: bench_suite_usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("bench: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    if (list) {
        for (size_t i = 0; i < np_sim_builtin_count(); i++)
            printf("%s\n", np_sim_builtin_name(i));
        return NP_EXIT_OK;
    }
    if (!s.nr_pol) {
        s.nr_pol = np_sim_suite_policies(s.pol, SUITE_MAX_POLICIES);
        const np_sim_policy *bal;
        if (np_sim_policy_find("numaplace-balance", &bal) != 0) {
            skipped = "numaplace-balance (runtime balancing is not built in yet)";
        }
    }
    s.ref = s.nr_pol;
    for (size_t p = 0; p < s.nr_pol; p++)
        if (strcmp(s.pol[p], SUITE_REF_POLICY) == 0)
            s.ref = p;
    s.ref_extra = s.ref == s.nr_pol;
    size_t nr = nr_names ? nr_names : np_sim_builtin_count();
    if (nr > SUITE_MAX_SCENARIOS)
        nr = SUITE_MAX_SCENARIOS;
    for (size_t i = 0; i < nr; i++) {
        np_error err = {0};
        int r = np_sim_scenario_open(nr_names ? names[i] : np_sim_builtin_name(i), &s.sc[i], &err);
        if (r) {
            rc = cli_fail(r, &err);
            goto out;
        }
        s.nr_sc++;
    }
    s.res = calloc(s.nr_sc * cols(&s), sizeof(*s.res));
    if (!s.res) {
        rc = NP_EXIT_INTERNAL;
        goto out;
    }
    rc = run_all(&s, !json && isatty(STDERR_FILENO));
    if (rc == NP_EXIT_OK && csv)
        rc = write_csv(&s, csv);
    if (rc == NP_EXIT_OK && svg)
        rc = write_svgs(&s, svg);
    if (rc == NP_EXIT_OK) {
        if (json)
            rc = print_json(&s, skipped);
        else
            print_table(&s);
        if (!json && skipped)
            printf("column %s skipped.\n", skipped);
    }
out:
    for (size_t i = 0; s.res && i < s.nr_sc * cols(&s); i++)
        np_sim_run_result_fini(&s.res[i]);
    free(s.res);
    for (size_t i = 0; i < s.nr_sc; i++)
        np_sim_scenario_destroy(s.sc[i]);
    return rc;
}

/* ---- bench engine ------------------------------------------------------------ */

void bench_engine_usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace bench engine [--nodes N] [--cpus-per-node N] [--guests N]\n"
            "                              [--seconds N] [--seed N] [--policy P] [--json]\n\n"
            "The simulator's speed: events per second and wall time for a host of N nodes\n"
            "(default 256 x 16 CPUs) with 4000 guests over 60 simulated seconds.\n");
}

int bench_engine(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'},   {"cpus-per-node", required_argument, NULL, 'c'},
        {"guests", required_argument, NULL, 'g'},  {"seconds", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},    {"policy", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    np_sim_bench_config cfg;
    np_sim_bench_result res;
    uint64_t v;
    bool json = false;
    int c;

    np_sim_bench_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:c:g:t:s:p:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_parse_uint(optarg, "--nodes", 1, 4096, &v) < 0)
                return NP_EXIT_USAGE;
            cfg.nodes = (size_t)v;
            break;
        case 'c':
            if (cli_parse_uint(optarg, "--cpus-per-node", 1, 1024, &v) < 0)
                return NP_EXIT_USAGE;
            cfg.cpus_per_node = (size_t)v;
            break;
        case 'g':
            if (cli_parse_uint(optarg, "--guests", 1, NP_SIM_MAX_GUESTS, &v) < 0)
                return NP_EXIT_USAGE;
            cfg.guests = (size_t)v;
            break;
        case 't':
            if (cli_parse_uint(optarg, "--seconds", 1, 3600, &v) < 0)
                return NP_EXIT_USAGE;
            cfg.sim_ns = v * UINT64_C(1000000000);
            break;
        case 's':
            if (cli_parse_uint(optarg, "--seed", 0, UINT32_MAX, &v) < 0)
                return NP_EXIT_USAGE;
            cfg.seed = v;
            break;
        case 'p': cfg.policy = optarg; break;
        case 'j': json = true; break;
        case 'h': bench_engine_usage(stdout); return NP_EXIT_OK;
        default: bench_engine_usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("bench engine: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    const np_sim_policy *pol;
    if (np_sim_policy_find(cfg.policy, &pol) != 0) {
        cli_errorf("bench engine: no simulator policy '%s'", cfg.policy);
        return NP_EXIT_USAGE;
    }
    int rc = np_sim_bench_engine(&cfg, &res);
    if (rc) {
        cli_errorf("bench engine: %s", np_strerror(rc));
        return cli_exit_status(rc);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string("numaplace.bench-engine/1"));
        json_object_set_new(o, "nodes", json_integer((json_int_t)cfg.nodes));
        json_object_set_new(o, "cpus_per_node", json_integer((json_int_t)cfg.cpus_per_node));
        json_object_set_new(o, "guests", json_integer((json_int_t)cfg.guests));
        json_object_set_new(o, "guests_running", json_integer((json_int_t)res.guests_running));
        json_object_set_new(o, "vcpus", json_integer((json_int_t)res.vcpus));
        json_object_set_new(o, "policy", json_string(cfg.policy));
        json_object_set_new(o, "sim_s", json_real((double)res.sim_ns / 1e9));
        json_object_set_new(o, "events", json_integer((json_int_t)res.events));
        json_object_set_new(o, "wall_s", json_real(res.wall_s));
        json_object_set_new(o, "cpu_s", json_real(res.cpu_s));
        json_object_set_new(o, "events_per_s", json_real(res.events_per_s));
        json_object_set_new(o, "events_per_cpu_s", json_real(res.events_per_cpu_s));
        json_object_set_new(o, "heap_events_per_s", json_real(res.heap_events_per_s));
        json_object_set_new(o, "policy_cpu_s", json_real(res.policy_cpu_s));
        json_object_set_new(o, "policy_calls", json_integer((json_int_t)res.policy_calls));
        json_object_set_new(o, "engine_events_per_cpu_s", json_real(res.engine_events_per_cpu_s));
        return cli_print_json(o);
    }
    printf("host          %zu nodes x %zu CPUs, %zu guests (%zu running, %zu vCPUs), policy %s\n",
           cfg.nodes, cfg.cpus_per_node, cfg.guests, res.guests_running, res.vcpus, cfg.policy);
    printf("simulated     %.3f s\n", (double)res.sim_ns / 1e9);
    printf("events        %" PRIu64 "\n", res.events);
    printf("wall time     %.3f s (CPU time %.3f s)\n", res.wall_s, res.cpu_s);
    printf("events/s      %.0f per wall-clock second, %.0f per CPU second\n", res.events_per_s,
           res.events_per_cpu_s);
    printf("heap events/s %.0f (event queue alone, same number of timers)\n",
           res.heap_events_per_s);
    printf("policy        %" PRIu64 " calls, CPU time %.3f s; without it %.0f events per CPU second\n",
           res.policy_calls, res.policy_cpu_s, res.engine_events_per_cpu_s);
    printf("work          %.1f vCPU-equivalents, remote ratio %.3f, CPU use %.3f, fairness %.3f\n",
           res.work_rate, res.remote_ratio, res.cpu_util, res.fairness_progress);
    return NP_EXIT_OK;
}
