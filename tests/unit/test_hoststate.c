/* The host state and its load measure: demand attribution, memory
 * accounting (populated, claimed, balloon head-room, reserve, measured
 * free), guest bookkeeping and copies. */
#include <errno.h>
#include <math.h>

#include <numaplace/hoststate.h>

#include "model/hoststate_int.h"
#include "np_test.h"
#include "place/std_metrics_int.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* 2 nodes (os ids 0 and 3), each 2 cores x 2 threads and 16 GiB; CPUs
 * 0-3 on node 0 (cores 0,1 with siblings 2,3), 4-7 on node 3. */
static np_topology *two_nodes(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    np_topology_builder_add_node(b, 0, 16 * GiB, 16 * GiB);
    np_topology_builder_add_node(b, 3, 16 * GiB, 16 * GiB);
    for (uint32_t c = 0; c < 8; c++)
        np_topology_builder_add_cpu(b, c, c < 4 ? 0 : 3, c / 4, c % 2);
    np_topology_builder_finish(b, &t, &err);
    np_topology_builder_destroy(b);
    return t;
}

static np_host_state *new_state(void)
{
    np_topology *t = two_nodes();
    np_host_state *st = NULL;
    if (t)
        np_host_state_create(t, &st);
    np_topology_destroy(t); /* the state holds its own reference */
    return st;
}

static np_guest_spec guest(const char *name, uint32_t vcpus, uint64_t mem, uint64_t maxmem)
{
    np_guest_spec s;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = mem;
    s.maxmem_bytes = maxmem;
    return s;
}

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_capacity_counts_smt_threads_as_a_fraction(void)
{
    np_host_state *st = new_state();
    np_node_load l;
    ASSERT_EQ(np_host_state_node_load(st, 0, &l), 0);
    /* 2 cores + 2 sibling threads at 20% */
    ASSERT_TRUE(near(l.cpu_capacity, 2.0 + 2 * NP_LOAD_SMT_THREAD_CAPACITY));
    ASSERT_TRUE(near(l.cpu_demand, 0.0));
    ASSERT_U64_EQ(l.mem_available_bytes, 16 * GiB);
    ASSERT_EQ(np_host_state_node_load(st, 2, &l), -EINVAL);
    np_host_state_destroy(st);
}

static void test_guest_bookkeeping(void)
{
    np_host_state *st = new_state();
    np_guest_spec a = guest("a", 2, GiB, 0), b = guest("b", 1, GiB, 0), c = guest("c", 1, GiB, 0);
    size_t ga = 9, gb = 9, gc = 9, g;
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &b, &gb), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &c, &gc), 0);
    ASSERT_EQ(ga, 0);
    ASSERT_EQ(gc, 2);
    ASSERT_EQ(np_host_state_add_guest(st, &b, NULL), -EEXIST);
    np_guest_spec anon = guest("", 1, GiB, 0);
    ASSERT_EQ(np_host_state_add_guest(st, &anon, NULL), -EINVAL);
    np_guest_spec bad = guest("bad", 0, GiB, 0);
    ASSERT_EQ(np_host_state_add_guest(st, &bad, NULL), -EINVAL);
    ASSERT_EQ(np_host_state_nr_guests(st), 3);
    ASSERT_EQ(np_host_state_find_guest(st, "b", &g), 0);
    ASSERT_EQ(g, 1);
    ASSERT_EQ(np_host_state_remove_guest(st, "b"), 0);
    ASSERT_EQ(np_host_state_remove_guest(st, "b"), -ENOENT);
    ASSERT_EQ(np_host_state_find_guest(st, "c", &g), 0);
    ASSERT_EQ(g, 1); /* moved down */
    ASSERT_STR_EQ(np_host_state_guest_spec(st, 1)->name, "c");
    ASSERT_TRUE(np_host_state_guest_spec(st, 2) == NULL);
    /* many guests: the name table grows */
    for (int i = 0; i < 500; i++) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", i);
        np_guest_spec s = guest(name, 1, MiB, 0);
        ASSERT_EQ(np_host_state_add_guest(st, &s, NULL), 0);
    }
    ASSERT_EQ(np_host_state_find_guest(st, "g377", &g), 0);
    ASSERT_STR_EQ(np_host_state_guest_spec(st, g)->name, "g377");
    ASSERT_EQ(np_host_state_vcpu_cpu(st, g, 0), -1);
    ASSERT_TRUE(near(np_host_state_vcpu_demand(st, g, 0), 1.0));
    np_host_state_destroy(st);
}

