/*
 * libvirt/backend_libvirt.c - the libvirt implementation of np_backend_ops
 * (numaplace/libvirt.h): guests are the running domains of one libvirt
 * connection; placement is read and applied through libvirt's API, so
 * libvirt's own view (virsh vcpupin, emulatorpin, iothreadinfo, numatune)
 * is always what is in force and libvirt never re-applies an older one.
 *
 * What libvirt cannot give - a process's memory per node, and moving it -
 * comes from the Linux backend run beside it on the same host, its QEMU
 * guests matched to domains by name (QEMU's -name guest=NAME is the domain
 * name). Node and CPU numbers cross between the two as OS ids, since
 * libvirt's topology (capabilities) and sysfs's may index them differently.
 *
 * Built only with libvirt-dev (NP_HAVE_LIBVIRT); without it every entry
 * point says -ENOTSUP.
 */
#include <numaplace/libvirt.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NP_HAVE_LIBVIRT

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <numaplace/backend_linux.h>
#include <numaplace/linux.h>

#define SUBSYS "libvirt"
/* Every get and set names VIR_DOMAIN_AFFECT_CURRENT: on a running domain
 * that is its live state (what VIR_DOMAIN_AFFECT_LIVE names), and drivers
 * that take no flags (the test driver's vcpupin) accept it. */
/* Most iothreads a domain reports that are followed (QEMU allows more; a
 * guest with more has them pinned as a set anyway). */
#define LV_MAX_IOTHREADS 64

/* What the backend remembers of a running domain between calls. */
typedef struct lv_dom {
    uint64_t id;
    char name[NP_BACKEND_NAME_MAX];
    int64_t pid;       /* its QEMU process on this host, -1: none found */
    np_bitmap *soft;   /* last soft mask steered to (reported as soft), NULL: none */
    bool seen;
    /* Memory per node (node_idx of the backend's topology) at the last
     * list, nr = the topology's nodes; NULL before a QEMU process is found. */
    uint64_t *node_mem_bytes;
    /* A nodeset the balancer asked for while memory was elsewhere: numatune
     * holds old+new nodes until numaplace's mover has moved the memory,
     * then this (NULL: none pending). */
    np_bitmap *narrow_to;
    bool memnodes_noted; /* the per-cell <memnode> reason was logged */
    /* Off narrow_to when the mover last came up short (pages it cannot
     * take: file pages shared with other processes): a later node affinity
     * to the same nodes with no more than this (and a step) off them sets
     * the nodeset at once instead of widening for a move that moves nothing. */
    uint64_t unmovable_bytes;
    /* The CPUs of the nodes `numaplace create` recorded in the domain's
     * <metadata> (nodes=, with a policy), NULL: no record. create writes
     * them as the vCPUs' node-wide pin, its preference for the guest: a
     * vCPU pinned to exactly these is reported soft (the daemon may steer
     * it), not pinned by someone else. Read at each list. */
    np_bitmap *plan_cpus;
    /* Each vCPU's libvirt cpuTime at the previous list and when it was
     * read (the backend's clock), for its demand since then; nr_prev 0:
     * no previous list. */
    uint64_t *prev_cpu_ns;
    uint32_t nr_prev;
    uint64_t prev_at_ns;
} lv_dom;

struct np_libvirt {
    virConnectPtr conn;
    np_topology *topo;
    np_log_fn log;
    void *opaque;
    np_linux_ctx *ctx;      /* NULL: no Linux view of the processes */
    np_linux_backend *lb;
    lv_dom *doms;
    size_t nr_doms, cap_doms;
    int maplen;             /* bytes of a libvirt CPU map of this host */
    unsigned nr_host_cpus;  /* CPU ids 0..nr_host_cpus-1 */
    uint64_t rng;
};

static void dom_fini(lv_dom *d);
static uint64_t mem_off(const np_libvirt *lv, const lv_dom *d, const np_bitmap *nodes);
static void narrow_nodeset(np_libvirt *lv, virDomainPtr dom, lv_dom *d, const char *why);
static void lv_log(np_libvirt *lv, np_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lv_log(np_libvirt *lv, np_log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!lv->log)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    lv->log(lv->opaque, level, SUBSYS, buf);
}

/* libvirt prints every error on stderr unless a handler takes it; the
 * backend reads virGetLastErrorMessage() where it reports instead. */
