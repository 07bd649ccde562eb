/*
 * place/oracle_metrics.c - an exhaustive placement under the standard
 * metrics (np_place_oracle_metrics, place.h), to check numaplace's model.
 *
 * The "oracle" policy searches every node subset under numaplace's own
 * objective, so it can only show that the search finds that objective's
 * best. This one searches under the metrics a reviewer uses: where the two
 * disagree on a host, the objective, not the search, is what differs. It is
 * greedy per arrival, as every policy is: best for this guest given the
 * guests already there, not best over the whole mix.
 *
 * The candidates on a host of n <= NP_PLACE_ORACLE_METRICS_MAX_NODES nodes
 * are the pairs (S, T): S a node subset, T a non-empty subset of S's nodes
 * with CPUs (3^n pairs at most: 6561 for 8 nodes). The vCPUs go to T in
 * proportion to its nodes' CPUs; memory follows the vCPUs (a node's share
 * of the memory is its share of the vCPUs), each node capped at what it
 * has available, and what does not fit goes to the other nodes of S
 * nearest to the vCPUs first. A pair whose nodes cannot hold the memory
 * does not fit. Among those that fit the best is, in order: memory within
 * free at start on every node, the least worst CPU over-commit of the host,
 * the least remote-weighted distance of the guest, the fewest nodes, the
 * lowest (S, T) (bit i = node i), so the answer is deterministic.
 * Over-commit counts only above 1 (vCPUs up to the node's CPUs is no
 * over-commit at all): without the floor, spreading every guest over every
 * node would always "win". It is compared twice: the host's worst, then the
 * worst among the subset's own nodes (so a node already over-committed
 * elsewhere does not make every candidate equal).
 * Worked example: 24 vCPUs on an empty host of four 12-CPU nodes with SLIT
 * 20 inside the pairs {0,1} {2,3} and 30 across: {0} alone has over-commit
 * 2.0; {0,1} 12+12 vCPUs, over-commit 1.0, half the memory on each node,
 * distance 0.5 * (20/10 - 1) = 0.5; {0,1,2} 8+8+8 vCPUs, over-commit 0.67
 * (counts as 1.0), distance (1 + 1 + 4/3) / 3 = 1.11; {0,1,2,3} 1.0 and
 * 1.25. The oracle takes {0,1}.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "place/place_int.h"
#include "place/std_metrics_int.h"
#include "util/error.h"

/* Doubles closer than this compare equal, so rounding in a sum never
 * decides between two candidates that are the same by the metrics. */
#define ORACLE_METRICS_EPS 1e-9
/* vCPUs per CPU up to which a node is not over-committed at all. */
#define ORACLE_METRICS_NO_OVERCOMMIT 1.0

typedef struct om_score {
    bool fits;
    double mem_over_free, cpu_over, own_over, rwd;
    unsigned k;
    unsigned set, vset;
} om_score;

/* -1 when a is better than b. */
static int cmp_dbl(double a, double b)
{
    return np_place_cmp_dbl(a, b, ORACLE_METRICS_EPS);
}

static int om_cmp(const om_score *a, const om_score *b)
{
    if (a->fits != b->fits)
        return a->fits ? -1 : 1;
    bool a_within = a->mem_over_free <= 1.0 + ORACLE_METRICS_EPS;
    bool b_within = b->mem_over_free <= 1.0 + ORACLE_METRICS_EPS;
    if (a_within != b_within)
        return a_within ? -1 : 1;
    int c = cmp_dbl(a->cpu_over, b->cpu_over);
    if (c == 0)
        c = cmp_dbl(a->own_over, b->own_over);
    if (c == 0)
        c = cmp_dbl(a->rwd, b->rwd);
    if (c == 0 && a->k != b->k)
        c = a->k < b->k ? -1 : 1;
    if (c == 0 && a->set != b->set)
        c = a->set < b->set ? -1 : 1;
    if (c == 0 && a->vset != b->vset)
        c = a->vset < b->vset ? -1 : 1;
    return c;
}

typedef struct om_ctx {
    const np_topology *t;
    size_t n;
    uint32_t vcpus;
    uint64_t mib, mem_bytes, maxmem_bytes;
    bool cpuless_ok;
    const double *base_vcpus;
    const uint64_t *base_mem, *freeb;
    const np_node_load *loads;
    /* scratch, one entry per node */
    double *w, *vc, *gw;
    uint64_t *units, *mem_mib, *add, *tot;
} om_ctx;