static np_bitmap *mask(const char *list)
{
    np_bitmap *m = NULL;
    np_bitmap_create(&m);
    np_bitmap_parse(m, list);
    return m;
}

static void test_demand_follows_affinity(void)
{
    np_host_state *st = new_state();
    np_guest_spec s = guest("g", 4, GiB, 0);
    s.cpu_demand = 0.5;
    size_t g;
    ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
    np_bitmap *n0 = mask("0-3"), *n1 = mask("4-7"), *split = mask("2-5"), *all = mask("0-7");
    /* vCPU 0: hard on node 0; vCPU 1: soft on node 3 (inside all);
     * vCPU 2: soft on node 3 but hard on node 0 -> hard wins;
     * vCPU 3: hard over CPUs 2-5 -> half and half */
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 0, n0, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 1, NULL, n1), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 2, n0, n1), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 3, split, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, 1.0), 0);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, 1.5), -EINVAL);
    ASSERT_EQ(np_host_state_set_vcpu_demand(st, g, 3, NAN), -EINVAL);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 4, n0, NULL), -EINVAL);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 0.5 + 0.5 + 0.5));
    ASSERT_TRUE(near(l[1].cpu_demand, 0.5 + 0.5));
    /* the mask is copied, and an all-CPU mask restricts nothing: with a
     * last CPU known, the vCPU counts where it ran */
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, g, 0, all, NULL), 0);
    ASSERT_EQ(np_host_state_set_vcpu_cpu(st, g, 0, 6), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 1.0));
    ASSERT_TRUE(near(l[1].cpu_demand, 1.5));
    /* unknown last CPU: spread by capacity (equal here) */
    ASSERT_EQ(np_host_state_set_vcpu_cpu(st, g, 0, -1), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_TRUE(near(l[0].cpu_demand, 1.25));
    ASSERT_TRUE(near(l[1].cpu_demand, 1.25));
    char buf[16];
    np_bitmap_format(np_host_state_vcpu_soft(st, g, 2), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "4-7");
    ASSERT_TRUE(np_host_state_vcpu_hard(st, g, 1) == NULL);
    np_bitmap_destroy(n0);
    np_bitmap_destroy(n1);
    np_bitmap_destroy(split);
    np_bitmap_destroy(all);
    np_host_state_destroy(st);
}