static void quiet_errors(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static const char *last_error(void)
{
    const char *m = virGetLastErrorMessage();
    return m ? m : "unknown libvirt error";
}

/* ---- CPU maps ----------------------------------------------------------------- */

static int map_to_bitmap(const unsigned char *map, int maplen, np_bitmap **out)
{
    int rc = np_bitmap_create(out);
    for (int i = 0; !rc && i < maplen * 8; i++)
        if (VIR_CPU_USABLE(map, maplen, 0, i))
            rc = np_bitmap_set(*out, (unsigned)i);
    return rc;
}

/* A libvirt map of `cpus` (NULL: every CPU of the host). */
static unsigned char *bitmap_to_map(const np_libvirt *lv, const np_bitmap *cpus)
{
    unsigned char *map = calloc((size_t)lv->maplen, 1);
    if (!map)
        return NULL;
    for (unsigned c = 0; c < lv->nr_host_cpus; c++)
        if (!cpus || np_bitmap_test(cpus, c))
            VIR_USE_CPU(map, c);
    return map;
}

static bool covers_host(const np_libvirt *lv, const np_bitmap *m)
{
    for (size_t i = 0; i < np_topology_nr_cpus(lv->topo); i++)
        if (!np_bitmap_test(m, np_topology_cpu(lv->topo, i)->os_id))
            return false;
    return true;
}

/* ---- open, close ---------------------------------------------------------------- */

static int read_topology(np_libvirt *lv)
{
    np_error err = {0};
    char *caps = virConnectGetCapabilities(lv->conn);
    if (!caps) {
        lv_log(lv, NP_LOG_ERROR, "capabilities: %s", last_error());
        return -EIO;
    }
    int rc = np_libvirt_caps_topology(caps, strlen(caps), "libvirt capabilities", &lv->topo, &err);
    if (rc)
        lv_log(lv, NP_LOG_ERROR, "capabilities: %s", err.msg);
    free(caps);
    if (rc)
        return rc;
    unsigned max_cpu = 0;
    for (size_t i = 0; i < np_topology_nr_cpus(lv->topo); i++)
        if (np_topology_cpu(lv->topo, i)->os_id > max_cpu)
            max_cpu = np_topology_cpu(lv->topo, i)->os_id;
    int host = virNodeGetCPUMap(lv->conn, NULL, NULL, 0);
    lv->nr_host_cpus = host > 0 && (unsigned)host > max_cpu ? (unsigned)host : max_cpu + 1;
    lv->maplen = VIR_CPU_MAPLEN((int)lv->nr_host_cpus);
    return 0;
}

int np_libvirt_open(const char *uri, const char *root, np_log_fn log, void *opaque,
                    np_libvirt **out)
{
    np_libvirt *lv = calloc(1, sizeof(*lv));
    int rc = 0;
    if (!lv)
        return -ENOMEM;
    lv->log = log;
    lv->opaque = opaque;
    lv->rng = np_linux_clock_now_ns(NULL);
    virSetErrorFunc(NULL, quiet_errors);
    lv->conn = virConnectOpen(uri);
    if (!lv->conn) {
        lv_log(lv, NP_LOG_ERROR, "cannot connect to %s: %s", uri ? uri : "libvirt's default",
               last_error());
        rc = -ECONNREFUSED;
        goto fail;
    }
    virConnSetErrorFunc(lv->conn, NULL, quiet_errors);
    rc = read_topology(lv);
    if (rc)
        goto fail;
    if (root) {
        np_linux_backend_opts o = {.source = NP_LINUX_GUESTS_QEMU,
                                   .move_filter = NP_LINUX_MAPS_WRITABLE};
        rc = np_linux_ctx_create(root, log, opaque, &lv->ctx);
        if (!rc)
            rc = np_linux_backend_create(lv->ctx, &o, &lv->lb);
        if (rc) {
            lv_log(lv, NP_LOG_ERROR, "cannot read processes under %s: %s", root, np_strerror(rc));
            goto fail;
        }
    }
    *out = lv;
    return 0;
fail:
    np_libvirt_close(lv);
    return rc;
}

void np_libvirt_close(np_libvirt *lv)
{
    if (!lv)
        return;
    for (size_t i = 0; i < lv->nr_doms; i++)
        dom_fini(&lv->doms[i]);
    free(lv->doms);
    np_linux_backend_destroy(lv->lb);
    np_linux_ctx_destroy(lv->ctx);
    np_topology_destroy(lv->topo);
    if (lv->conn)
        virConnectClose(lv->conn);
    free(lv);
}

static void dom_fini(lv_dom *d)
{
    np_bitmap_destroy(d->plan_cpus);
    free(d->prev_cpu_ns);
    np_bitmap_destroy(d->soft);
    np_bitmap_destroy(d->narrow_to);
    free(d->node_mem_bytes);
}

static lv_dom *dom_find(np_libvirt *lv, uint64_t id)
{
    for (size_t i = 0; i < lv->nr_doms; i++)
        if (lv->doms[i].id == id)
            return &lv->doms[i];
    return NULL;
}

static lv_dom *dom_get(np_libvirt *lv, uint64_t id)
{
    lv_dom *d = dom_find(lv, id);
    if (d)
        return d;
    if (lv->nr_doms == lv->cap_doms) {
        size_t cap = lv->cap_doms ? lv->cap_doms * 2 : 8;
        lv_dom *n = realloc(lv->doms, cap * sizeof(*n));
        if (!n)
            return NULL;
        lv->doms = n;
        lv->cap_doms = cap;
    }
    d = &lv->doms[lv->nr_doms++];
    memset(d, 0, sizeof(*d));
    d->id = id;
    d->pid = -1;
    return d;
}

static virDomainPtr lookup(np_libvirt *lv, uint64_t id)
{
    if (id > INT32_MAX)
        return NULL;
    return virDomainLookupByID(lv->conn, (int)id);
}

/* ---- sensing --------------------------------------------------------------------- */

static int cmp_dom_id(const void *a, const void *b)
{
    unsigned ia = virDomainGetID(*(virDomainPtr const *)a);
    unsigned ib = virDomainGetID(*(virDomainPtr const *)b);
    return ia < ib ? -1 : ia > ib;
}

/* The Linux view of the QEMU processes this round, for memory per node. */
static int linux_guests(np_libvirt *lv, np_backend_guest **gs, size_t *n)
{
    *gs = NULL;
    *n = 0;
    if (!lv->lb)
        return 0;
    int rc = np_backend_list_guests(np_linux_backend_get(lv->lb), gs, n);
    if (rc)
        lv_log(lv, NP_LOG_WARNING, "QEMU processes: %s (memory per node unknown)",
               np_strerror(rc));
    return 0;
}

/* The node of a host PCI device as libvirt's node devices know it
 * (<numa node='N'/> in pci_DDDD_BB_DD_F's XML); -ENOENT when unknown. */
int np_libvirt_device_node(np_libvirt *lv, const char *bdf, int32_t *node_out)
{
    char name[64];
    unsigned dom = 0, bus = 0, dev = 0, fn = 0;
    np_error err = {0};
    int rc = -ENOENT;
    if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
        return -EINVAL;
    snprintf(name, sizeof(name), "pci_%04x_%02x_%02x_%x", dom, bus, dev, fn);
    virNodeDevicePtr nd = virNodeDeviceLookupByName(lv->conn, name);
    char *xml = nd ? virNodeDeviceGetXMLDesc(nd, 0) : NULL;
    if (xml)
        rc = np_libvirt_nodedev_numa_node(xml, strlen(xml), name, node_out, &err);
    if (rc)
        lv_log(lv, NP_LOG_DEBUG, "node device %s: %s", name, xml ? err.msg : last_error());
    free(xml);
    if (nd)
        virNodeDeviceFree(nd);
    return rc;
}

/* The hints in the domain's numaplace metadata element into g (group, IO
 * node). A domain without the element has none; a malformed one is logged
 * and ignored: the domain still runs and is balanced without hints. */
/* The CPUs of the nodes create recorded ("" or a node this host lacks:
 * none). */
static np_bitmap *plan_cpus(const np_libvirt *lv, const np_libvirt_hints *h)
{
    np_bitmap *nodes = NULL, *cpus = NULL;
    size_t idx;
    if (!h->nodes[0] || !h->policy[0] || np_bitmap_create(&nodes) ||
        np_bitmap_parse(nodes, h->nodes) || np_bitmap_create(&cpus))
        goto fail;
    for (int n = np_bitmap_next(nodes, 0); n >= 0; n = np_bitmap_next(nodes, (unsigned)n + 1))
        if (np_topology_node_idx(lv->topo, (uint32_t)n, &idx) ||
            np_bitmap_or(cpus, np_topology_node_cpuset(lv->topo, idx)))
            goto fail;
    np_bitmap_destroy(nodes);
    return cpus;
fail:
    np_bitmap_destroy(nodes);
    np_bitmap_destroy(cpus);
    return NULL;
}

static void read_hints(np_libvirt *lv, virDomainPtr dom, np_backend_guest *g, lv_dom *d)
{
    np_libvirt_hints h;
    np_error err = {0};
    size_t idx;
    np_bitmap_destroy(d->plan_cpus);
    d->plan_cpus = NULL;
    char *md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, NP_LIBVIRT_XMLNS,
                                    VIR_DOMAIN_AFFECT_CURRENT);
    if (!md)
        return; /* none (VIR_ERR_NO_DOMAIN_METADATA) */
    if (np_libvirt_hints_parse(md, strlen(md), g->name, &h, &err)) {
        lv_log(lv, NP_LOG_WARNING, "domain %s: numaplace metadata ignored: line %u: %s", g->name,
               err.line, err.msg);
        goto out;
    }
    d->plan_cpus = plan_cpus(lv, &h);
    memcpy(g->group, h.group, sizeof(g->group));
    g->group_rule = h.group_rule;
    g->group_weight = h.group_weight;
    int32_t io = h.io_node_os_id;
    if (io < 0 && h.io_device[0] && np_libvirt_device_node(lv, h.io_device, &io))
        io = -1;
    if (io >= 0 && np_topology_node_idx(lv->topo, (uint32_t)io, &idx) == 0) {
        g->io_node_set = true;
        g->io_node_os_id = io;
    } else if (io >= 0) {
        lv_log(lv, NP_LOG_WARNING, "domain %s: IO node %d is not a node of this host", g->name,
               (int)io);
    }
out:
    free(md);
}

