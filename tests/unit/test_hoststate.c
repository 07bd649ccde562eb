/* The host state and its load measure: demand attribution, memory
 * accounting (populated, claimed, balloon head-room, reserve, measured
 * free), guest bookkeeping and copies. */
#include <errno.h>
#include <math.h>

#include <numaplace/hoststate.h>

#include "model/hoststate_int.h"
#include "np_test.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* 2 nodes (os ids 0 and 3), each 2 cores x 2 threads and 16 GiB; CPUs
 * 0-3 on node 0 (cores 0,1 with siblings 2,3), 4-7 on node 3. */
static np_topology *two_nodes(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    np_topology_builder_add_node(b, 0, 16 * GiB, 16 * GiB);
    np_topology_builder_add_node(b, 3, 16 * GiB, 16 * GiB);
    for (uint32_t c = 0; c < 8; c++)
        np_topology_builder_add_cpu(b, c, c < 4 ? 0 : 3, c / 4, c % 2);
    np_topology_builder_finish(b, &t, &err);
    np_topology_builder_destroy(b);
    return t;
}

static np_host_state *new_state(void)
{
    np_topology *t = two_nodes();
    np_host_state *st = NULL;
    if (t)
        np_host_state_create(t, &st);
    np_topology_destroy(t); /* the state holds its own reference */
    return st;
}

static np_guest_spec guest(const char *name, uint32_t vcpus, uint64_t mem, uint64_t maxmem)
{
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = mem;
    s.maxmem_bytes = maxmem;
    return s;
}

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_capacity_counts_smt_threads_as_a_fraction(void)
{
    np_host_state *st = new_state();
    np_node_load l;
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    /* 2 cores + 2 sibling threads at 20% */
    ASSERT_TRUE(near(l.cpu_capacity, 2.0 + 2 * NP_LOAD_SMT_THREAD_CAPACITY));
    ASSERT_TRUE(near(l.cpu_demand, 0.0));
    ASSERT_U64_EQ(l.mem_available_bytes, 16 * GiB);
    ASSERT_EQ(np_host_state_node_load(st, 2, &l), -EINVAL);
    np_host_state_destroy(st);
}

static void test_guest_bookkeeping(void)
{
    np_host_state *st = new_state();
    np_guest_spec a = guest("a", 2, GiB, 0), b = guest("b", 1, GiB, 0), c = guest("c", 1, GiB, 0);
    size_t ga = 9, gb = 9, gc = 9, g;
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &b, &gb), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &c, &gc), 0);
    ASSERT_EQ(ga, 0);
    ASSERT_EQ(gc, 2);
    ASSERT_EQ(np_host_state_add_guest(st, &b, NULL), -EEXIST);
    np_guest_spec anon = guest("", 1, GiB, 0);
    ASSERT_EQ(np_host_state_add_guest(st, &anon, NULL), -EINVAL);
    np_guest_spec bad = guest("bad", 0, GiB, 0);
    ASSERT_EQ(np_host_state_add_guest(st, &bad, NULL), -EINVAL);
    ASSERT_EQ(np_host_state_nr_guests(st), 3);
    ASSERT_EQ(np_host_state_find_guest(st, "b", &g), 0);
    ASSERT_EQ(g, 1);
    ASSERT_EQ(np_host_state_remove_guest(st, "b"), 0);
    ASSERT_EQ(np_host_state_remove_guest(st, "b"), -ENOENT);
    ASSERT_EQ(np_host_state_find_guest(st, "c", &g), 0);
    ASSERT_EQ(g, 1); /* moved down */
    ASSERT_STR_EQ(np_host_state_guest_spec(st, 1)->name, "c");
    ASSERT_TRUE(np_host_state_guest_spec(st, 2) == NULL);
    /* many guests: the name table grows */
    for (int i = 0; i < 500; i++) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", i);
        np_guest_spec s = guest(name, 1, MiB, 0);
        ASSERT_EQ(np_host_state_add_guest(st, &s, NULL), 0);
    }
    ASSERT_EQ(np_host_state_find_guest(st, "g377", &g), 0);
    ASSERT_STR_EQ(np_host_state_guest_spec(st, g)->name, "g377");
    ASSERT_EQ(np_host_state_vcpu_cpu(st, g, 0), -1);
    ASSERT_TRUE(near(np_host_state_vcpu_demand(st, g, 0), 1.0));
    np_host_state_destroy(st);
}