static void test_memory_accounting(void)
{
    np_host_state *st = new_state();
    np_guest_spec a = guest("a", 1, 4 * GiB, 6 * GiB), b = guest("b", 1, 2 * GiB, 4 * GiB);
    size_t ga, gb;
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_add_guest(st, &b, &gb), 0);
    /* a: found running, 3 GiB on node 0 and 1 GiB on node 1, no recorded
     * maxima: its 2 GiB of head-room go 3:1 */
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 0, 3 * GiB, 0), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 1, 1 * GiB, 0), 0);
    /* b: placed, being created: 2 GiB claimed on node 1, its maximum of
     * 4 GiB kept there */
    ASSERT_EQ(np_host_state_set_guest_mem(st, gb, 1, 0, 2 * GiB), 0);
    ASSERT_EQ(np_host_state_set_guest_mem_max(st, gb, 1, 4 * GiB), 0);
    ASSERT_EQ(np_host_state_set_reserved(st, 0, GiB), 0);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[0].mem_populated_bytes, 3 * GiB);
    ASSERT_U64_EQ(l[0].mem_balloon_bytes, 3 * GiB / 2);
    ASSERT_U64_EQ(l[0].mem_reserved_bytes, GiB);
    ASSERT_U64_EQ(l[0].mem_available_bytes, 16 * GiB - GiB - 3 * GiB - 3 * GiB / 2);
    ASSERT_U64_EQ(l[1].mem_populated_bytes, GiB);
    ASSERT_U64_EQ(l[1].mem_claimed_bytes, 2 * GiB);
    ASSERT_U64_EQ(l[1].mem_balloon_bytes, GiB / 2 + 2 * GiB);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 16 * GiB - GiB - GiB / 2 - 4 * GiB);
    /* the state's own view of what a guest holds matches the node sums */
    ASSERT_U64_EQ(np_hs_guest_mem_held_bytes(st, ga, 0) + np_hs_guest_mem_held_bytes(st, ga, 1),
                  6 * GiB);
    /* populate: claims become populated, head-room unchanged */
    ASSERT_EQ(np_host_state_populate(st, gb), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(st, gb, 1), 2 * GiB);
    ASSERT_U64_EQ(np_host_state_guest_claimed_bytes(st, gb, 1), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[1].mem_claimed_bytes, 0);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 16 * GiB - GiB - GiB / 2 - 4 * GiB);
    /* a measured free figure caps what is available: it already excludes
     * populated memory but not head-room */
    ASSERT_EQ(np_host_state_set_node_free(st, 1, 8 * GiB), 0);
    uint64_t fr = 0;
    ASSERT_EQ(np_host_state_node_free(st, 1, &fr), 0);
    ASSERT_U64_EQ(fr, 8 * GiB);
    ASSERT_EQ(np_host_state_node_free(st, 0, &fr), -ENODATA);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[1].mem_available_bytes, 8 * GiB - GiB / 2 - 2 * GiB);
    /* balloon targets stay within the maximum and do not free memory */
    ASSERT_EQ(np_host_state_set_balloon_target(st, ga, 7 * GiB), -EINVAL);
    ASSERT_EQ(np_host_state_set_balloon_target(st, ga, 2 * GiB), 0);
    ASSERT_U64_EQ(np_host_state_balloon_target(st, ga), 2 * GiB);
    np_node_load again[2];
    ASSERT_EQ(np_host_state_node_loads(st, again), 0);
    ASSERT_U64_EQ(again[0].mem_available_bytes, l[0].mem_available_bytes);
    /* over-full nodes report 0 available, never wrap */
    ASSERT_EQ(np_host_state_set_reserved(st, 0, 20 * GiB), 0);
    ASSERT_EQ(np_host_state_node_loads(st, l), 0);
    ASSERT_U64_EQ(l[0].mem_available_bytes, 0);
    np_host_state_destroy(st);
}

static void test_copy_is_independent(void)
{
    np_host_state *st = new_state(), *cp = NULL;
    np_guest_spec a = guest("a", 2, 4 * GiB, 0);
    size_t ga;
    np_bitmap *n1 = mask("4-7");
    ASSERT_EQ(np_host_state_add_guest(st, &a, &ga), 0);
    ASSERT_EQ(np_host_state_set_guest_mem(st, ga, 1, 4 * GiB, 0), 0);
    ASSERT_EQ(np_host_state_set_vcpu_affinity(st, ga, 0, n1, NULL), 0);
    ASSERT_EQ(np_host_state_copy(st, &cp), 0);
    ASSERT_EQ(np_host_state_remove_guest(st, "a"), 0);
    ASSERT_EQ(np_host_state_nr_guests(cp), 1);
    size_t g;
    ASSERT_EQ(np_host_state_find_guest(cp, "a", &g), 0);
    ASSERT_U64_EQ(np_host_state_guest_mem_bytes(cp, g, 1), 4 * GiB);
    np_node_load l[2];
    ASSERT_EQ(np_host_state_node_loads(cp, l), 0);
    /* vCPU 0 pinned to node 1, vCPU 1 anywhere: half on each */
    ASSERT_TRUE(near(l[1].cpu_demand, 1.5));
    ASSERT_TRUE(np_host_state_topology(cp) != NULL);
    np_bitmap_destroy(n1);
    np_host_state_destroy(cp);
    np_host_state_destroy(st);
}

