/*
 * test_read_hwloc.c - the hwloc readers (src/topo/read_hwloc.c) on real
 * captures: hwloc XML exports of five machines from hwloc's test suite,
 * sysfs trees replayed through hwloc's Linux backend (HWLOC_FSROOT) and
 * compared with what hwloc's lstopo printed for the same tree, synthetic
 * descriptions, this machine, and malformed XML.
 *
 * Expected figures are read off the fixture files (see
 * tests/fixtures/hwloc/README.md); for the sysfs trees the .console files
 * are parsed here and every node, CPU and distance compared.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np_test.h"
#include "util/text.h"

#define GIB (1024ull * 1024 * 1024)
#define HW NP_FIXTURES_DIR "/hwloc"

static char *slurp(const char *path, size_t *len_out)
{
    char *buf = NULL;
    if (np_read_file(path, 64u << 20, &buf, len_out) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    return buf;
}

/* Reads an XML fixture; NULL (and a failed test) when the reader refuses. */
static np_topology *load_xml(const char *path)
{
    np_topology *t = NULL;
    np_error err = {0};
    size_t len = 0;
    char *text = slurp(path, &len), msg[1024];
    int rc;

    ASSERT_TRUE(text != NULL);
    if (!text)
        return NULL;
    rc = np_topology_read_hwloc_xml(text, len, path, &t, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", np_error_format(&err, msg, sizeof(msg)));
    ASSERT_EQ(rc, 0);
    free(text);
    return t;
}

static const np_node_info *node_os(const np_topology *t, uint32_t os_id)
{
    size_t idx;
    return np_topology_node_idx(t, os_id, &idx) == 0 ? np_topology_node(t, idx) : NULL;
}

static uint32_t dist_os(const np_topology *t, uint32_t from, uint32_t to)
{
    size_t i, j;
    if (np_topology_node_idx(t, from, &i) < 0 || np_topology_node_idx(t, to, &j) < 0)
        return 0;
    return np_topology_distance(t, i, j);
}

/* "2,3,5": the CPU os_ids of a node, ascending. */
static const char *cpus_of(const np_topology *t, uint32_t node, char *buf, size_t len)
{
    size_t nidx, used = 0;
    buf[0] = '\0';
    if (np_topology_node_idx(t, node, &nidx) < 0)
        return "(no such node)";
    for (size_t c = 0; c < np_topology_nr_cpus(t); c++) {
        const np_cpu_info *cpu = np_topology_cpu(t, c);
        if (cpu->node_idx == nidx && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%u", used ? "," : "", cpu->os_id);
    }
    return buf;
}

/* Node os_id of a CPU, or -1 when the topology does not have it. */
static long node_of_cpu(const np_topology *t, uint32_t cpu_os)
{
    size_t idx;
    if (np_topology_cpu_idx(t, cpu_os, &idx) < 0)
        return -1;
    return np_topology_node(t, np_topology_cpu(t, idx)->node_idx)->os_id;
}

static const np_cpu_info *cpu_os(const np_topology *t, uint32_t os_id)
{
    size_t idx;
    return np_topology_cpu_idx(t, os_id, &idx) == 0 ? np_topology_cpu(t, idx) : NULL;
}

static const np_pci_info *dev_at(const np_topology *t, const char *bdf)
{
    size_t idx;
    return np_topology_device_find(t, bdf, &idx) == 0 ? np_topology_device(t, idx) : NULL;
}

/* Node os_id of a device, -1 unknown, -2 when the device is missing. */
static long dev_node(const np_topology *t, const char *bdf)
{
    const np_pci_info *d = dev_at(t, bdf);
    if (!d)
        return -2;
    return d->node_idx < 0 ? -1 : (long)np_topology_node(t, (size_t)d->node_idx)->os_id;
}

static int memattr_os(const np_topology *t, uint32_t from, uint32_t to, np_memattr *out)
{
    size_t i, j;
    if (np_topology_node_idx(t, from, &i) < 0 || np_topology_node_idx(t, to, &j) < 0)
        return -ENOENT;
    return np_topology_memattr(t, i, j, out);
}

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
    }
    ASSERT_EQ(node_of_cpu(t, 48), 0);
    ASSERT_EQ(cpu_os(t, 48)->thread_idx, 3); /* PUs 0,16,32,48 share a core */
    np_topology_destroy(t);
}

