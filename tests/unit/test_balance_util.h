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

#endif
