/*
 * linux/backend_linux.c - the Linux/KVM implementation of np_backend_ops
 * (numaplace/backend_linux.h): guests are processes, vCPUs their threads,
 * sensing and acting go through the Linux access layer of this directory.
 *
 * The backend keeps, per guest PID, the thread ids in vCPU order from the
 * last list_guests (so set_vcpu_affinity(guest, vcpu) names a thread) and
 * the soft mask it last steered the guest to (so the next sense reports a
 * steered guest as "soft", not as pinned by someone), and the hard pins it
 * set per thread (so a whole-guest pin can narrow the guest cgroup's
 * cpuset.cpus; docs/linux.md "The guest's cgroup").
 */
#include <numaplace/backend_linux.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"

#define SUBSYS "linux/backend"

/* A vCPU thread pinned hard (set_vcpu_affinity with a hard mask and no
 * soft one), by TID so a changed thread list cannot misattribute it. */
typedef struct lb_pin {
    pid_t tid;
    np_bitmap *hard;
} lb_pin;

typedef struct lb_guest {
    pid_t pid;
    char *cgroup;           /* NULL: none known */
    size_t nr_tids;
    pid_t *tids;            /* vCPU order */
    np_bitmap *soft;        /* last soft mask steered to, NULL = none */
    lb_pin *pins;           /* hard pins in force */
    size_t nr_pins;
    /* The last sample of each vCPU thread's run time, for CPU use between
     * two lists (the balancer's demand; an idle guest must not block room). */
    pid_t *sample_tids;
    uint64_t *sample_cpu_ns;
    size_t nr_samples;
    uint64_t sample_ns;
    np_linux_mover *mover;  /* the migration under way, NULL = none */
    unsigned mover_from_os_id, mover_to_os_id;
    /* A migration step runs on this guest now (another thread): reading
     * its numa_maps or cmdline would wait on the mmap_lock move_pages
     * holds, for seconds; the last description and memory stand in. */
    bool moving;
    /* Its cgroup cannot report hugetlb pages while the host has some in
     * use: sensed through numa_maps instead, said once in the log. */
    bool huge_fallback_said;
    np_linux_proc desc;     /* last description, valid when desc.pid */
    np_linux_mem mem;       /* last memory sensed, valid when mem.nr_node_slots */
    bool seen;              /* found by the last list_guests */
} lb_guest;

struct np_linux_backend {
    /* Guards the guest table, opts and last_move: migrate_memory may run
     * on another thread than the other operations
     * (NP_BACKEND_CONCURRENT_MIGRATE); a migration holds it only to take
     * out and put back its guest's mover, never while pages move. */
    pthread_mutex_t mu;
    np_linux_ctx *ctx;
    np_topology *topo;
    np_backend *be;
    np_linux_backend_opts opts;
    char *cgroup;           /* owned copy of opts.cgroup */
    pid_t *pids;            /* owned copy of opts.pids */
    lb_guest *guests;
    size_t nr_guests, cap_guests;
    np_bitmap *all_cpus;
    uint64_t rng;
    np_linux_move_stats last_move;
    /* Quiesced steps (np_linux_backend_set_quiesce); kept apart from opts,
     * which set_source replaces whole. */
    np_linux_move_opts quiesce;
    /* host_huge_in_use() for this listing: -1 not read yet (reset by each
     * list, read at most once per list whatever the number of guests). */
    int huge_in_use;
};

static void lb_guest_fini(lb_guest *g)
{
    free(g->cgroup);
    free(g->tids);
    np_bitmap_destroy(g->soft);
    for (size_t i = 0; i < g->nr_pins; i++)
        np_bitmap_destroy(g->pins[i].hard);
    free(g->pins);
    free(g->sample_tids);
    free(g->sample_cpu_ns);
    np_linux_proc_fini(&g->desc);
    np_linux_mem_fini(&g->mem);
    np_linux_mover_destroy(g->mover);
    memset(g, 0, sizeof(*g));
}

static lb_guest *lb_find(np_linux_backend *lb, pid_t pid)
{
    for (size_t i = 0; i < lb->nr_guests; i++)
        if (lb->guests[i].pid == pid)
            return &lb->guests[i];
    return NULL;
}

static lb_guest *lb_get(np_linux_backend *lb, pid_t pid)
{
    lb_guest *g = lb_find(lb, pid);
    if (g)
        return g;
    if (lb->nr_guests == lb->cap_guests) {
        size_t cap = lb->cap_guests ? lb->cap_guests * 2 : 8;
        lb_guest *n = realloc(lb->guests, cap * sizeof(*n));
        if (!n)
            return NULL;
        lb->guests = n;
        lb->cap_guests = cap;
    }
    g = &lb->guests[lb->nr_guests++];
    memset(g, 0, sizeof(*g));
    g->pid = pid;
    return g;
}

/* Drops guests the last scan did not see (exited processes). */
static void lb_prune(np_linux_backend *lb)
{
    size_t w = 0;
    for (size_t i = 0; i < lb->nr_guests; i++) {
        if (lb->guests[i].seen)
            lb->guests[w++] = lb->guests[i];
        else
            lb_guest_fini(&lb->guests[i]);
    }
    lb->nr_guests = w;
}

