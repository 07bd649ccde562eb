/*
 * test_sim_suite.c - simulator scenarios as files and the suite runner:
 * the reader expands guests and reports bad input with its line, every
 * built-in scenario parses under its own name, runs are reproducible from
 * the seed, and a departing guest gives its memory and CPUs back.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <numaplace/simsuite.h>

#include "np_test.h"
#include "sim/scenario_int.h"
#include "sim_test_util.h"

static const char tiny[] =
    "{\n"
    "  \"schema\": \"numaplace.sim-scenario/1\",\n"
    "  \"name\": \"tiny\",\n"
    "  \"host\": \"gen:2\",\n"
    "  \"duration_s\": 1,\n"
    "  \"seed\": 7,\n"
    "  \"sample_ms\": 100,\n"
    "  \"guests\": [\n"
    "    {\"name\": \"a\", \"count\": 3, \"vcpus\": 2, \"memory_mib\": 1024,\n"
    "     \"maxmem_mib\": 2048, \"arrive_s\": 0.1, \"arrive_every_s\": 0.2,\n"
    "     \"mem_intensity\": 0.5, \"balloon\": [{\"at_s\": 0.5, \"memory_mib\": 2048}]},\n"
    "    {\"name\": \"b\", \"count\": 4, \"vcpus\": 1, \"memory_mib\": 512, \"cpu\": \"bursty\",\n"
    "     \"duty\": 0.5, \"talk_group_size\": 2, \"comm_fraction\": 0.3,\n"
    "     \"lifetime_s\": 0.5, \"io_node\": 1, \"io_fraction\": 0.2}\n"
    "  ]\n"
    "}\n";

static np_sim_scenario *parse(const char *text, np_error *err)
{
    np_sim_scenario *sc = NULL;
    memset(err, 0, sizeof(*err));
    int rc = np_sim_scenario_parse(text, strlen(text), "t.json", &sc, err);
    if (rc)
        return NULL;
    return sc;
}

static void test_parse_expands_guests(void)
{
    np_error err;
    np_sim_scenario *sc = parse(tiny, &err);
    ASSERT_TRUE(sc != NULL);
    if (!sc)
        return;
    ASSERT_STR_EQ(np_sim_scenario_name(sc), "tiny");
    ASSERT_STR_EQ(np_sim_scenario_host(sc), "gen:2");
    ASSERT_EQ(np_sim_scenario_nr_guests(sc), 7);
    ASSERT_U64_EQ(np_sim_scenario_duration_ns(sc), SEC);
    ASSERT_U64_EQ(np_sim_scenario_seed(sc), 7);
    ASSERT_STR_EQ(sc->guests[0].g.spec.name, "a-0");
    ASSERT_STR_EQ(sc->guests[2].g.spec.name, "a-2");
    ASSERT_U64_EQ(sc->guests[2].g.start_ns, 500 * MS);
    ASSERT_U64_EQ(sc->guests[1].g.spec.maxmem_bytes, 2 * GIB);
    ASSERT_EQ(sc->guests[1].nr_balloon, 1);
    ASSERT_U64_EQ(sc->guests[1].balloon[0].at_ns, 500 * MS);
    ASSERT_EQ(sc->guests[0].leave_ns, 0);
    /* b: pairs (b-0, b-1) and (b-2, b-3), each a colocate group */
    ASSERT_EQ(sc->guests[3].talk_group, sc->guests[4].talk_group);
    ASSERT_TRUE(sc->guests[4].talk_group != sc->guests[5].talk_group);
    ASSERT_STR_EQ(sc->guests[3].g.spec.group, sc->guests[4].g.spec.group);
    ASSERT_EQ(sc->guests[3].g.spec.io_node_os_id, 1);
    ASSERT_EQ(sc->guests[3].g.load.pattern, NP_SIM_BURSTY);
    ASSERT_U64_EQ(sc->guests[3].leave_ns, 500 * MS);
    np_sim_scenario_destroy(sc);
}

/* Replaces the first occurrence of `from` in tiny with `to`. */
static void edit(char *buf, size_t cap, const char *from, const char *to)
{
    const char *at = strstr(tiny, from);
    ASSERT_TRUE(at != NULL);
    if (!at)
        return;
    snprintf(buf, cap, "%.*s%s%s", (int)(at - tiny), tiny, to, at + strlen(from));
}