static void test_nodes_by_distance(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    static const uint32_t d[4][4] = {
        {10, 21, 31, 21}, {21, 10, 21, 31}, {31, 21, 10, 21}, {21, 31, 21, 10}};
    for (uint32_t i = 0; i < 4; i++) {
        np_topology_builder_add_node(b, i, GiB, GiB);
        np_topology_builder_add_cpu(b, i, i, i, 0);
    }
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++)
            np_topology_builder_set_distance(b, i, j, d[i][j]);
    ASSERT_EQ(np_topology_builder_finish(b, &t, &err), 0);
    np_topology_builder_destroy(b);
    np_host_state *st = NULL;
    ASSERT_EQ(np_host_state_create(t, &st), 0);
    const uint32_t *row = np_hs_nodes_by_distance(st, 2);
    ASSERT_EQ(row[0], 2);
    ASSERT_EQ(row[1], 1);
    ASSERT_EQ(row[2], 3);
    ASSERT_EQ(row[3], 0);
    ASSERT_TRUE(np_hs_nodes_by_distance(st, 4) == NULL);
    np_host_state_destroy(st);
    np_topology_destroy(t);
}

/* A state rebuilt from scratch with the public setters: every guest added
 * again with its memory entries, maxima, masks, last CPUs and demands, in
 * order. Its load sums are built by additions only. */
static np_host_state *rebuild(const np_host_state *st)
{
    np_host_state *r = NULL;
    np_host_state_create((np_topology *)(uintptr_t)np_host_state_topology(st), &r);
    if (!r)
        return NULL;
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        const np_guest_spec *s = np_host_state_guest_spec(st, g);
        size_t h;
        np_host_state_add_guest(r, s, &h);
        for (size_t i = 0; i < np_hs_guest_nr_mem(st, g); i++) {
            const np_hs_mem *e = np_hs_guest_mem(st, g, i);
            np_host_state_set_guest_mem(r, h, e->node_idx, e->populated_bytes, e->claimed_bytes);
            if (e->has_max)
                np_host_state_set_guest_mem_max(r, h, e->node_idx, e->max_bytes);
        }
        for (uint32_t v = 0; v < s->vcpus; v++) {
            np_host_state_set_vcpu_affinity(r, h, v, np_host_state_vcpu_hard(st, g, v),
                                            np_host_state_vcpu_soft(st, g, v));
            np_host_state_set_vcpu_cpu(r, h, v, np_host_state_vcpu_cpu(st, g, v));
            np_host_state_set_vcpu_demand(r, h, v, np_host_state_vcpu_demand(st, g, v));
        }
    }
    return r;
}

/* The vCPU count of the standard metrics, counted from scratch: every
 * vCPU's node weights by the metrics' rule (np_std_mask_weights), summed. */
static void recount_vcpus(const np_host_state *st, double out[2])
{
    const np_topology *t = np_host_state_topology(st);
    double w[2];
    out[0] = out[1] = 0.0;
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++)
        for (uint32_t v = 0; v < np_host_state_guest_spec(st, g)->vcpus; v++) {
            np_std_mask_weights(t, np_host_state_vcpu_hard(st, g, v),
                                np_host_state_vcpu_soft(st, g, v), w);
            out[0] += w[0];
            out[1] += w[1];
        }
}

/* Xen's vCPU count (libxl's nr_vcpus_on_nodes, the rule of place/xl42.c)
 * from scratch, on the two-node host: a guest's node affinity is the nodes
 * the CPUs of both masks of its vCPUs touch (a missing soft mask is all
 * CPUs), or its hard masks' nodes when that is none; each vCPU counts on
 * the nodes its hard mask touches (all without one) within it. */
static uint32_t nodes_of(const np_topology *t, const np_bitmap *m)
{
    uint32_t nodes = 0;
    for (size_t i = 0; i < 2; i++)
        if (!m || np_bitmap_intersects(m, np_topology_node_cpuset(t, i)))
            nodes |= UINT32_C(1) << i;
    return nodes;
}

