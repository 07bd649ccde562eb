/*
 * topo/read_hwloc.c - topologies from hwloc: this machine (hwloc's Linux
 * backend, PCI devices included), hwloc XML exports (`lstopo --of xml`) and
 * hwloc synthetic descriptions ("pack:2 numa:1 core:4 pu:2").
 *
 * The three readers only differ in how they load an hwloc_topology_t; one
 * converter then walks it and feeds an np_topology_builder, whose finish
 * step checks the whole result. Inputs are a host's topology: up to a few
 * thousand CPUs, a few dozen nodes, a few hundred PCI devices.
 *
 * What the converter decides, since hwloc's model and ours differ:
 *  - Free memory: hwloc reports none. For "live" and "sysfs:DIR" it is
 *    read from each node's meminfo in the tree hwloc read (/sys, or DIR);
 *    for XML and synthetic sources free = total.
 *  - Distances without an OS matrix: see NP_SAME_LOCALITY_DISTANCE.
 *  - A CPU's node: hwloc attaches NUMA nodes to the object whose CPUs are
 *    local to them (package, die, group or the machine), and CPU-less
 *    memory (CXL, HBM, NVDIMM) is attached there too. A CPU belongs to the
 *    node attached to its nearest ancestor that has memory; among several
 *    (DRAM beside HBM on Xeon Phi), ordinary DRAM wins, then the lowest
 *    OS number. Nodes that win no CPU are CPU-less nodes.
 *  - CPUs that no NUMA node covers (their node is offline, or a cgroup
 *    forbade its memory when the XML was captured) are left out: numaplace
 *    places vCPUs next to memory and has no node to put them in.
 *  - Package and core ids are hwloc's OS indexes. When those repeat (cores
 *    0-5 twice in one AMD Magny-Cours package, one per die; packages all
 *    numbered 0 on old ia64), hwloc's logical indexes are used instead for
 *    that level, so hyper-thread grouping never merges distinct cores.
 *  - Distances come from the NUMA latency matrix the OS gave (ACPI SLIT on
 *    Linux). Values that are not SLIT-like are scaled so local = 10.
 *  - A PCI device's node is the one node with CPUs among the nodes local to
 *    its nearest non-I/O ancestor, else unknown.
 *  - Memory attributes are hwloc's Bandwidth (hwloc says MiB/s; the
 *    numbers are the MB/s that ACPI HMAT and Linux report, stored as-is in
 *    bandwidth_mbps) and Latency (ns), from each node's CPUs to each node.
 *  - CPUs and nodes a cgroup hides from this process are included (for
 *    "live", and for XML exported with them): the engine places virtual
 *    machines on the whole host, not in its own cgroup.
 *
 * hwloc's XML and synthetic parsers print nothing unless HWLOC_XML_VERBOSE
 * or HWLOC_SYNTHETIC_VERBOSE are set. XML goes through hwloc_xml_check.c
 * first, which reports malformed XML with its line and refuses what hwloc
 * 2.9 would crash on, leak on or half-read. hwloc still prints one
 * "critical error" banner per process for some inconsistent XML
 * (out-of-order or intersecting objects); only HWLOC_HIDE_ERRORS=2 in the
 * environment silences it, which is the program's choice: the library
 * never reads or writes the environment.
 */
#include <numaplace/topology.h>
#include <numaplace/linux.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hwloc.h>

#include "topo/hwloc_xml_check.h"
#include "util/error.h"

/* hwloc takes the XML buffer length as an int. */
#define NP_HWLOC_XML_MAX_BYTES ((size_t)INT_MAX - 1)
/* Real synthetic descriptions are a few dozen characters. */
#define NP_HWLOC_SYNTH_MAX_LEN 1024u
/* CPUs a synthetic description may create: CONFIG_NR_CPUS of distribution
 * kernels. hwloc's cost grows with the square of the CPU count (every
 * object carries CPU sets as wide as the highest CPU number): 8192 CPUs
 * load in 0.3 s and 30 MB, 65536 in 16 s and 1 GB. */
#define NP_HWLOC_SYNTH_MAX_CPUS 8192u
/* Objects of all levels together, for the same reason. */
#define NP_HWLOC_SYNTH_MAX_OBJS 65536u
/* Children of one object: hwloc inserts each object among its siblings one
 * at a time, so n siblings cost n^2 CPU-set operations ("pack:256 core:32
 * pu:1" loads in 1 s, "core:8192 pu:1" in 30 s). Real machines stay far
 * below: a few packages, at most a few hundred cores per package. */
#define NP_HWLOC_SYNTH_MAX_ARITY 256u
/* Levels below the machine: hwloc 2.9 holds 128 levels, machine included. */
#define NP_HWLOC_SYNTH_MAX_LEVELS 127u
/* ACPI SLIT: local distance 10, entries are one byte. */
#define NP_SLIT_LOCAL 10u
#define NP_SLIT_MAX 255u
/* Without a distance matrix from the OS: two nodes local to exactly the
 * same CPUs (hwloc attaches them to the same object: DRAM and the HBM of
 * one Xeon Phi quadrant, a package's DRAM and the CXL or NVDIMM memory
 * hanging off it) are near each other, not as far as another package's
 * memory. 12 is what real SLITs give memory of the same socket that is not
 * the CPUs' own (AMD's sub-NUMA nodes in one package: 11-12), and it keeps
 * the node's own memory (10) first; every other pair keeps Linux's 20. */
