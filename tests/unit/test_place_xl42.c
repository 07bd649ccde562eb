/* The xl42 baseline against libxl's documented behaviour and the lab
 * observations of /work/shared/lab/xen-guest.md (Xen 4.17 under QEMU:
 * 4 nodes, 1 GiB each, dom0 with 2 vCPUs and most of its 512 MiB on node
 * 3; guests of 128 MiB). */
#include <errno.h>

#include "np_test.h"
#include "test_place_util.h"

/* The lab's SLIT: -n 4 numbering, 10/20/30. */
static const uint32_t lab_dist[16] = {10, 20, 30, 30, 20, 10, 20, 30,
                                      30, 20, 10, 20, 30, 30, 20, 10};

/* The lab host with `cpus` CPUs per node, dom0 (2 unpinned vCPUs) and
 * Xen's reported free memory per node. */
static np_host_state *lab(uint32_t cpus, const uint64_t *free_mib)
{
    uint32_t c[4] = {cpus, cpus, cpus, cpus};
    uint64_t m[4] = {1024, 1024, 1024, 1024};
    np_host_state *st = tp_state(tp_host(4, c, m, lab_dist));
    np_guest_spec dom0 = tp_guest("Domain-0", 2, 512);
    size_t g;
    np_host_state_add_guest(st, &dom0, &g);
    np_host_state_set_guest_mem(st, g, 0, 72 * MiB, 0);
    np_host_state_set_guest_mem(st, g, 3, 435 * MiB, 0);
    for (size_t i = 0; i < 4; i++)
        np_host_state_set_node_free(st, i, free_mib[i] * MiB);
    return st;
}

/* Place with xl42, commit, and let the "sensed" free memory drop by the
 * guest's memory on its nodes, as Xen's figures would after creation. */
static np_placement *create(np_host_state *st, const np_guest_spec *s)
{
    np_placement *pl = NULL;
    np_error err = {0};
    int rc = np_place(st, s, "xl42", &pl, &err);
    ASSERT_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    size_t g;
    ASSERT_EQ(np_placement_commit(st, s, pl, &g), 0);
    np_host_state_populate(st, g);
    for (size_t i = 0; i < np_placement_nr_nodes(pl); i++) {
        size_t node = np_placement_node(pl, i);
        uint64_t fr = 0;
        np_host_state_node_free(st, node, &fr);
        np_host_state_set_node_free(st, node, fr - np_placement_node_mem_bytes(pl, node));
    }
    return pl;
}

