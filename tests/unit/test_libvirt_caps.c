/*
 * test_libvirt_caps.c - the host topology from libvirt's capabilities XML
 * (np_libvirt_caps_topology): the test driver's capture, a sparse 3-cell
 * host with distances and a CPU-less cell, and refusals naming the line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <numaplace/libvirt.h>

#include "np_test.h"
#include "np_test_error.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void test_test_driver_caps(void)
{
    size_t len = 0;
    char *xml = slurp(NP_FIXTURES_DIR "/libvirt/caps-test-driver.xml", &len);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_TRUE(xml != NULL);
    ASSERT_EQ(np_libvirt_caps_topology(xml, len, "caps", &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 2);
        ASSERT_EQ(np_topology_nr_cpus(t), 16);
        ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, UINT64_C(2097152) * 1024);
        ASSERT_U64_EQ(np_topology_node(t, 1)->mem_total_bytes, UINT64_C(4194304) * 1024);
        size_t idx;
        ASSERT_EQ(np_topology_cpu_idx(t, 12, &idx), 0);
        ASSERT_EQ(np_topology_cpu(t, idx)->node_idx, 1);
        ASSERT_EQ(np_topology_distance(t, 0, 1), 20); /* none given: Linux's 10/20 */
    }
    np_topology_destroy(t);
    free(xml);
}

static void test_sparse_distances(void)
{
    size_t len = 0;
    char *xml = slurp(NP_FIXTURES_DIR "/libvirt/caps-3n-sparse.xml", &len);
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_TRUE(xml != NULL);
    ASSERT_EQ(np_libvirt_caps_topology(xml, len, "caps", &t, &err), 0);
    if (t) {
        ASSERT_EQ(np_topology_nr_nodes(t), 3);
        ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
        ASSERT_EQ(np_topology_node(t, 2)->os_id, 5);
        ASSERT_EQ(np_topology_distance(t, 0, 2), 22);
        ASSERT_EQ(np_topology_distance(t, 1, 2), 16);
        ASSERT_EQ(np_topology_nr_cpus(t), 6);
        ASSERT_EQ(np_topology_cpu(t, 2)->core_id, 0); /* CPU 2: SMT sibling of CPU 0 */
    }
    np_topology_destroy(t);
    free(xml);
}

static void test_refusals(void)
{
    static const struct {
        const char *xml;
        unsigned line;
        const char *msg;
    } bad[] = {
        {"<capabilities><host>", 1, "malformed XML"},
        {"<domain/>", 1, "expected a libvirt <capabilities>"},
        {"<capabilities>\n<host/>\n</capabilities>", 1, "no NUMA topology"},
        {"<capabilities><host><topology><cells>\n<cell><cpus/></cell></cells></topology></host>"
         "</capabilities>",
         2, "<cell> needs id="},
        {"<capabilities><host><topology><cells><cell id='0'>\n<memory unit='parsecs'>1</memory>"
         "</cell></cells></topology></host></capabilities>",
         2, "expected a number of KiB"},
        {"<capabilities><host><topology><cells><cell id='0'><cpus>\n<cpu id='x'/></cpus></cell>"
         "</cells></topology></host></capabilities>",
         2, "<cpu> needs id="},
        {"<capabilities><host><topology><cells><cell id='0'><cpus><cpu id='0'/></cpus></cell>\n"
         "<cell id='1'><cpus><cpu id='0'/></cpus></cell></cells></topology></host></capabilities>",
         2, "CPU 0 is in two cells"},
        {"<capabilities><host><topology><cells><cell id='0'><distances>\n<sibling id='3' "
         "value='10'/></distances><cpus><cpu id='0'/></cpus></cell></cells></topology></host>"
         "</capabilities>",
         2, "no such cell"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_topology *t = NULL;
        np_error err = {0};
        int rc = np_libvirt_caps_topology(bad[i].xml, strlen(bad[i].xml), "caps", &t, &err);
        np_test_expect_error(rc, &err, "caps", bad[i].line, bad[i].msg);
        ASSERT_TRUE(t == NULL);
    }
}

int main(void)
{
    NP_RUN(test_test_driver_caps);
    NP_RUN(test_sparse_distances);
    NP_RUN(test_refusals);
    return np_test_summary();
}
