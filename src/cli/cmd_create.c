/*
 * cli/cmd_create.c - `numaplace create GUEST.cfg`: `xl create` with
 * numaplace's placement, for every config xl accepts.
 *
 * numaplace decides where the guest goes and xl's own tool stack builds it
 * (docs/xen.md, "numaplace create"): the config keeps every key and the
 * meaning it has under `xl create` (vif, device models, HVM, on_* restarts
 * by xl's per-domain daemon), and a random UUID per guest as xl makes one.
 *
 *  1. Refusals, before anything is placed, reserved, written or built: the
 *     config must read (libxlutil), xl must accept it (`xl -N create`, a
 *     dry run that prints what xl understood as JSON), no domain may have
 *     its name, and libxl 4.17 must be able to build it (no vNUMA for PV).
 *  2. Under the reservation lock (/run/numaplace, numaplace/xen.h): sense
 *     the host (every domain's per-node memory from debug key u, Xen's
 *     free memory, its heap by zone from debug key H), subtract the memory
 *     other creations in flight still have to allocate and a head-room
 *     from Xen's measured free memory above the DMA zone, and place:
 *       - a config that names cpus, cpus_soft, vnuma or numa_placement=0
 *         is the user's placement: kept exactly as written, recorded as the
 *         plan (what xl made of it, from the dry run); a hard cpus= alone
 *         leaves the memory's node open: numaplace puts it on a node of
 *         those CPUs and adds cpus_soft (hard_only_soft);
 *       - otherwise numaplace places it as `numaplace place` does (the
 *         default policy weighs CPU over-commit against remote memory),
 *         with vNUMA for PVH and HVM; a PV guest on several nodes gets the
 *         node set where Xen's allocator will split it evenly
 *         (np_xen_alloc_predict).
 *     Record the reservation, unlock.
 *  3. Write DIR/NAME.cfg (the user's text plus cpus_soft/vnuma lines) and
 *     run `xl create` of it (of the user's own file when the user placed
 *     it), with the vNUMA shim preloaded when the guest has vnuma=.
 *  4. Write DIR/NAME.plan, check where Xen put the memory, drop the
 *     reservation. A failed create removes the domain (if xl left one),
 *     the files it wrote and its reservation.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/backend.h>
#include <numaplace/emit.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/place.h>
#include <numaplace/vnuma.h>
#include <numaplace/xen.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: numaplace create [--dir DIR] [--dry-run] [--xl-shim PATH] [-v] GUEST.cfg\n\n"
            "On a Xen dom0: `xl create` with numaplace's placement. Any config xl accepts\n"
            "(PV, PVH, HVM; disks, vif, pci, device models, on_*) is handed to xl itself.\n"
            "A config naming cpus, cpus_soft, vnuma or numa_placement=0 is created exactly\n"
            "as written and recorded as the user's plan; otherwise numaplace adds cpus_soft\n"
            "(and vnuma for a PVH/HVM guest spanning nodes) to a copy, DIR/NAME.cfg.\n"
            "Creations running at once never count the same node's free memory twice.\n"
            "After the build it reports where Xen really put the memory.\n\n"
            "  --dir DIR        reservations, DIR/NAME.cfg and DIR/NAME.plan (default\n"
            "                   /run/numaplace)\n"
            "  --dry-run        refuse or place and print, write and create nothing\n"
            "  --xl-shim PATH   the vNUMA preload library for xl (default: beside this\n"
            "                   program, else the installed one)\n"
            "  -v               show libxl's own log lines\n"
            "  --help           this text\n");
}

#ifdef NP_HAVE_XEN

#define CREATE_SHIM_NAME "numaplace-xl-vnuma-fix.so"
#define MiB_SHIFT 20

typedef struct create_ctx {
    const char *dir;
    np_xen *xen;
    np_backend *be;
    np_backend_guest *guests;
    size_t nr_guests;
    np_host_state *st;
    np_xen_xl_config *xl;
    np_guest_spec spec;
    np_xen_plan *plan;
    char cfg_path[PATH_MAX], plan_path[PATH_MAX];
    bool wrote_cfg, wrote_plan, reserved;
    char soft_line[128]; /* a hard cpus= alone: the cpus_soft numaplace adds */
} create_ctx;

#define CREATE_CFG_MAX_BYTES (1u << 20)

