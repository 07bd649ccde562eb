/* The standard metrics (np_std_metrics_compute) on hand-computed states,
 * the metrics oracle (np_place_oracle_metrics) on cases whose best answer
 * is worked out by hand, and the mix replay of `bench mixes`. */
#include <errno.h>
#include <math.h>

#include <numaplace/bench.h>
#include <numaplace/scenario.h>

#include "np_test.h"
#include "test_place_util.h"

#define ASSERT_NEAR(a, b)                                                                          \
    do {                                                                                           \
        double np_a_ = (a), np_b_ = (b);                                                           \
        if (!(fabs(np_a_ - np_b_) < 1e-9))                                                         \
            NP_TEST_FAIL_("%s == %s: %.12g != %.12g", #a, #b, np_a_, np_b_);                       \
    } while (0)

/* Two nodes of 4 CPUs (0-3, 4-7) and 8 GiB; dist 2 x 2, or NULL for
 * SLIT 10/20. */
static np_topology *two_node_host(const uint32_t *dist)
{
    const uint32_t cpus[] = {4, 4};
    const uint64_t mem[] = {8192, 8192};
    return tp_host(2, cpus, mem, dist);
}

static np_host_state *two_nodes(void)
{
    return tp_state(two_node_host(NULL));
}

static np_bitmap *cpus_of(unsigned first, unsigned last)
{
    np_bitmap *m = NULL;
    np_bitmap_create(&m);
    np_bitmap_set_range(m, first, last);
    return m;
}

/* Adds a guest with `mem_mib[i]` MiB populated on node i and every vCPU
 * with the masks given (NULL: none). */
static void add(np_host_state *st, const char *name, uint32_t vcpus, const uint64_t *mem_mib,
                const np_bitmap *hard, const np_bitmap *soft)
{
    uint64_t total = mem_mib[0] + mem_mib[1];
    np_guest_spec s = tp_guest(name, vcpus, total);
    size_t g;
    ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
    for (size_t i = 0; i < 2; i++)
        ASSERT_EQ(np_host_state_set_guest_mem(st, g, i, mem_mib[i] * MiB, 0), 0);
    for (uint32_t v = 0; v < vcpus; v++)
        ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, v, hard, soft), 0);
}

static void test_metrics_by_hand(void)
{
    np_host_state *st = two_nodes();
    np_bitmap *n0 = cpus_of(0, 3), *n1 = cpus_of(4, 7), *all = cpus_of(0, 7);
    np_std_metrics m;
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    /* empty host: nothing remote, nothing committed */
    ASSERT_EQ(np_std_metrics_compute(st, NULL, &m), 0);
    ASSERT_NEAR(m.remote_weighted_distance, 0.0);
    ASSERT_NEAR(m.local_fraction, 1.0);
    ASSERT_NEAR(m.worst_cpu_overcommit, 0.0);
    ASSERT_NEAR(m.worst_mem_over_free, 0.0);

    /* a: 4 vCPUs pinned to node 0, 2 GiB there: local; node 0 4/4 vCPUs */
    const uint64_t a[] = {2048, 0};
    add(st, "a", 4, a, n0, NULL);
    ASSERT_EQ(np_std_metrics_compute(st, NULL, &m), 0);
    ASSERT_NEAR(m.remote_weighted_distance, 0.0);
    ASSERT_NEAR(m.local_fraction, 1.0);
    ASSERT_NEAR(m.worst_cpu_overcommit, 1.0);
    ASSERT_NEAR(m.worst_mem_over_free, 0.25);

    /* b: 2 vCPUs preferring node 1 (soft inside an all-CPU hard mask), 1 GiB
     * on node 0 and 3 GiB on node 1: rwd 1/4 * (20/10 - 1) = 0.25, local
     * 0.75; means over a and b 0.125 and 0.875; memory 3/8 on both nodes */
    const uint64_t b[] = {1024, 3072};
    add(st, "b", 2, b, all, n1);
    ASSERT_EQ(np_std_metrics_compute(st, NULL, &m), 0);
    ASSERT_NEAR(m.remote_weighted_distance, 0.125);
    ASSERT_NEAR(m.local_fraction, 0.875);
    ASSERT_NEAR(m.worst_cpu_overcommit, 1.0);
    ASSERT_NEAR(m.worst_mem_over_free, 0.375);

    /* c: 2 vCPUs with no mask (anywhere: half a vCPU on each node), 2 GiB on
     * node 1: rwd 0.5 * 1.0 = 0.5, local 0.5; means (0 + 0.25 + 0.5) / 3 and
     * (1 + 0.75 + 0.5) / 3; node 0 carries 4 + 1 vCPUs: 1.25 */
    const uint64_t c[] = {0, 2048};
    add(st, "c", 2, c, NULL, NULL);
    ASSERT_EQ(np_std_metrics_compute(st, NULL, &m), 0);
    ASSERT_NEAR(m.remote_weighted_distance, 0.25);
    ASSERT_NEAR(m.local_fraction, 0.75);
    ASSERT_NEAR(m.worst_cpu_overcommit, 1.25);
    ASSERT_NEAR(m.worst_mem_over_free, 5.0 / 8.0);
    ASSERT_EQ(m.refusals, 0);

    /* free at start given: node 0 had only 4 GiB free and carries 3 */
    const uint64_t freeb[] = {4 * GiB, 8 * GiB};
    ASSERT_EQ(np_std_metrics_compute(st, freeb, &m), 0);
    ASSERT_NEAR(m.worst_mem_over_free, 0.75);
    /* memory on a node that had nothing free: cannot exist */
    const uint64_t none[] = {0, 8 * GiB};
    ASSERT_EQ(np_std_metrics_compute(st, none, &m), 0);
    ASSERT_TRUE(isinf(m.worst_mem_over_free));
    /* the state's measured free is the default "free at start" */
    ASSERT_EQ(np_host_state_set_node_free(st, 1, 4 * GiB), 0);
    ASSERT_EQ(np_std_metrics_compute(st, NULL, &m), 0);
    ASSERT_NEAR(m.worst_mem_over_free, 5.0 / 4.0);
    ASSERT_EQ(np_std_metrics_compute(NULL, NULL, &m), -EINVAL);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n1);
    np_bitmap_destroy(all);
    np_host_state_destroy(st);
}