/* Deep copies (0 or -ENOMEM; *out untouched on failure). */
static int proc_copy(const np_linux_proc *in, np_linux_proc *out)
{
    np_linux_proc c = *in;
    c.guest_name = in->guest_name ? strdup(in->guest_name) : NULL;
    c.cgroup = in->cgroup ? strdup(in->cgroup) : NULL;
    if ((in->guest_name && !c.guest_name) || (in->cgroup && !c.cgroup)) {
        np_linux_proc_fini(&c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

static int mem_copy(const np_linux_mem *in, np_linux_mem *out)
{
    np_linux_mem c = *in;
    size_t n = in->nr_node_slots ? in->nr_node_slots : 1;
    c.bytes_by_node_os_id = calloc(n, sizeof(uint64_t));
    c.anon_bytes_by_node_os_id = calloc(n, sizeof(uint64_t));
    c.huge_by_node_os_id = calloc(n * NP_LINUX_HUGE_SIZES_MAX, sizeof(uint64_t));
    if (!c.bytes_by_node_os_id || !c.anon_bytes_by_node_os_id || !c.huge_by_node_os_id) {
        free(c.bytes_by_node_os_id);
        free(c.anon_bytes_by_node_os_id);
        free(c.huge_by_node_os_id);
        return -ENOMEM;
    }
    if (in->nr_node_slots) {
        memcpy(c.bytes_by_node_os_id, in->bytes_by_node_os_id, n * sizeof(uint64_t));
        memcpy(c.anon_bytes_by_node_os_id, in->anon_bytes_by_node_os_id, n * sizeof(uint64_t));
    }
    if (in->nr_node_slots && in->huge_by_node_os_id)
        memcpy(c.huge_by_node_os_id, in->huge_by_node_os_id,
               n * NP_LINUX_HUGE_SIZES_MAX * sizeof(uint64_t));
    *out = c;
    return 0;
}

/* ---- topology ---------------------------------------------------------- */

/* The host's PCI devices that sit on a node (sysfs numa_node), so that a
 * guest's passthrough device (QEMU's vfio-pci host=) has a node the
 * balancer keeps it on. Read once, with the topology: a device that
 * appears later is known after a restart. */
static int add_pci_devices(np_linux_ctx *ctx, np_topology_builder *b)
{
    char(*bdfs)[NP_BDF_TEXT_MAX] = NULL;
    int32_t *nodes = NULL;
    size_t n = 0;
    int rc = np_linux_pci_devices(ctx, &bdfs, &nodes, &n);

    for (size_t i = 0; i < n && !rc; i++) {
        np_pci_info dev;
        memset(&dev, 0, sizeof(dev));
        if (np_pci_parse_bdf(bdfs[i], &dev.domain, &dev.bus, &dev.dev, &dev.fn) < 0)
            continue;
        snprintf(dev.name, sizeof(dev.name), "%s", bdfs[i]);
        rc = np_topology_builder_add_device(b, &dev, (uint32_t)nodes[i]);
        if (rc == -ENOENT)
            rc = 0; /* a node not online: no use */
    }
    free(bdfs);
    free(nodes);
    return rc;
}

static int build_topology(np_linux_ctx *ctx, np_topology **out)
{
    np_topology_builder *b = NULL;
    np_bitmap *nodes = NULL, *cpus = NULL;
    np_error err = {0};
    int rc;

    rc = np_topology_builder_create(&b);
    if (!rc)
        rc = np_topology_builder_set_name(b, "linux");
    if (!rc)
        rc = np_linux_nodes_online(ctx, &nodes);
    for (int n = rc ? -1 : np_bitmap_next(nodes, 0); n >= 0 && !rc;
         n = np_bitmap_next(nodes, (unsigned)n + 1)) {
        np_linux_node_meminfo mi;
        rc = np_linux_node_meminfo_read(ctx, (unsigned)n, &mi);
        if (!rc)
            rc = np_topology_builder_add_node(b, (uint32_t)n, mi.total_bytes,
                                              mi.free_bytes > mi.total_bytes ? mi.total_bytes
                                                                             : mi.free_bytes);
        if (!rc)
            rc = np_linux_node_cpus(ctx, (unsigned)n, &cpus);
        for (int c = rc ? -1 : np_bitmap_next(cpus, 0); c >= 0 && !rc;
             c = np_bitmap_next(cpus, (unsigned)c + 1))
            rc = np_topology_builder_add_cpu(b, (uint32_t)c, (uint32_t)n, NP_TOPO_ID_UNKNOWN,
                                             NP_TOPO_ID_UNKNOWN);
        np_bitmap_destroy(cpus);
        cpus = NULL;
    }
    if (!rc)
        rc = add_pci_devices(ctx, b);
    if (!rc) {
        rc = np_topology_builder_finish(b, out, &err);
        if (rc)
            np_linux_log(ctx, NP_LOG_ERROR, SUBSYS, "topology: %s", err.msg);
    }
    np_bitmap_destroy(nodes);
    np_topology_builder_destroy(b);
    return rc;
}

/* ---- operations ---------------------------------------------------------- */

/* The backend's clock (the same op_now_ns reports). */
static void op_now(const np_linux_backend *lb, uint64_t *now_out)
{
    (void)lb;
    *now_out = np_linux_clock_now_ns(NULL);
}

static int op_topology(void *impl, np_topology **out)
{
    np_linux_backend *lb = impl;
    *out = np_topology_ref(lb->topo);
    return 0;
}

static int op_node_free_bytes(void *impl, size_t node_idx, uint64_t *free_out)
{
    np_linux_backend *lb = impl;
    const np_node_info *ni = np_topology_node(lb->topo, node_idx);
    np_linux_node_meminfo mi;
    if (!ni)
        return -ENOENT;
    int rc = np_linux_node_meminfo_read(lb->ctx, ni->os_id, &mi);
    if (!rc)
        *free_out = mi.free_bytes;
    return rc;
}

/* The free pages of a node's hugetlb pool of one size, in bytes
 * (sysfs nodeN/hugepages/hugepages-<size>kB/free_hugepages, under the
 * context's root). */
static int op_node_huge_free_bytes(void *impl, size_t node_idx, uint64_t page_bytes,
                                   uint64_t *free_out)
{
    np_linux_backend *lb = impl;
    const np_node_info *ni = np_topology_node(lb->topo, node_idx);
    np_linux_hugepool pool;
    if (!ni)
        return -ENOENT;
    int rc = np_linux_node_hugepool_read(lb->ctx, ni->os_id, page_bytes, &pool);
    if (!rc)
        *free_out = pool.free_pages * page_bytes;
    return rc;
}

/* The PIDs to look at and what each runs. */
static int scan_procs(np_linux_backend *lb, np_linux_proc **procs_out, size_t *n_out)
{
    np_linux_proc *procs = NULL;
    pid_t *pids = NULL;
    size_t n = 0, np = 0;
    int rc = 0;

    if (lb->opts.source == NP_LINUX_GUESTS_QEMU)
        return np_linux_find_guests(lb->ctx, procs_out, n_out);
    if (lb->opts.source == NP_LINUX_GUESTS_CGROUP) {
        rc = np_linux_cgroup_procs(lb->ctx, lb->cgroup, &pids, &np);
        if (rc)
            goto out;
    } else {
        np = lb->opts.nr_pids;
    }
    procs = calloc(np ? np : 1, sizeof(*procs));
    if (!procs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        pid_t pid = pids ? pids[i] : lb->pids[i];
        const lb_guest *known = lb_find(lb, pid);
        int r = known && known->moving && known->desc.pid == pid
                    ? proc_copy(&known->desc, &procs[n])
                    : np_linux_proc_describe(lb->ctx, pid, &procs[n]);
        if (r == -ESRCH || r == -ENOENT)
            continue; /* gone, or never there: nothing to balance */
        if (r) {
            rc = r;
            goto out;
        }
        n++;
    }
    *procs_out = procs;
    *n_out = n;
    procs = NULL;
    n = 0;
out:
    np_linux_procs_free(procs, n);
    free(pids);
    return rc;
}

/* Does any node hold hugetlb pages in use (2 MiB or 1 GiB pools:
 * nr + surplus - free > 0)? A node or size without a pool has none.
 * Read once per listing (lb->huge_in_use), not once per guest. */
static bool host_huge_in_use(np_linux_backend *lb)
{
    static const uint64_t sizes[] = {UINT64_C(2) << 20, UINT64_C(1) << 30};
    if (lb->huge_in_use >= 0)
        return lb->huge_in_use;
    lb->huge_in_use = 0;
    for (size_t k = 0; k < np_topology_nr_nodes(lb->topo) && !lb->huge_in_use; k++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            np_linux_hugepool pool;
            if (np_linux_node_hugepool_read(lb->ctx, np_topology_node(lb->topo, k)->os_id,
                                            sizes[i], &pool) == 0 &&
                pool.nr_pages + pool.surplus_pages > pool.free_pages) {
                lb->huge_in_use = 1;
                break;
            }
        }
    return lb->huge_in_use;
}

/* Where the guest's memory is: its cgroup's counters when it is alone in a
 * cgroup of its own (cost independent of its size), else numa_maps (a walk
 * of its page tables). A cgroup without the memory controller, or one we
 * cannot read, falls back to numa_maps; so does one without any
 * hugetlb.<size>.numa_stat while the host has hugetlb pages in use (they
 * may be this guest's, which memory.numa_stat leaves out): *huge_fallback. */
static int sense_memory(np_linux_backend *lb, const np_linux_proc *p, np_linux_mem *mem,
                        bool *huge_fallback)
{
    pid_t *pids = NULL;
    size_t np_ = 0;
    *huge_fallback = false;
    if (p->cgroup && strcmp(p->cgroup, "/") != 0 &&
        np_linux_cgroup_procs(lb->ctx, p->cgroup, &pids, &np_) == 0 && np_ == 1 &&
        pids[0] == p->pid && np_linux_mem_cgroup_numa_stat(lb->ctx, p->cgroup, mem) == 0) {
        free(pids);
        if (!mem->huge_not_sensed || !host_huge_in_use(lb))
            return 0;
        *huge_fallback = true;
        np_linux_mem_fini(mem);
        memset(mem, 0, sizeof(*mem));
        return np_linux_mem_numa_maps(lb->ctx, p->pid, mem);
    }
    free(pids);
    return np_linux_mem_numa_maps(lb->ctx, p->pid, mem);
}

/* Each vCPU's CPU use since the previous list: the change of its thread's
 * run time (utime + stime) over the change of the clock, matched by TID
 * (a thread new since then is not measured yet: it counts as busy). A
 * list closer than MIN_SAMPLE_NS to the sample measures nothing and keeps
 * that sample: at the kernel's 10 ms tick a shorter interval measures the
 * tick, not the thread. */
#define MIN_SAMPLE_NS UINT64_C(200000000) /* 200 ms: 20 ticks */
static int sample_cpu_use(np_linux_backend *lb, lb_guest *g, np_backend_guest *bg,
                          const pid_t *tids, size_t nv)
{
    uint64_t now = 0;
    op_now(lb, &now);
    uint64_t dt = g->sample_ns && now > g->sample_ns ? now - g->sample_ns : 0;
    for (size_t v = 0; v < nv && dt >= MIN_SAMPLE_NS; v++) {
        np_backend_vcpu *bv = &bg->vcpus[v];
        for (size_t i = 0; i < g->nr_samples; i++) {
            if (g->sample_tids[i] != tids[v])
                continue;
            uint64_t was = g->sample_cpu_ns[i];
            bv->demand_measured = true;
            bv->demand = bv->cpu_time_ns > was ? (double)(bv->cpu_time_ns - was) / (double)dt : 0;
            if (bv->demand > 1.0)
                bv->demand = 1.0;
            break;
        }
    }
    if (g->sample_ns && dt < MIN_SAMPLE_NS)
        return 0; /* too close to measure: the older sample is kept */
    pid_t *t = malloc((nv ? nv : 1) * sizeof(*t));
    uint64_t *c = malloc((nv ? nv : 1) * sizeof(*c));
    if (!t || !c) {
        free(t);
        free(c);
        return -ENOMEM;
    }
    for (size_t v = 0; v < nv; v++) {
        t[v] = tids[v];
        c[v] = bg->vcpus[v].cpu_time_ns;
    }
    free(g->sample_tids);
    free(g->sample_cpu_ns);
    g->sample_tids = t;
    g->sample_cpu_ns = c;
    g->nr_samples = nv;
    g->sample_ns = now;
    return 0;
}

/* Fills one guest of the list; -ESRCH when the process went away. */
static int fill_guest(np_linux_backend *lb, const np_linux_proc *p, np_backend_guest *bg)
{
    np_linux_thread *th = NULL;
    np_linux_mem mem = {0};
    size_t nth = 0, nv = 0;
    pid_t *tids = NULL;
    bool huge_fallback = false;
    lb_guest *g;
    int rc;

    rc = np_linux_threads(lb->ctx, p->pid, &th, &nth);
    const lb_guest *known = lb_find(lb, p->pid);
    if (!rc && known && known->moving && known->mem.nr_node_slots)
        rc = mem_copy(&known->mem, &mem); /* its pages are moving: the last reading */
    else if (!rc)
        rc = sense_memory(lb, p, &mem, &huge_fallback);
    if (rc)
        goto out;
    /* vCPU threads in vCPU order for QEMU; every thread otherwise. */
    tids = calloc(nth ? nth : 1, sizeof(*tids));
    size_t *order = calloc(nth ? nth : 1, sizeof(*order));
    if (!tids || !order) {
        free(order);
        rc = -ENOMEM;
        goto out;
    }
    if (p->kind != NP_LINUX_PROC_OTHER) {
        for (int32_t want = 0; nv < nth; want++) {
            size_t k;
            for (k = 0; k < nth && th[k].vcpu != want; k++)
                ;
            if (k == nth)
                break;
            order[nv++] = k;
        }
    }
    if (nv == 0)
        for (; nv < nth; nv++)
            order[nv] = nv;
    rc = np_backend_guest_alloc(bg, (uint32_t)nv, np_topology_nr_nodes(lb->topo));
    if (rc) {
        free(order);
        goto out;
    }
    g = lb_get(lb, p->pid);
    if (!g) {
        free(order);
        rc = -ENOMEM;
        goto out;
    }
    g->seen = true;
    if (huge_fallback && !g->huge_fallback_said)
        np_linux_log(lb->ctx, NP_LOG_INFO, "linux",
                     "pid %d: its cgroup %s has no hugetlb.<size>.numa_stat (hugetlb controller "
                     "not enabled for it, or Linux < 5.16) and the host has hugetlb pages in "
                     "use: its memory is read from numa_maps (a walk of its page tables) so "
                     "that huge pages are counted",
                     (int)p->pid, p->cgroup);
    g->huge_fallback_said = huge_fallback;
    bg->id = (uint64_t)p->pid;
    snprintf(bg->name, sizeof(bg->name), "%s", p->guest_name ? p->guest_name : p->comm);
    bg->start_ns = NP_BACKEND_TIME_UNKNOWN;
    bg->instance = p->start_ticks;
    bg->nr_devices = p->nr_devices;
    memcpy(bg->devices, p->devices, sizeof(bg->devices));
    for (size_t v = 0; v < nv; v++) {
        const np_linux_thread *t = &th[order[v]];
        np_backend_vcpu *bv = &bg->vcpus[v];
        np_bitmap *aff = NULL;
        tids[v] = t->tid;
        bv->cpu_time_ns = t->cpu_time_ns;
        bv->last_cpu_os_id = t->last_cpu;
        if (np_linux_ctx_is_live(lb->ctx) &&
            np_linux_thread_get_affinity(lb->ctx, t->tid, &aff) == 0) {
            /* What we steered to is soft, not a pin; the whole host is no limit. */
            bool steered = g->soft && np_bitmap_equal(aff, g->soft);
            if (steered || np_bitmap_equal(aff, lb->all_cpus)) {
                np_bitmap_destroy(aff);
                aff = NULL;
            }
            bv->hard = aff;
        }
        if (g->soft && np_bitmap_copy(g->soft, &bv->soft)) {
            free(order);
            rc = -ENOMEM;
            goto out;
        }
    }
    free(order);
    rc = sample_cpu_use(lb, g, bg, tids, nv);
    if (rc)
        goto out;
    for (size_t s = 0; s < mem.nr_node_slots; s++) {
        size_t idx;
        if (mem.bytes_by_node_os_id[s] &&
            np_topology_node_idx(lb->topo, (uint32_t)s, &idx) == 0)
            bg->node_mem_bytes[idx] += mem.bytes_by_node_os_id[s];
    }
    /* Its hugetlb pages by size (numa_maps sensing fills them; the other
     * methods leave them 0: then all counts as ordinary memory). */
    _Static_assert(NP_LINUX_HUGE_SIZES_MAX <= NP_HOST_HUGE_SIZES_MAX, "huge page size slots");
    for (size_t i = 0; i < NP_LINUX_HUGE_SIZES_MAX && mem.huge_by_node_os_id; i++) {
        bg->huge_page_bytes[i] = mem.huge_page_bytes[i];
        for (size_t s = 0; s < mem.nr_node_slots && mem.huge_page_bytes[i]; s++) {
            size_t idx;
            if (np_topology_node_idx(lb->topo, (uint32_t)s, &idx) == 0)
                bg->node_huge_bytes[idx * NP_HOST_HUGE_SIZES_MAX + i] +=
                    mem.huge_by_node_os_id[s * NP_LINUX_HUGE_SIZES_MAX + i];
        }
    }
    bg->mem_target_bytes = mem.total_bytes;
    bg->maxmem_bytes = mem.total_bytes;
    free(g->tids);
    g->tids = tids;
    g->nr_tids = nv;
    tids = NULL;
    free(g->cgroup);
    g->cgroup = p->cgroup ? strdup(p->cgroup) : NULL;
    if (g->desc.pid != p->pid || !g->moving) {
        np_linux_proc d;
        if (proc_copy(p, &d) == 0) {
            np_linux_proc_fini(&g->desc);
            g->desc = d;
        }
    }
    if (!g->moving) {
        np_linux_mem m;
        if (mem_copy(&mem, &m) == 0) {
            np_linux_mem_fini(&g->mem);
            g->mem = m;
        }
    }
out:
    free(tids);
    free(th);
    np_linux_mem_fini(&mem);
    return rc;
}

static int op_list_guests_locked(void *impl, np_backend_guest **guests_out, size_t *nr_out)
{
    np_linux_backend *lb = impl;
    np_linux_proc *procs = NULL;
    np_backend_guest *gs = NULL;
    size_t n = 0, w = 0;
    int rc;

    lb->huge_in_use = -1; /* the pools as they are for this listing */
    rc = scan_procs(lb, &procs, &n);
    if (rc)
        return rc;
    rc = np_backend_guests_alloc(n, &gs);
    if (rc)
        goto out;
    for (size_t i = 0; i < lb->nr_guests; i++)
        lb->guests[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        int r = fill_guest(lb, &procs[i], &gs[w]);
        if (r == -ESRCH || r == -ENOENT)
            continue; /* exited during the scan: nothing was allocated, reuse the slot */
        if (r) {
            rc = r;
            goto out;
        }
        w++;
    }
    lb_prune(lb);
    *guests_out = gs;
    *nr_out = w;
    gs = NULL;
out:
    np_backend_guests_free(gs, n);
    np_linux_procs_free(procs, n);
    return rc;
}

/* ---- affinity and the guest's cgroup ------------------------------------ */

/* The cgroup whose cpuset bounds a vCPU thread, when the backend may write
 * it (use_cgroup_cpuset and not the root cgroup); NULL otherwise. The
 * thread's own cgroup (libvirt puts vCPUs in .../libvirt/vcpuN), else the
 * process's. Heap string. */
static char *managed_cgroup(np_linux_backend *lb, const lb_guest *g, pid_t tid)
{
    char *cg = NULL;
    if (!lb->opts.use_cgroup_cpuset)
        return NULL;
    if (np_linux_thread_cgroup(lb->ctx, g->pid, tid, &cg) < 0)
        cg = g->cgroup ? strdup(g->cgroup) : NULL;
    if (cg && strcmp(cg, "/") == 0) {
        free(cg);
        cg = NULL;
    }
    return cg;
}

static lb_pin *pin_find(lb_guest *g, pid_t tid)
{
    for (size_t i = 0; i < g->nr_pins; i++)
        if (g->pins[i].tid == tid)
            return &g->pins[i];
    return NULL;
}

/* Records (hard != NULL) or forgets the hard pin of a thread. */
static int pin_record(lb_guest *g, pid_t tid, const np_bitmap *hard)
{
    lb_pin *p = pin_find(g, tid);
    np_bitmap *copy = NULL;
    if (!hard) {
        if (p) {
            np_bitmap_destroy(p->hard);
            *p = g->pins[--g->nr_pins];
        }
        return 0;
    }
    int rc = np_bitmap_copy(hard, &copy);
    if (rc < 0)
        return rc;
    if (!p) {
        lb_pin *n = realloc(g->pins, (g->nr_pins + 1) * sizeof(*n));
        if (!n) {
            np_bitmap_destroy(copy);
            return -ENOMEM;
        }
        g->pins = n;
        p = &g->pins[g->nr_pins++];
        p->tid = tid;
        p->hard = NULL;
    }
    np_bitmap_destroy(p->hard);
    p->hard = copy;
    return 0;
}

/* When every vCPU of the guest is pinned hard, narrows each vCPU cgroup's
 * cpuset.cpus to the union of the pins of the vCPUs it holds (one guest
 * cgroup: the union of all pins). Emulator and I/O threads of the same
 * cgroup are confined to that union too, as a whole-guest pin means. */
static int narrow_if_all_pinned(np_linux_backend *lb, lb_guest *g)
{
    char **cgs = NULL;
    np_bitmap *want = NULL, *own = NULL;
    int rc = 0;

    for (size_t v = 0; v < g->nr_tids; v++)
        if (!pin_find(g, g->tids[v]))
            return 0; /* not a whole-guest pin: leave the cgroup as it is */
    cgs = calloc(g->nr_tids ? g->nr_tids : 1, sizeof(*cgs));
    if (!cgs)
        return -ENOMEM;
    for (size_t v = 0; v < g->nr_tids; v++)
        cgs[v] = managed_cgroup(lb, g, g->tids[v]);
    for (size_t v = 0; v < g->nr_tids && rc == 0; v++) {
        bool first = cgs[v] != NULL;
        for (size_t u = 0; u < v && first; u++)
            first = !(cgs[u] && strcmp(cgs[u], cgs[v]) == 0);
        if (!first)
            continue; /* no cgroup, or already done with an earlier vCPU */
        rc = np_bitmap_create(&want);
        for (size_t u = v; u < g->nr_tids && rc == 0; u++)
            if (cgs[u] && strcmp(cgs[u], cgs[v]) == 0)
                rc = np_bitmap_or(want, pin_find(g, g->tids[u])->hard);
        /* Skip a write that changes nothing (each vCPU's pin calls this). */
        if (rc == 0 && (np_linux_cgroup_cpus(lb->ctx, cgs[v], false, &own) < 0 ||
                        !np_bitmap_equal(own, want)))
            rc = np_linux_cgroup_set_cpuset(lb->ctx, cgs[v], want, NULL);
        np_bitmap_destroy(own);
        np_bitmap_destroy(want);
        own = want = NULL;
    }
    for (size_t v = 0; v < g->nr_tids; v++)
        free(cgs[v]);
    free(cgs);
    return rc;
}

/* Steers or pins one vCPU thread. The thread's kernel affinity becomes the
 * soft mask within the hard one (steering), or the hard mask (a pin), or
 * every CPU (neither). With use_cgroup_cpuset and a guest cgroup, the
 * cgroup's cpuset.cpus is first widened to allow that mask (the kernel
 * would otherwise refuse it or narrow it); it is narrowed only when the
 * whole guest is pinned hard (narrow_if_all_pinned), never by steering. */
static int op_set_vcpu_affinity_locked(void *impl, uint64_t guest_id, uint32_t vcpu,
                                const np_bitmap *hard, const np_bitmap *soft)
{
    np_linux_backend *lb = impl;
    lb_guest *g = lb_find(lb, (pid_t)guest_id);
    np_bitmap *mask = NULL;
    char *cg = NULL;
    int rc;

    if (!g || vcpu >= g->nr_tids)
        return -ENOENT;
    /* Steering: the kernel's (hard) affinity becomes soft within hard. */
    rc = np_bitmap_copy(soft ? soft : hard ? hard : lb->all_cpus, &mask);
    if (rc)
        return rc;
    if (soft && hard) {
        np_bitmap_and(mask, hard);
        if (np_bitmap_is_empty(mask)) {
            np_bitmap_destroy(mask);
            rc = np_bitmap_copy(hard, &mask);
            if (rc)
                return rc;
        }
    }
    cg = managed_cgroup(lb, g, g->tids[vcpu]);
    if (cg) {
        bool written = false;
        int r = np_linux_cgroup_widen_cpus(lb->ctx, cg, mask, &written);
        /* A cgroup we cannot read or write does not stop the steering: the
         * kernel applies what the cpuset allows, and the log says why. */
        if (r < 0 && r != -ESRCH)
            np_linux_log(lb->ctx, NP_LOG_WARNING, SUBSYS,
                         "pid %d vCPU %u: cannot widen cpuset.cpus of %s: %s", (int)guest_id,
                         vcpu, cg, np_strerror(r));
    }
    rc = np_linux_thread_set_affinity(lb->ctx, g->tids[vcpu], mask);
    if (rc == 0) {
        np_bitmap_destroy(g->soft);
        g->soft = NULL;
        if (soft)
            rc = np_bitmap_copy(mask, &g->soft);
    }
    if (rc == 0)
        rc = pin_record(g, g->tids[vcpu], hard && !soft ? hard : NULL);
    if (rc == 0 && cg && hard && !soft)
        rc = narrow_if_all_pinned(lb, g);
    /* A QEMU guest's own threads (emulator, I/O, vhost) follow its vCPUs
     * (helper_threads.c); one that refuses is logged there, not fatal. */
    if (rc == 0 && g->desc.pid && g->desc.kind != NP_LINUX_PROC_OTHER)
        (void)np_linux_helper_threads_follow(lb->ctx, g->pid, g->tids, g->nr_tids, NULL);
    free(cg);
    np_bitmap_destroy(mask);
    return rc;
}

static int op_set_guest_node_affinity_locked(void *impl, uint64_t guest_id, const np_bitmap *nodes)
{
    np_linux_backend *lb = impl;
    lb_guest *g = lb_find(lb, (pid_t)guest_id);

    if (!g)
        return -ENOENT;
    if (lb->opts.use_cgroup_cpuset && g->cgroup && strcmp(g->cgroup, "/") != 0 && nodes)
        return np_linux_cgroup_set_cpuset(lb->ctx, g->cgroup, NULL, nodes);
    np_linux_log(lb->ctx, NP_LOG_DEBUG, SUBSYS,
                 "pid %d: node affinity recorded only (no cgroup to write; new pages are "
                 "placed where the steered threads touch them)",
                 (int)guest_id);
    return 0;
}

/* The mover for a step from -> to of guest g (NULL: not listed, then a
 * mover for this call only, *own_out set). The guest's mover lives across
 * steps: the same pair continues its walk where the last step stopped
 * (np_linux_mover_continue), so a migration of N steps looks at each
 * address once instead of N times from the start; a different pair, or a
 * walk that ended, gets a new mover (which reads the maps again). */
static int step_mover(np_linux_backend *lb, const np_linux_backend_opts *opts,
                      const np_linux_move_opts *quiesce, lb_guest *g, pid_t pid,
                      unsigned from_os_id, unsigned to_os_id, uint64_t bytes,
                      np_linux_mover **mv_out, bool *fresh_out, bool *own_out)
{
    np_bitmap *from_set = NULL;
    np_linux_move_opts mo = *quiesce;
    int rc;

    *fresh_out = false;
    *own_out = g == NULL;
    if (g && g->mover && g->mover_from_os_id == from_os_id && g->mover_to_os_id == to_os_id &&
        np_linux_mover_continue(g->mover, bytes) == 0) {
        *mv_out = g->mover;
        return 0;
    }
    if (g) {
        np_linux_mover_destroy(g->mover);
        g->mover = NULL;
    }
    rc = np_bitmap_create(&from_set);
    if (!rc)
        rc = np_bitmap_set(from_set, from_os_id);
    if (rc)
        goto out;
    mo.now_ns = np_linux_clock_now_ns;
    mo.sleep_ns = np_linux_clock_sleep_ns;
    mo.budget_bytes_per_s = opts->migrate_budget_bps;
    mo.max_bytes = bytes;
    mo.filter = opts->move_filter;
    rc = np_linux_mover_create(lb->ctx, pid, from_set, to_os_id, &mo, mv_out);
    if (rc)
        goto out;
    *fresh_out = true;
    if (g) {
        g->mover = *mv_out;
        g->mover_from_os_id = from_os_id;
        g->mover_to_os_id = to_os_id;
    }
out:
    np_bitmap_destroy(from_set);
    return rc;
}

static int op_migrate_memory(void *impl, uint64_t guest_id, size_t from_node_idx,
                             size_t to_node_idx, uint64_t bytes, uint64_t *moved_out)
{
    np_linux_backend *lb = impl;
    const np_node_info *from = np_topology_node(lb->topo, from_node_idx);
    const np_node_info *to = np_topology_node(lb->topo, to_node_idx);
    pid_t pid = (pid_t)guest_id;
    uint64_t moved = 0;
    int rc = 0;

    np_linux_move_stats last = {0};
    *moved_out = 0;
    if (!from || !to || from_node_idx == to_node_idx || bytes == 0)
        return -EINVAL;
    /* The guest table is shared with list_guests (another thread may sense
     * while this moves): take the guest's mover out under the lock, run it
     * without the lock, put it back after. */
    lb_guest slot, *g = NULL;
    np_linux_backend_opts opts;
    np_linux_move_opts quiesce;
    memset(&slot, 0, sizeof(slot));
    pthread_mutex_lock(&lb->mu);
    opts = lb->opts; /* the scalars are read; its pointers are not */
    quiesce = lb->quiesce;
    lb_guest *listed = lb_find(lb, pid);
    if (listed) {
        slot.pid = pid;
        slot.mover = listed->mover;
        slot.mover_from_os_id = listed->mover_from_os_id;
        slot.mover_to_os_id = listed->mover_to_os_id;
        listed->mover = NULL;
        listed->moving = true;
        g = &slot;
    }
    pthread_mutex_unlock(&lb->mu);
    /* A continued walk that ends short has not looked again at the
     * addresses before where it started: a second pass with a new walk
     * does, so "short" still means "nothing more on the source node". */
    for (int pass = 0; pass < 2 && moved < bytes && rc == 0; pass++) {
        np_linux_mover *mv = NULL;
        bool fresh = false, own = false;
        rc = step_mover(lb, &opts, &quiesce, g, pid, from->os_id, to->os_id, bytes - moved, &mv, &fresh,
                        &own);
        if (rc)
            break;
        uint64_t before = np_linux_mover_stats(mv)->bytes_moved;
        rc = np_linux_mover_run(mv);
        const np_linux_move_stats *st = np_linux_mover_stats(mv);
        moved += st->bytes_moved - before;
        last = *st;
        np_linux_log(lb->ctx, NP_LOG_DEBUG, SUBSYS,
                     "pid %d: step of %llu bytes node %u -> %u: %llu moved (%s walk), "
                     "%llu batches, batch now %u pages, longest %llu us, %llu quiesced, "
                     "longest stop %llu us, stopped cost %llu us + %llu us/page, "
                     "stopped %llu ms in all (stopping %llu ms, move calls %llu ms), "
                     "busy %llu ms",
                     (int)pid, (unsigned long long)bytes, from->os_id, to->os_id,
                     (unsigned long long)(st->bytes_moved - before), fresh ? "new" : "continued",
                     (unsigned long long)st->batches, st->batch_pages_now,
                     (unsigned long long)(st->longest_batch_ns / 1000),
                     (unsigned long long)st->quiesced_steps,
                     (unsigned long long)(st->longest_stop_ns / 1000),
                     (unsigned long long)(st->quiet_fixed_ns / 1000),
                     (unsigned long long)(st->quiet_ns_per_page / 1000),
                     (unsigned long long)(st->stopped_ns_total / 1000000),
                     (unsigned long long)(st->stop_wait_ns_total / 1000000),
                     (unsigned long long)(st->quiet_move_ns_total / 1000000),
                     (unsigned long long)(st->busy_ns / 1000000));
        if (own)
            np_linux_mover_destroy(mv);
        if (fresh)
            break; /* a new walk that ended short has seen every address */
    }
    if (rc && g) {
        np_linux_mover_destroy(g->mover);
        g->mover = NULL;
    }
    pthread_mutex_lock(&lb->mu);
    lb->last_move = last;
    listed = g ? lb_find(lb, pid) : NULL;
    if (listed)
        listed->moving = false;
    if (listed && !listed->mover) {
        listed->mover = slot.mover;
        listed->mover_from_os_id = slot.mover_from_os_id;
        listed->mover_to_os_id = slot.mover_to_os_id;
        slot.mover = NULL;
    }
    pthread_mutex_unlock(&lb->mu);
    np_linux_mover_destroy(slot.mover); /* the guest is gone meanwhile */
    *moved_out = moved;
    if (rc == 0 && moved < bytes) {
        /* Short: nothing more on the source node, or the process is exiting
         * (its pages vanish under the mover, which then finds nothing). Tell
         * the two apart: a dying or zombie process counts as gone. */
        np_linux_thread *th = NULL;
        size_t nth = 0;
        if (np_linux_pid_gone(lb->ctx, pid) ||
            np_linux_threads(lb->ctx, pid, &th, &nth) == -ESRCH || nth == 0)
            rc = -ESRCH;
        free(th);
    }
    return rc;
}

/* The operations that touch the guest table, under the backend's lock. */
static int op_list_guests(void *impl, np_backend_guest **guests_out, size_t *nr_out)
{
    np_linux_backend *lb = impl;
    pthread_mutex_lock(&lb->mu);
    int rc = op_list_guests_locked(impl, guests_out, nr_out);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

static int op_set_vcpu_affinity(void *impl, uint64_t guest_id, uint32_t vcpu,
                                const np_bitmap *hard, const np_bitmap *soft)
{
    np_linux_backend *lb = impl;
    pthread_mutex_lock(&lb->mu);
    int rc = op_set_vcpu_affinity_locked(impl, guest_id, vcpu, hard, soft);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

static int op_set_guest_node_affinity(void *impl, uint64_t guest_id, const np_bitmap *nodes)
{
    np_linux_backend *lb = impl;
    pthread_mutex_lock(&lb->mu);
    int rc = op_set_guest_node_affinity_locked(impl, guest_id, nodes);
    pthread_mutex_unlock(&lb->mu);
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
    np_linux_backend *lb = impl;
    /* splitmix64: balancing needs tie-breaking, not secrecy. */
    uint64_t z = (lb->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    *out = z ^ (z >> 31);
    return 0;
}

static void op_log(void *impl, np_log_level level, const char *subsys, const char *msg)
{
    np_linux_backend *lb = impl;
    np_linux_log(lb->ctx, level, subsys, "%s", msg);
}

static const struct np_backend_ops linux_ops = {
    .version = NP_BACKEND_OPS_VERSION,
    .name = "linux",
    .topology = op_topology,
    .list_guests = op_list_guests,
    .node_free_bytes = op_node_free_bytes,
    .node_huge_free_bytes = op_node_huge_free_bytes,
    .set_vcpu_affinity = op_set_vcpu_affinity,
    .set_guest_node_affinity = op_set_guest_node_affinity,
    .migrate_memory = op_migrate_memory,
    .now_ns = op_now_ns,
    .random = op_random,
    .log = op_log,
    .flags = NP_BACKEND_CONCURRENT_MIGRATE,
};

/* ---- lifecycle --------------------------------------------------------------- */

int np_linux_backend_set_quiesce(np_linux_backend *lb, np_linux_quiesce_mode mode,
                                 np_linux_quiesce_fn fn, void *opaque,
                                 bool (*should_stop)(void *opaque), void *stop_opaque)
{
    if (!lb || (mode != NP_LINUX_QUIESCE_NEVER && !fn) || mode > NP_LINUX_QUIESCE_ALWAYS)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    lb->quiesce = (np_linux_move_opts){.quiesce = mode,
                                       .quiesce_fn = fn,
                                       .quiesce_opaque = opaque,
                                       .should_stop = should_stop,
                                       .should_stop_opaque = stop_opaque};
    pthread_mutex_unlock(&lb->mu);
    return 0;
}

int np_linux_backend_set_source(np_linux_backend *lb, const np_linux_backend_opts *opts)
{
    char *cg = NULL;
    pid_t *pids = NULL;

    if (!lb || !opts)
        return -EINVAL;
    if (opts->source == NP_LINUX_GUESTS_CGROUP && !opts->cgroup)
        return -EINVAL;
    if (opts->cgroup && !(cg = strdup(opts->cgroup)))
        return -ENOMEM;
    if (opts->nr_pids) {
        pids = malloc(opts->nr_pids * sizeof(*pids));
        if (!pids) {
            free(cg);
            return -ENOMEM;
        }
        memcpy(pids, opts->pids, opts->nr_pids * sizeof(*pids));
    }
    pthread_mutex_lock(&lb->mu);
    free(lb->cgroup);
    free(lb->pids);
    lb->cgroup = cg;
    lb->pids = pids;
    lb->opts = *opts;
    lb->opts.cgroup = cg;
    lb->opts.pids = pids;
    pthread_mutex_unlock(&lb->mu);
    return 0;
}

int np_linux_backend_create(np_linux_ctx *ctx, const np_linux_backend_opts *opts,
                            np_linux_backend **out)
{
    np_linux_backend *lb = NULL;
    int rc;

    if (!ctx || !opts || !out)
        return -EINVAL;
    lb = calloc(1, sizeof(*lb));
    if (!lb)
        return -ENOMEM;
    pthread_mutex_init(&lb->mu, NULL);
    lb->ctx = ctx;
    lb->rng = UINT64_C(0x6e756d61706c6163); /* fixed seed: reproducible runs */
    rc = np_linux_backend_set_source(lb, opts);
    if (!rc)
        rc = build_topology(ctx, &lb->topo);
    if (!rc)
        rc = np_bitmap_create(&lb->all_cpus);
    for (size_t i = 0; !rc && i < np_topology_nr_cpus(lb->topo); i++)
        rc = np_bitmap_set(lb->all_cpus, np_topology_cpu(lb->topo, i)->os_id);
    if (!rc)
        rc = np_backend_create(&linux_ops, lb, &lb->be);
    if (rc) {
        np_linux_backend_destroy(lb);
        return rc;
    }
    *out = lb;
    return 0;
}

void np_linux_backend_destroy(np_linux_backend *lb)
{
    if (!lb)
        return;
    for (size_t i = 0; i < lb->nr_guests; i++)
        lb_guest_fini(&lb->guests[i]);
    free(lb->guests);
    np_backend_destroy(lb->be);
    np_topology_destroy(lb->topo);
    np_bitmap_destroy(lb->all_cpus);
    free(lb->cgroup);
    free(lb->pids);
    pthread_mutex_destroy(&lb->mu);
    free(lb);
}

np_backend *np_linux_backend_get(np_linux_backend *lb)
{
    return lb ? lb->be : NULL;
}

const np_linux_move_stats *np_linux_backend_last_move(const np_linux_backend *lb)
{
    return &lb->last_move;
}
