/*
 * The `numactl --hardware` reader: every real capture in
 * tests/fixtures/numactl/ reads to exactly the nodes, CPUs, memory and
 * distances it shows, and every file of tests/fixtures/malformed/numactl-*
 * fails with -EINVAL, the out-parameter untouched, and an error naming the
 * file, the line and what was expected.
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

typedef struct want_node {
    uint32_t os_id;
    const char *cpus; /* cpulist of the node */
    uint64_t size_mb, free_mb;
} want_node;

/* Reads tests/fixtures/SUB/NAME with the numactl reader, origin = NAME. */
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
    rc = np_topology_read_numactl(buf, len, name, t, err);
    free(buf);
    return rc;
}

/* The whole topology against what the capture shows. dist is n x n in the
 * order of `nodes` (which is the capture's order, ascending os_id). */
static void check_capture(const char *name, const want_node *nodes, size_t n,
                          const uint32_t *dist)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = read_fixture("numactl", name, &t, &err);
    ASSERT_EQ(rc, 0);
    if (rc != 0 || !t) {
        fprintf(stderr, "  %s: %s\n", name, err.msg);
        return;
    }
    char want_name[256];
    snprintf(want_name, sizeof(want_name), "numactl:%s", name);
    ASSERT_STR_EQ(np_topology_name(t), want_name);
    ASSERT_EQ(np_topology_nr_nodes(t), n);
    size_t total_cpus = 0;
    uint64_t total_bytes = 0;
    for (size_t i = 0; i < n && i < np_topology_nr_nodes(t); i++) {
        const np_node_info *node = np_topology_node(t, i);
        char cpus[4096];
        ASSERT_EQ(node->os_id, nodes[i].os_id);
        np_bitmap_format(np_topology_node_cpuset(t, i), cpus, sizeof(cpus));
        ASSERT_STR_EQ(cpus, nodes[i].cpus);
        ASSERT_U64_EQ(node->mem_total_bytes, nodes[i].size_mb * MiB);
        ASSERT_U64_EQ(node->mem_free_bytes, nodes[i].free_mb * MiB);
        ASSERT_EQ(node->nr_cpus, np_bitmap_count(np_topology_node_cpuset(t, i)));
        /* no core information: every CPU is a core of its own */
        ASSERT_EQ(node->nr_cores, node->nr_cpus);
        size_t idx = 99999;
        ASSERT_EQ(np_topology_node_idx(t, nodes[i].os_id, &idx), 0);
        ASSERT_EQ(idx, i);
        total_cpus += node->nr_cpus;
        total_bytes += nodes[i].size_mb * MiB;
        for (size_t j = 0; j < n; j++)
            if (np_topology_distance(t, i, j) != dist[i * n + j])
                NP_TEST_FAIL_("%s: distance node %u -> node %u is %u, expected %u", name,
                              nodes[i].os_id, nodes[j].os_id, np_topology_distance(t, i, j),
                              dist[i * n + j]);
    }
    ASSERT_EQ(np_topology_nr_cpus(t), total_cpus);
    ASSERT_U64_EQ(np_topology_mem_total_bytes(t), total_bytes);
    for (size_t c = 0; c < np_topology_nr_cpus(t); c++) {
        const np_cpu_info *cpu = np_topology_cpu(t, c);
        ASSERT_EQ(cpu->package_id, NP_TOPO_ID_UNKNOWN);
        ASSERT_EQ(cpu->core_id, NP_TOPO_ID_UNKNOWN);
        ASSERT_EQ(cpu->thread_idx, 0);
        ASSERT_TRUE(np_bitmap_test(np_topology_node_cpuset(t, cpu->node_idx), cpu->os_id));
    }
    ASSERT_EQ(np_topology_nr_devices(t), 0);
    np_topology_destroy(t);
}

/* ---- real captures --------------------------------------------------------- */