/* Each vCPU's CPU use since the previous list: libvirt's cpuTime over
 * the time between the two lists (0..1). Without it sensing would count
 * every vCPU of a libvirt domain as busy (its start time is not known):
 * idle or paused domains would take the CPU room a guest needs to be
 * steered. A counter that went back (a new vCPU set) is not measured. */
static void measure_demand(lv_dom *d, np_backend_guest *g, uint32_t nr_read)
{
    uint64_t now = np_linux_clock_now_ns(NULL);
    uint32_t nv = nr_read < g->nr_vcpus ? nr_read : g->nr_vcpus;
    for (uint32_t v = 0; v < nv && d->nr_prev == g->nr_vcpus && now > d->prev_at_ns; v++) {
        uint64_t cpu = g->vcpus[v].cpu_time_ns;
        if (cpu < d->prev_cpu_ns[v])
            continue;
        double share = (double)(cpu - d->prev_cpu_ns[v]) / (double)(now - d->prev_at_ns);
        g->vcpus[v].demand = share > 1.0 ? 1.0 : share;
        g->vcpus[v].demand_measured = true;
    }
    if (d->nr_prev != g->nr_vcpus) {
        free(d->prev_cpu_ns);
        d->prev_cpu_ns = calloc(g->nr_vcpus ? g->nr_vcpus : 1, sizeof(*d->prev_cpu_ns));
        d->nr_prev = d->prev_cpu_ns ? g->nr_vcpus : 0;
    }
    for (uint32_t v = 0; v < d->nr_prev; v++)
        d->prev_cpu_ns[v] = g->vcpus[v].cpu_time_ns;
    d->prev_at_ns = now;
}

/* One domain into a backend guest: vCPUs from libvirt, memory from its
 * QEMU process when one matches. */
