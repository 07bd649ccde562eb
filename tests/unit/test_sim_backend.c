/*
 * test_sim_backend.c - the backend interface: version checks and the
 * -ENOSYS rule of the generic wrapper, guest lists, and the simulator's
 * implementation of every operation.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/backend.h>
#include <numaplace/hoststate.h>

#include "np_test.h"
#include "sim_test_util.h"

static int fake_now(void *impl, uint64_t *now_out)
{
    *now_out = *(uint64_t *)impl;
    return 0;
}

static void test_versions_and_missing_operations(void)
{
    struct np_backend_ops ops;
    np_backend *be = NULL;
    uint64_t clock = 1234, v = 0;
    np_topology *t = NULL;
    np_backend_guest *list = NULL;
    size_t nr = 0;

    memset(&ops, 0, sizeof(ops));
    ops.name = "fake";
    ASSERT_EQ(np_backend_create(&ops, &clock, &be), -ENOTSUP); /* version 0 */
    ops.version = NP_BACKEND_OPS_VERSION + 1;
    ASSERT_EQ(np_backend_create(&ops, &clock, &be), -ENOTSUP);
    ops.version = NP_BACKEND_OPS_VERSION;
    ops.now_ns = fake_now;
    ASSERT_EQ(np_backend_create(&ops, &clock, &be), 0);
    ASSERT_STR_EQ(np_backend_name(be), "fake");
    ASSERT_EQ(np_backend_version(be), NP_BACKEND_OPS_VERSION);
    ASSERT_EQ(np_backend_now_ns(be, &v), 0);
    ASSERT_U64_EQ(v, 1234);
    ASSERT_EQ(np_backend_topology(be, &t), -ENOSYS);
    ASSERT_EQ(np_backend_list_guests(be, &list, &nr), -ENOSYS);
    ASSERT_EQ(np_backend_node_free_bytes(be, 0, &v), -ENOSYS);
    ASSERT_EQ(np_backend_set_vcpu_affinity(be, 0, 0, NULL, NULL), -ENOSYS);
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, 0, NULL), -ENOSYS);
    v = 5;
    ASSERT_EQ(np_backend_migrate_memory(be, 0, 0, 1, 4096, &v), -ENOSYS);
    ASSERT_U64_EQ(v, 0);
    ASSERT_EQ(np_backend_random(be, &v), -ENOSYS);
    np_backend_log(be, NP_LOG_INFO, "test", "dropped"); /* no log op: no crash */
    np_host_state *st = NULL;
    ASSERT_EQ(np_backend_sense(be, &st), -ENOSYS); /* no topology operation */
    ASSERT_TRUE(st == NULL);
    ASSERT_EQ(np_backend_sense(be, NULL), -EINVAL);
    ASSERT_EQ(np_backend_now_ns(NULL, &v), -EINVAL);
    np_backend_destroy(be);
    np_backend_destroy(NULL);
}

static void test_guest_list_helpers(void)
{
    np_backend_guest *list = NULL;
    ASSERT_EQ(np_backend_guests_alloc(2, &list), 0);
    ASSERT_EQ(np_backend_guest_alloc(&list[0], 3, 4), 0);
    ASSERT_EQ(list[0].nr_vcpus, 3);
    ASSERT_EQ(list[0].vcpus[2].last_cpu_os_id, -1);
    ASSERT_EQ(np_backend_guest_alloc(&list[0], 1, 1), -EINVAL); /* already sized */
    ASSERT_EQ(np_bitmap_create(&list[0].vcpus[1].hard), 0);
    np_backend_guests_free(list, 2); /* frees masks and arrays (ASan checks) */
    np_backend_guests_free(NULL, 0);
}

static void log_count(void *opaque, np_log_level level, const char *subsys, const char *msg)
{
    (void)level;
    (void)msg;
    if (!strcmp(subsys, "policy"))
        ++*(int *)opaque;
}