/* A refusal: origin and why into err; -EINVAL (bad input, exit 2). */
static int create_error(np_error *err, const char *origin, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int create_error(np_error *err, const char *origin, unsigned line, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->origin, sizeof(err->origin), "%s", origin);
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* The whole file, at most CREATE_CFG_MAX_BYTES, NUL-terminated. */
static int read_text(const char *path, char **out, size_t *len_out)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;
    if (!f)
        return -errno;
    buf = malloc(CREATE_CFG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(buf, 1, CREATE_CFG_MAX_BYTES + 1, f);
    fclose(f);
    if (n > CREATE_CFG_MAX_BYTES) {
        free(buf);
        return -EFBIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len_out = n;
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    int rc = 0;
    if (!f)
        return -errno;
    if (fputs(text, f) == EOF)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* The vNUMA preload library: --xl-shim, beside /proc/self/exe, installed. */
static int find_shim(const char *given, char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n;
    if (given) {
        snprintf(out, len, "%s", given);
        return access(out, R_OK) == 0 ? 0 : -ENOENT;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if ((size_t)snprintf(out, len, "%s/%s", exe, CREATE_SHIM_NAME) < len &&
                access(out, R_OK) == 0)
                return 0;
        }
    }
#ifdef NP_XL_SHIM_DIR
    snprintf(out, len, "%s/%s", NP_XL_SHIM_DIR, CREATE_SHIM_NAME);
    if (access(out, R_OK) == 0)
        return 0;
#endif
    return -ENOENT;
}

static const np_backend_guest *guest_by_name(const create_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nr_guests; i++)
        if (strcmp(c->guests[i].name, name) == 0)
            return &c->guests[i];
    return NULL;
}

/* Memory each node can give a new guest (np_xen_usable_read: the model
 * `numaplace migrate` judges its target by too): Xen's free memory above
 * the DMA zone, minus what creations in flight still have to allocate
 * there (their reservation minus what their domain already holds), minus
 * the head-room. Sets the host state's measured free memory to it, and
 * fills the allocator model's nodes. */
static int usable_memory(create_ctx *c, np_reserve *r, np_xen_alloc_node *an, np_error *err)
{
    const np_topology *topo = np_host_state_topology(c->st);
    size_t nr = np_topology_nr_nodes(topo);
    uint64_t *free_b = calloc(nr ? nr : 1, sizeof(*free_b));
    uint64_t *inflight = calloc(nr ? nr : 1, sizeof(*inflight));
    int rc = free_b && inflight ? 0 : -ENOMEM;
    for (size_t k = 0; k < nr && rc == 0; k++) {
        uint32_t os = np_topology_node(topo, k)->os_id;
        uint64_t held = 0;
        rc = np_host_state_node_free(c->st, k, &free_b[k]);
        /* memory of in-flight creations that Xen already handed out is in
         * neither free nor their remaining reservation */
        for (size_t e = 0; e < np_reserve_nr_entries(r); e++) {
            const np_backend_guest *g = guest_by_name(c, np_reserve_entry_tag(r, e));
            if (g && np_reserve_entry_node(r, e) == os)
                held += g->node_mem_bytes[k];
        }
        inflight[k] = np_reserve_node_bytes(r, os);
        inflight[k] = inflight[k] > held ? inflight[k] - held : 0;
    }
    if (rc == 0)
        rc = np_xen_usable_read(c->xen, topo, free_b, inflight, an, err);
    for (size_t k = 0; k < nr && rc == 0; k++)
        rc = np_host_state_set_node_free(c->st, k, an[k].free_bytes);
    free(free_b);
    free(inflight);
    return rc;
}

/* A hard cpus= alone (no cpus_soft, nodemap or vnuma, placement on): the
 * user named the CPUs, the memory's node is left open. xl would let libxl
 * place it, and libxl's numa_place_domain() intersects the hard mask with
 * the cpupool's CPUs but then searches candidates over the pool's map, so
 * the hard mask plays no part: measured under xl create on the Xen 4.17
 * test host, cpus="6-7" (node 3) got its memory on node 2
 * (docs/xen-placement.md), a node none of its vCPUs can run on. numaplace keeps
 * the hard mask exactly and chooses the memory's node among the nodes of
 * those CPUs: the one with the most usable free memory that fits the
 * guest, else all of them (Xen's allocator splits it). It gives that
 * choice to Xen as cpus_soft = the user's CPUs on the chosen nodes (the
 * node affinity follows soft & hard). an[].in_mask is narrowed to the
 * chosen nodes; the line goes to c->soft_line, the masks to the plan. */
static int hard_only_soft(create_ctx *c, np_xen_alloc_node *an, size_t nr)
{
    const np_topology *topo = np_host_state_topology(c->st);
    np_bitmap *soft = NULL;
    size_t best = nr;
    int rc;

    for (size_t k = 0; k < nr; k++)
        if (an[k].in_mask && an[k].free_bytes >= c->spec.mem_bytes &&
            (best == nr || an[k].free_bytes > an[best].free_bytes))
            best = k;
    for (size_t k = 0; best < nr && k < nr; k++)
        an[k].in_mask = k == best;
    if ((rc = np_bitmap_create(&soft)))
        return rc;
    for (uint32_t v = 0; v < c->plan->nr_vcpus && rc == 0; v++)
        if (c->plan->hard[v])
            rc = np_bitmap_or(soft, c->plan->hard[v]);
    for (size_t i = 0; i < np_topology_nr_cpus(topo) && rc == 0; i++) {
        const np_cpu_info *cpu = np_topology_cpu(topo, i);
        if (!an[cpu->node_idx].in_mask)
            np_bitmap_clear(soft, cpu->os_id);
    }
    if (rc == 0 && np_bitmap_is_empty(soft))
        rc = -ENODATA; /* cannot happen: the nodes come from these CPUs */
    if (rc == 0) {
        char list[sizeof(c->soft_line) - 16];
        if (np_bitmap_format(soft, list, sizeof(list)) >= sizeof(list))
            rc = -ENAMETOOLONG;
        else
            snprintf(c->soft_line, sizeof(c->soft_line), "cpus_soft = \"%s\"\n", list);
    }
    for (uint32_t v = 0; v < c->plan->nr_vcpus && rc == 0; v++) {
        np_bitmap_destroy(c->plan->soft[v]);
        c->plan->soft[v] = NULL;
        rc = np_bitmap_copy(soft, &c->plan->soft[v]);
    }
    np_bitmap_destroy(soft);
    return rc;
}

/* The plan of what the user wrote: xl's dry run says what xl made of it. */
static int user_plan(create_ctx *c, np_xen_alloc_node *an, np_error *err)
{
    const np_topology *topo = np_host_state_topology(c->st);
    const np_xen_xl_config *x = c->xl;
    size_t nr = np_topology_nr_nodes(topo);
    uint64_t *split = NULL;
    np_bitmap *nodes = NULL;
    int rc = 0;

    c->plan->user = true;
    c->plan->vnodes = x->nr_vnodes;
    for (uint32_t v = 0; v < x->nr_hard && rc == 0; v++)
        rc = x->hard[v] ? np_bitmap_copy(x->hard[v], &c->plan->hard[v]) : 0;
    for (uint32_t v = 0; v < x->nr_soft && rc == 0; v++)
        rc = x->soft[v] ? np_bitmap_copy(x->soft[v], &c->plan->soft[v]) : 0;
    c->plan->nr_vcpus = x->nr_hard > x->nr_soft ? x->nr_hard : x->nr_soft;
    if (rc)
        return rc;
    if (x->nr_vnodes > 0) {
        /* vNUMA: each vnode's memory on its pnode, exactly */
        c->plan->split = NP_XEN_PLAN_SPLIT_EXACT;
        for (uint32_t i = 0; i < x->nr_vnodes; i++) {
            size_t slot = c->plan->nr_nodes;
            for (size_t j = 0; j < c->plan->nr_nodes; j++)
                if (c->plan->node_os_id[j] == x->vnodes[i].pnode)
                    slot = j;
            if (slot == c->plan->nr_nodes) {
                size_t idx;
                if (np_topology_node_idx(topo, x->vnodes[i].pnode, &idx))
                    return create_error(err, c->spec.name, 0,
                                        "vnuma: pnode=%u is not a node of this host",
                                        (unsigned)x->vnodes[i].pnode);
                c->plan->node_os_id[slot] = x->vnodes[i].pnode;
                c->plan->nr_nodes++;
            }
            c->plan->node_bytes[slot] += x->vnodes[i].bytes;
        }
        return 0;
    }
    /* No vNUMA: Xen is given the node set the masks imply (or the node
     * map) and splits the memory as its allocator does. */
    if (x->nodemap)
        rc = np_bitmap_copy(x->nodemap, &nodes);
    else
        rc = np_xen_implied_nodes(topo, c->plan->hard, c->plan->soft, c->plan->nr_vcpus, &nodes);
    split = calloc(nr, sizeof(*split));
    if (rc || !split) {
        rc = rc ? rc : -ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < nr; k++)
        an[k].in_mask = np_bitmap_test(nodes, an[k].os_id);
    if (x->nr_hard > 0 && x->nr_soft == 0 && x->numa_placement != 0 && !x->nodemap &&
        (rc = hard_only_soft(c, an, nr)))
        goto out;
    /* The prediction is of Xen's allocator, which knows nothing of
     * numaplace's head-room: it takes a node's memory down to nothing
     * before it falls back to another node (measured: a 128 MiB
     * cpus="6-7" guest, node 3 about 43 MiB usable, about 107 MiB free:
     * predicted 40 MiB there, got 104 MiB). The head-room is given back
     * for it. */
    for (size_t k = 0; k < nr; k++)
        an[k].free_bytes += an[k].headroom_bytes;
    c->plan->split = NP_XEN_PLAN_SPLIT_ALLOCATOR;
    rc = np_xen_alloc_predict(an, nr, c->spec.mem_bytes, NP_XEN_ALLOC_CHUNK_BYTES, split);
    for (size_t k = 0; k < nr; k++)
        an[k].free_bytes -= an[k].headroom_bytes;
    if (rc != 0) {
        rc = 0;
        /* no prediction: the node set, the memory spread evenly over it */
        unsigned count = 0;
        for (size_t k = 0; k < nr; k++)
            count += an[k].in_mask;
        c->plan->split = NP_XEN_PLAN_SPLIT_SET;
        for (size_t k = 0; k < nr; k++)
            split[k] = an[k].in_mask && count ? c->spec.mem_bytes / count : 0;
    }
    for (size_t k = 0; k < nr && c->plan->nr_nodes < NP_TOPO_MAX_NODES; k++) {
        if (!split[k])
            continue;
        c->plan->node_os_id[c->plan->nr_nodes] = an[k].os_id;
        c->plan->node_bytes[c->plan->nr_nodes++] = split[k];
    }
out:
    free(split);
    np_bitmap_destroy(nodes);
    return rc;
}

/* The node set Xen can give and the metrics reward (np_xen_choose_nodes,
 * src/xen/xen_choose.c): one node when one holds the whole guest, else the
 * fewest nodes nearest each other, from each node's usable memory and its
 * vCPU load; the guest's device (its first PCI device's node, else its IO
 * node) breaks ties. The load is the vCPUs already on each node, counted
 * (np_xen_vcpu_load), not their measured busy time: measured on the test
 * host, idle guests weigh nothing by that and a second 2-vCPU guest went
 * to the first one's 2-CPU node. -E2BIG past NP_XEN_CHOOSE_MAX_NODES nodes and -ENOSPC
 * when nothing holds it: the caller then places as `numaplace place`. */
static int xen_choice(create_ctx *c, const np_xen_alloc_node *an, np_xen_choice *ch)
{
    const np_topology *topo = np_host_state_topology(c->st);
    size_t nr = np_topology_nr_nodes(topo), dev_idx = SIZE_MAX, di;
    np_xen_choice_node *nodes = NULL;
    np_node_load *loads = NULL;
    uint32_t *distance = NULL;
    double *vcpus = NULL;
    int device = -1, rc;

    if (nr > NP_XEN_CHOOSE_MAX_NODES)
        return -E2BIG;
    nodes = calloc(nr, sizeof(*nodes));
    loads = calloc(nr, sizeof(*loads));
    distance = calloc(nr * nr, sizeof(*distance));
    vcpus = calloc(nr, sizeof(*vcpus));
    if (!nodes || !loads || !distance || !vcpus) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = np_host_state_node_loads(c->st, loads)) || (rc = np_xen_vcpu_load(c->st, vcpus)))
        goto out;
    for (size_t k = 0; k < nr; k++) {
        nodes[k].usable_bytes = an[k].free_bytes < loads[k].mem_available_bytes
                                    ? an[k].free_bytes
                                    : loads[k].mem_available_bytes;
        nodes[k].cpu_capacity = loads[k].cpu_capacity;
        nodes[k].cpu_demand = vcpus[k];
        for (size_t m = 0; m < nr; m++)
            distance[k * nr + m] = np_topology_distance(topo, k, m);
    }
    if (c->spec.nr_devices > 0 && np_topology_device_find(topo, c->spec.devices[0], &di) == 0 &&
        np_topology_device(topo, di)->node_idx >= 0)
        device = np_topology_device(topo, di)->node_idx;
    else if (c->spec.io_node_os_id >= 0 &&
             np_topology_node_idx(topo, (uint32_t)c->spec.io_node_os_id, &dev_idx) == 0)
        device = (int)dev_idx;
    rc = np_xen_choose_nodes(nodes, nr, distance, device, (double)c->spec.vcpus,
                             np_guest_spec_maxmem_bytes(&c->spec), c->xl->type != NP_XEN_XL_PV,
                             ch);