static int fill_guest(np_libvirt *lv, virDomainPtr dom, const np_backend_guest *lgs, size_t nl,
                      np_backend_guest *g)
{
    virDomainInfo info;
    virVcpuInfoPtr vinfo = NULL;
    unsigned char *maps = NULL;
    size_t nn = np_topology_nr_nodes(lv->topo);
    int rc;

    const char *name = virDomainGetName(dom); /* before a call whose error is read */
    if (virDomainGetInfo(dom, &info) < 0) {
        lv_log(lv, NP_LOG_WARNING, "domain %s: %s", name ? name : "?", last_error());
        return -ENOENT;
    }
    rc = np_backend_guest_alloc(g, info.nrVirtCpu, nn);
    if (rc)
        return rc;
    g->id = virDomainGetID(dom);
    snprintf(g->name, sizeof(g->name), "%s", virDomainGetName(dom));
    g->mem_target_bytes = (uint64_t)info.memory * 1024;
    g->maxmem_bytes = (uint64_t)info.maxMem * 1024;
    g->start_ns = NP_BACKEND_TIME_UNKNOWN;
    lv_dom *d = dom_get(lv, g->id);
    if (!d)
        return -ENOMEM;
    snprintf(d->name, sizeof(d->name), "%s", g->name);
    d->seen = true;
    d->pid = -1;
    read_hints(lv, dom, g, d);

    vinfo = calloc(info.nrVirtCpu ? info.nrVirtCpu : 1, sizeof(*vinfo));
    maps = calloc((size_t)(info.nrVirtCpu ? info.nrVirtCpu : 1), (size_t)lv->maplen);
    if (!vinfo || !maps) {
        rc = -ENOMEM;
        goto out;
    }
    int got = virDomainGetVcpus(dom, vinfo, (int)info.nrVirtCpu, maps, lv->maplen);
    for (int v = 0; v < got && (uint32_t)v < info.nrVirtCpu; v++) {
        np_backend_vcpu *bv = &g->vcpus[vinfo[v].number < info.nrVirtCpu ? vinfo[v].number : 0];
        np_bitmap *m = NULL;
        bv->cpu_time_ns = vinfo[v].cpuTime;
        bv->last_cpu_os_id = vinfo[v].cpu;
        rc = map_to_bitmap(VIR_GET_CPUMAP(maps, lv->maplen, v), lv->maplen, &m);
        if (rc)
            goto out;
        if (covers_host(lv, m)) {
            np_bitmap_destroy(m);
        } else if ((d->soft && np_bitmap_equal(d->soft, m)) ||
                   (d->plan_cpus && np_bitmap_equal(d->plan_cpus, m))) {
            /* what the daemon steered to, or create's node-wide pin: a
             * preference, not a pin */
            bv->soft = m;
        } else {
            bv->hard = m;
        }
    }
    measure_demand(d, g, got > 0 ? (uint32_t)got : 0);
    /* Memory per node from the QEMU process named like the domain. */
    for (size_t i = 0; i < nl; i++) {
        if (strcmp(lgs[i].name, g->name) != 0)
            continue;
        d->pid = (int64_t)lgs[i].id;
        const np_topology *lt = NULL;
        np_topology *ltopo = NULL;
        if (np_backend_topology(np_linux_backend_get(lv->lb), &ltopo) == 0)
            lt = ltopo;
        for (size_t k = 0; lt && k < lgs[i].nr_nodes; k++) {
            size_t idx;
            if (np_topology_node_idx(lv->topo, np_topology_node(lt, k)->os_id, &idx) == 0)
                g->node_mem_bytes[idx] = lgs[i].node_mem_bytes[k];
        }
        np_topology_destroy(ltopo);
        if (!d->node_mem_bytes)
            d->node_mem_bytes = calloc(nn ? nn : 1, sizeof(*d->node_mem_bytes));
        if (d->node_mem_bytes)
            memcpy(d->node_mem_bytes, g->node_mem_bytes, nn * sizeof(*d->node_mem_bytes));
        break;
    }
    if (d->narrow_to && d->node_mem_bytes &&
        mem_off(lv, d, d->narrow_to) <= NP_BACKEND_MIGRATE_STEP_BYTES)
        narrow_nodeset(lv, dom, d, "the memory is there");
    rc = 0;
out:
    free(vinfo);
    free(maps);
    return rc;
}

static int op_list_guests(void *impl, np_backend_guest **guests_out, size_t *nr_out)
{
    np_libvirt *lv = impl;
    virDomainPtr *doms = NULL;
    np_backend_guest *gs = NULL, *lgs = NULL;
    size_t nl = 0, w = 0;
    int rc = 0;

    int n = virConnectListAllDomains(lv->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        lv_log(lv, NP_LOG_ERROR, "listing domains: %s", last_error());
        return -EIO;
    }
    qsort(doms, (size_t)n, sizeof(*doms), cmp_dom_id);
    for (size_t i = 0; i < lv->nr_doms; i++)
        lv->doms[i].seen = false;
    linux_guests(lv, &lgs, &nl);
    rc = np_backend_guests_alloc((size_t)n, &gs);
    for (int i = 0; i < n && !rc; i++) {
        int r = fill_guest(lv, doms[i], lgs, nl, &gs[w]);
        if (r == -ENOENT) /* stopped meanwhile */
            continue;
        rc = r;
        if (!rc)
            w++;
    }
    /* forget domains that stopped */
    size_t keep = 0;
    for (size_t i = 0; i < lv->nr_doms; i++) {
        if (lv->doms[i].seen)
            lv->doms[keep++] = lv->doms[i];
        else
            dom_fini(&lv->doms[i]);
    }
    lv->nr_doms = keep;
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    np_backend_guests_free(lgs, nl);
    if (rc) {
        np_backend_guests_free(gs, (size_t)n);
        return rc;
    }
    *guests_out = gs;
    *nr_out = w;
    /* entries past w were allocated zeroed and hold nothing */
    return 0;
}

static int op_topology(void *impl, np_topology **out)
{
    np_libvirt *lv = impl;
    *out = np_topology_ref(lv->topo);
    return 0;
}

static int op_node_free_bytes(void *impl, size_t node_idx, uint64_t *free_out)
{
    np_libvirt *lv = impl;
    const np_node_info *ni = np_topology_node(lv->topo, node_idx);
    unsigned long long bytes = 0;
    if (!ni)
        return -ENOENT;
    if (ni->os_id > INT32_MAX || virNodeGetCellsFreeMemory(lv->conn, &bytes, (int)ni->os_id, 1) != 1) {
        lv_log(lv, NP_LOG_DEBUG, "free memory of node %u: %s", ni->os_id, last_error());
        return -EIO;
    }
    *free_out = bytes;
    return 0;
}

/* ---- acting ---------------------------------------------------------------------- */

/* The vhost workers of the domain's network queues, which libvirt does not
 * pin: through the Linux layer, to the same CPUs (helper_threads.c). On
 * Linux <= 6.3 they sit in the emulator cgroup, whose cpuset libvirt set
 * just before to the same CPUs, so the affinity is allowed. */
static void follow_vhost(np_libvirt *lv, virDomainPtr dom, const unsigned char *map)
{
    lv_dom *d = dom_find(lv, virDomainGetID(dom));
    np_bitmap *cpus = NULL;
    size_t set = 0;
    if (!d || d->pid <= 0 || !lv->ctx || map_to_bitmap(map, lv->maplen, &cpus))
        return;
    int rc = np_linux_helper_threads_pin(lv->ctx, (pid_t)d->pid, 1u << NP_LINUX_HELPER_VHOST,
                                         cpus, &set);
    if (rc)
        lv_log(lv, NP_LOG_WARNING, "domain %s: vhost threads: %s", virDomainGetName(dom),
               np_strerror(rc));
    else if (set)
        lv_log(lv, NP_LOG_DEBUG, "domain %s: %zu vhost thread(s) follow", virDomainGetName(dom),
               set);
    np_bitmap_destroy(cpus);
}

