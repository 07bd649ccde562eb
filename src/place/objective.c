/*
 * place/objective.c - numaplace's objective: how a node set splits a
 * guest's memory and vCPUs, and what that costs.
 *
 * The split. Each node with CPUs gets a share in proportion to how much of
 * the guest it can take: the smaller of its free memory over the guest's
 * memory and its free CPU room (up to the utilisation target) over the
 * guest's demand. vCPUs and memory follow the same shares, so each vCPU's
 * memory is local as far as the shares allow; memory a node cannot hold
 * spills to the nodes of the set with most room left, CPU nodes first and
 * CPU-less (CXL, HBM) nodes last. Whole MiB, summing to the guest's
 * balloon maximum: the balloon can always inflate back.
 *
 * The cost (lower is better), each term a dimensionless figure around 0..1
 * before its weight; docs/placement.md gives the reasoning:
 *   cpu_load      sum_i w_i (u_i + u'_i) / 2        mean utilisation, before
 *                                                   and after, where the vCPUs go
 *   cpu_overload  sum_i [over'_i - over_i] / demand share of the demand pushed
 *                                                   past the 85% target
 *   mem_pressure  sum_j m_j (f_j + f'_j) / 2        mean fill where memory goes
 *   remote_memory sum_i sum_j w_i m_j x(i, j)       excess distance of vCPU to
 *                                                   memory accesses (uniform)
 *   device        sum_i (w_i + m_i) / 2 dev_i       excess distance to devices
 *   group         sum_i (w_i + m_i) / 2 grp_i       colocate / spread
 * with w_i the node's share of vCPUs, m_j its share of memory, and
 * x(i, j) = (d(i, j) - d(j, j)) / d(j, j) (0 local, 1.1 for SLIT 21).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/hoststate_int.h"
#include "place/place_int.h"

const char *const np_place_term_names[NP_TERM_COUNT] = {
    "cpu_load", "cpu_overload", "mem_pressure", "remote_memory", "device", "group",
};

void np_split_largest_remainder(uint64_t total, const double *weights, size_t k, uint64_t *out)
{
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += weights[i];
    if (k == 0)
        return;
    if (!(sum > 0.0)) { /* no weights: even split */
        for (size_t i = 0; i < k; i++)
            out[i] = total / k + (i < total % k ? 1 : 0);
        return;
    }
    uint64_t given = 0;
    for (size_t i = 0; i < k; i++) {
        out[i] = (uint64_t)floor((double)total * (weights[i] / sum));
        if (out[i] > total - given)
            out[i] = total - given;
        given += out[i];
    }
    /* Fewer than k units are left: one each to the largest fractional
     * parts (a position already topped up has out > floor). O(k^2) for
     * the few positions a set has. */
    while (given < total) {
        size_t best = k;
        double best_frac = -1.0;
        for (size_t i = 0; i < k; i++) {
            double exact = (double)total * (weights[i] / sum);
            double fl = floor(exact);
            if ((double)out[i] > fl)
                continue;
            if (exact - (double)out[i] > best_frac) {
                best_frac = exact - (double)out[i];
                best = i;
            }
        }
        if (best == k) /* rounding left more than k units: cannot happen, be safe */
            best = given % k;
        out[best]++;
        given++;
    }
}