out:
    free(nodes);
    free(loads);
    free(distance);
    free(vcpus);
    return rc;
}

/* numaplace's placement of a guest the user left to it: on the nodes
 * xen_choice chose (np_xen_place_on), with vNUMA only when it spans nodes
 * and the guest's type can have it (PVH, HVM; libxl 4.17 builds no PV
 * vNUMA). Where no choice is made (too many nodes, nothing holds it) or
 * the placement cannot keep to it: np_place with the default policy,
 * exactly as `numaplace place` decides it. A PV guest on several nodes has
 * no vNUMA: the plan is then the node set where Xen's round-robin split
 * (predicted) fits. */
static int auto_place(create_ctx *c, np_xen_alloc_node *an, np_placement **pl_out,
                      np_error *err)
{
    const np_topology *topo = np_host_state_topology(c->st);
    size_t nr = np_topology_nr_nodes(topo);
    np_guest_spec spec = c->spec;
    uint64_t *split = NULL;
    int rc;

    np_xen_choice ch;

    if (c->xl->type == NP_XEN_XL_PV)
        spec.vnuma_nodes = NP_VNUMA_OFF;
    np_xen_spec_for_xl(&spec);
    rc = xen_choice(c, an, &ch);
    if (rc == 0)
        rc = np_xen_place_on(c->st, &spec, &ch, pl_out, err);
    if (rc == -E2BIG || rc == -ENOSPC || rc == -EAGAIN) {
        err->msg[0] = '\0';
        rc = np_place(c->st, &spec, NULL, pl_out, err);
    }
    if (rc)
        return rc;
    const np_vnuma *vn = np_placement_vnuma(*pl_out);
    c->plan->vnodes = vn ? (uint32_t)np_vnuma_nr_vnodes(vn) : 0;
    if (np_placement_nr_nodes(*pl_out) <= 1 || c->plan->vnodes > 1) {
        c->plan->split = NP_XEN_PLAN_SPLIT_EXACT;
        for (size_t i = 0; i < np_placement_nr_nodes(*pl_out); i++) {
            size_t k = np_placement_node(*pl_out, i);
            c->plan->node_os_id[i] = np_topology_node(topo, k)->os_id;
            c->plan->node_bytes[i] = np_placement_node_mem_bytes(*pl_out, k);
            c->plan->nr_nodes = i + 1;
        }
        return 0;
    }
    /* Several nodes without vNUMA: the plan is Xen's split, not ours. */
    split = calloc(nr, sizeof(*split));
    if (!split)
        return -ENOMEM;
    for (size_t i = 0; i < np_placement_nr_nodes(*pl_out); i++)
        an[np_placement_node(*pl_out, i)].in_mask = true;
    rc = np_xen_alloc_predict(an, nr, c->spec.mem_bytes, NP_XEN_ALLOC_CHUNK_BYTES, split);
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        if (split[k] && (!an[k].in_mask || split[k] > an[k].free_bytes))
        {
            create_error(err, c->spec.name, 0,
                         "fits nowhere Xen can keep it: without vNUMA Xen splits the memory "
                         "evenly over the nodes of the placement, and node %u cannot take "
                         "its share of %llu MiB",
                         (unsigned)an[k].os_id, (unsigned long long)(split[k] >> MiB_SHIFT));
            rc = -ENOSPC;
        }
    }
    c->plan->split = NP_XEN_PLAN_SPLIT_ALLOCATOR;
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        if (!split[k])
            continue;
        c->plan->node_os_id[c->plan->nr_nodes] = an[k].os_id;
        c->plan->node_bytes[c->plan->nr_nodes++] = split[k];
    }
    free(split);
    return rc;
}

