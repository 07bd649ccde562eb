/*
 * test_xen_choose.c - the nodes `numaplace create` gives a guest on a Xen
 * host (src/xen/xen_choose.c): one node when one holds the memory (with
 * CPUs, else the least over-committed; nearest the device), else the
 * fewest nodes nearest each other (even shares without vNUMA), vNUMA only
 * for guests that can have it; and the placement built on those nodes.
 * The host is the Xen test host's shape: 4 nodes x 2 CPUs, distances
 * 10 / 20 to a neighbour / 30 further. Built only with libxen-dev.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "np_test.h"

#ifdef NP_HAVE_XEN
#include <numaplace/xen.h>

#include "test_place_util.h"

#define MiB (UINT64_C(1) << 20)

static const uint32_t dist4[16] = {10, 20, 30, 30, 20, 10, 20, 30,
                                   30, 20, 10, 20, 30, 30, 20, 10};

static void nodes4(np_xen_choice_node *n, uint64_t mib0, uint64_t mib1, uint64_t mib2,
                   uint64_t mib3)
{
    const uint64_t mib[4] = {mib0, mib1, mib2, mib3};
    for (int i = 0; i < 4; i++) {
        n[i].usable_bytes = mib[i] * MiB;
        n[i].cpu_capacity = 2;
        n[i].cpu_demand = 0;
    }
}

/* pvh4 of the table: 4 vCPUs, 512 MiB, a node holds it: one node (the
 * least over-committed), not four vnodes */
static void test_one_node_overcommit(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 700, 700, 700, 150);
    n[0].cpu_demand = 2; /* busy: 4 vCPUs over 2 CPUs anywhere, 6 here */
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 4, 512 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 1);
    ASSERT_EQ(ch.node[0], 1);
    ASSERT_TRUE(!ch.vnuma);
}

/* a node with CPUs for the vCPUs beats one with more memory */
static void test_one_node_cpus_first(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 900, 400, 400, 0);
    n[0].cpu_demand = 1;
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 384 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 1);
    ASSERT_EQ(ch.node[0], 1); /* 1 and 2 tie; the lower node */
    /* without load: the most memory */
    n[0].cpu_demand = 0;
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 384 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.node[0], 0);
}

/* equally fit nodes: the one nearest the device */
static void test_one_node_device(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 900, 900, 900, 900);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, 3, 2, 256 * MiB, false, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 1);
    ASSERT_EQ(ch.node[0], 3);
    /* but a node with CPUs comes before the device's busy one */
    n[3].cpu_demand = 2;
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, 3, 2, 256 * MiB, false, &ch), 0);
    ASSERT_EQ(ch.node[0], 2);
}

/* larger than any node, PVH: two neighbours with vNUMA */
static void test_two_nodes_vnuma(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 800, 800, 800, 100);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 4, 1280 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 2);
    ASSERT_EQ(ch.node[0], 0);
    ASSERT_EQ(ch.node[1], 1);
    ASSERT_TRUE(ch.vnuma);
}

/* larger than any node, PV: each node must take an even share; no vNUMA */
static void test_two_nodes_even_pv(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    /* nodes 0 and 1 together hold 1152 MiB, but node 1 not its half */
    nodes4(n, 900, 500, 700, 100);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 1152 * MiB, false, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 2);
    ASSERT_EQ(ch.node[0], 0);
    ASSERT_EQ(ch.node[1], 2);
    ASSERT_TRUE(!ch.vnuma);
    /* with vNUMA the neighbours do */
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 1152 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.node[1], 1);
    ASSERT_TRUE(ch.vnuma);
}

/* past one node, the fewest nodes with CPUs for the vCPUs */
static void test_more_nodes_for_cpus(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 600, 600, 600, 600);
    n[0].cpu_demand = n[1].cpu_demand = 2;
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 4, 1000 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 2);
    ASSERT_EQ(ch.node[0], 2);
    ASSERT_EQ(ch.node[1], 3);
    /* every node busy: no set has the CPUs; the fewest nodes, least over-committed */
    n[2].cpu_demand = n[3].cpu_demand = 3;
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 4, 1000 * MiB, true, &ch), 0);
    ASSERT_EQ(ch.nr_nodes, 2);
    ASSERT_EQ(ch.node[0], 0);
    ASSERT_EQ(ch.node[1], 1);
}

