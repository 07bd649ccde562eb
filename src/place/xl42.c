/*
 * place/xl42.c - a faithful model of the NUMA placement libxl has done at
 * domain creation since Xen 4.2 (libxl__get_numa_candidate() and
 * numa_cmpf(); docs/placement.md walks through it with examples).
 *
 * Kept as the baseline numaplace is measured against, blind spots
 * included: it ignores distances, devices, real CPU load, claims of
 * creations in flight and balloon maxima, because libxl does.
 *
 *   - gives up on hosts with at most 1 or more than 16 nodes, and when no
 *     candidate exists ("NUMA placement failed"): the domain keeps
 *     all-node affinity and Xen stripes its memory over every node;
 *   - suitable nodes: those with a CPU (no cpupools modelled: all CPUs are
 *     in the domain's pool);
 *   - min_nodes = ceil(vcpus / cpus_per_node) when count_cpus_per_node()
 *     finds every node equal, else 1. libxl's loop sets cpus_per_node from
 *     the first node with CPUs and gives up (0) on the next node that
 *     differs, so leading CPU-less nodes are skipped but later ones turn
 *     the shortcut off; modelled as is;
 *   - every k-combination of suitable nodes in lexicographic order of node
 *     index, k from min_nodes up; the first k with a valid candidate ends
 *     the search;
 *   - valid: free memory of the set >= the memory need, and CPUs of the
 *     set >= vcpus. Free memory is what Xen reports per node: the measured
 *     free figure when the host state has one, else total - reserved -
 *     populated (claims and balloon head-room are invisible to libxl). The
 *     need is libxl__domain_need_memory() for a PV guest: memory + 1 MiB
 *     (LIBXL_PV_EXTRA_MEMORY), rounded up to 2 MiB;
 *   - better: fewer nr_vcpus, then more free memory; strictly better
 *     replaces, so the first found wins ties. nr_vcpus of a node counts
 *     each vCPU of each guest at most once when its hard affinity has a
 *     CPU on the node and the node is in the guest's node affinity (Xen's
 *     automatic rule: the nodes of the union of hard & soft masks, or of
 *     hard alone when that is empty). An unpinned guest counts on every
 *     node. The guest being created exists already when libxl counts
 *     (unpinned, all nodes), so its vCPUs add vcpus to every node, as in
 *     libxl's debug log ("nr_vcpus=4" for a 2-vCPU guest beside a 2-vCPU
 *     dom0).
 *
 * Not modelled: libxl's 32-bit KiB sum of free memory (it wraps above
 * 4 TiB per candidate) and numa_cmpf's int-truncated difference; 64-bit
 * arithmetic is used instead.
 *
 * The result: memory split evenly over the chosen nodes (Xen's allocator
 * round-robins over a domain's node affinity; a node that runs out passes
 * its stripe on), all vCPUs with one mask, the union of the nodes' CPUs:
 * pinned (hard, Xen 4.2) or preferred (soft, Xen 4.5+) as the spec says.
 * libxl builds no vNUMA layout. The cost reported is numaplace's objective
 * of this split, so both policies are measured with one ruler.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hoststate_int.h"
#include "place/policy_int.h"
#include "util/error.h"
#include "util/text.h"

/* libxl refuses to enumerate candidates above this many nodes. */
#define XL42_MAX_NODES 16u
/* LIBXL_PV_EXTRA_MEMORY, KiB, and the 2 MiB rounding of the need. */
#define XL42_PV_EXTRA_KIB UINT64_C(1024)
#define XL42_NEED_ALIGN_KIB UINT64_C(2048)
/* Runners-up kept for the explanation. */
#define XL42_MAX_ALTS NP_PLACE_MAX_ALTS

typedef struct xl42_cand {
    size_t k;
    uint32_t node[XL42_MAX_NODES];
    uint64_t free_kib;
    uint32_t nr_cpus;
    uint64_t nr_vcpus;
} xl42_cand;

typedef struct xl42 {
    const np_host_state *st;
    const np_topology *topo;
    const np_guest_spec *spec;
    size_t n;
    uint64_t free_kib[XL42_MAX_NODES];
    uint64_t vcpus_on_node[XL42_MAX_NODES];
    bool suitable[XL42_MAX_NODES];
} xl42;

