/*
 * place/objective.c - numaplace's objective: how a node set splits a
 * guest's memory and vCPUs, and what that costs.
 *
 * The split. Each node with CPUs gets a share in proportion to how much of
 * the guest it can take: the smaller of its free memory over the guest's
 * memory and its free cores over the guest's demand. vCPUs and memory
 * follow the same shares, so each vCPU's memory is local as far as the
 * shares allow; memory a node cannot hold spills to the nodes of the set
 * with most room left, CPU nodes first; then CPU-less (CXL, HBM) nodes,
 * the nearest to the guest's vCPUs first. Whole MiB, summing to the guest's balloon maximum: the balloon can
 * always inflate back.
 *
 * The cost (lower is better) is the guest's expected slowdown: the share
 * of its work lost, plus the work it makes the guests already there lose,
 * per unit of its demand. Constants from src/model/calibration.h, each
 * with its source in data/calibration.conf; docs/placement.md has the
 * reasoning and worked examples:
 *   cpu_overcommit  sum_i [loss_i(d_i + a_i) - loss_i(d_i)] / D
 *                   loss(d) = (1 - y) clamp(d - cores, 0, threads - cores)
 *                             + max(0, d - threads)
 *                   demand past the cores runs on busy cores' second
 *                   threads (each pair does 1 + y cores of work), demand
 *                   past the threads is time-shared: work not done. A
 *                   guest filling free cores costs nothing.
 *   remote_memory   s sum_i w_i f_i sum_{j != i} m_j (L(i, j) - 1)
 *                   L the latency ratio (HMAT, else the SLIT class), s the
 *                   memory-stall share of a vCPU's time; f_i = 1 without
 *                   vNUMA (accesses spread like the memory), else
 *                   c + (1 - c)(1 - min(1, m_i / w_i)) with c the share of
 *                   accesses that cross virtual nodes: the others stay on
 *                   the vCPU's virtual node as far as its memory goes.
 *   device          sum_i (w_i + m_i) / 2 dev_i    I/O share x extra latency
 *   group           sum_i w_i grp_i (colocate: the vCPUs talk), or
 *                   sum_i (w_i + m_i) / 2 grp_i (spread)
 *   headroom        h sum_i (w_i u_i + m_i f_i) / 2  tie-break: utilisation
 *                   and memory fill before the guest where it lands
 * with w_i the node's share of vCPUs, m_j its share of memory, D the
 * guest's demand (vcpus x cpu_demand), a_i the demand it adds to node i.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/calibration.h"
#include "model/hoststate_int.h"
#include "place/place_int.h"

const char *const np_place_term_names[NP_TERM_COUNT] = {
    "cpu_overcommit", "remote_memory", "device", "group", "headroom",
};

/* Up to this many positions, the rounding keeps each position's exact
 * share and its floor instead of computing them again for every unit of
 * the remainder (sets have at most NP_PLACE_MAX_SET_NODES nodes; longer
 * splits, over every node of a big host, recompute: the same expression
 * gives the same value). */
#define SPLIT_CACHED_POSITIONS NP_PLACE_MAX_SET_NODES

/* Conversions that give what floor() and (double) of a uint64_t give,
 * through the signed 64-bit instructions: x86-64 has no unsigned ones,
 * and the inlined floor() was a fifth of a split. Outside 0..2^62 they
 * fall back to the slow forms. */
#define FAST_CONVERT_MAX 0x1p62

static inline double floor_fast(double x)
{
    return x >= 0.0 && x < FAST_CONVERT_MAX ? (double)(int64_t)x : floor(x);
}

static inline double u64_to_double(uint64_t x)
{
    return x < (UINT64_C(1) << 62) ? (double)(int64_t)x : (double)x;
}

/* A position and its fractional part, ordered as round_shares' loop
 * picks them: larger part first, then lower position (a total order). */
typedef struct frac_pos {
    double frac;
    size_t pos;
} frac_pos;

static inline bool frac_before(const frac_pos *a, const frac_pos *b)
{
    return a->frac > b->frac || (a->frac == b->frac && a->pos < b->pos);
}

/* Up to this many units left, top_fractions keeps a sorted list in one
 * pass instead of partitioning. */
#define FEW_LEFT 4u