static void test_epyc_2s_nps4_8n(void)
{
    static const want_node nodes[] = {
        {0, "0-15,128-143", 64306, 59767},   {1, "16-31,144-159", 64502, 61327},
        {2, "32-47,160-175", 64502, 61605},  {3, "48-63,176-191", 64447, 61272},
        {4, "64-79,192-207", 64502, 52763},  {5, "80-95,208-223", 64502, 54458},
        {6, "96-111,224-239", 64502, 57521}, {7, "112-127,240-255", 64492, 55638},
    };
    static const uint32_t dist[] = {
        10, 12, 12, 12, 32, 32, 32, 32, /**/ 12, 10, 12, 12, 32, 32, 32, 32,
        12, 12, 10, 12, 32, 32, 32, 32, /**/ 12, 12, 12, 10, 32, 32, 32, 32,
        32, 32, 32, 32, 10, 12, 12, 12, /**/ 32, 32, 32, 32, 12, 10, 12, 12,
        32, 32, 32, 32, 12, 12, 10, 12, /**/ 32, 32, 32, 32, 12, 12, 12, 10,
    };
    check_capture("epyc-2s-nps4-8n.txt", nodes, 8, dist);
}

static void test_intel_2s_2n_ht(void)
{
    static const want_node nodes[] = {
        {0, "0-19,40-59", 772696, 427008},
        {1, "20-39,60-79", 774135, 422708},
    };
    static const uint32_t dist[] = {10, 21, 21, 10};
    check_capture("intel-2s-2n-ht.txt", nodes, 2, dist);
}

static void test_power9_sparse(void)
{
    static const want_node nodes[] = {
        {0, "0-63", 257716, 239932},  {8, "64-127", 261728, 244415},
        {252, "", 32256, 30807},      {253, "", 32256, 30823},
        {254, "", 32256, 30808},      {255, "", 32256, 30823},
    };
    static const uint32_t dist[] = {
        10, 40, 80, 80, 80, 80, /**/ 40, 10, 80, 80, 80, 80, /**/ 80, 80, 10, 80, 80, 80,
        80, 80, 80, 10, 80, 80, /**/ 80, 80, 80, 80, 10, 80, /**/ 80, 80, 80, 80, 80, 10,
    };
    check_capture("power9-ac922-sparse.txt", nodes, 6, dist);
}

static void test_threadripper_memoryless(void)
{
    static const want_node nodes[] = {
        {0, "0-5,24-29", 0, 0},
        {1, "6-11,30-35", 64307, 19214},
        {2, "12-17,36-41", 64472, 27945},
        {3, "18-23,42-47", 0, 0},
    };
    static const uint32_t dist[] = {10, 12, 12, 12, 12, 10, 12, 12,
                                    12, 12, 10, 12, 12, 12, 12, 10};
    check_capture("threadripper-nps4-memoryless.txt", nodes, 4, dist);
}

static void test_opteron_4n(void)
{
    static const want_node nodes[] = {
        {0, "0-7", 32765, 8617},
        {1, "8-15", 32768, 22956},
        {2, "16-23", 32768, 24745},
        {3, "24-31", 32752, 25535},
    };
    static const uint32_t dist[] = {10, 16, 16, 16, 16, 10, 16, 16,
                                    16, 16, 10, 16, 16, 16, 16, 10};
    check_capture("opteron6272-2s-4n.txt", nodes, 4, dist);
}

static void test_pseries_no_distances(void)
{
    static const want_node nodes[] = {{0, "0", 16222, 15681}};
    static const uint32_t dist[] = {10};
    check_capture("pseries-guest-no-distances.txt", nodes, 1, dist);
}

static void test_qemu_cpuless_node(void)
{
    static const want_node nodes[] = {
        {0, "0-1", 458, 422},
        {1, "2-3", 503, 490},
        {2, "", 251, 242},
    };
    static const uint32_t dist[] = {10, 20, 40, 20, 10, 40, 40, 40, 10};
    check_capture("qemu-3n-cpuless.txt", nodes, 3, dist);
}

