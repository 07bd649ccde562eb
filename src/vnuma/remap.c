/*
 * vnuma/remap.c - moving a guest's virtual NUMA layout to new backing
 * nodes: after save/restore, on resume, or on another host.
 *
 * The guest has booted with its layout (sizes, vCPUs, distances) and must
 * keep it; only the physical nodes behind it may change. Virtual nodes that
 * shared a physical node form a group and move together. Each group needs a
 * node with room for its memory (CPU nodes for groups with vCPUs; CPU-less
 * ones only for vCPU-less groups of guests that allow it), and groups may
 * share a node when it has room for both. Among the mappings that fit, the
 * search prefers
 *   - physical distances between the groups' new nodes close to the
 *     virtual ones the guest sees (relative difference; two groups on one
 *     node count as local, 10), so the guest's NUMA decisions stay right;
 *   - lightly loaded nodes (the balance terms of numaplace's objective and
 *     its penalty past the 85% CPU target);
 *   - the node a group had, when the host has it (resume in place), by a
 *     small move cost.
 * A depth-first search with branch and bound over groups (largest first)
 * and, per group, its NP_VNUMA_REMAP_CANDIDATES best nodes alone; the
 * number of steps is capped, so big hosts cost a bounded time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/hoststate.h>

#include "util/error.h"
#include "util/text.h"
#include "vnuma/vnuma_int.h"

/* Nodes tried per group, best alone first. */
#define NP_VNUMA_REMAP_CANDIDATES 16u
/* Search steps before settling for the best mapping found. */
#define NP_VNUMA_REMAP_MAX_STEPS 200000u
/* Cost of moving a group off the node (same OS id) it had. */
#define NP_VNUMA_REMAP_MOVE_COST 0.05
/* Weights, as in numaplace's objective (place/place_int.h). */
#define NP_VNUMA_REMAP_W_DISTANCE 1.0
#define NP_VNUMA_REMAP_W_BALANCE 0.25
#define NP_VNUMA_REMAP_W_OVER 4.0
#define NP_VNUMA_REMAP_CPU_TARGET 0.85

typedef struct rgroup {
    size_t first_vnode;
    uint32_t old_os;
    uint64_t need_bytes;
    uint32_t vcpus;
    size_t nr_cand;
    size_t cand[NP_VNUMA_REMAP_CANDIDATES];
} rgroup;

typedef struct remap {
    const np_vnuma *old;
    const np_topology *topo;
    const np_guest_spec *spec;
    size_t n;
    np_node_load *load;
    uint64_t *room;      /* bytes still free per node during the search */
    double *added;       /* demand added per node during the search */
    size_t nr_groups;
    rgroup *g;
    size_t *order;       /* groups, largest first */
    size_t *cur, *best;  /* node per group */
    double best_cost;
    bool found;
    unsigned long steps;
} remap;

/* Balance and overload cost of putting group gi on node i now. */
static double load_cost(const remap *r, size_t gi, size_t i)
{
    const rgroup *g = &r->g[gi];
    const np_node_load *l = &r->load[i];
    double total_mem = (double)np_vnuma_total_mem_bytes(r->old);
    double mu = total_mem > 0 ? (double)g->need_bytes / total_mem : 0.0;
    double w = r->old->nr_vcpus ? (double)g->vcpus / (double)r->old->nr_vcpus : 0.0;
    double cost = 0.0;
    if (g->vcpus && l->cpu_capacity > 0.0) {
        double add = r->spec->cpu_demand * (double)g->vcpus;
        double after = (l->cpu_demand + r->added[i] + add) / l->cpu_capacity;
        cost += NP_VNUMA_REMAP_W_BALANCE * w * after;
        if (after > NP_VNUMA_REMAP_CPU_TARGET)
            cost += NP_VNUMA_REMAP_W_OVER * w * (after - NP_VNUMA_REMAP_CPU_TARGET);
    }
    uint64_t usable = l->mem_total_bytes > l->mem_reserved_bytes
                          ? l->mem_total_bytes - l->mem_reserved_bytes
                          : 0;
    if (usable > 0) {
        double left = (double)r->room[i] - (double)g->need_bytes;
        cost += NP_VNUMA_REMAP_W_BALANCE * mu * (1.0 - left / (double)usable);
    }
    if (np_topology_node(r->topo, i)->os_id != g->old_os)
        cost += NP_VNUMA_REMAP_MOVE_COST;
    return cost;
}