/* The emulator thread, the I/O threads and the vhost workers go where the
 * vCPUs may run: the union of the vCPU pins now in force. Failures are
 * logged, not fatal: the vCPUs were placed. */
static void follow_threads(np_libvirt *lv, virDomainPtr dom)
{
    virDomainInfo info;
    unsigned char *maps = NULL, *uni = NULL;
    virDomainIOThreadInfoPtr *its = NULL;
    int nits = 0;

    const char *name = virDomainGetName(dom); /* libvirt calls reset the last error */
    if (virDomainGetInfo(dom, &info) < 0 || info.nrVirtCpu == 0)
        return;
    maps = calloc(info.nrVirtCpu, (size_t)lv->maplen);
    uni = calloc(1, (size_t)lv->maplen);
    if (!maps || !uni)
        goto out;
    int nv = virDomainGetVcpuPinInfo(dom, (int)info.nrVirtCpu, maps, lv->maplen,
                                     VIR_DOMAIN_AFFECT_CURRENT);
    if (nv <= 0)
        goto out;
    for (int v = 0; v < nv; v++)
        for (int b = 0; b < lv->maplen; b++)
            uni[b] |= VIR_GET_CPUMAP(maps, lv->maplen, v)[b];
    if (virDomainPinEmulator(dom, uni, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT) < 0)
        lv_log(lv, NP_LOG_WARNING, "domain %s: emulator pin: %s", name, last_error());
    nits = virDomainGetIOThreadInfo(dom, &its, VIR_DOMAIN_AFFECT_CURRENT);
    for (int i = 0; i < nits && i < LV_MAX_IOTHREADS; i++)
        if (virDomainPinIOThread(dom, its[i]->iothread_id, uni, lv->maplen,
                                 VIR_DOMAIN_AFFECT_CURRENT) < 0)
            lv_log(lv, NP_LOG_WARNING, "domain %s: iothread %u pin: %s", name,
                   its[i]->iothread_id, last_error());
    follow_vhost(lv, dom, uni);
out:
    for (int i = 0; i < nits; i++)
        virDomainIOThreadInfoFree(its[i]);
    free(its);
    free(maps);
    free(uni);
}

static int op_set_vcpu_affinity(void *impl, uint64_t guest_id, uint32_t vcpu,
                                const np_bitmap *hard, const np_bitmap *soft)
{
    np_libvirt *lv = impl;
    virDomainPtr dom = lookup(lv, guest_id);
    np_bitmap *mask = NULL;
    unsigned char *map = NULL;
    int rc = 0;

    if (!dom)
        return -ENOENT;
    if (soft) {
        rc = np_bitmap_copy(soft, &mask);
        if (!rc && hard && np_bitmap_intersects(soft, hard))
            np_bitmap_and(mask, hard);
    } else if (hard) {
        rc = np_bitmap_copy(hard, &mask);
    }
    if (rc)
        goto out;
    map = bitmap_to_map(lv, mask);
    if (!map) {
        rc = -ENOMEM;
        goto out;
    }
    const char *name = virDomainGetName(dom);
    if (virDomainPinVcpuFlags(dom, vcpu, map, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT) < 0) {
        lv_log(lv, NP_LOG_ERROR, "domain %s: pin vCPU %u: %s", name, vcpu, last_error());
        rc = -EIO;
        goto out;
    }
    lv_dom *d = dom_get(lv, guest_id);
    if (d) {
        np_bitmap_destroy(d->soft);
        d->soft = NULL;
        if (soft)
            rc = np_bitmap_copy(mask, &d->soft);
    }
    follow_threads(lv, dom);
out:
    free(map);
    np_bitmap_destroy(mask);
    virDomainFree(dom);
    return rc;
}

/* numatune's memory mode of a running domain, VIR_DOMAIN_NUMATUNE_MEM_* or -1. */
static int numa_mode(virDomainPtr dom, char *nodeset, size_t len)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, mode = -1;
    if (nodeset && len)
        nodeset[0] = '\0';
    if (virDomainGetNumaParameters(dom, NULL, &nparams, VIR_DOMAIN_AFFECT_CURRENT) < 0 ||
        nparams <= 0)
        return -1;
    params = calloc((size_t)nparams, sizeof(*params));
    if (!params)
        return -1;
    if (virDomainGetNumaParameters(dom, params, &nparams, VIR_DOMAIN_AFFECT_CURRENT) == 0) {
        for (int i = 0; i < nparams; i++) {
            if (strcmp(params[i].field, VIR_DOMAIN_NUMA_MODE) == 0)
                mode = params[i].value.i;
            else if (strcmp(params[i].field, VIR_DOMAIN_NUMA_NODESET) == 0 && nodeset &&
                     params[i].type == VIR_TYPED_PARAM_STRING && params[i].value.s)
                snprintf(nodeset, len, "%s", params[i].value.s);
        }
    }
    virTypedParamsClear(params, nparams);
    free(params);
    return mode;
}

/* libvirt >= 9.4 names a fourth mode (restrictive) that also allows a
 * live nodeset change; older headers lack the constant. */
#define LV_NUMATUNE_MEM_RESTRICTIVE 3

/* Every node of the host (os_ids). */
static int all_nodes(const np_libvirt *lv, np_bitmap **out)
{
    int rc = np_bitmap_create(out);
    for (size_t k = 0; !rc && k < np_topology_nr_nodes(lv->topo); k++)
        rc = np_bitmap_set(*out, np_topology_node(lv->topo, k)->os_id);
    return rc;
}

/* numatune's nodeset, live. libvirt writes it into the domain cgroup's
 * cpuset.mems, and the kernel then migrates every page outside it on the
 * spot (cgroup v2 always migrates): callers make sure the memory is
 * already inside. */
static int set_nodeset(np_libvirt *lv, virDomainPtr dom, const np_bitmap *nodes)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0, maxparams = 0, rc = 0;
    char text[4096];
    const char *name = virDomainGetName(dom);
    np_bitmap_format(nodes, text, sizeof(text));
    if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_DOMAIN_NUMA_NODESET, text) < 0 ||
        virDomainSetNumaParameters(dom, params, nparams, VIR_DOMAIN_AFFECT_CURRENT) < 0) {
        lv_log(lv, NP_LOG_ERROR, "domain %s: numatune nodeset %s: %s", name, text, last_error());
        rc = -EIO;
    }
    virTypedParamsFree(params, nparams);
    return rc;
}