#define NP_SAME_LOCALITY_DISTANCE 12u
#define NP_REMOTE_DISTANCE 20u
/* The name hwloc's Linux backend gives the SLIT matrix. */
#define NP_HWLOC_SLIT_NAME "NUMALatency"

/* ---- conversion ----------------------------------------------------------- */

typedef struct conv {
    hwloc_topology_t topo;
    np_topology_builder *b;
    const char *origin;
    np_error *err;
    unsigned nr_nodes;
    hwloc_bitmap_t *node_cpus; /* by NUMA logical index: the CPUs it won */
    bool pkg_logical;          /* package ids are logical indexes */
    bool core_logical;         /* core ids are logical indexes */
    np_linux_ctx *sys;         /* live: the tree hwloc read, for free memory */
} conv;

/* Fills err for input that does not make a topology; -ENOMEM stays itself.
 * Returns the code to hand back. */
static int fail(conv *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(conv *c, int rc, const char *fmt, ...)
{
    char msg[sizeof(((np_error *)0)->msg)];
    va_list ap;

    if (rc == -ENOMEM) {
        np_error_set(c->err, c->origin, 0, "out of memory");
        return -ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return np_error_set(c->err, c->origin, 0, "%s", msg);
}

static bool str_has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool str_is(const char *s, const char *what)
{
    return s && strcmp(s, what) == 0;
}

/* The kind of memory of a NUMA node, from what hwloc's Linux backend
 * records: subtype "HBM"/"MCDRAM"/"NVM"/"SPM"/"DRAM"/"GPUMemory" (hwloc 3
 * adds "CXL-DRAM" and friends and a CXLDevice info), and for DAX-backed
 * nodes the DAXType and DAXParent infos. A DAX parent path through a CXL
 * region ("ACPI0017:00/root0/decoder0.0/region0/dax_region0") is CXL
 * memory; NVDIMM regions sit below an "ndbus". */
static np_mem_kind node_kind(hwloc_obj_t node)
{
    const char *sub = node->subtype;
    const char *dax_type = hwloc_obj_get_info_by_name(node, "DAXType");
    const char *dax_parent = hwloc_obj_get_info_by_name(node, "DAXParent");

    if (str_has_prefix(sub, "CXL") || hwloc_obj_get_info_by_name(node, "CXLDevice"))
        return NP_MEM_CXL;
    if (str_is(sub, "NVM") || str_is(dax_type, "NVM") ||
        (dax_parent && strstr(dax_parent, "ndbus")))
        return NP_MEM_PMEM;
    if (dax_parent && strstr(dax_parent, "/region"))
        return NP_MEM_CXL;
    if (str_is(sub, "HBM") || str_is(sub, "MCDRAM"))
        return NP_MEM_HBM;
    if (!sub || str_is(sub, "DRAM"))
        return NP_MEM_DRAM;
    return NP_MEM_OTHER;
}

/* Whether node a should own CPUs rather than node b, both being attached
 * to the same object: DRAM first, then the lower OS number. */
static bool node_preferred(hwloc_obj_t a, hwloc_obj_t b)
{
    bool a_dram = node_kind(a) == NP_MEM_DRAM, b_dram = node_kind(b) == NP_MEM_DRAM;
    if (a_dram != b_dram)
        return a_dram;
    return a->os_index < b->os_index;
}

/* Best NUMA node among a memory-children list; memory-side caches hold
 * their nodes one level down. */
static void best_attached_node(hwloc_obj_t mem, hwloc_obj_t *best)
{
    for (; mem; mem = mem->next_sibling) {
        if (mem->type == HWLOC_OBJ_NUMANODE) {
            if (!*best || node_preferred(mem, *best))
                *best = mem;
        } else {
            best_attached_node(mem->memory_first_child, best);
        }
    }
}

/* The node a CPU belongs to, or NULL when no ancestor has memory. */
static hwloc_obj_t local_node_of(hwloc_obj_t pu)
{
    for (hwloc_obj_t anc = pu; anc; anc = anc->parent) {
        hwloc_obj_t best = NULL;
        best_attached_node(anc->memory_first_child, &best);
        if (best)
            return best;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Whether keys[0..n) has a repeated value (sorts keys). */
static bool has_duplicates(uint64_t *keys, size_t n)
{
    qsort(keys, n, sizeof(*keys), cmp_u64);
    for (size_t i = 1; i < n; i++)
        if (keys[i] == keys[i - 1])
            return true;
    return false;
}

static uint32_t obj_id(hwloc_obj_t obj, bool logical)
{
    if (!obj)
        return NP_TOPO_ID_UNKNOWN;
    if (logical)
        return obj->logical_index;
    return obj->os_index == HWLOC_UNKNOWN_INDEX ? NP_TOPO_ID_UNKNOWN : obj->os_index;
}

static uint32_t package_id(conv *c, hwloc_obj_t obj)
{
    return obj_id(hwloc_get_ancestor_obj_by_type(c->topo, HWLOC_OBJ_PACKAGE, obj),
                  c->pkg_logical);
}

/* Decides whether OS indexes identify packages, and cores within their
 * package, uniquely (see the file comment). */
static int choose_id_schemes(conv *c)
{
    int nr_pkgs = hwloc_get_nbobjs_by_type(c->topo, HWLOC_OBJ_PACKAGE);
    int nr_cores = hwloc_get_nbobjs_by_type(c->topo, HWLOC_OBJ_CORE);
    size_t n = (size_t)(nr_pkgs > nr_cores ? nr_pkgs : nr_cores);
    uint64_t *keys = calloc(n ? n : 1, sizeof(*keys));
    size_t k = 0;

    if (!keys)
        return fail(c, -ENOMEM, "out of memory");
    for (hwloc_obj_t p = NULL; (p = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_PACKAGE, p));) {
        if (p->os_index == HWLOC_UNKNOWN_INDEX)
            c->pkg_logical = true;
        keys[k++] = p->os_index;
    }
    if (has_duplicates(keys, k))
        c->pkg_logical = true;

    k = 0;
    for (hwloc_obj_t core = NULL;
         (core = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_CORE, core));) {
        if (core->os_index == HWLOC_UNKNOWN_INDEX)
            c->core_logical = true;
        keys[k++] = (uint64_t)package_id(c, core) << 32 | core->os_index;
    }
    if (has_duplicates(keys, k))
        c->core_logical = true;
    free(keys);
    return 0;
}

static int add_nodes(conv *c)
{
    for (hwloc_obj_t n = NULL; (n = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, n));) {
        uint64_t mem = n->attr ? n->attr->numanode.local_memory : 0;
        int rc;

        if (n->os_index == HWLOC_UNKNOWN_INDEX || n->os_index >= NP_TOPO_MAX_NODES)
            return fail(c, -EINVAL, "NUMA node L#%u has OS number %u; expected a number below %u",
                        n->logical_index, n->os_index, NP_TOPO_MAX_NODES);
        /* hwloc does not know free memory: see file comment */
        uint64_t free_bytes = mem;
        np_linux_node_meminfo mi;
        if (c->sys && np_linux_node_meminfo_read(c->sys, n->os_index, &mi) == 0)
            free_bytes = mi.free_bytes < mem ? mi.free_bytes : mem;
        rc = np_topology_builder_add_node(c->b, n->os_index, mem, free_bytes);
        if (rc == -EEXIST)
            return fail(c, rc, "NUMA node %u is listed twice", n->os_index);
        if (rc < 0)
            return fail(c, rc, "cannot add NUMA node %u: %s", n->os_index, np_strerror(rc));
        rc = np_topology_builder_set_mem_kind(c->b, n->os_index, node_kind(n));
        if (rc < 0)
            return fail(c, rc, "cannot set the memory kind of node %u", n->os_index);
        c->node_cpus[n->logical_index] = hwloc_bitmap_alloc();
        if (!c->node_cpus[n->logical_index])
            return fail(c, -ENOMEM, "out of memory");
    }
    return 0;
}

static int add_cpus(conv *c)
{
    for (hwloc_obj_t pu = NULL; (pu = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_PU, pu));) {
        hwloc_obj_t node = local_node_of(pu);
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(c->topo, HWLOC_OBJ_CORE, pu);
        int rc;

        if (pu->os_index == HWLOC_UNKNOWN_INDEX || pu->os_index >= NP_TOPO_MAX_CPUS)
            return fail(c, -EINVAL, "CPU L#%u has OS number %u; expected a number below %u",
                        pu->logical_index, pu->os_index, NP_TOPO_MAX_CPUS);
        if (!node) /* no memory near this CPU: see file comment */
            continue;
        rc = np_topology_builder_add_cpu(c->b, pu->os_index, node->os_index, package_id(c, pu),
                                         obj_id(core, c->core_logical));
        if (rc == -EEXIST)
            return fail(c, rc, "CPU %u is listed twice", pu->os_index);
        if (rc < 0)
            return fail(c, rc, "cannot add CPU %u: %s", pu->os_index, np_strerror(rc));
        if (hwloc_bitmap_set(c->node_cpus[node->logical_index], pu->os_index) < 0)
            return fail(c, -ENOMEM, "out of memory");
    }
    return 0;
}

