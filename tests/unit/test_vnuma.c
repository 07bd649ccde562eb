/* vNUMA layouts: building them from a split, reading them, and moving
 * them to new backing nodes (resume, migration to other nodes and to a
 * host of another shape) without changing what the guest sees. */
#include <errno.h>

#include <numaplace/vnuma.h>

#include "np_test.h"
#include "test_place_util.h"

/* 4 nodes, 4 CPUs, 8 GiB; packages {0,1} and {2,3} (12 inside, 32 across). */
static const uint32_t two_pkg[16] = {10, 12, 32, 32, 12, 10, 32, 32,
                                     32, 32, 10, 12, 32, 32, 12, 10};

static np_topology *four_nodes(void)
{
    uint32_t c[4] = {4, 4, 4, 4};
    uint64_t m[4] = {8192, 8192, 8192, 8192};
    return tp_host(4, c, m, two_pkg);
}

static np_vnuma *build(const np_topology *t, int32_t vnodes, size_t k, const size_t *idx,
                       const uint64_t *mem_mib, const uint32_t *vcpus, int *rc_out)
{
    np_guest_spec s = tp_guest("g", 0, 0);
    uint64_t bytes[8];
    s.vcpus = 0;
    for (size_t p = 0; p < k; p++) {
        bytes[p] = mem_mib[p] * MiB;
        s.vcpus += vcpus[p];
        s.mem_bytes += bytes[p];
    }
    s.vnuma_nodes = vnodes;
    np_vnuma *v = NULL;
    *rc_out = np_vnuma_build(t, &s, k, idx, bytes, vcpus, &v);
    return v;
}

static void test_build_one_vnode_per_node(void)
{
    np_topology *t = four_nodes();
    size_t idx[2] = {1, 2};
    uint64_t mem[2] = {3072, 1024};
    uint32_t vcpus[2] = {3, 1};
    int rc;
    np_vnuma *v = build(t, NP_VNUMA_AUTO, 2, idx, mem, vcpus, &rc);
    ASSERT_EQ(rc, 0);
    char buf[32];
    if (v) {
        ASSERT_EQ(np_vnuma_nr_vnodes(v), 2);
        ASSERT_U64_EQ(np_vnuma_mem_bytes(v, 0), 3072 * MiB);
        ASSERT_U64_EQ(np_vnuma_total_mem_bytes(v), 4096 * MiB);
        ASSERT_EQ(np_vnuma_nr_vcpus(v), 4);
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 0), buf, sizeof(buf)), "0-2");
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 1), buf, sizeof(buf)), "3");
        ASSERT_EQ(np_vnuma_pnode_os_id(v, 0), 1);
        ASSERT_EQ(np_vnuma_pnode_os_id(v, 1), 2);
        ASSERT_EQ(np_vnuma_distance(v, 0, 0), 10);
        ASSERT_EQ(np_vnuma_distance(v, 0, 1), 32);
        ASSERT_EQ(np_vnuma_distance(v, 1, 0), 32);
        size_t a = 9;
        ASSERT_EQ(np_vnuma_vcpu_vnode(v, 3, &a), 0);
        ASSERT_EQ(a, 1);
        ASSERT_EQ(np_vnuma_vcpu_vnode(v, 4, &a), -ENOENT);
        ASSERT_EQ(np_vnuma_distance(v, 0, 2), 0);
        ASSERT_U64_EQ(np_vnuma_mem_bytes(v, 2), 0);
        ASSERT_TRUE(np_vnuma_vcpus(v, 2) == NULL);
        np_vnuma *c = NULL;
        ASSERT_EQ(np_vnuma_copy(v, &c), 0);
        ASSERT_TRUE(np_vnuma_same_guest_view(v, c));
        np_vnuma_destroy(c);
    }
    np_vnuma_destroy(v);
    np_topology_destroy(t);
}