static void test_sim_backend_operations(void)
{
    np_topology *t = sim_test_topo(2, 2, 8);
    np_sim_config cfg;
    np_sim *sim = NULL, *twin = NULL;
    np_sim_guest g;
    np_sim_plan *p = sim_test_plan(t, 2, 1, 1, 0);
    np_backend_guest *list = NULL;
    size_t nr = 0;
    np_topology *bt = NULL;
    uint64_t v, w, free_bytes;
    int logged = 0;

    np_sim_config_init(&cfg);
    cfg.log = log_count;
    cfg.log_opaque = &logged;
    ASSERT_EQ(np_sim_create(t, &cfg, &sim), 0);
    ASSERT_EQ(np_sim_create(t, &cfg, &twin), 0);
    np_backend *be = np_sim_backend(sim);
    ASSERT_STR_EQ(np_backend_name(be), "sim");

    sim_test_guest(&g, "web", 2, 2 * GIB, 0.3);
    g.plan = p;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "later", 1, GIB, 0.3);
    g.start_ns = 10 * SEC;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, SEC), 0);

    ASSERT_EQ(np_backend_topology(be, &bt), 0);
    ASSERT_TRUE(bt == t);
    np_topology_destroy(bt);
    ASSERT_EQ(np_backend_now_ns(be, &v), 0);
    ASSERT_U64_EQ(v, SEC);

    /* Only the running guest is listed. */
    ASSERT_EQ(np_backend_list_guests(be, &list, &nr), 0);
    ASSERT_EQ(nr, 1);
    ASSERT_U64_EQ(list[0].id, 0);
    ASSERT_STR_EQ(list[0].name, "web");
    ASSERT_EQ(list[0].nr_vcpus, 2);
    ASSERT_EQ(list[0].nr_nodes, 2);
    ASSERT_U64_EQ(list[0].node_mem_bytes[1], 2 * GIB);
    ASSERT_U64_EQ(list[0].node_mem_bytes[0], 0);
    ASSERT_U64_EQ(list[0].mem_target_bytes, 2 * GIB);
    ASSERT_TRUE(list[0].vcpus[0].hard == NULL); /* soft placement: free to run anywhere */
    char buf[32];
    np_bitmap_format(list[0].vcpus[0].soft, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "2-3");
    ASSERT_TRUE(list[0].vcpus[0].last_cpu_os_id == 2 || list[0].vcpus[0].last_cpu_os_id == 3);
    ASSERT_TRUE(list[0].vcpus[0].cpu_time_ns > 990 * MS);
    np_backend_guests_free(list, nr);

    ASSERT_EQ(np_backend_node_free_bytes(be, 1, &free_bytes), 0);
    ASSERT_U64_EQ(free_bytes, 6 * GIB - 2 * 16384);
    ASSERT_EQ(np_backend_node_free_bytes(be, 2, &free_bytes), -EINVAL);
    ASSERT_EQ(np_backend_set_guest_node_affinity(be, 1, NULL), -ENOENT); /* not running yet */

    /* Random numbers: reproducible from the seed, the same in a twin. */
    ASSERT_EQ(np_backend_random(be, &v), 0);
    ASSERT_EQ(np_backend_random(np_sim_backend(twin), &w), 0);
    ASSERT_U64_EQ(v, w);
    ASSERT_EQ(np_backend_random(be, &w), 0);
    ASSERT_TRUE(v != w);

    np_backend_log(be, NP_LOG_INFO, "policy", "hello");
    ASSERT_EQ(logged, 1);
    np_sim_plan_destroy(p);
    np_sim_destroy(sim);
    np_sim_destroy(twin);
    np_topology_destroy(t);
}

static void test_sense_fills_host_state(void)
{
    np_topology *t = sim_test_topo(2, 4, 8);
    np_sim *sim = NULL;
    np_sim_guest g;
    np_sim_plan *pa = sim_test_plan(t, 2, 0, 0, 1), *pb = sim_test_plan(t, 1, 1, 1, 0);
    np_host_state *st = NULL;
    np_node_load l0, l1;
    size_t gi;

    ASSERT_EQ(np_sim_create(t, NULL, &sim), 0);
    sim_test_guest(&g, "web", 2, 2 * GIB, 0.3);
    g.spec.maxmem_bytes = 3 * GIB;
    g.plan = pa;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    sim_test_guest(&g, "web", 1, GIB, 0.3); /* the same name again */
    np_sim_vcpu_load_init(&g.load, NP_SIM_BURSTY);
    g.load.duty = 0.25;
    g.load.burst_work_ns = MS;
    g.load.mem_intensity = 0.0;
    g.plan = pb;
    ASSERT_EQ(np_sim_add_guest(sim, &g, NULL, NULL), 0);
    ASSERT_EQ(np_sim_run(sim, 10 * SEC), 0);

    ASSERT_EQ(np_backend_sense(np_sim_backend(sim), &st), 0);
    ASSERT_EQ(np_host_state_nr_guests(st), 2);
    ASSERT_EQ(np_host_state_find_guest(st, "web", &gi), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, gi, 0), 2 * GIB);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, gi, 1), 0);
    ASSERT_TRUE(np_bitmap_equal(np_host_state_vcpu_hard(st, gi, 1), np_topology_node_cpuset(t, 0)));
    ASSERT_TRUE(np_host_state_vcpu_demand(st, gi, 0) > 0.999);
    ASSERT_EQ(np_host_state_find_guest(st, "web#1", &gi), 0);
    ASSERT_TRUE(np_host_state_vcpu_hard(st, gi, 0) == NULL);
    ASSERT_TRUE(np_bitmap_equal(np_host_state_vcpu_soft(st, gi, 0), np_topology_node_cpuset(t, 1)));
    double d = np_host_state_vcpu_demand(st, gi, 0);
    ASSERT_TRUE(d > 0.2 && d < 0.3); /* measured: CPU time / time alive */
    int32_t cpu = np_host_state_vcpu_cpu(st, gi, 0);
    ASSERT_TRUE(cpu >= 4 && cpu <= 7);

    ASSERT_EQ(np_host_state_node_load(st, 0, &l0), 0);
    ASSERT_EQ(np_host_state_node_load(st, 1, &l1), 0);
    ASSERT_U64_EQ(l0.mem_populated_bytes, 2 * GIB);
    ASSERT_U64_EQ(l1.mem_populated_bytes, GIB);
    ASSERT_TRUE(l0.cpu_demand > 1.99 && l0.cpu_demand < 2.01);
    /* The free memory the simulator reports bounds what is available. */
    ASSERT_TRUE(l0.mem_available_bytes <= np_sim_node_free_bytes(sim, 0));

    /* From a list the caller already has: the same guests and memory, and
     * only the listed guests (the daemon lists once per round). */
    np_backend_guest *gs = NULL;
    size_t ng = 0;
    np_host_state *st2 = NULL;
    ASSERT_EQ(np_backend_list_guests(np_sim_backend(sim), &gs, &ng), 0);
    ASSERT_EQ(ng, 2u);
    ASSERT_EQ(np_backend_sense_guests(np_sim_backend(sim), gs, 1, &st2), 0);
    ASSERT_EQ(np_host_state_nr_guests(st2), 1u);
    ASSERT_EQ(np_host_state_find_guest(st2, "web", &gi), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st2, gi, 0), 2 * GIB);
    ASSERT_EQ(np_backend_sense_guests(np_sim_backend(sim), NULL, 1, &st2), -EINVAL);
    np_host_state_destroy(st2);
    np_backend_guests_free(gs, ng);
    np_host_state_destroy(st);
    np_sim_plan_destroy(pa);
    np_sim_plan_destroy(pb);
    np_sim_destroy(sim);
    np_topology_destroy(t);
}

