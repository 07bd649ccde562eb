/*
 * The `xl info -n` reader: every capture in tests/fixtures/xl-info/ (real
 * Xen 4.17 on emulated NUMA hosts) reads to exactly the nodes, CPUs with
 * their socket and core, memory, distances and devices it shows, and every
 * file of tests/fixtures/malformed/xl-info-* fails with -EINVAL, the
 * out-parameter untouched, and an error naming the file, the line and what
 * was expected.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/topology.h>

#include "util/text.h"

#include "np_test.h"
#include "np_test_error.h"

#define MiB (UINT64_C(1) << 20)
#define FILE_MAX_BYTES (1u << 20)
#define UNK NP_TOPO_ID_UNKNOWN

typedef struct want_node {
    uint32_t os_id;
    const char *cpus;
    uint64_t size_mib, free_mib;
} want_node;

typedef struct want_cpu {
    uint32_t os_id, socket, core, node_os_id;
} want_cpu;

typedef struct want_dev {
    const char *bdf;
    int32_t node_os_id; /* -1: unknown */
} want_dev;

typedef struct want_host {
    const want_node *nodes;
    size_t nr_nodes;
    const uint32_t *dist; /* nr_nodes^2, rows in node order */
    const want_cpu *cpus;
    size_t nr_cpus;
    const want_dev *devs;
    size_t nr_devs;
} want_host;

static int read_fixture(const char *sub, const char *name, np_topology **t, np_error *err)
{
    char path[512];
    char *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s/%s", NP_FIXTURES_DIR, sub, name);
    int rc = np_read_file(path, FILE_MAX_BYTES, &buf, &len);
    if (rc < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return rc;
    }
    rc = np_topology_read_xl_info(buf, len, name, t, err);
    free(buf);
    return rc;
}

static void check_capture(const char *name, const want_host *w)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = read_fixture("xl-info", name, &t, &err);
    ASSERT_EQ(rc, 0);
    if (rc != 0 || !t) {
        fprintf(stderr, "  %s:%u: %s\n", name, err.line, err.msg);
        return;
    }
    char want_name[256];
    snprintf(want_name, sizeof(want_name), "xl-info:%s", name);
    ASSERT_STR_EQ(np_topology_name(t), want_name);
    ASSERT_EQ(np_topology_nr_nodes(t), w->nr_nodes);
    size_t n = w->nr_nodes;
    for (size_t i = 0; i < n && i < np_topology_nr_nodes(t); i++) {
        const np_node_info *node = np_topology_node(t, i);
        char cpus[1024];
        ASSERT_EQ(node->os_id, w->nodes[i].os_id);
        np_bitmap_format(np_topology_node_cpuset(t, i), cpus, sizeof(cpus));
        ASSERT_STR_EQ(cpus, w->nodes[i].cpus);
        ASSERT_U64_EQ(node->mem_total_bytes, w->nodes[i].size_mib * MiB);
        ASSERT_U64_EQ(node->mem_free_bytes, w->nodes[i].free_mib * MiB);
        for (size_t j = 0; j < n; j++)
            if (np_topology_distance(t, i, j) != w->dist[i * n + j])
                NP_TEST_FAIL_("%s: distance node %u -> node %u is %u, expected %u", name,
                              w->nodes[i].os_id, w->nodes[j].os_id, np_topology_distance(t, i, j),
                              w->dist[i * n + j]);
    }
    ASSERT_EQ(np_topology_nr_cpus(t), w->nr_cpus);
    for (size_t c = 0; c < w->nr_cpus; c++) {
        size_t idx;
        if (np_topology_cpu_idx(t, w->cpus[c].os_id, &idx) != 0) {
            NP_TEST_FAIL_("%s: CPU %u missing", name, w->cpus[c].os_id);
            continue;
        }
        const np_cpu_info *cpu = np_topology_cpu(t, idx);
        ASSERT_EQ(cpu->package_id, w->cpus[c].socket);
        ASSERT_EQ(cpu->core_id, w->cpus[c].core);
        ASSERT_EQ(cpu->thread_idx, 0);
        ASSERT_EQ(np_topology_node(t, cpu->node_idx)->os_id, w->cpus[c].node_os_id);
    }
    ASSERT_EQ(np_topology_nr_devices(t), w->nr_devs);
    for (size_t d = 0; d < w->nr_devs; d++) {
        size_t idx;
        ASSERT_EQ(np_topology_device_find(t, w->devs[d].bdf, &idx), 0);
        const np_pci_info *dev = np_topology_device(t, idx);
        if (!dev)
            continue;
        if (w->devs[d].node_os_id < 0)
            ASSERT_EQ(dev->node_idx, -1);
        else
            ASSERT_EQ(np_topology_node(t, (size_t)dev->node_idx)->os_id,
                      (uint32_t)w->devs[d].node_os_id);
    }
    np_topology_destroy(t);
}