static void test_cpu_compress(void)
{
    static const want_node nodes[] = {
        {0, "0-15", 580088, 314825},
        {1, "16-31", 580505, 276529},
    };
    static const uint32_t dist[] = {10, 32, 32, 10};
    check_capture("epyc9135-2s-cpu-compress.txt", nodes, 2, dist);
}

static void test_epyc9375f(void)
{
    static const want_node nodes[] = {
        {0, "0-31", 773271, 678823},
        {1, "32-63", 774028, 684984},
    };
    static const uint32_t dist[] = {10, 32, 32, 10};
    check_capture("epyc9375f-2s-smt-off.txt", nodes, 2, dist);
}

/* ---- the malformed corpus ------------------------------------------------------ */

static char untouched_marker;

/* The file fails with -EINVAL at `line` (0: none applies) and a message
 * containing `msg`; the out-parameter keeps its value. */
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
    check_bad("numactl-empty.txt", 0, "input is empty; expected `numactl --hardware` output");
}

static void test_bad_truncated(void)
{
    check_bad("numactl-truncated.txt", 9,
              "expected the unit 'MB' after the size of node 2, found the end of the line");
}

static void test_bad_wrong_count(void)
{
    check_bad("numactl-wrong-count.txt", 11,
              "node 3 is in the 'available:' list (line 1) but has no 'node 3 cpus:' line");
}

static void test_bad_count_vs_list(void)
{
    check_bad("numactl-count-vs-list.txt", 1, "'available:' says 4 nodes but its list names 3");
}

static void test_bad_asymmetric(void)
{
    check_bad("numactl-asymmetric.txt", 17,
              "distance from node 1 to node 0 is 20 but from node 0 to node 1 (line 16) is 16; "
              "expected symmetric distances");
}

static void test_bad_zero_distance(void)
{
    check_bad("numactl-zero-distance.txt", 18,
              "distance from node 2 to node 3 is 0; expected a positive distance");
}

static void test_bad_missing_distance_rows(void)
{
    check_bad("numactl-missing-distance-rows.txt", 17,
              "input ends after 2 of 4 distance rows; expected the row of node 2");
}

static void test_bad_cpu_two_nodes(void)
{
    check_bad("numactl-cpu-two-nodes.txt", 5,
              "CPU 7 is listed on node 1 but already on node 0 (line 2)");
}

static void test_bad_4096_nodes(void)
{
    check_bad("numactl-4096-nodes.txt", 1, "'available:' gives 4096 nodes; expected 1 to 1024");
}

static void test_bad_node_id_4096(void)
{
    check_bad("numactl-node-id-4096.txt", 1,
              "expected a node id (0 to 1023), found a number larger than 1023");
}

static void test_bad_huge_size(void)
{
    check_bad("numactl-huge-size.txt", 3,
              "expected the size of node 0 as 'N MB' (0 to 17592186044415), found a number "
              "larger than 17592186044415");
}

static void test_bad_huge_mib(void)
{
    /* one more MiB than fits in 64-bit bytes */
    check_bad("numactl-huge-mib.txt", 3, "found a number larger than 17592186044415");
}

static void test_bad_huge_distance(void)
{
    check_bad("numactl-huge-distance.txt", 16,
              "expected the distance from node 0 to node 3 (1 to 65535), found a number larger "
              "than 65535");
}

static void test_bad_binary(void)
{
    check_bad("numactl-binary.txt", 1, "line contains a NUL byte; expected text");
}

static void test_bad_negative(void)
{
    check_bad("numactl-negative.txt", 3,
              "expected the size of node 0 as 'N MB' (0 to 17592186044415), found a negative "
              "number");
}

static void test_bad_negative_cpu(void)
{
    check_bad("numactl-negative-cpu.txt", 2, "expected a CPU id (0 to 65535), found a negative");
}