/* Each vCPU's soft mask of numaplace's placement into the plan. */
static int plan_masks(create_ctx *c, const np_placement *pl)
{
    int rc = 0;
    for (uint32_t v = 0; rc == 0 && v < c->spec.vcpus && v < NP_XEN_PLAN_MAX_VCPUS; v++) {
        const np_bitmap *soft = np_placement_vcpu_soft(pl, v);
        if (!soft)
            soft = np_placement_cpus_soft(pl);
        if (soft)
            rc = np_bitmap_copy(soft, &c->plan->soft[v]);
        c->plan->nr_vcpus = v + 1;
    }
    return rc;
}

/* The plan records what is populated at build: the balloon target
 * (memory=), not maxmem=, which placement keeps room for. Scales the
 * per-node bytes down to `target` in proportion (the last node takes the
 * rounding). */
static void plan_to_target(np_xen_plan *p, uint64_t target)
{
    uint64_t sum = 0, done = 0;
    for (size_t i = 0; i < p->nr_nodes; i++)
        sum += p->node_bytes[i];
    if (sum <= target || p->nr_nodes == 0)
        return;
    for (size_t i = 0; i + 1 < p->nr_nodes; i++) {
        p->node_bytes[i] = (uint64_t)((double)p->node_bytes[i] / (double)sum * (double)target);
        done += p->node_bytes[i];
    }
    p->node_bytes[p->nr_nodes - 1] = target - done;
}

