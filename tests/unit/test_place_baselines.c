/* The baseline policies (least-loaded, xapi, numad, floating) on small
 * hosts whose answer is worked out by hand in the comment of each case,
 * from the rules in each policy's file (and, for xapi and numad, the
 * documents they model: anchors.md sections 1.9 and 3). Every host has
 * free = size, so the memory available is size - what the loads hold. */
#include <errno.h>
#include <math.h>

#include "np_test.h"
#include "test_place_util.h"

/* A guest already running: `vcpus` vCPUs pinned to node `node`'s CPUs,
 * each with demand `demand`, `mem_mib` populated there. */
static void add_load(np_host_state *st, const char *name, size_t node, uint32_t vcpus,
                     double demand, uint64_t mem_mib)
{
    np_guest_spec s = tp_guest(name, vcpus, mem_mib);
    size_t g;
    ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, g, node, mem_mib * MiB, 0), 0);
    const np_bitmap *cpus = np_topology_node_cpuset(np_host_state_topology(st), node);
    for (uint32_t v = 0; v < vcpus; v++) {
        ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, v, cpus, NULL), 0);
        ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, v, demand), 0);
    }
}

static np_placement *place(np_host_state *st, const np_guest_spec *s, const char *policy,
                           int want_rc)
{
    np_placement *pl = NULL;
    np_error err = {0};
    int rc = np_place(st, s, policy, &pl, &err);
    ASSERT_EQ(rc, want_rc);
    if (rc != want_rc)
        fprintf(stderr, "%s: %s\n", policy, err.msg);
    if (rc == -ENOSPC)
        ASSERT_TRUE(err.msg[0] != '\0');
    return pl;
}

/* Every policy is in the table once, with a summary. */
static void test_table_lists_the_baselines(void)
{
    static const char *const want[] = {"numaplace", "xl42",  "oracle",  "least-loaded",
                                       "xapi",      "numad", "floating"};
    ASSERT_EQ(np_place_policy_count(), sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ASSERT_STR_EQ(np_place_policy_name(i), want[i]);
        ASSERT_TRUE(np_place_policy_summary(i) && np_place_policy_summary(i)[0]);
    }
    ASSERT_TRUE(np_place_policy_name(np_place_policy_count()) == NULL);
}

/* least-loaded on 4 nodes of 4 CPUs and 8 GiB, SLIT 10/20. Loads:
 *   node 0: 3 vCPUs x 1.0, 1 GiB    demand/CPU 0.75, 7 GiB available
 *   node 1: 1 vCPU  x 1.0, 1 GiB               0.25, 7 GiB
 *   node 2: 2 vCPUs x 1.0, 1 GiB               0.50, 7 GiB
 *   node 3: 1 vCPU  x 1.0, 4 GiB               0.25, 4 GiB
 * a (2 vCPUs, 2 GiB): one node fits; nodes 1 and 3 tie at 0.25, node 1
 * has more memory (7 > 4 GiB) -> node 1.
 * b (6 vCPUs, 10 GiB): no node has 10 GiB, two do (7 + 7); per pair,
 * demand over 8 CPUs: {0,1} 4/8, {0,2} 5/8, {0,3} 4/8, {1,2} 3/8,
 * {1,3} 2/8 (11 GiB, fits), {2,3} 3/8 -> nodes 1,3. Even split 5120 MiB
 * each; node 3 holds 4096, its 1024 go to node 1: 6144 + 4096 MiB. */