static void test_bad_free_above_size(void)
{
    check_bad("numactl-free-above-size.txt", 4,
              "node 0 has 40000 MB free but a size of 32765 MB (line 3); expected free <= size");
}

static void test_bad_trailing_junk(void)
{
    check_bad("numactl-trailing-junk.txt", 20,
              "expected the end of `numactl --hardware` output after the distance table, found "
              "'root@host:~#'");
}

static void test_bad_no_distance_section(void)
{
    check_bad("numactl-no-distance-section.txt", 13,
              "input ends after the node lines; expected 'node distances:'");
}

static void test_bad_duplicate_line(void)
{
    check_bad("numactl-duplicate-line.txt", 4,
              "second 'node 0 size:' line (the first is line 3)");
}

static void test_bad_node_not_listed(void)
{
    check_bad("numactl-node-not-listed.txt", 5, "node 5 is not in the 'available:' list on line 1");
}

static void test_bad_no_cpus(void)
{
    /* found by the builder, which knows no line; the origin is still set */
    check_bad("numactl-no-cpus.txt", 0, "no CPU found on any node");
}

static void test_bad_header_mismatch(void)
{
    check_bad("numactl-header-mismatch.txt", 15,
              "distance table column 3 is node 3; expected node 2");
}

static void test_bad_local_not_10(void)
{
    check_bad("numactl-local-not-10.txt", 17,
              "distance from node 1 to itself is 20; expected 10, the local distance");
}

static void test_bad_remote_not_larger(void)
{
    check_bad("numactl-remote-not-larger.txt", 10,
              "distance from node 0 to node 1 (10) is not larger than its local distance (10)");
}

static void test_bad_no_numa(void)
{
    check_bad("numactl-no-numa.txt", 1, "numactl found no NUMA support on that host");
}

static void test_bad_compress_count(void)
{
    check_bad("numactl-compress-count.txt", 2, "node 0 lists 32 CPUs but its count says (30)");
}

/* Sparse ids, a CPU-less node, ranges with commas, 4-wide columns: valid. */
static void test_sparse_valid(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(read_fixture("malformed", "numactl-sparse-valid.txt", &t, &err), 0);
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 3);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 0);
    ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
    ASSERT_EQ(np_topology_node(t, 2)->os_id, 5);
    ASSERT_EQ(np_topology_node(t, 1)->nr_cpus, 0);
    char buf[64];
    np_bitmap_format(np_topology_node_cpuset(t, 2), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "2-3,6");
    ASSERT_EQ(np_topology_distance(t, 1, 2), 25);
    ASSERT_EQ(np_topology_distance(t, 2, 0), 30);
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_free_bytes, 4000 * MiB);
    size_t idx;
    ASSERT_EQ(np_topology_node_idx(t, 1, &idx), -ENOENT);
    ASSERT_EQ(np_topology_cpu_id_limit(t), 7);
    np_topology_destroy(t);
}

/* ---- text handling --------------------------------------------------------------- */

static const char small[] = "available: 2 nodes (0-1)\n"
                            "node 0 cpus: 0 2\n"
                            "node 0 size: 1024 MB\n"
                            "node 0 free: 1000 MB\n"
                            "node 1 cpus: 1 3\n"
                            "node 1 size: 2048 MB\n"
                            "node 1 free: <not available>\n"
                            "node distances:\n"
                            "node   0   1\n"
                            "  0:  10  20\n"
                            "  1:  20  10\n";

/* The text need not end in NUL; bytes past len are not read. */
static void test_not_nul_terminated(void)
{
    size_t len = sizeof(small) - 1;
    char *buf = malloc(len + 16);
    memcpy(buf, small, len);
    memcpy(buf + len, "garbage\0garbage!", 16);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_read_numactl(buf, len, "mem", &t, &err), 0);
    free(buf);
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_cpus(t), 4);
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_free_bytes, 0); /* "<not available>" */
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_total_bytes, 2048 * MiB);
    np_topology_destroy(t);
}