/* The worked example of oracle_metrics.c: four 12-CPU nodes, SLIT 20 in
 * the pairs {0,1} {2,3}, 30 across. */
static np_host_state *pairs_host(uint64_t mem_mib)
{
    const uint32_t cpus[] = {12, 12, 12, 12};
    const uint64_t mem[] = {mem_mib, mem_mib, mem_mib, mem_mib};
    const uint32_t dist[] = {10, 20, 30, 30, 20, 10, 30, 30, 30, 30, 10, 20, 30, 30, 20, 10};
    return tp_state(tp_host(4, cpus, mem, dist));
}

static void test_oracle_metrics(void)
{
    np_host_state *st = pairs_host(16384);
    np_placement *pl = NULL;
    np_error err = {0};
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    /* 24 vCPUs: the close pair, 12 + 12, half the memory on each */
    np_guest_spec big = tp_guest("big", 24, 8192);
    ASSERT_EQ(np_place_oracle_metrics(st, &big, NULL, &pl, &err), 0);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 2);
        ASSERT_EQ(np_placement_node(pl, 0), 0);
        ASSERT_EQ(np_placement_node(pl, 1), 1);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 4096 * MiB);
        ASSERT_NEAR(np_placement_cost(pl), 0.5);
        ASSERT_STR_EQ(np_placement_policy(pl), "oracle-metrics");
        ASSERT_EQ(np_placement_commit(st, &big, pl, NULL), 0);
    }
    np_placement_destroy(pl);
    pl = NULL;
    /* nodes 0 and 1 are full of vCPUs: a 4-vCPU guest goes to node 2 (the
     * lowest of the empty ones), not onto the busy pair */
    np_guest_spec small = tp_guest("small", 4, 2048);
    ASSERT_EQ(np_place_oracle_metrics(st, &small, NULL, &pl, &err), 0);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 1);
        ASSERT_EQ(np_placement_node(pl, 0), 2);
        ASSERT_NEAR(np_placement_cost(pl), 0.0);
    }
    np_placement_destroy(pl);
    pl = NULL;
    /* 20 GiB on 16 GiB nodes, 2 vCPUs: both vCPUs on one node, which takes
     * what it has; the overflow goes to the nearest node (its pair):
     * rwd 4/20 * 1 = 0.2, better than 1 + 1 vCPUs with half each (0.5) */
    np_guest_spec wide = tp_guest("wide", 2, 20480);
    ASSERT_EQ(np_place_oracle_metrics(st, &wide, NULL, &pl, &err), 0);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 2);
        ASSERT_EQ(np_placement_node(pl, 0), 2);
        ASSERT_EQ(np_placement_node(pl, 1), 3);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 16384 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 3), 4096 * MiB);
        ASSERT_EQ(np_placement_vcpu_node(pl, 0), 2);
        ASSERT_EQ(np_placement_vcpu_node(pl, 1), 2);
        ASSERT_NEAR(np_placement_cost(pl), 0.2);
    }
    np_placement_destroy(pl);
    pl = NULL;
    /* more memory than the host has left (56 GiB) but not than its size: no
     * subset fits */
    np_guest_spec huge = tp_guest("huge", 2, 60000);
    ASSERT_EQ(np_place_oracle_metrics(st, &huge, NULL, &pl, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "fits on no node subset");
    np_host_state_destroy(st);

    /* above 8 nodes it says so */
    np_topology *t = NULL;
    np_topo_gen g;
    np_topo_gen_init(&g, 9, 2, 4 * GiB);
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    st = tp_state(t);
    ASSERT_EQ(np_place_oracle_metrics(st, &small, NULL, &pl, &err), -E2BIG);
    ASSERT_CONTAINS(err.msg, "at most 8 nodes");
    np_host_state_destroy(st);
}

