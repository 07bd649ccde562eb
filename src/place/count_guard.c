/*
 * place/count_guard.c - numaplace's choice checked against the peers' by
 * the standard metrics (np_place_count_guard, policy_int.h).
 *
 * numaplace's objective places by CPU *demand*: an idle vCPU costs it
 * little, so it may pile vCPUs onto a node a count-balancing policy (xl42:
 * fewest vCPUs per node) would keep lower. A reviewer counts vCPUs per CPU
 * (a vCPU is a vCPU, idle or busy: idle guests can wake together), and
 * remote-weighted distance. The guard makes sure no choice available for
 * the same arrival is better by those measures on both counts:
 *
 *   count   the host's worst vCPUs per CPU after the guest;
 *   rwd     the guest's remote-weighted distance;
 * and, between choices equal by both, the worst vCPUs per CPU over the
 * nodes the guest's vCPUs land on (the one leaving them lower leaves room),
 * counted from 1: up to one vCPU per CPU is no over-commit by the metrics,
 * so below it the own nodes' count does not override the objective (a
 * guest filling idle CPUs on either of two nodes is equal by every figure
 * a reviewer reads, and demand decides which).
 *
 * The choices compared are the search's best, its runners-up, its node set
 * with the vCPUs spread by count (a guest wider than a node), its split
 * with one mask for all vCPUs (guard_build_choice), and what the peers in
 * the policy table that a reviewer compares against (xl42, xapi, numad,
 * least-loaded) decide for
 * this arrival, each laid out as numaplace lays out a split (its vCPU
 * masks per node, its vNUMA layout). When one or
 * more of them *dominate* the search's best (no worse in count and in
 * rwd, better in one, or equal in both and lower on its own nodes past 1 vCPU per CPU), the one
 * with the lowest cost under numaplace's objective among those of them no other of them
 * dominates is returned (guard_pick): demand still decides between choices the metrics cannot
 * tell apart, but never against both. A search's best that is worse in one and
 * better in the other is a trade-off, kept, with its figures in the explanation.
 * Last, a whole guest on one node whose tie (another node, equal by both
 * figures) the metrics count lower goes there when that costs no lost
 * work (guard_tie_count).
 *
 * Worked example: two nodes of 4 CPUs and SLIT 20 between them, node 0
 * holding 6 idle vCPUs (demand 0.1 each), node 1 holding 2 busy ones.
 * A 2-vCPU idle guest: the search takes node 0 (its demand leaves more
 * free cores there): count 8/4 = 2.00, rwd 0. xl42 takes node 1 (fewest
 * vCPUs): count max(6/4, 4/4) = 1.50, rwd 0. xl42's choice dominates, and
 * the guard returns node 1 laid out as numaplace would.
 *
 * Cost: each peer decides once per arrival; the vCPUs already placed, as
 * the metrics and xl42 count them, are running counts the host state keeps
 * (np_hs_vcpu_counts, np_hs_xen_vcpus): O(nodes) to read, not O(guests).
 * The peers run through the policy table as always, but on a copy of this
 * decision's context (np_place_ctx_copy) and without their explanation
 * (np_place_call.explain: no note, runners-up or cost; only their split is
 * read here). Every choice is scored from its split (guard_score_split) and
 * built as a placement only when it is kept, so a decision builds one or
 * two placements, not ten.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place/policy_int.h"
#include "place/std_metrics_int.h"
#include "util/error.h"

/* Figures closer than this compare equal (sums of shares round). */
#define GUARD_EPS 1e-9
/* The least SLIT distance between two nodes when the local one is 10
 * (np_topology_builder_finish refuses a remote one not larger). */
#define GUARD_DMIN 11.0

/* The peers a reviewer compares numaplace against (issue 11), by their
 * names in the policy table. */
static const char *const guard_peers[] = {"xl42", "xapi", "numad", "least-loaded"};
static const char *const peer_choice[] = {"xl42's choice", "xapi's choice", "numad's choice",
                                          "least-loaded's choice"};
#define GUARD_NR_PEERS (sizeof(guard_peers) / sizeof(guard_peers[0]))
_Static_assert(sizeof(peer_choice) == sizeof(guard_peers), "one text per peer");

typedef struct guard_score {
    double host_worst; /* the host's largest vCPUs / CPUs after the guest */
    double own_worst;  /* the same over the nodes the guest's vCPUs use */
    double rwd;        /* the guest's remote-weighted distance */
} guard_score;

typedef struct guard_ctx {
    const np_topology *t;
    size_t n;
    double *base; /* vCPUs per node before the guest */
    double *gw;   /* scratch: the guest's vCPUs per node */
    double *vc;   /* scratch: base + gw */
    double *w;    /* scratch: one vCPU's node weights */
    uint64_t *mem_bytes;        /* scratch: a split's memory per host node */
    np_affinity_mode affinity;  /* the guest's: which masks its vCPUs get */
    uint32_t nr_vcpus;          /* the guest's */
} guard_ctx;

static int cmp_dbl(double a, double b)
{
    return np_place_cmp_dbl(a, b, GUARD_EPS);
}

/* vCPUs per CPU counted from 1: up to one vCPU per CPU is no over-commit
 * by the metrics, so counts below it compare equal. */
static double from_one(double vcpus_per_cpu)
{
    return fmax(1.0, vcpus_per_cpu);
}

