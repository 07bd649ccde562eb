/* The numaplace policy: what it chooses and why, where it differs from
 * xl42 (and why it is right there), its explanations, its errors, and
 * np_placement_commit(). */
#include <errno.h>
#include <math.h>

#include "np_test.h"
#include "test_place_util.h"

static np_placement *place(const np_host_state *st, const np_guest_spec *s, const char *policy)
{
    np_placement *pl = NULL;
    np_error err = {0};
    int rc = np_place(st, s, policy, &pl, &err);
    if (rc < 0)
        fprintf(stderr, "np_place(%s): %d %s\n", policy, rc, err.msg);
    ASSERT_EQ(rc, 0);
    return pl;
}

static const char *nodes_of(const np_placement *pl, char *buf, size_t len)
{
    return pl ? tp_nodes(pl, buf, len) : "(none)";
}

/* 4 nodes of 4 CPUs and 8 GiB; 0-1 and 2-3 share a package (12), the
 * packages are 32 apart. */
static const uint32_t two_pkg_dist[16] = {10, 12, 32, 32, 12, 10, 32, 32,
                                          32, 32, 10, 12, 32, 32, 12, 10};

static np_host_state *two_packages(void)
{
    uint32_t c[4] = {4, 4, 4, 4};
    uint64_t m[4] = {8192, 8192, 8192, 8192};
    return tp_state(tp_host(4, c, m, two_pkg_dist));
}

static void test_small_guest_goes_to_least_loaded_node(void)
{
    np_host_state *st = two_packages();
    np_guest_spec busy = tp_guest("busy", 3, 1024);
    size_t g;
    np_host_state_add_guest(st, &busy, &g);
    for (uint32_t v = 0; v < 3; v++)
        np_host_state_set_vcpu_cpu(st, g, v, 0); /* runs on node 0 */
    np_host_state_set_guest_mem(st, g, 0, 1024 * MiB, 0);
    for (size_t i = 1; i < 4; i++) /* nodes 1-3 equally busy with memory */
        np_host_state_set_reserved(st, i, 2048 * MiB);
    np_guest_spec s = tp_guest("web", 2, 2048);
    np_placement *pl = place(st, &s, NULL);
    char buf[64];
    if (pl) {
        ASSERT_STR_EQ(np_placement_policy(pl), "numaplace");
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "1");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 1), 2048 * MiB);
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 1), buf, sizeof(buf)), "4-7");
        ASSERT_TRUE(np_placement_cpus_hard(pl) == NULL);
        ASSERT_TRUE(np_placement_vnuma(pl) == NULL); /* one node: no layout */
        ASSERT_TRUE(!np_placement_is_fallback(pl));
        ASSERT_STR_EQ(np_placement_note(pl), "");
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* A guest larger than any node spans the nearest pair, with a vNUMA
 * layout mirroring their distance. */
static void test_big_guest_spans_near_nodes_with_vnuma(void)
{
    np_host_state *st = two_packages();
    np_guest_spec s = tp_guest("db", 6, 12288);
    s.maxmem_bytes = 14336 * MiB;
    np_placement *pl = place(st, &s, NULL);
    char buf[64];
    if (!pl)
        goto out;
    ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,1");
    uint64_t sum = 0;
    for (size_t i = 0; i < 4; i++)
        sum += np_placement_node_mem_bytes(pl, i);
    ASSERT_U64_EQ(sum, 14336 * MiB);
    ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 7168 * MiB);
    const np_vnuma *v = np_placement_vnuma(pl);
    ASSERT_TRUE(v != NULL);
    if (v) {
        ASSERT_EQ(np_vnuma_nr_vnodes(v), 2);
        ASSERT_U64_EQ(np_vnuma_total_mem_bytes(v), 14336 * MiB);
        ASSERT_EQ(np_vnuma_distance(v, 0, 1), 12);
        ASSERT_EQ(np_vnuma_distance(v, 1, 1), 10);
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 0), buf, sizeof(buf)), "0-2");
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 1), buf, sizeof(buf)), "3-5");
        ASSERT_EQ(np_vnuma_pnode_os_id(v, 1), 1);
    }
    /* per-vCPU soft masks follow the vCPU's node; the overall mask is the union */
    ASSERT_EQ(np_placement_vcpu_node(pl, 0), 0);
    ASSERT_EQ(np_placement_vcpu_node(pl, 5), 1);
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 0), buf, sizeof(buf)), "0-3");
    ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 5), buf, sizeof(buf)), "4-7");
    ASSERT_STR_EQ(tp_mask(np_placement_cpus_soft(pl), buf, sizeof(buf)), "0-7");
    /* vnuma=off: same nodes, no layout */
    s.vnuma_nodes = NP_VNUMA_OFF;
    np_placement *off = place(st, &s, NULL);
    if (off)
        ASSERT_TRUE(np_placement_vnuma(off) == NULL);
    np_placement_destroy(off);
    /* hard mode pins each vCPU to its node */
    s.vnuma_nodes = NP_VNUMA_AUTO;
    s.affinity = NP_AFFINITY_HARD;
    np_placement *hard = place(st, &s, NULL);
    if (hard)
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_hard(hard, 5), buf, sizeof(buf)), "4-7");
    np_placement_destroy(hard);
    np_placement_destroy(pl);
