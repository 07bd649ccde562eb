/*
 * test_dom0.c - Dom0 boot option recommendations on hand-built hosts:
 * where the IO devices sit decides dom0_nodes, and the sizing rules and
 * options show up in the command line and the reasons.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/emit.h>

#include "np_test.h"

#define GIB (UINT64_C(1) << 30)

#define CLASS_NVME 0x010802u
#define CLASS_SATA 0x010601u
#define CLASS_ETHERNET 0x020000u
#define CLASS_USB 0x0c0330u
#define CLASS_VGA 0x030000u
#define CLASS_BRIDGE 0x060400u

typedef struct dev_at {
    uint32_t node_os; /* NP_TOPO_ID_UNKNOWN for none */
    uint32_t class_code;
    uint8_t bus;
} dev_at;

/* Nodes with the given os_ids, `cpus` CPUs each (0 = CPU-less) and `mem`
 * bytes each; distances 10/21 unless given all; devices as listed. */
static np_topology *host(const uint32_t *nodes, size_t nr, const uint32_t *cpus, uint64_t mem,
                         const dev_at *devs, size_t nr_devs)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error e = {0};
    uint32_t cpu = 0;
    if (np_topology_builder_create(&b) < 0)
        return NULL;
    for (size_t i = 0; i < nr; i++) {
        np_topology_builder_add_node(b, nodes[i], mem, mem);
        for (uint32_t c = 0; c < cpus[i]; c++, cpu++)
            np_topology_builder_add_cpu(b, cpu, nodes[i], (uint32_t)i, c);
    }
    for (size_t i = 0; i < nr_devs; i++) {
        np_pci_info d = {.domain = 0, .bus = devs[i].bus, .class_code = devs[i].class_code};
        snprintf(d.name, sizeof(d.name), "dev%zu", i);
        np_topology_builder_add_device(b, &d, devs[i].node_os);
    }
    if (np_topology_builder_finish(b, &t, &e) < 0)
        fprintf(stderr, "host: %s\n", e.msg);
    np_topology_builder_destroy(b);
    return t;
}

static bool has_reason(const np_dom0_rec *r, const char *text)
{
    for (size_t i = 0; i < r->nr_reasons; i++)
        if (strstr(r->reasons[i], text))
            return true;
    return false;
}

static void test_devices_on_node1(void)
{
    uint32_t nodes[] = {0, 1}, cpus[] = {16, 16};
    dev_at devs[] = {{1, CLASS_NVME, 0x41}, {1, CLASS_ETHERNET, 0x42}, {0, CLASS_USB, 0x01},
                     {0, CLASS_VGA, 0x02}, {0, CLASS_BRIDGE, 0x03}};
    np_topology *t = host(nodes, 2, cpus, 64 * GIB, devs, 5);
    np_dom0_rec r;
    ASSERT_TRUE(t != NULL);
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.nr_nodes, 1);
    ASSERT_EQ(r.nodes_os[0], 1);
    ASSERT_EQ(r.max_vcpus, 4);          /* 16 / 4 */
    ASSERT_U64_EQ(r.mem_bytes, 3 * GIB); /* 1 GiB + 128 GiB / 64 */
    ASSERT_TRUE(!r.relaxed && !r.vcpus_pin);
    ASSERT_STR_EQ(r.cmdline, "dom0_nodes=1 dom0_max_vcpus=4 dom0_mem=3072M,max:3072M");
    ASSERT_TRUE(has_reason(&r, "node 1 carries the most Dom0 IO (score 8"));
    ASSERT_TRUE(has_reason(&r, "strict (Xen's default"));
    ASSERT_TRUE(has_reason(&r, "ACPI proximity domains"));
    np_topology_destroy(t);
}

static void test_no_locality(void)
{
    uint32_t nodes[] = {0, 1}, cpus[] = {4, 4};
    dev_at devs[] = {{NP_TOPO_ID_UNKNOWN, CLASS_ETHERNET, 0x05}};
    np_topology *t = host(nodes, 2, cpus, 4 * GIB, devs, 1);
    np_dom0_rec r;
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.nr_nodes, 1);
    ASSERT_EQ(r.nodes_os[0], 0);
    ASSERT_EQ(r.max_vcpus, 2);            /* 4 / 4 = 1, raised to the minimum 2 */
    ASSERT_U64_EQ(r.mem_bytes, 1280 * (GIB >> 10)); /* 1 GiB + 8/64 GiB, up to 256 MiB */
    ASSERT_TRUE(has_reason(&r, "1 IO device(s) have no known node"));
    ASSERT_TRUE(has_reason(&r, "no IO device with a known node: node 0"));
    np_topology_destroy(t);
}

static void test_split_io_takes_two_nodes(void)
{
    uint32_t nodes[] = {0, 1, 2, 3}, cpus[] = {8, 8, 8, 8};
    dev_at devs[] = {{2, CLASS_ETHERNET, 0x10}, {1, CLASS_NVME, 0x20}, {3, CLASS_USB, 0x30},
                     {0, CLASS_SATA, 0x40}};
    np_topology *t = host(nodes, 4, cpus, 32 * GIB, devs, 4);
    np_dom0_rec r;
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    /* NIC (4) on 2 and NVMe (4) on 1 tie: both, ascending; SATA (3) on 0
     * would also reach half, but two nodes is the most. */
    ASSERT_EQ(r.nr_nodes, 2);
    ASSERT_EQ(r.nodes_os[0], 1);
    ASSERT_EQ(r.nodes_os[1], 2);
    ASSERT_EQ(r.max_vcpus, 4); /* 16 CPUs / 4 */
    ASSERT_CONTAINS(r.cmdline, "dom0_nodes=1,2 ");
    ASSERT_TRUE(has_reason(&r, "node 2 joins"));
    np_topology_destroy(t);
}