static void test_build_n_vnodes(void)
{
    np_topology *t = four_nodes();
    size_t idx[2] = {0, 1};
    uint64_t mem[2] = {4097, 2048};
    uint32_t vcpus[2] = {5, 2};
    int rc;
    /* 5 vnodes over 2 nodes: in proportion to vCPUs, 3 and 2 */
    np_vnuma *v = build(t, 5, 2, idx, mem, vcpus, &rc);
    ASSERT_EQ(rc, 0);
    char buf[32];
    if (v) {
        ASSERT_EQ(np_vnuma_nr_vnodes(v), 5);
        ASSERT_U64_EQ(np_vnuma_mem_bytes(v, 0), 1366 * MiB); /* 4097 = 1366+1366+1365 */
        ASSERT_U64_EQ(np_vnuma_mem_bytes(v, 2), 1365 * MiB);
        ASSERT_U64_EQ(np_vnuma_mem_bytes(v, 3), 1024 * MiB);
        ASSERT_U64_EQ(np_vnuma_total_mem_bytes(v), 6145 * MiB);
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 0), buf, sizeof(buf)), "0-1");
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 1), buf, sizeof(buf)), "2-3");
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 2), buf, sizeof(buf)), "4");
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 4), buf, sizeof(buf)), "6");
        /* same physical node: 11, the smallest a guest SLIT accepts */
        ASSERT_EQ(np_vnuma_distance(v, 0, 1), NP_VNUMA_SAME_PNODE_DISTANCE);
        ASSERT_EQ(np_vnuma_distance(v, 0, 3), 12);
    }
    np_vnuma_destroy(v);
    np_topology_destroy(t);
}

/* A node given vCPUs but no memory lends them to the nearest node with
 * memory; a CPU-less memory node gets a vnode without vCPUs. */
static void test_build_uneven_split(void)
{
    np_topology *t = four_nodes();
    size_t idx[3] = {0, 1, 2};
    uint64_t mem[3] = {2048, 0, 1024};
    uint32_t vcpus[3] = {1, 2, 0};
    int rc;
    np_vnuma *v = build(t, NP_VNUMA_AUTO, 3, idx, mem, vcpus, &rc);
    ASSERT_EQ(rc, 0);
    char buf[32];
    if (v) {
        ASSERT_EQ(np_vnuma_nr_vnodes(v), 2);
        ASSERT_STR_EQ(tp_mask(np_vnuma_vcpus(v, 0), buf, sizeof(buf)), "0-2");
        ASSERT_TRUE(np_bitmap_is_empty(np_vnuma_vcpus(v, 1)));
    }
    np_vnuma_destroy(v);
    np_topology_destroy(t);
}

static void test_build_rejects(void)
{
    np_topology *t = four_nodes();
    size_t idx[2] = {0, 1};
    uint64_t mem[2] = {2, 2048};
    uint32_t vcpus[2] = {2, 2};
    int rc;
    /* 3 vnodes on node 0's 2 MiB and node 1: fine; 4 on 2 MiB: no */
    np_vnuma *v = build(t, 3, 2, idx, mem, vcpus, &rc);
    ASSERT_EQ(rc, 0);
    np_vnuma_destroy(v);
    uint64_t tiny[2] = {1, 2048};
    uint32_t many[2] = {3, 1};
    v = build(t, 4, 2, idx, tiny, many, &rc);
    ASSERT_EQ(rc, -EINVAL);
    ASSERT_TRUE(v == NULL);
    /* fewer vnodes than nodes with memory */
    v = build(t, 1, 2, idx, mem, vcpus, &rc);
    ASSERT_EQ(rc, -EINVAL);
    /* not whole MiB */
    np_guest_spec s = tp_guest("g", 2, 1);
    uint64_t odd[1] = {MiB + 1};
    uint32_t two[1] = {2};
    ASSERT_EQ(np_vnuma_build(t, &s, 1, idx, odd, two, &v), -EINVAL);
    s.vnuma_nodes = NP_VNUMA_OFF;
    uint64_t ok[1] = {MiB};
    ASSERT_EQ(np_vnuma_build(t, &s, 1, idx, ok, two, &v), -EINVAL);
    np_topology_destroy(t);
}

