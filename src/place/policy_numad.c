/*
 * place/policy_numad.c - "numad": a model of the node list numad's advisory
 * mode prints (`numad -w NCPUS:MB`, what libvirt asks for a guest with
 * <vcpu placement='auto'>), from numad 20150602's pick_numa_nodes() and
 * combined_value_of_weighted_resources() (anchors.md section 3).
 *
 * numad's units: CPU in hundredths of a core, memory in MB.
 *   node capacity  CPUs_total = 100 x (cores + NUMAD_HTT_PERCENT% of each
 *                  extra hyper-thread): a sibling thread is a fifth of a core;
 *   node free      CPUs_free = CPUs_total - 100 x the CPU demand already
 *                  there (numad measures idle time), at least 1;
 *                  MBs_free = the node's available memory;
 *   request        cpus = 100 x vCPUs x demand x 100 / NUMAD_TARGET_UTIL,
 *                  the guest's expected use sized to numad's 85% target
 *                  utilisation as numad sizes the processes it manages;
 *                  mbs = the balloon maximum in MiB (memory is not
 *                  inflated: numad caps its memory target at 100%);
 *   magnitude      per node, (needed_mem x 10 + excess_mem x 4) x
 *                  (needed_cpu x 6 + excess_cpu), where needed is what the
 *                  node can give of the request and excess what it has
 *                  beyond;
 *   nodes needed   max(ceil(mbs / MB size of node 0), ceil(cpus / CPUs_total
 *                  of node 0)), at most every node (numad sizes by node 0;
 *                  here by the first node with CPUs and memory, since node 0
 *                  may be CPU-less);
 *   start          from every node s, the nodes ordered by distance to s
 *                  (ties: larger magnitude first, then lower index); the
 *                  score of s is the sum over the first `nodes needed` of
 *                  magnitude / distance^2 (integer division, as numad); the
 *                  first s with the highest score wins;
 *   allocation     from the winner's order, nodes are taken until the count
 *                  is reached and the memory (each node giving its free
 *                  memory less NUMAD_MBS_MARGIN) and CPUs (its CPUs_free)
 *                  are covered, or every node is taken.
 * The guest is then bound there (libvirt pins its vCPUs to the nodes' CPUs
 * and its memory to the nodes): memory striped evenly over the set, one mask
 * for every vCPU (the spec's affinity mode kept, so policies compare on node
 * choice). numad does not check that the memory fits; the binding does: a
 * set without it is refused (-ENOSPC). The exact-tie order of numad's
 * unstable selection sort is replaced by node index.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/hoststate_int.h"
#include "place/policy_int.h"

/* numad -u default: the CPU utilisation numad sizes requests for. */
#define NUMAD_TARGET_UTIL_PERCENT 85u
/* numad -t default: a hyper-thread beyond the first is 20% of a core. */
#define NUMAD_HTT_PERCENT 20u
/* numad's MBS_MARGIN: MB a node keeps when it gives memory to a request. */
#define NUMAD_MBS_MARGIN 100
/* numad's magnitude weights. */
#define NUMAD_W_NEEDED_MEM 10
#define NUMAD_W_EXCESS_MEM 4
#define NUMAD_W_NEEDED_CPU 6
#define NUMAD_W_EXCESS_CPU 1

typedef struct numad_node {
    int64_t mbs_total, mbs_free;
    int64_t cpus_total, cpus_free; /* hundredths of a core */
    uint64_t magnitude;
} numad_node;

static uint64_t magnitude(int64_t mbs, int64_t cpus, int64_t mbs_free, int64_t cpus_free)
{
    int64_t need_mem = mbs_free > mbs ? mbs : mbs_free;
    int64_t excess_mem = mbs_free > mbs ? mbs_free - mbs : 0;
    int64_t need_cpu = cpus_free > cpus ? cpus : cpus_free;
    int64_t excess_cpu = cpus_free > cpus ? cpus_free - cpus : 0;
    int64_t mem = need_mem * NUMAD_W_NEEDED_MEM + excess_mem * NUMAD_W_EXCESS_MEM;
    int64_t cpu = need_cpu * NUMAD_W_NEEDED_CPU + excess_cpu * NUMAD_W_EXCESS_CPU;
    return mem > 0 && cpu > 0 ? (uint64_t)mem * (uint64_t)cpu : 0;
}

