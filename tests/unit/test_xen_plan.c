/*
 * test_xen_plan.c - plan files (numaplace/xen.h): parse, format and parse
 * again to the same plan; refusals naming the line; the atomic write; and
 * the plan after a save/restore move, with and without vNUMA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/xen.h>

#include "np_test.h"

static const char *const two_node_vnuma =
    "# numaplace plan (numaplace verify reads it)\n"
    "name big\n"
    "domid 7\n"
    "vnodes 2\n"
    "node 0 268435456\n"
    "node 1 268435456\n"
    "vcpu_soft 0 0-1\n"
    "vcpu_soft 1 2-3\n";

static np_xen_plan *parse(const char *text, np_error *err)
{
    np_xen_plan *p = NULL;
    memset(err, 0, sizeof(*err));
    if (np_xen_plan_parse(text, strlen(text), "g.plan", &p, err) != 0)
        return NULL;
    return p;
}

static np_bitmap *cpus(const char *list)
{
    np_bitmap *m = NULL;
    ASSERT_EQ(np_bitmap_create(&m), 0);
    ASSERT_EQ(np_bitmap_parse(m, list), 0);
    return m;
}

static void test_round_trip(void)
{
    np_error err;
    np_xen_plan *p = parse(two_node_vnuma, &err);
    ASSERT_TRUE(p != NULL);
    if (!p)
        return;
    ASSERT_STR_EQ(p->name, "big");
    ASSERT_EQ(p->domid, 7u);
    ASSERT_EQ(p->vnodes, 2u);
    ASSERT_EQ(p->nr_nodes, 2u);
    ASSERT_EQ(p->node_bytes[1], 268435456u);
    ASSERT_EQ(p->nr_vcpus, 2u);
    ASSERT_TRUE(p->hard[0] == NULL);
    char *text = NULL;
    ASSERT_EQ(np_xen_plan_format(p, &text), 0);
    ASSERT_STR_EQ(text, two_node_vnuma);
    free(text);
    np_xen_plan_destroy(p);
}

static void test_refusals(void)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } bad[] = {
        {"name a\nnode 0\n", 2, "node: a node number"},
        {"name a\nnode 0 12x\n", 2, "node: a node number"},
        {"name a\nnode 0 1\nnode 0 2\n", 3, "listed twice"},
        {"name a\nnode 0 1\nvcpu_soft 0 zz\n", 3, "a CPU list"},
        {"name a\nnode 0 1\nvcpu_hard 999 0\n", 3, "a vCPU number below 512"},
        {"name a\nnode 0 1\ncolour blue\n", 3, "'colour'"},
        {"name a b\nnode 0 1\n", 1, "without blanks"},
        {"node 0 1\n", 1, "\"name NAME\""},
        {"name a\n# nothing planned\n", 2, "at least one"},
        {"name a\nnode 0 1\n5\n", 3, "a line starting with"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_error err;
        np_xen_plan *p = parse(bad[i].text, &err);
        ASSERT_TRUE(p == NULL);
        np_xen_plan_destroy(p);
        ASSERT_STR_EQ(err.origin, "g.plan");
        ASSERT_EQ(err.line, bad[i].line);
        ASSERT_CONTAINS(err.msg, bad[i].msg);
    }
}

/* A plan with vNUMA is refused: libxl 4.17 cannot save such a guest. */
static void test_moved_vnuma_refused(void)
{
    np_error err;
    np_xen_plan *p = parse(two_node_vnuma, &err);
    np_bitmap *to = cpus("4-5");
    ASSERT_TRUE(p != NULL);
    if (p)
        ASSERT_EQ(np_xen_plan_moved(p, 9, 2, to), -EINVAL);
    np_bitmap_destroy(to);
    np_xen_plan_destroy(p);
}

/* Without vNUMA the whole guest lands on the target node. */
static void test_moved_whole(void)
{
    np_error err;
    np_xen_plan *p =
        parse("name w\ndomid 3\nvnodes 0\nnode 0 100\nnode 1 50\nvcpu_soft 0 0-3\n"
              "vcpu_hard 1 0-3\n",
              &err);
    np_bitmap *to = cpus("2-3");
    ASSERT_TRUE(p != NULL);
    if (!p)
        return;
    ASSERT_EQ(np_xen_plan_moved(p, 4, 1, to), 0);
    ASSERT_EQ(p->nr_nodes, 1u);
    ASSERT_EQ(p->node_os_id[0], 1u);
    ASSERT_EQ(p->node_bytes[0], 150u);
    ASSERT_TRUE(np_bitmap_equal(p->soft[0], to));
    char list[64];
    np_bitmap_format(p->hard[1], list, sizeof(list));
    ASSERT_STR_EQ(list, "0-3"); /* hard affinity is not the mover's to change */
    np_bitmap_destroy(to);
    np_xen_plan_destroy(p);
}

static void test_write_read(void)
{
    char dir[] = "/tmp/np-plan-XXXXXX", path[128];
    np_error err;
    np_xen_plan *p = parse(two_node_vnuma, &err), *q = NULL;
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/big.plan", dir);
    ASSERT_TRUE(p != NULL);
    if (p) {
        ASSERT_EQ(np_xen_plan_write(p, path), 0);
        ASSERT_EQ(np_xen_plan_read(path, &q, &err), 0);
        ASSERT_TRUE(q && q->nr_vcpus == 2 && np_bitmap_equal(p->soft[1], q->soft[1]));
    }
    ASSERT_EQ(np_xen_plan_read("/nonexistent/x.plan", &q, &err) == 0, false);
    ASSERT_STR_EQ(err.origin, "/nonexistent/x.plan");
    np_xen_plan_destroy(p);
    np_xen_plan_destroy(q);
    unlink(path);
    ASSERT_EQ(rmdir(dir), 0); /* no temporary file left behind */
}

/* The user's own placement and the split verify checks survive a round
 * trip; bad values name the line. */
static void test_source_split(void)
{
    static const char *const text = "# numaplace plan (numaplace verify reads it)\n"
                                     "name u\n"
                                     "vnodes 0\n"
                                     "source user\n"
                                     "split allocator\n"
                                     "node 0 134217728\n"
                                     "node 1 134217728\n"
                                     "vcpu_hard 0 6-7\n";
    np_error err;
    np_xen_plan *p = parse(text, &err);
    char *out = NULL;
    ASSERT_TRUE(p != NULL);
    if (!p)
        return;
    ASSERT_TRUE(p->user);
    ASSERT_EQ(p->split, NP_XEN_PLAN_SPLIT_ALLOCATOR);
    ASSERT_EQ(np_xen_plan_format(p, &out), 0);
    ASSERT_STR_EQ(out, text);
    free(out);
    np_xen_plan_destroy(p);
    ASSERT_TRUE(parse("name u\nsplit evenly\nnode 0 1\n", &err) == NULL);
    ASSERT_EQ(err.line, 2);
    ASSERT_CONTAINS(err.msg, "exact, allocator or set");
    ASSERT_TRUE(parse("name u\nsource me\nnode 0 1\n", &err) == NULL);
    ASSERT_EQ(err.line, 2);
}

int main(void)
{
    NP_RUN(test_source_split);
    NP_RUN(test_round_trip);
    NP_RUN(test_refusals);
    NP_RUN(test_moved_vnuma_refused);
    NP_RUN(test_moved_whole);
    NP_RUN(test_write_read);
    return np_test_summary();
}
