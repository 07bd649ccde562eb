/*
 * test_balance_util.h - hand-built hosts for the balancer's tests: two
 * nodes with sparse os ids (0 and 2), 4 single-thread cores and 16 GiB
 * each (CPUs 0-3 on node 0, 4-7 on node 2), and guests whose vCPUs,
 * demand, last CPU and memory the test sets directly.
 */
#ifndef TEST_BALANCE_UTIL_H
#define TEST_BALANCE_UTIL_H

#include <numaplace/balance.h>
#include <numaplace/hoststate.h>

#include <stdio.h>
#include <string.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define SEC UINT64_C(1000000000)

static inline np_host_state *bt_host(void)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    np_topology_builder_add_node(b, 0, 16 * GiB, 16 * GiB);
    np_topology_builder_add_node(b, 2, 16 * GiB, 16 * GiB);
    for (uint32_t c = 0; c < 8; c++)
        np_topology_builder_add_cpu(b, c, c < 4 ? 0 : 2, c / 4, c % 4);
    if (!np_topology_builder_finish(b, &t, &err))
        np_host_state_create(t, &st);
    np_topology_builder_destroy(b);
    np_topology_destroy(t);
    return st;
}

/* A guest of `vcpus` vCPUs of demand `demand`, soft affinity to node idx
 * soft_node (-1: none), each vCPU last on a CPU of run_node (-1 unknown),
 * mem0/mem1 bytes on node idx 0/1. Returns its index. */
static inline size_t bt_guest(np_host_state *st, const char *name, uint32_t vcpus, double demand,
                              int soft_node, int run_node, uint64_t mem0, uint64_t mem1,
                              void (*tweak)(np_guest_spec *))
{
    const np_topology *t = np_host_state_topology(st);
    np_guest_spec s;
    size_t g = SIZE_MAX;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = mem0 + mem1;
    s.maxmem_bytes = s.mem_bytes;
    if (tweak)
        tweak(&s);
    if (np_host_state_add_guest(st, &s, &g))
        return SIZE_MAX;
    if (mem0)
        np_host_state_set_guest_mem(st, g, 0, mem0, 0);
    if (mem1)
        np_host_state_set_guest_mem(st, g, 1, mem1, 0);
    for (uint32_t v = 0; v < vcpus; v++) {
        np_host_state_set_vcpu_demand(st, g, v, demand);
        if (soft_node >= 0)
            np_host_state_set_vcpu_affinity(st, g, v, NULL,
                                            np_topology_node_cpuset(t, (size_t)soft_node));
        if (run_node >= 0)
            np_host_state_set_vcpu_cpu(st, g, v, (int32_t)(run_node * 4 + (int)(v % 4)));
    }
    return g;
}

/* Actions of one kind for one guest, and bytes of its migrations. */
static inline size_t bt_count(const np_balance_actions *a, const char *guest,
                              np_balance_action_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < np_balance_actions_count(a); i++) {
        const np_balance_action *x = np_balance_actions_get(a, i);
        n += x->kind == kind && !strcmp(x->guest, guest);
    }
    return n;
}

static inline uint64_t bt_bytes(const np_balance_actions *a, const char *guest, size_t from,
                                size_t to)
{
    uint64_t n = 0;
    for (size_t i = 0; i < np_balance_actions_count(a); i++) {
        const np_balance_action *x = np_balance_actions_get(a, i);
        if (x->kind == NP_BALANCE_MIGRATE_MEMORY && !strcmp(x->guest, guest) &&
            x->from_node_idx == from && x->to_node_idx == to)
            n += x->bytes;
    }
    return n;
}

/* A 4-node host (os ids 0-3) of cpn CPUs and 4 GiB per node; distance 10
 * local, `near` between nodes 0 and 3, 20 otherwise (what matters is that
 * distance can break a tie). */