/* ---- captures ---------------------------------------------------------------- */

/* 4 sockets of 2 cores, one node each: CPU i is core i % 2 of socket i / 2. */
static const want_cpu cpus_4x2[] = {
    {0, 0, 0, 0}, {1, 0, 1, 0}, {2, 1, 0, 1}, {3, 1, 1, 1},
    {4, 2, 0, 2}, {5, 2, 1, 2}, {6, 3, 0, 3}, {7, 3, 1, 3},
};
static const uint32_t dist_4n[] = {10, 20, 30, 30, 20, 10, 20, 30,
                                   30, 20, 10, 20, 30, 30, 20, 10};

static void test_lab_doc_4n(void)
{
    static const want_node nodes[] = {
        {0, "0-1", 1024, 946}, {1, "2-3", 1024, 1017},
        {2, "4-5", 1024, 1019}, {3, "6-7", 1024, 554},
    };
    want_host w = {nodes, 4, dist_4n, cpus_4x2, 8, NULL, 0};
    check_capture("lab-doc-4n-2c.txt", &w);
}

static void test_qemu_4n_full_output(void)
{
    static const want_node nodes[] = {
        {0, "0-1", 1024, 940}, {1, "2-3", 1024, 1017},
        {2, "4-5", 1024, 1017}, {3, "6-7", 1024, 306},
    };
    want_host w = {nodes, 4, dist_4n, cpus_4x2, 8, NULL, 0};
    check_capture("qemu-4n-2c-slit.txt", &w);
}

static void test_qemu_2n_devices(void)
{
    static const want_node nodes[] = {{0, "0-1", 1024, 938}, {1, "2-3", 1023, 316}};
    static const uint32_t dist[] = {10, 21, 21, 10};
    static const want_cpu cpus[] = {{0, 0, 0, 0}, {1, 0, 1, 0}, {2, 1, 0, 1}, {3, 1, 1, 1}};
    static const want_dev devs[] = {{"0000:08:00.0", 1}, {"0000:09:01.0", 1}};
    want_host w = {nodes, 2, dist, cpus, 4, devs, 2};
    check_capture("qemu-2n-pxb-devices.txt", &w);
}

static void test_qemu_1n_no_cpu_rows(void)
{
    /* cpu_topology is empty; one node, nr_cpus 2, max_cpu_id 1: CPUs 0-1 */
    static const want_node nodes[] = {{0, "0-1", 2047, 1255}};
    static const uint32_t dist[] = {10};
    static const want_cpu cpus[] = {{0, UNK, UNK, 0}, {1, UNK, UNK, 0}};
    want_host w = {nodes, 1, dist, cpus, 2, NULL, 0};
    check_capture("qemu-1n-no-cpu-rows.txt", &w);
}

static void test_qemu_3n_cpuless_node(void)
{
    static const want_node nodes[] = {
        {0, "0-1", 1024, 810}, {1, "2-3", 1024, 550}, {2, "", 1023, 907},
    };
    static const uint32_t dist[] = {10, 21, 40, 21, 10, 40, 40, 40, 10};
    static const want_cpu cpus[] = {{0, 0, 0, 0}, {1, 0, 1, 0}, {2, 1, 0, 1}, {3, 1, 1, 1}};
    want_host w = {nodes, 3, dist, cpus, 4, NULL, 0};
    check_capture("qemu-3n-cpuless-node.txt", &w);
}