/* One unit more to each of the `left` positions (0 < left < k) that come
 * first in frac_before's order of exact[i] - floor[i]: what round_shares'
 * loop does one unit at a time, when every position still holds its
 * floor. Quickselect (median-of-three pivot, deterministic). false, and
 * nothing changed, when a part is not a number in [0, 1]: the loop then
 * decides. */
static bool top_fractions(const double *exact, const double *fl, size_t k, size_t left,
                          uint64_t *out)
{
    frac_pos a[SPLIT_CACHED_POSITIONS];
    if (left <= FEW_LEFT) {
        /* A few units (a guest's vCPUs over many nodes): one pass keeping
         * the first `left` in order, most positions rejected by one
         * comparison with the last kept. */
        size_t nr = 0;
        for (size_t i = 0; i < k; i++) {
            frac_pos x = {exact[i] - fl[i], i};
            if (!(x.frac >= 0.0 && x.frac <= 1.0))
                return false;
            if (nr == left && !frac_before(&x, &a[nr - 1]))
                continue;
            size_t at = nr < left ? nr++ : nr - 1;
            while (at > 0 && frac_before(&x, &a[at - 1])) {
                a[at] = a[at - 1];
                at--;
            }
            a[at] = x;
        }
        for (size_t i = 0; i < left; i++)
            out[a[i].pos]++;
        return true;
    }
    for (size_t i = 0; i < k; i++) {
        a[i].frac = exact[i] - fl[i];
        a[i].pos = i;
        if (!(a[i].frac >= 0.0 && a[i].frac <= 1.0))
            return false;
    }
    /* a[0..lo) are the first lo in the order, a[hi..k) the last k - hi;
     * partition a[lo..hi) until one of them ends at `left`. */
    size_t lo = 0, hi = k;
    while (lo < left && left < hi) {
        size_t mid = lo + (hi - lo) / 2;
        frac_pos x = a[lo], y = a[mid], z = a[hi - 1];
        frac_pos pivot = frac_before(&x, &y) ? (frac_before(&y, &z)   ? y
                                                : frac_before(&x, &z) ? z
                                                                      : x)
                                             : (frac_before(&x, &z)   ? x
                                                : frac_before(&y, &z) ? z
                                                                      : y);
        /* Lomuto-style three-way split around the pivot (unique: the
         * order is total): before it, the pivot, after it. */
        size_t store = lo;
        for (size_t i = lo; i < hi; i++) {
            if (frac_before(&a[i], &pivot)) {
                frac_pos t = a[i];
                a[i] = a[store];
                a[store] = t;
                store++;
            }
        }
        /* a[0..store) come before the pivot: it has rank `store`. */
        if (store == left)
            break;
        if (store < left) {
            /* the pivot and a[lo..store) are all in; place the pivot */
            size_t at = store;
            for (size_t i = store; i < hi; i++) {
                if (a[i].pos == pivot.pos) {
                    a[i] = a[at];
                    a[at] = pivot;
                    break;
                }
            }
            lo = at + 1;
        } else {
            hi = store;
        }
    }
    for (size_t i = 0; i < left; i++)
        out[a[i].pos]++;
    return true;
}

/* The rounding of np_split_largest_remainder, for sum > 0 and k >= 2.
 * ratio[i] is weights[i] / sum when the caller has it (the split rounds
 * vCPUs and memory over the same weights), else NULL. */