/* Memory of the domain outside `nodes` at the last list (bytes). */
static uint64_t mem_off(const np_libvirt *lv, const lv_dom *d, const np_bitmap *nodes)
{
    uint64_t off = 0;
    for (size_t k = 0; d->node_mem_bytes && k < np_topology_nr_nodes(lv->topo); k++)
        if (!np_bitmap_test(nodes, np_topology_node(lv->topo, k)->os_id))
            off += d->node_mem_bytes[k];
    return off;
}

/* The pending nodeset, once numaplace's mover has moved the memory: what
 * is left outside (pages the mover could not take, at most a step) goes
 * with the cpuset write. */
static void narrow_nodeset(np_libvirt *lv, virDomainPtr dom, lv_dom *d, const char *why)
{
    char text[256];
    if (!d->narrow_to)
        return;
    np_bitmap_format(d->narrow_to, text, sizeof(text));
    d->unmovable_bytes = mem_off(lv, d, d->narrow_to);
    if (set_nodeset(lv, dom, d->narrow_to) == 0)
        lv_log(lv, NP_LOG_INFO, "domain %s: numatune nodeset %s (%s; %llu bytes were left "
               "outside at the last count)", d->name, text, why,
               (unsigned long long)mem_off(lv, d, d->narrow_to));
    np_bitmap_destroy(d->narrow_to);
    d->narrow_to = NULL;
}

/* libvirt cannot change a running domain's per-cell <memnode> bindings:
 * true (and the reason logged once) for such a domain. */
static bool has_memnodes(np_libvirt *lv, virDomainPtr dom, lv_dom *d)
{
    char *xml = virDomainGetXMLDesc(dom, 0);
    const char *nt = xml ? strstr(xml, "<numatune>") : NULL;
    const char *end = nt ? strstr(nt, "</numatune>") : NULL;
    const char *mn = nt ? strstr(nt, "<memnode ") : NULL;
    bool yes = mn && end && mn < end;
    free(xml);
    if (yes && d && !d->memnodes_noted) {
        lv_log(lv, NP_LOG_WARNING,
               "domain %s spans nodes with per-cell <memnode> bindings, which libvirt cannot "
               "change while it runs: numaplaced leaves its memory where libvirt binds it",
               virDomainGetName(dom));
        d->memnodes_noted = true;
    }
    return yes;
}

/* Node affinity through numatune, in an order that keeps the memory moves
 * numaplace's own: when the domain still has memory outside `nodes`,
 * numatune first names the old and the new nodes together (nothing to
 * migrate, and the mover may now place pages on the new ones), and only
 * once the mover has brought the memory over (op_migrate_memory, or the
 * next list) is it narrowed to `nodes`, so libvirt's view is where the
 * memory is and re-applying it moves nothing. */
static int op_set_guest_node_affinity(void *impl, uint64_t guest_id, const np_bitmap *nodes)
{
    np_libvirt *lv = impl;
    virDomainPtr dom = lookup(lv, guest_id);
    lv_dom *d = dom_find(lv, guest_id);
    np_bitmap *want = NULL, *wide = NULL;
    char cur[4096];
    int rc = 0;

    if (!dom)
        return -ENOENT;
    int mode = numa_mode(dom, cur, sizeof(cur));
    if (mode != VIR_DOMAIN_NUMATUNE_MEM_STRICT && mode != LV_NUMATUNE_MEM_RESTRICTIVE) {
        lv_log(lv, NP_LOG_DEBUG, "domain %s: numatune mode %d allows no live nodeset change",
               virDomainGetName(dom), mode);
        rc = -EOPNOTSUPP;
        goto out;
    }
    if (has_memnodes(lv, dom, d)) {
        rc = -EOPNOTSUPP;
        goto out;
    }
    rc = nodes ? np_bitmap_copy(nodes, &want) : all_nodes(lv, &want);
    if (rc)
        goto out;
    uint64_t off = d ? mem_off(lv, d, want) : 0;
    if (off <= NP_BACKEND_MIGRATE_STEP_BYTES + (d ? d->unmovable_bytes : 0)) {
        rc = set_nodeset(lv, dom, want);
        if (!rc && d) {
            np_bitmap_destroy(d->narrow_to);
            d->narrow_to = NULL;
        }
        goto out;
    }
    /* memory elsewhere: hold old + new until the mover is done */
    rc = np_bitmap_copy(want, &wide);
    if (!rc && cur[0]) {
        np_bitmap *c = NULL;
        rc = np_bitmap_create(&c);
        if (!rc && np_bitmap_parse(c, cur) == 0)
            rc = np_bitmap_or(wide, c);
        np_bitmap_destroy(c);
    }
    for (size_t k = 0; !rc && k < np_topology_nr_nodes(lv->topo); k++)
        if (d->node_mem_bytes[k])
            rc = np_bitmap_set(wide, np_topology_node(lv->topo, k)->os_id);
    if (!rc)
        rc = set_nodeset(lv, dom, wide);
    if (!rc) {
        char a[256], b[256];
        np_bitmap_format(wide, a, sizeof(a));
        np_bitmap_format(want, b, sizeof(b));
        lv_log(lv, NP_LOG_INFO, "domain %s: numatune nodeset %s while numaplace moves %llu bytes; "
               "%s once they are there", d->name, a, (unsigned long long)off, b);
        np_bitmap_destroy(d->narrow_to);
        d->narrow_to = want;
        want = NULL;
    }
out:
    np_bitmap_destroy(want);
    np_bitmap_destroy(wide);
    virDomainFree(dom);
    return rc;
}