/* Whether a NUMA distance matrix names every node (hwloc only puts NUMA
 * nodes in it, each once). */
static bool covers_all_nodes(conv *c, const struct hwloc_distances_s *d)
{
    return d->nbobjs == c->nr_nodes;
}

/* Writes the chosen matrix into the builder. SLIT-like values (local 10,
 * all within a byte) go in as they are; others (a latency in ns, say) are
 * scaled so the smallest local value becomes 10:
 * local 80 ns, remote 130 ns -> 10 and round(130 * 10 / 80) = 16. */
static int set_distances(conv *c, const struct hwloc_distances_s *d, const char *name)
{
    unsigned n = d->nbobjs;
    uint64_t diag_min = UINT64_MAX;
    bool slit = true;

    for (unsigned i = 0; i < n; i++) {
        uint64_t local = d->values[(size_t)i * n + i];
        if (local < diag_min)
            diag_min = local;
        if (local != NP_SLIT_LOCAL)
            slit = false;
    }
    for (size_t k = 0; k < (size_t)n * n; k++)
        if (d->values[k] > NP_SLIT_MAX)
            slit = false;
    if (!slit && diag_min == 0)
        return fail(c, -EINVAL, "distance matrix %s gives a node a local distance of 0", name);

    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            uint64_t v = d->values[(size_t)i * n + j];
            int rc;
            if (!slit) {
                if (v > (UINT64_MAX - diag_min / 2) / NP_SLIT_LOCAL)
                    v = UINT64_MAX;
                else
                    v = (v * NP_SLIT_LOCAL + diag_min / 2) / diag_min;
                if (v == 0)
                    v = 1;
            }
            if (v > NP_TOPO_MAX_DISTANCE)
                return fail(c, -EINVAL,
                            "distance matrix %s: distance from node %u to node %u is too large "
                            "(%llu relative to a local distance of 10; expected at most %u)",
                            name, d->objs[i]->os_index, d->objs[j]->os_index,
                            (unsigned long long)v, NP_TOPO_MAX_DISTANCE);
            rc = np_topology_builder_set_distance(c->b, d->objs[i]->os_index,
                                                  d->objs[j]->os_index, (uint32_t)v);
            if (rc < 0)
                return fail(c, rc, "distance matrix %s: node %u to node %u: %s", name,
                            d->objs[i]->os_index, d->objs[j]->os_index,
                            v == 0 ? "distance 0" : np_strerror(rc));
        }
    }
    return 0;
}