static const char mix_text[] =
    "{\"schema\": \"numaplace.scenario/1\", \"events\": ["
    " {\"arrive\": {\"name\": \"a\", \"vcpus\": 4, \"memory\": \"6G\"}},"
    " {\"arrive\": {\"name\": \"b\", \"vcpus\": 4, \"memory\": \"6G\"}},"
    " {\"arrive\": {\"name\": \"c\", \"vcpus\": 2, \"memory\": \"6G\"}},"
    " {\"depart\": \"a\"},"
    " {\"arrive\": {\"name\": \"d\", \"vcpus\": 2, \"memory\": \"4G\"}}]}";

static void test_replay(void)
{
    np_scenario *sc = NULL;
    np_error err = {0};
    ASSERT_EQ(np_scenario_parse(mix_text, sizeof(mix_text) - 1, "mix", &sc, &err), 0);
    np_topology *t = two_node_host(NULL);
    const char *policies[] = {"numaplace", "xl42", "oracle", NP_BENCH_MIX_ORACLE_METRICS};
    for (size_t p = 0; p < 4 && sc && t; p++) {
        np_bench_mix_result r;
        ASSERT_EQ(np_bench_mix_replay(t, sc, 1, policies[p], &r, &err), 0);
        ASSERT_EQ(r.arrivals, 4);
        /* 6 + 6 GiB take both nodes; c (6 GiB) fits in neither node's
         * 2 GiB left nor both together: refused by every policy; d's 4 GiB
         * fits once a is gone */
        ASSERT_EQ(r.final_metrics.refusals, 1);
        ASSERT_EQ(r.placed, 3);
        ASSERT_TRUE(r.final_metrics.worst_mem_over_free <= 1.0);
        ASSERT_TRUE(r.mean_metrics.worst_mem_over_free <= 1.0);
        ASSERT_TRUE(r.ns_per_decision > 0.0);
        ASSERT_TRUE(r.incremental_error < 1e-9);
    }
    /* two copies on the same host: twice the arrivals */
    np_bench_mix_result r2;
    if (sc && t) {
        ASSERT_EQ(np_bench_mix_replay(t, sc, 2, "numaplace", &r2, &err), 0);
        ASSERT_EQ(r2.arrivals, 8);
        ASSERT_EQ(r2.copies, 2);
        ASSERT_TRUE(r2.incremental_error < 1e-9);
    }
    /* a real mix with departures on a larger host: the running sums agree
     * with the full computation */
    np_scenario *churn = NULL;
    ASSERT_EQ(
        np_scenario_read_file(NP_FIXTURES_DIR "/../../bench/mixes/02-churn.json", &churn, &err), 0);
    np_topology *big = NULL;
    ASSERT_EQ(np_bench_open_host("builtin:big-32n", &big, &err), 0);
    const char *big_policies[] = {"numaplace", "xl42"};
    for (size_t p = 0; p < 2 && churn && big; p++) {
        np_bench_mix_result r;
        ASSERT_EQ(np_bench_mix_replay(big, churn, 4, big_policies[p], &r, &err), 0);
        ASSERT_TRUE(r.incremental_error < 1e-9);
        ASSERT_TRUE(r.placed > 100);
    }
    np_topology_destroy(big);
    np_scenario_destroy(churn);
    ASSERT_EQ(np_bench_mix_auto_copies(t), 1);
    np_topology_destroy(t);
    np_scenario_destroy(sc);
}

/* What a traced replay records per arrival: the small mix above on two
 * nodes of 4 CPUs and 8 GiB, under numaplace. a and b take 4 vCPUs and
 * 6 GiB each; c (6 GiB) fits nowhere and is refused with nothing on any
 * node; after a leaves, d takes 2 vCPUs and 4 GiB. The host's vCPUs
 * after each arrival are 4, 8, 8, 6; the steps' worst counts are the
 * replay's final one at the end and average to its mean over arrivals. */