bool np_place_guard_dominates(double a_host_worst, double a_own_worst, double a_rwd,
                              double b_host_worst, double b_own_worst, double b_rwd)
{
    int host = cmp_dbl(a_host_worst, b_host_worst), rwd = cmp_dbl(a_rwd, b_rwd);
    if (host > 0 || rwd > 0)
        return false;
    if (host < 0 || rwd < 0)
        return true;
    /* equal by both metrics: the one leaving its own nodes lower, counted
     * from 1 (below one vCPU per CPU there is no over-commit to lower) */
    return cmp_dbl(from_one(a_own_worst), from_one(b_own_worst)) < 0;
}

static bool dominates(const guard_score *a, const guard_score *b)
{
    return np_place_guard_dominates(a->host_worst, a->own_worst, a->rwd, b->host_worst,
                                    b->own_worst, b->rwd);
}

static int guard_score_finish(guard_ctx *g, guard_score *out);

/* The metrics of the host with a split added, laid out as
 * np_placement_build lays it out (the vCPUs numbered node after node, each
 * with its node's CPUs as mask, hard or soft as the guest asks, none with
 * affinity=none), by the rules of std_metrics.c: a vCPU counts on the
 * nodes of its effective mask. Worked out from the split, so a candidate
 * is built as a placement only when it is kept; the sums run in the order
 * the placement's vCPUs would give, so the figures are the same. */
static int guard_score_split(guard_ctx *g, uint32_t k, const uint32_t *node,
                             const uint64_t *mem_mib, const uint32_t *vcpus, guard_score *out)
{
    bool have_w = false;
    uint32_t v = 0;
    memset(g->gw, 0, g->n * sizeof(*g->gw));
    memset(g->mem_bytes, 0, g->n * sizeof(*g->mem_bytes));
    for (uint32_t p = 0; p < k; p++) {
        g->mem_bytes[node[p]] = mem_mib[p] * NP_MiB;
        const np_bitmap *mask = np_topology_node_cpuset(g->t, node[p]);
        const np_bitmap *hard = g->affinity == NP_AFFINITY_HARD ? mask : NULL;
        const np_bitmap *soft = g->affinity == NP_AFFINITY_NONE ? NULL : mask;
        for (uint32_t c = 0; c < vcpus[p] && v < g->nr_vcpus; c++, v++) {
            /* one mask per node (none at all with affinity=none) */
            if (!have_w || (c == 0 && g->affinity != NP_AFFINITY_NONE)) {
                int rc = np_std_mask_weights(g->t, hard, soft, g->w);
                if (rc < 0)
                    return rc;
                have_w = true;
            }
            for (size_t i = 0; i < g->n; i++)
                g->gw[i] += g->w[i];
        }
    }
    if (v != g->nr_vcpus)
        return -EINVAL; /* np_placement_build would leave vCPUs on node 0 */
    return guard_score_finish(g, out);
}

/* The figures from the guest's vCPUs per node (g->gw) and memory per node
 * (g->mem_bytes). */
static int guard_score_finish(guard_ctx *g, guard_score *out)
{
    out->own_worst = 0.0;
    for (size_t i = 0; i < g->n; i++) {
        g->vc[i] = g->base[i] + g->gw[i];
        uint32_t cpus = np_topology_node(g->t, i)->nr_cpus;
        if (g->gw[i] > 0.0 && cpus && g->vc[i] / cpus > out->own_worst)
            out->own_worst = g->vc[i] / cpus;
    }
    out->host_worst = np_std_worst_cpu(g->t, g->vc);
    for (size_t i = 0; i < g->n && g->nr_vcpus; i++)
        g->gw[i] /= g->nr_vcpus;
    double local;
    out->rwd = np_std_rwd(g->t, g->gw, g->mem_bytes, &local);
    return isnan(out->rwd) ? -ENOMEM : 0;
}

/* The metrics of the host with a split added whose vCPUs all get one mask,
 * the union of the split's nodes' CPUs (hard or soft as the guest asks,
 * none with affinity=none), as np_placement_build_union lays it out: each
 * vCPU counts on every node of the union. */
static int guard_score_union(guard_ctx *g, uint32_t k, const uint32_t *node,
                             const uint64_t *mem_mib, guard_score *out)
{
    np_bitmap *all = NULL;
    int rc = np_bitmap_create(&all);
    memset(g->gw, 0, g->n * sizeof(*g->gw));
    memset(g->mem_bytes, 0, g->n * sizeof(*g->mem_bytes));
    for (uint32_t p = 0; p < k && rc == 0; p++) {
        g->mem_bytes[node[p]] = mem_mib[p] * NP_MiB;
        rc = np_bitmap_or(all, np_topology_node_cpuset(g->t, node[p]));
    }
    if (rc == 0)
        rc = np_std_mask_weights(g->t, g->affinity == NP_AFFINITY_HARD ? all : NULL,
                                 g->affinity == NP_AFFINITY_NONE ? NULL : all, g->w);
    np_bitmap_destroy(all);
    if (rc < 0)
        return rc;
    for (uint32_t v = 0; v < g->nr_vcpus; v++)
        for (size_t i = 0; i < g->n; i++)
            g->gw[i] += g->w[i];
    return guard_score_finish(g, out);
}

/* A choice under test: its split (np_cand's arrays) with its cost and
 * terms under numaplace's objective, and how its vCPUs' masks are laid
 * out: per node with the guest's vNUMA layout (numaplace's way), or one
 * mask for all and no layout (the peers' way, union_masks). */
