/*
 * test_read_hwloc.c - the hwloc readers (src/topo/read_hwloc.c and its
 * XML vetting, hwloc_xml_check.c) on hwloc XML exports of real machines
 * from hwloc's test suite, on malformed XML, on synthetic descriptions, and
 * on this machine. The sysfs-tree replays are in test_read_hwloc_sysfs.c.
 *
 * Expected figures are read off the fixture files (see
 * tests/fixtures/hwloc/README.md).
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np_test.h"
#include "read_hwloc_helpers.h"

/* ---- XML exports ------------------------------------------------------------ */

/* 16amd64-8n2c-cpusets: a 16-CPU, 8-node Opteron restricted by a cpuset to
 * CPUs 0-3,5,6,12-15 and nodes 1-5. CPUs 0,1,12-15 have no node left in
 * the export; nodes 4 and 5 have no CPU left. */
static void test_xml_amd_8n_cpusets(void)
{
    np_topology *t = load_xml(HW "/xml-v2/16amd64-8n2c-cpusets.xml");
    char buf[256];
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 5);
    for (uint32_t n = 1; n <= 5; n++) {
        ASSERT_TRUE(node_os(t, n) != NULL);
        if (node_os(t, n))
            ASSERT_U64_EQ(node_os(t, n)->mem_total_bytes, 8 * GIB);
    }
    ASSERT_TRUE(node_os(t, 0) == NULL);
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "2,3");
    ASSERT_STR_EQ(cpus_of(t, 2, buf, sizeof(buf)), "5");
    ASSERT_STR_EQ(cpus_of(t, 3, buf, sizeof(buf)), "6");
    ASSERT_STR_EQ(cpus_of(t, 4, buf, sizeof(buf)), "");
    ASSERT_EQ(node_os(t, 5)->nr_cpus, 0);
    ASSERT_EQ(np_topology_nr_cpus(t), 4);
    ASSERT_EQ(node_of_cpu(t, 0), -1); /* its node 0 is outside the cpuset */
    ASSERT_EQ(node_of_cpu(t, 12), -1);
    ASSERT_EQ(cpu_os(t, 5)->package_id, 2);
    ASSERT_EQ(cpu_os(t, 5)->core_id, 1);
    ASSERT_EQ(dist_os(t, 1, 1), 10);
    ASSERT_EQ(dist_os(t, 1, 5), 20);
    ASSERT_EQ(dist_os(t, 4, 2), 20);
    ASSERT_EQ(np_topology_nr_devices(t), 0);
    ASSERT_TRUE(!np_topology_has_memattrs(t));
    ASSERT_STR_EQ(np_topology_name(t), HW "/xml-v2/16amd64-8n2c-cpusets.xml");
    np_topology_destroy(t);
}

/* 24em64t-2n6c2t-pci: 2 Xeon sockets, 6 cores x 2 threads each, one node
 * per socket, one I/O hub per socket. */
