/*
 * bench/sim_engine_bench.c - runs the simulator's engine benchmark
 * (np_sim_bench_engine) and prints what it measured.
 *
 *   sim_engine_bench [NODES CPUS_PER_NODE GUESTS SECONDS [SEED [POLICY]]]
 *
 * Defaults: 256 nodes x 16 CPUs, 4000 guests, 60 simulated seconds.
 * The `numaplace bench engine` command calls the same library function.
 */
#include <numaplace/sim.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    np_sim_bench_config cfg;
    np_sim_bench_result res;
    uint64_t v[5];
    int rc;

    np_sim_bench_config_init(&cfg);
    if (argc != 1 && argc != 5 && argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s [NODES CPUS_PER_NODE GUESTS SECONDS [SEED [POLICY]]]\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc && i <= 5; i++) {
        if (parse_u64(argv[i], &v[i - 1])) {
            fprintf(stderr, "%s: expected a whole number, got '%s'\n", argv[0], argv[i]);
            return 2;
        }
    }
    if (argc >= 5) {
        cfg.nodes = v[0];
        cfg.cpus_per_node = v[1];
        cfg.guests = v[2];
        cfg.sim_ns = v[3] * UINT64_C(1000000000);
    }
    if (argc >= 6)
        cfg.seed = v[4];
    if (argc == 7)
        cfg.policy = argv[6];
    rc = np_sim_bench_engine(&cfg, &res);
    if (rc) {
        fprintf(stderr, "%s: %s\n", argv[0], np_strerror(rc));
        return 1;
    }
    printf("host          %zu nodes x %zu CPUs, %zu guests (%zu running, %zu vCPUs), policy %s\n",
           cfg.nodes, cfg.cpus_per_node, cfg.guests, res.guests_running, res.vcpus, cfg.policy);
    printf("simulated     %.3f s\n", (double)res.sim_ns / 1e9);
    printf("events        %" PRIu64 "\n", res.events);
    printf("wall time     %.3f s (CPU time %.3f s)\n", res.wall_s, res.cpu_s);
    printf("events/s      %.0f per wall-clock second, %.0f per CPU second\n", res.events_per_s,
           res.events_per_cpu_s);
    printf("heap events/s %.0f (event queue alone, same number of timers)\n", res.heap_events_per_s);
    printf("work          %.1f vCPU-equivalents, remote ratio %.3f, CPU use %.3f, fairness %.3f, "
           "cross-node vCPU moves %" PRIu64 "\n",
           res.work_rate, res.remote_ratio, res.cpu_util, res.fairness_progress, res.node_migrations);
    return 0;
}
