/*
 * test_sim_memory.c - where guests' pages go and how they move: planned
 * splits, striping, spilling to the nearest node, rejection, first touch,
 * rate-limited migration with its stall, page sharing within and across
 * nodes, hypervisor per-vCPU state, and bandwidth contention.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "np_test.h"
#include "sim_test_util.h"

#define PAGES(bytes) ((bytes) / 4096)

static np_sim *make_sim(np_topology *t, np_sim_config *cfg)
{
    np_sim *sim = NULL;
    if (np_sim_create(t, cfg, &sim))
        return NULL;
    return sim;
}

static void test_striped_memory_is_split_evenly(void)
{
    np_topology *t = sim_test_topo(4, 2, 8);
    np_sim *sim = make_sim(t, NULL);
    np_sim_guest g;

    sim_test_guest(&g, "striped", 2, 4 * GIB, 0.3); /* policy "none": striped */
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, MS), 0);
    for (size_t k = 0; k < 4; k++)
        ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, k), PAGES(GIB));
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_plan_proportions_and_spill_to_nearest(void)
{
    /* Node 0 is near node 2 (12) and far from 1 and 3 (30). */
    static const unsigned dist[16] = {10, 30, 12, 30, 30, 10, 30, 30,
                                      12, 30, 10, 30, 30, 30, 30, 10};
    np_topology *t = sim_test_topo_dist(4, 2, 4, dist, 0);
    np_sim *sim = make_sim(t, NULL);
    np_sim_guest g;
    np_sim_plan *p = NULL;
    np_sim_node_mem nm;

    ASSERT_EQ(np_sim_plan_create(4, 1, &p), 0);
    ASSERT_EQ(np_sim_plan_set_node_mem(p, 1, 1), 0);
    ASSERT_EQ(np_sim_plan_set_node_mem(p, 3, 3), 0);
    sim_test_guest(&g, "split", 1, 4 * GIB, 0.3);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);

    /* 6 GiB asked of node 0 (4 GiB): 4 there, the rest on node 2, the
     * nearest, not on 1 or 3. */
    np_sim_plan *big = sim_test_plan(t, 1, 0, 0, 1);
    sim_test_guest(&g, "big", 1, 6 * GIB, 0.3);
    g.plan = big;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, MS), 0);

    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 1), PAGES(GIB));
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 3), PAGES(3 * GIB));
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 1, 0) + np_sim_guest_node_pages(sim, 1, 2),
                  PAGES(6 * GIB));
    /* Node 0 also holds the per-vCPU state (16 KiB = 4 pages). */
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &nm), 0);
    ASSERT_U64_EQ(nm.guest_pages + nm.internal_pages, PAGES(4 * GIB));
    ASSERT_U64_EQ(nm.free_pages, 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 1, 2), PAGES(2 * GIB) + nm.internal_pages);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 1, 1), 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 1, 3), 0);
    np_sim_plan_destroy(p);
    np_sim_plan_destroy(big);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_guest_that_does_not_fit_is_rejected_cleanly(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim *sim = make_sim(t, NULL);
    np_sim_guest g;
    np_sim_guest_metrics m;
    np_sim_node_mem n0, n1;

    sim_test_guest(&g, "huge", 2, 9 * GIB, 0.3);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 10 * MS), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(m.status, NP_SIM_GUEST_REJECTED);
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &n0), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 1, &n1), 0);
    ASSERT_U64_EQ(n0.guest_pages + n1.guest_pages, 0);
    ASSERT_U64_EQ(n0.free_pages, PAGES(4 * GIB));
    ASSERT_EQ(m.cpu_ns, 0);

    /* Bad guests are refused up front with a reason. */
    np_error err = {{0}, 0, {0}};
    sim_test_guest(&g, "bad", 0, GIB, 0.3);
    g.start_ns = np_sim_now_ns(sim);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "vCPUs");
    sim_test_guest(&g, "bad", 1, GIB, 1.5);
    g.start_ns = np_sim_now_ns(sim);
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "intensity");
    sim_test_guest(&g, "bad", 1, GIB, 0.3);
    g.start_ns = np_sim_now_ns(sim);
    g.spec.io_node_os_id = 5;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "io node 5");
    sim_test_guest(&g, "bad", 1, GIB, 0.3);
    g.start_ns = 0; /* now is 10 ms */
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "past");
    ASSERT_EQ(np_sim_nr_guests(sim), 1);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void keep_last(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)level;
    (void)subsys;
    snprintf((char *)opaque, 256, "%s", msg);
}