static void test_crlf_and_blank_lines(void)
{
    char text[1024];
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof(text) - o, "\r\n");
    for (const char *p = small; *p; p++) {
        if (*p == '\n')
            text[o++] = '\r';
        text[o++] = *p;
    }
    text[o] = '\0';
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_read_numactl(text, o, "crlf", &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_distance(t, 0, 1), 20);
        np_topology_destroy(t);
    }
}

/* Cutting the text anywhere gives -EINVAL with a message or a complete
 * topology, never anything else (the end of the table is the last cut that
 * can succeed). */
static void test_every_prefix(void)
{
    size_t len = sizeof(small) - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        np_topology *t = (np_topology *)&untouched_marker;
        np_error err = {0};
        int rc = np_topology_read_numactl(small, cut, "cut", &t, &err);
        bool complete = cut >= len - 1; /* only the final newline may go */
        if (complete) {
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

static void test_null_error_and_origin(void)
{
    np_topology *t = NULL;
    ASSERT_EQ(np_topology_read_numactl("x", 1, NULL, &t, NULL), -EINVAL);
    ASSERT_TRUE(t == NULL);
    np_error err = {0};
    ASSERT_EQ(np_topology_read_numactl(small, sizeof(small) - 1, NULL, &t, &err), 0);
    if (t) {
        ASSERT_STR_EQ(np_topology_name(t), "numactl:");
        np_topology_destroy(t);
    }
}

/* np_topology_open() detects the format of a capture on disk. */
static void test_open_detects(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/numactl/opteron6272-2s-4n.txt", NP_FIXTURES_DIR);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_open(path, NP_TOPO_FMT_AUTO, &t, &err), 0);
    if (!t)
        return;
    char want[600];
    snprintf(want, sizeof(want), "numactl:%s", path);
    ASSERT_STR_EQ(np_topology_name(t), want);
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_epyc_2s_nps4_8n);
    NP_RUN(test_intel_2s_2n_ht);
    NP_RUN(test_power9_sparse);
    NP_RUN(test_threadripper_memoryless);
    NP_RUN(test_opteron_4n);
    NP_RUN(test_pseries_no_distances);
    NP_RUN(test_qemu_cpuless_node);
    NP_RUN(test_cpu_compress);
    NP_RUN(test_epyc9375f);
    NP_RUN(test_bad_empty);
    NP_RUN(test_bad_truncated);
    NP_RUN(test_bad_wrong_count);
    NP_RUN(test_bad_count_vs_list);
    NP_RUN(test_bad_asymmetric);
    NP_RUN(test_bad_zero_distance);
    NP_RUN(test_bad_missing_distance_rows);
    NP_RUN(test_bad_cpu_two_nodes);
    NP_RUN(test_bad_4096_nodes);
    NP_RUN(test_bad_node_id_4096);
    NP_RUN(test_bad_huge_size);
    NP_RUN(test_bad_huge_mib);
    NP_RUN(test_bad_huge_distance);
    NP_RUN(test_bad_binary);
    NP_RUN(test_bad_negative);
    NP_RUN(test_bad_negative_cpu);
    NP_RUN(test_bad_free_above_size);
    NP_RUN(test_bad_trailing_junk);
    NP_RUN(test_bad_no_distance_section);
    NP_RUN(test_bad_duplicate_line);
    NP_RUN(test_bad_node_not_listed);
    NP_RUN(test_bad_no_cpus);
    NP_RUN(test_bad_header_mismatch);
    NP_RUN(test_bad_local_not_10);
    NP_RUN(test_bad_remote_not_larger);
    NP_RUN(test_bad_no_numa);
    NP_RUN(test_bad_compress_count);
    NP_RUN(test_sparse_valid);
    NP_RUN(test_not_nul_terminated);
    NP_RUN(test_crlf_and_blank_lines);
    NP_RUN(test_every_prefix);
    NP_RUN(test_null_error_and_origin);
    NP_RUN(test_open_detects);
    return np_test_summary();
}