/* Lay the guest out on subset `set` with its vCPUs on `vset`; the memory
 * in MiB per node in c->mem_mib and vCPUs in c->units. Returns false when
 * it does not fit. */
static bool om_layout(om_ctx *c, unsigned set, unsigned vset)
{
    size_t n = c->n;
    double cpus = 0.0;
    for (size_t i = 0; i < n; i++) {
        bool in = vset & (1u << i);
        c->w[i] = in ? (double)np_topology_node(c->t, i)->nr_cpus : 0.0;
        cpus += c->w[i];
        c->mem_mib[i] = 0;
    }
    if (cpus == 0.0)
        return false;
    np_split_largest_remainder(c->vcpus, c->w, n, c->units);
    for (size_t i = 0; i < n; i++)
        c->w[i] = (double)c->units[i];
    np_split_largest_remainder(c->mib, c->w, n, c->mem_mib);
    uint64_t over = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t avail = c->loads[i].mem_available_bytes / NP_MiB;
        if (c->mem_mib[i] > avail) {
            over += c->mem_mib[i] - avail;
            c->mem_mib[i] = avail;
        }
    }
    /* overflow: the subset's nodes nearest to the vCPUs (vCPU-weighted
     * distance), ties to the lower index */
    while (over > 0) {
        size_t best = n;
        double best_d = INFINITY;
        for (size_t m = 0; m < n; m++) {
            if (!(set & (1u << m)) || c->loads[m].mem_available_bytes / NP_MiB <= c->mem_mib[m])
                continue;
            double d = 0.0;
            for (size_t v = 0; v < n; v++)
                d += (double)c->units[v] * np_topology_distance(c->t, v, m);
            if (d < best_d) {
                best_d = d;
                best = m;
            }
        }
        if (best == n)
            return false;
        uint64_t room = c->loads[best].mem_available_bytes / NP_MiB - c->mem_mib[best];
        uint64_t put = over < room ? over : room;
        c->mem_mib[best] += put;
        over -= put;
    }
    return true;
}

static void om_score_set(om_ctx *c, unsigned set, unsigned vset, om_score *s)
{
    size_t n = c->n;
    memset(s, 0, sizeof(*s));
    s->set = set;
    s->vset = vset;
    s->fits = om_layout(c, set, vset);
    if (!s->fits)
        return;
    for (size_t i = 0; i < n; i++)
        s->k += c->mem_mib[i] > 0 || c->units[i] > 0; /* nodes actually used */
    /* memory the guest populates at start, in proportion to its share of
     * the maximum on each node (what np_placement_commit claims) */
    for (size_t i = 0; i < n; i++) {
        double part = c->maxmem_bytes ? (double)(c->mem_mib[i] * NP_MiB) * (double)c->mem_bytes /
                                            (double)c->maxmem_bytes
                                      : 0.0;
        c->add[i] = (uint64_t)part;
        c->tot[i] = c->base_mem[i] + c->add[i];
        c->vc[i] = c->base_vcpus[i] + (double)c->units[i];
        c->gw[i] = c->vcpus ? (double)c->units[i] / c->vcpus : 0.0;
    }
    double local;
    s->mem_over_free = np_std_worst_mem(c->t, c->freeb, c->tot);
    s->cpu_over = fmax(ORACLE_METRICS_NO_OVERCOMMIT, np_std_worst_cpu(c->t, c->vc));
    s->own_over = ORACLE_METRICS_NO_OVERCOMMIT;
    for (size_t i = 0; i < n; i++) {
        uint32_t cpus = np_topology_node(c->t, i)->nr_cpus;
        if (c->units[i] && cpus && c->vc[i] / cpus > s->own_over)
            s->own_over = c->vc[i] / cpus;
    }
    s->rwd = np_std_rwd(c->t, c->gw, c->add, &local);
}

