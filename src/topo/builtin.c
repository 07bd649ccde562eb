/*
 * topo/builtin.c - named example hosts, built from a table of descriptions.
 *
 * Tests, golden files, benchmarks and demos need hosts that every machine
 * can build the same way: a 2-socket Xeon, an 8-node EPYC, an Opteron with
 * an uneven distance matrix, a host with CPU-less CXL memory, 32- and
 * 256-node giants. Each host is one row of `hosts[]` below; one generator
 * turns a row into builder calls. A row either carries values captured from
 * a real machine (per-node memory, the SLIT) or a shape plus a rule (memory
 * per node, distances by level); docs/hosts.md says which figure came from
 * where, and which hosts are models rather than captures.
 *
 * The generator is linear in CPUs and quadratic only in nodes (the distance
 * matrix itself): the 256-node, 8192-CPU host builds in a few milliseconds.
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

/* SLIT units: a node's distance to itself. */
#define BI_LOCAL_DISTANCE 10u

/* Free memory on model hosts: the kernel's memmap costs one 64-byte struct
 * page per 4 KiB page, 1/64 of every node, before anything else runs. */
#define BI_MEMMAP_DIVISOR 64u

/* How logical CPU numbers are laid over cores. */
typedef enum bi_cpu_order {
    /* Linux on x86 with SMT: first threads of every core in the machine,
     * then the second threads (node 0 of a 2 x 20-core Xeon holds CPUs
     * 0-19 and 40-59). */
    BI_THREADS_LAST,
    /* Core after core, threads of a core adjacent (no-SMT hosts). */
    BI_THREADS_ADJACENT,
} bi_cpu_order;

/* Captured per-node memory, in MiB as `numactl --hardware` prints it. */
typedef struct bi_mem {
    uint64_t total_mib, free_mib;
} bi_mem;

/* Distance rule: nodes whose generator indices agree after division by
 * `span_nodes` are `distance` apart (first matching level wins). */
typedef struct bi_level {
    uint32_t span_nodes;
    uint32_t distance;
} bi_level;

typedef struct bi_dev {
    uint32_t domain; /* PCI segment */
    uint8_t bus, dev, fn;
    uint16_t vendor_id, device_id;
    uint32_t class_code;
    uint32_t node_os_id;
    const char *name;
} bi_dev;

typedef struct bi_attr {
    uint32_t initiator_os_id, target_os_id;
    uint64_t bandwidth_mbps, latency_ns;
} bi_attr;

typedef struct bi_host {
    const char *name;
    const char *summary;
    /* CPU nodes: packages x nodes_per_package, generator indices first. */
    uint32_t packages, nodes_per_package, cores_per_node, threads_per_core;
    bi_cpu_order cpu_order;
    /* CPU-less memory nodes, after the CPU nodes, all of one kind. */
    uint32_t nr_memory_nodes;
    np_mem_kind memory_node_kind;
    /* OS node numbers by generator index; NULL means 0, 1, 2, ... */
    const uint32_t *node_os_ids;
    /* Memory: captured per node (all nodes), or a uniform model. */
    const bi_mem *mem;
    uint64_t mem_per_node_bytes;
    uint64_t host_reserved_bytes; /* node 0: hypervisor / dom0 / host OS */
    /* Distances: a captured matrix by generator index, or levels. */
    const uint8_t *slit;
    const bi_level *levels;
    size_t nr_levels;
    uint32_t far_distance;
    const bi_dev *devs;
    size_t nr_devs;
    const bi_attr *attrs;
    size_t nr_attrs;
} bi_host;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* PCI class codes (class, subclass, prog-if). */
#define PCI_CLASS_NVME 0x010802u
#define PCI_CLASS_ETHERNET 0x020000u
#define PCI_CLASS_3D 0x030200u
#define PCI_CLASS_CXL_MEM 0x050210u /* CXL memory device, as in hwloc's cxlmem fixture */

/* ---- small-2n, sparse-3n: made-up hosts for tests and demos ---------------- */

static const uint32_t sparse_os_ids[] = {0, 2, 5};
/* node 2 has CPUs but no memory (a socket with empty DIMM slots). */
static const bi_mem sparse_mem[] = {{8192, 7800}, {0, 0}, {8192, 8000}};
/* A line 0 - 2 - 5, so a distance looked up by os_id instead of index
 * shows up as a wrong value. */
static const uint8_t sparse_slit[] = {
    10, 16, 22,
    16, 10, 16,
    22, 16, 10,
};
static const bi_dev sparse_devs[] = {
    {0, 0x40, 0x00, 0, 0x8086, 0x1572, PCI_CLASS_ETHERNET, 5, "Intel X710 10GbE"},
};