typedef struct guard_choice {
    np_cand c;
    bool union_masks;
} guard_choice;

/* Fills ch's cost and terms as guard_build_choice gives its placement:
 * a one-mask split is priced without a vNUMA layout. */
static void guard_cost(np_place_call *call, guard_choice *ch)
{
    bool vnuma = call->ctx.vnuma;
    if (ch->union_masks)
        np_place_ctx_no_vnuma(&call->ctx);
    np_place_score_split(&call->ctx, ch->c.k, ch->c.node, ch->c.vcpus, ch->c.mem_mib, ch->c.term,
                         &ch->c.cost);
    call->ctx.vnuma = vnuma;
}

static int guard_score_choice(guard_ctx *g, const guard_choice *ch, guard_score *out)
{
    return ch->union_masks ? guard_score_union(g, ch->c.k, ch->c.node, ch->c.mem_mib, out)
                           : guard_score_split(g, ch->c.k, ch->c.node, ch->c.mem_mib,
                                               ch->c.vcpus, out);
}

/* A split laid out as numaplace lays it out (masks per node, vNUMA when
 * the spec asks), with its cost under numaplace's objective. */
static int guard_build(np_place_call *call, size_t k, const uint32_t *node, const uint64_t *mem_mib,
                       const uint32_t *vcpus, np_placement **out)
{
    double term[NP_TERM_COUNT];
    int rc = np_placement_build(call->st, call->spec, call->policy, k, node, mem_mib, vcpus, out);
    if (rc < 0)
        return rc;
    np_place_score_split(&call->ctx, k, node, vcpus, mem_mib, term, &(*out)->cost);
    (*out)->nr_terms = NP_TERM_COUNT;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        (*out)->terms[i] = (np_place_term){np_place_term_names[i], term[i]};
    return 0;
}

/* The placement of a kept choice. A one-mask split (the search's split
 * with one mask for all its vCPUs: how the peers lay a split out) has no
 * vNUMA layout. The metrics count such a vCPU on every node of its mask
 * (a quarter on each of four), so a guest with fewer vCPUs than nodes --
 * its memory wider than its CPUs need, as on nodes of 2 CPUs and 1 GiB --
 * leaves each node fewer vCPUs per CPU at the same distance. It is offered
 * past one vCPU per CPU too: a vCPU pinned to one over-committed node
 * time-shares there only, while one whose mask spans the split's nodes can
 * be run on whichever of their CPUs frees first (the scheduler balances
 * load within a mask, as it does for xl's and xapi's guests, which get one
 * mask over their nodes). Until session 11 it was offered only where no
 * node passed one vCPU per CPU (a floating vCPU's quarter per node was
 * taken for an average the scheduler does not keep); the comparison of
 * both is in docs/placement.md, "Dominated in CPU count (session 11)".
 * What it gives up: the layout's locality (a guest that
 * sees its virtual nodes keeps most accesses on them), which the metrics do
 * not see and the objective does; the guard follows the metrics when they
 * tell two choices apart. Not for a guest that asked for N virtual nodes
 * (vnuma=N), nor for a split on one node (nothing differs). */
static int guard_build_choice(np_place_call *call, const guard_choice *ch, np_placement **out)
{
    if (!ch->union_masks)
        return guard_build(call, ch->c.k, ch->c.node, ch->c.mem_mib, ch->c.vcpus, out);
    np_guest_spec flat = *call->spec;
    flat.vnuma_nodes = NP_VNUMA_OFF;
    int rc = np_placement_build_union(call->st, &flat, call->policy, ch->c.k, ch->c.node,
                                      ch->c.mem_mib, ch->c.vcpus, out);
    if (rc < 0)
        return rc;
    (*out)->cost = ch->c.cost;
    (*out)->nr_terms = NP_TERM_COUNT;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        (*out)->terms[i] = (np_place_term){np_place_term_names[i], ch->c.term[i]};
    return 0;
}

/* A peer's placement as a numaplace split: its nodes, its memory per node,
 * its vCPUs per node (np_placement_build numbers them node after node),
 * with its cost under numaplace's objective. */
static int guard_from_peer(np_place_call *call, const np_placement *ppl, guard_choice *out)
{
    uint32_t *node = out->c.node, *vcpus = out->c.vcpus;
    uint64_t *mem = out->c.mem_mib;
    size_t k = 0;
    for (size_t p = 0; p < ppl->nr_nodes; p++) {
        size_t i = ppl->nodes[p];
        uint32_t nv = 0;
        for (uint32_t v = 0; v < ppl->nr_vcpus; v++)
            nv += ppl->vcpu_node[v] == i;
        uint64_t mib = ppl->node_mem_bytes[i] / NP_MiB;
        if (nv == 0 && mib == 0)
            continue;
        if (k == NP_PLACE_MAX_SET_NODES)
            return -ENOSPC;
        node[k] = (uint32_t)i;
        mem[k] = mib;
        vcpus[k] = nv;
        k++;
    }
    if (k == 0)
        return -ENOSPC;
    out->c.k = (uint32_t)k;
    out->union_masks = false; /* laid out as numaplace lays out a split */
    guard_cost(call, out);
    return 0;
}

/* What the metrics do not see and the guest asked for: its devices' and
 * its group's terms (slowdown units) may not grow. The peers know no
 * groups, and xl42 no devices; a choice that leaves a colocate group or
 * moves away from a passthrough device is not "better on both". */