/* Free CPU room of a node up to the target, never below the minimum. */
static double cpu_room(const np_node_load *l)
{
    double room = l->cpu_capacity * NP_PLACE_CPU_TARGET_UTIL - l->cpu_demand;
    double floor_room = l->cpu_capacity * NP_PLACE_CPU_MIN_ROOM;
    return room > floor_room ? room : floor_room;
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

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The split described at the top; sets c->reject when it cannot be done. */
static void split(const np_place_ctx *ctx, np_cand *c)
{
    size_t cpu_pos[NP_PLACE_MAX_SET_NODES], less_pos[NP_PLACE_MAX_SET_NODES];
    size_t nr_cpu = 0, nr_less = 0;
    double share[NP_PLACE_MAX_SET_NODES];
    uint64_t units[NP_PLACE_MAX_SET_NODES];

    c->reject = NP_REJECT_NONE;
    c->short_mib = 0;
    for (size_t p = 0; p < c->k; p++) {
        c->vcpus[p] = 0;
        c->mem_mib[p] = 0;
        if (ctx->has_cpus[c->node[p]])
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
    double M = (double)ctx->mem_mib, D = ctx->demand, sum = 0.0;
    for (size_t i = 0; i < nr_cpu; i++) {
        const np_node_load *l = &ctx->load[c->node[cpu_pos[i]]];
        double mem_room = (double)ctx->avail_mib[c->node[cpu_pos[i]]] / M;
        double r = mem_room;
        if (D > 0.0) {
            double cr = cpu_room(l) / D;
            r = cr < r ? cr : r;
        }
        share[i] = r;
        sum += r;
    }
    if (sum <= 0.0) {
        /* No CPU node has free memory (it all goes to CPU-less nodes):
         * spread the vCPUs by CPU room alone. */
        for (size_t i = 0; i < nr_cpu; i++)
            share[i] = cpu_room(&ctx->load[c->node[cpu_pos[i]]]);
    }
    np_split_largest_remainder(ctx->vcpus, share, nr_cpu, units);
    for (size_t i = 0; i < nr_cpu; i++)
        c->vcpus[cpu_pos[i]] = (uint32_t)units[i];
    np_split_largest_remainder(ctx->mem_mib, share, nr_cpu, units);
    uint64_t over = 0;
    for (size_t i = 0; i < nr_cpu; i++) {
        uint64_t avail = ctx->avail_mib[c->node[cpu_pos[i]]];
        uint64_t m = units[i] < avail ? units[i] : avail;
        c->mem_mib[cpu_pos[i]] = m;
        over += units[i] - m;
    }
    over = spill(ctx, c, cpu_pos, nr_cpu, over);
    over = spill(ctx, c, less_pos, nr_less, over);
    if (over > 0) {
        c->reject = NP_REJECT_MEMORY;
        c->short_mib = over;
        return;
    }
    /* CPU-less nodes the memory did not need leave the set (a set is
     * completed with them before its split is known). */
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
    const np_topology *t = ctx->topo;
    double V = (double)ctx->vcpus, M = (double)ctx->mem_mib, D = ctx->demand;
    double term[NP_TERM_COUNT] = {0};

    for (size_t p = 0; p < k; p++) {
        size_t i = node[p];
        const np_node_load *l = &ctx->load[i];
        double w = (double)vcpus[p] / V;
        double mu = M > 0.0 ? (double)mem_mib[p] / M : 0.0;
        if (vcpus[p] > 0 && l->cpu_capacity > 0.0) {
            double add = ctx->vcpu_demand * (double)vcpus[p];
            double before = l->cpu_demand / l->cpu_capacity;
            double after = (l->cpu_demand + add) / l->cpu_capacity;
            term[NP_TERM_CPU_LOAD] += w * (before + after) / 2.0;
            if (D > 0.0) {
                double line = l->cpu_capacity * NP_PLACE_CPU_TARGET_UTIL;
                double over_b = l->cpu_demand > line ? l->cpu_demand - line : 0.0;
                double over_a = l->cpu_demand + add > line ? l->cpu_demand + add - line : 0.0;
                term[NP_TERM_CPU_OVER] += (over_a - over_b) / D;
            }
        }
        if (mem_mib[p] > 0) {
            uint64_t usable_bytes = l->mem_total_bytes > l->mem_reserved_bytes
                                        ? l->mem_total_bytes - l->mem_reserved_bytes
                                        : 0;
            double usable = (double)(usable_bytes / NP_MiB);
            double fill_b = 1.0, fill_a = 1.0;
            if (usable > 0.0) {
                /* signed: a baseline's split may take more than is free */
                fill_b = 1.0 - (double)ctx->avail_mib[i] / usable;
                fill_a = 1.0 - ((double)ctx->avail_mib[i] - (double)mem_mib[p]) / usable;
            }
            term[NP_TERM_MEM] += mu * (fill_b + fill_a) / 2.0;
        }
        if (w > 0.0) {
            for (size_t q = 0; q < k; q++) {
                if (q == p || mem_mib[q] == 0)
                    continue;
                double local = (double)np_topology_distance(t, node[q], node[q]);
                double d = (double)np_topology_distance(t, i, node[q]);
                if (d > local)
                    term[NP_TERM_REMOTE] += w * ((double)mem_mib[q] / M) * (d - local) / local;
            }
        }
        term[NP_TERM_DEVICE] += (w + mu) / 2.0 * ctx->dev_cost[i];
        term[NP_TERM_GROUP] += (w + mu) / 2.0 * ctx->group_cost[i];
    }
    static const double weight[NP_TERM_COUNT] = {
        NP_PLACE_W_CPU_LOAD, NP_PLACE_W_CPU_OVER, NP_PLACE_W_MEM,
        NP_PLACE_W_REMOTE,   NP_PLACE_W_DEVICE,   NP_PLACE_W_GROUP,
    };
    double cost = 0.0;
    for (size_t j = 0; j < NP_TERM_COUNT; j++) {
        term_out[j] = weight[j] * term[j];
        cost += term_out[j];
    }
    *cost_out = cost;
}

void np_place_score(const np_place_ctx *ctx, np_cand *c)
{
    np_place_score_split(ctx, c->k, c->node, c->vcpus, c->mem_mib, c->term, &c->cost);
}

void np_place_eval(const np_place_ctx *ctx, np_cand *c)
{
    qsort(c->node, c->k, sizeof(c->node[0]), cmp_u32);
    split(ctx, c);
    if (c->reject == NP_REJECT_NONE)
        np_place_score(ctx, c);
    else
        c->cost = INFINITY;
}

bool np_cand_same_set(const np_cand *a, const np_cand *b)
{
    return a->k == b->k && memcmp(a->node, b->node, a->k * sizeof(a->node[0])) == 0;
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