static void test_plan_without_host_cpus_is_rejected(void)
{
    np_topology *t = sim_test_topo(2, 2, 4);
    np_sim_config cfg;
    char last[256] = "";
    np_sim_config_init(&cfg);
    cfg.log = keep_last;
    cfg.log_opaque = last;
    np_sim *sim = make_sim(t, &cfg);
    np_sim_plan *p = NULL;
    np_bitmap *far = NULL;
    np_sim_guest g;
    np_sim_guest_metrics m;

    ASSERT_EQ(np_bitmap_create(&far), 0);
    ASSERT_EQ(np_bitmap_set(far, 99), 0);
    ASSERT_EQ(np_sim_plan_create(2, 1, &p), 0);
    ASSERT_EQ(np_sim_plan_set_vcpu_affinity(p, 0, far, NULL), 0);
    sim_test_guest(&g, "nowhere", 1, GIB, 0.3);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, MS), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(m.status, NP_SIM_GUEST_REJECTED);
    ASSERT_CONTAINS(last, "guest nowhere rejected: a hard affinity names no CPU");
    ASSERT_U64_EQ(m.mem_pages, 0);
    np_bitmap_destroy(far);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_first_touch_follows_the_vcpus(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = make_sim(t, NULL);
    np_sim_guest g;
    np_sim_plan *p = NULL;

    ASSERT_EQ(np_sim_plan_create(2, 2, &p), 0);
    ASSERT_EQ(np_sim_plan_set_mem_mode(p, NP_SIM_MEM_FIRST_TOUCH), 0);
    ASSERT_EQ(np_sim_plan_set_vcpu_affinity(p, 0, np_topology_node_cpuset(t, 0), NULL), 0);
    ASSERT_EQ(np_sim_plan_set_vcpu_affinity(p, 1, np_topology_node_cpuset(t, 1), NULL), 0);
    sim_test_guest(&g, "ft", 2, 2 * GIB, 0.3);
    g.load.working_set_bytes = 512 * MIB;
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 100 * MS), 0);
    /* vCPU 1 touched its working set on node 1; vCPU 0 its own and the
     * rest of memory (what boot touches) on node 0. */
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 1), PAGES(512 * MIB));
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 0), PAGES(1536 * MIB));
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_migration_is_rate_limited_and_costs_a_stall(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim *sim = make_sim(t, NULL);
    np_backend *be = NULL;
    np_sim_guest g;
    np_sim_plan *p = sim_test_plan(t, 2, 0, 1, 1); /* memory on 0, vCPUs on 1 */
    np_sim_guest_metrics before, after;
    uint64_t moved = 0;

    sim_test_guest(&g, "mig", 2, 2 * GIB, 0.5);
    g.load.working_set_bytes = GIB; /* half of memory */
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    be = np_sim_backend(sim);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &before), 0);
    ASSERT_TRUE(fabs(before.remote_ratio - 1.0) < 1e-12);

    /* The bucket holds at most 128 MiB (1.28 GB/s for 100 ms). */
    ASSERT_EQ(np_backend_migrate_memory(be, 0, 0, 1, GIB, &moved), 0);
    ASSERT_U64_EQ(moved, 128 * MIB);
    ASSERT_EQ(np_backend_migrate_memory(be, 0, 0, 1, GIB, &moved), 0);
    ASSERT_U64_EQ(moved, 0);
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 1), PAGES(128 * MIB));
    ASSERT_EQ(np_sim_run(sim, SEC + 50 * MS), 0);
    ASSERT_EQ(np_backend_migrate_memory(be, 0, 0, 1, GIB, &moved), 0);
    ASSERT_U64_EQ(moved, 64000000 / 4096 * 4096); /* 50 ms at 1.28 GB/s */
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &after), 0);
    ASSERT_U64_EQ(after.pages_migrated, PAGES(128 * MIB) + 64000000 / 4096);
    /* 128 MiB at 4 GB/s = 33.6 ms of copy; each vCPU touches half of the
     * guest's pages: ~16.8 ms of stall each. */
    uint64_t stall = after.stall_ns - before.stall_ns;
    ASSERT_TRUE(stall > 2 * 16 * MS && stall < 2 * 30 * MS);
    /* Bad requests. */
    ASSERT_EQ(np_backend_migrate_memory(be, 0, 1, 1, GIB, &moved), -EINVAL);
    ASSERT_EQ(np_backend_migrate_memory(be, 9, 0, 1, GIB, &moved), -ENOENT);

    /* Moving everything local ends remote access for the new period. */
    for (int i = 0; i < 40; i++) {
        ASSERT_EQ(np_sim_run(sim, np_sim_now_ns(sim) + 100 * MS), 0);
        np_backend_migrate_memory(be, 0, 0, 1, GIB, &moved);
    }
    ASSERT_U64_EQ(np_sim_guest_node_pages(sim, 0, 0), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &before), 0);
    ASSERT_EQ(np_sim_run(sim, np_sim_now_ns(sim) + SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &after), 0);
    ASSERT_TRUE(after.remote_ratio < before.remote_ratio);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* Two guests of one class, 1 GiB each, half of it shareable. */
