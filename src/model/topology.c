/*
 * model/topology.c - the immutable host topology and its builder.
 *
 * Readers feed a builder with whatever their source gives (nodes by OS id,
 * CPUs with their package/core ids, distance pairs, devices, HMAT values);
 * np_topology_builder_finish() checks the whole picture at once and
 * freezes it into dense arrays indexed by node and CPU index. Checking at
 * the end, not while adding, is what lets every reader promise "a complete
 * topology or an error, never half of one".
 */
#include <numaplace/topology.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/calibration.h"
#include "util/error.h"

struct np_topology {
    atomic_uint refs;
    char *name;
    size_t nr_nodes, nr_cpus, nr_devices;
    np_node_info *nodes;
    np_cpu_info *cpus;
    np_pci_info *devices;
    np_bitmap **node_cpusets; /* per node, CPU os_ids */
    uint32_t *dist;           /* nr_nodes * nr_nodes, row = from */
    np_memattr *memattrs;     /* nr_nodes * nr_nodes or NULL, row = initiator */
    double *lat_ratio;        /* nr_nodes * nr_nodes latency ratios (calibration.h), or
                               * NULL above NP_CALIB_LATENCY_TABLE_MAX_NODES */
    int32_t node_idx_of_os[NP_TOPO_MAX_NODES];
    uint64_t mem_total_bytes;
    uint32_t cpu_id_limit;
};

/* ---- builder ---------------------------------------------------------------- */

typedef struct bnode {
    uint32_t os_id;
    uint64_t total, free;
    np_mem_kind kind;
} bnode;

typedef struct bcpu {
    uint32_t os_id, node_os, pkg, core;
} bcpu;

typedef struct bdist {
    uint32_t from, to, val;
} bdist;

typedef struct bdev {
    np_pci_info info;
    uint32_t node_os;
} bdev;

typedef struct battr {
    uint32_t init, target;
    np_memattr attr;
} battr;

struct np_topology_builder {
    char *name;
    bnode *nodes;
    size_t nr_nodes, cap_nodes;
    bcpu *cpus;
    size_t nr_cpus, cap_cpus;
    bdist *dists;
    size_t nr_dists, cap_dists;
    bdev *devs;
    size_t nr_devs, cap_devs;
    battr *attrs;
    size_t nr_attrs, cap_attrs;
    int32_t node_of_os[NP_TOPO_MAX_NODES]; /* builder index or -1 */
    np_bitmap *cpus_seen;
};

/* Grow a builder array by one element; *cap doubles. */
static int push(void **arr, size_t *nr, size_t *cap, size_t elem_size, size_t limit)
{
    if (*nr >= limit)
        return -E2BIG;
    if (*nr == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *na = realloc(*arr, ncap * elem_size);
        if (!na)
            return -ENOMEM;
        *arr = na;
        *cap = ncap;
    }
    (*nr)++;
    return 0;
}

int np_topology_builder_create(np_topology_builder **out)
{
    np_topology_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < NP_TOPO_MAX_NODES; i++)
        b->node_of_os[i] = -1;
    if (np_bitmap_create(&b->cpus_seen) < 0) {
        free(b);
        return -ENOMEM;
    }
    *out = b;
    return 0;
}

void np_topology_builder_destroy(np_topology_builder *b)
{
    if (!b)
        return;
    free(b->name);
    free(b->nodes);
    free(b->cpus);
    free(b->dists);
    free(b->devs);
    free(b->attrs);
    np_bitmap_destroy(b->cpus_seen);
    free(b);
}

int np_topology_builder_set_name(np_topology_builder *b, const char *name)
{
    char *n = strdup(name ? name : "");
    if (!n)
        return -ENOMEM;
    free(b->name);
    b->name = n;
    return 0;
}