static void test_least_loaded(void)
{
    uint32_t c[4] = {4, 4, 4, 4};
    uint64_t m[4] = {8192, 8192, 8192, 8192};
    np_host_state *st = tp_state(tp_host(4, c, m, NULL));
    char buf[32];
    add_load(st, "l0", 0, 3, 1.0, 1024);
    add_load(st, "l1", 1, 1, 1.0, 1024);
    add_load(st, "l2", 2, 2, 1.0, 1024);
    add_load(st, "l3", 3, 1, 1.0, 4096);
    np_guest_spec a = tp_guest("a", 2, 2048), b = tp_guest("b", 6, 10240);
    np_placement *pl = place(st, &a, "least-loaded", 0);
    if (pl)
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "1");
    np_placement_destroy(pl);
    pl = place(st, &b, "least-loaded", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "1,3");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 1), 6144 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 3), 4096 * MiB);
        ASSERT_CONTAINS(np_placement_note(pl), "least-loaded: 2 node(s) 1,3");
    }
    np_placement_destroy(pl);
    /* 30 GiB: the four nodes have 7 + 7 + 7 + 4 = 25 GiB -> refused */
    np_guest_spec huge = tp_guest("huge", 2, 30 * 1024);
    np_placement_destroy(place(st, &huge, "least-loaded", -ENOSPC));
    np_host_state_destroy(st);
}

/* xapi on the 4-node matrix of xapi's NUMA document: nodes 0-1 and 2-3 at
 * 11 (sub-NUMA pairs), everything else 21; 4 CPUs and 8 GiB each; 1 GiB
 * held on nodes 0, 1 and 3 (available 7, 7, 8, 7 GiB).
 *  a (2 vCPUs, 4 GiB): every single node fits, all at mean distance 10;
 *    most free memory -> node 2.
 *  b (6 vCPUs, 12 GiB): no single node (4 CPUs, 8 GiB); pairs {0,1} and
 *    {2,3} have mean (10 + 10 + 11 + 11) / 4 = 10.5, the others 15.5;
 *    {0,1} has 14 GiB, {2,3} 15 GiB -> nodes 2,3.
 *  c (4 vCPUs, 20 GiB): only triples hold 20 GiB; every triple has mean
 *    (3 x 10 + 2 x (11 + 21 + 21)) / 9 = 15.1; free 22, 21, 22, 22 GiB for
 *    {0,1,2}, {0,1,3}, {0,2,3}, {1,2,3}: three tie at 22, the first mask
 *    wins -> nodes 0,1,2, 20480 MiB striped 6827 / 6827 / 6826.
 *  e (2 vCPUs, 30 GiB): the host has 29 GiB -> refused.
 * Up to 16 nodes the set of every node always fits a guest the host can
 * take; above, only single nodes are candidates:
 *  f on 17 nodes of 1 CPU and 1 GiB, 2 vCPUs and 1.5 GiB: no single node
 *    fits -> Xen's striping over every node (a fallback). */
static void test_xapi(void)
{
    uint32_t c[4] = {4, 4, 4, 4};
    uint64_t m[4] = {8192, 8192, 8192, 8192};
    uint32_t d[16] = {10, 11, 21, 21, 11, 10, 21, 21, 21, 21, 10, 11, 21, 21, 11, 10};
    np_host_state *st = tp_state(tp_host(4, c, m, d));
    char buf[32];
    add_load(st, "l0", 0, 1, 0.1, 1024);
    add_load(st, "l1", 1, 1, 0.1, 1024);
    add_load(st, "l3", 3, 1, 0.1, 1024);
    np_guest_spec a = tp_guest("a", 2, 4096), b = tp_guest("b", 6, 12288);
    np_guest_spec cg = tp_guest("c", 4, 20480);
    np_guest_spec e = tp_guest("e", 2, 30 * 1024);
    np_placement *pl = place(st, &a, "xapi", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "2");
        ASSERT_CONTAINS(np_placement_note(pl), "mean distance 10.00");
    }
    np_placement_destroy(pl);
    pl = place(st, &b, "xapi", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "2,3");
        ASSERT_CONTAINS(np_placement_note(pl), "mean distance 10.50");
        /* one mask, the union of the set's CPUs (8-15), for every vCPU */
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 0), buf, sizeof(buf)), "8-15");
        ASSERT_STR_EQ(tp_mask(np_placement_vcpu_soft(pl, 5), buf, sizeof(buf)), "8-15");
        ASSERT_TRUE(np_placement_vnuma(pl) == NULL);
    }
    np_placement_destroy(pl);
    pl = place(st, &cg, "xapi", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0,1,2");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 6827 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 1), 6827 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 6826 * MiB);
    }
    np_placement_destroy(pl);
    np_placement_destroy(place(st, &e, "xapi", -ENOSPC));
    np_host_state_destroy(st);

    uint32_t c17[17];
    uint64_t m17[17];
    for (size_t i = 0; i < 17; i++) {
        c17[i] = 1;
        m17[i] = 1024;
    }
    st = tp_state(tp_host(17, c17, m17, NULL));
    np_guest_spec f = tp_guest("f", 2, 1536);
    pl = place(st, &f, "xapi", 0);
    if (pl) {
        ASSERT_TRUE(np_placement_is_fallback(pl));
        ASSERT_CONTAINS(np_placement_note(pl), "xapi best_effort: no node set of one node");
        ASSERT_EQ(np_placement_nr_nodes(pl), 17);
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);
}