static void expect_error(const char *from, const char *to, unsigned line, const char *msg)
{
    char buf[sizeof(tiny) + 256];
    np_error err;
    edit(buf, sizeof(buf), from, to);
    np_sim_scenario *sc = parse(buf, &err);
    ASSERT_TRUE(sc == NULL);
    np_sim_scenario_destroy(sc);
    ASSERT_STR_EQ(err.origin, "t.json");
    ASSERT_EQ(err.line, line);
    ASSERT_CONTAINS(err.msg, msg);
}

static void test_parse_errors_name_the_line(void)
{
    expect_error("\"seed\": 7", "\"sead\": 7", 6, "unknown key 'sead'");
    expect_error("sim-scenario/1", "sim-scenario/2", 2, "schema: expected");
    expect_error("\"vcpus\": 1,", "\"vcpus\": \"1\",", 12, "vcpus: expected a whole number");
    expect_error("\"duty\": 0.5", "\"duty\": 2", 13, "duty: expected a number");
    expect_error("\"memory_mib\": 2048}", "\"memory_mib\": 4096}", 11,
                 "memory_mib: expected a whole number from 1 to 2048");
    expect_error("\"cpu\": \"bursty\"", "\"cpu\": \"busy\"", 12, "cpu: expected \"steady\"");
    expect_error("\"io_fraction\": 0.2", "\"io_frac\": 0.2", 14, "unknown key 'io_frac'");
    expect_error("\"duration_s\": 1,", "", 1, "missing key 'duration_s'");
    expect_error("\"seed\": 7,\n", "\"seed\": 7,,\n", 6, "invalid JSON");
    expect_error("\"count\": 3", "\"count\": 20001", 9, "count: expected");
}