static void round_shares(uint64_t total, const double *weights, double sum, const double *ratio,
                         size_t k, uint64_t *out)
{
    double exact_buf[SPLIT_CACHED_POSITIONS], floor_buf[SPLIT_CACHED_POSITIONS];
    bool cached = k <= SPLIT_CACHED_POSITIONS;
    double t = u64_to_double(total);
    uint64_t given = 0;
    for (size_t i = 0; i < k; i++) {
        double exact = t * (ratio ? ratio[i] : weights[i] / sum);
        double fl = floor_fast(exact);
        if (cached) {
            exact_buf[i] = exact;
            floor_buf[i] = fl;
        }
        out[i] = (uint64_t)fl;
        if (out[i] > total - given)
            out[i] = total - given;
        given += out[i];
    }
    /* Fewer than k units are left: one each to the largest fractional
     * parts (a position already topped up has out > floor), lower
     * position first on equal parts. With the exact shares cached, a
     * selection gives each of those positions its unit in O(k); the loop
     * below, O(k) per unit, is for long splits and the unexpected. */
    if (cached && given < total && total - given < k &&
        top_fractions(exact_buf, floor_buf, k, (size_t)(total - given), out))
        return;
    while (given < total) {
        size_t best = k;
        double best_frac = -1.0;
        for (size_t i = 0; i < k; i++) {
            double exact = cached ? exact_buf[i] : t * (ratio ? ratio[i] : weights[i] / sum);
            double fl = cached ? floor_buf[i] : floor_fast(exact);
            double have = u64_to_double(out[i]);
            if (have > fl)
                continue;
            if (exact - have > best_frac) {
                best_frac = exact - have;
                best = i;
            }
        }
        if (best == k) /* rounding left more than k units: cannot happen, be safe */
            best = given % k;
        out[best]++;
        given++;
    }
}

void np_split_largest_remainder(uint64_t total, const double *weights, size_t k, uint64_t *out)
{
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += weights[i];
    if (k == 0)
        return;
    if (k == 1) {
        /* One position takes everything: total * (w / w) is total, and
         * the even split gives it too. */
        out[0] = total;
        return;
    }
    if (!(sum > 0.0)) { /* no weights: even split */
        for (size_t i = 0; i < k; i++)
            out[i] = total / k + (i < total % k ? 1 : 0);
        return;
    }
    round_shares(total, weights, sum, NULL, k, out);
}

/* np_split_largest_remainder of two totals over the same weights (k at
 * most NP_PLACE_MAX_SET_NODES), each weight's ratio to the sum worked out
 * once. */
static void split_two(uint64_t total_a, uint64_t total_b, const double *weights, size_t k,
                      uint64_t *out_a, uint64_t *out_b)
{
    double ratio[NP_PLACE_MAX_SET_NODES];
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += weights[i];
    if (k <= 1 || !(sum > 0.0)) {
        np_split_largest_remainder(total_a, weights, k, out_a);
        np_split_largest_remainder(total_b, weights, k, out_b);
        return;
    }
    for (size_t i = 0; i < k; i++)
        ratio[i] = weights[i] / sum;
    round_shares(total_a, weights, sum, ratio, k, out_a);
    round_shares(total_b, weights, sum, ratio, k, out_b);
}

/* Free cores of a node, never below the minimum room. */
static double cpu_room(const np_place_ctx *ctx, size_t i)
{
    double room = np_place_free_cores(ctx, i);
    double floor_room = ctx->cores[i] * NP_PLACE_CPU_MIN_ROOM;
    return room > floor_room ? room : floor_room;
}

/* Demand a node cannot serve at full speed, in vCPU-equivalents of work
 * lost (the formula at the top of the file). */
static double cpu_loss(const np_place_ctx *ctx, size_t i, double demand)
{
    double cores = ctx->cores[i], threads = ctx->threads[i];
    double smt = demand > cores ? (demand < threads ? demand : threads) - cores : 0.0;
    double shared = demand > threads ? demand - threads : 0.0;
    return (1.0 - NP_CALIB_SMT_THREAD_YIELD) * (smt > 0.0 ? smt : 0.0) + shared;
}

void np_place_objective_prepare(np_place_ctx *ctx)
{
    double M = (double)ctx->mem_mib, D = ctx->demand;
    for (size_t i = 0; i < ctx->n; i++) {
        const np_node_load *l = &ctx->load[i];
        /* The split's weight: the smaller of the part of the guest's
         * memory and the part of its demand the node can take. */
        double r = (double)ctx->avail_mib[i] / M;
        if (D > 0.0) {
            double cr = cpu_room(ctx, i) / D;
            r = cr < r ? cr : r;
        }
        ctx->share[i] = ctx->has_cpus[i] ? r : 0.0;
        /* Not capped at 1: between nodes past their CPUs, where one more
         * vCPU loses the same work on either, the tie-break must still
         * tell 2x over-committed from 1.5x (the guest's vCPUs wait least
         * on the less loaded one). */
        double u = l->cpu_capacity > 0.0 ? l->cpu_demand / l->cpu_capacity : 0.0;
        ctx->util_before[i] = u;
        ctx->loss_before[i] = cpu_loss(ctx, i, l->cpu_demand);
        uint64_t usable_bytes = l->mem_total_bytes > l->mem_reserved_bytes
                                    ? l->mem_total_bytes - l->mem_reserved_bytes
                                    : 0;
        ctx->usable_mib[i] = (double)(usable_bytes / NP_MiB);
        /* signed: a baseline's split may take more than is free */
        ctx->fill_before[i] =
            ctx->usable_mib[i] > 0.0 ? 1.0 - (double)ctx->avail_mib[i] / ctx->usable_mib[i] : 1.0;
    }
}

