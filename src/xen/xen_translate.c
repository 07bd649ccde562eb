/*
 * xen/xen_translate.c - libxl's types into numaplace's and back: error
 * codes, the host topology, bitmaps, vCPUs and per-node domain memory.
 * Pure: no call into libxl that needs a context, so every function is
 * tested on synthetic libxl data without a hypervisor.
 */
#include "xen/xen_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const struct {
    int code;
    int err; /* negative errno */
    const char *name;
} libxl_errors[] = {
    {ERROR_NONSPECIFIC, -EIO, "ERROR_NONSPECIFIC"},
    {ERROR_VERSION, -ENOTSUP, "ERROR_VERSION"},
    {ERROR_FAIL, -EIO, "ERROR_FAIL"},
    {ERROR_NI, -ENOSYS, "ERROR_NI"},
    {ERROR_NOMEM, -ENOMEM, "ERROR_NOMEM"},
    {ERROR_INVAL, -EINVAL, "ERROR_INVAL"},
    {ERROR_BADFAIL, -EIO, "ERROR_BADFAIL"},
    {ERROR_GUEST_TIMEDOUT, -ETIMEDOUT, "ERROR_GUEST_TIMEDOUT"},
    {ERROR_TIMEDOUT, -ETIMEDOUT, "ERROR_TIMEDOUT"},
    {ERROR_NOPARAVIRT, -ENOTSUP, "ERROR_NOPARAVIRT"},
    {ERROR_NOT_READY, -EAGAIN, "ERROR_NOT_READY"},
    {ERROR_BUFFERFULL, -ENOBUFS, "ERROR_BUFFERFULL"},
    {ERROR_LOCK_FAIL, -EBUSY, "ERROR_LOCK_FAIL"},
    {ERROR_DEVICE_EXISTS, -EEXIST, "ERROR_DEVICE_EXISTS"},
    {ERROR_VNUMA_CONFIG_INVALID, -EINVAL, "ERROR_VNUMA_CONFIG_INVALID"},
    {ERROR_DOMAIN_NOTFOUND, -ENOENT, "ERROR_DOMAIN_NOTFOUND"},
    {ERROR_ABORTED, -ECANCELED, "ERROR_ABORTED"},
    {ERROR_NOTFOUND, -ENOENT, "ERROR_NOTFOUND"},
    {ERROR_DOMAIN_DESTROYED, -ENOENT, "ERROR_DOMAIN_DESTROYED"},
    {ERROR_FEATURE_REMOVED, -ENOTSUP, "ERROR_FEATURE_REMOVED"},
};

int np_xen_errno(int libxl_rc)
{
    if (libxl_rc >= 0)
        return 0;
    for (size_t i = 0; i < sizeof(libxl_errors) / sizeof(libxl_errors[0]); i++)
        if (libxl_errors[i].code == libxl_rc)
            return libxl_errors[i].err;
    return -EIO; /* a code newer than this table: still a failure */
}

const char *np_xen_error_name(int libxl_rc)
{
    if (libxl_rc >= 0)
        return "OK";
    for (size_t i = 0; i < sizeof(libxl_errors) / sizeof(libxl_errors[0]); i++)
        if (libxl_errors[i].code == libxl_rc)
            return libxl_errors[i].name;
    return "ERROR_UNKNOWN";
}

/* libxl widens its 32-bit invalid marker into the 64-bit numainfo fields. */
static bool numa_valid(uint64_t v)
{
    return v != LIBXL_NUMAINFO_INVALID_ENTRY && v != UINT64_MAX;
}

