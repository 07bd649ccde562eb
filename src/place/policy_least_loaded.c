/*
 * place/policy_least_loaded.c - "least-loaded": the plain baseline a
 * placement policy must beat without any model of distance.
 *
 * Rules, in order:
 *   1. fewest nodes: k is the smallest count of nodes with CPUs that can
 *      hold the guest's memory (its balloon maximum, within each node's
 *      available memory) and its vCPUs (at least one CPU per vCPU; when no
 *      set of any size has that many CPUs, memory alone decides);
 *   2. least loaded: of the k-node sets that fit, the one with the least
 *      CPU demand per CPU (sum of demand / sum of CPUs over the set);
 *   3. then the most available memory, then the set met first (sets are
 *      enumerated over the nodes ranked as below).
 * Distances, devices and groups are ignored; the memory is striped evenly
 * over the set (np_place_build_split), one soft mask for all vCPUs.
 *
 * Up to LL_EXHAUSTIVE_MAX_SETS sets of k nodes are all compared. Above
 * (big hosts with a guest wider than a node), the sets are not enumerated:
 * the nodes are ranked by demand per CPU (then available memory, then
 * index) and the first k that each hold a k-th of the memory and of the
 * vCPUs are taken; when fewer than k nodes qualify, the k nodes with most
 * available memory. That keeps a decision O(n log n) on 256 nodes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place/policy_int.h"

/* Sets of k nodes compared exhaustively: C(16, 8) = 12870 would be a few
 * milliseconds; 4096 keeps a decision under a millisecond. */
#define LL_EXHAUSTIVE_MAX_SETS 4096u

typedef struct ll_node {
    uint32_t idx;
    double demand; /* CPU demand already attributed here */
    uint32_t cpus; /* logical CPUs */
    uint64_t avail_mib;
} ll_node;

typedef struct ll_set {
    bool found;
    size_t k;
    uint32_t pos[NP_PLACE_MAX_SET_NODES]; /* positions in the node array */
    double demand;
    uint64_t cpus, avail_mib;
} ll_set;

/* Rule 2 and 3 as a strict order: less demand per CPU (compared as
 * d_a * c_b < d_b * c_a, no division), more memory, then earlier. */
static bool set_better(const ll_set *a, const ll_set *b)
{
    double la = a->demand * (double)b->cpus, lb = b->demand * (double)a->cpus;
    if (la != lb)
        return la < lb;
    if (a->avail_mib != b->avail_mib)
        return a->avail_mib > b->avail_mib;
    return false; /* found later: the earlier one stays */
}

static bool fits(const np_place_ctx *ctx, const ll_set *s, bool need_cpus)
{
    return s->avail_mib >= ctx->mem_mib && (!need_cpus || s->cpus >= ctx->vcpus);
}

static void set_fill(ll_set *s, const ll_node *nodes, const size_t *pos, size_t k)
{
    s->k = k;
    s->demand = 0.0;
    s->cpus = s->avail_mib = 0;
    for (size_t p = 0; p < k; p++) {
        s->pos[p] = (uint32_t)pos[p];
        s->demand += nodes[pos[p]].demand;
        s->cpus += nodes[pos[p]].cpus;
        s->avail_mib += nodes[pos[p]].avail_mib;
    }
}

