/* Memory truth (issue 11, item 1): under every registered policy, on random
 * hosts whose topology says each node has less free memory than its size,
 * through random mixes of arrivals and departures, no node ever holds more
 * placed memory than it had free at start minus its reservations, and a
 * guest that does not fit is refused (-ENOSPC, counted), never squeezed.
 *
 * The ledger here is the test's own: the memory each placement gives each
 * node (its balloon maximum, split), added on arrival and taken off on
 * departure. It does not ask the host state what is available, so a host
 * state that forgot the free figure fails it. NP_TEST_SEED and
 * NP_TEST_SCALE as in test_place_props.c. */
#include <errno.h>
#include <stdlib.h>

#include "np_test.h"
#include "test_place_util.h"

#define MT_MAX_NODES 16u
#define MT_MAX_GUESTS 64u

static uint64_t seed(void)
{
    const char *s = getenv("NP_TEST_SEED");
    return s ? strtoull(s, NULL, 10) | 1 : UINT64_C(0x51ed270b27f3a9c5);
}

static unsigned scale(void)
{
    const char *s = getenv("NP_TEST_SCALE");
    unsigned v = s ? (unsigned)strtoul(s, NULL, 10) : 1;
    return v ? v : 1;
}

/* 2..16 nodes, 1-64 GiB each with 10-95% of it free, 0-8 CPUs (a few
 * CPU-less nodes), SMT on half the hosts, distances 10 / 12-16 within a
 * socket / 20-40 across. */
static np_topology *random_host(tp_rng *r, size_t n)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    uint32_t socket[MT_MAX_NODES], cpu = 0;
    uint32_t threads = 1 + (uint32_t)tp_below(r, 2);
    np_topology_builder_create(&b);
    np_topology_builder_set_name(b, "memtruth");
    for (size_t i = 0; i < n; i++) {
        socket[i] = (uint32_t)tp_below(r, (n + 1) / 2);
        uint64_t size = (1 + tp_below(r, 64)) * GiB;
        uint64_t free_bytes = size / 100 * (10 + tp_below(r, 86));
        np_topology_builder_add_node(b, (uint32_t)i, size, free_bytes);
        uint32_t cores = i > 0 && tp_below(r, 6) == 0 ? 0 : 1 + (uint32_t)tp_below(r, 8);
        for (uint32_t th = 0; th < threads; th++)
            for (uint32_t c = 0; c < cores; c++)
                np_topology_builder_add_cpu(b, cpu++, (uint32_t)i, (uint32_t)i, c);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            uint32_t d = i == j                   ? 10
                         : socket[i] == socket[j] ? 12 + (uint32_t)tp_below(r, 5)
                                                  : 20 + (uint32_t)tp_below(r, 21);
            np_topology_builder_set_distance(b, (uint32_t)i, (uint32_t)j, d);
            np_topology_builder_set_distance(b, (uint32_t)j, (uint32_t)i, d);
        }
    if (np_topology_builder_finish(b, &t, &err) < 0)
        fprintf(stderr, "random_host: %s\n", err.msg);
    np_topology_builder_destroy(b);
    return t;
}

/* Guests from 256 MiB to a third of the host's size (so some fit nowhere
 * once the host fills), sometimes with a larger balloon maximum, a vnuma
 * cap, CPU-less memory allowed, any affinity mode. */
static np_guest_spec random_guest(tp_rng *r, const np_topology *t, unsigned id)
{
    char name[32];
    snprintf(name, sizeof(name), "m%u", id);
    uint32_t cpus = (uint32_t)np_topology_nr_cpus(t);
    uint32_t vcpus = 1 + (uint32_t)tp_below(r, cpus < 12 ? cpus : 12);
    uint64_t host_mib = np_topology_mem_total_bytes(t) / MiB;
    np_guest_spec s = tp_guest(name, vcpus, 256 + tp_below(r, host_mib / 3));
    if (tp_below(r, 4) == 0)
        s.maxmem_bytes = s.mem_bytes + tp_below(r, s.mem_bytes / MiB) * MiB;
    s.cpu_demand = tp_unit(r);
    s.affinity = (np_affinity_mode)tp_below(r, 3);
    if (tp_below(r, 6) == 0)
        s.vnuma_nodes = 1 + (int32_t)tp_below(r, vcpus < 3 ? vcpus : 3);
    s.allow_cpuless_memory = tp_below(r, 3) == 0;
    return s;
}