static bool keeps_constraints(const double *cand_term, const double *own_term)
{
    static const size_t kept[] = {NP_TERM_DEVICE, NP_TERM_GROUP};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (cand_term[kept[i]] > own_term[kept[i]] + GUARD_EPS)
            return false;
    return true;
}

/* Nothing can dominate the search's choice, shown without the peers:
 *
 * (1) A candidate's host worst is never below the host's worst before the
 *     guest: its vCPUs per node are the tally plus non-negative weights.
 *     So when the search's choice leaves the host's worst where it was
 *     (own->host_worst <= base_worst), no candidate is lower by it.
 * (2) rwd is a sum of w_c * share_m * (d(c,m) / 10 - 1) >= 0 (a SLIT is
 *     10 on the diagonal, checked, and np_topology_builder_finish refuses
 *     a distance off it not larger: dmin >= 11). When the search's choice
 *     is all local (rwd exactly 0), no candidate is lower by rwd; one equal
 *     to it within GUARD_EPS must be all local too: a candidate that is
 *     not (memory on two nodes or more, or a vCPU weight off the one node
 *     holding the memory) has rwd >= (dmin / 10 - 1) * (1 - sum_c w_c *
 *     share_c) >= (dmin / 10 - 1) * min(1 / mem_mib, 1 / (vcpus * cpus)),
 *     as memory comes in whole MiB and a vCPU's weight on a node is a
 *     whole number of its mask's CPUs over their count; that bound is
 *     checked to exceed GUARD_EPS.
 * (3) So a dominating candidate could only tie on both and leave its own
 *     nodes lower, counted from 1: all local on one node c, its own worst
 *     is (base_c + vcpus) / cpus_c, at least the lowest of these over the
 *     CPU nodes. When the search's own worst, from 1, is no higher than
 *     that lowest from 1 (within GUARD_EPS), no candidate dominates it:
 *     the runners-up and the peers are not asked.
 */
static bool guard_unbeatable(const guard_ctx *g, const np_place_ctx *ctx, const guard_score *own)
{
    double base_worst = np_std_worst_cpu(g->t, g->base);
    if (own->rwd != 0.0 || own->host_worst > base_worst || ctx->mem_mib == 0 || ctx->vcpus == 0)
        return false;
    uint64_t cpus_total = 0;
    double low = INFINITY;
    for (size_t i = 0; i < g->n; i++) {
        uint32_t cpus = np_topology_node(g->t, i)->nr_cpus;
        cpus_total += cpus;
        if (cpus && (g->base[i] + (double)ctx->vcpus) / cpus < low)
            low = (g->base[i] + (double)ctx->vcpus) / cpus;
        if (np_topology_distance(g->t, i, i) != 10)
            return false; /* (2) takes the SLIT's 10 on the diagonal */
    }
    if (g->n > 1) {
        double frac =
            fmin(1.0 / (double)ctx->mem_mib, 1.0 / ((double)ctx->vcpus * (double)cpus_total));
        if (!((GUARD_DMIN / 10.0 - 1.0) * frac > 2.0 * GUARD_EPS))
            return false;
    }
    return from_one(own->own_worst) <= from_one(low) + GUARD_EPS;
}

/* The search's node set with its vCPUs spread by count rather than by
 * demand: one at a time to the node whose vCPUs per CPU would be lowest
 * after it (ties to the earlier node), so a guest wider than a node does
 * not stack its vCPUs on the node already holding idle ones; its memory
 * follows the vCPUs (in proportion, whole MiB) when every node has room
 * for its part, else stays as the search split it. -ENOSPC when the
 * result is the search's own split. */
static int guard_count_split(np_place_call *call, const guard_ctx *g, const np_cand *b,
                             guard_choice *out)
{
    const np_place_ctx *ctx = &call->ctx;
    uint64_t *mem = out->c.mem_mib;
    uint32_t *vcpus = out->c.vcpus;
    double w[NP_PLACE_MAX_SET_NODES];
    uint64_t part[NP_PLACE_MAX_SET_NODES];
    bool same = true;
    for (uint32_t p = 0; p < b->k; p++)
        vcpus[p] = 0;
    for (uint32_t v = 0; v < ctx->vcpus; v++) {
        uint32_t at = b->k;
        double low = INFINITY;
        for (uint32_t p = 0; p < b->k; p++) {
            uint32_t cpus = np_topology_node(g->t, b->node[p])->nr_cpus;
            if (!cpus)
                continue;
            double after = (g->base[b->node[p]] + vcpus[p] + 1) / cpus;
            if (after < low - GUARD_EPS) {
                low = after;
                at = p;
            }
        }
        if (at == b->k)
            return -ENOSPC;
        vcpus[at]++;
    }
    for (uint32_t p = 0; p < b->k; p++) {
        same = same && vcpus[p] == b->vcpus[p];
        w[p] = vcpus[p];
    }
    if (same)
        return -ENOSPC;
    np_split_largest_remainder(ctx->mem_mib, w, b->k, part);
    bool room = true;
    for (uint32_t p = 0; p < b->k; p++)
        room = room && part[p] <= ctx->avail_mib[b->node[p]];
    for (uint32_t p = 0; p < b->k; p++) {
        mem[p] = room ? part[p] : b->mem_mib[p];
        out->c.node[p] = b->node[p];
    }
    out->c.k = b->k;
    out->union_masks = false;
    guard_cost(call, out);
    return 0;
}