static void test_lab_two_cpus_per_node(void)
{
    static const uint64_t free_mib[4] = {946, 1017, 1019, 554};
    np_host_state *st = lab(2, free_mib);
    char buf[64];

    np_guest_spec g1 = tp_guest("g1", 2, 128);
    np_placement *p1 = create(st, &g1);
    if (!p1)
        goto out;
    /* "NUMA placement candidate with 1 nodes, 2 cpus and 1019 KB free
     * selected"; nr_vcpus=4 (dom0's 2 + the new domain's own 2) */
    ASSERT_STR_EQ(tp_nodes(p1, buf, sizeof(buf)), "2");
    ASSERT_CONTAINS(np_placement_note(p1), "1 node(s), 2 cpus, nr_vcpus=4, 1019 MiB free");
    ASSERT_TRUE(!np_placement_is_fallback(p1));
    ASSERT_U64_EQ(np_placement_node_mem_bytes(p1, 2), 128 * MiB);
    /* soft affinity only, like "all / 4-5" in xl vcpu-list */
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p1, 0), buf, sizeof(buf)), "4-5");
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p1, 1), buf, sizeof(buf)), "4-5");
    ASSERT_TRUE(np_placement_vcpu_hard(p1, 0) == NULL);
    ASSERT_TRUE(np_placement_vnuma(p1) == NULL);
    /* the runners-up in libxl's order: node 1 (1017), node 0 (946),
     * node 3 (554), all losing on free memory */
    ASSERT_EQ(np_placement_nr_alternatives(p1), 3);
    np_place_alt alt;
    ASSERT_EQ(np_placement_alternative(p1, 0, &alt), 0);
    ASSERT_STR_EQ(tp_mask(alt.nodes_os, buf, sizeof(buf)), "1");
    ASSERT_CONTAINS(alt.why_not, "free memory 1017 MiB < 1019 MiB");
    ASSERT_EQ(np_placement_alternative(p1, 2, &alt), 0);
    ASSERT_STR_EQ(tp_mask(alt.nodes_os, buf, sizeof(buf)), "3");

    /* g2, g3: 1 vCPU each. nr_vcpus: n0 3, n1 3, n2 5 (g1 prefers it), n3 3
     * -> most free memory: node 1; then n0 3, n1 4 -> node 0. */
    np_guest_spec g2 = tp_guest("g2", 1, 128), g3 = tp_guest("g3", 1, 128);
    np_placement *p2 = create(st, &g2);
    np_placement *p3 = create(st, &g3);
    if (p2 && p3) {
        ASSERT_STR_EQ(tp_nodes(p2, buf, sizeof(buf)), "1");
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p2, 0), buf, sizeof(buf)), "2-3");
        ASSERT_CONTAINS(np_placement_note(p2), "nr_vcpus=3");
        ASSERT_STR_EQ(tp_nodes(p3, buf, sizeof(buf)), "0");
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p3, 0), buf, sizeof(buf)), "0-1");
        /* xl info -n memfree became 818/889/891/554 */
        uint64_t fr[4];
        for (size_t i = 0; i < 4; i++)
            np_host_state_node_free(st, i, &fr[i]);
        ASSERT_U64_EQ(fr[0] / MiB, 818);
        ASSERT_U64_EQ(fr[1] / MiB, 889);
        ASSERT_U64_EQ(fr[2] / MiB, 891);
        ASSERT_U64_EQ(fr[3] / MiB, 554);
    }
    np_placement_destroy(p2);
    np_placement_destroy(p3);
    np_placement_destroy(p1);
out:
    np_host_state_destroy(st);
}

static void test_lab_one_cpu_per_node(void)
{
    /* With 1 CPU per node a 2-vCPU guest must span 2 nodes: "candidate
     * with 2 nodes, 2 cpus and 2037 KB free", nr_vcpus=8, memory 50/50. */
    static const uint64_t free_mib[4] = {946, 1018, 1019, 554};
    np_host_state *st = lab(1, free_mib);
    char buf[64];

    np_guest_spec g1 = tp_guest("g1", 2, 128);
    np_placement *p1 = create(st, &g1);
    if (!p1)
        goto out;
    ASSERT_STR_EQ(tp_nodes(p1, buf, sizeof(buf)), "1,2");
    ASSERT_CONTAINS(np_placement_note(p1), "2 node(s), 2 cpus, nr_vcpus=8, 2037 MiB free");
    ASSERT_U64_EQ(np_placement_node_mem_bytes(p1, 1), 64 * MiB);
    ASSERT_U64_EQ(np_placement_node_mem_bytes(p1, 2), 64 * MiB);
    /* one mask for all vCPUs: the union, "all / 1-2" */
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p1, 0), buf, sizeof(buf)), "1-2");
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(p1, 1), buf, sizeof(buf)), "1-2");
    /* then the 1-vCPU guests went to node 0 (g2) and node 3 (g3) */
    np_guest_spec g2 = tp_guest("g2", 1, 128), g3 = tp_guest("g3", 1, 128);
    np_placement *p2 = create(st, &g2);
    np_placement *p3 = create(st, &g3);
    if (p2 && p3) {
        ASSERT_STR_EQ(tp_nodes(p2, buf, sizeof(buf)), "0");
        ASSERT_STR_EQ(tp_nodes(p3, buf, sizeof(buf)), "3");
    }
    np_placement_destroy(p2);
    np_placement_destroy(p3);
    np_placement_destroy(p1);
out:
    np_host_state_destroy(st);
}

