/*
 * test_sim_sched.c - the credit scheduler model: proportional shares by
 * weight, work conservation, boost on wake, stealing by idle CPUs, hard
 * and soft affinity, affinity changes while running.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "np_test.h"
#include "sim_test_util.h"

/* CPU mask of one CPU (os_id). */
static np_bitmap *one_cpu(unsigned cpu)
{
    np_bitmap *m = NULL;
    if (np_bitmap_create(&m) || np_bitmap_set(m, cpu)) {
        np_bitmap_destroy(m);
        return NULL;
    }
    return m;
}

/* A one-vCPU guest pinned to `cpus` (NULL = free), memory on node 0. */
static size_t add_pinned(np_sim *sim, const np_topology *t, const char *name, const np_bitmap *cpus,
                         uint32_t weight, np_sim_pattern pattern)
{
    np_sim_guest g;
    np_sim_plan *p = NULL;
    size_t gidx = SIZE_MAX;

    sim_test_guest(&g, name, 1, GIB, 0.1);
    np_sim_vcpu_load_init(&g.load, pattern);
    g.load.mem_intensity = 0.1;
    g.load.mem_bw_bps = 1;
    g.weight = weight;
    ASSERT_EQ(np_sim_plan_create(np_topology_nr_nodes(t), 1, &p), 0);
    np_sim_plan_set_node_mem(p, 0, 1);
    np_sim_plan_set_vcpu_affinity(p, 0, cpus, NULL);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, &gidx, NULL), 0);
    np_sim_plan_destroy(p);
    return gidx;
}

static uint64_t cpu_of(np_sim *sim, size_t g)
{
    np_sim_guest_metrics m;
    np_sim_guest_metrics_get(sim, g, &m);
    return m.cpu_ns;
}