/* The whole guest on node i, priced: its memory and vCPUs there. */
static void guard_whole_choice(np_place_call *call, size_t i, guard_choice *ch)
{
    ch->c.k = 1;
    ch->union_masks = false;
    ch->c.node[0] = (uint32_t)i;
    ch->c.vcpus[0] = call->ctx.vcpus;
    ch->c.mem_mib[0] = call->ctx.mem_mib;
    guard_cost(call, ch);
}

/* Whether node i has CPUs, a guest may use them and its available memory
 * holds the whole guest's. */
static bool holds_whole(const np_place_ctx *ctx, const guard_ctx *g, size_t i)
{
    return ctx->has_cpus[i] && np_topology_node(g->t, i)->nr_cpus &&
           ctx->avail_mib[i] >= ctx->mem_mib;
}

/* How high (vCPUs per CPU, from 1) the whole guest of v vCPUs may leave
 * node i, cap being max(1, the chosen placement's host worst); 0 when it
 * may not go there. Within cap, always. Past cap by at most the guest's
 * own vCPUs when the guest fits the node's CPUs, the node before the
 * guest is no busier than cap, and the node after it no higher than
 * next_level: the host's level after one more arrival of the same size
 * (next_level(); 0, so never, when the chosen placement does not split
 * the guest's *vCPUs* over several nodes). Such a split
 * holds the host's worst count below the whole guest's by less than one
 * arrival on a host whose nodes are all near one level: the next arrivals
 * fill the other nodes and take the difference back, while the split's
 * distance stays as long as the guest does. */
static double whole_limit(const guard_ctx *g, size_t i, uint32_t v, double cap,
                          double next_level)
{
    uint32_t cpus = np_topology_node(g->t, i)->nr_cpus;
    if (!cpus)
        return 0.0;
    double after = from_one((g->base[i] + (double)v) / cpus);
    if (after <= cap + GUARD_EPS)
        return cap;
    if (v > cpus || g->base[i] / cpus > cap + GUARD_EPS)
        return 0.0;
    return after <= next_level + GUARD_EPS ? after : 0.0;
}

/* The host's vCPUs per CPU after the guest of v vCPUs and one more of its
 * size (whole_limit's level); 0 when the chosen placement does not split
 * the guest's vCPUs (no whole guest past its count then). Once per
 * decision: the same for every node. */
static double next_level(const guard_ctx *g, uint32_t v, bool vcpus_split)
{
    double all_vcpus = 2.0 * (double)v;
    uint64_t all_cpus = 0;
    if (!vcpus_split)
        return 0.0;
    for (size_t j = 0; j < g->n; j++) {
        all_vcpus += g->base[j];
        all_cpus += np_topology_node(g->t, j)->nr_cpus;
    }
    return all_cpus ? all_vcpus / (double)all_cpus : 0.0;
}

/* Whole before split. The metrics count a vCPU per logical CPU (a second
 * hyper-thread is a CPU to them) and up to one vCPU per CPU is no
 * over-commit at all; the objective may still split a guest across nodes
 * to keep its demand off busy cores' sibling threads (cpu_overcommit). A
 * split always has a distance above 0, so when one node holds the whole
 * guest -- its memory within the node's available memory, and its vCPUs
 * leaving that node at most at max(1, the chosen placement's host worst)
 * vCPUs per CPU -- the whole guest there is at least as good by the
 * count (counted from 1) and better by distance, and is returned instead.
 * Among such nodes: the lowest vCPUs per CPU after the guest, counted
 * from 1 (the count balanced as the metrics count it: below one vCPU per
 * CPU there is no over-commit to balance), then the objective's cost.
 * Not applied when the chosen placement is already on one node, when the
 * node would raise the device or group term (constraints the guest asked
 * for), or when the whole guest is not nearer by distance (affinity=none:
 * its vCPUs count on every node wherever its memory is). *out is NULL
 * when no node qualifies. Past max(1, the host worst), up to the level
 * one more arrival of the guest's size brings, when the chosen placement
 * splits the guest's vCPUs (whole_limit). */