/* Distance mismatch between group gi on node i and the groups already
 * placed (levels before `level`). */
static double distance_cost(const remap *r, size_t level, size_t gi, size_t i)
{
    double cost = 0.0;
    for (size_t l = 0; l < level; l++) {
        size_t h = r->order[l];
        double vd = (double)np_vnuma_distance(r->old, r->g[gi].first_vnode, r->g[h].first_vnode);
        double pd = (double)np_topology_distance(r->topo, i, r->cur[h]);
        if (i == r->cur[h])
            pd = (double)NP_VNUMA_LOCAL_DISTANCE;
        cost += NP_VNUMA_REMAP_W_DISTANCE * fabs(pd - vd) / vd;
    }
    return cost;
}

static void search(remap *r, size_t level, double cost)
{
    if (cost >= r->best_cost || r->steps >= NP_VNUMA_REMAP_MAX_STEPS)
        return;
    r->steps++;
    if (level == r->nr_groups) {
        r->best_cost = cost;
        r->found = true;
        memcpy(r->best, r->cur, r->nr_groups * sizeof(*r->best));
        return;
    }
    size_t gi = r->order[level];
    rgroup *g = &r->g[gi];
    for (size_t c = 0; c < g->nr_cand; c++) {
        size_t i = g->cand[c];
        if (r->room[i] < g->need_bytes)
            continue;
        double add = load_cost(r, gi, i) + distance_cost(r, level, gi, i);
        double demand = r->spec->cpu_demand * (double)g->vcpus;
        r->cur[gi] = i;
        r->room[i] -= g->need_bytes;
        r->added[i] += demand;
        search(r, level + 1, cost + add);
        r->room[i] += g->need_bytes;
        r->added[i] -= demand;
    }
}

/* The groups of vnodes sharing a physical node, and their candidates. */
static int make_groups(remap *r)
{
    const np_vnuma *v = r->old;
    r->g = calloc(v->nr, sizeof(*r->g));
    r->order = calloc(v->nr, sizeof(*r->order));
    r->cur = calloc(v->nr, sizeof(*r->cur));
    r->best = calloc(v->nr, sizeof(*r->best));
    if (!r->g || !r->order || !r->cur || !r->best)
        return -ENOMEM;
    for (size_t a = 0; a < v->nr; a++) {
        size_t gi = r->nr_groups;
        for (size_t h = 0; h < r->nr_groups; h++)
            if (r->g[h].old_os == v->pnode_os[a])
                gi = h;
        if (gi == r->nr_groups) {
            r->g[gi].first_vnode = a;
            r->g[gi].old_os = v->pnode_os[a];
            r->nr_groups++;
        }
        r->g[gi].need_bytes += v->mem_bytes[a];
        r->g[gi].vcpus += np_bitmap_count(v->vcpus[a]);
    }
    /* largest first (then first vnode): the hardest to fit go first */
    for (size_t i = 0; i < r->nr_groups; i++) {
        size_t at = i;
        while (at > 0 && r->g[r->order[at - 1]].need_bytes < r->g[i].need_bytes) {
            r->order[at] = r->order[at - 1];
            at--;
        }
        r->order[at] = i;
    }
    for (size_t gi = 0; gi < r->nr_groups; gi++) {
        rgroup *g = &r->g[gi];
        double cost[NP_VNUMA_REMAP_CANDIDATES];
        for (size_t i = 0; i < r->n; i++) {
            const np_node_info *ni = np_topology_node(r->topo, i);
            if (r->room[i] < g->need_bytes)
                continue;
            if (ni->nr_cpus == 0 && (g->vcpus > 0 || !r->spec->allow_cpuless_memory))
                continue;
            double c = load_cost(r, gi, i);
            size_t at = g->nr_cand;
            while (at > 0 && c < cost[at - 1])
                at--;
            if (at >= NP_VNUMA_REMAP_CANDIDATES)
                continue;
            size_t last = g->nr_cand < NP_VNUMA_REMAP_CANDIDATES ? g->nr_cand
                                                                  : NP_VNUMA_REMAP_CANDIDATES - 1;
            memmove(&g->cand[at + 1], &g->cand[at], (last - at) * sizeof(g->cand[0]));
            memmove(&cost[at + 1], &cost[at], (last - at) * sizeof(cost[0]));
            g->cand[at] = i;
            cost[at] = c;
            if (g->nr_cand < NP_VNUMA_REMAP_CANDIDATES)
                g->nr_cand++;
        }
    }
    return 0;
}