/* Sense, place (the user's or numaplace's), reserve: all under the lock. */
static int place_reserved(create_ctx *c, np_placement **pl_out, np_error *err)
{
    np_reserve *r = NULL;
    np_xen_alloc_node *an = NULL;
    int rc = np_reserve_lock(c->dir, &r);
    if (rc) {
        snprintf(err->msg, sizeof(err->msg), "cannot lock the reservations in %s: %s", c->dir,
                 np_strerror(rc));
        return rc;
    }
    /* Sensed under the lock: a creation that finished just before is in
     * Xen's free memory, one still building is in the ledger. */
    if ((rc = np_backend_list_guests(c->be, &c->guests, &c->nr_guests)) ||
        (rc = np_backend_sense_guests(c->be, c->guests, c->nr_guests, &c->st)))
        goto out;
    const np_topology *topo = np_host_state_topology(c->st);
    an = calloc(np_topology_nr_nodes(topo), sizeof(*an));
    if (!an) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = usable_memory(c, r, an, err)))
        goto out;
    if (np_xen_xl_config_user_placed(c->xl)) {
        rc = user_plan(c, an, err);
    } else {
        rc = auto_place(c, an, pl_out, err);
        if (rc == 0)
            rc = plan_masks(c, *pl_out);
    }
    if (rc == 0)
        plan_to_target(c->plan, c->spec.mem_bytes);
    for (size_t i = 0; rc == 0 && i < c->plan->nr_nodes; i++)
        rc = np_reserve_add(r, c->spec.name, c->plan->node_os_id[i], c->plan->node_bytes[i]);
    if (rc == 0)
        rc = np_reserve_commit(r);
    if (rc == 0)
        c->reserved = true;