static void test_xml_intel_2n_pci(void)
{
    np_topology *t = load_xml(HW "/xml-v2/24em64t-2n6c2t-pci.xml");
    char buf[256];
    const np_pci_info *d;
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_U64_EQ(node_os(t, 0)->mem_total_bytes, 19316633600ull);
    ASSERT_U64_EQ(node_os(t, 1)->mem_total_bytes, 19327348736ull);
    ASSERT_STR_EQ(cpus_of(t, 0, buf, sizeof(buf)), "0,2,4,6,8,10,12,14,16,18,20,22");
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "1,3,5,7,9,11,13,15,17,19,21,23");
    ASSERT_EQ(node_os(t, 0)->nr_cores, 6);
    ASSERT_EQ(node_os(t, 1)->nr_cores, 6);
    /* Core P#0 of package 0 holds PUs 0 and 12 */
    ASSERT_EQ(cpu_os(t, 0)->core_id, cpu_os(t, 12)->core_id);
    ASSERT_EQ(cpu_os(t, 0)->thread_idx, 0);
    ASSERT_EQ(cpu_os(t, 12)->thread_idx, 1);
    ASSERT_EQ(cpu_os(t, 13)->package_id, 1);
    ASSERT_EQ(dist_os(t, 0, 1), 20);

    /* Bridges are not devices; the 9 end devices are. */
    ASSERT_EQ(np_topology_nr_devices(t), 9);
    ASSERT_EQ(dev_node(t, "0000:04:00.0"), 0);
    ASSERT_EQ(dev_node(t, "04:00.1"), 0);
    ASSERT_EQ(dev_node(t, "0000:05:00.0"), 0);
    ASSERT_EQ(dev_node(t, "0000:00:1f.2"), 0);
    ASSERT_EQ(dev_node(t, "0000:11:00.0"), 1);
    ASSERT_EQ(dev_node(t, "0000:14:00.0"), 1);
    ASSERT_EQ(dev_node(t, "0000:00:1e.0"), -2); /* a bridge */
    d = dev_at(t, "0000:04:00.0");
    if (d) {
        ASSERT_EQ(d->vendor_id, 0x8086);
        ASSERT_EQ(d->device_id, 0x10c9);
        ASSERT_EQ(d->class_code, 0x020000);
        ASSERT_STR_EQ(d->name, "eth0");
    }
    d = dev_at(t, "0000:05:00.0"); /* InfiniBand, first OS device eth2 */
    if (d) {
        ASSERT_EQ(d->class_code, 0x0c0600);
        ASSERT_STR_EQ(d->name, "eth2");
    }
    d = dev_at(t, "0000:01:03.0"); /* no OS device: the model name */
    if (d)
        ASSERT_STR_EQ(d->name, "ES1000");
    d = dev_at(t, "0000:14:00.0");
    if (d) {
        ASSERT_EQ(d->vendor_id, 0x10de);
        ASSERT_EQ(d->class_code, 0x030200);
    }
    np_topology_destroy(t);
}

/* 8intel64-4n2t-memattrs: 4 nodes of 2 CPUs, no packages or cores, and one
 * Bandwidth value (20) to node 1 from the whole machine's CPUs. */
static void test_xml_memattrs(void)
{
    np_topology *t = load_xml(HW "/xml-v2/8intel64-4n2t-memattrs.xml");
    char buf[256];
    np_memattr a;
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    ASSERT_EQ(np_topology_nr_cpus(t), 8);
    ASSERT_STR_EQ(cpus_of(t, 2, buf, sizeof(buf)), "4,5");
    ASSERT_U64_EQ(node_os(t, 3)->mem_total_bytes, 1 * GIB);
    ASSERT_EQ(cpu_os(t, 0)->package_id, NP_TOPO_ID_UNKNOWN);
    ASSERT_EQ(cpu_os(t, 0)->core_id, NP_TOPO_ID_UNKNOWN);
    ASSERT_EQ(node_os(t, 0)->nr_cores, 2); /* unknown cores count one per CPU */
    ASSERT_TRUE(np_topology_has_memattrs(t));
    for (uint32_t from = 0; from < 4; from++) {
        ASSERT_EQ(memattr_os(t, from, 1, &a), 0);
        ASSERT_U64_EQ(a.bandwidth_mbps, 20);
        ASSERT_U64_EQ(a.latency_ns, 0);
        ASSERT_EQ(memattr_os(t, from, 0, &a), -ENODATA);
        ASSERT_EQ(memattr_os(t, from, 3, &a), -ENODATA);
    }
    np_topology_destroy(t);
}

/* cxlmem+dax.v2: a QEMU guest with one DRAM node and four CXL memory
 * devices that are not NUMA nodes (class 0502), plus a device-DAX SPM
 * range that is not a node either. */