static int guard_whole_node(np_place_call *call, guard_ctx *g, const double *chosen_term,
                            const guard_score *chosen_score, bool vcpus_split,
                            np_placement **out, guard_score *out_score)
{
    const np_place_ctx *ctx = &call->ctx;
    double cap = fmax(1.0, chosen_score->host_worst);
    *out = NULL;
    if (chosen_score->rwd == 0.0 || ctx->vcpus == 0)
        return 0;
    double level = next_level(g, ctx->vcpus, vcpus_split);
    /* Nodes in layers of equal vCPUs per CPU after the guest (from 1),
     * lowest first: only the first layer with an acceptable node is built
     * and scored (a decision on 256 nodes builds the nodes of one layer). */
    double floor_after = -INFINITY;
    while (!*out) {
        double low = INFINITY;
        for (size_t i = 0; i < g->n; i++) {
            uint32_t cpus = np_topology_node(g->t, i)->nr_cpus;
            double after = cpus ? from_one((g->base[i] + (double)ctx->vcpus) / cpus) : INFINITY;
            if (holds_whole(ctx, g, i) &&
                whole_limit(g, i, ctx->vcpus, cap, level) > 0.0 &&
                after > floor_after + GUARD_EPS && after < low)
                low = after;
        }
        if (low == INFINITY)
            break;
        for (size_t i = 0; i < g->n; i++) {
            if (!holds_whole(ctx, g, i) ||
                cmp_dbl(from_one((g->base[i] + (double)ctx->vcpus) /
                                 np_topology_node(g->t, i)->nr_cpus),
                        low) != 0)
                continue;
            guard_choice ch; /* not zeroed: a kilobyte per node, one entry used */
            guard_whole_choice(call, i, &ch);
            np_placement *cand = NULL;
            guard_score sc;
            if (!keeps_constraints(ch.c.term, chosen_term) ||
                guard_score_split(g, 1, ch.c.node, ch.c.mem_mib, ch.c.vcpus, &sc) < 0 ||
                from_one(sc.host_worst) >
                    whole_limit(g, i, ctx->vcpus, cap, level) + GUARD_EPS ||
                cmp_dbl(sc.rwd, chosen_score->rwd) >= 0 ||
                (*out && (cmp_dbl(from_one(sc.own_worst), from_one(out_score->own_worst)) > 0 ||
                          (cmp_dbl(from_one(sc.own_worst), from_one(out_score->own_worst)) == 0 &&
                           !(ch.c.cost < (*out)->cost)))))
                continue;
            /* built only now it is kept (one node: nothing but memory can
             * make the build fail) */
            int rc = guard_build(call, 1, ch.c.node, ch.c.mem_mib, ch.c.vcpus, &cand);
            if (rc == -ENOMEM)
                return rc;
            if (rc < 0)
                continue;
            np_placement_destroy(*out);
            *out = cand;
            *out_score = sc;
        }
        floor_after = low;
    }
    return 0;
}

/* Among ties, the node the metrics count lowest. When the chosen placement
 * holds the whole guest on one node, all local, every other node that
 * takes the whole guest (memory within its available, the guest's vCPUs
 * fitting its CPUs) without raising the host's worst vCPUs per CPU past
 * the chosen's is a choice equal by both figures the metrics read. Below
 * one vCPU per CPU the dominance rule calls them equal, and the objective
 * picks among them by its headroom term (utilisation: CPU demand), so a
 * guest may land on a node holding more vCPUs than another while the
 * other stays lower: every later guest then starts from a host whose
 * counts are less level than they need be, and the host's worst count,
 * which is the most loaded node's, rises sooner (the pairs classed
 * "equal" in docs/placement.md, "Ties at the first divergence"). Here
 * the tie goes to the node whose vCPUs per CPU after the guest are
 * lowest: the rule the count is judged by (least loaded first keeps the
 * largest node the lowest it can be, whatever arrives next), applied
 * only between choices equal by distance and host worst. Demand still
 * bounds it: a node is taken only when the guest's CPU-overcommit term
 * there (its demand past free cores, lost work) is no higher than on the
 * chosen node and its device and group terms do not grow; so a guest is
 * moved only between nodes equal by the metrics and by lost work, and the
 * headroom term, a tie-break by its own name, gives way. Between nodes of
 * equal count, the lowest cost. *out is NULL when no node is counted lower
 * than the chosen one. */
static int guard_tie_count(np_place_call *call, guard_ctx *g, const np_placement *chosen,
                           const double *chosen_term, const guard_score *chosen_score,
                           np_placement **out, guard_score *out_score)
{
    const np_place_ctx *ctx = &call->ctx;
    *out = NULL;
    if (chosen->nr_nodes != 1 || chosen_score->rwd != 0.0 || ctx->vcpus == 0 ||
        g->affinity == NP_AFFINITY_NONE)
        return 0;
    size_t at = chosen->nodes[0];
    for (uint32_t v = 0; v < chosen->nr_vcpus; v++)
        if (chosen->vcpu_node[v] != at)
            return 0;
    double level = chosen_score->host_worst, v = (double)ctx->vcpus;
    uint32_t at_cpus = np_topology_node(g->t, at)->nr_cpus;
    if (!at_cpus)
        return 0;
    double best_after = (g->base[at] + v) / at_cpus; /* the chosen node's count after */
    double best_cost = INFINITY;
    uint32_t pick = UINT32_MAX;
    guard_choice ch; /* not zeroed: one entry used */
    for (size_t i = 0; i < g->n; i++) {
        uint32_t cpus = np_topology_node(g->t, i)->nr_cpus;
        if (i == at || !holds_whole(ctx, g, i) || ctx->vcpus > cpus)
            continue;
        double after = (g->base[i] + v) / cpus;
        int c = cmp_dbl(after, best_after);
        if (after > level + GUARD_EPS || c > 0 || (c == 0 && pick == UINT32_MAX))
            continue;
        guard_whole_choice(call, i, &ch);
        if (!keeps_constraints(ch.c.term, chosen_term) ||
            ch.c.term[NP_TERM_CPU_OVER] > chosen_term[NP_TERM_CPU_OVER] + GUARD_EPS ||
            (c == 0 && !(ch.c.cost < best_cost)))
            continue;
        best_after = after;
        best_cost = ch.c.cost;
        pick = (uint32_t)i;
    }
    if (pick == UINT32_MAX)
        return 0;
    guard_whole_choice(call, pick, &ch);
    guard_score sc;
    int rc = guard_score_split(g, 1, ch.c.node, ch.c.mem_mib, ch.c.vcpus, &sc);
    if (rc < 0)
        return rc == -ENOMEM ? rc : 0;
    /* the figures, computed in full, must tie the chosen's (or better them) */
    if (cmp_dbl(sc.rwd, chosen_score->rwd) > 0 ||
        cmp_dbl(sc.host_worst, chosen_score->host_worst) > 0)
        return 0;
    rc = guard_build(call, 1, ch.c.node, ch.c.mem_mib, ch.c.vcpus, out);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        *out = NULL; /* one node: nothing but memory makes the build fail */
    else
        *out_score = sc;
    return 0;
}