out:
    free(an);
    np_reserve_unlock(r);
    return rc;
}

/* numaplace's lines for the config: cpus_soft, and vnuma when the
 * placement gives the guest virtual nodes (the emitter's own lines for
 * memory, maxmem and vcpus are left out: the user's stand). */
static int placement_lines(const np_topology *topo, const np_guest_spec *spec,
                           const np_placement *pl, bool keep_vnuma, char **out, np_error *err)
{
    bool in_vnuma = false;
    char *emitted = NULL, *buf, *w;
    const char *p;
    int rc = np_emit_alloc(NP_EMIT_XL_CFG, topo, spec, pl, NP_EMIT_NO_NAME, &emitted, err);
    if (rc)
        return rc;
    buf = malloc(strlen(emitted) + 1);
    if (!buf) {
        free(emitted);
        return -ENOMEM;
    }
    w = buf;
    for (p = emitted; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        bool drop = false;
        static const char *const user_keys[] = {"memory", "maxmem", "vcpus", "maxvcpus"};
        /* one vnode is no vNUMA (and PV cannot have it): the vnuma list,
         * which may span lines up to its closing "] ]", goes with its notes */
        if (!keep_vnuma && (strncmp(p, "vnuma", 5) == 0 || strncmp(p, "# note", 6) == 0))
            in_vnuma = strncmp(p, "vnuma", 5) == 0;
        if (!keep_vnuma && (in_vnuma || strncmp(p, "# note", 6) == 0)) {
            drop = true;
            if (in_vnuma && memmem(p, n, "] ]", 3))
                in_vnuma = false;
        }
        for (size_t k = 0; k < sizeof(user_keys) / sizeof(user_keys[0]); k++) {
            size_t kl = strlen(user_keys[k]);
            drop = drop || (strncmp(p, user_keys[k], kl) == 0 && (p[kl] == ' ' || p[kl] == '='));
        }
        if (!drop) {
            memcpy(w, p, n);
            w += n;
        }
        p += n;
    }
    *w = '\0';
    free(emitted);
    *out = buf;
    return 0;
}