static int op_migrate_memory(void *impl, uint64_t guest_id, size_t from_node_idx,
                             size_t to_node_idx, uint64_t bytes, uint64_t *moved_out)
{
    np_libvirt *lv = impl;
    lv_dom *d = dom_find(lv, guest_id);
    np_topology *lt = NULL;
    size_t lfrom, lto;
    int rc;

    *moved_out = 0;
    if (!d || d->pid < 0 || !lv->lb)
        return -ENOSYS; /* no QEMU process here to move */
    const np_node_info *from = np_topology_node(lv->topo, from_node_idx);
    const np_node_info *to = np_topology_node(lv->topo, to_node_idx);
    if (!from || !to)
        return -EINVAL;
    np_backend *lbe = np_linux_backend_get(lv->lb);
    rc = np_backend_topology(lbe, &lt);
    if (!rc && (np_topology_node_idx(lt, from->os_id, &lfrom) ||
                np_topology_node_idx(lt, to->os_id, &lto)))
        rc = -ENOENT;
    if (!rc)
        rc = np_backend_migrate_memory(lbe, (uint64_t)d->pid, lfrom, lto, bytes, moved_out);
    np_topology_destroy(lt);
    if (rc == 0 && d->node_mem_bytes) {
        uint64_t moved = *moved_out < d->node_mem_bytes[from_node_idx]
                             ? *moved_out : d->node_mem_bytes[from_node_idx];
        d->node_mem_bytes[from_node_idx] -= moved;
        d->node_mem_bytes[to_node_idx] += moved;
    }
    /* A short step: nothing more the mover can take from there. */
    if (rc == 0 && d->narrow_to && (*moved_out < bytes ||
                                     mem_off(lv, d, d->narrow_to) <= NP_BACKEND_MIGRATE_STEP_BYTES)) {
        virDomainPtr dom = lookup(lv, guest_id);
        if (dom) {
            narrow_nodeset(lv, dom, d, "the mover is done");
            virDomainFree(dom);
        }
    }
    return rc;
}

static int op_now_ns(void *impl, uint64_t *now_out)
{
    (void)impl;
    *now_out = np_linux_clock_now_ns(NULL);
    return 0;
}