/* A backend that reports hugetlb pools: node 1 has 170 free 2 MiB pages,
 * node 0 has no 2 MiB pool (-ENOENT); no 1 GiB pool anywhere. */
static int pool_topology(void *impl, np_topology **out)
{
    *out = np_topology_ref(impl);
    return 0;
}

static int pool_free(void *impl, size_t node_idx, uint64_t page_bytes, uint64_t *free_out)
{
    (void)impl;
    if (node_idx != 1 || page_bytes != 2 * MIB)
        return -ENOENT;
    *free_out = 170 * 2 * MIB;
    return 0;
}

/* Sensing carries a guest's hugetlb bytes per node and size, and the free
 * pool of each size a guest uses, into the host state. */
static void test_sense_carries_hugetlb_pools(void)
{
    np_topology *t = sim_test_topo(2, 4, 8);
    struct np_backend_ops ops;
    np_backend *be = NULL;
    np_backend_guest *gs = NULL;
    np_host_state *st = NULL;
    uint64_t f = 0;

    memset(&ops, 0, sizeof(ops));
    ops.version = NP_BACKEND_OPS_VERSION;
    ops.name = "pools";
    ops.topology = pool_topology;
    ops.node_huge_free_bytes = pool_free;
    ASSERT_EQ(np_backend_create(&ops, t, &be), 0);
    ASSERT_EQ(np_backend_node_huge_free_bytes(be, 1, 2 * MIB, &f), 0);
    ASSERT_U64_EQ(f, 340 * MIB);
    ASSERT_EQ(np_backend_guests_alloc(1, &gs), 0);
    ASSERT_EQ(np_backend_guest_alloc(&gs[0], 1, 2), 0);
    snprintf(gs[0].name, sizeof(gs[0].name), "huge");
    gs[0].node_mem_bytes[0] = 324 * MIB;
    gs[0].huge_page_bytes[0] = 2 * MIB;
    gs[0].node_huge_bytes[0 * NP_HOST_HUGE_SIZES_MAX + 0] = 320 * MIB;
    gs[0].huge_page_bytes[1] = GIB; /* a size it has no pages of on any node */
    ASSERT_EQ(np_backend_sense_guests(be, gs, 1, &st), 0);
    ASSERT_U64_EQ(np_host_state_guest_huge_mem_bytes(st, 0, 0, 2 * MIB), 320 * MIB);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, 0, 0), 324 * MIB);
    ASSERT_EQ(np_host_state_node_huge_free(st, 1, 2 * MIB, &f), 0);
    ASSERT_U64_EQ(f, 340 * MIB);
    ASSERT_EQ(np_host_state_node_huge_free(st, 0, 2 * MIB, &f), -ENODATA);
    ASSERT_EQ(np_host_state_node_huge_free(st, 1, GIB, &f), -ENODATA);
    np_host_state_destroy(st);
    np_backend_guests_free(gs, 1);
    /* A version 2 table has no such operation. */
    ops.version = 2;
    np_backend_destroy(be);
    ASSERT_EQ(np_backend_create(&ops, t, &be), 0);
    ASSERT_EQ(np_backend_node_huge_free_bytes(be, 1, 2 * MIB, &f), -ENOSYS);
    np_backend_destroy(be);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_versions_and_missing_operations);
    NP_RUN(test_guest_list_helpers);
    NP_RUN(test_sim_backend_operations);
    NP_RUN(test_sense_fills_host_state);
    NP_RUN(test_sense_carries_hugetlb_pools);
    return np_test_summary();
}