static void test_every_builtin_parses_under_its_name(void)
{
    ASSERT_TRUE(np_sim_builtin_count() >= 17);
    for (size_t i = 0; i < np_sim_builtin_count(); i++) {
        np_sim_scenario *sc = NULL;
        np_error err = {0};
        ASSERT_EQ(np_sim_scenario_open(np_sim_builtin_name(i), &sc, &err), 0);
        if (!sc) {
            fprintf(stderr, "%s:%u: %s\n", err.origin, err.line, err.msg);
            continue;
        }
        ASSERT_STR_EQ(np_sim_scenario_name(sc), np_sim_builtin_name(i));
        ASSERT_TRUE(strlen(np_sim_scenario_summary(sc)) > 20);
        np_sim_scenario_destroy(sc);
    }
    np_sim_scenario *sc = NULL;
    np_error err = {0};
    ASSERT_EQ(np_sim_scenario_open("no-such", &sc, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "no built-in scenario");
}

static void test_suite_policies(void)
{
    const char *names[8];
    size_t n = np_sim_suite_policies(names, 8);
    ASSERT_TRUE(n >= 4);
    ASSERT_STR_EQ(names[0], "none");
    ASSERT_STR_EQ(names[1], "xl42-hard");
    ASSERT_STR_EQ(names[2], "xl42-soft");
    ASSERT_STR_EQ(names[3], "numaplace-soft");
    const np_sim_policy *p;
    ASSERT_EQ(n == 5, np_sim_policy_find("numaplace-balance", &p) == 0);
}

static bool same_result(const np_sim_run_result *a, const np_sim_run_result *b)
{
    if (a->nr_samples != b->nr_samples || a->events != b->events)
        return false;
    return memcmp(&a->throughput, &b->throughput, sizeof(double)) == 0 &&
           memcmp(&a->remote_ratio, &b->remote_ratio, sizeof(double)) == 0 &&
           memcmp(a->work_rate, b->work_rate, a->nr_samples * sizeof(double)) == 0 &&
           memcmp(a->remote_series, b->remote_series, a->nr_samples * sizeof(double)) == 0;
}

static void test_runs_reproduce_from_the_seed(void)
{
    np_error err;
    np_sim_scenario *sc = parse(tiny, &err);
    np_sim_run_result r1, r2, r3;
    ASSERT_TRUE(sc != NULL);
    if (!sc)
        return;
    ASSERT_EQ(np_sim_scenario_run(sc, "numaplace-soft", 0, &r1, &err), 0);
    ASSERT_EQ(np_sim_scenario_run(sc, "numaplace-soft", 0, &r2, &err), 0);
    ASSERT_EQ(np_sim_scenario_run(sc, "numaplace-soft", 99, &r3, &err), 0);
    /* at most 10 vCPUs, never all of them for the whole second */
    ASSERT_TRUE(r1.throughput > 1.0 && r1.throughput < 10.0);
    ASSERT_EQ(r1.nr_samples, 10);
    ASSERT_TRUE(same_result(&r1, &r2));
    ASSERT_TRUE(!same_result(&r1, &r3)); /* another seed draws other bursts */
    np_sim_run_result_fini(&r1);
    np_sim_run_result_fini(&r2);
    np_sim_run_result_fini(&r3);
    ASSERT_EQ(np_sim_scenario_run(sc, "xl42", 0, &r1, &err), -ENOENT);
    ASSERT_CONTAINS(err.msg, "no simulator policy");
    np_sim_scenario_destroy(sc);
}

/* Placement beats striping on a memory-bound fill: the suite's premise,
 * checked on the built-in 4-node SPECjbb-like scenario. */
static void test_placement_beats_striping_on_specjbb(void)
{
    np_sim_scenario *sc = NULL;
    np_error err = {0};
    np_sim_run_result none, xl, np;
    ASSERT_EQ(np_sim_scenario_open("specjbb-4n", &sc, &err), 0);
    if (!sc)
        return;
    ASSERT_EQ(np_sim_scenario_run(sc, "none", 0, &none, &err), 0);
    ASSERT_EQ(np_sim_scenario_run(sc, "xl42-hard", 0, &xl, &err), 0);
    ASSERT_EQ(np_sim_scenario_run(sc, "numaplace-soft", 0, &np, &err), 0);
    ASSERT_TRUE(none.remote_ratio > 0.7); /* striped over 4 nodes: 3/4 remote */
    ASSERT_TRUE(xl.remote_ratio < 0.05 && np.remote_ratio < 0.2);
    ASSERT_TRUE(xl.throughput > 1.2 * none.throughput);
    ASSERT_TRUE(np.throughput > 1.2 * none.throughput);
    np_sim_run_result_fini(&none);
    np_sim_run_result_fini(&xl);
    np_sim_run_result_fini(&np);
    np_sim_scenario_destroy(sc);
}

/* strand-cpu-4n leaves nodes 2 and 3 half idle after 2 s while nodes 0
 * and 1 stay over-committed: pinned vCPUs cannot use the idle CPUs
 * (busy share well below 1), soft-affine ones are stolen by them (credit1's
 * hard balance step), so soft affinity keeps the host busy and, the guests
 * being CPU-bound, does more work despite the remote accesses. */
static void test_soft_affinity_uses_stranded_cpus(void)
{
    np_sim_scenario *sc = NULL;
    np_error err = {0};
    np_sim_run_result hard, soft;
    ASSERT_EQ(np_sim_scenario_open("strand-cpu-4n", &sc, &err), 0);
    if (!sc)
        return;
    ASSERT_EQ(np_sim_scenario_run(sc, "xl42-hard", 0, &hard, &err), 0);
    ASSERT_EQ(np_sim_scenario_run(sc, "xl42-soft", 0, &soft, &err), 0);
    ASSERT_TRUE(hard.cpu_util < 0.85);
    ASSERT_TRUE(soft.cpu_util > hard.cpu_util + 0.1);
    ASSERT_TRUE(hard.remote_ratio < 0.01 && soft.remote_ratio > 0.1);
    /* Nodes 2 and 3 keep 8 vCPUs on 8 cores: their idle CPUs are the
     * busy cores' second threads, worth y = 0.2 of a core each
     * (calibration), so soft affinity's gain is a few percent: after the
     * departures hard does 2 x 9.6 + 2 x 8 = 35.2 vCPU-equivalents at
     * most, soft up to 38.4 less its remote accesses. */
    ASSERT_TRUE(soft.throughput > 1.02 * hard.throughput);
    np_sim_run_result_fini(&hard);
    np_sim_run_result_fini(&soft);
    np_sim_scenario_destroy(sc);
}

/* A guest that departs frees its memory at once and its vCPUs do no more
 * work; its metrics say so. */
static void test_departure_frees_memory_and_cpu(void)
{
    np_topology *t = sim_test_topo(2, 4, 16);
    np_sim *sim = NULL;
    np_sim_guest g;
    size_t a, b;
    np_sim_guest_metrics m1, m2;
    np_sim_node_mem before, after;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "stay", 2, 4 * GIB, 0.3);
    ASSERT_EQ(np_sim_add_guest(sim, &g, &a, NULL), 0);
    sim_test_guest(&g, "go", 2, 4 * GIB, 0.3);
    ASSERT_EQ(np_sim_add_guest(sim, &g, &b, NULL), 0);
    ASSERT_EQ(np_sim_depart_at(sim, b, 500 * MS), 0);
    ASSERT_EQ(np_sim_run(sim, 400 * MS), 0);
    uint64_t used_before = 0, used_after = 0;
    for (size_t k = 0; k < 2; k++) {
        ASSERT_EQ(np_sim_node_mem_get(sim, k, &before), 0);
        used_before += before.guest_pages;
    }
    ASSERT_EQ(np_sim_run(sim, 600 * MS), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, b, &m1), 0);
    ASSERT_EQ(m1.status, NP_SIM_GUEST_DEPARTED);
    for (size_t k = 0; k < 2; k++) {
        ASSERT_EQ(np_sim_node_mem_get(sim, k, &after), 0);
        used_after += after.guest_pages;
    }
    ASSERT_U64_EQ(used_before - used_after, 4 * GIB / 4096);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, b, &m2), 0);
    ASSERT_TRUE(m2.work_ns == m1.work_ns); /* nothing after it left */
    ASSERT_EQ(np_sim_guest_metrics_get(sim, a, &m2), 0);
    ASSERT_EQ(m2.status, NP_SIM_GUEST_RUNNING);
    ASSERT_TRUE(m2.work_ns > 1.5 * 2 * 1e9 * 0.5); /* still running on both vCPUs */
    ASSERT_EQ(np_sim_depart_at(sim, b, 3 * SEC), -EINVAL); /* already gone */
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* Every tests/fixtures/malformed/sim-scenario-* file fails with -EINVAL,
 * its file name, the line of the bad value and what was expected. */