static np_bitmap *mask(const char *list)
{
    np_bitmap *m = NULL;
    np_bitmap_create(&m);
    np_bitmap_parse(m, list);
    return m;
}

static void test_demand_follows_affinity(void)
{
    np_host_state *st = new_state();
    np_guest_spec s = guest("g", 4, GiB, 0);
    s.cpu_demand = 0.5;
    size_t g;
    ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
    np_bitmap *n0 = mask("0-3"), *n1 = mask("4-7"), *split = mask("2-5"), *all = mask("0-7");
    /* vCPU 0: hard on node 0; vCPU 1: soft on node 3 (inside all);
     * vCPU 2: soft on node 3 but hard on node 0 -> hard wins;
     * vCPU 3: hard over CPUs 2-5 -> half and half */
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 0, n0, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 1, NULL, n1), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 2, n0, n1), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 3, split, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, 1.0), 0);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, 1.5), -EINVAL);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, NAN), -EINVAL);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 4, n0, NULL), -EINVAL);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 0.5 + 0.5 + 0.5));
    ASSERT_TRUE(near(l[1].cpu_demand, 0.5 + 0.5));
    /* the mask is copied, and an all-CPU mask restricts nothing: with a
     * last CPU known, the vCPU counts where it ran */
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 0, all, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_cpu(st, g, 0, 6), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 1.0));
    ASSERT_TRUE(near(l[1].cpu_demand, 1.5));
    /* unknown last CPU: spread by capacity (equal here) */
    ASSERT_EQ(np_host_state_set_vcpu_cpu(st, g, 0, -1), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 1.25));
    ASSERT_TRUE(near(l[1].cpu_demand, 1.25));
    char buf[16];
    np_bitmap_format(np_host_state_vcpu_soft(st, g, 2), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "4-7");
    ASSERT_TRUE(np_host_state_vcpu_hard(st, g, 1) == NULL);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n1);
    np_bitmap_destroy(split);
    np_bitmap_destroy(all);
    np_host_state_destroy(st);
}

static void test_memory_accounting(void)
{
    np_host_state *st = new_state();
    np_guest_spec a = guest("a", 1, 4 * GiB, 6 * GiB), b = guest("b", 1, 2 * GiB, 4 * GiB);
    size_t ga, gb;
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &b, &gb), 0);
    /* a: found running, 3 GiB on node 0 and 1 GiB on node 1, no recorded
     * maxima: its 2 GiB of head-room go 3:1 */
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 0, 3 * GiB, 0), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 1, 1 * GiB, 0), 0);
    /* b: placed, being created: 2 GiB claimed on node 1, its maximum of
     * 4 GiB kept there */
    ASSERT_EQ(np_host_state_set_guest_mem(st, gb, 1, 0, 2 * GiB), 0);
    ASSERT_EQ(np_host_state_set_guest_mem_max(st, gb, 1, 4 * GiB), 0);
    ASSERT_EQ(np_host_state_set_reserved(st, 0, GiB), 0);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[0].mem_populated_bytes, 3 * GiB);
    ASSERT_U64_EQ(l[0].mem_balloon_bytes, 3 * GiB / 2);
    ASSERT_U64_EQ(l[0].mem_reserved_bytes, GiB);
    ASSERT_U64_EQ(l[0].mem_available_bytes, 16 * GiB - GiB - 3 * GiB - 3 * GiB / 2);
    ASSERT_U64_EQ(l[1].mem_populated_bytes, GiB);
    ASSERT_U64_EQ(l[1].mem_claimed_bytes, 2 * GiB);
    ASSERT_U64_EQ(l[1].mem_balloon_bytes, GiB / 2 + 2 * GiB);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 16 * GiB - GiB - GiB / 2 - 4 * GiB);
    /* the state's own view of what a guest holds matches the node sums */
    ASSERT_U64_EQ(np_hs_guest_mem_held_bytes(st, ga, 0) + np_hs_guest_mem_held_bytes(st, ga, 1),
                  6 * GiB);
    /* populate: claims become populated, head-room unchanged */
    ASSERT_EQ(np_host_state_populate(st, gb), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, gb, 1), 2 * GiB);
    ASSERT_U64_EQ(np_host_state_guest_claimed_bytes(st, gb, 1), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[1].mem_claimed_bytes, 0);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 16 * GiB - GiB - GiB / 2 - 4 * GiB);
    /* a measured free figure caps what is available: it already excludes
     * populated memory but not head-room */
    ASSERT_EQ(np_host_state_set_node_free(st, 1, 8 * GiB), 0);
    uint64_t fr = 0;
    ASSERT_EQ(np_host_state_node_free(st, 1, &fr), 0);
    ASSERT_U64_EQ(fr, 8 * GiB);
    ASSERT_EQ(np_host_state_node_free(st, 0, &fr), -ENODATA);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 8 * GiB - GiB / 2 - 2 * GiB);
    /* balloon targets stay within the maximum and do not free memory */
    ASSERT_EQ(np_host_state_set_balloon_target(st, ga, 7 * GiB), -EINVAL);
    ASSERT_EQ(np_host_state_set_balloon_target(st, ga, 2 * GiB), 0);
    ASSERT_U64_EQ(np_host_state_balloon_target(st, ga), 2 * GiB);
    np_node_load again[2];
    ASSERT_EQ(np_host_state_node_loads(st, again), 0);
    ASSERT_U64_EQ(again[0].mem_available_bytes, l[0].mem_available_bytes);
    /* over-full nodes report 0 available, never wrap */
    ASSERT_EQ(np_host_state_set_reserved(st, 0, 20 * GiB), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[0].mem_available_bytes, 0);
    np_host_state_destroy(st);
}