/* Node ranking for the big-host path: demand per CPU, more memory, index. */
static int rank_cmp(const void *pa, const void *pb)
{
    const ll_node *a = pa, *b = pb;
    double la = a->demand * (double)b->cpus, lb = b->demand * (double)a->cpus;
    if (la != lb)
        return la < lb ? -1 : 1;
    if (a->avail_mib != b->avail_mib)
        return a->avail_mib > b->avail_mib ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int avail_desc(const void *pa, const void *pb)
{
    const ll_node *a = pa, *b = pb;
    if (a->avail_mib != b->avail_mib)
        return a->avail_mib > b->avail_mib ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* C(n, k), saturating above limit. */
static uint64_t choose_capped(size_t n, size_t k, uint64_t limit)
{
    uint64_t c = 1;
    for (size_t i = 1; i <= k; i++) {
        c = c * (n - k + i) / i;
        if (c > limit)
            return limit + 1;
    }
    return c;
}

static void best_of_size(const np_place_ctx *ctx, const ll_node *nodes, size_t nc, size_t k,
                         bool need_cpus, ll_set *best)
{
    size_t pos[NP_PLACE_MAX_SET_NODES];
    ll_set s;
    best->found = false;
    if (choose_capped(nc, k, LL_EXHAUSTIVE_MAX_SETS) <= LL_EXHAUSTIVE_MAX_SETS) {
        for (size_t i = 0; i < k; i++)
            pos[i] = i;
        do {
            set_fill(&s, nodes, pos, k);
            if (fits(ctx, &s, need_cpus) && (!best->found || set_better(&s, best))) {
                *best = s;
                best->found = true;
            }
        } while (np_comb_next(pos, k, nc));
        return;
    }
    /* Big host: the first k ranked nodes that each hold a k-th. */
    uint64_t mem_part_mib = (ctx->mem_mib + k - 1) / k;
    uint32_t cpu_part = need_cpus ? (uint32_t)((ctx->vcpus + k - 1) / k) : 0;
    size_t got = 0;
    for (size_t i = 0; i < nc && got < k; i++)
        if (nodes[i].avail_mib >= mem_part_mib && nodes[i].cpus >= cpu_part)
            pos[got++] = i;
    if (got == k) {
        set_fill(&s, nodes, pos, k);
        if (fits(ctx, &s, need_cpus)) {
            *best = s;
            best->found = true;
        }
    }
}

int np_policy_least_loaded(np_place_call *call)
{
    const np_place_ctx *ctx = &call->ctx;
    ll_node *nodes = calloc(ctx->n ? ctx->n : 1, sizeof(*nodes));
    ll_node *by_avail = calloc(ctx->n ? ctx->n : 1, sizeof(*by_avail));
    size_t nc = 0;
    ll_set best = {0};
    int rc = 0;

    if (!nodes || !by_avail) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t all_cpus = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        if (!ctx->has_cpus[i])
            continue;
        nodes[nc] = (ll_node){(uint32_t)i, ctx->load[i].cpu_demand,
                              np_topology_node(ctx->topo, i)->nr_cpus, ctx->avail_mib[i]};
        all_cpus += nodes[nc].cpus;
        nc++;
    }
    bool need_cpus = all_cpus >= ctx->vcpus;
    size_t big = nc > NP_PLACE_MAX_SET_NODES ? NP_PLACE_MAX_SET_NODES : nc;
    size_t k_max = ctx->max_nodes < big ? ctx->max_nodes : big;
    /* k_lo: the k nodes with most memory and the k with most CPUs are the
     * best any k-set can have. */
    memcpy(by_avail, nodes, nc * sizeof(*nodes));
    qsort(by_avail, nc, sizeof(*by_avail), avail_desc);
    qsort(nodes, nc, sizeof(*nodes), rank_cmp); /* the big-host path's order */
    size_t k_lo = 1;
    uint64_t sum = 0;
    for (size_t i = 0; i < nc; i++) {
        sum += by_avail[i].avail_mib;
        k_lo = i + 1;
        if (sum >= ctx->mem_mib)
            break;
    }
    for (size_t k = k_lo; k <= k_max && !best.found; k++) {
        best_of_size(ctx, nodes, nc, k, need_cpus, &best);
        if (!best.found && choose_capped(nc, k, LL_EXHAUSTIVE_MAX_SETS) > LL_EXHAUSTIVE_MAX_SETS) {
            /* the ranked path found no k nodes each holding a k-th: the
             * k with most memory, if they fit */
            size_t pos[NP_PLACE_MAX_SET_NODES];
            ll_set s;
            for (size_t p = 0; p < k; p++)
                for (size_t i = 0; i < nc; i++)
                    if (nodes[i].idx == by_avail[p].idx)
                        pos[p] = i;
            set_fill(&s, nodes, pos, k);
            if (fits(ctx, &s, need_cpus)) {
                best = s;
                best.found = true;
            }
        }
    }
    if (!best.found)
        goto out; /* the driver says why nothing fits */
    uint32_t chosen[NP_PLACE_MAX_SET_NODES];
    for (size_t p = 0; p < best.k; p++)
        chosen[p] = nodes[best.pos[p]].idx;
    char note[NP_PLACE_NOTE_MAX] = "", list[192];
    if (call->explain) {
        np_place_nodes_text(ctx, chosen, best.k, list, sizeof(list));
        snprintf(note, sizeof(note),
                 "least-loaded: %zu node(s) %s, CPU demand %.2f over %llu CPUs, %llu MiB "
                 "available",
                 best.k, list, best.demand, (unsigned long long)best.cpus,
                 (unsigned long long)best.avail_mib);
    }
    rc = np_place_build_split(call, chosen, best.k, NP_PLACE_SPLIT_EVEN, note);
out:
    free(nodes);
    free(by_avail);
    return rc;
}
