/*
 * place/policy_xapi.c - "xapi": a model of XenServer's best_effort NUMA
 * placement (xenopsd's Softaffinity.plan over Topology.NUMA.candidates, as
 * xen-api's doc/content/toolstack/features/NUMA describes it; see
 * /work/shared/research/anchors.md section 1.9), the modern Xen anchor.
 *
 *   candidates  every non-empty node set, ordered by ascending average SLIT
 *               distance among its nodes (the mean over all ordered pairs,
 *               a node with itself included: 10 for one node, (10 + 10 + 21
 *               + 21) / 4 = 15.5 for a pair at 21); equal averages keep the
 *               order of the node masks. Above XAPI_FULL_MAX_NODES nodes
 *               only the single nodes are candidates (xenopsd's cap: the
 *               full 2^N list up to 16 nodes, N more sets above);
 *   fit         the set's free memory holds the guest's memory (its balloon
 *               maximum) and its CPUs number at least the vCPUs; CPU-less
 *               nodes are accepted (their memory counts, they add no CPU);
 *   choice      the fitting candidates with the smallest average distance
 *               (within XAPI_SAME_DISTANCE, xenopsd's tolerance), and among
 *               them the set with most free memory; equal memory: the
 *               earlier candidate;
 *   result      the union of the set's CPUs as one mask for every vCPU
 *               (soft affinity in XenServer; the spec's affinity mode is
 *               kept so policies compare on node choice), memory striped
 *               evenly over the set by Xen's allocator;
 *   no fit      Xen's default: memory striped over every node (a fallback),
 *               -ENOSPC when the host as a whole lacks it.
 *
 * "Free memory" is what the node really has available (claims, balloon
 * head-room and reservations off), so the parallel-boot race xapi's doc
 * lists as a limitation is not reproduced: this is its algorithm with
 * correct inputs.
 *
 * Cost. The answer is that of scanning all 2^N - 1 sets, but the sets are
 * visited by size (ascending masks within a size), from the smallest size
 * whose largest nodes could hold the guest, and the scan stops at the first
 * size k whose lower bound on the average distance,
 *   (k dmin_self + k (k - 1) dmin_other) / k^2,
 * is already XAPI_SAME_DISTANCE or more above the least average found: no
 * set of that size can be the choice or tie with it, and the bound grows
 * with k when dmin_other >= dmin_self (the topology builder refuses a
 * node farther from itself than from another; were one there, every size
 * would be scanned). A guest one node holds costs N
 * sets and one bound, not 2^N (65,535 sets at 16 nodes, about 1.3 ms a
 * decision, most of the count guard's time before).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "place/policy_int.h"

/* Up to this many nodes every subset is a candidate (2^16 - 1 sets). */
#define XAPI_FULL_MAX_NODES 16u
/* Averages closer than this are the same distance (xenopsd's
 * take_same_distance compares with abs_float (avg - first) < 1e-3). */
#define XAPI_SAME_DISTANCE 1e-3

/* One node set's figures. */
typedef struct xapi_set {
    size_t mask;
    double avg;       /* mean distance over ordered pairs, self pairs included */
    uint64_t mem_mib; /* available memory */
} xapi_set;

/* The host read once per decision: distances as a matrix, CPUs per node. */
typedef struct xapi_host {
    size_t n;
    uint32_t dist[XAPI_FULL_MAX_NODES][XAPI_FULL_MAX_NODES];
    uint32_t cpus[XAPI_FULL_MAX_NODES];
    uint32_t dmin_self, dmin_other;
    size_t k_min; /* no set of fewer nodes has the memory and the CPUs */
} xapi_host;

