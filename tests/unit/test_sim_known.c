/*
 * test_sim_known.c - the simulator's known-answer tests: situations whose
 * outcome follows from the model's definition, checked against numbers
 * computed here from that definition (not copied from a run).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/calibration.h"
#include "np_test.h"
#include "sim_test_util.h"

/* Runs one steady guest: memory on mem_node, vCPUs pinned to cpu_node. */
static void run_pinned(np_topology *t, size_t mem_node, int cpu_node, double intensity,
                       np_sim_guest_metrics *out)
{
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_plan *p = sim_test_plan(t, 2, mem_node, cpu_node, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "vm", 2, 2 * GIB, intensity);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, out), 0);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
}

static void test_local_memory_has_no_remote_access(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim_guest_metrics m;

    run_pinned(t, 0, 0, 0.5, &m);
    ASSERT_EQ(m.status, NP_SIM_GUEST_RUNNING);
    ASSERT_TRUE(m.work_ns > 0);
    ASSERT_TRUE(m.remote_ratio == 0.0);
    ASSERT_TRUE(m.internal_remote_ratio == 0.0);
    /* Two steady vCPUs on two CPUs of their own: close to 2 CPUs of
     * work, less only the context switches into them. */
    ASSERT_TRUE(m.throughput > 1.999 && m.throughput <= 2.0);
    np_topology_destroy(t);
}

static void test_pinned_away_from_memory_pays_full_penalty(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *probe = NULL;
    np_sim_guest_metrics local, remote;
    double m = 0.5;

    run_pinned(t, 0, 0, m, &local);
    run_pinned(t, 0, 1, m, &remote);
    ASSERT_TRUE(fabs(remote.remote_ratio - 1.0) < 1e-12);

    /* The calibration: SLIT 21 is 139/89 ns on a 2-socket Xeon. */
    ASSERT_EQ(np_sim_create(t, NULL, &probe), 0);
    double lat = np_sim_latency_ratio(probe, 1, 0);
    ASSERT_TRUE(fabs(lat - NP_CALIB_LAT_RATIO_SOCKET) < 1e-9);
    np_sim_destroy(probe);

    /* Work per ns: 1 locally, 1 / ((1 - m) + m * lat) when all of memory
     * is remote; the context-switch stall is the same in both runs. */
    double expected = 1.0 / ((1.0 - m) + m * lat);
    double got = remote.work_ns / local.work_ns;
    ASSERT_TRUE(fabs(got - expected) < 1e-6);
    ASSERT_TRUE(got < 0.79); /* a real penalty: 1/1.28 */
    np_topology_destroy(t);
}

/* A's work with or without B in the host. */
static double work_of_a(np_topology *t, int with_b, int b_node, np_sim_guest_metrics *ma)
{
    np_sim *sim = NULL;
    np_sim_guest a, b;
    np_sim_plan *pa = sim_test_plan(t, 2, 0, 0, 1);
    np_sim_plan *pb = sim_test_plan(t, 2, (size_t)b_node, b_node, 1);
    double work = 0;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&a, "a", 2, 2 * GIB, 0.4);
    np_sim_vcpu_load_init(&a.load, NP_SIM_BURSTY);
    a.load.mem_intensity = 0.4;
    a.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &a, NULL, NULL), 0);
    if (with_b) {
        sim_test_guest(&b, "b", 2, 2 * GIB, 0.8);
        b.load.mem_bw_bps = 0; /* B hammers its own node's memory */
        b.plan = pb;
        ASSERT_EQ(np_sim_add_guest(sim, &b, NULL, NULL), 0);
    }
    ASSERT_EQ(np_sim_run(sim, 3 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, ma), 0);
    work = ma->work_ns;
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    return work;
}

static void test_disjoint_guests_do_not_interfere(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim_guest_metrics alone, beside, shared;

    double w0 = work_of_a(t, 0, 1, &alone);
    double w1 = work_of_a(t, 1, 1, &beside);
    ASSERT_TRUE(w0 > 0);
    ASSERT_TRUE(rel_diff(w0, w1) < 1e-9);
    ASSERT_EQ(beside.wait_ns, alone.wait_ns);
    ASSERT_TRUE(beside.remote_ratio == 0.0);

    /* The same B on A's node does take CPU from A: the test can fail. */
    double w2 = work_of_a(t, 1, 0, &shared);
    ASSERT_TRUE(w2 < 0.9 * w0);
    ASSERT_TRUE(shared.wait_ns > alone.wait_ns);
    np_topology_destroy(t);
}

