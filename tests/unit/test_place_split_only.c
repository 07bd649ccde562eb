/* A policy run without its explanation (np_place_call's explain = false,
 * what the count guard asks of its peers) decides the same split as the
 * explained run: same return code, nodes, memory per node, node of every
 * vCPU and masks, under every policy in the table, on random hosts
 * carrying residents (2 to 20 nodes, so xl42 and xapi also take their
 * fallbacks past 16), and leaves the note empty (the text it skips).
 * And a context copied from one a search has used (what the guard hands
 * its peers, np_place_ctx_copy) equals a fresh one for the same arrival.
 * NP_TEST_SEED as in test_place_props.c. */
#include <errno.h>
#include <stdlib.h>

#include "np_test.h"
#include "place/policy_int.h"
#include "test_place_util.h"

#define SO_MAX_NODES 20u

static uint64_t seed(void)
{
    const char *s = getenv("NP_TEST_SEED");
    return s ? strtoull(s, NULL, 10) | 1 : UINT64_C(0x2d5a9e3b17c40f61);
}

/* n nodes of 0-8 CPUs (node 0 always has some) and 1-32 GiB, distances
 * 10 / 12-16 within a socket of two nodes / 20-40 across. */
static np_host_state *random_state(tp_rng *r, size_t n)
{
    uint32_t cpus[SO_MAX_NODES], dist[SO_MAX_NODES * SO_MAX_NODES];
    uint64_t mib[SO_MAX_NODES];
    for (size_t i = 0; i < n; i++) {
        cpus[i] = i > 0 && tp_below(r, 6) == 0 ? 0 : 1 + (uint32_t)tp_below(r, 8);
        mib[i] = (1 + tp_below(r, 32)) * 1024;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            uint32_t d = i == j            ? 10
                         : i / 2 == j / 2 ? 12 + (uint32_t)tp_below(r, 5)
                                          : 20 + (uint32_t)tp_below(r, 21);
            dist[i * n + j] = d;
            dist[j * n + i] = d;
        }
    return tp_state(tp_host(n, cpus, mib, dist));
}

static np_guest_spec random_guest(tp_rng *r, const np_host_state *st, unsigned id)
{
    char name[32];
    const np_topology *t = np_host_state_topology(st);
    uint32_t cpus = (uint32_t)np_topology_nr_cpus(t);
    snprintf(name, sizeof(name), "g%u", id);
    np_guest_spec s = tp_guest(name, 1 + (uint32_t)tp_below(r, cpus < 16 ? cpus : 16),
                               256 + tp_below(r, np_topology_mem_total_bytes(t) / MiB / 4));
    s.cpu_demand = tp_unit(r);
    s.affinity = (np_affinity_mode)tp_below(r, 3);
    if (tp_below(r, 5) == 0)
        s.vnuma_nodes = 1 + (int32_t)tp_below(r, 3);
    return s;
}

typedef struct so_tally {
    unsigned compared, placed, differ, noted;
} so_tally;

/* One decision of policy p both ways, compared. */
static void compare_one(const np_host_state *st, const np_guest_spec *s, const np_place_policy *p,
                        so_tally *tl)
{
    np_placement *full = NULL, *bare = NULL;
    np_error e1 = {0}, e2 = {0};
    int rc1 = np_place_run(st, s, p, NULL, true, NULL, &full, &e1);
    int rc2 = np_place_run(st, s, p, NULL, false, NULL, &bare, &e2);
    bool same = rc1 == rc2;
    tl->compared++;
    if (same && rc1 == 0) {
        tl->placed++;
        size_t n = np_topology_nr_nodes(np_host_state_topology(st));
        same = np_placement_nr_nodes(full) == np_placement_nr_nodes(bare) &&
               full->union_masks == bare->union_masks && full->fallback == bare->fallback &&
               full->affinity == bare->affinity && full->nr_vcpus == bare->nr_vcpus &&
               np_bitmap_equal(full->cpus_all, bare->cpus_all);
        for (size_t k = 0; same && k < np_placement_nr_nodes(full); k++)
            same = np_placement_node(full, k) == np_placement_node(bare, k);
        for (size_t i = 0; same && i < n; i++)
            same = np_placement_node_mem_bytes(full, i) == np_placement_node_mem_bytes(bare, i);
        for (uint32_t v = 0; same && v < full->nr_vcpus; v++)
            same = np_placement_vcpu_node(full, v) == np_placement_vcpu_node(bare, v);
        tl->noted += bare->note[0] != '\0';
    }
    if (!same) {
        fprintf(stderr, "%s: guest %s differs without explanation (rc %d / %d)\n", p->name,
                s->name, rc1, rc2);
        tl->differ++;
    }
    np_placement_destroy(full);
    np_placement_destroy(bare);
}

