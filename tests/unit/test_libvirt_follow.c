/*
 * test_libvirt_follow.c - why the libvirt test host's follow step steered
 * nothing in run 4 and at once in run 5 (docs/libvirt.md), on the test
 * host's shape: 2 nodes of 2 CPUs, np-a (1 vCPU) and np-c (2 vCPUs) on
 * node 0, np-b (2 vCPUs, 290 MiB) the guest whose threads should follow.
 *
 *   run 4: np-b's vCPUs unpinned by hand still ran on node 1, where all its
 *     memory was: a floating guest whose vCPUs last ran on its memory's
 *     node is local (locality 1.0) and the balancer rightly leaves it; the
 *     step depended on where the scheduler happened to keep the threads.
 *   the follow state the test now makes: create's node-wide pin (node 1),
 *     which the libvirt backend now reports as the soft preference it is,
 *     and the memory moved to node 0 by hand. With the vCPU demand the
 *     backend now measures (libvirt's cpuTime; idle domains ~0) node 0 has
 *     CPU room and np-b's vCPUs are steered there: its helper threads
 *     follow (the backend pins them with the steered vCPUs).
 *   the same state as sensing saw it before: create's pin read as a hard
 *     pin by someone else, every libvirt vCPU counted busy (no demand
 *     measured, start unknown): np-b is "pinned by someone else", its
 *     vCPUs are never steered, nothing of it follows.
 */
#include <stdio.h>
#include <string.h>

#include <numaplace/balance.h>
#include <numaplace/hoststate.h>

#include "np_test.h"

#define MiB (UINT64_C(1) << 20)
#define SEC UINT64_C(1000000000)

static np_host_state *test_host(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    for (uint32_t n = 0; n < 2; n++)
        np_topology_builder_add_node(b, n, 1536 * MiB, 1200 * MiB);
    for (uint32_t c = 0; c < 4; c++)
        np_topology_builder_add_cpu(b, c, c / 2, c / 2, c % 2);
    if (!np_topology_builder_finish(b, &t, &err))
        np_host_state_create(t, &st);
    np_topology_builder_destroy(b);
    np_topology_destroy(t);
    return st;
}

typedef enum { FLOATING, SOFT, HARD } pin_kind;

/* A domain: `vcpus` of demand `demand`, pinned (soft or hard) to node
 * `pin_node` or floating, each vCPU last on CPU run_cpu0 + v, memory
 * mem0/mem1 MiB on nodes 0/1. */
static void domain(np_host_state *st, const char *name, uint32_t vcpus, double demand,
                   pin_kind pin, int pin_node, int32_t run_cpu0, uint64_t mem0, uint64_t mem1)
{
    const np_topology *t = np_host_state_topology(st);
    np_guest_spec s;
    size_t g = SIZE_MAX;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = s.maxmem_bytes = (mem0 + mem1) * MiB;
    ASSERT_EQ(np_host_state_add_guest(st, &s, &g), 0);
    if (mem0)
        np_host_state_set_guest_mem(st, g, 0, mem0 * MiB, 0);
    if (mem1)
        np_host_state_set_guest_mem(st, g, 1, mem1 * MiB, 0);
    const np_bitmap *node = pin == FLOATING ? NULL : np_topology_node_cpuset(t, (size_t)pin_node);
    for (uint32_t v = 0; v < vcpus; v++) {
        np_host_state_set_vcpu_demand(st, g, v, demand);
        np_host_state_set_vcpu_affinity(st, g, v, pin == HARD ? node : NULL,
                                        pin == SOFT ? node : NULL);
        np_host_state_set_vcpu_cpu(st, g, v, run_cpu0 + (int32_t)v);
    }
}

/* np-a and np-c on node 0 as create placed them. */
static np_host_state *with_others(pin_kind pin, double demand)
{
    np_host_state *st = test_host();
    domain(st, "np-a", 1, demand, pin, 0, 0, 128, 0);
    domain(st, "np-c", 2, demand, pin, 0, 0, 520, 0);
    return st;
}

typedef struct outcome {
    unsigned steers_to_node0; /* soft affinity actions for np-b onto node 0's CPUs */
    unsigned actions;         /* any action for np-b */
    double locality;
    char reason[NP_BALANCE_REASON_MAX];
} outcome;