/* handmade/2n-cxl-nvm: two DRAM nodes with CPUs, a CXL and an NVDIMM node
 * without, attached to the machine; SLIT-like distances and HMAT-like
 * values. */
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
        /* libxml2 reports encoding errors on its generic channel */
        {"hwloc-bad-encoding.xml", 2, "input conversion failed"},
        /* hwloc 2.9 fails on these and leaks the object around them */
        {"hwloc-text-in-object.xml", 6, "text inside <object>"},
        {"hwloc-unknown-element.xml", 11, "<note> inside <object> is not part"},
        {"hwloc-info-extra-attribute.xml", 12, "<info> has an attribute nodeset"},
        {"hwloc-page-type-in-cpu.xml", 22, "<page_type> outside a NUMA node"},
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
        {"2 3(indexes=pack:core)2 32", "interleaved indexes"}, /* hwloc 2.9 asserts */
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

/* ---- sysfs trees ---------------------------------------------------------------------- */

/* What lstopo -v printed for a tree (a .console file): nodes with their
 * memory, each CPU with the node attached nearest above it (none when no
 * ancestor has memory), and the NUMA latency matrix. */
#define CON_MAX_NODES 64
#define CON_MAX_PUS 256
#define CON_MAX_DEPTH 64

typedef struct console {
    unsigned nr_nodes, nr_pus;
    uint32_t node_os[CON_MAX_NODES]; /* by lstopo's logical index */
    uint64_t node_unit[CON_MAX_NODES];                 /* bytes per shown unit */
    uint64_t node_mem_units[CON_MAX_NODES]; /* "local=8190MiB" -> 8190, unit MiB */
    uint32_t pu_os[CON_MAX_PUS];
    long pu_node[CON_MAX_PUS]; /* node os_id or -1 */
    bool has_dist;
    uint32_t dist[CON_MAX_NODES][CON_MAX_NODES];
} console;

static uint64_t unit_bytes(const char *u)
{
    if (strncmp(u, "KiB", 3) == 0)
        return 1024ull;
    if (strncmp(u, "MiB", 3) == 0)
        return 1024ull * 1024;
    if (strncmp(u, "GiB", 3) == 0)
        return GIB;
    if (strncmp(u, "TiB", 3) == 0)
        return GIB * 1024;
    return 0;
}

/* Splits text into NUL-terminated lines in place; returns their count. */
static size_t split_lines(char *text, char ***lines_out)
{
    size_t n = 1, k = 0;
    char **lines;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    lines = calloc(n, sizeof(*lines));
    if (!lines)
        return 0;
    for (char *p = text; p; k++) {
        char *nl = strchr(p, '\n');
        lines[k] = p;
        if (nl)
            *nl++ = '\0';
        p = nl;
    }
    *lines_out = lines;
    return k;
}

/* Parses a console file; false when it does not look like lstopo -v. */
static bool console_parse(const char *path, console *con)
{
    size_t len = 0, nr_lines;
    char *text = slurp(path, &len);
    char **lines = NULL;
    int stack_indent[CON_MAX_DEPTH];
    long stack_node[CON_MAX_DEPTH]; /* node attached to that object, or -1 */
    int depth = 0;
    bool ok = false;

    memset(con, 0, sizeof(*con));
    if (!text)
        return false;
    nr_lines = split_lines(text, &lines);
    for (size_t k = 0; k < nr_lines; k++) {
        const char *line = lines[k], *c;
        int indent = 0;
        unsigned l, p;
        char unit[8];
        unsigned long long size;

        while (line[indent] == ' ')
            indent++;
        c = line + indent;
        if (strncmp(c, "Relative latency matrix", 23) == 0 && strstr(c, "NUMANodes")) {
            /* then " index 0 1 ..." and one row per node: "  0  10  20 ..." */
            if (k + 1 + con->nr_nodes >= nr_lines)
                goto out;
            for (unsigned row = 0; row < con->nr_nodes; row++) {
                char *q;
                strtoul(lines[k + 2 + row], &q, 10); /* the row's index */
                for (unsigned col = 0; col < con->nr_nodes; col++)
                    con->dist[row][col] = (uint32_t)strtoul(q, &q, 10);
            }
            con->has_dist = true;
            k += 1 + con->nr_nodes;
            continue;
        }
        if (!strstr(c, " L#") && strncmp(c, "Machine", 7) != 0)
            continue; /* not an object line */
        while (depth > 0 && stack_indent[depth - 1] >= indent)
            depth--;
        if (strncmp(c, "NUMANode", 8) == 0) {
            c = strstr(c, " L#");
            if (sscanf(c, " L#%u (P#%u local=%llu%7s", &l, &p, &size, unit) != 4 ||
                con->nr_nodes >= CON_MAX_NODES || depth == 0)
                goto out;
            con->node_os[con->nr_nodes] = p;
            con->node_mem_units[con->nr_nodes] = size;
            con->node_unit[con->nr_nodes] = unit_bytes(unit);
            con->nr_nodes++;
            /* a CPU's node is the lowest-numbered one attached nearest above it */
            if (stack_node[depth - 1] < 0 || p < stack_node[depth - 1])
                stack_node[depth - 1] = p;
            continue;
        }
        if (depth >= CON_MAX_DEPTH)
            goto out;
        stack_indent[depth] = indent;
        stack_node[depth] = -1;
        depth++;
        if (strncmp(c, "PU L#", 5) == 0) {
            if (sscanf(c, "PU L#%u (P#%u)", &l, &p) != 2 || con->nr_pus >= CON_MAX_PUS)
                goto out;
            con->pu_os[con->nr_pus] = p;
            con->pu_node[con->nr_pus] = -1;
            for (int d = depth - 1; d >= 0; d--) {
                if (stack_node[d] >= 0) {
                    con->pu_node[con->nr_pus] = stack_node[d];
                    break;
                }
            }
            con->nr_pus++;
        }
    }
    ok = con->nr_nodes > 0 && con->nr_pus > 0;
out:
    free(lines);
    free(text);
    return ok;
}