static void test_xml_cxl_devices(void)
{
    static const struct {
        const char *bdf, *name;
    } cxl[] = {{"0000:11:00.0", "mem2"},
               {"0000:12:00.0", "mem0"},
               {"0000:15:00.0", "mem3"},
               {"0000:16:00.0", "mem1"}};
    np_topology *t = load_xml(HW "/xml/cxlmem+dax.v2.xml");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 1);
    ASSERT_U64_EQ(node_os(t, 0)->mem_total_bytes, 3061719040ull);
    ASSERT_EQ(node_os(t, 0)->mem_kind, NP_MEM_DRAM);
    ASSERT_EQ(node_os(t, 0)->nr_cpus, 4);
    ASSERT_EQ(np_topology_nr_devices(t), 7);
    for (size_t i = 0; i < sizeof(cxl) / sizeof(cxl[0]); i++) {
        const np_pci_info *d = dev_at(t, cxl[i].bdf);
        ASSERT_TRUE(d != NULL);
        if (!d)
            continue;
        ASSERT_EQ(d->class_code, 0x050200);
        ASSERT_EQ(d->vendor_id, 0x8086);
        ASSERT_EQ(d->device_id, 0x0d93);
        ASSERT_STR_EQ(d->name, cxl[i].name);
        ASSERT_EQ(dev_node(t, cxl[i].bdf), 0); /* the only node */
    }
    ASSERT_STR_EQ(dev_at(t, "00:02.0") ? dev_at(t, "00:02.0")->name : NULL, "enp0s2");
    np_topology_destroy(t);
}

/* 16amd64-4distances: 8 nodes numbered out of order (node P#1 first), a
 * 10/20 NUMA matrix and three other matrices (packages, cores, PUs) that
 * must not be taken for node distances. */
static void test_xml_amd_4distances(void)
{
    np_topology *t = load_xml(HW "/xml-v2/16amd64-4distances.xml");
    char buf[256];
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    for (uint32_t n = 0; n < 8; n++)
        ASSERT_EQ(np_topology_node(t, n)->os_id, n);
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "0,1");
    ASSERT_STR_EQ(cpus_of(t, 0, buf, sizeof(buf)), "2,3");
    ASSERT_STR_EQ(cpus_of(t, 5, buf, sizeof(buf)), "6,7");
    ASSERT_STR_EQ(cpus_of(t, 3, buf, sizeof(buf)), "10,11");
    ASSERT_U64_EQ(node_os(t, 0)->mem_total_bytes, 8587984896ull);
    ASSERT_U64_EQ(node_os(t, 7)->mem_total_bytes, 8 * GIB);
    for (uint32_t i = 0; i < 8; i++)
        for (uint32_t j = 0; j < 8; j++)
            ASSERT_EQ(dist_os(t, i, j), i == j ? 10 : 20); /* not the 40/80 of packages */
    np_topology_destroy(t);
}

/* 64intel64-heteromem: Xeon Phi style, 4 DRAM nodes (0-3) with 16 CPUs
 * each and 4 CPU-less HBM nodes (4-7) attached beside them. */
static void test_xml_heteromem(void)
{
    static const uint32_t hbm_of[4] = {7, 4, 5, 6}; /* from the XML's L3 groups */
    np_topology *t = load_xml(HW "/xml-v2/64intel64-heteromem.xml");
    np_memattr a;
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(np_topology_nr_cpus(t), 64);
    for (uint32_t n = 0; n < 4; n++) {
        ASSERT_EQ(node_os(t, n)->mem_kind, NP_MEM_DRAM);
        ASSERT_EQ(node_os(t, n)->nr_cpus, 16);
        ASSERT_EQ(node_os(t, n)->nr_cores, 4);
        ASSERT_U64_EQ(node_os(t, n)->mem_total_bytes, 1 * GIB);
        ASSERT_EQ(node_os(t, hbm_of[n])->mem_kind, NP_MEM_HBM);
        ASSERT_EQ(node_os(t, hbm_of[n])->nr_cpus, 0);
        ASSERT_U64_EQ(node_os(t, hbm_of[n])->mem_total_bytes, 2 * GIB);
        ASSERT_EQ(memattr_os(t, n, n, &a), 0);
        ASSERT_U64_EQ(a.bandwidth_mbps, 22500);
        ASSERT_EQ(memattr_os(t, n, hbm_of[n], &a), 0);
        ASSERT_U64_EQ(a.bandwidth_mbps, 90000);
        ASSERT_EQ(memattr_os(t, n, (n + 1) % 4, &a), -ENODATA);
        ASSERT_EQ(memattr_os(t, hbm_of[n], n, &a), -ENODATA); /* HBM initiates nothing */
        /* no distance matrix in the XML: a quadrant's DRAM and HBM share
         * their CPUs (hwloc's locality), so they are near (12), not 20 */
        ASSERT_EQ(dist_os(t, n, hbm_of[n]), 12);
        ASSERT_EQ(dist_os(t, hbm_of[n], n), 12);
        ASSERT_EQ(dist_os(t, n, hbm_of[(n + 1) % 4]), 20);
        ASSERT_EQ(dist_os(t, n, (n + 1) % 4), 20);
    }
    ASSERT_EQ(node_of_cpu(t, 48), 0);
    ASSERT_EQ(cpu_os(t, 48)->thread_idx, 3); /* PUs 0,16,32,48 share a core */
    np_topology_destroy(t);
}