/* Order by distance to a start node, larger magnitude first, then index
 * (the keys carry what the comparison needs: qsort has no context). */
/* Up to this many first keys, a selection (n per key) beats a sort. */
#define NUMAD_PARTIAL_MAX 8u

typedef struct numad_key {
    uint32_t dist;
    uint64_t magnitude;
    uint32_t idx;
} numad_key;

static int key_cmp(const void *pa, const void *pb)
{
    const numad_key *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist < b->dist ? -1 : 1;
    if (a->magnitude != b->magnitude)
        return a->magnitude > b->magnitude ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* keys[0..first) in key_cmp's order, the rest after them unordered, or
 * every key in order when first is 0 (key_cmp is a total order: the
 * index breaks ties, so the first keys are those a full sort puts first;
 * the start search reads only `need` of them). */
static void order_from(const np_place_ctx *ctx, const numad_node *nodes, size_t from,
                       numad_key *keys, size_t first)
{
    for (size_t j = 0; j < ctx->n; j++)
        keys[j] =
            (numad_key){np_topology_distance(ctx->topo, j, from), nodes[j].magnitude, (uint32_t)j};
    if (first == 0 || first > NUMAD_PARTIAL_MAX) {
        qsort(keys, ctx->n, sizeof(*keys), key_cmp);
        return;
    }
    for (size_t p = 0; p < first && p < ctx->n; p++) {
        size_t m = p;
        for (size_t j = p + 1; j < ctx->n; j++)
            if (key_cmp(&keys[j], &keys[m]) < 0)
                m = j;
        numad_key tmp = keys[p];
        keys[p] = keys[m];
        keys[m] = tmp;
    }
}

/* The start score of node s (the sum over the first `need` nodes of
 * order_from(s) of magnitude / distance^2) without ordering all n nodes:
 * the host state keeps the nodes by distance from s (distances are
 * symmetric, so from s and to s are the same order of tiers), and the
 * first `need` keys are whole tiers of equal distance, then the largest
 * magnitudes of the next tier (which of equal magnitudes the index picks
 * does not change the sum). O(need x tier) for need <= NUMAD_PARTIAL_MAX,
 * against O(n) keys and a selection over them: numad's start search ran
 * over n^2 keys per decision. */
static uint64_t start_score(const np_place_ctx *ctx, const numad_node *nodes, size_t s,
                            size_t need)
{
    const uint32_t *row = np_hs_nodes_by_distance(ctx->st, s);
    uint64_t tot = 0;
    size_t pos = 0, left = need;
    while (left > 0 && pos < ctx->n) {
        uint32_t dist = np_topology_distance(ctx->topo, s, row[pos]);
        size_t end = pos + 1;
        while (end < ctx->n && np_topology_distance(ctx->topo, s, row[end]) == dist)
            end++;
        uint64_t d = dist ? dist : 1;
        if (end - pos <= left) {
            for (size_t j = pos; j < end; j++)
                tot += nodes[row[j]].magnitude / (d * d);
            left -= end - pos;
            pos = end;
            continue;
        }
        /* left < NUMAD_PARTIAL_MAX of this tier: the largest magnitudes */
        size_t pick[NUMAD_PARTIAL_MAX];
        for (size_t p = 0; p < left; p++) {
            size_t m = end;
            for (size_t j = pos; j < end; j++) {
                bool used = false;
                for (size_t q = 0; q < p; q++)
                    used |= pick[q] == j;
                if (!used && (m == end || nodes[row[j]].magnitude > nodes[row[m]].magnitude))
                    m = j;
            }
            pick[p] = m;
            tot += nodes[row[m]].magnitude / (d * d);
        }
        left = 0;
    }
    return tot;
}

int np_policy_numad(np_place_call *call)
{
    const np_place_ctx *ctx = &call->ctx;
    size_t n = ctx->n;
    numad_node *nodes = calloc(n ? n : 1, sizeof(*nodes));
    numad_key *keys = calloc(n ? n : 1, sizeof(*keys));
    uint32_t *chosen = calloc(n ? n : 1, sizeof(*chosen));
    int rc = 0;

    if (!nodes || !keys || !chosen) {
        rc = -ENOMEM;
        goto out;
    }
    int64_t mbs = (int64_t)ctx->mem_mib;
    int64_t cpus = (int64_t)ceil((double)ctx->vcpus * ctx->vcpu_demand * 100.0 * 100.0 /
                                 (double)NUMAD_TARGET_UTIL_PERCENT);
    size_t ref = n;
    for (size_t i = 0; i < n; i++) {
        const np_node_info *ni = np_topology_node(ctx->topo, i);
        numad_node *d = &nodes[i];
        uint32_t extra = ni->nr_cpus > ni->nr_cores ? ni->nr_cpus - ni->nr_cores : 0;
        d->cpus_total = 100 * (int64_t)ni->nr_cores + (int64_t)NUMAD_HTT_PERCENT * extra;
        d->cpus_free = d->cpus_total - (int64_t)llround(ctx->load[i].cpu_demand * 100.0);
        d->cpus_free = d->cpus_free < 1 ? 1 : d->cpus_free;
        d->mbs_total = (int64_t)(ni->mem_total_bytes / NP_MiB);
        d->mbs_free = (int64_t)ctx->avail_mib[i];
        d->magnitude = magnitude(mbs, cpus, d->mbs_free, d->cpus_free);
        if (ref == n && ni->nr_cpus > 0 && d->mbs_total > 0)
            ref = i;
    }
    if (ref == n)
        goto out; /* no node with CPUs and memory: nothing fits */
    size_t need = (size_t)((mbs + nodes[ref].mbs_total - 1) / nodes[ref].mbs_total);
    size_t need_cpu = (size_t)((cpus + nodes[ref].cpus_total - 1) / nodes[ref].cpus_total);
    need = need_cpu > need ? need_cpu : need;
    need = need > n ? n : need;
    need = need == 0 ? 1 : need;
    /* The start with the highest distance-weighted magnitude. */
    size_t best = 0;
    uint64_t best_mag = 0;
    for (size_t s = 0; s < n; s++) {
        uint64_t tot = 0;
        if (need <= NUMAD_PARTIAL_MAX) {
            tot = start_score(ctx, nodes, s, need);
        } else {
            order_from(ctx, nodes, s, keys, need);
            for (size_t j = 0; j < need; j++) {
                uint64_t d = keys[j].dist ? keys[j].dist : 1;
                tot += keys[j].magnitude / (d * d);
            }
        }
        if (s == 0 || tot > best_mag) {
            best = s;
            best_mag = tot;
        }
    }
    /* Take nodes from the winner's order until the request is covered. */
    order_from(ctx, nodes, best, keys, 0);
    size_t k = 0;
    int64_t left_mbs = mbs, left_cpus = cpus;
    size_t left_nodes = need;
    while (k < n && (left_nodes > 0 || left_mbs > 0 || left_cpus > 0)) {
        const numad_node *d = &nodes[keys[k].idx];
        chosen[k] = keys[k].idx;
        k++;
        left_nodes = left_nodes ? left_nodes - 1 : 0;
        int64_t give = d->mbs_free - NUMAD_MBS_MARGIN;
        left_mbs -= give > 0 ? give : 0;
        left_cpus -= d->cpus_free;
    }
    char note[NP_PLACE_NOTE_MAX] = "", list[192];
    if (call->explain) {
        np_place_nodes_text(ctx, chosen, k, list, sizeof(list));
        snprintf(note, sizeof(note),
                 "numad -w %lld:%lld (CPU in 1/100, 85%% target): start node %u, nodes %s",
                 (long long)cpus, (long long)mbs, np_topology_node(ctx->topo, best)->os_id,
                 list);
    }
    rc = np_place_build_split(call, chosen, k, NP_PLACE_SPLIT_EVEN, note);
out:
    free(nodes);
    free(keys);
    free(chosen);
    return rc;
}