static int desc_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void xapi_host_read(const np_place_ctx *ctx, xapi_host *h)
{
    uint64_t mem[XAPI_FULL_MAX_NODES], cpus[XAPI_FULL_MAX_NODES];
    h->n = ctx->n;
    h->dmin_self = h->dmin_other = UINT32_MAX;
    for (size_t i = 0; i < h->n; i++) {
        h->cpus[i] = np_topology_node(ctx->topo, i)->nr_cpus;
        mem[i] = ctx->avail_mib[i];
        cpus[i] = h->cpus[i];
        for (size_t j = 0; j < h->n; j++) {
            uint32_t d = np_topology_distance(ctx->topo, i, j);
            h->dist[i][j] = d;
            uint32_t *m = i == j ? &h->dmin_self : &h->dmin_other;
            *m = d < *m ? d : *m;
        }
    }
    /* the fewest nodes whose largest memory and largest CPU counts reach
     * the guest's: smaller sets cannot fit */
    qsort(mem, h->n, sizeof(mem[0]), desc_u64);
    qsort(cpus, h->n, sizeof(cpus[0]), desc_u64);
    uint64_t m = 0, c = 0;
    h->k_min = h->n + 1;
    for (size_t k = 1; k <= h->n; k++) {
        m += mem[k - 1];
        c += cpus[k - 1];
        if (m >= ctx->mem_mib && c >= ctx->vcpus) {
            h->k_min = k;
            break;
        }
    }
}

/* The average distance no set of k nodes goes below. */
static double size_bound(const xapi_host *h, size_t k)
{
    double kk = (double)k;
    return ((double)h->dmin_self * kk + (double)h->dmin_other * kk * (kk - 1.0)) / (kk * kk);
}

/* Fills `set` for `mask` when it fits the guest (its memory within the
 * set's available memory, one CPU per vCPU); false otherwise. */
static bool set_fits(const np_place_ctx *ctx, const xapi_host *h, size_t mask, xapi_set *set)
{
    uint64_t mem = 0, dist = 0;
    uint32_t cpus = 0, k = 0;
    for (size_t r = mask; r; r &= r - 1) {
        size_t i = (size_t)__builtin_ctzll((unsigned long long)r);
        mem += ctx->avail_mib[i];
        cpus += h->cpus[i];
        k++;
    }
    if (mem < ctx->mem_mib || cpus < ctx->vcpus)
        return false;
    for (size_t r = mask; r; r &= r - 1) {
        size_t i = (size_t)__builtin_ctzll((unsigned long long)r);
        for (size_t q = mask; q; q &= q - 1)
            dist += h->dist[i][(size_t)__builtin_ctzll((unsigned long long)q)];
    }
    set->mask = mask;
    set->avg = (double)dist / ((double)k * (double)k);
    set->mem_mib = mem;
    return true;
}

/* The candidate order: average distance, then the mask (xenopsd sorts the
 * subsets, generated by ascending mask, with a stable sort). */
static bool earlier(const xapi_set *a, const xapi_set *b)
{
    if (a->avg != b->avg)
        return a->avg < b->avg;
    return a->mask < b->mask;
}

/* The next mask with as many bits (Gosper's hack); 0 past `limit`. */
static size_t next_same_size(size_t mask, size_t limit)
{
    size_t low = mask & -mask, ripple = mask + low;
    size_t next = (((ripple ^ mask) >> 2) / low) | ripple;
    return next < limit ? next : 0;
}

/* Scans the sets of k_min..n nodes, stopping at the first size whose bound
 * is XAPI_SAME_DISTANCE above `*least` (pass 1: lowers `*least` to the
 * least average of a fitting set; pass 2, `least` fixed: the set with most
 * memory within the tolerance of it, into `*best`). Returns the size the
 * scan stopped at. */