/* handmade/2n-cxl-nvm: two DRAM nodes with CPUs, a CXL and an NVDIMM node
 * without, attached to the machine; SLIT-like distances and HMAT-like
 * values. */
/* hwloc writes a zero 32-bit word between two others as nothing
 * ("0xffffffff,,0x0" = CPUs 64-95): lstopo-no-graphics -i "node:3 pu:32"
 * --of xml. hwloc 2.9 reads it, and so must we (issue 13, item 11). */
static void test_xml_empty_bitmap_words(void)
{
    np_topology *t = load_xml(HW "/handmade/3n-96pu-empty-words.xml");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 3);
    ASSERT_EQ(np_topology_nr_cpus(t), 96);
    for (uint32_t c = 0; c < 96; c++)
        ASSERT_EQ(node_of_cpu(t, c), (long)(c / 32));
    np_topology_destroy(t);
}

static void test_xml_cpuless_cxl_nvm(void)
{
    np_topology *t = load_xml(HW "/handmade/2n-cxl-nvm.xml");
    char buf[64];
    np_memattr a;
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    ASSERT_EQ(node_os(t, 0)->mem_kind, NP_MEM_DRAM);
    ASSERT_EQ(node_os(t, 2)->mem_kind, NP_MEM_CXL);
    ASSERT_EQ(node_os(t, 3)->mem_kind, NP_MEM_PMEM);
    ASSERT_STR_EQ(cpus_of(t, 0, buf, sizeof(buf)), "0,1");
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "2,3");
    ASSERT_EQ(node_os(t, 2)->nr_cpus, 0);
    ASSERT_EQ(node_os(t, 3)->nr_cpus, 0);
    ASSERT_U64_EQ(node_os(t, 2)->mem_total_bytes, 4 * GIB);
    ASSERT_U64_EQ(node_os(t, 3)->mem_total_bytes, 16 * GIB);
    ASSERT_U64_EQ(node_os(t, 2)->mem_free_bytes, 4 * GIB); /* free = total for hwloc */
    ASSERT_EQ(dist_os(t, 0, 2), 14);
    ASSERT_EQ(dist_os(t, 1, 3), 28);
    ASSERT_EQ(dist_os(t, 3, 2), 26);
    ASSERT_EQ(memattr_os(t, 0, 2, &a), 0);
    ASSERT_U64_EQ(a.bandwidth_mbps, 15000);
    ASSERT_U64_EQ(a.latency_ns, 250);
    ASSERT_EQ(memattr_os(t, 1, 2, &a), 0);
    ASSERT_U64_EQ(a.bandwidth_mbps, 0);
    ASSERT_U64_EQ(a.latency_ns, 310);
    ASSERT_EQ(memattr_os(t, 1, 0, &a), 0);
    ASSERT_U64_EQ(a.bandwidth_mbps, 20000);
    ASSERT_EQ(memattr_os(t, 0, 3, &a), -ENODATA);
    ASSERT_EQ(memattr_os(t, 2, 0, &a), -ENODATA);
    np_topology_destroy(t);
}

/* hwloc 3's XML (four of the fixtures as hwloc ships them) is refused with
 * the fix in the message, not with a generic parse error. */