static void recount_xen(const np_host_state *st, uint64_t out[2])
{
    const np_topology *t = np_host_state_topology(st);
    out[0] = out[1] = 0;
    for (size_t g = 0; g < np_host_state_nr_guests(st); g++) {
        uint32_t vcpus = np_host_state_guest_spec(st, g)->vcpus, hard = 0, both = 0;
        for (uint32_t v = 0; v < vcpus; v++) {
            const np_bitmap *h = np_host_state_vcpu_hard(st, g, v);
            const np_bitmap *s = np_host_state_vcpu_soft(st, g, v);
            hard |= nodes_of(t, h);
            if (!h || !s) {
                both |= nodes_of(t, h) & nodes_of(t, s);
            } else {
                np_bitmap *b = NULL;
                np_bitmap_copy(h, &b);
                np_bitmap_and(b, s);
                both |= nodes_of(t, b);
                np_bitmap_destroy(b);
            }
        }
        uint32_t aff = both ? both : hard;
        for (uint32_t v = 0; v < vcpus; v++) {
            uint32_t on = nodes_of(t, np_host_state_vcpu_hard(st, g, v)) & aff;
            out[0] += on & 1;
            out[1] += on >> 1 & 1;
        }
    }
}

/* The load measure is kept as running sums (a decision must not walk every
 * guest): after every write of a random sequence - guests added and
 * removed, memory set, maxima set, populated, masks, last CPUs and demands
 * changed - the sums equal those of the same state rebuilt from scratch:
 * memory exactly, demand to 1e-9 (fixed-point shares). So does the vCPU
 * count of the standard metrics (np_hs_vcpu_counts, what the count guard
 * reads for every decision), against a count of every vCPU by the metrics'
 * own rule, in the state and in a copy of it, and Xen's vCPU count (what
 * xl42 reads) against a count by libxl's rule. Names are found after
 * removals (the name table deletes in place). */