/* Rounds of 1 s (the host test's numaplaced period) on a fixed state. */
static outcome rounds(const np_host_state *st, unsigned n)
{
    np_balance_state *bs = NULL;
    np_balance_config cfg;
    outcome o;
    memset(&o, 0, sizeof(o));
    np_balance_config_init(&cfg);
    cfg.period_ns = SEC;
    ASSERT_EQ(np_balance_state_create(&bs), 0);
    const np_bitmap *node0 = np_topology_node_cpuset(np_host_state_topology(st), 0);
    for (unsigned r = 1; r <= n; r++) {
        np_balance_actions *a = NULL;
        ASSERT_EQ(np_balance(st, bs, r * SEC, &cfg, &a), 0);
        for (size_t i = 0; i < np_balance_actions_count(a); i++) {
            const np_balance_action *x = np_balance_actions_get(a, i);
            if (strcmp(x->guest, "np-b"))
                continue;
            o.actions++;
            o.steers_to_node0 += x->kind == NP_BALANCE_SET_SOFT_AFFINITY &&
                                 np_bitmap_equal(x->cpus, node0);
        }
        np_balance_actions_destroy(a);
        if (o.actions)
            break; /* the state is fixed: what happens after a move is the next sensing's */
    }
    np_balance_guest_info info;
    ASSERT_EQ(np_balance_state_guest(bs, "np-b", &info), 0);
    o.locality = info.locality;
    snprintf(o.reason, sizeof(o.reason), "%s", info.reason);
    np_balance_state_destroy(bs);
    return o;
}

/* Run 4: unpinned by hand, still running on node 1 with all its memory. */
static void test_run4_unpinned_local_is_left(void)
{
    np_host_state *st = with_others(HARD, 1.0);
    domain(st, "np-b", 2, 1.0, FLOATING, -1, 2, 0, 290);
    outcome o = rounds(st, 12);
    ASSERT_EQ(o.actions, 0);
    ASSERT_TRUE(o.locality > 0.99);
    ASSERT_STR_EQ(o.reason, "");
    np_host_state_destroy(st);
}

/* Run 5's case: one vCPU had drifted to the other node: steered at once
 * after the confirmation rounds. */
static void test_run5_unpinned_half_remote_is_steered(void)
{
    np_host_state *st = with_others(HARD, 1.0);
    domain(st, "np-b", 2, 1.0, FLOATING, -1, 1, 0, 290); /* CPUs 1 (node 0) and 2 (node 1) */
    outcome o = rounds(st, 12);
    ASSERT_TRUE(o.actions > 0);
    ASSERT_TRUE(o.locality < 0.6);
    np_host_state_destroy(st);
}

/* The follow step the test now makes, as the backend senses it now. */
static void test_created_pin_soft_and_measured_demand_follow(void)
{
    np_host_state *st = with_others(SOFT, 0.02);
    domain(st, "np-b", 2, 0.02, SOFT, 1, 2, 268, 22);
    outcome o = rounds(st, 12);
    ASSERT_TRUE(o.steers_to_node0 > 0);
    /* the vCPUs go to the memory; the 22 MiB left on node 1 follow */
    ASSERT_CONTAINS(o.reason, "of 22 MiB to node 0");
    np_host_state_destroy(st);
}

/* The same state as sensing saw it before: hard pins, every vCPU busy. */
static void test_created_pin_hard_and_busy_never_steers(void)
{
    np_host_state *st = with_others(HARD, 1.0);
    domain(st, "np-b", 2, 1.0, HARD, 1, 2, 268, 22);
    outcome o = rounds(st, 12);
    ASSERT_EQ(o.steers_to_node0, 0);
    /* its memory goes back to the pinned vCPUs instead; no thread moves */
    ASSERT_CONTAINS(o.reason, "of 268 MiB to node 1");
    np_host_state_destroy(st);
}

int main(void)
{
    NP_RUN(test_run4_unpinned_local_is_left);
    NP_RUN(test_run5_unpinned_half_remote_is_steered);
    NP_RUN(test_created_pin_soft_and_measured_demand_follow);
    NP_RUN(test_created_pin_hard_and_busy_never_steers);
    return np_test_summary();
}
