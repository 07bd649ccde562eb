/*
 * read_hwloc_helpers.h - lookups by OS number shared by the hwloc reader
 * tests (test_read_hwloc.c, test_read_hwloc_sysfs.c): reading a fixture,
 * a node or CPU by its os_id, a node's CPUs as text, a device's node.
 */
#ifndef NP_TEST_READ_HWLOC_HELPERS_H
#define NP_TEST_READ_HWLOC_HELPERS_H

#include <numaplace/topology.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"
#include "util/text.h"

#define GIB (1024ull * 1024 * 1024)
#define HW NP_FIXTURES_DIR "/hwloc"

static inline char *slurp(const char *path, size_t *len_out)
{
    char *buf = NULL;
    if (np_read_file(path, 64u << 20, &buf, len_out) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    return buf;
}

/* Reads an XML fixture; NULL (and a failed test) when the reader refuses. */
static inline np_topology *load_xml(const char *path)
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

static inline const np_node_info *node_os(const np_topology *t, uint32_t os_id)
{
    size_t idx;
    return np_topology_node_idx(t, os_id, &idx) == 0 ? np_topology_node(t, idx) : NULL;
}

static inline uint32_t dist_os(const np_topology *t, uint32_t from, uint32_t to)
{
    size_t i, j;
    if (np_topology_node_idx(t, from, &i) < 0 || np_topology_node_idx(t, to, &j) < 0)
        return 0;
    return np_topology_distance(t, i, j);
}

/* "2,3,5": the CPU os_ids of a node, ascending. */
static inline const char *cpus_of(const np_topology *t, uint32_t node, char *buf, size_t len)
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
static inline long node_of_cpu(const np_topology *t, uint32_t cpu_os)
{
    size_t idx;
    if (np_topology_cpu_idx(t, cpu_os, &idx) < 0)
        return -1;
    return np_topology_node(t, np_topology_cpu(t, idx)->node_idx)->os_id;
}

static inline const np_cpu_info *cpu_os(const np_topology *t, uint32_t os_id)
{
    size_t idx;
    return np_topology_cpu_idx(t, os_id, &idx) == 0 ? np_topology_cpu(t, idx) : NULL;
}

static inline const np_pci_info *dev_at(const np_topology *t, const char *bdf)
{
    size_t idx;
    return np_topology_device_find(t, bdf, &idx) == 0 ? np_topology_device(t, idx) : NULL;
}

/* Node os_id of a device, -1 unknown, -2 when the device is missing. */
static inline long dev_node(const np_topology *t, const char *bdf)
{
    const np_pci_info *d = dev_at(t, bdf);
    if (!d)
        return -2;
    return d->node_idx < 0 ? -1 : (long)np_topology_node(t, (size_t)d->node_idx)->os_id;
}

static inline int memattr_os(const np_topology *t, uint32_t from, uint32_t to, np_memattr *out)
{
    size_t i, j;
    if (np_topology_node_idx(t, from, &i) < 0 || np_topology_node_idx(t, to, &j) < 0)
        return -ENOENT;
    return np_topology_memattr(t, i, j, out);
}

#endif