static size_t scan(const np_place_ctx *ctx, const xapi_host *h, size_t k_stop, bool pass2,
                   xapi_set *best, double *least)
{
    bool monotone = h->dmin_other >= h->dmin_self;
    size_t limit = (size_t)1 << h->n;
    for (size_t k = h->k_min; k <= h->n && k < k_stop; k++) {
        if (monotone && !(size_bound(h, k) - *least < XAPI_SAME_DISTANCE))
            return k;
        for (size_t mask = ((size_t)1 << k) - 1; mask; mask = next_same_size(mask, limit)) {
            xapi_set set;
            if (!set_fits(ctx, h, mask, &set))
                continue;
            if (!pass2) {
                *least = set.avg < *least ? set.avg : *least;
            } else if (fabs(set.avg - *least) < XAPI_SAME_DISTANCE &&
                       (best->mask == 0 || set.mem_mib > best->mem_mib ||
                        (set.mem_mib == best->mem_mib && earlier(&set, best)))) {
                *best = set;
            }
        }
    }
    return h->n + 1;
}

/* Hosts above XAPI_FULL_MAX_NODES: single nodes only. */
static int choose_single(const np_place_ctx *ctx, uint32_t *node_out, double *avg_out,
                         uint64_t *mem_mib_out)
{
    double least = INFINITY;
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->avail_mib[i] >= ctx->mem_mib &&
            np_topology_node(ctx->topo, i)->nr_cpus >= ctx->vcpus) {
            double d = (double)np_topology_distance(ctx->topo, i, i);
            least = d < least ? d : least;
        }
    if (isinf(least))
        return -ENOENT;
    bool found = false;
    for (size_t i = 0; i < ctx->n; i++) {
        double d = (double)np_topology_distance(ctx->topo, i, i);
        if (ctx->avail_mib[i] < ctx->mem_mib ||
            np_topology_node(ctx->topo, i)->nr_cpus < ctx->vcpus ||
            fabs(d - least) >= XAPI_SAME_DISTANCE)
            continue;
        if (!found || ctx->avail_mib[i] > *mem_mib_out) {
            *node_out = (uint32_t)i;
            *mem_mib_out = ctx->avail_mib[i];
            *avg_out = d;
            found = true;
        }
    }
    return 0;
}

int np_policy_xapi(np_place_call *call)
{
    const np_place_ctx *ctx = &call->ctx;
    uint32_t chosen[XAPI_FULL_MAX_NODES];
    size_t k = 0;
    double avg = 0.0;
    uint64_t mem_mib = 0;
    char note[NP_PLACE_NOTE_MAX], list[96];
    int rc = 0;

    if (ctx->n > XAPI_FULL_MAX_NODES) {
        rc = choose_single(ctx, &chosen[0], &avg, &mem_mib);
        k = rc == 0 ? 1 : 0;
    } else {
        xapi_host h;
        xapi_set best = {0};
        double least = INFINITY;
        xapi_host_read(ctx, &h);
        size_t k_stop = scan(ctx, &h, h.n + 1, false, &best, &least);
        if (least < INFINITY)
            scan(ctx, &h, k_stop, true, &best, &least);
        rc = best.mask ? 0 : -ENOENT;
        if (best.mask) {
            for (size_t i = 0; i < ctx->n; i++)
                if (best.mask & ((size_t)1 << i))
                    chosen[k++] = (uint32_t)i;
            avg = best.avg;
            mem_mib = best.mem_mib;
        }
    }
    if (rc == -ENOENT) {
        snprintf(note, sizeof(note),
                 "xapi best_effort: no node set%s has %llu MiB available and %u CPUs; Xen's "
                 "default",
                 ctx->n > XAPI_FULL_MAX_NODES ? " of one node (more than 16 nodes)" : "",
                 (unsigned long long)ctx->mem_mib, ctx->vcpus);
        rc = np_place_fallback(call->st, call->spec, call->policy, note, call->explain,
                               &call->pl, call->err);
        goto out;
    }
    note[0] = '\0';
    if (call->explain) {
        np_place_nodes_text(ctx, chosen, k, list, sizeof(list));
        snprintf(note, sizeof(note),
                 "xapi best_effort: nodes %s, mean distance %.2f, %llu MiB available", list, avg,
                 (unsigned long long)mem_mib);
    }
    rc = np_place_build_split(call, chosen, k, NP_PLACE_SPLIT_EVEN, note);
out:
    return rc;
}