/* The choices that dominate the search's: at most its runners-up, its
 * nodes spread by count, its one-mask split and the peers' choices. */
#define GUARD_MAX_KEPT (NP_PLACE_MAX_ALTS + 2u + GUARD_NR_PEERS)

typedef struct guard_kept {
    guard_choice ch;
    guard_score sc;
    const char *from;
} guard_kept;

/* Records ch in kept[] when it dominates the search's choice (own) and
 * keeps its constraints. Nothing is built yet (guard_pick chooses). */
static void guard_keep(guard_ctx *g, const double *own_term, const guard_score *own,
                       const guard_choice *ch, const char *from, guard_kept *kept,
                       size_t *nr_kept)
{
    guard_score sc;
    if (*nr_kept == GUARD_MAX_KEPT || !keeps_constraints(ch->c.term, own_term) ||
        guard_score_choice(g, ch, &sc) < 0 || !dominates(&sc, own))
        return;
    kept[*nr_kept].ch = *ch;
    kept[*nr_kept].sc = sc;
    kept[*nr_kept].from = from;
    (*nr_kept)++;
}

/* Which of the recorded choices is returned: one that no other recorded
 * choice dominates (by the same figures the search's choice was beaten
 * on), the cheapest of those under numaplace's objective (the first
 * recorded among equal costs). The guard's promise is that no choice it
 * looked at for this arrival is better by both metrics than the one
 * returned; the cheapest dominating choice alone does not keep it (gen:12,
 * 8080-03-big-wide, arrival 18: the search's 10 vCPUs over 9 nodes, worst
 * 1.19 per CPU, distance 1.15; numad's 9 nodes 1.06 and 1.10, cost 0.60;
 * xapi's 2 close nodes 1.06 and 0.10, cost 0.81 -- numad's was returned,
 * dominated by xapi's). Domination is a strict partial order, so a choice
 * no other dominates always exists. SIZE_MAX when none was recorded. */
static size_t guard_pick(const guard_kept *kept, size_t nr_kept)
{
    size_t pick = SIZE_MAX;
    for (size_t i = 0; i < nr_kept; i++) {
        bool beaten = false;
        for (size_t j = 0; j < nr_kept && !beaten; j++)
            beaten = j != i && dominates(&kept[j].sc, &kept[i].sc);
        if (!beaten && (pick == SIZE_MAX || kept[i].ch.c.cost < kept[pick].ch.c.cost))
            pick = i;
    }
    return pick;
}