/* Distances from hwloc's locality when the OS gave none (see
 * NP_SAME_LOCALITY_DISTANCE); nothing when no two nodes share a locality,
 * so that the builder's 10/20 default applies. */
static int add_locality_distances(conv *c)
{
    bool any = false;
    for (unsigned i = 0; i < c->nr_nodes && !any; i++)
        for (unsigned j = i + 1; j < c->nr_nodes && !any; j++) {
            hwloc_obj_t a = hwloc_get_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, i);
            hwloc_obj_t b = hwloc_get_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, j);
            any = a && b && a->cpuset && b->cpuset && !hwloc_bitmap_iszero(a->cpuset) &&
                  hwloc_bitmap_isequal(a->cpuset, b->cpuset);
        }
    if (!any)
        return 0;
    for (unsigned i = 0; i < c->nr_nodes; i++) {
        hwloc_obj_t a = hwloc_get_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, i);
        for (unsigned j = 0; a && j < c->nr_nodes; j++) {
            hwloc_obj_t b = hwloc_get_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, j);
            unsigned d = NP_REMOTE_DISTANCE;
            if (!b)
                continue;
            if (i == j)
                d = NP_SLIT_LOCAL;
            else if (a->cpuset && b->cpuset && !hwloc_bitmap_iszero(a->cpuset) &&
                     hwloc_bitmap_isequal(a->cpuset, b->cpuset))
                d = NP_SAME_LOCALITY_DISTANCE;
            int rc = np_topology_builder_set_distance(c->b, a->os_index, b->os_index, d);
            if (rc < 0)
                return fail(c, rc, "distance from node %u to node %u: %s", a->os_index, b->os_index,
                            np_strerror(rc));
        }
    }
    return 0;
}

/* Picks the OS-given NUMA latency matrix that covers every node, preferring
 * the SLIT one by name; without one, distances come from locality
 * (add_locality_distances), else the builder's 10/20 default applies. */
static int add_distances(conv *c)
{
    unsigned long kind = HWLOC_DISTANCES_KIND_FROM_OS | HWLOC_DISTANCES_KIND_MEANS_LATENCY;
    struct hwloc_distances_s **all = NULL;
    struct hwloc_distances_s *chosen = NULL;
    const char *chosen_name = NULL;
    unsigned nr = 0, got;
    int rc = 0;

    if (hwloc_distances_get_by_type(c->topo, HWLOC_OBJ_NUMANODE, &nr, NULL, kind, 0) < 0 ||
        nr == 0)
        return add_locality_distances(c);
    all = calloc(nr, sizeof(*all));
    if (!all)
        return fail(c, -ENOMEM, "out of memory");
    got = nr;
    if (hwloc_distances_get_by_type(c->topo, HWLOC_OBJ_NUMANODE, &got, all, kind, 0) < 0) {
        rc = fail(c, -ENOMEM, "out of memory");
        goto out;
    }
    if (got > nr) /* matrices added in between cannot happen; keep what was filled */
        got = nr;
    for (unsigned i = 0; i < got; i++) {
        const char *name = hwloc_distances_get_name(c->topo, all[i]);
        if (!covers_all_nodes(c, all[i]))
            continue;
        bool slit = str_is(name, NP_HWLOC_SLIT_NAME);
        if (!chosen || (slit && !str_is(chosen_name, NP_HWLOC_SLIT_NAME))) {
            chosen = all[i];
            chosen_name = name;
        }
    }
    if (chosen)
        rc = set_distances(c, chosen, chosen_name ? chosen_name : "(unnamed)");
    else
        rc = add_locality_distances(c);
out:
    for (unsigned i = 0; i < got; i++)
        if (all[i])
            hwloc_distances_release(c->topo, all[i]);
    free(all);
    return rc;
}

/* A short name for a PCI device: hwloc's object name, else its first OS
 * device ("eth0", "nvme0n1", "mem0"), else the PCI database model, else the
 * subtype, else empty. */
static void device_name(hwloc_obj_t pci, char *buf, size_t len)
{
    const char *name = pci->name;

    for (hwloc_obj_t io = pci->io_first_child; !name && io; io = io->next_sibling)
        if (io->type == HWLOC_OBJ_OS_DEVICE && io->name)
            name = io->name;
    if (!name)
        name = hwloc_obj_get_info_by_name(pci, "PCIDevice");
    if (!name)
        name = pci->subtype;
    snprintf(buf, len, "%s", name ? name : "");
}

/* The node of a device (see file comment), or NP_TOPO_ID_UNKNOWN. */
static uint32_t device_node(conv *c, hwloc_obj_t pci)
{
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(c->topo, pci);
    hwloc_obj_t any = NULL, with_cpus = NULL;
    unsigned nr_any = 0, nr_with_cpus = 0;

    if (!anc || !anc->nodeset)
        return NP_TOPO_ID_UNKNOWN;
    for (hwloc_obj_t n = NULL; (n = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, n));) {
        if (!hwloc_bitmap_isset(anc->nodeset, n->os_index))
            continue;
        any = n;
        nr_any++;
        if (!hwloc_bitmap_iszero(c->node_cpus[n->logical_index])) {
            with_cpus = n;
            nr_with_cpus++;
        }
    }
    if (nr_with_cpus == 1)
        return with_cpus->os_index;
    if (nr_with_cpus == 0 && nr_any == 1)
        return any->os_index;
    return NP_TOPO_ID_UNKNOWN;
}