typedef struct trace_rec {
    size_t steps;
    char guest[4][8];
    bool placed[4];
    double vcpus[4], host_vcpus[4], worst[4];
    uint64_t mem[4];
} trace_rec;

static void record_step(const np_bench_mix_step *st, void *arg)
{
    trace_rec *tr = arg;
    if (tr->steps >= 4 || st->arrival != tr->steps || st->nr_nodes != 2) {
        tr->steps = 99;
        return;
    }
    size_t k = tr->steps++;
    snprintf(tr->guest[k], sizeof(tr->guest[k]), "%s", st->guest);
    tr->placed[k] = st->placed;
    for (size_t i = 0; i < st->nr_nodes; i++) {
        tr->vcpus[k] += st->guest_vcpus[i];
        tr->mem[k] += st->guest_mem_bytes[i];
        tr->host_vcpus[k] += st->host_vcpus[i];
    }
    tr->worst[k] = st->metrics.worst_cpu_overcommit;
}

static void test_replay_traced(void)
{
    np_scenario *sc = NULL;
    np_error err = {0};
    ASSERT_EQ(np_scenario_parse(mix_text, sizeof(mix_text) - 1, "mix", &sc, &err), 0);
    np_topology *t = two_node_host(NULL);
    trace_rec tr = {0};
    np_bench_mix_result r;
    if (sc && t) {
        ASSERT_EQ(np_bench_mix_replay_traced(t, sc, 1, "numaplace", record_step, &tr, &r, &err),
                  0);
        ASSERT_EQ(tr.steps, 4);
        const char *names[] = {"a", "b", "c", "d"};
        const double v[] = {4, 4, 0, 2}, host[] = {4, 8, 8, 6};
        const uint64_t m[] = {6 * GiB, 6 * GiB, 0, 4 * GiB};
        double sum = 0.0;
        for (size_t k = 0; k < 4 && tr.steps == 4; k++) {
            ASSERT_STR_EQ(tr.guest[k], names[k]);
            ASSERT_EQ(tr.placed[k], k != 2);
            ASSERT_NEAR(tr.vcpus[k], v[k]);
            ASSERT_U64_EQ(tr.mem[k], m[k]);
            ASSERT_NEAR(tr.host_vcpus[k], host[k]);
            sum += tr.worst[k];
        }
        ASSERT_NEAR(tr.worst[3], r.final_metrics.worst_cpu_overcommit);
        ASSERT_NEAR(sum / 4.0, r.mean_metrics.worst_cpu_overcommit);
    }
    np_topology_destroy(t);
    np_scenario_destroy(sc);
}

/* The group figures of the replay (np_bench_mix_asked), by hand. Two nodes
 * of 4 CPUs at SLIT 21. xl42 puts each guest on the node with fewest
 * vCPUs: colocate members a1 and a2 (4 vCPUs each) land on different
 * nodes, a pair at 21/10 - 1 = 1.1; spread members s1 and s2 (1 vCPU
 * each, nodes then equal) apart, s3 with one of them: 3 pairs, 1 sharing
 * a node. Means over the states with something to count: colocate 1.1
 * after arrivals 2-5 (4 states); spread 0 after s2 and 1/3 after s3 (2
 * states, mean 1/6). After a2 leaves there is no colocate pair (count 0);
 * spread 1/3. numaplace keeps the colocate pair (idle: demand 0.1 each)
 * on one node, its group term, though xl42's count is lower: colocate 0;
 * the spread members as xl42 (the 1/3 is forced on two nodes). */
static const char asked_text[] =
    "{\"schema\": \"numaplace.scenario/1\", \"events\": ["
    " {\"arrive\": {\"name\": \"a1\", \"vcpus\": 4, \"memory\": \"2G\", \"demand\": 0.1, "
    "\"group\": \"g:colocate\"}},"
    " {\"arrive\": {\"name\": \"a2\", \"vcpus\": 4, \"memory\": \"2G\", \"demand\": 0.1, "
    "\"group\": \"g:colocate\"}},"
    " {\"arrive\": {\"name\": \"s1\", \"vcpus\": 1, \"memory\": \"1G\", \"group\": \"h:spread\"}},"
    " {\"arrive\": {\"name\": \"s2\", \"vcpus\": 1, \"memory\": \"1G\", \"group\": \"h:spread\"}},"
    " {\"arrive\": {\"name\": \"s3\", \"vcpus\": 1, \"memory\": \"1G\", \"group\": \"h:spread\"}},"
    " {\"depart\": \"a2\"}]}";

