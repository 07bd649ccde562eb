/*
 * cli/cmd_bench.c - `numaplace bench`: the benchmarks whose output backs
 * numaplace's performance claims. Each part compares policies measured in
 * the same run, because the machines are shared and noisy: ratios of one
 * run mean more than absolute times across runs.
 *
 *   bench place   time per placement decision, numaplace vs xl42, and the
 *                 cost of their choices under numaplace's objective
 *   bench [suite] simulator scenarios under each policy (bench_suite.c)
 *   bench engine  the simulator's events per second (bench_suite.c)
 *   bench mixes   every policy on arrival/departure mixes, judged by the
 *                 standard metrics (cmd_bench_mixes.c)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/bench.h>

#include "bench_suite.h"
#include "cli.h"

/* The default host ladder of `bench place`: generated hosts of 2..256 nodes
 * with the running-guest counts the targets name (16 nodes with 200 guests,
 * 256 nodes with 4000 guests) and proportional counts in between. */
static const struct {
    const char *host;
    size_t guests;
} place_ladder[] = {
    {"gen:2", 25}, {"gen:4", 50}, {"gen:8", 100}, {"gen:16", 200}, {"gen:64", 1000},
    {"gen:256", 4000},
};
#define NR_LADDER (sizeof(place_ladder) / sizeof(place_ladder[0]))
#define BENCH_MAX_HOSTS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace bench place [--host HOST]... [--guests N] [--decisions N]\n"
            "                             [--seed N] [--json]\n\n"
            "Time placement decisions of numaplace and xl42 on hosts carrying running guests,\n"
            "and compare the cost of their choices under numaplace's objective.\n\n"
            "  --host HOST     gen:N (a generated N-node host), builtin:NAME or a topology\n"
            "                  file; repeat for several. Default: gen:2 gen:4 gen:8 gen:16\n"
            "                  gen:64 gen:256 with 25/50/100/200/1000/4000 running guests\n"
            "  --guests N      running guests on each --host (default: 15 per node)\n"
            "  --decisions N   timed decisions per host and policy (default %u)\n"
            "  --seed N        seed of the random guest mix (default 1)\n"
            "  --json          machine-readable output (schema numaplace.bench-place/1)\n\n"
            "Times are CPU time of the calling thread per decision. Compare the ratio\n"
            "column: both policies are measured in the same run on the same host state.\n",
            NP_BENCH_DECISIONS);
}

