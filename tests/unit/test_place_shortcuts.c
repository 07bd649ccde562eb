/*
 * test_place_shortcuts.c - numaplace's shortcuts (the memo of scored
 * sets, the split-free lower bound, the early exit of the local search)
 * change how much work a decision does, never its answer: the best set,
 * its split and cost, the runners-up and the rejected sets come out the
 * same as from the plain search, on the exhaustive and the growth path,
 * on built-in, generated and random hosts loaded step by step (up to 160
 * nodes: the memo's key in several words). And the
 * bound is a lower bound: it never claims a set costs more than it does.
 *
 * NP_PROPS_SEED replays another sequence.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "np_test.h"
#include "place/place_int.h"
#include "test_place_util.h"

static uint64_t seed(void)
{
    const char *s = getenv("NP_PROPS_SEED");
    return s ? strtoull(s, NULL, 10) | 1 : UINT64_C(0x2545f4914f6cdd1d);
}

/* A random host: n nodes of 0-8 cores (some CPU-less), 2-16 GiB, in
 * sockets (distance 11-16 inside, 20-32 across), a device or two. */
static np_topology *random_host(tp_rng *r, size_t n)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    uint32_t socket[16];
    uint32_t cpu = 0;
    static const uint32_t cores[] = {1, 2, 2, 4, 4, 8};
    static const uint64_t mem_gib[] = {2, 4, 4, 8, 8, 16};
    np_topology_builder_create(&b);
    np_topology_builder_set_name(b, "random");
    for (size_t i = 0; i < n; i++) {
        socket[i] = (uint32_t)tp_below(r, (n + 1) / 2);
        np_topology_builder_add_node(b, (uint32_t)i, mem_gib[tp_below(r, 6)] * GiB, GiB);
        uint32_t nc = i > 0 && tp_below(r, 6) == 0 ? 0 : cores[tp_below(r, 6)];
        for (uint32_t c = 0; c < nc; c++)
            np_topology_builder_add_cpu(b, cpu++, (uint32_t)i, (uint32_t)i, c);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i; j < n; j++) {
            uint32_t d = 10;
            if (i != j)
                d = socket[i] == socket[j] ? 11 + (uint32_t)tp_below(r, 6)
                                           : 20 + (uint32_t)tp_below(r, 13);
            np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, d);
            np_topology_builder_set_distance(b, (uint32_t)j, (uint32_t)i, d);
        }
    }
    for (size_t d = 0; d < tp_below(r, 3); d++) {
        np_pci_info dev = {0};
        dev.bus = (uint8_t)(d + 1);
        np_topology_builder_add_device(b, &dev, (uint32_t)tp_below(r, n));
    }
    if (np_topology_builder_finish(b, &t, &err) < 0)
        fprintf(stderr, "random_host: %s\n", err.msg);
    np_topology_builder_destroy(b);
    return t;
}

/* Guests of every kind: small and large, ballooning, vnuma=N, CPU-less
 * memory allowed, groups, devices, IO nodes. */
static np_guest_spec random_guest(tp_rng *r, const np_topology *t, unsigned id)
{
    char name[32];
    snprintf(name, sizeof(name), "g%u", id);
    uint32_t cpus = (uint32_t)np_topology_nr_cpus(t);
    uint64_t host_mib = np_topology_mem_total_bytes(t) / MiB;
    uint64_t mem = tp_below(r, 8) == 0 ? host_mib / 3 + tp_below(r, host_mib / 3)
                                       : 256 + tp_below(r, host_mib / 8 + 1);
    np_guest_spec s = tp_guest(name, 1 + (uint32_t)tp_below(r, cpus / 3 + 1), mem);
    if (tp_below(r, 4) == 0)
        s.maxmem_bytes = s.mem_bytes + tp_below(r, mem) * MiB;
    s.cpu_demand = tp_unit(r);
    s.affinity = (np_affinity_mode)tp_below(r, 3);
    if (tp_below(r, 5) == 0)
        s.vnuma_nodes = 1 + (int32_t)tp_below(r, 4);
    s.allow_cpuless_memory = tp_below(r, 3) == 0;
    if (tp_below(r, 4) == 0) {
        snprintf(s.group, sizeof(s.group), "grp%u", (unsigned)tp_below(r, 2));
        s.group_rule = tp_below(r, 2) ? NP_GROUP_COLOCATE : NP_GROUP_SPREAD;
        s.group_weight = 1 + (uint32_t)tp_below(r, 100);
    }
    if (np_topology_nr_devices(t) && tp_below(r, 4) == 0) {
        s.nr_devices = 1;
        np_pci_format_bdf(np_topology_device(t, tp_below(r, np_topology_nr_devices(t))),
                          s.devices[0], sizeof(s.devices[0]));
    }
    if (tp_below(r, 6) == 0)
        s.io_node_os_id = (int32_t)np_topology_node(t, tp_below(r, np_topology_nr_nodes(t)))->os_id;
    return s;
}