int np_topology_builder_add_node(np_topology_builder *b, uint32_t node_os_id,
                                 uint64_t mem_total_bytes, uint64_t mem_free_bytes)
{
    if (node_os_id >= NP_TOPO_MAX_NODES)
        return -E2BIG;
    if (b->node_of_os[node_os_id] >= 0)
        return -EEXIST;
    if (mem_free_bytes > mem_total_bytes)
        return -EINVAL;
    int rc = push((void **)&b->nodes, &b->nr_nodes, &b->cap_nodes, sizeof(*b->nodes),
                  NP_TOPO_MAX_NODES);
    if (rc < 0)
        return rc;
    bnode *n = &b->nodes[b->nr_nodes - 1];
    n->os_id = node_os_id;
    n->total = mem_total_bytes;
    n->free = mem_free_bytes;
    n->kind = NP_MEM_DRAM;
    b->node_of_os[node_os_id] = (int32_t)(b->nr_nodes - 1);
    return 0;
}

static bnode *find_node(np_topology_builder *b, uint32_t os_id)
{
    if (os_id >= NP_TOPO_MAX_NODES || b->node_of_os[os_id] < 0)
        return NULL;
    return &b->nodes[b->node_of_os[os_id]];
}

int np_topology_builder_set_mem_kind(np_topology_builder *b, uint32_t node_os_id,
                                     np_mem_kind kind)
{
    bnode *n = find_node(b, node_os_id);
    if (!n)
        return -ENOENT;
    if ((unsigned)kind > NP_MEM_OTHER)
        return -EINVAL;
    n->kind = kind;
    return 0;
}

int np_topology_builder_add_cpu(np_topology_builder *b, uint32_t cpu_os_id, uint32_t node_os_id,
                                uint32_t package_id, uint32_t core_id)
{
    if (cpu_os_id >= NP_TOPO_MAX_CPUS)
        return -E2BIG;
    if (!find_node(b, node_os_id))
        return -ENOENT;
    if (np_bitmap_test(b->cpus_seen, cpu_os_id))
        return -EEXIST;
    int rc = push((void **)&b->cpus, &b->nr_cpus, &b->cap_cpus, sizeof(*b->cpus),
                  NP_TOPO_MAX_CPUS);
    if (rc < 0)
        return rc;
    rc = np_bitmap_set(b->cpus_seen, cpu_os_id);
    if (rc < 0) {
        b->nr_cpus--;
        return rc;
    }
    b->cpus[b->nr_cpus - 1] = (bcpu){cpu_os_id, node_os_id, package_id, core_id};
    return 0;
}

int np_topology_builder_set_distance(np_topology_builder *b, uint32_t from_os_id,
                                     uint32_t to_os_id, uint32_t distance)
{
    if (!find_node(b, from_os_id) || !find_node(b, to_os_id))
        return -ENOENT;
    if (distance == 0 || distance > NP_TOPO_MAX_DISTANCE)
        return -ERANGE;
    int rc = push((void **)&b->dists, &b->nr_dists, &b->cap_dists, sizeof(*b->dists),
                  (size_t)NP_TOPO_MAX_NODES * NP_TOPO_MAX_NODES);
    if (rc < 0)
        return rc;
    b->dists[b->nr_dists - 1] = (bdist){from_os_id, to_os_id, distance};
    return 0;
}

int np_topology_builder_add_device(np_topology_builder *b, const np_pci_info *dev,
                                   uint32_t node_os_id)
{
    if (node_os_id != NP_TOPO_ID_UNKNOWN && !find_node(b, node_os_id))
        return -ENOENT;
    int rc = push((void **)&b->devs, &b->nr_devs, &b->cap_devs, sizeof(*b->devs),
                  NP_TOPO_MAX_DEVICES);
    if (rc < 0)
        return rc;
    bdev *d = &b->devs[b->nr_devs - 1];
    d->info = *dev;
    d->info.name[NP_PCI_NAME_MAX - 1] = '\0';
    d->node_os = node_os_id;
    return 0;
}