static int bench_place(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},      {"guests", required_argument, NULL, 'g'},
        {"decisions", required_argument, NULL, 'd'}, {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *hosts[BENCH_MAX_HOSTS];
    size_t nr_hosts = 0;
    uint64_t guests = 0, decisions = 0, seed = 1;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "H:g:d:s:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            if (nr_hosts == BENCH_MAX_HOSTS) {
                cli_errorf("bench place: at most %d --host options", BENCH_MAX_HOSTS);
                return NP_EXIT_USAGE;
            }
            hosts[nr_hosts++] = optarg;
            break;
        case 'g':
            if (cli_parse_uint(optarg, "--guests", 0, 100000, &guests) < 0)
                return NP_EXIT_USAGE;
            break;
        case 'd':
            if (cli_parse_uint(optarg, "--decisions", 1, 1000000, &decisions) < 0)
                return NP_EXIT_USAGE;
            break;
        case 's':
            if (cli_parse_uint(optarg, "--seed", 0, UINT32_MAX, &seed) < 0)
                return NP_EXIT_USAGE;
            break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("bench place: unexpected argument '%s'", argv[optind]);
        return NP_EXIT_USAGE;
    }
    size_t n = nr_hosts ? nr_hosts : NR_LADDER;
    bool progress = !json && isatty(STDERR_FILENO);
    json_t *rows = json ? json_array() : NULL;
    if (!json)
        printf("%-20s %5s %6s %13s %13s %7s %9s %9s %7s %s\n", "host", "nodes", "guests",
               "numaplace_ns", "xl42_ns", "ratio", "np_cost", "xl42_cost", "ratio",
               "xl42 gave up");
    for (size_t h = 0; h < n; h++) {
        const char *host = nr_hosts ? hosts[h] : place_ladder[h].host;
        size_t g = nr_hosts ? (size_t)guests : place_ladder[h].guests;
        np_bench_place_result np = {0}, xl = {0};
        np_error err = {0};
        if (progress)
            fprintf(stderr, "\r[%zu/%zu] %s ...", h + 1, n, host);
        int rc = np_bench_place(host, g, (size_t)decisions, "numaplace", (unsigned)seed, &np, &err);
        if (rc == 0)
            rc = np_bench_place(host, g, (size_t)decisions, "xl42", (unsigned)seed, &xl, &err);
        if (progress)
            fprintf(stderr, "\r%*s\r", 40, "");
        if (rc < 0) {
            json_decref(rows);
            return cli_fail(rc, &err);
        }
        double t_ratio = xl.ns_per_decision > 0 ? np.ns_per_decision / xl.ns_per_decision : 0;
        double c_ratio = np.mean_cost > 0 ? xl.mean_cost / np.mean_cost : 0;
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "host", json_string(np.host));
            json_object_set_new(o, "nodes", json_integer((json_int_t)np.nr_nodes));
            json_object_set_new(o, "guests", json_integer((json_int_t)np.nr_guests));
            json_object_set_new(o, "decisions", json_integer((json_int_t)np.decisions));
            json_object_set_new(o, "numaplace_ns_per_decision", json_real(np.ns_per_decision));
            json_object_set_new(o, "xl42_ns_per_decision", json_real(xl.ns_per_decision));
            json_object_set_new(o, "time_ratio", json_real(t_ratio));
            json_object_set_new(o, "numaplace_mean_cost", json_real(np.mean_cost));
            json_object_set_new(o, "xl42_mean_cost", json_real(xl.mean_cost));
            json_object_set_new(o, "cost_ratio", json_real(c_ratio));
            json_object_set_new(o, "xl42_fallbacks", json_integer((json_int_t)xl.fallbacks));
            json_object_set_new(o, "numaplace_failed", json_integer((json_int_t)np.failed));
            json_array_append_new(rows, o);
        } else {
            printf("%-20s %5zu %6zu %13.0f %13.0f %7.2f %9.4f %9.4f %7.2f %zu/%zu\n", np.host,
                   np.nr_nodes, np.nr_guests, np.ns_per_decision, xl.ns_per_decision, t_ratio,
                   np.mean_cost, xl.mean_cost, c_ratio, xl.fallbacks, xl.decisions);
            fflush(stdout);
        }
    }
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "schema", json_string("numaplace.bench-place/1"));
        json_object_set_new(root, "seed", json_integer((json_int_t)seed));
        json_object_set_new(root, "rows", rows);
        return cli_print_json(root);
    }
    printf("ratio: numaplace time / xl42 time (below 1: numaplace is faster); cost ratio:\n"
           "xl42's mean cost / numaplace's (above 1: numaplace chose better).\n");
    return NP_EXIT_OK;
}

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: numaplace bench [suite|place|engine|mixes] [OPTIONS]\n\n"
                 "Benchmarks:\n"
                 "  suite    simulator scenarios under each placement policy (the default)\n"
                 "  place    placement decision time and quality, numaplace vs xl42\n"
                 "  engine   the simulator's events per second\n"
                 "  mixes    every policy on arrival/departure mixes, standard metrics\n\n");
    bench_suite_usage(out);
    fprintf(out, "\n");
    usage(out);
    fprintf(out, "\n");
    bench_engine_usage(out);
    fprintf(out, "\n");
    bench_mixes_usage(out);
}

static int run(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        bench_usage(stdout);
        return NP_EXIT_OK;
    }
    if (argc < 2 || argv[1][0] == '-')
        return bench_suite(argc, argv);
    if (strcmp(argv[1], "suite") == 0)
        return bench_suite(argc - 1, argv + 1);
    if (strcmp(argv[1], "place") == 0)
        return bench_place(argc - 1, argv + 1);
    if (strcmp(argv[1], "engine") == 0)
        return bench_engine(argc - 1, argv + 1);
    if (strcmp(argv[1], "mixes") == 0)
        return bench_mixes(argc - 1, argv + 1);
    cli_errorf("bench: no benchmark '%s'; expected suite, place, engine or mixes", argv[1]);
    return NP_EXIT_USAGE;
}

const np_cli_cmd np_cmd_bench = {
    .name = "bench",
    .summary = "benchmarks: policies on simulated scenarios, placement time, simulator speed",
    .run = run,
    .usage = bench_usage,
};