static int add_nodes(np_topology_builder *b, const libxl_numainfo *numa, int nr_nodes,
                     np_error *err)
{
    int rc;
    for (int i = 0; i < nr_nodes; i++) {
        if (!numa_valid(numa[i].size))
            continue; /* no such node */
        if (!numa_valid(numa[i].free) || numa[i].free > numa[i].size)
            return np_error_set(err, "xen", 0, "node %d: free memory %llu above its size %llu",
                                i, (unsigned long long)numa[i].free,
                                (unsigned long long)numa[i].size);
        rc = np_topology_builder_add_node(b, (uint32_t)i, numa[i].size, numa[i].free);
        if (rc)
            return rc == -ENOMEM ? rc
                                 : np_error_set(err, "xen", 0, "node %d: cannot add (%s)", i,
                                                np_strerror(rc));
    }
    /* Distances between present nodes; an absent node's column is skipped. */
    for (int i = 0; i < nr_nodes; i++) {
        if (!numa_valid(numa[i].size))
            continue;
        for (int j = 0; j < nr_nodes; j++) {
            if (!numa_valid(numa[j].size))
                continue;
            if (j >= numa[i].num_dists || !numa[i].dists ||
                numa[i].dists[j] == LIBXL_NUMAINFO_INVALID_ENTRY || numa[i].dists[j] == 0)
                return np_error_set(err, "xen", 0, "no distance from node %d to node %d", i, j);
            rc = np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, numa[i].dists[j]);
            if (rc)
                return np_error_set(err, "xen", 0, "distance %d->%d: %s", i, j,
                                    np_strerror(rc));
        }
    }
    return 0;
}

static uint32_t id_or_unknown(uint32_t v)
{
    return v == LIBXL_CPUTOPOLOGY_INVALID_ENTRY ? NP_TOPO_ID_UNKNOWN : v;
}

int np_xen_topology_from_libxl(const libxl_numainfo *numa, int nr_nodes,
                               const libxl_cputopology *cpus, int nr_cpus,
                               const libxl_pcitopology *devs, int nr_devs, np_topology **out,
                               np_error *err)
{
    np_topology_builder *b = NULL;
    int rc;

    if (!numa || nr_nodes <= 0)
        return np_error_set(err, "xen", 0, "libxl reported no NUMA nodes");
    if (!cpus || nr_cpus <= 0)
        return np_error_set(err, "xen", 0, "libxl reported no CPUs");
    if ((uint32_t)nr_nodes > NP_TOPO_MAX_NODES || (uint32_t)nr_cpus > NP_TOPO_MAX_CPUS)
        return np_error_set(err, "xen", 0, "%d nodes / %d CPUs: more than numaplace handles",
                            nr_nodes, nr_cpus);
    rc = np_topology_builder_create(&b);
    if (rc)
        goto out;
    rc = np_topology_builder_set_name(b, "xen");
    if (rc)
        goto out;
    rc = add_nodes(b, numa, nr_nodes, err);
    if (rc)
        goto out;
    for (int i = 0; i < nr_cpus; i++) {
        if (cpus[i].node == LIBXL_CPUTOPOLOGY_INVALID_ENTRY)
            continue; /* offline CPU */
        if (cpus[i].node >= (uint32_t)nr_nodes || !numa_valid(numa[cpus[i].node].size)) {
            rc = np_error_set(err, "xen", 0, "CPU %d is on node %u, which libxl does not list",
                              i, (unsigned)cpus[i].node);
            goto out;
        }
        rc = np_topology_builder_add_cpu(b, (uint32_t)i, cpus[i].node,
                                         id_or_unknown(cpus[i].socket),
                                         id_or_unknown(cpus[i].core));
        if (rc) {
            rc = rc == -ENOMEM ? rc
                               : np_error_set(err, "xen", 0, "CPU %d: cannot add (%s)", i,
                                              np_strerror(rc));
            goto out;
        }
    }
    /* Devices Xen places on no node are left out, as `xl info -n` leaves
     * them out: on a host without PCI proximity data that is every device,
     * and a list of them says nothing about placement. */
    for (int i = 0; devs && i < nr_devs; i++) {
        np_pci_info dev;
        uint32_t node = devs[i].node;
        if (node == LIBXL_PCITOPOLOGY_INVALID_ENTRY)
            continue;
        if (node >= (uint32_t)nr_nodes || !numa_valid(numa[node].size)) {
            rc = np_error_set(err, "xen", 0, "PCI device %d is on node %u, which libxl does "
                              "not list", i, (unsigned)node);
            goto out;
        }
        memset(&dev, 0, sizeof(dev));
        dev.domain = devs[i].seg;
        dev.bus = devs[i].bus;
        dev.dev = (uint8_t)(devs[i].devfn >> 3);
        dev.fn = (uint8_t)(devs[i].devfn & 7);
        dev.node_idx = -1;
        rc = np_topology_builder_add_device(b, &dev, node);
        if (rc) {
            rc = rc == -ENOMEM ? rc
                               : np_error_set(err, "xen", 0, "PCI device %d: cannot add (%s)",
                                              i, np_strerror(rc));
            goto out;
        }
    }
    rc = np_topology_builder_finish(b, out, err);
    if (rc && err && !err->origin[0])
        snprintf(err->origin, sizeof(err->origin), "xen");
out:
    np_topology_builder_destroy(b);
    return rc;
}