int np_vnuma_remap(const np_vnuma *old, const struct np_host_state *st,
                   const struct np_guest_spec *spec, np_vnuma **out, np_error *err)
{
    remap r = {0};
    np_vnuma *v = NULL;
    int rc = 0;

    if (!old || !st || !spec || !out)
        return -EINVAL;
    if (spec->vcpus != old->nr_vcpus)
        return np_error_set(err, NULL, 0, "the layout has %u vCPUs, guest %s has %u",
                            old->nr_vcpus, spec->name, spec->vcpus);
    r.old = old;
    r.topo = np_host_state_topology(st);
    r.spec = spec;
    r.n = np_topology_nr_nodes(r.topo);
    r.load = calloc(r.n, sizeof(*r.load));
    r.room = calloc(r.n, sizeof(*r.room));
    r.added = calloc(r.n, sizeof(*r.added));
    if (!r.load || !r.room || !r.added) {
        rc = -ENOMEM;
        goto out;
    }
    rc = np_host_state_node_loads(st, r.load);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < r.n; i++)
        r.room[i] = r.load[i].mem_available_bytes;
    rc = make_groups(&r);
    if (rc < 0)
        goto out;
    r.best_cost = INFINITY;
    search(&r, 0, 0.0);
    if (!r.found) {
        /* Name the group that fits nowhere on its own, else say that the
         * groups do not fit together. */
        char need[32], big[32];
        uint64_t largest = 0;
        for (size_t i = 0; i < r.n; i++)
            if (np_topology_node(r.topo, i)->nr_cpus > 0 && r.room[i] > largest)
                largest = r.room[i];
        np_format_bytes(largest, big, sizeof(big));
        for (size_t gi = 0; gi < r.nr_groups; gi++) {
            if (r.g[gi].nr_cand == 0) {
                np_error_set(err, NULL, 0,
                             "virtual node %zu of guest %s needs %s on one node with CPUs; "
                             "the most any node has available is %s",
                             r.g[gi].first_vnode, spec->name,
                             np_format_bytes(r.g[gi].need_bytes, need, sizeof(need)), big);
                rc = -ENOSPC;
                goto out;
            }
        }
        np_error_set(err, NULL, 0,
                     "the %zu physical nodes behind guest %s's virtual nodes do not fit "
                     "together on this host (largest node has %s available)",
                     r.nr_groups, spec->name, big);
        rc = -ENOSPC;
        goto out;
    }
    rc = np_vnuma_copy(old, &v);
    if (rc < 0)
        goto out;
    for (size_t a = 0; a < v->nr; a++)
        for (size_t gi = 0; gi < r.nr_groups; gi++)
            if (r.g[gi].old_os == old->pnode_os[a])
                v->pnode_os[a] = np_topology_node(r.topo, r.best[gi])->os_id;
    *out = v;
out:
    free(r.load);
    free(r.room);
    free(r.added);
    free(r.g);
    free(r.order);
    free(r.cur);
    free(r.best);
    return rc;
}