static void run_sharing(np_sim_share_mode mode, size_t node_b, int64_t *saved0, int64_t *saved_total,
                        double *remote_b)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim_config cfg;
    np_sim_config_init(&cfg);
    cfg.share_mode = mode;
    cfg.share_scan_ns = 100 * MS;
    np_sim *sim = make_sim(t, &cfg);
    np_sim_plan *pa = sim_test_plan(t, 1, 0, 0, 1), *pb = sim_test_plan(t, 1, node_b, (int)node_b, 1);
    np_sim_guest g;
    np_sim_node_mem nm;
    np_sim_host_metrics hm;
    np_sim_guest_metrics mb;

    sim_test_guest(&g, "a", 1, GIB, 0.5);
    g.share_class = 7;
    g.shareable_fraction = 0.5;
    g.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "b", 1, GIB, 0.5);
    g.share_class = 7;
    g.shareable_fraction = 0.5;
    g.plan = pb;
    g.start_ns = 1; /* after a: the copy stays with a's node on ties */
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &nm), 0);
    ASSERT_EQ(np_sim_host_metrics_get(sim, &hm), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 1, &mb), 0);
    *saved0 = nm.shared_saved_pages;
    *saved_total = hm.pages_shared_saved;
    *remote_b = mb.remote_ratio;
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_page_sharing_within_and_across_nodes(void)
{
    int64_t s0, st;
    double rb;
    int64_t half = (int64_t)PAGES(GIB / 2);

    run_sharing(NP_SIM_SHARE_OFF, 0, &s0, &st, &rb);
    ASSERT_EQ(st, 0);
    /* Same node: one copy of the shared half is kept. */
    run_sharing(NP_SIM_SHARE_NODE_LOCAL, 0, &s0, &st, &rb);
    ASSERT_EQ(s0, half);
    ASSERT_EQ(st, half);
    ASSERT_TRUE(rb == 0.0);
    /* Different nodes, node-local sharing: nothing to merge. */
    run_sharing(NP_SIM_SHARE_NODE_LOCAL, 1, &s0, &st, &rb);
    ASSERT_EQ(st, 0);
    ASSERT_TRUE(rb == 0.0);
    /* Different nodes, cross-node sharing: one copy host-wide, on node 0;
     * b now reads its shared half from node 0. */
    run_sharing(NP_SIM_SHARE_CROSS_NODE, 1, &s0, &st, &rb);
    ASSERT_EQ(st, half);
    ASSERT_EQ(s0, 0); /* node 0's half becomes the copy; node 1 frees its half */
    ASSERT_TRUE(rb > 0.45 && rb < 0.55);
}