static void test_weights_give_proportional_shares(void)
{
    /* One CPU: credit1 hands out credit for every CPU of the host, so
     * weights bind only when the competitors can use all of it. */
    np_topology *t = sim_test_topo(1, 1, 4);
    np_sim *sim = NULL;
    np_bitmap *cpu0 = one_cpu(0);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    size_t a = add_pinned(sim, t, "light", cpu0, 256, NP_SIM_STEADY);
    size_t b = add_pinned(sim, t, "heavy", cpu0, 768, NP_SIM_STEADY);
    ASSERT_EQ(np_sim_run(sim, 6 * SEC), 0);
    double share_a = (double)cpu_of(sim, a) / (6.0 * SEC);
    double share_b = (double)cpu_of(sim, b) / (6.0 * SEC);
    /* One CPU split 1:3 by weight. */
    ASSERT_TRUE(fabs(share_a - 0.25) < 0.03);
    ASSERT_TRUE(fabs(share_b - 0.75) < 0.03);
    ASSERT_TRUE(share_a + share_b > 0.999);
    np_bitmap_destroy(cpu0);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_equal_weights_share_equally(void)
{
    np_topology *t = sim_test_topo(1, 2, 4);
    np_sim *sim = NULL;
    np_bitmap *cpu1 = one_cpu(1);
    np_sim_host_metrics hm;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    size_t a = add_pinned(sim, t, "a", cpu1, 0, NP_SIM_STEADY);
    size_t b = add_pinned(sim, t, "b", cpu1, 0, NP_SIM_STEADY);
    ASSERT_EQ(np_sim_run(sim, 3 * SEC), 0);
    ASSERT_TRUE(rel_diff((double)cpu_of(sim, a), (double)cpu_of(sim, b)) < 0.03);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    ASSERT_TRUE(hm.fairness_cpu > 0.999);
    /* Only CPU 1 of the two works. */
    ASSERT_TRUE(fabs(hm.cpu_util - 0.5) < 1e-3);
    np_bitmap_destroy(cpu1);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_free_vcpus_use_every_cpu(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = NULL;
    np_sim_host_metrics hm;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    for (int i = 0; i < 4; i++)
        add_pinned(sim, t, "", NULL, 0, NP_SIM_STEADY);
    ASSERT_EQ(np_sim_run(sim, 1 * SEC), 0);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    ASSERT_TRUE(hm.cpu_util > 0.999);
    ASSERT_TRUE(hm.cpu_imbalance < 1e-3);
    for (size_t g = 0; g < 4; g++)
        ASSERT_TRUE(cpu_of(sim, g) > 999 * MS);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_boost_gives_waking_vcpu_the_cpu(void)
{
    np_topology *t = sim_test_topo(1, 1, 4);
    np_sim *sim = NULL;
    np_bitmap *cpu0 = one_cpu(0);
    np_sim_guest_metrics m;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    add_pinned(sim, t, "hog", cpu0, 0, NP_SIM_STEADY);
    size_t io = add_pinned(sim, t, "io", cpu0, 0, NP_SIM_IDLE);
    ASSERT_EQ(np_sim_run(sim, 5 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, io, &m), 0);
    /* ~250 wakes of 0.2 ms bursts at 1% duty. A boosted wake preempts the
     * hog after an IPI (2 us); without boost it would wait for the hog's
     * 30 ms slice. */
    double wakes = m.work_ns / 200e3;
    ASSERT_TRUE(wakes > 150);
    ASSERT_TRUE((double)m.wait_ns / wakes < 50e3);
    np_bitmap_destroy(cpu0);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_idle_cpu_takes_waiting_work(void)
{
    np_topology *t = sim_test_topo(1, 2, 4);
    np_sim *sim = NULL;
    np_bitmap *cpu0 = one_cpu(0), *both = NULL;
    np_sim_host_metrics h1, h2;

    ASSERT_EQ(np_bitmap_create(&both), 0);
    ASSERT_EQ(np_bitmap_set_range(both, 0, 1), 0);
    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    size_t x = add_pinned(sim, t, "x", cpu0, 0, NP_SIM_STEADY);
    size_t y = add_pinned(sim, t, "y", cpu0, 0, NP_SIM_STEADY);
    ASSERT_EQ(np_sim_run(sim, 1 * SEC), 0);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &h1), 0);
    ASSERT_TRUE(fabs(h1.cpu_util - 0.5) < 1e-3); /* both on CPU 0, CPU 1 idle */
    uint64_t x1 = cpu_of(sim, x), y1 = cpu_of(sim, y);
    /* Y may now use CPU 1: the idle CPU gets it at once (tickle and
     * steal, or the running vCPU's next tick re-picks a CPU). */
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), y, 0, both, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &h2), 0);
    ASSERT_TRUE(cpu_of(sim, x) - x1 > 950 * MS);
    ASSERT_TRUE(cpu_of(sim, y) - y1 > 950 * MS);
    ASSERT_TRUE(h2.cpu_util > 0.74);
    np_bitmap_destroy(cpu0);
    np_bitmap_destroy(both);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_affinity_change_moves_running_vcpu(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = NULL;
    np_bitmap *node1 = sim_test_node_cpus(t, 1);
    np_sim_guest g;
    np_sim_plan *p = sim_test_plan(t, 1, 0, 0, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "mover", 1, GIB, 0.2);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC / 2), 0);
    ASSERT_EQ(np_sim_guest_node_run_ns(sim, 0, 1), 0);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), 0, 0, node1, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    uint64_t on0 = np_sim_guest_node_run_ns(sim, 0, 0), on1 = np_sim_guest_node_run_ns(sim, 0, 1);
    ASSERT_TRUE(on0 >= SEC / 2 && on0 < SEC / 2 + MS);
    ASSERT_TRUE(on1 > SEC / 2 - MS);
    /* An unknown guest or vCPU, and a mask without a host CPU. */
    np_bitmap *none = NULL;
    ASSERT_EQ(np_bitmap_create(&none), 0);
    ASSERT_EQ(np_bitmap_set(none, 999), 0);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), 7, 0, node1, NULL), -ENOENT);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), 0, 1, node1, NULL), -ENOENT);
    ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), 0, 0, none, NULL), -EINVAL);
    np_bitmap_destroy(none);
    np_bitmap_destroy(node1);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_soft_affinity_returns_when_preferred_cpus_free_up(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = NULL;
    np_sim_guest a, busy;
    np_sim_plan *pa = sim_test_plan(t, 2, 0, 0, 0);
    np_sim_plan *pb = sim_test_plan(t, 2, 0, 0, 1);
    np_bitmap *node1 = sim_test_node_cpus(t, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&busy, "busy", 2, GIB, 0.1);
    busy.plan = pb;
    ASSERT_EQ(np_sim_add_guest(sim, &busy, NULL, NULL), 0);
    sim_test_guest(&a, "a", 2, GIB, 0.1);
    a.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &a, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 1 * SEC), 0);
    uint64_t a0 = np_sim_guest_node_run_ns(sim, 1, 0), a1 = np_sim_guest_node_run_ns(sim, 1, 1);
    ASSERT_TRUE(a1 > 19 * SEC / 10); /* away from its busy preferred node */
    /* The busy guest moves to node 1: A's preferred CPUs go idle and A
     * returns at its next ticks. */
    for (uint32_t v = 0; v < 2; v++)
        ASSERT_EQ(np_backend_set_vcpu_affinity(np_sim_backend(sim), 0, v, node1, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    uint64_t b0 = np_sim_guest_node_run_ns(sim, 1, 0), b1 = np_sim_guest_node_run_ns(sim, 1, 1);
    ASSERT_TRUE(b0 - a0 > 19 * SEC / 10 - 100 * MS);
    ASSERT_TRUE(b1 - a1 < 100 * MS);
    np_bitmap_destroy(node1);
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_weights_give_proportional_shares);
    NP_RUN(test_equal_weights_share_equally);
    NP_RUN(test_free_vcpus_use_every_cpu);
    NP_RUN(test_boost_gives_waking_vcpu_the_cpu);
    NP_RUN(test_idle_cpu_takes_waiting_work);
    NP_RUN(test_affinity_change_moves_running_vcpu);
    NP_RUN(test_soft_affinity_returns_when_preferred_cpus_free_up);
    return np_test_summary();
}