int np_place_count_guard(np_place_call *call)
{
    const np_place_ctx *ctx = &call->ctx;
    guard_ctx g = {.t = ctx->topo, .n = ctx->n};
    np_placement *own = NULL, *best = NULL, *ppl = NULL, *cand = NULL;
    guard_choice *ch = NULL; /* one choice under test at a time */
    guard_kept *kept = NULL; /* the choices that dominate the search's */
    size_t nr_kept = 0;
    const char *best_from = NULL;
    bool tie = false; /* best only ties the search's choice (guard_tie_count) */
    guard_score own_score, best_score = {0}, whole_score;
    double own_term[NP_TERM_COUNT], chosen_term[NP_TERM_COUNT];
    int rc;

    if (!call->s.found)
        return 0;
    g.affinity = call->spec->affinity;
    g.nr_vcpus = call->spec->vcpus;
    g.base = calloc(g.n, sizeof(double));
    g.gw = calloc(g.n, sizeof(double));
    g.vc = calloc(g.n, sizeof(double));
    g.w = calloc(g.n, sizeof(double));
    g.mem_bytes = calloc(g.n, sizeof(*g.mem_bytes));
    ch = malloc(sizeof(*ch));
    kept = malloc(GUARD_MAX_KEPT * sizeof(*kept));
    if (!g.base || !g.gw || !g.vc || !g.w || !g.mem_bytes || !ch || !kept) {
        rc = -ENOMEM;
        goto out;
    }
    rc = np_std_tally(call->st, g.base, NULL);
    if (rc < 0)
        goto out;
    const np_cand *b = &call->s.best;
    rc = np_placement_build(call->st, call->spec, call->policy, b->k, b->node, b->mem_mib, b->vcpus,
                            &own);
    if (rc == 0)
        rc = np_placement_explain(own, ctx, &call->s);
    if (rc == 0)
        rc = guard_score_split(&g, b->k, b->node, b->mem_mib, b->vcpus, &own_score);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        own_term[i] = own->terms[i].value;
    /* nothing dominates it: only the tie-break among equals is left */
    if (guard_unbeatable(&g, ctx, &own_score))
        goto ties;

    /* the search's runners-up (from the search under the same limits
     * as its best, so they build as it did) */
    for (size_t a = 0; a < call->s.nr_alts; a++) {
        np_cand_copy(&ch->c, &call->s.alts[a]);
        ch->union_masks = false;
        guard_cost(call, ch);
        guard_keep(&g, own_term, &own_score, ch, "a runner-up", kept, &nr_kept);
    }
    /* the same nodes, vCPUs spread by count */
    if (guard_count_split(call, &g, b, ch) == 0)
        guard_keep(&g, own_term, &own_score, ch, "its nodes with vCPUs spread by count",
                   kept, &nr_kept);
    /* the search's split with one mask for all its vCPUs (not on one node,
     * where nothing differs, nor for a guest that asked for N virtual
     * nodes) */
    if (!(b->k < 2 || call->spec->vnuma_nodes > 0)) {
        np_cand_copy(&ch->c, b);
        ch->union_masks = true;
        guard_cost(call, ch);
        guard_keep(&g, own_term, &own_score, ch, "its split with one mask for all vCPUs", kept,
                   &nr_kept);
    }
    /* the peers' choices for this arrival */
    for (size_t p = 0; p < GUARD_NR_PEERS; p++) {
        const np_place_policy *peer = np_place_policy_find(guard_peers[p]);
        np_error perr = {0};
        if (!peer)
            continue;
        /* only the peer's split is read here: no note, runners-up or cost;
         * its context is a copy of this decision's */
        rc = np_place_run(call->st, call->spec, peer, NULL, false, ctx, &ppl, &perr);
        if (rc == -ENOMEM)
            goto out;
        if (rc < 0) { /* the peer cannot place it: nothing to compare */
            rc = 0;
            continue;
        }
        rc = guard_from_peer(call, ppl, ch);
        np_placement_destroy(ppl);
        ppl = NULL;
        if (rc == 0)
            guard_keep(&g, own_term, &own_score, ch, peer_choice[p], kept, &nr_kept);
        rc = 0; /* not a split numaplace lays out: nothing to compare */
    }
    /* built only now: the choice no other dominates, cheapest under the
     * objective; one that does not build (only a lack of memory ends the
     * decision) leaves the record and the pick is made again */
    for (size_t pick; (pick = guard_pick(kept, nr_kept)) != SIZE_MAX;) {
        rc = guard_build_choice(call, &kept[pick].ch, &best);
        if (rc == -ENOMEM)
            goto out;
        if (rc == 0) {
            best_score = kept[pick].sc;
            best_from = kept[pick].from;
            break;
        }
        kept[pick] = kept[--nr_kept];
        rc = 0;
    }

    /* whole before split, over whichever choice stands */
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        chosen_term[i] = best ? best->terms[i].value : own_term[i];
    const np_placement *chosen_pl = best ? best : own;
    bool vcpus_split = false;
    for (uint32_t v = 1; v < chosen_pl->nr_vcpus && !vcpus_split; v++)
        vcpus_split = chosen_pl->vcpu_node[v] != chosen_pl->vcpu_node[0];
    rc = guard_whole_node(call, &g, chosen_term, best ? &best_score : &own_score, vcpus_split,
                          &cand, &whole_score);
    if (rc < 0)
        goto out;
    if (cand) {
        np_placement_destroy(best);
        best = cand;
        cand = NULL;
        best_score = whole_score;
        best_from = "the whole guest on one node within its CPUs";
    }
ties:
    /* among the ties of whichever choice stands, the node counted lowest */
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        chosen_term[i] = best ? best->terms[i].value : own_term[i];
    rc = guard_tie_count(call, &g, best ? best : own, chosen_term, best ? &best_score : &own_score,
                        &cand, &whole_score);
    if (rc < 0)
        goto out;
    if (cand) {
        tie = !best;
        np_placement_destroy(best);
        best = cand;
        cand = NULL;
        best_score = whole_score;
        best_from = "the node counted lowest among equal choices";
    }
    if (!best) {
        call->pl = own;
        own = NULL;
        goto out;
    }
    /* the search's choice becomes the first runner-up, with both figures */
    char why[160] = "";
    if (call->explain)
        snprintf(why, sizeof(why),
                 "worst vCPUs/CPU %.2f (own nodes %.2f), distance %.3f: %s %s",
                 own_score.host_worst, own_score.own_worst, own_score.rwd,
                 tie ? "equal to" : "dominated by", best_from);
    np_place_alt_rec keep[NP_PLACE_MAX_ALTS + NP_PLACE_MAX_REJECTS];
    size_t nr_keep = own->nr_alts;
    memcpy(keep, own->alts, nr_keep * sizeof(keep[0]));
    own->nr_alts = 0; /* the bitmaps move to best */
    rc = np_placement_add_alt(best, ctx->topo, b->node, b->k, b->cost, why);
    for (size_t i = 0; i < nr_keep; i++) {
        if (rc == 0 && best->nr_alts < sizeof(best->alts) / sizeof(best->alts[0]))
            best->alts[best->nr_alts++] = keep[i];
        else
            np_bitmap_destroy(keep[i].nodes_os);
    }
    if (rc < 0)
        goto out;
    if (call->explain)
        snprintf(best->note, sizeof(best->note),
                 "count guard: %s, worst vCPUs/CPU %.2f (own nodes %.2f) and distance %.3f, "
                 "against the search's %.2f (%.2f) and %.3f",
                 best_from, best_score.host_worst, best_score.own_worst, best_score.rwd,
                 own_score.host_worst, own_score.own_worst, own_score.rwd);
    call->pl = best;
    best = NULL;
out:
    np_placement_destroy(own);
    np_placement_destroy(best);
    np_placement_destroy(ppl);
    np_placement_destroy(cand);
    free(g.base);
    free(g.gw);
    free(g.vc);
    free(g.w);
    free(g.mem_bytes);
    free(ch);
    free(kept);
    return rc;
}
