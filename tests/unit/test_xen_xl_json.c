/*
 * test_xen_xl_json.c - what `xl -N create` printed, read back
 * (np_xen_xl_config_parse), whether the user placed the guest, the node
 * set Xen derives from vCPU masks, and the config handed back to xl
 * (np_xen_cfg_rewrite: the user's text kept byte for byte).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/xen.h>

#include "np_test.h"

/* Shaped like xl 4.17's dry run of a PVH guest with vnuma= of 3 vnodes
 * and cpus_soft (fields at their default left out, as libxl does). */
static const char *const pvh_json =
    "Parsing config from /tmp/v3.cfg\n"
    "{\n"
    "    \"c_info\": { \"type\": \"pvh\", \"name\": \"v3\",\n"
    "                \"uuid\": \"5f2b6a1e-0c7e-4b43-9a36-0d4bb2d1c2a1\" },\n"
    "    \"b_info\": { \"max_vcpus\": 3, \"avail_vcpus\": [0, 1, 2],\n"
    "        \"vcpu_soft_affinity\": [ [2, 3], [4, 5], [6, 7] ],\n"
    "        \"numa_placement\": \"False\",\n"
    "        \"max_memkb\": 393216, \"target_memkb\": 393216,\n"
    "        \"vnuma_nodes\": [\n"
    "            { \"memkb\": 131072, \"distances\": [10, 20, 30], \"pnode\": 1, \"vcpus\": [0] },\n"
    "            { \"memkb\": 131072, \"distances\": [20, 10, 20], \"pnode\": 2, \"vcpus\": [1] },\n"
    "            { \"memkb\": 131072, \"distances\": [30, 20, 10], \"pnode\": 3, \"vcpus\": [2] }\n"
    "        ],\n"
    "        \"type.pvh\": { } }\n"
    "}\n";

static const char *const pv_plain =
    "{ \"c_info\": { \"type\": \"pv\", \"name\": \"g1\" },\n"
    "  \"b_info\": { \"max_vcpus\": 2, \"max_memkb\": 524288, \"target_memkb\": 262144 } }\n";

static void test_pvh_vnuma(void)
{
    np_xen_xl_config *c = NULL;
    np_error err = {0};
    char buf[64];
    ASSERT_EQ(np_xen_xl_config_parse(pvh_json, strlen(pvh_json), "xl", &c, &err), 0);
    if (!c)
        return;
    ASSERT_STR_EQ(c->name, "v3");
    ASSERT_EQ(c->type, NP_XEN_XL_PVH);
    ASSERT_EQ(c->max_vcpus, 3);
    ASSERT_U64_EQ(c->target_bytes, UINT64_C(384) << 20);
    ASSERT_EQ(c->numa_placement, 0);
    ASSERT_EQ(c->nr_soft, 3);
    ASSERT_EQ(c->nr_hard, 0);
    np_bitmap_format(c->soft[1], buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "4-5");
    ASSERT_EQ(c->nr_vnodes, 3);
    ASSERT_EQ(c->vnodes[2].pnode, 3);
    ASSERT_U64_EQ(c->vnodes[0].bytes, UINT64_C(128) << 20);
    np_bitmap_format(c->vnodes[1].vcpus, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "1");
    ASSERT_TRUE(np_xen_xl_config_user_placed(c));
    np_xen_xl_config_destroy(c);
}

static void test_pv_left_to_placement(void)
{
    np_xen_xl_config *c = NULL;
    np_error err = {0};
    ASSERT_EQ(np_xen_xl_config_parse(pv_plain, strlen(pv_plain), "xl", &c, &err), 0);
    if (!c)
        return;
    ASSERT_EQ(c->type, NP_XEN_XL_PV);
    /* the plan records memory (the balloon target), not maxmem */
    ASSERT_U64_EQ(c->target_bytes, UINT64_C(256) << 20);
    ASSERT_U64_EQ(c->max_bytes, UINT64_C(512) << 20);
    ASSERT_EQ(c->numa_placement, -1);
    ASSERT_TRUE(!np_xen_xl_config_user_placed(c));
    np_xen_xl_config_destroy(c);
}