out:
    np_host_state_destroy(st);
}

/* The explanation adds up: the terms sum to the cost, runners-up cost
 * more, rejected sets say what they lack. */
static void test_explanation(void)
{
    np_host_state *st = two_packages();
    np_guest_spec s = tp_guest("db", 4, 10240);
    np_placement *pl = place(st, &s, NULL);
    if (!pl)
        goto out;
    double sum = 0.0;
    ASSERT_EQ(np_placement_nr_terms(pl), 5);
    for (size_t i = 0; i < np_placement_nr_terms(pl); i++) {
        const char *name;
        double value;
        ASSERT_EQ(np_placement_term(pl, i, &name, &value), 0);
        ASSERT_TRUE(value >= 0.0);
        sum += value;
    }
    ASSERT_TRUE(fabs(sum - np_placement_cost(pl)) < 1e-9);
    const char *name;
    double value;
    ASSERT_EQ(np_placement_term(pl, 1, &name, &value), 0);
    ASSERT_STR_EQ(name, "remote_memory");
    ASSERT_TRUE(value > 0.0); /* it spans two nodes */
    ASSERT_EQ(np_placement_term(pl, 5, &name, &value), -ENOENT);
    size_t n = np_placement_nr_alternatives(pl);
    ASSERT_TRUE(n >= 3);
    bool saw_reject = false;
    for (size_t i = 0; i < n; i++) {
        np_place_alt alt;
        ASSERT_EQ(np_placement_alternative(pl, i, &alt), 0);
        if (alt.why_not[0]) {
            saw_reject = true;
            ASSERT_TRUE(isinf(alt.cost));
            ASSERT_CONTAINS(alt.why_not, "short of memory");
        } else {
            ASSERT_TRUE(alt.cost >= np_placement_cost(pl));
        }
    }
    ASSERT_TRUE(saw_reject); /* single nodes cannot hold 10 GiB */
    np_placement_destroy(pl);
out:
    np_host_state_destroy(st);
}