int np_place_oracle_metrics(const np_host_state *st, const np_guest_spec *spec,
                            const uint64_t *free_at_start_bytes, np_placement **out, np_error *err)
{
    om_ctx c = {0};
    double *base_vcpus = NULL;
    uint64_t *base_mem = NULL, *freeb = NULL;
    np_node_load *loads = NULL;
    uint32_t *node = NULL, *vc32 = NULL;
    uint64_t *mem = NULL;
    int rc;

    if (!st || !spec || !out)
        return -EINVAL;
    c.t = np_host_state_topology(st);
    c.n = np_topology_nr_nodes(c.t);
    rc = np_guest_spec_validate(spec, c.t, err);
    if (rc < 0)
        return rc;
    if (c.n > NP_PLACE_ORACLE_METRICS_MAX_NODES) {
        np_error_set(err, NULL, 0,
                     "the metrics oracle tries every node subset: at most %u nodes, host %s "
                     "has %zu",
                     NP_PLACE_ORACLE_METRICS_MAX_NODES, np_topology_name(c.t), c.n);
        return -E2BIG;
    }
    size_t n = c.n;
    base_vcpus = calloc(n, sizeof(*base_vcpus));
    base_mem = calloc(n, sizeof(*base_mem));
    freeb = calloc(n, sizeof(*freeb));
    loads = calloc(n, sizeof(*loads));
    node = calloc(n, sizeof(*node));
    vc32 = calloc(n, sizeof(*vc32));
    mem = calloc(n, sizeof(*mem));
    c.w = calloc(n, sizeof(double));
    c.vc = calloc(n, sizeof(double));
    c.gw = calloc(n, sizeof(double));
    c.units = calloc(n, sizeof(uint64_t));
    c.mem_mib = calloc(n, sizeof(uint64_t));
    c.add = calloc(n, sizeof(uint64_t));
    c.tot = calloc(n, sizeof(uint64_t));
    if (!base_vcpus || !base_mem || !freeb || !loads || !node || !vc32 || !mem || !c.w || !c.vc ||
        !c.gw || !c.units || !c.mem_mib || !c.add || !c.tot) {
        rc = -ENOMEM;
        goto out;
    }
    if (free_at_start_bytes)
        memcpy(freeb, free_at_start_bytes, n * sizeof(*freeb));
    else
        np_std_free_at_start(st, freeb);
    rc = np_std_tally(st, base_vcpus, base_mem);
    if (rc == 0)
        rc = np_host_state_node_loads(st, loads);
    if (rc < 0)
        goto out;
    c.vcpus = spec->vcpus;
    c.maxmem_bytes = np_guest_spec_maxmem_bytes(spec);
    c.mem_bytes = spec->mem_bytes;
    c.mib = c.maxmem_bytes / NP_MiB + (c.maxmem_bytes % NP_MiB ? 1 : 0);
    /* CPU-less memory: a remote tier like any other, as numaplace sees it
     * (context.c), unless the guest refused it */
    c.cpuless_ok = !spec->cpuless_memory_refused;
    c.base_vcpus = base_vcpus;
    c.base_mem = base_mem;
    c.freeb = freeb;
    c.loads = loads;

    om_score best = {0}, cur;
    bool have = false;
    for (unsigned set = 1; set < (1u << n); set++) {
        bool skip = false;
        for (size_t i = 0; i < n && !skip; i++)
            skip = (set & (1u << i)) && np_topology_node(c.t, i)->nr_cpus == 0 &&
                   (!c.cpuless_ok || np_topology_node(c.t, i)->mem_total_bytes == 0);
        if (skip)
            continue;
        unsigned with_cpus = 0;
        for (size_t i = 0; i < n; i++)
            if ((set & (1u << i)) && np_topology_node(c.t, i)->nr_cpus > 0)
                with_cpus |= 1u << i;
        /* every non-empty subset of the set's nodes with CPUs */
        for (unsigned vset = with_cpus; vset; vset = (vset - 1) & with_cpus) {
            om_score_set(&c, set, vset, &cur);
            if (cur.fits && (!have || om_cmp(&cur, &best) < 0)) {
                best = cur;
                have = true;
            }
        }
    }
    if (!have) {
        rc = np_error_set(err, NULL, 0, "guest %s fits on no node subset of %s", spec->name,
                          np_topology_name(c.t));
        rc = -ENOSPC;
        goto out;
    }
    /* the winner's layout again, as a placement */
    om_layout(&c, best.set, best.vset);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (c.mem_mib[i] == 0 && c.units[i] == 0)
            continue;
        node[k] = (uint32_t)i;
        mem[k] = c.mem_mib[i];
        vc32[k] = (uint32_t)c.units[i];
        k++;
    }
    rc = np_placement_build(st, spec, "oracle-metrics", k, node, mem, vc32, out);
    if (rc == 0)
        (*out)->cost = best.rwd;
out:
    free(base_vcpus);
    free(base_mem);
    free(freeb);
    free(loads);
    free(node);
    free(vc32);
    free(mem);
    free(c.w);
    free(c.vc);
    free(c.gw);
    free(c.units);
    free(c.mem_mib);
    free(c.add);
    free(c.tot);
    return rc;
}