/* Hard affinity mode: Xen 4.2 pinned the vCPUs to the chosen nodes. */
static void test_hard_pinning_like_xen_4_2(void)
{
    static const uint64_t free_mib[4] = {946, 1017, 1019, 554};
    np_host_state *st = lab(2, free_mib);
    np_guest_spec g = tp_guest("g", 2, 128);
    g.affinity = NP_AFFINITY_HARD;
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[64];
    ASSERT_EQ(np_place(st, &g, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_STR_EQ(tp_mask(np_placement_cpus_hard(pl), buf, sizeof(buf)), "4-5");
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_hard(pl, 1), buf, sizeof(buf)), "4-5");
        ASSERT_STR_EQ(tp_mask(np_placement_cpus_soft(pl), buf, sizeof(buf)), "4-5");
    }
    np_placement_destroy(pl);
    g.affinity = NP_AFFINITY_NONE;
    ASSERT_EQ(np_place(st, &g, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_TRUE(np_placement_cpus_soft(pl) == NULL);
        ASSERT_TRUE(np_placement_vcpu_hard(pl, 0) == NULL);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 128 * MiB);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* nr_vcpus counts affinities, not load: a pinned guest counts only where
 * it is pinned, each vCPU once per node however many CPUs it names. */
static void test_nr_vcpus_counts_pinned_guests_once_per_node(void)
{
    uint32_t c[3] = {4, 4, 4};
    uint64_t m[3] = {4096, 4096, 4096};
    np_host_state *st = tp_state(tp_host(3, c, m, NULL));
    np_guest_spec busy = tp_guest("busy", 3, 512);
    size_t g;
    np_host_state_add_guest(st, &busy, &g);
    np_bitmap *n0 = NULL, *n01 = NULL;
    np_bitmap_create(&n0);
    np_bitmap_create(&n01);
    np_bitmap_parse(n0, "0-3");
    np_bitmap_parse(n01, "2-5");
    /* vCPU 0, 1 pinned to node 0; vCPU 2 pinned across nodes 0 and 1 */
    np_host_state_set_vcpu_affinity(st, g, 0, n0, NULL);
    np_host_state_set_vcpu_affinity(st, g, 1, n0, NULL);
    np_host_state_set_vcpu_affinity(st, g, 2, n01, NULL);
    np_guest_spec s = tp_guest("new", 1, 256);
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[32];
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) {
        /* n0: 3 + 1 (self), n1: 1 + 1, n2: 0 + 1 -> node 2 */
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "2");
        ASSERT_CONTAINS(np_placement_note(pl), "nr_vcpus=1");
        np_place_alt alt;
        ASSERT_EQ(np_placement_alternative(pl, 0, &alt), 0);
        ASSERT_STR_EQ(tp_mask(alt.nodes_os, buf, sizeof(buf)), "1");
        ASSERT_CONTAINS(alt.why_not, "nr_vcpus 2 > 1");
        ASSERT_EQ(np_placement_alternative(pl, 1, &alt), 0);
        ASSERT_CONTAINS(alt.why_not, "nr_vcpus 4 > 1");
    }
    np_placement_destroy(pl);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n01);
    np_host_state_destroy(st);
}

/* Fewer nodes first, absolutely: a single busy node beats an idle pair. */
static void test_fewer_nodes_first(void)
{
    uint32_t c[3] = {4, 2, 2};
    uint64_t m[3] = {4096, 4096, 4096};
    np_host_state *st = tp_state(tp_host(3, c, m, NULL));
    /* unequal CPU counts: min_nodes = 1; the 4-vCPU guest fits only on
     * node 0 alone, which is crowded with 8 pinned vCPUs */
    np_guest_spec crowd = tp_guest("crowd", 8, 512);
    size_t g;
    np_host_state_add_guest(st, &crowd, &g);
    np_bitmap *n0 = NULL;
    np_bitmap_create(&n0);
    np_bitmap_parse(n0, "0-3");
    for (uint32_t v = 0; v < 8; v++)
        np_host_state_set_vcpu_affinity(st, g, v, n0, NULL);
    np_guest_spec s = tp_guest("new", 4, 1024);
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[32];
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl)
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0");
    np_placement_destroy(pl);
    np_bitmap_destroy(n0);
    np_host_state_destroy(st);
}