/* ---- 2s-2n: 2 x Xeon Gold 6248 ---------------------------------------------- */

static const bi_dev devs_2s[] = {
    {0, 0x3b, 0x00, 0, 0x8086, 0x0a54, PCI_CLASS_NVME, 0, "Intel SSD DC P4610 NVMe"},
    {0, 0xaf, 0x00, 0, 0x8086, 0x1572, PCI_CLASS_ETHERNET, 1, "Intel X710 10GbE port 0"},
    {0, 0xaf, 0x00, 1, 0x8086, 0x1572, PCI_CLASS_ETHERNET, 1, "Intel X710 10GbE port 1"},
};

/* ---- 4s-4n: 4 x Xeon Platinum 8380H --------------------------------------- */

static const bi_dev devs_4s[] = {
    {0, 0x18, 0x00, 0, 0x8086, 0x0a54, PCI_CLASS_NVME, 0, "Intel SSD DC P4610 NVMe"},
    {0, 0x98, 0x00, 0, 0x8086, 0x1592, PCI_CLASS_ETHERNET, 2, "Intel E810-C 100GbE"},
    {0, 0xd8, 0x00, 0, 0x8086, 0x0a54, PCI_CLASS_NVME, 3, "Intel SSD DC P4610 NVMe"},
};

/* ---- epyc-8n: 2 x EPYC Rome 64-core, NPS4 (CSCS Eiger capture) ------------ */

static const bi_level levels_epyc[] = {{4, 12}};
static const bi_mem epyc_mem[] = {
    {63733, 62780}, {64502, 61774}, {64456, 63385}, {64490, 62613},
    {64502, 63897}, {64502, 63769}, {64502, 63870}, {64428, 63712},
};
static const bi_dev devs_epyc[] = {
    {0, 0x01, 0x00, 0, 0x15b3, 0x101b, PCI_CLASS_ETHERNET, 0, "Mellanox ConnectX-6"},
    {0, 0x21, 0x00, 0, 0x10de, 0x20f1, PCI_CLASS_3D, 1, "NVIDIA A100 PCIe 40GB"},
    {0, 0x61, 0x00, 0, 0x10de, 0x20f1, PCI_CLASS_3D, 3, "NVIDIA A100 PCIe 40GB"},
    {0, 0x81, 0x00, 0, 0x144d, 0xa824, PCI_CLASS_NVME, 4, "Samsung PM1733 NVMe"},
    {0, 0xa1, 0x00, 0, 0x10de, 0x20f1, PCI_CLASS_3D, 5, "NVIDIA A100 PCIe 40GB"},
    {0, 0xe1, 0x00, 0, 0x10de, 0x20f1, PCI_CLASS_3D, 7, "NVIDIA A100 PCIe 40GB"},
};

/* ---- opteron-8n: 4 x Opteron 6100 (Magny-Cours), 8 nodes (capture) --------- */

static const bi_mem opteron_mem[] = {
    {8060, 7152}, {16160, 16007}, {8080, 8052}, {16160, 15512},
    {8080, 8063}, {16160, 15974}, {8080, 8051}, {16160, 15519},
};
static const uint8_t opteron_slit[] = {
    10, 16, 16, 22, 16, 22, 16, 22,
    16, 10, 22, 16, 16, 22, 22, 16,
    16, 22, 10, 16, 16, 16, 16, 16,
    22, 16, 16, 10, 16, 16, 22, 22,
    16, 16, 16, 16, 10, 16, 16, 22,
    22, 22, 16, 16, 16, 10, 22, 16,
    16, 22, 16, 22, 16, 22, 10, 16,
    22, 16, 16, 22, 22, 16, 16, 10,
};

/* ---- cxl-4n: 2 x 52-core Sapphire Rapids + 2 CXL memory nodes (capture) ---- */

static const bi_mem cxl_mem[] = {{64167, 62245}, {64472, 61391}, {65536, 65535}, {131072, 131070}};
static const uint8_t cxl_slit[] = {
    10, 21, 14, 24,
    21, 10, 24, 14,
    14, 24, 10, 26,
    24, 14, 26, 10,
};
static const bi_dev devs_cxl[] = {
    /* vendor unknown: the capture does not name the modules */
    {0, 0x38, 0x00, 0, 0, 0, PCI_CLASS_CXL_MEM, 0, "CXL type-3 memory expander (node 2)"},
    {0, 0xb8, 0x00, 0, 0, 0, PCI_CLASS_CXL_MEM, 1, "CXL type-3 memory expander (node 3)"},
};
/* Model anchored on cited figures, see docs/hosts.md: DRAM 307.2 GB/s per
 * socket, half across UPI; CXL 36 GB/s per module; latency 128 ns DRAM,
 * 256 ns CXL, plus 141 ns for crossing the socket link. */
