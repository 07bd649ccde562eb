/*
 * bench/np_bench_place.c - times numaplace and xl42 decisions on loaded
 * hosts and prints one line per host: time per decision of each policy,
 * their ratio, and the mean cost of their choices under numaplace's
 * objective (lower is better) with its ratio.
 *
 *   np_bench_place [--guests N] [--decisions N] [--seed S] [HOST...]
 *
 * HOST as np_bench_place() takes it ("gen:16", "builtin:2s-2n", a file);
 * without hosts: gen:2 gen:4 gen:8 gen:16 gen:64 gen:256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/bench.h>

static int usage(void)
{
    fprintf(stderr, "usage: np_bench_place [--guests N] [--decisions N] [--seed S] [HOST...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const char *const defaults[] = {"gen:2", "gen:4", "gen:8", "gen:16", "gen:64",
                                           "gen:256"};
    size_t guests = 0, decisions = 0;
    unsigned seed = 1;
    int first = 1;

    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (first + 1 >= argc)
            return usage();
        char *end = NULL;
        unsigned long v = strtoul(argv[first + 1], &end, 10);
        if (!end || *end)
            return usage();
        if (strcmp(argv[first], "--guests") == 0)
            guests = v;
        else if (strcmp(argv[first], "--decisions") == 0)
            decisions = v;
        else if (strcmp(argv[first], "--seed") == 0)
            seed = (unsigned)v;
        else
            return usage();
    }
    size_t nr_hosts = first < argc ? (size_t)(argc - first) : sizeof(defaults) / sizeof(*defaults);
    printf("%-12s %5s %6s %12s %12s %7s %9s %9s %7s %s\n", "host", "nodes", "guests",
           "numaplace_ns", "xl42_ns", "ratio", "np_cost", "xl42_cost", "ratio",
           "xl42 fallbacks");
    for (size_t h = 0; h < nr_hosts; h++) {
        const char *host = first < argc ? argv[first + (int)h] : defaults[h];
        np_bench_place_result np = {0}, xl = {0};
        np_error err = {0};
        if (np_bench_place(host, guests, decisions, "numaplace", seed, &np, &err) < 0 ||
            np_bench_place(host, guests, decisions, "xl42", seed, &xl, &err) < 0) {
            char buf[800];
            fprintf(stderr, "%s: %s\n", host, np_error_format(&err, buf, sizeof(buf)));
            return 1;
        }
        printf("%-12s %5zu %6zu %12.0f %12.0f %7.2f %9.4f %9.4f %7.2f %zu/%zu\n", host,
               np.nr_nodes, np.nr_guests, np.ns_per_decision, xl.ns_per_decision,
               xl.ns_per_decision > 0 ? np.ns_per_decision / xl.ns_per_decision : 0.0,
               np.mean_cost, xl.mean_cost, np.mean_cost > 0 ? xl.mean_cost / np.mean_cost : 0.0,
               xl.fallbacks, xl.decisions);
    }
    return 0;
}