int np_topology_builder_set_memattr(np_topology_builder *b, uint32_t initiator_os_id,
                                    uint32_t target_os_id, const np_memattr *attr)
{
    if (!find_node(b, initiator_os_id) || !find_node(b, target_os_id))
        return -ENOENT;
    int rc = push((void **)&b->attrs, &b->nr_attrs, &b->cap_attrs, sizeof(*b->attrs),
                  (size_t)NP_TOPO_MAX_NODES * NP_TOPO_MAX_NODES);
    if (rc < 0)
        return rc;
    b->attrs[b->nr_attrs - 1] = (battr){initiator_os_id, target_os_id, *attr};
    return 0;
}

/* ---- freezing ------------------------------------------------------------------ */

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

static int cmp_bnode(const void *a, const void *b)
{
    return cmp_u32(((const bnode *)a)->os_id, ((const bnode *)b)->os_id);
}

static int cmp_bcpu(const void *a, const void *b)
{
    return cmp_u32(((const bcpu *)a)->os_id, ((const bcpu *)b)->os_id);
}

/* Order CPUs of the same core together: (package, core, os_id). */
static int cmp_core_order(const void *a, const void *b)
{
    const np_cpu_info *x = a, *y = b;
    int c = cmp_u32(x->package_id, y->package_id);
    if (!c)
        c = cmp_u32(x->core_id, y->core_id);
    if (!c)
        c = cmp_u32(x->os_id, y->os_id);
    return c;
}

static int cmp_dev(const void *a, const void *b)
{
    const np_pci_info *x = a, *y = b;
    int c = cmp_u32(x->domain, y->domain);
    if (!c)
        c = cmp_u32(x->bus, y->bus);
    if (!c)
        c = cmp_u32(x->dev, y->dev);
    if (!c)
        c = cmp_u32(x->fn, y->fn);
    return c;
}

static void topology_free(np_topology *t)
{
    if (!t)
        return;
    if (t->node_cpusets)
        for (size_t i = 0; i < t->nr_nodes; i++)
            np_bitmap_destroy(t->node_cpusets[i]);
    free(t->node_cpusets);
    free(t->name);
    free(t->nodes);
    free(t->cpus);
    free(t->devices);
    free(t->dist);
    free(t->memattrs);
    free(t->lat_ratio);
    free(t);
}

static int check_distances(np_topology *t, np_error *err)
{
    size_t n = t->nr_nodes;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            uint32_t d = t->dist[i * n + j];
            if (d == 0)
                return np_error_set(err, NULL, 0, "distance from node %u to node %u is missing",
                                    t->nodes[i].os_id, t->nodes[j].os_id);
            if (d != t->dist[j * n + i])
                return np_error_set(err, NULL, 0,
                                    "distances are not symmetric: node %u to %u is %u but "
                                    "node %u to %u is %u",
                                    t->nodes[i].os_id, t->nodes[j].os_id, d, t->nodes[j].os_id,
                                    t->nodes[i].os_id, t->dist[j * n + i]);
            if (i != j && d <= t->dist[i * n + i])
                return np_error_set(err, NULL, 0,
                                    "distance from node %u to node %u (%u) must be larger than "
                                    "the node's local distance (%u)",
                                    t->nodes[i].os_id, t->nodes[j].os_id, d, t->dist[i * n + i]);
        }
    }
    return 0;
}