static void test_minor_io_stays_out(void)
{
    uint32_t nodes[] = {0, 1}, cpus[] = {8, 8};
    dev_at devs[] = {{0, CLASS_NVME, 0x01}, {0, CLASS_ETHERNET, 0x02}, {1, CLASS_SATA, 0x03}};
    np_topology *t = host(nodes, 2, cpus, 16 * GIB, devs, 3);
    np_dom0_rec r;
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.nr_nodes, 1); /* 3 < 50% of 8 */
    ASSERT_EQ(r.nodes_os[0], 0);
    np_topology_destroy(t);
}

static void test_cpuless_and_sparse_nodes(void)
{
    /* Nodes 0, 2 with CPUs, 5 CPU-less (CXL); distances make 5 nearest to 2. */
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error e = {0};
    ASSERT_EQ(np_topology_builder_create(&b), 0);
    np_topology_builder_add_node(b, 0, 8 * GIB, 8 * GIB);
    np_topology_builder_add_node(b, 2, 8 * GIB, 8 * GIB);
    np_topology_builder_add_node(b, 5, 16 * GIB, 16 * GIB);
    for (uint32_t c = 0; c < 8; c++)
        np_topology_builder_add_cpu(b, c, c < 4 ? 0 : 2, c < 4 ? 0 : 1, c % 4);
    uint32_t ids[] = {0, 2, 5};
    uint32_t d[3][3] = {{10, 21, 30}, {21, 10, 14}, {30, 14, 10}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            np_topology_builder_set_distance(b, ids[i], ids[j], d[i][j]);
    np_pci_info nic = {.bus = 0x80, .class_code = CLASS_ETHERNET};
    np_topology_builder_add_device(b, &nic, 5);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &e), 0);
    np_topology_builder_destroy(b);
    np_dom0_rec r;
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.nr_nodes, 1);
    ASSERT_EQ(r.nodes_os[0], 2);
    ASSERT_CONTAINS(r.cmdline, "dom0_nodes=2 ");
    np_topology_destroy(t);
}

static void test_sizing_rules(void)
{
    uint32_t nodes[] = {0, 1}, big[] = {64, 64}, mid[] = {24, 24};
    dev_at nic[] = {{0, CLASS_ETHERNET, 0x01}};
    np_dom0_rec r;
    np_topology *t = host(nodes, 2, big, 512 * GIB, nic, 1);
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.max_vcpus, 16);          /* 64 / 4 */
    ASSERT_U64_EQ(r.mem_bytes, 8 * GIB); /* 1 + 1024/64 = 17 GiB, capped at 8 */
    np_topology_destroy(t);
    t = host(nodes, 2, mid, 96 * GIB, nic, 1);
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_EQ(r.max_vcpus, 6);
    ASSERT_U64_EQ(r.mem_bytes, 4 * GIB); /* 1 + 192/64 */
    np_topology_destroy(t);
    t = host(nodes, 2, mid, 2 * GIB, nic, 1);
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), 0);
    ASSERT_U64_EQ(r.mem_bytes, 1 * GIB); /* 1.0625 GiB, capped at half the node's 2 GiB */
    np_topology_destroy(t);
}

static void test_options(void)
{
    uint32_t nodes[] = {0, 1}, cpus[] = {8, 8};
    dev_at devs[] = {{1, CLASS_NVME, 0x41}};
    np_topology *t = host(nodes, 2, cpus, 32 * GIB, devs, 1);
    np_dom0_options o = {.mem_bytes = 6 * GIB + 1, .max_vcpus = 12, .relaxed = true,
                         .dedicated_cpus = true};
    np_dom0_rec r;
    ASSERT_EQ(np_dom0_recommend(t, &o, &r), 0);
    ASSERT_STR_EQ(r.cmdline,
                  "dom0_nodes=1,relaxed dom0_max_vcpus=12 dom0_mem=6145M,max:6145M dom0_vcpus_pin");
    ASSERT_TRUE(r.relaxed && r.vcpus_pin);
    ASSERT_TRUE(has_reason(&r, "more than the nodes' CPUs"));
    ASSERT_TRUE(has_reason(&r, "relaxed: Dom0 vCPUs prefer"));
    ASSERT_TRUE(has_reason(&r, "dom0_vcpus_pin: Dom0 has CPUs to itself"));
    np_topology_destroy(t);
}

static void test_no_usable_node(void)
{
    uint32_t nodes[] = {0, 1}, cpus[] = {4, 0};
    np_topology *t = host(nodes, 2, cpus, 0, NULL, 0);
    np_dom0_rec r;
    ASSERT_TRUE(t != NULL);
    ASSERT_EQ(np_dom0_recommend(t, NULL, &r), -EINVAL);
    ASSERT_EQ(np_dom0_recommend(NULL, NULL, &r), -EINVAL);
    np_topology_destroy(t);
}

int main(void)
{
    NP_RUN(test_devices_on_node1);
    NP_RUN(test_no_locality);
    NP_RUN(test_split_io_takes_two_nodes);
    NP_RUN(test_minor_io_stays_out);
    NP_RUN(test_cpuless_and_sparse_nodes);
    NP_RUN(test_sizing_rules);
    NP_RUN(test_options);
    NP_RUN(test_no_usable_node);
    return np_test_summary();
}