static const bi_attr attrs_cxl[] = {
    {0, 0, 307200, 128}, {0, 1, 153600, 269}, {0, 2, 36000, 256}, {0, 3, 18000, 397},
    {1, 0, 153600, 269}, {1, 1, 307200, 128}, {1, 2, 18000, 397}, {1, 3, 36000, 256},
};

/* ---- big-32n: HPE Superdome Flex class, 8 chassis x 4 sockets (model) ------ */

static const bi_level levels_32[] = {{4, 21}};
static const bi_dev devs_32[] = {
    {0, 0x18, 0x00, 0, 0x8086, 0x1592, PCI_CLASS_ETHERNET, 0, "Intel E810-C 100GbE"},
    {0, 0x3b, 0x00, 0, 0x8086, 0x0a54, PCI_CLASS_NVME, 1, "Intel SSD DC P4610 NVMe"},
    /* each chassis is a PCI segment of its own, so bus numbers repeat */
    {7, 0x18, 0x00, 0, 0x8086, 0x1592, PCI_CLASS_ETHERNET, 28, "Intel E810-C 100GbE"},
};

/* ---- big-256n: SGI UV class, 256 sockets (model) --------------------------- */

/* 2 sockets per blade, 8 blades per chassis (IRU), 4 chassis per rack. */
static const bi_level levels_256[] = {
    {2, 20}, {16, 30}, {64, 40},
};
static const bi_dev devs_256[] = {
    {0, 0x01, 0x00, 0, 0x8086, 0x1572, PCI_CLASS_ETHERNET, 0, "Intel X710 10GbE"},
    {0, 0x02, 0x00, 0, 0x8086, 0x0a54, PCI_CLASS_NVME, 0, "Intel SSD DC P4610 NVMe"},
};

/* Captured tables must cover every node of their host. */
_Static_assert(COUNT(sparse_mem) == 3 && COUNT(sparse_slit) == 3 * 3, "sparse-3n tables");
_Static_assert(COUNT(epyc_mem) == 8, "epyc-8n memory table");
_Static_assert(COUNT(opteron_mem) == 8 && COUNT(opteron_slit) == 8 * 8, "opteron-8n tables");
_Static_assert(COUNT(cxl_mem) == 4 && COUNT(cxl_slit) == 4 * 4, "cxl-4n tables");

