/*
 * numaplace/topology.h - the host's NUMA topology: nodes, CPUs, memory,
 * distances, PCI devices and memory attributes.
 *
 * A topology is immutable once built. Nodes and CPUs are stored densely and
 * addressed by an index (`*_idx`, 0..n-1); the OS's own numbers (`os_id`),
 * which may be sparse (nodes 0,2,5), are kept beside them and never mixed
 * with indices. Copying is a reference count: np_topology_ref() returns the
 * same object, and np_topology_destroy() drops one reference, so snapshots
 * handed to policies and threads are free.
 *
 * Topologies come from a reader (live host through hwloc, hwloc XML or
 * synthetic text, `numactl --hardware` text, `xl info -n` text, built-in
 * named hosts) or from an np_topology_builder. Every reader validates the
 * whole input and either returns a complete topology or an error naming the
 * origin, line and what was expected; it never returns a partial result.
 */
#ifndef NUMAPLACE_TOPOLOGY_H
#define NUMAPLACE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_topology np_topology;
typedef struct np_topology_builder np_topology_builder;

/* Limits a topology may reach (larger input is rejected as malformed). */
#define NP_TOPO_MAX_NODES 1024u     /* Linux MAX_NUMNODES with NODES_SHIFT=10 */
#define NP_TOPO_MAX_CPUS 65536u
#define NP_TOPO_MAX_DEVICES 65536u
#define NP_TOPO_MAX_DISTANCE 65535u /* SLIT entries are bytes; hwloc may scale */
#define NP_TOPO_ID_UNKNOWN UINT32_MAX

/* What kind of memory a node holds. DRAM for ordinary nodes; the others are
 * CPU-less memory nodes in practice (HBM, persistent memory, CXL). */
typedef enum np_mem_kind {
    NP_MEM_DRAM = 0,
    NP_MEM_HBM,
    NP_MEM_PMEM,
    NP_MEM_CXL,
    NP_MEM_OTHER,
} np_mem_kind;

const char *np_mem_kind_name(np_mem_kind kind);

typedef struct np_node_info {
    uint32_t os_id;           /* node number as the OS or Xen numbers it */
    uint64_t mem_total_bytes; /* 0 for a memory-less node */
    uint64_t mem_free_bytes;  /* at capture time; <= mem_total_bytes */
    uint32_t nr_cpus;         /* 0 for a CPU-less node */
    uint32_t nr_cores;        /* distinct (package, core) pairs among its CPUs */
    np_mem_kind mem_kind;
} np_node_info;

typedef struct np_cpu_info {
    uint32_t os_id;      /* logical CPU number */
    uint32_t package_id; /* socket, NP_TOPO_ID_UNKNOWN when the source has none */
    uint32_t core_id;    /* core within the package, or NP_TOPO_ID_UNKNOWN */
    uint32_t thread_idx; /* 0 for the first hyper-thread of a core, 1 for the next */
    uint32_t node_idx;   /* dense index of its node */
} np_cpu_info;

#define NP_PCI_NAME_MAX 64
typedef struct np_pci_info {
    uint32_t domain; /* PCI segment */
    uint8_t bus, dev, fn;
    int32_t node_idx;    /* dense node index, -1 when the platform does not say */
    uint16_t vendor_id;  /* 0 when unknown */
    uint16_t device_id;
    uint32_t class_code; /* 24-bit class/subclass/prog-if, 0 when unknown */
    char name[NP_PCI_NAME_MAX];
} np_pci_info;

/* Bandwidth and latency from an initiator node's CPUs to a target node's
 * memory, as ACPI HMAT reports it through hwloc. 0 means not reported. */
typedef struct np_memattr {
    uint64_t bandwidth_mbps;
    uint64_t latency_ns;
} np_memattr;

/* ---- reading the model ---------------------------------------------------- */

np_topology *np_topology_ref(np_topology *topo);
void np_topology_destroy(np_topology *topo); /* drops one reference; NULL ok */

const char *np_topology_name(const np_topology *topo); /* e.g. "builtin:2s-2n" */
size_t np_topology_nr_nodes(const np_topology *topo);
size_t np_topology_nr_cpus(const np_topology *topo);
size_t np_topology_nr_devices(const np_topology *topo);

const np_node_info *np_topology_node(const np_topology *topo, size_t node_idx);
const np_cpu_info *np_topology_cpu(const np_topology *topo, size_t cpu_idx);
const np_pci_info *np_topology_device(const np_topology *topo, size_t dev_idx);

/* CPUs of a node as a mask of CPU os_ids; the mask is owned by the topology. */
const np_bitmap *np_topology_node_cpuset(const np_topology *topo, size_t node_idx);
/* Distance from node i to node j (SLIT units: 10 = local). */
uint32_t np_topology_distance(const np_topology *topo, size_t from_idx, size_t to_idx);
/* Sum over nodes of memory, and the largest CPU os_id + 1. */
uint64_t np_topology_mem_total_bytes(const np_topology *topo);
uint32_t np_topology_cpu_id_limit(const np_topology *topo);

/* Lookups by OS id: 0 and the index, or -ENOENT. */
int np_topology_node_idx(const np_topology *topo, uint32_t node_os_id, size_t *idx_out);
int np_topology_cpu_idx(const np_topology *topo, uint32_t cpu_os_id, size_t *idx_out);
/* Looks a device up by "DDDD:BB:DD.F" or "BB:DD.F"; -ENOENT or -EINVAL. */
int np_topology_device_find(const np_topology *topo, const char *bdf, size_t *idx_out);
/* "0000:03:00.0" into buf (at least 13 bytes). */
const char *np_pci_format_bdf(const np_pci_info *dev, char *buf, size_t len);
/* Parses "DDDD:BB:DD.F" or "BB:DD.F". */
int np_pci_parse_bdf(const char *text, uint32_t *domain, uint8_t *bus, uint8_t *dev,
                     uint8_t *fn);