static int op_random(void *impl, uint64_t *out)
{
    np_libvirt *lv = impl;
    /* splitmix64: tie-breaking, not secrecy */
    uint64_t z = (lv->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    *out = z ^ (z >> 31);
    return 0;
}

static void op_log(void *impl, np_log_level level, const char *subsys, const char *msg)
{
    np_libvirt *lv = impl;
    if (lv->log)
        lv->log(lv->opaque, level, subsys, msg);
}

static const struct np_backend_ops libvirt_ops = {
    .version = NP_BACKEND_OPS_VERSION,
    .name = "libvirt",
    .topology = op_topology,
    .list_guests = op_list_guests,
    .node_free_bytes = op_node_free_bytes,
    .set_vcpu_affinity = op_set_vcpu_affinity,
    .set_guest_node_affinity = op_set_guest_node_affinity,
    .migrate_memory = op_migrate_memory,
    .now_ns = op_now_ns,
    .random = op_random,
    .log = op_log,
};

const struct np_backend_ops *np_libvirt_backend_ops(void)
{
    return &libvirt_ops;
}

/* ---- describing a domain -------------------------------------------------------- */

void np_libvirt_domain_fini(np_libvirt_domain *d)
{
    if (!d)
        return;
    for (uint32_t v = 0; d->vcpu_pins && v < d->nr_vcpus; v++)
        np_bitmap_destroy(d->vcpu_pins[v]);
    free(d->vcpu_pins);
    np_bitmap_destroy(d->emulator_pin);
    for (uint32_t i = 0; d->iothread_pins && i < d->nr_iothreads; i++)
        np_bitmap_destroy(d->iothread_pins[i]);
    free(d->iothread_pins);
    free(d->iothread_ids);
    np_bitmap_destroy(d->numatune_nodes);
    memset(d, 0, sizeof(*d));
}

static int describe(np_libvirt *lv, virDomainPtr dom, np_libvirt_domain *out)
{
    virDomainInfo info;
    unsigned char *maps = NULL;
    virDomainIOThreadInfoPtr *its = NULL;
    int nits = 0, rc = 0;
    char nodeset[4096];
    static const char *const modes[] = {"strict", "preferred", "interleave", "restrictive"};

    memset(out, 0, sizeof(*out));
    out->pid = -1;
    if (virDomainGetInfo(dom, &info) < 0)
        return -ENOENT;
    out->id = virDomainGetID(dom);
    snprintf(out->name, sizeof(out->name), "%s", virDomainGetName(dom));
    if (virDomainGetUUIDString(dom, out->uuid) < 0)
        out->uuid[0] = '\0';
    lv_dom *d = dom_find(lv, out->id);
    if (d)
        out->pid = d->pid;
    out->nr_vcpus = info.nrVirtCpu;
    out->vcpu_pins = calloc(info.nrVirtCpu ? info.nrVirtCpu : 1, sizeof(*out->vcpu_pins));
    maps = calloc(info.nrVirtCpu ? info.nrVirtCpu : 1, (size_t)lv->maplen);
    if (!out->vcpu_pins || !maps) {
        rc = -ENOMEM;
        goto out;
    }
    int nv = virDomainGetVcpuPinInfo(dom, (int)info.nrVirtCpu, maps, lv->maplen,
                                     VIR_DOMAIN_AFFECT_CURRENT);
    for (int v = 0; v < nv && !rc; v++)
        rc = map_to_bitmap(VIR_GET_CPUMAP(maps, lv->maplen, v), lv->maplen, &out->vcpu_pins[v]);
    if (!rc && virDomainGetEmulatorPinInfo(dom, maps, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT) == 1)
        rc = map_to_bitmap(maps, lv->maplen, &out->emulator_pin);
    if (rc)
        goto out;
    nits = virDomainGetIOThreadInfo(dom, &its, VIR_DOMAIN_AFFECT_CURRENT);
    if (nits > 0) {
        out->iothread_ids = calloc((size_t)nits, sizeof(*out->iothread_ids));
        out->iothread_pins = calloc((size_t)nits, sizeof(*out->iothread_pins));
        if (!out->iothread_ids || !out->iothread_pins) {
            rc = -ENOMEM;
            goto out;
        }
        out->nr_iothreads = (uint32_t)nits;
        for (int i = 0; i < nits && !rc; i++) {
            out->iothread_ids[i] = its[i]->iothread_id;
            rc = map_to_bitmap(its[i]->cpumap, its[i]->cpumaplen, &out->iothread_pins[i]);
        }
    }
    int mode = numa_mode(dom, nodeset, sizeof(nodeset));
    if (mode >= 0 && (size_t)mode < sizeof(modes) / sizeof(modes[0]))
        snprintf(out->numatune_mode, sizeof(out->numatune_mode), "%s", modes[mode]);
    if (!rc && nodeset[0]) {
        rc = np_bitmap_create(&out->numatune_nodes);
        if (!rc && np_bitmap_parse(out->numatune_nodes, nodeset))
            lv_log(lv, NP_LOG_WARNING, "domain %s: numatune nodeset '%s' not understood",
                   out->name, nodeset);
    }
out:
    for (int i = 0; i < nits; i++)
        virDomainIOThreadInfoFree(its[i]);
    free(its);
    free(maps);
    if (rc)
        np_libvirt_domain_fini(out);
    return rc;
}

int np_libvirt_domain_get(np_libvirt *lv, uint64_t id, np_libvirt_domain *out)
{
    virDomainPtr dom = lookup(lv, id);
    if (!dom)
        return -ENOENT;
    int rc = describe(lv, dom, out);
    virDomainFree(dom);
    return rc;
}

int np_libvirt_domain_find(np_libvirt *lv, const char *name_or_uuid, np_libvirt_domain *out)
{
    virDomainPtr dom = virDomainLookupByName(lv->conn, name_or_uuid);
    if (!dom)
        dom = virDomainLookupByUUIDString(lv->conn, name_or_uuid);
    if (!dom)
        return -ENOENT;
    int rc = virDomainIsActive(dom) == 1 ? describe(lv, dom, out) : -ESRCH;
    virDomainFree(dom);
    return rc;
}

int np_libvirt_define(np_libvirt *lv, const char *xml, bool start, uint64_t *id_out)
{
    virDomainPtr dom = NULL;
    int rc = 0;
    *id_out = UINT64_MAX;
    dom = virDomainDefineXML(lv->conn, xml);
    if (!dom) {
        virErrorPtr e = virGetLastError();
        bool dup = e && (e->code == VIR_ERR_OPERATION_INVALID || e->code == VIR_ERR_DOM_EXIST);
        lv_log(lv, NP_LOG_ERROR, "define: %s", last_error());
        return dup ? -EEXIST : -EINVAL;
    }
    const char *name = virDomainGetName(dom);
    if (start && virDomainCreate(dom) < 0) {
        lv_log(lv, NP_LOG_ERROR, "start %s: %s", name, last_error());
        rc = -EIO;
    } else if (start) {
        *id_out = virDomainGetID(dom);
    }
    virDomainFree(dom);
    return rc;
}

np_topology *np_libvirt_topology(np_libvirt *lv)
{
    return np_topology_ref(lv->topo);
}

int np_libvirt_pin_vhost(np_libvirt *lv, uint64_t id, size_t *nr_set_out)
{
    np_backend_guest *gs = NULL;
    size_t ng = 0, set = 0;
    unsigned char *map = NULL;
    int rc = op_list_guests(lv, &gs, &ng); /* finds the QEMU processes */
    np_backend_guests_free(gs, ng);
    if (rc)
        return rc;
    virDomainPtr dom = lookup(lv, id);
    lv_dom *d = dom_find(lv, id);
    np_bitmap *cpus = NULL;
    if (!dom)
        return -ENOENT;
    if (!d || d->pid <= 0 || !lv->ctx) {
        rc = -ENOSYS; /* no QEMU process on this host */
        goto out;
    }
    map = calloc(1, (size_t)lv->maplen);
    if (!map) {
        rc = -ENOMEM;
        goto out;
    }
    if (virDomainGetEmulatorPinInfo(dom, map, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT) != 1) {
        rc = -EIO;
        goto out;
    }
    rc = map_to_bitmap(map, lv->maplen, &cpus);
    if (!rc)
        rc = np_linux_helper_threads_pin(lv->ctx, (pid_t)d->pid, 1u << NP_LINUX_HELPER_VHOST,
                                         cpus, &set);
out:
    if (nr_set_out)
        *nr_set_out = set;
    np_bitmap_destroy(cpus);
    free(map);
    virDomainFree(dom);
    return rc;
}

#else /* !NP_HAVE_LIBVIRT */

int np_libvirt_define(np_libvirt *lv, const char *xml, bool start, uint64_t *id_out)
{
    (void)lv;
    (void)xml;
    (void)start;
    *id_out = UINT64_MAX;
    return -ENOTSUP;
}

np_topology *np_libvirt_topology(np_libvirt *lv)
{
    (void)lv;
    return NULL;
}

int np_libvirt_pin_vhost(np_libvirt *lv, uint64_t id, size_t *nr_set_out)
{
    (void)lv;
    (void)id;
    if (nr_set_out)
        *nr_set_out = 0;
    return -ENOTSUP;
}

int np_libvirt_device_node(np_libvirt *lv, const char *bdf, int32_t *node_out)
{
    (void)lv;
    (void)bdf;
    (void)node_out;
    return -ENOTSUP;
}

int np_libvirt_open(const char *uri, const char *root, np_log_fn log, void *opaque,
                    np_libvirt **out)
{
    (void)uri;
    (void)root;
    (void)log;
    (void)opaque;
    *out = NULL;
    return -ENOTSUP;
}

void np_libvirt_close(np_libvirt *lv)
{
    (void)lv;
}

const struct np_backend_ops *np_libvirt_backend_ops(void)
{
    return NULL;
}

int np_libvirt_domain_get(np_libvirt *lv, uint64_t id, np_libvirt_domain *out)
{
    (void)lv;
    (void)id;
    memset(out, 0, sizeof(*out));
    return -ENOTSUP;
}

int np_libvirt_domain_find(np_libvirt *lv, const char *name_or_uuid, np_libvirt_domain *out)
{
    (void)lv;
    (void)name_or_uuid;
    memset(out, 0, sizeof(*out));
    return -ENOTSUP;
}

void np_libvirt_domain_fini(np_libvirt_domain *d)
{
    (void)d;
}

#endif /* NP_HAVE_LIBVIRT */