static void test_same_guest_view(void)
{
    np_topology *t = four_nodes();
    size_t a_idx[2] = {0, 1}, b_idx[2] = {2, 3}, c_idx[2] = {0, 2};
    uint64_t mem[2] = {2048, 2048};
    uint32_t vcpus[2] = {2, 2};
    int rc;
    np_vnuma *a = build(t, NP_VNUMA_AUTO, 2, a_idx, mem, vcpus, &rc);
    np_vnuma *b = build(t, NP_VNUMA_AUTO, 2, b_idx, mem, vcpus, &rc);
    np_vnuma *c = build(t, NP_VNUMA_AUTO, 2, c_idx, mem, vcpus, &rc);
    uint64_t other[2] = {1024, 3072};
    np_vnuma *d = build(t, NP_VNUMA_AUTO, 2, a_idx, other, vcpus, &rc);
    /* other backing nodes, same distance: same view */
    ASSERT_TRUE(np_vnuma_same_guest_view(a, b));
    ASSERT_TRUE(!np_vnuma_same_guest_view(a, c)); /* 12 vs 32 */
    ASSERT_TRUE(!np_vnuma_same_guest_view(a, d)); /* sizes */
    ASSERT_TRUE(!np_vnuma_same_guest_view(a, NULL));
    np_vnuma_destroy(a);
    np_vnuma_destroy(b);
    np_vnuma_destroy(c);
    np_vnuma_destroy(d);
    np_topology_destroy(t);
}

/* A layout from a real placement of a 2-node guest on the 4-node host. */
static np_vnuma *placed_layout(np_host_state *st, np_guest_spec *s)
{
    *s = tp_guest("db", 6, 12288);
    np_placement *pl = NULL;
    np_error err = {0};
    ASSERT_EQ(np_place(st, s, NULL, &pl, &err), 0);
    np_vnuma *v = NULL;
    if (pl && np_placement_vnuma(pl))
        np_vnuma_copy(np_placement_vnuma(pl), &v);
    np_placement_destroy(pl);
    ASSERT_TRUE(v != NULL);
    return v;
}

static void test_resume_in_place(void)
{
    np_host_state *st = tp_state(four_nodes());
    np_guest_spec s;
    np_vnuma *old = placed_layout(st, &s), *v = NULL;
    np_error err = {0};
    if (!old)
        goto out;
    /* nothing changed on the host: the same nodes back it again */
    ASSERT_EQ(np_vnuma_remap(old, st, &s, &v, &err), 0);
    if (v) {
        ASSERT_TRUE(np_vnuma_same_guest_view(old, v));
        for (size_t a = 0; a < np_vnuma_nr_vnodes(v); a++)
            ASSERT_EQ(np_vnuma_pnode_os_id(v, a), np_vnuma_pnode_os_id(old, a));
    }
    np_vnuma_destroy(v);
out:
    np_vnuma_destroy(old);
    np_host_state_destroy(st);
}

/* While it was saved, others took its nodes: it comes back on the other
 * package, same view, and np_place_keep_vnuma gives the matching
 * placement. */
static void test_resume_on_other_nodes(void)
{
    np_host_state *st = tp_state(four_nodes());
    np_guest_spec s;
    np_vnuma *old = placed_layout(st, &s), *v = NULL;
    np_error err = {0};
    char buf[32];
    if (!old)
        goto out;
    np_host_state_set_reserved(st, 0, 6 * GiB);
    np_host_state_set_reserved(st, 1, 6 * GiB);
    ASSERT_EQ(np_vnuma_remap(old, st, &s, &v, &err), 0);
    if (v) {
        ASSERT_TRUE(np_vnuma_same_guest_view(old, v));
        uint32_t p0 = np_vnuma_pnode_os_id(v, 0), p1 = np_vnuma_pnode_os_id(v, 1);
        ASSERT_TRUE(p0 >= 2 && p1 >= 2 && p0 != p1); /* the other package, 12 apart */
    }
    np_placement *pl = NULL;
    ASSERT_EQ(np_place_keep_vnuma(st, &s, old, &pl, &err), 0);
    if (pl) {
        ASSERT_STR_EQ(np_placement_policy(pl), "vnuma-remap");
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "2,3");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2) + np_placement_node_mem_bytes(pl, 3),
                      12288 * MiB);
        ASSERT_TRUE(np_vnuma_same_guest_view(np_placement_vnuma(pl), old));
        /* each vCPU on its vnode's node, its soft mask that node's CPUs */
        for (uint32_t c = 0; c < 6; c++) {
            size_t a, idx;
            np_vnuma_vcpu_vnode(np_placement_vnuma(pl), c, &a);
            np_topology_node_idx(np_host_state_topology(st),
                                 np_vnuma_pnode_os_id(np_placement_vnuma(pl), a), &idx);
            ASSERT_EQ(np_placement_vcpu_node(pl, c), idx);
        }
        ASSERT_TRUE(np_placement_cost(pl) > 0.0);
        ASSERT_EQ(np_placement_commit(st, &s, pl, NULL), 0);
    }
    np_placement_destroy(pl);
    np_vnuma_destroy(v);