static void test_running_sums_match_a_rebuild(void)
{
    np_host_state *st = new_state();
    static const char *const masks[] = {"0-3", "4-7", "0,4", "1", "0-7", "2-5"};
    uint64_t rng = UINT64_C(0x2545f4914f6cdd1d);
    unsigned next_name = 0, mismatches = 0;
    for (unsigned step = 0; step < 3000 && st; step++) {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        uint64_t x = rng * UINT64_C(2685821657736338717);
        size_t nr = np_host_state_nr_guests(st);
        unsigned op = nr == 0 ? 0 : (unsigned)(x % 8);
        size_t g = nr ? (size_t)((x >> 8) % nr) : 0;
        uint32_t v = 0;
        if (nr)
            v = (uint32_t)((x >> 16) % np_host_state_guest_spec(st, g)->vcpus);
        size_t node = (size_t)((x >> 24) & 1);
        uint64_t bytes = ((x >> 32) % 4096) * MiB;
        switch (op) {
        case 0: {
            char name[16];
            snprintf(name, sizeof(name), "g%u", next_name++);
            np_guest_spec s = guest(name, 1 + (uint32_t)((x >> 40) % 4), 2 * GiB,
                                    (x >> 44) & 1 ? 3 * GiB : 0);
            np_host_state_add_guest(st, &s, NULL);
            break;
        }
        case 1:
            np_host_state_set_guest_mem(st, g, node, bytes, bytes / 3);
            break;
        case 2:
            np_host_state_set_guest_mem_max(st, g, node, bytes + GiB);
            break;
        case 3:
            np_host_state_populate(st, g);
            break;
        case 4: {
            np_bitmap *h = (x >> 40) & 1 ? mask(masks[(x >> 41) % 6]) : NULL;
            np_bitmap *so = (x >> 44) & 1 ? mask(masks[(x >> 45) % 6]) : NULL;
            np_host_state_set_vcpu_affinity(st, g, v, h, so);
            np_bitmap_destroy(h);
            np_bitmap_destroy(so);
            break;
        }
        case 5:
            np_host_state_set_vcpu_demand(st, g, v, (double)((x >> 40) % 1000) / 999.0);
            break;
        case 6:
            np_host_state_set_vcpu_cpu(st, g, v, (int32_t)((x >> 40) % 9) - 1);
            break;
        default: {
            char name[NP_GUEST_NAME_MAX];
            snprintf(name, sizeof(name), "%s", np_host_state_guest_spec(st, g)->name);
            ASSERT_EQ(np_host_state_remove_guest(st, name), 0);
            ASSERT_EQ(np_host_state_find_guest(st, name, NULL), -ENOENT);
            break;
        }
        }
        /* every guest is still found under its name, at its index */
        for (size_t i = 0; i < np_host_state_nr_guests(st); i++) {
            size_t at = SIZE_MAX;
            np_host_state_find_guest(st, np_host_state_guest_spec(st, i)->name, &at);
            mismatches += at != i;
        }
        np_host_state *r = rebuild(st);
        np_node_load a[2], b[2];
        if (!r || np_host_state_node_loads(st, a) < 0 || np_host_state_node_loads(r, b) < 0) {
            mismatches++;
            np_host_state_destroy(r);
            continue;
        }
        for (size_t i = 0; i < 2; i++)
            if (a[i].mem_populated_bytes != b[i].mem_populated_bytes ||
                a[i].mem_claimed_bytes != b[i].mem_claimed_bytes ||
                a[i].mem_balloon_bytes != b[i].mem_balloon_bytes ||
                a[i].mem_available_bytes != b[i].mem_available_bytes ||
                fabs(a[i].cpu_demand - b[i].cpu_demand) > 1e-9) {
                if (mismatches < 5)
                    fprintf(stderr, "step %u op %u node %zu: demand %.12f vs %.12f, balloon "
                                    "%" PRIu64 " vs %" PRIu64 "\n",
                            step, op, i, a[i].cpu_demand, b[i].cpu_demand,
                            a[i].mem_balloon_bytes, b[i].mem_balloon_bytes);
                mismatches++;
            }
        np_host_state_destroy(r);
        double kept[2], copied[2] = {-1.0, -1.0}, counted[2];
        np_host_state *c = NULL;
        np_hs_vcpu_counts(st, kept);
        if (np_host_state_copy(st, &c) == 0)
            np_hs_vcpu_counts(c, copied);
        np_host_state_destroy(c);
        recount_vcpus(st, counted);
        uint64_t xen[2] = {0, 0}, xen_counted[2];
        ASSERT_EQ(np_hs_xen_vcpus(st, xen), 0);
        recount_xen(st, xen_counted);
        if (xen[0] != xen_counted[0] || xen[1] != xen_counted[1]) {
            if (mismatches < 5)
                fprintf(stderr, "step %u op %u: Xen's vCPUs %" PRIu64 "/%" PRIu64 " kept, %" PRIu64
                                "/%" PRIu64 " counted\n",
                        step, op, xen[0], xen[1], xen_counted[0], xen_counted[1]);
            mismatches++;
        }
        for (size_t i = 0; i < 2; i++)
            if (fabs(kept[i] - counted[i]) > 1e-9 || fabs(copied[i] - counted[i]) > 1e-9) {
                if (mismatches < 5)
                    fprintf(stderr, "step %u op %u node %zu: vCPUs kept %.12f, copied %.12f, "
                                    "counted %.12f\n",
                            step, op, i, kept[i], copied[i], counted[i]);
                mismatches++;
            }
    }
    ASSERT_EQ(mismatches, 0);
    ASSERT_TRUE(next_name > 100); /* the sequence added (and removed) many guests */
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_capacity_counts_smt_threads_as_a_fraction);
    NP_RUN(test_guest_bookkeeping);
    NP_RUN(test_demand_follows_affinity);
    NP_RUN(test_memory_accounting);
    NP_RUN(test_copy_is_independent);
    NP_RUN(test_nodes_by_distance);
    NP_RUN(test_running_sums_match_a_rebuild);
    return np_test_summary();
}