static void test_no_room_says_what_is_missing(void)
{
    uint32_t c[3] = {2, 2, 0};
    uint64_t m[3] = {4096, 4096, 16384};
    np_host_state *st = tp_state(tp_host(3, c, m, NULL));
    np_placement *pl = NULL;
    np_error err = {0};
    np_guest_spec s = tp_guest("big", 2, 10240);
    /* fits only with the CPU-less node, which the guest refused */
    s.cpuless_memory_refused = true;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "needs 10 GiB of memory");
    ASSERT_CONTAINS(err.msg, "cpuless-memory=yes");
    ASSERT_EQ(np_place(st, &s, "oracle", &pl, &err), -ENOSPC);
    /* Neither said (the default): CPU-less memory is one more remote
     * tier, here as far as the other CPU node (no SLIT: 20 everywhere).
     * Nodes 0 and 1 hold 4096 MiB each, so 10240 - 8192 = 2048 MiB go to
     * node 2 and both vCPUs stay on the CPU nodes, one each (equal room).
     * Then allowed outright: the same placement. */
    s.cpuless_memory_refused = false;
    char buf[64];
    for (int pass = 0; pass < 3; pass++) {
        s.allow_cpuless_memory = pass == 2;
        pl = place(st, &s, pass == 1 ? "oracle" : NULL);
        if (!pl)
            continue;
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,1,2");
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 0), 4096 * MiB);
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 1), 4096 * MiB);
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 2), 2048 * MiB);
        ASSERT_TRUE(np_placement_vcpu_node(pl, 0) != np_placement_vcpu_node(pl, 1));
        for (uint32_t v = 0; v < 2; v++)
            ASSERT_TRUE(np_placement_vcpu_node(pl, v) != 2);
        np_placement_destroy(pl);
    }
    /* A guest the CPU nodes can hold stays off node 2, no nearer than
     * they are (test_near_cpuless_before_far_dram: a nearer one). */
    np_guest_spec small = tp_guest("small", 2, 6144);
    pl = place(st, &small, NULL);
    if (pl)
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 2), 0);
    np_placement_destroy(pl);
    s.allow_cpuless_memory = true;
    pl = place(st, &s, NULL);
    if (pl) {
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,1,2");
        ASSERT_TRUE(np_placement_node_mem_bytes(pl, 2) >= 2048 * MiB);
        for (uint32_t v = 0; v < 2; v++)
            ASSERT_TRUE(np_placement_vcpu_node(pl, v) != 2);
        ASSERT_STR_EQ(tp_mask(np_placement_cpus_soft(pl), buf, sizeof(buf)), "0-3");
        const np_vnuma *v = np_placement_vnuma(pl);
        if (v) /* the CPU-less vnode has memory and no vCPUs */
            ASSERT_TRUE(np_bitmap_is_empty(np_vnuma_vcpus(v, 2)));
    }
    np_placement_destroy(pl);
    /* more than the host has at all */
    s = tp_guest("huge", 2, 30000);
    s.allow_cpuless_memory = true;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -EINVAL); /* larger than the host */
    np_host_state_set_reserved(st, 2, 8192 * MiB);
    s = tp_guest("huge", 2, 20000);
    s.allow_cpuless_memory = true;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "but the host has only 16 GiB available");
    /* vnuma=1 caps the guest at one node */
    s = tp_guest("wide", 2, 5000);
    s.vnuma_nodes = 1;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "on at most 1 nodes (vnuma=1)");
    ASSERT_CONTAINS(err.msg, "is 4 GiB");
    np_host_state_destroy(st);
}

/* CPU-less memory is priced by its distance like any other remote memory
 * (context.c). Host like 64intel64-heteromem: CPU nodes 0 and 1 of 2 CPUs
 * and 1024 MiB, 20 apart; HBM node 2 (2048 MiB, no CPUs) at 12 from node 0,
 * node 3 at 12 from node 1. A 2-vCPU 2048 MiB guest (vnuma=off): the two
 * CPU nodes, one vCPU each, pay half the memory at 20 (standard distance
 * 0.5; the objective 0.3 x 0.5 x (1.5618 - 1) = 8.4%); node 0 and its HBM
 * pay half at 12 (0.1; 0.3 x 0.5 x 0.10 = 1.5%). Under the old default
 * (CPU-less memory only when the CPU nodes cannot hold the guest) it was
 * the two CPU nodes; cpuless-memory=no still gives that. */