/* ---- the malformed corpus ----------------------------------------------------- */

static char untouched_marker;

static void check_bad(const char *name, unsigned line, const char *msg)
{
    np_topology *t = (np_topology *)&untouched_marker;
    np_error err = {0};
    int rc = read_fixture("malformed", name, &t, &err);
    ASSERT_TRUE(t == (np_topology *)&untouched_marker);
    np_test_expect_error(rc, &err, name, line, msg);
}

static void test_bad_empty(void)
{
    check_bad("xl-info-empty.txt", 0, "input is empty; expected `xl info -n` output");
}

static void test_bad_blank(void)
{
    check_bad("xl-info-blank.txt", 0, "input is empty");
}

static void test_bad_truncated(void)
{
    check_bad("xl-info-truncated.txt", 36,
              "node 2 has 2 distances but the first numa_info row (line 34) has 4");
}

static void test_bad_wrong_node_count(void)
{
    check_bad("xl-info-wrong-count.txt", 7,
              "nr_nodes is 4 but numa_info (line 32) has 3 rows; expected one row per node");
}

static void test_bad_wrong_cpu_count(void)
{
    check_bad("xl-info-wrong-cpu-count.txt", 5,
              "nr_cpus is 8 but cpu_topology (line 19) has 7 rows");
}

static void test_bad_asymmetric(void)
{
    /* real: QEMU's SLIT said 0->1 = 20 and 1->0 = 30, and Xen passed it on */
    check_bad("xl-info-asymmetric.txt", 31,
              "distance from node 1 to node 0 is 30 but from node 0 to node 1 (line 30) is 20; "
              "expected symmetric distances");
}

static void test_bad_zero_distance(void)
{
    check_bad("xl-info-zero-distance.txt", 34,
              "distance from node 0 to node 1 is 0; expected a positive distance");
}

static void test_bad_cpu_two_rows(void)
{
    check_bad("xl-info-cpu-two-nodes.txt", 22,
              "CPU 0 has a second cpu_topology row (the first is line 21)");
}

static void test_bad_4096_nodes(void)
{
    check_bad("xl-info-4096-nodes.txt", 4,
              "expected a numa_info row 'NODE: MEMSIZE MEMFREE DISTANCES' with NODE 0 to 1023, "
              "found a number larger than 1023");
}

static void test_bad_huge(void)
{
    check_bad("xl-info-huge.txt", 34,
              "expected the memsize of node 0 in MiB (0 to 17592186044415), found a number larger "
              "than 17592186044415");
}

static void test_bad_binary(void)
{
    check_bad("xl-info-binary.txt", 1, "line contains a NUL byte; expected text");
}

static void test_bad_negative(void)
{
    check_bad("xl-info-negative.txt", 34,
              "expected the memsize of node 0 in MiB (0 to 17592186044415), found a negative");
}

static void test_bad_negative_core(void)
{
    check_bad("xl-info-negative-core.txt", 21,
              "expected the core id (0 to 4294967294, or -1 for unknown), found a negative");
}

static void test_bad_missing_distance(void)
{
    check_bad("xl-info-missing-distance.txt", 34,
              "distance from node 0 to node 2 is -1 (unknown); expected a positive distance");
}

static void test_bad_short_distances(void)
{
    check_bad("xl-info-short-distances.txt", 35,
              "node 1 has 3 distances but the first numa_info row (line 34) has 4");
}

static void test_bad_plain_xl_info(void)
{
    check_bad("xl-info-plain-xl-info.txt", 0,
              "no 'numa_info' section; expected `xl info -n` output");
}

static void test_bad_unknown_node(void)
{
    check_bad("xl-info-unknown-node.txt", 28,
              "CPU 7 is on node 5, which has no numa_info row (line 32)");
}

static void test_bad_free_above_size(void)
{
    check_bad("xl-info-free-above-size.txt", 34,
              "node 0 has 2048 MiB free of a memsize of 1024 MiB; expected memfree <= memsize");
}

static void test_bad_header(void)
{
    check_bad("xl-info-bad-header.txt", 20, "expected the column header 'cpu: core socket node'");
}