static int add_devices(conv *c)
{
    for (hwloc_obj_t pci = NULL; (pci = hwloc_get_next_pcidev(c->topo, pci));) {
        const struct hwloc_pcidev_attr_s *a = &pci->attr->pcidev;
        np_pci_info dev = {0};
        int rc;

        if (a->dev > 0x1f || a->func > 7)
            return fail(c, -EINVAL,
                        "PCI device %04x:%02x:%02x.%x: device must be at most 1f and function "
                        "at most 7",
                        a->domain, a->bus, a->dev, a->func);
        dev.domain = a->domain;
        dev.bus = a->bus;
        dev.dev = a->dev;
        dev.fn = a->func;
        dev.vendor_id = a->vendor_id;
        dev.device_id = a->device_id;
        /* hwloc 2 keeps class and subclass, not the programming interface */
        dev.class_code = (uint32_t)a->class_id << 8;
        device_name(pci, dev.name, sizeof(dev.name));
        rc = np_topology_builder_add_device(c->b, &dev, device_node(c, pci));
        if (rc < 0)
            return fail(c, rc, "cannot add PCI device %04x:%02x:%02x.%x: %s", a->domain, a->bus,
                        a->dev, a->func,
                        rc == -E2BIG ? "more devices than numaplace handles" : np_strerror(rc));
    }
    return 0;
}

/* One attribute value from an initiator's CPUs to a target node; 0 when
 * hwloc has none. `fallback` is the read-only variant, which some firmware
 * reports alone. */
static uint64_t memattr_value(conv *c, hwloc_memattr_id_t id, hwloc_memattr_id_t fallback,
                              hwloc_obj_t target, hwloc_bitmap_t initiator_cpus)
{
    struct hwloc_location loc;
    hwloc_uint64_t v = 0;

    loc.type = HWLOC_LOCATION_TYPE_CPUSET;
    loc.location.cpuset = initiator_cpus;
    if (hwloc_memattr_get_value(c->topo, id, target, &loc, 0, &v) == 0 && v)
        return v;
    if (hwloc_memattr_get_value(c->topo, fallback, target, &loc, 0, &v) == 0)
        return v;
    return 0;
}

static int add_memattrs(conv *c)
{
    for (hwloc_obj_t t = NULL; (t = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, t));) {
        for (hwloc_obj_t i = NULL;
             (i = hwloc_get_next_obj_by_type(c->topo, HWLOC_OBJ_NUMANODE, i));) {
            hwloc_bitmap_t cpus = c->node_cpus[i->logical_index];
            np_memattr attr;
            int rc;

            if (hwloc_bitmap_iszero(cpus)) /* CPU-less nodes initiate nothing */
                continue;
            attr.bandwidth_mbps = memattr_value(c, HWLOC_MEMATTR_ID_BANDWIDTH,
                                                HWLOC_MEMATTR_ID_READ_BANDWIDTH, t, cpus);
            attr.latency_ns = memattr_value(c, HWLOC_MEMATTR_ID_LATENCY,
                                            HWLOC_MEMATTR_ID_READ_LATENCY, t, cpus);
            if (!attr.bandwidth_mbps && !attr.latency_ns)
                continue;
            rc = np_topology_builder_set_memattr(c->b, i->os_index, t->os_index, &attr);
            if (rc < 0)
                return fail(c, rc, "cannot record memory attributes from node %u to node %u",
                            i->os_index, t->os_index);
        }
    }
    return 0;
}

/* hwloc topology -> np_topology named `name`; errors name `origin`. */
static int convert(hwloc_topology_t topo, const char *name, const char *origin,
                   np_linux_ctx *sys, np_topology **out, np_error *err)
{
    conv c = {.topo = topo, .origin = origin, .err = err, .sys = sys};
    int nr_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    int rc;

    c.nr_nodes = nr_nodes > 0 ? (unsigned)nr_nodes : 0;
    rc = np_topology_builder_create(&c.b);
    if (rc < 0) {
        rc = fail(&c, rc, "out of memory");
        goto out;
    }
    c.node_cpus = calloc(c.nr_nodes ? c.nr_nodes : 1, sizeof(*c.node_cpus));
    rc = c.node_cpus ? np_topology_builder_set_name(c.b, name) : -ENOMEM;
    if (rc < 0) {
        rc = fail(&c, rc, "out of memory");
        goto out;
    }
    if ((rc = choose_id_schemes(&c)) < 0 || (rc = add_nodes(&c)) < 0 ||
        (rc = add_cpus(&c)) < 0 || (rc = add_distances(&c)) < 0 ||
        (rc = add_devices(&c)) < 0 || (rc = add_memattrs(&c)) < 0)
        goto out;
    if (err) /* finish fills line and message, not the origin */
        snprintf(err->origin, sizeof(err->origin), "%s", origin);
    rc = np_topology_builder_finish(c.b, out, err);
out:
    if (c.node_cpus)
        for (unsigned i = 0; i < c.nr_nodes; i++)
            hwloc_bitmap_free(c.node_cpus[i]);
    free(c.node_cpus);
    np_topology_builder_destroy(c.b);
    return rc;
}