/* A busy guest B pinned to node 0, and guest A preferring (soft) or pinned
 * to (hard) node 0: where does A run? */
static void run_affinity(int a_hard, uint64_t *a_node0, uint64_t *a_node1, double *a_work,
                         uint64_t *a_wait)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = NULL;
    np_sim_guest a, b;
    np_sim_plan *pa = sim_test_plan(t, 2, 0, 0, a_hard);
    np_sim_plan *pb = sim_test_plan(t, 2, 0, 0, 1);
    np_sim_guest_metrics m;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&b, "busy", 2, 1 * GIB, 0.1);
    b.plan = pb;
    ASSERT_EQ(np_sim_add_guest(sim, &b, NULL, NULL), 0);
    sim_test_guest(&a, "a", 2, 1 * GIB, 0.1);
    a.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &a, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    *a_node0 = np_sim_guest_node_run_ns(sim, 1, 0);
    *a_node1 = np_sim_guest_node_run_ns(sim, 1, 1);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 1, &m), 0);
    *a_work = m.work_ns;
    *a_wait = m.wait_ns;
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_soft_affinity_falls_back_hard_does_not(void)
{
    uint64_t s0, s1, h0, h1, s_wait, h_wait;
    double s_work, h_work;

    run_affinity(0, &s0, &s1, &s_work, &s_wait);
    run_affinity(1, &h0, &h1, &h_work, &h_wait);
    /* Soft: node 0 is busy, so A runs on node 1's idle CPUs, nearly all
     * the time (2 vCPUs x 2 s). */
    ASSERT_TRUE(s1 > 3 * SEC);
    /* Hard: never outside node 0, sharing it with B: about half of it. */
    ASSERT_EQ(h1, 0);
    ASSERT_TRUE(h0 > 1 * SEC && h0 < 3 * SEC);
    ASSERT_TRUE(h_wait > 1 * SEC);
    ASSERT_TRUE(s_work > 1.5 * h_work);
}

static void test_ballooned_pages_leave_node_counts(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_plan *p = sim_test_plan(t, 1, 0, 0, 1);
    np_sim_node_mem before, after, grown1;
    np_bitmap *node1 = NULL;
    uint64_t pages_4g = 4 * GIB / 4096, pages_1g = GIB / 4096;

    ASSERT_EQ(np_bitmap_create(&node1), 0);
    ASSERT_EQ(np_bitmap_set(node1, 1), 0);
    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "balloon", 1, 4 * GIB, 0.2);
    g.spec.maxmem_bytes = 6 * GIB;
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_balloon_at(sim, 0, 1 * SEC, 1 * GIB), 0);
    ASSERT_EQ(np_sim_run(sim, SEC / 2), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &before), 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 0), pages_4g);

    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &after), 0);
    ASSERT_U64_EQ(before.guest_pages - after.guest_pages, pages_4g - pages_1g);
    ASSERT_U64_EQ(after.free_pages - before.free_pages, pages_4g - pages_1g);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 0), pages_1g);

    /* Growing again follows the node affinity set through the backend. */
    ASSERT_EQ(np_backend_set_guest_node_affinity(np_sim_backend(sim), 0, node1), 0);
    ASSERT_EQ(np_sim_balloon_at(sim, 0, 3 * SEC, 3 * GIB), 0);
    ASSERT_EQ(np_sim_run(sim, 4 * SEC), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 1, &grown1), 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 1), 2 * GIB / 4096);
    ASSERT_U64_EQ(grown1.guest_pages, 2 * GIB / 4096);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 0), pages_1g);

    /* A step due before a guest arrives applies when it arrives. */
    sim_test_guest(&g, "late", 1, 2 * GIB, 0.2);
    g.start_ns = 6 * SEC;
    g.plan = p;
    size_t late;
    ASSERT_EQ(np_sim_add_guest(sim, &g, &late, NULL), 0);
    ASSERT_EQ(np_sim_balloon_at(sim, late, 5 * SEC, GIB), 0);
    ASSERT_EQ(np_sim_run(sim, 5500 * MS), 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, late, 0), 0); /* not arrived yet */
    ASSERT_EQ(np_sim_run(sim, 7 * SEC), 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, late, 0), pages_1g);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, late, 1), 0);

    /* Above maxmem is refused. */
    ASSERT_EQ(np_sim_balloon_at(sim, 0, 5 * SEC, 7 * GIB), -EINVAL);
    np_bitmap_destroy(node1);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* A busy mixed scenario: everything a run reports, into one buffer. */