static void run_internal(bool follow, double *internal_remote, uint64_t *internal_on0)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim_config cfg;
    np_sim_config_init(&cfg);
    cfg.internal_follow_plan = follow;
    np_sim *sim = make_sim(t, &cfg);
    np_sim_plan *p = sim_test_plan(t, 2, 1, 1, 1); /* all on node 1 */
    np_sim_guest g;
    np_sim_guest_metrics m;
    np_sim_node_mem nm;

    sim_test_guest(&g, "vm", 2, GIB, 0.2);
    np_sim_vcpu_load_init(&g.load, NP_SIM_BURSTY); /* switches often */
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    ASSERT_EQ(np_sim_node_mem_get(sim, 0, &nm), 0);
    *internal_remote = m.internal_remote_ratio;
    *internal_on0 = nm.internal_pages;
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

static void test_hypervisor_state_honours_placement(void)
{
    double r;
    uint64_t on0;
    run_internal(true, &r, &on0);
    ASSERT_TRUE(r == 0.0);
    ASSERT_U64_EQ(on0, 0);
    /* Without a node hint the state lands on the toolstack's node 0. */
    run_internal(false, &r, &on0);
    ASSERT_TRUE(r == 1.0);
    ASSERT_U64_EQ(on0, 2 * 4); /* 2 vCPUs x 16 KiB */
}

/* Work of one vCPU of `n` memory-heavy guests on one node. */
static double heavy_work(int n)
{
    np_topology *t = sim_test_topo(1, 8, 64);
    np_sim *sim = make_sim(t, NULL);
    np_sim_guest_metrics m;
    for (int i = 0; i < n; i++) {
        np_sim_guest g;
        np_sim_plan *p = sim_test_plan(t, 1, 0, 0, 1);
        sim_test_guest(&g, "", 1, GIB, 0.8);
        g.load.mem_bw_bps = 15000000000ull; /* 15 GB/s each */
        g.plan = p;
        ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
        np_sim_plan_destroy(p);
    }
    ASSERT_EQ(np_sim_run(sim, 2 * SEC), 0);
    ASSERT_EQ(np_sim_guest_metrics_get(sim, 0, &m), 0);
    np_sim_destroy(sim);
    np_topology_destroy(t);
    return m.work_ns;
}

static void test_bandwidth_contention_slows_memory_bound_vcpus(void)
{
    double one = heavy_work(1), four = heavy_work(4), eight = heavy_work(8);
    /* Alone, 15 GB/s of a 90 GB/s node barely queues. Eight would need
     * 120 GB/s: they cannot all get more than 90/120 = 0.75 of their
     * speed alone, and latency grows before the peak. */
    ASSERT_TRUE(one > 1.95 * SEC);
    ASSERT_TRUE(four < one);
    ASSERT_TRUE(eight < four);
    ASSERT_TRUE(eight < 0.75 * one);
}

int main(void)
{
    NP_RUN(test_striped_memory_is_split_evenly);
    NP_RUN(test_plan_proportions_and_spill_to_nearest);
    NP_RUN(test_guest_that_does_not_fit_is_rejected_cleanly);
    NP_RUN(test_plan_without_host_cpus_is_rejected);
    NP_RUN(test_first_touch_follows_the_vcpus);
    NP_RUN(test_migration_is_rate_limited_and_costs_a_stall);
    NP_RUN(test_page_sharing_within_and_across_nodes);
    NP_RUN(test_hypervisor_state_honours_placement);
    NP_RUN(test_bandwidth_contention_slows_memory_bound_vcpus);
    return np_test_summary();
}