/* Compares a topology with what lstopo printed for the same tree. */
static void check_console(const np_topology *t, const char *console_file)
{
    char path[512];
    console *con = calloc(1, sizeof(*con));
    unsigned with_node = 0;

    snprintf(path, sizeof(path), "%s/linux/%s", HW, console_file);
    ASSERT_TRUE(con && console_parse(path, con));
    if (!con || !con->nr_nodes) {
        free(con);
        return;
    }
    ASSERT_EQ(np_topology_nr_nodes(t), con->nr_nodes);
    for (unsigned i = 0; i < con->nr_nodes; i++) {
        const np_node_info *n = node_os(t, con->node_os[i]);
        ASSERT_TRUE(n != NULL);
        if (!n || !con->node_unit[i])
            continue;
        /* lstopo shows whole units; allow its rounding either way */
        uint64_t shown = con->node_mem_units[i], ours = n->mem_total_bytes / con->node_unit[i];
        ASSERT_TRUE(ours + 1 >= shown && ours <= shown + 1);
    }
    for (unsigned i = 0; i < con->nr_pus; i++) {
        if (node_of_cpu(t, con->pu_os[i]) != con->pu_node[i])
            fprintf(stderr, "  CPU %u: node %ld, lstopo says %ld\n", con->pu_os[i],
                    node_of_cpu(t, con->pu_os[i]), con->pu_node[i]);
        ASSERT_EQ(node_of_cpu(t, con->pu_os[i]), con->pu_node[i]);
        with_node += con->pu_node[i] >= 0;
    }
    ASSERT_EQ(np_topology_nr_cpus(t), with_node);
    ASSERT_TRUE(con->has_dist || con->nr_nodes == 1);
    if (con->has_dist)
        for (unsigned i = 0; i < con->nr_nodes; i++)
            for (unsigned j = 0; j < con->nr_nodes; j++)
                ASSERT_EQ(dist_os(t, con->node_os[i], con->node_os[j]), con->dist[i][j]);
    free(con);
}

/* A sysfs tree unpacked from a fixture tarball into a fresh directory
 * (tmpfs when there is one: the largest tree has 11,000 files). */
typedef struct tree {
    char dir[64];
    char root[512];
} tree;

static bool tree_unpack(tree *tr, const char *tarball, const char *dirname)
{
    char cmd[1024];
    snprintf(tr->dir, sizeof(tr->dir), "%s/np-hwloc-fsroot-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ASSERT_TRUE(mkdtemp(tr->dir) != NULL);
    snprintf(cmd, sizeof(cmd), "tar -xjf '%s/linux/%s' -C '%s'", HW, tarball, tr->dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(tr->root, sizeof(tr->root), "%s/%s", tr->dir, dirname);
    return access(tr->root, R_OK) == 0;
}

static void tree_remove(tree *tr)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tr->dir);
    ASSERT_EQ(system(cmd), 0);
}