/* count_cpus_per_node() sets cpus_per_node from the first node with CPUs
 * and turns the min_nodes shortcut off at the next node that differs, so
 * CPU-less nodes first and in the middle give different min_nodes. Without
 * cpupools the shortcut only skips sizes that could not hold the vCPUs, so
 * the choice is the same either way; and CPU-less nodes are never
 * suitable. */
static void test_cpuless_nodes_are_not_suitable(void)
{
    uint32_t c[4] = {0, 2, 2, 2};
    uint64_t m[4] = {4096, 4096, 4096, 4096};
    np_host_state *st = tp_state(tp_host(4, c, m, NULL));
    np_guest_spec s = tp_guest("g", 2, 256);
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[32];
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) /* cpus_per_node 2, min_nodes 1: the first suitable node */
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "1");
    np_placement_destroy(pl);
    np_host_state_destroy(st);

    uint32_t c2[4] = {2, 2, 0, 2};
    st = tp_state(tp_host(4, c2, m, NULL));
    s = tp_guest("g", 3, 256);
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) /* min_nodes 1, no single node has 3 CPUs: first pair of 0,1,3 */
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0,1");
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* Ties: the first candidate found wins (strict comparison). */
static void test_first_found_wins_ties(void)
{
    uint32_t c[4] = {2, 2, 2, 2};
    uint64_t m[4] = {2048, 2048, 2048, 2048};
    np_host_state *st = tp_state(tp_host(4, c, m, NULL));
    np_guest_spec s = tp_guest("g", 4, 256);
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[32];
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0,1");
        np_place_alt alt;
        ASSERT_EQ(np_placement_alternative(pl, 0, &alt), 0);
        ASSERT_STR_EQ(tp_mask(alt.nodes_os, buf, sizeof(buf)), "0,2");
        ASSERT_CONTAINS(alt.why_not, "tie, found later");
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* Memory need = memory + 1 MiB, rounded up to 2 MiB: 1023 MiB needs
 * 1024 MiB, 1024 MiB needs 1026 MiB. */
static void test_memory_need_overhead(void)
{
    uint32_t c[2] = {2, 2};
    uint64_t m[2] = {1025, 2048};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_host_state_set_node_free(st, 1, 1000 * MiB); /* node 1 busy */
    np_placement *pl = NULL;
    np_error err = {0};
    char buf[32];
    np_guest_spec s = tp_guest("g", 1, 1023);
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl)
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0");
    np_placement_destroy(pl);
    s = tp_guest("g", 1, 1024); /* needs 1026 > 1025 on node 0: a pair */
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl)
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0,1");
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

static void test_gives_up_above_16_nodes(void)
{
    np_topo_gen g;
    np_topo_gen_init(&g, 17, 2, 4 * GiB);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    np_host_state *st = tp_state(t);
    np_guest_spec s = tp_guest("g", 2, 1700);
    np_placement *pl = NULL;
    char buf[32];
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_TRUE(np_placement_is_fallback(pl));
        ASSERT_CONTAINS(np_placement_note(pl), "more than 16 nodes (this one has 17)");
        ASSERT_EQ(np_placement_nr_nodes(pl), 17);
        /* striped: 100 MiB per node */
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 100 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 16), 100 * MiB);
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 0), buf, sizeof(buf)), "0-67");
        ASSERT_CONTAINS(np_placement_note(pl), "memory striped over nodes 0-16");
    }
    np_placement_destroy(pl);
    pl = NULL;
    /* 8 MiB over 17 nodes: a 1 MiB stripe on nodes 0-7, none on the other
     * nine; the placement names only those 8 nodes (its vCPUs count on
     * nodes 0 and 1) and so does the note, while the vCPUs keep every
     * CPU of the host */
    np_guest_spec tiny = tp_guest("tiny", 2, 8);
    ASSERT_EQ(np_place(st, &tiny, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 8);
        for (size_t i = 0; i < np_placement_nr_nodes(pl); i++)
            ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, np_placement_node(pl, i)), MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 8), 0);
        ASSERT_CONTAINS(np_placement_note(pl), "memory striped over nodes 0-7, vCPUs on any CPU");
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 1), buf, sizeof(buf)), "0-67");
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