void np_place_ctx_no_vnuma(np_place_ctx *ctx)
{
    ctx->vnuma = false;
}

/* Pours `over` MiB into the positions in `pos` with room left, the one
 * with most room first (lower position on ties). Returns what is left. */
static uint64_t spill(const np_place_ctx *ctx, np_cand *c, const size_t *pos, size_t nr,
                      uint64_t over)
{
    while (over > 0) {
        size_t best = nr;
        uint64_t best_room = 0;
        for (size_t i = 0; i < nr; i++) {
            size_t p = pos[i];
            uint64_t avail = ctx->avail_mib[c->node[p]];
            uint64_t room = avail > c->mem_mib[p] ? avail - c->mem_mib[p] : 0;
            if (room > best_room) {
                best_room = room;
                best = i;
            }
        }
        if (best == nr)
            break;
        uint64_t put = over < best_room ? over : best_room;
        c->mem_mib[pos[best]] += put;
        over -= put;
    }
    return over;
}

/* Pours `over` MiB into the CPU-less positions in `less`, the nearest to
 * the guest's vCPUs first (mean latency ratio from the set's vCPUs, each
 * vCPU weighing the same; more room, then lower position, on ties): the
 * memory that must leave the CPU nodes goes where its vCPUs reach it
 * fastest, as on a host whose CXL expanders hang off different sockets.
 * Returns what is left. */
static uint64_t spill_nearest(const np_place_ctx *ctx, np_cand *c, const size_t *cpu_pos,
                              size_t nr_cpu, const size_t *less, size_t nr_less, uint64_t over)
{
    double lat[NP_PLACE_MAX_SET_NODES];
    bool used[NP_PLACE_MAX_SET_NODES] = {false};
    for (size_t i = 0; i < nr_less; i++) {
        double sum = 0.0, w = 0.0;
        for (size_t q = 0; q < nr_cpu; q++) {
            double v = (double)c->vcpus[cpu_pos[q]];
            sum += v * np_place_lat(ctx, c->node[cpu_pos[q]], c->node[less[i]]);
            w += v;
        }
        lat[i] = w > 0.0 ? sum / w : 0.0;
    }
    while (over > 0) {
        size_t best = nr_less;
        uint64_t best_room = 0;
        for (size_t i = 0; i < nr_less; i++) {
            if (used[i])
                continue;
            uint64_t avail = ctx->avail_mib[c->node[less[i]]];
            uint64_t room = avail > c->mem_mib[less[i]] ? avail - c->mem_mib[less[i]] : 0;
            if (room == 0)
                continue;
            if (best == nr_less || lat[i] < lat[best] ||
                (lat[i] == lat[best] && room > best_room)) {
                best = i;
                best_room = room;
            }
        }
        if (best == nr_less)
            break;
        used[best] = true;
        uint64_t put = over < best_room ? over : best_room;
        c->mem_mib[less[best]] += put;
        over -= put;
    }
    return over;
}