/* Reads an unpacked tree as "live": hwloc's Linux backend reads
 * HWLOC_FSROOT, and HWLOC_COMPONENTS keeps hwloc's x86 backend from adding
 * this machine's CPUID to it (hwloc's own tests do the same). The library
 * itself never reads the environment; hwloc does. */
static np_topology *tree_read(const tree *tr, const char *pci_locality)
{
    np_topology *t = NULL;
    np_error err = {0};
    char msg[1024];
    int rc;

    setenv("HWLOC_FSROOT", tr->root, 1);
    setenv("HWLOC_COMPONENTS", "linux,stop", 1);
    if (pci_locality)
        setenv("HWLOC_PCI_LOCALITY", pci_locality, 1);
    rc = np_topology_read_live(&t, &err);
    unsetenv("HWLOC_FSROOT");
    unsetenv("HWLOC_COMPONENTS");
    unsetenv("HWLOC_PCI_LOCALITY");
    if (rc)
        fprintf(stderr, "%s: %s\n", tr->root, np_error_format(&err, msg, sizeof(msg)));
    ASSERT_EQ(rc, 0);
    return t;
}

static np_topology *read_tree(const char *tarball, const char *dirname, const char *pci_locality)
{
    np_topology *t = NULL;
    tree tr;
    if (tree_unpack(&tr, tarball, dirname))
        t = tree_read(&tr, pci_locality);
    tree_remove(&tr);
    return t;
}

/* 16amd64-8n2c: 8 Opteron packages of 2 cores, one node each. */
static void test_sysfs_amd_8n(void)
{
    np_topology *t = read_tree("16amd64-8n2c.tar.bz2", "16amd64-8n2c", NULL);
    if (!t)
        return;
    check_console(t, "16amd64-8n2c.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(np_topology_nr_cpus(t), 16);
    ASSERT_EQ(node_of_cpu(t, 15), 7);
    np_topology_destroy(t);
}

/* 16ia64-8n2s: Itanium, packages numbered 0,0,512,... (OS numbers repeat,
 * so packages get logical ids and each CPU stays its own core). */
static void test_sysfs_ia64_8n(void)
{
    np_topology *t = read_tree("16ia64-8n2s.tar.bz2", "16ia64-8n2s", NULL);
    if (!t)
        return;
    check_console(t, "16ia64-8n2s.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(dist_os(t, 0, 5), 29);
    ASSERT_TRUE(cpu_os(t, 0)->package_id != cpu_os(t, 1)->package_id);
    for (uint32_t n = 0; n < 8; n++)
        ASSERT_EQ(node_os(t, n)->nr_cores, 2);
    np_topology_destroy(t);
}

/* 48amd64-4pa2n6c-sparse: Magny-Cours, 4 packages of 2 dies, nodes
 * numbered 0,1,2,33,34,45,72,73; each die numbers its cores 0-5. */
static void test_sysfs_amd_sparse(void)
{
    static const uint32_t nodes[8] = {0, 1, 2, 33, 34, 45, 72, 73};
    np_topology *t = read_tree("48amd64-4pa2n6c-sparse.tar.bz2", "48amd64-4d2n6c-sparse", NULL);
    if (!t)
        return;
    check_console(t, "48amd64-4pa2n6c-sparse.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    for (size_t i = 0; i < 8; i++) {
        ASSERT_EQ(np_topology_node(t, i)->os_id, nodes[i]);
        ASSERT_EQ(np_topology_node(t, i)->nr_cpus, 6);
        ASSERT_EQ(np_topology_node(t, i)->nr_cores, 6); /* not 6 pairs of "threads" */
    }
    ASSERT_U64_EQ(node_os(t, 33)->mem_total_bytes, 16 * GIB);
    ASSERT_EQ(node_of_cpu(t, 18), 33);
    ASSERT_EQ(cpu_os(t, 0)->package_id, cpu_os(t, 6)->package_id);
    ASSERT_TRUE(cpu_os(t, 0)->core_id != cpu_os(t, 6)->core_id);
    ASSERT_EQ(cpu_os(t, 6)->thread_idx, 0);
    np_topology_destroy(t);
}

/* offline-cpu0-node0: CPUs 0-3 and 21-23 offline, node 0 offline; CPUs
 * 4,6,...,20 are online but no node holds them any more. */
static void test_sysfs_offline_cpu0(void)
{
    np_topology *t = read_tree("offline-cpu0-node0.tar.bz2", "offline-cpu0-node0", NULL);
    char buf[128];
    if (!t)
        return;
    check_console(t, "offline-cpu0-node0.console");
    ASSERT_EQ(np_topology_nr_nodes(t), 1);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 1);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, 64 * GIB);
    ASSERT_STR_EQ(cpus_of(t, 1, buf, sizeof(buf)), "5,7,9,11,13,15,17,19");
    ASSERT_EQ(node_of_cpu(t, 0), -1);
    ASSERT_EQ(node_of_cpu(t, 4), -1);
    np_topology_destroy(t);
}