/* 0 and the attribute, or -ENODATA when the source had no HMAT data. */
int np_topology_memattr(const np_topology *topo, size_t initiator_idx, size_t target_idx,
                        np_memattr *out);
bool np_topology_has_memattrs(const np_topology *topo);

/* ---- building one ------------------------------------------------------------ */

int np_topology_builder_create(np_topology_builder **out);
void np_topology_builder_destroy(np_topology_builder *b);
int np_topology_builder_set_name(np_topology_builder *b, const char *name);
/* Adds a node; -EEXIST for a duplicate os_id, -E2BIG past NP_TOPO_MAX_NODES,
 * -EINVAL when free > total. */
int np_topology_builder_add_node(np_topology_builder *b, uint32_t node_os_id,
                                 uint64_t mem_total_bytes, uint64_t mem_free_bytes);
int np_topology_builder_set_mem_kind(np_topology_builder *b, uint32_t node_os_id,
                                     np_mem_kind kind);
/* Adds a CPU on a node already added; package/core may be NP_TOPO_ID_UNKNOWN.
 * -EEXIST when the CPU is already on a node, -ENOENT for an unknown node. */
int np_topology_builder_add_cpu(np_topology_builder *b, uint32_t cpu_os_id,
                                uint32_t node_os_id, uint32_t package_id, uint32_t core_id);
/* Sets distance(from, to). Unset pairs: when no distance at all is given the
 * matrix defaults to 10 local / 20 remote (what Linux assumes without SLIT);
 * otherwise every pair must be given. */
int np_topology_builder_set_distance(np_topology_builder *b, uint32_t from_os_id,
                                     uint32_t to_os_id, uint32_t distance);
/* dev->node_idx is ignored; node_os_id NP_TOPO_ID_UNKNOWN means unknown. */
int np_topology_builder_add_device(np_topology_builder *b, const np_pci_info *dev,
                                   uint32_t node_os_id);
int np_topology_builder_set_memattr(np_topology_builder *b, uint32_t initiator_os_id,
                                    uint32_t target_os_id, const np_memattr *attr);
/* Validates and freezes: nodes sorted by os_id, CPUs by os_id, hyper-thread
 * indices derived from (package, core). Checks that there is at least one
 * node and one CPU, distances are complete, positive, symmetric and smallest
 * on the diagonal. On error fills err (origin untouched, msg set) and leaves
 * the builder usable for destroy only. */
int np_topology_builder_finish(np_topology_builder *b, np_topology **out, np_error *err);

/* ---- readers ----------------------------------------------------------------- */

typedef enum np_topo_format {
    NP_TOPO_FMT_AUTO = 0,
    NP_TOPO_FMT_HWLOC_XML,
    NP_TOPO_FMT_NUMACTL,   /* `numactl --hardware` text */
    NP_TOPO_FMT_XL_INFO,   /* `xl info -n` text */
    NP_TOPO_FMT_SYNTHETIC, /* hwloc synthetic description */
} np_topo_format;

const char *np_topo_format_name(np_topo_format fmt);
int np_topo_format_parse(const char *name, np_topo_format *out);
/* Guess the format of a text; NP_TOPO_FMT_AUTO when it cannot tell. */
np_topo_format np_topo_format_detect(const char *text, size_t len);

/* Each reader takes the whole text (need not be NUL-terminated) and an
 * origin for error messages. */
int np_topology_read_numactl(const char *text, size_t len, const char *origin,
                             np_topology **out, np_error *err);
int np_topology_read_xl_info(const char *text, size_t len, const char *origin,
                             np_topology **out, np_error *err);
int np_topology_read_hwloc_xml(const char *text, size_t len, const char *origin,
                               np_topology **out, np_error *err);
int np_topology_read_hwloc_synthetic(const char *desc, np_topology **out, np_error *err);
/* This machine, through hwloc, with PCI devices. */
int np_topology_read_live(np_topology **out, np_error *err);
/* A captured Linux /sys and /proc tree rooted at root (hwloc's test
 * tarballs unpacked, or a copy of a machine's), read by hwloc's Linux
 * backend. hwloc 2.9 takes that backend's root only from the environment
 * variable HWLOC_FSROOT, which the library never reads or sets: the
 * program sets HWLOC_FSROOT=root before calling (and usually
 * HWLOC_COMPONENTS=linux,stop, so that hwloc adds nothing of the machine
 * it runs on); an error says so when hwloc read this machine instead.
 * Refused before hwloc sees it: a root without sys/devices/system/cpu, and
 * a node directory without any nodeN (hwloc 2.9 aborts on it). A tree
 * without a node directory reads as one node, and its name says so. */
int np_topology_read_sysfs(const char *root, np_topology **out, np_error *err);

/* Built-in example hosts (see docs/hosts.md for where their figures come from). */
size_t np_topology_builtin_count(void);
const char *np_topology_builtin_name(size_t i);
const char *np_topology_builtin_summary(size_t i);
int np_topology_builtin(const char *name, np_topology **out, np_error *err);

/* One entry point for user-given sources: "live", "builtin:NAME",
 * "synthetic:DESC", or a file path ("-" = stdin) read in `fmt` or detected. */
int np_topology_open(const char *source, np_topo_format fmt, np_topology **out, np_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_TOPOLOGY_H */