/* The split described at the top; sets c->reject when it cannot be done. */
static void split(const np_place_ctx *ctx, np_cand *c)
{
    size_t cpu_pos[NP_PLACE_MAX_SET_NODES], less_pos[NP_PLACE_MAX_SET_NODES];
    size_t nr_cpu = 0, nr_less = 0;
    double share[NP_PLACE_MAX_SET_NODES];
    uint64_t units[NP_PLACE_MAX_SET_NODES], vcpu_units[NP_PLACE_MAX_SET_NODES];
    uint64_t set_avail = 0;

    c->reject = NP_REJECT_NONE;
    c->short_mib = 0;
    for (size_t p = 0; p < c->k; p++) {
        uint32_t node = c->node[p];
        c->vcpus[p] = 0;
        c->mem_mib[p] = 0;
        set_avail += ctx->avail_mib[node];
        if (ctx->has_cpus[node])
            cpu_pos[nr_cpu++] = p;
        else
            less_pos[nr_less++] = p;
    }
    if (c->k > ctx->max_nodes) {
        c->reject = NP_REJECT_TOO_MANY;
        return;
    }
    if (nr_cpu == 0) {
        c->reject = NP_REJECT_NO_CPU;
        return;
    }
    if (nr_less > 0 && !ctx->cpuless_ok) {
        c->reject = NP_REJECT_NO_CPU;
        return;
    }
    /* Early exit, exact: the spills below fill every node of the set
     * before they give up, so the set falls short by exactly the memory
     * the guest needs beyond what the whole set has available; and when
     * the set has enough, they place all of it. */
    if (set_avail < ctx->mem_mib) {
        c->reject = NP_REJECT_MEMORY;
        c->short_mib = ctx->mem_mib - set_avail;
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < nr_cpu; i++) {
        share[i] = ctx->share[c->node[cpu_pos[i]]];
        sum += share[i];
    }
    if (sum <= 0.0) {
        /* No CPU node has free memory (it all goes to CPU-less nodes):
         * spread the vCPUs by CPU room alone. */
        for (size_t i = 0; i < nr_cpu; i++)
            share[i] = cpu_room(ctx, c->node[cpu_pos[i]]);
    }
    split_two(ctx->vcpus, ctx->mem_mib, share, nr_cpu, vcpu_units, units);
    uint64_t over = 0;
    for (size_t i = 0; i < nr_cpu; i++) {
        size_t p = cpu_pos[i];
        uint64_t avail = ctx->avail_mib[c->node[p]];
        uint64_t m = units[i] < avail ? units[i] : avail;
        c->vcpus[p] = (uint32_t)vcpu_units[i];
        c->mem_mib[p] = m;
        over += units[i] - m;
    }
    if (over > 0) {
        over = spill(ctx, c, cpu_pos, nr_cpu, over);
        over = spill_nearest(ctx, c, cpu_pos, nr_cpu, less_pos, nr_less, over);
    }
    if (over > 0) { /* cannot happen after the check above; be safe */
        c->reject = NP_REJECT_MEMORY;
        c->short_mib = over;
        return;
    }
    /* CPU-less nodes the memory did not need leave the set (a set is
     * completed with them before its split is known). */
    if (nr_less > 0) {
        size_t kept = 0;
        for (size_t p = 0; p < c->k; p++) {
            if (!ctx->has_cpus[c->node[p]] && c->mem_mib[p] == 0)
                continue;
            c->node[kept] = c->node[p];
            c->vcpus[kept] = c->vcpus[p];
            c->mem_mib[kept] = c->mem_mib[p];
            kept++;
        }
        c->k = (uint32_t)kept;
    }
    for (size_t p = 0; p < c->k; p++) {
        if (c->vcpus[p] == 0 && c->mem_mib[p] == 0) {
            c->reject = NP_REJECT_UNUSED;
            return;
        }
    }
}