static const bi_host hosts[] = {
    {
        .name = "small-2n",
        .summary = "2 nodes, 4 CPUs, 8 GiB; 2 sockets x 2 cores, no SMT; SLIT 10/20 (model)",
        .packages = 2, .nodes_per_package = 1, .cores_per_node = 2, .threads_per_core = 1,
        .cpu_order = BI_THREADS_ADJACENT,
        .mem_per_node_bytes = 4 * GIB, .host_reserved_bytes = 512 * MIB,
        .far_distance = 20,
    },
    {
        .name = "sparse-3n",
        .summary = "3 nodes, 12 CPUs, 16 GiB; sparse node ids 0,2,5, node 2 memory-less; "
                   "SLIT 10/16/22 (model)",
        .packages = 3, .nodes_per_package = 1, .cores_per_node = 2, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .node_os_ids = sparse_os_ids, .mem = sparse_mem, .slit = sparse_slit,
        .devs = sparse_devs, .nr_devs = COUNT(sparse_devs),
    },
    {
        .name = "2s-2n",
        .summary = "2 nodes, 80 CPUs, 384 GiB; 2 x Xeon Gold 6248 (20 cores, SMT2); "
                   "SLIT 10/21; NVMe on node 0, NIC on node 1",
        .packages = 2, .nodes_per_package = 1, .cores_per_node = 20, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .mem_per_node_bytes = 192 * GIB, .host_reserved_bytes = 4 * GIB,
        .far_distance = 21,
        .devs = devs_2s, .nr_devs = COUNT(devs_2s),
    },
    {
        .name = "4s-4n",
        .summary = "4 nodes, 224 CPUs, 768 GiB; 4 x Xeon Platinum 8380H (28 cores, SMT2), "
                   "fully connected; SLIT 10/21",
        .packages = 4, .nodes_per_package = 1, .cores_per_node = 28, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .mem_per_node_bytes = 192 * GIB, .host_reserved_bytes = 4 * GIB,
        .far_distance = 21,
        .devs = devs_4s, .nr_devs = COUNT(devs_4s),
    },
    {
        .name = "epyc-8n",
        .summary = "8 nodes, 256 CPUs, 503 GiB; 2 x EPYC Rome 64-core NPS4 (16 cores/node, "
                   "SMT2); SLIT 10/12/32; 4 GPUs, NIC, NVMe",
        .packages = 2, .nodes_per_package = 4, .cores_per_node = 16, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .mem = epyc_mem,
        .levels = levels_epyc, .nr_levels = COUNT(levels_epyc), .far_distance = 32,
        .devs = devs_epyc, .nr_devs = COUNT(devs_epyc),
    },
    {
        .name = "opteron-8n",
        .summary = "8 nodes, 48 CPUs, 95 GiB; 4 x Opteron 6100 (2 dies x 6 cores); "
                   "uneven SLIT 10/16/22 (capture)",
        .packages = 4, .nodes_per_package = 2, .cores_per_node = 6, .threads_per_core = 1,
        .cpu_order = BI_THREADS_ADJACENT,
        .mem = opteron_mem, .slit = opteron_slit,
    },
    {
        .name = "cxl-4n",
        .summary = "4 nodes, 208 CPUs, 318 GiB; 2 x 52-core Sapphire Rapids (SMT2) + 2 CPU-less "
                   "CXL nodes; SLIT 10/21/14/24/26; HMAT",
        .packages = 2, .nodes_per_package = 1, .cores_per_node = 52, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .nr_memory_nodes = 2, .memory_node_kind = NP_MEM_CXL,
        .mem = cxl_mem, .slit = cxl_slit,
        .devs = devs_cxl, .nr_devs = COUNT(devs_cxl),
        .attrs = attrs_cxl, .nr_attrs = COUNT(attrs_cxl),
    },
    {
        .name = "big-32n",
        .summary = "32 nodes, 1792 CPUs, 12 TiB; 8 chassis x 4 Xeon Platinum 8280 (28 cores, "
                   "SMT2); SLIT 10/21/31 (model)",
        .packages = 32, .nodes_per_package = 1, .cores_per_node = 28, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .mem_per_node_bytes = 384 * GIB, .host_reserved_bytes = 8 * GIB,
        .levels = levels_32, .nr_levels = COUNT(levels_32), .far_distance = 31,
        .devs = devs_32, .nr_devs = COUNT(devs_32),
    },
    {
        .name = "big-256n",
        .summary = "256 nodes, 8192 CPUs, 64 TiB; 256 x 16-core Xeon E5-4600 v3 (SMT2); "
                   "SLIT by hop level 10/20/30/40/50 (model)",
        .packages = 256, .nodes_per_package = 1, .cores_per_node = 16, .threads_per_core = 2,
        .cpu_order = BI_THREADS_LAST,
        .mem_per_node_bytes = 256 * GIB, .host_reserved_bytes = 16 * GIB,
        .levels = levels_256, .nr_levels = COUNT(levels_256), .far_distance = 50,
        .devs = devs_256, .nr_devs = COUNT(devs_256),
    },
};

size_t np_topology_builtin_count(void)
{
    return COUNT(hosts);
}

const char *np_topology_builtin_name(size_t i)
{
    return i < COUNT(hosts) ? hosts[i].name : NULL;
}

const char *np_topology_builtin_summary(size_t i)
{
    return i < COUNT(hosts) ? hosts[i].summary : NULL;
}

/* ---- the generator ------------------------------------------------------------ */

static uint32_t nr_cpu_nodes(const bi_host *h)
{
    return h->packages * h->nodes_per_package;
}

static uint32_t node_os_id(const bi_host *h, uint32_t idx)
{
    return h->node_os_ids ? h->node_os_ids[idx] : idx;
}

/* Distance between generator indices i and j. */
static uint32_t distance(const bi_host *h, uint32_t n, uint32_t i, uint32_t j)
{
    if (h->slit)
        return h->slit[(size_t)i * n + j];
    if (i == j)
        return BI_LOCAL_DISTANCE;
    for (size_t k = 0; k < h->nr_levels; k++)
        if (i / h->levels[k].span_nodes == j / h->levels[k].span_nodes)
            return h->levels[k].distance;
    return h->far_distance;
}