#define BT_NODES4 4u
static inline np_host_state *bt_host4(uint32_t cpn, uint32_t near)
{
    np_topology_builder *b = NULL;
    np_topology *t = NULL;
    np_host_state *st = NULL;
    np_error err = {0};
    np_topology_builder_create(&b);
    for (uint32_t n = 0; n < BT_NODES4; n++)
        np_topology_builder_add_node(b, n, 4 * GiB, 4 * GiB);
    for (uint32_t c = 0; c < BT_NODES4 * cpn; c++)
        np_topology_builder_add_cpu(b, c, c / cpn, c / cpn, c % cpn);
    for (uint32_t i = 0; i < BT_NODES4; i++)
        for (uint32_t j = 0; j < BT_NODES4; j++)
            np_topology_builder_set_distance(b, i, j,
                                             i == j                                  ? 10
                                             : (i == 0 && j == 3) || (i == 3 && j == 0) ? near
                                                                                        : 20);
    if (!np_topology_builder_finish(b, &t, &err))
        np_host_state_create(t, &st);
    np_topology_builder_destroy(b);
    np_topology_destroy(t);
    return st;
}

/* A guest of `vcpus` vCPUs and `bytes` (no memory placed yet). */
static inline size_t bt_add(np_host_state *st, const char *name, uint32_t vcpus, uint64_t bytes)
{
    np_guest_spec s;
    size_t g = SIZE_MAX;
    np_guest_spec_init(&s);
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.vcpus = vcpus;
    s.mem_bytes = bytes;
    s.maxmem_bytes = bytes;
    np_host_state_add_guest(st, &s, &g);
    return g;
}

/* splitmix64: the property tests' seeded generator. */
static inline uint64_t bt_rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint32_t bt_rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(bt_rng_next(s) % n);
}

/* The first action of `kind` for `guest`, or NULL. */
static inline const np_balance_action *bt_find(const np_balance_actions *a, const char *guest,
                                               np_balance_action_kind kind)
{
    for (size_t i = 0; i < np_balance_actions_count(a); i++) {
        const np_balance_action *x = np_balance_actions_get(a, i);
        if (x->kind == kind && !strcmp(x->guest, guest))
            return x;
    }
    return NULL;
}

/* Up to nbg background guests on a bt_host4 of cpn CPUs per node, each
 * steered to one random node with its memory there (1 to mem_units x 256
 * MiB), busy 0.1-1.0 per vCPU (0 when idle), added only while the node's
 * demand stays within its CPUs and, when mem_cap is not 0, its guests'
 * memory within mem_cap. What was added per node goes to demand[], mem[]. */
static inline void bt_background(np_host_state *st, uint64_t *seed, uint32_t cpn, uint32_t nbg,
                                 bool idle, uint32_t mem_units, uint64_t mem_cap,
                                 double demand[BT_NODES4], uint64_t mem[BT_NODES4])
{
    const np_topology *t = np_host_state_topology(st);
    for (uint32_t b = 0; b < nbg; b++) {
        size_t node = bt_rng_below(seed, BT_NODES4);
        uint32_t vcpus = 1 + bt_rng_below(seed, 2);
        double d = idle ? 0.0 : (double)(1 + bt_rng_below(seed, 10)) / 10.0;
        if (demand[node] + vcpus * d > (double)cpn)
            continue; /* keep every node within capacity: no load move */
        np_guest_spec s;
        size_t gi;
        np_guest_spec_init(&s);
        snprintf(s.name, sizeof(s.name), "bg%u", b);
        s.vcpus = vcpus;
        s.mem_bytes = (1 + bt_rng_below(seed, mem_units)) * 256 * MiB;
        s.maxmem_bytes = s.mem_bytes;
        if ((mem_cap && mem[node] + s.mem_bytes > mem_cap) || np_host_state_add_guest(st, &s, &gi))
            continue;
        np_host_state_set_guest_mem(st, gi, node, s.mem_bytes, 0);
        for (uint32_t v = 0; v < vcpus; v++) {
            np_host_state_set_vcpu_demand(st, gi, v, d);
            np_host_state_set_vcpu_affinity(st, gi, v, NULL, np_topology_node_cpuset(t, node));
            np_host_state_set_vcpu_cpu(st, gi, v, (int32_t)(node * cpn + v % cpn));
        }
        demand[node] += vcpus * d;
        mem[node] += s.mem_bytes;
    }
}

#endif