/* numad, case 1: 2 nodes of 4 CPUs (no SMT) and 8 GiB, SLIT 10/20; node
 * 0 runs 2 vCPUs at demand 1.0 with 1 GiB. Guest: 2 vCPUs at demand 0.5,
 * 2 GiB: cpus = ceil(2 x 0.5 x 100 x 100 / 85) = 118, mbs = 2048.
 *   node 0: CPUs_free 400 - 200 = 200, MBs_free 7168:
 *           (2048 x 10 + 5120 x 4) x (118 x 6 + 82) = 40960 x 790 = 32358400
 *   node 1: CPUs_free 400, MBs_free 8192:
 *           (2048 x 10 + 6144 x 4) x (118 x 6 + 282) = 45056 x 990 = 44605440
 *   nodes needed max(ceil(2048 / 8192), ceil(118 / 400)) = 1;
 *   start 0 scores 32358400 / 10^2 = 323584, start 1 446054 -> node 1.
 * Case 2: 3 nodes of 4 CPUs, nodes 0 and 1 8 GiB at distance 12, node 2
 * 16 GiB at 30 from both, all idle. Guest 6 vCPUs at 1.0, 4 GiB:
 * cpus = ceil(600 x 100 / 85) = 706, mbs = 4096, nodes needed
 * max(ceil(4096 / 8192), ceil(706 / 400)) = 2.
 *   nodes 0, 1: (4096 x 10 + 4096 x 4) x (400 x 6) = 57344 x 2400 = 137625600
 *   node 2:     (4096 x 10 + 12288 x 4) x 2400 = 90112 x 2400 = 216268800
 *   start 0: 137625600/100 + 137625600/144 = 1376256 + 955733 = 2331989
 *   start 1: the same (not higher: start 0 stays)
 *   start 2: 216268800/100 + 137625600/900 = 2162688 + 152917 = 2315605
 *   -> from node 0: node 0 covers the memory, leaves 306 of the CPU,
 *      node 1 the rest -> nodes 0,1 (the big far node loses on distance),
 *      memory striped 2048 + 2048 MiB. */