static void test_near_cpuless_before_far_dram(void)
{
    uint32_t c[4] = {2, 2, 0, 0};
    uint64_t m[4] = {1024, 1024, 2048, 2048};
    static const uint32_t d[16] = {10, 20, 12, 20, 20, 10, 20, 12,
                                   12, 20, 10, 20, 20, 12, 20, 10};
    np_host_state *st = tp_state(tp_host(4, c, m, d));
    char buf[64];
    np_guest_spec s = tp_guest("hbm", 2, 2048);
    s.vnuma_nodes = NP_VNUMA_OFF;
    for (int pass = 0; pass < 2; pass++) {
        np_placement *pl = place(st, &s, pass ? "oracle" : NULL);
        if (!pl)
            continue;
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,2");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 1024 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 1024 * MiB);
        for (uint32_t v = 0; v < 2; v++)
            ASSERT_EQ(np_placement_vcpu_node(pl, v), 0);
        np_placement_destroy(pl);
    }
    s.cpuless_memory_refused = true;
    np_placement *pl = place(st, &s, NULL);
    if (pl) {
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,1");
        ASSERT_TRUE(np_placement_vcpu_node(pl, 0) != np_placement_vcpu_node(pl, 1));
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

static void test_policy_table_and_bad_calls(void)
{
    /* the whole table is checked in test_place_baselines.c */
    size_t nr = np_place_policy_count();
    ASSERT_TRUE(nr >= 3);
    ASSERT_STR_EQ(np_place_policy_name(0), NP_PLACE_DEFAULT_POLICY);
    ASSERT_STR_EQ(np_place_policy_name(1), "xl42");
    ASSERT_TRUE(np_place_policy_summary(2) != NULL);
    ASSERT_TRUE(np_place_policy_name(nr) == NULL);
    np_host_state *st = two_packages();
    np_guest_spec s = tp_guest("a", 2, 1024);
    np_placement *pl = NULL;
    np_error err = {0};
    ASSERT_EQ(np_place(st, &s, "best", &pl, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "unknown placement policy \"best\"");
    ASSERT_CONTAINS(err.msg, "least-loaded"); /* the message lists the table */
    s.vcpus = 0;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "vcpus");
    s = tp_guest("a", 2, 1024);
    pl = place(st, &s, NULL);
    if (pl)
        ASSERT_EQ(np_placement_commit(st, &s, pl, NULL), 0);
    np_placement_destroy(pl);
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "already on the host");
    /* opting out: the hypervisor's default, flagged */
    np_guest_spec o = tp_guest("own", 2, 1024);
    o.no_autoplace = true;
    pl = place(st, &o, NULL);
    if (pl) {
        ASSERT_TRUE(np_placement_is_fallback(pl));
        ASSERT_CONTAINS(np_placement_note(pl), "autoplace=no");
        ASSERT_EQ(np_placement_nr_nodes(pl), 4);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    /* the oracle refuses big hosts */
    np_topo_gen g;
    np_topo_gen_init(&g, 13, 2, 4 * GiB);
    np_topology *t = NULL;
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    st = tp_state(t);
    ASSERT_EQ(np_place_oracle(st, &s, &pl, &err), -E2BIG);
    ASSERT_CONTAINS(err.msg, "at most 12 nodes");
    np_host_state_destroy(st);
}

/* Commit records claims, balloon head-room and affinities; the next
 * guest sees them. */
static void test_commit(void)
{
    np_host_state *st = two_packages();
    np_guest_spec s = tp_guest("db", 6, 12288);
    s.maxmem_bytes = 14336 * MiB;
    s.cpu_demand = 0.5;
    np_placement *pl = place(st, &s, NULL);
    size_t g = 99;
    if (!pl)
        goto out;
    ASSERT_EQ(np_placement_commit(st, &s, pl, &g), 0);
    ASSERT_EQ(g, 0);
    ASSERT_U64_EQ(np_host_state_guest_claimed_bytes(st, g, 0), 6144 * MiB);
    ASSERT_U64_EQ(np_host_state_guest_claimed_bytes(st, g, 1), 6144 * MiB);
    ASSERT_U64_EQ(np_host_state_guest_mem_max_bytes(st, g, 0), 7168 * MiB);
    np_node_load l[4];
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[0].mem_claimed_bytes, 6144 * MiB);
    ASSERT_U64_EQ(l[0].mem_balloon_bytes, 1024 * MiB);
    ASSERT_U64_EQ(l[0].mem_available_bytes, 1024 * MiB);
    ASSERT_TRUE(fabs(l[0].cpu_demand - 1.5) < 1e-9);
    ASSERT_TRUE(fabs(l[2].cpu_demand) < 1e-9);
    char buf[32];
    ASSERT_STR_EQ(tp_mask(np_host_state_vcpu_soft(st, g, 4), buf, sizeof(buf)), "4-7");
    ASSERT_TRUE(np_host_state_vcpu_hard(st, g, 4) == NULL);
    /* a second big guest now goes to the other package */
    np_guest_spec s2 = tp_guest("db2", 6, 12288);
    np_placement *p2 = place(st, &s2, NULL);
    if (p2)
        ASSERT_STR_EQ(nodes_of(p2, buf, sizeof(buf)), "2,3");
    np_placement_destroy(p2);
    /* a spec that does not match the placement is refused */
    s2.vcpus = 5;
    ASSERT_EQ(np_placement_commit(st, &s2, pl, NULL), -EINVAL);
    ASSERT_EQ(np_placement_commit(st, &s, pl, NULL), -EEXIST);
    np_placement_destroy(pl);
out:
    np_host_state_destroy(st);
}

/* ---- where numaplace and xl42 differ ----------------------------------------------- */

/* Distance: xl42 takes the pair with most free memory, across packages;
 * numaplace takes a pair inside one package. */
static void test_distance_xl42_picks_far_pair(void)
{
    np_host_state *st = two_packages();
    static const uint64_t fr[4] = {6000, 5000, 5900, 5000};
    for (size_t i = 0; i < 4; i++)
        np_host_state_set_node_free(st, i, fr[i] * MiB);
    np_guest_spec s = tp_guest("db", 4, 10240);
    np_placement *x = place(st, &s, "xl42"), *n = place(st, &s, NULL);
    char buf[32];
    if (x && n) {
        ASSERT_STR_EQ(nodes_of(x, buf, sizeof(buf)), "0,2");
        /* a pair inside one package (which one is a tie-break between
         * nearly equal free memory) */
        const char *got = nodes_of(n, buf, sizeof(buf));
        ASSERT_TRUE(strcmp(got, "0,1") == 0 || strcmp(got, "2,3") == 0);
        /* measured with numaplace's ruler, xl42's pair costs more, and the
         * gap is the remote-memory term: half the memory two hops away
         * without vNUMA, 0.3 x 0.5 x 1.12 = 0.17 of the guest's work */
        ASSERT_TRUE(np_placement_cost(x) > np_placement_cost(n) + 0.15);
    }
    np_placement_destroy(x);
    np_placement_destroy(n);
    np_host_state_destroy(st);
}

/* Device: xl42 ignores where the NIC is. */
static void test_device_xl42_ignores_device_node(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    for (uint32_t i = 0; i < 2; i++) {
        np_topology_builder_add_node(b, i, 8 * GiB, 8 * GiB);
        for (uint32_t c = 0; c < 4; c++)
            np_topology_builder_add_cpu(b, i * 4 + c, i, i, c);
    }
    np_pci_info nic = {0};
    nic.bus = 0x81;
    np_topology_builder_add_device(b, &nic, 1);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    np_topology_builder_destroy(b);
    np_host_state *st = tp_state(t);
    np_host_state_set_reserved(st, 1, 1024 * MiB); /* node 0 has more free */
    np_guest_spec s = tp_guest("router", 2, 2048);
    s.nr_devices = 1;
    snprintf(s.devices[0], NP_BDF_TEXT_MAX, "0000:81:00.0");
    np_placement *x = place(st, &s, "xl42"), *n = place(st, &s, NULL);
    char buf[32];
    if (x && n) {
        ASSERT_STR_EQ(nodes_of(x, buf, sizeof(buf)), "0");
        ASSERT_STR_EQ(nodes_of(n, buf, sizeof(buf)), "1");
        const char *name;
        double value;
        ASSERT_EQ(np_placement_term(x, 2, &name, &value), 0);
        ASSERT_STR_EQ(name, "device");
        ASSERT_TRUE(value > 0.15); /* 0.3 of its time x 0.56 more latency */
    }
    np_placement_destroy(x);
    np_placement_destroy(n);
    /* io-node works the same way without a passthrough device */
    s.nr_devices = 0;
    s.io_node_os_id = 1;
    n = place(st, &s, NULL);
    if (n)
        ASSERT_STR_EQ(nodes_of(n, buf, sizeof(buf)), "1");
    np_placement_destroy(n);
    np_host_state_destroy(st);
}

/* Load: xl42 counts vCPUs, idle or not; numaplace's search counts demand
 * (node 0: 8 idle vCPUs, 0.4 cores), but its count guard does not let it
 * take node 0 at 10 vCPUs on 4 CPUs when node 1 gives 4/4 at the same
 * distance (test_place_guard.c has the hand-worked cases). */
static void test_load_xl42_counts_idle_vcpus(void)
{
    uint32_t c[2] = {4, 4};
    uint64_t m[2] = {8192, 8192};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_bitmap *n0 = NULL, *n1 = NULL;
    np_bitmap_create(&n0);
    np_bitmap_create(&n1);
    np_bitmap_parse(n0, "0-3");
    np_bitmap_parse(n1, "4-7");
    np_guest_spec idle = tp_guest("idle", 8, 1024), busy = tp_guest("busy", 2, 1024);
    idle.cpu_demand = 0.05;
    size_t gi, gb;
    np_host_state_add_guest(st, &idle, &gi);
    np_host_state_add_guest(st, &busy, &gb);
    for (uint32_t v = 0; v < 8; v++)
        np_host_state_set_vcpu_affinity(st, gi, v, NULL, n0);
    for (uint32_t v = 0; v < 2; v++)
        np_host_state_set_vcpu_affinity(st, gb, v, NULL, n1);
    np_host_state_set_guest_mem(st, gi, 0, 1024 * MiB, 0);
    np_host_state_set_guest_mem(st, gb, 1, 1024 * MiB, 0);
    np_guest_spec s = tp_guest("new", 2, 2048);
    np_placement *x = place(st, &s, "xl42"), *n = place(st, &s, NULL);
    char buf[32];
    if (x && n) {
        ASSERT_STR_EQ(nodes_of(x, buf, sizeof(buf)), "1"); /* nr_vcpus 4 < 10 */
        ASSERT_STR_EQ(nodes_of(n, buf, sizeof(buf)), "1"); /* worst 2.50 against 1.00 */
        ASSERT_CONTAINS(np_placement_note(n), "against the search's 2.50");
    }
    np_placement_destroy(x);
    np_placement_destroy(n);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n1);
    np_host_state_destroy(st);
}

