/*
 * test_xen_translate.c - libxl's types into numaplace's, on synthetic libxl
 * data (no hypervisor needed): the topology from numainfo / cputopology /
 * pcitopology arrays shaped like the emulated 4-node host's, invalid
 * entries, bitmaps both ways, vCPU affinities, per-node memory from a `u`
 * dump, and libxl error codes. Built only with libxen-dev (NP_HAVE_XEN);
 * without it the program reports that it skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"

#ifdef NP_HAVE_XEN
#include "xen/xen_int.h"

#define MiB (UINT64_C(1) << 20)
#define INV LIBXL_NUMAINFO_INVALID_ENTRY

/* The emulated 4-node host of docs/xen.md: 4 nodes x 2 CPUs x 1 GiB. */
static uint32_t dists4[4][4] = {
    {10, 20, 30, 30}, {20, 10, 20, 30}, {30, 20, 10, 20}, {30, 30, 20, 10}};

static void numa4(libxl_numainfo *n)
{
    static const uint64_t free_mib[4] = {946, 1017, 1019, 554};
    for (int i = 0; i < 4; i++) {
        n[i].size = 1024 * MiB;
        n[i].free = free_mib[i] * MiB;
        n[i].num_dists = 4;
        n[i].dists = dists4[i];
    }
}

static void cpus4(libxl_cputopology *c)
{
    for (uint32_t i = 0; i < 8; i++) {
        c[i].core = i % 2;
        c[i].socket = i / 2;
        c[i].node = i / 2;
    }
}

static void test_topology_4node(void)
{
    libxl_numainfo n[4];
    libxl_cputopology c[8];
    libxl_pcitopology p[3] = {{0, 8, 0, 1}, {0, 0, (1 << 3) | 1, INV}, {0, 9, (1 << 3) | 0, 3}};
    np_topology *t = NULL;
    np_error err = {0};
    char buf[64];
    numa4(n);
    cpus4(c);
    ASSERT_EQ(np_xen_topology_from_libxl(n, 4, c, 8, p, 3, &t, &err), 0);
    if (!t) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    ASSERT_STR_EQ(np_topology_name(t), "xen");
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    ASSERT_EQ(np_topology_nr_cpus(t), 8);
    ASSERT_U64_EQ(np_topology_node(t, 3)->mem_free_bytes, 554 * MiB);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, 1024 * MiB);
    ASSERT_EQ(np_topology_distance(t, 0, 2), 30);
    ASSERT_EQ(np_topology_distance(t, 2, 3), 20);
    np_bitmap_format(np_topology_node_cpuset(t, 2), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "4-5");
    ASSERT_EQ(np_topology_cpu(t, 5)->core_id, 1);
    ASSERT_EQ(np_topology_cpu(t, 5)->package_id, 2);
    /* the device without a node is left out, as xl info -n does */
    ASSERT_EQ(np_topology_nr_devices(t), 2);
    ASSERT_EQ(np_topology_device(t, 0)->node_idx, 1);
    ASSERT_EQ(np_topology_device(t, 1)->node_idx, 3);
    ASSERT_EQ(np_topology_device(t, 1)->bus, 9);
    ASSERT_EQ(np_topology_device(t, 1)->dev, 1);
    np_topology_destroy(t);
}

/* Node 1 absent (sparse ids), CPU 3 offline, core ids unknown. */
static void test_topology_invalid_entries(void)
{
    static uint32_t d0[3] = {10, INV, 21}, d2[3] = {21, INV, 10};
    libxl_numainfo n[3] = {{512 * MiB, 100 * MiB, 3, d0},
                           {INV, INV, 3, NULL},
                           {512 * MiB, 512 * MiB, 3, d2}};
    libxl_cputopology c[4] = {{INV, INV, 0}, {INV, INV, 0}, {INV, INV, 2}, {INV, INV, INV}};
    np_topology *t = NULL;
    np_error err = {0};
    size_t idx;
    ASSERT_EQ(np_xen_topology_from_libxl(n, 3, c, 4, NULL, 0, &t, &err), 0);
    if (!t) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
    ASSERT_EQ(np_topology_nr_cpus(t), 3);
    ASSERT_EQ(np_topology_cpu_idx(t, 3, &idx), -ENOENT);
    ASSERT_EQ(np_topology_cpu(t, 0)->core_id, NP_TOPO_ID_UNKNOWN);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 21);
    np_topology_destroy(t);
}