static void test_xml_v3_refused(void)
{
    static const char *const v3[] = {"16amd64-4distances.xml", "16amd64-8n2c-cpusets.xml",
                                     "24em64t-2n6c2t-pci.xml", "8intel64-4n2t-memattrs.xml"};
    for (size_t i = 0; i < sizeof(v3) / sizeof(v3[0]); i++) {
        char path[512], msg[1024];
        np_topology *t = NULL;
        np_error err = {0};
        size_t len = 0;
        char *text;
        snprintf(path, sizeof(path), "%s/xml/%s", HW, v3[i]);
        text = slurp(path, &len);
        ASSERT_TRUE(text != NULL);
        if (!text)
            continue;
        ASSERT_EQ(np_topology_read_hwloc_xml(text, len, v3[i], &t, &err), -EINVAL);
        ASSERT_TRUE(t == NULL);
        ASSERT_STR_EQ(err.origin, v3[i]);
        ASSERT_EQ(err.line, 3);
        np_error_format(&err, msg, sizeof(msg));
        ASSERT_CONTAINS(msg, "version 3.0");
        ASSERT_CONTAINS(msg, "lstopo --of v2xml");
        free(text);
    }
}

/* Catches what anything writes to stderr between quiet_begin() and
 * quiet_end(), which returns the byte count. */
static int quiet_saved_fd = -1;
static FILE *quiet_file;

static void quiet_begin(void)
{
    fflush(stderr);
    quiet_file = tmpfile();
    quiet_saved_fd = dup(STDERR_FILENO);
    if (quiet_file && quiet_saved_fd >= 0)
        dup2(fileno(quiet_file), STDERR_FILENO);
}

static size_t quiet_end(void)
{
    long size = 0;
    fflush(stderr);
    if (quiet_saved_fd >= 0) {
        dup2(quiet_saved_fd, STDERR_FILENO);
        close(quiet_saved_fd);
        quiet_saved_fd = -1;
    }
    if (quiet_file) {
        fseek(quiet_file, 0, SEEK_END);
        size = ftell(quiet_file);
        fclose(quiet_file);
        quiet_file = NULL;
    }
    return size > 0 ? (size_t)size : 0;
}

/* Every malformed input is refused with its origin, the line when libxml2
 * can tell, and what was wrong, and without a word on stderr. */