/* libxl's numa_cmpf: negative when a is better. */
static int xl42_cmp(const xl42_cand *a, const xl42_cand *b)
{
    if (a->nr_vcpus != b->nr_vcpus)
        return a->nr_vcpus < b->nr_vcpus ? -1 : 1;
    if (a->free_kib != b->free_kib)
        return a->free_kib > b->free_kib ? -1 : 1;
    return 0;
}

static int xl42_init(xl42 *x, const np_host_state *st, const np_guest_spec *spec)
{
    np_node_load loads[XL42_MAX_NODES];
    int rc;

    x->st = st;
    x->topo = np_host_state_topology(st);
    x->spec = spec;
    x->n = np_topology_nr_nodes(x->topo);
    rc = np_host_state_node_loads(st, loads);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < x->n; i++) {
        /* Xen's per-node free figure: blind to claims and balloon
         * head-room, as libxl is. */
        uint64_t free_bytes = np_hs_node_free_now_bytes(st, i, loads[i].mem_populated_bytes);
        x->free_kib[i] = free_bytes / 1024;
        x->suitable[i] = np_topology_node(x->topo, i)->nr_cpus > 0;
        /* the domain being built: unpinned, node affinity all */
        x->vcpus_on_node[i] = x->suitable[i] ? spec->vcpus : 0;
    }
    /* the guests already there: the host state keeps Xen's count as
     * guests come, go and change masks (the rule at the top of this file,
     * np_hs_xen_vcpus in model/hoststate.c), so a decision does not walk
     * every guest's vCPUs */
    uint64_t running[XL42_MAX_NODES];
    rc = np_hs_xen_vcpus(st, running);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < x->n; i++)
        if (x->suitable[i])
            x->vcpus_on_node[i] += running[i];
    return 0;
}

/* count_cpus_per_node() as libxl writes it (see the top of the file). */
static uint32_t cpus_per_node(const xl42 *x)
{
    uint32_t per = 0;
    for (size_t i = 0; i < x->n; i++) {
        uint32_t cur = np_topology_node(x->topo, i)->nr_cpus;
        per = per == 0 ? cur : per;
        if (per != cur)
            return 0;
    }
    return per;
}

/* Splits maxmem evenly (whole MiB) over the set, as Xen's allocator
 * round-robins over the domain's node affinity. A node passes its stripe on
 * when it runs out: first to the set's nodes with room left, then (Xen's
 * allocator falls back to any node once the affinity nodes are full; libxl
 * checked only the memory target, not maxmem, nor claims and balloon
 * head-room) to the host's other nodes, most room first. The room is
 * what the node really has available (ctx->avail_mib), so memory never
 * lands above free. vCPUs in proportion to the CPUs of the chosen set, none
 * on a node the memory spilled to. Returns false when the whole host lacks
 * the memory (the creation fails). out->node ends ascending. */
static bool xl42_split(const xl42 *x, const np_place_ctx *ctx, const xl42_cand *c, np_cand *out)
{
    double w[XL42_MAX_NODES], wc[XL42_MAX_NODES];
    uint64_t units[XL42_MAX_NODES], mem_mib[XL42_MAX_NODES];
    uint64_t got[XL42_MAX_NODES] = {0};
    uint32_t vc[XL42_MAX_NODES] = {0};
    bool in_set[XL42_MAX_NODES] = {false};
    for (size_t p = 0; p < c->k; p++) {
        w[p] = 1.0;
        wc[p] = (double)np_topology_node(x->topo, c->node[p])->nr_cpus;
        in_set[c->node[p]] = true;
    }
    np_split_largest_remainder(ctx->mem_mib, w, c->k, mem_mib);
    np_split_largest_remainder(x->spec->vcpus, wc, c->k, units);
    uint64_t over = 0;
    for (size_t p = 0; p < c->k; p++) {
        uint64_t cap = ctx->avail_mib[c->node[p]];
        uint64_t m = mem_mib[p] < cap ? mem_mib[p] : cap;
        got[c->node[p]] = m;
        vc[c->node[p]] = (uint32_t)units[p];
        over += mem_mib[p] - m;
    }
    /* pass 0: the set's nodes; pass 1: every other node */
    for (int pass = 0; pass < 2 && over > 0; pass++) {
        while (over > 0) {
            size_t best = x->n;
            uint64_t best_room = 0;
            for (size_t i = 0; i < x->n; i++) {
                if (in_set[i] != (pass == 0))
                    continue;
                uint64_t room = ctx->avail_mib[i] > got[i] ? ctx->avail_mib[i] - got[i] : 0;
                if (room > best_room) {
                    best_room = room;
                    best = i;
                }
            }
            if (best == x->n)
                break;
            uint64_t put = over < best_room ? over : best_room;
            got[best] += put;
            over -= put;
        }
    }
    out->k = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (!in_set[i] && got[i] == 0)
            continue;
        out->node[out->k] = (uint32_t)i;
        out->mem_mib[out->k] = got[i];
        out->vcpus[out->k] = vc[i];
        out->k++;
    }
    return over == 0;
}