static void expect_topo_error(libxl_numainfo *n, int nn, libxl_cputopology *c, int nc,
                              const char *part)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_xen_topology_from_libxl(n, nn, c, nc, NULL, 0, &t, &err), -EINVAL);
    ASSERT_TRUE(t == NULL);
    ASSERT_CONTAINS(err.msg, part);
}

static void test_topology_bad(void)
{
    libxl_numainfo n[4];
    libxl_cputopology c[8];
    numa4(n);
    cpus4(c);
    expect_topo_error(n, 0, c, 8, "no NUMA nodes");
    expect_topo_error(n, 4, c, 0, "no CPUs");
    c[7].node = 6;
    expect_topo_error(n, 4, c, 8, "CPU 7 is on node 6");
    cpus4(c);
    libxl_pcitopology bad_dev = {0, 1, 0, 9};
    np_topology *t0 = NULL;
    np_error err0 = {0};
    ASSERT_EQ(np_xen_topology_from_libxl(n, 4, c, 8, &bad_dev, 1, &t0, &err0), -EINVAL);
    ASSERT_CONTAINS(err0.msg, "PCI device 0 is on node 9");
    cpus4(c);
    n[1].free = n[1].size + 1;
    expect_topo_error(n, 4, c, 8, "free memory");
    numa4(n);
    n[2].num_dists = 2;
    expect_topo_error(n, 4, c, 8, "no distance from node 2 to node 2");
    numa4(n);
    uint32_t asym[4] = {20, 10, 20, 30}; /* row 0 says 0->1 is local-ish */
    n[0].dists = asym;
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_xen_topology_from_libxl(n, 4, c, 8, NULL, 0, &t, &err), -EINVAL);
    ASSERT_STR_EQ(err.origin, "xen");
    np_topology_destroy(t);
}

static void test_bitmaps(void)
{
    uint8_t bytes[2] = {0x31, 0x80}; /* CPUs 0, 4, 5, 15 */
    libxl_bitmap lb = {2, bytes}, back = {0, NULL};
    np_bitmap *m = NULL;
    char buf[64];
    ASSERT_EQ(np_xen_bitmap_to_np(&lb, &m), 0);
    np_bitmap_format(m, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "0,4-5,15");
    ASSERT_EQ(np_xen_bitmap_from_np(m, 16, &back), 0);
    ASSERT_EQ(back.size, 2);
    ASSERT_EQ(back.map[0], 0x31);
    ASSERT_EQ(back.map[1], 0x80);
    free(back.map);
    ASSERT_EQ(np_xen_bitmap_from_np(m, 8, &back), -ERANGE); /* CPU 15 on an 8-CPU host */
    ASSERT_TRUE(back.map == NULL);
    np_bitmap_destroy(m);
}