/* Both topologies hold the same nodes, CPUs, distances and devices. */
static void check_same(const np_topology *a, const np_topology *b)
{
    ASSERT_EQ(np_topology_nr_nodes(a), np_topology_nr_nodes(b));
    ASSERT_EQ(np_topology_nr_cpus(a), np_topology_nr_cpus(b));
    ASSERT_EQ(np_topology_nr_devices(a), np_topology_nr_devices(b));
    if (np_topology_nr_nodes(a) != np_topology_nr_nodes(b) ||
        np_topology_nr_cpus(a) != np_topology_nr_cpus(b) ||
        np_topology_nr_devices(a) != np_topology_nr_devices(b))
        return;
    for (size_t i = 0; i < np_topology_nr_nodes(a); i++) {
        const np_node_info *x = np_topology_node(a, i), *y = np_topology_node(b, i);
        ASSERT_EQ(x->os_id, y->os_id);
        ASSERT_U64_EQ(x->mem_total_bytes, y->mem_total_bytes);
        ASSERT_EQ(x->nr_cpus, y->nr_cpus);
        ASSERT_EQ(x->nr_cores, y->nr_cores);
        ASSERT_EQ(x->mem_kind, y->mem_kind);
        for (size_t j = 0; j < np_topology_nr_nodes(a); j++)
            ASSERT_EQ(np_topology_distance(a, i, j), np_topology_distance(b, i, j));
    }
    for (size_t i = 0; i < np_topology_nr_cpus(a); i++) {
        const np_cpu_info *x = np_topology_cpu(a, i), *y = np_topology_cpu(b, i);
        ASSERT_EQ(x->os_id, y->os_id);
        ASSERT_EQ(x->node_idx, y->node_idx);
        ASSERT_EQ(x->package_id, y->package_id);
        ASSERT_EQ(x->core_id, y->core_id);
        ASSERT_EQ(x->thread_idx, y->thread_idx);
    }
    for (size_t i = 0; i < np_topology_nr_devices(a); i++) {
        const np_pci_info *x = np_topology_device(a, i), *y = np_topology_device(b, i);
        char bx[16], by[16];
        ASSERT_STR_EQ(np_pci_format_bdf(x, bx, sizeof(bx)), np_pci_format_bdf(y, by, sizeof(by)));
        ASSERT_EQ(x->node_idx, y->node_idx);
        ASSERT_EQ(x->vendor_id, y->vendor_id);
        ASSERT_EQ(x->device_id, y->device_id);
        ASSERT_EQ(x->class_code, y->class_code);
        ASSERT_STR_EQ(x->name, y->name);
    }
}

/* 40intel64-2g2n4c+pcilocality: 4 sockets; sysfs gives the PCI buses no
 * locality, so hwloc's test forces it with HWLOC_PCI_LOCALITY. With hwloc's
 * setting (buses 00-09 near packages 0 and 2, 40-46 near 1 and 3) each bus
 * is local to two nodes: our node is unknown, and the tree reads exactly as
 * hwloc's expected export of it. Pinned to one package's CPUs, the devices
 * get that package's node. */