static void check_bad(const char *name, unsigned line, const char *msg)
{
    char path[512];
    np_sim_scenario *sc = NULL;
    np_error err = {0};
    snprintf(path, sizeof(path), "%s/malformed/%s", NP_FIXTURES_DIR, name);
    ASSERT_EQ(np_sim_scenario_load(path, &sc, &err), -EINVAL);
    ASSERT_TRUE(sc == NULL);
    ASSERT_STR_EQ(err.origin, path);
    if (err.line != line)
        NP_TEST_FAIL_("%s: error on line %u, expected line %u (%s)", name, err.line, line,
                      err.msg);
    ASSERT_CONTAINS(err.msg, msg);
}

static void test_malformed_corpus(void)
{
    check_bad("sim-scenario-trailing-comma.json", 8, "invalid JSON");
    check_bad("sim-scenario-unknown-key.json", 8, "unknown key 'memory_gib'");
    check_bad("sim-scenario-wrong-schema.json", 3,
              "schema: expected \"numaplace.sim-scenario/1\"");
    check_bad("sim-scenario-balloon-above-max.json", 9,
              "memory_mib: expected a whole number from 1 to 1024");
    check_bad("sim-scenario-io-without-node.json", 8,
              "io_fraction: expected io_node and io_fraction given together");
    check_bad("sim-scenario-too-many-guests.json", 10, "more than 65536 guests in all");
    check_bad("sim-scenario-not-object.json", 1, "expected a JSON object");
    check_bad("sim-scenario-no-guests.json", 6, "guests: expected a non-empty array");
}

int main(void)
{
    NP_RUN(test_parse_expands_guests);
    NP_RUN(test_parse_errors_name_the_line);
    NP_RUN(test_every_builtin_parses_under_its_name);
    NP_RUN(test_suite_policies);
    NP_RUN(test_runs_reproduce_from_the_seed);
    NP_RUN(test_placement_beats_striping_on_specjbb);
    NP_RUN(test_soft_affinity_uses_stranded_cpus);
    NP_RUN(test_departure_frees_memory_and_cpu);
    NP_RUN(test_malformed_corpus);
    return np_test_summary();
}