typedef struct ledger {
    size_t n;
    uint64_t limit[MT_MAX_NODES];  /* free at start - reserved */
    uint64_t placed[MT_MAX_NODES]; /* what the placements gave each node */
    char name[MT_MAX_GUESTS][NP_GUEST_NAME_MAX];
    uint64_t mem[MT_MAX_GUESTS][MT_MAX_NODES];
    size_t nr;
} ledger;

static void ledger_add(ledger *l, const char *name, const np_placement *pl)
{
    snprintf(l->name[l->nr], sizeof(l->name[0]), "%s", name);
    for (size_t i = 0; i < l->n; i++) {
        l->mem[l->nr][i] = np_placement_node_mem_bytes(pl, i);
        l->placed[i] += l->mem[l->nr][i];
    }
    l->nr++;
}

static void ledger_remove(ledger *l, size_t g)
{
    for (size_t i = 0; i < l->n; i++)
        l->placed[i] -= l->mem[g][i];
    l->nr--;
    memcpy(l->name[g], l->name[l->nr], sizeof(l->name[0]));
    memcpy(l->mem[g], l->mem[l->nr], sizeof(l->mem[0]));
}

typedef struct tally {
    unsigned decisions, placed, refused, over, squeezed;
} tally;

/* One mix on a fresh state under one policy. */
static void run_mix(const np_host_state *fresh, const char *policy, uint64_t mix_seed, tally *tl)
{
    np_host_state *st = NULL;
    tp_rng r = {mix_seed};
    const np_topology *t = np_host_state_topology(fresh);
    ledger *l = calloc(1, sizeof(*l));
    if (!l || np_host_state_copy(fresh, &st) < 0) {
        ASSERT_TRUE(false);
        goto out;
    }
    l->n = np_topology_nr_nodes(t);
    for (size_t i = 0; i < l->n; i++) {
        /* the topology's figure, not the state's: the state is on trial */
        uint64_t fs = np_topology_node(t, i)->mem_free_bytes;
        uint64_t res = np_host_state_reserved_bytes(st, i);
        l->limit[i] = fs > res ? fs - res : 0;
    }
    unsigned steps = 10 + (unsigned)tp_below(&r, 40);
    for (unsigned k = 0; k < steps; k++) {
        if (l->nr > 0 && (l->nr >= MT_MAX_GUESTS || tp_below(&r, 10) < 3)) {
            size_t g = tp_below(&r, l->nr);
            ASSERT_EQ(np_host_state_remove_guest(st, l->name[g]), 0);
            ledger_remove(l, g);
            continue;
        }
        np_guest_spec s = random_guest(&r, t, k);
        np_node_load before[MT_MAX_NODES];
        np_host_state_node_loads(st, before);
        np_placement *pl = NULL;
        np_error err = {0};
        int rc = np_place(st, &s, policy, &pl, &err);
        tl->decisions++;
        if (rc == -ENOSPC) {
            tl->refused++;
            ASSERT_TRUE(err.msg[0] != '\0');
            continue;
        }
        ASSERT_EQ(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", policy, err.msg);
            continue;
        }
        tl->placed++;
        /* not squeezed: each node got at most what it had available */
        for (size_t i = 0; i < l->n; i++)
            if (np_placement_node_mem_bytes(pl, i) > before[i].mem_available_bytes) {
                fprintf(stderr,
                        "%s: %s got %" PRIu64 " MiB on node %zu, %" PRIu64 " MiB available\n",
                        policy, s.name, np_placement_node_mem_bytes(pl, i) / MiB, i,
                        before[i].mem_available_bytes / MiB);
                tl->squeezed++;
            }
        size_t gidx;
        ASSERT_EQ(np_placement_commit(st, &s, pl, &gidx), 0);
        if (tp_below(&r, 3))
            np_host_state_populate(st, gidx);
        ledger_add(l, s.name, pl);
        np_placement_destroy(pl);
        for (size_t i = 0; i < l->n; i++)
            if (l->placed[i] > l->limit[i]) {
                fprintf(stderr,
                        "%s: node %zu holds %" PRIu64 " MiB, free at start - reserved %" PRIu64
                        " MiB\n",
                        policy, i, l->placed[i] / MiB, l->limit[i] / MiB);
                tl->over++;
            }
    }
out:
    np_host_state_destroy(st);
    free(l);
}