static void test_refusals(void)
{
    static const char *const bad[] = {
        "no json at all",
        "{ \"b_info\": {} }",
        "{ \"c_info\": { \"type\": \"xen\" }, \"b_info\": {} }",
        "{ \"c_info\": {}, \"b_info\": { \"max_vcpus\": -1 } }",
        "{ \"c_info\": {}, \"b_info\": { \"vcpu_soft_affinity\": [ [ 1, \"x\" ] ] } }",
        "{ \"c_info\": {}, \"b_info\": { \"numa_placement\": \"maybe\" } }",
        "{ \"c_info\": {}, \"b_info\": { \"vnuma_nodes\": [ 3 ] } }",
        "{ \"c_info\": {}, \"b_info\": { \"nodemap\": [ 99999999 ] } }",
        "{ \"c_info\": {}, \"b_info\": { \"max_vcpus\": 1, \"max_vcpus\": 2 } }",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_xen_xl_config *c = NULL;
        np_error err = {0};
        ASSERT_EQ(np_xen_xl_config_parse(bad[i], strlen(bad[i]), "xl", &c, &err), -EINVAL);
        ASSERT_TRUE(err.msg[0] != '\0');
        ASSERT_TRUE(c == NULL);
    }
}

static void test_user_choices(void)
{
    static const char *const placed[] = {
        "{ \"c_info\": {}, \"b_info\": { \"vcpu_hard_affinity\": [ [ 6, 7 ] ] } }",
        "{ \"c_info\": {}, \"b_info\": { \"numa_placement\": \"False\" } }",
        "{ \"c_info\": {}, \"b_info\": { \"nodemap\": [ 1 ] } }",
    };
    for (size_t i = 0; i < sizeof(placed) / sizeof(placed[0]); i++) {
        np_xen_xl_config *c = NULL;
        np_error err = {0};
        ASSERT_EQ(np_xen_xl_config_parse(placed[i], strlen(placed[i]), "xl", &c, &err), 0);
        if (c)
            ASSERT_TRUE(np_xen_xl_config_user_placed(c));
        np_xen_xl_config_destroy(c);
    }
}

static void test_rewrite(void)
{
    const char *user = "name = \"w\"\nvif = [ 'bridge=xenbr0' ]  # keep me\nmemory=256";
    char *once = NULL, *twice = NULL;
    ASSERT_EQ(np_xen_cfg_rewrite(user, strlen(user), "cpus_soft = \"2-3\"\n", &once), 0);
    if (!once)
        return;
    /* the user's text byte for byte, then the block */
    ASSERT_TRUE(strncmp(once, user, strlen(user)) == 0);
    ASSERT_STR_EQ(once + strlen(user), "\n" NP_XEN_CFG_BLOCK_BEGIN "cpus_soft = \"2-3\"\n");
    /* run again on its own output: the block is replaced, not stacked */
    ASSERT_EQ(np_xen_cfg_rewrite(once, strlen(once), "cpus_soft = \"4-5\"", &twice), 0);
    if (twice) {
        ASSERT_TRUE(strncmp(twice, user, strlen(user)) == 0);
        ASSERT_STR_EQ(twice + strlen(user), "\n" NP_XEN_CFG_BLOCK_BEGIN "cpus_soft = \"4-5\"\n");
    }
    free(once);
    free(twice);
}

/* Xen's node affinity from masks on a 4-node host with 2 CPUs a node. */
static void test_implied_nodes(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    np_bitmap *hard[2] = {0}, *soft[2] = {0}, *nodes = NULL;
    char buf[64];
    ASSERT_EQ(np_topology_read_hwloc_synthetic("pack:4 numa:1 core:2 pu:1", &t, &err), 0);
    if (!t)
        return;
    /* no masks: every node */
    ASSERT_EQ(np_xen_implied_nodes(t, NULL, NULL, 0, &nodes), 0);
    np_bitmap_format(nodes, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "0-3");
    np_bitmap_destroy(nodes);
    /* soft 6-7 inside hard all: node 3 */
    ASSERT_EQ(np_bitmap_create(&soft[0]), 0);
    ASSERT_EQ(np_bitmap_parse(soft[0], "6-7"), 0);
    ASSERT_EQ(np_xen_implied_nodes(t, hard, soft, 1, &nodes), 0);
    np_bitmap_format(nodes, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "3");
    np_bitmap_destroy(nodes);
    /* hard 0-3 does not meet soft 6-7: the hard mask's nodes */
    ASSERT_EQ(np_bitmap_create(&hard[0]), 0);
    ASSERT_EQ(np_bitmap_parse(hard[0], "0-3"), 0);
    ASSERT_EQ(np_xen_implied_nodes(t, hard, soft, 1, &nodes), 0);
    np_bitmap_format(nodes, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "0-1");
    np_bitmap_destroy(nodes);
    np_bitmap_destroy(hard[0]);
    np_bitmap_destroy(soft[0]);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_pvh_vnuma);
    NP_RUN(test_pv_left_to_placement);
    NP_RUN(test_refusals);
    NP_RUN(test_user_choices);
    NP_RUN(test_rewrite);
    NP_RUN(test_implied_nodes);
    return np_test_summary();
}
