/* The built-in named hosts: every host's shape against the figures
 * docs/hosts.md documents, properties every host must have, and the error
 * for a name that is not built in. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <numaplace/topology.h>

#include "np_test.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
/* Model hosts leave 1/64 of a node to the kernel's memmap (docs/hosts.md). */
#define MEMMAP_DIVISOR 64u

static np_topology *get(const char *name)
{
    np_topology *t = NULL;
    np_error err = {0};
    int rc = np_topology_builtin(name, &t, &err);
    ASSERT_EQ(rc, 0);
    if (rc < 0)
        fprintf(stderr, "builtin:%s: %s\n", name, err.msg);
    return t;
}

/* Largest thread index + 1 over the CPUs of a node: the SMT width. */
static uint32_t smt_width(const np_topology *t, size_t node_idx)
{
    uint32_t w = 0;
    for (size_t i = 0; i < np_topology_nr_cpus(t); i++) {
        const np_cpu_info *c = np_topology_cpu(t, i);
        if (c->node_idx == node_idx && c->thread_idx + 1 > w)
            w = c->thread_idx + 1;
    }
    return w;
}

static void expect_cpuset(const np_topology *t, size_t node_idx, const char *want)
{
    char buf[256];
    np_bitmap_format(np_topology_node_cpuset(t, node_idx), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, want);
}

/* Every CPU node has `cpus` CPUs as `cores` cores of `smt` threads. */
static void expect_cpu_nodes(const np_topology *t, size_t first, size_t last, uint32_t cores,
                             uint32_t smt)
{
    for (size_t i = first; i <= last; i++) {
        const np_node_info *n = np_topology_node(t, i);
        ASSERT_EQ(n->nr_cpus, cores * smt);
        ASSERT_EQ(n->nr_cores, cores);
        ASSERT_EQ(smt_width(t, i), smt);
    }
}

/* Model memory: uniform total, 1/64 for the memmap, `reserved` on node 0. */
static void expect_model_memory(const np_topology *t, uint64_t per_node, uint64_t reserved)
{
    for (size_t i = 0; i < np_topology_nr_nodes(t); i++) {
        const np_node_info *n = np_topology_node(t, i);
        uint64_t free_bytes = per_node - per_node / MEMMAP_DIVISOR - (i == 0 ? reserved : 0);
        ASSERT_U64_EQ(n->mem_total_bytes, per_node);
        ASSERT_U64_EQ(n->mem_free_bytes, free_bytes);
    }
}

/* Every pair of distinct nodes is one of `n` values. */
static void expect_distance_values(const np_topology *t, const uint32_t *values, size_t n)
{
    size_t nodes = np_topology_nr_nodes(t);
    bool seen[8] = {false};
    for (size_t i = 0; i < nodes; i++) {
        for (size_t j = 0; j < nodes; j++) {
            if (i == j)
                continue;
            uint32_t d = np_topology_distance(t, i, j);
            bool known = false;
            for (size_t k = 0; k < n; k++) {
                if (values[k] == d) {
                    known = true;
                    seen[k] = true;
                }
            }
            ASSERT_TRUE(known);
        }
    }
    for (size_t k = 0; k < n; k++)
        ASSERT_TRUE(seen[k]);
}

/* The device at `bdf` exists and sits on the node whose os_id is given. */
static void expect_device(const np_topology *t, const char *bdf, uint32_t node_os_id,
                          uint32_t class_code)
{
    size_t idx = 0, nidx = 0;
    ASSERT_EQ(np_topology_device_find(t, bdf, &idx), 0);
    ASSERT_EQ(np_topology_node_idx(t, node_os_id, &nidx), 0);
    const np_pci_info *d = np_topology_device(t, idx);
    if (!d)
        return;
    ASSERT_EQ(d->node_idx, (int32_t)nidx);
    ASSERT_EQ(d->class_code, class_code);
    ASSERT_TRUE(d->name[0] != '\0');
}

/* ---- properties of every host ---------------------------------------------- */