int np_topology_builder_finish(np_topology_builder *b, np_topology **out, np_error *err)
{
    np_topology *t = NULL;
    np_cpu_info *order = NULL;
    int rc = 0;

    if (b->nr_nodes == 0) {
        rc = np_error_set(err, NULL, 0, "no NUMA node found");
        goto out;
    }
    if (b->nr_cpus == 0) {
        rc = np_error_set(err, NULL, 0, "no CPU found on any node");
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        rc = -ENOMEM;
        goto out;
    }
    atomic_init(&t->refs, 1);
    size_t n = b->nr_nodes;
    t->nr_nodes = n;
    t->nr_cpus = b->nr_cpus;
    t->nr_devices = b->nr_devs;
    t->name = strdup(b->name ? b->name : "");
    t->nodes = calloc(n, sizeof(*t->nodes));
    t->cpus = calloc(b->nr_cpus, sizeof(*t->cpus));
    t->devices = calloc(b->nr_devs ? b->nr_devs : 1, sizeof(*t->devices));
    t->dist = calloc(n * n, sizeof(*t->dist));
    t->node_cpusets = calloc(n, sizeof(*t->node_cpusets));
    order = calloc(b->nr_cpus, sizeof(*order));
    if (!t->name || !t->nodes || !t->cpus || !t->devices || !t->dist || !t->node_cpusets ||
        !order) {
        rc = -ENOMEM;
        goto out;
    }

    /* Nodes by os_id. */
    qsort(b->nodes, n, sizeof(*b->nodes), cmp_bnode);
    for (size_t i = 0; i < NP_TOPO_MAX_NODES; i++)
        t->node_idx_of_os[i] = -1;
    for (size_t i = 0; i < n; i++) {
        t->nodes[i].os_id = b->nodes[i].os_id;
        t->nodes[i].mem_total_bytes = b->nodes[i].total;
        t->nodes[i].mem_free_bytes = b->nodes[i].free;
        t->nodes[i].mem_kind = b->nodes[i].kind;
        t->node_idx_of_os[b->nodes[i].os_id] = (int32_t)i;
        t->mem_total_bytes += b->nodes[i].total;
        rc = np_bitmap_create(&t->node_cpusets[i]);
        if (rc < 0)
            goto out;
    }

    /* CPUs by os_id. */
    qsort(b->cpus, b->nr_cpus, sizeof(*b->cpus), cmp_bcpu);
    for (size_t i = 0; i < b->nr_cpus; i++) {
        const bcpu *c = &b->cpus[i];
        uint32_t nidx = (uint32_t)t->node_idx_of_os[c->node_os];
        t->cpus[i] = (np_cpu_info){c->os_id, c->pkg, c->core, 0, nidx};
        t->nodes[nidx].nr_cpus++;
        rc = np_bitmap_set(t->node_cpusets[nidx], c->os_id);
        if (rc < 0)
            goto out;
        if (c->os_id + 1 > t->cpu_id_limit)
            t->cpu_id_limit = c->os_id + 1;
    }

    /* Hyper-thread index and cores per node: walk CPUs grouped by core. A CPU
     * whose core is unknown is a core of its own. */
    memcpy(order, t->cpus, b->nr_cpus * sizeof(*order));
    qsort(order, b->nr_cpus, sizeof(*order), cmp_core_order);
    for (size_t i = 0; i < b->nr_cpus; i++) {
        bool known = order[i].package_id != NP_TOPO_ID_UNKNOWN &&
                     order[i].core_id != NP_TOPO_ID_UNKNOWN;
        bool same_core = known && i > 0 && order[i - 1].package_id == order[i].package_id &&
                         order[i - 1].core_id == order[i].core_id;
        uint32_t thread = same_core ? order[i - 1].thread_idx + 1 : 0;
        order[i].thread_idx = thread;
        size_t cidx = 0;
        if (np_topology_cpu_idx(t, order[i].os_id, &cidx) == 0) /* always found */
            t->cpus[cidx].thread_idx = thread;
        if (!same_core)
            t->nodes[order[i].node_idx].nr_cores++;
        else if (order[i - 1].node_idx != order[i].node_idx) {
            rc = np_error_set(err, NULL, 0,
                              "CPUs %u and %u share package %u core %u but sit on different "
                              "nodes",
                              order[i - 1].os_id, order[i].os_id, order[i].package_id,
                              order[i].core_id);
            goto out;
        }
    }

    /* Distances: explicit pairs, or the 10/20 default when none given. */
    if (b->nr_dists == 0) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                t->dist[i * n + j] = i == j ? 10 : 20;
    } else {
        for (size_t k = 0; k < b->nr_dists; k++) {
            size_t i = (size_t)t->node_idx_of_os[b->dists[k].from];
            size_t j = (size_t)t->node_idx_of_os[b->dists[k].to];
            t->dist[i * n + j] = b->dists[k].val;
        }
    }
    rc = check_distances(t, err);
    if (rc < 0)
        goto out;

    /* Devices sorted by address; duplicates are an error. */
    for (size_t i = 0; i < b->nr_devs; i++) {
        t->devices[i] = b->devs[i].info;
        t->devices[i].node_idx =
            b->devs[i].node_os == NP_TOPO_ID_UNKNOWN ? -1 : t->node_idx_of_os[b->devs[i].node_os];
    }
    qsort(t->devices, b->nr_devs, sizeof(*t->devices), cmp_dev);
    for (size_t i = 1; i < b->nr_devs; i++) {
        if (cmp_dev(&t->devices[i - 1], &t->devices[i]) == 0) {
            char bdf[16];
            rc = np_error_set(err, NULL, 0, "PCI device %s is listed twice",
                              np_pci_format_bdf(&t->devices[i], bdf, sizeof(bdf)));
            goto out;
        }
    }

    if (b->nr_attrs) {
        t->memattrs = calloc(n * n, sizeof(*t->memattrs));
        if (!t->memattrs) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < b->nr_attrs; k++) {
            size_t i = (size_t)t->node_idx_of_os[b->attrs[k].init];
            size_t j = (size_t)t->node_idx_of_os[b->attrs[k].target];
            t->memattrs[i * n + j] = b->attrs[k].attr;
        }
    }
    /* The latency ratios the placement objective reads for every pair of
     * nodes of every candidate: worked out once here, as the same function
     * would work them out on each read (same values). */
    if (n <= NP_CALIB_LATENCY_TABLE_MAX_NODES) {
        double *lat = malloc(n * n * sizeof(*lat));
        if (!lat) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                lat[i * n + j] = np_calib_latency_ratio(t, i, j);
        t->lat_ratio = lat;
    }

    *out = t;
    t = NULL;