/* a node's usable memory: free above the DMA zone, minus creations in
 * flight, minus the head-room (what of it the node lacks is remembered) */
static void test_usable_node(void)
{
    np_xen_alloc_node n;
    np_xen_usable_node(2, 900 * MiB, 100 * MiB, 200 * MiB, &n);
    ASSERT_EQ(n.os_id, 2);
    ASSERT_U64_EQ(n.free_bytes, 900 * MiB - 100 * MiB - 200 * MiB - NP_XEN_NODE_HEADROOM_BYTES);
    ASSERT_U64_EQ(n.headroom_bytes, NP_XEN_NODE_HEADROOM_BYTES);
    ASSERT_U64_EQ(n.dma_free_bytes, 100 * MiB);
    ASSERT_TRUE(!n.in_mask);
    /* 40 MiB above the DMA zone: nothing usable, 40 MiB of head-room */
    np_xen_usable_node(0, 231 * MiB, 191 * MiB, 0, &n);
    ASSERT_U64_EQ(n.free_bytes, 0);
    ASSERT_U64_EQ(n.headroom_bytes, 40 * MiB);
    /* a heap dump with more DMA than free (read at another moment) */
    np_xen_usable_node(0, 100 * MiB, 150 * MiB, 0, &n);
    ASSERT_U64_EQ(n.free_bytes, 0);
    ASSERT_U64_EQ(n.dma_free_bytes, 100 * MiB);
}

/* migrate's target check on a DMA-poor node, as measured in a CI
 * rehearsal: node 0 beside dom0 and a 512 MiB vnode had 191 MiB free,
 * mostly DMA; a 128 MiB PV guest restored there got 117 MiB on node 0 and
 * 10.6 MiB on node 1. The target is refused, the allocator's fallback is
 * predicted, and the node with the most usable memory is named instead. */
static void test_node_takes_dma_poor(void)
{
    np_xen_alloc_node n[4];
    uint64_t pred[4];
    size_t alt = 0;
    np_xen_usable_node(0, 191 * MiB, 120 * MiB, 0, &n[0]); /* 71 above DMA */
    np_xen_usable_node(1, 500 * MiB, 0, 0, &n[1]);
    np_xen_usable_node(2, 900 * MiB, 0, 0, &n[2]);
    np_xen_usable_node(3, 300 * MiB, 0, 0, &n[3]);
    ASSERT_U64_EQ(n[0].free_bytes, 7 * MiB);
    ASSERT_EQ(np_xen_node_takes(n, 4, 0, 3, 128 * MiB, pred, &alt), -ENOSPC);
    /* Xen fills node 0 above its DMA zone (70 MiB in whole 2 MiB extents),
     * then falls to the next node before any DMA page */
    ASSERT_U64_EQ(pred[0], 70 * MiB);
    ASSERT_U64_EQ(pred[1], 58 * MiB);
    ASSERT_U64_EQ(pred[2] + pred[3], 0);
    ASSERT_EQ(alt, 2);
    /* the node the guest is on now is never the one named instead */
    ASSERT_EQ(np_xen_node_takes(n, 4, 0, 2, 128 * MiB, pred, &alt), -ENOSPC);
    ASSERT_EQ(alt, 1);
    /* a node with room takes it whole */
    ASSERT_EQ(np_xen_node_takes(n, 4, 2, 3, 128 * MiB, pred, &alt), 0);
    ASSERT_U64_EQ(pred[2], 128 * MiB);
    ASSERT_U64_EQ(pred[0] + pred[1] + pred[3], 0);
    ASSERT_EQ(alt, SIZE_MAX);
    /* exactly the usable memory fits; a page more does not */
    ASSERT_EQ(np_xen_node_takes(n, 4, 3, 9, n[3].free_bytes, pred, &alt), 0);
    ASSERT_EQ(np_xen_node_takes(n, 4, 3, 9, n[3].free_bytes + 4096, pred, &alt), -ENOSPC);
    /* in-flight creations count against a node like its used memory */
    np_xen_usable_node(2, 900 * MiB, 0, 800 * MiB, &n[2]);
    ASSERT_EQ(np_xen_node_takes(n, 4, 2, 9, 128 * MiB, pred, &alt), -ENOSPC);
    ASSERT_EQ(alt, 1);
    /* nothing holds it whole: no node named */
    ASSERT_EQ(np_xen_node_takes(n, 4, 2, 9, 600 * MiB, pred, &alt), -ENOSPC);
    ASSERT_EQ(alt, SIZE_MAX);
    ASSERT_EQ(np_xen_node_takes(n, 4, 4, 9, 128 * MiB, pred, &alt), -EINVAL);
    ASSERT_EQ(np_xen_node_takes(n, 4, 0, 9, 0, pred, &alt), -EINVAL);
}

