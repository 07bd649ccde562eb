/*
 * xen/xen_int.h - translation between libxl's types and numaplace's, kept
 * apart from the calls into libxl so it is tested on synthetic libxl data
 * (tests/unit/test_xen_translate.c) on a machine without Xen.
 */
#ifndef NP_XEN_INT_H
#define NP_XEN_INT_H

#include <libxl.h>

#include <numaplace/backend.h>
#include <numaplace/bitmap.h>
#include <numaplace/guest.h>
#include <numaplace/place.h>
#include <numaplace/topology.h>
#include <numaplace/xen.h>

/* A libxl error code (ERROR_*, negative) as a negative errno. */
int np_xen_errno(int libxl_rc);
/* libxl's name for its error code ("ERROR_DOMAIN_NOTFOUND"), for logs. */
const char *np_xen_error_name(int libxl_rc);

/* A topology from what libxl_get_numainfo, libxl_get_cpu_topology and
 * libxl_get_pci_topology return. Entries libxl marks invalid (absent node,
 * offline CPU, device without a node) are skipped or read as unknown.
 * -EINVAL with err filled (origin "xen") when the data is inconsistent. */
int np_xen_topology_from_libxl(const libxl_numainfo *numa, int nr_nodes,
                               const libxl_cputopology *cpus, int nr_cpus,
                               const libxl_pcitopology *devs, int nr_devs, np_topology **out,
                               np_error *err);

/* libxl_bitmap <-> np_bitmap (bit i = CPU or node os_id i). The libxl one
 * is allocated with calloc, freed by libxl_bitmap_dispose() or free(map). */
int np_xen_bitmap_to_np(const libxl_bitmap *lb, np_bitmap **out);
int np_xen_bitmap_from_np(const np_bitmap *map, uint32_t nr_bits, libxl_bitmap *out);

/* One vCPU of libxl_list_vcpu as a backend vCPU. A mask holding every CPU
 * of `topo` reads as no restriction (NULL), as xl prints it "all". */
int np_xen_vcpu_from_libxl(const libxl_vcpuinfo *vi, const np_topology *topo,
                           np_backend_vcpu *out);

/* Per-node memory of domain `domid` from a `u` dump, by the topology's
 * node_idx, in bytes. -ENOENT when the dump does not list the domain. */
int np_xen_guest_node_mem(const np_xen_numa_dump *dump, uint32_t domid,
                          const np_topology *topo, uint64_t *node_mem_bytes);

/* The libxl context of an open np_xen (backend_xen.c). */
libxl_ctx *np_xen_ctx(np_xen *xen);
/* Logs "what failed: libxl error N (NAME)" and returns np_xen_errno(N). */
int np_xen_fail(np_xen *xen, const char *what, int libxl_rc);

/* The libxl domain configuration `numaplace create` builds (xen_config.c):
 * the xl.cfg `text` (name, type, memory, maxmem, vcpus, kernel, ramdisk,
 * cmdline/extra/root, disk, pci, on_* actions; any other key is refused by
 * name with its line) and the placement (nodemap, vCPU soft or hard
 * affinity, vnuma, numa_placement off). nr_cpus/nr_nodes: the sizes of
 * libxl's CPU and node bitmaps. `dc` comes initialised
 * (libxl_domain_config_init) and is disposed by the caller, also on error.
 * Bad input: -EINVAL or -ENOTSUP with err naming the line. */
int np_xen_config_build(const char *text, size_t len, const char *origin, int nr_cpus,
                        int nr_nodes, const np_topology *topo, const np_guest_spec *spec,
                        const np_placement *pl, libxl_domain_config *dc, np_error *err);

#endif