out:
    free(order);
    topology_free(t);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

np_topology *np_topology_ref(np_topology *topo)
{
    if (topo)
        atomic_fetch_add(&topo->refs, 1);
    return topo;
}

void np_topology_destroy(np_topology *topo)
{
    if (topo && atomic_fetch_sub(&topo->refs, 1) == 1)
        topology_free(topo);
}

const char *np_topology_name(const np_topology *t) { return t->name; }
size_t np_topology_nr_nodes(const np_topology *t) { return t->nr_nodes; }
size_t np_topology_nr_cpus(const np_topology *t) { return t->nr_cpus; }
size_t np_topology_nr_devices(const np_topology *t) { return t->nr_devices; }
uint64_t np_topology_mem_total_bytes(const np_topology *t) { return t->mem_total_bytes; }
uint32_t np_topology_cpu_id_limit(const np_topology *t) { return t->cpu_id_limit; }
bool np_topology_has_memattrs(const np_topology *t) { return t->memattrs != NULL; }

const np_node_info *np_topology_node(const np_topology *t, size_t idx)
{
    return idx < t->nr_nodes ? &t->nodes[idx] : NULL;
}

const np_cpu_info *np_topology_cpu(const np_topology *t, size_t idx)
{
    return idx < t->nr_cpus ? &t->cpus[idx] : NULL;
}

const np_pci_info *np_topology_device(const np_topology *t, size_t idx)
{
    return idx < t->nr_devices ? &t->devices[idx] : NULL;
}

const np_bitmap *np_topology_node_cpuset(const np_topology *t, size_t idx)
{
    return idx < t->nr_nodes ? t->node_cpusets[idx] : NULL;
}

const double *np_topology_latency_table(const np_topology *t)
{
    return t->lat_ratio;
}

uint32_t np_topology_distance(const np_topology *t, size_t from_idx, size_t to_idx)
{
    if (from_idx >= t->nr_nodes || to_idx >= t->nr_nodes)
        return 0;
    return t->dist[from_idx * t->nr_nodes + to_idx];
}