void np_place_score_split(const np_place_ctx *ctx, size_t k, const uint32_t *node,
                          const uint32_t *vcpus, const uint64_t *mem_mib, double *term_out,
                          double *cost_out)
{
    double V = (double)ctx->vcpus, M = (double)ctx->mem_mib, D = ctx->demand;
    double term[NP_TERM_COUNT] = {0};

    for (size_t p = 0; p < k; p++) {
        size_t i = node[p];
        const np_node_load *l = &ctx->load[i];
        double w = (double)vcpus[p] / V;
        double mu = M > 0.0 ? (double)mem_mib[p] / M : 0.0;
        if (vcpus[p] > 0 && D > 0.0) {
            double add = ctx->vcpu_demand * (double)vcpus[p];
            term[NP_TERM_CPU_OVER] +=
                (cpu_loss(ctx, i, l->cpu_demand + add) - ctx->loss_before[i]) / D;
        }
        if (w > 0.0 && M > 0.0) {
            double r = 0.0;
            for (size_t q = 0; q < k; q++) {
                if (q == p || mem_mib[q] == 0)
                    continue;
                r += ((double)mem_mib[q] / M) * (np_place_lat(ctx, i, node[q]) - 1.0);
            }
            /* r is what a vCPU pays when its accesses spread like the
             * memory. With vNUMA, the guest keeps 1 - c of them on its
             * virtual node as far as that node's memory goes (m / w of
             * the vCPUs' need); the rest spread. */
            double f = 1.0;
            if (ctx->vnuma) {
                double own = mu < w ? mu / w : 1.0;
                f = (1.0 - NP_CALIB_VNUMA_CROSS_FRACTION) * (1.0 - own) +
                    NP_CALIB_VNUMA_CROSS_FRACTION;
            }
            term[NP_TERM_REMOTE] += w * f * r;
        }
        term[NP_TERM_DEVICE] += (w + mu) / 2.0 * ctx->dev_cost[i];
        /* colocate: the vCPUs do the talking; spread: every share counts */
        term[NP_TERM_GROUP] += (ctx->group_by_vcpu ? w : (w + mu) / 2.0) * ctx->group_cost[i];
        term[NP_TERM_HEADROOM] += (w * ctx->util_before[i] + mu * ctx->fill_before[i]) / 2.0;
    }
    term[NP_TERM_REMOTE] *= NP_CALIB_MEM_STALL_FRACTION;
    term[NP_TERM_HEADROOM] *= NP_CALIB_HEADROOM_WEIGHT;
    double cost = 0.0;
    for (size_t j = 0; j < NP_TERM_COUNT; j++) {
        term_out[j] = term[j];
        cost += term_out[j];
    }
    *cost_out = cost;
}

/* The bound below skips sets only when it beats the limit by this
 * relative margin: the bound and the cost are sums of a few dozen
 * rounded operations (relative error ~1e-15 each), so a set whose bound
 * exceeds the limit by less might score at or under it in floating point. */
#define PRUNE_MARGIN 1e-9
/* The bound relies on the memory rounding never cutting a node below the
 * floor of its exact share, true while the guest's MiB times the
 * rounding error of the shares stays under one MiB: up to 2^40 MiB. */
#define PRUNE_MAX_MEM_MIB (UINT64_C(1) << 40)

/* The lower bound of np_place_cannot_beat from its parts, against the
 * limit. */
static inline bool prune_bound_exceeds(const np_place_ctx *ctx, double min_cpu, double min_util,
                                       double min_fill, double min_remote, double min_dev,
                                       double min_grp, double limit)
{
    double bound = min_cpu + NP_CALIB_HEADROOM_WEIGHT * (min_util + min_fill) / 2.0 +
                   NP_CALIB_MEM_STALL_FRACTION *
                       (ctx->vnuma ? NP_CALIB_VNUMA_CROSS_FRACTION : 1.0) * min_remote +
                   min_dev + min_grp;
    return bound * (1.0 - PRUNE_MARGIN) > limit;
}