static void test_no_candidate_falls_back(void)
{
    uint32_t c[2] = {2, 2};
    uint64_t m[2] = {1024, 1024};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_host_state_set_node_free(st, 0, 600 * MiB);
    np_host_state_set_node_free(st, 1, 600 * MiB);
    /* 1200 MiB + libxl's overhead = 1202 MiB > 1200 MiB free: no
     * candidate, yet Xen's allocator still finds the 1200 MiB by
     * striping over both nodes */
    np_guest_spec s = tp_guest("g", 2, 1200);
    np_placement *pl = NULL;
    np_error err = {0};
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), 0);
    if (pl) {
        ASSERT_TRUE(np_placement_is_fallback(pl));
        ASSERT_CONTAINS(np_placement_note(pl), "NUMA placement failed");
        ASSERT_EQ(np_placement_nr_nodes(pl), 2);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0) + np_placement_node_mem_bytes(pl, 1),
                      1200 * MiB);
    }
    np_placement_destroy(pl);
    /* the whole host lacks the memory: that is -ENOSPC, not a fallback */
    s = tp_guest("g", 2, 1300);
    ASSERT_EQ(np_place(st, &s, "xl42", &pl, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "more than the host has available");
    np_host_state_destroy(st);
}

/* Blind spot kept: claims of creations in flight are invisible to libxl
 * (Xen's free figure only drops once memory is populated), so two guests
 * created back to back both "fit" the same node: the parallel boot race.
 * libxl picks node 0 for b; Xen's allocator then finds node 0 holding
 * only 3000 - 2048 = 952 MiB and takes the other 1096 MiB from node 1:
 * the memory never lands above free, it lands remote. */
static void test_parallel_boot_race(void)
{
    uint32_t c[2] = {4, 4};
    uint64_t m[2] = {4096, 4096};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_host_state_set_node_free(st, 0, 3000 * MiB);
    np_host_state_set_node_free(st, 1, 2900 * MiB);
    np_guest_spec a = tp_guest("a", 2, 2048), b = tp_guest("b", 2, 2048);
    a.affinity = b.affinity = NP_AFFINITY_NONE; /* nr_vcpus stays equal */
    np_placement *pa = NULL, *pb = NULL, *pn = NULL;
    np_error err = {0};
    char buf[32];
    ASSERT_EQ(np_place(st, &a, "xl42", &pa, &err), 0);
    if (pa)
        ASSERT_EQ(np_placement_commit(st, &a, pa, NULL), 0); /* claimed, not populated */
    ASSERT_EQ(np_place(st, &b, "xl42", &pb, &err), 0);
    if (pa && pb) {
        ASSERT_STR_EQ(tp_nodes(pa, buf, sizeof(buf)), "0");
        ASSERT_STR_EQ(tp_nodes(pb, buf, sizeof(buf)), "0,1"); /* libxl's node 0, spilled */
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pb, 0), 952 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pb, 1), 1096 * MiB);
        ASSERT_CONTAINS(np_placement_note(pb), "nr_vcpus");
    }
    /* numaplace counts the claim and sends b to node 1 */
    ASSERT_EQ(np_place(st, &b, "numaplace", &pn, &err), 0);
    if (pn)
        ASSERT_STR_EQ(tp_nodes(pn, buf, sizeof(buf)), "1");
    np_placement_destroy(pa);
    np_placement_destroy(pb);
    np_placement_destroy(pn);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_lab_two_cpus_per_node);
    NP_RUN(test_lab_one_cpu_per_node);
    NP_RUN(test_hard_pinning_like_xen_4_2);
    NP_RUN(test_nr_vcpus_counts_pinned_guests_once_per_node);
    NP_RUN(test_fewer_nodes_first);
    NP_RUN(test_cpuless_nodes_are_not_suitable);
    NP_RUN(test_first_found_wins_ties);
    NP_RUN(test_memory_need_overhead);
    NP_RUN(test_gives_up_above_16_nodes);
    NP_RUN(test_no_candidate_falls_back);
    NP_RUN(test_parallel_boot_race);
    return np_test_summary();
}