static void test_numad(void)
{
    uint32_t c2[2] = {4, 4};
    uint64_t m2[2] = {8192, 8192};
    np_host_state *st = tp_state(tp_host(2, c2, m2, NULL));
    char buf[32];
    add_load(st, "busy", 0, 2, 1.0, 1024);
    np_guest_spec a = tp_guest("a", 2, 2048);
    a.cpu_demand = 0.5;
    np_placement *pl = place(st, &a, "numad", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "1");
        ASSERT_CONTAINS(np_placement_note(pl), "numad -w 118:2048");
        ASSERT_CONTAINS(np_placement_note(pl), "start node 1");
    }
    np_placement_destroy(pl);
    np_host_state_destroy(st);

    uint32_t c3[3] = {4, 4, 4};
    uint64_t m3[3] = {8192, 8192, 16384};
    uint32_t d3[9] = {10, 12, 30, 12, 10, 30, 30, 30, 10};
    st = tp_state(tp_host(3, c3, m3, d3));
    np_guest_spec b = tp_guest("b", 6, 4096);
    b.cpu_demand = 1.0;
    pl = place(st, &b, "numad", 0);
    if (pl) {
        ASSERT_STR_EQ(tp_nodes(pl, buf, sizeof(buf)), "0,1");
        ASSERT_CONTAINS(np_placement_note(pl), "numad -w 706:4096");
        ASSERT_CONTAINS(np_placement_note(pl), "start node 0");
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 2048 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 1), 2048 * MiB);
    }
    np_placement_destroy(pl);
    /* with 12 GiB held on node 2 the host has 8 + 8 + 4 = 20 GiB: a 24 GiB
     * guest takes every node and is still short -> refused */
    add_load(st, "held", 2, 1, 0.1, 12 * 1024);
    np_guest_spec huge = tp_guest("huge", 2, 24 * 1024);
    np_placement_destroy(place(st, &huge, "numad", -ENOSPC));
    np_host_state_destroy(st);
}

/* floating on 3 nodes of 4 CPUs and 8 GiB holding 2, 6 and 8 GiB (6144,
 * 2048 and 0 MiB available). Guest 3 vCPUs, 1 GiB: memory in proportion to
 * what is available, 1024 x 6144/8192 = 768 and 1024 x 2048/8192 = 256 MiB,
 * none on the full node; one vCPU per node (4 CPUs each); no affinity.
 * 9 GiB is more than the 8 GiB available -> refused. */
static void test_floating(void)
{
    uint32_t c[3] = {4, 4, 4};
    uint64_t m[3] = {8192, 8192, 8192};
    np_host_state *st = tp_state(tp_host(3, c, m, NULL));
    add_load(st, "l0", 0, 1, 0.5, 2048);
    add_load(st, "l1", 1, 1, 0.5, 6144);
    add_load(st, "l2", 2, 1, 0.5, 8192);
    np_guest_spec a = tp_guest("a", 3, 1024), big = tp_guest("big", 1, 9 * 1024);
    np_placement *pl = place(st, &a, "floating", 0);
    if (pl) {
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 0), 768 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 1), 256 * MiB);
        ASSERT_U64_EQ(np_placement_node_mem_bytes(pl, 2), 0);
        ASSERT_TRUE(np_placement_cpus_hard(pl) == NULL);
        ASSERT_TRUE(np_placement_cpus_soft(pl) == NULL);
        ASSERT_TRUE(np_placement_vcpu_soft(pl, 0) == NULL);
        ASSERT_EQ(np_placement_vcpu_node(pl, 2), 2);
        ASSERT_TRUE(!np_placement_is_fallback(pl));
    }
    np_placement_destroy(pl);
    np_placement_destroy(place(st, &big, "floating", -ENOSPC));
    np_host_state_destroy(st);
}

/* xapi's scan by size (it stops at the first size whose lower bound on the
 * mean distance is past the least found) against the plain rule in the
 * policy's comment, every one of the 2^N - 1 sets scored, on random hosts of
 * 1-10 nodes: random CPUs and memory, random loads, random symmetric
 * distances of 11-39 between nodes (with ties) and 10 within. */