static void test_bad_junk_line(void)
{
    check_bad("xl-info-junk-line.txt", 4,
              "expected a 'name : value' line or a section of `xl info -n`");
}

static void test_bad_duplicate_device(void)
{
    check_bad("xl-info-duplicate-device.txt", 29,
              "device 0000:08:00.0 is listed twice (first on line 27)");
}

static void test_bad_no_cpu_rows_multinode(void)
{
    /* real: 4 nodes of one single-core socket; Xen printed no cpu rows */
    check_bad("xl-info-no-cpu-rows.txt", 19,
              "cpu_topology has no rows (Xen knew no core ids), so the node of each CPU is "
              "unknown on this 4-node host");
}

/* Node 1 offline: no row, -1 in its column; a device on node 2. Valid. */
static void test_sparse_valid(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_fixture("malformed", "xl-info-sparse-valid.txt", &t, &err), 0);
    if (!t) {
        fprintf(stderr, "  %u: %s\n", err.line, err.msg);
        return;
    }
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 0);
    ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 21);
    ASSERT_EQ(np_topology_distance(t, 1, 1), 10);
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_total_bytes, 4096 * MiB);
    size_t idx;
    ASSERT_EQ(np_topology_node_idx(t, 1, &idx), -ENOENT);
    ASSERT_EQ(np_topology_device_find(t, "81:00.0", &idx), 0);
    ASSERT_EQ(np_topology_device(t, idx)->node_idx, 1);
    ASSERT_EQ(np_topology_cpu_idx(t, 3, &idx), 0);
    ASSERT_EQ(np_topology_node(t, np_topology_cpu(t, idx)->node_idx)->os_id, 2);
    np_topology_destroy(t);
}

/* ---- inline cases -------------------------------------------------------------- */

static int read_text(const char *text, np_topology **t, np_error *err)
{
    return np_topology_read_xl_info(text, strlen(text), "inline", t, err);
}

/* Only the sections; -1 (unknown) core and socket; a single node's -1. */
static void test_sections_only_and_unknowns(void)
{
    const char *text = "cpu_topology           :\n"
                       "cpu:    core    socket     node\n"
                       "  0:      -1       -1       -1\n"
                       "  1:       1        0        0\n"
                       "numa_info              :\n"
                       "node:    memsize    memfree    distances\n"
                       "   0:      4096       1024      10\n";
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_text(text, &t, &err), 0);
    if (!t) {
        fprintf(stderr, "  %u: %s\n", err.line, err.msg);
        return;
    }
    ASSERT_EQ(np_topology_nr_cpus(t), 2);
    ASSERT_EQ(np_topology_cpu(t, 0)->package_id, NP_TOPO_ID_UNKNOWN);
    ASSERT_EQ(np_topology_cpu(t, 0)->core_id, NP_TOPO_ID_UNKNOWN);
    ASSERT_EQ(np_topology_cpu(t, 1)->core_id, 1);
    ASSERT_EQ(np_topology_node(t, 0)->nr_cores, 2);
    ASSERT_EQ(np_topology_nr_devices(t), 0);
    np_topology_destroy(t);
}

/* Node -1 is only resolvable on a one-node host. */
static void test_unknown_node_multinode(void)
{
    const char *text = "cpu_topology :\n"
                       "cpu: core socket node\n"
                       "  0: 0 0 -1\n"
                       "  1: 0 1 1\n"
                       "numa_info :\n"
                       "node: memsize memfree distances\n"
                       "   0: 1024 512 10,20\n"
                       "   1: 1024 512 20,10\n";
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_text(text, &t, &err), -EINVAL);
    ASSERT_TRUE(t == NULL);
    ASSERT_EQ(err.line, 3);
    ASSERT_CONTAINS(err.msg, "CPU 0 has node -1 (unknown) and the host has 2 nodes");
}

/* A column for a node with no row must hold -1. */
static void test_distance_to_missing_node(void)
{
    const char *text = "cpu_topology :\n"
                       "cpu: core socket node\n"
                       "  0: 0 0 0\n"
                       "numa_info :\n"
                       "node: memsize memfree distances\n"
                       "   0: 1024 512 10,20\n";
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_text(text, &t, &err), -EINVAL);
    ASSERT_EQ(err.line, 6);
    ASSERT_CONTAINS(err.msg, "node 0 gives distance 20 to node 1, which has no numa_info row");
}

