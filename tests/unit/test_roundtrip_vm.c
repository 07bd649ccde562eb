/*
 * Round trips on real kernel captures (tests/fixtures/vm/SHAPE, made by
 * tests/vm/capture-topologies.sh inside 2- to 8-node QEMU guests): the
 * `numactl --hardware` text and the hwloc XML of the same booted guest read
 * to the same nodes, CPUs per node, distances and memory (numactl rounds
 * memory down to MiB; hwloc has the kernel's exact figure).
 *
 * The memory-less node of 4n-memless is in both: a process's cpuset.mems
 * never holds a node without memory, so hwloc counts such a node as
 * disallowed and drops it (with its CPUs' node) unless told to keep it.
 * The capture runs `lstopo --disallowed`, and the live reader sets
 * HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED, so both keep it.
 */
#include <stdlib.h>

#include <numaplace/topology.h>

#include "np_test.h"
#include "util/text.h"

#define MiB (UINT64_C(1) << 20)

static np_topology *read_fixture(const char *shape, const char *file, np_topo_format fmt)
{
    char path[512];
    np_topology *t = NULL;
    np_error err = {0};
    snprintf(path, sizeof(path), "%s/vm/%s/%s", NP_FIXTURES_DIR, shape, file);
    int rc = np_topology_open(path, fmt, &t, &err);
    if (rc < 0) {
        char buf[1024];
        fprintf(stderr, "%s\n", np_error_format(&err, buf, sizeof(buf)));
    }
    return t;
}

/* Compares every node present in both; returns how many nodes matched. */
static size_t compare(const char *shape, const np_topology *a, const np_topology *b)
{
    size_t matched = 0;
    for (size_t i = 0; i < np_topology_nr_nodes(a); i++) {
        const np_node_info *na = np_topology_node(a, i);
        size_t j;
        if (np_topology_node_idx(b, na->os_id, &j) < 0)
            continue;
        const np_node_info *nb = np_topology_node(b, j);
        char ca[256], cb[256];
        np_bitmap_format(np_topology_node_cpuset(a, i), ca, sizeof(ca));
        np_bitmap_format(np_topology_node_cpuset(b, j), cb, sizeof(cb));
        if (strcmp(ca, cb) != 0)
            fprintf(stderr, "%s node %u: cpus %s vs %s\n", shape, na->os_id, ca, cb);
        ASSERT_STR_EQ(ca, cb);
        /* numactl prints MiB rounded down */
        ASSERT_EQ(na->mem_total_bytes / MiB, nb->mem_total_bytes / MiB);
        for (size_t k = 0; k < np_topology_nr_nodes(a); k++) {
            size_t l;
            if (np_topology_node_idx(b, np_topology_node(a, k)->os_id, &l) < 0)
                continue;
            ASSERT_EQ(np_topology_distance(a, i, k), np_topology_distance(b, j, l));
        }
        matched++;
    }
    return matched;
}

static void check_shape(const char *shape, size_t expect_nodes, size_t hwloc_missing,
                        size_t hwloc_missing_cpus)
{
    np_topology *n = read_fixture(shape, "numactl-hardware.txt", NP_TOPO_FMT_NUMACTL);
    np_topology *h = read_fixture(shape, "hwloc.xml", NP_TOPO_FMT_HWLOC_XML);
    ASSERT_TRUE(n != NULL);
    ASSERT_TRUE(h != NULL);
    if (n && h) {
        ASSERT_EQ(np_topology_nr_nodes(n), expect_nodes);
        ASSERT_EQ(np_topology_nr_nodes(h), expect_nodes - hwloc_missing);
        ASSERT_EQ(np_topology_nr_cpus(n), np_topology_nr_cpus(h) + hwloc_missing_cpus);
        ASSERT_EQ(compare(shape, n, h), expect_nodes - hwloc_missing);
    }
    np_topology_destroy(n);
    np_topology_destroy(h);
}

static void test_2n(void) { check_shape("2n", 2, 0, 0); }
static void test_4n(void) { check_shape("4n", 4, 0, 0); }
static void test_8n(void) { check_shape("8n", 8, 0, 0); }
static void test_3n_cpuless(void) { check_shape("3n-cpuless", 3, 0, 0); }
static void test_4n_memless(void) { check_shape("4n-memless", 4, 0, 0); }
static void test_q35_pci(void) { check_shape("q35-pci", 2, 0, 0); }

/* The PCI devices behind the expander bridge sit on node 1 in hwloc's view,
 * as the guest's sysfs said (pci.txt). */
static void test_q35_devices(void)
{
    np_topology *h = read_fixture("q35-pci", "hwloc.xml", NP_TOPO_FMT_HWLOC_XML);
    ASSERT_TRUE(h != NULL);
    if (!h)
        return;
    size_t on_node1 = 0;
    for (size_t i = 0; i < np_topology_nr_devices(h); i++) {
        const np_pci_info *d = np_topology_device(h, i);
        if (d->node_idx >= 0 && np_topology_node(h, (size_t)d->node_idx)->os_id == 1)
            on_node1++;
    }
    ASSERT_TRUE(on_node1 >= 2); /* e1000e and NVMe behind pxb-pcie on node 1 */
    np_topology_destroy(h);
}

int main(void)
{
    NP_RUN(test_2n);
    NP_RUN(test_4n);
    NP_RUN(test_8n);
    NP_RUN(test_3n_cpuless);
    NP_RUN(test_4n_memless);
    NP_RUN(test_q35_pci);
    NP_RUN(test_q35_devices);
    return np_test_summary();
}