int np_topology_node_idx(const np_topology *t, uint32_t os_id, size_t *idx_out)
{
    if (os_id >= NP_TOPO_MAX_NODES || t->node_idx_of_os[os_id] < 0)
        return -ENOENT;
    *idx_out = (size_t)t->node_idx_of_os[os_id];
    return 0;
}

int np_topology_cpu_idx(const np_topology *t, uint32_t os_id, size_t *idx_out)
{
    size_t lo = 0, hi = t->nr_cpus;
    while (lo < hi) { /* CPUs are sorted by os_id */
        size_t mid = lo + (hi - lo) / 2;
        if (t->cpus[mid].os_id < os_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->nr_cpus && t->cpus[lo].os_id == os_id) {
        *idx_out = lo;
        return 0;
    }
    return -ENOENT;
}

int np_topology_memattr(const np_topology *t, size_t init_idx, size_t target_idx,
                        np_memattr *out)
{
    if (!t->memattrs || init_idx >= t->nr_nodes || target_idx >= t->nr_nodes)
        return -ENODATA;
    *out = t->memattrs[init_idx * t->nr_nodes + target_idx];
    if (out->bandwidth_mbps == 0 && out->latency_ns == 0)
        return -ENODATA;
    return 0;
}

const char *np_mem_kind_name(np_mem_kind kind)
{
    switch (kind) {
    case NP_MEM_DRAM: return "dram";
    case NP_MEM_HBM: return "hbm";
    case NP_MEM_PMEM: return "pmem";
    case NP_MEM_CXL: return "cxl";
    case NP_MEM_OTHER: return "other";
    }
    return "other";
}

/* ---- PCI addresses --------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads exactly `digits` hex digits (or 1..digits when flexible). */
static int read_hex(const char **p, unsigned min_digits, unsigned max_digits, uint32_t *out)
{
    uint32_t v = 0;
    unsigned n = 0;
    while (n < max_digits && hexval(**p) >= 0) {
        v = v * 16 + (uint32_t)hexval(**p);
        (*p)++;
        n++;
    }
    if (n < min_digits)
        return -EINVAL;
    *out = v;
    return 0;
}

int np_pci_parse_bdf(const char *text, uint32_t *domain, uint8_t *bus, uint8_t *dev, uint8_t *fn)
{
    const char *p = text;
    uint32_t a, b, d = 0, f;
    if (read_hex(&p, 1, 4, &a) < 0 || *p++ != ':')
        return -EINVAL;
    if (read_hex(&p, 1, 2, &b) < 0)
        return -EINVAL;
    uint32_t dom = 0, bs = a;
    if (*p == ':') { /* DDDD:BB:DD.F */
        p++;
        dom = a;
        bs = b;
        if (read_hex(&p, 1, 2, &d) < 0)
            return -EINVAL;
    } else {
        if (a > 0xff)
            return -EINVAL;
        d = b;
    }
    if (*p++ != '.' || read_hex(&p, 1, 1, &f) < 0 || *p != '\0')
        return -EINVAL;
    if (bs > 0xff || d > 0x1f || f > 7)
        return -EINVAL;
    *domain = dom;
    *bus = (uint8_t)bs;
    *dev = (uint8_t)d;
    *fn = (uint8_t)f;
    return 0;
}

const char *np_pci_format_bdf(const np_pci_info *dev, char *buf, size_t len)
{
    snprintf(buf, len, "%04x:%02x:%02x.%x", dev->domain, dev->bus, dev->dev, dev->fn);
    return buf;
}

int np_topology_device_find(const np_topology *t, const char *bdf, size_t *idx_out)
{
    np_pci_info key = {0};
    if (np_pci_parse_bdf(bdf, &key.domain, &key.bus, &key.dev, &key.fn) < 0)
        return -EINVAL;
    for (size_t i = 0; i < t->nr_devices; i++) {
        if (cmp_dev(&key, &t->devices[i]) == 0) {
            *idx_out = i;
            return 0;
        }
    }
    return -ENOENT;
}