/* Two CPUs of one core on two nodes: found by the builder, origin kept. */
static void test_core_split_across_nodes(void)
{
    const char *text = "cpu_topology :\n"
                       "cpu: core socket node\n"
                       "  0: 0 0 0\n"
                       "  1: 0 0 1\n"
                       "numa_info :\n"
                       "node: memsize memfree distances\n"
                       "   0: 1024 512 10,20\n"
                       "   1: 1024 512 20,10\n";
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_text(text, &t, &err), -EINVAL);
    ASSERT_STR_EQ(err.origin, "inline");
    ASSERT_CONTAINS(err.msg, "share package 0 core 0 but sit on different nodes");
}

/* Every prefix of a capture fails cleanly or reads completely. */
static void test_every_prefix(void)
{
    const char *text = "nr_cpus : 2\n"
                       "cpu_topology :\n"
                       "cpu: core socket node\n"
                       "  0: 0 0 0\n"
                       "  1: 0 1 1\n"
                       "numa_info :\n"
                       "node: memsize memfree distances\n"
                       "   0: 1024 512 10,20\n"
                       "   1: 1024 512 20,10\n";
    size_t len = strlen(text);
    for (size_t cut = 0; cut <= len; cut++) {
        np_topology *t = (np_topology *)&untouched_marker;
        np_error err = {0};
        int rc = np_topology_read_xl_info(text, cut, "cut", &t, &err);
        if (cut >= len - 1) {
            ASSERT_EQ(rc, 0);
            if (rc == 0)
                np_topology_destroy(t);
        } else if (rc != -EINVAL || t != (np_topology *)&untouched_marker || !err.msg[0]) {
            NP_TEST_FAIL_("cut at %zu: rc %d, msg '%s'", cut, rc, err.msg);
            if (rc == 0)
                np_topology_destroy(t);
        }
    }
}

static void test_open_detects(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/xl-info/qemu-2n-pxb-devices.txt", NP_FIXTURES_DIR);
    ASSERT_EQ(np_topo_format_detect("host : x\n", 9), NP_TOPO_FMT_XL_INFO);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_open(path, NP_TOPO_FMT_AUTO, &t, &err), 0);
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_devices(t), 2);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_lab_doc_4n);
    NP_RUN(test_qemu_4n_full_output);
    NP_RUN(test_qemu_2n_devices);
    NP_RUN(test_qemu_1n_no_cpu_rows);
    NP_RUN(test_qemu_3n_cpuless_node);
    NP_RUN(test_bad_empty);
    NP_RUN(test_bad_blank);
    NP_RUN(test_bad_truncated);
    NP_RUN(test_bad_wrong_node_count);
    NP_RUN(test_bad_wrong_cpu_count);
    NP_RUN(test_bad_asymmetric);
    NP_RUN(test_bad_zero_distance);
    NP_RUN(test_bad_cpu_two_rows);
    NP_RUN(test_bad_4096_nodes);
    NP_RUN(test_bad_huge);
    NP_RUN(test_bad_binary);
    NP_RUN(test_bad_negative);
    NP_RUN(test_bad_negative_core);
    NP_RUN(test_bad_missing_distance);
    NP_RUN(test_bad_short_distances);
    NP_RUN(test_bad_plain_xl_info);
    NP_RUN(test_bad_unknown_node);
    NP_RUN(test_bad_free_above_size);
    NP_RUN(test_bad_header);
    NP_RUN(test_bad_junk_line);
    NP_RUN(test_bad_duplicate_device);
    NP_RUN(test_bad_no_cpu_rows_multinode);
    NP_RUN(test_sparse_valid);
    NP_RUN(test_sections_only_and_unknowns);
    NP_RUN(test_unknown_node_multinode);
    NP_RUN(test_distance_to_missing_node);
    NP_RUN(test_core_split_across_nodes);
    NP_RUN(test_every_prefix);
    NP_RUN(test_open_detects);
    return np_test_summary();
}