static void test_xml_malformed(void)
{
    static const struct {
        const char *file;
        unsigned line;
        const char *says;
    } cases[] = {
        {"hwloc-empty.xml", 0, "empty input"},
        {"hwloc-not-xml.xml", 1, "not well-formed XML"},
        {"hwloc-binary-junk.xml", 1, "not well-formed XML"},
        {"hwloc-truncated.xml", 26, "not well-formed XML"},
        /* an <object> left open: its </object> closes the one above, and
         * the matrix is found inside an object before the end-tag mismatch */
        {"hwloc-unclosed-tag.xml", 34, "<distances2> inside <object> is not part"},
        {"hwloc-nul-byte.xml", 15, "not well-formed XML"},
        {"hwloc-too-deep.xml", 260, "depth"},
        {"hwloc-wrong-root.xml", 2, "expected <topology>"},
        {"hwloc-format-v3.xml", 3, "version 3.0"},
        {"hwloc-format-v1.xml", 3, "hwloc 1.x XML format"},
        {"hwloc-node-without-sets.xml", 10, "without cpuset and nodeset"},
        {"hwloc-no-cpu.xml", 0, "not a valid hwloc XML topology"},
        {"hwloc-zero-distance.xml", 0, "not a valid hwloc XML topology"},
        {"hwloc-cpu-outside-parent.xml", 0, "kept 3 of 4 CPUs"},
        {"hwloc-duplicate-node.xml", 0, "NUMA node 0 is listed twice"},
        {"hwloc-duplicate-cpu.xml", 0, "CPU 2 is listed twice"},
        {"hwloc-node-number-too-big.xml", 10, "os_index must be a decimal number below 1024"},
        {"hwloc-cpu-number-huge.xml", 30, "os_index must be a decimal number below 65536"},
        {"hwloc-cpu-without-number.xml", 27, "<object type=\"PU\"> without os_index"},
        {"hwloc-missing-complete-cpuset.xml", 24, "cpuset without complete_cpuset"},
        {"hwloc-info-without-value.xml", 7, "<info> needs both a name and a value"},
        {"hwloc-distances-too-large.xml", 34, "nbobjs must be a decimal number of at most 1024"},
        /* well-formed XML that hwloc's own reader would half-read */
        {"hwloc-single-quotes.xml", 29, "lowercase name=\"value\" attributes"},
        {"hwloc-uppercase-attribute.xml", 30, "lowercase name=\"value\" attributes"},
        {"hwloc-gt-in-value.xml", 8, "a '>' in it"},
        {"hwloc-char-reference.xml", 11, "character reference"},
        /* hwloc 2.9 asserts on this bitmap */
        {"hwloc-bad-bitmap.xml", 20, "is not an hwloc bitmap"},
        /* an empty last word: hwloc 2.9 reads "0x00000001," as the empty set */
        {"hwloc-bitmap-trailing-empty.xml", 20, "is not an hwloc bitmap"},
        /* libxml2 reports encoding errors on its generic channel */
        {"hwloc-bad-encoding.xml", 2, "input conversion failed"},
        /* hwloc 2.9 fails on these and leaks the object around them */
        {"hwloc-text-in-object.xml", 6, "text inside <object>"},
        {"hwloc-unknown-element.xml", 11, "<note> inside <object> is not part"},
        {"hwloc-info-extra-attribute.xml", 12, "<info> has an attribute nodeset"},
        {"hwloc-page-type-in-cpu.xml", 22, "<page_type> outside a NUMA node"},
        /* hwloc would reorder these and print a banner to stderr */
        {"hwloc-objects-out-of-order.xml", 24, "comes after a sibling with higher CPUs"},
        {"hwloc-unknown-type.xml", 17, "without a type hwloc knows"},
        {"hwloc-asymmetric-distances.xml", 0, "not symmetric"},
        {"hwloc-bad-pci-address.xml", 0, "0000:00:3f.0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[512], msg[1024];
        np_topology *t = NULL;
        np_error err = {0};
        size_t len = 0, noise;
        char *text;
        int rc;
        snprintf(path, sizeof(path), "%s/malformed/%s", NP_FIXTURES_DIR, cases[i].file);
        text = slurp(path, &len);
        ASSERT_TRUE(text != NULL);
        if (!text)
            continue;
        quiet_begin();
        rc = np_topology_read_hwloc_xml(text, len, cases[i].file, &t, &err);
        noise = quiet_end();
        np_error_format(&err, msg, sizeof(msg));
        ASSERT_EQ(noise, 0); /* the library prints nothing, nor do hwloc and libxml2 */
        if (rc != -EINVAL || err.line != cases[i].line || !strstr(msg, cases[i].says))
            fprintf(stderr, "  %s -> rc %d: %s\n", cases[i].file, rc, msg);
        ASSERT_EQ(rc, -EINVAL);
        ASSERT_TRUE(t == NULL);
        ASSERT_STR_EQ(err.origin, cases[i].file);
        ASSERT_EQ(err.line, cases[i].line);
        ASSERT_CONTAINS(msg, cases[i].says);
        np_topology_destroy(t);
        free(text);
    }
}

/* The reader takes a length, not a C string: an exact-size copy with no
 * NUL after it reads the same (ASan catches a read past the end). */
static void test_xml_not_nul_terminated(void)
{
    size_t len = 0;
    char *text = slurp(HW "/handmade/2n-cxl-nvm.xml", &len);
    char *exact = text ? malloc(len) : NULL;
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_TRUE(exact != NULL);
    if (!exact) {
        free(text);
        return;
    }
    memcpy(exact, text, len);
    ASSERT_EQ(np_topology_read_hwloc_xml(exact, len, "exact", &t, &err), 0);
    ASSERT_EQ(t ? np_topology_nr_nodes(t) : 0, 4);
    np_topology_destroy(t);
    t = NULL;
    /* the same bytes cut short are malformed, not read past */
    ASSERT_EQ(np_topology_read_hwloc_xml(exact, len / 2, "half", &t, &err), -EINVAL);
    ASSERT_CONTAINS(err.msg, "not well-formed XML");
    free(exact);
    free(text);
}

/* Windows line ends are line ends (XML 1.0 section 2.11): the same
 * topology, and errors on the same line numbers. */
static void test_xml_crlf(void)
{
    size_t len = 0, n = 0;
    char *text = slurp(HW "/handmade/2n-cxl-nvm.xml", &len);
    char *crlf = text ? malloc(2 * len + 1) : NULL;
    np_topology *t = NULL;
    np_error err = {0};
    char *at;

    ASSERT_TRUE(crlf != NULL);
    if (!crlf) {
        free(text);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            crlf[n++] = '\r';
        crlf[n++] = text[i];
    }
    ASSERT_EQ(np_topology_read_hwloc_xml(crlf, n, "crlf", &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 4);
        ASSERT_EQ(np_topology_nr_cpus(t), 4);
        ASSERT_EQ(dist_os(t, 0, 2), 14);
        np_topology_destroy(t);
        t = NULL;
    }
    /* break line 30's PU tag: the error still names line 30 */
    at = strstr(crlf, "type=\"PU\" os_index=\"3\"");
    ASSERT_TRUE(at != NULL);
    if (at) {
        at[4] = '\'';
        ASSERT_EQ(np_topology_read_hwloc_xml(crlf, n, "crlf", &t, &err), -EINVAL);
        ASSERT_EQ(err.line, 30);
    }
    free(crlf);
    free(text);
}

/* np_topology_open() reaches this reader for XML files and "synthetic:". */
static void test_open_dispatch(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_open(HW "/xml-v2/24em64t-2n6c2t-pci.xml", NP_TOPO_FMT_AUTO, &t, &err), 0);
    ASSERT_EQ(t ? np_topology_nr_cpus(t) : 0, 24);
    np_topology_destroy(t);
    t = NULL;
    ASSERT_EQ(np_topology_open("synthetic:pack:2 core:2 pu:2", NP_TOPO_FMT_AUTO, &t, &err), 0);
    ASSERT_EQ(t ? np_topology_nr_cpus(t) : 0, 8);
    np_topology_destroy(t);
}