static int add_nodes(np_topology_builder *b, const bi_host *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t total, free_bytes;
        if (h->mem) {
            total = h->mem[i].total_mib * MIB;
            free_bytes = h->mem[i].free_mib * MIB;
        } else {
            /* Model: the memmap's share goes first, then what the
             * hypervisor or host OS keeps on node 0. */
            total = h->mem_per_node_bytes;
            free_bytes = total - total / BI_MEMMAP_DIVISOR;
            if (i == 0)
                free_bytes -= h->host_reserved_bytes;
        }
        int rc = np_topology_builder_add_node(b, node_os_id(h, i), total, free_bytes);
        if (rc < 0)
            return rc;
        if (i >= nr_cpu_nodes(h)) {
            rc = np_topology_builder_set_mem_kind(b, node_os_id(h, i), h->memory_node_kind);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* One pass over cores: CPU number from the host's numbering order, package
 * from the node, core id counted within the package. */
static int add_cpus(np_topology_builder *b, const bi_host *h)
{
    uint32_t cpu_nodes = nr_cpu_nodes(h);
    uint32_t total_cores = cpu_nodes * h->cores_per_node;
    for (uint32_t node = 0; node < cpu_nodes; node++) {
        uint32_t pkg = node / h->nodes_per_package;
        uint32_t first_core_in_pkg = (node % h->nodes_per_package) * h->cores_per_node;
        for (uint32_t c = 0; c < h->cores_per_node; c++) {
            uint32_t core = node * h->cores_per_node + c; /* machine-wide */
            for (uint32_t t = 0; t < h->threads_per_core; t++) {
                uint32_t cpu = h->cpu_order == BI_THREADS_LAST
                                   ? t * total_cores + core
                                   : core * h->threads_per_core + t;
                int rc = np_topology_builder_add_cpu(b, cpu, node_os_id(h, node), pkg,
                                                     first_core_in_pkg + c);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}

static int add_distances(np_topology_builder *b, const bi_host *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++) {
            int rc = np_topology_builder_set_distance(b, node_os_id(h, i), node_os_id(h, j),
                                                      distance(h, n, i, j));
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int add_devices(np_topology_builder *b, const bi_host *h)
{
    for (size_t i = 0; i < h->nr_devs; i++) {
        const bi_dev *d = &h->devs[i];
        np_pci_info info = {
            .domain = d->domain,
            .bus = d->bus,
            .dev = d->dev,
            .fn = d->fn,
            .node_idx = -1,
            .vendor_id = d->vendor_id,
            .device_id = d->device_id,
            .class_code = d->class_code,
        };
        snprintf(info.name, sizeof(info.name), "%s", d->name);
        int rc = np_topology_builder_add_device(b, &info, d->node_os_id);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int add_memattrs(np_topology_builder *b, const bi_host *h)
{
    for (size_t i = 0; i < h->nr_attrs; i++) {
        const bi_attr *a = &h->attrs[i];
        np_memattr attr = {.bandwidth_mbps = a->bandwidth_mbps, .latency_ns = a->latency_ns};
        int rc = np_topology_builder_set_memattr(b, a->initiator_os_id, a->target_os_id, &attr);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int build(const bi_host *h, const char *origin, np_topology **out, np_error *err)
{
    np_topology_builder *b = NULL;
    uint32_t n = nr_cpu_nodes(h) + h->nr_memory_nodes;
    int rc = np_topology_builder_create(&b);
    if (rc < 0)
        goto out;
    rc = np_topology_builder_set_name(b, origin);
    if (rc >= 0)
        rc = add_nodes(b, h, n);
    if (rc >= 0)
        rc = add_cpus(b, h);
    if (rc >= 0)
        rc = add_distances(b, h, n);
    if (rc >= 0)
        rc = add_devices(b, h);
    if (rc >= 0)
        rc = add_memattrs(b, h);
    if (rc < 0) {
        /* The table is checked by the tests; this is out of memory or a
         * table edit that broke a builder rule. */
        np_error_set(err, origin, 0, "cannot build the built-in host: %s", np_strerror(rc));
        goto out;
    }
    rc = np_topology_builder_finish(b, out, err);
    if (rc < 0 && err)
        snprintf(err->origin, sizeof(err->origin), "%s", origin);
out:
    np_topology_builder_destroy(b);
    return rc;
}

int np_topology_builtin(const char *name, np_topology **out, np_error *err)
{
    char origin[sizeof(((np_error *)0)->origin)];
    const char *n = name ? name : "";
    snprintf(origin, sizeof(origin), "builtin:%s", n);
    for (size_t i = 0; i < COUNT(hosts); i++)
        if (strcmp(hosts[i].name, n) == 0)
            return build(&hosts[i], origin, out, err);
    return np_error_set(err, origin, 0,
                        "unknown built-in host '%s'; `numaplace topology --list` names them", n);
}