static void test_copy_is_independent(void)
{
    np_host_state *st = new_state(), *cp = NULL;
    np_guest_spec a = guest("a", 2, 4 * GiB, 0);
    size_t ga;
    np_bitmap *n1 = mask("4-7");
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 1, 4 * GiB, 0), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, ga, 0, n1, NULL), 0);
    ASSERT_EQ(np_host_state_copy(st, &cp), 0);
    ASSERT_EQ(np_host_state_remove_guest(st, "a"), 0);
    ASSERT_EQ(np_host_state_nr_guests(cp), 1);
    size_t g;
    ASSERT_EQ(np_host_state_find_guest(cp, "a", &g), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(cp, g, 1), 4 * GiB);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(cp, l), 0);
    /* vCPU 0 pinned to node 1, vCPU 1 anywhere: half on each */
    ASSERT_TRUE(near(l[1].cpu_demand, 1.5));
    ASSERT_TRUE(np_host_state_topology(cp) != NULL);
    np_bitmap_destroy(n1);
    np_host_state_destroy(cp);
    np_host_state_destroy(st);
}

static void test_nodes_by_distance(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    static const uint32_t d[4][4] = {
        {10, 21, 31, 21}, {21, 10, 21, 31}, {31, 21, 10, 21}, {21, 31, 21, 10}};
    for (uint32_t i = 0; i < 4; i++) {
        np_topology_builder_add_node(b, i, GiB, GiB);
        np_topology_builder_add_cpu(b, i, i, i, 0);
    }
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++)
            np_topology_builder_set_distance(b, i, j, d[i][j]);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    np_topology_builder_destroy(b);
    np_host_state *st = NULL;
    ASSERT_EQ(np_host_state_create(t, &st), 0);
    const uint32_t *row = np_hs_nodes_by_distance(st, 2);
    ASSERT_EQ(row[0], 2);
    ASSERT_EQ(row[1], 1);
    ASSERT_EQ(row[2], 3);
    ASSERT_EQ(row[3], 0);
    ASSERT_TRUE(np_hs_nodes_by_distance(st, 4) == NULL);
    np_host_state_destroy(st);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_capacity_counts_smt_threads_as_a_fraction);
    NP_RUN(test_guest_bookkeeping);
    NP_RUN(test_demand_follows_affinity);
    NP_RUN(test_memory_accounting);
    NP_RUN(test_copy_is_independent);
    NP_RUN(test_nodes_by_distance);
    return np_test_summary();
}