/* ---- synthetic ------------------------------------------------------------------ */

static void test_synthetic(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    char buf[128];

    ASSERT_EQ(np_topology_read_hwloc_synthetic("pack:2 numa:1 core:4 pu:2", &t, &err), 0);
    if (t) {
        ASSERT_STR_EQ(np_topology_name(t), "synthetic:pack:2 numa:1 core:4 pu:2");
        ASSERT_EQ(np_topology_nr_nodes(t), 2);
        ASSERT_EQ(np_topology_nr_cpus(t), 16);
        ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "8,9,10,11,12,13,14,15");
        ASSERT_EQ(node_os(t, 0)->nr_cores, 4);
        ASSERT_EQ(cpu_os(t, 9)->thread_idx, 1);
        ASSERT_EQ(cpu_os(t, 9)->package_id, 1);
        ASSERT_U64_EQ(node_os(t, 0)->mem_total_bytes, 1 * GIB); /* hwloc's default */
        ASSERT_EQ(dist_os(t, 0, 1), 20);                        /* Linux's default */
        np_topology_destroy(t);
        t = NULL;
    }
    /* hwloc's "GB" is 10^9 bytes, "GiB" 2^30 */
    ASSERT_EQ(np_topology_read_hwloc_synthetic("numa:2(memory=16GB) pu:4", &t, &err), 0);
    if (t) {
        ASSERT_U64_EQ(node_os(t, 1)->mem_total_bytes, 16000000000ull);
        ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "4,5,6,7");
        np_topology_destroy(t);
        t = NULL;
    }
    ASSERT_EQ(np_topology_read_hwloc_synthetic("pack:2 [numa(memory=4GiB)] core:2 pu:2", &t, &err),
              0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 2);
        ASSERT_U64_EQ(node_os(t, 1)->mem_total_bytes, 4 * GIB);
        np_topology_destroy(t);
        t = NULL;
    }
    /* indexes= gives sparse OS numbers */
    ASSERT_EQ(np_topology_read_hwloc_synthetic("numa:2(indexes=0,2) pu:2", &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 2);
        ASSERT_STR_EQ(cpus_of(t, 2, buf, sizeof(buf)), "2,3");
        ASSERT_TRUE(node_os(t, 1) == NULL);
        np_topology_destroy(t);
        t = NULL;
    }
    /* 8192 CPUs is the limit, and fine */
    ASSERT_EQ(np_topology_read_hwloc_synthetic("pack:8 core:64 pu:16", &t, &err), 0);
    ASSERT_EQ(t ? np_topology_nr_cpus(t) : 0, 8192);
    np_topology_destroy(t);
}