static size_t xapi_reference(size_t n, const uint32_t *cpus, const uint64_t *avail,
                             const uint32_t *dist, uint32_t vcpus, uint64_t mem_mib)
{
    size_t first = 0, best = 0;
    double first_avg = 0.0, best_avg = 0.0;
    uint64_t best_mem = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t mask = 1; mask < ((size_t)1 << n); mask++) {
            uint64_t mem = 0, d = 0;
            uint32_t c = 0, k = 0;
            for (size_t i = 0; i < n; i++) {
                if (!(mask & ((size_t)1 << i)))
                    continue;
                mem += avail[i];
                c += cpus[i];
                k++;
                for (size_t j = 0; j < n; j++)
                    if (mask & ((size_t)1 << j))
                        d += dist[i * n + j];
            }
            if (mem < mem_mib || c < vcpus)
                continue;
            double avg = (double)d / ((double)k * (double)k);
            if (pass == 0 && (!first || avg < first_avg || (avg == first_avg && mask < first))) {
                first = mask;
                first_avg = avg;
            }
            if (pass == 1 && fabs(avg - first_avg) < 1e-3 &&
                (!best || mem > best_mem ||
                 (mem == best_mem && (avg < best_avg || (avg == best_avg && mask < best))))) {
                best = mask;
                best_avg = avg;
                best_mem = mem;
            }
        }
    return best;
}

static void test_xapi_matches_the_full_scan(void)
{
    tp_rng r = {0x5eed1234abcdULL};
    size_t compared = 0, chosen = 0;
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 1 + (size_t)tp_below(&r, 10);
        uint32_t cpus[10], dist[100];
        uint64_t mem[10], avail[10];
        for (size_t i = 0; i < n; i++) {
            cpus[i] = 1 + (uint32_t)tp_below(&r, 8);
            mem[i] = 1024 * (1 + tp_below(&r, 16));
            for (size_t j = 0; j <= i; j++)
                dist[i * n + j] = dist[j * n + i] =
                    i == j ? 10 : 11 + 2 * (uint32_t)tp_below(&r, 15);
        }
        np_host_state *st = tp_state(tp_host(n, cpus, mem, dist));
        if (!st)
            continue;
        for (size_t i = 0; i < n; i++) {
            uint64_t held = tp_below(&r, 2) ? 256 * tp_below(&r, mem[i] / 256) : 0;
            if (held) {
                char name[32];
                snprintf(name, sizeof(name), "l%zu", i);
                add_load(st, name, i, 1, 0.5, held);
            }
            avail[i] = mem[i] - held;
        }
        uint32_t vcpus = 1 + (uint32_t)tp_below(&r, 4 * n);
        uint64_t mem_mib = 256 * (1 + tp_below(&r, 8 * n * 4));
        np_guest_spec g = tp_guest("g", vcpus, mem_mib);
        size_t want = xapi_reference(n, cpus, avail, dist, vcpus, mem_mib);
        np_placement *pl = NULL;
        np_error err = {0};
        int rc = np_place(st, &g, "xapi", &pl, &err);
        if (want) {
            ASSERT_EQ(rc, 0);
            if (pl) {
                ASSERT_TRUE(!np_placement_is_fallback(pl));
                size_t got = 0;
                for (size_t i = 0; i < np_placement_nr_nodes(pl); i++)
                    got |= (size_t)1 << np_placement_node(pl, i);
                ASSERT_EQ(got, want);
            }
            chosen++;
        } else {
            /* no set fits: refused (-ENOSPC; -EINVAL when the guest is
             * larger than the whole host) or Xen's striping */
            ASSERT_TRUE(rc == -ENOSPC || rc == -EINVAL ||
                        (rc == 0 && pl && np_placement_is_fallback(pl)));
        }
        compared++;
        np_placement_destroy(pl);
        np_host_state_destroy(st);
    }
    /* the cases the scan must get right were all drawn */
    ASSERT_EQ(compared, 400);
    ASSERT_TRUE(chosen > 150 && chosen < compared);
}

int main(void)
{
    NP_RUN(test_table_lists_the_baselines);
    NP_RUN(test_least_loaded);
    NP_RUN(test_xapi);
    NP_RUN(test_xapi_matches_the_full_scan);
    NP_RUN(test_numad);
    NP_RUN(test_floating);
    return np_test_summary();
}