/* A fresh hwloc topology that keeps the PCI devices hwloc deems important
 * (network, storage, GPUs, accelerators, CXL memory; not bridges) and the
 * CPUs and nodes a cgroup hides (see file comment). */
static int topology_new(hwloc_topology_t *topo_out, const char *origin, np_error *err)
{
    if (hwloc_topology_init(topo_out) < 0) {
        np_error_set(err, origin, 0, "cannot initialise hwloc: out of memory");
        return -ENOMEM;
    }
    if (hwloc_topology_set_io_types_filter(*topo_out, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) < 0 ||
        hwloc_topology_set_flags(*topo_out, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED) < 0) {
        hwloc_topology_destroy(*topo_out);
        *topo_out = NULL;
        return np_error_set(err, origin, 0, "hwloc refused its settings");
    }
    return 0;
}

/* hwloc's reason for a failure, from errno right after it. */
static const char *hwloc_reason(int saved_errno)
{
    return saved_errno ? np_strerror(-saved_errno) : "no reason given";
}

/* ---- this machine ------------------------------------------------------------ */

/* Loads hwloc's view of the Linux tree at root and converts it; name and
 * origin label the result and the errors. */
static int read_linux(const char *root, const char *name, np_topology **out, np_error *err)
{
    hwloc_topology_t topo = NULL;
    np_linux_ctx *sys = NULL;
    int rc = topology_new(&topo, name, err);

    if (rc < 0)
        return rc;
    errno = 0;
    if (hwloc_topology_load(topo) < 0) {
        rc =
            np_error_set(err, name, 0, "hwloc could not read %s: %s",
                         strcmp(root, "/") ? root : "this machine's topology", hwloc_reason(errno));
        goto out;
    }
    /* hwloc 2.9 takes the root of its Linux backend from HWLOC_FSROOT only;
     * when the program did not point it at root, hwloc read this machine. */
    if (strcmp(root, "/") != 0 && hwloc_topology_is_thissystem(topo)) {
        rc = np_error_set(err, name, 0,
                          "hwloc read this machine, not %s: hwloc 2.9 takes the root of a "
                          "captured tree only from the environment (HWLOC_FSROOT=%s)",
                          root, root);
        goto out;
    }
    /* Free memory from the node meminfo files of the same tree; without
     * them free stays equal to total. */
    if (np_linux_ctx_create(root, NULL, NULL, &sys) < 0)
        sys = NULL;
    rc = convert(topo, name, name, sys, out, err);
    np_linux_ctx_destroy(sys);
out:
    hwloc_topology_destroy(topo);
    return rc;
}

/* hwloc's Linux backend reads /sys and /proc; hwloc also honours
 * HWLOC_COMPONENTS, HWLOC_XMLFILE and the like for this source. */
int np_topology_read_live(np_topology **out, np_error *err)
{
    return read_linux("/", "live", out, err);
}

/* What hwloc 2.9 cannot take from a captured tree: no root, or a
 * sys/devices/system/node directory without any nodeN (hwloc asserts
 * nbnodes >= 1 and aborts the process). *no_node_dir: the tree has no node
 * directory at all (a kernel without NUMA: hwloc reads one node). */
static int sysfs_precheck(const char *root, const char *origin, bool *no_node_dir, np_error *err)
{
    char path[4200];
    struct stat st;
    DIR *dir;
    unsigned nodes = 0;

    *no_node_dir = false;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return np_error_set(err, origin, 0,
                            "%s is not a directory (expected the root of a "
                            "captured /sys and /proc tree)",
                            root);
    snprintf(path, sizeof(path), "%s/sys/devices/system/cpu", root);
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return np_error_set(err, origin, 0,
                            "no sys/devices/system/cpu under %s: not the root "
                            "of a captured sysfs tree",
                            root);
    snprintf(path, sizeof(path), "%s/sys/devices/system/node", root);
    dir = opendir(path);
    if (!dir) {
        if (errno != ENOENT)
            return np_error_set(err, origin, 0, "cannot read %s: %s", path, strerror(errno));
        *no_node_dir = true;
        return 0;
    }
    for (struct dirent *e; (e = readdir(dir));)
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            nodes++;
    closedir(dir);
    if (nodes == 0)
        return np_error_set(err, origin, 0,
                            "%s holds no NUMA node (no node0, node1, ...): "
                            "not a complete capture",
                            path);
    return 0;
}

int np_topology_read_sysfs(const char *root, np_topology **out, np_error *err)
{
    char name[600];
    bool no_node_dir;
    int rc;

    if (!root || !*root)
        return np_error_set(err, "sysfs:", 0, "no directory given after sysfs:");
    snprintf(name, sizeof(name), "sysfs:%s", root);
    rc = sysfs_precheck(root, name, &no_node_dir, err);
    if (rc)
        return rc;
    /* A tree without a node directory is a kernel without NUMA: hwloc
     * reads it as one node, and the name says so. */
    if (no_node_dir)
        snprintf(name, sizeof(name), "sysfs:%s (no node directory: one node)", root);
    return read_linux(root, name, out, err);
}

/* ---- hwloc XML ----------------------------------------------------------------- */

static bool all_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return false;
    return true;
}