/* Groups: colocate goes near the members, but not onto a node it would
 * overload; spread avoids the members' nodes. xl42 knows no groups. */
static void test_groups(void)
{
    np_host_state *st = two_packages();
    np_guest_spec app = tp_guest("app1", 2, 2048);
    snprintf(app.group, sizeof(app.group), "shop");
    app.group_rule = NP_GROUP_COLOCATE;
    app.cpu_demand = 0.3;
    size_t g;
    np_host_state_add_guest(st, &app, &g);
    np_host_state_set_guest_mem(st, g, 2, 2048 * MiB, 0);
    for (uint32_t v = 0; v < 2; v++)
        np_host_state_set_vcpu_cpu(st, g, v, 8);
    np_host_state_set_reserved(st, 2, 1024 * MiB); /* node 2 a bit fuller than 0, 1, 3 */
    np_guest_spec db = tp_guest("db1", 2, 2048);
    snprintf(db.group, sizeof(db.group), "shop");
    db.group_rule = NP_GROUP_COLOCATE;
    db.group_weight = 100;
    np_placement *n = place(st, &db, NULL), *x = place(st, &db, "xl42");
    char buf[32];
    if (n && x) {
        ASSERT_STR_EQ(nodes_of(n, buf, sizeof(buf)), "2");
        ASSERT_STR_EQ(nodes_of(x, buf, sizeof(buf)), "0"); /* most free memory */
    }
    np_placement_destroy(n);
    np_placement_destroy(x);
    /* node 2 saturated by a busy guest: colocate moves next door (node 3,
     * same package) rather than pile on */
    np_guest_spec hog = tp_guest("hog", 4, 512);
    np_host_state_add_guest(st, &hog, &g);
    for (uint32_t v = 0; v < 4; v++)
        np_host_state_set_vcpu_cpu(st, g, v, 9);
    n = place(st, &db, NULL);
    if (n)
        ASSERT_STR_EQ(nodes_of(n, buf, sizeof(buf)), "3");
    np_placement_destroy(n);
    /* spread: replicas avoid each other's nodes */
    np_host_state_remove_guest(st, "hog");
    np_guest_spec r1 = tp_guest("r1", 2, 1024);
    snprintf(r1.group, sizeof(r1.group), "replicas");
    r1.group_rule = NP_GROUP_SPREAD;
    np_guest_spec r2 = r1, r3 = r1;
    snprintf(r2.name, sizeof(r2.name), "r2");
    snprintf(r3.name, sizeof(r3.name), "r3");
    np_placement *p1 = place(st, &r1, NULL);
    if (p1)
        np_placement_commit(st, &r1, p1, NULL);
    np_placement *p2 = place(st, &r2, NULL);
    if (p2)
        np_placement_commit(st, &r2, p2, NULL);
    np_placement *p3 = place(st, &r3, NULL);
    if (p1 && p2 && p3) {
        ASSERT_TRUE(np_placement_node(p1, 0) != np_placement_node(p2, 0));
        ASSERT_TRUE(np_placement_node(p3, 0) != np_placement_node(p1, 0));
        ASSERT_TRUE(np_placement_node(p3, 0) != np_placement_node(p2, 0));
    }
    np_placement_destroy(p1);
    np_placement_destroy(p2);
    np_placement_destroy(p3);
    np_host_state_destroy(st);
}