static bool same_cand(const np_cand *a, const np_cand *b, bool split)
{
    if (a->k != b->k || a->reject != b->reject || a->short_mib != b->short_mib)
        return false;
    if (!(a->cost == b->cost || (isinf(a->cost) && isinf(b->cost))))
        return false;
    for (uint32_t p = 0; p < a->k; p++) {
        if (a->node[p] != b->node[p])
            return false;
        if (split && (a->vcpus[p] != b->vcpus[p] || a->mem_mib[p] != b->mem_mib[p]))
            return false;
    }
    return true;
}

/* Both searches' complete outcome. */
static bool same_search(const np_search *a, const np_search *b)
{
    if (a->found != b->found || a->nr_alts != b->nr_alts || a->nr_rejects != b->nr_rejects)
        return false;
    if (a->found && !same_cand(&a->best, &b->best, true))
        return false;
    for (size_t i = 0; i < a->nr_alts; i++)
        if (!same_cand(&a->alts[i], &b->alts[i], true))
            return false;
    for (size_t i = 0; i < a->nr_rejects; i++)
        if (!same_cand(&a->rejects[i], &b->rejects[i], false))
            return false;
    return true;
}

typedef struct tally {
    unsigned decisions, differ;
    uint64_t scored_plain, scored_short;
} tally;

/* One decision both ways, on the exhaustive and the growth path. */
static void compare(tally *t, const np_host_state *st, const np_guest_spec *s)
{
    np_place_ctx ctx;
    static np_search plain, quick; /* ~10 KiB each */
    if (np_place_ctx_init(&ctx, st, s) < 0)
        return;
    for (unsigned path = 0; path < 2; path++) {
        unsigned limit = path ? 0 : NP_PLACE_EXHAUSTIVE_MAX_SETS;
        np_numaplace_opts o_plain = {.exhaustive_max_sets = limit, .no_shortcuts = true};
        np_numaplace_opts o_quick = {.exhaustive_max_sets = limit};
        np_search_init(&plain);
        np_search_init(&quick);
        int a = np_place_numaplace(&ctx, &o_plain, &plain);
        int b = np_place_numaplace(&ctx, &o_quick, &quick);
        t->decisions++;
        t->scored_plain += plain.evaluated;
        t->scored_short += quick.evaluated;
        if (a != b || !same_search(&plain, &quick)) {
            if (t->differ++ < 5)
                fprintf(stderr, "%s: guest %s (%s path): the shortcuts changed the answer\n",
                        np_topology_name(ctx.topo), s->name, path ? "growth" : "exhaustive");
        }
    }
    np_place_ctx_fini(&ctx);
}

/* Loads a host guest by guest (placed by numaplace, committed), comparing
 * every decision on the way. */