int np_xen_bitmap_to_np(const libxl_bitmap *lb, np_bitmap **out)
{
    np_bitmap *map = NULL;
    int rc = np_bitmap_create(&map);
    if (rc)
        return rc;
    for (uint32_t byte = 0; lb->map && byte < lb->size; byte++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!(lb->map[byte] & (1u << bit)))
                continue;
            rc = np_bitmap_set(map, byte * 8 + bit);
            if (rc) {
                np_bitmap_destroy(map);
                return rc;
            }
        }
    }
    *out = map;
    return 0;
}

int np_xen_bitmap_from_np(const np_bitmap *map, uint32_t nr_bits, libxl_bitmap *out)
{
    uint32_t bytes = (nr_bits + 7) / 8;
    out->size = 0;
    out->map = calloc(bytes ? bytes : 1, 1);
    if (!out->map)
        return -ENOMEM;
    out->size = bytes ? bytes : 1;
    for (int i = np_bitmap_next(map, 0); i >= 0; i = np_bitmap_next(map, (unsigned)i + 1)) {
        if ((uint32_t)i >= nr_bits) {
            free(out->map);
            out->map = NULL;
            out->size = 0;
            return -ERANGE; /* names a CPU or node the host does not have */
        }
        out->map[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return 0;
}

/* True when `map` holds every CPU of the topology. */
static bool covers_host(const np_bitmap *map, const np_topology *topo)
{
    for (size_t i = 0; i < np_topology_nr_cpus(topo); i++)
        if (!np_bitmap_test(map, np_topology_cpu(topo, i)->os_id))
            return false;
    return true;
}

int np_xen_vcpu_from_libxl(const libxl_vcpuinfo *vi, const np_topology *topo,
                           np_backend_vcpu *out)
{
    int rc;
    out->cpu_time_ns = vi->vcpu_time; /* libxl reports nanoseconds */
    out->last_cpu_os_id = vi->online && vi->cpu != UINT32_MAX && vi->cpu <= INT32_MAX
                              ? (int32_t)vi->cpu
                              : -1;
    out->hard = out->soft = NULL;
    rc = np_xen_bitmap_to_np(&vi->cpumap, &out->hard);
    if (rc)
        goto out;
    if (covers_host(out->hard, topo)) {
        np_bitmap_destroy(out->hard);
        out->hard = NULL;
    }
    rc = np_xen_bitmap_to_np(&vi->cpumap_soft, &out->soft);
    if (rc)
        goto out;
    if (covers_host(out->soft, topo) || np_bitmap_is_empty(out->soft)) {
        np_bitmap_destroy(out->soft);
        out->soft = NULL;
    }
out:
    if (rc) {
        np_bitmap_destroy(out->hard);
        np_bitmap_destroy(out->soft);
        out->hard = out->soft = NULL;
    }
    return rc;
}

int np_xen_guest_node_mem(const np_xen_numa_dump *dump, uint32_t domid,
                          const np_topology *topo, uint64_t *node_mem_bytes)
{
    uint32_t id;
    uint64_t pages, total;
    size_t nr = np_topology_nr_nodes(topo), idx;
    bool listed = false;

    for (size_t i = 0; i < np_xen_numa_dump_nr_domains(dump) && !listed; i++)
        listed = np_xen_numa_dump_domain(dump, i, &id, &total) == 0 && id == domid;
    if (!listed)
        return -ENOENT;
    for (size_t k = 0; k < nr; k++)
        node_mem_bytes[k] = 0;
    for (size_t i = 0; i < np_xen_numa_dump_nr_nodes(dump); i++) {
        uint64_t size, freep;
        if (np_xen_numa_dump_node(dump, i, &id, &size, &freep) ||
            np_xen_numa_dump_pages(dump, domid, id, &pages))
            continue;
        if (np_topology_node_idx(topo, id, &idx))
            continue; /* a node the topology lacks (memory-less, offline) */
        node_mem_bytes[idx] = pages * NP_XEN_PAGE_BYTES;
    }
    return 0;
}