static void test_synthetic_errors(void)
{
    static const struct {
        const char *desc, *says;
    } bad[] = {
        {"", "empty synthetic description"},
        {"pack:2 numa:1 core:4", "the last level of a synthetic description must be the CPUs"},
        {"die:2[numa(memory=4GiB)]", "the last level"}, /* hwloc 2.9 leaks on this one */
        {"pack:0 pu:2", "expected a count above 0 at \"0 pu:2\""},
        {"pack:2(foo=1) pu:2", "not a valid hwloc synthetic description"}, /* hwloc says so */
        {"foo:2 pu:2", "unknown object type at \"foo:2 pu:2\""},
        {"pack:2 [core] pu:2", "only NUMA nodes can be attached"},
        {"   ", "no level"},
        /* a node per hyper-thread: valid for hwloc, not a Linux machine */
        {"pack:2 core:2 pu:2 [numa]", "share package 0 core 0 but sit on different nodes"},
        {"pack:2 pack:2 pu:1", "more than one package level"},
        {"pu:2 pu:2", "more than one pu level"},
        {"numa:2 [numa] pu:2", "NUMA nodes both as a level and attached"},
        {"pack:2 32 2 [numa] pu:2", "levels with and without a type"}, /* hwloc leaks */
        {"pack:2 core:2 pu:2(", "unterminated \"(\""},
        {"2 3(indexes=pack:core)2 32", "interleaved forms"}, /* hwloc 2.9 asserts */
        {"2 3(indexes=pa)", "interleaved forms"},             /* so does this (fuzzing) */
        {"numa:2 pu:2(indexes=0,1,2,4000000000)", "must be below 65536"},
        {"pack:100 core:100 pu:100", "too large"},
        {"pack:2 core:8192 pu:1", "too large"},
        {"2221 2 1", "too large"}, /* 2221 siblings take hwloc seconds */
        {"pu:99999999999999999999999", "too large"},
        {"pack:-1 pu:1", "too large"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_topology *t = NULL;
        np_error err = {0};
        ASSERT_EQ(np_topology_read_hwloc_synthetic(bad[i].desc, &t, &err), -EINVAL);
        ASSERT_TRUE(t == NULL);
        ASSERT_CONTAINS(err.msg, bad[i].says);
        ASSERT_CONTAINS(err.origin, "synthetic");
    }
}

/* ---- this machine ------------------------------------------------------------------ */

static void test_live(void)
{
    hwloc_topology_t h = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    char msg[1024];
    int rc = np_topology_read_live(&t, &err);

    if (rc)
        fprintf(stderr, "%s\n", np_error_format(&err, msg, sizeof(msg)));
    ASSERT_EQ(rc, 0);
    if (!t)
        return;
    ASSERT_STR_EQ(np_topology_name(t), "live");
    ASSERT_TRUE(np_topology_nr_nodes(t) >= 1);
    ASSERT_TRUE(np_topology_nr_cpus(t) >= 1);
    ASSERT_TRUE(np_topology_mem_total_bytes(t) > 0);
    /* the same counts as hwloc itself, cgroup-hidden CPUs included */
    ASSERT_EQ(hwloc_topology_init(&h), 0);
    hwloc_topology_set_flags(h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    ASSERT_EQ(hwloc_topology_load(h), 0);
    ASSERT_EQ(np_topology_nr_nodes(t), hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE));
    ASSERT_EQ(np_topology_nr_cpus(t), hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU));
    hwloc_topology_destroy(h);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_xml_amd_8n_cpusets);
    NP_RUN(test_xml_intel_2n_pci);
    NP_RUN(test_xml_memattrs);
    NP_RUN(test_xml_cxl_devices);
    NP_RUN(test_xml_amd_4distances);
    NP_RUN(test_xml_heteromem);
    NP_RUN(test_xml_cpuless_cxl_nvm);
    NP_RUN(test_xml_empty_bitmap_words);
    NP_RUN(test_xml_v3_refused);
    NP_RUN(test_xml_malformed);
    NP_RUN(test_xml_not_nul_terminated);
    NP_RUN(test_xml_crlf);
    NP_RUN(test_open_dispatch);
    NP_RUN(test_synthetic);
    NP_RUN(test_synthetic_errors);
    NP_RUN(test_live);
    return np_test_summary();
}