static void test_refusals(void)
{
    np_xen_choice_node n[4];
    np_xen_choice ch;
    nodes4(n, 100, 100, 100, 100);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 512 * MiB, true, &ch), -ENOSPC);
    ASSERT_EQ(np_xen_choose_nodes(n, 0, dist4, -1, 2, 64 * MiB, true, &ch), -EINVAL);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, 4, 2, 64 * MiB, true, &ch), -EINVAL);
    ASSERT_EQ(np_xen_choose_nodes(n, 4, dist4, -1, 2, 0, true, &ch), -EINVAL);
    ASSERT_EQ(np_xen_choose_nodes(n, 17, dist4, -1, 2, 64 * MiB, true, &ch), -E2BIG);
}

static np_host_state *host4(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    for (uint32_t i = 0; i < 4; i++) {
        np_topology_builder_add_node(b, i, 1024 * MiB, i == 3 ? 200 * MiB : 900 * MiB);
        np_topology_builder_add_cpu(b, 2 * i, i, i, 2 * i);
        np_topology_builder_add_cpu(b, 2 * i + 1, i, i, 2 * i + 1);
    }
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++)
            np_topology_builder_set_distance(b, i, j, dist4[i * 4 + j]);
    if (np_topology_builder_finish(b, &t, &err) == 0 && np_host_state_create(t, &st) != 0)
        st = NULL;
    np_topology_destroy(t); /* the host state holds its own reference */
    np_topology_builder_destroy(b);
    return st;
}

/* the placement keeps to the chosen nodes: pvh4 on one node, all its
 * vCPUs there; a 2-node choice with a vnode on each */
static void test_place_on(void)
{
    np_host_state *st = host4();
    np_guest_spec spec;
    np_placement *pl = NULL;
    np_error err = {0};
    np_xen_choice ch = {.nr_nodes = 1, .node = {2}, .vnuma = false};
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    np_guest_spec_init(&spec);
    snprintf(spec.name, sizeof(spec.name), "pvh4");
    spec.vcpus = 4;
    spec.mem_bytes = spec.maxmem_bytes = 512 * MiB;
    ASSERT_EQ(np_xen_place_on(st, &spec, &ch, &pl, &err), 0);
    ASSERT_TRUE(pl != NULL);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 1);
        ASSERT_EQ(np_placement_node(pl, 0), 2);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 512 * MiB);
        for (uint32_t v = 0; v < 4; v++)
            ASSERT_EQ(np_placement_vcpu_node(pl, v), 2);
        ASSERT_TRUE(np_placement_vnuma(pl) == NULL ||
                    np_vnuma_nr_vnodes(np_placement_vnuma(pl)) <= 1);
    }
    np_placement_destroy(pl);
    pl = NULL;
    spec.mem_bytes = spec.maxmem_bytes = 1280 * MiB;
    ch = (np_xen_choice){.nr_nodes = 2, .node = {0, 1}, .vnuma = true};
    ASSERT_EQ(np_xen_place_on(st, &spec, &ch, &pl, &err), 0);
    if (pl) {
        ASSERT_EQ(np_placement_nr_nodes(pl), 2);
        ASSERT_EQ(np_placement_node(pl, 0), 0);
        ASSERT_EQ(np_placement_node(pl, 1), 1);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0) + np_placement_node_mem_bytes(pl, 1),
                      1280 * MiB);
        ASSERT_TRUE(np_placement_vnuma(pl) != NULL);
        if (np_placement_vnuma(pl))
            ASSERT_EQ(np_vnuma_nr_vnodes(np_placement_vnuma(pl)), 2);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* vCPUs counted on the nodes of their effective masks, idle or not */