static void run_host(tally *t, tp_rng *r, np_topology *topo, unsigned guests)
{
    np_host_state *st = tp_state(topo);
    if (!st)
        return;
    for (unsigned id = 0; id < guests; id++) {
        np_guest_spec s = random_guest(r, np_host_state_topology(st), id);
        compare(t, st, &s);
        np_placement *pl = NULL;
        size_t g;
        if (np_place(st, &s, "numaplace", &pl, NULL) == 0 && tp_below(r, 5) != 0 &&
            np_placement_commit(st, &s, pl, &g) == 0 && tp_below(r, 2))
            np_host_state_populate(st, g);
        np_placement_destroy(pl);
    }
    np_host_state_destroy(st);
}

static void test_shortcuts_change_nothing(void)
{
    tally t = {0};
    tp_rng r = {seed()};
    static const char *const builtins[] = {"small-2n", "sparse-3n", "2s-2n",     "4s-4n",
                                           "cxl-4n",   "epyc-8n",   "opteron-8n"};
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        np_topology *topo = NULL;
        ASSERT_EQ(np_topology_builtin(builtins[i], &topo, NULL), 0);
        run_host(&t, &r, topo, 40);
    }
    for (size_t nodes = 6; nodes <= 16; nodes += 5) {
        np_topo_gen g;
        np_topology *topo = NULL;
        np_topo_gen_init(&g, nodes, 4, UINT64_C(16) << 30);
        ASSERT_EQ(np_topology_generate(&g, &topo, NULL), 0);
        run_host(&t, &r, topo, 60);
    }
    for (unsigned h = 0; h < 40; h++)
        run_host(&t, &r, random_host(&r, 2 + (size_t)tp_below(&r, 11)), 15);
    printf("shortcuts: %u decisions, %llu sets scored plain, %llu with shortcuts\n",
           t.decisions, (unsigned long long)t.scored_plain, (unsigned long long)t.scored_short);
    ASSERT_TRUE(t.decisions > 1000);
    ASSERT_EQ(t.differ, 0);
    /* and they do save work: fewer than two thirds of the sets scored */
    ASSERT_TRUE(t.scored_short * 3 < t.scored_plain * 2);
}

/* The same on hosts of more than 64 nodes, where the memo's key takes
 * more than one 64-bit word (2 and 3 words here): growth path only. */
static void test_shortcuts_change_nothing_big(void)
{
    tally t = {0};
    tp_rng r = {seed() ^ UINT64_C(0x9e3779b9)};
    static const size_t sizes[] = {72, 160};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        np_topo_gen g;
        np_topology *topo = NULL;
        np_topo_gen_init(&g, sizes[i], 4, UINT64_C(16) << 30);
        ASSERT_EQ(np_topology_generate(&g, &topo, NULL), 0);
        run_host(&t, &r, topo, 25);
    }
    printf("shortcuts, big hosts: %u decisions, %llu sets scored plain, %llu with shortcuts\n",
           t.decisions, (unsigned long long)t.scored_plain, (unsigned long long)t.scored_short);
    ASSERT_TRUE(t.decisions >= 100);
    ASSERT_EQ(t.differ, 0);
    ASSERT_TRUE(t.scored_short < t.scored_plain);
}

/* np_place_cannot_beat(set, c) must be false when the set costs c; with
 * half its cost as the limit it must sometimes be true. */