int np_topology_read_hwloc_xml(const char *text, size_t len, const char *origin,
                               np_topology **out, np_error *err)
{
    hwloc_topology_t topo = NULL;
    np_hwloc_xml_counts chk = {0};
    char *xml = NULL;
    size_t xml_len = 0;
    int rc;

    if (!origin)
        origin = "<hwloc-xml>";
    if (!text || all_blank(text, len))
        return np_error_set(err, origin, 0,
                            "empty input; expected an hwloc XML topology (`lstopo --of xml`)");
    if (len > NP_HWLOC_XML_MAX_BYTES)
        return np_error_set(err, origin, 0, "input of %zu bytes is too large for hwloc", len);
    rc = np_hwloc_xml_check(text, len, origin, &xml, &xml_len, &chk, err);
    if (rc < 0)
        return rc;
    rc = topology_new(&topo, origin, err);
    if (rc < 0)
        goto out;
    errno = 0;
    if (hwloc_topology_set_xmlbuffer(topo, xml, (int)xml_len) < 0 ||
        hwloc_topology_load(topo) < 0) {
        rc = np_error_set(err, origin, 0,
                          "not a valid hwloc XML topology: hwloc rejected it (%s); "
                          "`HWLOC_XML_VERBOSE=1 lstopo -i FILE` shows hwloc's reason",
                          hwloc_reason(errno));
        goto out;
    }
    /* hwloc drops, without a word, objects that do not fit in their parent
     * (a CPU set outside the parent's); never keep half a machine */
    if ((unsigned long)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU) < chk.nr_pus ||
        (unsigned long)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) < chk.nr_nodes) {
        rc = np_error_set(err, origin, 0,
                          "inconsistent hwloc XML topology: hwloc kept %d of %lu CPUs and %d of "
                          "%lu NUMA nodes; the others do not fit inside their parent objects",
                          hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU), chk.nr_pus,
                          hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE), chk.nr_nodes);
        goto out;
    }
    rc = convert(topo, origin, origin, NULL, out, err);
out:
    if (topo)
        hwloc_topology_destroy(topo);
    free(xml);
    return rc;
}

/* ---- hwloc synthetic ------------------------------------------------------------- */

/* Checks the "(attributes)" at p (memory=..., indexes=...) and returns the
 * text after them; NULL with err filled when they are refused. An
 * "indexes=" list gives the objects' OS numbers, which hwloc sizes bitmaps
 * by, so each must stay below NP_TOPO_MAX_CPUS; the interleaved forms
 * ("indexes=pack:core", "indexes=pa") make hwloc 2.9 assert on some
 * descriptions ("hwloc_synthetic_process_indexes: Assertion `step'",
 * found by fuzz_synthetic), so only digits and commas are accepted. */
static const char *synthetic_attrs(const char *p, const char *origin, np_error *err)
{
    const char *close = strchr(p, ')');
    const char *q = p + 1;

    if (!close) {
        np_error_set(err, origin, 0, "unterminated \"(\" in the synthetic description");
        return NULL;
    }
    while (q < close) {
        const char *v;
        if (strncmp(q, "indexes=", 8) != 0) {
            q++;
            continue;
        }
        for (v = q + 8; v < close && *v != ' '; v++) {
            if (*v != ',' && (*v < '0' || *v > '9')) {
                np_error_set(err, origin, 0,
                             "indexes= takes the OS numbers as a list, like indexes=0,2,1,3; "
                             "interleaved forms (indexes=TYPE or TYPE:TYPE) are not supported");
                return NULL;
            }
            if (*v >= '0' && *v <= '9') {
                uint64_t index = 0;
                for (; v < close && *v >= '0' && *v <= '9' && index < NP_TOPO_MAX_CPUS; v++)
                    index = index * 10 + (uint64_t)(*v - '0');
                if (index >= NP_TOPO_MAX_CPUS) {
                    np_error_set(err, origin, 0, "index in indexes= must be below %u",
                                 NP_TOPO_MAX_CPUS);
                    return NULL;
                }
                v--;
            }
        }
        q = v;
    }
    return close + 1;
}

/* The level structure rules hwloc 2.9 checks once a description is read;
 * it leaks when they fail after a "[numa]" token, so they are checked here
 * first. levels[] holds each level's type, typed[] whether it was named. */
static int synthetic_check_levels(const hwloc_obj_type_t *levels, const bool *typed, size_t n,
                                  bool numa_attached, const char *origin, np_error *err)
{
    static const struct {
        hwloc_obj_type_t type;
        const char *name;
    } single[] = {{HWLOC_OBJ_PU, "pu"},     {HWLOC_OBJ_PACKAGE, "package"},
                  {HWLOC_OBJ_DIE, "die"},   {HWLOC_OBJ_NUMANODE, "numa"},
                  {HWLOC_OBJ_CORE, "core"}};
    size_t untyped_inner = 0;

    if (n == 0)
        return np_error_set(err, origin, 0, "no level in the synthetic description");
    if (typed[n - 1] && levels[n - 1] != HWLOC_OBJ_PU)
        return np_error_set(err, origin, 0,
                            "the last level of a synthetic description must be the CPUs "
                            "(pu:COUNT)");
    for (size_t k = 0; k < sizeof(single) / sizeof(single[0]); k++) {
        size_t seen = 0;
        for (size_t i = 0; i < n; i++)
            seen += (i == n - 1 && !typed[i]) ? single[k].type == HWLOC_OBJ_PU
                                              : typed[i] && levels[i] == single[k].type;
        if (seen > 1)
            return np_error_set(err, origin, 0, "more than one %s level", single[k].name);
        if (seen && single[k].type == HWLOC_OBJ_NUMANODE && numa_attached)
            return np_error_set(err, origin, 0,
                                "NUMA nodes both as a level and attached with [numa]");
    }
    for (size_t i = 0; i + 1 < n; i++)
        untyped_inner += !typed[i];
    if (untyped_inner && untyped_inner != n - 1)
        return np_error_set(err, origin, 0,
                            "levels with and without a type; name them all (pack:2 core:4 "
                            "pu:2) or none (2 4 2)");
    return 0;
}