static void test_split_only_decides_the_same(void)
{
    tp_rng r = {seed()};
    size_t nr_pol = np_place_policy_count();
    so_tally *tl = calloc(nr_pol, sizeof(*tl));
    if (!tl) {
        ASSERT_TRUE(tl != NULL);
        return;
    }
    for (unsigned h = 0; h < 60; h++) {
        size_t n = 2 + tp_below(&r, SO_MAX_NODES - 1);
        np_host_state *st = random_state(&r, n);
        if (!st) {
            ASSERT_TRUE(st != NULL);
            continue;
        }
        for (unsigned k = 0; k < 12; k++) {
            np_guest_spec s = random_guest(&r, st, k);
            for (size_t p = 0; p < nr_pol; p++) {
                const char *name = np_place_policy_name(p);
                if (strcmp(name, "oracle") == 0 && n > 8)
                    continue; /* 2^n sets per decision: small hosts only */
                compare_one(st, &s, np_place_policy_find(name), &tl[p]);
            }
            /* the host fills: numaplace places the guest for the next one */
            np_placement *pl = NULL;
            np_error err = {0};
            if (np_place(st, &s, NULL, &pl, &err) == 0)
                np_placement_commit(st, &s, pl, NULL);
            np_placement_destroy(pl);
        }
        np_host_state_destroy(st);
    }
    for (size_t p = 0; p < nr_pol; p++) {
        printf("%-13s %4u compared, %4u placed, %u differ, %u notes without explain\n",
               np_place_policy_name(p), tl[p].compared, tl[p].placed, tl[p].differ,
               tl[p].noted);
        ASSERT_EQ(tl[p].differ, 0);
        ASSERT_EQ(tl[p].noted, 0);
        ASSERT_TRUE(tl[p].placed > tl[p].compared / 4); /* or it compared nothing */
    }
    free(tl);
}

/* The context's per-node arrays (all but the scratch lists nodes_a and
 * nodes_b, which every user writes before reading), equal to a's. */
static bool same_ctx(const np_place_ctx *a, const np_place_ctx *b)
{
    size_t n = a->n;
    const double *da[] = {a->dev_cost,    a->group_cost, a->share,      a->util_before,
                          a->cores,       a->threads,    a->loss_before, a->usable_mib,
                          a->fill_before, a->score};
    const double *db[] = {b->dev_cost,    b->group_cost, b->share,      b->util_before,
                          b->cores,       b->threads,    b->loss_before, b->usable_mib,
                          b->fill_before, b->score};
    bool same = a->st == b->st && a->topo == b->topo && a->spec == b->spec && n == b->n &&
                a->lat == b->lat && a->vcpus == b->vcpus && a->vnuma == b->vnuma &&
                a->group_by_vcpu == b->group_by_vcpu && a->vcpu_demand == b->vcpu_demand &&
                a->demand == b->demand && a->mem_mib == b->mem_mib &&
                a->max_nodes == b->max_nodes && a->cpuless_ok == b->cpuless_ok &&
                memcmp(a->load, b->load, n * sizeof(*a->load)) == 0 &&
                memcmp(a->avail_mib, b->avail_mib, n * sizeof(*a->avail_mib)) == 0 &&
                memcmp(a->has_cpus, b->has_cpus, n * sizeof(*a->has_cpus)) == 0 &&
                memcmp(a->used, b->used, n * sizeof(*a->used)) == 0;
    for (size_t k = 0; same && k < sizeof(da) / sizeof(da[0]); k++)
        same = memcmp(da[k], db[k], n * sizeof(double)) == 0;
    return same;
}

static void test_ctx_copy_is_a_fresh_context(void)
{
    tp_rng r = {seed() ^ 0x9e3779b97f4a7c15u};
    unsigned compared = 0, differ = 0;
    for (unsigned h = 0; h < 40; h++) {
        size_t n = 2 + tp_below(&r, SO_MAX_NODES - 1);
        np_host_state *st = random_state(&r, n);
        if (!st) {
            ASSERT_TRUE(st != NULL);
            continue;
        }
        for (unsigned k = 0; k < 8; k++) {
            np_guest_spec s = random_guest(&r, st, k);
            np_place_ctx fresh, used, copy;
            np_search srch;
            if (np_place_ctx_init(&fresh, st, &s) < 0 || np_place_ctx_init(&used, st, &s) < 0) {
                ASSERT_TRUE(false);
                continue;
            }
            /* what decisions change: the search's scratch (and, in
             * this test, cpuless_ok), xl42's vnuma */
            np_search_init(&srch);
            np_place_numaplace(&used, NULL, &srch);
            for (size_t i = 0; i < n; i++)
                used.score[i] += 1.0;
            used.used[0] = true;
            used.cpuless_ok = !used.cpuless_ok;
            np_place_ctx_no_vnuma(&used);
            ASSERT_EQ(np_place_ctx_copy(&copy, &used), 0);
            /* the copy must not lean on the source's memory */
            memset(used.block, 0xa5, used.block_bytes);
            np_place_ctx_fini(&used);
            compared++;
            if (!same_ctx(&fresh, &copy)) {
                fprintf(stderr, "host %u guest %s: the copy differs from a fresh context\n", h,
                        s.name);
                differ++;
            }
            np_place_ctx_fini(&copy);
            np_place_ctx_fini(&fresh);
            np_placement *pl = NULL;
            np_error err = {0};
            if (np_place(st, &s, NULL, &pl, &err) == 0)
                np_placement_commit(st, &s, pl, NULL);
            np_placement_destroy(pl);
        }
        np_host_state_destroy(st);
    }
    printf("%u contexts copied, %u differ from a fresh one\n", compared, differ);
    ASSERT_EQ(differ, 0);
    ASSERT_TRUE(compared > 0);
}

int main(void)
{
    NP_RUN(test_split_only_decides_the_same);
    NP_RUN(test_ctx_copy_is_a_fresh_context);
    return np_test_summary();
}
