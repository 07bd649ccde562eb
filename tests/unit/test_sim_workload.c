/*
 * test_sim_workload.c - the demand patterns and what makes a vCPU faster
 * or slower: duty of bursty and idle vCPUs, traffic between guests by
 * distance, IO near or far from the device's node.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/calibration.h"
#include "np_test.h"
#include "sim_test_util.h"

static void test_duty_sets_cpu_use(void)
{
    np_topology *t = sim_test_topo(1, 4, 8);
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "bursty", 1, GIB, 0.0);
    np_sim_vcpu_load_init(&g.load, NP_SIM_BURSTY);
    g.load.mem_intensity = 0.0;
    g.load.duty = 0.3;
    g.load.burst_work_ns = 1 * MS;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "idle", 1, GIB, 0.0);
    np_sim_vcpu_load_init(&g.load, NP_SIM_IDLE);
    g.load.mem_intensity = 0.0;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 20 * SEC), 0);
    /* ~6000 bursts: the mean is within a few percent of the duty. */
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_TRUE(fabs((double)m.cpu_ns / (20.0 * SEC) - 0.3) < 0.015);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 1, &m), 0);
    ASSERT_TRUE(fabs((double)m.cpu_ns / (20.0 * SEC) - 0.01) < 0.002);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* Work of guest 0 talking to guest 1 placed on `peer_node`. */
static double talk(np_topology *t, size_t peer_node, double comm)
{
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;
    np_sim_plan *pa = sim_test_plan(t, 1, 0, 0, 1), *pb = sim_test_plan(t, 1, peer_node, (int)peer_node, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "client", 1, GIB, 0.2);
    g.comm_fraction = comm;
    g.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "server", 1, GIB, 0.2);
    g.comm_fraction = comm;
    g.plan = pb;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_add_traffic(sim, 0, 1, 1.0), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_TRUE(m.remote_ratio == 0.0); /* its own memory is local either way */
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    return m.work_ns;
}

static void test_traffic_costs_more_with_distance(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *probe = NULL;
    double near = talk(t, 0, 0.4), far = talk(t, 1, 0.4);

    ASSERT_EQ(np_sim_create(t, NULL, &probe), 0);
    double lat = np_sim_latency_ratio(probe, 0, 1);
    np_sim_destroy(probe);
    /* per unit of work: 0.6 computing (all local) + 0.4 x distance ratio */
    double expected = 1.0 / (0.6 + 0.4 * lat);
    ASSERT_TRUE(fabs(far / near - expected) < 1e-6);

    np_sim *sim = NULL;
    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    np_sim_guest g;
    sim_test_guest(&g, "x", 1, GIB, 0.2);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_add_traffic(sim, 0, 0, 1.0), -EINVAL);
    ASSERT_EQ(np_sim_add_traffic(sim, 0, 3, 1.0), -EINVAL);
    g.comm_fraction = 0.7;
    g.io_fraction = 0.5;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), -EINVAL);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static double io_work(np_topology *t, int cpu_node)
{
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;
    np_sim_plan *p = sim_test_plan(t, 1, (size_t)cpu_node, cpu_node, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "io", 1, GIB, 0.1);
    g.io_fraction = 0.5;
    g.spec.io_node_os_id = 1;
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    return m.work_ns;
}

static void test_io_guest_is_faster_near_its_device(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    double near = io_work(t, 1), far = io_work(t, 0);
    ASSERT_TRUE(far < near);
    ASSERT_TRUE(fabs(far / near - 1.0 / (0.5 + 0.5 * NP_CALIB_LAT_RATIO_SOCKET)) < 1e-6);
    np_topology_destroy(t);
}

static void test_throughput_is_in_vcpu_equivalents(void)
{
    np_topology *t = sim_test_topo(1, 4, 8);
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;
    np_sim_plan *p = sim_test_plan(t, 3, 0, 0, 1);

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "three", 3, GIB, 0.0);
    g.plan = p;
    g.start_ns = SEC;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC / 2), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(m.status, NP_SIM_GUEST_PENDING);
    ASSERT_EQ(np_sim_run(sim, 3 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(m.status, NP_SIM_GUEST_RUNNING);
    /* Alive 2 s, 3 vCPUs flat out on local memory: 3, less one switch. */
    ASSERT_TRUE(m.throughput > 2.999 && m.throughput <= 3.0);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* A guest split over two nodes, one vCPU pinned on each. */
static double split_remote(int vnuma)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = NULL;
    np_sim_plan *p = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    ASSERT_EQ(np_sim_plan_create(2, 2, &p), 0);
    for (uint32_t v = 0; v < 2; v++) {
        ASSERT_EQ(np_sim_plan_set_node_mem(p, v, GIB), 0);
        ASSERT_EQ(np_sim_plan_set_vcpu_affinity(p, v, np_topology_node_cpuset(t, v), NULL), 0);
        if (vnuma)
            ASSERT_EQ(np_sim_plan_set_vcpu_vnode_node(p, v, v), 0);
    }
    ASSERT_EQ(np_sim_plan_set_vcpu_vnode_node(p, 2, 0), -EINVAL);
    sim_test_guest(&g, "wide", 2, 2 * GIB, 0.5);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
    return m.remote_ratio;
}

static void test_vnuma_keeps_accesses_on_the_virtual_node(void)
{
    np_sim_config c;
    np_sim_config_init(&c);
    /* Without vNUMA each vCPU reaches all of the guest's memory alike:
     * half of it is on the other node. With it, only what the guest does
     * not keep on its virtual node. */
    ASSERT_TRUE(fabs(split_remote(0) - 0.5) < 1e-9);
    ASSERT_TRUE(fabs(split_remote(1) - 0.5 * (1.0 - c.vnuma_locality)) < 1e-9);
}

int main(void)
{
    NP_RUN(test_duty_sets_cpu_use);
    NP_RUN(test_traffic_costs_more_with_distance);
    NP_RUN(test_io_guest_is_faster_near_its_device);
    NP_RUN(test_throughput_is_in_vcpu_equivalents);
    NP_RUN(test_vnuma_keeps_accesses_on_the_virtual_node);
    return np_test_summary();
}