bool np_place_cannot_beat(const np_place_ctx *ctx, const uint32_t *node, size_t k, double limit)
{
    double M = (double)ctx->mem_mib;
    double share_sum = 0.0;
    uint64_t set_avail = 0;

    if (k < 2 || k > ctx->max_nodes || k > NP_PLACE_MAX_SET_NODES || ctx->mem_mib == 0 ||
        ctx->mem_mib >= PRUNE_MAX_MEM_MIB || !(limit < INFINITY))
        return false;
    for (size_t p = 0; p < k; p++) {
        if (!ctx->has_cpus[node[p]])
            return false;
        set_avail += ctx->avail_mib[node[p]];
        share_sum += ctx->share[node[p]];
    }
    /* A set short of memory is a rejection the search records; without
     * shares the split spreads by CPU room: score those in full. */
    if (set_avail < ctx->mem_mib || !(share_sum > 0.0))
        return false;
    /* headroom, device and group are means over the set (weights summing
     * to 1) of per-node figures, so at least the smallest of them;
     * cpu_overcommit is never negative (loss grows with demand). */
    double min_util = INFINITY, min_fill = INFINITY, min_dev = INFINITY, min_grp = INFINITY;
    double mem_lo[NP_PLACE_MAX_SET_NODES];
    for (size_t p = 0; p < k; p++) {
        uint32_t i = node[p];
        min_util = ctx->util_before[i] < min_util ? ctx->util_before[i] : min_util;
        min_fill = ctx->fill_before[i] < min_fill ? ctx->fill_before[i] : min_fill;
        min_dev = ctx->dev_cost[i] < min_dev ? ctx->dev_cost[i] : min_dev;
        min_grp = ctx->group_cost[i] < min_grp ? ctx->group_cost[i] : min_grp;
        /* The split gives the node at least the floor of its exact share
         * of the memory, or all it has available, and the spill only adds
         * to that; one MiB less covers the summation order. */
        double fl = floor_fast(M * (ctx->share[i] / share_sum));
        double lo = fl >= 1.0 ? fl - 1.0 : 0.0;
        double avail = u64_to_double(ctx->avail_mib[i]);
        mem_lo[p] = (lo < avail ? lo : avail) / M;
    }
    /* cpu_overcommit: each node's loss is convex in its demand (free
     * cores cost nothing, then siblings 1 - y, then 1), so no split of
     * the guest's demand over the set loses less than filling the
     * cheapest room first. */
    double free_cores = 0.0, smt_room = 0.0;
    for (size_t p = 0; p < k; p++) {
        uint32_t i = node[p];
        double d = ctx->load[i].cpu_demand;
        free_cores += ctx->cores[i] > d ? ctx->cores[i] - d : 0.0;
        double above = d > ctx->cores[i] ? d : ctx->cores[i];
        smt_room += ctx->threads[i] > above ? ctx->threads[i] - above : 0.0;
    }
    double min_cpu = 0.0;
    if (ctx->demand > free_cores) {
        double rest = ctx->demand - free_cores;
        double on_smt = rest < smt_room ? rest : smt_room;
        min_cpu = ((1.0 - NP_CALIB_SMT_THREAD_YIELD) * on_smt + (rest - on_smt)) / ctx->demand;
    }
    /* remote_memory: every vCPU sees at least the memory the other nodes
     * hold at their least, so the vCPU-weighted mean is at least the
     * smallest node's figure. The bound grows with min_remote (each
     * rounded operation on the way is monotone), so once the smallest
     * figure so far gives a bound that does not prune, the final one
     * cannot either: most sets leave after a row or two instead of all
     * k (O(k) instead of O(k^2) on the 64-node sets of an over-committed
     * big host), with the same answer. */
    double min_remote = INFINITY;
    for (size_t p = 0; p < k; p++) {
        double r = 0.0;
        for (size_t q = 0; q < k; q++) {
            if (q == p)
                continue;
            r += mem_lo[q] * (np_place_lat(ctx, node[p], node[q]) - 1.0);
        }
        if (!(r < min_remote))
            continue;
        min_remote = r;
        if (!prune_bound_exceeds(ctx, min_cpu, min_util, min_fill, min_remote, min_dev, min_grp,
                                 limit))
            return false;
    }
    return prune_bound_exceeds(ctx, min_cpu, min_util, min_fill, min_remote, min_dev, min_grp,
                               limit);
}

void np_place_score(const np_place_ctx *ctx, np_cand *c)
{
    np_place_score_split(ctx, c->k, c->node, c->vcpus, c->mem_mib, c->term, &c->cost);
}

void np_place_eval(const np_place_ctx *ctx, np_cand *c)
{
    /* Insertion sort: a set has a handful of distinct nodes. */
    for (size_t p = 1; p < c->k; p++) {
        uint32_t v = c->node[p];
        size_t q = p;
        while (q > 0 && c->node[q - 1] > v) {
            c->node[q] = c->node[q - 1];
            q--;
        }
        c->node[q] = v;
    }
    split(ctx, c);
    if (c->reject == NP_REJECT_NONE)
        np_place_score(ctx, c);
    else
        c->cost = INFINITY;
}

bool np_cand_better(const np_cand *a, const np_cand *b)
{
    if (a->cost < b->cost)
        return true;
    if (a->cost > b->cost)
        return false;
    if (a->k != b->k)
        return a->k < b->k;
    for (size_t p = 0; p < a->k; p++)
        if (a->node[p] != b->node[p])
            return a->node[p] < b->node[p];
    return false;
}