/* numaplace's objective of xl42's split of a candidate; INFINITY when
 * the host lacks the memory. */
static double objective(const xl42 *x, const np_place_ctx *ctx, const xl42_cand *c,
                        np_cand *out)
{
    out->reject = NP_REJECT_NONE;
    if (!xl42_split(x, ctx, c, out)) {
        out->reject = NP_REJECT_MEMORY;
        out->cost = INFINITY;
        return out->cost;
    }
    np_place_score(ctx, out);
    return out->cost;
}

static void format_nodes_mib(char *buf, size_t len, uint64_t kib)
{
    snprintf(buf, len, "%llu MiB", (unsigned long long)(kib / 1024));
}

int np_policy_xl42(np_place_call *call)
{
    const np_host_state *st = call->st;
    const np_guest_spec *spec = call->spec;
    const np_place_ctx *ctx = &call->ctx;
    np_placement **out = &call->pl;
    np_error *err = call->err;
    xl42 x;
    xl42_cand best, alts[XL42_MAX_ALTS];
    size_t nr_alts = 0;
    np_placement *pl = NULL;
    char note[NP_PLACE_NOTE_MAX];
    int rc = 0;

    size_t n = np_topology_nr_nodes(np_host_state_topology(st));
    if (n <= 1)
        return np_place_fallback(st, spec, "xl42",
                                 "libxl skips placement on a host with a single node",
                                 call->explain, out, err);
    if (n > XL42_MAX_NODES) {
        note[0] = '\0';
        if (call->explain)
            snprintf(note, sizeof(note),
                     "libxl skips placement on hosts with more than %u nodes (this one has %zu)",
                     XL42_MAX_NODES, n);
        return np_place_fallback(st, spec, "xl42", note, call->explain, out, err);
    }
    rc = xl42_init(&x, st, spec);
    if (rc < 0)
        return rc;

    size_t suit[XL42_MAX_NODES], nr_suit = 0;
    for (size_t i = 0; i < n; i++)
        if (x.suitable[i])
            suit[nr_suit++] = i;
    uint64_t mem_kib = spec->mem_bytes / 1024 + (spec->mem_bytes % 1024 ? 1 : 0);
    uint64_t need_kib = mem_kib + XL42_PV_EXTRA_KIB;
    if (need_kib % XL42_NEED_ALIGN_KIB)
        need_kib += XL42_NEED_ALIGN_KIB - need_kib % XL42_NEED_ALIGN_KIB;
    uint32_t per = cpus_per_node(&x);
    size_t min_nodes = per ? (spec->vcpus + per - 1) / per : 1;
    if (min_nodes > nr_suit)
        min_nodes = nr_suit;
    if (min_nodes == 0)
        min_nodes = 1;

    bool found = false;
    for (size_t k = min_nodes; k <= nr_suit && !found; k++) {
        size_t pos[XL42_MAX_NODES];
        for (size_t i = 0; i < k; i++)
            pos[i] = i;
        do {
            xl42_cand c = {.k = k};
            for (size_t i = 0; i < k; i++) {
                size_t node = suit[pos[i]];
                c.node[i] = (uint32_t)node;
                c.free_kib += x.free_kib[node];
                c.nr_cpus += np_topology_node(x.topo, node)->nr_cpus;
                c.nr_vcpus += x.vcpus_on_node[node];
            }
            if (c.free_kib < need_kib || c.nr_cpus < spec->vcpus)
                continue;
            if (!found) {
                best = c;
                found = true;
                continue;
            }
            if (xl42_cmp(&c, &best) < 0) { /* strictly better: the old best loses */
                xl42_cand prev = best;
                best = c;
                c = prev;
            }
            /* keep the runners-up in libxl's order (stable: earlier first) */
            size_t at = nr_alts;
            while (at > 0 && xl42_cmp(&c, &alts[at - 1]) < 0)
                at--;
            if (at < XL42_MAX_ALTS) {
                size_t last = nr_alts < XL42_MAX_ALTS ? nr_alts : XL42_MAX_ALTS - 1;
                memmove(&alts[at + 1], &alts[at], (last - at) * sizeof(alts[0]));
                alts[at] = c;
                if (nr_alts < XL42_MAX_ALTS)
                    nr_alts++;
            }
        } while (np_comb_next(pos, k, nr_suit));
    }
    if (!found) {
        char need[32];
        snprintf(note, sizeof(note),
                 "NUMA placement failed, performance might be affected: no set of nodes has "
                 "%s free and %u CPUs",
                 np_format_bytes(need_kib * 1024, need, sizeof(need)), spec->vcpus);
        return np_place_fallback(st, spec, "xl42", note, call->explain, out, err);
    }

    np_place_ctx_no_vnuma(&call->ctx); /* libxl builds no vNUMA layout */
    np_cand *cand = malloc(sizeof(*cand));
    if (!cand) {
        rc = -ENOMEM;
        goto out;
    }
    if (isinf(objective(&x, ctx, &best, cand))) {
        np_search none; /* no runners-up to name: the whole host lacks it */
        free(cand);
        np_search_init(&none);
        rc = np_place_no_fit(ctx, &none, err);
        goto out;
    }
    np_guest_spec flat = *spec;
    flat.vnuma_nodes = NP_VNUMA_OFF; /* libxl builds no layout */
    rc = np_placement_build_union(st, &flat, "xl42", cand->k, cand->node, cand->mem_mib,
                                  cand->vcpus, &pl);
    if (rc < 0) {
        free(cand);
        goto out;
    }
    pl->cost = cand->cost;
    for (size_t i = 0; i < NP_TERM_COUNT; i++)
        pl->terms[pl->nr_terms++] = (np_place_term){np_place_term_names[i], cand->term[i]};
    pl->terms[pl->nr_terms++] = (np_place_term){"libxl_nr_vcpus", (double)best.nr_vcpus};
    pl->terms[pl->nr_terms++] = (np_place_term){"libxl_free_mib", (double)(best.free_kib / 1024)};
    if (!call->explain)
        nr_alts = 0; /* the runners-up and the note are explanation only */
    for (size_t a = 0; a < nr_alts && rc == 0; a++) {
        char why[160], fa[32], fb[32];
        if (alts[a].nr_vcpus != best.nr_vcpus) {
            snprintf(why, sizeof(why), "libxl: nr_vcpus %llu > %llu",
                     (unsigned long long)alts[a].nr_vcpus, (unsigned long long)best.nr_vcpus);
        } else if (alts[a].free_kib != best.free_kib) {
            format_nodes_mib(fa, sizeof(fa), alts[a].free_kib);
            format_nodes_mib(fb, sizeof(fb), best.free_kib);
            snprintf(why, sizeof(why), "libxl: free memory %s < %s", fa, fb);
        } else {
            snprintf(why, sizeof(why), "libxl: tie, found later");
        }
        double cost = objective(&x, ctx, &alts[a], cand);
        rc = np_placement_add_alt(pl, x.topo, alts[a].node, alts[a].k, cost, why);
    }
    free(cand);
    if (rc < 0)
        goto out;
    if (call->explain)
        snprintf(pl->note, sizeof(pl->note),
                 "libxl: %zu node(s), %u cpus, nr_vcpus=%llu, %llu MiB free", best.k,
                 best.nr_cpus, (unsigned long long)best.nr_vcpus,
                 (unsigned long long)(best.free_kib / 1024));
    *out = pl;
    pl = NULL;
out:
    np_placement_destroy(pl);
    return rc;
}