out:
    np_vnuma_destroy(old);
    np_host_state_destroy(st);
}

/* Migration to a host of another shape: 8 nodes in 4 packages of 2
 * (12 inside a package, 21 across packages of a group, 32 between
 * groups). The guest's two vnodes were 12 apart: they land in one
 * package. */
static void test_migrate_to_other_host(void)
{
    np_host_state *src = tp_state(four_nodes());
    np_guest_spec s;
    np_vnuma *old = placed_layout(src, &s), *v = NULL;
    np_topo_gen g;
    np_topo_gen_init(&g, 8, 4, 8 * GiB);
    g.packages_per_group = 2;
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_generate(&g, &t, &err), 0);
    np_host_state *dst = tp_state(t);
    if (!old || !dst)
        goto out;
    /* the first package is busy */
    np_host_state_set_reserved(dst, 0, 7 * GiB);
    ASSERT_EQ(np_vnuma_remap(old, dst, &s, &v, &err), 0);
    if (v) {
        ASSERT_TRUE(np_vnuma_same_guest_view(old, v));
        size_t a, b;
        np_topology_node_idx(np_host_state_topology(dst), np_vnuma_pnode_os_id(v, 0), &a);
        np_topology_node_idx(np_host_state_topology(dst), np_vnuma_pnode_os_id(v, 1), &b);
        ASSERT_EQ(np_topology_distance(np_host_state_topology(dst), a, b), 12);
        ASSERT_TRUE(a != 0 && b != 0);
    }
    np_vnuma_destroy(v);
    v = NULL;
    /* a host with one big node: both vnodes share it, the guest still
     * sees two nodes 12 apart */
    uint32_t c1[1] = {8};
    uint64_t m1[1] = {32768};
    np_host_state *one = tp_state(tp_host(1, c1, m1, NULL));
    ASSERT_EQ(np_vnuma_remap(old, one, &s, &v, &err), 0);
    if (v) {
        ASSERT_TRUE(np_vnuma_same_guest_view(old, v));
        ASSERT_EQ(np_vnuma_pnode_os_id(v, 0), 0);
        ASSERT_EQ(np_vnuma_pnode_os_id(v, 1), 0);
        ASSERT_EQ(np_vnuma_distance(v, 0, 1), 12);
    }
    np_vnuma_destroy(v);
    v = NULL;
    /* too small: each vnode needs 6 GiB on one node */
    uint32_t c2[2] = {4, 4};
    uint64_t m2[2] = {4096, 4096};
    np_host_state *small = tp_state(tp_host(2, c2, m2, NULL));
    ASSERT_EQ(np_vnuma_remap(old, small, &s, &v, &err), -ENOSPC);
    ASSERT_CONTAINS(err.msg, "needs 6 GiB on one node with CPUs");
    ASSERT_TRUE(v == NULL);
    /* a guest with another vCPU count is not this layout's guest */
    np_guest_spec other = s;
    other.vcpus = 4;
    ASSERT_EQ(np_vnuma_remap(old, one, &other, &v, &err), -EINVAL);
    np_host_state_destroy(small);
    np_host_state_destroy(one);
out:
    np_vnuma_destroy(old);
    np_host_state_destroy(src);
    np_host_state_destroy(dst);
}

int main(void)
{
    NP_RUN(test_build_one_vnode_per_node);
    NP_RUN(test_build_n_vnodes);
    NP_RUN(test_build_uneven_split);
    NP_RUN(test_build_rejects);
    NP_RUN(test_same_guest_view);
    NP_RUN(test_resume_in_place);
    NP_RUN(test_resume_on_other_nodes);
    NP_RUN(test_migrate_to_other_host);
    return np_test_summary();
}