/* Reads a description the way hwloc 2.9's synthetic backend does: an
 * optional "(attributes)" for the machine, then levels
 * "[TYPE:]COUNT[(attributes)]" separated by blanks, with "[numa...]"
 * attached-memory tokens between them. It refuses, with a reason hwloc
 * would not give, what hwloc would refuse at the level structure, unknown
 * types, and machines too large to build quickly. The CPU count is the
 * product of the counts: "pack:2 core:4 pu:2" makes 2, 8 and 16 objects,
 * 16 CPUs. What this scan does not follow (attribute contents) is left for
 * hwloc to refuse. */
static int synthetic_precheck(const char *desc, const char *origin, np_error *err)
{
    hwloc_obj_type_t levels[NP_HWLOC_SYNTH_MAX_LEVELS];
    bool typed[NP_HWLOC_SYNTH_MAX_LEVELS];
    const char *p = desc;
    uint64_t width = 1, objs = 1;
    bool numa_attached = false;
    union hwloc_obj_attr_u attr;
    size_t n = 0;

    if (*p == '(' && !(p = synthetic_attrs(p, origin, err)))
        return -EINVAL;
    while (*p) {
        hwloc_obj_type_t type = HWLOC_OBJ_PU;
        unsigned long long count;
        char *end;

        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (n >= NP_HWLOC_SYNTH_MAX_LEVELS)
            return np_error_set(err, origin, 0, "more than %u levels",
                                NP_HWLOC_SYNTH_MAX_LEVELS - 1);
        if (*p == '[') {
            if (hwloc_type_sscanf(p + 1, &type, &attr, sizeof(attr)) < 0 ||
                type != HWLOC_OBJ_NUMANODE)
                return np_error_set(err, origin, 0,
                                    "only NUMA nodes can be attached with [numa...], at "
                                    "\"%.32s\"",
                                    p);
            end = strchr(p, ']');
            if (!end)
                return np_error_set(err, origin, 0, "unterminated \"[\" in the synthetic "
                                                    "description");
            p = strchr(p, '(');
            if (p && p < end && !synthetic_attrs(p, origin, err))
                return -EINVAL;
            numa_attached = true;
            p = end + 1;
            continue;
        }
        typed[n] = *p < '0' || *p > '9';
        if (typed[n]) {
            if (hwloc_type_sscanf(p, &type, &attr, sizeof(attr)) < 0)
                return np_error_set(err, origin, 0,
                                    "unknown object type at \"%.32s\"; expected pack, die, "
                                    "numa, l3, core, pu, group, ...",
                                    p);
            p = strchr(p, ':');
            if (!p)
                return np_error_set(err, origin, 0, "a level type without \":COUNT\"");
            p++;
        }
        errno = 0;
        count = strtoull(p, &end, 0); /* hwloc reads counts with strtoul(.., 0) */
        if (end == p || count == 0)
            return np_error_set(err, origin, 0, "expected a count above 0 at \"%.32s\"", p);
        if (errno == ERANGE || count > NP_HWLOC_SYNTH_MAX_ARITY ||
            width * count > NP_HWLOC_SYNTH_MAX_CPUS ||
            objs + width * count > NP_HWLOC_SYNTH_MAX_OBJS)
            return np_error_set(err, origin, 0,
                                "synthetic machine too large: at most %u CPUs, %u objects in "
                                "all levels and %u children per object",
                                NP_HWLOC_SYNTH_MAX_CPUS, NP_HWLOC_SYNTH_MAX_OBJS,
                                NP_HWLOC_SYNTH_MAX_ARITY);
        width *= count;
        objs += width;
        levels[n++] = type;
        p = end;
        if (*p == '(' && !(p = synthetic_attrs(p, origin, err)))
            return -EINVAL;
    }
    return synthetic_check_levels(levels, typed, n, numa_attached, origin, err);
}

int np_topology_read_hwloc_synthetic(const char *desc, np_topology **out, np_error *err)
{
    static const char example[] = "\"pack:2 numa:1 core:4 pu:2\" or \"numa:2(memory=16GB) pu:4\"";
    hwloc_topology_t topo = NULL;
    char name[sizeof("synthetic:") + NP_HWLOC_SYNTH_MAX_LEN];
    int rc;

    if (!desc || !*desc)
        return np_error_set(err, "synthetic", 0,
                            "empty synthetic description; expected levels like %s", example);
    if (strnlen(desc, NP_HWLOC_SYNTH_MAX_LEN + 1) > NP_HWLOC_SYNTH_MAX_LEN)
        return np_error_set(err, "synthetic", 0,
                            "synthetic description longer than %u characters",
                            NP_HWLOC_SYNTH_MAX_LEN);
    snprintf(name, sizeof(name), "synthetic:%s", desc);
    rc = synthetic_precheck(desc, name, err);
    if (rc < 0)
        return rc;
    rc = topology_new(&topo, name, err);
    if (rc < 0)
        return rc;
    if (hwloc_topology_set_synthetic(topo, desc) < 0 || hwloc_topology_load(topo) < 0) {
        rc = np_error_set(err, name, 0,
                          "not a valid hwloc synthetic description: expected blank-separated "
                          "levels TYPE:COUNT ending with pu:COUNT, like %s",
                          example);
        goto out;
    }
    rc = convert(topo, name, name, NULL, out, err);
out:
    hwloc_topology_destroy(topo);
    return rc;
}