static void test_bound_is_a_lower_bound(void)
{
    tp_rng r = {seed() ^ UINT64_C(0x5bd1e995)};
    unsigned checked = 0, claimed_wrong = 0, pruned_at_half = 0;
    for (unsigned h = 0; h < 60; h++) {
        np_host_state *st = tp_state(random_host(&r, 2 + (size_t)tp_below(&r, 11)));
        const np_topology *topo = np_host_state_topology(st);
        size_t n = np_topology_nr_nodes(topo);
        for (unsigned id = 0; id < 12; id++) {
            np_guest_spec s = random_guest(&r, topo, id);
            np_place_ctx ctx;
            if (np_place_ctx_init(&ctx, st, &s) < 0)
                continue;
            for (unsigned trial = 0; trial < 40; trial++) {
                np_cand c;
                c.k = 0;
                for (size_t i = 0; i < n; i++)
                    if (ctx.has_cpus[i] && tp_below(&r, 3) == 0)
                        c.node[c.k++] = (uint32_t)i;
                if (c.k < 2)
                    continue;
                uint32_t set[NP_PLACE_MAX_SET_NODES];
                memcpy(set, c.node, c.k * sizeof(set[0]));
                np_place_eval(&ctx, &c);
                if (c.reject != NP_REJECT_NONE)
                    continue;
                checked++;
                claimed_wrong += np_place_cannot_beat(&ctx, set, c.k, c.cost);
                pruned_at_half += np_place_cannot_beat(&ctx, set, c.k, c.cost / 2);
            }
            np_place_ctx_fini(&ctx);
            np_placement *pl = NULL;
            size_t g;
            if (np_place(st, &s, "numaplace", &pl, NULL) == 0 &&
                np_placement_commit(st, &s, pl, &g) == 0)
                np_host_state_populate(st, g);
            np_placement_destroy(pl);
        }
        np_host_state_destroy(st);
    }
    printf("bound: %u feasible sets, %u pruned at half their cost\n", checked, pruned_at_half);
    ASSERT_TRUE(checked > 1000);
    ASSERT_EQ(claimed_wrong, 0);
    ASSERT_TRUE(pruned_at_half * 4 > checked);
}

/* np_split_largest_remainder as it was written first, one unit at a time:
 * floors, then one more unit to the largest remainder left, the lower
 * position on ties, until the total is reached. */
static void split_one_at_a_time(uint64_t total, const double *w, size_t k, uint64_t *out)
{
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += w[i];
    uint64_t given = 0;
    for (size_t i = 0; i < k; i++) {
        out[i] = (uint64_t)floor((double)total * (w[i] / sum));
        if (out[i] > total - given)
            out[i] = total - given;
        given += out[i];
    }
    while (given < total) {
        size_t best = k;
        double best_frac = -1.0;
        for (size_t i = 0; i < k; i++) {
            double exact = (double)total * (w[i] / sum);
            if ((double)out[i] > floor(exact))
                continue;
            if (exact - (double)out[i] > best_frac) {
                best_frac = exact - (double)out[i];
                best = i;
            }
        }
        out[best]++;
        given++;
    }
}

/* The selection that gives the leftover units (objective.c) picks the
 * positions the one-at-a-time loop picks, ties included: weights from a
 * few values (many equal remainders) and from a continuous range, every
 * set size up to the largest, totals from vCPU counts to MiB. */
static void test_largest_remainder_same_as_one_at_a_time(void)
{
    tp_rng r = {seed() ^ UINT64_C(0x9e3779b97f4a7c15)};
    static const uint64_t totals[] = {1, 3, 7, 64, 1000, 4096, 65536, 1u << 30};
    unsigned checked = 0, differ = 0;
    for (unsigned trial = 0; trial < 4000; trial++) {
        size_t k = 2 + (size_t)tp_below(&r, NP_PLACE_MAX_SET_NODES - 1);
        double w[NP_PLACE_MAX_SET_NODES];
        bool few = trial % 2 == 0;
        for (size_t i = 0; i < k; i++)
            w[i] = few ? (double)(1 + tp_below(&r, 3)) : (double)(1 + tp_below(&r, 1000000)) / 7.0;
        uint64_t total = totals[tp_below(&r, sizeof(totals) / sizeof(totals[0]))];
        uint64_t got[NP_PLACE_MAX_SET_NODES], want[NP_PLACE_MAX_SET_NODES];
        np_split_largest_remainder(total, w, k, got);
        split_one_at_a_time(total, w, k, want);
        checked++;
        differ += memcmp(got, want, k * sizeof(got[0])) != 0;
    }
    printf("largest remainder: %u splits, %u differ\n", checked, differ);
    ASSERT_EQ(differ, 0);
}

int main(void)
{
    NP_RUN(test_shortcuts_change_nothing);
    NP_RUN(test_shortcuts_change_nothing_big);
    NP_RUN(test_bound_is_a_lower_bound);
    NP_RUN(test_largest_remainder_same_as_one_at_a_time);
    return np_test_summary();
}