static void test_replay_group_figures(void)
{
    np_scenario *sc = NULL;
    np_error err = {0};
    ASSERT_EQ(np_scenario_parse(asked_text, sizeof(asked_text) - 1, "mix", &sc, &err), 0);
    const uint32_t dist[] = {10, 21, 21, 10};
    np_topology *t = two_node_host(dist);
    np_bench_mix_result r;
    if (!sc || !t)
        return;
    ASSERT_EQ(np_bench_mix_replay(t, sc, 1, "xl42", &r, &err), 0);
    ASSERT_EQ(r.placed, 5);
    ASSERT_EQ(r.final_asked.colocate_pairs, 0);
    ASSERT_EQ(r.final_asked.spread_pairs, 3);
    ASSERT_NEAR(r.final_asked.spread_shared, 1.0 / 3.0);
    ASSERT_EQ(r.final_asked.device_guests, 0);
    ASSERT_EQ(r.mean_asked.colocate_pairs, 4);
    ASSERT_NEAR(r.mean_asked.colocate_distance, 1.1);
    ASSERT_EQ(r.mean_asked.spread_pairs, 2);
    ASSERT_NEAR(r.mean_asked.spread_shared, 1.0 / 6.0);
    ASSERT_EQ(r.mean_asked.device_guests, 0);

    ASSERT_EQ(np_bench_mix_replay(t, sc, 1, "numaplace", &r, &err), 0);
    ASSERT_EQ(r.placed, 5);
    ASSERT_EQ(r.mean_asked.colocate_pairs, 4);
    ASSERT_NEAR(r.mean_asked.colocate_distance, 0.0);
    ASSERT_EQ(r.final_asked.spread_pairs, 3);
    ASSERT_NEAR(r.final_asked.spread_shared, 1.0 / 3.0);
    np_scenario_destroy(sc);
    np_topology_destroy(t);
}

/* Every mix of bench/mixes on hosts with a measured free figure, CPU-less
 * and memory-less nodes: after every arrival no node holds more guest
 * memory than it had free at start, under numaplace and both oracles. */
static void test_mixes_memory_within_free(void)
{
    static const char *const hosts[] = {
        NP_FIXTURES_DIR "/numactl/threadripper-nps4-memoryless.txt",
        NP_FIXTURES_DIR "/numactl/power9-ac922-sparse.txt",
        NP_FIXTURES_DIR "/numactl/opteron6272-2s-4n.txt",
        "builtin:cxl-4n",
    };
    static const char *const mixes[] = {
        "01-steady-fill", "02-churn",   "03-big-wide", "04-many-small",
        "05-colocate",    "06-spread",  "07-devices",  "08-mixed-sizes",
        "09-overcommit",  "10-balloon", "11-cpuless",  "12-fragment",
    };
    static const char *const policies[] = {"numaplace", "oracle", NP_BENCH_MIX_ORACLE_METRICS};
    size_t runs = 0;
    for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
        np_topology *t = NULL;
        np_error err = {0};
        ASSERT_EQ(np_bench_open_host(hosts[h], &t, &err), 0);
        for (size_t m = 0; m < sizeof(mixes) / sizeof(mixes[0]) && t; m++) {
            char path[512];
            np_scenario *sc = NULL;
            snprintf(path, sizeof(path), NP_FIXTURES_DIR "/../../bench/mixes/%s.json", mixes[m]);
            ASSERT_EQ(np_scenario_read_file(path, &sc, &err), 0);
            for (size_t p = 0; p < 3 && sc; p++) {
                np_bench_mix_result r;
                ASSERT_EQ(
                    np_bench_mix_replay(t, sc, np_bench_mix_auto_copies(t), policies[p], &r, &err),
                    0);
                if (r.max_mem_over_free > 1.0 + 1e-9)
                    NP_TEST_FAIL_("%s on %s under %s: memory %.4f x free", mixes[m], hosts[h],
                                  policies[p], r.max_mem_over_free);
                ASSERT_TRUE(r.incremental_error < 1e-9);
                runs++;
            }
            np_scenario_destroy(sc);
        }
        np_topology_destroy(t);
    }
    ASSERT_EQ(runs, 4 * 12 * 3);
}

int main(void)
{
    NP_RUN(test_metrics_by_hand);
    NP_RUN(test_oracle_metrics);
    NP_RUN(test_replay);
    NP_RUN(test_replay_traced);
    NP_RUN(test_replay_group_figures);
    NP_RUN(test_mixes_memory_within_free);
    return np_test_summary();
}