static void print_plan(const create_ctx *c, FILE *out)
{
    char a[32];
    fprintf(out, "plan of %s (%s):", c->spec.name,
            c->soft_line[0] ? "the user's cpus= kept, memory on a node of those CPUs"
            : c->plan->user ? "the user's placement, kept as written"
                            : "numaplace");
    for (size_t i = 0; i < c->plan->nr_nodes; i++)
        fprintf(out, " node %u %s", (unsigned)c->plan->node_os_id[i],
                cli_bytes(c->plan->node_bytes[i], a, sizeof(a)));
    fprintf(out, "%s\n", c->plan->split == NP_XEN_PLAN_SPLIT_ALLOCATOR
                             ? " (Xen's allocator splits it so)"
                             : c->plan->split == NP_XEN_PLAN_SPLIT_SET ? " (node set)" : "");
}

/* The refusals that need nothing but the config and xl: before anything
 * is placed, reserved, written or built. */
static int preflight(create_ctx *c, const char *path, np_error *err)
{
    char *out = NULL;
    int status = 0, rc;
    uint32_t domid;

    rc = np_xen_xl_dryrun(path, &out, &status);
    if (rc) {
        char *nl;
        /* xl's first complaint names the problem; keep one line */
        const char *msg = out && *out ? out : "no output";
        nl = out ? strchr(out, '\n') : NULL;
        if (nl && nl[1] == '\0')
            *nl = '\0';
        rc = rc == -EIO ? create_error(err, path, 0, "xl refuses this config (xl -N create "
                                                     "exit %d): %.300s",
                                       status, msg)
                        : create_error(err, path, 0, "cannot run xl (%s): is xl on PATH?",
                                       np_strerror(rc));
        goto out;
    }
    rc = np_xen_xl_config_parse(out, strlen(out), "xl -N create", &c->xl, err);
    if (rc)
        goto out;
    if (c->xl->type == NP_XEN_XL_PV && c->xl->nr_vnodes > 0) {
        rc = create_error(err, path, 0, "vnuma= on a PV guest: libxl 4.17 refuses it (\"PV "
                                        "vNUMA is not yet supported\"); use type=\"pvh\" or "
                                        "\"hvm\", or drop vnuma=");
        goto out;
    }
    if (np_xen_domid_by_name(c->xen, c->spec.name, &domid) == 0) {
        rc = create_error(err, path, 0, "a domain named '%s' exists already (domain %u)",
                          c->spec.name, (unsigned)domid);
        goto out;
    }
out:
    free(out);
    return rc;
}

static int run_create(create_ctx *c, const char *path, const char *shim_opt, bool dry_run,
                      np_error *err)
{
    np_placement *pl = NULL;
    char *text = NULL, *lines = NULL, *rewritten = NULL, *out = NULL, shim[PATH_MAX];
    const char *cfg = path, *preload = NULL;
    size_t len = 0;
    int rc, status = 0;
    uint32_t domid = UINT32_MAX;

    if ((rc = preflight(c, path, err)))
        goto out;
    if (c->xl->nr_vnodes > 0 || c->xl->type != NP_XEN_XL_PV) {
        /* any guest that may get vnuma= needs the shim: find it now */
        if (find_shim(shim_opt, shim, sizeof(shim)) != 0) {
            rc = create_error(err, path, 0, "the vNUMA preload library %s is missing "
                                            "(--xl-shim PATH)",
                              shim_opt ? shim_opt : CREATE_SHIM_NAME);
            goto out;
        }
    }
    if ((rc = np_xen_plan_create(&c->plan)))
        goto out;
    snprintf(c->plan->name, sizeof(c->plan->name), "%s", c->spec.name);
    if ((rc = place_reserved(c, &pl, err)))
        goto out;
    print_plan(c, stdout);
    snprintf(c->cfg_path, sizeof(c->cfg_path), "%s/%s.cfg", c->dir, c->spec.name);
    snprintf(c->plan_path, sizeof(c->plan_path), "%s/%s.plan", c->dir, c->spec.name);
    if (pl || c->soft_line[0]) {
        const np_topology *topo = np_host_state_topology(c->st);
        if (pl && (rc = placement_lines(topo, &c->spec, pl, c->plan->vnodes > 1, &lines, err)))
            goto out;
        if (!pl && !(lines = strdup(c->soft_line))) {
            rc = -ENOMEM;
            goto out;
        }
        if ((rc = read_text(path, &text, &len)) ||
            (rc = np_xen_cfg_rewrite(text, len, lines, &rewritten)))
            goto out;
        fputs(lines, stdout);
        if (dry_run) {
            printf("dry run: nothing written or created\n");
            goto out;
        }
        if ((rc = write_text(c->cfg_path, rewritten)))
            goto out;
        c->wrote_cfg = true;
        cfg = c->cfg_path;
    } else if (dry_run) {
        printf("dry run: nothing written or created\n");
        goto out;
    }
    /* any vnuma= in the config handed to xl (even one vnode) meets the
     * size-probe bug */
    if ((c->plan->vnodes > 1 || c->xl->nr_vnodes > 0) && c->xl->type != NP_XEN_XL_PV)
        preload = shim;
    rc = np_xen_xl_create(cfg, preload, &out, &status);
    if (out && *out)
        fputs(out, stdout);
    if (rc) {
        if (rc == -EIO)
            create_error(err, cfg, 0, "xl create failed (exit %d)", status);
        else
            create_error(err, cfg, 0, "cannot run xl create: %s", np_strerror(rc));
        rc = -EIO; /* the build failed, not the input */
        goto out;
    }
    rc = np_xen_domid_by_name(c->xen, c->spec.name, &domid);
    if (rc) {
        rc = create_error(err, cfg, 0, "xl create returned but no domain '%s' exists",
                          c->spec.name);
        goto out;
    }
    c->plan->domid = domid;
    printf("created %s as domain %u from %s\n", c->spec.name, (unsigned)domid, cfg);
    rc = np_xen_plan_write(c->plan, c->plan_path);
    if (rc == 0)
        c->wrote_plan = true;
out:
    np_placement_destroy(pl);
    free(text);
    free(lines);
    free(rewritten);
    free(out);
    return rc;
}

