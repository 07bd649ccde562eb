/* The benchmark harness and the host generator work (no timing asserted:
 * speed is measured by bench/np_bench_place, see docs/placement.md). */
#include <errno.h>

#include "np_test.h"
#include "test_place_util.h"

static void test_generator_shapes(void)
{
    np_topo_gen g;
    np_topo_gen_init(&g, 8, 4, 16 * GiB);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 8);
        ASSERT_EQ(np_topology_nr_cpus(t), 64);
        ASSERT_EQ(np_topology_node(t, 3)->nr_cores, 4);
        ASSERT_EQ(np_topology_distance(t, 0, 1), 12); /* same package */
        ASSERT_EQ(np_topology_distance(t, 0, 7), 21); /* same group of 4 packages */
        ASSERT_U64_EQ(np_topology_mem_total_bytes(t), 128 * GiB);
    }
    np_topology_destroy(t);
    g.packages_per_group = 1;
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    if (t)
        ASSERT_EQ(np_topology_distance(t, 0, 2), 32);
    np_topology_destroy(t);
    g.nodes = 0;
    ASSERT_EQ(np_topology_generate(&g, &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "generated host");
}

static void test_bench_runs(void)
{
    np_bench_place_result r;
    np_error err = {0};
    ASSERT_EQ(np_bench_place("gen:4", 20, 10, "numaplace", 7, &r, &err), 0);
    ASSERT_EQ(r.nr_nodes, 4);
    ASSERT_EQ(r.decisions, 10);
    ASSERT_TRUE(r.nr_guests > 0 && r.nr_guests <= 20);
    ASSERT_EQ(r.placed + r.fallbacks + r.failed, 10);
    ASSERT_TRUE(r.ns_per_decision > 0.0);
    ASSERT_TRUE(r.mean_cost > 0.0);
    ASSERT_STR_EQ(r.host, "gen:4");
    /* the same seed gives the same guests and choices */
    np_bench_place_result again;
    ASSERT_EQ(np_bench_place("gen:4", 20, 10, "numaplace", 7, &again, &err), 0);
    ASSERT_EQ(again.nr_guests, r.nr_guests);
    ASSERT_TRUE(again.mean_cost == r.mean_cost);
    /* xl42 gives up above 16 nodes: every decision a fallback */
    ASSERT_EQ(np_bench_place("gen:17", 10, 5, "xl42", 7, &r, &err), 0);
    ASSERT_EQ(r.fallbacks, 5);
    ASSERT_EQ(np_bench_place("gen:x", 0, 1, "numaplace", 1, &r, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "gen:NODES");
    ASSERT_EQ(np_bench_place("gen:2", 4, 1, "nope", 1, &r, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown placement policy");
}

int main(void)
{
    NP_RUN(test_generator_shapes);
    NP_RUN(test_bench_runs);
    return np_test_summary();
}