static void test_no_node_above_free_under_every_policy(void)
{
    tp_rng r = {seed()};
    unsigned hosts = 200 * scale();
    size_t nr_pol = np_place_policy_count();
    tally *tl = calloc(nr_pol, sizeof(*tl));
    if (!tl)
        return;
    for (unsigned h = 0; h < hosts; h++) {
        size_t n = 2 + tp_below(&r, MT_MAX_NODES - 1);
        np_host_state *st = tp_state(random_host(&r, n));
        if (!st) {
            ASSERT_TRUE(st != NULL);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (tp_below(&r, 4) == 0)
                np_host_state_set_reserved(st, i, tp_below(&r, 2048) * MiB);
        uint64_t mix = tp_next(&r);
        for (size_t p = 0; p < nr_pol; p++) {
            const char *name = np_place_policy_name(p);
            if (strcmp(name, "oracle") == 0 && n > 8)
                continue; /* 2^n sets per decision: small hosts only */
            run_mix(st, name, mix, &tl[p]);
        }
        np_host_state_destroy(st);
    }
    for (size_t p = 0; p < nr_pol; p++) {
        printf("%-13s %5u decisions, %5u placed, %5u refused, %u above free, %u squeezed\n",
               np_place_policy_name(p), tl[p].decisions, tl[p].placed, tl[p].refused, tl[p].over,
               tl[p].squeezed);
        ASSERT_EQ(tl[p].over, 0);
        ASSERT_EQ(tl[p].squeezed, 0);
        /* the mixes must both place and refuse, or they test nothing */
        ASSERT_TRUE(tl[p].placed > tl[p].decisions / 4);
        ASSERT_TRUE(tl[p].refused > 0);
    }
    free(tl);
}

/* The constructor takes the topology's free figure: a 16 GiB node with
 * 10 GiB free offers 10 GiB to the first guest, 10 - 6 = 4 GiB after a
 * 6 GiB guest is populated, and a live measurement replaces the figure. */
static void test_free_at_start_from_topology(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    np_topology_builder_add_node(b, 0, 16 * GiB, 10 * GiB);
    for (uint32_t c = 0; c < 4; c++)
        np_topology_builder_add_cpu(b, c, 0, 0, c);
    np_topology_builder_finish(b, &t, &err);
    np_topology_builder_destroy(b);
    np_host_state *st = tp_state(t);
    if (!st) {
        ASSERT_TRUE(st != NULL);
        return;
    }
    np_node_load l;
    ASSERT_U64_EQ(np_host_state_node_free_at_start(st, 0), 10 * GiB);
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    ASSERT_U64_EQ(l.mem_available_bytes, 10 * GiB);
    np_guest_spec a = tp_guest("a", 2, 6 * 1024), big = tp_guest("big", 1, 5 * 1024);
    np_placement *pl = NULL;
    size_t g;
    ASSERT_EQ(np_place(st, &a, NULL, &pl, &err), 0);
    if (pl && np_placement_commit(st, &a, pl, &g) == 0)
        np_host_state_populate(st, g);
    np_placement_destroy(pl);
    pl = NULL;
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    ASSERT_U64_EQ(l.mem_available_bytes, 4 * GiB);
    /* 5 GiB: refused by every policy, the size (16 GiB) would have taken it */
    for (size_t p = 0; p < np_place_policy_count(); p++) {
        ASSERT_EQ(np_place(st, &big, np_place_policy_name(p), &pl, &err), -ENOSPC);
        np_placement_destroy(pl);
        pl = NULL;
    }
    /* reservations come off as well: 4 - 1 = 3 GiB */
    np_host_state_set_reserved(st, 0, GiB);
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    ASSERT_U64_EQ(l.mem_available_bytes, 3 * GiB);
    /* a live reading (guests in place) replaces the start figure: 7 - 1 */
    np_host_state_set_node_free(st, 0, 7 * GiB);
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    ASSERT_U64_EQ(l.mem_available_bytes, 6 * GiB);
    /* and never above size - populated: 16 - 6 - 1 */
    np_host_state_set_node_free(st, 0, 16 * GiB);
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    ASSERT_U64_EQ(l.mem_available_bytes, 9 * GiB);
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_free_at_start_from_topology);
    NP_RUN(test_no_node_above_free_under_every_policy);
    return np_test_summary();
}