static void test_sysfs_pci_locality(void)
{
    static const char hwloc_setting[] =
        "# near 1st package;0000:00-09 0x00000055,0x55555555;"
        "# near 2nd package;0000:40-46 0x000000aa,0xaaaaaaaa";
    /* node 0 = CPUs 0,4,...,36, node 1 = CPUs 1,5,...,37 (from the export) */
    static const char per_node[] = "0000:00-09 0x00000011,0x11111111;"
                                   "0000:40-46 0x00000022,0x22222222";
    static const char *const bus0[] = {"0000:00:1f.2", "0000:01:00.0", "0000:02:00.0",
                                       "0000:02:00.1", "0000:03:00.0", "0000:03:00.1",
                                       "0000:09:03.0"};
    np_topology *t = NULL, *x = load_xml(HW "/xml-v2/40intel64-2g2n4c+pcilocality.xml");
    tree tr;

    if (!tree_unpack(&tr, "40intel64-2g2n4c+pcilocality.tar.bz2", "40intel64-2g2n4c+pci"))
        goto out;
    t = tree_read(&tr, hwloc_setting);

    if (t && x)
        check_same(t, x);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 4);
        ASSERT_EQ(np_topology_nr_cpus(t), 40);
        ASSERT_EQ(np_topology_nr_devices(t), 8);
        ASSERT_EQ(dev_node(t, "0000:02:00.0"), -1);
        ASSERT_STR_EQ(dev_at(t, "0000:02:00.0") ? dev_at(t, "0000:02:00.0")->name : NULL, "eth0");
        ASSERT_EQ(dev_node(t, "0000:43:00.0"), -1);
    }
    np_topology_destroy(t);

    t = tree_read(&tr, per_node);
    if (t) {
        for (size_t i = 0; i < sizeof(bus0) / sizeof(bus0[0]); i++)
            ASSERT_EQ(dev_node(t, bus0[i]), 0);
        ASSERT_EQ(dev_node(t, "0000:43:00.0"), 1);
        ASSERT_STR_EQ(dev_at(t, "0000:43:00.0") ? dev_at(t, "0000:43:00.0")->name : NULL, "ib0");
        np_topology_destroy(t);
    }

    /* without any locality the buses hang off the whole machine */
    t = tree_read(&tr, NULL);
    if (t) {
        ASSERT_EQ(dev_node(t, "0000:02:00.0"), -1);
        ASSERT_EQ(np_topology_nr_devices(t), 8);
        np_topology_destroy(t);
    }
out:
    tree_remove(&tr);
    np_topology_destroy(x);
}

/* 32amd64-4s2n4c-cgroup2: a cgroup v2 limits the capturing process to CPUs
 * 0-5 and nodes 0-5. Read "live", the whole machine shows (8 nodes, 32
 * CPUs); hwloc's expected export of the tree holds only the allowed part,
 * which must match ours where both have it. */
static void test_sysfs_cgroup(void)
{
    np_topology *t = read_tree("32amd64-4s2n4c-cgroup2.tar.bz2", "32amd64-4s2n4c-cgroup", NULL);
    np_topology *x = load_xml(HW "/xml-v2/32amd64-4s2n4c-cgroup2.xml");

    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 8);
        ASSERT_EQ(np_topology_nr_cpus(t), 32);
        ASSERT_EQ(node_of_cpu(t, 31), 7);
    }
    if (x) {
        ASSERT_EQ(np_topology_nr_nodes(x), 6);
        ASSERT_EQ(np_topology_nr_cpus(x), 6);
    }
    if (t && x) {
        for (size_t i = 0; i < np_topology_nr_nodes(x); i++) {
            const np_node_info *n = np_topology_node(x, i);
            ASSERT_TRUE(node_os(t, n->os_id) != NULL);
            if (node_os(t, n->os_id))
                ASSERT_U64_EQ(node_os(t, n->os_id)->mem_total_bytes, n->mem_total_bytes);
            for (size_t j = 0; j < np_topology_nr_nodes(x); j++)
                ASSERT_EQ(dist_os(t, n->os_id, np_topology_node(x, j)->os_id),
                          np_topology_distance(x, i, j));
        }
        for (size_t c = 0; c < np_topology_nr_cpus(x); c++) {
            uint32_t os = np_topology_cpu(x, c)->os_id;
            ASSERT_EQ(node_of_cpu(t, os), node_of_cpu(x, os));
        }
    }
    np_topology_destroy(t);
    np_topology_destroy(x);
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
    NP_RUN(test_xml_v3_refused);
    NP_RUN(test_xml_malformed);
    NP_RUN(test_xml_not_nul_terminated);
    NP_RUN(test_xml_crlf);
    NP_RUN(test_open_dispatch);
    NP_RUN(test_synthetic);
    NP_RUN(test_synthetic_errors);
    NP_RUN(test_live); /* before the sysfs tests, which point hwloc elsewhere */
    NP_RUN(test_sysfs_amd_8n);
    NP_RUN(test_sysfs_ia64_8n);
    NP_RUN(test_sysfs_amd_sparse);
    NP_RUN(test_sysfs_offline_cpu0);
    NP_RUN(test_sysfs_pci_locality);
    NP_RUN(test_sysfs_cgroup);
    return np_test_summary();
}