static void test_vcpu_load(void)
{
    np_host_state *st = host4();
    np_guest_spec spec;
    np_bitmap *a = NULL, *b = NULL;
    double load[4];
    size_t g;
    ASSERT_TRUE(st != NULL);
    if (!st)
        return;
    np_bitmap_create(&a);
    np_bitmap_create(&b);
    np_bitmap_parse(a, "0-1");
    np_bitmap_parse(b, "6-7");
    np_guest_spec_init(&spec);
    spec.vcpus = 2;
    spec.mem_bytes = 64 * MiB;
    snprintf(spec.name, sizeof(spec.name), "soft01");
    ASSERT_EQ(np_host_state_add_guest(st, &spec, &g), 0);
    for (uint32_t v = 0; v < 2; v++) {
        ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, v, NULL, a), 0);
        ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, v, 0.0), 0); /* idle */
    }
    /* soft 0-1 outside hard 6-7: hard counts */
    snprintf(spec.name, sizeof(spec.name), "hard67");
    ASSERT_EQ(np_host_state_add_guest(st, &spec, &g), 0);
    for (uint32_t v = 0; v < 2; v++)
        ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, v, b, a), 0);
    /* no mask: a quarter of each vCPU on every node */
    snprintf(spec.name, sizeof(spec.name), "free");
    ASSERT_EQ(np_host_state_add_guest(st, &spec, &g), 0);
    ASSERT_EQ(np_xen_vcpu_load(st, load), 0);
    ASSERT_TRUE(load[0] > 2.5 - 1e-9 && load[0] < 2.5 + 1e-9);
    ASSERT_TRUE(load[1] > 0.5 - 1e-9 && load[1] < 0.5 + 1e-9);
    ASSERT_TRUE(load[2] > 0.5 - 1e-9 && load[2] < 0.5 + 1e-9);
    ASSERT_TRUE(load[3] > 2.5 - 1e-9 && load[3] < 2.5 + 1e-9);
    np_bitmap_destroy(a);
    np_bitmap_destroy(b);
    np_host_state_destroy(st);
}

/* CPU-less memory for `xl create`: placement's default prices a near
 * CPU-less node (SLIT 12, like HBM next to its socket) as one more remote
 * tier and uses it before the far CPU node's DRAM (20); xl cannot give a
 * virtual node no vCPUs, so the spec for xl keeps the guest off it unless
 * it asked (cpuless-memory=yes). */
static void test_spec_for_xl_cpuless(void)
{
    uint32_t c[3] = {2, 2, 0};
    uint64_t m[3] = {1024, 1024, 2048};
    static const uint32_t d[9] = {10, 20, 12, 20, 10, 20, 12, 20, 10};
    np_host_state *st = tp_state(tp_host(3, c, m, d));
    np_guest_spec s = tp_guest("hbm", 2, 2048);
    np_placement *pl = NULL;
    np_error err = {0};
    s.vnuma_nodes = NP_VNUMA_OFF;
    ASSERT_EQ(np_place(st, &s, NULL, &pl, &err), 0);
    if (pl)
        ASSERT_TRUE(np_placement_node_mem_bytes(pl, 2) > 0);
    np_placement_destroy(pl);
    np_guest_spec x = s;
    np_xen_spec_for_xl(&x);
    ASSERT_TRUE(x.cpuless_memory_refused);
    ASSERT_EQ(np_place(st, &x, NULL, &pl, &err), 0);
    if (pl)
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 0);
    np_placement_destroy(pl);
    /* asked for: kept (xl then refuses with its reason, emit_xl.c) */
    x = s;
    x.allow_cpuless_memory = true;
    np_xen_spec_for_xl(&x);
    ASSERT_TRUE(!x.cpuless_memory_refused);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_one_node_overcommit);
    NP_RUN(test_one_node_cpus_first);
    NP_RUN(test_one_node_device);
    NP_RUN(test_two_nodes_vnuma);
    NP_RUN(test_two_nodes_even_pv);
    NP_RUN(test_more_nodes_for_cpus);
    NP_RUN(test_usable_node);
    NP_RUN(test_node_takes_dma_poor);
    NP_RUN(test_refusals);
    NP_RUN(test_place_on);
    NP_RUN(test_vcpu_load);
    NP_RUN(test_spec_for_xl_cpuless);
    return np_test_summary();
}
#else
int main(void)
{
    return np_test_skip("built without libxen-dev");
}
#endif