static void test_vcpu(void)
{
    libxl_numainfo n[4];
    libxl_cputopology c[8];
    np_topology *t = NULL;
    np_error err = {0};
    uint8_t all = 0xff, node2 = 0x30;
    libxl_vcpuinfo vi;
    np_backend_vcpu v;
    char buf[64];
    numa4(n);
    cpus4(c);
    ASSERT_EQ(np_xen_topology_from_libxl(n, 4, c, 8, NULL, 0, &t, &err), 0);
    if (!t)
        return;
    memset(&vi, 0, sizeof(vi));
    vi.vcpuid = 0;
    vi.cpu = 5;
    vi.online = true;
    vi.vcpu_time = 18400000000ull;
    vi.cpumap = (libxl_bitmap){1, &all};
    vi.cpumap_soft = (libxl_bitmap){1, &node2};
    ASSERT_EQ(np_xen_vcpu_from_libxl(&vi, t, &v), 0);
    ASSERT_TRUE(v.hard == NULL); /* "all" */
    ASSERT_TRUE(v.soft != NULL);
    if (v.soft) {
        np_bitmap_format(v.soft, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, "4-5");
    }
    ASSERT_EQ(v.last_cpu_os_id, 5);
    ASSERT_U64_EQ(v.cpu_time_ns, 18400000000ull);
    np_bitmap_destroy(v.soft);
    /* hard pinned to node 2, soft all -> no preference; offline -> no CPU */
    vi.cpumap = (libxl_bitmap){1, &node2};
    vi.cpumap_soft = (libxl_bitmap){1, &all};
    vi.online = false;
    ASSERT_EQ(np_xen_vcpu_from_libxl(&vi, t, &v), 0);
    ASSERT_TRUE(v.hard != NULL && v.soft == NULL);
    ASSERT_EQ(v.last_cpu_os_id, -1);
    np_bitmap_destroy(v.hard);
    np_topology_destroy(t);
}

static void test_guest_node_mem(void)
{
    const char *text = "(XEN) 'u' pressed -> dumping numa info (now = 1)\n"
                       "(XEN) NODE0 start->0 size->262144 free->1000\n"
                       "(XEN) NODE2 start->262144 size->262144 free->1000\n"
                       "(XEN) Memory location of each domain:\n"
                       "(XEN) Domain 4 (total: 32768):\n"
                       "(XEN)     Node 0: 16384\n"
                       "(XEN)     Node 2: 16384\n";
    static uint32_t d0[3] = {10, INV, 20}, d2[3] = {20, INV, 10};
    libxl_numainfo n[3] = {{1024 * MiB, 4 * MiB, 3, d0},
                           {INV, INV, 3, NULL},
                           {1024 * MiB, 4 * MiB, 3, d2}};
    libxl_cputopology c[2] = {{0, 0, 0}, {0, 1, 2}};
    np_xen_numa_dump *d = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    uint64_t mem[2] = {7, 7};
    ASSERT_EQ(np_xen_topology_from_libxl(n, 3, c, 2, NULL, 0, &t, &err), 0);
    ASSERT_EQ(np_xen_numa_dump_parse(text, strlen(text), "t", &d, &err), 0);
    if (!t || !d)
        goto out;
    ASSERT_EQ(np_xen_guest_node_mem(d, 4, t, mem), 0);
    ASSERT_U64_EQ(mem[0], 16384 * NP_XEN_PAGE_BYTES);
    ASSERT_U64_EQ(mem[1], 64 * MiB); /* node os_id 2 is node_idx 1 */
    ASSERT_EQ(np_xen_guest_node_mem(d, 5, t, mem), -ENOENT);
out:
    np_xen_numa_dump_destroy(d);
    np_topology_destroy(t);
}

static void test_errors(void)
{
    ASSERT_EQ(np_xen_errno(0), 0);
    ASSERT_EQ(np_xen_errno(ERROR_DOMAIN_NOTFOUND), -ENOENT);
    ASSERT_EQ(np_xen_errno(ERROR_NOMEM), -ENOMEM);
    ASSERT_EQ(np_xen_errno(ERROR_INVAL), -EINVAL);
    ASSERT_EQ(np_xen_errno(ERROR_FAIL), -EIO);
    ASSERT_EQ(np_xen_errno(-999), -EIO);
    ASSERT_STR_EQ(np_xen_error_name(ERROR_DOMAIN_NOTFOUND), "ERROR_DOMAIN_NOTFOUND");
    ASSERT_STR_EQ(np_xen_error_name(-999), "ERROR_UNKNOWN");
}

int main(void)
{
    NP_RUN(test_topology_4node);
    NP_RUN(test_topology_invalid_entries);
    NP_RUN(test_topology_bad);
    NP_RUN(test_bitmaps);
    NP_RUN(test_vcpu);
    NP_RUN(test_guest_node_mem);
    NP_RUN(test_errors);
    return np_test_summary();
}
#else
int main(void)
{
    return np_test_skip("built without libxen-dev");
}
#endif