/* Hyper-threads count 20% of a core: 8 busy vCPUs do not fit a node of 4
 * cores x 2 threads (capacity 4.8), 8 idle ones do. The search splits the
 * busy guest (test_place_guard.c, test_whole_before_split, checks that);
 * the policy keeps it whole, as its 8 vCPUs fit the node's 8 CPUs and a
 * split puts memory at a distance. Past the node's CPUs it splits. */
static void test_smt_capacity(void)
{
    np_host_state *st = tp_smt_pair(4);
    ASSERT_TRUE(st != NULL);
    np_guest_spec s = tp_guest("batch", 8, 4096);
    np_placement *busy = place(st, &s, NULL);
    np_guest_spec wide = tp_guest("wide", 10, 4096);
    np_placement *past = place(st, &wide, NULL);
    s.cpu_demand = 0.1;
    np_placement *idle = place(st, &s, NULL);
    if (busy && idle && past) {
        ASSERT_EQ(np_placement_nr_nodes(busy), 1);
        ASSERT_EQ(np_placement_nr_nodes(past), 2);
        ASSERT_EQ(np_placement_nr_nodes(idle), 1);
    }
    np_placement_destroy(busy);
    np_placement_destroy(past);
    np_placement_destroy(idle);
    np_host_state_destroy(st);
}