/* A failed create leaves nothing behind: the domain (when xl left one
 * that did not exist before: preflight refused names in use), the files
 * this run wrote. The reservation is dropped by the caller either way. */
static void undo(create_ctx *c)
{
    uint32_t domid;
    if (c->xl && c->reserved && np_xen_domid_by_name(c->xen, c->spec.name, &domid) == 0)
        np_xen_domain_destroy(c->xen, domid);
    if (c->wrote_cfg)
        unlink(c->cfg_path);
    if (c->wrote_plan)
        unlink(c->plan_path);
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},     {"dry-run", no_argument, NULL, 'n'},
        {"xl-shim", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    create_ctx c = {.dir = NP_RESERVE_DIR};
    const char *shim = NULL;
    bool dry_run = false, verbose = false;
    int ch, rc, status = NP_EXIT_OK;
    np_error err = {0};

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines appear as they happen */
    while ((ch = getopt_long(argc, argv, "d:ns:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': c.dir = optarg; break;
        case 'n': dry_run = true; break;
        case 's': shim = optarg; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return NP_EXIT_OK;
        default: usage(stderr); return NP_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return NP_EXIT_USAGE;
    }
    const char *path = argv[optind];
    rc = np_guest_spec_read_file(path, &c.spec, &err);
    if (rc)
        return cli_fail(rc, &err);
    rc = np_xen_open(cli_xen_log, verbose ? (void *)1 : NULL, &c.xen);
    if (rc) {
        cli_errorf("create: cannot open libxl (%s): run this on a Xen dom0 as root",
                   np_strerror(rc));
        return NP_EXIT_INTERNAL;
    }
    rc = np_backend_create(np_xen_backend_ops(), c.xen, &c.be);
    if (rc == 0)
        rc = run_create(&c, path, shim, dry_run, &err);
    if (rc == 0 && !dry_run)
        status = cli_xen_check_plan(c.xen, c.plan_path, stdout); /* where did it go? */
    if (rc) {
        undo(&c);
        status = cli_fail(rc, &err);
    }
    if (c.reserved && np_reserve_release(c.dir, c.spec.name) != 0)
        cli_errorf("create: could not release the reservation of %s in %s", c.spec.name, c.dir);
    np_xen_xl_config_destroy(c.xl);
    np_xen_plan_destroy(c.plan);
    np_host_state_destroy(c.st);
    np_backend_guests_free(c.guests, c.nr_guests);
    np_backend_destroy(c.be);
    np_xen_close(c.xen);
    return status;
}

#else /* !NP_HAVE_XEN */

static int run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_errorf("create: this numaplace was built without Xen support (libxen-dev)");
    return NP_EXIT_USAGE;
}

#endif

/* --libvirt DOMAIN.xml: a libvirt domain (cmd_libvirt.c); otherwise Xen. */
static int run_dispatch(int argc, char **argv)
{
    return cli_wants_libvirt(argc, argv) ? cli_create_libvirt(argc, argv) : run(argc, argv);
}

static void usage_create(FILE *out)
{
    usage(out);
    fputc('\n', out);
    cli_libvirt_create_usage(out);
}

const np_cli_cmd np_cmd_create = {
    .name = "create",
    .summary = "xl create with numaplace's placement (any xl.cfg), or --libvirt DOMAIN.xml",
    .run = run_dispatch,
    .usage = usage_create,
};