static void test_names_unique_and_plain(void)
{
    size_t n = np_topology_builtin_count();
    ASSERT_TRUE(n >= 9);
    for (size_t i = 0; i < n; i++) {
        const char *a = np_topology_builtin_name(i);
        ASSERT_TRUE(a && *a);
        if (!a)
            continue;
        for (const char *p = a; *p; p++)
            ASSERT_TRUE((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
        for (size_t j = i + 1; j < n; j++)
            ASSERT_TRUE(strcmp(a, np_topology_builtin_name(j)) != 0);
    }
    ASSERT_TRUE(np_topology_builtin_name(n) == NULL);
    ASSERT_TRUE(np_topology_builtin_summary(n) == NULL);
}

/* Summaries open with the node and CPU counts of the host they describe. */
static void test_summaries_match_hosts(void)
{
    for (size_t i = 0; i < np_topology_builtin_count(); i++) {
        const char *s = np_topology_builtin_summary(i);
        ASSERT_TRUE(s && strlen(s) > 20);
        np_topology *t = get(np_topology_builtin_name(i));
        if (!t || !s)
            continue;
        char want[64];
        snprintf(want, sizeof(want), "%zu nodes, %zu CPUs, ", np_topology_nr_nodes(t),
                 np_topology_nr_cpus(t));
        ASSERT_TRUE(strncmp(s, want, strlen(want)) == 0);
        if (strncmp(s, want, strlen(want)) != 0)
            fprintf(stderr, "  summary \"%s\" does not start with \"%s\"\n", s, want);
        np_topology_destroy(t);
    }
}

static void check_host_invariants(const char *name)
{
    np_topology *t = get(name);
    if (!t)
        return;
    char want_name[64];
    snprintf(want_name, sizeof(want_name), "builtin:%s", name);
    ASSERT_STR_EQ(np_topology_name(t), want_name);

    size_t n = np_topology_nr_nodes(t);
    uint64_t mem = 0;
    for (size_t i = 0; i < n; i++) {
        const np_node_info *node = np_topology_node(t, i);
        ASSERT_TRUE(node->mem_free_bytes <= node->mem_total_bytes);
        ASSERT_EQ(np_bitmap_count(np_topology_node_cpuset(t, i)), node->nr_cpus);
        mem += node->mem_total_bytes;
        if (i > 0)
            ASSERT_TRUE(np_topology_node(t, i - 1)->os_id < node->os_id);
        for (size_t j = 0; j < n; j++) {
            ASSERT_EQ(np_topology_distance(t, i, j), np_topology_distance(t, j, i));
            if (i != j)
                ASSERT_TRUE(np_topology_distance(t, i, j) > np_topology_distance(t, i, i));
        }
        ASSERT_EQ(np_topology_distance(t, i, i), 10);
    }
    ASSERT_U64_EQ(np_topology_mem_total_bytes(t), mem);
    for (size_t c = 0; c < np_topology_nr_cpus(t); c++) {
        const np_cpu_info *cpu = np_topology_cpu(t, c);
        ASSERT_TRUE(np_bitmap_test(np_topology_node_cpuset(t, cpu->node_idx), cpu->os_id));
        ASSERT_TRUE(cpu->package_id != NP_TOPO_ID_UNKNOWN);
    }
    for (size_t d = 0; d < np_topology_nr_devices(t); d++)
        ASSERT_TRUE(np_topology_device(t, d)->node_idx < (int32_t)n);
    np_topology_destroy(t);
}

static void test_every_host_is_consistent(void)
{
    for (size_t i = 0; i < np_topology_builtin_count(); i++)
        check_host_invariants(np_topology_builtin_name(i));
}

static void test_unknown_name(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_builtin("3s-9n", &t, &err), -EINVAL);
    ASSERT_TRUE(t == NULL);
    ASSERT_STR_EQ(err.origin, "builtin:3s-9n");
    ASSERT_STR_EQ(err.msg,
                  "unknown built-in host '3s-9n'; `numaplace topology --list` names them");
    /* names are exact: no prefix or case folding */
    ASSERT_EQ(np_topology_builtin("2s", &t, &err), -EINVAL);
    ASSERT_EQ(np_topology_builtin("2S-2N", &t, &err), -EINVAL);
    ASSERT_EQ(np_topology_builtin("", &t, &err), -EINVAL);
    ASSERT_STR_EQ(err.origin, "builtin:");
    ASSERT_TRUE(t == NULL);
}

static void test_open_builtin_source(void)
{
    np_topology *t = NULL;
    np_error err = {0};
    ASSERT_EQ(np_topology_open("builtin:small-2n", NP_TOPO_FMT_AUTO, &t, &err), 0);
    if (t)
        ASSERT_EQ(np_topology_nr_nodes(t), 2);
    np_topology_destroy(t);
    t = NULL;
    ASSERT_EQ(np_topology_open("builtin:nope", NP_TOPO_FMT_AUTO, &t, &err), -EINVAL);
    ASSERT_STR_EQ(err.origin, "builtin:nope");
}

/* Two builds are equal, and independent objects. */
static void test_builds_are_repeatable(void)
{
    np_topology *a = get("epyc-8n"), *b = get("epyc-8n");
    if (!a || !b)
        goto out;
    ASSERT_TRUE(a != b);
    ASSERT_EQ(np_topology_nr_cpus(a), np_topology_nr_cpus(b));
    for (size_t i = 0; i < np_topology_nr_nodes(a); i++) {
        ASSERT_TRUE(np_bitmap_equal(np_topology_node_cpuset(a, i), np_topology_node_cpuset(b, i)));
        ASSERT_U64_EQ(np_topology_node(a, i)->mem_free_bytes,
                      np_topology_node(b, i)->mem_free_bytes);
    }
out:
    np_topology_destroy(a);
    np_topology_destroy(b);
}

/* ---- each host against docs/hosts.md ------------------------------------------ */

static void test_small_2n(void)
{
    np_topology *t = get("small-2n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_EQ(np_topology_nr_cpus(t), 4);
    expect_cpu_nodes(t, 0, 1, 2, 1);
    expect_model_memory(t, 4 * GIB, 512 * MIB);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 20);
    expect_cpuset(t, 0, "0-1");
    expect_cpuset(t, 1, "2-3");
    ASSERT_EQ(np_topology_nr_devices(t), 0);
    ASSERT_TRUE(!np_topology_has_memattrs(t));
    np_topology_destroy(t);
}

static void test_sparse_3n(void)
{
    np_topology *t = get("sparse-3n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 3);
    ASSERT_EQ(np_topology_nr_cpus(t), 12);
    ASSERT_EQ(np_topology_node(t, 0)->os_id, 0);
    ASSERT_EQ(np_topology_node(t, 1)->os_id, 2);
    ASSERT_EQ(np_topology_node(t, 2)->os_id, 5);
    size_t idx = 9;
    ASSERT_EQ(np_topology_node_idx(t, 5, &idx), 0);
    ASSERT_EQ(idx, 2);
    ASSERT_EQ(np_topology_node_idx(t, 1, &idx), -ENOENT);
    expect_cpu_nodes(t, 0, 2, 2, 2);
    /* node os 2 has CPUs and no memory */
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_total_bytes, 0);
    ASSERT_EQ(np_topology_node(t, 1)->nr_cpus, 4);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, 8 * GIB);
    ASSERT_U64_EQ(np_topology_node(t, 2)->mem_total_bytes, 8 * GIB);
    /* a line 0 - 2 - 5 */
    ASSERT_EQ(np_topology_distance(t, 0, 1), 16);
    ASSERT_EQ(np_topology_distance(t, 1, 2), 16);
    ASSERT_EQ(np_topology_distance(t, 0, 2), 22);
    expect_cpuset(t, 0, "0-1,6-7");
    expect_cpuset(t, 1, "2-3,8-9");
    expect_cpuset(t, 2, "4-5,10-11");
    expect_device(t, "0000:40:00.0", 5, 0x020000);
    np_topology_destroy(t);
}