static size_t run_mixed(uint64_t seed, double *buf, size_t cap)
{
    np_topology *t = sim_test_topo(4, 4, 16);
    np_sim *sim = NULL;
    np_sim_config cfg;
    const np_sim_policy *pol = NULL;
    size_t n = 0;

    np_sim_config_init(&cfg);
    cfg.seed = seed;
    cfg.sample_ns = 200 * MS;
    ASSERT_EQ(np_sim_create(t, &cfg, &sim), 0);
    ASSERT_EQ(np_sim_policy_find("simple-soft", &pol), 0);
    ASSERT_EQ(np_sim_set_policy(sim, pol, NULL), 0);
    for (int i = 0; i < 12; i++) {
        np_sim_guest g;
        sim_test_guest(&g, "", (uint32_t)(1 + i % 4), (uint64_t)(1 + i % 3) * GIB, 0.1 * (i % 6));
        np_sim_vcpu_load_init(&g.load, i % 3 == 0 ? NP_SIM_STEADY : i % 3 == 1 ? NP_SIM_BURSTY : NP_SIM_IDLE);
        g.start_ns = (uint64_t)i * 50 * MS;
        ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    }
    ASSERT_EQ(np_sim_add_traffic(sim, 0, 5, 1.0), 0);
    ASSERT_EQ(np_sim_run(sim, 3 * SEC), 0);

    np_sim_host_metrics hm;
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    double host[] = {(double)hm.events, hm.work_ns, hm.remote_ratio, hm.cpu_util,
                     hm.cpu_imbalance, hm.bw_imbalance, hm.fairness_cpu, hm.fairness_progress,
                     (double)hm.vcpu_migrations, (double)hm.node_migrations};
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]) && n < cap; i++)
        buf[n++] = host[i];
    for (size_t gi = 0; gi < np_sim_nr_guests(sim); gi++) {
        np_sim_guest_metrics m;
        ASSERT_EQ(np_sim_guest_metrics_get(sim, gi, &m), 0);
        double gm[] = {m.work_ns, (double)m.cpu_ns, (double)m.wait_ns, m.remote_ratio,
                       (double)m.vcpu_migrations, (double)m.stall_ns};
        for (size_t i = 0; i < sizeof(gm) / sizeof(gm[0]) && n < cap; i++)
            buf[n++] = gm[i];
    }
    for (size_t i = 0; i < np_sim_nr_samples(sim) && n + 3 < cap; i++) {
        np_sim_sample s;
        ASSERT_EQ(np_sim_sample_get(sim, i, &s), 0);
        buf[n++] = s.work_rate;
        buf[n++] = s.remote_ratio;
        buf[n++] = s.cpu_util;
    }
    ASSERT_EQ(np_sim_nr_samples(sim), 15);
    np_sim_destroy(sim);
    np_topology_destroy(t);
    return n;
}

static void test_same_seed_same_results(void)
{
    double a[256], b[256], c[256];
    size_t na = run_mixed(42, a, 256);
    size_t nb = run_mixed(42, b, 256);
    size_t nc = run_mixed(43, c, 256);

    ASSERT_EQ(na, nb);
    ASSERT_TRUE(na > 80);
    ASSERT_TRUE(memcmp(a, b, na * sizeof(double)) == 0);
    /* A different seed gives a different run (the comparison can fail). */
    ASSERT_EQ(na, nc);
    ASSERT_TRUE(memcmp(a, c, na * sizeof(double)) != 0);
}

int main(void)
{
    NP_RUN(test_local_memory_has_no_remote_access);
    NP_RUN(test_pinned_away_from_memory_pays_full_penalty);
    NP_RUN(test_disjoint_guests_do_not_interfere);
    NP_RUN(test_soft_affinity_falls_back_hard_does_not);
    NP_RUN(test_ballooned_pages_leave_node_counts);
    NP_RUN(test_same_seed_same_results);
    return np_test_summary();
}