/* The balloon maximum is reserved, not just the start size. */
static void test_balloon_maximum_is_reserved(void)
{
    uint32_t c[2] = {4, 4};
    uint64_t m[2] = {4096, 8192};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_host_state_set_reserved(st, 1, 4096 * MiB); /* node 0 has a bit more */
    np_guest_spec s = tp_guest("elastic", 2, 1024);
    s.maxmem_bytes = 4096 * MiB + 512 * 1024; /* not whole MiB: rounded up */
    np_placement *pl = place(st, &s, NULL);
    char buf[32];
    if (pl) {
        /* 4097 MiB fit on neither node alone */
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0,1");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0) + np_placement_node_mem_bytes(pl, 1),
                      4097 * MiB);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* vnuma=N: N virtual nodes, here 4 on 2 physical nodes. */
static void test_vnuma_count(void)
{
    np_host_state *st = two_packages();
    np_guest_spec s = tp_guest("hpc", 8, 12288);
    s.vnuma_nodes = 4;
    np_placement *pl = place(st, &s, NULL);
    if (pl) {
        const np_vnuma *v = np_placement_vnuma(pl);
        ASSERT_TRUE(v != NULL);
        ASSERT_EQ(np_vnuma_nr_vnodes(v), 4);
        ASSERT_U64_EQ(np_vnuma_total_mem_bytes(v), 12288 * MiB);
        ASSERT_EQ(np_vnuma_distance(v, 0, 1), NP_VNUMA_SAME_PNODE_DISTANCE);
        ASSERT_EQ(np_vnuma_distance(v, 0, 2), 12);
        for (size_t i = 0; i < 4; i++)
            ASSERT_EQ(np_bitmap_count(np_vnuma_vcpus(v, i)), 2);
    }
    np_placement_destroy(pl);
    /* vnuma=2 on a guest that fits one node: 2 vnodes on that node */
    s = tp_guest("small", 2, 1024);
    s.vnuma_nodes = 2;
    pl = place(st, &s, NULL);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 1);
        ASSERT_EQ(np_vnuma_nr_vnodes(np_placement_vnuma(pl)), 2);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* Between two nodes both past their CPUs, where one more vCPU loses the
 * same work on either (a whole vCPU of time-sharing), the tie-break must
 * see which is more over-committed: utilisation before the guest is not
 * capped at 1. Two nodes of 2 CPUs (no SMT), 8 GiB each; a: 4 busy vCPUs
 * and 1 GiB on node 0 (u = 2); b: 3 busy vCPUs and 4 GiB on node 1
 * (u = 1.5; on node 0 it would lose 3 vCPUs of work, on node 1 one).
 * c (1 vCPU, 512 MiB, one node): cpu_overcommit 1.0 on both; headroom
 * (w u + mu fill) / 2 = (2 + 1/8) / 2 = 1.0625 on node 0 and
 * (1.5 + 4/8) / 2 = 1.0 on node 1: node 1. Capped at 1, node 0's
 * (1 + 1/8) / 2 = 0.5625 beat node 1's (1 + 1/2) / 2 = 0.75, and c went
 * to the node with 4 vCPUs on 2 CPUs instead of 3. */
static void test_overcommitted_nodes_compare(void)
{
    uint32_t c[2] = {2, 2};
    uint64_t m[2] = {8192, 8192};
    np_host_state *st = tp_state(tp_host(2, c, m, NULL));
    np_guest_spec a = tp_guest("a", 4, 1024), b = tp_guest("b", 3, 4096);
    a.vnuma_nodes = 1;
    b.vnuma_nodes = 1;
    np_placement *pl = place(st, &a, NULL);
    char buf[64];
    if (pl) {
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "0");
        ASSERT_EQ(np_placement_commit(st, &a, pl, NULL), 0);
    }
    np_placement_destroy(pl);
    pl = place(st, &b, NULL);
    if (pl) {
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "1");
        ASSERT_EQ(np_placement_commit(st, &b, pl, NULL), 0);
    }
    np_placement_destroy(pl);
    np_guest_spec g = tp_guest("c", 1, 512);
    g.vnuma_nodes = 1;
    pl = place(st, &g, NULL);
    if (pl) {
        ASSERT_STR_EQ(nodes_of(pl, buf, sizeof(buf)), "1");
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* Memory that must leave the CPU nodes goes to the nearest CPU-less node
 * first. Node 0: 2 CPUs, 4096 MiB; CPU-less node 1 (8192 MiB) at SLIT 14,
 * CPU-less node 2 (16384 MiB) at SLIT 24. A 16000 MiB guest: 4096 on node
 * 0, 11904 to pour: 8192 on node 1 (nearest), the last 3712 on node 2.
 * Poured by most room it went all to node 2 (11904 MiB at SLIT 24: rwd
 * 11904/16000 x 1.4 = 1.04 against 8192/16000 x 0.4 + 3712/16000 x 1.4
 * = 0.53). */
static void test_cpuless_spill_nearest_first(void)
{
    uint32_t c[3] = {2, 0, 0};
    uint64_t m[3] = {4096, 8192, 16384};
    uint32_t d[9] = {10, 14, 24, 14, 10, 26, 24, 26, 10};
    np_host_state *st = tp_state(tp_host(3, c, m, d));
    np_guest_spec s = tp_guest("tier", 2, 16000);
    s.allow_cpuless_memory = true;
    np_placement *pl = place(st, &s, NULL);
    if (pl) {
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 0), 4096 * MiB);
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 1), 8192 * MiB);
        ASSERT_EQ(np_placement_node_mem_bytes(pl, 2), 3712 * MiB);
        for (uint32_t v = 0; v < 2; v++)
            ASSERT_EQ(np_placement_vcpu_node(pl, v), 0);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_small_guest_goes_to_least_loaded_node);
    NP_RUN(test_big_guest_spans_near_nodes_with_vnuma);
    NP_RUN(test_explanation);
    NP_RUN(test_no_room_says_what_is_missing);
    NP_RUN(test_near_cpuless_before_far_dram);
    NP_RUN(test_policy_table_and_bad_calls);
    NP_RUN(test_commit);
    NP_RUN(test_distance_xl42_picks_far_pair);
    NP_RUN(test_device_xl42_ignores_device_node);
    NP_RUN(test_load_xl42_counts_idle_vcpus);
    NP_RUN(test_groups);
    NP_RUN(test_smt_capacity);
    NP_RUN(test_balloon_maximum_is_reserved);
    NP_RUN(test_vnuma_count);
    NP_RUN(test_overcommitted_nodes_compare);
    NP_RUN(test_cpuless_spill_nearest_first);
    return np_test_summary();
}