static void test_2s_2n(void)
{
    np_topology *t = get("2s-2n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 2);
    ASSERT_EQ(np_topology_nr_cpus(t), 80);
    expect_cpu_nodes(t, 0, 1, 20, 2);
    expect_model_memory(t, 192 * GIB, 4 * GIB);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 21);
    expect_cpuset(t, 0, "0-19,40-59");
    expect_cpuset(t, 1, "20-39,60-79");
    /* CPU 40 is the second thread of CPU 0's core */
    size_t c0 = 0, c40 = 0;
    ASSERT_EQ(np_topology_cpu_idx(t, 0, &c0), 0);
    ASSERT_EQ(np_topology_cpu_idx(t, 40, &c40), 0);
    ASSERT_EQ(np_topology_cpu(t, c40)->core_id, np_topology_cpu(t, c0)->core_id);
    ASSERT_EQ(np_topology_cpu(t, c40)->thread_idx, 1);
    ASSERT_EQ(np_topology_nr_devices(t), 3);
    expect_device(t, "0000:3b:00.0", 0, 0x010802);
    expect_device(t, "0000:af:00.0", 1, 0x020000);
    expect_device(t, "0000:af:00.1", 1, 0x020000);
    np_topology_destroy(t);
}

static void test_4s_4n(void)
{
    np_topology *t = get("4s-4n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    ASSERT_EQ(np_topology_nr_cpus(t), 224);
    expect_cpu_nodes(t, 0, 3, 28, 2);
    expect_model_memory(t, 192 * GIB, 4 * GIB);
    const uint32_t d[] = {21};
    expect_distance_values(t, d, 1); /* fully connected */
    expect_cpuset(t, 3, "84-111,196-223");
    expect_device(t, "0000:98:00.0", 2, 0x020000);
    expect_device(t, "0000:d8:00.0", 3, 0x010802);
    np_topology_destroy(t);
}

static void test_epyc_8n(void)
{
    static const uint64_t size_mib[] = {63733, 64502, 64456, 64490, 64502, 64502, 64502, 64428};
    np_topology *t = get("epyc-8n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(np_topology_nr_cpus(t), 256);
    expect_cpu_nodes(t, 0, 7, 16, 2);
    for (size_t i = 0; i < 8; i++)
        ASSERT_U64_EQ(np_topology_node(t, i)->mem_total_bytes, size_mib[i] * MIB);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_free_bytes, UINT64_C(62780) * MIB);
    const uint32_t d[] = {12, 32};
    expect_distance_values(t, d, 2);
    ASSERT_EQ(np_topology_distance(t, 0, 3), 12);
    ASSERT_EQ(np_topology_distance(t, 3, 4), 32);
    ASSERT_EQ(np_topology_distance(t, 4, 7), 12);
    /* four nodes per package */
    size_t c = 0;
    ASSERT_EQ(np_topology_cpu_idx(t, 63, &c), 0);
    ASSERT_EQ(np_topology_cpu(t, c)->package_id, 0);
    ASSERT_EQ(np_topology_cpu_idx(t, 64, &c), 0);
    ASSERT_EQ(np_topology_cpu(t, c)->package_id, 1);
    expect_cpuset(t, 0, "0-15,128-143");
    expect_cpuset(t, 7, "112-127,240-255");
    ASSERT_EQ(np_topology_nr_devices(t), 6);
    expect_device(t, "0000:21:00.0", 1, 0x030200);
    expect_device(t, "0000:61:00.0", 3, 0x030200);
    expect_device(t, "0000:a1:00.0", 5, 0x030200);
    expect_device(t, "0000:e1:00.0", 7, 0x030200);
    expect_device(t, "0000:01:00.0", 0, 0x020000);
    expect_device(t, "0000:81:00.0", 4, 0x010802);
    np_topology_destroy(t);
}

static void test_opteron_8n(void)
{
    /* the captured SLIT, row by row: how many 16s each node has */
    static const int sixteens[] = {4, 4, 6, 4, 6, 4, 4, 4};
    np_topology *t = get("opteron-8n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 8);
    ASSERT_EQ(np_topology_nr_cpus(t), 48);
    expect_cpu_nodes(t, 0, 7, 6, 1);
    ASSERT_U64_EQ(np_topology_node(t, 0)->mem_total_bytes, UINT64_C(8060) * MIB);
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_total_bytes, UINT64_C(16160) * MIB);
    ASSERT_U64_EQ(np_topology_node(t, 3)->mem_free_bytes, UINT64_C(15512) * MIB);
    const uint32_t d[] = {16, 22};
    expect_distance_values(t, d, 2);
    ASSERT_EQ(np_topology_distance(t, 0, 3), 22);
    ASSERT_EQ(np_topology_distance(t, 1, 2), 22);
    ASSERT_EQ(np_topology_distance(t, 2, 7), 16);
    ASSERT_EQ(np_topology_distance(t, 5, 7), 16);
    for (size_t i = 0; i < 8; i++) {
        int n16 = 0;
        for (size_t j = 0; j < 8; j++)
            n16 += np_topology_distance(t, i, j) == 16;
        ASSERT_EQ(n16, sixteens[i]);
    }
    expect_cpuset(t, 5, "30-35");
    /* two dies per package */
    size_t c = 0;
    ASSERT_EQ(np_topology_cpu_idx(t, 11, &c), 0);
    ASSERT_EQ(np_topology_cpu(t, c)->package_id, 0);
    ASSERT_EQ(np_topology_cpu(t, c)->core_id, 11);
    ASSERT_EQ(np_topology_cpu_idx(t, 12, &c), 0);
    ASSERT_EQ(np_topology_cpu(t, c)->package_id, 1);
    np_topology_destroy(t);
}

static void test_cxl_4n(void)
{
    np_topology *t = get("cxl-4n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 4);
    ASSERT_EQ(np_topology_nr_cpus(t), 208);
    expect_cpu_nodes(t, 0, 1, 52, 2);
    for (size_t i = 2; i < 4; i++) {
        ASSERT_EQ(np_topology_node(t, i)->nr_cpus, 0);
        ASSERT_EQ(np_topology_node(t, i)->mem_kind, NP_MEM_CXL);
    }
    ASSERT_EQ(np_topology_node(t, 0)->mem_kind, NP_MEM_DRAM);
    ASSERT_U64_EQ(np_topology_node(t, 2)->mem_total_bytes, 64 * GIB);
    ASSERT_U64_EQ(np_topology_node(t, 3)->mem_total_bytes, 128 * GIB);
    ASSERT_U64_EQ(np_topology_node(t, 1)->mem_free_bytes, UINT64_C(61391) * MIB);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 21);
    ASSERT_EQ(np_topology_distance(t, 0, 2), 14);
    ASSERT_EQ(np_topology_distance(t, 0, 3), 24);
    ASSERT_EQ(np_topology_distance(t, 1, 3), 14);
    ASSERT_EQ(np_topology_distance(t, 2, 3), 26);
    expect_cpuset(t, 0, "0-51,104-155");
    expect_cpuset(t, 1, "52-103,156-207");
    expect_cpuset(t, 2, "");
    expect_device(t, "0000:38:00.0", 0, 0x050210);
    expect_device(t, "0000:b8:00.0", 1, 0x050210);

    ASSERT_TRUE(np_topology_has_memattrs(t));
    np_memattr dram = {0}, dram_far = {0}, cxl = {0}, cxl_far = {0}, none = {0};
    ASSERT_EQ(np_topology_memattr(t, 0, 0, &dram), 0);
    ASSERT_EQ(np_topology_memattr(t, 1, 0, &dram_far), 0);
    ASSERT_EQ(np_topology_memattr(t, 0, 2, &cxl), 0);
    ASSERT_EQ(np_topology_memattr(t, 1, 2, &cxl_far), 0);
    ASSERT_U64_EQ(dram.bandwidth_mbps, 307200);
    ASSERT_U64_EQ(dram.latency_ns, 128);
    ASSERT_U64_EQ(cxl.bandwidth_mbps, 36000);
    ASSERT_U64_EQ(cxl.latency_ns, 256);
    /* farther is slower and thinner, as the SLIT orders them */
    ASSERT_TRUE(dram_far.latency_ns > dram.latency_ns);
    ASSERT_TRUE(cxl_far.latency_ns > cxl.latency_ns);
    ASSERT_TRUE(cxl_far.bandwidth_mbps < cxl.bandwidth_mbps);
    ASSERT_TRUE(cxl.bandwidth_mbps < dram_far.bandwidth_mbps);
    /* symmetric between the sockets */
    np_memattr m = {0};
    ASSERT_EQ(np_topology_memattr(t, 1, 3, &m), 0);
    ASSERT_U64_EQ(m.latency_ns, cxl.latency_ns);
    /* a CPU-less node initiates nothing */
    ASSERT_EQ(np_topology_memattr(t, 2, 0, &none), -ENODATA);
    np_topology_destroy(t);
}

static void test_big_32n(void)
{
    np_topology *t = get("big-32n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 32);
    ASSERT_EQ(np_topology_nr_cpus(t), 1792);
    expect_cpu_nodes(t, 0, 31, 28, 2);
    expect_model_memory(t, 384 * GIB, 8 * GIB);
    const uint32_t d[] = {21, 31};
    expect_distance_values(t, d, 2);
    ASSERT_EQ(np_topology_distance(t, 0, 3), 21);  /* same chassis */
    ASSERT_EQ(np_topology_distance(t, 3, 4), 31);  /* next chassis */
    ASSERT_EQ(np_topology_distance(t, 28, 31), 21);
    expect_cpuset(t, 31, "868-895,1764-1791");
    expect_device(t, "0000:18:00.0", 0, 0x020000);
    expect_device(t, "0007:18:00.0", 28, 0x020000);
    np_topology_destroy(t);
}

static void test_big_256n(void)
{
    np_topology *t = get("big-256n");
    if (!t)
        return;
    ASSERT_EQ(np_topology_nr_nodes(t), 256);
    ASSERT_EQ(np_topology_nr_cpus(t), 8192);
    ASSERT_EQ(np_topology_cpu_id_limit(t), 8192);
    expect_cpu_nodes(t, 0, 255, 16, 2);
    expect_model_memory(t, 256 * GIB, 16 * GIB);
    ASSERT_U64_EQ(np_topology_mem_total_bytes(t), UINT64_C(64) << 40);
    const uint32_t d[] = {20, 30, 40, 50};
    expect_distance_values(t, d, 4);
    ASSERT_EQ(np_topology_distance(t, 0, 1), 20);     /* same blade */
    ASSERT_EQ(np_topology_distance(t, 0, 15), 30);    /* same chassis */
    ASSERT_EQ(np_topology_distance(t, 15, 16), 40);   /* same rack */
    ASSERT_EQ(np_topology_distance(t, 63, 64), 50);   /* other rack */
    ASSERT_EQ(np_topology_distance(t, 254, 255), 20);
    /* distances grow with hop level from every node, not just node 0 */
    for (size_t i = 0; i < 256; i += 37)
        for (size_t j = 0; j < 256; j++)
            if (i / 64 != j / 64)
                ASSERT_EQ(np_topology_distance(t, i, j), 50);
    expect_cpuset(t, 255, "4080-4095,8176-8191");
    expect_device(t, "0000:01:00.0", 0, 0x020000);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_names_unique_and_plain);
    NP_RUN(test_summaries_match_hosts);
    NP_RUN(test_every_host_is_consistent);
    NP_RUN(test_unknown_name);
    NP_RUN(test_open_builtin_source);
    NP_RUN(test_builds_are_repeatable);
    NP_RUN(test_small_2n);
    NP_RUN(test_sparse_3n);
    NP_RUN(test_2s_2n);
    NP_RUN(test_4s_4n);
    NP_RUN(test_epyc_8n);
    NP_RUN(test_opteron_8n);
    NP_RUN(test_cxl_4n);
    NP_RUN(test_big_32n);
    NP_RUN(test_big_256n);
    return np_test_summary();
}
